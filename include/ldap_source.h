/*
 * ldap_source.h - the LDAP binding source (bindings=ldap): the
 * certificates of an account from the one directory entry that matches
 * it, looked up by the certauth-ldap-fetch helper (ldap_wire.h) and kept
 * in a cache (ldap_cache.h) so that logins outlive the directory.
 */
#ifndef CERTAUTH_LDAP_SOURCE_H
#define CERTAUTH_LDAP_SOURCE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "certauth.h"
#include "ctx.h"
#include "ldap_wire.h"

/* Under configure's --libexecdir, which Makefile.am passes. */
#ifndef CERTAUTH_LDAP_HELPER
#define CERTAUTH_LDAP_HELPER "/usr/libexec/certauth-ldap-fetch"
#endif

/*
 * The certificates bound to user in the directory of c's options: from
 * a fresh cache entry written under the same settings, else from the
 * directory (whose answer then replaces the entry).  where gets
 * "ldap (cache)" or "ldap <the URI that answered>".
 *
 * Returns 0 with *certs (at least one, owned by the caller);
 * CERTAUTH_ERR_NOT_FOUND when the directory has no entry for user or the
 * entry no certificate (the next source may decide; the cache entry is
 * removed); otherwise a failure that ends the search, with a reason
 * naming the directory and the cause, the host's fault: 
 * CERTAUTH_ERR_UNREACHABLE (no server answered in time, TLS failed, the
 * bind or the search was refused), CERTAUTH_ERR_FORMAT (more than one
 * entry matched, a value that is not exactly one DER certificate),
 * CERTAUTH_ERR_TOO_LONG (over a cap), CERTAUTH_ERR_CONFIG or
 * CERTAUTH_ERR_UNSAFE (the bind password file or ldap_ca_file), and
 * CERTAUTH_ERR_INTERNAL for every failure of the helper or of this host
 * (including a timeout while a user could freeze the helper), never
 * taken as the directory's.  No stale cache entry is ever used.
 */
int certauth_ldap_lookup(struct certauth_ctx *c, const char *user,
    STACK_OF(X509) **certs, char *where, size_t wherelen,
    struct certauth_reason *reason);

/*
 * The values of a found record as certificates: each exactly one DER
 * X.509 (d2i_X509 consuming all its bytes), at most
 * CERTAUTH_LDAP_CERTS_MAX of at most CERTAUTH_LDAP_CERT_MAX bytes.
 * Returns 0 with *certs, CERTAUTH_ERR_TOO_LONG, CERTAUTH_ERR_FORMAT
 * (reason naming where and user) or CERTAUTH_ERR_NOMEM.
 */
int certauth_ldap_certs(const unsigned char *const *val, const size_t *vlen,
    size_t n, const char *where, const char *user, STACK_OF(X509) **certs,
    struct certauth_reason *reason);

#endif /* CERTAUTH_LDAP_SOURCE_H */
