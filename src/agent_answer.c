/*
 * agent_answer.c - the ssh-agent answers the login's challenge
 * (agent_answer.h).  Whose agent: the one of the process's real uid,
 * reached with that uid's privileges (agentsock.c).  Which key: the
 * first certificate bound to the account whose key the agent holds.
 * What it signs: the challenge bytes as issued.  Whatever it sends back
 * is untrusted: certauth_authenticate checks the line it becomes as it
 * checks a typed one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "agent_answer.h"
#include "agentsock.h"
#include "certauth.h"
#include "digest.h"
#include "log.h"
#include "response.h"
#include "sshagent.h"

/* One login's dealings with the agent. */
struct agent_run {
	const struct certauth_agent_answer *aa;
	const char *sock;
	long long deadline; /* certauth_now_ms() */
	struct certauth_agent *agent;
	int fallback; /* nonzero: no usable agent (try may ask instead) */
};

/* Milliseconds left before the deadline, at least 1. */
static int
left_ms(const struct agent_run *run)
{
	long long left = run->deadline - certauth_now_ms();

	return left < 1 ? 1 : left > 3600000 ? 3600000 : (int)left;
}

/* Whose agent, and where: the refusals before any socket is touched. */
static int
find_socket(struct agent_run *run, STACK_OF(X509) *bound,
    struct certauth_reason *why)
{
	const struct certauth_agent_answer *aa = run->aa;

	run->fallback = 1;
	if (aa->uid == 0) {
		certauth_reason_set(why,
		    "the real uid is 0 (root): no ssh-agent speaks for it");
		return CERTAUTH_ERR_NOT_FOUND;
	}
	run->sock = aa->sock != NULL ? aa->sock : getenv("SSH_AUTH_SOCK");
	if (run->sock == NULL || run->sock[0] == '\0') {
		certauth_reason_set(why,
		    "no SSH_AUTH_SOCK in the PAM or the process environment");
		return CERTAUTH_ERR_NOT_FOUND;
	}
	if (bound == NULL || sk_X509_num(bound) == 0) {
		certauth_reason_set(why, "no certificate is bound to %s",
		    aa->user);
		return CERTAUTH_ERR_NOT_FOUND;
	}
	return 0;
}

/*
 * Whether r, on the way to the agent, means that there is no usable agent
 * (agent=try may ask instead): a socket that fails the checks, nothing
 * there, or nothing answering, with time left to ask.  A failure on this
 * side (no process, no memory, no descriptor) is not the agent's absence
 * and must not be hidden behind a prompt.
 */
static int
no_agent(const struct agent_run *run, int r)
{
	return (r == CERTAUTH_ERR_NOT_FOUND || r == CERTAUTH_ERR_UNSAFE ||
		   r == CERTAUTH_ERR_TOO_LONG ||
		   r == CERTAUTH_ERR_UNREACHABLE) &&
	    certauth_now_ms() < run->deadline;
}

/* Checked, then connected to as the user. */
static int
reach(struct agent_run *run, struct certauth_reason *why)
{
	const struct certauth_agent_answer *aa = run->aa;
	int r;

	if ((r = certauth_agentsock_check(run->sock, aa->uid, why)) != 0 ||
	    (r = certauth_agentsock_connect(run->sock, aa->uid, aa->gid,
		 run->deadline, &run->agent, why)) != 0) {
		run->fallback = no_agent(run, r);
		return r;
	}
	run->fallback = 0;
	return 0;
}

/*
 * The first bound certificate whose key the agent holds: *idx (from 0)
 * and its fingerprint.  Returns 0, CERTAUTH_ERR_NOT_FOUND (none), or the
 * listing's failure.
 */
static int
pick_key(struct agent_run *run, STACK_OF(X509) *bound, int *idx, char *fp,
    size_t fpsize, struct certauth_reason *why)
{
	struct certauth_agent_ids ids = { NULL, 0, NULL };
	struct certauth_reason inner;
	unsigned char *blob = NULL;
	size_t len = 0;
	int i, n = sk_X509_num(bound), r = CERTAUTH_ERR_INTERNAL;

	if ((r = certauth_agent_list(run->agent, left_ms(run), &ids, &inner)) !=
	    0) {
		certauth_reason_set(why, "the ssh-agent at %s: %s", run->sock,
		    inner.text);
		goto out;
	}
	for (i = 0; i < n; i++) {
		free(blob);
		blob = NULL;
		/* A key SSH has no form for cannot be in any agent. */
		r = certauth_sshkey_blob(
		    X509_get0_pubkey(sk_X509_value(bound, i)), &blob, &len,
		    &inner);
		if (r == CERTAUTH_ERR_KEY_REFUSED)
			continue;
		if (r != 0) {
			certauth_reason_set(why, "bound certificate %d: %s",
			    i + 1, inner.text);
			goto out;
		}
		if (certauth_agent_ids_have(&ids, blob, len)) {
			certauth_sshkey_fingerprint(blob, len, fp, fpsize);
			*idx = i;
			r = 0;
			goto out;
		}
	}
	certauth_reason_set(why,
	    "the ssh-agent at %s holds no key of a certificate bound to %s "
	    "(%d bound)",
	    run->sock, run->aa->user, n);
	run->fallback = 1;
	r = CERTAUTH_ERR_NOT_FOUND;
out:
	free(blob);
	certauth_agent_ids_free(&ids);
	ERR_clear_error();
	return r;
}

/* The agent signs the challenge with bound certificate idx's key. */
static int
sign(struct agent_run *run, X509 *cert, const char *fp, const char *challenge,
    char **response, struct certauth_reason *why)
{
	struct certauth_reason inner;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int used = CERTAUTH_DIGEST_DEFAULT, r = CERTAUTH_ERR_INTERNAL;

	r = certauth_agent_sign(run->agent, X509_get0_pubkey(cert),
	    CERTAUTH_DIGEST_DEFAULT, (const unsigned char *)challenge,
	    strlen(challenge), left_ms(run), &sig, &siglen, &used, &inner);
	if (r == CERTAUTH_ERR_KEY_REFUSED) {
		certauth_reason_set(why,
		    "the ssh-agent at %s refused to sign with key %s (a "
		    "confirmation denied?)",
		    run->sock, fp);
		goto out;
	}
	if (r != 0) {
		certauth_reason_set(why, "the ssh-agent at %s: %s", run->sock,
		    inner.text);
		goto out;
	}
	if ((r = certauth_response_encode(used, sig, siglen, response)) != 0)
		certauth_reason_set(why, "%s", certauth_strerror(r));
out:
	certauth_freezero(sig, siglen);
	ERR_clear_error();
	return r;
}

/* The whole exchange; run->fallback says whether try may ask instead. */
static int
respond(struct agent_run *run, const char *challenge, STACK_OF(X509) *bound,
    char **response, struct certauth_reason *why)
{
	char fp[CERTAUTH_AGENT_FP_CHARS];
	int idx = 0, r = CERTAUTH_ERR_INTERNAL;

	if ((r = find_socket(run, bound, why)) != 0 ||
	    (r = reach(run, why)) != 0 ||
	    (r = pick_key(run, bound, &idx, fp, sizeof(fp), why)) != 0 ||
	    (r = sign(run, sk_X509_value(bound, idx), fp, challenge, response,
		 why)) != 0)
		return r;
	log_info(run->aa->lg,
	    "user %s: the answer comes from the ssh-agent at %s of uid %lu, "
	    "key %s (bound certificate %d of %d)",
	    run->aa->user, run->sock, (unsigned long)run->aa->uid, fp, idx + 1,
	    sk_X509_num(bound));
	return 0;
}

static int
agent_answer(void *arg, const char *challenge, const struct certauth_bound *b,
    char **response, struct certauth_reason *why)
{
	STACK_OF(X509) *bound = b != NULL && b->r == 0 ? b->certs : NULL;
	const struct certauth_agent_answer *aa = arg;
	const struct certauth_fallback fb = { aa->lg, aa->user, "agent mode",
		aa->fallback };
	struct certauth_reason inner;
	struct agent_run run;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(&run, 0, sizeof(run));
	memset(&inner, 0, sizeof(inner));
	run.aa = aa;
	/* Within the login's own time: a confirmation needs a person. */
	run.deadline = certauth_now_ms() + aa->opts->challenge_ttl * 1000LL;
	r = respond(&run, challenge, bound, response, &inner);
	certauth_agent_close(run.agent);
	if (r == 0)
		return 0;
	return certauth_answer_fall_back(&fb,
	    run.fallback && aa->opts->agent == CERTAUTH_AGENT_TRY, r, &inner,
	    challenge, b, response, why);
}

void
certauth_agent_answer_source(struct certauth_agent_answer *aa,
    struct certauth_answer_source *src)
{
	src->name = "ssh-agent";
	src->needs_bound = 1;
	src->answer = agent_answer;
	src->arg = aa;
}
