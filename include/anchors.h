/*
 * anchors.h - the trust anchors of a PEM bundle (ca_file), indexed by
 * subject name without being parsed.
 *
 * OpenSSL 3 decodes a certificate's key through its provider decoders,
 * over 100 µs a certificate, so parsing a bundle of 150 CAs costs a fresh
 * process tens of milliseconds.  A chain can only use an anchor named as
 * the issuer of one of its certificates, so the policy looks anchors up
 * here by name and parses only those.
 *
 * OpenSSL's trust settings are not honoured.  A TRUSTED CERTIFICATE
 * block (openssl x509 -trustout) may carry them after the certificate:
 * the uses it is trusted for (-addtrust) or rejected for (-addreject).
 * An anchor with them is marked, and the policy refuses every check
 * whose chain can use it, naming the file and the block, rather than
 * trust it for a use its settings may reject.  A TRUSTED CERTIFICATE
 * without trust settings (none at all, or only an alias or key id) is a
 * plain anchor.
 */
#ifndef CERTAUTH_ANCHORS_H
#define CERTAUTH_ANCHORS_H

#include <stddef.h>
#include <openssl/x509.h>

struct certauth_anchor_index;

/*
 * Index the certificates of a PEM text: every CERTIFICATE block (also
 * "X509 CERTIFICATE" and "TRUSTED CERTIFICATE", as OpenSSL's PEM reader
 * takes them), its base64 decoded and its DER walked to the subject name;
 * other blocks are skipped.  In a TRUSTED CERTIFICATE block OpenSSL's
 * auxiliary data after the certificate (X509_CERT_AUX) is left out of
 * the DER kept, and its trust settings are noted.  An encrypted block,
 * bad base64 or a DER structure that does not hold a subject fails the
 * whole index.
 * Returns 0 with *out (the caller's reference), CERTAUTH_ERR_FORMAT with
 * the 1-based number of the bad block in *bad, CERTAUTH_ERR_NOT_FOUND when
 * there is no certificate, or CERTAUTH_ERR_NOMEM.
 */
int certauth_anchor_index_build(const char *buf, size_t len,
    struct certauth_anchor_index **out, int *bad);

/* Another reference (the index never changes once built); 0 or NOMEM. */
int certauth_anchor_index_up_ref(struct certauth_anchor_index *idx);

/* Drop a reference; NULL is ignored. */
void certauth_anchor_index_free(struct certauth_anchor_index *idx);

int certauth_anchor_count(const struct certauth_anchor_index *idx);

/* The subject of certificate i (0-based), borrowed from the index. */
const X509_NAME *certauth_anchor_subject(
    const struct certauth_anchor_index *idx, int i);

/* The DER of certificate i, borrowed from the index. */
const unsigned char *certauth_anchor_der(
    const struct certauth_anchor_index *idx, int i, size_t *len);

/* The 1-based number of the PEM block certificate i came from. */
int certauth_anchor_block(const struct certauth_anchor_index *idx, int i);

/* Nonzero when certificate i came from a TRUSTED CERTIFICATE block with
 * trust settings (a trust or a reject list, even an empty one), which
 * the policy refuses instead of honouring. */
int certauth_anchor_trust_settings(const struct certauth_anchor_index *idx,
    int i);

#endif /* CERTAUTH_ANCHORS_H */
