/*
 * test_ldap.c - the LDAP binding source without a directory: its
 * options and their refusals, the helper's record against hostile
 * bytes, the values as certificates, the cache (fresh, stale, future,
 * other settings, malformed, unsafe directory), and the order of
 * bindings= with a directory that cannot be reached.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <dirent.h>

#include <openssl/x509.h>

#include "bound.h"
#include "certauth.h"
#include "ctx.h"
#include "ldap_cache.h"
#include "ldap_source.h"
#include "ldap_wire.h"
#include "options.h"
#include "testutil.h"

static int
set(struct certauth_opts *o, const char *word, struct certauth_reason *why)
{
	memset(why, 0, sizeof(*why));
	return certauth_opts_set_word(o, word, why);
}

/* A complete LDAP configuration, then one more word. */
static int
validate_with(const char *const *words, size_t n, struct certauth_reason *why)
{
	struct certauth_opts o;
	size_t i;
	int r = 0;

	certauth_opts_init(&o);
	for (i = 0; i < n && r == 0; i++)
		r = set(&o, words[i], why);
	if (r == 0)
		r = certauth_opts_validate(&o, why);
	certauth_opts_free(&o);
	return r;
}

static void
test_options(void **state)
{
	struct certauth_opts o;
	struct certauth_reason why;

	(void)state;
	certauth_opts_init(&o);
	assert_int_equal(o.nbindings, 1);
	assert_int_equal(o.bindings[0], CERTAUTH_SOURCE_FILES);
	assert_int_equal(o.ldap_tls, 1);
	assert_int_equal(o.ldap_timeout_ms, 3000);
	assert_int_equal(o.ldap_cache_max_age, 3600);
	assert_string_equal(certauth_opts_ldap_filter(&o), "(uid=%u)");
	assert_string_equal(certauth_opts_ldap_cert_attr(&o),
	    "userCertificate;binary");
	assert_string_equal(certauth_opts_ldap_cache_dir(&o),
	    CERTAUTH_LDAP_CACHE_DIR);

	assert_int_equal(set(&o, "bindings=ldap, files", &why), 0);
	assert_int_equal(o.nbindings, 2);
	assert_int_equal(o.bindings[0], CERTAUTH_SOURCE_LDAP);
	assert_int_equal(o.bindings[1], CERTAUTH_SOURCE_FILES);
	assert_int_equal(set(&o,
			     "ldap_uri=ldaps://a.example:636,"
			     "ldap://b.example,LDAPS://[::1]:1636/",
			     &why),
	    0);
	assert_int_equal(set(&o, "ldap_base=dc=example,dc=org", &why), 0);
	assert_int_equal(set(&o,
			     "ldap_filter=(&(objectClass=posixAccount)"
			     "(|(uid=%u)(mail=%u@x%%)))",
			     &why),
	    0);
	assert_int_equal(set(&o, "ldap_cert_attr=userCertificate", &why), 0);
	assert_int_equal(set(&o, "ldap_tls=no", &why), 0);
	assert_int_equal(o.ldap_tls, 0);
	assert_int_equal(set(&o, "ldap_ca_file=/etc/ssl/ldap-ca.pem", &why), 0);
	assert_int_equal(set(&o, "ldap_bind_dn=cn=reader,dc=x", &why), 0);
	assert_int_equal(set(&o, "ldap_bind_pw_file=/etc/ldap.pw", &why), 0);
	assert_int_equal(set(&o, "ldap_timeout_ms=100", &why), 0);
	assert_int_equal(set(&o, "ldap_cache_max_age=0", &why), 0);
	assert_int_equal(set(&o, "ldap_cache_dir=/var/x", &why), 0);
	assert_string_equal(certauth_opts_ldap_cache_dir(&o), "/var/x");
	assert_int_equal(set(&o, "ldap_cache_dir=none", &why), 0);
	assert_null(certauth_opts_ldap_cache_dir(&o));
	assert_int_equal(set(&o, "ldap_cache_dir=/var/y", &why), 0);
	assert_string_equal(certauth_opts_ldap_cache_dir(&o), "/var/y");
	assert_int_equal(set(&o, "ldap_cache_dir=", &why), 0);
	assert_null(certauth_opts_ldap_cache_dir(&o));
	assert_int_equal(set(&o, "ldap_filter=", &why), 0);
	assert_string_equal(certauth_opts_ldap_filter(&o), "(uid=%u)");
	certauth_opts_free(&o);
}

static void
test_option_refusals(void **state)
{
	static const struct {
		const char *word, *says;
	} bad[] = {
		{ "bindings=", "cannot be unset" },
		{ "bindings=files,files", "named twice" },
		{ "bindings=files,rulez", "unknown binding source 'rulez'" },
		{ "bindings=files,,ldap", "empty" },
		{ "bindings=,", "empty" },
		{ "bindings=rules,files", "rules must be the last" },
		{ "bindings=files,rules,ldap", "rules must be the last" },
		{ "ldap_uri=http://x", "not an ldaps:// or ldap://" },
		{ "ldap_uri=ldaps://", "not an ldaps:// or ldap://" },
		{ "ldap_uri=ldaps://a,", "not an ldaps:// or ldap://" },
		{ "ldap_uri=ldaps://a/dc=x?uid", "not an ldaps:// or ldap://" },
		{ "ldap_uri=ldapi:///", "not an ldaps:// or ldap://" },
		{ "ldap_uri=ldaps://a b", "not an ldaps:// or ldap://" },
		{ "ldap_filter=(uid=alice)", "%u" },
		{ "ldap_filter=(uid=%s)", "%u" },
		{ "ldap_filter=(uid=%u%)", "%u" },
		{ "ldap_filter=uid=%u", "%u" },
		{ "ldap_filter=(uid=%u))", "%u" },
		{ "ldap_filter=(uid=%u)(cn=x)", "%u" },
		{ "ldap_filter=((uid=%u)", "%u" },
		{ "ldap_cert_attr=user Certificate", "attribute description" },
		{ "ldap_cert_attr=userCertificate;", "attribute description" },
		{ "ldap_cert_attr=(x)", "attribute description" },
		{ "ldap_tls=maybe", "not a valid value" },
		{ "ldap_ca_file=ca.pem", "not an absolute path" },
		{ "ldap_bind_pw_file=pw", "not an absolute path" },
		{ "ldap_timeout_ms=99", "from 100 to 60000" },
		{ "ldap_timeout_ms=60001", "from 100 to 60000" },
		{ "ldap_cache_max_age=-1", "from 0 to 2592000" },
		{ "ldap_cache_max_age=", "cannot be unset" },
	};
	struct certauth_opts o;
	struct certauth_reason why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		certauth_opts_init(&o);
		if (set(&o, bad[i].word, &why) != CERTAUTH_ERR_CONFIG ||
		    strstr(why.text, bad[i].says) == NULL)
			fail_msg("%s: %s", bad[i].word, why.text);
		/* nothing half-set */
		assert_int_equal(o.nbindings, 1);
		assert_null(o.ldap_uri);
		certauth_opts_free(&o);
	}
}

static void
test_validate(void **state)
{
	const char *good[] = { "ca_file=/ca.pem", "bindings=files,ldap",
		"ldap_uri=ldaps://x", "ldap_base=dc=x",
		"ldap_ca_file=/ldap-ca.pem" };
	const char *w[8];
	struct certauth_reason why;

	(void)state;
	assert_int_equal(validate_with(good, 5, &why), 0);
	/* without ldap in bindings, nothing LDAP is needed */
	w[0] = "ca_file=/ca.pem";
	w[1] = "ldap_bind_dn=cn=x";
	assert_int_equal(validate_with(w, 2, &why), 0);

	memcpy(w, good, sizeof(good));
	w[2] = "ldap_uri=";
	assert_int_equal(validate_with(w, 5, &why), CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(why.text, "needs ldap_uri and ldap_base"));
	memcpy(w, good, sizeof(good));
	assert_int_equal(validate_with(w, 3, &why), CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(why.text, "needs ldap_uri and ldap_base"));
	/* TLS without a CA file: ldaps://, or StartTLS */
	assert_int_equal(validate_with(good, 4, &why), CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(why.text, "needs ldap_ca_file"));
	memcpy(w, good, sizeof(good));
	w[2] = "ldap_uri=ldap://x";
	w[4] = "ldap_tls=no";
	assert_int_equal(validate_with(w, 5, &why), 0);
	w[2] = "ldap_uri=ldap://x,ldaps://y";
	assert_int_equal(validate_with(w, 5, &why), CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(why.text, "needs ldap_ca_file"));
	/* bind DN and password file go together */
	memcpy(w, good, sizeof(good));
	w[5] = "ldap_bind_dn=cn=r,dc=x";
	assert_int_equal(validate_with(w, 6, &why), CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(why.text, "go together"));
	w[5] = "ldap_bind_pw_file=/pw";
	assert_int_equal(validate_with(w, 6, &why), CERTAUTH_ERR_CONFIG);
	w[6] = "ldap_bind_dn=cn=r,dc=x";
	assert_int_equal(validate_with(w, 7, &why), 0);
	/* rules last is fine; an offered certificate never vouches for
	 * itself (trust=pinned) */
	w[0] = "ca_file=/ca.pem";
	w[1] = "bindings=files,rules";
	assert_int_equal(validate_with(w, 2, &why), 0);
	w[0] = "trust=pinned";
	assert_int_equal(validate_with(w, 2, &why), CERTAUTH_ERR_CONFIG);
	assert_non_null(strstr(why.text,
	    "bindings=rules cannot be used with trust=pinned"));
	w[1] = "bindings=files,ldap";
	assert_int_equal(validate_with(w, 1, &why), 0);
}

/* ------------------------------------------------------------ record */

static int
parse(const char *s, size_t len, struct certauth_ldap_record *rec)
{
	return certauth_ldap_record_parse((const unsigned char *)s, len, rec);
}

static void
test_record(void **state)
{
	static const char *const bad[] = {
		"",
		"LDAPFETCH1 0 5 1 ldaps://x\n",	       /* value missing */
		"LDAPFETCH1 0 5 1 ldaps://x\n3\nab",   /* truncated */
		"LDAPFETCH1 0 5 1 ldaps://x\n3\nabcd", /* byte left over */
		"LDAPFETCH1 0 5 2 ldaps://x\n3\nabc",  /* count mismatch */
		"LDAPFETCH1 0 5 0 ldaps://x\n",	       /* found, no value */
		"LDAPFETCH1 4 5 1 none\n1\na",	       /* not found, a value */
		"LDAPFETCH1 0 5 17 x\n",	       /* over the count cap */
		"LDAPFETCH1 0 5 1 x\n16385\n",	       /* over the size cap */
		"LDAPFETCH1 0 5 1 x\n-1\n",
		"LDAPFETCH1 0 5 1 x\n1x\na",
		"LDAPFETCH1 4 5 0 bell\a\n", /* unprintable */
		"LDAPFETCH2 4 5 0 x\n",
		"LDAPFETCH1 4 5 0 x", /* no newline */
		"LDAPFETCH1 4 5 x\n",
		"LDAPFETCH1 4 -5 0 x\n",
		"LDAPFETCH1 4 1234567890 0 x\n", /* ms over 9 digits */
		"garbage",
	};
	struct certauth_ldap_record rec;
	char big[CERTAUTH_LDAP_LINE_MAX + 20];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], strlen(bad[i]), &rec) != -1)
			fail_msg("accepted: %s", bad[i]);
	memset(big, 'a', sizeof(big));
	memcpy(big, "LDAPFETCH1 4 5 0 ", 17);
	big[sizeof(big) - 1] = '\n';
	assert_int_equal(parse(big, sizeof(big), &rec), -1);

	assert_int_equal(
	    parse("LDAPFETCH1 0 7 2 ldaps://x:636\n3\nabc1\nd", 39, &rec), 0);
	assert_int_equal(rec.code, CERTAUTH_LDAP_FOUND);
	assert_int_equal(rec.ms, 7);
	assert_int_equal(rec.count, 2);
	assert_string_equal(rec.text, "ldaps://x:636");
	assert_memory_equal(rec.val[0], "abc", 3);
	assert_int_equal(rec.vlen[1], 1);
	assert_int_equal(parse("LDAPFETCH1 5 1 0 two entries\n", 29, &rec), 0);
	assert_int_equal(rec.code, CERTAUTH_LDAP_AMBIGUOUS);
}

static void
test_request(void **state)
{
	struct certauth_ldap_request req, back;
	unsigned char *buf = NULL;
	size_t len = 0, i;
	const char *v[CERTAUTH_LDAP_FIELDS] = { "ldaps://x", "dc=x", "(uid=%u)",
		"a*()\\\n", "userCertificate;binary", "/ca", "1", "", "pa\nss",
		"3000" };

	(void)state;
	for (i = 0; i < CERTAUTH_LDAP_FIELDS; i++)
		req.fields[i] = v[i];
	assert_int_equal(certauth_ldap_request_encode(&req, &buf, &len), 0);
	assert_int_equal(certauth_ldap_request_decode(buf, len, &back), 0);
	for (i = 0; i < CERTAUTH_LDAP_FIELDS; i++)
		assert_string_equal(back.fields[i], v[i]);
	free(buf);
	assert_int_equal(certauth_ldap_request_encode(&req, &buf, &len), 0);
	assert_int_equal(certauth_ldap_request_decode(buf, len - 1, &back), -1);
	free(buf);
	assert_int_equal(certauth_ldap_request_encode(&req, &buf, &len), 0);
	buf[len - 2] = 'x'; /* the last field's length no longer fits */
	buf[len - 1] = 'x';
	assert_int_equal(certauth_ldap_request_decode(buf, len, &back), -1);
	free(buf);
	/* a NUL inside the user name field never reaches the filter */
	assert_int_equal(certauth_ldap_request_encode(&req, &buf, &len), 0);
	{
		unsigned char *at = memmem(buf, len, "a*()", 4);

		assert_non_null(at);
		at[1] = '\0'; /* "a\0()\\\n" */
		assert_int_equal(certauth_ldap_request_decode(buf, len, &back),
		    -1);
	}
	free(buf);
	req.fields[3] = NULL;
	assert_int_equal(certauth_ldap_request_encode(&req, &buf, &len), -1);
}

/* ------------------------------------------------------------ values */

static X509 *
make_cert(const char *cn)
{
	struct tu_cert_opts co = { cn, -1, 30, 0, NULL, NULL, 0 };
	EVP_PKEY *k = tu_keygen("P-256");
	X509 *x = tu_make_cert(k, &co, NULL, NULL);

	EVP_PKEY_free(k);
	return x;
}

static size_t
to_der(X509 *x, unsigned char *buf, size_t max)
{
	unsigned char *p = buf;
	int n = i2d_X509(x, NULL);

	assert_true(n > 0 && (size_t)n < max);
	assert_int_equal(i2d_X509(x, &p), n);
	return (size_t)n;
}

static void
test_values(void **state)
{
	unsigned char a[4096], b[4096];
	const unsigned char *val[2] = { a, b };
	size_t vlen[2];
	STACK_OF(X509) *certs = NULL;
	struct certauth_reason why;
	X509 *x = make_cert("values");

	(void)state;
	vlen[0] = to_der(x, a, sizeof(a));
	memcpy(b, a, vlen[0]);
	vlen[1] = vlen[0];
	assert_int_equal(
	    certauth_ldap_certs(val, vlen, 2, "dir", "alice", &certs, &why), 0);
	assert_int_equal(sk_X509_num(certs), 2);
	sk_X509_pop_free(certs, X509_free);

	vlen[1] = vlen[0] + 1; /* a byte past the DER */
	b[vlen[0]] = 0;
	assert_int_equal(
	    certauth_ldap_certs(val, vlen, 2, "dir", "alice", &certs, &why),
	    CERTAUTH_ERR_FORMAT);
	assert_null(certs);
	assert_non_null(strstr(why.text, "dir: value 2 for user alice"));
	vlen[1] = vlen[0] - 1; /* cut short */
	assert_int_equal(
	    certauth_ldap_certs(val, vlen, 2, "dir", "alice", &certs, &why),
	    CERTAUTH_ERR_FORMAT);
	memset(b, 0x30, 64); /* garbage */
	vlen[1] = 64;
	assert_int_equal(
	    certauth_ldap_certs(val, vlen, 2, "dir", "alice", &certs, &why),
	    CERTAUTH_ERR_FORMAT);
	vlen[1] = 0;
	assert_int_equal(
	    certauth_ldap_certs(val, vlen, 2, "dir", "alice", &certs, &why),
	    CERTAUTH_ERR_FORMAT);
	vlen[1] = CERTAUTH_LDAP_CERT_MAX + 1;
	assert_int_equal(
	    certauth_ldap_certs(val, vlen, 2, "dir", "alice", &certs, &why),
	    CERTAUTH_ERR_TOO_LONG);
	assert_int_equal(
	    certauth_ldap_certs(val, vlen, 0, "dir", "alice", &certs, &why),
	    CERTAUTH_ERR_FORMAT);
	assert_int_equal(
	    certauth_ldap_certs(val, vlen, 17, "dir", "alice", &certs, &why),
	    CERTAUTH_ERR_TOO_LONG);
	X509_free(x);
}

/* ------------------------------------------------------------- cache */

static void
test_cache(void **state)
{
	struct certauth_opts o;
	struct certauth_reason why;
	unsigned char md[CERTAUTH_LDAP_SETTINGS_LEN], md2[sizeof(md)];
	unsigned char der[4096];
	const unsigned char *val[1] = { der };
	size_t vlen[1];
	STACK_OF(X509) *certs = NULL;
	X509 *x = make_cert("cached");
	char *top, *dir, *file;
	time_t now = time(NULL);

	(void)state;
	if ((top = tu_safe_tmpdir()) == NULL)
		skip();
	dir = tu_path(top, "ldapcache");
	vlen[0] = to_der(x, der, sizeof(der));
	certauth_opts_init(&o);
	assert_int_equal(certauth_ldap_settings(&o, md), 0);
	assert_int_equal(set(&o, "ldap_base=dc=other", &why), 0);
	assert_int_equal(certauth_ldap_settings(&o, md2), 0);
	assert_memory_not_equal(md, md2, sizeof(md));

	/* none yet; then fresh */
	assert_int_equal(
	    certauth_ldap_cache_load(dir, "alice", md, now, 3600, &certs, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(certauth_ldap_cache_store(dir, "alice", md, now - 10,
			     val, vlen, 1, &why),
	    0);
	assert_int_equal(
	    certauth_ldap_cache_load(dir, "alice", md, now, 3600, &certs, &why),
	    0);
	assert_int_equal(sk_X509_num(certs), 1);
	sk_X509_pop_free(certs, X509_free);
	certs = NULL;
	/* another account, other settings, too old, max age 0 */
	assert_int_equal(
	    certauth_ldap_cache_load(dir, "bob", md, now, 3600, &certs, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_int_equal(certauth_ldap_cache_load(dir, "alice", md2, now, 3600,
			     &certs, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_non_null(strstr(why.text, "other settings"));
	assert_int_equal(
	    certauth_ldap_cache_load(dir, "alice", md, now, 10, &certs, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_non_null(strstr(why.text, "over ldap_cache_max_age 10"));
	assert_int_equal(
	    certauth_ldap_cache_load(dir, "alice", md, now, 0, &certs, &why),
	    CERTAUTH_ERR_NOT_FOUND);
	/* dated in the future: beyond the skew refused, within it used */
	assert_int_equal(certauth_ldap_cache_store(dir, "alice", md,
			     now + CERTAUTH_LDAP_CACHE_SKEW + 60, val, vlen, 1,
			     &why),
	    0);
	assert_int_equal(
	    certauth_ldap_cache_load(dir, "alice", md, now, 3600, &certs, &why),
	    CERTAUTH_ERR_FORMAT);
	assert_non_null(strstr(why.text, "in the future"));
	assert_int_equal(certauth_ldap_cache_store(dir, "alice", md, now + 5,
			     val, vlen, 1, &why),
	    0);
	assert_int_equal(
	    certauth_ldap_cache_load(dir, "alice", md, now, 3600, &certs, &why),
	    0);
	sk_X509_pop_free(certs, X509_free);
	certs = NULL;
	/* removed; removing again is fine */
	assert_int_equal(certauth_ldap_cache_remove(dir, "alice", &why), 0);
	assert_int_equal(certauth_ldap_cache_remove(dir, "alice", &why), 0);
	assert_int_equal(
	    certauth_ldap_cache_load(dir, "alice", md, now, 3600, &certs, &why),
	    CERTAUTH_ERR_NOT_FOUND);

	/* malformed: a cut entry, garbage */
	{
		struct dirent *de;
		DIR *dh;
		FILE *f;
		struct stat st;
		long size;

		assert_int_equal(certauth_ldap_cache_store(dir, "alice", md,
				     now, val, vlen, 1, &why),
		    0);
		/* the one file in dir */
		file = NULL;
		assert_non_null(dh = opendir(dir));
		while ((de = readdir(dh)) != NULL)
			if (de->d_name[0] != '.')
				file = tu_path(dir, de->d_name);
		closedir(dh);
		assert_non_null(file);
		assert_int_equal(stat(file, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		size = (long)st.st_size;
		assert_int_equal(truncate(file, size - 1), 0);
		assert_int_equal(certauth_ldap_cache_load(dir, "alice", md, now,
				     3600, &certs, &why),
		    CERTAUTH_ERR_FORMAT);
		assert_non_null(strstr(why.text, "malformed"));
		f = fopen(file, "w");
		assert_non_null(f);
		fputs("pam_certauth-ldap-cache 1\nanswered x\n", f);
		fclose(f);
		assert_int_equal(certauth_ldap_cache_load(dir, "alice", md, now,
				     3600, &certs, &why),
		    CERTAUTH_ERR_FORMAT);
		/* unsafe: a group-writable file, then directory */
		assert_int_equal(certauth_ldap_cache_store(dir, "alice", md,
				     now, val, vlen, 1, &why),
		    0);
		assert_int_equal(chmod(file, 0620), 0);
		assert_int_equal(certauth_ldap_cache_load(dir, "alice", md, now,
				     3600, &certs, &why),
		    CERTAUTH_ERR_UNSAFE);
		assert_int_equal(chmod(file, 0600), 0);
		assert_int_equal(chmod(dir, 0770), 0);
		assert_int_equal(certauth_ldap_cache_load(dir, "alice", md, now,
				     3600, &certs, &why),
		    CERTAUTH_ERR_UNSAFE);
		assert_int_equal(certauth_ldap_cache_store(dir, "alice", md,
				     now, val, vlen, 1, &why),
		    CERTAUTH_ERR_UNSAFE);
		assert_int_equal(chmod(dir, 0700), 0);
		free(file);
	}
	assert_null(certs);
	certauth_opts_free(&o);
	X509_free(x);
	free(dir);
	free(top);
}

/* ------------------------------------------------------------- order */

/*
 * bindings=files,ldap: an account in the files is decided there and the
 * directory (unreachable here) is never asked; bindings=ldap,files: the
 * directory's failure ends the search, the files are not looked at.
 */
static void
test_order(void **state)
{
	struct certauth_opts o;
	struct certauth_ctx c;
	struct certauth_bound b;
	struct certauth_reason why;
	X509 *x = make_cert("order");
	char *top, *bind, *word;

	(void)state;
	if ((top = tu_safe_tmpdir()) == NULL ||
	    access(CERTAUTH_LDAP_HELPER, X_OK) != 0)
		skip();
	bind = tu_path(top, "bindings");
	assert_int_equal(mkdir(bind, 0755), 0);
	word = tu_path(bind, "alice");
	tu_write_certs(word, &x, 1, 0644);
	free(word);
	certauth_opts_init(&o);
	assert_true(asprintf(&word, "bindings_dir=%s", bind) > 0);
	assert_int_equal(set(&o, word, &why), 0);
	free(word);
	assert_int_equal(set(&o, "ldap_uri=ldap://127.0.0.1:1", &why), 0);
	assert_int_equal(set(&o, "ldap_base=dc=x", &why), 0);
	assert_int_equal(set(&o, "ldap_tls=no", &why), 0);
	assert_int_equal(set(&o, "ldap_cache_dir=none", &why), 0);
	assert_int_equal(set(&o, "ldap_timeout_ms=500", &why), 0);

	assert_int_equal(set(&o, "bindings=files,ldap", &why), 0);
	certauth_ctx_init(&c, &o, NULL);
	assert_int_equal(certauth_bound_lookup(&c, "alice", &b), 0);
	assert_string_equal(b.source, "files");
	certauth_bound_clear(&b);

	assert_int_equal(set(&o, "bindings=ldap,files", &why), 0);
	certauth_ctx_init(&c, &o, NULL);
	assert_int_not_equal(certauth_bound_lookup(&c, "alice", &b), 0);
	assert_int_not_equal(b.r, CERTAUTH_ERR_NOT_FOUND);
	assert_null(b.certs);
	assert_non_null(strstr(b.reason.text, "ldap://127.0.0.1:1"));
	certauth_bound_clear(&b);

	assert_int_equal(set(&o, "bindings=files", &why), 0);
	certauth_ctx_init(&c, &o, NULL);
	assert_int_equal(certauth_bound_lookup(&c, "bob", &b),
	    CERTAUTH_ERR_NOT_FOUND);
	assert_string_equal(b.reason.text, "no certificate bound to user bob");
	certauth_bound_clear(&b);
	certauth_opts_free(&o);
	X509_free(x);
	free(bind);
	free(top);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_option_refusals),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
