/*
 * ldap_filter.c - %u in the filter template, escaped by libldap itself
 * (ldap_bv2escaped_filter_value), so that a user name such as "*" or
 * "a)(uid=*" is a value and never a part of the filter.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "ldap_filter.h"

int
certauth_ldap_filter_build(const char *tmpl, const char *user, char **out)
{
	struct berval in, esc = { 0, NULL };
	size_t n = 0, elen, i;
	char *buf = NULL;
	const char *p;
	int r = -1, has_u = 0;

	*out = NULL;
	in.bv_val = (char *)user;
	in.bv_len = strlen(user);
	if (ldap_bv2escaped_filter_value(&in, &esc) != 0) {
		r = -2;
		goto out;
	}
	elen = esc.bv_len;
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%') {
			n++;
			continue;
		}
		if (p[1] == 'u') {
			has_u = 1;
			n += elen;
		} else if (p[1] == '%') {
			n++;
		} else {
			goto out;
		}
		p++;
	}
	if (!has_u)
		goto out;
	if ((buf = malloc(n + 1)) == NULL) {
		r = -2;
		goto out;
	}
	for (p = tmpl, i = 0; *p != '\0'; p++) {
		if (*p != '%') {
			buf[i++] = *p;
			continue;
		}
		if (*++p == 'u') {
			/* An empty name escapes to no buffer at all. */
			if (elen > 0)
				memcpy(buf + i, esc.bv_val, elen);
			i += elen;
		} else {
			buf[i++] = '%';
		}
	}
	buf[i] = '\0';
	*out = buf;
	buf = NULL;
	r = 0;
out:
	free(buf);
	ber_memfree(esc.bv_val);
	return r;
}
