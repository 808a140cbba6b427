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
#include "keysrc.h"
#include "log.h"
#include "options.h"
#include "response.h"
#include "verify.h"

#define PROG "certauth-sign"
#define USAGE \
	"usage: " PROG \
	" --key KEY.pem [--cert CERT.pem] [--host HOST]... " \
	"[--service NAME] [--user NAME]\n" \
	"       [--max-age SECONDS] [--digest sha256|sha384|sha512] [--pss]\n" \
	"       [--pass-file FILE] [CHALLENGE]"
#define LINE_MAX_BYTES	 8192 /* one pasted challenge line */
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
	const char *key;  /* --key or CERTAUTH_KEY: a key source */
	const char *cert; /* --cert or CERTAUTH_CERT: the user's certificate */
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

static const struct option long_opts[] = {
	{ "key", required_argument, NULL, 'k' },
	{ "cert", required_argument, NULL, 'C' },
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
    "                     is asked for on the terminal (default:\n"
    "                     $CERTAUTH_KEY); pkcs11:URI names a key on a\n"
    "                     token, whose PIN is asked for likewise (module:\n"
    "                     the URI's module-path, $CERTAUTH_PKCS11_MODULE\n"
    "                     or p11-kit's modules)\n"
    "  --cert CERT.pem    the user's certificate, which names the key of\n"
    "                     an agent or a token (default: $CERTAUTH_CERT)\n"
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
    "  --pass-file FILE   read the passphrase or PIN from FILE's first line\n"
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
		case 'C':
			a->cert = optarg;
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
	if (a->key == NULL && (a->key = getenv("CERTAUTH_KEY")) != NULL &&
	    a->key[0] == '\0')
		a->key = NULL;
	if (a->cert == NULL && (a->cert = getenv("CERTAUTH_CERT")) != NULL &&
	    a->cert[0] == '\0')
		a->cert = NULL;
	if (a->key == NULL)
		return usage_error("--key (or CERTAUTH_KEY) is required");
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
 * The secret-asking of certauth-sign: on the terminal, never standard
 * input, which may be where the challenge came from.
 */
static int
ask_tty(void *arg, const char *prompt, char *buf, size_t size,
    struct certauth_reason *why)
{
	const struct sign_args *a = arg;
	int fd;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		if (strncmp(a->key, "pkcs11:", 7) == 0)
			certauth_reason_set(why,
			    "there is no terminal to ask it on: use "
			    "--pass-file");
		else
			certauth_reason_set(why,
			    "%s is encrypted and there is no terminal to ask "
			    "its passphrase on: use --pass-file",
			    a->key);
		return -1;
	}
	close(fd);
	if (size > INT_MAX ||
	    EVP_read_pw_string_min(buf, 0, (int)size, prompt, 0) != 0) {
		certauth_reason_set(why, "no passphrase read");
		return -1;
	}
	return (int)strlen(buf);
}

/* The key source of a->key into *out.  Returns 0 or -1 (said why). */
static int
open_key(struct sign_args *a, struct certauth_keysrc **out)
{
	struct certauth_keysrc_spec spec = { a->key, a->cert, a->pass_file,
		{ ask_tty, a } };
	struct certauth_reason why;
	int r;

	if ((r = certauth_keysrc_open(&spec, out, &why)) != 0) {
		log_err(NULL, PROG ": %s",
		    r == CERTAUTH_ERR_NOMEM ? certauth_strerror(r) : why.text);
		return -1;
	}
	return 0;
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

/* Sign and self-check; *out is the response line.  0 or -1 (said why). */
static int
make_response(struct certauth_keysrc *k, const struct sign_args *a,
    const char *c, char **out)
{
	struct certauth_reason why;
	int r;

	if ((r = certauth_keysrc_respond(k, a->digest, a->pss, c, out, &why)) !=
	    0) {
		log_err(NULL, PROG ": %s",
		    r == CERTAUTH_ERR_NOMEM ? certauth_strerror(r) : why.text);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sign_args a;
	char *challenge = NULL, *resp = NULL;
	struct certauth_keysrc *key = NULL;
	int ret = EXIT_REFUSED;

	switch (parse_args(argc, argv, &a)) {
	case PARSE_HELP:
		return fflush(stdout) == 0 ? 0 : EXIT_REFUSED;
	case PARSE_USAGE:
		return EXIT_USAGE;
	}
	/* The challenge is judged before any passphrase is asked for. */
	if (get_challenge(&a, &challenge) != 0 ||
	    check_challenge(challenge, &a) != 0 || open_key(&a, &key) != 0 ||
	    check_key(certauth_keysrc_public(key), &a) != 0 ||
	    make_response(key, &a, challenge, &resp) != 0)
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
	certauth_keysrc_free(key);
	return ret;
}
