/*
 * agentsock.c - finding, checking and reaching the ssh-agent socket of
 * the user who started the front door.  The checks on the path are the
 * first line; the second is that the connection is made with that user's
 * privileges, so that the kernel's own permission checks apply to the
 * user and not to root, and the third that the server on the other end
 * runs as that user (SO_PEERCRED).  A socket swapped between the checks
 * and the connect can only be one the user could reach anyway, and must
 * still be served by the user.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "agentsock.h"
#include "certauth.h"
#include "spawn.h"
#include "sshagent.h"

/*
 * What the connecting child sends back, with the connection or not: the
 * step it got to and, for a failed one, its errno.
 */
#define CHILD_CONNECTED 0
#define CHILD_NOPRIV	1 /* the privilege drop failed */
#define CHILD_NOSOCKET	2 /* socket(2) failed */
#define CHILD_NOCONNECT 3 /* connect(2) failed */

struct child_word {
	int step;
	int err;
};

struct connect_plan {
	struct sockaddr_un sa;
	uid_t uid;
	gid_t gid;
	int chan; /* the child's end of the socket pair */
};

/* The checks on one directory of the path; last: the socket's own. */
static int
check_dir(const char *dir, const struct stat *st, uid_t uid, int last,
    struct certauth_reason *why)
{
	if (S_ISLNK(st->st_mode)) {
		certauth_reason_set(why, "%s is a symbolic link", dir);
		return CERTAUTH_ERR_UNSAFE;
	}
	if (!S_ISDIR(st->st_mode)) {
		certauth_reason_set(why, "%s is not a directory", dir);
		return CERTAUTH_ERR_UNSAFE;
	}
	if (last && st->st_uid != uid) {
		certauth_reason_set(why,
		    "directory %s of the ssh-agent socket is owned by uid "
		    "%lu, not uid %lu",
		    dir, (unsigned long)st->st_uid, (unsigned long)uid);
		return CERTAUTH_ERR_UNSAFE;
	}
	if (st->st_uid != 0 && st->st_uid != uid) {
		certauth_reason_set(why,
		    "directory %s is owned by uid %lu, neither root nor uid %lu",
		    dir, (unsigned long)st->st_uid, (unsigned long)uid);
		return CERTAUTH_ERR_UNSAFE;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (last || st->st_uid != 0 || (st->st_mode & S_ISVTX) == 0)) {
		certauth_reason_set(why,
		    "directory %s is writable by group or others", dir);
		return CERTAUTH_ERR_UNSAFE;
	}
	return 0;
}

/* lstat with the reason for a failure. */
static int
lstat_part(const char *part, struct stat *st, struct certauth_reason *why)
{
	if (lstat(part, st) == 0)
		return 0;
	if (errno == ENOENT) {
		certauth_reason_set(why, "%s does not exist", part);
		return CERTAUTH_ERR_NOT_FOUND;
	}
	certauth_reason_set(why, "cannot stat %s: %s", part, strerror(errno));
	return CERTAUTH_ERR_UNSAFE;
}

/* The socket itself. */
static int
check_socket(const char *path, uid_t uid, struct certauth_reason *why)
{
	struct stat st;
	int r;

	if ((r = lstat_part(path, &st, why)) != 0)
		return r;
	if (S_ISLNK(st.st_mode)) {
		certauth_reason_set(why, "%s is a symbolic link", path);
		return CERTAUTH_ERR_UNSAFE;
	}
	if (!S_ISSOCK(st.st_mode)) {
		certauth_reason_set(why, "%s is not a socket", path);
		return CERTAUTH_ERR_UNSAFE;
	}
	if (st.st_uid != uid) {
		certauth_reason_set(why,
		    "ssh-agent socket %s is owned by uid %lu, not uid %lu",
		    path, (unsigned long)st.st_uid, (unsigned long)uid);
		return CERTAUTH_ERR_UNSAFE;
	}
	return 0;
}

/* The path's shape: absolute, short enough, no "." or ".." part. */
static int
check_shape(const char *path, struct certauth_reason *why)
{
	struct sockaddr_un sa;
	const char *p;
	size_t n;

	if (path[0] != '/') {
		certauth_reason_set(why,
		    "SSH_AUTH_SOCK %s is not an absolute path", path);
		return CERTAUTH_ERR_UNSAFE;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		certauth_reason_set(why,
		    "SSH_AUTH_SOCK is longer than a socket address holds (%zu "
		    "bytes)",
		    sizeof(sa.sun_path) - 1);
		return CERTAUTH_ERR_TOO_LONG;
	}
	for (p = path; *p != '\0'; p += n) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			certauth_reason_set(why,
			    "SSH_AUTH_SOCK %s has a . or .. component", path);
			return CERTAUTH_ERR_UNSAFE;
		}
	}
	return 0;
}

int
certauth_agentsock_check(const char *path, uid_t uid,
    struct certauth_reason *why)
{
	struct stat st;
	char *part = NULL;
	size_t i = 0, last;
	int r = CERTAUTH_ERR_INTERNAL;

	if ((r = check_shape(path, why)) != 0)
		goto out;
	if ((part = strdup(path)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	last = (size_t)(strrchr(path, '/') - path);
	/* "/", then each directory down to the socket's own. */
	for (;;) {
		memcpy(part, path, i == 0 ? 1 : i);
		part[i == 0 ? 1 : i] = '\0';
		if ((r = lstat_part(part, &st, why)) != 0 ||
		    (r = check_dir(part, &st, uid, i == last, why)) != 0)
			goto out;
		if (i == last)
			break;
		i = (size_t)(strchr(path + i + 1, '/') - path);
	}
	r = check_socket(path, uid, why);
out:
	free(part);
	return r;
}

/* The child's word to the parent: status, and the connection with it. */
static void
send_back(int chan, int step, int err, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct child_word w = { step, err };
	struct iovec iov = { &w, sizeof(w) };
	struct msghdr m;

	memset(&m, 0, sizeof(m));
	memset(&u, 0, sizeof(u));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		u.h.cmsg_level = SOL_SOCKET;
		u.h.cmsg_type = SCM_RIGHTS;
		u.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&u.h), &fd, sizeof(int));
	}
	while (sendmsg(chan, &m, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/*
 * In the child, every signal blocked (certauth_fork): become the user for
 * good, connect as the user, hand the connection over.  Async-signal-safe
 * calls only.
 */
static void
connect_child(const void *arg)
{
	const struct connect_plan *p = arg;
	int fd;

	if (certauth_drop_privileges(p->uid, p->gid) != 0) {
		send_back(p->chan, CHILD_NOPRIV, errno, -1);
		_exit(1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		send_back(p->chan, CHILD_NOSOCKET, errno, -1);
		_exit(1);
	}
	while (
	    connect(fd, (const struct sockaddr *)&p->sa, sizeof(p->sa)) != 0) {
		if (errno != EINTR) {
			send_back(p->chan, CHILD_NOCONNECT, errno, -1);
			_exit(1);
		}
	}
	send_back(p->chan, CHILD_CONNECTED, 0, fd);
	_exit(0);
}

/* How waiting for the child's word ended. */
#define HEARD	 0
#define UNHEARD	 1 /* nothing by the deadline */
#define SILENT	 2 /* the child ended without a word */
#define NOLISTEN 3 /* poll or recvmsg failed: errno */

/* The child's word by deadline into *w, and the connection into *fd
 * (-1: none).  Returns HEARD or how it failed. */
static int
receive(int chan, long long deadline, struct child_word *w, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { w, sizeof(*w) };
	struct pollfd pfd = { chan, POLLIN, 0 };
	struct cmsghdr *c;
	struct msghdr m;
	long long left;
	ssize_t n;

	*fd = -1;
	for (;;) {
		if ((left = deadline - certauth_now_ms()) <= 0)
			return UNHEARD;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			break;
		if (n < 0 && errno != EINTR)
			return NOLISTEN;
	}
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	do
		n = recvmsg(chan, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return NOLISTEN;
	c = CMSG_FIRSTHDR(&m);
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n == (ssize_t)sizeof(*w) ? HEARD : SILENT;
}

/*
 * The reason and code for the child's word: CERTAUTH_ERR_UNREACHABLE
 * only when no agent can be reached at the path (by the deadline, or
 * connect(2) says so); every failure on this side is
 * CERTAUTH_ERR_INTERNAL.
 */
static int
explain(int how, int err, const struct child_word *w, int fd, const char *path,
    uid_t uid, struct certauth_reason *why)
{
	if (how == UNHEARD) {
		certauth_reason_set(why,
		    "cannot reach the ssh-agent at %s: no answer in time",
		    path);
		return CERTAUTH_ERR_UNREACHABLE;
	}
	if (how == NOLISTEN)
		certauth_reason_set(why,
		    "cannot hear from the process reaching the ssh-agent: %s",
		    strerror(err));
	else if (how == SILENT)
		certauth_reason_set(why,
		    "the process reaching the ssh-agent ended without a word");
	else if (w->step == CHILD_NOPRIV)
		certauth_reason_set(why,
		    "cannot drop privileges to uid %lu to reach the ssh-agent: "
		    "%s",
		    (unsigned long)uid, strerror(w->err));
	else if (w->step == CHILD_NOSOCKET)
		certauth_reason_set(why,
		    "cannot make a socket to reach the ssh-agent: %s",
		    strerror(w->err));
	else if (w->step == CHILD_NOCONNECT) {
		certauth_reason_set(why, "cannot reach the ssh-agent at %s: %s",
		    path, strerror(w->err));
		if (certauth_agent_absent(w->err))
			return CERTAUTH_ERR_UNREACHABLE;
	} else if (w->step != CHILD_CONNECTED || fd < 0)
		certauth_reason_set(why,
		    "the process reaching the ssh-agent handed no connection "
		    "over");
	else
		return 0;
	return CERTAUTH_ERR_INTERNAL;
}

/*
 * Connect as uid/gid in a child; the parent waits for its word by the
 * deadline and reaps it (or kills it).  Returns 0 with *fd, or a code.
 */
static int
connect_as(const char *path, struct connect_plan *p, long long deadline,
    int *fd, struct certauth_reason *why)
{
	struct certauth_ending end;
	struct child_word w = { -1, 0 };
	int sv[2] = { -1, -1 }, pidfd = -1, how, err;
	int r = CERTAUTH_ERR_INTERNAL;
	pid_t pid;

	*fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		certauth_reason_set(why, "cannot make a socket pair: %s",
		    strerror(errno));
		goto out;
	}
	p->chan = sv[1];
	if ((pid = certauth_fork(connect_child, p, &pidfd)) < 0) {
		certauth_reason_set(why,
		    "cannot start a process to reach the ssh-agent: %s",
		    strerror(errno));
		goto out;
	}
	close(sv[1]);
	sv[1] = -1;
	how = receive(sv[0], deadline, &w, fd);
	err = errno;
	(void)certauth_reap(pid, pidfd, how != HEARD, deadline, &end);
	r = explain(how, err, &w, *fd, path, p->uid, why);
out:
	if (r != 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	if (pidfd >= 0)
		close(pidfd);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return r;
}

/* The server on fd must run as uid. */
static int
check_peer(int fd, const char *path, uid_t uid, struct certauth_reason *why)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    len != sizeof(cred)) {
		certauth_reason_set(why,
		    "cannot learn who serves the ssh-agent socket %s: %s", path,
		    strerror(errno));
		return CERTAUTH_ERR_INTERNAL;
	}
	if (cred.uid != uid) {
		certauth_reason_set(why,
		    "the ssh-agent at %s runs as uid %lu, not uid %lu", path,
		    (unsigned long)cred.uid, (unsigned long)uid);
		return CERTAUTH_ERR_UNSAFE;
	}
	return 0;
}

int
certauth_agentsock_connect(const char *path, uid_t uid, gid_t gid,
    long long deadline_ms, struct certauth_agent **out,
    struct certauth_reason *why)
{
	struct connect_plan p;
	struct certauth_agent *a = NULL;
	long long left;
	int fd = -1, r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.sa.sun_family = AF_UNIX;
	p.uid = uid;
	p.gid = gid;
	if (strlen(path) >= sizeof(p.sa.sun_path)) {
		certauth_reason_set(why,
		    "SSH_AUTH_SOCK is longer than a socket address holds (%zu "
		    "bytes)",
		    sizeof(p.sa.sun_path) - 1);
		r = CERTAUTH_ERR_TOO_LONG;
		goto out;
	}
	memcpy(p.sa.sun_path, path, strlen(path));
	if (geteuid() == uid) {
		/* Already the user: nothing to drop. */
		left = deadline_ms - certauth_now_ms();
		if ((r = certauth_agent_connect(path, left > 0 ? (int)left : 0,
			 &a, why)) != 0)
			goto out;
	} else {
		if ((r = connect_as(path, &p, deadline_ms, &fd, why)) != 0)
			goto out;
		/* fd is the agent's now, whatever comes of it. */
		if ((r = certauth_agent_adopt(fd, &a)) != 0) {
			certauth_reason_set(why,
			    "cannot take over the connection to the ssh-agent: "
			    "%s",
			    r == CERTAUTH_ERR_INTERNAL ? strerror(errno) :
							 certauth_strerror(r));
			goto out;
		}
	}
	if ((r = check_peer(certauth_agent_fd(a), path, uid, why)) != 0)
		goto out;
	*out = a;
	a = NULL;
	r = 0;
out:
	certauth_agent_close(a);
	return r;
}
