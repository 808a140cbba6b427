/*
 * safewrite.c - how the module writes what it will later trust (bindings
 * files, OCSP cache entries): created only under directories that the
 * checks of safefile.c accept, and replaced by rename so that a reader
 * never sees half a file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "certauth.h"
#include "safefile.h"
#include "safewrite.h"

/*
 * Is the existing directory that would hold path safe?  path is cut at its
 * last slash for the check and restored; no slash means the working
 * directory.  Same returns as certauth_check_dir_safely.
 */
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

int
certauth_make_dirs(const char *dir, mode_t mode, struct certauth_reason *reason)
{
	char *p = NULL, *s, saved;
	struct stat st;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((p = strdup(dir)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		saved = *s;
		*s = '\0';
		if (stat(p, &st) != 0) {
			if (errno != ENOENT) {
				certauth_reason_set(reason,
				    "cannot stat %s: %s", p, strerror(errno));
				r = CERTAUTH_ERR_IO;
				goto out;
			}
			/* Create nothing under a directory that would then
			 * be refused: check the existing parent first. */
			if ((r = check_parent(p, reason)) != 0)
				goto out;
			/* A concurrent caller may create it first: fine.  The
			 * chmod undoes whatever umask the host process has. */
			if (mkdir(p, mode) == 0) {
				if (chmod(p, mode) != 0) {
					certauth_reason_set(reason,
					    "cannot chmod directory %s: %s", p,
					    strerror(errno));
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

/* 0, or -1 with errno. */
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

int
certauth_fsync_dir(const char *dir, struct certauth_reason *reason)
{
	int fd, r = CERTAUTH_ERR_IO;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(fd) != 0) {
		certauth_reason_set(reason, "cannot sync directory %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int
certauth_write_atomic(const char *dir, const char *path,
    const char *tmp_template, const void *data, size_t len, mode_t mode,
    struct certauth_reason *reason)
{
	struct rlimit fsize;
	char *tmp = NULL;
	int fd = -1, r = CERTAUTH_ERR_INTERNAL;

	/* A write past RLIMIT_FSIZE would raise SIGXFSZ and kill the host
	 * (su, sudo), whose caller sets that limit. */
	if (getrlimit(RLIMIT_FSIZE, &fsize) == 0 &&
	    fsize.rlim_cur != RLIM_INFINITY && fsize.rlim_cur < len) {
		certauth_reason_set(reason,
		    "cannot write %s: RLIMIT_FSIZE "
		    "(%llu bytes) is below its %zu bytes",
		    path, (unsigned long long)fsize.rlim_cur, len);
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	if ((tmp = strdup(tmp_template)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		certauth_reason_set(reason, "cannot create %s: %s", tmp,
		    strerror(errno));
		free(tmp);
		tmp = NULL; /* nothing to unlink */
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	if (fchmod(fd, mode) != 0 ||
	    (geteuid() == 0 && fchown(fd, 0, 0) != 0) ||
	    write_all(fd, data, len) != 0 || fsync(fd) != 0) {
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
	/* Readers see the old file or the new one, never a mix. */
	if (rename(tmp, path) != 0) {
		certauth_reason_set(reason, "cannot rename %s to %s: %s", tmp,
		    path, strerror(errno));
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if ((r = certauth_fsync_dir(dir, reason)) != 0)
		goto out;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	return r;
}

int
certauth_write_cache_file(const char *dir, const char *what, const char *path,
    const void *data, size_t len, struct certauth_reason *reason)
{
	char *tmp = NULL;
	int r;

	if ((r = certauth_make_dirs(dir, 0700, reason)) != 0 ||
	    (r = certauth_check_dir_safely(dir, what, reason)) != 0)
		return r;
	if (asprintf(&tmp, "%s/.tmp.XXXXXX", dir) < 0)
		return CERTAUTH_ERR_NOMEM;
	r = certauth_write_atomic(dir, path, tmp, data, len, 0600, reason);
	free(tmp);
	return r;
}
