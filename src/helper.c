/*
 * helper.c - one run of a helper program in a child process, shared by
 * the OCSP transport (fetch.c) and the LDAP lookup (ldap.c).
 *
 * The module runs inside su, sudo, sshd and the like, and whoever calls
 * su or sudo controls its environment, descriptors, resource limits,
 * scheduling and signals (SIGSTOP and SIGCONT included).  None of that
 * may reach the verdict:
 * - the network work happens in a separate program, started (spawn.c)
 *   from a descriptor that has passed the safe-file rules, with a fixed
 *   environment, only stdin/stdout/stderr, in a session of its own (no
 *   terminal signals), and as root: with fixed resource limits and normal
 *   scheduling, then as user nobody, whom the caller cannot signal;
 * - the helper times its work itself and reports in one record; the
 *   module reads whatever has arrived before it looks at a clock, so a
 *   host that was stopped still sees the answer, and a helper that never
 *   reports is a local failure, never the network's;
 * - the child is watched and killed through a pidfd, never by a pid that
 *   might be reused, and its exit status is only used to explain a
 *   missing report: a host that ignores SIGCHLD (the kernel reaps the
 *   child) or reaps every child in its own handler changes nothing but
 *   that explanation.  No process-wide state is touched, so threads may
 *   log in at once.
 *
 * SIGPIPE: the request goes to the helper over a socketpair rather than
 * a pipe, so send(MSG_NOSIGNAL) reports a helper that died early as
 * EPIPE instead of raising a signal that would kill the PAM host.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "certauth.h"
#include "helper.h"
#include "spawn.h"

/* Largest fd the close-on-exec fallback loop visits. */
#define FD_LOOP_MAX 65536
/* Past the backstop, how long the host waits for more of a report. */
#define LATE_GRACE_MS 200
/* Words of argv the plan holds, its NULL included. */
#define ARGV_MAX 8

/* How pump() ended. */
enum pump_end {
	PUMP_EOF,   /* the helper closed its stdout */
	PUMP_LATE,  /* nothing more by the backstop */
	PUMP_FLOOD, /* more than a record can hold */
	PUMP_ERROR, /* poll or read failed; errno */
};

/* The descriptors and child of one run, released by finish(), and how
 * the run went. */
struct exchange {
	pid_t pid;
	int pidfd;	    /* watches and kills the child */
	int in_w;	    /* parent writes the request here */
	int out_r;	    /* parent reads the answer here */
	long long backstop; /* the child is killed if not done by then */
	unsigned char *buf;
	size_t len, max;
	enum pump_end end; /* how pump() ended */
	int pump_errno;	   /* its errno, for PUMP_ERROR */
	int late;	   /* killed at the backstop after its EOF */
	struct certauth_ending ending;
};

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
			if (sent == reqlen ||
			    (n < 0 && errno != EINTR && errno != EAGAIN &&
				errno != EWOULDBLOCK)) {
				close(x->in_w);
				x->in_w = -1;
			}
		}
		if (pfd[0].revents == 0)
			continue;
		/* Room for one byte past the cap, to tell "at" from "over". */
		n = read(x->out_r, x->buf + x->len, x->max + 1 - x->len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return PUMP_ERROR;
		}
		if (n == 0)
			return PUMP_EOF;
		x->len += (size_t)n;
		if (x->len > x->max)
			return PUMP_FLOOD;
	}
}

/* Descriptors, argv and environment for the child; its fds set to -1
 * first by the caller. */
static int
make_plan(struct certauth_child_plan *p, struct exchange *x,
    const struct certauth_helper_job *j, struct certauth_reason *reason)
{
	int sv[2] = { -1, -1 }, pv[2] = { -1, -1 };
	struct rlimit rl;
	size_t i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    pipe2(pv, O_CLOEXEC) != 0) {
		certauth_reason_set(reason,
		    "cannot create pipes for the %s: %s", j->what,
		    strerror(errno));
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
		certauth_reason_set(reason,
		    "cannot set up descriptors for the %s: %s", j->what,
		    strerror(errno));
		return CERTAUTH_ERR_INTERNAL;
	}
	p->fd_max = FD_LOOP_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < FD_LOOP_MAX)
		p->fd_max = (unsigned int)rl.rlim_cur;
	for (i = 0; j->argv[i] != NULL; i++) {
		if (i + 1 >= ARGV_MAX) {
			certauth_reason_set(reason,
			    "too many arguments for the %s", j->what);
			return CERTAUTH_ERR_INTERNAL;
		}
		p->argv[i] = j->argv[i];
	}
	p->argv[i] = NULL;
	p->envp[0] = (char *)j->env;
	p->envp[1] = NULL;
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * The helper checked, its user looked up (as root), its descriptors and
 * arguments made, and the child started, with the backstop counted from
 * just before the fork.  Returns 0 with x's child, pipes, buffer and
 * backstop, the child's ends of the pipes closed here; otherwise an error
 * code with a reason, and what x holds is left to finish().
 */
static int
start_helper(struct exchange *x, const struct certauth_helper_job *j,
    struct certauth_reason *reason)
{
	struct certauth_child_plan plan;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&plan, 0, sizeof(plan));
	plan.exec_fd = plan.in_fd = plan.out_fd = plan.null_fd = -1;
	if ((r = certauth_open_helper(j->path, &plan.exec_fd, reason)) != 0)
		goto out;
	r = CERTAUTH_ERR_INTERNAL;
	if (geteuid() == 0) {
		plan.drop = 1;
		if ((r = certauth_lookup_nobody(&plan.uid, &plan.gid,
			 reason)) != 0)
			goto out;
		r = CERTAUTH_ERR_INTERNAL;
	}
	x->max = j->out_max;
	if ((x->buf = malloc(j->out_max + 1)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = make_plan(&plan, x, j, reason)) != 0)
		goto out;
	r = CERTAUTH_ERR_INTERNAL;
	x->backstop = certauth_now_ms() + j->budget_ms +
	    CERTAUTH_HELPER_MARGIN_MS;
	if ((x->pid = certauth_spawn(&plan, &x->pidfd)) < 0) {
		certauth_reason_set(reason, "cannot start %s: %s", j->what,
		    strerror(errno));
		goto out;
	}
	r = 0;
out:
	close_fd(&plan.in_fd);
	close_fd(&plan.out_fd);
	close_fd(&plan.null_fd);
	close_fd(&plan.exec_fd);
	return r;
}

/* The request in and the record out within x's backstop, then the pipes
 * closed and the child reaped; how it went is left in x. */
static void
run_exchange(struct exchange *x, const unsigned char *req, size_t reqlen)
{
	x->end = pump(x, req, reqlen, x->backstop);
	x->pump_errno = errno;
	/* Closed first: a helper still reading its request or writing its
	 * report is released rather than waited for. */
	close_fd(&x->in_w);
	close_fd(&x->out_r);
	x->late = certauth_reap(x->pid, x->pidfd, x->end != PUMP_EOF,
	    x->backstop, &x->ending);
	x->pid = -1;
}

/* The reason for a run that brought no whole record: always a local
 * failure. */
static void
explain_no_report(const struct exchange *x, const struct certauth_helper_job *j,
    struct certauth_reason *reason)
{
	/* Killed at the backstop after its EOF: late, whatever it wrote. */
	enum pump_end end = x->late ? PUMP_LATE : x->end;

	switch (end) {
	case PUMP_LATE:
		certauth_reason_set(reason,
		    "%s %s gave no report within %lld ms", j->what, j->path,
		    j->budget_ms + CERTAUTH_HELPER_MARGIN_MS);
		break;
	case PUMP_FLOOD:
		certauth_reason_set(reason,
		    "%s %s wrote more than a report can hold", j->what,
		    j->path);
		break;
	case PUMP_ERROR:
		certauth_reason_set(reason, "cannot read from %s %s: %s",
		    j->what, j->path, strerror(x->pump_errno));
		break;
	case PUMP_EOF:
		if (x->len > 0)
			certauth_reason_set(reason,
			    "%s %s sent a malformed report", j->what, j->path);
		else
			certauth_explain_ending(&x->ending, j->what, j->path,
			    reason);
		break;
	}
}

/* Release what x holds: its pipes, then a child still there (killed and
 * reaped), its pidfd and its buffer. */
static void
finish(struct exchange *x)
{
	struct certauth_ending ending;

	close_fd(&x->in_w);
	close_fd(&x->out_r);
	if (x->pid > 0)
		(void)certauth_reap(x->pid, x->pidfd, 1, 0, &ending);
	x->pid = -1;
	close_fd(&x->pidfd);
	certauth_freezero(x->buf, x->buf != NULL ? x->max + 1 : 0);
	x->buf = NULL;
}

int
certauth_helper_run(const struct certauth_helper_job *j, unsigned char **out,
    size_t *outlen, struct certauth_reason *reason)
{
	struct exchange x;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&x, 0, sizeof(x));
	x.pid = -1;
	x.pidfd = x.in_w = x.out_r = -1;
	*out = NULL;
	*outlen = 0;
	if ((r = start_helper(&x, j, reason)) != 0)
		goto out;
	run_exchange(&x, j->req, j->reqlen);
	r = CERTAUTH_ERR_INTERNAL;
	/* A whole record counts, however the child ended afterwards. */
	if (x.end != PUMP_EOF || j->parse(j->arg, x.buf, x.len) != 0) {
		explain_no_report(&x, j, reason);
		goto out;
	}
	*out = x.buf;
	*outlen = x.len;
	x.buf = NULL;
	r = 0;
out:
	finish(&x);
	return r;
}
