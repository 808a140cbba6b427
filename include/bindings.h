/*
 * bindings.h - the bindings store of docs/PROTOCOL.md, "Bindings store":
 * which certificates belong to an account.
 */
#ifndef CERTAUTH_BINDINGS_H
#define CERTAUTH_BINDINGS_H

#include <stddef.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "safefile.h"

#define CERTAUTH_BINDINGS_MAX (1024 * 1024) /* bytes in one file */

/* <dir>/<percent-encoded user>, malloc'd.  0 or CERTAUTH_ERR_NOMEM. */
int certauth_bindings_path(const char *dir, const char *user, char **out);

/*
 * Read the user's bindings file through certauth_read_safely (seen: NULL
 * or the login's record of safe directories) and parse
 * every PEM CERTIFICATE block in it; text outside PEM blocks is ignored.
 * Returns 0 with *out (caller frees with sk_X509_pop_free) holding at least
 * one certificate; CERTAUTH_ERR_NOT_FOUND when the file does not exist or
 * holds no certificate; CERTAUTH_ERR_UNSAFE; CERTAUTH_ERR_FORMAT when a
 * BEGIN CERTIFICATE block does not parse; CERTAUTH_ERR_TOO_LONG; CERTAUTH_ERR_IO.
 * An unsafe or unreadable file below an unsafe directory has its reason
 * marked a fault of the host (certauth_reason_host).
 */
int certauth_bindings_read(const char *dir, const char *user,
    struct certauth_seen *seen, STACK_OF(X509) **out,
    struct certauth_reason *reason);

/*
 * Parse certificates from a PEM buffer as above (used by the reader and the
 * enrollment tool).  Same returns, without the file checks.
 */
int certauth_bindings_parse(const char *buf, size_t len, STACK_OF(X509) **out,
    struct certauth_reason *reason);

/*
 * Replace the user's bindings file with certs as PEM: creates dir (0755,
 * root) when missing, writes a temporary file 0644 in dir, fsyncs, renames
 * over the target and fsyncs the directory.  An empty stack removes the
 * file.  Returns 0, CERTAUTH_ERR_UNSAFE (dir fails the safety checks),
 * CERTAUTH_ERR_IO or CERTAUTH_ERR_NOMEM.  Never leaves a partial file.
 */
int certauth_bindings_write(const char *dir, const char *user,
    STACK_OF(X509) *certs, struct certauth_reason *reason);

#endif /* CERTAUTH_BINDINGS_H */
