/*
 * certutil.c - describing a certificate in logs and tool output, and
 * reading certificates and CRLs from PEM.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "certutil.h"

/* The "?" of a description that could not be made, if it fits at all. */
static void
unknown(char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return;
	buf[0] = len > 1 ? '?' : '\0';
	if (len > 1)
		buf[1] = '\0';
}

int
certauth_cert_fingerprint(X509 *cert, char out[CERTAUTH_FP_CHARS + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	out[0] = '\0';
	if (cert == NULL || X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 ||
	    mdlen * 2 != CERTAUTH_FP_CHARS)
		goto out;
	certauth_hex_encode(md, mdlen, out);
	r = 0;
out:
	ERR_clear_error();
	return r;
}

int
certauth_fingerprint_normalise(const char *in, char out[CERTAUTH_FP_CHARS + 1])
{
	size_t n = 0;
	unsigned char c;

	out[0] = '\0';
	if (in == NULL)
		return CERTAUTH_ERR_FORMAT;
	if (strncasecmp(in, "SHA256:", 7) == 0)
		in += 7;
	for (; *in != '\0'; in++) {
		c = (unsigned char)*in;
		if (c == ':')
			continue;
		if (!isxdigit(c) || n == CERTAUTH_FP_CHARS)
			goto bad;
		out[n++] = (char)tolower(c);
	}
	if (n != CERTAUTH_FP_CHARS)
		goto bad;
	out[n] = '\0';
	return 0;
bad:
	out[0] = '\0';
	return CERTAUTH_ERR_FORMAT;
}

void
certauth_name_string(const X509_NAME *name, char *buf, size_t len)
{
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	size_t copy;

	if (buf == NULL || len == 0)
		return;
	/* RFC 2253 escaping keeps control and non-ASCII bytes out of logs,
	 * so any byte boundary is a safe place to truncate. */
	if (name == NULL || (bio = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0 ||
	    (n = BIO_get_mem_data(bio, &data)) < 0 || (n > 0 && data == NULL)) {
		unknown(buf, len);
		goto out;
	}
	copy = (size_t)n < len - 1 ? (size_t)n : len - 1;
	if (copy > 0)
		memcpy(buf, data, copy);
	buf[copy] = '\0';
out:
	BIO_free(bio);
	ERR_clear_error();
}

/* tm as "YYYY-MM-DD HH:MM:SS UTC"; 0, or -1 when it does not fit. */
static int
tm_string(const struct tm *tm, char *buf, size_t len)
{
	return strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", tm) == 0 ? -1 : 0;
}

void
certauth_time_string(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (buf == NULL || len == 0)
		return;
	memset(&tm, 0, sizeof(tm));
	/* ASN1_TIME_to_tm(NULL) would describe the current time. */
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    tm_string(&tm, buf, len) != 0)
		unknown(buf, len);
	ERR_clear_error();
}

int
certauth_asn1_to_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	/* ASN1_TIME_to_tm(NULL) would describe the current time. */
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return CERTAUTH_ERR_FORMAT;
	}
	*out = timegm(&tm);
	return 0;
}

void
certauth_unix_time_string(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (buf == NULL || len == 0)
		return;
	if (gmtime_r(&t, &tm) == NULL || tm_string(&tm, buf, len) != 0)
		snprintf(buf, len, "%jd", (intmax_t)t);
}

void
certauth_span_string(long long secs, char *buf, size_t len)
{
	static const struct {
		long long len;
		const char *unit;
	} units[] = {
		{ 365LL * 86400, "years" },
		{ 86400, "days" },
		{ 3600, "hours" },
		{ 60, "minutes" },
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (secs >= 2 * units[i].len) {
			snprintf(buf, len, "%lld seconds (about %lld %s)", secs,
			    secs / units[i].len, units[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%lld second%s", secs, secs == 1 ? "" : "s");
}

int
certauth_pem_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}
