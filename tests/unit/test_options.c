/*
 * test_options.c - the options parser: every key, bad values, unknown keys,
 * configuration files and the override order.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "certauth.h"
#include "options.h"
#include "testutil.h"

static int
set(struct certauth_opts *o, const char *word)
{
	struct certauth_reason reason;

	return certauth_opts_set_word(o, word, &reason);
}

static void
test_defaults(void **state)
{
	struct certauth_opts o;

	(void)state;
	certauth_opts_init(&o);
	assert_int_equal(o.trust, CERTAUTH_TRUST_CA);
	assert_int_equal(o.crl, CERTAUTH_CRL_DEFAULT);
	assert_int_equal(o.ocsp, CERTAUTH_OCSP_OFF);
	assert_int_equal(o.ocsp_timeout_ms, 3000);
	assert_int_equal(o.ocsp_scope, CERTAUTH_SCOPE_LEAF);
	assert_int_equal(o.ocsp_nonce, 1);
	assert_int_equal(o.ocsp_digest, CERTAUTH_OCSP_SHA1);
	assert_int_equal(o.ocsp_skew, 300);
	assert_int_equal(o.ocsp_max_age, 3600);
	assert_int_equal(o.crl_warn, 86400);
	assert_int_equal(o.crl_grace, 0);
	assert_int_equal(o.crl_skew, 300);
	assert_int_equal(o.challenge_ttl, 120);
	assert_null(o.bindings_dir);
	assert_null(o.hostname);
	assert_int_equal(o.nouserok, 0);
	assert_int_equal(o.challenge_in_prompt, 0);
	assert_int_equal(o.debug, 0);
	certauth_opts_free(&o);
}

static void
test_every_key(void **state)
{
	struct certauth_opts o;

	(void)state;
	certauth_opts_init(&o);
	assert_int_equal(set(&o, "config=/etc/x.conf"), 0);
	assert_string_equal(o.config, "/etc/x.conf");
	assert_int_equal(set(&o, "bindings_dir=/b"), 0);
	assert_string_equal(o.bindings_dir, "/b");
	assert_int_equal(set(&o, "trust=pinned"), 0);
	assert_int_equal(o.trust, CERTAUTH_TRUST_PINNED);
	assert_int_equal(set(&o, "trust=ca"), 0);
	assert_int_equal(o.trust, CERTAUTH_TRUST_CA);
	assert_int_equal(set(&o, "ca_file=/ca.pem"), 0);
	assert_string_equal(o.ca_file, "/ca.pem");
	assert_int_equal(set(&o, "ca_dir=/cadir"), 0);
	assert_string_equal(o.ca_dir, "/cadir");
	assert_int_equal(set(&o, "chain_file=/chain.pem"), 0);
	assert_string_equal(o.chain_file, "/chain.pem");
	assert_int_equal(set(&o, "crl_file=/crl.pem"), 0);
	assert_string_equal(o.crl_file, "/crl.pem");
	assert_int_equal(set(&o, "crl_dir=/crls"), 0);
	assert_string_equal(o.crl_dir, "/crls");
	assert_int_equal(set(&o, "crl=chain"), 0);
	assert_int_equal(o.crl, CERTAUTH_CRL_CHAIN);
	assert_int_equal(set(&o, "crl=leaf"), 0);
	assert_int_equal(o.crl, CERTAUTH_CRL_LEAF);
	assert_int_equal(set(&o, "crl=off"), 0);
	assert_int_equal(o.crl, CERTAUTH_CRL_OFF);
	assert_int_equal(set(&o, "ocsp=hard"), 0);
	assert_int_equal(o.ocsp, CERTAUTH_OCSP_HARD);
	assert_int_equal(set(&o, "ocsp=soft"), 0);
	assert_int_equal(o.ocsp, CERTAUTH_OCSP_SOFT);
	assert_int_equal(set(&o, "ocsp_url=http://127.0.0.1:8080/"), 0);
	assert_string_equal(o.ocsp_url, "http://127.0.0.1:8080/");
	assert_int_equal(set(&o, "ocsp_timeout_ms=1500"), 0);
	assert_int_equal(o.ocsp_timeout_ms, 1500);
	assert_int_equal(set(&o, "ocsp_cache_dir=/var/cache/x"), 0);
	assert_string_equal(o.ocsp_cache_dir, "/var/cache/x");
	assert_int_equal(set(&o, "ocsp_scope=chain"), 0);
	assert_int_equal(o.ocsp_scope, CERTAUTH_SCOPE_CHAIN);
	assert_int_equal(set(&o, "ocsp_nonce=no"), 0);
	assert_int_equal(o.ocsp_nonce, 0);
	assert_int_equal(set(&o, "ocsp_digest=sha256"), 0);
	assert_int_equal(o.ocsp_digest, CERTAUTH_OCSP_SHA256);
	assert_int_equal(set(&o, "ocsp_proxy=http://proxy:3128"), 0);
	assert_string_equal(o.ocsp_proxy, "http://proxy:3128");
	assert_int_equal(set(&o, "ocsp_responder_cert=/r.pem"), 0);
	assert_string_equal(o.ocsp_responder_cert, "/r.pem");
	assert_int_equal(set(&o, "ocsp_skew=0"), 0);
	assert_int_equal(o.ocsp_skew, 0);
	assert_int_equal(set(&o, "ocsp_max_age=7200"), 0);
	assert_int_equal(o.ocsp_max_age, 7200);
	assert_int_equal(set(&o, "crl_warn=0"), 0);
	assert_int_equal(o.crl_warn, 0);
	assert_int_equal(set(&o, "crl_warn=2592000"), 0);
	assert_int_equal(o.crl_warn, 2592000);
	assert_int_equal(set(&o, "crl_grace=3600"), 0);
	assert_int_equal(o.crl_grace, 3600);
	assert_int_equal(set(&o, "crl_grace=2592000"), 0);
	assert_int_equal(o.crl_grace, 2592000);
	assert_int_equal(set(&o, "crl_skew=0"), 0);
	assert_int_equal(o.crl_skew, 0);
	assert_int_equal(set(&o, "crl_skew=86400"), 0);
	assert_int_equal(o.crl_skew, 86400);
	assert_int_equal(set(&o, "challenge_ttl=30"), 0);
	assert_int_equal(o.challenge_ttl, 30);
	assert_int_equal(set(&o, "hostname=host1.example"), 0);
	assert_string_equal(o.hostname, "host1.example");
	assert_int_equal(set(&o, "pkcs11=try"), 0);
	assert_int_equal(o.pkcs11, CERTAUTH_PKCS11_TRY);
	assert_int_equal(set(&o, "pkcs11=only"), 0);
	assert_int_equal(o.pkcs11, CERTAUTH_PKCS11_ONLY);
	assert_int_equal(set(&o, "pkcs11_module=/usr/lib/x.so"), 0);
	assert_string_equal(o.pkcs11_module, "/usr/lib/x.so");
	assert_int_equal(set(&o, "pkcs11_uri=pkcs11:token=card;id=%01"), 0);
	assert_string_equal(o.pkcs11_uri, "pkcs11:token=card;id=%01");
	assert_int_equal(set(&o, "nouserok"), 0);
	assert_int_equal(o.nouserok, 1);
	assert_int_equal(set(&o, "challenge_in_prompt"), 0);
	assert_int_equal(o.challenge_in_prompt, 1);
	assert_int_equal(set(&o, "challenge_in_prompt=no"), 0);
	assert_int_equal(o.challenge_in_prompt, 0);
	assert_int_equal(set(&o, "debug"), 0);
	assert_int_equal(o.debug, 1);
	assert_int_equal(set(&o, "debug=no"), 0);
	assert_int_equal(o.debug, 0);
	/* a later value replaces an earlier one without leaking it */
	assert_int_equal(set(&o, "ca_file=/other.pem"), 0);
	assert_string_equal(o.ca_file, "/other.pem");
	certauth_opts_free(&o);
	assert_null(o.ca_file);
}

static void
test_bad_values(void **state)
{
	static const char *bad[] = {
		"challenge_ttl=abc",
		"challenge_ttl=-1",
		"challenge_ttl=0",
		"challenge_ttl=3601",
		"challenge_ttl=12x",
		"challenge_ttl= 5",
		"challenge_ttl=99999999999999999999999",
		"challenge_ttl=",
		"challenge_ttl",
		"ocsp_timeout_ms=99",
		"ocsp_timeout_ms=60001",
		"ocsp_skew=86401",
		"ocsp_max_age=0",
		"trust=none",
		"trust=CA",
		"crl_warn=-1",
		"crl_warn=2592001",
		"crl_warn=1d",
		"crl_grace=-5",
		"crl_grace=2592001",
		"crl_grace=",
		"crl_skew=86401",
		"crl_skew=-1",
		"crl_skew=5m",
		"crl=yes",
		"ocsp=on",
		"ocsp_scope=all",
		"ocsp_nonce=maybe",
		"ocsp_digest=md5",
		"debug=2",
		"nouserok=perhaps",
		"ca_file=relative/ca.pem",
		"bindings_dir=bindings",
		"ocsp_url=ftp://x/",
		"ocsp_url=127.0.0.1",
		"ocsp_proxy=proxy:3128",
		"hostname=a\tb",
		"=value",
		"trust",
		"ca_file=None",
		"ca_file=/none\n",
		"config=",
		"config=none",
		"trust=",
		"ocsp_skew=none",
		"debug=",
		"challenge_in_prompt=maybe",
	};
	struct certauth_opts o;
	struct certauth_reason reason;
	size_t i;

	(void)state;
	certauth_opts_init(&o);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&reason, 0, sizeof(reason));
		if (certauth_opts_set_word(&o, bad[i], &reason) !=
		    CERTAUTH_ERR_CONFIG)
			fail_msg("accepted bad option '%s'", bad[i]);
		assert_true(reason.text[0] != '\0');
	}
	/* nothing above changed the defaults */
	assert_int_equal(o.challenge_ttl, 120);
	assert_int_equal(o.trust, CERTAUTH_TRUST_CA);
	assert_null(o.ca_file);
	certauth_opts_free(&o);
}

static void
test_reason_names_key(void **state)
{
	struct certauth_opts o;
	struct certauth_reason reason;

	(void)state;
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_set_word(&o, "frobnicate=1", &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text, "unknown option 'frobnicate'"));
	assert_int_equal(
	    certauth_opts_set_word(&o, "challenge_ttl=9999", &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text, "challenge_ttl"));
	assert_non_null(strstr(reason.text, "9999"));
	assert_int_equal(
	    certauth_opts_set_word(&o, "crl_grace=2592001", &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_string_equal(reason.text,
	    "option crl_grace: '2592001' is not "
	    "a number from 0 to 2592000");
	assert_int_equal(certauth_opts_set_word(&o, "crl_warn=-1", &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_string_equal(reason.text,
	    "option crl_warn: '-1' is not a "
	    "number from 0 to 2592000");
	assert_int_equal(certauth_opts_set_word(&o, "crl_skew=86401", &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_string_equal(reason.text,
	    "option crl_skew: '86401' is not a "
	    "number from 0 to 86400");
	certauth_opts_free(&o);
}

static void
test_validate(void **state)
{
	struct certauth_opts o;
	struct certauth_reason reason;

	(void)state;
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_validate(&o, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text, "ca_file"));
	assert_int_equal(set(&o, "ca_file=/ca.pem"), 0);
	assert_int_equal(certauth_opts_validate(&o, &reason), 0);
	assert_int_equal(o.crl, CERTAUTH_CRL_OFF);
	certauth_opts_free(&o);

	/* a CRL source turns crl=leaf on by default */
	certauth_opts_init(&o);
	assert_int_equal(set(&o, "ca_dir=/cadir"), 0);
	assert_int_equal(set(&o, "crl_file=/crl.pem"), 0);
	assert_int_equal(certauth_opts_validate(&o, &reason), 0);
	assert_int_equal(o.crl, CERTAUTH_CRL_LEAF);
	certauth_opts_free(&o);

	/* crl=chain without a source */
	certauth_opts_init(&o);
	assert_int_equal(set(&o, "ca_file=/ca.pem"), 0);
	assert_int_equal(set(&o, "crl=chain"), 0);
	assert_int_equal(certauth_opts_validate(&o, &reason),
	    CERTAUTH_ERR_CONFIG);
	certauth_opts_free(&o);

	/* pinned needs no CA, but refuses CRLs it could not check */
	certauth_opts_init(&o);
	assert_int_equal(set(&o, "trust=pinned"), 0);
	assert_int_equal(certauth_opts_validate(&o, &reason), 0);
	assert_int_equal(set(&o, "crl_dir=/crls"), 0);
	assert_int_equal(certauth_opts_validate(&o, &reason),
	    CERTAUTH_ERR_CONFIG);
	certauth_opts_free(&o);

	/* OCSP needs an issuer: fine with a CA, refused when pinned */
	certauth_opts_init(&o);
	assert_int_equal(set(&o, "ca_file=/ca.pem"), 0);
	assert_int_equal(set(&o, "ocsp=soft"), 0);
	assert_int_equal(certauth_opts_validate(&o, &reason), 0);
	assert_int_equal(set(&o, "trust=pinned"), 0);
	assert_int_equal(certauth_opts_validate(&o, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text, "pinned"));
	certauth_opts_free(&o);

	/* One answer source: the agent or a token, not both; a token URI
	 * is a pkcs11: URI; a module is an absolute path. */
	certauth_opts_init(&o);
	assert_int_equal(set(&o, "ca_file=/ca.pem"), 0);
	assert_int_equal(set(&o, "pkcs11=try"), 0);
	assert_int_equal(certauth_opts_validate(&o, &reason), 0);
	assert_int_equal(set(&o, "agent=only"), 0);
	assert_int_equal(certauth_opts_validate(&o, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text, "agent and pkcs11"));
	assert_int_equal(set(&o, "agent=off"), 0);
	assert_int_equal(set(&o, "pkcs11_uri=token=card"), 0);
	assert_int_equal(certauth_opts_validate(&o, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text, "not a pkcs11: URI"));
	assert_int_equal(set(&o, "pkcs11_module=lib.so"), CERTAUTH_ERR_CONFIG);
	assert_int_equal(set(&o, "pkcs11=maybe"), CERTAUTH_ERR_CONFIG);
	certauth_opts_free(&o);
}

/* pkcs11_uri names a token and certificate, never a PIN or a module. */
static void
test_validate_pkcs11_uri(void **state)
{
	static const struct {
		const char *uri, *why; /* why NULL: accepted */
	} cases[] = {
		{ "pkcs11:", NULL },
		{ "pkcs11:token=alice;id=%01?module-name=softhsm2", NULL },
		{ "pkcs11:token=alice?pin-value=1234", "pin-value is refused" },
		{ "pkcs11:token=alice;pin-value=1234", "pin-value is refused" },
		{ "pkcs11:?pin-source=/etc/pin", "pin-source is refused" },
		{ "pkcs11:token=a;pin-source=%2fetc%2fpin",
		    "pin-source is refused" },
		{ "pkcs11:token=a?module-path=/tmp/evil.so",
		    "module-path is refused" },
		{ "pkcs11:?module-name=x&module-path=/tmp/evil.so",
		    "module-path is refused" },
		{ "pkcs11:module-path=/tmp/evil.so",
		    "has attributes p11-kit does not know" },
		{ "pkcs11:token=a;color=blue",
		    "has attributes p11-kit does not know" },
		{ "pkcs11:?pin-value", "cannot read" },
		{ "pkcs11:token=%zz", "cannot read" },
	};
	struct certauth_opts o;
	struct certauth_reason reason;
	char word[160];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		certauth_opts_init(&o);
		assert_int_equal(set(&o, "ca_file=/ca.pem"), 0);
		assert_int_equal(set(&o, "pkcs11=only"), 0);
		snprintf(word, sizeof(word), "pkcs11_uri=%s", cases[i].uri);
		assert_int_equal(set(&o, word), 0);
		memset(&reason, 0, sizeof(reason));
		r = certauth_opts_validate(&o, &reason);
		if (cases[i].why == NULL) {
			assert_int_equal(r, 0);
		} else {
			assert_int_equal(r, CERTAUTH_ERR_CONFIG);
			assert_non_null(strstr(reason.text, "pkcs11_uri"));
			assert_non_null(strstr(reason.text, cases[i].why));
		}
		certauth_opts_free(&o);
	}
}

static char *
write_conf(const char *dir, const char *content, int mode)
{
	char *path = tu_path(dir, "certauth.conf");

	tu_write_file(path, content, mode);
	return path;
}

static void
test_config_file(void **state)
{
	struct certauth_opts o;
	struct certauth_reason reason;
	char *dir, *path, *big, *expect = NULL, *link;

	(void)state;
	if ((dir = tu_safe_tmpdir()) == NULL)
		skip();
	path = write_conf(dir,
	    "# a comment\n"
	    "\n"
	    "   ca_file   =   /ca.pem   \n"
	    "challenge_ttl=60\n"
	    "\tdebug\n"
	    "hostname = host one\n",
	    0644);
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_load_file(&o, path, 1, &reason), 0);
	assert_string_equal(o.ca_file, "/ca.pem");
	assert_int_equal(o.challenge_ttl, 60);
	assert_int_equal(o.debug, 1);
	assert_string_equal(o.hostname, "host one");
	certauth_opts_free(&o);

	/* an unknown key names the file and the line */
	tu_write_file(path, "ca_file=/ca.pem\nbogus = 1\n", 0644);
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_load_file(&o, path, 1, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text, path));
	assert_non_null(strstr(reason.text, "line 2"));
	assert_non_null(strstr(reason.text, "bogus"));
	certauth_opts_free(&o);

	/* config= cannot be nested */
	tu_write_file(path, "config = /etc/other.conf\n", 0644);
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_load_file(&o, path, 1, &reason),
	    CERTAUTH_ERR_CONFIG);
	certauth_opts_free(&o);

	/* a writable configuration file is not trusted */
	tu_write_file(path, "ca_file=/ca.pem\n", 0666);
	assert_int_equal(chmod(path, 0666), 0);
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_load_file(&o, path, 1, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text, "is group-writable"));
	certauth_opts_free(&o);

	/* over 64 KiB: refused whole, even when it is all comments */
	big = malloc(64 * 1024 + 2);
	assert_non_null(big);
	memset(big, '#', 64 * 1024 + 1);
	big[64 * 1024 + 1] = '\0';
	tu_write_file(path, big, 0644);
	assert_int_equal(chmod(path, 0644), 0);
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_load_file(&o, path, 1, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_true(asprintf(&expect,
			"configuration file %s is larger than "
			"65536 bytes",
			path) > 0);
	assert_string_equal(reason.text, expect);
	free(expect);
	big[64 * 1024] = '\0';
	tu_write_file(path, big, 0644);
	assert_int_equal(certauth_opts_load_file(&o, path, 1, &reason), 0);
	certauth_opts_free(&o);
	free(big);

	/* a link to a good configuration file is still a link */
	link = tu_path(dir, "link.conf");
	assert_int_equal(symlink(path, link), 0);
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_load_file(&o, link, 0, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text, "is a symbolic link"));
	certauth_opts_free(&o);
	free(link);
	free(path);

	/* missing: fine for the default, an error when named */
	path = tu_path(dir, "missing.conf");
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_load_file(&o, path, 0, &reason), 0);
	assert_int_equal(certauth_opts_load_file(&o, path, 1, &reason),
	    CERTAUTH_ERR_CONFIG);
	certauth_opts_free(&o);
	free(path);
	free(dir);
}

static void
test_override_order(void **state)
{
	struct certauth_opts o;
	struct certauth_reason reason;
	char *dir, *path, *cfgword;
	const char *argv[3];

	(void)state;
	if ((dir = tu_safe_tmpdir()) == NULL)
		skip();
	path = write_conf(dir, "ca_file=/file.pem\nchallenge_ttl=60\n", 0644);
	assert_true(asprintf(&cfgword, "config=%s", path) > 0);

	/* arguments override the file, whatever their position */
	argv[0] = "challenge_ttl=30";
	argv[1] = cfgword;
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_from_words(&o, 2, argv, &reason), 0);
	assert_int_equal(o.challenge_ttl, 30);
	assert_string_equal(o.ca_file, "/file.pem");
	certauth_opts_free(&o);

	/* without an argument the file's value stands */
	argv[0] = cfgword;
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_from_words(&o, 1, argv, &reason), 0);
	assert_int_equal(o.challenge_ttl, 60);
	certauth_opts_free(&o);

	/* an unknown argument fails the whole set */
	argv[1] = "nosuchoption";
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_from_words(&o, 2, argv, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text, "nosuchoption"));
	certauth_opts_free(&o);

	/* a named but missing configuration file is an error */
	argv[0] = "config=/nonexistent/certauth.conf";
	argv[1] = "ca_file=/ca.pem";
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_from_words(&o, 2, argv, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text, "/nonexistent/certauth.conf"));
	certauth_opts_free(&o);

	/* a relative config path is refused before anything is read */
	argv[0] = "config=certauth.conf";
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_from_words(&o, 1, argv, &reason),
	    CERTAUTH_ERR_CONFIG);
	certauth_opts_free(&o);
	free(cfgword);
	free(path);
	free(dir);
}

static void
test_bindings_dir(void **state)
{
	struct certauth_opts o;

	(void)state;
	certauth_opts_init(&o);
	assert_string_equal(certauth_opts_bindings_dir(&o),
	    CERTAUTH_DEFAULT_BINDINGS_DIR);
	assert_int_equal(set(&o, "bindings_dir=/srv/bindings"), 0);
	assert_string_equal(certauth_opts_bindings_dir(&o), "/srv/bindings");
	certauth_opts_free(&o);
	assert_string_equal(certauth_opts_bindings_dir(&o),
	    CERTAUTH_DEFAULT_BINDINGS_DIR);
}

static void
test_crl_scope(void **state)
{
	struct certauth_opts o;

	(void)state;
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_crl_scope(&o), CERTAUTH_CRL_OFF);
	assert_int_equal(set(&o, "crl_dir=/crls"), 0);
	assert_int_equal(certauth_opts_crl_scope(&o), CERTAUTH_CRL_LEAF);
	/* It only reads: crl is still unresolved. */
	assert_int_equal(o.crl, CERTAUTH_CRL_DEFAULT);
	assert_int_equal(set(&o, "crl=chain"), 0);
	assert_int_equal(certauth_opts_crl_scope(&o), CERTAUTH_CRL_CHAIN);
	assert_int_equal(set(&o, "crl=off"), 0);
	assert_int_equal(certauth_opts_crl_scope(&o), CERTAUTH_CRL_OFF);
	certauth_opts_free(&o);

	certauth_opts_init(&o);
	assert_int_equal(set(&o, "crl_file=/crl.pem"), 0);
	assert_int_equal(certauth_opts_crl_scope(&o), CERTAUTH_CRL_LEAF);
	/* An explicit scope stands, source or not: validate refuses it. */
	assert_int_equal(set(&o, "crl=leaf"), 0);
	free(o.crl_file);
	o.crl_file = NULL;
	assert_int_equal(certauth_opts_crl_scope(&o), CERTAUTH_CRL_LEAF);
	certauth_opts_free(&o);
}

/* The reason certauth_opts_set_word gives for word; "" when it passes. */
static const char *
reason_of(struct certauth_opts *o, const char *word)
{
	static struct certauth_reason reason;

	if (certauth_opts_set_word(o, word, &reason) == 0)
		return "";
	return reason.text;
}

static void
test_unset(void **state)
{
	static const char *const strings[] = { "bindings_dir", "ca_file",
		"ca_dir", "chain_file", "crl_file", "crl_dir", "ocsp_url",
		"ocsp_cache_dir", "ocsp_proxy", "ocsp_responder_cert" };
	struct certauth_opts o;
	char word[64];
	size_t i;

	(void)state;
	certauth_opts_init(&o);
	/* paths and URLs: the empty value and "none" both unset */
	assert_int_equal(set(&o, "crl_file=/crl.pem"), 0);
	assert_int_equal(set(&o, "crl_file="), 0);
	assert_null(o.crl_file);
	assert_int_equal(set(&o, "crl_file=/crl.pem"), 0);
	assert_int_equal(set(&o, "crl_file=none"), 0);
	assert_null(o.crl_file);
	assert_int_equal(set(&o, "crl_file=none"), 0); /* unset twice */
	assert_int_equal(set(&o, "ocsp_url=http://ocsp.example/"), 0);
	assert_int_equal(set(&o, "ocsp_url=none"), 0);
	assert_null(o.ocsp_url);
	assert_int_equal(set(&o, "bindings_dir=/b"), 0);
	assert_int_equal(set(&o, "bindings_dir="), 0);
	assert_string_equal(certauth_opts_bindings_dir(&o),
	    CERTAUTH_DEFAULT_BINDINGS_DIR);
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		snprintf(word, sizeof(word), "%s=/x", strings[i]);
		if (strncmp(strings[i], "ocsp_url", 8) == 0 ||
		    strncmp(strings[i], "ocsp_proxy", 10) == 0)
			snprintf(word, sizeof(word), "%s=http://x/",
			    strings[i]);
		assert_int_equal(set(&o, word), 0);
		snprintf(word, sizeof(word), "%s=", strings[i]);
		assert_int_equal(set(&o, word), 0);
	}
	certauth_opts_free(&o); /* would double-free a stale pointer */

	/* the host name: the empty value unsets, "none" is a name */
	certauth_opts_init(&o);
	assert_int_equal(set(&o, "hostname=h1"), 0);
	assert_int_equal(set(&o, "hostname="), 0);
	assert_null(o.hostname);
	assert_int_equal(set(&o, "hostname=none"), 0);
	assert_string_equal(o.hostname, "none");

	/* the rest cannot be unset, and the reason says what to give */
	assert_string_equal(reason_of(&o, "challenge_ttl="),
	    "option challenge_ttl cannot be unset: give a number from 1 to "
	    "3600");
	assert_string_equal(reason_of(&o, "trust="),
	    "option trust cannot be unset: give ca or pinned");
	assert_string_equal(reason_of(&o, "crl="),
	    "option crl cannot be unset: give off, leaf or chain");
	assert_string_equal(reason_of(&o, "debug="),
	    "option debug cannot be unset: give yes or no");
	assert_string_equal(reason_of(&o, "config="),
	    "option config cannot be unset: leave it out to read the default "
	    "file");
	assert_string_equal(reason_of(&o, "config=none"),
	    "option config cannot be unset: leave it out to read the default "
	    "file");
	assert_string_equal(reason_of(&o, "challenge_ttl=none"),
	    "option challenge_ttl: 'none' is not a number from 1 to 3600");
	assert_string_equal(reason_of(&o, "crl_file"),
	    "option crl_file needs a value");
	assert_int_equal(o.challenge_ttl, 120);
	assert_int_equal(o.trust, CERTAUTH_TRUST_CA);
	certauth_opts_free(&o);
}

/* Every key of the table takes the empty value or says why not. */
static void
test_unset_every_key(void **state)
{
	struct certauth_opts o;
	const char *key, *why;
	char word[80];
	size_t i;

	(void)state;
	for (i = 0; (key = certauth_opts_key(i, NULL)) != NULL; i++) {
		certauth_opts_init(&o);
		snprintf(word, sizeof(word), "%s=", key);
		why = reason_of(&o, word);
		if (why[0] != '\0' && strstr(why, " cannot be unset: ") == NULL)
			fail_msg("%s: %s", word, why);
		certauth_opts_free(&o);
	}
}

/* The configuration file sets a CRL; an argument unsets it for pinned. */
static void
test_unset_overrides_file(void **state)
{
	struct certauth_opts o;
	struct certauth_reason reason;
	char *dir, *path, *cfgword;
	const char *argv[3];

	(void)state;
	if ((dir = tu_safe_tmpdir()) == NULL)
		skip();
	path = write_conf(dir,
	    "ca_file = /etc/security/certauth/ca.pem\n"
	    "chain_file = /etc/security/certauth/chain.pem\n"
	    "crl_file = /etc/security/certauth/crl.pem\n",
	    0644);
	assert_true(asprintf(&cfgword, "config=%s", path) > 0);
	argv[0] = cfgword;
	argv[1] = "trust=pinned";
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_from_words(&o, 2, argv, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_string_equal(reason.text,
	    "crl_file and crl_dir cannot be used with trust=pinned: unset "
	    "them with an empty value (crl_file=)");
	certauth_opts_free(&o);
	argv[2] = "crl_file=";
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_from_words(&o, 3, argv, &reason), 0);
	assert_null(o.crl_file);
	assert_int_equal(o.crl, CERTAUTH_CRL_OFF);
	certauth_opts_free(&o);

	/* an empty value in the file unsets too, and the file names it */
	tu_write_file(path, "crl_file = /crl.pem\ncrl_file =\nca_dir=/c\n",
	    0644);
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_load_file(&o, path, 1, &reason), 0);
	assert_null(o.crl_file);
	certauth_opts_free(&o);
	tu_write_file(path, "challenge_ttl =\n", 0644);
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_load_file(&o, path, 1, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(reason.text,
	    "line 1: option challenge_ttl cannot be unset: give a number"));
	certauth_opts_free(&o);

	/* config= among the arguments is refused before any file is read */
	argv[0] = "config=";
	certauth_opts_init(&o);
	assert_int_equal(certauth_opts_from_words(&o, 1, argv, &reason),
	    CERTAUTH_ERR_CONFIG);
	assert_string_equal(reason.text,
	    "option config cannot be unset: leave it out to read the default "
	    "file");
	certauth_opts_free(&o);
	free(cfgword);
	free(path);
	free(dir);
}

static void
test_key_table(void **state)
{
	static const char *const flags[] = { "nouserok", "challenge_in_prompt",
		"nodelay", "debug" };
	struct certauth_opts o;
	struct certauth_reason reason;
	const char *key;
	size_t i, j, nflags = 0;
	int flag, r;

	(void)state;
	for (i = 0; (key = certauth_opts_key(i, &flag)) != NULL; i++) {
		/* Every key is one the setter knows, once. */
		for (j = 0; j < i; j++)
			assert_string_not_equal(certauth_opts_key(j, NULL),
			    key);
		certauth_opts_init(&o);
		r = certauth_opts_set(&o, key, NULL, &reason);
		if (flag) {
			/* A flag goes bare and takes a boolean. */
			assert_int_equal(r, 0);
			assert_int_equal(
			    certauth_opts_set(&o, key, "no", &reason), 0);
			nflags++;
		} else {
			assert_int_equal(r, CERTAUTH_ERR_CONFIG);
			assert_non_null(strstr(reason.text, "needs a value"));
		}
		certauth_opts_free(&o);
		for (j = 0; j < sizeof(flags) / sizeof(flags[0]); j++)
			if (strcmp(key, flags[j]) == 0)
				assert_true(flag);
	}
	assert_int_equal(nflags, sizeof(flags) / sizeof(flags[0]));
	assert_null(certauth_opts_key(i, &flag));
	assert_null(certauth_opts_key((size_t)-1, NULL));
	assert_string_equal(certauth_opts_key(0, NULL), "config");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_reason_names_key),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_validate_pkcs11_uri),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_override_order),
		cmocka_unit_test(test_bindings_dir),
		cmocka_unit_test(test_crl_scope),
		cmocka_unit_test(test_key_table),
		cmocka_unit_test(test_unset),
		cmocka_unit_test(test_unset_every_key),
		cmocka_unit_test(test_unset_overrides_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
