/*
 * digest.h - the hashes a response may name, docs/PROTOCOL.md, "The
 * response" and "Keys and digests": one table of prefix, enum value and
 * OpenSSL hash for the parser, the verifier and certauth-sign.
 */
#ifndef CERTAUTH_DIGEST_H
#define CERTAUTH_DIGEST_H

#include <stddef.h>
#include <openssl/evp.h>

enum certauth_digest {
	CERTAUTH_DIGEST_DEFAULT = 0, /* no prefix: SHA-256, or pure EdDSA */
	CERTAUTH_DIGEST_SHA256,
	CERTAUTH_DIGEST_SHA384,
	CERTAUTH_DIGEST_SHA512,
};

/*
 * The digest a name of len bytes (name need not be NUL-terminated there)
 * stands for, matched exactly, lower-case: an enum certauth_digest other
 * than DEFAULT; CERTAUTH_ERR_DIGEST_REFUSED for a real hash the protocol
 * does not allow ("sha1", "md5", "sha224"); CERTAUTH_ERR_FORMAT for any
 * other name.
 */
int certauth_digest_from_name(const char *name, size_t len);

/* The name of an enum certauth_digest ("sha256" for DEFAULT), or NULL
 * for a value outside the enum.  Static. */
const char *certauth_digest_name(int digest);

/* The OpenSSL hash of an enum certauth_digest (SHA-256 for DEFAULT), or
 * NULL for a value outside the enum. */
const EVP_MD *certauth_digest_md(int digest);

#endif /* CERTAUTH_DIGEST_H */
