/*
 * fuzz_ldap.c - the LDAP helper's record (ldap_wire.h) and its values
 * as certificates (ldap_source.h), and the helper's request decoder.
 *
 * Invariants: a record that parses has a code, at most
 * CERTAUTH_LDAP_CERTS_MAX values, each inside the input and at most
 * CERTAUTH_LDAP_CERT_MAX bytes, values exactly when the code is "found",
 * and a printable text; the values as certificates give either every one
 * of them or nothing; a request that decodes encodes back to the same
 * bytes; nothing leaves an OpenSSL error behind.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "fuzzutil.h"
#include "ldap_source.h"
#include "ldap_wire.h"

static void
check_record(const uint8_t *data, size_t size)
{
	struct certauth_ldap_record rec;
	struct certauth_reason why;
	STACK_OF(X509) *certs = NULL;
	const char *t;
	size_t i;
	int r;

	if (certauth_ldap_record_parse(data, size, &rec) != 0)
		return;
	if (rec.count > CERTAUTH_LDAP_CERTS_MAX ||
	    (rec.code == CERTAUTH_LDAP_FOUND) != (rec.count > 0))
		abort();
	for (t = rec.text; *t != '\0'; t++)
		if (*t < 0x20 || *t > 0x7e)
			abort();
	for (i = 0; i < rec.count; i++)
		if (rec.val[i] < data || rec.vlen[i] > CERTAUTH_LDAP_CERT_MAX ||
		    rec.val[i] + rec.vlen[i] > data + size)
			abort();
	if (rec.count == 0)
		return;
	r = certauth_ldap_certs(rec.val, rec.vlen, rec.count, "fuzz", "u",
	    &certs, &why);
	if ((r == 0) != (certs != NULL) ||
	    (r == 0 && (size_t)sk_X509_num(certs) != rec.count))
		abort();
	sk_X509_pop_free(certs, X509_free);
	if (ERR_peek_error() != 0)
		abort();
}

static void
check_request(const uint8_t *data, size_t size)
{
	struct certauth_ldap_request req;
	unsigned char *copy, *again = NULL;
	size_t len = 0;

	if ((copy = malloc(size + 1)) == NULL)
		return;
	memcpy(copy, data, size);
	if (certauth_ldap_request_decode(copy, size, &req) == 0) {
		if (certauth_ldap_request_encode(&req, &again, &len) != 0 ||
		    len != size || memcmp(again, data, size) != 0)
			abort();
	}
	free(again);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_record(data, size);
	check_request(data, size);
	return 0;
}
