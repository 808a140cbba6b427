/*
 * certauth.h - error codes and small helpers shared by every part of
 * pam_certauth: the module, the tools and the tests.
 */
#ifndef CERTAUTH_H
#define CERTAUTH_H

#include <stddef.h>

/*
 * Every function that can fail returns 0 (CERTAUTH_OK) or one of these
 * negative codes.  PAM return codes appear only in pam_certauth.c.
 */
enum certauth_err {
	CERTAUTH_OK = 0,
	CERTAUTH_ERR_INTERNAL = -1,  /* unexpected library failure */
	CERTAUTH_ERR_NOMEM = -2,     /* allocation failed */
	CERTAUTH_ERR_CONFIG = -3,    /* bad option, value or config file */
	CERTAUTH_ERR_IO = -4,	     /* a file could not be read or written */
	CERTAUTH_ERR_UNSAFE = -5,    /* file failed ownership/mode checks */
	CERTAUTH_ERR_NOT_FOUND = -6, /* no such file, user or binding */
	CERTAUTH_ERR_FORMAT = -7,    /* malformed input */
	CERTAUTH_ERR_TOO_LONG = -8,  /* input over its size limit */
	CERTAUTH_ERR_BAD_SIGNATURE = -9,   /* signature does not verify */
	CERTAUTH_ERR_KEY_REFUSED = -10,	   /* key type or size not allowed */
	CERTAUTH_ERR_DIGEST_REFUSED = -11, /* digest not allowed for this key */
	CERTAUTH_ERR_EXPIRED = -12,	 /* response later than challenge_ttl */
	CERTAUTH_ERR_CERT_INVALID = -13, /* chain policy rejected the cert */
	CERTAUTH_ERR_REVOKED = -14,	 /* certificate revoked */
	CERTAUTH_ERR_TRUST_STORE =
	    -15,		 /* trust anchors/CRLs cannot be loaded */
	CERTAUTH_ERR_CONV = -16, /* the conversation failed */
	CERTAUTH_ERR_UNREACHABLE =
	    -17, /* OCSP responder not reachable in time */
};

/* Returns a static, human-readable description of a CERTAUTH_* code. */
const char *certauth_strerror(int r);

/*
 * A reason is the exact, log-worthy explanation of a refusal, e.g.
 * "certificate expired 2021-01-01 00:00:00 UTC".  Functions that can refuse take a
 * struct certauth_reason * (may be NULL) and fill it in on failure.
 */
#define CERTAUTH_REASON_MAX 512
struct certauth_reason {
	char text[CERTAUTH_REASON_MAX];
	/* Nonzero: the fault is the host's, not the user's (an unsafe
	 * bindings directory, a CRL out of date): every login it touches
	 * fails alike, and the decision is logged at LOG_ERR. */
	int host_fault;
};

/* printf-style: overwrite the reason, a refusal of the user's own
 * (no-op when reason is NULL). */
void certauth_reason_set(struct certauth_reason *reason, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Mark the reason as set a fault of the host (no-op when NULL). */
void certauth_reason_host(struct certauth_reason *reason);

/* Zero and free a buffer that held secret or sensitive bytes; NULL is fine. */
void certauth_freezero(void *p, size_t len);

/* s with white space cut off both ends (the end in place). */
char *certauth_trim(char *s);

/*
 * in[0..len) as lower-case hex, two characters a byte, into out, which
 * must hold 2 * len + 1 characters; out is NUL-terminated.
 */
void certauth_hex_encode(const unsigned char *in, size_t len, char *out);

/*
 * The most useful text of the newest OpenSSL error into buf: its reason
 * and the detail a library added, e.g. "certificate verify error:
 * Verify error:unable to get local issuer certificate"; fallback when
 * the queue holds no error with a reason.  Truncated to len.  Empties
 * the error queue, marks included, so a refusal leaves nothing stale
 * for the next OpenSSL user.
 */
void certauth_ossl_reason(char *buf, size_t len, const char *fallback);

/*
 * Nonzero when the newest OpenSSL error is PEM's "no start line": a PEM
 * reader ran out of blocks, which ends a bundle cleanly.  Leaves the
 * queue as it is.
 */
int certauth_ossl_pem_ended(void);

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
long long certauth_now_ms(void);

#endif /* CERTAUTH_H */
