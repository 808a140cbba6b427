/*
 * test_rules.c - certificate mapping rules (rules.h): the rules file
 * parser with hostile input, the match grammar, the map templates,
 * ambiguous and invalid mappings, certauth_rules_bind, and loading the
 * file under the safe-file rules.  tests/e2e/certmap.py holds the same
 * grammar against sssctl.
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

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certauth.h"
#include "rules.h"
#include "testutil.h"

static EVP_PKEY *key;

/*
 * A certificate signed by key: subject in OpenSSL's "/O=Corp/CN=alice"
 * form (least specific first); san, ku, eku in openssl.cnf syntax or
 * NULL for none.
 */
static X509 *
make(const char *subject, const char *san, const char *ku, const char *eku)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	char *copy = strdup(subject), *part, *save = NULL, *eq;

	assert_non_null(x);
	assert_non_null(name);
	assert_non_null(copy);
	for (part = strtok_r(copy, "/", &save); part != NULL;
	     part = strtok_r(NULL, "/", &save)) {
		eq = strchr(part, '=');
		assert_non_null(eq);
		*eq = '\0';
		assert_true(X509_NAME_add_entry_by_txt(name, part,
		    MBSTRING_UTF8, (unsigned char *)eq + 1, -1, -1, 0));
	}
	free(copy);
	assert_true(X509_set_version(x, 2));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
	assert_true(X509_set_subject_name(x, name));
	assert_true(X509_set_issuer_name(x, name));
	X509_NAME_free(name);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_true(X509_set_pubkey(x, key));
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (san != NULL) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx,
		    NID_subject_alt_name, san);
		assert_non_null(e);
		assert_true(X509_add_ext(x, e, -1));
		X509_EXTENSION_free(e);
	}
	if (ku != NULL) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx,
		    NID_key_usage, ku);
		assert_non_null(e);
		assert_true(X509_add_ext(x, e, -1));
		X509_EXTENSION_free(e);
	}
	if (eku != NULL) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx,
		    NID_ext_key_usage, eku);
		assert_non_null(e);
		assert_true(X509_add_ext(x, e, -1));
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* A login certificate: digitalSignature, clientAuth. */
static X509 *
user(const char *subject, const char *san)
{
	return make(subject, san, "critical,digitalSignature", "clientAuth");
}

static struct certauth_rules *
parse_ok(const char *text)
{
	struct certauth_rules *r = NULL;
	struct certauth_reason why;

	memset(&why, 0, sizeof(why));
	if (certauth_rules_parse(text, strlen(text), "/r", &r, &why) != 0)
		fail_msg("rules did not parse: %s", why.text);
	return r;
}

/* Map cert by text: the return; account and rule name copied out. */
static int
map(const char *text, X509 *cert, char *account, char *rule, char *why)
{
	struct certauth_rules *r = parse_ok(text);
	struct certauth_reason reason;
	const char *name = NULL;
	int ret;

	memset(&reason, 0, sizeof(reason));
	ret = certauth_rules_map(r, cert, account, CERTAUTH_ACCOUNT_MAX + 1,
	    &name, &reason);
	snprintf(rule, CERTAUTH_RULE_NAME_MAX + 1, "%s", name ? name : "");
	snprintf(why, CERTAUTH_REASON_MAX, "%s", reason.text);
	certauth_rules_free(r);
	return ret;
}

static int
group_setup(void **state)
{
	(void)state;
	key = tu_keygen("P-256");
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

static void
test_parse_good(void **state)
{
	struct certauth_rules *r;

	(void)state;
	r = parse_ok(
	    "# rules\n\n  [corp-mail]\n"
	    "matchrule = <ISSUER>^CN=Corp CA$\n"
	    "maprule = {subject_rfc822_name.short_name}\n"
	    "\t# by the CN, the default match rule\n"
	    "[cn_1.x]\r\nmaprule=LDAPU1:{subject_dn_component.cn}\r\n"
	    "[re]\nmatchrule = <SUBJECT>^CN=[a-z]{1,32}(\\+|,)[]x[:alpha:]]+$\n"
	    "maprule = {subject_principal}\n"
	    "[upn]\n"
	    "matchrule = KRB5:||<SAN>x<SAN:ntPrincipalName>y"
	    "<KU>digitalSignature, nonRepudiation<EKU>1.2.3,pkinit\n"
	    "maprule = {subject_principal}\n");
	assert_int_equal(certauth_rules_count(r), 4);
	certauth_rules_free(r);
	r = parse_ok("");
	assert_int_equal(certauth_rules_count(r), 0);
	certauth_rules_free(r);
	r = parse_ok("# only a comment\n");
	assert_int_equal(certauth_rules_count(r), 0);
	certauth_rules_free(r);
	certauth_rules_free(NULL);
}

static void
test_parse_hostile(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "maprule = {subject_principal}\n",
		    "/r line 1: a line outside" },
		{ "[a]\nmatchrule = <SUBJECT>x\n",
		    "/r line 1: rule a: no maprule" },
		{ "[a]\nmaprule = {subject_principal}\nmaprule = "
		  "{subject_principal}\n",
		    "line 3: rule a: maprule given twice" },
		{ "[a]\nmaprule = {subject_principal}\n[a]\n",
		    "line 3: rule a is already defined on line 1" },
		{ "[a]\nmaprule = {subject_principal}\npriority = 1\n",
		    "line 3: rule a: priority is not supported" },
		{ "[a]\nmaprule = {subject_principal}\ndomains = x\n",
		    "domains is not supported" },
		{ "[a]\nmaprule = {subject_principal}\nfoo = 1\n",
		    "unknown key 'foo'" },
		{ "[a]\nmaprule = {subject_principal}\nnoequals\n",
		    "expected 'key = value'" },
		{ "[a\n", "must end with ']'" },
		{ "[]\n", "bad rule name" },
		{ "[a/b]\n", "bad rule name" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = <SUBJECT\n",
		    "line 3: rule a: matchrule: unterminated '<'" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = <SUBJECT>(\n",
		    "bad regular expression" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = "
		  "<SUBJECT>a++++++++++++++++++++++++++++++++++++++++\n",
		    "regular expression too complex" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = "
		  "<SUBJECT>((a{1,50}){1,50})\n",
		    "regular expression too complex" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = "
		  "<SUBJECT>(a)\\1\n",
		    "regular expression too complex" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = "
		  "<SUBJECT>a{1,800})a{1,800})a{1,800}\n",
		    "regular expression too complex" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = <SUBJECT>\n",
		    "<SUBJECT> needs a regular expression" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = x<SUBJECT>y\n",
		    "expected '<'" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = <>y\n",
		    "bad keyword" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = <subject>y\n",
		    "<subject> is not supported" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = "
		  "<SAN:otherName>MTIz\n",
		    "<SAN:otherName> is not supported" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = <KU>128\n",
		    "unknown key usage '128'" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = <KU>,\n",
		    "<KU> needs a key usage" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = <EKU>1.2.\n",
		    "unknown extended key usage '1.2.'" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = <EKU>\n",
		    "<EKU> needs" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = ||\n",
		    "matchrule has no component" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = KRB5:\n",
		    "matchrule has no component" },
		{ "[a]\nmaprule = {subject_principal}\nmatchrule = LDAP:<a>b\n",
		    "only KRB5 matching rules" },
		{ "[a]\nmaprule = {subject_dn_component.cn}\n",
		    "needs the LDAPU1: prefix" },
		{ "[a]\nmaprule = uid={subject_principal}\n",
		    "maprule 'uid={subject_principal}' is not supported" },
		{ "[a]\nmaprule = {subject_principal}{subject_principal}\n",
		    "is not supported" },
		{ "[a]\nmaprule = {subject_dn}\n", "is not supported" },
		{ "[a]\nmaprule =\n", "maprule '' is not supported" },
		{ "[a]\nmaprule = {subject_rfc822_name.SHORT_NAME}\n",
		    "is not supported" },
	};
	struct certauth_rules *r;
	struct certauth_reason why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = NULL;
		memset(&why, 0, sizeof(why));
		if (certauth_rules_parse(cases[i].text, strlen(cases[i].text),
			"/r", &r, &why) != CERTAUTH_ERR_CONFIG)
			fail_msg("case %zu parsed: %s", i, cases[i].text);
		assert_null(r);
		if (strstr(why.text, cases[i].want) == NULL)
			fail_msg("case %zu: reason '%s' lacks '%s'", i,
			    why.text, cases[i].want);
	}
}

static void
test_parse_limits(void **state)
{
	struct certauth_rules *r = NULL;
	struct certauth_reason why;
	char *big, *p;
	size_t i, len;

	(void)state;
	/* A NUL byte inside. */
	assert_int_equal(certauth_rules_parse("[a]\0", 4, "/r", &r, &why),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(why.text, "NUL byte"));
	/* Over the size cap. */
	len = CERTAUTH_RULES_FILE_MAX + 1;
	big = malloc(len);
	assert_non_null(big);
	memset(big, '#', len);
	assert_int_equal(certauth_rules_parse(big, len, "/r", &r, &why),
	    CERTAUTH_ERR_TOO_LONG);
	/* 257 rules. */
	for (p = big, i = 0; i <= CERTAUTH_RULES_MAX; i++)
		p += sprintf(p, "[r%zu]\nmaprule={subject_principal}\n", i);
	assert_int_equal(
	    certauth_rules_parse(big, (size_t)(p - big), "/r", &r, &why),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(why.text, "more than 256 rules"));
	/* 256 are fine. */
	p = strstr(big, "[r256]");
	*p = '\0';
	r = parse_ok(big);
	assert_int_equal(certauth_rules_count(r), CERTAUTH_RULES_MAX);
	certauth_rules_free(r);
	/* A long line. */
	memset(big, 'x', 5000);
	memcpy(big, "[a]\nmaprule={subject_principal}\nmatchrule=<SUBJECT>",
	    51);
	big[5000] = '\0';
	assert_int_equal(certauth_rules_parse(big, strlen(big), "/r", &r, &why),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(why.text, "line longer than"));
	free(big);
}

static void
test_map_templates(void **state)
{
	X509 *c;
	char acct[CERTAUTH_ACCOUNT_MAX + 1], rule[CERTAUTH_RULE_NAME_MAX + 1];
	char why[CERTAUTH_REASON_MAX];

	(void)state;
	c = user("/C=DE/O=Corp/CN=alice",
	    "email:al@corp.example,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:"
	    "bob@CORP.EXAMPLE,DNS:host1.corp.example");
	assert_int_equal(map("[x]\nmatchrule=<SUBJECT>^CN=alice,O=Corp,C=DE$\n"
			     "maprule=LDAPU1:{subject_dn_component.cn}\n",
			     c, acct, rule, why),
	    0);
	assert_string_equal(acct, "alice");
	assert_string_equal(rule, "x");
	assert_int_equal(map("[m]\nmaprule={subject_rfc822_name.short_name}\n",
			     c, acct, rule, why),
	    0);
	assert_string_equal(acct, "al");
	assert_int_equal(
	    map("[m]\nmaprule={subject_rfc822_name}\n", c, acct, rule, why), 0);
	assert_string_equal(acct, "al@corp.example");
	assert_int_equal(
	    map("[n]\nmaprule={subject_nt_principal}\n", c, acct, rule, why),
	    0);
	assert_string_equal(acct, "bob@CORP.EXAMPLE");
	assert_int_equal(map("[n]\nmaprule={subject_nt_principal.short_name}\n",
			     c, acct, rule, why),
	    0);
	assert_string_equal(acct, "bob");
	assert_int_equal(map("[p]\nmaprule={subject_principal.short_name}\n", c,
			     acct, rule, why),
	    0);
	assert_string_equal(acct, "bob");
	assert_int_equal(map("[d]\nmatchrule=<SAN:dNSName>^host1\\.corp\n"
			     "maprule=LDAPU1:{subject_dn_component.CN}\n",
			     c, acct, rule, why),
	    0);
	assert_string_equal(acct, "alice");
	X509_free(c);
}

static void
test_match_grammar(void **state)
{
	X509 *c, *noext, *server;
	char acct[CERTAUTH_ACCOUNT_MAX + 1], rule[CERTAUTH_RULE_NAME_MAX + 1];
	char why[CERTAUTH_REASON_MAX];
	const char *cn = "maprule=LDAPU1:{subject_dn_component.cn}\n";
	char text[512];

#define MATCH(m, cert) \
	(snprintf(text, sizeof(text), "[r]\nmatchrule=%s\n%s", (m), cn), \
	    map(text, (cert), acct, rule, why))

	(void)state;
	c = user("/C=DE/O=Corp/CN=alice/UID=al", "email:alice@corp.example");
	noext = make("/O=Corp/CN=alice", NULL, NULL, NULL);
	server = make("/O=Corp/CN=www", "DNS:www.corp.example",
	    "keyEncipherment", "serverAuth");
	/* Most specific first, one attribute an RDN. */
	assert_int_equal(MATCH("<SUBJECT>^UID=al,CN=alice,O=Corp,C=DE$", c), 0);
	assert_int_equal(MATCH("<SUBJECT>^CN=alice", c),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(MATCH("<ISSUER>O=Corp,C=DE$", c), 0);
	assert_int_equal(MATCH("<ISSUER>^O=Corp", c), CERTAUTH_ERR_NOT_FOUND);
	/* Key usage: absent means every one; all listed bits needed. */
	assert_int_equal(MATCH("<KU>digitalSignature", c), 0);
	assert_int_equal(MATCH("<KU>digitalSignature", noext), 0);
	assert_int_equal(MATCH("<KU>keyCertSign,cRLSign", noext), 0);
	assert_int_equal(MATCH("<KU>digitalSignature", server),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(MATCH("<KU>digitalSignature,nonRepudiation", c),
	    CERTAUTH_ERR_NOT_FOUND);
	/* Extended key usage: absent means none. */
	assert_int_equal(MATCH("<EKU>clientAuth", c), 0);
	assert_int_equal(MATCH("<EKU>1.3.6.1.5.5.7.3.2", c), 0);
	assert_int_equal(MATCH("<EKU>clientAuth", noext),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(MATCH("<EKU>clientAuth,serverAuth", c),
	    CERTAUTH_ERR_NOT_FOUND);
	/* && and ||, and the KRB5: prefix. */
	assert_int_equal(MATCH("&&<SUBJECT>alice<EKU>serverAuth", c),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(MATCH("||<SUBJECT>nobody<EKU>serverAuth", server), 0);
	assert_int_equal(MATCH("KRB5:||<SUBJECT>nobody<EKU>codeSigning", c),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(
	    MATCH("KRB5:<SAN:rfc822Name>^alice@corp\\.example$", c), 0);
	assert_int_equal(MATCH("<SAN:rfc822Name>x", server),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(MATCH("<SAN>.", c), CERTAUTH_ERR_NOT_FOUND);
	/* The default match rule: digitalSignature and clientAuth. */
	assert_int_equal(map("[d]\nmaprule=LDAPU1:{subject_dn_component.cn}\n",
			     server, acct, rule, why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(map("[d]\nmaprule=LDAPU1:{subject_dn_component.cn}\n",
			     noext, acct, rule, why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(map("[d]\nmaprule=LDAPU1:{subject_dn_component.cn}\n",
			     c, acct, rule, why),
	    0);
	assert_int_equal(MATCH("<SUBJECT>nobody", c), CERTAUTH_ERR_NOT_FOUND);
	assert_non_null(strstr(why, "no mapping rule matches"));
#undef MATCH
	X509_free(c);
	X509_free(noext);
	X509_free(server);
}

static void
test_map_refusals(void **state)
{
	X509 *two, *same, *nomail, *bad, *twocn, *longname;
	char acct[CERTAUTH_ACCOUNT_MAX + 1], rule[CERTAUTH_RULE_NAME_MAX + 1];
	char why[CERTAUTH_REASON_MAX];
	const char *short_mail =
	    "[m]\nmaprule={subject_rfc822_name.short_name}"
	    "\n";
	struct certauth_rules *r;
	struct certauth_reason reason;
	char tiny[4];

	(void)state;
	two = user("/CN=carol", "email:alice@a.example,email:bob@b.example");
	same = user("/CN=alice", "email:alice@a.example,email:alice@b.example");
	nomail = user("/CN=alice", NULL);
	bad = user("/CN=x", "email:-alice@a.example");
	twocn = user("/O=Corp/CN=bob/CN=alice", NULL);
	longname = user("/CN=x", "email:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@a");

	assert_int_equal(map(short_mail, two, acct, rule, why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_non_null(strstr(why,
	    "rule m maps the certificate to both "
	    "'alice' and 'bob'"));
	assert_int_equal(map(short_mail, same, acct, rule, why), 0);
	assert_string_equal(acct, "alice");
	assert_int_equal(map(short_mail, nomail, acct, rule, why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_non_null(strstr(why,
	    "rule m matches the certificate, which "
	    "has no rfc822Name SAN"));
	assert_int_equal(map(short_mail, bad, acct, rule, why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_non_null(strstr(why, "'-alice', which is not a valid account"));
	assert_int_equal(map(short_mail, longname, acct, rule, why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_int_equal(map("[c]\nmaprule=LDAPU1:{subject_dn_component.cn}\n",
			     twocn, acct, rule, why),
	    CERTAUTH_ERR_CERT_INVALID);
	/* Two rules, two accounts: refused, naming both. */
	assert_int_equal(
	    map("[mail]\nmaprule={subject_rfc822_name.short_name}\n"
		"[cn]\nmaprule=LDAPU1:{subject_dn_component.cn}\n",
		same, acct, rule, why),
	    0);
	assert_string_equal(rule, "mail");
	X509_free(same);
	same = user("/CN=carol", "email:alice@a.example");
	assert_int_equal(
	    map("[mail]\nmaprule={subject_rfc822_name.short_name}\n"
		"[cn]\nmaprule=LDAPU1:{subject_dn_component.cn}\n",
		same, acct, rule, why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_non_null(strstr(why,
	    "rules mail and cn map the certificate "
	    "to different accounts, alice and carol"));
	/* A rule that finds nothing to map lets another decide. */
	assert_int_equal(map("[nt]\nmaprule={subject_nt_principal}\n"
			     "[cn]\nmaprule=LDAPU1:{subject_dn_component.cn}\n",
			     same, acct, rule, why),
	    0);
	assert_string_equal(acct, "carol");
	assert_string_equal(rule, "cn");
	/* The caller's buffer is too small. */
	r = parse_ok("[cn]\nmaprule=LDAPU1:{subject_dn_component.cn}\n");
	assert_int_equal(
	    certauth_rules_map(r, same, tiny, sizeof(tiny), NULL, &reason),
	    CERTAUTH_ERR_TOO_LONG);
	certauth_rules_free(r);
	X509_free(two);
	X509_free(same);
	X509_free(nomail);
	X509_free(bad);
	X509_free(twocn);
	X509_free(longname);
}

static void
test_account_valid(void **state)
{
	static const char *good[] = { "alice", "a", "al.ice_x-1",
		"alice@corp.example", "A1", "1alice",
		"a2345678901234567890123456789012" };
	static const char *bad[] = { "", "-alice", ".alice", "@corp", "12345",
		"al ice", "al/ice", "al:ice", "al\\ice", "j\xc3\xbcrgen",
		"a2345678901234567890123456789012x", "al*", "al(" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!certauth_account_valid(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (certauth_account_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
}

static void
test_bind(void **state)
{
	STACK_OF(X509) *offered = sk_X509_new_null(), *bound = NULL;
	struct certauth_rules *r;
	struct certauth_reason why;
	X509 *alice1, *alice2, *bob, *ambiguous;

	(void)state;
	alice1 = user("/CN=one", "email:alice@corp.example");
	alice2 = user("/CN=two", "email:alice@mail.corp.example");
	bob = user("/CN=three", "email:bob@corp.example");
	ambiguous = user("/CN=four", "email:alice@x.example,email:eve@x");
	assert_true(sk_X509_push(offered, alice1));
	assert_true(sk_X509_push(offered, bob));
	assert_true(sk_X509_push(offered, ambiguous));
	assert_true(sk_X509_push(offered, alice2));
	r = parse_ok("[m]\nmaprule={subject_rfc822_name.short_name}\n");
	assert_int_equal(certauth_rules_bind(r, "alice", offered, &bound, &why),
	    0);
	assert_int_equal(sk_X509_num(bound), 2);
	assert_ptr_equal(sk_X509_value(bound, 0), alice1);
	assert_ptr_equal(sk_X509_value(bound, 1), alice2);
	sk_X509_pop_free(bound, X509_free);
	assert_int_equal(certauth_rules_bind(r, "bob", offered, &bound, &why),
	    0);
	assert_int_equal(sk_X509_num(bound), 1);
	sk_X509_pop_free(bound, X509_free);
	/* eve: only the ambiguous certificate names her. */
	assert_int_equal(certauth_rules_bind(r, "eve", offered, &bound, &why),
	    CERTAUTH_ERR_CERT_INVALID);
	assert_null(bound);
	assert_non_null(strstr(why.text, "both 'alice' and 'eve'"));
	while (sk_X509_num(offered) > 2)
		X509_free(sk_X509_pop(offered));
	assert_int_equal(certauth_rules_bind(r, "carol", offered, &bound, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_null(bound);
	/* "alice" is not a prefix match of "alic". */
	assert_int_equal(certauth_rules_bind(r, "alic", offered, &bound, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	certauth_rules_free(r);
	sk_X509_pop_free(offered, X509_free);
}

static void
test_load(void **state)
{
	struct certauth_rules *r = NULL;
	struct certauth_reason why;
	struct certauth_seen seen;
	char *dir = tu_safe_tmpdir(), *path;

	(void)state;
	if (dir == NULL)
		skip();
	memset(&seen, 0, sizeof(seen));
	path = tu_path(dir, "rules");
	assert_int_equal(certauth_rules_load(path, &seen, &r, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	tu_write_file(path, "[a]\nmaprule={subject_principal}\n", 0644);
	assert_int_equal(certauth_rules_load(path, &seen, &r, &why), 0);
	assert_int_equal(certauth_rules_count(r), 1);
	certauth_rules_free(r);
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(certauth_rules_load(path, &seen, &r, &why),
	    CERTAUTH_ERR_UNSAFE);
	assert_non_null(strstr(why.text, "group-writable"));
	assert_int_equal(chmod(path, 0644), 0);
	tu_write_file(path, "[a]\nmaprule={nothing}\n", 0644);
	assert_int_equal(certauth_rules_load(path, NULL, &r, &why),
	    CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(why.text, " line 2: rule a: maprule"));
	assert_non_null(strstr(why.text, path));
	free(path);
	tu_remove_tree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_map_templates),
		cmocka_unit_test(test_match_grammar),
		cmocka_unit_test(test_map_refusals),
		cmocka_unit_test(test_account_valid),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
