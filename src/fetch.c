/*
 * fetch.c - one OCSP exchange, done by the certauth-ocsp-fetch helper in
 * a child process.
 *
 * The module runs inside su, sudo, sshd and the like.  Whoever calls su
 * controls the environment (http_proxy, SSLKEYLOGFILE, OPENSSL_CONF ...)
 * and libcurl would start resolver threads inside the host.  So the HTTP
 * work happens in a separate program, started from a descriptor that has
 * passed the safe-file rules, with an empty environment, no inherited
 * descriptors beyond stdin/stdout/stderr, and as user nobody; it is
 * killed at the login's deadline whatever it is doing.
 *
 * SIGPIPE: the request goes to the helper over a socketpair rather than
 * a pipe, so send(MSG_NOSIGNAL) reports a helper that died early as
 * EPIPE instead of raising a signal that would kill the PAM host; no
 * process-wide signal state is needed for that.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "certauth.h"
#include "fetch.h"
#include "safefile.h"

#define HELPER_ARGV0	"certauth-ocsp-fetch"
#define HELPER_USER	"nobody"
/* Exit codes of the child before the helper runs (shell conventions). */
#define CHILD_NOPRIV	126	/* could not become nobody */
#define CHILD_NOEXEC	127	/* execve failed */
#define PWBUF_DEFAULT	16384
/* Largest fd the close-on-exec fallback loop visits. */
#define FD_LOOP_MAX	65536

long long
certauth_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

/* Everything the child needs, prepared before fork(): after it, only
 * async-signal-safe calls are allowed in a possibly threaded host. */
struct child_plan {
	int exec_fd;		/* the checked helper, for fexecve */
	int in_fd;		/* child's stdin (socket) */
	int out_fd;		/* child's stdout (pipe) */
	int null_fd;		/* child's stderr */
	int drop;		/* nonzero: become uid/gid below */
	uid_t uid;
	gid_t gid;
	unsigned int fd_max;	/* for the fallback close-on-exec loop */
	char *argv[8];
	char *envp[1];
};

/* The descriptors and child of one exchange, released by finish(). */
struct exchange {
	pid_t pid;
	int in_w;		/* parent writes the request here */
	int out_r;		/* parent reads the answer here */
	unsigned char *buf;
	size_t len;
};

/*
 * Open the helper and check it on the descriptor: a regular file, owned
 * by root (or, when the caller is not root, by the caller: no privilege
 * is at stake then and the tests run from a user's build tree), not
 * writable by group or others, not set-id (a setuid-root helper would undo
 * the drop to nobody); as root, its directory and every parent must pass
 * certauth_check_dir_safely.  Returns 0 and *fdp or CERTAUTH_ERR_INTERNAL
 * with a reason: a broken helper is a broken installation.
 */
static int
open_helper(const char *path, int *fdp, struct certauth_reason *reason)
{
	struct stat st;
	char *dir = NULL, *slash;
	uid_t euid = geteuid();
	int fd = -1, r = CERTAUTH_ERR_INTERNAL;

	*fdp = -1;
	if (path == NULL || path[0] != '/') {
		certauth_reason_set(reason, "OCSP helper path %s is not "
		    "absolute", path == NULL ? "(none)" : path);
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) < 0) {
		certauth_reason_set(reason, "cannot open OCSP helper %s: %s",
		    path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		certauth_reason_set(reason, "cannot stat OCSP helper %s: %s",
		    path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		certauth_reason_set(reason, "OCSP helper %s is not a regular "
		    "file", path);
		goto out;
	}
	if (st.st_uid != 0 && (euid == 0 || st.st_uid != euid)) {
		certauth_reason_set(reason, "OCSP helper %s is not owned by "
		    "root (uid %lu)", path, (unsigned long)st.st_uid);
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		certauth_reason_set(reason, "OCSP helper %s is writable by "
		    "group or others", path);
		goto out;
	}
	if ((st.st_mode & (S_ISUID | S_ISGID)) != 0) {
		certauth_reason_set(reason, "OCSP helper %s is set-id", path);
		goto out;
	}
	if (euid == 0) {
		if ((dir = strdup(path)) == NULL) {
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		slash = strrchr(dir, '/');
		slash[slash == dir ? 1 : 0] = '\0';
		if (certauth_check_dir_safely(dir, "OCSP helper directory",
		    reason) != 0) {
			r = CERTAUTH_ERR_INTERNAL;
			goto out;
		}
	}
	*fdp = fd;
	fd = -1;
	r = 0;
 out:
	if (fd >= 0)
		close(fd);
	free(dir);
	return r;
}

/* uid and gid of HELPER_USER, looked up before fork (NSS is not
 * async-signal-safe). */
static int
lookup_nobody(uid_t *uid, gid_t *gid, struct certauth_reason *reason)
{
	struct passwd pw, *res = NULL;
	char *buf = NULL;
	long sz;
	int e, r = CERTAUTH_ERR_INTERNAL;

	if ((sz = sysconf(_SC_GETPW_R_SIZE_MAX)) < PWBUF_DEFAULT)
		sz = PWBUF_DEFAULT;
	if ((buf = malloc((size_t)sz)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	e = getpwnam_r(HELPER_USER, &pw, buf, (size_t)sz, &res);
	if (e != 0 || res == NULL) {
		certauth_reason_set(reason, "cannot look up user %s for the "
		    "OCSP helper: %s", HELPER_USER,
		    e != 0 ? strerror(e) : "no such user");
		goto out;
	}
	if (pw.pw_uid == 0 || pw.pw_gid == 0) {
		certauth_reason_set(reason, "user %s has uid or gid 0",
		    HELPER_USER);
		goto out;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	r = 0;
 out:
	free(buf);
	return r;
}

/* fd moved to a number >= 3 (close-on-exec), so the child's dup2() onto
 * 0, 1 and 2 can never overwrite one of its sources.  Returns the new fd
 * or -1; the old one is closed either way. */
static int
move_high(int fd)
{
	int nfd;

	if (fd < 0 || fd > STDERR_FILENO)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	close(fd);
	return nfd;
}

static int
set_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/*
 * In the child: async-signal-safe calls only, and no return.  Close-on-
 * exec on every descriptor above 2 (not a plain close: exec_fd must live
 * until fexecve), default dispositions for every signal (an ignored
 * SIGPIPE would survive exec), an empty mask, then nobody.
 */
static void
run_child(const struct child_plan *p)
{
	struct sigaction sa;
	sigset_t none;
	unsigned int fd;
	int sig;

	if (dup2(p->in_fd, STDIN_FILENO) < 0 ||
	    dup2(p->out_fd, STDOUT_FILENO) < 0 ||
	    dup2(p->null_fd, STDERR_FILENO) < 0)
		_exit(CHILD_NOEXEC);
	if (close_range(STDERR_FILENO + 1, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
		for (fd = STDERR_FILENO + 1; fd < p->fd_max; fd++)
			(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);	/* KILL, STOP: EINVAL */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (p->drop) {
		if (setgroups(0, NULL) != 0 || setgid(p->gid) != 0 ||
		    setuid(p->uid) != 0)
			_exit(CHILD_NOPRIV);
		/* The drop must be permanent. */
		if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0)
			_exit(CHILD_NOPRIV);
	}
	/* The checked descriptor, not the path: no race with a rename. */
	fexecve(p->exec_fd, p->argv, p->envp);
	_exit(CHILD_NOEXEC);
}

/*
 * Feed the request and collect the answer until EOF or the deadline.
 * Returns 0 at EOF, CERTAUTH_ERR_UNREACHABLE at the deadline,
 * CERTAUTH_ERR_FORMAT past CERTAUTH_OCSP_BODY_MAX bytes, or
 * CERTAUTH_ERR_INTERNAL.  The caller kills and reaps the child.
 */
static int
pump(struct exchange *x, const unsigned char *req, size_t reqlen,
    long long deadline_ms)
{
	struct pollfd pfd[2];
	size_t sent = 0;
	long long left;
	ssize_t n;
	nfds_t nfds;
	int in_idx, timeout;

	for (;;) {
		if ((left = deadline_ms - certauth_now_ms()) <= 0)
			return CERTAUTH_ERR_UNREACHABLE;
		timeout = left > INT_MAX ? INT_MAX : (int)left;
		nfds = 0;
		pfd[nfds].fd = x->out_r;
		pfd[nfds++].events = POLLIN;
		in_idx = -1;
		if (x->in_w >= 0) {
			in_idx = (int)nfds;
			pfd[nfds].fd = x->in_w;
			pfd[nfds++].events = POLLOUT;
		}
		if (poll(pfd, nfds, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return CERTAUTH_ERR_INTERNAL;
		}
		if (in_idx >= 0 && pfd[in_idx].revents != 0) {
			n = send(x->in_w, req + sent, reqlen - sent,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				sent += (size_t)n;
			/* EPIPE: the helper is gone; its exit status tells. */
			if (sent == reqlen || (n < 0 && errno != EINTR &&
			    errno != EAGAIN && errno != EWOULDBLOCK)) {
				close(x->in_w);
				x->in_w = -1;
			}
		}
		if (pfd[0].revents == 0)
			continue;
		/* Room for one byte past the cap, to tell "at" from "over". */
		n = read(x->out_r, x->buf + x->len,
		    CERTAUTH_OCSP_BODY_MAX + 1 - x->len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return CERTAUTH_ERR_INTERNAL;
		}
		if (n == 0)
			return 0;
		x->len += (size_t)n;
		if (x->len > CERTAUTH_OCSP_BODY_MAX)
			return CERTAUTH_ERR_FORMAT;
	}
}

/*
 * Reap the child.  Once it has closed its stdout it is normally exiting;
 * one that lingers is waited for until the deadline, then killed.  kill
 * nonzero: kill at once.  Returns 0 and *status, or -1 when the status
 * was lost (a host SIGCHLD handler reaped it first).
 */
static int
reap(pid_t pid, int kill_now, long long deadline_ms, int *status)
{
	struct timespec nap = { 0, 1000000L };	/* 1 ms, doubling */
	pid_t w;

	if (!kill_now) {
		for (;;) {
			w = waitpid(pid, status, WNOHANG);
			if (w == pid)
				return 0;
			if (w < 0 && errno != EINTR)
				return -1;
			if (certauth_now_ms() >= deadline_ms)
				break;
			(void)nanosleep(&nap, NULL);
			if (nap.tv_nsec < 32000000L)
				nap.tv_nsec *= 2;
		}
	}
	(void)kill(pid, SIGKILL);
	do {
		w = waitpid(pid, status, 0);
	} while (w < 0 && errno == EINTR);
	return w == pid ? 0 : -1;
}

/* The reason and code for the helper's exit status. */
static int
map_status(int status, const char *helper, const char *url, size_t len,
    struct certauth_reason *reason)
{
	if (WIFSIGNALED(status)) {
		certauth_reason_set(reason, "OCSP helper %s killed by signal "
		    "%d", helper, WTERMSIG(status));
		return CERTAUTH_ERR_INTERNAL;
	}
	if (!WIFEXITED(status)) {
		certauth_reason_set(reason, "OCSP helper %s ended oddly",
		    helper);
		return CERTAUTH_ERR_INTERNAL;
	}
	switch (WEXITSTATUS(status)) {
	case CERTAUTH_FETCH_OK:
		if (len > 0)
			return 0;
		certauth_reason_set(reason, "OCSP responder %s sent an empty "
		    "answer", url);
		return CERTAUTH_ERR_FORMAT;
	case CERTAUTH_FETCH_UNREACHABLE:
		certauth_reason_set(reason, "cannot reach OCSP responder %s",
		    url);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_FETCH_HTTP:
		certauth_reason_set(reason, "OCSP responder %s answered with "
		    "an HTTP error or redirect", url);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_FETCH_TOO_BIG:
		certauth_reason_set(reason, "OCSP responder %s sent an answer "
		    "larger than %d KiB", url, CERTAUTH_OCSP_BODY_MAX / 1024);
		return CERTAUTH_ERR_FORMAT;
	case CHILD_NOPRIV:
		certauth_reason_set(reason, "cannot drop privileges to %s for "
		    "OCSP helper %s", HELPER_USER, helper);
		return CERTAUTH_ERR_INTERNAL;
	case CHILD_NOEXEC:
		certauth_reason_set(reason, "cannot execute OCSP helper %s",
		    helper);
		return CERTAUTH_ERR_INTERNAL;
	default:
		certauth_reason_set(reason, "OCSP helper %s failed with exit "
		    "code %d", helper, WEXITSTATUS(status));
		return CERTAUTH_ERR_INTERNAL;
	}
}

/* Descriptors and argv for the child; fds set to -1 first by caller. */
static int
make_plan(struct child_plan *p, struct exchange *x, const char *url,
    const char *proxy, long long budget_ms, char *msbuf, size_t mslen,
    struct certauth_reason *reason)
{
	int sv[2] = { -1, -1 }, pv[2] = { -1, -1 };
	struct rlimit rl;
	size_t i = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    pipe2(pv, O_CLOEXEC) != 0) {
		certauth_reason_set(reason, "cannot create pipes for the OCSP "
		    "helper: %s", strerror(errno));
		if (sv[0] >= 0) {
			close(sv[0]);
			close(sv[1]);
		}
		return CERTAUTH_ERR_INTERNAL;
	}
	x->in_w = sv[0];
	p->in_fd = sv[1];
	x->out_r = pv[0];
	p->out_fd = pv[1];
	p->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if ((x->in_w = move_high(x->in_w)) < 0 ||
	    (p->in_fd = move_high(p->in_fd)) < 0 ||
	    (x->out_r = move_high(x->out_r)) < 0 ||
	    (p->out_fd = move_high(p->out_fd)) < 0 ||
	    (p->null_fd = move_high(p->null_fd)) < 0 ||
	    (p->exec_fd = move_high(p->exec_fd)) < 0 ||
	    set_nonblock(x->in_w) != 0 || set_nonblock(x->out_r) != 0) {
		certauth_reason_set(reason, "cannot set up descriptors for the "
		    "OCSP helper: %s", strerror(errno));
		return CERTAUTH_ERR_INTERNAL;
	}
	p->fd_max = FD_LOOP_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < FD_LOOP_MAX)
		p->fd_max = (unsigned int)rl.rlim_cur;
	(void)snprintf(msbuf, mslen, "%lld", budget_ms);
	p->argv[i++] = (char *)HELPER_ARGV0;
	p->argv[i++] = (char *)"--timeout-ms";
	p->argv[i++] = msbuf;
	if (proxy != NULL) {
		p->argv[i++] = (char *)"--proxy";
		p->argv[i++] = (char *)proxy;
	}
	p->argv[i++] = (char *)url;
	p->argv[i] = NULL;
	p->envp[0] = NULL;
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Only http and https reach the helper; this also keeps a URL that
 * starts with '-' from being read as an option. */
static int
url_is_http(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ||
	    strncasecmp(url, "https://", 8) == 0;
}

int
certauth_fetch_ocsp(const char *helper_path, const char *url,
    const char *proxy, const unsigned char *req, size_t reqlen,
    long long deadline_ms, unsigned char **resp, size_t *resplen,
    struct certauth_reason *reason)
{
	struct child_plan plan;
	struct exchange x;
	struct sigaction dfl, old_chld;
	char msbuf[24];
	long long budget;
	unsigned char *tmp;
	int status = 0, restore_chld = 0, pr, pump_errno;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&plan, 0, sizeof(plan));
	memset(&x, 0, sizeof(x));
	plan.exec_fd = plan.in_fd = plan.out_fd = plan.null_fd = -1;
	x.pid = -1;
	x.in_w = x.out_r = -1;
	*resp = NULL;
	*resplen = 0;

	if (url == NULL || !url_is_http(url)) {
		certauth_reason_set(reason, "OCSP responder URL %s is not "
		    "http or https", url == NULL ? "(none)" : url);
		r = CERTAUTH_ERR_UNREACHABLE;
		goto out;
	}
	if (req == NULL || reqlen == 0 || (proxy != NULL && proxy[0] == '\0')) {
		certauth_reason_set(reason, "bad arguments for OCSP request "
		    "to %s", url);
		goto out;
	}
	if ((budget = deadline_ms - certauth_now_ms()) <= 0) {
		certauth_reason_set(reason, "no time left to ask OCSP "
		    "responder %s", url);
		r = CERTAUTH_ERR_UNREACHABLE;
		goto out;
	}
	if ((r = open_helper(helper_path, &plan.exec_fd, reason)) != 0)
		goto out;
	r = CERTAUTH_ERR_INTERNAL;
	if (geteuid() == 0) {
		plan.drop = 1;
		if ((r = lookup_nobody(&plan.uid, &plan.gid, reason)) != 0)
			goto out;
		r = CERTAUTH_ERR_INTERNAL;
	}
	if ((x.buf = malloc(CERTAUTH_OCSP_BODY_MAX + 1)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = make_plan(&plan, &x, url, proxy, budget, msbuf,
	    sizeof(msbuf), reason)) != 0)
		goto out;
	r = CERTAUTH_ERR_INTERNAL;
	/*
	 * A host that ignores SIGCHLD (or sets SA_NOCLDWAIT) has its
	 * children reaped by the kernel, and the helper's exit status would
	 * be lost; like pam_unix with unix_chkpwd, restore the default for
	 * the life of the helper.
	 */
	if (sigaction(SIGCHLD, NULL, &old_chld) == 0 &&
	    (old_chld.sa_handler == SIG_IGN ||
	    (old_chld.sa_flags & SA_NOCLDWAIT) != 0)) {
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigemptyset(&dfl.sa_mask);
		if (sigaction(SIGCHLD, &dfl, NULL) == 0)
			restore_chld = 1;
	}
	if ((x.pid = fork()) < 0) {
		certauth_reason_set(reason, "cannot start OCSP helper: %s",
		    strerror(errno));
		goto out;
	}
	if (x.pid == 0)
		run_child(&plan);
	close_fd(&plan.in_fd);
	close_fd(&plan.out_fd);
	close_fd(&plan.null_fd);
	close_fd(&plan.exec_fd);

	pr = pump(&x, req, reqlen, deadline_ms);
	pump_errno = errno;
	if (reap(x.pid, pr != 0, deadline_ms, &status) != 0) {
		x.pid = -1;
		certauth_reason_set(reason, "lost the exit status of OCSP "
		    "helper %s", helper_path);
		goto out;
	}
	x.pid = -1;
	if (pr == CERTAUTH_ERR_UNREACHABLE ||
	    (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
	    certauth_now_ms() >= deadline_ms)) {
		certauth_reason_set(reason, "OCSP responder %s did not answer "
		    "within %lld ms", url, budget);
		r = CERTAUTH_ERR_UNREACHABLE;
		goto out;
	}
	if (pr == CERTAUTH_ERR_FORMAT) {
		certauth_reason_set(reason, "OCSP responder %s sent an answer "
		    "larger than %d KiB", url, CERTAUTH_OCSP_BODY_MAX / 1024);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if (pr != 0) {
		certauth_reason_set(reason, "cannot talk to OCSP helper %s: %s",
		    helper_path, strerror(pump_errno));
		goto out;
	}
	if ((r = map_status(status, helper_path, url, x.len, reason)) != 0)
		goto out;
	/* Give back only what was used; the big buffer is fine too. */
	if ((tmp = realloc(x.buf, x.len)) != NULL)
		x.buf = tmp;
	*resp = x.buf;
	*resplen = x.len;
	x.buf = NULL;
	r = 0;
 out:
	close_fd(&x.in_w);
	close_fd(&x.out_r);
	if (x.pid > 0)
		(void)reap(x.pid, 1, deadline_ms, &status);
	if (restore_chld)
		(void)sigaction(SIGCHLD, &old_chld, NULL);
	close_fd(&plan.in_fd);
	close_fd(&plan.out_fd);
	close_fd(&plan.null_fd);
	close_fd(&plan.exec_fd);
	free(x.buf);
	return r;
}
