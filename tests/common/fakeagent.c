/*
 * fakeagent.c - a scripted ssh-agent for the tests (fakeagent.h).
 *
 * The listener is a child of the test that becomes the agent's user
 * before it listens (the kernel records the listener's credentials for
 * SO_PEERCRED then), in a process group of its own so that stopping it
 * ends every connection it serves.  Its request parsing trusts the module:
 * this is the module's peer under test, not a parser under test.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "fakeagent.h"
#include "sshagent.h"

#define AGENT_LIST     11
#define AGENT_IDS      12
#define AGENT_SIGN     13
#define AGENT_SIGNED   14
#define REQUEST_MAX    70000
#define READY_WAIT_MS  10000

/* ------------------------------------------------------------ wire */

void
tu_w_u32(struct tu_wire *w, uint32_t v)
{
	tu_w_u8(w, (unsigned char)(v >> 24));
	tu_w_u8(w, (unsigned char)(v >> 16));
	tu_w_u8(w, (unsigned char)(v >> 8));
	tu_w_u8(w, (unsigned char)v);
}

void
tu_w_u8(struct tu_wire *w, unsigned char c)
{
	if (w->n >= sizeof(w->b))
		abort();
	w->b[w->n++] = c;
}

void
tu_w_str(struct tu_wire *w, const void *s, size_t n)
{
	if (n > sizeof(w->b) || w->n + 4 + n > sizeof(w->b))
		abort();
	tu_w_u32(w, (uint32_t)n);
	memcpy(w->b + w->n, s, n);
	w->n += n;
}

void
tu_w_cstr(struct tu_wire *w, const char *s)
{
	tu_w_str(w, s, strlen(s));
}

void
tu_w_mpint(struct tu_wire *w, const BIGNUM *bn)
{
	unsigned char buf[80];
	int n = BN_bn2bin(bn, buf + 1);

	buf[0] = 0;
	if (n > 0 && (buf[1] & 0x80))
		tu_w_str(w, buf, (size_t)n + 1);
	else
		tu_w_str(w, buf + 1, (size_t)n);
}

void
tu_w_msg(struct tu_wire *out, const struct tu_wire *body)
{
	out->n = 0;
	tu_w_u32(out, (uint32_t)body->n);
	if (body->n > sizeof(out->b) - 4)
		abort();
	memcpy(out->b + out->n, body->b, body->n);
	out->n += body->n;
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* ------------------------------------------------------------ agent side */

static int
read_full(int fd, unsigned char *b, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = read(fd, b, n)) <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
write_full(int fd, const unsigned char *b, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, b, n)) <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The SSH signature blob of data by s->signer for flags. */
static void
signature(const struct tu_agent_script *s, const unsigned char *data,
    size_t len, uint32_t flags, struct tu_wire *sig)
{
	const EVP_MD *md = NULL;
	unsigned char raw[1024];
	size_t rawlen = sizeof(raw);
	const char *type = "ssh-ed25519";
	struct tu_wire inner = { { 0 }, 0 };
	const unsigned char *p = raw;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int id = EVP_PKEY_get_base_id(s->signer), bits;
	ECDSA_SIG *es;

	if (id == EVP_PKEY_RSA) {
		md = flags & CERTAUTH_AGENT_RSA_SHA2_512 ? EVP_sha512()
							 : EVP_sha256();
		type = flags & CERTAUTH_AGENT_RSA_SHA2_512 ? "rsa-sha2-512"
							   : "rsa-sha2-256";
	} else if (id == EVP_PKEY_EC) {
		bits = EVP_PKEY_get_bits(s->signer);
		md = bits == 256 ? EVP_sha256()
		    : bits == 384 ? EVP_sha384()
				  : EVP_sha512();
		type = bits == 256 ? "ecdsa-sha2-nistp256"
		    : bits == 384  ? "ecdsa-sha2-nistp384"
				   : "ecdsa-sha2-nistp521";
	}
	if (ctx == NULL ||
	    EVP_DigestSignInit(ctx, NULL, md, NULL, s->signer) != 1 ||
	    EVP_DigestSign(ctx, raw, &rawlen, data, len) != 1)
		_exit(3);
	EVP_MD_CTX_free(ctx);
	sig->n = 0;
	tu_w_cstr(sig, s->sigtype != NULL ? s->sigtype : type);
	if (id == EVP_PKEY_EC) {
		if ((es = d2i_ECDSA_SIG(NULL, &p, (long)rawlen)) == NULL)
			_exit(3);
		tu_w_mpint(&inner, ECDSA_SIG_get0_r(es));
		tu_w_mpint(&inner, ECDSA_SIG_get0_s(es));
		ECDSA_SIG_free(es);
		tu_w_str(sig, inner.b, inner.n);
	} else
		tu_w_str(sig, raw, rawlen);
}

/* The answer to a sign request (body req of len bytes). */
static void
sign_reply(const struct tu_agent_script *s, const unsigned char *req,
    size_t len, struct tu_wire *out)
{
	struct tu_wire body = { { 0 }, 0 }, sig = { { 0 }, 0 };
	uint32_t blen, dlen;
	const unsigned char *data;

	if (len < 9 || (blen = get_u32(req + 1)) > len - 9)
		_exit(4);
	data = req + 5 + blen + 4;
	dlen = get_u32(data - 4);
	if (dlen > len - 9 - blen - 4)
		_exit(4);
	signature(s, data, dlen, get_u32(data + dlen), &sig);
	tu_w_u8(&body, AGENT_SIGNED);
	tu_w_str(&body, sig.b, sig.n);
	if (s->trailing)
		tu_w_u8(&body, 0);
	tu_w_msg(out, &body);
}

/* The identities answer: every listed key. */
static void
list_reply(const struct tu_agent_script *s, struct tu_wire *out)
{
	struct tu_wire body = { { 0 }, 0 };
	struct certauth_reason why;
	unsigned char *blob = NULL;
	size_t len = 0;
	int i;

	tu_w_u8(&body, AGENT_IDS);
	tu_w_u32(&body, (uint32_t)s->nlisted);
	for (i = 0; i < s->nlisted; i++) {
		if (certauth_sshkey_blob(s->listed[i], &blob, &len, &why) != 0)
			_exit(6);
		tu_w_str(&body, blob, len);
		tu_w_cstr(&body, "fake agent");
		free(blob);
	}
	tu_w_msg(out, &body);
}

/* One connection, to its end. */
static void
serve(int fd, const struct tu_agent_script *s)
{
	static unsigned char req[REQUEST_MAX];
	unsigned char hdr[4];
	struct tu_wire out;
	uint32_t len;
	int how;

	if (s->close)
		_exit(0);
	while (read_full(fd, hdr, 4) == 0) {
		if ((len = get_u32(hdr)) == 0 || len > sizeof(req) ||
		    read_full(fd, req, len) != 0)
			_exit(2);
		how = req[0] == AGENT_SIGN ? s->sign
		    : req[0] == AGENT_LIST ? s->list
					   : TU_AGENT_CANNED;
		if (how == TU_AGENT_SILENT)
			for (;;)
				pause();
		if (how == TU_AGENT_CANNED)
			out = s->canned;
		else if (req[0] == AGENT_SIGN)
			sign_reply(s, req, len, &out);
		else
			list_reply(s, &out);
		if (write_full(fd, out.b, out.n) != 0)
			_exit(0);
	}
	_exit(0);
}

/* The listener: become the user, listen, say so, then a child per
 * connection. */
static void
listener(const char *path, const struct tu_agent_script *s, uid_t uid,
    gid_t gid, int ready)
{
	struct sockaddr_un sa;
	int lfd, fd;

	(void)setpgid(0, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGCHLD, SIG_IGN); /* connections reap themselves */
	signal(SIGPIPE, SIG_IGN);
	if (uid != (uid_t)-1 &&
	    (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
		setresuid(uid, uid, uid) != 0))
		_exit(7);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		_exit(8);
	memcpy(sa.sun_path, path, strlen(path));
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 64) != 0)
		_exit(8);
	if (write(ready, "r", 1) != 1)
		_exit(9);
	close(ready);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(10);
		}
		if (fork() == 0) {
			close(lfd);
			serve(fd, s);
		}
		close(fd);
	}
}

void
tu_agent_start(struct tu_agent *a, const struct tu_agent_script *s,
    const char *base, uid_t uid, gid_t gid)
{
	struct pollfd ready = { -1, POLLIN, 0 };
	int pfd[2];
	char c;

	memset(a, 0, sizeof(*a));
	snprintf(a->dir, sizeof(a->dir), "%s/agent.XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(a->dir) == NULL)
		fail_msg("fakeagent: mkdtemp %s: %s", a->dir, strerror(errno));
	if (uid != (uid_t)-1 && chown(a->dir, uid, gid) != 0)
		fail_msg("fakeagent: chown %s: %s", a->dir, strerror(errno));
	snprintf(a->path, sizeof(a->path), "%s/sock", a->dir);
	if (pipe(pfd) != 0)
		fail_msg("fakeagent: pipe: %s", strerror(errno));
	ready.fd = pfd[0];
	fflush(stdout);
	fflush(stderr);
	if ((a->pid = fork()) < 0)
		fail_msg("fakeagent: fork: %s", strerror(errno));
	if (a->pid == 0) {
		close(pfd[0]);
		listener(a->path, s, uid, gid, pfd[1]);
	}
	close(pfd[1]);
	if (poll(&ready, 1, READY_WAIT_MS) != 1 || read(pfd[0], &c, 1) != 1)
		fail_msg("fakeagent: the agent at %s did not start", a->path);
	close(pfd[0]);
}

void
tu_agent_stop(struct tu_agent *a)
{
	if (a->pid <= 0)
		return;
	(void)kill(-a->pid, SIGKILL);
	(void)kill(a->pid, SIGKILL);
	(void)waitpid(a->pid, NULL, 0);
	a->pid = 0;
	(void)unlink(a->path);
	(void)rmdir(a->dir);
}
