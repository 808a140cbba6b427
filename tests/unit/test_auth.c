/*
 * test_auth.c - the login decision: order of checks, one log line per
 * decision, and every way a login fails.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "auth.h"
#include "certauth.h"
#include "options.h"
#include "pki.h"
#include "testutil.h"

#define CHALLENGE \
	"certauth:v1:host1:sshd:alice:1790000000:" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

struct fixture {
	char *dir;
	struct tu_pki pki; /* "Test CA", alice's, another key: P-256 */
	X509 *expired;	   /* alice's key, expired a month ago */
	struct certauth_opts opts;
	struct certauth_log lg;
	int lines;
	int warnings; /* lines expected before the decision's */
	char last[1024];
	int last_priority;
	char all[4096]; /* every line, "<priority> line\n" */
};

static void
capture(void *arg, int priority, const char *line)
{
	struct fixture *f = arg;

	size_t used = strlen(f->all);

	f->lines++;
	f->last_priority = priority;
	snprintf(f->last, sizeof(f->last), "%s", line);
	snprintf(f->all + used, sizeof(f->all) - used, "<%d> %s\n", priority,
	    line);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const struct tu_pki_opts pki = { .ca_cn = "Test CA",
		.user_cn = "alice",
		.other_key_type = "P-256" };
	struct tu_cert_opts old_opts = tu_user_opts("alice");

	if (f == NULL)
		return -1;
	if ((f->dir = tu_safe_tmpdir()) == NULL) {
		/* not root, or an unsafe build path: each test skips */
		free(f);
		*state = NULL;
		return 0;
	}
	tu_pki_make(&f->pki, &pki);
	old_opts.not_before_days = -400;
	old_opts.not_after_days = -35;
	f->expired = tu_make_cert(f->pki.user_key, &old_opts, f->pki.ca,
	    f->pki.ca_key);
	tu_pki_write(&f->pki, f->dir);
	certauth_opts_init(&f->opts);
	f->opts.ca_file = strdup(f->pki.ca_file);
	f->opts.bindings_dir = strdup(f->pki.bindings_dir);
	f->opts.crl = CERTAUTH_CRL_OFF;
	f->lg.emit = capture;
	f->lg.arg = f;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	certauth_opts_free(&f->opts);
	tu_pki_free(&f->pki);
	X509_free(f->expired);
	free(f->dir);
	free(f);
	return 0;
}

/* The fixture, or skip the test when setup could not make one. */
static struct fixture *
need(void **state)
{
	if (*state == NULL)
		skip();
	return *state;
}

/* Decide login as the module does: the binding sources first. */
static int
decide(struct fixture *f, struct certauth_login *login,
    struct certauth_outcome *outcome)
{
	struct certauth_bound b;
	struct certauth_ctx c;
	int r;

	certauth_ctx_init(&c, &f->opts, &f->lg);
	memset(&b, 0, sizeof(b));
	b.r = CERTAUTH_ERR_NOT_FOUND;
	if (login->user_known)
		(void)certauth_bound_lookup(&c, login->user, &b);
	login->bound = &b;
	r = certauth_authenticate(&c, login);
	*outcome = c.outcome;
	login->bound = NULL;
	certauth_bound_clear(&b);
	return r;
}

/* Run one decision with a response signed by key over CHALLENGE. */
static int
run(struct fixture *f, EVP_PKEY *key, const char *response, long delay)
{
	struct certauth_login login;
	struct certauth_outcome outcome;
	char *sig = key != NULL ? tu_sign_b64(key, NULL, 0, CHALLENGE) : NULL;
	int r;

	memset(&login, 0, sizeof(login));
	login.user = "alice";
	login.user_known = 1;
	login.challenge = CHALLENGE;
	login.issued = time(NULL);
	login.answered = login.issued + delay;
	login.response = sig != NULL ? sig : response;
	f->lines = 0;
	f->all[0] = '\0';
	r = decide(f, &login, &outcome);
	/* one line for every decision, after any warnings */
	assert_int_equal(f->lines, 1 + f->warnings);
	if (r == 0) {
		char fp[CERTAUTH_FP_CHARS + 1];

		assert_int_equal(certauth_cert_fingerprint(f->pki.user, fp), 0);
		assert_string_equal(outcome.fingerprint, fp);
		assert_non_null(strstr(f->last, fp));
		assert_non_null(strstr(outcome.subject, "alice"));
	}
	free(sig);
	return r;
}

static void
test_success(void **state)
{
	struct fixture *f = need(state);

	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	assert_int_equal(run(f, f->pki.user_key, NULL, 0), 0);
	assert_non_null(strstr(f->last, "user alice authenticated"));
	assert_int_equal(f->last_priority, LOG_INFO);
}

static void
test_wrong_key(void **state)
{
	struct fixture *f = need(state);

	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	assert_int_equal(run(f, f->pki.other_key, NULL, 0),
	    CERTAUTH_ERR_BAD_SIGNATURE);
	assert_non_null(strstr(f->last,
	    "signature does not verify with any of 1 bound certificate"));
}

static void
test_second_binding_matches(void **state)
{
	struct fixture *f = need(state);
	struct tu_cert_opts o = tu_user_opts("alice");
	X509 *certs[2];

	certs[0] = tu_make_cert(f->pki.other_key, &o, f->pki.ca, f->pki.ca_key);
	certs[1] = f->pki.user;
	tu_pki_bind(&f->pki, "alice", certs, 2);
	assert_int_equal(run(f, f->pki.user_key, NULL, 0), 0);
	assert_int_equal(run(f, f->pki.ca_key, NULL, 0),
	    CERTAUTH_ERR_BAD_SIGNATURE);
	assert_non_null(strstr(f->last, "any of 2 bound certificates"));
	X509_free(certs[0]);
}

static void
test_renewed_certificate_same_key(void **state)
{
	struct fixture *f = need(state);
	X509 *certs[2] = { f->expired, f->pki.user };

	/* The expired one verifies the signature first but fails the
	 * policy; the renewed one with the same key must still win. */
	tu_pki_bind(&f->pki, "alice", certs, 2);
	assert_int_equal(run(f, f->pki.user_key, NULL, 0), 0);
	tu_pki_bind(&f->pki, "alice", &f->expired, 1);
	assert_int_equal(run(f, f->pki.user_key, NULL, 0),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_non_null(strstr(f->last, "expired"));
}

static void
test_late_response(void **state)
{
	struct fixture *f = need(state);

	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	f->opts.challenge_ttl = 5;
	assert_int_equal(run(f, f->pki.user_key, NULL, 6),
	    CERTAUTH_ERR_EXPIRED);
	assert_non_null(strstr(f->last, "after 6 seconds"));
	assert_int_equal(run(f, f->pki.user_key, NULL, 5), 0);
	/* a clock that went backwards is not "in time" */
	assert_int_equal(run(f, f->pki.user_key, NULL, -1),
	    CERTAUTH_ERR_EXPIRED);
}

static void
test_bad_responses(void **state)
{
	struct fixture *f = need(state);
	char *big = malloc(5001);

	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	assert_non_null(big);
	memset(big, 'A', 5000);
	big[5000] = '\0';
	assert_int_equal(run(f, NULL, "", 0), CERTAUTH_ERR_FORMAT);
	assert_int_equal(run(f, NULL, "!!!not base64!!!", 0),
	    CERTAUTH_ERR_FORMAT);
	assert_int_equal(run(f, NULL, big, 0), CERTAUTH_ERR_TOO_LONG);
	assert_int_equal(run(f, NULL, "sha1:AAAA", 0),
	    CERTAUTH_ERR_DIGEST_REFUSED);
	/* valid base64 of the wrong bytes */
	assert_int_equal(run(f, NULL, "AAAAAAAAAAAAAAAA", 0),
	    CERTAUTH_ERR_BAD_SIGNATURE);
	assert_int_equal(run(f, NULL, NULL, 0), CERTAUTH_ERR_FORMAT);
	free(big);
}

static void
test_unknown_and_unbound_users(void **state)
{
	struct fixture *f = need(state);
	struct certauth_login login;
	struct certauth_outcome outcome;
	char *sig = tu_sign_b64(f->pki.user_key, NULL, 0, CHALLENGE);

	memset(&login, 0, sizeof(login));
	login.user = "nobody-bound";
	login.user_known = 1;
	login.challenge = CHALLENGE;
	login.issued = login.answered = time(NULL);
	login.response = sig;
	assert_int_equal(decide(f, &login, &outcome), CERTAUTH_ERR_NOT_FOUND);
	assert_string_equal(f->last,
	    "user nobody-bound refused: no "
	    "certificate bound to user nobody-bound");
	assert_int_equal(f->last_priority, LOG_NOTICE);
	login.user_known = 0;
	assert_int_equal(decide(f, &login, &outcome), CERTAUTH_ERR_NOT_FOUND);
	assert_non_null(strstr(f->last, "unknown user"));
	free(sig);
}

#define WRAPPED_HINT \
	"the answer is 64 characters, one line of base64 wrapped at 64 " \
	"columns: it must be pasted on one line (openssl base64 -A)"

/* Decide for user with response; user_known 0: not in passwd. */
static int
decide_as(struct fixture *f, const char *user, int user_known,
    const char *response, struct certauth_outcome *outcome)
{
	struct certauth_login login;

	memset(&login, 0, sizeof(login));
	login.user = user;
	login.user_known = user_known;
	login.challenge = CHALLENGE;
	login.issued = login.answered = time(NULL);
	login.response = response;
	return decide(f, &login, outcome);
}

/*
 * The first line of a wrapped answer: the log and the user are told so,
 * in place of a wrong key; the user's hint is the same whether the
 * account exists, is bound or not.
 */
static void
test_wrapped_answer(void **state)
{
	struct fixture *f = need(state);
	struct certauth_outcome bound, unbound, unknown;
	char *sig = tu_sign_b64(f->pki.user_key, NULL, 0, CHALLENGE);
	char first[65];

	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	snprintf(first, sizeof(first), "%.64s", sig);
	assert_int_equal(decide_as(f, "alice", 1, first, &bound),
	    CERTAUTH_ERR_BAD_SIGNATURE);
	assert_string_equal(f->last, "user alice refused: " WRAPPED_HINT);
	assert_string_equal(bound.hint.text, WRAPPED_HINT);
	assert_int_equal(decide_as(f, "nobody-bound", 1, first, &unbound),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_string_equal(unbound.hint.text, WRAPPED_HINT);
	assert_non_null(strstr(f->last,
	    "no certificate bound to user "
	    "nobody-bound; " WRAPPED_HINT));
	assert_int_equal(decide_as(f, "ghost", 0, first, &unknown),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_string_equal(f->last,
	    "user ghost refused: unknown user; " WRAPPED_HINT);
	assert_string_equal(unknown.hint.text, WRAPPED_HINT);
	/* A reason of the answer's own is kept, the hint after it. */
	snprintf(first, sizeof(first), "%.57s", sig);
	assert_int_equal(decide_as(f, "alice", 1, first, &bound),
	    CERTAUTH_ERR_FORMAT);
	assert_string_equal(f->last,
	    "user alice refused: response is not valid base64; the answer is "
	    "57 characters of base64, 42 bytes, a length no accepted "
	    "signature has: if it was cut short or broken over lines, paste "
	    "it whole, on one line (openssl base64 -A)");
	free(sig);
}

/* A whole answer needs no hint, whether it verifies or not. */
static void
test_whole_answer_no_hint(void **state)
{
	struct fixture *f = need(state);
	struct certauth_outcome out;
	char *sig = tu_sign_b64(f->pki.user_key, NULL, 0, CHALLENGE);
	char *other = tu_sign_b64(f->pki.other_key, NULL, 0, CHALLENGE);
	char spaced[256];

	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	assert_int_equal(decide_as(f, "alice", 1, other, &out),
	    CERTAUTH_ERR_BAD_SIGNATURE);
	assert_string_equal(out.hint.text, "");
	assert_non_null(strstr(f->last, "signature does not verify"));
	assert_int_equal(decide_as(f, "ghost", 0, other, &out),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_string_equal(out.hint.text, "");
	assert_string_equal(f->last, "user ghost refused: unknown user");
	/* White space inside a whole answer: it verifies. */
	snprintf(spaced, sizeof(spaced), "%.64s %s", sig, sig + 64);
	assert_int_equal(decide_as(f, "alice", 1, spaced, &out), 0);
	assert_string_equal(out.hint.text, "");
	free(sig);
	free(other);
}

/* A refusal after the signature verified says nothing of its shape. */
static void
test_verified_answer_no_hint(void **state)
{
	struct fixture *f = need(state);
	struct certauth_outcome out;
	char *sig = tu_sign_b64(f->pki.user_key, NULL, 0, CHALLENGE);

	tu_pki_bind(&f->pki, "alice", &f->expired, 1);
	assert_int_equal(decide_as(f, "alice", 1, sig, &out),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_string_equal(out.hint.text, "");
	free(sig);
}

static void
test_log_line_cannot_be_forged(void **state)
{
	struct fixture *f = need(state);
	struct certauth_login login;
	struct certauth_outcome outcome;

	memset(&login, 0, sizeof(login));
	login.user = "mallory\nuser alice authenticated\r\x1b[2J";
	login.user_known = 0;
	login.challenge = CHALLENGE;
	login.issued = login.answered = time(NULL);
	login.response = "AAAA";
	f->lines = 0;
	assert_int_not_equal(decide(f, &login, &outcome), 0);
	assert_int_equal(f->lines, 1);
	assert_null(strchr(f->last, '\n'));
	assert_null(strchr(f->last, '\r'));
	assert_null(strchr(f->last, '\x1b'));
	assert_non_null(strstr(f->last, "mallory\\x0auser alice"));
}

static void
test_trust_store_missing(void **state)
{
	struct fixture *f = need(state);

	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	free(f->opts.ca_file);
	f->opts.ca_file = tu_path(f->dir, "no-such-ca.pem");
	assert_int_equal(run(f, f->pki.user_key, NULL, 0),
	    CERTAUTH_ERR_TRUST_STORE);
	assert_int_equal(f->last_priority, LOG_ERR);
	/* a wrong signature never reaches the trust store */
	assert_int_equal(run(f, f->pki.other_key, NULL, 0),
	    CERTAUTH_ERR_BAD_SIGNATURE);
}

/* The root's CRL revoking n of revoked, dated last and next, as
 * crl_file; returns its path. */
static char *
use_crl(struct fixture *f, X509 **revoked, int n, time_t last, time_t next)
{
	X509_CRL *crl = tu_make_crl(f->pki.ca, f->pki.ca_key, revoked, n);

	tu_crl_set_dates(crl, f->pki.ca_key, last, next);
	free(f->opts.ca_file);
	free(f->opts.crl_file);
	f->opts.ca_file = strdup(f->pki.ca_file);
	f->opts.crl_file = tu_path(f->dir, "ca.crl");
	f->opts.crl = CERTAUTH_CRL_LEAF;
	tu_write_crl(f->opts.crl_file, crl);
	X509_CRL_free(crl);
	return f->opts.crl_file;
}

/* t as "YYYY-MM-DD HH:MM:SS UTC", computed here. */
static void
utc_of(time_t t, char out[24])
{
	struct tm tm;

	assert_non_null(gmtime_r(&t, &tm));
	assert_int_equal(strftime(out, 24, "%Y-%m-%d %H:%M:%S UTC", &tm), 23);
}

/*
 * A refusal of the user's own (wrong key, no binding, an unsafe file of
 * their own, a revoked certificate) is logged at LOG_NOTICE; a fault of
 * the host that fails every login alike (an unsafe bindings directory, a
 * CRL out of date) at LOG_ERR, with the same words.
 */
static void
test_host_fault_level(void **state)
{
	struct fixture *f = need(state);
	time_t now = time(NULL);
	char expect[2048], when[24], *file, *crl;

	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	assert_int_equal(run(f, f->pki.other_key, NULL, 0),
	    CERTAUTH_ERR_BAD_SIGNATURE);
	assert_int_equal(f->last_priority, LOG_NOTICE);

	/* A group-writable bindings file is alice's alone. */
	file = tu_path(f->pki.bindings_dir, "alice");
	assert_int_equal(chmod(file, 0664), 0);
	assert_int_equal(run(f, f->pki.user_key, NULL, 0), CERTAUTH_ERR_UNSAFE);
	snprintf(expect, sizeof(expect),
	    "user alice refused: bindings file "
	    "%s is group-writable",
	    file);
	assert_string_equal(f->last, expect);
	assert_int_equal(f->last_priority, LOG_NOTICE);
	assert_int_equal(chmod(file, 0644), 0);

	/* A group-writable bindings directory is everyone's. */
	assert_int_equal(chmod(f->pki.bindings_dir, 0775), 0);
	assert_int_equal(run(f, f->pki.user_key, NULL, 0), CERTAUTH_ERR_UNSAFE);
	snprintf(expect, sizeof(expect),
	    "user alice refused: directory %s is "
	    "group-writable",
	    f->pki.bindings_dir);
	assert_string_equal(f->last, expect);
	assert_int_equal(f->last_priority, LOG_ERR);
	assert_int_equal(chmod(f->pki.bindings_dir, 0755), 0);

	/* A CRL past its nextUpdate fails every login under its CA. */
	crl = use_crl(f, NULL, 0, now - 31 * 86400, now - 3600);
	utc_of(now - 3600, when);
	assert_int_equal(run(f, f->pki.user_key, NULL, 0),
	    CERTAUTH_ERR_CERT_INVALID);
	snprintf(expect, sizeof(expect),
	    "user alice refused: CRL in crl_file "
	    "%s (issuer CN=Test CA) expired at %s (its nextUpdate), beyond "
	    "crl_grace=0; install a newer CRL from that CA, or check this "
	    "host's clock",
	    crl, when);
	assert_string_equal(f->last, expect);
	assert_int_equal(f->last_priority, LOG_ERR);

	/* A revoked certificate is the user's. */
	use_crl(f, &f->pki.user, 1, now - 86400, now + 30 * 86400);
	assert_int_equal(run(f, f->pki.user_key, NULL, 0),
	    CERTAUTH_ERR_REVOKED);
	assert_string_equal(f->last,
	    "user alice refused: certificate revoked (CRL)");
	assert_int_equal(f->last_priority, LOG_NOTICE);

	free(file);
}

/* A CRL about to expire, or used under crl_grace: one LOG_WARNING line
 * before the decision, which is not changed by it. */
static void
test_crl_warning_lines(void **state)
{
	struct fixture *f = need(state);
	time_t now = time(NULL);
	char expect[4096], when[24], *crl;

	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	crl = use_crl(f, NULL, 0, now - 86400, now + 7200);
	utc_of(now + 7200, when);
	f->warnings = 1;
	assert_int_equal(run(f, f->pki.user_key, NULL, 0), 0);
	snprintf(expect, sizeof(expect),
	    "<%d> CRL in crl_file %s (issuer "
	    "CN=Test CA) expires at %s (its nextUpdate), in 7200 seconds "
	    "(about 2 hours); install a newer CRL from that CA before then\n"
	    "<%d> %s\n",
	    LOG_WARNING, crl, when, LOG_INFO, f->last);
	assert_string_equal(f->all, expect);
	assert_int_equal(f->last_priority, LOG_INFO);

	crl = use_crl(f, NULL, 0, now - 31 * 86400, now - 3600);
	utc_of(now - 3600, when);
	f->opts.crl_grace = 86400;
	assert_int_equal(run(f, f->pki.user_key, NULL, 0), 0);
	snprintf(expect, sizeof(expect),
	    "<%d> CRL in crl_file %s (issuer "
	    "CN=Test CA) expired at %s (its nextUpdate), 3600 seconds (about "
	    "60 minutes) ago; still used under crl_grace=86400, so "
	    "revocations published since are not seen: install a newer CRL "
	    "from that CA\n<%d> %s\n",
	    LOG_WARNING, crl, when, LOG_INFO, f->last);
	assert_string_equal(f->all, expect);
	f->warnings = 0;
}

static void
test_weak_key_refused(void **state)
{
	struct fixture *f = need(state);
	EVP_PKEY *weak = tu_keygen("RSA:1024");
	struct tu_cert_opts o = tu_user_opts("alice");
	X509 *cert = tu_make_cert(weak, &o, f->pki.ca, f->pki.ca_key);

	tu_pki_bind(&f->pki, "alice", &cert, 1);
	assert_int_equal(run(f, weak, NULL, 0), CERTAUTH_ERR_KEY_REFUSED);
	assert_non_null(strstr(f->last, "1024"));
	X509_free(cert);
	EVP_PKEY_free(weak);
}

/* ------------------------------------------------- the whole login */

/* An answer source that signs what it is shown, and notes the call. */
struct signer {
	EVP_PKEY *key;	 /* NULL: give no answer */
	int needs_bound; /* as the source declares */
	int calls;
	int nbound; /* bound certificates it was shown */
	char challenge[512];
};

static int
sign_answer(void *arg, const char *challenge,
    const struct certauth_bound *bound, char **response,
    struct certauth_reason *why)
{
	struct signer *s = arg;

	(void)why;
	s->calls++;
	s->nbound = bound != NULL && bound->r == 0 ? sk_X509_num(bound->certs) :
						     -1;
	snprintf(s->challenge, sizeof(s->challenge), "%s", challenge);
	if (s->key == NULL)
		return CERTAUTH_ERR_CONV;
	*response = tu_sign_b64(s->key, NULL, 0, challenge);
	return 0;
}

static int
login_as(struct fixture *f, const char *user, int known, struct signer *s,
    struct certauth_outcome *outcome)
{
	struct certauth_answer_source src = { "test", s->needs_bound,
		sign_answer, s };
	struct certauth_request req = { user, known, "svc" };
	struct certauth_ctx c;
	int r;

	certauth_ctx_init(&c, &f->opts, &f->lg);
	f->lines = 0;
	r = certauth_login(&c, &req, &src);
	*outcome = c.outcome;
	return r;
}

/* The challenge names this host, the service and the user; the source
 * is shown the bound certificates; one line for the decision. */
static void
test_login_flow(void **state)
{
	struct fixture *f = need(state);
	struct certauth_outcome out;
	struct signer s = { NULL, 0, 0, 0, "" };

	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	f->opts.hostname = strdup("host1");
	s.key = f->pki.user_key;
	assert_int_equal(login_as(f, "alice", 1, &s, &out), 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.nbound, -1); /* not asked for */
	s.needs_bound = 1;
	assert_int_equal(login_as(f, "alice", 1, &s, &out), 0);
	assert_int_equal(s.nbound, 1);
	assert_non_null(strstr(s.challenge, "certauth:v1:host1:svc:alice:"));
	assert_int_equal(f->lines, 1);
	assert_non_null(strstr(f->last, "authenticated"));
	assert_string_equal(out.binding_source, "files");
	assert_int_equal(out.ignored, 0);
	/* A wrong key through the same path is refused. */
	s.key = f->pki.other_key;
	assert_int_equal(login_as(f, "alice", 1, &s, &out),
	    CERTAUTH_ERR_BAD_SIGNATURE);
}

/* A source that needs the bindings is still asked for an unbound or
 * unknown account (shown none), and the login is refused after. */
static void
test_login_needs_bound_unbound(void **state)
{
	struct fixture *f = need(state);
	struct certauth_outcome out;
	struct signer s = { NULL, 1, 0, 0, "" };

	s.key = f->pki.user_key;
	assert_int_equal(login_as(f, "bob", 1, &s, &out),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.nbound, -1);
	assert_non_null(strstr(f->last, "no certificate bound to user bob"));
	assert_int_equal(out.ignored, 0);
}

/* Without nouserok an unknown or unbound account is asked like any
 * other, so a prompt tells nothing, and refused after. */
static void
test_login_unbound_still_asked(void **state)
{
	struct fixture *f = need(state);
	struct certauth_outcome out;
	struct signer s = { NULL, 0, 0, 0, "" };

	s.key = f->pki.user_key;
	assert_int_equal(login_as(f, "bob", 1, &s, &out),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.nbound, -1);
	assert_non_null(strstr(f->last, "no certificate bound to user bob"));
	assert_int_equal(login_as(f, "ghost", 0, &s, &out),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(s.calls, 2);
	assert_non_null(strstr(f->last, "unknown user"));
	assert_int_equal(out.ignored, 0);
}

/* nouserok passes over an unknown or unbound account without asking,
 * and never passes over one whose bindings cannot be read. */
static void
test_login_nouserok(void **state)
{
	struct fixture *f = need(state);
	struct certauth_outcome out;
	struct signer s = { NULL, 0, 0, 0, "" };
	char *path;

	f->opts.nouserok = 1;
	s.key = f->pki.user_key;
	assert_int_equal(login_as(f, "bob", 1, &s, &out),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(out.ignored, 1);
	assert_int_equal(login_as(f, "ghost", 0, &s, &out),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(out.ignored, 1);
	assert_int_equal(s.calls, 0);
	assert_non_null(strstr(f->last, "ignored (nouserok)"));
	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	assert_int_equal(login_as(f, "alice", 1, &s, &out), 0);
	assert_int_equal(s.calls, 1);
	path = tu_path(f->pki.bindings_dir, "alice");
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(login_as(f, "alice", 1, &s, &out),
	    CERTAUTH_ERR_UNSAFE);
	assert_int_equal(out.ignored, 0);
	assert_int_equal(s.calls, 1);
	assert_non_null(strstr(f->last, "group-writable"));
	free(path);
}

/* A source that gives no answer ends the login with one line. */
static void
test_login_no_answer(void **state)
{
	struct fixture *f = need(state);
	struct certauth_outcome out;
	struct signer s = { NULL, 0, 0, 0, "" };

	tu_pki_bind(&f->pki, "alice", &f->pki.user, 1);
	assert_int_equal(login_as(f, "alice", 1, &s, &out), CERTAUTH_ERR_CONV);
	assert_int_equal(s.calls, 1);
	assert_int_equal(f->lines, 1);
	assert_string_equal(f->last, "user alice refused: conversation failed");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_success, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_second_binding_matches,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_renewed_certificate_same_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_response, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_responses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_unbound_users,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrapped_answer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_whole_answer_no_hint,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verified_answer_no_hint,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_line_cannot_be_forged,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust_store_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_weak_key_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_host_fault_level, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crl_warning_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_login_flow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_login_needs_bound_unbound,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_unbound_still_asked,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_nouserok, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_login_no_answer, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
