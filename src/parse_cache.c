/*
 * parse_cache.c - parsed trust files and bindings, reused for the same
 * bytes (parse_cache.h says why and what the key is).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "certauth.h"
#include "parse_cache.h"

/* Entries per pool: every trust file a few configurations name, and the
 * users of a busy host.  Enough that a steady state never evicts. */
#define TRUST_ENTRIES	 32
#define BINDINGS_ENTRIES 128
#define MAX_ENTRIES	 BINDINGS_ENTRIES

/* A bindings file is a few kilobytes; a huge one is read but not kept. */
#define BINDINGS_KEEP_MAX (64 * 1024)

struct entry {
	char *path;	      /* NULL: a free slot */
	unsigned char *bytes; /* the file as it was parsed */
	size_t len;
	struct certauth_parsed val;
	unsigned long long used; /* last use, for eviction */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry table[CERTAUTH_CACHE_NPOOLS][MAX_ENTRIES];
static unsigned long long uses; /* a counter, not a time */

static size_t
pool_size(enum certauth_cache_pool pool)
{
	return pool == CERTAUTH_CACHE_BINDINGS ? BINDINGS_ENTRIES :
						 TRUST_ENTRIES;
}

void
certauth_parsed_clear(struct certauth_parsed *p)
{
	sk_X509_pop_free(p->certs, X509_free);
	sk_X509_CRL_pop_free(p->crls, X509_CRL_free);
	certauth_anchor_index_free(p->index);
	memset(p, 0, sizeof(*p));
}

/* A new stack of the same CRLs, each up-referenced, or NULL. */
static STACK_OF(X509_CRL) *
crls_up_ref(STACK_OF(X509_CRL) *crls)
{
	STACK_OF(X509_CRL) *copy = NULL;
	int i;

	if ((copy = sk_X509_CRL_new_reserve(NULL, sk_X509_CRL_num(crls))) ==
	    NULL)
		return NULL;
	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);

		if (!X509_CRL_up_ref(crl))
			goto fail;
		if (!sk_X509_CRL_push(copy, crl)) {
			X509_CRL_free(crl);
			goto fail;
		}
	}
	return copy;
fail:
	sk_X509_CRL_pop_free(copy, X509_CRL_free);
	return NULL;
}

/* *dst = references of its own to what src holds.  0 or NOMEM. */
static int
parsed_copy(const struct certauth_parsed *src, struct certauth_parsed *dst)
{
	struct certauth_parsed p;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&p, 0, sizeof(p));
	if ((src->certs != NULL &&
		(p.certs = X509_chain_up_ref(src->certs)) == NULL) ||
	    (src->crls != NULL && (p.crls = crls_up_ref(src->crls)) == NULL) ||
	    (src->index != NULL &&
		certauth_anchor_index_up_ref(src->index) != 0)) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	p.index = src->index;
	*dst = p;
	memset(&p, 0, sizeof(p));
	r = 0;
out:
	certauth_parsed_clear(&p);
	return r;
}

static void
entry_clear(struct entry *e)
{
	free(e->path);
	free(e->bytes);
	certauth_parsed_clear(&e->val);
	memset(e, 0, sizeof(*e));
}

static int
entry_matches(const struct entry *e, const char *path, const void *buf,
    size_t len)
{
	return e->path != NULL && e->len == len && strcmp(e->path, path) == 0 &&
	    memcmp(e->bytes, buf, len) == 0;
}

int
certauth_cache_get(enum certauth_cache_pool pool, const char *path,
    const void *buf, size_t len, struct certauth_parsed *out)
{
	struct entry *pe = table[pool];
	size_t i, n = pool_size(pool);
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (pthread_mutex_lock(&lock) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!entry_matches(&pe[i], path, buf, len))
			continue;
		pe[i].used = ++uses;
		r = parsed_copy(&pe[i].val, out) == 0 ? 1 : CERTAUTH_ERR_NOMEM;
		break;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/* The slot for path: its older entry, a free one, or the stalest. */
static struct entry *
choose_slot(struct entry *pe, size_t n, const char *path)
{
	struct entry *victim = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (pe[i].path != NULL && strcmp(pe[i].path, path) == 0)
			return &pe[i];
	}
	for (i = 0; i < n; i++) {
		if (pe[i].path == NULL)
			return &pe[i];
		if (victim == NULL || pe[i].used < victim->used)
			victim = &pe[i];
	}
	return victim;
}

void
certauth_cache_put(enum certauth_cache_pool pool, const char *path,
    const void *buf, size_t len, const struct certauth_parsed *val)
{
	struct entry e, old, *slot;

	if (pool == CERTAUTH_CACHE_BINDINGS && len > BINDINGS_KEEP_MAX)
		return;
	memset(&e, 0, sizeof(e));
	/* Copies are made outside the lock; a lost race costs one parse. */
	if ((e.path = strdup(path)) == NULL ||
	    (e.bytes = malloc(len > 0 ? len : 1)) == NULL ||
	    parsed_copy(val, &e.val) != 0)
		goto out;
	memcpy(e.bytes, buf, len);
	e.len = len;
	if (pthread_mutex_lock(&lock) != 0)
		goto out;
	slot = choose_slot(table[pool], pool_size(pool), path);
	/* Swap: the old entry is freed below, outside the lock. */
	e.used = ++uses;
	old = *slot;
	*slot = e;
	e = old;
	pthread_mutex_unlock(&lock);
out:
	entry_clear(&e);
}
