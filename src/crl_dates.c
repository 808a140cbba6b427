/*
 * crl_dates.c - a CRL's lastUpdate and nextUpdate against the time of a
 * chain check: crl_skew, crl_grace and crl_warn (crl_dates.h).
 *
 * OpenSSL reports a CRL out of date through the verify callback, with
 * the CRL at hand (X509_STORE_CTX_get0_current_crl); answering there for
 * those two errors alone, rather than turning time checks off, leaves
 * every certificate date as strict as before.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "certauth.h"
#include "certutil.h"
#include "crl_dates.h"
#include "deltas.h"
#include "log.h"
#include "trust.h"

int
certauth_crl_dates_init(struct certauth_crl_dates *d,
    const struct certauth_trust_set *t, time_t now)
{
	int n = sk_X509_CRL_num(t->crls);

	memset(d, 0, sizeof(*d));
	d->t = t;
	d->now = now;
	if (n > 0 && (d->late = calloc((size_t)n, 1)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	return 0;
}

void
certauth_crl_dates_clear(struct certauth_crl_dates *d)
{
	free(d->late);
	memset(d, 0, sizeof(*d));
}

/* The place of crl among t's CRLs, or -1. */
static int
crl_index(const struct certauth_trust_set *t, const X509_CRL *crl)
{
	int i;

	for (i = 0; i < sk_X509_CRL_num(t->crls); i++) {
		if (sk_X509_CRL_value(t->crls, i) == crl)
			return i;
	}
	return -1;
}

/* The dates of the check ctx belongs to, or NULL. */
static struct certauth_crl_dates *
dates_of(X509_STORE_CTX *ctx)
{
	X509_STORE_CTX *up;
	struct certauth_crl_watch *w;

	/* The path of a CRL's issuer is checked in a child context. */
	while ((up = X509_STORE_CTX_get0_parent_ctx(ctx)) != NULL)
		ctx = up;
	w = X509_STORE_CTX_get_app_data(ctx);
	return w != NULL ? w->dates : NULL;
}

/*
 * Whether crl, out of date as err says, is within the policy: a
 * lastUpdate at most crl_skew ahead, a nextUpdate at most crl_grace
 * past.  One whose date cannot be read is not.
 */
static int
within_policy(const struct certauth_crl_dates *d, X509_CRL *crl, int err)
{
	time_t when;

	if (err == X509_V_ERR_CRL_NOT_YET_VALID)
		return certauth_asn1_to_time(X509_CRL_get0_lastUpdate(crl),
			   &when) == 0 &&
		    when - d->now <= d->t->crl_skew;
	return certauth_asn1_to_time(X509_CRL_get0_nextUpdate(crl), &when) ==
	    0 &&
	    d->now - when <= d->t->crl_grace;
}

int
certauth_crl_dates_cb(int ok, X509_STORE_CTX *ctx)
{
	struct certauth_crl_dates *d;
	X509_CRL *crl;
	int err = X509_STORE_CTX_get_error(ctx), i;

	if (ok ||
	    (err != X509_V_ERR_CRL_HAS_EXPIRED &&
		err != X509_V_ERR_CRL_NOT_YET_VALID))
		return ok;
	if ((d = dates_of(ctx)) == NULL ||
	    (crl = X509_STORE_CTX_get0_current_crl(ctx)) == NULL)
		return 0;
	if ((i = crl_index(d->t, crl)) < 0 || !within_policy(d, crl, err)) {
		d->refused = crl;
		d->refused_err = err;
		return 0;
	}
	if (err == X509_V_ERR_CRL_HAS_EXPIRED)
		d->late[i] = 1;
	/* Accepted: the error must not stay behind as the verdict. */
	X509_STORE_CTX_set_error(ctx, X509_V_OK);
	return 1;
}

/* The issuer and file of crl, for a message. */
static void
describe(const struct certauth_crl_dates *d, X509_CRL *crl, char *issuer,
    size_t len, const char **where)
{
	certauth_name_string(X509_CRL_get_issuer(crl), issuer, len);
	*where = certauth_trust_crl_origin(d->t, crl);
}

/* One CRL used past its nextUpdate, under crl_grace. */
static void
warn_late(const struct certauth_crl_dates *d, X509_CRL *crl, time_t next,
    const struct certauth_log *lg)
{
	char issuer[256], when[CERTAUTH_TIME_CHARS], span[64];
	const char *where;

	describe(d, crl, issuer, sizeof(issuer), &where);
	certauth_time_string(X509_CRL_get0_nextUpdate(crl), when, sizeof(when));
	certauth_span_string((long long)(d->now - next), span, sizeof(span));
	log_warn(lg,
	    "CRL in %s (issuer %s) expired at %s (its nextUpdate), %s ago; "
	    "still used under crl_grace=%ld, so revocations published "
	    "since are not seen: install a newer CRL from that CA",
	    where, issuer, when, span, d->t->crl_grace);
}

/* One CRL whose nextUpdate is within crl_warn. */
static void
warn_soon(const struct certauth_crl_dates *d, X509_CRL *crl, time_t next,
    const struct certauth_log *lg)
{
	char issuer[256], when[CERTAUTH_TIME_CHARS], span[64];
	const char *where;

	describe(d, crl, issuer, sizeof(issuer), &where);
	certauth_time_string(X509_CRL_get0_nextUpdate(crl), when, sizeof(when));
	certauth_span_string((long long)(next - d->now), span, sizeof(span));
	log_warn(lg,
	    "CRL in %s (issuer %s) expires at %s (its nextUpdate), in %s; "
	    "install a newer CRL from that CA before then",
	    where, issuer, when, span);
}

void
certauth_crl_dates_warn(const struct certauth_crl_dates *d,
    const struct certauth_crl_watch *w, const struct certauth_log *lg)
{
	X509_CRL *crl;
	time_t next;
	int i;

	for (i = 0; d->late != NULL && i < sk_X509_CRL_num(d->t->crls); i++) {
		crl = sk_X509_CRL_value(d->t->crls, i);
		if (crl == d->refused ||
		    certauth_asn1_to_time(X509_CRL_get0_nextUpdate(crl),
			&next) != 0)
			continue;
		if (d->late[i])
			warn_late(d, crl, next, lg);
		else if (w->used != NULL && w->used[i] && d->t->crl_warn > 0 &&
		    next >= d->now && next - d->now <= d->t->crl_warn)
			warn_soon(d, crl, next, lg);
	}
}

int
certauth_crl_dates_reason(const struct certauth_crl_dates *d, int err,
    struct certauth_reason *reason)
{
	char issuer[256], when[CERTAUTH_TIME_CHARS];
	const char *where;

	if (d->refused == NULL || d->refused_err != err) {
		certauth_reason_set(reason, "chain verification failed: %s",
		    X509_verify_cert_error_string(err));
		return CERTAUTH_ERR_CERT_INVALID;
	}
	describe(d, d->refused, issuer, sizeof(issuer), &where);
	if (err == X509_V_ERR_CRL_HAS_EXPIRED) {
		certauth_time_string(X509_CRL_get0_nextUpdate(d->refused), when,
		    sizeof(when));
		certauth_reason_set(reason,
		    "CRL in %s (issuer %s) expired at %s (its nextUpdate), "
		    "beyond crl_grace=%ld; install a newer CRL from that CA, "
		    "or check this host's clock",
		    where, issuer, when, d->t->crl_grace);
	} else {
		certauth_time_string(X509_CRL_get0_lastUpdate(d->refused), when,
		    sizeof(when));
		certauth_reason_set(reason,
		    "CRL in %s (issuer %s) is not valid before %s (its "
		    "lastUpdate), beyond crl_skew=%ld; is this host's clock "
		    "behind?",
		    where, issuer, when, d->t->crl_skew);
	}
	certauth_reason_host(reason);
	return CERTAUTH_ERR_CERT_INVALID;
}
