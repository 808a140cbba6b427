/*
 * The key source "pkcs11": a private key on a PKCS#11 token, named by an
 * RFC 7512 URI (include/p11token.h).  The challenge is hashed here and
 * the token signs the hash with the plainest mechanism of its key type
 * (CKM_RSA_PKCS over a DigestInfo, CKM_RSA_PKCS_PSS, CKM_ECDSA), which
 * smart cards offer more often than the hash-and-sign ones; Ed25519
 * signs the challenge itself (CKM_EDDSA).  ECDSA's raw r||s becomes the
 * DER SEQUENCE the module reads.  The PIN is asked once and wiped.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
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

/* The PKCS#11 hash and MGF1 mechanisms of md; 0 or -1. */
static int
pss_params(const EVP_MD *md, CK_RSA_PKCS_PSS_PARAMS *p)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha256:
		*p = (CK_RSA_PKCS_PSS_PARAMS){ CKM_SHA256, CKG_MGF1_SHA256,
			32 };
		return 0;
	case NID_sha384:
		*p = (CK_RSA_PKCS_PSS_PARAMS){ CKM_SHA384, CKG_MGF1_SHA384,
			48 };
		return 0;
	case NID_sha512:
		*p = (CK_RSA_PKCS_PSS_PARAMS){ CKM_SHA512, CKG_MGF1_SHA512,
			64 };
		return 0;
	}
	return -1;
}

/* DigestInfo { md, h } (PKCS#1 v1.5), malloc'd into *out.  0 or -1. */
static int
digest_info(const EVP_MD *md, const unsigned char *h, unsigned int hlen,
    unsigned char **out, size_t *outlen)
{
	X509_SIG *xs = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_OCTET_STRING *dig = NULL;
	unsigned char *der = NULL, *p;
	int len = -1;

	*out = NULL;
	if ((xs = X509_SIG_new()) == NULL)
		goto out;
	X509_SIG_getm(xs, &alg, &dig);
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL,
		NULL) != 1 ||
	    ASN1_OCTET_STRING_set(dig, h, (int)hlen) != 1 ||
	    (len = i2d_X509_SIG(xs, NULL)) <= 0 ||
	    (der = malloc((size_t)len)) == NULL)
		goto out;
	p = der;
	if (i2d_X509_SIG(xs, &p) != len)
		goto out;
	*out = der;
	*outlen = (size_t)len;
	der = NULL;
out:
	free(der);
	X509_SIG_free(xs);
	return *out != NULL ? 0 : -1;
}

/* ECDSA's r||s as the DER SEQUENCE { r, s } (malloc'd).  0 or -1. */
static int
ecdsa_der(const unsigned char *raw, size_t len, unsigned char **out,
    size_t *outlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL, *p;
	int n = -1;

	*out = NULL;
	if (len == 0 || len % 2 != 0 || (es = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(raw, (int)(len / 2), NULL)) == NULL ||
	    (s = BN_bin2bn(raw + len / 2, (int)(len / 2), NULL)) == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;
	if ((n = i2d_ECDSA_SIG(es, NULL)) <= 0 ||
	    (der = malloc((size_t)n)) == NULL)
		goto out;
	p = der;
	if (i2d_ECDSA_SIG(es, &p) != n)
		goto out;
	*out = der;
	*outlen = (size_t)n;
	der = NULL;
out:
	free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return *out != NULL ? 0 : -1;
}

/* What the token is given for an RSA or EC key: mech and *in (malloc'd). */
static int
hashed_input(EVP_PKEY *pub, const EVP_MD *md, int pss, const unsigned char *h,
    unsigned int hlen, CK_MECHANISM *mech, CK_RSA_PKCS_PSS_PARAMS *pp,
    unsigned char **in, size_t *inlen)
{
	int id = EVP_PKEY_get_base_id(pub);
	size_t order_bytes;

	if (id == EVP_PKEY_EC) {
		/* ECDSA uses the hash's leftmost bits, as many as the
		 * order has; P-256 and P-384 orders are whole bytes. */
		order_bytes = (size_t)(EVP_PKEY_get_bits(pub) + 7) / 8;
		*mech = (CK_MECHANISM){ CKM_ECDSA, NULL, 0 };
		*inlen = hlen < order_bytes ? hlen : order_bytes;
		if ((*in = malloc(*inlen)) == NULL)
			return -1;
		memcpy(*in, h, *inlen);
		return 0;
	}
	if (pss || id == EVP_PKEY_RSA_PSS) {
		if (pss_params(md, pp) != 0)
			return -1;
		*mech = (CK_MECHANISM){ CKM_RSA_PKCS_PSS, pp, sizeof(*pp) };
		*inlen = hlen;
		if ((*in = malloc(hlen)) == NULL)
			return -1;
		memcpy(*in, h, hlen);
		return 0;
	}
	*mech = (CK_MECHANISM){ CKM_RSA_PKCS, NULL, 0 };
	return digest_info(md, h, hlen, in, inlen);
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

/* The token's signature, in the form the module reads.  0 or error. */
static int
token_sign(struct p11_state *st, EVP_PKEY *pub, const EVP_MD *md, int pss,
    const unsigned char *msg, size_t len, unsigned char **sig, size_t *siglen,
    struct certauth_reason *why)
{
	unsigned char h[EVP_MAX_MD_SIZE], *in = NULL, *raw = NULL;
	unsigned int hlen = 0;
	size_t inlen = 0, rawlen = 0;
	CK_MECHANISM mech;
	CK_RSA_PKCS_PSS_PARAMS pp;
	int id = EVP_PKEY_get_base_id(pub), r = CERTAUTH_ERR_INTERNAL;

	if (id == EVP_PKEY_ED25519) {
		mech = (CK_MECHANISM){ CKM_EDDSA, NULL, 0 };
		r = certauth_p11token_sign(st->tok, &mech, msg, len, sig,
		    siglen, why);
		goto out;
	}
	if (id == EVP_PKEY_ED448) {
		certauth_reason_set(why,
		    "Ed448 keys on a token are not "
		    "supported");
		r = CERTAUTH_ERR_KEY_REFUSED;
		goto out;
	}
	if (EVP_Digest(msg, len, h, &hlen, md, NULL) != 1 ||
	    hashed_input(pub, md, pss, h, hlen, &mech, &pp, &in, &inlen) != 0) {
		certauth_reason_set(why, "cannot prepare the data to sign");
		goto out;
	}
	if (id != EVP_PKEY_EC) {
		r = certauth_p11token_sign(st->tok, &mech, in, inlen, sig,
		    siglen, why);
		goto out;
	}
	if ((r = certauth_p11token_sign(st->tok, &mech, in, inlen, &raw,
		 &rawlen, why)) != 0)
		goto out;
	if (ecdsa_der(raw, rawlen, sig, siglen) != 0) {
		certauth_reason_set(why,
		    "token '%s' returned an ECDSA signature of odd length %zu",
		    certauth_p11token_label(st->tok), rawlen);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	r = 0;
out:
	explicit_bzero(h, sizeof(h));
	free(in);
	free(raw);
	ERR_clear_error();
	return r;
}

static int
pkcs11_sign(void *state, EVP_PKEY *pub, const EVP_MD *md, int pss,
    const unsigned char *msg, size_t len, unsigned char **sig, size_t *siglen,
    struct certauth_reason *why)
{
	struct p11_state *st = state;
	int r;

	*sig = NULL;
	if ((r = token_sign(st, pub, md, pss, msg, len, sig, siglen, why)) != 0)
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
