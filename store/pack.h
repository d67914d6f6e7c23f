/*
 * pack.h - objects written as git packs (docs/formats.md §2), and a stage
 * that collects what libgit2 writes through a repository in memory.
 *
 * The pack writer appends whole objects (no delta search: records are small
 * and distinct, and libgit2's packbuilder spends ~0.6 s per 1,000 objects
 * looking for deltas) deflated at zlib's fastest level, and writes the pack
 * (v2) and its index (v2) itself: it knows every id, offset and CRC as it
 * goes. Files are written under temporary names in <objects>/pack and renamed
 * to pack-<sha>.pack, then pack-<sha>.idx: git and libgit2 only see a pack
 * through its index, so a crash at any instant leaves either no new pack or a
 * complete one. With do_fsync both files are fsynced before the renames and
 * the directory after them: when finish returns, the pack is durable.
 *
 * The stage is an in-memory object backend put in front of a repository's
 * object database (above loose objects and packs). While open, every object
 * libgit2 writes through that repository (git_blob_create_from_buffer,
 * git_tree_create_updated, git_commit_create...) lands in memory and reads
 * through the repository find it; an object the repository already holds is
 * not staged again (libgit2 checks before writing). A flush writes what is
 * staged as one pack. libgit2 1.5 cannot remove a backend: a closed stage
 * stays in the odb's list, its writes fall through to the next backend
 * (loose objects) and its reads miss; the next vl_stage_open on the same
 * repository reuses it.
 *
 * Neither is thread safe; a stage is used by the one thread that uses its
 * repository.
 */
#ifndef VL_PACK_H
#define VL_PACK_H

#include <git2.h>
#include <stddef.h>
#include <stdint.h>
#include "store/buf.h"
#include "store/error.h"

/* Objects in one pack written by us; a backstop, as VL_PACK_MAX_OBJECTS is
 * for packs read (2^32 - 1 is the format's limit). */
#define VL_PACKW_MAX_OBJECTS ((size_t)64 << 20)

/* ---- object ids and work on several threads ---- */

/* SHA-1 (FIPS 180-1, no collision detection) as the pack writer uses it:
 * for a pack's trailer (the checksum over everything before it). */
typedef struct {
	uint32_t h[5];
	uint64_t len;
	unsigned char block[64];
	size_t used;
} vl_sha1;
void vl_sha1_init(vl_sha1 *c);
void vl_sha1_update(vl_sha1 *c, const void *data, size_t len);
void vl_sha1_final(unsigned char out[20], vl_sha1 *c);

/* The git id of an object of `type` with `len` bytes of content (SHA-1 of
 * "<type> <len>\0" and the content): what git_odb_hash gives, by the pack
 * writer's SHA-1, without libgit2's collision detection (about the same
 * cost here): for objects this program builds itself (records, trees,
 * commits), on any thread (the signing workers hash their records). */
void vl_object_id(git_oid *out, git_object_t type, const void *data, size_t len);

/* Threads for work that splits over items (a batch's records signed, a
 * pack's objects deflated): VLEDGER_THREADS when set to 1..VL_WORK_MAX_THREADS
 * (1: everything on the calling thread), else 2 when this machine has two
 * processors online, else 1. Every split gives the same bytes as one thread. */
#define VL_WORK_MAX_THREADS 8
unsigned vl_work_threads(void);

/* Items [from, to) of a split; a negative VL_E* (with vl_error_set) stops
 * this part. Called on several threads at once with the same ctx: a part
 * writes only its own items' results. */
typedef int (*vl_work_fn)(void *ctx, size_t from, size_t to);

/*
 * Run fn over items [0, n) in `threads` contiguous parts, part 0 on the
 * calling thread, the others on threads started and joined here (a thread
 * that cannot start leaves its part to the caller). Returns 0, or the
 * error of the first failing part in item order (its message set on the
 * calling thread): the one a single thread would have met first, as each
 * part stops at its first failure. Parts after a failure still run.
 */
int vl_work_split(size_t n, unsigned threads, vl_work_fn fn, void *ctx) VL_MUST_CHECK;

/* ---- the pack writer ---- */

typedef struct vl_packw vl_packw;

/*
 * Start a pack in <objects_dir>/pack (created when missing). `objects_dir` is
 * an objects directory: a repository's ("<repo>/objects") or a quarantine's.
 * do_fsync: fsync the pack, its index and the directory at finish.
 * out: the writer; caller frees with vl_packw_free (after vl_packw_finish, or
 * instead of it to abandon the pack: its temporary files are removed).
 */
int vl_packw_open(vl_packw **out, const char *objects_dir, int do_fsync) VL_MUST_CHECK;

/*
 * Append one object of `type` (commit, tree, blob, tag) with `len` bytes of
 * content; out (optional) gets its id. An id already in this pack is not
 * written twice. The content is not checked: callers add objects they built
 * or verified (libgit2's strict object creation checks what it writes).
 */
int vl_packw_add(git_oid *out, vl_packw *w, git_object_t type, const void *data, size_t len) VL_MUST_CHECK;

/* As vl_packw_add when the caller already knows the object's id (a stage:
 * libgit2 hashed it on write). The id is trusted, not recomputed. */
int vl_packw_add_known(vl_packw *w, const git_oid *id, git_object_t type, const void *data,
		size_t len) VL_MUST_CHECK;

/* The number of objects the pack will hold, said before the first is
 * added: the header carries it from the start and the checksum is computed
 * as the pack is written (no read-back at finish). A pack that ends with
 * another count is still right (then finish reads it back, as without). */
int vl_packw_expect(vl_packw *w, size_t count) VL_MUST_CHECK;

/* zlib level for the objects added from now on: 1 (the default, fastest
 * real compression) to 9, or 0 for none (a pack read back soon and then
 * dropped, as a quarantine's). VL_EINVALID outside 0..9. */
int vl_packw_set_level(vl_packw *w, int level) VL_MUST_CHECK;

/* Is `id` already in this pack? */
int vl_packw_has(const vl_packw *w, const git_oid *id);

/* Objects added so far (distinct ids). */
size_t vl_packw_count(const vl_packw *w);

/*
 * Write the trailer and the index, then rename both into place (the index
 * last) and fsync as asked at open. out (optional) gets the pack's checksum,
 * the <sha> of its name; all zeros when no object was added: then nothing is
 * written and nothing appears. After finish (success or not) the writer
 * takes no more objects; free it with vl_packw_free.
 */
int vl_packw_finish(git_oid *out, vl_packw *w) VL_MUST_CHECK;

/* Free the writer; a pack not finished is removed (its temporary files). */
void vl_packw_free(vl_packw *w);

/* ---- a pack in memory (a network chunk) ---- */

/*
 * A pack (v2) written into a caller's buffer, for sending: whole objects,
 * OFS_DELTA entries (a git delta, store/delta.h, against an earlier entry)
 * and REF_DELTA entries (against an object named by id that the receiver
 * holds and the pack does not: a thin pack, which the receiver completes
 * from its own objects). No index, no id check: the
 * caller adds objects read from a repository. Entries are deflated at the
 * level given at open.
 */
typedef struct vl_packm vl_packm;

/* Start a pack at the end of dst (borrowed: it must outlive the writer);
 * level: zlib 0..9. out: caller frees with vl_packm_free. */
int vl_packm_new(vl_packm **out, vl_buf *dst, int level) VL_MUST_CHECK;

/* Append one whole object of `type` with `len` bytes of content. On
 * failure dst holds what it held before the call. */
int vl_packm_add(vl_packm *m, git_object_t type, const void *data, size_t len) VL_MUST_CHECK;

/* Append a REF_DELTA entry: `delta` (len bytes) applies to the object `base`. */
int vl_packm_add_ref_delta(vl_packm *m, const git_oid *base, const void *delta, size_t len) VL_MUST_CHECK;

/* Append an OFS_DELTA entry: `delta` applies to the entry that starts at
 * base_offset (a vl_packm_offset taken before that entry was added):
 * smaller than REF_DELTA (a few bytes instead of an id) and what git
 * writes for a base in the same pack. VL_EINVALID unless it is an earlier
 * entry's offset. */
int vl_packm_add_ofs_delta(vl_packm *m, uint64_t base_offset, const void *delta, size_t len) VL_MUST_CHECK;

/* Where the next entry will start, from the pack's first byte. */
uint64_t vl_packm_offset(const vl_packm *m);

/* Entries added so far. */
size_t vl_packm_count(const vl_packm *m);

/* Set the header's count and append the trailer (SHA-1 of the pack); no
 * more entries afterwards. */
int vl_packm_finish(vl_packm *m) VL_MUST_CHECK;

/* Free the writer (not dst); NULL is allowed. */
void vl_packm_free(vl_packm *m);

/* One pack entry of a whole object (type and size header, content deflated
 * at zlib's fastest level) appended to out: what a receiver adds to a thin
 * pack to complete it. On failure out is as before. */
int vl_pack_entry(vl_buf *out, git_object_t type, const void *data, size_t len) VL_MUST_CHECK;

/* ---- the stage ---- */

typedef struct vl_stage vl_stage;

/*
 * Put a stage in front of `repo`'s object database (or reopen the closed one
 * left there by an earlier vl_stage_open). out: the stage; the caller closes
 * it with vl_stage_close (which also drops the caller's reference; the odb
 * holds its own until it is freed). Closing does not flush.
 */
int vl_stage_open(vl_stage **out, git_repository *repo) VL_MUST_CHECK;

/*
 * As vl_stage_open, in front of a bare object database (a quarantine's, a
 * merge's overlay). objects_dir: where vl_stage_flush writes when given no
 * directory; NULL: flushes must name one.
 */
int vl_stage_open_odb(vl_stage **out, git_odb *odb, const char *objects_dir) VL_MUST_CHECK;

/* zlib level of the packs vl_stage_flush writes (vl_packw_set_level);
 * 1 after each vl_stage_open. */
int vl_stage_set_level(vl_stage *s, int level) VL_MUST_CHECK;

/* Objects held now (written since the last flush) and their content bytes. */
size_t vl_stage_count(const vl_stage *s);
size_t vl_stage_bytes(const vl_stage *s);

/*
 * Put one object into the stage directly, without libgit2's lookups before a
 * write (which rescan every pack directory when the object is new): for a
 * caller that knows the object is not in the repository yet. out (optional)
 * gets its id. An object staged already is kept once.
 */
int vl_stage_add(git_oid *out, vl_stage *s, git_object_t type, const void *data, size_t len) VL_MUST_CHECK;
/*
 * vl_stage_add of an object whose id the caller has computed already (with
 * vl_object_id over the same type and bytes): not hashed again. A wrong id
 * would put a corrupt object in the pack, so builds without NDEBUG hash it
 * anyway and refuse a mismatch (VL_EINVALID); release builds trust it.
 */
int vl_stage_add_known(vl_stage *s, const git_oid *id, git_object_t type, const void *data, size_t len)
		VL_MUST_CHECK;

/*
 * The stage that libgit2's writes into `odb` land in now: the first open one
 * in the odb's order (a caller's stage opened before a nested one takes the
 * writes); NULL when a write would go to disk. No reference is taken: it
 * lives while the stage its opener holds is open.
 */
vl_stage *vl_stage_writer(git_odb *odb);

/* Is `id` held by the stage now? */
int vl_stage_has(const vl_stage *s, const git_oid *id);

/*
 * Write everything staged as one pack into `objects_dir` (NULL: the
 * directory named at open: the repository's own objects directory), fsynced when do_fsync, then empty the
 * stage (it stays open and takes more objects). Nothing staged: nothing is
 * written. On failure the stage keeps its objects and no pack appears.
 * pack_out (optional) gets the pack's checksum (zero when nothing written).
 */
int vl_stage_flush(git_oid *pack_out, vl_stage *s, const char *objects_dir, int do_fsync) VL_MUST_CHECK;

/*
 * Callback for vl_stage_flush_filtered: 1 keeps the object in the pack,
 * 0 leaves it out, negative stops the flush with that error.
 */
typedef int (*vl_stage_keep_cb)(const git_oid *id, git_object_t type, void *payload);

/* vl_stage_flush writing only the objects `keep` accepts; the stage is
 * emptied of all of them on success. */
int vl_stage_flush_filtered(git_oid *pack_out, vl_stage *s, const char *objects_dir, int do_fsync,
		vl_stage_keep_cb keep, void *payload) VL_MUST_CHECK;

/* Drop whatever is staged (not written) and stop taking objects: writes
 * through the repository go to loose objects again, reads of dropped objects
 * miss. Drops the caller's reference; NULL is allowed. */
void vl_stage_close(vl_stage *s);

/* ---- maintenance, as `git gc --auto` ---- */

typedef struct {
	/* Pack the loose objects when about this many are there (git's
	 * gc.auto), estimated as git does: the count in objects/17 x 256.
	 * 0: never. */
	size_t loose_limit;
	/* Combine packs when there are more than this many (git's
	 * gc.autoPackLimit): the small ones into one, as `git repack
	 * --geometric=2` chooses. 0: never. */
	size_t pack_limit;
	int do_fsync; /* fsync the new pack (always, but in tests) */
} vl_pack_auto_opts;

#define VL_PACK_AUTO_OPTS_INIT { 6700, 50, 1 }

typedef struct {
	size_t loose_packed;   /* loose objects written into a pack and removed */
	size_t packs_combined; /* packs combined into one and removed */
} vl_pack_auto_result;

/*
 * Keep an objects directory compact, as `git gc --auto` does: when loose
 * objects pile up, write them all into one pack and remove the loose files;
 * when packs exceed the limit, combine the small ones into one so that the
 * packs left grow by at least a factor 2 each (`git repack --geometric=2`:
 * a large pack is not rewritten by every combine; packs with a .keep file
 * stay). Objects are never dropped (no pruning): every
 * object read from the directory is in the new pack before anything is
 * removed, and the new pack and index are durable (fsynced with the
 * directory) first, so a crash at any instant leaves every object readable;
 * at worst a duplicate stays behind. Reads through its own object database:
 * free repository handles on the directory before, or refresh their odb
 * after (a pack they had listed may be gone). Temporary files in
 * <objects>/pack older than an hour (a writer killed mid-way) are removed.
 * The caller holds the node's write lock. out (optional) says what was done; nothing when under the
 * limits.
 */
int vl_pack_auto(vl_pack_auto_result *out, const char *objects_dir, const vl_pack_auto_opts *opts) VL_MUST_CHECK;

/* Every loose object of objects_dir into one pack now, whatever their
 * number, with the guarantees of vl_pack_auto's step; *packed (if not NULL)
 * gets how many. For the bench's set-up (a village that has packed). */
int vl_pack_loose_now(size_t *packed, const char *objects_dir, int do_fsync) VL_MUST_CHECK;

#endif
