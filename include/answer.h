/*
 * answer.h - where the answer to a challenge comes from.  Whatever the
 * source, it yields the response line of docs/PROTOCOL.md, "The
 * response", over the very challenge bytes the module issued, and the
 * login checks it the same way.  The sources: the PAM conversation
 * (pam_certauth.c) and the user's ssh-agent (agent_answer.h).
 */
#ifndef CERTAUTH_ANSWER_H
#define CERTAUTH_ANSWER_H

#include <openssl/x509.h>

#include "certauth.h"

struct certauth_answer_source {
	const char *name; /* for log lines: "conversation" */
	/* Nonzero: answer picks its key by the bound certificates, so they
	 * are looked up before the challenge goes out. */
	int needs_bound;
	/*
	 * Answer challenge: *response is a malloc'd NUL-terminated line,
	 * untrusted, that the caller wipes and frees.  bound holds the
	 * account's certificates for a source that needs_bound (NULL when
	 * the account has none, and always for any other source).
	 * Returns 0, CERTAUTH_ERR_CONV (no answer), CERTAUTH_ERR_NOMEM, or
	 * another code for a source that refuses the login itself (the
	 * ssh-agent's: agent_answer.h), with why set (may be left empty
	 * for CERTAUTH_ERR_CONV and CERTAUTH_ERR_NOMEM).
	 */
	int (*answer)(void *arg, const char *challenge, STACK_OF(X509) *bound,
	    char **response, struct certauth_reason *why);
	void *arg;
};

#endif /* CERTAUTH_ANSWER_H */
