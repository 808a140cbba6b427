/*
 * test_agentmode.c - agent mode's own parts: the agent= option, the
 * checks on the socket's path (symbolic links, owners, modes, length,
 * type) on a scratch directory, connecting as the user with the server's
 * uid checked, and the answer source's refusals and its fallback under
 * agent=try.  The real sudo and su, real and hostile agents:
 * tests/e2e/agentmode.py.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_answer.h"
#include "agentsock.h"
#include "certauth.h"
#include "options.h"
#include "testutil.h"

struct scratch {
	char *dir;  /* 0755, root's or this process's */
	char *adir; /* <dir>/agent, 0700, the user's */
	char *sock; /* <adir>/sock, a listening socket */
	uid_t uid;
	int lfd;
};

/* The user the checks are for: this process's uid, or nobody's when it
 * is root (a test run as root must still test a user's socket). */
static uid_t
test_uid(void)
{
	return getuid() != 0 ? getuid() : 65534;
}

static int
setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));
	struct sockaddr_un sa;

	if ((s->dir = tu_safe_tmpdir()) == NULL) {
		free(s);
		*state = NULL;
		return 0;
	}
	s->uid = test_uid();
	s->adir = tu_path(s->dir, "agent");
	s->sock = tu_path(s->adir, "sock");
	assert_int_equal(mkdir(s->adir, 0700), 0);
	assert_int_equal(chown(s->adir, s->uid, (gid_t)-1), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->sock);
	assert_true((s->lfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(chown(s->sock, s->uid, (gid_t)-1), 0);
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	struct scratch *s = *state;

	if (s == NULL)
		return 0;
	close(s->lfd);
	tu_remove_tree(s->dir);
	free(s->dir);
	free(s->adir);
	free(s->sock);
	free(s);
	return 0;
}

static struct scratch *
need(void **state)
{
	if (*state == NULL)
		skip();
	return *state;
}

/* certauth_agentsock_check's code and reason for path. */
static void
check_is(const char *path, uid_t uid, int want, const char *reason)
{
	struct certauth_reason why;

	memset(&why, 0, sizeof(why));
	assert_int_equal(certauth_agentsock_check(path, uid, &why), want);
	if (reason != NULL)
		assert_string_equal(why.text, reason);
}

static void
test_option(void **state)
{
	struct certauth_opts o;
	struct certauth_reason why;

	(void)state;
	certauth_opts_init(&o);
	assert_int_equal(o.agent, CERTAUTH_AGENT_OFF);
	assert_int_equal(certauth_opts_set(&o, "agent", "try", &why), 0);
	assert_int_equal(o.agent, CERTAUTH_AGENT_TRY);
	assert_int_equal(certauth_opts_set(&o, "agent", "only", &why), 0);
	assert_int_equal(o.agent, CERTAUTH_AGENT_ONLY);
	assert_int_equal(certauth_opts_set(&o, "agent", "off", &why), 0);
	assert_int_equal(o.agent, CERTAUTH_AGENT_OFF);
	assert_int_equal(certauth_opts_set(&o, "agent", "yes", &why),
	    CERTAUTH_ERR_CONFIG);
	assert_string_equal(why.text, "option agent: 'yes' is not a valid value");
	assert_int_equal(certauth_opts_set(&o, "agent", "", &why),
	    CERTAUTH_ERR_CONFIG);
	assert_string_equal(why.text,
	    "option agent cannot be unset: give off, try or only");
	assert_int_equal(certauth_opts_set(&o, "agent", NULL, &why),
	    CERTAUTH_ERR_CONFIG);
	assert_string_equal(why.text, "option agent needs a value");
	certauth_opts_free(&o);
}

static void
test_check_good(void **state)
{
	struct scratch *s = need(state);

	check_is(s->sock, s->uid, 0, NULL);
}

static void
test_check_refusals(void **state)
{
	struct scratch *s = need(state);
	char buf[256], *link, *file;

	check_is("agent.sock", s->uid, CERTAUTH_ERR_UNSAFE,
	    "SSH_AUTH_SOCK agent.sock is not an absolute path");
	memset(buf, 'a', sizeof(buf));
	buf[0] = '/';
	buf[sizeof(buf) - 1] = '\0';
	check_is(buf, s->uid, CERTAUTH_ERR_TOO_LONG,
	    "SSH_AUTH_SOCK is longer than a socket address holds (107 bytes)");
	snprintf(buf, sizeof(buf), "%s/../agent/sock", s->adir);
	check_is(buf, s->uid, CERTAUTH_ERR_UNSAFE, NULL);
	/* Another user's socket. */
	snprintf(buf, sizeof(buf), "socket %s", s->sock);
	check_is(s->sock, s->uid + 1, CERTAUTH_ERR_UNSAFE, NULL);
	/* A symbolic link to the socket, in the user's own directory. */
	link = tu_path(s->adir, "link");
	assert_int_equal(symlink(s->sock, link), 0);
	snprintf(buf, sizeof(buf), "%s is a symbolic link", link);
	check_is(link, s->uid, CERTAUTH_ERR_UNSAFE, buf);
	/* Not a socket. */
	file = tu_path(s->adir, "file");
	tu_write_file(file, "x", 0600);
	assert_int_equal(chown(file, s->uid, (gid_t)-1), 0);
	snprintf(buf, sizeof(buf), "%s is not a socket", file);
	check_is(file, s->uid, CERTAUTH_ERR_UNSAFE, buf);
	/* Nothing there. */
	snprintf(buf, sizeof(buf), "%s/none", s->adir);
	check_is(buf, s->uid, CERTAUTH_ERR_NOT_FOUND, NULL);
	/* The socket's directory writable by others. */
	assert_int_equal(chmod(s->adir, 0777), 0);
	snprintf(buf, sizeof(buf), "directory %s is writable by group or others",
	    s->adir);
	check_is(s->sock, s->uid, CERTAUTH_ERR_UNSAFE, buf);
	assert_int_equal(chmod(s->adir, 0700), 0);
	free(link);
	free(file);
}

/* Owners need root to set up. */
static void
test_check_owners(void **state)
{
	struct scratch *s = need(state);
	char buf[512];

	if (getuid() != 0)
		skip();
	assert_int_equal(chown(s->sock, 0, (gid_t)-1), 0);
	snprintf(buf, sizeof(buf),
	    "ssh-agent socket %s is owned by uid 0, not uid %lu", s->sock,
	    (unsigned long)s->uid);
	check_is(s->sock, s->uid, CERTAUTH_ERR_UNSAFE, buf);
	assert_int_equal(chown(s->sock, s->uid, (gid_t)-1), 0);
	assert_int_equal(chown(s->adir, 0, (gid_t)-1), 0);
	snprintf(buf, sizeof(buf),
	    "directory %s of the ssh-agent socket is owned by uid 0, not uid "
	    "%lu",
	    s->adir, (unsigned long)s->uid);
	check_is(s->sock, s->uid, CERTAUTH_ERR_UNSAFE, buf);
	assert_int_equal(chown(s->adir, s->uid, (gid_t)-1), 0);
	assert_int_equal(chown(s->dir, s->uid + 1, (gid_t)-1), 0);
	snprintf(buf, sizeof(buf),
	    "directory %s is owned by uid %lu, neither root nor uid %lu",
	    s->dir, (unsigned long)s->uid + 1, (unsigned long)s->uid);
	check_is(s->sock, s->uid, CERTAUTH_ERR_UNSAFE, buf);
	assert_int_equal(chown(s->dir, 0, (gid_t)-1), 0);
}

/*
 * Connecting as the user: the socket's server here is this process
 * (root, or the user itself), so as root the server's uid is refused;
 * otherwise it connects.
 */
static void
test_connect_peer(void **state)
{
	struct scratch *s = need(state);
	struct certauth_agent *a = NULL;
	struct certauth_reason why;
	char want[512];
	int r;

	r = certauth_agentsock_connect(s->sock, s->uid, (gid_t)s->uid,
	    certauth_now_ms() + 2000, &a, &why);
	if (getuid() != 0) {
		assert_int_equal(r, 0);
		certauth_agent_close(a);
		return;
	}
	assert_int_equal(r, CERTAUTH_ERR_UNSAFE);
	assert_null(a);
	snprintf(want, sizeof(want),
	    "the ssh-agent at %s runs as uid 0, not uid %lu", s->sock,
	    (unsigned long)s->uid);
	assert_string_equal(why.text, want);
	/* Nothing listening: unreachable, said so. */
	close(s->lfd);
	s->lfd = -1;
	assert_int_equal(certauth_agentsock_connect(s->sock, s->uid,
			     (gid_t)s->uid, certauth_now_ms() + 2000, &a, &why),
	    CERTAUTH_ERR_UNREACHABLE);
	snprintf(want, sizeof(want),
	    "cannot reach the ssh-agent at %s: Connection refused", s->sock);
	assert_string_equal(why.text, want);
}

/* ------------------------------------------------------- answer source */

struct fallback {
	int calls;
};

static int
typed(void *arg, const char *challenge, STACK_OF(X509) *bound,
    char **response, struct certauth_reason *why)
{
	struct fallback *fb = arg;

	(void)challenge;
	(void)bound;
	(void)why;
	fb->calls++;
	*response = strdup("typed");
	return 0;
}

struct logbuf {
	char last[1024];
};

static void
keep_line(void *arg, int priority, const char *line)
{
	struct logbuf *lb = arg;

	(void)priority;
	snprintf(lb->last, sizeof(lb->last), "%s", line);
}

/* One answer from the agent source set up with mode, uid and sock. */
static int
answer(int mode, uid_t uid, const char *sock, STACK_OF(X509) *bound,
    struct fallback *fb, struct logbuf *lb, char **resp,
    struct certauth_reason *why)
{
	struct certauth_opts o;
	struct certauth_log lg = { keep_line, lb, 0 };
	struct certauth_answer_source conv = { "conversation", 0, typed, fb };
	struct certauth_answer_source src;
	struct certauth_agent_answer aa;
	int r;

	certauth_opts_init(&o);
	o.agent = mode;
	o.challenge_ttl = 2;
	memset(&aa, 0, sizeof(aa));
	aa.opts = &o;
	aa.lg = &lg;
	aa.user = "alice";
	aa.sock = sock;
	aa.uid = uid;
	aa.gid = (gid_t)uid;
	aa.fallback = &conv;
	certauth_agent_answer_source(&aa, &src);
	memset(why, 0, sizeof(*why));
	lb->last[0] = '\0';
	*resp = NULL;
	r = src.answer(src.arg, "certauth:v1:h:s:alice:1:n", bound, resp, why);
	certauth_opts_free(&o);
	return r;
}

static void
test_answer_no_agent(void **state)
{
	struct fallback fb = { 0 };
	struct logbuf lb;
	struct certauth_reason why;
	STACK_OF(X509) *bound = sk_X509_new_null();
	EVP_PKEY *k = tu_keygen("P-256");
	struct tu_cert_opts co = { "alice", -1, 30, 0, NULL, NULL, 0 };
	X509 *cert = tu_make_cert(k, &co, NULL, k);
	char *resp = NULL;

	(void)state;
	assert_true(sk_X509_push(bound, cert) > 0);
	/* Real uid 0: only refuses, try asks the conversation. */
	assert_int_equal(answer(CERTAUTH_AGENT_ONLY, 0, "/tmp/x", bound, &fb,
			     &lb, &resp, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_string_equal(why.text,
	    "agent mode: the real uid is 0 (root): no ssh-agent speaks for it");
	assert_int_equal(fb.calls, 0);
	assert_null(resp);
	assert_int_equal(answer(CERTAUTH_AGENT_TRY, 0, "/tmp/x", bound, &fb,
			     &lb, &resp, &why),
	    0);
	assert_int_equal(fb.calls, 1);
	assert_string_equal(resp, "typed");
	assert_string_equal(lb.last,
	    "user alice: agent mode: the real uid is 0 (root): no ssh-agent "
	    "speaks for it; asking through the conversation");
	free(resp);
	/* Nothing at the socket's path. */
	assert_int_equal(answer(CERTAUTH_AGENT_ONLY, 4242,
			     "/nonexistent-dir/sock", bound, &fb, &lb, &resp,
			     &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_string_equal(why.text,
	    "agent mode: /nonexistent-dir does not exist");
	assert_int_equal(answer(CERTAUTH_AGENT_TRY, 4242,
			     "/nonexistent-dir/sock", bound, &fb, &lb, &resp,
			     &why),
	    0);
	assert_int_equal(fb.calls, 2);
	free(resp);
	/* No certificate bound: nothing the agent could sign with. */
	assert_int_equal(answer(CERTAUTH_AGENT_ONLY, 4242, "/tmp/x", NULL, &fb,
			     &lb, &resp, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_string_equal(why.text,
	    "agent mode: no certificate is bound to alice");
	sk_X509_pop_free(bound, X509_free);
	EVP_PKEY_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option),
		cmocka_unit_test_setup_teardown(test_check_good, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_check_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_check_owners, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_connect_peer, setup,
		    teardown),
		cmocka_unit_test(test_answer_no_agent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
