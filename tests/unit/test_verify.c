/*
 * test_verify.c - which keys are allowed and which signatures verify
 * (docs/PROTOCOL.md, "Keys and digests"), and the certificate
 * descriptions of certutil.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "certutil.h"
#include "challenge.h"
#include "response.h"
#include "testutil.h"
#include "verify.h"

#define MSG	"certauth:v1:host1:sshd:alice:1790000000:" \
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

/* Keys are slow to make: one set for the whole run. */
static struct {
	EVP_PKEY *rsa, *rsa_b, *rsa_pss, *p256, *p256_b, *p384, *p521;
	EVP_PKEY *ed25519, *ed25519_b, *ed448;
	EVP_PKEY *rsa1024, *dsa, *k256, *p224;
} K;

static const char *const prefixes[] = { NULL, "sha256", "sha384", "sha512" };
static const int digests[] = {
	CERTAUTH_DIGEST_DEFAULT, CERTAUTH_DIGEST_SHA256,
	CERTAUTH_DIGEST_SHA384, CERTAUTH_DIGEST_SHA512,
};

/* An RSA-PSS key (not in testutil), optionally restricted to md. */
static EVP_PKEY *
keygen_pss(const EVP_MD *md)
{
	EVP_PKEY_CTX *kctx = NULL;
	EVP_PKEY *key = NULL;

	if ((kctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS",
	    NULL)) == NULL ||
	    EVP_PKEY_keygen_init(kctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(kctx, 2048) <= 0 ||
	    (md != NULL && EVP_PKEY_CTX_set_rsa_pss_keygen_md(kctx, md) <= 0) ||
	    EVP_PKEY_keygen(kctx, &key) <= 0) {
		ERR_print_errors_fp(stderr);
		fail_msg("RSA-PSS key generation");
	}
	EVP_PKEY_CTX_free(kctx);
	return key;
}

static int
setup(void **state)
{
	(void)state;
	K.rsa = tu_keygen("RSA:2048");
	K.rsa_b = tu_keygen("RSA:2048");
	K.rsa_pss = keygen_pss(NULL);
	K.p256 = tu_keygen("P-256");
	K.p256_b = tu_keygen("P-256");
	K.p384 = tu_keygen("P-384");
	K.p521 = tu_keygen("P-521");
	K.ed25519 = tu_keygen("ED25519");
	K.ed25519_b = tu_keygen("ED25519");
	K.ed448 = tu_keygen("ED448");
	K.rsa1024 = tu_keygen("RSA:1024");
	K.dsa = tu_keygen("DSA");
	K.k256 = tu_keygen("secp256k1");
	K.p224 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-224");
	return K.p224 == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	EVP_PKEY **k = (EVP_PKEY **)&K;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(K) / sizeof(*k); i++)
		EVP_PKEY_free(k[i]);
	return 0;
}

/* What a client sends: "[digest:]base64". */
static char *
respond(EVP_PKEY *key, const char *digest, int pss, const char *msg)
{
	char *b64 = tu_sign_b64(key, digest, pss, msg), *r = NULL;

	assert_non_null(b64);
	if (digest == NULL)
		return b64;
	assert_true(asprintf(&r, "%s:%s", digest, b64) > 0);
	free(b64);
	return r;
}

/* What the module does with it: parse, then verify over msg. */
static int
check(EVP_PKEY *key, const char *resp, const char *msg,
    struct certauth_reason *reason)
{
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int digest = -1, r;

	memset(reason, 0, sizeof(*reason));
	if ((r = certauth_response_parse(resp, &digest, &sig, &siglen,
	    reason)) != 0)
		return r;
	r = certauth_verify_signature(key, digest,
	    (const unsigned char *)msg, strlen(msg), sig, siglen, reason);
	/* The queue is cleared on every path. */
	assert_int_equal(ERR_peek_error(), 0);
	if (r != 0)
		assert_true(reason->text[0] != '\0');
	free(sig);
	return r;
}

static void
assert_verifies(EVP_PKEY *key, const char *resp, const char *msg)
{
	struct certauth_reason rs;
	int r = check(key, resp, msg, &rs);

	if (r != 0)
		fail_msg("%s: %d (%s)", resp, r, rs.text);
}

static void
assert_fails(EVP_PKEY *key, const char *resp, const char *msg, int want)
{
	struct certauth_reason rs;
	int r = check(key, resp, msg, &rs);

	if (r != want)
		fail_msg("%s: got %d (%s), want %d", resp, r, rs.text, want);
}

/* Sign msg and check it verifies, and that a changed msg does not. */
static void
roundtrip(EVP_PKEY *key, const char *digest, int pss)
{
	char *resp = respond(key, digest, pss, MSG);

	assert_verifies(key, resp, MSG);
	assert_fails(key, resp, MSG "\n", CERTAUTH_ERR_BAD_SIGNATURE);
	free(resp);
}

static void
test_key_check_allowed(void **state)
{
	EVP_PKEY *ok[] = {
		K.rsa, K.rsa_pss, K.p256, K.p384, K.p521, K.ed25519, K.ed448,
	};
	struct certauth_reason rs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		assert_int_equal(certauth_key_check(ok[i], &rs), 0);
		assert_int_equal(ERR_peek_error(), 0);
	}
}

static void
test_key_check_refused(void **state)
{
	struct certauth_reason rs;

	(void)state;
	assert_int_equal(certauth_key_check(K.rsa1024, &rs),
	    CERTAUTH_ERR_KEY_REFUSED);
	assert_string_equal(rs.text, "RSA key of 1024 bits is below 2048");
	assert_int_equal(certauth_key_check(K.dsa, &rs),
	    CERTAUTH_ERR_KEY_REFUSED);
	assert_string_equal(rs.text, "DSA keys are not allowed");
	assert_int_equal(certauth_key_check(K.k256, &rs),
	    CERTAUTH_ERR_KEY_REFUSED);
	assert_string_equal(rs.text, "EC curve secp256k1 is not allowed");
	assert_int_equal(certauth_key_check(K.p224, &rs),
	    CERTAUTH_ERR_KEY_REFUSED);
	assert_string_equal(rs.text, "EC curve secp224r1 is not allowed");
	assert_int_equal(certauth_key_check(NULL, &rs),
	    CERTAUTH_ERR_KEY_REFUSED);
	/* reason may be NULL. */
	assert_int_equal(certauth_key_check(K.dsa, NULL),
	    CERTAUTH_ERR_KEY_REFUSED);
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_rsa_pkcs1(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		roundtrip(K.rsa, prefixes[i], 0);
}

static void
test_rsa_pss(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		roundtrip(K.rsa, prefixes[i], 1);
}

/* An RSA-PSS signature with a chosen salt length, as a response. */
static char *
pss_respond(EVP_PKEY *key, const char *digest, int saltlen, const char *msg)
{
	const EVP_MD *md = EVP_get_digestbyname(digest ? digest : "sha256");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	char b64[1400], *r = NULL;

	assert_non_null(md);
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, key), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) > 0);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen,
	    (const unsigned char *)msg, strlen(msg)), 1);
	assert_true(EVP_EncodeBlock((unsigned char *)b64, sig,
	    (int)siglen) > 0);
	EVP_MD_CTX_free(ctx);
	assert_true(asprintf(&r, "%s%s%s", digest ? digest : "",
	    digest ? ":" : "", b64) > 0);
	return r;
}

static void
test_rsa_pss_salt_lengths(void **state)
{
	static const struct {
		const char *digest;
		int saltlen;
	} cases[] = {
		{ NULL, 0 }, { NULL, 32 }, { NULL, RSA_PSS_SALTLEN_MAX },
		{ "sha256", 0 }, { "sha256", 32 },
		{ "sha384", 0 }, { "sha384", 48 },
		{ "sha384", RSA_PSS_SALTLEN_MAX },
		{ "sha512", 0 }, { "sha512", 32 }, { "sha512", 64 },
		{ "sha512", RSA_PSS_SALTLEN_MAX },
	};
	size_t i;
	char *resp;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		resp = pss_respond(K.rsa, cases[i].digest, cases[i].saltlen,
		    MSG);
		assert_verifies(K.rsa, resp, MSG);
		assert_fails(K.rsa, resp, MSG "x",
		    CERTAUTH_ERR_BAD_SIGNATURE);
		assert_fails(K.rsa_b, resp, MSG, CERTAUTH_ERR_BAD_SIGNATURE);
		free(resp);
	}
}

/* A key of type RSA-PSS verifies PSS signatures. */
static void
test_rsa_pss_key(void **state)
{
	char *resp;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		roundtrip(K.rsa_pss, prefixes[i], 1);
	resp = pss_respond(K.rsa_pss, "sha512", 0, MSG);
	assert_verifies(K.rsa_pss, resp, MSG);
	free(resp);
}

/* An RSA-PSS key restricted to SHA-256 refuses other digests. */
static void
test_rsa_pss_key_restricted(void **state)
{
	EVP_PKEY *key = keygen_pss(EVP_sha256());
	char *resp;

	(void)state;
	resp = respond(key, NULL, 1, MSG);
	assert_verifies(key, resp, MSG);
	free(resp);
	/* The same signature claimed as sha512 cannot be checked. */
	resp = respond(key, NULL, 1, MSG);
	{
		char *p = NULL;

		assert_true(asprintf(&p, "sha512:%s", resp) > 0);
		assert_fails(key, p, MSG, CERTAUTH_ERR_DIGEST_REFUSED);
		free(p);
	}
	free(resp);
	EVP_PKEY_free(key);
}

static void
test_ec(void **state)
{
	EVP_PKEY *keys[] = { K.p256, K.p384, K.p521 };
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		for (j = 0; j < sizeof(prefixes) / sizeof(*prefixes); j++)
			roundtrip(keys[i], prefixes[j], 0);
	}
}

static void
test_eddsa(void **state)
{
	(void)state;
	roundtrip(K.ed25519, NULL, 0);
	roundtrip(K.ed448, NULL, 0);
}

static void
test_eddsa_prefix_refused(void **state)
{
	EVP_PKEY *keys[] = { K.ed25519, K.ed448 };
	struct certauth_reason rs;
	char *b64, *resp;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		b64 = tu_sign_b64(keys[i], NULL, 0, MSG);
		/* A valid signature, but with a digest named. */
		for (j = 1; j < sizeof(prefixes) / sizeof(*prefixes); j++) {
			assert_true(asprintf(&resp, "%s:%s", prefixes[j],
			    b64) > 0);
			assert_int_equal(check(keys[i], resp, MSG, &rs),
			    CERTAUTH_ERR_DIGEST_REFUSED);
			assert_non_null(strstr(rs.text, prefixes[j]));
			free(resp);
		}
		assert_verifies(keys[i], b64, MSG);
		free(b64);
	}
}

static void
test_wrong_key(void **state)
{
	char *resp;

	(void)state;
	resp = respond(K.rsa, NULL, 0, MSG);
	assert_fails(K.rsa_b, resp, MSG, CERTAUTH_ERR_BAD_SIGNATURE);
	assert_fails(K.p256, resp, MSG, CERTAUTH_ERR_BAD_SIGNATURE);
	assert_fails(K.ed25519, resp, MSG, CERTAUTH_ERR_BAD_SIGNATURE);
	free(resp);
	resp = respond(K.p256, NULL, 0, MSG);
	assert_fails(K.p256_b, resp, MSG, CERTAUTH_ERR_BAD_SIGNATURE);
	assert_fails(K.p384, resp, MSG, CERTAUTH_ERR_BAD_SIGNATURE);
	assert_fails(K.rsa, resp, MSG, CERTAUTH_ERR_BAD_SIGNATURE);
	free(resp);
	resp = respond(K.ed25519, NULL, 0, MSG);
	assert_fails(K.ed25519_b, resp, MSG, CERTAUTH_ERR_BAD_SIGNATURE);
	assert_fails(K.ed448, resp, MSG, CERTAUTH_ERR_BAD_SIGNATURE);
	assert_fails(K.p256, resp, MSG, CERTAUTH_ERR_BAD_SIGNATURE);
	free(resp);
}

static void
test_changed_message(void **state)
{
	EVP_PKEY *keys[] = {
		K.rsa, K.rsa_pss, K.p256, K.p384, K.p521, K.ed25519, K.ed448,
	};
	char other[] = MSG;
	char *resp;
	size_t i;

	(void)state;
	other[sizeof(other) - 2] ^= 1;		/* last nonce character */
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		resp = respond(keys[i], NULL, keys[i] == K.rsa_pss, MSG);
		assert_verifies(keys[i], resp, MSG);
		assert_fails(keys[i], resp, other, CERTAUTH_ERR_BAD_SIGNATURE);
		assert_fails(keys[i], resp, "", CERTAUTH_ERR_BAD_SIGNATURE);
		assert_fails(keys[i], resp, MSG "\n",
		    CERTAUTH_ERR_BAD_SIGNATURE);
		free(resp);
	}
}

/* The digest the response names is the one used: no guessing. */
static void
test_digest_mismatch(void **state)
{
	EVP_PKEY *keys[] = { K.rsa, K.p256, K.p384 };
	char *b64, *resp;
	size_t i;
	int pss;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		for (pss = 0; pss <= (keys[i] == K.rsa); pss++) {
			/* Signed with SHA-384, sent without the prefix. */
			b64 = tu_sign_b64(keys[i], "sha384", pss, MSG);
			assert_fails(keys[i], b64, MSG,
			    CERTAUTH_ERR_BAD_SIGNATURE);
			assert_true(asprintf(&resp, "sha512:%s", b64) > 0);
			assert_fails(keys[i], resp, MSG,
			    CERTAUTH_ERR_BAD_SIGNATURE);
			free(resp);
			free(b64);
			/* Signed with SHA-256, sent as SHA-512. */
			b64 = tu_sign_b64(keys[i], NULL, pss, MSG);
			assert_true(asprintf(&resp, "sha512:%s", b64) > 0);
			assert_fails(keys[i], resp, MSG,
			    CERTAUTH_ERR_BAD_SIGNATURE);
			free(resp);
			free(b64);
		}
	}
}

/* Valid signatures by keys the spec refuses are still refused. */
static void
test_refused_keys_verify(void **state)
{
	EVP_PKEY *keys[] = { K.rsa1024, K.dsa, K.k256, K.p224 };
	struct certauth_reason rs;
	char *resp;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		resp = respond(keys[i], NULL, 0, MSG);
		assert_int_equal(check(keys[i], resp, MSG, &rs),
		    CERTAUTH_ERR_KEY_REFUSED);
		free(resp);
	}
	resp = respond(K.rsa1024, NULL, 0, MSG);
	assert_int_equal(check(K.rsa1024, resp, MSG, &rs),
	    CERTAUTH_ERR_KEY_REFUSED);
	assert_string_equal(rs.text, "RSA key of 1024 bits is below 2048");
	free(resp);
	resp = respond(K.dsa, NULL, 0, MSG);
	assert_int_equal(check(K.dsa, resp, MSG, &rs),
	    CERTAUTH_ERR_KEY_REFUSED);
	assert_string_equal(rs.text, "DSA keys are not allowed");
	free(resp);
}

/* Padded standard base64 to bytes, independently of response.c. */
static size_t
decode(const char *b64, unsigned char *out)
{
	size_t len = strlen(b64), pad = 0;
	int n;

	while (pad < len && b64[len - 1 - pad] == '=')
		pad++;
	n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
	assert_true(n > 0 && (size_t)n > pad);
	return (size_t)n - pad;
}

static int
verify_raw(EVP_PKEY *key, int digest, const unsigned char *sig,
    size_t siglen)
{
	struct certauth_reason rs;
	int r;

	memset(&rs, 0, sizeof(rs));
	r = certauth_verify_signature(key, digest, (const unsigned char *)MSG,
	    strlen(MSG), sig, siglen, &rs);
	assert_int_equal(ERR_peek_error(), 0);
	if (r != 0)
		assert_true(rs.text[0] != '\0');
	return r;
}

/* Truncated, extended and garbage signatures fail, never crash. */
static void
test_truncated_garbage(void **state)
{
	EVP_PKEY *keys[] = {
		K.rsa, K.rsa_pss, K.p256, K.p384, K.p521, K.ed25519, K.ed448,
	};
	unsigned char sig[2048], buf[2048];
	char *b64;
	size_t i, siglen, cut;
	int d;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		b64 = tu_sign_b64(keys[i], NULL, keys[i] == K.rsa_pss, MSG);
		siglen = decode(b64, sig);
		free(b64);
		d = CERTAUTH_DIGEST_DEFAULT;
		assert_int_equal(verify_raw(keys[i], d, sig, siglen), 0);

		/* Every truncation. */
		for (cut = 0; cut < siglen; cut++) {
			assert_int_equal(verify_raw(keys[i], d, sig, cut),
			    CERTAUTH_ERR_BAD_SIGNATURE);
		}
		assert_int_equal(verify_raw(keys[i], d, NULL, 0),
		    CERTAUTH_ERR_BAD_SIGNATURE);
		/* One byte too many. */
		memcpy(buf, sig, siglen);
		buf[siglen] = 0;
		assert_int_equal(verify_raw(keys[i], d, buf, siglen + 1),
		    CERTAUTH_ERR_BAD_SIGNATURE);
		/* Each bit of the first, middle and last byte flipped. */
		for (cut = 0; cut < 24; cut++) {
			size_t at = cut < 8 ? 0 : cut < 16 ? siglen / 2 :
			    siglen - 1;

			memcpy(buf, sig, siglen);
			buf[at] ^= (unsigned char)(1u << (cut % 8));
			assert_int_equal(verify_raw(keys[i], d, buf, siglen),
			    CERTAUTH_ERR_BAD_SIGNATURE);
		}
		/* All zero, all ones, random, and far too long. */
		memset(buf, 0, siglen);
		assert_int_equal(verify_raw(keys[i], d, buf, siglen),
		    CERTAUTH_ERR_BAD_SIGNATURE);
		memset(buf, 0xff, siglen);
		assert_int_equal(verify_raw(keys[i], d, buf, siglen),
		    CERTAUTH_ERR_BAD_SIGNATURE);
		assert_int_equal(RAND_bytes(buf, sizeof(buf)), 1);
		assert_int_equal(verify_raw(keys[i], d, buf, siglen),
		    CERTAUTH_ERR_BAD_SIGNATURE);
		assert_int_equal(verify_raw(keys[i], d, buf, sizeof(buf)),
		    CERTAUTH_ERR_BAD_SIGNATURE);
	}
}

/* Straight through the API: each enum value means its hash. */
static void
test_digest_enum(void **state)
{
	EVP_PKEY *keys[] = { K.rsa, K.p521 };
	unsigned char sig[1024];
	size_t i, j, k, n;
	char *b64;

	(void)state;
	for (k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
		for (i = 0; i < sizeof(digests) / sizeof(*digests); i++) {
			b64 = tu_sign_b64(keys[k], prefixes[i], 0, MSG);
			n = decode(b64, sig);
			free(b64);
			for (j = 0; j < sizeof(digests) / sizeof(*digests);
			    j++) {
				/* DEFAULT and SHA256 are the same hash. */
				int same = (i < 2 && j < 2) || i == j;

				assert_int_equal(verify_raw(keys[k],
				    digests[j], sig, n), same ? 0 :
				    CERTAUTH_ERR_BAD_SIGNATURE);
			}
		}
	}
}

static void
test_bad_digest_value(void **state)
{
	char *b64 = tu_sign_b64(K.p256, NULL, 0, MSG);
	unsigned char sig[256];
	size_t n;

	(void)state;
	n = decode(b64, sig);
	free(b64);
	assert_int_equal(verify_raw(K.p256, CERTAUTH_DIGEST_DEFAULT, sig, n),
	    0);
	assert_int_equal(verify_raw(K.p256, 99, sig, n),
	    CERTAUTH_ERR_DIGEST_REFUSED);
	assert_int_equal(verify_raw(K.p256, -1, sig, n),
	    CERTAUTH_ERR_DIGEST_REFUSED);
	/* A named digest on EdDSA is refused before the signature is
	 * looked at, and a NULL reason is fine on every path. */
	assert_int_equal(verify_raw(K.ed25519, CERTAUTH_DIGEST_SHA256, NULL,
	    0), CERTAUTH_ERR_DIGEST_REFUSED);
	assert_int_equal(certauth_verify_signature(K.p256,
	    CERTAUTH_DIGEST_DEFAULT, (const unsigned char *)MSG, strlen(MSG),
	    sig, n, NULL), 0);
	assert_int_equal(certauth_verify_signature(K.p256,
	    CERTAUTH_DIGEST_SHA384, (const unsigned char *)MSG, strlen(MSG),
	    sig, n, NULL), CERTAUTH_ERR_BAD_SIGNATURE);
	assert_int_equal(certauth_verify_signature(K.dsa,
	    CERTAUTH_DIGEST_DEFAULT, (const unsigned char *)MSG, strlen(MSG),
	    sig, n, NULL), CERTAUTH_ERR_KEY_REFUSED);
}

/* The queue is empty afterwards even when it was not before. */
static void
test_error_queue(void **state)
{
	char *resp = respond(K.rsa, NULL, 0, MSG);
	struct certauth_reason rs;

	(void)state;
	ERR_raise(ERR_LIB_USER, ERR_R_INTERNAL_ERROR);
	assert_int_equal(check(K.rsa, resp, MSG, &rs), 0);
	ERR_raise(ERR_LIB_USER, ERR_R_INTERNAL_ERROR);
	assert_int_equal(certauth_key_check(K.dsa, &rs),
	    CERTAUTH_ERR_KEY_REFUSED);
	assert_int_equal(ERR_peek_error(), 0);
	free(resp);
}

/* A fresh challenge from challenge.c, signed and checked as in a login. */
static void
test_live_challenge(void **state)
{
	EVP_PKEY *keys[] = { K.rsa, K.p384, K.ed25519 };
	char *c = NULL, *resp;
	size_t i;

	(void)state;
	assert_int_equal(certauth_challenge_new("host1", "sshd", "alice",
	    1790000000, &c), 0);
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		resp = respond(keys[i], keys[i] == K.p384 ? "sha384" : NULL,
		    0, c);
		assert_verifies(keys[i], resp, c);
		assert_fails(keys[i], resp, MSG, CERTAUTH_ERR_BAD_SIGNATURE);
		free(resp);
	}
	free(c);
}

/* ---------------------------------------------------------- certutil */

static X509 *
make_cert(const char *cn)
{
	struct tu_cert_opts o;

	memset(&o, 0, sizeof(o));
	o.cn = cn;
	o.not_before_days = -1;
	o.not_after_days = 30;
	return tu_make_cert(K.p256, &o, NULL, NULL);
}

static void
test_fingerprint(void **state)
{
	unsigned char *der = NULL, md[32];
	char fp[CERTAUTH_FP_CHARS + 1], norm[CERTAUTH_FP_CHARS + 1];
	char *colons;
	X509 *cert = make_cert("alice"), *other = make_cert("alice");
	int len;
	size_t i;

	(void)state;
	memset(fp, 'x', sizeof(fp));
	assert_int_equal(certauth_cert_fingerprint(cert, fp), 0);
	assert_int_equal(strlen(fp), CERTAUTH_FP_CHARS);
	assert_int_equal(strspn(fp, "0123456789abcdef"), CERTAUTH_FP_CHARS);

	/* It is SHA-256 over the DER. */
	assert_true((len = i2d_X509(cert, &der)) > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, md, NULL,
	    EVP_sha256(), NULL), 1);
	OPENSSL_free(der);
	assert_non_null(colons = OPENSSL_buf2hexstr(md, sizeof(md)));
	assert_int_equal(strlen(colons), 32 * 3 - 1);
	/* "AB:CD:..." normalises to the fingerprint. */
	assert_int_equal(certauth_fingerprint_normalise(colons, norm), 0);
	assert_string_equal(norm, fp);
	for (i = 2; i < strlen(colons); i += 3)
		assert_int_equal(colons[i], ':');
	OPENSSL_free(colons);

	/* Another certificate, another fingerprint. */
	assert_int_equal(certauth_cert_fingerprint(other, norm), 0);
	assert_string_not_equal(norm, fp);
	assert_int_equal(certauth_cert_fingerprint(NULL, norm),
	    CERTAUTH_ERR_INTERNAL);
	X509_free(cert);
	X509_free(other);
}

static void
test_fingerprint_normalise(void **state)
{
	const char *lower =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	const char *upper =
	    "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";
	char out[CERTAUTH_FP_CHARS + 1], buf[200];

	(void)state;
	assert_int_equal(certauth_fingerprint_normalise(lower, out), 0);
	assert_string_equal(out, lower);
	assert_int_equal(certauth_fingerprint_normalise(upper, out), 0);
	assert_string_equal(out, lower);
	snprintf(buf, sizeof(buf), "SHA256:%s", upper);
	assert_int_equal(certauth_fingerprint_normalise(buf, out), 0);
	assert_string_equal(out, lower);
	snprintf(buf, sizeof(buf), "sha256:%s", lower);
	assert_int_equal(certauth_fingerprint_normalise(buf, out), 0);
	assert_string_equal(out, lower);
	assert_int_equal(certauth_fingerprint_normalise(
	    "SHA256:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef:"
	    "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef", out), 0);
	assert_string_equal(out, lower);

	/* 63 and 65 digits, a non-hex digit, other prefixes, blanks. */
	snprintf(buf, sizeof(buf), "%.63s", lower);
	assert_int_equal(certauth_fingerprint_normalise(buf, out),
	    CERTAUTH_ERR_FORMAT);
	snprintf(buf, sizeof(buf), "%s0", lower);
	assert_int_equal(certauth_fingerprint_normalise(buf, out),
	    CERTAUTH_ERR_FORMAT);
	snprintf(buf, sizeof(buf), "%.63sg", lower);
	assert_int_equal(certauth_fingerprint_normalise(buf, out),
	    CERTAUTH_ERR_FORMAT);
	snprintf(buf, sizeof(buf), "SHA1:%s", lower);
	assert_int_equal(certauth_fingerprint_normalise(buf, out),
	    CERTAUTH_ERR_FORMAT);
	snprintf(buf, sizeof(buf), "%s ", lower);
	assert_int_equal(certauth_fingerprint_normalise(buf, out),
	    CERTAUTH_ERR_FORMAT);
	snprintf(buf, sizeof(buf), "0x%.62s", lower);
	assert_int_equal(certauth_fingerprint_normalise(buf, out),
	    CERTAUTH_ERR_FORMAT);
	assert_int_equal(certauth_fingerprint_normalise("", out),
	    CERTAUTH_ERR_FORMAT);
	assert_int_equal(certauth_fingerprint_normalise("SHA256:", out),
	    CERTAUTH_ERR_FORMAT);
	assert_int_equal(certauth_fingerprint_normalise(NULL, out),
	    CERTAUTH_ERR_FORMAT);
}

static void
test_name_string(void **state)
{
	X509 *cert = make_cert("alice"), *odd;
	char buf[256];
	const char *p;

	(void)state;
	certauth_name_string(X509_get_subject_name(cert), buf, sizeof(buf));
	assert_string_equal(buf, "CN=alice");
	/* Truncated, always terminated. */
	memset(buf, 'x', sizeof(buf));
	certauth_name_string(X509_get_subject_name(cert), buf, 5);
	assert_string_equal(buf, "CN=a");
	certauth_name_string(X509_get_subject_name(cert), buf, 1);
	assert_string_equal(buf, "");
	certauth_name_string(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "?");
	X509_free(cert);

	/* Control characters and UTF-8 in a name are escaped: one line of
	 * printable ASCII in the logs. */
	odd = make_cert("evil\nname, j\xc3\xb6rg\x7f");
	certauth_name_string(X509_get_subject_name(odd), buf, sizeof(buf));
	for (p = buf; *p != '\0'; p++)
		assert_true(*p >= ' ' && *p < 0x7f);
	assert_non_null(strstr(buf, "CN=evil"));
	assert_null(strchr(buf, '\n'));
	X509_free(odd);
}

static void
test_time_string(void **state)
{
	ASN1_TIME *t = ASN1_TIME_new();
	char buf[64];

	(void)state;
	assert_non_null(t);
	assert_non_null(ASN1_TIME_set(t, 0));
	certauth_time_string(t, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01 00:00:00 UTC");
	assert_non_null(ASN1_TIME_set(t, 1790000000));
	certauth_time_string(t, buf, sizeof(buf));
	assert_string_equal(buf, "2026-09-21 14:13:20 UTC");
	/* GeneralizedTime, past 2049. */
	assert_int_equal(ASN1_TIME_set_string(t, "20510102030405Z"), 1);
	certauth_time_string(t, buf, sizeof(buf));
	assert_string_equal(buf, "2051-01-02 03:04:05 UTC");
	/* Too small a buffer and no time at all give "?". */
	certauth_time_string(t, buf, 10);
	assert_string_equal(buf, "?");
	certauth_time_string(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "?");
	/* A malformed time. */
	assert_int_equal(ASN1_STRING_set(t, "2051xx", 6), 1);
	certauth_time_string(t, buf, sizeof(buf));
	assert_string_equal(buf, "?");
	ASN1_TIME_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_check_allowed),
		cmocka_unit_test(test_key_check_refused),
		cmocka_unit_test(test_rsa_pkcs1),
		cmocka_unit_test(test_rsa_pss),
		cmocka_unit_test(test_rsa_pss_salt_lengths),
		cmocka_unit_test(test_rsa_pss_key),
		cmocka_unit_test(test_rsa_pss_key_restricted),
		cmocka_unit_test(test_ec),
		cmocka_unit_test(test_eddsa),
		cmocka_unit_test(test_eddsa_prefix_refused),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_changed_message),
		cmocka_unit_test(test_digest_mismatch),
		cmocka_unit_test(test_refused_keys_verify),
		cmocka_unit_test(test_truncated_garbage),
		cmocka_unit_test(test_digest_enum),
		cmocka_unit_test(test_bad_digest_value),
		cmocka_unit_test(test_error_queue),
		cmocka_unit_test(test_live_challenge),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_fingerprint_normalise),
		cmocka_unit_test(test_name_string),
		cmocka_unit_test(test_time_string),
	};

	return cmocka_run_group_tests_name("verify", tests, setup, teardown);
}
