/* boxstream.c - box-stream framing (see boxstream.h). */
#include "agent/net/boxstream.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

void vl_box_nonce_inc(unsigned char nonce[24])
{
	int i;

	for (i = 23; i >= 0; i--)
		if (++nonce[i] != 0)
			break;
}

void vl_box_seal(vl_box *b, unsigned char *out, const void *data, size_t len)
{
	unsigned char head[2 + VL_BOX_TAG], n2[24];

	assert(len > 0 && len <= VL_BOX_MAX_BODY);
	memcpy(n2, b->nonce, 24);
	vl_box_nonce_inc(n2);
	/* body first: its tag goes into the header */
	crypto_secretbox_detached(out + VL_BOX_HEADER, head + 2, data, len, n2, b->key);
	head[0] = (unsigned char)(len >> 8);
	head[1] = (unsigned char)(len & 0xff);
	crypto_secretbox_easy(out, head, sizeof(head), b->nonce, b->key);
	vl_box_nonce_inc(n2);
	memcpy(b->nonce, n2, 24);
	sodium_memzero(head, sizeof(head));
}

void vl_box_goodbye(vl_box *b, unsigned char out[VL_BOX_HEADER])
{
	unsigned char zero[2 + VL_BOX_TAG];

	memset(zero, 0, sizeof(zero));
	crypto_secretbox_easy(out, zero, sizeof(zero), b->nonce, b->key);
	vl_box_nonce_inc(b->nonce);
	vl_box_nonce_inc(b->nonce);
}

int vl_box_open_header(vl_box *b, size_t *len, unsigned char tag[VL_BOX_TAG],
		const unsigned char hdr[VL_BOX_HEADER])
{
	unsigned char head[2 + VL_BOX_TAG];
	size_t l;
	int rc;

	if (crypto_secretbox_open_easy(head, hdr, VL_BOX_HEADER, b->nonce, b->key) != 0)
		return vl_error_set(VL_EPROTO, "a box header from the peer does not authenticate; "
				"the stream was tampered with or is not ours");
	if (sodium_is_zero(head, sizeof(head))) {
		vl_box_nonce_inc(b->nonce);
		vl_box_nonce_inc(b->nonce);
		rc = 1;
		goto out;
	}
	l = ((size_t)head[0] << 8) | head[1];
	if (l == 0 || l > VL_BOX_MAX_BODY) {
		rc = vl_error_set(VL_EPROTO, "a box header from the peer names a body of %zu bytes "
				"(1..%d allowed)", l, VL_BOX_MAX_BODY);
		goto out;
	}
	*len = l;
	memcpy(tag, head + 2, VL_BOX_TAG);
	rc = 0;
out:
	sodium_memzero(head, sizeof(head));
	return rc;
}

int vl_box_open_body(vl_box *b, unsigned char *out, const unsigned char *cipher, size_t len,
		const unsigned char tag[VL_BOX_TAG])
{
	unsigned char n2[24];

	memcpy(n2, b->nonce, 24);
	vl_box_nonce_inc(n2);
	if (crypto_secretbox_open_detached(out, cipher, tag, len, n2, b->key) != 0)
		return vl_error_set(VL_EPROTO, "a box body from the peer does not authenticate; "
				"the stream was tampered with");
	vl_box_nonce_inc(n2);
	memcpy(b->nonce, n2, 24);
	return 0;
}

void vl_box_wipe(vl_box *b)
{
	sodium_memzero(b, sizeof(*b));
}
