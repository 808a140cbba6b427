/*
 * ocsp.h - revocation checking over OCSP: request, verification of the
 * answer, policy (ocsp=soft|hard) and the cache.
 */
#ifndef CERTAUTH_OCSP_H
#define CERTAUTH_OCSP_H

#include <stddef.h>
#include <time.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "ctx.h"
#include "log.h"
#include "options.h"

#ifndef CERTAUTH_OCSP_HELPER
#define CERTAUTH_OCSP_HELPER "/usr/libexec/certauth-ocsp-fetch"
#endif
#ifndef CERTAUTH_OCSP_CACHE_DIR
#define CERTAUTH_OCSP_CACHE_DIR "/var/cache/pam_certauth/ocsp"
#endif

/* What one OCSP answer says about one certificate. */
enum certauth_ocsp_status {
	CERTAUTH_OCSP_GOOD = 0,
	CERTAUTH_OCSP_REVOKED,
	CERTAUTH_OCSP_UNKNOWN,
};

/* Everything the verification of one answer needs. */
struct certauth_ocsp_expect {
	OCSP_CERTID *id;	   /* the CertID we asked about */
	X509 *issuer;		   /* issuer of the certificate */
	X509_STORE *store;	   /* trust anchors */
	STACK_OF(X509) *untrusted; /* chain certs, may be NULL */
	X509 *responder;	   /* ocsp_responder_cert or NULL */
	OCSP_REQUEST *nonce_req;   /* the request whose nonce must be
					 * echoed, or NULL (no nonce sent /
					 * answer read from the cache) */
	long skew;		   /* ocsp_skew seconds */
	long max_age;		   /* ocsp_max_age seconds */
};

/*
 * Verify one DER OCSPResponse against expect: response status
 * successful, basic response, OCSP_basic_verify against the store (signer
 * = the issuer, a delegate of the issuer with id-kp-OCSPSigning, or
 * expect->responder), a SingleResponse for expect->id, the nonce when
 * nonce_req is set, thisUpdate not in the future and nextUpdate not past
 * (within skew), no nextUpdate: thisUpdate within max_age.
 * Returns 0 with *status and *valid_until (nextUpdate, or thisUpdate +
 * max_age, as time_t) or CERTAUTH_ERR_FORMAT (not DER, not basic, no
 * answer for the CertID), CERTAUTH_ERR_BAD_SIGNATURE (signature or
 * responder authorisation), CERTAUTH_ERR_EXPIRED (stale or future),
 * CERTAUTH_ERR_CERT_INVALID (nonce mismatch, unsuccessful responseStatus),
 * each with a reason.
 */
int certauth_ocsp_verify_der(const unsigned char *der, size_t len,
    const struct certauth_ocsp_expect *expect, int *status, time_t *valid_until,
    struct certauth_reason *reason);

/*
 * The signature and responder-authorisation part of
 * certauth_ocsp_verify_der, on its own so that it can be tested against
 * fixed-time vectors.  The signer must be expect->issuer, a certificate
 * issued by it with id-kp-OCSPSigning, or exactly expect->responder (the
 * only certificate ever trusted without a chain: OCSP_TRUSTOTHER is used
 * with a stack that holds it alone).  at != 0 verifies the signer's chain
 * at that time instead of the store's: the store's verify time is set for
 * the call and restored after, so the store must not be in use by another
 * thread meanwhile.  Returns 0 or CERTAUTH_ERR_BAD_SIGNATURE with
 * "OCSP answer signature or responder does not verify: <why>", or
 * CERTAUTH_ERR_NOMEM.  The OpenSSL error queue is left empty.
 */
int certauth_ocsp_verify_signer(OCSP_BASICRESP *bs,
    const struct certauth_ocsp_expect *expect, time_t at,
    struct certauth_reason *reason);

/*
 * The revocation step of a login for a verified chain (leaf at index 0,
 * trust anchor last, as chain.h hands it on, with the store of its
 * anchors), per the options of c (ocsp, ocsp_scope, ocsp_url,
 * ocsp_nonce, ocsp_digest, ocsp_proxy, ocsp_responder_cert, ocsp_skew,
 * ocsp_max_age, ocsp_cache_dir).  One budget for all traffic:
 * c->budget_ms is the responders' time left, and each exchange takes
 * from it the time the fetch helper reports (fetch.h), never time this
 * host spent otherwise, so a caller who stops the host cannot use it up.
 * For each certificate checked: a fresh verified cache entry is used as
 * is; otherwise each responder URL (ocsp_url, else the AIA OCSP URLs in
 * order) is asked until one answers; a verified answer is stored in the
 * cache.
 * Returns 0 when every checked certificate is good or, with ocsp=soft,
 * only the network kept its responders from answering (the helper saw
 * them refuse, reset, not resolve, time out or answer with an HTTP error;
 * they used up the budget; or the certificate names no http(s)
 * responder): a warning is logged through c->lg.  CERTAUTH_ERR_REVOKED;
 * CERTAUTH_ERR_CERT_INVALID for unknown, unverifiable, stale or
 * mismatched answers and, with ocsp=hard, unreachable responders;
 * CERTAUTH_ERR_TRUST_STORE when ocsp_responder_cert cannot be read;
 * CERTAUTH_ERR_INTERNAL or _NOMEM for a failure on this host
 * (descriptors, processes, the helper's checks, a helper that gave no
 * report), in both modes.  c->outcome.ocsp_source receives where the
 * verdict of the last certificate checked came from ("cache" or
 * "http://127.0.0.1:8888/"), or "" when none came.
 */
int certauth_ocsp_check_chain(struct certauth_ctx *c, STACK_OF(X509) *chain,
    X509_STORE *store, struct certauth_reason *reason);

/*
 * The cache: one file per CertID under dir, named by the SHA-256 of the
 * DER CertID in hex.  load returns 0 with a malloc'd DER answer, or
 * CERTAUTH_ERR_NOT_FOUND / _UNSAFE / _IO (an oversized file too); files
 * are read with certauth_read_safely (root-owned, not writable by others,
 * no links).  store writes
 * atomically (temporary file, fsync, rename), creating dir 0700 when
 * missing.  Callers re-verify every loaded answer.
 */
int certauth_ocsp_cache_load(const char *dir, OCSP_CERTID *id,
    unsigned char **der, size_t *len, struct certauth_reason *reason);
int certauth_ocsp_cache_store(const char *dir, OCSP_CERTID *id,
    const unsigned char *der, size_t len, struct certauth_reason *reason);

/*
 * The fetch lock of a CertID (dir/.lock.<hex>, flock): a login that finds
 * no fresh answer takes it, looks in the cache again, and asks a responder
 * only if the answer is still missing, so concurrent logins with the same
 * certificate send one request.  Waits until deadline_ms (certauth_now_ms
 * clock) at most.  Returns a descriptor for certauth_ocsp_cache_unlock,
 * or -1 when the lock cannot be had (the caller then asks anyway: the lock
 * saves requests, it never decides a login).  unlock accepts -1.
 */
int certauth_ocsp_cache_lock(const char *dir, OCSP_CERTID *id,
    long long deadline_ms);
void certauth_ocsp_cache_unlock(int lock);

#endif /* CERTAUTH_OCSP_H */
