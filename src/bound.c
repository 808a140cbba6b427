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
#include "rules.h"

struct binding_source {
	int id; /* enum certauth_source */
	/* 0 with b->certs (at least one) or b->rules, and b->where;
	 * CERTAUTH_ERR_NOT_FOUND when the source does not know the
	 * account; or another failure with b->reason. */
	int (*lookup)(struct certauth_ctx *c, const char *user,
	    struct certauth_bound *b);
};

static int
files_lookup(struct certauth_ctx *c, const char *user, struct certauth_bound *b)
{
	snprintf(b->where, sizeof(b->where), "files");
	return certauth_bindings_read(certauth_opts_bindings_dir(c->opts), user,
	    &c->seen, &b->certs, &b->reason);
}

static int
ldap_lookup(struct certauth_ctx *c, const char *user, struct certauth_bound *b)
{
	return certauth_ldap_lookup(c, user, &b->certs, b->where,
	    sizeof(b->where), &b->reason);
}

/*
 * The rules answer for any account: which certificate is its is known
 * only from the answer (certauth_bound_offered).  A file of no rules
 * maps nothing, and a missing one is the administrator's to fix.
 */
static int
rules_lookup(struct certauth_ctx *c, const char *user, struct certauth_bound *b)
{
	const char *path = certauth_opts_rules_file(c->opts);
	int r;

	(void)user;
	snprintf(b->where, sizeof(b->where), "rules");
	r = certauth_rules_load(path, &c->seen, &b->rules, &b->reason);
	if (r == CERTAUTH_ERR_NOT_FOUND) {
		certauth_reason_set(&b->reason,
		    "bindings=rules: rules file %s does not exist", path);
		b->reason.host_fault = 1;
		return CERTAUTH_ERR_CONFIG;
	}
	if (r == 0 && certauth_rules_count(b->rules) == 0) {
		certauth_rules_free(b->rules);
		b->rules = NULL;
		return CERTAUTH_ERR_NOT_FOUND;
	}
	return r;
}

static const struct binding_source sources[] = {
	{ CERTAUTH_SOURCE_FILES, files_lookup },
	{ CERTAUTH_SOURCE_LDAP, ldap_lookup },
	{ CERTAUTH_SOURCE_RULES, rules_lookup },
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
		b->r = s->lookup(c, user, b);
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

int
certauth_bound_offered(const struct certauth_bound *b, const char *user,
    const unsigned char *der, size_t derlen, STACK_OF(X509) **certs,
    struct certauth_reason *reason)
{
	const unsigned char *p = der;
	STACK_OF(X509) *offered = NULL;
	X509 *cert = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	if (der == NULL) {
		certauth_reason_set(reason,
		    "the certificates of user %s are mapped by rules, and the "
		    "answer offers no certificate (certauth-sign --with-cert)",
		    user);
		return CERTAUTH_ERR_FORMAT;
	}
	if ((cert = d2i_X509(NULL, &p, (long)derlen)) == NULL ||
	    p != der + derlen) {
		certauth_reason_set(reason,
		    "the certificate offered with the answer is not one DER "
		    "certificate");
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if ((offered = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(offered, cert)) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	cert = NULL;
	r = certauth_rules_bind(b->rules, user, offered, certs, reason);
out:
	X509_free(cert);
	sk_X509_pop_free(offered, X509_free);
	return r;
}

void
certauth_bound_clear(struct certauth_bound *b)
{
	sk_X509_pop_free(b->certs, X509_free);
	certauth_rules_free(b->rules);
	memset(b, 0, sizeof(*b));
}
