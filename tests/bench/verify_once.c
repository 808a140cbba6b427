/*
 * verify_once.c - the floor of a whole login process: a fresh process that
 * loads OpenSSL and does once only what a certificate login cannot leave
 * out.  It reads the trust anchors, the intermediates, the CRLs and the
 * user's certificate (PEM files), verifies a signature over a message
 * with the certificate's key (SHA-256 for RSA and ECDSA, pure EdDSA for
 * Ed25519), and verifies the chain with the CRLs, the flags and the
 * initial policy set of src/chain.c for trust=ca, crl=leaf (the scope of
 * process_bench.py's service: one CRL file, the intermediate's).
 *
 * process_bench.py runs it beside the pamtester logins: its wall time
 * less that of an empty process is what OpenSSL alone costs a fresh
 * process, the part of pam_certauth's added time that a module linking
 * OpenSSL cannot avoid.
 *
 *   verify_once CA_FILE CHAIN_FILE CRL_FILE CERT_FILE SIG_FILE MESSAGE
 *
 * Exits 0 when everything verifies, 1 otherwise (the benchmark checks,
 * so that a floor that does not verify is never reported).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#define AUTH_LEVEL	2	/* CHAIN_AUTH_LEVEL of src/chain.c */

static STACK_OF(X509) *
read_certs(const char *path)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	FILE *f = fopen(path, "r");
	X509 *x;

	if (certs == NULL || f == NULL)
		return NULL;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(certs, x);
	ERR_clear_error();
	fclose(f);
	return sk_X509_num(certs) > 0 ? certs : NULL;
}

static STACK_OF(X509_CRL) *
read_crls(const char *path)
{
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	FILE *f = fopen(path, "r");
	X509_CRL *c;

	if (crls == NULL || f == NULL)
		return NULL;
	while ((c = PEM_read_X509_CRL(f, NULL, NULL, NULL)) != NULL)
		sk_X509_CRL_push(crls, c);
	ERR_clear_error();
	fclose(f);
	return sk_X509_CRL_num(crls) > 0 ? crls : NULL;
}

static int
read_file(const char *path, unsigned char *buf, size_t max, size_t *len)
{
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	*len = fread(buf, 1, max, f);
	fclose(f);
	return *len > 0 && *len < max ? 0 : -1;
}

static int
verify_signature(X509 *cert, const unsigned char *sig, size_t siglen,
    const char *msg)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok;

	ok = pub != NULL && m != NULL &&
	    EVP_DigestVerifyInit(m, NULL, EVP_PKEY_is_a(pub, "ED25519") ?
	    NULL : EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(m, sig, siglen, (const unsigned char *)msg,
	    strlen(msg)) == 1;
	EVP_MD_CTX_free(m);
	return ok;
}

static int
verify_chain(STACK_OF(X509) *anchors, STACK_OF(X509) *chain,
    STACK_OF(X509_CRL) *crls, X509 *cert)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(ASN1_OBJECT) *policies = sk_ASN1_OBJECT_new_null();
	X509_VERIFY_PARAM *param;
	int i, ok = store != NULL && ctx != NULL && policies != NULL &&
	    sk_ASN1_OBJECT_push(policies, OBJ_nid2obj(NID_any_policy));

	for (i = 0; ok && i < sk_X509_num(anchors); i++)
		ok = X509_STORE_add_cert(store, sk_X509_value(anchors, i));
	ok = ok && X509_STORE_CTX_init(ctx, store, cert, chain) == 1;
	if (ok) {
		X509_STORE_CTX_set0_crls(ctx, crls);
		param = X509_STORE_CTX_get0_param(ctx);
		X509_VERIFY_PARAM_set_time(param, time(NULL));
		X509_VERIFY_PARAM_set_auth_level(param, AUTH_LEVEL);
		ok = X509_VERIFY_PARAM_set_flags(param,
		    X509_V_FLAG_X509_STRICT | X509_V_FLAG_POLICY_CHECK |
		    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_EXTENDED_CRL_SUPPORT |
		    X509_V_FLAG_USE_DELTAS) == 1 &&
		    X509_VERIFY_PARAM_set1_policies(param, policies) == 1 &&
		    X509_verify_cert(ctx) == 1;
		if (!ok)
			fprintf(stderr, "verify_once: chain: %s\n",
			    X509_verify_cert_error_string(
			    X509_STORE_CTX_get_error(ctx)));
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_ASN1_OBJECT_free(policies);
	return ok;
}

int
main(int argc, char **argv)
{
	STACK_OF(X509) *anchors, *chain, *user;
	STACK_OF(X509_CRL) *crls;
	unsigned char sig[1024];
	size_t siglen = 0;

	if (argc != 7) {
		fprintf(stderr, "usage: verify_once CA_FILE CHAIN_FILE "
		    "CRL_FILE CERT_FILE SIG_FILE MESSAGE\n");
		return 2;
	}
	if ((anchors = read_certs(argv[1])) == NULL ||
	    (chain = read_certs(argv[2])) == NULL ||
	    (crls = read_crls(argv[3])) == NULL ||
	    (user = read_certs(argv[4])) == NULL ||
	    read_file(argv[5], sig, sizeof(sig), &siglen) != 0) {
		fprintf(stderr, "verify_once: cannot read the input files\n");
		return 1;
	}
	if (!verify_signature(sk_X509_value(user, 0), sig, siglen, argv[6])) {
		fprintf(stderr, "verify_once: signature does not verify\n");
		return 1;
	}
	if (!verify_chain(anchors, chain, crls, sk_X509_value(user, 0)))
		return 1;
	/* No frees: the process ends, as a login process would. */
	return 0;
}
