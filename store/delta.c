/* delta.c - git delta encoding (delta.h). */
#include "store/delta.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLK VL_DELTA_BLOCK
#define MUL 0x01000193u     /* the rolling hash's multiplier (FNV's prime) */
#define MAX_PROBES 8        /* candidates compared at one target position */
#define MAX_COPY 0xffffffu  /* a copy op's size field: three bytes */

typedef struct {
	uint32_t hash;
	uint32_t off1; /* offset in the base + 1; 0: empty slot */
} slot;

/* The delta being built in d (room for max bytes): len, and 1 once it
 * would outgrow max. */
typedef struct {
	unsigned char *d;
	size_t len, max;
	int over;
} dbuf;

static uint32_t block_hash(const unsigned char *p)
{
	uint32_t h = 0;
	int i;

	for (i = 0; i < BLK; i++)
		h = h * MUL + p[i];
	return h;
}

static size_t slot_of(uint32_t hash, size_t mask)
{
	return (size_t)((hash * 2654435761u) >> 7) & mask;
}

static void put_bytes(dbuf *b, const void *p, size_t n)
{
	if (b->over || n > b->max - b->len) {
		b->over = 1;
		return;
	}
	memcpy(b->d + b->len, p, n);
	b->len += n;
}

static void put_size(dbuf *b, size_t v)
{
	unsigned char t[10];
	size_t n = 0;

	do {
		t[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	put_bytes(b, t, n);
}

/* Literal bytes as insert ops of at most 127 bytes each. */
static void put_insert(dbuf *b, const unsigned char *p, size_t n)
{
	while (n && !b->over) {
		unsigned char op = (unsigned char)(n > 127 ? 127 : n);
		put_bytes(b, &op, 1);
		put_bytes(b, p, op);
		p += op;
		n -= op;
	}
}

/* Base bytes [off, off + n) as copy ops (sizes of at most three bytes). */
static void put_copy(dbuf *b, size_t off, size_t n)
{
	while (n && !b->over) {
		unsigned char op[8];
		size_t q = 1, sz = n > MAX_COPY ? MAX_COPY : n;
		int i;
		op[0] = 0x80;
		for (i = 0; i < 4; i++)
			if ((off >> (8 * i)) & 0xff) {
				op[0] |= (unsigned char)(1u << i);
				op[q++] = (unsigned char)((off >> (8 * i)) & 0xff);
			}
		for (i = 0; i < 3; i++)
			if ((sz >> (8 * i)) & 0xff) {
				op[0] |= (unsigned char)(0x10u << i);
				op[q++] = (unsigned char)((sz >> (8 * i)) & 0xff);
			}
		put_bytes(b, op, q);
		off += sz;
		n -= sz;
	}
}

int vl_delta_create(vl_buf *out, const void *base, size_t blen, const void *target, size_t tlen, size_t max)
{
	const unsigned char *s = base, *t = target;
	slot *tab = NULL;
	dbuf b = { NULL, 0, 0, 0 };
	size_t nblk, cap = 16, mask, i, lit = 0, k;
	uint32_t h = 0, powb = 1;
	int rc;

	if (blen > VL_DELTA_MAX_INPUT || tlen > VL_DELTA_MAX_INPUT)
		return vl_error_set(VL_ETOOBIG, "an object of over %zu bytes cannot be sent as a delta",
				VL_DELTA_MAX_INPUT);
	if (blen < BLK || tlen < BLK || max < 8)
		return 0; /* nothing to copy worth an op */
	if (max > tlen + 64)
		max = tlen + 64; /* never needed: inserts cost 1 byte in 127 */
	nblk = blen / BLK;
	while (cap < 2 * nblk)
		cap *= 2;
	mask = cap - 1;
	if (!(tab = calloc(cap, sizeof(*tab))) || !(b.d = malloc(max))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	b.max = max;
	/* Index the base: each block's hash and offset; the first of equal
	 * blocks is kept once per slot chain (linear probing). */
	for (k = 0; k < nblk; k++) {
		uint32_t bh = block_hash(s + k * BLK);
		size_t at = slot_of(bh, mask);
		while (tab[at].off1)
			at = (at + 1) & mask;
		tab[at].hash = bh;
		tab[at].off1 = (uint32_t)(k * BLK + 1);
	}
	for (k = 1; k < BLK; k++)
		powb *= MUL;
	put_size(&b, blen);
	put_size(&b, tlen);
	h = block_hash(t);
	i = 0;
	while (i + BLK <= tlen && !b.over) {
		size_t at = slot_of(h, mask), best = 0, boff = 0, probes = 0;
		for (; tab[at].off1 && probes < MAX_PROBES; at = (at + 1) & mask, probes++) {
			size_t c = tab[at].off1 - 1, n;
			if (tab[at].hash != h || memcmp(s + c, t + i, BLK))
				continue;
			for (n = BLK; c + n < blen && i + n < tlen && s[c + n] == t[i + n]; n++)
				;
			if (n > best) {
				best = n;
				boff = c;
			}
		}
		if (best) {
			/* Grow the match back over literals not yet written. */
			while (boff > 0 && i > lit && s[boff - 1] == t[i - 1]) {
				boff--;
				i--;
				best++;
			}
			put_insert(&b, t + lit, i - lit);
			put_copy(&b, boff, best);
			i += best;
			lit = i;
			if (i + BLK <= tlen)
				h = block_hash(t + i);
			continue;
		}
		if (i + BLK < tlen)
			h = (h - t[i] * powb) * MUL + t[i + BLK];
		i++;
	}
	put_insert(&b, t + lit, tlen - lit);
	if (b.over) {
		rc = 0;
		goto out;
	}
	if ((rc = vl_buf_put(out, b.d, b.len)) < 0)
		goto out;
	rc = 1;
out:
	free(tab);
	free(b.d);
	return rc;
}

int vl_delta_sizes(uint64_t *base, uint64_t *result, const unsigned char *d, size_t len)
{
	uint64_t *v[2] = { base, result };
	size_t at = 0;
	int k, shift;

	for (k = 0; k < 2; k++) {
		*v[k] = 0;
		for (shift = 0;; shift += 7) {
			if (at >= len || shift > 56)
				return 0;
			*v[k] |= (uint64_t)(d[at] & 0x7f) << shift;
			if (!(d[at++] & 0x80))
				break;
		}
	}
	return 1;
}
