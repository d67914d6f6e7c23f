/*
 * receive.c - the one receive path (see receive.h): list the source's refs,
 * take what is new into ONE quarantine (headers and caps before anything is
 * parsed), verify the config branch there (its roster and schemas then
 * judge the scope branches), verify each scope branch and any evidence
 * there, promote what was accepted as ONE pack, then move refs by
 * compare-and-swap and merge.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "agent/sync/receive.h"

#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>

#include "agent/node/ledger.h"
#include "agent/node/roster.h"
#include "store/i18n.h"
#include "store/looselist.h"
#include "store/oidset.h"
#include "store/repo.h"
#include "store/pack.h"
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

/* A quarantine: a fresh objects directory under <home>/cache, with the
 * node's objects as a read-only alternate. What is taken goes into a stage
 * (store/pack.h) in memory and reaches the directory as packs, not fsynced
 * (a crash loses nothing acknowledged: nothing there is yet): at the end of
 * each taking phase, before anything reads the directory (a merge replay
 * during verification layers it under its overlay), and whenever the stage
 * holds VL_RECEIVE_STAGE_BYTES. */
#define VL_RECEIVE_STAGE_BYTES ((size_t)64 << 20)

typedef struct {
	char dir[4096];
	git_odb *odb;
	git_repository *repo;
	vl_stage *stage;       /* in front of odb; one reference is ours */
	git_oid *ids;          /* objects written into the quarantine */
	size_t nids, cap;
	vl_oidset held;        /* ids known to be here (ours, or written into
	                        * it): nothing leaves during a receive, and a
	                        * day's trees name the same unchanged subtrees
	                        * in every commit */
	size_t bytes;
	size_t max_blob;       /* cap on one blob of what is being taken */
	int write_failed;      /* a write into it failed: ours, not the peer's */
} quarantine;

/* The node's objects under objects (packs, then loose objects) as
 * alternates of odb, at the priorities git_odb_add_disk_alternate gives
 * them (unlike it, objects/info/alternates is not followed: a node's
 * repository has none). */
static int add_home_objects(git_odb *odb, const char *objects)
{
	git_odb_backend *packed = NULL, *loose = NULL;
	int rc;

	if ((rc = git_odb_backend_pack(&packed, objects)) < 0 || (rc = git_odb_add_alternate(odb, packed, 2)) < 0) {
		if (packed)
			packed->free(packed);
		return vl_error_git(rc, _("cannot set up the quarantine"));
	}
	rc = vl_looselist_backend(&loose, objects);
	if (rc < 0 && rc != VL_ENOMEM) { /* too many, or a directory not listed: libgit2 asks the file system */
		vl_error_clear();
		if ((rc = git_odb_backend_loose(&loose, objects, -1, 0, 0, 0)) < 0)
			return vl_error_git(rc, _("cannot set up the quarantine"));
	}
	if (rc < 0)
		return rc;
	if ((rc = git_odb_add_alternate(odb, loose, 1)) < 0) {
		loose->free(loose);
		return vl_error_git(rc, _("cannot set up the quarantine"));
	}
	return 0;
}

static int quarantine_open(quarantine *q, vl_node *n)
{
	git_odb_backend *packed = NULL;
	vl_buf p = VL_BUF_INIT, packdir = VL_BUF_INIT;
	int rc;

	memset(q, 0, sizeof(*q));
	snprintf(q->dir, sizeof(q->dir), "%s/cache/quarantine-XXXXXX", n->home);
	if (!mkdtemp(q->dir)) {
		q->dir[0] = '\0';
		return vl_error_set(VL_ERROR, "cannot create a quarantine under '%s/cache'", n->home);
	}
	if ((rc = vl_buf_printf(&p, "%s/repo.git/objects", n->home)) < 0)
		goto out;
	/* No loose backend: the stage takes every write (a write it cannot
	 * take fails, as ours), and a loose backend would cost an access()
	 * for every object looked up. */
	if ((rc = git_odb_new(&q->odb)) < 0) {
		rc = vl_error_git(rc, _("cannot set up the quarantine"));
		goto out;
	}
	/* The stage's flushes land as packs in <dir>/pack. */
	if ((rc = vl_buf_printf(&packdir, "%s/pack", q->dir)) < 0)
		goto out;
	if (mkdir(packdir.ptr, 0700) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot create a quarantine under '%s/cache'", n->home);
		goto out;
	}
	if ((rc = git_odb_backend_pack(&packed, q->dir)) < 0 || (rc = git_odb_add_backend(q->odb, packed, 11)) < 0) {
		if (packed)
			packed->free(packed);
		rc = vl_error_git(rc, _("cannot set up the quarantine"));
		goto out;
	}
	/* Its packs are read back once (verify, promote) and then dropped:
	 * stored, not compressed. */
	if ((rc = vl_stage_open_odb(&q->stage, q->odb, q->dir)) < 0 || (rc = vl_stage_set_level(q->stage, 0)) < 0)
		goto out;
	/* Our objects: read-only (alternates), so nothing received lands
	 * there early; our packs, and our loose objects listed once
	 * (store/looselist.h: most objects asked about are new, and each
	 * "no" would be an access() of a loose path). */
	if ((rc = add_home_objects(q->odb, p.ptr)) < 0)
		goto out;
	if ((rc = git_repository_wrap_odb(&q->repo, q->odb)) < 0) {
		rc = vl_error_git(rc, _("cannot set up the quarantine"));
		goto out;
	}
out:
	vl_buf_free(&p);
	vl_buf_free(&packdir);
	return rc;
}

static void quarantine_close(quarantine *q)
{
	vl_stage_close(q->stage);
	git_repository_free(q->repo);
	git_odb_free(q->odb);
	free(q->ids);
	vl_oidset_free(&q->held);
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

/* Write what the stage holds into the quarantine directory, as a pack, and
 * have the odb list that pack (quarantine_has does not look for new ones). */
static int quarantine_flush(quarantine *q)
{
	int rc = vl_stage_flush(NULL, q->stage, NULL, 0);

	if (rc < 0) {
		q->write_failed = 1;
		return rc;
	}
	if ((rc = git_odb_refresh(q->odb)) < 0)
		return vl_error_git(rc, _("cannot read the quarantine"));
	return 0;
}

/* Does the quarantine see id (taken, or ours)? Without libgit2's rescan of
 * every pack directory on a miss (most lookups here miss: the object is
 * new): only this process writes to the node while it holds the write lock,
 * and it refreshes after its own flushes. */
static int quarantine_has(quarantine *q, const git_oid *id)
{
	if (vl_oidset_has(&q->held, id))
		return 1;
	if (git_odb_exists_ext(q->odb, id, GIT_ODB_LOOKUP_NO_REFRESH) != 1)
		return 0;
	if (vl_oidset_add(&q->held, id) < 0)
		vl_error_clear(); /* out of memory loses only the shortcut: asked again */
	return 1;
}

/* After a failed read from the source: VL_ENOMEM (set) when it failed for
 * want of memory (ours: an error, not a fault of the data), else 0. */
static int source_oom(void)
{
	const git_error *e = git_error_last();

	if (e && e->klass == GIT_ERROR_NOMEMORY)
		return vl_error_set(VL_ENOMEM, "out of memory reading received data");
	return 0;
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

	if (quarantine_has(q, id))
		return 0;
	if (depth > 4)
		return vl_error_set(VL_EINVALID, "received tree nests deeper than <ledger>/<bucket>/<id>.yaml");
	if (git_odb_read_header(&size, &type, src, id) < 0)
		return source_oom() ? VL_ENOMEM : vl_error_set(VL_EINVALID,
				"cannot read received object %s (missing, truncated or corrupt: %s)",
				git_oid_tostr_s(id), git_error_last() ? git_error_last()->message : "unreadable");
	if ((type == GIT_OBJECT_BLOB && size > q->max_blob) || size > VL_RECEIVE_MAX_TREE)
		return vl_error_set(VL_ETOOBIG, "received object %.12s is %zu bytes, over the limit",
				git_oid_tostr_s(id), size);
	if (q->nids >= VL_RECEIVE_MAX_OBJECTS || q->bytes + size > VL_RECEIVE_MAX_BYTES)
		return vl_error_set(VL_ETOOBIG, "received data is over %d objects or %zu bytes",
				VL_RECEIVE_MAX_OBJECTS, VL_RECEIVE_MAX_BYTES);
	if (git_odb_read(&obj, src, id) < 0)
		return source_oom() ? VL_ENOMEM : vl_error_set(VL_EINVALID,
				"cannot read received object %s (missing, truncated or corrupt: %s)",
				git_oid_tostr_s(id), git_error_last() ? git_error_last()->message : "unreadable");
	if (type == GIT_OBJECT_TREE) {
		if ((rc = git_tree_lookup(&tree, srcrepo, id)) < 0) {
			rc = vl_error_git(rc, _("cannot parse a received tree"));
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
	/* Straight into the stage: quarantine_has said it is new. */
	if ((rc = vl_stage_add(&written, q->stage, type, git_odb_object_data(obj), git_odb_object_size(obj))) < 0) {
		q->write_failed = 1;
		vl_error_wrap(rc, "cannot write into the quarantine");
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
	if (vl_oidset_add(&q->held, &written) < 0)
		vl_error_clear(); /* the odb answers instead */
	q->bytes += size;
	if (vl_stage_bytes(q->stage) >= VL_RECEIVE_STAGE_BYTES && (rc = quarantine_flush(q)) < 0)
		goto out;
	rc = 0;
out:
	git_tree_free(tree);
	git_odb_object_free(obj);
	return rc;
}

/* ---- one receive ---------------------------------------------------------- */

/* Caps on what is taken for one branch. */
typedef struct {
	size_t max_commit;     /* one commit object */
	size_t max_blob;       /* one blob */
	size_t max_commits;    /* new commits */
} take_caps;

static const take_caps config_caps = { VL_CONFIG_MAX_OBJECT, VL_CONFIG_MAX_OBJECT, VL_CONFIG_MAX_COMMITS };
static const take_caps scope_caps = { VL_RECEIVE_MAX_COMMIT, VL_RECORD_MAX_BYTES, VL_RECEIVE_MAX_OBJECTS };
static const take_caps evidence_caps = { VL_EVIDENCE_MAX_COMMIT, VL_RECORD_MAX_BYTES, VL_EVIDENCE_MAX_COMMITS };

/* A scope branch offered, and what became of it. */
typedef struct {
	char code[13];
	git_oid theirs, ours;
	int have_ours;
	int accepted;          /* verified: moved after promotion */
} branch;

typedef struct {
	vl_node *n;
	const char *label;
	vl_receive_result *res;
	git_odb *srcodb;          /* borrowed from the source */
	git_repository *srcrepo;  /* srcodb wrapped, with an empty config */
	quarantine q;
	vl_view view;             /* the quarantine: our objects and the received */
	git_odb *home_odb;
	/* what the source offers */
	int have_config;
	git_oid config;
	branch *branches;
	size_t nbranches, capbranches;
	git_oid *offered_evidence;
	size_t noffered, capoffered;
	/* what was accepted: tips whose quarantined objects are promoted */
	git_oid *keep;
	size_t nkeep, capkeep;
	git_oid *taken;           /* every tip take_history was called for */
	size_t ntaken, captaken;
	git_oid *evidence;        /* refs/evidence/ to create */
	size_t nevidence, capevidence;
	size_t evidence_bytes;
	/* records new on the branches accepted so far, sorted by id: a later
	 * branch of this receive may not add one of their ids again */
	vl_new_id *new_ids;
	size_t nnew_ids;
} rx;

static int push_oid(git_oid **arr, size_t *n, size_t *cap, const git_oid *id)
{
	int rc;

	if ((rc = vl_array_grow((void **)arr, cap, *n, sizeof(**arr))) < 0)
		return rc;
	git_oid_cpy(&(*arr)[(*n)++], id);
	return 0;
}

/* The refs a source offers that receive looks at: config, scope branches
 * this node may read (its own unit and those below), evidence. Anything
 * else is ignored. */
static int offered_ref(const char *name, const git_oid *target, void *ctx)
{
	rx *x = ctx;
	int rc;

	if (!strcmp(name, VL_REF_CONFIG)) {
		x->have_config = 1;
		git_oid_cpy(&x->config, target);
		return 0;
	}
	if (!strncmp(name, VL_REF_SCOPE_PREFIX, strlen(VL_REF_SCOPE_PREFIX))) {
		const char *code = name + strlen(VL_REF_SCOPE_PREFIX);
		branch *b;
		if (strlen(code) != 12 || vl_division_level(code) == VL_DIV_INVALID ||
				!vl_division_covers(x->n->scope, code))
			return 0;
		if ((rc = vl_array_grow((void **)&x->branches, &x->capbranches, x->nbranches, sizeof(*x->branches))) < 0)
			return rc;
		b = &x->branches[x->nbranches++];
		memset(b, 0, sizeof(*b));
		memcpy(b->code, code, 13);
		git_oid_cpy(&b->theirs, target);
		return 0;
	}
	if (!strncmp(name, "refs/evidence/", 14) && x->noffered < VL_EVIDENCE_MAX_REFS)
		return push_oid(&x->offered_evidence, &x->noffered, &x->capoffered, target);
	return 0;
}

/*
 * Take the history of `tip` into the quarantine, down to what the
 * quarantine already sees (ours, or taken before), checking each commit's
 * type and size from its header before parsing it: a commit object can be
 * a bomb too (docs/threats.md). VL_EINVALID
 * / VL_ETOOBIG with the reason when the source's history is malformed or
 * over a cap.
 */
static int take_history(rx *x, const git_oid *tip, const take_caps *caps)
{
	git_commit *c = NULL;
	git_oid id, *stack = NULL;
	size_t nstack = 0, capstack = 0, taken = 0;
	int rc = 0;

	x->q.max_blob = caps->max_blob;
	/* Before anything is taken: promote's shortcut relies on every tip
	 * that took objects being here. */
	if ((rc = push_oid(&x->taken, &x->ntaken, &x->captaken, tip)) < 0 ||
			(rc = push_oid(&stack, &nstack, &capstack, tip)) < 0)
		return rc;
	while (nstack) {
		size_t size;
		git_object_t type;
		unsigned k;
		git_oid_cpy(&id, &stack[--nstack]);
		if (quarantine_has(&x->q, &id))
			continue;
		if (++taken > caps->max_commits) {
			rc = vl_error_set(VL_ETOOBIG, "received history has over %zu new commits", caps->max_commits);
			break;
		}
		if (git_odb_read_header(&size, &type, x->srcodb, &id) < 0) {
			if ((rc = source_oom()) < 0)
				break;
			rc = vl_error_set(VL_EINVALID, "received history names %.12s, which the source does not hold "
					"whole (missing, truncated or corrupt: %s)", git_oid_tostr_s(&id),
					git_error_last() ? git_error_last()->message : "unreadable");
			break;
		}
		if (type != GIT_OBJECT_COMMIT) {
			rc = vl_error_set(VL_EINVALID, "received history names %.12s, a %s where a commit belongs",
					git_oid_tostr_s(&id), git_object_type2string(type));
			break;
		}
		if (size > caps->max_commit) {
			rc = vl_error_set(VL_ETOOBIG, "received commit %.12s is %zu bytes, over the limit of %zu (the size limit)",
					git_oid_tostr_s(&id), size, caps->max_commit);
			break;
		}
		if (git_commit_lookup(&c, x->srcrepo, &id) < 0) {
			if ((rc = source_oom()) < 0)
				break;
			rc = vl_error_set(VL_EINVALID, "received commit %.12s does not parse", git_oid_tostr_s(&id));
			break;
		}
		rc = take_object(&x->q, x->srcodb, x->srcrepo, git_commit_tree_id(c), 0);
		if (rc == 0)
			rc = take_object(&x->q, x->srcodb, x->srcrepo, &id, 0);
		for (k = 0; rc == 0 && k < git_commit_parentcount(c); k++)
			rc = push_oid(&stack, &nstack, &capstack, git_commit_parent_id(c, k));
		git_commit_free(c);
		c = NULL;
		if (rc < 0)
			break;
	}
	/* What was taken is on disk before anything reads the directory. */
	if (rc == 0)
		rc = quarantine_flush(&x->q);
	free(stack);
	return rc;
}

/* The pinned network file: <home>/network.yaml, or the network.yaml of our
 * own config. VL_ENOTFOUND when there is neither. */
static int load_pinned_network(vl_value **out, vl_node *n)
{
	vl_buf p = VL_BUF_INIT, b = VL_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = vl_buf_printf(&p, "%s/network.yaml", n->home)) < 0)
		goto out;
	rc = vl_buf_read_file(&b, p.ptr, VL_NETWORK_FILE_MAX);
	if (rc == VL_ENOTFOUND)
		rc = vl_repo_read(&b, NULL, n->repo, VL_REF_CONFIG, NULL, "network.yaml", VL_NETWORK_FILE_MAX);
	if (rc < 0 || (rc = vl_yaml_load(out, b.ptr, b.len, &vl_yaml_file_limits, "network.yaml")) < 0)
		goto out;
out:
	vl_buf_free(&p);
	vl_buf_free(&b);
	return rc;
}

/*
 * The received config is this network's: its network.yaml names the pinned
 * network and root keys. (Every config commit keeps them fixed, and its
 * first is signed by one of those root keys: both checked by verify and
 * roster.h, so this one check ties the whole history to the pin.)
 */
static int check_pinned(rx *x)
{
	vl_value *pinned = NULL;
	const vl_value *a, *b;
	int rc;

	if ((rc = load_pinned_network(&pinned, x->n)) < 0) {
		vl_error_wrap(rc, "cannot read this node's network.yaml, which pins the network to fetch");
		goto out;
	}
	a = vl_value_map_get(x->n->network, "network");
	b = vl_value_map_get(pinned, "network");
	if (!a || !b || !vl_value_equal(a, b) ||
			!vl_value_equal(vl_value_map_get(x->n->network, "root_keys"), vl_value_map_get(pinned, "root_keys")))
		rc = vl_error_set(VL_EDENIED, "the config of %s names another network or other root keys than "
				"this node's network.yaml: this is another network; nothing fetched", x->label);
out:
	vl_value_free(pinned);
	return rc;
}

/*
 * The config branch: taken into the quarantine, a fast-forward of ours,
 * verified there with the one set of config rules (verify.h, roster.h).
 * Leaves the received config loaded on success (it judges the scope
 * branches); on refusal the node's own is loaded again and nothing changed.
 * *update: 1 when the config ref is to move to the source's.
 */
static int receive_config(rx *x, int *update)
{
	vl_node *n = x->n;
	vl_verify_result vr;
	git_oid ours;
	int rc, have_ours;

	memset(&vr, 0, sizeof(vr));
	*update = 0;
	rc = vl_repo_head(&ours, n->repo, VL_REF_CONFIG);
	if (rc < 0 && rc != VL_ENOTFOUND)
		return rc;
	have_ours = rc == 0;
	if (have_ours && git_oid_equal(&ours, &x->config)) {
		x->res->config = VL_CONFIG_UNCHANGED;
		return vl_node_load_config(n);
	}
	if ((rc = take_history(x, &x->config, &config_caps)) < 0) {
		vl_error_wrap(rc, "the config of %s is refused; nothing fetched", x->label);
		return rc;
	}
	if (have_ours && git_graph_descendant_of(x->q.repo, &ours, &x->config) == 1) {
		x->res->config = VL_CONFIG_OURS_NEWER;
		return vl_node_load_config(n);
	}
	if (have_ours && git_graph_descendant_of(x->q.repo, &x->config, &ours) != 1)
		return vl_error_set(VL_ECONFLICT, "the config of %s does not extend ours (ours %.12s is not in "
				"its history); nothing fetched", x->label, git_oid_tostr_s(&ours));
	/* The received head's roster and schemas judge it (and then the scope
	 * branches): loaded from the quarantine, dropped again if refused. */
	if ((rc = vl_node_load_config_at(n, x->q.repo, &x->config)) < 0) {
		vl_error_wrap(rc, "the config of %s is refused; nothing fetched", x->label);
		goto refused;
	}
	if ((rc = check_pinned(x)) < 0)
		goto refused;
	if ((rc = vl_verify_received(&x->view, n, VL_REF_CONFIG, &x->config, have_ours ? &ours : NULL, &vr)) < 0)
		goto refused;
	if (vr.failures) {
		rc = vl_buf_printf(&x->res->report, _("config from %s refused; nothing was taken:\n%s"), x->label,
				vr.report.ptr ? vr.report.ptr : "");
		rc = rc < 0 ? rc : vl_error_set(VL_EBADSIG, "the config of %s is refused; nothing fetched:\n%.1500s",
				x->label, vr.report.ptr ? vr.report.ptr : "");
		goto refused;
	}
	x->res->config_commits = vr.commits;
	*update = 1;
	vl_verify_result_free(&vr);
	return push_oid(&x->keep, &x->nkeep, &x->capkeep, &x->config);
refused:
	vl_verify_result_free(&vr);
	/* Our own config again, or none for a node that had none (an error
	 * there is secondary: the first message stands). */
	{
		char first[1024];
		int again;
		snprintf(first, sizeof(first), "%s", vl_error_last());
		again = vl_node_reload_config(n);
		(void)again;
		vl_error_set(rc, "%s", first);
	}
	return rc;
}

/* Add to *sum the sizes of the objects below `id` the node does not hold
 * (an upper bound: a shared object counts each time); stop over `cap`. */
static int new_bytes(rx *x, const git_oid *id, size_t *sum, size_t cap, int depth)
{
	git_tree *t = NULL;
	size_t size, i;
	git_object_t type;
	int rc = 0;

	if (*sum > cap || git_odb_exists(x->home_odb, id))
		return 0;
	if (depth > 5 || git_odb_read_header(&size, &type, x->q.odb, id) < 0)
		return vl_error_set(VL_EINVALID, "evidence object %.12s cannot be read", git_oid_tostr_s(id));
	*sum += size;
	if (type == GIT_OBJECT_COMMIT) {
		git_commit *c = NULL;
		if (git_commit_lookup(&c, x->q.repo, id) < 0)
			return vl_error_set(VL_EINVALID, "evidence commit %.12s does not parse", git_oid_tostr_s(id));
		rc = new_bytes(x, git_commit_tree_id(c), sum, cap, depth + 1);
		git_commit_free(c);
		return rc;
	}
	if (type != GIT_OBJECT_TREE)
		return 0;
	if (git_tree_lookup(&t, x->q.repo, id) < 0)
		return vl_error_set(VL_EINVALID, "evidence tree %.12s does not parse", git_oid_tostr_s(id));
	for (i = 0; rc == 0 && i < git_tree_entrycount(t) && *sum <= cap; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		if (git_tree_entry_type(e) == GIT_OBJECT_BLOB || git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = new_bytes(x, git_tree_entry_id(e), sum, cap, depth + 1);
	}
	git_tree_free(t);
	return rc;
}

/*
 * Kept evidence must pass the checks of any received commit (paths, modes,
 * sizes, canonical signed records of its scope, trailers; verify.h
 * vl_verify_evidence): the commit and each of its ancestors the node does
 * not hold, at most VL_EVIDENCE_MAX_COMMITS of them and VL_EVIDENCE_MAX_BYTES
 * per receive. 1 when it may be kept, 0 when not (said in the report).
 */
static int evidence_ok(rx *x, const char *scope, const git_oid *commit)
{
	vl_verify_result vr;
	git_oid *stack = NULL, id;
	size_t nstack = 0, capstack = 0, seen = 0, bytes = x->evidence_bytes;
	int rc, ok = 0;

	memset(&vr, 0, sizeof(vr));
	/* Its history down to what we hold, within the evidence caps. */
	if ((rc = take_history(x, commit, &evidence_caps)) < 0)
		goto refuse;
	if ((rc = push_oid(&stack, &nstack, &capstack, commit)) < 0)
		goto out;
	while (nstack) {
		git_commit *c = NULL;
		unsigned k;
		git_oid_cpy(&id, &stack[--nstack]);
		if (git_odb_exists(x->home_odb, &id))
			continue;
		if (++seen > VL_EVIDENCE_MAX_COMMITS) {
			rc = vl_error_set(VL_ETOOBIG, "evidence %.12s brings over %d commits we do not hold",
					git_oid_tostr_s(commit), VL_EVIDENCE_MAX_COMMITS);
			goto refuse;
		}
		/* What keeping it would add: the commit and its new trees and records. */
		if ((rc = new_bytes(x, &id, &bytes, VL_EVIDENCE_MAX_BYTES, 0)) < 0)
			goto refuse;
		if (bytes > VL_EVIDENCE_MAX_BYTES) {
			rc = vl_error_set(VL_ETOOBIG, "evidence is over %zu bytes in one receive", VL_EVIDENCE_MAX_BYTES);
			goto refuse;
		}
		if ((rc = vl_verify_evidence(&x->view, x->n, scope, &id, &vr)) < 0)
			goto out;
		if ((rc = git_commit_lookup(&c, x->q.repo, &id)) < 0) {
			rc = vl_error_git(rc, _("cannot read an evidence commit"));
			goto out;
		}
		for (k = 0; rc == 0 && k < git_commit_parentcount(c); k++)
			rc = push_oid(&stack, &nstack, &capstack, git_commit_parent_id(c, k));
		git_commit_free(c);
		if (rc < 0)
			goto out;
	}
	if (vr.failures) {
		rc = vl_buf_printf(&x->res->report, "evidence %.12s from %s not kept; it breaks the rules of "
				"received data:\n%s", git_oid_tostr_s(commit), x->label, vr.report.ptr ? vr.report.ptr : "");
		goto out;
	}
	x->evidence_bytes = bytes;
	ok = 1;
	rc = 0;
	goto out;
refuse:
	rc = vl_buf_printf(&x->res->report, "evidence %.12s from %s not kept: %s\n", git_oid_tostr_s(commit),
			x->label, vl_error_last());
out:
	free(stack);
	vl_verify_result_free(&vr);
	return rc < 0 ? rc : ok;
}

/* Keep commit `id` (checked by evidence_ok, or ours) under refs/evidence/. */
static int keep_evidence(rx *x, const git_oid *id)
{
	size_t i;
	int rc;

	for (i = 0; i < x->nevidence; i++)
		if (git_oid_equal(&x->evidence[i], id))
			return 0;
	if ((rc = push_oid(&x->evidence, &x->nevidence, &x->capevidence, id)) < 0)
		return rc;
	return git_odb_exists(x->home_odb, id) ? 0 : push_oid(&x->keep, &x->nkeep, &x->capkeep, id);
}

/* One scope branch: take, verify, accept or refuse (objects stay in the
 * quarantine and are promoted only when reachable from what is accepted). */
static int receive_branch(rx *x, branch *b)
{
	vl_node *n = x->n;
	vl_verify_result vr;
	char refname[64];
	size_t i;
	int rc;

	memset(&vr, 0, sizeof(vr));
	vl_scope_ref(refname, b->code);
	rc = vl_repo_head(&b->ours, n->repo, refname);
	if (rc < 0 && rc != VL_ENOTFOUND)
		return rc;
	b->have_ours = rc == 0;
	/* Nothing new when their head is one we hold and ours contains it
	 * (both local, so nothing of theirs is parsed for this). */
	if (b->have_ours && (git_oid_equal(&b->ours, &b->theirs) ||
			(git_odb_exists(x->home_odb, &b->theirs) &&
			 git_graph_descendant_of(n->repo, &b->ours, &b->theirs) == 1)))
		return 0;
	if ((rc = take_history(x, &b->theirs, &scope_caps)) < 0) {
		/* Out of memory or a failed write is ours: an error (exit 1), not
		 * a refusal of the peer's data. */
		if (rc == VL_ENOMEM || x->q.write_failed)
			return rc;
		/* A cap or a malformed object: the branch is refused as a whole. */
		x->res->branches_refused++;
		return vl_buf_printf(&x->res->report, "scope/%s from %s refused; nothing was taken: %s\n", b->code,
				x->label, vl_error_last());
	}
	vr.also_new = x->new_ids;
	vr.nalso_new = x->nnew_ids;
	if ((rc = vl_verify_received(&x->view, n, refname, &b->theirs, b->have_ours ? &b->ours : NULL, &vr)) < 0)
		goto out; /* a local failure (memory, I/O): peer problems are in vr.failures */
	if (vr.failures) {
		x->res->branches_refused++;
		if ((rc = vl_buf_printf(&x->res->report, "scope/%s from %s refused; nothing was taken:\n%s", b->code,
				x->label, vr.report.ptr ? vr.report.ptr : "")) < 0)
			goto out;
		/* Pairs (ours, theirs) one key signed at one seq: theirs is kept
		 * only if it passes the checks of received data. */
		for (i = 0; i + 1 < vr.nevidence; i += 2) {
			if ((rc = evidence_ok(x, b->code, &vr.evidence[i + 1])) < 0)
				goto out;
			if (rc == 1 && ((rc = keep_evidence(x, &vr.evidence[i])) < 0 ||
					(rc = keep_evidence(x, &vr.evidence[i + 1])) < 0))
				goto out;
		}
		rc = 0;
		goto out;
	}
	if (vr.nnew_ids) {
		vl_new_id *nn = realloc(x->new_ids, (x->nnew_ids + vr.nnew_ids) * sizeof(*nn));
		if (!nn) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		memcpy(nn + x->nnew_ids, vr.new_ids, vr.nnew_ids * sizeof(*nn));
		x->new_ids = nn;
		x->nnew_ids += vr.nnew_ids;
		qsort(x->new_ids, x->nnew_ids, sizeof(*x->new_ids), vl_new_id_cmp);
	}
	b->accepted = 1;
	x->res->commits += vr.commits;
	rc = push_oid(&x->keep, &x->nkeep, &x->capkeep, &b->theirs);
out:
	vl_verify_result_free(&vr);
	return rc;
}

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
			size > VL_RECEIVE_MAX_TREE || git_commit_tree(&t, c) < 0)
		return;
	for (depth = 0; depth < 3 && t && git_tree_entrycount(t) > 0; depth++) {
		const git_tree_entry *first = git_tree_entry_byindex(t, 0);
		if (depth < 2) {
			git_tree *sub = NULL;
			if (git_tree_entry_type(first) != GIT_OBJECT_TREE ||
					git_odb_read_header(&size, &type, srcodb, git_tree_entry_id(first)) < 0 ||
					type != GIT_OBJECT_TREE || size > VL_RECEIVE_MAX_TREE ||
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
 * same Vledger-Prev, or for a first commit records of the same scope) — and
 * only when each passes the checks of received data (evidence_ok). A lone
 * signed commit under refs/evidence/ proves nothing and is ignored.
 */
static int receive_offered_evidence(rx *x)
{
	evidence_cand *cand = NULL;
	size_t ncand = 0, cap = 0, i, j, *partner = NULL;
	unsigned char *ok = NULL;
	int rc = 0;

	for (i = 0; i < x->noffered; i++) {
		const git_oid *t = &x->offered_evidence[i];
		git_odb_object *obj = NULL;
		git_commit *c = NULL;
		git_object_t htype = GIT_OBJECT_INVALID;
		size_t hsize = 0;
		unsigned char pk[32];
		vl_buf seq = VL_BUF_INIT, prev = VL_BUF_INIT;
		int sv = 0, tv = 0, pv;
		/* Type and size from the header before anything is inflated. */
		if (git_odb_read_header(&hsize, &htype, x->srcodb, t) == 0 && htype == GIT_OBJECT_COMMIT &&
				hsize < VL_EVIDENCE_MAX_COMMIT && git_odb_read(&obj, x->srcodb, t) == 0 &&
				(sv = vl_commit_verify(git_odb_object_data(obj), git_odb_object_size(obj), pk)) == 0 &&
				git_commit_lookup(&c, x->srcrepo, t) == 0 &&
				(tv = vl_message_trailer(&seq, git_commit_message(c), "Vledger-Seq")) == 0) {
			const vl_roster_entry *who;
			char fp[VL_FP_LEN];
			vl_fingerprint(fp, pk);
			/* Evidence carries the signer's records: take it only when this
			 * node may read everything that key may write. */
			if ((who = vl_node_roster_find(x->n, fp)) && vl_division_covers(x->n->scope, who->scope)) {
				if ((rc = vl_array_grow((void **)&cand, &cap, ncand, sizeof(*cand))) == 0) {
					memset(&cand[ncand], 0, sizeof(cand[ncand]));
					git_oid_cpy(&cand[ncand].id, t);
					memcpy(cand[ncand].fp, fp, VL_FP_LEN);
					cand[ncand].seq = strtoull(seq.ptr, NULL, 10);
					if ((pv = vl_message_trailer(&prev, git_commit_message(c), "Vledger-Prev")) == 0)
						snprintf(cand[ncand].prev, sizeof(cand[ncand].prev), "%s", prev.ptr);
					else if (pv != VL_ENOTFOUND)
						rc = pv;
					first_record_scope(cand[ncand].scope, x->srcrepo, x->srcodb, c);
					ncand++;
				}
			}
		} else if (sv == VL_ENOMEM || (tv < 0 && tv != VL_ENOTFOUND)) {
			/* Out of memory: an error, not evidence passed over. */
			rc = sv == VL_ENOMEM ? sv : tv;
		}
		git_commit_free(c);
		git_odb_object_free(obj);
		vl_buf_free(&seq);
		vl_buf_free(&prev);
		if (rc < 0)
			goto out;
	}
	/* Pair each candidate; judge each paired one; keep a pair only when both
	 * of its commits pass (half a pair proves nothing). */
	if (ncand && (!(partner = malloc(ncand * sizeof(*partner))) || !(ok = calloc(ncand, 1)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < ncand; i++) {
		partner[i] = SIZE_MAX;
		for (j = 0; j < ncand && partner[i] == SIZE_MAX; j++)
			if (j != i && !strcmp(cand[i].fp, cand[j].fp) && cand[i].seq == cand[j].seq &&
					!git_oid_equal(&cand[i].id, &cand[j].id) &&
					(cand[i].prev[0] ? !strcmp(cand[i].prev, cand[j].prev)
							 : !cand[j].prev[0] && cand[i].scope[0] &&
							   !strcmp(cand[i].scope, cand[j].scope)))
				partner[i] = j;
		if (partner[i] == SIZE_MAX || !cand[i].scope[0] || !vl_division_covers(x->n->scope, cand[i].scope))
			continue;
		/* Ours already: checked when it came. */
		if (git_odb_exists(x->home_odb, &cand[i].id)) {
			ok[i] = 1;
			continue;
		}
		if ((rc = evidence_ok(x, cand[i].scope, &cand[i].id)) < 0)
			goto out;
		ok[i] = rc == 1;
	}
	for (i = 0; i < ncand; i++) {
		char name[128];
		git_reference *mine = NULL;
		if (partner[i] == SIZE_MAX || !ok[i] || !ok[partner[i]])
			continue;
		snprintf(name, sizeof(name), "refs/evidence/%s", git_oid_tostr_s(&cand[i].id));
		rc = git_reference_lookup(&mine, x->n->repo, name);
		git_reference_free(mine);
		if (rc != GIT_ENOTFOUND) {
			rc = 0;
			continue; /* held already */
		}
		if ((rc = keep_evidence(x, &cand[i].id)) < 0)
			goto out;
	}
	rc = 0;
out:
	free(cand);
	free(partner);
	free(ok);
	return rc;
}

static int oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

/* 1 when every tip taken from is among the tips kept, 0 when one is not
 * (a refused branch, evidence not kept), or VL_ENOMEM. */
static int all_taken_kept(const rx *x)
{
	git_oid *k = NULL;
	size_t i;
	int all = 1;

	if (x->nkeep == 0)
		return x->ntaken == 0;
	if (!(k = malloc(x->nkeep * sizeof(*k))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	memcpy(k, x->keep, x->nkeep * sizeof(*k));
	qsort(k, x->nkeep, sizeof(*k), oid_cmp);
	for (i = 0; i < x->ntaken && all; i++)
		all = bsearch(&x->taken[i], k, x->nkeep, sizeof(*k), oid_cmp) != NULL;
	free(k);
	return all;
}

/*
 * Move what was accepted into the node's repository as ONE pack: the
 * quarantined objects reachable from the kept tips (config head, accepted
 * branch heads, kept evidence), nothing of what was refused. The pack's
 * index is written last, so a process killed half-way leaves either no new
 * objects or all of them, never a commit whose parents are missing.
 */
static int promote(rx *x)
{
	vl_packw *pw = NULL;
	git_odb_object *o = NULL;
	vl_buf dir = VL_BUF_INIT;
	unsigned char *mark = NULL;
	git_oid *stack = NULL, id;
	size_t nstack = 0, capstack = 0, i, nmarked = 0;
	int rc = 0;

	if (x->q.nids == 0 || x->nkeep == 0)
		return 0;
	qsort(x->q.ids, x->q.nids, sizeof(*x->q.ids), oid_cmp);
	if (!(mark = calloc(x->q.nids, 1))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	/* Every object quarantined was taken from one of the tips in x->taken
	 * and is reachable from it (take_history follows nothing else). When
	 * each of those tips is kept, everything quarantined is kept: no walk
	 * (it read and parsed every object once more: 5,000 for a day). */
	if ((rc = all_taken_kept(x)) == 1) {
		memset(mark, 1, x->q.nids);
		nmarked = x->q.nids;
		rc = 0;
	} else if (rc == 0) {
		for (i = 0; i < x->nkeep && rc == 0; i++)
			rc = push_oid(&stack, &nstack, &capstack, &x->keep[i]);
	}
	while (rc == 0 && nstack) {
		git_oid *at;
		git_object *obj = NULL;
		size_t k;
		git_oid_cpy(&id, &stack[--nstack]);
		at = bsearch(&id, x->q.ids, x->q.nids, sizeof(*x->q.ids), oid_cmp);
		if (!at || mark[at - x->q.ids])
			continue; /* ours (with everything below it), or marked */
		mark[at - x->q.ids] = 1;
		nmarked++;
		if ((rc = git_object_lookup(&obj, x->q.repo, &id, GIT_OBJECT_ANY)) < 0) {
			rc = vl_error_git(rc, _("cannot read a quarantined object"));
			break;
		}
		if (git_object_type(obj) == GIT_OBJECT_COMMIT) {
			const git_commit *c = (const git_commit *)obj;
			rc = push_oid(&stack, &nstack, &capstack, git_commit_tree_id(c));
			for (k = 0; rc == 0 && k < git_commit_parentcount(c); k++)
				rc = push_oid(&stack, &nstack, &capstack, git_commit_parent_id(c, (unsigned)k));
		} else if (git_object_type(obj) == GIT_OBJECT_TREE) {
			const git_tree *t = (const git_tree *)obj;
			for (k = 0; rc == 0 && k < git_tree_entrycount(t); k++) {
				const git_tree_entry *e = git_tree_entry_byindex(t, k);
				if (git_tree_entry_type(e) == GIT_OBJECT_BLOB || git_tree_entry_type(e) == GIT_OBJECT_TREE)
					rc = push_oid(&stack, &nstack, &capstack, git_tree_entry_id(e));
			}
		}
		git_object_free(obj);
	}
	if (rc < 0 || nmarked == 0)
		goto out;
	/* Whole objects, no delta search (store/pack.h), fsynced with the
	 * directory before any ref names them. */
	if ((rc = vl_buf_printf(&dir, "%s/repo.git/objects", x->n->home)) < 0 ||
			(rc = vl_packw_open(&pw, dir.ptr, 1)) < 0)
		goto out;
	for (i = 0; i < x->q.nids; i++) {
		if (!mark[i])
			continue;
		if ((rc = git_odb_read(&o, x->q.odb, &x->q.ids[i])) < 0) {
			rc = vl_error_git(rc, _("cannot read a quarantined object"));
			goto out;
		}
		if ((rc = vl_packw_add_known(pw, &x->q.ids[i], git_odb_object_type(o), git_odb_object_data(o),
				git_odb_object_size(o))) < 0)
			goto out;
		git_odb_object_free(o);
		o = NULL;
	}
	if ((rc = vl_packw_finish(NULL, pw)) < 0) {
		vl_error_wrap(rc, "cannot store the received objects");
		goto out;
	}
	if ((rc = git_odb_refresh(x->home_odb)) < 0) {
		rc = vl_error_git(rc, _("cannot read the received objects"));
		goto out;
	}
	x->res->objects += nmarked;
	rc = 0;
out:
	git_odb_object_free(o);
	vl_packw_free(pw);
	vl_buf_free(&dir);
	free(mark);
	free(stack);
	return rc;
}

/*
 * Who the peer is, for refs/peers/<peer>/: the key the source authenticated
 * as (a handshake), else the signer of the newest signed commit received and
 * accepted (verified, so a roster key), else nobody (no peer refs). Never
 * a file of the source (a rogue's keys/node.pub names the county).
 * out: the fingerprint made ref-safe, empty when nobody.
 */
static int peer_name(vl_buf *out, rx *x, vl_source *src)
{
	unsigned char pk[32];
	char fp[VL_FP_LEN];
	int64_t newest = INT64_MIN;
	size_t i, k;
	int rc, found = 0;

	rc = vl_source_peer_key(src, pk);
	if (rc == 0) {
		found = 1;
	} else if (rc != VL_ENOTFOUND) {
		return rc;
	} else {
		for (i = 0; i < x->nbranches; i++) {
			git_oid at;
			if (!x->branches[i].accepted)
				continue;
			git_oid_cpy(&at, &x->branches[i].theirs);
			/* A merge is unsigned: its first parents lead to a signed commit. */
			for (k = 0; k < 64; k++) {
				git_commit *c = NULL;
				vl_buf raw = VL_BUF_INIT;
				unsigned char cpk[32];
				int signed_one = 0;
				int64_t when;
				int merge;
				if (git_commit_lookup(&c, x->q.repo, &at) < 0)
					break;
				when = (int64_t)git_commit_committer(c)->when.time;
				merge = git_commit_parentcount(c) == 2;
				if (merge)
					git_oid_cpy(&at, git_commit_parent_id(c, 0));
				else if ((rc = vl_repo_raw_commit(&raw, x->q.repo, &at)) == 0 &&
						(rc = vl_commit_verify(raw.ptr, raw.len, cpk)) == 0)
					signed_one = 1;
				git_commit_free(c);
				vl_buf_free(&raw);
				/* Out of memory is an error, not a commit passed over. */
				if (rc == VL_ENOMEM)
					return rc;
				if (signed_one && when > newest) {
					newest = when;
					memcpy(pk, cpk, 32);
					found = 1;
				}
				if (!merge)
					break;
			}
		}
	}
	if (!found)
		return 0;
	vl_fingerprint(fp, pk);
	for (i = 7; fp[i]; i++)
		if ((rc = vl_buf_putc(out, fp[i] == '/' ? '_' : fp[i] == '+' ? '-' : fp[i])) < 0)
			return rc;
	return 0;
}

/* After promotion: record the peer's head, merge, move the branch by
 * compare-and-swap. */
static int accept_branch(rx *x, const branch *b, const char *peer, int merge)
{
	vl_node *n = x->n;
	git_reference *ref = NULL;
	char refname[64], peerref[256];
	git_oid result;
	int rc, kind = 0;

	vl_scope_ref(refname, b->code);
	peerref[0] = '\0';
	if (*peer) {
		snprintf(peerref, sizeof(peerref), "refs/peers/%s/scope/%s", peer, b->code);
		/* A failure here may come after the ref file is in place (its
		 * directory's fsync): the objects are promoted either way. */
		if ((rc = git_reference_create(&ref, n->repo, peerref, &b->theirs, 1, "vledger fetch")) < 0) {
			rc = vl_error_git(rc, _("cannot record the peer's head"));
			return vl_error_wrap(rc, "scope/%s from %s received but not merged (fetch again)", b->code,
					x->label);
		}
		git_reference_free(ref);
		ref = NULL;
	}
	if (!merge) {
		x->res->branches_updated++;
		return 0;
	}
	if (!b->have_ours) {
		git_oid_cpy(&result, &b->theirs);
	} else {
		vl_merge_summary sum;
		if ((rc = vl_merge_heads(&result, &kind, n, b->code, &b->ours, &b->theirs, &sum)) < 0) {
			/* Out of memory or a failed write is ours, not the peer's:
			 * stop with that error (exit 1), not a refusal (exit 4). */
			if (rc == VL_ENOMEM || rc == VL_ERROR)
				return vl_error_wrap(rc, "scope/%s from %s received but not merged (fetch again, or "
						"run 'vledger merge %s')", b->code, x->label,
						*peerref ? peerref : git_oid_tostr_s(&b->theirs));
			/* Received (and kept under refs/peers/ when the peer is known),
			 * but not merged: say so and go on with the other branches. */
			x->res->branches_refused++;
			return vl_buf_printf(&x->res->report, "scope/%s from %s received but not merged: %s; run "
					"'vledger merge %s' after fixing it\n", b->code, x->label, vl_error_last(),
					*peerref ? peerref : git_oid_tostr_s(&b->theirs));
		}
		x->res->conflicts += sum.conflicts;
		x->res->merges += (size_t)kind;
	}
	if ((rc = vl_repo_ref_cas(n->repo, refname, &result, b->have_ours ? &b->ours : NULL, "vledger fetch",
			"fetch again")) < 0)
		return vl_error_wrap(rc, "scope/%s from %s received but not merged (fetch again, or run "
				"'vledger merge %s')", b->code, x->label, *peerref ? peerref : git_oid_tostr_s(&b->theirs));
	x->res->branches_updated++;
	return 0;
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

static void rx_free(rx *x)
{
	git_repository_free(x->srcrepo);
	git_odb_free(x->home_odb);
	if (x->q.odb || x->q.dir[0])
		quarantine_close(&x->q);
	free(x->branches);
	free(x->offered_evidence);
	free(x->keep);
	free(x->taken);
	free(x->new_ids);
	free(x->evidence);
}

int vl_receive(vl_node *n, vl_source *source, const vl_receive_opts *opts, vl_receive_result *out)
{
	static const vl_receive_opts defaults = VL_RECEIVE_OPTS_INIT;
	git_config *empty = NULL;
	git_reference *ref = NULL;
	vl_buf peer = VL_BUF_INIT;
	git_oid ours_config;
	size_t i;
	rx x;
	int rc, update_config = 0, have_ours_config;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	if (!opts)
		opts = &defaults;
	x.n = n;
	x.res = out;
	x.label = vl_source_label(source);
	/* One writer per node: a receive and a local commit never interleave. */
	if ((rc = vl_node_lock_write(n)) < 0)
		goto out;
	sweep_quarantines(n);
	vl_progress_report(&opts->progress, N_("refs"), 0, 0);
	if ((rc = vl_source_list_refs(source, offered_ref, &x)) < 0)
		goto out;
	if (!x.have_config) {
		rc = vl_error_set(VL_ENOTFOUND, "%s has no config (no %s); give a node's repo.git", x.label,
				VL_REF_CONFIG);
		goto out;
	}
	/* The source's objects, read only through our caps; its repository
	 * layer has no config (nothing of the source's config is read). */
	if ((rc = vl_source_objects(source, &x.srcodb)) < 0)
		goto out;
	if ((rc = git_repository_wrap_odb(&x.srcrepo, x.srcodb)) < 0 || (rc = git_config_new(&empty)) < 0 ||
			(rc = git_repository_set_config(x.srcrepo, empty)) < 0 ||
			(rc = git_repository_odb(&x.home_odb, n->repo)) < 0) {
		rc = vl_error_git(rc, _("cannot set up reading the source"));
		goto out;
	}
	if ((rc = quarantine_open(&x.q, n)) < 0)
		goto out;
	x.view.repo = x.q.repo;
	x.view.quarantine_objects = x.q.dir;
	rc = vl_repo_head(&ours_config, n->repo, VL_REF_CONFIG);
	if (rc < 0 && rc != VL_ENOTFOUND)
		goto out;
	have_ours_config = rc == 0;

	/* 1. Config: a bad one refuses everything, nothing changed. */
	vl_progress_report(&opts->progress, N_("config"), 0, 0);
	if ((rc = receive_config(&x, &update_config)) < 0)
		goto out;
	/* 2. Scope branches, judged by that config. */
	for (i = 0; i < x.nbranches; i++) {
		vl_progress_report(&opts->progress, N_("scopes"), i, x.nbranches);
		out->branches_seen++;
		if ((rc = receive_branch(&x, &x.branches[i])) < 0)
			goto restore;
	}
	/* 3. Evidence the peer offers. */
	vl_progress_report(&opts->progress, N_("evidence"), 0, 0);
	if ((rc = receive_offered_evidence(&x)) < 0)
		goto restore;
	/* 4. One pack of everything accepted. */
	vl_progress_report(&opts->progress, N_("store"), 0, 0);
	if ((rc = promote(&x)) < 0)
		goto restore;
	/* 5. Refs, by compare-and-swap: config first. */
	if (update_config) {
		if ((rc = vl_repo_ref_cas(n->repo, VL_REF_CONFIG, &x.config, have_ours_config ? &ours_config : NULL,
				"vledger fetch", "fetch again")) < 0)
			goto restore;
		out->config = VL_CONFIG_UPDATED;
	}
	if ((rc = vl_node_reload_config(n)) < 0)
		goto out;
	for (i = 0; i < x.nevidence; i++) {
		char name[128];
		snprintf(name, sizeof(name), "refs/evidence/%s", git_oid_tostr_s(&x.evidence[i]));
		rc = git_reference_create(&ref, n->repo, name, &x.evidence[i], 0, "vledger: equivocation evidence");
		git_reference_free(ref);
		ref = NULL;
		if (rc < 0 && rc != GIT_EEXISTS) {
			rc = vl_error_git(rc, _("cannot keep evidence"));
			goto out;
		}
		if (rc == 0)
			out->evidence++;
	}
	if ((rc = peer_name(&peer, &x, source)) < 0)
		goto out;
	vl_progress_report(&opts->progress, N_("merge"), 0, 0);
	for (i = 0; i < x.nbranches; i++)
		if (x.branches[i].accepted && (rc = accept_branch(&x, &x.branches[i], peer.ptr ? peer.ptr : "",
				opts->merge)) < 0)
			goto out;
	rc = 0;
	goto out;
restore:
	/* Nothing moved: the node's own config again, if the received one was
	 * loaded to judge the branches. */
	if (update_config && vl_node_reload_config(n) < 0) {
		/* secondary; the first error stands */
	}
out:
	if (rc == 0 && (rc = vl_repo_head(&out->config_head, n->repo, VL_REF_CONFIG)) < 0)
		vl_error_wrap(rc, "cannot read the config head");
	git_config_free(empty);
	vl_buf_free(&peer);
	rx_free(&x);
	return rc;
}
