/*
 * test_policy.c - the chain policy (docs/PROTOCOL.md, "Chain policy" and
 * "Revocation"):
 * CA and pinned trust, validity, key usages, CRLs over leaf and chain,
 * delta CRLs read and passed over, refused keys, anchors with OpenSSL
 * trust settings, and trust stores that cannot be loaded.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
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

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certauth.h"
#include "log.h"
#include "options.h"
#include "chain.h"
#include "pki.h"
#include "trust.h"
#include "testutil.h"

/* Keys are the slow part; make them once.  The PKI: a P-384 root, an
 * intermediate under it, the key of alice's certificates (each test
 * issues its own), and an Ed25519 key no certificate names. */
static struct tu_pki *K;
static EVP_PKEY *dsa;	/* made on first use: DSA parameters are slow */

struct state {
	char *dir;
	struct certauth_opts o;
	char log[4096];		/* the lines the last check logged */
	struct certauth_log lg;
};

static const struct tu_cert_opts INTER = {
	"Test Intermediate", -10, 1825, 1, NULL, NULL, 0 };

static struct tu_cert_opts
leaf_opts(void)
{
	return tu_user_opts("alice");
}

static int
group_setup(void **unused)
{
	const struct tu_pki_opts pki = { .ca_cn = "Test Root CA",
	    .inter_cn = INTER.cn, .ca_key_type = "P-384",
	    .other_key_type = "ED25519" };

	(void)unused;
	if ((K = calloc(1, sizeof(*K))) == NULL)
		return -1;
	tu_pki_make(K, &pki);
	return 0;
}

static int
group_teardown(void **unused)
{
	(void)unused;
	tu_pki_free(K);
	EVP_PKEY_free(dsa);
	free(K);
	return 0;
}

static void
capture(void *arg, int priority, const char *line)
{
	struct state *st = arg;
	size_t used = strlen(st->log);

	(void)priority;
	snprintf(st->log + used, sizeof(st->log) - used, "%s\n", line);
}

/*
 * A scratch directory that passes the safe-path rules: trust files get
 * the same checks as the bindings.  Only root can make one; main() skips
 * every test for anyone else.
 */
static int
setup(void **ctx)
{
	struct state *st = calloc(1, sizeof(*st));

	if (st == NULL || (st->dir = tu_safe_tmpdir()) == NULL) {
		free(st);
		return -1;
	}
	certauth_opts_init(&st->o);
	st->lg.emit = capture;
	st->lg.arg = st;
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

/* Set an option string to <dir>/<name>. */
static char *
opt_path(char **field, struct state *st, const char *name)
{
	free(*field);
	*field = tu_path(st->dir, name);
	return *field;
}

static void
write_cert(struct state *st, const char *name, X509 *cert)
{
	char *p = tu_path(st->dir, name);

	tu_write_certs(p, &cert, 1, 0644);
	free(p);
}

/* The usual CA setup: root in ca_file, intermediate in chain_file. */
static void
ca_setup(struct state *st)
{
	write_cert(st, "root.pem", K->ca);
	write_cert(st, "inter.pem", K->inter);
	opt_path(&st->o.ca_file, st, "root.pem");
	opt_path(&st->o.chain_file, st, "inter.pem");
}

/* Read the trust files of st->o and check cert's chain at time now. */
static int
check_at(struct state *st, X509 *cert, time_t now,
    struct certauth_reason *why)
{
	struct certauth_trust_set *t = NULL;
	int r;

	memset(why, 0, sizeof(*why));
	st->log[0] = '\0';
	r = certauth_trust_load(&st->o, NULL, &t, why);
	if (r != 0)
		fail_msg("trust_load: %d %s", r, why->text);
	r = certauth_chain_check(t, &st->lg, cert, now, NULL, why);
	certauth_trust_free(t);
	return r;
}

static int
check(struct state *st, X509 *cert, struct certauth_reason *why)
{
	return check_at(st, cert, time(NULL), why);
}

static X509 *
make_leaf(const struct tu_cert_opts *o)
{
	return tu_make_cert(K->user_key, o, K->inter, K->inter_key);
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

/* The time of t as "YYYY-MM-DD HH:MM:SS UTC", computed here
 * independently. */
static void
date_of(const ASN1_TIME *t, char out[24])
{
	struct tm tm;

	assert_true(ASN1_TIME_to_tm(t, &tm));
	assert_int_equal(strftime(out, 24, "%Y-%m-%d %H:%M:%S UTC", &tm), 23);
}

/* ------------------------------------------------------------ CA mode */

static void
test_ca_chain_ok(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);

	ca_setup(st);
	assert_int_equal(check(st, leaf, &why), 0);
	X509_free(leaf);
}

/* The subject key id of cert as OpenSSL prints it: "AB:CD:...". */
static void
key_id_of(X509 *cert, char *buf, size_t len)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert);
	size_t used = 0;
	int i;

	assert_non_null(ski);
	buf[0] = '\0';
	for (i = 0; i < ASN1_STRING_length(ski); i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%02X",
		    i == 0 ? "" : ":", ASN1_STRING_get0_data(ski)[i]);
}

#define ADD_ISSUER(name) \
	"add the certificate of " name " to chain_file (an intermediate " \
	"CA) or to ca_file/ca_dir (a root CA)"

/* A missing issuer is named, with its key id, and where it goes. */
static void
test_ca_missing_intermediate(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);
	char id[200], want[CERTAUTH_REASON_MAX];

	ca_setup(st);
	free(st->o.chain_file);
	st->o.chain_file = NULL;
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	key_id_of(K->inter, id, sizeof(id));
	snprintf(want, sizeof(want),
	    "unable to get local issuer certificate: the certificate is "
	    "issued by CN=Test Intermediate (authority key id %s), whose "
	    "certificate is in none of chain_file, ca_file and ca_dir; "
	    ADD_ISSUER("CN=Test Intermediate"),
	    id);
	assert_string_equal(why.text, want);
	X509_free(leaf);
}

/* The root missing above chain_file's intermediate: named at depth 1. */
static void
test_ca_missing_root(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts(), co = tu_ca_opts("Unrelated CA");
	X509 *leaf = make_leaf(&o), *other;
	char id[200], want[CERTAUTH_REASON_MAX];

	ca_setup(st);
	other = tu_make_cert(K->other_key, &co, NULL, K->other_key);
	write_cert(st, "other.pem", other);
	opt_path(&st->o.ca_file, st, "other.pem");
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	key_id_of(K->ca, id, sizeof(id));
	snprintf(want, sizeof(want),
	    "unable to get local issuer certificate: CA certificate "
	    "CN=Test Intermediate is issued by CN=Test Root CA (authority key "
	    "id %s), whose certificate is in none of chain_file, ca_file and "
	    "ca_dir; " ADD_ISSUER("CN=Test Root CA"),
	    id);
	assert_string_equal(why.text, want);
	X509_free(other);
	X509_free(leaf);
}

/* A certificate without an authority key id: the name alone. */
static void
test_ca_missing_issuer_no_key_id(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);
	int at = X509_get_ext_by_NID(leaf, NID_authority_key_identifier, -1);

	assert_true(at >= 0);
	X509_EXTENSION_free(X509_delete_ext(leaf, at));
	assert_true(X509_sign(leaf, K->inter_key, EVP_sha256()) > 0);
	ca_setup(st);
	free(st->o.chain_file);
	st->o.chain_file = NULL;
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_string_equal(why.text,
	    "unable to get local issuer certificate: the certificate is "
	    "issued by CN=Test Intermediate, whose certificate is in none of "
	    "chain_file, ca_file and ca_dir; "
	    ADD_ISSUER("CN=Test Intermediate"));
	X509_free(leaf);
}

static void
test_ca_untrusted_root_in_chain_file(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts(), co = tu_ca_opts("Unrelated CA");
	X509 *leaf = make_leaf(&o), *other_ca, *bundle[2];
	char *p;

	/* A root that arrives among the untrusted certificates is not an
	 * anchor: only ca_file/ca_dir are. */
	other_ca = tu_make_cert(K->other_key, &co, NULL, NULL);
	write_cert(st, "other.pem", other_ca);
	bundle[0] = K->inter;
	bundle[1] = K->ca;
	p = opt_path(&st->o.chain_file, st, "bundle.pem");
	tu_write_certs(p, bundle, 2, 0644);
	opt_path(&st->o.ca_file, st, "other.pem");
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_contains(why.text, "chain verification failed");

	/* The same bundle with the right anchor passes. */
	write_cert(st, "root.pem", K->ca);
	opt_path(&st->o.ca_file, st, "root.pem");
	assert_int_equal(check(st, leaf, &why), 0);
	X509_free(other_ca);
	X509_free(leaf);
}

static void
test_ca_expired(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	char date[24], expect[96];
	X509 *leaf;

	o.not_before_days = -400;
	o.not_after_days = -35;
	leaf = make_leaf(&o);
	ca_setup(st);
	date_of(X509_get0_notAfter(leaf), date);
	snprintf(expect, sizeof(expect), "certificate expired %s", date);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_string_equal(why.text, expect);
	X509_free(leaf);
}

static void
test_ca_not_yet_valid(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	char date[24], expect[96];
	X509 *leaf;

	o.not_before_days = 40;
	o.not_after_days = 400;
	leaf = make_leaf(&o);
	ca_setup(st);
	date_of(X509_get0_notBefore(leaf), date);
	snprintf(expect, sizeof(expect), "certificate not valid before %s",
	    date);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_string_equal(why.text, expect);
	X509_free(leaf);
}

static void
test_check_time_is_honoured(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);
	time_t now = time(NULL);

	ca_setup(st);
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	assert_int_equal(check_at(st, leaf, now + 400L * 86400, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_contains(why.text, "certificate expired");
	assert_int_equal(check_at(st, leaf, now - 5L * 86400, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_contains(why.text, "not valid before");
	X509_free(leaf);
}

static void
test_ca_expired_intermediate(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts io = INTER, o = leaf_opts();
	char date[24], expect[128];
	X509 *inter, *leaf;

	io.not_before_days = -100;
	io.not_after_days = -2;
	inter = tu_make_cert(K->inter_key, &io, K->ca, K->ca_key);
	leaf = tu_make_cert(K->user_key, &o, inter, K->inter_key);
	write_cert(st, "root.pem", K->ca);
	write_cert(st, "inter.pem", inter);
	opt_path(&st->o.ca_file, st, "root.pem");
	opt_path(&st->o.chain_file, st, "inter.pem");
	date_of(X509_get0_notAfter(inter), date);
	snprintf(expect, sizeof(expect),
	    "CA certificate CN=Test Intermediate expired %s", date);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_string_equal(why.text, expect);
	X509_free(leaf);
	X509_free(inter);
}

static void
test_usage_key_encipherment_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf;

	o.key_usage = "critical,keyEncipherment";
	o.ext_key_usage = NULL;
	leaf = make_leaf(&o);
	ca_setup(st);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_string_equal(why.text,
	    "keyUsage does not allow digitalSignature");
	X509_free(leaf);
}

static void
test_usage_server_auth_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf;

	o.ext_key_usage = "serverAuth";
	leaf = make_leaf(&o);
	ca_setup(st);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_string_equal(why.text,
	    "extendedKeyUsage does not allow clientAuth");
	X509_free(leaf);
}

static void
test_usage_allowed(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf;

	ca_setup(st);
	/* clientAuth among others, no keyUsage. */
	o.key_usage = NULL;
	o.ext_key_usage = "serverAuth,clientAuth";
	leaf = make_leaf(&o);
	assert_int_equal(check(st, leaf, &why), 0);
	X509_free(leaf);
	/* anyExtendedKeyUsage. */
	o.ext_key_usage = "anyExtendedKeyUsage";
	leaf = make_leaf(&o);
	assert_int_equal(check(st, leaf, &why), 0);
	X509_free(leaf);
	/* Neither extension at all. */
	o.ext_key_usage = NULL;
	leaf = make_leaf(&o);
	assert_int_equal(check(st, leaf, &why), 0);
	X509_free(leaf);
	/* digitalSignature among others. */
	o.key_usage = "digitalSignature,keyEncipherment";
	leaf = make_leaf(&o);
	assert_int_equal(check(st, leaf, &why), 0);
	X509_free(leaf);
}

static void
test_untrusted_self_signed(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = tu_make_cert(K->user_key, &o, NULL, NULL);

	ca_setup(st);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_contains(why.text, "chain verification failed at depth 0");
	X509_free(leaf);
}

static void
test_ca_dir_hashed(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);
	char name[32], *dir;
	unsigned long h;
	int ok = 0;

	dir = opt_path(&st->o.ca_dir, st, "certs");
	assert_int_equal(mkdir(dir, 0755), 0);
	h = X509_NAME_hash_ex(X509_get_subject_name(K->ca), NULL, NULL,
	    &ok);
	assert_true(ok);
	snprintf(name, sizeof(name), "certs/%08lx.0", h);
	write_cert(st, name, K->ca);
	write_cert(st, "inter.pem", K->inter);
	opt_path(&st->o.chain_file, st, "inter.pem");
	assert_int_equal(check(st, leaf, &why), 0);

	/* Without the hash link the anchor is not found. */
	snprintf(name, sizeof(name), "certs/%08lx.0", h);
	{
		char *p = tu_path(st->dir, name), *q = tu_path(dir, "root.pem");

		assert_int_equal(rename(p, q), 0);
		free(p);
		free(q);
	}
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	X509_free(leaf);
}

/* The <hash>.N name openssl rehash gives cert in dir "certs". */
static void
hashed_name(X509 *cert, int n, char *buf, size_t len)
{
	unsigned long h;
	int ok = 0;

	h = X509_NAME_hash_ex(X509_get_subject_name(cert), NULL, NULL, &ok);
	assert_true(ok);
	snprintf(buf, len, "certs/%08lx.%d", h, n);
}

/*
 * ca_dir holds the intermediate and the root, chain_file nothing: the
 * store found for the chain must hold the intermediate (the user's
 * issuer) and then the root (the intermediate's), looked up in turn.  A
 * decoy under the intermediate's hash at .0 (another CA's certificate
 * with another name) is passed over for the right one at .1.  Removing
 * the root's file takes effect at the next check in this process, and a
 * damaged file under a hash the chain needs refuses with its name.
 */
static void
test_ca_dir_chain_in_dir(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	struct tu_cert_opts decoy_opts = { "Decoy CA", -10, 3650, 1, NULL,
	    NULL, 0 };
	X509 *leaf = make_leaf(&o);
	X509 *decoy = tu_make_cert(K->other_key, &decoy_opts, NULL, NULL);
	char name[64], *dir, *path;

	dir = opt_path(&st->o.ca_dir, st, "certs");
	assert_int_equal(mkdir(dir, 0755), 0);
	hashed_name(K->inter, 0, name, sizeof(name));
	write_cert(st, name, decoy);
	hashed_name(K->inter, 1, name, sizeof(name));
	write_cert(st, name, K->inter);
	hashed_name(K->ca, 0, name, sizeof(name));
	write_cert(st, name, K->ca);
	assert_int_equal(check(st, leaf, &why), 0);
	assert_int_equal(check(st, leaf, &why), 0);

	/* The root's file goes: no anchor above the intermediate. */
	path = tu_path(st->dir, name);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_contains(why.text, "unable to get issuer certificate");

	/* A damaged file where the root's was. */
	tu_write_file(path, "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n", 0644);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_TRUST_STORE);
	assert_contains(why.text, "cannot load ca_dir file");
	assert_contains(why.text, path);
	free(path);
	X509_free(decoy);
	X509_free(leaf);
}

/*
 * cert's DER with its signature's BIT STRING tag changed: the subject can
 * still be read out of it, but OpenSSL's parser refuses it.  PEM text of
 * it, malloc'd.
 */
static char *
unparsable_pem(X509 *cert)
{
	const ASN1_BIT_STRING *sig = NULL;
	unsigned char *der = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	long c, hdr;
	int len;

	assert_non_null(bio);
	assert_true((len = i2d_X509(cert, &der)) > 0);
	X509_get0_signature(&sig, NULL, cert);
	c = ASN1_STRING_length(sig) + 1;
	hdr = c < 128 ? 2 : c < 256 ? 3 : 4;
	assert_int_equal(der[len - c - hdr], V_ASN1_BIT_STRING);
	der[len - c - hdr] = V_ASN1_OCTET_STRING;
	assert_true(PEM_write_bio(bio, "CERTIFICATE", "", der, len) > 0);
	OPENSSL_free(der);
	return tu_bio_text(bio);
}

/*
 * A ca_file is parsed only as far as the chain needs: an unreadable
 * certificate of another CA in the bundle costs nothing, while one under
 * the name the chain needs refuses the login, naming it.
 */
static void
test_ca_file_parses_only_what_the_chain_uses(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	struct tu_cert_opts decoy_opts = { "Decoy CA", -10, 3650, 1, NULL,
	    NULL, 0 };
	X509 *leaf = make_leaf(&o);
	X509 *decoy = tu_make_cert(K->other_key, &decoy_opts, NULL, NULL);
	char *bad_decoy = unparsable_pem(decoy), *bad_root =
	    unparsable_pem(K->ca), *root = tu_pem_text(K->ca);
	char *bundle = NULL, *path;

	ca_setup(st);
	path = opt_path(&st->o.ca_file, st, "bundle.pem");
	assert_true(asprintf(&bundle, "%s%s", bad_decoy, root) > 0);
	tu_write_file(path, bundle, 0644);
	assert_int_equal(check(st, leaf, &why), 0);
	free(bundle);

	assert_true(asprintf(&bundle, "%s%s", bad_root, root) > 0);
	tu_write_file(path, bundle, 0644);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_TRUST_STORE);
	assert_contains(why.text, "certificate 1 does not parse");
	assert_contains(why.text, path);
	free(bundle);
	free(bad_decoy);
	free(bad_root);
	free(root);
	X509_free(decoy);
	X509_free(leaf);
}

/*
 * cert as a TRUSTED CERTIFICATE block, as openssl x509 -trustout writes
 * it: with -addreject clientAuth (reject), -addtrust clientAuth (trust),
 * -setalias (alias) or nothing more.  PEM text, malloc'd.
 */
static char *
trusted_pem(X509 *cert, const char *how)
{
	BIO *bio = BIO_new(BIO_s_mem());
	X509 *copy = X509_dup(cert);
	ASN1_OBJECT *client = OBJ_nid2obj(NID_client_auth);

	assert_non_null(bio);
	assert_non_null(copy);
	if (strcmp(how, "reject") == 0)
		assert_true(X509_add1_reject_object(copy, client));
	else if (strcmp(how, "trust") == 0)
		assert_true(X509_add1_trust_object(copy, client));
	else if (strcmp(how, "alias") == 0)
		assert_true(X509_alias_set1(copy,
		    (const unsigned char *)"root", -1));
	assert_int_equal(PEM_write_bio_X509_AUX(bio, copy), 1);
	X509_free(copy);
	return tu_bio_text(bio);
}

/*
 * OpenSSL trust settings in ca_file are not honoured but refused: a
 * check whose chain can use an anchor that carries them (trusted for
 * clientAuth, or rejected for it) fails, naming the file and the block;
 * without settings (no auxiliary data, or only an alias) a TRUSTED
 * CERTIFICATE is a plain anchor, and settings on an anchor the chain
 * cannot use cost nothing.
 */
static void
test_ca_file_trusted_certificate(void **ctx)
{
	static const char *refused[] = { "reject", "trust" };
	static const char *plain[] = { "none", "alias" };
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	struct tu_cert_opts decoy_opts = { "Decoy CA", -10, 3650, 1, NULL,
	    NULL, 0 };
	X509 *leaf = make_leaf(&o);
	X509 *decoy = tu_make_cert(K->other_key, &decoy_opts, NULL, NULL);
	char *decoy_pem = tu_pem_text(decoy), *root_pem =
	    tu_pem_text(K->ca), *bundle = NULL, *t, *path,
	    expect[1024];
	size_t i;

	ca_setup(st);
	path = opt_path(&st->o.ca_file, st, "bundle.pem");
	snprintf(expect, sizeof(expect), "cannot load ca_file %s: PEM block "
	    "2 is a TRUSTED CERTIFICATE with trust settings, which are not "
	    "honoured; use a plain CERTIFICATE", path);
	for (i = 0; i < 2; i++) {
		t = trusted_pem(K->ca, refused[i]);
		assert_true(asprintf(&bundle, "%s%s", decoy_pem, t) > 0);
		tu_write_file(path, bundle, 0644);
		assert_int_equal(check(st, leaf, &why),
		    CERTAUTH_ERR_TRUST_STORE);
		assert_string_equal(why.text, expect);
		free(bundle);
		free(t);
	}
	for (i = 0; i < 2; i++) {
		t = trusted_pem(K->ca, plain[i]);
		assert_true(asprintf(&bundle, "%s%s", decoy_pem, t) > 0);
		tu_write_file(path, bundle, 0644);
		assert_int_equal(check(st, leaf, &why), 0);
		free(bundle);
		free(t);
	}
	t = trusted_pem(decoy, "reject");
	assert_true(asprintf(&bundle, "%s%s", t, root_pem) > 0);
	tu_write_file(path, bundle, 0644);
	assert_int_equal(check(st, leaf, &why), 0);
	free(bundle);
	free(t);
	free(decoy_pem);
	free(root_pem);
	X509_free(decoy);
	X509_free(leaf);
}

/* ------------------------------------------------------------ keys */

static void
test_rsa1024_leaf_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	EVP_PKEY *k = tu_keygen("RSA:1024");
	X509 *leaf = tu_make_cert(k, &o, K->inter, K->inter_key);

	ca_setup(st);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_KEY_REFUSED);
	assert_contains(why.text, "1024");
	X509_free(leaf);
	EVP_PKEY_free(k);
}

static EVP_PKEY *
dsa_key(void)
{
	if (dsa == NULL)
		dsa = tu_keygen("DSA");
	assert_true(EVP_PKEY_up_ref(dsa));
	return dsa;
}

static void
test_dsa_leaf_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	EVP_PKEY *k = dsa_key();
	X509 *leaf = tu_make_cert(k, &o, K->inter, K->inter_key);

	ca_setup(st);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_KEY_REFUSED);
	X509_free(leaf);
	EVP_PKEY_free(k);
}

static void
test_dsa_intermediate_refused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	EVP_PKEY *k = dsa_key();
	X509 *inter = tu_make_cert(k, &INTER, K->ca, K->ca_key);
	X509 *leaf = tu_make_cert(K->user_key, &o, inter, k);

	write_cert(st, "root.pem", K->ca);
	write_cert(st, "inter.pem", inter);
	opt_path(&st->o.ca_file, st, "root.pem");
	opt_path(&st->o.chain_file, st, "inter.pem");
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_KEY_REFUSED);
	assert_contains(why.text, "DSA");
	assert_contains(why.text, "Test Intermediate");
	X509_free(leaf);
	X509_free(inter);
	EVP_PKEY_free(k);
}

static void
test_ed25519_leaf_ok(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = tu_make_cert(K->other_key, &o, K->inter, K->inter_key);

	ca_setup(st);
	assert_int_equal(check(st, leaf, &why), 0);
	X509_free(leaf);
}

/* ------------------------------------------------------------ pinned */

static void
test_pinned(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *self = tu_make_cert(K->user_key, &o, NULL, NULL);
	X509 *issued = make_leaf(&o);

	st->o.trust = CERTAUTH_TRUST_PINNED;
	assert_int_equal(check(st, self, &why), 0);
	/* Any certificate is its own anchor, even one whose CA is unknown. */
	assert_int_equal(check(st, issued, &why), 0);
	X509_free(issued);
	/* Usage rules still apply. */
	o.ext_key_usage = "serverAuth";
	issued = tu_make_cert(K->user_key, &o, NULL, NULL);
	assert_int_equal(check(st, issued, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_string_equal(why.text,
	    "extendedKeyUsage does not allow clientAuth");
	X509_free(issued);
	X509_free(self);
}

static void
test_pinned_expired(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	char date[24], expect[96];
	X509 *self;

	o.not_before_days = -30;
	o.not_after_days = -3;
	self = tu_make_cert(K->user_key, &o, NULL, NULL);
	st->o.trust = CERTAUTH_TRUST_PINNED;
	date_of(X509_get0_notAfter(self), date);
	snprintf(expect, sizeof(expect), "certificate expired %s", date);
	assert_int_equal(check(st, self, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_string_equal(why.text, expect);
	X509_free(self);
}

/* ------------------------------------------------------------ CRLs */

static void
write_crl(struct state *st, const char *name, X509 *issuer, EVP_PKEY *key,
    X509 **revoked, int n)
{
	X509_CRL *crl = tu_make_crl(issuer, key, revoked, n);
	char *p = tu_path(st->dir, name);

	tu_write_crl(p, crl);
	free(p);
	X509_CRL_free(crl);
}

static void
test_crl_leaf_revoked(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o), *other;

	o.cn = "bob";
	other = make_leaf(&o);
	ca_setup(st);
	write_crl(st, "inter.crl", K->inter, K->inter_key, &leaf, 1);
	opt_path(&st->o.crl_file, st, "inter.crl");
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_REVOKED);
	assert_string_equal(why.text, "certificate revoked (CRL)");
	assert_int_equal(check(st, other, &why), 0);
	/* crl=default with a CRL source means leaf. */
	st->o.crl = CERTAUTH_CRL_DEFAULT;
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_REVOKED);
	X509_free(other);
	X509_free(leaf);
}

static void
test_crl_missing_for_issuer(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);

	ca_setup(st);
	/* A CRL, but from the root: nothing says the leaf is not revoked. */
	write_crl(st, "root.crl", K->ca, K->ca_key, NULL, 0);
	opt_path(&st->o.crl_file, st, "root.crl");
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_contains(why.text, "no CRL for issuer");
	assert_contains(why.text, "Test Intermediate");
	X509_free(leaf);
}

static void
test_crl_chain_scope(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);
	char *dir;

	ca_setup(st);
	dir = opt_path(&st->o.crl_dir, st, "crls");
	assert_int_equal(mkdir(dir, 0755), 0);
	write_crl(st, "crls/root.crl", K->ca, K->ca_key, &K->inter,
	    1);
	write_crl(st, "crls/inter.crl", K->inter, K->inter_key, NULL, 0);

	st->o.crl = CERTAUTH_CRL_CHAIN;
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_REVOKED);
	assert_contains(why.text, "CA certificate");
	assert_contains(why.text, "Test Intermediate");
	assert_contains(why.text, "revoked (CRL)");

	/* Leaf scope looks at the leaf's issuer CRL only. */
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check(st, leaf, &why), 0);

	/* Chain scope needs the root's CRL too. */
	write_crl(st, "crls/root.crl", K->ca, K->ca_key, NULL, 0);
	st->o.crl = CERTAUTH_CRL_CHAIN;
	assert_int_equal(check(st, leaf, &why), 0);
	{
		char *p = tu_path(dir, "root.crl");

		assert_int_equal(unlink(p), 0);
		free(p);
	}
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_contains(why.text, "no CRL for issuer");
	X509_free(leaf);
}

static void
test_crl_der(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o), *other;
	X509_CRL *crl = tu_make_crl(K->inter, K->inter_key, &leaf, 1);
	unsigned char *der = NULL;
	int len;
	char *p;
	FILE *f;

	o.cn = "bob";
	other = make_leaf(&o);
	ca_setup(st);
	p = opt_path(&st->o.crl_file, st, "inter.der");
	assert_true((len = i2d_X509_CRL(crl, &der)) > 0);
	assert_non_null(f = fopen(p, "wb"));
	assert_int_equal(fwrite(der, 1, (size_t)len, f), (size_t)len);
	assert_int_equal(fclose(f), 0);
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_REVOKED);
	assert_int_equal(check(st, other, &why), 0);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	X509_free(other);
	X509_free(leaf);
}

/* t as "YYYY-MM-DD HH:MM:SS UTC", computed here independently. */
static void
utc_of(time_t t, char out[24])
{
	struct tm tm;

	assert_non_null(gmtime_r(&t, &tm));
	assert_int_equal(strftime(out, 24, "%Y-%m-%d %H:%M:%S UTC", &tm), 23);
}

/* The intermediate's CRL revoking n of revoked, dated last and next, as
 * crl_file <dir>/name; returns its path. */
static char *
dated_crl_file(struct state *st, const char *name, X509 **revoked, int n,
    time_t last, time_t next)
{
	X509_CRL *crl = tu_make_crl(K->inter, K->inter_key, revoked, n);
	char *p = opt_path(&st->o.crl_file, st, name);

	tu_crl_set_dates(crl, K->inter_key, last, next);
	tu_write_crl(p, crl);
	X509_CRL_free(crl);
	return p;
}

/* The exact refusal of a CRL past nextUpdate beyond crl_grace. */
static void
assert_crl_expired(const struct certauth_reason *why, const char *where,
    const char *issuer, time_t next, long grace)
{
	char when[24], expect[CERTAUTH_REASON_MAX];

	utc_of(next, when);
	snprintf(expect, sizeof(expect), "CRL in %s (issuer %s) expired at "
	    "%s (its nextUpdate), beyond crl_grace=%ld; install a newer CRL "
	    "from that CA, or check this host's clock", where, issuer, when,
	    grace);
	assert_string_equal(why->text, expect);
	assert_int_equal(why->host_fault, 1);
}

/* The exact refusal of a CRL whose lastUpdate is beyond crl_skew ahead. */
static void
assert_crl_early(const struct certauth_reason *why, const char *where,
    time_t last, long skew)
{
	char when[24], expect[CERTAUTH_REASON_MAX];

	utc_of(last, when);
	snprintf(expect, sizeof(expect), "CRL in %s (issuer CN=Test "
	    "Intermediate) is not valid before %s (its lastUpdate), beyond "
	    "crl_skew=%ld; is this host's clock behind?", where, when, skew);
	assert_string_equal(why->text, expect);
	assert_int_equal(why->host_fault, 1);
}

/*
 * A CRL out of date names its file, its issuer, the date in full and
 * what to do, whether it came from crl_file or crl_dir; the refusal is a
 * fault of the host.
 */
static void
test_crl_out_of_date(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf;
	time_t now = time(NULL), last = now - 86400, next = now + 30 * 86400;
	char *p, *dir, *in_dir, where[PATH_MAX + 32];
	X509_CRL *crl;

	o.not_before_days = -5;
	leaf = make_leaf(&o);
	ca_setup(st);
	p = dated_crl_file(st, "inter.crl", NULL, 0, last, next);
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	snprintf(where, sizeof(where), "crl_file %s", p);
	assert_int_equal(check_at(st, leaf, now + 40 * 86400, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_crl_expired(&why, where, "CN=Test Intermediate", next, 0);
	/* Issued a day ago: a clock two days slow sees it from the future. */
	assert_int_equal(check_at(st, leaf, now - 2 * 86400, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_crl_early(&why, where, last, 300);

	/* The same CRL as a file of crl_dir. */
	free(st->o.crl_file);
	st->o.crl_file = NULL;
	dir = opt_path(&st->o.crl_dir, st, "crls");
	assert_int_equal(mkdir(dir, 0755), 0);
	in_dir = tu_path(dir, "inter.pem");
	assert_non_null(crl = tu_make_crl(K->inter, K->inter_key, NULL, 0));
	tu_crl_set_dates(crl, K->inter_key, last, next);
	tu_write_crl(in_dir, crl);
	snprintf(where, sizeof(where), "crl_dir file %s", in_dir);
	assert_int_equal(check_at(st, leaf, now + 40 * 86400, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_crl_expired(&why, where, "CN=Test Intermediate", next, 0);
	X509_CRL_free(crl);
	free(in_dir);
	X509_free(leaf);
}

/*
 * crl_skew: a CRL whose lastUpdate is up to that far ahead of this
 * host's clock (a clock a few minutes slow) is used; beyond it, the
 * login is refused naming the date.
 */
static void
test_crl_skew(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);
	time_t now = time(NULL), last = now + 120;
	char *p, where[PATH_MAX + 32];

	ca_setup(st);
	p = dated_crl_file(st, "inter.crl", NULL, 0, last, now + 30 * 86400);
	snprintf(where, sizeof(where), "crl_file %s", p);
	/* The default, 300 seconds. */
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	assert_string_equal(st->log, "");
	st->o.crl_skew = 120;
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	st->o.crl_skew = 119;
	assert_int_equal(check_at(st, leaf, now, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_crl_early(&why, where, last, 119);
	st->o.crl_skew = 0;
	assert_int_equal(check_at(st, leaf, now, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_crl_early(&why, where, last, 0);
	X509_free(leaf);
}

/*
 * crl_grace: a CRL up to that far past its nextUpdate is still used,
 * with a warning at each check naming the file, the issuer, the date and
 * how long ago; beyond it, refused.  It still revokes, and it never lets
 * an expired certificate through.
 */
static void
test_crl_grace(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts(), old = leaf_opts();
	X509 *leaf = make_leaf(&o), *expired;
	time_t now = time(NULL), next = now - 3600;
	char *p, where[PATH_MAX + 32], when[24], warn[PATH_MAX + 512];

	old.not_before_days = -400;
	old.not_after_days = -1;
	expired = make_leaf(&old);
	ca_setup(st);
	p = dated_crl_file(st, "inter.crl", NULL, 0, now - 31 * 86400, next);
	snprintf(where, sizeof(where), "crl_file %s", p);
	utc_of(next, when);
	assert_int_equal(check_at(st, leaf, now, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_crl_expired(&why, where, "CN=Test Intermediate", next, 0);
	assert_string_equal(st->log, "");

	st->o.crl_grace = 7200;
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	snprintf(warn, sizeof(warn), "CRL in %s (issuer CN=Test "
	    "Intermediate) expired at %s (its nextUpdate), 3600 seconds "
	    "(about 60 minutes) ago; still used under crl_grace=7200, so "
	    "revocations published since are not seen: install a newer CRL "
	    "from that CA\n", where, when);
	assert_string_equal(st->log, warn);
	st->o.crl_grace = 3600;
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	st->o.crl_grace = 3599;
	assert_int_equal(check_at(st, leaf, now, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_crl_expired(&why, where, "CN=Test Intermediate", next, 3599);
	assert_string_equal(st->log, "");

	/* Under grace the CRL still revokes... */
	st->o.crl_grace = 7200;
	dated_crl_file(st, "inter.crl", &leaf, 1, now - 31 * 86400, next);
	assert_int_equal(check_at(st, leaf, now, &why), CERTAUTH_ERR_REVOKED);
	assert_string_equal(why.text, "certificate revoked (CRL)");
	/* ...and an expired certificate stays expired. */
	dated_crl_file(st, "inter.crl", NULL, 0, now - 31 * 86400, next);
	date_of(X509_get0_notAfter(expired), when);
	snprintf(warn, sizeof(warn), "certificate expired %s", when);
	assert_int_equal(check_at(st, expired, now, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_string_equal(why.text, warn);
	assert_int_equal(why.host_fault, 0);
	X509_free(expired);
	X509_free(leaf);
}

/*
 * crl_warn: a CRL the check reads that expires within that window logs
 * one warning naming file, issuer, nextUpdate and the time left; the
 * check passes.  A CRL the check does not read (the root's, with
 * crl=leaf) is not this login's concern.
 */
static void
test_crl_warn(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);
	time_t now = time(NULL), next = now + 7200;
	X509_CRL *crl;
	char *p, *dir, when[24], warn[PATH_MAX + 512], more[PATH_MAX + 512];

	ca_setup(st);
	p = dated_crl_file(st, "inter.crl", NULL, 0, now - 86400, next);
	utc_of(next, when);
	snprintf(warn, sizeof(warn), "CRL in crl_file %s (issuer CN=Test "
	    "Intermediate) expires at %s (its nextUpdate), in 7200 seconds "
	    "(about 2 hours); install a newer CRL from that CA before then\n",
	    p, when);
	/* The default, a day. */
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	assert_string_equal(st->log, warn);
	st->o.crl_warn = 7200;
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	assert_string_equal(st->log, warn);
	st->o.crl_warn = 7199;
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	assert_string_equal(st->log, "");
	st->o.crl_warn = 0;
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	assert_string_equal(st->log, "");

	/* The root's CRL, about to expire, in crl_dir beside a fresh CRL of
	 * the intermediate. */
	st->o.crl_warn = 86400;
	free(st->o.crl_file);
	st->o.crl_file = NULL;
	dir = opt_path(&st->o.crl_dir, st, "crls");
	assert_int_equal(mkdir(dir, 0755), 0);
	write_crl(st, "crls/inter.crl", K->inter, K->inter_key, NULL, 0);
	assert_non_null(crl = tu_make_crl(K->ca, K->ca_key, NULL, 0));
	tu_crl_set_dates(crl, K->ca_key, now - 86400, next);
	p = tu_path(dir, "root.crl");
	tu_write_crl(p, crl);
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	assert_string_equal(st->log, "");
	st->o.crl = CERTAUTH_CRL_CHAIN;
	assert_int_equal(check_at(st, leaf, now, &why), 0);
	snprintf(more, sizeof(more), "CRL in crl_dir file %s (issuer "
	    "CN=Test Root CA) expires at %s (its nextUpdate), in 7200 seconds "
	    "(about 2 hours); install a newer CRL from that CA before then\n",
	    p, when);
	assert_string_equal(st->log, more);
	free(p);
	X509_CRL_free(crl);
	X509_free(leaf);
}

/* ------------------------------------------------------------ delta CRLs */

/* An extension from its openssl.cnf text, e.g. a freshestCRL. */
static X509_EXTENSION *
conf_ext(int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v3, NULL, NULL, NULL, NULL, 0);
	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value));
	return ext;
}

#define FRESHEST	"URI:http://crl.example/inter-delta.crl"

/*
 * A CRL of the intermediate numbered num, revoking the given
 * certificates: complete when from is 0, else a delta CRL of base CRL
 * number from (its deltaCRLIndicator critical, as RFC 5280 says);
 * freshest adds a freshestCRL extension.
 */
static X509_CRL *
inter_crl(X509 **revoked, int n, long num, long from, int freshest)
{
	X509_CRL *crl = tu_make_crl(K->inter, K->inter_key, revoked, n);
	ASN1_INTEGER *v = ASN1_INTEGER_new();
	X509_EXTENSION *ext;

	assert_non_null(v);
	assert_true(ASN1_INTEGER_set(v, num));
	assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_crl_number, v, 0,
	    X509V3_ADD_REPLACE), 1);
	if (from != 0) {
		assert_true(ASN1_INTEGER_set(v, from));
		assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, v,
		    1, X509V3_ADD_DEFAULT), 1);
	}
	if (freshest) {
		ext = conf_ext(NID_freshest_crl, FRESHEST);
		assert_true(X509_CRL_add_ext(crl, ext, -1));
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_CRL_sign(crl, K->inter_key, EVP_sha256()) > 0);
	ASN1_INTEGER_free(v);
	return crl;
}

/* Write CRLs to one PEM file in the scratch directory; returns its path. */
static char *
write_crls(struct state *st, const char *name, X509_CRL **crls, int n)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *text, *path = tu_path(st->dir, name);
	int i;

	assert_non_null(bio);
	for (i = 0; i < n; i++)
		assert_true(PEM_write_bio_X509_CRL(bio, crls[i]));
	text = tu_bio_text(bio);
	tu_write_file(path, text, 0644);
	free(text);
	for (i = 0; i < n; i++)
		X509_CRL_free(crls[i]);
	return path;
}

/* A user certificate whose freshestCRL names the intermediate's delta
 * CRLs; parsed anew, as a login would. */
static X509 *
leaf_with_freshest(const struct tu_cert_opts *o)
{
	X509 *leaf = make_leaf(o), *fresh;
	X509_EXTENSION *ext = conf_ext(NID_freshest_crl, FRESHEST);
	unsigned char *der = NULL;
	const unsigned char *q;
	int len;

	assert_true(X509_add_ext(leaf, ext, -1));
	assert_true(X509_sign(leaf, K->inter_key, EVP_sha256()) > 0);
	assert_true((len = i2d_X509(leaf, &der)) > 0);
	q = der;
	assert_non_null(fresh = d2i_X509(NULL, &q, len));
	OPENSSL_free(der);
	X509_EXTENSION_free(ext);
	X509_free(leaf);
	return fresh;
}

/* The warning of an unused delta CRL, exactly. */
static void
assert_unused_delta(struct state *st, const char *path, const char *issuer,
    long num, const char *why)
{
	char expect[1024];

	snprintf(expect, sizeof(expect), "delta CRL in %s (issuer %s, "
	    "CRL number %ld) is not used: %s\n", path, issuer, num, why);
	assert_string_equal(st->log, expect);
}

#define NO_FRESHEST	"neither its base CRL nor the certificate has a " \
	"freshestCRL extension"
#define NO_BASE		"no complete CRL loaded is its base (same issuer, " \
	"CRL number from its base CRL number up to below its own)"
#define OTHER_READ	"a newer base CRL, or another delta CRL of the same " \
	"base, was read instead"

/*
 * Neither the base CRL nor the certificate has freshestCRL: OpenSSL
 * (RFC 5280 delta processing, X509_V_FLAG_USE_DELTAS) never reads the
 * delta CRL, so a certificate it alone revokes still passes, and each
 * such check logs one warning naming the file.  A delta CRL is never
 * taken for a complete one: alone, it leaves the issuer without a CRL.
 */
static void
test_crl_delta_unused_without_freshest(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);
	X509_CRL *base = inter_crl(NULL, 0, 1, 0, 0);
	X509_CRL *delta = inter_crl(&leaf, 1, 2, 1, 0);
	char *dir, *delta_path;

	ca_setup(st);
	dir = opt_path(&st->o.crl_dir, st, "crls");
	assert_int_equal(mkdir(dir, 0755), 0);
	free(write_crls(st, "crls/base.crl", &base, 1));
	delta_path = write_crls(st, "crls/delta.crl", &delta, 1);
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check(st, leaf, &why), 0);
	assert_unused_delta(st, delta_path, "CN=Test Intermediate", 2,
	    NO_FRESHEST);

	/* The same with crl=chain, the root's CRL beside them. */
	write_crl(st, "crls/root.crl", K->ca, K->ca_key, NULL, 0);
	st->o.crl = CERTAUTH_CRL_CHAIN;
	assert_int_equal(check(st, leaf, &why), 0);
	assert_unused_delta(st, delta_path, "CN=Test Intermediate", 2,
	    NO_FRESHEST);

	/* The delta CRL alone. */
	{
		char *p = tu_path(dir, "base.crl");

		assert_int_equal(unlink(p), 0);
		free(p);
	}
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_CERT_INVALID);
	assert_contains(why.text, "no CRL for issuer CN=Test Intermediate");
	assert_unused_delta(st, delta_path, "CN=Test Intermediate", 2,
	    NO_BASE);
	free(delta_path);
	X509_free(leaf);
}

/* A base CRL with freshestCRL: its delta CRL is read for every
 * certificate of its issuer, and nothing is logged. */
static void
test_crl_delta_read_with_freshest_base(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o), *other;
	X509_CRL *crls[2];

	o.cn = "bob";
	other = make_leaf(&o);
	ca_setup(st);
	crls[0] = inter_crl(NULL, 0, 1, 0, 1);
	crls[1] = inter_crl(&leaf, 1, 2, 1, 0);
	free(write_crls(st, "inter.crl", crls, 2));
	opt_path(&st->o.crl_file, st, "inter.crl");
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_REVOKED);
	assert_string_equal(why.text, "certificate revoked (CRL)");
	assert_string_equal(st->log, "");
	assert_int_equal(check(st, other, &why), 0);
	assert_string_equal(st->log, "");
	X509_free(other);
	X509_free(leaf);
}

/* A certificate with freshestCRL has the delta CRL read for it alone; a
 * certificate without, revoked by the same delta CRL, passes with the
 * warning. */
static void
test_crl_delta_read_with_freshest_cert(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *fresh = leaf_with_freshest(&o), *plain, *revoked[2];
	X509_CRL *crls[2];
	char *path;

	o.cn = "bob";
	plain = make_leaf(&o);
	revoked[0] = fresh;
	revoked[1] = plain;
	ca_setup(st);
	crls[0] = inter_crl(NULL, 0, 1, 0, 0);
	crls[1] = inter_crl(revoked, 2, 2, 1, 0);
	path = write_crls(st, "inter.crl", crls, 2);
	opt_path(&st->o.crl_file, st, "inter.crl");
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check(st, fresh, &why), CERTAUTH_ERR_REVOKED);
	assert_string_equal(st->log, "");
	assert_int_equal(check(st, plain, &why), 0);
	assert_unused_delta(st, path, "CN=Test Intermediate", 2,
	    NO_FRESHEST);
	free(path);
	X509_free(plain);
	X509_free(fresh);
}

/*
 * crl_grace and delta CRLs: each CRL is judged by its own nextUpdate, so
 * a delta CRL past the grace refuses the check though its base is
 * within it, a base past the grace refuses though its delta is within
 * it, and a delta CRL used under grace still revokes.
 */
static void
test_crl_grace_delta(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *fresh = leaf_with_freshest(&o);
	X509_CRL *crls[2];
	time_t now = time(NULL), hour = now - 3600, three = now - 3 * 3600;
	char *path, where[PATH_MAX + 32], when[24], warn[PATH_MAX + 512];
	char twice[2 * sizeof(warn)];

	ca_setup(st);
	st->o.crl = CERTAUTH_CRL_LEAF;
	st->o.crl_grace = 7200;
	opt_path(&st->o.crl_file, st, "inter.crl");

	/* The base within grace, the delta revoking alice past it. */
	crls[0] = inter_crl(NULL, 0, 1, 0, 0);
	crls[1] = inter_crl(&fresh, 1, 2, 1, 0);
	tu_crl_set_dates(crls[0], K->inter_key, now - 86400, hour);
	tu_crl_set_dates(crls[1], K->inter_key, now - 86400, three);
	path = write_crls(st, "inter.crl", crls, 2);
	snprintf(where, sizeof(where), "crl_file %s", path);
	assert_int_equal(check_at(st, fresh, now, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_crl_expired(&why, where, "CN=Test Intermediate", three, 7200);
	free(path);

	/* The base past grace, the delta within it. */
	crls[0] = inter_crl(NULL, 0, 1, 0, 0);
	crls[1] = inter_crl(&fresh, 1, 2, 1, 0);
	tu_crl_set_dates(crls[0], K->inter_key, now - 86400, three);
	tu_crl_set_dates(crls[1], K->inter_key, now - 86400, hour);
	free(write_crls(st, "inter.crl", crls, 2));
	assert_int_equal(check_at(st, fresh, now, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_crl_expired(&why, where, "CN=Test Intermediate", three, 7200);

	/* Both within grace: the delta is read, and revokes. */
	crls[0] = inter_crl(NULL, 0, 1, 0, 0);
	crls[1] = inter_crl(&fresh, 1, 2, 1, 0);
	tu_crl_set_dates(crls[0], K->inter_key, now - 86400, hour);
	tu_crl_set_dates(crls[1], K->inter_key, now - 86400, hour);
	free(write_crls(st, "inter.crl", crls, 2));
	assert_int_equal(check_at(st, fresh, now, &why), CERTAUTH_ERR_REVOKED);
	assert_string_equal(why.text, "certificate revoked (CRL)");
	utc_of(hour, when);
	snprintf(warn, sizeof(warn), "CRL in %s (issuer CN=Test "
	    "Intermediate) expired at %s (its nextUpdate), 3600 seconds "
	    "(about 60 minutes) ago; still used under crl_grace=7200, so "
	    "revocations published since are not seen: install a newer CRL "
	    "from that CA\n", where, when);
	/* One line for each: base and delta. */
	snprintf(twice, sizeof(twice), "%s%s", warn, warn);
	assert_string_equal(st->log, twice);
	X509_free(fresh);
}

/*
 * Two delta CRLs of one base: OpenSSL reads only the first it finds that
 * extends the base, in the order of crl_file, so a revocation in the
 * second does not refuse, and the warning names it.
 */
static void
test_crl_delta_second_of_a_base_unused(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);
	X509_CRL *crls[3];
	char *path;

	ca_setup(st);
	crls[0] = inter_crl(NULL, 0, 1, 0, 1);
	crls[1] = inter_crl(NULL, 0, 2, 1, 0);
	crls[2] = inter_crl(&leaf, 1, 3, 1, 0);
	path = write_crls(st, "inter.crl", crls, 3);
	opt_path(&st->o.crl_file, st, "inter.crl");
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check(st, leaf, &why), 0);
	assert_unused_delta(st, path, "CN=Test Intermediate", 3, OTHER_READ);
	free(path);
	X509_free(leaf);
}

/*
 * Only the delta CRLs of issuers whose CRLs the check looks up are
 * reported: the root's, which covers the intermediate, with crl=chain
 * only.
 */
static void
test_crl_delta_of_other_issuer(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);
	X509_CRL *root_delta = tu_make_crl(K->ca, K->ca_key, NULL, 0);
	ASN1_INTEGER *v = ASN1_INTEGER_new();
	char *dir, *path;

	assert_non_null(v);
	assert_true(ASN1_INTEGER_set(v, 7));
	assert_int_equal(X509_CRL_add1_ext_i2d(root_delta, NID_crl_number, v,
	    0, X509V3_ADD_REPLACE), 1);
	assert_true(ASN1_INTEGER_set(v, 1));
	assert_int_equal(X509_CRL_add1_ext_i2d(root_delta, NID_delta_crl, v,
	    1, X509V3_ADD_DEFAULT), 1);
	assert_true(X509_CRL_sign(root_delta, K->ca_key, EVP_sha384()) > 0);
	ASN1_INTEGER_free(v);

	ca_setup(st);
	dir = opt_path(&st->o.crl_dir, st, "crls");
	assert_int_equal(mkdir(dir, 0755), 0);
	write_crl(st, "crls/inter.crl", K->inter, K->inter_key, NULL, 0);
	write_crl(st, "crls/root.crl", K->ca, K->ca_key, NULL, 0);
	path = write_crls(st, "crls/root-delta.crl", &root_delta, 1);
	st->o.crl = CERTAUTH_CRL_LEAF;
	assert_int_equal(check(st, leaf, &why), 0);
	assert_string_equal(st->log, "");
	st->o.crl = CERTAUTH_CRL_CHAIN;
	assert_int_equal(check(st, leaf, &why), 0);
	assert_unused_delta(st, path, "CN=Test Root CA", 7, NO_FRESHEST);
	free(path);
	X509_free(leaf);
}

/* ------------------------------------------------------------ loading */

static void
assert_load_fails(struct state *st, const char *needle1,
    const char *needle2)
{
	struct certauth_trust_set *p = NULL;
	struct certauth_reason why;

	memset(&why, 0, sizeof(why));
	assert_int_equal(certauth_trust_load(&st->o, NULL, &p, &why),
	    CERTAUTH_ERR_TRUST_STORE);
	assert_null(p);
	assert_contains(why.text, needle1);
	assert_contains(why.text, needle2);
}

static void
test_load_failures(void **ctx)
{
	struct state *st = *ctx;
	char *p;

	ca_setup(st);
	p = opt_path(&st->o.ca_file, st, "missing.pem");
	assert_load_fails(st, "cannot load ca_file", p);
	assert_load_fails(st, p, "No such file or directory");

	/* A file with no certificate in it. */
	p = opt_path(&st->o.ca_file, st, "empty.pem");
	tu_write_file(p, "nothing here\n", 0644);
	assert_load_fails(st, "ca_file", p);

	/* A damaged certificate. */
	tu_write_file(p, "-----BEGIN CERTIFICATE-----\nMIIBxx==\n"
	    "-----END CERTIFICATE-----\n", 0644);
	assert_load_fails(st, "ca_file", p);

	opt_path(&st->o.ca_file, st, "root.pem");
	p = opt_path(&st->o.chain_file, st, "missing-chain.pem");
	assert_load_fails(st, "cannot load chain_file", p);
	opt_path(&st->o.chain_file, st, "inter.pem");

	p = opt_path(&st->o.ca_dir, st, "no-such-dir");
	assert_load_fails(st, "cannot load ca_dir", p);
	free(st->o.ca_dir);
	st->o.ca_dir = NULL;

	st->o.crl = CERTAUTH_CRL_LEAF;
	p = opt_path(&st->o.crl_file, st, "missing.crl");
	assert_load_fails(st, "cannot load crl_file", p);
	tu_write_file(p, "garbage, not a CRL", 0644);
	assert_load_fails(st, "crl_file", p);
	tu_write_file(p, "-----BEGIN X509 CRL-----\nAAAA\n"
	    "-----END X509 CRL-----\n", 0644);
	assert_load_fails(st, "crl_file", p);
	free(st->o.crl_file);
	st->o.crl_file = NULL;

	p = opt_path(&st->o.crl_dir, st, "crls");
	assert_int_equal(mkdir(p, 0755), 0);
	{
		char *bad = tu_path(p, "README");

		tu_write_file(bad, "not a CRL\n", 0644);
		assert_load_fails(st, "crl_dir file", bad);
		free(bad);
	}
}

/* cert in DER at <dir>/name, 0644. */
static char *
write_der(struct state *st, const char *name, X509 *cert)
{
	char *p = tu_path(st->dir, name);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(i2d_X509_fp(f, cert), 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, 0644), 0);
	return p;
}

/* The exact reason trust_load gives with st->o. */
static void
assert_load_says(struct state *st, const char *want)
{
	struct certauth_trust_set *p = NULL;
	struct certauth_reason why;

	memset(&why, 0, sizeof(why));
	assert_int_equal(certauth_trust_load(&st->o, NULL, &p, &why),
	    CERTAUTH_ERR_TRUST_STORE);
	assert_null(p);
	assert_string_equal(why.text, want);
}

/* A DER certificate where a PEM bundle is read: how to convert it. */
static void
test_trust_file_der(void **ctx)
{
	struct state *st = *ctx;
	char *der, want[CERTAUTH_REASON_MAX];

	ca_setup(st);
	der = write_der(st, "root.der", K->ca);
	opt_path(&st->o.ca_file, st, "root.der");
	snprintf(want, sizeof(want),
	    "cannot load ca_file %s/root.der: it is DER, not PEM: convert it "
	    "with `openssl x509 -inform DER -in %s/root.der -out "
	    "%s/root.der.pem` and name the new file",
	    st->dir, st->dir, st->dir);
	assert_load_says(st, want);
	free(der);
	opt_path(&st->o.ca_file, st, "root.pem");
	der = write_der(st, "inter.bin", K->inter);
	opt_path(&st->o.chain_file, st, "inter.bin");
	snprintf(want, sizeof(want),
	    "cannot load chain_file %s/inter.bin: it is DER, not PEM: "
	    "convert it with `openssl x509 -inform DER -in %s/inter.bin -out "
	    "%s/inter.bin.pem` and name the new file",
	    st->dir, st->dir, st->dir);
	assert_load_says(st, want);
	free(der);
}

/* A directory where a file is read: the option meant for it. */
static void
test_trust_file_directory(void **ctx)
{
	struct state *st = *ctx;
	char *dir, want[CERTAUTH_REASON_MAX];

	ca_setup(st);
	dir = tu_path(st->dir, "certs");
	assert_int_equal(mkdir(dir, 0755), 0);
	opt_path(&st->o.ca_file, st, "certs");
	snprintf(want, sizeof(want),
	    "cannot load ca_file %s: it is a directory: use ca_dir for a "
	    "directory of CA certificates (openssl rehash)",
	    dir);
	assert_load_says(st, want);
	opt_path(&st->o.ca_file, st, "root.pem");
	opt_path(&st->o.chain_file, st, "certs");
	snprintf(want, sizeof(want),
	    "cannot load chain_file %s: it is a directory: chain_file must "
	    "be a PEM file",
	    dir);
	assert_load_says(st, want);
	opt_path(&st->o.chain_file, st, "inter.pem");
	st->o.crl = CERTAUTH_CRL_LEAF;
	opt_path(&st->o.crl_file, st, "certs");
	snprintf(want, sizeof(want),
	    "cannot load crl_file %s: it is a directory: use crl_dir for a "
	    "directory of CRLs",
	    dir);
	assert_load_says(st, want);
	free(dir);
}

/* A file with no certificate at all says what it holds instead. */
static void
test_trust_file_no_certificate(void **ctx)
{
	struct state *st = *ctx;
	char *p, want[CERTAUTH_REASON_MAX];
	FILE *f;

	ca_setup(st);
	p = opt_path(&st->o.ca_file, st, "alice.key");
	assert_non_null(f = fopen(p, "w"));
	assert_int_equal(PEM_write_PrivateKey(f, K->other_key, NULL, NULL, 0,
			     NULL, NULL),
	    1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, 0644), 0);
	snprintf(want, sizeof(want),
	    "cannot load ca_file %s: no certificate in it, only PEM blocks "
	    "such as PRIVATE KEY",
	    p);
	assert_load_says(st, want);
	p = opt_path(&st->o.ca_file, st, "empty.pem");
	tu_write_file(p, "", 0644);
	snprintf(want, sizeof(want), "cannot load ca_file %s: the file is empty",
	    p);
	assert_load_says(st, want);
	opt_path(&st->o.ca_file, st, "root.pem");
	p = opt_path(&st->o.chain_file, st, "notes.txt");
	tu_write_file(p, "the intermediate goes here\n", 0644);
	snprintf(want, sizeof(want),
	    "cannot load chain_file %s: no certificate in it (no "
	    "\"-----BEGIN CERTIFICATE-----\" line)",
	    p);
	assert_load_says(st, want);
	tu_write_file(p, "", 0644);
	snprintf(want, sizeof(want),
	    "cannot load chain_file %s: the file is empty", p);
	assert_load_says(st, want);
}

/*
 * The trust files get the checks of every file the module trusts; a link
 * in last place, as openssl rehash makes them, is followed to a target
 * that passes them too.
 */
static void
test_trust_files_checked(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);
	char name[64], *root, *link, *dir;

	ca_setup(st);
	root = tu_path(st->dir, "root.pem");
	assert_int_equal(chmod(root, 0664), 0);
	assert_load_fails(st, "cannot load ca_file", "group-writable");
	assert_int_equal(chmod(root, 0644), 0);
	assert_int_equal(chown(root, 65534, 65534), 0);
	assert_load_fails(st, "cannot load ca_file", "not owned by root");
	assert_int_equal(chown(root, 0, 0), 0);

	/* ca_file a link to the root's file: followed. */
	link = tu_path(st->dir, "root-link.pem");
	assert_int_equal(symlink(root, link), 0);
	opt_path(&st->o.ca_file, st, "root-link.pem");
	assert_int_equal(check(st, leaf, &why), 0);

	/* A rehash link in ca_dir; its target made writable by others. */
	free(st->o.ca_file);
	st->o.ca_file = NULL;
	dir = opt_path(&st->o.ca_dir, st, "certs");
	assert_int_equal(mkdir(dir, 0755), 0);
	hashed_name(K->ca, 0, name, sizeof(name));
	free(link);
	link = tu_path(st->dir, name);
	assert_int_equal(symlink("../root.pem", link), 0);
	assert_int_equal(check(st, leaf, &why), 0);
	assert_int_equal(chmod(root, 0666), 0);
	assert_int_equal(check(st, leaf, &why), CERTAUTH_ERR_TRUST_STORE);
	assert_contains(why.text, "root.pem is group-writable");
	assert_contains(why.text, " -> ");
	assert_int_equal(chmod(root, 0644), 0);
	free(link);
	free(root);
	X509_free(leaf);
}

static void
test_crl_off_ignores_sources(void **ctx)
{
	struct state *st = *ctx;
	struct certauth_reason why;
	struct tu_cert_opts o = leaf_opts();
	X509 *leaf = make_leaf(&o);

	ca_setup(st);
	write_crl(st, "inter.crl", K->inter, K->inter_key, &leaf, 1);
	opt_path(&st->o.crl_file, st, "inter.crl");
	st->o.crl = CERTAUTH_CRL_OFF;
	assert_int_equal(check(st, leaf, &why), 0);
	X509_free(leaf);
}

/* In place of every test when not root: trust files are read only when
 * root-owned, and only root can make such files. */
static void
skip_not_root(void **ctx)
{
	(void)ctx;
	print_message("# trust files must be root-owned: not root\n");
	skip();
}

int
main(void)
{
	struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_ca_chain_ok),
		T(test_ca_missing_intermediate),
		T(test_ca_missing_root),
		T(test_ca_missing_issuer_no_key_id),
		T(test_ca_untrusted_root_in_chain_file),
		T(test_ca_expired),
		T(test_ca_not_yet_valid),
		T(test_check_time_is_honoured),
		T(test_ca_expired_intermediate),
		T(test_usage_key_encipherment_refused),
		T(test_usage_server_auth_refused),
		T(test_usage_allowed),
		T(test_untrusted_self_signed),
		T(test_ca_dir_hashed),
		T(test_ca_dir_chain_in_dir),
		T(test_ca_file_parses_only_what_the_chain_uses),
		T(test_ca_file_trusted_certificate),
		T(test_rsa1024_leaf_refused),
		T(test_dsa_leaf_refused),
		T(test_dsa_intermediate_refused),
		T(test_ed25519_leaf_ok),
		T(test_pinned),
		T(test_pinned_expired),
		T(test_crl_leaf_revoked),
		T(test_crl_missing_for_issuer),
		T(test_crl_chain_scope),
		T(test_crl_der),
		T(test_crl_out_of_date),
		T(test_crl_skew),
		T(test_crl_grace),
		T(test_crl_warn),
		T(test_crl_grace_delta),
		T(test_crl_delta_unused_without_freshest),
		T(test_crl_delta_read_with_freshest_base),
		T(test_crl_delta_read_with_freshest_cert),
		T(test_crl_delta_second_of_a_base_unused),
		T(test_crl_delta_of_other_issuer),
		T(test_load_failures),
		T(test_trust_file_der),
		T(test_trust_file_directory),
		T(test_trust_file_no_certificate),
		T(test_trust_files_checked),
		T(test_crl_off_ignores_sources),
#undef T
	};
	size_t i;

	if (geteuid() != 0)
		for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
			tests[i].test_func = skip_not_root;
			tests[i].setup_func = NULL;
			tests[i].teardown_func = NULL;
		}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
