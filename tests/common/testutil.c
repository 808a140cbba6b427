/*
 * testutil.c - keys, certificates, CRLs and signatures made in-process for
 * the tests, and scratch directories that pass the safe-path rules.
 *
 * Every helper fails the running cmocka test on error: a test that cannot
 * build its fixtures has not tested anything.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certauth.h"
#include "conv.h"
#include "safefile.h"
#include "testutil.h"

#define TU_DAY	(24L * 60L * 60L)
/* Where scratch directories go when the build tree cannot hold them. */
#define TU_RUN_BASE	"/run"

static void tu_die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void
tu_die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ERR_print_errors_fp(stderr);
	fail_msg("testutil: %s", msg);
	/* fail_msg leaves the test with longjmp; never fall through. */
	abort();
}

/* mkdir that tolerates an existing directory. */
static void
tu_mkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) != 0 && errno != EEXIST)
		tu_die("mkdir %s: %s", path, strerror(errno));
}

/*
 * The scratch root outside the tree: made by the first tu_safe_tmpdir()
 * that needs it, removed with everything under it when the process that
 * made it exits (not its forked children).
 */
static char *tu_run_root;
static pid_t tu_run_owner;

static void
tu_remove_run_root(void)
{
	if (tu_run_root != NULL && getpid() == tu_run_owner)
		tu_remove_tree(tu_run_root);
}

/*
 * Whether every directory from path (absolute, resolved) up to "/" lets
 * others search it: the OCSP helper runs as nobody, and a checker such as
 * valgrind executes it again by its path.
 */
static int
tu_reachable(const char *path)
{
	char *p = strdup(path), *slash;
	struct stat st;
	int ok = p != NULL;

	while (ok) {
		ok = stat(p[0] != '\0' ? p : "/", &st) == 0 &&
		    (st.st_mode & S_IXOTH) != 0;
		if ((slash = strrchr(p, '/')) == NULL || p[0] == '\0')
			break;
		*slash = '\0';
	}
	free(p);
	return ok;
}

/* A new 0755 directory from template tmpl_in (mkdtemp), or NULL when it
 * cannot be made, or it or a parent breaks the safe-path rules or shuts
 * out user nobody.  Caller frees. */
static char *
tu_mkdtemp_safe(const char *tmpl_in)
{
	char *tmpl = strdup(tmpl_in);

	if (tmpl == NULL)
		tu_die("strdup");
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "# mkdtemp %s: %s\n", tmpl, strerror(errno));
		free(tmpl);
		return NULL;
	}
	if (chmod(tmpl, 0755) != 0)
		tu_die("chmod %s: %s", tmpl, strerror(errno));
	if (certauth_check_dir_safely(tmpl, "test directory", NULL) != 0 ||
	    !tu_reachable(tmpl)) {
		rmdir(tmpl);
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

char *
tu_safe_tmpdir(void)
{
	const char *top = getenv("top_builddir");
	char base[PATH_MAX], real[PATH_MAX], *dir;

	/* Only root can own what the safe-path rules demand. */
	if (geteuid() != 0)
		return NULL;
	if (top == NULL || *top == '\0')
		top = ".";
	snprintf(base, sizeof(base), "%s/tests", top);
	tu_mkdir(base, 0755);
	snprintf(base, sizeof(base), "%s/tests/tmp", top);
	tu_mkdir(base, 0755);
	/* Absolute, so that the parent walk sees every real directory. */
	if (realpath(base, real) == NULL)
		tu_die("realpath %s: %s", base, strerror(errno));
	if (strlen(real) + sizeof("/XXXXXX") > sizeof(base))
		tu_die("path too long: %s", real);
	snprintf(base, sizeof(base), "%s/XXXXXX", real);
	if ((dir = tu_mkdtemp_safe(base)) != NULL)
		return dir;
	/*
	 * A tree below a world-writable directory (/tmp) or a private one
	 * (/root): a root of this process's own under TU_RUN_BASE.
	 */
	if (tu_run_root == NULL) {
		if ((tu_run_root = tu_mkdtemp_safe(TU_RUN_BASE
		    "/pam_certauth-test.XXXXXX")) == NULL)
			return NULL;
		tu_run_owner = getpid();
		if (atexit(tu_remove_run_root) != 0)
			tu_die("atexit");
	}
	snprintf(base, sizeof(base), "%s/XXXXXX", tu_run_root);
	return tu_mkdtemp_safe(base);
}

char *
tu_bio_text(BIO *bio)
{
	char *data = NULL, *text;
	long n = BIO_get_mem_data(bio, &data);

	if (n < 0 || (text = strndup(data != NULL ? data : "",
	    (size_t)n)) == NULL)
		tu_die("cannot read a memory BIO");
	BIO_free(bio);
	return text;
}

char *
tu_pem_text(X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());

	if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1)
		tu_die("cannot write a certificate as PEM");
	return tu_bio_text(bio);
}

static int
remove_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tu_remove_tree(const char *dir)
{
	if (dir != NULL && nftw(dir, remove_entry, 16,
	    FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "# cannot remove %s: %s\n", dir,
		    strerror(errno));
}

static EVP_PKEY *
tu_keygen_dsa(void)
{
	EVP_PKEY_CTX *pctx = NULL, *kctx = NULL;
	EVP_PKEY *params = NULL, *key = NULL;

	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL)) == NULL ||
	    EVP_PKEY_paramgen_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx, 2048) <= 0 ||
	    EVP_PKEY_paramgen(pctx, &params) <= 0)
		tu_die("DSA parameter generation");
	if ((kctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(kctx) <= 0 ||
	    EVP_PKEY_keygen(kctx, &key) <= 0)
		tu_die("DSA key generation");
	EVP_PKEY_CTX_free(kctx);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(params);
	return key;
}

EVP_PKEY *
tu_keygen(const char *type)
{
	EVP_PKEY *key = NULL;

	if (strncmp(type, "RSA:", 4) == 0) {
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)strtoul(type + 4, NULL, 10));
	} else if (strcmp(type, "P-256") == 0 || strcmp(type, "P-384") == 0 ||
	    strcmp(type, "P-521") == 0 || strcmp(type, "secp256k1") == 0) {
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", type);
	} else if (strcmp(type, "ED25519") == 0 || strcmp(type, "ED448") == 0) {
		key = EVP_PKEY_Q_keygen(NULL, NULL, type);
	} else if (strcmp(type, "DSA") == 0) {
		key = tu_keygen_dsa();
	} else {
		tu_die("unknown key type %s", type);
	}
	if (key == NULL)
		tu_die("key generation for %s", type);
	return key;
}

static void
tu_add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL)
		tu_die("extension %s = %s", OBJ_nid2sn(nid), value);
	if (!X509_add_ext(cert, ext, -1))
		tu_die("X509_add_ext %s", OBJ_nid2sn(nid));
	X509_EXTENSION_free(ext);
}

/* Ed25519/Ed448 sign without a separate digest. */
static const EVP_MD *
tu_sign_md(EVP_PKEY *key)
{
	if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448"))
		return NULL;
	return EVP_sha256();
}

static void
tu_set_serial(ASN1_INTEGER *dst, long serial)
{
	unsigned char rnd[8];
	BIGNUM *bn = NULL;

	if (serial != 0) {
		if (!ASN1_INTEGER_set(dst, serial))
			tu_die("ASN1_INTEGER_set");
		return;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		tu_die("RAND_bytes");
	rnd[0] &= 0x7f;		/* positive */
	rnd[0] |= 0x40;		/* and never zero */
	if ((bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, dst) == NULL)
		tu_die("serial");
	BN_free(bn);
}

X509 *
tu_make_cert(EVP_PKEY *key, const struct tu_cert_opts *opts,
    X509 *issuer, EVP_PKEY *issuer_key)
{
	X509 *cert = NULL;
	X509_NAME *name = NULL;
	X509V3_CTX ctx;
	EVP_PKEY *signer = issuer != NULL ? issuer_key : key;

	if (signer == NULL)
		tu_die("tu_make_cert: issuer without issuer_key");
	if ((cert = X509_new()) == NULL ||
	    !X509_set_version(cert, X509_VERSION_3))
		tu_die("X509_new");
	tu_set_serial(X509_get_serialNumber(cert), opts->serial);

	if ((name = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)opts->cn, -1, -1, 0) ||
	    !X509_set_subject_name(cert, name))
		tu_die("subject name");
	if (!X509_set_issuer_name(cert, issuer != NULL ?
	    X509_get_subject_name(issuer) : name))
		tu_die("issuer name");
	X509_NAME_free(name);

	if (X509_time_adj_ex(X509_getm_notBefore(cert),
	    (int)opts->not_before_days, 0, NULL) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(cert),
	    (int)opts->not_after_days, 0, NULL) == NULL)
		tu_die("validity");
	if (!X509_set_pubkey(cert, key))
		tu_die("X509_set_pubkey");

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : cert, cert,
	    NULL, NULL, 0);
	tu_add_ext(cert, &ctx, NID_subject_key_identifier, "hash");
	tu_add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always");
	tu_add_ext(cert, &ctx, NID_basic_constraints,
	    opts->is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (opts->key_usage != NULL)
		tu_add_ext(cert, &ctx, NID_key_usage, opts->key_usage);
	else if (opts->is_ca)
		tu_add_ext(cert, &ctx, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
	if (opts->ext_key_usage != NULL)
		tu_add_ext(cert, &ctx, NID_ext_key_usage, opts->ext_key_usage);

	if (X509_sign(cert, signer, tu_sign_md(signer)) <= 0)
		tu_die("X509_sign for %s", opts->cn);
	return cert;
}

X509_CRL *
tu_make_crl(X509 *issuer, EVP_PKEY *issuer_key, X509 **revoked, int nrevoked)
{
	X509_CRL *crl = NULL;
	X509_REVOKED *rev = NULL;
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *num = NULL;
	X509_EXTENSION *ext = NULL;
	X509V3_CTX ctx;
	int i;

	if ((crl = X509_CRL_new()) == NULL ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)))
		tu_die("X509_CRL_new");
	if ((t = X509_time_adj_ex(NULL, -1, 0, NULL)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, t))
		tu_die("CRL lastUpdate");
	ASN1_TIME_free(t);
	if ((t = X509_time_adj_ex(NULL, 30, 0, NULL)) == NULL ||
	    !X509_CRL_set1_nextUpdate(crl, t))
		tu_die("CRL nextUpdate");
	ASN1_TIME_free(t);

	for (i = 0; i < nrevoked; i++) {
		if ((rev = X509_REVOKED_new()) == NULL ||
		    !X509_REVOKED_set_serialNumber(rev,
		    X509_get_serialNumber(revoked[i])) ||
		    (t = X509_time_adj_ex(NULL, 0, -3600, NULL)) == NULL ||
		    !X509_REVOKED_set_revocationDate(rev, t) ||
		    !X509_CRL_add0_revoked(crl, rev))
			tu_die("CRL entry %d", i);
		ASN1_TIME_free(t);
		rev = NULL;
	}

	X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx,
	    NID_authority_key_identifier, "keyid:always")) == NULL ||
	    !X509_CRL_add_ext(crl, ext, -1))
		tu_die("CRL authorityKeyIdentifier");
	X509_EXTENSION_free(ext);
	if ((num = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set(num, 1) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
		tu_die("CRL number");
	ASN1_INTEGER_free(num);

	if (!X509_CRL_sort(crl) ||
	    X509_CRL_sign(crl, issuer_key, tu_sign_md(issuer_key)) <= 0)
		tu_die("X509_CRL_sign");
	return crl;
}

void
tu_crl_set_dates(X509_CRL *crl, EVP_PKEY *key, time_t last, time_t next)
{
	ASN1_TIME *t;

	if ((t = ASN1_TIME_set(NULL, last)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, t) ||
	    ASN1_TIME_set(t, next) == NULL ||
	    !X509_CRL_set1_nextUpdate(crl, t) ||
	    X509_CRL_sign(crl, key, tu_sign_md(key)) <= 0)
		tu_die("CRL dates");
	ASN1_TIME_free(t);
}

/* Open path for writing, truncated, with exactly the given mode. */
static FILE *
tu_fopen_mode(const char *path, int mode)
{
	FILE *f;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    (mode_t)mode)) < 0)
		tu_die("open %s: %s", path, strerror(errno));
	/* umask and any earlier mode must not decide the test's mode. */
	if (fchmod(fd, (mode_t)mode) != 0)
		tu_die("fchmod %s: %s", path, strerror(errno));
	if ((f = fdopen(fd, "w")) == NULL)
		tu_die("fdopen %s: %s", path, strerror(errno));
	return f;
}

static void
tu_fclose(FILE *f, const char *path)
{
	if (fclose(f) != 0)
		tu_die("fclose %s: %s", path, strerror(errno));
}

void
tu_write_certs(const char *path, X509 **certs, int n, int mode)
{
	FILE *f = tu_fopen_mode(path, mode);
	int i;

	for (i = 0; i < n; i++) {
		if (!PEM_write_X509(f, certs[i]))
			tu_die("PEM_write_X509 %s", path);
	}
	tu_fclose(f, path);
}

void
tu_write_crls(const char *path, X509_CRL **crls, int n)
{
	FILE *f = tu_fopen_mode(path, 0644);
	int i;

	for (i = 0; i < n; i++) {
		if (!PEM_write_X509_CRL(f, crls[i]))
			tu_die("PEM_write_X509_CRL %s", path);
	}
	tu_fclose(f, path);
}

void
tu_write_crl(const char *path, X509_CRL *crl)
{
	tu_write_crls(path, &crl, 1);
}

void
tu_write_file(const char *path, const char *content, int mode)
{
	FILE *f = tu_fopen_mode(path, mode);
	size_t len = strlen(content);

	if (len > 0 && fwrite(content, 1, len, f) != len)
		tu_die("write %s", path);
	tu_fclose(f, path);
}

char *
tu_path(const char *dir, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		tu_die("asprintf");
	return p;
}

char *
tu_sign_b64(EVP_PKEY *key, const char *digest, int pss, const char *msg)
{
	char *b64 = tu_client_sign(key, digest, pss, msg);

	if (b64 == NULL)
		tu_die("signing with %s%s", digest != NULL ? digest :
		    "the default digest", pss ? " and PSS" : "");
	return b64;
}
