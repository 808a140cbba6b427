/*
 * test_ocsp.c - OCSP answer verification (signer authorisation, CertID,
 * nonce, freshness, hostile bytes), third-party vectors (pyca, OpenSSL's
 * Comodo set), the on-disk cache, and the cache side of the chain check.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "fetch.h"
#include "log.h"
#include "ocsp.h"
#include "options.h"
#include "pki.h"
#include "testutil.h"

#define PYCA_DIR "/usr/lib/python3/dist-packages/cryptography_vectors/x509"
#define CONFORMANCE_TIME	((time_t)1355875200)	/* 2012-12-19 */
#define REVOKED_AT		((time_t)1700000000)	/* 2023-11-14 */
#define NO_NEXT			((time_t)0)

/* Keys are the slow part; make them once.  The PKI: "Test OCSP CA", the
 * anchor; "Test OCSP Intermediate" under it; alice's certificate from the
 * CA. */
struct keys {
	struct tu_pki pki;
	EVP_PKEY *resp_key, *plain_key, *rogue_key;
	X509 *resp;		/* delegated responder: ca + OCSPSigning */
	X509 *plain;		/* issued by ca, no OCSPSigning */
	X509 *rogue;		/* self-signed, unrelated */
	X509 *impostor;		/* self-signed with the CA's name */
	X509 *leaf2;		/* bob, issued by inter */
	X509_STORE *store;	/* ca */
	STACK_OF(X509) *chain;	/* leaf, ca: what the policy passes */
	STACK_OF(X509) *chain3;	/* leaf2, inter, ca */
	OCSP_CERTID *id;	/* leaf by ca, SHA-1 */
	OCSP_CERTID *other_id;	/* plain by ca: another serial */
};

static struct keys *K;

static int
group_setup(void **unused)
{
	const struct tu_pki_opts pki = { .ca_cn = "Test OCSP CA",
	    .inter_cn = "Test OCSP Intermediate", .user_cn = "alice" };
	const struct tu_cert_opts ca = tu_ca_opts(pki.ca_cn);
	const struct tu_cert_opts leaf2 = tu_user_opts("bob");
	const struct tu_cert_opts resp = { "Test OCSP Responder", -1, 365, 0,
	    "critical,digitalSignature", "OCSPSigning", 0 };
	const struct tu_cert_opts plain = tu_user_opts("Not a responder");
	const struct tu_cert_opts rogue = { "Rogue Responder", -1, 365, 1,
	    NULL, "OCSPSigning", 0 };

	(void)unused;
	if ((K = calloc(1, sizeof(*K))) == NULL)
		return -1;
	tu_pki_make(&K->pki, &pki);
	K->resp_key = tu_keygen("P-256");
	K->plain_key = tu_keygen("P-256");
	K->rogue_key = tu_keygen("P-256");
	K->resp = tu_make_cert(K->resp_key, &resp, K->pki.ca, K->pki.ca_key);
	K->plain = tu_make_cert(K->plain_key, &plain, K->pki.ca,
	    K->pki.ca_key);
	K->rogue = tu_make_cert(K->rogue_key, &rogue, NULL, NULL);
	K->impostor = tu_make_cert(K->rogue_key, &ca, NULL, NULL);
	K->leaf2 = tu_make_cert(K->pki.user_key, &leaf2, K->pki.inter,
	    K->pki.inter_key);
	if ((K->store = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(K->store, K->pki.ca) ||
	    (K->chain = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(K->chain, K->pki.user) ||
	    !sk_X509_push(K->chain, K->pki.ca) ||
	    (K->chain3 = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(K->chain3, K->leaf2) ||
	    !sk_X509_push(K->chain3, K->pki.inter) ||
	    !sk_X509_push(K->chain3, K->pki.ca) ||
	    (K->id = OCSP_cert_to_id(EVP_sha1(), K->pki.user,
	    K->pki.ca)) == NULL ||
	    (K->other_id = OCSP_cert_to_id(EVP_sha1(), K->plain,
	    K->pki.ca)) == NULL)
		return -1;
	return 0;
}

static int
group_teardown(void **unused)
{
	(void)unused;
	OCSP_CERTID_free(K->id);
	OCSP_CERTID_free(K->other_id);
	sk_X509_free(K->chain);
	sk_X509_free(K->chain3);
	X509_STORE_free(K->store);
	tu_pki_free(&K->pki);
	X509_free(K->resp);
	X509_free(K->plain);
	X509_free(K->rogue);
	X509_free(K->impostor);
	X509_free(K->leaf2);
	EVP_PKEY_free(K->resp_key);
	EVP_PKEY_free(K->plain_key);
	EVP_PKEY_free(K->rogue_key);
	free(K);
	return 0;
}

/* ------------------------------------------------ building answers */

/* How to build one OCSPResponse. */
struct rb {
	int resp_status;		/* OCSP_RESPONSE_STATUS_* */
	int cert_status;		/* V_OCSP_CERTSTATUS_* */
	time_t this_t;
	time_t next_t;			/* NO_NEXT: no nextUpdate */
	X509 *signer;
	EVP_PKEY *key;
	unsigned long sign_flags;	/* OCSP_NOCERTS, OCSP_RESPID_KEY */
	OCSP_CERTID *id;
	OCSP_REQUEST *echo;		/* copy this request's nonce */
	int own_nonce;			/* add a fresh, unrelated nonce */
};

/* A good answer for the leaf, signed by the CA, valid for a day. */
static struct rb
rb_default(void)
{
	struct rb b;
	time_t now = time(NULL);

	memset(&b, 0, sizeof(b));
	b.resp_status = OCSP_RESPONSE_STATUS_SUCCESSFUL;
	b.cert_status = V_OCSP_CERTSTATUS_GOOD;
	b.this_t = now - 60;
	b.next_t = now + 86400;
	b.signer = K->pki.ca;
	b.key = K->pki.ca_key;
	b.id = K->id;
	return b;
}

/* DER of the answer b describes; caller frees with OPENSSL_free. */
static unsigned char *
make_answer(const struct rb *b, size_t *lenp)
{
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL, *rev = NULL;
	unsigned char *der = NULL;
	int len;

	if (b->resp_status == OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		assert_non_null(bs = OCSP_BASICRESP_new());
		assert_non_null(thisupd = ASN1_GENERALIZEDTIME_set(NULL,
		    b->this_t));
		if (b->next_t != NO_NEXT)
			assert_non_null(nextupd = ASN1_GENERALIZEDTIME_set(NULL,
			    b->next_t));
		if (b->cert_status == V_OCSP_CERTSTATUS_REVOKED)
			assert_non_null(rev = ASN1_GENERALIZEDTIME_set(NULL,
			    REVOKED_AT));
		assert_non_null(OCSP_basic_add1_status(bs, b->id,
		    b->cert_status, rev != NULL ?
		    OCSP_REVOKED_STATUS_KEYCOMPROMISE : 0, rev, thisupd,
		    nextupd));
		if (b->echo != NULL)
			assert_int_equal(OCSP_copy_nonce(bs, b->echo), 1);
		if (b->own_nonce)
			assert_int_equal(OCSP_basic_add1_nonce(bs, NULL, -1),
			    1);
		assert_int_equal(OCSP_basic_sign(bs, b->signer, b->key,
		    EVP_sha256(), NULL, b->sign_flags), 1);
	}
	assert_non_null(resp = OCSP_response_create(b->resp_status, bs));
	assert_true((len = i2d_OCSP_RESPONSE(resp, &der)) > 0);
	*lenp = (size_t)len;
	ASN1_GENERALIZEDTIME_free(thisupd);
	ASN1_GENERALIZEDTIME_free(nextupd);
	ASN1_GENERALIZEDTIME_free(rev);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return der;
}

static void
expect_init(struct certauth_ocsp_expect *e)
{
	memset(e, 0, sizeof(*e));
	e->id = K->id;
	e->issuer = K->pki.ca;
	e->store = K->store;
	e->untrusted = K->chain;
	e->skew = 300;
	e->max_age = 3600;
}

/* Build b, verify it against e; returns the code, status and reason. */
static int
verify_built(const struct rb *b, const struct certauth_ocsp_expect *e,
    int *status, time_t *until, struct certauth_reason *why)
{
	unsigned char *der;
	size_t len = 0;
	int r;

	der = make_answer(b, &len);
	why->text[0] = '\0';
	*status = -1;
	r = certauth_ocsp_verify_der(der, len, e, status, until, why);
	OPENSSL_free(der);
	/* Every path leaves the queue empty for the next OpenSSL user. */
	assert_int_equal(ERR_peek_error(), 0);
	return r;
}

/* Verify b against the default expectation, wanting code want. */
static void
expect_code(const struct rb *b, int want, const char *reason_part)
{
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	time_t until = 0;
	int status;

	expect_init(&e);
	assert_int_equal(verify_built(b, &e, &status, &until, &why), want);
	if (reason_part != NULL && strstr(why.text, reason_part) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", why.text, reason_part);
}

/* ------------------------------------------------ verify_der */

static void
test_good_by_ca(void **unused)
{
	struct rb b = rb_default();
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	time_t until = 0;
	int status;

	(void)unused;
	expect_init(&e);
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	assert_int_equal(status, CERTAUTH_OCSP_GOOD);
	assert_int_equal((long long)until, (long long)b.next_t);
	/* SHA-256 CertIDs work the same way. */
	assert_non_null(e.id = OCSP_cert_to_id(EVP_sha256(), K->pki.user,
	    K->pki.ca));
	b.id = e.id;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	assert_int_equal(status, CERTAUTH_OCSP_GOOD);
	/* ...and are a different CertID from the SHA-1 one. */
	b.id = K->id;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_FORMAT);
	OCSP_CERTID_free(e.id);
}

static void
test_good_by_delegate(void **unused)
{
	struct rb b = rb_default();
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	time_t until;
	int status;

	(void)unused;
	expect_init(&e);
	b.signer = K->resp;
	b.key = K->resp_key;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	assert_int_equal(status, CERTAUTH_OCSP_GOOD);
	/* responderID by key hash */
	b.sign_flags = OCSP_RESPID_KEY;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	assert_int_equal(status, CERTAUTH_OCSP_GOOD);
	/* A delegate that does not ship its certificate cannot be found. */
	b.sign_flags = OCSP_NOCERTS;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_BAD_SIGNATURE);
}

static void
test_revoked_and_unknown(void **unused)
{
	struct rb b = rb_default();
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	time_t until;
	int status;

	(void)unused;
	expect_init(&e);
	b.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	assert_int_equal(status, CERTAUTH_OCSP_REVOKED);
	assert_int_equal((long long)until, (long long)b.next_t);
	b.cert_status = V_OCSP_CERTSTATUS_UNKNOWN;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	assert_int_equal(status, CERTAUTH_OCSP_UNKNOWN);
}

static void
test_signer_without_ocspsigning(void **unused)
{
	struct rb b = rb_default();

	(void)unused;
	/* Chains to the CA, but the CA never made it a responder. */
	b.signer = K->plain;
	b.key = K->plain_key;
	expect_code(&b, CERTAUTH_ERR_BAD_SIGNATURE,
	    "OCSP answer signature or responder does not verify: ");
	b.sign_flags = OCSP_RESPID_KEY;
	expect_code(&b, CERTAUTH_ERR_BAD_SIGNATURE, NULL);
	/* The user's own certificate is in the untrusted chain and the
	 * user has its key: it must not be able to vouch for itself. */
	b.signer = K->pki.user;
	b.key = K->pki.user_key;
	b.sign_flags = 0;
	expect_code(&b, CERTAUTH_ERR_BAD_SIGNATURE, NULL);
}

static void
test_signer_unrelated(void **unused)
{
	struct rb b = rb_default();

	(void)unused;
	b.signer = K->rogue;
	b.key = K->rogue_key;
	expect_code(&b, CERTAUTH_ERR_BAD_SIGNATURE, NULL);
	b.sign_flags = OCSP_RESPID_KEY;
	expect_code(&b, CERTAUTH_ERR_BAD_SIGNATURE, NULL);
	/* Same name as the CA, other key. */
	b.signer = K->impostor;
	b.sign_flags = 0;
	expect_code(&b, CERTAUTH_ERR_BAD_SIGNATURE, NULL);
	/* A delegate of the intermediate is no delegate of the CA. */
	b.signer = K->pki.inter;
	b.key = K->pki.inter_key;
	expect_code(&b, CERTAUTH_ERR_BAD_SIGNATURE, NULL);
}

static void
test_named_responder(void **unused)
{
	struct rb b = rb_default();
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	time_t until;
	int status;

	(void)unused;
	expect_init(&e);
	b.signer = K->plain;
	b.key = K->plain_key;
	/* Not delegated, but the administrator named it. */
	e.responder = K->plain;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	assert_int_equal(status, CERTAUTH_OCSP_GOOD);
	b.sign_flags = OCSP_RESPID_KEY | OCSP_NOCERTS;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	/* Naming a responder does not make the rest of the chain trusted:
	 * the leaf still cannot sign for itself. */
	b.signer = K->pki.user;
	b.key = K->pki.user_key;
	b.sign_flags = 0;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_BAD_SIGNATURE);
	/* ...nor any other cert that chains to the CA. */
	e.responder = K->resp;
	b.signer = K->plain;
	b.key = K->plain_key;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_BAD_SIGNATURE);
	/* The CA and its real delegates still work alongside it. */
	b.signer = K->pki.ca;
	b.key = K->pki.ca_key;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	/* The named responder's name with another key is refused. */
	b.signer = K->impostor;
	b.key = K->rogue_key;
	e.responder = K->pki.ca;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_BAD_SIGNATURE);
}

static void
test_nonce(void **unused)
{
	struct rb b = rb_default();
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	OCSP_REQUEST *req, *other;
	time_t until;
	int status;

	(void)unused;
	assert_non_null(req = OCSP_REQUEST_new());
	assert_non_null(other = OCSP_REQUEST_new());
	assert_int_equal(OCSP_request_add1_nonce(req, NULL, -1), 1);
	assert_int_equal(OCSP_request_add1_nonce(other, NULL, -1), 1);
	expect_init(&e);
	e.nonce_req = req;
	b.echo = req;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	assert_int_equal(status, CERTAUTH_OCSP_GOOD);
	b.echo = NULL;		/* missing */
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_string_equal(why.text,
	    "OCSP answer does not echo the request nonce");
	b.echo = other;		/* another request's */
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	b.echo = NULL;
	b.own_nonce = 1;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	/* No nonce sent (or a cache read): any nonce is ignored. */
	e.nonce_req = NULL;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	b.own_nonce = 0;
	b.echo = other;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	OCSP_REQUEST_free(req);
	OCSP_REQUEST_free(other);
}

static void
test_freshness(void **unused)
{
	struct rb b = rb_default();
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	time_t now = time(NULL), until = 0;
	int status;

	(void)unused;
	expect_init(&e);
	b.this_t = now - 2 * 86400;
	b.next_t = now - 86400;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_EXPIRED);
	assert_non_null(strstr(why.text, "OCSP answer is stale (nextUpdate "));
	/* nextUpdate past, but within skew */
	b.next_t = now - 100;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	/* thisUpdate in the future beyond skew, then within it */
	b.this_t = now + 600;
	b.next_t = now + 86400;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_EXPIRED);
	assert_non_null(strstr(why.text, "OCSP thisUpdate is in the future"));
	b.this_t = now + 100;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	e.skew = 0;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_EXPIRED);
	e.skew = 300;
	/* nextUpdate before thisUpdate */
	b.this_t = now - 60;
	b.next_t = now - 120;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_EXPIRED);
	/* no nextUpdate: max_age */
	b.next_t = NO_NEXT;
	b.this_t = now - 7200;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_EXPIRED);
	assert_non_null(strstr(why.text, "no nextUpdate"));
	b.this_t = now - 60;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why), 0);
	assert_int_equal(status, CERTAUTH_OCSP_GOOD);
	assert_int_equal((long long)until, (long long)(b.this_t + 3600));
	e.max_age = 30;
	assert_int_equal(verify_built(&b, &e, &status, &until, &why),
	    CERTAUTH_ERR_EXPIRED);
}

static void
test_other_certid(void **unused)
{
	struct rb b = rb_default();

	(void)unused;
	b.id = K->other_id;
	expect_code(&b, CERTAUTH_ERR_FORMAT,
	    "OCSP answer has no status for this certificate");
}

static void
test_not_der(void **unused)
{
	static const unsigned char garbage[] = "HTTP/1.0 200 OK\r\n\r\n<html>";
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	struct rb b = rb_default();
	unsigned char *der, *longer;
	size_t len = 0, cut;
	time_t until;
	int status;

	(void)unused;
	expect_init(&e);
	assert_int_equal(certauth_ocsp_verify_der(garbage, sizeof(garbage),
	    &e, &status, &until, &why), CERTAUTH_ERR_FORMAT);
	assert_string_equal(why.text, "OCSP answer is not DER");
	assert_int_equal(certauth_ocsp_verify_der(garbage, 0, &e, &status,
	    &until, &why), CERTAUTH_ERR_FORMAT);
	/* Without certificates the response signature is the last field. */
	b.sign_flags = OCSP_NOCERTS;
	der = make_answer(&b, &len);
	/* Every truncation, not just a few. */
	for (cut = 0; cut < len; cut++) {
		assert_int_equal(certauth_ocsp_verify_der(der, cut, &e,
		    &status, &until, &why), CERTAUTH_ERR_FORMAT);
		assert_int_equal(ERR_peek_error(), 0);
	}
	/* Trailing bytes after the DER */
	assert_non_null(longer = malloc(len + 1));
	memcpy(longer, der, len);
	longer[len] = 0;
	assert_int_equal(certauth_ocsp_verify_der(longer, len + 1, &e,
	    &status, &until, &why), CERTAUTH_ERR_FORMAT);
	assert_int_equal(certauth_ocsp_verify_der(longer, len, &e,
	    &status, &until, &why), 0);
	/* A flipped bit in the signature */
	longer[len - 3] ^= 0x01;
	assert_int_equal(certauth_ocsp_verify_der(longer, len, &e,
	    &status, &until, &why), CERTAUTH_ERR_BAD_SIGNATURE);
	assert_int_equal(ERR_peek_error(), 0);
	free(longer);
	OPENSSL_free(der);
}

static void
test_response_status(void **unused)
{
	struct rb b = rb_default();

	(void)unused;
	b.resp_status = OCSP_RESPONSE_STATUS_UNAUTHORIZED;
	expect_code(&b, CERTAUTH_ERR_CERT_INVALID,
	    "OCSP responseStatus is unauthorized (6)");
	b.resp_status = OCSP_RESPONSE_STATUS_TRYLATER;
	expect_code(&b, CERTAUTH_ERR_CERT_INVALID,
	    "OCSP responseStatus is trylater (3)");
	b.resp_status = OCSP_RESPONSE_STATUS_INTERNALERROR;
	expect_code(&b, CERTAUTH_ERR_CERT_INVALID, NULL);
}

/* ------------------------------------------------ third-party vectors */

static unsigned char *
slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*lenp = (size_t)n;
	return buf;
}

static void
test_pyca_vectors(void **unused)
{
	static const struct {
		const char *file;
		int want;	/* 1: any failure */
	} v[] = {
		{ "resp-unauthorized.der", CERTAUTH_ERR_CERT_INVALID },
		{ "resp-successful-no-response-bytes.der",
		    CERTAUTH_ERR_FORMAT },
		{ "resp-response-type-unknown-oid.der", CERTAUTH_ERR_FORMAT },
		{ "resp-unknown-response-status.der", 1 },
		{ "resp-invalid-signature-oid.der", 1 },
		{ "resp-unknown-hash-alg.der", 1 },
		{ "resp-unknown-extension.der", 1 },
		{ "resp-revoked.der", 1 },
		{ "resp-revoked-reason.der", 1 },
		{ "resp-revoked-no-next-update.der", 1 },
		{ "resp-delegate-unknown-cert.der", 1 },
		{ "resp-responder-key-hash.der", 1 },
		{ "resp-single-extension-reason.der", 1 },
		{ "resp-sct-extension.der", 1 },
		{ "resp-sha256.der", 1 },
		{ "ocsp-army.deps.mil-resp.der", 1 },
		/* requests are not answers */
		{ "req-sha1.der", CERTAUTH_ERR_FORMAT },
		{ "req-ext-nonce.der", CERTAUTH_ERR_FORMAT },
	};
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	char path[PATH_MAX];
	unsigned char *der;
	size_t i, len = 0;
	time_t until;
	int r, status;

	(void)unused;
	if (access(PYCA_DIR "/ocsp", R_OK) != 0) {
		print_message("# python3-cryptography-vectors absent\n");
		skip();
	}
	expect_init(&e);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(path, sizeof(path), "%s/ocsp/%s", PYCA_DIR, v[i].file);
		if ((der = slurp(path, &len)) == NULL)
			fail_msg("cannot read %s", path);
		why.text[0] = '\0';
		r = certauth_ocsp_verify_der(der, len, &e, &status, &until,
		    &why);
		free(der);
		print_message("# %s: %s (%s)\n", v[i].file,
		    certauth_strerror(r), why.text);
		if (r == 0 || (v[i].want != 1 && r != v[i].want))
			fail_msg("%s: got %d (%s)", v[i].file, r, why.text);
		assert_int_not_equal(why.text[0], '\0');
		assert_int_equal(ERR_peek_error(), 0);
	}
}

/* resp-sha256.der is a genuine Let's Encrypt answer: its signature holds
 * at the time it was made, and it is stale now. */
static void
test_pyca_letsencrypt(void **unused)
{
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	X509_STORE *store = NULL;
	X509 *le = NULL;
	FILE *f;
	unsigned char *der;
	const unsigned char *p;
	size_t len = 0;
	time_t until;
	int status;

	(void)unused;
	if ((f = fopen(PYCA_DIR "/letsencryptx3.pem", "r")) == NULL)
		skip();
	le = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(le);
	assert_non_null(der = slurp(PYCA_DIR "/ocsp/resp-sha256.der", &len));
	p = der;
	assert_non_null(resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len));
	assert_non_null(bs = OCSP_response_get1_basic(resp));
	assert_non_null(store = X509_STORE_new());
	assert_true(X509_STORE_add_cert(store, le));
	/* The X3 intermediate is the anchor here. */
	assert_true(X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN));
	memset(&e, 0, sizeof(e));
	e.id = (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(
	    OCSP_resp_get0(bs, 0));
	e.issuer = le;
	e.store = store;
	e.skew = 300;
	e.max_age = 3600;
	assert_int_equal(certauth_ocsp_verify_signer(bs, &e, 1535700000,
	    &why), 0);
	/* The time was restored: X3 expired in 2021. */
	assert_int_equal(X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(
	    store)) & X509_V_FLAG_USE_CHECK_TIME, 0);
	assert_int_equal(certauth_ocsp_verify_signer(bs, &e, 0, &why),
	    CERTAUTH_ERR_BAD_SIGNATURE);
	assert_non_null(strstr(why.text, "expired"));
	/* With a chain that held, the answer is still stale now. */
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), 1535700000);
	assert_int_equal(certauth_ocsp_verify_der(der, len, &e, &status,
	    &until, &why), CERTAUTH_ERR_EXPIRED);
	assert_non_null(strstr(why.text, "nextUpdate 2018-09-06"));
	/* ...and the time we set on the store survives verify_signer. */
	assert_int_equal(certauth_ocsp_verify_signer(bs, &e, 1, &why),
	    CERTAUTH_ERR_BAD_SIGNATURE);
	assert_int_equal(certauth_ocsp_verify_signer(bs, &e, 0, &why), 0);
	free(der);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	X509_STORE_free(store);
	X509_free(le);
}

/* Base64 file to DER. */
static unsigned char *
read_b64(const char *path, size_t *lenp)
{
	BIO *b64 = NULL, *file = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	int n;

	if ((file = BIO_new_file(path, "r")) == NULL ||
	    (b64 = BIO_new(BIO_f_base64())) == NULL ||
	    (buf = malloc(CERTAUTH_OCSP_BODY_MAX)) == NULL)
		fail_msg("cannot read %s", path);
	BIO_push(b64, file);
	while (len < CERTAUTH_OCSP_BODY_MAX && (n = BIO_read(b64, buf + len,
	    (int)(CERTAUTH_OCSP_BODY_MAX - len))) > 0)
		len += (size_t)n;
	BIO_free_all(b64);
	*lenp = len;
	return buf;
}

/* One row of expected.tsv: 0 when the signer verifies, 1 when not. */
static int
conformance_row(const char *dir, const char *ors, const char *issuer_pem)
{
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	X509_STORE *store = NULL;
	X509 *issuer = NULL;
	char path[PATH_MAX];
	unsigned char *der;
	const unsigned char *p;
	size_t len = 0;
	FILE *f;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, issuer_pem) >=
	    (int)sizeof(path))
		fail_msg("path too long");
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot read %s", path);
	issuer = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(issuer);
	if (snprintf(path, sizeof(path), "%s/%s", dir, ors) >=
	    (int)sizeof(path))
		fail_msg("path too long");
	der = read_b64(path, &len);
	p = der;
	assert_non_null(resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len));
	assert_non_null(bs = OCSP_response_get1_basic(resp));
	/* As upstream: -CAfile issuer -verify_other issuer -partial_chain */
	assert_non_null(store = X509_STORE_new());
	assert_true(X509_STORE_add_cert(store, issuer));
	assert_true(X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN));
	memset(&e, 0, sizeof(e));
	e.issuer = issuer;
	e.store = store;
	why.text[0] = '\0';
	r = certauth_ocsp_verify_signer(bs, &e, CONFORMANCE_TIME, &why);
	if (r != 0)
		print_message("#   %s with %s: %s\n", ors, issuer_pem,
		    why.text);
	assert_int_equal(ERR_peek_error(), 0);
	free(der);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	X509_STORE_free(store);
	X509_free(issuer);
	return r == 0 ? 0 : 1;
}

static void
test_openssl_conformance(void **unused)
{
	const char *top = getenv("top_srcdir");
	const char *conformance = getenv("CERTAUTH_CONFORMANCE");
	char dir[PATH_MAX], path[PATH_MAX], line[1024];
	char *f[6], *save = NULL, *s;
	int got, rows = 0, agree_upstream = 0, agree_local = 0, n;
	FILE *tsv;

	(void)unused;
	/* Data kept beside the checkout; CERTAUTH_CONFORMANCE names it for
	 * a checkout elsewhere. */
	if (conformance != NULL && *conformance != '\0')
		snprintf(dir, sizeof(dir), "%s/ocsp/openssl", conformance);
	else
		snprintf(dir, sizeof(dir),
		    "%s/../shared/conformance/ocsp/openssl",
		    top != NULL ? top : "..");
	if (snprintf(path, sizeof(path), "%s/expected.tsv", dir) >=
	    (int)sizeof(path))
		fail_msg("path too long");
	if ((tsv = fopen(path, "r")) == NULL) {
		print_message("# %s absent\n", path);
		skip();
	}
	while (fgets(line, sizeof(line), tsv) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || strncmp(line, "group\t", 6) == 0 ||
		    line[0] == '\0')
			continue;
		for (n = 0, s = line; n < 6; n++, s = NULL)
			if ((f[n] = strtok_r(s, "\t", &save)) == NULL)
				break;
		if (n != 6)
			fail_msg("bad row in %s", path);
		rows++;
		got = conformance_row(dir, f[2], f[3]);
		if (got == atoi(f[4]))
			agree_upstream++;
		else
			print_message("# differs from upstream: %s %s (%s, %s):"
			    " upstream %s, OpenSSL 3.0.22 %s, ours %d\n",
			    f[0], f[1], f[2], f[3], f[4], f[5], got);
		if (got == atoi(f[5]))
			agree_local++;
		else
			print_message("# differs from Debian's openssl ocsp: "
			    "%s (%s), ours %d, openssl %s\n", f[2], f[3], got,
			    f[5]);
	}
	fclose(tsv);
	print_message("# OpenSSL OCSP vectors: %d of %d agree with upstream's "
	    "expected_exit, %d of %d with Debian's openssl ocsp\n",
	    agree_upstream, rows, agree_local, rows);
	assert_int_equal(rows, 54);
	/*
	 * Upstream's verdicts hold for a store that holds the issuer alone,
	 * as ours does.  Debian's `openssl ocsp` also searches the system
	 * CA store, where the real Comodo roots complete two chains (with
	 * -no-CAstore it agrees with upstream on all rows too).
	 */
	assert_int_equal(agree_upstream, rows);
}

/* ------------------------------------------------ the cache */

struct state {
	char *dir;		/* NULL: not root, cache tests skip */
	char *cache;		/* <dir>/cache/ocsp, not yet created */
	struct certauth_opts o;
	char logbuf[4096];
	struct certauth_log lg;
};

static void
capture(void *arg, int priority, const char *line)
{
	struct state *st = arg;
	size_t used = strlen(st->logbuf);

	(void)priority;
	snprintf(st->logbuf + used, sizeof(st->logbuf) - used, "%s\n", line);
}

static int
setup(void **ctx)
{
	struct state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -1;
	certauth_opts_init(&st->o);
	st->lg.emit = capture;
	st->lg.arg = st;
	st->lg.debug = 1;
	if ((st->dir = tu_safe_tmpdir()) != NULL) {
		st->cache = tu_path(st->dir, "cache/ocsp");
		if ((st->o.ocsp_cache_dir = strdup(st->cache)) == NULL)
			return -1;
	}
	st->o.ocsp = CERTAUTH_OCSP_HARD;
	/* Any fetch would fail: nothing listens on port 1. */
	if ((st->o.ocsp_url = strdup("http://127.0.0.1:1/")) == NULL)
		return -1;
	*ctx = st;
	return 0;
}

static int
teardown(void **ctx)
{
	struct state *st = *ctx;

	tu_remove_tree(st->dir);
	free(st->dir);
	free(st->cache);
	certauth_opts_free(&st->o);
	free(st);
	return 0;
}

static struct state *
need_root(void **ctx)
{
	struct state *st = *ctx;

	if (st->dir == NULL) {
		print_message("# needs root and a safe build directory\n");
		skip();
	}
	return st;
}

/* Store the answer b in the cache of st. */
static void
cache_put(struct state *st, const struct rb *b, OCSP_CERTID *id)
{
	struct certauth_reason why;
	unsigned char *der;
	size_t len = 0;

	der = make_answer(b, &len);
	why.text[0] = '\0';
	if (certauth_ocsp_cache_store(st->cache, id, der, len, &why) != 0)
		fail_msg("cache store: %s", why.text);
	OPENSSL_free(der);
}

/* The path of the one cache file in st->cache; caller frees. */
static char *
only_cache_file(struct state *st)
{
	DIR *d;
	struct dirent *de;
	char *found = NULL;
	int n = 0;

	assert_non_null(d = opendir(st->cache));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		free(found);
		found = tu_path(st->cache, de->d_name);
		assert_int_equal(strlen(de->d_name), 64);
		assert_int_equal(strspn(de->d_name, "0123456789abcdef"), 64);
	}
	closedir(d);
	assert_int_equal(n, 1);
	return found;
}

static void
test_cache_round_trip(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_reason why;
	struct rb b = rb_default();
	unsigned char *der, *back = NULL;
	size_t len = 0, backlen = 0;
	struct stat sb;
	char *file, *parent;

	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), CERTAUTH_ERR_NOT_FOUND);
	der = make_answer(&b, &len);
	assert_int_equal(certauth_ocsp_cache_store(st->cache, K->id, der, len,
	    &why), 0);
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), 0);
	assert_int_equal(backlen, len);
	assert_memory_equal(back, der, len);
	free(back);
	/* Another CertID is another file. */
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->other_id,
	    &back, &backlen, &why), CERTAUTH_ERR_NOT_FOUND);
	/* Modes: the directory (and the one made above it) 0700, files 0600 */
	assert_int_equal(stat(st->cache, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(sb.st_uid, 0);
	parent = tu_path(st->dir, "cache");
	assert_int_equal(stat(parent, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	free(parent);
	file = only_cache_file(st);
	assert_int_equal(stat(file, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(sb.st_uid, 0);
	/* A second store replaces the first. */
	OPENSSL_free(der);
	b.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	der = make_answer(&b, &len);
	assert_int_equal(certauth_ocsp_cache_store(st->cache, K->id, der, len,
	    &why), 0);
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), 0);
	assert_int_equal(backlen, len);
	assert_memory_equal(back, der, len);
	free(back);
	free(file);
	file = only_cache_file(st);
	free(file);
	/* Empty or oversized answers are not stored. */
	assert_int_not_equal(certauth_ocsp_cache_store(st->cache, K->id, der,
	    0, &why), 0);
	assert_int_not_equal(certauth_ocsp_cache_store(st->cache, K->id, der,
	    CERTAUTH_OCSP_BODY_MAX + 1, &why), 0);
	OPENSSL_free(der);
}

static void
test_cache_unsafe(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_reason why;
	struct rb b = rb_default();
	unsigned char *back = NULL;
	size_t backlen = 0;
	char *file;

	cache_put(st, &b, K->id);
	file = only_cache_file(st);
	assert_int_equal(chmod(file, 0620), 0);
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), CERTAUTH_ERR_UNSAFE);
	assert_null(back);
	assert_non_null(strstr(why.text, "group-writable"));
	assert_int_equal(chmod(file, 0600), 0);
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), 0);
	free(back);
	/* A symlink is not followed. */
	assert_int_equal(unlink(file), 0);
	assert_int_equal(symlink("/etc/passwd", file), 0);
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), CERTAUTH_ERR_UNSAFE);
	assert_int_equal(unlink(file), 0);
	free(file);
	/* An existing unsafe directory is refused, not fixed up. */
	cache_put(st, &b, K->id);
	assert_int_equal(chmod(st->cache, 0777), 0);
	assert_int_equal(certauth_ocsp_cache_store(st->cache, K->id,
	    (const unsigned char *)"x", 1, &why), CERTAUTH_ERR_UNSAFE);
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), CERTAUTH_ERR_UNSAFE);
	assert_int_equal(chmod(st->cache, 0700), 0);
}

static void
test_cache_planted(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	struct rb b = rb_default();
	unsigned char *back = NULL;
	size_t backlen = 0;
	time_t until;
	int status;

	expect_init(&e);
	/* Well-formed, under the right name, signed by nobody we trust. */
	b.signer = K->rogue;
	b.key = K->rogue_key;
	cache_put(st, &b, K->id);
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), 0);
	assert_int_equal(certauth_ocsp_verify_der(back, backlen, &e, &status,
	    &until, &why), CERTAUTH_ERR_BAD_SIGNATURE);
	free(back);
	/* Genuine but for another certificate. */
	b = rb_default();
	b.id = K->other_id;
	cache_put(st, &b, K->id);
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), 0);
	assert_int_equal(certauth_ocsp_verify_der(back, backlen, &e, &status,
	    &until, &why), CERTAUTH_ERR_FORMAT);
	free(back);
	/* Genuine but stale. */
	b = rb_default();
	b.this_t -= 3 * 86400;
	b.next_t = b.this_t + 86400;
	cache_put(st, &b, K->id);
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), 0);
	assert_int_equal(certauth_ocsp_verify_der(back, backlen, &e, &status,
	    &until, &why), CERTAUTH_ERR_EXPIRED);
	free(back);
}

#define WRITERS		8
#define WRITES_EACH	40

/*
 * The fetch lock: while one process holds it, another waits no longer than
 * its deadline and gets -1; once released, the lock can be had again.  The
 * lock file never counts as a cache entry.
 */
static void
test_cache_lock(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_reason why;
	unsigned char *back = NULL;
	size_t backlen = 0;
	long long t0, waited;
	pid_t pid;
	int held, status, pipefd[2];
	char c;

	held = certauth_ocsp_cache_lock(st->cache, K->id,
	    certauth_now_ms() + 1000);
	assert_true(held >= 0);
	assert_int_equal(pipe(pipefd), 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		/* Another login, with 200 ms left. */
		int l;

		/* The inherited descriptor shares the parent's lock. */
		close(held);
		close(pipefd[0]);
		t0 = certauth_now_ms();
		l = certauth_ocsp_cache_lock(st->cache, K->id, t0 + 200);
		waited = certauth_now_ms() - t0;
		c = (l < 0 && waited >= 200) ? 'w' : 'x';
		certauth_ocsp_cache_unlock(l);
		/* Now the parent lets go; the lock must come. */
		if (write(pipefd[1], &c, 1) != 1)
			_exit(3);
		l = certauth_ocsp_cache_lock(st->cache, K->id,
		    certauth_now_ms() + 5000);
		_exit(l >= 0 ? 0 : 2);
	}
	assert_true(pid > 0);
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	assert_int_equal(c, 'w');
	certauth_ocsp_cache_unlock(held);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* A lock file alone is no cached answer. */
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), CERTAUTH_ERR_NOT_FOUND);
	/* No directory that is unsafe, no lock. */
	assert_int_equal(chmod(st->cache, 0777), 0);
	assert_int_equal(certauth_ocsp_cache_lock(st->cache, K->id,
	    certauth_now_ms() + 100), -1);
	assert_int_equal(chmod(st->cache, 0700), 0);
	certauth_ocsp_cache_unlock(-1);
}

static void
test_cache_concurrent(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_reason why;
	struct rb b = rb_default();
	unsigned char *der[WRITERS], *back = NULL;
	size_t len[WRITERS], backlen = 0;
	pid_t pid[WRITERS];
	int i, j, status, matches = 0;
	DIR *d;
	struct dirent *de;

	/* Eight different answers of the same length. */
	for (i = 0; i < WRITERS; i++) {
		b.this_t = time(NULL) - 60 - i;
		der[i] = make_answer(&b, &len[i]);
	}
	fflush(NULL);
	for (i = 0; i < WRITERS; i++) {
		if ((pid[i] = fork()) == 0) {
			int bad = 0;

			for (j = 0; j < WRITES_EACH; j++)
				if (certauth_ocsp_cache_store(st->cache, K->id,
				    der[i], len[i], &why) != 0)
					bad = 1;
			_exit(bad);
		}
		assert_true(pid[i] > 0);
	}
	for (i = 0; i < WRITERS; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(certauth_ocsp_cache_load(st->cache, K->id, &back,
	    &backlen, &why), 0);
	for (i = 0; i < WRITERS; i++)
		if (backlen == len[i] && memcmp(back, der[i], len[i]) == 0)
			matches++;
	assert_int_equal(matches, 1);
	free(back);
	/* No temporary file left behind, exactly one entry. */
	assert_non_null(d = opendir(st->cache));
	i = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		assert_int_not_equal(de->d_name[0], '.');
		i++;
	}
	closedir(d);
	assert_int_equal(i, 1);
	for (i = 0; i < WRITERS; i++)
		OPENSSL_free(der[i]);
}

/* ------------------------------------------------ check_chain */

/*
 * The checks that ask the (refusing) responder at 127.0.0.1:1 need the
 * helper where the module runs it from.  A build that expects make
 * install first (distcheck) has none there, and a missing helper is a
 * failure on this host, never an unreachable responder.
 */
static void
need_helper(void)
{
	if (access(CERTAUTH_OCSP_HELPER, X_OK) != 0) {
		print_message("# no OCSP helper at %s (make install first)\n",
		    CERTAUTH_OCSP_HELPER);
		skip();
	}
}

static int
check(struct state *st, STACK_OF(X509) *chain, char *source,
    struct certauth_reason *why)
{
	struct certauth_ctx c;
	int r;

	why->text[0] = '\0';
	certauth_ctx_init(&c, &st->o, &st->lg);
	c.budget_ms = 3000;
	strcpy(c.outcome.ocsp_source, "unset");
	st->logbuf[0] = '\0';
	r = certauth_ocsp_check_chain(&c, chain, K->store, why);
	snprintf(source, 128, "%s", c.outcome.ocsp_source);
	assert_int_equal(ERR_peek_error(), 0);
	return r;
}

static void
test_chain_of_one(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	STACK_OF(X509) *one;
	char source[128];

	assert_non_null(one = sk_X509_new_null());
	assert_true(sk_X509_push(one, K->pki.ca));
	/* Even a responder cert that cannot be loaded is never touched. */
	st->o.ocsp_responder_cert = strdup("/nonexistent/responder.pem");
	assert_int_equal(check(st, one, source, &why), 0);
	assert_string_equal(source, "");
	assert_string_equal(st->logbuf, "");
	sk_X509_free(one);
}

static void
test_chain_cache_hit(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_reason why;
	struct rb b = rb_default();
	char source[128];

	need_helper();
	cache_put(st, &b, K->id);
	assert_int_equal(check(st, K->chain, source, &why), 0);
	assert_string_equal(source, "cache");
	/* SHA-256 CertIDs are other cache entries: that one would need
	 * the (unreachable) responder. */
	st->o.ocsp_digest = CERTAUTH_OCSP_SHA256;
	assert_int_equal(check(st, K->chain, source, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_non_null(strstr(why.text, "no OCSP answer for CN=alice: "));
	st->o.ocsp_digest = CERTAUTH_OCSP_SHA1;
	/* A delegated responder's answer from the cache. */
	b.signer = K->resp;
	b.key = K->resp_key;
	cache_put(st, &b, K->id);
	assert_int_equal(check(st, K->chain, source, &why), 0);
	assert_string_equal(source, "cache");
}

static void
test_chain_cache_revoked(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_reason why;
	struct rb b = rb_default();
	char source[128];

	b.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	cache_put(st, &b, K->id);
	assert_int_equal(check(st, K->chain, source, &why),
	    CERTAUTH_ERR_REVOKED);
	assert_string_equal(why.text,
	    "certificate CN=alice revoked (OCSP, 2023-11-14 22:13:20 UTC)");
	/* Revoked is revoked in soft mode too. */
	st->o.ocsp = CERTAUTH_OCSP_SOFT;
	assert_int_equal(check(st, K->chain, source, &why),
	    CERTAUTH_ERR_REVOKED);
	/* unknown fails as well */
	b.cert_status = V_OCSP_CERTSTATUS_UNKNOWN;
	cache_put(st, &b, K->id);
	assert_int_equal(check(st, K->chain, source, &why),
	    CERTAUTH_ERR_CERT_INVALID);
}

static void
test_chain_cache_tampered(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_reason why;
	struct rb b = rb_default();
	char source[128];

	need_helper();
	b.signer = K->plain;	/* not a responder */
	b.key = K->plain_key;
	cache_put(st, &b, K->id);
	assert_int_equal(check(st, K->chain, source, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_non_null(strstr(why.text, "no OCSP answer for CN=alice: "));
	st->o.ocsp = CERTAUTH_OCSP_SOFT;
	assert_int_equal(check(st, K->chain, source, &why), 0);
	assert_string_equal(source, "");
	if (strstr(st->logbuf, "OCSP responder for CN=alice unreachable, "
	    "accepted (ocsp=soft): ") == NULL)
		fail_msg("no soft-mode warning in: %s", st->logbuf);
	if (strstr(st->logbuf, "cached OCSP answer for CN=alice ignored") ==
	    NULL)
		fail_msg("no debug line for the refused entry: %s", st->logbuf);
	/* A stale genuine entry is not used either. */
	b = rb_default();
	b.this_t -= 3 * 86400;
	b.next_t = b.this_t + 86400;
	cache_put(st, &b, K->id);
	st->o.ocsp = CERTAUTH_OCSP_HARD;
	assert_int_equal(check(st, K->chain, source, &why),
	    CERTAUTH_ERR_CERT_INVALID);
}

/*
 * Under ocsp=soft a failure on this host is not the network's: with no
 * descriptor left for the helper (as a caller of su can arrange), the
 * check fails and nothing is accepted.
 */
static void
test_chain_soft_local_failure(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_reason why;
	struct rlimit saved, low;
	char source[128];
	int fds[64], n = 0, fd;

	need_helper();
	st->o.ocsp = CERTAUTH_OCSP_SOFT;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < 64 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fds[n++] = fd;
	assert_int_equal(errno, EMFILE);
	assert_int_equal(check(st, K->chain, source, &why),
	    CERTAUTH_ERR_INTERNAL);
	while (n > 0)
		close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	assert_non_null(strstr(why.text, "failed on this host: "));
	assert_non_null(strstr(why.text, "Too many open files"));
	if (strstr(st->logbuf, "accepted (ocsp=soft)") != NULL)
		fail_msg("a local failure was accepted: %s", st->logbuf);
	/* The control: the same check with descriptors to spare reaches
	 * the (refusing) responder and soft mode accepts that. */
	assert_int_equal(check(st, K->chain, source, &why), 0);
	assert_non_null(strstr(st->logbuf, "accepted (ocsp=soft)"));
}

/* A budget the responders have used up is theirs: soft accepts, hard
 * refuses, and nothing is asked. */
static void
test_chain_budget_used_up(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_reason why;
	struct certauth_ctx c;
	int r;

	st->o.ocsp = CERTAUTH_OCSP_SOFT;
	st->logbuf[0] = '\0';
	why.text[0] = '\0';
	certauth_ctx_init(&c, &st->o, &st->lg);
	c.budget_ms = 0;
	r = certauth_ocsp_check_chain(&c, K->chain, K->store, &why);
	assert_int_equal(r, 0);
	assert_non_null(strstr(st->logbuf, "the responders used all of "
	    "ocsp_timeout_ms"));
	st->o.ocsp = CERTAUTH_OCSP_HARD;
	r = certauth_ocsp_check_chain(&c, K->chain, K->store, &why);
	assert_int_equal(r, CERTAUTH_ERR_CERT_INVALID);
	assert_non_null(strstr(why.text, "the responders used all of "
	    "ocsp_timeout_ms"));
	assert_int_equal(c.budget_ms, 0);
}

static void
test_chain_scope(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_reason why;
	struct rb b = rb_default();
	OCSP_CERTID *leaf_id, *inter_id;
	char source[128];

	need_helper();
	assert_non_null(leaf_id = OCSP_cert_to_id(EVP_sha1(), K->leaf2,
	    K->pki.inter));
	assert_non_null(inter_id = OCSP_cert_to_id(EVP_sha1(), K->pki.inter,
	    K->pki.ca));
	b.id = leaf_id;
	b.signer = K->pki.inter;
	b.key = K->pki.inter_key;
	cache_put(st, &b, leaf_id);
	/* leaf scope: the intermediate is not asked about */
	assert_int_equal(check(st, K->chain3, source, &why), 0);
	assert_string_equal(source, "cache");
	st->o.ocsp_scope = CERTAUTH_SCOPE_CHAIN;
	assert_int_equal(check(st, K->chain3, source, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_non_null(strstr(why.text,
	    "no OCSP answer for CN=Test OCSP Intermediate"));
	b.id = inter_id;
	b.signer = K->pki.ca;
	b.key = K->pki.ca_key;
	cache_put(st, &b, inter_id);
	assert_int_equal(check(st, K->chain3, source, &why), 0);
	assert_string_equal(source, "cache");
	b.cert_status = V_OCSP_CERTSTATUS_REVOKED;
	cache_put(st, &b, inter_id);
	assert_int_equal(check(st, K->chain3, source, &why),
	    CERTAUTH_ERR_REVOKED);
	assert_non_null(strstr(why.text, "Test OCSP Intermediate revoked"));
	/* The intermediate's key is no responder for the CA's certs. */
	b.cert_status = V_OCSP_CERTSTATUS_GOOD;
	b.signer = K->pki.inter;
	b.key = K->pki.inter_key;
	cache_put(st, &b, inter_id);
	assert_int_equal(check(st, K->chain3, source, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	OCSP_CERTID_free(leaf_id);
	OCSP_CERTID_free(inter_id);
}

static void
test_chain_responder_cert(void **ctx)
{
	struct state *st = need_root(ctx);
	struct certauth_reason why;
	struct rb b = rb_default();
	char source[128], *pem;

	b.signer = K->plain;
	b.key = K->plain_key;
	cache_put(st, &b, K->id);
	st->o.ocsp_responder_cert = tu_path(st->dir, "missing.pem");
	assert_int_equal(check(st, K->chain, source, &why),
	    CERTAUTH_ERR_TRUST_STORE);
	assert_non_null(strstr(why.text, "ocsp_responder_cert"));
	pem = tu_path(st->dir, "responder.pem");
	tu_write_certs(pem, &K->plain, 1, 0644);
	free(st->o.ocsp_responder_cert);
	st->o.ocsp_responder_cert = pem;
	assert_int_equal(check(st, K->chain, source, &why), 0);
	assert_string_equal(source, "cache");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_by_ca),
		cmocka_unit_test(test_good_by_delegate),
		cmocka_unit_test(test_revoked_and_unknown),
		cmocka_unit_test(test_signer_without_ocspsigning),
		cmocka_unit_test(test_signer_unrelated),
		cmocka_unit_test(test_named_responder),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_freshness),
		cmocka_unit_test(test_other_certid),
		cmocka_unit_test(test_not_der),
		cmocka_unit_test(test_response_status),
		cmocka_unit_test(test_pyca_vectors),
		cmocka_unit_test(test_pyca_letsencrypt),
		cmocka_unit_test(test_openssl_conformance),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_cache_round_trip),
		T(test_cache_unsafe),
		T(test_cache_planted),
		T(test_cache_concurrent),
		T(test_cache_lock),
		T(test_chain_of_one),
		T(test_chain_cache_hit),
		T(test_chain_cache_revoked),
		T(test_chain_cache_tampered),
		T(test_chain_soft_local_failure),
		T(test_chain_budget_used_up),
		T(test_chain_scope),
		T(test_chain_responder_cert),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
