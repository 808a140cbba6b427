/*
 * sign.c - a client's signature over a challenge (conv.h), apart from the
 * conversation so that the unit tests can sign without linking libpam.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "conv.h"

char *
tu_client_sign(EVP_PKEY *key, const char *digest, int pss, const char *msg)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = NULL;
	unsigned char *sig = NULL;
	char *b64 = NULL, *ret = NULL;
	size_t siglen = 0, len = strlen(msg);

	if (digest != NULL)
		md = EVP_get_digestbyname(digest);
	else if (!EVP_PKEY_is_a(key, "ED25519") && !EVP_PKEY_is_a(key, "ED448"))
		md = EVP_sha256();
	if ((digest != NULL && md == NULL) ||
	    (mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(mctx, &pctx, md, NULL, key) != 1 ||
	    (pss && EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING) <= 0) ||
	    EVP_DigestSign(mctx, NULL, &siglen, (const unsigned char *)msg,
	    len) != 1 || (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(mctx, sig, &siglen, (const unsigned char *)msg,
	    len) != 1 || (b64 = malloc(4 * ((siglen + 2) / 3) + 1)) == NULL ||
	    EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen) < 0)
		goto out;
	ret = b64;
	b64 = NULL;
 out:
	free(b64);
	free(sig);
	EVP_MD_CTX_free(mctx);
	return ret;
}
