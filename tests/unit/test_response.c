/*
 * test_response.c - hostile and well-formed responses for
 * certauth_response_parse, and for certauth_response_parse_offer and
 * certauth_response_offer with a certificate after a '.'
 * (docs/PROTOCOL.md, "The response").
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "response.h"
#include "testutil.h"
#include "verify.h"

struct parsed {
	int r;
	int digest;
	unsigned char *sig;
	size_t siglen;
	struct certauth_reason reason;
};

static void
parse(const char *resp, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	p->digest = -42;
	p->sig = (unsigned char *)"sentinel";
	p->siglen = 99;
	p->r = certauth_response_parse(resp, &p->digest, &p->sig, &p->siglen,
	    &p->reason);
	if (p->r != 0) {
		/* A refusal hands nothing back and always says why. */
		assert_null(p->sig);
		assert_int_equal(p->siglen, 0);
		assert_true(p->reason.text[0] != '\0');
	}
}

static void
assert_refused(const char *resp, int want)
{
	struct parsed p;

	parse(resp, &p);
	if (p.r != want)
		fail_msg("\"%s\": got %d, want %d", resp, p.r, want);
}

static void
assert_decodes(const char *resp, int digest, const void *want, size_t len)
{
	struct parsed p;

	parse(resp, &p);
	if (p.r != 0)
		fail_msg("\"%s\": got %d (%s)", resp, p.r, p.reason.text);
	assert_int_equal(p.digest, digest);
	assert_int_equal(p.siglen, len);
	assert_memory_equal(p.sig, want, len);
	free(p.sig);
}

static char *
repeat(char c, size_t n, const char *suffix)
{
	char *s;

	assert_non_null(s = malloc(n + strlen(suffix) + 1));
	memset(s, c, n);
	strcpy(s + n, suffix);
	return s;
}

static char *
prefixed(const char *prefix, char c, size_t n)
{
	char *s;
	size_t plen = strlen(prefix);

	assert_non_null(s = malloc(plen + n + 1));
	memcpy(s, prefix, plen);
	memset(s + plen, c, n);
	s[plen + n] = '\0';
	return s;
}

static void
test_empty(void **state)
{
	(void)state;
	assert_refused("", CERTAUTH_ERR_FORMAT);
	assert_refused(" ", CERTAUTH_ERR_FORMAT);
	assert_refused(" \t\r\n \n", CERTAUTH_ERR_FORMAT);
	assert_refused("=", CERTAUTH_ERR_FORMAT);
	assert_refused("==", CERTAUTH_ERR_FORMAT);
	assert_refused(NULL, CERTAUTH_ERR_FORMAT);
}

static void
test_empty_reason(void **state)
{
	struct parsed p;

	(void)state;
	parse("  \n", &p);
	assert_string_equal(p.reason.text, "response holds no signature");
}

static void
test_length_limit(void **state)
{
	unsigned char zeros[3072];
	struct parsed p;
	char *s;

	(void)state;
	memset(zeros, 0, sizeof(zeros));
	/* 4096 characters: accepted and decoded. */
	s = repeat('A', 4096, "");
	assert_decodes(s, CERTAUTH_DIGEST_DEFAULT, zeros, sizeof(zeros));
	free(s);
	/* 4097: refused as too long, not as bad base64 (4097 % 4 == 1). */
	s = repeat('A', 4097, "");
	parse(s, &p);
	assert_int_equal(p.r, CERTAUTH_ERR_TOO_LONG);
	assert_string_equal(p.reason.text,
	    "response is 4097 characters, over the 4096 limit");
	free(s);
	/* Whitespace counts: the limit is on what arrived. */
	s = repeat('A', 4096, "\n");
	assert_refused(s, CERTAUTH_ERR_TOO_LONG);
	free(s);
	/* So does the prefix: "sha256:" and 4088 characters is 4095. */
	s = prefixed("sha256:", 'A', 4088);
	assert_decodes(s, CERTAUTH_DIGEST_SHA256, zeros, 3066);
	free(s);
	/* 4096 in all, 4089 base64 characters (1 mod 4): bad, not long. */
	s = prefixed("sha256:", 'A', 4089);
	assert_refused(s, CERTAUTH_ERR_FORMAT);
	free(s);
	s = prefixed("sha256:", 'A', 4090);
	assert_refused(s, CERTAUTH_ERR_TOO_LONG);
	free(s);
	s = repeat('A', 5000, "");
	parse(s, &p);
	assert_int_equal(p.r, CERTAUTH_ERR_TOO_LONG);
	assert_string_equal(p.reason.text,
	    "response is 5000 characters, over the 4096 limit");
	free(s);
	/* Garbage beyond the limit never reaches the decoder. */
	s = repeat('!', 100000, "");
	assert_refused(s, CERTAUTH_ERR_TOO_LONG);
	free(s);
}

static void
test_bad_characters(void **state)
{
	static const char *const bad[] = {
		"QUJD!",
		"QUJD*",
		"QUJD.",
		"QU,JD",
		"QUJD\x01",
		"\x7fQUJD",
		"QUJ\x1b",
		"QU\vJD",
		"QU\fJD",
		"QUJD\xc3\xa9",
		"\xff\xfe\xfd\xfc",
		"QUJD%3D",
		"QUJD\\",
		"\"QUJD\"",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_refused(bad[i], CERTAUTH_ERR_FORMAT);
	{
		struct parsed p;

		parse("QUJD\x01", &p);
		assert_string_equal(p.reason.text,
		    "response is not valid base64");
	}
}

static void
test_padding(void **state)
{
	(void)state;
	/* Optional, but exact when present. */
	assert_decodes("QQ", CERTAUTH_DIGEST_DEFAULT, "A", 1);
	assert_decodes("QQ==", CERTAUTH_DIGEST_DEFAULT, "A", 1);
	assert_decodes("QUI", CERTAUTH_DIGEST_DEFAULT, "AB", 2);
	assert_decodes("QUI=", CERTAUTH_DIGEST_DEFAULT, "AB", 2);
	assert_decodes("QUJD", CERTAUTH_DIGEST_DEFAULT, "ABC", 3);
	assert_decodes("QUJDRA", CERTAUTH_DIGEST_DEFAULT, "ABCD", 4);
	assert_decodes("QQ== \r\n", CERTAUTH_DIGEST_DEFAULT, "A", 1);
	assert_decodes("QQ= =", CERTAUTH_DIGEST_DEFAULT, "A", 1);
	assert_refused("QQ=", CERTAUTH_ERR_FORMAT);
	assert_refused("QQ===", CERTAUTH_ERR_FORMAT);
	assert_refused("QUI==", CERTAUTH_ERR_FORMAT);
	assert_refused("QUJD=", CERTAUTH_ERR_FORMAT);
	assert_refused("QUJD====", CERTAUTH_ERR_FORMAT);
	assert_refused("Q", CERTAUTH_ERR_FORMAT);
	assert_refused("Q===", CERTAUTH_ERR_FORMAT);
	assert_refused("QUJDR", CERTAUTH_ERR_FORMAT);
	/* '=' anywhere but the end. */
	assert_refused("QQ==QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused("QU=JD", CERTAUTH_ERR_FORMAT);
	assert_refused("=QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused("QUI=\nQ", CERTAUTH_ERR_FORMAT);
}

static void
test_alphabets(void **state)
{
	static const unsigned char bytes[] = { 0xfb, 0xff, 0xbf, 0xfb, 0xef };

	(void)state;
	assert_decodes("+/+/++8", CERTAUTH_DIGEST_DEFAULT, bytes,
	    sizeof(bytes));
	assert_decodes("+/+/++8=", CERTAUTH_DIGEST_DEFAULT, bytes,
	    sizeof(bytes));
	assert_decodes("-_-_--8", CERTAUTH_DIGEST_DEFAULT, bytes,
	    sizeof(bytes));
	assert_decodes("-_-_--8=", CERTAUTH_DIGEST_DEFAULT, bytes,
	    sizeof(bytes));
	/* One response, one alphabet. */
	assert_refused("+_-/--8", CERTAUTH_ERR_FORMAT);
	assert_refused("-/-/--8", CERTAUTH_ERR_FORMAT);
}

static void
test_whitespace_inside(void **state)
{
	(void)state;
	assert_decodes("QU JD\tRE\r\nVG", CERTAUTH_DIGEST_DEFAULT, "ABCDEF", 6);
	assert_decodes("\n\n  QUJD REVG  \n", CERTAUTH_DIGEST_DEFAULT, "ABCDEF",
	    6);
	assert_decodes("sha384: QUJD\nREVG", CERTAUTH_DIGEST_SHA384, "ABCDEF",
	    6);
	assert_decodes("sha512:\nQ U J D", CERTAUTH_DIGEST_SHA512, "ABC", 3);
}

#define WRAPPED_HINT \
	"the answer is 64 characters, one line of base64 wrapped at 64 " \
	"columns: it must be pasted on one line (openssl base64 -A)"

/* The hint for resp, or "" when its shape is fine. */
static const char *
shape_of(const char *resp)
{
	static struct certauth_reason hint;

	memset(&hint, 0, sizeof(hint));
	if (certauth_response_shape(resp, &hint) == 0) {
		assert_string_equal(hint.text, "");
		return "";
	}
	assert_true(hint.text[0] != '\0');
	return hint.text;
}

/* n bytes of base64 as `openssl base64 -A` prints them. */
static char *
b64_of(size_t n)
{
	unsigned char *raw;
	char *out;

	assert_non_null(raw = calloc(1, n + 1));
	assert_non_null(out = calloc(1, 4 * ((n + 2) / 3) + 1));
	assert_int_equal(RAND_bytes(raw, (int)n), 1);
	EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
	free(raw);
	return out;
}

/* An answer broken on its way is told from a wrong one by its shape. */
static void
test_shape_wrapped(void **state)
{
	char *s, line[80];

	(void)state;
	/* The first line of `openssl base64` without -A, whatever follows. */
	s = b64_of(256);
	snprintf(line, sizeof(line), "%.64s", s);
	assert_string_equal(shape_of(line), WRAPPED_HINT);
	snprintf(line, sizeof(line), "sha384:%.64s", s);
	assert_string_equal(shape_of(line), WRAPPED_HINT);
	snprintf(line, sizeof(line), "sha1:%.64s\r\n", s);
	assert_string_equal(shape_of(line), WRAPPED_HINT);
	snprintf(line, sizeof(line), "  %.64s  ", s);
	assert_string_equal(shape_of(line), WRAPPED_HINT);
	free(s);
	s = repeat('_', 64, "");
	assert_string_equal(shape_of(s), WRAPPED_HINT);
	free(s);
	/* One character more or less: 48 bytes, still no signature. */
	s = repeat('A', 65, "");
	assert_string_equal(shape_of(s),
	    "the answer is 65 characters of base64, 48 bytes, a length no "
	    "accepted signature has: if it was cut short or broken over "
	    "lines, paste it whole, on one line (openssl base64 -A)");
	free(s);
}

static void
test_shape_lengths(void **state)
{
	/* Every length an accepted signature has in practice: Ed25519,
	 * ECDSA P-256 (r and s of 31 to 33 bytes), P-384, Ed448, P-521,
	 * RSA-2048, RSA-3072, RSA-4096 and an odd RSA size. */
	static const size_t fine[] = { 64, 70, 71, 72, 66, 102, 103, 104, 98,
		114, 137, 138, 139, 133, 256, 257, 384, 512 };
	static const size_t broken[] = { 1, 12, 32, 63, 65, 73, 90, 97, 105,
		113, 115, 129, 132, 140, 200, 255 };
	char *s, want[CERTAUTH_REASON_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		s = b64_of(fine[i]);
		if (shape_of(s)[0] != '\0')
			fail_msg("%zu bytes: %s", fine[i], shape_of(s));
		free(s);
	}
	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		s = b64_of(broken[i]);
		/* Without its padding, as a cut answer arrives. */
		s[strcspn(s, "=")] = '\0';
		snprintf(want, sizeof(want),
		    "the answer is %zu characters of base64, %zu bytes, a "
		    "length no accepted signature has: if it was cut short or "
		    "broken over lines, paste it whole, on one line (openssl "
		    "base64 -A)",
		    strlen(s), broken[i]);
		if (strlen(s) != 64 && strcmp(shape_of(s), want) != 0)
			fail_msg("%zu bytes: \"%s\"", broken[i], shape_of(s));
		free(s);
	}
}

static void
test_shape_white_space(void **state)
{
	char *s, *two;

	(void)state;
	/* Two lines of a wrapped answer joined by a space: the bytes are
	 * there but not all of them, and the hint says so. */
	s = b64_of(256);
	assert_non_null(two = malloc(64 + 1 + 64 + 1));
	snprintf(two, 64 + 1 + 64 + 1, "%.64s %.64s", s, s + 64);
	assert_string_equal(shape_of(two),
	    "the answer is 128 characters of base64 with white space inside, "
	    "96 bytes, a length no accepted signature has: if it was cut "
	    "short or broken over lines, paste it whole, on one line (openssl "
	    "base64 -A)");
	/* White space inside a whole answer is ignored by the parser: its
	 * shape is fine. */
	snprintf(two, 64 + 1 + 64 + 1, "%.64s\n%.32s", s, s + 64);
	assert_string_equal(shape_of(two), "");
	free(two);
	free(s);
}

static void
test_shape_not_base64(void **state)
{
	char *s;

	(void)state;
	assert_string_equal(shape_of(NULL), "");
	assert_string_equal(shape_of(""), "");
	assert_string_equal(shape_of(" \r\n"), "");
	assert_string_equal(shape_of("!!not base64 at all!! $$$ ###"), "");
	assert_string_equal(shape_of("===="), "");
	/* 64 characters, one of them outside both alphabets. */
	s = repeat('A', 63, "*");
	assert_string_equal(shape_of(s), "");
	free(s);
	/* Over the length limit: refused as too long, no hint. */
	s = repeat('A', CERTAUTH_RESPONSE_MAX + 1, "");
	assert_string_equal(shape_of(s), "");
	free(s);
}

static void
test_prefixes(void **state)
{
	struct parsed p;

	(void)state;
	assert_decodes("QUJD", CERTAUTH_DIGEST_DEFAULT, "ABC", 3);
	assert_decodes("sha256:QUJD", CERTAUTH_DIGEST_SHA256, "ABC", 3);
	assert_decodes("sha384:QUJD", CERTAUTH_DIGEST_SHA384, "ABC", 3);
	assert_decodes("sha512:QUJD", CERTAUTH_DIGEST_SHA512, "ABC", 3);
	assert_decodes("sha256:-_-_--8", CERTAUTH_DIGEST_SHA256,
	    "\xfb\xff\xbf\xfb\xef", 5);

	parse("sha1:QUJD", &p);
	assert_int_equal(p.r, CERTAUTH_ERR_DIGEST_REFUSED);
	assert_string_equal(p.reason.text, "digest sha1 is not allowed");
	parse("md5:QUJD", &p);
	assert_int_equal(p.r, CERTAUTH_ERR_DIGEST_REFUSED);
	assert_string_equal(p.reason.text, "digest md5 is not allowed");
	assert_refused("sha224:QUJD", CERTAUTH_ERR_DIGEST_REFUSED);
	/* Refused before the body is looked at. */
	assert_refused("sha1:", CERTAUTH_ERR_DIGEST_REFUSED);
	assert_refused("md5:!!", CERTAUTH_ERR_DIGEST_REFUSED);

	/* Case-sensitive, exactly as the spec spells the names. */
	assert_refused("SHA256:QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused("Sha384:QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused("SHA1:QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused("sha3-256:QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused("sha:QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused("sha2566:QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused("sha25:QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused(" sha256:QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused("sha256 :QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused(":QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused("QUJD:", CERTAUTH_ERR_FORMAT);
	assert_refused("sha256:sha256:QUJD", CERTAUTH_ERR_FORMAT);
	assert_refused("sha256:QU:JD", CERTAUTH_ERR_FORMAT);
	assert_refused("\x01:QUJD", CERTAUTH_ERR_FORMAT);

	/* An unknown prefix is untrusted text: it must not reach the log. */
	parse("evil\nprefix:QUJD", &p);
	assert_int_equal(p.r, CERTAUTH_ERR_FORMAT);
	assert_null(strstr(p.reason.text, "evil"));
}

static void
test_prefix_empty_body(void **state)
{
	(void)state;
	assert_refused("sha256:", CERTAUTH_ERR_FORMAT);
	assert_refused("sha384: \t\r\n", CERTAUTH_ERR_FORMAT);
	assert_refused("sha512:==", CERTAUTH_ERR_FORMAT);
}

static void
test_long_prefix(void **state)
{
	char *s;

	(void)state;
	s = repeat('a', 4000, ":QUJD");
	assert_refused(s, CERTAUTH_ERR_FORMAT);
	free(s);
	s = repeat('a', 4091, ":QUJD"); /* 4096 in all */
	assert_refused(s, CERTAUTH_ERR_FORMAT);
	free(s);
	s = repeat('a', 4092, ":QUJD");
	assert_refused(s, CERTAUTH_ERR_TOO_LONG);
	free(s);
}

/* Random signatures of every size a key could produce, in every spelling
 * the spec allows, decode to the same bytes. */
static void
test_roundtrip(void **state)
{
	unsigned char raw[600];
	char b64[801], spaced[1700], *p;
	size_t len, i, j;
	int n;

	(void)state;
	for (len = 1; len <= sizeof(raw); len += (len < 80 ? 1 : 37)) {
		assert_int_equal(RAND_bytes(raw, (int)len), 1);
		n = EVP_EncodeBlock((unsigned char *)b64, raw, (int)len);
		assert_true(n > 0);
		assert_decodes(b64, CERTAUTH_DIGEST_DEFAULT, raw, len);
		/* Unpadded. */
		while (n > 0 && b64[n - 1] == '=')
			b64[--n] = '\0';
		assert_decodes(b64, CERTAUTH_DIGEST_DEFAULT, raw, len);
		/* Folded at 64 columns with CRLF, as PEM-minded tools do,
		 * and URL-safe. */
		for (i = 0, j = 0; b64[i] != '\0'; i++) {
			if (i > 0 && i % 64 == 0) {
				spaced[j++] = '\r';
				spaced[j++] = '\n';
			}
			spaced[j++] = b64[i] == '+' ? '-' :
			    b64[i] == '/'	    ? '_' :
						      b64[i];
		}
		spaced[j] = '\0';
		assert_decodes(spaced, CERTAUTH_DIGEST_DEFAULT, raw, len);
		/* And one flipped character breaks it or changes it. */
		p = b64 + n / 2;
		*p = *p == '!' ? 'A' : '!';
		assert_refused(b64, CERTAUTH_ERR_FORMAT);
	}
}

/* What a real client produces parses into the signature's bytes. */
static void
test_real_signature(void **state)
{
	EVP_PKEY *key = tu_keygen("P-256");
	char *b64 = tu_sign_b64(key, NULL, 0, "certauth:v1:h:s:u:1:x");
	unsigned char der[200];
	struct parsed p;
	int n;

	(void)state;
	n = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)strlen(b64));
	assert_true(n > 0);
	parse(b64, &p);
	assert_int_equal(p.r, 0);
	/* EVP_DecodeBlock counts the padding; the DER length is exact. */
	assert_true(p.siglen <= (size_t)n && p.siglen + 2 >= (size_t)n);
	assert_int_equal(p.sig[0], 0x30);
	assert_int_equal(p.sig[1] + 2, p.siglen);
	assert_memory_equal(p.sig, der, p.siglen);
	free(p.sig);
	free(b64);
	EVP_PKEY_free(key);
}

static void
test_null_reason(void **state)
{
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int digest = 0;

	(void)state;
	assert_int_equal(
	    certauth_response_parse("!!", &digest, &sig, &siglen, NULL),
	    CERTAUTH_ERR_FORMAT);
	assert_int_equal(
	    certauth_response_parse("sha1:QUJD", &digest, &sig, &siglen, NULL),
	    CERTAUTH_ERR_DIGEST_REFUSED);
	assert_int_equal(certauth_response_parse("sha384:QUJD", &digest, &sig,
			     &siglen, NULL),
	    0);
	assert_int_equal(digest, CERTAUTH_DIGEST_SHA384);
	assert_int_equal(siglen, 3);
	free(sig);
}

/* ------------------------------------------- a certificate after a '.' */

struct offered {
	int r;
	int digest;
	unsigned char *sig, *cert;
	size_t siglen, certlen;
	struct certauth_reason reason;
};

static void
parse_offer(const char *resp, struct offered *o)
{
	memset(o, 0, sizeof(*o));
	o->digest = -42;
	o->sig = o->cert = (unsigned char *)"sentinel";
	o->siglen = o->certlen = 99;
	o->r = certauth_response_parse_offer(resp, &o->digest, &o->sig,
	    &o->siglen, &o->cert, &o->certlen, &o->reason);
	if (o->r != 0) {
		/* A refusal hands nothing back and always says why. */
		assert_null(o->sig);
		assert_int_equal(o->siglen, 0);
		assert_null(o->cert);
		assert_int_equal(o->certlen, 0);
		assert_true(o->reason.text[0] != '\0');
	}
}

static void
offer_refused(const char *resp, int want, const char *reason)
{
	struct offered o;

	parse_offer(resp, &o);
	if (o.r != want)
		fail_msg("\"%s\": got %d, want %d", resp, o.r, want);
	if (reason != NULL)
		assert_string_equal(o.reason.text, reason);
}

static void
offered_free(struct offered *o)
{
	if (o->r != 0)
		return;
	free(o->sig);
	free(o->cert);
}

/* A real signature, the certificate offered after it: the line reads
 * back into the signature, the certificate's exact DER, and a signature
 * that verifies with that certificate's key. */
static void
offer_real(const char *type, int digest, const char *md)
{
	static const char c[] = "certauth:v1:h:sshd:alice:1:x";
	struct tu_cert_opts co = { "alice", -1, 30, 0, NULL, NULL, 0 };
	EVP_PKEY *key = tu_keygen(type);
	X509 *x = tu_make_cert(key, &co, NULL, NULL), *back;
	unsigned char *der = NULL, *raw = NULL;
	const unsigned char *p;
	char *b64 = tu_sign_b64(key, md, 0, c), *line = NULL;
	struct parsed plain;
	struct offered o;
	size_t rawlen;
	int derlen;

	assert_true((derlen = i2d_X509(x, &der)) > 0);
	/* The signature's bytes as the plain parser reads them. */
	parse(b64, &plain);
	assert_int_equal(plain.r, 0);
	rawlen = plain.siglen;
	raw = plain.sig;
	assert_int_equal(certauth_response_encode(digest, raw, rawlen, &line),
	    0);
	assert_int_equal(certauth_response_offer(&line, der, (size_t)derlen),
	    0);
	assert_int_equal(strlen(line),
	    strcspn(line, ".") + 1 + 4 * (((size_t)derlen + 2) / 3));
	assert_non_null(strchr(line, '.'));
	assert_null(strchr(strchr(line, '.') + 1, '.'));
	parse_offer(line, &o);
	if (o.r != 0)
		fail_msg("%s: got %d (%s)", line, o.r, o.reason.text);
	assert_int_equal(o.digest, digest);
	assert_int_equal(o.siglen, rawlen);
	assert_memory_equal(o.sig, raw, rawlen);
	assert_int_equal(o.certlen, derlen);
	assert_memory_equal(o.cert, der, (size_t)derlen);
	p = o.cert;
	assert_non_null(back = d2i_X509(NULL, &p, (long)o.certlen));
	assert_int_equal(certauth_verify_signature(X509_get0_pubkey(back),
			     o.digest, (const unsigned char *)c, strlen(c),
			     o.sig, o.siglen, NULL),
	    0);
	/* The plain parser refuses the line: '.' is no base64. */
	assert_refused(line, CERTAUTH_ERR_FORMAT);
	/* Nor is it judged as a broken signature. */
	assert_int_equal(certauth_response_shape(line, NULL), 0);
	{
		/* ... unless ssh or sudo cut it: 1023 characters */
		struct certauth_reason hint;
		char cut[1024];

		memset(cut, 'A', sizeof(cut) - 1);
		cut[100] = '.';
		cut[sizeof(cut) - 1] = '\0';
		assert_int_equal(certauth_response_shape(cut, &hint), 1);
		assert_non_null(strstr(hint.text, "1023 characters"));
		cut[1021] = '\0';
		assert_int_equal(certauth_response_shape(cut, &hint), 0);
	}
	X509_free(back);
	offered_free(&o);
	free(line);
	free(raw);
	free(b64);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void
test_offer_roundtrip(void **state)
{
	(void)state;
	offer_real("P-256", CERTAUTH_DIGEST_DEFAULT, NULL);
	offer_real("RSA:2048", CERTAUTH_DIGEST_DEFAULT, NULL);
	offer_real("ED25519", CERTAUTH_DIGEST_DEFAULT, NULL);
	/* A digest prefix stays in front of the signature. */
	offer_real("P-384", CERTAUTH_DIGEST_SHA384, "SHA384");
	offer_real("RSA:2048", CERTAUTH_DIGEST_SHA512, "SHA512");
}

static void
test_offer_spellings(void **state)
{
	struct offered o;

	(void)state;
	/* No '.': the signature alone, exactly as the plain parser. */
	parse_offer("sha384:QUJD", &o);
	assert_int_equal(o.r, 0);
	assert_int_equal(o.digest, CERTAUTH_DIGEST_SHA384);
	assert_int_equal(o.siglen, 3);
	assert_memory_equal(o.sig, "ABC", 3);
	assert_null(o.cert);
	assert_int_equal(o.certlen, 0);
	offered_free(&o);
	/* Either part may be unpadded, URL-safe, wrapped, its own way. */
	parse_offer("sha384:QQ.-_8", &o);
	assert_int_equal(o.r, 0);
	assert_int_equal(o.digest, CERTAUTH_DIGEST_SHA384);
	assert_int_equal(o.siglen, 1);
	assert_memory_equal(o.sig, "A", 1);
	assert_int_equal(o.certlen, 2);
	assert_memory_equal(o.cert, "\xfb\xff", 2);
	offered_free(&o);
	parse_offer("+/8=.QUJD\r\nRA==\n", &o);
	assert_int_equal(o.r, 0);
	assert_int_equal(o.digest, CERTAUTH_DIGEST_DEFAULT);
	assert_memory_equal(o.sig, "\xfb\xff", 2);
	assert_int_equal(o.certlen, 4);
	assert_memory_equal(o.cert, "ABCD", 4);
	offered_free(&o);
}

static void
test_offer_dots(void **state)
{
	static const char two[] = "response has more than one certificate part";

	(void)state;
	offer_refused("QUJD.QUJD.QUJD", CERTAUTH_ERR_FORMAT, two);
	offer_refused("QUJD..QUJD", CERTAUTH_ERR_FORMAT, two);
	offer_refused("QUJD.QUJD.", CERTAUTH_ERR_FORMAT, two);
	offer_refused("sha256:QUJD.QUJD.", CERTAUTH_ERR_FORMAT, two);
	offer_refused("QUJD...", CERTAUTH_ERR_FORMAT, two);
	/* Nothing before the '.' is no signature. */
	offer_refused(".QUJD", CERTAUTH_ERR_FORMAT,
	    "response holds no signature");
	offer_refused("sha384:.QUJD", CERTAUTH_ERR_FORMAT,
	    "response holds no signature");
	offer_refused(".", CERTAUTH_ERR_FORMAT, NULL);
	/* The prefix is read before the '.', never after it. */
	offer_refused("sha1:QUJD.QUJD", CERTAUTH_ERR_DIGEST_REFUSED,
	    "digest sha1 is not allowed");
	offer_refused("nope:QUJD.QUJD", CERTAUTH_ERR_FORMAT,
	    "response has an unknown digest prefix");
	offer_refused("QUJD.sha256:QUJD", CERTAUTH_ERR_FORMAT, NULL);
	/* A '.' inside what would be the prefix ends the signature. */
	offer_refused("sha.256:QUJD", CERTAUTH_ERR_FORMAT, NULL);
	/* A bad signature is refused for itself, certificate or not. */
	offer_refused("QUJ!.QUJD", CERTAUTH_ERR_FORMAT,
	    "response is not valid base64");
}

static void
test_offer_bad_certificate(void **state)
{
	static const char bad[] =
	    "the certificate after the signature is not valid base64";
	static const char *const cases[] = {
		"QUJD.",	/* empty */
		"QUJD. \t\r\n", /* white space alone */
		"QUJD.=",
		"QUJD.==",
		"QUJD.Q",
		"QUJD.QQ=",
		"QUJD.QUJD=",
		"QUJD.QQ==QUJD",
		"QUJD.QU!D",
		"QUJD.+-AA", /* two alphabets in the certificate */
		"QUJD.QUJD\x01",
		"QUJD.\xc3\xa9\xc3\xa9",
		"QUJD.QUJD:",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		offer_refused(cases[i], CERTAUTH_ERR_FORMAT, bad);
	/* Each part chooses its alphabet: these two are fine. */
	{
		struct offered o;

		parse_offer("+/8.-_8", &o);
		assert_int_equal(o.r, 0);
		offered_free(&o);
	}
}

static void
test_offer_length(void **state)
{
	unsigned char der[2815];
	struct offered o;
	char *line, *before;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(der); i++)
		der[i] = (unsigned char)(i * 7 + 1);
	/* 343 + 1 + 3752 (2814 bytes) = 4096: the longest line. */
	line = repeat('A', 343, "");
	assert_int_equal(certauth_response_offer(&line, der, 2814), 0);
	assert_int_equal(strlen(line), CERTAUTH_RESPONSE_MAX);
	parse_offer(line, &o);
	assert_int_equal(o.r, 0);
	assert_int_equal(o.siglen, 257);
	assert_int_equal(o.certlen, 2814);
	assert_memory_equal(o.cert, der, 2814);
	offered_free(&o);
	free(line);
	/* One byte more of certificate and the line would pass it:
	 * refused, the response left as it was. */
	line = repeat('A', 343, "");
	before = line;
	assert_int_equal(certauth_response_offer(&line, der, 2815),
	    CERTAUTH_ERR_TOO_LONG);
	assert_ptr_equal(line, before);
	assert_int_equal(strlen(line), 343);
	free(line);
	/* One character more of signature likewise. */
	line = repeat('A', 344, "");
	assert_int_equal(certauth_response_offer(&line, der, 2814),
	    CERTAUTH_ERR_TOO_LONG);
	assert_int_equal(strlen(line), 344);
	free(line);
	/* Nothing to offer is no certificate. */
	line = repeat('A', 4, "");
	assert_int_equal(certauth_response_offer(&line, der, 0),
	    CERTAUTH_ERR_TOO_LONG);
	assert_string_equal(line, "AAAA");
	free(line);
	/* The parser's limit is the whole line's too, prefix, '.' and
	 * white space counted: a short signature makes no room. */
	line = repeat('A', 4096, "");
	memcpy(line, "QUJD.", 5);
	parse_offer(line, &o);
	assert_int_equal(o.r, 0);
	assert_int_equal(o.certlen, 4091 / 4 * 3 + 2);
	offered_free(&o);
	free(line);
	line = repeat('A', 4097, "");
	memcpy(line, "QUJD.", 5);
	offer_refused(line, CERTAUTH_ERR_TOO_LONG,
	    "response is 4097 characters, over the 4096 limit");
	free(line);
	line = repeat('A', 4096, "\n");
	memcpy(line, "sha512:QUJD.", 12);
	offer_refused(line, CERTAUTH_ERR_TOO_LONG,
	    "response is 4097 characters, over the 4096 limit");
	free(line);
	/* Garbage after the '.' beyond the limit is never decoded. */
	line = repeat('!', 100000, "");
	memcpy(line, "QUJD.", 5);
	offer_refused(line, CERTAUTH_ERR_TOO_LONG, NULL);
	free(line);
}

/* Bytes of the certificate that are zero stay in it: the line holds no
 * NUL, and the certificate comes back by its length. */
static void
test_offer_nul_free(void **state)
{
	unsigned char der[100];
	struct offered o;
	char *line;
	size_t i;

	(void)state;
	memset(der, 0, sizeof(der));
	der[50] = 0x30;
	line = repeat('A', 8, "");
	assert_int_equal(certauth_response_offer(&line, der, sizeof(der)), 0);
	assert_int_equal(strlen(line), 8 + 1 + 4 * 34);
	for (i = 0; i < strlen(line); i++)
		assert_non_null(strchr(
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/=.",
		    line[i]));
	parse_offer(line, &o);
	assert_int_equal(o.r, 0);
	assert_int_equal(o.certlen, sizeof(der));
	assert_memory_equal(o.cert, der, sizeof(der));
	assert_int_equal(o.siglen, 6);
	offered_free(&o);
	free(line);
	/* A NUL ends the line: what follows it is never read. */
	offer_refused("QUJD.\0QUJD", CERTAUTH_ERR_FORMAT,
	    "the certificate after the signature is not valid base64");
}

static void
test_offer_null_reason(void **state)
{
	unsigned char *sig = NULL, *cert = NULL;
	size_t siglen = 0, certlen = 0;
	int digest = 0;

	(void)state;
	assert_int_equal(certauth_response_parse_offer("QUJD.!", &digest, &sig,
			     &siglen, &cert, &certlen, NULL),
	    CERTAUTH_ERR_FORMAT);
	assert_int_equal(certauth_response_parse_offer("QUJD.Q.", &digest, &sig,
			     &siglen, &cert, &certlen, NULL),
	    CERTAUTH_ERR_FORMAT);
	assert_int_equal(certauth_response_parse_offer(NULL, &digest, &sig,
			     &siglen, &cert, &certlen, NULL),
	    CERTAUTH_ERR_FORMAT);
	assert_int_equal(certauth_response_parse_offer("sha512:QUJD.QQ",
			     &digest, &sig, &siglen, &cert, &certlen, NULL),
	    0);
	assert_int_equal(digest, CERTAUTH_DIGEST_SHA512);
	assert_int_equal(certlen, 1);
	free(sig);
	free(cert);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_empty_reason),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_bad_characters),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_alphabets),
		cmocka_unit_test(test_whitespace_inside),
		cmocka_unit_test(test_shape_wrapped),
		cmocka_unit_test(test_shape_lengths),
		cmocka_unit_test(test_shape_white_space),
		cmocka_unit_test(test_shape_not_base64),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_prefix_empty_body),
		cmocka_unit_test(test_long_prefix),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_real_signature),
		cmocka_unit_test(test_null_reason),
		cmocka_unit_test(test_offer_roundtrip),
		cmocka_unit_test(test_offer_spellings),
		cmocka_unit_test(test_offer_dots),
		cmocka_unit_test(test_offer_bad_certificate),
		cmocka_unit_test(test_offer_length),
		cmocka_unit_test(test_offer_nul_free),
		cmocka_unit_test(test_offer_null_reason),
	};

	return cmocka_run_group_tests_name("response", tests, NULL, NULL);
}
