/*
 * fault_shim.h - a countdown that makes one call of the process fail.
 *
 * fault_shim.c defines malloc, calloc, realloc, posix_memalign,
 * aligned_alloc, memalign, valloc, open, open64, openat, openat64,
 * fopen, fopen64, read, fread, fgets, getentropy and getrandom in the
 * test program itself (linked with -export-dynamic), so they interpose on
 * every shared object, the dlopened module and libcrypto included.  While
 * armed, each call is counted; the one with the chosen number fails the
 * way the real call fails (NULL/-1 with ENOMEM or EIO).  syslog(3) and
 * pam_syslog(3) are replaced too: lines are recorded, not sent.
 */
#ifndef CERTAUTH_FAULT_SHIM_H
#define CERTAUTH_FAULT_SHIM_H

#include <stddef.h>

enum fault_kind {
	FAULT_ALLOC,	/* malloc family: NULL, ENOMEM */
	FAULT_OPEN,	/* open, openat, fopen: -1/NULL, EIO */
	FAULT_READ,	/* read, fread, fgets: -1/short/NULL, EIO */
	FAULT_RANDOM,	/* getentropy, getrandom: -1, EIO */
	FAULT_NKINDS
};

#define FAULT_MAX_CALLS		(1L << 20)
#define FAULT_LOG_MAX		(64 * 1024)
#define FAULT_SITE_MAX		1024
#define FAULT_MODULE_FRAMES	64

/*
 * What one armed run saw.  It lives in shared memory so that a forked
 * child can hand it to the parent.
 */
struct fault_record {
	long calls;			/* injectable calls made while armed */
	long fail_at;			/* 1-based; 0: count only */
	int fired;			/* the fail_at-th call did fail */
	int fired_kind;			/* enum fault_kind */
	int fired_in_log;		/* inside pam_syslog / syslog */
	char fired_call[32];		/* "malloc", "fopen", ... */
	char fired_site[FAULT_SITE_MAX];/* frames up to the module's */
	char fired_caller[64];		/* object that made the call */
	char fired_entry[128];		/* what the module called, if not
					 * the failing call itself */
	int fired_in_module;		/* a module frame is on the stack */
	int module_nframes;		/* entries of module_frame[] */
	unsigned long module_frame[FAULT_MODULE_FRAMES];
					/* every module frame on the stack,
					 * innermost first: its return
					 * address less one (a byte of the
					 * call), as an offset from the
					 * module's load address, the way
					 * nm and addr2line count */
	size_t loglen;
	size_t log_armed_at;		/* where the armed run's lines start */
	char log[FAULT_LOG_MAX];	/* recorded lines, "<prio> text\n" */
	unsigned char kind[FAULT_MAX_CALLS];	/* per call: kind | 0x80 in log */
};

/* Where recording goes; must be set before arming. */
void fault_set_record(struct fault_record *rec);

/* Start counting; the fail_at-th call (1-based) fails, 0: none. */
void fault_arm(long fail_at);

/* Stop counting. */
void fault_disarm(void);

/* Nonzero: calls pass through uncounted (the application's own work,
 * such as the conversation's signing, is not under test). */
void fault_hold(int on);

const char *fault_kind_name(int kind);

#endif /* CERTAUTH_FAULT_SHIM_H */
