/*
 * ldap_filter.h - the search filter of one lookup: ldap_filter's
 * template with %u replaced by the user name escaped by libldap
 * (RFC 4515) and %% by %.  Built by the certauth-ldap-fetch helper, the
 * only program that links libldap.
 */
#ifndef CERTAUTH_LDAP_FILTER_H
#define CERTAUTH_LDAP_FILTER_H

/*
 * The filter for user into *out (malloc'd, the caller frees it).
 * Returns 0; -1 when the template has a '%' other than %u or %%, or no
 * %u; -2 when out of memory.
 */
int certauth_ldap_filter_build(const char *tmpl, const char *user, char **out);

#endif /* CERTAUTH_LDAP_FILTER_H */
