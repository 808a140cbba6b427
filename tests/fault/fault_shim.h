/*
 * fault_shim.h - a countdown that makes one call of the process fail.
 *
 * fault_shim.c defines malloc, calloc, realloc, posix_memalign,
 * aligned_alloc, memalign, valloc, open, open64, openat, openat64,
 * fopen, fopen64, read, fread, fgets, getentropy, getrandom and the calls
 * of the OCSP fetch (socketpair, pipe, pipe2, fork, getpwnam_r, fcntl,
 * poll, send, waitid, and syscall for pidfd_open and pidfd_send_signal),
 * and those of agent mode (socket, connect, getsockopt, setgroups,
 * setresgid, setresuid, sendmsg, recv, recvmsg, waitpid, kill) in the test
 * program itself (linked with -export-dynamic), so they interpose on
 * every shared object, the dlopened module and libcrypto included.  While
 * armed, each call is counted; the chosen one fails the way the real call
 * fails (NULL/-1 with ENOMEM, EIO, EMFILE, ...).  The calls from
 * socketpair on count only with a frame of the module on the stack.  Only
 * the process that armed the shim counts, unless fault_children() says
 * otherwise: a child it forks (the OCSP helper on its way to exec) runs
 * unharmed.  syslog(3) and pam_syslog(3) are replaced too: lines are
 * recorded, not sent.
 */
#ifndef CERTAUTH_FAULT_SHIM_H
#define CERTAUTH_FAULT_SHIM_H

#include <stddef.h>

enum fault_kind {
	FAULT_ALLOC,	/* malloc family: NULL, ENOMEM */
	FAULT_OPEN,	/* open, openat, fopen: -1/NULL, EIO */
	FAULT_READ,	/* read, fread, fgets: -1/short/NULL, EIO */
	FAULT_RANDOM,	/* getentropy, getrandom: -1, EIO */
	FAULT_PIPE,	/* socketpair, pipe, pipe2: -1, EMFILE */
	FAULT_FORK,	/* fork: -1, EAGAIN */
	FAULT_PWNAM,	/* getpwnam_r: EIO and no entry */
	FAULT_FCNTL,	/* fcntl: -1, EMFILE (F_DUPFD*) or EBADF */
	FAULT_POLL,	/* poll: -1, ENOMEM */
	FAULT_SEND,	/* send: -1, ENOBUFS */
	FAULT_WAIT,	/* waitid: -1, ECHILD (another waiter reaped it) */
	FAULT_PIDFD_OPEN,	/* syscall(SYS_pidfd_open): -1, EMFILE */
	FAULT_PIDFD_KILL,	/* syscall(SYS_pidfd_send_signal): -1, EPERM
				 * or fault_kill_errno() */
	FAULT_SOCKET,	/* socket: -1, EMFILE; connect, getsockopt: -1,
			 * ENOBUFS */
	FAULT_PRIV,	/* setgroups, setresgid, setresuid: -1, EPERM
			 * (setresuid: EAGAIN, RLIMIT_NPROC's errno) */
	FAULT_RECV,	/* recv, recvmsg: -1, ENOMEM */
	FAULT_SENDMSG,	/* sendmsg: -1, ENOBUFS */
	FAULT_KILL,	/* kill: -1, EPERM */
	FAULT_WAITPID,	/* waitpid: -1, ECHILD */
	FAULT_NKINDS
};

/* Flags of fault_record.kind[]: the kind is the low bits. */
#define FAULT_KIND_MASK	0x1f
#define FAULT_IN_OBJECT	0x20	/* a frame of a fault_objects() object
				 * (while fault_scan() scans) */
#define FAULT_IN_SCOPE	0x40	/* under the fault_scan() function */
#define FAULT_IN_LOG	0x80	/* inside pam_syslog / syslog */

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
	long from;			/* fault_arm_kind: where kind_calls
					 * start counting */
	long kind_calls[FAULT_NKINDS];	/* calls of each kind from there */
	long also_failed;		/* calls failed by fault_also() */
	int fired;			/* the fail_at-th call did fail */
	int fired_kind;			/* enum fault_kind */
	int fired_in_log;		/* inside pam_syslog / syslog */
	char fired_call[32];		/* "malloc", "fopen", ... */
	char fired_site[FAULT_SITE_MAX];/* frames up to the module's */
	char fired_caller[64];		/* object that made the call */
	char fired_entry[128];		/* what the module called, if not
					 * the failing call itself */
	int fired_in_module;		/* a module frame is on the stack */
	char fired_object[64];		/* the innermost frame's object of
					 * those fault_objects() names, or
					 * "" */
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
	unsigned char kind[FAULT_MAX_CALLS];	/* per call: kind and flags */
};

/* Where recording goes; must be set before arming. */
void fault_set_record(struct fault_record *rec);

/* Start counting; the fail_at-th call (1-based) fails, 0: none. */
void fault_arm(long fail_at);

/*
 * Start counting; from the from-th call on (1-based), the nth call of
 * kind fails.  For calls whose number depends on timing (the polls and
 * reads of an exchange with a child): the other kinds' numbering is not
 * shifted by them.
 */
void fault_arm_kind(long from, int kind, long nth);

/*
 * With fault_arm_kind: every call of kind from `from` on fails as well
 * (-1: none), counted in also_failed, not as the fault that fired.  For
 * a second failure on the path the first one opens (a kill after a read
 * error).  Set before arming.
 */
void fault_also(int kind);

/*
 * What a failed pidfd_send_signal sets errno to: EPERM by default (the
 * call refused, say by a security module), or ENOSYS (no such call: an
 * old kernel, valgrind).  Set before arming.
 */
void fault_kill_errno(int e);

/*
 * While armed, mark each call with a frame of the module's function at
 * offsets [start, start + size) on its stack as FAULT_IN_SCOPE; size 0:
 * none.  A backtrace per call: for one run that finds the sites, not for
 * thousands.
 */
void fault_scan(unsigned long start, unsigned long size);

/*
 * Shared objects by file name ("libsofthsm2.so"), NULL-terminated, or
 * NULL: none.  While fault_scan() scans, each call with a frame of one
 * of them on its stack is marked FAULT_IN_OBJECT; the call that fails
 * names the innermost such frame's object in fired_object.  For telling
 * the calls a loaded library (a PKCS#11 module) makes on its own from
 * those of the module and the libraries it calls.  names must outlive
 * the armed runs.
 */
void fault_objects(const char *const *names);

/*
 * Nonzero: a child forked by the armed process counts (and fails) too,
 * on the same record: for the module's own children that never exec
 * (agent mode's connecting child).  Set before arming.
 */
void fault_children(int on);

/* Stop counting. */
void fault_disarm(void);

/* Nonzero: calls pass through uncounted (the application's own work,
 * such as the conversation's signing, is not under test). */
void fault_hold(int on);

const char *fault_kind_name(int kind);

#endif /* CERTAUTH_FAULT_SHIM_H */
