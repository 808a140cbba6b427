/*
 * test_anchors.c - the trust-anchor index of a PEM bundle (anchors.h):
 * subjects found without OpenSSL's certificate parser agree with it, other
 * blocks and text are skipped, TRUSTED CERTIFICATE blocks have OpenSSL's
 * auxiliary data left out and their trust settings noted, and hostile
 * blocks (bad base64, an encrypted block, DER that is no certificate, a
 * truncated one) fail the whole index with the number of the block.
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

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "anchors.h"
#include "certauth.h"
#include "testutil.h"

static X509 *certs[3];
static EVP_PKEY *keys[3];

static int
group_setup(void **unused)
{
	static const char *names[3] = { "Anchor One", "Anchor Two",
	    "Anchor Three" };
	int i;

	(void)unused;
	for (i = 0; i < 3; i++) {
		struct tu_cert_opts o = { names[i], -1, 3650, 1, NULL, NULL,
		    0 };

		keys[i] = tu_keygen(i == 1 ? "RSA:2048" : "P-256");
		certs[i] = tu_make_cert(keys[i], &o, NULL, NULL);
	}
	return 0;
}

static int
group_teardown(void **unused)
{
	int i;

	(void)unused;
	for (i = 0; i < 3; i++) {
		X509_free(certs[i]);
		EVP_PKEY_free(keys[i]);
	}
	return 0;
}

/* A growing text, for bundles. */
struct text {
	BIO *bio;
};

static void
text_init(struct text *t)
{
	assert_non_null(t->bio = BIO_new(BIO_s_mem()));
}

static void
add_str(struct text *t, const char *s)
{
	assert_int_equal(BIO_puts(t->bio, s), (int)strlen(s));
}

static void
add_cert(struct text *t, X509 *x)
{
	assert_int_equal(PEM_write_bio_X509(t->bio, x), 1);
}

/* A PEM block of the given label around raw bytes. */
static void
add_block(struct text *t, const char *label, const char *header,
    const unsigned char *der, long len)
{
	assert_true(PEM_write_bio(t->bio, label, header, der, len) > 0);
}

static int
build(struct text *t, struct certauth_anchor_index **idx, int *bad)
{
	char *data = NULL;
	long n = BIO_get_mem_data(t->bio, &data);
	int r = certauth_anchor_index_build(data, (size_t)n, idx, bad);

	/* Success or refusal, no error is left for the next user. */
	assert_int_equal(ERR_peek_error(), 0);
	BIO_free(t->bio);
	return r;
}

static void
test_bundle_with_other_blocks(void **unused)
{
	struct certauth_anchor_index *idx = NULL;
	struct text t;
	const unsigned char *der;
	size_t len;
	int i, bad = -1;

	(void)unused;
	text_init(&t);
	add_str(&t, "# the site's anchors\n");
	add_cert(&t, certs[0]);
	assert_int_equal(PEM_write_bio_PrivateKey(t.bio, keys[0], NULL, NULL,
	    0, NULL, NULL), 1);
	add_cert(&t, certs[1]);
	add_str(&t, "text between blocks\n");
	add_cert(&t, certs[2]);
	assert_int_equal(build(&t, &idx, &bad), 0);
	assert_int_equal(certauth_anchor_count(idx), 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(X509_NAME_cmp(certauth_anchor_subject(idx, i),
		    X509_get_subject_name(certs[i])), 0);
		der = certauth_anchor_der(idx, i, &len);
		assert_int_equal((long)len, (long)i2d_X509(certs[i], NULL));
		{
			const unsigned char *q = der;
			X509 *x = d2i_X509(NULL, &q, (long)len);

			assert_non_null(x);
			assert_int_equal(X509_cmp(x, certs[i]), 0);
			X509_free(x);
		}
	}
	/* References: the index outlives one of its holders. */
	assert_int_equal(certauth_anchor_index_up_ref(idx), 0);
	certauth_anchor_index_free(idx);
	assert_int_equal(certauth_anchor_count(idx), 3);
	certauth_anchor_index_free(idx);
	certauth_anchor_index_free(NULL);
}

static void
test_old_and_trusted_labels(void **unused)
{
	struct certauth_anchor_index *idx = NULL;
	unsigned char *der = NULL;
	struct text t;
	int len, bad = -1;

	(void)unused;
	assert_true((len = i2d_X509(certs[1], &der)) > 0);
	text_init(&t);
	add_block(&t, "X509 CERTIFICATE", "", der, len);
	add_block(&t, "TRUSTED CERTIFICATE", "", der, len);
	assert_int_equal(build(&t, &idx, &bad), 0);
	assert_int_equal(certauth_anchor_count(idx), 2);
	certauth_anchor_index_free(idx);
	OPENSSL_free(der);
}

/* OpenSSL's auxiliary data in a TRUSTED CERTIFICATE block, as openssl
 * x509 -trustout writes it with the options named. */
enum aux {
	AUX_NONE,	/* -trustout alone: no auxiliary data */
	AUX_REJECT,	/* -addreject clientAuth */
	AUX_TRUST,	/* -addtrust clientAuth */
	AUX_ALIAS,	/* -setalias anchor */
	AUX_EMPTY,	/* -addtrust clientAuth, then -clrtrust: empty data */
};

static void
add_trusted(struct text *t, X509 *x, enum aux how)
{
	X509 *copy = X509_dup(x);

	assert_non_null(copy);
	switch (how) {
	case AUX_NONE:
		break;
	case AUX_REJECT:
		assert_true(X509_add1_reject_object(copy,
		    OBJ_nid2obj(NID_client_auth)));
		break;
	case AUX_TRUST:
		assert_true(X509_add1_trust_object(copy,
		    OBJ_nid2obj(NID_client_auth)));
		break;
	case AUX_ALIAS:
		assert_true(X509_alias_set1(copy,
		    (const unsigned char *)"anchor", -1));
		break;
	case AUX_EMPTY:
		assert_true(X509_add1_trust_object(copy,
		    OBJ_nid2obj(NID_client_auth)));
		X509_trust_clear(copy);
		break;
	}
	assert_int_equal(PEM_write_bio_X509_AUX(t->bio, copy), 1);
	X509_free(copy);
}

/* The DER kept for anchor i is exactly x's, whatever followed it. */
static void
assert_der_is(struct certauth_anchor_index *idx, int i, X509 *x)
{
	const unsigned char *der, *q;
	size_t len;
	X509 *parsed;

	der = certauth_anchor_der(idx, i, &len);
	assert_int_equal((long)len, (long)i2d_X509(x, NULL));
	q = der;
	assert_non_null(parsed = d2i_X509(NULL, &q, (long)len));
	assert_ptr_equal(q, der + len);
	assert_int_equal(X509_cmp(parsed, x), 0);
	X509_free(parsed);
}

/*
 * Trust settings (a trust or a reject list) are noted, with the block;
 * the auxiliary data is left out of the DER whether or not it holds
 * them, so an alias, or an emptied list, leaves a plain anchor.
 */
static void
test_trusted_certificate_aux(void **unused)
{
	static const struct {
		int cert;
		enum aux how;
		int settings;
	} blocks[] = {
		{ 1, AUX_REJECT, 1 },
		{ 2, AUX_TRUST, 1 },
		{ 1, AUX_NONE, 0 },
		{ 2, AUX_ALIAS, 0 },
		{ 0, AUX_EMPTY, 0 },
	};
	struct certauth_anchor_index *idx = NULL;
	struct text t;
	int i, n = (int)(sizeof(blocks) / sizeof(blocks[0])), bad = -1;

	(void)unused;
	text_init(&t);
	add_cert(&t, certs[0]);
	for (i = 0; i < n; i++)
		add_trusted(&t, certs[blocks[i].cert], blocks[i].how);
	assert_int_equal(build(&t, &idx, &bad), 0);
	assert_int_equal(certauth_anchor_count(idx), n + 1);
	assert_int_equal(certauth_anchor_block(idx, 0), 1);
	assert_int_equal(certauth_anchor_trust_settings(idx, 0), 0);
	assert_der_is(idx, 0, certs[0]);
	for (i = 0; i < n; i++) {
		assert_int_equal(certauth_anchor_block(idx, i + 1), i + 2);
		assert_int_equal(certauth_anchor_trust_settings(idx, i + 1),
		    blocks[i].settings);
		assert_int_equal(X509_NAME_cmp(
		    certauth_anchor_subject(idx, i + 1),
		    X509_get_subject_name(certs[blocks[i].cert])), 0);
		assert_der_is(idx, i + 1, certs[blocks[i].cert]);
	}
	certauth_anchor_index_free(idx);
}

/*
 * Bytes after the certificate that are not OpenSSL's auxiliary data are
 * kept, in a TRUSTED CERTIFICATE as in a CERTIFICATE block, for the
 * certificate parse to refuse; an auxiliary SEQUENCE that opens with a
 * trust list but does not parse is no trust settings either.
 */
static void
test_trusted_certificate_trailing_bytes(void **unused)
{
	static const unsigned char junk[] = { 0x05, 0x00 };
	static const unsigned char bad_aux[] = { 0x30, 0x04, 0x30, 0x02,
	    0x05, 0x00 };
	const unsigned char *tails[2] = { junk, bad_aux };
	size_t tail_len[2] = { sizeof(junk), sizeof(bad_aux) };
	struct certauth_anchor_index *idx = NULL;
	unsigned char *der = NULL, *buf;
	struct text t;
	size_t len;
	int k, n, bad = -1;

	(void)unused;
	assert_true((n = i2d_X509(certs[0], &der)) > 0);
	for (k = 0; k < 2; k++) {
		assert_non_null(buf = malloc((size_t)n + tail_len[k]));
		memcpy(buf, der, (size_t)n);
		memcpy(buf + n, tails[k], tail_len[k]);
		text_init(&t);
		add_block(&t, "TRUSTED CERTIFICATE", "", buf,
		    n + (long)tail_len[k]);
		add_block(&t, "CERTIFICATE", "", buf, n + (long)tail_len[k]);
		assert_int_equal(build(&t, &idx, &bad), 0);
		assert_int_equal(certauth_anchor_count(idx), 2);
		(void)certauth_anchor_der(idx, 0, &len);
		assert_int_equal((long)len, n + (long)tail_len[k]);
		assert_int_equal(certauth_anchor_trust_settings(idx, 0), 0);
		(void)certauth_anchor_der(idx, 1, &len);
		assert_int_equal((long)len, n + (long)tail_len[k]);
		certauth_anchor_index_free(idx);
		free(buf);
	}
	OPENSSL_free(der);
}

/* Each hostile second block fails the index, naming block 2. */
static void
assert_second_block_refused(const char *label, const char *header,
    const unsigned char *der, long len)
{
	struct certauth_anchor_index *idx = NULL;
	struct text t;
	int bad = -1;

	text_init(&t);
	add_cert(&t, certs[0]);
	add_block(&t, label, header, der, len);
	assert_int_equal(build(&t, &idx, &bad), CERTAUTH_ERR_FORMAT);
	assert_null(idx);
	assert_int_equal(bad, 2);
}

static void
test_hostile_blocks(void **unused)
{
	static const unsigned char not_a_cert[] = { 0x30, 0x03, 0x02, 0x01,
	    0x05 };
	static const unsigned char indefinite[] = { 0x30, 0x80, 0x30, 0x80,
	    0x00, 0x00, 0x00, 0x00 };
	unsigned char *der = NULL;
	int len;
	struct certauth_anchor_index *idx = NULL;
	struct text t;
	int bad = -1;

	(void)unused;
	assert_true((len = i2d_X509(certs[2], &der)) > 0);
	/* A SEQUENCE holding an INTEGER is no certificate. */
	assert_second_block_refused("CERTIFICATE", "", not_a_cert,
	    sizeof(not_a_cert));
	/* BER indefinite lengths are not DER. */
	assert_second_block_refused("CERTIFICATE", "", indefinite,
	    sizeof(indefinite));
	/* Cut short before the subject. */
	assert_second_block_refused("CERTIFICATE", "", der, 60);
	/* An encrypted certificate. */
	assert_second_block_refused("CERTIFICATE",
	    "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,"
	    "00112233445566778899AABBCCDDEEFF\n", der, len);
	/* Bad base64. */
	text_init(&t);
	add_cert(&t, certs[0]);
	add_str(&t, "-----BEGIN CERTIFICATE-----\n!!!!\n"
	    "-----END CERTIFICATE-----\n");
	assert_int_equal(build(&t, &idx, &bad), CERTAUTH_ERR_FORMAT);
	assert_int_equal(bad, 2);
	/* A block that never ends. */
	text_init(&t);
	add_str(&t, "-----BEGIN CERTIFICATE-----\nMIIB\n");
	assert_int_equal(build(&t, &idx, &bad), CERTAUTH_ERR_FORMAT);
	assert_int_equal(bad, 1);
	OPENSSL_free(der);
}

static void
test_no_certificate(void **unused)
{
	struct certauth_anchor_index *idx = NULL;
	struct text t;
	int bad = -1;

	(void)unused;
	text_init(&t);
	add_str(&t, "nothing here\n");
	assert_int_equal(build(&t, &idx, &bad), CERTAUTH_ERR_NOT_FOUND);
	text_init(&t);
	assert_int_equal(PEM_write_bio_PrivateKey(t.bio, keys[0], NULL, NULL,
	    0, NULL, NULL), 1);
	assert_int_equal(build(&t, &idx, &bad), CERTAUTH_ERR_NOT_FOUND);
	assert_null(idx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_with_other_blocks),
		cmocka_unit_test(test_old_and_trusted_labels),
		cmocka_unit_test(test_trusted_certificate_aux),
		cmocka_unit_test(test_trusted_certificate_trailing_bytes),
		cmocka_unit_test(test_hostile_blocks),
		cmocka_unit_test(test_no_certificate),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
