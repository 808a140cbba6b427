/*
 * test_ldap_filter.c - the search filter the LDAP helper builds: the
 * user name escaped by libldap (RFC 4515, upper-case hex) into every %u, %% a %, and
 * every other template refused.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ldap_filter.h"

static void
check(const char *tmpl, const char *user, const char *want)
{
	char *got = NULL;

	assert_int_equal(certauth_ldap_filter_build(tmpl, user, &got), 0);
	assert_string_equal(got, want);
	free(got);
}

static void
test_escaping(void **state)
{
	(void)state;
	check("(uid=%u)", "alice", "(uid=alice)");
	check("(uid=%u)", "*", "(uid=\\2A)");
	check("(uid=%u)", "a*()\\", "(uid=a\\2A\\28\\29\\5C)");
	check("(uid=%u)", "x)(uid=*", "(uid=x\\29\\28uid=\\2A)");
	/* non-ASCII bytes are escaped too */
	check("(uid=%u)", "j\xc3\xb6rg", "(uid=j\\C3\\B6rg)");
	check("(|(uid=%u)(mail=%u@x))", "a(b",
	    "(|(uid=a\\28b)(mail=a\\28b@x))");
	check("(cn=100%%%u)", "*", "(cn=100%\\2A)");
	check("(uid=%u)", "", "(uid=)");
}

static void
test_bad_templates(void **state)
{
	static const char *const bad[] = { "(uid=alice)", "(uid=%s)",
		"(uid=%u%)", "(uid=%%u)", "%" };
	char *got = (char *)"unset";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (certauth_ldap_filter_build(bad[i], "x", &got) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_null(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_bad_templates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
