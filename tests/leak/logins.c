/*
 * logins.c - many logins in one process, for the leak checkers (valgrind
 * memcheck, ASan/LeakSanitizer): N cycles of pam_start_confdir,
 * pam_authenticate and pam_end on a service file of the caller's, with the
 * tests' conversation (tests/common/conv.h), which signs the challenge
 * in-process with OpenSSL (good answers) or answers wrongly (another key,
 * not base64, nothing, a cut signature, too long, no answer at all, a
 * failed conversation), and an unknown user.  Every result is checked
 * against what it must be.
 *
 * libpam loads the modules of the service file for each handle and
 * unloads them in pam_end, so each cycle is one dlopen and one dlclose of
 * the module (linked -z nodelete, it stays mapped; the counts still
 * show every open and close).  dlopen and dlclose are interposed here (the
 * program is linked -export-dynamic) to count exactly that.
 *
 *   logins --confdir DIR --service NAME --user NAME --key PEM
 *          --wrong-key PEM [--count N] [--cache-dir DIR --refetch-every K]
 *          [--canary]
 *
 * --canary leaks one block on purpose: the control that shows the leak
 * checker is looking.
 *
 * --refetch-every K empties the OCSP cache directory before every K-th
 * login, so that the next good login asks the responder again (the
 * module's fetch path) while the others are answered from the cache.
 * Prints one line of counts; exits 0 only when every login ended as it
 * must and each one loaded and unloaded the module once.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <security/pam_appl.h>

#include "conv.h"

#define MODULE_NAME	"pam_certauth.so"
#define NO_SUCH_USER	"certauth-leak-no-such-user"

/* The logins of the schedule. */
enum kind {
	GOOD, SPACED, URLSAFE, WRONG_KEY, MALFORMED, EMPTY, TRUNCATED,
	TOO_LONG, NO_ANSWER, CONV_FAIL, UNKNOWN_USER, KINDS
};

/* How the conversation answers in each, for the bound user or for one
 * who does not exist. */
static const struct {
	enum tu_answer answer;
	int unknown_user;
	const char *name;
} kinds[KINDS] = {
	[GOOD] = { TU_GOOD, 0, "good" },
	[SPACED] = { TU_GOOD_SPACED, 0, "good-spaced" },
	[URLSAFE] = { TU_GOOD_URLSAFE, 0, "good-urlsafe" },
	[WRONG_KEY] = { TU_WRONG_KEY, 0, "wrong-key" },
	[MALFORMED] = { TU_MALFORMED, 0, "malformed" },
	[EMPTY] = { TU_EMPTY, 0, "empty" },
	[TRUNCATED] = { TU_TRUNCATED, 0, "truncated" },
	[TOO_LONG] = { TU_TOO_LONG, 0, "too-long" },
	[NO_ANSWER] = { TU_NO_ANSWER, 0, "no-answer" },
	[CONV_FAIL] = { TU_CONV_FAIL, 0, "conv-fail" },
	[UNKNOWN_USER] = { TU_GOOD, 1, "unknown-user" },
};

/* Every tenth slot cycles through the rarer failures. */
static const enum kind schedule[10] = {
	GOOD, WRONG_KEY, SPACED, MALFORMED, GOOD,
	EMPTY, URLSAFE, TRUNCATED, GOOD, KINDS,
};
static const enum kind rare[4] = {
	TOO_LONG, CONV_FAIL, NO_ANSWER, UNKNOWN_USER,
};

/* ------------------------------------------------ dlopen bookkeeping */

static void *module_handle;
static long module_opens, module_closes;

void *
dlopen(const char *file, int mode)
{
	static void *(*real)(const char *, int);
	const char *base;
	void *h;

	if (real == NULL &&
	    (real = (void *(*)(const char *, int))dlsym(RTLD_NEXT,
	    "dlopen")) == NULL)
		abort();
	h = real(file, mode);
	if (h != NULL && file != NULL) {
		base = strrchr(file, '/');
		if (strcmp(base != NULL ? base + 1 : file, MODULE_NAME) == 0) {
			module_handle = h;
			module_opens++;
		}
	}
	return h;
}

int
dlclose(void *h)
{
	static int (*real)(void *);

	if (real == NULL &&
	    (real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose")) == NULL)
		abort();
	if (module_handle != NULL && h == module_handle)
		module_closes++;
	return real(h);
}

/* ----------------------------------------------------------- answers */

static int
expected(enum kind kind)
{
	switch (kind) {
	case GOOD:
	case SPACED:
	case URLSAFE:
		return PAM_SUCCESS;
	case NO_ANSWER:
	case CONV_FAIL:
		return PAM_CONV_ERR;
	default:
		return PAM_AUTH_ERR;
	}
}

/* ------------------------------------------------------------ driver */

static void *volatile canary_block;

/* Lose the only pointer to a block, for --canary. */
static __attribute__((noinline)) void
leak_canary(void)
{
	if ((canary_block = malloc(4242)) != NULL)
		memset(canary_block, 0x5a, 4242);
	canary_block = NULL;
}

struct config {
	const char *confdir, *service, *user, *cache_dir;
	long count, refetch_every;
	EVP_PKEY *key, *wrong_key;
};

static EVP_PKEY *
load_key(const char *path)
{
	EVP_PKEY *key = NULL;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return NULL;
	}
	if ((key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		fprintf(stderr, "logins: cannot read a private key from %s\n",
		    path);
	fclose(f);
	return key;
}

/* Remove the entries of the OCSP cache directory (it may not exist). */
static int
empty_cache(const char *dir)
{
	DIR *d;
	struct dirent *e;
	int r = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) != 0) {
			perror(e->d_name);
			r = -1;
		}
	}
	closedir(d);
	return r;
}

/* One transaction.  Returns 0 when it ended as it must. */
static int
one_login(const struct config *cf, long i, long *counts, long *wrong)
{
	struct tu_conv cs;
	struct pam_conv conv = { tu_conversation, &cs };
	pam_handle_t *pamh = NULL;
	long opens = module_opens, closes = module_closes;
	enum kind kind = schedule[i % 10];
	int rc, want;

	if (kind == KINDS)
		kind = rare[(i / 10) % 4];
	memset(&cs, 0, sizeof(cs));
	cs.answer = kinds[kind].answer;
	cs.key = cf->key;
	cs.wrong_key = cf->wrong_key;
	want = expected(kind);
	if (pam_start_confdir(cf->service, kinds[kind].unknown_user ?
	    NO_SUCH_USER : cf->user, &conv, cf->confdir, &pamh) !=
	    PAM_SUCCESS) {
		fprintf(stderr, "logins: pam_start_confdir failed\n");
		return -1;
	}
	rc = pam_authenticate(pamh, 0);
	if (rc != want || cs.calls != 1 || cs.sign_failed) {
		fprintf(stderr, "logins: login %ld (%s): %s (%d), expected %s "
		    "(%d); %d challenges%s\n", i, kinds[kind].name,
		    pam_strerror(pamh, rc), rc, pam_strerror(pamh, want), want,
		    cs.calls, cs.sign_failed ? "; signing failed" : "");
		(*wrong)++;
	}
	counts[kind]++;
	if (pam_end(pamh, rc) != PAM_SUCCESS) {
		fprintf(stderr, "logins: pam_end failed\n");
		return -1;
	}
	if (module_opens - opens != 1 || module_closes - closes != 1) {
		fprintf(stderr, "logins: login %ld: module opened %ld, closed "
		    "%ld times\n", i, module_opens - opens,
		    module_closes - closes);
		(*wrong)++;
	}
	return 0;
}

static int
run(const struct config *cf)
{
	long counts[KINDS] = { 0 }, wrong = 0, refetches = 0, i, good;
	int k;

	for (i = 0; i < cf->count; i++) {
		if (cf->refetch_every > 0 && i % cf->refetch_every == 0) {
			if (empty_cache(cf->cache_dir) != 0)
				return -1;
			refetches++;
		}
		if (one_login(cf, i, counts, &wrong) != 0)
			return -1;
	}
	good = counts[GOOD] + counts[SPACED] + counts[URLSAFE];
	printf("logins %ld good %ld refused %ld wrong %ld module-dlopen %ld "
	    "module-dlclose %ld cache-emptied %ld\n", cf->count, good,
	    cf->count - good, wrong, module_opens, module_closes, refetches);
	for (k = 0; k < KINDS; k++)
		printf("  %-13s %ld\n", kinds[k].name, counts[k]);
	return wrong == 0 && module_opens == cf->count &&
	    module_closes == cf->count ? 0 : 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: logins --confdir DIR --service NAME --user "
	    "NAME --key PEM --wrong-key PEM [--count N]\n"
	    "              [--cache-dir DIR --refetch-every K] [--canary]\n");
	exit(2);
}

static long
number(const char *s)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < 0)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "confdir", required_argument, NULL, 'd' },
		{ "service", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "key", required_argument, NULL, 'k' },
		{ "wrong-key", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "cache-dir", required_argument, NULL, 'c' },
		{ "refetch-every", required_argument, NULL, 'r' },
		{ "canary", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct config cf;
	const char *key = NULL, *wrong_key = NULL;
	int ch, canary = 0, r = 2;

	memset(&cf, 0, sizeof(cf));
	cf.count = 1000;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': cf.confdir = optarg; break;
		case 's': cf.service = optarg; break;
		case 'u': cf.user = optarg; break;
		case 'k': key = optarg; break;
		case 'w': wrong_key = optarg; break;
		case 'n': cf.count = number(optarg); break;
		case 'c': cf.cache_dir = optarg; break;
		case 'r': cf.refetch_every = number(optarg); break;
		case 'l': canary = 1; break;
		default: usage();
		}
	}
	if (optind != argc || cf.confdir == NULL || cf.service == NULL ||
	    cf.user == NULL || key == NULL || wrong_key == NULL ||
	    (cf.refetch_every > 0 && cf.cache_dir == NULL))
		usage();
	if ((cf.key = load_key(key)) != NULL &&
	    (cf.wrong_key = load_key(wrong_key)) != NULL)
		r = run(&cf) == 0 ? 0 : 1;
	if (canary)
		leak_canary();
	EVP_PKEY_free(cf.key);
	EVP_PKEY_free(cf.wrong_key);
	return r;
}
