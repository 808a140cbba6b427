/*
 * digest.c - the hashes a response may name, and those it may not
 * (digest.h).
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "certauth.h"
#include "digest.h"

static const struct {
	const char *name;
	int digest; /* enum certauth_digest, or REFUSED */
	const EVP_MD *(*md)(void);
} digests[] = {
	{ "sha256", CERTAUTH_DIGEST_SHA256, EVP_sha256 },
	{ "sha384", CERTAUTH_DIGEST_SHA384, EVP_sha384 },
	{ "sha512", CERTAUTH_DIGEST_SHA512, EVP_sha512 },
	/* Real hashes, named so that a refusal can say which. */
	{ "sha1", CERTAUTH_ERR_DIGEST_REFUSED, NULL },
	{ "md5", CERTAUTH_ERR_DIGEST_REFUSED, NULL },
	{ "sha224", CERTAUTH_ERR_DIGEST_REFUSED, NULL },
};

#define NDIGESTS (sizeof(digests) / sizeof(digests[0]))

int
certauth_digest_from_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; name != NULL && i < NDIGESTS; i++) {
		if (strlen(digests[i].name) == len &&
		    memcmp(name, digests[i].name, len) == 0)
			return digests[i].digest;
	}
	return CERTAUTH_ERR_FORMAT;
}

/* The allowed row of digest, or -1. */
static int
row(int digest)
{
	size_t i;

	if (digest == CERTAUTH_DIGEST_DEFAULT)
		digest = CERTAUTH_DIGEST_SHA256;
	for (i = 0; i < NDIGESTS; i++) {
		if (digests[i].digest == digest && digests[i].md != NULL)
			return (int)i;
	}
	return -1;
}

const char *
certauth_digest_name(int digest)
{
	int i = row(digest);

	return i >= 0 ? digests[i].name : NULL;
}

const EVP_MD *
certauth_digest_md(int digest)
{
	int i = row(digest);

	return i >= 0 ? digests[i].md() : NULL;
}
