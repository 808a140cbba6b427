/*
 * verify.c - signature verification over the challenge with the public
 * key of a bound certificate (docs/PROTOCOL.md, "Keys and digests").
 */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "certauth.h"
#include "digest.h"
#include "verify.h"

#define RSA_MIN_BITS 2048

/* The curves of docs/PROTOCOL.md, "Keys and digests", by NID so aliases
 * ("P-256") match. */
static const int allowed_curves[] = {
	NID_X9_62_prime256v1,
	NID_secp384r1,
	NID_secp521r1,
};

static int
check_ec(EVP_PKEY *pkey, struct certauth_reason *reason)
{
	char group[80];
	size_t i, glen = 0;
	int nid;

	/* A key without a named group has explicit parameters: never trust
	 * curve parameters that arrive with the key. */
	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
		group, sizeof(group), &glen) != 1) {
		certauth_reason_set(reason,
		    "EC key without a named curve is not allowed");
		return CERTAUTH_ERR_KEY_REFUSED;
	}
	if ((nid = OBJ_sn2nid(group)) == NID_undef)
		nid = EC_curve_nist2nid(group);
	for (i = 0; i < sizeof(allowed_curves) / sizeof(*allowed_curves); i++) {
		if (nid != NID_undef && nid == allowed_curves[i])
			return 0;
	}
	certauth_reason_set(reason, "EC curve %s is not allowed", group);
	return CERTAUTH_ERR_KEY_REFUSED;
}

static int
key_check(EVP_PKEY *pkey, struct certauth_reason *reason)
{
	const char *name;
	int bits;

	if (pkey == NULL) {
		certauth_reason_set(reason, "no public key");
		return CERTAUTH_ERR_KEY_REFUSED;
	}
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		if ((bits = EVP_PKEY_get_bits(pkey)) < RSA_MIN_BITS) {
			certauth_reason_set(reason,
			    "RSA key of %d bits is below %d", bits,
			    RSA_MIN_BITS);
			return CERTAUTH_ERR_KEY_REFUSED;
		}
		return 0;
	case EVP_PKEY_EC:
		return check_ec(pkey, reason);
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		return 0;
	case EVP_PKEY_DSA:
		certauth_reason_set(reason, "DSA keys are not allowed");
		return CERTAUTH_ERR_KEY_REFUSED;
	}
	if ((name = EVP_PKEY_get0_type_name(pkey)) == NULL)
		name = "unknown";
	certauth_reason_set(reason, "%s keys are not allowed", name);
	return CERTAUTH_ERR_KEY_REFUSED;
}

int
certauth_key_check(EVP_PKEY *pkey, struct certauth_reason *reason)
{
	int r = key_check(pkey, reason);

	ERR_clear_error();
	return r;
}

/*
 * One verification attempt.  md NULL is pure EdDSA; pad 0 leaves the
 * key's default padding.  Returns 0, CERTAUTH_ERR_BAD_SIGNATURE,
 * CERTAUTH_ERR_NOMEM, or CERTAUTH_ERR_INTERNAL when OpenSSL will not set
 * up the context (which for a restricted RSA-PSS key means its
 * parameters name another hash).
 */
static int
verify_once(EVP_PKEY *pkey, const EVP_MD *md, int pad, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) != 1)
		goto out;
	if (pad != 0 && EVP_PKEY_CTX_set_rsa_padding(pctx, pad) <= 0)
		goto out;
	/*
	 * Clients choose the salt length; the spec accepts any.  MGF1 uses
	 * md by default.  An RSA-PSS key with parameters refuses "auto" for
	 * verification: its own salt length then applies.
	 */
	if (pad == RSA_PKCS1_PSS_PADDING &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) <= 0) {
		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA_PSS)
			goto out;
		ERR_clear_error();
	}
	/* 0 is a wrong signature, < 0 one that does not even parse. */
	if (EVP_DigestVerify(ctx, sig, siglen, msg, msglen) != 1) {
		r = CERTAUTH_ERR_BAD_SIGNATURE;
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

static int
verify_rsa(EVP_PKEY *pkey, const EVP_MD *md, const char *mdname,
    const unsigned char *msg, size_t msglen, const unsigned char *sig,
    size_t siglen, struct certauth_reason *reason)
{
	int r = CERTAUTH_ERR_INTERNAL, is_pss_key;

	is_pss_key = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA_PSS;
	if (!is_pss_key) {
		r = verify_once(pkey, md, RSA_PKCS1_PADDING, msg, msglen, sig,
		    siglen);
		if (r != CERTAUTH_ERR_BAD_SIGNATURE)
			goto out;
	}
	r = verify_once(pkey, md, RSA_PKCS1_PSS_PADDING, msg, msglen, sig,
	    siglen);
	if (r == CERTAUTH_ERR_INTERNAL && is_pss_key)
		r = CERTAUTH_ERR_DIGEST_REFUSED;
out:
	if (r == CERTAUTH_ERR_BAD_SIGNATURE) {
		certauth_reason_set(reason,
		    "RSA signature (%s, %s) does not "
		    "verify",
		    is_pss_key ? "PSS" : "PKCS#1 v1.5 or PSS", mdname);
	} else if (r == CERTAUTH_ERR_DIGEST_REFUSED) {
		certauth_reason_set(reason,
		    "digest %s is not allowed by the RSA-PSS key parameters",
		    mdname);
	}
	return r;
}

int
certauth_verify_signature(EVP_PKEY *pkey, int digest, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen,
    struct certauth_reason *reason)
{
	const EVP_MD *md;
	const char *mdname = NULL;
	int r = CERTAUTH_ERR_INTERNAL, id;

	if ((r = key_check(pkey, reason)) != 0)
		goto out;
	if (msg == NULL && msglen != 0) {
		certauth_reason_set(reason, "no message to verify");
		r = CERTAUTH_ERR_INTERNAL;
		goto out;
	}
	if (msg == NULL)
		msg = (const unsigned char *)"";
	if ((md = certauth_digest_md(digest)) == NULL ||
	    (mdname = certauth_digest_name(digest)) == NULL) {
		certauth_reason_set(reason, "digest %d is not known", digest);
		r = CERTAUTH_ERR_DIGEST_REFUSED;
		goto out;
	}
	id = EVP_PKEY_get_base_id(pkey);
	/* EdDSA hashes internally: a named digest is a client mistake. */
	if ((id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) &&
	    digest != CERTAUTH_DIGEST_DEFAULT) {
		certauth_reason_set(reason,
		    "digest %s is not allowed with %s "
		    "keys",
		    mdname, id == EVP_PKEY_ED25519 ? "Ed25519" : "Ed448");
		r = CERTAUTH_ERR_DIGEST_REFUSED;
		goto out;
	}
	if (sig == NULL || siglen == 0) {
		certauth_reason_set(reason, "empty signature");
		r = CERTAUTH_ERR_BAD_SIGNATURE;
		goto out;
	}
	switch (id) {
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		if ((r = verify_once(pkey, NULL, 0, msg, msglen, sig,
			 siglen)) == CERTAUTH_ERR_BAD_SIGNATURE) {
			certauth_reason_set(reason,
			    "%s signature does not "
			    "verify",
			    id == EVP_PKEY_ED25519 ? "Ed25519" : "Ed448");
		}
		break;
	case EVP_PKEY_EC:
		if ((r = verify_once(pkey, md, 0, msg, msglen, sig, siglen)) ==
		    CERTAUTH_ERR_BAD_SIGNATURE) {
			certauth_reason_set(reason,
			    "ECDSA signature (%s) does "
			    "not verify",
			    mdname);
		}
		break;
	default: /* key_check allowed only RSA beyond these */
		r = verify_rsa(pkey, md, mdname, msg, msglen, sig, siglen,
		    reason);
		break;
	}
	if (r == CERTAUTH_ERR_INTERNAL || r == CERTAUTH_ERR_NOMEM)
		certauth_reason_set(reason, "cannot set up verification: %s",
		    certauth_strerror(r));
out:
	ERR_clear_error();
	return r;
}
