/*
 * p11shim.c - the tests' lying token (tests/e2e/token_hostile.py).
 *
 * A PKCS#11 module that loads a real one, the module P11SHIM_TARGET
 * names (SoftHSM2 in the tests), and hands out a copy of its function
 * list in which a few entries are replaced, so that the token tells the
 * one lie P11SHIM_MODE names and is honest otherwise:
 *
 *   (unset), none      nothing: every call is forwarded (the control)
 *   locked             C_GetTokenInfo: CKF_USER_PIN_LOCKED
 *   final-try          C_GetTokenInfo: CKF_USER_PIN_FINAL_TRY
 *   no-login-required  C_GetTokenInfo: CKF_LOGIN_REQUIRED cleared, the
 *                      private keys still hidden until a login
 *   removed-at-login   C_Login: CKR_DEVICE_REMOVED, the token gone after
 *   removed-at-sign    C_Sign into a buffer: CKR_DEVICE_REMOVED, the
 *                      token gone after (pulled out while it signs)
 *   garbage-cert       a certificate's CKA_VALUE: junk of its length
 *   huge-cert          a certificate's CKA_VALUE claims 1 GiB
 *   big-cert           a certificate's CKA_VALUE is 100 KiB: the real
 *                      DER padded with zeros
 *   trailing-cert      a certificate's CKA_VALUE: the real DER and 16
 *                      bytes more
 *   changing-length    a certificate's CKA_VALUE read into a buffer
 *                      says 64 bytes more than its length query did
 *                      (and than the buffer holds)
 *   many-objects       C_FindObjects counts one handle more than it was
 *                      asked for (and writes no more than asked)
 *   many-slots         C_GetSlotList into a buffer counts 8 slots more
 *                      than its length query did (and writes no more
 *                      than the buffer holds)
 *   odd-ecdsa          an ECDSA signature one byte short (odd length)
 *   short-sig          a signature two bytes short
 *   huge-sig           C_Sign's length query claims 1 GiB
 *   growing-sig        C_Sign into a buffer says 64 bytes more than its
 *                      length query did (and than the buffer holds)
 *   wrong-sig          a signature with one bit flipped
 *   slow-sign          C_Sign into a buffer waits P11SHIM_DELAY_MS
 *                      (default 4000) first, then signs
 *
 * P11SHIM_MARK: a file to which every C_GetFunctionList appends a line,
 * which tells whether the module was loaded at all.
 *
 * Test code only, never installed: it takes its orders from the
 * environment, which a module loaded into set-uid programs must never
 * do.  State is kept in globals: one login, one session, one process.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define HUGE_LEN   (1UL << 30)
#define BIG_LEN	   (100UL * 1024)
#define TRAILING   16
#define GROWTH	   64
#define MORE_SLOTS 8
#define DELAY_DEF  4000

static CK_FUNCTION_LIST_PTR real;
static CK_FUNCTION_LIST shim;
static const char *mode = "";
static int removed;		    /* the token was pulled out */
static CK_MECHANISM_TYPE sign_mech; /* of the last C_SignInit */

static int
is(const char *m)
{
	return strcmp(mode, m) == 0;
}

static CK_RV
shim_Initialize(CK_VOID_PTR args)
{
	removed = 0;
	return real->C_Initialize(args);
}

static CK_RV
shim_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CK_RV rv;

	if (removed)
		return CKR_TOKEN_NOT_PRESENT;
	if ((rv = real->C_GetTokenInfo(slot, info)) != CKR_OK)
		return rv;
	if (is("locked"))
		info->flags |= CKF_USER_PIN_LOCKED;
	else if (is("final-try"))
		info->flags |= CKF_USER_PIN_FINAL_TRY;
	else if (is("no-login-required"))
		info->flags &= ~(CK_FLAGS)CKF_LOGIN_REQUIRED;
	return CKR_OK;
}

static CK_RV
shim_Login(CK_SESSION_HANDLE s, CK_USER_TYPE who, CK_UTF8CHAR_PTR pin,
    CK_ULONG len)
{
	if (removed)
		return CKR_DEVICE_REMOVED;
	if (is("removed-at-login")) {
		removed = 1;
		return CKR_DEVICE_REMOVED;
	}
	return real->C_Login(s, who, pin, len);
}

/* A pulled token still frees what SoftHSM2 holds, but says it is gone. */
static CK_RV
shim_Logout(CK_SESSION_HANDLE s)
{
	CK_RV rv = real->C_Logout(s);

	return removed ? CKR_DEVICE_REMOVED : rv;
}

static CK_RV
shim_CloseSession(CK_SESSION_HANDLE s)
{
	CK_RV rv = real->C_CloseSession(s);

	return removed ? CKR_DEVICE_REMOVED : rv;
}

static CK_RV
shim_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR slots, CK_ULONG_PTR n)
{
	CK_RV rv = real->C_GetSlotList(present, slots, n);

	if (rv == CKR_OK && slots != NULL && is("many-slots"))
		*n += MORE_SLOTS;
	return rv;
}

static CK_RV
shim_FindObjects(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR hs, CK_ULONG max,
    CK_ULONG_PTR count)
{
	CK_RV rv;

	if (removed)
		return CKR_DEVICE_REMOVED;
	rv = real->C_FindObjects(s, hs, max, count);
	if (rv == CKR_OK && is("many-objects"))
		*count = max + 1;
	return rv;
}

/* Whether object h is a certificate. */
static int
is_cert(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
	CK_OBJECT_CLASS cls = 0;
	CK_ATTRIBUTE a = { CKA_CLASS, &cls, sizeof(cls) };

	return real->C_GetAttributeValue(s, h, &a, 1) == CKR_OK &&
	    cls == CKO_CERTIFICATE;
}

/* The real CKA_VALUE of h with room for extra bytes more, malloc'd. */
static CK_RV
real_value(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, size_t extra,
    unsigned char **val, CK_ULONG *len)
{
	CK_ATTRIBUTE a = { CKA_VALUE, NULL, 0 };
	CK_RV rv;

	*val = NULL;
	if ((rv = real->C_GetAttributeValue(s, h, &a, 1)) != CKR_OK)
		return rv;
	if ((a.pValue = calloc(1, a.ulValueLen + extra)) == NULL)
		return CKR_HOST_MEMORY;
	if ((rv = real->C_GetAttributeValue(s, h, &a, 1)) != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

/* What an honest token does with a value of len bytes. */
static CK_RV
answer(CK_ATTRIBUTE_PTR a, const unsigned char *val, CK_ULONG len)
{
	if (a->pValue == NULL) {
		a->ulValueLen = len;
		return CKR_OK;
	}
	if (a->ulValueLen < len) {
		a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_BUFFER_TOO_SMALL;
	}
	memcpy(a->pValue, val, len);
	a->ulValueLen = len;
	return CKR_OK;
}

/* A certificate's CKA_VALUE, as the mode has it. */
static CK_RV
lie_value(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_PTR a)
{
	unsigned char *val = NULL;
	CK_ULONG len = 0, i;
	CK_RV rv;

	if (is("huge-cert") && a->pValue == NULL) {
		a->ulValueLen = HUGE_LEN;
		return CKR_OK;
	}
	if (is("huge-cert") && a->ulValueLen < HUGE_LEN) {
		a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_BUFFER_TOO_SMALL;
	}
	/* (A buffer of 1 GiB would get the real value.) */
	if ((rv = real_value(s, h, BIG_LEN + TRAILING, &val, &len)) != CKR_OK)
		return rv;
	if (is("garbage-cert")) {
		/* A SEQUENCE that claims 65535 bytes, then noise. */
		for (i = 0; i < len; i++)
			val[i] = (unsigned char)(0xa5 ^ (i * 7));
		if (len >= 4)
			memcpy(val, "\x30\x82\xff\xff", 4);
		rv = answer(a, val, len);
	} else if (is("trailing-cert")) {
		memcpy(val + len, "trailing bytes..", TRAILING);
		rv = answer(a, val, len + TRAILING);
	} else if (is("big-cert")) {
		rv = answer(a, val, len > BIG_LEN ? len : BIG_LEN);
	} else if (is("changing-length")) {
		rv = answer(a, val, len);
		if (rv == CKR_OK && a->pValue != NULL)
			a->ulValueLen = len + GROWTH;
	} else {
		rv = answer(a, val, len);
	}
	free(val);
	return rv;
}

static CK_RV
shim_GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	int cert_mode = is("garbage-cert") || is("huge-cert") ||
	    is("big-cert") || is("trailing-cert") || is("changing-length");

	if (removed)
		return CKR_DEVICE_REMOVED;
	if (cert_mode && n == 1 && tmpl[0].type == CKA_VALUE && is_cert(s, h))
		return lie_value(s, h, tmpl);
	return real->C_GetAttributeValue(s, h, tmpl, n);
}

static CK_RV
shim_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
	if (removed)
		return CKR_DEVICE_REMOVED;
	sign_mech = mech != NULL ? mech->mechanism : (CK_MECHANISM_TYPE)-1;
	return real->C_SignInit(s, mech, key);
}

static void
delay(void)
{
	const char *ms = getenv("P11SHIM_DELAY_MS");
	long n = ms != NULL ? atol(ms) : DELAY_DEF;
	struct timespec ts = { n / 1000, (n % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static CK_RV
shim_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
    CK_ULONG_PTR siglen)
{
	CK_RV rv;

	if (removed)
		return CKR_DEVICE_REMOVED;
	if (sig != NULL && is("removed-at-sign")) {
		removed = 1;
		return CKR_DEVICE_REMOVED;
	}
	if (sig != NULL && is("slow-sign"))
		delay();
	rv = real->C_Sign(s, data, len, sig, siglen);
	if (rv == CKR_OK && sig == NULL && is("huge-sig"))
		*siglen = HUGE_LEN;
	if (rv != CKR_OK || sig == NULL || *siglen < 4)
		return rv;
	if (is("odd-ecdsa") && sign_mech == CKM_ECDSA)
		*siglen -= 1;
	else if (is("short-sig"))
		*siglen -= 2;
	else if (is("growing-sig"))
		*siglen += GROWTH;
	else if (is("wrong-sig"))
		sig[*siglen / 2] ^= 0x01;
	return rv;
}

/* One line in the file P11SHIM_MARK names, if any. */
static void
mark_loaded(void)
{
	const char *path = getenv("P11SHIM_MARK");
	char line[128];
	int fd, n;

	if (path == NULL || *path == '\0')
		return;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) <
	    0)
		return;
	n = snprintf(line, sizeof(line), "loaded mode=%s uid=%d euid=%d\n",
	    mode, (int)getuid(), (int)geteuid());
	if (n > 0 && write(fd, line, (size_t)n) < 0)
		n = 0;
	close(fd);
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	CK_C_GetFunctionList get;
	const char *target = getenv("P11SHIM_TARGET");
	const char *m = getenv("P11SHIM_MODE");
	void *lib;
	CK_RV rv;

	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	mode = m != NULL && strcmp(m, "none") != 0 ? m : "";
	mark_loaded();
	if (real == NULL) {
		if (target == NULL ||
		    (lib = dlopen(target, RTLD_NOW | RTLD_LOCAL)) == NULL ||
		    (get = (CK_C_GetFunctionList)dlsym(lib,
			 "C_GetFunctionList")) == NULL)
			return CKR_GENERAL_ERROR;
		if ((rv = get(&real)) != CKR_OK)
			return rv;
	}
	shim = *real;
	shim.C_Initialize = shim_Initialize;
	shim.C_GetTokenInfo = shim_GetTokenInfo;
	shim.C_GetSlotList = shim_GetSlotList;
	shim.C_Login = shim_Login;
	shim.C_Logout = shim_Logout;
	shim.C_CloseSession = shim_CloseSession;
	shim.C_FindObjects = shim_FindObjects;
	shim.C_GetAttributeValue = shim_GetAttributeValue;
	shim.C_SignInit = shim_SignInit;
	shim.C_Sign = shim_Sign;
	*out = &shim;
	return CKR_OK;
}
