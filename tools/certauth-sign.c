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
#include "signer.h"
#include "verify.h"

#define PROG "certauth-sign"
#define USAGE \
	"usage: " PROG \
	" --key KEY.pem|agent [--cert CERT.pem] [--host HOST]... " \
	"[--service NAME] [--user NAME]\n" \
	"       [--max-age SECONDS] [--digest sha256|sha384|sha512] [--pss]\n" \
	"       [--pass-file FILE] [--with-cert] [CHALLENGE]"
#define LINE_MAX_BYTES 8192 /* one pasted challenge line */
#define MAX_AGE_LIMIT  INT_MAX
#define HOSTS_MAX      16 /* --host given this many times at most */

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
	int with_cert; /* offer the certificate after the signature */
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
	{ "with-cert", no_argument, NULL, 'W' },
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
    "  --key agent        the key of --cert held by the ssh-agent at\n"
    "                     $SSH_AUTH_SOCK\n"
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
    "  --with-cert        offer the certificate of --cert after the\n"
    "                     signature, for a server that maps it to the\n"
    "                     account by rule\n"
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
	    ttl + CERTAUTH_SIGNER_SKEW, ttl, CERTAUTH_SIGNER_SKEW);
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
	a->max_age = module_default_ttl() + CERTAUTH_SIGNER_SKEW;
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
		case 'W':
			a->with_cert = 1;
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
	if (a->with_cert && a->cert == NULL)
		return usage_error(
		    "--with-cert needs the certificate to offer: "
		    "--cert (or CERTAUTH_CERT)");
	if (a->service != NULL && a->service[0] == '\0')
		return usage_error("--service needs a service name");
	if (a->user != NULL && a->user[0] == '\0')
		return usage_error("--user needs a user name");
	a->challenge = optind < argc ? argv[optind] : NULL;
	return PARSE_OK;
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
	r = certauth_signer_extract(a->challenge != NULL ? a->challenge : line,
	    out);
	if (r == CERTAUTH_ERR_NOMEM)
		log_err(NULL, PROG ": %s", certauth_strerror(r));
	else if (r != 0)
		log_err(NULL, PROG ": not a certauth v1 challenge");
	return r == 0 ? 0 : -1;
}

/* certauth-sign's way on after a host refusal: name it with --host. */
static void
host_advice(void *arg, const char *host, int plain, char *buf, size_t size)
{
	(void)arg;
	if (plain)
		snprintf(buf, size,
		    "run again with --host %s (or add --host %s).", host, host);
	else
		snprintf(buf, size, "give that name with --host.");
}

/*
 * Shape, host, service, user, time; then say what will be signed.
 * Returns 0 when the challenge may be signed, or -1 (said why).
 */
static int
check_challenge(const char *text, const struct sign_args *a)
{
	struct certauth_signer s = { PROG, a->hosts, a->nhosts, &a->service,
		a->service != NULL, a->user, a->max_age, host_advice, NULL,
		"--max-age sets the limit" };

	return certauth_signer_check(&s, text);
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

/*
 * Sign and self-check, then with --with-cert offer the certificate; *out
 * is the response line.  0 or -1 (said why).
 */
static int
make_response(struct certauth_keysrc *k, const struct sign_args *a,
    const char *c, char **out)
{
	struct certauth_reason why;
	size_t len;
	int r;

	if ((r = certauth_keysrc_respond(k, a->digest, a->pss, c, out, &why)) ==
		0 &&
	    a->with_cert)
		r = certauth_keysrc_offer(k, a->cert, c, out, &why);
	if (r != 0) {
		log_err(NULL, PROG ": %s",
		    r == CERTAUTH_ERR_NOMEM ? certauth_strerror(r) : why.text);
		free(*out);
		*out = NULL;
		return -1;
	}
	if ((len = strlen(*out)) > CERTAUTH_KEYSRC_SHORT_ANSWER)
		log_warn(NULL,
		    PROG
		    ": the answer is %zu characters: ssh and sudo read at "
		    "most %d characters of an answer and cut off the rest",
		    len, CERTAUTH_KEYSRC_SHORT_ANSWER);
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
