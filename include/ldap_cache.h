/*
 * ldap_cache.h - the directory's answers kept on disk, one file per
 * account (named by the SHA-256 of the user name) in a root-owned 0700
 * directory: a header with the format's version, when the directory
 * answered and a digest of the settings that shaped the answer, then the
 * DER certificates.  Read with the safe-file rules, written by rename.
 */
#ifndef CERTAUTH_LDAP_CACHE_H
#define CERTAUTH_LDAP_CACHE_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "certauth.h"
#include "options.h"

#define CERTAUTH_LDAP_SETTINGS_LEN 32 /* SHA-256 */
/* How far in the future an entry may be dated (clock steps). */
#define CERTAUTH_LDAP_CACHE_SKEW 300

/* The digest of the settings that shape an answer: the URIs, the base,
 * the filter template, the attribute, StartTLS and the bind DN.  Returns
 * 0 or CERTAUTH_ERR_INTERNAL. */
int certauth_ldap_settings(const struct certauth_opts *o,
    unsigned char md[CERTAUTH_LDAP_SETTINGS_LEN]);

/*
 * The entry of user in dir when it was written under settings md, is
 * dated at most max_age seconds before now and parses whole.  Returns 0
 * with *certs; CERTAUTH_ERR_NOT_FOUND when there is nothing to use in
 * the ordinary course (no entry, older than max_age, other settings),
 * with a reason; CERTAUTH_ERR_FORMAT (malformed, or dated more than
 * CERTAUTH_LDAP_CACHE_SKEW in the future), CERTAUTH_ERR_UNSAFE,
 * CERTAUTH_ERR_IO or CERTAUTH_ERR_NOMEM with a reason naming the file:
 * to be logged, and the directory asked.
 */
int certauth_ldap_cache_load(const char *dir, const char *user,
    const unsigned char md[CERTAUTH_LDAP_SETTINGS_LEN], time_t now,
    long max_age, STACK_OF(X509) **certs, struct certauth_reason *reason);

/* Replace the entry of user with n values answered at time answered,
 * creating dir (0700) when missing.  Returns 0 or an error with a
 * reason. */
int certauth_ldap_cache_store(const char *dir, const char *user,
    const unsigned char md[CERTAUTH_LDAP_SETTINGS_LEN], time_t answered,
    const unsigned char *const *val, const size_t *vlen, size_t n,
    struct certauth_reason *reason);

/* Remove the entry of user; none is fine.  Returns 0 or an error with a
 * reason. */
int certauth_ldap_cache_remove(const char *dir, const char *user,
    struct certauth_reason *reason);

#endif /* CERTAUTH_LDAP_CACHE_H */
