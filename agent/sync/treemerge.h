/*
 * treemerge.h - merging two heads of one scope branch (docs/formats.md §5, §6).
 *
 * The merge walks the three trees (merge base, x, y) and visits only the
 * entries whose ids differ, skipping every equal subtree: never an index or
 * a diff of the whole tree (at 100k records the pruned walk took 18 ms where
 * git_diff_tree_to_tree took 657 ms). A record changed on one side
 * is taken; a record changed on both is merged by vl_merge_record. The merge
 * commit is deterministic: parents sorted by id, author and committer
 * "vledger merge <merge@vledger>", time = the later parent's committer time,
 * a fixed message, no signature. Two nodes that merge the same two heads
 * therefore write the same commit id. Several merge bases (criss-cross) are
 * folded into a virtual base by merging them, in id order, the same way.
 */
#ifndef VL_TREEMERGE_H
#define VL_TREEMERGE_H

#include "hooks/merge.h"
#include "agent/node/node.h"

#define VL_MERGE_NAME "vledger merge"
#define VL_MERGE_EMAIL "merge@vledger"

typedef struct {
	size_t records_merged;   /* records changed on both sides */
	size_t records_taken;    /* records changed on one side only */
	size_t conflicts;        /* fields left to a person */
	size_t hooks_run;
} vl_merge_summary;

/*
 * The result of merging commits a and b of the branch of `scope`:
 *  - one is an ancestor of the other (or they are equal): *out = the other,
 *    *kind = 0 (fast-forward or nothing to do);
 *  - else the deterministic merge commit is written (not referenced by any
 *    ref) and *out is its id, *kind = 1.
 * Reads and writes the node's own repository (n->repo). summary may be NULL.
 */
int vl_merge_heads(git_oid *out, int *kind, vl_node *n, const char *scope, const git_oid *a,
		const git_oid *b, vl_merge_summary *summary) VL_MUST_CHECK;

/*
 * Replay a merge commit read through view v (the node's, or a quarantine
 * holding received history): recompute it from its two parents in memory
 * (nothing is written) and compare the whole commit object. 0 when equal;
 * VL_EBADSIG with a message saying what differs otherwise.
 */
int vl_merge_replay(const vl_view *v, vl_node *n, const char *scope, const git_oid *commit) VL_MUST_CHECK;

#endif
