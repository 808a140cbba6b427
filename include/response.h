/*
 * response.h - parsing the client's answer, docs/PROTOCOL.md,
 * "The response":
 *   R = [<digest> ":"] base64(signature) ["." base64(certificate)]
 *
 * The certificate, DER, is offered for the mapping rules (rules.h); no
 * other binding source looks at it.
 */
#ifndef CERTAUTH_RESPONSE_H
#define CERTAUTH_RESPONSE_H

#include <stddef.h>

#include "certauth.h"
#include "digest.h" /* enum certauth_digest */

#define CERTAUTH_RESPONSE_MAX 4096 /* characters, checked before decoding */

/*
 * Parse a response.  Accepts standard or URL-safe base64, padding
 * optional, ignoring spaces, tabs, CR and LF.  Input longer than
 * CERTAUTH_RESPONSE_MAX characters is CERTAUTH_ERR_TOO_LONG, refused
 * before decoding.  A "sha1:"/"md5:" prefix is CERTAUTH_ERR_DIGEST_REFUSED;
 * any other unknown prefix, an empty signature or bad base64 is
 * CERTAUTH_ERR_FORMAT.  On success *sig (malloc'd, caller frees) holds
 * *siglen decoded bytes and *digest the prefix.
 */
int certauth_response_parse(const char *resp, int *digest, unsigned char **sig,
    size_t *siglen, struct certauth_reason *reason);

/*
 * certauth_response_parse for a response that may offer a certificate
 * after a '.': *cert (malloc'd, caller frees; NULL when none) holds its
 * *certlen DER bytes, not yet parsed.  The limit of
 * CERTAUTH_RESPONSE_MAX characters is the whole response's.  A second
 * '.' or bad base64 after it is CERTAUTH_ERR_FORMAT.
 */
int certauth_response_parse_offer(const char *resp, int *digest,
    unsigned char **sig, size_t *siglen, unsigned char **cert, size_t *certlen,
    struct certauth_reason *reason);

/*
 * Append "." and the base64 of der[0..derlen) (a certificate) to the
 * malloc'd response line *response, which is reallocated.  Returns 0,
 * CERTAUTH_ERR_TOO_LONG when the line would pass CERTAUTH_RESPONSE_MAX
 * characters (or der is empty), or CERTAUTH_ERR_NOMEM (*response is
 * left as it was).
 */
int certauth_response_offer(char **response, const unsigned char *der,
    size_t derlen);

/*
 * The response line for sig[0..siglen) made with digest (enum
 * certauth_digest): "<digest>:" before the base64 unless the digest is
 * SHA-256 or the default.  *out is malloc'd.  Returns 0,
 * CERTAUTH_ERR_TOO_LONG, CERTAUTH_ERR_NOMEM or CERTAUTH_ERR_INTERNAL (no
 * such digest).
 */
int certauth_response_encode(int digest, const unsigned char *sig,
    size_t siglen, char **out);

/*
 * Whether resp has the shape of an answer broken on its way from the
 * signer: after an optional "<name>:" prefix, base64 (either alphabet,
 * '=' and white space aside) of exactly 64 characters, one line of
 * `openssl base64` without -A, or of a length that decodes to a size no
 * accepted signature has (RSA of 2048 bits or more, ECDSA on P-256,
 * P-384, P-521, Ed25519, Ed448).  Judges the text alone, never a key or
 * an account, so the hint may be shown to whoever typed it.  Returns 1
 * with *hint saying what is wrong and how to paste it, else 0.
 */
int certauth_response_shape(const char *resp, struct certauth_reason *hint);

#endif /* CERTAUTH_RESPONSE_H */
