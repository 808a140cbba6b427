/*
 * test_cache.c - the parse cache (parse_cache.h): a hit only for the same
 * path and the very same bytes, references of the caller's own, one entry
 * per path, eviction of the least recently used, pools kept apart; and,
 * through the chain policy and the bindings store, that a trust file or a
 * bindings file rewritten in place, with the same size and timestamps, is
 * parsed again at the next login.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bindings.h"
#include "certauth.h"
#include "options.h"
#include "parse_cache.h"
#include "chain.h"
#include "pki.h"
#include "trust.h"
#include "testutil.h"

/* The PKI: the root, alice's key and certificate (serial 1001); and a
 * certificate of alicf's (serial 1002) from the same root. */
struct keys {
	struct tu_pki pki;
	X509 *other_cert;
};

static struct keys *K;

#define ROOT_CN	"Cache Root CA"

static int
group_setup(void **unused)
{
	const struct tu_pki_opts pki = { .ca_cn = ROOT_CN,
	    .user_cn = "alice", .user_serial = 1001,
	    .other_key_type = "P-256" };
	struct tu_cert_opts other = tu_user_opts("alicf");

	(void)unused;
	if ((K = calloc(1, sizeof(*K))) == NULL)
		return -1;
	tu_pki_make(&K->pki, &pki);
	other.serial = 1002;
	K->other_cert = tu_make_cert(K->pki.other_key, &other, K->pki.ca,
	    K->pki.ca_key);
	return 0;
}

static int
group_teardown(void **unused)
{
	(void)unused;
	tu_pki_free(&K->pki);
	X509_free(K->other_cert);
	free(K);
	return 0;
}

/* ---------------------------------------------------- the table itself */

/* A parsed value holding one up-referenced certificate. */
static struct certauth_parsed
one_cert(X509 *cert)
{
	struct certauth_parsed p;

	memset(&p, 0, sizeof(p));
	assert_non_null(p.certs = sk_X509_new_null());
	assert_int_equal(X509_up_ref(cert), 1);
	assert_true(sk_X509_push(p.certs, cert) > 0);
	return p;
}

/* Is the first certificate of a hit cert? */
static void
assert_hit(enum certauth_cache_pool pool, const char *path, const char *buf,
    X509 *cert)
{
	struct certauth_parsed got;

	assert_int_equal(certauth_cache_get(pool, path, buf, strlen(buf),
	    &got), 1);
	assert_int_equal(sk_X509_num(got.certs), 1);
	assert_ptr_equal(sk_X509_value(got.certs, 0), cert);
	certauth_parsed_clear(&got);
}

static void
assert_miss(enum certauth_cache_pool pool, const char *path, const char *buf)
{
	struct certauth_parsed got;

	assert_int_equal(certauth_cache_get(pool, path, buf, strlen(buf),
	    &got), 0);
	assert_null(got.certs);
	assert_null(got.crls);
	assert_null(got.index);
}

static void
test_hit_needs_same_path_and_bytes(void **unused)
{
	struct certauth_parsed v = one_cert(K->pki.user);

	(void)unused;
	assert_miss(CERTAUTH_CACHE_TRUST, "/t/a", "bytes-one");
	certauth_cache_put(CERTAUTH_CACHE_TRUST, "/t/a", "bytes-one", 9, &v);
	certauth_parsed_clear(&v);
	assert_hit(CERTAUTH_CACHE_TRUST, "/t/a", "bytes-one", K->pki.user);
	/* one byte changed, same length: a miss */
	assert_miss(CERTAUTH_CACHE_TRUST, "/t/a", "bytes-onf");
	/* a prefix, and a longer text: misses */
	assert_miss(CERTAUTH_CACHE_TRUST, "/t/a", "bytes-on");
	assert_miss(CERTAUTH_CACHE_TRUST, "/t/a", "bytes-one!");
	/* the same bytes under another path, or in the other pool */
	assert_miss(CERTAUTH_CACHE_TRUST, "/t/b", "bytes-one");
	assert_miss(CERTAUTH_CACHE_BINDINGS, "/t/a", "bytes-one");
}

static void
test_references_are_the_callers(void **unused)
{
	struct certauth_parsed v = one_cert(K->other_cert), got;

	(void)unused;
	certauth_cache_put(CERTAUTH_CACHE_TRUST, "/t/refs", "x", 1, &v);
	/* The caller's value is still whole after the put... */
	certauth_parsed_clear(&v);
	/* ...and what a get returns outlives the cache's own entry. */
	assert_int_equal(certauth_cache_get(CERTAUTH_CACHE_TRUST, "/t/refs",
	    "x", 1, &got), 1);
	v = one_cert(K->pki.user);
	certauth_cache_put(CERTAUTH_CACHE_TRUST, "/t/refs", "y", 1, &v);
	certauth_parsed_clear(&v);
	assert_ptr_equal(sk_X509_value(got.certs, 0), K->other_cert);
	assert_non_null(X509_get_subject_name(sk_X509_value(got.certs, 0)));
	certauth_parsed_clear(&got);
}

static void
test_one_entry_per_path(void **unused)
{
	struct certauth_parsed v = one_cert(K->pki.user);

	(void)unused;
	certauth_cache_put(CERTAUTH_CACHE_TRUST, "/t/same", "old", 3, &v);
	certauth_parsed_clear(&v);
	v = one_cert(K->other_cert);
	certauth_cache_put(CERTAUTH_CACHE_TRUST, "/t/same", "new", 3, &v);
	certauth_parsed_clear(&v);
	assert_hit(CERTAUTH_CACHE_TRUST, "/t/same", "new", K->other_cert);
	/* The older version went: a file changed back is parsed again. */
	assert_miss(CERTAUTH_CACHE_TRUST, "/t/same", "old");
}

static void
test_least_recently_used_goes(void **unused)
{
	struct certauth_parsed v = one_cert(K->pki.user);
	char path[64];
	int i;

	(void)unused;
	certauth_cache_put(CERTAUTH_CACHE_BINDINGS, "/b/keep", "k", 1, &v);
	certauth_cache_put(CERTAUTH_CACHE_BINDINGS, "/b/drop", "d", 1, &v);
	/* 200 more users than the pool holds; /b/keep is used all along. */
	for (i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/b/user%d", i);
		certauth_cache_put(CERTAUTH_CACHE_BINDINGS, path, "u", 1, &v);
		assert_hit(CERTAUTH_CACHE_BINDINGS, "/b/keep", "k",
		    K->pki.user);
	}
	assert_miss(CERTAUTH_CACHE_BINDINGS, "/b/drop", "d");
	assert_miss(CERTAUTH_CACHE_BINDINGS, "/b/user0", "u");
	assert_hit(CERTAUTH_CACHE_BINDINGS, "/b/user199", "u", K->pki.user);
	/* Many users never push out the trust files. */
	certauth_cache_put(CERTAUTH_CACHE_TRUST, "/t/anchor", "a", 1, &v);
	for (i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/b/more%d", i);
		certauth_cache_put(CERTAUTH_CACHE_BINDINGS, path, "u", 1, &v);
	}
	assert_hit(CERTAUTH_CACHE_TRUST, "/t/anchor", "a", K->pki.user);
	certauth_parsed_clear(&v);
}

static void
test_big_bindings_not_kept(void **unused)
{
	struct certauth_parsed v = one_cert(K->pki.user), got;
	size_t len = 100 * 1024;
	char *big;

	(void)unused;
	assert_non_null(big = calloc(1, len));
	memset(big, 'A', len);
	certauth_cache_put(CERTAUTH_CACHE_BINDINGS, "/b/big", big, len, &v);
	assert_int_equal(certauth_cache_get(CERTAUTH_CACHE_BINDINGS, "/b/big",
	    big, len, &got), 0);
	/* The trust pool keeps big files: CRLs are what most needs it. */
	certauth_cache_put(CERTAUTH_CACHE_TRUST, "/t/big", big, len, &v);
	assert_int_equal(certauth_cache_get(CERTAUTH_CACHE_TRUST, "/t/big",
	    big, len, &got), 1);
	certauth_parsed_clear(&got);
	certauth_parsed_clear(&v);
	free(big);
}

/* ------------------------------------------ files rewritten in place */

struct state {
	char *dir;
	struct certauth_opts o;
};

/* A scratch directory that passes the safe-path rules (bindings files
 * need one): the tests that use it run as root. */
static int
setup(void **ctx)
{
	struct state *st = calloc(1, sizeof(*st));

	if (st == NULL || (st->dir = tu_safe_tmpdir()) == NULL) {
		free(st);
		return -1;
	}
	certauth_opts_init(&st->o);
	*ctx = st;
	return 0;
}

static int
teardown(void **ctx)
{
	struct state *st = *ctx;

	tu_remove_tree(st->dir);
	free(st->dir);
	certauth_opts_free(&st->o);
	free(st);
	return 0;
}

/*
 * Overwrite path in place (same inode) with text, then give it back the
 * timestamps it had: a change that size and times cannot show.
 */
static void
rewrite_unseen(const char *path, const char *text)
{
	struct stat before, after;
	struct timespec times[2];
	FILE *f;

	assert_int_equal(stat(path, &before), 0);
	assert_int_equal((long)strlen(text), (long)before.st_size);
	assert_non_null(f = fopen(path, "r+"));
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	times[0] = before.st_atim;
	times[1] = before.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal((long)after.st_ino, (long)before.st_ino);
	assert_int_equal((long)after.st_size, (long)before.st_size);
	assert_int_equal((long)after.st_mtim.tv_sec,
	    (long)before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

/* The PEM text of a CRL from the root revoking n of the user's certs. */
static char *
crl_text(X509 **revoked, int n)
{
	X509_CRL *crl = tu_make_crl(K->pki.ca, K->pki.ca_key, revoked, n);
	BIO *bio = BIO_new(BIO_s_mem());

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_X509_CRL(bio, crl), 1);
	X509_CRL_free(crl);
	return tu_bio_text(bio);
}

static int
policy_verdict(struct state *st, X509 *cert)
{
	struct certauth_trust_set *p = NULL;
	struct certauth_reason why;
	int r;

	memset(&why, 0, sizeof(why));
	if ((r = certauth_trust_load(&st->o, NULL, &p, &why)) != 0)
		fail_msg("trust_load: %d %s", r, why.text);
	r = certauth_chain_check(p, NULL, cert, time(NULL), NULL, &why);
	certauth_trust_free(p);
	return r;
}

/*
 * Two CRLs of the same length, one revoking the user's certificate and
 * one revoking another (serials 1001 and 1002 encode alike): rewriting
 * the file from one to the other in place, times restored, must change
 * the verdict of the very next load in this process, both ways.
 */
static void
test_crl_rewritten_in_place(void **ctx)
{
	struct state *st = *ctx;
	char *path = tu_path(st->dir, "crl.pem");
	char *clean = NULL, *revoking = NULL;
	int tries;

	tu_write_certs((st->o.ca_file = tu_path(st->dir, "ca.pem")),
	    &K->pki.ca, 1, 0644);
	st->o.crl_file = strdup(path);
	st->o.crl = CERTAUTH_CRL_LEAF;
	/* Same length needs ECDSA signatures of the same DER length (they
	 * vary by a byte or two) and the same lastUpdate encoding: make
	 * both again until they match. */
	for (tries = 0; tries < 100; tries++) {
		free(clean);
		free(revoking);
		clean = crl_text(&K->other_cert, 1);
		revoking = crl_text(&K->pki.user, 1);
		if (strlen(clean) == strlen(revoking))
			break;
	}
	assert_int_equal(strlen(clean), strlen(revoking));
	tu_write_file(path, clean, 0644);
	assert_int_equal(policy_verdict(st, K->pki.user), 0);
	assert_int_equal(policy_verdict(st, K->pki.user), 0);	/* a hit */

	rewrite_unseen(path, revoking);
	assert_int_equal(policy_verdict(st, K->pki.user),
	    CERTAUTH_ERR_REVOKED);
	rewrite_unseen(path, clean);
	assert_int_equal(policy_verdict(st, K->pki.user), 0);
	free(clean);
	free(revoking);
	free(path);
}

/*
 * A certificate like opts issued by issuer whose PEM text is as long as
 * want's (ECDSA signatures vary in length: issue until one fits).
 */
static X509 *
same_length_cert(X509 *want, const struct tu_cert_opts *opts, EVP_PKEY *key,
    X509 *issuer, EVP_PKEY *issuer_key)
{
	char *a = tu_pem_text(want), *b;
	X509 *cert;
	int tries;

	for (tries = 0; tries < 50; tries++) {
		cert = tu_make_cert(key, opts, issuer, issuer_key);
		b = tu_pem_text(cert);
		if (strlen(a) == strlen(b) && strcmp(a, b) != 0) {
			free(a);
			free(b);
			return cert;
		}
		free(b);
		X509_free(cert);
	}
	fail_msg("no certificate of the same PEM length in %d tries", tries);
	return NULL;
}

/* The anchor file rewritten in place to another CA of the same name and
 * length: the old root no longer anchors anything. */
static void
test_ca_file_rewritten_in_place(void **ctx)
{
	struct state *st = *ctx;
	struct tu_cert_opts root = tu_ca_opts(ROOT_CN);
	EVP_PKEY *twin_key = tu_keygen("P-256");
	X509 *twin = same_length_cert(K->pki.ca, &root, twin_key, NULL,
	    NULL);
	char *path = tu_path(st->dir, "ca.pem");
	char *a = tu_pem_text(K->pki.ca), *b = tu_pem_text(twin);

	tu_write_file(path, a, 0644);
	st->o.ca_file = strdup(path);
	assert_int_equal(policy_verdict(st, K->pki.user), 0);
	assert_int_equal(policy_verdict(st, K->pki.user), 0);
	rewrite_unseen(path, b);
	assert_int_equal(policy_verdict(st, K->pki.user),
	    CERTAUTH_ERR_CERT_INVALID);
	rewrite_unseen(path, a);
	assert_int_equal(policy_verdict(st, K->pki.user), 0);
	X509_free(twin);
	EVP_PKEY_free(twin_key);
	free(a);
	free(b);
	free(path);
}

/* The first bound certificate's serial number, through the store. */
static long
bound_serial(const char *dir)
{
	STACK_OF(X509) *certs = NULL;
	struct certauth_reason why;
	long serial;

	memset(&why, 0, sizeof(why));
	if (certauth_bindings_read(dir, "alice", NULL, &certs, &why) != 0)
		fail_msg("bindings_read: %s", why.text);
	serial = ASN1_INTEGER_get(X509_get0_serialNumber(
	    sk_X509_value(certs, 0)));
	sk_X509_pop_free(certs, X509_free);
	return serial;
}

/* A user's bindings file rewritten in place, times restored: the next
 * read in this process sees the new certificate. */
static void
test_bindings_rewritten_in_place(void **ctx)
{
	struct state *st = *ctx;
	struct tu_cert_opts renewed = { "alice", -1, 365, 0,
	    "critical,digitalSignature", "clientAuth", 1003 };
	X509 *next = same_length_cert(K->pki.user, &renewed, K->pki.other_key,
	    K->pki.ca, K->pki.ca_key);
	char *dir = tu_path(st->dir, "bindings"), *path;
	char *a = tu_pem_text(K->pki.user), *b = tu_pem_text(next);

	assert_int_equal(mkdir(dir, 0755), 0);
	path = tu_path(dir, "alice");
	tu_write_file(path, a, 0644);
	assert_int_equal(bound_serial(dir), 1001);
	assert_int_equal(bound_serial(dir), 1001);
	rewrite_unseen(path, b);
	assert_int_equal(bound_serial(dir), 1003);
	rewrite_unseen(path, a);
	assert_int_equal(bound_serial(dir), 1001);
	X509_free(next);
	free(a);
	free(b);
	free(path);
	free(dir);
}

/* In place of the tests set up with a safe scratch directory when not
 * root: only root can make one. */
static void
skip_not_root(void **ctx)
{
	(void)ctx;
	print_message("# no safe scratch directory: not root\n");
	skip();
}

int
main(void)
{
	struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_needs_same_path_and_bytes),
		cmocka_unit_test(test_references_are_the_callers),
		cmocka_unit_test(test_one_entry_per_path),
		cmocka_unit_test(test_least_recently_used_goes),
		cmocka_unit_test(test_big_bindings_not_kept),
		cmocka_unit_test_setup_teardown(test_crl_rewritten_in_place,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ca_file_rewritten_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bindings_rewritten_in_place, setup, teardown),
	};
	size_t i;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (geteuid() != 0 && tests[i].setup_func == setup) {
			tests[i].test_func = skip_not_root;
			tests[i].setup_func = NULL;
			tests[i].teardown_func = NULL;
		}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
