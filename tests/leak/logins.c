/*
 * logins.c - many logins in one process, for the leak checkers (valgrind
 * memcheck, ASan/LeakSanitizer): N cycles of pam_start_confdir,
 * pam_authenticate and pam_end on a service file of the caller's, with a
 * conversation that signs the challenge in-process with OpenSSL (good
 * answers) or answers wrongly (another key, not base64, nothing, a cut
 * signature, too long, no answer at all, a failed conversation, an
 * unknown user).  Every result is checked against what it must be.
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

#define MODULE_NAME	"pam_certauth.so"
#define UNKNOWN_USER	"certauth-leak-no-such-user"
#define TOO_LONG	5000	/* over the 4096 characters of the spec */

enum answer {
	A_GOOD,		/* base64 of a signature with the bound key */
	A_GOOD_SPACED,	/* the same with spaces and a newline inside */
	A_GOOD_URLSAFE,	/* the same in URL-safe base64 without padding */
	A_WRONG_KEY,	/* a valid signature with another key */
	A_MALFORMED,	/* not base64 */
	A_EMPTY,	/* "" */
	A_TRUNCATED,	/* the first half of a good answer */
	A_TOO_LONG,	/* TOO_LONG characters of base64 */
	A_NO_ANSWER,	/* the prompt's response left NULL */
	A_CONV_FAIL,	/* the conversation returns PAM_CONV_ERR */
	A_UNKNOWN_USER,	/* a good signature, for a user who does not exist */
	A_KINDS
};

static const char *const kind_name[A_KINDS] = {
	"good", "good-spaced", "good-urlsafe", "wrong-key", "malformed",
	"empty", "truncated", "too-long", "no-answer", "conv-fail",
	"unknown-user",
};

/* Every tenth slot cycles through the rarer failures. */
static const enum answer schedule[10] = {
	A_GOOD, A_WRONG_KEY, A_GOOD_SPACED, A_MALFORMED, A_GOOD,
	A_EMPTY, A_GOOD_URLSAFE, A_TRUNCATED, A_GOOD, A_KINDS,
};
static const enum answer rare[4] = {
	A_TOO_LONG, A_CONV_FAIL, A_NO_ANSWER, A_UNKNOWN_USER,
};

struct conv_state {
	enum answer kind;
	EVP_PKEY *key, *wrong_key;
	int challenges;		/* certauth conversation calls seen */
	int sign_failed;
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

/* base64 of the signature over msg (SHA-256, or pure EdDSA); malloc'd. */
static char *
sign_b64(EVP_PKEY *key, const char *msg)
{
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md = NULL;
	unsigned char *sig = NULL;
	char *b64 = NULL, *ret = NULL;
	size_t siglen = 0, len = strlen(msg);

	if (!EVP_PKEY_is_a(key, "ED25519") && !EVP_PKEY_is_a(key, "ED448"))
		md = EVP_sha256();
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)msg,
	    len) != 1 || (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg,
	    len) != 1 || (b64 = malloc(4 * ((siglen + 2) / 3) + 1)) == NULL ||
	    EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen) < 0)
		goto out;
	ret = b64;
	b64 = NULL;
 out:
	free(b64);
	free(sig);
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* "ab cd\nef..." from "abcdef...": whitespace the module must skip. */
static char *
spaced(const char *b64)
{
	size_t i, j = 0, len = strlen(b64);
	char *out;

	if ((out = malloc(2 * len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (i > 0 && i % 16 == 0)
			out[j++] = i % 64 == 0 ? '\n' : ' ';
		out[j++] = b64[i];
	}
	out[j] = '\0';
	return out;
}

/* URL-safe alphabet, padding dropped, in place. */
static char *
urlsafe(char *b64)
{
	char *p;

	for (p = b64; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=')
			*p = '\0';
	}
	return b64;
}

/* The response for kind; NULL only on failure (or for A_NO_ANSWER). */
static char *
make_answer(struct conv_state *cs, const char *challenge)
{
	char *sig = NULL, *out = NULL;

	switch (cs->kind) {
	case A_GOOD:
	case A_UNKNOWN_USER:
		return sign_b64(cs->key, challenge);
	case A_GOOD_SPACED:
		if ((sig = sign_b64(cs->key, challenge)) != NULL)
			out = spaced(sig);
		free(sig);
		return out;
	case A_GOOD_URLSAFE:
		return (sig = sign_b64(cs->key, challenge)) != NULL ?
		    urlsafe(sig) : NULL;
	case A_WRONG_KEY:
		return sign_b64(cs->wrong_key, challenge);
	case A_MALFORMED:
		return strdup("%%% this is not base64 %%%");
	case A_EMPTY:
		return strdup("");
	case A_TRUNCATED:
		if ((sig = sign_b64(cs->key, challenge)) != NULL)
			sig[strlen(sig) / 2] = '\0';
		return sig;
	case A_TOO_LONG:
		if ((out = malloc(TOO_LONG + 1)) != NULL) {
			memset(out, 'A', TOO_LONG);
			out[TOO_LONG] = '\0';
		}
		return out;
	default:
		return NULL;
	}
}

static int
conversation(int n, const struct pam_message **msg, struct pam_response **resp,
    void *arg)
{
	struct conv_state *cs = arg;
	struct pam_response *r;
	const char *c;

	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	/* pam_error's "Certificate authentication failed.": nothing to say */
	if (n != 2 || msg[0]->msg_style != PAM_TEXT_INFO ||
	    msg[1]->msg_style != PAM_PROMPT_ECHO_ON) {
		*resp = r;
		return PAM_SUCCESS;
	}
	cs->challenges++;
	if (cs->kind == A_CONV_FAIL ||
	    (c = strstr(msg[0]->msg, "certauth:v1:")) == NULL) {
		free(r);
		return PAM_CONV_ERR;
	}
	if (cs->kind != A_NO_ANSWER &&
	    (r[1].resp = make_answer(cs, c)) == NULL)
		cs->sign_failed++;
	*resp = r;
	return PAM_SUCCESS;
}

static int
expected(enum answer kind)
{
	switch (kind) {
	case A_GOOD:
	case A_GOOD_SPACED:
	case A_GOOD_URLSAFE:
		return PAM_SUCCESS;
	case A_NO_ANSWER:
	case A_CONV_FAIL:
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
	struct conv_state cs;
	struct pam_conv conv = { conversation, &cs };
	pam_handle_t *pamh = NULL;
	long opens = module_opens, closes = module_closes;
	int rc, want;

	memset(&cs, 0, sizeof(cs));
	cs.kind = schedule[i % 10];
	if (cs.kind == A_KINDS)
		cs.kind = rare[(i / 10) % 4];
	cs.key = cf->key;
	cs.wrong_key = cf->wrong_key;
	want = expected(cs.kind);
	if (pam_start_confdir(cf->service, cs.kind == A_UNKNOWN_USER ?
	    UNKNOWN_USER : cf->user, &conv, cf->confdir, &pamh) !=
	    PAM_SUCCESS) {
		fprintf(stderr, "logins: pam_start_confdir failed\n");
		return -1;
	}
	rc = pam_authenticate(pamh, 0);
	if (rc != want || cs.challenges != 1 || cs.sign_failed) {
		fprintf(stderr, "logins: login %ld (%s): %s (%d), expected %s "
		    "(%d); %d challenges%s\n", i, kind_name[cs.kind],
		    pam_strerror(pamh, rc), rc, pam_strerror(pamh, want), want,
		    cs.challenges, cs.sign_failed ? "; signing failed" : "");
		(*wrong)++;
	}
	counts[cs.kind]++;
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
	long counts[A_KINDS] = { 0 }, wrong = 0, refetches = 0, i, good;
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
	good = counts[A_GOOD] + counts[A_GOOD_SPACED] + counts[A_GOOD_URLSAFE];
	printf("logins %ld good %ld refused %ld wrong %ld module-dlopen %ld "
	    "module-dlclose %ld cache-emptied %ld\n", cf->count, good,
	    cf->count - good, wrong, module_opens, module_closes, refetches);
	for (k = 0; k < A_KINDS; k++)
		printf("  %-13s %ld\n", kind_name[k], counts[k]);
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
