/*
 * fault_login.c - one complete, otherwise successful login through the
 * built module and libpam, with every injectable call of pam_authenticate
 * made to fail in turn (fault_shim.h).
 *
 * The login: trust=ca with a root and an intermediate CA, a CRL file with
 * both CAs' CRLs and crl=chain, a bindings file of two certificates, a
 * configuration file, and a conversation that signs in-process.  First it
 * runs unharmed and must succeed; that run counts the calls (N).  Then for
 * k = 1..N a fresh child runs the same login with call k failing, and
 * must not crash or hang, must not answer PAM_SUCCESS or PAM_IGNORE, and
 * the module must have said why in syslog.  The exceptions, each checked
 * as narrowly as judge() can, are explained there: a fault inside the
 * logger itself (libpam's pam_vsyslog, which then logs its own "asprintf"
 * complaint instead of the lost line), an allocation a library recovers
 * from by itself with the very same login as a result (most are in
 * OpenSSL's key decoding while certificates are parsed), and
 * the subject of the success line printed as "?".
 *
 * Output is TAP, one test per kind of call; every failing site is a diag
 * line naming the call and its callers up to the module.
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

static void
child(struct fixture *f, struct shared *sh, long fail_at)
{
	struct pam_conv conv = { conversation, f->key };
	pam_handle_t *pamh = NULL;
	int r;

	alarm(CHILD_SECONDS);
	if (pam_start_confdir(SERVICE, f->user, &conv, f->confdir,
	    &pamh) != PAM_SUCCESS)
		_exit(2);
	fault_arm(fail_at);
	r = pam_authenticate(pamh, 0);
	fault_disarm();
	sh->pam_result = r;
	sh->reached = 1;
	pam_end(pamh, r);
	_exit(0);
}

/* Run one login in a fresh child; returns its wait status. */
static int
run_login(struct fixture *f, struct shared *sh, long fail_at)
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
		child(f, sh, fail_at);
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

/*
 * The rules, strictest first.  A failed call must end in a refusal with
 * a reason from the module, except:
 * - a fault inside pam_syslog (the logger): the login may succeed;
 * - a call libpam makes outside the module (its dispatch, its audit
 *   record): libpam's own syslog line is the reason;
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
judge(const struct shared *sh, int status, const char *good_line,
    const char *unnamed_line)
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
	if (sh->pam_result == PAM_SUCCESS && rec->fired_kind == FAULT_ALLOC &&
	    strcmp(rec->fired_caller, "pam_certauth.so") != 0 &&
	    strstr(rec->log + rec->log_armed_at, good_line) != NULL)
		return V_ABSORBED;
	if (sh->pam_result == PAM_SUCCESS && rec->fired_kind == FAULT_ALLOC &&
	    strstr(rec->log + rec->log_armed_at, unnamed_line) != NULL)
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
describe(const char *tag, long k, const struct shared *sh, int status)
{
	char line[600];

	last_line(&sh->rec, line, sizeof(line));
	printf("# %s site %ld: %s (%s) in %s\n", tag, k,
	    sh->rec.fired_call, fault_kind_name(sh->rec.fired_kind),
	    sh->rec.fired_site);
	if (WIFSIGNALED(status))
		printf("#   killed by signal %d\n", WTERMSIG(status));
	else
		printf("#   pam_authenticate: %d (%s); syslog: %s\n",
		    sh->pam_result, sh->pam_result >= 0 ?
		    pam_strerror(NULL, sh->pam_result) : "-", line);
}

/* ------------------------------------------------------------ main */

/* Where the absorbed faults were: the library call the module made. */
struct tally {
	char name[128];
	long n;
};
#define TALLY_MAX	256

static void
tally_add(struct tally *t, size_t *nt, const char *name)
{
	size_t i;

	if (name[0] == '\0')
		name = "(libpam, outside the module)";
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

int
main(void)
{
	struct fixture f;
	struct shared *sh;
	long n, k, counts[FAULT_NKINDS][V_NVERDICTS], sites[FAULT_NKINDS];
	long inlog = 0;
	unsigned char *kinds;
	char good_line[1024], unnamed_line[1024];
	struct tally absorbed[TALLY_MAX];
	size_t nabsorbed = 0;
	struct timeval t0, t1;
	int status, i, v, test = 1, bad;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&f, 0, sizeof(f));
	memset(counts, 0, sizeof(counts));
	memset(sites, 0, sizeof(sites));
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (safe-path rules)\n");
		return 0;
	}
	if (setup(&f) != 0) {
		printf("1..0 # SKIP no safe scratch directory\n");
		return 0;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	fault_set_record(&sh->rec);
	printf("1..%d\n", 1 + FAULT_NKINDS);
	gettimeofday(&t0, NULL);

	/* The harness must be able to succeed before failures mean much. */
	status = run_login(&f, sh, 0);
	n = sh->rec.calls;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !sh->reached ||
	    sh->pam_result != PAM_SUCCESS || n <= 0 || n >= FAULT_MAX_CALLS ||
	    success_line(&sh->rec, good_line, sizeof(good_line), unnamed_line,
	    sizeof(unnamed_line)) != 0) {
		printf("not ok 1 - unharmed login succeeds\n");
		describe("baseline", 0, sh, status);
		printf("# %s", sh->rec.log);
		return 1;
	}
	printf("ok 1 - unharmed login succeeds and is logged "
	    "(%ld injectable calls)\n", n);
	if ((kinds = malloc((size_t)n + 1)) == NULL)
		return 1;
	memcpy(kinds, sh->rec.kind, (size_t)n + 1);
	for (k = 1; k <= n; k++) {
		sites[kinds[k] & 0x7f]++;
		inlog += (kinds[k] & 0x80) != 0;
	}

	for (k = 1; k <= n; k++) {
		int kind = kinds[k] & 0x7f;

		status = run_login(&f, sh, k);
		v = judge(sh, status, good_line, unnamed_line);
		if (sh->rec.fired && sh->rec.fired_kind != kind)
			v = V_NOT_FIRED;	/* the run took another path */
		counts[kind][v]++;
		if (v == V_ABSORBED)
			tally_add(absorbed, &nabsorbed, sh->rec.fired_entry);
		if (v != V_REFUSED && v != V_ABSORBED && v != V_UNNAMED && counts[kind][v] <= SHOW_MAX)
			describe(verdict_names[v], k, sh, status);
	}

	for (i = 0; i < FAULT_NKINDS; i++) {
		bad = counts[i][V_NO_REASON] + counts[i][V_SUCCESS] +
		    counts[i][V_CRASH] + counts[i][V_NOT_FIRED] != 0;
		test++;
		printf("%s %d - %s: %ld sites; %ld refused with a reason, "
		    "login unaffected: %ld logger faults, %ld absorbed by a "
		    "library, %ld subject as '?'; %ld without a reason, %ld "
		    "wrong successes, %ld crashes, %ld not reached\n",
		    bad ? "not ok" : "ok", test,
		    fault_kind_name(i), sites[i], counts[i][V_REFUSED],
		    counts[i][V_LOGGER], counts[i][V_ABSORBED],
		    counts[i][V_UNNAMED],
		    counts[i][V_NO_REASON],
		    counts[i][V_SUCCESS], counts[i][V_CRASH],
		    counts[i][V_NOT_FIRED]);
	}
	for (i = 0; i < (int)nabsorbed; i++)
		printf("# absorbed: %ld allocation faults under %s\n",
		    absorbed[i].n, absorbed[i].name);
	gettimeofday(&t1, NULL);
	printf("# fault sites tried: %ld, results:", n);
	for (v = 0; v < V_NVERDICTS; v++) {
		long sum = 0;

		for (i = 0; i < FAULT_NKINDS; i++)
			sum += counts[i][v];
		printf("%s %ld %s", v ? "," : "", sum, verdict_names[v]);
	}
	printf(" (%ld of the sites in the logger; %.1f s)\n", inlog,
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_usec - t0.tv_usec) / 1e6);
	free(kinds);
	return 0;
}
