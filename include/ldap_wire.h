/*
 * ldap_wire.h - what the module and the certauth-ldap-fetch helper say
 * to each other.  Plain C with no library, so that the helper (which
 * links libldap and nothing of the module) and the module share it.
 *
 * The request, on the helper's stdin, then EOF:
 *
 *   LDAPREQ1\n  then CERTAUTH_LDAP_FIELDS fields in the order of enum
 *   certauth_ldap_field, each  <len>\n<len bytes>\n  (len in decimal,
 *   at most 5 digits; no NUL inside a field)
 *
 * The password travels only here, never on argv or in the environment.
 *
 * The record, on the helper's stdout (its exit code is its code too):
 *
 *   LDAPFETCH1 <code> <ms> <count> <text>\n
 *   then count values, each  <len>\n<len bytes of DER>
 *
 * code is one of enum certauth_ldap_code, ms the time the lookup took by
 * the helper's own clock, count the number of values (0 unless code is
 * CERTAUTH_LDAP_FOUND, then 1..CERTAUTH_LDAP_CERTS_MAX) and text a short
 * printable reason (on success, the URI that answered).
 */
#ifndef CERTAUTH_LDAP_WIRE_H
#define CERTAUTH_LDAP_WIRE_H

#include <stddef.h>

#define CERTAUTH_LDAP_REQ_MAGIC	  "LDAPREQ1"
#define CERTAUTH_LDAP_MAGIC	  "LDAPFETCH1"
#define CERTAUTH_LDAP_REQUEST_MAX (64 * 1024)
#define CERTAUTH_LDAP_FIELD_MAX	  (16 * 1024)
#define CERTAUTH_LDAP_CERTS_MAX	  16	      /* values of one answer */
#define CERTAUTH_LDAP_CERT_MAX	  (16 * 1024) /* bytes of one value */
#define CERTAUTH_LDAP_LINE_MAX	  512	      /* the record's first line */
#define CERTAUTH_LDAP_TEXT_MAX	  300	      /* its text */
/* The whole record: its line, and each value with its length line. */
#define CERTAUTH_LDAP_RECORD_MAX \
	(CERTAUTH_LDAP_LINE_MAX + \
	    CERTAUTH_LDAP_CERTS_MAX * (8 + CERTAUTH_LDAP_CERT_MAX))
/* Entries asked for (the search's size limit): two tell ambiguity. */
#define CERTAUTH_LDAP_ENTRIES_ASKED 2

/* The request's fields, in their order. */
enum certauth_ldap_field {
	CERTAUTH_LDAP_F_URIS = 0, /* comma list, tried in turn */
	CERTAUTH_LDAP_F_BASE,
	CERTAUTH_LDAP_F_FILTER, /* the template, %u and %% (options.c) */
	CERTAUTH_LDAP_F_USER,	/* escaped into %u by the helper */
	CERTAUTH_LDAP_F_ATTR,
	CERTAUTH_LDAP_F_CA_FILE, /* "" without TLS */
	CERTAUTH_LDAP_F_TLS,	 /* "1": StartTLS on ldap://; "0": none */
	CERTAUTH_LDAP_F_BIND_DN, /* "": anonymous */
	CERTAUTH_LDAP_F_PASSWORD,
	CERTAUTH_LDAP_F_TIMEOUT_MS, /* decimal, all the directory I/O */
	CERTAUTH_LDAP_FIELDS
};

/* Codes of the record, and exit codes of the helper. */
enum certauth_ldap_code {
	CERTAUTH_LDAP_FOUND = 0,       /* 1..16 values follow */
	CERTAUTH_LDAP_LOCAL = 1,       /* the helper itself failed */
	CERTAUTH_LDAP_USAGE = 2,       /* bad arguments or request */
	CERTAUTH_LDAP_UNREACHABLE = 3, /* refused, reset, no such name */
	CERTAUTH_LDAP_NOT_FOUND = 4,   /* no entry, or none of the attr */
	CERTAUTH_LDAP_AMBIGUOUS = 5,   /* more than one entry matched */
	CERTAUTH_LDAP_TLS = 6,	       /* verification failed, StartTLS
					* refused */
	CERTAUTH_LDAP_BIND = 7,	       /* credentials refused */
	CERTAUTH_LDAP_TOO_BIG = 8,     /* over a cap of values or bytes */
	CERTAUTH_LDAP_TIMEOUT = 9,     /* the lookup's time ran out */
	CERTAUTH_LDAP_REFUSED = 10,    /* the directory refused the search */
};

/* One request: fields[i] the NUL-terminated value of field i. */
struct certauth_ldap_request {
	const char *fields[CERTAUTH_LDAP_FIELDS];
};

/*
 * The request's bytes into *out (malloc'd; the caller wipes and frees
 * it: it holds the password) and *len.  Returns 0, -1 when a field is
 * NULL or over CERTAUTH_LDAP_FIELD_MAX, or -2 when out of memory.
 */
int certauth_ldap_request_encode(const struct certauth_ldap_request *req,
    unsigned char **out, size_t *len);

/*
 * Parse the request in buf[0..len), NUL-terminating each field in
 * place (over its closing newline): fields point into buf.  Returns 0, or -1 for anything but exactly a whole request.
 */
int certauth_ldap_request_decode(unsigned char *buf, size_t len,
    struct certauth_ldap_request *req);

/* What the helper reported. */
struct certauth_ldap_record {
	int code;     /* enum certauth_ldap_code */
	long long ms; /* by the helper's clock */
	char text[CERTAUTH_LDAP_TEXT_MAX + 1];
	size_t count;
	const unsigned char *val[CERTAUTH_LDAP_CERTS_MAX]; /* into the buf */
	size_t vlen[CERTAUTH_LDAP_CERTS_MAX];
};

/*
 * The record in buf[0..len): the whole output, exactly one line and its
 * values, every cap checked (count, each length, no byte left over), the text printable.  Returns 0 with *rec pointing into
 * buf, or -1 for anything else.
 */
int certauth_ldap_record_parse(const unsigned char *buf, size_t len,
    struct certauth_ldap_record *rec);

/* A short name of a code, for reasons: "unreachable", "tls", ... */
const char *certauth_ldap_code_name(int code);

/*
 * A decimal of 1..digits digits at *pp (before end), without leading
 * zeros, followed by c;
 * advances *pp past c.  Returns 0 and *out, or -1.  The number fields of
 * both helpers' records (OCSP and LDAP) and of the LDAP cache.
 */
int certauth_wire_number(const char **pp, const char *end, size_t digits,
    char c, long long *out);

#endif /* CERTAUTH_LDAP_WIRE_H */
