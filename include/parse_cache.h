/*
 * parse_cache.h - certificates, CRLs and anchor indexes parsed from a file,
 * kept for later logins in the same process and reused only for the very
 * same bytes.
 *
 * Parsing is most of what a login costs beyond its cryptography (OpenSSL
 * 3 decodes every certificate's key through its provider decoders).  A
 * long-lived host (a daemon that authenticates many users through PAM)
 * need not pay it again for a file that has not changed.  The key is the
 * file's path and its complete contents, compared byte for byte: the file
 * is still opened and read on every login, and any change to it, however
 * quick or however its timestamps look, is a miss and a fresh parse.
 * Nothing here is per-login state: an entry is a pure function of the
 * bytes it was parsed from.  The process-wide table is guarded by a mutex.
 */
#ifndef CERTAUTH_PARSE_CACHE_H
#define CERTAUTH_PARSE_CACHE_H

#include <stddef.h>
#include <openssl/x509.h>

#include "anchors.h"

/* Separate tables, so many users' bindings never push out trust files. */
enum certauth_cache_pool {
	CERTAUTH_CACHE_TRUST,	 /* ca_file, chain_file, CRL files */
	CERTAUTH_CACHE_BINDINGS, /* one bindings file per user */
	CERTAUTH_CACHE_NPOOLS
};

/* What one file parsed to; any member may be NULL. */
struct certauth_parsed {
	STACK_OF(X509) *certs;	  /* a certificate file's certificates */
	STACK_OF(X509_CRL) *crls; /* a CRL file's CRLs */
	struct certauth_anchor_index *index; /* ca_file: its anchors by
					 * subject, unparsed (anchors.h) */
};

/*
 * Find what was parsed from exactly buf[0..len) read from path.  Returns
 * 1 with *out filled with the caller's own references (new stacks whose
 * objects are up-referenced, an up-referenced index; free with
 * certauth_parsed_clear), 0 on a miss (*out zeroed), or
 * CERTAUTH_ERR_NOMEM.
 */
int certauth_cache_get(enum certauth_cache_pool pool, const char *path,
    const void *buf, size_t len, struct certauth_parsed *out);

/*
 * Remember val as what buf[0..len) from path parses to; the cache takes
 * references of its own, val stays the caller's.  An older entry for the
 * same path is replaced; when the table is full the least recently used
 * entry goes.  Failing to remember (no memory) only costs a later parse,
 * so nothing is returned.
 */
void certauth_cache_put(enum certauth_cache_pool pool, const char *path,
    const void *buf, size_t len, const struct certauth_parsed *val);

/* Free what *p holds and zero it. */
void certauth_parsed_clear(struct certauth_parsed *p);

#endif /* CERTAUTH_PARSE_CACHE_H */
