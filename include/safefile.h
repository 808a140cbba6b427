/*
 * safefile.h - the one way the module opens a file it trusts, and the one
 * way it creates directories and replaces files that it will later trust.
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
#define CERTAUTH_SAFE_FOLLOW	0x1

/*
 * Open path as certauth_open_safely does (flags: 0 or CERTAUTH_SAFE_FOLLOW)
 * and read all of it, at most max bytes, into *out, a malloc'd buffer with
 * a NUL after its *outlen bytes; the caller frees it.  Returns 0, or
 * CERTAUTH_ERR_NOT_FOUND (no such file, or a link to nothing),
 * CERTAUTH_ERR_UNSAFE, CERTAUTH_ERR_TOO_LONG ("<what> <path> is larger
 * than <max> bytes"), CERTAUTH_ERR_IO ("cannot read <what> <path>: ...")
 * or CERTAUTH_ERR_NOMEM, each with a reason naming what and the path;
 * *out is then NULL.
 */
int certauth_read_safely(const char *path, const char *what, size_t max,
    int flags, char **out, size_t *outlen, struct certauth_reason *reason);

/* Check that path is a root-owned directory, not group/other-writable,
 * with every parent the same.  Same returns as certauth_open_safely. */
int certauth_check_dir_safely(const char *path, const char *what,
    struct certauth_reason *reason);

/*
 * Read all of fd (at most max bytes, else CERTAUTH_ERR_TOO_LONG) into a
 * malloc'd NUL-terminated buffer.  Does not close fd.
 */
int certauth_read_fd(int fd, size_t max, char **out, size_t *outlen);

/*
 * mkdir -p: create each missing directory of dir with mode (chmod'ed
 * afterwards, so the process umask does not matter).  Nothing is created
 * under an existing directory that fails certauth_check_dir_safely; a
 * directory that a concurrent caller creates first (EEXIST) is fine.
 * Existing directories are left as they are: callers check dir itself.
 * Returns 0, CERTAUTH_ERR_UNSAFE or CERTAUTH_ERR_NOT_FOUND (from the parent
 * check, with its reason), CERTAUTH_ERR_IO ("cannot stat|create|chmod
 * directory ...") or CERTAUTH_ERR_NOMEM.
 */
int certauth_make_dirs(const char *dir, mode_t mode,
    struct certauth_reason *reason);

/* fsync the directory dir, so that a rename or unlink in it is durable.
 * Returns 0 or CERTAUTH_ERR_IO ("cannot sync directory ..."). */
int certauth_fsync_dir(const char *dir, struct certauth_reason *reason);

/*
 * Replace path (a file in dir) with the len bytes of data, all or nothing:
 * a temporary file from mkostemp(tmp_template) (a path in dir ending in
 * XXXXXX; the template is copied, not changed), set to mode and, when
 * running as root, owned by 0:0, written and fsynced, then renamed over
 * path, and dir fsynced.  Readers see the old file or the new one, never
 * a mix; on failure the temporary file is removed.
 * Nothing is written when len is over the caller's RLIMIT_FSIZE, which
 * would otherwise raise SIGXFSZ.
 * Returns 0, CERTAUTH_ERR_IO with a reason naming the step ("cannot
 * write <path>: RLIMIT_FSIZE ...", "cannot create|write <tmp>", "cannot
 * rename <tmp> to <path>", "cannot sync
 * directory <dir>"; after the last one path has already been replaced) or
 * CERTAUTH_ERR_NOMEM.
 */
int certauth_write_atomic(const char *dir, const char *path,
    const char *tmp_template, const void *data, size_t len, mode_t mode,
    struct certauth_reason *reason);

#endif /* CERTAUTH_SAFEFILE_H */
