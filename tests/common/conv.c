/*
 * conv.c - the application's side of a certauth login (conv.h): the
 * conversation that signs the challenge in-process, and pam_start with a
 * fail delay that does not sleep.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <security/pam_appl.h>

#include "conv.h"

#define CHALLENGE_TAG	"certauth:v1:"
#define PIN_PROMPT	"PIN for token '"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* "ab cd\nef..." from "abcdef...": whitespace the module must skip. */
static char *
spaced(const char *b64)
{
	size_t i, j = 0, len = strlen(b64);
	char *out;

	if ((out = malloc(2 * len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (i > 0 && i % 16 == 0)
			out[j++] = i % 64 == 0 ? '\n' : ' ';
		out[j++] = b64[i];
	}
	out[j] = '\0';
	return out;
}

/* URL-safe alphabet, padding dropped, in place. */
static char *
urlsafe(char *b64)
{
	char *p;

	for (p = b64; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=')
			*p = '\0';
	}
	return b64;
}

static char *
too_long(void)
{
	char *out;

	if ((out = malloc(TU_TOO_LONG_CHARS + 1)) != NULL) {
		memset(out, 'A', TU_TOO_LONG_CHARS);
		out[TU_TOO_LONG_CHARS] = '\0';
	}
	return out;
}

/* The answer to challenge c; NULL on failure. */
static char *
make_answer(const struct tu_conv *cs, const char *c)
{
	char *sig = NULL, *out = NULL;

	switch (cs->answer) {
	case TU_GOOD:
		return tu_client_sign(cs->key, NULL, 0, c);
	case TU_GOOD_SPACED:
		if ((sig = tu_client_sign(cs->key, NULL, 0, c)) != NULL)
			out = spaced(sig);
		free(sig);
		return out;
	case TU_GOOD_URLSAFE:
		return (sig = tu_client_sign(cs->key, NULL, 0, c)) != NULL ?
		    urlsafe(sig) : NULL;
	case TU_WRONG_KEY:
		return tu_client_sign(cs->wrong_key, NULL, 0, c);
	case TU_NOT_SIGNATURE:
		return strdup("bm90IGEgc2lnbmF0dXJl");
	case TU_MALFORMED:
		return strdup("%%% this is not base64 %%%");
	case TU_EMPTY:
		return strdup("");
	case TU_TRUNCATED:
		if ((sig = tu_client_sign(cs->key, NULL, 0, c)) != NULL)
			sig[strlen(sig) / 2] = '\0';
		return sig;
	case TU_TOO_LONG:
		return too_long();
	default:
		return NULL;
	}
}

/* The answer to challenge c with the offered certificate, if any. */
static char *
make_offer(const struct tu_conv *cs, const char *c)
{
	char *answer = make_answer(cs, c);

	if (answer == NULL || cs->offer == NULL)
		return answer;
	if (cs->offer_with == NULL ||
	    cs->offer_with(&answer, cs->offer, cs->offer_len) != 0) {
		free(answer);
		return NULL;
	}
	return answer;
}

/* Does the call hold a prompt for the user's input? */
static int
has_prompt(int n, const struct pam_message **msg)
{
	int i;

	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			return 1;
	return 0;
}

/*
 * Token mode's PIN prompt, when cs answers one: 1 and the answer in *r
 * (PAM_SUCCESS or PAM_CONV_ERR in *rc), or 0 when msg is not one.
 */
static int
pin_prompt(struct tu_conv *cs, int n, const struct pam_message **msg,
    struct pam_response *r, int *rc)
{
	const char *label, *end;

	if (cs->pin == NULL || n != 1 ||
	    msg[0]->msg_style != PAM_PROMPT_ECHO_OFF ||
	    strncmp(msg[0]->msg, PIN_PROMPT, strlen(PIN_PROMPT)) != 0)
		return 0;
	cs->pin_prompts++;
	label = msg[0]->msg + strlen(PIN_PROMPT);
	if ((end = strrchr(label, '\'')) == NULL)
		end = label;
	snprintf(cs->pin_label, sizeof(cs->pin_label), "%.*s",
	    (int)(end - label), label);
	*rc = PAM_SUCCESS;
	if (cs->answer == TU_CONV_FAIL)
		*rc = PAM_CONV_ERR;
	else if (cs->answer != TU_NO_ANSWER &&
	    (r->resp = strdup(cs->pin)) == NULL)
		*rc = PAM_BUF_ERR;
	return 1;
}

/* Answer one call into r (n responses, zeroed). */
static int
converse(struct tu_conv *cs, int n, const struct pam_message **msg,
    struct pam_response *r)
{
	const char *c;
	int rc;

	if (!has_prompt(n, msg))
		return PAM_SUCCESS;
	if (pin_prompt(cs, n, msg, r, &rc))
		return rc;
	cs->calls++;
	/* challenge_in_prompt: one prompt holds both lines. */
	if (n == 1 && msg[0]->msg_style == PAM_PROMPT_ECHO_ON &&
	    (c = strstr(msg[0]->msg, CHALLENGE_TAG)) != NULL)
		cs->joined++;
	else if (cs->answer == TU_CONV_FAIL || n != 2 ||
	    msg[0]->msg_style != PAM_TEXT_INFO ||
	    msg[1]->msg_style != PAM_PROMPT_ECHO_ON ||
	    (c = strstr(msg[0]->msg, CHALLENGE_TAG)) == NULL)
		return PAM_CONV_ERR;
	if (cs->answer == TU_CONV_FAIL)
		return PAM_CONV_ERR;
	snprintf(cs->prompt, sizeof(cs->prompt), "%s", msg[n - 1]->msg);
	snprintf(cs->challenge, sizeof(cs->challenge), "%.*s",
	    (int)strcspn(c, "\n"), c);
	if (cs->answer != TU_NO_ANSWER &&
	    (r[n - 1].resp = make_offer(cs, cs->challenge)) == NULL)
		cs->sign_failed++;
	return PAM_SUCCESS;
}

int
tu_conversation(int n, const struct pam_message **msg,
    struct pam_response **resp, void *appdata)
{
	struct tu_conv *cs = appdata;
	struct pam_response *r = NULL;
	double t0;
	int i, rc = PAM_CONV_ERR;

	if (cs->hold != NULL)
		cs->hold(1);
	t0 = now_us();
	if (n <= 0)
		goto out;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL) {
		rc = PAM_BUF_ERR;
		goto out;
	}
	if ((rc = converse(cs, n, msg, r)) != PAM_SUCCESS)
		goto out;
	*resp = r;
	r = NULL;
 out:
	if (r != NULL) {
		for (i = 0; i < n; i++)
			free(r[i].resp);
		free(r);
	}
	cs->inside_us += now_us() - t0;
	if (cs->hold != NULL)
		cs->hold(0);
	return rc;
}

static void
no_delay(int retval, unsigned int usec, void *appdata)
{
	(void)retval;
	(void)usec;
	(void)appdata;
}

int
tu_pam_start(const char *service, const char *user, const char *confdir,
    const struct pam_conv *conv, void (*delay)(int, unsigned int, void *),
    pam_handle_t **pamh)
{
	/* PAM_FAIL_DELAY takes the function as an item pointer. */
	union { void (*fn)(int, unsigned int, void *); const void *item; } d;
	int r;

	*pamh = NULL;
	if ((r = pam_start_confdir(service, user, conv, confdir,
	    pamh)) != PAM_SUCCESS)
		return r;
	d.fn = delay != NULL ? delay : no_delay;
	if ((r = pam_set_item(*pamh, PAM_FAIL_DELAY, d.item)) != PAM_SUCCESS) {
		pam_end(*pamh, r);
		*pamh = NULL;
	}
	return r;
}
