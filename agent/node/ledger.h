/*
 * ledger.h - records on scope branches: finding by id, authorising and
 * writing signed changes, walking a ledger. Shared by the record commands
 * and verify.
 */
#ifndef VL_LEDGER_H
#define VL_LEDGER_H

#include "agent/node/node.h"

/* A record found on a branch; everything owned. */
typedef struct {
	char ref[64];          /* refs/heads/scope/<code12> */
	char scope[13];
	git_oid head;          /* branch head it was read from */
	git_oid blob;          /* blob id of the record file */
	vl_buf path;
	vl_buf raw;            /* file bytes */
	vl_record *rec;
	const vl_schema *schema; /* borrowed from the node */
} vl_found;

void vl_found_free(vl_found *f);

/* A new version of f's record to edit: same schema, id and scope, a copy of
 * its data, conflicts and deleted flag, prev = f's blob. Caller frees with
 * vl_record_free; signing happens in vl_ledger_commit. */
int vl_ledger_next_version(vl_record **out, const vl_found *f) VL_MUST_CHECK;

/* "refs/heads/scope/<code>" into out[64]. */
void vl_scope_ref(char out[64], const char *scope);

/*
 * THE loop over the refs under refs/heads/scope/: call fn(code, head, ctx) for every ref
 * there, in ref order, whatever its name: code is the name after the
 * prefix (any length), head its target, NULL for a symbolic ref; both
 * borrowed for the call only. The callers filter (vl_scope_branches_each
 * below: real division codes; the id index: 12 characters). fn < 0 stops
 * the walk and is returned as is (fn sets the error); fn > 0 stops it and is
 * returned (found what it looked for); a failure to list the refs returns
 * vl_error_git's code. 0 when every ref was seen.
 */
int vl_scope_refs_each(git_repository *repo, int (*fn)(const char *code, const git_oid *head, void *ctx),
		void *ctx) VL_MUST_CHECK;

/*
 * Call fn(code, head, ctx) for every scope branch refs/heads/scope/<CODE12>
 * of repo, in ref order; skips symbolic refs and names that are not a
 * division code (vl_division_level). code and head are borrowed for the call
 * only. fn < 0 stops the walk and is returned as is (fn sets the error);
 * a failure to list the refs returns vl_error_git's code. 0 when every
 * branch was seen.
 */
int vl_scope_branches_each(git_repository *repo, int (*fn)(const char code[13], const git_oid *head, void *ctx),
		void *ctx) VL_MUST_CHECK;

/* One place a record id lives: a ledger on a scope branch's head. */
typedef struct {
	char scope[13];
	char ledger[33];
	git_oid head;
} vl_place;

/*
 * Every place record `id` lives on the heads of the scope branches of repo
 * (this node's repository; each ledger with a schema of n): the first `max` go to out, *count gets how
 * many there are. Record ids are unique across ledgers and scope branches
 * (verify refuses a second one), so more than one is an error to report.
 * VL_EINVALID if id is not a ULID. For n->repo the answer comes from the
 * record index (idindex.h: kept up to date with the branches, every place
 * confirmed on its head), else, or when the index cannot answer, from
 * every ledger of every branch.
 */
int vl_ledger_places(vl_place *out, size_t max, size_t *count, vl_node *n, git_repository *repo,
		const char *id) VL_MUST_CHECK;

/*
 * Find record `id` on any scope branch this node holds, load and verify it
 * (canonical form, signature unless merged). VL_ENOTFOUND if there is none;
 * VL_ECONFLICT naming both places when it is in two (never picks one).
 */
int vl_ledger_find(vl_found *out, vl_node *n, const char *id) VL_MUST_CHECK;

/*
 * May this node's key write records of `scope`? Its roster entry must exist,
 * not be revoked, not be an auditor, and cover scope; the node's own scope
 * must cover it too. VL_EDENIED with the reason otherwise.
 */
int vl_ledger_may_write(const vl_node *n, const char *scope) VL_MUST_CHECK;

/*
 * Sign `recs` (their clock is set here from the node clock), commit them in
 * one signed commit on the branch of `scope` with one Vledger-Record trailer
 * each, compare-and-swap from the branch's current head. All records must
 * have that scope. `summary` is the commit's first line.
 */
int vl_ledger_commit(git_oid *out, vl_node *n, const char *scope, vl_record **recs, size_t nrecs,
		const char *summary, const char *extra_trailers) VL_MUST_CHECK;

/* Call fn for each record file of `ledger` on branch head `commit`, in path
 * order; fn returns <0 to stop with that code. raw/blob are borrowed. */
typedef int (*vl_ledger_cb)(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx);
int vl_ledger_each(vl_node *n, const git_oid *commit, const char *ledger, vl_ledger_cb fn, void *ctx) VL_MUST_CHECK;

#endif
