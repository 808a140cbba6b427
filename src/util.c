/*
 * util.c - error texts (ours and OpenSSL's), refusal reasons, wiping
 * frees and hex shared by every part of pam_certauth.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "certauth.h"

const char *
certauth_strerror(int r)
{
	switch (r) {
	case CERTAUTH_OK:
		return "success";
	case CERTAUTH_ERR_INTERNAL:
		return "internal error";
	case CERTAUTH_ERR_NOMEM:
		return "out of memory";
	case CERTAUTH_ERR_CONFIG:
		return "configuration error";
	case CERTAUTH_ERR_IO:
		return "input/output error";
	case CERTAUTH_ERR_UNSAFE:
		return "unsafe file ownership or permissions";
	case CERTAUTH_ERR_NOT_FOUND:
		return "not found";
	case CERTAUTH_ERR_FORMAT:
		return "malformed input";
	case CERTAUTH_ERR_TOO_LONG:
		return "input too long";
	case CERTAUTH_ERR_BAD_SIGNATURE:
		return "signature does not verify";
	case CERTAUTH_ERR_KEY_REFUSED:
		return "key type or size not allowed";
	case CERTAUTH_ERR_DIGEST_REFUSED:
		return "digest not allowed";
	case CERTAUTH_ERR_EXPIRED:
		return "challenge expired";
	case CERTAUTH_ERR_CERT_INVALID:
		return "certificate rejected by policy";
	case CERTAUTH_ERR_REVOKED:
		return "certificate revoked";
	case CERTAUTH_ERR_TRUST_STORE:
		return "trust store cannot be loaded";
	case CERTAUTH_ERR_CONV:
		return "conversation failed";
	case CERTAUTH_ERR_UNREACHABLE:
		return "OCSP responder unreachable";
	}
	return "unknown error";
}

void
certauth_reason_set(struct certauth_reason *reason, const char *fmt, ...)
{
	va_list ap;

	if (reason == NULL)
		return;
	va_start(ap, fmt);
	/* Truncation is acceptable: a reason is for humans and logs. */
	if (vsnprintf(reason->text, sizeof(reason->text), fmt, ap) < 0)
		reason->text[0] = '\0';
	va_end(ap);
	reason->host_fault = 0;
}

void
certauth_reason_host(struct certauth_reason *reason)
{
	if (reason != NULL)
		reason->host_fault = 1;
}

void
certauth_freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	if (len > 0)
		explicit_bzero(p, len);
	free(p);
}

void
certauth_hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

void
certauth_ossl_reason(char *buf, size_t len, const char *fallback)
{
	const char *data = NULL, *s = NULL;
	unsigned long e;
	int flags = 0;

	if (buf != NULL && len > 0) {
		e = ERR_peek_last_error_data(&data, &flags);
		if (e != 0)
			s = ERR_reason_error_string(e);
		if (s == NULL)
			s = fallback != NULL ? fallback : "unknown error";
		/* data lives in the queue: copy it before the queue goes. */
		if (data != NULL && (flags & ERR_TXT_STRING) != 0 &&
		    *data != '\0')
			snprintf(buf, len, "%s: %s", s, data);
		else
			snprintf(buf, len, "%s", s);
	}
	ERR_clear_error();
}

int
certauth_ossl_pem_ended(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

long long
certauth_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

char *
certauth_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}
