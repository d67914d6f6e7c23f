/* ledger.c - records on scope branches (see ledger.h). */
#include "agent/node/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/node/idindex.h"
#include "store/pack.h"
#include "store/i18n.h"
#include "store/repo.h"
#include "schemas/types.h"
#include "store/yaml.h"

void vl_found_free(vl_found *f)
{
	vl_buf_free(&f->path);
	vl_buf_free(&f->raw);
	vl_record_free(f->rec);
	memset(f, 0, sizeof(*f));
}

int vl_ledger_next_version(vl_record **out, const vl_found *f)
{
	vl_record *r = NULL;
	int rc;

	*out = NULL;
	if ((rc = vl_record_new(&r, f->rec->schema, f->rec->id, f->rec->scope)) < 0)
		return rc;
	vl_value_free(r->data);
	r->data = vl_value_clone(f->rec->data);
	r->conflicts = f->rec->conflicts ? vl_value_clone(f->rec->conflicts) : NULL;
	r->deleted = f->rec->deleted;
	r->prev = calloc(1, sizeof(*r->prev));
	if (!r->data || !r->prev || (f->rec->conflicts && !r->conflicts)) {
		vl_record_free(r);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	git_oid_tostr(r->prev[0], VL_OID_HEX + 1, &f->blob);
	r->nprev = 1;
	*out = r;
	return 0;
}

void vl_scope_ref(char out[64], const char *scope)
{
	snprintf(out, 64, "%s%s", VL_REF_SCOPE_PREFIX, scope);
}

int vl_scope_refs_each(git_repository *repo, int (*fn)(const char *code, const git_oid *head, void *ctx),
		void *ctx)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	const size_t plen = strlen(VL_REF_SCOPE_PREFIX);
	int rc;

	if ((rc = git_reference_iterator_glob_new(&it, repo, VL_REF_SCOPE_PREFIX "*")) < 0)
		return vl_error_git(rc, _("cannot list the scope branches"));
	while ((rc = git_reference_next(&ref, it)) == 0) {
		/* the glob only gives names under the prefix */
		if ((rc = fn(git_reference_name(ref) + plen, git_reference_target(ref), ctx)) != 0)
			goto out;
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, _("cannot list the scope branches"));
		goto out;
	}
	rc = 0;
out:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return rc;
}

typedef struct {
	int (*fn)(const char code[13], const git_oid *head, void *ctx);
	void *ctx;
} branches_ctx;

static int branch_only(const char *code, const git_oid *head, void *ctx)
{
	const branches_ctx *b = ctx;
	char c[13];
	int rc;

	/* vl_division_level also checks the length is exactly 12 */
	if (!head || vl_division_level(code) == VL_DIV_INVALID)
		return 0;
	memcpy(c, code, 13);
	rc = b->fn(c, head, b->ctx);
	return rc < 0 ? rc : 0;
}

int vl_scope_branches_each(git_repository *repo, int (*fn)(const char code[13], const git_oid *head, void *ctx),
		void *ctx)
{
	branches_ctx b = { fn, ctx };

	return vl_scope_refs_each(repo, branch_only, &b);
}

typedef struct {
	vl_place *out;
	size_t max, found;
	const vl_node *n;
	git_repository *repo;
	const char *id;
	vl_buf path;
} places_ctx;

/* One scope branch for scan_places: every ledger's path of the id on it. */
static int place_scan(const char *code, const git_oid *head, void *ctx)
{
	places_ctx *p = ctx;
	size_t i;
	int rc;

	if (!head || strlen(code) != 12)
		return 0;
	for (i = 0; i < vl_node_ledger_count(p->n); i++) {
		git_oid blob;
		vl_buf_clear(&p->path);
		if ((rc = vl_record_path(&p->path, vl_node_ledger_name(p->n, i), p->id)) < 0)
			return rc;
		rc = vl_repo_read(NULL, &blob, p->repo, NULL, head, p->path.ptr, VL_RECORD_MAX_BYTES);
		if (rc == VL_ENOTFOUND)
			continue;
		if (rc < 0 && rc != VL_EINVALID && rc != VL_ETOOBIG)
			return rc;
		/* Counted even when it is not a readable record: it is there. */
		if (p->found < p->max) {
			memset(&p->out[p->found], 0, sizeof(p->out[p->found]));
			memcpy(p->out[p->found].scope, code, 13);
			snprintf(p->out[p->found].ledger, sizeof(p->out[p->found].ledger), "%s", vl_node_ledger_name(p->n, i));
			git_oid_cpy(&p->out[p->found].head, head);
		}
		p->found++;
	}
	return 0;
}

/* vl_ledger_places the long way: every ledger of every scope branch. */
static int scan_places(vl_place *out, size_t max, size_t *count, const vl_node *n, git_repository *repo,
		const char *id)
{
	places_ctx p = { out, max, 0, n, repo, id, VL_BUF_INIT };
	int rc;

	if (!vl_ulid_valid(id))
		return vl_error_set(VL_EINVALID, "'%s' is not a record id (26 lowercase ULID characters)", id);
	if ((rc = vl_scope_refs_each(repo, place_scan, &p)) == 0)
		*count = p.found;
	vl_buf_free(&p.path);
	return rc;
}

int vl_ledger_places(vl_place *out, size_t max, size_t *count, vl_node *n, git_repository *repo,
		const char *id)
{
	int rc;

	/* The index describes the node's own repository only. */
	if (repo == n->repo) {
		rc = vl_idindex_places(out, max, count, n, id);
		if (rc == 0 || rc == VL_ENOMEM || rc == VL_EINVALID)
			return rc;
	}
	return scan_places(out, max, count, n, repo, id);
}

int vl_ledger_find(vl_found *out, vl_node *n, const char *id)
{
	vl_place at[2];
	vl_found f;
	size_t count = 0;
	int rc;

	memset(&f, 0, sizeof(f));
	if ((rc = vl_ledger_places(at, 2, &count, n, n->repo, id)) < 0)
		return rc;
	if (count == 0)
		return vl_error_set(VL_ENOTFOUND, "no record '%s' on this node", id);
	if (count > 1)
		/* Record ids are unique on a node (verify refuses a second one):
		 * never pick one of two. */
		return vl_error_set(VL_ECONFLICT, "record id %s is in two places on this node: ledger %s on "
				"scope/%s and ledger %s on scope/%s; nothing was read or written, run "
				"'vledger verify' and ask an admin", id, at[0].ledger, at[0].scope, at[1].ledger,
				at[1].scope);
	vl_scope_ref(f.ref, at[0].scope);
	memcpy(f.scope, at[0].scope, 13);
	git_oid_cpy(&f.head, &at[0].head);
	if ((rc = vl_node_schema_get(&f.schema, n, at[0].ledger)) < 0 ||
			(rc = vl_record_path(&f.path, at[0].ledger, id)) < 0 ||
			(rc = vl_repo_read(&f.raw, &f.blob, n->repo, NULL, &f.head, f.path.ptr, VL_RECORD_MAX_BYTES)) < 0 ||
			(rc = vl_record_parse(&f.rec, f.raw.ptr, f.raw.len, f.path.ptr)) < 0)
		goto out;
	if (strcmp(f.rec->author, VL_AUTHOR_MERGE) != 0 &&
			(rc = vl_record_verify(f.rec, f.raw.ptr, f.raw.len, NULL)) < 0)
		goto out;
	*out = f;
	memset(&f, 0, sizeof(f));
out:
	vl_found_free(&f);
	return rc;
}

int vl_ledger_may_write(const vl_node *n, const char *scope)
{
	const vl_roster_entry *me = vl_node_roster_find(n, n->fp);

	if (vl_division_level(scope) == VL_DIV_INVALID)
		return vl_error_set(VL_EINVALID, "scope '%s' is not a valid 12-digit division code", scope);
	if (!me)
		return vl_error_set(VL_EDENIED, "this node's key %s is not on the roster; "
				"an admin adds it with 'vledger roster add'", n->fp);
	if (me->revoked_at)
		return vl_error_set(VL_EDENIED, "this node's key was revoked at %s", me->revoked_at);
	if (!strcmp(me->role, "auditor"))
		return vl_error_set(VL_EDENIED, "auditor keys read and write nothing");
	if (!vl_division_covers(n->scope, scope) || !vl_division_covers(me->scope, scope))
		return vl_error_set(VL_EDENIED, "scope '%s' lies outside this node's scope '%s'; "
				"a node writes only its own unit and the units below it", scope, n->scope);
	return 0;
}

/*
 * The version a new record replaces must still be the one on the branch:
 * a merge (a fetch running meanwhile) may have moved it since it was read.
 * Writing over it would lose the merge and leave a prev that every peer
 * refuses. A new record's path must still be free.
 */
static int check_still_current(vl_node *n, const git_oid *head, const char *path, const vl_record *r)
{
	char hex[VL_OID_HEX + 1];
	vl_buf raw = VL_BUF_INIT;
	vl_record *cur = NULL;
	vl_hlc seen;
	git_oid blob;
	size_t k;
	int rc, found = 0;

	rc = head ? vl_repo_read(&raw, &blob, n->repo, NULL, head, path, VL_RECORD_MAX_BYTES) : VL_ENOTFOUND;
	if (rc == VL_ENOTFOUND) {
		if (r->nprev == 0)
			return 0;
		return vl_error_set(VL_ECONFLICT, "record %s is no longer on its branch; run the command again", r->id);
	}
	if (rc < 0)
		goto out;
	git_oid_tostr(hex, sizeof(hex), &blob);
	for (k = 0; k < r->nprev; k++)
		found |= !strcmp(r->prev[k], hex);
	if (!found) {
		rc = vl_error_set(VL_ECONFLICT, "record %s changed on its branch while this edit was made "
				"(a fetch or merge ran); nothing was written: run the command again", r->id);
		goto out;
	}
	/* A version's clock is never earlier than the one it replaces (verify
	 * refuses it): the replaced version may come from a node whose clock
	 * runs ahead, so fold its clock into ours before ticking. */
	if (vl_record_parse(&cur, raw.ptr, raw.len, path) == 0 && vl_hlc_parse(&seen, cur->clock) == 0)
		vl_hlc_observe(&n->clock, &seen);
	rc = 0;
out:
	vl_record_free(cur);
	vl_buf_free(&raw);
	return rc;
}

/* The time (ms) of this key's last commit on the branch at head; 0 if none. */
static int chain_time(uint64_t *ms, vl_node *n, const git_oid *head)
{
	git_commit *c = NULL;
	uint64_t seq = 0;
	git_oid prev;
	int rc;

	*ms = 0;
	if ((rc = vl_repo_key_chain(&seq, &prev, n->repo, head, n->fp)) < 0 || seq == 0)
		return rc;
	if ((rc = git_commit_lookup(&c, n->repo, &prev)) < 0)
		return vl_error_git(rc, "cannot read this key's last commit");
	*ms = (uint64_t)git_commit_committer(c)->when.time * 1000;
	git_commit_free(c);
	return 0;
}

/* A commit's records signed and hashed, split over threads (vl_work_split):
 * each record's file and blob id depend on that record and the key only. */
typedef struct {
	vl_record **recs;
	const vl_key *key;
	vl_buf *files;
	git_oid *blobs;
} sign_job;

static int sign_part(void *ctx, size_t from, size_t to)
{
	sign_job *j = ctx;
	size_t i;
	int rc;

	for (i = from; i < to; i++) {
		if ((rc = vl_record_sign(j->recs[i], j->key, &j->files[i])) < 0)
			return rc;
		vl_object_id(&j->blobs[i], GIT_OBJECT_BLOB, j->files[i].ptr, j->files[i].len);
	}
	return 0;
}

/* Records per thread below which a commit signs on one thread. */
#define SIGN_MIN_SPLIT 16

int vl_ledger_commit(git_oid *out, vl_node *n, const char *scope, vl_record **recs, size_t nrecs,
		const char *summary, const char *extra_trailers)
{
	vl_buf *files = NULL, *paths = NULL, trailers = VL_BUF_INIT;
	vl_change *changes = NULL;
	git_oid head, *blobs = NULL;
	sign_job job;
	unsigned threads;
	char ref[64];
	uint64_t last_ms = 0;
	vl_hlc first;
	size_t i;
	int rc, have_head;

	if ((rc = vl_node_check_key(n)) < 0)
		return rc;
	vl_scope_ref(ref, scope);
	rc = vl_repo_head(&head, n->repo, ref);
	if (rc < 0 && rc != VL_ENOTFOUND)
		return rc;
	have_head = rc == 0;
	if (have_head && (rc = chain_time(&last_ms, n, &head)) < 0)
		return rc;
	files = calloc(nrecs ? nrecs : 1, sizeof(*files));
	paths = calloc(nrecs ? nrecs : 1, sizeof(*paths));
	changes = calloc(nrecs ? nrecs : 1, sizeof(*changes));
	blobs = calloc(nrecs ? nrecs : 1, sizeof(*blobs));
	if (!files || !paths || !changes || !blobs) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nrecs; i++) {
		if (strcmp(recs[i]->scope, scope) != 0) {
			rc = vl_error_set(VL_EINVALID, "record %s has scope %s, not %s", recs[i]->id, recs[i]->scope, scope);
			goto out;
		}
		/* One clock save for the whole commit (below), before it is made. */
		vl_node_tick_mem(n, recs[i]->clock);
		if ((rc = vl_record_path(&paths[i], recs[i]->schema, recs[i]->id)) < 0 ||
				(rc = check_still_current(n, have_head ? &head : NULL, paths[i].ptr, recs[i])) < 0)
			goto out;
	}
	/* Every clock is set above, in order; the signing (canonical emit,
	 * SSHSIG, the blob's SHA-1) is the bulk of an import's work and splits
	 * over threads with the same bytes on any number (VLEDGER_THREADS). */
	job.recs = recs;
	job.key = &n->key;
	job.files = files;
	job.blobs = blobs;
	threads = nrecs >= 2 * SIGN_MIN_SPLIT ? vl_work_threads() : 1;
	if ((rc = vl_work_split(nrecs, threads, sign_part, &job)) < 0)
		goto out;
	for (i = 0; i < nrecs; i++) {
		char hex[VL_OID_HEX + 1];
		git_oid_tostr(hex, sizeof(hex), &blobs[i]);
		if ((rc = vl_buf_printf(&trailers, "Vledger-Record: %s %s %s\n", recs[i]->schema, recs[i]->id,
				hex)) < 0)
			goto out;
		changes[i] = (vl_change){ paths[i].ptr, files[i].ptr, files[i].len, &blobs[i] };
	}
	/* Peers refuse writes dated long before this key joined the roster:
	 * say so now, while the user can still fix the laptop's date. */
	if (vl_roster_predates(vl_node_roster_find(n, n->fp), n->clock.ms)) {
		rc = vl_error_set(VL_EDENIED, "this computer's clock says %.10s, more than a day before this "
				"key joined the roster; set the date right and try again", nrecs ? recs[0]->clock : "?");
		goto out;
	}
	/* Time moves forward along a key's chain: verify refuses records
	 * dated before the key's previous commit on the branch (a clock that
	 * lost its file, on a laptop whose date is wrong). */
	if (nrecs && (vl_hlc_parse(&first, recs[0]->clock) < 0 || first.ms < last_ms)) {
		rc = vl_error_set(VL_EDENIED, "this computer's clock says %.10s, before this key's last commit "
				"on this branch; set the date right and try again", recs[0]->clock);
		goto out;
	}
	if ((extra_trailers && (rc = vl_buf_puts(&trailers, extra_trailers)) < 0) ||
			(rc = vl_node_clock_save(n)) < 0)
		goto out;
	rc = vl_node_commit(out, n, ref, have_head ? &head : NULL, changes, nrecs, summary, trailers.ptr);
out:
	for (i = 0; i < nrecs; i++) {
		if (files)
			vl_buf_free(&files[i]);
		if (paths)
			vl_buf_free(&paths[i]);
	}
	free(files);
	free(paths);
	free(changes);
	free(blobs);
	vl_buf_free(&trailers);
	return rc;
}

int vl_ledger_each(vl_node *n, const git_oid *commit, const char *ledger, vl_ledger_cb fn, void *ctx)
{
	git_commit *c = NULL;
	git_tree *root = NULL, *ltree = NULL, *bucket = NULL;
	vl_buf raw = VL_BUF_INIT;
	const git_tree_entry *le;
	vl_buf path = VL_BUF_INIT;
	size_t i, j;
	int rc;

	if ((rc = git_commit_lookup(&c, n->repo, commit)) < 0 || (rc = git_commit_tree(&root, c)) < 0) {
		rc = vl_error_git(rc, "cannot read a branch head");
		goto out;
	}
	le = git_tree_entry_byname(root, ledger);
	if (!le) {
		rc = 0;
		goto out;
	}
	if (git_tree_entry_type(le) != GIT_OBJECT_TREE || (rc = git_tree_lookup(&ltree, n->repo, git_tree_entry_id(le))) < 0) {
		rc = vl_error_set(VL_EINVALID, "'%s' in the branch is not a directory", ledger);
		goto out;
	}
	for (i = 0; i < git_tree_entrycount(ltree); i++) {
		const git_tree_entry *be = git_tree_entry_byindex(ltree, i);
		if (git_tree_entry_type(be) != GIT_OBJECT_TREE) {
			rc = vl_error_set(VL_EINVALID, "'%s/%s' is not a bucket directory", ledger, git_tree_entry_name(be));
			goto out;
		}
		if ((rc = git_tree_lookup(&bucket, n->repo, git_tree_entry_id(be))) < 0) {
			rc = vl_error_git(rc, "cannot read a bucket");
			goto out;
		}
		for (j = 0; j < git_tree_entrycount(bucket); j++) {
			const git_tree_entry *re = git_tree_entry_byindex(bucket, j);
			vl_buf_clear(&path);
			if ((rc = vl_buf_printf(&path, "%s/%s/%s", ledger, git_tree_entry_name(be),
					git_tree_entry_name(re))) < 0)
				goto out;
			if (git_tree_entry_filemode(re) != GIT_FILEMODE_BLOB) {
				rc = vl_error_set(VL_EINVALID, "'%s' is not a regular file", path.ptr);
				goto out;
			}
			vl_buf_clear(&raw);
			if ((rc = vl_repo_read_blob(&raw, n->repo, git_tree_entry_id(re), VL_RECORD_MAX_BYTES,
					path.ptr)) < 0)
				goto out;
			rc = fn(path.ptr, git_tree_entry_id(re), raw.ptr ? raw.ptr : "", raw.len, ctx);
			if (rc < 0)
				goto out;
		}
		git_tree_free(bucket);
		bucket = NULL;
	}
	rc = 0;
out:
	vl_buf_free(&path);
	vl_buf_free(&raw);
	git_tree_free(bucket);
	git_tree_free(ltree);
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}
