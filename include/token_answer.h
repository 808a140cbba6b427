/*
 * token_answer.h - a PKCS#11 token in this machine as the login's answer
 * source (answer.h, docs/PROTOCOL.md "Token mode"): the token signs the
 * very challenge the conversation would show, with the key of a
 * certificate on it that is bound to the account; certauth_authenticate
 * then checks the answer as a typed one.  The token is never trusted
 * for being a token: its certificate must be bound (or mapped by the
 * rules) and pass the policy, and its signature must verify.
 * Independent of libpam: the module hands in what it knows.
 */
#ifndef CERTAUTH_TOKEN_ANSWER_H
#define CERTAUTH_TOKEN_ANSWER_H

#include "answer.h"
#include "log.h"
#include "options.h"

struct certauth_token_answer {
	const struct certauth_opts *opts; /* pkcs11=, pkcs11_module, _uri */
	const struct certauth_log *lg;
	const char *user; /* the account being authenticated */
	/* Asks the PIN with echo off; a NULL ask cannot. */
	struct certauth_secret_ask pin;
	/* pkcs11=try: asked when no token can answer; NULL: none. */
	const struct certauth_answer_source *fallback;
};

/*
 * Make *src the answer source of ta (borrowed, must outlive src).  Its
 * answer returns 0 with the token's response.  Under pkcs11=try, when
 * no token can answer (none present or matching pkcs11_uri, no bound
 * certificate on it, no key there for one, an account without
 * bindings), it logs why and returns what ta->fallback returns.
 * Otherwise the refusal with why set, never a fallback:
 * CERTAUTH_ERR_NOT_FOUND for no token, certificate or key;
 * CERTAUTH_ERR_KEY_REFUSED for a wrong or locked PIN, or a key that
 * does not belong to its certificate; CERTAUTH_ERR_CONV when no PIN
 * could be asked or none was given; CERTAUTH_ERR_IO for a token removed
 * during the login or a module that cannot be loaded;
 * CERTAUTH_ERR_UNSAFE for a pkcs11_module file others may write;
 * CERTAUTH_ERR_CONFIG for a pkcs11_uri that carries a PIN; the binding
 * sources' own failure.  The PIN is asked
 * once, never retried, never logged, and wiped.  Logs one line naming
 * the token and certificate when the token answers.
 */
void certauth_token_answer_source(struct certauth_token_answer *ta,
    struct certauth_answer_source *src);

#endif /* CERTAUTH_TOKEN_ANSWER_H */
