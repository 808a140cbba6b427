/*
 * ocsp.c - revocation over OCSP: the request, the verification of an
 * answer, and the soft/hard policy around responders and the cache.
 *
 * The network is hostile and the fetch helper verifies nothing, so every
 * claim of an answer is checked here: who signed it, for which
 * certificate, with which nonce, and when.  An answer read back from the
 * cache goes through the same checks, since the cache is only bytes on
 * disk.  Only "unreachable" is ever tolerated (ocsp=soft); an answer that
 * arrives and does not verify is a failure in both modes.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certauth.h"
#include "certutil.h"
#include "ctx.h"
#include "fetch.h"
#include "log.h"
#include "ocsp.h"
#include "parse_cache.h"
#include "trust.h"

#define SUBJECT_MAX 256 /* a subject in reasons and logs */
#define DATE_MAX    64	/* "YYYY-MM-DD HH:MM:SS UTC" */

/* Does the responderID of bs name cert (by subject or by key hash)? */
static int
responder_id_is(OCSP_BASICRESP *bs, X509 *cert)
{
	const ASN1_OCTET_STRING *keyhash = NULL;
	const X509_NAME *name = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!OCSP_resp_get0_id(bs, &keyhash, &name))
		return 0;
	if (name != NULL)
		return X509_NAME_cmp(name, X509_get_subject_name(cert)) == 0;
	/* RFC 6960: SHA-1 of the subjectPublicKey BIT STRING value. */
	if (keyhash == NULL ||
	    !X509_pubkey_digest(cert, EVP_sha1(), md, &mdlen))
		return 0;
	return ASN1_STRING_length(keyhash) == (int)mdlen &&
	    memcmp(ASN1_STRING_get0_data(keyhash), md, mdlen) == 0;
}

int
certauth_ocsp_verify_signer(OCSP_BASICRESP *bs,
    const struct certauth_ocsp_expect *e, time_t at,
    struct certauth_reason *reason)
{
	STACK_OF(X509) *certs = NULL;
	X509_VERIFY_PARAM *param = NULL;
	unsigned long flags = 0, saved_flags = 0;
	time_t saved_time = 0;
	char why[CERTAUTH_REASON_MAX];
	int ok, r = CERTAUTH_ERR_INTERNAL;

	ERR_clear_error();
	if (e->responder != NULL && responder_id_is(bs, e->responder)) {
		/*
		 * The configured responder is trusted as it is.  It must be
		 * alone in the stack: OCSP_TRUSTOTHER trusts whatever signer
		 * it finds there, and the chain holds the user's own
		 * certificate, whose key the user has.
		 */
		if ((certs = sk_X509_new_null()) == NULL ||
		    !sk_X509_push(certs, e->responder)) {
			certauth_reason_set(reason,
			    "out of memory while "
			    "verifying the OCSP answer");
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		flags = OCSP_TRUSTOTHER;
	} else {
		/*
		 * The signer's chain must build to an anchor, and
		 * ocsp_check_issuer then demands that the signer is the
		 * issuer or carries id-kp-OCSPSigning from it.
		 */
		certs = e->untrusted != NULL ? sk_X509_dup(e->untrusted) :
					       sk_X509_new_null();
		if (certs == NULL ||
		    (e->issuer != NULL && !sk_X509_push(certs, e->issuer))) {
			certauth_reason_set(reason,
			    "out of memory while "
			    "verifying the OCSP answer");
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
	}
	if (at != 0) {
		param = X509_STORE_get0_param(e->store);
		saved_flags = X509_VERIFY_PARAM_get_flags(param);
		saved_time = X509_VERIFY_PARAM_get_time(param);
		X509_VERIFY_PARAM_set_time(param, at);
	}
	ok = OCSP_basic_verify(bs, certs, e->store, flags);
	if (param != NULL) {
		if ((saved_flags & X509_V_FLAG_USE_CHECK_TIME) != 0)
			X509_VERIFY_PARAM_set_time(param, saved_time);
		else
			X509_VERIFY_PARAM_clear_flags(param,
			    X509_V_FLAG_USE_CHECK_TIME);
	}
	if (ok <= 0) {
		certauth_ossl_reason(why, sizeof(why), "verification failed");
		certauth_reason_set(reason,
		    "OCSP answer signature or "
		    "responder does not verify: %s",
		    why);
		r = CERTAUTH_ERR_BAD_SIGNATURE;
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	sk_X509_free(certs);
	return r;
}

/* thisUpdate/nextUpdate against now, skew and max_age. */
static int
check_fresh(const ASN1_GENERALIZEDTIME *thisupd,
    const ASN1_GENERALIZEDTIME *nextupd, const struct certauth_ocsp_expect *e,
    time_t *valid_until, struct certauth_reason *reason)
{
	char when[DATE_MAX];
	time_t now = time(NULL), this_t = 0, next_t = 0;

	if (certauth_asn1_to_time(thisupd, &this_t) != 0 ||
	    (nextupd != NULL && certauth_asn1_to_time(nextupd, &next_t) != 0)) {
		certauth_reason_set(reason,
		    "OCSP answer has an unreadable thisUpdate or nextUpdate");
		return CERTAUTH_ERR_FORMAT;
	}
	if (!OCSP_check_validity((ASN1_GENERALIZEDTIME *)thisupd,
		(ASN1_GENERALIZEDTIME *)nextupd, e->skew, -1)) {
		ERR_clear_error();
		if (this_t > now) {
			certauth_time_string(thisupd, when, sizeof(when));
			certauth_reason_set(reason,
			    "OCSP thisUpdate is in the future (%s)", when);
		} else if (nextupd != NULL && next_t < now) {
			certauth_time_string(nextupd, when, sizeof(when));
			certauth_reason_set(reason,
			    "OCSP answer is stale (nextUpdate %s)", when);
		} else {
			certauth_reason_set(reason,
			    "OCSP nextUpdate precedes thisUpdate");
		}
		return CERTAUTH_ERR_EXPIRED;
	}
	if (nextupd != NULL) {
		*valid_until = next_t;
		return 0;
	}
	/* RFC 5019 answers may omit nextUpdate: trust them for max_age. */
	if (this_t + e->max_age < now) {
		certauth_time_string(thisupd, when, sizeof(when));
		certauth_reason_set(reason,
		    "OCSP answer is stale (thisUpdate "
		    "%s, no nextUpdate, ocsp_max_age %ld)",
		    when, e->max_age);
		return CERTAUTH_ERR_EXPIRED;
	}
	*valid_until = this_t + e->max_age;
	return 0;
}

/* certauth_ocsp_verify_der, also giving the revocation time as text. */
static int
verify_answer(const unsigned char *der, size_t len,
    const struct certauth_ocsp_expect *e, int *status, time_t *valid_until,
    char *revdate, size_t revdatelen, struct certauth_reason *reason)
{
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	const unsigned char *p = der;
	int st = -1, why = -1, rs, r = CERTAUTH_ERR_INTERNAL;

	ERR_clear_error();
	if (der == NULL || len == 0 || len > LONG_MAX ||
	    (resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		certauth_reason_set(reason, "OCSP answer is not DER");
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if ((rs = OCSP_response_status(resp)) !=
	    OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		certauth_reason_set(reason, "OCSP responseStatus is %s (%d)",
		    rs >= 0 && rs <= OCSP_RESPONSE_STATUS_UNAUTHORIZED ?
			OCSP_response_status_str(rs) :
			"undefined",
		    rs);
		r = CERTAUTH_ERR_CERT_INVALID;
		goto out;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
		certauth_reason_set(reason,
		    "OCSP answer is not a basic OCSP response");
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if ((r = certauth_ocsp_verify_signer(bs, e, 0, reason)) != 0)
		goto out;
	if (!OCSP_resp_find_status(bs, e->id, &st, &why, &rev, &thisupd,
		&nextupd)) {
		certauth_reason_set(reason,
		    "OCSP answer has no status for this certificate");
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	/* 1 is "both carry the same nonce"; anything else is a replay
	 * or an answer to some other request. */
	if (e->nonce_req != NULL && OCSP_check_nonce(e->nonce_req, bs) != 1) {
		certauth_reason_set(reason,
		    "OCSP answer does not echo the request nonce");
		r = CERTAUTH_ERR_CERT_INVALID;
		goto out;
	}
	if ((r = check_fresh(thisupd, nextupd, e, valid_until, reason)) != 0)
		goto out;
	switch (st) {
	case V_OCSP_CERTSTATUS_GOOD:
		*status = CERTAUTH_OCSP_GOOD;
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		*status = CERTAUTH_OCSP_REVOKED;
		if (revdate != NULL)
			certauth_time_string(rev, revdate, revdatelen);
		break;
	default:
		*status = CERTAUTH_OCSP_UNKNOWN;
		break;
	}
	r = 0;
out:
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return r;
}

int
certauth_ocsp_verify_der(const unsigned char *der, size_t len,
    const struct certauth_ocsp_expect *expect, int *status, time_t *valid_until,
    struct certauth_reason *reason)
{
	return verify_answer(der, len, expect, status, valid_until, NULL, 0,
	    reason);
}

/* What stays the same for every certificate of one chain check. */
struct chain_check {
	struct certauth_ctx *c;	       /* the login: options, log, budget */
	const struct certauth_opts *o; /* c->opts */
	STACK_OF(X509) *chain;
	X509_STORE *store;
	X509 *responder;  /* ocsp_responder_cert or NULL */
	const EVP_MD *md; /* CertID hash */
	const char *cache_dir;
};

/* The verdict of one certificate and where it came from. */
struct verdict {
	int status; /* enum certauth_ocsp_status */
	char revdate[DATE_MAX];
	char source[CERTAUTH_REASON_MAX];
};

/* ocsp_responder_cert: its first certificate, read as trust files are. */
static int
load_responder(const char *path, X509 **out, struct certauth_reason *reason)
{
	STACK_OF(X509) *certs = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if ((r = certauth_trust_certs("ocsp_responder_cert", path, NULL, &certs,
		 reason)) != 0)
		return r;
	*out = sk_X509_shift(certs);
	sk_X509_pop_free(certs, X509_free);
	return 0;
}

/*
 * A fresh, verified cache entry: 0 with v filled, or CERTAUTH_ERR_NOT_FOUND
 * when there is none that can be used (the reason is logged, not fatal).
 */
static int
from_cache(const struct chain_check *cc, const struct certauth_ocsp_expect *e,
    const char *subject, struct verdict *v)
{
	struct certauth_reason why;
	unsigned char *der = NULL;
	size_t len = 0;
	time_t until = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	why.text[0] = '\0';
	if ((r = certauth_ocsp_cache_load(cc->cache_dir, e->id, &der, &len,
		 &why)) != 0) {
		if (r == CERTAUTH_ERR_NOMEM)
			goto out;
		/* A cache that is not safe to read is the admin's problem,
		 * a missing entry is the normal case. */
		if (r == CERTAUTH_ERR_NOT_FOUND)
			log_debug(cc->c->lg, "no cached OCSP answer for %s",
			    subject);
		else
			log_warn(cc->c->lg,
			    "OCSP cache entry for %s not used: %s", subject,
			    why.text);
		r = CERTAUTH_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = verify_answer(der, len, e, &v->status, &until, v->revdate,
		 sizeof(v->revdate), &why)) != 0) {
		if (r == CERTAUTH_ERR_NOMEM)
			goto out;
		log_debug(cc->c->lg, "cached OCSP answer for %s ignored: %s",
		    subject, why.text);
		r = CERTAUTH_ERR_NOT_FOUND;
		goto out;
	}
	snprintf(v->source, sizeof(v->source), "cache");
	r = 0;
out:
	free(der);
	return r;
}

/* One OCSPRequest for id, with a nonce when asked, and its DER. */
static int
make_request(OCSP_CERTID *id, int nonce, OCSP_REQUEST **reqp,
    unsigned char **derp, size_t *lenp)
{
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *copy = NULL;
	unsigned char *der = NULL;
	int n, r = CERTAUTH_ERR_INTERNAL;

	if ((req = OCSP_REQUEST_new()) == NULL ||
	    (copy = OCSP_CERTID_dup(id)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if (OCSP_request_add0_id(req, copy) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	copy = NULL; /* the request owns it now */
	if (nonce && OCSP_request_add1_nonce(req, NULL, -1) <= 0)
		goto out;
	if ((n = i2d_OCSP_REQUEST(req, &der)) <= 0)
		goto out;
	*reqp = req;
	req = NULL;
	*derp = der;
	der = NULL;
	*lenp = (size_t)n;
	r = 0;
out:
	ERR_clear_error();
	OCSP_CERTID_free(copy);
	OCSP_REQUEST_free(req);
	OPENSSL_free(der);
	return r;
}

/*
 * Ask one responder: the helper's exchange, then the answer's
 * verification, then the cache.  Takes from the budget what the helper
 * reports.  Returns as from_responders, with why the reason.
 */
static int
ask_responder(const struct chain_check *cc, const char *url,
    const unsigned char *reqder, size_t reqlen,
    const struct certauth_ocsp_expect *e, const char *subject,
    struct verdict *v, struct certauth_reason *reason)
{
	struct certauth_reason why, cwhy;
	unsigned char *resp = NULL;
	size_t resplen = 0;
	long long spent = 0;
	time_t until = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	why.text[0] = '\0';
	r = certauth_fetch_ocsp(CERTAUTH_OCSP_HELPER, url, cc->o->ocsp_proxy,
	    reqder, reqlen, cc->c->budget_ms, &spent, &resp, &resplen, &why);
	cc->c->budget_ms -= spent;
	if (r == CERTAUTH_ERR_UNREACHABLE) {
		log_debug(cc->c->lg, "OCSP responder %s: %s", url, why.text);
		certauth_reason_set(reason, "%s", why.text);
		goto out;
	}
	if (r == CERTAUTH_ERR_INTERNAL || r == CERTAUTH_ERR_NOMEM) {
		/* Ours, not the network's: never "unreachable". */
		certauth_reason_set(reason,
		    "OCSP check of %s failed on this "
		    "host: %s",
		    subject,
		    why.text[0] != '\0' ? why.text : certauth_strerror(r));
		goto out;
	}
	if (r != 0) {
		/* Something answered, badly: not "unreachable". */
		certauth_reason_set(reason,
		    "OCSP answer for %s from %s "
		    "refused: %s",
		    subject, url, why.text);
		r = CERTAUTH_ERR_CERT_INVALID;
		goto out;
	}
	why.text[0] = '\0';
	if ((r = verify_answer(resp, resplen, e, &v->status, &until, v->revdate,
		 sizeof(v->revdate), &why)) != 0) {
		certauth_reason_set(reason,
		    "OCSP answer for %s from %s "
		    "refused: %s",
		    subject, url,
		    why.text[0] != '\0' ? why.text : certauth_strerror(r));
		if (r != CERTAUTH_ERR_NOMEM)
			r = CERTAUTH_ERR_CERT_INVALID;
		goto out;
	}
	snprintf(v->source, sizeof(v->source), "%s", url);
	/* "unknown" may change any minute; don't keep it. */
	if (v->status != CERTAUTH_OCSP_UNKNOWN &&
	    certauth_ocsp_cache_store(cc->cache_dir, e->id, resp, resplen,
		&cwhy) != 0)
		log_warn(cc->c->lg, "cannot cache the OCSP answer for %s: %s",
		    subject, cwhy.text);
	r = 0;
out:
	free(resp);
	return r;
}

/*
 * Ask each responder URL in turn, each within what is left of the budget
 * (only the time the helper reports is taken from it).  Returns 0 with v
 * filled from a verified answer; CERTAUTH_ERR_UNREACHABLE with a reason
 * when the helper saw every responder fail on the network, when the
 * responders have used up the budget, or when there is no http(s)
 * responder to ask; CERTAUTH_ERR_INTERNAL or _NOMEM for a local failure,
 * which ends the check at once; any other code for an answer refused.
 */
static int
from_responders(const struct chain_check *cc, X509 *cert,
    const struct certauth_ocsp_expect *base, const char *subject,
    struct verdict *v, struct certauth_reason *reason)
{
	struct certauth_ocsp_expect e = *base;
	struct certauth_reason why;
	STACK_OF(OPENSSL_STRING) *aia = NULL;
	OCSP_REQUEST *req = NULL;
	unsigned char *reqder = NULL;
	size_t reqlen = 0;
	const char *url;
	int i, n, r = CERTAUTH_ERR_INTERNAL;

	if (cc->o->ocsp_url == NULL) {
		aia = X509_get1_ocsp(cert);
		ERR_clear_error();
	}
	n = cc->o->ocsp_url != NULL ? 1 : sk_OPENSSL_STRING_num(aia);
	if (n <= 0) {
		certauth_reason_set(reason,
		    "no OCSP responder URL "
		    "(no ocsp_url, no AIA OCSP entry)");
		r = CERTAUTH_ERR_UNREACHABLE;
		goto out;
	}
	if ((r = make_request(e.id, cc->o->ocsp_nonce, &req, &reqder,
		 &reqlen)) != 0) {
		certauth_reason_set(reason, "cannot build an OCSP request");
		goto out;
	}
	e.nonce_req = cc->o->ocsp_nonce ? req : NULL;
	r = CERTAUTH_ERR_UNREACHABLE;
	for (i = 0; i < n && r == CERTAUTH_ERR_UNREACHABLE; i++) {
		url = cc->o->ocsp_url != NULL ? cc->o->ocsp_url :
						sk_OPENSSL_STRING_value(aia, i);
		if (cc->c->budget_ms <= 0) {
			/* Only responders' time is counted: this is theirs. */
			why = *reason;
			certauth_reason_set(reason,
			    "%s%sthe responders used "
			    "all of ocsp_timeout_ms (%ld ms) before %s was "
			    "asked",
			    i > 0 ? why.text : "", i > 0 ? "; " : "",
			    cc->o->ocsp_timeout_ms, url);
			break;
		}
		r = ask_responder(cc, url, reqder, reqlen, &e, subject, v,
		    reason);
	}
out:
	OPENSSL_free(reqder);
	OCSP_REQUEST_free(req);
	X509_email_free(aia);
	return r;
}

/*
 * The verdict of one certificate from what the cache or the responders
 * gave (r, v, why).  An unreachable responder is a warning with
 * ocsp=soft and a refusal with ocsp=hard.
 */
static int
judge(const struct chain_check *cc, const char *subject, int r,
    const struct verdict *v, const struct certauth_reason *why,
    struct certauth_reason *reason)
{
	struct certauth_outcome *out = &cc->c->outcome;

	if (r == CERTAUTH_ERR_UNREACHABLE) {
		out->ocsp_source[0] = '\0';
		if (cc->o->ocsp != CERTAUTH_OCSP_SOFT) {
			certauth_reason_set(reason, "no OCSP answer for %s: %s",
			    subject, why->text);
			return CERTAUTH_ERR_CERT_INVALID;
		}
		log_warn(cc->c->lg,
		    "OCSP responder for %s unreachable, "
		    "accepted (ocsp=soft): %s",
		    subject, why->text);
		return 0;
	}
	if (r != 0) {
		certauth_reason_set(reason, "%s",
		    why->text[0] != '\0' ? why->text : certauth_strerror(r));
		return r;
	}
	snprintf(out->ocsp_source, sizeof(out->ocsp_source), "%s", v->source);
	switch (v->status) {
	case CERTAUTH_OCSP_GOOD:
		log_debug(cc->c->lg, "OCSP: %s good (%s)", subject, v->source);
		return 0;
	case CERTAUTH_OCSP_REVOKED:
		certauth_reason_set(reason, "certificate %s revoked (OCSP, %s)",
		    subject, v->revdate);
		return CERTAUTH_ERR_REVOKED;
	default:
		certauth_reason_set(reason,
		    "OCSP responder does not know "
		    "certificate %s (status unknown, %s)",
		    subject, v->source);
		return CERTAUTH_ERR_CERT_INVALID;
	}
}

/* The revocation status of cert, issued by issuer. */
static int
check_one(const struct chain_check *cc, X509 *cert, X509 *issuer,
    struct certauth_reason *reason)
{
	struct certauth_ocsp_expect e;
	struct certauth_reason why;
	struct verdict v;
	OCSP_CERTID *id = NULL;
	char subject[SUBJECT_MAX];
	int lock = -1, r = CERTAUTH_ERR_INTERNAL;

	memset(&v, 0, sizeof(v));
	certauth_name_string(X509_get_subject_name(cert), subject,
	    sizeof(subject));
	if ((id = OCSP_cert_to_id(cc->md, cert, issuer)) == NULL) {
		ERR_clear_error();
		certauth_reason_set(reason, "cannot make an OCSP CertID for %s",
		    subject);
		goto out;
	}
	memset(&e, 0, sizeof(e));
	e.id = id;
	e.issuer = issuer;
	e.store = cc->store;
	e.untrusted = cc->chain;
	e.responder = cc->responder;
	e.skew = cc->o->ocsp_skew;
	e.max_age = cc->o->ocsp_max_age;

	why.text[0] = '\0';
	if ((r = from_cache(cc, &e, subject, &v)) == CERTAUTH_ERR_NOT_FOUND) {
		/* Whoever held the lock may have just cached the answer.
		 * The wait has a bound of its own: time spent on this host
		 * is not the responders'. */
		lock = certauth_ocsp_cache_lock(cc->cache_dir, id,
		    certauth_now_ms() + cc->o->ocsp_timeout_ms);
		if (lock < 0 ||
		    (r = from_cache(cc, &e, subject, &v)) ==
			CERTAUTH_ERR_NOT_FOUND)
			r = from_responders(cc, cert, &e, subject, &v, &why);
		certauth_ocsp_cache_unlock(lock);
	}
	r = judge(cc, subject, r, &v, &why, reason);
out:
	OCSP_CERTID_free(id);
	return r;
}

int
certauth_ocsp_check_chain(struct certauth_ctx *c, STACK_OF(X509) *chain,
    X509_STORE *store, struct certauth_reason *reason)
{
	const struct certauth_opts *o = c->opts;
	struct chain_check cc;
	X509 *responder = NULL;
	int i, last, n, r = CERTAUTH_ERR_INTERNAL;

	c->outcome.ocsp_source[0] = '\0';
	n = chain != NULL ? sk_X509_num(chain) : 0;
	/* One certificate is the anchor itself (pinned, or a self-signed
	 * leaf): it has no issuer to answer for it. */
	if (o->ocsp == CERTAUTH_OCSP_OFF || n < 2) {
		r = 0;
		goto out;
	}
	if (o->ocsp_responder_cert != NULL &&
	    (r = load_responder(o->ocsp_responder_cert, &responder, reason)) !=
		0)
		goto out;
	memset(&cc, 0, sizeof(cc));
	cc.c = c;
	cc.o = o;
	cc.chain = chain;
	cc.store = store;
	cc.responder = responder;
	cc.md = o->ocsp_digest == CERTAUTH_OCSP_SHA256 ? EVP_sha256() :
							 EVP_sha1();
	cc.cache_dir = o->ocsp_cache_dir != NULL ? o->ocsp_cache_dir :
						   CERTAUTH_OCSP_CACHE_DIR;
	/* Never the last one: the anchor is trusted, not checked. */
	last = o->ocsp_scope == CERTAUTH_SCOPE_CHAIN ? n - 2 : 0;
	for (i = 0; i <= last; i++) {
		if ((r = check_one(&cc, sk_X509_value(chain, i),
			 sk_X509_value(chain, i + 1), reason)) != 0)
			goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	X509_free(responder);
	return r;
}
