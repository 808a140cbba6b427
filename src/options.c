/*
 * options.c - one options structure, one setter.  Config-file lines,
 * module arguments and the tools' --key=value options all go through
 * certauth_opts_set(), so what the tools check is what the module enforces.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "certauth.h"
#include "options.h"
#include "p11token.h"
#include "safefile.h"

#define CONFIG_MAX_BYTES (64 * 1024)

enum opt_type {
	OPT_PATH,
	OPT_STRING,
	OPT_URL,
	OPT_ENUM,
	OPT_LONG,
	OPT_FLAG,
	OPT_SOURCES,   /* bindings=: a list of source names */
	OPT_LDAP_URIS, /* a comma list of ldap:// and ldaps:// URIs */
	OPT_FILTER,    /* an LDAP filter template with %u */
	OPT_ATTR,      /* an LDAP attribute description */
};

struct enum_name {
	const char *name;
	int value;
};

struct opt_desc {
	const char *key;
	enum opt_type type;
	size_t offset;
	const struct enum_name *names; /* OPT_ENUM */
	long min, max;		       /* OPT_LONG */
};

static const struct enum_name trust_names[] = { { "ca", CERTAUTH_TRUST_CA },
	{ "pinned", CERTAUTH_TRUST_PINNED }, { NULL, 0 } };
static const struct enum_name crl_names[] = { { "off", CERTAUTH_CRL_OFF },
	{ "leaf", CERTAUTH_CRL_LEAF }, { "chain", CERTAUTH_CRL_CHAIN },
	{ NULL, 0 } };
static const struct enum_name ocsp_names[] = { { "off", CERTAUTH_OCSP_OFF },
	{ "soft", CERTAUTH_OCSP_SOFT }, { "hard", CERTAUTH_OCSP_HARD },
	{ NULL, 0 } };
static const struct enum_name scope_names[] = { { "leaf", CERTAUTH_SCOPE_LEAF },
	{ "chain", CERTAUTH_SCOPE_CHAIN }, { NULL, 0 } };
static const struct enum_name digest_names[] = { { "sha1", CERTAUTH_OCSP_SHA1 },
	{ "sha256", CERTAUTH_OCSP_SHA256 }, { NULL, 0 } };
static const struct enum_name agent_names[] = { { "off", CERTAUTH_AGENT_OFF },
	{ "try", CERTAUTH_AGENT_TRY }, { "only", CERTAUTH_AGENT_ONLY },
	{ NULL, 0 } };
static const struct enum_name pkcs11_names[] = {
	{ "off", CERTAUTH_PKCS11_OFF },
	{ "try", CERTAUTH_PKCS11_TRY },
	{ "only", CERTAUTH_PKCS11_ONLY },
	{ NULL, 0 },
};
/* bindings=: one row a source (enum certauth_source). */
static const struct enum_name source_names[] = {
	{ "files", CERTAUTH_SOURCE_FILES },
	{ "ldap", CERTAUTH_SOURCE_LDAP },
	{ "rules", CERTAUTH_SOURCE_RULES },
	{ NULL, 0 },
};
static const struct enum_name bool_names[] = { { "yes", 1 }, { "no", 0 },
	{ "true", 1 }, { "false", 0 }, { "on", 1 }, { "off", 0 }, { "1", 1 },
	{ "0", 0 }, { NULL, 0 } };

#define OFF(f) offsetof(struct certauth_opts, f)
static const struct opt_desc opt_table[] = {
	{ "config", OPT_PATH, OFF(config), NULL, 0, 0 },
	{ "bindings_dir", OPT_PATH, OFF(bindings_dir), NULL, 0, 0 },
	{ "rules_file", OPT_PATH, OFF(rules_file), NULL, 0, 0 },
	{ "trust", OPT_ENUM, OFF(trust), trust_names, 0, 0 },
	{ "ca_file", OPT_PATH, OFF(ca_file), NULL, 0, 0 },
	{ "ca_dir", OPT_PATH, OFF(ca_dir), NULL, 0, 0 },
	{ "chain_file", OPT_PATH, OFF(chain_file), NULL, 0, 0 },
	{ "crl_file", OPT_PATH, OFF(crl_file), NULL, 0, 0 },
	{ "crl_dir", OPT_PATH, OFF(crl_dir), NULL, 0, 0 },
	{ "crl", OPT_ENUM, OFF(crl), crl_names, 0, 0 },
	{ "crl_warn", OPT_LONG, OFF(crl_warn), NULL, 0, 2592000 },
	{ "crl_grace", OPT_LONG, OFF(crl_grace), NULL, 0, 2592000 },
	{ "crl_skew", OPT_LONG, OFF(crl_skew), NULL, 0, 86400 },
	{ "ocsp", OPT_ENUM, OFF(ocsp), ocsp_names, 0, 0 },
	{ "ocsp_url", OPT_URL, OFF(ocsp_url), NULL, 0, 0 },
	{ "ocsp_timeout_ms", OPT_LONG, OFF(ocsp_timeout_ms), NULL, 100, 60000 },
	{ "ocsp_cache_dir", OPT_PATH, OFF(ocsp_cache_dir), NULL, 0, 0 },
	{ "ocsp_scope", OPT_ENUM, OFF(ocsp_scope), scope_names, 0, 0 },
	{ "ocsp_nonce", OPT_ENUM, OFF(ocsp_nonce), bool_names, 0, 0 },
	{ "ocsp_digest", OPT_ENUM, OFF(ocsp_digest), digest_names, 0, 0 },
	{ "ocsp_proxy", OPT_URL, OFF(ocsp_proxy), NULL, 0, 0 },
	{ "ocsp_responder_cert", OPT_PATH, OFF(ocsp_responder_cert), NULL, 0,
	    0 },
	{ "ocsp_skew", OPT_LONG, OFF(ocsp_skew), NULL, 0, 86400 },
	{ "ocsp_max_age", OPT_LONG, OFF(ocsp_max_age), NULL, 1, 2592000 },
	{ "challenge_ttl", OPT_LONG, OFF(challenge_ttl), NULL, 1, 3600 },
	{ "hostname", OPT_STRING, OFF(hostname), NULL, 0, 0 },
	{ "agent", OPT_ENUM, OFF(agent), agent_names, 0, 0 },
	{ "pkcs11", OPT_ENUM, OFF(pkcs11), pkcs11_names, 0, 0 },
	{ "pkcs11_module", OPT_PATH, OFF(pkcs11_module), NULL, 0, 0 },
	{ "pkcs11_uri", OPT_STRING, OFF(pkcs11_uri), NULL, 0, 0 },
	{ "bindings", OPT_SOURCES, OFF(bindings), source_names, 0, 0 },
	{ "ldap_uri", OPT_LDAP_URIS, OFF(ldap_uri), NULL, 0, 0 },
	{ "ldap_base", OPT_STRING, OFF(ldap_base), NULL, 0, 0 },
	{ "ldap_filter", OPT_FILTER, OFF(ldap_filter), NULL, 0, 0 },
	{ "ldap_cert_attr", OPT_ATTR, OFF(ldap_cert_attr), NULL, 0, 0 },
	{ "ldap_tls", OPT_ENUM, OFF(ldap_tls), bool_names, 0, 0 },
	{ "ldap_ca_file", OPT_PATH, OFF(ldap_ca_file), NULL, 0, 0 },
	{ "ldap_bind_dn", OPT_STRING, OFF(ldap_bind_dn), NULL, 0, 0 },
	{ "ldap_bind_pw_file", OPT_PATH, OFF(ldap_bind_pw_file), NULL, 0, 0 },
	{ "ldap_timeout_ms", OPT_LONG, OFF(ldap_timeout_ms), NULL, 100, 60000 },
	{ "ldap_cache_dir", OPT_PATH, OFF(ldap_cache_dir), NULL, 0, 0 },
	{ "ldap_cache_max_age", OPT_LONG, OFF(ldap_cache_max_age), NULL, 0,
	    2592000 },
	{ "nouserok", OPT_FLAG, OFF(nouserok), bool_names, 0, 0 },
	{ "challenge_in_prompt", OPT_FLAG, OFF(challenge_in_prompt), bool_names,
	    0, 0 },
	{ "nodelay", OPT_FLAG, OFF(nodelay), bool_names, 0, 0 },
	{ "debug", OPT_FLAG, OFF(debug), bool_names, 0, 0 },
};
#undef OFF

void
certauth_opts_init(struct certauth_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->trust = CERTAUTH_TRUST_CA;
	o->crl = CERTAUTH_CRL_DEFAULT;
	o->crl_warn = 86400;
	o->crl_grace = 0;
	o->crl_skew = 300;
	o->ocsp = CERTAUTH_OCSP_OFF;
	o->ocsp_timeout_ms = 3000;
	o->ocsp_scope = CERTAUTH_SCOPE_LEAF;
	o->ocsp_nonce = 1;
	o->ocsp_digest = CERTAUTH_OCSP_SHA1;
	o->ocsp_skew = 300;
	o->ocsp_max_age = 3600;
	o->challenge_ttl = 120;
	o->bindings[0] = CERTAUTH_SOURCE_FILES;
	o->nbindings = 1;
	o->ldap_tls = 1;
	o->ldap_timeout_ms = 3000;
	o->ldap_cache_max_age = 3600;
}

/* Whether options of type t hold a malloc'd string. */
static int
holds_string(enum opt_type t)
{
	return t == OPT_PATH || t == OPT_STRING || t == OPT_URL ||
	    t == OPT_LDAP_URIS || t == OPT_FILTER || t == OPT_ATTR;
}

void
certauth_opts_free(struct certauth_opts *o)
{
	size_t i;

	for (i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++) {
		const struct opt_desc *d = &opt_table[i];

		if (holds_string(d->type))
			free(*(char **)(void *)((char *)o + d->offset));
	}
	certauth_opts_init(o);
}

static const struct opt_desc *
find_opt(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++)
		if (strcmp(opt_table[i].key, key) == 0)
			return &opt_table[i];
	return NULL;
}

static int
has_control_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if (iscntrl((unsigned char)*s))
			return 1;
	return 0;
}

/* Parse a decimal number into [min, max]; 0 or CERTAUTH_ERR_CONFIG. */
static int
parse_long(const char *value, long min, long max, long *out)
{
	char *end = NULL;
	long v;

	if (!isdigit((unsigned char)value[0]))
		return CERTAUTH_ERR_CONFIG;
	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return CERTAUTH_ERR_CONFIG;
	*out = v;
	return 0;
}

static int
parse_enum(const struct enum_name *names, const char *value, int *out)
{
	for (; names->name != NULL; names++) {
		if (strcmp(names->name, value) == 0) {
			*out = names->value;
			return 0;
		}
	}
	return CERTAUTH_ERR_CONFIG;
}

static int
set_string(const struct opt_desc *d, struct certauth_opts *o, const char *value,
    struct certauth_reason *reason)
{
	char **slot = (char **)(void *)((char *)o + d->offset);
	char *copy;

	if (d->type == OPT_PATH && value[0] != '/') {
		certauth_reason_set(reason,
		    "option %s: '%s' is not an absolute path", d->key, value);
		return CERTAUTH_ERR_CONFIG;
	}
	if (d->type == OPT_URL && strncmp(value, "http://", 7) != 0 &&
	    strncmp(value, "https://", 8) != 0) {
		certauth_reason_set(reason,
		    "option %s: '%s' is not an http:// or https:// URL", d->key,
		    value);
		return CERTAUTH_ERR_CONFIG;
	}
	if ((copy = strdup(value)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

/*
 * Whether value asks to unset d: the empty value for a path, a URL or a
 * string, and "none" for a path or a URL, which can never be one of
 * those.  A string such as the host name may be "none" itself.
 */
static int
is_unset(const struct opt_desc *d, const char *value)
{
	switch (d->type) {
	case OPT_PATH:
	case OPT_URL:
	case OPT_LDAP_URIS:
		return value[0] == '\0' || strcmp(value, "none") == 0;
	case OPT_STRING:
	case OPT_FILTER:
	case OPT_ATTR:
		return value[0] == '\0';
	default:
		return 0;
	}
}

/* The values an enum or a flag takes, for a reason: "ca or pinned". */
static void
say_names(const struct enum_name *names, char *buf, size_t size)
{
	size_t used = 0;
	int n;

	buf[0] = '\0';
	if (names == bool_names) {
		snprintf(buf, size, "yes or no");
		return;
	}
	for (; names->name != NULL && used < size; names++) {
		n = snprintf(buf + used, size - used, "%s%s",
		    used == 0		      ? "" :
			names[1].name == NULL ? " or " :
						", ",
		    names->name);
		if (n < 0)
			return;
		used += (size_t)n;
	}
}

/*
 * Back to the default: the string is freed and left NULL (the default of
 * every path, URL and string).  config and the keys that are never
 * unset get a reason saying what to give instead.
 */
static int
unset_opt(const struct opt_desc *d, struct certauth_opts *o,
    struct certauth_reason *reason)
{
	char **slot = (char **)(void *)((char *)o + d->offset);
	char names[128];

	if (strcmp(d->key, "config") == 0) {
		certauth_reason_set(reason,
		    "option config cannot be unset: leave it out to read the "
		    "default file");
		return CERTAUTH_ERR_CONFIG;
	}
	switch (d->type) {
	case OPT_PATH:
	case OPT_URL:
	case OPT_STRING:
	case OPT_LDAP_URIS:
	case OPT_FILTER:
	case OPT_ATTR:
		free(*slot);
		*slot = NULL;
		/* The LDAP cache's default is a directory; unset is none. */
		if (strcmp(d->key, "ldap_cache_dir") == 0)
			o->ldap_cache_off = 1;
		return 0;
	case OPT_SOURCES:
		certauth_reason_set(reason,
		    "option %s cannot be unset: give a comma list of "
		    "binding sources (files, ldap)",
		    d->key);
		return CERTAUTH_ERR_CONFIG;
	case OPT_LONG:
		certauth_reason_set(reason,
		    "option %s cannot be unset: give a number from %ld to %ld",
		    d->key, d->min, d->max);
		return CERTAUTH_ERR_CONFIG;
	case OPT_ENUM:
	case OPT_FLAG:
		say_names(d->names, names, sizeof(names));
		certauth_reason_set(reason,
		    "option %s cannot be unset: give %s", d->key, names);
		return CERTAUTH_ERR_CONFIG;
	}
	return CERTAUTH_ERR_INTERNAL;
}

/*
 * bindings=: a comma list of names from d->names, each at most once, in
 * order; spaces around a name are allowed.  All or nothing: o changes
 * only when the whole list is good.
 */
static int
set_sources(const struct opt_desc *d, struct certauth_opts *o,
    const char *value, struct certauth_reason *reason)
{
	int list[CERTAUTH_SOURCE_COUNT], v;
	size_t n = 0, i, len;
	const char *p = value, *end;
	char name[32];

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strcspn(p, ",");
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(name)) {
			certauth_reason_set(reason,
			    "option %s: '%s' has an empty or overlong name",
			    d->key, value);
			return CERTAUTH_ERR_CONFIG;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		if (parse_enum(d->names, name, &v) != 0) {
			certauth_reason_set(reason,
			    "option %s: unknown binding source '%s' (known: "
			    "files, ldap, rules)",
			    d->key, name);
			return CERTAUTH_ERR_CONFIG;
		}
		for (i = 0; i < n; i++)
			if (list[i] == v) {
				certauth_reason_set(reason,
				    "option %s: binding source '%s' is named "
				    "twice",
				    d->key, name);
				return CERTAUTH_ERR_CONFIG;
			}
		if (n > 0 && list[n - 1] == CERTAUTH_SOURCE_RULES) {
			/* rules answers for every account it is asked
			 * about: a source after it would never be. */
			certauth_reason_set(reason,
			    "option %s: rules must be the last binding "
			    "source, '%s' after it would never be asked",
			    d->key, name);
			return CERTAUTH_ERR_CONFIG;
		}
		list[n++] = v;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	memcpy(o->bindings, list, n * sizeof(list[0]));
	o->nbindings = n;
	return 0;
}

/* One URI of ldap_uri, len bytes at p: ldap:// or ldaps://, then a host
 * (a name, an address, [IPv6]) and an optional :port, nothing else. */
static int
ldap_uri_ok(const char *p, size_t len)
{
	size_t skip, i;

	if (len > 7 && strncasecmp(p, "ldap://", 7) == 0)
		skip = 7;
	else if (len > 8 && strncasecmp(p, "ldaps://", 8) == 0)
		skip = 8;
	else
		return 0;
	if (p[len - 1] == '/')
		len--;
	if (len <= skip)
		return 0;
	for (i = skip; i < len; i++)
		if (!isalnum((unsigned char)p[i]) &&
		    strchr(".-_:[]%", p[i]) == NULL)
			return 0;
	return 1;
}

/*
 * An LDAP filter template: only %u (the escaped user name) and %% after
 * a '%', at least one %u, and the whole in balanced parentheses.
 */
static int
ldap_filter_ok(const char *v)
{
	int depth = 0, has_u = 0;
	const char *p;

	if (v[0] != '(')
		return 0;
	for (p = v; *p != '\0'; p++) {
		if (*p == '%') {
			if (p[1] == 'u')
				has_u = 1;
			else if (p[1] != '%')
				return 0;
			p++;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (--depth < 0)
				return 0;
			if (depth == 0 && p[1] != '\0')
				return 0;
		}
	}
	return has_u && depth == 0;
}

/* An attribute description: a name or an OID, then ;options. */
static int
ldap_attr_ok(const char *v)
{
	const char *p;

	if (!isalnum((unsigned char)v[0]))
		return 0;
	for (p = v; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-.;", *p) == NULL)
			return 0;
	return p[-1] != ';';
}

/* The checks of the LDAP string options; 0 or -1 with a reason. */
static int
check_ldap_value(const struct opt_desc *d, const char *value,
    struct certauth_reason *reason)
{
	const char *p = value, *end;

	switch (d->type) {
	case OPT_LDAP_URIS:
		for (;;) {
			end = p + strcspn(p, ",");
			if (!ldap_uri_ok(p, (size_t)(end - p))) {
				certauth_reason_set(reason,
				    "option %s: '%.*s' is not an ldaps:// or "
				    "ldap:// URI of a host (and port)",
				    d->key, (int)(end - p), p);
				return -1;
			}
			if (*end == '\0')
				return 0;
			p = end + 1;
		}
	case OPT_FILTER:
		if (ldap_filter_ok(value))
			return 0;
		certauth_reason_set(reason,
		    "option %s: '%s' is not a filter in parentheses with %%u "
		    "for the user name (and %%%% for a %%, no other %%)",
		    d->key, value);
		return -1;
	case OPT_ATTR:
		if (ldap_attr_ok(value))
			return 0;
		certauth_reason_set(reason,
		    "option %s: '%s' is not an attribute description", d->key,
		    value);
		return -1;
	default:
		return 0;
	}
}

int
certauth_opts_set(struct certauth_opts *o, const char *key, const char *value,
    struct certauth_reason *reason)
{
	const struct opt_desc *d;
	int *ival;

	if ((d = find_opt(key)) == NULL) {
		certauth_reason_set(reason, "unknown option '%s'", key);
		return CERTAUTH_ERR_CONFIG;
	}
	if (value == NULL && d->type == OPT_FLAG)
		value = "yes";
	if (value == NULL) {
		certauth_reason_set(reason, "option %s needs a value", key);
		return CERTAUTH_ERR_CONFIG;
	}
	if (value[0] == '\0' || is_unset(d, value))
		return unset_opt(d, o, reason);
	if (has_control_chars(value)) {
		certauth_reason_set(reason,
		    "option %s: value holds a control character", key);
		return CERTAUTH_ERR_CONFIG;
	}
	ival = (int *)(void *)((char *)o + d->offset);
	switch (d->type) {
	case OPT_PATH:
	case OPT_STRING:
	case OPT_URL:
		if (strcmp(d->key, "ldap_cache_dir") == 0)
			o->ldap_cache_off = 0;
		return set_string(d, o, value, reason);
	case OPT_LDAP_URIS:
	case OPT_FILTER:
	case OPT_ATTR:
		if (check_ldap_value(d, value, reason) != 0)
			return CERTAUTH_ERR_CONFIG;
		return set_string(d, o, value, reason);
	case OPT_SOURCES:
		return set_sources(d, o, value, reason);
	case OPT_LONG:
		if (parse_long(value, d->min, d->max,
			(long *)(void *)((char *)o + d->offset)) != 0) {
			certauth_reason_set(reason,
			    "option %s: '%s' is not a "
			    "number from %ld to %ld",
			    key, value, d->min, d->max);
			return CERTAUTH_ERR_CONFIG;
		}
		return 0;
	case OPT_ENUM:
	case OPT_FLAG:
		if (parse_enum(d->names, value, ival) != 0) {
			certauth_reason_set(reason,
			    "option %s: '%s' is not a valid value", key, value);
			return CERTAUTH_ERR_CONFIG;
		}
		return 0;
	}
	return CERTAUTH_ERR_INTERNAL;
}

int
certauth_opts_set_word(struct certauth_opts *o, const char *word,
    struct certauth_reason *reason)
{
	const char *eq = strchr(word, '=');
	char key[64];
	size_t klen;

	if (eq == NULL)
		return certauth_opts_set(o, word, NULL, reason);
	klen = (size_t)(eq - word);
	if (klen == 0 || klen >= sizeof(key)) {
		certauth_reason_set(reason, "malformed option '%.*s'",
		    (int)(klen < 64 ? klen : 64), word);
		return CERTAUTH_ERR_CONFIG;
	}
	memcpy(key, word, klen);
	key[klen] = '\0';
	return certauth_opts_set(o, key, eq + 1, reason);
}

/* Apply one config-file line; lineno for the reason. */
static int
apply_line(struct certauth_opts *o, const char *path, unsigned lineno,
    char *line, struct certauth_reason *reason)
{
	char *key, *value = NULL, *eq;
	int r;

	key = certauth_trim(line);
	if (*key == '\0' || *key == '#')
		return 0;
	if ((eq = strchr(key, '=')) != NULL) {
		*eq = '\0';
		value = certauth_trim(eq + 1);
		key = certauth_trim(key);
	}
	if (strcmp(key, "config") == 0) {
		certauth_reason_set(reason,
		    "%s line %u: option config is "
		    "not allowed inside a configuration file",
		    path, lineno);
		return CERTAUTH_ERR_CONFIG;
	}
	if ((r = certauth_opts_set(o, key, value, reason)) ==
	    CERTAUTH_ERR_CONFIG) {
		char inner[CERTAUTH_REASON_MAX];

		snprintf(inner, sizeof(inner), "%s",
		    reason ? reason->text : "");
		certauth_reason_set(reason, "%s line %u: %s", path, lineno,
		    inner);
	}
	return r;
}

int
certauth_opts_load_file(struct certauth_opts *o, const char *path,
    int must_exist, struct certauth_reason *reason)
{
	int r = CERTAUTH_ERR_INTERNAL;
	char *buf = NULL, *line, *next;
	size_t len = 0;
	unsigned lineno = 0;

	r = certauth_read_safely(path, "configuration file", CONFIG_MAX_BYTES,
	    0, NULL, &buf, &len, reason);
	if (r == CERTAUTH_ERR_NOT_FOUND && !must_exist) {
		r = 0;
		goto out;
	}
	if (r != 0) {
		if (r == CERTAUTH_ERR_NOT_FOUND)
			certauth_reason_set(reason,
			    "configuration file %s does not exist", path);
		r = r == CERTAUTH_ERR_NOMEM ? r : CERTAUTH_ERR_CONFIG;
		goto out;
	}
	if (memchr(buf, '\0', len) != NULL) {
		certauth_reason_set(reason,
		    "configuration file %s holds a NUL byte", path);
		r = CERTAUTH_ERR_CONFIG;
		goto out;
	}
	for (line = buf; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		lineno++;
		if ((r = apply_line(o, path, lineno, line, reason)) != 0)
			goto out;
	}
	r = 0;
out:
	free(buf);
	return r;
}

/* Whether some URI of the list uses ldaps:// (TLS from the start). */
static int
has_ldaps(const char *uris)
{
	const char *p = uris;

	for (;;) {
		if (strncasecmp(p, "ldaps://", 8) == 0)
			return 1;
		if ((p = strchr(p, ',')) == NULL)
			return 0;
		p++;
	}
}

/* The options bindings=...,ldap,... needs, and the pairs that go
 * together. */
static int
validate_ldap(const struct certauth_opts *o, struct certauth_reason *reason)
{
	if (o->ldap_uri == NULL || o->ldap_base == NULL) {
		certauth_reason_set(reason,
		    "bindings=ldap needs ldap_uri and ldap_base");
		return CERTAUTH_ERR_CONFIG;
	}
	if ((o->ldap_tls || has_ldaps(o->ldap_uri)) &&
	    o->ldap_ca_file == NULL) {
		certauth_reason_set(reason,
		    "bindings=ldap with TLS (ldaps:// or ldap_tls=yes) needs "
		    "ldap_ca_file to verify the directory's certificate");
		return CERTAUTH_ERR_CONFIG;
	}
	if ((o->ldap_bind_dn == NULL) != (o->ldap_bind_pw_file == NULL)) {
		certauth_reason_set(reason,
		    "ldap_bind_dn and ldap_bind_pw_file go together: give "
		    "both for a simple bind, or neither for an anonymous one");
		return CERTAUTH_ERR_CONFIG;
	}
	return 0;
}

int
certauth_opts_validate(struct certauth_opts *o, struct certauth_reason *reason)
{
	int have_crl = o->crl_file != NULL || o->crl_dir != NULL, r;

	if (o->trust == CERTAUTH_TRUST_CA && o->ca_file == NULL &&
	    o->ca_dir == NULL) {
		certauth_reason_set(reason, "trust=ca needs ca_file or ca_dir");
		return CERTAUTH_ERR_CONFIG;
	}
	if (o->trust == CERTAUTH_TRUST_PINNED && have_crl) {
		/* A pinned certificate has no issuer here to check a CRL
		 * against; refusing beats silently skipping revocation. */
		certauth_reason_set(reason,
		    "crl_file and crl_dir cannot be used with trust=pinned: "
		    "unset them with an empty value (crl_file=)");
		return CERTAUTH_ERR_CONFIG;
	}
	o->crl = certauth_opts_crl_scope(o);
	if (o->crl != CERTAUTH_CRL_OFF && !have_crl) {
		certauth_reason_set(reason, "crl=%s needs crl_file or crl_dir",
		    o->crl == CERTAUTH_CRL_LEAF ? "leaf" : "chain");
		return CERTAUTH_ERR_CONFIG;
	}
	if (o->trust == CERTAUTH_TRUST_PINNED && o->ocsp != CERTAUTH_OCSP_OFF) {
		certauth_reason_set(reason,
		    "ocsp cannot be used with "
		    "trust=pinned: a pinned certificate has no issuer to ask");
		return CERTAUTH_ERR_CONFIG;
	}
	if (o->trust == CERTAUTH_TRUST_PINNED &&
	    certauth_opts_uses_source(o, CERTAUTH_SOURCE_RULES)) {
		/* The certificate a rule maps is the one the client offers:
		 * pinned, it would vouch for itself. */
		certauth_reason_set(reason,
		    "bindings=rules cannot be used with trust=pinned: a "
		    "certificate offered at login must chain to ca_file or "
		    "ca_dir");
		return CERTAUTH_ERR_CONFIG;
	}
	if (o->agent != CERTAUTH_AGENT_OFF &&
	    o->pkcs11 != CERTAUTH_PKCS11_OFF) {
		/* One answer source a login; which first is not a guess to
		 * make for the administrator. */
		certauth_reason_set(reason,
		    "agent and pkcs11 cannot both be on: the ssh-agent answers "
		    "for remote logins, a token for logins at this machine");
		return CERTAUTH_ERR_CONFIG;
	}
	if (o->pkcs11_uri != NULL &&
	    strncmp(o->pkcs11_uri, "pkcs11:", 7) != 0) {
		certauth_reason_set(reason,
		    "option pkcs11_uri: '%s' is not a pkcs11: URI (RFC 7512)",
		    o->pkcs11_uri);
		return CERTAUTH_ERR_CONFIG;
	}
	if (o->pkcs11_uri != NULL &&
	    (r = certauth_p11token_check_login_uri(o->pkcs11_uri, reason)) != 0)
		return r;
	if (certauth_opts_uses_source(o, CERTAUTH_SOURCE_LDAP))
		return validate_ldap(o, reason);
	return 0;
}

const char *
certauth_opts_bindings_dir(const struct certauth_opts *o)
{
	return o->bindings_dir != NULL ? o->bindings_dir :
					 CERTAUTH_DEFAULT_BINDINGS_DIR;
}

const char *
certauth_opts_rules_file(const struct certauth_opts *o)
{
	return o->rules_file != NULL ? o->rules_file :
				       CERTAUTH_DEFAULT_RULES_FILE;
}

int
certauth_opts_uses_source(const struct certauth_opts *o, int source)
{
	size_t i;

	for (i = 0; i < o->nbindings; i++)
		if (o->bindings[i] == source)
			return 1;
	return 0;
}

const char *
certauth_source_name(int source)
{
	const struct enum_name *n;

	for (n = source_names; n->name != NULL; n++)
		if (n->value == source)
			return n->name;
	return NULL;
}

const char *
certauth_opts_ldap_filter(const struct certauth_opts *o)
{
	return o->ldap_filter != NULL ? o->ldap_filter : "(uid=%u)";
}

const char *
certauth_opts_ldap_cert_attr(const struct certauth_opts *o)
{
	return o->ldap_cert_attr != NULL ? o->ldap_cert_attr :
					   "userCertificate;binary";
}

const char *
certauth_opts_ldap_cache_dir(const struct certauth_opts *o)
{
	if (o->ldap_cache_off)
		return NULL;
	return o->ldap_cache_dir != NULL ? o->ldap_cache_dir :
					   CERTAUTH_LDAP_CACHE_DIR;
}

int
certauth_opts_crl_scope(const struct certauth_opts *o)
{
	if (o->crl != CERTAUTH_CRL_DEFAULT)
		return o->crl;
	return o->crl_file != NULL || o->crl_dir != NULL ? CERTAUTH_CRL_LEAF :
							   CERTAUTH_CRL_OFF;
}

const char *
certauth_opts_key(size_t i, int *is_flag)
{
	if (i >= sizeof(opt_table) / sizeof(opt_table[0]))
		return NULL;
	if (is_flag != NULL)
		*is_flag = opt_table[i].type == OPT_FLAG;
	return opt_table[i].key;
}

int
certauth_opts_from_words(struct certauth_opts *o, int argc, const char **argv,
    struct certauth_reason *reason)
{
	const char *config = NULL;
	int i, r;

	for (i = 0; i < argc; i++)
		if (strncmp(argv[i], "config=", 7) == 0)
			config = argv[i] + 7;
	/* Refused (not absolute, or asked to unset) with the setter's reason
	 * before any file is read. */
	if (config != NULL && config[0] != '/') {
		r = certauth_opts_set(o, "config", config, reason);
		return r != 0 ? r : CERTAUTH_ERR_INTERNAL;
	}
	r = certauth_opts_load_file(o,
	    config != NULL ? config : CERTAUTH_DEFAULT_CONFIG, config != NULL,
	    reason);
	if (r != 0)
		return r;
	for (i = 0; i < argc; i++)
		if ((r = certauth_opts_set_word(o, argv[i], reason)) != 0)
			return r;
	return certauth_opts_validate(o, reason);
}
