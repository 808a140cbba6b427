/*
 * safewrite.h - the one way the module creates directories and replaces
 * files that it will later trust (safefile.h reads them).
 */
#ifndef CERTAUTH_SAFEWRITE_H
#define CERTAUTH_SAFEWRITE_H

#include <stddef.h>
#include <sys/types.h>

#include "certauth.h"

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

/*
 * One file of a cache: dir made when missing (mode 0700) and checked
 * safe (what names it in a reason: "OCSP cache directory"), then data
 * written to path (mode 0600) by certauth_write_atomic through a
 * temporary file in dir.  Returns as those do.
 */
int certauth_write_cache_file(const char *dir, const char *what,
    const char *path, const void *data, size_t len,
    struct certauth_reason *reason);

#endif /* CERTAUTH_SAFEWRITE_H */
