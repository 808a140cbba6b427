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
 * --pin selects token mode instead (the service line has pkcs11=only):
 * the module signs on a PKCS#11 token and the conversation only answers
 * its PIN prompt, half the logins with the right PIN, the others with a
 * wrong one, or an empty one, one too long, none at all or a failed
 * conversation, and an unknown user.  Every login of a known user must
 * ask the PIN exactly once and never show a challenge.
 *
 * libpam loads the modules of the service file for each handle and
 * unloads them in pam_end, so each cycle is one dlopen and one dlclose of
 * the module (linked -z nodelete, it stays mapped; the counts still
 * show every open and close).  dlopen and dlclose are interposed here (the
 * program is linked -export-dynamic) to count exactly that, and, in token
 * mode, the loads and unloads of the PKCS#11 module that p11-kit makes
 * for the module: one load for every login that reaches the token, and
 * never more than one left open after a login.  p11_kit_module_load
 * keeps its first load of a module file for the life of the process (a
 * later load of the same file finds it by its function list and closes
 * its own new handle at once), so that first load is never closed;
 * p11-kit's configured modules are closed on every release.  Either
 * way the module initialises and finalises the PKCS#11 module on every
 * login (a login after one that had not finalised it could not
 * initialise it again).
 *
 *   logins --confdir DIR --service NAME --user NAME --key PEM
 *          --wrong-key PEM [--count N] [--cache-dir DIR --refetch-every K]
 *          [--canary]
 *   logins --confdir DIR --service NAME --user NAME --pin PIN
 *          --wrong-pin PIN [--pkcs11-module FILE] [--count N] [--canary]
 *
 * --pkcs11-module names the PKCS#11 module's file (its base name is
 * counted; libsofthsm2.so by default).  --canary leaks one block on
 * purpose: the control that shows the leak checker is looking.
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
#define PKCS11_NAME	"libsofthsm2.so"
#define NO_SUCH_USER	"certauth-leak-no-such-user"
#define LONG_PIN_BYTES	300	/* bytes: over the module's 255 */

/* The logins of the schedules: typed answers, then token mode's. */
enum kind {
	GOOD, SPACED, URLSAFE, WRONG_KEY, MALFORMED, EMPTY, TRUNCATED,
	TOO_LONG, NO_ANSWER, CONV_FAIL, UNKNOWN_USER,
	PIN_RIGHT, PIN_WRONG, PIN_EMPTY, PIN_TOO_LONG, PIN_NONE,
	PIN_CONV_FAIL, PIN_UNKNOWN_USER, KINDS
};

/* What the PIN prompt gets in token mode. */
enum pin { NOT_ASKED, RIGHT_PIN, WRONG_PIN, EMPTY_PIN, LONG_PIN };

/* How the conversation answers in each, for the bound user or for one
 * who does not exist, and what the login must end in. */
static const struct {
	enum tu_answer answer;
	int unknown_user;
	const char *name;
	int want;
	enum pin pin;
} kinds[KINDS] = {
	[GOOD] = { TU_GOOD, 0, "good", PAM_SUCCESS, NOT_ASKED },
	[SPACED] = { TU_GOOD_SPACED, 0, "good-spaced", PAM_SUCCESS,
	    NOT_ASKED },
	[URLSAFE] = { TU_GOOD_URLSAFE, 0, "good-urlsafe", PAM_SUCCESS,
	    NOT_ASKED },
	[WRONG_KEY] = { TU_WRONG_KEY, 0, "wrong-key", PAM_AUTH_ERR,
	    NOT_ASKED },
	[MALFORMED] = { TU_MALFORMED, 0, "malformed", PAM_AUTH_ERR,
	    NOT_ASKED },
	[EMPTY] = { TU_EMPTY, 0, "empty", PAM_AUTH_ERR, NOT_ASKED },
	[TRUNCATED] = { TU_TRUNCATED, 0, "truncated", PAM_AUTH_ERR,
	    NOT_ASKED },
	[TOO_LONG] = { TU_TOO_LONG, 0, "too-long", PAM_AUTH_ERR,
	    NOT_ASKED },
	[NO_ANSWER] = { TU_NO_ANSWER, 0, "no-answer", PAM_CONV_ERR,
	    NOT_ASKED },
	[CONV_FAIL] = { TU_CONV_FAIL, 0, "conv-fail", PAM_CONV_ERR,
	    NOT_ASKED },
	[UNKNOWN_USER] = { TU_GOOD, 1, "unknown-user", PAM_AUTH_ERR,
	    NOT_ASKED },
	[PIN_RIGHT] = { TU_GOOD, 0, "pin-right", PAM_SUCCESS, RIGHT_PIN },
	[PIN_WRONG] = { TU_GOOD, 0, "pin-wrong", PAM_AUTH_ERR, WRONG_PIN },
	[PIN_EMPTY] = { TU_GOOD, 0, "pin-empty", PAM_CONV_ERR, EMPTY_PIN },
	[PIN_TOO_LONG] = { TU_GOOD, 0, "pin-too-long", PAM_CONV_ERR,
	    LONG_PIN },
	[PIN_NONE] = { TU_NO_ANSWER, 0, "pin-no-answer", PAM_CONV_ERR,
	    RIGHT_PIN },
	[PIN_CONV_FAIL] = { TU_CONV_FAIL, 0, "pin-conv-fail", PAM_CONV_ERR,
	    RIGHT_PIN },
	[PIN_UNKNOWN_USER] = { TU_GOOD, 1, "pin-unknown-user", PAM_AUTH_ERR,
	    NOT_ASKED },
};

/* Every tenth slot cycles through the rarer failures: KINDS there. */
static const enum kind schedule[10] = {
	GOOD, WRONG_KEY, SPACED, MALFORMED, GOOD,
	EMPTY, URLSAFE, TRUNCATED, GOOD, KINDS,
};
static const enum kind rare[4] = {
	TOO_LONG, CONV_FAIL, NO_ANSWER, UNKNOWN_USER,
};
/* Token mode: the even slots log in, the odd ones give a wrong PIN. */
static const enum kind token_schedule[10] = {
	PIN_RIGHT, PIN_WRONG, PIN_RIGHT, PIN_WRONG, PIN_RIGHT,
	PIN_WRONG, PIN_RIGHT, PIN_WRONG, PIN_RIGHT, KINDS,
};
static const enum kind token_rare[5] = {
	PIN_EMPTY, PIN_TOO_LONG, PIN_NONE, PIN_CONV_FAIL,
	PIN_UNKNOWN_USER,
};

/* ------------------------------------------------ dlopen bookkeeping */

static void *module_handle, *pkcs11_handle;
static long module_opens, module_closes, pkcs11_opens, pkcs11_closes;
static const char *pkcs11_name = PKCS11_NAME;

static int
named(const char *file, const char *name)
{
	const char *base = strrchr(file, '/');

	return strcmp(base != NULL ? base + 1 : file, name) == 0;
}

void *
dlopen(const char *file, int mode)
{
	static void *(*real)(const char *, int);
	void *h;

	if (real == NULL &&
	    (real = (void *(*)(const char *, int))dlsym(RTLD_NEXT,
	    "dlopen")) == NULL)
		abort();
	h = real(file, mode);
	if (h != NULL && file != NULL) {
		if (named(file, MODULE_NAME)) {
			module_handle = h;
			module_opens++;
		} else if (named(file, pkcs11_name)) {
			pkcs11_handle = h;
			pkcs11_opens++;
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
	if (pkcs11_handle != NULL && h == pkcs11_handle)
		pkcs11_closes++;
	return real(h);
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
	const char *pin, *wrong_pin;	/* token mode: pin set */
	char long_pin[LONG_PIN_BYTES + 1];
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

/* The i-th login of the schedule. */
static enum kind
kind_of(const struct config *cf, long i)
{
	enum kind kind;

	if (cf->pin != NULL) {
		kind = token_schedule[i % 10];
		return kind == KINDS ? token_rare[(i / 10) % 5] : kind;
	}
	kind = schedule[i % 10];
	return kind == KINDS ? rare[(i / 10) % 4] : kind;
}

/* The conversation's side of a login of kind. */
static void
conv_for(const struct config *cf, enum kind kind, struct tu_conv *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->answer = kinds[kind].answer;
	cs->key = cf->key;
	cs->wrong_key = cf->wrong_key;
	switch (kinds[kind].pin) {
	case RIGHT_PIN:
		cs->pin = cf->pin;
		break;
	case WRONG_PIN:
		cs->pin = cf->wrong_pin;
		break;
	case EMPTY_PIN:
		cs->pin = "";
		break;
	case LONG_PIN:
		cs->pin = cf->long_pin;
		break;
	case NOT_ASKED:
		/* A PIN prompt here is answered, and counted against it. */
		cs->pin = cf->pin;
		break;
	}
}

/*
 * Whether the conversation saw what a login of kind shows: one
 * challenge for a typed answer; in token mode one PIN prompt for a
 * known user, none for an unknown one, and never a challenge.
 */
static int
conversed_right(const struct config *cf, enum kind kind,
    const struct tu_conv *cs)
{
	if (cf->pin == NULL)
		return cs->calls == 1 && cs->pin_prompts == 0 &&
		    !cs->sign_failed;
	return cs->calls == 0 &&
	    cs->pin_prompts == (kinds[kind].unknown_user ? 0 : 1);
}

/* One transaction.  Returns 0 when it ended as it must. */
static int
one_login(const struct config *cf, long i, long *counts, long *wrong)
{
	struct tu_conv cs;
	struct pam_conv conv = { tu_conversation, &cs };
	pam_handle_t *pamh = NULL;
	long opens = module_opens, closes = module_closes;
	long p_opens = pkcs11_opens, p_closes = pkcs11_closes, p_want;
	enum kind kind = kind_of(cf, i);
	int rc, want = kinds[kind].want;

	conv_for(cf, kind, &cs);
	if (pam_start_confdir(cf->service, kinds[kind].unknown_user ?
	    NO_SUCH_USER : cf->user, &conv, cf->confdir, &pamh) !=
	    PAM_SUCCESS) {
		fprintf(stderr, "logins: pam_start_confdir failed\n");
		return -1;
	}
	rc = pam_authenticate(pamh, 0);
	if (rc != want || !conversed_right(cf, kind, &cs)) {
		fprintf(stderr, "logins: login %ld (%s): %s (%d), expected %s "
		    "(%d); %d challenges, %d PIN prompts%s\n", i,
		    kinds[kind].name, pam_strerror(pamh, rc), rc,
		    pam_strerror(pamh, want), want, cs.calls, cs.pin_prompts,
		    cs.sign_failed ? "; signing failed" : "");
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
	/* The token is looked for only for an account with bindings. */
	p_want = cf->pin != NULL && !kinds[kind].unknown_user;
	if (pkcs11_opens - p_opens != p_want ||
	    pkcs11_opens - pkcs11_closes > 1) {
		fprintf(stderr, "logins: login %ld (%s): PKCS#11 module "
		    "opened %ld, closed %ld times (expected %ld open), %ld "
		    "still open\n", i, kinds[kind].name,
		    pkcs11_opens - p_opens, pkcs11_closes - p_closes, p_want,
		    pkcs11_opens - pkcs11_closes);
		(*wrong)++;
	}
	return 0;
}

static int
run(const struct config *cf)
{
	long counts[KINDS] = { 0 }, wrong = 0, refetches = 0, i, good = 0;
	long reached = 0;
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
	for (k = 0; k < KINDS; k++) {
		good += kinds[k].want == PAM_SUCCESS ? counts[k] : 0;
		reached += kinds[k].unknown_user ? 0 : counts[k];
	}
	printf("logins %ld good %ld refused %ld wrong %ld module-dlopen %ld "
	    "module-dlclose %ld cache-emptied %ld", cf->count, good,
	    cf->count - good, wrong, module_opens, module_closes, refetches);
	if (cf->pin != NULL)
		printf(" pkcs11-dlopen %ld pkcs11-dlclose %ld", pkcs11_opens,
		    pkcs11_closes);
	printf("\n");
	for (k = 0; k < KINDS; k++)
		if ((kinds[k].pin != NOT_ASKED ||
		    k == PIN_UNKNOWN_USER) == (cf->pin != NULL))
			printf("  %-16s %ld\n", kinds[k].name, counts[k]);
	if (cf->pin == NULL)
		reached = 0;
	return wrong == 0 && module_opens == cf->count &&
	    module_closes == cf->count && pkcs11_opens == reached &&
	    pkcs11_closes >= reached - 1 ? 0 : 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: logins --confdir DIR --service NAME --user "
	    "NAME --key PEM --wrong-key PEM [--count N]\n"
	    "              [--cache-dir DIR --refetch-every K] [--canary]\n"
	    "       logins --confdir DIR --service NAME --user NAME --pin PIN "
	    "--wrong-pin PIN\n"
	    "              [--pkcs11-module FILE] [--count N] [--canary]\n");
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
		{ "pin", required_argument, NULL, 'p' },
		{ "wrong-pin", required_argument, NULL, 'P' },
		{ "pkcs11-module", required_argument, NULL, 'm' },
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
		case 'p': cf.pin = optarg; break;
		case 'P': cf.wrong_pin = optarg; break;
		case 'm': pkcs11_name = strrchr(optarg, '/') != NULL ?
		    strrchr(optarg, '/') + 1 : optarg; break;
		default: usage();
		}
	}
	if (optind != argc || cf.confdir == NULL || cf.service == NULL ||
	    cf.user == NULL || (cf.refetch_every > 0 && cf.cache_dir == NULL) ||
	    (cf.pin == NULL ? key == NULL || wrong_key == NULL :
	    cf.wrong_pin == NULL || key != NULL || wrong_key != NULL ||
	    cf.refetch_every > 0))
		usage();
	memset(cf.long_pin, '7', LONG_PIN_BYTES);
	if (cf.pin != NULL)
		r = run(&cf) == 0 ? 0 : 1;
	else if ((cf.key = load_key(key)) != NULL &&
	    (cf.wrong_key = load_key(wrong_key)) != NULL)
		r = run(&cf) == 0 ? 0 : 1;
	if (canary)
		leak_canary();
	EVP_PKEY_free(cf.key);
	EVP_PKEY_free(cf.wrong_key);
	return r;
}
