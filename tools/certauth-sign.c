/*
 * certauth-sign - answer a pam_certauth challenge with a private key
 * (docs/PROTOCOL.md, "The response").  Stock OpenSSL can produce the
 * same answer; this tool adds the checks a person should make before
 * signing: that the
 * text really is a certauth v1 challenge, issued just now, and with
 * --host, --service and --user that it is for the host, the service and
 * the account they are logging in to, so a hostile server cannot relay
 * another host's or another service's challenge and log in there as them.
 * The host, service, user and time are always shown before signing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "certutil.h"
#include "challenge.h"
#include "digest.h"
#include "log.h"
#include "options.h"
#include "response.h"
#include "verify.h"

#define PROG "certauth-sign"
#define USAGE \
	"usage: " PROG \
	" --key KEY.pem [--host HOST]... " \
	"[--service NAME] [--user NAME]\n" \
	"       [--max-age SECONDS] [--digest sha256|sha384|sha512] [--pss]\n" \
	"       [--pass-file FILE] [CHALLENGE]"
#define LINE_MAX_BYTES 8192 /* one pasted challenge line */
/* PEM_BUFSIZE: the most a PEM passphrase callback is given. */
#define PASS_MAX_BYTES	 1024
#define CHALLENGE_PREFIX "certauth:v1:"
/*
 * Added to the module's default challenge_ttl for the default --max-age:
 * the signer's clock and the server's may differ by this much.
 */
#define CLOCK_SKEW_SECONDS 180
#define MAX_AGE_LIMIT	   INT_MAX
#define TIME_TEXT_BYTES	   64 /* "YYYY-MM-DD HH:MM:SS UTC" or digits */
#define HOSTS_MAX	   16 /* --host given this many times at most */
#define SPAN_TEXT_BYTES	   64

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };
enum { PARSE_OK, PARSE_HELP, PARSE_USAGE };

struct sign_args {
	const char *key;
	const char *hosts[HOSTS_MAX]; /* --host names, any one matches */
	int nhosts;		      /* 0: any host, shown to the person */
	const char *service;	      /* NULL: any service */
	const char *user;	      /* NULL: any user */
	const char *pass_file;
	const char *challenge; /* NULL: read one line from stdin */
	long max_age;	       /* seconds either side of now; 0: no check */
	int digest;	       /* enum certauth_digest; DEFAULT: not given */
	int pss;
};

/* A passphrase from --pass-file, or none: ask on the terminal. */
struct pass_ctx {
	const char *key_path;
	const char *pass;
	size_t len;
	int given;  /* a passphrase was handed to OpenSSL */
	int failed; /* none could be had; already said why */
};

static const struct option long_opts[] = {
	{ "key", required_argument, NULL, 'k' },
	{ "host", required_argument, NULL, 'H' },
	{ "service", required_argument, NULL, 'S' },
	{ "user", required_argument, NULL, 'U' },
	{ "max-age", required_argument, NULL, 'M' },
	{ "digest", required_argument, NULL, 'd' },
	{ "pss", no_argument, NULL, 'p' },
	{ "pass-file", required_argument, NULL, 'P' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char help_head[] =
    "Sign a pam_certauth challenge and print the response on one line.\n"
    "The challenge is the argument, or one line of standard input (the\n"
    "bare challenge or the whole \"certauth challenge: ...\" line).\n"
    "Before signing, its user, service, host and time are shown on\n"
    "standard error; standard output carries the response alone.\n\n"
    "  --key KEY.pem      private key: RSA >= 2048, EC P-256/384/521,\n"
    "                     Ed25519 or Ed448; an encrypted key's passphrase\n"
    "                     is asked for on the terminal\n"
    "  --host HOST        refuse a challenge issued for another host: the\n"
    "                     server's own host name (or its hostname=\n"
    "                     option), not the name you connect to; may be\n"
    "                     given again, any one matches; case is ignored\n"
    "  --service NAME     refuse a challenge for another PAM service\n"
    "                     (sshd, su, sudo, login, ...)\n"
    "  --user NAME        refuse a challenge for another account\n"
    "                     (service and user are compared exactly, case\n"
    "                     included; all three with the decoded field)\n";

static const char help_tail[] =
    "  --digest NAME      sha256 (default), sha384 or sha512 (RSA, EC)\n"
    "  --pss              RSA-PSS instead of PKCS#1 v1.5\n"
    "  --pass-file FILE   read the passphrase from FILE's first line\n"
    "  --help             this text\n\n"
    "Exit status: 0 signed, 1 refused or failed, 2 usage error.\n"
    "See certauth-sign(1) and pam_certauth(8).\n";

/* The module's default challenge_ttl, from the options code it uses. */
static long
module_default_ttl(void)
{
	struct certauth_opts o;
	long ttl;

	certauth_opts_init(&o);
	ttl = o.challenge_ttl;
	certauth_opts_free(&o);
	return ttl;
}

static void
print_help(void)
{
	long ttl = module_default_ttl();

	printf("%s\n\n%s", USAGE, help_head);
	printf(
	    "  --max-age SECONDS  refuse a challenge whose time is more than\n"
	    "                     SECONDS away from this machine's clock, either\n"
	    "                     way (default %ld: the module's challenge_ttl\n"
	    "                     of %ld plus %d for clocks that differ);\n"
	    "                     0: no time check\n",
	    ttl + CLOCK_SKEW_SECONDS, ttl, CLOCK_SKEW_SECONDS);
	fputs(help_tail, stdout);
}

static int
usage_error(const char *problem)
{
	if (problem != NULL)
		log_err(NULL, PROG ": %s", problem);
	fprintf(stderr, "%s\n", USAGE);
	return PARSE_USAGE;
}

/* A decimal number of seconds, 0 to MAX_AGE_LIMIT.  0 or -1. */
static int
parse_seconds(const char *s, long *out)
{
	char *end = NULL;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > MAX_AGE_LIMIT)
		return -1;
	*out = v;
	return 0;
}

/* Returns PARSE_OK with *a filled in, PARSE_HELP or PARSE_USAGE. */
static int
parse_args(int argc, char **argv, struct sign_args *a)
{
	int ch;

	memset(a, 0, sizeof(*a));
	a->digest = CERTAUTH_DIGEST_DEFAULT;
	a->max_age = module_default_ttl() + CLOCK_SKEW_SECONDS;
	while ((ch = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			a->key = optarg;
			break;
		case 'H':
			if (optarg[0] == '\0')
				return usage_error("--host needs a host name");
			if (a->nhosts == HOSTS_MAX) {
				log_err(NULL,
				    PROG
				    ": --host may be given at most %d "
				    "times",
				    HOSTS_MAX);
				return usage_error(NULL);
			}
			a->hosts[a->nhosts++] = optarg;
			break;
		case 'S':
			a->service = optarg;
			break;
		case 'U':
			a->user = optarg;
			break;
		case 'M':
			if (parse_seconds(optarg, &a->max_age) != 0) {
				log_err(NULL,
				    PROG
				    ": --max-age must be a "
				    "number of seconds from 0 to %d",
				    MAX_AGE_LIMIT);
				return usage_error(NULL);
			}
			break;
		case 'd':
			if ((a->digest = certauth_digest_from_name(optarg,
				 strlen(optarg))) < 0)
				return usage_error(
				    "--digest must be sha256, "
				    "sha384 or sha512");
			break;
		case 'p':
			a->pss = 1;
			break;
		case 'P':
			a->pass_file = optarg;
			break;
		case 'h':
			print_help();
			return PARSE_HELP;
		default: /* getopt_long said what was wrong */
			return usage_error(NULL);
		}
	}
	if (argc - optind > 1)
		return usage_error("give at most one challenge");
	if (a->key == NULL)
		return usage_error("--key is required");
	if (a->service != NULL && a->service[0] == '\0')
		return usage_error("--service needs a service name");
	if (a->user != NULL && a->user[0] == '\0')
		return usage_error("--user needs a user name");
	a->challenge = optind < argc ? argv[optind] : NULL;
	return PARSE_OK;
}

/* The challenge in text: from "certauth:v1:" up to the next white space. */
static int
extract_challenge(const char *text, char **out)
{
	const char *start;

	*out = NULL;
	if ((start = strstr(text, CHALLENGE_PREFIX)) == NULL)
		return CERTAUTH_ERR_FORMAT;
	if ((*out = strndup(start, strcspn(start, " \t\r\n\v\f"))) == NULL)
		return CERTAUTH_ERR_NOMEM;
	return 0;
}

/* One line of stdin into buf.  Returns 0 or -1 (said why). */
static int
read_line(char *buf, size_t size)
{
	if (isatty(STDIN_FILENO))
		log_info(NULL, PROG ": paste the challenge line, then Enter");
	if (fgets(buf, (int)size, stdin) == NULL) {
		log_err(NULL, PROG ": no challenge on standard input");
		return -1;
	}
	if (strchr(buf, '\n') == NULL && !feof(stdin)) {
		log_err(NULL, PROG ": challenge line is longer than %zu bytes",
		    size - 1);
		return -1;
	}
	return 0;
}

/* The challenge from the argument or stdin, malloc'd.  0 or -1. */
static int
get_challenge(const struct sign_args *a, char **out)
{
	char line[LINE_MAX_BYTES];
	int r;

	if (a->challenge == NULL && read_line(line, sizeof(line)) != 0)
		return -1;
	r = extract_challenge(a->challenge != NULL ? a->challenge : line, out);
	if (r == CERTAUTH_ERR_NOMEM)
		log_err(NULL, PROG ": %s", certauth_strerror(r));
	else if (r != 0)
		log_err(NULL, PROG ": not a certauth v1 challenge");
	return r == 0 ? 0 : -1;
}

/*
 * A decoded field against the value of --service or --user: exact
 * bytes, case included (account and service names are).  want NULL:
 * not checked.  Returns 0, or -1 (said why and what it may mean).
 */
static int
check_field(const char *what, const char *field, const char *decoded,
    const char *want, const char *risk)
{
	if (want == NULL || strcmp(decoded, want) == 0)
		return 0;
	log_err(NULL,
	    PROG
	    ": challenge is for %s %s, not %s: refusing to sign "
	    "(%s)",
	    what, certauth_pct_display(decoded, field), want, risk);
	return -1;
}

/* a and b equal with ASCII letters folded: host names ignore case. */
static int
host_equal(const char *a, const char *b)
{
	unsigned char ca, cb;

	for (;; a++, b++) {
		ca = (unsigned char)*a;
		cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb - 'A' + 'a');
		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
}

/* Whether s can be given back on a command line as it is. */
static int
plain_word(const char *s)
{
	return strspn(s,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789._-@+") == strlen(s);
}

/* "'a'", "'a' or 'b'", "'a', 'b' or 'c'": the --host names given. */
static void
host_list(const struct sign_args *a, char *buf, size_t size)
{
	const char *sep;
	size_t used = 0;
	int i, n;

	buf[0] = '\0';
	for (i = 0; i < a->nhosts && used < size; i++) {
		sep = i == 0 ? "" : i == a->nhosts - 1 ? " or " : ", ";
		n = snprintf(buf + used, size - used, "%s'%s'", sep,
		    a->hosts[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/*
 * The host field against the --host names, ASCII case ignored (host
 * names are case-insensitive); no name: not checked.  The refusal says
 * where the field comes from, since it is rarely the name typed to ssh.
 * Returns 0, or -1 (said why and how to go on).
 */
static int
check_host(const struct certauth_challenge *c, const struct sign_args *a)
{
	const char *shown = certauth_pct_display(c->host, c->host_enc);
	char wanted[LINE_MAX_BYTES];
	int i;

	for (i = 0; i < a->nhosts; i++)
		if (host_equal(c->host, a->hosts[i]))
			return 0;
	if (a->nhosts == 0)
		return 0;
	host_list(a, wanted, sizeof(wanted));
	if (shown == c->host && plain_word(c->host))
		log_err(NULL,
		    PROG
		    ": refused: the challenge is for host '%s', not %s. The "
		    "host field is the server's own hostname (or its "
		    "hostname= option), not the name you connect to: if "
		    "'%s' is the server you meant, run again with --host %s "
		    "(or add --host %s).",
		    shown, wanted, shown, c->host, c->host);
	else
		log_err(NULL,
		    PROG
		    ": refused: the challenge is for host '%s', not %s. The "
		    "host field is the server's own hostname (or its "
		    "hostname= option), not the name you connect to: if "
		    "'%s' is the server you meant, give that name with "
		    "--host.",
		    shown, wanted, shown);
	return -1;
}

/*
 * The time field against this machine's clock: at most max_age seconds
 * either way; max_age 0: not checked.  A login in progress shows the time
 * it began, so a challenge far from now was made up, held back or comes
 * from a host whose clock is wrong.  Returns 0, or -1 (said why).
 */
static int
check_time(time_t t, long max_age)
{
	char when[TIME_TEXT_BYTES], span[SPAN_TEXT_BYTES];
	long long now, off;

	if (max_age == 0)
		return 0;
	certauth_unix_time_string(t, when, sizeof(when));
	if ((now = (long long)time(NULL)) < 0) {
		log_err(NULL, PROG ": cannot read the clock");
		return -1;
	}
	/* Far behind any clock, and t - now could overflow. */
	if (t < 0) {
		log_err(NULL,
		    PROG
		    ": challenge time %s is before 1970: "
		    "refusing to sign",
		    when);
		return -1;
	}
	off = (long long)t - now; /* no overflow: both are >= 0 */
	if (off <= max_age && off >= -max_age)
		return 0;
	certauth_span_string(off < 0 ? -off : off, span, sizeof(span));
	log_err(NULL,
	    PROG
	    ": challenge time %s is %s %s this machine's clock, "
	    "more than the %ld seconds allowed: refusing to sign (a login in "
	    "progress shows the current time; --max-age sets the limit)",
	    when, span, off < 0 ? "behind" : "ahead of", max_age);
	return -1;
}

/* Say what is about to be signed: the person is the last check. */
static void
announce(const struct certauth_challenge *c, const struct sign_args *a)
{
	char when[TIME_TEXT_BYTES];
	const char *host = certauth_pct_display(c->host, c->host_enc);

	certauth_unix_time_string(c->issued, when, sizeof(when));
	log_info(NULL,
	    PROG
	    ": signing for user %s, service %s, on host %s "
	    "(challenge time %s)",
	    certauth_pct_display(c->user, c->user_enc),
	    certauth_pct_display(c->service, c->service_enc), host, when);
	if (a->nhosts == 0)
		log_info(NULL,
		    PROG
		    ": the host was not checked (no --host): "
		    "answer only if %s is the host you are logging in to",
		    host);
}

/*
 * Shape, host, service, user, time; then say what will be signed.
 * Returns 0 when the challenge may be signed, or -1 (said why).
 */
static int
check_challenge(const char *text, const struct sign_args *a)
{
	struct certauth_challenge c;
	struct certauth_reason why;
	int r = -1;

	if ((r = certauth_challenge_parse(text, &c, &why)) != 0) {
		if (r == CERTAUTH_ERR_NOMEM)
			log_err(NULL, PROG ": %s", certauth_strerror(r));
		else
			log_err(NULL, PROG ": not a certauth v1 challenge: %s",
			    why.text);
		return -1;
	}
	r = -1;
	if (check_host(&c, a) != 0 ||
	    check_field("service", c.service_enc, c.service, a->service,
		"a server may be relaying a challenge of another service, such "
		"as su or sudo") != 0 ||
	    check_field("user", c.user_enc, c.user, a->user,
		"a server may be relaying a challenge for another account") !=
		0 ||
	    check_time(c.issued, a->max_age) != 0)
		goto out;
	announce(&c, a);
	r = 0;
out:
	certauth_challenge_free(&c);
	return r;
}

/*
 * The first line of path (without CR/LF) into buf, the rest of buf wiped.
 * Returns 0 with *len, or -1 (said why, buf wiped).
 */
static int
read_pass_file(const char *path, char *buf, size_t size, size_t *len)
{
	size_t got = 0;
	ssize_t n;
	char *nl = NULL;
	int fd = -1, r = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		log_err(NULL, PROG ": cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	while (got < size && (nl = memchr(buf, '\n', got)) == NULL) {
		if ((n = read(fd, buf + got, size - got)) < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err(NULL, PROG ": cannot read %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (nl == NULL && (nl = memchr(buf, '\n', got)) == NULL) {
		if (got == size) {
			log_err(NULL,
			    PROG
			    ": the passphrase in %s is longer "
			    "than %zu bytes",
			    path, size - 1);
			goto out;
		}
		nl = buf + got;
	}
	*len = (size_t)(nl - buf);
	if (*len > 0 && buf[*len - 1] == '\r')
		(*len)--;
	explicit_bzero(buf + *len, size - *len);
	r = 0;
out:
	if (r != 0)
		explicit_bzero(buf, size);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Ask on the terminal; OpenSSL's UI would fall back to stdin, which may
 * be where the challenge came from.  Returns the length or -1. */
static int
ask_tty(struct pass_ctx *pc, char *buf, int size)
{
	char prompt[256];
	int fd;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		log_err(NULL,
		    PROG
		    ": %s is encrypted and there is no terminal "
		    "to ask its passphrase on: use --pass-file",
		    pc->key_path);
		pc->failed = 1;
		return -1;
	}
	close(fd);
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", pc->key_path);
	if (EVP_read_pw_string_min(buf, 0, size, prompt, 0) != 0) {
		log_err(NULL, PROG ": no passphrase read");
		pc->failed = 1;
		return -1;
	}
	pc->given = 1;
	return (int)strlen(buf);
}

/* PEM passphrase callback; OpenSSL wipes buf after use. */
static int
pass_cb(char *buf, int size, int rwflag, void *arg)
{
	struct pass_ctx *pc = arg;

	(void)rwflag;
	/* OpenSSL may call again for another decoder: ask only once. */
	if (size <= 0 || pc->failed)
		return -1;
	if (pc->pass == NULL)
		return ask_tty(pc, buf, size);
	if (pc->len >= (size_t)size) {
		log_err(NULL, PROG ": passphrase is too long");
		pc->failed = 1;
		return -1;
	}
	memcpy(buf, pc->pass, pc->len);
	pc->given = 1;
	return (int)pc->len;
}

/* The private key of a->key into *out.  Returns 0 or -1 (said why). */
static int
load_key(const struct sign_args *a, EVP_PKEY **out)
{
	char pass[PASS_MAX_BYTES], why[CERTAUTH_REASON_MAX];
	struct pass_ctx pc = { a->key, NULL, 0, 0, 0 };
	BIO *bio = NULL;
	int r = -1;

	*out = NULL;
	if (a->pass_file != NULL) {
		if (read_pass_file(a->pass_file, pass, sizeof(pass), &pc.len) !=
		    0)
			goto out;
		pc.pass = pass;
	}
	if ((bio = BIO_new_file(a->key, "r")) == NULL) {
		log_err(NULL, PROG ": cannot open %s: %s", a->key,
		    strerror(errno));
		goto out;
	}
	if ((*out = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &pc)) == NULL) {
		certauth_ossl_reason(why, sizeof(why), "unknown error");
		if (pc.given)
			log_err(NULL,
			    PROG
			    ": cannot decrypt %s: wrong "
			    "passphrase? (%s)",
			    a->key, why);
		else if (!pc.failed)
			log_err(NULL,
			    PROG
			    ": cannot load a PEM private key "
			    "from %s: %s",
			    a->key, why);
		goto out;
	}
	r = 0;
out:
	explicit_bzero(pass, sizeof(pass));
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

static int
is_rsa(EVP_PKEY *pkey)
{
	int id = EVP_PKEY_get_base_id(pkey);

	return id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS;
}

static int
is_eddsa(EVP_PKEY *pkey)
{
	int id = EVP_PKEY_get_base_id(pkey);

	return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448;
}

/* The key against the protocol and the options.  0 or -1 (said why). */
static int
check_key(EVP_PKEY *pkey, const struct sign_args *a)
{
	struct certauth_reason why;

	if (certauth_key_check(pkey, &why) != 0) {
		log_err(NULL, PROG ": key refused: %s", why.text);
		return -1;
	}
	if (is_eddsa(pkey) && a->digest != CERTAUTH_DIGEST_DEFAULT) {
		log_err(NULL,
		    PROG
		    ": --digest cannot be used with %s keys: "
		    "EdDSA signs the challenge itself",
		    EVP_PKEY_get0_type_name(pkey));
		return -1;
	}
	if (a->pss && !is_rsa(pkey)) {
		log_err(NULL, PROG ": --pss needs an RSA key");
		return -1;
	}
	return 0;
}

/* The hash to sign with; NULL: pure EdDSA. */
static const EVP_MD *
digest_md(EVP_PKEY *pkey, int digest)
{
	return is_eddsa(pkey) ? NULL : certauth_digest_md(digest);
}

/* RSA padding on pctx: PSS (salt as long as the digest) or PKCS#1 v1.5. */
static int
set_rsa_padding(EVP_PKEY_CTX *pctx, const EVP_MD *md, int pss)
{
	if (EVP_PKEY_CTX_set_rsa_padding(pctx,
		pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) <= 0)
		return -1;
	if (pss &&
	    (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <=
		    0 ||
		EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0))
		return -1;
	return 0;
}

/*
 * Sign msg: md NULL is pure EdDSA; an RSA-PSS-only key always uses PSS.
 * *sig is malloc'd.  Returns 0, CERTAUTH_ERR_NOMEM or CERTAUTH_ERR_INTERNAL.
 */
static int
sign_message(EVP_PKEY *pkey, const EVP_MD *md, int pss,
    const unsigned char *msg, size_t msglen, unsigned char **sig,
    size_t *siglen)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	*sig = NULL;
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA_PSS)
		pss = 1;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey) != 1 ||
	    (is_rsa(pkey) && set_rsa_padding(pctx, md, pss) != 0) ||
	    EVP_DigestSign(ctx, NULL, &len, msg, msglen) != 1)
		goto out;
	if ((buf = malloc(len)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestSign(ctx, buf, &len, msg, msglen) != 1)
		goto out;
	*sig = buf;
	*siglen = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return r;
}

/* "[<digest>:]base64" as docs/PROTOCOL.md, "The response", has it,
 * malloc'd. */
static int
encode_response(int digest, const unsigned char *sig, size_t siglen, char **out)
{
	const char *name = NULL;
	size_t plen = 0;
	char *buf;

	/* No prefix means SHA-256: the shortest answer that says it. */
	if (digest != CERTAUTH_DIGEST_DEFAULT &&
	    digest != CERTAUTH_DIGEST_SHA256) {
		if ((name = certauth_digest_name(digest)) == NULL)
			return CERTAUTH_ERR_INTERNAL;
		plen = strlen(name) + 1;
	}
	if ((buf = malloc(plen + 4 * ((siglen + 2) / 3) + 1)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	if (name != NULL) {
		memcpy(buf, name, plen - 1);
		buf[plen - 1] = ':';
	}
	EVP_EncodeBlock((unsigned char *)buf + plen, sig, (int)siglen);
	*out = buf;
	return 0;
}

/* The public half alone, so the self-check sees what a certificate holds. */
static int
public_half(EVP_PKEY *pkey, EVP_PKEY **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int len;

	if ((len = i2d_PUBKEY(pkey, &der)) <= 0)
		return CERTAUTH_ERR_INTERNAL;
	p = der;
	*out = d2i_PUBKEY(NULL, &p, len);
	OPENSSL_free(der);
	return *out != NULL ? 0 : CERTAUTH_ERR_INTERNAL;
}

/*
 * Check the response as the module will: parse it, then verify it with
 * the public key.  Returns 0 or -1 (said why).
 */
static int
self_check(EVP_PKEY *pkey, const char *challenge, const char *resp)
{
	struct certauth_reason why;
	EVP_PKEY *pub = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int digest = CERTAUTH_DIGEST_DEFAULT, r;

	certauth_reason_set(&why, "cannot extract the public key");
	if ((r = public_half(pkey, &pub)) != 0 ||
	    (r = certauth_response_parse(resp, &digest, &sig, &siglen, &why)) !=
		0 ||
	    (r = certauth_verify_signature(pub, digest,
		 (const unsigned char *)challenge, strlen(challenge), sig,
		 siglen, &why)) != 0)
		log_err(NULL,
		    PROG
		    ": self-check failed, not printing the "
		    "response: %s",
		    why.text);
	free(sig);
	EVP_PKEY_free(pub);
	ERR_clear_error();
	return r == 0 ? 0 : -1;
}

/* Sign, encode and self-check; *out is the response line.  0 or -1. */
static int
make_response(EVP_PKEY *pkey, const struct sign_args *a, const char *c,
    char **out)
{
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char why[CERTAUTH_REASON_MAX];
	int r;

	*out = NULL;
	if ((r = sign_message(pkey, digest_md(pkey, a->digest), a->pss,
		 (const unsigned char *)c, strlen(c), &sig, &siglen)) != 0) {
		certauth_ossl_reason(why, sizeof(why), "signing failed");
		log_err(NULL, PROG ": cannot sign: %s",
		    r == CERTAUTH_ERR_NOMEM ? certauth_strerror(r) : why);
		goto out;
	}
	if ((r = encode_response(a->digest, sig, siglen, out)) != 0) {
		log_err(NULL, PROG ": %s", certauth_strerror(r));
		goto out;
	}
	if ((r = self_check(pkey, c, *out)) != 0) {
		free(*out);
		*out = NULL;
	}
out:
	free(sig);
	ERR_clear_error();
	return r == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct sign_args a;
	char *challenge = NULL, *resp = NULL;
	EVP_PKEY *pkey = NULL;
	int ret = EXIT_REFUSED;

	switch (parse_args(argc, argv, &a)) {
	case PARSE_HELP:
		return fflush(stdout) == 0 ? 0 : EXIT_REFUSED;
	case PARSE_USAGE:
		return EXIT_USAGE;
	}
	/* The challenge is judged before any passphrase is asked for. */
	if (get_challenge(&a, &challenge) != 0 ||
	    check_challenge(challenge, &a) != 0 || load_key(&a, &pkey) != 0 ||
	    check_key(pkey, &a) != 0 ||
	    make_response(pkey, &a, challenge, &resp) != 0)
		goto out;
	if (printf("%s\n", resp) < 0 || fflush(stdout) != 0) {
		log_err(NULL, PROG ": cannot write the response: %s",
		    strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(resp);
	free(challenge);
	EVP_PKEY_free(pkey);
	return ret;
}
