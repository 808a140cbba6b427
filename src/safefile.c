/*
 * safefile.c - the one way the module opens a file it trusts.
 *
 * A bindings file decides who may log in as whom, so anyone who can write
 * it, or rename any directory above it, owns every account it names.  The
 * checks run on the open descriptor (no race between check and read), and
 * then on every directory above the file, first along the path as written
 * and then along its resolved form, so a symlinked directory cannot lead
 * the walk around a user-writable directory.
 *
 * The files the module writes (bindings, OCSP cache) are written the same
 * way for the same reason: created only under directories those checks
 * accept, and replaced by rename so that a reader never sees half a file.
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

#define READ_CHUNK	4096

/*
 * path as an absolute path (relative paths are taken against the working
 * directory, as open() would), without trailing slashes.  malloc'd.
 */
static int
absolute_path(const char *path, char **out)
{
	char cwd[PATH_MAX];
	char *p = NULL;
	size_t len;

	if (path[0] == '/') {
		if ((p = strdup(path)) == NULL)
			return CERTAUTH_ERR_NOMEM;
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return CERTAUTH_ERR_IO;
		if (asprintf(&p, "%s/%s", cwd, path) < 0)
			return CERTAUTH_ERR_NOMEM;
	}
	len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	*out = p;
	return 0;
}

/* The ownership and mode rules shared by files and directories. */
static int
check_owner_mode(const struct stat *st, const char *what, const char *path,
    struct certauth_reason *reason)
{
	if (st->st_uid != 0) {
		certauth_reason_set(reason, "%s %s is not owned by root (uid %lu)",
		    what, path, (unsigned long)st->st_uid);
		return CERTAUTH_ERR_UNSAFE;
	}
	if ((st->st_mode & S_IWGRP) != 0) {
		certauth_reason_set(reason, "%s %s is group-writable",
		    what, path);
		return CERTAUTH_ERR_UNSAFE;
	}
	if ((st->st_mode & S_IWOTH) != 0) {
		certauth_reason_set(reason, "%s %s is writable by others",
		    what, path);
		return CERTAUTH_ERR_UNSAFE;
	}
	return 0;
}

static int
check_directory(const struct stat *st, const char *what, const char *path,
    struct certauth_reason *reason)
{
	if (!S_ISDIR(st->st_mode)) {
		certauth_reason_set(reason, "%s %s is not a directory",
		    what, path);
		return CERTAUTH_ERR_UNSAFE;
	}
	return check_owner_mode(st, what, path, reason);
}

/*
 * stat() path, setting *linked when path is itself a symbolic link: lstat
 * first, so a path without links costs one call a component.
 */
static int
stat_noting_link(const char *path, struct stat *st, int *linked)
{
	if (lstat(path, st) != 0)
		return -1;
	if (!S_ISLNK(st->st_mode))
		return 0;
	*linked = 1;
	return stat(path, st);
}

/*
 * Check every directory above abs (an absolute path), up to and including
 * "/", setting *linked if any of them is reached through a symbolic link.
 * A symlinked component is followed, so the directory it names is what
 * gets checked.
 */
static int
check_parents(const char *abs, int *linked, struct certauth_reason *reason)
{
	char *dir = NULL, *slash;
	struct stat st;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((dir = strdup(abs)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		if ((slash = strrchr(dir, '/')) == NULL)
			break;
		if (slash == dir) {
			if (dir[1] == '\0')
				break;		/* "/" has been checked */
			dir[1] = '\0';
		} else {
			*slash = '\0';
		}
		if (stat_noting_link(dir, &st, linked) != 0) {
			certauth_reason_set(reason, "cannot stat directory %s: %s",
			    dir, strerror(errno));
			r = CERTAUTH_ERR_IO;
			goto out;
		}
		if ((r = check_directory(&st, "directory", dir, reason)) != 0)
			goto out;
	}
	r = 0;
 out:
	free(dir);
	return r;
}

/*
 * The directory abs_dir itself and everything above it, as written and,
 * when a symlink is on the way, as resolved by realpath(): the link can
 * point below a directory that the written path never passes through.
 * Without links, the written path's directories are all that resolving
 * it passes through ("x/.." is checked as written, and is an ancestor).
 */
static int
check_dir_tree(const char *abs_dir, struct certauth_reason *reason)
{
	char *real = NULL;
	struct stat st;
	int linked = 0, r = CERTAUTH_ERR_INTERNAL;

	if (stat_noting_link(abs_dir, &st, &linked) != 0) {
		certauth_reason_set(reason, "cannot stat directory %s: %s",
		    abs_dir, strerror(errno));
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	if ((r = check_directory(&st, "directory", abs_dir, reason)) != 0 ||
	    (r = check_parents(abs_dir, &linked, reason)) != 0)
		goto out;
	if (!linked) {
		r = 0;
		goto out;
	}
	if ((real = realpath(abs_dir, NULL)) == NULL) {
		certauth_reason_set(reason, "cannot resolve directory %s: %s",
		    abs_dir, strerror(errno));
		r = errno == ENOMEM ? CERTAUTH_ERR_NOMEM : CERTAUTH_ERR_IO;
		goto out;
	}
	if (strcmp(real, abs_dir) != 0) {
		if (lstat(real, &st) != 0) {
			certauth_reason_set(reason,
			    "cannot stat directory %s: %s", real,
			    strerror(errno));
			r = CERTAUTH_ERR_IO;
			goto out;
		}
		if ((r = check_directory(&st, "directory", real, reason)) != 0 ||
		    (r = check_parents(real, &linked, reason)) != 0)
			goto out;
	}
	r = 0;
 out:
	free(real);
	return r;
}

int
certauth_open_safely(const char *path, const char *what, int *fdp,
    struct certauth_reason *reason)
{
	char *abs = NULL, *slash;
	struct stat st;
	int fd = -1, r = CERTAUTH_ERR_INTERNAL;

	*fdp = -1;
	if ((r = absolute_path(path, &abs)) != 0) {
		certauth_reason_set(reason, "cannot resolve %s %s", what, path);
		goto out;
	}
	/* O_NONBLOCK: a FIFO planted here must not hang the login. */
	fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT) {
			certauth_reason_set(reason, "%s %s does not exist",
			    what, abs);
			r = CERTAUTH_ERR_NOT_FOUND;
		} else if (errno == ELOOP) {
			certauth_reason_set(reason, "%s %s is a symbolic link",
			    what, abs);
			r = CERTAUTH_ERR_UNSAFE;
		} else {
			certauth_reason_set(reason, "cannot open %s %s: %s",
			    what, abs, strerror(errno));
			r = CERTAUTH_ERR_IO;
		}
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		certauth_reason_set(reason, "cannot stat %s %s: %s",
		    what, abs, strerror(errno));
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		certauth_reason_set(reason, "%s %s is not a regular file",
		    what, abs);
		r = CERTAUTH_ERR_UNSAFE;
		goto out;
	}
	if ((r = check_owner_mode(&st, what, abs, reason)) != 0)
		goto out;
	/* abs always has a slash; cut it to the containing directory. */
	slash = strrchr(abs, '/');
	if (slash == abs)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((r = check_dir_tree(abs, reason)) != 0)
		goto out;
	*fdp = fd;
	fd = -1;
	r = 0;
 out:
	if (fd >= 0)
		close(fd);
	free(abs);
	return r;
}

int
certauth_check_dir_safely(const char *path, const char *what,
    struct certauth_reason *reason)
{
	char *abs = NULL;
	struct stat st;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((r = absolute_path(path, &abs)) != 0) {
		certauth_reason_set(reason, "cannot resolve %s %s", what, path);
		goto out;
	}
	if (stat(abs, &st) != 0) {
		if (errno == ENOENT) {
			certauth_reason_set(reason, "%s %s does not exist",
			    what, abs);
			r = CERTAUTH_ERR_NOT_FOUND;
		} else {
			certauth_reason_set(reason, "cannot stat %s %s: %s",
			    what, abs, strerror(errno));
			r = CERTAUTH_ERR_IO;
		}
		goto out;
	}
	if ((r = check_directory(&st, what, abs, reason)) != 0 ||
	    (r = check_dir_tree(abs, reason)) != 0)
		goto out;
	r = 0;
 out:
	free(abs);
	return r;
}

int
certauth_read_fd(int fd, size_t max, char **out, size_t *outlen)
{
	char *buf = NULL, *tmp;
	size_t len = 0, cap = 0, want;
	ssize_t n;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	*outlen = 0;
	for (;;) {
		/* Room for one byte past max, to tell "max" from "more". */
		if (len == cap) {
			if (cap > max) {
				r = CERTAUTH_ERR_TOO_LONG;
				goto out;
			}
			want = cap == 0 ? READ_CHUNK : cap * 2;
			if (want > max + 1)
				want = max + 1;
			if ((tmp = realloc(buf, want + 1)) == NULL) {
				r = CERTAUTH_ERR_NOMEM;
				goto out;
			}
			buf = tmp;
			cap = want;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = CERTAUTH_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = CERTAUTH_ERR_TOO_LONG;
			goto out;
		}
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	r = 0;
 out:
	free(buf);
	return r;
}

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
certauth_make_dirs(const char *dir, mode_t mode,
    struct certauth_reason *reason)
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
			/* Create nothing under a directory that would then
			 * be refused: check the existing parent first. */
			if ((r = check_parent(p, reason)) != 0)
				goto out;
			/* A concurrent caller may create it first: fine.  The
			 * chmod undoes whatever umask the host process has. */
			if (mkdir(p, mode) == 0) {
				if (chmod(p, mode) != 0) {
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
		certauth_reason_set(reason, "cannot write %s: RLIMIT_FSIZE "
		    "(%llu bytes) is below its %zu bytes", path,
		    (unsigned long long)fsize.rlim_cur, len);
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
		tmp = NULL;	/* nothing to unlink */
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
		certauth_reason_set(reason, "cannot rename %s to %s: %s",
		    tmp, path, strerror(errno));
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
