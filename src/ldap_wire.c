/*
 * ldap_wire.c - the request and the record between the module and the
 * certauth-ldap-fetch helper (ldap_wire.h).  Compiled into both, so it
 * uses nothing but libc.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldap_wire.h"

int
certauth_wire_number(const char **pp, const char *end, size_t digits, char c,
    long long *out)
{
	const char *p = *pp;
	long long v = 0;
	size_t n = 0;

	while (p < end && *p >= '0' && *p <= '9' && n < digits) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	/* One spelling a number: no leading zeros, as the writers print. */
	if (n == 0 || p >= end || *p != c || (n > 1 && p[-(long)n] == '0'))
		return -1;
	*pp = p + 1;
	*out = v;
	return 0;
}

int
certauth_ldap_request_encode(const struct certauth_ldap_request *req,
    unsigned char **out, size_t *len)
{
	const size_t mlen = sizeof(CERTAUTH_LDAP_REQ_MAGIC);
	size_t total = mlen, flen[CERTAUTH_LDAP_FIELDS], i, at;
	unsigned char *buf;
	int n;

	*out = NULL;
	*len = 0;
	for (i = 0; i < CERTAUTH_LDAP_FIELDS; i++) {
		if (req->fields[i] == NULL ||
		    (flen[i] = strlen(req->fields[i])) >
			CERTAUTH_LDAP_FIELD_MAX)
			return -1;
		total += 7 + flen[i];
	}
	if (total > CERTAUTH_LDAP_REQUEST_MAX)
		return -1;
	if ((buf = malloc(total + 1)) == NULL)
		return -2;
	memcpy(buf, CERTAUTH_LDAP_REQ_MAGIC "\n", mlen);
	at = mlen;
	for (i = 0; i < CERTAUTH_LDAP_FIELDS; i++) {
		n = snprintf((char *)buf + at, total + 1 - at, "%zu\n",
		    flen[i]);
		at += (size_t)n;
		memcpy(buf + at, req->fields[i], flen[i]);
		at += flen[i];
		buf[at++] = '\n';
	}
	*out = buf;
	*len = at;
	return 0;
}

int
certauth_ldap_request_decode(unsigned char *buf, size_t len,
    struct certauth_ldap_request *req)
{
	const size_t mlen = sizeof(CERTAUTH_LDAP_REQ_MAGIC);
	char *p = (char *)buf, *end = p + len;
	long long flen;
	size_t i;

	if (len < mlen || memcmp(buf, CERTAUTH_LDAP_REQ_MAGIC "\n", mlen) != 0)
		return -1;
	p += mlen;
	for (i = 0; i < CERTAUTH_LDAP_FIELDS; i++) {
		if (certauth_wire_number((const char **)&p, end, 5, '\n',
			&flen) != 0 ||
		    flen > CERTAUTH_LDAP_FIELD_MAX || flen >= end - p ||
		    p[flen] != '\n' || memchr(p, '\0', (size_t)flen) != NULL)
			return -1;
		p[flen] = '\0'; /* the field's closing newline */
		req->fields[i] = p;
		p += flen + 1;
	}
	return p == end ? 0 : -1;
}

int
certauth_ldap_record_parse(const unsigned char *buf, size_t len,
    struct certauth_ldap_record *rec)
{
	const size_t mlen = sizeof(CERTAUTH_LDAP_MAGIC) - 1;
	const char *p = (const char *)buf, *end, *nl, *t;
	long long code, ms, count, vlen;
	size_t tlen, i;

	memset(rec, 0, sizeof(*rec));
	end = p + (len < CERTAUTH_LDAP_LINE_MAX ? len : CERTAUTH_LDAP_LINE_MAX);
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
	    (size_t)(nl - p) < mlen + 1 ||
	    memcmp(p, CERTAUTH_LDAP_MAGIC " ", mlen + 1) != 0)
		return -1;
	p += mlen + 1;
	if (certauth_wire_number(&p, nl, 3, ' ', &code) != 0 ||
	    certauth_wire_number(&p, nl, 9, ' ', &ms) != 0 ||
	    certauth_wire_number(&p, nl, 2, ' ', &count) != 0 ||
	    count > CERTAUTH_LDAP_CERTS_MAX ||
	    (code == CERTAUTH_LDAP_FOUND) != (count > 0))
		return -1;
	if ((tlen = (size_t)(nl - p)) > CERTAUTH_LDAP_TEXT_MAX)
		return -1;
	for (t = p; t < nl; t++)
		if (*t < 0x20 || *t > 0x7e)
			return -1;
	rec->code = (int)code;
	rec->ms = ms;
	memcpy(rec->text, p, tlen);
	rec->text[tlen] = '\0';
	p = nl + 1;
	end = (const char *)buf + len;
	for (i = 0; i < (size_t)count; i++) {
		if (certauth_wire_number(&p, end, 5, '\n', &vlen) != 0 ||
		    vlen > CERTAUTH_LDAP_CERT_MAX || vlen > end - p)
			return -1;
		rec->val[i] = (const unsigned char *)p;
		rec->vlen[i] = (size_t)vlen;
		p += vlen;
	}
	if (p != end)
		return -1;
	rec->count = (size_t)count;
	return 0;
}

const char *
certauth_ldap_code_name(int code)
{
	static const char *const names[] = { "found", "local failure", "usage",
		"unreachable", "not found", "ambiguous", "tls", "bind refused",
		"too big", "timeout", "search refused" };

	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
		return "unknown code";
	return names[code];
}
