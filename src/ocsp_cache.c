/*
 * ocsp_cache.c - verified OCSP answers kept on disk, one file per CertID.
 *
 * The cache is only a store of bytes: whatever is read back goes through
 * the full verification again (ocsp.c), so a planted or damaged file can
 * cost a refetch but never a login.  Files are still opened with the
 * safe-file rules so that nobody but root can make the module do that
 * work, and written by rename so that concurrent logins never see half a
 * file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include "certauth.h"
#include "fetch.h"
#include "ocsp.h"
#include "safefile.h"
#include "safewrite.h"

/* Cache names are hex only, so a name with a dot is never an entry. */
#define CACHE_LOCK_PREFIX ".lock."
#define LOCK_POLL_NS	  (5 * 1000 * 1000)
#define CACHE_DIR_MODE	  0700
#define CACHE_FILE_MODE	  0600

/* "<dir>/<prefix><hex SHA-256 of the DER CertID>", malloc'd. */
static int
cache_name(const char *dir, const char *prefix, OCSP_CERTID *id, char **out)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int mdlen = 0;
	int n, r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if (dir == NULL || id == NULL || (n = i2d_OCSP_CERTID(id, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1)
		goto out;
	certauth_hex_encode(md, mdlen, hex);
	if (asprintf(out, "%s/%s%s", dir, prefix, hex) < 0) {
		*out = NULL;
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	r = 0;
out:
	OPENSSL_free(der);
	ERR_clear_error();
	return r;
}

static int
cache_path(const char *dir, OCSP_CERTID *id, char **out)
{
	return cache_name(dir, "", id, out);
}

int
certauth_ocsp_cache_load(const char *dir, OCSP_CERTID *id, unsigned char **der,
    size_t *len, struct certauth_reason *reason)
{
	char *path = NULL, *buf = NULL;
	size_t n = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	*der = NULL;
	*len = 0;
	if ((r = cache_path(dir, id, &path)) != 0) {
		certauth_reason_set(reason, "cannot name the OCSP cache file");
		goto out;
	}
	r = certauth_read_safely(path, "OCSP cache file",
	    CERTAUTH_OCSP_BODY_MAX, 0, NULL, &buf, &n, reason);
	/* load's contract has no TOO_LONG: an oversized entry is one that
	 * cannot be read. */
	if (r == CERTAUTH_ERR_TOO_LONG)
		r = CERTAUTH_ERR_IO;
	if (r != 0)
		goto out;
	*der = (unsigned char *)buf;
	*len = n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	free(path);
	return r;
}

int
certauth_ocsp_cache_store(const char *dir, OCSP_CERTID *id,
    const unsigned char *der, size_t len, struct certauth_reason *reason)
{
	char *path = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	if (der == NULL || len == 0 || len > CERTAUTH_OCSP_BODY_MAX) {
		certauth_reason_set(reason,
		    "OCSP answer of %zu bytes not cached", len);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if ((r = cache_path(dir, id, &path)) != 0) {
		certauth_reason_set(reason, "cannot name the OCSP cache file");
		goto out;
	}
	r = certauth_write_cache_file(dir, "OCSP cache directory", path, der,
	    len, reason);
out:
	free(path);
	return r;
}

int
certauth_ocsp_cache_lock(const char *dir, OCSP_CERTID *id,
    long long deadline_ms)
{
	const struct timespec pause = { 0, LOCK_POLL_NS };
	struct certauth_reason why;
	char *path = NULL;
	int fd = -1, locked = -1;

	if (cache_name(dir, CACHE_LOCK_PREFIX, id, &path) != 0 ||
	    certauth_make_dirs(dir, CACHE_DIR_MODE, &why) != 0 ||
	    certauth_check_dir_safely(dir, "OCSP cache directory", &why) != 0)
		goto out;
	fd = open(path,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	    CACHE_FILE_MODE);
	if (fd < 0)
		goto out;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			locked = fd;
			fd = -1;
			break;
		}
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    certauth_now_ms() >= deadline_ms)
			break;
		nanosleep(&pause, NULL);
	}
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return locked;
}

void
certauth_ocsp_cache_unlock(int lock)
{
	if (lock >= 0)
		close(lock); /* releases the flock */
}
