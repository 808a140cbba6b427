/*
 * cgroup.h - whether a user other than root could freeze this thread and
 * the children it starts (the cgroup freezer), which would let the caller
 * of su or sudo hold the OCSP helper still until it times out.
 */
#ifndef CERTAUTH_CGROUP_H
#define CERTAUTH_CGROUP_H

#include "certauth.h"

/*
 * For the cgroup v2 hierarchy and the cgroup v1 freezer that this thread
 * belongs to, every cgroup from its own up to the top of the mount that
 * shows it: a freeze control (cgroup.freeze, freezer.state) or a file
 * that moves processes (cgroup.procs, cgroup.threads, tasks: in cgroup v2
 * whoever may write it can move any process below into a cgroup of their
 * own) owned by a user other than root, or writable by group or others,
 * means someone could.  A hierarchy not mounted here while this thread is
 * in its root cgroup cannot have been used: no cgroup was made in it for
 * a user.  Fails closed: /proc/thread-self/cgroup or mountinfo
 * unreadable, a cgroup below the root that no mount here shows, a cgroup
 * outside this thread's cgroup namespace ("/.."), a cgroup directory or
 * file that cannot be looked at.  Cgroups above the mount's root (hidden
 * by a cgroup namespace or a bind mount) are the container manager's and
 * are not looked at.  Returns 0 when nobody but root could,
 * CERTAUTH_ERR_INTERNAL (why names the cgroup, the file and the uid) or
 * CERTAUTH_ERR_NOMEM.
 */
int certauth_cgroup_unfreezable(struct certauth_reason *why);

#endif /* CERTAUTH_CGROUP_H */
