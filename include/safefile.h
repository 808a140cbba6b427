/*
 * safefile.h - the one way the module opens a file it trusts (the one
 * way it writes one is safewrite.h).
 * Every trusted file is read with certauth_read_safely: bindings, the
 * configuration and cached OCSP answers as they are; the trust files
 * (ca_file, ca_dir entries, chain_file, crl_file, crl_dir entries,
 * ocsp_responder_cert) with CERTAUTH_SAFE_FOLLOW, under the same rules
 * except that a link in last place is followed to a file that passes them.
 */
#ifndef CERTAUTH_SAFEFILE_H
#define CERTAUTH_SAFEFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "certauth.h"

/*
 * Open path read-only with O_NOFOLLOW|O_CLOEXEC|O_NOCTTY, then check on the
 * open descriptor: a regular file, owned by root (uid 0), not writable by
 * group or others; then walk every parent directory up to "/" and check
 * that each is root-owned and not group/other-writable.
 * Returns 0 and *fdp, CERTAUTH_ERR_NOT_FOUND (ENOENT), CERTAUTH_ERR_UNSAFE
 * with a reason such as "bindings file /x/alice is group-writable", or
 * CERTAUTH_ERR_IO.  what names the file in reasons ("bindings file").
 * certauth_read_safely is the usual way in; this is for callers that
 * need the descriptor itself.
 */
int certauth_open_safely(const char *path, const char *what, int *fdp,
    struct certauth_reason *reason);

/*
 * For certauth_read_safely: a symbolic link as the last component of
 * path is followed (openssl rehash directories and /etc/ssl/certs are
 * made of links).  Each link on the way must sit in a directory that
 * passes certauth_check_dir_safely, and the file it resolves to (by
 * realpath) is opened and checked as certauth_open_safely does, along
 * every parent of its real path.  Without the flag a link is refused.
 */
#define CERTAUTH_SAFE_FOLLOW 0x1

/*
 * The directories that a run of reads close together (one login's
 * bindings and trust files) found safe, each checked whole up to "/"
 * with no link on the way.  Only root can change such a tree, so a later
 * read of the run below one of them walks no further up.  It holds no
 * memory of its own: start it zeroed, or empty it with
 * certauth_seen_clear.
 */
#define CERTAUTH_SEEN_MAX  4
#define CERTAUTH_SEEN_PATH 256 /* longer directories are not recorded */
struct certauth_seen {
	int n;
	char dir[CERTAUTH_SEEN_MAX][CERTAUTH_SEEN_PATH];
};

void certauth_seen_clear(struct certauth_seen *seen);

/*
 * Open path as certauth_open_safely does (flags: 0 or CERTAUTH_SAFE_FOLLOW;
 * seen: NULL, or the run's record, which it consults and adds to)
 * and read all of it, at most max bytes, into *out, a malloc'd buffer with
 * a NUL after its *outlen bytes; the caller frees it.  Returns 0, or
 * CERTAUTH_ERR_NOT_FOUND (no such file, or a link to nothing),
 * CERTAUTH_ERR_UNSAFE, CERTAUTH_ERR_TOO_LONG ("<what> <path> is larger
 * than <max> bytes"), CERTAUTH_ERR_IO ("cannot read <what> <path>: ...")
 * or CERTAUTH_ERR_NOMEM, each with a reason naming what and the path;
 * *out is then NULL.
 */
int certauth_read_safely(const char *path, const char *what, size_t max,
    int flags, struct certauth_seen *seen, char **out, size_t *outlen,
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
