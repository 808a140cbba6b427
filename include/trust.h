/*
 * trust.h - the trust files of docs/PROTOCOL.md, "Chain policy" and
 * "Revocation": anchors (ca_file, ca_dir), intermediates (chain_file) and
 * CRLs (crl_file, crl_dir), read for one login.  Verifying a chain
 * against them is chain.h's concern.
 */
#ifndef CERTAUTH_TRUST_H
#define CERTAUTH_TRUST_H

#include <openssl/x509.h>

#include "anchors.h"
#include "certauth.h"
#include "options.h"
#include "parse_cache.h"
#include "safefile.h"

/*
 * A delta CRL among the CRLs, and the file it came from: OpenSSL reads
 * one only alongside a base CRL it extends, and a check warns of one it
 * passed over (deltas.h).
 */
struct certauth_delta {
	X509_CRL *crl; /* borrowed from crls */
	char *path;
};

/* Where one CRL was read from, for every message about it. */
struct certauth_crl_origin {
	X509_CRL *crl; /* borrowed from crls */
	char *where;   /* "crl_file /path" or "crl_dir file /path" */
};

/* What the trust files held when they were read; read-only after. */
struct certauth_trust_set {
	int trust;	     /* enum certauth_trust */
	int crl;	     /* enum certauth_crl_scope, never DEFAULT */
	const char *ca_file; /* borrowed from the options, may be NULL */
	const char *ca_dir;  /* borrowed from the options, may be NULL */
	struct certauth_anchor_index *anchors; /* ca_file's, unparsed */
	STACK_OF(X509) *chain;		       /* untrusted intermediates */
	STACK_OF(X509_CRL) *crls;      /* every CRL loaded, for each check */
	struct certauth_delta *deltas; /* the delta CRLs among crls */
	int ndeltas, deltas_cap;
	struct certauth_crl_origin *origins; /* one for each of crls */
	int norigins, origins_cap;
	long crl_warn, crl_grace, crl_skew; /* from the options */
};

/*
 * Read what the options name: for trust=ca the anchors (ca_file's index,
 * at least one of ca_file and ca_dir), chain_file's intermediates, and
 * crl_file/crl_dir (PEM or DER) when crl is leaf or chain.  Options must
 * have passed certauth_opts_validate and outlive the result, which
 * borrows the ca_file and ca_dir paths.  seen: NULL, or the login's record
 * of directories found safe (safefile.h), consulted and added to.
 * Returns 0 with *out (free with certauth_trust_free), or
 * CERTAUTH_ERR_TRUST_STORE with a reason naming the file ("cannot load
 * ca_file /x: No such file"), or CERTAUTH_ERR_NOMEM.
 */
int certauth_trust_load(const struct certauth_opts *o,
    struct certauth_seen *seen, struct certauth_trust_set **out,
    struct certauth_reason *reason);

void certauth_trust_free(struct certauth_trust_set *t);

/* Where crl, one of t's CRLs, was read from ("crl_file /path"), or "a
 * CRL file" for one t does not hold. */
const char *certauth_trust_crl_origin(const struct certauth_trust_set *t,
    const X509_CRL *crl);

/* What a trust file holds, and so how it is parsed. */
enum certauth_trust_kind {
	CERTAUTH_KIND_ANCHORS, /* certificates indexed by subject, unparsed */
	CERTAUTH_KIND_CERTS,   /* certificates */
	CERTAUTH_KIND_CRLS     /* CRLs, PEM or DER */
};

/*
 * What one trust file parses to, its bytes read afresh on every call and
 * parsed again only when they differ from the cached ones (parse_cache.h).
 * option names the file in reasons ("ca_dir file"); seen is NULL or the
 * record of directories already found safe (safefile.h).  Returns 0 with *out
 * the caller's (certauth_parsed_clear), or CERTAUTH_ERR_TRUST_STORE with
 * a reason naming option and path, or CERTAUTH_ERR_NOMEM.
 */
int certauth_trust_file(enum certauth_trust_kind kind, const char *option,
    const char *path, struct certauth_seen *seen, struct certauth_parsed *out,
    struct certauth_reason *reason);

/* The certificates of one trust file (chain_file, ocsp_responder_cert),
 * at least one; *out the caller's.  Returns as certauth_trust_file. */
int certauth_trust_certs(const char *option, const char *path,
    struct certauth_seen *seen, STACK_OF(X509) **out,
    struct certauth_reason *reason);

#endif /* CERTAUTH_TRUST_H */
