/*
 * log.h - one logger for the module and the tools.  The module routes it
 * to pam_syslog (facility authpriv); the tools print to stderr.
 */
#ifndef CERTAUTH_LOG_H
#define CERTAUTH_LOG_H

#include <syslog.h>

struct certauth_log {
	/* Receives one finished line; NULL means "print to stderr". */
	void (*emit)(void *arg, int priority, const char *line);
	void *arg;
	int debug; /* nonzero: LOG_DEBUG lines are emitted too */
};

/* Format and emit one line.  lg may be NULL (stderr, no debug). */
void certauth_logf(const struct certauth_log *lg, int priority, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

#define log_err(lg, ...)    certauth_logf((lg), LOG_ERR, __VA_ARGS__)
#define log_warn(lg, ...)   certauth_logf((lg), LOG_WARNING, __VA_ARGS__)
#define log_notice(lg, ...) certauth_logf((lg), LOG_NOTICE, __VA_ARGS__)
#define log_info(lg, ...)   certauth_logf((lg), LOG_INFO, __VA_ARGS__)
/* Debug lines carry the function name. */
#define log_debug(lg, fmt, ...) \
	certauth_logf((lg), LOG_DEBUG, "%s: " fmt, __func__, ##__VA_ARGS__)

#endif /* CERTAUTH_LOG_H */
