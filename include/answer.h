/*
 * answer.h - where the answer to a challenge comes from.  Whatever the
 * source, it yields the response line of docs/PROTOCOL.md, "The
 * response", over the very challenge bytes the module issued, and the
 * login checks it the same way.  The sources: the PAM conversation
 * (pam_certauth.c) and the user's ssh-agent (agent_answer.h).
 */
#ifndef CERTAUTH_ANSWER_H
#define CERTAUTH_ANSWER_H

#include <stddef.h>

#include "bound.h"
#include "certauth.h"
#include "log.h"

/*
 * How a source asks the person for a secret (a key's passphrase, a
 * token's PIN): prompt is shown, the answer not echoed; it goes into
 * buf, NUL-ended, at most size - 1 bytes.  Returns its length, or -1
 * with why set (nobody to ask, nothing given).  NULL ask: no one can be
 * asked.
 */
struct certauth_secret_ask {
	int (*ask)(void *arg, const char *prompt, char *buf, size_t size,
	    struct certauth_reason *why);
	void *arg;
};

struct certauth_answer_source {
	const char *name; /* for log lines: "conversation" */
	/* Nonzero: answer picks its key by the account's bindings, so they
	 * are looked up before the challenge goes out. */
	int needs_bound;
	/*
	 * Answer challenge: *response is a malloc'd NUL-terminated line,
	 * untrusted, that the caller wipes and frees.  bound: what the
	 * binding sources said about the account, for a source that
	 * needs_bound (its r is nonzero for an account without bindings);
	 * NULL for any other source.
	 * Returns 0, CERTAUTH_ERR_CONV (no answer), CERTAUTH_ERR_NOMEM, or
	 * another code for a source that refuses the login itself (the
	 * ssh-agent's: agent_answer.h), with why set (may be left empty
	 * for CERTAUTH_ERR_CONV and CERTAUTH_ERR_NOMEM).
	 */
	int (*answer)(void *arg, const char *challenge,
	    const struct certauth_bound *bound, char **response,
	    struct certauth_reason *why);
	void *arg;
};

/* Where a source that answers by itself (the agent, a token) turns when
 * it cannot: the conversation, for one account. */
struct certauth_fallback {
	const struct certauth_log *lg;
	const char *user;
	const char *mode; /* for log lines and reasons: "agent mode" */
	const struct certauth_answer_source *source; /* NULL: none */
};

/*
 * The end of such a source's attempt that failed with r and inner: when
 * may (its own mode allows it and nothing but the source's absence
 * failed) and f has a source, log why and return what that source
 * answers; otherwise why is "<mode>: <inner>" and r is returned.
 */
int certauth_answer_fall_back(const struct certauth_fallback *f, int may, int r,
    const struct certauth_reason *inner, const char *challenge,
    const struct certauth_bound *bound, char **response,
    struct certauth_reason *why);

#endif /* CERTAUTH_ANSWER_H */
