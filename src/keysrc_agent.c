/*
 * The key source "agent": the private key the user's ssh-agent holds
 * (SSH_AUTH_SOCK), the one whose public key is that of the user's
 * certificate.  The agent may hold many keys; the certificate says
 * which.  The agent signs; keysrc.c checks the answer as for any source.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "certutil.h"
#include "digest.h"
#include "keysrc.h"
#include "sshagent.h"

/* Deadlines: an agent answers at once, unless a person must confirm. */
#define CONNECT_MS 5000
#define LIST_MS	   10000
#define SIGN_MS	   120000

struct agent_state {
	struct certauth_agent *agent;
	int digest; /* enum certauth_digest the answer names */
	char fp[CERTAUTH_AGENT_FP_CHARS];
};

/* Whether the agent holds pub's key; fp its fingerprint.  0 or code. */
static int
find_key(struct certauth_agent *a, EVP_PKEY *pub, const char *cert_path,
    char *fp, size_t fpsize, struct certauth_reason *why)
{
	struct certauth_agent_ids ids = { NULL, 0, NULL };
	unsigned char *blob = NULL;
	size_t len = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((r = certauth_sshkey_blob(pub, &blob, &len, why)) != 0)
		goto out;
	certauth_sshkey_fingerprint(blob, len, fp, fpsize);
	if ((r = certauth_agent_list(a, LIST_MS, &ids, why)) != 0)
		goto out;
	if (!certauth_agent_ids_have(&ids, blob, len)) {
		certauth_reason_set(why,
		    "the ssh-agent holds no key matching the certificate %s "
		    "(key %s; ssh-add -l lists the agent's keys)",
		    cert_path, fp);
		r = CERTAUTH_ERR_NOT_FOUND;
		goto out;
	}
	r = 0;
out:
	certauth_agent_ids_free(&ids);
	free(blob);
	return r;
}

static void
agent_close(void *state)
{
	struct agent_state *st = state;

	if (st == NULL)
		return;
	certauth_agent_close(st->agent);
	free(st);
}

static int
agent_open(const struct certauth_keysrc_spec *spec, void **state,
    EVP_PKEY **pub, struct certauth_reason *why)
{
	struct agent_state *st = NULL;
	EVP_PKEY *key = NULL;
	const char *sock;
	int r = CERTAUTH_ERR_CONFIG;

	if (spec->cert_path == NULL || spec->cert_path[0] == '\0') {
		certauth_reason_set(why,
		    "--key agent needs the user's certificate (--cert or "
		    "CERTAUTH_CERT) to choose the agent's key");
		goto out;
	}
	if ((sock = getenv("SSH_AUTH_SOCK")) == NULL || sock[0] == '\0') {
		certauth_reason_set(why,
		    "--key agent: no ssh-agent to ask (SSH_AUTH_SOCK is not "
		    "set)");
		goto out;
	}
	if ((r = certauth_keysrc_cert_key(spec->cert_path, &key, why)) != 0)
		goto out;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	if ((r = certauth_agent_connect(sock, CONNECT_MS, &st->agent, why)) !=
		0 ||
	    (r = find_key(st->agent, key, spec->cert_path, st->fp,
		 sizeof(st->fp), why)) != 0)
		goto out;
	*state = st;
	*pub = key;
	st = NULL;
	key = NULL;
	r = 0;
out:
	agent_close(st);
	EVP_PKEY_free(key);
	return r;
}

/* The agent's digest for the one asked: see certauth_agent_plan. */
static int
agent_digest(void *state, EVP_PKEY *pub, int digest, int pss, int *used,
    struct certauth_reason *why)
{
	struct agent_state *st = state;
	uint32_t flags = 0;
	int r;

	if (pss) {
		certauth_reason_set(why,
		    "--pss cannot be used with --key agent: an ssh-agent signs "
		    "RSA with PKCS#1 v1.5 only");
		return CERTAUTH_ERR_DIGEST_REFUSED;
	}
	if ((r = certauth_agent_plan(pub, digest, &flags, used, why)) != 0)
		return r;
	st->digest = *used;
	return 0;
}

static int
agent_sign(void *state, EVP_PKEY *pub, const EVP_MD *md, int pss,
    const unsigned char *msg, size_t len, unsigned char **sig, size_t *siglen,
    struct certauth_reason *why)
{
	struct agent_state *st = state;
	struct certauth_reason inner;
	int used = 0, r;

	(void)md; /* the digest agent_digest chose */
	(void)pss;
	r = certauth_agent_sign(st->agent, pub, st->digest, msg, len, SIGN_MS,
	    sig, siglen, &used, &inner);
	if (r == CERTAUTH_ERR_KEY_REFUSED)
		certauth_reason_set(why,
		    "the ssh-agent refused to sign with key %s (a "
		    "confirmation denied?)",
		    st->fp);
	else if (r != 0)
		certauth_reason_set(why, "%s", inner.text);
	return r;
}

const struct certauth_keysrc_ops certauth_keysrc_agent = {
	"agent",
	agent_open,
	agent_sign,
	agent_close,
	agent_digest,
};
