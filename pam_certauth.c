/*
 * pam_certauth.c - the PAM glue: options, the user and service, the
 * login's answer source (the conversation, with agent= the ssh-agent of
 * the process's real uid, src/agent_answer.c, or with pkcs11= a token in
 * this machine, src/token_answer.c), one call to the login
 * (src/auth.c), and the mapping from the project's error codes to PAM
 * return codes.  Everything else lives in libcertauth (src/).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define PAM_SM_AUTH
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "agent_answer.h"
#include "answer.h"
#include "auth.h"
#include "certauth.h"
#include "ctx.h"
#include "log.h"
#include "options.h"
#include "token_answer.h"

#define INFO_PREFIX	  "certauth challenge: "
#define PROMPT		  "certauth response: "
#define USER_FAILURE	  "Certificate authentication failed."
#define USER_FAILURE_HINT "Certificate authentication failed: %s."
/*
 * Asked of libpam for every authentication, as pam_unix does: if the
 * stack fails, the application waits about this long (libpam varies it by
 * up to a half and keeps the largest delay any module asked for), which
 * slows down guessing.  The nodelay option leaves it out.
 */
#define FAIL_DELAY_US 2000000

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

/* What the conversation answer source needs: the handle, and whether
 * the challenge goes into the prompt (challenge_in_prompt). */
struct conv_arg {
	pam_handle_t *pamh;
	int joined;
};

/*
 * One conversation call of the n messages msgp: the answer to the last
 * into *answer (malloc'd; the caller wipes and frees it), every other
 * answer wiped where the application left it.  Returns 0, or
 * CERTAUTH_ERR_CONV with why set (no conversation, or no answer).
 */
static int
converse(pam_handle_t *pamh, const struct pam_message **msgp, int n,
    char **answer, struct certauth_reason *why)
{
	const struct pam_conv *conv = NULL;
	struct pam_response *resp = NULL;
	int r = CERTAUTH_ERR_CONV, i;

	*answer = NULL;
	if (pam_get_item(pamh, PAM_CONV, (const void **)&conv) != PAM_SUCCESS ||
	    conv == NULL || conv->conv == NULL) {
		certauth_reason_set(why, "the application has no conversation");
		return r;
	}
	if (conv->conv(n, msgp, &resp, conv->appdata_ptr) != PAM_SUCCESS ||
	    resp == NULL || resp[n - 1].resp == NULL) {
		certauth_reason_set(why, "the conversation gave no answer");
	} else {
		*answer = resp[n - 1].resp;
		resp[n - 1].resp = NULL;
		r = 0;
	}
	if (resp != NULL) {
		for (i = 0; i < n; i++)
			if (resp[i].resp != NULL)
				certauth_freezero(resp[i].resp,
				    strlen(resp[i].resp));
		free(resp);
	}
	return r;
}

/*
 * The answer source of a PAM login (answer.h): send the challenge and
 * read the answer in ONE conversation call of two messages
 * (docs/PROTOCOL.md, "The conversation"), or with challenge_in_prompt of
 * one prompt that holds the same two lines, for applications that hand
 * only the prompt to an askpass program (sudo -A).  The bound
 * certificates play no part.  *response is malloc'd; the caller wipes
 * and frees it.  Returns 0 or CERTAUTH_ERR_CONV / _NOMEM.
 */
static int
ask(void *arg, const char *challenge, const struct certauth_bound *bound,
    char **response, struct certauth_reason *why)
{
	const struct conv_arg *ca = arg;
	struct certauth_reason unsaid; /* the code says it all */
	struct pam_message msg[2];
	const struct pam_message *msgp[2] = { &msg[0], &msg[1] };
	char *info = NULL, *joined = NULL;
	int r = CERTAUTH_ERR_NOMEM, n = 2;

	(void)bound;
	(void)why;
	if (asprintf(&info, INFO_PREFIX "%s", challenge) < 0)
		return CERTAUTH_ERR_NOMEM;
	msg[0].msg_style = PAM_TEXT_INFO;
	msg[0].msg = info;
	msg[1].msg_style = PAM_PROMPT_ECHO_ON;
	msg[1].msg = PROMPT;
	if (ca->joined) {
		if (asprintf(&joined, "%s\n" PROMPT, info) < 0)
			goto out;
		msg[0].msg_style = PAM_PROMPT_ECHO_ON;
		msg[0].msg = joined;
		n = 1;
	}
	r = converse(ca->pamh, msgp, n, response, &unsaid);
out:
	free(joined);
	free(info);
	return r;
}

/*
 * How the token answer source asks for the PIN (answer.h): one
 * conversation call of one echo-off prompt.  The answer is copied into
 * buf and wiped where libpam's application left it.
 */
static int
ask_secret(void *arg, const char *prompt, char *buf, size_t size,
    struct certauth_reason *why)
{
	struct pam_message msg = { PAM_PROMPT_ECHO_OFF, prompt };
	const struct pam_message *msgp = &msg;
	char *answer = NULL;
	size_t len;
	int n = -1;

	if (converse(arg, &msgp, 1, &answer, why) != 0)
		return -1;
	if ((len = strlen(answer)) >= size)
		certauth_reason_set(why, "the answer is longer than %zu bytes",
		    size - 1);
	else {
		memcpy(buf, answer, len + 1);
		n = (int)len;
	}
	certauth_freezero(answer, strlen(answer));
	return n;
}

/*
 * The user's side of a failure: the plain message, and what is wrong
 * with the answer's shape when the login found it broken on its way
 * (ctx.h: it depends on the answer alone, not on the account).
 */
static void
tell_failure(pam_handle_t *pamh, const struct certauth_outcome *outcome)
{
	if (outcome->hint.text[0] != '\0')
		pam_error(pamh, USER_FAILURE_HINT, outcome->hint.text);
	else
		pam_error(pamh, "%s", USER_FAILURE);
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	int r = CERTAUTH_ERR_INTERNAL;
	struct certauth_opts o;
	struct certauth_log lg = { emit_syslog, pamh, 0 };
	struct certauth_reason reason;
	struct certauth_request req;
	struct conv_arg ca = { pamh, 0 };
	struct certauth_answer_source conv = { "conversation", 0, ask, &ca };
	struct certauth_agent_answer aa;
	struct certauth_answer_source agent;
	struct certauth_token_answer ta;
	struct certauth_answer_source token;
	const struct certauth_answer_source *src = &conv;
	struct certauth_ctx c;
	const void *service = NULL;
	const char *user = NULL;

	certauth_opts_init(&o);
	memset(&c, 0, sizeof(c));
	memset(&reason, 0, sizeof(reason));
	r = certauth_opts_from_words(&o, argc, argv, &reason);
	/* Before anything can fail, bad options included. */
	if (!o.nodelay)
		(void)pam_fail_delay(pamh, FAIL_DELAY_US);
	if (r != 0) {
		log_err(&lg, "configuration error: %s",
		    reason_text(&reason, r));
		goto out;
	}
	lg.debug = o.debug;
	ca.joined = o.challenge_in_prompt;
	certauth_ctx_init(&c, &o, &lg);
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL ||
	    *user == '\0') {
		log_notice(&lg, "refused: no user name");
		r = CERTAUTH_ERR_NOT_FOUND;
		goto out;
	}
	if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS ||
	    service == NULL)
		service = "unknown";
	req.user = user;
	req.user_known = pam_modutil_getpwnam(pamh, user) != NULL;
	req.service = service;
	if (o.agent != CERTAUTH_AGENT_OFF) {
		memset(&aa, 0, sizeof(aa));
		aa.opts = &o;
		aa.lg = &lg;
		aa.user = user;
		aa.sock = pam_getenv(pamh, "SSH_AUTH_SOCK");
		aa.uid = getuid(); /* who started the front door */
		aa.gid = getgid();
		aa.fallback = o.agent == CERTAUTH_AGENT_TRY ? &conv : NULL;
		certauth_agent_answer_source(&aa, &agent);
		src = &agent;
	}
	if (o.pkcs11 != CERTAUTH_PKCS11_OFF) {
		memset(&ta, 0, sizeof(ta));
		ta.opts = &o;
		ta.lg = &lg;
		ta.user = user;
		ta.pin.ask = ask_secret;
		ta.pin.arg = pamh;
		ta.fallback = o.pkcs11 == CERTAUTH_PKCS11_TRY ? &conv : NULL;
		certauth_token_answer_source(&ta, &token);
		src = &token;
	}
	r = certauth_login(&c, &req, src);
out:
	certauth_opts_free(&o);
	if (c.outcome.ignored)
		return PAM_IGNORE;
	if (r != 0 && r != CERTAUTH_ERR_CONV && !(flags & (int)PAM_SILENT))
		tell_failure(pamh, &c.outcome);
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
