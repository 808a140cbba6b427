/*
 * anchors.c - a PEM bundle of trust anchors indexed by subject name, each
 * certificate kept as DER until a chain needs it, and OpenSSL trust
 * settings found but not honoured (anchors.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "anchors.h"
#include "certauth.h"

struct anchor {
	X509_NAME *subject;
	unsigned char *der; /* the block's, less OpenSSL's aux data */
	size_t len;
	int block;	    /* 1-based PEM block number */
	int trust_settings; /* a TRUSTED CERTIFICATE with trust or reject */
};

struct certauth_anchor_index {
	int refs;
	int n, cap;
	struct anchor *a;
};

/* The content of the DER element at *p (at most len bytes), which must
 * have the given tag; *p moves past the element.  Returns its length or
 * -1.  Indefinite lengths are not DER. */
static long
element(const unsigned char **p, long len, int want_tag, int want_class,
    const unsigned char **content)
{
	const unsigned char *q = *p;
	long clen = 0;
	int tag = 0, class = 0, ret;

	ret = ASN1_get_object(&q, &clen, &tag, &class, len);
	if ((ret & 0x80) != 0 || ret == 0x21 || tag != want_tag ||
	    class != want_class || clen > len - (q - *p))
		return -1;
	if (content != NULL)
		*content = q;
	*p = q + clen;
	return clen;
}

/*
 * The subject Name of a DER certificate: Certificate ::= SEQUENCE {
 * tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
 * signature, issuer, validity, subject, ... }, ... }.  *subj points into
 * der; *certlen is the length of the Certificate, which may be followed
 * by more bytes.  Returns 0 or -1.
 */
static int
der_subject(const unsigned char *der, long len, const unsigned char **subj,
    long *subjlen, long *certlen)
{
	const unsigned char *p = der, *tbs, *end, *start;
	long l;
	int i;

	if (element(&p, len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &tbs) < 0)
		return -1;
	end = p;
	*certlen = p - der;
	p = tbs;
	if ((l = element(&p, end - p, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL,
		 &tbs)) < 0)
		return -1;
	end = tbs + l;
	p = tbs;
	start = p;
	if (element(&start, end - p, 0, V_ASN1_CONTEXT_SPECIFIC, NULL) >= 0)
		p = start;
	if (element(&p, end - p, V_ASN1_INTEGER, V_ASN1_UNIVERSAL, NULL) < 0)
		return -1;
	/* signature, issuer, validity */
	for (i = 0; i < 3; i++) {
		if (element(&p, end - p, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL,
			NULL) < 0)
			return -1;
	}
	start = p;
	if (element(&p, end - p, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, NULL) < 0)
		return -1;
	*subj = start;
	*subjlen = p - start;
	return 0;
}

/*
 * What follows the certificate in a TRUSTED CERTIFICATE block: OpenSSL's
 * X509_CERT_AUX ::= SEQUENCE { trust SEQUENCE OF OBJECT OPTIONAL,
 * reject [0] IMPLICIT SEQUENCE OF OBJECT OPTIONAL, alias UTF8String
 * OPTIONAL, keyid OCTET STRING OPTIONAL, other [1] ... OPTIONAL }.
 * Returns 1 when aux[0..len) is one such SEQUENCE, in DER, that opens
 * with trust or reject (X509_check_trust reads nothing else), 0 when it
 * is one without them, -1 when it is not one.
 */
static int
aux_trust(const unsigned char *aux, long len)
{
	const unsigned char *p = aux, *c = NULL;
	X509_CERT_AUX *parsed;
	long clen, l = 0;
	int tag = 0, class = 0, ok;

	/* OpenSSL's parser says what it is; the first tag, which of them. */
	ERR_set_mark();
	parsed = d2i_X509_CERT_AUX(NULL, &p, len);
	ok = parsed != NULL && p == aux + len;
	X509_CERT_AUX_free(parsed);
	ERR_pop_to_mark();
	p = aux;
	if (!ok ||
	    (clen = element(&p, len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &c)) <
		0)
		return -1;
	if (clen == 0)
		return 0;
	if ((ASN1_get_object(&c, &l, &tag, &class, clen) & 0x80) != 0)
		return -1;
	return (tag == V_ASN1_SEQUENCE && class == V_ASN1_UNIVERSAL) ||
	    (tag == 0 && class == V_ASN1_CONTEXT_SPECIFIC);
}

static int
is_cert_block(const char *name)
{
	return strcmp(name, PEM_STRING_X509) == 0 ||
	    strcmp(name, PEM_STRING_X509_OLD) == 0 ||
	    strcmp(name, PEM_STRING_X509_TRUSTED) == 0;
}

/*
 * Add the certificate der[0..len) of PEM block number block to idx,
 * taking der.  In a TRUSTED CERTIFICATE block (trusted) OpenSSL's
 * auxiliary data after the certificate is dropped, and marked when it
 * holds trust settings; bytes after it that are no such data are kept,
 * for the parse to refuse, as in any other block.  0, FORMAT or NOMEM;
 * der is freed on failure.
 */
static int
add_anchor(struct certauth_anchor_index *idx, unsigned char *der, long len,
    int block, int trusted)
{
	const unsigned char *s = NULL;
	long slen = 0, certlen = 0;
	X509_NAME *name = NULL;
	struct anchor *grown;
	int aux = -1, r = CERTAUTH_ERR_INTERNAL;

	if (der_subject(der, len, &s, &slen, &certlen) != 0 ||
	    (name = d2i_X509_NAME(NULL, &s, slen)) == NULL) {
		r = CERTAUTH_ERR_FORMAT;
		goto out;
	}
	if (trusted && certlen < len &&
	    (aux = aux_trust(der + certlen, len - certlen)) >= 0)
		len = certlen;
	if (idx->n == idx->cap) {
		int cap = idx->cap == 0 ? 8 : idx->cap * 2;

		if ((grown = realloc(idx->a, (size_t)cap * sizeof(*grown))) ==
		    NULL) {
			r = CERTAUTH_ERR_NOMEM;
			goto out;
		}
		idx->a = grown;
		idx->cap = cap;
	}
	idx->a[idx->n].subject = name;
	idx->a[idx->n].der = der;
	idx->a[idx->n].len = (size_t)len;
	idx->a[idx->n].block = block;
	idx->a[idx->n].trust_settings = aux == 1;
	idx->n++;
	name = NULL;
	der = NULL;
	r = 0;
out:
	X509_NAME_free(name);
	OPENSSL_free(der);
	return r;
}

int
certauth_anchor_index_build(const char *buf, size_t len,
    struct certauth_anchor_index **out, int *bad)
{
	struct certauth_anchor_index *idx = NULL;
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	int block = 0, ended, r = CERTAUTH_ERR_INTERNAL;

	*out = NULL;
	*bad = 0;
	if ((idx = calloc(1, sizeof(*idx))) == NULL ||
	    (bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = CERTAUTH_ERR_NOMEM;
		goto out;
	}
	idx->refs = 1;
	for (;;) {
		ERR_set_mark();
		if (!PEM_read_bio(bio, &name, &header, &data, &dlen)) {
			ended = certauth_ossl_pem_ended();
			ERR_pop_to_mark();
			/* Running off the end is the only clean stop. */
			if (ended)
				break;
			*bad = block + 1;
			r = CERTAUTH_ERR_FORMAT;
			goto out;
		}
		ERR_pop_to_mark();
		block++;
		if (is_cert_block(name)) {
			/* An encrypted certificate is a damaged one here. */
			if (header != NULL && header[0] != '\0') {
				*bad = block;
				r = CERTAUTH_ERR_FORMAT;
				goto out;
			}
			r = add_anchor(idx, data, dlen, block,
			    strcmp(name, PEM_STRING_X509_TRUSTED) == 0);
			data = NULL;
			if (r != 0) {
				*bad = block;
				goto out;
			}
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	if (idx->n == 0) {
		r = CERTAUTH_ERR_NOT_FOUND;
		goto out;
	}
	*out = idx;
	idx = NULL;
	r = 0;
out:
	/* A refusal must not leave stale errors for the next OpenSSL user. */
	if (r != 0)
		ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	certauth_anchor_index_free(idx);
	return r;
}

int
certauth_anchor_index_up_ref(struct certauth_anchor_index *idx)
{
	return __atomic_add_fetch(&idx->refs, 1, __ATOMIC_RELAXED) > 1 ?
	    0 :
	    CERTAUTH_ERR_INTERNAL;
}

void
certauth_anchor_index_free(struct certauth_anchor_index *idx)
{
	int i;

	if (idx == NULL ||
	    __atomic_sub_fetch(&idx->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; i < idx->n; i++) {
		X509_NAME_free(idx->a[i].subject);
		OPENSSL_free(idx->a[i].der);
	}
	free(idx->a);
	free(idx);
}

int
certauth_anchor_count(const struct certauth_anchor_index *idx)
{
	return idx->n;
}

const X509_NAME *
certauth_anchor_subject(const struct certauth_anchor_index *idx, int i)
{
	return idx->a[i].subject;
}

const unsigned char *
certauth_anchor_der(const struct certauth_anchor_index *idx, int i, size_t *len)
{
	*len = idx->a[i].len;
	return idx->a[i].der;
}

int
certauth_anchor_block(const struct certauth_anchor_index *idx, int i)
{
	return idx->a[i].block;
}

int
certauth_anchor_trust_settings(const struct certauth_anchor_index *idx, int i)
{
	return idx->a[i].trust_settings;
}
