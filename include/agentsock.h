/*
 * agentsock.h - the module's way to the ssh-agent of the user who
 * started the front door (docs/SECURITY.md, "Agent mode"): the socket
 * SSH_AUTH_SOCK names, checked on every component of its path, then
 * connected to with that user's privileges, never root's, and its server
 * checked to run as that user.  Independent of libpam.
 */
#ifndef CERTAUTH_AGENTSOCK_H
#define CERTAUTH_AGENTSOCK_H

#include <sys/types.h>

#include "certauth.h"
#include "sshagent.h"

/*
 * Check the socket at path for the user uid before anything connects to
 * it: an absolute path that fits a socket address; no component a
 * symbolic link; every parent directory owned by root or uid and not
 * writable by group or others unless it is root's and sticky (/tmp); the
 * socket's own directory owned by uid and not writable by group or
 * others; the socket a socket owned by uid.  Returns 0,
 * CERTAUTH_ERR_NOT_FOUND (nothing there), CERTAUTH_ERR_TOO_LONG,
 * CERTAUTH_ERR_UNSAFE or CERTAUTH_ERR_NOMEM, with why set.
 */
int certauth_agentsock_check(const char *path, uid_t uid,
    struct certauth_reason *why);

/*
 * Connect to the socket at path as uid/gid by deadline_ms
 * (certauth_now_ms()): directly when this process already runs as uid,
 * else in a child that drops to uid/gid for good, connects and hands the
 * connection back (SCM_RIGHTS); the child is reaped or killed by the
 * deadline.  Then the server's credentials (SO_PEERCRED) must be uid's.
 * Returns 0 with *out, CERTAUTH_ERR_UNREACHABLE (no agent there: connect
 * refused, nothing at the path, no permission; or none by the deadline),
 * CERTAUTH_ERR_UNSAFE (the server runs as another user),
 * CERTAUTH_ERR_INTERNAL (a failure on this side: no socket pair, child,
 * privilege drop, socket or word from the child, a connect failure that
 * is not the agent's absence, no SO_PEERCRED), or CERTAUTH_ERR_NOMEM,
 * with why set.
 */
int certauth_agentsock_connect(const char *path, uid_t uid, gid_t gid,
    long long deadline_ms, struct certauth_agent **out,
    struct certauth_reason *why);

#endif /* CERTAUTH_AGENTSOCK_H */
