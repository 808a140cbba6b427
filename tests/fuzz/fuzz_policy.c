/*
 * fuzz_policy.c - the chain policy (trust.h, chain.h) on arbitrary DER.  Input: a
 * DER leaf, optionally followed by a DER intermediate.  The leaf goes
 * through four policies at the fixed time FUZZ_NOW: trust=ca over the
 * fixed anchor and the fixed intermediate, the same with the anchor's CRL
 * (crl=leaf), trust=pinned, and, when the input carries an intermediate,
 * trust=ca over the anchor with that one as chain_file.
 *
 * Invariants of an accepted leaf, checked with OpenSSL directly: in CA
 * mode it is signed by the anchor's key, or by an intermediate's key
 * that the anchor's key signed (so nothing the fuzzer makes up can pass);
 * with the CRL it is signed by the anchor (the intermediate has no CRL:
 * fail closed), the CRL does not list it, and the policy without the CRL
 * accepts it too; in all modes FUZZ_NOW lies inside its validity, its
 * key passes certauth_key_check, keyUsage (if present) has digitalSignature and
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
#include "chain.h"
#include "trust.h"
#include "verify.h"

static char tmpdir[4096];
static char anchor_path[4200], inter_path[4200], input_path[4200];
static char crl_path[4200];
static X509 *anchor, *inter;
static X509_CRL *crl;
static struct certauth_opts ca_opts, crl_opts, pinned_opts, input_opts;
static struct certauth_trust_set *ca_policy, *crl_policy, *pinned_policy;

static void
write_pem(const char *path, X509 *cert)
{
	FILE *f;

	if ((f = fopen(path, "we")) == NULL || !PEM_write_X509(f, cert) ||
	    fclose(f) != 0)
		fz_fail(__FILE__, __LINE__, "write certificate file");
}

static void
write_file(const char *path, const char *text)
{
	FILE *f;

	if ((f = fopen(path, "we")) == NULL || fputs(text, f) < 0 ||
	    fclose(f) != 0)
		fz_fail(__FILE__, __LINE__, "write CRL file");
}

static X509_CRL *
load_crl(const char *pem)
{
	BIO *bio;
	X509_CRL *c;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (c = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) == NULL)
		fz_fail(__FILE__, __LINE__, "fixture CRL parses");
	BIO_free(bio);
	return c;
}

static void
cleanup(void)
{
	certauth_trust_free(ca_policy);
	certauth_trust_free(crl_policy);
	certauth_trust_free(pinned_policy);
	certauth_opts_free(&ca_opts);
	certauth_opts_free(&crl_opts);
	certauth_opts_free(&pinned_opts);
	certauth_opts_free(&input_opts);
	X509_free(anchor);
	X509_free(inter);
	X509_CRL_free(crl);
	unlink(anchor_path);
	unlink(crl_path);
	unlink(inter_path);
	unlink(input_path);
	rmdir(tmpdir);
}

static void
set_opts(struct certauth_opts *o, const char *trust, const char *chain,
    const char *crl_file)
{
	certauth_opts_init(o);
	if (certauth_opts_set(o, "trust", trust, NULL) != 0 ||
	    (strcmp(trust, "ca") == 0 &&
	    certauth_opts_set(o, "ca_file", anchor_path, NULL) != 0) ||
	    (chain != NULL &&
	    certauth_opts_set(o, "chain_file", chain, NULL) != 0) ||
	    (crl_file != NULL &&
	    certauth_opts_set(o, "crl_file", crl_file, NULL) != 0) ||
	    certauth_opts_validate(o, NULL) != 0)
		fz_fail(__FILE__, __LINE__, "policy options");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	/* The trust files must pass the module's checks (root-owned, in
	 * directories only root can write), which /tmp does not: as root,
	 * a directory of its own under /run. */
	if (geteuid() == 0)
		base = "/run";
	snprintf(tmpdir, sizeof(tmpdir), "%s/fuzz-policy-XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		fz_fail(__FILE__, __LINE__, "mkdtemp");
	snprintf(anchor_path, sizeof(anchor_path), "%s/anchor.pem", tmpdir);
	snprintf(inter_path, sizeof(inter_path), "%s/inter.pem", tmpdir);
	snprintf(input_path, sizeof(input_path), "%s/input.pem", tmpdir);
	snprintf(crl_path, sizeof(crl_path), "%s/anchor.crl", tmpdir);
	atexit(cleanup);
	anchor = fz_cert(fx_anchor_pem);
	inter = fz_cert(fx_inter_pem);
	crl = load_crl(fx_anchor_crl_pem);
	write_pem(anchor_path, anchor);
	write_pem(inter_path, inter);
	write_file(crl_path, fx_anchor_crl_pem);
	set_opts(&ca_opts, "ca", inter_path, NULL);
	set_opts(&crl_opts, "ca", inter_path, crl_path);
	set_opts(&pinned_opts, "pinned", NULL, NULL);
	set_opts(&input_opts, "ca", input_path, NULL);
	if (certauth_trust_load(&ca_opts, NULL, &ca_policy, NULL) != 0 ||
	    certauth_trust_load(&crl_opts, NULL, &crl_policy, NULL) != 0 ||
	    certauth_trust_load(&pinned_opts, NULL, &pinned_policy, NULL) != 0)
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
check(const struct certauth_trust_set *p, X509 *leaf)
{
	struct certauth_reason reason;
	int r;

	reason.text[0] = '\0';
	r = certauth_chain_check(p, NULL, leaf, FUZZ_NOW, NULL, &reason);
	fz_assert_no_errors("certauth_chain_check");
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
	struct certauth_trust_set *p = NULL;

	write_pem(input_path, in);
	if (certauth_trust_load(&input_opts, NULL, &p, NULL) != 0) {
		/* A certificate that parses as DER but not back from PEM. */
		ERR_clear_error();
		return;
	}
	if (check(p, leaf) == 0)
		fz_assert(signed_by(leaf, anchor) ||
		    (signed_by(leaf, in) && signed_by(in, anchor)));
	certauth_trust_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data, *end = data + size;
	X509 *leaf = NULL, *in = NULL;
	X509_REVOKED *entry = NULL;
	int ca_ok;

	if ((leaf = d2i_X509(NULL, &p, (long)size)) == NULL)
		goto out;
	if (p < end)
		in = d2i_X509(NULL, &p, (long)(end - p));
	ERR_clear_error();
	ca_ok = check(ca_policy, leaf) == 0;
	if (ca_ok)
		fz_assert(signed_by(leaf, anchor) || signed_by(leaf, inter));
	if (check(crl_policy, leaf) == 0) {
		fz_assert(ca_ok && signed_by(leaf, anchor));
		fz_assert(X509_CRL_get0_by_cert(crl, &entry, leaf) == 0);
	}
	(void)check(pinned_policy, leaf);
	if (in != NULL)
		check_input_chain(leaf, in);
 out:
	ERR_clear_error();
	X509_free(leaf);
	X509_free(in);
	return 0;
}
