/*
 * policy.h - the chain policy of docs/PROTOCOL.md, "Chain policy" and
 * "Revocation" (CRLs; OCSP is separate).
 */
#ifndef CERTAUTH_POLICY_H
#define CERTAUTH_POLICY_H

#include <time.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "log.h"
#include "options.h"

struct certauth_policy;

/*
 * Load what the options name: for trust=ca the anchors (ca_file and/or
 * ca_dir, at least one), chain_file intermediates, and crl_file/crl_dir
 * (PEM or DER) when crl is leaf or chain.  Options must have passed
 * certauth_opts_validate and outlive the policy, which borrows them.  The
 * checks of one policy share one OCSP budget of ocsp_timeout_ms of the
 * responders' time (certauth_ocsp_check_chain).
 * Returns 0 with *out, or CERTAUTH_ERR_TRUST_STORE
 * with a reason naming the file ("cannot load ca_file /x: No such file"),
 * or CERTAUTH_ERR_NOMEM.
 */
int certauth_policy_load(const struct certauth_opts *o,
    struct certauth_policy **out, struct certauth_reason *reason);

void certauth_policy_free(struct certauth_policy *p);

/* Where warnings go (ocsp=soft, a delta CRL passed over); lg is
 * borrowed and may be NULL. */
void certauth_policy_set_log(struct certauth_policy *p,
    const struct certauth_log *lg);

/* Where the OCSP verdict of the last passing check came from: "cache",
 * the responder URL, or "" when OCSP is off or nothing was checked. */
const char *certauth_policy_ocsp_source(const struct certauth_policy *p);

/*
 * Check one certificate at time now (X509_V_FLAG_USE_CHECK_TIME):
 * its key passes certauth_key_check; trust=ca: the chain builds to an
 * anchor with X509_V_FLAG_POLICY_CHECK and the initial policy set
 * anyPolicy, CRL flags as configured (X509_V_FLAG_CRL_CHECK, plus _ALL
 * for chain, with delta, indirect and reason-partitioned CRLs read as
 * RFC 5280 says; a delta CRL of an issuer whose CRL was looked up that
 * OpenSSL did not read is logged as a warning); trust=pinned: the
 * certificate itself is the anchor (X509_V_FLAG_PARTIAL_CHAIN), validity
 * still checked; in both modes keyUsage, if present, must allow
 * digitalSignature and extendedKeyUsage, if present, clientAuth (or
 * anyExtendedKeyUsage).  No DSA keys anywhere in the chain.  Then, with
 * ocsp=soft|hard, certauth_ocsp_check_chain on the verified chain.
 * Returns 0; CERTAUTH_ERR_REVOKED ("certificate revoked (CRL)");
 * CERTAUTH_ERR_CERT_INVALID with the exact reason, e.g.
 * "certificate expired 2021-01-01", "certificate not valid before
 * 2031-01-01", "unable to get local issuer certificate",
 * "keyUsage does not allow digitalSignature", "extendedKeyUsage does not
 * allow clientAuth"; CERTAUTH_ERR_KEY_REFUSED; CERTAUTH_ERR_NOMEM.
 */
int certauth_policy_check(const struct certauth_policy *p, X509 *cert,
    time_t now, struct certauth_reason *reason);

#endif /* CERTAUTH_POLICY_H */
