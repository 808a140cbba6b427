/*
 * Key sources: the one way the signing tools turn a key, wherever it
 * lives, into an answer.  The source signs; this file checks the key
 * against the protocol, encodes the response line and verifies it as the
 * module will before anyone sees it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "certutil.h"
#include "digest.h"
#include "keysrc.h"
#include "response.h"
#include "verify.h"

struct certauth_keysrc {
	const struct certauth_keysrc_ops *ops;
	void *state;
	EVP_PKEY *pub;
};

/* The kind of source spec->key names. */
static const struct certauth_keysrc_ops *
kind_of(const char *key)
{
	if (strcmp(key, "agent") == 0)
		return &certauth_keysrc_agent;
	if (strncmp(key, "pkcs11:", 7) == 0)
		return &certauth_keysrc_pkcs11;
	return &certauth_keysrc_file;
}

int
certauth_keysrc_open(const struct certauth_keysrc_spec *spec,
    struct certauth_keysrc **out, struct certauth_reason *why)
{
	struct certauth_keysrc *k = NULL;
	struct certauth_reason kr;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if (spec->key == NULL || spec->key[0] == '\0') {
		certauth_reason_set(why, "no key given");
		r = CERTAUTH_ERR_CONFIG;
		goto out;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	k->ops = kind_of(spec->key);
	if ((r = k->ops->open(spec, &k->state, &k->pub, why)) != 0)
		goto out;
	if ((r = certauth_key_check(k->pub, &kr)) != 0) {
		certauth_reason_set(why, "key refused: %s", kr.text);
		goto out;
	}
	*out = k;
	k = NULL;
	r = 0;
out:
	certauth_keysrc_free(k);
	ERR_clear_error();
	return r;
}

EVP_PKEY *
certauth_keysrc_public(const struct certauth_keysrc *k)
{
	return k->pub;
}

const char *
certauth_keysrc_kind(const struct certauth_keysrc *k)
{
	return k->ops->name;
}

void
certauth_keysrc_free(struct certauth_keysrc *k)
{
	if (k == NULL)
		return;
	if (k->state != NULL)
		k->ops->close(k->state);
	EVP_PKEY_free(k->pub);
	free(k);
}

static int
is_eddsa(EVP_PKEY *pkey)
{
	int id = EVP_PKEY_get_base_id(pkey);

	return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448;
}

/* The response parsed and verified with the public key, as the module
 * will.  Returns 0 or a CERTAUTH_ERR_* code with why set. */
static int
self_check(EVP_PKEY *pub, const char *c, const char *resp,
    struct certauth_reason *why)
{
	struct certauth_reason bad;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int digest = CERTAUTH_DIGEST_DEFAULT, r;

	if ((r = certauth_response_parse(resp, &digest, &sig, &siglen, &bad)) ==
	    0)
		r = certauth_verify_signature(pub, digest,
		    (const unsigned char *)c, strlen(c), sig, siglen, &bad);
	if (r != 0)
		certauth_reason_set(why,
		    "self-check failed, not printing the response: %s",
		    bad.text);
	free(sig);
	ERR_clear_error();
	return r;
}

int
certauth_keysrc_respond(struct certauth_keysrc *k, int digest, int pss,
    const char *c, char **response, struct certauth_reason *why)
{
	const EVP_MD *md = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *resp = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	*response = NULL;
	if (k->ops->digest != NULL &&
	    (r = k->ops->digest(k->state, k->pub, digest, pss, &digest, why)) !=
		0)
		goto out;
	if (!is_eddsa(k->pub) && (md = certauth_digest_md(digest)) == NULL) {
		certauth_reason_set(why, "no such digest");
		r = CERTAUTH_ERR_INTERNAL;
		goto out;
	}
	if ((r = k->ops->sign(k->state, k->pub, md, pss,
		 (const unsigned char *)c, strlen(c), &sig, &siglen, why)) != 0)
		goto out;
	if ((r = certauth_response_encode(digest, sig, siglen, &resp)) != 0) {
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	if ((r = self_check(k->pub, c, resp, why)) != 0)
		goto out;
	*response = resp;
	resp = NULL;
	r = 0;
out:
	free(resp);
	free(sig);
	ERR_clear_error();
	return r;
}

int
certauth_keysrc_load_cert(const char *path, X509 **out,
    struct certauth_reason *why)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	int r = CERTAUTH_ERR_IO;

	*out = NULL;
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		certauth_reason_set(why, "cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((x = PEM_read_bio_X509(bio, NULL, certauth_pem_no_passphrase,
		 NULL)) == NULL &&
	    (BIO_reset(bio) != 0 || (x = d2i_X509_bio(bio, NULL)) == NULL)) {
		certauth_reason_set(why, "%s holds no certificate", path);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	*out = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

int
certauth_keysrc_cert_key(const char *path, EVP_PKEY **out,
    struct certauth_reason *why)
{
	X509 *x = NULL;
	int r;

	*out = NULL;
	if ((r = certauth_keysrc_load_cert(path, &x, why)) != 0)
		return r;
	if ((*out = X509_get_pubkey(x)) == NULL) {
		certauth_reason_set(why, "cannot read the public key of %s",
		    path);
		r = CERTAUTH_ERR_FORMAT;
	}
	X509_free(x);
	ERR_clear_error();
	return r;
}

/*
 * line read back as the rules source reads it: the certificate part is
 * der exactly, and the signature verifies with that certificate's key.
 * Returns 0 or a CERTAUTH_ERR_* code with why set.
 */
static int
offer_check(X509 *x, const unsigned char *der, size_t derlen, const char *c,
    const char *line, struct certauth_reason *why)
{
	struct certauth_reason bad;
	unsigned char *sig = NULL, *got = NULL;
	size_t siglen = 0, gotlen = 0;
	int digest = CERTAUTH_DIGEST_DEFAULT, r;

	if ((r = certauth_response_parse_offer(line, &digest, &sig, &siglen,
		 &got, &gotlen, &bad)) == 0 &&
	    (got == NULL || gotlen != derlen ||
		memcmp(got, der, derlen) != 0)) {
		certauth_reason_set(&bad, "the certificate does not read back");
		r = CERTAUTH_ERR_INTERNAL;
	}
	if (r == 0)
		r = certauth_verify_signature(X509_get0_pubkey(x), digest,
		    (const unsigned char *)c, strlen(c), sig, siglen, &bad);
	if (r != 0)
		certauth_reason_set(why,
		    "self-check failed, not printing the response: %s",
		    bad.text);
	free(sig);
	free(got);
	ERR_clear_error();
	return r;
}

int
certauth_keysrc_offer(struct certauth_keysrc *k, const char *cert_path,
    const char *c, char **response, struct certauth_reason *why)
{
	unsigned char *der = NULL;
	char *line = NULL;
	X509 *x = NULL;
	size_t derlen = 0;
	int n, r = CERTAUTH_ERR_INTERNAL;

	if ((r = certauth_keysrc_load_cert(cert_path, &x, why)) != 0)
		goto out;
	/* The rules source verifies with the offered certificate's key. */
	if (EVP_PKEY_eq(X509_get0_pubkey(x), k->pub) != 1) {
		certauth_reason_set(why,
		    "the key does not belong to the certificate %s: the "
		    "server would refuse it",
		    cert_path);
		r = CERTAUTH_ERR_CONFIG;
		goto out;
	}
	if ((n = i2d_X509(x, &der)) <= 0) {
		certauth_reason_set(why, "cannot encode the certificate %s",
		    cert_path);
		r = CERTAUTH_ERR_INTERNAL;
		goto out;
	}
	derlen = (size_t)n;
	if ((line = strdup(*response)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	if ((r = certauth_response_offer(&line, der, derlen)) ==
	    CERTAUTH_ERR_TOO_LONG) {
		certauth_reason_set(why,
		    "the certificate %s is too big to offer: with it the "
		    "answer would be %zu characters, over the %d a response "
		    "may have",
		    cert_path, strlen(line) + 1 + 4 * ((derlen + 2) / 3),
		    CERTAUTH_RESPONSE_MAX);
		goto out;
	}
	if (r != 0) {
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	if ((r = offer_check(x, der, derlen, c, line, why)) != 0)
		goto out;
	free(*response);
	*response = line;
	line = NULL;
	r = 0;
out:
	free(line);
	OPENSSL_free(der);
	X509_free(x);
	ERR_clear_error();
	return r;
}
