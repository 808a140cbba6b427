/*
 * chain.h - the chain step of a login, docs/PROTOCOL.md "Chain policy"
 * and the CRL part of "Revocation": whether one certificate holds against
 * the trust files (trust.h) at a given time.  OCSP is a separate step
 * (ocsp.h), handed what this one verified.
 */
#ifndef CERTAUTH_CHAIN_H
#define CERTAUTH_CHAIN_H

#include <time.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "log.h"
#include "trust.h"

/* What a passing check hands on to revocation over the network. */
struct certauth_verified {
	STACK_OF(X509) *chain; /* leaf first, trust anchor last */
	X509_STORE *store;     /* the anchors the chain was built from */
};

/* Free what v holds and zero it. */
void certauth_verified_clear(struct certauth_verified *v);

/*
 * Check one certificate at time now (X509_V_FLAG_USE_CHECK_TIME): its key
 * passes certauth_key_check; trust=ca: the chain builds to an anchor with
 * X509_V_FLAG_POLICY_CHECK and the initial policy set anyPolicy, CRL
 * flags as configured (X509_V_FLAG_CRL_CHECK, plus _ALL for chain, with
 * delta, indirect and reason-partitioned CRLs read as RFC 5280 says; a
 * delta CRL passed over is logged through lg, see deltas.h; a CRL's
 * dates are judged with crl_skew and crl_grace, and a CRL used under
 * grace or within crl_warn of its nextUpdate is logged through lg, see
 * crl_dates.h);
 * trust=pinned: the certificate itself is the anchor
 * (X509_V_FLAG_PARTIAL_CHAIN), validity still checked; in both modes
 * keyUsage, if present, must allow digitalSignature and extendedKeyUsage,
 * if present, clientAuth (or anyExtendedKeyUsage).  No DSA keys anywhere
 * in the chain.
 * Returns 0 with *out (may be NULL when the caller needs nothing handed
 * on; else the caller's, certauth_verified_clear);
 * CERTAUTH_ERR_REVOKED ("certificate revoked (CRL)");
 * CERTAUTH_ERR_CERT_INVALID with the exact reason, e.g. "certificate
 * expired 2021-01-01 00:00:00 UTC", "certificate not valid before
 * 2031-01-01 00:00:00 UTC",
 * "CRL in crl_file /x (issuer CN=CA) expired at 2026-12-06 11:30:00 UTC
 * (its nextUpdate), beyond crl_grace=0; ...", marked a fault of the host,
 * "unable to get local issuer certificate", "keyUsage does not allow
 * digitalSignature", "extendedKeyUsage does not allow clientAuth";
 * CERTAUTH_ERR_KEY_REFUSED; CERTAUTH_ERR_TRUST_STORE (an anchor the chain
 * needs cannot be read); CERTAUTH_ERR_NOMEM.
 */
int certauth_chain_check(const struct certauth_trust_set *t,
    const struct certauth_log *lg, X509 *cert, time_t now,
    struct certauth_verified *out, struct certauth_reason *reason);

#endif /* CERTAUTH_CHAIN_H */
