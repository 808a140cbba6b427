/*
 * response.h - parsing the client's answer, docs/PROTOCOL.md,
 * "The response":
 *   R = [<digest> ":"] base64(signature)
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

#endif /* CERTAUTH_RESPONSE_H */
