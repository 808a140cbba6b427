/*
 * fuzzutil.h - what the libFuzzer targets share: the fixed certificates of
 * fixtures.h as OpenSSL objects, and the one way a target reports a
 * broken invariant (abort, so libFuzzer keeps the input).
 */
#ifndef CERTAUTH_FUZZUTIL_H
#define CERTAUTH_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

/* The libFuzzer entry points, declared for -Wmissing-prototypes. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print what broke, with the target's file and line, and abort. */
#define fz_assert(cond) \
	do { \
		if (!(cond)) \
			fz_fail(__FILE__, __LINE__, #cond); \
	} while (0)
void fz_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

/* A certificate from one of the PEM strings of fixtures.h; aborts if it
 * does not parse.  Caller frees with X509_free. */
X509 *fz_cert(const char *pem);

/* A NUL-terminated copy of the input (malloc'd; aborts on failure), for
 * the parsers that take C strings. */
char *fz_strndup(const uint8_t *data, size_t size);

/* The OpenSSL error queue must be empty where a function promises so;
 * prints what is left and aborts otherwise. */
void fz_assert_no_errors(const char *after);

#endif /* CERTAUTH_FUZZUTIL_H */
