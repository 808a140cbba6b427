/*
 * fakeagent.h - a scripted ssh-agent for the tests: a process of its own
 * (run as a given user, so that SO_PEERCRED names that user) listening on
 * a UNIX socket in a directory of that user's, that answers a key listing
 * and a sign request as the script says: well (the keys it lists, a real
 * signature by the key it holds), with canned bytes, or not at all.  One
 * child per connection, so that one login's silence does not hold up the
 * next.  Also the SSH wire format the scripts are written in.
 * Fails the running test on error, as testutil does.
 */
#ifndef CERTAUTH_TESTS_FAKEAGENT_H
#define CERTAUTH_TESTS_FAKEAGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

/* ------------------------------------------------------------ wire */

struct tu_wire {
	unsigned char b[16384];
	size_t n;
};

void tu_w_u32(struct tu_wire *w, uint32_t v);
void tu_w_u8(struct tu_wire *w, unsigned char c);
void tu_w_str(struct tu_wire *w, const void *s, size_t n);
void tu_w_cstr(struct tu_wire *w, const char *s);
void tu_w_mpint(struct tu_wire *w, const BIGNUM *bn);
/* out = a whole message: body's length, then body. */
void tu_w_msg(struct tu_wire *out, const struct tu_wire *body);

/* ------------------------------------------------------------ agent */

/* How the agent answers one kind of request. */
enum tu_agent_answer {
	TU_AGENT_WELL,	 /* the listed keys; a signature by signer */
	TU_AGENT_CANNED, /* the script's canned bytes, as they are */
	TU_AGENT_SILENT	 /* reads the request, never answers */
};

struct tu_agent_script {
	int list;		 /* enum tu_agent_answer, for a listing */
	int sign;		 /* the same, for a sign request */
	int close;		 /* nonzero: accept, then close at once */
	EVP_PKEY *const *listed; /* TU_AGENT_WELL listing: these keys */
	int nlisted;
	EVP_PKEY *signer;     /* TU_AGENT_WELL signing: with this key */
	const char *sigtype;  /* NULL: the one the key and flags call for */
	int trailing;	      /* a byte after the signature */
	struct tu_wire canned; /* TU_AGENT_CANNED: sent as it is */
};

struct tu_agent {
	char dir[256];	/* the socket's directory, 0700, the user's */
	char path[320]; /* <dir>/sock */
	pid_t pid;	/* the listener; its process group holds the rest */
};

/*
 * Start the agent of script s in a new directory under base (NULL: a
 * mkdtemp directory in /tmp) as uid/gid ((uid_t)-1: this process's
 * ids); returns once it listens.  s is copied into the agent's process:
 * the caller may change it after.
 */
void tu_agent_start(struct tu_agent *a, const struct tu_agent_script *s,
    const char *base, uid_t uid, gid_t gid);

/* Kill the agent and every connection it serves; remove its socket and
 * directory. */
void tu_agent_stop(struct tu_agent *a);

#endif /* CERTAUTH_TESTS_FAKEAGENT_H */
