/*
 * The key source "file": a private key in a PEM file (traditional or
 * PKCS#8), encrypted or not.  The passphrase comes from a file, or is
 * asked for through the caller's way of asking (a terminal, an askpass
 * program), once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "keysrc.h"

/* PEM_BUFSIZE: the most a PEM passphrase callback is given. */
#define PASS_MAX_BYTES 1024

/* A passphrase from a file, or none yet: ask. */
struct pass_ctx {
	const struct certauth_keysrc_spec *spec;
	const char *pass;
	size_t len;
	int given;  /* a passphrase was handed to OpenSSL */
	int failed; /* none could be had; why says why */
	struct certauth_reason *why;
};

int
certauth_keysrc_read_secret(const char *path, char *buf, size_t size,
    size_t *len, struct certauth_reason *why)
{
	size_t got = 0;
	ssize_t n;
	char *nl = NULL;
	int fd = -1, r = CERTAUTH_ERR_IO;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		certauth_reason_set(why, "cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	while (got < size && (nl = memchr(buf, '\n', got)) == NULL) {
		if ((n = read(fd, buf + got, size - got)) < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			certauth_reason_set(why, "cannot read %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (nl == NULL && (nl = memchr(buf, '\n', got)) == NULL) {
		if (got == size) {
			certauth_reason_set(why,
			    "the passphrase in %s is longer than %zu bytes",
			    path, size - 1);
			r = CERTAUTH_ERR_TOO_LONG;
			goto out;
		}
		nl = buf + got;
	}
	*len = (size_t)(nl - buf);
	if (*len > 0 && buf[*len - 1] == '\r')
		(*len)--;
	explicit_bzero(buf + *len, size - *len);
	r = 0;
out:
	if (r != 0)
		explicit_bzero(buf, size);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Ask the person through the caller's way of asking.  Length or -1. */
static int
ask_person(struct pass_ctx *pc, char *buf, int size)
{
	const struct certauth_secret_ask *a = &pc->spec->ask;
	char prompt[300];
	int n;

	if (a->ask == NULL) {
		certauth_reason_set(pc->why,
		    "%s is encrypted and there is no one to ask its "
		    "passphrase",
		    pc->spec->key);
		pc->failed = 1;
		return -1;
	}
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", pc->spec->key);
	if ((n = a->ask(a->arg, prompt, buf, (size_t)size, pc->why)) < 0) {
		pc->failed = 1;
		return -1;
	}
	pc->given = 1;
	return n;
}

/* PEM passphrase callback; OpenSSL wipes buf after use. */
static int
pass_cb(char *buf, int size, int rwflag, void *arg)
{
	struct pass_ctx *pc = arg;

	(void)rwflag;
	/* OpenSSL may call again for another decoder: ask only once. */
	if (size <= 0 || pc->failed)
		return -1;
	if (pc->pass == NULL)
		return ask_person(pc, buf, size);
	if (pc->len >= (size_t)size) {
		certauth_reason_set(pc->why, "passphrase is too long");
		pc->failed = 1;
		return -1;
	}
	memcpy(buf, pc->pass, pc->len);
	pc->given = 1;
	return (int)pc->len;
}

/* The public half alone, so that checks see what a certificate holds. */
static int
public_half(EVP_PKEY *pkey, EVP_PKEY **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int len;

	if ((len = i2d_PUBKEY(pkey, &der)) <= 0)
		return CERTAUTH_ERR_INTERNAL;
	p = der;
	*out = d2i_PUBKEY(NULL, &p, len);
	OPENSSL_free(der);
	return *out != NULL ? 0 : CERTAUTH_ERR_INTERNAL;
}

static int
file_open(const struct certauth_keysrc_spec *spec, void **state, EVP_PKEY **pub,
    struct certauth_reason *why)
{
	char pass[PASS_MAX_BYTES], err[CERTAUTH_REASON_MAX];
	struct pass_ctx pc = { spec, NULL, 0, 0, 0, why };
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	int r = CERTAUTH_ERR_IO;

	if (spec->pass_file != NULL) {
		if ((r = certauth_keysrc_read_secret(spec->pass_file, pass,
			 sizeof(pass), &pc.len, why)) != 0)
			goto out;
		pc.pass = pass;
	}
	if ((bio = BIO_new_file(spec->key, "r")) == NULL) {
		certauth_reason_set(why, "cannot open %s: %s", spec->key,
		    strerror(errno));
		r = CERTAUTH_ERR_IO;
		goto out;
	}
	if ((pkey = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &pc)) == NULL) {
		certauth_ossl_reason(err, sizeof(err), "unknown error");
		if (pc.given)
			certauth_reason_set(why,
			    "cannot decrypt %s: wrong passphrase? (%s)",
			    spec->key, err);
		else if (!pc.failed)
			certauth_reason_set(why,
			    "cannot load a PEM private key from %s: %s",
			    spec->key, err);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if ((r = public_half(pkey, pub)) != 0) {
		certauth_reason_set(why, "cannot extract the public key of %s",
		    spec->key);
		goto out;
	}
	*state = pkey;
	pkey = NULL;
	r = 0;
out:
	explicit_bzero(pass, sizeof(pass));
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

static int
is_rsa(EVP_PKEY *pkey)
{
	int id = EVP_PKEY_get_base_id(pkey);

	return id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS;
}

/* RSA padding on pctx: PSS (salt as long as the digest) or PKCS#1 v1.5. */
static int
set_rsa_padding(EVP_PKEY_CTX *pctx, const EVP_MD *md, int pss)
{
	if (EVP_PKEY_CTX_set_rsa_padding(pctx,
		pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) <= 0)
		return -1;
	if (pss &&
	    (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <=
		    0 ||
		EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0))
		return -1;
	return 0;
}

/* Sign msg: md NULL is pure EdDSA; an RSA-PSS-only key always uses PSS. */
static int
file_sign(void *state, EVP_PKEY *pub, const EVP_MD *md, int pss,
    const unsigned char *msg, size_t msglen, unsigned char **sig,
    size_t *siglen, struct certauth_reason *why)
{
	EVP_PKEY *pkey = state;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *buf = NULL;
	char err[CERTAUTH_REASON_MAX];
	size_t len = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	(void)pub;
	*sig = NULL;
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA_PSS)
		pss = 1;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey) != 1 ||
	    (is_rsa(pkey) && set_rsa_padding(pctx, md, pss) != 0) ||
	    EVP_DigestSign(ctx, NULL, &len, msg, msglen) != 1)
		goto out;
	if ((buf = malloc(len)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestSign(ctx, buf, &len, msg, msglen) != 1)
		goto out;
	*sig = buf;
	*siglen = len;
	buf = NULL;
	r = 0;
out:
	if (r == CERTAUTH_ERR_NOMEM)
		certauth_reason_set(why, "cannot sign: %s",
		    certauth_strerror(r));
	else if (r != 0) {
		certauth_ossl_reason(err, sizeof(err), "signing failed");
		certauth_reason_set(why, "cannot sign: %s", err);
	}
	free(buf);
	EVP_MD_CTX_free(ctx);
	return r;
}

static void
file_close(void *state)
{
	EVP_PKEY_free(state);
}

const struct certauth_keysrc_ops certauth_keysrc_file = {
	"file",
	file_open,
	file_sign,
	file_close,
	NULL,
};
