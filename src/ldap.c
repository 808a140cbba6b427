/*
 * ldap.c - the LDAP binding source.  The directory is spoken to by the
 * certauth-ldap-fetch helper, run by helper.c (libldap and its TLS
 * library never enter the PAM host); here: the request, the record, the
 * cache, and what each outcome means.  Nothing the directory sends is
 * trusted further than a certificate that parses: each value still has
 * to pass the key check and the chain policy like a bound file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "cgroup.h"
#include "ctx.h"
#include "helper.h"
#include "ldap_cache.h"
#include "ldap_source.h"
#include "ldap_wire.h"
#include "log.h"
#include "options.h"
#include "safefile.h"

#define HELPER_ARGV0 "certauth-ldap-fetch"
#define PASSWORD_MAX 1024
/* ldap_ca_file is read here to hold it to the safe-file rules. */
#define CA_FILE_MAX (1024 * 1024)

int
certauth_ldap_certs(const unsigned char *const *val, const size_t *vlen,
    size_t n, const char *where, const char *user, STACK_OF(X509) **certs,
    struct certauth_reason *reason)
{
	STACK_OF(X509) *sk = NULL;
	const unsigned char *p;
	X509 *x = NULL;
	size_t i;
	int r = CERTAUTH_ERR_INTERNAL;

	*certs = NULL;
	if (n == 0 || n > CERTAUTH_LDAP_CERTS_MAX) {
		certauth_reason_set(reason,
		    "%s holds %zu certificates for user %s, not 1 to %d", where,
		    n, user, CERTAUTH_LDAP_CERTS_MAX);
		r = n == 0 ? CERTAUTH_ERR_FORMAT : CERTAUTH_ERR_TOO_LONG;
		goto out;
	}
	if ((sk = sk_X509_new_null()) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (vlen[i] > CERTAUTH_LDAP_CERT_MAX) {
			certauth_reason_set(reason,
			    "%s: certificate %zu of user %s has %zu bytes, "
			    "over %d",
			    where, i + 1, user, vlen[i],
			    CERTAUTH_LDAP_CERT_MAX);
			r = CERTAUTH_ERR_TOO_LONG;
			goto out;
		}
		p = val[i];
		if (vlen[i] == 0 ||
		    (x = d2i_X509(NULL, &p, (long)vlen[i])) == NULL ||
		    p != val[i] + vlen[i]) {
			certauth_reason_set(reason,
			    "%s: value %zu for user %s is not exactly one DER "
			    "certificate",
			    where, i + 1, user);
			r = CERTAUTH_ERR_FORMAT;
			goto out;
		}
		if (sk_X509_push(sk, x) <= 0) {
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		x = NULL;
	}
	*certs = sk;
	sk = NULL;
	r = 0;
out:
	X509_free(x);
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return r;
}

/*
 * The bind password: a root-owned file that nobody else may read or
 * write, in safe directories; one line, its newline dropped.  Returns 0
 * with *pw (malloc'd; the caller wipes it), or CERTAUTH_ERR_UNSAFE,
 * _CONFIG, _IO, _NOMEM with a reason.
 */
static int
read_password(const char *path, char **pw, size_t *pwlen,
    struct certauth_reason *reason)
{
	const char *what = "LDAP bind password file";
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd = -1, r = CERTAUTH_ERR_INTERNAL;

	*pw = NULL;
	*pwlen = 0;
	if ((r = certauth_open_safely(path, what, &fd, reason)) != 0) {
		if (r == CERTAUTH_ERR_NOT_FOUND) {
			certauth_reason_set(reason, "%s %s does not exist",
			    what, path);
			r = CERTAUTH_ERR_CONFIG;
		}
		goto out;
	}
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
		certauth_reason_set(reason,
		    "%s %s is readable or writable by group or others "
		    "(chmod 600 it)",
		    what, path);
		r = CERTAUTH_ERR_UNSAFE;
		goto out;
	}
	if ((r = certauth_read_fd(fd, PASSWORD_MAX, &buf, &len)) != 0) {
		certauth_reason_set(reason,
		    "cannot read %s %s (at most %d "
		    "bytes)",
		    what, path, PASSWORD_MAX);
		goto out;
	}
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\n', len) != NULL ||
	    memchr(buf, '\0', len) != NULL) {
		/* An empty password would make an unauthenticated bind. */
		certauth_reason_set(reason,
		    "%s %s must hold one non-empty line", what, path);
		r = CERTAUTH_ERR_CONFIG;
		goto out;
	}
	*pw = buf;
	*pwlen = len;
	buf = NULL;
	r = 0;
out:
	certauth_freezero(buf, len);
	if (fd >= 0)
		close(fd);
	return r;
}

/* ldap_ca_file held to the rules of the other trust files. */
static int
check_ca_file(const char *path, struct certauth_reason *reason)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = certauth_read_safely(path, "LDAP CA file", CA_FILE_MAX,
	    CERTAUTH_SAFE_FOLLOW, NULL, &buf, &len, reason);
	if (r == CERTAUTH_ERR_NOT_FOUND) {
		certauth_reason_set(reason, "LDAP CA file %s does not exist",
		    path);
		r = CERTAUTH_ERR_CONFIG;
	}
	free(buf);
	return r;
}

/* Whether a URI of the list is cleartext ldap://. */
static int
has_plain(const char *uris)
{
	const char *p = uris;

	for (;;) {
		if (strncasecmp(p, "ldap://", 7) == 0)
			return 1;
		if ((p = strchr(p, ',')) == NULL)
			return 0;
		p++;
	}
}

static int
parse_record(void *arg, const unsigned char *buf, size_t len)
{
	return certauth_ldap_record_parse(buf, len, arg);
}

/* The helper's record for user, from the directory of o. */
static int
ask_directory(const struct certauth_opts *o, const char *user,
    unsigned char **out, size_t *outlen, struct certauth_ldap_record *rec,
    struct certauth_reason *reason)
{
	struct certauth_ldap_request req;
	struct certauth_helper_job job;
	char *words[2] = { (char *)HELPER_ARGV0, NULL };
	char *pw = NULL, ms[24];
	unsigned char *rq = NULL;
	size_t pwlen = 0, rqlen = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	if (o->ldap_bind_dn != NULL &&
	    (r = read_password(o->ldap_bind_pw_file, &pw, &pwlen, reason)) != 0)
		goto out;
	if (o->ldap_ca_file != NULL &&
	    (r = check_ca_file(o->ldap_ca_file, reason)) != 0)
		goto out;
	snprintf(ms, sizeof(ms), "%ld", o->ldap_timeout_ms);
	memset(&req, 0, sizeof(req));
	req.fields[CERTAUTH_LDAP_F_URIS] = o->ldap_uri;
	req.fields[CERTAUTH_LDAP_F_BASE] = o->ldap_base;
	req.fields[CERTAUTH_LDAP_F_FILTER] = certauth_opts_ldap_filter(o);
	req.fields[CERTAUTH_LDAP_F_USER] = user;
	req.fields[CERTAUTH_LDAP_F_ATTR] = certauth_opts_ldap_cert_attr(o);
	req.fields[CERTAUTH_LDAP_F_CA_FILE] = o->ldap_ca_file != NULL ?
	    o->ldap_ca_file :
	    "";
	req.fields[CERTAUTH_LDAP_F_TLS] = o->ldap_tls ? "1" : "0";
	req.fields[CERTAUTH_LDAP_F_BIND_DN] = o->ldap_bind_dn != NULL ?
	    o->ldap_bind_dn :
	    "";
	req.fields[CERTAUTH_LDAP_F_PASSWORD] = pw != NULL ? pw : "";
	req.fields[CERTAUTH_LDAP_F_TIMEOUT_MS] = ms;
	if ((r = certauth_ldap_request_encode(&req, &rq, &rqlen)) != 0) {
		certauth_reason_set(reason,
		    "cannot make the LDAP request for user %s", user);
		r = r == -2 ? CERTAUTH_ERR_NOMEM : CERTAUTH_ERR_TOO_LONG;
		goto out;
	}
	memset(&job, 0, sizeof(job));
	job.path = CERTAUTH_LDAP_HELPER;
	job.what = "LDAP helper";
	job.argv = words;
	job.env = "LDAPNOINIT=1";
	job.req = rq;
	job.reqlen = rqlen;
	job.out_max = CERTAUTH_LDAP_RECORD_MAX;
	job.budget_ms = o->ldap_timeout_ms;
	job.parse = parse_record;
	job.arg = rec;
	r = certauth_helper_run(&job, out, outlen, reason);
out:
	certauth_freezero(rq, rqlen);
	certauth_freezero(pw, pwlen);
	return r;
}

/* The helper's text without the URI it starts with when that is the
 * one configured, which the reason names already. */
static const char *
detail(const char *text, const char *uris)
{
	size_t n = strlen(uris);

	if (strncmp(text, uris, n) == 0 && text[n] == ':' && text[n + 1] == ' ')
		return text + n + 2;
	return text;
}

/* What a record other than "found" means, with its reason. */
static int
map_failure(const struct certauth_ldap_record *rec, const char *uris,
    const char *user, struct certauth_reason *reason)
{
	const char *text = detail(rec->text, uris);
	struct certauth_reason why;
	int r;

	switch (rec->code) {
	case CERTAUTH_LDAP_NOT_FOUND:
		certauth_reason_set(reason,
		    "LDAP directory %s has no certificate for user %s: %s",
		    uris, user, text);
		return CERTAUTH_ERR_NOT_FOUND;
	case CERTAUTH_LDAP_AMBIGUOUS:
		certauth_reason_set(reason,
		    "LDAP directory %s: %s for user %s: refused", uris, text,
		    user);
		return CERTAUTH_ERR_FORMAT;
	case CERTAUTH_LDAP_UNREACHABLE:
	case CERTAUTH_LDAP_TIMEOUT:
		/* A frozen helper also sees its servers time out. */
		if ((r = certauth_cgroup_unfreezable(&why)) != 0) {
			certauth_reason_set(reason,
			    "LDAP directory %s: %s, but %s: not taken as the "
			    "directory's",
			    uris, text, why.text);
			return r;
		}
		certauth_reason_set(reason,
		    "cannot reach LDAP directory %s for user %s: %s", uris,
		    user, text);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_LDAP_TLS:
		certauth_reason_set(reason,
		    "LDAP directory %s: TLS failed for user %s: %s", uris, user,
		    text);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_LDAP_BIND:
		certauth_reason_set(reason,
		    "LDAP directory %s refused the bind: %s", uris, text);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_LDAP_REFUSED:
		certauth_reason_set(reason,
		    "LDAP directory %s refused the search for user %s: %s",
		    uris, user, text);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_LDAP_TOO_BIG:
		certauth_reason_set(reason, "LDAP directory %s: user %s: %s",
		    uris, user, text);
		return CERTAUTH_ERR_TOO_LONG;
	default:
		certauth_reason_set(reason,
		    "LDAP helper " CERTAUTH_LDAP_HELPER " failed (%s): %s",
		    certauth_ldap_code_name(rec->code), rec->text);
		return CERTAUTH_ERR_INTERNAL;
	}
}

/* A fresh cache entry for user, or nothing; a broken one is logged. */
static int
from_cache(struct certauth_ctx *c, const char *dir, const char *user,
    const unsigned char *md, STACK_OF(X509) **certs)
{
	struct certauth_reason why;
	int r;

	memset(&why, 0, sizeof(why));
	r = certauth_ldap_cache_load(dir, user, md, time(NULL),
	    c->opts->ldap_cache_max_age, certs, &why);
	if (r == CERTAUTH_ERR_NOT_FOUND)
		log_debug(c->lg, "user %s: %s", user, why.text);
	else if (r != 0)
		log_err(c->lg,
		    "LDAP cache entry of user %s not used: %s; asking the "
		    "directory",
		    user, why.text);
	return r;
}

/* The found answer into the cache; a failure is logged, not fatal. */
static void
to_cache(struct certauth_ctx *c, const char *dir, const char *user,
    const unsigned char *md, const struct certauth_ldap_record *rec)
{
	struct certauth_reason why;

	memset(&why, 0, sizeof(why));
	if (certauth_ldap_cache_store(dir, user, md, time(NULL), rec->val,
		rec->vlen, rec->count, &why) != 0)
		log_err(c->lg, "cannot cache the LDAP answer for user %s: %s",
		    user, why.text);
}

int
certauth_ldap_lookup(struct certauth_ctx *c, const char *user,
    STACK_OF(X509) **certs, char *where, size_t wherelen,
    struct certauth_reason *reason)
{
	const struct certauth_opts *o = c->opts;
	const char *dir = certauth_opts_ldap_cache_dir(o);
	struct certauth_ldap_record rec;
	struct certauth_reason why;
	unsigned char md[CERTAUTH_LDAP_SETTINGS_LEN], *out = NULL;
	char from[CERTAUTH_REASON_MAX];
	size_t outlen = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	*certs = NULL;
	snprintf(where, wherelen, "ldap");
	if (o->ldap_uri == NULL || o->ldap_base == NULL) {
		certauth_reason_set(reason,
		    "bindings=ldap needs ldap_uri and "
		    "ldap_base");
		r = CERTAUTH_ERR_CONFIG;
		goto out;
	}
	if ((r = certauth_ldap_settings(o, md)) != 0)
		goto out;
	if (o->ldap_cache_max_age == 0)
		dir = NULL;
	if (dir != NULL && from_cache(c, dir, user, md, certs) == 0) {
		snprintf(where, wherelen, "ldap (cache)");
		r = 0;
		goto out;
	}
	if (!o->ldap_tls && has_plain(o->ldap_uri))
		log_warn(c->lg,
		    "LDAP lookup of user %s over cleartext ldap:// "
		    "(ldap_tls=no): the answer and any bind password cross "
		    "the network unprotected",
		    user);
	memset(&rec, 0, sizeof(rec));
	if ((r = ask_directory(o, user, &out, &outlen, &rec, reason)) != 0)
		goto out;
	if (rec.code != CERTAUTH_LDAP_FOUND) {
		r = map_failure(&rec, o->ldap_uri, user, reason);
		if (r == CERTAUTH_ERR_NOT_FOUND && dir != NULL) {
			memset(&why, 0, sizeof(why));
			if (certauth_ldap_cache_remove(dir, user, &why) != 0)
				log_err(c->lg, "%s", why.text);
		}
		if (r != CERTAUTH_ERR_NOT_FOUND)
			certauth_reason_host(reason);
		goto out;
	}
	snprintf(from, sizeof(from), "LDAP directory %s", rec.text);
	if ((r = certauth_ldap_certs(rec.val, rec.vlen, rec.count, from, user,
		 certs, reason)) != 0) {
		certauth_reason_host(reason);
		goto out;
	}
	if (dir != NULL)
		to_cache(c, dir, user, md, &rec);
	snprintf(where, wherelen, "ldap %s", rec.text);
	r = 0;
out:
	certauth_freezero(out, outlen);
	return r;
}
