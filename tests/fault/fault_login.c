/*
 * fault_login.c - one complete, otherwise successful login through the
 * built module and libpam, with every injectable call of pam_authenticate
 * made to fail in turn (fault_shim.h).
 *
 * The login: trust=ca with a root and an intermediate CA, a CRL file with
 * both CAs' CRLs and crl=chain, a bindings file of two certificates, a
 * configuration file, and the tests' conversation that signs in-process
 * (tests/common/conv.h).
 *
 * It runs in these passes, each in fresh children forked from a parent
 * that never loads the module:
 * - cold: the child's login is the first of its process, so every trust
 *   file and the bindings file is parsed and handed to the module's parse
 *   cache (parse_cache.h);
 * - warm: the child first runs one whole login unarmed and unharmed
 *   (pam_start_confdir, pam_authenticate, pam_end), which fills the
 *   cache, then the armed one, which finds every file's unchanged bytes in
 *   the cache: the path a long-lived host (one process, many logins)
 *   takes;
 * - ocsp: a cold login with ocsp=soft against a real `openssl ocsp`
 *   responder on 127.0.0.1 (started here on an ephemeral port, the
 *   intermediate CA signing its own answers), no CRL, and an OCSP cache
 *   directory emptied before every login, so that every child runs the
 *   fetch helper (CERTAUTH_OCSP_HELPER; the pass is skipped when it is
 *   missing or not in safe directories).  Its certificate is revoked at
 *   the responder.  Described below.
 * - agent=only and agent=try: a cold login answered by a fake ssh-agent
 *   (tests/common/fakeagent.h) that runs as nobody, lists the user's key
 *   and signs well, the login process running as sudo does (real ids
 *   nobody's, effective root's, SSH_AUTH_SOCK in its environment).  The
 *   sites are the calls under agent_answer, the module's connecting
 *   child's included (fault_children: it never execs): socket pair,
 *   fork, pidfd, the privilege drop, socket, connect, sendmsg, recvmsg,
 *   SO_PEERCRED, the exchange's send, recv and polls, the reaping.  No
 *   fault may let the login fall back to the conversation (which would
 *   log in: the control with nothing at SSH_AUTH_SOCK shows it) nor leave
 *   a child behind; success is allowed only for a fault in the logger, an
 *   allocation a library recovers from, or a call that reaps the
 *   connecting child once it has handed the connection over, each with
 *   the unharmed run's success line.
 * - ldap: a cold login with bindings=ldap, its ldap_uri a port of
 *   127.0.0.1 that this process holds with a socket that never listens
 *   (every connection refused), and a fresh entry of the user in the LDAP
 *   cache written beforehand with the library's own
 *   certauth_ldap_cache_store under the settings digest of
 *   certauth_ldap_settings, computed from the options the module reads
 *   from the very words of its service line: two certificates, the first
 *   of which does not verify the answer.  Its baseline must log "bound
 *   by ldap (cache)"; a fault that makes the entry unusable sends the
 *   login to the directory, which cannot be reached.  A control first:
 *   the same login with the entry removed must be refused with "cannot
 *   reach LDAP directory" (skipped when the LDAP helper would not run);
 *   the entry is then written again.
 * - rules: a cold login with bindings=rules, a rules file (root-owned,
 *   written here) mapping a clientAuth certificate of the intermediate CA
 *   to the account its CN names, and an answer that offers the user's
 *   such certificate after its signature (tu_conv.offer, appended with
 *   certauth_response_offer).  Its baseline must log "bound by rules"; a
 *   control first: the same answer offering no certificate must be
 *   refused for that.  glibc before 2.42 double-frees inside regcomp
 *   after some of its allocations fail (CVE-2025-8058), and aborts: the
 *   pass first compiles the rules' expression without the module,
 *   failing each of regcomp's allocations in turn (regcomp_probe), and
 *   an abort of a faulted login under regcomp, after an allocation
 *   failed there, is its own verdict, allowed exactly as often as the
 *   probe aborts (one expression is compiled per login) and listed.
 * - token: a cold login in token mode (pkcs11=only): the module loads
 *   SoftHSM2's PKCS#11 module through p11-kit, finds the user's P-256
 *   certificate on a token made here with softhsm2-util and pkcs11-tool
 *   (SOFTHSM2_CONF names the pass's own token directory), asks the PIN
 *   (the conversation gives it: tu_conv.pin), logs in and has the token
 *   sign.  A control first: a wrong PIN must be refused for that.  Its
 *   sites are the calls under token_answer (the token's part of the
 *   login, found by a backtrace of every call of the unharmed run, as in
 *   the ocsp pass) but not the PKCS#11 module's own: a call with a frame
 *   of libsofthsm2.so, or of the C++ runtime it brings (libstdc++,
 *   libgcc_s), on its stack is left alone.  SoftHSM2 stands in for a
 *   smart card's module, code of its own that the module cannot make
 *   sane: its allocations are C++ operator new, and when one fails
 *   SoftHSM2 often ends the process itself (its fatal-exception handler
 *   exits with status 5; a std::bad_alloc in one of its static
 *   constructors aborts), which would say nothing of the module.  What
 *   the module must handle is what comes back from the PKCS#11 module,
 *   p11-kit and OpenSSL.  p11-kit's calls and the dynamic loader's
 *   (loading the PKCS#11 module) are sites, and most fail cleanly; some
 *   end the process by themselves, module or not: p11-kit 0.24's
 *   p11_kit_uri_new
 *   hands back a URI whose attribute list it could not allocate, and
 *   parsing it reads through a null pointer; glibc's loader exits with
 *   status 127 when it cannot allocate p11-kit's thread-local storage or
 *   its table of unique symbols.  The pass first shows that without the
 *   module (p11kit_probe: the module's p11-kit calls in fresh children,
 *   each of p11-kit's and the loader's allocations failed in turn), and
 *   such an end in the pass, after an allocation under the same p11-kit
 *   call and in the same manner, is its own verdict, allowed exactly as
 *   often as the probe ends so under that call, and listed.  A site is
 *   the nth call of its kind from the first call under token_answer on;
 *   SoftHSM2's calls count in that numbering, which the unharmed runs
 *   show is the same from run to run.
 * In the cold, warm, ldap and rules passes the armed login first runs
 * unharmed and must succeed (the ldap and rules ones with their success
 * line naming the source); that run counts the calls (N) and is the
 * pass's baseline.  The warm baseline
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
 * The ocsp pass first runs two unharmed controls: a second certificate,
 * good at the responder, must log in with its answer fetched, verified and
 * cached (the fixture does not refuse everything), and the revoked one
 * must be let in with "accepted (ocsp=soft)" logged when nothing listens
 * at the URL (the line this pass looks for is the one soft mode writes).
 * Its baseline, the revoked certificate unharmed, must be refused with the
 * module's "revoked (OCSP" reason: the fetch ran and its answer was used.
 * Its sites are only the calls made while certauth_ocsp_check_chain is on
 * the stack (the OCSP check: ocsp.c, ocsp_cache.c, fetch.c and what they
 * call in libcrypto and libc), found by a backtrace of every call of the
 * baseline; the rest of the login is the cold pass's.  A site is the nth
 * call of its kind from the first call in that function on, not the nth
 * call of all: how many polls and reads the exchange with the helper takes
 * depends on how its record arrives, and would shift every later number.
 * For the same reason a site whose call did not come is run again, up to
 * three times, and the poll and read counts may differ from run to run.
 * Each faulted login must not crash or hang, must not answer PAM_SUCCESS
 * or PAM_IGNORE, with no allowance of any kind (the certificate is
 * revoked), must log a reason, and must never log "accepted (ocsp=soft)":
 * every fault injected is local, never the network's.  Calls in the
 * helper's process are never counted (fault_shim.h): it runs unharmed up
 * to its exec.  pidfd_send_signal has no site in the unharmed login (the
 * helper is only killed when the exchange fails), so the kill path runs
 * every poll and read site again with every pidfd_send_signal failing too,
 * once with EPERM and once with ENOSYS (where the module falls back on a
 * kill by pid).
 *
 * Output is TAP: for each pass its baseline and one test per kind of
 * call, named "cold ...", "warm ...", "ocsp ...", "agent=only ...",
 * "agent=try ...", "ldap ...", "rules ..." and "token ...", and the
 * ocsp pass's controls and kill path, the agent, ldap, rules and token
 * passes' controls and the token pass's probe; every failing site is a
 * diag line naming the
 * call and its callers up to the module (in the ocsp pass, every site of
 * a kind other than allocation too), and each pass ends in diag lines
 * summing up its sites, verdicts and seconds.  FAULT_PASSES (say "ocsp",
 * "ldap,rules,token", or "agent" for both agent passes) runs only the
 * passes it names; the others' lines are skipped.  The token pass is
 * skipped without SoftHSM2, softhsm2-util or pkcs11-tool.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <security/pam_appl.h>

#include "conv.h"
#include "fakeagent.h"
#include "fault_shim.h"
#include "ldap_cache.h"
#include "options.h"
#include "pki.h"
#include "response.h"
#include "safefile.h"
#include "testutil.h"

#define SERVICE		"certauth-fault"
#define MODULE_LINE	"pam_certauth(" SERVICE ":auth): "
#define CHILD_SECONDS	20
#define SHOW_MAX	40	/* diag lines per kind and verdict */
#define CACHE_PUT	"certauth_cache_put"
#define INTER_CN	"Fault Intermediate CA"	/* issues the users' certificates */

/* A function of the module: offsets [start, start + size), as nm -S. */
struct func_range {
	unsigned long start, size;
};

struct fixture {
	char *dir, *confdir;
	const char *user;
	EVP_PKEY *key;		/* the one the conversation signs with */
	const unsigned char *offer;	/* DER the answer offers after its
					 * signature (rules pass), or NULL */
	size_t offer_len;
	char *cache;		/* OCSP cache, emptied before each login */
	unsigned int watchdog;	/* seconds a child may take; 0: default */
	const char *pin;	/* token pass: the PIN the conversation
				 * gives (tu_conv.pin), or NULL */
	const char *agent_sock;	/* agent passes: SSH_AUTH_SOCK, and the
				 * login runs with the real ids below */
	uid_t agent_uid;
	gid_t agent_gid;
	struct tu_pki pki;	/* root, intermediate (issues the users'
				 * certificates, signs OCSP) and user */
};

/* Shared with the children. */
struct shared {
	int pam_result;
	int reached;		/* 1: pam_authenticate returned */
	int leftover;		/* a child of the login's process was left
				 * (running, or not reaped) after it */
	unsigned int watchdog;	/* the child's alarm, in seconds */
	int stage, fired_stage;	/* p11kit_probe: the call running, and
				 * the one whose allocation failed */
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
	V_SOFT,		/* a local fault taken for an unreachable responder
			 * and tolerated by ocsp=soft */
	V_FALLBACK,	/* agent=try: a local fault taken for a missing
			 * agent, the conversation asked instead */
	V_REAPLESS,	/* a call that reaps the agent's connecting child
			 * failed after it had handed the connection over:
			 * the login is the unharmed run's */
	V_LEFTOVER,	/* refused, but a child of the login was left */
	V_REGCOMP,	/* killed by glibc's own abort inside regcomp after
			 * one of its allocations failed: glibc's double
			 * free (CVE-2025-8058), shown without the module by
			 * regcomp_probe; allowed only as often as the probe
			 * crashes */
	V_P11KIT,	/* ended inside p11-kit or the dynamic loader after
			 * an allocation of theirs failed, as they end
			 * without the module (p11kit_probe); allowed only
			 * as often as the probe ends so */
	V_NVERDICTS
};

static const char *verdict_names[V_NVERDICTS] = {
	"refused with a reason", "logger fault (login unaffected)",
	"absorbed in a library (login unaffected)",
	"not remembered by the parse cache (login unaffected)",
	"subject logged as '?' (login unaffected)",
	"refused WITHOUT a syslog reason", "WRONG SUCCESS", "CRASH",
	"fault not reached", "ACCEPTED AS UNREACHABLE (ocsp=soft)",
	"FELL BACK TO THE CONVERSATION",
	"reaping the connecting child failed (login unaffected)",
	"A CHILD LEFT BEHIND",
	"CRASH IN GLIBC'S regcomp (its double free, module or not)",
	"ENDED IN p11-kit OR THE LOADER (as without the module)"
};

/* ------------------------------------------------------------ fixture */

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
	const struct tu_pki_opts pki = { .ca_cn = "Fault Root CA",
	    .inter_cn = INTER_CN, .user_cn = "fault user",
	    .key_type = "ED25519", .user_under_inter = 1 };
	struct tu_cert_opts old_opts = tu_user_opts("fault user (revoked)");
	struct passwd *pw = getpwuid(geteuid());
	EVP_PKEY *old_key;
	X509 *old, *bound[2];
	X509_CRL *crls[2];
	char *p, *text;

	if (pw == NULL || (f->dir = tu_safe_tmpdir()) == NULL)
		return -1;
	f->user = strdup(pw->pw_name);
	f->confdir = tu_path(f->dir, "pam.d");
	if (mkdir(f->confdir, 0755) != 0)
		return -1;

	tu_pki_make(&f->pki, &pki);
	tu_pki_write(&f->pki, f->dir);
	f->key = f->pki.user_key;
	old_key = tu_keygen("ED25519");
	old = tu_make_cert(old_key, &old_opts, f->pki.inter,
	    f->pki.inter_key);
	crls[0] = tu_make_crl(f->pki.ca, f->pki.ca_key, NULL, 0);
	crls[1] = tu_make_crl(f->pki.inter, f->pki.inter_key, &old, 1);
	p = tu_path(f->dir, "crl.pem");
	tu_write_crls(p, crls, 2);
	free(p);
	/* two bound certificates: the first does not verify the answer */
	bound[0] = old;
	bound[1] = f->pki.user;
	tu_pki_bind(&f->pki, f->user, bound, 2);

	p = tu_path(f->dir, "pam_certauth.conf");
	text = xasprintf("# fault injection\ntrust = ca\n"
	    "ca_file = %s\nchain_file = %s\n"
	    "crl_file = %s/crl.pem\ncrl = chain\nchallenge_ttl = 120\n",
	    f->pki.ca_file, f->pki.chain_file, f->dir);
	tu_write_file(p, text, 0644);
	free(text);
	free(p);
	p = tu_path(f->confdir, SERVICE);
	/* nodelay: most of the thousands of runs fail, none should wait. */
	text = xasprintf("auth required %s config=%s/pam_certauth.conf "
	    "bindings_dir=%s hostname=fault-host nodelay\n",
	    MODULE_PATH, f->dir, f->pki.bindings_dir);
	tu_write_file(p, text, 0644);
	free(text);
	free(p);

	X509_CRL_free(crls[0]);
	X509_CRL_free(crls[1]);
	X509_free(old);
	EVP_PKEY_free(old_key);
	return 0;
}

/* ------------------------------------------------------------ one login */

/*
 * pam_start_confdir, with a delay function that does not sleep: a fault
 * before the module has read its nodelay option still asks for the delay
 * (by design), and thousands of runs should not sleep through it.
 */
static int
start(struct fixture *f, const struct pam_conv *conv, pam_handle_t **pamh)
{
	return tu_pam_start(SERVICE, f->user, f->confdir, conv, NULL, pamh);
}

/* The application's side, not under test: its work runs held. */
static void
conv_of(const struct fixture *f, struct tu_conv *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->key = f->key;
	cs->hold = fault_hold;
	cs->offer = f->offer;
	cs->offer_len = f->offer_len;
	cs->offer_with = certauth_response_offer;
	cs->pin = f->pin;
}

/* A whole login, unarmed: what fills the parse cache for the warm pass. */
static int
login_unarmed(struct fixture *f)
{
	struct tu_conv cs;
	struct pam_conv conv = { tu_conversation, &cs };
	pam_handle_t *pamh = NULL;
	int r;

	conv_of(f, &cs);
	if ((r = start(f, &conv, &pamh)) != PAM_SUCCESS)
		return r;
	r = pam_authenticate(pamh, 0);
	pam_end(pamh, r);
	return r;
}

/* Exit statuses of a child that did not get to the armed login. */
#define EXIT_START	2	/* pam_start_confdir or pam_set_item failed */
#define EXIT_WARM_UP	3	/* the warm pass's first login failed */

/* Which call of the armed login fails (fault_shim.h). */
struct arming {
	long from;			/* kind < 0: the nth call of all */
	int kind;			/* else: the nth of kind from here */
	long nth;			/* 0: none */
	int also;			/* every call of this kind fails too
					 * (fault_also), or -1 */
	const struct func_range *scan;	/* mark calls under it, or NULL */
	int kill_errno;			/* fault_kill_errno; 0: EPERM */
	int children;			/* fault_children */
};

static void
scan(const struct arming *a)
{
	if (a->scan != NULL)
		fault_scan(a->scan->start, a->scan->size);
	else
		fault_scan(0, 0);
}

/* Has this process a child, running or not reaped?  The module's own
 * children end and are reaped within the login. */
static int
children_left(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

static void
child(struct fixture *f, struct shared *sh, const struct arming *a, int warm)
{
	struct tu_conv cs;
	struct pam_conv conv = { tu_conversation, &cs };
	pam_handle_t *pamh = NULL;
	int r;

	conv_of(f, &cs);
	alarm(sh->watchdog);
	/* As sudo runs: the caller's real ids, root's effective ones. */
	if (f->agent_sock != NULL &&
	    (setenv("SSH_AUTH_SOCK", f->agent_sock, 1) != 0 ||
	    setresgid(f->agent_gid, 0, 0) != 0 ||
	    setresuid(f->agent_uid, 0, 0) != 0))
		_exit(EXIT_START);
	if (warm && login_unarmed(f) != PAM_SUCCESS)
		_exit(EXIT_WARM_UP);
	/* Every OCSP login asks the responder: nothing cached before. */
	if (f->cache != NULL && access(f->cache, F_OK) == 0)
		tu_remove_tree(f->cache);
	if (start(f, &conv, &pamh) != PAM_SUCCESS)
		_exit(EXIT_START);
	scan(a);
	fault_also(a->also);
	fault_kill_errno(a->kill_errno != 0 ? a->kill_errno : EPERM);
	fault_children(a->children);
	fault_arm_kind(a->from, a->kind, a->nth);
	r = pam_authenticate(pamh, 0);
	fault_disarm();
	sh->leftover = children_left();
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
run_armed(struct fixture *f, struct shared *sh, const struct arming *a,
    int warm)
{
	pid_t pid;
	int status;

	sh->pam_result = -1;
	sh->reached = 0;
	sh->leftover = 0;
	sh->watchdog = f->watchdog != 0 ? f->watchdog : CHILD_SECONDS;
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
		child(f, sh, a, warm);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			exit(1);
		}
	}
	return status;
}

/* run_armed with the fail_at-th call of all failing (0: none). */
static int
run_login(struct fixture *f, struct shared *sh, long fail_at, int warm)
{
	const struct arming a = { 1, -1, fail_at, -1, NULL, 0, 0 };

	return run_armed(f, sh, &a, warm);
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
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		printf("#   killed by the watchdog: no answer within %u s\n",
		    sh->watchdog);
	else if (WIFSIGNALED(status))
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

/* ------------------------------------------------------------ passes */

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

/* Where the subject of a success line ends: at "; bound by " or
 * "; OCSP good from " (what follows it), else at the newline. */
static const char *
subject_end(const char *sp, const char *nl)
{
	static const char *const tails[] = { "; bound by ",
		"; OCSP good from " };
	const char *end = nl, *t;
	size_t i;

	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++)
		if ((t = strstr(sp, tails[i])) != NULL && t < end)
			end = t;
	return end;
}

/*
 * The unharmed run's success line, without its priority, and the same
 * line with the subject as "?" (both end in a newline).
 */
static int
success_line(const struct fault_record *rec, char *buf, size_t len,
    char *unnamed, size_t ulen)
{
	const char *p = strstr(rec->log, MODULE_LINE "user "), *nl, *fp, *sp,
	    *end;

	if (p == NULL || (nl = strchr(p, '\n')) == NULL ||
	    strstr(p, "authenticated with certificate") == NULL ||
	    (fp = strstr(p, " SHA256:")) == NULL || fp > nl ||
	    (sp = strchr(fp + 1, ' ')) == NULL || sp > nl)
		return -1;
	end = subject_end(sp, nl);
	snprintf(buf, len, "%.*s", (int)(nl + 1 - p), p);
	snprintf(unnamed, ulen, "%.*s ?%.*s", (int)(sp - p), p,
	    (int)(nl + 1 - end), end);
	return 0;
}

/* One pass: its baseline, then every site of it failed in turn. */
struct pass {
	const char *name;	/* "cold", "warm", "ldap", "rules" */
	int warm;		/* each child logs in once before the test */
	const char *about;	/* what its cold login is, for its baseline's
				 * TAP line, or NULL */
	const char *bound;	/* what the success line must hold (its
				 * binding source), or NULL */
	long regcomp_crashes;	/* of regcomp_probe: its faults that end
				 * in glibc's abort (0: none, or no probe) */
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
	if (ok && p->bound != NULL && strstr(b->good_line, p->bound) == NULL) {
		printf("# its success line lacks \"%s\": %s", p->bound,
		    b->good_line);
		ok = 0;
	}
	if (cold == NULL) {
		printf("%s %d - %s: unharmed login, the first of its "
		    "process, %s%ssucceeds and is logged%s%s%s (%ld injectable "
		    "calls)\n", ok ? "ok" : "not ok", test, p->name,
		    p->about != NULL ? p->about : "",
		    p->about != NULL ? ", " : "",
		    p->bound != NULL ? " with \"" : "",
		    p->bound != NULL ? p->bound : "",
		    p->bound != NULL ? "\"" : "", b->n);
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
		p->sites[b->kinds[k] & FAULT_KIND_MASK]++;
		p->inlog += (b->kinds[k] & FAULT_IN_LOG) != 0;
	}
	return 0;
}

/*
 * A crash that glibc's regcomp makes by itself: the armed allocation
 * failed inside regcomp called by the module, and the child died of
 * glibc's abort (its "double free detected").
 */
static int
regcomp_abort(const struct shared *sh, int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
	    sh->rec.fired && sh->rec.fired_kind == FAULT_ALLOC &&
	    strstr(sh->rec.fired_site, ":regcomp < pam_certauth.so") != NULL;
}

/*
 * Whether glibc's regcomp survives its own allocation failures, with no
 * module loaded: re compiled in fresh children as the rules compile it,
 * each of its allocations failed in turn.  Returns how many of them end
 * in an abort (glibc before 2.42 double-frees after some of them,
 * CVE-2025-8058), and how many there are in *allocs.
 */
static long
regcomp_probe(struct shared *sh, const char *re, long *allocs)
{
	long k, n = 0, crashes = 0;
	regex_t rx;
	pid_t pid;
	int status, fd;

	for (k = 0; k <= n; k++) {
		sh->rec.fired = 0;
		sh->rec.loglen = 0;
		sh->rec.log[0] = '\0';
		fflush(stdout);
		fflush(stderr);
		if ((pid = fork()) < 0) {
			perror("fork");
			exit(1);
		}
		if (pid == 0) {
			/* glibc's own complaint is expected: not shown. */
			if ((fd = open("/dev/null", O_WRONLY)) >= 0)
				(void)dup2(fd, STDERR_FILENO);
			fault_arm(k);
			status = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
			fault_disarm();
			if (status == 0)
				regfree(&rx);
			_exit(0);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				exit(1);
		if (k == 0)
			n = sh->rec.calls;
		else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
		    sh->rec.fired && sh->rec.fired_kind == FAULT_ALLOC)
			crashes++;
	}
	*allocs = n;
	return crashes;
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
		int kind = b->kinds[k] & FAULT_KIND_MASK;

		status = run_login(f, sh, k, p->warm);
		v = judge(sh, status, b, put);
		if (sh->rec.fired && sh->rec.fired_kind != kind)
			v = V_NOT_FIRED;	/* the run took another path */
		if (v == V_CRASH && p->regcomp_crashes > 0 &&
		    regcomp_abort(sh, status))
			v = V_REGCOMP;
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
		char glibc[160] = "";

		/* glibc's aborts in regcomp: exactly the probe's, each
		 * once (one expression is compiled per login). */
		bad = p->counts[i][V_NO_REASON] + p->counts[i][V_SUCCESS] +
		    p->counts[i][V_CRASH] + p->counts[i][V_NOT_FIRED] != 0 ||
		    p->counts[i][V_REGCOMP] !=
		    (i == FAULT_ALLOC ? p->regcomp_crashes : 0);
		if (p->regcomp_crashes > 0 && i == FAULT_ALLOC)
			snprintf(glibc, sizeof(glibc), ", %ld aborts in glibc's "
			    "regcomp (the probe's: %ld)", p->counts[i][V_REGCOMP],
			    p->regcomp_crashes);
		printf("%s %d - %s %s: %ld sites; %ld refused with a reason, "
		    "login unaffected: %ld logger faults, %ld absorbed by a "
		    "library, %ld not remembered by the parse cache, %ld "
		    "subject as '?'; %ld without a reason, %ld wrong "
		    "successes, %ld crashes%s, %ld not reached\n",
		    bad ? "not ok" : "ok", (*test)++, p->name,
		    fault_kind_name(i), p->sites[i], p->counts[i][V_REFUSED],
		    p->counts[i][V_LOGGER], p->counts[i][V_ABSORBED],
		    p->counts[i][V_UNCACHED], p->counts[i][V_UNNAMED],
		    p->counts[i][V_NO_REASON], p->counts[i][V_SUCCESS],
		    p->counts[i][V_CRASH], glibc, p->counts[i][V_NOT_FIRED]);
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

/* ------------------------------------------------------------ OCSP */

#define OCSP_SCOPE	"certauth_ocsp_check_chain"
#define SOFT_LINE	"accepted (ocsp=soft)"
#define REVOKED_LINE	"revoked (OCSP"
#define OCSP_TIMEOUT_MS	3000
/* A login that asks the responder ends well within this, or hangs. */
#define OCSP_CHILD_SECONDS	10
#define GOOD_SERIAL	0x5001
#define REVOKED_SERIAL	0x5002
#define RESPONDER_WAIT	200	/* times 50 ms for its port */
#define TRIES		3	/* runs of a site whose call did not come */
#define UNHARMED_RUNS	5	/* of the baseline, for the fewest polls */

/* The OCSP pass's logins and the responder they ask. */
struct ocsp_fixture {
	struct fixture revoked;	/* the pass: a revoked certificate */
	struct fixture good;	/* control: a good one, same responder */
	struct fixture soft;	/* control: revoked, nobody listening */
	char *responder_log;
	int port;
};

static pid_t responder_pid = -1;

static void
stop_responder(void)
{
	if (responder_pid <= 0)
		return;
	(void)kill(responder_pid, SIGTERM);
	(void)waitpid(responder_pid, NULL, 0);
	responder_pid = -1;
}

/* t as an index's UTCTime, YYMMDDHHMMSSZ (buf: 16 bytes). */
static void
utc_time(time_t t, char *buf)
{
	char full[32];

	if (strftime(full, sizeof(full), "%Y%m%d%H%M%SZ", gmtime(&t)) != 15)
		exit(1);
	memcpy(buf, full + 2, 14);
}

/* A line of an `openssl ca` index: status, expiry, revocation, serial. */
static void
index_line(FILE *fp, char status, X509 *cert, time_t now)
{
	BIGNUM *bn;
	char expiry[16] = "", revoked[16] = "", *hex, *subject;

	utc_time(now + 365 * 86400, expiry);
	if (status == 'R')
		utc_time(now - 3600, revoked);
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert),
	    NULL)) == NULL || (hex = BN_bn2hex(bn)) == NULL ||
	    (subject = X509_NAME_oneline(X509_get_subject_name(cert), NULL,
	    0)) == NULL)
		exit(1);
	fprintf(fp, "%c\t%s\t%s\t%s\tunknown\t%s\n", status, expiry, revoked,
	    hex, subject);
	OPENSSL_free(subject);
	OPENSSL_free(hex);
	BN_free(bn);
}

/*
 * `openssl ocsp` on an ephemeral port, answering for the intermediate CA
 * and signing with its key (the issuer as its own responder).  Returns
 * the port, or -1 with the reason in why.
 */
static int
start_responder(struct fixture *f, struct ocsp_fixture *o, char *why,
    size_t whylen)
{
	char *index = tu_path(f->dir, "index.txt");
	char *ca = tu_path(f->dir, "chain.pem");
	char *key = tu_path(f->dir, "int.key");
	char text[4096], *p, *end;
	int fd, i, port = -1;
	ssize_t n;

	o->responder_log = tu_path(f->dir, "ocsp.log");
	fflush(stdout);
	fflush(stderr);
	if ((responder_pid = fork()) < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		goto out;
	}
	if (responder_pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if ((fd = open(o->responder_log, O_WRONLY | O_CREAT | O_TRUNC,
		    0644)) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
		    dup2(fd, STDERR_FILENO) < 0 ||
		    (fd = open("/dev/null", O_RDONLY)) < 0 ||
		    dup2(fd, STDIN_FILENO) < 0)
			_exit(126);
		/* -ignore_err: a cut-off request must not end the responder. */
		execlp("openssl", "openssl", "ocsp", "-index", index,
		    "-port", "0", "-CA", ca, "-rsigner", ca, "-rkey", key,
		    "-ndays", "1", "-ignore_err", (char *)NULL);
		_exit(127);
	}
	atexit(stop_responder);
	/* It says "ACCEPT [::]:PORT PID=..." once it listens. */
	for (i = 0; i < RESPONDER_WAIT && port < 0; i++) {
		usleep(50 * 1000);
		if (waitpid(responder_pid, NULL, WNOHANG) == responder_pid) {
			responder_pid = -1;
			break;
		}
		if ((fd = open(o->responder_log, O_RDONLY)) < 0)
			continue;
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		text[n > 0 ? n : 0] = '\0';
		if ((p = strstr(text, "ACCEPT ")) == NULL ||
		    (end = strchr(p, '\n')) == NULL)
			continue;
		*end = '\0';
		if ((end = strchr(p + 7, ' ')) != NULL)
			*end = '\0';
		if ((p = strrchr(p, ':')) != NULL)
			port = atoi(p + 1);
	}
	if (port <= 0) {
		snprintf(why, whylen, "openssl ocsp did not report a port (see "
		    "%s)", o->responder_log);
		stop_responder();
		port = -1;
	}
 out:
	free(index);
	free(ca);
	free(key);
	return port;
}

/* A configuration and a service file of their own for one control. */
static void
ocsp_service(struct fixture *f, struct fixture *out, const char *name,
    const char *url, EVP_PKEY *key)
{
	char *p, *conf, *text;

	*out = *f;
	out->key = key;
	out->watchdog = OCSP_CHILD_SECONDS;
	p = xasprintf("%s-cache", name);
	out->cache = tu_path(f->dir, p);
	free(p);
	p = xasprintf("%s.conf", name);
	conf = tu_path(f->dir, p);
	free(p);
	text = xasprintf("# fault injection, OCSP\ntrust = ca\n"
	    "ca_file = %s/ca.pem\nchain_file = %s/chain.pem\ncrl = off\n"
	    "ocsp = soft\nocsp_url = %s\nocsp_timeout_ms = %d\n"
	    "ocsp_cache_dir = %s\nchallenge_ttl = 120\n", f->dir, f->dir,
	    url, OCSP_TIMEOUT_MS, out->cache);
	tu_write_file(conf, text, 0644);
	free(text);
	p = xasprintf("pam.d-%s", name);
	out->confdir = tu_path(f->dir, p);
	free(p);
	if (mkdir(out->confdir, 0755) != 0)
		exit(1);
	p = tu_path(out->confdir, SERVICE);
	text = xasprintf("auth required %s config=%s bindings_dir=%s/"
	    "bindings-ocsp hostname=fault-host nodelay\n", MODULE_PATH, conf,
	    f->dir);
	tu_write_file(p, text, 0644);
	free(text);
	free(p);
	free(conf);
}

/*
 * Whether the module would run the helper at path: it is there and
 * executable, and its directory and every parent are safe (the module
 * runs helpers only from such: certauth_open_helper).  0, or -1 with why.
 */
static int
helper_usable(const char *path, const char *what, char *why, size_t whylen)
{
	char *dir, *slash;
	int ok;

	if (access(path, X_OK) != 0) {
		snprintf(why, whylen, "no %s at %s (build with scripts/build, "
		    "or make install first)", what, path);
		return -1;
	}
	if ((dir = strdup(path)) == NULL)
		exit(1);
	slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	ok = certauth_check_dir_safely(dir, "helper directory", NULL) == 0;
	free(dir);
	if (!ok) {
		snprintf(why, whylen, "the %s's directory or a parent is not "
		    "safe (root-owned, not group/other-writable)", what);
		return -1;
	}
	return 0;
}

/*
 * Two more users' certificates from the intermediate CA, one good and one
 * revoked in the responder's index, both bound to the user (the key the
 * conversation signs with picks one), and the responder.  Returns 0, or
 * -1 with the reason in why: the OCSP pass is then skipped.
 */
static int
setup_ocsp(struct fixture *f, struct ocsp_fixture *o, char *why,
    size_t whylen)
{
	/* Neutral names: only the module's own words say "revoked". */
	struct tu_cert_opts good_opts = { "fault ocsp user 1", -1, 365, 0,
	    "critical,digitalSignature", "clientAuth", GOOD_SERIAL };
	struct tu_cert_opts revoked_opts = { "fault ocsp user 2", -1, 365, 0,
	    "critical,digitalSignature", "clientAuth", REVOKED_SERIAL };
	EVP_PKEY *good_key, *revoked_key;
	X509 *bound[2];
	char *p, *url;
	FILE *fp;
	time_t now = time(NULL);

	if (helper_usable(CERTAUTH_OCSP_HELPER, "OCSP helper", why,
	    whylen) != 0)
		return -1;

	good_key = tu_keygen("ED25519");
	revoked_key = tu_keygen("ED25519");
	bound[0] = tu_make_cert(good_key, &good_opts, f->pki.inter,
	    f->pki.inter_key);
	bound[1] = tu_make_cert(revoked_key, &revoked_opts, f->pki.inter,
	    f->pki.inter_key);
	p = tu_path(f->dir, "bindings-ocsp");
	if (mkdir(p, 0755) != 0)
		exit(1);
	free(p);
	p = xasprintf("%s/bindings-ocsp/%s", f->dir, f->user);
	tu_write_certs(p, bound, 2, 0644);
	free(p);

	p = tu_path(f->dir, "int.key");
	if ((fp = fopen(p, "w")) == NULL || chmod(p, 0600) != 0 ||
	    !PEM_write_PrivateKey(fp, f->pki.inter_key, NULL, NULL, 0, NULL,
	    NULL) ||
	    fclose(fp) != 0)
		exit(1);
	free(p);
	p = tu_path(f->dir, "index.txt");
	if ((fp = fopen(p, "w")) == NULL)
		exit(1);
	index_line(fp, 'V', bound[0], now);
	index_line(fp, 'R', bound[1], now);
	if (fclose(fp) != 0)
		exit(1);
	free(p);
	X509_free(bound[0]);
	X509_free(bound[1]);

	if ((o->port = start_responder(f, o, why, whylen)) < 0)
		return -1;
	url = xasprintf("http://127.0.0.1:%d/", o->port);
	ocsp_service(f, &o->revoked, "ocsp", url, revoked_key);
	o->good = o->revoked;
	o->good.key = good_key;
	free(url);
	/* Nothing listens on port 1: the helper sees "connection refused". */
	ocsp_service(f, &o->soft, "soft", "http://127.0.0.1:1/", revoked_key);
	return 0;
}

/* A module line at LOG_NOTICE or worse that contains text. */
static int
module_said(const struct fault_record *rec, const char *text)
{
	const char *p = rec->log + rec->log_armed_at, *nl, *m, *t;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if (atoi(p) > LOG_NOTICE || (m = strstr(p, MODULE_LINE)) ==
		    NULL || m > nl || (t = strstr(m, text)) == NULL || t > nl)
			continue;
		return 1;
	}
	return 0;
}

/* Anything logged (at any priority, by anyone) that contains text. */
static int
logged(const struct fault_record *rec, const char *text)
{
	const char *t = strstr(rec->log + rec->log_armed_at, text);

	return t != NULL;
}

/* Does dir hold a cache entry (a name without a leading dot)? */
static int
has_entry(const char *dir)
{
	struct dirent *d;
	DIR *dp;
	int found = 0;

	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL)
		if (d->d_name[0] != '.')
			found = 1;
	closedir(dp);
	return found;
}

/*
 * One faulted login of the OCSP pass.  The certificate is revoked, so no
 * fault may let it in, with no allowance of any kind; and no local fault
 * may be logged as an unreachable responder that ocsp=soft accepts.
 */
static int
judge_ocsp(const struct shared *sh, int status, const struct func_range *scope)
{
	const struct fault_record *rec = &sh->rec;

	if (WIFSIGNALED(status) || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || !sh->reached)
		return V_CRASH;
	if (!rec->fired || !under_function(rec, scope))
		return V_NOT_FIRED;
	if (logged(rec, SOFT_LINE))
		return V_SOFT;
	if (sh->pam_result == PAM_SUCCESS || sh->pam_result == PAM_IGNORE)
		return V_SUCCESS;
	if (rec->fired_in_log)
		return any_line(rec) ? V_REFUSED : V_NO_REASON;
	return module_reason(rec) ? V_REFUSED : V_NO_REASON;
}

/* A site of the OCSP pass: the nth call of its kind from the first one
 * under certauth_ocsp_check_chain. */
struct ocsp_site {
	int kind;
	long nth;
};

struct ocsp_pass {
	long calls;		/* the unharmed login's injectable calls */
	long from;		/* the first of them under the scope */
	struct ocsp_site *sites;
	long nsites, sites_of[FAULT_NKINDS];
	long counts[FAULT_NKINDS][V_NVERDICTS];
	long revoked[FAULT_NKINDS];	/* refused, still as revoked */
	long kill_runs[2], kill_counts[2][V_NVERDICTS];	/* EPERM, ENOSYS */
	long retried;
	double seconds;
};

/* TAP lines of the OCSP pass: controls, baseline, kinds, kill paths. */
#define OCSP_LINES	(3 + FAULT_NKINDS + 2)

/* A login of the revoked certificate refused for it, and nothing soft. */
static int
revoked_refusal(const struct shared *sh, int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->reached &&
	    sh->pam_result != PAM_SUCCESS && sh->pam_result != PAM_IGNORE &&
	    module_said(&sh->rec, REVOKED_LINE) && !logged(&sh->rec, SOFT_LINE);
}

/*
 * The controls and the unharmed login, one TAP line each, and the sites.
 * How many polls and reads the exchange takes depends on how the helper's
 * record arrives: the sites of a kind are those the unharmed run with the
 * fewest calls of it reaches.
 */
static int
ocsp_baselines(struct ocsp_fixture *o, struct shared *sh,
    struct ocsp_pass *p, const struct func_range *scope, int *test)
{
	const struct arming count = { 1, -1, 0, -1, NULL, 0, 0 };
	const struct arming scanned = { 1, -1, 0, -1, scope, 0, 0 };
	struct arming tally = { 0, FAULT_POLL, 0, -1, NULL, 0, 0 };
	long k, i, fewest[FAULT_NKINDS], polls[UNHARMED_RUNS],
	    reads[UNHARMED_RUNS];
	int status, ok, kind, run, bad = 0;

	status = run_armed(&o->good, sh, &count, 0);
	ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->reached &&
	    sh->pam_result == PAM_SUCCESS && !logged(&sh->rec, SOFT_LINE) &&
	    has_entry(o->good.cache);
	printf("%s %d - ocsp control: a certificate the responder calls good "
	    "logs in, its answer fetched, verified and cached\n",
	    ok ? "ok" : "not ok", (*test)++);
	if (!ok) {
		describe("ocsp", "good control", 0, sh, status);
		print_log(&sh->rec);
		bad = 1;
	}

	status = run_armed(&o->soft, sh, &count, 0);
	ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->reached &&
	    sh->pam_result == PAM_SUCCESS && logged(&sh->rec, SOFT_LINE);
	printf("%s %d - ocsp control: with nothing listening at the URL, "
	    "ocsp=soft lets the revoked certificate in and logs \""
	    SOFT_LINE "\"\n", ok ? "ok" : "not ok", (*test)++);
	if (!ok) {
		describe("ocsp", "soft control", 0, sh, status);
		print_log(&sh->rec);
		bad = 1;
	}

	status = run_armed(&o->revoked, sh, &scanned, 0);
	p->calls = sh->rec.calls;
	for (k = 1; k <= p->calls && k < FAULT_MAX_CALLS; k++)
		if ((sh->rec.kind[k] & FAULT_IN_SCOPE) != 0)
			break;
	p->from = k;
	ok = revoked_refusal(sh, status) && p->calls > 0 &&
	    p->calls < FAULT_MAX_CALLS && p->from <= p->calls;
	if (ok) {
		if ((p->sites = calloc((size_t)p->calls,
		    sizeof(*p->sites))) == NULL)
			exit(1);
		memset(fewest, 0, sizeof(fewest));
		for (k = p->from; k <= p->calls; k++) {
			kind = sh->rec.kind[k] & FAULT_KIND_MASK;
			fewest[kind]++;
			if ((sh->rec.kind[k] & FAULT_IN_SCOPE) == 0)
				continue;
			p->sites[p->nsites].kind = kind;
			p->sites[p->nsites++].nth = fewest[kind];
		}
		polls[0] = fewest[FAULT_POLL];
		reads[0] = fewest[FAULT_READ];
	}
	/* More unharmed runs, counting each kind's calls from p->from on:
	 * a site is one that every run reaches. */
	tally.from = p->from;
	for (run = 1; ok && run < UNHARMED_RUNS; run++) {
		status = run_armed(&o->revoked, sh, &tally, 0);
		if (!(ok = revoked_refusal(sh, status)))
			break;
		for (kind = 0; kind < FAULT_NKINDS; kind++)
			if (sh->rec.kind_calls[kind] < fewest[kind])
				fewest[kind] = sh->rec.kind_calls[kind];
		polls[run] = sh->rec.kind_calls[FAULT_POLL];
		reads[run] = sh->rec.kind_calls[FAULT_READ];
	}
	printf("%s %d - ocsp: unharmed login with the revoked certificate is "
	    "refused as revoked, %d times (%ld injectable calls, from call %ld "
	    "under " OCSP_SCOPE ")\n", ok ? "ok" : "not ok", (*test)++,
	    UNHARMED_RUNS, p->calls, p->from);
	if (!ok) {
		describe("ocsp", "baseline", 0, sh, status);
		print_log(&sh->rec);
		return -1;
	}
	printf("# ocsp unharmed runs: polls");
	for (run = 0; run < UNHARMED_RUNS; run++)
		printf(" %ld", polls[run]);
	printf(", reads");
	for (run = 0; run < UNHARMED_RUNS; run++)
		printf(" %ld", reads[run]);
	printf(" from call %ld on\n", p->from);
	for (k = i = 0; k < p->nsites; k++) {
		if (p->sites[k].nth > fewest[p->sites[k].kind])
			continue;
		p->sites_of[p->sites[k].kind]++;
		p->sites[i++] = p->sites[k];
	}
	p->nsites = i;
	return bad ? -1 : 0;
}

/* One line for a site of the fetch's own calls, whatever its verdict. */
static void
show_site(const char *what, const struct ocsp_site *s,
    const struct shared *sh, int v)
{
	char line[600];

	last_line(&sh->rec, line, sizeof(line));
	printf("# ocsp %s%s #%ld: %s in %s -> %s; pam_authenticate %d (%s); "
	    "syslog: %s\n", what, fault_kind_name(s->kind), s->nth,
	    sh->rec.fired_call, sh->rec.fired_site, verdict_names[v],
	    sh->pam_result, sh->pam_result >= 0 ?
	    pam_strerror(NULL, sh->pam_result) : "-", line);
}

/*
 * pidfd_send_signal has no site in the unharmed login: the helper is
 * killed only when the exchange fails.  Each poll and read site runs
 * again with every pidfd_send_signal failing too, with EPERM (refused)
 * and with ENOSYS (missing); the runs in which a kill was tried and
 * failed are judged like the others.  One TAP line for each errno.
 */
static void
kill_path(struct ocsp_fixture *o, struct shared *sh, struct ocsp_pass *p,
    const struct func_range *scope, int *test)
{
	static const struct {
		int errno_value;
		const char *name;
	} how[2] = { { EPERM, "EPERM" }, { ENOSYS, "ENOSYS" } };
	struct arming a = { p->from, 0, 0, FAULT_PIDFD_KILL, NULL, 0, 0 };
	char what[64];
	long i, *counts;
	int status, v = V_NOT_FIRED, tries, bad, e;

	for (e = 0; e < 2; e++) {
		a.kill_errno = how[e].errno_value;
		counts = p->kill_counts[e];
		snprintf(what, sizeof(what), "kill failing (%s) too, ",
		    how[e].name);
		for (i = 0; i < p->nsites; i++) {
			const struct ocsp_site *s = &p->sites[i];

			if (s->kind != FAULT_POLL && s->kind != FAULT_READ)
				continue;
			a.kind = s->kind;
			a.nth = s->nth;
			for (tries = 0; tries < TRIES; tries++) {
				status = run_armed(&o->revoked, sh, &a, 0);
				if ((v = judge_ocsp(sh, status, scope)) !=
				    V_NOT_FIRED)
					break;
			}
			if (sh->rec.also_failed == 0)
				continue;	/* this fault does not kill */
			p->kill_runs[e]++;
			counts[v]++;
			show_site(what, s, sh, v);
			if (v != V_REFUSED) {
				describe("ocsp", "kill path", i + 1, sh,
				    status);
				print_log(&sh->rec);
			}
		}
		bad = p->kill_runs[e] == 0 ||
		    counts[V_REFUSED] != p->kill_runs[e];
		printf("%s %d - ocsp kill path, pidfd_send_signal failing with "
		    "%s: %ld runs with a poll or read of the exchange failing "
		    "and the kill too; %ld refused with a reason, %ld without a "
		    "reason, %ld wrong successes, %ld accepted as unreachable, "
		    "%ld crashes or hangs, %ld not reached\n",
		    bad ? "not ok" : "ok", (*test)++, how[e].name,
		    p->kill_runs[e], counts[V_REFUSED], counts[V_NO_REASON],
		    counts[V_SUCCESS], counts[V_SOFT], counts[V_CRASH],
		    counts[V_NOT_FIRED]);
	}
}

/*
 * The OCSP pass: every call under certauth_ocsp_check_chain of the
 * unharmed revoked login made to fail in turn.  TAP lines from *test on.
 */
static int
run_ocsp_pass(struct ocsp_fixture *o, struct shared *sh, struct ocsp_pass *p,
    const struct func_range *scope, int *test)
{
	struct arming a = { 0, 0, 0, -1, NULL, 0, 0 };
	struct timeval t0;
	char tag[128];
	long i, shown[V_NVERDICTS];
	int status, v, k, tries, bad;

	gettimeofday(&t0, NULL);
	memset(shown, 0, sizeof(shown));
	if (ocsp_baselines(o, sh, p, scope, test) != 0)
		return -1;
	a.from = p->from;
	for (i = 0; i < p->nsites; i++) {
		const struct ocsp_site *s = &p->sites[i];

		a.kind = s->kind;
		a.nth = s->nth;
		/* Polls and reads of the exchange vary with timing. */
		for (tries = 0; tries < TRIES; tries++) {
			status = run_armed(&o->revoked, sh, &a, 0);
			if ((v = judge_ocsp(sh, status, scope)) != V_NOT_FIRED)
				break;
			p->retried++;
		}
		p->counts[s->kind][v]++;
		if (v == V_REFUSED && module_said(&sh->rec, REVOKED_LINE))
			p->revoked[s->kind]++;
		if (v != V_REFUSED && shown[v]++ < SHOW_MAX) {
			snprintf(tag, sizeof(tag), "%s, %s #%ld,",
			    verdict_names[v], fault_kind_name(s->kind), s->nth);
			describe("ocsp", tag, i + 1, sh, status);
			print_log(&sh->rec);
		} else if (s->kind != FAULT_ALLOC) {
			show_site("", s, sh, v);
		}
	}
	for (k = 0; k < FAULT_NKINDS; k++) {
		bad = p->counts[k][V_NO_REASON] + p->counts[k][V_SUCCESS] +
		    p->counts[k][V_CRASH] + p->counts[k][V_NOT_FIRED] +
		    p->counts[k][V_SOFT] != 0;
		printf("%s %d - ocsp %s: %ld sites; %ld refused with a reason "
		    "(%ld of them still as revoked); %ld without a reason, %ld "
		    "wrong successes, %ld accepted as unreachable, %ld crashes, "
		    "%ld not reached\n", bad ? "not ok" : "ok", (*test)++,
		    fault_kind_name(k), p->sites_of[k],
		    p->counts[k][V_REFUSED], p->revoked[k],
		    p->counts[k][V_NO_REASON], p->counts[k][V_SUCCESS],
		    p->counts[k][V_SOFT], p->counts[k][V_CRASH],
		    p->counts[k][V_NOT_FIRED]);
	}
	kill_path(o, sh, p, scope, test);
	p->seconds = seconds_since(&t0);
	printf("# ocsp fault sites tried: %ld (of %ld calls, from call %ld), "
	    "results:", p->nsites, p->calls, p->from);
	for (v = 0; v < V_NVERDICTS; v++) {
		long sum = 0;

		for (k = 0; k < FAULT_NKINDS; k++)
			sum += p->counts[k][v];
		printf("%s %ld %s", v ? "," : "", sum, verdict_names[v]);
	}
	printf(" (%ld runs again because the call did not come; %.1f s)\n",
	    p->retried, p->seconds);
	return 0;
}

/* ------------------------------------------------------------ agent mode */

#define AGENT_SCOPE	"agent_answer"
#define REAP_SCOPE	"certauth_reap"
#define AGENT_LINE	"the answer comes from the ssh-agent at"
#define FALLBACK_LINE	"asking through the conversation"
#define AGENT_TTL	10	/* challenge_ttl: the agent's deadline */
#define AGENT_USER	"nobody"

/* The agent passes' logins: agent=only, agent=try, and try with nothing
 * at SSH_AUTH_SOCK (the control that a fallback shows). */
struct agent_fixture {
	struct fixture only, try, gone;
	struct tu_agent agent;
	int up;
};

static void
agent_service(struct fixture *f, struct fixture *out, const char *name,
    const char *mode, const char *sock, const struct passwd *pw)
{
	char *p, *text;

	*out = *f;
	out->agent_sock = sock;
	out->agent_uid = pw->pw_uid;
	out->agent_gid = pw->pw_gid;
	p = xasprintf("pam.d-%s", name);
	out->confdir = tu_path(f->dir, p);
	free(p);
	if (mkdir(out->confdir, 0755) != 0)
		exit(1);
	p = tu_path(out->confdir, SERVICE);
	text = xasprintf("auth required %s config=%s/pam_certauth.conf "
	    "bindings_dir=%s hostname=fault-host nodelay agent=%s "
	    "challenge_ttl=%d\n", MODULE_PATH, f->dir, f->pki.bindings_dir,
	    mode, AGENT_TTL);
	tu_write_file(p, text, 0644);
	free(text);
	free(p);
}

/*
 * The fake agent (tests/common/fakeagent.h) as user nobody in a
 * directory of nobody's under the scratch directory, holding the user's
 * key (the second certificate bound: the first does not match), and the
 * three services.  -1 with why: the agent passes are skipped.
 */
static int
setup_agent(struct fixture *f, struct agent_fixture *o, char *why,
    size_t whylen)
{
	struct tu_agent_script s;
	struct passwd *pw = getpwnam(AGENT_USER);

	if (pw == NULL || pw->pw_uid == 0) {
		snprintf(why, whylen, "no user " AGENT_USER);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.list = s.sign = TU_AGENT_WELL;
	s.listed = &f->pki.user_key;
	s.nlisted = 1;
	s.signer = f->pki.user_key;
	tu_agent_start(&o->agent, &s, f->dir, pw->pw_uid, pw->pw_gid);
	o->up = 1;
	agent_service(f, &o->only, "agent-only", "only", o->agent.path, pw);
	agent_service(f, &o->try, "agent-try", "try", o->agent.path, pw);
	agent_service(f, &o->gone, "agent-gone", "try",
	    "/nonexistent/agent.sock", pw);
	return 0;
}

/* One agent pass: agent=only or agent=try. */
struct agent_pass {
	const char *name;		/* "agent=only" */
	struct fixture *f;
	long calls, from;
	struct ocsp_site *sites;
	long nsites, sites_of[FAULT_NKINDS];
	long counts[FAULT_NKINDS][V_NVERDICTS];
	long retried;
	char good_line[1024];
	double seconds;
};

/* The success line of an agent login (after the agent's own line), with
 * its newline. */
static int
decision_line(const struct fault_record *rec, char *buf, size_t len)
{
	const char *p = strstr(rec->log, " authenticated with certificate "),
	    *start, *nl;

	if (p == NULL || (nl = strchr(p, '\n')) == NULL)
		return -1;
	for (start = p; start > rec->log && start[-1] != '\n'; start--)
		;
	if ((start = strstr(start, MODULE_LINE)) == NULL || start > p)
		return -1;
	snprintf(buf, len, "%.*s", (int)(nl + 1 - start), start);
	return 0;
}

/* An unharmed agent login: in, from the agent, no fallback, no child
 * left. */
static int
agent_success(const struct shared *sh, int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->reached &&
	    sh->pam_result == PAM_SUCCESS && logged(&sh->rec, AGENT_LINE) &&
	    !logged(&sh->rec, FALLBACK_LINE) && !sh->leftover;
}

/*
 * One faulted agent login.  Success is allowed only for a fault while
 * the connecting child is reaped (it has handed the connection over; the
 * host may have reaped it first) or an allocation a library recovers
 * from, each with the unharmed run's success line; a fallback to the
 * conversation is never allowed, nor a child left after a refusal.
 */
static int
judge_agent(const struct shared *sh, int status, const struct agent_pass *p,
    const struct func_range *scope, const struct func_range *reap)
{
	const struct fault_record *rec = &sh->rec;
	int same;

	if (WIFSIGNALED(status) || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || !sh->reached)
		return V_CRASH;
	if (!rec->fired || !under_function(rec, scope))
		return V_NOT_FIRED;
	if (logged(rec, FALLBACK_LINE))
		return V_FALLBACK;
	same = strstr(rec->log + rec->log_armed_at, p->good_line) != NULL;
	if (rec->fired_in_log && sh->pam_result == PAM_SUCCESS)
		return V_LOGGER;
	if (sh->pam_result == PAM_SUCCESS || sh->pam_result == PAM_IGNORE) {
		if (sh->pam_result == PAM_SUCCESS && under_function(rec, reap) &&
		    same)
			return V_REAPLESS;
		if (sh->pam_result == PAM_SUCCESS && !sh->leftover &&
		    rec->fired_kind == FAULT_ALLOC &&
		    strcmp(rec->fired_caller, "pam_certauth.so") != 0 && same)
			return V_ABSORBED;
		return V_SUCCESS;
	}
	if (sh->leftover && !under_function(rec, reap))
		return V_LEFTOVER;
	if (rec->fired_in_log)
		return any_line(rec) ? V_REFUSED : V_NO_REASON;
	return module_reason(rec) ? V_REFUSED : V_NO_REASON;
}

/*
 * The pass's unharmed runs (one TAP line) and its sites: every call
 * under agent_answer, the connecting child's included, as the nth of its
 * kind from the first such call; polls and reads as many as the run with
 * the fewest reaches.
 */
static int
agent_baseline(struct agent_pass *p, struct shared *sh,
    const struct func_range *scope, int *test)
{
	const struct arming scanned = { 1, -1, 0, -1, scope, 0, 1 };
	struct arming tally = { 0, FAULT_POLL, 0, -1, NULL, 0, 1 };
	long k, i, fewest[FAULT_NKINDS];
	int status, ok, kind, run;

	status = run_armed(p->f, sh, &scanned, 0);
	p->calls = sh->rec.calls;
	for (k = 1; k <= p->calls && k < FAULT_MAX_CALLS; k++)
		if ((sh->rec.kind[k] & FAULT_IN_SCOPE) != 0)
			break;
	p->from = k;
	ok = agent_success(sh, status) && p->calls > 0 &&
	    p->calls < FAULT_MAX_CALLS && p->from <= p->calls &&
	    decision_line(&sh->rec, p->good_line, sizeof(p->good_line)) == 0;
	if (ok) {
		if ((p->sites = calloc((size_t)p->calls,
		    sizeof(*p->sites))) == NULL)
			exit(1);
		memset(fewest, 0, sizeof(fewest));
		for (k = p->from; k <= p->calls; k++) {
			kind = sh->rec.kind[k] & FAULT_KIND_MASK;
			fewest[kind]++;
			if ((sh->rec.kind[k] & FAULT_IN_SCOPE) == 0)
				continue;
			p->sites[p->nsites].kind = kind;
			p->sites[p->nsites++].nth = fewest[kind];
		}
	}
	tally.from = p->from;
	for (run = 1; ok && run < UNHARMED_RUNS; run++) {
		status = run_armed(p->f, sh, &tally, 0);
		if (!(ok = agent_success(sh, status)))
			break;
		for (kind = 0; kind < FAULT_NKINDS; kind++)
			if (sh->rec.kind_calls[kind] < fewest[kind])
				fewest[kind] = sh->rec.kind_calls[kind];
	}
	printf("%s %d - %s: unharmed login logs in with the agent's answer, "
	    "no fallback, no child left, %d times (%ld injectable calls, from "
	    "call %ld under " AGENT_SCOPE ")\n", ok ? "ok" : "not ok",
	    (*test)++, p->name, UNHARMED_RUNS, p->calls, p->from);
	if (!ok) {
		describe(p->name, "baseline", 0, sh, status);
		print_log(&sh->rec);
		return -1;
	}
	for (k = i = 0; k < p->nsites; k++) {
		if (p->sites[k].nth > fewest[p->sites[k].kind])
			continue;
		p->sites_of[p->sites[k].kind]++;
		p->sites[i++] = p->sites[k];
	}
	p->nsites = i;
	return 0;
}

/* Every site of the pass failed in turn; one TAP line per kind. */
static int
run_agent_pass(struct agent_pass *p, struct shared *sh,
    const struct func_range *scope, const struct func_range *reap,
    int *test)
{
	struct arming a = { 0, 0, 0, -1, NULL, 0, 1 };
	struct timeval t0;
	char tag[160];
	long i, shown[V_NVERDICTS];
	int status, v = V_NOT_FIRED, k, tries, bad;

	gettimeofday(&t0, NULL);
	memset(shown, 0, sizeof(shown));
	if (agent_baseline(p, sh, scope, test) != 0)
		return -1;
	a.from = p->from;
	for (i = 0; i < p->nsites; i++) {
		const struct ocsp_site *s = &p->sites[i];

		a.kind = s->kind;
		a.nth = s->nth;
		for (tries = 0; tries < TRIES; tries++) {
			status = run_armed(p->f, sh, &a, 0);
			if ((v = judge_agent(sh, status, p, scope, reap)) !=
			    V_NOT_FIRED)
				break;
			p->retried++;
		}
		p->counts[s->kind][v]++;
		if (v != V_REFUSED && v != V_ABSORBED && v != V_REAPLESS &&
		    v != V_LOGGER && shown[v]++ < SHOW_MAX) {
			snprintf(tag, sizeof(tag), "%s, %s #%ld,",
			    verdict_names[v], fault_kind_name(s->kind), s->nth);
			describe(p->name, tag, i + 1, sh, status);
			print_log(&sh->rec);
		} else if (s->kind != FAULT_ALLOC) {
			char line[600];

			last_line(&sh->rec, line, sizeof(line));
			printf("# %s %s #%ld: %s in %s -> %s; syslog: %s\n",
			    p->name, fault_kind_name(s->kind), s->nth,
			    sh->rec.fired_call, sh->rec.fired_site,
			    verdict_names[v], line);
		}
	}
	for (k = 0; k < FAULT_NKINDS; k++) {
		/* How often the module polls, waits for its connecting
		 * child or reads a reply that comes in pieces depends on
		 * scheduling: such a call that no try reached is listed,
		 * not held against the module. */
		bad = p->counts[k][V_NO_REASON] + p->counts[k][V_SUCCESS] +
		    p->counts[k][V_CRASH] +
		    (k == FAULT_POLL || k == FAULT_WAITPID ||
				    k == FAULT_RECV ?
			    0 :
			    p->counts[k][V_NOT_FIRED]) +
		    p->counts[k][V_FALLBACK] + p->counts[k][V_LEFTOVER] != 0;
		printf("%s %d - %s %s: %ld sites; %ld refused with a reason, "
		    "login unaffected: %ld while reaping, %ld absorbed by a "
		    "library, %ld logger faults; %ld fell back to the conversation, %ld left a "
		    "child, %ld without a reason, %ld wrong successes, %ld "
		    "crashes, %ld not reached\n", bad ? "not ok" : "ok",
		    (*test)++, p->name, fault_kind_name(k), p->sites_of[k],
		    p->counts[k][V_REFUSED], p->counts[k][V_REAPLESS],
		    p->counts[k][V_ABSORBED], p->counts[k][V_LOGGER],
		    p->counts[k][V_FALLBACK],
		    p->counts[k][V_LEFTOVER], p->counts[k][V_NO_REASON],
		    p->counts[k][V_SUCCESS], p->counts[k][V_CRASH],
		    p->counts[k][V_NOT_FIRED]);
	}
	p->seconds = seconds_since(&t0);
	printf("# %s fault sites tried: %ld (of %ld calls, from call %ld), "
	    "results:", p->name, p->nsites, p->calls, p->from);
	for (v = 0; v < V_NVERDICTS; v++) {
		long sum = 0;

		for (k = 0; k < FAULT_NKINDS; k++)
			sum += p->counts[k][v];
		printf("%s %ld %s", v ? "," : "", sum, verdict_names[v]);
	}
	printf(" (%ld runs again because the call did not come; %.1f s)\n",
	    p->retried, p->seconds);
	return 0;
}

/*
 * The control that shows a fallback would be seen: agent=try with
 * nothing at SSH_AUTH_SOCK asks the conversation, which logs in, and
 * says so.  One TAP line.
 */
static int
agent_fallback_control(struct agent_fixture *o, struct shared *sh,
    int *test)
{
	const struct arming count = { 1, -1, 0, -1, NULL, 0, 1 };
	int status, ok;

	status = run_armed(&o->gone, sh, &count, 0);
	ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->reached &&
	    sh->pam_result == PAM_SUCCESS && logged(&sh->rec, FALLBACK_LINE) &&
	    !logged(&sh->rec, AGENT_LINE);
	printf("%s %d - agent control: agent=try with nothing at SSH_AUTH_SOCK "
	    "asks the conversation, logs in, and logs \"" FALLBACK_LINE "\"\n",
	    ok ? "ok" : "not ok", (*test)++);
	if (!ok) {
		describe("agent", "fallback control", 0, sh, status);
		print_log(&sh->rec);
		return -1;
	}
	return 0;
}

/* TAP lines of the agent passes: the control, then per pass its
 * baseline and one per kind. */
#define AGENT_LINES	(1 + 2 * (1 + FAULT_NKINDS))

/* ------------------------------------------------------------ LDAP cache */

#define LDAP_BOUND	"; bound by ldap (cache)"
#define UNREACHABLE_LINE	"cannot reach LDAP directory"
#define LDAP_WORDS	8	/* module arguments of the ldap service */

/*
 * The ldap pass's login: bindings=ldap with ldaps:// to a port of
 * 127.0.0.1 that a socket of this process holds without listening (so
 * nothing can, and every connection is refused), and the user's entry
 * in the LDAP cache, written here as the module writes one.
 */
struct ldap_fixture {
	struct fixture login;
	char *cache_dir;	/* certauth_opts_ldap_cache_dir of its options */
	unsigned char md[CERTAUTH_LDAP_SETTINGS_LEN];
	unsigned char *der[2];	/* the entry's certificates */
	size_t derlen[2];
	int port_fd;		/* holds ldap_uri's port; -1: none */
	int helper;		/* the LDAP helper would run (the control) */
	char helper_why[256];	/* else why not */
};

/*
 * A service of its own, pam.d-<name>, whose module line is the words;
 * the fixture is f's with that directory.
 */
static void
words_service(struct fixture *f, struct fixture *out, const char *name,
    const char *const *words, int n)
{
	char *p, *text, *line;
	int i;

	*out = *f;
	p = xasprintf("pam.d-%s", name);
	out->confdir = tu_path(f->dir, p);
	free(p);
	if (mkdir(out->confdir, 0755) != 0)
		exit(1);
	text = xasprintf("auth required %s", MODULE_PATH);
	for (i = 0; i < n; i++) {
		line = xasprintf("%s %s", text, words[i]);
		free(text);
		text = line;
	}
	line = xasprintf("%s\n", text);
	p = tu_path(out->confdir, SERVICE);
	tu_write_file(p, line, 0644);
	free(p);
	free(line);
	free(text);
}

/* A port of 127.0.0.1 bound by a socket that never listens: connecting
 * to it is refused for as long as *fd stays open.  -1 on failure. */
static int
refusing_port(int *fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(*fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&a, &len) != 0) {
		close(*fd);
		*fd = -1;
		return -1;
	}
	return ntohs(a.sin_port);
}

/* The user's cache entry, written anew: fresh from now on. */
static int
store_entry(const struct ldap_fixture *o, char *why, size_t whylen)
{
	const unsigned char *val[2] = { o->der[0], o->der[1] };
	struct certauth_reason r;

	memset(&r, 0, sizeof(r));
	if (certauth_ldap_cache_store(o->cache_dir, o->login.user, o->md,
	    time(NULL), val, o->derlen, 2, &r) != 0) {
		snprintf(why, whylen, "certauth_ldap_cache_store: %s", r.text);
		return -1;
	}
	return 0;
}

/*
 * The service, its options read back as the module reads them
 * (certauth_opts_from_words on the very words of its module line), the
 * settings digest of ldap.c from them (certauth_ldap_settings), and the
 * entry: two certificates from the intermediate CA, of which the first
 * does not verify the answer, as in the bindings file.  0, or -1 with
 * why: the fixture is broken and the run stops.
 */
static int
setup_ldap(struct fixture *f, struct ldap_fixture *o, char *why,
    size_t whylen)
{
	struct tu_cert_opts spare_opts = tu_user_opts("fault ldap spare");
	const char *words[LDAP_WORDS];
	char *w[LDAP_WORDS];
	struct certauth_opts opts;
	struct certauth_reason r;
	EVP_PKEY *spare_key;
	X509 *spare;
	unsigned char *der;
	int port, i, len, ret = -1;

	memset(o, 0, sizeof(*o));
	o->port_fd = -1;
	if ((port = refusing_port(&o->port_fd)) <= 0) {
		snprintf(why, whylen, "no port of 127.0.0.1 to hold: %s",
		    strerror(errno));
		return -1;
	}
	w[0] = xasprintf("config=%s/pam_certauth.conf", f->dir);
	w[1] = xasprintf("bindings=ldap");
	w[2] = xasprintf("ldap_uri=ldaps://127.0.0.1:%d", port);
	w[3] = xasprintf("ldap_base=dc=fault,dc=example");
	w[4] = xasprintf("ldap_ca_file=%s", f->pki.ca_file);
	w[5] = xasprintf("ldap_cache_dir=%s/ldap-cache", f->dir);
	w[6] = xasprintf("hostname=fault-host");
	w[7] = xasprintf("nodelay");
	for (i = 0; i < LDAP_WORDS; i++)
		words[i] = w[i];
	words_service(f, &o->login, "ldap", words, LDAP_WORDS);

	certauth_opts_init(&opts);
	memset(&r, 0, sizeof(r));
	if (certauth_opts_from_words(&opts, LDAP_WORDS, words, &r) != 0) {
		snprintf(why, whylen, "the ldap service's options: %s", r.text);
		goto out;
	}
	if (certauth_opts_ldap_cache_dir(&opts) == NULL ||
	    (o->cache_dir = strdup(certauth_opts_ldap_cache_dir(&opts))) ==
	    NULL || certauth_ldap_settings(&opts, o->md) != 0) {
		snprintf(why, whylen, "no LDAP cache directory or settings "
		    "digest from the ldap service's options");
		goto out;
	}

	spare_key = tu_keygen("ED25519");
	spare = tu_make_cert(spare_key, &spare_opts, f->pki.inter,
	    f->pki.inter_key);
	for (i = 0; i < 2; i++) {
		der = NULL;
		if ((len = i2d_X509(i == 0 ? spare : f->pki.user, &der)) <= 0)
			exit(1);
		o->der[i] = der;
		o->derlen[i] = (size_t)len;
	}
	X509_free(spare);
	EVP_PKEY_free(spare_key);
	if (store_entry(o, why, whylen) != 0)
		goto out;
	o->helper = helper_usable(CERTAUTH_LDAP_HELPER, "LDAP helper",
	    o->helper_why, sizeof(o->helper_why)) == 0;
	ret = 0;
 out:
	certauth_opts_free(&opts);
	for (i = 0; i < LDAP_WORDS; i++)
		free(w[i]);
	return ret;
}

static void
free_ldap(struct ldap_fixture *o)
{
	if (o->port_fd >= 0)
		close(o->port_fd);
	OPENSSL_free(o->der[0]);
	OPENSSL_free(o->der[1]);
	free(o->cache_dir);
}

/* A login refused, with text in a line of the module's, and not in. */
static int
refused_saying(const struct shared *sh, int status, const char *text)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->reached &&
	    sh->pam_result != PAM_SUCCESS && sh->pam_result != PAM_IGNORE &&
	    module_said(&sh->rec, text) &&
	    !logged(&sh->rec, " authenticated with certificate ");
}

/*
 * The control that shows the baseline stands on the cache alone: the
 * same login with the user's entry removed asks the directory, which
 * cannot be reached, and is refused for it.  The entry is then written
 * again.  One TAP line (skipped when the helper would not run, as the
 * refusal would then be the helper's).
 */
static int
ldap_control(struct ldap_fixture *o, struct shared *sh, int *test)
{
	const struct arming count = { 1, -1, 0, -1, NULL, 0, 0 };
	struct certauth_reason r;
	char why[CERTAUTH_REASON_MAX + 64];
	int status, ok;

	if (!o->helper) {
		printf("ok %d # SKIP %s\n", (*test)++, o->helper_why);
		return 0;
	}
	memset(&r, 0, sizeof(r));
	if (certauth_ldap_cache_remove(o->cache_dir, o->login.user, &r) != 0) {
		printf("Bail out! certauth_ldap_cache_remove: %s\n", r.text);
		return -1;
	}
	status = run_armed(&o->login, sh, &count, 0);
	ok = refused_saying(sh, status, UNREACHABLE_LINE);
	printf("%s %d - ldap control: the same login with the cache entry "
	    "removed asks the directory, is refused and logs \""
	    UNREACHABLE_LINE "\"\n", ok ? "ok" : "not ok", (*test)++);
	if (!ok) {
		describe("ldap", "control", 0, sh, status);
		print_log(&sh->rec);
	}
	if (store_entry(o, why, sizeof(why)) != 0) {
		printf("Bail out! %s\n", why);
		return -1;
	}
	return ok ? 0 : -1;
}

/* TAP lines of the ldap pass: the control, the baseline, the kinds. */
#define LDAP_LINES	(2 + FAULT_NKINDS)

/* ------------------------------------------------------------ rules */

#define RULES_BOUND	"; bound by rules"
#define NO_OFFER_LINE	"and the answer offers no certificate"
#define RULES_WORDS	5
/* The issuer's DN as the rules see it; INTER_CN needs no regular
 * expression escapes. */
#define ISSUER_RE	"^CN=" INTER_CN "$"

/*
 * The rules pass's login: bindings=rules, a rules file that maps a
 * certificate of the intermediate CA for client logins to the account
 * its CN names, and an answer that offers such a certificate of the
 * user's.  bare: the same answer offering none (the control).
 */
struct rules_fixture {
	struct fixture login, bare;
	EVP_PKEY *key;
	unsigned char *der;
};

static void
setup_rules(struct fixture *f, struct rules_fixture *o)
{
	struct tu_cert_opts opts = tu_user_opts(f->user);
	const char *words[RULES_WORDS];
	char *w[RULES_WORDS], *p;
	X509 *cert;
	int i, len;

	memset(o, 0, sizeof(*o));
	o->key = tu_keygen("ED25519");
	cert = tu_make_cert(o->key, &opts, f->pki.inter, f->pki.inter_key);
	if ((len = i2d_X509(cert, &o->der)) <= 0)
		exit(1);
	X509_free(cert);
	/* "&&" leads: every component must match. */
	p = tu_path(f->dir, "rules");
	tu_write_file(p, "# fault injection: the CN names the account\n"
	    "[by_cn]\nmatchrule = &&<ISSUER>" ISSUER_RE "<EKU>clientAuth\n"
	    "maprule = LDAPU1:{subject_dn_component.cn}\n", 0644);
	w[0] = xasprintf("config=%s/pam_certauth.conf", f->dir);
	w[1] = xasprintf("bindings=rules");
	w[2] = xasprintf("rules_file=%s", p);
	w[3] = xasprintf("hostname=fault-host");
	w[4] = xasprintf("nodelay");
	for (i = 0; i < RULES_WORDS; i++)
		words[i] = w[i];
	words_service(f, &o->login, "rules", words, RULES_WORDS);
	o->login.key = o->key;
	o->login.offer = o->der;
	o->login.offer_len = (size_t)len;
	o->bare = o->login;
	o->bare.offer = NULL;
	o->bare.offer_len = 0;
	for (i = 0; i < RULES_WORDS; i++)
		free(w[i]);
	free(p);
}

static void
free_rules(struct rules_fixture *o)
{
	OPENSSL_free(o->der);
	EVP_PKEY_free(o->key);
}

/*
 * The control that shows the baseline stands on the offered
 * certificate: the same answer without it is refused, for that.  One
 * TAP line.
 */
static int
rules_control(struct rules_fixture *o, struct shared *sh, int *test)
{
	const struct arming count = { 1, -1, 0, -1, NULL, 0, 0 };
	int status, ok;

	status = run_armed(&o->bare, sh, &count, 0);
	ok = refused_saying(sh, status, NO_OFFER_LINE);
	printf("%s %d - rules control: the same answer offering no "
	    "certificate is refused, and the log says \"" NO_OFFER_LINE
	    "\"\n", ok ? "ok" : "not ok", (*test)++);
	if (!ok) {
		describe("rules", "control", 0, sh, status);
		print_log(&sh->rec);
		return -1;
	}
	return 0;
}

/* TAP lines of the rules pass: the control, the baseline, the kinds. */
#define RULES_LINES	(2 + FAULT_NKINDS)

/* ------------------------------------------------------------ token mode */

#define TOKEN_SCOPE	"token_answer"
#define TOKEN_LABEL	"fault-card"
#define TOKEN_PIN	"314159"
#define TOKEN_SO_PIN	"27182818"
#define TOKEN_LINE	"the answer comes from token '" TOKEN_LABEL "'"
#define WRONG_PIN_LINE	"wrong PIN for token '" TOKEN_LABEL "'"
#define TOKEN_WORDS	7

/* Where SoftHSM2's PKCS#11 module may be, as tests/e2e/keys.py looks. */
static const char *const softhsm_globs[] = {
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/*/softhsm/libsofthsm2.so",
	"/usr/lib64/softhsm/libsofthsm2.so",
};

/*
 * The PKCS#11 module and the C++ runtime it brings along: a call with a
 * frame of one of these on its stack is the PKCS#11 module's own, not a
 * site of the token pass.
 */
static const char *const pkcs11_objects[] = {
	"libsofthsm2.so", "libstdc++.so.6", "libgcc_s.so.1", NULL
};

/* The token pass's logins: the right PIN, and a wrong one (control). */
struct token_fixture {
	struct fixture login, wrong;
	char module[PATH_MAX];
};

/* The first of softhsm_globs that names a file, into path. */
static int
find_softhsm(char *path, size_t len)
{
	glob_t g;
	size_t i;
	int found = 0;

	for (i = 0; !found && i < sizeof(softhsm_globs) /
	    sizeof(softhsm_globs[0]); i++) {
		memset(&g, 0, sizeof(g));
		if (glob(softhsm_globs[i], 0, NULL, &g) == 0 &&
		    g.gl_pathc > 0) {
			snprintf(path, len, "%s", g.gl_pathv[0]);
			found = 1;
		}
		globfree(&g);
	}
	return found ? 0 : -1;
}

/* Is name a program on PATH? */
static int
on_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;
	char file[PATH_MAX];

	for (p = path != NULL ? path : "/usr/bin:/bin"; *p != '\0'; p = end) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		snprintf(file, sizeof(file), "%.*s/%s", (int)(end - p), p,
		    name);
		if (access(file, X_OK) == 0)
			return 1;
		if (*end == ':')
			end++;
	}
	return 0;
}

/* Run argv (argv[0] on PATH) to its end, its standard output thrown
 * away (TAP is ours).  0 when it exits 0, else -1 with why. */
static int
run_tool(char *const argv[], char *why, size_t whylen)
{
	pid_t pid;
	int status, fd;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			(void)dup2(fd, STDIN_FILENO);
			(void)dup2(fd, STDOUT_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			exit(1);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(why, whylen, "%s %s failed (%s %d)", argv[0], argv[1],
	    WIFEXITED(status) ? "exit status" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return -1;
}

/* key as PKCS#8 DER, or cert as DER, into path (0600). */
static int
write_der(const char *path, EVP_PKEY *key, X509 *cert)
{
	BIO *b;
	int ok;

	if ((b = BIO_new_file(path, "wb")) == NULL)
		return -1;
	ok = (key != NULL ? i2d_PKCS8PrivateKeyInfo_bio(b, key) :
	    i2d_X509_bio(b, cert)) == 1;
	BIO_free(b);
	return ok && chmod(path, 0600) == 0 ? 0 : -1;
}

/*
 * A SoftHSM2 token of the pass's own (SOFTHSM2_CONF names its
 * configuration, for the children too) with a P-256 key and its
 * certificate from the intermediate CA, made with softhsm2-util and
 * pkcs11-tool as an administrator would; the certificate bound to the
 * user in a bindings directory of its own; the service: pkcs11=only on
 * that token.  -1 with why when SoftHSM2 or its tools are missing (the
 * pass is skipped); a tool that fails stops the run (*broken).
 */
static int
setup_token(struct fixture *f, struct token_fixture *o, int *broken,
    char *why, size_t whylen)
{
	struct tu_cert_opts opts = tu_user_opts("fault token user");
	const char *words[TOKEN_WORDS];
	char *w[TOKEN_WORDS], *dir, *tokens, *conf, *key_der, *cert_der,
	    *bind, *p, *text;
	EVP_PKEY *key;
	X509 *cert;
	int i, ret = -1;

	memset(o, 0, sizeof(*o));
	*broken = 0;
	if (find_softhsm(o->module, sizeof(o->module)) != 0) {
		snprintf(why, whylen, "SoftHSM2's PKCS#11 module not found "
		    "(scripts/deps)");
		return -1;
	}
	if (!on_path("softhsm2-util") || !on_path("pkcs11-tool")) {
		snprintf(why, whylen, "softhsm2-util or pkcs11-tool not "
		    "installed (scripts/deps)");
		return -1;
	}
	*broken = 1;
	dir = tu_path(f->dir, "softhsm");
	tokens = tu_path(dir, "tokens");
	conf = tu_path(dir, "softhsm2.conf");
	key_der = tu_path(dir, "key.der");
	cert_der = tu_path(dir, "cert.der");
	bind = tu_path(f->dir, "bindings-token");
	if (mkdir(dir, 0700) != 0 || mkdir(tokens, 0700) != 0 ||
	    mkdir(bind, 0755) != 0)
		exit(1);
	text = xasprintf("directories.tokendir = %s\nobjectstore.backend = "
	    "file\nlog.level = ERROR\n", tokens);
	tu_write_file(conf, text, 0600);
	free(text);
	if (setenv("SOFTHSM2_CONF", conf, 1) != 0)
		exit(1);
	key = tu_keygen("P-256");
	cert = tu_make_cert(key, &opts, f->pki.inter, f->pki.inter_key);
	if (write_der(key_der, key, NULL) != 0 ||
	    write_der(cert_der, NULL, cert) != 0) {
		snprintf(why, whylen, "cannot write the key and certificate");
		goto out;
	}
	{
		char *const init[] = { "softhsm2-util", "--init-token",
			"--free", "--label", TOKEN_LABEL, "--pin", TOKEN_PIN,
			"--so-pin", TOKEN_SO_PIN, NULL };
		char *const put_key[] = { "pkcs11-tool", "--module",
			o->module, "--token-label", TOKEN_LABEL, "--login",
			"--pin", TOKEN_PIN, "--write-object", key_der,
			"--type", "privkey", "--id", "01", "--label", "auth",
			NULL };
		char *const put_cert[] = { "pkcs11-tool", "--module",
			o->module, "--token-label", TOKEN_LABEL, "--login",
			"--pin", TOKEN_PIN, "--write-object", cert_der,
			"--type", "cert", "--id", "01", "--label", "auth",
			NULL };

		if (run_tool(init, why, whylen) != 0 ||
		    run_tool(put_key, why, whylen) != 0 ||
		    run_tool(put_cert, why, whylen) != 0)
			goto out;
	}
	p = tu_path(bind, f->user);
	tu_write_certs(p, &cert, 1, 0644);
	free(p);
	w[0] = xasprintf("config=%s/pam_certauth.conf", f->dir);
	w[1] = xasprintf("bindings_dir=%s", bind);
	w[2] = xasprintf("hostname=fault-host");
	w[3] = xasprintf("nodelay");
	w[4] = xasprintf("pkcs11=only");
	w[5] = xasprintf("pkcs11_module=%s", o->module);
	w[6] = xasprintf("pkcs11_uri=pkcs11:token=%s", TOKEN_LABEL);
	for (i = 0; i < TOKEN_WORDS; i++)
		words[i] = w[i];
	words_service(f, &o->login, "token", words, TOKEN_WORDS);
	for (i = 0; i < TOKEN_WORDS; i++)
		free(w[i]);
	o->login.pin = TOKEN_PIN;
	o->wrong = o->login;
	o->wrong.pin = "000000";
	*broken = 0;
	ret = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	free(dir);
	free(tokens);
	free(conf);
	free(key_der);
	free(cert_der);
	free(bind);
	return ret;
}

/*
 * What the module asks of p11-kit in a token login, in its order: the
 * calls p11kit_probe makes, and the entry the fault shim names for an
 * allocation under each ("libp11-kit.so.0:p11_kit_uri_new").
 */
static const char *const probe_calls[] = {
	"p11_kit_uri_new", "p11_kit_uri_parse", "p11_kit_module_load",
	"p11_kit_module_initialize", "p11_kit_module_finalize",
	"p11_kit_module_release", "p11_kit_uri_free",
};
#define PROBE_CALLS	((int)(sizeof(probe_calls) / sizeof(probe_calls[0])))

/* How the probe's runs ended, by the call whose allocation failed. */
struct probe {
	long allocs;			/* sites: p11-kit's and the loader's */
	long ends[PROBE_CALLS];		/* runs that did not return */
	int status[PROBE_CALLS];	/* the first such run's wait status */
};

/* The probe's process: libp11-kit loaded as the module brings it (a
 * dlopen), then the module's calls, armed. */
static void
probe_child(struct shared *sh, const char *module, long nth)
{
	P11KitUri *(*uri_new)(void);
	int (*uri_parse)(const char *, P11KitUriType, P11KitUri *);
	void (*uri_free)(P11KitUri *);
	CK_FUNCTION_LIST *(*load)(const char *, int);
	CK_RV (*init)(CK_FUNCTION_LIST *), (*fin)(CK_FUNCTION_LIST *);
	void (*release)(CK_FUNCTION_LIST *);
	CK_FUNCTION_LIST *m = NULL;
	P11KitUri *uri = NULL;
	void *lib;

	alarm(sh->watchdog);
	if ((lib = dlopen("libp11-kit.so.0", RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (*(void **)&uri_new = dlsym(lib, "p11_kit_uri_new")) == NULL ||
	    (*(void **)&uri_parse = dlsym(lib, "p11_kit_uri_parse")) == NULL ||
	    (*(void **)&uri_free = dlsym(lib, "p11_kit_uri_free")) == NULL ||
	    (*(void **)&load = dlsym(lib, "p11_kit_module_load")) == NULL ||
	    (*(void **)&init = dlsym(lib, "p11_kit_module_initialize")) ==
	    NULL ||
	    (*(void **)&fin = dlsym(lib, "p11_kit_module_finalize")) == NULL ||
	    (*(void **)&release = dlsym(lib, "p11_kit_module_release")) ==
	    NULL)
		_exit(EXIT_START);
#define PROBE(i, call) do {						\
		sh->stage = (i);					\
		call;							\
		if (sh->rec.fired && sh->fired_stage < 0)		\
			sh->fired_stage = (i);				\
	} while (0)
	fault_arm_kind(1, FAULT_ALLOC, nth);
	PROBE(0, uri = uri_new());
	if (uri != NULL) {
		PROBE(1, (void)uri_parse("pkcs11:token=" TOKEN_LABEL,
		    P11_KIT_URI_FOR_ANY, uri));
		PROBE(2, m = load(module, 0));
	}
	if (m != NULL) {
		CK_RV rv;

		PROBE(3, rv = init(m));
		if (rv == CKR_OK)
			PROBE(4, (void)fin(m));
		PROBE(5, release(m));
	}
	PROBE(6, uri_free(uri));
#undef PROBE
	fault_disarm();
	sh->reached = 1;
	_exit(0);
}

/* One probe run failing the nth allocation (0: none); its wait status. */
static int
probe_run(struct shared *sh, const char *module, long nth, int scan_all)
{
	pid_t pid;
	int status;

	sh->reached = 0;
	sh->stage = sh->fired_stage = -1;
	sh->watchdog = CHILD_SECONDS;
	sh->rec.loglen = 0;
	sh->rec.log[0] = '\0';
	sh->rec.fired = 0;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		/* Every call's frames, for FAULT_IN_OBJECT. */
		fault_scan(0, scan_all ? ~0UL : 0);
		probe_child(sh, module, nth);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			exit(1);
	return status;
}

/*
 * Whether p11-kit and the dynamic loader survive their own allocation
 * failures, with no module loaded: the module's p11-kit calls of a
 * token login (parse the URI, load, initialise, finalise and release the
 * PKCS#11 module) made in fresh children, each allocation that is not
 * the PKCS#11 module's own (pkcs11_objects) failed in turn.  p11-kit
 * 0.24 does not check every allocation (p11_kit_uri_new hands back a URI
 * whose attribute list it could not make, and parsing it then reads
 * through a null pointer), and glibc's loader ends the process (exit
 * status 127) when it cannot allocate a library's thread-local storage
 * or its table of unique symbols.  The runs that do not return, by the
 * call whose allocation failed, into *pr.  One TAP line: the unharmed
 * probe loads and finalises the PKCS#11 module.
 */
static int
p11kit_probe(struct shared *sh, const char *module, struct probe *pr,
    int *test)
{
	unsigned char *kinds = NULL;
	long k, n, nth = 0;
	int status, ok, i;

	memset(pr, 0, sizeof(*pr));
	status = probe_run(sh, module, 0, 1);
	n = sh->rec.calls;
	ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->reached &&
	    n > 0 && n < FAULT_MAX_CALLS;
	if (ok) {
		if ((kinds = malloc((size_t)n + 1)) == NULL)
			exit(1);
		memcpy(kinds, sh->rec.kind, (size_t)n + 1);
	}
	for (k = 1; ok && k <= n; k++) {
		if ((kinds[k] & FAULT_KIND_MASK) != FAULT_ALLOC)
			continue;
		nth++;
		if ((kinds[k] & FAULT_IN_OBJECT) != 0)
			continue;
		pr->allocs++;
		status = probe_run(sh, module, nth, 0);
		if (!sh->rec.fired || sh->rec.fired_object[0] != '\0' ||
		    (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		    sh->reached))
			continue;
		i = sh->fired_stage >= 0 ? sh->fired_stage : sh->stage;
		if (i < 0 || i >= PROBE_CALLS)
			continue;
		if (pr->ends[i]++ == 0)
			pr->status[i] = status;
		printf("# token probe: allocation %ld failed in %s: %s %d\n",
		    nth, probe_calls[i], WIFSIGNALED(status) ? "signal" :
		    "exit status", WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
	}
	free(kinds);
	printf("%s %d - token probe: without the module, p11-kit loads, "
	    "initialises, finalises and releases the PKCS#11 module, and "
	    "each of its and the loader's %ld allocations on the way was "
	    "failed in turn\n", ok ? "ok" : "not ok", (*test)++,
	    pr->allocs);
	for (i = 0; i < PROBE_CALLS; i++)
		if (pr->ends[i] > 0)
			printf("# token probe: %ld runs end in %s after their "
			    "own allocation failed (first: %s %d)\n",
			    pr->ends[i], probe_calls[i],
			    WIFSIGNALED(pr->status[i]) ? "signal" :
			    "exit status", WIFSIGNALED(pr->status[i]) ?
			    WTERMSIG(pr->status[i]) :
			    WEXITSTATUS(pr->status[i]));
	return ok ? 0 : -1;
}

/*
 * Whether a faulted token login ended the way the probe shows p11-kit
 * or the loader end by themselves: its failed allocation under the same
 * p11-kit call, ended the same way.  The call's index, or -1.
 */
static int
p11kit_end(const struct shared *sh, int status, const struct probe *pr)
{
	const struct fault_record *rec = &sh->rec;
	char entry[128];
	int i, same;

	if (!rec->fired || rec->fired_kind != FAULT_ALLOC ||
	    rec->fired_object[0] != '\0')
		return -1;
	for (i = 0; i < PROBE_CALLS; i++) {
		snprintf(entry, sizeof(entry), "libp11-kit.so.0:%s",
		    probe_calls[i]);
		if (strcmp(rec->fired_entry, entry) != 0 || pr->ends[i] == 0)
			continue;
		same = WIFSIGNALED(status) ?
		    WIFSIGNALED(pr->status[i]) &&
		    WTERMSIG(pr->status[i]) == WTERMSIG(status) :
		    WIFEXITED(status) && WIFEXITED(pr->status[i]) &&
		    WEXITSTATUS(status) != 0 &&
		    WEXITSTATUS(pr->status[i]) == WEXITSTATUS(status);
		return same ? i : -1;
	}
	return -1;
}

/* The token pass: its sites, and what they came to. */
struct token_pass {
	struct probe probe;
	long p11kit_ends[PROBE_CALLS];	/* V_P11KIT, by call */
	long calls, from;
	struct ocsp_site *sites;
	long nsites, sites_of[FAULT_NKINDS];
	long own[FAULT_NKINDS];	/* calls in scope the PKCS#11 module
				 * made on its own: not sites */
	long counts[FAULT_NKINDS][V_NVERDICTS];
	struct tally absorbed[TALLY_MAX];
	size_t nabsorbed;
	long retried;
	int p11kit_mismatch;	/* V_P11KIT not the probe's, call by call */
	char good_line[1024];
	double seconds;
};

/* An unharmed token login: in, with the token's answer. */
static int
token_success(const struct shared *sh, int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->reached &&
	    sh->pam_result == PAM_SUCCESS && logged(&sh->rec, TOKEN_LINE);
}

/*
 * One faulted token login.  It must be refused with a reason, except
 * for a fault in the logger, or an allocation that a library the module
 * calls (not the module, nor libc on its behalf: strdup, realpath) makes
 * and recovers from by itself, the login then being the unharmed one to
 * its success line.  A call made inside the PKCS#11 module, or outside
 * the token's part of the login, is not this site's: "not reached", and
 * the site runs again.
 */
static int
judge_token(const struct shared *sh, int status, const struct token_pass *p,
    const struct func_range *scope)
{
	const struct fault_record *rec = &sh->rec;
	int same;

	if (WIFSIGNALED(status) || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || !sh->reached)
		return V_CRASH;
	if (!rec->fired || !under_function(rec, scope) ||
	    rec->fired_object[0] != '\0')
		return V_NOT_FIRED;
	same = strstr(rec->log + rec->log_armed_at, p->good_line) != NULL;
	if (rec->fired_in_log && sh->pam_result == PAM_SUCCESS)
		return V_LOGGER;
	if (sh->pam_result == PAM_SUCCESS || sh->pam_result == PAM_IGNORE) {
		if (sh->pam_result == PAM_SUCCESS &&
		    rec->fired_kind == FAULT_ALLOC &&
		    strcmp(rec->fired_caller, "pam_certauth.so") != 0 &&
		    rec->fired_entry[0] != '\0' &&
		    strncmp(rec->fired_entry, "libc.so.6:", 10) != 0 && same)
			return V_ABSORBED;
		return V_SUCCESS;
	}
	if (rec->fired_in_log)
		return any_line(rec) ? V_REFUSED : V_NO_REASON;
	return module_reason(rec) ? V_REFUSED : V_NO_REASON;
}

/*
 * The control (a wrong PIN is refused for it: the login stands on the
 * PIN and the token) and the unharmed runs, one TAP line each; the
 * sites: every call under token_answer without a frame of the PKCS#11
 * module or its runtime, as the nth of its kind from the first call
 * under token_answer on (the PKCS#11 module's own calls count in that
 * numbering, which is the same from run to run), those the unharmed run
 * with the fewest calls of the kind reaches.
 */
static int
token_baseline(struct token_fixture *o, struct token_pass *p,
    struct shared *sh, const struct func_range *scope, int *test)
{
	const struct arming count = { 1, -1, 0, -1, NULL, 0, 0 };
	const struct arming scanned = { 1, -1, 0, -1, scope, 0, 0 };
	struct arming tally = { 0, FAULT_ALLOC, 0, -1, NULL, 0, 0 };
	long k, i, fewest[FAULT_NKINDS], most[FAULT_NKINDS];
	int status, ok, kind, run, flags;

	status = run_armed(&o->wrong, sh, &count, 0);
	ok = refused_saying(sh, status, WRONG_PIN_LINE);
	printf("%s %d - token control: a wrong PIN is refused, and the log "
	    "says \"" WRONG_PIN_LINE "\"\n", ok ? "ok" : "not ok",
	    (*test)++);
	if (!ok) {
		describe("token", "control", 0, sh, status);
		print_log(&sh->rec);
		return -1;
	}

	status = run_armed(&o->login, sh, &scanned, 0);
	p->calls = sh->rec.calls;
	for (k = 1; k <= p->calls && k < FAULT_MAX_CALLS; k++)
		if ((sh->rec.kind[k] & FAULT_IN_SCOPE) != 0)
			break;
	p->from = k;
	ok = token_success(sh, status) && p->calls > 0 &&
	    p->calls < FAULT_MAX_CALLS && p->from <= p->calls &&
	    decision_line(&sh->rec, p->good_line, sizeof(p->good_line)) == 0;
	memset(fewest, 0, sizeof(fewest));
	if (ok) {
		if ((p->sites = calloc((size_t)p->calls,
		    sizeof(*p->sites))) == NULL)
			exit(1);
		for (k = p->from; k <= p->calls; k++) {
			flags = sh->rec.kind[k];
			kind = flags & FAULT_KIND_MASK;
			fewest[kind]++;
			if ((flags & FAULT_IN_SCOPE) == 0)
				continue;
			if ((flags & FAULT_IN_OBJECT) != 0) {
				p->own[kind]++;
				continue;
			}
			p->sites[p->nsites].kind = kind;
			p->sites[p->nsites++].nth = fewest[kind];
		}
	}
	memcpy(most, fewest, sizeof(most));
	tally.from = p->from;
	for (run = 1; ok && run < UNHARMED_RUNS; run++) {
		status = run_armed(&o->login, sh, &tally, 0);
		if (!(ok = token_success(sh, status)))
			break;
		for (kind = 0; kind < FAULT_NKINDS; kind++) {
			if (sh->rec.kind_calls[kind] < fewest[kind])
				fewest[kind] = sh->rec.kind_calls[kind];
			if (sh->rec.kind_calls[kind] > most[kind])
				most[kind] = sh->rec.kind_calls[kind];
		}
	}
	printf("%s %d - token: unharmed login with the right PIN logs in with "
	    "the token's answer, %d times (%ld injectable calls, from call "
	    "%ld under " TOKEN_SCOPE ")\n", ok ? "ok" : "not ok", (*test)++,
	    UNHARMED_RUNS, p->calls, p->from);
	if (!ok) {
		describe("token", "baseline", 0, sh, status);
		print_log(&sh->rec);
		return -1;
	}
	for (kind = 0; kind < FAULT_NKINDS; kind++)
		if (most[kind] != fewest[kind])
			printf("# token unharmed runs: %ld to %ld %s calls from "
			    "call %ld on\n", fewest[kind], most[kind],
			    fault_kind_name(kind), p->from);
	for (k = i = 0; k < p->nsites; k++) {
		if (p->sites[k].nth > fewest[p->sites[k].kind])
			continue;
		p->sites_of[p->sites[k].kind]++;
		p->sites[i++] = p->sites[k];
	}
	p->nsites = i;
	return 0;
}

/*
 * The token pass: the control, the baseline and every site failed in
 * turn, one TAP line per kind.
 */
static int
run_token_pass(struct token_fixture *o, struct token_pass *p,
    struct shared *sh, const struct func_range *scope, int *test)
{
	struct arming a = { 0, 0, 0, -1, NULL, 0, 0 };
	struct timeval t0;
	char tag[160];
	long i, shown[V_NVERDICTS];
	int status, v = V_NOT_FIRED, k, tries, bad;

	gettimeofday(&t0, NULL);
	memset(shown, 0, sizeof(shown));
	if (p11kit_probe(sh, o->module, &p->probe, test) != 0 ||
	    token_baseline(o, p, sh, scope, test) != 0)
		return -1;
	a.from = p->from;
	for (i = 0; i < p->nsites; i++) {
		const struct ocsp_site *s = &p->sites[i];
		int end;

		a.kind = s->kind;
		a.nth = s->nth;
		for (tries = 0; tries < TRIES; tries++) {
			status = run_armed(&o->login, sh, &a, 0);
			if ((v = judge_token(sh, status, p, scope)) !=
			    V_NOT_FIRED)
				break;
			p->retried++;
		}
		if (v == V_CRASH && (end = p11kit_end(sh, status,
		    &p->probe)) >= 0) {
			v = V_P11KIT;
			p->p11kit_ends[end]++;
			printf("# token site %ld: %s in %s ended as without the "
			    "module (%s %d)\n", i + 1, sh->rec.fired_call,
			    sh->rec.fired_entry, WIFSIGNALED(status) ?
			    "signal" : "exit status", WIFSIGNALED(status) ?
			    WTERMSIG(status) : WEXITSTATUS(status));
		}
		p->counts[s->kind][v]++;
		if (v == V_ABSORBED)
			tally_add(p->absorbed, &p->nabsorbed,
			    sh->rec.fired_entry[0] != '\0' ?
			    sh->rec.fired_entry : sh->rec.fired_caller);
		if (v != V_REFUSED && v != V_ABSORBED && v != V_LOGGER &&
		    v != V_P11KIT && shown[v]++ < SHOW_MAX) {
			snprintf(tag, sizeof(tag), "%s, %s #%ld,",
			    verdict_names[v], fault_kind_name(s->kind), s->nth);
			describe("token", tag, i + 1, sh, status);
			if (sh->rec.fired_object[0] != '\0')
				printf("#   inside %s\n", sh->rec.fired_object);
			print_log(&sh->rec);
		} else if (s->kind != FAULT_ALLOC) {
			char line[600];

			last_line(&sh->rec, line, sizeof(line));
			printf("# token %s #%ld: %s in %s -> %s; syslog: %s\n",
			    fault_kind_name(s->kind), s->nth,
			    sh->rec.fired_call, sh->rec.fired_site,
			    verdict_names[v], line);
		}
	}
	/* p11-kit's and the loader's own ends: each call's exactly as
	 * many as the probe's. */
	for (k = 0, bad = 0; k < PROBE_CALLS; k++)
		if (p->p11kit_ends[k] != p->probe.ends[k]) {
			printf("# token: %ld ends in %s after an allocation of "
			    "its own failed; the probe's: %ld\n",
			    p->p11kit_ends[k], probe_calls[k],
			    p->probe.ends[k]);
			bad = 1;
		}
	p->p11kit_mismatch = bad;
	for (k = 0; k < FAULT_NKINDS; k++) {
		bad = p->counts[k][V_NO_REASON] + p->counts[k][V_SUCCESS] +
		    p->counts[k][V_CRASH] + p->counts[k][V_NOT_FIRED] != 0 ||
		    (k == FAULT_ALLOC && p->p11kit_mismatch);
		printf("%s %d - token %s: %ld sites; %ld refused with a reason, "
		    "login unaffected: %ld absorbed by a library, %ld logger "
		    "faults; %ld ended inside p11-kit or the loader as they "
		    "do without the module; %ld without a reason, %ld wrong "
		    "successes, %ld crashes, %ld not reached (%ld calls of the "
		    "PKCS#11 module's own left alone)\n",
		    bad ? "not ok" : "ok", (*test)++, fault_kind_name(k),
		    p->sites_of[k], p->counts[k][V_REFUSED],
		    p->counts[k][V_ABSORBED], p->counts[k][V_LOGGER],
		    p->counts[k][V_P11KIT], p->counts[k][V_NO_REASON],
		    p->counts[k][V_SUCCESS], p->counts[k][V_CRASH],
		    p->counts[k][V_NOT_FIRED], p->own[k]);
	}
	for (i = 0; i < (long)p->nabsorbed; i++)
		printf("# token absorbed: %ld allocation faults under %s\n",
		    p->absorbed[i].n, p->absorbed[i].name);
	p->seconds = seconds_since(&t0);
	printf("# token fault sites tried: %ld (of %ld calls, from call %ld), "
	    "results:", p->nsites, p->calls, p->from);
	for (v = 0; v < V_NVERDICTS; v++) {
		long sum = 0;

		for (k = 0; k < FAULT_NKINDS; k++)
			sum += p->counts[k][v];
		printf("%s %ld %s", v ? "," : "", sum, verdict_names[v]);
	}
	printf(" (%ld runs again because the call did not come; %.1f s)\n",
	    p->retried, p->seconds);
	return 0;
}

/* TAP lines of the token pass: the probe, the control, the baseline,
 * the kinds. */
#define TOKEN_LINES	(3 + FAULT_NKINDS)

/* ------------------------------------------------------------ main */

/* Is pass in FAULT_PASSES (all when unset)? */
static int
want(const char *pass)
{
	const char *list = getenv("FAULT_PASSES");

	return list == NULL || *list == '\0' || strstr(list, pass) != NULL;
}

static void
skip_lines(int *test, int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", (*test)++, why);
}

int
main(void)
{
	static struct pass cold, warm, ldap, rules;
	static struct ocsp_pass ocsp;
	static struct agent_pass agent_only, agent_try;
	static struct agent_fixture af;
	static struct token_fixture tf;
	static struct token_pass token;
	struct ocsp_fixture of;
	struct ldap_fixture lf;
	struct rules_fixture rf;
	struct fixture f;
	struct shared *sh;
	struct func_range put, scope, ascope, reap, tscope;
	char why[1024] = "";
	int test = 1, have_ocsp, have_agent, broken, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&f, 0, sizeof(f));
	memset(&of, 0, sizeof(of));
	cold.name = "cold";
	warm.name = "warm";
	warm.warm = 1;
	ldap.name = "ldap";
	ldap.about = "bound from a fresh LDAP cache entry while nothing "
	    "listens at ldap_uri";
	ldap.bound = LDAP_BOUND;
	rules.name = "rules";
	rules.about = "its answer offering the certificate the rules map to "
	    "the user";
	rules.bound = RULES_BOUND;
	memset(&lf, 0, sizeof(lf));
	lf.port_fd = -1;
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (safe-path rules)\n");
		return 0;
	}
	if (setup(&f) != 0) {
		printf("1..0 # SKIP no safe scratch directory\n");
		return 0;
	}
	printf("1..%d\n", 2 * (1 + FAULT_NKINDS) + OCSP_LINES + AGENT_LINES +
	    LDAP_LINES + RULES_LINES + TOKEN_LINES);
	/* Without the range, no fault is allowed under it: say so. */
	if (module_function(CACHE_PUT, &put) != 0) {
		printf("Bail out! no single function " CACHE_PUT " with a size "
		    "in the symbol table of " MODULE_PATH " (nm -S): the "
		    "parse cache rule has no range to allow\n");
		return 1;
	}
	printf("# " CACHE_PUT ": module offsets 0x%lx to 0x%lx\n",
	    put.start, put.start + put.size);
	if (module_function(OCSP_SCOPE, &scope) != 0) {
		printf("Bail out! no single function " OCSP_SCOPE " with a "
		    "size in the symbol table of " MODULE_PATH " (nm -S): the "
		    "OCSP pass cannot tell its sites\n");
		return 1;
	}
	printf("# " OCSP_SCOPE ": module offsets 0x%lx to 0x%lx\n",
	    scope.start, scope.start + scope.size);
	if (module_function(AGENT_SCOPE, &ascope) != 0 ||
	    module_function(REAP_SCOPE, &reap) != 0) {
		printf("Bail out! no single function " AGENT_SCOPE " or "
		    REAP_SCOPE " with a size in the symbol table of "
		    MODULE_PATH " (nm -S): the agent passes cannot tell their "
		    "sites\n");
		return 1;
	}
	if (module_function(TOKEN_SCOPE, &tscope) != 0) {
		printf("Bail out! no single function " TOKEN_SCOPE " with a "
		    "size in the symbol table of " MODULE_PATH " (nm -S): the "
		    "token pass cannot tell its sites\n");
		return 1;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	fault_set_record(&sh->rec);

	if (want("cold")) {
		if (run_pass(&f, sh, &cold, NULL, &put, &test) != 0 ||
		    (want("warm") &&
		    run_pass(&f, sh, &warm, &cold, &put, &test) != 0))
			return 1;
	}
	if (!want("cold") || !want("warm"))
		skip_lines(&test, (want("cold") ? 1 : 2) * (1 + FAULT_NKINDS),
		    "not in FAULT_PASSES (warm needs cold)");

	have_ocsp = want("ocsp") && setup_ocsp(&f, &of, why, sizeof(why)) == 0;
	if (!want("ocsp"))
		snprintf(why, sizeof(why), "not in FAULT_PASSES");
	if (have_ocsp && run_ocsp_pass(&of, sh, &ocsp, &scope, &test) != 0)
		return 1;
	if (!have_ocsp)
		skip_lines(&test, OCSP_LINES, why);
	stop_responder();

	have_agent = want("agent") &&
	    setup_agent(&f, &af, why, sizeof(why)) == 0;
	if (!want("agent"))
		snprintf(why, sizeof(why), "not in FAULT_PASSES");
	agent_only.name = "agent=only";
	agent_only.f = &af.only;
	agent_try.name = "agent=try";
	agent_try.f = &af.try;
	if (have_agent && (agent_fallback_control(&af, sh, &test) != 0 ||
	    run_agent_pass(&agent_only, sh, &ascope, &reap, &test) != 0 ||
	    run_agent_pass(&agent_try, sh, &ascope, &reap, &test) != 0)) {
		tu_agent_stop(&af.agent);
		return 1;
	}
	if (!have_agent)
		skip_lines(&test, AGENT_LINES, why);
	if (af.up)
		tu_agent_stop(&af.agent);

	if (want("ldap")) {
		if (setup_ldap(&f, &lf, why, sizeof(why)) != 0) {
			printf("Bail out! ldap pass: %s\n", why);
			return 1;
		}
		if (ldap_control(&lf, sh, &test) != 0 ||
		    run_pass(&lf.login, sh, &ldap, NULL, &put, &test) != 0)
			return 1;
	} else {
		skip_lines(&test, LDAP_LINES, "not in FAULT_PASSES");
	}

	if (want("rules")) {
		long allocs = 0;

		setup_rules(&f, &rf);
		rules.regcomp_crashes = regcomp_probe(sh, ISSUER_RE, &allocs);
		printf("# rules: glibc's regcomp of \"" ISSUER_RE "\" without "
		    "the module: %ld allocations; %ld of them, failed, end in "
		    "glibc's abort%s\n", allocs, rules.regcomp_crashes,
		    rules.regcomp_crashes > 0 ? " (its double free after a "
		    "failed allocation, CVE-2025-8058): as many are allowed in "
		    "the rules pass, under regcomp, and no more" : "");
		if (rules_control(&rf, sh, &test) != 0 ||
		    run_pass(&rf.login, sh, &rules, NULL, &put, &test) != 0)
			return 1;
		free_rules(&rf);
	} else {
		skip_lines(&test, RULES_LINES, "not in FAULT_PASSES");
	}

	if (!want("token")) {
		skip_lines(&test, TOKEN_LINES, "not in FAULT_PASSES");
	} else if (setup_token(&f, &tf, &broken, why, sizeof(why)) != 0) {
		if (broken) {
			printf("Bail out! token pass: %s\n", why);
			return 1;
		}
		skip_lines(&test, TOKEN_LINES, why);
	} else {
		fault_objects(pkcs11_objects);
		if (run_token_pass(&tf, &token, sh, &tscope, &test) != 0)
			return 1;
		fault_objects(NULL);
	}

	printf("# cold pass: %ld sites in %.1f s; warm pass: %ld sites in "
	    "%.1f s; ocsp pass: %ld sites in %.1f s\n", cold.b.n, cold.seconds,
	    warm.b.n, warm.seconds, ocsp.nsites, ocsp.seconds);
	printf("# agent=only pass: %ld sites in %.1f s; agent=try pass: %ld "
	    "sites in %.1f s\n", agent_only.nsites, agent_only.seconds,
	    agent_try.nsites, agent_try.seconds);
	printf("# ldap pass: %ld sites in %.1f s; rules pass: %ld sites in "
	    "%.1f s; token pass: %ld sites in %.1f s\n", ldap.b.n,
	    ldap.seconds, rules.b.n, rules.seconds, token.nsites,
	    token.seconds);
	for (i = 0; i < FAULT_NKINDS; i++)
		if (ocsp.sites_of[i] > 0)
			printf("# ocsp pass, %s: %ld sites\n",
			    fault_kind_name(i), ocsp.sites_of[i]);
	free(cold.b.kinds);
	free(cold.b.log);
	free(warm.b.kinds);
	free(warm.b.log);
	free(ldap.b.kinds);
	free(ldap.b.log);
	free(rules.b.kinds);
	free(rules.b.log);
	free_ldap(&lf);
	free(ocsp.sites);
	free(agent_only.sites);
	free(agent_try.sites);
	free(token.sites);
	return 0;
}
