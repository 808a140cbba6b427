/*
 * cgroup.c - can a user other than root freeze this thread's children?
 *
 * Read from /proc/thread-self rather than /proc/self: a child inherits
 * the cgroups of the thread that forks it, and threads may sit in
 * different ones.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "certauth.h"
#include "cgroup.h"

#define PROC_CGROUP    "/proc/thread-self/cgroup"
#define PROC_MOUNTINFO "/proc/thread-self/mountinfo"

/*
 * The hierarchies that can freeze a process, and the files of each
 * cgroup that let their writer freeze the helper, directly or by moving
 * it into a cgroup of their own: cgroup v2 lets whoever may write a
 * cgroup's cgroup.procs move any process below it, whatever its user.
 */
static const struct freezer {
	const char *fstype;	/* in mountinfo */
	const char *controller; /* v1: in the cgroup file and the super
				 * options; NULL: cgroup v2 */
	const char *files[4];
} freezers[] = {
	{ "cgroup2", NULL,
	    { "cgroup.freeze", "cgroup.procs", "cgroup.threads", NULL } },
	{ "cgroup", "freezer",
	    { "freezer.state", "cgroup.procs", "tasks", NULL } },
};

/* Nonzero when the comma-separated list holds item. */
static int
in_list(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (;;) {
		if (strncmp(list, item, n) == 0 &&
		    (list[n] == ',' || list[n] == '\0'))
			return 1;
		if ((list = strchr(list, ',')) == NULL)
			return 0;
		list++;
	}
}

/* A mountinfo field with its octal escapes (\040 for a space) undone, in
 * place. */
static char *
unescape(char *s)
{
	char *r = s, *w = s;

	while (*r != '\0') {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
		    r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 |
			    (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* The root, mount point, type and super options of a mountinfo line,
 * split in place.  Returns 0 or -1. */
static int
mount_fields(char *line, char **root, char **mnt, char **fstype, char **opts)
{
	char *f[6], *t;
	size_t i;

	for (i = 0; i < 6; i++)
		if ((f[i] = strsep(&line, " ")) == NULL)
			return -1;
	while ((t = strsep(&line, " ")) != NULL && strcmp(t, "-") != 0)
		;
	if (t == NULL || (*fstype = strsep(&line, " ")) == NULL ||
	    strsep(&line, " ") == NULL || (*opts = strsep(&line, " ")) == NULL)
		return -1;
	*root = unescape(f[3]);
	*mnt = unescape(f[4]);
	return 0;
}

/*
 * The directory of cgroup path in the first mount of f's hierarchy that
 * shows it: *dir (malloc'd, NULL when no mount does) and *base, the
 * length of its mount point.  Returns 0, or an error with why.
 */
static int
find_cgroup_dir(const struct freezer *f, const char *path, char **dir,
    size_t *base, struct certauth_reason *why)
{
	FILE *fp = NULL;
	char *line = NULL, *root, *mnt, *fstype, *opts;
	size_t cap = 0, n;
	int r = CERTAUTH_ERR_INTERNAL;

	*dir = NULL;
	if ((fp = fopen(PROC_MOUNTINFO, "re")) == NULL) {
		certauth_reason_set(why,
		    "cannot tell whether this process "
		    "can be frozen (%s: %s)",
		    PROC_MOUNTINFO, strerror(errno));
		goto out;
	}
	while (getline(&line, &cap, fp) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (mount_fields(line, &root, &mnt, &fstype, &opts) != 0 ||
		    strcmp(fstype, f->fstype) != 0 ||
		    (f->controller != NULL && !in_list(opts, f->controller)))
			continue;
		n = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(path, root, n) != 0 ||
		    (path[n] != '/' && path[n] != '\0'))
			continue;
		if (asprintf(dir, "%s%s", mnt,
			strcmp(path + n, "/") == 0 ? "" : path + n) < 0) {
			*dir = NULL;
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		*base = strlen(mnt);
		break;
	}
	if (*dir == NULL && !feof(fp)) {
		certauth_reason_set(why,
		    "cannot tell whether this process "
		    "can be frozen (%s: %s)",
		    PROC_MOUNTINFO, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fp != NULL)
		fclose(fp);
	free(line);
	return r;
}

/*
 * From dir up to its mount point (base bytes), each cgroup's files of f
 * must be root's and not writable by group or others; a file missing is
 * a control that cgroup lacks (the root has no freeze control).  Returns
 * 0, or an error with why.
 */
static int
walk_cgroup(const struct freezer *f, const char *path, char *dir, size_t base,
    struct certauth_reason *why)
{
	struct stat st;
	char *file = NULL;
	size_t i;
	int r = CERTAUTH_ERR_INTERNAL;

	for (;;) {
		if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			certauth_reason_set(why,
			    "cannot tell whether this "
			    "process can be frozen (no cgroup directory %s)",
			    dir);
			goto out;
		}
		for (i = 0; f->files[i] != NULL; i++) {
			free(file);
			if (asprintf(&file, "%s/%s", dir, f->files[i]) < 0) {
				file = NULL;
				r = CERTAUTH_ERR_NOMEM;
				goto out;
			}
			if (lstat(file, &st) != 0) {
				if (errno == ENOENT)
					continue;
				certauth_reason_set(why,
				    "cannot tell whether "
				    "this process can be frozen (%s: %s)",
				    file, strerror(errno));
				goto out;
			}
			if (st.st_uid != 0)
				certauth_reason_set(why,
				    "this process's cgroup "
				    "%s can be frozen by uid %lu (%s)",
				    path, (unsigned long)st.st_uid, file);
			else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
				certauth_reason_set(why,
				    "this process's cgroup "
				    "%s can be frozen by its group or others "
				    "(%s)",
				    path, file);
			else
				continue;
			goto out;
		}
		if (strlen(dir) <= base)
			break;
		*strrchr(dir + base, '/') = '\0';
	}
	r = 0;
out:
	free(file);
	return r;
}

int
certauth_cgroup_unfreezable(struct certauth_reason *why)
{
	const struct freezer *f;
	FILE *fp = NULL;
	char *line = NULL, *ctl, *path, *dir = NULL;
	size_t cap = 0, base = 0, i;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((fp = fopen(PROC_CGROUP, "re")) == NULL) {
		certauth_reason_set(why,
		    "cannot tell whether this process "
		    "can be frozen (%s: %s)",
		    PROC_CGROUP, strerror(errno));
		goto out;
	}
	while (getline(&line, &cap, fp) > 0) {
		/* hierarchy-ID:controller-list:cgroup-path */
		line[strcspn(line, "\n")] = '\0';
		if ((ctl = strchr(line, ':')) == NULL ||
		    (path = strchr(ctl + 1, ':')) == NULL)
			continue;
		*ctl++ = '\0';
		*path++ = '\0';
		for (i = 0; i < sizeof(freezers) / sizeof(freezers[0]); i++) {
			f = &freezers[i];
			if (f->controller == NULL ?
				strcmp(line, "0") != 0 || *ctl != '\0' :
				!in_list(ctl, f->controller))
				continue;
			if (path[0] != '/' || strstr(path, "/..") != NULL) {
				certauth_reason_set(why,
				    "cannot tell whether "
				    "this process can be frozen (cgroup %s)",
				    path);
				goto out;
			}
			free(dir);
			if ((r = find_cgroup_dir(f, path, &dir, &base, why)) !=
			    0)
				goto out;
			r = CERTAUTH_ERR_INTERNAL;
			if (dir == NULL && strcmp(path, "/") == 0)
				continue;
			if (dir == NULL) {
				certauth_reason_set(why,
				    "cannot tell whether "
				    "this process can be frozen (no %s mount "
				    "shows its cgroup %s)",
				    f->fstype, path);
				goto out;
			}
			if ((r = walk_cgroup(f, path, dir, base, why)) != 0)
				goto out;
			r = CERTAUTH_ERR_INTERNAL;
		}
	}
	if (!feof(fp)) {
		certauth_reason_set(why,
		    "cannot tell whether this process "
		    "can be frozen (%s: %s)",
		    PROC_CGROUP, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (r == CERTAUTH_ERR_NOMEM)
		certauth_reason_set(why,
		    "cannot tell whether this process "
		    "can be frozen (out of memory)");
	if (fp != NULL)
		fclose(fp);
	free(line);
	free(dir);
	return r;
}
