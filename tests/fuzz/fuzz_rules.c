/*
 * fuzz_rules.c - the mapping rules file (rules.h): the input as a rules
 * file through certauth_rules_parse, and every set that parses applied
 * to the fixed certificates of fixtures.h through certauth_rules_map and
 * certauth_rules_bind.
 *
 * Invariants: a refusal hands out no set and always a reason naming the
 * file; a set holds at most CERTAUTH_RULES_MAX rules; a mapping names a
 * valid account (certauth_account_valid) and a rule, and binding a
 * certificate to the account it maps to binds exactly it; the same text
 * after a comment line gives the same answer; nothing leaves an OpenSSL
 * error behind.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certauth.h"
#include "fixtures.h"
#include "fuzzutil.h"
#include "rules.h"

#define NCERTS 4
static X509 *certs[NCERTS];

/*
 * An unsigned certificate that the rules can map (the fixtures' CNs
 * hold spaces, which no account does): CN=alice and a SAN of each kind
 * the rules read.  Signatures are the chain policy's, never the rules'.
 */
static X509 *
mappable(void)
{
	static const char san[] =
	    "email:alice@corp.example,DNS:host.corp.example,"
	    "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@CORP.EXAMPLE";
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);
	X509_EXTENSION *e = NULL;
	X509V3_CTX ctx;

	fz_assert(x != NULL && name != NULL);
	fz_assert(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"alice", -1, -1, 0));
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	fz_assert((e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
		       san)) != NULL);
	fz_assert(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	return x;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	certs[0] = fz_cert(fx_leaf_ec_pem);
	certs[1] = fz_cert(fx_leaf_rsa_pem);
	certs[2] = fz_cert(fx_anchor_pem);
	certs[3] = mappable();
	return 0;
}

static int
parse(const char *buf, size_t len, struct certauth_rules **out)
{
	struct certauth_reason reason;
	int r;

	reason.text[0] = '\0';
	r = certauth_rules_parse(buf, len, "/fuzz/rules", out, &reason);
	if (r != 0) {
		fz_assert(*out == NULL);
		fz_assert(r == CERTAUTH_ERR_CONFIG ||
		    r == CERTAUTH_ERR_TOO_LONG || r == CERTAUTH_ERR_NOMEM);
		fz_assert(r == CERTAUTH_ERR_NOMEM ||
		    strncmp(reason.text, "/fuzz/rules", 11) == 0);
	} else {
		fz_assert(*out != NULL);
		fz_assert(certauth_rules_count(*out) >= 0 &&
		    certauth_rules_count(*out) <= CERTAUTH_RULES_MAX);
	}
	fz_assert_no_errors("certauth_rules_parse");
	return r;
}

static void
apply(const struct certauth_rules *rules, X509 *cert)
{
	STACK_OF(X509) *one = NULL, *bound = NULL;
	struct certauth_reason reason;
	char account[CERTAUTH_ACCOUNT_MAX + 1];
	const char *rule = NULL;
	int r;

	reason.text[0] = '\0';
	r = certauth_rules_map(rules, cert, account, sizeof(account), &rule,
	    &reason);
	fz_assert_no_errors("certauth_rules_map");
	if (r != 0) {
		fz_assert(rule == NULL && reason.text[0] != '\0');
		fz_assert(r == CERTAUTH_ERR_NOT_FOUND ||
		    r == CERTAUTH_ERR_CERT_INVALID || r == CERTAUTH_ERR_NOMEM);
		return;
	}
	fz_assert(rule != NULL && certauth_account_valid(account));
	fz_assert((one = sk_X509_new_null()) != NULL && sk_X509_push(one, cert));
	r = certauth_rules_bind(rules, account, one, &bound, &reason);
	fz_assert(r == 0 && sk_X509_num(bound) == 1 &&
	    sk_X509_value(bound, 0) == cert);
	sk_X509_pop_free(bound, X509_free);
	sk_X509_free(one);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char comment[] = "# a comment\n";
	struct certauth_rules *rules = NULL, *again = NULL;
	char *prefixed;
	int i, r, r2;

	r = parse((const char *)data, size, &rules);
	if (r == 0)
		for (i = 0; i < NCERTS; i++)
			apply(rules, certs[i]);
	if (size < CERTAUTH_RULES_FILE_MAX - sizeof(comment)) {
		fz_assert((prefixed = malloc(size + sizeof(comment))) != NULL);
		memcpy(prefixed, comment, sizeof(comment) - 1);
		memcpy(prefixed + sizeof(comment) - 1, data, size);
		r2 = parse(prefixed, size + sizeof(comment) - 1, &again);
		fz_assert(r == r2 || r == CERTAUTH_ERR_NOMEM ||
		    r2 == CERTAUTH_ERR_NOMEM);
		if (r == 0 && r2 == 0)
			fz_assert(certauth_rules_count(rules) ==
			    certauth_rules_count(again));
		certauth_rules_free(again);
		free(prefixed);
	}
	certauth_rules_free(rules);
	return 0;
}
