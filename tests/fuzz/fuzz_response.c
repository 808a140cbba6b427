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
 *
 * The same input read as a response that may offer a certificate
 * (certauth_response_parse_offer): without a '.' it reads exactly as
 * above and offers none; a failure hands nothing out; a success has a
 * non-empty certificate part exactly when there was a '.', and encoding
 * both parts again (certauth_response_encode, certauth_response_offer)
 * reads back to the same bytes, or is refused as too long only when the
 * encoded line would pass the limit.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
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

/* Encode what parse_offer decoded and read it back: the same bytes. */
static void
check_offer_round_trip(int digest, const unsigned char *sig, size_t siglen,
    const unsigned char *cert, size_t certlen)
{
	unsigned char *sig2 = NULL, *cert2 = NULL;
	size_t sig2len = 0, cert2len = 0, want;
	char *text = NULL;
	int d2 = -1, r;

	if (certauth_response_encode(digest, sig, siglen, &text) != 0)
		return; /* only a failed allocation, or a signature too long */
	want = strlen(text) + 1 + 4 * ((certlen + 2) / 3);
	r = certauth_response_offer(&text, cert, certlen);
	if (r == CERTAUTH_ERR_TOO_LONG) {
		fz_assert(want > CERTAUTH_RESPONSE_MAX);
		goto out;
	}
	if (r != 0)
		goto out;
	fz_assert(strlen(text) == want);
	r = certauth_response_parse_offer(text, &d2, &sig2, &sig2len, &cert2,
	    &cert2len, NULL);
	if (r == CERTAUTH_ERR_NOMEM)
		goto out;
	fz_assert(r == 0);
	/* The encoder spells SHA-256 without a prefix. */
	fz_assert(d2 == digest ||
	    (digest == CERTAUTH_DIGEST_SHA256 &&
		d2 == CERTAUTH_DIGEST_DEFAULT));
	fz_assert(sig2len == siglen && memcmp(sig2, sig, siglen) == 0);
	fz_assert(cert2len == certlen && memcmp(cert2, cert, certlen) == 0);
out:
	free(sig2);
	free(cert2);
	free(text);
}

/* resp read as a response that may offer a certificate.  plain_r, sig
 * and siglen are what certauth_response_parse made of it. */
static void
check_offer(const char *resp, int plain_r, int plain_digest,
    const unsigned char *plain_sig, size_t plain_siglen)
{
	struct certauth_reason reason;
	unsigned char *sig = (unsigned char *)"not set";
	unsigned char *cert = (unsigned char *)"not set";
	const unsigned char *p;
	size_t siglen = 1, certlen = 1;
	int digest = -1, r;
	X509 *x;

	reason.text[0] = '\0';
	r = certauth_response_parse_offer(resp, &digest, &sig, &siglen, &cert,
	    &certlen, &reason);
	if (r != 0) {
		fz_assert(sig == NULL && siglen == 0);
		fz_assert(cert == NULL && certlen == 0);
		fz_assert(reason.text[0] != '\0' || r == CERTAUTH_ERR_NOMEM);
		fz_assert(strlen(resp) <= CERTAUTH_RESPONSE_MAX ||
		    r == CERTAUTH_ERR_TOO_LONG);
		if (strchr(resp, '.') == NULL && r != CERTAUTH_ERR_NOMEM &&
		    plain_r != CERTAUTH_ERR_NOMEM)
			fz_assert(r == plain_r);
		return;
	}
	fz_assert(strlen(resp) <= CERTAUTH_RESPONSE_MAX);
	fz_assert(sig != NULL && siglen > 0);
	fz_assert(digest >= CERTAUTH_DIGEST_DEFAULT &&
	    digest <= CERTAUTH_DIGEST_SHA512);
	if (strchr(resp, '.') == NULL) {
		/* No certificate: the plain parser's reading, exactly. */
		fz_assert(cert == NULL && certlen == 0);
		if (plain_r != CERTAUTH_ERR_NOMEM) {
			fz_assert(plain_r == 0);
			fz_assert(digest == plain_digest);
			fz_assert(siglen == plain_siglen &&
			    memcmp(sig, plain_sig, siglen) == 0);
		}
	} else {
		fz_assert(cert != NULL && certlen > 0);
		fz_assert(strchr(strchr(resp, '.') + 1, '.') == NULL);
		fz_assert(certlen <= strlen(strchr(resp, '.')) / 4 * 3 + 2);
		check_offer_round_trip(digest, sig, siglen, cert, certlen);
		/* What the rules source does next: read it as DER. */
		p = cert;
		x = d2i_X509(NULL, &p, (long)certlen);
		X509_free(x);
		ERR_clear_error();
	}
	check_verify(digest, sig, siglen);
	free(sig);
	free(cert);
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
	check_offer(resp, r, digest, r == 0 ? sig : NULL, r == 0 ? siglen : 0);
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
