/*
 * challenge.h - the challenge string of docs/PROTOCOL.md, "The challenge":
 *   certauth:v1:<host>:<service>:<user>:<time>:<nonce>
 */
#ifndef CERTAUTH_CHALLENGE_H
#define CERTAUTH_CHALLENGE_H

#include <stddef.h>
#include <time.h>

#include "certauth.h"

#define CERTAUTH_NONCE_BYTES 32
#define CERTAUTH_NONCE_CHARS 43 /* base64url, no padding */
/* The longest challenge a reader takes: three fields of 255 bytes, each
 * byte encoded as %XX, fit more than three times over. */
#define CERTAUTH_CHALLENGE_MAX 4096

/*
 * A challenge read back.  host, service and user are decoded (non-empty,
 * no NUL); host_enc, service_enc and user_enc are the same fields as they
 * stand in the challenge, for certauth_pct_display.  All six are
 * malloc'd; certauth_challenge_free releases them.
 */
struct certauth_challenge {
	char *host, *service, *user;
	char *host_enc, *service_enc, *user_enc;
	time_t issued;
	unsigned char nonce[CERTAUTH_NONCE_BYTES];
};

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

/*
 * Read a challenge back with the grammar certauth_challenge_build writes,
 * and nothing else: "certauth", "v1", host, service and user each in
 * certauth_pct_decode's one spelling and non-empty, the time as "%jd"
 * prints a time_t (an optional '-', no '+', no leading zero, no "-0"),
 * and the nonce as the 43 base64url characters of 32 bytes (the unused
 * low bits of the last one zero).  Nothing may follow the nonce.
 * Returns 0 with *out filled (the caller frees it with
 * certauth_challenge_free), CERTAUTH_ERR_TOO_LONG over
 * CERTAUTH_CHALLENGE_MAX characters (refused before anything else looks
 * at it), CERTAUTH_ERR_FORMAT with a reason that names the bad part but
 * quotes none of it, or CERTAUTH_ERR_NOMEM.  *out is all zero on failure.
 */
int certauth_challenge_parse(const char *text, struct certauth_challenge *out,
    struct certauth_reason *reason);

/* Free the fields of c and zero it; NULL and a zeroed c are fine. */
void certauth_challenge_free(struct certauth_challenge *c);

#endif /* CERTAUTH_CHALLENGE_H */
