/*
 * fuzz_anchors.c - the trust-anchor index of a PEM bundle (anchors.h),
 * which reads a subject name out of DER without OpenSSL's certificate
 * parser.
 *
 * Invariants: success indexes at least one certificate and never more
 * than there are BEGIN lines; for every indexed certificate that
 * OpenSSL's own d2i_X509 reads, the subject the index found is the one
 * OpenSSL finds, so an anchor can never be filed under a name it does not
 * carry.  Failure hands out nothing and names a block within the input.
 * Neither leaves an OpenSSL error behind.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "anchors.h"
#include "certauth.h"
#include "fuzzutil.h"

#define BEGIN	"-----BEGIN "

static int
count_begin(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *hit;
	size_t blen = strlen(BEGIN);
	int n = 0;

	while (p < end && (hit = memmem(p, (size_t)(end - p), BEGIN,
	    blen)) != NULL) {
		n++;
		p = hit + blen;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certauth_anchor_index *idx = NULL;
	const unsigned char *der, *q;
	size_t len;
	X509 *x;
	int i, bad = -1, r;

	r = certauth_anchor_index_build((const char *)data, size, &idx, &bad);
	fz_assert_no_errors("certauth_anchor_index_build");
	if (r != 0) {
		fz_assert(idx == NULL);
		fz_assert(r == CERTAUTH_ERR_FORMAT ||
		    r == CERTAUTH_ERR_NOT_FOUND || r == CERTAUTH_ERR_NOMEM);
		fz_assert(r != CERTAUTH_ERR_FORMAT ||
		    (bad >= 1 && bad <= count_begin(data, size) + 1));
		return 0;
	}
	fz_assert(idx != NULL && certauth_anchor_count(idx) >= 1);
	fz_assert(certauth_anchor_count(idx) <= count_begin(data, size));
	for (i = 0; i < certauth_anchor_count(idx); i++) {
		der = certauth_anchor_der(idx, i, &len);
		q = der;
		if ((x = d2i_X509(NULL, &q, (long)len)) == NULL) {
			ERR_clear_error();
			continue;
		}
		fz_assert(X509_NAME_cmp(certauth_anchor_subject(idx, i),
		    X509_get_subject_name(x)) == 0);
		X509_free(x);
	}
	fz_assert(certauth_anchor_index_up_ref(idx) == 0);
	certauth_anchor_index_free(idx);
	certauth_anchor_index_free(idx);
	fz_assert_no_errors("index walk");
	return 0;
}
