/*
 * pki.h - the tests' mini-PKI: a root CA, an intermediate CA under it if
 * asked for, a user's key and certificate, and a spare key, made
 * in-process (testutil.h) and written where the module looks for them.
 * Fails the running test on error, as testutil does.
 */
#ifndef CERTAUTH_TESTS_PKI_H
#define CERTAUTH_TESTS_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "testutil.h"

struct tu_pki_opts {
	const char *ca_cn;		/* the root CA's CN */
	const char *inter_cn;		/* NULL: no intermediate CA */
	const char *user_cn;		/* NULL: the user's key only */
	const char *key_type;		/* every key's (tu_keygen);
					 * NULL: P-256 */
	const char *ca_key_type;	/* the root's; NULL: key_type */
	const char *other_key_type;	/* the spare key's; NULL: no spare */
	int user_under_inter;		/* the intermediate issues the user's
					 * certificate; else the root does */
	long user_serial;		/* 0: a random one */
};

/* Everything the PKI holds; tu_pki_free frees it all. */
struct tu_pki {
	EVP_PKEY *ca_key, *inter_key, *user_key, *other_key;
	X509 *ca;		/* self-signed root, valid -10 .. 3650 days */
	X509 *inter;		/* under ca, -10 .. 1825 days; or NULL */
	X509 *user;		/* tu_user_opts(user_cn); or NULL */
	/* Set by tu_pki_write, NULL before. */
	char *ca_file;		/* <dir>/ca.pem: the root */
	char *chain_file;	/* <dir>/chain.pem: the intermediate, or NULL */
	char *bindings_dir;	/* <dir>/bindings, empty */
};

/* A CA certificate's options: cn, valid from 10 days ago for 10 years. */
struct tu_cert_opts tu_ca_opts(const char *cn);

/* A user certificate's options as the module wants them: cn, valid from
 * yesterday for a year, critical digitalSignature, clientAuth. */
struct tu_cert_opts tu_user_opts(const char *cn);

/* Make the PKI o describes into *pki (overwritten). */
void tu_pki_make(struct tu_pki *pki, const struct tu_pki_opts *o);

/* Free everything in *pki and zero it; the files stay. */
void tu_pki_free(struct tu_pki *pki);

/* Write the root (and the intermediate) under dir, 0644, and make the
 * empty bindings directory, 0755; the paths are set in *pki. */
void tu_pki_write(struct tu_pki *pki, const char *dir);

/* Bind certs to user: <bindings_dir>/<user>, 0644, after tu_pki_write. */
void tu_pki_bind(const struct tu_pki *pki, const char *user, X509 **certs,
    int n);

#endif /* CERTAUTH_TESTS_PKI_H */
