/*
 * fetch.c - one OCSP exchange, done by the certauth-ocsp-fetch helper in
 * a child process.
 *
 * The module runs inside su, sudo, sshd and the like, and whoever calls
 * su or sudo controls its environment, descriptors, resource limits,
 * scheduling and signals (SIGSTOP and SIGCONT included).  None of that
 * may reach the verdict:
 * - the HTTP work happens in a separate program, started from a
 *   descriptor that has passed the safe-file rules, with an empty
 *   environment, only stdin/stdout/stderr, in a session of its own (no
 *   terminal signals), and as root: with fixed resource limits and normal
 *   scheduling, then as user nobody, whom the caller cannot signal;
 * - the helper times the exchange itself and reports in one record
 *   (fetch.h); the module reads whatever has arrived before it looks at
 *   a clock, so a host that was stopped still sees the answer, and a
 *   helper that never reports is a local failure, never "unreachable";
 * - the child is watched and killed through a pidfd, never by a pid that
 *   might be reused, and its exit status is only used to explain a
 *   missing report: a host that ignores SIGCHLD (the kernel reaps the
 *   child) or reaps every child in its own handler changes nothing but
 *   that explanation.  No process-wide state is touched, so threads may
 *   log in at once;
 * - the cgroup freezer stops the helper without a signal, so neither its
 *   session nor user nobody shields it: a timeout the helper reports is
 *   taken as the network's only when no user but root may freeze this
 *   thread's cgroups (check_unfreezable()).
 *
 * SIGPIPE: the request goes to the helper over a socketpair rather than
 * a pipe, so send(MSG_NOSIGNAL) reports a helper that died early as
 * EPIPE instead of raising a signal that would kill the PAM host.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "certauth.h"
#include "cgroup.h"
#include "fetch.h"
#include "safefile.h"

#define HELPER_ARGV0	"certauth-ocsp-fetch"
#define HELPER_USER	"nobody"
/* Exit codes of the child before the helper runs (shell conventions). */
#define CHILD_NOLIMITS	124	/* resource limits below the floor */
#define CHILD_NOSETUP	125	/* session or scheduling */
#define CHILD_NOPRIV	126	/* could not become nobody */
#define CHILD_NOEXEC	127	/* execve failed */
#define PWBUF_DEFAULT	16384
/* This thread's cgroups (which the helper inherits) and mounts. */
/* Largest fd the close-on-exec fallback loop visits. */
#define FD_LOOP_MAX	65536
/* What the helper may write: its record line and the largest body. */
#define REPORT_MAX	(CERTAUTH_FETCH_LINE_MAX + CERTAUTH_OCSP_BODY_MAX)
/* The helper's descriptors and stack (as root). */
#define CHILD_NOFILE	1024
#define CHILD_STACK	(8UL * 1024 * 1024)
/* How long a killed child may take to end. */
#define KILL_WAIT_MS	1000
/* Past the backstop, how long the host waits for more of a report. */
#define LATE_GRACE_MS	200

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
	int pidfd;		/* watches and kills the child */
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
 * Limits the helper gets as root, whatever the caller set: a caller of su
 * who lowers RLIMIT_NOFILE or RLIMIT_NPROC must not make the helper fail
 * in a way that looks like the network (a socket or a resolver thread
 * refused).  Where root may not raise a hard limit (no CAP_SYS_RESOURCE,
 * as in many containers), the soft limit is raised to the hard one, and a
 * limit still below its floor stops the helper before it runs: a local
 * failure.  No core files.
 */
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
typedef __rlimit_resource_t rlimit_resource;	/* setrlimit()'s, an enum */
#else
typedef int rlimit_resource;
#endif

static const struct {
	rlimit_resource resource;
	rlim_t want, floor;
} child_limits[] = {
	{ RLIMIT_NOFILE, CHILD_NOFILE, 64 },
	{ RLIMIT_NPROC, RLIM_INFINITY, 1024 },
	{ RLIMIT_AS, RLIM_INFINITY, 1UL << 30 },
	{ RLIMIT_DATA, RLIM_INFINITY, 1UL << 30 },
	{ RLIMIT_STACK, CHILD_STACK, 1UL << 20 },
	{ RLIMIT_FSIZE, RLIM_INFINITY, 0 },
	{ RLIMIT_CPU, RLIM_INFINITY, 10 },
};

/*
 * As root in the child: the limits above, no core files, nice 0 or
 * better, SCHED_OTHER and the default I/O priority.  Returns 0, or
 * CHILD_NOLIMITS / CHILD_NOSETUP when what a caller set cannot be undone.
 */
static int
reset_limits(void)
{
	struct sched_param sp;
	struct rlimit rl;
	size_t i;
	int policy;

	for (i = 0; i < sizeof(child_limits) / sizeof(child_limits[0]); i++) {
		rl.rlim_cur = child_limits[i].want;
		rl.rlim_max = child_limits[i].want == CHILD_STACK ?
		    RLIM_INFINITY : child_limits[i].want;
		if (setrlimit(child_limits[i].resource, &rl) != 0 &&
		    getrlimit(child_limits[i].resource, &rl) == 0) {
			if (rl.rlim_max == RLIM_INFINITY ||
			    rl.rlim_max > child_limits[i].want)
				rl.rlim_cur = child_limits[i].want;
			else
				rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(child_limits[i].resource, &rl);
		}
		if (getrlimit(child_limits[i].resource, &rl) != 0 ||
		    (rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur < child_limits[i].floor))
			return CHILD_NOLIMITS;
	}
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		return CHILD_NOSETUP;
	/* Lowering a caller's nice or SCHED_IDLE may need CAP_SYS_NICE:
	 * tried, then checked. */
	memset(&sp, 0, sizeof(sp));
	(void)setpriority(PRIO_PROCESS, 0, 0);
	(void)sched_setscheduler(0, SCHED_OTHER, &sp);
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) > 0 || errno != 0 ||
	    ((policy = sched_getscheduler(0)) != SCHED_OTHER &&
	    policy != SCHED_FIFO && policy != SCHED_RR))
		return CHILD_NOSETUP;
#ifdef SYS_ioprio_set
	/* IOPRIO_WHO_PROCESS, this process, class "none": from the nice. */
	if (syscall(SYS_ioprio_set, 1, 0, 0) != 0)
		return CHILD_NOSETUP;
#endif
	return 0;
}

/* Become p->uid/p->gid for good. */
static int
drop_privileges(const struct child_plan *p)
{
	if (setgroups(0, NULL) != 0 || setresgid(p->gid, p->gid, p->gid) != 0 ||
	    setresuid(p->uid, p->uid, p->uid) != 0)
		return -1;
	if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0)
		return -1;
	return 0;
}

/*
 * In the child: async-signal-safe calls only, no allocation, and no
 * return.  Close-on-exec on every descriptor above 2 (not a plain close:
 * exec_fd must live until fexecve), a session of its own, default
 * dispositions for every signal (an ignored SIGPIPE would survive exec),
 * then, as root, limits and nobody, and last an empty signal mask.
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
	/* No terminal: Ctrl-Z or Ctrl-C on su's tty cannot reach it. */
	if (setsid() < 0)
		_exit(CHILD_NOSETUP);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);	/* KILL, STOP: EINVAL */
	if (p->drop) {
		if ((sig = reset_limits()) != 0)
			_exit(sig);
		if (drop_privileges(p) != 0)
			_exit(CHILD_NOPRIV);
	}
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	/* The checked descriptor, not the path: no race with a rename. */
	fexecve(p->exec_fd, p->argv, p->envp);
	_exit(CHILD_NOEXEC);
}

/*
 * Start the child with every signal blocked in this thread meanwhile, so
 * that no host handler runs in it before it has reset them, and open its
 * pidfd.  Where there is none to be had (an old kernel, valgrind: ENOSYS;
 * a filter: EPERM; a child already ended and reaped by the host: ESRCH)
 * *pidfd is -1 and the child is followed by its pid alone.  Returns the
 * pid, or -1 with errno (no child left).
 */
static pid_t
spawn(const struct child_plan *p, int *pidfd)
{
	sigset_t all, old;
	pid_t pid;
	int e;

	*pidfd = -1;
	sigfillset(&all);
	if ((e = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0) {
		errno = e;
		return -1;
	}
	pid = fork();
	if (pid == 0)
		run_child(p);
	e = errno;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid > 0 && (*pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0 &&
	    errno != ENOSYS && errno != EPERM && errno != ESRCH) {
		e = errno;
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		pid = -1;
	}
	errno = e;
	return pid;
}

/* How pump() ended. */
enum pump_end {
	PUMP_EOF,		/* the helper closed its stdout */
	PUMP_LATE,		/* nothing more by the backstop */
	PUMP_FLOOD,		/* more than a record can hold */
	PUMP_ERROR,		/* poll or read failed; errno */
};

/*
 * Feed the request and collect the record until EOF.  Readable data is
 * always taken before the clock is looked at: poll() still reports it
 * after the backstop, so a host stopped past backstop_ms reads what the
 * helper wrote meanwhile, and gives a helper blocked on a full pipe
 * LATE_GRACE_MS of its own running time to write the rest.  The caller
 * reaps the child.
 */
static enum pump_end
pump(struct exchange *x, const unsigned char *req, size_t reqlen,
    long long backstop_ms)
{
	struct pollfd pfd[2];
	size_t sent = 0;
	long long left, now, late_end = -1;
	ssize_t n;
	nfds_t nfds;
	int in_idx, ready;

	for (;;) {
		now = certauth_now_ms();
		if ((left = backstop_ms - now) <= 0) {
			if (late_end < 0)
				late_end = now + LATE_GRACE_MS;
			left = late_end - now;
		}
		if (left < 0)
			left = 0;
		nfds = 0;
		pfd[nfds].fd = x->out_r;
		pfd[nfds++].events = POLLIN;
		in_idx = -1;
		if (x->in_w >= 0) {
			in_idx = (int)nfds;
			pfd[nfds].fd = x->in_w;
			pfd[nfds++].events = POLLOUT;
		}
		ready = poll(pfd, nfds, left > INT_MAX ? INT_MAX : (int)left);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return PUMP_ERROR;
		}
		if (ready == 0) {
			if (left == 0)
				return PUMP_LATE;
			continue;
		}
		if (in_idx >= 0 && pfd[in_idx].revents != 0) {
			n = send(x->in_w, req + sent, reqlen - sent,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				sent += (size_t)n;
			/* EPIPE: the helper is gone; its record tells. */
			if (sent == reqlen || (n < 0 && errno != EINTR &&
			    errno != EAGAIN && errno != EWOULDBLOCK)) {
				close(x->in_w);
				x->in_w = -1;
			}
		}
		if (pfd[0].revents == 0)
			continue;
		/* Room for one byte past the cap, to tell "at" from "over". */
		n = read(x->out_r, x->buf + x->len, REPORT_MAX + 1 - x->len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return PUMP_ERROR;
		}
		if (n == 0)
			return PUMP_EOF;
		x->len += (size_t)n;
		if (x->len > REPORT_MAX)
			return PUMP_FLOOD;
	}
}

/* How the child ended, as far as this process could learn. */
struct ending {
	int known;		/* 0: the host reaped it first */
	int code;		/* CLD_EXITED, CLD_KILLED, CLD_DUMPED */
	int status;		/* exit code or signal */
};

/*
 * Whether the child has ended by until_ms (0: look once), reaping it if
 * so: 1 with *end (end->known 0 when the host reaped it first), or 0.
 * With a pidfd the host's own waiting plays no part; without one, the
 * child is looked for by pid.
 */
static int
wait_end(pid_t pid, int pidfd, long long until_ms, struct ending *end)
{
	struct timespec nap = { 0, 1000000L };	/* 1 ms, doubling */
	struct pollfd pfd;
	siginfo_t si;
	long long left;
	int n;

	memset(&si, 0, sizeof(si));
	for (;;) {
		left = until_ms - certauth_now_ms();
		if (pidfd >= 0) {
			pfd.fd = pidfd;
			pfd.events = POLLIN;
			n = poll(&pfd, 1, left <= 0 ? 0 : left > INT_MAX ?
			    INT_MAX : (int)left);
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0)
				return 0;
			n = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si,
			    WEXITED | WNOHANG);
		} else {
			n = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG);
			if (n == 0 && si.si_pid == 0) {
				if (left <= 0)
					return 0;
				(void)nanosleep(&nap, NULL);
				if (nap.tv_nsec < 32000000L)
					nap.tv_nsec *= 2;
				continue;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		end->known = n == 0 && si.si_pid != 0;
		end->code = si.si_code;
		end->status = si.si_status;
		return 1;
	}
}

/* SIGKILL for a child that has not ended yet (and so is not reaped: its
 * pid is still its own). */
static void
kill_child(pid_t pid, int pidfd)
{
	siginfo_t si;

	if (pidfd >= 0 &&
	    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0)
		return;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == 0)
		(void)kill(pid, SIGKILL);
}

/*
 * Reap the child.  Once it has closed its stdout it is normally exiting;
 * its end is waited for until backstop_ms, and only then is it killed.
 * kill_now nonzero: kill at once.  A child that outlives the kill by
 * KILL_WAIT_MS is left behind (end->known 0) rather than let it hold the
 * login.  Returns nonzero when it had to be killed at the backstop.
 */
static int
reap(pid_t pid, int pidfd, int kill_now, long long backstop_ms,
    struct ending *end)
{
	int late = 0;

	memset(end, 0, sizeof(*end));
	if (!kill_now && !wait_end(pid, pidfd, backstop_ms, end))
		kill_now = late = 1;
	if (kill_now) {
		kill_child(pid, pidfd);
		(void)wait_end(pid, pidfd, certauth_now_ms() + KILL_WAIT_MS,
		    end);
	}
	return late;
}

/* What the helper reported. */
struct report {
	int code;			/* enum certauth_fetch_exit */
	long long ms;			/* by the helper's clock */
	size_t bodylen;
	const unsigned char *body;	/* inside the exchange's buffer */
	char text[CERTAUTH_FETCH_TEXT_MAX + 1];
};

/* A decimal of 1..digits digits at *pp, followed by c; advances *pp. */
static int
parse_number(const char **pp, const char *end, size_t digits, char c,
    long long *out)
{
	const char *p = *pp;
	long long v = 0;
	size_t n = 0;

	while (p < end && *p >= '0' && *p <= '9' && n < digits) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || p >= end || *p != c)
		return -1;
	*pp = p + 1;
	*out = v;
	return 0;
}

/*
 * The record in x (fetch.h): the whole output, exactly one line and its
 * body.  Returns 0 and *rep, or -1 for anything else.
 */
static int
parse_report(const struct exchange *x, struct report *rep)
{
	const char *p = (const char *)x->buf, *end, *nl;
	const size_t mlen = sizeof(CERTAUTH_FETCH_MAGIC) - 1;
	long long code, ms, len;
	size_t tlen;

	end = p + (x->len < CERTAUTH_FETCH_LINE_MAX ? x->len :
	    CERTAUTH_FETCH_LINE_MAX);
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
	    (size_t)(nl - p) < mlen + 1 ||
	    memcmp(p, CERTAUTH_FETCH_MAGIC " ", mlen + 1) != 0)
		return -1;
	p += mlen + 1;
	if (parse_number(&p, nl, 3, ' ', &code) != 0 ||
	    parse_number(&p, nl, 9, ' ', &ms) != 0 ||
	    parse_number(&p, nl, 6, ' ', &len) != 0 ||
	    len > CERTAUTH_OCSP_BODY_MAX ||
	    (len != 0 && code != CERTAUTH_FETCH_OK))
		return -1;
	if ((tlen = (size_t)(nl - p)) > CERTAUTH_FETCH_TEXT_MAX)
		return -1;
	for (end = p; end < nl; end++)
		if (*end < 0x20 || *end > 0x7e)
			return -1;
	if (x->len - (size_t)(nl + 1 - (const char *)x->buf) != (size_t)len)
		return -1;
	rep->code = (int)code;
	rep->ms = ms;
	rep->bodylen = (size_t)len;
	rep->body = (const unsigned char *)nl + 1;
	memcpy(rep->text, p, tlen);
	rep->text[tlen] = '\0';
	return 0;
}

/* The code and reason for a report. */
static int
map_report(const struct report *rep, const char *helper, const char *url,
    struct certauth_reason *reason)
{
	struct certauth_reason why;
	int r;

	switch (rep->code) {
	case CERTAUTH_FETCH_OK:
		if (rep->bodylen > 0)
			return 0;
		certauth_reason_set(reason, "OCSP responder %s sent an empty "
		    "answer", url);
		return CERTAUTH_ERR_FORMAT;
	case CERTAUTH_FETCH_UNREACHABLE:
	case CERTAUTH_FETCH_TIMEOUT:
		/* A frozen helper also sees resolvers time out and idle
		 * connections reset. */
		if ((r = certauth_cgroup_unfreezable(&why)) != 0) {
			certauth_reason_set(reason, "OCSP responder %s: %s, "
			    "but %s: not taken as the network's", url,
			    rep->text, why.text);
			return r;
		}
		certauth_reason_set(reason, "cannot reach OCSP responder %s: "
		    "%s", url, rep->text);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_FETCH_HTTP:
		certauth_reason_set(reason, "OCSP responder %s answered with "
		    "an HTTP error or redirect: %s", url, rep->text);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_FETCH_TOO_BIG:
		certauth_reason_set(reason, "OCSP responder %s sent an answer "
		    "larger than %d KiB", url, CERTAUTH_OCSP_BODY_MAX / 1024);
		return CERTAUTH_ERR_FORMAT;
	default:
		certauth_reason_set(reason, "OCSP helper %s failed (code %d): "
		    "%s", helper, rep->code, rep->text);
		return CERTAUTH_ERR_INTERNAL;
	}
}

/* The reason for a child that ended without a report: always local. */
static void
explain_ending(const struct ending *end, const char *helper,
    struct certauth_reason *reason)
{
	if (!end->known)
		certauth_reason_set(reason, "OCSP helper %s sent no report, "
		    "and the host took its exit status", helper);
	else if (end->code == CLD_KILLED || end->code == CLD_DUMPED)
		certauth_reason_set(reason, "OCSP helper %s killed by signal "
		    "%d", helper, end->status);
	else if (end->code != CLD_EXITED)
		certauth_reason_set(reason, "OCSP helper %s ended oddly",
		    helper);
	else if (end->status == CHILD_NOLIMITS)
		certauth_reason_set(reason, "resource limits too low for OCSP "
		    "helper %s, and they cannot be raised", helper);
	else if (end->status == CHILD_NOSETUP)
		certauth_reason_set(reason, "cannot set up the process of "
		    "OCSP helper %s (session, core files, scheduling)", helper);
	else if (end->status == CHILD_NOPRIV)
		certauth_reason_set(reason, "cannot drop privileges to %s for "
		    "OCSP helper %s", HELPER_USER, helper);
	else if (end->status == CHILD_NOEXEC)
		certauth_reason_set(reason, "cannot execute OCSP helper %s",
		    helper);
	else
		certauth_reason_set(reason, "OCSP helper %s exited with code "
		    "%d and no report", helper, end->status);
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

/* The helper's answer, copied out of the exchange's buffer. */
static int
take_body(const struct report *rep, unsigned char **resp, size_t *resplen)
{
	if ((*resp = malloc(rep->bodylen)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	memcpy(*resp, rep->body, rep->bodylen);
	*resplen = rep->bodylen;
	return 0;
}

int
certauth_fetch_ocsp(const char *helper_path, const char *url,
    const char *proxy, const unsigned char *req, size_t reqlen,
    long long budget_ms, long long *spent_ms, unsigned char **resp,
    size_t *resplen, struct certauth_reason *reason)
{
	struct child_plan plan;
	struct exchange x;
	struct report rep;
	struct ending ending;
	char msbuf[24];
	long long backstop;
	enum pump_end end;
	int pump_errno, late;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&plan, 0, sizeof(plan));
	memset(&x, 0, sizeof(x));
	plan.exec_fd = plan.in_fd = plan.out_fd = plan.null_fd = -1;
	x.pid = -1;
	x.pidfd = x.in_w = x.out_r = -1;
	*resp = NULL;
	*resplen = 0;
	if (spent_ms != NULL)
		*spent_ms = 0;

	if (url == NULL || !url_is_http(url)) {
		certauth_reason_set(reason, "OCSP responder URL %s is not "
		    "http or https", url == NULL ? "(none)" : url);
		r = CERTAUTH_ERR_UNREACHABLE;
		goto out;
	}
	if (req == NULL || reqlen == 0 || budget_ms <= 0 ||
	    (proxy != NULL && proxy[0] == '\0')) {
		certauth_reason_set(reason, "bad arguments for OCSP request "
		    "to %s", url);
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
	if ((x.buf = malloc(REPORT_MAX + 1)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = make_plan(&plan, &x, url, proxy, budget_ms, msbuf,
	    sizeof(msbuf), reason)) != 0)
		goto out;
	r = CERTAUTH_ERR_INTERNAL;
	backstop = certauth_now_ms() + budget_ms + CERTAUTH_FETCH_MARGIN_MS;
	if ((x.pid = spawn(&plan, &x.pidfd)) < 0) {
		certauth_reason_set(reason, "cannot start OCSP helper: %s",
		    strerror(errno));
		goto out;
	}
	close_fd(&plan.in_fd);
	close_fd(&plan.out_fd);
	close_fd(&plan.null_fd);
	close_fd(&plan.exec_fd);

	end = pump(&x, req, reqlen, backstop);
	pump_errno = errno;
	/* Closed first: a helper still reading its request or writing its
	 * report is released rather than waited for. */
	close_fd(&x.in_w);
	close_fd(&x.out_r);
	late = reap(x.pid, x.pidfd, end != PUMP_EOF, backstop, &ending);
	x.pid = -1;
	/* A whole record counts, however the child ended afterwards. */
	if (end == PUMP_EOF && parse_report(&x, &rep) == 0) {
		if (spent_ms != NULL)
			*spent_ms = rep.ms < budget_ms ? rep.ms : budget_ms;
		if ((r = map_report(&rep, helper_path, url, reason)) == 0)
			r = take_body(&rep, resp, resplen);
		goto out;
	}
	r = CERTAUTH_ERR_INTERNAL;
	if (late)
		end = PUMP_LATE;
	switch (end) {
	case PUMP_LATE:
		certauth_reason_set(reason, "OCSP helper %s gave no report "
		    "within %lld ms", helper_path,
		    budget_ms + CERTAUTH_FETCH_MARGIN_MS);
		break;
	case PUMP_FLOOD:
		certauth_reason_set(reason, "OCSP helper %s wrote more than "
		    "a report can hold", helper_path);
		break;
	case PUMP_ERROR:
		certauth_reason_set(reason, "cannot read from OCSP helper %s: "
		    "%s", helper_path, strerror(pump_errno));
		break;
	case PUMP_EOF:
		if (x.len > 0)
			certauth_reason_set(reason, "OCSP helper %s sent a "
			    "malformed report", helper_path);
		else
			explain_ending(&ending, helper_path, reason);
		break;
	}
 out:
	close_fd(&x.in_w);
	close_fd(&x.out_r);
	if (x.pid > 0)
		(void)reap(x.pid, x.pidfd, 1, 0, &ending);
	close_fd(&x.pidfd);
	close_fd(&plan.in_fd);
	close_fd(&plan.out_fd);
	close_fd(&plan.null_fd);
	close_fd(&plan.exec_fd);
	free(x.buf);
	return r;
}
