/*
 * conv.h - the application's side of a certauth login, for the programs
 * that log in through libpam in-process (the module's unit test, the
 * leak, fault-injection and benchmark drivers): a PAM conversation that
 * answers the challenge (docs/PROTOCOL.md, "The conversation") by signing
 * it with OpenSSL, or answers it wrongly on purpose, and counts what it
 * saw.
 *
 * Nothing here uses cmocka: it fails by return value, so that programs
 * built without it (tests/leak/logins) can share it.
 */
#ifndef CERTAUTH_TESTS_CONV_H
#define CERTAUTH_TESTS_CONV_H

#include <stddef.h>

#include <openssl/evp.h>
#include <security/pam_appl.h>

/* Characters of a TU_TOO_LONG answer: over the 4096 of the protocol. */
#define TU_TOO_LONG_CHARS	5000

/* How the conversation answers the challenge. */
enum tu_answer {
	TU_GOOD,		/* base64 of a signature with key */
	TU_GOOD_SPACED,		/* the same with spaces and newlines inside */
	TU_GOOD_URLSAFE,	/* the same in URL-safe base64, no padding */
	TU_WRONG_KEY,		/* a valid signature with wrong_key */
	TU_NOT_SIGNATURE,	/* good base64 of bytes that sign nothing */
	TU_MALFORMED,		/* not base64 */
	TU_EMPTY,		/* "" */
	TU_TRUNCATED,		/* the first half of a good answer */
	TU_TOO_LONG,		/* TU_TOO_LONG_CHARS characters of base64 */
	TU_NO_ANSWER,		/* the prompt's response left NULL */
	TU_CONV_FAIL,		/* the conversation returns PAM_CONV_ERR */
	TU_ANSWERS
};

/*
 * A conversation's appdata.  The caller sets the first fields (zeroed,
 * the answer is TU_GOOD) and reads the rest after the login.
 */
struct tu_conv {
	EVP_PKEY *key;		/* signs the challenge */
	EVP_PKEY *wrong_key;	/* for TU_WRONG_KEY */
	enum tu_answer answer;
	/* Called with 1 on entry and 0 on return, or NULL: lets a fault
	 * injector leave the application's own work alone. */
	void (*hold)(int on);
	/* A certificate (DER) the answer offers after its signature, as
	 * '.' and its base64 (docs/PROTOCOL.md, "The response"), appended
	 * by offer_with: certauth_response_offer (response.h), passed by a
	 * program that links the module's library, which this one does
	 * not need.  offer NULL: the answer offers none. */
	const unsigned char *offer;
	size_t offer_len;
	int (*offer_with)(char **answer, const unsigned char *der,
	    size_t derlen);
	/* Token mode: what a single echo-off prompt "PIN for token
	 * 'LABEL': " gets, the way answer says (TU_NO_ANSWER: no response,
	 * TU_CONV_FAIL: PAM_CONV_ERR, any other: this text).  NULL: such a
	 * prompt fails as any other of a shape not expected. */
	const char *pin;

	int calls;		/* challenges (and malformed prompts) seen */
	int sign_failed;	/* answers that could not be made */
	double inside_us;	/* µs in the callback, signing included */
	char challenge[512];	/* the last challenge line */
	int joined;		/* calls of one prompt (challenge_in_prompt) */
	char prompt[640];	/* the last prompt's text */
	int pin_prompts;	/* PIN prompts seen (pin set) */
	char pin_label[64];	/* the token's label in the last of them */
};

/*
 * The PAM conversation function; appdata is a struct tu_conv.  The
 * challenge is one call of two messages, the text info holding the
 * "certauth:v1:" line, then the prompt: it is answered as tu_conv says.
 * With offer set, every answer made (not TU_NO_ANSWER's) ends in the
 * offered certificate; when offer_with fails, none is made.
 * With pin set, a call of one echo-off prompt "PIN for token 'LABEL': "
 * is counted in pin_prompts (not in calls) and answered as pin says.
 * A call with a prompt of any other shape is counted and fails with
 * PAM_CONV_ERR; every other call (another module's information, the
 * module's error line) gets empty answers and PAM_SUCCESS.
 */
int tu_conversation(int n, const struct pam_message **msg,
    struct pam_response **resp, void *appdata);

/*
 * What a client answers: base64 (standard, padded) of key's signature
 * over msg, malloc'd, or NULL on any failure.  digest NULL means SHA-256
 * for RSA, EC and DSA and pure EdDSA for Ed25519 and Ed448; pss nonzero
 * pads RSA with PSS (docs/PROTOCOL.md, "Keys and digests").
 */
char *tu_client_sign(EVP_PKEY *key, const char *digest, int pss,
    const char *msg);

/*
 * pam_start_confdir on confdir, then the application's fail-delay
 * function set to delay (NULL: one that does nothing), so that a failed
 * login does not sleep and a test can see the delay the module asked for.
 * Returns libpam's code; on failure *pamh is NULL.
 */
int tu_pam_start(const char *service, const char *user, const char *confdir,
    const struct pam_conv *conv, void (*delay)(int, unsigned int, void *),
    pam_handle_t **pamh);

#endif /* CERTAUTH_TESTS_CONV_H */
