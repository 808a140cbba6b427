/*
 * spawn.c - the OCSP helper's process, from the checks on its executable
 * to its reaping.  Whoever calls su or sudo controls the module's
 * environment, descriptors, resource limits, scheduling and signals; the
 * child gets none of them (fetch.c says why each matters), and it is
 * followed and killed through a pidfd, never by a pid that might be
 * reused.  No process-wide state of the host is changed, so threads may
 * log in at once.
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
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "certauth.h"
#include "safefile.h"
#include "spawn.h"

#define HELPER_USER "nobody"
/* Exit codes of the child before the helper runs (shell conventions). */
#define CHILD_NOLIMITS 124 /* resource limits below the floor */
#define CHILD_NOSETUP  125 /* session or scheduling */
#define CHILD_NOPRIV   126 /* could not become nobody */
#define CHILD_NOEXEC   127 /* execve failed */
#define PWBUF_DEFAULT  16384
/* The helper's descriptors and stack (as root). */
#define CHILD_NOFILE 1024
#define CHILD_STACK  (8UL * 1024 * 1024)
/* How long a killed child may take to end. */
#define KILL_WAIT_MS 1000

int
certauth_open_helper(const char *path, int *fdp, struct certauth_reason *reason)
{
	struct stat st;
	char *dir = NULL, *slash;
	uid_t euid = geteuid();
	int fd = -1, r = CERTAUTH_ERR_INTERNAL;

	*fdp = -1;
	if (path == NULL || path[0] != '/') {
		certauth_reason_set(reason,
		    "OCSP helper path %s is not "
		    "absolute",
		    path == NULL ? "(none)" : path);
		goto out;
	}
	if ((fd = open(path,
		 O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) <
	    0) {
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
		certauth_reason_set(reason,
		    "OCSP helper %s is not a regular "
		    "file",
		    path);
		goto out;
	}
	if (st.st_uid != 0 && (euid == 0 || st.st_uid != euid)) {
		certauth_reason_set(reason,
		    "OCSP helper %s is not owned by "
		    "root (uid %lu)",
		    path, (unsigned long)st.st_uid);
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		certauth_reason_set(reason,
		    "OCSP helper %s is writable by "
		    "group or others",
		    path);
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

int
certauth_lookup_nobody(uid_t *uid, gid_t *gid, struct certauth_reason *reason)
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
		certauth_reason_set(reason,
		    "cannot look up user %s for the "
		    "OCSP helper: %s",
		    HELPER_USER, e != 0 ? strerror(e) : "no such user");
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
typedef __rlimit_resource_t rlimit_resource; /* setrlimit()'s, an enum */
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
		    RLIM_INFINITY :
		    child_limits[i].want;
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

int
certauth_drop_privileges(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
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
run_child(const void *arg)
{
	const struct certauth_child_plan *p = arg;
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
		(void)sigaction(sig, &sa, NULL); /* KILL, STOP: EINVAL */
	if (p->drop) {
		if ((sig = reset_limits()) != 0)
			_exit(sig);
		if (certauth_drop_privileges(p->uid, p->gid) != 0)
			_exit(CHILD_NOPRIV);
	}
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	/* The checked descriptor, not the path: no race with a rename. */
	fexecve(p->exec_fd, p->argv, p->envp);
	_exit(CHILD_NOEXEC);
}

pid_t
certauth_spawn(const struct certauth_child_plan *p, int *pidfd)
{
	return certauth_fork(run_child, p, pidfd);
}

pid_t
certauth_fork(void (*child)(const void *arg), const void *arg, int *pidfd)
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
	if (pid == 0) {
		child(arg);
		_exit(CHILD_NOEXEC);
	}
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

/*
 * Whether the child has ended by until_ms (0: look once), reaping it if
 * so: 1 with *end (end->known 0 when the host reaped it first), or 0.
 * With a pidfd the host's own waiting plays no part; without one, the
 * child is looked for by pid.
 */
static int
wait_end(pid_t pid, int pidfd, long long until_ms, struct certauth_ending *end)
{
	struct timespec nap = { 0, 1000000L }; /* 1 ms, doubling */
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
			n = poll(&pfd, 1,
			    left <= 0	       ? 0 :
				left > INT_MAX ? INT_MAX :
						 (int)left);
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

int
certauth_reap(pid_t pid, int pidfd, int kill_now, long long backstop_ms,
    struct certauth_ending *end)
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

void
certauth_explain_ending(const struct certauth_ending *end, const char *what,
    const char *helper, struct certauth_reason *reason)
{
	if (!end->known)
		certauth_reason_set(reason,
		    "%s %s sent no report, "
		    "and the host took its exit status",
		    what, helper);
	else if (end->code == CLD_KILLED || end->code == CLD_DUMPED)
		certauth_reason_set(reason,
		    "%s %s killed by signal "
		    "%d",
		    what, helper, end->status);
	else if (end->code != CLD_EXITED)
		certauth_reason_set(reason, "%s %s ended oddly", what, helper);
	else if (end->status == CHILD_NOLIMITS)
		certauth_reason_set(reason,
		    "resource limits too low for %s "
		    "%s, and they cannot be raised",
		    what, helper);
	else if (end->status == CHILD_NOSETUP)
		certauth_reason_set(reason,
		    "cannot set up the process of "
		    "%s %s (session, core files, scheduling)",
		    what, helper);
	else if (end->status == CHILD_NOPRIV)
		certauth_reason_set(reason,
		    "cannot drop privileges to %s for "
		    "%s %s",
		    HELPER_USER, what, helper);
	else if (end->status == CHILD_NOEXEC)
		certauth_reason_set(reason, "cannot execute %s %s", what,
		    helper);
	else
		certauth_reason_set(reason,
		    "%s %s exited with code "
		    "%d and no report",
		    what, helper, end->status);
}
