/*
 * fetch.c - one OCSP exchange, done by the certauth-ocsp-fetch helper in
 * a child process.
 *
 * The module runs inside su, sudo, sshd and the like, and whoever calls
 * su or sudo controls its environment, descriptors, resource limits,
 * scheduling and signals (SIGSTOP and SIGCONT included).  None of that
 * may reach the verdict:
 * - the HTTP work happens in a separate program, started (spawn.c) from
 *   a descriptor that has passed the safe-file rules, with an empty
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
 *   thread's cgroups (certauth_cgroup_unfreezable()).
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
#include <time.h>
#include <unistd.h>

#include "certauth.h"
#include "cgroup.h"
#include "fetch.h"
#include "spawn.h"

#define HELPER_ARGV0 "certauth-ocsp-fetch"
/* Largest fd the close-on-exec fallback loop visits. */
#define FD_LOOP_MAX 65536
/* What the helper may write: its record line and the largest body. */
#define REPORT_MAX (CERTAUTH_FETCH_LINE_MAX + CERTAUTH_OCSP_BODY_MAX)
/* Past the backstop, how long the host waits for more of a report. */
#define LATE_GRACE_MS 200

/* How pump() ended. */
enum pump_end {
	PUMP_EOF,   /* the helper closed its stdout */
	PUMP_LATE,  /* nothing more by the backstop */
	PUMP_FLOOD, /* more than a record can hold */
	PUMP_ERROR, /* poll or read failed; errno */
};

/* The descriptors and child of one exchange, released by finish(), and
 * how the exchange went. */
struct exchange {
	pid_t pid;
	int pidfd;	    /* watches and kills the child */
	int in_w;	    /* parent writes the request here */
	int out_r;	    /* parent reads the answer here */
	long long backstop; /* the child is killed if not done by then */
	unsigned char *buf;
	size_t len;
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

/* What the helper reported. */
struct report {
	int code;     /* enum certauth_fetch_exit */
	long long ms; /* by the helper's clock */
	size_t bodylen;
	const unsigned char *body; /* inside the exchange's buffer */
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

	end = p +
	    (x->len < CERTAUTH_FETCH_LINE_MAX ? x->len :
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
		certauth_reason_set(reason,
		    "OCSP responder %s sent an empty "
		    "answer",
		    url);
		return CERTAUTH_ERR_FORMAT;
	case CERTAUTH_FETCH_UNREACHABLE:
	case CERTAUTH_FETCH_TIMEOUT:
		/* A frozen helper also sees resolvers time out and idle
		 * connections reset. */
		if ((r = certauth_cgroup_unfreezable(&why)) != 0) {
			certauth_reason_set(reason,
			    "OCSP responder %s: %s, "
			    "but %s: not taken as the network's",
			    url, rep->text, why.text);
			return r;
		}
		certauth_reason_set(reason,
		    "cannot reach OCSP responder %s: "
		    "%s",
		    url, rep->text);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_FETCH_HTTP:
		certauth_reason_set(reason,
		    "OCSP responder %s answered with "
		    "an HTTP error or redirect: %s",
		    url, rep->text);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_FETCH_TOO_BIG:
		certauth_reason_set(reason,
		    "OCSP responder %s sent an answer "
		    "larger than %d KiB",
		    url, CERTAUTH_OCSP_BODY_MAX / 1024);
		return CERTAUTH_ERR_FORMAT;
	default:
		certauth_reason_set(reason,
		    "OCSP helper %s failed (code %d): "
		    "%s",
		    helper, rep->code, rep->text);
		return CERTAUTH_ERR_INTERNAL;
	}
}

/* Descriptors and argv for the child; fds set to -1 first by caller. */
static int
make_plan(struct certauth_child_plan *p, struct exchange *x, const char *url,
    const char *proxy, long long budget_ms, char *msbuf, size_t mslen,
    struct certauth_reason *reason)
{
	int sv[2] = { -1, -1 }, pv[2] = { -1, -1 };
	struct rlimit rl;
	size_t i = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    pipe2(pv, O_CLOEXEC) != 0) {
		certauth_reason_set(reason,
		    "cannot create pipes for the OCSP "
		    "helper: %s",
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
		    "cannot set up descriptors for the "
		    "OCSP helper: %s",
		    strerror(errno));
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

/* The arguments, before anything is opened: a URL that is not http(s)
 * is CERTAUTH_ERR_UNREACHABLE, anything else wrong
 * CERTAUTH_ERR_INTERNAL, both with a reason; 0 when fine. */
static int
check_request(const char *url, const char *proxy, const unsigned char *req,
    size_t reqlen, long long budget_ms, struct certauth_reason *reason)
{
	if (url == NULL || !url_is_http(url)) {
		certauth_reason_set(reason,
		    "OCSP responder URL %s is not "
		    "http or https",
		    url == NULL ? "(none)" : url);
		return CERTAUTH_ERR_UNREACHABLE;
	}
	if (req == NULL || reqlen == 0 || budget_ms <= 0 ||
	    (proxy != NULL && proxy[0] == '\0')) {
		certauth_reason_set(reason,
		    "bad arguments for OCSP request "
		    "to %s",
		    url);
		return CERTAUTH_ERR_INTERNAL;
	}
	return 0;
}

/*
 * The helper checked, its user looked up (as root), its descriptors and
 * arguments made, and the child started, with the backstop counted from
 * just before the fork.  Returns 0 with x's child, pipes, buffer and
 * backstop, the child's ends of the pipes closed here; otherwise an error
 * code with a reason, and what x holds is left to finish().
 */
static int
start_helper(struct exchange *x, const char *helper_path, const char *url,
    const char *proxy, long long budget_ms, struct certauth_reason *reason)
{
	struct certauth_child_plan plan;
	char msbuf[24];
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&plan, 0, sizeof(plan));
	plan.exec_fd = plan.in_fd = plan.out_fd = plan.null_fd = -1;
	if ((r = certauth_open_helper(helper_path, &plan.exec_fd, reason)) != 0)
		goto out;
	r = CERTAUTH_ERR_INTERNAL;
	if (geteuid() == 0) {
		plan.drop = 1;
		if ((r = certauth_lookup_nobody(&plan.uid, &plan.gid,
			 reason)) != 0)
			goto out;
		r = CERTAUTH_ERR_INTERNAL;
	}
	if ((x->buf = malloc(REPORT_MAX + 1)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = make_plan(&plan, x, url, proxy, budget_ms, msbuf,
		 sizeof(msbuf), reason)) != 0)
		goto out;
	r = CERTAUTH_ERR_INTERNAL;
	x->backstop = certauth_now_ms() + budget_ms + CERTAUTH_FETCH_MARGIN_MS;
	if ((x->pid = certauth_spawn(&plan, &x->pidfd)) < 0) {
		certauth_reason_set(reason, "cannot start OCSP helper: %s",
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

/* The reason for an exchange that brought no whole record: always a
 * local failure. */
static void
explain_no_report(const struct exchange *x, const char *helper,
    long long budget_ms, struct certauth_reason *reason)
{
	/* Killed at the backstop after its EOF: late, whatever it wrote. */
	enum pump_end end = x->late ? PUMP_LATE : x->end;

	switch (end) {
	case PUMP_LATE:
		certauth_reason_set(reason,
		    "OCSP helper %s gave no report "
		    "within %lld ms",
		    helper, budget_ms + CERTAUTH_FETCH_MARGIN_MS);
		break;
	case PUMP_FLOOD:
		certauth_reason_set(reason,
		    "OCSP helper %s wrote more than "
		    "a report can hold",
		    helper);
		break;
	case PUMP_ERROR:
		certauth_reason_set(reason,
		    "cannot read from OCSP helper %s: "
		    "%s",
		    helper, strerror(x->pump_errno));
		break;
	case PUMP_EOF:
		if (x->len > 0)
			certauth_reason_set(reason,
			    "OCSP helper %s sent a "
			    "malformed report",
			    helper);
		else
			certauth_explain_ending(&x->ending, helper, reason);
		break;
	}
}

/*
 * What a finished exchange comes to, with the returns of
 * certauth_fetch_ocsp(): the code and reason of the helper's record, with
 * *spent_ms and (on success) the body in *resp and *resplen; without a
 * whole record, CERTAUTH_ERR_INTERNAL.
 */
static int
exchange_result(const struct exchange *x, const char *helper, const char *url,
    long long budget_ms, long long *spent_ms, unsigned char **resp,
    size_t *resplen, struct certauth_reason *reason)
{
	struct report rep;
	int r = CERTAUTH_ERR_INTERNAL;

	/* A whole record counts, however the child ended afterwards. */
	if (x->end == PUMP_EOF && parse_report(x, &rep) == 0) {
		if (spent_ms != NULL)
			*spent_ms = rep.ms < budget_ms ? rep.ms : budget_ms;
		if ((r = map_report(&rep, helper, url, reason)) == 0)
			r = take_body(&rep, resp, resplen);
		return r;
	}
	explain_no_report(x, helper, budget_ms, reason);
	return CERTAUTH_ERR_INTERNAL;
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
	free(x->buf);
	x->buf = NULL;
}

int
certauth_fetch_ocsp(const char *helper_path, const char *url, const char *proxy,
    const unsigned char *req, size_t reqlen, long long budget_ms,
    long long *spent_ms, unsigned char **resp, size_t *resplen,
    struct certauth_reason *reason)
{
	struct exchange x;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&x, 0, sizeof(x));
	x.pid = -1;
	x.pidfd = x.in_w = x.out_r = -1;
	*resp = NULL;
	*resplen = 0;
	if (spent_ms != NULL)
		*spent_ms = 0;

	if ((r = check_request(url, proxy, req, reqlen, budget_ms, reason)) !=
		0 ||
	    (r = start_helper(&x, helper_path, url, proxy, budget_ms,
		 reason)) != 0)
		goto out;
	run_exchange(&x, req, reqlen);
	r = exchange_result(&x, helper_path, url, budget_ms, spent_ms, resp,
	    resplen, reason);
out:
	finish(&x);
	return r;
}
