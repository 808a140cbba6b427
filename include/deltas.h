/*
 * deltas.h - the delta CRLs a chain check passed over.  OpenSSL reads a
 * delta CRL only together with a base CRL it extends; one that the
 * administrator put in place but that a check did not read would leave a
 * revocation listed only there without effect, so the check warns of it.
 */
#ifndef CERTAUTH_DELTAS_H
#define CERTAUTH_DELTAS_H

#include <openssl/x509_vfy.h>

#include "log.h"
#include "trust.h"

struct certauth_crl_dates;

/* Which of a trust's CRLs one check read; the check context's app data. */
struct certauth_crl_watch {
	X509_STORE_CTX_check_crl_fn check_crl; /* OpenSSL's own */
	const struct certauth_trust_set *t;    /* NULL: nothing watched */
	unsigned char *read; /* a flag for each of t->deltas, or NULL */
	unsigned char *used; /* a flag for each of t->crls */
	struct certauth_crl_dates *dates; /* the check's, for its callback */
};

/*
 * With CRLs loaded, make store's contexts check CRLs through a function
 * that notes each CRL read (in w->used, and a delta CRL in w->read too)
 * and then calls OpenSSL's own; the caller gives the check's context w
 * as app data.  Nothing is done (w->t stays NULL) without CRLs, and
 * w->read stays NULL without delta CRLs.  certauth_watch_clear frees
 * the flags.  Returns 0, CERTAUTH_ERR_NOMEM or CERTAUTH_ERR_INTERNAL.
 */
int certauth_watch_crls(const struct certauth_trust_set *t, X509_STORE *store,
    struct certauth_crl_watch *w);

void certauth_watch_clear(struct certauth_crl_watch *w);

/*
 * After X509_verify_cert on ctx (verified: whether it passed): log a
 * warning through lg for each delta CRL the check did not read although
 * its issuer is a CRL issuer of a certificate whose revocation was looked
 * up, with the file, the issuer, the CRL number and why it was not read.
 * The OpenSSL error queue is left as it was.
 */
void certauth_warn_unread_deltas(const struct certauth_trust_set *t,
    const struct certauth_log *lg, X509_STORE_CTX *ctx, int verified,
    const struct certauth_crl_watch *w);

#endif /* CERTAUTH_DELTAS_H */
