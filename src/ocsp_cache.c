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
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include "certauth.h"
#include "fetch.h"
#include "ocsp.h"
#include "safefile.h"

/* Cache names are hex only, so a name with a dot is never an entry. */
#define CACHE_TMP_NAME	".tmp.XXXXXX"
#define CACHE_DIR_MODE	0700
#define CACHE_FILE_MODE	0600

static const char hexdigits[] = "0123456789abcdef";

/* "<dir>/<hex SHA-256 of the DER CertID>", malloc'd. */
static int
cache_path(const char *dir, OCSP_CERTID *id, char **out)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int mdlen = 0, i;
	int n, r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if (dir == NULL || id == NULL ||
	    (n = i2d_OCSP_CERTID(id, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1)
		goto out;
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = hexdigits[md[i] >> 4];
		hex[2 * i + 1] = hexdigits[md[i] & 0x0f];
	}
	hex[2 * mdlen] = '\0';
	if (asprintf(out, "%s/%s", dir, hex) < 0) {
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

int
certauth_ocsp_cache_load(const char *dir, OCSP_CERTID *id,
    unsigned char **der, size_t *len, struct certauth_reason *reason)
{
	char *path = NULL, *buf = NULL;
	size_t n = 0;
	int fd = -1, r = CERTAUTH_ERR_INTERNAL;

	*der = NULL;
	*len = 0;
	if ((r = cache_path(dir, id, &path)) != 0) {
		certauth_reason_set(reason, "cannot name the OCSP cache file");
		goto out;
	}
	if ((r = certauth_open_safely(path, "OCSP cache file", &fd,
	    reason)) != 0)
		goto out;
	if ((r = certauth_read_fd(fd, CERTAUTH_OCSP_BODY_MAX, &buf,
	    &n)) != 0) {
		if (r == CERTAUTH_ERR_TOO_LONG)
			certauth_reason_set(reason,
			    "OCSP cache file %s is larger than %d bytes",
			    path, CERTAUTH_OCSP_BODY_MAX);
		else
			certauth_reason_set(reason,
			    "cannot read OCSP cache file %s", path);
		if (r != CERTAUTH_ERR_NOMEM)
			r = CERTAUTH_ERR_IO;
		goto out;
	}
	*der = (unsigned char *)buf;
	*len = n;
	buf = NULL;
	r = 0;
 out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	return r;
}

/* Is the existing directory that would hold path safe? */
static int
check_parent(char *path, struct certauth_reason *reason)
{
	char *slash = strrchr(path, '/');
	int r;

	if (slash == NULL)
		return certauth_check_dir_safely(".", "directory", reason);
	if (slash == path)
		return certauth_check_dir_safely("/", "directory", reason);
	*slash = '\0';
	r = certauth_check_dir_safely(path, "directory", reason);
	*slash = '/';
	return r;
}

/*
 * mkdir -p, each new directory root-owned 0700; nothing is created under
 * a directory that the safe-path rules would then refuse.
 */
static int
make_dirs(const char *dir, struct certauth_reason *reason)
{
	char *p = NULL, *s, saved;
	struct stat st;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((p = strdup(dir)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		saved = *s;
		*s = '\0';
		if (stat(p, &st) != 0) {
			if (errno != ENOENT) {
				certauth_reason_set(reason, "cannot stat %s: %s",
				    p, strerror(errno));
				r = CERTAUTH_ERR_IO;
				goto out;
			}
			if ((r = check_parent(p, reason)) != 0)
				goto out;
			/* A concurrent login may create it first: fine.  The
			 * chmod undoes whatever umask the host process has. */
			if (mkdir(p, CACHE_DIR_MODE) == 0) {
				if (chmod(p, CACHE_DIR_MODE) != 0) {
					certauth_reason_set(reason,
					    "cannot chmod directory %s: %s",
					    p, strerror(errno));
					r = CERTAUTH_ERR_IO;
					goto out;
				}
			} else if (errno != EEXIST || stat(p, &st) != 0) {
				certauth_reason_set(reason,
				    "cannot create directory %s: %s", p,
				    strerror(errno));
				r = CERTAUTH_ERR_IO;
				goto out;
			}
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	r = 0;
 out:
	free(p);
	return r;
}

static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsync_dir(const char *dir, struct certauth_reason *reason)
{
	int fd, r = CERTAUTH_ERR_IO;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(fd) != 0) {
		certauth_reason_set(reason, "cannot sync directory %s: %s",
		    dir, strerror(errno));
		goto out;
	}
	r = 0;
 out:
	if (fd >= 0)
		close(fd);
	return r;
}

int
certauth_ocsp_cache_store(const char *dir, OCSP_CERTID *id,
    const unsigned char *der, size_t len, struct certauth_reason *reason)
{
	char *path = NULL, *tmp = NULL;
	int fd = -1, r = CERTAUTH_ERR_INTERNAL;

	if (der == NULL || len == 0 || len > CERTAUTH_OCSP_BODY_MAX) {
		certauth_reason_set(reason, "OCSP answer of %zu bytes not cached",
		    len);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if ((r = cache_path(dir, id, &path)) != 0) {
		certauth_reason_set(reason, "cannot name the OCSP cache file");
		goto out;
	}
	if ((r = make_dirs(dir, reason)) != 0 ||
	    (r = certauth_check_dir_safely(dir, "OCSP cache directory",
	    reason)) != 0)
		goto out;
	if (asprintf(&tmp, "%s/" CACHE_TMP_NAME, dir) < 0) {
		tmp = NULL;
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		certauth_reason_set(reason, "cannot create %s: %s", tmp,
		    strerror(errno));
		free(tmp);
		tmp = NULL;
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	if (fchmod(fd, CACHE_FILE_MODE) != 0 ||
	    (geteuid() == 0 && fchown(fd, 0, 0) != 0) ||
	    write_all(fd, der, len) != 0 || fsync(fd) != 0) {
		certauth_reason_set(reason, "cannot write %s: %s", tmp,
		    strerror(errno));
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		certauth_reason_set(reason, "cannot write %s: %s", tmp,
		    strerror(errno));
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	fd = -1;
	/* Readers see the old answer or the new one, never a mix. */
	if (rename(tmp, path) != 0) {
		certauth_reason_set(reason, "cannot rename %s to %s: %s",
		    tmp, path, strerror(errno));
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if ((r = fsync_dir(dir, reason)) != 0)
		goto out;
	r = 0;
 out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(path);
	return r;
}
