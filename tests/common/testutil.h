/*
 * testutil.h - helpers for the tests written with cmocka (the unit tests,
 * the fault-injection and benchmark drivers): keys, certificates and CRLs
 * made in-process, signatures, and scratch directories that pass the
 * module's safe-path rules.  Every helper fails the running test on error.
 */
#ifndef CERTAUTH_TESTUTIL_H
#define CERTAUTH_TESTUTIL_H

#include <stddef.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * A new empty directory (0755, root-owned) that passes the module's
 * safe-path rules and that user nobody can reach: under
 * $top_builddir/tests/tmp when the tree allows it, else, for a tree below
 * a world-writable directory (/tmp) or a private one (/root), under a
 * directory of this process's own in /run, removed with everything in it
 * when the process exits.  Returns NULL when neither works (not root, no
 * usable /run): such tests skip.  Caller frees.
 */
char *tu_safe_tmpdir(void);

/* What was written to a memory BIO, as a malloc'd string; frees bio. */
char *tu_bio_text(BIO *bio);

/* The PEM text of cert, malloc'd. */
char *tu_pem_text(X509 *cert);

/* Remove dir and everything under it, not following links (NULL: none).
 * For a test's own scratch directory. */
void tu_remove_tree(const char *dir);

/* "RSA:2048", "RSA:1024", "P-256", "P-384", "P-521", "secp256k1",
 * "ED25519", "ED448", "DSA".  Aborts the test on failure. */
EVP_PKEY *tu_keygen(const char *type);

struct tu_cert_opts {
	const char *cn;			/* subject CN */
	long not_before_days;		/* relative to now; e.g. -1 */
	long not_after_days;		/* relative to now; e.g. 365 */
	int is_ca;			/* basicConstraints CA:TRUE + keyCertSign,cRLSign */
	const char *key_usage;		/* e.g. "critical,digitalSignature"; NULL: none */
	const char *ext_key_usage;	/* e.g. "clientAuth"; NULL: none */
	long serial;			/* 0: a random one */
};

/* Issue a certificate for key; issuer NULL means self-signed with key.
 * Aborts the test on failure.  Caller frees with X509_free. */
X509 *tu_make_cert(EVP_PKEY *key, const struct tu_cert_opts *opts,
    X509 *issuer, EVP_PKEY *issuer_key);

/* A CRL from issuer revoking the given certificates, valid for 30 days. */
X509_CRL *tu_make_crl(X509 *issuer, EVP_PKEY *issuer_key,
    X509 **revoked, int nrevoked);

/* Give crl the dates last and next and sign it again with key. */
void tu_crl_set_dates(X509_CRL *crl, EVP_PKEY *key, time_t last,
    time_t next);

/* Write certificates (PEM) to path with the given mode.  Aborts on error. */
void tu_write_certs(const char *path, X509 **certs, int n, int mode);
void tu_write_crl(const char *path, X509_CRL *crl);
void tu_write_crls(const char *path, X509_CRL **crls, int n);
void tu_write_file(const char *path, const char *content, int mode);
/* Owned-by-caller "<dir>/<name>". */
char *tu_path(const char *dir, const char *name);

/*
 * Sign msg as a client would: tu_client_sign (conv.h), failing the test
 * where that returns NULL.  Returns the base64 text, malloc'd.
 */
char *tu_sign_b64(EVP_PKEY *key, const char *digest, int pss,
    const char *msg);

#endif /* CERTAUTH_TESTUTIL_H */
