/*
 * fetch.h - one OCSP exchange over HTTP, done by the certauth-ocsp-fetch
 * helper in its own process: libcurl, its resolver threads and the
 * caller's environment never enter the PAM host process.
 *
 * The helper reports on its stdout in one record, a line and the body:
 *
 *   OCSPFETCH1 <code> <ms> <len> <text>\n<len bytes>
 *
 * code is one of enum certauth_fetch_exit (also its exit status), ms the
 * time the exchange took by the helper's own clock, len the body's length
 * (0 unless code is CERTAUTH_FETCH_OK) and text a short printable reason.
 * The module decides on the record, not on how long it waited for it: a
 * caller who stops su or sudo cannot make a prompt answer look late.
 */
#ifndef CERTAUTH_FETCH_H
#define CERTAUTH_FETCH_H

#include <stddef.h>

#include "certauth.h"
#include "helper.h"

#define CERTAUTH_OCSP_BODY_MAX	(64 * 1024) /* bytes of one answer */
#define CERTAUTH_FETCH_MAGIC	"OCSPFETCH1"
#define CERTAUTH_FETCH_LINE_MAX 512 /* the record's first line */
#define CERTAUTH_FETCH_TEXT_MAX 300 /* its text */
/* Time the helper has beyond its budget to start and report, after which
 * it is killed and the exchange is a local failure. */
#define CERTAUTH_FETCH_MARGIN_MS CERTAUTH_HELPER_MARGIN_MS

/* Exit codes of certauth-ocsp-fetch, and the code of its record. */
enum certauth_fetch_exit {
	CERTAUTH_FETCH_OK = 0,		/* HTTP 200, body follows */
	CERTAUTH_FETCH_LOCAL = 1,	/* the helper itself failed */
	CERTAUTH_FETCH_USAGE = 2,	/* bad arguments or request */
	CERTAUTH_FETCH_UNREACHABLE = 3, /* refused, reset, no such name,
					 * TLS: the network, or a helper
					 * frozen until it looked so */
	CERTAUTH_FETCH_HTTP = 4,	/* non-200 status, or a redirect */
	CERTAUTH_FETCH_TOO_BIG = 5,	/* body over CERTAUTH_OCSP_BODY_MAX */
	CERTAUTH_FETCH_TIMEOUT = 6,	/* libcurl's timeout: the network, or
					 * a helper frozen past it */
};

/*
 * POST req (DER OCSPRequest) to url through the helper at helper_path,
 * started in a session of its own with an empty environment, default
 * signal handling and the fixed arguments
 *   certauth-ocsp-fetch --timeout-ms budget_ms [--proxy URL] URL
 * (as root: with resource limits and scheduling of its own, as user
 * nobody), the request on its stdin, its record read from its stdout.
 * The child is followed and killed through a pidfd, and its exit status
 * only explains a missing record, so the host's SIGCHLD disposition or
 * handler plays no part; nothing process-wide is changed.  Whatever the
 * helper has written is read before any deadline is looked at; a helper
 * that has not reported by budget_ms + CERTAUTH_FETCH_MARGIN_MS is
 * killed.  proxy may be NULL.
 *
 * Returns 0 with *resp (malloc'd, caller frees) and *resplen;
 * CERTAUTH_ERR_UNREACHABLE only when the helper itself saw the network
 * fail (refused, reset, unresolvable, TLS, an HTTP error status or
 * redirect), or url is not http(s); CERTAUTH_ERR_FORMAT for an oversized
 * or empty body; CERTAUTH_ERR_NOMEM; CERTAUTH_ERR_INTERNAL for every
 * local failure (the helper's checks, descriptors, the user lookup, the
 * child, a helper that gave no report in time, crashed or reported
 * garbage).  A timeout or a network failure that the helper reports is
 * CERTAUTH_ERR_UNREACHABLE only when no user but root could have frozen
 * it (certauth_cgroup_unfreezable): a user who may freeze one of this
 * thread's cgroups could hold the helper until its timeout expires, a
 * resolver gives up or the responder drops the idle connection, while
 * the answer waits; then, and when that cannot be told, it is
 * CERTAUTH_ERR_INTERNAL.  The cgroups are looked at only then.  *spent_ms (may be NULL) is
 * the time the helper reported for the exchange, 0..budget_ms, 0 without
 * a report: the time the network took, which the caller counts against
 * its budget.  The reason names the URL and the problem.
 */
int certauth_fetch_ocsp(const char *helper_path, const char *url,
    const char *proxy, const unsigned char *req, size_t reqlen,
    long long budget_ms, long long *spent_ms, unsigned char **resp,
    size_t *resplen, struct certauth_reason *reason);

#endif /* CERTAUTH_FETCH_H */
