/*
 * benchutil.h - what the in-process benchmarks share: a clock, dying with
 * OpenSSL's errors, percentiles and counts from the command line.  Their
 * logins use the tests' conversation (tests/common/conv.h), which measures
 * its own time, so that the client's signing can be left out of the
 * module's.
 */
#ifndef CERTAUTH_BENCHUTIL_H
#define CERTAUTH_BENCHUTIL_H

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

#endif /* CERTAUTH_BENCHUTIL_H */
