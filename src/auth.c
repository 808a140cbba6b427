/*
 * auth.c - one login, top-down (docs/PROTOCOL.md, "Checks, in order"):
 *
 *   1. bindings   which certificates may answer (bound.h): bound ones,
 *                 or the one the answer offers, mapped by rules
 *   2. answer     a response over the challenge (answer.h)
 *   3. signature  against each bound certificate's key (verify.h)
 *   4. chain      trust files, the X.509 chain and CRLs (trust.h, chain.h)
 *   5. OCSP       for the chain that held (ocsp.h)
 *   6. decision   one log line; the caller maps the code
 *
 * Cheap refusals come first; the trust files are read only for a
 * certificate whose key has already verified the signature, so a wrong
 * answer costs little.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "answer.h"
#include "auth.h"
#include "bound.h"
#include "certauth.h"
#include "chain.h"
#include "challenge.h"
#include "ctx.h"
#include "ocsp.h"
#include "response.h"
#include "trust.h"
#include "verify.h"

void
certauth_ctx_init(struct certauth_ctx *c, const struct certauth_opts *o,
    const struct certauth_log *lg)
{
	memset(c, 0, sizeof(*c));
	c->opts = o;
	c->lg = lg;
	c->budget_ms = o->ocsp_timeout_ms;
}

/*
 * Collect into *matches (borrowed pointers, caller frees the stack only)
 * every bound certificate whose public key verifies sig over the challenge.
 * Returns 0 with at least one match, or CERTAUTH_ERR_BAD_SIGNATURE /
 * CERTAUTH_ERR_KEY_REFUSED with the reason, or CERTAUTH_ERR_NOMEM.
 */
static int
match_signature(const struct certauth_log *lg, STACK_OF(X509) *certs,
    const struct certauth_login *login, int digest, const unsigned char *sig,
    size_t siglen, STACK_OF(X509) **matches, struct certauth_reason *reason)
{
	int r = CERTAUTH_ERR_INTERNAL, i, n = sk_X509_num(certs), refused = 0;
	STACK_OF(X509) *found = NULL;
	struct certauth_reason why;

	memset(&why, 0, sizeof(why));
	if ((found = sk_X509_new_null()) == NULL)
		return CERTAUTH_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		X509 *cert = sk_X509_value(certs, i);

		r = certauth_verify_signature(X509_get0_pubkey(cert), digest,
		    (const unsigned char *)login->challenge,
		    strlen(login->challenge), sig, siglen, &why);
		if (r == CERTAUTH_ERR_KEY_REFUSED ||
		    r == CERTAUTH_ERR_DIGEST_REFUSED)
			refused++;
		if (r == CERTAUTH_ERR_NOMEM)
			goto out;
		log_debug(lg, "bound certificate %d of %d: %s", i + 1, n,
		    r == 0 ? "signature verifies" : why.text);
		if (r == 0 && !sk_X509_push(found, cert)) {
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
	}
	if (sk_X509_num(found) == 0) {
		if (n == 1 && refused == 1) {
			certauth_reason_set(reason, "%s", why.text);
			r = CERTAUTH_ERR_KEY_REFUSED;
		} else {
			certauth_reason_set(reason,
			    "signature does not verify "
			    "with any of %d bound certificate%s",
			    n, n == 1 ? "" : "s");
			r = CERTAUTH_ERR_BAD_SIGNATURE;
		}
		goto out;
	}
	*matches = found;
	found = NULL;
	r = 0;
out:
	sk_X509_free(found);
	return r;
}

int
certauth_check_certificate(struct certauth_ctx *c,
    const struct certauth_trust_set *t, X509 *cert, time_t now,
    struct certauth_reason *reason)
{
	struct certauth_verified v;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&v, 0, sizeof(v));
	c->outcome.ocsp_source[0] = '\0';
	if ((r = certauth_chain_check(t, c->lg, cert, now,
		 c->opts->ocsp != CERTAUTH_OCSP_OFF ? &v : NULL, reason)) != 0)
		goto out;
	/* Revocation over the network last: only for a chain that holds. */
	if (c->opts->ocsp != CERTAUTH_OCSP_OFF &&
	    (r = certauth_ocsp_check_chain(c, v.chain, v.store, reason)) != 0)
		goto out;
	r = 0;
out:
	certauth_verified_clear(&v);
	return r;
}

/*
 * Read the trust files and check each certificate that verified the
 * signature; the first one that passes wins (an old and a renewed
 * certificate may share a key).  Returns 0 with *winner borrowed from
 * matches.
 */
static int
check_matches(struct certauth_ctx *c, STACK_OF(X509) *matches, time_t now,
    X509 **winner)
{
	struct certauth_trust_set *t = NULL;
	int r = CERTAUTH_ERR_INTERNAL, i;

	if ((r = certauth_trust_load(c->opts, &c->seen, &t,
		 &c->outcome.reason)) != 0)
		goto out;
	for (i = 0; i < sk_X509_num(matches); i++) {
		X509 *cert = sk_X509_value(matches, i);

		r = certauth_check_certificate(c, t, cert, now,
		    &c->outcome.reason);
		if (r == 0) {
			*winner = cert;
			break;
		}
		if (r == CERTAUTH_ERR_NOMEM)
			break;
	}
out:
	certauth_trust_free(t);
	return r;
}

static void
log_outcome(const struct certauth_log *lg, const struct certauth_login *login,
    int r, const struct certauth_outcome *outcome)
{
	if (r == 0) {
		/* The files source goes unsaid, as before there were others. */
		int other = outcome->binding_source != NULL &&
		    strcmp(outcome->binding_source, "files") != 0;

		log_info(lg,
		    "user %s authenticated with certificate "
		    "SHA256:%s %s%s%s%s%s",
		    login->user, outcome->fingerprint, outcome->subject,
		    other ? "; bound by " : "",
		    other ? outcome->binding_where : "",
		    outcome->ocsp_source[0] != '\0' ? "; OCSP good from " : "",
		    outcome->ocsp_source);
	} else if (r == CERTAUTH_ERR_TRUST_STORE || r == CERTAUTH_ERR_CONFIG ||
	    r == CERTAUTH_ERR_INTERNAL || r == CERTAUTH_ERR_NOMEM) {
		log_err(lg, "user %s not authenticated: %s: %s", login->user,
		    certauth_strerror(r), outcome->reason.text);
	} else if (outcome->reason.host_fault) {
		/* Every login it touches fails alike: the host's to fix. */
		log_err(lg, "user %s refused: %s", login->user,
		    outcome->reason.text);
	} else {
		log_notice(lg, "user %s refused: %s", login->user,
		    outcome->reason.text);
	}
}

/* The checks before any certificate is looked at. */
static int
check_answer(const struct certauth_opts *o, const struct certauth_login *login,
    int *digest, unsigned char **sig, size_t *siglen, unsigned char **offer,
    size_t *offerlen, struct certauth_reason *reason)
{
	long late = (long)(login->answered - login->issued);

	if (login->answered < login->issued || late > o->challenge_ttl) {
		certauth_reason_set(reason,
		    "response arrived after %ld "
		    "seconds, over challenge_ttl %ld",
		    late, o->challenge_ttl);
		return CERTAUTH_ERR_EXPIRED;
	}
	if (login->response == NULL) {
		certauth_reason_set(reason, "no response");
		return CERTAUTH_ERR_FORMAT;
	}
	return certauth_response_parse_offer(login->response, digest, sig,
	    siglen, offer, offerlen, reason);
}

/* The account and its bindings, in the order of the checks. */
static int
check_bound(const struct certauth_login *login, struct certauth_reason *reason)
{
	if (!login->user_known) {
		certauth_reason_set(reason, "unknown user");
		return CERTAUTH_ERR_NOT_FOUND;
	}
	if (login->bound->r != 0) {
		*reason = login->bound->reason; /* whose fault, too */
		return login->bound->r;
	}
	return 0;
}

/*
 * The certificates that may have signed: the account's bound ones, or,
 * for an account the rules decide, the one the answer offers
 * (offer[0..offerlen), DER, or NULL) when they map it to the account,
 * in *mapped (owned).  *certs is borrowed from either.
 */
static int
account_certs(const struct certauth_login *login, const unsigned char *offer,
    size_t offerlen, STACK_OF(X509) **certs, STACK_OF(X509) **mapped,
    struct certauth_reason *reason)
{
	int r;

	if ((r = check_bound(login, reason)) != 0)
		return r;
	if (login->bound->rules == NULL) {
		*certs = login->bound->certs;
		return 0;
	}
	if ((r = certauth_bound_offered(login->bound, login->user, offer,
		 offerlen, mapped, reason)) != 0)
		return r;
	*certs = *mapped;
	return 0;
}

/*
 * A refusal before any bound certificate verified the answer, of an
 * answer broken on its way (response.h): the reason says so, in place of
 * the signature failure it caused, or after any other reason.
 */
static void
note_shape(const struct certauth_login *login, int r,
    struct certauth_outcome *outcome)
{
	struct certauth_reason first;

	if (!certauth_response_shape(login->response, &outcome->hint))
		return;
	if (r == CERTAUTH_ERR_BAD_SIGNATURE) {
		certauth_reason_set(&outcome->reason, "%s", outcome->hint.text);
		return;
	}
	first = outcome->reason;
	certauth_reason_set(&outcome->reason, "%s; %s", first.text,
	    outcome->hint.text);
}

int
certauth_authenticate(struct certauth_ctx *c,
    const struct certauth_login *login)
{
	struct certauth_outcome *outcome = &c->outcome;
	int r = CERTAUTH_ERR_INTERNAL, digest = CERTAUTH_DIGEST_DEFAULT;
	unsigned char *sig = NULL, *offer = NULL;
	size_t siglen = 0, offerlen = 0;
	STACK_OF(X509) *certs = NULL, *mapped = NULL, *matches = NULL;
	X509 *winner = NULL;

	certauth_reason_set(&outcome->reason, "%s",
	    certauth_strerror(CERTAUTH_ERR_INTERNAL));
	if ((r = check_answer(c->opts, login, &digest, &sig, &siglen, &offer,
		 &offerlen, &outcome->reason)) != 0 ||
	    (r = account_certs(login, offer, offerlen, &certs, &mapped,
		 &outcome->reason)) != 0 ||
	    (r = match_signature(c->lg, certs, login, digest, sig, siglen,
		 &matches, &outcome->reason)) != 0 ||
	    (r = check_matches(c, matches, login->answered, &winner)) != 0)
		goto out;
	if ((r = certauth_cert_fingerprint(winner, outcome->fingerprint)) != 0)
		goto out;
	certauth_name_string(X509_get_subject_name(winner), outcome->subject,
	    sizeof(outcome->subject));
	outcome->binding_source = login->bound->source;
	snprintf(outcome->binding_where, sizeof(outcome->binding_where), "%s",
	    login->bound->where);
	r = 0;
out:
	outcome->hint.text[0] = '\0';
	if (r == 0)
		outcome->reason.text[0] = '\0';
	else if (outcome->reason.text[0] == '\0')
		certauth_reason_set(&outcome->reason, "%s",
		    certauth_strerror(r));
	if (r != 0 && r != CERTAUTH_ERR_NOMEM && matches == NULL)
		note_shape(login, r, outcome);
	log_outcome(c->lg, login, r, outcome);
	sk_X509_free(matches);
	sk_X509_pop_free(mapped, X509_free);
	certauth_freezero(sig, siglen);
	free(offer);
	ERR_clear_error();
	return r;
}

/* The name in the challenge: hostname=, else this host's own. */
static void
host_name(const struct certauth_opts *o, char *host, size_t len)
{
	if (o->hostname != NULL)
		snprintf(host, len, "%s", o->hostname);
	else if (gethostname(host, len) != 0)
		snprintf(host, len, "localhost");
	host[len - 1] = '\0';
}

/* nouserok: whether to pass over the account without a prompt. */
static int
pass_over(struct certauth_ctx *c, const struct certauth_request *req,
    const struct certauth_bound *b)
{
	if (!c->opts->nouserok ||
	    (req->user_known && b->r != CERTAUTH_ERR_NOT_FOUND))
		return 0;
	log_info(c->lg,
	    "user %s has no certificate binding: ignored "
	    "(nouserok)",
	    req->user);
	c->outcome.ignored = 1;
	return 1;
}

/* The account's bindings: none for an unknown account. */
static void
look_up(struct certauth_ctx *c, const struct certauth_request *req,
    struct certauth_bound *b)
{
	memset(b, 0, sizeof(*b));
	b->r = CERTAUTH_ERR_NOT_FOUND;
	if (req->user_known)
		(void)certauth_bound_lookup(c, req->user, b);
}

/*
 * The bindings before the challenge, only when something needs them
 * then: nouserok, to pass over an unbound account without a prompt, or
 * an answer source that picks its key by them.  Otherwise the user sees
 * the challenge without waiting on the lookup, which follows the answer.
 * Returns 0 to go on (*early says whether b was filled), or the code that
 * ends the login.
 */
static int
look_up_early(struct certauth_ctx *c, const struct certauth_request *req,
    const struct certauth_answer_source *src, struct certauth_bound *b,
    int *early)
{
	*early = c->opts->nouserok || src->needs_bound;
	if (!*early)
		return 0;
	look_up(c, req, b);
	if (pass_over(c, req, b))
		return CERTAUTH_ERR_NOT_FOUND;
	if (c->opts->nouserok && b->r != 0) {
		/* A source that cannot be read is not "no binding". */
		log_err(c->lg, "user %s refused: %s", req->user,
		    b->reason.text);
		return b->r;
	}
	return 0;
}

int
certauth_login(struct certauth_ctx *c, const struct certauth_request *req,
    const struct certauth_answer_source *src)
{
	struct certauth_bound b;
	struct certauth_login login;
	struct certauth_reason why;
	char host[256], *challenge = NULL, *response = NULL;
	int early = 0, r = CERTAUTH_ERR_INTERNAL;

	memset(&b, 0, sizeof(b));
	memset(&login, 0, sizeof(login));
	if ((r = look_up_early(c, req, src, &b, &early)) != 0)
		goto out;
	host_name(c->opts, host, sizeof(host));
	login.user = req->user;
	login.user_known = req->user_known;
	login.bound = &b;
	login.issued = time(NULL);
	if ((r = certauth_challenge_new(host, req->service, req->user,
		 login.issued, &challenge)) != 0) {
		log_err(c->lg,
		    "user %s not authenticated: cannot make a "
		    "challenge: %s",
		    req->user, certauth_strerror(r));
		goto out;
	}
	memset(&why, 0, sizeof(why));
	if ((r = src->answer(src->arg, challenge, src->needs_bound ? &b : NULL,
		 &response, &why)) != 0) {
		if (why.text[0] == '\0')
			certauth_reason_set(&why, "%s", certauth_strerror(r));
		c->outcome.reason = why;
		if (r == CERTAUTH_ERR_INTERNAL || r == CERTAUTH_ERR_NOMEM)
			log_err(c->lg, "user %s not authenticated: %s",
			    req->user, why.text);
		else
			log_notice(c->lg, "user %s refused: %s", req->user,
			    why.text);
		goto out;
	}
	login.answered = time(NULL);
	if (!early)
		look_up(c, req, &b);
	login.challenge = challenge;
	login.response = response;
	r = certauth_authenticate(c, &login);
out:
	if (response != NULL)
		certauth_freezero(response, strlen(response));
	free(challenge);
	certauth_bound_clear(&b);
	return r;
}
