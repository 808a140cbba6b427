/*
 * bindings.c - the bindings store of docs/PROTOCOL.md, "Bindings store":
 * the file <bindings_dir>/<percent-encoded user> holds the user's
 * certificates.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bindings.h"
#include "certauth.h"
#include "certutil.h"
#include "challenge.h"
#include "parse_cache.h"
#include "safefile.h"
#include "safewrite.h"

#define PEM_BEGIN_CERT "-----BEGIN CERTIFICATE-----"
#define PEM_END_CERT   "-----END CERTIFICATE-----"

/*
 * Temporary files carry a ',' which percent-encoding never leaves in a
 * user's file name, so no account's bindings can ever be a temp file.
 */
#define TMP_SEPARATOR	   ",tmp."
#define BINDINGS_DIR_MODE  0755
#define BINDINGS_FILE_MODE 0644

int
certauth_bindings_path(const char *dir, const char *user, char **out)
{
	char *enc = NULL, *p = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if ((r = certauth_pct_encode(user, &enc)) != 0)
		goto out;
	/*
	 * "." and ".." survive the encoding but would name the directory
	 * itself or its parent, never a bindings file.
	 */
	if (*enc == '\0' || strcmp(enc, ".") == 0 || strcmp(enc, "..") == 0) {
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if (asprintf(&p, "%s/%s", dir, enc) < 0) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	*out = p;
	r = 0;
out:
	free(enc);
	return r;
}

/*
 * Parse as certauth_bindings_parse; name says where the text came from in
 * reasons ("bindings file" or "bindings file /x/alice").
 */
static int
parse_named(const char *buf, size_t len, const char *name, STACK_OF(X509) **out,
    struct certauth_reason *reason)
{
	STACK_OF(X509) *certs = NULL;
	X509 *cert = NULL;
	BIO *bio = NULL;
	const char *p = buf, *end = buf + len, *block, *stop;
	int n = 0, r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if (len > CERTAUTH_BINDINGS_MAX) {
		certauth_reason_set(reason, "%s is larger than %d bytes", name,
		    CERTAUTH_BINDINGS_MAX);
		r = CERTAUTH_ERR_TOO_LONG;
		goto out;
	}
	if ((certs = sk_X509_new_null()) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	/* Everything outside BEGIN/END CERTIFICATE is commentary. */
	while ((block = memmem(p, (size_t)(end - p), PEM_BEGIN_CERT,
		    strlen(PEM_BEGIN_CERT))) != NULL) {
		n++;
		stop = memmem(block, (size_t)(end - block), PEM_END_CERT,
		    strlen(PEM_END_CERT));
		if (stop == NULL) {
			certauth_reason_set(reason,
			    "%s: certificate %d does not parse", name, n);
			r = CERTAUTH_ERR_FORMAT;
			goto out;
		}
		stop += strlen(PEM_END_CERT);
		/* The BIO ends with this block: no parse can run past it. */
		if ((bio = BIO_new_mem_buf(block, (int)(stop - block))) ==
		    NULL) {
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		if ((cert = PEM_read_bio_X509(bio, NULL,
			 certauth_pem_no_passphrase, NULL)) == NULL) {
			certauth_reason_set(reason,
			    "%s: certificate %d does not parse", name, n);
			r = CERTAUTH_ERR_FORMAT;
			goto out;
		}
		if (!sk_X509_push(certs, cert)) {
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		cert = NULL;
		BIO_free(bio);
		bio = NULL;
		p = stop;
	}
	if (sk_X509_num(certs) == 0) {
		certauth_reason_set(reason, "%s holds no certificate", name);
		r = CERTAUTH_ERR_NOT_FOUND;
		goto out;
	}
	*out = certs;
	certs = NULL;
	r = 0;
out:
	/* A refusal must not leave stale errors for the next OpenSSL user. */
	if (r != 0)
		ERR_clear_error();
	X509_free(cert);
	BIO_free(bio);
	sk_X509_pop_free(certs, X509_free);
	return r;
}

int
certauth_bindings_parse(const char *buf, size_t len, STACK_OF(X509) **out,
    struct certauth_reason *reason)
{
	return parse_named(buf, len, "bindings file", out, reason);
}

/*
 * Parse the bytes of bindings file path, or take what the same bytes
 * parsed to at an earlier login in this process (parse_cache.h).
 */
static int
parse_cached(const char *path, const char *buf, size_t len,
    STACK_OF(X509) **out, struct certauth_reason *reason)
{
	struct certauth_parsed p;
	char *name = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&p, 0, sizeof(p));
	if ((r = certauth_cache_get(CERTAUTH_CACHE_BINDINGS, path, buf, len,
		 &p)) < 0)
		goto out;
	if (r == 0) {
		if (asprintf(&name, "bindings file %s", path) < 0) {
			name = NULL;
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		if ((r = parse_named(buf, len, name, &p.certs, reason)) != 0)
			goto out;
		certauth_cache_put(CERTAUTH_CACHE_BINDINGS, path, buf, len, &p);
	}
	*out = p.certs;
	p.certs = NULL;
	r = 0;
out:
	certauth_parsed_clear(&p);
	free(name);
	return r;
}

/*
 * A bindings file that cannot be read safely may be the directory's
 * fault rather than its own: then every user is refused alike, and the
 * reason is marked a fault of the host.  Looked at only on that failure.
 */
static void
mark_dir_fault(const char *dir, int r, struct certauth_reason *reason)
{
	struct certauth_reason why;

	if (r != CERTAUTH_ERR_UNSAFE && r != CERTAUTH_ERR_IO)
		return;
	memset(&why, 0, sizeof(why));
	if (certauth_check_dir_safely(dir, "bindings directory", &why) != 0)
		certauth_reason_host(reason);
}

int
certauth_bindings_read(const char *dir, const char *user,
    struct certauth_seen *seen, STACK_OF(X509) **out,
    struct certauth_reason *reason)
{
	char *path = NULL, *buf = NULL;
	size_t len = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if ((r = certauth_bindings_path(dir, user, &path)) != 0) {
		if (r == CERTAUTH_ERR_FORMAT) {
			/* No file can belong to such a name. */
			certauth_reason_set(reason,
			    "no bindings file for this user name");
			r = CERTAUTH_ERR_NOT_FOUND;
		}
		goto out;
	}
	if ((r = certauth_read_safely(path, "bindings file",
		 CERTAUTH_BINDINGS_MAX, 0, seen, &buf, &len, reason)) != 0) {
		mark_dir_fault(dir, r, reason);
		goto out;
	}
	if ((r = parse_cached(path, buf, len, out, reason)) != 0)
		goto out;
	r = 0;
out:
	free(buf);
	free(path);
	return r;
}

/* The certificates as one PEM text; *out points into bio's memory. */
static int
certs_to_pem(STACK_OF(X509) *certs, BIO **biop, const char **out,
    size_t *outlen)
{
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	int i, r = CERTAUTH_ERR_INTERNAL;

	if ((bio = BIO_new(BIO_s_mem())) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < sk_X509_num(certs); i++) {
		if (!PEM_write_bio_X509(bio, sk_X509_value(certs, i)))
			goto out;
	}
	if ((n = BIO_get_mem_data(bio, &data)) <= 0)
		goto out;
	*out = data;
	*outlen = (size_t)n;
	*biop = bio;
	bio = NULL;
	r = 0;
out:
	BIO_free(bio);
	return r;
}

int
certauth_bindings_write(const char *dir, const char *user,
    STACK_OF(X509) *certs, struct certauth_reason *reason)
{
	char *path = NULL, *tmp = NULL;
	const char *pem = NULL;
	size_t pemlen = 0;
	BIO *bio = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((r = certauth_bindings_path(dir, user, &path)) != 0) {
		if (r == CERTAUTH_ERR_FORMAT)
			certauth_reason_set(reason,
			    "user name cannot name a bindings file");
		goto out;
	}
	if ((r = certauth_make_dirs(dir, BINDINGS_DIR_MODE, reason)) != 0 ||
	    (r = certauth_check_dir_safely(dir, "bindings directory",
		 reason)) != 0)
		goto out;
	if (certs == NULL || sk_X509_num(certs) == 0) {
		if (unlink(path) != 0 && errno != ENOENT) {
			certauth_reason_set(reason, "cannot remove %s: %s",
			    path, strerror(errno));
			r = CERTAUTH_ERR_IO;
			goto out;
		}
		if ((r = certauth_fsync_dir(dir, reason)) != 0)
			goto out;
		r = 0;
		goto out;
	}
	if ((r = certs_to_pem(certs, &bio, &pem, &pemlen)) != 0) {
		certauth_reason_set(reason, "cannot encode certificates");
		goto out;
	}
	if (asprintf(&tmp, "%s" TMP_SEPARATOR "XXXXXX", path) < 0) {
		tmp = NULL;
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = certauth_write_atomic(dir, path, tmp, pem, pemlen,
		 BINDINGS_FILE_MODE, reason)) != 0)
		goto out;
	r = 0;
out:
	BIO_free(bio);
	free(tmp);
	free(path);
	return r;
}
