/*
 * test_module.c - the built module as a host sees it: dlopen it and look at
 * its exports, then authenticate through libpam (pam_start_confdir) with the
 * tests' conversation that signs in-process (tests/common/conv.h), dlclose,
 * and repeat.
 */
#include "config.h"

#include <dlfcn.h>
#include <pwd.h>
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

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <security/pam_appl.h>

#include "conv.h"
#include "pki.h"
#include "testutil.h"

#define SERVICE "certauth-unit"

struct fixture {
	char *dir, *confdir, *conf_path;
	struct tu_pki pki;	/* Ed25519: the CA, the user's, a stranger's */
	const char *user;
};

static void
write_service(struct fixture *f, const char *extra)
{
	char *path = tu_path(f->confdir, SERVICE), *text = NULL;

	assert_true(asprintf(&text,
	    "auth required %s config=%s ca_file=%s bindings_dir=%s "
	    "hostname=unit-host %s\n", MODULE_PATH, f->conf_path,
	    f->pki.ca_file, f->pki.bindings_dir, extra) > 0);
	tu_write_file(path, text, 0644);
	free(text);
	free(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const struct tu_pki_opts pki = { .ca_cn = "Module CA",
	    .user_cn = "module user", .key_type = "ED25519",
	    .other_key_type = "ED25519" };
	struct passwd *pw = getpwuid(geteuid());

	*state = NULL;
	if (f == NULL || pw == NULL)
		return -1;
	if ((f->dir = tu_safe_tmpdir()) == NULL) {
		free(f);
		return 0;	/* the tests skip */
	}
	f->user = strdup(pw->pw_name);
	f->confdir = tu_path(f->dir, "pam.d");
	f->conf_path = tu_path(f->dir, "pam_certauth.conf");
	assert_int_equal(mkdir(f->confdir, 0755), 0);
	tu_write_file(f->conf_path, "# empty on purpose\n", 0644);
	tu_pki_make(&f->pki, &pki);
	tu_pki_write(&f->pki, f->dir);
	tu_pki_bind(&f->pki, f->user, &f->pki.user, 1);
	write_service(f, "");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	tu_pki_free(&f->pki);
	free((char *)f->user);
	free(f->dir);
	free(f->confdir);
	free(f->conf_path);
	free(f);
	return 0;
}

static struct fixture *
need(void **state)
{
	if (*state == NULL)
		skip();
	return *state;
}

/*
 * What libpam would have waited after the last pam_authenticate: it calls
 * the application's PAM_FAIL_DELAY function instead of sleeping, so the
 * tests run at full speed and can check the delay the module asked for.
 */
static struct {
	int calls;
	int retval;
	unsigned int usec;
} delayed;

static void
record_delay(int retval, unsigned int usec, void *appdata)
{
	(void)appdata;
	delayed.calls++;
	delayed.retval = retval;
	delayed.usec = usec;
}

/* One whole transaction: pam_start_confdir .. pam_end. */
static int
login(struct fixture *f, const char *user, struct tu_conv *cs)
{
	struct pam_conv conv = { tu_conversation, cs };
	pam_handle_t *pamh = NULL;
	int r;

	assert_int_equal(tu_pam_start(SERVICE, user, f->confdir, &conv,
	    record_delay, &pamh), PAM_SUCCESS);
	memset(&delayed, 0, sizeof(delayed));
	r = pam_authenticate(pamh, PAM_SILENT);
	assert_int_equal(pam_end(pamh, r), PAM_SUCCESS);
	return r;
}

static void
test_exports(void **state)
{
	void *h;

	(void)state;
	h = dlopen(MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(h);
	assert_non_null(dlsym(h, "pam_sm_authenticate"));
	assert_non_null(dlsym(h, "pam_sm_setcred"));
	/* the library's own symbols stay inside the module */
	assert_null(dlsym(h, "certauth_authenticate"));
	assert_null(dlsym(h, "certauth_opts_set"));
	assert_null(dlsym(h, "certauth_verify_signature"));
	assert_int_equal(dlclose(h), 0);
}

static void
test_login_cycles(void **state)
{
	struct fixture *f = need(state);
	int i;

	for (i = 0; i < 5; i++) {
		struct tu_conv good = { .key = f->pki.user_key };
		struct tu_conv wrong = { .key = f->pki.other_key };
		struct tu_conv garbage = { .answer = TU_NOT_SIGNATURE };
		void *h;

		assert_int_equal(login(f, f->user, &good), PAM_SUCCESS);
		assert_int_equal(good.calls, 1);
		assert_non_null(strstr(good.challenge,
		    "certauth:v1:unit-host:" SERVICE ":"));
		assert_int_equal(login(f, f->user, &wrong), PAM_AUTH_ERR);
		assert_int_equal(login(f, f->user, &garbage), PAM_AUTH_ERR);
		/* and a host that opens and closes the module itself */
		h = dlopen(MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
		assert_non_null(h);
		assert_int_equal(dlclose(h), 0);
	}
}

static void
test_fresh_challenge_each_time(void **state)
{
	struct fixture *f = need(state);
	struct tu_conv a = { .key = f->pki.user_key };
	struct tu_conv b = { .key = f->pki.user_key };

	assert_int_equal(login(f, f->user, &a), PAM_SUCCESS);
	assert_int_equal(login(f, f->user, &b), PAM_SUCCESS);
	assert_string_not_equal(a.challenge, b.challenge);
}

/*
 * challenge_in_prompt: one prompt of the two lines, for applications that
 * show an askpass program the prompt alone (sudo -A); by default the
 * challenge is a text message of its own before the prompt.
 */
static void
test_challenge_in_prompt(void **state)
{
	struct fixture *f = need(state);
	struct tu_conv a = { .key = f->pki.user_key };
	struct tu_conv b = { .key = f->pki.user_key };
	char want[700];

	assert_int_equal(login(f, f->user, &a), PAM_SUCCESS);
	assert_int_equal(a.joined, 0);
	assert_string_equal(a.prompt, "certauth response: ");
	write_service(f, "challenge_in_prompt");
	assert_int_equal(login(f, f->user, &b), PAM_SUCCESS);
	assert_int_equal(b.joined, 1);
	snprintf(want, sizeof(want),
	    "certauth challenge: %s\ncertauth response: ", b.challenge);
	assert_string_equal(b.prompt, want);
	assert_non_null(strstr(b.challenge, "certauth:v1:unit-host:"));
	write_service(f, "");
}

static void
test_conversation_failure(void **state)
{
	struct fixture *f = need(state);
	struct tu_conv cs = { .key = f->pki.user_key,
	    .answer = TU_CONV_FAIL };

	assert_int_equal(login(f, f->user, &cs), PAM_CONV_ERR);
}

static void
test_unknown_user_is_challenged(void **state)
{
	struct fixture *f = need(state);
	struct tu_conv cs = { .key = f->pki.user_key };

	assert_int_equal(login(f, "no-such-user-certauth", &cs), PAM_AUTH_ERR);
	assert_int_equal(cs.calls, 1);
}

/*
 * libpam folds a lone PAM_IGNORE into its own stack result, so the ignore
 * path of this stack ends in pam_debug.so returning PAM_CRED_EXPIRED: that
 * code can only come back when the module said PAM_IGNORE.
 */
static void
write_ignore_probe(struct fixture *f)
{
	char *path = tu_path(f->confdir, SERVICE), *text = NULL;

	assert_true(asprintf(&text,
	    "auth [success=done ignore=ignore default=die] %s config=%s "
	    "ca_file=%s bindings_dir=%s nouserok\n"
	    "auth requisite pam_debug.so auth=cred_expired\n", MODULE_PATH,
	    f->conf_path, f->pki.ca_file, f->pki.bindings_dir) > 0);
	tu_write_file(path, text, 0644);
	free(text);
	free(path);
}

static void
test_nouserok(void **state)
{
	struct fixture *f = need(state);
	struct tu_conv cs = { .key = f->pki.user_key };
	char *path;

	write_ignore_probe(f);
	assert_int_equal(login(f, "no-such-user-certauth", &cs),
	    PAM_CRED_EXPIRED);
	assert_int_equal(cs.calls, 0);
	assert_int_equal(login(f, f->user, &cs), PAM_SUCCESS);
	assert_int_equal(cs.calls, 1);
	/* an unsafe bindings file is an error, never "no binding" */
	path = tu_path(f->pki.bindings_dir, f->user);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(login(f, f->user, &cs), PAM_AUTH_ERR);
	assert_int_equal(cs.calls, 1);
	free(path);
	/* without nouserok an unknown user is challenged and fails */
	write_service(f, "");
	assert_int_equal(login(f, "no-such-user-certauth", &cs), PAM_AUTH_ERR);
	assert_int_equal(cs.calls, 2);
}

static void
test_configuration_errors(void **state)
{
	struct fixture *f = need(state);
	struct tu_conv cs = { .key = f->pki.user_key };

	write_service(f, "no_such_option=1");
	assert_int_equal(login(f, f->user, &cs), PAM_SERVICE_ERR);
	write_service(f, "challenge_ttl=forever");
	assert_int_equal(login(f, f->user, &cs), PAM_SERVICE_ERR);
	assert_int_equal(cs.calls, 0);
	write_service(f, "ca_file=/nonexistent/ca.pem");
	assert_int_equal(login(f, f->user, &cs), PAM_AUTHINFO_UNAVAIL);
}

/*
 * Every failure is delayed about 2 s (libpam varies the module's request by
 * up to a half); nodelay asks for none.
 */
static void
test_fail_delay(void **state)
{
	struct fixture *f = need(state);
	struct tu_conv wrong = { .key = f->pki.other_key };
	struct tu_conv good = { .key = f->pki.user_key };

	assert_int_equal(login(f, f->user, &wrong), PAM_AUTH_ERR);
	assert_int_equal(delayed.calls, 1);
	assert_int_equal(delayed.retval, PAM_AUTH_ERR);
	assert_in_range(delayed.usec, 1000000, 3000000);
	assert_int_equal(login(f, f->user, &good), PAM_SUCCESS);
	assert_int_equal(delayed.retval, PAM_SUCCESS);
	/* a configuration error is delayed like any failure */
	write_service(f, "no_such_option=1");
	assert_int_equal(login(f, f->user, &good), PAM_SERVICE_ERR);
	assert_in_range(delayed.usec, 1000000, 3000000);
	write_service(f, "nodelay");
	assert_int_equal(login(f, f->user, &wrong), PAM_AUTH_ERR);
	assert_int_equal(delayed.calls, 1);
	assert_int_equal(delayed.usec, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exports),
		cmocka_unit_test_setup_teardown(test_login_cycles, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fresh_challenge_each_time,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_challenge_in_prompt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_conversation_failure,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_user_is_challenged,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_nouserok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configuration_errors,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_delay, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
