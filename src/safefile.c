/*
 * safefile.c - the one way the module opens a file it trusts.
 *
 * A bindings file decides who may log in as whom, so anyone who can write
 * it, or rename any directory above it, owns every account it names.  The
 * checks run on the open descriptor (no race between check and read), and
 * then on every directory above the file, first along the path as written
 * and then along its resolved form, so a symlinked directory cannot lead
 * the walk around a user-writable directory.  Trust files (CAs, chain,
 * CRLs) are read the same way, except that a link in last place is
 * followed, since rehashed CA directories are made of links: then the
 * directory of every link on the way counts as much as the file itself.
 *
 * What the module writes for later trust is safewrite.c's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "certauth.h"
#include "safefile.h"

#define READ_CHUNK 4096
/* Links followed in a row to a trust file: a rehash link points straight
 * at its certificate, and /etc/ssl/certs adds one or two more. */
#define FOLLOW_MAX 8

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
		certauth_reason_set(reason,
		    "%s %s is not owned by root (uid %lu)", what, path,
		    (unsigned long)st->st_uid);
		return CERTAUTH_ERR_UNSAFE;
	}
	if ((st->st_mode & S_IWGRP) != 0) {
		certauth_reason_set(reason, "%s %s is group-writable", what,
		    path);
		return CERTAUTH_ERR_UNSAFE;
	}
	if ((st->st_mode & S_IWOTH) != 0) {
		certauth_reason_set(reason, "%s %s is writable by others", what,
		    path);
		return CERTAUTH_ERR_UNSAFE;
	}
	return 0;
}

static int
check_directory(const struct stat *st, const char *what, const char *path,
    struct certauth_reason *reason)
{
	if (!S_ISDIR(st->st_mode)) {
		certauth_reason_set(reason, "%s %s is not a directory", what,
		    path);
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

/* Whether dir and all above it were found safe earlier in this run. */
static int
seen_has(const struct certauth_seen *seen, const char *dir)
{
	int i;

	for (i = 0; seen != NULL && i < seen->n; i++) {
		if (strcmp(seen->dir[i], dir) == 0)
			return 1;
	}
	return 0;
}

/* Remember dir as safe; a full record or a long path only costs a walk. */
static void
seen_add(struct certauth_seen *seen, const char *dir)
{
	if (seen == NULL || seen->n == CERTAUTH_SEEN_MAX ||
	    strlen(dir) >= sizeof(seen->dir[0]))
		return;
	memcpy(seen->dir[seen->n++], dir, strlen(dir) + 1);
}

/* dir and those above it (not "/", which every walk ends at anyway). */
static void
seen_add_tree(struct certauth_seen *seen, const char *dir)
{
	char up[CERTAUTH_SEEN_PATH], *slash;

	if (seen == NULL || strlen(dir) >= sizeof(up))
		return;
	memcpy(up, dir, strlen(dir) + 1);
	while ((slash = strrchr(up, '/')) != NULL && slash != up) {
		if (!seen_has(seen, up))
			seen_add(seen, up);
		*slash = '\0';
	}
}

void
certauth_seen_clear(struct certauth_seen *seen)
{
	memset(seen, 0, sizeof(*seen));
}

/*
 * Check every directory above abs (an absolute path), up to and including
 * "/", setting *linked if any of them is reached through a symbolic link.
 * A symlinked component is followed, so the directory it names is what
 * gets checked.
 */
static int
check_parents(const char *abs, int *linked, const struct certauth_seen *seen,
    struct certauth_reason *reason)
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
				break; /* "/" has been checked */
			dir[1] = '\0';
		} else {
			*slash = '\0';
		}
		/* Checked whole, up to "/", earlier in this run. */
		if (seen_has(seen, dir))
			break;
		if (stat_noting_link(dir, &st, linked) != 0) {
			certauth_reason_set(reason,
			    "cannot stat directory %s: %s", dir,
			    strerror(errno));
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
check_dir_tree(const char *abs_dir, struct certauth_seen *seen,
    struct certauth_reason *reason)
{
	char *real = NULL;
	struct stat st;
	int linked = 0, r = CERTAUTH_ERR_INTERNAL;

	if (seen_has(seen, abs_dir))
		return 0;
	if (stat_noting_link(abs_dir, &st, &linked) != 0) {
		certauth_reason_set(reason, "cannot stat directory %s: %s",
		    abs_dir, strerror(errno));
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	if ((r = check_directory(&st, "directory", abs_dir, reason)) != 0 ||
	    (r = check_parents(abs_dir, &linked, seen, reason)) != 0)
		goto out;
	if (!linked) {
		/* Only root can change a tree that passed: it and the
		 * directories above it, nearest first, are remembered for
		 * the run's next read below one of them. */
		seen_add_tree(seen, abs_dir);
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
		if ((r = check_directory(&st, "directory", real, reason)) !=
			0 ||
		    (r = check_parents(real, &linked, NULL, reason)) != 0)
			goto out;
	}
	r = 0;
out:
	free(real);
	return r;
}

/* certauth_open_safely, with the directories of seen taken as checked;
 * *was_link (may be NULL) tells a refusal for a link in last place. */
static int
open_checked(const char *path, const char *what, struct certauth_seen *seen,
    int *fdp, int *was_link, struct certauth_reason *reason)
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
	fd = open(abs,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT) {
			certauth_reason_set(reason, "%s %s does not exist",
			    what, abs);
			r = CERTAUTH_ERR_NOT_FOUND;
		} else if (errno == ELOOP) {
			certauth_reason_set(reason, "%s %s is a symbolic link",
			    what, abs);
			if (was_link != NULL)
				*was_link = 1;
			r = CERTAUTH_ERR_UNSAFE;
		} else {
			certauth_reason_set(reason, "cannot open %s %s: %s",
			    what, abs, strerror(errno));
			r = CERTAUTH_ERR_IO;
		}
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		certauth_reason_set(reason, "cannot stat %s %s: %s", what, abs,
		    strerror(errno));
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		certauth_reason_set(reason, "%s %s is not a regular file", what,
		    abs);
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
	if ((r = check_dir_tree(abs, seen, reason)) != 0)
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
certauth_open_safely(const char *path, const char *what, int *fdp,
    struct certauth_reason *reason)
{
	return open_checked(path, what, NULL, fdp, NULL, reason);
}

/* The directory that holds path (absolute, no trailing slash), malloc'd. */
static char *
dir_of(const char *path)
{
	char *dir, *slash;

	if ((dir = strdup(path)) == NULL)
		return NULL;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return dir;
}

/* Where the link cur, in directory dir, points: an absolute path in
 * *next (malloc'd).  Returns 0, CERTAUTH_ERR_IO or _NOMEM. */
static int
link_target(const char *cur, const char *dir, char **next,
    struct certauth_reason *reason)
{
	char target[PATH_MAX];
	ssize_t n;

	if ((n = readlink(cur, target, sizeof(target) - 1)) < 0) {
		certauth_reason_set(reason, "cannot read link %s: %s", cur,
		    strerror(errno));
		return CERTAUTH_ERR_IO;
	}
	target[n] = '\0';
	if (target[0] == '/')
		*next = strdup(target);
	else if (asprintf(next, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
		     target) < 0)
		*next = NULL;
	return *next == NULL ? CERTAUTH_ERR_NOMEM : 0;
}

/*
 * The file that the link abs leads to, as a real path (malloc'd) in *out.
 * Whoever can write the directory of a link can point it anywhere, and
 * whoever can write a directory on the written way to the target can put
 * another file there: so the directory of each link on the way, and the
 * one its last target names, must pass check_dir_tree before it is used.
 * A link to nothing is CERTAUTH_ERR_NOT_FOUND.
 */
static int
resolve_link(const char *abs, const char *what, struct certauth_seen *seen,
    char **out, struct certauth_reason *reason)
{
	char *cur = NULL, *dir = NULL, *next = NULL;
	struct stat st;
	int hops, saved, r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if ((cur = strdup(abs)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	for (hops = 0;; hops++) {
		/* Nothing there is a refusal whatever its directory. */
		if (lstat(cur, &st) != 0) {
			if (errno == ENOENT) {
				certauth_reason_set(reason,
				    "%s %s is a link "
				    "to %s, which does not exist",
				    what, abs, cur);
				r = CERTAUTH_ERR_NOT_FOUND;
			} else {
				certauth_reason_set(reason,
				    "cannot stat %s "
				    "%s: %s",
				    what, cur, strerror(errno));
				r = CERTAUTH_ERR_IO;
			}
			goto out;
		}
		free(dir);
		if ((dir = dir_of(cur)) == NULL) {
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		if ((r = check_dir_tree(dir, seen, reason)) != 0)
			goto out;
		if (!S_ISLNK(st.st_mode))
			break;
		if (hops == FOLLOW_MAX) {
			certauth_reason_set(reason,
			    "%s %s: more than %d "
			    "symbolic links in a row",
			    what, abs, FOLLOW_MAX);
			r = CERTAUTH_ERR_UNSAFE;
			goto out;
		}
		if ((r = link_target(cur, dir, &next, reason)) != 0)
			goto out;
		free(cur);
		cur = next;
		next = NULL;
	}
	if ((*out = realpath(cur, NULL)) == NULL) {
		saved = errno;
		certauth_reason_set(reason, "cannot resolve %s %s: %s", what,
		    abs, strerror(saved));
		r = saved == ENOMEM ? CERTAUTH_ERR_NOMEM :
		    saved == ENOENT ? CERTAUTH_ERR_NOT_FOUND :
				      CERTAUTH_ERR_IO;
		goto out;
	}
	r = 0;
out:
	free(cur);
	free(dir);
	return r;
}

/*
 * certauth_open_safely, except that a link in last place is followed:
 * a path that is no link is opened exactly as certauth_open_safely would.
 * Reasons about the link's target name the link too ("CA file
 * /etc/ssl/certs/x.0 -> /srv/x.pem is group-writable").
 */
static int
open_following(const char *path, const char *what, struct certauth_seen *seen,
    int *fdp, struct certauth_reason *reason)
{
	char *abs = NULL, *real = NULL, *what_link = NULL;
	int was_link = 0, r = CERTAUTH_ERR_INTERNAL;

	*fdp = -1;
	if ((r = absolute_path(path, &abs)) != 0) {
		certauth_reason_set(reason, "cannot resolve %s %s", what, path);
		goto out;
	}
	/* No link: opened as any trusted file.  A link, which O_NOFOLLOW
	 * refuses with ELOOP, is followed below. */
	r = open_checked(abs, what, seen, fdp, &was_link, reason);
	if (r != CERTAUTH_ERR_UNSAFE || !was_link)
		goto out;
	if ((r = resolve_link(abs, what, seen, &real, reason)) != 0)
		goto out;
	if (asprintf(&what_link, "%s %s ->", what, abs) < 0) {
		what_link = NULL;
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = open_checked(real, what_link, seen, fdp, NULL, reason)) != 0)
		goto out;
	r = 0;
out:
	free(what_link);
	free(real);
	free(abs);
	return r;
}

int
certauth_read_safely(const char *path, const char *what, size_t max, int flags,
    struct certauth_seen *seen, char **out, size_t *outlen,
    struct certauth_reason *reason)
{
	int fd = -1, r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	*outlen = 0;
	if ((flags & CERTAUTH_SAFE_FOLLOW) != 0)
		r = open_following(path, what, seen, &fd, reason);
	else
		r = open_checked(path, what, seen, &fd, NULL, reason);
	if (r != 0)
		goto out;
	if ((r = certauth_read_fd(fd, max, out, outlen)) != 0) {
		if (r == CERTAUTH_ERR_TOO_LONG)
			certauth_reason_set(reason,
			    "%s %s is larger than %zu "
			    "bytes",
			    what, path, max);
		else
			certauth_reason_set(reason, "cannot read %s %s: %s",
			    what, path,
			    r == CERTAUTH_ERR_IO ? strerror(errno) :
						   certauth_strerror(r));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
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
	    (r = check_dir_tree(abs, NULL, reason)) != 0)
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
