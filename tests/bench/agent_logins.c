/*
 * agent_logins.c - the timing driver of tests/bench/agent_bench.py: N
 * agent-mode logins and N typed logins of one user, interleaved (each
 * pair in a random order), in this
 * one small process, as sudo would run them (the caller sets the real
 * uid and gid to the user's, the effective ids to root).
 *
 * Each login is pam_start_confdir, pam_authenticate and pam_end.  The
 * agent service is answered by the ssh-agent at SSH_AUTH_SOCK; the typed
 * one by the tests' conversation (tests/common/conv.h), which signs the
 * challenge in-process with --key.  One line per login:
 *
 *   agent|typed <µs for the login> <µs inside the conversation>
 *
 * Exits 0 only when every login succeeded.  Figures only.
 *
 *   agent_logins --confdir DIR --agent-service NAME --typed-service NAME
 *                --user NAME --key PEM [--count N]
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <security/pam_appl.h>

#include "conv.h"

struct plan {
	const char *confdir, *agent_svc, *typed_svc, *user, *key_path;
	long count;
};

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* One login through svc; prints its line.  Returns libpam's code. */
static int
login(const struct plan *p, const char *svc, const char *tag, EVP_PKEY *key)
{
	struct tu_conv cs = { .key = key };
	struct pam_conv conv = { tu_conversation, &cs };
	pam_handle_t *h = NULL;
	double t0 = now_us();
	int rc;

	if ((rc = tu_pam_start(svc, p->user, p->confdir, &conv, NULL, &h)) !=
	    PAM_SUCCESS)
		return rc;
	rc = pam_authenticate(h, 0);
	pam_end(h, rc);
	printf("%s %.1f %.1f\n", tag, now_us() - t0, cs.inside_us);
	return rc;
}

static EVP_PKEY *
load_key(const char *path)
{
	EVP_PKEY *k = NULL;
	FILE *f = fopen(path, "r");

	if (f != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	return k;
}

static int
parse(int argc, char **argv, struct plan *p)
{
	static const struct option opts[] = {
		{ "confdir", required_argument, NULL, 'c' },
		{ "agent-service", required_argument, NULL, 'a' },
		{ "typed-service", required_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "key", required_argument, NULL, 'k' },
		{ "count", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	p->count = 100;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			p->confdir = optarg;
			break;
		case 'a':
			p->agent_svc = optarg;
			break;
		case 't':
			p->typed_svc = optarg;
			break;
		case 'u':
			p->user = optarg;
			break;
		case 'k':
			p->key_path = optarg;
			break;
		case 'n':
			p->count = strtol(optarg, NULL, 10);
			break;
		default:
			return -1;
		}
	}
	if (p->confdir == NULL || p->agent_svc == NULL ||
	    p->typed_svc == NULL || p->user == NULL || p->key_path == NULL ||
	    p->count <= 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct plan p = { 0 };
	EVP_PKEY *key = NULL;
	int rc = PAM_SUCCESS;
	long i;

	if (parse(argc, argv, &p) != 0) {
		fprintf(stderr,
		    "usage: agent_logins --confdir DIR --agent-service NAME "
		    "--typed-service NAME --user NAME --key PEM [--count N]\n");
		return 2;
	}
	if ((key = load_key(p.key_path)) == NULL) {
		fprintf(stderr, "agent_logins: cannot read key %s\n",
		    p.key_path);
		return 1;
	}
	/* Each pair in an order drawn anew (a fixed seed, so runs compare):
	 * the login after an agent login pays for the pages its connecting
	 * child's fork made copy-on-write, and a fixed order would charge
	 * that to the typed login alone. */
	srandom(1);
	for (i = 0; i < p.count && rc == PAM_SUCCESS; i++) {
		int agent_first = (int)(random() & 1);

		rc = agent_first ? login(&p, p.agent_svc, "agent", key) :
				   login(&p, p.typed_svc, "typed", key);
		if (rc == PAM_SUCCESS)
			rc = agent_first ?
			    login(&p, p.typed_svc, "typed", key) :
			    login(&p, p.agent_svc, "agent", key);
	}
	EVP_PKEY_free(key);
	if (rc != PAM_SUCCESS)
		fprintf(stderr, "agent_logins: a login failed: %s\n",
		    pam_strerror(NULL, rc));
	return rc == PAM_SUCCESS ? 0 : 1;
}
