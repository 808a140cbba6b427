/*
 * agent_answer.h - the ssh-agent as the login's answer source
 * (answer.h, docs/PROTOCOL.md "Agent mode"): the agent of the user who
 * started the front door (the process's real uid) signs the very
 * challenge the conversation would show, with the key of a certificate
 * bound to the account; certauth_authenticate then checks the answer as
 * a typed one.  Independent of libpam: the module hands in what it knows.
 */
#ifndef CERTAUTH_AGENT_ANSWER_H
#define CERTAUTH_AGENT_ANSWER_H

#include <sys/types.h>

#include "answer.h"
#include "log.h"
#include "options.h"

struct certauth_agent_answer {
	const struct certauth_opts *opts; /* agent=, challenge_ttl */
	const struct certauth_log *lg;
	const char *user; /* the account being authenticated */
	/* SSH_AUTH_SOCK of the PAM environment; NULL: the process's. */
	const char *sock;
	uid_t uid; /* the real ids of the process: whose agent */
	gid_t gid;
	/* agent=try: asked when the agent cannot answer; NULL: none. */
	const struct certauth_answer_source *fallback;
};

/*
 * Make *src the answer source of aa (borrowed, must outlive src).  Its
 * answer returns 0 with the agent's response; under agent=try, when there
 * is no usable agent (real uid 0, no SSH_AUTH_SOCK, a socket that fails
 * the checks, nothing answering there, no bound certificate whose key the
 * agent holds), logs why and returns what aa->fallback returns; otherwise
 * the refusal with why set: CERTAUTH_ERR_NOT_FOUND, _UNSAFE, _TOO_LONG,
 * _UNREACHABLE for no usable agent, and for an agent that answered badly
 * (never a fallback) _KEY_REFUSED (it would not sign: a denied
 * confirmation), _BAD_SIGNATURE, _FORMAT, _UNREACHABLE (silence past the
 * deadline); or _INTERNAL / _NOMEM for a failure on this side (no
 * process, descriptor or memory to reach the agent with), never a
 * fallback either: a local fault is not the agent's absence.  No fallback
 * once the deadline has passed.  Logs one line naming the key when the
 * agent answers.
 */
void certauth_agent_answer_source(struct certauth_agent_answer *aa,
    struct certauth_answer_source *src);

#endif /* CERTAUTH_AGENT_ANSWER_H */
