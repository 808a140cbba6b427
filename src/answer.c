/*
 * answer.c - what the answer sources share (answer.h): the way a source
 * that answers by itself gives way to the conversation.
 */
#include "config.h"

#include "answer.h"
#include "certauth.h"
#include "log.h"

int
certauth_answer_fall_back(const struct certauth_fallback *f, int may, int r,
    const struct certauth_reason *inner, const char *challenge,
    const struct certauth_bound *bound, char **response,
    struct certauth_reason *why)
{
	/* Some failures (an allocation deep in a file check) come with no
	 * words of their own: the code says what happened. */
	const char *text = inner->text[0] != '\0' ? inner->text :
						    certauth_strerror(r);

	if (may && f->source != NULL) {
		log_info(f->lg, "user %s: %s: %s; asking through the %s",
		    f->user, f->mode, text, f->source->name);
		return f->source->answer(f->source->arg, challenge, bound,
		    response, why);
	}
	certauth_reason_set(why, "%s: %s", f->mode, text);
	return r;
}
