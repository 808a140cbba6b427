/*
 * test_fetch.c - the OCSP transport: certauth_fetch_ocsp() driving the
 * real certauth-ocsp-fetch helper against small HTTP servers on
 * 127.0.0.1, and driving this test binary itself as a misbehaving helper
 * (when started as "certauth-ocsp-fetch --timeout-ms ..." it plays the
 * helper named by the URL) to reach the kill, report and plumbing paths
 * that a well-behaved helper never takes; and a host that ignores or
 * reaps SIGCHLD, runs two fetches in two threads, lowers its own limits
 * and priority, or is stopped while the helper runs; and, as root, a host
 * in a cgroup that user nobody may freeze, frozen for real while the
 * answer waits, or whose cgroups cannot be looked at.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "certauth.h"
#include "fetch.h"
#include "testutil.h"

#ifndef FETCH_HELPER
#error "FETCH_HELPER must name the built certauth-ocsp-fetch"
#endif

/*
 * The helper the tests run: a copy of FETCH_HELPER in a scratch directory
 * that passes the module's safe-path rules and that user nobody can reach,
 * wherever the build tree is (group_setup); the built one itself when the
 * tests cannot make one (not root).
 */
static const char *helper_path = FETCH_HELPER;
static char *helper_copy, *helper_dir;

#define REQ_LEN		300
#define BODY_LEN	1000
#define BIG_LEN		(2 * 1024 * 1024)
#define SERVER_BUF	(256 * 1024)
#define DEADLINE_MS	1500
#define SLACK_MS	1000	/* the bound: deadline + 1 s */
#define STOP_MS		(300 + CERTAUTH_FETCH_MARGIN_MS + 700)
#define LATE_MS		300	/* SERVE_LATE's delay */
#define FROZEN_BUDGET_MS	1000
/* Past FROZEN_BUDGET_MS, well short of it plus the margin. */
#define FREEZE_MS	(FROZEN_BUDGET_MS + 150)
#define NOBODY		65534

extern char **environ;

static char self_path[PATH_MAX];	/* this binary, to act as a helper */

enum serve_mode {
	SERVE_OK,		/* 200 with BODY_LEN pattern bytes */
	SERVE_OK_EXACT,		/* 200 with exactly CERTAUTH_OCSP_BODY_MAX */
	SERVE_OVER_ONE,		/* 200 with CERTAUTH_OCSP_BODY_MAX + 1 */
	SERVE_404,
	SERVE_302,		/* Location: the port in 'arg' */
	SERVE_SILENT,		/* read the request, never answer */
	SERVE_BIG_LENGTH,	/* 2 MiB with Content-Length */
	SERVE_BIG_CLOSE,	/* 2 MiB delimited by close */
	SERVE_PROXY,		/* 200 "PROXIED" */
	SERVE_LATE,		/* a byte to fd 'arg', then 200 "late"
				 * after LATE_MS */
};

struct server {
	pid_t pid;
	int port;
	int rec_fd;		/* what the server saw, read after it dies */
};

struct state {
	struct server srv[3];
	int nsrv;
	char *dir;		/* safe scratch dir (root only), or NULL */
	char *cg_orig;		/* this process's cgroup directory and */
	char *cg_child;		/* the test's cgroup below it, or NULL */
	int cg_v2;		/* they are cgroup v2, else v1 freezer */
	unsigned char req[REQ_LEN];
	unsigned char body[BODY_LEN];
};

/* A pattern with NULs, CR and LF in it, so byte-exactness is tested. */
static void
fill_pattern(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 7 + seed) % 256);
}

static int
write_full(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Pause for ms milliseconds. */
static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------ servers */

/* Read one HTTP request (headers and a Content-Length body) into buf. */
static size_t
read_http_request(int fd, unsigned char *buf, size_t cap)
{
	size_t len = 0, need = 0;
	char *end, *cl;
	ssize_t n;

	while (len < cap - 1) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (need == 0 && (end = strstr((char *)buf, "\r\n\r\n")) !=
		    NULL) {
			need = (size_t)(end - (char *)buf) + 4;
			*end = '\0';
			cl = strcasestr((char *)buf, "\r\nContent-Length:");
			if (cl != NULL)
				need += strtoul(cl + 17, NULL, 10);
			*end = '\r';
		}
		if (need != 0 && len >= need)
			break;
	}
	return len;
}

static void
send_answer(int fd, int code, const char *extra, const unsigned char *body,
    size_t len, int with_length)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n"
	    "Content-Type: application/ocsp-response\r\n%s", code, extra);
	if (with_length)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Content-Length: %zu\r\n", len);
	n += snprintf(head + n, sizeof(head) - (size_t)n,
	    "Connection: close\r\n\r\n");
	if (write_full(fd, head, (size_t)n) == 0 && len > 0)
		(void)write_full(fd, body, len);
}

/* The server child: serve until killed; record every request first. */
static void
serve(int lfd, int rec, enum serve_mode mode, int arg)
{
	unsigned char *buf = malloc(SERVER_BUF), *big = NULL;
	char loc[128];
	uint32_t n32;
	size_t len, biglen;
	int c;

	signal(SIGPIPE, SIG_IGN);
	if (buf == NULL)
		_exit(1);
	for (;;) {
		if ((c = accept(lfd, NULL, NULL)) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		len = read_http_request(c, buf, SERVER_BUF);
		n32 = (uint32_t)len;
		if (write_full(rec, &n32, sizeof(n32)) != 0 ||
		    write_full(rec, buf, len) != 0)
			_exit(1);
		switch (mode) {
		case SERVE_OK:
			fill_pattern(buf, BODY_LEN, 3);
			send_answer(c, 200, "", buf, BODY_LEN, 1);
			break;
		case SERVE_OK_EXACT:
		case SERVE_OVER_ONE:
		case SERVE_BIG_LENGTH:
		case SERVE_BIG_CLOSE:
			biglen = mode == SERVE_OK_EXACT ? CERTAUTH_OCSP_BODY_MAX :
			    mode == SERVE_OVER_ONE ?
			    CERTAUTH_OCSP_BODY_MAX + 1 : BIG_LEN;
			if ((big = calloc(1, biglen)) == NULL)
				_exit(1);
			fill_pattern(big, biglen, 5);
			send_answer(c, 200, "", big, biglen,
			    mode != SERVE_BIG_CLOSE);
			free(big);
			break;
		case SERVE_404:
			send_answer(c, 404, "", (const unsigned char *)"nope",
			    4, 1);
			break;
		case SERVE_302:
			snprintf(loc, sizeof(loc),
			    "Location: http://127.0.0.1:%d/\r\n", arg);
			send_answer(c, 302, loc, NULL, 0, 1);
			break;
		case SERVE_SILENT:
			for (;;)
				pause();
		case SERVE_PROXY:
			send_answer(c, 200, "",
			    (const unsigned char *)"PROXIED", 7, 1);
			break;
		case SERVE_LATE:
			(void)write_full(arg, "r", 1);
			nap(LATE_MS);
			send_answer(c, 200, "", (const unsigned char *)"late",
			    4, 1);
			break;
		}
		close(c);
	}
}

/* Start a server child on an ephemeral 127.0.0.1 port. */
static struct server *
start_server(struct state *st, enum serve_mode mode, int arg)
{
	struct server *s = &st->srv[st->nsrv];
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	int lfd, rec[2];

	assert_true(st->nsrv < 3);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	assert_int_equal(pipe2(rec, O_CLOEXEC), 0);
	s->port = ntohs(sa.sin_port);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		close(rec[0]);
		serve(lfd, rec[1], mode, arg);
		_exit(0);
	}
	close(lfd);
	close(rec[1]);
	s->rec_fd = rec[0];
	st->nsrv++;
	return s;
}

/*
 * Stop a server and return what it recorded: *count requests, the first
 * one in *first (malloc'd, NUL-terminated; NULL when none).
 */
static void
stop_server(struct server *s, int *count, unsigned char **first,
    size_t *firstlen)
{
	unsigned char *buf = NULL;
	uint32_t n32;
	ssize_t n;
	int got = 0;

	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
		s->pid = -1;
	}
	if (first != NULL)
		*first = NULL;
	while (s->rec_fd >= 0 &&
	    (n = read(s->rec_fd, &n32, sizeof(n32))) == (ssize_t)sizeof(n32)) {
		buf = malloc((size_t)n32 + 1);
		assert_non_null(buf);
		assert_int_equal(read(s->rec_fd, buf, n32), (ssize_t)n32);
		buf[n32] = '\0';
		if (got++ == 0 && first != NULL) {
			*first = buf;
			*firstlen = n32;
		} else {
			free(buf);
		}
	}
	if (s->rec_fd >= 0)
		close(s->rec_fd);
	s->rec_fd = -1;
	if (count != NULL)
		*count = got;
}

/* A port where nothing listens (bound, then closed). */
static int
dead_port(void)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static char *
url_of(int port)
{
	char *u = NULL;

	assert_true(asprintf(&u, "http://127.0.0.1:%d/", port) > 0);
	return u;
}

/* ------------------------------------------------------------ fixtures */

static int
setup(void **state)
{
	struct state *st = calloc(1, sizeof(*st));

	assert_non_null(st);
	fill_pattern(st->req, REQ_LEN, 1);
	fill_pattern(st->body, BODY_LEN, 3);
	st->dir = tu_safe_tmpdir();
	*state = st;
	return 0;
}

static void leave_test_cgroup(struct state *st);

static int
teardown(void **state)
{
	struct state *st = *state;
	int i;

	leave_test_cgroup(st);
	for (i = 0; i < st->nsrv; i++)
		stop_server(&st->srv[i], NULL, NULL, NULL);
	tu_remove_tree(st->dir);
	free(st->dir);
	free(st);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("https_proxy");
	signal(SIGCHLD, SIG_DFL);
	return 0;
}

/* No child of ours is left, zombie or alive (none but servers exist). */
static void
assert_no_children(void)
{
	assert_int_equal(waitpid(-1, NULL, (int)(WNOHANG | __WALL)), -1);
	assert_int_equal(errno, ECHILD);
}

static long long last_spent;	/* of the last fetch() */

static int
fetch(const char *helper, const char *url, const char *proxy,
    const unsigned char *req, size_t reqlen, long long budget_ms,
    unsigned char **resp, size_t *resplen, struct certauth_reason *reason)
{
	memset(reason, 0, sizeof(*reason));
	last_spent = -1;
	return certauth_fetch_ocsp(helper, url, proxy, req, reqlen,
	    budget_ms, &last_spent, resp, resplen, reason);
}

/* The recorded request is a POST of exactly st->req as OCSP. */
static void
assert_ocsp_post(const struct state *st, const unsigned char *rq,
    size_t rqlen, const char *request_line)
{
	const char *end;
	size_t head;

	assert_non_null(rq);
	assert_int_equal(strncmp((const char *)rq, request_line,
	    strlen(request_line)), 0);
	end = strstr((const char *)rq, "\r\n\r\n");
	assert_non_null(end);
	head = (size_t)(end - (const char *)rq) + 4;
	assert_non_null(strcasestr((const char *)rq,
	    "\r\nContent-Type: application/ocsp-request\r\n"));
	assert_non_null(strcasestr((const char *)rq,
	    "\r\nAccept: application/ocsp-response\r\n"));
	assert_int_equal(rqlen - head, REQ_LEN);
	assert_memory_equal(rq + head, st->req, REQ_LEN);
}

/*
 * Nonzero when this process is in the root cgroup of the v2 hierarchy
 * and of a v1 freezer hierarchy: nobody can have frozen it.
 */
static int
in_root_cgroups(void)
{
	FILE *fp = fopen("/proc/self/cgroup", "re");
	char line[4096], *ctl, *path;
	int root = fp != NULL;

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((ctl = strchr(line, ':')) == NULL ||
		    (path = strchr(ctl + 1, ':')) == NULL)
			continue;
		*ctl++ = '\0';
		*path++ = '\0';
		if (((strcmp(line, "0") == 0 && *ctl == '\0') ||
		    strstr(ctl, "freezer") != NULL) && strcmp(path, "/") != 0)
			root = 0;
	}
	if (fp != NULL)
		fclose(fp);
	return root;
}

/*
 * The verdict on a timeout: the network's.  Only a process that a user
 * may freeze (as in a desktop session's terminal) may see a local
 * failure instead, and then it says so.
 */
static void
assert_timeout_verdict(int r, const struct certauth_reason *reason)
{
	if (r == CERTAUTH_ERR_INTERNAL && !in_root_cgroups() &&
	    strstr(reason->text, "not taken as the network's") != NULL) {
		print_message("# a user may freeze this process: %s\n",
		    reason->text);
		return;
	}
	assert_int_equal(r, CERTAUTH_ERR_UNREACHABLE);
	assert_non_null(strstr(reason->text, "cannot reach"));
}

/* ------------------------------------------------ real helper, servers */

static void
test_ok_byte_exact(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	struct server *s = start_server(st, SERVE_OK, 0);
	char *url = url_of(s->port);
	unsigned char *resp = NULL, *rq = NULL;
	size_t resplen = 0, rqlen = 0;
	int count = 0;

	assert_int_equal(fetch(helper_path, url, NULL, st->req, REQ_LEN,
	    5000, &resp, &resplen, &reason), 0);
	assert_int_equal(resplen, BODY_LEN);
	assert_memory_equal(resp, st->body, BODY_LEN);
	stop_server(s, &count, &rq, &rqlen);
	assert_int_equal(count, 1);
	assert_ocsp_post(st, rq, rqlen, "POST / HTTP/1.1\r\n");
	free(rq);
	free(resp);
	free(url);
}

static void
test_body_exactly_max(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	struct server *s = start_server(st, SERVE_OK_EXACT, 0);
	char *url = url_of(s->port);
	unsigned char *resp = NULL, *want = malloc(CERTAUTH_OCSP_BODY_MAX);
	size_t resplen = 0;

	assert_non_null(want);
	fill_pattern(want, CERTAUTH_OCSP_BODY_MAX, 5);
	assert_int_equal(fetch(helper_path, url, NULL, st->req, REQ_LEN,
	    5000, &resp, &resplen, &reason), 0);
	assert_int_equal(resplen, CERTAUTH_OCSP_BODY_MAX);
	assert_memory_equal(resp, want, CERTAUTH_OCSP_BODY_MAX);
	free(want);
	free(resp);
	free(url);
}

static void
expect_fail(struct state *st, enum serve_mode mode, int want,
    const char *reason_part)
{
	struct certauth_reason reason;
	struct server *s = start_server(st, mode, 0);
	char *url = url_of(s->port);
	unsigned char *resp = (unsigned char *)"x";
	size_t resplen = 1;

	assert_int_equal(fetch(helper_path, url, NULL, st->req, REQ_LEN,
	    5000, &resp, &resplen, &reason), want);
	assert_null(resp);
	assert_int_equal(resplen, 0);
	assert_non_null(strstr(reason.text, url));
	assert_non_null(strstr(reason.text, reason_part));
	free(url);
}

static void
test_body_one_over_max(void **state)
{
	expect_fail(*state, SERVE_OVER_ONE, CERTAUTH_ERR_FORMAT,
	    "larger than 64 KiB");
}

static void
test_big_with_length(void **state)
{
	expect_fail(*state, SERVE_BIG_LENGTH, CERTAUTH_ERR_FORMAT,
	    "larger than 64 KiB");
}

static void
test_big_without_length(void **state)
{
	expect_fail(*state, SERVE_BIG_CLOSE, CERTAUTH_ERR_FORMAT,
	    "larger than 64 KiB");
}

static void
test_404(void **state)
{
	expect_fail(*state, SERVE_404, CERTAUTH_ERR_UNREACHABLE,
	    "HTTP error or redirect");
}

static void
test_redirect_not_followed(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	struct server *target = start_server(st, SERVE_OK, 0);
	struct server *s = start_server(st, SERVE_302, target->port);
	char *url = url_of(s->port);
	unsigned char *resp = NULL, *rq = NULL;
	size_t resplen = 0, rqlen = 0;
	int count = -1;

	assert_int_equal(fetch(helper_path, url, NULL, st->req, REQ_LEN,
	    5000, &resp, &resplen, &reason), CERTAUTH_ERR_UNREACHABLE);
	assert_null(resp);
	assert_non_null(strstr(reason.text, "redirect"));
	stop_server(s, &count, &rq, &rqlen);
	assert_int_equal(count, 1);
	assert_ocsp_post(st, rq, rqlen, "POST / HTTP/1.1\r\n");
	stop_server(target, &count, NULL, NULL);
	assert_int_equal(count, 0);
	free(rq);
	free(url);
}

static void
test_silent_server_deadline(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	struct server *s = start_server(st, SERVE_SILENT, 0);
	char *url = url_of(s->port);
	unsigned char *resp = NULL;
	size_t resplen = 0;
	long long t0, elapsed;
	int r;

	t0 = certauth_now_ms();
	r = fetch(helper_path, url, NULL, st->req, REQ_LEN, DEADLINE_MS,
	    &resp, &resplen, &reason);
	elapsed = certauth_now_ms() - t0;
	assert_timeout_verdict(r, &reason);
	assert_non_null(strstr(reason.text, "timed out"));
	print_message("# silent server: %lld ms for a %d ms deadline (%s)\n",
	    elapsed, DEADLINE_MS, reason.text);
	assert_true(elapsed <= DEADLINE_MS + SLACK_MS);
	/* It did wait for the server rather than fail for another reason,
	 * and the helper's own clock says so. */
	assert_true(elapsed >= DEADLINE_MS - 100);
	assert_true(last_spent >= DEADLINE_MS - 100);
	assert_true(last_spent <= DEADLINE_MS);
	assert_null(resp);
	free(url);
}

static void
test_nothing_listening(void **state)
{
	struct certauth_reason reason;
	char *url = url_of(dead_port());
	unsigned char *resp = NULL;
	size_t resplen = 0;

	assert_int_equal(fetch(helper_path, url, NULL,
	    ((struct state *)*state)->req, REQ_LEN, 5000, &resp, &resplen,
	    &reason), CERTAUTH_ERR_UNREACHABLE);
	assert_non_null(strstr(reason.text, "cannot reach"));
	assert_null(resp);
	assert_no_children();
	free(url);
}

static void
test_env_proxy_ignored(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	struct server *proxy = start_server(st, SERVE_PROXY, 0);
	struct server *s = start_server(st, SERVE_OK, 0);
	char *url = url_of(s->port), *purl = url_of(proxy->port);
	unsigned char *resp = NULL, *rq = NULL;
	size_t resplen = 0, rqlen = 0;
	int count = -1;

	assert_int_equal(setenv("http_proxy", purl, 1), 0);
	assert_int_equal(setenv("HTTP_PROXY", purl, 1), 0);
	assert_int_equal(setenv("all_proxy", purl, 1), 0);
	assert_int_equal(fetch(helper_path, url, NULL, st->req, REQ_LEN,
	    5000, &resp, &resplen, &reason), 0);
	assert_int_equal(resplen, BODY_LEN);
	assert_memory_equal(resp, st->body, BODY_LEN);
	stop_server(s, &count, &rq, &rqlen);
	assert_int_equal(count, 1);
	assert_ocsp_post(st, rq, rqlen, "POST / HTTP/1.1\r\n");
	stop_server(proxy, &count, NULL, NULL);
	assert_int_equal(count, 0);
	free(rq);
	free(resp);
	free(url);
	free(purl);
}

/*
 * The real helper run by hand on url with a timeout of ms, envp and the
 * test request: its exit status, and its output in out (NUL-terminated,
 * *got bytes before the NUL).
 */
static int
run_helper(const struct state *st, const char *ms, char *url, char **envp,
    unsigned char *out, size_t cap, size_t *got)
{
	char *argv[] = { (char *)"certauth-ocsp-fetch",
	    (char *)"--timeout-ms", (char *)ms, url, NULL };
	int in[2], outp[2], status = 0;
	ssize_t n;
	pid_t pid;

	*got = 0;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(outp), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		close(in[1]);
		close(outp[0]);
		execve(helper_path, argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	assert_int_equal(write_full(in[1], st->req, REQ_LEN), 0);
	close(in[1]);
	while ((n = read(outp[0], out + *got, cap - 1 - *got)) > 0)
		*got += (size_t)n;
	out[*got] = '\0';
	close(outp[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* The helper run by hand with a proxy environment still goes direct. */
static void
test_helper_clears_own_env(void **state)
{
	struct state *st = *state;
	struct server *proxy = start_server(st, SERVE_PROXY, 0);
	struct server *s = start_server(st, SERVE_OK, 0);
	char *url = url_of(s->port), *purl = url_of(proxy->port);
	char *env_proxy = NULL, *env_all = NULL;
	char *envp[3];
	unsigned char out[BODY_LEN + CERTAUTH_FETCH_LINE_MAX];
	char *nl;
	int count = -1;
	size_t got = 0;

	assert_true(asprintf(&env_proxy, "http_proxy=%s", purl) > 0);
	assert_true(asprintf(&env_all, "all_proxy=%s", purl) > 0);
	envp[0] = env_proxy;
	envp[1] = env_all;
	envp[2] = NULL;
	assert_int_equal(run_helper(st, "5000", url, envp, out, sizeof(out),
	    &got), CERTAUTH_FETCH_OK);
	/* One record: its line, then exactly the body. */
	nl = memchr(out, '\n', got);
	assert_non_null(nl);
	assert_int_equal(strncmp((char *)out, CERTAUTH_FETCH_MAGIC " 0 ", 13),
	    0);
	assert_int_equal(got - (size_t)(nl + 1 - (char *)out), BODY_LEN);
	assert_memory_equal(nl + 1, st->body, BODY_LEN);
	stop_server(proxy, &count, NULL, NULL);
	assert_int_equal(count, 0);
	stop_server(s, &count, NULL, NULL);
	assert_int_equal(count, 1);
	free(env_proxy);
	free(env_all);
	free(url);
	free(purl);
}

/* The helper's own timeout has a code of its own; a refused connection
 * keeps code 3. */
static void
test_helper_timeout_code(void **state)
{
	struct state *st = *state;
	struct server *s = start_server(st, SERVE_SILENT, 0);
	char *url = url_of(s->port), *dead = url_of(dead_port());
	char *envp[] = { NULL };
	unsigned char out[CERTAUTH_FETCH_LINE_MAX];
	size_t got = 0;
	long long t0 = certauth_now_ms();

	assert_int_equal(run_helper(st, "300", url, envp, out, sizeof(out),
	    &got), CERTAUTH_FETCH_TIMEOUT);
	print_message("# %s", (char *)out);
	assert_true(certauth_now_ms() - t0 >= 300);
	assert_int_equal(strncmp((char *)out, CERTAUTH_FETCH_MAGIC " 6 ", 13),
	    0);
	assert_non_null(strstr((char *)out, " 0 Operation timed out after "));
	assert_int_equal(run_helper(st, "5000", dead, envp, out, sizeof(out),
	    &got), CERTAUTH_FETCH_UNREACHABLE);
	assert_int_equal(strncmp((char *)out, CERTAUTH_FETCH_MAGIC " 3 ", 13),
	    0);
	free(dead);
	free(url);
}

static void
test_proxy_argument_used(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	struct server *proxy = start_server(st, SERVE_PROXY, 0);
	struct server *s = start_server(st, SERVE_OK, 0);
	char *url = url_of(s->port), *purl = url_of(proxy->port);
	char *line = NULL;
	unsigned char *resp = NULL, *rq = NULL;
	size_t resplen = 0, rqlen = 0;
	int count = -1;

	assert_int_equal(fetch(helper_path, url, purl, st->req, REQ_LEN,
	    5000, &resp, &resplen, &reason), 0);
	assert_int_equal(resplen, 7);
	assert_memory_equal(resp, "PROXIED", 7);
	stop_server(proxy, &count, &rq, &rqlen);
	assert_int_equal(count, 1);
	/* A proxy is sent the absolute URL. */
	assert_true(asprintf(&line, "POST %s HTTP/1.1\r\n", url) > 0);
	assert_ocsp_post(st, rq, rqlen, line);
	stop_server(s, &count, NULL, NULL);
	assert_int_equal(count, 0);
	free(line);
	free(rq);
	free(resp);
	free(url);
	free(purl);
}

/* A host that ignores SIGCHLD still gets the helper's status, and keeps
 * its disposition. */
static void
test_sigchld_ignored_by_host(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	struct server *s = start_server(st, SERVE_OK, 0);
	char *url = url_of(s->port);
	unsigned char *resp = NULL;
	size_t resplen = 0;
	struct sigaction sa;

	signal(SIGCHLD, SIG_IGN);
	assert_int_equal(fetch(helper_path, url, NULL, st->req, REQ_LEN,
	    5000, &resp, &resplen, &reason), 0);
	assert_int_equal(resplen, BODY_LEN);
	assert_int_equal(sigaction(SIGCHLD, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	free(resp);
	free(url);
}

/* ------------------------------------------------ arguments, no helper */

static void
test_bad_urls(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	const char *bad[] = { "ftp://127.0.0.1/", "-x", "--proxy",
	    "ldap://ca.example/", "", "http:/x" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fetch(helper_path, bad[i], NULL, st->req,
		    REQ_LEN, 5000, &resp, &resplen, &reason),
		    CERTAUTH_ERR_UNREACHABLE);
		assert_non_null(strstr(reason.text, "not http or https"));
	}
	assert_no_children();
}

static void
test_deadline_passed(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;

	/* The caller keeps the budget; none left is its own mistake. */
	assert_int_equal(fetch(helper_path, "http://127.0.0.1:9/", NULL,
	    st->req, REQ_LEN, 0, &resp, &resplen, &reason),
	    CERTAUTH_ERR_INTERNAL);
	assert_non_null(strstr(reason.text, "bad arguments"));
	assert_no_children();
}

/* ----------------------------------------------------- helper checks */

static void
test_missing_helper(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;

	assert_int_equal(fetch("/nonexistent/certauth-ocsp-fetch",
	    "http://127.0.0.1:9/", NULL, st->req, REQ_LEN, 5000, &resp,
	    &resplen, &reason), CERTAUTH_ERR_INTERNAL);
	assert_non_null(strstr(reason.text, "/nonexistent/"));
	assert_int_equal(fetch("certauth-ocsp-fetch", "http://127.0.0.1:9/",
	    NULL, st->req, REQ_LEN, 5000, &resp, &resplen, &reason),
	    CERTAUTH_ERR_INTERNAL);
	assert_non_null(strstr(reason.text, "not absolute"));
	assert_no_children();
}

static char *
copy_file(const char *dir, const char *name, const char *from, mode_t mode)
{
	char *to = tu_path(dir, name);
	unsigned char buf[65536];
	int in, out;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	assert_true(in >= 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write_full(out, buf, (size_t)n), 0);
	assert_int_equal(n, 0);
	close(in);
	assert_int_equal(fchmod(out, mode), 0);
	close(out);
	return to;
}

static int
group_setup(void **state)
{
	(void)state;
	if ((helper_dir = tu_safe_tmpdir()) != NULL) {
		helper_copy = copy_file(helper_dir, "certauth-ocsp-fetch",
		    FETCH_HELPER, 0755);
		helper_path = helper_copy;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	free(helper_copy);
	tu_remove_tree(helper_dir);
	free(helper_dir);
	return 0;
}

/* A copy of the real helper with the given mode, run against a 200. */
static int
fetch_with_copy(struct state *st, mode_t mode, struct certauth_reason *reason)
{
	struct server *s = start_server(st, SERVE_OK, 0);
	char *url = url_of(s->port);
	char *helper = copy_file(st->dir, "fetch", FETCH_HELPER, mode);
	unsigned char *resp = NULL;
	size_t resplen = 0;
	int r;

	r = fetch(helper, url, NULL, st->req, REQ_LEN, 5000, &resp,
	    &resplen, reason);
	if (r == 0)
		assert_memory_equal(resp, st->body, BODY_LEN);
	free(resp);
	free(helper);
	free(url);
	return r;
}

static void
test_helper_copy_safe(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;

	if (st->dir == NULL)
		skip();
	/* The positive control for the refusals below. */
	assert_int_equal(fetch_with_copy(st, 0755, &reason), 0);
}

static void
test_helper_group_writable(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;

	if (st->dir == NULL)
		skip();
	assert_int_equal(fetch_with_copy(st, 0775, &reason),
	    CERTAUTH_ERR_INTERNAL);
	assert_non_null(strstr(reason.text, "writable by group or others"));
}

static void
test_helper_setuid(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;

	if (st->dir == NULL)
		skip();
	assert_int_equal(fetch_with_copy(st, 04755, &reason),
	    CERTAUTH_ERR_INTERNAL);
	assert_non_null(strstr(reason.text, "set-id"));
}

static void
test_helper_not_root_owned(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	char *helper;
	unsigned char *resp = NULL;
	size_t resplen = 0;

	if (st->dir == NULL)
		skip();
	helper = copy_file(st->dir, "fetch", FETCH_HELPER, 0755);
	assert_int_equal(chown(helper, 65534, 65534), 0);
	assert_int_equal(fetch(helper, "http://127.0.0.1:9/", NULL, st->req,
	    REQ_LEN, 5000, &resp, &resplen, &reason), CERTAUTH_ERR_INTERNAL);
	assert_non_null(strstr(reason.text, "not owned by root"));
	free(helper);
}

static void
test_helper_symlink_and_unsafe_dir(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	char *helper, *link, *sub, *inner;
	unsigned char *resp = NULL;
	size_t resplen = 0;

	if (st->dir == NULL)
		skip();
	helper = copy_file(st->dir, "fetch", FETCH_HELPER, 0755);
	link = tu_path(st->dir, "link");
	assert_int_equal(symlink(helper, link), 0);
	assert_int_equal(fetch(link, "http://127.0.0.1:9/", NULL, st->req,
	    REQ_LEN, 5000, &resp, &resplen, &reason), CERTAUTH_ERR_INTERNAL);
	sub = tu_path(st->dir, "open");
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	inner = copy_file(sub, "fetch", FETCH_HELPER, 0755);
	assert_int_equal(fetch(inner, "http://127.0.0.1:9/", NULL, st->req,
	    REQ_LEN, 5000, &resp, &resplen, &reason), CERTAUTH_ERR_INTERNAL);
	assert_non_null(strstr(reason.text, "writable"));
	assert_no_children();
	free(inner);
	free(sub);
	free(link);
	free(helper);
}

/* ------------------------------------- this binary as a fake helper */

/* A copy of this test binary that the rules accept, or NULL (skip). */
static char *
fake_helper(struct state *st)
{
	if (st->dir == NULL)
		return NULL;
	return copy_file(st->dir, "fake", self_path, 0755);
}

static int
fake_fetch(struct state *st, const char *what, const char *proxy,
    const unsigned char *req, size_t reqlen, long long budget,
    unsigned char **resp, size_t *resplen, struct certauth_reason *reason)
{
	char *helper = fake_helper(st), *url = NULL;
	int r;

	if (helper == NULL)
		skip();
	assert_true(asprintf(&url, "http://fake.invalid/%s", what) > 0);
	r = fetch(helper, url, proxy, req, reqlen, budget, resp, resplen,
	    reason);
	free(url);
	free(helper);
	return r;
}

/*
 * The child's world: argv, an empty environment, only fds 0-2, its own
 * session, nobody; as root also its own limits and priority, whatever
 * this process set for itself.
 */
static void
test_child_setup(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	char *text = NULL, want_uid[80];
	struct passwd *pw;
	struct rlimit nofile, cpu, low;
	int leak = open("/dev/null", O_RDONLY);	/* not close-on-exec */

	assert_true(leak >= 0);
	if (st->dir == NULL) {
		close(leak);
		skip();
	}
	/*
	 * A caller of su lowering its soft limits and its priority (the
	 * hard limits too in tests/e2e/hostile.py: this process could not
	 * raise them back without CAP_SYS_RESOURCE).
	 */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &nofile), 0);
	assert_int_equal(getrlimit(RLIMIT_CPU, &cpu), 0);
	low = nofile;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	low = cpu;
	low.rlim_cur = 100;
	assert_int_equal(setrlimit(RLIMIT_CPU, &low), 0);
	assert_int_equal(setpriority(PRIO_PROCESS, 0, 7), 0);
	assert_int_equal(fake_fetch(st, "describe", "http://proxy.invalid:3128",
	    st->req, REQ_LEN, 5000, &resp, &resplen, &reason), 0);
	assert_int_equal(setpriority(PRIO_PROCESS, 0, 0), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &nofile), 0);
	assert_int_equal(setrlimit(RLIMIT_CPU, &cpu), 0);
	close(leak);
	text = strndup((char *)resp, resplen);
	assert_non_null(text);
	print_message("# child: %s", text);
	assert_non_null(strstr(text, "argc=6 "));
	assert_non_null(strstr(text, "argv=certauth-ocsp-fetch|--timeout-ms|"
	    "5000|"));
	assert_non_null(strstr(text, "|--proxy|http://proxy.invalid:3128|"
	    "http://fake.invalid/describe\n"));
	assert_non_null(strstr(text, "env=0\n"));
	assert_non_null(strstr(text, "fds=0,1,2\n"));
	assert_non_null(strstr(text, "stdin-bytes=300\n"));
	assert_non_null(strstr(text, "stdin-match=1\n"));
	assert_non_null(strstr(text, "sigpipe=default\n"));
	assert_non_null(strstr(text, "sigmask=empty\n"));
	assert_non_null(strstr(text, "session=own tty=none\n"));
	if (geteuid() == 0) {
		pw = getpwnam("nobody");
		assert_non_null(pw);
		snprintf(want_uid, sizeof(want_uid),
		    "uid=%d,%d gid=%d,%d groups=0\n", (int)pw->pw_uid,
		    (int)pw->pw_uid, (int)pw->pw_gid, (int)pw->pw_gid);
		assert_non_null(strstr(text, want_uid));
		/* Raised to the hard limit where root lacks the capability
		 * to raise that too (in a container). */
		assert_true(strstr(text, "nofile=1024 ") != NULL ||
		    nofile.rlim_max < 1024);
		assert_non_null(strstr(text, " fsize=unlimited cpu=unlimited "));
		assert_non_null(strstr(text, " core=0\n"));
		assert_non_null(strstr(text, "nice=0 policy=other\n"));
	}
	free(text);
	free(resp);
	assert_no_children();
}

/* A helper that never reports is killed at budget + margin: a local
 * failure, never "unreachable". */
static void
test_helper_hangs_killed(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	long long t0, elapsed;
	const char *modes[] = { "hang", "close-and-hang" };
	size_t i;

	for (i = 0; i < 2; i++) {
		t0 = certauth_now_ms();
		assert_int_equal(fake_fetch(st, modes[i], NULL, st->req,
		    REQ_LEN, 800, &resp, &resplen, &reason),
		    CERTAUTH_ERR_INTERNAL);
		elapsed = certauth_now_ms() - t0;
		assert_true(elapsed >= 800 + CERTAUTH_FETCH_MARGIN_MS - 100);
		assert_true(elapsed <= 800 + CERTAUTH_FETCH_MARGIN_MS +
		    SLACK_MS);
		assert_non_null(strstr(reason.text, "gave no report within"));
		assert_int_equal(last_spent, 0);
		assert_null(resp);
		assert_no_children();
	}
}

/* What each kind of ending and report gives. */
static void
test_helper_reports(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	const struct {
		const char *what;
		int want;
		const char *says;
	} cases[] = {
		/* No report: whatever the exit code, it is local. */
		{ "exit/0", CERTAUTH_ERR_INTERNAL, "exited with code 0" },
		{ "exit/3", CERTAUTH_ERR_INTERNAL, "exited with code 3" },
		{ "exit/4", CERTAUTH_ERR_INTERNAL, "exited with code 4" },
		{ "exit/125", CERTAUTH_ERR_INTERNAL, "cannot set up" },
		{ "exit/126", CERTAUTH_ERR_INTERNAL, "cannot drop" },
		{ "exit/127", CERTAUTH_ERR_INTERNAL, "cannot execute" },
		{ "segv", CERTAUTH_ERR_INTERNAL, "killed by signal 11" },
		/* Reports. */
		{ "report/0", CERTAUTH_ERR_FORMAT, "empty answer" },
		{ "report/1", CERTAUTH_ERR_INTERNAL, "failed (code 1)" },
		{ "report/2", CERTAUTH_ERR_INTERNAL, "failed (code 2)" },
		{ "report/3", CERTAUTH_ERR_UNREACHABLE, "cannot reach" },
		{ "report/4", CERTAUTH_ERR_UNREACHABLE, "HTTP error" },
		{ "report/5", CERTAUTH_ERR_FORMAT, "larger than 64 KiB" },
		{ "report/99", CERTAUTH_ERR_INTERNAL, "failed (code 99)" },
		/* Reports that are not one. */
		{ "garbage", CERTAUTH_ERR_INTERNAL, "malformed report" },
		{ "no-newline", CERTAUTH_ERR_INTERNAL, "malformed report" },
		{ "short-body", CERTAUTH_ERR_INTERNAL, "malformed report" },
		{ "long-body", CERTAUTH_ERR_INTERNAL, "malformed report" },
		{ "control-text", CERTAUTH_ERR_INTERNAL, "malformed report" },
		{ "body-on-error", CERTAUTH_ERR_INTERNAL, "malformed report" },
		{ "huge-ms", CERTAUTH_ERR_INTERNAL, "malformed report" },
		{ "two-reports", CERTAUTH_ERR_INTERNAL, "malformed report" },
		{ "flood", CERTAUTH_ERR_INTERNAL, "more than a report" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(fake_fetch(st, cases[i].what, NULL, st->req,
		    REQ_LEN, 5000, &resp, &resplen, &reason), cases[i].want);
		if (strstr(reason.text, cases[i].says) == NULL)
			fail_msg("%s: reason '%s' lacks '%s'", cases[i].what,
			    reason.text, cases[i].says);
		assert_null(resp);
		assert_int_equal(resplen, 0);
		assert_no_children();
	}
}

/* A whole report counts however the helper ends afterwards: killed,
 * or lingering until the backstop and then killed. */
static void
test_report_then_crash(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	const char *modes[] = { "ok-then-segv", "ok-then-linger" };
	size_t i;

	for (i = 0; i < 2; i++) {
		assert_int_equal(fake_fetch(st, modes[i], NULL, st->req,
		    REQ_LEN, 300, &resp, &resplen, &reason), 0);
		assert_int_equal(resplen, 2);
		assert_memory_equal(resp, "ok", 2);
		free(resp);
		resp = NULL;
		assert_no_children();
	}
}

/* The time taken from the budget is the helper's own account, never more
 * than the budget. */
static void
test_spent_is_reported_time(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;

	assert_int_equal(fake_fetch(st, "ok-after-200", NULL, st->req,
	    REQ_LEN, 5000, &resp, &resplen, &reason), 0);
	assert_int_equal(last_spent, 200);
	free(resp);
	resp = NULL;
	assert_int_equal(fake_fetch(st, "ok-claims-long", NULL, st->req,
	    REQ_LEN, 700, &resp, &resplen, &reason), 0);
	assert_int_equal(last_spent, 700);
	free(resp);
	assert_no_children();
}

/* Sends SIGSTOP to the test process after delay_ms and SIGCONT after
 * stop_ms more; returns the stopper's pid. */
static pid_t
start_stopper(long delay_ms, long stop_ms)
{
	pid_t me = getpid(), pid = fork();
	struct timespec d = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
	struct timespec s = { stop_ms / 1000, (stop_ms % 1000) * 1000000L };

	assert_true(pid >= 0);
	if (pid == 0) {
		nanosleep(&d, NULL);
		kill(me, SIGSTOP);
		nanosleep(&s, NULL);
		kill(me, SIGCONT);
		_exit(0);
	}
	return pid;
}

/*
 * The host is stopped while the helper runs, until long past the budget
 * and the margin.  An answer the helper delivered meanwhile is used; a
 * helper that gave none is a local failure, never "unreachable".
 */
static void
test_stopped_host(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	long long t0;
	pid_t stopper;

	if (st->dir == NULL)
		skip();
	t0 = certauth_now_ms();
	stopper = start_stopper(100, STOP_MS);
	assert_int_equal(fake_fetch(st, "ok-after-200", NULL, st->req,
	    REQ_LEN, 300, &resp, &resplen, &reason), 0);
	assert_true(certauth_now_ms() - t0 >= STOP_MS);
	assert_int_equal(resplen, 2);
	assert_memory_equal(resp, "ok", 2);
	free(resp);
	resp = NULL;
	assert_int_equal(waitpid(stopper, NULL, 0), stopper);

	/* A report larger than the pipe holds: the helper is still
	 * blocked writing its end when the host comes back. */
	stopper = start_stopper(100, STOP_MS);
	assert_int_equal(fake_fetch(st, "big-after-200", NULL, st->req,
	    REQ_LEN, 300, &resp, &resplen, &reason), 0);
	assert_int_equal(resplen, CERTAUTH_OCSP_BODY_MAX);
	free(resp);
	resp = NULL;
	assert_int_equal(waitpid(stopper, NULL, 0), stopper);

	stopper = start_stopper(100, STOP_MS);
	assert_int_equal(fake_fetch(st, "hang", NULL, st->req, REQ_LEN, 300,
	    &resp, &resplen, &reason), CERTAUTH_ERR_INTERNAL);
	assert_non_null(strstr(reason.text, "gave no report within"));
	assert_int_equal(waitpid(stopper, NULL, 0), stopper);
	assert_no_children();
}

static volatile sig_atomic_t reaped;

static void
reap_all(int sig)
{
	int e = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		reaped++;
	errno = e;
}

/* A host that reaps every child in its SIGCHLD handler, the helper
 * included: the answer is in the report, not in the exit status. */
static void
test_sigchld_handler_host(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	struct server *s = start_server(st, SERVE_OK, 0);
	char *url = url_of(s->port);
	unsigned char *resp = NULL;
	size_t resplen = 0;
	struct sigaction sa, old;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = reap_all;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGCHLD, &sa, &old), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(fetch(helper_path, url, NULL, st->req,
		    REQ_LEN, 5000, &resp, &resplen, &reason), 0);
		assert_int_equal(resplen, BODY_LEN);
		free(resp);
		resp = NULL;
	}
	/* The host reaps a helper that exits at once without a report:
	 * still a local failure, never "unreachable". */
	if (st->dir != NULL) {
		assert_int_equal(fake_fetch(st, "exit/3", NULL, st->req,
		    REQ_LEN, 5000, &resp, &resplen, &reason),
		    CERTAUTH_ERR_INTERNAL);
		assert_null(resp);
	}
	print_message("# the host's handler reaped %d helpers\n", (int)reaped);
	assert_int_equal(sigaction(SIGCHLD, &old, NULL), 0);
	free(url);
}

struct thread_arg {
	const struct state *st;
	const char *url;
	int r;
	size_t len;
};

static void *
fetch_thread(void *p)
{
	struct thread_arg *a = p;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	int i;

	for (i = 0; i < 5 && a->r == 0; i++) {
		a->r = certauth_fetch_ocsp(helper_path, a->url, NULL,
		    a->st->req, REQ_LEN, 5000, NULL, &resp, &resplen,
		    &reason);
		a->len = resplen;
		free(resp);
		resp = NULL;
	}
	return NULL;
}

/* Two threads fetching at once, five times each, in a host whose
 * SIGCHLD is ignored: each reaps its own helper. */
static void
test_two_threads(void **state)
{
	struct state *st = *state;
	struct server *s1 = start_server(st, SERVE_OK, 0);
	struct server *s2 = start_server(st, SERVE_OK, 0);
	struct thread_arg a[2];
	pthread_t t[2];
	char *u1 = url_of(s1->port), *u2 = url_of(s2->port);
	int i;

	signal(SIGCHLD, SIG_IGN);
	memset(a, 0, sizeof(a));
	a[0].st = a[1].st = st;
	a[0].url = u1;
	a[1].url = u2;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fetch_thread,
		    &a[i]), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].r, 0);
		assert_int_equal(a[i].len, BODY_LEN);
	}
	signal(SIGCHLD, SIG_DFL);
	free(u1);
	free(u2);
}

/* A helper that exits without reading a large request: EPIPE on our
 * side, never SIGPIPE (which would end this process). */
static void
test_helper_ignores_stdin(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL, *big = calloc(1, 4 * 1024 * 1024);
	size_t resplen = 0;

	assert_non_null(big);
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(fake_fetch(st, "noread", NULL, big, 4 * 1024 * 1024,
	    5000, &resp, &resplen, &reason), 0);
	assert_int_equal(resplen, 2);
	assert_memory_equal(resp, "ok", 2);
	free(resp);
	free(big);
	assert_no_children();
}

/* ---------------------------------------------- the fake helper itself */

/* One record (fetch.h) on stdout, as the real helper writes it. */
static void
fake_report(int code, long long ms, const void *body, size_t len,
    const char *text)
{
	char line[CERTAUTH_FETCH_LINE_MAX];
	int n;

	n = snprintf(line, sizeof(line), CERTAUTH_FETCH_MAGIC " %d %lld %zu "
	    "%s\n", code, ms, len, text);
	(void)write_full(1, line, (size_t)n);
	if (len > 0)
		(void)write_full(1, body, len);
}

/* Report the child's world, after head (its argv line). */
static void
describe(const char *head)
{
	unsigned char buf[4096], want[REQ_LEN];
	char out[8192];
	size_t len = 0, o = 0;
	ssize_t n;
	sigset_t mask;
	struct sigaction sa;
	struct rlimit rl[5];
	const int res[5] = { RLIMIT_NOFILE, RLIMIT_FSIZE, RLIMIT_CPU,
	    RLIMIT_NPROC, RLIMIT_CORE };
	char lim[5][24];
	gid_t groups[64];
	int fd, first = 1, ngroups, sig, masked = 0, i, tty;
	char **e;
	int nenv = 0;

	while ((n = read(0, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	fill_pattern(want, REQ_LEN, 1);
	for (e = environ; e != NULL && *e != NULL; e++)
		nenv++;
	o += (size_t)snprintf(out + o, sizeof(out) - o, "%senv=%d\nfds=", head,
	    nenv);
	for (fd = 0; fd < 1024; fd++) {
		if (fcntl(fd, F_GETFD) >= 0) {
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "%s%d", first ? "" : ",", fd);
			first = 0;
		}
	}
	ngroups = getgroups(64, groups);
	sigprocmask(SIG_SETMASK, NULL, &mask);
	for (sig = 1; sig < 32; sig++)
		if (sigismember(&mask, sig) == 1)
			masked = 1;
	sigaction(SIGPIPE, NULL, &sa);
	for (i = 0; i < 5; i++) {
		getrlimit(res[i], &rl[i]);
		if (rl[i].rlim_cur == RLIM_INFINITY)
			snprintf(lim[i], sizeof(lim[i]), "unlimited");
		else
			snprintf(lim[i], sizeof(lim[i]), "%llu",
			    (unsigned long long)rl[i].rlim_cur);
	}
	tty = open("/dev/tty", O_RDONLY | O_NOCTTY);
	o += (size_t)snprintf(out + o, sizeof(out) - o,
	    "\nuid=%d,%d gid=%d,%d groups=%d\nstdin-bytes=%zu\n"
	    "stdin-match=%d\nsigpipe=%s\nsigmask=%s\nsession=%s tty=%s\n"
	    "nofile=%s fsize=%s cpu=%s nproc=%s core=%s\n"
	    "nice=%d policy=%s\n",
	    (int)getuid(), (int)geteuid(), (int)getgid(), (int)getegid(),
	    ngroups, len,
	    len == REQ_LEN && memcmp(buf, want, REQ_LEN) == 0,
	    sa.sa_handler == SIG_DFL ? "default" : "changed",
	    masked ? "blocked" : "empty",
	    getsid(0) == getpid() ? "own" : "shared",
	    tty >= 0 ? "yes" : "none", lim[0], lim[1], lim[2], lim[3],
	    lim[4], getpriority(PRIO_PROCESS, 0),
	    sched_getscheduler(0) == SCHED_OTHER ? "other" : "changed");
	fake_report(0, 1, out, o, "described");
}

/*
 * Run as "certauth-ocsp-fetch --timeout-ms N [--proxy P] URL": behave as
 * the last path component of URL says.
 */
static int
fake_helper_main(int argc, char **argv)
{
	const char *url = argv[argc - 1], *what;
	char head[1024];
	size_t o = 0;
	int i;
	static unsigned char flood[1024 * 1024];

	what = strrchr(url, '/');
	what = what == NULL ? url : what + 1;
	if (strncmp(url, "http://fake.invalid/exit/", 25) == 0)
		return atoi(url + 25);
	if (strncmp(url, "http://fake.invalid/report/", 27) == 0) {
		fake_report(atoi(url + 27), 5, NULL, 0, "as told");
		return 0;
	}
	if (strcmp(what, "describe") == 0) {
		o += (size_t)snprintf(head + o, sizeof(head) - o, "argc=%d argv=",
		    argc);
		for (i = 0; i < argc; i++)
			o += (size_t)snprintf(head + o, sizeof(head) - o, "%s%s",
			    i ? "|" : "", argv[i]);
		head[o++] = '\n';
		head[o] = '\0';
		describe(head);
		return 0;
	}
	if (strcmp(what, "hang") == 0) {
		for (;;)
			pause();
	}
	if (strcmp(what, "close-and-hang") == 0) {
		close(1);
		for (;;)
			pause();
	}
	if (strcmp(what, "segv") == 0) {
		/* Past a sanitizer's own handler, which would exit 1. */
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		return 0;
	}
	if (strcmp(what, "flood") == 0) {
		(void)write_full(1, flood, sizeof(flood));
		return 0;
	}
	if (strcmp(what, "garbage") == 0) {
		(void)write_full(1, "HTTP/1.1 200 OK\r\n\r\nok", 21);
		return 0;
	}
	if (strcmp(what, "no-newline") == 0) {
		(void)write_full(1, CERTAUTH_FETCH_MAGIC " 0 1 2 x", 18);
		return 0;
	}
	if (strcmp(what, "short-body") == 0) {
		/* Claims 10 bytes, sends 2. */
		(void)write_full(1, CERTAUTH_FETCH_MAGIC " 0 1 10 x\nok", 20);
		return 0;
	}
	if (strcmp(what, "long-body") == 0) {
		fake_report(0, 1, "okok", 4, "x");
		(void)write_full(1, "more", 4);
		return 0;
	}
	if (strcmp(what, "control-text") == 0) {
		fake_report(3, 1, NULL, 0, "refused\033[2J");
		return 0;
	}
	if (strcmp(what, "body-on-error") == 0) {
		fake_report(3, 1, "ok", 2, "refused");
		return 0;
	}
	if (strcmp(what, "huge-ms") == 0) {
		(void)write_full(1, CERTAUTH_FETCH_MAGIC " 3 99999999999 0 x\n",
		    31);
		return 0;
	}
	if (strcmp(what, "two-reports") == 0) {
		fake_report(3, 1, NULL, 0, "refused");
		fake_report(0, 1, "ok", 2, "fine");
		return 0;
	}
	if (strcmp(what, "ok-then-segv") == 0) {
		fake_report(0, 1, "ok", 2, "fine");
		/* Past a sanitizer's own handler, which would exit 1. */
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		return 0;
	}
	if (strcmp(what, "ok-then-linger") == 0) {
		fake_report(0, 1, "ok", 2, "fine");
		close(1);
		for (;;)
			pause();
	}
	if (strcmp(what, "ok-after-200") == 0) {
		nap(200);
		fake_report(0, 200, "ok", 2, "fine");
		return 0;
	}
	if (strcmp(what, "big-after-200") == 0) {
		nap(200);
		fake_report(0, 200, flood, CERTAUTH_OCSP_BODY_MAX, "fine");
		return 0;
	}
	if (strcmp(what, "ok-claims-long") == 0) {
		fake_report(0, 5000, "ok", 2, "fine");
		return 0;
	}
	if (strcmp(what, "noread") == 0) {
		close(0);
		fake_report(0, 1, "ok", 2, "fine");
		return 0;
	}
	return 99;
}

/* ------------------------------------------------- the cgroup freezer */

/* A helper's timeout: the network's here, unless a user may freeze this
 * process. */
static void
test_timeout_report(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	int r;

	r = fake_fetch(st, "report/6", NULL, st->req, REQ_LEN, 5000, &resp,
	    &resplen, &reason);
	assert_timeout_verdict(r, &reason);
	assert_non_null(strstr(reason.text, "http://fake.invalid/report/6"));
	assert_null(resp);
	assert_no_children();
}

static int
write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = write_full(fd, text, strlen(text));
	close(fd);
	return r;
}

/* Move process pid into the cgroup at dir. */
static int
move_to(const char *dir, pid_t pid)
{
	char *procs = tu_path(dir, "cgroup.procs"), num[24];
	int r;

	snprintf(num, sizeof(num), "%d", (int)pid);
	r = write_text(procs, num);
	free(procs);
	return r;
}

/* The mount point of the v2 hierarchy, or of a v1 freezer hierarchy,
 * mounted at its root; malloc'd, or NULL. */
static char *
cgroup_mount(int v2)
{
	FILE *fp = fopen("/proc/self/mountinfo", "re");
	char line[8192], root[PATH_MAX], mnt[PATH_MAX], type[64], opts[1024];
	char *dash, *found = NULL;

	while (fp != NULL && found == NULL &&
	    fgets(line, sizeof(line), fp) != NULL) {
		if ((dash = strstr(line, " - ")) == NULL ||
		    sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(dash, " - %63s %*s %1023s", type, opts) != 2)
			continue;
		if (strcmp(root, "/") == 0 &&
		    strcmp(type, v2 ? "cgroup2" : "cgroup") == 0 &&
		    (v2 || strstr(opts, "freezer") != NULL))
			found = strdup(mnt);
	}
	if (fp != NULL)
		fclose(fp);
	return found;
}

/* This process's cgroup path in the v2 or the v1 freezer hierarchy,
 * malloc'd, or NULL. */
static char *
own_cgroup(int v2)
{
	FILE *fp = fopen("/proc/self/cgroup", "re");
	char line[4096], *ctl, *path, *found = NULL;

	while (fp != NULL && found == NULL &&
	    fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((ctl = strchr(line, ':')) == NULL ||
		    (path = strchr(ctl + 1, ':')) == NULL)
			continue;
		*ctl++ = '\0';
		*path++ = '\0';
		if (v2 ? strcmp(line, "0") == 0 && *ctl == '\0' :
		    strstr(ctl, "freezer") != NULL)
			found = strdup(path);
	}
	if (fp != NULL)
		fclose(fp);
	return found;
}

static char *
freeze_control(const struct state *st)
{
	return tu_path(st->cg_child, st->cg_v2 ? "cgroup.freeze" :
	    "freezer.state");
}

/*
 * As root: move this process into a new cgroup below its own in the v2
 * hierarchy (v2 nonzero) or a v1 freezer hierarchy; st keeps both for
 * leave_test_cgroup().  Returns the new cgroup's freeze control
 * (malloc'd), or NULL where that cannot be done here.
 */
static char *
enter_test_cgroup(struct state *st, int v2)
{
	char *mnt = NULL, *path = NULL, *ctl = NULL, name[64];

	if (geteuid() != 0 || (mnt = cgroup_mount(v2)) == NULL ||
	    (path = own_cgroup(v2)) == NULL)
		goto out;
	assert_true(asprintf(&st->cg_orig, "%s%s", mnt,
	    strcmp(path, "/") == 0 ? "" : path) > 0);
	snprintf(name, sizeof(name), "certauth-test-%d", (int)getpid());
	st->cg_child = tu_path(st->cg_orig, name);
	st->cg_v2 = v2;
	if (mkdir(st->cg_child, 0755) != 0) {
		print_message("# cannot make %s: %s\n", st->cg_child,
		    strerror(errno));
		free(st->cg_child);
		st->cg_child = NULL;
		goto out;
	}
	ctl = freeze_control(st);
	if (access(ctl, F_OK) != 0 || move_to(st->cg_child, getpid()) != 0) {
		print_message("# cannot use %s: %s\n", ctl, strerror(errno));
		free(ctl);
		ctl = NULL;
		leave_test_cgroup(st);
	}
 out:
	if (st->cg_child == NULL) {
		free(st->cg_orig);
		st->cg_orig = NULL;
	}
	free(mnt);
	free(path);
	return ctl;
}

/* Thaw the test's cgroup, move this process back and remove it. */
static void
leave_test_cgroup(struct state *st)
{
	char *ctl;

	if (st->cg_child == NULL)
		return;
	ctl = freeze_control(st);
	(void)write_text(ctl, st->cg_v2 ? "0" : "THAWED");
	if (move_to(st->cg_orig, getpid()) != 0 || rmdir(st->cg_child) != 0)
		print_message("# cannot leave %s: %s\n", st->cg_child,
		    strerror(errno));
	free(ctl);
	free(st->cg_child);
	free(st->cg_orig);
	st->cg_child = st->cg_orig = NULL;
}

/*
 * A timeout report, then one of a network failure (what a frozen helper
 * sees of a resolver timing out or an idle connection reset), each with a
 * reason that holds want and names file.
 */
static void
assert_refused_timeout(struct state *st, const char *want, const char *file)
{
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	const char *what[] = { "report/6", "report/3" };
	char head[128];
	size_t i;

	for (i = 0; i < 2; i++) {
		assert_int_equal(fake_fetch(st, what[i], NULL, st->req,
		    REQ_LEN, 5000, &resp, &resplen, &reason),
		    CERTAUTH_ERR_INTERNAL);
		print_message("# %s\n", reason.text);
		snprintf(head, sizeof(head), "OCSP responder "
		    "http://fake.invalid/%s: as told, but this process's "
		    "cgroup /", what[i]);
		assert_non_null(strstr(reason.text, head));
		assert_non_null(strstr(reason.text, want));
		assert_non_null(strstr(reason.text, file));
		assert_non_null(strstr(reason.text, ": not taken as the "
		    "network's"));
	}
}

/*
 * As root, in a cgroup of the test's own: a freeze control or a
 * cgroup.procs that user nobody owns, or that is group-writable, makes a
 * timeout a local failure; back to root's, the timeout is the network's.
 * In each hierarchy that can be written here.
 */
static void
test_freezable_cgroup(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	char *ctl, *procs;
	int v2, r, tested = 0, at_root = in_root_cgroups();

	if (st->dir == NULL) {
		print_message("# needs root\n");
		skip();
	}
	for (v2 = 0; v2 < 2; v2++) {
		if ((ctl = enter_test_cgroup(st, v2)) == NULL)
			continue;
		tested++;
		procs = tu_path(st->cg_child, "cgroup.procs");
		assert_int_equal(chown(ctl, NOBODY, NOBODY), 0);
		assert_refused_timeout(st, "can be frozen by uid 65534", ctl);
		assert_int_equal(chown(ctl, 0, 0), 0);
		assert_int_equal(chmod(ctl, 0664), 0);
		assert_refused_timeout(st, "by its group or others", ctl);
		assert_int_equal(chmod(ctl, 0644), 0);
		assert_int_equal(chown(procs, NOBODY, NOBODY), 0);
		assert_refused_timeout(st, "can be frozen by uid 65534", procs);
		assert_int_equal(chown(procs, 0, 0), 0);
		/* The control: everything root's again. */
		r = fake_fetch(st, "report/6", NULL, st->req, REQ_LEN, 5000,
		    &resp, &resplen, &reason);
		if (at_root) {
			assert_int_equal(r, CERTAUTH_ERR_UNREACHABLE);
			assert_non_null(strstr(reason.text, "cannot reach"));
		} else {
			assert_timeout_verdict(r, &reason);
			assert_null(strstr(reason.text, st->cg_child));
		}
		leave_test_cgroup(st);
		free(procs);
		free(ctl);
	}
	if (tested == 0) {
		print_message("# no cgroup2 or v1 freezer hierarchy that this "
		    "test may make a cgroup in (needs root)\n");
		skip();
	}
}

/* Freezes the test's cgroup from outside it once the server has the
 * request, thaws it FREEZE_MS later; returns its pid. */
static pid_t
start_freezer(const struct state *st, const char *ctl, int notify)
{
	struct pollfd pfd = { notify, POLLIN, 0 };
	pid_t pid = fork();
	char c;

	assert_true(pid >= 0);
	if (pid != 0)
		return pid;
	if (move_to(st->cg_orig, getpid()) != 0 || poll(&pfd, 1, 5000) != 1 ||
	    read(notify, &c, 1) != 1 ||
	    write_text(ctl, st->cg_v2 ? "1" : "FROZEN") != 0)
		_exit(1);
	nap(FREEZE_MS);
	_exit(write_text(ctl, st->cg_v2 ? "0" : "THAWED") != 0);
}

/*
 * A real freeze: the test process and the real helper frozen, from
 * outside their cgroup, from the moment the server has the request until
 * past the helper's timeout, while the answer waits in the helper's
 * socket.  Thawed, libcurl either reads the answer or (about half the
 * time here) reports its timeout first; the module takes the timeout for
 * the network's only while the freeze control is root's.
 */
static void
test_frozen_helper(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	struct server *s;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	char *url, *ctl, c;
	int notify[2], status, nobody, r, at_root = in_root_cgroups();
	pid_t freezer;

	assert_int_equal(pipe2(notify, O_CLOEXEC), 0);
	s = start_server(st, SERVE_LATE, notify[1]);
	close(notify[1]);
	url = url_of(s->port);
	/* Unfrozen, the answer comes in time. */
	assert_int_equal(fetch(helper_path, url, NULL, st->req, REQ_LEN,
	    FROZEN_BUDGET_MS, &resp, &resplen, &reason), 0);
	assert_int_equal(resplen, 4);
	assert_memory_equal(resp, "late", 4);
	free(resp);
	resp = NULL;
	assert_int_equal(read(notify[0], &c, 1), 1);
	if ((ctl = enter_test_cgroup(st, 0)) == NULL &&
	    (ctl = enter_test_cgroup(st, 1)) == NULL) {
		close(notify[0]);
		free(url);
		print_message("# no cgroup2 or v1 freezer hierarchy that this "
		    "test may make a cgroup in (needs root)\n");
		skip();
	}
	for (nobody = 0; nobody < 2; nobody++) {
		assert_int_equal(chown(ctl, nobody ? NOBODY : 0,
		    nobody ? NOBODY : 0), 0);
		freezer = start_freezer(st, ctl, notify[0]);
		r = fetch(helper_path, url, NULL, st->req, REQ_LEN,
		    FROZEN_BUDGET_MS, &resp, &resplen, &reason);
		assert_int_equal(waitpid(freezer, &status, 0), freezer);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		print_message("# frozen, %s's control: %s\n",
		    nobody ? "nobody" : "root", r == 0 ? "the answer was "
		    "read" : reason.text);
		assert_int_equal(last_spent, FROZEN_BUDGET_MS);
		if (r == 0) {
			assert_int_equal(resplen, 4);
			assert_memory_equal(resp, "late", 4);
			free(resp);
			resp = NULL;
		} else if (nobody) {
			assert_int_equal(r, CERTAUTH_ERR_INTERNAL);
			assert_non_null(strstr(reason.text, ", but this "
			    "process's cgroup "));
			assert_non_null(strstr(reason.text, "by uid 65534"));
		} else if (at_root) {
			assert_int_equal(r, CERTAUTH_ERR_UNREACHABLE);
			assert_non_null(strstr(reason.text, "Operation timed "
			    "out"));
		}
	}
	leave_test_cgroup(st);
	close(notify[0]);
	free(ctl);
	free(url);
}

/* Hide /proc. */
static int
hide_proc(void)
{
	return mount("none", "/proc", "tmpfs", 0, NULL);
}

/* Unmount every cgroup hierarchy. */
static int
unmount_cgroups(void)
{
	char *m;

	while ((m = cgroup_mount(0)) != NULL || (m = cgroup_mount(1)) != NULL) {
		if (umount2(m, MNT_DETACH) != 0) {
			free(m);
			return -1;
		}
		free(m);
	}
	return 0;
}

/*
 * The verdict on a timeout report in a child with a mount namespace of
 * its own, after prep() there.  Returns nonzero where no such namespace
 * can be had.
 */
static int
verdict_in_namespace(struct state *st, int (*prep)(void), int *r,
    struct certauth_reason *reason)
{
	struct {
		int r;
		struct certauth_reason reason;
	} got;
	unsigned char *resp = NULL;
	size_t resplen = 0, len = 0;
	ssize_t n;
	int p[2], status;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		memset(&got, 0, sizeof(got));
		got.r = 1;
		if (unshare(CLONE_NEWNS) == 0 &&
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
		    prep() == 0)
			got.r = fake_fetch(st, "report/6", NULL, st->req,
			    REQ_LEN, 5000, &resp, &resplen, &got.reason);
		_exit(write_full(p[1], &got, sizeof(got)) != 0);
	}
	close(p[1]);
	while ((n = read(p[0], (char *)&got + len, sizeof(got) - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(len, sizeof(got));
	*r = got.r;
	*reason = got.reason;
	return got.r == 1;
}

/*
 * What cannot be looked at: /proc hidden fails closed; no cgroup
 * hierarchy mounted is fine in the root cgroups and fails closed in the
 * test's own.
 */
static void
test_timeout_cannot_tell(void **state)
{
	struct state *st = *state;
	struct certauth_reason reason;
	char *ctl;
	int r = 0;

	if (st->dir == NULL || geteuid() != 0 ||
	    verdict_in_namespace(st, hide_proc, &r, &reason) != 0) {
		print_message("# needs root and a mount namespace\n");
		skip();
	}
	print_message("# /proc hidden: %s\n", reason.text);
	assert_int_equal(r, CERTAUTH_ERR_INTERNAL);
	assert_non_null(strstr(reason.text, ", but cannot tell whether this "
	    "process can be frozen (/proc/thread-self/cgroup: "));
	if (in_root_cgroups() &&
	    verdict_in_namespace(st, unmount_cgroups, &r, &reason) == 0) {
		assert_int_equal(r, CERTAUTH_ERR_UNREACHABLE);
		assert_non_null(strstr(reason.text, "cannot reach"));
	}
	if ((ctl = enter_test_cgroup(st, 0)) == NULL &&
	    (ctl = enter_test_cgroup(st, 1)) == NULL)
		return;
	assert_int_equal(verdict_in_namespace(st, unmount_cgroups, &r,
	    &reason), 0);
	print_message("# no cgroup mounted: %s\n", reason.text);
	assert_int_equal(r, CERTAUTH_ERR_INTERNAL);
	assert_non_null(strstr(reason.text, " mount shows its cgroup /"));
	assert_non_null(strstr(reason.text, strrchr(st->cg_child, '/')));
	leave_test_cgroup(st);
	free(ctl);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_byte_exact, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_body_exactly_max, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_body_one_over_max, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_big_with_length, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_big_without_length, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_404, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirect_not_followed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_server_deadline,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_listening, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_env_proxy_ignored, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_helper_clears_own_env,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_proxy_argument_used, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sigchld_ignored_by_host,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_passed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_helper, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_helper_copy_safe, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_helper_group_writable,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_setuid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_helper_not_root_owned,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_helper_symlink_and_unsafe_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_setup, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_helper_hangs_killed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_helper_reports, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_report_then_crash, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_spent_is_reported_time,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_host, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sigchld_handler_host,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_threads, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_helper_ignores_stdin,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_timeout_code,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_report, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_freezable_cgroup, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_frozen_helper, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout_cannot_tell,
		    setup, teardown),
	};

	if (argc >= 3 && strcmp(argv[1], "--timeout-ms") == 0)
		return fake_helper_main(argc, argv);
	if (realpath(argv[0], self_path) == NULL) {
		fprintf(stderr, "cannot resolve %s\n", argv[0]);
		return 1;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
