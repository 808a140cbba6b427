/*
 * fuzz_sshagent.c - an ssh-agent's signature blob (sshagent.h) converted
 * for the fixed RSA, P-256 and Ed25519 certificates' keys.  The first
 * byte picks the key and the sign flags, the rest is the blob.
 *
 * Invariants: a refusal hands nothing out and says why; an accepted
 * blob gives a non-empty signature of the form the module reads (RSA as
 * long as the modulus, Ed25519 64 bytes, ECDSA DER that parses back
 * whole); no OpenSSL error is left behind.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "fixtures.h"
#include "fuzzutil.h"
#include "sshagent.h"

static X509 *certs[3];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	certs[0] = fz_cert(fx_leaf_rsa_pem);
	certs[1] = fz_cert(fx_leaf_ec_pem);
	certs[2] = fz_cert(fx_leaf_ed_pem);
	return 0;
}

/* The signature is in the form the module verifies for pkey. */
static void
check_form(EVP_PKEY *pkey, const unsigned char *sig, size_t len)
{
	const unsigned char *p = sig;
	ECDSA_SIG *es;

	fz_assert(sig != NULL && len > 0);
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		fz_assert(len == (size_t)EVP_PKEY_get_size(pkey));
		break;
	case EVP_PKEY_ED25519:
		fz_assert(len == 64);
		break;
	default:
		es = d2i_ECDSA_SIG(NULL, &p, (long)len);
		fz_assert(es != NULL && p == sig + len);
		ECDSA_SIG_free(es);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t flags[] = { 0, CERTAUTH_AGENT_RSA_SHA2_256,
		CERTAUTH_AGENT_RSA_SHA2_512 };
	struct certauth_reason reason;
	unsigned char *sig = (unsigned char *)"not set";
	size_t siglen = 0;
	EVP_PKEY *pkey;
	int r;

	if (size < 1)
		return 0;
	pkey = X509_get0_pubkey(certs[data[0] % 3]);
	reason.text[0] = '\0';
	r = certauth_agent_sig_convert(pkey, flags[(data[0] / 3) % 3],
	    data + 1, size - 1, &sig, &siglen, &reason);
	fz_assert_no_errors("certauth_agent_sig_convert");
	if (r != 0) {
		fz_assert(sig == NULL);
		fz_assert(reason.text[0] != '\0' || r == CERTAUTH_ERR_NOMEM);
		return 0;
	}
	check_form(pkey, sig, siglen);
	free(sig);
	return 0;
}
