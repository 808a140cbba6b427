/*
 * sshagent.h - the client side of the ssh-agent protocol
 * (draft-miller-ssh-agent): list the keys an agent holds and have it sign
 * with one, and the conversions between OpenSSL keys and signatures and
 * the SSH wire forms (RFC 4253, 5656, 8332, 8709).  Part of the core
 * library: every read is capped, every exchange has a deadline, and a
 * hostile agent gets a refusal, never a crash, a hang or an allocation
 * of its choosing.
 */
#ifndef CERTAUTH_SSHAGENT_H
#define CERTAUTH_SSHAGENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "certauth.h"

/* The most one agent reply may hold (OpenSSH's own limit). */
#define CERTAUTH_AGENT_MSG_MAX (256 * 1024)
/* The most identities one listing may hold. */
#define CERTAUTH_AGENT_IDS_MAX 2048

/* Sign request flags (draft-miller-ssh-agent, "Signature flags"). */
#define CERTAUTH_AGENT_RSA_SHA2_256 0x02u
#define CERTAUTH_AGENT_RSA_SHA2_512 0x04u

struct certauth_agent;

/* One key an agent holds; blob and comment point into the listing. */
struct certauth_agent_id {
	const unsigned char *blob;
	size_t bloblen;
	const unsigned char *comment; /* not NUL-terminated */
	size_t commentlen;
};

struct certauth_agent_ids {
	struct certauth_agent_id *v;
	size_t n;
	unsigned char *msg; /* the reply the entries point into */
};

/*
 * Whether connect(2) failing with err means that no agent can be reached
 * at the path (nothing there, nothing listening, no permission, not a
 * socket), as opposed to a failure on this side (descriptors, memory).
 */
int certauth_agent_absent(int err);

/*
 * Connect to the agent's UNIX socket at path within timeout_ms.  Returns
 * 0 with *out, CERTAUTH_ERR_TOO_LONG for a path longer than a socket
 * address holds, CERTAUTH_ERR_UNREACHABLE (no agent there, or no answer
 * in time), CERTAUTH_ERR_INTERNAL (no socket, or a connect failure of
 * this side: certauth_agent_absent), CERTAUTH_ERR_NOMEM; why set on
 * failure.
 */
int certauth_agent_connect(const char *path, int timeout_ms,
    struct certauth_agent **out, struct certauth_reason *why);

/*
 * Take over fd, a socket already connected to an agent (agentsock.h),
 * made non-blocking.  Returns 0 with *out, or CERTAUTH_ERR_NOMEM /
 * CERTAUTH_ERR_INTERNAL (errno says why); fd is closed on failure.
 */
int certauth_agent_adopt(int fd, struct certauth_agent **out);

/* The connection's socket, for checks on its peer; still a's. */
int certauth_agent_fd(const struct certauth_agent *a);

/* Close the connection; NULL is fine. */
void certauth_agent_close(struct certauth_agent *a);

/*
 * The keys the agent holds, within timeout_ms.  Returns 0 with *ids
 * (free with certauth_agent_ids_free), or CERTAUTH_ERR_UNREACHABLE (the
 * agent closed, or did not answer in time), CERTAUTH_ERR_KEY_REFUSED (it
 * answered SSH_AGENT_FAILURE), CERTAUTH_ERR_FORMAT (a malformed reply),
 * CERTAUTH_ERR_TOO_LONG (a reply or a count over the caps),
 * CERTAUTH_ERR_NOMEM; why set on failure.
 */
int certauth_agent_list(struct certauth_agent *a, int timeout_ms,
    struct certauth_agent_ids *ids, struct certauth_reason *why);

void certauth_agent_ids_free(struct certauth_agent_ids *ids);

/* Whether ids holds the key blob[0..len).  1 or 0. */
int certauth_agent_ids_have(const struct certauth_agent_ids *ids,
    const unsigned char *blob, size_t len);

/*
 * The SSH signature blob (string format, string signature) the agent
 * makes with the key blob over data, asked with flags, within
 * timeout_ms.  *sig is malloc'd.  Returns 0, or the codes of
 * certauth_agent_list (CERTAUTH_ERR_KEY_REFUSED: the agent would not
 * sign, e.g. a denied confirmation); why set on failure.
 */
int certauth_agent_sign_raw(struct certauth_agent *a, const unsigned char *blob,
    size_t bloblen, const unsigned char *data, size_t len, uint32_t flags,
    int timeout_ms, unsigned char **sig, size_t *siglen,
    struct certauth_reason *why);

/*
 * The SSH public key blob of pkey: ssh-rsa, ecdsa-sha2-nistp256/384/521,
 * ssh-ed25519 or ssh-ed448.  *blob is malloc'd.  Returns 0,
 * CERTAUTH_ERR_KEY_REFUSED for a key SSH has no form for, or
 * CERTAUTH_ERR_NOMEM / CERTAUTH_ERR_INTERNAL; why set on failure.
 */
int certauth_sshkey_blob(EVP_PKEY *pkey, unsigned char **blob, size_t *len,
    struct certauth_reason *why);

/*
 * The OpenSSH fingerprint of a key blob, "SHA256:" and unpadded base64,
 * as ssh-add -l shows it, into buf (CERTAUTH_AGENT_FP_CHARS with NUL).
 */
#define CERTAUTH_AGENT_FP_CHARS 64
void certauth_sshkey_fingerprint(const unsigned char *blob, size_t len,
    char *buf, size_t size);

/*
 * How an agent signs with pkey when asked for digest (enum
 * certauth_digest; DEFAULT: not named): *flags for the sign request and
 * *used, the digest the answer names.  EdDSA takes none; RSA SHA-256
 * (the default) or SHA-512, agents having no SHA-384; ECDSA the hash
 * its curve implies (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512), and
 * no other.  Returns 0 or CERTAUTH_ERR_DIGEST_REFUSED /
 * CERTAUTH_ERR_KEY_REFUSED with why set.
 */
int certauth_agent_plan(EVP_PKEY *pkey, int digest, uint32_t *flags, int *used,
    struct certauth_reason *why);

/*
 * An agent's SSH signature blob as the module reads it: rsa-sha2-256/512
 * as raw PKCS#1 v1.5 bytes, ecdsa-sha2-* as a DER ECDSA-Sig-Value,
 * ssh-ed25519/ed448 as raw bytes.  The format must be the one pkey and
 * flags call for, every field whole and nothing after.  *sig malloc'd.
 * Returns 0, CERTAUTH_ERR_FORMAT or CERTAUTH_ERR_NOMEM with why set.
 */
int certauth_agent_sig_convert(EVP_PKEY *pkey, uint32_t flags,
    const unsigned char *ssig, size_t ssiglen, unsigned char **sig,
    size_t *siglen, struct certauth_reason *why);

/*
 * All of the above: the agent signs data with pkey's key for digest;
 * the answer is converted, then verified with pkey as the module will
 * (a signature by any other key is CERTAUTH_ERR_BAD_SIGNATURE).  *sig
 * malloc'd, *used the digest it names.  Returns 0 or the codes above.
 */
int certauth_agent_sign(struct certauth_agent *a, EVP_PKEY *pkey, int digest,
    const unsigned char *data, size_t len, int timeout_ms, unsigned char **sig,
    size_t *siglen, int *used, struct certauth_reason *why);

#endif /* CERTAUTH_SSHAGENT_H */
