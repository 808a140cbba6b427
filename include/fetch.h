/*
 * fetch.h - one OCSP exchange over HTTP, done by the certauth-ocsp-fetch
 * helper in its own process: libcurl, its resolver threads and the
 * caller's environment never enter the PAM host process.
 */
#ifndef CERTAUTH_FETCH_H
#define CERTAUTH_FETCH_H

#include <stddef.h>

#include "certauth.h"

#define CERTAUTH_OCSP_BODY_MAX	(64 * 1024)	/* bytes of one answer */

/* Exit codes of certauth-ocsp-fetch. */
enum certauth_fetch_exit {
	CERTAUTH_FETCH_OK = 0,		/* HTTP 200, body on stdout */
	CERTAUTH_FETCH_USAGE = 2,	/* bad arguments */
	CERTAUTH_FETCH_UNREACHABLE = 3,	/* resolve/connect/timeout/TLS */
	CERTAUTH_FETCH_HTTP = 4,	/* non-200 status, or a redirect */
	CERTAUTH_FETCH_TOO_BIG = 5,	/* body over CERTAUTH_OCSP_BODY_MAX */
};

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
long long certauth_now_ms(void);

/*
 * POST req (DER OCSPRequest) to url through the helper at helper_path,
 * started with an empty environment and the fixed arguments
 *   certauth-ocsp-fetch --timeout-ms N [--proxy URL] URL
 * (as user nobody when run as root), the request on its stdin, the answer
 * read from its stdout.  The helper is killed at deadline_ms
 * (certauth_now_ms() clock).  proxy may be NULL.
 * Returns 0 with *resp (malloc'd, caller frees) and *resplen;
 * CERTAUTH_ERR_UNREACHABLE for a responder that cannot be reached in time
 * (resolve, connect, timeout, TLS, HTTP error status: what ocsp=soft may
 * tolerate), CERTAUTH_ERR_FORMAT for an oversized or empty body, or
 * CERTAUTH_ERR_INTERNAL when the helper cannot be started (missing, or
 * failing the safe-file rules).  The reason names the URL and the problem.
 */
int certauth_fetch_ocsp(const char *helper_path, const char *url,
    const char *proxy, const unsigned char *req, size_t reqlen,
    long long deadline_ms, unsigned char **resp, size_t *resplen,
    struct certauth_reason *reason);

#endif /* CERTAUTH_FETCH_H */
