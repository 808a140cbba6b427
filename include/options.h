/*
 * options.h - the one options structure shared by the module and the
 * tools, and the one setter used for config-file lines, module arguments
 * and --key=value tool options (docs/PROTOCOL.md, "Options").
 */
#ifndef CERTAUTH_OPTIONS_H
#define CERTAUTH_OPTIONS_H

#include <stddef.h>

#include "certauth.h"

/*
 * Under configure's --sysconfdir, which Makefile.am passes: with
 * --sysconfdir=/etc, /etc/security/pam_certauth.conf and
 * /etc/security/certauth/bindings (and .../certauth/rules).
 */
#ifndef SYSCONFDIR
#error "SYSCONFDIR is not defined (Makefile.am passes it)"
#endif
#define CERTAUTH_DEFAULT_CONFIG	      SYSCONFDIR "/security/pam_certauth.conf"
#define CERTAUTH_DEFAULT_BINDINGS_DIR SYSCONFDIR "/security/certauth/bindings"
#define CERTAUTH_DEFAULT_RULES_FILE   SYSCONFDIR "/security/certauth/rules"
/* Under configure's --localstatedir, which Makefile.am passes. */
#ifndef CERTAUTH_LDAP_CACHE_DIR
#define CERTAUTH_LDAP_CACHE_DIR "/var/cache/pam_certauth/ldap"
#endif

enum certauth_trust { CERTAUTH_TRUST_CA = 0, CERTAUTH_TRUST_PINNED };
enum certauth_crl_scope {
	CERTAUTH_CRL_DEFAULT = -1, /* leaf if a CRL source is set, else off */
	CERTAUTH_CRL_OFF = 0,
	CERTAUTH_CRL_LEAF,
	CERTAUTH_CRL_CHAIN,
};
enum certauth_ocsp_mode {
	CERTAUTH_OCSP_OFF = 0,
	CERTAUTH_OCSP_SOFT,
	CERTAUTH_OCSP_HARD
};
enum certauth_scope { CERTAUTH_SCOPE_LEAF = 0, CERTAUTH_SCOPE_CHAIN };
enum certauth_ocsp_digest { CERTAUTH_OCSP_SHA1 = 0, CERTAUTH_OCSP_SHA256 };
/* agent=: off, the agent else the conversation, the agent alone. */
enum certauth_agent_mode {
	CERTAUTH_AGENT_OFF = 0,
	CERTAUTH_AGENT_TRY,
	CERTAUTH_AGENT_ONLY
};

/* pkcs11=: off, a token in this machine else the conversation, the
 * token alone. */
enum certauth_pkcs11_mode {
	CERTAUTH_PKCS11_OFF = 0,
	CERTAUTH_PKCS11_TRY,
	CERTAUTH_PKCS11_ONLY
};

/*
 * The binding sources bindings= may name (bound.c asks them in the order
 * given).  A new source is one value here, one name in options.c and one
 * row in bound.c.
 */
enum certauth_source {
	CERTAUTH_SOURCE_FILES = 0,
	CERTAUTH_SOURCE_LDAP,
	CERTAUTH_SOURCE_RULES, /* the offered certificate, mapped by rules */
	CERTAUTH_SOURCE_COUNT
};

struct certauth_opts {
	char *config; /* NULL: the default path */
	char *bindings_dir;
	char *rules_file; /* mapping rules (rules.h) */
	int trust;	  /* enum certauth_trust */
	char *ca_file;
	char *ca_dir;
	char *chain_file;
	char *crl_file;
	char *crl_dir;
	int crl;	/* enum certauth_crl_scope */
	long crl_warn;	/* seconds before a CRL's nextUpdate to warn; 0 off */
	long crl_grace; /* seconds past nextUpdate a CRL is still used */
	long crl_skew;	/* seconds a CRL's lastUpdate may be ahead */
	int ocsp;	/* enum certauth_ocsp_mode */
	char *ocsp_url;
	long ocsp_timeout_ms;
	char *ocsp_cache_dir;
	int ocsp_scope;	 /* enum certauth_scope */
	int ocsp_nonce;	 /* boolean */
	int ocsp_digest; /* enum certauth_ocsp_digest */
	char *ocsp_proxy;
	char *ocsp_responder_cert;
	long ocsp_skew;
	long ocsp_max_age;
	long challenge_ttl;
	char *hostname;
	int agent;	     /* enum certauth_agent_mode */
	int pkcs11;	     /* enum certauth_pkcs11_mode */
	char *pkcs11_module; /* NULL: p11-kit's proxy (its modules) */
	char *pkcs11_uri;    /* NULL: "pkcs11:", every token */
	/* bindings=: enum certauth_source values, in order, each once */
	int bindings[CERTAUTH_SOURCE_COUNT];
	size_t nbindings;
	char *ldap_uri; /* comma list of ldap:// and ldaps:// URIs */
	char *ldap_base;
	char *ldap_filter;    /* NULL: (uid=%u) */
	char *ldap_cert_attr; /* NULL: userCertificate;binary */
	int ldap_tls;	      /* boolean: StartTLS on ldap:// */
	char *ldap_ca_file;
	char *ldap_bind_dn;
	char *ldap_bind_pw_file;
	long ldap_timeout_ms;
	char *ldap_cache_dir; /* NULL: the default, unless ldap_cache_off */
	int ldap_cache_off;   /* ldap_cache_dir=none: no cache */
	long ldap_cache_max_age;
	int nouserok;		 /* boolean */
	int challenge_in_prompt; /* boolean: one prompt carries the challenge */
	int nodelay;		 /* boolean: no pam_fail_delay */
	int debug;		 /* boolean */
};

/* Fill in the defaults of docs/PROTOCOL.md, "Options".  Never fails. */
void certauth_opts_init(struct certauth_opts *o);

/* Free every string the structure owns and reset it to the defaults. */
void certauth_opts_free(struct certauth_opts *o);

/*
 * Set one option.  value is NULL for a bare word ("debug", "nouserok").
 * An empty value unsets a path, a URL or a string (back to NULL, its
 * default), and so does "none" for a path or a URL; config, numbers,
 * keywords and flags cannot be unset, which is an error saying what to
 * give instead.  Returns 0, or CERTAUTH_ERR_CONFIG with a reason naming
 * the key and the problem (unknown key, missing value, bad or
 * out-of-range value), or CERTAUTH_ERR_NOMEM.
 */
int certauth_opts_set(struct certauth_opts *o, const char *key,
    const char *value, struct certauth_reason *reason);

/* Set one "key=value" or bare "flag" word; same returns as above. */
int certauth_opts_set_word(struct certauth_opts *o, const char *word,
    struct certauth_reason *reason);

/*
 * Read a configuration file of "key = value" lines, '#' comments and blank
 * lines.  A missing file is fine when must_exist is 0 (the default path);
 * otherwise it is CERTAUTH_ERR_CONFIG.  Errors name the file and line.
 */
int certauth_opts_load_file(struct certauth_opts *o, const char *path,
    int must_exist, struct certauth_reason *reason);

/*
 * The whole story for module arguments (and tool options stripped of
 * "--"): find config= among the words, load that file (or the default,
 * which may be missing), then apply every word so arguments override the
 * file.  Finally checks cross-option consistency (see opts_validate).
 */
int certauth_opts_from_words(struct certauth_opts *o, int argc,
    const char **argv, struct certauth_reason *reason);

/*
 * Consistency of the whole set: trust=ca needs ca_file or ca_dir;
 * CRL and OCSP checking are not used with trust=pinned (refused, never
 * silently skipped); with ldap in bindings=, ldap_uri and ldap_base are
 * needed, ldap_ca_file whenever TLS is used (ldaps:// or ldap_tls=yes),
 * and ldap_bind_dn and ldap_bind_pw_file go together.  Resolves crl=default with certauth_opts_crl_scope.
 */
int certauth_opts_validate(struct certauth_opts *o,
    struct certauth_reason *reason);

/* The bindings directory: bindings_dir when set, else
 * CERTAUTH_DEFAULT_BINDINGS_DIR.  Points into o or at a constant. */
const char *certauth_opts_bindings_dir(const struct certauth_opts *o);

/* The mapping rules file: rules_file when set, else
 * CERTAUTH_DEFAULT_RULES_FILE.  Points into o or at a constant. */
const char *certauth_opts_rules_file(const struct certauth_opts *o);
/* Whether bindings= names source (enum certauth_source). */
int certauth_opts_uses_source(const struct certauth_opts *o, int source);

/* The name of a binding source ("files", "ldap"), or NULL.  Static. */
const char *certauth_source_name(int source);

/* The LDAP filter template and certificate attribute, defaults applied.
 * Point into o or at a constant. */
const char *certauth_opts_ldap_filter(const struct certauth_opts *o);
const char *certauth_opts_ldap_cert_attr(const struct certauth_opts *o);

/* The LDAP cache directory, or NULL when ldap_cache_dir=none turned the
 * cache off.  Points into o or at a constant. */
const char *certauth_opts_ldap_cache_dir(const struct certauth_opts *o);

/*
 * The CRL scope (enum certauth_crl_scope) that crl means, never
 * CERTAUTH_CRL_DEFAULT: crl itself when set, else CERTAUTH_CRL_LEAF when
 * crl_file or crl_dir is set and CERTAUTH_CRL_OFF when neither is.  With
 * trust=pinned a set that passed certauth_opts_validate gives OFF.
 */
int certauth_opts_crl_scope(const struct certauth_opts *o);

/*
 * The keys of the option table, in its order, for tools that offer them
 * as --key options: the key of entry i (from 0), or NULL past the last.
 * *is_flag (may be NULL) is set to 1 for a flag, which may be given bare
 * ("debug") or with a boolean value, and to 0 for a key that needs a
 * value.
 */
const char *certauth_opts_key(size_t i, int *is_flag);

#endif /* CERTAUTH_OPTIONS_H */
