/*
 * log.c - the logger shared by the module (pam_syslog through the emit
 * callback) and the tools (stderr).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

/*
 * Escape control characters as \xNN: user names, subjects and file names
 * reach the log, and a newline in one must not start a forged line.
 */
static void
escape_controls(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in != '\0' && o + 5 < outlen; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
			    c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

void
certauth_logf(const struct certauth_log *lg, int priority, const char *fmt, ...)
{
	char raw[1024], line[1024];
	va_list ap;

	if (priority == LOG_DEBUG && (lg == NULL || !lg->debug))
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	escape_controls(raw, line, sizeof(line));
	if (lg != NULL && lg->emit != NULL)
		lg->emit(lg->arg, priority, line);
	else
		fprintf(stderr, "%s\n", line);
}
