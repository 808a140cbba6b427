/*
 * fault_login.c - one complete, otherwise successful login through the
 * built module and libpam, with every injectable call of pam_authenticate
 * made to fail in turn (fault_shim.h).
 *
 * The login: trust=ca with a root and an intermediate CA, a CRL file with
 * both CAs' CRLs and crl=chain, a bindings file of two certificates, a
 * configuration file, and a conversation that signs in-process.
 *
 * It runs in two passes, each in fresh children forked from a parent that
 * never loads the module:
 * - cold: the child's login is the first of its process, so every trust
 *   file and the bindings file is parsed and handed to the module's parse
 *   cache (parse_cache.h);
 * - warm: the child first runs one whole login unarmed and unharmed
 *   (pam_start_confdir, pam_authenticate, pam_end), which fills the
 *   cache, then the armed one, which finds every file's unchanged bytes in
 *   the cache: the path a long-lived host (one process, many logins)
 *   takes.
 * In each pass the armed login first runs unharmed and must succeed; that
 * run counts the calls (N) and is the pass's baseline.  The warm baseline
 * must log the cold one's success line and make fewer injectable calls
 * than the cold one (the evidence that the cache is used).  Then for
 * k = 1..N a fresh child runs the same pass with call k of the armed login
 * failing, and must not crash or hang, must not answer PAM_SUCCESS or
 * PAM_IGNORE, and the module must have said why in syslog.  The
 * exceptions, each checked as narrowly as judge() can, are explained
 * there: a fault inside the logger itself (libpam's pam_vsyslog, which
 * then logs its own "asprintf" complaint instead of the lost line), an
 * allocation a library recovers from by itself with the very same login
 * as a result (most are in OpenSSL's key decoding while certificates are
 * parsed), an allocation while the parse cache remembers a parse
 * (certauth_cache_put on the stack, its range read from the module's
 * symbol table with nm at start: the test bails out without it), which
 * only costs a later login a parse and must leave this login exactly the
 * unharmed one, and the subject of the success line printed as "?".
 *
 * Output is TAP: for each pass its baseline and one test per kind of
 * call, named "cold ..." and "warm ..."; every failing site is a diag line
 * naming the call and its callers up to the module, and each pass ends in
 * diag lines summing up its sites, verdicts and seconds.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <security/pam_appl.h>

#include "fault_shim.h"
#include "testutil.h"

#define SERVICE		"certauth-fault"
#define MODULE_LINE	"pam_certauth(" SERVICE ":auth): "
#define CHILD_SECONDS	20
#define SHOW_MAX	40	/* diag lines per kind and verdict */
#define CACHE_PUT	"certauth_cache_put"

struct fixture {
	char *dir, *confdir;
	const char *user;
	EVP_PKEY *key;
};

/* Shared with the children. */
struct shared {
	int pam_result;
	int reached;		/* 1: pam_authenticate returned */
	struct fault_record rec;
};

/* How one faulted login ended. */
enum verdict {
	V_REFUSED,	/* not PAM_SUCCESS/IGNORE, and a reason in syslog */
	V_LOGGER,	/* the fault was in the logger; the login succeeded */
	V_ABSORBED,	/* a library's own allocation failed and the library
			 * recovered: the very login of the unharmed run */
	V_UNCACHED,	/* an allocation under certauth_cache_put failed:
			 * the parse is not remembered; the login is the
			 * unharmed run's, its log byte for byte */
	V_UNNAMED,	/* the same login, but its certificate's subject
			 * could not be printed for the log line ("?") */
	V_NO_REASON,	/* refused, but the module logged no reason */
	V_SUCCESS,	/* PAM_SUCCESS or PAM_IGNORE although a call failed */
	V_CRASH,	/* killed by a signal (or the watchdog) */
	V_NOT_FIRED,	/* the k-th call never came */
	V_NVERDICTS
};

static const char *verdict_names[V_NVERDICTS] = {
	"refused with a reason", "logger fault (login unaffected)",
	"absorbed in a library (login unaffected)",
	"not remembered by the parse cache (login unaffected)",
	"subject logged as '?' (login unaffected)",
	"refused WITHOUT a syslog reason", "WRONG SUCCESS", "CRASH",
	"fault not reached"
};

/* ------------------------------------------------------------ fixture */

static void
write_crls(const char *path, X509_CRL **crls, int n)
{
	FILE *f;
	int i;

	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	for (i = 0; i < n; i++)
		if (!PEM_write_X509_CRL(f, crls[i]))
			exit(1);
	if (fclose(f) != 0 || chmod(path, 0644) != 0)
		exit(1);
}

static char *
xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		exit(1);
	va_end(ap);
	return s;
}

static int
setup(struct fixture *f)
{
	struct tu_cert_opts root_opts = { "Fault Root CA", -1, 3650, 1, NULL,
	    NULL, 0 };
	struct tu_cert_opts int_opts = { "Fault Intermediate CA", -1, 3650, 1,
	    NULL, NULL, 0 };
	struct tu_cert_opts user_opts = { "fault user", -1, 365, 0,
	    "critical,digitalSignature", "clientAuth", 0 };
	struct tu_cert_opts old_opts = { "fault user (revoked)", -1, 365, 0,
	    "critical,digitalSignature", "clientAuth", 0 };
	struct passwd *pw = getpwuid(geteuid());
	EVP_PKEY *root_key, *int_key, *old_key;
	X509 *root, *inter, *leaf, *old, *bound[2];
	X509_CRL *crls[2];
	char *p, *text;

	if (pw == NULL || (f->dir = tu_safe_tmpdir()) == NULL)
		return -1;
	f->user = strdup(pw->pw_name);
	f->confdir = tu_path(f->dir, "pam.d");
	if (mkdir(f->confdir, 0755) != 0)
		return -1;
	p = tu_path(f->dir, "bindings");
	if (mkdir(p, 0755) != 0)
		return -1;
	free(p);

	root_key = tu_keygen("ED25519");
	int_key = tu_keygen("ED25519");
	old_key = tu_keygen("ED25519");
	f->key = tu_keygen("ED25519");
	root = tu_make_cert(root_key, &root_opts, NULL, NULL);
	inter = tu_make_cert(int_key, &int_opts, root, root_key);
	leaf = tu_make_cert(f->key, &user_opts, inter, int_key);
	old = tu_make_cert(old_key, &old_opts, inter, int_key);
	crls[0] = tu_make_crl(root, root_key, NULL, 0);
	crls[1] = tu_make_crl(inter, int_key, &old, 1);

	p = tu_path(f->dir, "ca.pem");
	tu_write_certs(p, &root, 1, 0644);
	free(p);
	p = tu_path(f->dir, "chain.pem");
	tu_write_certs(p, &inter, 1, 0644);
	free(p);
	p = tu_path(f->dir, "crl.pem");
	write_crls(p, crls, 2);
	free(p);
	/* two bound certificates: the first does not verify the answer */
	bound[0] = old;
	bound[1] = leaf;
	p = xasprintf("%s/bindings/%s", f->dir, f->user);
	tu_write_certs(p, bound, 2, 0644);
	free(p);

	p = tu_path(f->dir, "pam_certauth.conf");
	text = xasprintf("# fault injection\ntrust = ca\n"
	    "ca_file = %s/ca.pem\nchain_file = %s/chain.pem\n"
	    "crl_file = %s/crl.pem\ncrl = chain\nchallenge_ttl = 120\n",
	    f->dir, f->dir, f->dir);
	tu_write_file(p, text, 0644);
	free(text);
	free(p);
	p = tu_path(f->confdir, SERVICE);
	/* nodelay: most of the thousands of runs fail, none should wait. */
	text = xasprintf("auth required %s config=%s/pam_certauth.conf "
	    "bindings_dir=%s/bindings hostname=fault-host nodelay\n",
	    MODULE_PATH, f->dir, f->dir);
	tu_write_file(p, text, 0644);
	free(text);
	free(p);

	X509_CRL_free(crls[0]);
	X509_CRL_free(crls[1]);
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	X509_free(old);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(old_key);
	return 0;
}

/* ------------------------------------------------------------ one login */

/*
 * The application's side, not under test: its work runs held.  The
 * challenge line is signed; every other message gets an empty answer.
 */
static int
conversation(int n, const struct pam_message **msg, struct pam_response **resp,
    void *arg)
{
	EVP_PKEY *key = arg;
	struct pam_response *r;
	char challenge[512] = "";
	const char *c;
	int i, rc = PAM_CONV_ERR;

	fault_hold(1);
	if (n <= 0 || (r = calloc((size_t)n, sizeof(*r))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_TEXT_INFO &&
		    (c = strstr(msg[i]->msg, "certauth:v1:")) != NULL)
			snprintf(challenge, sizeof(challenge), "%s", c);
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON &&
		    challenge[0] != '\0')
			r[i].resp = tu_sign_b64(key, NULL, 0, challenge);
	}
	*resp = r;
	rc = PAM_SUCCESS;
 out:
	fault_hold(0);
	return rc;
}

/*
 * The application's delay after a failure, instead of libpam's sleep: a
 * fault before the module has read its nodelay option still asks for the
 * delay (by design), and thousands of runs should not sleep through it.
 */
static void
no_delay(int status, unsigned int usec, void *appdata)
{
	(void)status;
	(void)usec;
	(void)appdata;
}

/* pam_start_confdir, with the application's delay function set. */
static int
start(struct fixture *f, const struct pam_conv *conv, pam_handle_t **pamh)
{
	void (*fn)(int, unsigned int, void *) = no_delay;
	const void *item;
	int r;

	if ((r = pam_start_confdir(SERVICE, f->user, conv, f->confdir,
	    pamh)) != PAM_SUCCESS)
		return r;
	memcpy(&item, &fn, sizeof(item));
	if ((r = pam_set_item(*pamh, PAM_FAIL_DELAY, item)) != PAM_SUCCESS) {
		pam_end(*pamh, r);
		*pamh = NULL;
	}
	return r;
}

/* A whole login, unarmed: what fills the parse cache for the warm pass. */
static int
login_unarmed(struct fixture *f)
{
	struct pam_conv conv = { conversation, f->key };
	pam_handle_t *pamh = NULL;
	int r;

	if ((r = start(f, &conv, &pamh)) != PAM_SUCCESS)
		return r;
	r = pam_authenticate(pamh, 0);
	pam_end(pamh, r);
	return r;
}

/* Exit statuses of a child that did not get to the armed login. */
#define EXIT_START	2	/* pam_start_confdir or pam_set_item failed */
#define EXIT_WARM_UP	3	/* the warm pass's first login failed */

static void
child(struct fixture *f, struct shared *sh, long fail_at, int warm)
{
	struct pam_conv conv = { conversation, f->key };
	pam_handle_t *pamh = NULL;
	int r;

	alarm(CHILD_SECONDS);
	if (warm && login_unarmed(f) != PAM_SUCCESS)
		_exit(EXIT_WARM_UP);
	if (start(f, &conv, &pamh) != PAM_SUCCESS)
		_exit(EXIT_START);
	fault_arm(fail_at);
	r = pam_authenticate(pamh, 0);
	fault_disarm();
	sh->pam_result = r;
	sh->reached = 1;
	pam_end(pamh, r);
	_exit(0);
}

/*
 * Run one login in a fresh child (warm: after a first, unarmed one);
 * returns its wait status.
 */
static int
run_login(struct fixture *f, struct shared *sh, long fail_at, int warm)
{
	pid_t pid;
	int status;

	sh->pam_result = -1;
	sh->reached = 0;
	sh->rec.loglen = 0;
	sh->rec.log[0] = '\0';
	sh->rec.fired = 0;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0)
		child(f, sh, fail_at, warm);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			exit(1);
		}
	}
	return status;
}

/*
 * Did the module log why?  A line of its own at LOG_NOTICE or worse whose
 * text does not stop short after a colon ("configuration error: ").
 */
static int
module_reason(const struct fault_record *rec)
{
	const char *p = rec->log + rec->log_armed_at, *nl, *text;
	int prio;
	size_t len;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		prio = atoi(p);
		if ((text = strstr(p, MODULE_LINE)) == NULL || text > nl)
			continue;
		text += strlen(MODULE_LINE);
		len = (size_t)(nl - text);
		if (prio > LOG_NOTICE || len == 0)
			continue;
		if (len >= 2 && text[len - 2] == ':' && text[len - 1] == ' ')
			continue;
		if (text[len - 1] == ':')
			continue;
		return 1;
	}
	return 0;
}

/* Anything logged while armed: libpam's own complaints count here. */
static int
any_line(const struct fault_record *rec)
{
	return rec->loglen > rec->log_armed_at;
}

/* A function of the module: offsets [start, start + size), as nm -S. */
struct func_range {
	unsigned long start, size;
};

/*
 * The range of the module's function name, from the symbol table of the
 * module under test (the built one keeps its local symbols).  -1 unless
 * nm runs and lists exactly one function (t or T) of that name with a
 * nonzero size.
 */
static int
module_function(const char *name, struct func_range *out)
{
	char line[1024], *tok[5], *save = NULL, *t;
	FILE *p;
	int found = 0, bad = 0, n;

	fflush(stdout);
	if ((p = popen("nm -S --defined-only '" MODULE_PATH "'", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL) {
		/* "start size type name": only lines with all four fields */
		n = 0;
		for (t = strtok_r(line, " \t\n", &save); t != NULL && n < 5;
		    t = strtok_r(NULL, " \t\n", &save))
			tok[n++] = t;
		if (n != 4 || strcmp(tok[3], name) != 0)
			continue;
		if (strcmp(tok[2], "t") != 0 && strcmp(tok[2], "T") != 0) {
			bad = 1;
			continue;
		}
		out->start = strtoul(tok[0], NULL, 16);
		out->size = strtoul(tok[1], NULL, 16);
		found++;
	}
	if (pclose(p) != 0 || bad || found != 1 || out->size == 0)
		return -1;
	return 0;
}

/* Is a frame of the function r on the stack of the failed call? */
static int
under_function(const struct fault_record *rec, const struct func_range *r)
{
	int i;

	for (i = 0; i < rec->module_nframes; i++)
		if (rec->module_frame[i] - r->start < r->size)
			return 1;
	return 0;
}

/* What a pass's unharmed login gave, for judging its faulted ones. */
struct baseline {
	long n;			/* injectable calls */
	unsigned char *kinds;	/* [1..n]: the kind of each call */
	char good_line[1024];	/* its success line */
	char unnamed_line[1024];/* the same with the subject as "?" */
	char *log;		/* all it logged from arming on */
};

/*
 * The rules, strictest first.  A failed call must end in a refusal with
 * a reason from the module, except:
 * - a fault inside pam_syslog (the logger): the login may succeed;
 * - a call libpam makes outside the module (its dispatch, its audit
 *   record): libpam's own syslog line is the reason;
 * - an allocation (malloc family, nothing else) with a frame of
 *   certauth_cache_put on the stack (its own calls to malloc and strdup,
 *   and what it calls to take references, parsed_copy and libcrypto's
 *   stack functions, but not the same copy made for certauth_cache_get):
 *   the cache then does not remember this parse, which costs a later
 *   login a parse and nothing else.  Success is allowed only when it is
 *   PAM_SUCCESS and everything logged from arming on is the unharmed
 *   run's, byte for byte.  A fault under certauth_cache_put is judged by
 *   this rule alone, never by the two below;
 * - an allocation that a library (libcrypto, libc, libpam) makes inside
 *   a call from the module and recovers from itself: success is allowed
 *   only when it is the unharmed run's success, line for line.  The
 *   module's own malloc/calloc/realloc and every failed open, read or
 *   random call get no such allowance;
 * - an allocation made while the success line is put together, to print
 *   the certificate's subject (certauth_name_string): by design the
 *   subject then reads "?", and the line is otherwise the unharmed one.
 */
static int
judge(const struct shared *sh, int status, const struct baseline *b,
    const struct func_range *put)
{
	const struct fault_record *rec = &sh->rec;
	int success;

	if (WIFSIGNALED(status) || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || !sh->reached)
		return V_CRASH;
	if (!rec->fired)
		return V_NOT_FIRED;
	success = sh->pam_result == PAM_SUCCESS ||
	    sh->pam_result == PAM_IGNORE;
	if (rec->fired_in_log && sh->pam_result == PAM_SUCCESS)
		return V_LOGGER;
	if (!success) {
		if (!rec->fired_in_module || rec->fired_in_log)
			return any_line(rec) ? V_REFUSED : V_NO_REASON;
		return module_reason(rec) ? V_REFUSED : V_NO_REASON;
	}
	if (under_function(rec, put)) {
		if (sh->pam_result == PAM_SUCCESS &&
		    rec->fired_kind == FAULT_ALLOC &&
		    strcmp(rec->log + rec->log_armed_at, b->log) == 0)
			return V_UNCACHED;
		return V_SUCCESS;
	}
	if (sh->pam_result == PAM_SUCCESS && rec->fired_kind == FAULT_ALLOC &&
	    strcmp(rec->fired_caller, "pam_certauth.so") != 0 &&
	    strstr(rec->log + rec->log_armed_at, b->good_line) != NULL)
		return V_ABSORBED;
	if (sh->pam_result == PAM_SUCCESS && rec->fired_kind == FAULT_ALLOC &&
	    strstr(rec->log + rec->log_armed_at, b->unnamed_line) != NULL)
		return V_UNNAMED;
	return V_SUCCESS;
}

/* The last line the module (or libpam for it) logged, for diag lines. */
static void
last_line(const struct fault_record *rec, char *buf, size_t len)
{
	const char *p = rec->log, *nl, *last = NULL, *mod = NULL;
	size_t n;

	for (p += rec->log_armed_at; (nl = strchr(p, '\n')) != NULL;
	    p = nl + 1) {
		last = p;
		if (strstr(p, MODULE_LINE) != NULL &&
		    strstr(p, MODULE_LINE) < nl)
			mod = p;
	}
	if (mod != NULL)
		last = mod;
	if (last == NULL) {
		snprintf(buf, len, "(nothing logged)");
		return;
	}
	n = (size_t)(strchr(last, '\n') - last);
	snprintf(buf, len, "%.*s", (int)n, last);
}

static void
describe(const char *pass, const char *tag, long k, const struct shared *sh,
    int status)
{
	char line[600];

	last_line(&sh->rec, line, sizeof(line));
	printf("# %s %s site %ld: %s (%s) in %s\n", pass, tag, k,
	    sh->rec.fired_call, fault_kind_name(sh->rec.fired_kind),
	    sh->rec.fired_site);
	if (WIFSIGNALED(status))
		printf("#   killed by signal %d\n", WTERMSIG(status));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("#   child exited with status %d%s\n",
		    WEXITSTATUS(status), WEXITSTATUS(status) == EXIT_WARM_UP ?
		    " (its first, unarmed login did not succeed)" :
		    WEXITSTATUS(status) == EXIT_START ?
		    " (pam_start_confdir or pam_set_item failed)" : "");
	else
		printf("#   pam_authenticate: %d (%s); syslog: %s\n",
		    sh->pam_result, sh->pam_result >= 0 ?
		    pam_strerror(NULL, sh->pam_result) : "-", line);
}

/* Everything recorded, one diag line each. */
static void
print_log(const struct fault_record *rec)
{
	const char *p, *nl;

	for (p = rec->log; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		printf("#   | %.*s\n", (int)(nl - p), p);
}

/* ------------------------------------------------------------ main */

/* Where faults were let pass: the library call the module made. */
struct tally {
	char name[128];
	long n;
};
#define TALLY_MAX	256

static void
tally_add(struct tally *t, size_t *nt, const char *name)
{
	size_t i;

	for (i = 0; i < *nt; i++) {
		if (strcmp(t[i].name, name) == 0) {
			t[i].n++;
			return;
		}
	}
	if (*nt == TALLY_MAX)
		return;
	snprintf(t[*nt].name, sizeof(t[*nt].name), "%s", name);
	t[(*nt)++].n = 1;
}

/*
 * The unharmed run's success line, without its priority, and the same
 * line with the subject as "?" (both end in a newline).
 */
static int
success_line(const struct fault_record *rec, char *buf, size_t len,
    char *unnamed, size_t ulen)
{
	const char *p = strstr(rec->log, MODULE_LINE "user "), *nl, *fp, *sp;

	if (p == NULL || (nl = strchr(p, '\n')) == NULL ||
	    strstr(p, "authenticated with certificate") == NULL ||
	    (fp = strstr(p, " SHA256:")) == NULL || fp > nl ||
	    (sp = strchr(fp + 1, ' ')) == NULL || sp > nl)
		return -1;
	snprintf(buf, len, "%.*s", (int)(nl + 1 - p), p);
	snprintf(unnamed, ulen, "%.*s ?\n", (int)(sp - p), p);
	return 0;
}

/* One pass: its baseline, then every site of it failed in turn. */
struct pass {
	const char *name;	/* "cold", "warm" */
	int warm;		/* each child logs in once before the test */
	struct baseline b;
	long counts[FAULT_NKINDS][V_NVERDICTS], sites[FAULT_NKINDS];
	long inlog;		/* sites inside the logger */
	struct tally absorbed[TALLY_MAX], uncached[TALLY_MAX];
	size_t nabsorbed, nuncached;
	double seconds;
};

static double
seconds_since(const struct timeval *t0)
{
	struct timeval t1;

	gettimeofday(&t1, NULL);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_usec - t0->tv_usec) / 1e6;
}

/*
 * The pass's unharmed login: it must succeed and be logged; a warm one
 * must also log the cold one's success line and make fewer injectable
 * calls than the cold one did.  One TAP line; -1 when it is not ok.
 */
static int
baseline(struct fixture *f, struct shared *sh, struct pass *p,
    const struct pass *cold, int test)
{
	struct baseline *b = &p->b;
	int status, ok;
	long k;

	status = run_login(f, sh, 0, p->warm);
	b->n = sh->rec.calls;
	ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->reached &&
	    sh->pam_result == PAM_SUCCESS && b->n > 0 &&
	    b->n < FAULT_MAX_CALLS && success_line(&sh->rec, b->good_line,
	    sizeof(b->good_line), b->unnamed_line,
	    sizeof(b->unnamed_line)) == 0;
	if (cold == NULL) {
		printf("%s %d - cold: unharmed login, the first of its "
		    "process, succeeds and is logged (%ld injectable calls)\n",
		    ok ? "ok" : "not ok", test, b->n);
	} else {
		int same = ok && strcmp(b->good_line, cold->b.good_line) == 0,
		    fewer = b->n < cold->b.n;

		printf("%s %d - warm: unharmed login after a first one in the "
		    "same process succeeds, is logged as the cold one, and "
		    "makes fewer injectable calls (%ld; cold: %ld)\n",
		    same && fewer ? "ok" : "not ok", test, b->n, cold->b.n);
		if (ok && !same)
			printf("# its success line is not the cold one's: %s",
			    b->good_line);
		if (ok && !fewer)
			printf("# not fewer calls: the parse cache was not "
			    "used\n");
		ok = same && fewer;
	}
	if (!ok) {
		describe(p->name, "baseline", 0, sh, status);
		print_log(&sh->rec);
		return -1;
	}
	if ((b->kinds = malloc((size_t)b->n + 1)) == NULL ||
	    (b->log = strdup(sh->rec.log + sh->rec.log_armed_at)) == NULL) {
		perror("malloc");
		exit(1);
	}
	memcpy(b->kinds, sh->rec.kind, (size_t)b->n + 1);
	for (k = 1; k <= b->n; k++) {
		p->sites[b->kinds[k] & 0x7f]++;
		p->inlog += (b->kinds[k] & 0x80) != 0;
	}
	return 0;
}

/* Runs the pass, prints its TAP lines from *test on; -1: stop here. */
static int
run_pass(struct fixture *f, struct shared *sh, struct pass *p,
    const struct pass *cold, const struct func_range *put, int *test)
{
	const struct baseline *b = &p->b;
	struct timeval t0;
	long k;
	int status, i, v, bad;

	gettimeofday(&t0, NULL);
	if (baseline(f, sh, p, cold, (*test)++) != 0)
		return -1;
	for (k = 1; k <= b->n; k++) {
		int kind = b->kinds[k] & 0x7f;

		status = run_login(f, sh, k, p->warm);
		v = judge(sh, status, b, put);
		if (sh->rec.fired && sh->rec.fired_kind != kind)
			v = V_NOT_FIRED;	/* the run took another path */
		p->counts[kind][v]++;
		if (v == V_ABSORBED)
			tally_add(p->absorbed, &p->nabsorbed,
			    sh->rec.fired_entry[0] != '\0' ?
			    sh->rec.fired_entry :
			    "(libpam, outside the module)");
		if (v == V_UNCACHED)
			tally_add(p->uncached, &p->nuncached,
			    sh->rec.fired_entry[0] != '\0' ?
			    sh->rec.fired_entry :
			    "the module's own call");
		if (v != V_REFUSED && v != V_ABSORBED && v != V_UNCACHED &&
		    v != V_UNNAMED && p->counts[kind][v] <= SHOW_MAX) {
			describe(p->name, verdict_names[v], k, sh, status);
			if (v == V_SUCCESS && under_function(&sh->rec, put))
				printf("#   under " CACHE_PUT ", but not the "
				    "unharmed login's log byte for byte\n");
		}
	}

	for (i = 0; i < FAULT_NKINDS; i++) {
		bad = p->counts[i][V_NO_REASON] + p->counts[i][V_SUCCESS] +
		    p->counts[i][V_CRASH] + p->counts[i][V_NOT_FIRED] != 0;
		printf("%s %d - %s %s: %ld sites; %ld refused with a reason, "
		    "login unaffected: %ld logger faults, %ld absorbed by a "
		    "library, %ld not remembered by the parse cache, %ld "
		    "subject as '?'; %ld without a reason, %ld wrong "
		    "successes, %ld crashes, %ld not reached\n",
		    bad ? "not ok" : "ok", (*test)++, p->name,
		    fault_kind_name(i), p->sites[i], p->counts[i][V_REFUSED],
		    p->counts[i][V_LOGGER], p->counts[i][V_ABSORBED],
		    p->counts[i][V_UNCACHED], p->counts[i][V_UNNAMED],
		    p->counts[i][V_NO_REASON], p->counts[i][V_SUCCESS],
		    p->counts[i][V_CRASH], p->counts[i][V_NOT_FIRED]);
	}
	for (i = 0; i < (int)p->nabsorbed; i++)
		printf("# %s absorbed: %ld allocation faults under %s\n",
		    p->name, p->absorbed[i].n, p->absorbed[i].name);
	for (i = 0; i < (int)p->nuncached; i++)
		printf("# %s not remembered by the parse cache: %ld "
		    "allocation faults under %s\n", p->name,
		    p->uncached[i].n, p->uncached[i].name);
	p->seconds = seconds_since(&t0);
	printf("# %s fault sites tried: %ld, results:", p->name, b->n);
	for (v = 0; v < V_NVERDICTS; v++) {
		long sum = 0;

		for (i = 0; i < FAULT_NKINDS; i++)
			sum += p->counts[i][v];
		printf("%s %ld %s", v ? "," : "", sum, verdict_names[v]);
	}
	printf(" (%ld of the sites in the logger; %.1f s)\n", p->inlog,
	    p->seconds);
	return 0;
}

int
main(void)
{
	static struct pass cold, warm;
	struct fixture f;
	struct shared *sh;
	struct func_range put;
	int test = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&f, 0, sizeof(f));
	cold.name = "cold";
	warm.name = "warm";
	warm.warm = 1;
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (safe-path rules)\n");
		return 0;
	}
	if (setup(&f) != 0) {
		printf("1..0 # SKIP no safe scratch directory\n");
		return 0;
	}
	printf("1..%d\n", 2 * (1 + FAULT_NKINDS));
	/* Without the range, no fault is allowed under it: say so. */
	if (module_function(CACHE_PUT, &put) != 0) {
		printf("Bail out! no single function " CACHE_PUT " with a size "
		    "in the symbol table of " MODULE_PATH " (nm -S): the "
		    "parse cache rule has no range to allow\n");
		return 1;
	}
	printf("# " CACHE_PUT ": module offsets 0x%lx to 0x%lx\n",
	    put.start, put.start + put.size);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	fault_set_record(&sh->rec);

	if (run_pass(&f, sh, &cold, NULL, &put, &test) != 0 ||
	    run_pass(&f, sh, &warm, &cold, &put, &test) != 0)
		return 1;
	printf("# cold pass: %ld sites in %.1f s; warm pass: %ld sites in "
	    "%.1f s\n", cold.b.n, cold.seconds, warm.b.n, warm.seconds);
	free(cold.b.kinds);
	free(cold.b.log);
	free(warm.b.kinds);
	free(warm.b.log);
	return 0;
}
