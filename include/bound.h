/*
 * bound.h - which certificates may answer for an account.  The binding
 * sources named by bindings= are asked in that order and the first that
 * knows the account decides: the bindings files (bindings.h), the LDAP
 * directory (ldap_source.h) and, last, the mapping rules (rules.h),
 * which bind no certificate ahead of the login: the account's are the
 * ones the answer offers that the rules map to it.
 */
#ifndef CERTAUTH_BOUND_H
#define CERTAUTH_BOUND_H

#include <openssl/x509.h>

#include "certauth.h"
#include "ctx.h"
#include "options.h"

struct certauth_rules;

/* What the binding sources said about one account. */
struct certauth_bound {
	int r; /* 0, or why there are no certificates */
	/* r == 0: at least one, owned; NULL when rules decides */
	STACK_OF(X509) *certs;
	/* r == 0 from the rules source: the rules, owned, that map an
	 * offered certificate to the account (certauth_bound_offered) */
	struct certauth_rules *rules;
	const char *source; /* r == 0: the source's name ("files") */
	/* r == 0: where the certificates came from, for the log: "files",
	 * "ldap (cache)", "ldap ldaps://dir.example" */
	char where[CERTAUTH_REASON_MAX / 2];
	struct certauth_reason reason; /* r != 0 */
};

/*
 * Ask the sources of bindings= about user, in order, within the login c
 * (its options, the record of safe directories the files source shares).  Returns b->r: 0 with the certificates;
 * CERTAUTH_ERR_NOT_FOUND when no source knows the account ("no
 * certificate bound to user alice"); or the first source's failure that
 * is not "unknown" (CERTAUTH_ERR_UNSAFE, _FORMAT, _TOO_LONG, _IO,
 * _NOMEM) with its reason, which ends the search: a source that cannot
 * be read never lets a later one decide.  Free with certauth_bound_clear.
 */
int certauth_bound_lookup(struct certauth_ctx *c, const char *user,
    struct certauth_bound *b);

/*
 * For an account the rules source decides (b->rules): parse the
 * certificate offered with the answer (der[0..derlen), DER; der NULL
 * when none was) and, when the rules map it to user, return it as the
 * account's one certificate in *certs (owned, free with
 * sk_X509_pop_free).  Returns 0, or the refusal with
 * its reason: none offered or not DER (CERTAUTH_ERR_FORMAT), mapped to
 * no account or another (CERTAUTH_ERR_NOT_FOUND), refused by the rules
 * (CERTAUTH_ERR_CERT_INVALID); CERTAUTH_ERR_NOMEM.
 */
int certauth_bound_offered(const struct certauth_bound *b, const char *user,
    const unsigned char *der, size_t derlen, STACK_OF(X509) **certs,
    struct certauth_reason *reason);

void certauth_bound_clear(struct certauth_bound *b);

#endif /* CERTAUTH_BOUND_H */
