/*
 * Key sources: the one way the signing tools turn a key, wherever it
 * lives, into an answer.  The source signs; this file checks the key
 * against the protocol, encodes the response line and verifies it as the
 * module will before anyone sees it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certauth.h"
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
