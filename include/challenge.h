/*
 * challenge.h - the challenge string of docs/PROTOCOL.md, "The challenge":
 *   certauth:v1:<host>:<service>:<user>:<time>:<nonce>
 */
#ifndef CERTAUTH_CHALLENGE_H
#define CERTAUTH_CHALLENGE_H

#include <stddef.h>
#include <time.h>

#define CERTAUTH_NONCE_BYTES	32
#define CERTAUTH_NONCE_CHARS	43	/* base64url, no padding */

/*
 * Percent-encode a field: every byte outside A-Z a-z 0-9 . _ - @ + becomes
 * %XX (upper-case hex).  *out is malloc'd and owned by the caller.
 * Returns 0 or CERTAUTH_ERR_NOMEM.
 */
int certauth_pct_encode(const char *in, char **out);

/*
 * The reverse of certauth_pct_encode, accepting only its exact output (so a
 * field or file name has one meaning and no NUL can hide in it).  *out is
 * malloc'd.  Returns 0, CERTAUTH_ERR_FORMAT (not an encoded, non-empty
 * field) or CERTAUTH_ERR_NOMEM.
 */
int certauth_pct_decode(const char *in, char **out);

/*
 * What to show a person for a field: decoded as is when every byte of it
 * is printable ASCII (0x20-0x7e), else encoded (its certauth_pct_encode
 * form), so no control or non-ASCII byte reaches a terminal or a
 * tab-separated line.  Returns one of the two pointers; allocates nothing.
 */
const char *certauth_pct_display(const char *decoded, const char *encoded);

/*
 * Build the challenge from its parts with the given nonce bytes.  host,
 * service and user are encoded here.  *out is malloc'd (caller frees).
 * Returns 0, CERTAUTH_ERR_FORMAT (NULL field) or CERTAUTH_ERR_NOMEM.
 */
int certauth_challenge_build(const char *host, const char *service,
    const char *user, time_t issued,
    const unsigned char nonce[CERTAUTH_NONCE_BYTES], char **out);

/*
 * As certauth_challenge_build with a fresh nonce from the CSPRNG
 * (getrandom(2)).  Returns CERTAUTH_ERR_INTERNAL if the CSPRNG fails.
 */
int certauth_challenge_new(const char *host, const char *service,
    const char *user, time_t issued, char **out);

#endif /* CERTAUTH_CHALLENGE_H */
