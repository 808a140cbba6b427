/*
 * A private key on a PKCS#11 token through p11-kit: p11-kit parses and
 * matches the RFC 7512 URI and loads the module; this file picks the one
 * token and key the URI names, lists its certificates (and, for
 * enrolment, its objects as a URI names them), logs in and signs, and
 * turns the token's return values into messages a person can act on.  The challenge is hashed here and the token signs the hash
 * with the plainest mechanism of its key type (CKM_RSA_PKCS over a
 * DigestInfo, CKM_RSA_PKCS_PSS, CKM_ECDSA), which smart cards offer more
 * often than the hash-and-sign ones; Ed25519 signs the challenge itself
 * (CKM_EDDSA).  ECDSA's raw r||s becomes the DER SEQUENCE the module
 * reads.  Whatever the token returns is untrusted: every attribute and
 * signature read is capped, every length the token reports for a buffer
 * it filled is checked against the room it had, and the caller verifies
 * every signature it makes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "certauth.h"
#include "p11token.h"

#define LABEL_BYTES    32 /* CK_TOKEN_INFO label, blank-padded */
#define TOKEN_LIST_MAX 512
#define SLOTS_MAX      256   /* slots one module may announce */
#define KEYS_MAX       16    /* private keys one URI may match */
#define CERTS_MAX      16    /* certificates looked at on one token */
#define ATTR_MAX_BYTES 65536 /* the largest attribute read from a token */
#define SIG_MAX_BYTES  4096  /* the largest signature: RSA of 32768 bits */
#define LIST_MAX       CERTAUTH_P11_LIST_MAX /* objects of one group listed */

struct certauth_p11token {
	P11KitUri *uri;
	char *text;	    /* the URI as given, for messages */
	const char *module; /* the module path, or NULL: p11-kit's modules */
	CK_FUNCTION_LIST **mods; /* NULL-ended: what was loaded */
	CK_FUNCTION_LIST *fl;	 /* the module of the token */
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	int have_session;
	int logged_in;
	CK_OBJECT_HANDLE key;
	CK_KEY_TYPE key_type;
	char label[LABEL_BYTES + 1];
};

/* A blank-padded PKCS#11 label as shown: padding cut, odd bytes '?'. */
static void
label_text(const unsigned char *label, char out[LABEL_BYTES + 1])
{
	size_t n = LABEL_BYTES, i;

	while (n > 0 && label[n - 1] == ' ')
		n--;
	for (i = 0; i < n; i++)
		out[i] = label[i] >= 0x20 && label[i] < 0x7f ? (char)label[i] :
							       '?';
	out[n] = '\0';
}

/* uri parsed from text; 0, or a CERTAUTH_ERR_* code with why set. */
static int
check_uri(const char *text, P11KitUri *uri, struct certauth_reason *why)
{
	int rc;

	if ((rc = p11_kit_uri_parse(text, P11_KIT_URI_FOR_ANY, uri)) !=
	    P11_KIT_URI_OK) {
		certauth_reason_set(why, "cannot read the PKCS#11 URI %s: %s",
		    text, p11_kit_uri_message(rc));
		return CERTAUTH_ERR_FORMAT;
	}
	if (p11_kit_uri_any_unrecognized(uri)) {
		certauth_reason_set(why,
		    "the PKCS#11 URI %s has attributes this program does not "
		    "know: refusing to guess which key it names",
		    text);
		return CERTAUTH_ERR_FORMAT;
	}
	if (p11_kit_uri_get_pin_value(uri) != NULL) {
		certauth_reason_set(why,
		    "pin-value in a PKCS#11 URI is refused: a PIN on a command "
		    "line is visible to other users; use pin-source=FILE, or "
		    "let the PIN be asked for");
		return CERTAUTH_ERR_CONFIG;
	}
	return 0;
}

int
certauth_p11token_check_login_uri(const char *uri, struct certauth_reason *why)
{
	P11KitUri *u = NULL;
	int rc, r = CERTAUTH_ERR_CONFIG;

	if ((u = p11_kit_uri_new()) == NULL) {
		certauth_reason_set(why, "%s",
		    certauth_strerror(CERTAUTH_ERR_NOMEM));
		return CERTAUTH_ERR_NOMEM;
	}
	if ((rc = p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, u)) !=
	    P11_KIT_URI_OK) {
		certauth_reason_set(why,
		    "option pkcs11_uri: cannot read %s: %s", uri,
		    p11_kit_uri_message(rc));
		goto out;
	}
	if (p11_kit_uri_any_unrecognized(u)) {
		certauth_reason_set(why,
		    "option pkcs11_uri: %s has attributes p11-kit does not know",
		    uri);
		goto out;
	}
	if (p11_kit_uri_get_pin_value(u) != NULL ||
	    p11_kit_uri_get_pin_source(u) != NULL) {
		certauth_reason_set(why,
		    "option pkcs11_uri: %s is refused: the PIN is asked "
		    "through the conversation",
		    p11_kit_uri_get_pin_value(u) != NULL ? "pin-value" :
							   "pin-source");
		goto out;
	}
	if (p11_kit_uri_get_module_path(u) != NULL) {
		certauth_reason_set(why,
		    "option pkcs11_uri: module-path is refused: name the "
		    "module with pkcs11_module, which is checked as a file "
		    "the module trusts");
		goto out;
	}
	r = 0;
out:
	p11_kit_uri_free(u);
	return r;
}

/* Where the tokens are looked for, in messages. */
static const char *
where(const struct certauth_p11token *t)
{
	return t->module != NULL ? t->module : "p11-kit's modules";
}

/* Whether path is p11-kit's proxy, which stands for p11-kit's modules. */
static int
is_proxy(const char *path)
{
	const char *base = strrchr(path, '/');

	return strcmp(path, CERTAUTH_P11KIT_PROXY) == 0 ||
	    strcmp(base != NULL ? base + 1 : path, "p11-kit-proxy.so") == 0;
}

/*
 * The module at t->module, or every module p11-kit is configured with
 * (what its proxy module would offer), loaded and initialised into
 * t->mods.  Returns 0 or a CERTAUTH_ERR_* code with why set.
 */
static int
load_modules(struct certauth_p11token *t, struct certauth_reason *why)
{
	const char *msg;
	CK_RV rv;

	if (t->module == NULL) {
		if ((t->mods = p11_kit_modules_load_and_initialize(0)) != NULL)
			return 0;
		msg = p11_kit_message();
		certauth_reason_set(why, "cannot load p11-kit's modules: %s",
		    msg != NULL ? msg : "unknown error");
		return CERTAUTH_ERR_IO;
	}
	if ((t->mods = calloc(2, sizeof(*t->mods))) == NULL) {
		certauth_reason_set(why, "%s",
		    certauth_strerror(CERTAUTH_ERR_NOMEM));
		return CERTAUTH_ERR_NOMEM;
	}
	if ((t->mods[0] = p11_kit_module_load(t->module, 0)) == NULL) {
		msg = p11_kit_message();
		certauth_reason_set(why,
		    "cannot load the PKCS#11 module %s: %s", t->module,
		    msg != NULL ? msg : "unknown error");
		return CERTAUTH_ERR_IO;
	}
	if ((rv = p11_kit_module_initialize(t->mods[0])) != CKR_OK) {
		certauth_reason_set(why,
		    "cannot start the PKCS#11 module %s: %s", t->module,
		    p11_kit_strerror(rv));
		p11_kit_module_release(t->mods[0]);
		t->mods[0] = NULL;
		return CERTAUTH_ERR_IO;
	}
	return 0;
}

/* Whether module fl is one the URI's module-name and library-* allow. */
static int
module_matches(struct certauth_p11token *t, CK_FUNCTION_LIST *fl)
{
	const char *want = p11_kit_uri_get_module_name(t->uri);
	char *name = NULL;
	CK_INFO info;
	int ok;

	if (fl->C_GetInfo(&info) != CKR_OK ||
	    !p11_kit_uri_match_module_info(t->uri, &info))
		return 0;
	if (want == NULL)
		return 1;
	name = p11_kit_module_get_name(fl);
	ok = name != NULL && strcmp(name, want) == 0;
	free(name);
	return ok;
}

/*
 * Whether the initialised token in slot of fl matches the URI; its label
 * into label ("" for a slot without an initialised token).
 */
static int
slot_matches(struct certauth_p11token *t, CK_FUNCTION_LIST *fl, CK_SLOT_ID slot,
    char label[LABEL_BYTES + 1])
{
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_SLOT_ID want = p11_kit_uri_get_slot_id(t->uri);

	label[0] = '\0';
	if (fl->C_GetSlotInfo(slot, &si) != CKR_OK ||
	    fl->C_GetTokenInfo(slot, &ti) != CKR_OK ||
	    !(ti.flags & CKF_TOKEN_INITIALIZED))
		return 0;
	label_text(ti.label, label);
	if (want != (CK_SLOT_ID)-1 && want != slot)
		return 0;
	return p11_kit_uri_match_slot_info(t->uri, &si) &&
	    p11_kit_uri_match_token_info(t->uri, &ti);
}

/* Append "'label'" (comma-separated) to a list of at most size bytes. */
static void
list_add(char *list, size_t size, const char *label)
{
	size_t used = strlen(list);

	if (used < size)
		snprintf(list + used, size - used, "%s'%s'", used ? ", " : "",
		    label);
}

/*
 * The tokens of module fl: the matching ones counted in *found (the
 * first into t), every initialised one's label added to all.  A module
 * that cannot list its slots has none, and so has one that says it
 * wrote more slots than the room it was given.  Returns 0 or
 * CERTAUTH_ERR_NOMEM.
 */
/*
 * The slots with a token present of module fl into *slots (malloc'd, or
 * NULL) and *n.  A module that cannot list them has none, and so has one
 * that says it wrote more than the room it was given.  Returns 0, or
 * CERTAUTH_ERR_NOMEM (also for a module that announces more than
 * SLOTS_MAX).
 */
static int
module_slots(CK_FUNCTION_LIST *fl, CK_SLOT_ID **slots, CK_ULONG *n)
{
	CK_ULONG room;

	*slots = NULL;
	*n = 0;
	if (fl->C_GetSlotList(CK_TRUE, NULL, n) != CKR_OK || *n == 0) {
		*n = 0;
		return 0;
	}
	if (*n > SLOTS_MAX || (*slots = calloc(*n, sizeof(**slots))) == NULL) {
		*n = 0;
		return CERTAUTH_ERR_NOMEM;
	}
	room = *n;
	if (fl->C_GetSlotList(CK_TRUE, *slots, n) != CKR_OK || *n > room)
		*n = 0;
	return 0;
}

static int
scan_module(struct certauth_p11token *t, CK_FUNCTION_LIST *fl, int *found,
    char *all, size_t size)
{
	char label[LABEL_BYTES + 1];
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i;
	int match = module_matches(t, fl);

	if (module_slots(fl, &slots, &n) != 0)
		return CERTAUTH_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (slot_matches(t, fl, slots[i], label) && match &&
		    (*found)++ == 0) {
			t->fl = fl;
			t->slot = slots[i];
			memcpy(t->label, label, sizeof(label));
		}
		if (label[0] != '\0')
			list_add(all, size, label);
	}
	free(slots);
	return 0;
}

/* Why no token matches the URI, naming the tokens there (all). */
static void
no_token(const struct certauth_p11token *t, const char *all,
    struct certauth_reason *why)
{
	if (all[0] == '\0')
		certauth_reason_set(why,
		    "no token matches %s: %s have no token present", t->text,
		    where(t));
	else
		certauth_reason_set(why,
		    "no token matches %s (tokens in %s: %s)", t->text, where(t),
		    all);
}

/* The one token the URI matches, into t->fl, t->slot and t->label. */
static int
pick_token(struct certauth_p11token *t, struct certauth_reason *why)
{
	char all[TOKEN_LIST_MAX] = "";
	size_t i;
	int found = 0, r;

	for (i = 0; t->mods[i] != NULL; i++)
		if ((r = scan_module(t, t->mods[i], &found, all,
			 sizeof(all))) != 0) {
			certauth_reason_set(why, "%s", certauth_strerror(r));
			return r;
		}
	if (found == 1)
		return 0;
	if (found > 1) {
		certauth_reason_set(why,
		    "%d tokens match %s (tokens in %s: %s): name one with "
		    "token=",
		    found, t->text, where(t), all);
		return CERTAUTH_ERR_CONFIG;
	}
	no_token(t, all, why);
	return CERTAUTH_ERR_NOT_FOUND;
}

/*
 * Whether fl is a trust module (p11-kit's "trust-policy: yes", which
 * p11-kit-trust has): its tokens hold CA certificates, never a user's.
 */
static int
is_trust_module(CK_FUNCTION_LIST *fl)
{
	char *v = p11_kit_config_option(fl, "trust-policy");
	int yes = v != NULL &&
	    (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0);

	free(v);
	return yes || (p11_kit_module_get_flags(fl) & P11_KIT_MODULE_TRUSTED);
}

/* A new token object for text, its URI parsed and its modules loaded. */
static int
start(const char *uri, const char *module, struct certauth_p11token **out,
    struct certauth_reason *why)
{
	struct certauth_p11token *t = NULL;
	int r = CERTAUTH_ERR_NOMEM;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->uri = p11_kit_uri_new()) == NULL ||
	    (t->text = strdup(uri)) == NULL) {
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	if ((r = check_uri(uri, t->uri, why)) != 0)
		goto out;
	t->module = p11_kit_uri_get_module_path(t->uri);
	if (t->module == NULL && module != NULL && module[0] != '\0')
		t->module = module;
	if (t->module != NULL && is_proxy(t->module))
		t->module = NULL;
	if ((r = load_modules(t, why)) != 0)
		goto out;
	*out = t;
	t = NULL;
out:
	certauth_p11token_close(t);
	return r;
}

/* A session on the token in slot of fl, into t.  0 or CERTAUTH_ERR_IO. */
static int
open_session(struct certauth_p11token *t, struct certauth_reason *why)
{
	CK_RV rv;

	if ((rv = t->fl->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL,
		 &t->session)) != CKR_OK) {
		certauth_reason_set(why,
		    "cannot open a session on token '%s': %s", t->label,
		    p11_kit_strerror(rv));
		return CERTAUTH_ERR_IO;
	}
	t->have_session = 1;
	return 0;
}

/* Try the token in slot of fl: opened, then kept if want says so. */
static int
try_slot(struct certauth_p11token *t, CK_FUNCTION_LIST *fl, CK_SLOT_ID slot,
    const char *label, int (*want)(void *, struct certauth_p11token *),
    void *arg, struct certauth_reason *why)
{
	int r;

	t->fl = fl;
	t->slot = slot;
	snprintf(t->label, sizeof(t->label), "%s", label);
	if ((r = open_session(t, why)) != 0)
		return r;
	if ((r = want(arg, t)) != 0)
		return r > 0 ? 1 : r;
	t->fl->C_CloseSession(t->session);
	t->have_session = 0;
	return 0;
}

/*
 * The matching tokens of module fl, in slot order, offered to want
 * until it keeps one (1).  Their labels go to all.  A module that says
 * it wrote more slots than the room it was given has none.  0 when none
 * was kept, 1, or a failure.
 */
static int
offer_module(struct certauth_p11token *t, CK_FUNCTION_LIST *fl, int *found,
    char *all, size_t size, int (*want)(void *, struct certauth_p11token *),
    void *arg, struct certauth_reason *why)
{
	char label[LABEL_BYTES + 1];
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i;
	int r = 0;

	if (!module_matches(t, fl) ||
	    (t->module == NULL && is_trust_module(fl)))
		return 0;
	if (module_slots(fl, &slots, &n) != 0) {
		certauth_reason_set(why, "%s",
		    certauth_strerror(CERTAUTH_ERR_NOMEM));
		return CERTAUTH_ERR_NOMEM;
	}
	for (i = 0; i < n && r == 0; i++) {
		int match = slot_matches(t, fl, slots[i], label);

		if (label[0] != '\0')
			list_add(all, size, label);
		if (!match)
			continue;
		(*found)++;
		r = try_slot(t, fl, slots[i], label, want, arg, why);
	}
	free(slots);
	return r;
}

int
certauth_p11token_open_first(const char *uri, const char *module,
    int (*want)(void *arg, struct certauth_p11token *t), void *arg,
    struct certauth_p11token **out, int *found, struct certauth_reason *why)
{
	struct certauth_p11token *t = NULL;
	char all[TOKEN_LIST_MAX] = "";
	size_t i;
	int r;

	*out = NULL;
	*found = 0;
	if ((r = start(uri, module, &t, why)) != 0)
		return r;
	for (i = 0, r = 0; t->mods[i] != NULL && r == 0; i++)
		r = offer_module(t, t->mods[i], found, all, sizeof(all), want,
		    arg, why);
	if (r == 1) {
		*out = t;
		return 0;
	}
	if (r < 0) {
		certauth_p11token_close(t);
		return r;
	}
	if (*found != 0)
		certauth_reason_set(why, "%s", all);
	else
		no_token(t, all, why);
	certauth_p11token_close(t);
	return CERTAUTH_ERR_NOT_FOUND;
}

int
certauth_p11token_open(const char *uri, const char *module,
    struct certauth_p11token **out, struct certauth_reason *why)
{
	struct certauth_p11token *t = NULL;
	int r;

	*out = NULL;
	if ((r = start(uri, module, &t, why)) != 0 ||
	    (r = pick_token(t, why)) != 0 || (r = open_session(t, why)) != 0) {
		certauth_p11token_close(t);
		return r;
	}
	*out = t;
	return 0;
}

const char *
certauth_p11token_label(const struct certauth_p11token *t)
{
	return t->label;
}

const char *
certauth_p11token_pin_source(const struct certauth_p11token *t)
{
	return p11_kit_uri_get_pin_source(t->uri);
}

CK_KEY_TYPE
certauth_p11token_key_type(const struct certauth_p11token *t)
{
	return t->key_type;
}

/* Whether rv says the token or its session is gone: pulled out. */
static int
gone(CK_RV rv)
{
	return rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
	    rv == CKR_SESSION_CLOSED || rv == CKR_SESSION_HANDLE_INVALID ||
	    rv == CKR_TOKEN_NOT_RECOGNIZED;
}

static int
token_flags(struct certauth_p11token *t, CK_FLAGS *flags)
{
	CK_TOKEN_INFO ti;

	if (t->fl->C_GetTokenInfo(t->slot, &ti) != CKR_OK)
		return -1;
	*flags = ti.flags;
	return 0;
}

static int
pin_locked(const struct certauth_p11token *t, struct certauth_reason *why)
{
	certauth_reason_set(why,
	    "the PIN of token '%s' is locked: it must be unblocked with its "
	    "security officer PIN",
	    t->label);
	return CERTAUTH_ERR_KEY_REFUSED;
}

int
certauth_p11token_prepare_login(struct certauth_p11token *t, int *need_pin,
    struct certauth_reason *why)
{
	CK_FLAGS flags = 0;

	*need_pin = 0;
	if (token_flags(t, &flags) != 0) {
		certauth_reason_set(why, "cannot read the state of token '%s'",
		    t->label);
		return CERTAUTH_ERR_IO;
	}
	if (flags & CKF_USER_PIN_LOCKED)
		return pin_locked(t, why);
	if (!(flags & CKF_LOGIN_REQUIRED))
		return 0;
	if (!(flags & CKF_PROTECTED_AUTHENTICATION_PATH)) {
		*need_pin = 1;
		return 0;
	}
	/* The token's own PIN pad or reader asks. */
	return certauth_p11token_login(t, NULL, 0, why);
}

int
certauth_p11token_login(struct certauth_p11token *t, const char *pin,
    size_t len, struct certauth_reason *why)
{
	CK_FLAGS flags = 0;
	CK_RV rv;

	rv = t->fl->C_Login(t->session, CKU_USER, (unsigned char *)pin,
	    (CK_ULONG)len);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		t->logged_in = 1;
		return 0;
	}
	if (rv == CKR_PIN_LOCKED)
		return pin_locked(t, why);
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE) {
		if (token_flags(t, &flags) == 0 &&
		    (flags & CKF_USER_PIN_LOCKED))
			certauth_reason_set(why,
			    "wrong PIN for token '%s': the PIN is now locked",
			    t->label);
		else
			certauth_reason_set(why, "wrong PIN for token '%s'%s",
			    t->label,
			    flags & CKF_USER_PIN_FINAL_TRY ?
				" (one try left before the PIN locks)" :
				"");
		return CERTAUTH_ERR_KEY_REFUSED;
	}
	if (gone(rv)) {
		certauth_reason_set(why,
		    "token '%s' was removed before the PIN could be checked",
		    t->label);
		return CERTAUTH_ERR_IO;
	}
	certauth_reason_set(why, "cannot log in to token '%s': %s", t->label,
	    p11_kit_strerror(rv));
	return CERTAUTH_ERR_IO;
}

/*
 * Attribute type of object h into *val (malloc'd, *len bytes).  Returns
 * 0, CERTAUTH_ERR_NOT_FOUND when the object has none or hides it,
 * CERTAUTH_ERR_TOO_LONG past ATTR_MAX_BYTES, or CERTAUTH_ERR_IO for a
 * token that gives another length when the value is read than when it
 * was asked for its length (the bytes are never looked at).
 */
static int
get_attr(struct certauth_p11token *t, CK_OBJECT_HANDLE h,
    CK_ATTRIBUTE_TYPE type, unsigned char **val, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_ULONG want;
	CK_RV rv;

	*val = NULL;
	if (t->fl->C_GetAttributeValue(t->session, h, &a, 1) != CKR_OK ||
	    a.ulValueLen == (CK_ULONG)-1 || a.ulValueLen == 0)
		return CERTAUTH_ERR_NOT_FOUND;
	if (a.ulValueLen > ATTR_MAX_BYTES)
		return CERTAUTH_ERR_TOO_LONG;
	want = a.ulValueLen;
	if ((a.pValue = malloc(want)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	rv = t->fl->C_GetAttributeValue(t->session, h, &a, 1);
	if (rv != CKR_OK || a.ulValueLen != want) {
		free(a.pValue);
		return rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL ?
		    CERTAUTH_ERR_IO :
		    CERTAUTH_ERR_NOT_FOUND;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return 0;
}

/* Up to max objects matching tmpl into hs; their number, or -1. */
static long
find_objects(struct certauth_p11token *t, CK_ATTRIBUTE *tmpl, CK_ULONG n,
    CK_OBJECT_HANDLE *hs, CK_ULONG max)
{
	CK_ULONG got = 0;
	CK_RV rv;

	if (t->fl->C_FindObjectsInit(t->session, tmpl, n) != CKR_OK)
		return -1;
	rv = t->fl->C_FindObjects(t->session, hs, max, &got);
	t->fl->C_FindObjectsFinal(t->session);
	return rv == CKR_OK && got <= max ? (long)got : -1;
}

/*
 * An attribute that is absent, hidden or over the cap is no source of a
 * public key; only a failed allocation is an error.  get_attr's code as
 * one of those: 0 or CERTAUTH_ERR_NOMEM.
 */
static int
attr_error(int r)
{
	return r == CERTAUTH_ERR_NOMEM ? r : 0;
}

/*
 * An RSA public key from a key object's modulus and exponent into *out,
 * NULL when the object has none.  0 or CERTAUTH_ERR_NOMEM.
 */
static int
rsa_from_object(struct certauth_p11token *t, CK_OBJECT_HANDLE h, EVP_PKEY **out)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nlen = 0, elen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if ((r = get_attr(t, h, CKA_MODULUS, &n, &nlen)) != 0 ||
	    (r = get_attr(t, h, CKA_PUBLIC_EXPONENT, &e, &elen)) != 0) {
		r = attr_error(r);
		goto out;
	}
	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)elen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	*out = pkey;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return r;
}

/*
 * The public key in attribute CKA_PUBLIC_KEY_INFO (SPKI) of h into
 * *out, NULL when h has none.  0 or CERTAUTH_ERR_NOMEM.
 */
static int
spki_of(struct certauth_p11token *t, CK_OBJECT_HANDLE h, EVP_PKEY **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if ((r = get_attr(t, h, CKA_PUBLIC_KEY_INFO, &der, &len)) != 0)
		return attr_error(r);
	p = der;
	*out = d2i_PUBKEY(NULL, &p, (long)len);
	free(der);
	return 0;
}

/*
 * The key of the X.509 certificate object h into *out, NULL when h has
 * no certificate.  0 or CERTAUTH_ERR_NOMEM.
 */
static int
cert_key_of(struct certauth_p11token *t, CK_OBJECT_HANDLE h, EVP_PKEY **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	X509 *x = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if ((r = get_attr(t, h, CKA_VALUE, &der, &len)) != 0)
		return attr_error(r);
	p = der;
	if ((x = d2i_X509(NULL, &p, (long)len)) != NULL)
		*out = X509_get_pubkey(x);
	X509_free(x);
	free(der);
	return 0;
}

/*
 * The public key of an object of class cls with id into *out, NULL when
 * there is none.  0 or CERTAUTH_ERR_NOMEM.
 */
static int
key_of_id(struct certauth_p11token *t, CK_OBJECT_CLASS cls, unsigned char *id,
    size_t idlen, EVP_PKEY **out)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, id, (CK_ULONG)idlen },
	};
	CK_OBJECT_HANDLE h;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if (find_objects(t, tmpl, 2, &h, 1) != 1)
		return 0;
	if (cls == CKO_CERTIFICATE)
		return cert_key_of(t, h, out);
	if ((r = spki_of(t, h, out)) != 0 || *out != NULL)
		return r;
	return rsa_from_object(t, h, out);
}

/*
 * The public half of private key h as the token knows it into *out: its
 * own SPKI, a certificate or public key of the same id, or an RSA key's
 * modulus; NULL when the token holds none of these.  0, or
 * CERTAUTH_ERR_NOMEM: a source that could not be read for want of
 * memory is not passed over for the next.
 */
static int
public_of(struct certauth_p11token *t, CK_OBJECT_HANDLE h, EVP_PKEY **out)
{
	unsigned char *id = NULL;
	size_t idlen = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if ((r = spki_of(t, h, out)) != 0 || *out != NULL)
		return r;
	if ((r = get_attr(t, h, CKA_ID, &id, &idlen)) != 0) {
		if ((r = attr_error(r)) != 0)
			return r;
	} else if ((r = key_of_id(t, CKO_CERTIFICATE, id, idlen, out)) != 0 ||
	    (*out == NULL &&
		(r = key_of_id(t, CKO_PUBLIC_KEY, id, idlen, out)) != 0)) {
		free(id);
		return r;
	}
	free(id);
	if (*out != NULL)
		return 0;
	return rsa_from_object(t, h, out);
}

/*
 * The template of the URI's object attributes (object=, id=) with class
 * cls in place of its own, into tmpl (room for max); its length.
 */
static CK_ULONG
uri_template(struct certauth_p11token *t, CK_ATTRIBUTE *cls_attr,
    CK_ATTRIBUTE *tmpl, CK_ULONG max)
{
	CK_ATTRIBUTE *attrs;
	CK_ULONG nattrs = 0, i, k = 0;

	attrs = p11_kit_uri_get_attributes(t->uri, &nattrs);
	tmpl[k++] = *cls_attr;
	for (i = 0; i < nattrs && k < max; i++)
		if (attrs[i].type != CKA_CLASS)
			tmpl[k++] = attrs[i];
	return k;
}

/*
 * The private keys the URI's object attributes match, up to KEYS_MAX;
 * their number into *n.  Returns 0 or a CERTAUTH_ERR_* code.
 */
static int
find_private_keys(struct certauth_p11token *t, CK_OBJECT_HANDLE *hs, long *n,
    struct certauth_reason *why)
{
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE priv_attr = { CKA_CLASS, &priv, sizeof(priv) };
	CK_ATTRIBUTE tmpl[8], *cls;
	CK_ULONG k;

	cls = p11_kit_uri_get_attribute(t->uri, CKA_CLASS);
	if (cls != NULL &&
	    (cls->ulValueLen != sizeof(priv) ||
		memcmp(cls->pValue, &priv, sizeof(priv)) != 0)) {
		certauth_reason_set(why,
		    "%s names an object that is not a private key (type= "
		    "must be private or left out)",
		    t->text);
		return CERTAUTH_ERR_CONFIG;
	}
	k = uri_template(t, &priv_attr, tmpl, sizeof(tmpl) / sizeof(tmpl[0]));
	if ((*n = find_objects(t, tmpl, k, hs, KEYS_MAX)) < 0) {
		certauth_reason_set(why, "cannot search token '%s' for keys",
		    t->label);
		return CERTAUTH_ERR_IO;
	}
	if (*n == 0) {
		certauth_reason_set(why,
		    "token '%s' holds no private key matching %s", t->label,
		    t->text);
		return CERTAUTH_ERR_NOT_FOUND;
	}
	return 0;
}

/*
 * Certificate object h as one DER certificate into *out, or a reason
 * in why: unreadable, over ATTR_MAX_BYTES, not DER, or bytes after it.
 */
static int
read_cert(struct certauth_p11token *t, CK_OBJECT_HANDLE h, long nth, X509 **out,
    struct certauth_reason *why)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = get_attr(t, h, CKA_VALUE, &der, &len)) != 0) {
		if (r == CERTAUTH_ERR_TOO_LONG)
			certauth_reason_set(why,
			    "certificate object %ld on token '%s' is larger "
			    "than %d bytes",
			    nth, t->label, ATTR_MAX_BYTES);
		else if (r == CERTAUTH_ERR_IO)
			certauth_reason_set(why,
			    "certificate object %ld on token '%s' changed "
			    "its length between two reads",
			    nth, t->label);
		else if (r != CERTAUTH_ERR_NOMEM)
			certauth_reason_set(why,
			    "certificate object %ld on token '%s' has no "
			    "value",
			    nth, t->label);
		return r;
	}
	p = der;
	if ((*out = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		certauth_reason_set(why,
		    "certificate object %ld on token '%s' is not one DER "
		    "certificate",
		    nth, t->label);
		X509_free(*out);
		*out = NULL;
		r = CERTAUTH_ERR_FORMAT;
	}
	free(der);
	ERR_clear_error();
	return r;
}

int
certauth_p11token_certs(struct certauth_p11token *t, STACK_OF(X509) **certs,
    int *skipped, struct certauth_reason *skip_why, struct certauth_reason *why)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE x509 = CKC_X_509;
	CK_ATTRIBUTE cls_attr = { CKA_CLASS, &cls, sizeof(cls) };
	CK_ATTRIBUTE tmpl[9];
	CK_OBJECT_HANDLE hs[CERTS_MAX];
	CK_ULONG k;
	X509 *x = NULL;
	long n, i;
	int r;

	*certs = NULL;
	*skipped = 0;
	k = uri_template(t, &cls_attr, tmpl, 8);
	tmpl[k++] = (CK_ATTRIBUTE){ CKA_CERTIFICATE_TYPE, &x509, sizeof(x509) };
	if ((n = find_objects(t, tmpl, k, hs, CERTS_MAX)) < 0) {
		certauth_reason_set(why,
		    "cannot search token '%s' for certificates", t->label);
		return CERTAUTH_ERR_IO;
	}
	if ((*certs = sk_X509_new_null()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		if ((r = read_cert(t, hs[i], i + 1, &x, skip_why)) ==
		    CERTAUTH_ERR_NOMEM)
			goto nomem;
		if (r != 0) {
			(*skipped)++;
			continue;
		}
		if (!sk_X509_push(*certs, x))
			goto nomem;
		x = NULL;
	}
	return 0;
nomem:
	X509_free(x);
	sk_X509_pop_free(*certs, X509_free);
	*certs = NULL;
	certauth_reason_set(why, "%s", certauth_strerror(CERTAUTH_ERR_NOMEM));
	return CERTAUTH_ERR_NOMEM;
}

/* The PKCS#11 key type of object h into *kt.  0 or -1. */
static int
key_type_of(struct certauth_p11token *t, CK_OBJECT_HANDLE h, CK_KEY_TYPE *kt)
{
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, kt, sizeof(*kt) };

	return t->fl->C_GetAttributeValue(t->session, h, &a, 1) == CKR_OK ? 0 :
									    -1;
}

/* Whether a token key of type kt can be the private half of pkey. */
static int
type_fits(CK_KEY_TYPE kt, EVP_PKEY *pkey)
{
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		return kt == CKK_RSA;
	case EVP_PKEY_EC:
		return kt == CKK_EC;
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		return kt == CKK_EC_EDWARDS;
	}
	return 0;
}

/* What a candidate key is to the certificate's key. */
enum { KEY_FITS, KEY_OTHER, KEY_UNKNOWN };

/*
 * Candidate h against want: its public half into *pub (NULL when the
 * token holds none), its type into *kt.  Returns KEY_FITS, KEY_OTHER or
 * KEY_UNKNOWN (want NULL: KEY_FITS when the public half is known), or
 * CERTAUTH_ERR_IO when the key cannot be read, CERTAUTH_ERR_NOMEM.
 */
static int
judge_key(struct certauth_p11token *t, CK_OBJECT_HANDLE h, EVP_PKEY *want,
    EVP_PKEY **pub, CK_KEY_TYPE *kt)
{
	int r = CERTAUTH_ERR_INTERNAL;

	if (key_type_of(t, h, kt) != 0)
		return CERTAUTH_ERR_IO;
	if ((r = public_of(t, h, pub)) != 0)
		return r;
	if (want == NULL)
		return *pub != NULL ? KEY_FITS : KEY_UNKNOWN;
	if (!type_fits(*kt, want))
		return KEY_OTHER;
	if (*pub == NULL)
		return KEY_UNKNOWN;
	return EVP_PKEY_eq(*pub, want) == 1 ? KEY_FITS : KEY_OTHER;
}

/* Why no key was taken, into why; the CERTAUTH_ERR_* code. */
static int
no_key(struct certauth_p11token *t, EVP_PKEY *want, const char *want_name,
    long n, long fits, long unknown, struct certauth_reason *why)
{
	if (want != NULL && fits == 0 && unknown == 0) {
		certauth_reason_set(why,
		    "the key on token '%s' does not belong to the certificate "
		    "%s",
		    t->label, want_name);
		return CERTAUTH_ERR_KEY_REFUSED;
	}
	if (fits + unknown > 1) {
		certauth_reason_set(why,
		    "%ld private keys on token '%s' match %s: name one with "
		    "object= or id=%s",
		    n, t->label, t->text,
		    want == NULL ? ", or give the user's certificate" : "");
		return CERTAUTH_ERR_CONFIG;
	}
	certauth_reason_set(why,
	    "token '%s' holds no public key or certificate for the key %s: "
	    "give the user's certificate",
	    t->label, t->text);
	return CERTAUTH_ERR_NOT_FOUND;
}

int
certauth_p11token_find_key(struct certauth_p11token *t, EVP_PKEY *want,
    const char *want_name, EVP_PKEY **pub, int *unchecked,
    struct certauth_reason *why)
{
	CK_OBJECT_HANDLE hs[KEYS_MAX];
	CK_KEY_TYPE kts[KEYS_MAX];
	EVP_PKEY *cand[KEYS_MAX] = { NULL };
	long n = 0, i, pick = -1, fits = 0, unknown = 0;
	int r = CERTAUTH_ERR_INTERNAL, v;

	*pub = NULL;
	*unchecked = 0;
	if ((r = find_private_keys(t, hs, &n, why)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((v = judge_key(t, hs[i], want, &cand[i], &kts[i])) < 0) {
			r = v;
			if (r == CERTAUTH_ERR_NOMEM)
				certauth_reason_set(why, "%s",
				    certauth_strerror(r));
			else
				certauth_reason_set(why,
				    "cannot read a key of token '%s'",
				    t->label);
			goto out;
		}
		if (v == KEY_FITS && fits++ == 0)
			pick = i;
		unknown += v == KEY_UNKNOWN;
	}
	/* A key the token cannot tell apart: the first signature will. */
	if (fits == 0 && unknown == 1 && n == 1 && want != NULL &&
	    EVP_PKEY_up_ref(want) == 1) {
		EVP_PKEY_free(cand[0]);
		cand[0] = want;
		pick = 0;
		*unchecked = 1;
	} else if (fits != 1 || (want == NULL && unknown != 0)) {
		r = no_key(t, want, want_name, n, fits, unknown, why);
		goto out;
	}
	t->key = hs[pick];
	t->key_type = kts[pick];
	*pub = cand[pick];
	cand[pick] = NULL;
	r = 0;
out:
	for (i = 0; i < n; i++)
		EVP_PKEY_free(cand[i]);
	return r;
}

int
certauth_p11token_sign(struct certauth_p11token *t, CK_MECHANISM *mech,
    const unsigned char *in, size_t inlen, unsigned char **out, size_t *outlen,
    struct certauth_reason *why)
{
	unsigned char *buf = NULL;
	CK_ULONG len = 0, room;
	CK_RV rv;
	int r = CERTAUTH_ERR_IO;

	*out = NULL;
	if ((rv = t->fl->C_SignInit(t->session, mech, t->key)) != CKR_OK ||
	    (rv = t->fl->C_Sign(t->session, (unsigned char *)in,
		 (CK_ULONG)inlen, NULL, &len)) != CKR_OK)
		goto fail;
	if (len == 0 || len > SIG_MAX_BYTES) {
		certauth_reason_set(why,
		    "token '%s' announced a signature of %lu bytes (at most "
		    "%d are taken)",
		    t->label, (unsigned long)len, SIG_MAX_BYTES);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	room = len;
	if ((buf = malloc(room)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	if ((rv = t->fl->C_Sign(t->session, (unsigned char *)in,
		 (CK_ULONG)inlen, buf, &len)) != CKR_OK)
		goto fail;
	/* The bytes past the room were never written: none is read. */
	if (len > room) {
		certauth_reason_set(why,
		    "token '%s' said it wrote a signature of %lu bytes into "
		    "room for %lu",
		    t->label, (unsigned long)len, (unsigned long)room);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	r = 0;
	goto out;
fail:
	if (gone(rv)) {
		certauth_reason_set(why,
		    "token '%s' was removed before it signed", t->label);
		goto out;
	}
	if (rv == CKR_MECHANISM_INVALID ||
	    rv == CKR_KEY_FUNCTION_NOT_PERMITTED ||
	    rv == CKR_KEY_TYPE_INCONSISTENT)
		r = CERTAUTH_ERR_KEY_REFUSED;
	certauth_reason_set(why, "token '%s' cannot sign with the key: %s",
	    t->label, p11_kit_strerror(rv));
out:
	free(buf);
	return r;
}

/* The PKCS#11 hash and MGF1 mechanisms of md; 0 or -1. */
static int
pss_params(const EVP_MD *md, CK_RSA_PKCS_PSS_PARAMS *p)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha256:
		*p = (CK_RSA_PKCS_PSS_PARAMS){ CKM_SHA256, CKG_MGF1_SHA256,
			32 };
		return 0;
	case NID_sha384:
		*p = (CK_RSA_PKCS_PSS_PARAMS){ CKM_SHA384, CKG_MGF1_SHA384,
			48 };
		return 0;
	case NID_sha512:
		*p = (CK_RSA_PKCS_PSS_PARAMS){ CKM_SHA512, CKG_MGF1_SHA512,
			64 };
		return 0;
	}
	return -1;
}

/* DigestInfo { md, h } (PKCS#1 v1.5), malloc'd into *out.  0 or -1. */
static int
digest_info(const EVP_MD *md, const unsigned char *h, unsigned int hlen,
    unsigned char **out, size_t *outlen)
{
	X509_SIG *xs = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_OCTET_STRING *dig = NULL;
	unsigned char *der = NULL, *p;
	int len = -1;

	*out = NULL;
	if ((xs = X509_SIG_new()) == NULL)
		goto out;
	X509_SIG_getm(xs, &alg, &dig);
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL,
		NULL) != 1 ||
	    ASN1_OCTET_STRING_set(dig, h, (int)hlen) != 1 ||
	    (len = i2d_X509_SIG(xs, NULL)) <= 0 ||
	    (der = malloc((size_t)len)) == NULL)
		goto out;
	p = der;
	if (i2d_X509_SIG(xs, &p) != len)
		goto out;
	*out = der;
	*outlen = (size_t)len;
	der = NULL;
out:
	free(der);
	X509_SIG_free(xs);
	return *out != NULL ? 0 : -1;
}

/*
 * ECDSA's r||s as the DER SEQUENCE { r, s } (malloc'd).  0,
 * CERTAUTH_ERR_FORMAT for an empty or odd length, or CERTAUTH_ERR_NOMEM.
 */
static int
ecdsa_der(const unsigned char *raw, size_t len, unsigned char **out,
    size_t *outlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL, *p;
	int n = -1;

	*out = NULL;
	if (len == 0 || len % 2 != 0)
		return CERTAUTH_ERR_FORMAT;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(raw, (int)(len / 2), NULL)) == NULL ||
	    (s = BN_bin2bn(raw + len / 2, (int)(len / 2), NULL)) == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;
	if ((n = i2d_ECDSA_SIG(es, NULL)) <= 0 ||
	    (der = malloc((size_t)n)) == NULL)
		goto out;
	p = der;
	if (i2d_ECDSA_SIG(es, &p) != n)
		goto out;
	*out = der;
	*outlen = (size_t)n;
	der = NULL;
out:
	free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return *out != NULL ? 0 : CERTAUTH_ERR_NOMEM;
}

/* What the token is given for an RSA or EC key: mech and *in (malloc'd). */
static int
hashed_input(EVP_PKEY *pub, const EVP_MD *md, int pss, const unsigned char *h,
    unsigned int hlen, CK_MECHANISM *mech, CK_RSA_PKCS_PSS_PARAMS *pp,
    unsigned char **in, size_t *inlen)
{
	int id = EVP_PKEY_get_base_id(pub);
	size_t order_bytes;

	if (id == EVP_PKEY_EC) {
		/* ECDSA uses the hash's leftmost bits, as many as the
		 * order has; P-256 and P-384 orders are whole bytes. */
		order_bytes = (size_t)(EVP_PKEY_get_bits(pub) + 7) / 8;
		*mech = (CK_MECHANISM){ CKM_ECDSA, NULL, 0 };
		*inlen = hlen < order_bytes ? hlen : order_bytes;
		if ((*in = malloc(*inlen)) == NULL)
			return -1;
		memcpy(*in, h, *inlen);
		return 0;
	}
	if (pss || id == EVP_PKEY_RSA_PSS) {
		if (pss_params(md, pp) != 0)
			return -1;
		*mech = (CK_MECHANISM){ CKM_RSA_PKCS_PSS, pp, sizeof(*pp) };
		*inlen = hlen;
		if ((*in = malloc(hlen)) == NULL)
			return -1;
		memcpy(*in, h, hlen);
		return 0;
	}
	*mech = (CK_MECHANISM){ CKM_RSA_PKCS, NULL, 0 };
	return digest_info(md, h, hlen, in, inlen);
}

int
certauth_p11token_sign_message(struct certauth_p11token *t, EVP_PKEY *pub,
    const EVP_MD *md, int pss, const unsigned char *msg, size_t len,
    unsigned char **sig, size_t *siglen, struct certauth_reason *why)
{
	unsigned char h[EVP_MAX_MD_SIZE], *in = NULL, *raw = NULL;
	unsigned int hlen = 0;
	size_t inlen = 0, rawlen = 0;
	CK_MECHANISM mech;
	CK_RSA_PKCS_PSS_PARAMS pp;
	int id = EVP_PKEY_get_base_id(pub), r = CERTAUTH_ERR_INTERNAL;

	if (id == EVP_PKEY_ED25519) {
		mech = (CK_MECHANISM){ CKM_EDDSA, NULL, 0 };
		r = certauth_p11token_sign(t, &mech, msg, len, sig, siglen,
		    why);
		goto out;
	}
	if (id == EVP_PKEY_ED448) {
		certauth_reason_set(why,
		    "Ed448 keys on a token are not "
		    "supported");
		r = CERTAUTH_ERR_KEY_REFUSED;
		goto out;
	}
	if (EVP_Digest(msg, len, h, &hlen, md, NULL) != 1 ||
	    hashed_input(pub, md, pss, h, hlen, &mech, &pp, &in, &inlen) != 0) {
		certauth_reason_set(why, "cannot prepare the data to sign");
		goto out;
	}
	if (id != EVP_PKEY_EC) {
		r = certauth_p11token_sign(t, &mech, in, inlen, sig, siglen,
		    why);
		goto out;
	}
	if ((r = certauth_p11token_sign(t, &mech, in, inlen, &raw, &rawlen,
		 why)) != 0)
		goto out;
	if ((r = ecdsa_der(raw, rawlen, sig, siglen)) != 0) {
		if (r == CERTAUTH_ERR_FORMAT)
			certauth_reason_set(why,
			    "token '%s' returned an ECDSA signature of odd "
			    "length %zu",
			    t->label, rawlen);
		else
			certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	r = 0;
out:
	explicit_bzero(h, sizeof(h));
	free(in);
	free(raw);
	ERR_clear_error();
	return r;
}

int
certauth_p11token_uri_pin(const char *uri)
{
	P11KitUri *u;
	int r = CERTAUTH_P11_PIN_NONE;

	if ((u = p11_kit_uri_new()) == NULL)
		return r;
	if (p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, u) == P11_KIT_URI_OK) {
		if (p11_kit_uri_get_pin_value(u) != NULL)
			r = CERTAUTH_P11_PIN_VALUE;
		else if (p11_kit_uri_get_pin_source(u) != NULL)
			r = CERTAUTH_P11_PIN_SOURCE;
	}
	p11_kit_uri_free(u);
	return r;
}

int
certauth_p11token_needs_login(struct certauth_p11token *t)
{
	CK_FLAGS flags = 0;

	return token_flags(t, &flags) == 0 && (flags & CKF_LOGIN_REQUIRED);
}

/* Whether byte ch stands for itself in a URI's attribute value. */
static int
uri_plain(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
	    ch == '~';
}

/*
 * The len bytes of v as a URI attribute's value into out: every byte but
 * letters, digits and "-._~" (every byte when hex) as %XX, so that what
 * a token holds never reaches a terminal raw; "..." ends a value cut
 * short.
 */
static void
uri_shown(const unsigned char *v, size_t len, int hex,
    char out[CERTAUTH_P11_SHOWN_MAX])
{
	size_t o = 0, i, need;

	for (i = 0; i < len; i++) {
		need = !hex && uri_plain(v[i]) ? 1 : 3;
		if (o + need + 4 > CERTAUTH_P11_SHOWN_MAX) {
			memcpy(out + o, "...", 4);
			return;
		}
		if (need == 1)
			out[o++] = (char)v[i];
		else
			o += (size_t)snprintf(out + o,
			    CERTAUTH_P11_SHOWN_MAX - o, "%%%02X", v[i]);
	}
	out[o] = '\0';
}

/* Attribute type of h shown as uri_shown has it; "" when it has none. */
static void
attr_shown(struct certauth_p11token *t, CK_OBJECT_HANDLE h,
    CK_ATTRIBUTE_TYPE type, int hex, char out[CERTAUTH_P11_SHOWN_MAX])
{
	unsigned char *v = NULL;
	size_t len = 0;
	int r;

	out[0] = '\0';
	if ((r = get_attr(t, h, type, &v, &len)) == 0)
		uri_shown(v, len, hex, out);
	else if (r == CERTAUTH_ERR_TOO_LONG)
		snprintf(out, CERTAUTH_P11_SHOWN_MAX, "...");
	free(v);
}

/* A fixed-size attribute of h (a class, a type) into *v.  0 or -1. */
static int
ulong_attr(struct certauth_p11token *t, CK_OBJECT_HANDLE h,
    CK_ATTRIBUTE_TYPE type, CK_ULONG *v)
{
	CK_ATTRIBUTE a = { type, v, sizeof(*v) };

	return t->fl->C_GetAttributeValue(t->session, h, &a, 1) == CKR_OK &&
		a.ulValueLen == sizeof(*v) ?
	    0 :
	    -1;
}

/*
 * Object h of class cls described into o: its label and id, and for a
 * certificate object the certificate or why there is none.  Returns 0
 * or CERTAUTH_ERR_NOMEM.
 */
static int
describe(struct certauth_p11token *t, CK_OBJECT_HANDLE h, CK_OBJECT_CLASS cls,
    int named, struct certauth_p11token_object *o)
{
	struct certauth_reason ignored = { "", 0 };
	CK_ULONG type = 0;
	int r;

	o->cls = cls;
	o->named = named;
	attr_shown(t, h, CKA_LABEL, 0, o->label);
	attr_shown(t, h, CKA_ID, 1, o->id);
	if (cls != CKO_CERTIFICATE)
		return 0;
	if (ulong_attr(t, h, CKA_CERTIFICATE_TYPE, &type) != 0 ||
	    type != CKC_X_509) {
		o->problem = "not an X.509 certificate";
		return 0;
	}
	r = read_cert(t, h, 0, &o->cert, &ignored);
	if (r == CERTAUTH_ERR_NOMEM)
		return r;
	if (r == CERTAUTH_ERR_TOO_LONG)
		o->problem = "larger than 64 KiB";
	else if (r == CERTAUTH_ERR_FORMAT)
		o->problem = "not one DER certificate";
	else if (r != 0)
		o->problem = "its value cannot be read";
	return 0;
}

/* Whether h is one of the n handles of hs. */
static int
has_handle(const CK_OBJECT_HANDLE *hs, long n, CK_OBJECT_HANDLE h)
{
	long i;

	for (i = 0; i < n; i++)
		if (hs[i] == h)
			return 1;
	return 0;
}

/* The URI's object attributes but type= into tmpl (room for max). */
static CK_ULONG
uri_object_attrs(struct certauth_p11token *t, CK_ATTRIBUTE *tmpl, CK_ULONG max)
{
	CK_ATTRIBUTE *attrs;
	CK_ULONG nattrs = 0, i, k = 0;

	attrs = p11_kit_uri_get_attributes(t->uri, &nattrs);
	for (i = 0; i < nattrs && k < max; i++)
		if (attrs[i].type != CKA_CLASS)
			tmpl[k++] = attrs[i];
	return k;
}

/*
 * The handles of one group of certauth_p11token_objects: room for one
 * more than is listed, which tells that the token has more.
 */
struct group {
	CK_OBJECT_HANDLE hs[LIST_MAX + 1];
	long n;
};

/* Whether the URI's type= is cert or absent; why set if not. */
static int
names_certificates(struct certauth_p11token *t, struct certauth_reason *why)
{
	CK_OBJECT_CLASS want = CKO_CERTIFICATE;
	CK_ATTRIBUTE *cls = p11_kit_uri_get_attribute(t->uri, CKA_CLASS);

	if (cls == NULL ||
	    (cls->ulValueLen == sizeof(want) &&
		memcmp(cls->pValue, &want, sizeof(want)) == 0))
		return 1;
	certauth_reason_set(why,
	    "%s names an object that is not a certificate (type= must be "
	    "cert or left out)",
	    t->text);
	return 0;
}

/*
 * The three groups of certauth_p11token_objects: named certificates,
 * named objects of any class, every certificate.  0 or -1.
 */
static int
find_groups(struct certauth_p11token *t, struct group *named,
    struct group *others, struct group *all)
{
	CK_OBJECT_CLASS cert = CKO_CERTIFICATE;
	CK_ATTRIBUTE cls_attr = { CKA_CLASS, &cert, sizeof(cert) };
	CK_ATTRIBUTE tmpl[8];
	CK_ULONG k;

	k = uri_template(t, &cls_attr, tmpl, 8);
	if ((named->n = find_objects(t, tmpl, k, named->hs, LIST_MAX + 1)) < 0)
		return -1;
	others->n = 0;
	if ((k = uri_object_attrs(t, tmpl, 8)) > 0 &&
	    (others->n = find_objects(t, tmpl, k, others->hs, LIST_MAX + 1)) <
		0)
		return -1;
	all->n = find_objects(t, &cls_attr, 1, all->hs, LIST_MAX + 1);
	return all->n < 0 ? -1 : 0;
}

int
certauth_p11token_objects(struct certauth_p11token *t,
    struct certauth_p11token_object **out, int *n, int *more,
    struct certauth_reason *why)
{
	struct certauth_p11token_object *objs = NULL;
	struct group named, others, all;
	CK_ULONG cls;
	long i;
	int k = 0, r = CERTAUTH_ERR_NOMEM;

	*out = NULL;
	*n = *more = 0;
	if (!names_certificates(t, why))
		return CERTAUTH_ERR_CONFIG;
	if (find_groups(t, &named, &others, &all) != 0) {
		certauth_reason_set(why, "cannot search token '%s' for objects",
		    t->label);
		return CERTAUTH_ERR_IO;
	}
	*more = named.n > LIST_MAX || others.n > LIST_MAX || all.n > LIST_MAX;
	if ((objs = calloc(3 * LIST_MAX, sizeof(*objs))) == NULL)
		goto out;
	for (i = 0; i < named.n && i < LIST_MAX; i++)
		if (describe(t, named.hs[i], CKO_CERTIFICATE, 1, &objs[k++]) !=
		    0)
			goto out;
	for (i = 0; i < others.n && i < LIST_MAX; i++)
		if (ulong_attr(t, others.hs[i], CKA_CLASS, &cls) == 0 &&
		    cls != CKO_CERTIFICATE &&
		    describe(t, others.hs[i], cls, 1, &objs[k++]) != 0)
			goto out;
	for (i = 0; i < all.n && i < LIST_MAX; i++)
		if (!has_handle(named.hs, named.n, all.hs[i]) &&
		    describe(t, all.hs[i], CKO_CERTIFICATE, 0, &objs[k++]) != 0)
			goto out;
	*out = objs;
	*n = k;
	objs = NULL;
	r = 0;
out:
	if (r != 0)
		certauth_reason_set(why, "%s", certauth_strerror(r));
	certauth_p11token_objects_free(objs, k);
	return r;
}

void
certauth_p11token_objects_free(struct certauth_p11token_object *objs, int n)
{
	int i;

	if (objs == NULL)
		return;
	for (i = 0; i < n; i++)
		X509_free(objs[i].cert);
	free(objs);
}

void
certauth_p11token_close(struct certauth_p11token *t)
{
	if (t == NULL)
		return;
	if (t->logged_in)
		t->fl->C_Logout(t->session);
	if (t->have_session)
		t->fl->C_CloseSession(t->session);
	if (t->module == NULL && t->mods != NULL)
		p11_kit_modules_finalize_and_release(t->mods);
	else if (t->mods != NULL) {
		if (t->mods[0] != NULL) {
			p11_kit_module_finalize(t->mods[0]);
			p11_kit_module_release(t->mods[0]);
		}
		free(t->mods);
	}
	p11_kit_uri_free(t->uri);
	free(t->text);
	free(t);
}
