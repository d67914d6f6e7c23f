/*
 * bench_merge.c - `vl_bench merge`: vledger's merge of two heads
 * (vl_merge_heads) against the stock git CLI merging the same two commits
 * with an external merge driver (bench/merge-driver.sh, one process per file
 * both sides changed), in one run; then a check that both give the same
 * record values.
 *
 * Setup (not timed), under <work>/merge: the network of bench.c plus a
 * second village key (home tmpl/village-b, on the roster with the village's
 * scope); the village imports c->records residents in process (500 per
 * commit, as `vledger import`); from that base, side A (the village key)
 * gives c->changed records a new `phone` (lww) and side B (the second key)
 * adds a vulnerable-group flag to `tags` (union) of the same records, each
 * side c->batch records per signed commit through vl_ledger_commit. Side
 * B's home shares side A's repository (its repo.git is a symlink), so both
 * sides end up as loose objects of one repository, as the product writes
 * them; git works on local clones of it (hardlinks: the same loose objects,
 * the same page cache).
 *
 * What is timed, and what the check compares: bench/README.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/mempack.h>

#include "bench.h"
#include "agent/node/ledger.h"
#include "agent/node/node.h"
#include "store/repo.h"
#include "agent/sync/treemerge.h"
#include "store/yaml.h"

#define REF_A "refs/heads/bench/a"
#define REF_B "refs/heads/bench/b"
#define MAX_REPS 16

/* One record that both sides change. */
typedef struct {
	char path[64];      /* resident/<b>/<id>.yaml */
	vl_record *base;    /* the base version, parsed */
	git_oid blob;       /* its blob id */
	vl_value *expect;   /* base data + A's phone + B's tags: what the merge must give */
} changed_rec;

static void changed_free(changed_rec *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		vl_record_free(v[i].base);
		vl_value_free(v[i].expect);
	}
	free(v);
}

/* ---- setup ---- */

/* A second village key on the roster, and the village's config updated. */
static int setup_second_key(const vlb_config *c, char *bhome, size_t cap)
{
	char county[600], netfile[600], repo[700], name[200];
	vl_buf key = VL_BUF_INIT;
	char *nl;
	int rc;

	if ((rc = vlb_pathf(county, sizeof(county), c->work, "tmpl/county")) < 0 ||
			(rc = vlb_pathf(netfile, sizeof(netfile), c->work, "tmpl/network.yaml")) < 0 ||
			(rc = vlb_pathf(bhome, cap, c->work, "tmpl/village-b")) < 0)
		return rc;
	snprintf(repo, sizeof(repo), "%s/repo.git", county);
	snprintf(name, sizeof(name), "%s网格员终端", c->village.short_name);
	{
		char *a1[] = { (char *)c->vledger, "-C", bhome, "init", "--name", name, "--role", "village",
			"--scope", (char *)c->village.code, "--network", netfile, NULL };
		char *a2[] = { (char *)c->vledger, "-C", bhome, "key", NULL };
		if ((rc = vlb_run_proc(NULL, NULL, a1)) < 0 || (rc = vlb_run_proc(NULL, &key, a2)) < 0)
			goto out;
	}
	if (!key.ptr || !(nl = memchr(key.ptr, '\n', key.len))) {
		rc = vl_error_set(VL_EINVALID, "'vledger key' printed no key line");
		goto out;
	}
	*nl = '\0';
	{
		char *a3[] = { (char *)c->vledger, "-C", county, "roster", "add", "--name", name, "--role",
			"village", "--scope", (char *)c->village.code, "--key", key.ptr, NULL };
		char *a4[] = { (char *)c->vledger, "-C", (char *)c->tmpl, "fetch", repo, NULL };
		if ((rc = vlb_run_proc(NULL, NULL, a3)) < 0 || (rc = vlb_run_proc(NULL, NULL, a4)) < 0)
			goto out;
	}
out:
	vl_buf_free(&key);
	return rc;
}

/* Every stride-th record of the base, up to want. */
typedef struct {
	changed_rec *v;
	size_t n, want, stride, seen;
} pick_ctx;

static int pick_one(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	pick_ctx *p = ctx;
	changed_rec *r;
	int rc;

	if (p->seen++ % p->stride != 0 || p->n == p->want)
		return 0;
	r = &p->v[p->n];
	if ((size_t)snprintf(r->path, sizeof(r->path), "%s", path) >= sizeof(r->path))
		return vl_error_set(VL_EINVALID, "unexpected record path '%s'", path);
	if ((rc = vl_record_parse(&r->base, raw, len, path)) < 0)
		return rc;
	git_oid_cpy(&r->blob, blob);
	if (!(r->expect = vl_value_clone(r->base->data)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	p->n++;
	return 0;
}

/*
 * The edit of one side on data: side 0 (A) a new mobile number, side 1 (B)
 * one more flag in `tags` (the first of a fixed list the record lacks).
 */
static int edit_data(const vl_schema *s, vl_value *data, size_t i, int side)
{
	static const char *const flags[] = { "special_disease", "disabled", "elderly_alone",
		"child_in_difficulty", "pregnant" };
	const vl_value *tags;
	vl_buf t = VL_BUF_INIT;
	char phone[16];
	size_t k, j;
	int rc = 0;

	if (side == 0) {
		snprintf(phone, sizeof(phone), "139%08zu", i % 100000000u);
		return vl_schema_set_text(s, data, "phone", phone);
	}
	tags = vl_value_map_get(data, "tags");
	for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
		int have = 0;
		for (j = 0; tags && tags->kind == VL_V_LIST && j < tags->n; j++)
			have |= !strcmp(vl_value_text(tags->items[j]) ? vl_value_text(tags->items[j]) : "", flags[k]);
		if (!have)
			break;
	}
	if (k == sizeof(flags) / sizeof(flags[0]))
		return vl_error_set(VL_EINVALID, "a record already has every flag");
	for (j = 0; rc == 0 && tags && tags->kind == VL_V_LIST && j < tags->n; j++)
		rc = vl_buf_printf(&t, "%s,", vl_value_text(tags->items[j]));
	if (rc == 0)
		rc = vl_buf_puts(&t, flags[k]);
	if (rc == 0)
		rc = vl_schema_set_text(s, data, "tags", t.ptr);
	vl_buf_free(&t);
	return rc;
}

/*
 * One side's edits of recs, signed by the key of the node at home, batch
 * records per commit from base; then ref (bench/a or bench/b) = the side's
 * head and the scope branch back at base. The edit is also applied to each
 * record's expected data.
 */
static int make_side(git_oid *head, const vlb_config *c, const char *home, changed_rec *recs, size_t n,
		int side, const git_oid *base)
{
	vl_node *nd = NULL;
	vl_record **batch = NULL;
	vl_buf summary = VL_BUF_INIT, diag = VL_BUF_INIT;
	git_reference *ref = NULL;
	const vl_schema *s;
	char scope_ref[64];
	size_t done, k, j;
	int rc;

	vl_scope_ref(scope_ref, c->village.code);
	if ((rc = vl_node_open(&nd, home, 1, NULL)) < 0 || (rc = vl_node_load_config(nd)) < 0 ||
			(rc = vl_ledger_may_write(nd, c->village.code)) < 0)
		goto out;
	if (!(s = vl_node_schema(nd, "resident"))) {
		rc = vl_error_set(VL_ENOTFOUND, "the config has no resident schema");
		goto out;
	}
	if (!(batch = calloc(c->batch, sizeof(*batch)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (done = 0; done < n; done += k) {
		k = n - done < c->batch ? n - done : c->batch;
		for (j = 0; j < k; j++) {
			changed_rec *cr = &recs[done + j];
			vl_record *r = NULL;
			if ((rc = vl_record_new(&r, cr->base->schema, cr->base->id, cr->base->scope)) < 0)
				goto out;
			batch[j] = r;
			vl_value_free(r->data);
			r->data = vl_value_clone(cr->base->data);
			r->prev = calloc(1, sizeof(*r->prev));
			if (!r->data || !r->prev) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			git_oid_tostr(r->prev[0], VL_OID_HEX + 1, &cr->blob);
			r->nprev = 1;
			vl_buf_clear(&diag);
			if ((rc = edit_data(s, r->data, done + j, side)) < 0 ||
					(rc = edit_data(s, cr->expect, done + j, side)) < 0)
				goto out;
			if ((rc = vl_schema_validate(s, r->data, 0, &diag)) < 0) {
				vl_error_set(rc, "side %c edit of %s: %s", 'A' + side, r->id, diag.ptr ? diag.ptr : "");
				goto out;
			}
		}
		vl_buf_clear(&summary);
		if ((rc = vl_buf_printf(&summary, "bench side %c: edit %zu resident records (%zu-%zu of %zu)",
				'A' + side, k, done + 1, done + k, n)) < 0 ||
				(rc = vl_ledger_commit(head, nd, c->village.code, batch, k, summary.ptr, NULL)) < 0)
			goto out;
		for (j = 0; j < k; j++) {
			vl_record_free(batch[j]);
			batch[j] = NULL;
		}
	}
	if ((rc = git_reference_create(&ref, nd->repo, side ? REF_B : REF_A, head, 1, "bench")) < 0) {
		rc = vl_error_git(rc, "cannot set the side's ref");
		goto out;
	}
	git_reference_free(ref);
	ref = NULL;
	if ((rc = git_reference_create(&ref, nd->repo, scope_ref, base, 1, "bench: back to the base")) < 0) {
		rc = vl_error_git(rc, "cannot reset the scope branch");
		goto out;
	}
	rc = 0;
out:
	for (j = 0; batch && j < c->batch; j++)
		vl_record_free(batch[j]);
	free(batch);
	git_reference_free(ref);
	vl_buf_free(&summary);
	vl_buf_free(&diag);
	vl_node_close(nd);
	return rc;
}

/* ---- the measurements ---- */

/* sync(1) before a timed step: the dirty pages of the copy or clone just
 * made are not the measured step's to write back. */
static int write_back(void)
{
	char *argv[] = { "/bin/sync", NULL };

	return vlb_run_proc(NULL, NULL, argv);
}

/*
 * vl_merge_heads with every object it writes queued in a libgit2 mempack
 * backend and written as one pack (git_odb_write_pack: pack, index and
 * their directory fsynced once) instead of ~1 loose object per merged
 * record, each fsynced with its directory. Not the product: a prototype of
 * the fix this bench suggests (bench/README.md), measured beside it.
 */
static int merge_via_pack(git_oid *out, int *kind, vl_node *n, const char *scope, const git_oid *a,
		const git_oid *b, vl_merge_summary *sum)
{
	git_odb *odb = NULL;
	git_odb_backend *mp = NULL;
	git_odb_writepack *wp = NULL;
	git_buf pack = GIT_BUF_INIT;
	git_indexer_progress stats;
	int rc;

	if ((rc = git_repository_odb(&odb, n->repo)) < 0 || (rc = git_mempack_new(&mp)) < 0) {
		rc = vl_error_git(rc, "cannot make an in-memory object store");
		goto out;
	}
	if ((rc = git_odb_add_backend(odb, mp, 999)) < 0) {
		rc = vl_error_git(rc, "cannot add an in-memory object store");
		goto out;
	}
	/* The odb owns mp now; it lives until the repository is closed. */
	if ((rc = vl_merge_heads(out, kind, n, scope, a, b, sum)) < 0)
		goto out;
	if ((rc = git_mempack_dump(&pack, n->repo, mp)) < 0 ||
			(rc = git_odb_write_pack(&wp, odb, NULL, NULL)) < 0 ||
			(rc = wp->append(wp, pack.ptr, pack.size, &stats)) < 0 || (rc = wp->commit(wp, &stats)) < 0 ||
			(rc = git_mempack_reset(mp)) < 0) {
		rc = vl_error_git(rc, "cannot write the merge's objects as a pack");
		goto out;
	}
out:
	if (wp)
		wp->free(wp);
	git_buf_dispose(&pack);
	git_odb_free(odb);
	return rc;
}

/* How a cold merge writes: the product with fsync on or off, or through one pack. */
enum { COLD_FSYNC, COLD_NOFSYNC, COLD_PACK };

/*
 * vledger, cold: a fresh copy of the village home (not timed), then node
 * open + config load (*open_s) and vl_merge_heads (*merge_s), written as
 * `how` says. *out = the merge commit; home (cap) = the copy, left for the
 * check.
 */
static int vledger_cold(double *open_s, double *merge_s, git_oid *out, char *home, size_t cap,
		const vlb_config *c, const char *src, const char *tag, const git_oid *a, const git_oid *b,
		int how)
{
	vl_node *n = NULL;
	vl_merge_summary sum;
	double t0, t1;
	int rc, kind = 0;

	if ((size_t)snprintf(home, cap, "%s/merge/%s", c->work, tag) >= cap)
		return vl_error_set(VL_ETOOBIG, "path too long");
	if ((rc = vlb_copy_tree(src, home)) < 0)
		return rc;
	if ((rc = write_back()) < 0)
		return rc;
	vlb_set_fsync(how != COLD_NOFSYNC);
	t0 = vlb_now();
	if ((rc = vl_node_open(&n, home, 0, NULL)) < 0 || (rc = vl_node_load_config(n)) < 0)
		goto out;
	t1 = vlb_now();
	if ((rc = how == COLD_PACK ? merge_via_pack(out, &kind, n, c->village.code, a, b, &sum)
				   : vl_merge_heads(out, &kind, n, c->village.code, a, b, &sum)) < 0)
		goto out;
	*merge_s = vlb_now() - t1;
	*open_s = t1 - t0;
	if (kind != 1 || sum.records_merged != c->changed || sum.records_taken != 0 || sum.conflicts != 0)
		rc = vl_error_set(VL_ERROR, "vl_merge_heads: kind %d, %zu records merged, %zu taken, %zu conflicts; "
				"expected a merge of %zu records and nothing else", kind, sum.records_merged,
				sum.records_taken, sum.conflicts, c->changed);
out:
	vlb_set_fsync(1);
	vl_node_close(n);
	return rc;
}

/* vledger, warm: vl_merge_heads again on one open node (its objects exist). */
static int vledger_warm(double *t, size_t reps, const vlb_config *c, const char *home, const git_oid *a,
		const git_oid *b, const git_oid *expect)
{
	vl_node *n = NULL;
	git_oid out;
	size_t rep;
	double t0;
	int rc, kind;

	if ((rc = vl_node_open(&n, home, 0, NULL)) < 0 || (rc = vl_node_load_config(n)) < 0 ||
			(rc = vl_merge_heads(&out, &kind, n, c->village.code, a, b, NULL)) < 0)
		goto out;
	for (rep = 0; rep < reps; rep++) {
		t0 = vlb_now();
		if ((rc = vl_merge_heads(&out, &kind, n, c->village.code, a, b, NULL)) < 0)
			goto out;
		t[rep] = vlb_now() - t0;
		if (!git_oid_equal(&out, expect)) {
			rc = vl_error_set(VL_ERROR, "a warm merge gave another commit than the cold one");
			goto out;
		}
	}
out:
	vl_node_close(n);
	return rc;
}

/* git -C dir args... (args NULL-terminated); stdout into out when not NULL. */
static int git_run(double *secs, vl_buf *out, const vlb_config *c, const char *dir, const char *const *args)
{
	char *argv[24];
	size_t k = 0;

	argv[k++] = (char *)c->git;
	if (dir) {
		argv[k++] = "-C";
		argv[k++] = (char *)dir;
	}
	for (; *args && k < 23; args++)
		argv[k++] = (char *)*args;
	argv[k] = NULL;
	return vlb_run_proc(secs, out, argv);
}

/* The merge driver and its attributes in a clone (gitdir = its git directory). */
static int git_setup_clone(const vlb_config *c, const char *dir, const char *gitdir, int worktree)
{
	char drv[1200], attr[1200];
	const char *a1[] = { "config", "merge.vledger.name", "vledger record fields (bench stand-in)", NULL };
	const char *a2[] = { "config", "merge.vledger.driver", drv, NULL };
	const char *a3[] = { "config", "gc.auto", "0", NULL };
	const char *a4[] = { "config", "user.name", "bench", NULL };
	const char *a5[] = { "config", "user.email", "bench@vledger", NULL };
	int rc;

	snprintf(drv, sizeof(drv), "sh %s %%O %%A %%B", c->driver);
	if ((rc = git_run(NULL, NULL, c, dir, a1)) < 0 || (rc = git_run(NULL, NULL, c, dir, a2)) < 0 ||
			(rc = git_run(NULL, NULL, c, dir, a3)) < 0 ||
			(worktree && ((rc = git_run(NULL, NULL, c, dir, a4)) < 0 ||
				(rc = git_run(NULL, NULL, c, dir, a5)) < 0)))
		return rc;
	/* A bare repository has no work tree .gitattributes; info/attributes
	 * applies to both kinds, and the scope tree must hold only records. */
	snprintf(attr, sizeof(attr), "%s/info", gitdir);
	if (mkdir(attr, 0755) < 0 && errno != EEXIST)
		return vl_error_set(VL_ERROR, "cannot create '%s': %s", attr, strerror(errno));
	snprintf(attr, sizeof(attr), "%s/info/attributes", gitdir);
	return vl_buf_write_file(attr, "*.yaml merge=vledger\n", 21, 0644);
}

/* First line of out as a tree id. */
static int parse_oid_line(git_oid *id, const vl_buf *out, const char *what)
{
	char hex[GIT_OID_HEXSZ + 1];

	if (!out->ptr || out->len < GIT_OID_HEXSZ)
		return vl_error_set(VL_EINVALID, "%s printed no object id", what);
	memcpy(hex, out->ptr, GIT_OID_HEXSZ);
	hex[GIT_OID_HEXSZ] = '\0';
	if (git_oid_fromstr(id, hex) < 0)
		return vl_error_set(VL_EINVALID, "%s printed '%s', not an object id", what, hex);
	return 0;
}

/* ---- the check ---- */

typedef struct {
	git_repository *rv, *rg;  /* vledger's and git's repositories */
	git_tree *tg;             /* git's merged tree */
	size_t records;           /* record files in vledger's tree */
	size_t same_blob;         /* byte-identical in git's tree */
	size_t same_data;         /* other bytes, same data (and no deleted/conflicts) */
	size_t differ, missing, unparsable;
	int err;                  /* the error that stopped the walk */
	char first[400];          /* the first difference, for the report */
} cmp_ctx;

static int read_record(vl_record **out, git_repository *repo, const git_oid *id, const char *path)
{
	git_blob *b = NULL;
	int rc;

	*out = NULL;
	if ((rc = git_blob_lookup(&b, repo, id)) < 0)
		return vl_error_git(rc, "cannot read a record blob");
	rc = vl_record_parse(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), path);
	git_blob_free(b);
	return rc;
}

static void note_first(cmp_ctx *x, const char *path, const char *what)
{
	if (!x->first[0])
		snprintf(x->first, sizeof(x->first), "%s: %s", path, what);
}

static int cmp_entry(const char *root, const git_tree_entry *e, void *payload)
{
	cmp_ctx *x = payload;
	git_tree_entry *ge = NULL;
	vl_record *rv = NULL, *rg = NULL;
	char path[256];
	int rc;

	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return 0;
	snprintf(path, sizeof(path), "%s%s", root, git_tree_entry_name(e));
	x->records++;
	if (git_tree_entry_bypath(&ge, x->tg, path) < 0) {
		x->missing++;
		note_first(x, path, "absent from git's tree");
		return 0;
	}
	if (git_oid_equal(git_tree_entry_id(e), git_tree_entry_id(ge))) {
		x->same_blob++;
		git_tree_entry_free(ge);
		return 0;
	}
	if ((rc = read_record(&rv, x->rv, git_tree_entry_id(e), path)) < 0) {
		x->err = rc;
		rc = GIT_EUSER;
		goto out;
	}
	if (read_record(&rg, x->rg, git_tree_entry_id(ge), path) < 0) {
		x->unparsable++;
		note_first(x, path, vl_error_last());
	} else if (vl_value_equal(rv->data, rg->data) && rv->deleted == rg->deleted &&
			!rv->conflicts && !rg->conflicts) {
		x->same_data++;
	} else {
		x->differ++;
		note_first(x, path, "data differ");
	}
	rc = 0;
out:
	vl_record_free(rv);
	vl_record_free(rg);
	git_tree_entry_free(ge);
	return rc;
}

static int count_blob(const char *root, const git_tree_entry *e, void *payload)
{
	(void)root;
	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB)
		(*(size_t *)payload)++;
	return 0;
}

/*
 * Compare vledger's merged tree vtree (in rv) with git's gtree (in the git
 * repository at gitdir): every record of vledger's tree must be in git's,
 * byte-identical or with equal data; git's must hold no other file.
 */
static int compare_trees(cmp_ctx *x, git_repository *rv, const git_oid *vtree, const char *gitdir,
		const git_oid *gtree)
{
	git_tree *tv = NULL;
	size_t gcount = 0;
	int rc;

	memset(x, 0, sizeof(*x));
	x->rv = rv;
	if ((rc = git_repository_open_bare(&x->rg, gitdir)) < 0 || (rc = git_tree_lookup(&x->tg, x->rg, gtree)) < 0 ||
			(rc = git_tree_lookup(&tv, rv, vtree)) < 0) {
		rc = vl_error_git(rc, "cannot open a merged tree");
		goto out;
	}
	if ((rc = git_tree_walk(tv, GIT_TREEWALK_PRE, cmp_entry, x)) < 0 ||
			(rc = git_tree_walk(x->tg, GIT_TREEWALK_PRE, count_blob, &gcount)) < 0) {
		rc = x->err ? x->err : vl_error_git(rc, "cannot walk a merged tree");
		goto out;
	}
	if (gcount != x->records) {
		x->differ += gcount > x->records ? gcount - x->records : 0;
		note_first(x, "(tree)", "git's tree holds files vledger's does not");
	}
out:
	git_tree_free(tv);
	git_tree_free(x->tg);
	git_repository_free(x->rg);
	x->tg = NULL;
	x->rg = NULL;
	return rc;
}

/* Each changed record in vledger's tree has exactly the expected data. */
static int check_expected(size_t *ok, git_repository *repo, const git_oid *tree_id, const changed_rec *recs,
		size_t n)
{
	git_tree *t = NULL;
	size_t i;
	int rc = 0;

	*ok = 0;
	if ((rc = git_tree_lookup(&t, repo, tree_id)) < 0)
		return vl_error_git(rc, "cannot read vledger's merged tree");
	for (i = 0; i < n; i++) {
		git_tree_entry *e = NULL;
		vl_record *r = NULL;
		if (git_tree_entry_bypath(&e, t, recs[i].path) == 0 &&
				read_record(&r, repo, git_tree_entry_id(e), recs[i].path) == 0 &&
				vl_value_equal(r->data, recs[i].expect) && !r->conflicts && r->nprev == 2 &&
				!strcmp(r->author, VL_AUTHOR_MERGE))
			(*ok)++;
		vl_record_free(r);
		git_tree_entry_free(e);
	}
	git_tree_free(t);
	return rc;
}

/* ---- the mode ---- */

static double med(double *v, size_t n)
{
	double copy[MAX_REPS];

	memcpy(copy, v, n * sizeof(*v));
	return vlb_median(copy, (int)n);
}

int vlb_bench_merge(vlb_config *c)
{
	char bhome_tmpl[600], home[700], bhome[700], repo[800], dir[800], gitdir[800], cold_home[800];
	char scope_ref[64], hex[GIT_OID_HEXSZ + 1];
	changed_rec *recs = NULL;
	pick_ctx pick;
	vlb_import_stats st;
	git_oid base, head_a, head_b, merged, m, tree_v, tree_mt, tree_gm;
	git_repository *rv = NULL;
	git_reference *ref = NULL;
	git_commit *mc = NULL;
	vl_node *nd = NULL;
	vl_buf out = VL_BUF_INIT;
	static const char *const cold_name[] = { "fsync", "nofsync", "pack" };
	double t_open[3][MAX_REPS], t_merge[3][MAX_REPS], t_cold[3][MAX_REPS];
	double t_warm[MAX_REPS], t_mt[MAX_REPS], t_gm[MAX_REPS];
	double t0 = vlb_now(), v_on, v_off, v_pack, v_warm, g_mt, g_gm;
	size_t reps = c->reps < MAX_REPS ? c->reps : MAX_REPS, rep, expect_ok = 0;
	cmp_ctx cmp_mt, cmp_gm;
	int rc, how;

	memset(&pick, 0, sizeof(pick));
	if (c->changed > c->records)
		return vl_error_set(VL_EINVALID, "--changed %zu is more than --records %zu", c->changed, c->records);
	/* Stock git, with no user or system configuration in the way. */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");

	/* -- setup: network, a second key, the base import -- */
	if ((rc = vlb_setup_network(c)) < 0 || (rc = setup_second_key(c, bhome_tmpl, sizeof(bhome_tmpl))) < 0)
		goto out;
	snprintf(dir, sizeof(dir), "%s/merge", c->work);
	snprintf(home, sizeof(home), "%s/merge/village", c->work);
	snprintf(bhome, sizeof(bhome), "%s/merge/village-b", c->work);
	snprintf(repo, sizeof(repo), "%s/repo.git", home);
	if (mkdir(dir, 0700) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot create '%s': %s", dir, strerror(errno));
		goto out;
	}
	if ((rc = vlb_copy_tree(c->tmpl, home)) < 0 ||
			(rc = vlb_import_inproc(&st, c, home, c->records, 500, 0, 0)) < 0)
		goto out;
	/* Side B's home: its own key and clock, side A's repository. */
	snprintf(gitdir, sizeof(gitdir), "%s/repo.git", bhome);
	{
		char *rm[] = { "/bin/rm", "-rf", gitdir, NULL };
		if ((rc = vlb_copy_tree(bhome_tmpl, bhome)) < 0 || (rc = vlb_run_proc(NULL, NULL, rm)) < 0)
			goto out;
	}
	if (symlink(repo, gitdir) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot link '%s': %s", gitdir, strerror(errno));
		goto out;
	}

	/* -- the records both sides change: every stride-th of the base -- */
	vl_scope_ref(scope_ref, c->village.code);
	pick.want = c->changed;
	pick.stride = c->records / c->changed;
	if (!(pick.v = calloc(c->changed, sizeof(*pick.v)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = vl_node_open(&nd, home, 0, NULL)) < 0 || (rc = vl_repo_head(&base, nd->repo, scope_ref)) < 0 ||
			(rc = vl_ledger_each(nd, &base, "resident", pick_one, &pick)) < 0)
		goto out;
	vl_node_close(nd);
	nd = NULL;
	recs = pick.v;
	pick.v = NULL;
	if (pick.n != c->changed) {
		rc = vl_error_set(VL_ERROR, "picked %zu records of the base, wanted %zu", pick.n, c->changed);
		goto out;
	}

	/* -- the two sides, signed by two keys, fsync off (setup) -- */
	vlb_set_fsync(0);
	rc = make_side(&head_a, c, home, recs, pick.n, 0, &base);
	if (rc == 0)
		rc = make_side(&head_b, c, bhome, recs, pick.n, 1, &base);
	vlb_set_fsync(1);
	if (rc < 0)
		goto out;
	/* The village's branch is side A; side B is what it received. */
	if ((rc = vl_repo_open(&rv, repo)) < 0)
		goto out;
	if ((rc = git_reference_create(&ref, rv, scope_ref, &head_a, 1, "bench: side A")) < 0) {
		rc = vl_error_git(rc, "cannot set the scope branch");
		goto out;
	}
	git_reference_free(ref);
	ref = NULL;
	git_repository_free(rv);
	rv = NULL;
	fprintf(stderr, "merge setup: %zu residents in %zu commits; %zu records changed on both sides, "
			"%zu per commit, two keys; %.1f s\n", st.records, st.commits, pick.n, c->batch, vlb_now() - t0);
	fprintf(stderr, "merge setup: %s = base %.12s + side A, %s = base + side B\n", REF_A,
			git_oid_tostr_s(&base), REF_B);

	/* -- (1) vledger: cold with fsync on (the product), fsync off, through one pack; warm -- */
	for (how = COLD_FSYNC; how <= COLD_PACK; how++) {
		for (rep = 0; rep < reps; rep++) {
			char tag[64];
			snprintf(tag, sizeof(tag), "vledger-cold-%s-%zu", cold_name[how], rep);
			if ((rc = vledger_cold(&t_open[how][rep], &t_merge[how][rep], &m, cold_home, sizeof(cold_home),
					c, home, tag, &head_a, &head_b, how)) < 0)
				goto out;
			if (how == COLD_FSYNC && rep == 0)
				merged = m;
			else if (!git_oid_equal(&m, &merged)) {
				rc = vl_error_set(VL_ERROR, "two cold merges wrote different commits");
				goto out;
			}
			t_cold[how][rep] = t_open[how][rep] + t_merge[how][rep];
			fprintf(stderr, "vledger cold, %s: %.3f s (open %.3f + merge %.3f)\n", cold_name[how],
					t_cold[how][rep], t_open[how][rep], t_merge[how][rep]);
		}
	}
	if ((rc = vledger_warm(t_warm, reps, c, cold_home, &head_a, &head_b, &merged)) < 0)
		goto out;

	/* -- (2) git merge-tree --write-tree in a bare clone -- */
	for (rep = 0; rep < reps; rep++) {
		const char *clone[] = { "clone", "-q", "--bare", repo, gitdir, NULL };
		const char *mt[] = { "merge-tree", "--write-tree", REF_A, REF_B, NULL };
		git_oid t;
		snprintf(gitdir, sizeof(gitdir), "%s/merge/git-bare-%zu", c->work, rep);
		vl_buf_clear(&out);
		if ((rc = git_run(NULL, NULL, c, NULL, clone)) < 0 || (rc = git_setup_clone(c, gitdir, gitdir, 0)) < 0)
			goto out;
		if ((rc = write_back()) < 0)
			goto out;
		if ((rc = git_run(&t_mt[rep], &out, c, gitdir, mt)) < 0 ||
				(rc = parse_oid_line(&t, &out, "git merge-tree")) < 0)
			goto out;
		if (rep == 0)
			tree_mt = t;
		else if (!git_oid_equal(&t, &tree_mt)) {
			rc = vl_error_set(VL_ERROR, "two git merge-tree runs wrote different trees");
			goto out;
		}
		fprintf(stderr, "git merge-tree: %.3f s\n", t_mt[rep]);
	}

	/* -- (3) git merge in a working clone -- */
	for (rep = 0; rep < reps; rep++) {
		char wc[800];
		const char *clone[] = { "clone", "-q", "-b", "bench/a", repo, wc, NULL };
		const char *merge[] = { "merge", "--no-edit", "origin/bench/b", NULL };
		const char *tree[] = { "rev-parse", "HEAD^{tree}", NULL };
		git_oid t;
		snprintf(wc, sizeof(wc), "%s/merge/git-wc-%zu", c->work, rep);
		vl_buf_clear(&out);
		if ((rc = vlb_pathf(gitdir, sizeof(gitdir), wc, ".git")) < 0 ||
				(rc = git_run(NULL, NULL, c, NULL, clone)) < 0 || (rc = git_setup_clone(c, wc, gitdir, 1)) < 0)
			goto out;
		if ((rc = write_back()) < 0)
			goto out;
		if ((rc = git_run(&t_gm[rep], NULL, c, wc, merge)) < 0 || (rc = git_run(NULL, &out, c, wc, tree)) < 0 ||
				(rc = parse_oid_line(&t, &out, "git rev-parse")) < 0)
			goto out;
		if (rep == 0)
			tree_gm = t;
		else if (!git_oid_equal(&t, &tree_gm)) {
			rc = vl_error_set(VL_ERROR, "two git merge runs gave different trees");
			goto out;
		}
		fprintf(stderr, "git merge: %.3f s\n", t_gm[rep]);
	}

	/* -- the check -- */
	if ((rc = vlb_pathf(repo, sizeof(repo), cold_home, "repo.git")) < 0 || (rc = vl_repo_open(&rv, repo)) < 0)
		goto out;
	if ((rc = git_commit_lookup(&mc, rv, &merged)) < 0) {
		rc = vl_error_git(rc, "cannot read vledger's merge commit");
		goto out;
	}
	git_oid_cpy(&tree_v, git_commit_tree_id(mc));
	snprintf(gitdir, sizeof(gitdir), "%s/merge/git-bare-0", c->work);
	if ((rc = compare_trees(&cmp_mt, rv, &tree_v, gitdir, &tree_mt)) < 0)
		goto out;
	snprintf(gitdir, sizeof(gitdir), "%s/merge/git-wc-0/.git", c->work);
	if ((rc = compare_trees(&cmp_gm, rv, &tree_v, gitdir, &tree_gm)) < 0 ||
			(rc = check_expected(&expect_ok, rv, &tree_v, recs, pick.n)) < 0)
		goto out;

	/* -- the table -- */
	v_on = med(t_cold[COLD_FSYNC], reps);
	v_off = med(t_cold[COLD_NOFSYNC], reps);
	v_pack = med(t_cold[COLD_PACK], reps);
	v_warm = med(t_warm, reps);
	g_mt = med(t_mt, reps);
	g_gm = med(t_gm, reps);
	printf("Merge of two heads: %zu records, %zu changed on both sides (A: `phone`, lww; B: `tags`, union), "
			"%zu records per signed commit, two keys; median of %zu runs.\n\n", c->records, pick.n,
			c->batch, reps);
	printf("| measurement | time (s, median) | per merged record | merge-tree ÷ this | git merge ÷ this |\n"
			"|---|---|---|---|---|\n");
	for (how = COLD_FSYNC; how <= COLD_PACK; how++) {
		static const char *const what[] = {
			"vledger `vl_merge_heads`, cold, **fsync on** (the product): node open + config",
			"vledger `vl_merge_heads`, cold, fsync off: node open + config",
			"vledger, cold, fsync on, objects written as one pack (mempack + `git_odb_write_pack`, "
			"a prototype of the fix, not the product): node open + config",
		};
		double v = med(t_cold[how], reps), mg = med(t_merge[how], reps);
		printf("| %s (%.3f s) + merge (%.3f s) | %.3f | %.3f ms | **%.1fx** | %.1fx |\n", what[how],
				med(t_open[how], reps), mg, v, v * 1e3 / (double)pick.n, g_mt / v, g_gm / v);
	}
	printf("| vledger `vl_merge_heads`, warm: again on the open node (objects exist) | %.3f | %.3f ms | %.1fx "
			"| %.1fx |\n", v_warm, v_warm * 1e3 / (double)pick.n, g_mt / v_warm, g_gm / v_warm);
	printf("| git `merge-tree --write-tree`, bare clone, driver: a process per file | %.3f | %.3f ms | - | - |\n",
			g_mt, g_mt * 1e3 / (double)pick.n);
	printf("| git `merge`, working clone (%zu files checked out), same driver | %.3f | %.3f ms | - | - |\n",
			c->records, g_gm, g_gm * 1e3 / (double)pick.n);
	printf("\nRatio (target >= 50x) = git merge-tree time / vledger cold time: **%.1fx** with fsync on (the "
			"product), %.1fx with fsync off, %.1fx through one pack; git merge / vledger: %.1fx, %.1fx, %.1fx.\n",
			g_mt / v_on, g_mt / v_off, g_mt / v_pack, g_gm / v_on, g_gm / v_off, g_gm / v_pack);
	git_oid_tostr(hex, sizeof(hex), &merged);
	printf("\nCheck: vledger's merge commit %.12s (the same in all %zu cold runs); git merge-tree and git merge "
			"trees %s (%.12s", hex, 3 * reps, git_oid_equal(&tree_mt, &tree_gm) ? "equal" : "DIFFER",
			git_oid_tostr_s(&tree_mt));
	printf(" / %.12s).\n", git_oid_tostr_s(&tree_gm));
	printf("  vledger vs git merge-tree: %zu records, %zu byte-identical, %zu same data, %zu differ, %zu missing, "
			"%zu unparsable%s%s\n", cmp_mt.records, cmp_mt.same_blob, cmp_mt.same_data, cmp_mt.differ,
			cmp_mt.missing, cmp_mt.unparsable, cmp_mt.first[0] ? "; first: " : "", cmp_mt.first);
	printf("  vledger vs git merge:      %zu records, %zu byte-identical, %zu same data, %zu differ, %zu missing, "
			"%zu unparsable%s%s\n", cmp_gm.records, cmp_gm.same_blob, cmp_gm.same_data, cmp_gm.differ,
			cmp_gm.missing, cmp_gm.unparsable, cmp_gm.first[0] ? "; first: " : "", cmp_gm.first);
	printf("  vledger's %zu merged records with A's phone and B's tags (author merge, 2 prev, no conflicts): %zu\n",
			pick.n, expect_ok);
	fprintf(stderr, "merge bench: %.0f s in all\n", vlb_now() - t0);
	if (cmp_mt.differ || cmp_mt.missing || cmp_mt.unparsable || cmp_gm.differ || cmp_gm.missing ||
			cmp_gm.unparsable || cmp_mt.same_data != pick.n || expect_ok != pick.n)
		rc = vl_error_set(VL_ERROR, "the merges do not agree (see the check above)");
out:
	git_commit_free(mc);
	git_reference_free(ref);
	git_repository_free(rv);
	vl_node_close(nd);
	changed_free(pick.v, pick.want);
	changed_free(recs, c->changed);
	vl_buf_free(&out);
	return rc;
}
