/*
 * chain.c - the chain step of docs/PROTOCOL.md, "Chain policy", with
 * CRLs: which anchors a certificate's chain can use, OpenSSL's chain
 * verification over them, and the usage rules of the leaf.
 *
 * OpenSSL builds and checks the chain; the usage rules of the leaf are
 * checked here instead of through an OpenSSL purpose, whose client
 * purpose also judges Netscape certificate types that the protocol does
 * not speak of.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "anchors.h"
#include "certauth.h"
#include "certutil.h"
#include "chain.h"
#include "crl_dates.h"
#include "deltas.h"
#include "options.h"
#include "parse_cache.h"
#include "trust.h"
#include "verify.h"

/*
 * OpenSSL security level for the chain: 112-bit keys and signatures, so
 * no CA key under RSA-2048 and no SHA-1 signature anywhere in it.
 */
#define CHAIN_AUTH_LEVEL 2

/* "CA certificate CN=x" or "certificate", for reasons about depth. */
static void
cert_label(X509 *cert, int depth, char *buf, size_t len)
{
	char name[256];

	if (depth <= 0 || cert == NULL) {
		snprintf(buf, len, "certificate");
		return;
	}
	certauth_name_string(X509_get_subject_name(cert), name, sizeof(name));
	snprintf(buf, len, "CA certificate %s", name);
}

/* " (authority key id AB:CD:...)" of cert, or "" when it has none. */
static void
aki_text(X509 *cert, char *buf, size_t len)
{
	const ASN1_OCTET_STRING *aki = NULL;
	char *hex = NULL;

	buf[0] = '\0';
	if (cert != NULL)
		aki = X509_get0_authority_key_id(cert);
	if (aki == NULL || ASN1_STRING_length(aki) <= 0 ||
	    (hex = OPENSSL_buf2hexstr(ASN1_STRING_get0_data(aki),
		 ASN1_STRING_length(aki))) == NULL)
		return;
	snprintf(buf, len, " (authority key id %s)", hex);
	OPENSSL_free(hex);
}

/*
 * No certificate of the issuer above the one at the failing depth: name
 * that issuer, by name and key id, and say where its certificate goes,
 * since the chain files are what the administrator can change.
 */
static int
issuer_missing(X509_STORE_CTX *ctx, int err, struct certauth_reason *reason)
{
	X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	char label[300], issuer[256], aki[200];

	if (cert == NULL) {
		certauth_reason_set(reason,
		    "chain verification failed at depth %d: %s", depth,
		    X509_verify_cert_error_string(err));
		return CERTAUTH_ERR_CERT_INVALID;
	}
	if (depth <= 0)
		snprintf(label, sizeof(label), "the certificate");
	else
		cert_label(cert, depth, label, sizeof(label));
	certauth_name_string(X509_get_issuer_name(cert), issuer,
	    sizeof(issuer));
	aki_text(cert, aki, sizeof(aki));
	certauth_reason_set(reason,
	    "%s: %s is issued by %s%s, whose certificate is in none of "
	    "chain_file, ca_file and ca_dir; add the certificate of %s to "
	    "chain_file (an intermediate CA) or to ca_file/ca_dir (a root "
	    "CA)",
	    X509_verify_cert_error_string(err), label, issuer, aki, issuer);
	return CERTAUTH_ERR_CERT_INVALID;
}

/* Turn a failed verification into the exact reason and code. */
static int
verify_failure(const struct certauth_crl_dates *dates, X509_STORE_CTX *ctx,
    struct certauth_reason *reason)
{
	int err = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
	char label[300], when[CERTAUTH_TIME_CHARS], name[256];

	cert_label(cert, depth, label, sizeof(label));
	switch (err) {
	case X509_V_ERR_OUT_OF_MEM:
		return CERTAUTH_ERR_NOMEM;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		certauth_time_string(cert != NULL ? X509_get0_notAfter(cert) :
						    NULL,
		    when, sizeof(when));
		certauth_reason_set(reason, "%s expired %s", label, when);
		return CERTAUTH_ERR_CERT_INVALID;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		certauth_time_string(cert != NULL ? X509_get0_notBefore(cert) :
						    NULL,
		    when, sizeof(when));
		certauth_reason_set(reason, "%s not valid before %s", label,
		    when);
		return CERTAUTH_ERR_CERT_INVALID;
	case X509_V_ERR_CERT_REVOKED:
		certauth_reason_set(reason, "%s revoked (CRL)", label);
		return CERTAUTH_ERR_REVOKED;
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return certauth_crl_dates_reason(dates, err, reason);
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return issuer_missing(ctx, err, reason);
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		/* Fail closed: unproven is not "not revoked". */
		if (cert != NULL)
			certauth_name_string(X509_get_issuer_name(cert), name,
			    sizeof(name));
		else
			snprintf(name, sizeof(name), "?");
		certauth_reason_set(reason, "no CRL for issuer %s of %s", name,
		    label);
		return CERTAUTH_ERR_CERT_INVALID;
	case X509_V_OK:
		/* Verification stopped without saying why. */
		certauth_ossl_reason(name, sizeof(name), "internal error");
		certauth_reason_set(reason, "chain verification failed: %s",
		    name);
		return CERTAUTH_ERR_INTERNAL;
	default:
		certauth_reason_set(reason,
		    "chain verification failed at depth %d: %s", depth,
		    X509_verify_cert_error_string(err));
		return CERTAUTH_ERR_CERT_INVALID;
	}
}

/* keyUsage and extendedKeyUsage of the leaf, when present. */
static int
check_usage(X509 *cert, struct certauth_reason *reason)
{
	uint32_t flags = X509_get_extension_flags(cert);

	if ((flags & EXFLAG_INVALID) != 0) {
		certauth_reason_set(reason,
		    "certificate has invalid extensions");
		return CERTAUTH_ERR_CERT_INVALID;
	}
	if ((flags & EXFLAG_KUSAGE) != 0 &&
	    (X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE) == 0) {
		certauth_reason_set(reason,
		    "keyUsage does not allow digitalSignature");
		return CERTAUTH_ERR_CERT_INVALID;
	}
	if ((flags & EXFLAG_XKUSAGE) != 0 &&
	    (X509_get_extended_key_usage(cert) &
		(XKU_SSL_CLIENT | XKU_ANYEKU)) == 0) {
		certauth_reason_set(reason,
		    "extendedKeyUsage does not allow clientAuth");
		return CERTAUTH_ERR_CERT_INVALID;
	}
	return 0;
}

/* The chain OpenSSL built must hold no DSA key (the leaf's was checked). */
static int
check_chain_keys(X509_STORE_CTX *ctx, struct certauth_reason *reason)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	EVP_PKEY *pkey;
	X509 *cert;
	char label[300];
	int i;

	for (i = 0; i < sk_X509_num(chain); i++) {
		cert = sk_X509_value(chain, i);
		if ((pkey = X509_get0_pubkey(cert)) == NULL ||
		    EVP_PKEY_is_a(pkey, "DSA")) {
			cert_label(cert, i, label, sizeof(label));
			certauth_reason_set(reason, "%s has a %s key, refused",
			    label, pkey == NULL ? "unreadable" : "DSA");
			return CERTAUTH_ERR_KEY_REFUSED;
		}
	}
	return 0;
}

/*
 * RFC 5280's default user-initial-policy-set, any-policy, given
 * explicitly: without one OpenSSL takes the user-constrained policy set
 * for empty and refuses every path that requires an explicit policy.
 * Returns 0 or CERTAUTH_ERR_NOMEM.
 */
static int
set_any_policy(X509_VERIFY_PARAM *param)
{
	STACK_OF(ASN1_OBJECT) *policies = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	/* OBJ_nid2obj gives a static object; set1 copies it. */
	if ((policies = sk_ASN1_OBJECT_new_null()) == NULL ||
	    !sk_ASN1_OBJECT_push(policies, OBJ_nid2obj(NID_any_policy)) ||
	    !X509_VERIFY_PARAM_set1_policies(param, policies)) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	r = 0;
out:
	sk_ASN1_OBJECT_free(policies);
	return r;
}

/* Issuer names looked up for one chain, at most. */
#define CHAIN_NAMES_MAX 64

/* Queue name for the anchor lookups unless it is queued already. */
static int
queue_name(STACK_OF(X509_NAME) *names, const X509_NAME *name,
    struct certauth_reason *reason)
{
	X509_NAME *copy;
	int i;

	for (i = 0; i < sk_X509_NAME_num(names); i++) {
		if (X509_NAME_cmp(sk_X509_NAME_value(names, i), name) == 0)
			return 0;
	}
	if (sk_X509_NAME_num(names) >= CHAIN_NAMES_MAX) {
		certauth_reason_set(reason,
		    "more than %d issuer names for "
		    "one chain",
		    CHAIN_NAMES_MAX);
		return CERTAUTH_ERR_CERT_INVALID;
	}
	/* A copy: a certificate found twice is not kept by the store, and
	 * the cache may let its own go before the check ends. */
	if ((copy = X509_NAME_dup(name)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	if (!sk_X509_NAME_push(names, copy)) {
		X509_NAME_free(copy);
		return CERTAUTH_ERR_NOMEM;
	}
	return 0;
}

/* Trust each certificate of certs named subject, and queue its issuer. */
static int
add_named(X509_STORE *store, STACK_OF(X509) *certs, const X509_NAME *subject,
    STACK_OF(X509_NAME) *names, struct certauth_reason *reason)
{
	int i, r = CERTAUTH_ERR_INTERNAL;

	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);

		if (X509_NAME_cmp(X509_get_subject_name(c), subject) != 0)
			continue;
		if (!X509_STORE_add_cert(store, c))
			return CERTAUTH_ERR_NOMEM;
		if ((r = queue_name(names, X509_get_issuer_name(c), reason)) !=
		    0)
			return r;
	}
	return 0;
}

/*
 * The certificate i of ca_file as parsed, from the cache when the same
 * DER was parsed before.  The key names its place in the file; the bytes
 * compared are its own.  One with OpenSSL trust settings is refused
 * (anchors.h).
 */
static int
file_anchor(const struct certauth_trust_set *p, int i, STACK_OF(X509) **out,
    struct certauth_reason *reason)
{
	struct certauth_parsed found;
	const unsigned char *der, *q;
	size_t len = 0;
	X509 *cert = NULL;
	char *key = NULL, why[CERTAUTH_REASON_MAX];
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&found, 0, sizeof(found));
	/* Trusted as a plain anchor it could serve a use its settings
	 * reject. */
	if (certauth_anchor_trust_settings(p->anchors, i)) {
		certauth_reason_set(reason,
		    "cannot load ca_file %s: PEM block "
		    "%d is a TRUSTED CERTIFICATE with trust settings, which "
		    "are not honoured; use a plain CERTIFICATE",
		    p->ca_file, certauth_anchor_block(p->anchors, i));
		r = CERTAUTH_ERR_TRUST_STORE;
		goto out;
	}
	der = certauth_anchor_der(p->anchors, i, &len);
	if (asprintf(&key, "ca_file %s #%d", p->ca_file, i) < 0) {
		key = NULL;
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = certauth_cache_get(CERTAUTH_CACHE_TRUST, key, der, len,
		 &found)) < 0)
		goto out;
	if (r == 0) {
		q = der;
		if ((cert = d2i_X509(NULL, &q, (long)len)) == NULL ||
		    q != der + len) {
			certauth_ossl_reason(why, sizeof(why), "bad DER");
			certauth_reason_set(reason,
			    "cannot load ca_file %s: "
			    "certificate %d does not parse: %s",
			    p->ca_file, i + 1, why);
			r = CERTAUTH_ERR_TRUST_STORE;
			goto out;
		}
		if ((found.certs = sk_X509_new_null()) == NULL ||
		    !sk_X509_push(found.certs, cert)) {
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		cert = NULL;
		certauth_cache_put(CERTAUTH_CACHE_TRUST, key, der, len, &found);
	}
	*out = found.certs;
	found.certs = NULL;
	r = 0;
out:
	X509_free(cert);
	certauth_parsed_clear(&found);
	free(key);
	return r;
}

/* Add to store ca_file's certificates named subject (anchors.h). */
static int
add_file_anchors(const struct certauth_trust_set *p, X509_STORE *store,
    const X509_NAME *subject, STACK_OF(X509_NAME) *names,
    struct certauth_reason *reason)
{
	STACK_OF(X509) *certs = NULL;
	int i, r = CERTAUTH_ERR_INTERNAL;

	for (i = 0; i < certauth_anchor_count(p->anchors); i++) {
		if (X509_NAME_cmp(certauth_anchor_subject(p->anchors, i),
			subject) != 0)
			continue;
		if ((r = file_anchor(p, i, &certs, reason)) != 0 ||
		    (r = add_named(store, certs, subject, names, reason)) != 0)
			goto out;
		sk_X509_pop_free(certs, X509_free);
		certs = NULL;
	}
	r = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	return r;
}

/*
 * Add to store the certificates of ca_dir named subject: the files
 * <hash>.0, <hash>.1, ... that openssl rehash makes, each read and, when
 * its bytes are unchanged, taken parsed from the cache.  A damaged file
 * refuses the check.
 */
static int
add_dir_anchors(const struct certauth_trust_set *p, X509_STORE *store,
    const X509_NAME *subject, STACK_OF(X509_NAME) *names,
    struct certauth_reason *reason)
{
	struct certauth_parsed found;
	unsigned long hash;
	char path[PATH_MAX];
	struct stat st;
	int k, ok = 0, r = CERTAUTH_ERR_INTERNAL;

	memset(&found, 0, sizeof(found));
	hash = X509_NAME_hash_ex(subject, NULL, NULL, &ok);
	if (!ok) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	for (k = 0;; k++) {
		if (snprintf(path, sizeof(path), "%s/%08lx.%d", p->ca_dir, hash,
			k) >= (int)sizeof(path) ||
		    stat(path, &st) != 0)
			break;
		if ((r = certauth_trust_file(CERTAUTH_KIND_CERTS, "ca_dir file",
			 path, NULL, &found, reason)) != 0 ||
		    (r = add_named(store, found.certs, subject, names,
			 reason)) != 0)
			goto out;
		certauth_parsed_clear(&found);
	}
	r = 0;
out:
	certauth_parsed_clear(&found);
	return r;
}

/*
 * trust=ca: a store of every anchor that can stand above cert, from
 * ca_file and ca_dir: one named as the issuer of cert, of a chain_file
 * certificate, or of one found so, until no new name comes up.  These are
 * all the names a chain builder can ask the store for, so the store
 * answers as one holding every anchor would, while only these are parsed.
 * The store is this check's own.
 */
static int
chain_store(const struct certauth_trust_set *p, X509 *cert, X509_STORE **out,
    struct certauth_reason *reason)
{
	STACK_OF(X509_NAME) *names = NULL;
	X509_STORE *store = NULL;
	const X509_NAME *name;
	int i, r = CERTAUTH_ERR_INTERNAL;

	if ((store = X509_STORE_new()) == NULL ||
	    (names = sk_X509_NAME_new_null()) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = queue_name(names, X509_get_issuer_name(cert), reason)) != 0)
		goto out;
	for (i = 0; i < sk_X509_num(p->chain); i++) {
		if ((r = queue_name(names,
			 X509_get_issuer_name(sk_X509_value(p->chain, i)),
			 reason)) != 0)
			goto out;
	}
	/* The queue grows as issuers are found. */
	for (i = 0; i < sk_X509_NAME_num(names); i++) {
		name = sk_X509_NAME_value(names, i);
		if ((p->anchors != NULL &&
			(r = add_file_anchors(p, store, name, names, reason)) !=
			    0) ||
		    (p->ca_dir != NULL &&
			(r = add_dir_anchors(p, store, name, names, reason)) !=
			    0))
			goto out;
	}
	*out = store;
	store = NULL;
	r = 0;
out:
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	X509_STORE_free(store);
	return r;
}

/*
 * Set up ctx for cert over the store of its mode: the anchors its chain
 * can use (trust=ca), or one that holds the certificate alone (pinned).
 * *own is that store, for the caller to free after the check.
 */
static int
init_ctx(const struct certauth_trust_set *p, X509 *cert, time_t now,
    X509_STORE_CTX *ctx, X509_STORE **own, struct certauth_crl_watch *w,
    struct certauth_reason *reason)
{
	X509_VERIFY_PARAM *param;
	X509_STORE *store = NULL;
	unsigned long flags = X509_V_FLAG_X509_STRICT |
	    X509_V_FLAG_POLICY_CHECK;
	int r = CERTAUTH_ERR_INTERNAL;

	*own = NULL;
	if (p->trust == CERTAUTH_TRUST_PINNED) {
		if ((store = X509_STORE_new()) == NULL ||
		    !X509_STORE_add_cert(store, cert)) {
			X509_STORE_free(store);
			return CERTAUTH_ERR_NOMEM;
		}
		*own = store;
		flags |= X509_V_FLAG_PARTIAL_CHAIN;
	} else {
		if ((r = chain_store(p, cert, own, reason)) != 0 ||
		    (p->crl != CERTAUTH_CRL_OFF &&
			(r = certauth_watch_crls(p, *own, w)) != 0))
			return r;
		store = *own;
	}
	if (!X509_STORE_CTX_init(ctx, store, cert,
		p->trust == CERTAUTH_TRUST_PINNED ? NULL : p->chain) ||
	    (w->t != NULL && !X509_STORE_CTX_set_app_data(ctx, w)))
		return CERTAUTH_ERR_NOMEM;
	/* CRL dates against crl_skew and crl_grace; nothing else. */
	if (w->t != NULL)
		X509_STORE_CTX_set_verify_cb(ctx, certauth_crl_dates_cb);
	/* Handed to the context rather than kept in the store: a store is
	 * searched by the certificate's issuer name only, so an indirect
	 * CRL, signed by another CA, would never be found there. */
	if (p->crls != NULL)
		X509_STORE_CTX_set0_crls(ctx, p->crls);
	if (p->crl == CERTAUTH_CRL_LEAF)
		flags |= X509_V_FLAG_CRL_CHECK;
	else if (p->crl == CERTAUTH_CRL_CHAIN)
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	/* Without these OpenSSL takes a delta CRL for a complete one, so a
	 * revocation listed only in the delta is missed, and it cannot use
	 * indirect CRLs, CRLs partitioned by reason or a separate CRL key. */
	if (p->crl != CERTAUTH_CRL_OFF)
		flags |= X509_V_FLAG_EXTENDED_CRL_SUPPORT |
		    X509_V_FLAG_USE_DELTAS;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, now);
	X509_VERIFY_PARAM_set_auth_level(param, CHAIN_AUTH_LEVEL);
	if (!X509_VERIFY_PARAM_set_flags(param, flags))
		return CERTAUTH_ERR_NOMEM;
	return set_any_policy(param);
}

void
certauth_verified_clear(struct certauth_verified *v)
{
	if (v == NULL)
		return;
	sk_X509_pop_free(v->chain, X509_free);
	X509_STORE_free(v->store);
	memset(v, 0, sizeof(*v));
}

int
certauth_chain_check(const struct certauth_trust_set *p,
    const struct certauth_log *lg, X509 *cert, time_t now,
    struct certauth_verified *out, struct certauth_reason *reason)
{
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *own = NULL;
	struct certauth_crl_watch watch;
	struct certauth_crl_dates dates;
	EVP_PKEY *pkey;
	int ok, r = CERTAUTH_ERR_INTERNAL;

	memset(&watch, 0, sizeof(watch));
	memset(&dates, 0, sizeof(dates));
	watch.dates = &dates;
	if ((pkey = X509_get0_pubkey(cert)) == NULL) {
		certauth_reason_set(reason, "certificate has no usable key");
		r = CERTAUTH_ERR_KEY_REFUSED;
		goto out;
	}
	if ((r = certauth_key_check(pkey, reason)) != 0)
		goto out;
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    certauth_crl_dates_init(&dates, p, now) != 0) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = init_ctx(p, cert, now, ctx, &own, &watch, reason)) != 0)
		goto out;
	ok = X509_verify_cert(ctx) > 0;
	if (watch.t != NULL) {
		/* The store may serve OCSP next, with OpenSSL's own check. */
		X509_STORE_set_check_crl(own, NULL);
		if (watch.read != NULL)
			certauth_warn_unread_deltas(p, lg, ctx, ok, &watch);
		certauth_crl_dates_warn(&dates, &watch, lg);
	}
	if (!ok) {
		r = verify_failure(&dates, ctx, reason);
		goto out;
	}
	if ((r = check_chain_keys(ctx, reason)) != 0 ||
	    (r = check_usage(cert, reason)) != 0)
		goto out;
	if (out != NULL) {
		if ((out->chain = X509_STORE_CTX_get1_chain(ctx)) == NULL) {
			certauth_reason_set(reason,
			    "no memory to hand the "
			    "verified chain to the OCSP check");
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		out->store = own;
		own = NULL;
	}
	r = 0;
out:
	/* Verification failures are answered by r; don't leak the queue. */
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(own);
	certauth_watch_clear(&watch);
	certauth_crl_dates_clear(&dates);
	return r;
}
