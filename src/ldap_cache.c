/*
 * ldap_cache.c - the directory's answers on disk (ldap_cache.h).
 *
 * Unlike an OCSP answer, a cached binding is not verified again by a
 * signature: the entry itself says which certificates may answer for an
 * account.  So only root can have written it (the safe-file rules on
 * the file and every parent), it is used only under the settings that
 * produced it and only while younger than ldap_cache_max_age, and every
 * certificate in it still goes through the chain policy at each login.
 *
 *   pam_certauth-ldap-cache 1\n
 *   answered <seconds since the epoch>\n
 *   settings <64 hex digits>\n
 *   count <1..16>\n
 *   then count values, each <len>\n<len bytes of DER>
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "certauth.h"
#include "helper.h"
#include "ldap_cache.h"
#include "ldap_source.h"
#include "ldap_wire.h"
#include "options.h"
#include "parse_cache.h"
#include "safefile.h"
#include "safewrite.h"

#define CACHE_MAGIC    "pam_certauth-ldap-cache 1\n"
#define CACHE_HEAD_MAX 256
#define CACHE_MAX \
	(CACHE_HEAD_MAX + \
	    CERTAUTH_LDAP_CERTS_MAX * (8 + CERTAUTH_LDAP_CERT_MAX))

int
certauth_ldap_settings(const struct certauth_opts *o,
    unsigned char md[CERTAUTH_LDAP_SETTINGS_LEN])
{
	const char *parts[6];
	EVP_MD_CTX *ctx = NULL;
	unsigned int len = 0;
	size_t i;
	int r = CERTAUTH_ERR_INTERNAL;

	parts[0] = o->ldap_uri != NULL ? o->ldap_uri : "";
	parts[1] = o->ldap_base != NULL ? o->ldap_base : "";
	parts[2] = certauth_opts_ldap_filter(o);
	parts[3] = certauth_opts_ldap_cert_attr(o);
	parts[4] = o->ldap_tls ? "tls" : "cleartext";
	parts[5] = o->ldap_bind_dn != NULL ? o->ldap_bind_dn : "";
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	/* Each part with its NUL, so no two lists run together alike. */
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1) != 1)
			goto out;
	if (EVP_DigestFinal_ex(ctx, md, &len) != 1 ||
	    len != CERTAUTH_LDAP_SETTINGS_LEN)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* "<dir>/<hex SHA-256 of user>", malloc'd. */
static int
entry_path(const char *dir, const char *user, char **out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int mdlen = 0;

	*out = NULL;
	if (EVP_Digest(user, strlen(user), md, &mdlen, EVP_sha256(), NULL) != 1)
		return CERTAUTH_ERR_INTERNAL;
	certauth_hex_encode(md, mdlen, hex);
	if (asprintf(out, "%s/%s", dir, hex) < 0) {
		*out = NULL;
		return CERTAUTH_ERR_NOMEM;
	}
	return 0;
}

/* "<key> <value>\n" at *pp with a decimal value of 1..digits digits. */
static int
head_number(const char **pp, const char *end, const char *key, size_t digits,
    long long *out)
{
	size_t klen = strlen(key);

	if ((size_t)(end - *pp) <= klen || memcmp(*pp, key, klen) != 0 ||
	    (*pp)[klen] != ' ')
		return -1;
	*pp += klen + 1;
	return certauth_wire_number(pp, end, digits, '\n', out);
}

/* The parsed entry: its date, settings and values (into the buffer). */
struct entry {
	long long answered;
	unsigned char md[CERTAUTH_LDAP_SETTINGS_LEN];
	size_t count;
	const unsigned char *val[CERTAUTH_LDAP_CERTS_MAX];
	size_t vlen[CERTAUTH_LDAP_CERTS_MAX];
};

static int
parse_entry(const char *buf, size_t len, struct entry *e)
{
	const char *p = buf, *end = buf + len;
	char hex[2 * CERTAUTH_LDAP_SETTINGS_LEN + 1];
	long long count, vlen;
	size_t i, mlen = sizeof(CACHE_MAGIC) - 1;

	if (len < mlen || memcmp(p, CACHE_MAGIC, mlen) != 0)
		return -1;
	p += mlen;
	if (head_number(&p, end, "answered", 12, &e->answered) != 0)
		return -1;
	if ((size_t)(end - p) < 9 + 2 * CERTAUTH_LDAP_SETTINGS_LEN + 1 ||
	    memcmp(p, "settings ", 9) != 0 ||
	    p[9 + 2 * CERTAUTH_LDAP_SETTINGS_LEN] != '\n')
		return -1;
	p += 9;
	memcpy(hex, p, sizeof(hex) - 1);
	hex[sizeof(hex) - 1] = '\0';
	for (i = 0; i < CERTAUTH_LDAP_SETTINGS_LEN; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1 ||
		    strchr("0123456789abcdef", hex[2 * i]) == NULL ||
		    strchr("0123456789abcdef", hex[2 * i + 1]) == NULL)
			return -1;
		e->md[i] = (unsigned char)b;
	}
	p += 2 * CERTAUTH_LDAP_SETTINGS_LEN + 1;
	if (head_number(&p, end, "count", 2, &count) != 0 || count < 1 ||
	    count > CERTAUTH_LDAP_CERTS_MAX)
		return -1;
	for (i = 0; i < (size_t)count; i++) {
		if (certauth_wire_number(&p, end, 5, '\n', &vlen) != 0 ||
		    vlen < 1 || vlen > CERTAUTH_LDAP_CERT_MAX || vlen > end - p)
			return -1;
		e->val[i] = (const unsigned char *)p;
		e->vlen[i] = (size_t)vlen;
		p += vlen;
	}
	if (p != end)
		return -1;
	e->count = (size_t)count;
	return 0;
}

/*
 * The certificates of entry e, read as buf[0..len) from path: parsed
 * again only when this process has not parsed these very bytes before
 * (parse_cache.h), as a bindings file's are.
 */
static int
entry_certs(const char *path, const char *buf, size_t len,
    const struct entry *e, const char *user, STACK_OF(X509) **certs,
    struct certauth_reason *reason)
{
	struct certauth_parsed p;
	int r;

	memset(&p, 0, sizeof(p));
	if ((r = certauth_cache_get(CERTAUTH_CACHE_BINDINGS, path, buf, len,
		 &p)) < 0)
		goto out;
	if (r == 0) {
		r = certauth_ldap_certs(e->val, e->vlen, e->count, path, user,
		    &p.certs, reason);
		if (r == CERTAUTH_ERR_TOO_LONG)
			r = CERTAUTH_ERR_FORMAT;
		if (r != 0)
			goto out;
		certauth_cache_put(CERTAUTH_CACHE_BINDINGS, path, buf, len, &p);
	}
	*certs = p.certs;
	p.certs = NULL;
	r = 0;
out:
	certauth_parsed_clear(&p);
	return r;
}

int
certauth_ldap_cache_load(const char *dir, const char *user,
    const unsigned char md[CERTAUTH_LDAP_SETTINGS_LEN], time_t now,
    long max_age, STACK_OF(X509) **certs, struct certauth_reason *reason)
{
	struct entry e;
	char *path = NULL, *buf = NULL;
	size_t len = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	*certs = NULL;
	if ((r = entry_path(dir, user, &path)) != 0)
		goto out;
	r = certauth_read_safely(path, "LDAP cache file", CACHE_MAX, 0, NULL,
	    &buf, &len, reason);
	if (r == CERTAUTH_ERR_NOT_FOUND)
		certauth_reason_set(reason, "no LDAP cache entry %s", path);
	if (r == CERTAUTH_ERR_TOO_LONG)
		r = CERTAUTH_ERR_FORMAT;
	if (r != 0)
		goto out;
	memset(&e, 0, sizeof(e));
	if (parse_entry(buf, len, &e) != 0) {
		certauth_reason_set(reason, "LDAP cache file %s is malformed",
		    path);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if (memcmp(e.md, md, CERTAUTH_LDAP_SETTINGS_LEN) != 0) {
		certauth_reason_set(reason,
		    "LDAP cache entry %s was written under other settings",
		    path);
		r = CERTAUTH_ERR_NOT_FOUND;
		goto out;
	}
	if (e.answered > (long long)now + CERTAUTH_LDAP_CACHE_SKEW) {
		certauth_reason_set(reason,
		    "LDAP cache file %s is dated %lld s in the future", path,
		    e.answered - (long long)now);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if ((long long)now - e.answered >= max_age) {
		certauth_reason_set(reason,
		    "LDAP cache entry %s is %lld s old, over "
		    "ldap_cache_max_age %ld",
		    path, (long long)now - e.answered, max_age);
		r = CERTAUTH_ERR_NOT_FOUND;
		goto out;
	}
	r = entry_certs(path, buf, len, &e, user, certs, reason);
out:
	free(buf);
	free(path);
	return r;
}

int
certauth_ldap_cache_store(const char *dir, const char *user,
    const unsigned char md[CERTAUTH_LDAP_SETTINGS_LEN], time_t answered,
    const unsigned char *const *val, const size_t *vlen, size_t n,
    struct certauth_reason *reason)
{
	char hex[2 * CERTAUTH_LDAP_SETTINGS_LEN + 1];
	char *path = NULL, *buf = NULL;
	size_t len = 0, i, total;
	int k, r = CERTAUTH_ERR_INTERNAL;

	if (n < 1 || n > CERTAUTH_LDAP_CERTS_MAX) {
		certauth_reason_set(reason, "%zu values not cached", n);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	total = CACHE_HEAD_MAX;
	for (i = 0; i < n; i++) {
		if (vlen[i] < 1 || vlen[i] > CERTAUTH_LDAP_CERT_MAX) {
			certauth_reason_set(reason,
			    "a value of %zu bytes not "
			    "cached",
			    vlen[i]);
			r = CERTAUTH_ERR_FORMAT;
			goto out;
		}
		total += 8 + vlen[i];
	}
	if ((buf = malloc(total)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	certauth_hex_encode(md, CERTAUTH_LDAP_SETTINGS_LEN, hex);
	k = snprintf(buf, CACHE_HEAD_MAX,
	    CACHE_MAGIC "answered %lld\nsettings %s\ncount %zu\n",
	    (long long)answered, hex, n);
	if (k < 0 || k >= CACHE_HEAD_MAX)
		goto out;
	len = (size_t)k;
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(buf + len, total - len, "%zu\n",
		    vlen[i]);
		memcpy(buf + len, val[i], vlen[i]);
		len += vlen[i];
	}
	if ((r = entry_path(dir, user, &path)) != 0)
		goto out;
	r = certauth_write_cache_file(dir, "LDAP cache directory", path, buf,
	    len, reason);
out:
	free(buf);
	free(path);
	return r;
}

int
certauth_ldap_cache_remove(const char *dir, const char *user,
    struct certauth_reason *reason)
{
	char *path = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((r = entry_path(dir, user, &path)) != 0)
		goto out;
	r = certauth_check_dir_safely(dir, "LDAP cache directory", reason);
	if (r == CERTAUTH_ERR_NOT_FOUND) {
		r = 0;
		goto out;
	}
	if (r != 0)
		goto out;
	if (unlink(path) != 0 && errno != ENOENT) {
		certauth_reason_set(reason,
		    "cannot remove LDAP cache file "
		    "%s: %s",
		    path, strerror(errno));
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	r = 0;
out:
	free(path);
	return r;
}
