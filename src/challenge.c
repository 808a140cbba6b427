/*
 * challenge.c - the challenge string of docs/PROTOCOL.md, "The challenge":
 *   certauth:v1:<host>:<service>:<user>:<time>:<nonce>
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "certauth.h"
#include "challenge.h"

#define CHALLENGE_MAGIC	 "certauth:"
#define CHALLENGE_PREFIX CHALLENGE_MAGIC "v1:"

/* The bytes that pass unencoded; everything else, ':' included, is %XX. */
static int
pct_plain(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	    c == '@' || c == '+';
}

int
certauth_pct_encode(const char *in, char **out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s;
	size_t n = 0;
	char *buf = NULL, *p;

	*out = NULL;
	/* Not in the contract, but a crash in a login path is worse. */
	if (in == NULL)
		return CERTAUTH_ERR_FORMAT;
	for (s = (const unsigned char *)in; *s != '\0'; s++)
		n += pct_plain(*s) ? 1 : 3;
	if ((buf = malloc(n + 1)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	p = buf;
	for (s = (const unsigned char *)in; *s != '\0'; s++) {
		if (pct_plain(*s)) {
			*p++ = (char)*s;
			continue;
		}
		*p++ = '%';
		*p++ = hex[*s >> 4];
		*p++ = hex[*s & 0x0f];
	}
	*p = '\0';
	*out = buf;
	return 0;
}

const char *
certauth_pct_display(const char *decoded, const char *encoded)
{
	const unsigned char *s;

	for (s = (const unsigned char *)decoded; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return encoded;
	return decoded;
}

/*
 * base64url without padding of the nonce into out (CERTAUTH_NONCE_CHARS
 * + 1).  EVP_EncodeBlock writes the standard alphabet with padding, so
 * translate and cut.  Returns 0 or CERTAUTH_ERR_INTERNAL.
 */
static int
nonce_encode(const unsigned char nonce[CERTAUTH_NONCE_BYTES],
    char out[CERTAUTH_NONCE_CHARS + 1])
{
	unsigned char b64[4 * ((CERTAUTH_NONCE_BYTES + 2) / 3) + 1];
	int n, i, r = CERTAUTH_ERR_INTERNAL;

	n = EVP_EncodeBlock(b64, nonce, CERTAUTH_NONCE_BYTES);
	if (n != (int)sizeof(b64) - 1)
		goto out;
	for (i = 0; i < CERTAUTH_NONCE_CHARS; i++) {
		if (b64[i] == '+')
			out[i] = '-';
		else if (b64[i] == '/')
			out[i] = '_';
		else
			out[i] = (char)b64[i];
	}
	out[CERTAUTH_NONCE_CHARS] = '\0';
	r = 0;
out:
	explicit_bzero(b64, sizeof(b64));
	return r;
}

int
certauth_challenge_build(const char *host, const char *service,
    const char *user, time_t issued,
    const unsigned char nonce[CERTAUTH_NONCE_BYTES], char **out)
{
	char *h = NULL, *s = NULL, *u = NULL, *buf = NULL;
	char nb64[CERTAUTH_NONCE_CHARS + 1];
	size_t len;
	int n, r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	memset(nb64, 0, sizeof(nb64));
	if (host == NULL || service == NULL || user == NULL || nonce == NULL) {
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if ((r = certauth_pct_encode(host, &h)) != 0 ||
	    (r = certauth_pct_encode(service, &s)) != 0 ||
	    (r = certauth_pct_encode(user, &u)) != 0 ||
	    (r = nonce_encode(nonce, nb64)) != 0)
		goto out;
	/* 20 digits hold any 64-bit time, sign included; 5 colons, NUL. */
	len = strlen(CHALLENGE_PREFIX) + strlen(h) + strlen(s) + strlen(u) +
	    21 + CERTAUTH_NONCE_CHARS + 5;
	if ((buf = malloc(len)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	n = snprintf(buf, len, CHALLENGE_PREFIX "%s:%s:%s:%" PRIdMAX ":%s", h,
	    s, u, (intmax_t)issued, nb64);
	if (n < 0 || (size_t)n >= len) {
		r = CERTAUTH_ERR_INTERNAL;
		goto out;
	}
	*out = buf;
	buf = NULL;
	r = 0;
out:
	explicit_bzero(nb64, sizeof(nb64));
	free(h);
	free(s);
	free(u);
	free(buf);
	return r;
}

int
certauth_challenge_new(const char *host, const char *service, const char *user,
    time_t issued, char **out)
{
	unsigned char nonce[CERTAUTH_NONCE_BYTES];
	ssize_t n;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	/*
	 * The system CSPRNG itself, as docs/PROTOCOL.md, "The challenge",
	 * says: the kernel's generator, not OpenSSL's DRBG, whose setup in a
	 * fresh process (providers, seeding) would be most of a login's
	 * start-up.
	 */
	while ((n = getrandom(nonce, sizeof(nonce), 0)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(nonce))
		goto out;
	if ((r = certauth_challenge_build(host, service, user, issued, nonce,
		 out)) != 0)
		goto out;
	r = 0;
out:
	explicit_bzero(nonce, sizeof(nonce));
	return r;
}

int
certauth_pct_decode(const char *in, char **out)
{
	const char *s;
	char *buf = NULL, *p, *again = NULL;
	int hi, lo, r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if ((buf = malloc(strlen(in) + 1)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	for (s = in, p = buf; *s != '\0'; s++) {
		if (*s != '%') {
			*p++ = *s;
			continue;
		}
		if ((hi = OPENSSL_hexchar2int((unsigned char)s[1])) < 0 ||
		    (lo = OPENSSL_hexchar2int((unsigned char)s[2])) < 0 ||
		    (hi | lo) == 0) {
			r = CERTAUTH_ERR_FORMAT;
			goto out;
		}
		*p++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*p = '\0';
	if ((r = certauth_pct_encode(buf, &again)) != 0)
		goto out;
	if (*buf == '\0' || strcmp(again, in) != 0) {
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	*out = buf;
	buf = NULL;
	r = 0;
out:
	free(again);
	free(buf);
	return r;
}

/* The next ':'-terminated field of *p, copied; *p moves past the ':'.
 * 0, CERTAUTH_ERR_FORMAT (no ':' follows) or CERTAUTH_ERR_NOMEM. */
static int
next_field(const char **p, char **out)
{
	const char *colon = strchr(*p, ':');

	*out = NULL;
	if (colon == NULL)
		return CERTAUTH_ERR_FORMAT;
	if ((*out = strndup(*p, (size_t)(colon - *p))) == NULL)
		return CERTAUTH_ERR_NOMEM;
	*p = colon + 1;
	return 0;
}

/* Host, service or user: *enc as it stands, *dec decoded.  0, FORMAT
 * with a reason, or NOMEM. */
static int
name_field(const char **p, const char *what, char **enc, char **dec,
    struct certauth_reason *reason)
{
	int r;

	if ((r = next_field(p, enc)) == 0 &&
	    (r = certauth_pct_decode(*enc, dec)) == 0)
		return 0;
	if (r == CERTAUTH_ERR_FORMAT)
		certauth_reason_set(reason,
		    "the challenge's %s field is "
		    "missing, empty or not percent-encoded",
		    what);
	return r;
}

/*
 * The time field, spelt as "%jd" prints a time_t: one spelling a value,
 * so no empty field, no '+', no leading zero and no "-0".  0 or
 * CERTAUTH_ERR_FORMAT (also for a value no time_t holds).
 */
static int
parse_time(const char *s, time_t *out)
{
	intmax_t v = 0;
	int neg = *s == '-', d;

	s += neg;
	if (*s < '0' || *s > '9' || (*s == '0' && (s[1] != '\0' || neg)))
		return CERTAUTH_ERR_FORMAT;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return CERTAUTH_ERR_FORMAT;
		d = *s - '0';
		/* A negative value counts down, so INTMAX_MIN fits too. */
		if (neg ? v < (INTMAX_MIN + d) / 10 : v > (INTMAX_MAX - d) / 10)
			return CERTAUTH_ERR_FORMAT;
		v = neg ? v * 10 - d : v * 10 + d;
	}
	if ((intmax_t)(time_t)v != v)
		return CERTAUTH_ERR_FORMAT;
	*out = (time_t)v;
	return 0;
}

/*
 * The nonce field: exactly what nonce_encode writes for some 32 bytes,
 * which are put in nonce.  Re-encoding the decoded bytes and comparing
 * refuses a last character with stray low bits.  0 or
 * CERTAUTH_ERR_FORMAT.
 */
static int
parse_nonce(const char *s, unsigned char nonce[CERTAUTH_NONCE_BYTES])
{
	unsigned char b64[CERTAUTH_NONCE_CHARS + 2];
	unsigned char raw[CERTAUTH_NONCE_BYTES + 1];
	char again[CERTAUTH_NONCE_CHARS + 1];
	size_t i;
	char c;

	if (strlen(s) != CERTAUTH_NONCE_CHARS)
		return CERTAUTH_ERR_FORMAT;
	for (i = 0; i < CERTAUTH_NONCE_CHARS; i++) {
		c = s[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9')))
			return CERTAUTH_ERR_FORMAT;
		b64[i] = (unsigned char)c;
	}
	/* 43 characters and one '=' decode to the 32 bytes and a zero. */
	b64[CERTAUTH_NONCE_CHARS] = '=';
	b64[CERTAUTH_NONCE_CHARS + 1] = '\0';
	if (EVP_DecodeBlock(raw, b64, CERTAUTH_NONCE_CHARS + 1) !=
		CERTAUTH_NONCE_BYTES + 1 ||
	    nonce_encode(raw, again) != 0 || strcmp(again, s) != 0)
		return CERTAUTH_ERR_FORMAT;
	memcpy(nonce, raw, CERTAUTH_NONCE_BYTES);
	return 0;
}

int
certauth_challenge_parse(const char *text, struct certauth_challenge *out,
    struct certauth_reason *reason)
{
	struct certauth_challenge c;
	const char *p = text;
	char *t = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (text == NULL) {
		certauth_reason_set(reason, "no challenge");
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if (strnlen(text, CERTAUTH_CHALLENGE_MAX + 1) >
	    CERTAUTH_CHALLENGE_MAX) {
		certauth_reason_set(reason,
		    "the challenge is longer than %d "
		    "characters",
		    CERTAUTH_CHALLENGE_MAX);
		r = CERTAUTH_ERR_TOO_LONG;
		goto out;
	}
	if (strncmp(p, CHALLENGE_PREFIX, strlen(CHALLENGE_PREFIX)) != 0) {
		certauth_reason_set(reason, "%s",
		    strncmp(p, CHALLENGE_MAGIC, strlen(CHALLENGE_MAGIC)) == 0 ?
			"the challenge is of "
			"another protocol version than v1" :
			"not a certauth "
			"challenge");
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	p += strlen(CHALLENGE_PREFIX);
	if ((r = name_field(&p, "host", &c.host_enc, &c.host, reason)) != 0 ||
	    (r = name_field(&p, "service", &c.service_enc, &c.service,
		 reason)) != 0 ||
	    (r = name_field(&p, "user", &c.user_enc, &c.user, reason)) != 0)
		goto out;
	if ((r = next_field(&p, &t)) != 0 ||
	    (r = parse_time(t, &c.issued)) != 0) {
		if (r == CERTAUTH_ERR_FORMAT)
			certauth_reason_set(reason,
			    "the challenge's time field "
			    "is missing or not decimal seconds in range");
		goto out;
	}
	if ((r = parse_nonce(p, c.nonce)) != 0) {
		certauth_reason_set(reason,
		    "the challenge's nonce is not %d "
		    "base64url characters of %d bytes",
		    CERTAUTH_NONCE_CHARS, CERTAUTH_NONCE_BYTES);
		goto out;
	}
	*out = c;
	memset(&c, 0, sizeof(c));
	r = 0;
out:
	free(t);
	certauth_challenge_free(&c);
	return r;
}

void
certauth_challenge_free(struct certauth_challenge *c)
{
	if (c == NULL)
		return;
	free(c->host);
	free(c->service);
	free(c->user);
	free(c->host_enc);
	free(c->service_enc);
	free(c->user_enc);
	memset(c, 0, sizeof(*c));
}
