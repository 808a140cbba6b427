/*
 * fuzz_challenge.c - the challenge fields (challenge.h).  Input: 32 nonce
 * bytes, 8 bytes of issue time (big-endian, signed), then host, service
 * and user separated by NUL bytes; short inputs are zero-padded.
 *
 * Invariants: an encoded field holds only the plain bytes and %XX with
 * upper-case hex, so never a colon; decoding gives the field back, and a
 * decode that succeeds re-encodes to its input; what is displayed is
 * printable ASCII; the challenge has exactly seven colon-separated
 * fields, its own prefix, the encoded fields, the decimal time and the
 * nonce as 43 base64url characters that decode to the nonce bytes.
 *
 * The reader (certauth_challenge_parse): what the maker writes is read
 * back with the same fields, unless a field is empty or the challenge is
 * over CERTAUTH_CHALLENGE_MAX; and the whole input, read as a challenge,
 * is either refused or is exactly what the maker writes for the fields
 * read from it, so the reader takes one spelling of each challenge.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "certauth.h"
#include "challenge.h"
#include "fuzzutil.h"

#define PREFIX	"certauth:v1:"

static int
plain_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	    c == '@' || c == '+';
}

static int
upper_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* Encode field, check the form and the way back; returns the encoding. */
static char *
check_field(const char *field)
{
	const unsigned char *p;
	char *enc = NULL, *dec = NULL;
	const char *shown;
	int r;

	fz_assert(certauth_pct_encode(field, &enc) == 0);
	for (p = (const unsigned char *)enc; *p != '\0'; p++) {
		if (*p == '%') {
			fz_assert(upper_hex(p[1]) && upper_hex(p[2]));
			fz_assert(!plain_byte((unsigned char)(
			    OPENSSL_hexchar2int(p[1]) << 4 |
			    OPENSSL_hexchar2int(p[2]))));
			p += 2;
		} else
			fz_assert(plain_byte(*p));
	}
	r = certauth_pct_decode(enc, &dec);
	if (*field == '\0') {
		fz_assert(r == CERTAUTH_ERR_FORMAT && dec == NULL);
	} else {
		fz_assert(r == 0 && strcmp(dec, field) == 0);
		shown = certauth_pct_display(dec, enc);
		fz_assert(shown == dec || shown == enc);
		for (p = (const unsigned char *)shown; *p != '\0'; p++)
			fz_assert(*p >= 0x20 && *p <= 0x7e);
	}
	free(dec);
	return enc;
}

/* Any string as an encoded field: accepted only in its one spelling. */
static void
check_decode(const char *in)
{
	char *dec = NULL, *enc = NULL;
	int r;

	if ((r = certauth_pct_decode(in, &dec)) != 0) {
		fz_assert(r == CERTAUTH_ERR_FORMAT && dec == NULL);
		return;
	}
	fz_assert(*dec != '\0');
	fz_assert(certauth_pct_encode(dec, &enc) == 0);
	fz_assert(strcmp(enc, in) == 0);
	free(enc);
	free(dec);
}

static void
check_nonce(const char *b64, const unsigned char nonce[CERTAUTH_NONCE_BYTES])
{
	unsigned char std[CERTAUTH_NONCE_CHARS + 2], raw[CERTAUTH_NONCE_BYTES + 3];
	size_t i;

	fz_assert(strlen(b64) == CERTAUTH_NONCE_CHARS);
	for (i = 0; i < CERTAUTH_NONCE_CHARS; i++) {
		unsigned char c = (unsigned char)b64[i];

		fz_assert(c != '+' && c != '/' && c != '=');
		std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	std[CERTAUTH_NONCE_CHARS] = '=';
	std[CERTAUTH_NONCE_CHARS + 1] = '\0';
	fz_assert(EVP_DecodeBlock(raw, std, CERTAUTH_NONCE_CHARS + 1) ==
	    CERTAUTH_NONCE_BYTES + 1);
	fz_assert(memcmp(raw, nonce, CERTAUTH_NONCE_BYTES) == 0);
}

/* The maker's challenge c of these parts, read back. */
static void
check_read_back(const char *c, const char *host, const char *service,
    const char *user, time_t issued,
    const unsigned char nonce[CERTAUTH_NONCE_BYTES], char *const enc[3])
{
	struct certauth_challenge got;
	int r;

	r = certauth_challenge_parse(c, &got, NULL);
	if (*host == '\0' || *service == '\0' || *user == '\0') {
		fz_assert(r == CERTAUTH_ERR_FORMAT ||
		    r == CERTAUTH_ERR_TOO_LONG);
		return;
	}
	if (strlen(c) > CERTAUTH_CHALLENGE_MAX) {
		fz_assert(r == CERTAUTH_ERR_TOO_LONG);
		return;
	}
	fz_assert(r == 0);
	fz_assert(strcmp(got.host, host) == 0);
	fz_assert(strcmp(got.service, service) == 0);
	fz_assert(strcmp(got.user, user) == 0);
	fz_assert(strcmp(got.host_enc, enc[0]) == 0);
	fz_assert(strcmp(got.service_enc, enc[1]) == 0);
	fz_assert(strcmp(got.user_enc, enc[2]) == 0);
	fz_assert(got.issued == issued);
	fz_assert(memcmp(got.nonce, nonce, CERTAUTH_NONCE_BYTES) == 0);
	certauth_challenge_free(&got);
}

/* Any text as a challenge: refused, or the maker's own spelling. */
static void
check_parse(const char *text)
{
	struct certauth_challenge got;
	struct certauth_reason why;
	char *again = NULL;
	int r;

	if ((r = certauth_challenge_parse(text, &got, &why)) != 0) {
		fz_assert(r == CERTAUTH_ERR_FORMAT ||
		    r == CERTAUTH_ERR_TOO_LONG);
		fz_assert(got.host == NULL && got.user_enc == NULL);
		fz_assert(memchr(why.text, '\0', sizeof(why.text)) != NULL);
		return;
	}
	fz_assert(*got.host != '\0' && *got.service != '\0' &&
	    *got.user != '\0');
	fz_assert(certauth_challenge_build(got.host, got.service, got.user,
	    got.issued, got.nonce, &again) == 0);
	fz_assert(strcmp(again, text) == 0);
	free(again);
	certauth_challenge_free(&got);
}

static void
check_challenge(const char *host, const char *service, const char *user,
    time_t issued, const unsigned char nonce[CERTAUTH_NONCE_BYTES],
    char *const enc[3])
{
	char *c = NULL, *field[7], *p, when[32];
	size_t n = 0;

	fz_assert(certauth_challenge_build(host, service, user, issued,
	    nonce, &c) == 0);
	check_read_back(c, host, service, user, issued, nonce, enc);
	fz_assert(strncmp(c, PREFIX, strlen(PREFIX)) == 0);
	for (p = c; *p != '\0'; p++) {
		fz_assert(*p > 0x20 && *p < 0x7f);
		if (*p == ':') {
			fz_assert(n < 6);
			*p = '\0';
			field[++n] = p + 1;
		}
	}
	fz_assert(n == 6);
	fz_assert(strcmp(field[2], enc[0]) == 0);
	fz_assert(strcmp(field[3], enc[1]) == 0);
	fz_assert(strcmp(field[4], enc[2]) == 0);
	snprintf(when, sizeof(when), "%" PRIdMAX, (intmax_t)issued);
	fz_assert(strcmp(field[5], when) == 0);
	check_nonce(field[6], nonce);
	free(c);
	/* A missing field is refused, not a crash. */
	fz_assert(certauth_challenge_build(NULL, service, user, issued,
	    nonce, &c) == CERTAUTH_ERR_FORMAT && c == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char nonce[CERTAUTH_NONCE_BYTES], t[8];
	const char *fields[3] = { "", "", "" };
	char *text, *p, *enc[3] = { NULL, NULL, NULL };
	size_t i, n, rest;
	uint64_t u = 0;

	memset(nonce, 0, sizeof(nonce));
	memset(t, 0, sizeof(t));
	n = size < sizeof(nonce) ? size : sizeof(nonce);
	if (n > 0)
		memcpy(nonce, data, n);
	rest = size - n;
	if (rest > 0)
		memcpy(t, data + n, rest < sizeof(t) ? rest : sizeof(t));
	for (i = 0; i < sizeof(t); i++)
		u = u << 8 | t[i];
	n = size < sizeof(nonce) + sizeof(t) ? size : sizeof(nonce) + sizeof(t);
	/* The whole input, NUL bytes and all, as a pasted challenge. */
	text = fz_strndup(data, size);
	check_parse(text);
	free(text);
	text = fz_strndup(data + n, size - n);
	/* Split at NUL bytes: the copy's own NUL ends the last field. */
	p = text;
	for (i = 0; i < 3 && p <= text + (size - n); i++) {
		fields[i] = p;
		p += strlen(p) + 1;
	}
	for (i = 0; i < 3; i++) {
		enc[i] = check_field(fields[i]);
		check_decode(fields[i]);
	}
	check_challenge(fields[0], fields[1], fields[2], (time_t)(int64_t)u,
	    nonce, enc);
	for (i = 0; i < 3; i++)
		free(enc[i]);
	free(text);
	return 0;
}
