/*
 * fuzz_response.c - the client's answer (response.h) and its verification
 * (verify.h) against the fixed RSA, P-256 and Ed25519 certificates.
 *
 * Invariants: the shape check gives a hint exactly when it says so; a
 * parse that succeeds yields a non-empty signature no longer
 * than the base64 could hold, and re-encoding it parses back to the same
 * bytes; a failed parse hands nothing out; a signature that verifies over
 * the challenge never verifies over a challenge one byte different (so
 * nothing but the real signature of the fixtures' keys can pass); the
 * verifier leaves no OpenSSL error behind.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "fixtures.h"
#include "fuzzutil.h"
#include "response.h"
#include "verify.h"

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

static const char *
digest_prefix(int digest)
{
	switch (digest) {
	case CERTAUTH_DIGEST_SHA256:
		return "sha256:";
	case CERTAUTH_DIGEST_SHA384:
		return "sha384:";
	case CERTAUTH_DIGEST_SHA512:
		return "sha512:";
	}
	return "";
}

/* Encode what the parser decoded and parse it again: the same bytes. */
static void
check_round_trip(int digest, const unsigned char *sig, size_t siglen)
{
	const char *prefix = digest_prefix(digest);
	unsigned char *again = NULL;
	size_t againlen = 0, plen = strlen(prefix);
	char *text;
	int d2 = -1, n, r;

	fz_assert(siglen <= CERTAUTH_RESPONSE_MAX);
	if ((text = malloc(plen + 4 * ((siglen + 2) / 3) + 1)) == NULL)
		abort();
	memcpy(text, prefix, plen);
	n = EVP_EncodeBlock((unsigned char *)text + plen, sig, (int)siglen);
	fz_assert(n > 0);
	if (plen + (size_t)n <= CERTAUTH_RESPONSE_MAX) {
		r = certauth_response_parse(text, &d2, &again, &againlen, NULL);
		fz_assert(r == 0);
		fz_assert(d2 == digest);
		fz_assert(againlen == siglen);
		fz_assert(memcmp(again, sig, siglen) == 0);
	}
	free(again);
	free(text);
}

static void
check_verify(int digest, const unsigned char *sig, size_t siglen)
{
	static const char challenge[] = FUZZ_CHALLENGE;
	char other[sizeof(challenge)];
	struct certauth_reason reason;
	size_t i;
	int r;

	memcpy(other, challenge, sizeof(challenge));
	other[sizeof(challenge) - 2] ^= 0x01;
	for (i = 0; i < sizeof(certs) / sizeof(*certs); i++) {
		EVP_PKEY *pkey = X509_get0_pubkey(certs[i]);

		reason.text[0] = '\0';
		r = certauth_verify_signature(pkey, digest,
		    (const unsigned char *)challenge, sizeof(challenge) - 1,
		    sig, siglen, &reason);
		fz_assert_no_errors("certauth_verify_signature");
		fz_assert(r <= 0);
		fz_assert(r == 0 || reason.text[0] != '\0');
		if (r != 0)
			continue;
		r = certauth_verify_signature(pkey, digest,
		    (const unsigned char *)other, sizeof(other) - 1,
		    sig, siglen, NULL);
		fz_assert_no_errors("certauth_verify_signature");
		fz_assert(r == CERTAUTH_ERR_BAD_SIGNATURE);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certauth_reason reason;
	unsigned char *sig = (unsigned char *)"not set";
	size_t siglen = 1;
	char *resp;
	int digest = -1, r;

	resp = fz_strndup(data, size);
	reason.text[0] = '\0';
	/* The shape check says why, or nothing. */
	r = certauth_response_shape(resp, &reason);
	fz_assert(r == 0 || r == 1);
	fz_assert((r == 1) == (reason.text[0] != '\0'));
	reason.text[0] = '\0';
	r = certauth_response_parse(resp, &digest, &sig, &siglen, &reason);
	if (r != 0) {
		fz_assert(sig == NULL && siglen == 0);
		fz_assert(reason.text[0] != '\0' || r == CERTAUTH_ERR_NOMEM);
		fz_assert(strlen(resp) <= CERTAUTH_RESPONSE_MAX ||
		    r == CERTAUTH_ERR_TOO_LONG);
		goto out;
	}
	fz_assert(strlen(resp) <= CERTAUTH_RESPONSE_MAX);
	fz_assert(sig != NULL && siglen > 0);
	fz_assert(siglen <= strlen(resp) / 4 * 3 + 2);
	fz_assert(digest >= CERTAUTH_DIGEST_DEFAULT &&
	    digest <= CERTAUTH_DIGEST_SHA512);
	/* A named digest is exactly the prefix the spec spells. */
	fz_assert(strncmp(resp, digest_prefix(digest),
	    strlen(digest_prefix(digest))) == 0);
	check_round_trip(digest, sig, siglen);
	check_verify(digest, sig, siglen);
 out:
	if (r == 0)
		free(sig);
	free(resp);
	return 0;
}
