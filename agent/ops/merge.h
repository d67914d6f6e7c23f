/*
 * merge.h - operations on merges (ops.h conventions): merge a ref into a
 * scope branch, list what merges left for a person, resolve it, join two
 * records of one person.
 *
 * Values are returned in clear; the caller masks personal fields for
 * display unless the user asked to see them (ops.h, "Personal data").
 */
#ifndef VL_OPS_MERGE_H
#define VL_OPS_MERGE_H

#include "agent/node/node.h"
#include "agent/ops/ops.h"
#include "agent/sync/treemerge.h"

/* ---- vledger merge REF ------------------------------------------------ */

typedef struct {
	const char *ref;       /* a ref or revision of this node's repository */
	const char *scope;     /* branch to merge into; NULL: the ref's own (below) */
	vl_progress progress;
} vl_merge_opts;
#define VL_MERGE_OPTS_INIT { NULL, NULL, { NULL, NULL } }

typedef enum {
	VL_MERGED_NONE = 0,    /* not merged (refused, or failed) */
	VL_MERGED_UP_TO_DATE,  /* our branch already holds the ref */
	VL_MERGED_FAST_FORWARD,/* our branch moved to the ref (or was created) */
	VL_MERGED_COMMIT       /* a merge commit was written */
} vl_merge_outcome;

typedef struct {
	char scope[13];        /* the branch merged into */
	vl_merge_outcome outcome;
	git_oid head;          /* our branch head afterwards */
	vl_merge_summary sum;  /* VL_MERGED_COMMIT: what the merge did */
	vl_buf report;         /* refused: the checks that failed, one per line */
} vl_merge_result;

void vl_merge_result_free(vl_merge_result *r);

/*
 * Merge the commit opts->ref names into the branch of a scope: fast-forward
 * when possible, else the deterministic merge commit (treemerge.h), the
 * branch moved by compare-and-swap.
 *
 * The scope is opts->scope; without it, the ref's own: a ref name ending
 * in scope/<code>, else the scope of the records its commit holds (never
 * the node's own scope by default). Before anything is written, the
 * commits the ref brings are verified as received data
 * (vl_verify_received): records of another scope, signatures, authorisation,
 * and equivocation (a key that signed one of them and a different commit
 * with the same Vledger-Seq on our branch) refuse the merge: VL_EBADSIG,
 * out->report says why (one line per failed check), the repository is unchanged (no evidence is kept:
 * the ref is local, the user can look at it). VL_EINVALID when the scope
 * cannot be told (give opts->scope), VL_ENOTFOUND when ref names no commit,
 * VL_ECONFLICT when the branch moved meanwhile.
 */
int vl_merge(vl_node *n, const vl_merge_opts *opts, vl_merge_result *out) VL_MUST_CHECK;

/* ---- vledger conflicts ------------------------------------------------ */

typedef struct {
	const char *scope;     /* NULL: the node's own */
	int duplicates;        /* list groups of records with one identity key instead */
	vl_progress progress;
} vl_conflicts_opts;
#define VL_CONFLICTS_OPTS_INIT { NULL, 0, { NULL, NULL } }

/* One candidate value of a field left for a person. */
typedef struct {
	vl_value *value;                 /* owned; NULL = absent */
	char *author;                    /* fingerprint, "" if none; owned */
	char *clock;                     /* "" if none; owned */
	const vl_roster_entry *signer;   /* author's roster entry (borrowed from the node) or NULL */
} vl_conflict_candidate;

/* One field of one record left for a person by a merge. */
typedef struct {
	const vl_schema *schema;         /* borrowed from the node */
	char id[VL_ULID_LEN + 1];
	char scope[13];
	int deleted;                     /* the record is a tombstone now */
	char *field;                     /* a field name or "_deleted"; owned */
	vl_conflict_candidate *cands;
	size_t ncands;
} vl_conflict;

/* Live records of one ledger with the same identity key (schema identity). */
typedef struct {
	const vl_schema *schema;         /* borrowed */
	char **ids;                      /* owned, first found first */
	size_t nids;
} vl_duplicate_group;

typedef struct {
	char scope[13];
	int have_branch;                 /* 0: the node holds no branch of scope */
	vl_conflict *conflicts;          /* without opts->duplicates */
	size_t nconflicts;
	vl_duplicate_group *groups;      /* with opts->duplicates */
	size_t ngroups;
} vl_conflicts_result;

void vl_conflicts_result_free(vl_conflicts_result *r);

/* Every field a merge left for a person on the branch of opts->scope, by
 * ledger in schema order, records in path order; or the duplicate groups. */
int vl_conflicts(vl_node *n, const vl_conflicts_opts *opts, vl_conflicts_result *out) VL_MUST_CHECK;

/* ---- vledger resolve ID FIELD ----------------------------------------- */

typedef struct {
	const char *id;
	const char *field;     /* a field name or "_deleted" */
	size_t take;           /* candidate number from 1; 0 = use value */
	const char *value;     /* the value as text (schema.h set_text), when take is 0 */
	vl_progress progress;
} vl_resolve_opts;
#define VL_RESOLVE_OPTS_INIT { NULL, NULL, 0, NULL, { NULL, NULL } }

typedef struct {
	char id[VL_ULID_LEN + 1];
	git_oid commit;        /* the signed commit that settles it */
} vl_resolve_result;

void vl_resolve_result_free(vl_resolve_result *r);

/* Settle one conflict entry with candidate `take` (1..n; out of range:
 * VL_EINVALID) or `value`, as a signed version. Needs the secret key. */
int vl_resolve(vl_node *n, const vl_resolve_opts *opts, vl_resolve_result *out) VL_MUST_CHECK;

/* ---- vledger join-records KEEP OTHER ---------------------------------- */

typedef struct {
	const char *keep, *other;        /* two different record ids */
	vl_progress progress;
} vl_join_records_opts;
#define VL_JOIN_RECORDS_OPTS_INIT { NULL, NULL, { NULL, NULL } }

typedef struct {
	char keep[VL_ULID_LEN + 1], other[VL_ULID_LEN + 1];
	size_t conflicts;      /* fields left for a person in the joined record */
	git_oid commit;
} vl_join_records_result;

void vl_join_records_result_free(vl_join_records_result *r);

/* Join `other` into `keep` (two live records of one ledger and scope): the
 * other's data merged into the kept one by the field rules as an add/add,
 * the other deleted, in one signed commit with a Vledger-Join trailer. */
int vl_join_records(vl_node *n, const vl_join_records_opts *opts, vl_join_records_result *out) VL_MUST_CHECK;

#endif
