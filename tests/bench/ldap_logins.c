/*
 * ldap_logins.c - the timing driver of tests/bench/ldap_bench.py: logins
 * of one user through libpam in this one small process, and beside them
 * the floors of an LDAP lookup, all interleaved round by round.
 *
 * The plan file has one step a line, words split on blanks:
 *
 *   login TAG SERVICE          one login (pam_start_confdir,
 *                              pam_authenticate, pam_end)
 *   cold TAG SERVICE DIR       the same, every file in DIR (the service's
 *                              ldap_cache_dir) removed first, untimed
 *   spawn TAG EXIT STDIN PROG [ARG...]
 *                              PROG run as the module runs its helpers:
 *                              forked, a session of its own, user nobody,
 *                              LDAPNOINIT=1 as its whole environment; the
 *                              bytes of file STDIN ("-": none) written to
 *                              its stdin, its stdout read to the end, the
 *                              child reaped; it must exit with EXIT
 *   ldap TAG URI BASE FILTER ATTR CAFILE
 *                              one lookup with libldap in this process:
 *                              the options certauth-ldap-fetch sets, a new
 *                              TLS context, connect (TLS), anonymous
 *                              search, the values read, unbind
 *
 * Each round runs every step once, in an order shuffled anew each round
 * (a fixed seed, so runs compare), so that every step follows every other
 * alike: a step that follows a process's fork pays for the pages the fork
 * made copy-on-write, and a fixed order would charge that to one step
 * only.  One line
 * per step after the warm-up rounds:
 *
 *   TAG <µs of the step> <µs inside the conversation>
 *
 * (the last 0 for steps that are not logins).  Exits 0 only when every
 * login succeeded and every step did what it should.  Figures only.
 *
 *   ldap_logins --plan FILE --confdir DIR --user NAME --key PEM
 *               [--count N] [--warmup W]
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ldap.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <security/pam_appl.h>

#include "conv.h"

#define STEPS_MAX 32
#define WORDS_MAX 40
#define LINE_MAX_ 4096

enum kind { K_LOGIN, K_COLD, K_SPAWN, K_LDAP };

struct step {
	enum kind kind;
	char *words[WORDS_MAX + 1]; /* the line's words, NULL-terminated */
	int nwords;
	const char *tag;
};

struct plan {
	const char *plan_path, *confdir, *user, *key_path;
	long count, warmup;
	struct step steps[STEPS_MAX];
	int nsteps;
	uid_t nobody_uid;
	gid_t nobody_gid;
};

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ldap_logins: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ------------------------------------------------------------ logins */

/* One login through svc: its µs, and the conversation's in *inside. */
static double
login(const struct plan *p, const char *svc, EVP_PKEY *key, double *inside)
{
	struct tu_conv cs = { .key = key };
	struct pam_conv conv = { tu_conversation, &cs };
	pam_handle_t *h = NULL;
	double t0 = now_us(), t1;
	int rc;

	if ((rc = tu_pam_start(svc, p->user, p->confdir, &conv, NULL, &h)) !=
	    PAM_SUCCESS)
		die("pam_start_confdir failed for %s", svc);
	rc = pam_authenticate(h, PAM_SILENT);
	pam_end(h, rc);
	t1 = now_us();
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "ldap_logins: login through %s: %s\n", svc,
		    pam_strerror(NULL, rc));
		exit(1);
	}
	*inside = cs.inside_us;
	return t1 - t0;
}

/* Every entry of dir removed (the cache of a cold login). */
static void
empty_dir(const char *dir)
{
	char path[LINE_MAX_];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return;
		die("cannot open %s", dir);
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) != 0)
			die("cannot remove %s", path);
	}
	closedir(d);
}

/* ------------------------------------------------------------ spawning */

static char *
read_file(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int fd;

	*len = 0;
	if (strcmp(path, "-") == 0)
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		die("cannot open %s", path);
	for (;;) {
		if (*len == cap &&
		    (buf = realloc(buf, cap = cap * 2 + 4096)) == NULL)
			die("out of memory reading %s", path);
		if ((n = read(fd, buf + *len, cap - *len)) < 0)
			die("cannot read %s", path);
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return buf;
}

/*
 * argv run as the module runs certauth-ldap-fetch; in its bytes written
 * to its stdin, its stdout read to EOF.  Returns its exit status (-1 if
 * it did not exit).
 */
static int
spawn(const struct plan *p, char *const *argv, const char *in, size_t inlen)
{
	static char *const env[] = { (char *)"LDAPNOINIT=1", NULL };
	int to[2], from[2], status;
	char buf[65536];
	size_t off = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0)
		die("%s", "pipe failed");
	if ((pid = fork()) < 0)
		die("%s", "fork failed");
	if (pid == 0) {
		if (dup2(to[0], 0) < 0 || dup2(from[1], 1) < 0 ||
		    setsid() < 0 || setgroups(0, NULL) != 0 ||
		    setresgid(p->nobody_gid, p->nobody_gid, p->nobody_gid) !=
			0 ||
		    setresuid(p->nobody_uid, p->nobody_uid, p->nobody_uid) != 0)
			_exit(126);
		execve(argv[0], argv, env);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	while (off < inlen) {
		if ((n = write(to[1], in + off, inlen - off)) < 0) {
			if (errno == EINTR)
				continue;
			break; /* it may have ended without reading */
		}
		off += (size_t)n;
	}
	close(to[1]);
	while ((n = read(from[0], buf, sizeof(buf))) != 0)
		if (n < 0 && errno != EINTR)
			break;
	close(from[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("%s", "waitpid failed");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ------------------------------------------------------- libldap here */

/*
 * One lookup as certauth-ldap-fetch makes it, in this process: the same
 * options, a new TLS context, ldaps:// connect, anonymous search of at
 * most two entries, the attribute's values.  Returns the values found.
 */
static int
ldap_once(char *const *w)
{
	const char *uri = w[0], *base = w[1], *filter = w[2], *ca = w[4];
	char *attrs[2] = { w[3], NULL };
	const int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND,
		  zero = 0, tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2,
		  deref = LDAP_DEREF_NEVER, size = 2;
	struct timeval tv = { 5, 0 };
	LDAPMessage *res = NULL, *e;
	struct berval **vals;
	LDAP *ld = NULL;
	int n = -1;

	if (ldap_initialize(&ld, uri) != LDAP_SUCCESS || ld == NULL)
		return -1;
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_OFF) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_DEREF, &deref) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_SIZELIMIT, &size) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, ca) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != 0)
		goto out;
	if (ldap_connect(ld) != LDAP_SUCCESS)
		goto out;
	if (ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
		NULL, NULL, &tv, 2, &res) != LDAP_SUCCESS ||
	    ldap_count_entries(ld, res) != 1)
		goto out;
	e = ldap_first_entry(ld, res);
	if ((vals = ldap_get_values_len(ld, e, attrs[0])) != NULL) {
		n = ldap_count_values_len(vals);
		ldap_value_free_len(vals);
	}
out:
	ldap_msgfree(res);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return n;
}

/* ------------------------------------------------------------ the plan */

static void
read_plan(struct plan *p)
{
	char line[LINE_MAX_], *save, *w;
	FILE *f;
	struct step *s;

	if ((f = fopen(p->plan_path, "r")) == NULL)
		die("cannot open %s", p->plan_path);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[strspn(line, " \t\n")] == '\0')
			continue;
		if (p->nsteps == STEPS_MAX)
			die("%s: too many steps", p->plan_path);
		s = &p->steps[p->nsteps++];
		for (w = strtok_r(line, " \t\n", &save); w != NULL;
		     w = strtok_r(NULL, " \t\n", &save)) {
			if (s->nwords == WORDS_MAX)
				die("%s: too many words", p->plan_path);
			if ((s->words[s->nwords++] = strdup(w)) == NULL)
				die("%s", "out of memory");
		}
		if (strcmp(s->words[0], "login") == 0 && s->nwords == 3)
			s->kind = K_LOGIN;
		else if (strcmp(s->words[0], "cold") == 0 && s->nwords == 4)
			s->kind = K_COLD;
		else if (strcmp(s->words[0], "spawn") == 0 && s->nwords >= 5)
			s->kind = K_SPAWN;
		else if (strcmp(s->words[0], "ldap") == 0 && s->nwords == 7)
			s->kind = K_LDAP;
		else
			die("bad step: %s", s->words[0]);
		s->tag = s->words[1];
	}
	fclose(f);
	if (p->nsteps == 0)
		die("%s: no steps", p->plan_path);
}

/* One step: prints its line when print is set. */
static void
run_step(const struct plan *p, const struct step *s, EVP_PKEY *key, int print)
{
	double us = 0, inside = 0, t0;
	size_t inlen;
	char *in;
	int rc;

	switch (s->kind) {
	case K_COLD:
		empty_dir(s->words[3]);
		/* fall through */
	case K_LOGIN:
		us = login(p, s->words[2], key, &inside);
		break;
	case K_SPAWN:
		in = read_file(s->words[3], &inlen);
		t0 = now_us();
		rc = spawn(p, &s->words[4], in, inlen);
		us = now_us() - t0;
		free(in);
		if (rc != atoi(s->words[2])) {
			fprintf(stderr, "ldap_logins: %s exited %d, not %s\n",
			    s->words[4], rc, s->words[2]);
			exit(1);
		}
		break;
	case K_LDAP:
		t0 = now_us();
		rc = ldap_once(&s->words[2]);
		us = now_us() - t0;
		if (rc < 1)
			die("the in-process lookup of %s found nothing",
			    s->tag);
		break;
	}
	if (print)
		printf("%s %.1f %.1f\n", s->tag, us, inside);
}

static EVP_PKEY *
load_key(const char *path)
{
	EVP_PKEY *k = NULL;
	FILE *f = fopen(path, "r");

	if (f != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	return k;
}

static int
parse(int argc, char **argv, struct plan *p)
{
	static const struct option opts[] = {
		{ "plan", required_argument, NULL, 'p' },
		{ "confdir", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "key", required_argument, NULL, 'k' },
		{ "count", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	p->count = 100;
	p->warmup = 5;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			p->plan_path = optarg;
			break;
		case 'c':
			p->confdir = optarg;
			break;
		case 'u':
			p->user = optarg;
			break;
		case 'k':
			p->key_path = optarg;
			break;
		case 'n':
			p->count = strtol(optarg, NULL, 10);
			break;
		case 'w':
			p->warmup = strtol(optarg, NULL, 10);
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || p->plan_path == NULL || p->confdir == NULL ||
	    p->user == NULL || p->key_path == NULL || p->count <= 0 ||
	    p->warmup < 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct plan p;
	struct passwd *pw;
	EVP_PKEY *key;
	long r;
	int i, order[STEPS_MAX];

	if (parse(argc, argv, &p) != 0) {
		fprintf(stderr,
		    "usage: ldap_logins --plan FILE --confdir DIR --user NAME "
		    "--key PEM [--count N] [--warmup W]\n");
		return 2;
	}
	if ((pw = getpwnam("nobody")) == NULL)
		die("%s", "no user nobody");
	p.nobody_uid = pw->pw_uid;
	p.nobody_gid = pw->pw_gid;
	read_plan(&p);
	if ((key = load_key(p.key_path)) == NULL)
		die("cannot read key %s", p.key_path);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < p.nsteps; i++)
		order[i] = i;
	srandom(1);
	for (r = 0; r < p.warmup + p.count; r++) {
		for (i = p.nsteps - 1; i > 0; i--) {
			int j = (int)(random() % (i + 1)), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (i = 0; i < p.nsteps; i++)
			run_step(&p, &p.steps[order[i]], key, r >= p.warmup);
		fflush(stdout);
	}
	EVP_PKEY_free(key);
	return 0;
}
