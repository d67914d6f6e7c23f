/* treemerge.c - merging two heads of one scope branch (see treemerge.h). */
#include "agent/sync/treemerge.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>

#include "store/i18n.h"
#include "store/pack.h"
#include "store/repo.h"
#include "store/yaml.h"

/* Depth of a recursive virtual merge-base fold; criss-cross histories
 * nest rarely, and a peer must not make us recurse without end. */
#define MAX_VIRTUAL_DEPTH 16

typedef struct {
	vl_node *n;
	git_repository *repo;    /* where records are read and merged ones written */
	vl_stage *stage;         /* in front of repo's odb: merged records go straight in */
	vl_merge_summary *sum;
	vl_merge_env env;
	git_tree_update *ups;
	char **paths;
	size_t nups, cap;
	struct pending *pend;    /* records both sides changed, merged a batch at a time */
	size_t npend;
	vl_buf raw;              /* a record file as read */
	const vl_view *view;     /* whose objects repo reads, for the reading thread */
	git_repository *wrepo;   /* the reading thread's own repository over them */
	int serial;              /* no reading thread: one processor, VLEDGER_THREADS=1, or it failed */
} mctx;

/*
 * A record both sides changed, waiting to be merged. The walk collects up
 * to PENDING_BATCH of them, then flush_pending reads all their bases, then
 * all x versions, then all y versions, then merges each: one side's records
 * sit in a few packs (those of its commits), so reading them in a row keeps
 * finding them in the pack libgit2 found the last one in, where reading the
 * three versions of each record in turn tried most of the repository's packs
 * for every read (libgit2 formats an error for each pack that misses).
 */
#define PENDING_BATCH 256

/* A batch this large is read and parsed on two threads (each half of the
 * records, all of their versions); smaller ones on the calling thread. */
#define PARALLEL_MIN 64

struct pending {
	char *path, *ledger;
	git_oid id[3];           /* base, x, y */
	int has_base;
	vl_record *rec[3];
};

static void mctx_free(mctx *m)
{
	size_t i;

	for (i = 0; i < m->nups; i++)
		free(m->paths[i]);
	free(m->paths);
	free(m->ups);
	for (i = 0; i < m->npend; i++) {
		free(m->pend[i].path);
		free(m->pend[i].ledger);
		vl_record_free(m->pend[i].rec[0]);
		vl_record_free(m->pend[i].rec[1]);
		vl_record_free(m->pend[i].rec[2]);
	}
	free(m->pend);
	vl_buf_free(&m->raw);
	git_repository_free(m->wrepo);
}

static int push_update(mctx *m, const char *path, const git_oid *blob)
{
	if (m->nups == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		git_tree_update *nu = realloc(m->ups, ncap * sizeof(*nu));
		char **np;
		if (!nu)
			return vl_error_set(VL_ENOMEM, "out of memory");
		m->ups = nu;
		np = realloc(m->paths, ncap * sizeof(*np));
		if (!np)
			return vl_error_set(VL_ENOMEM, "out of memory");
		m->paths = np;
		m->cap = ncap;
	}
	if (!(m->paths[m->nups] = strdup(path)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	memset(&m->ups[m->nups], 0, sizeof(m->ups[m->nups]));
	m->ups[m->nups].path = m->paths[m->nups];
	if (blob) {
		m->ups[m->nups].action = GIT_TREE_UPDATE_UPSERT;
		m->ups[m->nups].filemode = GIT_FILEMODE_BLOB;
		git_oid_cpy(&m->ups[m->nups].id, blob);
	} else {
		m->ups[m->nups].action = GIT_TREE_UPDATE_REMOVE;
	}
	m->nups++;
	return 0;
}

static int same(const git_tree_entry *a, const git_tree_entry *b)
{
	return a && b && git_oid_equal(git_tree_entry_id(a), git_tree_entry_id(b)) &&
			git_tree_entry_filemode(a) == git_tree_entry_filemode(b);
}

/* Merge one pending record whose three versions are loaded. */
static int merge_one(mctx *m, struct pending *p)
{
	const vl_schema *s = vl_node_schema(m->n, p->ledger);
	vl_record *out = NULL;
	vl_buf file = VL_BUF_INIT;
	char hb[41], hx[41], hy[41];
	vl_merge_side sb, sx, sy;
	vl_merge_stats st = { 0, 0, 0 };
	git_oid blob;
	int rc;

	if (!s)
		return vl_error_set(VL_EINVALID, "'%s' belongs to ledger '%s', which has no schema", p->path, p->ledger);
	if (p->has_base)
		git_oid_tostr(hb, sizeof(hb), &p->id[0]);
	git_oid_tostr(hx, sizeof(hx), &p->id[1]);
	git_oid_tostr(hy, sizeof(hy), &p->id[2]);
	sb = (vl_merge_side){ p->rec[0], p->has_base ? hb : NULL };
	sx = (vl_merge_side){ p->rec[1], hx };
	sy = (vl_merge_side){ p->rec[2], hy };
	/* The file comes from the merge's self-check, which emitted and parsed it. */
	file.max = VL_RECORD_MAX_BYTES;
	if ((rc = vl_merge_record_file(&out, &file, s, &sb, &sx, &sy, &m->env, &st, NULL)) < 0) {
		vl_error_wrap(rc, "cannot merge '%s'", p->path);
		goto out;
	}
	/* Into the stage directly: a write through libgit2 looks the new
	 * object up first, which rescans the pack directory on every miss. */
	if ((rc = vl_stage_add(&blob, m->stage, GIT_OBJECT_BLOB, file.ptr, file.len)) < 0) {
		vl_error_wrap(rc, "cannot write a merged record");
		goto out;
	}
	rc = push_update(m, p->path, &blob);
	if (m->sum) {
		m->sum->records_merged++;
		m->sum->conflicts += st.conflicts;
		m->sum->hooks_run += st.hooks_run;
	}
out:
	vl_record_free(out);
	vl_buf_free(&file);
	return rc;
}

/*
 * Try to read and parse the versions of pend[from, to) that are not read
 * yet, all bases, then all x, then all y (see struct pending). A version
 * that fails stays NULL, its error dropped: flush_pending reads it again on
 * the calling thread, which reports the failure as a serial merge would.
 */
static void read_part(git_repository *repo, struct pending *pend, size_t from, size_t to, vl_buf *raw)
{
	size_t i, side;

	for (side = 0; side < 3; side++) {
		for (i = from; i < to; i++) {
			struct pending *p = &pend[i];
			if ((side == 0 && !p->has_base) || p->rec[side])
				continue;
			vl_buf_clear(raw);
			if (vl_repo_read_blob(raw, repo, &p->id[side], VL_RECORD_MAX_BYTES, p->path) < 0 ||
					vl_record_parse(&p->rec[side], raw->ptr, raw->len, p->path) < 0)
				p->rec[side] = NULL;
		}
	}
}

typedef struct {
	git_repository *repo;
	struct pending *pend;
	size_t from, to;
} part;

static void *read_worker(void *arg)
{
	part *t = arg;
	vl_buf raw = VL_BUF_INIT;

	read_part(t->repo, t->pend, t->from, t->to, &raw);
	vl_buf_free(&raw);
	return NULL;
}

/*
 * Is there a reading thread for this merge? Its repository is opened on the
 * first large batch: libgit2 objects are not shared across threads, so it
 * reads the view's objects through an object database of its own (as
 * verify's threads do). Not the merge's in-memory objects: a record only
 * there (a virtual merge base's) misses and is read again by the caller.
 */
static int reader_ready(mctx *m)
{
	const char *env = getenv("VLEDGER_THREADS");
	git_odb *odb = NULL;
	vl_buf objects = VL_BUF_INIT;

	if (m->wrepo)
		return 1;
	if (m->serial || !m->view || (env && !strcmp(env, "1")) || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		m->serial = 1;
		return 0;
	}
	if (vl_buf_printf(&objects, "%s/repo.git/objects", m->n->home) < 0 || git_odb_new(&odb) < 0 ||
			vl_view_add_objects(odb, m->view, objects.ptr) < 0 || git_repository_wrap_odb(&m->wrepo, odb) < 0) {
		m->wrepo = NULL;
		m->serial = 1; /* the merge goes on serially: nothing is lost but time */
	}
	git_odb_free(odb);
	vl_buf_free(&objects);
	return m->wrepo != NULL;
}

/* Read and merge the pending records (see struct pending), then forget them.
 * A large batch is read on two threads first; then whatever is not read yet
 * is read here in the serial order, so a failure is the one, with the
 * message, that a serial merge reports. The merges run here, in order. */
static int flush_pending(mctx *m)
{
	size_t i, side;
	pthread_t th;
	int rc = 0;

	if (m->npend >= PARALLEL_MIN && reader_ready(m)) {
		part t = { m->wrepo, m->pend, m->npend / 2, m->npend };
		if (pthread_create(&th, NULL, read_worker, &t) == 0) {
			read_part(m->repo, m->pend, 0, m->npend / 2, &m->raw);
			pthread_join(th, NULL);
		} else {
			m->serial = 1;
		}
	}
	for (side = 0; side < 3 && rc == 0; side++) {
		for (i = 0; i < m->npend && rc == 0; i++) {
			struct pending *p = &m->pend[i];
			if ((side == 0 && !p->has_base) || p->rec[side])
				continue;
			vl_buf_clear(&m->raw);
			if ((rc = vl_repo_read_blob(&m->raw, m->repo, &p->id[side], VL_RECORD_MAX_BYTES, p->path)) == 0)
				rc = vl_record_parse(&p->rec[side], m->raw.ptr, m->raw.len, p->path);
		}
	}
	for (i = 0; i < m->npend && rc == 0; i++)
		rc = merge_one(m, &m->pend[i]);
	for (i = 0; i < m->npend; i++) {
		free(m->pend[i].path);
		free(m->pend[i].ledger);
		for (side = 0; side < 3; side++)
			vl_record_free(m->pend[i].rec[side]);
	}
	m->npend = 0;
	return rc;
}

/* Both sides changed the record at path: queue it for merging (flush_pending). */
static int merge_file(mctx *m, const char *ledger, const char *path, const git_tree_entry *eb,
		const git_tree_entry *ex, const git_tree_entry *ey)
{
	struct pending *p;
	int rc;

	if (!m->pend && !(m->pend = calloc(PENDING_BATCH, sizeof(*m->pend))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	p = &m->pend[m->npend];
	memset(p, 0, sizeof(*p));
	if (!(p->path = strdup(path)) || !(p->ledger = strdup(ledger))) {
		free(p->path);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	p->has_base = eb != NULL;
	if (eb)
		git_oid_cpy(&p->id[0], git_tree_entry_id(eb));
	git_oid_cpy(&p->id[1], git_tree_entry_id(ex));
	git_oid_cpy(&p->id[2], git_tree_entry_id(ey));
	m->npend++;
	if (m->npend == PENDING_BATCH && (rc = flush_pending(m)) < 0)
		return rc;
	return 0;
}

static int lookup_sub(git_tree **out, git_repository *repo, const git_tree_entry *e)
{
	int rc;

	*out = NULL;
	if (!e)
		return 0;
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE)
		return vl_error_set(VL_EINVALID, "'%s' is not a directory where one is expected",
				git_tree_entry_name(e));
	if ((rc = git_tree_lookup(out, repo, git_tree_entry_id(e))) < 0)
		return vl_error_git(rc, _("cannot read a tree"));
	return 0;
}

static int walk(mctx *m, git_tree *tb, git_tree *tx, git_tree *ty, int depth, const char *prefix,
		const char *ledger);

/* One name present in x and/or y (eb from the base). */
static int visit(mctx *m, const git_tree_entry *eb, const git_tree_entry *ex, const git_tree_entry *ey,
		int depth, const char *prefix, const char *ledger)
{
	const git_tree_entry *any = ex ? ex : ey;
	const char *name = git_tree_entry_name(any);
	git_tree *sb = NULL, *sx = NULL, *sy = NULL;
	vl_buf path = VL_BUF_INIT;
	int rc;

	if (same(ex, ey) || (ex && !ey && !eb) || same(eb, ey) || (!ex && !ey))
		return 0;                     /* equal, or only x changed: x's tree has it */
	if ((rc = vl_buf_printf(&path, "%s%s%s", prefix, *prefix ? "/" : "", name)) < 0)
		return rc;
	if (depth == 2) {
		if ((ex && git_tree_entry_filemode(ex) != GIT_FILEMODE_BLOB) ||
				(ey && git_tree_entry_filemode(ey) != GIT_FILEMODE_BLOB)) {
			rc = vl_error_set(VL_EINVALID, "'%s' is not a regular file", path.ptr);
			goto out;
		}
		if (same(eb, ex) || !ex) {
			/* Only y changed it (or only y has it). */
			rc = push_update(m, path.ptr, ey ? git_tree_entry_id(ey) : NULL);
			if (rc == 0 && m->sum)
				m->sum->records_taken++;
		} else if (!ey) {
			/* y lost a record x changed: records are never removed, keep x's. */
			rc = 0;
		} else {
			rc = merge_file(m, ledger, path.ptr, eb, ex, ey);
		}
		goto out;
	}
	if (!ey) {
		/* y removed a whole directory: only when x did not change it. */
		rc = same(eb, ex) ? push_update(m, path.ptr, NULL) : 0;
		goto out;
	}
	if ((rc = lookup_sub(&sb, m->repo, eb)) < 0 || (rc = lookup_sub(&sx, m->repo, ex)) < 0 ||
			(rc = lookup_sub(&sy, m->repo, ey)) < 0)
		goto out;
	rc = walk(m, sb, sx, sy, depth + 1, path.ptr, depth == 0 ? name : ledger);
out:
	git_tree_free(sb);
	git_tree_free(sx);
	git_tree_free(sy);
	vl_buf_free(&path);
	return rc;
}

static int walk(mctx *m, git_tree *tb, git_tree *tx, git_tree *ty, int depth, const char *prefix,
		const char *ledger)
{
	size_t i;
	int rc;

	for (i = 0; tx && i < git_tree_entrycount(tx); i++) {
		const git_tree_entry *ex = git_tree_entry_byindex(tx, i);
		const char *name = git_tree_entry_name(ex);
		if ((rc = visit(m, tb ? git_tree_entry_byname(tb, name) : NULL, ex,
				ty ? git_tree_entry_byname(ty, name) : NULL, depth, prefix, ledger)) < 0)
			return rc;
	}
	for (i = 0; ty && i < git_tree_entrycount(ty); i++) {
		const git_tree_entry *ey = git_tree_entry_byindex(ty, i);
		const char *name = git_tree_entry_name(ey);
		if (tx && git_tree_entry_byname(tx, name))
			continue;
		if ((rc = visit(m, tb ? git_tree_entry_byname(tb, name) : NULL, NULL, ey, depth, prefix, ledger)) < 0)
			return rc;
	}
	return 0;
}

static int merge_heads(git_oid *out, int *kind, vl_node *n, const vl_view *v, git_repository *repo,
		vl_stage *stage, const char *scope, const git_oid *a, const git_oid *b, vl_merge_summary *summary,
		int depth);

/* The tree to merge against, from the merge bases: none (unrelated
 * histories: an empty base), the one merge base, or a virtual one. */
static int base_tree(git_tree **out, vl_node *n, const vl_view *v, git_repository *repo, vl_stage *stage,
		const char *scope, const git_oidarray *bases, int depth)
{
	git_commit *c = NULL;
	git_oid virt, *sorted = NULL;
	size_t i;
	int rc = 0, kind;

	*out = NULL;
	if (bases->count == 0)
		return 0;
	if (bases->count > 1 && depth >= MAX_VIRTUAL_DEPTH)
		return vl_error_set(VL_ETOOBIG, "criss-cross merge bases nested more than %d deep", MAX_VIRTUAL_DEPTH);
	if (!(sorted = malloc(bases->count * sizeof(*sorted))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	memcpy(sorted, bases->ids, bases->count * sizeof(*sorted));
	/* Fold the bases in id order, so every node builds the same virtual base. */
	for (i = 1; i < bases->count; i++) {
		size_t j = i;
		while (j > 0 && git_oid_cmp(&sorted[j - 1], &sorted[j]) > 0) {
			git_oid t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
			j--;
		}
	}
	git_oid_cpy(&virt, &sorted[0]);
	for (i = 1; i < bases->count; i++)
		if ((rc = merge_heads(&virt, &kind, n, v, repo, stage, scope, &virt, &sorted[i], NULL, depth + 1)) < 0)
			goto out;
	if ((rc = git_commit_lookup(&c, repo, &virt)) < 0 || (rc = git_commit_tree(out, c)) < 0)
		rc = vl_error_git(rc, _("cannot read the merge base"));
out:
	free(sorted);
	git_commit_free(c);
	return rc;
}

static int merge_heads(git_oid *out, int *kind, vl_node *n, const vl_view *v, git_repository *repo,
		vl_stage *stage, const char *scope, const git_oid *a, const git_oid *b, vl_merge_summary *summary,
		int depth)
{
	git_commit *ca = NULL, *cb = NULL;
	git_tree *tb = NULL, *ta = NULL, *tbb = NULL, *merged = NULL;
	git_oidarray bases = { NULL, 0 };
	git_signature *sig = NULL;
	const git_commit *parents[2];
	mctx m;
	vl_buf msg = VL_BUF_INIT, hooks = VL_BUF_INIT;
	git_oid tree_id;
	git_time_t when;
	int rc;

	memset(&m, 0, sizeof(m));
	*kind = 0;
	if (git_oid_equal(a, b)) {
		git_oid_cpy(out, a);
		return 0;
	}
	/* One walk answers all three questions (git_graph_descendant_of is a
	 * merge-base walk of its own): b alone is the merge base when a
	 * descends from it, and the other way round. */
	rc = git_merge_bases(&bases, repo, a, b);
	if (rc == GIT_ENOTFOUND) {
		rc = 0; /* unrelated histories */
	} else if (rc < 0) {
		return vl_error_git(rc, _("cannot find the merge base"));
	} else if (bases.count == 1 && (git_oid_equal(&bases.ids[0], a) || git_oid_equal(&bases.ids[0], b))) {
		git_oid_cpy(out, git_oid_equal(&bases.ids[0], b) ? a : b);
		goto out;
	}
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_buf_printf(&hooks, "%s/hooks", n->home)) < 0)
		goto out;
	m.n = n;
	m.view = v;
	m.repo = repo;
	m.stage = stage;
	m.sum = summary;
	m.env.hooks_dir = hooks.ptr;
	m.env.timeout_ms = VL_HOOK_TIMEOUT_MS;
	/* Parents in id order: the commit must not depend on which head is ours. */
	if (git_oid_cmp(a, b) > 0) {
		const git_oid *t = a;
		a = b;
		b = t;
	}
	if ((rc = git_commit_lookup(&ca, repo, a)) < 0 || (rc = git_commit_lookup(&cb, repo, b)) < 0 ||
			(rc = git_commit_tree(&ta, ca)) < 0 || (rc = git_commit_tree(&tbb, cb)) < 0) {
		rc = vl_error_git(rc, _("cannot read the heads to merge"));
		goto out;
	}
	if ((rc = base_tree(&tb, n, v, repo, stage, scope, &bases, depth)) < 0 || (rc = walk(&m, tb, ta, tbb, 0, "", NULL)) < 0 ||
			(rc = flush_pending(&m)) < 0)
		goto out;
	if ((rc = git_tree_create_updated(&tree_id, repo, ta, m.nups, m.ups)) < 0 ||
			(rc = git_tree_lookup(&merged, repo, &tree_id)) < 0) {
		rc = vl_error_git(rc, _("cannot write the merged tree"));
		goto out;
	}
	when = git_commit_committer(ca)->when.time;
	if (git_commit_committer(cb)->when.time > when)
		when = git_commit_committer(cb)->when.time;
	if ((rc = vl_buf_printf(&msg, "merge scope/%s\n", scope)) < 0)
		goto out;
	if ((rc = git_signature_new(&sig, VL_MERGE_NAME, VL_MERGE_EMAIL, when, 0)) < 0) {
		rc = vl_error_git(rc, _("cannot make the merge signature"));
		goto out;
	}
	parents[0] = ca;
	parents[1] = cb;
	if ((rc = git_commit_create(out, repo, NULL, sig, sig, NULL, msg.ptr, merged, 2, parents)) < 0) {
		rc = vl_error_git(rc, _("cannot write the merge commit"));
		goto out;
	}
	*kind = 1;
	rc = 0;
out:
	git_oidarray_dispose(&bases);
	mctx_free(&m);
	git_signature_free(sig);
	git_tree_free(merged);
	git_tree_free(tb);
	git_tree_free(ta);
	git_tree_free(tbb);
	git_commit_free(ca);
	git_commit_free(cb);
	vl_buf_free(&msg);
	vl_buf_free(&hooks);
	return rc;
}

/*
 * A merge writes its records, trees and commit (and any virtual bases) into
 * an in-memory object store layered over the node's objects, so that a
 * replay writes nothing and a kept merge lands as one pack (one fsync)
 * instead of thousands of loose objects (bench/README.md has the figures).
 */
typedef struct {
	git_repository *repo;    /* the overlay */
	vl_stage *mem;           /* in front of the overlay's odb (store/pack.h) */
	git_repository *home;    /* the node's repository, where a kept merge goes */
	vl_buf home_objects;     /* its objects directory */
} overlay;

/* An in-memory object store over the view's objects: the node's, and the
 * quarantine's when the view has one. */
static int overlay_open(overlay *o, vl_node *n, const vl_view *v)
{
	git_odb *odb = NULL;
	vl_buf objects = VL_BUF_INIT;
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = vl_buf_printf(&objects, "%s/repo.git/objects", n->home)) < 0 ||
			(rc = vl_buf_puts(&o->home_objects, objects.ptr)) < 0)
		goto out;
	if ((rc = git_odb_new(&odb)) < 0) {
		rc = vl_error_git(rc, _("cannot set up the merge's object store"));
		goto out;
	}
	if ((rc = vl_stage_open_odb(&o->mem, odb, NULL)) < 0)
		goto out;
	/* Stored, not deflated: deflating each merged record (zlib's fastest
	 * level, a fresh Huffman table per small object) was ~11% of a merge's
	 * instructions and shrinks the merge's pack by only a fifth (1,000
	 * records: 817 KB stored, 651 KB deflated; bench/README.md, "The merge
	 * bench"). Trees the pack writer stores anyway. */
	if ((rc = vl_stage_set_level(o->mem, 0)) < 0)
		goto out;
	if ((rc = vl_view_add_objects(odb, v, objects.ptr)) < 0)
		goto out;
	if ((rc = git_repository_wrap_odb(&o->repo, odb)) < 0) {
		rc = vl_error_git(rc, _("cannot set up the merge's object store"));
		goto out;
	}
	o->home = n->repo;
out:
	if (rc < 0) {
		vl_stage_close(o->mem);
		o->mem = NULL;
		vl_buf_free(&o->home_objects);
	}
	git_odb_free(odb);
	vl_buf_free(&objects);
	return rc;
}

/* Write what the overlay holds into the node's repository as one pack,
 * durable (fsynced with its directory) before the caller moves a ref. */
static int overlay_keep(overlay *o)
{
	git_odb *odb = NULL;
	int rc;

	if ((rc = vl_stage_flush(NULL, o->mem, o->home_objects.ptr, 1)) < 0)
		return vl_error_wrap(rc, "cannot store the merge");
	/* The home repository's pack list, so that it reads the new pack. */
	if ((rc = git_repository_odb(&odb, o->home)) < 0 || (rc = git_odb_refresh(odb)) < 0)
		rc = vl_error_git(rc, _("cannot read the stored merge"));
	git_odb_free(odb);
	return rc;
}

static void overlay_close(overlay *o)
{
	vl_stage_close(o->mem);
	git_repository_free(o->repo);
	vl_buf_free(&o->home_objects);
	memset(o, 0, sizeof(*o));
}

int vl_merge_heads(git_oid *out, int *kind, vl_node *n, const char *scope, const git_oid *a,
		const git_oid *b, vl_merge_summary *summary)
{
	const vl_view home = VL_VIEW_OF(n);
	overlay o;
	int rc;

	if (summary)
		memset(summary, 0, sizeof(*summary));
	if ((rc = overlay_open(&o, n, &home)) < 0)
		return rc;
	rc = merge_heads(out, kind, n, &home, o.repo, o.mem, scope, a, b, summary, 0);
	if (rc == 0 && *kind)
		rc = overlay_keep(&o);
	overlay_close(&o);
	return rc;
}

int vl_merge_replay(const vl_view *v, vl_node *n, const char *scope, const git_oid *commit)
{
	overlay o;
	git_commit *c = NULL;
	git_oid expect;
	char have[GIT_OID_HEXSZ + 1];
	int rc, kind;

	memset(&o, 0, sizeof(o));
	if ((rc = git_commit_lookup(&c, v->repo, commit)) < 0)
		return vl_error_git(rc, _("cannot read a merge commit"));
	if (git_commit_parentcount(c) != 2) {
		rc = vl_error_set(VL_EBADSIG, "a merge commit has exactly two parents, this one %u",
				git_commit_parentcount(c));
		goto out;
	}
	/* Replayed in memory only: nothing is written. */
	if ((rc = overlay_open(&o, n, v)) < 0)
		goto out;
	if ((rc = merge_heads(&expect, &kind, n, v, o.repo, o.mem, scope, git_commit_parent_id(c, 0),
			git_commit_parent_id(c, 1), NULL, 0)) < 0)
		goto out;
	git_oid_tostr(have, sizeof(have), commit);
	if (!kind) {
		rc = vl_error_set(VL_EBADSIG, "merge commit %.12s joins two heads of which one contains the "
				"other; vledger fast-forwards there and never writes such a merge", have);
	} else if (!git_oid_equal(&expect, commit)) {
		git_commit *e = NULL;
		if (git_commit_lookup(&e, o.repo, &expect) == 0 &&
				!git_oid_equal(git_commit_tree_id(e), git_commit_tree_id(c)))
			rc = vl_error_set(VL_EBADSIG, "merge commit %.12s differs from its replay %.12s in its tree "
					"(the merged records)", have, git_oid_tostr_s(&expect));
		else
			rc = vl_error_set(VL_EBADSIG, "merge commit %.12s differs from its replay %.12s in its metadata "
					"(author, time, message or parent order)", have, git_oid_tostr_s(&expect));
		git_commit_free(e);
	}
out:
	git_commit_free(c);
	overlay_close(&o);
	return rc;
}
