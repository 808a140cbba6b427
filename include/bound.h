/*
 * bound.h - which certificates may answer for an account.  The binding
 * sources named by bindings= are asked in that order and the first that
 * knows the account decides: the bindings files (bindings.h) and the LDAP
 * directory (ldap.h).
 */
#ifndef CERTAUTH_BOUND_H
#define CERTAUTH_BOUND_H

#include <openssl/x509.h>

#include "certauth.h"
#include "ctx.h"
#include "options.h"

/* What the binding sources said about one account. */
struct certauth_bound {
	int r;		       /* 0, or why there are no certificates */
	STACK_OF(X509) *certs; /* r == 0: at least one, owned */
	const char *source;    /* r == 0: the source's name ("files") */
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

void certauth_bound_clear(struct certauth_bound *b);

#endif /* CERTAUTH_BOUND_H */
