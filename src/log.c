/*
 * log.c - the logger shared by the module (pam_syslog through the emit
 * callback) and the tools (stderr).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void
certauth_logf(const struct certauth_log *lg, int priority, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (priority == LOG_DEBUG && (lg == NULL || !lg->debug))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (lg != NULL && lg->emit != NULL)
		lg->emit(lg->arg, priority, line);
	else
		fprintf(stderr, "%s\n", line);
}
