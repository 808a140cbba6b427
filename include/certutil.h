/*
 * certutil.h - describing a certificate in logs and tool output, and
 * reading certificates and CRLs from PEM.
 */
#ifndef CERTAUTH_CERTUTIL_H
#define CERTAUTH_CERTUTIL_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>

#define CERTAUTH_FP_CHARS 64 /* SHA-256, lower-case hex, no colons */

/* SHA-256 of the DER certificate as 64 lower-case hex chars + NUL.
 * Returns 0 or CERTAUTH_ERR_INTERNAL. */
int certauth_cert_fingerprint(X509 *cert, char out[CERTAUTH_FP_CHARS + 1]);

/*
 * Normalise a user-typed fingerprint (hex, any case, optional colons,
 * optional "SHA256:" prefix) to the form above.  Returns 0 or
 * CERTAUTH_ERR_FORMAT.
 */
int certauth_fingerprint_normalise(const char *in,
    char out[CERTAUTH_FP_CHARS + 1]);

/* One-line RFC 2253 name, e.g. "CN=alice,O=Example"; writes "?" on failure. */
void certauth_name_string(const X509_NAME *name, char *buf, size_t len);

/*
 * The one form of every date in a refusal, warning or tool output:
 * "YYYY-MM-DD HH:MM:SS UTC", always whole, since a date alone reads as
 * midnight.  CERTAUTH_TIME_CHARS holds it with its NUL.
 */
#define CERTAUTH_TIME_CHARS 32

/* An ASN1_TIME in that form (or "?"). */
void certauth_time_string(const ASN1_TIME *t, char *buf, size_t len);

/* A time_t in that form (or its decimal digits if it has none). */
void certauth_unix_time_string(time_t t, char *buf, size_t len);

/* t as seconds since the epoch into *out: 0, or CERTAUTH_ERR_FORMAT for a
 * NULL or unreadable t. */
int certauth_asn1_to_time(const ASN1_TIME *t, time_t *out);

/* secs (>= 0) as a person reads it: "7200 seconds (about 2 hours)". */
void certauth_span_string(long long secs, char *buf, size_t len);

/*
 * The pem_password_cb for every PEM read of certificates and CRLs: it
 * supplies no pass phrase and returns -1, so a block with an encryption
 * header fails to parse.  With a NULL callback OpenSSL would instead
 * prompt for one on /dev/tty or stdin: inside su, login or sudo that is
 * the user's terminal, and the login would wait on it.
 */
int certauth_pem_no_passphrase(char *buf, int size, int rwflag, void *u);

#endif /* CERTAUTH_CERTUTIL_H */
