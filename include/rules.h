/*
 * rules.h - certificate mapping rules: which account a certificate
 * names, by rules written in the match-rule grammar of SSSD's
 * sss-certmap(5), so that rules an administrator already runs with SSSD
 * can be pasted (pam_certauth.conf(5), "RULES FILE").
 *
 * The rules file holds one section a rule:
 *
 *	# comment
 *	[NAME]
 *	matchrule = <ISSUER>^CN=Corp Users CA,O=Corp$
 *	maprule = {subject_rfc822_name.short_name}
 *
 * A certificate maps to an account when a rule's matchrule matches it
 * and its maprule yields a valid account name (certauth_account_valid).
 * Every rule is evaluated: two rules, or two values of one rule's
 * template, that name different accounts refuse the certificate.
 */
#ifndef CERTAUTH_RULES_H
#define CERTAUTH_RULES_H

#include <stddef.h>
#include <openssl/x509.h>

#include "certauth.h"
#include "safefile.h"

#define CERTAUTH_RULES_MAX	256	     /* rules in one file */
#define CERTAUTH_RULES_FILE_MAX (256 * 1024) /* bytes in the file */
#define CERTAUTH_RULE_NAME_MAX	64	     /* characters of a rule's name */
#define CERTAUTH_ACCOUNT_MAX	32	     /* characters of an account */

struct certauth_rules;

/*
 * Read the rules file path through certauth_read_safely (seen: NULL or
 * the run's record of safe directories) and parse it.  Returns 0 with
 * *out (free with certauth_rules_free); CERTAUTH_ERR_NOT_FOUND when the
 * file does not exist; CERTAUTH_ERR_UNSAFE, _TOO_LONG, _IO as the read
 * gives them; CERTAUTH_ERR_CONFIG for any error in the text, with a
 * reason "PATH line N: ..."; CERTAUTH_ERR_NOMEM.
 */
int certauth_rules_load(const char *path, struct certauth_seen *seen,
    struct certauth_rules **out, struct certauth_reason *reason);

/*
 * Parse the text buf[0..len) as a rules file; name (the path) starts
 * every reason.  Same returns as certauth_rules_load, without the
 * file's.  An empty file is a set of no rules, which maps nothing.
 */
int certauth_rules_parse(const char *buf, size_t len, const char *name,
    struct certauth_rules **out, struct certauth_reason *reason);

/* How many rules the set holds. */
int certauth_rules_count(const struct certauth_rules *rules);

/*
 * The account cert maps to, into account[0..size).  *rule_name (may be
 * NULL) points at the name of the first rule that mapped it, inside
 * rules.  Returns 0; CERTAUTH_ERR_NOT_FOUND when no rule maps it (the
 * reason says whether a rule matched but found no value to map);
 * CERTAUTH_ERR_CERT_INVALID, a refusal, when two rules or two values map
 * it to different accounts or the name is not a valid account, with a
 * reason naming the rules; CERTAUTH_ERR_TOO_LONG when size is too small;
 * CERTAUTH_ERR_NOMEM; CERTAUTH_ERR_FORMAT when the certificate's names
 * cannot be read.
 */
int certauth_rules_map(const struct certauth_rules *rules, X509 *cert,
    char *account, size_t size, const char **rule_name,
    struct certauth_reason *reason);

/*
 * The certificates of offered that map to exactly user: 0 with *bound
 * (a new stack holding new references; the caller frees it with
 * sk_X509_pop_free) holding at least one; CERTAUTH_ERR_NOT_FOUND when
 * none maps to user; CERTAUTH_ERR_CERT_INVALID when none does and one
 * was refused (its reason); CERTAUTH_ERR_NOMEM.
 */
int certauth_rules_bind(const struct certauth_rules *rules, const char *user,
    STACK_OF(X509) *offered, STACK_OF(X509) **bound,
    struct certauth_reason *reason);

/* Free a set of rules; NULL is fine. */
void certauth_rules_free(struct certauth_rules *rules);

/*
 * Whether name may be an account that a rule maps to: 1 to
 * CERTAUTH_ACCOUNT_MAX characters of [A-Za-z0-9._@-] ('@' for the
 * user@domain accounts of directory users), not starting with '-', '.'
 * or '@', and not digits alone (which tools read as a uid).
 */
int certauth_account_valid(const char *name);

#endif /* CERTAUTH_RULES_H */
