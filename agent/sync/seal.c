/*
 * seal.c - streams sealed to one recipient (seal.h): libsodium's sealed box
 * for the stream key, secretstream xchacha20poly1305 for the body.
 */
#include "agent/sync/seal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "store/error.h"
#include "store/i18n.h"

#define SEALED_KEY_LEN (crypto_box_SEALBYTES + crypto_secretstream_xchacha20poly1305_KEYBYTES)
#define SS_HEADER_LEN crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

struct vl_seal_writer {
	FILE *f;
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char header[VL_SEAL_HEADER_MAX]; /* the clear header: AD of the first chunk */
	size_t hlen;
	int first;
	unsigned char *plain;                   /* VL_SEAL_CHUNK bytes being filled */
	size_t fill;
	unsigned char *cipher;                  /* VL_SEAL_CHUNK + ABYTES */
	int failed;
};

struct vl_seal_reader {
	FILE *f;
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char header[VL_SEAL_HEADER_MAX];
	size_t hlen;
	int first, done;
	unsigned char *cipher;
};

int vl_seal_header_parse(char fp[VL_FP_LEN], size_t *hlen, const void *data, size_t len)
{
	const char *p = data, *eol;
	size_t ml = strlen(VL_SEAL_MAGIC), fl;

	if (len < ml || memcmp(p, VL_SEAL_MAGIC, ml))
		return VL_ENOTFOUND;
	p += ml;
	len -= ml;
	if (len > VL_SEAL_HEADER_MAX)
		len = VL_SEAL_HEADER_MAX;
	if (len < 4 || memcmp(p, "to ", 3) || !(eol = memchr(p, '\n', len)))
		return vl_error_set(VL_EINVALID, "sealed bundle header has no 'to' line; the file is damaged");
	fl = (size_t)(eol - p) - 3;
	/* "SHA256:" + 43 characters of unpadded base64. */
	if (fl != VL_FP_LEN - 1 || memcmp(p + 3, "SHA256:", 7))
		return vl_error_set(VL_EINVALID, "sealed bundle header names no valid fingerprint; the file is damaged");
	for (size_t i = 10; i < fl + 3; i++) {
		char c = p[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return vl_error_set(VL_EINVALID, "sealed bundle header names no valid fingerprint; the file is "
					"damaged");
	}
	memcpy(fp, p + 3, fl);
	fp[fl] = '\0';
	*hlen = ml + (size_t)(eol - p) + 1;
	return 0;
}

static int put_all(FILE *f, const void *data, size_t len)
{
	if (len && fwrite(data, 1, len, f) != len)
		return vl_error_set(VL_ERROR, "cannot write the sealed bundle: %s", strerror(errno));
	return 0;
}

int vl_seal_writer_open(vl_seal_writer **out, FILE *f, const unsigned char pk[32])
{
	vl_seal_writer *w = NULL;
	unsigned char xpk[crypto_box_PUBLICKEYBYTES], key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char sealed[SEALED_KEY_LEN], ssh[SS_HEADER_LEN];
	char fp[VL_FP_LEN];
	int rc, n;

	*out = NULL;
	if (!(w = calloc(1, sizeof(*w))) || !(w->plain = malloc(VL_SEAL_CHUNK)) ||
			!(w->cipher = malloc(VL_SEAL_CHUNK + SS_ABYTES))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	w->f = f;
	w->first = 1;
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, pk) != 0) {
		rc = vl_error_set(VL_EINVALID, "the recipient's key cannot take a sealed bundle (not a valid "
				"ed25519 point); check the fingerprint");
		goto out;
	}
	vl_fingerprint(fp, pk);
	n = snprintf((char *)w->header, sizeof(w->header), "%sto %s\n", VL_SEAL_MAGIC, fp);
	if (n < 0 || (size_t)n >= sizeof(w->header)) {
		rc = vl_error_set(VL_ERROR, "sealed bundle header does not fit");
		goto out;
	}
	w->hlen = (size_t)n;
	crypto_secretstream_xchacha20poly1305_keygen(key);
	if (crypto_box_seal(sealed, key, sizeof(key), xpk) != 0 ||
			crypto_secretstream_xchacha20poly1305_init_push(&w->st, ssh, key) != 0) {
		rc = vl_error_set(VL_ERROR, "cannot seal the bundle (libsodium failed)");
		goto out;
	}
	if ((rc = put_all(f, w->header, w->hlen)) < 0 || (rc = put_all(f, sealed, sizeof(sealed))) < 0 ||
			(rc = put_all(f, ssh, sizeof(ssh))) < 0)
		goto out;
	*out = w;
	w = NULL;
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	vl_seal_writer_free(w);
	return rc;
}

/* Encrypt and write the buffered plain text as one chunk with tag. */
static int flush_chunk(vl_seal_writer *w, unsigned char tag)
{
	unsigned long long clen = 0;
	unsigned char len4[4];
	int rc;

	if (crypto_secretstream_xchacha20poly1305_push(&w->st, w->cipher, &clen, w->plain, w->fill,
			w->first ? w->header : NULL, w->first ? w->hlen : 0, tag) != 0) {
		w->failed = 1;
		return vl_error_set(VL_ERROR, "cannot seal the bundle (libsodium failed)");
	}
	w->first = 0;
	len4[0] = (unsigned char)(clen >> 24);
	len4[1] = (unsigned char)(clen >> 16);
	len4[2] = (unsigned char)(clen >> 8);
	len4[3] = (unsigned char)clen;
	if ((rc = put_all(w->f, len4, 4)) < 0 || (rc = put_all(w->f, w->cipher, (size_t)clen)) < 0) {
		w->failed = 1;
		return rc;
	}
	sodium_memzero(w->plain, w->fill);
	w->fill = 0;
	return 0;
}

int vl_seal_write(vl_seal_writer *w, const void *data, size_t len)
{
	const unsigned char *p = data;
	int rc;

	if (w->failed)
		return vl_error_set(VL_ERROR, "the sealed bundle failed to write before");
	while (len) {
		size_t take = VL_SEAL_CHUNK - w->fill;
		if (take == 0) {
			/* A full chunk waits until more data shows it is not the last. */
			if ((rc = flush_chunk(w, 0)) < 0)
				return rc;
			continue;
		}
		if (take > len)
			take = len;
		memcpy(w->plain + w->fill, p, take);
		w->fill += take;
		p += take;
		len -= take;
	}
	return 0;
}

int vl_seal_writer_finish(vl_seal_writer *w)
{
	if (w->failed)
		return vl_error_set(VL_ERROR, "the sealed bundle failed to write before");
	return flush_chunk(w, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
}

void vl_seal_writer_free(vl_seal_writer *w)
{
	if (!w)
		return;
	sodium_memzero(&w->st, sizeof(w->st));
	if (w->plain)
		sodium_memzero(w->plain, VL_SEAL_CHUNK);
	free(w->plain);
	free(w->cipher);
	free(w);
}

/* Read exactly len bytes; VL_EBADSIG when the stream ends first. */
static int get_all(FILE *f, void *data, size_t len, const char *what)
{
	if (len && fread(data, 1, len, f) != len) {
		if (ferror(f))
			return vl_error_set(VL_ERROR, "cannot read the sealed bundle: %s", strerror(errno));
		return vl_error_set(VL_EBADSIG, "sealed bundle is truncated (in %s); nothing was applied: copy "
				"it again from the sender", what);
	}
	return 0;
}

int vl_seal_reader_open(vl_seal_reader **out, FILE *f, const vl_key *key)
{
	vl_seal_reader *r = NULL;
	unsigned char head[VL_SEAL_HEADER_MAX], sealed[SEALED_KEY_LEN], ssh[SS_HEADER_LEN];
	unsigned char xpk[crypto_box_PUBLICKEYBYTES], xsk[crypto_box_SECRETKEYBYTES];
	unsigned char skey[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	char fp[VL_FP_LEN], mine[VL_FP_LEN];
	size_t got, hlen = 0;
	int rc;

	*out = NULL;
	/* The header is at most VL_SEAL_HEADER_MAX bytes: read that much (or
	 * the whole file when shorter), then seek back to its end. */
	got = fread(head, 1, sizeof(head), f);
	if ((rc = vl_seal_header_parse(fp, &hlen, head, got)) < 0) {
		if (rc == VL_ENOTFOUND)
			rc = vl_error_set(VL_EINVALID, "not a sealed bundle (no '%.*s' line)",
					(int)strlen(VL_SEAL_MAGIC) - 1, VL_SEAL_MAGIC);
		goto out;
	}
	vl_fingerprint(mine, key->pk);
	if (strcmp(fp, mine)) {
		rc = vl_error_set(VL_EDENIED, "bundle is sealed to '%s', not to this node ('%s'); give it to that "
				"node", fp, mine);
		goto out;
	}
	if (fseek(f, (long)hlen, SEEK_SET) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot read the sealed bundle: %s", strerror(errno));
		goto out;
	}
	if ((rc = get_all(f, sealed, sizeof(sealed), _("the sealed key"))) < 0 ||
			(rc = get_all(f, ssh, sizeof(ssh), _("the stream header"))) < 0)
		goto out;
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, key->pk) != 0 ||
			crypto_sign_ed25519_sk_to_curve25519(xsk, key->sk) != 0) {
		rc = vl_error_set(VL_ERROR, "this node's key cannot open sealed bundles");
		goto out;
	}
	if (crypto_box_seal_open(skey, sealed, sizeof(sealed), xpk, xsk) != 0) {
		rc = vl_error_set(VL_EBADSIG, "sealed bundle's key does not open with this node's key (tampered "
				"or damaged); nothing was applied");
		goto out;
	}
	if (!(r = calloc(1, sizeof(*r))) || !(r->cipher = malloc(VL_SEAL_CHUNK + SS_ABYTES))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(&r->st, ssh, skey) != 0) {
		rc = vl_error_set(VL_EBADSIG, "sealed bundle's stream header is invalid (tampered or damaged)");
		goto out;
	}
	r->f = f;
	memcpy(r->header, head, hlen);
	r->hlen = hlen;
	r->first = 1;
	*out = r;
	r = NULL;
	rc = 0;
out:
	sodium_memzero(xsk, sizeof(xsk));
	sodium_memzero(skey, sizeof(skey));
	vl_seal_reader_free(r);
	return rc;
}

int vl_seal_read(vl_seal_reader *r, vl_buf *out, int *done)
{
	unsigned char len4[4], tag = 0;
	unsigned long long mlen = 0;
	uint32_t clen;
	int rc, c;

	*done = 0;
	if (r->done) {
		/* Nothing may follow the final chunk. */
		if ((c = fgetc(r->f)) != EOF)
			return vl_error_set(VL_EBADSIG, "sealed bundle has bytes after its final chunk (tampered)");
		*done = 1;
		return 0;
	}
	if ((rc = get_all(r->f, len4, 4, "a chunk length")) < 0)
		return rc;
	clen = (uint32_t)len4[0] << 24 | (uint32_t)len4[1] << 16 | (uint32_t)len4[2] << 8 | len4[3];
	if (clen < SS_ABYTES || clen > VL_SEAL_CHUNK + SS_ABYTES)
		return vl_error_set(VL_EBADSIG, "sealed bundle has a chunk of %u bytes, outside 17..%d (tampered or "
				"damaged)", clen, VL_SEAL_CHUNK + SS_ABYTES);
	if ((rc = get_all(r->f, r->cipher, clen, "a chunk")) < 0)
		return rc;
	if ((rc = vl_buf_grow(out, clen - SS_ABYTES)) < 0)
		return rc;
	if (crypto_secretstream_xchacha20poly1305_pull(&r->st, (unsigned char *)out->ptr + out->len, &mlen, &tag,
			r->cipher, clen, r->first ? r->header : NULL, r->first ? r->hlen : 0) != 0)
		return vl_error_set(VL_EBADSIG, "sealed bundle fails authentication (a changed byte: tampered or "
				"damaged); nothing was applied");
	r->first = 0;
	if (tag != 0 && tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL)
		return vl_error_set(VL_EBADSIG, "sealed bundle has a chunk with an unknown tag (tampered)");
	out->len += (size_t)mlen;
	out->ptr[out->len] = '\0';
	if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		r->done = 1;
		if ((c = fgetc(r->f)) != EOF)
			return vl_error_set(VL_EBADSIG, "sealed bundle has bytes after its final chunk (tampered)");
		*done = 1;
	}
	return 0;
}

void vl_seal_reader_free(vl_seal_reader *r)
{
	if (!r)
		return;
	sodium_memzero(&r->st, sizeof(r->st));
	free(r->cipher);
	free(r);
}
