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
#include <unistd.h>

#include "certauth.h"
#include "options.h"
#include "safefile.h"

#define CONFIG_MAX_BYTES (64 * 1024)

enum opt_type { OPT_PATH, OPT_STRING, OPT_URL, OPT_ENUM, OPT_LONG, OPT_FLAG };

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
}

void
certauth_opts_free(struct certauth_opts *o)
{
	size_t i;

	for (i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++) {
		const struct opt_desc *d = &opt_table[i];

		if (d->type == OPT_PATH || d->type == OPT_STRING ||
		    d->type == OPT_URL)
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
		return value[0] == '\0' || strcmp(value, "none") == 0;
	case OPT_STRING:
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
		free(*slot);
		*slot = NULL;
		return 0;
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
		return set_string(d, o, value, reason);
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

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Apply one config-file line; lineno for the reason. */
static int
apply_line(struct certauth_opts *o, const char *path, unsigned lineno,
    char *line, struct certauth_reason *reason)
{
	char *key, *value = NULL, *eq;
	int r;

	key = trim(line);
	if (*key == '\0' || *key == '#')
		return 0;
	if ((eq = strchr(key, '=')) != NULL) {
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
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

int
certauth_opts_validate(struct certauth_opts *o, struct certauth_reason *reason)
{
	int have_crl = o->crl_file != NULL || o->crl_dir != NULL;

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
