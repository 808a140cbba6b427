/*
 * signer.h - the judging of a challenge before it is signed, shared by
 * the signing tools (certauth-sign, certauth-askpass): that the text is a
 * certauth v1 challenge (read by certauth_challenge_parse alone), that it
 * was issued for the host, the service and the account the person is
 * logging in to, and just now.  A hostile server could otherwise relay
 * another host's or another service's challenge and log in there as them.
 * Linked by the tools only (libcertauth_client), never by the module.
 */
#ifndef CERTAUTH_SIGNER_H
#define CERTAUTH_SIGNER_H

#include <stddef.h>

#include "certauth.h"

#define CERTAUTH_SIGNER_PREFIX "certauth:v1:"
/*
 * Added to the module's default challenge_ttl for the default time
 * window: the signer's clock and the server's may differ by this much.
 */
#define CERTAUTH_SIGNER_SKEW 180

/*
 * What a challenge must match.  Every refusal and notice goes to standard
 * error through log.h, prefixed with prog.  A list with no entry is not
 * checked (hosts, services); user NULL is not checked; max_age 0: no
 * time check.  host_advice writes into buf (size bytes) how to go on when
 * the host field names none of hosts: the end of the sentence "if 'H' is
 * the server you meant, ...", given the decoded host and whether it is a
 * plain word (only A-Z a-z 0-9 . _ - @ +) that a command line or a
 * configuration file can give back as it is.  time_advice ends the time
 * refusal ("--max-age sets the limit").
 */
struct certauth_signer {
	const char *prog;
	const char *const *hosts;
	int nhosts;
	const char *const *services;
	int nservices;
	const char *user;
	long max_age;
	void (*host_advice)(void *arg, const char *host, int plain, char *buf,
	    size_t size);
	void *arg;
	const char *time_advice;
};

/* The default time window: the module's default challenge_ttl plus
 * CERTAUTH_SIGNER_SKEW seconds. */
long certauth_signer_default_max_age(void);

/*
 * The challenge in text: from its first "certauth:v1:" up to the next
 * white space, malloc'd into *out.  Returns 0, CERTAUTH_ERR_FORMAT (no
 * "certauth:v1:" in text) or CERTAUTH_ERR_NOMEM.
 */
int certauth_signer_extract(const char *text, char **out);

/* Whether host names a and b are equal, ASCII case ignored. */
int certauth_signer_host_equal(const char *a, const char *b);

/* Whether s is a plain word (A-Z a-z 0-9 . _ - @ +), which a command
 * line or a configuration file can give back as it is. */
int certauth_signer_plain(const char *s);

/*
 * Judge challenge c against s: its shape, then host, service, user and
 * time; when all pass, say on standard error what is about to be signed.
 * Returns 0 when c may be signed, or -1 (said why on standard error).
 */
int certauth_signer_check(const struct certauth_signer *s, const char *c);

#endif /* CERTAUTH_SIGNER_H */
