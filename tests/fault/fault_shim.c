/*
 * fault_shim.c - interposed libc calls with a countdown (fault_shim.h).
 *
 * The program that links this file must be linked with -export-dynamic:
 * a definition in the executable then wins over libc's for every shared
 * object, including a module that libpam dlopens later.  glibc sends its
 * own internal allocations (strdup, asprintf, realpath, getpwnam_r, the
 * FILE of fopen) through the interposed malloc too, so they are counted;
 * its internal opens and reads (fopen's open, fread's read) are not, which
 * is why fopen, fread and fgets are interposed in their own right.
 *
 * Calls made while the shim is already inside one of its own functions
 * pass through uncounted, so one interposed call is one site.  So do
 * calls in any process but the one that armed the shim: the record is
 * shared memory, and a child forked by the module must reach its exec
 * exactly as it would without the test.
 */
#include "config.h"

#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>

#include "fault_shim.h"

#define MAX_FRAMES	128
#define SHOWN_FRAMES	10
#define MODULE_NAME	"pam_certauth.so"

/* glibc's own allocator, reachable without dlsym (which allocates). */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static struct fault_record *rec;
static long fail_at, count_from;
static int fail_kind = -1, also_kind = -1, kill_errno = EPERM;
static pid_t armed_pid;
static int armed, held, in_shim, log_depth, children;
static unsigned long scan_start, scan_size;
static const char *const *objects;

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static FILE *(*real_fopen)(const char *, const char *);
static FILE *(*real_fopen64)(const char *, const char *);
static ssize_t (*real_read)(int, void *, size_t);
static size_t (*real_fread)(void *, size_t, size_t, FILE *);
static char *(*real_fgets)(char *, int, FILE *);
static int (*real_getentropy)(void *, size_t);
static ssize_t (*real_getrandom)(void *, size_t, unsigned int);
static void (*real_pam_vsyslog)(const pam_handle_t *, int, const char *,
    va_list);
static int (*real_socketpair)(int, int, int, int *);
static int (*real_pipe)(int *);
static int (*real_pipe2)(int *, int);
static pid_t (*real_fork)(void);
static int (*real_getpwnam_r)(const char *, struct passwd *, char *, size_t,
    struct passwd **);
static int (*real_fcntl)(int, int, ...);
static int (*real_fcntl64)(int, int, ...);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static ssize_t (*real_send)(int, const void *, size_t, int);
static int (*real_waitid)(idtype_t, id_t, siginfo_t *, int);
static long (*real_syscall)(long, ...);
static int (*real_socket)(int, int, int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static int (*real_setgroups)(size_t, const gid_t *);
static int (*real_setresgid)(gid_t, gid_t, gid_t);
static int (*real_setresuid)(uid_t, uid_t, uid_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static pid_t (*real_waitpid)(pid_t, int *, int);
static int (*real_kill)(pid_t, int);

static void *
next_symbol(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL) {
		fprintf(stderr, "fault_shim: no %s after the shim\n", name);
		abort();
	}
	return p;
}

static void
resolve(void)
{
	if (real_open != NULL)
		return;
	in_shim++;
	*(void **)&real_open64 = next_symbol("open64");
	*(void **)&real_openat = next_symbol("openat");
	*(void **)&real_openat64 = next_symbol("openat64");
	*(void **)&real_fopen = next_symbol("fopen");
	*(void **)&real_fopen64 = next_symbol("fopen64");
	*(void **)&real_read = next_symbol("read");
	*(void **)&real_fread = next_symbol("fread");
	*(void **)&real_fgets = next_symbol("fgets");
	*(void **)&real_getentropy = next_symbol("getentropy");
	*(void **)&real_getrandom = next_symbol("getrandom");
	*(void **)&real_pam_vsyslog = next_symbol("pam_vsyslog");
	*(void **)&real_socketpair = next_symbol("socketpair");
	*(void **)&real_pipe = next_symbol("pipe");
	*(void **)&real_pipe2 = next_symbol("pipe2");
	*(void **)&real_fork = next_symbol("fork");
	*(void **)&real_getpwnam_r = next_symbol("getpwnam_r");
	*(void **)&real_fcntl = next_symbol("fcntl");
	*(void **)&real_fcntl64 = next_symbol("fcntl64");
	*(void **)&real_poll = next_symbol("poll");
	*(void **)&real_send = next_symbol("send");
	*(void **)&real_waitid = next_symbol("waitid");
	*(void **)&real_syscall = next_symbol("syscall");
	*(void **)&real_socket = next_symbol("socket");
	*(void **)&real_connect = next_symbol("connect");
	*(void **)&real_getsockopt = next_symbol("getsockopt");
	*(void **)&real_setgroups = next_symbol("setgroups");
	*(void **)&real_setresgid = next_symbol("setresgid");
	*(void **)&real_setresuid = next_symbol("setresuid");
	*(void **)&real_recv = next_symbol("recv");
	*(void **)&real_recvmsg = next_symbol("recvmsg");
	*(void **)&real_sendmsg = next_symbol("sendmsg");
	*(void **)&real_waitpid = next_symbol("waitpid");
	*(void **)&real_kill = next_symbol("kill");
	*(void **)&real_open = next_symbol("open");
	in_shim--;
}

const char *
fault_kind_name(int kind)
{
	static const char *names[FAULT_NKINDS] = {
		"alloc", "open", "read", "random", "pipe", "fork", "getpwnam_r",
		"fcntl", "poll", "send", "waitid", "pidfd_open",
		"pidfd_send_signal", "socket", "privilege drop", "recv",
		"sendmsg", "kill", "waitpid"
	};

	return kind >= 0 && kind < FAULT_NKINDS ? names[kind] : "?";
}

void
fault_set_record(struct fault_record *r)
{
	void *frames[4];

	resolve();
	/* backtrace() loads its unwinder on first use: do it now. */
	backtrace(frames, 4);
	rec = r;
}

void
fault_arm_kind(long from, int kind, long n)
{
	resolve();
	rec->calls = 0;
	rec->fail_at = n;
	rec->from = from;
	memset(rec->kind_calls, 0, sizeof(rec->kind_calls));
	rec->also_failed = 0;
	rec->fired = 0;
	rec->fired_call[0] = '\0';
	rec->fired_site[0] = '\0';
	rec->fired_caller[0] = '\0';
	rec->fired_entry[0] = '\0';
	rec->fired_in_module = 0;
	rec->fired_object[0] = '\0';
	rec->module_nframes = 0;
	rec->log_armed_at = rec->loglen;
	fail_at = n;
	fail_kind = kind;
	count_from = from;
	armed_pid = getpid();
	held = 0;
	armed = 1;
}

void
fault_arm(long n)
{
	fault_arm_kind(1, -1, n);
}

void
fault_also(int kind)
{
	also_kind = kind;
}

void
fault_kill_errno(int e)
{
	kill_errno = e;
}

void
fault_scan(unsigned long start, unsigned long size)
{
	scan_start = start;
	scan_size = size;
}

void
fault_objects(const char *const *names)
{
	objects = names;
}

void
fault_children(int on)
{
	children = on;
}

void
fault_disarm(void)
{
	armed = 0;
}

void
fault_hold(int on)
{
	held = on;
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* "obj:symbol" or "obj+0xoffset" (module frames: for addr2line). */
static int
frame_name(const Dl_info *info, void *addr, char *buf, size_t len)
{
	const char *obj = base_name(info->dli_fname);

	if (strcmp(obj, MODULE_NAME) == 0 || info->dli_sname == NULL)
		return snprintf(buf, len, "%s+0x%lx", obj,
		    (unsigned long)((uintptr_t)addr -
		    (uintptr_t)info->dli_fbase));
	return snprintf(buf, len, "%s:%s", obj, info->dli_sname);
}

/*
 * Is the return address ret in the module?  Then *off is its offset
 * less one (a byte of the call) from the module's load address, the way
 * nm and addr2line count.
 */
static int
module_offset(void *ret, unsigned long *off)
{
	Dl_info info;

	if (dladdr((const char *)ret - 1, &info) == 0 ||
	    info.dli_fname == NULL ||
	    strcmp(base_name(info.dli_fname), MODULE_NAME) != 0)
		return 0;
	*off = (unsigned long)((uintptr_t)ret - 1 - (uintptr_t)info.dli_fbase);
	return 1;
}

/*
 * Every module frame of frames[1..n), innermost first, as module-relative
 * offsets: the harness compares them with function ranges from nm.
 */
static void
record_module_frames(void *const *frames, int n)
{
	unsigned long off;
	int i;

	rec->module_nframes = 0;
	for (i = 1; i < n; i++) {
		if (!module_offset(frames[i], &off))
			continue;
		if (rec->module_nframes == FAULT_MODULE_FRAMES)
			break;
		rec->module_frame[rec->module_nframes++] = off;
	}
}

/*
 * Who made the failing call (the first frame outside this program), the
 * library function the module called to get there, every module frame on
 * the stack, and the frames up to and including the innermost module
 * frame: the first SHOWN_FRAMES, then the last two.
 */
static void
record_site(void)
{
	void *frames[MAX_FRAMES];
	Dl_info self, info[MAX_FRAMES];
	int n, i, m = 0, first = -1, mod = -1, shown = 0;
	size_t off = 0;

	n = backtrace(frames, MAX_FRAMES);
	record_module_frames(frames, n);
	if (dladdr((void *)record_site, &self) == 0)
		self.dli_fname = "";
	for (i = 1; i < n; i++) {
		/* return addresses: look up the call instruction */
		if (dladdr((char *)frames[i] - 1, &info[m]) == 0 ||
		    info[m].dli_fname == NULL ||
		    strcmp(info[m].dli_fname, self.dli_fname) == 0)
			continue;	/* the shim and the driver */
		frames[m] = (char *)frames[i] - 1;
		if (first < 0)
			first = m;
		if (strcmp(base_name(info[m].dli_fname), MODULE_NAME) == 0) {
			mod = m++;
			break;
		}
		m++;
	}
	rec->fired_in_module = mod >= 0;
	if (first >= 0)
		snprintf(rec->fired_caller, sizeof(rec->fired_caller), "%s",
		    base_name(info[first].dli_fname));
	if (mod > 0)
		frame_name(&info[mod - 1], frames[mod - 1], rec->fired_entry,
		    sizeof(rec->fired_entry));
	for (i = 0; i < m; i++) {
		int w;

		if (i >= SHOWN_FRAMES && i < m - 2) {
			if (i == SHOWN_FRAMES && off + 8 < FAULT_SITE_MAX) {
				memcpy(rec->fired_site + off, " < ...", 7);
				off += 6;
			}
			continue;
		}
		if (shown++ && off + 4 < FAULT_SITE_MAX) {
			memcpy(rec->fired_site + off, " < ", 4);
			off += 3;
		}
		w = frame_name(&info[i], frames[i], rec->fired_site + off,
		    FAULT_SITE_MAX - off);
		if (w < 0 || (size_t)w >= FAULT_SITE_MAX - off)
			break;
		off += (size_t)w;
	}
}

/*
 * Is a frame of the module at offsets [start, start + size) on the stack?
 * size ~0UL: any frame of the module.
 */
static int
module_on_stack(unsigned long start, unsigned long size)
{
	void *frames[MAX_FRAMES];
	unsigned long off;
	int n, i, found = 0;

	in_shim++;
	n = backtrace(frames, MAX_FRAMES);
	for (i = 1; i < n && !found; i++)
		found = module_offset(frames[i], &off) && off - start < size;
	in_shim--;
	return found;
}

/* Is path one of the objects fault_objects() named?  Its name, or NULL. */
static const char *
listed_object(const char *path)
{
	const char *base = base_name(path);
	size_t i;

	for (i = 0; objects != NULL && objects[i] != NULL; i++)
		if (strcmp(base, objects[i]) == 0)
			return objects[i];
	return NULL;
}

/* The innermost frame's object of the fault_objects() list, or NULL. */
static const char *
object_on_stack(void)
{
	void *frames[MAX_FRAMES];
	const char *found = NULL;
	Dl_info info;
	int n, i;

	if (objects == NULL)
		return NULL;
	in_shim++;
	n = backtrace(frames, MAX_FRAMES);
	for (i = 1; i < n && found == NULL; i++)
		if (dladdr((char *)frames[i] - 1, &info) != 0 &&
		    info.dli_fname != NULL)
			found = listed_object(info.dli_fname);
	in_shim--;
	return found;
}

/* Count one call; nonzero when it is the one to fail. */
static int
fail_now(int kind, const char *call)
{
	const char *obj;
	long n;
	int flags, hit;

	if (!armed || held || in_shim || rec == NULL ||
	    (!children && getpid() != armed_pid))
		return 0;
	/* The fetch's calls are there for the module's own use of them;
	 * libpam's audit record (libaudit polls its netlink socket after
	 * the module has answered) is libpam's affair. */
	if (kind >= FAULT_PIPE && !module_on_stack(0, ~0UL))
		return 0;
	n = ++rec->calls;
	flags = kind | (log_depth > 0 ? FAULT_IN_LOG : 0);
	if (scan_size != 0 && module_on_stack(scan_start, scan_size))
		flags |= FAULT_IN_SCOPE;
	if (scan_size != 0 && object_on_stack() != NULL)
		flags |= FAULT_IN_OBJECT;
	if (n < FAULT_MAX_CALLS)
		rec->kind[n] = (unsigned char)flags;
	if (fail_kind < 0) {
		hit = n == fail_at;
	} else if (n < count_from) {
		hit = 0;
	} else {
		hit = ++rec->kind_calls[kind] == fail_at && kind == fail_kind;
		if (!hit && kind == also_kind) {
			rec->also_failed++;
			return 1;
		}
	}
	if (!hit)
		return 0;
	in_shim++;
	rec->fired = 1;
	rec->fired_kind = kind;
	rec->fired_in_log = log_depth > 0;
	snprintf(rec->fired_call, sizeof(rec->fired_call), "%s", call);
	record_site();
	in_shim--;
	if ((obj = object_on_stack()) != NULL)
		snprintf(rec->fired_object, sizeof(rec->fired_object), "%s",
		    obj);
	return 1;
}

/* ---------------------------------------------------------- allocation */

void *
malloc(size_t size)
{
	if (fail_now(FAULT_ALLOC, "malloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(size);
}

void *
calloc(size_t n, size_t size)
{
	if (fail_now(FAULT_ALLOC, "calloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t size)
{
	if (fail_now(FAULT_ALLOC, "realloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, size);
}

void *
memalign(size_t align, size_t size)
{
	if (fail_now(FAULT_ALLOC, "memalign")) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_memalign(align, size);
}

void *
aligned_alloc(size_t align, size_t size)
{
	if (fail_now(FAULT_ALLOC, "aligned_alloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_memalign(align, size);
}

void *
valloc(size_t size)
{
	if (fail_now(FAULT_ALLOC, "valloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size);
}

int
posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (fail_now(FAULT_ALLOC, "posix_memalign"))
		return ENOMEM;
	if ((p = __libc_memalign(align, size)) == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

/* ---------------------------------------------------------- files */

static mode_t
open_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) != 0 ?
	    (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_BODY(name, call)						\
	va_list ap;							\
	mode_t mode;							\
	int fd;								\
									\
	va_start(ap, flags);						\
	mode = open_mode(flags, ap);					\
	va_end(ap);							\
	resolve();							\
	if (fail_now(FAULT_OPEN, name)) {				\
		errno = EIO;						\
		return -1;						\
	}								\
	in_shim++;							\
	fd = call;							\
	in_shim--;							\
	return fd

int
open(const char *path, int flags, ...)
{
	OPEN_BODY("open", real_open(path, flags, mode));
}

int
open64(const char *path, int flags, ...)
{
	OPEN_BODY("open64", real_open64(path, flags, mode));
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY("openat", real_openat(dirfd, path, flags, mode));
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY("openat64", real_openat64(dirfd, path, flags, mode));
}

static FILE *
any_fopen(FILE *(*real)(const char *, const char *), const char *name,
    const char *path, const char *how)
{
	FILE *f;

	if (fail_now(FAULT_OPEN, name)) {
		errno = EIO;
		return NULL;
	}
	in_shim++;
	f = real(path, how);
	in_shim--;
	return f;
}

FILE *
fopen(const char *path, const char *how)
{
	resolve();
	return any_fopen(real_fopen, "fopen", path, how);
}

FILE *
fopen64(const char *path, const char *how)
{
	resolve();
	return any_fopen(real_fopen64, "fopen64", path, how);
}

ssize_t
read(int fd, void *buf, size_t n)
{
	ssize_t got;

	resolve();
	if (fail_now(FAULT_READ, "read")) {
		errno = EIO;
		return -1;
	}
	in_shim++;
	got = real_read(fd, buf, n);
	in_shim--;
	return got;
}

/* A stream read error as glibc reports one: the error flag is set. */
static void
stream_error(FILE *f)
{
	f->_flags |= _IO_ERR_SEEN;
	errno = EIO;
}

size_t
fread(void *buf, size_t size, size_t n, FILE *f)
{
	size_t got;

	resolve();
	if (fail_now(FAULT_READ, "fread")) {
		stream_error(f);
		return 0;
	}
	in_shim++;
	got = real_fread(buf, size, n, f);
	in_shim--;
	return got;
}

char *
fgets(char *buf, int n, FILE *f)
{
	char *s;

	resolve();
	if (fail_now(FAULT_READ, "fgets")) {
		stream_error(f);
		return NULL;
	}
	in_shim++;
	s = real_fgets(buf, n, f);
	in_shim--;
	return s;
}

/* ---------------------------------------------------------- randomness */

int
getentropy(void *buf, size_t n)
{
	resolve();
	if (fail_now(FAULT_RANDOM, "getentropy")) {
		errno = EIO;
		return -1;
	}
	return real_getentropy(buf, n);
}

ssize_t
getrandom(void *buf, size_t n, unsigned int flags)
{
	resolve();
	if (fail_now(FAULT_RANDOM, "getrandom")) {
		errno = EIO;
		return -1;
	}
	return real_getrandom(buf, n, flags);
}

/* ---------------------------------------------------------- OCSP fetch */

int
socketpair(int domain, int type, int protocol, int sv[2])
{
	resolve();
	if (fail_now(FAULT_PIPE, "socketpair")) {
		errno = EMFILE;
		return -1;
	}
	return real_socketpair(domain, type, protocol, sv);
}

int
pipe(int fds[2])
{
	resolve();
	if (fail_now(FAULT_PIPE, "pipe")) {
		errno = EMFILE;
		return -1;
	}
	return real_pipe(fds);
}

int
pipe2(int fds[2], int flags)
{
	resolve();
	if (fail_now(FAULT_PIPE, "pipe2")) {
		errno = EMFILE;
		return -1;
	}
	return real_pipe2(fds, flags);
}

pid_t
fork(void)
{
	resolve();
	if (fail_now(FAULT_FORK, "fork")) {
		errno = EAGAIN;
		return -1;
	}
	return real_fork();
}

/* NSS returns its error number, and no entry. */
int
getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
    struct passwd **res)
{
	resolve();
	if (fail_now(FAULT_PWNAM, "getpwnam_r")) {
		*res = NULL;
		return EIO;
	}
	return real_getpwnam_r(name, pw, buf, len, res);
}

/* Every command's third argument fits a pointer's register. */
static int
any_fcntl(int (*real)(int, int, ...), const char *name, int fd, int cmd,
    void *arg)
{
	if (fail_now(FAULT_FCNTL, name)) {
		errno = cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC ? EMFILE :
		    EBADF;
		return -1;
	}
	return real(fd, cmd, arg);
}

int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	resolve();
	return any_fcntl(real_fcntl, "fcntl", fd, cmd, arg);
}

int
fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	resolve();
	return any_fcntl(real_fcntl64, "fcntl64", fd, cmd, arg);
}

/* EINTR would be retried by any careful caller: a failure that sticks. */
int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	resolve();
	if (fail_now(FAULT_POLL, "poll")) {
		errno = ENOMEM;
		return -1;
	}
	return real_poll(fds, n, timeout);
}

ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	resolve();
	if (fail_now(FAULT_SEND, "send")) {
		errno = ENOBUFS;
		return -1;
	}
	return real_send(fd, buf, n, flags);
}

/* ECHILD: what a host that reaped the child first leaves the caller. */
int
waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	resolve();
	if (fail_now(FAULT_WAIT, "waitid")) {
		errno = ECHILD;
		return -1;
	}
	return real_waitid(type, id, info, options);
}

/*
 * Only pidfd_open and pidfd_send_signal are counted; every other system
 * call passes through.  Six arguments are the most a system call takes.
 */
long
syscall(long number, ...)
{
	va_list ap;
	long a[6];
	int i;

	va_start(ap, number);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	resolve();
#ifdef SYS_pidfd_open
	if (number == SYS_pidfd_open &&
	    fail_now(FAULT_PIDFD_OPEN, "pidfd_open")) {
		errno = EMFILE;
		return -1;
	}
#endif
#ifdef SYS_pidfd_send_signal
	if (number == SYS_pidfd_send_signal &&
	    fail_now(FAULT_PIDFD_KILL, "pidfd_send_signal")) {
		errno = kill_errno;
		return -1;
	}
#endif
	return real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ---------------------------------------------------------- agent mode */

int
socket(int domain, int type, int protocol)
{
	resolve();
	if (fail_now(FAULT_SOCKET, "socket")) {
		errno = EMFILE;
		return -1;
	}
	return real_socket(domain, type, protocol);
}

/* ENOBUFS: a local failure (the kernel's buffers), never "no agent". */
int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	resolve();
	if (fail_now(FAULT_SOCKET, "connect")) {
		errno = ENOBUFS;
		return -1;
	}
	return real_connect(fd, sa, len);
}

int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	resolve();
	if (fail_now(FAULT_SOCKET, "getsockopt")) {
		errno = ENOBUFS;
		return -1;
	}
	return real_getsockopt(fd, level, name, val, len);
}

int
setgroups(size_t n, const gid_t *list)
{
	resolve();
	if (fail_now(FAULT_PRIV, "setgroups")) {
		errno = EPERM;
		return -1;
	}
	return real_setgroups(n, list);
}

int
setresgid(gid_t r, gid_t e, gid_t s)
{
	resolve();
	if (fail_now(FAULT_PRIV, "setresgid")) {
		errno = EPERM;
		return -1;
	}
	return real_setresgid(r, e, s);
}

/* EAGAIN: what the kernel said over RLIMIT_NPROC before Linux 3.1. */
int
setresuid(uid_t r, uid_t e, uid_t s)
{
	resolve();
	if (fail_now(FAULT_PRIV, "setresuid")) {
		errno = EAGAIN;
		return -1;
	}
	return real_setresuid(r, e, s);
}

ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	resolve();
	if (fail_now(FAULT_RECV, "recv")) {
		errno = ENOMEM;
		return -1;
	}
	return real_recv(fd, buf, n, flags);
}

ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	resolve();
	if (fail_now(FAULT_RECV, "recvmsg")) {
		errno = ENOMEM;
		return -1;
	}
	return real_recvmsg(fd, m, flags);
}

ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	resolve();
	if (fail_now(FAULT_SENDMSG, "sendmsg")) {
		errno = ENOBUFS;
		return -1;
	}
	return real_sendmsg(fd, m, flags);
}

pid_t
waitpid(pid_t pid, int *status, int options)
{
	resolve();
	if (fail_now(FAULT_WAITPID, "waitpid")) {
		errno = ECHILD;
		return -1;
	}
	return real_waitpid(pid, status, options);
}

int
kill(pid_t pid, int sig)
{
	resolve();
	if (fail_now(FAULT_KILL, "kill")) {
		errno = EPERM;
		return -1;
	}
	return real_kill(pid, sig);
}

/* ---------------------------------------------------------- logging */

/* Append "<priority> <line>\n" to the record; nothing leaves the process. */
static void record_line(int priority, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
record_line(int priority, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (rec == NULL)
		return;
	in_shim++;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	in_shim--;
	if (n < 0)
		return;
	n = snprintf(rec->log + rec->loglen, FAULT_LOG_MAX - rec->loglen,
	    "%d %s\n", priority & LOG_PRIMASK, line);
	if (n > 0 && (size_t)n < FAULT_LOG_MAX - rec->loglen)
		rec->loglen += (size_t)n;
}

void
openlog(const char *ident, int option, int facility)
{
	(void)ident;
	(void)option;
	(void)facility;
}

void
closelog(void)
{
}

void
vsyslog(int priority, const char *fmt, va_list ap)
{
	record_line(priority, fmt, ap);
}

void
syslog(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_line(priority, fmt, ap);
	va_end(ap);
}

void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
void __syslog_chk(int priority, int flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void
__vsyslog_chk(int priority, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	record_line(priority, fmt, ap);
}

void
__syslog_chk(int priority, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	record_line(priority, fmt, ap);
	va_end(ap);
}

/*
 * libpam's own formatting (its prefix, its allocations) still runs, so a
 * fault in it is a fault in the logger: marked as such in the record.
 */
void
pam_vsyslog(const pam_handle_t *pamh, int priority, const char *fmt,
    va_list ap)
{
	resolve();
	log_depth++;
	real_pam_vsyslog(pamh, priority, fmt, ap);
	log_depth--;
}

void
pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pam_vsyslog(pamh, priority, fmt, ap);
	va_end(ap);
}
