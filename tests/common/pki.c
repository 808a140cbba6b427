/*
 * pki.c - the tests' mini-PKI (pki.h).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki.h"
#include "testutil.h"

struct tu_cert_opts
tu_ca_opts(const char *cn)
{
	struct tu_cert_opts o = { cn, -10, 3650, 1, NULL, NULL, 0 };

	return o;
}

struct tu_cert_opts
tu_user_opts(const char *cn)
{
	struct tu_cert_opts o = { cn, -1, 365, 0,
	    "critical,digitalSignature", "clientAuth", 0 };

	return o;
}

void
tu_pki_make(struct tu_pki *pki, const struct tu_pki_opts *o)
{
	const char *type = o->key_type != NULL ? o->key_type : "P-256";
	struct tu_cert_opts ca = tu_ca_opts(o->ca_cn);
	struct tu_cert_opts inter = tu_ca_opts(o->inter_cn);
	struct tu_cert_opts user = tu_user_opts(o->user_cn);
	X509 *issuer;
	EVP_PKEY *issuer_key;

	memset(pki, 0, sizeof(*pki));
	pki->ca_key = tu_keygen(o->ca_key_type != NULL ? o->ca_key_type :
	    type);
	pki->ca = tu_make_cert(pki->ca_key, &ca, NULL, NULL);
	issuer = pki->ca;
	issuer_key = pki->ca_key;
	if (o->inter_cn != NULL) {
		inter.not_after_days = 1825;
		pki->inter_key = tu_keygen(type);
		pki->inter = tu_make_cert(pki->inter_key, &inter, pki->ca,
		    pki->ca_key);
		if (o->user_under_inter) {
			issuer = pki->inter;
			issuer_key = pki->inter_key;
		}
	}
	pki->user_key = tu_keygen(type);
	if (o->user_cn != NULL) {
		user.serial = o->user_serial;
		pki->user = tu_make_cert(pki->user_key, &user, issuer,
		    issuer_key);
	}
	if (o->other_key_type != NULL)
		pki->other_key = tu_keygen(o->other_key_type);
}

void
tu_pki_free(struct tu_pki *pki)
{
	EVP_PKEY_free(pki->ca_key);
	EVP_PKEY_free(pki->inter_key);
	EVP_PKEY_free(pki->user_key);
	EVP_PKEY_free(pki->other_key);
	X509_free(pki->ca);
	X509_free(pki->inter);
	X509_free(pki->user);
	free(pki->ca_file);
	free(pki->chain_file);
	free(pki->bindings_dir);
	memset(pki, 0, sizeof(*pki));
}

void
tu_pki_write(struct tu_pki *pki, const char *dir)
{
	pki->ca_file = tu_path(dir, "ca.pem");
	tu_write_certs(pki->ca_file, &pki->ca, 1, 0644);
	if (pki->inter != NULL) {
		pki->chain_file = tu_path(dir, "chain.pem");
		tu_write_certs(pki->chain_file, &pki->inter, 1, 0644);
	}
	pki->bindings_dir = tu_path(dir, "bindings");
	if (mkdir(pki->bindings_dir, 0755) != 0)
		fail_msg("pki: mkdir %s: %s", pki->bindings_dir,
		    strerror(errno));
}

void
tu_pki_bind(const struct tu_pki *pki, const char *user, X509 **certs, int n)
{
	char *path;

	if (pki->bindings_dir == NULL)
		fail_msg("pki: tu_pki_bind before tu_pki_write");
	path = tu_path(pki->bindings_dir, user);
	tu_write_certs(path, certs, n, 0644);
	free(path);
}
