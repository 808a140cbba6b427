/*
 * response.c - parsing the client's answer, docs/PROTOCOL.md,
 * "The response":
 *   R = [<digest> ":"] base64(signature) ["." base64(certificate)]
 *
 * Decisions beyond the spec's wording:
 * - Digest prefixes are matched case-sensitively, lower-case only, exactly
 *   as the spec spells them ("sha256", "sha384", "sha512").
 * - "sha1", "md5" and "sha224" name real digests the spec does not allow:
 *   CERTAUTH_ERR_DIGEST_REFUSED.  Any other prefix is CERTAUTH_ERR_FORMAT.
 * - One response uses one alphabet: mixing '+' or '/' with '-' or '_' is
 *   CERTAUTH_ERR_FORMAT.
 * - Padding is optional, but when present it must be exactly what the
 *   length calls for and nothing but whitespace may follow it.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "certauth.h"
#include "digest.h"
#include "response.h"

/* Split off "<digest>:" if present.  *body points past it. */
static int
parse_prefix(const char *resp, int *digest, const char **body,
    struct certauth_reason *reason)
{
	const char *colon;
	int d;

	*digest = CERTAUTH_DIGEST_DEFAULT;
	*body = resp;
	/* ':' is outside both base64 alphabets, so it can only end a prefix. */
	if ((colon = strchr(resp, ':')) == NULL)
		return 0;
	d = certauth_digest_from_name(resp, (size_t)(colon - resp));
	if (d == CERTAUTH_ERR_DIGEST_REFUSED) {
		/* A name from the table, matched exactly: safe to log. */
		certauth_reason_set(reason, "digest %.*s is not allowed",
		    (int)(colon - resp), resp);
		return d;
	}
	if (d < 0) {
		/* The prefix is untrusted: never copy it into a log line. */
		certauth_reason_set(reason,
		    "response has an unknown digest prefix");
		return CERTAUTH_ERR_FORMAT;
	}
	*digest = d;
	*body = colon + 1;
	return 0;
}

static int
is_b64_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Copy the base64 characters of body into clean (size len + 1) in the
 * standard alphabet, dropping whitespace, and re-pad to a multiple of 4.
 * Returns 0 with *cleanlen and *npad, or CERTAUTH_ERR_FORMAT with a reason.
 */
static int
clean_b64(const char *body, char *clean, size_t *cleanlen, size_t *npad,
    struct certauth_reason *reason)
{
	size_t ndata = 0, pad_seen = 0, want;
	int saw_std = 0, saw_url = 0;
	const char *p;
	char c;

	for (p = body; *p != '\0'; p++) {
		c = *p;
		if (is_b64_space(c))
			continue;
		if (c == '=') {
			pad_seen++;
			continue;
		}
		if (pad_seen > 0)
			goto bad; /* data after '=' */
		if (c == '-' || c == '_') {
			saw_url = 1;
			c = c == '-' ? '+' : '/';
		} else if (c == '+' || c == '/')
			saw_std = 1;
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9')))
			goto bad;
		clean[ndata++] = c;
	}
	if (ndata == 0 && pad_seen == 0) {
		certauth_reason_set(reason, "response holds no signature");
		return CERTAUTH_ERR_FORMAT;
	}
	/* One leftover character cannot encode a byte. */
	if ((saw_std && saw_url) || ndata == 0 || ndata % 4 == 1)
		goto bad;
	want = (4 - ndata % 4) % 4;
	if (pad_seen != 0 && pad_seen != want)
		goto bad;
	memset(clean + ndata, '=', want);
	clean[ndata + want] = '\0';
	*cleanlen = ndata + want;
	*npad = want;
	return 0;
bad:
	certauth_reason_set(reason, "response is not valid base64");
	return CERTAUTH_ERR_FORMAT;
}

/*
 * Decode the base64 of body (len characters at most, as checked by the
 * caller) into *raw (malloc'd) of *rawlen bytes.  Returns 0 or
 * CERTAUTH_ERR_FORMAT / _NOMEM with the reason.
 */
static int
decode_b64(const char *body, size_t len, unsigned char **raw, size_t *rawlen,
    struct certauth_reason *reason)
{
	char *clean = NULL;
	unsigned char *out = NULL;
	size_t cleanlen = 0, npad = 0, outlen = 0;
	int n, r = CERTAUTH_ERR_INTERNAL;

	/* Re-padding adds at most 3 characters to what remains. */
	if ((clean = malloc(len + 4)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = clean_b64(body, clean, &cleanlen, &npad, reason)) != 0)
		goto out;
	outlen = cleanlen / 4 * 3;
	if ((out = malloc(outlen)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	/* EVP_DecodeBlock counts padding as zero bytes: subtract it. */
	n = EVP_DecodeBlock(out, (const unsigned char *)clean, (int)cleanlen);
	if (n < 0 || (size_t)n != outlen || outlen <= npad) {
		ERR_clear_error();
		certauth_reason_set(reason, "response is not valid base64");
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	*rawlen = outlen - npad;
	*raw = out;
	out = NULL;
	r = 0;
out:
	free(clean);
	certauth_freezero(out, outlen);
	return r;
}

/* The limit comes first: nothing else may look at a huge input. */
static int
check_length(const char *resp, size_t *len, struct certauth_reason *reason)
{
	if (resp == NULL) {
		certauth_reason_set(reason, "no response");
		return CERTAUTH_ERR_FORMAT;
	}
	if ((*len = strnlen(resp, CERTAUTH_RESPONSE_MAX + 1)) >
	    CERTAUTH_RESPONSE_MAX) {
		certauth_reason_set(reason,
		    "response is %zu characters, over the %d limit",
		    strlen(resp), CERTAUTH_RESPONSE_MAX);
		return CERTAUTH_ERR_TOO_LONG;
	}
	return 0;
}

int
certauth_response_parse(const char *resp, int *digest, unsigned char **sig,
    size_t *siglen, struct certauth_reason *reason)
{
	const char *body = NULL;
	size_t len = 0;
	int d = CERTAUTH_DIGEST_DEFAULT, r;

	*sig = NULL;
	*siglen = 0;
	if ((r = check_length(resp, &len, reason)) != 0 ||
	    (r = parse_prefix(resp, &d, &body, reason)) != 0 ||
	    (r = decode_b64(body, len, sig, siglen, reason)) != 0)
		return r;
	*digest = d;
	return 0;
}

int
certauth_response_parse_offer(const char *resp, int *digest,
    unsigned char **sig, size_t *siglen, unsigned char **cert, size_t *certlen,
    struct certauth_reason *reason)
{
	const char *dot;
	char *head = NULL;
	size_t len = 0;
	int r;

	*cert = NULL;
	*certlen = 0;
	*sig = NULL;
	*siglen = 0;
	if ((r = check_length(resp, &len, reason)) != 0)
		return r;
	/* '.' is outside both base64 alphabets: it can only end the
	 * signature. */
	if ((dot = strchr(resp, '.')) == NULL)
		return certauth_response_parse(resp, digest, sig, siglen,
		    reason);
	if ((head = strndup(resp, (size_t)(dot - resp))) == NULL)
		return CERTAUTH_ERR_NOMEM;
	r = certauth_response_parse(head, digest, sig, siglen, reason);
	free(head);
	if (r != 0)
		return r;
	if (strchr(dot + 1, '.') != NULL) {
		certauth_reason_set(reason,
		    "response has more than one certificate part");
		r = CERTAUTH_ERR_FORMAT;
	} else if ((r = decode_b64(dot + 1, len, cert, certlen, reason)) != 0 &&
	    r != CERTAUTH_ERR_NOMEM) {
		certauth_reason_set(reason,
		    "the certificate after the signature is not valid "
		    "base64");
	}
	if (r != 0) {
		free(*sig);
		*sig = NULL;
		*siglen = 0;
	}
	return r;
}

int
certauth_response_offer(char **response, const unsigned char *der,
    size_t derlen)
{
	size_t have = strlen(*response), want;
	char *buf;

	want = have + 1 + 4 * ((derlen + 2) / 3);
	if (derlen == 0 || want > CERTAUTH_RESPONSE_MAX)
		return CERTAUTH_ERR_TOO_LONG;
	if ((buf = realloc(*response, want + 1)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	buf[have] = '.';
	EVP_EncodeBlock((unsigned char *)buf + have + 1, der, (int)derlen);
	*response = buf;
	return 0;
}

/*
 * The lengths a DER ECDSA signature of each accepted curve has, but for
 * a chance below about 2^-32: r and s lose a leading byte each time their
 * top eight bits are zero.
 */
static const struct {
	size_t lo, hi;
} sig_lengths[] = {
	{ 66, 72 },   /* ECDSA P-256; Ed25519 (64) is checked apart */
	{ 98, 104 },  /* ECDSA P-384 */
	{ 114, 114 }, /* Ed448 */
	{ 133, 139 }, /* ECDSA P-521 */
};

/* RSA signatures are as long as the modulus: 2048 bits at least. */
#define RSA_SIG_MIN 256
#define ED25519_SIG 64
/* What ssh and sudo keep of a longer answer. */
#define CUT_AT 1023
/* One line of `openssl base64` without -A. */
#define WRAP_COLUMNS 64

/* Whether a signature of an accepted key can be n bytes long. */
static bool
plausible_length(size_t n)
{
	size_t i;

	if (n == ED25519_SIG || n >= RSA_SIG_MIN)
		return true;
	for (i = 0; i < sizeof(sig_lengths) / sizeof(sig_lengths[0]); i++)
		if (n >= sig_lengths[i].lo && n <= sig_lengths[i].hi)
			return true;
	return false;
}

static bool
is_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' ||
	    c == '_';
}

/*
 * Count the base64 characters of body, and whether white space stands
 * between two of them.  false when body holds anything else but '='.
 */
static bool
count_b64(const char *body, size_t *ndata, bool *gap)
{
	bool space = false;
	const char *p;

	*ndata = 0;
	*gap = false;
	for (p = body; *p != '\0'; p++) {
		if (is_b64_space(*p)) {
			space = *ndata > 0;
			continue;
		}
		if (*p == '=')
			continue;
		if (!is_b64_char(*p))
			return false;
		if (space)
			*gap = true;
		space = false;
		(*ndata)++;
	}
	return *ndata > 0;
}

int
certauth_response_shape(const char *resp, struct certauth_reason *hint)
{
	const char *colon, *body;
	size_t ndata = 0, bytes;
	bool gap = false;

	if (resp == NULL ||
	    strnlen(resp, CERTAUTH_RESPONSE_MAX + 1) > CERTAUTH_RESPONSE_MAX)
		return 0;
	/* An answer with a certificate is judged by its length alone. */
	if (strchr(resp, '.') != NULL) {
		if (strlen(resp) != CUT_AT)
			return 0;
		certauth_reason_set(hint,
		    "the answer is %d characters, where ssh and sudo cut a "
		    "longer one: the certificate it offers is too big for "
		    "them (an EC or Ed25519 certificate fits)",
		    CUT_AT);
		return 1;
	}
	colon = strchr(resp, ':');
	body = colon != NULL ? colon + 1 : resp;
	if (!count_b64(body, &ndata, &gap))
		return 0;
	bytes = ndata / 4 * 3 + (ndata % 4 > 1 ? ndata % 4 - 1 : 0);
	if (ndata == WRAP_COLUMNS && !gap) {
		certauth_reason_set(hint,
		    "the answer is %d characters, one line of base64 wrapped "
		    "at %d columns: it must be pasted on one line (openssl "
		    "base64 -A)",
		    WRAP_COLUMNS, WRAP_COLUMNS);
		return 1;
	}
	if (plausible_length(bytes))
		return 0;
	certauth_reason_set(hint,
	    "the answer is %zu characters of base64%s, %zu bytes, a length "
	    "no accepted signature has: if it was cut short or broken over "
	    "lines, paste it whole, on one line (openssl base64 -A)",
	    ndata, gap ? " with white space inside" : "", bytes);
	return 1;
}

int
certauth_response_encode(int digest, const unsigned char *sig, size_t siglen,
    char **out)
{
	const char *name = NULL;
	size_t plen = 0;
	char *buf;

	/* No prefix means SHA-256: the shortest answer that says it. */
	if (digest != CERTAUTH_DIGEST_DEFAULT &&
	    digest != CERTAUTH_DIGEST_SHA256) {
		if ((name = certauth_digest_name(digest)) == NULL)
			return CERTAUTH_ERR_INTERNAL;
		plen = strlen(name) + 1;
	}
	if (siglen > CERTAUTH_RESPONSE_MAX)
		return CERTAUTH_ERR_TOO_LONG;
	if ((buf = malloc(plen + 4 * ((siglen + 2) / 3) + 1)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	if (name != NULL) {
		memcpy(buf, name, plen - 1);
		buf[plen - 1] = ':';
	}
	EVP_EncodeBlock((unsigned char *)buf + plen, sig, (int)siglen);
	*out = buf;
	return 0;
}
