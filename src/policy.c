/*
 * policy.c - the chain policy of docs/PROTOCOL.md, "Chain policy" and
 * "Revocation":
 * trust anchors, intermediates, validity, key usages and CRLs.
 *
 * OpenSSL builds and checks the chain; the usage rules of the leaf are
 * checked here instead of through an OpenSSL purpose, whose client
 * purpose also judges Netscape certificate types that the protocol does
 * not speak of.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "certauth.h"
#include "certutil.h"
#include "fetch.h"
#include "ocsp.h"
#include "anchors.h"
#include "options.h"
#include "parse_cache.h"
#include "policy.h"
#include "safefile.h"
#include "verify.h"

/* Largest trust file read; CRLs of big CAs run to tens of megabytes. */
#define TRUST_FILE_MAX	(64L * 1024 * 1024)

/*
 * OpenSSL security level for the chain: 112-bit keys and signatures, so
 * no CA key under RSA-2048 and no SHA-1 signature anywhere in it.
 */
#define CHAIN_AUTH_LEVEL	2

#define OCSP_SOURCE_MAX	512

/*
 * A delta CRL among the policy's CRLs, and the file it came from: OpenSSL
 * reads one only alongside a base CRL it extends, and the check warns of
 * one it passed over (warn_unread_deltas).
 */
struct delta_crl {
	X509_CRL *crl;		/* borrowed from crls */
	char *path;
};

struct certauth_policy {
	int trust;		/* enum certauth_trust */
	int crl;		/* enum certauth_crl_scope, never DEFAULT */
	struct certauth_anchor_index *anchors;	/* ca_file's, unparsed */
	STACK_OF(X509) *chain;	/* untrusted intermediates */
	STACK_OF(X509_CRL) *crls;	/* every CRL loaded, for each check */
	struct delta_crl *deltas;	/* the delta CRLs among crls */
	int ndeltas, deltas_cap;
	const struct certauth_opts *opts;	/* borrowed, for OCSP */
	const struct certauth_log *lg;		/* borrowed, may be NULL */
	struct ocsp_state *ocsp;	/* written by each check */
};

/*
 * What the checks of one policy (one login, or one certauth-enroll run)
 * share about OCSP: the responders' time left, which only the time the
 * fetch helper reports is taken from, and where the last verdict came
 * from.
 */
struct ocsp_state {
	long long budget_ms;
	char source[OCSP_SOURCE_MAX];
};

/* The newest OpenSSL error as text for a reason, or fallback. */
static const char *
ossl_error(const char *fallback)
{
	unsigned long e = ERR_peek_last_error();
	const char *s = e != 0 ? ERR_reason_error_string(e) : NULL;

	return s != NULL ? s : fallback;
}

/* What a trust file holds, and so how it is parsed. */
enum trust_kind {
	KIND_ANCHORS,	/* certificates indexed by subject, unparsed */
	KIND_CERTS,	/* certificates */
	KIND_CRLS	/* CRLs, PEM or DER */
};

/* A trust file's bytes. */
struct text {
	char *data;
	size_t len;
};

/*
 * Read a whole trust file into memory (at most TRUST_FILE_MAX bytes); a
 * missing, unreadable or oversized one names option and path.
 * O_NONBLOCK: a FIFO planted in its place must not hang the login.
 */
static int
slurp(const char *option, const char *path, struct text *out,
    struct certauth_reason *reason)
{
	int fd = -1, r = CERTAUTH_ERR_INTERNAL;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) < 0) {
		certauth_reason_set(reason, "cannot load %s %s: %s", option,
		    path, strerror(errno));
		r = CERTAUTH_ERR_TRUST_STORE;
		goto out;
	}
	r = certauth_read_fd(fd, TRUST_FILE_MAX, &out->data, &out->len);
	if (r == CERTAUTH_ERR_TOO_LONG) {
		certauth_reason_set(reason, "cannot load %s %s: larger than "
		    "%ld bytes", option, path, TRUST_FILE_MAX);
		r = CERTAUTH_ERR_TRUST_STORE;
	} else if (r == CERTAUTH_ERR_IO) {
		certauth_reason_set(reason, "cannot load %s %s: read error",
		    option, path);
		r = CERTAUTH_ERR_TRUST_STORE;
	}
	if (r != 0)
		goto out;
	r = 0;
 out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* Every certificate of a PEM text, at least one. */
static int
parse_certs(const char *option, const char *path, const struct text *mem,
    STACK_OF(X509) **out, struct certauth_reason *reason)
{
	STACK_OF(X509) *certs = NULL;
	X509 *cert = NULL;
	BIO *bio = NULL;
	unsigned long e;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((bio = BIO_new_mem_buf(mem->data, (int)mem->len)) == NULL ||
	    (certs = sk_X509_new_null()) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	ERR_set_mark();
	while ((cert = PEM_read_bio_X509(bio, NULL,
	    certauth_pem_no_passphrase, NULL)) != NULL) {
		if (!sk_X509_push(certs, cert)) {
			ERR_pop_to_mark();
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		cert = NULL;
	}
	/* The loop ends with "no start line" at end of file; anything else
	 * is a damaged certificate. */
	e = ERR_peek_last_error();
	if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		certauth_reason_set(reason, "cannot load %s %s: %s", option,
		    path, ossl_error("bad certificate"));
		ERR_pop_to_mark();
		r = CERTAUTH_ERR_TRUST_STORE;
		goto out;
	}
	ERR_pop_to_mark();
	if (sk_X509_num(certs) == 0) {
		certauth_reason_set(reason, "cannot load %s %s: "
		    "no certificate in it", option, path);
		r = CERTAUTH_ERR_TRUST_STORE;
		goto out;
	}
	*out = certs;
	certs = NULL;
	r = 0;
 out:
	X509_free(cert);
	BIO_free(bio);
	sk_X509_pop_free(certs, X509_free);
	return r;
}

/*
 * Add the CRLs in mem to crls: any number of PEM blocks, or one DER CRL.
 * Returns how many were added, or -1 when one does not parse.
 */
static int
add_crls(STACK_OF(X509_CRL) *crls, const struct text *mem)
{
	BIO *bio = NULL;
	X509_CRL *crl = NULL;
	const unsigned char *der;
	unsigned long e;
	int n = 0;

	if (memmem(mem->data, mem->len, "-----BEGIN X509 CRL-----",
	    strlen("-----BEGIN X509 CRL-----")) == NULL) {
		der = (const unsigned char *)mem->data;
		if ((crl = d2i_X509_CRL(NULL, &der, (long)mem->len)) == NULL ||
		    der != (const unsigned char *)mem->data + mem->len ||
		    !sk_X509_CRL_push(crls, crl)) {
			n = -1;
			goto out;
		}
		crl = NULL;
		n = 1;
		goto out;
	}
	if ((bio = BIO_new_mem_buf(mem->data, (int)mem->len)) == NULL) {
		n = -1;
		goto out;
	}
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL,
	    certauth_pem_no_passphrase, NULL)) != NULL) {
		if (!sk_X509_CRL_push(crls, crl)) {
			n = -1;
			goto out;
		}
		crl = NULL;
		n++;
	}
	/* Only running off the end is a clean stop; a damaged block is not
	 * skipped, as it may be the one that revokes. */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
		n = -1;
 out:
	X509_CRL_free(crl);
	BIO_free(bio);
	return n;
}

/* Every CRL of one file, PEM or DER; at least one. */
static int
parse_crls(const char *option, const char *path, const struct text *mem,
    STACK_OF(X509_CRL) **out, struct certauth_reason *reason)
{
	STACK_OF(X509_CRL) *crls = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((crls = sk_X509_CRL_new_null()) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if (add_crls(crls, mem) <= 0) {
		certauth_reason_set(reason, "cannot load %s %s: not a valid "
		    "PEM or DER CRL", option, path);
		r = CERTAUTH_ERR_TRUST_STORE;
		goto out;
	}
	*out = crls;
	crls = NULL;
	r = 0;
 out:
	ERR_clear_error();
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return r;
}

/* Parse mem as kind; on failure *out may hold a part, for the caller to
 * clear. */
static int
parse_trust_file(enum trust_kind kind, const char *option, const char *path,
    const struct text *mem, struct certauth_parsed *out,
    struct certauth_reason *reason)
{
	int bad = 0, r = CERTAUTH_ERR_INTERNAL;

	if (kind == KIND_CRLS)
		return parse_crls(option, path, mem, &out->crls, reason);
	if (kind == KIND_CERTS)
		return parse_certs(option, path, mem, &out->certs, reason);
	r = certauth_anchor_index_build(mem->data, mem->len, &out->index,
	    &bad);
	if (r == CERTAUTH_ERR_FORMAT)
		certauth_reason_set(reason, "cannot load %s %s: PEM block %d "
		    "is not a certificate that can be read", option, path, bad);
	else if (r == CERTAUTH_ERR_NOT_FOUND)
		certauth_reason_set(reason, "cannot load %s %s: no certificate "
		    "in it", option, path);
	return r == CERTAUTH_ERR_FORMAT || r == CERTAUTH_ERR_NOT_FOUND ?
	    CERTAUTH_ERR_TRUST_STORE : r;
}

/*
 * What one trust file parses to, its bytes read afresh on every login and
 * parsed again only when they differ from the cached ones.  The cache key
 * names the option too: one file may serve as ca_file and chain_file.
 * Returns 0 with *out the caller's, or CERTAUTH_ERR_TRUST_STORE with a
 * reason naming option and path, or CERTAUTH_ERR_NOMEM.
 */
static int
load_trust_file(enum trust_kind kind, const char *option, const char *path,
    struct certauth_parsed *out, struct certauth_reason *reason)
{
	struct certauth_parsed p;
	struct text mem = { NULL, 0 };
	char *key = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	if ((r = slurp(option, path, &mem, reason)) != 0)
		goto out;
	if (asprintf(&key, "%s %s", option, path) < 0) {
		key = NULL;
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = certauth_cache_get(CERTAUTH_CACHE_TRUST, key, mem.data,
	    mem.len, &p)) < 0)
		goto out;
	if (r == 0) {
		if ((r = parse_trust_file(kind, option, path, &mem, &p,
		    reason)) != 0)
			goto out;
		certauth_cache_put(CERTAUTH_CACHE_TRUST, key, mem.data,
		    mem.len, &p);
	}
	*out = p;
	memset(&p, 0, sizeof(p));
	r = 0;
 out:
	certauth_parsed_clear(&p);
	free(key);
	free(mem.data);
	return r;
}

/* Move every CRL of from, the caller's own references, to the end of to. */
static int
move_crls(STACK_OF(X509_CRL) *to, STACK_OF(X509_CRL) *from)
{
	X509_CRL *crl;

	while ((crl = sk_X509_CRL_shift(from)) != NULL) {
		if (!sk_X509_CRL_push(to, crl)) {
			X509_CRL_free(crl);
			return CERTAUTH_ERR_NOMEM;
		}
	}
	return 0;
}

/* Note the delta CRLs of crls, read from path, in pol->deltas. */
static int
note_deltas(struct certauth_policy *pol, STACK_OF(X509_CRL) *crls,
    const char *path)
{
	struct delta_crl *grown;
	X509_CRL *crl;
	int i, cap;

	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		crl = sk_X509_CRL_value(crls, i);
		if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) < 0)
			continue;
		if (pol->ndeltas == pol->deltas_cap) {
			cap = pol->deltas_cap == 0 ? 4 : pol->deltas_cap * 2;
			if ((grown = realloc(pol->deltas,
			    (size_t)cap * sizeof(*grown))) == NULL)
				return CERTAUTH_ERR_NOMEM;
			pol->deltas = grown;
			pol->deltas_cap = cap;
		}
		if ((pol->deltas[pol->ndeltas].path = strdup(path)) == NULL)
			return CERTAUTH_ERR_NOMEM;
		pol->deltas[pol->ndeltas++].crl = crl;
	}
	return 0;
}

/* Add every CRL of one file, PEM or DER, to pol->crls; at least one. */
static int
load_crl_file(struct certauth_policy *pol, const char *option,
    const char *path, struct certauth_reason *reason)
{
	struct certauth_parsed p;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((r = load_trust_file(KIND_CRLS, option, path, &p, reason)) != 0 ||
	    (r = note_deltas(pol, p.crls, path)) != 0 ||
	    (r = move_crls(pol->crls, p.crls)) != 0)
		goto out;
	r = 0;
 out:
	certauth_parsed_clear(&p);
	return r;
}

/* Every regular file of crl_dir is a CRL; a stray file is an error, as
 * silently skipping it could skip a revocation. */
static int
load_crl_dir(struct certauth_policy *pol, const char *dir,
    struct certauth_reason *reason)
{
	DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	char *path = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((d = opendir(dir)) == NULL) {
		certauth_reason_set(reason, "cannot load crl_dir %s: %s", dir,
		    strerror(errno));
		r = CERTAUTH_ERR_TRUST_STORE;
		goto out;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				certauth_reason_set(reason,
				    "cannot load crl_dir %s: %s", dir,
				    strerror(errno));
				r = CERTAUTH_ERR_TRUST_STORE;
				goto out;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			path = NULL;
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (r = load_crl_file(pol, "crl_dir file", path,
		    reason)) != 0)
			goto out;
		free(path);
		path = NULL;
	}
	r = 0;
 out:
	free(path);
	if (d != NULL)
		closedir(d);
	return r;
}

/* ca_dir must be a directory; its files are read as a chain needs them. */
static int
check_ca_dir(const char *path, struct certauth_reason *reason)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		certauth_reason_set(reason, "cannot load ca_dir %s: %s", path,
		    strerror(errno));
		return CERTAUTH_ERR_TRUST_STORE;
	}
	if (!S_ISDIR(st.st_mode)) {
		certauth_reason_set(reason, "cannot load ca_dir %s: "
		    "not a directory", path);
		return CERTAUTH_ERR_TRUST_STORE;
	}
	return 0;
}

/*
 * The anchors: ca_file's index, and a check that ca_dir is a directory.
 * Each check parses from them only what its chain can use (chain_store).
 */
static int
load_anchors(const struct certauth_opts *o, struct certauth_policy *p,
    struct certauth_reason *reason)
{
	struct certauth_parsed anchors;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&anchors, 0, sizeof(anchors));
	if ((o->ca_file != NULL && (r = load_trust_file(KIND_ANCHORS,
	    "ca_file", o->ca_file, &anchors, reason)) != 0) ||
	    (o->ca_dir != NULL && (r = check_ca_dir(o->ca_dir, reason)) != 0))
		goto out;
	p->anchors = anchors.index;
	anchors.index = NULL;
	r = 0;
 out:
	certauth_parsed_clear(&anchors);
	return r;
}

static int
load_chain(const char *path, STACK_OF(X509) **out,
    struct certauth_reason *reason)
{
	struct certauth_parsed p;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((r = load_trust_file(KIND_CERTS, "chain_file", path, &p,
	    reason)) != 0)
		goto out;
	*out = p.certs;
	p.certs = NULL;
	r = 0;
 out:
	certauth_parsed_clear(&p);
	return r;
}

static int
resolve_crl_scope(const struct certauth_opts *o)
{
	if (o->crl != CERTAUTH_CRL_DEFAULT)
		return o->crl;
	return o->crl_file != NULL || o->crl_dir != NULL ?
	    CERTAUTH_CRL_LEAF : CERTAUTH_CRL_OFF;
}

int
certauth_policy_load(const struct certauth_opts *o,
    struct certauth_policy **out, struct certauth_reason *reason)
{
	struct certauth_policy *p = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((p->ocsp = calloc(1, sizeof(*p->ocsp))) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	p->opts = o;
	p->ocsp->budget_ms = o->ocsp_timeout_ms;
	p->trust = o->trust;
	p->crl = o->trust == CERTAUTH_TRUST_PINNED ?
	    CERTAUTH_CRL_OFF : resolve_crl_scope(o);
	if (p->trust == CERTAUTH_TRUST_PINNED) {
		/* The enrolled certificate is the anchor; nothing to load. */
		*out = p;
		p = NULL;
		r = 0;
		goto out;
	}
	if (o->ca_file == NULL && o->ca_dir == NULL) {
		certauth_reason_set(reason, "trust=ca needs ca_file or ca_dir");
		r = CERTAUTH_ERR_TRUST_STORE;
		goto out;
	}
	if ((r = load_anchors(o, p, reason)) != 0 ||
	    (o->chain_file != NULL &&
	    (r = load_chain(o->chain_file, &p->chain, reason)) != 0))
		goto out;
	if (p->crl != CERTAUTH_CRL_OFF) {
		if ((p->crls = sk_X509_CRL_new_null()) == NULL) {
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		if ((o->crl_file != NULL &&
		    (r = load_crl_file(p, "crl_file", o->crl_file,
		    reason)) != 0) ||
		    (o->crl_dir != NULL &&
		    (r = load_crl_dir(p, o->crl_dir, reason)) != 0))
			goto out;
	}
	*out = p;
	p = NULL;
	r = 0;
 out:
	if (r != 0)
		ERR_clear_error();
	certauth_policy_free(p);
	return r;
}

void
certauth_policy_set_log(struct certauth_policy *p,
    const struct certauth_log *lg)
{
	p->lg = lg;
}

const char *
certauth_policy_ocsp_source(const struct certauth_policy *p)
{
	return p->ocsp->source;
}

void
certauth_policy_free(struct certauth_policy *p)
{
	int i;

	if (p == NULL)
		return;
	certauth_anchor_index_free(p->anchors);
	sk_X509_pop_free(p->chain, X509_free);
	sk_X509_CRL_pop_free(p->crls, X509_CRL_free);
	for (i = 0; i < p->ndeltas; i++)
		free(p->deltas[i].path);
	free(p->deltas);
	free(p->ocsp);
	free(p);
}

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

/* Turn a failed verification into the exact reason and code. */
static int
verify_failure(X509_STORE_CTX *ctx, struct certauth_reason *reason)
{
	int err = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
	char label[300], when[64], name[256];

	cert_label(cert, depth, label, sizeof(label));
	switch (err) {
	case X509_V_ERR_OUT_OF_MEM:
		return CERTAUTH_ERR_NOMEM;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		certauth_time_string(cert != NULL ?
		    X509_get0_notAfter(cert) : NULL, when, sizeof(when));
		certauth_reason_set(reason, "%s expired %.10s", label, when);
		return CERTAUTH_ERR_CERT_INVALID;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		certauth_time_string(cert != NULL ?
		    X509_get0_notBefore(cert) : NULL, when, sizeof(when));
		certauth_reason_set(reason, "%s not valid before %.10s",
		    label, when);
		return CERTAUTH_ERR_CERT_INVALID;
	case X509_V_ERR_CERT_REVOKED:
		certauth_reason_set(reason, "%s revoked (CRL)", label);
		return CERTAUTH_ERR_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		/* Fail closed: unproven is not "not revoked". */
		if (cert != NULL)
			certauth_name_string(X509_get_issuer_name(cert), name,
			    sizeof(name));
		else
			snprintf(name, sizeof(name), "?");
		certauth_reason_set(reason, "no CRL for issuer %s of %s",
		    name, label);
		return CERTAUTH_ERR_CERT_INVALID;
	case X509_V_OK:
		/* Verification stopped without saying why. */
		certauth_reason_set(reason, "chain verification failed: %s",
		    ossl_error("internal error"));
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
		certauth_reason_set(reason, "certificate has invalid extensions");
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
#define CHAIN_NAMES_MAX	64

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
		certauth_reason_set(reason, "more than %d issuer names for "
		    "one chain", CHAIN_NAMES_MAX);
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
		if ((r = queue_name(names, X509_get_issuer_name(c),
		    reason)) != 0)
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
file_anchor(const struct certauth_policy *p, int i, STACK_OF(X509) **out,
    struct certauth_reason *reason)
{
	struct certauth_parsed found;
	const unsigned char *der, *q;
	size_t len = 0;
	X509 *cert = NULL;
	char *key = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&found, 0, sizeof(found));
	/* Trusted as a plain anchor it could serve a use its settings
	 * reject. */
	if (certauth_anchor_trust_settings(p->anchors, i)) {
		certauth_reason_set(reason, "cannot load ca_file %s: PEM block "
		    "%d is a TRUSTED CERTIFICATE with trust settings, which "
		    "are not honoured; use a plain CERTIFICATE",
		    p->opts->ca_file, certauth_anchor_block(p->anchors, i));
		r = CERTAUTH_ERR_TRUST_STORE;
		goto out;
	}
	der = certauth_anchor_der(p->anchors, i, &len);
	if (asprintf(&key, "ca_file %s #%d", p->opts->ca_file, i) < 0) {
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
			certauth_reason_set(reason, "cannot load ca_file %s: "
			    "certificate %d does not parse: %s",
			    p->opts->ca_file, i + 1, ossl_error("bad DER"));
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
add_file_anchors(const struct certauth_policy *p, X509_STORE *store,
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
add_dir_anchors(const struct certauth_policy *p, X509_STORE *store,
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
		if (snprintf(path, sizeof(path), "%s/%08lx.%d",
		    p->opts->ca_dir, hash, k) >= (int)sizeof(path) ||
		    stat(path, &st) != 0)
			break;
		if ((r = load_trust_file(KIND_CERTS, "ca_dir file", path,
		    &found, reason)) != 0 ||
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
chain_store(const struct certauth_policy *p, X509 *cert, X509_STORE **out,
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
		if ((p->anchors != NULL && (r = add_file_anchors(p, store,
		    name, names, reason)) != 0) ||
		    (p->opts->ca_dir != NULL && (r = add_dir_anchors(p, store,
		    name, names, reason)) != 0))
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
 * Which delta CRLs one check reads.  OpenSSL hands each CRL it is about
 * to read to the context's check_crl, a delta CRL right after its base;
 * a context takes check_crl from its store, and the check's own store
 * (chain_store) gives watch_check_crl, which notes the CRL and calls
 * OpenSSL's own.
 */
struct crl_watch {
	X509_STORE_CTX_check_crl_fn check_crl;	/* OpenSSL's own */
	const struct certauth_policy *p;
	unsigned char *read;	/* a flag for each of p->deltas */
};

static int
watch_check_crl(X509_STORE_CTX *ctx, X509_CRL *crl)
{
	X509_STORE_CTX *top = ctx, *up;
	struct crl_watch *w;
	int i;

	/* The path of a CRL's issuer is checked in a child context. */
	while ((up = X509_STORE_CTX_get0_parent_ctx(top)) != NULL)
		top = up;
	if ((w = X509_STORE_CTX_get_app_data(top)) == NULL) {
		X509_STORE_CTX_set_error(ctx, X509_V_ERR_UNSPECIFIED);
		return 0;
	}
	for (i = 0; i < w->p->ndeltas; i++) {
		if (w->p->deltas[i].crl == crl)
			w->read[i] = 1;
	}
	return w->check_crl(ctx, crl);
}

/*
 * With delta CRLs loaded, make store's contexts check CRLs through
 * watch_check_crl; the caller gives the check's context w as app data.
 * w->read is the caller's to free.  Returns 0, CERTAUTH_ERR_NOMEM or
 * CERTAUTH_ERR_INTERNAL.
 */
static int
watch_deltas(const struct certauth_policy *p, X509_STORE *store,
    struct crl_watch *w)
{
	X509_STORE_CTX *probe = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	if (p->ndeltas == 0)
		return 0;
	if ((w->read = calloc((size_t)p->ndeltas, 1)) == NULL ||
	    (probe = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(probe, NULL, NULL, NULL)) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	/* A context over no store is given OpenSSL's own check. */
	if ((w->check_crl = X509_STORE_CTX_get_check_crl(probe)) == NULL)
		goto out;
	w->p = p;
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
unread_delta_reason(const struct certauth_policy *p, X509_CRL *delta,
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
static void
warn_unread_deltas(const struct certauth_policy *p, X509_STORE_CTX *ctx,
    int verified, const struct crl_watch *w)
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
			if (X509_get_ext_by_NID(cert, NID_freshest_crl, -1) >= 0)
				freshest = 1;
		}
		if (!looked)
			continue;
		certauth_name_string(X509_CRL_get_issuer(crl), issuer,
		    sizeof(issuer));
		num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
		number = num != NULL ? i2s_ASN1_INTEGER(NULL, num) : NULL;
		log_warn(p->lg, "delta CRL in %s (issuer %s, CRL number %s) "
		    "is not used: %s", p->deltas[i].path, issuer,
		    number != NULL ? number : "?",
		    unread_delta_reason(p, crl, freshest));
		OPENSSL_free(number);
		ASN1_INTEGER_free(num);
	}
	ERR_pop_to_mark();
}

/*
 * Set up ctx for cert over the store of its mode: the anchors its chain
 * can use (trust=ca), or one that holds the certificate alone (pinned).
 * *own is that store, for the caller to free after the check.
 */
static int
init_ctx(const struct certauth_policy *p, X509 *cert, time_t now,
    X509_STORE_CTX *ctx, X509_STORE **own, struct crl_watch *w,
    struct certauth_reason *reason)
{
	X509_VERIFY_PARAM *param;
	X509_STORE *store = NULL;
	unsigned long flags = X509_V_FLAG_X509_STRICT | X509_V_FLAG_POLICY_CHECK;
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
		    (r = watch_deltas(p, *own, w)) != 0))
			return r;
		store = *own;
	}
	if (!X509_STORE_CTX_init(ctx, store, cert,
	    p->trust == CERTAUTH_TRUST_PINNED ? NULL : p->chain) ||
	    (w->read != NULL && !X509_STORE_CTX_set_app_data(ctx, w)))
		return CERTAUTH_ERR_NOMEM;
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

int
certauth_policy_check(const struct certauth_policy *p, X509 *cert,
    time_t now, struct certauth_reason *reason)
{
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *own = NULL;
	struct crl_watch watch;
	EVP_PKEY *pkey;
	int ok, r = CERTAUTH_ERR_INTERNAL;

	memset(&watch, 0, sizeof(watch));
	if ((pkey = X509_get0_pubkey(cert)) == NULL) {
		certauth_reason_set(reason, "certificate has no usable key");
		r = CERTAUTH_ERR_KEY_REFUSED;
		goto out;
	}
	if ((r = certauth_key_check(pkey, reason)) != 0)
		goto out;
	if ((ctx = X509_STORE_CTX_new()) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if ((r = init_ctx(p, cert, now, ctx, &own, &watch, reason)) != 0)
		goto out;
	ok = X509_verify_cert(ctx) > 0;
	if (watch.read != NULL) {
		/* The store serves OCSP next, with OpenSSL's own check. */
		X509_STORE_set_check_crl(own, NULL);
		warn_unread_deltas(p, ctx, ok, &watch);
	}
	if (!ok) {
		r = verify_failure(ctx, reason);
		goto out;
	}
	if ((r = check_chain_keys(ctx, reason)) != 0 ||
	    (r = check_usage(cert, reason)) != 0)
		goto out;
	/* Revocation over the network last: only for a chain that holds. */
	p->ocsp->source[0] = '\0';
	if (p->opts->ocsp != CERTAUTH_OCSP_OFF &&
	    (r = certauth_ocsp_check_chain(p->opts, X509_STORE_CTX_get0_chain(ctx),
	    X509_STORE_CTX_get0_store(ctx), &p->ocsp->budget_ms, p->lg,
	    p->ocsp->source, sizeof(p->ocsp->source), reason)) != 0)
		goto out;
	r = 0;
 out:
	/* Verification failures are answered by r; don't leak the queue. */
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(own);
	free(watch.read);
	return r;
}
