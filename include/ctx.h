/*
 * ctx.h - the state of one login that its steps share: the options, the
 * logger, the time left for other hosts to answer, and the outcome.  It
 * is made by the caller of a login (or a certauth-enroll run), passed
 * down to each step as an argument, and never kept in a global.
 */
#ifndef CERTAUTH_CTX_H
#define CERTAUTH_CTX_H

#include "certauth.h"
#include "certutil.h"
#include "log.h"
#include "options.h"
#include "safefile.h"

/* What a login came to; filled in as its steps run. */
struct certauth_outcome {
	char fingerprint[CERTAUTH_FP_CHARS + 1]; /* of the cert that passed */
	char subject[256];
	const char *binding_source; /* which source bound it: "files", "ldap" */
	/* where the binding came from: "files", "ldap (cache)", "ldap URI" */
	char binding_where[CERTAUTH_REASON_MAX / 2];
	char ocsp_source[CERTAUTH_REASON_MAX]; /* "cache", a responder URL,
						 * or "" */
	int ignored; /* nouserok passed over an unbound account */
	struct certauth_reason reason; /* on failure */
	/*
	 * On failure, what is wrong with the answer's shape, for the user:
	 * set from the answer alone (certauth_response_shape) when no bound
	 * certificate verified it, so unknown, unbound and bound accounts
	 * get the same for the same answer; "" when none.
	 */
	struct certauth_reason hint;
};

struct certauth_ctx {
	const struct certauth_opts *opts; /* borrowed */
	const struct certauth_log *lg;	  /* borrowed, may be NULL */
	/*
	 * The responders' time this login may still use, in ms:
	 * ocsp_timeout_ms at the start.  Each exchange takes from it only
	 * the time the fetch helper reports (ocsp.h), so a caller who stops
	 * the host cannot use it up.
	 */
	long long budget_ms;
	struct certauth_seen seen; /* directories found safe so far */
	struct certauth_outcome outcome;
};

/* Start a login's context: the budget full, the outcome empty. */
void certauth_ctx_init(struct certauth_ctx *c, const struct certauth_opts *o,
    const struct certauth_log *lg);

#endif /* CERTAUTH_CTX_H */
