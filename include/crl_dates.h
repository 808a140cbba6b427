/*
 * crl_dates.h - a CRL's dates against the time of a chain check, as the
 * options have them: crl_skew for a lastUpdate ahead of this host's
 * clock, crl_grace for a nextUpdate passed, crl_warn for one about to
 * pass.  Certificate dates are not touched: only OpenSSL's two CRL date
 * errors are ever let through.
 */
#ifndef CERTAUTH_CRL_DATES_H
#define CERTAUTH_CRL_DATES_H

#include <time.h>
#include <openssl/x509_vfy.h>

#include "certauth.h"
#include "log.h"
#include "trust.h"

struct certauth_crl_watch;

/* What one check's CRL dates came to. */
struct certauth_crl_dates {
	const struct certauth_trust_set *t;
	time_t now;	     /* the check's time */
	X509_CRL *refused;   /* the CRL whose dates refused it, or NULL */
	int refused_err;     /* X509_V_ERR_CRL_HAS_EXPIRED or _NOT_YET_VALID */
	unsigned char *late; /* a flag for each of t->crls: used under
				* crl_grace, or NULL without CRLs */
};

/*
 * Start d for a check of t at now.  Returns 0, or CERTAUTH_ERR_NOMEM;
 * certauth_crl_dates_clear frees what d holds either way.
 */
int certauth_crl_dates_init(struct certauth_crl_dates *d,
    const struct certauth_trust_set *t, time_t now);

void certauth_crl_dates_clear(struct certauth_crl_dates *d);

/*
 * The verify callback of a check whose context (or its top parent, for
 * the path of a CRL's issuer) has a struct certauth_crl_watch as app
 * data, with dates set.  It passes every verdict on as it is, except
 * X509_V_ERR_CRL_NOT_YET_VALID for a CRL whose lastUpdate is at most
 * crl_skew seconds ahead, and X509_V_ERR_CRL_HAS_EXPIRED for one whose
 * nextUpdate passed at most crl_grace seconds ago (noted in late); a CRL
 * refused for its dates is noted in refused.
 */
int certauth_crl_dates_cb(int ok, X509_STORE_CTX *ctx);

/*
 * After the check: log at LOG_WARNING through lg, once for each CRL,
 * every CRL used under crl_grace, and every other CRL the check read
 * (w->used) whose nextUpdate is at most crl_warn seconds away.  Each line
 * names the file, the issuer, the nextUpdate and the time left or past.
 */
void certauth_crl_dates_warn(const struct certauth_crl_dates *d,
    const struct certauth_crl_watch *w, const struct certauth_log *lg);

/*
 * The reason of a check that ended on err, X509_V_ERR_CRL_HAS_EXPIRED or
 * _NOT_YET_VALID: the file, the issuer, the date and what to do.  Returns
 * CERTAUTH_ERR_CERT_INVALID; the reason is marked a fault of the host
 * (certauth_reason_host), since every login under that CA fails alike.
 */
int certauth_crl_dates_reason(const struct certauth_crl_dates *d, int err,
    struct certauth_reason *reason);

#endif /* CERTAUTH_CRL_DATES_H */
