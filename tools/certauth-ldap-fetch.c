/*
 * certauth-ldap-fetch - one LDAP lookup of an account's certificates for
 * pam_certauth.
 *
 *   certauth-ldap-fetch      (no arguments; the request on stdin)
 *
 * Reads one request (ldap_wire.h: URIs, base, filter template, user
 * name, attribute, CA file, StartTLS, bind DN and password, timeout),
 * searches the directory and writes one record to stdout: the outcome,
 * the time the lookup took by this program's own clock, and the values
 * of the attribute of the one matching entry.  The exit code is the
 * record's code too.
 *
 * The module starts this program with LDAPNOINIT=1 as its whole
 * environment (no ldap.conf or .ldaprc is read: every option is set
 * here), in a session of its own, as user nobody.  Each URI is tried in
 * turn while the ones before could not be reached; a TLS, bind or search
 * failure ends the lookup.  At most two entries are asked for, to tell
 * an ambiguous filter.  The whole lookup has the request's timeout: past
 * it, a timer writes a timeout record and ends this program, so a silent
 * or stopped server never holds it.
 *
 * This program is an untrusted transport: the module parses every value
 * as a certificate and checks every cap again.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <ldap.h>

#include "ldap_filter.h"
#include "ldap_wire.h"

#define PROG "certauth-ldap-fetch"
/* Ten minutes: far above any sane ldap_timeout_ms. */
#define TIMEOUT_MAX_MS 600000L

static long long started_ms;
/* The record the timer writes, made before the timer is armed. */
static char timeout_record[CERTAUTH_LDAP_LINE_MAX];
static size_t timeout_len;

struct lookup {
	struct certauth_ldap_request req;
	int tcp_up; /* a TCP connection was made (for ldaps://: TLS failed) */
	char *filter;
	long timeout_ms;
	int tls;
	/* the answer */
	int code;
	char text[CERTAUTH_LDAP_TEXT_MAX + 1];
	struct berval **vals; /* from one entry; count in nvals */
	size_t nvals;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
spent_ms(void)
{
	long long ms = now_ms() - started_ms;

	return ms < 0 ? 0 : ms > 999999999 ? 999999999 : ms;
}

static void
write_all(const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(STDOUT_FILENO, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* Set l's outcome; the text is made printable and cut to its cap. */
static int set_code(struct lookup *l, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
set_code(struct lookup *l, int code, const char *fmt, ...)
{
	va_list ap;
	char *p;

	l->code = code;
	va_start(ap, fmt);
	vsnprintf(l->text, sizeof(l->text), fmt, ap);
	va_end(ap);
	for (p = l->text; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	return code;
}

static void
on_timeout(int sig)
{
	(void)sig;
	write_all(timeout_record, timeout_len);
	_exit(CERTAUTH_LDAP_TIMEOUT);
}

/* The timer of the whole lookup; its record is made here, outside the
 * handler. */
static int
arm_timer(long ms)
{
	struct sigaction sa;
	struct itimerval it;
	int n;

	n = snprintf(timeout_record, sizeof(timeout_record),
	    CERTAUTH_LDAP_MAGIC " %d %ld 0 no answer within %ld ms\n",
	    CERTAUTH_LDAP_TIMEOUT, ms, ms);
	if (n < 0 || (size_t)n >= sizeof(timeout_record))
		return -1;
	timeout_len = (size_t)n;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_timeout;
	sigemptyset(&sa.sa_mask);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	if (sigaction(SIGALRM, &sa, NULL) != 0 ||
	    setitimer(ITIMER_REAL, &it, NULL) != 0)
		return -1;
	return 0;
}

/* No timer once the record is being written: one record only. */
static void
disarm_timer(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static void
emit(const struct lookup *l)
{
	char line[CERTAUTH_LDAP_LINE_MAX], len[16];
	size_t i, n = l->code == CERTAUTH_LDAP_FOUND ? l->nvals : 0;
	int k;

	disarm_timer();
	k = snprintf(line, sizeof(line),
	    CERTAUTH_LDAP_MAGIC " %d %lld %zu %s\n", l->code, spent_ms(), n,
	    l->text);
	if (k < 0 || (size_t)k >= sizeof(line))
		return;
	write_all(line, (size_t)k);
	for (i = 0; i < n; i++) {
		k = snprintf(len, sizeof(len), "%lu\n",
		    (unsigned long)l->vals[i]->bv_len);
		write_all(len, (size_t)k);
		write_all(l->vals[i]->bv_val, l->vals[i]->bv_len);
	}
}

/* The time left of the lookup as a timeval, at least a millisecond. */
static struct timeval
left_tv(const struct lookup *l)
{
	struct timeval tv;
	long long left = l->timeout_ms - spent_ms();

	if (left < 1)
		left = 1;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)((left % 1000) * 1000);
	return tv;
}

/* The diagnostic libldap or the server gave, or the code's text. */
static const char *
diagnostic(LDAP *ld, int rc, char *buf, size_t len)
{
	char *msg = NULL;

	if (ld != NULL &&
	    ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) ==
		LDAP_OPT_SUCCESS &&
	    msg != NULL && msg[0] != '\0' &&
	    strcmp(msg, "(unknown error code)") != 0)
		snprintf(buf, len, "%s (%s)", ldap_err2string(rc), msg);
	else
		snprintf(buf, len, "%s", ldap_err2string(rc));
	ldap_memfree(msg);
	return buf;
}

/* libldap calls this once a TCP connection is up, before any TLS. */
static int
on_connect(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
    struct ldap_conncb *ctx)
{
	(void)ld;
	(void)sb;
	(void)srv;
	(void)addr;
	((struct lookup *)ctx->lc_arg)->tcp_up = 1;
	return 0;
}

static void
on_close(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
	(void)ld;
	(void)sb;
	(void)ctx;
}

/* Every libldap option of one connection, none from files. */
static int
set_options(struct lookup *l, LDAP *ld)
{
	const int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND,
		  zero = 0, tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2,
		  deref = LDAP_DEREF_NEVER, size = CERTAUTH_LDAP_ENTRIES_ASKED;
	const char *ca = l->req.fields[CERTAUTH_LDAP_F_CA_FILE];
	struct timeval tv = left_tv(l);
	static struct ldap_conncb cb;

	cb.lc_add = on_connect;
	cb.lc_del = on_close;
	cb.lc_arg = l;
	if (ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &cb) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_OFF) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_DEREF, &deref) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_SIZELIMIT, &size) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != 0)
		return -1;
	if (ca[0] == '\0')
		return 0;
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, ca) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != 0)
		return -1;
	return 0;
}

static int
is_ldaps(const char *uri)
{
	return strncasecmp(uri, "ldaps://", 8) == 0;
}

/* Connected, over TLS unless the request says otherwise, and bound. */
static int
connect_bind(struct lookup *l, LDAP *ld, const char *uri)
{
	const char *dn = l->req.fields[CERTAUTH_LDAP_F_BIND_DN];
	const char *pw = l->req.fields[CERTAUTH_LDAP_F_PASSWORD];
	struct berval cred;
	char why[256];
	int rc;

	if ((rc = ldap_connect(ld)) != LDAP_SUCCESS) {
		if (rc == LDAP_TIMEOUT)
			return set_code(l, CERTAUTH_LDAP_TIMEOUT, "%s: %s", uri,
			    diagnostic(ld, rc, why, sizeof(why)));
		/* On ldaps://, a connection made and then lost is the TLS
		 * handshake's failure. */
		if (is_ldaps(uri) && l->tcp_up)
			return set_code(l, CERTAUTH_LDAP_TLS, "%s: TLS: %s",
			    uri, diagnostic(ld, rc, why, sizeof(why)));
		return set_code(l, CERTAUTH_LDAP_UNREACHABLE, "%s: %s", uri,
		    diagnostic(ld, rc, why, sizeof(why)));
	}
	if (!is_ldaps(uri) && l->tls &&
	    (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT)
			return set_code(l,
			    rc == LDAP_TIMEOUT ? CERTAUTH_LDAP_TIMEOUT :
						 CERTAUTH_LDAP_UNREACHABLE,
			    "%s: StartTLS: %s", uri,
			    diagnostic(ld, rc, why, sizeof(why)));
		return set_code(l, CERTAUTH_LDAP_TLS, "%s: StartTLS: %s", uri,
		    diagnostic(ld, rc, why, sizeof(why)));
	}
	if (dn[0] == '\0')
		return CERTAUTH_LDAP_FOUND;
	cred.bv_val = (char *)pw;
	cred.bv_len = strlen(pw);
	rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
	    NULL);
	if (rc == LDAP_SUCCESS)
		return CERTAUTH_LDAP_FOUND;
	if (rc == LDAP_SERVER_DOWN)
		return set_code(l, CERTAUTH_LDAP_UNREACHABLE, "%s: bind: %s",
		    uri, diagnostic(ld, rc, why, sizeof(why)));
	if (rc == LDAP_TIMEOUT)
		return set_code(l, CERTAUTH_LDAP_TIMEOUT, "%s: bind: %s", uri,
		    diagnostic(ld, rc, why, sizeof(why)));
	return set_code(l, CERTAUTH_LDAP_BIND, "%s: bind as %.80s: %s", uri, dn,
	    diagnostic(ld, rc, why, sizeof(why)));
}

/* The values of the attribute in the one entry res holds. */
static int
take_values(struct lookup *l, LDAP *ld, LDAPMessage *res, const char *uri)
{
	const char *attr = l->req.fields[CERTAUTH_LDAP_F_ATTR];
	LDAPMessage *e = ldap_first_entry(ld, res);
	BerElement *ber = NULL;
	char *a;
	size_t n;

	for (a = ldap_first_attribute(ld, e, &ber); a != NULL;
	     a = ldap_next_attribute(ld, e, ber)) {
		if (l->vals == NULL && strcasecmp(a, attr) == 0)
			l->vals = ldap_get_values_len(ld, e, a);
		ldap_memfree(a);
	}
	ber_free(ber, 0);
	if (l->vals == NULL ||
	    (n = (size_t)ldap_count_values_len(l->vals)) == 0)
		return set_code(l, CERTAUTH_LDAP_NOT_FOUND,
		    "the entry has no %.80s", attr);
	if (n > CERTAUTH_LDAP_CERTS_MAX)
		return set_code(l, CERTAUTH_LDAP_TOO_BIG,
		    "the entry has %zu values of %.80s, over %d", n, attr,
		    CERTAUTH_LDAP_CERTS_MAX);
	for (l->nvals = 0; l->nvals < n; l->nvals++)
		if (l->vals[l->nvals]->bv_len > CERTAUTH_LDAP_CERT_MAX)
			return set_code(l, CERTAUTH_LDAP_TOO_BIG,
			    "a value of %.80s has %lu bytes, over %d", attr,
			    (unsigned long)l->vals[l->nvals]->bv_len,
			    CERTAUTH_LDAP_CERT_MAX);
	return set_code(l, CERTAUTH_LDAP_FOUND, "%s", uri);
}

/* The search, and what its answer means. */
static int
search(struct lookup *l, LDAP *ld, const char *uri)
{
	char *attrs[2] = { (char *)l->req.fields[CERTAUTH_LDAP_F_ATTR], NULL };
	LDAPMessage *res = NULL;
	struct timeval tv = left_tv(l);
	char why[256];
	int rc, n;

	rc = ldap_search_ext_s(ld, l->req.fields[CERTAUTH_LDAP_F_BASE],
	    LDAP_SCOPE_SUBTREE, l->filter, attrs, 0, NULL, NULL, &tv,
	    CERTAUTH_LDAP_ENTRIES_ASKED, &res);
	n = res != NULL ? ldap_count_entries(ld, res) : 0;
	if (rc == LDAP_SIZELIMIT_EXCEEDED || n > 1)
		set_code(l, CERTAUTH_LDAP_AMBIGUOUS,
		    "more than one entry matches %.200s", l->filter);
	else if (rc == LDAP_SERVER_DOWN)
		set_code(l, CERTAUTH_LDAP_UNREACHABLE, "%s: search: %s", uri,
		    diagnostic(ld, rc, why, sizeof(why)));
	else if (rc == LDAP_TIMEOUT || rc == LDAP_TIMELIMIT_EXCEEDED)
		set_code(l, CERTAUTH_LDAP_TIMEOUT, "%s: search: %s", uri,
		    diagnostic(ld, rc, why, sizeof(why)));
	else if (rc != LDAP_SUCCESS)
		set_code(l, CERTAUTH_LDAP_REFUSED, "%s: search: %s", uri,
		    diagnostic(ld, rc, why, sizeof(why)));
	else if (n == 0)
		set_code(l, CERTAUTH_LDAP_NOT_FOUND, "no entry matches %.200s",
		    l->filter);
	else
		take_values(l, ld, res, uri);
	ldap_msgfree(res);
	return l->code;
}

/* One URI: connect, bind, search.  Returns the outcome's code. */
static int
try_uri(struct lookup *l, const char *uri)
{
	LDAP *ld = NULL;
	int rc;

	/* ldaps:// is verified against the request's CA file alone. */
	if (is_ldaps(uri) && l->req.fields[CERTAUTH_LDAP_F_CA_FILE][0] != '/')
		return set_code(l, CERTAUTH_LDAP_USAGE,
		    "%.200s without a CA file", uri);
	l->tcp_up = 0;
	if ((rc = ldap_initialize(&ld, uri)) != LDAP_SUCCESS || ld == NULL)
		return set_code(l, CERTAUTH_LDAP_USAGE, "bad URI %.200s: %s",
		    uri, ldap_err2string(rc));
	if (set_options(l, ld) != 0)
		set_code(l, CERTAUTH_LDAP_LOCAL,
		    "cannot set the options of "
		    "libldap for %.200s",
		    uri);
	else if (connect_bind(l, ld, uri) == CERTAUTH_LDAP_FOUND)
		search(l, ld, uri);
	/* The values live on; the connection does not. */
	ldap_unbind_ext_s(ld, NULL, NULL);
	return l->code;
}

/* Each URI in turn while the ones before were unreachable. */
static void
lookup_all(struct lookup *l)
{
	char *uris = strdup(l->req.fields[CERTAUTH_LDAP_F_URIS]), *uri, *save;

	if (uris == NULL) {
		set_code(l, CERTAUTH_LDAP_LOCAL, "out of memory");
		return;
	}
	set_code(l, CERTAUTH_LDAP_USAGE, "no URI");
	for (uri = strtok_r(uris, ",", &save); uri != NULL;
	     uri = strtok_r(NULL, ",", &save))
		if (try_uri(l, uri) != CERTAUTH_LDAP_UNREACHABLE)
			break;
	free(uris);
}

/* The whole of stdin, at most the request's cap. */
static int
read_request(unsigned char *buf, size_t max, size_t *len)
{
	ssize_t n;

	*len = 0;
	for (;;) {
		n = read(STDIN_FILENO, buf + *len, max + 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len > max)
			return -1;
	}
}

/* The request checked: 0, or the code with l's text set. */
static int
check_request(struct lookup *l)
{
	const char *tls = l->req.fields[CERTAUTH_LDAP_F_TLS];
	const char *ms = l->req.fields[CERTAUTH_LDAP_F_TIMEOUT_MS];
	char *end = NULL;
	int r;

	errno = 0;
	l->timeout_ms = strtol(ms, &end, 10);
	if (ms[0] < '0' || ms[0] > '9' || errno != 0 || *end != '\0' ||
	    l->timeout_ms < 1 || l->timeout_ms > TIMEOUT_MAX_MS)
		return set_code(l, CERTAUTH_LDAP_USAGE, "bad timeout");
	if (strcmp(tls, "0") != 0 && strcmp(tls, "1") != 0)
		return set_code(l, CERTAUTH_LDAP_USAGE, "bad TLS flag");
	l->tls = tls[0] == '1';
	if (l->tls && l->req.fields[CERTAUTH_LDAP_F_CA_FILE][0] != '/')
		return set_code(l, CERTAUTH_LDAP_USAGE,
		    "TLS without an absolute CA file");
	r = certauth_ldap_filter_build(l->req.fields[CERTAUTH_LDAP_F_FILTER],
	    l->req.fields[CERTAUTH_LDAP_F_USER], &l->filter);
	if (r == -2)
		return set_code(l, CERTAUTH_LDAP_LOCAL, "out of memory");
	if (r != 0)
		return set_code(l, CERTAUTH_LDAP_USAGE, "bad filter template");
	return 0;
}

int
main(int argc, char **argv)
{
	static unsigned char buf[CERTAUTH_LDAP_REQUEST_MAX + 1];
	struct lookup l;
	size_t len = 0;

	(void)argv;
	started_ms = now_ms();
	memset(&l, 0, sizeof(l));
	if (argc != 1) {
		set_code(&l, CERTAUTH_LDAP_USAGE,
		    "usage: " PROG " (the request on stdin)");
		goto out;
	}
	if (read_request(buf, CERTAUTH_LDAP_REQUEST_MAX, &len) != 0 ||
	    certauth_ldap_request_decode(buf, len, &l.req) != 0) {
		set_code(&l, CERTAUTH_LDAP_USAGE, "malformed request");
		goto out;
	}
	if (check_request(&l) != 0)
		goto out;
	/* libldap starts Cyrus SASL at its first use, which loads every
	 * plugin of the system's directory (and libcrypto and Berkeley DB
	 * with them): about 2 ms of each lookup, for binds this program
	 * never makes (simple or anonymous only). */
	if (setenv("SASL_PATH", "/nonexistent", 1) != 0) {
		set_code(&l, CERTAUTH_LDAP_LOCAL, "cannot set SASL_PATH");
		goto out;
	}
	if (arm_timer(l.timeout_ms) != 0) {
		set_code(&l, CERTAUTH_LDAP_LOCAL, "cannot set a timer");
		goto out;
	}
	lookup_all(&l);
out:
	emit(&l);
	explicit_bzero(buf, sizeof(buf));
	ldap_value_free_len(l.vals);
	free(l.filter);
	return l.code;
}
