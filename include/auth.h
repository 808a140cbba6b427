/*
 * auth.h - the login decision of docs/PROTOCOL.md, "Checks, in order",
 * independent of libpam so the module, the tools and the tests share it.
 */
#ifndef CERTAUTH_AUTH_H
#define CERTAUTH_AUTH_H

#include <time.h>

#include "certauth.h"
#include "certutil.h"
#include "log.h"
#include "options.h"

struct certauth_login {
	const char *user;	/* PAM_USER, as typed */
	int user_known;		/* nonzero if the account exists */
	const char *challenge;	/* the string the module issued */
	time_t issued;		/* when it was issued */
	const char *response;	/* what came back, untrusted */
	time_t answered;	/* when it came back */
};

struct certauth_outcome {
	char fingerprint[CERTAUTH_FP_CHARS + 1];	/* of the cert that passed */
	char subject[256];
	char ocsp_source[256];	/* "cache", a responder URL, or "" */
	struct certauth_reason reason;			/* on failure */
};

/*
 * Decide one login.  Order: ttl; response syntax; bindings; the signature
 * against each bound certificate (cheap refusals first); only then the
 * chain policy of the certificate whose key verified.  Logs exactly one
 * line for the decision through lg (success with user, fingerprint and
 * subject; failure with the reason).  Returns 0 only when every rule of
 * that section holds; CERTAUTH_ERR_CONFIG or CERTAUTH_ERR_TRUST_STORE when
 * the trust store cannot be loaded; otherwise the failure code.
 */
int certauth_authenticate(const struct certauth_opts *o,
    const struct certauth_log *lg, const struct certauth_login *login,
    struct certauth_outcome *outcome);

#endif /* CERTAUTH_AUTH_H */
