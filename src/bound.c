/*
 * bound.c - the binding sources, asked in order for the certificates of
 * an account.  A new source is one lookup function and one row below.
 */
#include "config.h"

#include <string.h>

#include <openssl/x509.h>

#include "bindings.h"
#include "bound.h"
#include "certauth.h"
#include "ctx.h"
#include "options.h"

struct binding_source {
	const char *name;
	/* 0 with at least one certificate, CERTAUTH_ERR_NOT_FOUND when the
	 * source does not know the account, or another failure. */
	int (*lookup)(struct certauth_ctx *c, const char *user,
	    STACK_OF(X509) **certs, struct certauth_reason *reason);
};

static int
files_lookup(struct certauth_ctx *c, const char *user, STACK_OF(X509) **certs,
    struct certauth_reason *reason)
{
	return certauth_bindings_read(certauth_opts_bindings_dir(c->opts), user,
	    &c->seen, certs, reason);
}

static const struct binding_source sources[] = {
	{ "files", files_lookup },
};

int
certauth_bound_lookup(struct certauth_ctx *c, const char *user,
    struct certauth_bound *b)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	b->r = CERTAUTH_ERR_NOT_FOUND;
	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		b->r = sources[i].lookup(c, user, &b->certs, &b->reason);
		if (b->r == 0)
			b->source = sources[i].name;
		else if (b->r != CERTAUTH_ERR_NOT_FOUND &&
		    b->reason.text[0] == '\0')
			certauth_reason_set(&b->reason,
			    "cannot look up the "
			    "certificates of user %s in %s: %s",
			    user, sources[i].name, certauth_strerror(b->r));
		if (b->r != CERTAUTH_ERR_NOT_FOUND)
			return b->r;
	}
	certauth_reason_set(&b->reason, "no certificate bound to user %s",
	    user);
	return b->r;
}

void
certauth_bound_clear(struct certauth_bound *b)
{
	sk_X509_pop_free(b->certs, X509_free);
	memset(b, 0, sizeof(*b));
}
