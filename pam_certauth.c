/*
 * pam_certauth.c - the PAM glue: options, the login flow in a few calls,
 * and the mapping from the project's error codes to PAM return codes.
 * Everything else lives in libcertauth (src/).
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_AUTH
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "auth.h"
#include "bindings.h"
#include "certauth.h"
#include "challenge.h"
#include "log.h"
#include "options.h"

#define INFO_PREFIX	"certauth challenge: "
#define PROMPT		"certauth response: "
#define USER_FAILURE	"Certificate authentication failed."
/*
 * Asked of libpam for every authentication, as pam_unix does: if the
 * stack fails, the application waits about this long (libpam varies it by
 * up to a half and keeps the largest delay any module asked for), which
 * slows down guessing.  The nodelay option leaves it out.
 */
#define FAIL_DELAY_US	2000000

static void
emit_syslog(void *arg, int priority, const char *line)
{
	pam_syslog((pam_handle_t *)arg, priority, "%s", line);
}

/* A failure that came back without a reason still gets its code's text. */
static const char *
reason_text(const struct certauth_reason *reason, int r)
{
	return reason->text[0] != '\0' ? reason->text : certauth_strerror(r);
}

static int
to_pam(int r)
{
	switch (r) {
	case CERTAUTH_OK:
		return PAM_SUCCESS;
	case CERTAUTH_ERR_NOMEM:
		return PAM_BUF_ERR;
	case CERTAUTH_ERR_CONFIG:
	case CERTAUTH_ERR_INTERNAL:
		return PAM_SERVICE_ERR;
	case CERTAUTH_ERR_TRUST_STORE:
		return PAM_AUTHINFO_UNAVAIL;
	case CERTAUTH_ERR_CONV:
		return PAM_CONV_ERR;
	default:
		return PAM_AUTH_ERR;
	}
}

/*
 * Send the challenge and read the answer in ONE conversation call of two
 * messages (docs/PROTOCOL.md, "The conversation").  *response is
 * malloc'd; the caller wipes and frees it.  Returns 0 or
 * CERTAUTH_ERR_CONV / _NOMEM.
 */
static int
ask(pam_handle_t *pamh, const char *challenge, char **response)
{
	const struct pam_conv *conv = NULL;
	struct pam_message msg[2];
	const struct pam_message *msgp[2] = { &msg[0], &msg[1] };
	struct pam_response *resp = NULL;
	char *info = NULL;
	int r = CERTAUTH_ERR_CONV;

	if (pam_get_item(pamh, PAM_CONV, (const void **)&conv) != PAM_SUCCESS ||
	    conv == NULL || conv->conv == NULL)
		return CERTAUTH_ERR_CONV;
	if (asprintf(&info, INFO_PREFIX "%s", challenge) < 0)
		return CERTAUTH_ERR_NOMEM;
	msg[0].msg_style = PAM_TEXT_INFO;
	msg[0].msg = info;
	msg[1].msg_style = PAM_PROMPT_ECHO_ON;
	msg[1].msg = PROMPT;
	if (conv->conv(2, msgp, &resp, conv->appdata_ptr) != PAM_SUCCESS ||
	    resp == NULL || resp[1].resp == NULL)
		goto out;
	*response = resp[1].resp;
	resp[1].resp = NULL;
	r = 0;
 out:
	if (resp != NULL) {
		if (resp[0].resp != NULL)
			certauth_freezero(resp[0].resp, strlen(resp[0].resp));
		if (resp[1].resp != NULL)
			certauth_freezero(resp[1].resp, strlen(resp[1].resp));
		free(resp);
	}
	free(info);
	return r;
}

/* nouserok: a user who is unknown or has no bindings file is ignored. */
static int
user_has_bindings(const struct certauth_opts *o, const char *user,
    struct certauth_reason *reason)
{
	STACK_OF(X509) *certs = NULL;
	int r;

	r = certauth_bindings_read(o->bindings_dir != NULL ? o->bindings_dir :
	    CERTAUTH_DEFAULT_BINDINGS_DIR, user, &certs, reason);
	sk_X509_pop_free(certs, X509_free);
	return r;
}

static int
login_flow(pam_handle_t *pamh, const struct certauth_opts *o,
    const struct certauth_log *lg, const char *user)
{
	int r = CERTAUTH_ERR_INTERNAL;
	const void *service = NULL;
	char host[256], *challenge = NULL, *response = NULL;
	struct certauth_login login;
	struct certauth_outcome outcome;

	memset(&login, 0, sizeof(login));
	if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS ||
	    service == NULL)
		service = "unknown";
	if (o->hostname != NULL)
		snprintf(host, sizeof(host), "%s", o->hostname);
	else if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	login.user = user;
	login.user_known = pam_modutil_getpwnam(pamh, user) != NULL;
	login.issued = time(NULL);
	if ((r = certauth_challenge_new(host, service, user, login.issued,
	    &challenge)) != 0) {
		log_err(lg, "user %s not authenticated: cannot make a "
		    "challenge: %s", user, certauth_strerror(r));
		goto out;
	}
	if ((r = ask(pamh, challenge, &response)) != 0) {
		log_notice(lg, "user %s refused: %s", user, certauth_strerror(r));
		goto out;
	}
	login.answered = time(NULL);
	login.challenge = challenge;
	login.response = response;
	r = certauth_authenticate(o, lg, &login, &outcome);
 out:
	if (response != NULL)
		certauth_freezero(response, strlen(response));
	free(challenge);
	return r;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	int r = CERTAUTH_ERR_INTERNAL;
	struct certauth_opts o;
	struct certauth_log lg = { emit_syslog, pamh, 0 };
	struct certauth_reason reason;
	const char *user = NULL;

	certauth_opts_init(&o);
	memset(&reason, 0, sizeof(reason));
	r = certauth_opts_from_words(&o, argc, argv, &reason);
	/* Before anything can fail, bad options included. */
	if (!o.nodelay)
		(void)pam_fail_delay(pamh, FAIL_DELAY_US);
	if (r != 0) {
		log_err(&lg, "configuration error: %s", reason_text(&reason, r));
		goto out;
	}
	lg.debug = o.debug;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL ||
	    *user == '\0') {
		log_notice(&lg, "refused: no user name");
		r = CERTAUTH_ERR_NOT_FOUND;
		goto out;
	}
	if (o.nouserok) {
		r = pam_modutil_getpwnam(pamh, user) == NULL ?
		    CERTAUTH_ERR_NOT_FOUND : user_has_bindings(&o, user, &reason);
		if (r == CERTAUTH_ERR_NOT_FOUND) {
			log_info(&lg, "user %s has no certificate binding: "
			    "ignored (nouserok)", user);
			certauth_opts_free(&o);
			return PAM_IGNORE;
		}
		if (r != 0) {
			log_err(&lg, "user %s refused: %s", user,
			    reason_text(&reason, r));
			goto out;
		}
	}
	r = login_flow(pamh, &o, &lg, user);
 out:
	if (r != 0 && r != CERTAUTH_ERR_CONV && !(flags & (int)PAM_SILENT))
		pam_error(pamh, "%s", USER_FAILURE);
	certauth_opts_free(&o);
	return to_pam(r);
}

PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
