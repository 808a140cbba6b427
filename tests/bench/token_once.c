/*
 * token_once.c - the token's floor of a whole login process: a fresh
 * process that does once what any PAM module signing on a PKCS#11 token
 * cannot leave out.  It loads the PKCS#11 module (dlopen, which brings in
 * the module's own libraries), initialises it, finds the token by label,
 * opens a session, logs in with the PIN, finds the first private key,
 * signs 32 bytes with it (raw ECDSA for an EC key, PKCS#1 v1.5 over a
 * SHA-256 DigestInfo for RSA), then logs out, closes the session and
 * finalises the module.  No certificate is read, nothing is verified.
 *
 * token_bench.py spawns it beside the pamtester logins through
 * pam_certauth and pam_pkcs11, both of which do all of this on every
 * login: its wall time, and the phases it prints, are the part of their
 * time that the token (here SoftHSM2) costs a fresh process.
 *
 *   token_once MODULE TOKEN_LABEL PIN
 *
 * Prints one line, the microseconds of each phase: load init login sign
 * finish.  Exits 0 when the signature was made, 1 otherwise (the
 * benchmark checks, so that a floor that did not sign is never
 * reported).
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

#define MAX_SLOTS 64

/* SHA-256's DigestInfo prefix (RFC 8017, 9.2 note 1) and 32 bytes. */
static const unsigned char digest_info[19 + 32] = { 0x30, 0x31, 0x30, 0x0d,
	0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
	0x00, 0x04, 0x20 };

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/*
 * The slot whose token's label is label (blank-padded to 32 bytes on the
 * token).  Returns 0 and sets *slot, or -1.
 */
static int
find_token(CK_FUNCTION_LIST *f, const char *label, CK_SLOT_ID *slot)
{
	CK_SLOT_ID slots[MAX_SLOTS];
	CK_ULONG n = MAX_SLOTS, i;
	CK_TOKEN_INFO info;
	size_t len = strlen(label);

	if (len > sizeof(info.label) ||
	    f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return -1;
	for (i = 0; i < n; i++) {
		if (f->C_GetTokenInfo(slots[i], &info) != CKR_OK)
			continue;
		if (memcmp(info.label, label, len) == 0 &&
		    (len == sizeof(info.label) || info.label[len] == ' ')) {
			*slot = slots[i];
			return 0;
		}
	}
	return -1;
}

/*
 * Signs with the session's first private key.  Returns 0, or -1.
 */
static int
sign_once(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE want = { CKA_CLASS, &cls, sizeof(cls) };
	CK_KEY_TYPE type;
	CK_ATTRIBUTE get = { CKA_KEY_TYPE, &type, sizeof(type) };
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	CK_OBJECT_HANDLE key;
	CK_ULONG found = 0, siglen;
	unsigned char sig[1024];
	const unsigned char *data = digest_info + 19;
	CK_ULONG datalen = 32;
	CK_RV rv;

	if (f->C_FindObjectsInit(s, &want, 1) != CKR_OK)
		return -1;
	rv = f->C_FindObjects(s, &key, 1, &found);
	/* A session runs one operation at a time: the search ends first. */
	f->C_FindObjectsFinal(s);
	if (rv != CKR_OK || found != 1) {
		fprintf(stderr, "token_once: no private key\n");
		return -1;
	}
	if (f->C_GetAttributeValue(s, key, &get, 1) != CKR_OK)
		return -1;
	if (type == CKK_RSA) {
		mech.mechanism = CKM_RSA_PKCS;
		data = digest_info;
		datalen = sizeof(digest_info);
	}
	siglen = sizeof(sig);
	if ((rv = f->C_SignInit(s, &mech, key)) != CKR_OK ||
	    (rv = f->C_Sign(s, (CK_BYTE *)data, datalen, sig, &siglen)) !=
		CKR_OK) {
		fprintf(stderr, "token_once: signing: CKR 0x%lx\n", rv);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST **);
	CK_FUNCTION_LIST *f = NULL;
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;
	double t[6];
	void *lib;

	if (argc != 4) {
		fprintf(stderr, "usage: token_once MODULE TOKEN_LABEL PIN\n");
		return 2;
	}
	t[0] = now_us();
	if ((lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (get_list = (CK_RV(*)(CK_FUNCTION_LIST **))dlsym(lib,
		 "C_GetFunctionList")) == NULL ||
	    get_list(&f) != CKR_OK) {
		fprintf(stderr, "token_once: cannot load %s\n", argv[1]);
		return 1;
	}
	t[1] = now_us();
	if (f->C_Initialize(NULL) != CKR_OK) {
		fprintf(stderr, "token_once: C_Initialize failed\n");
		return 1;
	}
	if (find_token(f, argv[2], &slot) != 0 ||
	    f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) !=
		CKR_OK) {
		fprintf(stderr, "token_once: no token %s\n", argv[2]);
		return 1;
	}
	t[2] = now_us();
	if (f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)argv[3], strlen(argv[3])) !=
	    CKR_OK) {
		fprintf(stderr, "token_once: C_Login failed\n");
		return 1;
	}
	t[3] = now_us();
	if (sign_once(f, s) != 0) {
		fprintf(stderr, "token_once: no signature\n");
		return 1;
	}
	t[4] = now_us();
	f->C_Logout(s);
	f->C_CloseSession(s);
	f->C_Finalize(NULL);
	dlclose(lib);
	t[5] = now_us();
	printf("%.0f %.0f %.0f %.0f %.0f\n", t[1] - t[0], t[2] - t[1],
	    t[3] - t[2], t[4] - t[3], t[5] - t[4]);
	return 0;
}
