/*
 * fuzz_options.c - the one options setter (options.h): every line of the
 * input as a module argument through certauth_opts_set_word, then the
 * whole input as a configuration file through certauth_opts_load_file,
 * then certauth_opts_validate.
 *
 * The file goes to a private directory made at start-up under the
 * current directory (or $FUZZ_TMPDIR), which must pass the module's
 * safe-path rules, as the build tree does when run as root; otherwise
 * only the word setter is fuzzed, and start-up says so.
 *
 * Invariants, after every call that returns, failed or not: every number
 * lies in its documented range, every enum holds one of its values, paths
 * are absolute, URLs http:// or https://, no string holds a control
 * character, and a configuration file never sets config=.  A failure
 * always comes with a reason; a validated set is consistent.
 */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certauth.h"
#include "fuzzutil.h"
#include "options.h"

static char tmpdir[4096];
static char cfgpath[4096 + 16];
static int have_file, cfgfd = -1;

static void
remove_tmpdir(void)
{
	if (cfgfd >= 0)
		close(cfgfd);
	unlink(cfgpath);
	rmdir(tmpdir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct certauth_opts o;
	struct certauth_reason reason;
	const char *base = getenv("FUZZ_TMPDIR");
	char cwd[2048];

	(void)argc;
	(void)argv;
	if (base == NULL) {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			fz_fail(__FILE__, __LINE__, "getcwd");
		base = cwd;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/fuzz-options-XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL)
		fz_fail(__FILE__, __LINE__, "mkdtemp");
	snprintf(cfgpath, sizeof(cfgpath), "%s/conf", tmpdir);
	atexit(remove_tmpdir);
	/* Can the module read a file from here at all? */
	if ((cfgfd = open(cfgpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		fz_fail(__FILE__, __LINE__, "create config file");
	certauth_opts_init(&o);
	have_file = certauth_opts_load_file(&o, cfgpath, 1, &reason) == 0;
	certauth_opts_free(&o);
	if (!have_file)
		fprintf(stderr, "fuzz_options: %s; fuzzing option words only\n",
		    reason.text);
	return 0;
}

static void
check_string(const char *s, const char *must_start)
{
	if (s == NULL)
		return;
	fz_assert(*s != '\0');
	for (const char *p = s; *p != '\0'; p++)
		fz_assert(!iscntrl((unsigned char)*p));
	fz_assert(must_start == NULL ||
	    strncmp(s, must_start, strlen(must_start)) == 0);
}

static void
check_url(const char *s)
{
	check_string(s, NULL);
	fz_assert(s == NULL || strncmp(s, "http://", 7) == 0 ||
	    strncmp(s, "https://", 8) == 0);
}

/* What docs/PROTOCOL.md, "Options", and options.c's table allow. */
static void
check_opts(const struct certauth_opts *o)
{
	check_string(o->config, "/");
	check_string(o->bindings_dir, "/");
	check_string(o->ca_file, "/");
	check_string(o->ca_dir, "/");
	check_string(o->chain_file, "/");
	check_string(o->crl_file, "/");
	check_string(o->crl_dir, "/");
	check_string(o->ocsp_cache_dir, "/");
	check_string(o->ocsp_responder_cert, "/");
	check_string(o->hostname, NULL);
	check_url(o->ocsp_url);
	check_url(o->ocsp_proxy);
	fz_assert(o->trust == CERTAUTH_TRUST_CA ||
	    o->trust == CERTAUTH_TRUST_PINNED);
	fz_assert(o->crl >= CERTAUTH_CRL_DEFAULT && o->crl <= CERTAUTH_CRL_CHAIN);
	fz_assert(o->ocsp >= CERTAUTH_OCSP_OFF && o->ocsp <= CERTAUTH_OCSP_HARD);
	fz_assert(o->ocsp_scope == CERTAUTH_SCOPE_LEAF ||
	    o->ocsp_scope == CERTAUTH_SCOPE_CHAIN);
	fz_assert(o->ocsp_digest == CERTAUTH_OCSP_SHA1 ||
	    o->ocsp_digest == CERTAUTH_OCSP_SHA256);
	fz_assert(o->ocsp_nonce == 0 || o->ocsp_nonce == 1);
	fz_assert(o->nouserok == 0 || o->nouserok == 1);
	fz_assert(o->debug == 0 || o->debug == 1);
	fz_assert(o->ocsp_timeout_ms >= 100 && o->ocsp_timeout_ms <= 60000);
	fz_assert(o->ocsp_skew >= 0 && o->ocsp_skew <= 86400);
	fz_assert(o->ocsp_max_age >= 1 && o->ocsp_max_age <= 2592000);
	fz_assert(o->challenge_ttl >= 1 && o->challenge_ttl <= 3600);
}

static void
check_validate(struct certauth_opts *o)
{
	struct certauth_reason reason;
	int r;

	reason.text[0] = '\0';
	if ((r = certauth_opts_validate(o, &reason)) != 0) {
		fz_assert(r == CERTAUTH_ERR_CONFIG && reason.text[0] != '\0');
		return;
	}
	fz_assert(o->crl != CERTAUTH_CRL_DEFAULT);
	if (o->trust == CERTAUTH_TRUST_CA)
		fz_assert(o->ca_file != NULL || o->ca_dir != NULL);
	else
		fz_assert(o->crl == CERTAUTH_CRL_OFF &&
		    o->ocsp == CERTAUTH_OCSP_OFF);
	fz_assert(o->crl == CERTAUTH_CRL_OFF || o->crl_file != NULL ||
	    o->crl_dir != NULL);
	check_opts(o);
}

static void
fuzz_words(const char *text)
{
	struct certauth_opts o;
	struct certauth_reason reason;
	char *copy, *line, *next;
	int r;

	if ((copy = strdup(text)) == NULL)
		abort();
	certauth_opts_init(&o);
	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		reason.text[0] = '\0';
		r = certauth_opts_set_word(&o, line, &reason);
		fz_assert(r == 0 || r == CERTAUTH_ERR_CONFIG);
		fz_assert(r == 0 || reason.text[0] != '\0');
		check_opts(&o);
	}
	check_validate(&o);
	certauth_opts_free(&o);
	free(copy);
}

static void
fuzz_file(const uint8_t *data, size_t size)
{
	struct certauth_opts o;
	struct certauth_reason reason;
	int r;

	/* One descriptor kept open: opening the file is the slow part. */
	if (ftruncate(cfgfd, 0) != 0 ||
	    (size > 0 && pwrite(cfgfd, data, size, 0) != (ssize_t)size))
		fz_fail(__FILE__, __LINE__, "write config file");
	certauth_opts_init(&o);
	reason.text[0] = '\0';
	r = certauth_opts_load_file(&o, cfgpath, 1, &reason);
	fz_assert(r == 0 || r == CERTAUTH_ERR_CONFIG);
	fz_assert(r == 0 || reason.text[0] != '\0');
	fz_assert(o.config == NULL);
	/* A NUL byte makes the whole file an error, never a short file. */
	fz_assert(r != 0 || size == 0 || memchr(data, '\0', size) == NULL);
	check_opts(&o);
	if (r == 0)
		check_validate(&o);
	certauth_opts_free(&o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_strndup(data, size);

	fuzz_words(text);
	if (have_file)
		fuzz_file(data, size);
	free(text);
	return 0;
}
