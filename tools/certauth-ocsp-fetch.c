/*
 * certauth-ocsp-fetch - one OCSP exchange over HTTP for pam_certauth.
 *
 *   certauth-ocsp-fetch --timeout-ms N [--proxy URL] URL
 *
 * Reads a DER OCSP request on stdin, POSTs it to URL and writes one
 * record to stdout (fetch.h): a line with the outcome, the time the
 * exchange took by this program's own clock and the body's length, then
 * the body of a 200 answer.  The exit code is the record's code too.  The
 * module starts this program with an empty environment, in a session of
 * its own, as user nobody, and decides on the record: only the outcomes
 * this program saw on the network (CERTAUTH_FETCH_UNREACHABLE and
 * CERTAUTH_FETCH_HTTP) may be tolerated by ocsp=soft, so every failure of
 * its own is CERTAUTH_FETCH_LOCAL.  A timeout has a code of its own,
 * CERTAUTH_FETCH_TIMEOUT.  The module takes a timeout or a network failure
 * as the network's only if nobody could have frozen this program (the
 * cgroup freezer stops a process without a signal, while the answer waits
 * in its socket), which it judges from its own cgroups.
 *
 * This program is an untrusted transport: it checks nothing in the answer
 * beyond its HTTP status and size.  Every check of the OCSP answer itself
 * is done by the module.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fetch.h"

#define PROG  "certauth-ocsp-fetch"
#define USAGE "usage: " PROG " --timeout-ms N [--proxy URL] URL"
/* An OCSP request for a whole chain is a few hundred bytes. */
#define REQUEST_MAX (64 * 1024)
/* Ten minutes: far above any sane ocsp_timeout_ms, far below overflow. */
#define TIMEOUT_MAX_MS 600000L
#define EXIT_INTERNAL  CERTAUTH_FETCH_LOCAL

static long long started_ms; /* CLOCK_MONOTONIC at start */

struct fetch_args {
	long timeout_ms;
	const char *proxy; /* NULL: no proxy at all */
	const char *url;
};

struct body {
	unsigned char buf[CERTAUTH_OCSP_BODY_MAX];
	size_t len;
	CURL *curl;
	int too_big;	/* the callback refused: over the cap */
	int bad_status; /* the callback refused: not a 200 */
};

/* A decimal timeout in 1..TIMEOUT_MAX_MS; anything else is refused. */
static int
parse_timeout(const char *s, long *out)
{
	char *end = NULL;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > TIMEOUT_MAX_MS)
		return -1;
	*out = v;
	return 0;
}

/*
 * Exactly the arguments the module passes, each option at most once, no
 * abbreviations; option values are taken as they are, so a value that
 * begins with '-' is still a value.  Returns 0 or -1 (usage).
 */
static int
parse_args(int argc, char **argv, struct fetch_args *a)
{
	int i, have_timeout = 0;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--timeout-ms") == 0) {
			if (have_timeout || i + 1 >= argc ||
			    parse_timeout(argv[i + 1], &a->timeout_ms) != 0)
				return -1;
			have_timeout = 1;
			i++;
		} else if (strcmp(argv[i], "--proxy") == 0) {
			if (a->proxy != NULL || i + 1 >= argc ||
			    argv[i + 1][0] == '\0')
				return -1;
			a->proxy = argv[++i];
		} else if (argv[i][0] == '-' || a->url != NULL ||
		    argv[i][0] == '\0') {
			return -1;
		} else {
			a->url = argv[i];
		}
	}
	return have_timeout && a->url != NULL ? 0 : -1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Write the record (fetch.h) of this run, code and a printf-style
 * reason, with body when code is CERTAUTH_FETCH_OK; the reason also goes
 * to stderr for a person running this by hand.  Returns code, or
 * EXIT_INTERNAL when the record cannot be written.
 */
static int report(int code, const unsigned char *body, size_t len,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
report(int code, const unsigned char *body, size_t len, const char *fmt, ...)
{
	char text[CERTAUTH_FETCH_TEXT_MAX + 1], line[CERTAUTH_FETCH_LINE_MAX];
	long long ms = now_ms() - started_ms;
	va_list ap;
	size_t i;
	int n;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* One printable line: the module refuses anything else. */
	for (i = 0; text[i] != '\0'; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			text[i] = '?';
	if (code != CERTAUTH_FETCH_OK)
		fprintf(stderr, PROG ": %s\n", text);
	if (code != CERTAUTH_FETCH_OK)
		len = 0;
	n = snprintf(line, sizeof(line),
	    CERTAUTH_FETCH_MAGIC
	    " %d %lld %zu "
	    "%s\n",
	    code, ms < 0 ? 0 : ms, len, text);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    write_all(STDOUT_FILENO, (unsigned char *)line, (size_t)n) != 0 ||
	    (len > 0 && write_all(STDOUT_FILENO, body, len) != 0)) {
		fprintf(stderr, PROG ": cannot write the report: %s\n",
		    strerror(errno));
		return EXIT_INTERNAL;
	}
	return code;
}

/* All of stdin, 1..REQUEST_MAX bytes.  Returns 0, or an exit code after
 * reporting. */
static int
read_request(unsigned char *buf, size_t cap, size_t *lenp)
{
	size_t len = 0;
	ssize_t n;
	unsigned char extra;

	while (len < cap) {
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return report(CERTAUTH_FETCH_USAGE, NULL, 0,
			    "cannot read the request: %s", strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == cap) {
		/* One more byte tells "exactly cap" from "more than cap". */
		do {
			n = read(STDIN_FILENO, &extra, 1);
		} while (n < 0 && errno == EINTR);
		if (n != 0)
			return report(CERTAUTH_FETCH_USAGE, NULL, 0,
			    "the request is larger than %zu bytes", cap);
	}
	if (len == 0)
		return report(CERTAUTH_FETCH_USAGE, NULL, 0,
		    "empty request on stdin");
	*lenp = len;
	return 0;
}

/*
 * Keep the body in memory and print it only once the whole exchange has
 * succeeded, so a failed transfer never leaves a partial answer on
 * stdout.  Refusing here (returning other than n) aborts the transfer.
 */
static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;
	long status = 0;

	/* A 404 page or a redirect's body is not worth downloading. */
	if (curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &status) !=
		CURLE_OK ||
	    status != 200) {
		b->bad_status = 1;
		return 0;
	}
	if (n > sizeof(b->buf) - b->len) {
		b->too_big = 1;
		return 0;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	return n;
}

/* Restrict the URL and any redirect to plain and TLS HTTP. */
static CURLcode
set_protocols(CURL *curl)
{
	CURLcode rc;

#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0: the _STR options */
	if ((rc = curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR,
		 "http,https")) != CURLE_OK)
		return rc;
	rc = curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	if ((rc = curl_easy_setopt(curl, CURLOPT_PROTOCOLS,
		 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS))) != CURLE_OK)
		return rc;
	rc = curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	return rc;
}

/*
 * Every option that matters, set explicitly rather than left to a
 * default, so a reader can see the whole policy in one place.
 *
 * Left unset on purpose: CURLOPT_COOKIEFILE/COOKIEJAR (the cookie engine
 * stays off), CURLOPT_CAINFO/CAPATH (libcurl's built-in system CA store;
 * CURL_CA_BUNDLE is read by the curl tool, not by libcurl).  libcurl has
 * no option to turn off SSLKEYLOGFILE: it reads it from the environment,
 * which main() has emptied (and which the module passes empty anyway).
 */
static CURLcode
set_options(CURL *curl, const struct fetch_args *a, struct curl_slist *hdrs,
    const unsigned char *req, size_t reqlen, struct body *b, char *errbuf)
{
	CURLcode rc = CURLE_OK;

#define SET(opt, val) \
	do { \
		if ((rc = curl_easy_setopt(curl, opt, val)) != CURLE_OK) \
			return rc; \
	} while (0)

	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_URL, a->url);
	if ((rc = set_protocols(curl)) != CURLE_OK)
		return rc;
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* Timeouts without SIGALRM; the threaded resolver honours them. */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, a->timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, a->timeout_ms);
	/*
	 * An empty proxy string disables proxies even when http_proxy or
	 * all_proxy is set; NOPROXY "*" is the same rule said twice.  With
	 * --proxy, NOPROXY "" means the proxy is used for every host, whatever
	 * no_proxy says.
	 */
	if (a->proxy != NULL) {
		SET(CURLOPT_PROXY, a->proxy);
		SET(CURLOPT_NOPROXY, "");
	} else {
		SET(CURLOPT_PROXY, "");
		SET(CURLOPT_NOPROXY, "*");
	}
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	SET(CURLOPT_USERAGENT, PROG "/" PACKAGE_VERSION);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, req);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)reqlen);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CERTAUTH_OCSP_BODY_MAX);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, b);
#undef SET
	return rc;
}

/*
 * Failures that the network caused, as libcurl tells them: the only ones
 * ocsp=soft may tolerate.  Everything else (memory, set-up, a bad option,
 * an unreadable CA file) is this program's own.  A timeout is reported
 * apart (fetch()).
 */
static int
network_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_HTTP2_STREAM:
#if LIBCURL_VERSION_NUM >= 0x074900 /* 7.73.0 */
	case CURLE_PROXY:
#endif
		return 1;
	default:
		return 0;
	}
}

/* The exchange itself; returns an exit code after reporting. */
static int
fetch(const struct fetch_args *a, const unsigned char *req, size_t reqlen)
{
	CURL *curl = NULL;
	struct curl_slist *hdrs = NULL, *tmp;
	struct body *b = NULL;
	char errbuf[CURL_ERROR_SIZE];
	const char *why;
	long status = 0;
	CURLcode rc;
	int r = EXIT_INTERNAL;

	errbuf[0] = '\0';
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (curl = curl_easy_init()) == NULL) {
		r = report(EXIT_INTERNAL, NULL, 0, "cannot set up libcurl");
		goto out;
	}
	b->curl = curl;
	/* "Expect:" turns off 100-continue, which would cost a round trip. */
	if ((tmp = curl_slist_append(hdrs,
		 "Content-Type: application/ocsp-request")) == NULL ||
	    (hdrs = tmp,
		tmp = curl_slist_append(hdrs,
		    "Accept: application/ocsp-response")) == NULL ||
	    (hdrs = tmp, tmp = curl_slist_append(hdrs, "Expect:")) == NULL) {
		r = report(EXIT_INTERNAL, NULL, 0, "out of memory");
		goto out;
	}
	hdrs = tmp;
	if ((rc = set_options(curl, a, hdrs, req, reqlen, b, errbuf)) !=
	    CURLE_OK) {
		r = report(EXIT_INTERNAL, NULL, 0,
		    "cannot set libcurl "
		    "options: %s",
		    curl_easy_strerror(rc));
		goto out;
	}
	rc = curl_easy_perform(curl);
	(void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
	/* A status other than 200 wins over whatever broke afterwards. */
	if (b->bad_status || (status != 0 && status != 200)) {
		r = report(CERTAUTH_FETCH_HTTP, NULL, 0, "HTTP status %ld",
		    status);
		goto out;
	}
	if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		r = report(CERTAUTH_FETCH_TOO_BIG, NULL, 0,
		    "the answer is "
		    "larger than %d bytes",
		    CERTAUTH_OCSP_BODY_MAX);
		goto out;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		r = report(CERTAUTH_FETCH_TIMEOUT, NULL, 0, "%s", why);
		goto out;
	}
	if (rc != CURLE_OK) {
		r = report(network_error(rc) ? CERTAUTH_FETCH_UNREACHABLE :
					       EXIT_INTERNAL,
		    NULL, 0, "%s", why);
		goto out;
	}
	r = report(CERTAUTH_FETCH_OK, b->buf, b->len,
	    "HTTP status 200, %zu "
	    "bytes",
	    b->len);
out:
	curl_slist_free_all(hdrs);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	free(b);
	return r;
}

int
main(int argc, char **argv)
{
	struct fetch_args a;
	unsigned char *req = NULL;
	size_t reqlen = 0;
	int r = EXIT_INTERNAL;

	started_ms = now_ms();
	/*
	 * Nothing from the environment may steer this program: not
	 * http_proxy/all_proxy, not SSLKEYLOGFILE, not OPENSSL_CONF.  The
	 * module already passes an empty one; this covers a run by hand.
	 */
	if (clearenv() != 0)
		return report(EXIT_INTERNAL, NULL, 0,
		    "cannot clear the "
		    "environment");
	if (parse_args(argc, argv, &a) != 0)
		return report(CERTAUTH_FETCH_USAGE, NULL, 0, "%s", USAGE);
	if ((req = malloc(REQUEST_MAX)) == NULL) {
		r = report(EXIT_INTERNAL, NULL, 0, "out of memory");
		goto out;
	}
	if ((r = read_request(req, REQUEST_MAX, &reqlen)) != 0)
		goto out;
	r = EXIT_INTERNAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		r = report(EXIT_INTERNAL, NULL, 0, "cannot initialise libcurl");
		goto out;
	}
	r = fetch(&a, req, reqlen);
	curl_global_cleanup();
out:
	free(req);
	return r;
}
