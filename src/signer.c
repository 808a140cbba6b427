/*
 * The judging of a challenge before it is signed (signer.h): the checks
 * a person should make, made for them, with refusals that say what a
 * mismatch may mean and how to go on.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certauth.h"
#include "certutil.h"
#include "challenge.h"
#include "log.h"
#include "options.h"
#include "signer.h"

#define TIME_TEXT_BYTES 64 /* "YYYY-MM-DD HH:MM:SS UTC" or digits */
#define SPAN_TEXT_BYTES 64
#define LIST_TEXT_BYTES 8192
#define ADVICE_BYTES	1024

long
certauth_signer_default_max_age(void)
{
	struct certauth_opts o;
	long ttl;

	certauth_opts_init(&o);
	ttl = o.challenge_ttl;
	certauth_opts_free(&o);
	return ttl + CERTAUTH_SIGNER_SKEW;
}

int
certauth_signer_extract(const char *text, char **out)
{
	const char *start;

	*out = NULL;
	if ((start = strstr(text, CERTAUTH_SIGNER_PREFIX)) == NULL)
		return CERTAUTH_ERR_FORMAT;
	if ((*out = strndup(start, strcspn(start, " \t\r\n\v\f"))) == NULL)
		return CERTAUTH_ERR_NOMEM;
	return 0;
}

/*
 * "a", "a or b", "a, b or c" (each in quotes when quote) into buf: the
 * names a field was allowed to be.
 */
static void
name_list(const char *const *names, int n, int quote, char *buf, size_t size)
{
	const char *sep, *q = quote ? "'" : "";
	size_t used = 0;
	int i, w;

	buf[0] = '\0';
	for (i = 0; i < n && used < size; i++) {
		sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";
		w = snprintf(buf + used, size - used, "%s%s%s%s", sep, q,
		    names[i], q);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/*
 * A decoded field against the names allowed: exact bytes, case included
 * (account and service names are).  No name: not checked.  Returns 0, or
 * -1 (said why and what it may mean).
 */
static int
check_field(const struct certauth_signer *s, const char *what,
    const char *field, const char *decoded, const char *const *want, int nwant,
    const char *risk)
{
	char wanted[LIST_TEXT_BYTES];
	int i;

	if (nwant == 0)
		return 0;
	for (i = 0; i < nwant; i++)
		if (strcmp(decoded, want[i]) == 0)
			return 0;
	name_list(want, nwant, 0, wanted, sizeof(wanted));
	log_err(NULL,
	    "%s: challenge is for %s %s, not %s: refusing to sign (%s)",
	    s->prog, what, certauth_pct_display(decoded, field), wanted, risk);
	return -1;
}

int
certauth_signer_host_equal(const char *a, const char *b)
{
	unsigned char ca, cb;

	for (;; a++, b++) {
		ca = (unsigned char)*a;
		cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb - 'A' + 'a');
		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
}

int
certauth_signer_plain(const char *s)
{
	return strspn(s,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789._-@+") == strlen(s);
}

/*
 * The host field against the allowed names, ASCII case ignored (host
 * names are case-insensitive); no name: not checked.  The refusal says
 * where the field comes from, since it is rarely the name typed to ssh.
 * Returns 0, or -1 (said why and how to go on).
 */
static int
check_host(const struct certauth_signer *s, const struct certauth_challenge *c)
{
	const char *shown = certauth_pct_display(c->host, c->host_enc);
	char wanted[LIST_TEXT_BYTES], advice[ADVICE_BYTES];
	int i;

	for (i = 0; i < s->nhosts; i++)
		if (certauth_signer_host_equal(c->host, s->hosts[i]))
			return 0;
	if (s->nhosts == 0)
		return 0;
	name_list(s->hosts, s->nhosts, 1, wanted, sizeof(wanted));
	s->host_advice(s->arg, c->host,
	    shown == c->host && certauth_signer_plain(c->host), advice,
	    sizeof(advice));
	log_err(NULL,
	    "%s: refused: the challenge is for host '%s', not %s. The host "
	    "field is the server's own hostname (or its hostname= option), "
	    "not the name you connect to: if '%s' is the server you meant, %s",
	    s->prog, shown, wanted, shown, advice);
	return -1;
}

/*
 * The time field against this machine's clock: at most max_age seconds
 * either way; max_age 0: not checked.  A login in progress shows the time
 * it began, so a challenge far from now was made up, held back or comes
 * from a host whose clock is wrong.  Returns 0, or -1 (said why).
 */
static int
check_time(const struct certauth_signer *s, time_t t)
{
	char when[TIME_TEXT_BYTES], span[SPAN_TEXT_BYTES];
	long long now, off;

	if (s->max_age == 0)
		return 0;
	certauth_unix_time_string(t, when, sizeof(when));
	if ((now = (long long)time(NULL)) < 0) {
		log_err(NULL, "%s: cannot read the clock", s->prog);
		return -1;
	}
	/* Far behind any clock, and t - now could overflow. */
	if (t < 0) {
		log_err(NULL,
		    "%s: challenge time %s is before 1970: refusing to sign",
		    s->prog, when);
		return -1;
	}
	off = (long long)t - now; /* no overflow: both are >= 0 */
	if (off <= s->max_age && off >= -s->max_age)
		return 0;
	certauth_span_string(off < 0 ? -off : off, span, sizeof(span));
	log_err(NULL,
	    "%s: challenge time %s is %s %s this machine's clock, more than "
	    "the %ld seconds allowed: refusing to sign (a login in progress "
	    "shows the current time; %s)",
	    s->prog, when, span, off < 0 ? "behind" : "ahead of", s->max_age,
	    s->time_advice);
	return -1;
}

/* Say what is about to be signed: the person is the last check. */
static void
announce(const struct certauth_signer *s, const struct certauth_challenge *c)
{
	char when[TIME_TEXT_BYTES];
	const char *host = certauth_pct_display(c->host, c->host_enc);

	certauth_unix_time_string(c->issued, when, sizeof(when));
	log_info(NULL,
	    "%s: signing for user %s, service %s, on host %s "
	    "(challenge time %s)",
	    s->prog, certauth_pct_display(c->user, c->user_enc),
	    certauth_pct_display(c->service, c->service_enc), host, when);
	if (s->nhosts == 0)
		log_info(NULL,
		    "%s: the host was not checked (no --host): answer only if "
		    "%s is the host you are logging in to",
		    s->prog, host);
}

int
certauth_signer_check(const struct certauth_signer *s, const char *text)
{
	struct certauth_challenge c;
	struct certauth_reason why;
	int r = -1;

	if ((r = certauth_challenge_parse(text, &c, &why)) != 0) {
		if (r == CERTAUTH_ERR_NOMEM)
			log_err(NULL, "%s: %s", s->prog, certauth_strerror(r));
		else
			log_err(NULL, "%s: not a certauth v1 challenge: %s",
			    s->prog, why.text);
		return -1;
	}
	r = -1;
	if (check_host(s, &c) != 0 ||
	    check_field(s, "service", c.service_enc, c.service, s->services,
		s->nservices,
		"a server may be relaying a challenge of another service, such "
		"as su or sudo") != 0 ||
	    check_field(s, "user", c.user_enc, c.user, &s->user,
		s->user != NULL,
		"a server may be relaying a challenge for another account") !=
		0 ||
	    check_time(s, c.issued) != 0)
		goto out;
	announce(s, &c);
	r = 0;
out:
	certauth_challenge_free(&c);
	return r;
}
