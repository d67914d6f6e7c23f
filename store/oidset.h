/*
 * oidset.h - a set of object ids, for the walks over received or stored
 * history that ask "seen this one?" many times (verify's canonical trees,
 * the receive's objects known to be held).
 *
 * Open addressing with linear probing, the slots placed by SipHash-2-4 under
 * a random key of the set's own: ids a peer chose (every tree and blob id of
 * received data is the hash of bytes it wrote) cannot be made to crowd one
 * run of slots, which would make each lookup a walk along all of them. The
 * all-zero id, which SHA-1 gives to no object, marks an empty slot: it is
 * never in the set. Not thread-safe; the caller owns the set and frees it
 * with vl_oidset_free.
 */
#ifndef VL_OIDSET_H
#define VL_OIDSET_H

#include <stddef.h>
#include <git2.h>

#include "store/error.h"

typedef struct {
	git_oid *ids;
	size_t n, cap;             /* cap: 0 or a power of two */
	unsigned char key[16];     /* drawn when the first id is added */
} vl_oidset;

#define VL_OIDSET_INIT { NULL, 0, 0, { 0 } }

/* Is id in s? */
int vl_oidset_has(const vl_oidset *s, const git_oid *id);

/* Add id (nothing for the all-zero id, or one already there): 0, or
 * VL_ENOMEM with s unchanged. */
int vl_oidset_add(vl_oidset *s, const git_oid *id) VL_MUST_CHECK;

/* Free what s holds; s is empty again (and may be reused). */
void vl_oidset_free(vl_oidset *s);

#endif
