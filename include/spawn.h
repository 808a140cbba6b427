/*
 * spawn.h - a helper's process (helper.h): the helper executable checked on
 * its descriptor, the user it runs as, and its child started, watched,
 * killed and reaped without touching any process-wide state of the PAM
 * host (fetch.c says why each step is there).
 */
#ifndef CERTAUTH_SPAWN_H
#define CERTAUTH_SPAWN_H

#include <sys/types.h>

#include "certauth.h"

/* Everything the child needs, prepared before fork(): after it, only
 * async-signal-safe calls are allowed in a possibly threaded host. */
struct certauth_child_plan {
	int exec_fd; /* the checked helper, for fexecve */
	int in_fd;   /* child's stdin (socket) */
	int out_fd;  /* child's stdout (pipe) */
	int null_fd; /* child's stderr */
	int drop;    /* nonzero: become uid/gid below */
	uid_t uid;
	gid_t gid;
	unsigned int fd_max; /* for the fallback close-on-exec loop */
	char *argv[8];
	char *envp[2];
};

/* How the child ended, as far as this process could learn. */
struct certauth_ending {
	int known;  /* 0: the host reaped it first */
	int code;   /* CLD_EXITED, CLD_KILLED, CLD_DUMPED */
	int status; /* exit code or signal */
};

/*
 * Open the helper and check it on the descriptor: a regular file, owned
 * by root (or, when the caller is not root, by the caller: no privilege
 * is at stake then and the tests run from a user's build tree), not
 * writable by group or others, not set-id (a setuid-root helper would undo
 * the drop to nobody); as root, its directory and every parent must pass
 * certauth_check_dir_safely.  Returns 0 and *fdp (close-on-exec), or
 * CERTAUTH_ERR_NOMEM, or CERTAUTH_ERR_INTERNAL with a reason: a broken
 * helper is a broken installation.
 */
int certauth_open_helper(const char *path, int *fdp,
    struct certauth_reason *reason);

/* uid and gid of the user the helper runs as when started by root
 * (nobody), looked up before fork (NSS is not async-signal-safe).
 * Returns 0, CERTAUTH_ERR_NOMEM, or CERTAUTH_ERR_INTERNAL with a reason
 * when there is no such user or it has uid or gid 0. */
int certauth_lookup_nobody(uid_t *uid, gid_t *gid,
    struct certauth_reason *reason);

/*
 * Start the child of plan p: stdin, stdout and stderr from p's
 * descriptors and no other, a session of its own, default handling of
 * every signal, as root (p->drop) fixed resource limits, normal
 * scheduling and p's uid and gid, then fexecve of p->exec_fd with
 * p->argv and p->envp.  Every signal is blocked in this thread meanwhile,
 * so that no host handler runs in the child before it has reset them.
 * Its pidfd goes to *pidfd; where there is none to be had (an old kernel,
 * valgrind: ENOSYS; a filter: EPERM; a child already ended and reaped by
 * the host: ESRCH) *pidfd is -1 and the child is followed by its pid
 * alone.  Returns the pid, or -1 with errno (no child left).  The caller
 * still owns and closes p's descriptors.
 */
pid_t certauth_spawn(const struct certauth_child_plan *p, int *pidfd);

/*
 * fork() with every signal blocked in this thread meanwhile, so that no
 * host handler runs in the child; child(arg) runs in the child with every
 * signal still blocked (async-signal-safe calls only) and must not
 * return (it is made to exit if it does).  *pidfd as for certauth_spawn.
 * Returns the pid, or -1 with errno.
 */
pid_t certauth_fork(void (*child)(const void *arg), const void *arg,
    int *pidfd);

/*
 * In a child running as root: become uid/gid for good, with no
 * supplementary groups, and check that root cannot be regained.  Returns
 * 0 or -1.  Async-signal-safe.
 */
int certauth_drop_privileges(uid_t uid, gid_t gid);

/*
 * Reap the child pid (pidfd -1 or its pidfd, which the caller still
 * closes).  Once it has closed its stdout it is normally exiting; its end
 * is waited for until backstop_ms (certauth_now_ms()), and only then is
 * it killed.  kill_now nonzero: kill at once.  A child that outlives the
 * kill by a second is left behind (end->known 0) rather than let it hold
 * the login.  Returns nonzero when it had to be killed at the backstop;
 * *end says how it ended.
 */
int certauth_reap(pid_t pid, int pidfd, int kill_now, long long backstop_ms,
    struct certauth_ending *end);

/* The reason for a child, the program helper ("OCSP helper" what), that
 * ended without a report: always a local failure. */
void certauth_explain_ending(const struct certauth_ending *end,
    const char *what, const char *helper, struct certauth_reason *reason);

#endif /* CERTAUTH_SPAWN_H */
