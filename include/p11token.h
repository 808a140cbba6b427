/*
 * A private key on a PKCS#11 token, named by an RFC 7512 "pkcs11:" URI,
 * through p11-kit: the URI is parsed and matched by p11-kit, the module
 * loaded and initialised by it.  One token, one session, one key.
 * Shared by the signing tools' key source (keysrc.h), the module's
 * token answer source (token_answer.h) and certauth-enroll, which reads
 * the certificate to bind from a token's listing (no login, no key).
 */
#ifndef CERTAUTH_P11TOKEN_H
#define CERTAUTH_P11TOKEN_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#include "certauth.h"

struct certauth_p11token;

/*
 * Parse uri, load its module (the URI's module-path, else module when
 * neither NULL nor empty; p11-kit's proxy module or none: every module
 * p11-kit is configured with, as its proxy would offer them) and open a
 * session on the one initialised token the URI matches (module-name,
 * library-*, slot-*, token attributes).  A URI with pin-value or an
 * attribute p11-kit does not know is refused.  Returns 0 with *out, or
 * a CERTAUTH_ERR_* code with why set (CERTAUTH_ERR_NOT_FOUND: no token
 * matches; why lists the tokens there).
 */
int certauth_p11token_open(const char *uri, const char *module,
    struct certauth_p11token **out, struct certauth_reason *why);

/*
 * Whether uri may be the PAM module's pkcs11_uri: p11-kit reads it, it
 * has no attribute p11-kit does not know, and it names neither a PIN
 * (pin-value, pin-source: the person at the machine types it) nor a
 * module (module-path: pkcs11_module does, checked as a file the module
 * trusts).  Returns 0, or CERTAUTH_ERR_CONFIG or _NOMEM with why set.
 */
int certauth_p11token_check_login_uri(const char *uri,
    struct certauth_reason *why);

/*
 * As certauth_p11token_open, but every initialised token the URI
 * matches is a candidate, in module and slot order (a module of
 * p11-kit's configured with trust-policy, whose tokens hold CA
 * certificates, is passed over unless named): each is opened and handed
 * to want, and the first one want keeps (returns 1) is *out.  want
 * returns 0 to pass a token over, or a CERTAUTH_ERR_* code (with why
 * set) that ends the search.  *found counts the matching tokens.  The
 * module's pkcs11_uri has passed certauth_p11token_check_login_uri
 * with its options (no pin-source, pin-value or module-path).
 * Returns 0; CERTAUTH_ERR_NOT_FOUND when no token matches (why says so)
 * or want kept none (why lists the tokens' labels); or another code.
 */
int certauth_p11token_open_first(const char *uri, const char *module,
    int (*want)(void *arg, struct certauth_p11token *t), void *arg,
    struct certauth_p11token **out, int *found, struct certauth_reason *why);

/* The token's label as shown in messages (printable, no padding). */
const char *certauth_p11token_label(const struct certauth_p11token *t);

/* The URI's pin-source, or NULL. */
const char *certauth_p11token_pin_source(const struct certauth_p11token *t);

/*
 * Ready the token for a login: refused when its PIN is locked; logged in
 * already when it has its own PIN pad (protected authentication path) or
 * needs no login.  *need_pin: 1 when certauth_p11token_login must follow.
 * Returns 0 or a CERTAUTH_ERR_* code with why set.
 */
int certauth_p11token_prepare_login(struct certauth_p11token *t, int *need_pin,
    struct certauth_reason *why);

/*
 * Log in as the user with pin (len bytes, not NUL-ended).  Never
 * retried: a wrong PIN is reported ("wrong PIN for token ..."), with the
 * token's warning when one try is left.  Returns 0 or a CERTAUTH_ERR_*
 * code (CERTAUTH_ERR_KEY_REFUSED for a wrong or locked PIN) with why set.
 */
int certauth_p11token_login(struct certauth_p11token *t, const char *pin,
    size_t len, struct certauth_reason *why);

/*
 * Find the private key the URI names.  want (may be NULL): the public
 * key it must belong to, want_name its certificate's name in messages.
 * *pub: the key's public half (owned by the caller), from the token's
 * public key, certificate or RSA key object of the same id; when the
 * token holds none, want itself with *unchecked set, so that the first
 * signature must prove the pair.  Returns 0, or CERTAUTH_ERR_NOT_FOUND
 * (no such key, or no public half and no want), CERTAUTH_ERR_KEY_REFUSED
 * (the key does not belong to want) or another code, with why set.
 */
int certauth_p11token_find_key(struct certauth_p11token *t, EVP_PKEY *want,
    const char *want_name, EVP_PKEY **pub, int *unchecked,
    struct certauth_reason *why);

/* The found key's PKCS#11 key type (CKK_RSA, CKK_EC, CKK_EC_EDWARDS). */
CK_KEY_TYPE certauth_p11token_key_type(const struct certauth_p11token *t);

/*
 * Sign in (inlen bytes) with the found key and mechanism mech, as the
 * token returns it (raw r||s for ECDSA).  *out malloc'd.  Returns 0 or a
 * CERTAUTH_ERR_* code with why set (CERTAUTH_ERR_FORMAT for a token that
 * announces more than 4096 bytes, or says it wrote more than it had
 * room for).
 */
int certauth_p11token_sign(struct certauth_p11token *t, CK_MECHANISM *mech,
    const unsigned char *in, size_t inlen, unsigned char **out, size_t *outlen,
    struct certauth_reason *why);

/*
 * The same signature the module checks, made on the token with the key
 * certauth_p11token_find_key found (pub, its public half): over msg
 * hashed with md (NULL for EdDSA, which signs msg itself), RSA with PSS
 * when pss or when pub is an RSA-PSS key, ECDSA turned from the token's
 * r||s into DER.  *sig malloc'd.  Returns 0 or a CERTAUTH_ERR_* code
 * with why set (CERTAUTH_ERR_IO for a token removed meanwhile).
 */
int certauth_p11token_sign_message(struct certauth_p11token *t, EVP_PKEY *pub,
    const EVP_MD *md, int pss, const unsigned char *msg, size_t len,
    unsigned char **sig, size_t *siglen, struct certauth_reason *why);

/*
 * The X.509 certificate objects on the token that the URI's object
 * attributes (object=, id=) match, in the token's order, at most 16,
 * into *certs (owned, possibly empty).  An object that is not one DER
 * certificate of at most 64 KiB, or whose length changes between its
 * two reads, is passed over, counted in *skipped, the last one's reason
 * in skip_why.  Returns 0, or CERTAUTH_ERR_IO /
 * _NOMEM with why set.
 */
int certauth_p11token_certs(struct certauth_p11token *t, STACK_OF(X509) **certs,
    int *skipped, struct certauth_reason *skip_why,
    struct certauth_reason *why);

/* What certauth_p11token_uri_pin finds in a URI. */
enum { CERTAUTH_P11_PIN_NONE, CERTAUTH_P11_PIN_SOURCE, CERTAUTH_P11_PIN_VALUE };

/*
 * Whether the PKCS#11 URI uri carries pin-value or pin-source, without
 * loading anything: CERTAUTH_P11_PIN_VALUE, _SOURCE or _NONE (also for
 * a URI p11-kit cannot read, which certauth_p11token_open refuses).
 */
int certauth_p11token_uri_pin(const char *uri);

/* Whether the token says it must be logged in to for private objects. */
int certauth_p11token_needs_login(struct certauth_p11token *t);

/* A label or id as a URI gives it, "..." ending one cut short; NUL. */
#define CERTAUTH_P11_SHOWN_MAX 104
/* The objects of one group certauth_p11token_objects lists, at most. */
#define CERTAUTH_P11_LIST_MAX 16

/* One object of a token as certauth_p11token_objects lists it. */
struct certauth_p11token_object {
	CK_OBJECT_CLASS cls; /* CKO_CERTIFICATE, CKO_DATA, ... */
	int named;	     /* the URI's object= and id= match it */
	X509 *cert;	     /* a readable X.509 certificate object's */
	const char *problem; /* a certificate object's without cert */
	char label[CERTAUTH_P11_SHOWN_MAX]; /* as object= takes it; "" */
	char id[CERTAUTH_P11_SHOWN_MAX];    /* as id= takes it; "" */
};

/*
 * The objects of the opened token that a session without a login sees,
 * as a person needs them to name one: first the certificate objects
 * the URI's object attributes (object=, id=) match, then the objects of
 * other classes they match (none when the URI has neither), then the
 * token's other certificate objects; at most CERTAUTH_P11_LIST_MAX of
 * each group, *more set when a group had more.  Any certificate type is listed; an
 * object that is not one DER X.509 certificate of at most 64 KiB has
 * no cert and says why in problem.  *out (free with
 * certauth_p11token_objects_free) holds *n entries.  Returns 0, or
 * CERTAUTH_ERR_CONFIG (the URI's type= is not cert), _IO or _NOMEM,
 * with why set.
 */
int certauth_p11token_objects(struct certauth_p11token *t,
    struct certauth_p11token_object **out, int *n, int *more,
    struct certauth_reason *why);

void certauth_p11token_objects_free(struct certauth_p11token_object *objs,
    int n);

/* Log out, close the session, finalise and release the module. */
void certauth_p11token_close(struct certauth_p11token *t);

#endif
