/*
 * auth.h - one login, top-down (docs/PROTOCOL.md, "Checks, in order"):
 * bindings, answer, signature, chain with CRLs, OCSP, decision.
 * Independent of libpam, so the module, the tools and the tests share it.
 */
#ifndef CERTAUTH_AUTH_H
#define CERTAUTH_AUTH_H

#include <time.h>
#include <openssl/x509.h>

#include "answer.h"
#include "bound.h"
#include "certauth.h"
#include "ctx.h"
#include "trust.h"

/* Who is logging in, where, and through which service. */
struct certauth_request {
	const char *user;    /* PAM_USER, as typed */
	int user_known;	     /* nonzero if the account exists */
	const char *service; /* PAM_SERVICE */
};

/*
 * Run one login for req in c: make the challenge for host (hostname=,
 * else gethostname), service, user and now; get the answer from src;
 * decide with certauth_authenticate.  The account's bindings (bound.h)
 * are looked up once: before the challenge under nouserok, which passes
 * over an unknown or unbound account (c->outcome.ignored, no prompt),
 * and for a source that needs_bound; otherwise after the answer.  An unknown or unbound
 * account without nouserok is still asked, and refused after, like any
 * wrong answer.  Logs one line for the outcome.
 * Returns 0 for a login that passed; with c->outcome.ignored,
 * CERTAUTH_ERR_NOT_FOUND; CERTAUTH_ERR_CONV when the source gave no
 * answer; otherwise as certauth_authenticate.
 */
int certauth_login(struct certauth_ctx *c, const struct certauth_request *req,
    const struct certauth_answer_source *src);

/* One answered challenge and what the binding sources said. */
struct certauth_login {
	const char *user;		    /* PAM_USER, as typed */
	int user_known;			    /* nonzero if the account exists */
	const char *challenge;		    /* the string the module issued */
	time_t issued;			    /* when it was issued */
	const char *response;		    /* what came back, untrusted */
	time_t answered;		    /* when it came back */
	const struct certauth_bound *bound; /* the account's bindings */
};

/*
 * Decide one answered challenge.  Order: ttl; response syntax; account;
 * bindings; the signature against each bound certificate (cheap refusals
 * first); only then the trust files are read and each certificate whose
 * key verified goes through certauth_check_certificate until one passes.
 * Logs exactly one line for the decision through c->lg (success with
 * user, fingerprint and subject; failure with the reason) and fills in
 * c->outcome.  Returns 0 only when every rule holds;
 * CERTAUTH_ERR_CONFIG or CERTAUTH_ERR_TRUST_STORE when the trust files
 * cannot be read; otherwise the failure code.
 */
int certauth_authenticate(struct certauth_ctx *c,
    const struct certauth_login *login);

/*
 * The chain step (chain.h, with CRLs) and then, for a chain that holds,
 * the revocation step over OCSP (ocsp.h), for one certificate at time
 * now.  The OCSP budget and verdict's source are c's.  Returns 0 or the
 * first step's failure with its reason.
 */
int certauth_check_certificate(struct certauth_ctx *c,
    const struct certauth_trust_set *t, X509 *cert, time_t now,
    struct certauth_reason *reason);

#endif /* CERTAUTH_AUTH_H */
