/*
 * test_sshagent.c - the ssh-agent client against a fake agent (a child
 * process on a UNIX socket, tests/common/fakeagent.h) that answers well for every key type, and
 * badly: garbage, truncated and oversized fields, a signature by another
 * key or of another type, silence past the deadline, a closed connection.
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

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "certauth.h"
#include "digest.h"
#include "sshagent.h"
#include "verify.h"
#include "fakeagent.h"
#include "testutil.h"

#define MSG "certauth:v1:host1:sshd:alice:1700000000:nonce"

/* The scripts below, in short: the fake agent of tests/common. */
#define FAKE_SIGN   1 /* a listing gets nothing, a sign request is signed */
#define FAKE_CANNED 2 /* every request gets f->canned */
#define FAKE_SILENT 3 /* never answers */
#define FAKE_CLOSE  4 /* closes at once */

static void
fake(struct tu_agent_script *f, int mode)
{
	memset(f, 0, sizeof(*f));
	f->list = mode == FAKE_SILENT ? TU_AGENT_SILENT : TU_AGENT_CANNED;
	f->sign = mode == FAKE_SIGN ? TU_AGENT_WELL : f->list;
	f->close = mode == FAKE_CLOSE;
}

static void
start_agent(struct tu_agent *af, const struct tu_agent_script *f)
{
	tu_agent_start(af, f, NULL, (uid_t)-1, (gid_t)-1);
}

static struct certauth_agent *
connect_to(struct tu_agent *af)
{
	struct certauth_agent *a = NULL;
	struct certauth_reason why;

	assert_int_equal(certauth_agent_connect(af->path, 2000, &a, &why), 0);
	return a;
}

/* ------------------------------------------------------------ signing */

/* The agent signs with key for digest; the answer verifies, names used. */
static void
sign_ok(const char *type, int digest, int want_used, uint32_t want_flags)
{
	struct tu_agent_script f;
	struct tu_agent af;
	struct certauth_agent *a;
	struct certauth_reason why;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	uint32_t flags = 0;
	int used = -1, plan_used = -1;

	fake(&f, FAKE_SIGN);
	f.signer = tu_keygen(type);
	assert_int_equal(certauth_agent_plan(f.signer, digest, &flags,
			     &plan_used, &why),
	    0);
	assert_int_equal(flags, want_flags);
	start_agent(&af, &f);
	a = connect_to(&af);
	assert_int_equal(certauth_agent_sign(a, f.signer, digest,
			     (const unsigned char *)MSG, strlen(MSG), 2000,
			     &sig, &siglen, &used, &why),
	    0);
	assert_int_equal(used, want_used);
	assert_int_equal(certauth_verify_signature(f.signer, used,
			     (const unsigned char *)MSG, strlen(MSG), sig,
			     siglen, &why),
	    0);
	free(sig);
	certauth_agent_close(a);
	tu_agent_stop(&af);
	EVP_PKEY_free(f.signer);
}

static void
test_sign_rsa(void **state)
{
	(void)state;
	sign_ok("RSA:2048", CERTAUTH_DIGEST_DEFAULT, CERTAUTH_DIGEST_DEFAULT,
	    CERTAUTH_AGENT_RSA_SHA2_256);
	sign_ok("RSA:2048", CERTAUTH_DIGEST_SHA512, CERTAUTH_DIGEST_SHA512,
	    CERTAUTH_AGENT_RSA_SHA2_512);
}

static void
test_sign_ecdsa(void **state)
{
	(void)state;
	sign_ok("P-256", CERTAUTH_DIGEST_DEFAULT, CERTAUTH_DIGEST_DEFAULT, 0);
	sign_ok("P-384", CERTAUTH_DIGEST_DEFAULT, CERTAUTH_DIGEST_SHA384, 0);
	sign_ok("P-521", CERTAUTH_DIGEST_SHA512, CERTAUTH_DIGEST_SHA512, 0);
}

static void
test_sign_ed25519(void **state)
{
	(void)state;
	sign_ok("ED25519", CERTAUTH_DIGEST_DEFAULT, CERTAUTH_DIGEST_DEFAULT, 0);
}

/* A hostile sign reply: the code and reason certauth_agent_sign gives. */
static void
sign_bad(struct tu_agent_script *f, EVP_PKEY *asked, int timeout_ms, int want_r,
    const char *want_reason)
{
	struct tu_agent af;
	struct certauth_agent *a;
	struct certauth_reason why;
	unsigned char *sig = (unsigned char *)"sentinel";
	size_t siglen = 0;
	int used = -1;

	start_agent(&af, f);
	a = connect_to(&af);
	assert_int_equal(certauth_agent_sign(a, asked, CERTAUTH_DIGEST_DEFAULT,
			     (const unsigned char *)MSG, strlen(MSG),
			     timeout_ms, &sig, &siglen, &used, &why),
	    want_r);
	assert_null(sig);
	assert_non_null(strstr(why.text, want_reason));
	certauth_agent_close(a);
	tu_agent_stop(&af);
}

static void
test_sign_other_key(void **state)
{
	struct tu_agent_script f;
	EVP_PKEY *asked = tu_keygen("P-256");

	(void)state;
	fake(&f, FAKE_SIGN);
	f.signer = tu_keygen("P-256");
	sign_bad(&f, asked, 2000, CERTAUTH_ERR_BAD_SIGNATURE,
	    "ssh-agent signature does not verify with the key asked for");
	EVP_PKEY_free(f.signer);
	EVP_PKEY_free(asked);
}

static void
test_sign_wrong_type(void **state)
{
	struct tu_agent_script f;

	(void)state;
	fake(&f, FAKE_SIGN);
	f.sigtype = "ssh-rsa";
	/* Asked for rsa-sha2-256, given SHA-1 "ssh-rsa". */
	f.signer = tu_keygen("RSA:2048");
	sign_bad(&f, f.signer, 2000, CERTAUTH_ERR_FORMAT,
	    "ssh-agent signature is not of the type asked for "
	    "(rsa-sha2-256)");
	f.sigtype = "rsa-sha2-512";
	sign_bad(&f, f.signer, 2000, CERTAUTH_ERR_FORMAT,
	    "not of the type asked for");
	EVP_PKEY_free(f.signer);
}

static void
test_sign_trailing(void **state)
{
	struct tu_agent_script f;

	(void)state;
	fake(&f, FAKE_SIGN);
	f.trailing = 1;
	f.signer = tu_keygen("ED25519");
	sign_bad(&f, f.signer, 2000, CERTAUTH_ERR_FORMAT,
	    "ssh-agent sent 1 bytes after its signature");
	EVP_PKEY_free(f.signer);
}

static void
canned(struct tu_agent_script *f, const struct tu_wire *body)
{
	fake(f, FAKE_CANNED);
	tu_w_msg(&f->canned, body);
}

static void
test_sign_refused(void **state)
{
	struct tu_wire body = { { 0 }, 0 };
	struct tu_agent_script f;
	EVP_PKEY *k = tu_keygen("ED25519");

	(void)state;
	tu_w_u8(&body, 5);
	canned(&f, &body);
	sign_bad(&f, k, 2000, CERTAUTH_ERR_KEY_REFUSED,
	    "ssh-agent refused to sign");
	body.n = 0;
	tu_w_u8(&body, 12); /* an identities answer to a sign request */
	tu_w_u32(&body, 0);
	canned(&f, &body);
	sign_bad(&f, k, 2000, CERTAUTH_ERR_FORMAT,
	    "ssh-agent answered a sign request with message 12");
	EVP_PKEY_free(k);
}

static void
test_sign_oversized_fields(void **state)
{
	struct tu_wire body = { { 0 }, 0 };
	struct tu_agent_script f;
	EVP_PKEY *k = tu_keygen("ED25519");

	(void)state;
	/* A signature string claiming 2 GiB in a short reply. */
	tu_w_u8(&body, 14);
	tu_w_u32(&body, 0x7fffffffu);
	tu_w_cstr(&body, "ssh-ed25519");
	canned(&f, &body);
	sign_bad(&f, k, 2000, CERTAUTH_ERR_FORMAT,
	    "ssh-agent sent a malformed or oversized signature");
	/* A reply length far over the cap: refused before any allocation. */
	fake(&f, FAKE_CANNED);
	tu_w_u32(&f.canned, 0xfffffff0u);
	tu_w_u8(&f.canned, 14);
	sign_bad(&f, k, 2000, CERTAUTH_ERR_TOO_LONG,
	    "ssh-agent reply of 4294967280 bytes (the limit is 262144)");
	/* A zero-length reply. */
	fake(&f, FAKE_CANNED);
	tu_w_u32(&f.canned, 0);
	sign_bad(&f, k, 2000, CERTAUTH_ERR_FORMAT, "ssh-agent reply of 0");
	EVP_PKEY_free(k);
}

static void
test_sign_truncated(void **state)
{
	struct tu_agent_script f;
	EVP_PKEY *k = tu_keygen("ED25519");

	(void)state;
	/* The length says 100 bytes, 3 come, then the agent goes away:
	 * the client sees the close, or the deadline, never a hang. */
	fake(&f, FAKE_CANNED);
	tu_w_u32(&f.canned, 100);
	tu_w_u8(&f.canned, 14);
	tu_w_u8(&f.canned, 0);
	tu_w_u8(&f.canned, 0);
	sign_bad(&f, k, 500, CERTAUTH_ERR_UNREACHABLE,
	    "ssh-agent: no answer in time");
	EVP_PKEY_free(k);
}

static long long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_deadline(void **state)
{
	struct tu_agent_script f;
	EVP_PKEY *k = tu_keygen("ED25519");
	long long t0;

	(void)state;
	fake(&f, FAKE_SILENT);
	t0 = ms_now();
	sign_bad(&f, k, 300, CERTAUTH_ERR_UNREACHABLE,
	    "ssh-agent: no answer in time");
	assert_true(ms_now() - t0 >= 300);
	assert_true(ms_now() - t0 < 5000);
	EVP_PKEY_free(k);
}

static void
test_peer_closes(void **state)
{
	struct tu_agent_script f;
	EVP_PKEY *k = tu_keygen("ED25519");

	(void)state;
	fake(&f, FAKE_CLOSE);
	sign_bad(&f, k, 2000, CERTAUTH_ERR_UNREACHABLE,
	    "ssh-agent: the agent closed the connection");
	EVP_PKEY_free(k);
}

/* After a cut-short exchange the stream is out of step: no reuse. */
static void
test_broken_connection(void **state)
{
	struct tu_agent_script f;
	struct tu_agent af;
	struct certauth_agent *a;
	struct certauth_agent_ids ids;
	struct certauth_reason why;

	(void)state;
	fake(&f, FAKE_SILENT);
	start_agent(&af, &f);
	a = connect_to(&af);
	assert_int_equal(certauth_agent_list(a, 100, &ids, &why),
	    CERTAUTH_ERR_UNREACHABLE);
	assert_int_equal(certauth_agent_list(a, 100, &ids, &why),
	    CERTAUTH_ERR_UNREACHABLE);
	assert_string_equal(why.text,
	    "ssh-agent connection unusable after an earlier failure");
	certauth_agent_close(a);
	tu_agent_stop(&af);
}

/* ------------------------------------------------------------ identities */

static int
list_with(struct tu_agent_script *f, struct certauth_agent_ids *ids,
    struct certauth_reason *why)
{
	struct tu_agent af;
	struct certauth_agent *a;
	int r;

	start_agent(&af, f);
	a = connect_to(&af);
	r = certauth_agent_list(a, 2000, ids, why);
	certauth_agent_close(a);
	tu_agent_stop(&af);
	return r;
}

static void
test_list_good(void **state)
{
	struct tu_wire body = { { 0 }, 0 };
	struct certauth_agent_ids ids;
	struct certauth_reason why;
	struct tu_agent_script f;
	unsigned char *blob1 = NULL, *blob2 = NULL, *blob3 = NULL;
	size_t len1 = 0, len2 = 0, len3 = 0;
	EVP_PKEY *k1 = tu_keygen("P-256"), *k2 = tu_keygen("ED25519"),
		 *k3 = tu_keygen("ED25519");

	(void)state;
	assert_int_equal(certauth_sshkey_blob(k1, &blob1, &len1, &why), 0);
	assert_int_equal(certauth_sshkey_blob(k2, &blob2, &len2, &why), 0);
	assert_int_equal(certauth_sshkey_blob(k3, &blob3, &len3, &why), 0);
	tu_w_u8(&body, 12);
	tu_w_u32(&body, 2);
	tu_w_str(&body, blob1, len1);
	tu_w_cstr(&body, "alice@laptop");
	tu_w_str(&body, blob2, len2);
	tu_w_cstr(&body, "");
	canned(&f, &body);
	assert_int_equal(list_with(&f, &ids, &why), 0);
	assert_int_equal(ids.n, 2);
	assert_int_equal(ids.v[0].commentlen, 12);
	assert_memory_equal(ids.v[0].comment, "alice@laptop", 12);
	assert_true(certauth_agent_ids_have(&ids, blob1, len1));
	assert_true(certauth_agent_ids_have(&ids, blob2, len2));
	assert_false(certauth_agent_ids_have(&ids, blob3, len3));
	certauth_agent_ids_free(&ids);
	free(blob1);
	free(blob2);
	free(blob3);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

static void
list_bad(const struct tu_wire *body, int want_r, const char *want_reason)
{
	struct certauth_agent_ids ids;
	struct certauth_reason why;
	struct tu_agent_script f;

	canned(&f, body);
	assert_int_equal(list_with(&f, &ids, &why), want_r);
	assert_null(ids.v);
	assert_int_equal(ids.n, 0);
	assert_string_equal(why.text, want_reason);
}

static void
test_list_hostile(void **state)
{
	struct tu_wire b = { { 0 }, 0 };

	(void)state;
	tu_w_u8(&b, 5);
	list_bad(&b, CERTAUTH_ERR_KEY_REFUSED,
	    "ssh-agent refused to list its keys");
	b.n = 0;
	tu_w_u8(&b, 99);
	list_bad(&b, CERTAUTH_ERR_FORMAT,
	    "ssh-agent answered a key listing with message 99");
	/* A count far over the cap: no array of that size is made. */
	b.n = 0;
	tu_w_u8(&b, 12);
	tu_w_u32(&b, 0xffffffffu);
	list_bad(&b, CERTAUTH_ERR_TOO_LONG,
	    "ssh-agent claims 4294967295 keys in a reply of 0 bytes");
	/* A count the reply cannot hold. */
	b.n = 0;
	tu_w_u8(&b, 12);
	tu_w_u32(&b, 1000);
	tu_w_cstr(&b, "x");
	tu_w_cstr(&b, "y");
	list_bad(&b, CERTAUTH_ERR_FORMAT,
	    "ssh-agent claims 1000 keys in a reply of 10 bytes");
	/* An entry cut short, and one string longer than the reply. */
	b.n = 0;
	tu_w_u8(&b, 12);
	tu_w_u32(&b, 2);
	tu_w_cstr(&b, "blob1");
	tu_w_cstr(&b, "c1");
	tu_w_cstr(&b, "blob2");
	tu_w_u32(&b, 0);
	b.n -= 2;
	list_bad(&b, CERTAUTH_ERR_FORMAT,
	    "ssh-agent sent a malformed key list (entry 2)");
	b.n = 0;
	tu_w_u8(&b, 12);
	tu_w_u32(&b, 1);
	tu_w_u32(&b, 0x7ffffff0u);
	tu_w_u32(&b, 0);
	list_bad(&b, CERTAUTH_ERR_FORMAT,
	    "ssh-agent sent a malformed key list (entry 1)");
	b.n = 0;
	tu_w_u8(&b, 12);
	tu_w_u32(&b, 0);
	tu_w_u8(&b, 0);
	list_bad(&b, CERTAUTH_ERR_FORMAT,
	    "ssh-agent sent 1 bytes after its key list");
	b.n = 0;
	tu_w_u8(&b, 12);
	tu_w_u8(&b, 0);
	list_bad(&b, CERTAUTH_ERR_FORMAT, "ssh-agent sent a truncated key list");
}

/* ------------------------------------------------------------ connect */

static void
test_connect(void **state)
{
	struct certauth_agent *a = (struct certauth_agent *)&a;
	struct certauth_reason why;
	char longpath[200];

	(void)state;
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(certauth_agent_connect(longpath, 100, &a, &why),
	    CERTAUTH_ERR_TOO_LONG);
	assert_null(a);
	assert_string_equal(why.text,
	    "ssh-agent socket path is longer than 107 bytes");
	assert_int_equal(certauth_agent_connect("/nonexistent/agent.sock",
			     100, &a, &why),
	    CERTAUTH_ERR_UNREACHABLE);
	assert_string_equal(why.text,
	    "cannot reach the ssh-agent at /nonexistent/agent.sock: No such "
	    "file or directory");
}

/* ------------------------------------------------------------ forms */

static void
test_blob_forms(void **state)
{
	struct certauth_reason why;
	unsigned char *blob = NULL, raw[32];
	size_t len = 0, rawlen = sizeof(raw);
	EVP_PKEY *k;

	(void)state;
	k = tu_keygen("ED25519");
	assert_int_equal(certauth_sshkey_blob(k, &blob, &len, &why), 0);
	assert_int_equal(len, 4 + 11 + 4 + 32);
	assert_memory_equal(blob, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
	assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &rawlen), 1);
	assert_memory_equal(blob + 19, raw, 32);
	free(blob);
	EVP_PKEY_free(k);

	k = tu_keygen("P-384");
	assert_int_equal(certauth_sshkey_blob(k, &blob, &len, &why), 0);
	assert_int_equal(len, 4 + 19 + 4 + 8 + 4 + 97);
	assert_memory_equal(blob,
	    "\0\0\0\x13"
	    "ecdsa-sha2-nistp384\0\0\0\x08nistp384\0\0\0\x61\x04",
	    4 + 19 + 4 + 8 + 4 + 1);
	free(blob);
	EVP_PKEY_free(k);

	k = tu_keygen("RSA:2048");
	assert_int_equal(certauth_sshkey_blob(k, &blob, &len, &why), 0);
	/* e = 65537 as 3 bytes; n with the zero byte of a positive mpint. */
	assert_int_equal(len, 4 + 7 + 4 + 3 + 4 + 257);
	assert_memory_equal(blob, "\0\0\0\x07ssh-rsa\0\0\0\x03\x01\x00\x01"
				  "\0\0\x01\x01\x00",
	    4 + 7 + 4 + 3 + 4 + 1);
	free(blob);
	EVP_PKEY_free(k);

	k = tu_keygen("secp256k1");
	assert_int_equal(certauth_sshkey_blob(k, &blob, &len, &why),
	    CERTAUTH_ERR_KEY_REFUSED);
	assert_string_equal(why.text,
	    "an ssh-agent cannot hold an EC key on that curve");
	EVP_PKEY_free(k);
}

static void
test_plan_refusals(void **state)
{
	struct certauth_reason why;
	EVP_PKEY *rsa = tu_keygen("RSA:2048"), *p256 = tu_keygen("P-256"),
		 *ed = tu_keygen("ED25519");
	uint32_t flags;
	int used;

	(void)state;
	assert_int_equal(certauth_agent_plan(rsa, CERTAUTH_DIGEST_SHA384,
			     &flags, &used, &why),
	    CERTAUTH_ERR_DIGEST_REFUSED);
	assert_string_equal(why.text,
	    "an ssh-agent signs with RSA keys using sha256 or sha512 only, "
	    "not sha384");
	assert_int_equal(certauth_agent_plan(p256, CERTAUTH_DIGEST_SHA512,
			     &flags, &used, &why),
	    CERTAUTH_ERR_DIGEST_REFUSED);
	assert_string_equal(why.text,
	    "an ssh-agent signs with an ECDSA P-256 key using sha256 only, "
	    "not sha512");
	assert_int_equal(certauth_agent_plan(ed, CERTAUTH_DIGEST_SHA256,
			     &flags, &used, &why),
	    CERTAUTH_ERR_DIGEST_REFUSED);
	assert_string_equal(why.text,
	    "ED25519 keys take no digest: EdDSA signs the data itself");
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(ed);
}

/* One hostile signature blob for key: FORMAT, nothing handed out. */
static void
convert_bad(EVP_PKEY *k, uint32_t flags, const struct tu_wire *w,
    const char *want)
{
	struct certauth_reason why;
	unsigned char *sig = (unsigned char *)"sentinel";
	size_t siglen = 0;

	assert_int_equal(certauth_agent_sig_convert(k, flags, w->b, w->n, &sig,
			     &siglen, &why),
	    CERTAUTH_ERR_FORMAT);
	assert_null(sig);
	assert_string_equal(why.text, want);
}

static void
test_convert_hostile(void **state)
{
	struct tu_wire w = { { 0 }, 0 }, in = { { 0 }, 0 };
	unsigned char zeros[300] = { 0 };
	EVP_PKEY *ed = tu_keygen("ED25519"), *p256 = tu_keygen("P-256"),
		 *rsa = tu_keygen("RSA:2048");

	(void)state;
	convert_bad(ed, 0, &w, "ssh-agent signature is not of the type "
			       "asked for (ssh-ed25519)");
	tu_w_cstr(&w, "ssh-ed25519");
	tu_w_str(&w, zeros, 63);
	convert_bad(ed, 0, &w, "ssh-agent ssh-ed25519 signature is malformed");
	w.n = 0;
	tu_w_cstr(&w, "ssh-ed25519");
	tu_w_str(&w, zeros, 64);
	tu_w_u8(&w, 0);
	convert_bad(ed, 0, &w,
	    "ssh-agent signature is truncated or has trailing bytes");
	w.n = 0;
	tu_w_cstr(&w, "ssh-ed25519");
	tu_w_u32(&w, 64);
	tu_w_u8(&w, 1);
	convert_bad(ed, 0, &w,
	    "ssh-agent signature is truncated or has trailing bytes");

	/* ECDSA: a negative r, a non-minimal r, r too long, trailing s. */
	w.n = 0;
	tu_w_cstr(&w, "ecdsa-sha2-nistp256");
	tu_w_u32(&in, 1);
	tu_w_u8(&in, 0x80);
	tu_w_u32(&in, 1);
	tu_w_u8(&in, 1);
	tu_w_str(&w, in.b, in.n);
	convert_bad(p256, 0, &w,
	    "ssh-agent ecdsa-sha2-nistp256 signature is malformed");
	w.n = in.n = 0;
	tu_w_cstr(&w, "ecdsa-sha2-nistp256");
	tu_w_u32(&in, 2);
	tu_w_u8(&in, 0);
	tu_w_u8(&in, 1);
	tu_w_u32(&in, 1);
	tu_w_u8(&in, 1);
	tu_w_str(&w, in.b, in.n);
	convert_bad(p256, 0, &w,
	    "ssh-agent ecdsa-sha2-nistp256 signature is malformed");
	w.n = in.n = 0;
	tu_w_cstr(&w, "ecdsa-sha2-nistp256");
	tu_w_str(&in, zeros + 1, 0);
	tu_w_u32(&in, 34);
	tu_w_u8(&in, 1);
	memcpy(in.b + in.n, zeros, 33);
	in.n += 33;
	tu_w_str(&w, in.b, in.n);
	convert_bad(p256, 0, &w,
	    "ssh-agent ecdsa-sha2-nistp256 signature is malformed");
	w.n = in.n = 0;
	tu_w_cstr(&w, "ecdsa-sha2-nistp256");
	tu_w_u32(&in, 1);
	tu_w_u8(&in, 1);
	tu_w_u32(&in, 1);
	tu_w_u8(&in, 1);
	tu_w_u8(&in, 0);
	tu_w_str(&w, in.b, in.n);
	convert_bad(p256, 0, &w,
	    "ssh-agent ecdsa-sha2-nistp256 signature is malformed");
	w.n = 0;
	tu_w_cstr(&w, "ecdsa-sha2-nistp384");
	tu_w_str(&w, zeros, 8);
	convert_bad(p256, 0, &w,
	    "ssh-agent signature is not of the type asked for "
	    "(ecdsa-sha2-nistp256)");

	/* RSA: longer than the modulus. */
	w.n = 0;
	tu_w_cstr(&w, "rsa-sha2-256");
	tu_w_str(&w, zeros, 257);
	convert_bad(rsa, CERTAUTH_AGENT_RSA_SHA2_256, &w,
	    "ssh-agent rsa-sha2-256 signature is malformed");
	EVP_PKEY_free(ed);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(rsa);
}

static void
test_fingerprint(void **state)
{
	/* An all-zero Ed25519 key: what ssh-keygen -l prints for
	 * "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAA...A" (43 A's). */
	struct tu_wire w = { { 0 }, 0 };
	unsigned char zeros[32] = { 0 };
	char fp[CERTAUTH_AGENT_FP_CHARS];

	(void)state;
	tu_w_cstr(&w, "ssh-ed25519");
	tu_w_str(&w, zeros, 32);
	certauth_sshkey_fingerprint(w.b, w.n, fp, sizeof(fp));
	assert_string_equal(fp,
	    "SHA256:kmYcvdi2GkPeWxB6XLjrZB8JHsy2Hm8luHMFp9GMvqk");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_rsa),
		cmocka_unit_test(test_sign_ecdsa),
		cmocka_unit_test(test_sign_ed25519),
		cmocka_unit_test(test_sign_other_key),
		cmocka_unit_test(test_sign_wrong_type),
		cmocka_unit_test(test_sign_trailing),
		cmocka_unit_test(test_sign_refused),
		cmocka_unit_test(test_sign_oversized_fields),
		cmocka_unit_test(test_sign_truncated),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_peer_closes),
		cmocka_unit_test(test_broken_connection),
		cmocka_unit_test(test_list_good),
		cmocka_unit_test(test_list_hostile),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_blob_forms),
		cmocka_unit_test(test_plan_refusals),
		cmocka_unit_test(test_convert_hostile),
		cmocka_unit_test(test_fingerprint),
	};

	return cmocka_run_group_tests_name("sshagent", tests, NULL, NULL);
}
