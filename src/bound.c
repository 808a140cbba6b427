/*
 * bound.c - the binding sources, asked in the order of bindings= for the
 * certificates of an account.  A new source is one lookup function and
 * one row below (and its name in options.c).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "bindings.h"
#include "bound.h"
#include "certauth.h"
#include "ctx.h"
#include "ldap_source.h"
#include "options.h"

struct binding_source {
	int id; /* enum certauth_source */
	/* 0 with at least one certificate and where they came from,
	 * CERTAUTH_ERR_NOT_FOUND when the source does not know the
	 * account, or another failure. */
	int (*lookup)(struct certauth_ctx *c, const char *user,
	    STACK_OF(X509) **certs, char *where, size_t wherelen,
	    struct certauth_reason *reason);
};

static int
files_lookup(struct certauth_ctx *c, const char *user, STACK_OF(X509) **certs,
    char *where, size_t wherelen, struct certauth_reason *reason)
{
	snprintf(where, wherelen, "files");
	return certauth_bindings_read(certauth_opts_bindings_dir(c->opts), user,
	    &c->seen, certs, reason);
}

static const struct binding_source sources[] = {
	{ CERTAUTH_SOURCE_FILES, files_lookup },
	{ CERTAUTH_SOURCE_LDAP, certauth_ldap_lookup },
};

static const struct binding_source *
find_source(int id)
{
	size_t i;

	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (sources[i].id == id)
			return &sources[i];
	return NULL;
}

int
certauth_bound_lookup(struct certauth_ctx *c, const char *user,
    struct certauth_bound *b)
{
	const struct binding_source *s;
	const char *name;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->r = CERTAUTH_ERR_NOT_FOUND;
	for (i = 0; i < c->opts->nbindings; i++) {
		name = certauth_source_name(c->opts->bindings[i]);
		if ((s = find_source(c->opts->bindings[i])) == NULL ||
		    name == NULL) {
			b->r = CERTAUTH_ERR_INTERNAL;
			certauth_reason_set(&b->reason,
			    "binding source %d is not built in",
			    c->opts->bindings[i]);
			return b->r;
		}
		b->r = s->lookup(c, user, &b->certs, b->where, sizeof(b->where),
		    &b->reason);
		if (b->r == 0)
			b->source = name;
		else if (b->r != CERTAUTH_ERR_NOT_FOUND &&
		    b->reason.text[0] == '\0')
			certauth_reason_set(&b->reason,
			    "cannot look up the "
			    "certificates of user %s in %s: %s",
			    user, name, certauth_strerror(b->r));
		if (b->r != CERTAUTH_ERR_NOT_FOUND)
			return b->r;
		/* A source that does not know the account leaves nothing. */
		sk_X509_pop_free(b->certs, X509_free);
		b->certs = NULL;
		memset(&b->reason, 0, sizeof(b->reason));
	}
	b->where[0] = '\0';
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
