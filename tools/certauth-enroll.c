/*
 * certauth-enroll - manage the bindings store of docs/PROTOCOL.md,
 * "Bindings store".
 * It reads the module's configuration through the same option code and
 * judges certificates with the same key check and chain policy, so what it
 * accepts is what the module will accept at login.  add takes the
 * certificate from a file or, with --pkcs11 URI, from a PKCS#11 token,
 * and judges and binds both alike.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "auth.h"
#include "bindings.h"
#include "bound.h"
#include "certauth.h"
#include "certutil.h"
#include "challenge.h"
#include "ctx.h"
#include "log.h"
#include "options.h"
#include "p11token.h"
#include "rules.h"
#include "safefile.h"
#include "trust.h"
#include "verify.h"

#define PROG "certauth-enroll"
#define USAGE \
	"usage: " PROG \
	" [--key=value ...] " \
	"add [--force] USER CERT | add [--force] USER --pkcs11 URI | " \
	"remove USER SHA256 | list [USER] | check USER | map CERT"
#define NAME_MAX_CHARS 1024 /* subject or issuer as printed */

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };
enum { PARSE_OK, PARSE_HELP, PARSE_USAGE };

struct enroll_ctx {
	struct certauth_opts opts;
	struct certauth_log lg;		  /* stderr; debug lines per --debug */
	const char *dir;		  /* certauth_opts_bindings_dir */
	struct certauth_trust_set *trust; /* add and check only */
	struct certauth_ctx login;	  /* the checks' options, log, budget */
	time_t now;
	int force;	 /* --force: add binds to an account this host lacks */
	const char *uri; /* --pkcs11 URI: add reads the certificate there */
};

struct command {
	const char *name;
	int min_args, max_args; /* after the command word */
	int needs_policy;
	int (*run)(struct enroll_ctx *, char **);
	int takes_user; /* the first argument is a user name */
};

static const char help_text[] =
    "Bind X.509 certificates to accounts for pam_certauth.\n\n"
    "  add USER CERT        check the first certificate of CERT (PEM or\n"
    "                       DER) under the module's policy, then bind it\n"
    "                       to USER; --force binds it even when this host\n"
    "                       has no account USER\n"
    "  add USER --pkcs11 URI\n"
    "                       the same with the one certificate a PKCS#11\n"
    "                       token holds under URI (RFC 7512), read\n"
    "                       without a PIN; the module is the URI's\n"
    "                       module-path, else --pkcs11_module, else\n"
    "                       p11-kit's modules\n"
    "  remove USER SHA256   unbind the certificate with that fingerprint\n"
    "  list [USER]          user, fingerprint, subject, issuer, notAfter\n"
    "                       (tab-separated), for USER or for everyone\n"
    "  check USER           run the module's policy on each certificate\n"
    "                       bound to USER\n"
    "  map CERT             the account the mapping rules (--rules_file)\n"
    "                       map the first certificate of CERT to, and the\n"
    "                       rule: ACCOUNT<TAB>RULE; or why none does\n\n"
    "Options are the module's keys (pam_certauth.conf(5)) as --key=value and\n"
    "override the configuration file: --config=FILE (default\n" CERTAUTH_DEFAULT_CONFIG
    "), --bindings_dir=DIR (default\n" CERTAUTH_DEFAULT_BINDINGS_DIR
    "), --trust=ca|pinned and the rest.  An empty value, as in --crl_file=,\n"
    "unsets a path, a URL or --hostname that the file sets.\n";

static const char exit_text[] =
    "Exit status: 0 done (check: a certificate passes), 1 refused or\n"
    "failed (list: an entry was skipped), 2 usage or configuration error.\n"
    "See certauth-enroll(8), pam_certauth.conf(5) and pam_certauth(8).\n";

/* The keys of the option table that are flags (or not), wrapped. */
static void
print_keys(const char *title, int flags)
{
	const char *key;
	size_t i, col;
	int flag;

	col = (size_t)printf("%s", title);
	for (i = 0; (key = certauth_opts_key(i, &flag)) != NULL; i++) {
		if (flag != flags)
			continue;
		if (col + 3 + strlen(key) > 72)
			col = (size_t)printf("\n ");
		col += (size_t)printf(" --%s", key);
	}
	putchar('\n');
}

static void
print_help(void)
{
	printf("%s\n\n%s", USAGE, help_text);
	print_keys("The keys:", 0);
	print_keys("The flags, bare or =yes|no:", 1);
	printf("\n%s", exit_text);
}

static int
usage_error(const char *problem)
{
	if (problem != NULL)
		log_err(NULL, PROG ": %s", problem);
	fprintf(stderr, "%s\n", USAGE);
	return PARSE_USAGE;
}

static void
say_nomem(void)
{
	log_err(NULL, PROG ": %s", certauth_strerror(CERTAUTH_ERR_NOMEM));
}

/* A reason that is never left empty, whatever path the callee takes. */
static void
reason_init(struct certauth_reason *why)
{
	certauth_reason_set(why, "%s",
	    certauth_strerror(CERTAUTH_ERR_INTERNAL));
}

static void
free_words(char **words, int n)
{
	int i;

	if (words == NULL)
		return;
	for (i = 0; i < n; i++)
		free(words[i]);
	free(words);
}

/*
 * The long options: every key of the module's option table (so the tool
 * cannot lack one), a flag with an optional value and the others with a
 * required one, then the tool's own --help and --force.  malloc'd; NULL
 * when out of memory.
 */
static struct option *
make_long_opts(void)
{
	struct option *lo;
	size_t i, n;
	int flag;

	for (n = 0; certauth_opts_key(n, NULL) != NULL; n++)
		;
	if ((lo = calloc(n + 3, sizeof(*lo))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		lo[i].name = certauth_opts_key(i, &flag);
		lo[i].has_arg = flag ? optional_argument : required_argument;
	}
	lo[n].name = "help";
	lo[n].val = 'h';
	lo[n + 1].name = "force";
	lo[n + 1].val = 'f';
	return lo;
}

/*
 * Whether the option getopt_long just read is add's --pkcs11 URI: the
 * module's key pkcs11 takes off, try or only, never a "pkcs11:" URI.
 */
static int
is_token_uri(const struct option *opt, const char *arg)
{
	return arg != NULL && strcmp(opt->name, "pkcs11") == 0 &&
	    strncmp(arg, "pkcs11:", 7) == 0;
}

/*
 * Turn the --key[=value] options into module words ("key=value" or a bare
 * "key") in *words (caller frees with free_words); --force sets c->force
 * and --pkcs11 URI c->uri.  Returns PARSE_OK, PARSE_HELP or PARSE_USAGE;
 * optind is left at the command word.
 */
static int
parse_options(int argc, char **argv, char ***words, int *nwords,
    struct enroll_ctx *c)
{
	struct option *long_opts = NULL;
	char **w = NULL;
	int ch, idx = 0, n = 0, r = PARSE_USAGE;

	if ((w = calloc((size_t)argc + 1, sizeof(*w))) == NULL ||
	    (long_opts = make_long_opts()) == NULL) {
		say_nomem();
		goto out;
	}
	while ((ch = getopt_long(argc, argv, "h", long_opts, &idx)) != -1) {
		if (ch == 'h') {
			print_help();
			r = PARSE_HELP;
			goto out;
		}
		if (ch == 'f') {
			c->force = 1;
			continue;
		}
		if (ch != 0) { /* getopt_long said what was wrong */
			usage_error(NULL);
			goto out;
		}
		if (is_token_uri(&long_opts[idx], optarg)) {
			if (c->uri != NULL) {
				usage_error("--pkcs11 URI given twice");
				goto out;
			}
			c->uri = optarg;
			continue;
		}
		if (optarg == NULL)
			w[n] = strdup(long_opts[idx].name);
		else if (asprintf(&w[n], "%s=%s", long_opts[idx].name, optarg) <
		    0)
			w[n] = NULL;
		if (w[n++] == NULL) {
			say_nomem();
			goto out;
		}
	}
	*words = w;
	*nwords = n;
	w = NULL;
	r = PARSE_OK;
out:
	free(long_opts);
	free_words(w, n);
	return r;
}

static int
account_exists(const char *user)
{
	return getpwnam(user) != NULL;
}

/*
 * add binds only to an account this host knows, unless --force.
 * Returns 0 (go on) or -1 (refused, said why).
 */
static int
check_account(const struct enroll_ctx *c, const char *user)
{
	if (account_exists(user))
		return 0;
	if (!c->force) {
		log_err(&c->lg,
		    PROG
		    ": no such account '%s' on this host; check the "
		    "name, or give --force to bind it anyway (for an "
		    "account that will be created later, or one from a "
		    "directory)",
		    user);
		return -1;
	}
	log_warn(&c->lg,
	    PROG
	    ": warning: no such account '%s' on this host; binding "
	    "anyway (--force)",
	    user);
	return 0;
}

/* The module's verdict on one certificate: key check, chain, OCSP. */
static int
cert_verdict(struct enroll_ctx *c, X509 *cert, struct certauth_reason *why)
{
	int r;

	reason_init(why);
	if ((r = certauth_key_check(X509_get0_pubkey(cert), why)) != 0)
		return r;
	return certauth_check_certificate(&c->login, c->trust, cert, c->now,
	    why);
}

/* The commands that make the file itself safe, or "" (see add_hint). */
static void
unsafe_fix(const char *path, char *fix, size_t size)
{
	struct stat st;
	size_t n;

	fix[0] = '\0';
	if (lstat(path, &st) != 0)
		return;
	if (S_ISLNK(st.st_mode)) {
		snprintf(fix, size,
		    ": replace the link with a copy of the file");
		return;
	}
	if (st.st_uid != 0)
		snprintf(fix, size, ": chown root:root %s", path);
	n = strlen(fix);
	if ((st.st_mode & 022) != 0)
		snprintf(fix + n, size - n, "%s chmod go-w %s",
		    n > 0 ? ";" : ":", path);
}

/*
 * What to do about a bindings file that cannot be used (r says why),
 * appended to the reason; the module cannot use it either.  Only the
 * file's own state is looked at: a problem further up the path is left
 * to the reason, which names it.
 */
static void
add_hint(const struct enroll_ctx *c, const char *user, const char *shown, int r,
    struct certauth_reason *why)
{
	char reason[CERTAUTH_REASON_MAX], how[CERTAUTH_REASON_MAX];
	char fix[CERTAUTH_REASON_MAX] = "";
	char *path = NULL;

	if (certauth_bindings_path(c->dir, user, &path) != 0)
		return;
	if (r == CERTAUTH_ERR_NOT_FOUND) {
		snprintf(fix, sizeof(fix),
		    "; the module finds no binding for %s: add a certificate, "
		    "or remove the file",
		    shown);
	} else if (r == CERTAUTH_ERR_FORMAT || r == CERTAUTH_ERR_TOO_LONG) {
		snprintf(fix, sizeof(fix),
		    "; logins as %s fail until it is fixed: remove the "
		    "damaged part, or remove the file and add the "
		    "certificates again",
		    shown);
	} else if (r == CERTAUTH_ERR_UNSAFE) {
		unsafe_fix(path, how, sizeof(how));
		snprintf(fix, sizeof(fix),
		    "; logins as %s fail until it is fixed%s", shown, how);
	}
	free(path);
	snprintf(reason, sizeof(reason), "%s", why->text);
	certauth_reason_set(why, "%s%s", reason, fix);
}

/*
 * The user's bindings into *out.  missing_ok turns "none bound" into an
 * empty stack; otherwise it is a failure with a message.  Every failure
 * says why and what to do.  Returns 0 or a CERTAUTH_* code.
 */
static int
read_bindings(const struct enroll_ctx *c, const char *user, int missing_ok,
    STACK_OF(X509) **out)
{
	struct certauth_reason why;
	struct stat st;
	char *path = NULL;
	int r;

	reason_init(&why);
	r = certauth_bindings_read(c->dir, user, NULL, out, &why);
	if (r == CERTAUTH_ERR_NOT_FOUND && missing_ok) {
		if ((*out = sk_X509_new_null()) == NULL)
			r = CERTAUTH_ERR_NOMEM;
		else
			return 0;
	}
	/* A file that exists but holds no certificate says so. */
	if (r == CERTAUTH_ERR_NOT_FOUND &&
	    certauth_bindings_path(c->dir, user, &path) == 0 &&
	    lstat(path, &st) == 0) {
		add_hint(c, user, user, r, &why);
		log_err(&c->lg, PROG ": no certificate is bound to %s: %s",
		    user, why.text);
	} else if (r == CERTAUTH_ERR_NOT_FOUND) {
		log_err(&c->lg,
		    PROG ": no certificate is bound to %s (" PROG
			 " add %s CERT binds one)",
		    user, user);
	} else if (r == CERTAUTH_ERR_NOMEM) {
		log_err(&c->lg, PROG ": %s", certauth_strerror(r));
	} else if (r != 0) {
		add_hint(c, user, user, r, &why);
		log_err(&c->lg, PROG ": cannot read the bindings of %s: %s",
		    user, why.text);
	}
	free(path);
	return r;
}

static int
write_bindings(const struct enroll_ctx *c, const char *user,
    STACK_OF(X509) *certs)
{
	struct certauth_reason why;
	int r;

	reason_init(&why);
	if ((r = certauth_bindings_write(c->dir, user, certs, &why)) != 0)
		log_err(&c->lg, PROG ": cannot write the bindings of %s: %s",
		    user, why.text);
	return r;
}

/* Index of the certificate with fingerprint fp in certs, or -1. */
static int
find_fingerprint(STACK_OF(X509) *certs, const char *fp)
{
	char have[CERTAUTH_FP_CHARS + 1];
	int i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		if (certauth_cert_fingerprint(sk_X509_value(certs, i), have) ==
			0 &&
		    strcmp(have, fp) == 0)
			return i;
	}
	return -1;
}

/*
 * What an administrator may give add instead of a certificate, by the end
 * of its PEM label ("RSA PRIVATE KEY" ends with "PRIVATE KEY").
 */
struct not_a_cert {
	const char *label, *what, *fix;
};

static const struct not_a_cert not_certs[] = {
	{ "TRUSTED CERTIFICATE", "a certificate with OpenSSL trust settings",
	    "write it without them (openssl x509 -in FILE -out cert.pem)" },
	{ "PRIVATE KEY", "a private key",
	    "give the user's certificate instead (the key stays with the user)" },
	{ "CERTIFICATE REQUEST", "a certificate request (CSR)",
	    "give the certificate the CA issued for it" },
	{ "X509 CRL", "a certificate revocation list (CRL)",
	    "give the user's certificate instead (a CRL goes in crl_file or "
	    "crl_dir)" },
	{ "PUBLIC KEY", "a bare public key",
	    "give the user's certificate instead, which holds the key" },
	{ "PKCS7", "a PKCS#7 bundle",
	    "extract the certificate (openssl pkcs7 -in FILE -print_certs)" },
	{ "PKCS12", "a PKCS#12 bundle",
	    "extract the certificate (openssl pkcs12 -in FILE -clcerts "
	    "-nokeys -out cert.pem)" },
	{ NULL, NULL, NULL },
};

/* The entry whose label ends the n bytes of label as a word, or NULL. */
static const struct not_a_cert *
kind_of(const char *label, size_t n)
{
	const struct not_a_cert *k;
	size_t len;

	for (k = not_certs; k->label != NULL; k++) {
		len = strlen(k->label);
		if (n >= len && memcmp(label + n - len, k->label, len) == 0 &&
		    (n == len || label[n - len - 1] == ' '))
			return k;
	}
	return NULL;
}

/* The kind of buf's first PEM block, when it is one of not_certs. */
static const struct not_a_cert *
pem_kind(const char *buf, size_t len)
{
	static const char begin[] = "-----BEGIN ";
	const char *label, *end;

	if ((label = memmem(buf, len, begin, strlen(begin))) == NULL)
		return NULL;
	label += strlen(begin);
	if ((end = memmem(label, (size_t)(buf + len - label), "-----", 5)) ==
	    NULL)
		return NULL;
	return kind_of(label, (size_t)(end - label));
}

/* Whether the whole of buf is one DER structure of the item it. */
static int
der_is(const char *buf, size_t len, const ASN1_ITEM *it)
{
	const unsigned char *p = (const unsigned char *)buf;
	ASN1_VALUE *v;
	int whole;

	v = ASN1_item_d2i(NULL, &p, (long)len, it);
	whole = v != NULL && p == (const unsigned char *)buf + len;
	ASN1_item_free(v, it);
	ERR_clear_error();
	return whole;
}

/* The kind of a DER buf that is one of not_certs, or NULL. */
static const struct not_a_cert *
der_kind(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	const char *label = NULL;
	EVP_PKEY *key;

	if ((key = d2i_AutoPrivateKey(NULL, &p, (long)len)) != NULL &&
	    p == (const unsigned char *)buf + len)
		label = "PRIVATE KEY";
	EVP_PKEY_free(key);
	ERR_clear_error();
	if (label != NULL || der_is(buf, len, ASN1_ITEM_rptr(X509_SIG)))
		label = "PRIVATE KEY"; /* or an encrypted one */
	else if (der_is(buf, len, ASN1_ITEM_rptr(X509_REQ)))
		label = "CERTIFICATE REQUEST";
	else if (der_is(buf, len, ASN1_ITEM_rptr(X509_CRL)))
		label = "X509 CRL";
	else if (der_is(buf, len, ASN1_ITEM_rptr(X509_PUBKEY)))
		label = "PUBLIC KEY";
	else if (der_is(buf, len, ASN1_ITEM_rptr(PKCS12)))
		label = "PKCS12";
	return label != NULL ? kind_of(label, strlen(label)) : NULL;
}

/* A DER certificate that is the whole of buf, or NULL. */
static X509 *
der_cert(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	X509 *cert;

	if ((cert = d2i_X509(NULL, &p, (long)len)) != NULL &&
	    p != (const unsigned char *)buf + len) {
		X509_free(cert);
		cert = NULL;
	}
	ERR_clear_error();
	return cert;
}

/*
 * The certificates of buf: every PEM certificate, or the one DER
 * certificate that is the whole of it (the bindings file stores it as
 * PEM, like any other).  Returns 0, or -1 having said what path holds
 * instead.
 */
static int
parse_certs(const char *path, const char *buf, size_t len, STACK_OF(X509) **out)
{
	const struct not_a_cert *kind;
	X509 *der = NULL;
	int n;

	if (memmem(buf, len, "-----BEGIN CERTIFICATE-----", 27) != NULL) {
		if ((n = certauth_bindings_parse(buf, len, out, NULL)) == 0)
			return 0;
		log_err(NULL, PROG ": %s: %s", path,
		    n == CERTAUTH_ERR_FORMAT ?
			"a PEM certificate in it does not parse (damaged or "
			"cut short?); copy it again from its source" :
			certauth_strerror(n));
		return -1;
	}
	if ((kind = pem_kind(buf, len)) == NULL && len <= LONG_MAX &&
	    (der = der_cert(buf, len)) != NULL) {
		if ((*out = sk_X509_new_null()) != NULL &&
		    sk_X509_push(*out, der))
			return 0;
		sk_X509_free(*out);
		*out = NULL;
		X509_free(der);
		say_nomem();
		return -1;
	}
	if (kind != NULL || (len <= LONG_MAX && (kind = der_kind(buf, len))))
		log_err(NULL, PROG ": %s: this is %s, not a certificate; %s",
		    path, kind->what, kind->fix);
	else
		log_err(NULL,
		    PROG
		    ": %s: no certificate in it: neither a PEM "
		    "certificate (-----BEGIN CERTIFICATE-----) nor a DER one",
		    path);
	return -1;
}

/* The first certificate of a PEM or DER file.  0 or -1 (said why). */
static int
load_cert(const char *path, X509 **out)
{
	STACK_OF(X509) *certs = NULL;
	char *buf = NULL;
	size_t len = 0;
	int fd = -1, r = -1, n;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		log_err(NULL, PROG ": cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	n = certauth_read_fd(fd, CERTAUTH_BINDINGS_MAX, &buf, &len);
	if (n != 0) {
		log_err(NULL, PROG ": cannot read %s: %s", path,
		    n == CERTAUTH_ERR_IO ? strerror(errno) :
					   certauth_strerror(n));
		goto out;
	}
	if (parse_certs(path, buf, len, &certs) != 0)
		goto out;
	if (sk_X509_num(certs) > 1)
		log_warn(NULL,
		    PROG
		    ": %s holds %d certificates; taking the "
		    "first",
		    path, sk_X509_num(certs));
	*out = sk_X509_shift(certs);
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	sk_X509_pop_free(certs, X509_free);
	return r;
}

/* Called by scan_dir for one entry: 0, or -1 when it was skipped. */
typedef int (*entry_fn)(const struct enroll_ctx *c, int dfd, const char *name,
    void *arg);

/*
 * fn on every entry of the bindings directory, in sorted order, but the
 * names that start with a dot and the temporary files of an interrupted
 * write (a ',' that no encoded name has).  Returns 0, 1 when fn skipped
 * an entry, CERTAUTH_ERR_NOT_FOUND when the directory does not exist, or
 * -1 with errno when it cannot be read (nothing said).
 */
static int
scan_dir(const struct enroll_ctx *c, entry_fn fn, void *arg)
{
	struct dirent **names = NULL;
	DIR *d = NULL;
	int i, n, saved, r = -1;

	if ((n = scandir(c->dir, &names, NULL, alphasort)) < 0)
		return errno == ENOENT ? CERTAUTH_ERR_NOT_FOUND : -1;
	if ((d = opendir(c->dir)) == NULL)
		goto out;
	r = 0;
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (name[0] == '.' || strchr(name, ',') != NULL)
			continue;
		if (fn(c, dirfd(d), name, arg) != 0)
			r = 1; /* said why; go on with the rest */
	}
out:
	saved = errno;
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	errno = saved;
	return r;
}

/* The accounts other than user to which fp is bound, for warn_shared. */
struct shared {
	const char *user, *fp;
	char *names; /* "bob, carol", malloc'd; NULL for none */
};

/* One entry for warn_shared: files that cannot be read are left to list. */
static int
shared_entry(const struct enroll_ctx *c, int dfd, const char *name, void *arg)
{
	struct shared *sh = arg;
	STACK_OF(X509) *certs = NULL;
	char *user = NULL, *more = NULL;

	(void)dfd;
	if (certauth_pct_decode(name, &user) != 0 ||
	    strcmp(user, sh->user) == 0 ||
	    certauth_bindings_read(c->dir, user, NULL, &certs, NULL) != 0 ||
	    find_fingerprint(certs, sh->fp) < 0)
		goto out;
	if (asprintf(&more, "%s%s%s", sh->names != NULL ? sh->names : "",
		sh->names != NULL ? ", " : "",
		certauth_pct_display(user, name)) < 0)
		goto out;
	free(sh->names);
	sh->names = more;
out:
	free(user);
	sk_X509_pop_free(certs, X509_free);
	return 0;
}

/*
 * A certificate bound to several accounts logs in as each of them; add
 * still binds it (a shared service certificate may be meant), but says
 * so.
 */
static void
warn_shared(const struct enroll_ctx *c, const char *user, const char *fp)
{
	struct shared sh = { user, fp, NULL };

	(void)scan_dir(c, shared_entry, &sh);
	if (sh.names != NULL)
		log_warn(&c->lg,
		    PROG
		    ": warning: certificate %s is also bound to %s; "
		    "whoever holds its key can log in as each of them "
		    "(certauth-enroll remove USER %s unbinds it)",
		    fp, sh.names, fp);
	free(sh.names);
}

/* add and remove edit the bindings files only. */
static void
warn_files_unused(const struct enroll_ctx *c)
{
	if (!certauth_opts_uses_source(&c->opts, CERTAUTH_SOURCE_FILES))
		log_warn(&c->lg,
		    PROG
		    ": warning: bindings= does not name files: the "
		    "module does not read what add and remove change in %s",
		    c->dir);
}

/*
 * Bind cert to user, whatever it was read from: the module's verdict on
 * it, then the bindings file.  Takes cert (freed here).  Returns the
 * exit status.
 */
static int
enroll_cert(struct enroll_ctx *c, const char *user, X509 *cert)
{
	STACK_OF(X509) *certs = NULL;
	struct certauth_reason why;
	char fp[CERTAUTH_FP_CHARS + 1], subject[NAME_MAX_CHARS];
	int ret = EXIT_FAIL;

	if (cert_verdict(c, cert, &why) != 0) {
		log_err(&c->lg, PROG ": refusing to enroll: %s", why.text);
		goto out;
	}
	if (certauth_cert_fingerprint(cert, fp) != 0) {
		log_err(&c->lg, PROG ": cannot compute the fingerprint");
		goto out;
	}
	certauth_name_string(X509_get_subject_name(cert), subject,
	    sizeof(subject));
	if (read_bindings(c, user, 1, &certs) != 0)
		goto out;
	warn_shared(c, user, fp);
	if (find_fingerprint(certs, fp) >= 0) {
		printf("already bound %s %s to %s\n", fp, subject, user);
		ret = 0;
		goto out;
	}
	if (!sk_X509_push(certs, cert)) {
		say_nomem();
		goto out;
	}
	cert = NULL; /* the stack owns it now */
	if (write_bindings(c, user, certs) != 0)
		goto out;
	printf("bound %s %s to %s\n", fp, subject, user);
	ret = 0;
out:
	X509_free(cert);
	sk_X509_pop_free(certs, X509_free);
	return ret;
}

/* A kind of token object other than a certificate, for a person. */
static const char *
class_name(CK_OBJECT_CLASS cls)
{
	switch (cls) {
	case CKO_DATA:
		return "a data object";
	case CKO_PUBLIC_KEY:
		return "a public key";
	case CKO_PRIVATE_KEY:
		return "a private key";
	case CKO_SECRET_KEY:
		return "a secret key";
	}
	return "an object of another class";
}

/*
 * One token object on a line of its own under a message: how a URI
 * names it, then its certificate's subject or what it is instead.
 */
static void
say_object(const struct enroll_ctx *c, const struct certauth_p11token_object *o)
{
	char name[2 * CERTAUTH_P11_SHOWN_MAX + 16], subject[NAME_MAX_CHARS];

	if (o->label[0] == '\0' && o->id[0] == '\0')
		snprintf(name, sizeof(name), "(no label, no id)");
	else
		snprintf(name, sizeof(name), "%s%s%s%s%s",
		    o->label[0] != '\0' ? "object=" : "", o->label,
		    o->label[0] != '\0' && o->id[0] != '\0' ? ";" : "",
		    o->id[0] != '\0' ? "id=" : "", o->id);
	if (o->cert != NULL) {
		certauth_name_string(X509_get_subject_name(o->cert), subject,
		    sizeof(subject));
		log_err(&c->lg, PROG ":   %s: %s", name, subject);
	} else if (o->cls == CKO_CERTIFICATE) {
		log_err(&c->lg, PROG ":   %s: unusable, %s", name, o->problem);
	} else {
		log_err(&c->lg, PROG ":   %s: %s, not a certificate", name,
		    class_name(o->cls));
	}
}

/* The objects of objs that are (or are not) certificates, named (or
 * not) by the URI, each on a line; "..." when the token has more. */
static void
say_objects(const struct enroll_ctx *c,
    const struct certauth_p11token_object *objs, int n, int more, int certs,
    int named)
{
	int i;

	for (i = 0; i < n; i++)
		if ((objs[i].cls == CKO_CERTIFICATE) == certs &&
		    objs[i].named == named)
			say_object(c, &objs[i]);
	if (more)
		log_err(&c->lg,
		    PROG ":   ... (the token has more objects, not listed)");
}

/* That the token shows no certificate at all, and why that may be. */
static void
say_none(const struct enroll_ctx *c, struct certauth_p11token *t)
{
	const char *label = certauth_p11token_label(t);

	if (certauth_p11token_needs_login(t))
		log_err(&c->lg,
		    PROG
		    ": token '%s' shows no certificate without a login, "
		    "and " PROG
		    " does not log in: if the token keeps its "
		    "certificates private, read the certificate with the "
		    "token's own tools and give add the file",
		    label);
	else
		log_err(&c->lg, PROG ": token '%s' holds no certificate",
		    label);
}

/* Why no certificate object of the token matches the URI, said. */
static void
say_no_match(const struct enroll_ctx *c, struct certauth_p11token *t,
    const struct certauth_p11token_object *objs, int n, int more)
{
	const char *label = certauth_p11token_label(t);
	int i, certs = 0;

	for (i = 0; i < n; i++)
		certs += objs[i].cls == CKO_CERTIFICATE;
	if (certs == n) {
		if (certs == 0)
			say_none(c, t);
		else
			log_err(&c->lg,
			    PROG
			    ": no certificate on token '%s' matches %s; "
			    "the certificates there (name one with "
			    "object= or id=):",
			    label, c->uri);
	} else {
		/* The URI names objects of other classes. */
		log_err(&c->lg,
		    PROG
		    ": no certificate on token '%s' matches %s; what it "
		    "names there:",
		    label, c->uri);
		say_objects(c, objs, n, 0, 0, 1);
		if (certs == 0)
			say_none(c, t);
		else
			log_err(&c->lg,
			    PROG
			    ": the certificates on token '%s' (name one "
			    "with object= or id=):",
			    label);
	}
	if (certs > 0)
		say_objects(c, objs, n, more, 1, 0);
}

/*
 * The one certificate of objs the URI names into *out (taken from objs),
 * or why there is none or several said.  Returns 0 or EXIT_FAIL.
 */
static int
pick_cert(const struct enroll_ctx *c, struct certauth_p11token *t,
    struct certauth_p11token_object *objs, int n, int more, X509 **out)
{
	const char *label = certauth_p11token_label(t);
	int i, named = 0, pick = -1;

	for (i = 0; i < n; i++)
		if (objs[i].cls == CKO_CERTIFICATE && objs[i].named &&
		    named++ == 0)
			pick = i;
	if (named == 0) {
		say_no_match(c, t, objs, n, more);
		return EXIT_FAIL;
	}
	if (named > 1) {
		log_err(&c->lg,
		    PROG
		    ": %d%s certificate objects on token '%s' match %s: "
		    "name one with object= or id=:",
		    named,
		    more && named == CERTAUTH_P11_LIST_MAX ? " or more" : "",
		    label, c->uri);
		say_objects(c, objs, n, more, 1, 1);
		return EXIT_FAIL;
	}
	if (objs[pick].cert == NULL) {
		log_err(&c->lg,
		    PROG
		    ": the certificate object on token '%s' that %s "
		    "matches is unusable:",
		    label, c->uri);
		say_object(c, &objs[pick]);
		return EXIT_FAIL;
	}
	*out = objs[pick].cert;
	objs[pick].cert = NULL;
	return 0;
}

/*
 * The one certificate the --pkcs11 URI names, read from the token in a
 * session without a login (certificates are public objects).  Returns 0,
 * or the exit status having said why.
 */
static int
token_cert(struct enroll_ctx *c, X509 **out)
{
	struct certauth_p11token *t = NULL;
	struct certauth_p11token_object *objs = NULL;
	struct certauth_reason why;
	const char *module = c->opts.pkcs11_module;
	int n = 0, more = 0, r, ret = EXIT_FAIL;

	*out = NULL;
	reason_init(&why);
	if (certauth_p11token_uri_pin(c->uri) == CERTAUTH_P11_PIN_SOURCE)
		log_debug(&c->lg, "pin-source not read: no login is made");
	if ((r = certauth_p11token_open(c->uri, module, &t, &why)) != 0 ||
	    (r = certauth_p11token_objects(t, &objs, &n, &more, &why)) != 0) {
		log_err(&c->lg, PROG ": %s", why.text);
		/* A URI that cannot name a certificate; not several tokens. */
		if (r == CERTAUTH_ERR_FORMAT ||
		    (r == CERTAUTH_ERR_CONFIG && t != NULL))
			ret = EXIT_USAGE;
		goto out;
	}
	log_debug(&c->lg, "token '%s' (%s): %d objects listed",
	    certauth_p11token_label(t),
	    module != NULL ? module : "module of the URI or p11-kit's", n);
	ret = pick_cert(c, t, objs, n, more, out);
out:
	certauth_p11token_objects_free(objs, n);
	certauth_p11token_close(t);
	return ret;
}

static int
cmd_add(struct enroll_ctx *c, char **args)
{
	X509 *cert = NULL;
	int r;

	warn_files_unused(c);
	if (check_account(c, args[0]) != 0)
		return EXIT_FAIL;
	if (c->uri != NULL)
		r = token_cert(c, &cert);
	else
		r = load_cert(args[1], &cert) == 0 ? 0 : EXIT_FAIL;
	if (r != 0)
		return r;
	return enroll_cert(c, args[0], cert);
}

static int
cmd_remove(struct enroll_ctx *c, char **args)
{
	const char *user = args[0];
	STACK_OF(X509) *certs = NULL;
	char fp[CERTAUTH_FP_CHARS + 1];
	int i, ret = EXIT_FAIL;

	warn_files_unused(c);
	if (certauth_fingerprint_normalise(args[1], fp) != 0) {
		usage_error(
		    "SHA256 must be a SHA-256 fingerprint: 64 hex "
		    "digits, colons and a SHA256: prefix allowed");
		return EXIT_USAGE;
	}
	if (read_bindings(c, user, 1, &certs) != 0)
		goto out;
	if ((i = find_fingerprint(certs, fp)) < 0) {
		log_err(&c->lg,
		    PROG
		    ": no certificate with fingerprint %s is bound to "
		    "%s (" PROG " list %s shows the bound ones)",
		    fp, user, user);
		goto out;
	}
	/* A hand-edited file may hold the certificate twice. */
	do {
		X509_free(sk_X509_delete(certs, i));
	} while ((i = find_fingerprint(certs, fp)) >= 0);
	if (write_bindings(c, user, certs) != 0)
		goto out;
	printf("removed %s from %s%s\n", fp, user,
	    sk_X509_num(certs) == 0 ?
		" (no certificate left: bindings file removed)" :
		"");
	ret = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	return ret;
}

/* Whether bindings= is the files alone (the listings then look as they
 * did before there were other sources). */
static int
only_files(const struct enroll_ctx *c)
{
	return c->opts.nbindings == 1 &&
	    c->opts.bindings[0] == CERTAUTH_SOURCE_FILES;
}

/*
 * The certificates the module would find for user, from the sources of
 * bindings= in order, and where from ("files", "ldap (cache)", "ldap
 * URI") into where.  Returns 0, or a CERTAUTH_* code said on stderr.
 */
static int
read_bound(struct enroll_ctx *c, const char *user, STACK_OF(X509) **out,
    char *where, size_t wherelen)
{
	struct certauth_bound b;
	int r;

	if (only_files(c)) {
		snprintf(where, wherelen, "files");
		return read_bindings(c, user, 0, out);
	}
	r = certauth_bound_lookup(&c->login, user, &b);
	if (r == 0 && b.rules != NULL) {
		/* Nothing to list: the answer brings the certificate. */
		log_err(&c->lg,
		    PROG
		    ": no certificate is bound to %s ahead of a login: "
		    "the rules of %s map the one offered then (certauth-enroll "
		    "map CERT shows the account a certificate maps to)",
		    user, certauth_opts_rules_file(&c->opts));
		r = CERTAUTH_ERR_NOT_FOUND;
	} else if (r == 0) {
		*out = b.certs;
		b.certs = NULL;
		snprintf(where, wherelen, "%s", b.where);
	} else if (r == CERTAUTH_ERR_NOT_FOUND) {
		log_err(&c->lg,
		    PROG
		    ": no certificate is bound to %s by any "
		    "source of bindings=",
		    user);
	} else {
		log_err(&c->lg,
		    PROG
		    ": cannot look up the certificates of "
		    "%s: %s",
		    user, b.reason.text);
	}
	certauth_bound_clear(&b);
	return r;
}

/* One tab-separated line: user, fingerprint, subject, issuer, notAfter. */
static int
print_cert(const char *user, X509 *cert, const char *where)
{
	char fp[CERTAUTH_FP_CHARS + 1], subject[NAME_MAX_CHARS];
	char issuer[NAME_MAX_CHARS], not_after[64];

	if (certauth_cert_fingerprint(cert, fp) != 0) {
		log_err(NULL, PROG ": cannot compute a fingerprint");
		return -1;
	}
	certauth_name_string(X509_get_subject_name(cert), subject,
	    sizeof(subject));
	certauth_name_string(X509_get_issuer_name(cert), issuer,
	    sizeof(issuer));
	certauth_time_string(X509_get0_notAfter(cert), not_after,
	    sizeof(not_after));
	/* A column for the source once there is more than one. */
	if (where != NULL)
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", user, fp, subject, issuer,
		    not_after, where);
	else
		printf("%s\t%s\t%s\t%s\t%s\n", user, fp, subject, issuer,
		    not_after);
	return 0;
}

/* Every certificate of one user; none is a failure. */
static int
list_user(struct enroll_ctx *c, const char *user, const char *shown)
{
	STACK_OF(X509) *certs = NULL;
	char where[CERTAUTH_REASON_MAX];
	int i, r = -1;

	if (read_bound(c, user, &certs, where, sizeof(where)) != 0)
		goto out;
	for (i = 0; i < sk_X509_num(certs); i++)
		if (print_cert(shown, sk_X509_value(certs, i),
			only_files(c) ? NULL : where) != 0)
			goto out;
	r = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	return r;
}

/* What an entry that is neither a file nor a link is, for a person. */
static const char *
file_type(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a named pipe";
	if (S_ISSOCK(mode))
		return "a socket";
	return "a device";
}

/*
 * One entry of the full listing: its certificates, or one line on
 * standard error saying why it was skipped and what to do.  Returns 0, or
 * -1 when it was skipped.
 */
static int
list_entry(const struct enroll_ctx *c, int dfd, const char *name, void *arg)
{
	STACK_OF(X509) *certs = NULL;
	struct certauth_reason why;
	struct stat st;
	char *user = NULL;
	const char *shown;
	int i, r = -1;

	(void)arg;
	reason_init(&why);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		log_err(&c->lg, PROG ": skipped %s/%s: %s", c->dir, name,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		log_err(&c->lg,
		    PROG
		    ": skipped %s/%s: %s, not a bindings file; move it "
		    "out of %s",
		    c->dir, name, file_type(st.st_mode), c->dir);
		goto out;
	}
	if (certauth_pct_decode(name, &user) != 0) {
		log_err(&c->lg,
		    PROG
		    ": skipped %s/%s: not a percent-encoded user name, so "
		    "no account's bindings; rename it or move it out",
		    c->dir, name);
		goto out;
	}
	shown = certauth_pct_display(user, name);
	if ((r = certauth_bindings_read(c->dir, user, NULL, &certs, &why)) !=
	    0) {
		add_hint(c, user, shown, r, &why);
		log_err(&c->lg, PROG ": skipped %s: %s", shown,
		    r == CERTAUTH_ERR_NOMEM ? certauth_strerror(r) : why.text);
		r = -1;
		goto out;
	}
	for (i = 0; i < sk_X509_num(certs); i++)
		if ((r = print_cert(shown, sk_X509_value(certs, i),
			 only_files(c) ? NULL : "files")) != 0)
			goto out;
	r = 0;
out:
	free(user);
	sk_X509_pop_free(certs, X509_free);
	return r;
}

/* Everyone's certificates; status 1 when an entry was skipped. */
static int
list_all(const struct enroll_ctx *c)
{
	int r;

	if (certauth_opts_uses_source(&c->opts, CERTAUTH_SOURCE_LDAP))
		log_info(&c->lg,
		    PROG ": the directory's accounts are not listed: " PROG
			 " list USER shows one");
	if (!certauth_opts_uses_source(&c->opts, CERTAUTH_SOURCE_FILES))
		return 0;
	if ((r = scan_dir(c, list_entry, NULL)) == CERTAUTH_ERR_NOT_FOUND) {
		log_info(&c->lg, PROG ": %s does not exist: nothing is bound",
		    c->dir);
		return 0;
	}
	if (r < 0)
		log_err(&c->lg, PROG ": cannot read %s: %s", c->dir,
		    strerror(errno));
	return r == 0 ? 0 : EXIT_FAIL;
}

static int
cmd_list(struct enroll_ctx *c, char **args)
{
	char *encoded = NULL;
	int ret = EXIT_FAIL;

	if (args[0] == NULL)
		return list_all(c);
	if (certauth_pct_encode(args[0], &encoded) != 0) {
		say_nomem();
		return EXIT_FAIL;
	}
	if (list_user(c, args[0], certauth_pct_display(args[0], encoded)) == 0)
		ret = 0;
	free(encoded);
	return ret;
}

static int
cmd_check(struct enroll_ctx *c, char **args)
{
	const char *user = args[0];
	STACK_OF(X509) *certs = NULL;
	struct certauth_reason why;
	char fp[CERTAUTH_FP_CHARS + 1], where[CERTAUTH_REASON_MAX];
	char from[CERTAUTH_REASON_MAX + 16];
	int i, passed = 0;

	if (!account_exists(user))
		log_warn(&c->lg,
		    PROG
		    ": warning: no such account '%s' on this host: no "
		    "login as it can succeed until the host knows it",
		    user);
	if (read_bound(c, user, &certs, where, sizeof(where)) != 0)
		return EXIT_FAIL;
	from[0] = '\0';
	if (!only_files(c))
		snprintf(from, sizeof(from), " [bound by %s]", where);
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *cert = sk_X509_value(certs, i);

		if (certauth_cert_fingerprint(cert, fp) != 0)
			snprintf(fp, sizeof(fp), "?");
		if (cert_verdict(c, cert, &why) == 0) {
			const char *src = c->login.outcome.ocsp_source;

			if (*src != '\0')
				printf("%s ok (OCSP good, from %s)%s\n", fp,
				    src, from);
			else
				printf("%s ok%s\n", fp, from);
			passed++;
		} else {
			printf("%s FAIL: %s%s\n", fp, why.text, from);
		}
	}
	sk_X509_pop_free(certs, X509_free);
	return passed > 0 ? 0 : EXIT_FAIL;
}

/*
 * map: the rules alone, as a login would apply them to a certificate
 * that passed the policy; the policy itself is add's and check's.
 */
static int
cmd_map(struct enroll_ctx *c, char **args)
{
	const char *path = certauth_opts_rules_file(&c->opts), *rule = NULL;
	struct certauth_rules *rules = NULL;
	struct certauth_reason why;
	char account[CERTAUTH_ACCOUNT_MAX + 1];
	X509 *cert = NULL;
	int r, ret = EXIT_USAGE;

	reason_init(&why);
	if ((r = certauth_rules_load(path, NULL, &rules, &why)) != 0) {
		if (r == CERTAUTH_ERR_NOT_FOUND)
			certauth_reason_set(&why,
			    "rules file %s does not exist", path);
		log_err(NULL, PROG ": configuration error: %s", why.text);
		ret = r == CERTAUTH_ERR_NOMEM ? EXIT_FAIL : EXIT_USAGE;
		goto out;
	}
	log_debug(&c->lg, "%d rules from %s", certauth_rules_count(rules),
	    path);
	ret = EXIT_FAIL;
	if (load_cert(args[0], &cert) != 0)
		goto out;
	reason_init(&why);
	r = certauth_rules_map(rules, cert, account, sizeof(account), &rule,
	    &why);
	if (r == 0) {
		printf("%s\t%s\n", account, rule);
		ret = 0;
	} else if (r == CERTAUTH_ERR_NOT_FOUND) {
		printf("not mapped: %s\n", why.text);
	} else if (r == CERTAUTH_ERR_CERT_INVALID) {
		printf("refused: %s\n", why.text);
	} else {
		log_err(NULL, PROG ": %s: %s", args[0], why.text);
	}
out:
	X509_free(cert);
	certauth_rules_free(rules);
	return ret;
}

static const struct command commands[] = {
	{ "add", 1, 2, 1, cmd_add, 1 },
	{ "remove", 2, 2, 0, cmd_remove, 1 },
	{ "list", 0, 1, 0, cmd_list, 1 },
	{ "check", 1, 1, 1, cmd_check, 1 },
	{ "map", 1, 1, 0, cmd_map, 0 },
};

/* The command named by argv[0] with a fitting argument count, or NULL
 * (usage already printed). */
static const struct command *
find_command(int argc, char **argv)
{
	size_t i;
	char *path = NULL;

	if (argc < 1) {
		usage_error("no command given");
		return NULL;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		if (argc - 1 < commands[i].min_args ||
		    argc - 1 > commands[i].max_args) {
			usage_error("wrong number of arguments");
			return NULL;
		}
		/* "", "." and ".." can never name a bindings file. */
		if (commands[i].takes_user && argc > 1 &&
		    certauth_bindings_path("/", argv[1], &path) ==
			CERTAUTH_ERR_FORMAT) {
			usage_error("not a usable user name");
			return NULL;
		}
		free(path);
		return &commands[i];
	}
	usage_error("unknown command");
	return NULL;
}

/*
 * add takes CERT or --pkcs11 URI, one of them; no other command takes a
 * URI, and no command a PIN in one.  0, or -1 having said why.
 */
static int
check_source(const struct enroll_ctx *c, const struct command *cmd, int nargs)
{
	if (c->uri != NULL && cmd->run != cmd_add) {
		usage_error("--pkcs11 URI applies to add only");
		return -1;
	}
	if (cmd->run == cmd_add && (nargs == 2) == (c->uri != NULL)) {
		usage_error(c->uri != NULL ?
			"add takes CERT or --pkcs11 URI, not both" :
			"add needs CERT or --pkcs11 URI");
		return -1;
	}
	if (c->uri != NULL &&
	    certauth_p11token_uri_pin(c->uri) == CERTAUTH_P11_PIN_VALUE) {
		log_err(NULL,
		    PROG
		    ": pin-value in a PKCS#11 URI is refused: a PIN on a "
		    "command line is visible to other users, and add "
		    "needs none (it reads the token's public certificate "
		    "objects): leave pin-value out");
		return -1;
	}
	return 0;
}

/* Options (config file first, words override), then the policy when the
 * command needs it.  Returns 0 or EXIT_USAGE / EXIT_FAIL (said why). */
static int
setup(struct enroll_ctx *c, char **words, int nwords, int needs_policy)
{
	struct certauth_reason why;
	int r;

	certauth_reason_set(&why, "%s", certauth_strerror(CERTAUTH_ERR_CONFIG));
	if ((r = certauth_opts_from_words(&c->opts, nwords,
		 (const char **)words, &why)) != 0) {
		log_err(NULL, PROG ": configuration error: %s", why.text);
		return r == CERTAUTH_ERR_NOMEM ? EXIT_FAIL : EXIT_USAGE;
	}
	c->lg.debug = c->opts.debug;
	c->dir = certauth_opts_bindings_dir(&c->opts);
	log_debug(&c->lg, "bindings directory %s", c->dir);
	certauth_ctx_init(&c->login, &c->opts, &c->lg);
	if (!needs_policy)
		return 0;
	if ((r = certauth_trust_load(&c->opts, NULL, &c->trust, &why)) != 0) {
		log_err(NULL, PROG ": configuration error: %s", why.text);
		return r == CERTAUTH_ERR_NOMEM ? EXIT_FAIL : EXIT_USAGE;
	}
	/* One budget of responders' time for the whole run. */
	certauth_ctx_init(&c->login, &c->opts, &c->lg);
	return 0;
}

int
main(int argc, char **argv)
{
	struct enroll_ctx c;
	const struct command *cmd;
	char **words = NULL;
	int nwords = 0, ret = EXIT_USAGE;

	memset(&c, 0, sizeof(c));
	certauth_opts_init(&c.opts);
	c.now = time(NULL);
	switch (parse_options(argc, argv, &words, &nwords, &c)) {
	case PARSE_HELP:
		return fflush(stdout) == 0 ? 0 : EXIT_FAIL;
	case PARSE_USAGE:
		return EXIT_USAGE;
	}
	if ((cmd = find_command(argc - optind, argv + optind)) == NULL)
		goto out;
	if (c.force && cmd->run != cmd_add) {
		usage_error("--force applies to add only");
		goto out;
	}
	if (check_source(&c, cmd, argc - optind - 1) != 0)
		goto out;
	if ((ret = setup(&c, words, nwords, cmd->needs_policy)) != 0)
		goto out;
	ret = cmd->run(&c, argv + optind + 1);
	if (fflush(stdout) != 0) {
		log_err(NULL, PROG ": cannot write the output: %s",
		    strerror(errno));
		ret = EXIT_FAIL;
	}
out:
	certauth_trust_free(c.trust);
	certauth_opts_free(&c.opts);
	free_words(words, nwords);
	return ret;
}
