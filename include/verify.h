/*
 * verify.h - signature verification over the challenge with the public
 * key of a bound certificate (docs/PROTOCOL.md, "Keys and digests").
 */
#ifndef CERTAUTH_VERIFY_H
#define CERTAUTH_VERIFY_H

#include <stddef.h>
#include <openssl/evp.h>

#include "certauth.h"

/*
 * Is this key allowed at all?  RSA >= 2048 bits; EC on P-256, P-384 or
 * P-521; Ed25519; Ed448.  Everything else (DSA, small RSA, other curves)
 * is CERTAUTH_ERR_KEY_REFUSED with a reason such as
 * "RSA key of 1024 bits is below 2048".  Returns 0 when allowed.
 */
int certauth_key_check(EVP_PKEY *pkey, struct certauth_reason *reason);

/*
 * Verify sig over msg with pkey.  digest is an enum certauth_digest:
 * RSA tries PKCS#1 v1.5 then PSS (any salt length); EC expects a DER
 * ECDSA signature; both hash with SHA-256 unless digest names SHA-384/512.
 * Ed25519/Ed448 take no digest: any prefix is CERTAUTH_ERR_DIGEST_REFUSED.
 * Returns 0 when it verifies, CERTAUTH_ERR_BAD_SIGNATURE when it does not,
 * CERTAUTH_ERR_KEY_REFUSED per certauth_key_check, CERTAUTH_ERR_NOMEM or
 * CERTAUTH_ERR_INTERNAL.  The OpenSSL error queue is cleared either way.
 */
int certauth_verify_signature(EVP_PKEY *pkey, int digest,
    const unsigned char *msg, size_t msglen, const unsigned char *sig,
    size_t siglen, struct certauth_reason *reason);

#endif /* CERTAUTH_VERIFY_H */
