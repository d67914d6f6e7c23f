/* receive.c - quarantine, verify, then accept (see receive.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "receive.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <git2/sys/odb_backend.h>

#include "ledger.h"
#include "repo.h"
#include "treemerge.h"
#include "types.h"
#include "verify.h"
#include "yaml.h"

void vl_receive_result_free(vl_receive_result *r)
{
	vl_buf_free(&r->report);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rmtree(const char *path)
{
	if (path && *path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A quarantine: a fresh loose-object directory under <home>/cache, with
 * the node's objects as a read-only alternate. */
typedef struct {
	char dir[4096];
	git_odb *odb;
	git_repository *repo;
	git_oid *ids;          /* objects written into the quarantine */
	size_t nids, cap;
	size_t bytes;
} quarantine;

static int quarantine_open(quarantine *q, vl_node *n)
{
	git_odb_backend *loose = NULL;
	vl_buf p = VL_BUF_INIT;
	int rc;

	memset(q, 0, sizeof(*q));
	snprintf(q->dir, sizeof(q->dir), "%s/cache/quarantine-XXXXXX", n->home);
	if (!mkdtemp(q->dir)) {
		q->dir[0] = '\0';
		return vl_error_set(VL_ERROR, "cannot create a quarantine under '%s/cache'", n->home);
	}
	if ((rc = vl_buf_printf(&p, "%s/repo.git/objects", n->home)) < 0)
		goto out;
	if ((rc = git_odb_new(&q->odb)) < 0 ||
			(rc = git_odb_backend_loose(&loose, q->dir, -1, 0, 0, 0)) < 0) {
		rc = vl_error_git(rc, "cannot set up the quarantine");
		goto out;
	}
	if ((rc = git_odb_add_backend(q->odb, loose, 10)) < 0) {
		loose->free(loose);
		rc = vl_error_git(rc, "cannot set up the quarantine");
		goto out;
	}
	/* Our objects: read-only, so nothing received lands there early. */
	if ((rc = git_odb_add_disk_alternate(q->odb, p.ptr)) < 0 ||
			(rc = git_repository_wrap_odb(&q->repo, q->odb)) < 0) {
		rc = vl_error_git(rc, "cannot set up the quarantine");
		goto out;
	}
out:
	vl_buf_free(&p);
	return rc;
}

static void quarantine_close(quarantine *q)
{
	git_repository_free(q->repo);
	git_odb_free(q->odb);
	free(q->ids);
	rmtree(q->dir);
	memset(q, 0, sizeof(*q));
}

/* git's tree order (bytewise, a tree's name as if it ended in '/'); 0 when
 * one name is there twice, whatever the modes (git fsck: duplicateEntries,
 * treeNotSorted). */
static int tree_order(const git_tree_entry *a, const git_tree_entry *b)
{
	const char *na = git_tree_entry_name(a), *nb = git_tree_entry_name(b);
	size_t la = strlen(na), lb = strlen(nb), l = la < lb ? la : lb;
	int c = memcmp(na, nb, l);
	unsigned ca, cb;

	if (c || la == lb)
		return c;
	ca = la > l ? (unsigned char)na[l] : git_tree_entry_filemode(a) == GIT_FILEMODE_TREE ? '/' : 0;
	cb = lb > l ? (unsigned char)nb[l] : git_tree_entry_filemode(b) == GIT_FILEMODE_TREE ? '/' : 0;
	return (int)ca - (int)cb;
}

/* Copy one object from src into the quarantine unless it is already seen
 * (ours, or copied), checking its size from the header first. Trees are
 * followed; commits are not (the caller walks them). */
static int take_object(quarantine *q, git_odb *src, git_repository *srcrepo, const git_oid *id, int depth)
{
	git_odb_object *obj = NULL;
	git_tree *tree = NULL;
	git_oid written;
	size_t size, i;
	git_object_t type;
	int rc;

	if (git_odb_exists(q->odb, id))
		return 0;
	if (depth > 4)
		return vl_error_set(VL_EINVALID, "received tree nests deeper than <ledger>/<bucket>/<id>.yaml");
	if ((rc = git_odb_read_header(&size, &type, src, id)) < 0)
		return vl_error_git(rc, "cannot read a received object's header");
	if ((type == GIT_OBJECT_BLOB && size > VL_RECORD_MAX_BYTES) || size > ((size_t)16 << 20))
		return vl_error_set(VL_ETOOBIG, "received object %.12s is %zu bytes, over the limit",
				git_oid_tostr_s(id), size);
	if (q->nids >= VL_RECEIVE_MAX_OBJECTS || q->bytes + size > VL_RECEIVE_MAX_BYTES)
		return vl_error_set(VL_ETOOBIG, "received batch is over %d objects or %zu bytes",
				VL_RECEIVE_MAX_OBJECTS, VL_RECEIVE_MAX_BYTES);
	if ((rc = git_odb_read(&obj, src, id)) < 0)
		return vl_error_git(rc, "cannot read a received object");
	if (type == GIT_OBJECT_TREE) {
		if ((rc = git_tree_lookup(&tree, srcrepo, id)) < 0) {
			rc = vl_error_git(rc, "cannot parse a received tree");
			goto out;
		}
		for (i = 0; i < git_tree_entrycount(tree); i++) {
			const git_tree_entry *e = git_tree_entry_byindex(tree, i);
			/* Lookups by name binary-search: a tree out of order, or
			 * with a name twice, reads differently to different readers. */
			if (i > 0 && tree_order(git_tree_entry_byindex(tree, i - 1), e) >= 0) {
				rc = vl_error_set(VL_EINVALID, "received tree %.12s has entries out of order or twice "
						"('%.60s'); git fsck refuses it", git_oid_tostr_s(id), git_tree_entry_name(e));
				goto out;
			}
			/* Links and submodules are refused by verify; never follow them. */
			if (git_tree_entry_type(e) != GIT_OBJECT_BLOB && git_tree_entry_type(e) != GIT_OBJECT_TREE)
				continue;
			if ((rc = take_object(q, src, srcrepo, git_tree_entry_id(e), depth + 1)) < 0)
				goto out;
		}
	}
	if ((rc = git_odb_write(&written, q->odb, git_odb_object_data(obj), git_odb_object_size(obj), type)) < 0) {
		rc = vl_error_git(rc, "cannot write into the quarantine");
		goto out;
	}
	if (q->nids == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 256;
		git_oid *ni = realloc(q->ids, ncap * sizeof(*ni));
		if (!ni) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		q->ids = ni;
		q->cap = ncap;
	}
	git_oid_cpy(&q->ids[q->nids++], &written);
	q->bytes += size;
	rc = 0;
out:
	git_tree_free(tree);
	git_odb_object_free(obj);
	return rc;
}

/* Copy every quarantined object into the node's repository. */
static int promote(quarantine *q, vl_node *n)
{
	git_odb *odb = NULL;
	size_t i;
	int rc;

	if ((rc = git_repository_odb(&odb, n->repo)) < 0)
		return vl_error_git(rc, "cannot open the object database");
	for (i = 0; i < q->nids; i++) {
		git_odb_object *obj = NULL;
		git_oid w;
		if (git_odb_exists(odb, &q->ids[i]))
			continue;
		if ((rc = git_odb_read(&obj, q->odb, &q->ids[i])) < 0 ||
				(rc = git_odb_write(&w, odb, git_odb_object_data(obj), git_odb_object_size(obj),
						git_odb_object_type(obj))) < 0) {
			git_odb_object_free(obj);
			rc = vl_error_git(rc, "cannot store a received object");
			goto out;
		}
		git_odb_object_free(obj);
	}
	rc = 0;
out:
	git_odb_free(odb);
	return rc;
}

/* Keep one commit (and its tree) of q in the repository as evidence. */
static int keep_evidence(quarantine *q, vl_node *n, const git_oid *commit)
{
	git_odb *odb = NULL;
	git_commit *c = NULL;
	git_reference *ref = NULL;
	char name[128];
	size_t i;
	int rc;

	if ((rc = git_repository_odb(&odb, n->repo)) < 0)
		return vl_error_git(rc, "cannot open the object database");
	/* Everything the quarantine holds is small and may be needed to read
	 * the evidence (the commit, its tree, its records). */
	for (i = 0; i < q->nids; i++) {
		git_odb_object *obj = NULL;
		git_oid w;
		if (git_odb_exists(odb, &q->ids[i]))
			continue;
		if (git_odb_read(&obj, q->odb, &q->ids[i]) == 0)
			(void)git_odb_write(&w, odb, git_odb_object_data(obj), git_odb_object_size(obj),
					git_odb_object_type(obj));
		git_odb_object_free(obj);
	}
	if ((rc = git_commit_lookup(&c, n->repo, commit)) < 0) {
		rc = vl_error_git(rc, "cannot read an evidence commit");
		goto out;
	}
	snprintf(name, sizeof(name), "refs/evidence/%s", git_oid_tostr_s(commit));
	rc = git_reference_create(&ref, n->repo, name, commit, 0, "vledger: equivocation evidence");
	if (rc < 0 && rc != GIT_EEXISTS)
		rc = vl_error_git(rc, "cannot keep evidence");
	else
		rc = 0;
out:
	git_reference_free(ref);
	git_commit_free(c);
	git_odb_free(odb);
	return rc;
}

/* Receive one branch: quarantine, verify, accept or refuse. */
static int receive_branch(vl_node *n, git_repository *src, git_odb *srcodb, const char *peer,
		const char *code, const git_oid *theirs, int merge, vl_receive_result *res)
{
	quarantine q;
	vl_verify_result vr;
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	git_reference *ref = NULL;
	git_repository *home_repo = n->repo;
	char refname[64], peerref[256];
	git_oid ours, id, result;
	int rc, have_ours, kind;
	size_t i, ncommits = 0;

	memset(&vr, 0, sizeof(vr));
	memset(&q, 0, sizeof(q));
	vl_scope_ref(refname, code);
	rc = vl_repo_head(&ours, n->repo, refname);
	if (rc < 0 && rc != VL_ENOTFOUND)
		return rc;
	have_ours = rc == 0;
	if (have_ours && (git_oid_equal(&ours, theirs) ||
			(git_odb_exists(srcodb, &ours) && git_graph_descendant_of(src, &ours, theirs) == 1)))
		return 0; /* nothing new */
	if ((rc = quarantine_open(&q, n)) < 0)
		goto out;
	if ((rc = git_revwalk_new(&walk, src)) < 0 || (rc = git_revwalk_push(walk, theirs)) < 0 ||
			(have_ours && git_odb_exists(srcodb, &ours) && (rc = git_revwalk_hide(walk, &ours)) < 0)) {
		rc = vl_error_git(rc, "cannot walk the received branch");
		goto out;
	}
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		if (git_odb_exists(q.odb, &id))
			continue; /* we have it (and so its history up to here) */
		if ((rc = git_commit_lookup(&c, src, &id)) < 0) {
			rc = vl_error_git(rc, "cannot read a received commit");
			goto out;
		}
		rc = take_object(&q, srcodb, src, git_commit_tree_id(c), 0);
		git_commit_free(c);
		c = NULL;
		if (rc < 0 || (rc = take_object(&q, srcodb, src, &id, 0)) < 0)
			goto refuse;
		ncommits++;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, "cannot walk the received branch");
		goto out;
	}
	/* Verify inside the quarantine: the node's code reads through n->repo,
	 * so it is pointed at the quarantine (which sees our objects too). */
	n->repo = q.repo;
	n->quarantine_objects = q.dir;
	rc = vl_verify_received(n, refname, theirs, have_ours ? &ours : NULL, &vr);
	n->quarantine_objects = NULL;
	n->repo = home_repo;
	if (rc < 0)
		goto refuse;
	if (vr.failures) {
		for (i = 0; i + 1 < vr.nevidence; i += 2) {
			if ((rc = keep_evidence(&q, n, &vr.evidence[i])) < 0 ||
					(rc = keep_evidence(&q, n, &vr.evidence[i + 1])) < 0)
				goto out;
			res->evidence++;
		}
		res->branches_refused++;
		rc = vl_buf_printf(&res->report, "scope/%s from %s refused; nothing was taken:\n%s", code, peer,
				vr.report.ptr ? vr.report.ptr : "");
		goto out;
	}
	if ((rc = promote(&q, n)) < 0)
		goto out;
	res->commits += ncommits;
	res->objects += q.nids;
	snprintf(peerref, sizeof(peerref), "refs/peers/%s/scope/%s", peer, code);
	if ((rc = git_reference_create(&ref, n->repo, peerref, theirs, 1, "vledger fetch")) < 0) {
		rc = vl_error_git(rc, "cannot record the peer's head");
		goto out;
	}
	git_reference_free(ref);
	ref = NULL;
	if (!merge) {
		res->branches_updated++;
		rc = 0;
		goto out;
	}
	if (!have_ours) {
		git_oid_cpy(&result, theirs);
		kind = 0;
	} else {
		vl_merge_summary sum;
		if ((rc = vl_merge_heads(&result, &kind, n, code, &ours, theirs, &sum)) < 0)
			goto out;
		res->conflicts += sum.conflicts;
		res->merges += (size_t)kind;
	}
	rc = have_ours ? git_reference_create_matching(&ref, n->repo, refname, &result, 1, &ours, "vledger fetch")
		       : git_reference_create(&ref, n->repo, refname, &result, 0, "vledger fetch");
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS) {
		rc = vl_error_set(VL_ECONFLICT, "scope/%s moved while receiving; fetch again", code);
		goto out;
	}
	if (rc < 0) {
		rc = vl_error_git(rc, "cannot move the branch");
		goto out;
	}
	res->branches_updated++;
	rc = 0;
	goto out;
refuse:
	/* A cap or a malformed object: the batch is refused as a whole. */
	res->branches_refused++;
	rc = vl_buf_printf(&res->report, "scope/%s from %s refused; nothing was taken: %s\n", code, peer,
			vl_error_last());
out:
	git_reference_free(ref);
	git_commit_free(c);
	git_revwalk_free(walk);
	vl_verify_result_free(&vr);
	if (q.odb || q.dir[0])
		quarantine_close(&q);
	return rc;
}

/* Evidence the peer holds: keep what is validly signed by a roster key. */
static int receive_evidence(vl_node *n, git_repository *src, git_odb *srcodb, vl_receive_result *res)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	int rc;

	if ((rc = git_reference_iterator_glob_new(&it, src, "refs/evidence/*")) < 0)
		return vl_error_git(rc, "cannot list the peer's evidence");
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const git_oid *t = git_reference_target(ref);
		quarantine q;
		vl_buf raw = VL_BUF_INIT;
		unsigned char pk[32];
		char fp[VL_FP_LEN];
		git_reference *mine = NULL;
		git_odb_object *obj = NULL;
		git_object_t htype = GIT_OBJECT_INVALID;
		size_t hsize = 0;
		memset(&q, 0, sizeof(q));
		/* Type and size from the header before anything is inflated. */
		if (t && git_reference_lookup(&mine, n->repo, git_reference_name(ref)) == GIT_ENOTFOUND &&
				git_odb_read_header(&hsize, &htype, srcodb, t) == 0 && htype == GIT_OBJECT_COMMIT &&
				hsize < 65536 &&
				git_odb_read(&obj, srcodb, t) == 0 && git_odb_object_type(obj) == GIT_OBJECT_COMMIT &&
				git_odb_object_size(obj) < 65536 &&
				vl_commit_verify(git_odb_object_data(obj), git_odb_object_size(obj), pk) == 0) {
			const vl_roster_entry *who;
			vl_fingerprint(fp, pk);
			/* Evidence carries the signer's scope tree: take it only
			 * when this node may read everything that key may write. */
			if ((who = vl_node_roster_find(n, fp)) && vl_division_covers(n->scope, who->scope) &&
					quarantine_open(&q, n) == 0) {
				git_commit *c = NULL;
				if (git_commit_lookup(&c, src, t) == 0 &&
						take_object(&q, srcodb, src, git_commit_tree_id(c), 0) == 0 &&
						take_object(&q, srcodb, src, t, 0) == 0 && keep_evidence(&q, n, t) == 0)
					res->evidence++;
				git_commit_free(c);
			}
		}
		if (q.odb || q.dir[0])
			quarantine_close(&q);
		git_odb_object_free(obj);
		git_reference_free(mine);
		vl_buf_free(&raw);
		git_reference_free(ref);
		ref = NULL;
	}
	git_reference_iterator_free(it);
	return rc == GIT_ITEROVER ? 0 : vl_error_git(rc, "cannot list the peer's evidence");
}

int vl_receive_scopes(vl_node *n, git_repository *src, const char *peer, int merge, vl_receive_result *res)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	git_odb *srcodb = NULL;
	int rc;

	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	if ((rc = git_repository_odb(&srcodb, src)) < 0)
		return vl_error_git(rc, "cannot open the source's objects");
	if ((rc = git_reference_iterator_glob_new(&it, src, VL_REF_SCOPE_PREFIX "*")) < 0) {
		rc = vl_error_git(rc, "cannot list the source's branches");
		goto out;
	}
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);
		const char *code = name + strlen(VL_REF_SCOPE_PREFIX);
		const git_oid *t = git_reference_target(ref);
		/* Only what this node may read: its own unit and those below. */
		if (t && strlen(code) == 12 && vl_division_level(code) != VL_DIV_INVALID &&
				vl_division_covers(n->scope, code)) {
			res->branches_seen++;
			if ((rc = receive_branch(n, src, srcodb, peer, code, t, merge, res)) < 0)
				goto out;
		}
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, "cannot list the source's branches");
		goto out;
	}
	rc = receive_evidence(n, src, srcodb, res);
out:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	git_odb_free(srcodb);
	return rc;
}
