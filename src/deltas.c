/*
 * deltas.c - which delta CRLs a chain check read, and a warning for each
 * it passed over that the check's chain could have needed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "certauth.h"
#include "certutil.h"
#include "deltas.h"
#include "log.h"
#include "options.h"
#include "trust.h"

/*
 * Which CRLs one check reads.  OpenSSL hands each CRL it is about to read
 * to the context's check_crl, a delta CRL right after its base; a
 * context takes check_crl from its store, and the check's own store
 * (chain.c) gives watch_check_crl, which notes the CRL and calls
 * OpenSSL's own.
 */
static int
watch_check_crl(X509_STORE_CTX *ctx, X509_CRL *crl)
{
	X509_STORE_CTX *top = ctx, *up;
	struct certauth_crl_watch *w;
	int i;

	/* The path of a CRL's issuer is checked in a child context. */
	while ((up = X509_STORE_CTX_get0_parent_ctx(top)) != NULL)
		top = up;
	if ((w = X509_STORE_CTX_get_app_data(top)) == NULL || w->t == NULL) {
		X509_STORE_CTX_set_error(ctx, X509_V_ERR_UNSPECIFIED);
		return 0;
	}
	for (i = 0; i < sk_X509_CRL_num(w->t->crls); i++) {
		if (sk_X509_CRL_value(w->t->crls, i) == crl)
			w->used[i] = 1;
	}
	for (i = 0; w->read != NULL && i < w->t->ndeltas; i++) {
		if (w->t->deltas[i].crl == crl)
			w->read[i] = 1;
	}
	return w->check_crl(ctx, crl);
}

/*
 * With CRLs loaded, make store's contexts check CRLs through
 * watch_check_crl; the caller gives the check's context w as app data.
 * The flags are the caller's to free.  Returns 0, CERTAUTH_ERR_NOMEM or
 * CERTAUTH_ERR_INTERNAL.
 */
int
certauth_watch_crls(const struct certauth_trust_set *p, X509_STORE *store,
    struct certauth_crl_watch *w)
{
	X509_STORE_CTX *probe = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	if (sk_X509_CRL_num(p->crls) <= 0)
		return 0;
	if ((w->used = calloc((size_t)sk_X509_CRL_num(p->crls), 1)) == NULL ||
	    (p->ndeltas > 0 &&
		(w->read = calloc((size_t)p->ndeltas, 1)) == NULL) ||
	    (probe = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(probe, NULL, NULL, NULL)) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	/* A context over no store is given OpenSSL's own check. */
	if ((w->check_crl = X509_STORE_CTX_get_check_crl(probe)) == NULL)
		goto out;
	w->t = p;
	X509_STORE_set_check_crl(store, watch_check_crl);
	r = 0;
out:
	X509_STORE_CTX_free(probe);
	return r;
}

/* Whether a and b both lack extension nid, or carry it once each with
 * the same value. */
static int
same_crl_ext(X509_CRL *a, X509_CRL *b, int nid)
{
	int i = X509_CRL_get_ext_by_NID(a, nid, -1);
	int j = X509_CRL_get_ext_by_NID(b, nid, -1);

	if (i < 0 || j < 0)
		return i < 0 && j < 0;
	if (X509_CRL_get_ext_by_NID(a, nid, i) >= 0 ||
	    X509_CRL_get_ext_by_NID(b, nid, j) >= 0)
		return 0;
	return ASN1_OCTET_STRING_cmp(
		   X509_EXTENSION_get_data(X509_CRL_get_ext(a, i)),
		   X509_EXTENSION_get_data(X509_CRL_get_ext(b, j))) == 0;
}

/*
 * Whether OpenSSL would take delta as extending base (check_delta_base
 * in its x509_vfy.c): base is complete, both have the same issuer,
 * authorityKeyIdentifier and issuingDistributionPoint, and base's CRL
 * number is at least the delta's base CRL number and below its own.
 */
static int
delta_extends(X509_CRL *delta, X509_CRL *base)
{
	ASN1_INTEGER *from = NULL, *num = NULL, *base_num = NULL;
	int ok = 0;

	if (X509_CRL_get_ext_by_NID(base, NID_delta_crl, -1) >= 0 ||
	    X509_NAME_cmp(X509_CRL_get_issuer(base),
		X509_CRL_get_issuer(delta)) != 0 ||
	    !same_crl_ext(delta, base, NID_authority_key_identifier) ||
	    !same_crl_ext(delta, base, NID_issuing_distribution_point))
		return 0;
	from = X509_CRL_get_ext_d2i(delta, NID_delta_crl, NULL, NULL);
	num = X509_CRL_get_ext_d2i(delta, NID_crl_number, NULL, NULL);
	base_num = X509_CRL_get_ext_d2i(base, NID_crl_number, NULL, NULL);
	ok = from != NULL && num != NULL && base_num != NULL &&
	    ASN1_INTEGER_cmp(from, base_num) <= 0 &&
	    ASN1_INTEGER_cmp(num, base_num) > 0;
	ASN1_INTEGER_free(from);
	ASN1_INTEGER_free(num);
	ASN1_INTEGER_free(base_num);
	return ok;
}

/*
 * Why OpenSSL passed over a delta CRL: it reads one only together with a
 * base CRL the delta extends, when that base CRL or the certificate
 * (freshest is whether the certificate does) has a freshestCRL
 * extension, and then only the first delta CRL that extends it.
 */
static const char *
unread_delta_reason(const struct certauth_trust_set *p, X509_CRL *delta,
    int freshest)
{
	X509_CRL *base;
	int i, based = 0;

	for (i = 0; i < sk_X509_CRL_num(p->crls); i++) {
		base = sk_X509_CRL_value(p->crls, i);
		if (!delta_extends(delta, base))
			continue;
		based = 1;
		if (X509_CRL_get_ext_by_NID(base, NID_freshest_crl, -1) >= 0)
			freshest = 1;
	}
	if (!based)
		return "no complete CRL loaded is its base (same issuer, "
		       "CRL number from its base CRL number up to below its own)";
	if (!freshest)
		return "neither its base CRL nor the certificate has a "
		       "freshestCRL extension";
	return "a newer base CRL, or another delta CRL of the same base, "
	       "was read instead";
}

/* Whether cert names name for its CRLs: as its issuer, or as the
 * cRLIssuer of one of its CRL distribution points. */
static int
crl_issuer_of(X509 *cert, const X509_NAME *name)
{
	STACK_OF(DIST_POINT) *dps;
	DIST_POINT *dp;
	GENERAL_NAME *gn;
	int i, j, found = 0;

	if (X509_NAME_cmp(X509_get_issuer_name(cert), name) == 0)
		return 1;
	dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
	for (i = 0; !found && i < sk_DIST_POINT_num(dps); i++) {
		dp = sk_DIST_POINT_value(dps, i);
		for (j = 0; !found && j < sk_GENERAL_NAME_num(dp->CRLissuer);
		     j++) {
			gn = sk_GENERAL_NAME_value(dp->CRLissuer, j);
			found = gn->type == GEN_DIRNAME &&
			    X509_NAME_cmp(gn->d.directoryName, name) == 0;
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return found;
}

/*
 * After X509_verify_cert: warn of each delta CRL the check did not read
 * although its issuer is a CRL issuer of a certificate whose revocation
 * was looked up (the user certificate, or with crl=chain each one not
 * self-signed, up to the one that failed).  A revocation listed only in
 * such a delta CRL does not refuse the login, and the administrator who
 * put it there should learn so.  Deltas of other CAs are not this
 * login's concern.
 */
void
certauth_warn_unread_deltas(const struct certauth_trust_set *p,
    const struct certauth_log *lg, X509_STORE_CTX *ctx, int verified,
    const struct certauth_crl_watch *w)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	X509_CRL *crl;
	X509 *cert;
	ASN1_INTEGER *num;
	char issuer[256], *number;
	int i, k, last, err, looked, freshest;

	last = p->crl == CERTAUTH_CRL_CHAIN ? sk_X509_num(chain) - 1 : 0;
	/* The reason for a failure may still be read off the error queue. */
	ERR_set_mark();
	if (!verified) {
		/* Only these failures can be a delta CRL's doing. */
		err = X509_STORE_CTX_get_error(ctx);
		if (err != X509_V_ERR_CERT_REVOKED &&
		    err != X509_V_ERR_UNABLE_TO_GET_CRL) {
			ERR_pop_to_mark();
			return;
		}
		if (X509_STORE_CTX_get_error_depth(ctx) < last)
			last = X509_STORE_CTX_get_error_depth(ctx);
	}
	for (i = 0; i < p->ndeltas; i++) {
		if (w->read[i])
			continue;
		crl = p->deltas[i].crl;
		looked = freshest = 0;
		for (k = 0; k <= last && k < sk_X509_num(chain); k++) {
			cert = sk_X509_value(chain, k);
			if ((X509_get_extension_flags(cert) & EXFLAG_SS) != 0 ||
			    !crl_issuer_of(cert, X509_CRL_get_issuer(crl)))
				continue;
			looked = 1;
			if (X509_get_ext_by_NID(cert, NID_freshest_crl, -1) >=
			    0)
				freshest = 1;
		}
		if (!looked)
			continue;
		certauth_name_string(X509_CRL_get_issuer(crl), issuer,
		    sizeof(issuer));
		num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
		number = num != NULL ? i2s_ASN1_INTEGER(NULL, num) : NULL;
		log_warn(lg,
		    "delta CRL in %s (issuer %s, CRL number %s) "
		    "is not used: %s",
		    p->deltas[i].path, issuer, number != NULL ? number : "?",
		    unread_delta_reason(p, crl, freshest));
		OPENSSL_free(number);
		ASN1_INTEGER_free(num);
	}
	ERR_pop_to_mark();
}

void
certauth_watch_clear(struct certauth_crl_watch *w)
{
	free(w->read);
	free(w->used);
	w->read = NULL;
	w->used = NULL;
}
