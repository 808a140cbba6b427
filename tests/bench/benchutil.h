/*
 * benchutil.h - what the in-process benchmarks share: a clock, dying with
 * OpenSSL's errors, percentiles, counts from the command line, and a PAM
 * conversation that signs the challenge in-process and measures its own
 * time, so that the client's signing can be left out of the module's.
 */
#ifndef CERTAUTH_BENCHUTIL_H
#define CERTAUTH_BENCHUTIL_H

#include <openssl/evp.h>
#include <security/pam_appl.h>

/* Monotonic time in µs. */
double bench_now_us(void);

/* Print "<name>: <message>" and OpenSSL's error queue, then exit(1);
 * atexit handlers run.  name is set once by the program. */
extern const char *bench_name;
void bench_die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/* For qsort of doubles. */
int bench_cmp_double(const void *a, const void *b);

/* Nearest-rank percentile p (0..1) of n sorted values. */
double bench_pct(const double *v, long n, double p);

/* A count from the command line, 1..max, or die. */
long bench_number(const char *s, long max);

/* The conversation's state: the key it signs with, the µs spent inside
 * the callback, and how many challenges it answered. */
struct bench_conv {
	EVP_PKEY *key;
	double in_conv_us;
	int calls;
};

/* A PAM conversation (appdata: struct bench_conv) answering the
 * challenge message pair with a signature over it, and nothing else. */
int bench_conversation(int n, const struct pam_message **msg,
    struct pam_response **resp, void *arg);

/* Have libpam call a function that does not sleep instead of its fail
 * delay; the service files ask for none (nodelay) anyway. */
void bench_no_fail_delay(pam_handle_t *pamh);

#endif /* CERTAUTH_BENCHUTIL_H */
