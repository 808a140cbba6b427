/*
 * test_challenge.c - the challenge string of docs/PROTOCOL.md,
 * "The challenge":
 * percent-encoding of the fields, the exact layout, and the nonce; and
 * reading a challenge back, against hostile text.
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

#include "certauth.h"
#include "challenge.h"
#include "testutil.h"

#define T_TIME	((time_t)1790000000)

/* Independent statement of the spec's plain set. */
static int
spec_plain(int c)
{
	return strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-@+", c) != NULL;
}

static char *
enc(const char *in)
{
	char *out = NULL;

	assert_int_equal(certauth_pct_encode(in, &out), 0);
	assert_non_null(out);
	return out;
}

static void
assert_enc(const char *in, const char *want)
{
	char *out = enc(in);

	assert_string_equal(out, want);
	free(out);
}

/* Every byte value 1..255 on its own: either itself or %XX upper-case. */
static void
test_pct_every_byte(void **state)
{
	char in[2], want[4];
	int c;

	(void)state;
	for (c = 1; c < 256; c++) {
		in[0] = (char)c;
		in[1] = '\0';
		if (spec_plain(c))
			snprintf(want, sizeof(want), "%c", c);
		else
			snprintf(want, sizeof(want), "%%%02X", c);
		assert_enc(in, want);
	}
}

static void
test_pct_classes(void **state)
{
	(void)state;
	assert_enc("", "");
	assert_enc("ABCXYZabcxyz0189", "ABCXYZabcxyz0189");
	assert_enc("a.b_c-d@e+f", "a.b_c-d@e+f");
	assert_enc("a:b", "a%3Ab");
	assert_enc("a b", "a%20b");
	assert_enc("100%", "100%25");
	assert_enc("a/b\\c", "a%2Fb%5Cc");
	assert_enc("tab\there", "tab%09here");
	assert_enc("\r\n\x01\x1f\x7f", "%0D%0A%01%1F%7F");
	/* UTF-8 is encoded byte by byte, upper-case hex. */
	assert_enc("j\xc3\xb6rg", "j%C3%B6rg");
	assert_enc("\xe2\x82\xac", "%E2%82%AC");
	assert_enc("\xff\xfe", "%FF%FE");
	assert_enc("DOMAIN\\user name", "DOMAIN%5Cuser%20name");
}

static void
test_pct_null(void **state)
{
	char *out = (char *)state;

	assert_int_equal(certauth_pct_encode(NULL, &out),
	    CERTAUTH_ERR_FORMAT);
	assert_null(out);
}

static void
test_build_exact(void **state)
{
	unsigned char nonce[CERTAUTH_NONCE_BYTES];
	char *c = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (unsigned char)i;
	assert_int_equal(certauth_challenge_build("host1", "sshd", "alice",
	    T_TIME, nonce, &c), 0);
	assert_string_equal(c, "certauth:v1:host1:sshd:alice:1790000000:"
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
	free(c);
}

/* Bytes whose standard base64 is '+' and '/' must come out as '-' '_'. */
static void
test_build_urlsafe_nonce(void **state)
{
	unsigned char nonce[CERTAUTH_NONCE_BYTES];
	char *c = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < 30; i++)
		nonce[i] = (unsigned char[]){ 0xfb, 0xef, 0xbe }[i % 3];
	nonce[30] = nonce[31] = 0xff;
	assert_int_equal(certauth_challenge_build("h", "s", "u", 0, nonce,
	    &c), 0);
	assert_string_equal(c, "certauth:v1:h:s:u:0:"
	    "----------------------------------------__8");
	free(c);
}

static void
test_build_encodes_fields(void **state)
{
	unsigned char nonce[CERTAUTH_NONCE_BYTES];
	char *c = NULL;
	const char *p;
	int colons = 0;

	(void)state;
	memset(nonce, 0, sizeof(nonce));
	assert_int_equal(certauth_challenge_build("web:1 x", "su\n",
	    "j\xc3\xb6rg:\x01 \x7f", 42, nonce, &c), 0);
	assert_string_equal(c, "certauth:v1:web%3A1%20x:su%0A:"
	    "j%C3%B6rg%3A%01%20%7F:42:"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	/* Pure printable ASCII, no space, exactly the six separators. */
	for (p = c; *p != '\0'; p++) {
		assert_true(*p > ' ' && *p < 0x7f);
		if (*p == ':')
			colons++;
	}
	assert_int_equal(colons, 6);
	free(c);
}

static void
test_build_empty_fields(void **state)
{
	unsigned char nonce[CERTAUTH_NONCE_BYTES];
	char *c = NULL;

	(void)state;
	memset(nonce, 0xff, sizeof(nonce));
	assert_int_equal(certauth_challenge_build("", "", "", 7, nonce, &c),
	    0);
	assert_string_equal(c, "certauth:v1::::7:"
	    "__________________________________________8");
	free(c);
}

static void
test_build_null_field(void **state)
{
	unsigned char nonce[CERTAUTH_NONCE_BYTES];
	char *c = (char *)state;

	memset(nonce, 0, sizeof(nonce));
	assert_int_equal(certauth_challenge_build(NULL, "s", "u", 1, nonce,
	    &c), CERTAUTH_ERR_FORMAT);
	assert_null(c);
	c = (char *)state;
	assert_int_equal(certauth_challenge_build("h", NULL, "u", 1, nonce,
	    &c), CERTAUTH_ERR_FORMAT);
	assert_null(c);
	c = (char *)state;
	assert_int_equal(certauth_challenge_build("h", "s", NULL, 1, nonce,
	    &c), CERTAUTH_ERR_FORMAT);
	assert_null(c);
	c = (char *)state;
	assert_int_equal(certauth_challenge_build("h", "s", "u", 1, NULL,
	    &c), CERTAUTH_ERR_FORMAT);
	assert_null(c);
	c = (char *)state;
	assert_int_equal(certauth_challenge_new("h", "s", NULL, 1, &c),
	    CERTAUTH_ERR_FORMAT);
	assert_null(c);
}

/* The nonce field of a fresh challenge: 43 base64url characters. */
static const char *
nonce_of(const char *c, const char *prefix)
{
	size_t plen = strlen(prefix), i;
	const char *n;

	assert_true(strncmp(c, prefix, plen) == 0);
	n = c + plen;
	assert_int_equal(strlen(n), CERTAUTH_NONCE_CHARS);
	for (i = 0; i < CERTAUTH_NONCE_CHARS; i++) {
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_", n[i]));
	}
	/* 32 bytes leave 4 bits in the last character: they must be 0. */
	assert_non_null(strchr("AEIMQUYcgkosw048", n[42]));
	return n;
}

static void
test_new_nonce(void **state)
{
	const char *prefix = "certauth:v1:host%201:sshd:al%3Aice:1790000000:";
	char *a = NULL, *b = NULL, *many[32];
	int i, j;

	(void)state;
	assert_int_equal(certauth_challenge_new("host 1", "sshd", "al:ice",
	    T_TIME, &a), 0);
	assert_int_equal(certauth_challenge_new("host 1", "sshd", "al:ice",
	    T_TIME, &b), 0);
	/* Same fields, different nonces. */
	assert_string_not_equal(nonce_of(a, prefix), nonce_of(b, prefix));
	free(a);
	free(b);
	/* And never the same twice over a run of fresh challenges. */
	for (i = 0; i < 32; i++) {
		assert_int_equal(certauth_challenge_new("h", "s", "u", 0,
		    &many[i]), 0);
		nonce_of(many[i], "certauth:v1:h:s:u:0:");
		for (j = 0; j < i; j++)
			assert_string_not_equal(many[i], many[j]);
	}
	for (i = 0; i < 32; i++)
		free(many[i]);
}

static void
test_large_time(void **state)
{
	unsigned char nonce[CERTAUTH_NONCE_BYTES];
	char *c = NULL;

	(void)state;
	memset(nonce, 0, sizeof(nonce));
	assert_int_equal(certauth_challenge_build("h", "s", "u",
	    (time_t)4102444800LL, nonce, &c), 0);
	assert_non_null(strstr(c, ":u:4102444800:"));
	free(c);
}

static void
test_pct_decode(void **state)
{
	static const char *refused[] = {
		"", "%", "%4", "%4G", "%00", "%41", "%2f", "a b", "a:b", "%%",
	};
	static const char *names[] = {
		"alice", "ren\xc3\xa9", "eve:x y", "a/b", "%", "\x01\x7f",
	};
	char *enc = NULL, *dec = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(certauth_pct_encode(names[i], &enc), 0);
		assert_int_equal(certauth_pct_decode(enc, &dec), 0);
		assert_string_equal(dec, names[i]);
		free(enc);
		free(dec);
	}
	/* only the encoder's own output has a meaning */
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		dec = NULL;
		if (certauth_pct_decode(refused[i], &dec) != CERTAUTH_ERR_FORMAT)
			fail_msg("decoded '%s'", refused[i]);
		assert_null(dec);
	}
}

static void
test_pct_display(void **state)
{
	static const char *shown[] = { "", "alice", "eve:x y", " ~", };
	static const char *hidden[] = {
		"ren\xc3\xa9", "a\nb", "\x1f", "\x7f", "tab\there",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		assert_ptr_equal(certauth_pct_display(shown[i], "E"), shown[i]);
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (strcmp(certauth_pct_display(hidden[i], "E"), "E") != 0)
			fail_msg("shown as is: entry %zu", i);
}

/* ------------------------------------------------ reading a challenge */

#define GOOD_NONCE	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n > 0 && b[n - 1] == 0)
		n--;
	return n == 0;
}

/* text is refused with r, *out left zero, and a reason containing why. */
static void
assert_parse_refused(const char *text, int r, const char *why)
{
	struct certauth_challenge c;
	struct certauth_reason reason;

	memset(&c, 0xa5, sizeof(c));
	reason.text[0] = '\0';
	if (certauth_challenge_parse(text, &c, &reason) != r)
		fail_msg("not refused with %d: '%.80s'", r, text);
	assert_true(all_zero(&c, sizeof(c)));
	if (strstr(reason.text, why) == NULL)
		fail_msg("reason '%s' for '%.80s' lacks '%s'", reason.text,
		    text, why);
}

/* What the maker writes comes back with the same fields. */
static void
assert_round_trip(const char *host, const char *service, const char *user,
    time_t issued, const unsigned char nonce[CERTAUTH_NONCE_BYTES])
{
	struct certauth_challenge c;
	char *text = NULL, *e = NULL;

	assert_int_equal(certauth_challenge_build(host, service, user, issued,
	    nonce, &text), 0);
	assert_int_equal(certauth_challenge_parse(text, &c, NULL), 0);
	assert_string_equal(c.host, host);
	assert_string_equal(c.service, service);
	assert_string_equal(c.user, user);
	assert_int_equal(certauth_pct_encode(user, &e), 0);
	assert_string_equal(c.user_enc, e);
	assert_non_null(strstr(text, c.host_enc));
	assert_non_null(strstr(text, c.service_enc));
	assert_true(c.issued == issued);
	assert_memory_equal(c.nonce, nonce, CERTAUTH_NONCE_BYTES);
	certauth_challenge_free(&c);
	assert_true(all_zero(&c, sizeof(c)));
	free(e);
	free(text);
}

static void
test_parse_round_trip(void **state)
{
	static const time_t times[] = {
		0, 1, T_TIME, (time_t)4102444800LL, -1, INT64_MAX, INT64_MIN,
	};
	unsigned char nonce[CERTAUTH_NONCE_BYTES];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		for (j = 0; j < sizeof(nonce); j++)
			nonce[j] = (unsigned char)(i * 37 + j * 101);
		assert_round_trip("host1", "sshd", "alice", times[i], nonce);
	}
	memset(nonce, 0xff, sizeof(nonce));
	assert_round_trip("web:1 x", "su\n", "j\xc3\xb6rg:\x01 \x7f", T_TIME,
	    nonce);
	memset(nonce, 0, sizeof(nonce));
	assert_round_trip("%", "a%3Ab", "DOMAIN\\user name", 7, nonce);
}

static void
test_parse_exact(void **state)
{
	struct certauth_challenge c;
	size_t i;

	(void)state;
	assert_int_equal(certauth_challenge_parse("certauth:v1:db-2.example."
	    "org:su:j%C3%B6rg:1790000000:" GOOD_NONCE, &c, NULL), 0);
	assert_string_equal(c.host, "db-2.example.org");
	assert_string_equal(c.service, "su");
	assert_string_equal(c.user, "j\xc3\xb6rg");
	assert_string_equal(c.user_enc, "j%C3%B6rg");
	assert_true(c.issued == T_TIME);
	for (i = 0; i < CERTAUTH_NONCE_BYTES; i++)
		assert_int_equal(c.nonce[i], i);
	certauth_challenge_free(&c);
	certauth_challenge_free(NULL);
}

static void
test_parse_hostile(void **state)
{
	static const struct {
		const char *text, *why;
	} refused[] = {
		{ "", "not a certauth challenge" },
		{ "certauth", "not a certauth challenge" },
		{ "Certauth:v1:h:s:u:1:" GOOD_NONCE, "not a certauth" },
		{ " certauth:v1:h:s:u:1:" GOOD_NONCE, "not a certauth" },
		{ "certauth:v2:h:s:u:1:" GOOD_NONCE, "protocol version" },
		{ "certauth:V1:h:s:u:1:" GOOD_NONCE, "protocol version" },
		{ "certauth:v10:h:s:u:1:" GOOD_NONCE, "protocol version" },
		{ "certauth:v1", "protocol version" },
		/* fields: missing, empty, not the one spelling */
		{ "certauth:v1:", "host field" },
		{ "certauth:v1:h", "host field" },
		{ "certauth:v1:h:s:u", "user field" },
		{ "certauth:v1::s:u:1:" GOOD_NONCE, "host field" },
		{ "certauth:v1:h::u:1:" GOOD_NONCE, "service field" },
		{ "certauth:v1:h:s::1:" GOOD_NONCE, "user field" },
		{ "certauth:v1:h:s:a%3ab:1:" GOOD_NONCE, "user field" },
		{ "certauth:v1:h:s:%61:1:" GOOD_NONCE, "user field" },
		{ "certauth:v1:h:s:a%00b:1:" GOOD_NONCE, "user field" },
		{ "certauth:v1:h:s:a%:1:" GOOD_NONCE, "user field" },
		{ "certauth:v1:h:s:a b:1:" GOOD_NONCE, "user field" },
		{ "certauth:v1:h:s:a\tb:1:" GOOD_NONCE, "user field" },
		{ "certauth:v1:h:s:r\xc3\xb6:1:" GOOD_NONCE, "user field" },
		{ "certauth:v1:h/x:s:u:1:" GOOD_NONCE, "host field" },
		{ "certauth:v1:h:s%2:u:1:" GOOD_NONCE, "service field" },
		/* time: one spelling of a time_t */
		{ "certauth:v1:h:s:u::" GOOD_NONCE, "time field" },
		{ "certauth:v1:h:s:u:01:" GOOD_NONCE, "time field" },
		{ "certauth:v1:h:s:u:00:" GOOD_NONCE, "time field" },
		{ "certauth:v1:h:s:u:-0:" GOOD_NONCE, "time field" },
		{ "certauth:v1:h:s:u:-:" GOOD_NONCE, "time field" },
		{ "certauth:v1:h:s:u:--1:" GOOD_NONCE, "time field" },
		{ "certauth:v1:h:s:u:+1:" GOOD_NONCE, "time field" },
		{ "certauth:v1:h:s:u: 1:" GOOD_NONCE, "time field" },
		{ "certauth:v1:h:s:u:1 :" GOOD_NONCE, "time field" },
		{ "certauth:v1:h:s:u:0x10:" GOOD_NONCE, "time field" },
		{ "certauth:v1:h:s:u:1e9:" GOOD_NONCE, "time field" },
		{ "certauth:v1:h:s:u:9223372036854775808:" GOOD_NONCE,
		    "time field" },
		{ "certauth:v1:h:s:u:-9223372036854775809:" GOOD_NONCE,
		    "time field" },
		{ "certauth:v1:h:s:u:99999999999999999999:" GOOD_NONCE,
		    "time field" },
		{ "certauth:v1:h:s:u:1", "time field" },
		/* nonce: 43 base64url characters of 32 bytes, then nothing */
		{ "certauth:v1:h:s:u:1:", "nonce" },
		{ "certauth:v1:h:s:u:1:" GOOD_NONCE "A", "nonce" },
		{ "certauth:v1:h:s:u:1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh",
		    "nonce" },
		{ "certauth:v1:h:s:u:1:" GOOD_NONCE "=", "nonce" },
		{ "certauth:v1:h:s:u:1:" GOOD_NONCE "\n", "nonce" },
		{ "certauth:v1:h:s:u:1:" GOOD_NONCE " ", "nonce" },
		{ "certauth:v1:h:s:u:1:" GOOD_NONCE ":x", "nonce" },
		{ "certauth:v1:h:s:u:1:" GOOD_NONCE ":", "nonce" },
		/* the standard alphabet's '+' and '/' */
		{ "certauth:v1:h:s:u:1:+++++++++++++++++++++++++++++++++++++++++++",
		    "nonce" },
		{ "certauth:v1:h:s:u:1:///////////////////////////////////////////",
		    "nonce" },
		/* stray low bits in the last character: "Hh9", not "Hh8" */
		{ "certauth:v1:h:s:u:1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9",
		    "nonce" },
		{ "certauth:v1:h:s:u:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
		    "nonce" },
		/* a field too many */
		{ "certauth:v1:h:s:u:x:1:" GOOD_NONCE, "time field" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_parse_refused(refused[i].text, CERTAUTH_ERR_FORMAT,
		    refused[i].why);
	assert_parse_refused(NULL, CERTAUTH_ERR_FORMAT, "no challenge");
}

/* The limit is on the whole text and comes before anything else. */
static void
test_parse_too_long(void **state)
{
	struct certauth_challenge c;
	const char *head = "certauth:v1:h:s:", *tail = ":1:" GOOD_NONCE;
	size_t n = CERTAUTH_CHALLENGE_MAX + 1, user;
	char *text;

	(void)state;
	assert_non_null(text = malloc(n + 1));
	/* At the limit: read. */
	user = CERTAUTH_CHALLENGE_MAX - strlen(head) - strlen(tail);
	memcpy(text, head, strlen(head));
	memset(text + strlen(head), 'u', user);
	strcpy(text + strlen(head) + user, tail);
	assert_int_equal(strlen(text), CERTAUTH_CHALLENGE_MAX);
	assert_int_equal(certauth_challenge_parse(text, &c, NULL), 0);
	assert_int_equal(strlen(c.user), user);
	certauth_challenge_free(&c);
	/* One more: refused, as is junk of that length. */
	memset(text + strlen(head), 'u', user + 1);
	strcpy(text + strlen(head) + user + 1, tail);
	assert_parse_refused(text, CERTAUTH_ERR_TOO_LONG, "longer than 4096");
	memset(text, ':', n);
	text[n] = '\0';
	assert_parse_refused(text, CERTAUTH_ERR_TOO_LONG, "longer than");
	free(text);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pct_every_byte),
		cmocka_unit_test(test_pct_classes),
		cmocka_unit_test_prestate(test_pct_null, "sentinel"),
		cmocka_unit_test(test_build_exact),
		cmocka_unit_test(test_build_urlsafe_nonce),
		cmocka_unit_test(test_build_encodes_fields),
		cmocka_unit_test(test_build_empty_fields),
		cmocka_unit_test_prestate(test_build_null_field, "sentinel"),
		cmocka_unit_test(test_new_nonce),
		cmocka_unit_test(test_large_time),
		cmocka_unit_test(test_pct_decode),
		cmocka_unit_test(test_pct_display),
		cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_parse_exact),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_parse_too_long),
	};

	return cmocka_run_group_tests_name("challenge", tests, NULL, NULL);
}
