/*
 * packread.h - one pack of a repository we do not trust (another node's
 * repo.git on a USB stick or share), read in place through libgit2's pack
 * reader once our own check has passed.
 *
 * libgit2 1.5 believes a pack entry's header: it allocates the size an
 * entry declares before inflating it, the size a delta declares before
 * applying it, and follows an OFS_DELTA's offset to whatever bytes lie
 * there, parsing them as another entry's header. A crafted or damaged pack
 * (a delta offset a few bytes off) made it ask for 95 GB, which aborts a
 * sanitizer build and is the attacker's choice of allocation in any build.
 * So before libgit2 reads an object, the object's whole delta chain is
 * checked from the headers alone, by reading a few bytes of each entry:
 *   - every entry starts where the pack's index says an object starts, and
 *     the index and pack agree (version, object count, offsets within the
 *     pack, no two objects at one offset);
 *   - every entry is of a known type and declares at most
 *     VL_SOURCE_MAX_OBJECT bytes, and a delta's own header declares a base
 *     and a result of at most that;
 *   - an OFS_DELTA's base is the start of an earlier entry, a REF_DELTA's
 *     base is an object of the same pack, and a chain is at most
 *     VL_SOURCE_MAX_DELTA_DEPTH long (no cycle goes on for ever).
 * A chain checked once is remembered, so the cost is a few bytes read per
 * entry of what is actually read. Inflating, applying and hashing are left
 * to libgit2 (with strict hash checking on), which now only ever allocates
 * what the caps allow and fails cleanly on damage.
 *
 * Only files that are regular are read (opened O_NONBLOCK | O_NOFOLLOW and
 * checked with fstat): a FIFO is refused, never waited on. One thread at a
 * time per backend.
 */
#ifndef VL_PACKREAD_H
#define VL_PACKREAD_H

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include "store/buf.h"
#include "store/error.h"

/*
 * An object backend for the one pack whose index is at idx_path
 * (".../pack-<sha>.idx"; the pack is the same name with ".pack"), for
 * git_odb_add_backend. It offers read, read_header and exists. Opening reads
 * and checks the index and the pack's header: VL_ENOTFOUND when there is no
 * pack beside the index (libgit2 skips such an index too); VL_EINVALID (with a message
 * naming the file) when either is not a regular file, malformed, or they
 * disagree; VL_ETOOBIG when the index names more than
 * VL_SOURCE_MAX_PACK_OBJECTS objects. A read of an object whose chain fails
 * the check is GIT_ERROR with libgit2's error set to a message that says
 * the pack is truncated or corrupt, or over the limit, and why.
 * out: freed by the odb it is added to (or by out->free).
 */
int vl_packread_backend(git_odb_backend **out, const char *idx_path) VL_MUST_CHECK;

/*
 * Check the delta chain of the object `id` of the backend (one made by
 * vl_packread_backend) as a read would: 0 when it passes, VL_ENOTFOUND when
 * the pack does not hold id, VL_EINVALID / VL_ETOOBIG with a message
 * otherwise. For tests and the fuzz target.
 */
int vl_packread_check(git_odb_backend *b, const git_oid *id) VL_MUST_CHECK;

/* ---- Whole objects read directly, from a repository's own packs ----
 *
 * `vledger verify` reads every record blob of the repository, and every
 * commit. Through libgit2 each read is a header lookup, a second lookup, an
 * inflate into a fresh allocation, a SHA-1 with collision detection and a
 * copy. For an object stored whole (not as a delta) in one of this
 * repository's packs, which is how our pack writer stores every object, the
 * read here is one pread of the entry, one inflate into the caller's buffer
 * and one SHA-1 (the pack writer's, with the CPU's SHA instructions),
 * checked against the id. Any other case (a delta, another type than asked,
 * over `max`, not in these packs, or an entry that does not inflate to its
 * size, fails zlib's checks or does not hash to its id) reads nothing and
 * says so, and the caller reads the object through libgit2, which reports
 * damage in its own words: a direct read only ever returns bytes whose id
 * is the one asked for, and only bytes stock git reads too.
 */

/* A thread's zlib stream and read buffer for direct reads; one thread at a
 * time each. */
typedef struct vl_packread_scratch vl_packread_scratch;
int vl_packread_scratch_new(vl_packread_scratch **out) VL_MUST_CHECK;
void vl_packread_scratch_free(vl_packread_scratch *s);

/* Every pack of one objects directory (".../objects"), opened and checked
 * as vl_packread_backend opens one; a pack that does not open is left out
 * (its objects are read through libgit2). Read-only after opening: any
 * number of threads may read from one set at once, each with its own
 * scratch. The packs are those present at opening; objects written later
 * are not found here. */
typedef struct vl_packset vl_packset;
int vl_packset_open(vl_packset **out, const char *objects_dir) VL_MUST_CHECK;
void vl_packset_free(vl_packset *set);

/*
 * Read the object id, of type type (a commit, tree, blob or tag), at most max
 * bytes, into out (replacing its contents; out->ptr[len] is a NUL): 0 when
 * it was read and its content hashes to id as an object of that type;
 * VL_ENOTFOUND (no message set, out's contents unspecified) when it is not
 * read here, for any of the reasons above; VL_ENOMEM.
 */
int vl_packset_read(vl_buf *out, const vl_packset *set, vl_packread_scratch *s, const git_oid *id,
		git_object_t type, size_t max) VL_MUST_CHECK;

#endif
