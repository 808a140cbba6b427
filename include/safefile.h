/*
 * safefile.h - the one way the module opens a file it trusts.
 */
#ifndef CERTAUTH_SAFEFILE_H
#define CERTAUTH_SAFEFILE_H

#include <stddef.h>

#include "certauth.h"

/*
 * Open path read-only with O_NOFOLLOW|O_CLOEXEC|O_NOCTTY, then check on the
 * open descriptor: a regular file, owned by root (uid 0), not writable by
 * group or others; then walk every parent directory up to "/" and check
 * that each is root-owned and not group/other-writable.
 * Returns 0 and *fdp, CERTAUTH_ERR_NOT_FOUND (ENOENT), CERTAUTH_ERR_UNSAFE
 * with a reason such as "bindings file /x/alice is group-writable", or
 * CERTAUTH_ERR_IO.  what names the file in reasons ("bindings file").
 */
int certauth_open_safely(const char *path, const char *what, int *fdp,
    struct certauth_reason *reason);

/* Check that path is a root-owned directory, not group/other-writable,
 * with every parent the same.  Same returns as certauth_open_safely. */
int certauth_check_dir_safely(const char *path, const char *what,
    struct certauth_reason *reason);

/*
 * Read all of fd (at most max bytes, else CERTAUTH_ERR_TOO_LONG) into a
 * malloc'd NUL-terminated buffer.  Does not close fd.
 */
int certauth_read_fd(int fd, size_t max, char **out, size_t *outlen);

#endif /* CERTAUTH_SAFEFILE_H */
