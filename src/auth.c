/*
 * auth.c - the login decision of docs/PROTOCOL.md, "Checks, in order".
 * Cheap refusals come first; the chain policy runs only for a certificate
 * whose key has already verified the signature, so a wrong answer costs
 * little.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "auth.h"
#include "bindings.h"
#include "certauth.h"
#include "policy.h"
#include "response.h"
#include "verify.h"

static const char *
bindings_dir(const struct certauth_opts *o)
{
	return o->bindings_dir != NULL ? o->bindings_dir :
	    CERTAUTH_DEFAULT_BINDINGS_DIR;
}

/*
 * Collect into *matches (borrowed pointers, caller frees the stack only)
 * every bound certificate whose public key verifies sig over the challenge.
 * Returns 0 with at least one match, or CERTAUTH_ERR_BAD_SIGNATURE /
 * CERTAUTH_ERR_KEY_REFUSED with the reason, or CERTAUTH_ERR_NOMEM.
 */
static int
match_signature(const struct certauth_log *lg, STACK_OF(X509) *certs,
    const struct certauth_login *login, int digest, const unsigned char *sig, size_t siglen,
    STACK_OF(X509) **matches, struct certauth_reason *reason)
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
			certauth_reason_set(reason, "signature does not verify "
			    "with any of %d bound certificate%s", n,
			    n == 1 ? "" : "s");
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

/*
 * Run the chain policy on each certificate that verified the signature;
 * the first one that passes wins (an old and a renewed certificate may
 * share a key).  Returns 0 with *winner borrowed from matches.
 */
static int
check_policy(const struct certauth_opts *o, const struct certauth_log *lg,
    STACK_OF(X509) *matches, time_t now, X509 **winner,
    struct certauth_outcome *outcome)
{
	int r = CERTAUTH_ERR_INTERNAL, i;
	struct certauth_policy *pol = NULL;

	if ((r = certauth_policy_load(o, &pol, &outcome->reason)) != 0)
		goto out;
	certauth_policy_set_log(pol, lg);
	for (i = 0; i < sk_X509_num(matches); i++) {
		X509 *cert = sk_X509_value(matches, i);

		r = certauth_policy_check(pol, cert, now, &outcome->reason);
		if (r == 0) {
			*winner = cert;
			snprintf(outcome->ocsp_source,
			    sizeof(outcome->ocsp_source), "%s",
			    certauth_policy_ocsp_source(pol));
			break;
		}
		if (r == CERTAUTH_ERR_NOMEM)
			break;
	}
 out:
	certauth_policy_free(pol);
	return r;
}

static void
log_outcome(const struct certauth_log *lg, const struct certauth_login *login,
    int r, const struct certauth_outcome *outcome)
{
	if (r == 0) {
		log_info(lg, "user %s authenticated with certificate "
		    "SHA256:%s %s%s%s", login->user, outcome->fingerprint,
		    outcome->subject, outcome->ocsp_source[0] != '\0' ?
		    "; OCSP good from " : "", outcome->ocsp_source);
	} else if (r == CERTAUTH_ERR_TRUST_STORE || r == CERTAUTH_ERR_CONFIG ||
	    r == CERTAUTH_ERR_INTERNAL || r == CERTAUTH_ERR_NOMEM) {
		log_err(lg, "user %s not authenticated: %s: %s", login->user,
		    certauth_strerror(r), outcome->reason.text);
	} else {
		log_notice(lg, "user %s refused: %s", login->user,
		    outcome->reason.text);
	}
}

/* The checks before any certificate is looked at. */
static int
check_answer(const struct certauth_opts *o, const struct certauth_login *login,
    int *digest, unsigned char **sig, size_t *siglen,
    struct certauth_reason *reason)
{
	long late = (long)(login->answered - login->issued);

	if (login->answered < login->issued || late > o->challenge_ttl) {
		certauth_reason_set(reason, "response arrived after %ld "
		    "seconds, over challenge_ttl %ld", late, o->challenge_ttl);
		return CERTAUTH_ERR_EXPIRED;
	}
	if (login->response == NULL) {
		certauth_reason_set(reason, "no response");
		return CERTAUTH_ERR_FORMAT;
	}
	return certauth_response_parse(login->response, digest, sig, siglen,
	    reason);
}

int
certauth_authenticate(const struct certauth_opts *o,
    const struct certauth_log *lg, const struct certauth_login *login,
    struct certauth_outcome *outcome)
{
	int r = CERTAUTH_ERR_INTERNAL, digest = CERTAUTH_DIGEST_DEFAULT;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	STACK_OF(X509) *certs = NULL, *matches = NULL;
	X509 *winner = NULL;

	memset(outcome, 0, sizeof(*outcome));
	certauth_reason_set(&outcome->reason, "%s",
	    certauth_strerror(CERTAUTH_ERR_INTERNAL));
	if ((r = check_answer(o, login, &digest, &sig, &siglen,
	    &outcome->reason)) != 0)
		goto out;
	if (!login->user_known) {
		certauth_reason_set(&outcome->reason, "unknown user");
		r = CERTAUTH_ERR_NOT_FOUND;
		goto out;
	}
	r = certauth_bindings_read(bindings_dir(o), login->user, &certs,
	    &outcome->reason);
	if (r == CERTAUTH_ERR_NOT_FOUND)
		certauth_reason_set(&outcome->reason,
		    "no certificate bound to user %s", login->user);
	if (r != 0)
		goto out;
	if ((r = match_signature(lg, certs, login, digest, sig, siglen, &matches,
	    &outcome->reason)) != 0)
		goto out;
	if ((r = check_policy(o, lg, matches, login->answered, &winner,
	    outcome)) != 0)
		goto out;
	if ((r = certauth_cert_fingerprint(winner, outcome->fingerprint)) != 0)
		goto out;
	certauth_name_string(X509_get_subject_name(winner), outcome->subject,
	    sizeof(outcome->subject));
	r = 0;
 out:
	if (r == 0)
		outcome->reason.text[0] = '\0';
	log_outcome(lg, login, r, outcome);
	sk_X509_free(matches);
	sk_X509_pop_free(certs, X509_free);
	certauth_freezero(sig, siglen);
	ERR_clear_error();
	return r;
}
