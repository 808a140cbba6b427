/*
 * token_answer.c - a PKCS#11 token in this machine answers the login's
 * challenge (token_answer.h).  Which token: of those pkcs11_uri matches
 * in pkcs11_module (p11-kit's modules by default, but for their trust
 * modules), the first in module and slot order that holds a certificate
 * bound to the account (or that the rules map to it).  Which
 * certificate: the first such on that token, in the token's order,
 * whose private key is on the token.  The PIN is asked once through the
 * conversation.  What the token signs: the challenge bytes as issued.
 * Whatever it returns is untrusted: certauth_authenticate checks the
 * line it becomes as it checks a typed one.
 */
#include "config.h"

#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "certutil.h"
#include "digest.h"
#include "log.h"
#include "p11token.h"
#include "response.h"
#include "safefile.h"
#include "token_answer.h"
#include "verify.h"

#define PIN_MAX_BYTES 256

/* One login's dealings with the token. */
struct token_run {
	const struct certauth_token_answer *ta;
	const struct certauth_bound *bound;
	struct certauth_p11token *tok;
	STACK_OF(X509) *certs; /* the token's certificates */
	int *usable;	       /* of certs: bound to the account */
	int nusable;
	X509 *cert;    /* the one that answers, borrowed from certs */
	int idx;       /* its place in certs */
	EVP_PKEY *pub; /* its key's public half as the token knows it */
	char name[64]; /* cert in messages: "1 on the token" */
	struct certauth_reason last; /* why the last token was passed over */
	int offer;    /* the rules decide: the answer offers cert */
	int fallback; /* nonzero: no token can answer (try may ask) */
	char module[PATH_MAX];
};

/*
 * pkcs11_module resolved to its real path into run->module, which must
 * be a root-owned file no one else may write, in directories alike, as
 * must the directory of the name given: code loaded into a set-uid
 * program.  "" for p11-kit's modules.  0 or a CERTAUTH_ERR_* code.
 */
static int
check_module(struct token_run *run, struct certauth_reason *why)
{
	const char *given = run->ta->opts->pkcs11_module;
	char dir[PATH_MAX];
	int fd = -1, r;

	run->module[0] = '\0';
	if (given == NULL)
		return 0;
	snprintf(dir, sizeof(dir), "%s", given);
	if ((r = certauth_check_dir_safely(dirname(dir),
		 "PKCS#11 module directory", why)) != 0)
		return r;
	if (realpath(given, run->module) == NULL) {
		certauth_reason_set(why, "PKCS#11 module %s does not exist",
		    given);
		return CERTAUTH_ERR_IO;
	}
	if ((r = certauth_open_safely(run->module, "PKCS#11 module", &fd,
		 why)) != 0) {
		if (r == CERTAUTH_ERR_NOT_FOUND)
			r = CERTAUTH_ERR_IO;
		return r;
	}
	close(fd);
	return 0;
}

/* Whether cert is one of the account's bound certificates. */
static int
is_bound(STACK_OF(X509) *bound, X509 *cert)
{
	int i;

	for (i = 0; i < sk_X509_num(bound); i++)
		if (X509_cmp(sk_X509_value(bound, i), cert) == 0)
			return 1;
	return 0;
}

/* Whether the rules map cert to the account. */
static int
rules_map(const struct token_run *run, X509 *cert)
{
	STACK_OF(X509) *mapped = NULL;
	struct certauth_reason inner;
	unsigned char *der = NULL;
	int len, ok = 0;

	if ((len = i2d_X509(cert, &der)) <= 0)
		return 0;
	ok = certauth_bound_offered(run->bound, run->ta->user, der, (size_t)len,
		 &mapped, &inner) == 0;
	sk_X509_pop_free(mapped, X509_free);
	OPENSSL_free(der);
	return ok;
}

/*
 * The token's certificates into run->certs, and which of them the
 * account's bindings allow into run->usable.  CERTAUTH_ERR_NOT_FOUND
 * when none does.
 */
static int
find_bound(struct token_run *run, struct certauth_reason *why)
{
	const char *label = certauth_p11token_label(run->tok);
	struct certauth_reason skip;
	int i, n, skipped = 0, r;

	sk_X509_pop_free(run->certs, X509_free);
	run->certs = NULL;
	free(run->usable);
	run->usable = NULL;
	run->nusable = 0;
	memset(&skip, 0, sizeof(skip));
	if ((r = certauth_p11token_certs(run->tok, &run->certs, &skipped, &skip,
		 why)) != 0)
		return r;
	if (skipped > 0)
		log_notice(run->ta->lg,
		    "user %s: %d object%s on token '%s' "
		    "passed over: %s",
		    run->ta->user, skipped, skipped == 1 ? "" : "s", label,
		    skip.text);
	n = sk_X509_num(run->certs);
	if ((run->usable = calloc((size_t)n + 1, sizeof(int))) == NULL) {
		certauth_reason_set(why, "%s",
		    certauth_strerror(CERTAUTH_ERR_NOMEM));
		return CERTAUTH_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(run->certs, i);

		run->usable[i] = run->offer ? rules_map(run, x) :
					      is_bound(run->bound->certs, x);
		run->nusable += run->usable[i];
	}
	ERR_clear_error();
	if (run->nusable > 0)
		return 0;
	certauth_reason_set(why,
	    "token '%s' holds no certificate %s %s (%d certificate%s there%s)",
	    label, run->offer ? "the rules map to" : "bound to", run->ta->user,
	    n, n == 1 ? "" : "s",
	    skipped > 0 ? ", and unreadable objects" : "");
	return CERTAUTH_ERR_NOT_FOUND;
}

/*
 * certauth_p11token_open_first's question about token t: keep it (1)
 * when it holds a usable certificate, pass it over (0, the reason in
 * run->last), or end the search with a failure.
 */
static int
keep_token(void *arg, struct certauth_p11token *t)
{
	struct token_run *run = arg;
	int r;

	run->tok = t;
	r = find_bound(run, &run->last);
	run->tok = NULL;
	if (r == 0)
		return 1;
	return r == CERTAUTH_ERR_NOT_FOUND ? 0 : r;
}

/*
 * The first token that pkcs11_uri matches and find_bound keeps, opened
 * into run->tok with its certificates.  CERTAUTH_ERR_NOT_FOUND (with
 * run->fallback) when no token matches or none holds a usable
 * certificate.
 */
static int
open_token(struct token_run *run, struct certauth_reason *why)
{
	const struct certauth_opts *o = run->ta->opts;
	const char *uri = o->pkcs11_uri != NULL ? o->pkcs11_uri : "pkcs11:";
	struct certauth_p11token *t = NULL;
	struct certauth_reason listed;
	int found = 0, r;

	memset(&listed, 0, sizeof(listed));
	memset(&run->last, 0, sizeof(run->last));
	if ((r = check_module(run, why)) != 0)
		return r;
	r = certauth_p11token_open_first(uri,
	    run->module[0] != '\0' ? run->module : NULL, keep_token, run, &t,
	    &found, &listed);
	run->tok = t;
	if (r == 0)
		return 0;
	if (r != CERTAUTH_ERR_NOT_FOUND) {
		*why = run->last.text[0] != '\0' ? run->last : listed;
		return r;
	}
	run->fallback = 1;
	if (found == 0)
		*why = listed;
	else if (found == 1)
		*why = run->last;
	else
		certauth_reason_set(why,
		    "none of the %d tokens matching %s holds a certificate %s "
		    "%s (%s)",
		    found, uri, run->offer ? "the rules map to" : "bound to",
		    run->ta->user, listed.text);
	return r;
}

/* The PIN asked once and checked by the token, wiped after. */
static int
log_in(struct token_run *run, struct certauth_reason *why)
{
	const struct certauth_secret_ask *a = &run->ta->pin;
	const char *label = certauth_p11token_label(run->tok);
	struct certauth_reason asked;
	char pin[PIN_MAX_BYTES], prompt[96];
	int need = 0, n, r;

	if ((r = certauth_p11token_prepare_login(run->tok, &need, why)) != 0 ||
	    !need)
		return r;
	if (a->ask == NULL) {
		certauth_reason_set(why,
		    "token '%s' needs its PIN and there is no one to ask",
		    label);
		return CERTAUTH_ERR_CONV;
	}
	memset(&asked, 0, sizeof(asked));
	snprintf(prompt, sizeof(prompt), "PIN for token '%s': ", label);
	n = a->ask(a->arg, prompt, pin, sizeof(pin), &asked);
	if (n <= 0) {
		certauth_reason_set(why, "no PIN was given for token '%s'%s%s",
		    label, asked.text[0] != '\0' ? ": " : "", asked.text);
		r = CERTAUTH_ERR_CONV;
	} else
		r = certauth_p11token_login(run->tok, pin, (size_t)n, why);
	explicit_bzero(pin, sizeof(pin));
	return r;
}

/*
 * The first usable certificate whose private key is on the token, into
 * run->cert and run->pub.  A key there that does not belong to its
 * certificate refuses the login; no key at all for any is
 * CERTAUTH_ERR_NOT_FOUND (with run->fallback).
 */
static int
pick_key(struct token_run *run, struct certauth_reason *why)
{
	struct certauth_reason inner;
	int i, unchecked = 0, r = CERTAUTH_ERR_NOT_FOUND;

	memset(&inner, 0, sizeof(inner));
	for (i = 0; i < sk_X509_num(run->certs); i++) {
		X509 *x = sk_X509_value(run->certs, i);

		if (!run->usable[i])
			continue;
		snprintf(run->name, sizeof(run->name), "%d on the token",
		    i + 1);
		r = certauth_p11token_find_key(run->tok, X509_get0_pubkey(x),
		    run->name, &run->pub, &unchecked, &inner);
		if (r == 0) {
			run->cert = x;
			run->idx = i;
			return 0;
		}
		if (r != CERTAUTH_ERR_NOT_FOUND)
			break;
	}
	*why = inner;
	if (r == CERTAUTH_ERR_NOT_FOUND)
		run->fallback = 1;
	return r;
}

/* The token signs the challenge; the response line into *response. */
static int
sign(struct token_run *run, const char *challenge, char **response,
    struct certauth_reason *why)
{
	int id = EVP_PKEY_get_base_id(run->pub), r;
	int eddsa = id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448;
	unsigned char *sig = NULL, *der = NULL;
	struct certauth_reason inner;
	size_t siglen = 0;
	int derlen;

	if ((r = certauth_p11token_sign_message(run->tok, run->pub,
		 eddsa ? NULL : certauth_digest_md(CERTAUTH_DIGEST_DEFAULT), 0,
		 (const unsigned char *)challenge, strlen(challenge), &sig,
		 &siglen, why)) != 0)
		goto out;
	/* A key that is not its certificate's, or a signature spoilt on
	 * the way, is the token's lie: said so here, plainly, before the
	 * login refuses the answer anyway. */
	if (certauth_verify_signature(X509_get0_pubkey(run->cert),
		CERTAUTH_DIGEST_DEFAULT, (const unsigned char *)challenge,
		strlen(challenge), sig, siglen, &inner) != 0) {
		certauth_reason_set(why,
		    "the signature of token '%s' does not verify with its "
		    "certificate %s (a key that is not that certificate's, or "
		    "a damaged signature): %s",
		    certauth_p11token_label(run->tok), run->name, inner.text);
		r = CERTAUTH_ERR_KEY_REFUSED;
		goto out;
	}
	if ((r = certauth_response_encode(CERTAUTH_DIGEST_DEFAULT, sig, siglen,
		 response)) != 0) {
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	if (!run->offer)
		goto out;
	if ((derlen = i2d_X509(run->cert, &der)) <= 0) {
		r = CERTAUTH_ERR_NOMEM;
		certauth_reason_set(why, "%s", certauth_strerror(r));
	} else if ((r = certauth_response_offer(response, der,
			(size_t)derlen)) != 0)
		certauth_reason_set(why,
		    "the certificate on token '%s' is too large to offer: %s",
		    certauth_p11token_label(run->tok), certauth_strerror(r));
out:
	if (r != 0 && *response != NULL) {
		certauth_freezero(*response, strlen(*response));
		*response = NULL;
	}
	OPENSSL_free(der);
	certauth_freezero(sig, siglen);
	ERR_clear_error();
	return r;
}

/* The whole exchange; run->fallback says whether try may ask instead. */
static int
respond(struct token_run *run, const char *challenge, char **response,
    struct certauth_reason *why)
{
	char fp[CERTAUTH_FP_CHARS + 1], subject[256];
	int r;

	run->offer = run->bound != NULL && run->bound->rules != NULL;
	if (run->bound == NULL || run->bound->r != 0) {
		if (run->bound != NULL &&
		    run->bound->r != CERTAUTH_ERR_NOT_FOUND) {
			/* A source that cannot be read is not "no binding". */
			*why = run->bound->reason;
			return run->bound->r;
		}
		certauth_reason_set(why, "no certificate is bound to %s",
		    run->ta->user);
		run->fallback = 1;
		return CERTAUTH_ERR_NOT_FOUND;
	}
	if ((r = open_token(run, why)) != 0 || (r = log_in(run, why)) != 0 ||
	    (r = pick_key(run, why)) != 0 ||
	    (r = sign(run, challenge, response, why)) != 0)
		return r;
	if (certauth_cert_fingerprint(run->cert, fp) != 0)
		snprintf(fp, sizeof(fp), "?");
	certauth_name_string(X509_get_subject_name(run->cert), subject,
	    sizeof(subject));
	log_info(run->ta->lg,
	    "user %s: the answer comes from token '%s', certificate "
	    "SHA256:%s %s (certificate %d of %d there, %d usable)",
	    run->ta->user, certauth_p11token_label(run->tok), fp, subject,
	    run->idx + 1, sk_X509_num(run->certs), run->nusable);
	return 0;
}

static int
token_answer(void *arg, const char *challenge,
    const struct certauth_bound *bound, char **response,
    struct certauth_reason *why)
{
	const struct certauth_token_answer *ta = arg;
	const struct certauth_fallback fb = { ta->lg, ta->user, "token mode",
		ta->fallback };
	struct certauth_reason inner;
	struct token_run run;
	int r;

	memset(&run, 0, sizeof(run));
	memset(&inner, 0, sizeof(inner));
	run.ta = ta;
	run.bound = bound;
	*response = NULL;
	r = respond(&run, challenge, response, &inner);
	EVP_PKEY_free(run.pub);
	sk_X509_pop_free(run.certs, X509_free);
	free(run.usable);
	/* Logged out and finalised before anything else is asked. */
	certauth_p11token_close(run.tok);
	ERR_clear_error();
	if (r == 0)
		return 0;
	return certauth_answer_fall_back(&fb,
	    run.fallback && ta->opts->pkcs11 == CERTAUTH_PKCS11_TRY, r, &inner,
	    challenge, bound, response, why);
}

void
certauth_token_answer_source(struct certauth_token_answer *ta,
    struct certauth_answer_source *src)
{
	src->name = "PKCS#11 token";
	src->needs_bound = 1;
	src->answer = token_answer;
	src->arg = ta;
}
