/* oidset.c - a set of object ids under a keyed hash (oidset.h). */
#include "store/oidset.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The slot of id in ids[cap]: where it is, or the empty slot where it
 * would go. The table is never full (at most half used). */
static size_t slot_of(const git_oid *ids, size_t cap, const unsigned char key[16], const git_oid *id)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;
	size_t i, mask = cap - 1;

	crypto_shorthash(h, id->id, GIT_OID_RAWSZ, key);
	memcpy(&v, h, sizeof(v));
	for (i = (size_t)v & mask; !git_oid_is_zero(&ids[i]) && !git_oid_equal(&ids[i], id); i = (i + 1) & mask)
		;
	return i;
}

int vl_oidset_has(const vl_oidset *s, const git_oid *id)
{
	return s->cap && !git_oid_is_zero(id) && !git_oid_is_zero(&s->ids[slot_of(s->ids, s->cap, s->key, id)]);
}

int vl_oidset_add(vl_oidset *s, const git_oid *id)
{
	size_t i;

	if (git_oid_is_zero(id))
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		git_oid *ids;
		if (cap > SIZE_MAX / 2 / sizeof(*ids) || !(ids = calloc(cap, sizeof(*ids))))
			return vl_error_set(VL_ENOMEM, "out of memory");
		if (!s->cap)
			randombytes_buf(s->key, sizeof(s->key));
		for (i = 0; i < s->cap; i++)
			if (!git_oid_is_zero(&s->ids[i]))
				git_oid_cpy(&ids[slot_of(ids, cap, s->key, &s->ids[i])], &s->ids[i]);
		free(s->ids);
		s->ids = ids;
		s->cap = cap;
	}
	i = slot_of(s->ids, s->cap, s->key, id);
	if (git_oid_is_zero(&s->ids[i])) {
		git_oid_cpy(&s->ids[i], id);
		s->n++;
	}
	return 0;
}

void vl_oidset_free(vl_oidset *s)
{
	free(s->ids);
	memset(s, 0, sizeof(*s));
}
