/*
 * Key sources of the signing tools (certauth-sign, certauth-askpass):
 * where the private key that answers a challenge lives, and the one way
 * an answer is made from it.  Whatever the source, the answer is the
 * same bytes the module verifies (docs/PROTOCOL.md, "The response").
 * Linked by the tools only (libcertauth_client), never by the module.
 */
#ifndef CERTAUTH_KEYSRC_H
#define CERTAUTH_KEYSRC_H

#include <stddef.h>

#include <openssl/evp.h>

#include "answer.h" /* struct certauth_secret_ask */
#include "certauth.h"

/* What names a key, as --key / CERTAUTH_KEY and the options give it. */
struct certauth_keysrc_spec {
	const char *key;       /* a file's path, "agent", or "pkcs11:" URI */
	const char *cert_path; /* the user's certificate: which key of an
				  agent or a token; NULL for a file */
	const char *pass_file; /* a file key's passphrase or a token's
				  PIN; NULL: ask */
	struct certauth_secret_ask ask;
};

struct certauth_keysrc;

/*
 * One kind of source.  open: ready the key named by spec into *state
 * and its public half into *pub (both owned by the source).  sign: the
 * signature over msg as the module reads it (DER ECDSA, raw EdDSA, RSA
 * PKCS#1 v1.5 or PSS), md NULL meaning pure EdDSA; *sig malloc'd.  All
 * return 0 or a CERTAUTH_ERR_* code with why set.
 */
struct certauth_keysrc_ops {
	const char *name; /* "file", "agent", "pkcs11" */
	int (*open)(const struct certauth_keysrc_spec *spec, void **state,
	    EVP_PKEY **pub, struct certauth_reason *why);
	int (*sign)(void *state, EVP_PKEY *pub, const EVP_MD *md, int pss,
	    const unsigned char *msg, size_t len, unsigned char **sig,
	    size_t *siglen, struct certauth_reason *why);
	void (*close)(void *state);
	/* NULL, or the digest the source signs with when asked for digest
	 * (DEFAULT: none named) and pss, into *used; a source that cannot
	 * sign so refuses here.  0 or a CERTAUTH_ERR_* code, why set. */
	int (*digest)(void *state, EVP_PKEY *pub, int digest, int pss,
	    int *used, struct certauth_reason *why);
};

extern const struct certauth_keysrc_ops certauth_keysrc_file;
extern const struct certauth_keysrc_ops certauth_keysrc_agent;
extern const struct certauth_keysrc_ops certauth_keysrc_pkcs11;

/*
 * The first line of path (without CR/LF) into buf, the rest of buf
 * wiped: a passphrase or PIN file.  Returns 0 with *len, or a
 * CERTAUTH_ERR_* code (buf wiped, why set).
 */
int certauth_keysrc_read_secret(const char *path, char *buf, size_t size,
    size_t *len, struct certauth_reason *why);

/*
 * Open the source spec->key names.  Returns 0 with *out, or a
 * CERTAUTH_ERR_* code with why set.
 */
int certauth_keysrc_open(const struct certauth_keysrc_spec *spec,
    struct certauth_keysrc **out, struct certauth_reason *why);

/* The source's public key (owned by the source) and its kind's name. */
EVP_PKEY *certauth_keysrc_public(const struct certauth_keysrc *k);
const char *certauth_keysrc_kind(const struct certauth_keysrc *k);

/*
 * The answer to challenge c: signed with digest (enum certauth_digest;
 * EdDSA keys take none) and, for RSA, PSS when pss; encoded as the
 * response line, and verified as the module will before it is handed
 * out.  *response is malloc'd.  Returns 0 or a CERTAUTH_ERR_* code with
 * why set.
 */
int certauth_keysrc_respond(struct certauth_keysrc *k, int digest, int pss,
    const char *c, char **response, struct certauth_reason *why);

/*
 * ssh and sudo read at most this many characters of an answer, at their
 * own prompt and from an askpass program alike, and cut off the rest.
 */
#define CERTAUTH_KEYSRC_SHORT_ANSWER 1023

/*
 * Offer the certificate in cert_path (PEM or DER) after the signature
 * of *response, an answer of certauth_keysrc_respond to challenge c
 * (docs/PROTOCOL.md, "The response").  It must hold k's public key; the
 * whole line is then read back as the module's rules source reads it,
 * and must give that certificate and a signature that verifies with its
 * key.  *response is replaced by the longer line (malloc'd) on success
 * and left as it was otherwise.  Returns 0, CERTAUTH_ERR_TOO_LONG (the
 * line would pass CERTAUTH_RESPONSE_MAX characters) or another
 * CERTAUTH_ERR_* code, with why set.
 */
int certauth_keysrc_offer(struct certauth_keysrc *k, const char *cert_path,
    const char *c, char **response, struct certauth_reason *why);

/* The certificate in path, PEM or else DER, into *out, or its public
 * key.  0 or a CERTAUTH_ERR_* code with why set. */
int certauth_keysrc_load_cert(const char *path, X509 **out,
    struct certauth_reason *why);
int certauth_keysrc_cert_key(const char *path, EVP_PKEY **out,
    struct certauth_reason *why);

void certauth_keysrc_free(struct certauth_keysrc *k);

#endif
