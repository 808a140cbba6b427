/*
 * trust.c - reading the trust files of docs/PROTOCOL.md, "Chain policy"
 * and "Revocation": ca_file's anchor index, chain_file's intermediates,
 * crl_file and crl_dir.  Each file is read afresh for every login and
 * parsed again only when its bytes changed (parse_cache.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "anchors.h"
#include "certauth.h"
#include "certutil.h"
#include "options.h"
#include "parse_cache.h"
#include "safefile.h"
#include "trust.h"

/* Largest trust file read; CRLs of big CAs run to tens of megabytes. */
#define TRUST_FILE_MAX (64L * 1024 * 1024)

/* A trust file's bytes. */
struct text {
	char *data;
	size_t len;
};

/*
 * A directory named where a file is wanted: the option meant for one, or
 * what the file must be.
 */
static void
directory_given(const char *option, const char *path,
    struct certauth_reason *reason)
{
	if (strcmp(option, "ca_file") == 0)
		certauth_reason_set(reason,
		    "cannot load ca_file %s: it is a directory: use ca_dir "
		    "for a directory of CA certificates (openssl rehash)",
		    path);
	else if (strcmp(option, "crl_file") == 0)
		certauth_reason_set(reason,
		    "cannot load crl_file %s: it is a directory: use crl_dir "
		    "for a directory of CRLs",
		    path);
	else
		certauth_reason_set(reason,
		    "cannot load %s %s: it is a directory: %s must be a PEM "
		    "file",
		    option, path, option);
}

static int
is_directory(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Read a whole trust file into memory (at most TRUST_FILE_MAX bytes)
 * with the checks of every file the module trusts, a symbolic link
 * followed to a target that passes them too (safefile.h; the links of a
 * rehashed ca_dir or of /etc/ssl/certs).  A missing, unsafe, unreadable
 * or oversized one names option and path.
 */
static int
slurp(const char *option, const char *path, struct certauth_seen *seen,
    struct text *out, struct certauth_reason *reason)
{
	struct certauth_reason why;
	int r = CERTAUTH_ERR_INTERNAL;

	why.text[0] = '\0';
	r = certauth_read_safely(path, option, TRUST_FILE_MAX,
	    CERTAUTH_SAFE_FOLLOW, seen, &out->data, &out->len, &why);
	if (r == CERTAUTH_ERR_NOMEM)
		return r;
	if (r == CERTAUTH_ERR_NOT_FOUND)
		certauth_reason_set(reason, "cannot load %s %s: %s", option,
		    path, strerror(ENOENT));
	else if (r != 0 && is_directory(path))
		directory_given(option, path, reason);
	else if (r != 0)
		certauth_reason_set(reason, "cannot load %s: %s", option,
		    why.text);
	return r == 0 ? 0 : CERTAUTH_ERR_TRUST_STORE;
}

/* The label of the first PEM block of mem ("PRIVATE KEY"), if sane. */
static int
first_pem_label(const struct text *mem, char *label, size_t size)
{
	static const char begin[] = "-----BEGIN ";
	const char *p, *end = mem->data + mem->len;
	size_t n = 0;

	if ((p = memmem(mem->data, mem->len, begin, strlen(begin))) == NULL)
		return 0;
	for (p += strlen(begin); p < end && n + 1 < size; p++, n++) {
		if (*p == '-')
			break;
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			*p == ' '))
			return 0;
		label[n] = *p;
	}
	label[n] = '\0';
	return n > 0 && p < end && *p == '-';
}

/* Whether mem is one DER certificate. */
static int
is_der_cert(const struct text *mem)
{
	const unsigned char *p = (const unsigned char *)mem->data;
	X509 *cert;
	int ok;

	ERR_set_mark();
	cert = d2i_X509(NULL, &p, (long)mem->len);
	ok = cert != NULL && p == (const unsigned char *)mem->data + mem->len;
	X509_free(cert);
	ERR_pop_to_mark();
	return ok;
}

/*
 * A trust file of certificates in which none was found: say what it
 * holds instead, and for a DER certificate how to convert it (the files
 * are bundles, read as PEM only).
 */
static void
no_certificate(const char *option, const char *path, const struct text *mem,
    struct certauth_reason *reason)
{
	char label[64];

	if (mem->len == 0) {
		certauth_reason_set(reason,
		    "cannot load %s %s: the file is empty", option, path);
	} else if (is_der_cert(mem)) {
		/* A new name: the old one may be a PEM file next to it. */
		certauth_reason_set(reason,
		    "cannot load %s %s: it is DER, not PEM: convert it with "
		    "`openssl x509 -inform DER -in %s -out %s.pem` and name the "
		    "new file",
		    option, path, path, path);
	} else if (first_pem_label(mem, label, sizeof(label)) &&
	    strcmp(label, "CERTIFICATE") != 0) {
		certauth_reason_set(reason,
		    "cannot load %s %s: no certificate in it, only PEM blocks "
		    "such as %s",
		    option, path, label);
	} else {
		certauth_reason_set(reason,
		    "cannot load %s %s: no certificate in it (no "
		    "\"-----BEGIN CERTIFICATE-----\" line)",
		    option, path);
	}
}

/* Every certificate of a PEM text, at least one. */
static int
parse_certs(const char *option, const char *path, const struct text *mem,
    STACK_OF(X509) **out, struct certauth_reason *reason)
{
	STACK_OF(X509) *certs = NULL;
	X509 *cert = NULL;
	BIO *bio = NULL;
	char why[CERTAUTH_REASON_MAX];
	int r = CERTAUTH_ERR_INTERNAL;

	if ((bio = BIO_new_mem_buf(mem->data, (int)mem->len)) == NULL ||
	    (certs = sk_X509_new_null()) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	ERR_set_mark();
	while ((cert = PEM_read_bio_X509(bio, NULL, certauth_pem_no_passphrase,
		    NULL)) != NULL) {
		if (!sk_X509_push(certs, cert)) {
			ERR_pop_to_mark();
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		cert = NULL;
	}
	/* The loop ends with "no start line" at end of file; anything else
	 * is a damaged certificate. */
	if (ERR_peek_last_error() != 0 && !certauth_ossl_pem_ended()) {
		certauth_ossl_reason(why, sizeof(why), "bad certificate");
		certauth_reason_set(reason, "cannot load %s %s: %s", option,
		    path, why);
		r = CERTAUTH_ERR_TRUST_STORE;
		goto out;
	}
	ERR_pop_to_mark();
	if (sk_X509_num(certs) == 0) {
		no_certificate(option, path, mem, reason);
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
	if (!certauth_ossl_pem_ended())
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
		certauth_reason_set(reason,
		    "cannot load %s %s: not a valid "
		    "PEM or DER CRL",
		    option, path);
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
parse_trust_file(enum certauth_trust_kind kind, const char *option,
    const char *path, const struct text *mem, struct certauth_parsed *out,
    struct certauth_reason *reason)
{
	int bad = 0, r = CERTAUTH_ERR_INTERNAL;

	if (kind == CERTAUTH_KIND_CRLS)
		return parse_crls(option, path, mem, &out->crls, reason);
	if (kind == CERTAUTH_KIND_CERTS)
		return parse_certs(option, path, mem, &out->certs, reason);
	r = certauth_anchor_index_build(mem->data, mem->len, &out->index, &bad);
	if (r == CERTAUTH_ERR_FORMAT)
		certauth_reason_set(reason,
		    "cannot load %s %s: PEM block %d "
		    "is not a certificate that can be read",
		    option, path, bad);
	else if (r == CERTAUTH_ERR_NOT_FOUND)
		no_certificate(option, path, mem, reason);
	return r == CERTAUTH_ERR_FORMAT || r == CERTAUTH_ERR_NOT_FOUND ?
	    CERTAUTH_ERR_TRUST_STORE :
	    r;
}

/* The cache key names the option too: one file may serve as ca_file and
 * chain_file. */
int
certauth_trust_file(enum certauth_trust_kind kind, const char *option,
    const char *path, struct certauth_seen *seen, struct certauth_parsed *out,
    struct certauth_reason *reason)
{
	struct certauth_parsed p;
	struct text mem = { NULL, 0 };
	char *key = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	if ((r = slurp(option, path, seen, &mem, reason)) != 0)
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
		certauth_cache_put(CERTAUTH_CACHE_TRUST, key, mem.data, mem.len,
		    &p);
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
note_deltas(struct certauth_trust_set *pol, STACK_OF(X509_CRL) *crls,
    const char *path)
{
	struct certauth_delta *grown;
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

/* Note where each of crls came from: option and path. */
static int
note_origins(struct certauth_trust_set *pol, STACK_OF(X509_CRL) *crls,
    const char *option, const char *path)
{
	struct certauth_crl_origin *grown, *o;
	int i, cap;

	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		if (pol->norigins == pol->origins_cap) {
			cap = pol->origins_cap == 0 ? 4 : pol->origins_cap * 2;
			if ((grown = realloc(pol->origins,
				 (size_t)cap * sizeof(*grown))) == NULL)
				return CERTAUTH_ERR_NOMEM;
			pol->origins = grown;
			pol->origins_cap = cap;
		}
		o = &pol->origins[pol->norigins];
		if (asprintf(&o->where, "%s %s", option, path) < 0) {
			o->where = NULL;
			return CERTAUTH_ERR_NOMEM;
		}
		o->crl = sk_X509_CRL_value(crls, i);
		pol->norigins++;
	}
	return 0;
}

const char *
certauth_trust_crl_origin(const struct certauth_trust_set *t,
    const X509_CRL *crl)
{
	int i;

	for (i = 0; t != NULL && i < t->norigins; i++) {
		if (t->origins[i].crl == crl)
			return t->origins[i].where;
	}
	return "a CRL file";
}

/* Add every CRL of one file, PEM or DER, to pol->crls; at least one. */
static int
load_crl_file(struct certauth_trust_set *pol, const char *option,
    const char *path, struct certauth_seen *seen,
    struct certauth_reason *reason)
{
	struct certauth_parsed p;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((r = certauth_trust_file(CERTAUTH_KIND_CRLS, option, path, seen, &p,
		 reason)) != 0 ||
	    (r = note_deltas(pol, p.crls, path)) != 0 ||
	    (r = note_origins(pol, p.crls, option, path)) != 0 ||
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
load_crl_dir(struct certauth_trust_set *pol, const char *dir,
    struct certauth_seen *seen, struct certauth_reason *reason)
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
		    (r = load_crl_file(pol, "crl_dir file", path, seen,
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
		certauth_reason_set(reason,
		    "cannot load ca_dir %s: "
		    "not a directory",
		    path);
		return CERTAUTH_ERR_TRUST_STORE;
	}
	return 0;
}

/*
 * The anchors: ca_file's index, and a check that ca_dir is a directory.
 * Each check parses from them only what its chain can use (chain_store).
 */
static int
load_anchors(const struct certauth_opts *o, struct certauth_trust_set *p,
    struct certauth_seen *seen, struct certauth_reason *reason)
{
	struct certauth_parsed anchors;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&anchors, 0, sizeof(anchors));
	if ((o->ca_file != NULL &&
		(r = certauth_trust_file(CERTAUTH_KIND_ANCHORS, "ca_file",
		     o->ca_file, seen, &anchors, reason)) != 0) ||
	    (o->ca_dir != NULL && (r = check_ca_dir(o->ca_dir, reason)) != 0))
		goto out;
	p->anchors = anchors.index;
	anchors.index = NULL;
	r = 0;
out:
	certauth_parsed_clear(&anchors);
	return r;
}

int
certauth_trust_certs(const char *option, const char *path,
    struct certauth_seen *seen, STACK_OF(X509) **out,
    struct certauth_reason *reason)
{
	struct certauth_parsed p;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((r = certauth_trust_file(CERTAUTH_KIND_CERTS, option, path, seen,
		 &p, reason)) != 0)
		goto out;
	*out = p.certs;
	p.certs = NULL;
	r = 0;
out:
	certauth_parsed_clear(&p);
	return r;
}

/*
 * trust=ca: the anchors, the chain file and, when CRLs are checked, the
 * CRLs.  seen spares the walk up a directory tree already found safe.
 */
static int
load_files(const struct certauth_opts *o, struct certauth_trust_set *p,
    struct certauth_seen *seen, struct certauth_reason *reason)
{
	int r = CERTAUTH_ERR_INTERNAL;

	if ((r = load_anchors(o, p, seen, reason)) != 0 ||
	    (o->chain_file != NULL &&
		(r = certauth_trust_certs("chain_file", o->chain_file, seen,
		     &p->chain, reason)) != 0))
		return r;
	if (p->crl == CERTAUTH_CRL_OFF)
		return 0;
	if ((p->crls = sk_X509_CRL_new_null()) == NULL)
		return CERTAUTH_ERR_NOMEM;
	if ((o->crl_file != NULL &&
		(r = load_crl_file(p, "crl_file", o->crl_file, seen, reason)) !=
		    0) ||
	    (o->crl_dir != NULL &&
		(r = load_crl_dir(p, o->crl_dir, seen, reason)) != 0))
		return r;
	return 0;
}

int
certauth_trust_load(const struct certauth_opts *o, struct certauth_seen *seen,
    struct certauth_trust_set **out, struct certauth_reason *reason)
{
	struct certauth_trust_set *p = NULL;
	struct certauth_seen own;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&own, 0, sizeof(own));
	if (seen == NULL)
		seen = &own;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	p->ca_file = o->ca_file;
	p->ca_dir = o->ca_dir;
	p->trust = o->trust;
	p->crl_warn = o->crl_warn;
	p->crl_grace = o->crl_grace;
	p->crl_skew = o->crl_skew;
	p->crl = o->trust == CERTAUTH_TRUST_PINNED ? CERTAUTH_CRL_OFF :
						     certauth_opts_crl_scope(o);
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
	if ((r = load_files(o, p, seen, reason)) != 0)
		goto out;
	*out = p;
	p = NULL;
	r = 0;
out:
	if (r != 0)
		ERR_clear_error();
	certauth_trust_free(p);
	return r;
}

void
certauth_trust_free(struct certauth_trust_set *p)
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
	for (i = 0; i < p->norigins; i++)
		free(p->origins[i].where);
	free(p->origins);
	free(p);
}
