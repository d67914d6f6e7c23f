/*
 * delta.h - git's delta format (docs/formats.md §2: what a pack's OFS_DELTA
 * and REF_DELTA entries hold), the encoding side.
 *
 * A delta is: the base's size and the result's size (7-bit groups, least
 * significant first), then instructions: a copy (0x80 | which offset and
 * size bytes follow: a range of the base) or an insert (1..127: that many
 * literal bytes follow). The encoder indexes the base in 16-byte blocks at
 * 16-byte steps and scans the target with a rolling hash: a run of 16 equal
 * bytes or more becomes a copy, extended both ways, the rest inserts. It
 * finds what changed between two versions of one record or tree (a field
 * edited, an entry's id replaced), not moved fragments shorter than a block.
 *
 * No decoder here (but for the header's two sizes): deltas are applied by
 * libgit2 on receipt, under the pack checks' caps (agent/sync/bundle.c
 * vl_bundle_pack_check, store/packread.h).
 * Thread safe: no shared state.
 */
#ifndef VL_DELTA_H
#define VL_DELTA_H

#include <stddef.h>
#include <stdint.h>
#include "store/buf.h"
#include "store/error.h"

/* Block of the base index: matches shorter than this are not found. */
#define VL_DELTA_BLOCK 16

/* Largest base or target the encoder takes (a record or tree is far
 * smaller; offsets then fit the copy op's 32 bits). */
#define VL_DELTA_MAX_INPUT ((size_t)64 << 20)

/*
 * Append to out the delta that makes `target` (tlen bytes) from `base`
 * (blen bytes) when it takes at most `max` bytes. Returns 1 when appended,
 * 0 when no delta that small was found (out unchanged: send the object
 * whole), VL_ENOMEM, VL_ETOOBIG (an input over VL_DELTA_MAX_INPUT, or out's
 * cap). On error out's content is as before the call.
 */
int vl_delta_create(vl_buf *out, const void *base, size_t blen, const void *target, size_t tlen,
		size_t max) VL_MUST_CHECK;

/*
 * Read a delta's header (its first len bytes; more may follow): the base's
 * size and the result's size. 1 when both are whole there, 0 when the
 * header is cut short or a size runs past 63 bits. What the pack checks
 * (bundle.c, packread.c) cap before libgit2 allocates either.
 */
int vl_delta_sizes(uint64_t *base, uint64_t *result, const unsigned char *d, size_t len) VL_MUST_CHECK;

#endif
