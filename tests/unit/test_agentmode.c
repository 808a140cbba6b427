/*
 * test_agentmode.c - agent mode's own parts: the agent= option, the
 * checks on the socket's path (symbolic links, owners, modes, length,
 * type) on a scratch directory, connecting as the user with the server's
 * uid checked, and the answer source's refusals and its fallback under
 * agent=try.  Then whole logins (certauth_login with a mini-PKI) answered
 * by a fake agent run as the user (tests/common/fakeagent.h): a good
 * signature, another key's, garbage, a 1 GiB length, silence, a revoked
 * certificate whose key the agent holds, and what agent=try falls back
 * on and what it must not (docs/PROTOCOL.md, "Agent mode").  The real
 * sudo and su, real and hostile agents: tests/e2e/agentmode.py.
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

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_answer.h"
#include "agentsock.h"
#include "auth.h"
#include "certauth.h"
#include "ctx.h"
#include "fakeagent.h"
#include "options.h"
#include "pki.h"
#include "sshagent.h"
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
	assert_string_equal(why.text,
	    "option agent: 'yes' is not a valid value");
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
	snprintf(buf, sizeof(buf),
	    "directory %s is writable by group or others", s->adir);
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
typed(void *arg, const char *challenge, const struct certauth_bound *bound,
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
	struct certauth_bound b;
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
	memset(&b, 0, sizeof(b));
	b.r = bound != NULL ? 0 : CERTAUTH_ERR_NOT_FOUND;
	b.certs = bound;
	r = src.answer(src.arg, "certauth:v1:h:s:alice:1:n", &b, resp, why);
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

/* ------------------------------------------------- logins through an agent */

struct login_fixture {
	char *dir;
	struct tu_pki pki;
	struct certauth_opts opts;
	uid_t uid;
	struct tu_agent agent;
	int agent_up;
	char log[8192]; /* every line, "<priority> line\n" */
	int typed;	/* the conversation's calls */
};

static void
keep_all(void *arg, int priority, const char *line)
{
	struct login_fixture *f = arg;
	size_t used = strlen(f->log);

	snprintf(f->log + used, sizeof(f->log) - used, "<%d> %s\n", priority,
	    line);
}

static int
login_setup(void **state)
{
	struct login_fixture *f = calloc(1, sizeof(*f));
	const struct tu_pki_opts pki = { .ca_cn = "Agent CA",
		.user_cn = "alice",
		.other_key_type = "P-256" };

	if ((f->dir = tu_safe_tmpdir()) == NULL) {
		free(f);
		*state = NULL;
		return 0;
	}
	f->uid = test_uid();
	tu_pki_make(&f->pki, &pki);
	tu_pki_write(&f->pki, f->dir);
	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	certauth_opts_init(&f->opts);
	f->opts.ca_file = strdup(f->pki.ca_file);
	f->opts.bindings_dir = strdup(f->pki.bindings_dir);
	f->opts.crl = CERTAUTH_CRL_OFF;
	f->opts.challenge_ttl = 2;
	f->opts.agent = CERTAUTH_AGENT_ONLY;
	*state = f;
	return 0;
}

static void
agent_down(struct login_fixture *f)
{
	if (f->agent_up)
		tu_agent_stop(&f->agent);
	f->agent_up = 0;
}

static int
login_teardown(void **state)
{
	struct login_fixture *f = *state;

	if (f == NULL)
		return 0;
	agent_down(f);
	certauth_opts_free(&f->opts);
	tu_pki_free(&f->pki);
	tu_remove_tree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* The agent of script s, run as the user in a directory of the user's. */
static void
agent_up(struct login_fixture *f, const struct tu_agent_script *s)
{
	agent_down(f);
	tu_agent_start(&f->agent, s, f->dir, f->uid, (gid_t)f->uid);
	f->agent_up = 1;
}

/* A script that lists key and signs with signer. */
static void
script_well(struct tu_agent_script *s, EVP_PKEY *const *key, EVP_PKEY *signer)
{
	memset(s, 0, sizeof(*s));
	s->list = TU_AGENT_WELL;
	s->sign = TU_AGENT_WELL;
	s->listed = key;
	s->nlisted = 1;
	s->signer = signer;
}

/* The conversation: alice types a good answer. */
static int
typed_good(void *arg, const char *challenge, const struct certauth_bound *bound,
    char **response, struct certauth_reason *why)
{
	struct login_fixture *f = arg;

	(void)bound;
	(void)why;
	f->typed++;
	*response = tu_sign_b64(f->pki.user_key, NULL, 0, challenge);
	return 0;
}

/* One login of alice under mode with SSH_AUTH_SOCK sock (NULL: the
 * agent's); *ms: how long it took. */
static int
agent_login(struct login_fixture *f, int mode, const char *sock, long long *ms)
{
	struct certauth_log lg = { keep_all, f, 0 };
	struct certauth_answer_source conv = { "conversation", 0, typed_good,
		f };
	struct certauth_answer_source src;
	struct certauth_agent_answer aa;
	struct certauth_request req = { "alice", 1, "svc" };
	struct certauth_ctx c;
	long long t0 = certauth_now_ms();
	int r;

	f->opts.agent = mode;
	memset(&aa, 0, sizeof(aa));
	aa.opts = &f->opts;
	aa.lg = &lg;
	aa.user = "alice";
	aa.sock = sock != NULL ? sock : f->agent.path;
	aa.uid = f->uid;
	aa.gid = (gid_t)f->uid;
	aa.fallback = &conv;
	certauth_agent_answer_source(&aa, &src);
	certauth_ctx_init(&c, &f->opts, &lg);
	f->log[0] = '\0';
	f->typed = 0;
	r = certauth_login(&c, &req, &src);
	if (ms != NULL)
		*ms = certauth_now_ms() - t0;
	return r;
}

/* The log holds line (at priority). */
static void
logged(const struct login_fixture *f, int priority, const char *line)
{
	char want[1200];

	snprintf(want, sizeof(want), "<%d> %s\n", priority, line);
	if (strstr(f->log, want) == NULL)
		fail_msg("no line %s in:\n%s", want, f->log);
}

static struct login_fixture *
need_login(void **state)
{
	if (*state == NULL)
		skip();
	return *state;
}

/* The SHA256: fingerprint of key as ssh-keygen -l shows it. */
static void
fingerprint(EVP_PKEY *key, char *fp, size_t size)
{
	struct certauth_reason why;
	unsigned char *blob = NULL;
	size_t len = 0;

	assert_int_equal(certauth_sshkey_blob(key, &blob, &len, &why), 0);
	certauth_sshkey_fingerprint(blob, len, fp, size);
	free(blob);
}

static void
test_login_agent_good(void **state)
{
	struct login_fixture *f = need_login(state);
	struct tu_agent_script s;
	char fp[CERTAUTH_AGENT_FP_CHARS], line[1024];
	int mode;

	script_well(&s, &f->pki.user_key, f->pki.user_key);
	agent_up(f, &s);
	fingerprint(f->pki.user_key, fp, sizeof(fp));
	for (mode = CERTAUTH_AGENT_TRY; mode <= CERTAUTH_AGENT_ONLY; mode++) {
		assert_int_equal(agent_login(f, mode, NULL, NULL), 0);
		snprintf(line, sizeof(line),
		    "user alice: the answer comes from the ssh-agent at %s of "
		    "uid %lu, key %s (bound certificate 1 of 1)",
		    f->agent.path, (unsigned long)f->uid, fp);
		logged(f, LOG_INFO, line);
		assert_non_null(strstr(f->log,
		    "user alice authenticated with certificate"));
		assert_int_equal(f->typed, 0);
	}
}

/* A refusal under both modes: code, reason, and no conversation. */
static void
refused_both(struct login_fixture *f, int want, const char *reason,
    long long max_ms)
{
	char line[1200];
	long long ms = 0;
	int mode;

	snprintf(line, sizeof(line), "user alice refused: agent mode: %s",
	    reason);
	for (mode = CERTAUTH_AGENT_TRY; mode <= CERTAUTH_AGENT_ONLY; mode++) {
		assert_int_equal(agent_login(f, mode, NULL, &ms), want);
		logged(f, LOG_NOTICE, line);
		assert_int_equal(f->typed, 0);
		assert_null(strstr(f->log, "asking through"));
		assert_null(strstr(f->log, "authenticated"));
		assert_true(ms < max_ms);
	}
}

static void
test_login_agent_other_key(void **state)
{
	struct login_fixture *f = need_login(state);
	struct tu_agent_script s;
	char reason[600];

	/* It lists alice's key, then signs with another. */
	script_well(&s, &f->pki.user_key, f->pki.other_key);
	agent_up(f, &s);
	snprintf(reason, sizeof(reason),
	    "the ssh-agent at %s: ssh-agent signature does not verify with "
	    "the key asked for: ECDSA signature (sha256) does not verify",
	    f->agent.path);
	refused_both(f, CERTAUTH_ERR_BAD_SIGNATURE, reason, 2000);
}

static void
test_login_agent_hostile(void **state)
{
	struct login_fixture *f = need_login(state);
	struct tu_agent_script s;
	char reason[600];
	long long ms = 0;

	/* Garbage for a listing. */
	memset(&s, 0, sizeof(s));
	s.list = s.sign = TU_AGENT_CANNED;
	memcpy(s.canned.b, "\0\0\0\x07\xfe garbage", 11);
	s.canned.n = 11;
	agent_up(f, &s);
	snprintf(reason, sizeof(reason),
	    "the ssh-agent at %s: ssh-agent answered a key listing with "
	    "message 254",
	    f->agent.path);
	refused_both(f, CERTAUTH_ERR_FORMAT, reason, 2000);
	/* A reply of 1 GiB announced to a sign request. */
	script_well(&s, &f->pki.user_key, f->pki.user_key);
	s.sign = TU_AGENT_CANNED;
	tu_w_u32(&s.canned, 0x40000000u);
	tu_w_u8(&s.canned, 14);
	agent_up(f, &s);
	snprintf(reason, sizeof(reason),
	    "the ssh-agent at %s: ssh-agent reply of 1073741824 bytes (the "
	    "limit is 262144)",
	    f->agent.path);
	refused_both(f, CERTAUTH_ERR_TOO_LONG, reason, 2000);
	/* Silence after the listing: the login ends at its deadline
	 * (challenge_ttl, 2 s), not later. */
	script_well(&s, &f->pki.user_key, f->pki.user_key);
	s.sign = TU_AGENT_SILENT;
	agent_up(f, &s);
	snprintf(reason, sizeof(reason),
	    "the ssh-agent at %s: ssh-agent: no answer in time", f->agent.path);
	refused_both(f, CERTAUTH_ERR_UNREACHABLE, reason, 3500);
	assert_int_equal(agent_login(f, CERTAUTH_AGENT_ONLY, NULL, &ms),
	    CERTAUTH_ERR_UNREACHABLE);
	assert_true(ms >= 1900);
}

/* The key is in the agent and signs well; the CRL refuses. */
static void
test_login_agent_revoked(void **state)
{
	struct login_fixture *f = need_login(state);
	struct tu_agent_script s;
	X509_CRL *crl;
	int mode;

	crl = tu_make_crl(f->pki.ca, f->pki.ca_key, &f->pki.user, 1);
	f->opts.crl_file = tu_path(f->dir, "ca.crl");
	f->opts.crl = CERTAUTH_CRL_LEAF;
	tu_write_crl(f->opts.crl_file, crl);
	X509_CRL_free(crl);
	script_well(&s, &f->pki.user_key, f->pki.user_key);
	agent_up(f, &s);
	for (mode = CERTAUTH_AGENT_TRY; mode <= CERTAUTH_AGENT_ONLY; mode++) {
		assert_int_equal(agent_login(f, mode, NULL, NULL),
		    CERTAUTH_ERR_REVOKED);
		assert_non_null(strstr(f->log,
		    "user alice: the answer comes from the ssh-agent at"));
		logged(f, LOG_NOTICE,
		    "user alice refused: certificate revoked (CRL)");
		assert_int_equal(f->typed, 0);
	}
}

/* try: asks through the conversation, which logs in, for no usable agent. */
static void
falls_back(struct login_fixture *f, const char *sock, const char *reason)
{
	char line[1200];

	assert_int_equal(agent_login(f, CERTAUTH_AGENT_TRY, sock, NULL), 0);
	assert_int_equal(f->typed, 1);
	snprintf(line, sizeof(line),
	    "user alice: agent mode: %s; asking through the conversation",
	    reason);
	logged(f, LOG_INFO, line);
	assert_non_null(strstr(f->log, "user alice authenticated"));
	/* only: the same refused, no prompt. */
	assert_int_not_equal(agent_login(f, CERTAUTH_AGENT_ONLY, sock, NULL),
	    0);
	assert_int_equal(f->typed, 0);
	snprintf(line, sizeof(line), "user alice refused: agent mode: %s",
	    reason);
	logged(f, LOG_NOTICE, line);
}

static void
test_login_agent_fallback(void **state)
{
	struct login_fixture *f = need_login(state);
	struct tu_agent_script s;
	char reason[600], path[400];

	/* An agent without a key bound to alice. */
	script_well(&s, &f->pki.other_key, f->pki.other_key);
	agent_up(f, &s);
	snprintf(reason, sizeof(reason),
	    "the ssh-agent at %s holds no key of a certificate bound to "
	    "alice (1 bound)",
	    f->agent.path);
	falls_back(f, NULL, reason);
	/* Its socket left behind, nobody listening. */
	assert_int_equal(kill(-f->agent.pid, SIGKILL), 0);
	assert_int_equal(waitpid(f->agent.pid, NULL, 0), f->agent.pid);
	f->agent.pid = 0;
	f->agent_up = 0;
	snprintf(path, sizeof(path), "%s", f->agent.path);
	snprintf(reason, sizeof(reason),
	    "cannot reach the ssh-agent at %s: Connection refused", path);
	falls_back(f, path, reason);
	/* Nothing at the path. */
	assert_int_equal(unlink(path), 0);
	snprintf(reason, sizeof(reason), "%s does not exist", path);
	falls_back(f, path, reason);
}

/* Which connect(2) errors mean no agent (try may ask instead). */
static void
test_absent(void **state)
{
	static const int absent[] = { ENOENT, ECONNREFUSED, EACCES, EPERM,
		ENOTDIR, ELOOP, ENOTSOCK, EPROTOTYPE };
	static const int local[] = { ENOBUFS, ENOMEM, EMFILE, ENFILE, EINTR,
		EAGAIN, EIO, EBADF, ETIMEDOUT };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		assert_true(certauth_agent_absent(absent[i]));
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		assert_false(certauth_agent_absent(local[i]));
}

/*
 * A failure on this side is not a missing agent: with no descriptor left
 * for the socket pair, try refuses as only does, and says why.
 */
static void
test_login_agent_local_fault(void **state)
{
	struct login_fixture *f = need_login(state);
	struct certauth_log lg = { keep_all, f, 0 };
	struct certauth_answer_source conv = { "conversation", 0, typed_good,
		f };
	struct certauth_answer_source src;
	struct certauth_agent_answer aa;
	struct certauth_reason why;
	struct tu_agent_script s;
	STACK_OF(X509) *bound = sk_X509_new_null();
	struct certauth_bound b;
	struct rlimit old, low;
	char *resp = NULL;
	int mode, fd, r;

	script_well(&s, &f->pki.user_key, f->pki.user_key);
	agent_up(f, &s);
	assert_true(sk_X509_push(bound, X509_dup(f->pki.user)) > 0);
	memset(&b, 0, sizeof(b));
	b.certs = bound;
	memset(&aa, 0, sizeof(aa));
	aa.opts = &f->opts;
	aa.lg = &lg;
	aa.user = "alice";
	aa.sock = f->agent.path;
	aa.uid = f->uid;
	aa.gid = (gid_t)f->uid;
	aa.fallback = &conv;
	certauth_agent_answer_source(&aa, &src);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	for (mode = CERTAUTH_AGENT_TRY; mode <= CERTAUTH_AGENT_ONLY; mode++) {
		f->opts.agent = mode;
		f->typed = 0;
		f->log[0] = '\0';
		/* The lowest free descriptor is the last one allowed. */
		assert_true((fd = dup(0)) >= 0);
		close(fd);
		low = old;
		low.rlim_cur = (rlim_t)fd + 1;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
		r = src.answer(src.arg, "certauth:v1:h:s:alice:1:n", &b, &resp,
		    &why);
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
		assert_int_equal(r, CERTAUTH_ERR_INTERNAL);
		assert_null(resp);
		assert_string_equal(why.text,
		    "agent mode: cannot make a socket pair: Too many open "
		    "files");
		assert_int_equal(f->typed, 0);
		assert_null(strstr(f->log, "asking through"));
	}
	sk_X509_pop_free(bound, X509_free);
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
		cmocka_unit_test_setup_teardown(test_login_agent_good,
		    login_setup, login_teardown),
		cmocka_unit_test_setup_teardown(test_login_agent_other_key,
		    login_setup, login_teardown),
		cmocka_unit_test_setup_teardown(test_login_agent_hostile,
		    login_setup, login_teardown),
		cmocka_unit_test_setup_teardown(test_login_agent_revoked,
		    login_setup, login_teardown),
		cmocka_unit_test_setup_teardown(test_login_agent_fallback,
		    login_setup, login_teardown),
		cmocka_unit_test(test_absent),
		cmocka_unit_test_setup_teardown(test_login_agent_local_fault,
		    login_setup, login_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
