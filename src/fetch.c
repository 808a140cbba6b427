/*
 * fetch.c - one OCSP exchange, done by the certauth-ocsp-fetch helper in
 * a child process run by helper.c (which says how the caller of su or
 * sudo is kept out of the verdict).  Here: the helper's arguments, its
 * record and what each outcome means.  The cgroup freezer stops the
 * helper without a signal, so neither its session nor user nobody
 * shields it: a timeout the helper reports is taken as the network's
 * only when no user but root may freeze this thread's cgroups
 * (certauth_cgroup_unfreezable()).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certauth.h"
#include "cgroup.h"
#include "fetch.h"
#include "helper.h"
#include "ldap_wire.h"

#define HELPER_ARGV0 "certauth-ocsp-fetch"
/* What the helper may write: its record line and the largest body. */
#define REPORT_MAX (CERTAUTH_FETCH_LINE_MAX + CERTAUTH_OCSP_BODY_MAX)

/* What the helper reported. */
struct report {
	int code;     /* enum certauth_fetch_exit */
	long long ms; /* by the helper's clock */
	size_t bodylen;
	const unsigned char *body; /* inside the exchange's buffer */
	char text[CERTAUTH_FETCH_TEXT_MAX + 1];
};

/*
 * The record in buf[0..len) (fetch.h): the whole output, exactly one
 * line and its body.  Returns 0 and the struct report at arg, or -1 for
 * anything else.
 */
static int
parse_report(void *arg, const unsigned char *buf, size_t buflen)
{
	struct report *rep = arg;
	const char *p = (const char *)buf, *end, *nl;
	const size_t mlen = sizeof(CERTAUTH_FETCH_MAGIC) - 1;
	long long code, ms, len;
	size_t tlen;

	end = p +
	    (buflen < CERTAUTH_FETCH_LINE_MAX ? buflen :
						CERTAUTH_FETCH_LINE_MAX);
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
	    (size_t)(nl - p) < mlen + 1 ||
	    memcmp(p, CERTAUTH_FETCH_MAGIC " ", mlen + 1) != 0)
		return -1;
	p += mlen + 1;
	if (certauth_wire_number(&p, nl, 3, ' ', &code) != 0 ||
	    certauth_wire_number(&p, nl, 9, ' ', &ms) != 0 ||
	    certauth_wire_number(&p, nl, 6, ' ', &len) != 0 ||
	    len > CERTAUTH_OCSP_BODY_MAX ||
	    (len != 0 && code != CERTAUTH_FETCH_OK))
		return -1;
	if ((tlen = (size_t)(nl - p)) > CERTAUTH_FETCH_TEXT_MAX)
		return -1;
	for (end = p; end < nl; end++)
		if (*end < 0x20 || *end > 0x7e)
			return -1;
	if (buflen - (size_t)(nl + 1 - (const char *)buf) != (size_t)len)
		return -1;
	rep->code = (int)code;
	rep->ms = ms;
	rep->bodylen = (size_t)len;
	rep->body = (const unsigned char *)nl + 1;
	memcpy(rep->text, p, tlen);
	rep->text[tlen] = '\0';
	return 0;
}

/* The code and reason for a report. */
static int
map_report(const struct report *rep, const char *helper, const char *url,
    struct certauth_reason *reason)
{
	struct certauth_reason why;
	int r;

	switch (rep->code) {
	case CERTAUTH_FETCH_OK:
		if (rep->bodylen > 0)
			return 0;
		certauth_reason_set(reason,
		    "OCSP responder %s sent an empty "
		    "answer",
		    url);
		return CERTAUTH_ERR_FORMAT;
	case CERTAUTH_FETCH_UNREACHABLE:
	case CERTAUTH_FETCH_TIMEOUT:
		/* A frozen helper also sees resolvers time out and idle
		 * connections reset. */
		if ((r = certauth_cgroup_unfreezable(&why)) != 0) {
			certauth_reason_set(reason,
			    "OCSP responder %s: %s, "
			    "but %s: not taken as the network's",
			    url, rep->text, why.text);
			return r;
		}
		certauth_reason_set(reason,
		    "cannot reach OCSP responder %s: "
		    "%s",
		    url, rep->text);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_FETCH_HTTP:
		certauth_reason_set(reason,
		    "OCSP responder %s answered with "
		    "an HTTP error or redirect: %s",
		    url, rep->text);
		return CERTAUTH_ERR_UNREACHABLE;
	case CERTAUTH_FETCH_TOO_BIG:
		certauth_reason_set(reason,
		    "OCSP responder %s sent an answer "
		    "larger than %d KiB",
		    url, CERTAUTH_OCSP_BODY_MAX / 1024);
		return CERTAUTH_ERR_FORMAT;
	default:
		certauth_reason_set(reason,
		    "OCSP helper %s failed (code %d): "
		    "%s",
		    helper, rep->code, rep->text);
		return CERTAUTH_ERR_INTERNAL;
	}
}

/* Only http and https reach the helper; this also keeps a URL that
 * starts with '-' from being read as an option. */
static int
url_is_http(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ||
	    strncasecmp(url, "https://", 8) == 0;
}

/* The helper's answer, copied out of the exchange's buffer. */
static int
take_body(const struct report *rep, unsigned char **resp, size_t *resplen)
{
	if ((*resp = malloc(rep->bodylen)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	memcpy(*resp, rep->body, rep->bodylen);
	*resplen = rep->bodylen;
	return 0;
}

/* The arguments, before anything is opened: a URL that is not http(s)
 * is CERTAUTH_ERR_UNREACHABLE, anything else wrong
 * CERTAUTH_ERR_INTERNAL, both with a reason; 0 when fine. */
static int
check_request(const char *url, const char *proxy, const unsigned char *req,
    size_t reqlen, long long budget_ms, struct certauth_reason *reason)
{
	if (url == NULL || !url_is_http(url)) {
		certauth_reason_set(reason,
		    "OCSP responder URL %s is not "
		    "http or https",
		    url == NULL ? "(none)" : url);
		return CERTAUTH_ERR_UNREACHABLE;
	}
	if (req == NULL || reqlen == 0 || budget_ms <= 0 ||
	    (proxy != NULL && proxy[0] == '\0')) {
		certauth_reason_set(reason,
		    "bad arguments for OCSP request "
		    "to %s",
		    url);
		return CERTAUTH_ERR_INTERNAL;
	}
	return 0;
}

/*
 * The argv of the helper: certauth-ocsp-fetch --timeout-ms N [--proxy
 * URL] URL, in words (at least 7) with msbuf holding N.
 */
static void
make_argv(char **words, char *msbuf, size_t mslen, const char *url,
    const char *proxy, long long budget_ms)
{
	size_t i = 0;

	(void)snprintf(msbuf, mslen, "%lld", budget_ms);
	words[i++] = (char *)HELPER_ARGV0;
	words[i++] = (char *)"--timeout-ms";
	words[i++] = msbuf;
	if (proxy != NULL) {
		words[i++] = (char *)"--proxy";
		words[i++] = (char *)proxy;
	}
	words[i++] = (char *)url;
	words[i] = NULL;
}

int
certauth_fetch_ocsp(const char *helper_path, const char *url, const char *proxy,
    const unsigned char *req, size_t reqlen, long long budget_ms,
    long long *spent_ms, unsigned char **resp, size_t *resplen,
    struct certauth_reason *reason)
{
	struct certauth_helper_job job;
	struct report rep;
	char *words[8], msbuf[24];
	unsigned char *out = NULL;
	size_t outlen = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	*resp = NULL;
	*resplen = 0;
	if (spent_ms != NULL)
		*spent_ms = 0;
	if ((r = check_request(url, proxy, req, reqlen, budget_ms, reason)) !=
	    0)
		goto out;
	make_argv(words, msbuf, sizeof(msbuf), url, proxy, budget_ms);
	memset(&job, 0, sizeof(job));
	memset(&rep, 0, sizeof(rep));
	job.path = helper_path;
	job.what = "OCSP helper";
	job.argv = words;
	job.req = req;
	job.reqlen = reqlen;
	job.out_max = REPORT_MAX;
	job.budget_ms = budget_ms;
	job.parse = parse_report;
	job.arg = &rep;
	if ((r = certauth_helper_run(&job, &out, &outlen, reason)) != 0)
		goto out;
	if (spent_ms != NULL)
		*spent_ms = rep.ms < budget_ms ? rep.ms : budget_ms;
	if ((r = map_report(&rep, helper_path, url, reason)) == 0)
		r = take_body(&rep, resp, resplen);
out:
	free(out);
	return r;
}
