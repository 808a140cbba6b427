/*
 * fuzz_ocsp.c - OCSP answers (ocsp.h): DER bytes through
 * certauth_ocsp_verify_der for the fixed leaf and its issuer, the anchor,
 * once without and once with the nonce of the fixed request.
 *
 * Invariants, checked with OpenSSL directly rather than through the
 * module: an accepted answer is signed by the anchor's key, or by a
 * certificate in the answer that the anchor's key signed and that carries
 * id-kp-OCSPSigning; its status for the CertID is the one reported;
 * nextUpdate, if any, is not past; with the nonce request the nonce is
 * echoed, and what passes with the nonce passes without it.  Nothing is
 * left in the OpenSSL error queue.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certauth.h"
#include "fixtures.h"
#include "fuzzutil.h"
#include "ocsp.h"

#define SKEW	300
#define MAX_AGE	2592000

static X509 *anchor, *leaf;
static X509_STORE *store;
static OCSP_CERTID *id;
static OCSP_REQUEST *nonce_req;

static OCSP_REQUEST *
load_request(const char *b64)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	OCSP_REQUEST *req;
	char *clean;
	size_t i, n = 0;
	int len;

	if ((clean = malloc(strlen(b64) + 1)) == NULL)
		abort();
	for (i = 0; b64[i] != '\0'; i++)
		if (b64[i] != '\n')
			clean[n++] = b64[i];
	clean[n] = '\0';
	if ((der = malloc(n)) == NULL)
		abort();
	len = EVP_DecodeBlock(der, (unsigned char *)clean, (int)n);
	/* EVP_DecodeBlock counts the padding as bytes; DER ignores them. */
	p = der;
	req = d2i_OCSP_REQUEST(NULL, &p, len);
	fz_assert(req != NULL);
	free(der);
	free(clean);
	return req;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	anchor = fz_cert(fx_anchor_pem);
	leaf = fz_cert(fx_leaf_ec_pem);
	if ((store = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(store, anchor) ||
	    (id = OCSP_cert_to_id(EVP_sha1(), leaf, anchor)) == NULL)
		fz_fail(__FILE__, __LINE__, "OCSP fixtures");
	nonce_req = load_request(fx_nonce_req_b64);
	return 0;
}

/* Does pkey's signature cover the answer's tbsResponseData? */
static int
answer_signed_with(OCSP_BASICRESP *bs, EVP_PKEY *pkey)
{
	int ok;

	ok = pkey != NULL && ASN1_item_verify(ASN1_ITEM_rptr(OCSP_RESPDATA),
	    OCSP_resp_get0_tbs_sigalg(bs), OCSP_resp_get0_signature(bs),
	    OCSP_resp_get0_respdata(bs), pkey) == 1;
	ERR_clear_error();
	return ok;
}

/* Signed by the anchor, or by an OCSPSigning delegate of it. */
static int
signed_by_anchor(OCSP_BASICRESP *bs)
{
	EVP_PKEY *ca = X509_get0_pubkey(anchor);
	const STACK_OF(X509) *certs = OCSP_resp_get0_certs(bs);
	X509 *c;
	int i;

	if (answer_signed_with(bs, ca))
		return 1;
	for (i = 0; i < sk_X509_num(certs); i++) {
		c = sk_X509_value(certs, i);
		if (X509_verify(c, ca) == 1 &&
		    (X509_get_extended_key_usage(c) & XKU_OCSP_SIGN) != 0 &&
		    answer_signed_with(bs, X509_get0_pubkey(c)))
			return 1;
	}
	return 0;
}

/* Re-read an accepted answer with OpenSSL alone and check its claims. */
static void
check_accepted(const uint8_t *data, size_t size, int status,
    time_t valid_until, int with_nonce)
{
	const unsigned char *p = data;
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	int st = -1, why = -1;

	fz_assert(status == CERTAUTH_OCSP_GOOD ||
	    status == CERTAUTH_OCSP_REVOKED || status == CERTAUTH_OCSP_UNKNOWN);
	fz_assert(valid_until >= time(NULL) - SKEW);
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)size);
	fz_assert(resp != NULL && p == data + size);
	fz_assert(OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_SUCCESSFUL);
	fz_assert((bs = OCSP_response_get1_basic(resp)) != NULL);
	fz_assert(signed_by_anchor(bs));
	fz_assert(OCSP_resp_find_status(bs, id, &st, &why, &rev, &thisupd,
	    &nextupd) == 1);
	fz_assert((st == V_OCSP_CERTSTATUS_GOOD) ==
	    (status == CERTAUTH_OCSP_GOOD));
	fz_assert((st == V_OCSP_CERTSTATUS_REVOKED) ==
	    (status == CERTAUTH_OCSP_REVOKED));
	if (with_nonce)
		fz_assert(OCSP_check_nonce(nonce_req, bs) == 1);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
}

static int
verify(const uint8_t *data, size_t size, OCSP_REQUEST *req)
{
	struct certauth_ocsp_expect e;
	struct certauth_reason reason;
	time_t valid_until = 0;
	int status = -1, r;

	memset(&e, 0, sizeof(e));
	e.id = id;
	e.issuer = anchor;
	e.store = store;
	e.nonce_req = req;
	e.skew = SKEW;
	e.max_age = MAX_AGE;
	reason.text[0] = '\0';
	r = certauth_ocsp_verify_der(data, size, &e, &status, &valid_until,
	    &reason);
	fz_assert_no_errors("certauth_ocsp_verify_der");
	if (r != 0) {
		fz_assert(reason.text[0] != '\0' || r == CERTAUTH_ERR_NOMEM);
		fz_assert(r == CERTAUTH_ERR_FORMAT ||
		    r == CERTAUTH_ERR_BAD_SIGNATURE ||
		    r == CERTAUTH_ERR_EXPIRED || r == CERTAUTH_ERR_CERT_INVALID ||
		    r == CERTAUTH_ERR_NOMEM);
		return r;
	}
	check_accepted(data, size, status, valid_until, req != NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r_plain, r_nonce;

	if (size > LONG_MAX)
		return 0;
	r_plain = verify(data, size, NULL);
	r_nonce = verify(data, size, nonce_req);
	fz_assert(r_nonce != 0 || r_plain == 0);
	return 0;
}
