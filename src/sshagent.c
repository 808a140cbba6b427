/*
 * The client side of the ssh-agent protocol (draft-miller-ssh-agent) and
 * the SSH wire forms of keys and signatures (RFC 4251 section 5, RFC 4253
 * section 6.6, RFC 5656 section 3, RFC 8332, RFC 8709).  An agent may be
 * forwarded from anywhere: every length it sends is checked against a
 * cap before anything is allocated, every exchange ends by a deadline,
 * and nothing it says is trusted until the signature verifies.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include "certauth.h"
#include "digest.h"
#include "sshagent.h"
#include "verify.h"

/* Message numbers, draft-miller-ssh-agent section 6.1. */
#define AGENT_FAILURE		5
#define AGENTC_REQUEST_IDS	11
#define AGENT_IDS_ANSWER	12
#define AGENTC_SIGN_REQUEST	13
#define AGENT_SIGN_RESPONSE	14
#define AGENT_EXTENSION_FAILURE 28
#define AGENT2_FAILURE_OLD	30  /* SSH2_AGENT_FAILURE of old agents */
#define AGENT_COM_FAILURE	102 /* ssh.com agents */

#define BLOB_MAX     16384 /* a key blob we send or compare */
#define DATA_MAX     65536 /* the data we ask to be signed */
#define SSIG_MAX     16384 /* a signature blob */
#define RECONNECT_MS 10	   /* pause while a full backlog drains */

struct certauth_agent {
	int fd;
	int broken; /* an exchange was cut short: the stream is out of step */
};

/* ------------------------------------------------------------ wire */

struct rbuf {
	const unsigned char *p;
	size_t left;
};

static uint32_t
peek_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int
get_u32(struct rbuf *b, uint32_t *v)
{
	if (b->left < 4)
		return -1;
	*v = peek_u32(b->p);
	b->p += 4;
	b->left -= 4;
	return 0;
}

/* A string of at most max bytes, pointing into b.  0 or -1. */
static int
get_string(struct rbuf *b, const unsigned char **s, size_t *len, size_t max)
{
	uint32_t n;

	if (get_u32(b, &n) != 0 || n > b->left || n > max)
		return -1;
	*s = b->p;
	*len = n;
	b->p += n;
	b->left -= n;
	return 0;
}

/* A string equal to the C string want.  0 or -1. */
static int
get_name(struct rbuf *b, const char *want)
{
	const unsigned char *s;
	size_t len;

	if (get_string(b, &s, &len, 64) != 0 || len != strlen(want) ||
	    memcmp(s, want, len) != 0)
		return -1;
	return 0;
}

/* A writer into a buffer sized beforehand: overflow is a bug, caught. */
struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int over;
};

static void
put_bytes(struct wbuf *w, const void *s, size_t n)
{
	if (w->over || n > w->cap - w->len) {
		w->over = 1;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void
put_u32(struct wbuf *w, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24),
		(unsigned char)(v >> 16), (unsigned char)(v >> 8),
		(unsigned char)v };

	put_bytes(w, b, 4);
}

static void
put_string(struct wbuf *w, const void *s, size_t n)
{
	put_u32(w, (uint32_t)n);
	put_bytes(w, s, n);
}

static void
put_cstring(struct wbuf *w, const char *s)
{
	put_string(w, s, strlen(s));
}

/* ------------------------------------------------------------ I/O */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline passes.  0 or -1
 * with errno (ETIMEDOUT at the deadline). */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { fd, events, 0 };
	long long left;
	int n;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n > 0)
			return 0;
	}
}

static int
send_all(int fd, const unsigned char *buf, size_t len, long long deadline)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				return -1;
			continue;
		}
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Exactly len bytes.  0 or -1 with errno (ECONNRESET for an early end). */
static int
recv_all(int fd, unsigned char *buf, size_t len, long long deadline)
{
	ssize_t n;

	while (len > 0) {
		n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLIN, deadline) != 0)
				return -1;
			continue;
		}
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static const char *
io_error(int err)
{
	if (err == ETIMEDOUT)
		return "no answer in time";
	if (err == ECONNRESET || err == EPIPE)
		return "the agent closed the connection";
	return strerror(err);
}

/*
 * Send req (a whole message, length included) and read the reply's
 * body (type and contents) into *msg, malloc'd, within timeout_ms.
 * Returns 0 or a CERTAUTH_ERR_* code with why set.
 */
static int
exchange(struct certauth_agent *a, const unsigned char *req, size_t reqlen,
    int timeout_ms, unsigned char **msg, size_t *msglen,
    struct certauth_reason *why)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	unsigned char hdr[4], *buf = NULL;
	uint32_t len;
	int r = CERTAUTH_ERR_UNREACHABLE;

	*msg = NULL;
	if (a->broken) {
		certauth_reason_set(why,
		    "ssh-agent connection unusable after "
		    "an earlier failure");
		goto out;
	}
	a->broken = 1;
	if (send_all(a->fd, req, reqlen, deadline) != 0 ||
	    recv_all(a->fd, hdr, 4, deadline) != 0) {
		certauth_reason_set(why, "ssh-agent: %s", io_error(errno));
		goto out;
	}
	if ((len = peek_u32(hdr)) == 0 || len > CERTAUTH_AGENT_MSG_MAX) {
		certauth_reason_set(why,
		    "ssh-agent reply of %lu bytes (the limit is %d)",
		    (unsigned long)len, CERTAUTH_AGENT_MSG_MAX);
		r = len == 0 ? CERTAUTH_ERR_FORMAT : CERTAUTH_ERR_TOO_LONG;
		goto out;
	}
	if ((buf = malloc(len)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	if (recv_all(a->fd, buf, len, deadline) != 0) {
		certauth_reason_set(why, "ssh-agent: %s", io_error(errno));
		goto out;
	}
	a->broken = 0;
	*msg = buf;
	*msglen = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	return r;
}

static int
is_failure(unsigned char type)
{
	return type == AGENT_FAILURE || type == AGENT_EXTENSION_FAILURE ||
	    type == AGENT2_FAILURE_OLD || type == AGENT_COM_FAILURE;
}

int
certauth_agent_absent(int err)
{
	return err == ENOENT || err == ECONNREFUSED || err == EACCES ||
	    err == EPERM || err == ENOTDIR || err == ELOOP || err == ENOTSOCK ||
	    err == EPROTOTYPE;
}

int
certauth_agent_connect(const char *path, int timeout_ms,
    struct certauth_agent **out, struct certauth_reason *why)
{
	struct sockaddr_un sa;
	struct certauth_agent *a = NULL;
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int r = CERTAUTH_ERR_UNREACHABLE, fd = -1, e;

	*out = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		certauth_reason_set(why,
		    "ssh-agent socket path is longer than %zu bytes",
		    sizeof(sa.sun_path) - 1);
		r = CERTAUTH_ERR_TOO_LONG;
		goto out;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		 0)) < 0) {
		certauth_reason_set(why, "cannot make a socket: %s",
		    strerror(errno));
		r = CERTAUTH_ERR_INTERNAL;
		goto out;
	}
	/* A UNIX socket connects at once or says EAGAIN (backlog full). */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		if (e == EISCONN) /* an interrupted call went through */
			break;
		if (e == EINTR)
			continue;
		if (e != EAGAIN || now_ms() >= deadline) {
			certauth_reason_set(why,
			    "cannot reach the ssh-agent at %s: %s", path,
			    e == EAGAIN ? "no answer in time" : strerror(e));
			if (e != EAGAIN && !certauth_agent_absent(e))
				r = CERTAUTH_ERR_INTERNAL;
			goto out;
		}
		poll(NULL, 0, RECONNECT_MS);
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	a->fd = fd;
	fd = -1;
	*out = a;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int
certauth_agent_adopt(int fd, struct certauth_agent **out)
{
	struct certauth_agent *a = NULL;
	int fl;

	*out = NULL;
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		fl = errno;
		close(fd);
		errno = fl;
		return CERTAUTH_ERR_INTERNAL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		close(fd);
		return CERTAUTH_ERR_NOMEM;
	}
	a->fd = fd;
	*out = a;
	return 0;
}

int
certauth_agent_fd(const struct certauth_agent *a)
{
	return a->fd;
}

void
certauth_agent_close(struct certauth_agent *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	free(a);
}

/* ------------------------------------------------------------ identities */

void
certauth_agent_ids_free(struct certauth_agent_ids *ids)
{
	if (ids == NULL)
		return;
	free(ids->v);
	free(ids->msg);
	memset(ids, 0, sizeof(*ids));
}

/* The entries of an identities answer (after its type byte). */
static int
parse_ids(struct rbuf *b, struct certauth_agent_ids *ids,
    struct certauth_reason *why)
{
	struct certauth_agent_id *id;
	uint32_t n, i;

	if (get_u32(b, &n) != 0) {
		certauth_reason_set(why, "ssh-agent sent a truncated key list");
		return CERTAUTH_ERR_FORMAT;
	}
	/* Each entry takes at least two empty strings: 8 bytes. */
	if (n > CERTAUTH_AGENT_IDS_MAX || n > b->left / 8) {
		certauth_reason_set(why,
		    "ssh-agent claims %lu keys in a reply of %zu bytes",
		    (unsigned long)n, b->left);
		return n > CERTAUTH_AGENT_IDS_MAX ? CERTAUTH_ERR_TOO_LONG :
						    CERTAUTH_ERR_FORMAT;
	}
	if (n > 0 && (ids->v = calloc(n, sizeof(*ids->v))) == NULL) {
		certauth_reason_set(why, "%s",
		    certauth_strerror(CERTAUTH_ERR_NOMEM));
		return CERTAUTH_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		id = &ids->v[i];
		if (get_string(b, &id->blob, &id->bloblen, BLOB_MAX) != 0 ||
		    get_string(b, &id->comment, &id->commentlen, BLOB_MAX) !=
			0) {
			certauth_reason_set(why,
			    "ssh-agent sent a malformed key list (entry %lu)",
			    (unsigned long)i + 1);
			return CERTAUTH_ERR_FORMAT;
		}
	}
	ids->n = n;
	if (b->left != 0) {
		certauth_reason_set(why,
		    "ssh-agent sent %zu bytes after its key list", b->left);
		return CERTAUTH_ERR_FORMAT;
	}
	return 0;
}

int
certauth_agent_list(struct certauth_agent *a, int timeout_ms,
    struct certauth_agent_ids *ids, struct certauth_reason *why)
{
	static const unsigned char req[5] = { 0, 0, 0, 1, AGENTC_REQUEST_IDS };
	struct certauth_agent_ids got = { NULL, 0, NULL };
	struct rbuf b;
	size_t len = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	memset(ids, 0, sizeof(*ids));
	if ((r = exchange(a, req, sizeof(req), timeout_ms, &got.msg, &len,
		 why)) != 0)
		goto out;
	b.p = got.msg + 1;
	b.left = len - 1;
	if (is_failure(got.msg[0])) {
		certauth_reason_set(why, "ssh-agent refused to list its keys");
		r = CERTAUTH_ERR_KEY_REFUSED;
		goto out;
	}
	if (got.msg[0] != AGENT_IDS_ANSWER) {
		certauth_reason_set(why,
		    "ssh-agent answered a key listing with message %u",
		    got.msg[0]);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if ((r = parse_ids(&b, &got, why)) != 0)
		goto out;
	*ids = got;
	memset(&got, 0, sizeof(got));
	r = 0;
out:
	certauth_agent_ids_free(&got);
	return r;
}

int
certauth_agent_ids_have(const struct certauth_agent_ids *ids,
    const unsigned char *blob, size_t len)
{
	size_t i;

	for (i = 0; i < ids->n; i++)
		if (ids->v[i].bloblen == len &&
		    memcmp(ids->v[i].blob, blob, len) == 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------ signing */

/* The signature blob of a sign response (after its type byte). */
static int
parse_sign_response(struct rbuf *b, unsigned char **sig, size_t *siglen,
    struct certauth_reason *why)
{
	const unsigned char *s;
	size_t len;

	if (get_string(b, &s, &len, SSIG_MAX) != 0 || len == 0) {
		certauth_reason_set(why,
		    "ssh-agent sent a malformed or oversized signature");
		return CERTAUTH_ERR_FORMAT;
	}
	if (b->left != 0) {
		certauth_reason_set(why,
		    "ssh-agent sent %zu bytes after its signature", b->left);
		return CERTAUTH_ERR_FORMAT;
	}
	if ((*sig = malloc(len)) == NULL) {
		certauth_reason_set(why, "%s",
		    certauth_strerror(CERTAUTH_ERR_NOMEM));
		return CERTAUTH_ERR_NOMEM;
	}
	memcpy(*sig, s, len);
	*siglen = len;
	return 0;
}

int
certauth_agent_sign_raw(struct certauth_agent *a, const unsigned char *blob,
    size_t bloblen, const unsigned char *data, size_t len, uint32_t flags,
    int timeout_ms, unsigned char **sig, size_t *siglen,
    struct certauth_reason *why)
{
	struct wbuf w = { NULL, 0, 0, 0 };
	unsigned char *msg = NULL;
	size_t msglen = 0;
	struct rbuf b;
	int r = CERTAUTH_ERR_TOO_LONG;

	*sig = NULL;
	if (bloblen > BLOB_MAX || len > DATA_MAX) {
		certauth_reason_set(why, "key or data too long to sign");
		goto out;
	}
	w.cap = 4 + 1 + 4 + bloblen + 4 + len + 4;
	if ((w.p = malloc(w.cap)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		certauth_reason_set(why, "%s", certauth_strerror(r));
		goto out;
	}
	put_u32(&w, (uint32_t)(w.cap - 4));
	put_bytes(&w, &(unsigned char){ AGENTC_SIGN_REQUEST }, 1);
	put_string(&w, blob, bloblen);
	put_string(&w, data, len);
	put_u32(&w, flags);
	if (w.over || w.len != w.cap) {
		r = CERTAUTH_ERR_INTERNAL;
		certauth_reason_set(why, "sign request mis-sized");
		goto out;
	}
	if ((r = exchange(a, w.p, w.len, timeout_ms, &msg, &msglen, why)) != 0)
		goto out;
	b.p = msg + 1;
	b.left = msglen - 1;
	if (is_failure(msg[0])) {
		certauth_reason_set(why, "ssh-agent refused to sign");
		r = CERTAUTH_ERR_KEY_REFUSED;
		goto out;
	}
	if (msg[0] != AGENT_SIGN_RESPONSE) {
		certauth_reason_set(why,
		    "ssh-agent answered a sign request with message %u",
		    msg[0]);
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	r = parse_sign_response(&b, sig, siglen, why);
out:
	free(msg);
	free(w.p);
	return r;
}

/* ------------------------------------------------------------ keys */

/* The curves SSH names (RFC 5656 section 10.1) with their hashes. */
static const struct ssh_curve {
	int nid;
	const char *id;	  /* "nistp256" */
	const char *name; /* "P-256" */
	size_t field;	  /* bytes of a coordinate */
	int digest;	  /* enum certauth_digest */
} ssh_curves[] = {
	{ NID_X9_62_prime256v1, "nistp256", "P-256", 32,
	    CERTAUTH_DIGEST_SHA256 },
	{ NID_secp384r1, "nistp384", "P-384", 48, CERTAUTH_DIGEST_SHA384 },
	{ NID_secp521r1, "nistp521", "P-521", 66, CERTAUTH_DIGEST_SHA512 },
};

/* The SSH curve of an EC key, or NULL. */
static const struct ssh_curve *
curve_of(EVP_PKEY *pkey)
{
	char group[80];
	size_t i;
	int nid;

	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
		group, sizeof(group), NULL) != 1)
		return NULL;
	if ((nid = OBJ_sn2nid(group)) == NID_undef &&
	    (nid = EC_curve_nist2nid(group)) == NID_undef)
		return NULL;
	for (i = 0; i < sizeof(ssh_curves) / sizeof(*ssh_curves); i++)
		if (ssh_curves[i].nid == nid)
			return &ssh_curves[i];
	return NULL;
}

/* Bytes of bn as an SSH mpint (a leading zero when the top bit is set). */
static size_t
mpint_size(const BIGNUM *bn)
{
	size_t n = (size_t)BN_num_bytes(bn);

	return n > 0 && BN_num_bits(bn) % 8 == 0 ? n + 1 : n;
}

static void
put_mpint(struct wbuf *w, const BIGNUM *bn)
{
	size_t n = mpint_size(bn);

	put_u32(w, (uint32_t)n);
	if (w->over || n > w->cap - w->len) {
		w->over = 1;
		return;
	}
	if (BN_bn2binpad(bn, w->p + w->len, (int)n) != (int)n)
		w->over = 1;
	w->len += n;
}

static int
rsa_blob(EVP_PKEY *pkey, struct wbuf *w)
{
	BIGNUM *n = NULL, *e = NULL;
	int r = CERTAUTH_ERR_INTERNAL;

	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		goto out;
	w->cap = 4 + 7 + 4 + mpint_size(e) + 4 + mpint_size(n);
	if ((w->p = malloc(w->cap)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	put_cstring(w, "ssh-rsa");
	put_mpint(w, e);
	put_mpint(w, n);
	r = 0;
out:
	BN_free(n);
	BN_free(e);
	return r;
}

static int
ec_blob(EVP_PKEY *pkey, const struct ssh_curve *c, struct wbuf *w)
{
	BIGNUM *x = NULL, *y = NULL;
	char name[32];
	size_t plen = 1 + 2 * c->field;
	int r = CERTAUTH_ERR_INTERNAL;

	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1)
		goto out;
	snprintf(name, sizeof(name), "ecdsa-sha2-%s", c->id);
	w->cap = 4 + strlen(name) + 4 + strlen(c->id) + 4 + plen;
	if ((w->p = malloc(w->cap)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	put_cstring(w, name);
	put_cstring(w, c->id);
	put_u32(w, (uint32_t)plen);
	/* The uncompressed point, whatever form the certificate used. */
	put_bytes(w, &(unsigned char){ 0x04 }, 1);
	if (w->over || plen - 1 > w->cap - w->len ||
	    BN_bn2binpad(x, w->p + w->len, (int)c->field) < 0 ||
	    BN_bn2binpad(y, w->p + w->len + c->field, (int)c->field) < 0)
		goto out;
	w->len += plen - 1;
	r = 0;
out:
	BN_free(x);
	BN_free(y);
	return r;
}

static int
eddsa_blob(EVP_PKEY *pkey, const char *name, struct wbuf *w)
{
	unsigned char raw[64];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1)
		return CERTAUTH_ERR_INTERNAL;
	w->cap = 4 + strlen(name) + 4 + len;
	if ((w->p = malloc(w->cap)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	put_cstring(w, name);
	put_string(w, raw, len);
	return 0;
}

int
certauth_sshkey_blob(EVP_PKEY *pkey, unsigned char **blob, size_t *len,
    struct certauth_reason *why)
{
	struct wbuf w = { NULL, 0, 0, 0 };
	const struct ssh_curve *c = NULL;
	int id = EVP_PKEY_get_base_id(pkey), r = CERTAUTH_ERR_KEY_REFUSED;

	*blob = NULL;
	if (id == EVP_PKEY_RSA)
		r = rsa_blob(pkey, &w);
	else if (id == EVP_PKEY_EC && (c = curve_of(pkey)) != NULL)
		r = ec_blob(pkey, c, &w);
	else if (id == EVP_PKEY_ED25519)
		r = eddsa_blob(pkey, "ssh-ed25519", &w);
	else if (id == EVP_PKEY_ED448)
		r = eddsa_blob(pkey, "ssh-ed448", &w);
	if (r == 0 && (w.over || w.len != w.cap))
		r = CERTAUTH_ERR_INTERNAL;
	if (r == CERTAUTH_ERR_KEY_REFUSED && id == EVP_PKEY_EC)
		certauth_reason_set(why,
		    "an ssh-agent cannot hold an EC key on that curve");
	else if (r == CERTAUTH_ERR_KEY_REFUSED)
		certauth_reason_set(why, "an ssh-agent cannot hold a %s key",
		    EVP_PKEY_get0_type_name(pkey));
	else if (r != 0)
		certauth_reason_set(why, "cannot encode the key for ssh: %s",
		    certauth_strerror(r));
	if (r != 0)
		goto out;
	*blob = w.p;
	*len = w.len;
	w.p = NULL;
out:
	free(w.p);
	ERR_clear_error();
	return r;
}

void
certauth_sshkey_fingerprint(const unsigned char *blob, size_t len, char *buf,
    size_t size)
{
	unsigned char md[32];
	char b64[48];
	int n;

	if (EVP_Digest(blob, len, md, NULL, EVP_sha256(), NULL) != 1) {
		snprintf(buf, size, "SHA256:?");
		return;
	}
	n = EVP_EncodeBlock((unsigned char *)b64, md, sizeof(md));
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	snprintf(buf, size, "SHA256:%s", b64);
}

/* ------------------------------------------------------------ digests */

static int
plan_ec(EVP_PKEY *pkey, int digest, int *used, struct certauth_reason *why)
{
	const struct ssh_curve *c = curve_of(pkey);

	if (c == NULL) {
		certauth_reason_set(why,
		    "an ssh-agent cannot hold an EC key "
		    "on that curve");
		return CERTAUTH_ERR_KEY_REFUSED;
	}
	if (digest == CERTAUTH_DIGEST_DEFAULT ||
	    (digest == CERTAUTH_DIGEST_SHA256 &&
		c->digest == CERTAUTH_DIGEST_SHA256)) {
		*used = c->digest == CERTAUTH_DIGEST_SHA256 ? digest :
							      c->digest;
		return 0;
	}
	if (digest == c->digest) {
		*used = digest;
		return 0;
	}
	certauth_reason_set(why,
	    "an ssh-agent signs with an ECDSA %s key using %s only, not %s",
	    c->name, certauth_digest_name(c->digest),
	    certauth_digest_name(digest));
	return CERTAUTH_ERR_DIGEST_REFUSED;
}

int
certauth_agent_plan(EVP_PKEY *pkey, int digest, uint32_t *flags, int *used,
    struct certauth_reason *why)
{
	int id = EVP_PKEY_get_base_id(pkey);

	*flags = 0;
	*used = digest;
	if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) {
		if (digest == CERTAUTH_DIGEST_DEFAULT)
			return 0;
		certauth_reason_set(why,
		    "%s keys take no digest: EdDSA signs the data itself",
		    EVP_PKEY_get0_type_name(pkey));
		return CERTAUTH_ERR_DIGEST_REFUSED;
	}
	if (id == EVP_PKEY_EC)
		return plan_ec(pkey, digest, used, why);
	if (id != EVP_PKEY_RSA) {
		certauth_reason_set(why, "an ssh-agent cannot hold a %s key",
		    EVP_PKEY_get0_type_name(pkey));
		return CERTAUTH_ERR_KEY_REFUSED;
	}
	if (digest == CERTAUTH_DIGEST_DEFAULT ||
	    digest == CERTAUTH_DIGEST_SHA256) {
		*flags = CERTAUTH_AGENT_RSA_SHA2_256;
		return 0;
	}
	if (digest == CERTAUTH_DIGEST_SHA512) {
		*flags = CERTAUTH_AGENT_RSA_SHA2_512;
		return 0;
	}
	certauth_reason_set(why,
	    "an ssh-agent signs with RSA keys using sha256 or sha512 only, "
	    "not %s",
	    certauth_digest_name(digest));
	return CERTAUTH_ERR_DIGEST_REFUSED;
}

/* ------------------------------------------------------------ signatures */

/* The signature format pkey and flags call for, or NULL. */
static const char *
sig_format(EVP_PKEY *pkey, uint32_t flags, char *buf, size_t size)
{
	const struct ssh_curve *c;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		return flags & CERTAUTH_AGENT_RSA_SHA2_512 ? "rsa-sha2-512" :
		    flags & CERTAUTH_AGENT_RSA_SHA2_256	   ? "rsa-sha2-256" :
							     "ssh-rsa";
	case EVP_PKEY_EC:
		if ((c = curve_of(pkey)) == NULL)
			return NULL;
		snprintf(buf, size, "ecdsa-sha2-%s", c->id);
		return buf;
	case EVP_PKEY_ED25519:
		return "ssh-ed25519";
	case EVP_PKEY_ED448:
		return "ssh-ed448";
	}
	return NULL;
}

/* A positive mpint of at most max bytes (minimal: RFC 4251 section 5). */
static BIGNUM *
get_mpint(struct rbuf *b, size_t max)
{
	const unsigned char *s;
	size_t len;

	if (get_string(b, &s, &len, max + 1) != 0 || len == 0 ||
	    (s[0] & 0x80) != 0 || (s[0] == 0 && (len == 1 || !(s[1] & 0x80))))
		return NULL;
	return BN_bin2bn(s, (int)len, NULL);
}

/* r and s (RFC 5656 section 3.1.2) as DER ECDSA-Sig-Value. */
static int
ecdsa_der(EVP_PKEY *pkey, const unsigned char *blob, size_t len,
    unsigned char **sig, size_t *siglen)
{
	const struct ssh_curve *c = curve_of(pkey);
	struct rbuf b = { blob, len };
	BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char *der = NULL;
	int n, ret = CERTAUTH_ERR_FORMAT;

	if (c == NULL || (r = get_mpint(&b, c->field)) == NULL ||
	    (s = get_mpint(&b, c->field)) == NULL || b.left != 0)
		goto out;
	ret = CERTAUTH_ERR_NOMEM;
	if ((es = ECDSA_SIG_new()) == NULL || ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;
	if ((n = i2d_ECDSA_SIG(es, &der)) <= 0)
		goto out;
	if ((*sig = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(*sig, der, (size_t)n);
	*siglen = (size_t)n;
	ret = 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
	return ret;
}

/* RSA bytes as long as the modulus: an agent may drop leading zeros. */
static int
rsa_raw(EVP_PKEY *pkey, const unsigned char *blob, size_t len,
    unsigned char **sig, size_t *siglen)
{
	size_t mod = (size_t)EVP_PKEY_get_size(pkey);

	if (len == 0 || len > mod)
		return CERTAUTH_ERR_FORMAT;
	if ((*sig = calloc(1, mod)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	memcpy(*sig + mod - len, blob, len);
	*siglen = mod;
	return 0;
}

static int
eddsa_raw(EVP_PKEY *pkey, const unsigned char *blob, size_t len,
    unsigned char **sig, size_t *siglen)
{
	size_t want = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 ? 64 : 114;

	if (len != want)
		return CERTAUTH_ERR_FORMAT;
	if ((*sig = malloc(len)) == NULL)
		return CERTAUTH_ERR_NOMEM;
	memcpy(*sig, blob, len);
	*siglen = len;
	return 0;
}

int
certauth_agent_sig_convert(EVP_PKEY *pkey, uint32_t flags,
    const unsigned char *ssig, size_t ssiglen, unsigned char **sig,
    size_t *siglen, struct certauth_reason *why)
{
	struct rbuf b = { ssig, ssiglen };
	const unsigned char *blob = NULL;
	const char *want;
	char buf[40];
	size_t len = 0;
	int id = EVP_PKEY_get_base_id(pkey), r = CERTAUTH_ERR_FORMAT;

	*sig = NULL;
	if ((want = sig_format(pkey, flags, buf, sizeof(buf))) == NULL) {
		certauth_reason_set(why, "no ssh signature form for a %s key",
		    EVP_PKEY_get0_type_name(pkey));
		return CERTAUTH_ERR_KEY_REFUSED;
	}
	if (get_name(&b, want) != 0) {
		certauth_reason_set(why,
		    "ssh-agent signature is not of the type asked for (%s)",
		    want);
		return CERTAUTH_ERR_FORMAT;
	}
	if (get_string(&b, &blob, &len, SSIG_MAX) != 0 || b.left != 0) {
		certauth_reason_set(why,
		    "ssh-agent signature is truncated or has trailing bytes");
		return CERTAUTH_ERR_FORMAT;
	}
	if (id == EVP_PKEY_RSA)
		r = rsa_raw(pkey, blob, len, sig, siglen);
	else if (id == EVP_PKEY_EC)
		r = ecdsa_der(pkey, blob, len, sig, siglen);
	else
		r = eddsa_raw(pkey, blob, len, sig, siglen);
	if (r == CERTAUTH_ERR_FORMAT)
		certauth_reason_set(why, "ssh-agent %s signature is malformed",
		    want);
	else if (r != 0)
		certauth_reason_set(why, "%s", certauth_strerror(r));
	return r;
}

int
certauth_agent_sign(struct certauth_agent *a, EVP_PKEY *pkey, int digest,
    const unsigned char *data, size_t len, int timeout_ms, unsigned char **sig,
    size_t *siglen, int *used, struct certauth_reason *why)
{
	struct certauth_reason bad;
	unsigned char *blob = NULL, *ssig = NULL, *out = NULL;
	size_t bloblen = 0, ssiglen = 0, outlen = 0;
	uint32_t flags = 0;
	int r = CERTAUTH_ERR_INTERNAL;

	*sig = NULL;
	if ((r = certauth_agent_plan(pkey, digest, &flags, used, why)) != 0 ||
	    (r = certauth_sshkey_blob(pkey, &blob, &bloblen, why)) != 0 ||
	    (r = certauth_agent_sign_raw(a, blob, bloblen, data, len, flags,
		 timeout_ms, &ssig, &ssiglen, why)) != 0 ||
	    (r = certauth_agent_sig_convert(pkey, flags, ssig, ssiglen, &out,
		 &outlen, why)) != 0)
		goto out;
	if ((r = certauth_verify_signature(pkey, *used, data, len, out, outlen,
		 &bad)) != 0) {
		certauth_reason_set(why,
		    "ssh-agent signature does not verify with the key asked "
		    "for: %s",
		    bad.text);
		goto out;
	}
	*sig = out;
	*siglen = outlen;
	out = NULL;
	r = 0;
out:
	free(out);
	free(ssig);
	free(blob);
	return r;
}
