/*
 * idindex.h - the record id -> (scope branch, ledger) index in
 * <home>/cache/ids.idx (docs/formats.md §2), behind vl_ledger_places.
 *
 * Derived and rebuildable: it is never trusted over the repository. It
 * records the scope-branch heads it was built from; a lookup first compares
 * them with the branches' current heads and brings the index up to date
 * (a tree diff at ledger/bucket level per moved branch, a full read of a
 * new branch or of one whose old head is gone). Every place it names is
 * confirmed on the branch head before it is returned; a place that is not
 * there makes it rebuild from the repository. A file that is short, too
 * big, of another version, or whose checksums do not match is ignored and
 * rebuilt. Written whole, atomically (temp file + rename); a file that
 * cannot be written (a read-only home) only costs speed.
 *
 * What it trusts: with matching heads and checksums, a miss is taken as
 * "not on this node". The checksums catch damage (a torn write, a disk
 * error, a truncated copy), not a person who can write cache/: that person
 * can write repo.git beside it too (docs/threats.md). Full `vledger verify`
 * never reads it.
 *
 * One thread at a time per node, like vl_node.
 */
#ifndef VL_IDINDEX_H
#define VL_IDINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "agent/node/ledger.h"

/* Caps on what is read: the file is a file on disk. */
#define VL_IDX_MAX_BRANCHES 65535
#define VL_IDX_MAX_LEDGERS 1024
#define VL_IDX_MAX_ENTRIES ((size_t)8 << 20)
#define VL_IDX_FILE "cache/ids.idx"

typedef struct vl_idindex vl_idindex;

void vl_idindex_free(vl_idindex *x);

/*
 * Parse an index file's bytes completely (every checksum, every cap, the
 * order of the entries): the reader behind the index and the fuzz target.
 * VL_EINVALID / VL_ETOOBIG for anything but a well-formed file; *out is
 * owned by the caller.
 */
int vl_idindex_parse(vl_idindex **out, const unsigned char *data, size_t len) VL_MUST_CHECK;
/* The file bytes of x (appended to out): parse(serialize(x)) == x. */
int vl_idindex_serialize(vl_buf *out, const vl_idindex *x) VL_MUST_CHECK;
/* Number of (id, branch, ledger) entries in x. */
size_t vl_idindex_count(const vl_idindex *x);

/*
 * vl_ledger_places through the index of node n (n->repo's scope branches):
 * same contract. Any failure other than VL_ENOMEM and VL_EINVALID (not an
 * id) means "the index could not answer": the caller then scans the
 * branches itself.
 */
int vl_idindex_places(vl_place *out, size_t max, size_t *count, vl_node *n, const char *id) VL_MUST_CHECK;

/*
 * Bring n's index up to date with its branches now and write it (rebuild
 * = start from nothing, ignoring the file). For tests and for callers that
 * want the cost paid at a time of their choosing.
 */
int vl_idindex_refresh(vl_node *n, int rebuild) VL_MUST_CHECK;

/*
 * hold takes the branch heads now; until release, vl_idindex_places
 * answers for those heads without listing them again, and never rebuilds
 * (a wrong index, or one that cannot be brought up to date, makes the
 * caller scan). Nothing is read until a lookup: the first few read their
 * section of the file, as a process's first lookup does; past those the
 * index is brought up to date and saved once. Only for a caller that holds
 * n's write lock and moves no scope branch in between: receive's
 * verification of one received branch, which looks up every new record
 * (a day of edits looks up none).
 */
void vl_idindex_hold(vl_node *n);
void vl_idindex_release(vl_node *n);

#endif
