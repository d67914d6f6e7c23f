/*
 * verify.h - verification of a node's whole repository (docs/formats.md §5, §7).
 *
 * For every branch (config and every scope branch) and every commit on it:
 * the gpgsig is the canonical SSHSIG over the commit by a roster key whose
 * fingerprint is the author and committer email; the key's Vledger-Seq /
 * Vledger-Prev chain on that branch is unbroken and never forks; on a scope
 * branch the key may write that scope; the config branch is signed by admins
 * (its first commit by a root key of network.yaml; every later one by an
 * admin of its parent's roster whose scope covers the change, roster.h).
 * Every record a commit
 * adds or changes sits at <ledger>/<last id char>/<id>.yaml as a regular
 * file, is canonical, validly signed by a roster key that may write its
 * scope, has the branch's scope, passes its schema, and is named by a
 * Vledger-Record trailer with its blob id; nothing else is in the tree.
 * A merge commit is not signed: it must be byte-identical to its replay
 * from its two parents (vl_merge_replay).
 * Canonical objects (docs/decisions.md, "Trust rules of issue 7"): a signed
 * commit has exactly the headers tree/parent/author/committer/gpgsig
 * (vl_commit_check_canonical), author and committer named as the key's
 * roster entry, one time for both (VL_AUTHOR_TIME_SKEW_S); raw tree modes
 * 100644 / 040000; a record's prev is the version it replaces; a signed
 * record adds no conflict. Time moves forward along a key's chain: a commit
 * is not dated before the key's previous commit on the branch, a record not
 * before that commit nor before the version it replaces. A revoked key's
 * writes are valid up to the head its revocation pinned for the branch
 * (roster.h), elsewhere when dated before revoked_at. Record ids are unique
 * across ledgers and scope branches.
 * Only the trees that changed are walked (equal subtree ids are skipped).
 *
 * Threads: commits are verified in order, one at a time; what each record
 * and signed commit gives on its own (blob read, parse, signatures, schema)
 * is computed on res->threads threads ahead of the ordered checks, which
 * make every finding from it. vl_verify_all with many scope branches (a
 * county, a township) instead gives each thread whole branches, verified
 * as one thread would, and joins their results in branch order. The result
 * (counts, report, evidence) is the same for any number of threads. Received data: each signer's chain in
 * the held history is found once per call, not once per commit.
 */
#ifndef VL_VERIFY_H
#define VL_VERIFY_H

#include <stdio.h>
#include "agent/node/node.h"

/* A record new on a received branch: its id and where it lands. */
typedef struct {
	char id[27];      /* VL_ULID_LEN + 1 */
	char scope[13];
	char ledger[33];
} vl_new_id;

typedef struct {
	size_t branches;
	size_t commits;
	size_t merges;   /* merge commits whose replay matched */
	size_t records;
	size_t failures;
	vl_buf report;   /* one line per failure: "<branch> <commit>: <what>" */
	vl_buf revocations; /* vl_verify_all/some: one line per revoked key, what
	                     * its revocation pinned and the window left */
	git_oid *evidence;  /* received data: pairs (ours, theirs) of commits one key
	                     * signed at the same Vledger-Seq */
	size_t nevidence;   /* 2 per pair */
	FILE *progress;  /* where to print progress, or NULL */
	unsigned threads; /* in: threads that check records (commits stay in
	                   * order, the report is the same for any number);
	                   * 0 = $VLEDGER_THREADS, else 2 when two processors
	                   * are online, else 1 */
	unsigned branch_min; /* in, vl_verify_all: from this many scope branches
	                      * on, threads take whole branches instead of
	                      * sharing each branch's records; 0 = 8 */
	vl_new_id *new_ids;  /* received data (out): the records new on the
	                      * branch, in the order they were checked */
	size_t nnew_ids;
	const vl_new_id *also_new; /* received data (in, borrowed, sorted by id):
	                      * records other branches of the same receive
	                      * add; a new record reusing one of their ids is
	                      * refused, as one the node holds would be */
	size_t nalso_new;
} vl_verify_result;

/* Order of vl_new_id by id (qsort, bsearch). */
int vl_new_id_cmp(const void *a, const void *b);

/* At most this many verify threads, whatever is asked. */
#define VL_VERIFY_MAX_THREADS 16

/* Author and committer time of a signed commit may differ by this many
 * seconds: none, vledger writes both from one clock (docs/decisions.md). */
#define VL_AUTHOR_TIME_SKEW_S 0

/* Verify everything; failures are counted in res (returns 0 even when
 * there are failures; <0 only when verification itself could not run). */
int vl_verify_all(vl_node *n, vl_verify_result *res) VL_MUST_CHECK;
void vl_verify_result_free(vl_verify_result *res);

/*
 * Verify one scope branch (scope, or the node's own when NULL) — only the
 * commits after `since` (a revision; NULL = all) when given. Seq chains and
 * forks are checked against the history before `since` as for received
 * data; everything else as vl_verify_all. Both NULL = vl_verify_all.
 */
int vl_verify_some(vl_node *n, const char *scope, const char *since, vl_verify_result *res) VL_MUST_CHECK;

/*
 * Verify received history read through view v (a quarantine that sees both
 * the received objects and ours): the commits of `head` that `known` (our
 * head, or NULL) does not reach, on refname, with the checks above plus:
 * commit times and record clocks more than 24 h ahead of this node's wall
 * clock are refused, a record new on its branch whose id the node holds at
 * another path (another ledger or scope branch, or another ledger of the
 * received head) is refused, and a key that signed one of these commits and
 * a different commit with the same Vledger-Seq in `known`'s history is
 * equivocating (the pair goes to res->evidence). Roster and schemas are the
 * node's loaded config (for received config: the received head, loaded with
 * vl_node_load_config_at). Failures are counted in res.
 */
int vl_verify_received(const vl_view *v, vl_node *n, const char *refname, const git_oid *head,
		const git_oid *known, vl_verify_result *res) VL_MUST_CHECK;

/*
 * Verify one commit kept as evidence (not on any branch) read through v, as
 * a commit of scope `scope`: the same signature, roster, scope, path, mode,
 * size, canonical-record, schema and trailer checks as any commit of a
 * scope branch, against its first parent's tree (which must be readable
 * through v), and no clock more than 24 h ahead; only its key chain is not
 * checked (that is what equivocation breaks). Failures are counted in res.
 */
int vl_verify_evidence(const vl_view *v, vl_node *n, const char *scope, const git_oid *commit,
		vl_verify_result *res) VL_MUST_CHECK;

#endif
