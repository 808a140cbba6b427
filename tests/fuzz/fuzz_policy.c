/*
 * fuzz_policy.c - the chain policy (policy.h) on arbitrary DER.  Input: a
 * DER leaf, optionally followed by a DER intermediate.  The leaf goes
 * through three policies at the fixed time FUZZ_NOW: trust=ca over the
 * fixed anchor and the fixed intermediate, trust=pinned, and, when the
 * input carries an intermediate, trust=ca over the anchor with that one
 * as chain_file.
 *
 * Invariants of an accepted leaf, checked with OpenSSL directly: in CA
 * mode it is signed by the anchor's key, or by an intermediate's key
 * that the anchor's key signed (so nothing the fuzzer makes up can pass);
 * in both modes FUZZ_NOW lies inside its validity, its key passes
 * certauth_key_check, keyUsage (if present) has digitalSignature and
 * extendedKeyUsage (if present) clientAuth or anyExtendedKeyUsage.
 * Every check leaves the OpenSSL error queue empty.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certauth.h"
#include "fixtures.h"
#include "fuzzutil.h"
#include "options.h"
#include "policy.h"
#include "verify.h"

static char tmpdir[4096];
static char anchor_path[4200], inter_path[4200], input_path[4200];
static X509 *anchor, *inter;
static struct certauth_opts ca_opts, pinned_opts, input_opts;
static struct certauth_policy *ca_policy, *pinned_policy;

static void
write_pem(const char *path, X509 *cert)
{
	FILE *f;

	if ((f = fopen(path, "we")) == NULL || !PEM_write_X509(f, cert) ||
	    fclose(f) != 0)
		fz_fail(__FILE__, __LINE__, "write certificate file");
}

static void
cleanup(void)
{
	certauth_policy_free(ca_policy);
	certauth_policy_free(pinned_policy);
	certauth_opts_free(&ca_opts);
	certauth_opts_free(&pinned_opts);
	certauth_opts_free(&input_opts);
	X509_free(anchor);
	X509_free(inter);
	unlink(anchor_path);
	unlink(inter_path);
	unlink(input_path);
	rmdir(tmpdir);
}

static void
set_opts(struct certauth_opts *o, const char *trust, const char *chain)
{
	certauth_opts_init(o);
	if (certauth_opts_set(o, "trust", trust, NULL) != 0 ||
	    (strcmp(trust, "ca") == 0 &&
	    certauth_opts_set(o, "ca_file", anchor_path, NULL) != 0) ||
	    (chain != NULL &&
	    certauth_opts_set(o, "chain_file", chain, NULL) != 0) ||
	    certauth_opts_validate(o, NULL) != 0)
		fz_fail(__FILE__, __LINE__, "policy options");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(tmpdir, sizeof(tmpdir), "%s/fuzz-policy-XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		fz_fail(__FILE__, __LINE__, "mkdtemp");
	snprintf(anchor_path, sizeof(anchor_path), "%s/anchor.pem", tmpdir);
	snprintf(inter_path, sizeof(inter_path), "%s/inter.pem", tmpdir);
	snprintf(input_path, sizeof(input_path), "%s/input.pem", tmpdir);
	atexit(cleanup);
	anchor = fz_cert(fx_anchor_pem);
	inter = fz_cert(fx_inter_pem);
	write_pem(anchor_path, anchor);
	write_pem(inter_path, inter);
	set_opts(&ca_opts, "ca", inter_path);
	set_opts(&pinned_opts, "pinned", NULL);
	set_opts(&input_opts, "ca", input_path);
	if (certauth_policy_load(&ca_opts, &ca_policy, NULL) != 0 ||
	    certauth_policy_load(&pinned_opts, &pinned_policy, NULL) != 0)
		fz_fail(__FILE__, __LINE__, "load the policies");
	return 0;
}

static int
signed_by(X509 *cert, X509 *issuer)
{
	EVP_PKEY *pkey = X509_get0_pubkey(issuer);
	int ok = pkey != NULL && X509_verify(cert, pkey) == 1;

	ERR_clear_error();
	return ok;
}

/* keyUsage and extendedKeyUsage, decoded here rather than trusted from
 * the flags the policy reads. */
static void
check_usages(X509 *cert)
{
	ASN1_BIT_STRING *ku;
	EXTENDED_KEY_USAGE *eku;
	int crit = -1, i, nid, ok = 0;

	ku = X509_get_ext_d2i(cert, NID_key_usage, &crit, NULL);
	fz_assert(crit == -1 || ku != NULL);
	fz_assert(ku == NULL || ASN1_BIT_STRING_get_bit(ku, 0) == 1);
	ASN1_BIT_STRING_free(ku);
	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
	fz_assert(crit == -1 || eku != NULL);
	if (eku != NULL) {
		for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
			nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
			ok |= nid == NID_client_auth ||
			    nid == NID_anyExtendedKeyUsage;
		}
		fz_assert(ok);
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ERR_clear_error();
}

/* What holds for every accepted leaf, whatever the trust mode. */
static void
check_accepted(X509 *leaf)
{
	time_t now = FUZZ_NOW;

	fz_assert(X509_cmp_time(X509_get0_notBefore(leaf), &now) == -1);
	fz_assert(X509_cmp_time(X509_get0_notAfter(leaf), &now) == 1);
	fz_assert(certauth_key_check(X509_get0_pubkey(leaf), NULL) == 0);
	check_usages(leaf);
}

static int
check(const struct certauth_policy *p, X509 *leaf)
{
	struct certauth_reason reason;
	int r;

	reason.text[0] = '\0';
	r = certauth_policy_check(p, leaf, FUZZ_NOW, &reason);
	fz_assert_no_errors("certauth_policy_check");
	if (r != 0) {
		fz_assert(r == CERTAUTH_ERR_CERT_INVALID ||
		    r == CERTAUTH_ERR_KEY_REFUSED || r == CERTAUTH_ERR_REVOKED ||
		    r == CERTAUTH_ERR_NOMEM || r == CERTAUTH_ERR_INTERNAL);
		fz_assert(reason.text[0] != '\0' || r == CERTAUTH_ERR_NOMEM);
		return r;
	}
	check_accepted(leaf);
	return 0;
}

/* trust=ca with the input's own intermediate as chain_file. */
static void
check_input_chain(X509 *leaf, X509 *in)
{
	struct certauth_policy *p = NULL;

	write_pem(input_path, in);
	if (certauth_policy_load(&input_opts, &p, NULL) != 0) {
		/* A certificate that parses as DER but not back from PEM. */
		ERR_clear_error();
		return;
	}
	if (check(p, leaf) == 0)
		fz_assert(signed_by(leaf, anchor) ||
		    (signed_by(leaf, in) && signed_by(in, anchor)));
	certauth_policy_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data, *end = data + size;
	X509 *leaf = NULL, *in = NULL;

	if ((leaf = d2i_X509(NULL, &p, (long)size)) == NULL)
		goto out;
	if (p < end)
		in = d2i_X509(NULL, &p, (long)(end - p));
	ERR_clear_error();
	if (check(ca_policy, leaf) == 0)
		fz_assert(signed_by(leaf, anchor) || signed_by(leaf, inter));
	(void)check(pinned_policy, leaf);
	if (in != NULL)
		check_input_chain(leaf, in);
 out:
	ERR_clear_error();
	X509_free(leaf);
	X509_free(in);
	return 0;
}
