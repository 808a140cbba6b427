/*
 * fuzz_bindings.c - the bindings-file parser (bindings.h).
 *
 * Invariants: success hands out at least one certificate and never more
 * than there are BEGIN CERTIFICATE lines, each of which encodes back to
 * DER; failure hands out nothing and leaves no OpenSSL error behind.
 * Text outside the blocks is commentary: the same input after a comment
 * line gives the same answer and the same certificates.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "bindings.h"
#include "certauth.h"
#include "fuzzutil.h"

#define BEGIN_CERT	"-----BEGIN CERTIFICATE-----"

static size_t
count_begin(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *hit;
	size_t n = 0, blen = strlen(BEGIN_CERT);

	while (p < end && (hit = memmem(p, (size_t)(end - p), BEGIN_CERT,
	    blen)) != NULL) {
		n++;
		p = hit + blen;
	}
	return n;
}

static int
parse(const char *buf, size_t len, STACK_OF(X509) **out)
{
	struct certauth_reason reason;
	int r;

	reason.text[0] = '\0';
	r = certauth_bindings_parse(buf, len, out, &reason);
	if (r != 0) {
		fz_assert(*out == NULL);
		fz_assert(reason.text[0] != '\0' || r == CERTAUTH_ERR_NOMEM);
		fz_assert(r == CERTAUTH_ERR_NOT_FOUND ||
		    r == CERTAUTH_ERR_FORMAT || r == CERTAUTH_ERR_TOO_LONG ||
		    r == CERTAUTH_ERR_NOMEM);
		fz_assert_no_errors("certauth_bindings_parse refusal");
		return r;
	}
	fz_assert(*out != NULL && sk_X509_num(*out) >= 1);
	return 0;
}

static int
same_certs(STACK_OF(X509) *a, STACK_OF(X509) *b)
{
	int i;

	if (sk_X509_num(a) != sk_X509_num(b))
		return 0;
	for (i = 0; i < sk_X509_num(a); i++)
		if (X509_cmp(sk_X509_value(a, i), sk_X509_value(b, i)) != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char comment[] = "# a comment\n";
	STACK_OF(X509) *certs = NULL, *again = NULL;
	char *prefixed;
	int i, r, r2;

	r = parse((const char *)data, size, &certs);
	if (r == 0) {
		fz_assert((size_t)sk_X509_num(certs) <= count_begin(data, size));
		for (i = 0; i < sk_X509_num(certs); i++)
			fz_assert(i2d_X509(sk_X509_value(certs, i), NULL) > 0);
	}
	if ((prefixed = malloc(sizeof(comment) - 1 + size + 1)) == NULL)
		abort();
	memcpy(prefixed, comment, sizeof(comment) - 1);
	if (size > 0)
		memcpy(prefixed + sizeof(comment) - 1, data, size);
	r2 = parse(prefixed, sizeof(comment) - 1 + size, &again);
	/* Only the size limit may tell the two apart. */
	if (r2 != CERTAUTH_ERR_TOO_LONG) {
		fz_assert(r2 == r);
		fz_assert(r != 0 || same_certs(certs, again));
	}
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(again, X509_free);
	free(prefixed);
	return 0;
}
