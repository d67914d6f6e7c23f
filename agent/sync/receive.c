/* receive.c - quarantine, verify, then accept (see receive.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "agent/sync/receive.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <git2/sys/odb_backend.h>

#include "agent/node/ledger.h"
#include "store/repo.h"
#include "agent/sync/treemerge.h"
#include "schemas/types.h"
#include "agent/audit/verify.h"
#include "store/yaml.h"

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
	int write_failed;      /* a write into it failed: ours, not the peer's */
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
		q->write_failed = 1;
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
/*
 * Move every quarantined object into the node's repository as ONE pack: its
 * index is written last, so a process killed half-way leaves either no new
 * objects or all of them — never a commit whose parents are missing (which
 * the next fetch would take for history we already hold).
 */
static int promote(quarantine *q, vl_node *n)
{
	git_packbuilder *pb = NULL;
	vl_buf dir = VL_BUF_INIT;
	size_t i;
	int rc;

	if (q->nids == 0)
		return 0;
	if ((rc = vl_buf_printf(&dir, "%s/repo.git/objects/pack", n->home)) < 0)
		return rc;
	if ((rc = git_packbuilder_new(&pb, q->repo)) < 0) {
		rc = vl_error_git(rc, "cannot pack the received objects");
		goto out;
	}
	git_packbuilder_set_threads(pb, 1);
	for (i = 0; i < q->nids; i++) {
		if ((rc = git_packbuilder_insert(pb, &q->ids[i], NULL)) < 0) {
			rc = vl_error_git(rc, "cannot pack the received objects");
			goto out;
		}
	}
	if ((rc = git_packbuilder_write(pb, dir.ptr, 0, NULL, NULL)) < 0) {
		rc = vl_error_git(rc, "cannot store the received objects");
		goto out;
	}
	rc = 0;
out:
	git_packbuilder_free(pb);
	vl_buf_free(&dir);
	return rc;
}

/* Copy a quarantined tree (and what it holds) into odb; objects odb has are
 * skipped with everything below them. */
static int copy_tree(quarantine *q, git_odb *odb, const git_oid *id)
{
	git_odb_object *obj = NULL;
	git_tree *tree = NULL;
	git_oid w;
	size_t i;
	int rc;

	if (git_odb_exists(odb, id))
		return 0;
	if ((rc = git_odb_read(&obj, q->odb, id)) < 0)
		return vl_error_git(rc, "cannot read a quarantined object");
	if (git_odb_object_type(obj) == GIT_OBJECT_TREE) {
		if ((rc = git_tree_lookup(&tree, q->repo, id)) < 0) {
			rc = vl_error_git(rc, "cannot read a quarantined tree");
			goto out;
		}
		for (i = 0; i < git_tree_entrycount(tree); i++) {
			const git_tree_entry *e = git_tree_entry_byindex(tree, i);
			if (git_tree_entry_type(e) != GIT_OBJECT_BLOB && git_tree_entry_type(e) != GIT_OBJECT_TREE)
				continue;
			if ((rc = copy_tree(q, odb, git_tree_entry_id(e))) < 0)
				goto out;
		}
	}
	if ((rc = git_odb_write(&w, odb, git_odb_object_data(obj), git_odb_object_size(obj),
			git_odb_object_type(obj))) < 0)
		rc = vl_error_git(rc, "cannot keep a quarantined object");
out:
	git_tree_free(tree);
	git_odb_object_free(obj);
	return rc;
}

/* Copy a quarantined commit, its tree, and its ancestors that odb lacks
 * (parents first is not needed: a ref is created only afterwards). */
static int copy_history(quarantine *q, git_odb *odb, const git_oid *tip)
{
	git_oid *stack = NULL, id;
	size_t n = 0, cap = 16;
	int rc = 0;

	if (!(stack = malloc(cap * sizeof(*stack))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	git_oid_cpy(&stack[n++], tip);
	while (n && rc == 0) {
		git_commit *c = NULL;
		git_odb_object *obj = NULL;
		git_oid w;
		unsigned k;
		git_oid_cpy(&id, &stack[--n]);
		if (git_odb_exists(odb, &id))
			continue;
		if ((rc = git_commit_lookup(&c, q->repo, &id)) < 0) {
			rc = vl_error_git(rc, "cannot read a quarantined commit");
			break;
		}
		if ((rc = copy_tree(q, odb, git_commit_tree_id(c))) == 0 &&
				(rc = git_odb_read(&obj, q->odb, &id)) == 0 &&
				(rc = git_odb_write(&w, odb, git_odb_object_data(obj), git_odb_object_size(obj),
						GIT_OBJECT_COMMIT)) < 0)
			rc = vl_error_git(rc, "cannot keep a quarantined commit");
		for (k = 0; rc == 0 && k < git_commit_parentcount(c); k++) {
			if (n == cap) {
				git_oid *ns = realloc(stack, (cap *= 2) * sizeof(*stack));
				if (!ns) {
					rc = vl_error_set(VL_ENOMEM, "out of memory");
					break;
				}
				stack = ns;
			}
			git_oid_cpy(&stack[n++], git_commit_parent_id(c, k));
		}
		git_odb_object_free(obj);
		git_commit_free(c);
	}
	free(stack);
	return rc < 0 ? rc : 0;
}

/* Keep one commit of q (with what it needs) in the repository as evidence. */
static int keep_evidence(quarantine *q, vl_node *n, const git_oid *commit)
{
	git_odb *odb = NULL;
	git_commit *c = NULL;
	git_reference *ref = NULL;
	char name[128];
	int rc;

	if ((rc = git_repository_odb(&odb, n->repo)) < 0)
		return vl_error_git(rc, "cannot open the object database");
	/* Only the evidence: the commit, its records, and its ancestors that
	 * came in this batch (so that the kept graph is whole); the rest of the
	 * refused batch stays out. */
	if ((rc = copy_history(q, odb, commit)) < 0)
		goto out;
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
	git_commit *c = NULL;
	git_reference *ref = NULL;
	git_repository *home_repo = n->repo;
	char refname[64], peerref[256];
	git_oid ours, id, result, *stack = NULL;
	git_odb *home_odb = NULL;
	int rc, have_ours, kind;
	size_t i, ncommits = 0, nstack = 0, capstack = 0;

	memset(&vr, 0, sizeof(vr));
	memset(&q, 0, sizeof(q));
	if ((rc = git_repository_odb(&home_odb, n->repo)) < 0)
		return vl_error_git(rc, "cannot open the object database");
	vl_scope_ref(refname, code);
	rc = vl_repo_head(&ours, n->repo, refname);
	if (rc < 0 && rc != VL_ENOTFOUND)
		goto out;
	have_ours = rc == 0;
	/* Nothing new when their head is one we hold and ours contains it
	 * (both local, so nothing of theirs is parsed for this). */
	if (have_ours && (git_oid_equal(&ours, theirs) ||
			(git_odb_exists(home_odb, theirs) && git_graph_descendant_of(n->repo, &ours, theirs) == 1))) {
		rc = 0;
		goto out;
	}
	if ((rc = quarantine_open(&q, n)) < 0)
		goto out;
	/* Walk their history ourselves, down to what we hold, checking each
	 * commit's type and size from its header before parsing it: a commit
	 * object can be a bomb too (reference/hazards.md). */
	if (!(stack = malloc(sizeof(*stack) * (capstack = 64)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	git_oid_cpy(&stack[nstack++], theirs);
	while (nstack) {
		size_t size;
		git_object_t type;
		unsigned k;
		git_oid_cpy(&id, &stack[--nstack]);
		if (git_odb_exists(q.odb, &id))
			continue; /* ours, or taken already */
		if (git_odb_read_header(&size, &type, srcodb, &id) < 0) {
			rc = vl_error_set(VL_EINVALID, "received history names %.12s, which the source does not hold",
					git_oid_tostr_s(&id));
			goto refuse;
		}
		if (type != GIT_OBJECT_COMMIT) {
			rc = vl_error_set(VL_EINVALID, "received history names %.12s, a %s where a commit belongs",
					git_oid_tostr_s(&id), git_object_type2string(type));
			goto refuse;
		}
		if (size > VL_RECEIVE_MAX_COMMIT) {
			rc = vl_error_set(VL_ETOOBIG, "received commit %.12s is %zu bytes, over the limit of %zu",
					git_oid_tostr_s(&id), size, VL_RECEIVE_MAX_COMMIT);
			goto refuse;
		}
		if ((rc = git_commit_lookup(&c, src, &id)) < 0) {
			rc = vl_error_set(VL_EINVALID, "received commit %.12s does not parse", git_oid_tostr_s(&id));
			goto refuse;
		}
		rc = take_object(&q, srcodb, src, git_commit_tree_id(c), 0);
		if (rc == 0)
			rc = take_object(&q, srcodb, src, &id, 0);
		for (k = 0; rc == 0 && k < git_commit_parentcount(c); k++) {
			if (nstack == capstack) {
				git_oid *ns = nstack >= VL_RECEIVE_MAX_OBJECTS ? NULL
					: realloc(stack, sizeof(*stack) * (capstack * 2));
				if (!ns) {
					rc = nstack >= VL_RECEIVE_MAX_OBJECTS
						? vl_error_set(VL_ETOOBIG, "received history is too wide")
						: vl_error_set(VL_ENOMEM, "out of memory");
					break;
				}
				capstack *= 2;
				stack = ns;
			}
			git_oid_cpy(&stack[nstack++], git_commit_parent_id(c, k));
		}
		git_commit_free(c);
		c = NULL;
		if (rc < 0)
			goto refuse;
		ncommits++;
	}
	/* Verify inside the quarantine: the node's code reads through n->repo,
	 * so it is pointed at the quarantine (which sees our objects too). */
	n->repo = q.repo;
	n->quarantine_objects = q.dir;
	rc = vl_verify_received(n, refname, theirs, have_ours ? &ours : NULL, &vr);
	n->quarantine_objects = NULL;
	n->repo = home_repo;
	if (rc < 0)
		goto out; /* a local failure (memory, I/O): peer problems are in vr.failures */
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
		if ((rc = vl_merge_heads(&result, &kind, n, code, &ours, theirs, &sum)) < 0) {
			/* Out of memory or a failed write is ours, not the peer's:
			 * stop with that error (exit 1), not a refusal (exit 4). */
			if (rc == VL_ENOMEM || rc == VL_ERROR) {
				vl_error_wrap(rc, "scope/%s from %s received but not merged (fetch again, or run "
						"'vledger merge %s')", code, peer, peerref);
				goto out;
			}
			/* Received and kept under refs/peers/, but not merged: say so
			 * and go on with the other branches. */
			res->branches_refused++;
			rc = vl_buf_printf(&res->report, "scope/%s from %s received but not merged: %s; run "
					"'vledger merge %s' after fixing it\n", code, peer, vl_error_last(), peerref);
			goto out;
		}
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
		vl_error_wrap(rc, "scope/%s from %s received but not merged (fetch again, or run 'vledger merge %s')",
				code, peer, peerref);
		goto out;
	}
	res->branches_updated++;
	rc = 0;
	goto out;
refuse:
	/* A cap or a malformed object: the batch is refused as a whole. Out of
	 * memory or a failed write is ours: an error, not a refusal. */
	if (rc == VL_ENOMEM || q.write_failed)
		goto out;
	res->branches_refused++;
	rc = vl_buf_printf(&res->report, "scope/%s from %s refused; nothing was taken: %s\n", code, peer,
			vl_error_last());
out:
	free(stack);
	git_odb_free(home_odb);
	git_reference_free(ref);
	git_commit_free(c);
	vl_verify_result_free(&vr);
	if (q.odb || q.dir[0])
		quarantine_close(&q);
	return rc;
}

/* Evidence the peer holds: keep what is validly signed by a roster key. */
/* One commit the peer offers as evidence. */
typedef struct {
	git_oid id;
	char fp[VL_FP_LEN];
	unsigned long long seq;
	char prev[GIT_OID_HEXSZ + 1];   /* "" when the commit has no Vledger-Prev */
	char scope[13];                 /* of its first record, "" if none */
} evidence_cand;

/* The scope of the first record in a commit's tree (which branch it is on),
 * reading headers before contents. */
static void first_record_scope(char out[13], git_repository *src, git_odb *srcodb, git_commit *c)
{
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	git_odb_object *obj = NULL;
	size_t depth, size;
	git_object_t type;
	const char *p;

	out[0] = '\0';
	if (git_odb_read_header(&size, &type, srcodb, git_commit_tree_id(c)) < 0 || type != GIT_OBJECT_TREE ||
			size > ((size_t)16 << 20) || git_commit_tree(&t, c) < 0)
		return;
	for (depth = 0; depth < 3 && t && git_tree_entrycount(t) > 0; depth++) {
		const git_tree_entry *first = git_tree_entry_byindex(t, 0);
		if (depth < 2) {
			git_tree *sub = NULL;
			if (git_tree_entry_type(first) != GIT_OBJECT_TREE ||
					git_odb_read_header(&size, &type, srcodb, git_tree_entry_id(first)) < 0 ||
					type != GIT_OBJECT_TREE || size > ((size_t)16 << 20) ||
					git_tree_lookup(&sub, src, git_tree_entry_id(first)) < 0)
				break;
			git_tree_free(t);
			t = sub;
			continue;
		}
		if (git_tree_entry_type(first) == GIT_OBJECT_BLOB &&
				git_odb_read_header(&size, &type, srcodb, git_tree_entry_id(first)) == 0 &&
				size <= VL_RECORD_MAX_BYTES && git_odb_read(&obj, srcodb, git_tree_entry_id(first)) == 0 &&
				(p = strstr(git_odb_object_data(obj), "\nscope: \"")) && strlen(p + 9) > 12)
			snprintf(out, 13, "%.12s", p + 9);
	}
	git_odb_object_free(obj);
	git_tree_entry_free(e);
	git_tree_free(t);
}

/*
 * Evidence the peer holds: kept only as a pair that shows equivocation —
 * two different commits, validly signed by one roster key this node may
 * read everything of, with the same Vledger-Seq on the same branch (the
 * same Vledger-Prev, or for a first commit records of the same scope). A
 * lone signed commit under refs/evidence/ proves nothing and is ignored.
 */
static int receive_evidence(vl_node *n, git_repository *src, git_odb *srcodb, vl_receive_result *res)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	evidence_cand *cand = NULL;
	size_t ncand = 0, cap = 0, i, j;
	int rc;

	if ((rc = git_reference_iterator_glob_new(&it, src, "refs/evidence/*")) < 0)
		return vl_error_git(rc, "cannot list the peer's evidence");
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const git_oid *t = git_reference_target(ref);
		git_odb_object *obj = NULL;
		git_commit *c = NULL;
		git_object_t htype = GIT_OBJECT_INVALID;
		size_t hsize = 0;
		unsigned char pk[32];
		vl_buf seq = VL_BUF_INIT, prev = VL_BUF_INIT;
		/* Type and size from the header before anything is inflated. */
		if (t && ncand < 10000 && git_odb_read_header(&hsize, &htype, srcodb, t) == 0 &&
				htype == GIT_OBJECT_COMMIT && hsize < 65536 && git_odb_read(&obj, srcodb, t) == 0 &&
				vl_commit_verify(git_odb_object_data(obj), git_odb_object_size(obj), pk) == 0 &&
				git_commit_lookup(&c, src, t) == 0 &&
				vl_message_trailer(&seq, git_commit_message(c), "Vledger-Seq") == 0) {
			const vl_roster_entry *who;
			char fp[VL_FP_LEN];
			vl_fingerprint(fp, pk);
			/* Evidence carries the signer's records: take it only when this
			 * node may read everything that key may write. */
			if ((who = vl_node_roster_find(n, fp)) && vl_division_covers(n->scope, who->scope)) {
				if (ncand == cap) {
					evidence_cand *nc = realloc(cand, (cap = cap ? cap * 2 : 16) * sizeof(*nc));
					if (!nc) {
						rc = vl_error_set(VL_ENOMEM, "out of memory");
						git_commit_free(c);
						git_odb_object_free(obj);
						vl_buf_free(&seq);
						goto out;
					}
					cand = nc;
				}
				memset(&cand[ncand], 0, sizeof(cand[ncand]));
				git_oid_cpy(&cand[ncand].id, t);
				memcpy(cand[ncand].fp, fp, VL_FP_LEN);
				cand[ncand].seq = strtoull(seq.ptr, NULL, 10);
				if (vl_message_trailer(&prev, git_commit_message(c), "Vledger-Prev") == 0)
					snprintf(cand[ncand].prev, sizeof(cand[ncand].prev), "%s", prev.ptr);
				first_record_scope(cand[ncand].scope, src, srcodb, c);
				ncand++;
			}
		}
		git_commit_free(c);
		git_odb_object_free(obj);
		vl_buf_free(&seq);
		vl_buf_free(&prev);
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, "cannot list the peer's evidence");
		goto out;
	}
	for (i = 0; i < ncand; i++) {
		int paired = 0;
		char name[128];
		git_reference *mine = NULL;
		for (j = 0; j < ncand && !paired; j++)
			paired = j != i && !strcmp(cand[i].fp, cand[j].fp) && cand[i].seq == cand[j].seq &&
					!git_oid_equal(&cand[i].id, &cand[j].id) &&
					(cand[i].prev[0] ? !strcmp(cand[i].prev, cand[j].prev)
							 : !cand[j].prev[0] && cand[i].scope[0] &&
							   !strcmp(cand[i].scope, cand[j].scope));
		snprintf(name, sizeof(name), "refs/evidence/%s", git_oid_tostr_s(&cand[i].id));
		if (paired && git_reference_lookup(&mine, n->repo, name) == GIT_ENOTFOUND) {
			quarantine q;
			git_commit *c = NULL;
			memset(&q, 0, sizeof(q));
			if (quarantine_open(&q, n) == 0 && git_commit_lookup(&c, src, &cand[i].id) == 0 &&
					take_object(&q, srcodb, src, git_commit_tree_id(c), 0) == 0 &&
					take_object(&q, srcodb, src, &cand[i].id, 0) == 0 && keep_evidence(&q, n, &cand[i].id) == 0)
				res->evidence++;
			git_commit_free(c);
			if (q.odb || q.dir[0])
				quarantine_close(&q);
		}
		git_reference_free(mine);
	}
	rc = 0;
out:
	free(cand);
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return rc;
}

/* A fetch killed mid-way leaves its quarantine behind: nothing reads it,
 * but it takes space. Remove those older than an hour (a younger one may
 * belong to a fetch running right now). */
static void sweep_quarantines(const vl_node *n)
{
	vl_buf dir = VL_BUF_INIT, path = VL_BUF_INIT;
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	DIR *d;

	if (vl_buf_printf(&dir, "%s/cache", n->home) < 0 || !(d = opendir(dir.ptr))) {
		vl_buf_free(&dir);
		return;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "quarantine-", 11) != 0)
			continue;
		vl_buf_clear(&path);
		if (vl_buf_printf(&path, "%s/%s", dir.ptr, de->d_name) == 0 && lstat(path.ptr, &st) == 0 &&
				S_ISDIR(st.st_mode) && now - st.st_mtime > 3600)
			rmtree(path.ptr);
	}
	closedir(d);
	vl_buf_free(&dir);
	vl_buf_free(&path);
}

int vl_receive_scopes(vl_node *n, git_repository *src, const char *peer, int merge, vl_receive_result *res)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	git_odb *srcodb = NULL;
	int rc;

	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	sweep_quarantines(n);
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
