/*
 * The key source "pkcs11": a private key on a PKCS#11 token, named by an
 * RFC 7512 URI (include/p11token.h), which also turns the token's
 * signature into the form the module reads.  The PIN is asked once and
 * wiped.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "keysrc.h"
#include "p11token.h"

#define PIN_MAX_BYTES 256
#define MODULE_ENV    "CERTAUTH_PKCS11_MODULE"

struct p11_state {
	struct certauth_p11token *tok;
	char *cert_path; /* NULL: the token gave the public key */
	int unchecked;	 /* the public key is the certificate's alone */
};

/*
 * The PIN into pin: from the URI's pin-source (a file, or a file: URI),
 * else --pass-file, else asked once.  Returns 0 with *len, or a
 * CERTAUTH_ERR_* code with why set.
 */
static int
get_pin(const struct certauth_keysrc_spec *spec, struct certauth_p11token *tok,
    char *pin, size_t size, size_t *len, struct certauth_reason *why)
{
	const struct certauth_secret_ask *a = &spec->ask;
	const char *src = certauth_p11token_pin_source(tok);
	struct certauth_reason asked = { "", 0 };
	char prompt[128];
	int n;

	if (src != NULL)
		return certauth_keysrc_read_secret(
		    strncmp(src, "file:", 5) == 0 ? src + 5 : src, pin, size,
		    len, why);
	if (spec->pass_file != NULL)
		return certauth_keysrc_read_secret(spec->pass_file, pin, size,
		    len, why);
	if (a->ask == NULL) {
		certauth_reason_set(why,
		    "token '%s' needs its PIN and there is no one to ask",
		    certauth_p11token_label(tok));
		return CERTAUTH_ERR_CONV;
	}
	snprintf(prompt, sizeof(prompt),
	    "PIN for token '%s': ", certauth_p11token_label(tok));
	if ((n = a->ask(a->arg, prompt, pin, size, &asked)) < 0) {
		certauth_reason_set(why, "token '%s' needs its PIN and %s",
		    certauth_p11token_label(tok), asked.text);
		return CERTAUTH_ERR_CONV;
	}
	*len = (size_t)n;
	return 0;
}

/* Log in if the token wants it, the PIN wiped after.  0 or error. */
static int
log_in(const struct certauth_keysrc_spec *spec, struct certauth_p11token *tok,
    struct certauth_reason *why)
{
	char pin[PIN_MAX_BYTES];
	size_t len = 0;
	int need = 0, r;

	if ((r = certauth_p11token_prepare_login(tok, &need, why)) != 0 ||
	    !need)
		return r;
	if ((r = get_pin(spec, tok, pin, sizeof(pin), &len, why)) == 0)
		r = certauth_p11token_login(tok, pin, len, why);
	explicit_bzero(pin, sizeof(pin));
	return r;
}

static void
pkcs11_close(void *state)
{
	struct p11_state *st = state;

	if (st == NULL)
		return;
	certauth_p11token_close(st->tok);
	free(st->cert_path);
	free(st);
}

static int
pkcs11_open(const struct certauth_keysrc_spec *spec, void **state,
    EVP_PKEY **pub, struct certauth_reason *why)
{
	struct p11_state *st = NULL;
	EVP_PKEY *want = NULL;
	int r = CERTAUTH_ERR_NOMEM;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (spec->cert_path != NULL &&
		(st->cert_path = strdup(spec->cert_path)) == NULL)) {
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	if ((spec->cert_path != NULL &&
		(r = certauth_keysrc_cert_key(spec->cert_path, &want, why)) !=
		    0) ||
	    (r = certauth_p11token_open(spec->key, getenv(MODULE_ENV), &st->tok,
		 why)) != 0 ||
	    (r = log_in(spec, st->tok, why)) != 0 ||
	    (r = certauth_p11token_find_key(st->tok, want, spec->cert_path, pub,
		 &st->unchecked, why)) != 0)
		goto out;
	*state = st;
	st = NULL;
	r = 0;
out:
	pkcs11_close(st);
	EVP_PKEY_free(want);
	ERR_clear_error();
	return r;
}

/* Whether sig over msg verifies with pub, as the module will check it. */
static int
pair_holds(EVP_PKEY *pub, const EVP_MD *md, int pss, const unsigned char *msg,
    size_t len, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int id = EVP_PKEY_get_base_id(pub), ok = 0;

	if (ctx != NULL &&
	    EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pub) == 1 &&
	    (!(pss && id == EVP_PKEY_RSA) ||
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0))
		ok = EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

static int
pkcs11_sign(void *state, EVP_PKEY *pub, const EVP_MD *md, int pss,
    const unsigned char *msg, size_t len, unsigned char **sig, size_t *siglen,
    struct certauth_reason *why)
{
	struct p11_state *st = state;
	int r;

	*sig = NULL;
	if ((r = certauth_p11token_sign_message(st->tok, pub, md, pss, msg, len,
		 sig, siglen, why)) != 0)
		return r;
	if (!st->unchecked)
		return 0;
	if (!pair_holds(pub, md, pss, msg, len, *sig, *siglen)) {
		certauth_reason_set(why,
		    "the key on token '%s' does not belong to the certificate "
		    "%s",
		    certauth_p11token_label(st->tok), st->cert_path);
		free(*sig);
		*sig = NULL;
		return CERTAUTH_ERR_KEY_REFUSED;
	}
	st->unchecked = 0;
	return 0;
}

const struct certauth_keysrc_ops certauth_keysrc_pkcs11 = {
	"pkcs11",
	pkcs11_open,
	pkcs11_sign,
	pkcs11_close,
	NULL,
};
