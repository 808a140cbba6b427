/*
 * fuzzutil.c - helpers shared by the libFuzzer targets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "fuzzutil.h"

void
fz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
	abort();
}

X509 *
fz_cert(const char *pem)
{
	BIO *bio;
	X509 *cert;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		fz_fail(__FILE__, __LINE__, "BIO_new_mem_buf");
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (cert == NULL)
		fz_fail(__FILE__, __LINE__, "fixture certificate parses");
	return cert;
}

char *
fz_strndup(const uint8_t *data, size_t size)
{
	char *s;

	if ((s = malloc(size + 1)) == NULL)
		fz_fail(__FILE__, __LINE__, "malloc");
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void
fz_assert_no_errors(const char *after)
{
	if (ERR_peek_error() == 0)
		return;
	fprintf(stderr, "OpenSSL errors left after %s:\n", after);
	ERR_print_errors_fp(stderr);
	abort();
}
