/*
 * rules.c - certificate mapping rules (rules.h).
 *
 * The match grammar is the part of SSSD's sss-certmap(5) KRB5 matching
 * rules listed in pam_certauth.conf(5), read as sssctl cert-eval-rule
 * reads it (tests/e2e/certmap.py holds the two side by side): keywords
 * and the KRB5: prefix are case-sensitive, key-usage, extended-key-usage
 * and SAN type names are not; a DN is matched in its RFC 4514 form with
 * every attribute its own RDN, most specific first, and OpenSSL's
 * escaping (',' as "\,", bytes above 0x7f as "\C3\BC"); a SAN component
 * matches when the certificate has that type and every value of it
 * matches.  What SSSD accepts and this code does not is refused by name,
 * never ignored.
 */
#include "config.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certauth.h"
#include "certutil.h"
#include "rules.h"
#include "safefile.h"

#define COMPONENTS_MAX 16 /* components in one match rule */
#define EKUS_MAX       16 /* OIDs in one <EKU> list */
#define VALUES_MAX     64 /* values of one kind taken from a certificate */
#define LINE_MAX_CHARS 4096
/*
 * glibc's regcomp copies the operand of every '+' and '{n,m}' (x+ is
 * xx*), so nested repetitions grow as a product: "a++++...+" of a
 * hundred '+' asks for 2^100 nodes.  An expression is refused when its
 * estimated size passes this, or its groups nest deeper than RE_DEPTH.
 */
#define RE_COST_MAX 2000
#define RE_DEPTH    16

/* SSSD's default match rule: a key for signing logins. */
#define DEFAULT_MATCH "<KU>digitalSignature<EKU>clientAuth"

#define OID_UPN	   "1.3.6.1.4.1.311.20.2.3"
#define OID_PKINIT "1.3.6.1.5.2.2"

enum comp_kind { COMP_SUBJECT, COMP_ISSUER, COMP_KU, COMP_EKU, COMP_SAN };
/* The kinds of certificate values: SAN types, and the subject's CNs. */
enum val_kind { VAL_RFC822, VAL_UPN, VAL_PRINCIPAL, VAL_DNS, VAL_CN, VAL_N };

struct component {
	enum comp_kind kind;
	enum val_kind san; /* COMP_SAN */
	regex_t re;	   /* COMP_SUBJECT, _ISSUER, _SAN */
	int have_re;
	uint32_t ku;		    /* COMP_KU: every bit required */
	ASN1_OBJECT *eku[EKUS_MAX]; /* COMP_EKU: every OID required */
	int neku;
};

struct rule {
	char name[CERTAUTH_RULE_NAME_MAX + 1];
	unsigned line; /* of its [NAME], for reasons */
	int any;       /* "||": one component suffices */
	struct component comp[COMPONENTS_MAX];
	int ncomp;
	enum val_kind map; /* the template's values */
	int short_name;	   /* the part before the first '@' */
	int have_match, have_map;
};

struct certauth_rules {
	struct rule *rule;
	int n;
};

/* What the rules look at in one certificate, read once. */
struct cert_view {
	char *subject, *issuer; /* RFC 4514 strings, as SSSD writes them */
	uint32_t ku;		/* all bits when it has no key usage */
	EXTENDED_KEY_USAGE *eku;
	char *val[VAL_N][VALUES_MAX];
	int nval[VAL_N];
};

static const struct {
	const char *name;
	uint32_t bit;
} ku_names[] = {
	{ "digitalSignature", KU_DIGITAL_SIGNATURE },
	{ "nonRepudiation", KU_NON_REPUDIATION },
	{ "keyEncipherment", KU_KEY_ENCIPHERMENT },
	{ "dataEncipherment", KU_DATA_ENCIPHERMENT },
	{ "keyAgreement", KU_KEY_AGREEMENT },
	{ "keyCertSign", KU_KEY_CERT_SIGN },
	{ "cRLSign", KU_CRL_SIGN },
	{ "encipherOnly", KU_ENCIPHER_ONLY },
	{ "decipherOnly", KU_DECIPHER_ONLY },
};

static const struct {
	const char *name, *oid;
} eku_names[] = {
	{ "serverAuth", "1.3.6.1.5.5.7.3.1" },
	{ "clientAuth", "1.3.6.1.5.5.7.3.2" },
	{ "codeSigning", "1.3.6.1.5.5.7.3.3" },
	{ "emailProtection", "1.3.6.1.5.5.7.3.4" },
	{ "timeStamping", "1.3.6.1.5.5.7.3.8" },
	{ "OCSPSigning", "1.3.6.1.5.5.7.3.9" },
	{ "KPClientAuth", "1.3.6.1.5.2.3.4" },
	/* PKINIT's client EKU as well: as sssctl reads it, not the KDC's. */
	{ "pkinit", "1.3.6.1.5.2.3.4" },
	{ "msScLogin", "1.3.6.1.4.1.311.20.2.2" },
};

/* <SAN:type> names this code evaluates, and those SSSD knows that it
 * refuses by name. */
static const struct {
	const char *name;
	enum val_kind kind;
} san_names[] = {
	{ "rfc822Name", VAL_RFC822 },
	{ "ntPrincipalName", VAL_UPN },
	{ "Principal", VAL_PRINCIPAL },
	{ "dNSName", VAL_DNS },
};

static const struct {
	const char *text;
	enum val_kind kind;
	int short_name, ldapu1;
} templates[] = {
	{ "{subject_rfc822_name}", VAL_RFC822, 0, 0 },
	{ "{subject_rfc822_name.short_name}", VAL_RFC822, 1, 0 },
	{ "{subject_nt_principal}", VAL_UPN, 0, 0 },
	{ "{subject_nt_principal.short_name}", VAL_UPN, 1, 0 },
	{ "{subject_principal}", VAL_PRINCIPAL, 0, 0 },
	{ "{subject_principal.short_name}", VAL_PRINCIPAL, 1, 0 },
	{ "{subject_dn_component.cn}", VAL_CN, 0, 1 },
};

static const char *const val_names[VAL_N] = { "rfc822Name SAN",
	"Microsoft UPN SAN", "Kerberos principal SAN (UPN or PKINIT)",
	"dNSName SAN", "subject CN" };

/* ---------------------------------------------------------------- PKINIT */

/* KRB5PrincipalName of RFC 4556, the value of the PKINIT otherName. */
typedef struct {
	ASN1_INTEGER *type;
	STACK_OF(ASN1_UTF8STRING) *names; /* GeneralStrings */
} PKINIT_NAME;

typedef struct {
	ASN1_GENERALSTRING *realm;
	PKINIT_NAME *name;
} PKINIT_PRINC;

ASN1_SEQUENCE(PKINIT_NAME) = {
	ASN1_EXP(PKINIT_NAME, type, ASN1_INTEGER, 0),
	ASN1_EXP_SEQUENCE_OF(PKINIT_NAME, names, ASN1_GENERALSTRING, 1),
} static_ASN1_SEQUENCE_END(PKINIT_NAME)

ASN1_SEQUENCE(PKINIT_PRINC) = {
	ASN1_EXP(PKINIT_PRINC, realm, ASN1_GENERALSTRING, 0),
	ASN1_EXP(PKINIT_PRINC, name, PKINIT_NAME, 1),
} static_ASN1_SEQUENCE_END(PKINIT_PRINC)

/* ------------------------------------------------------------ the text */

static void
component_clear(struct component *c)
{
	int i;

	if (c->have_re)
		regfree(&c->re);
	for (i = 0; i < c->neku; i++)
		ASN1_OBJECT_free(c->eku[i]);
	memset(c, 0, sizeof(*c));
}

static void
rule_clear(struct rule *r)
{
	int i;

	for (i = 0; i < r->ncomp; i++)
		component_clear(&r->comp[i]);
	r->ncomp = 0;
}

void
certauth_rules_free(struct certauth_rules *rules)
{
	int i;

	if (rules == NULL)
		return;
	for (i = 0; i < rules->n; i++)
		rule_clear(&rules->rule[i]);
	free(rules->rule);
	free(rules);
}

int
certauth_rules_count(const struct certauth_rules *rules)
{
	return rules != NULL ? rules->n : 0;
}

/* Where a reason starts: "PATH line N: rule NAME: ". */
struct where {
	const char *file;
	unsigned line;
	const char *rule;
};

static int refuse(const struct where *w, struct certauth_reason *reason,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A configuration error at w; always CERTAUTH_ERR_CONFIG. */
static int
refuse(const struct where *w, struct certauth_reason *reason, const char *fmt,
    ...)
{
	char text[CERTAUTH_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(text, sizeof(text), fmt, ap) < 0)
		text[0] = '\0';
	va_end(ap);
	if (w->rule != NULL)
		certauth_reason_set(reason, "%s line %u: rule %s: %s", w->file,
		    w->line, w->rule, text);
	else
		certauth_reason_set(reason, "%s line %u: %s", w->file, w->line,
		    text);
	return CERTAUTH_ERR_CONFIG;
}

/* An upper bound, saturating at RE_COST_MAX + 1, of what regcomp makes
 * of the expression at *p, up to the ')' that closes a group of depth. */
static unsigned long
re_cost(const char **p, int depth)
{
	unsigned long total = 0, atom, n, m;
	const char *s = *p;
	char *end;

	if (depth > RE_DEPTH)
		return RE_COST_MAX + 1;
	while (*s != '\0' && *s != ')') {
		atom = 1;
		if (*s == '(') {
			s++;
			atom = re_cost(&s, depth + 1) + 1;
			if (*s == ')')
				s++;
		} else if (*s == '[') {
			/* A bracket expression: ']' first is a member. */
			s++;
			if (*s == '^')
				s++;
			if (*s == ']')
				s++;
			while (*s != '\0' && *s != ']') {
				if (s[0] == '[' &&
				    strchr(":.=", s[1]) != NULL &&
				    s[1] != '\0') {
					const char *close = strstr(s + 2, "]");

					s = close != NULL ? close + 1 :
							    s + strlen(s);
				} else {
					s++;
				}
			}
			if (*s == ']')
				s++;
		} else if (*s == '\\' && s[1] != '\0') {
			/* Back-references make matching exponential. */
			if (isdigit((unsigned char)s[1]))
				return RE_COST_MAX + 1;
			s += 2;
		} else {
			s++;
		}
		for (;;) {
			if (*s == '*' || *s == '?') {
				atom += 1;
				s++;
			} else if (*s == '+') {
				atom *= 2;
				s++;
			} else if (*s == '{' && isdigit((unsigned char)s[1])) {
				n = strtoul(s + 1, &end, 10);
				m = n;
				if (*end == ',')
					m = isdigit((unsigned char)end[1]) ?
					    strtoul(end + 1, &end, 10) :
					    (end++, n);
				if (*end != '}' || n > RE_COST_MAX ||
				    m > RE_COST_MAX)
					return RE_COST_MAX + 1;
				atom *= (n > m ? n : m) + 1;
				s = end + 1;
			} else {
				break;
			}
			if (atom > RE_COST_MAX)
				return RE_COST_MAX + 1;
		}
		total += atom;
		if (total > RE_COST_MAX)
			return RE_COST_MAX + 1;
	}
	*p = s;
	return total;
}

static int
compile_regex(const struct where *w, const char *kw, const char *value,
    struct component *c, struct certauth_reason *reason)
{
	char err[128];
	const char *p;
	unsigned long cost = 0;
	int e;

	if (value[0] == '\0')
		return refuse(w, reason, "<%s> needs a regular expression", kw);
	/* A stray ')' is an ordinary character: the cost goes on past it. */
	for (p = value; cost <= RE_COST_MAX; p++) {
		cost += re_cost(&p, 0);
		if (*p == '\0')
			break;
	}
	if (cost > RE_COST_MAX)
		return refuse(w, reason,
		    "<%s>: regular expression too complex (nested "
		    "repetitions or back-references)",
		    kw);
	if ((e = regcomp(&c->re, value, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(e, &c->re, err, sizeof(err));
		return refuse(w, reason, "<%s>%s: bad regular expression: %s",
		    kw, value, err);
	}
	c->have_re = 1;
	return 0;
}

/* The next item of a comma list, trimmed of blanks, into item (NUL
 * terminated); *p moves past it.  0 at the end, -1 when it is too long. */
static int
next_item(const char **p, char *item, size_t size)
{
	const char *s = *p, *e;
	size_t len;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			return 0;
		if (*s != ',')
			break;
		s++;
	}
	e = s + strcspn(s, ",");
	*p = *e == ',' ? e + 1 : e;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	len = (size_t)(e - s);
	if (len >= size)
		return -1;
	memcpy(item, s, len);
	item[len] = '\0';
	return 1;
}

static int
parse_ku(const struct where *w, const char *value, struct component *c,
    struct certauth_reason *reason)
{
	char item[64];
	size_t i;
	int n;

	while ((n = next_item(&value, item, sizeof(item))) != 0) {
		if (n < 0)
			return refuse(w, reason, "<KU>: an item is too long");
		for (i = 0; i < sizeof(ku_names) / sizeof(ku_names[0]); i++)
			if (strcasecmp(item, ku_names[i].name) == 0)
				break;
		if (i == sizeof(ku_names) / sizeof(ku_names[0])) {
			/* sssctl refuses numbers too; so does this. */
			return refuse(w, reason,
			    "<KU>: unknown key usage '%s' (give names such as "
			    "digitalSignature)",
			    item);
		}
		c->ku |= ku_names[i].bit;
	}
	if (c->ku == 0)
		return refuse(w, reason, "<KU> needs a key usage");
	return 0;
}

/* Digits and dots, at least one dot, no empty arc. */
static int
is_dotted_oid(const char *s)
{
	int dots = 0, digits = 0;

	for (; *s != '\0'; s++) {
		if (isdigit((unsigned char)*s)) {
			digits++;
		} else if (*s == '.' && digits > 0) {
			dots++;
			digits = 0;
		} else {
			return 0;
		}
	}
	return dots > 0 && digits > 0;
}

static int
parse_eku(const struct where *w, const char *value, struct component *c,
    struct certauth_reason *reason)
{
	char item[128];
	const char *oid;
	size_t i;
	int n;

	while ((n = next_item(&value, item, sizeof(item))) != 0) {
		if (n < 0)
			return refuse(w, reason, "<EKU>: an item is too long");
		oid = NULL;
		for (i = 0; i < sizeof(eku_names) / sizeof(eku_names[0]); i++)
			if (strcasecmp(item, eku_names[i].name) == 0)
				oid = eku_names[i].oid;
		if (oid == NULL && is_dotted_oid(item))
			oid = item;
		if (oid == NULL)
			return refuse(w, reason,
			    "<EKU>: unknown extended key usage '%s' (give a "
			    "name such as clientAuth or a dotted OID)",
			    item);
		if (c->neku == EKUS_MAX)
			return refuse(w, reason,
			    "<EKU>: more than %d extended key usages",
			    EKUS_MAX);
		if ((c->eku[c->neku] = OBJ_txt2obj(oid, 1)) == NULL) {
			ERR_clear_error();
			return refuse(w, reason, "<EKU>: bad OID '%s'", item);
		}
		c->neku++;
	}
	if (c->neku == 0)
		return refuse(w, reason, "<EKU> needs an extended key usage");
	return 0;
}

/* <SAN...>: the type after "SAN" ("" or ":type"). */
static int
parse_san(const struct where *w, const char *type, const char *value,
    struct component *c, struct certauth_reason *reason)
{
	size_t i;

	c->kind = COMP_SAN;
	if (type[0] == '\0') {
		c->san = VAL_PRINCIPAL;
	} else {
		type++; /* the ':' */
		for (i = 0; i < sizeof(san_names) / sizeof(san_names[0]); i++)
			if (strcasecmp(type, san_names[i].name) == 0)
				break;
		if (i == sizeof(san_names) / sizeof(san_names[0]))
			return refuse(w, reason,
			    "<SAN:%s> is not supported (supported: "
			    "rfc822Name, ntPrincipalName, Principal, dNSName)",
			    type);
		c->san = san_names[i].kind;
	}
	return compile_regex(w, "SAN", value, c, reason);
}

/* One component: kw is the text between '<' and '>'. */
static int
parse_component(const struct where *w, const char *kw, const char *value,
    struct component *c, struct certauth_reason *reason)
{
	if (strcmp(kw, "SUBJECT") == 0) {
		c->kind = COMP_SUBJECT;
		return compile_regex(w, kw, value, c, reason);
	}
	if (strcmp(kw, "ISSUER") == 0) {
		c->kind = COMP_ISSUER;
		return compile_regex(w, kw, value, c, reason);
	}
	if (strcmp(kw, "KU") == 0) {
		c->kind = COMP_KU;
		return parse_ku(w, value, c, reason);
	}
	if (strcmp(kw, "EKU") == 0) {
		c->kind = COMP_EKU;
		return parse_eku(w, value, c, reason);
	}
	if (strncmp(kw, "SAN", 3) == 0 && (kw[3] == '\0' || kw[3] == ':'))
		return parse_san(w, kw + 3, value, c, reason);
	return refuse(w, reason,
	    "<%s> is not supported (supported: SUBJECT, ISSUER, KU, EKU, "
	    "SAN, SAN:rfc822Name, SAN:ntPrincipalName, SAN:Principal, "
	    "SAN:dNSName)",
	    kw);
}

static int
parse_match(const struct where *w, const char *text, struct rule *r,
    struct certauth_reason *reason)
{
	char kw[64], *value = NULL;
	const char *p = text, *gt, *next;
	size_t len;
	int ret = CERTAUTH_ERR_INTERNAL;

	if (strncmp(p, "LDAP:", 5) == 0 || strncmp(p, "LDAPU1:", 7) == 0) {
		ret = refuse(w, reason,
		    "matchrule: only KRB5 matching rules are supported");
		goto out;
	}
	if (strncmp(p, "KRB5:", 5) == 0)
		p += 5;
	if (strncmp(p, "&&", 2) == 0) {
		p += 2;
	} else if (strncmp(p, "||", 2) == 0) {
		r->any = 1;
		p += 2;
	}
	if (*p == '\0') {
		/* sssctl takes it and matches nothing: surely a mistake. */
		ret = refuse(w, reason, "matchrule has no component");
		goto out;
	}
	while (*p != '\0') {
		if (*p != '<') {
			ret = refuse(w, reason,
			    "matchrule: expected '<' at \"%.32s\"", p);
			goto out;
		}
		if ((gt = strchr(p, '>')) == NULL) {
			ret = refuse(w, reason,
			    "matchrule: unterminated '<' at \"%.32s\"", p);
			goto out;
		}
		len = (size_t)(gt - p - 1);
		if (len == 0 || len >= sizeof(kw)) {
			ret = refuse(w, reason,
			    "matchrule: bad keyword at \"%.32s\"", p);
			goto out;
		}
		memcpy(kw, p + 1, len);
		kw[len] = '\0';
		/* A value runs to the next '<', as sssctl reads it. */
		next = gt + 1 + strcspn(gt + 1, "<");
		free(value);
		if ((value = strndup(gt + 1, (size_t)(next - gt - 1))) ==
		    NULL) {
			ret = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		if (r->ncomp == COMPONENTS_MAX) {
			ret = refuse(w, reason,
			    "matchrule: more than %d components",
			    COMPONENTS_MAX);
			goto out;
		}
		if ((ret = parse_component(w, kw, value, &r->comp[r->ncomp],
			 reason)) != 0) {
			component_clear(&r->comp[r->ncomp]);
			goto out;
		}
		r->ncomp++;
		p = next;
	}
	ret = 0;
out:
	free(value);
	return ret;
}

static int
parse_map(const struct where *w, const char *text, struct rule *r,
    struct certauth_reason *reason)
{
	const char *t = text;
	int ldapu1 = 0;
	size_t i;

	if (strncmp(t, "LDAPU1:", 7) == 0) {
		ldapu1 = 1;
		t += 7;
	} else if (strncmp(t, "LDAP:", 5) == 0) {
		t += 5;
	}
	for (i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
		/* sssctl reads the attribute of a DN component in any case. */
		if (templates[i].kind == VAL_CN ?
			strcasecmp(t, templates[i].text) != 0 :
			strcmp(t, templates[i].text) != 0)
			continue;
		if (templates[i].ldapu1 && !ldapu1)
			return refuse(w, reason,
			    "maprule %s needs the LDAPU1: prefix", t);
		r->map = templates[i].kind;
		r->short_name = templates[i].short_name;
		return 0;
	}
	return refuse(w, reason,
	    "maprule '%s' is not supported: give exactly one of "
	    "{subject_rfc822_name}, {subject_nt_principal}, "
	    "{subject_principal} (each also with .short_name) or "
	    "LDAPU1:{subject_dn_component.cn}",
	    text);
}

static int
valid_rule_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CERTAUTH_RULE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

static int
start_rule(struct certauth_rules *set, struct where *w, char *line,
    struct certauth_reason *reason)
{
	struct rule *r;
	size_t len = strlen(line);
	int i;

	if (line[len - 1] != ']')
		return refuse(w, reason, "a section header must end with ']'");
	line[len - 1] = '\0';
	line++;
	if (!valid_rule_name(line, len - 2))
		return refuse(w, reason,
		    "bad rule name: 1 to %d characters of "
		    "A-Z a-z 0-9 . _ -",
		    CERTAUTH_RULE_NAME_MAX);
	for (i = 0; i < set->n; i++)
		if (strcmp(set->rule[i].name, line) == 0)
			return refuse(w, reason,
			    "rule %s is already defined on line %u", line,
			    set->rule[i].line);
	if (set->n == CERTAUTH_RULES_MAX)
		return refuse(w, reason, "more than %d rules",
		    CERTAUTH_RULES_MAX);
	r = &set->rule[set->n++];
	memset(r, 0, sizeof(*r));
	memcpy(r->name, line, len - 2);
	r->line = w->line;
	return 0;
}

static int
apply_key(struct rule *r, struct where *w, char *line,
    struct certauth_reason *reason)
{
	char *eq, *key, *value;

	w->rule = r->name;
	if ((eq = strchr(line, '=')) == NULL)
		return refuse(w, reason, "expected 'key = value'");
	*eq = '\0';
	key = certauth_trim(line);
	value = certauth_trim(eq + 1);
	if (strcmp(key, "matchrule") == 0) {
		if (r->have_match)
			return refuse(w, reason, "matchrule given twice");
		r->have_match = 1;
		return parse_match(w, value, r, reason);
	}
	if (strcmp(key, "maprule") == 0) {
		if (r->have_map)
			return refuse(w, reason, "maprule given twice");
		r->have_map = 1;
		return parse_map(w, value, r, reason);
	}
	if (strcmp(key, "priority") == 0 || strcmp(key, "domains") == 0)
		return refuse(w, reason,
		    "%s is not supported: every rule is evaluated, and "
		    "rules that map a certificate to different accounts "
		    "refuse it",
		    key);
	return refuse(w, reason, "unknown key '%.64s'", key);
}

/* The end of the last rule (or of the file): it must be whole. */
static int
finish_rule(struct certauth_rules *set, const char *file,
    struct certauth_reason *reason)
{
	struct rule *r;
	struct where w;
	int ret;

	if (set->n == 0)
		return 0;
	r = &set->rule[set->n - 1];
	w.file = file;
	w.line = r->line;
	w.rule = r->name;
	if (!r->have_map)
		return refuse(&w, reason, "no maprule");
	if (!r->have_match &&
	    (ret = parse_match(&w, DEFAULT_MATCH, r, reason)) != 0)
		return ret;
	return 0;
}

static int
parse_line(struct certauth_rules *set, struct where *w, char *line,
    struct certauth_reason *reason)
{
	int ret;

	w->rule = NULL;
	line = certauth_trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if (strlen(line) > LINE_MAX_CHARS)
		return refuse(w, reason, "line longer than %d characters",
		    LINE_MAX_CHARS);
	if (*line == '[') {
		if ((ret = finish_rule(set, w->file, reason)) != 0)
			return ret;
		return start_rule(set, w, line, reason);
	}
	if (set->n == 0)
		return refuse(w, reason, "a line outside any [rule] section");
	return apply_key(&set->rule[set->n - 1], w, line, reason);
}

int
certauth_rules_parse(const char *buf, size_t len, const char *name,
    struct certauth_rules **out, struct certauth_reason *reason)
{
	struct certauth_rules *set = NULL;
	char *text = NULL, *line, *next;
	struct where w = { name, 0, NULL };
	int ret = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if (len > CERTAUTH_RULES_FILE_MAX) {
		certauth_reason_set(reason, "%s is larger than %d bytes", name,
		    CERTAUTH_RULES_FILE_MAX);
		ret = CERTAUTH_ERR_TOO_LONG;
		goto out;
	}
	if (memchr(buf, '\0', len) != NULL) {
		certauth_reason_set(reason, "%s holds a NUL byte", name);
		ret = CERTAUTH_ERR_CONFIG;
		goto out;
	}
	if ((text = strndup(buf, len)) == NULL ||
	    (set = calloc(1, sizeof(*set))) == NULL ||
	    (set->rule = calloc(CERTAUTH_RULES_MAX, sizeof(*set->rule))) ==
		NULL) {
		ret = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		w.line++;
		if ((ret = parse_line(set, &w, line, reason)) != 0)
			goto out;
	}
	if ((ret = finish_rule(set, name, reason)) != 0)
		goto out;
	*out = set;
	set = NULL;
	ret = 0;
out:
	certauth_rules_free(set);
	free(text);
	return ret;
}

int
certauth_rules_load(const char *path, struct certauth_seen *seen,
    struct certauth_rules **out, struct certauth_reason *reason)
{
	char *buf = NULL;
	size_t len = 0;
	int ret = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	if ((ret = certauth_read_safely(path, "rules file",
		 CERTAUTH_RULES_FILE_MAX, 0, seen, &buf, &len, reason)) != 0)
		goto out;
	if ((ret = certauth_rules_parse(buf, len, path, out, reason)) != 0)
		goto out;
	ret = 0;
out:
	free(buf);
	return ret;
}

/* ------------------------------------------------------- a certificate */

static void
view_clear(struct cert_view *v)
{
	int k, i;

	free(v->subject);
	free(v->issuer);
	EXTENDED_KEY_USAGE_free(v->eku);
	for (k = 0; k < VAL_N; k++)
		for (i = 0; i < v->nval[k]; i++)
			free(v->val[k][i]);
	memset(v, 0, sizeof(*v));
}

/* A copy of s[0..len) as a C string; a NUL inside becomes '?', which
 * no account name holds and few expressions match. */
static int
add_value(struct cert_view *v, enum val_kind k, const unsigned char *s,
    size_t len)
{
	char *copy;
	size_t i;

	if (v->nval[k] == VALUES_MAX)
		return 0; /* more cannot name anything better */
	if ((copy = malloc(len + 1)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	for (i = 0; i < len; i++)
		copy[i] = s[i] == '\0' ? '?' : (char)s[i];
	copy[len] = '\0';
	v->val[k][v->nval[k]++] = copy;
	return 0;
}

static int
add_string(struct cert_view *v, enum val_kind k, const ASN1_STRING *s)
{
	return add_value(v, k, ASN1_STRING_get0_data(s),
	    (size_t)ASN1_STRING_length(s));
}

/* "comp1/comp2@REALM" from the DER of a KRB5PrincipalName. */
static int
add_pkinit(struct cert_view *v, const ASN1_TYPE *t)
{
	PKINIT_PRINC *p = NULL;
	const unsigned char *der;
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	int i, ret = CERTAUTH_ERR_INTERNAL;

	if (t->type != V_ASN1_SEQUENCE)
		return 0;
	der = ASN1_STRING_get0_data(t->value.sequence);
	if ((p = (PKINIT_PRINC *)ASN1_item_d2i(NULL, &der,
		 ASN1_STRING_length(t->value.sequence),
		 ASN1_ITEM_rptr(PKINIT_PRINC))) == NULL) {
		ERR_clear_error();
		return 0; /* not a principal: no value */
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL) {
		ret = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < sk_ASN1_UTF8STRING_num(p->name->names); i++) {
		const ASN1_STRING *c = sk_ASN1_UTF8STRING_value(p->name->names,
		    i);

		if ((i > 0 && BIO_write(bio, "/", 1) != 1) ||
		    BIO_write(bio, ASN1_STRING_get0_data(c),
			ASN1_STRING_length(c)) != ASN1_STRING_length(c))
			goto out;
	}
	if (BIO_write(bio, "@", 1) != 1 ||
	    BIO_write(bio, ASN1_STRING_get0_data(p->realm),
		ASN1_STRING_length(p->realm)) != ASN1_STRING_length(p->realm))
		goto out;
	n = BIO_get_mem_data(bio, &data);
	ret = add_value(v, VAL_PRINCIPAL, (const unsigned char *)data,
	    (size_t)n);
out:
	BIO_free(bio);
	ASN1_item_free((ASN1_VALUE *)p, ASN1_ITEM_rptr(PKINIT_PRINC));
	return ret;
}

static int
add_other_name(struct cert_view *v, const OTHERNAME *on)
{
	char oid[64];
	int ret;

	if (OBJ_obj2txt(oid, sizeof(oid), on->type_id, 1) <= 0)
		return 0;
	if (strcmp(oid, OID_UPN) == 0) {
		if (on->value->type != V_ASN1_UTF8STRING)
			return 0;
		/* A UPN is a Kerberos principal too, as sssctl reads it. */
		if ((ret = add_string(v, VAL_UPN,
			 on->value->value.utf8string)) != 0 ||
		    (ret = add_string(v, VAL_PRINCIPAL,
			 on->value->value.utf8string)) != 0)
			return ret;
		return 0;
	}
	if (strcmp(oid, OID_PKINIT) == 0)
		return add_pkinit(v, on->value);
	return 0;
}

static int
read_sans(struct cert_view *v, X509 *cert)
{
	GENERAL_NAMES *sans = NULL;
	int i, crit = 0, ret = CERTAUTH_ERR_INTERNAL;

	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (sans == NULL) {
		/* crit -1: no SAN; else one that does not parse. */
		ERR_clear_error();
		ret = crit == -1 ? 0 : CERTAUTH_ERR_FORMAT;
		goto out;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);

		switch (g->type) {
		case GEN_EMAIL:
			ret = add_string(v, VAL_RFC822, g->d.rfc822Name);
			break;
		case GEN_DNS:
			ret = add_string(v, VAL_DNS, g->d.dNSName);
			break;
		case GEN_OTHERNAME:
			ret = add_other_name(v, g->d.otherName);
			break;
		default:
			ret = 0;
		}
		if (ret != 0)
			goto out;
	}
	ret = 0;
out:
	GENERAL_NAMES_free(sans);
	return ret;
}

/*
 * name as sssctl writes it: every attribute its own RDN (a multi-valued
 * RDN's parts apart), most specific first, OpenSSL's RFC 2253 escaping.
 */
static int
dn_string(const X509_NAME *name, char **out)
{
	X509_NAME *flat = NULL;
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	int i, ret = CERTAUTH_ERR_NOMEM;

	if ((flat = X509_NAME_new()) == NULL ||
	    (bio = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	for (i = 0; i < X509_NAME_entry_count(name); i++)
		if (!X509_NAME_add_entry(flat, X509_NAME_get_entry(name, i), -1,
			0))
			goto out;
	if (X509_NAME_print_ex(bio, flat, 0, XN_FLAG_RFC2253) < 0) {
		ret = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	n = BIO_get_mem_data(bio, &data);
	if ((*out = strndup(n > 0 ? data : "", n > 0 ? (size_t)n : 0)) == NULL)
		goto out;
	ret = 0;
out:
	ERR_clear_error();
	BIO_free(bio);
	X509_NAME_free(flat);
	return ret;
}

/* The subject's CNs, most specific first, in UTF-8. */
static int
read_cns(struct cert_view *v, X509 *cert)
{
	const X509_NAME *name = X509_get_subject_name(cert);
	unsigned char *utf8 = NULL;
	int i, len, ret;

	for (i = X509_NAME_entry_count(name) - 1; i >= 0; i--) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);

		if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) !=
		    NID_commonName)
			continue;
		if ((len = ASN1_STRING_to_UTF8(&utf8,
			 X509_NAME_ENTRY_get_data(e))) < 0) {
			ERR_clear_error();
			return CERTAUTH_ERR_FORMAT;
		}
		ret = add_value(v, VAL_CN, utf8, (size_t)len);
		OPENSSL_free(utf8);
		utf8 = NULL;
		if (ret != 0)
			return ret;
	}
	return 0;
}

static int
view_read(struct cert_view *v, X509 *cert)
{
	int crit = 0, ret = CERTAUTH_ERR_INTERNAL;

	memset(v, 0, sizeof(*v));
	if ((ret = dn_string(X509_get_subject_name(cert), &v->subject)) != 0 ||
	    (ret = dn_string(X509_get_issuer_name(cert), &v->issuer)) != 0 ||
	    (ret = read_sans(v, cert)) != 0 || (ret = read_cns(v, cert)) != 0)
		goto out;
	/* As X.509 matching does, and sssctl: no extension, every use. */
	v->ku = (X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0 ?
	    X509_get_key_usage(cert) :
	    UINT32_MAX;
	v->eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
	if (v->eku == NULL && crit != -1) {
		ret = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	ret = 0;
out:
	ERR_clear_error();
	if (ret != 0)
		view_clear(v);
	return ret;
}

/* ------------------------------------------------------------ matching */

static int
regex_matches(const regex_t *re, const char *s)
{
	return regexec(re, s, 0, NULL, 0) == 0;
}

static int
has_eku(const struct cert_view *v, const ASN1_OBJECT *oid)
{
	int i;

	for (i = 0; i < sk_ASN1_OBJECT_num(v->eku); i++)
		if (OBJ_cmp(sk_ASN1_OBJECT_value(v->eku, i), oid) == 0)
			return 1;
	return 0;
}

static int
component_matches(const struct component *c, const struct cert_view *v)
{
	int i;

	switch (c->kind) {
	case COMP_SUBJECT:
		return regex_matches(&c->re, v->subject);
	case COMP_ISSUER:
		return regex_matches(&c->re, v->issuer);
	case COMP_KU:
		return (v->ku & c->ku) == c->ku;
	case COMP_EKU:
		for (i = 0; i < c->neku; i++)
			if (!has_eku(v, c->eku[i]))
				return 0;
		return 1;
	case COMP_SAN:
		/* As sssctl: there is one, and every one matches. */
		if (v->nval[c->san] == 0)
			return 0;
		for (i = 0; i < v->nval[c->san]; i++)
			if (!regex_matches(&c->re, v->val[c->san][i]))
				return 0;
		return 1;
	}
	return 0;
}

static int
rule_matches(const struct rule *r, const struct cert_view *v)
{
	int i, m;

	for (i = 0; i < r->ncomp; i++) {
		m = component_matches(&r->comp[i], v);
		if (r->any && m)
			return 1;
		if (!r->any && !m)
			return 0;
	}
	return !r->any;
}

/* ------------------------------------------------------------- mapping */

int
certauth_account_valid(const char *name)
{
	size_t i, len = strlen(name);
	int digits_only = 1;

	if (len == 0 || len > CERTAUTH_ACCOUNT_MAX ||
	    strchr("-.@", name[0]) != NULL)
		return 0;
	for (i = 0; i < len; i++) {
		if (!isascii((unsigned char)name[i]))
			return 0;
		if (!isalnum((unsigned char)name[i]) &&
		    strchr("._-@", name[i]) == NULL)
			return 0;
		if (!isdigit((unsigned char)name[i]))
			digits_only = 0;
	}
	return !digits_only;
}

/* s for a reason: printable ASCII, the rest as '?', at most 64. */
static void
shown(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < size && i < 64; i++)
		buf[i] = isprint((unsigned char)s[i]) && isascii(s[i]) ? s[i] :
									 '?';
	buf[i] = '\0';
}

/* What one rule made of a certificate. */
struct mapped {
	const struct rule *rule;
	char name[CERTAUTH_ACCOUNT_MAX * 4 + 1]; /* long enough to show */
};

/*
 * The name rule r maps v to, into m: 0; 1 when the certificate has no
 * value of the template's kind; CERTAUTH_ERR_CERT_INVALID when two
 * values differ or the name is not an account.
 */
static int
rule_map(const struct rule *r, const struct cert_view *v, struct mapped *m,
    struct certauth_reason *reason)
{
	char a[80], b[80], name[sizeof(m->name)];
	const char *val;
	size_t len;
	int i;

	m->rule = r;
	m->name[0] = '\0';
	for (i = 0; i < v->nval[r->map]; i++) {
		val = v->val[r->map][i];
		len = r->short_name ? strcspn(val, "@") : strlen(val);
		snprintf(name, sizeof(name), "%.*s", (int)len, val);
		if (len >= sizeof(name))
			name[sizeof(name) - 2] = '?'; /* never an account */
		if (i > 0 && strcmp(name, m->name) != 0) {
			shown(m->name, a, sizeof(a));
			shown(name, b, sizeof(b));
			certauth_reason_set(reason,
			    "rule %s maps the certificate to both '%s' and "
			    "'%s' (two values of its %s)",
			    r->name, a, b, val_names[r->map]);
			return CERTAUTH_ERR_CERT_INVALID;
		}
		memcpy(m->name, name, sizeof(name));
	}
	if (v->nval[r->map] == 0)
		return 1;
	if (!certauth_account_valid(m->name)) {
		shown(m->name, a, sizeof(a));
		certauth_reason_set(reason,
		    "rule %s maps the certificate to '%s', which is not a "
		    "valid account name",
		    r->name, a);
		return CERTAUTH_ERR_CERT_INVALID;
	}
	return 0;
}

/* Every rule against v: the one account, or why none or why refused. */
static int
map_view(const struct certauth_rules *rules, const struct cert_view *v,
    struct mapped *found, struct certauth_reason *reason)
{
	const struct rule *empty = NULL;
	struct mapped m;
	int i, ret, have = 0;

	for (i = 0; i < rules->n; i++) {
		if (!rule_matches(&rules->rule[i], v))
			continue;
		if ((ret = rule_map(&rules->rule[i], v, &m, reason)) < 0)
			return ret;
		if (ret == 1) {
			if (empty == NULL)
				empty = &rules->rule[i];
			continue;
		}
		if (have && strcmp(m.name, found->name) != 0) {
			certauth_reason_set(reason,
			    "rules %s and %s map the certificate to different "
			    "accounts, %s and %s",
			    found->rule->name, m.rule->name, found->name,
			    m.name);
			return CERTAUTH_ERR_CERT_INVALID;
		}
		if (!have)
			*found = m;
		have = 1;
	}
	if (have)
		return 0;
	if (empty != NULL)
		certauth_reason_set(reason,
		    "rule %s matches the certificate, which has no %s to map",
		    empty->name, val_names[empty->map]);
	else
		certauth_reason_set(reason,
		    "no mapping rule matches the "
		    "certificate");
	return CERTAUTH_ERR_NOT_FOUND;
}

int
certauth_rules_map(const struct certauth_rules *rules, X509 *cert,
    char *account, size_t size, const char **rule_name,
    struct certauth_reason *reason)
{
	struct cert_view v;
	struct mapped m;
	int ret = CERTAUTH_ERR_INTERNAL;

	memset(&m, 0, sizeof(m));
	if (rule_name != NULL)
		*rule_name = NULL;
	if (size > 0)
		account[0] = '\0';
	if ((ret = view_read(&v, cert)) != 0) {
		certauth_reason_set(reason,
		    ret == CERTAUTH_ERR_NOMEM ?
			"out of memory reading the certificate's names" :
			"the certificate's names cannot be read");
		return ret;
	}
	if ((ret = map_view(rules, &v, &m, reason)) != 0)
		goto out;
	if (strlen(m.name) >= size) {
		certauth_reason_set(reason, "account name too long");
		ret = CERTAUTH_ERR_TOO_LONG;
		goto out;
	}
	memcpy(account, m.name, strlen(m.name) + 1);
	if (rule_name != NULL)
		*rule_name = m.rule->name;
	ret = 0;
out:
	view_clear(&v);
	return ret;
}

int
certauth_rules_bind(const struct certauth_rules *rules, const char *user,
    STACK_OF(X509) *offered, STACK_OF(X509) **bound,
    struct certauth_reason *reason)
{
	STACK_OF(X509) *certs = NULL;
	struct certauth_reason why, refused, missed;
	char account[CERTAUTH_ACCOUNT_MAX + 1], subject[256];
	const char *rule = NULL;
	int i, ret = CERTAUTH_ERR_INTERNAL, nrefused = 0;

	*bound = NULL;
	memset(&refused, 0, sizeof(refused));
	certauth_reason_set(&missed,
	    "no certificate maps to this user by the rules");
	if ((certs = sk_X509_new_null()) == NULL) {
		ret = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < sk_X509_num(offered); i++) {
		X509 *cert = sk_X509_value(offered, i);

		memset(&why, 0, sizeof(why));
		ret = certauth_rules_map(rules, cert, account, sizeof(account),
		    &rule, &why);
		if (ret == CERTAUTH_ERR_NOMEM)
			goto out;
		if (ret == CERTAUTH_ERR_CERT_INVALID && nrefused++ == 0)
			refused = why;
		/* Say what became of the certificate: the user's own. */
		certauth_name_string(X509_get_subject_name(cert), subject,
		    sizeof(subject));
		if (ret == 0 && strcmp(account, user) != 0)
			certauth_reason_set(&missed,
			    "rule %s maps certificate %s to %s, not to %s",
			    rule, subject, account, user);
		else if (ret == CERTAUTH_ERR_NOT_FOUND)
			certauth_reason_set(&missed, "certificate %s: %s",
			    subject, why.text);
		if (ret != 0 || strcmp(account, user) != 0)
			continue;
		if (!sk_X509_push(certs, cert)) {
			ret = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		X509_up_ref(cert);
	}
	if (sk_X509_num(certs) == 0) {
		if (nrefused > 0) {
			if (reason != NULL)
				*reason = refused;
			ret = CERTAUTH_ERR_CERT_INVALID;
		} else {
			if (reason != NULL)
				*reason = missed;
			ret = CERTAUTH_ERR_NOT_FOUND;
		}
		goto out;
	}
	*bound = certs;
	certs = NULL;
	ret = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	return ret;
}
