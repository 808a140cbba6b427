/*
 * helper.h - one run of a helper program (certauth-ocsp-fetch,
 * certauth-ldap-fetch): the program checked on its descriptor, started
 * in a session of its own with a fixed environment (as root: limits and
 * scheduling of its own, then user nobody), the request written to its
 * stdin, one record read from its stdout, the child followed through a
 * pidfd, killed at its deadline and reaped.  What the record means is the
 * caller's (fetch.c, ldap.c); a run that brings no whole record is always
 * a local failure, explained here.
 */
#ifndef CERTAUTH_HELPER_H
#define CERTAUTH_HELPER_H

#include <stddef.h>

#include "certauth.h"

/* Time a helper has beyond its budget to start and report, after which
 * it is killed and the run is a local failure. */
#define CERTAUTH_HELPER_MARGIN_MS 1000

struct certauth_helper_job {
	const char *path; /* the program */
	const char *what; /* for reasons: "OCSP helper", "LDAP helper" */
	/* argv[0] the program's name, NULL-terminated, at most 7 words */
	char *const *argv;
	const char *env;	  /* one "NAME=value", or NULL: none */
	const unsigned char *req; /* written to its stdin, then closed */
	size_t reqlen;
	size_t out_max;	     /* the largest record it may write */
	long long budget_ms; /* killed past budget_ms + the margin */
	/* Whether buf[0..len) is one whole record: 0, or -1.  arg is
	 * the caller's; it may point into buf. */
	int (*parse)(void *arg, const unsigned char *buf, size_t len);
	void *arg;
};

/*
 * Run j.  Whatever the helper has written is read before any deadline
 * is looked at, so a host stopped meanwhile still sees the record.
 * Returns 0 when the output is one whole record by j->parse (however the
 * child ended afterwards), with *out (malloc'd, the caller frees it with
 * certauth_freezero(*out, *outlen) once done with what parse pointed
 * into) and *outlen; CERTAUTH_ERR_NOMEM; or CERTAUTH_ERR_INTERNAL with a
 * reason naming j->what and the problem (the program's checks, the user
 * lookup, descriptors, the child, no whole record in time, a crash,
 * garbage, a flood).
 */
int certauth_helper_run(const struct certauth_helper_job *j,
    unsigned char **out, size_t *outlen, struct certauth_reason *reason);

#endif /* CERTAUTH_HELPER_H */
