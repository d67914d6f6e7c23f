/*
 * bundle.c - git bundles (bundle.h): the header parser, the writer
 * (libgit2's packbuilder behind our header, plain or sealed), and the
 * bundle source (the pack indexed by libgit2's indexer under caps).
 */
#define _GNU_SOURCE /* nftw, mkdtemp, fdopen, memmem */
#include "agent/sync/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>
#include <zlib.h>
#include <git2/sys/odb_backend.h>

#include "agent/sync/seal.h"
#include "store/delta.h"
#include "store/error.h"
#include "store/i18n.h"
#include "store/pack.h"

/* ---- the header ---------------------------------------------------------- */

void vl_bundle_header_free(vl_bundle_header *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->nrefs; i++)
		free(h->refs[i].name);
	for (i = 0; i < h->nprereqs; i++)
		free(h->prereqs[i].comment);
	free(h->refs);
	free(h->prereqs);
	memset(h, 0, sizeof(*h));
}

/* A ref name a bundle may carry: "HEAD", or "refs/" + a name git accepts
 * (no control characters, spaces, "..", "//", "@{", trailing "/" or ".lock"). */
static int ref_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 4 && !memcmp(s, "HEAD", 4))
		return 1;
	if (len < 6 || memcmp(s, "refs/", 5) || s[len - 1] == '/' || s[len - 1] == '.')
		return 0;
	if (len >= 5 && !memcmp(s + len - 5, ".lock", 5))
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' ||
				c == '[' || c == '\\')
			return 0;
		if (i + 1 < len && ((c == '.' && s[i + 1] == '.') || (c == '/' && s[i + 1] == '/') ||
				(c == '@' && s[i + 1] == '{') || (c == '/' && s[i + 1] == '.')))
			return 0;
	}
	return 1;
}

static int ref_cmp(const void *a, const void *b)
{
	return strcmp(((const vl_bundle_ref *)a)->name, ((const vl_bundle_ref *)b)->name);
}

int vl_bundle_header_parse(vl_bundle_header *out, size_t *consumed, const char *data, size_t len)
{
	vl_bundle_header h;
	size_t caprefs = 0, capprereqs = 0, sl = strlen(VL_BUNDLE_SIGNATURE), lineno = 1, i;
	const char *p, *end = data + len, *eol;
	vl_bundle_ref *sorted = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&h, 0, sizeof(h));
	if (len >= 16 && !memcmp(data, "# v3 git bundle\n", 16))
		return vl_error_set(VL_EINVALID, "bundle is git's v3 format; make it with 'git bundle create "
				"--version=2' (or 'vledger bundle create')");
	if (len < sl || memcmp(data, VL_BUNDLE_SIGNATURE, sl))
		return vl_error_set(VL_EINVALID, "not a git bundle (no '# v2 git bundle' line)");
	if (len > VL_BUNDLE_MAX_HEADER)
		len = VL_BUNDLE_MAX_HEADER, end = data + len;
	for (p = data + sl;; p = eol + 1) {
		size_t ll;
		lineno++;
		if (p >= end || !(eol = memchr(p, '\n', (size_t)(end - p)))) {
			rc = len == VL_BUNDLE_MAX_HEADER ?
				vl_error_set(VL_ETOOBIG, "bundle header is over %zu bytes", VL_BUNDLE_MAX_HEADER) :
				vl_error_set(VL_EINVALID, "bundle header is truncated (no blank line ends it); copy the "
						"bundle again");
			goto out;
		}
		ll = (size_t)(eol - p);
		if (ll == 0)
			break;
		if (ll > VL_BUNDLE_MAX_LINE) {
			rc = vl_error_set(VL_ETOOBIG, "bundle header line %zu is over %d bytes", lineno, VL_BUNDLE_MAX_LINE);
			goto out;
		}
		if (memchr(p, '\0', ll)) {
			rc = vl_error_set(VL_EINVALID, "bundle header line %zu holds a NUL byte", lineno);
			goto out;
		}
		if (p[0] == '-') {
			vl_bundle_prereq *q;
			if (h.nrefs) {
				rc = vl_error_set(VL_EINVALID, "bundle header line %zu: a prerequisite after a ref", lineno);
				goto out;
			}
			if (ll < 1 + GIT_OID_HEXSZ || (ll > 1 + GIT_OID_HEXSZ && p[1 + GIT_OID_HEXSZ] != ' ')) {
				rc = vl_error_set(VL_EINVALID, "bundle header line %zu is not '-<commit id> [comment]'", lineno);
				goto out;
			}
			if (h.nprereqs >= VL_BUNDLE_MAX_PREREQS) {
				rc = vl_error_set(VL_ETOOBIG, "bundle has over %d prerequisites", VL_BUNDLE_MAX_PREREQS);
				goto out;
			}
			if ((rc = vl_array_grow((void **)&h.prereqs, &capprereqs, h.nprereqs, sizeof(*h.prereqs))) < 0)
				goto out;
			q = &h.prereqs[h.nprereqs];
			if (git_oid_fromstrn(&q->id, p + 1, GIT_OID_HEXSZ) < 0) {
				rc = vl_error_set(VL_EINVALID, "bundle header line %zu: not a commit id", lineno);
				goto out;
			}
			for (i = 1; i <= GIT_OID_HEXSZ; i++)
				if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
					rc = vl_error_set(VL_EINVALID, "bundle header line %zu: not a lower-case commit id",
							lineno);
					goto out;
				}
			q->comment = ll > 1 + GIT_OID_HEXSZ ? strndup(p + 2 + GIT_OID_HEXSZ, ll - 2 - GIT_OID_HEXSZ) :
				strdup("");
			if (!q->comment) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			h.nprereqs++;
			continue;
		}
		{
			vl_bundle_ref *r;
			if (ll < GIT_OID_HEXSZ + 2 || p[GIT_OID_HEXSZ] != ' ' ||
					!ref_name_ok(p + GIT_OID_HEXSZ + 1, ll - GIT_OID_HEXSZ - 1)) {
				rc = vl_error_set(VL_EINVALID, "bundle header line %zu is not '<commit id> <ref name>'", lineno);
				goto out;
			}
			for (i = 0; i < GIT_OID_HEXSZ; i++)
				if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
					rc = vl_error_set(VL_EINVALID, "bundle header line %zu: not a lower-case object id",
							lineno);
					goto out;
				}
			if (h.nrefs >= VL_BUNDLE_MAX_REFS) {
				rc = vl_error_set(VL_ETOOBIG, "bundle has over %d refs", VL_BUNDLE_MAX_REFS);
				goto out;
			}
			if ((rc = vl_array_grow((void **)&h.refs, &caprefs, h.nrefs, sizeof(*h.refs))) < 0)
				goto out;
			r = &h.refs[h.nrefs];
			if (git_oid_fromstrn(&r->id, p, GIT_OID_HEXSZ) < 0) {
				rc = vl_error_set(VL_EINVALID, "bundle header line %zu: not an object id", lineno);
				goto out;
			}
			if (!(r->name = strndup(p + GIT_OID_HEXSZ + 1, ll - GIT_OID_HEXSZ - 1))) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			h.nrefs++;
		}
	}
	if (!h.nrefs) {
		rc = vl_error_set(VL_EINVALID, "bundle carries no refs");
		goto out;
	}
	/* No name twice: readers would disagree on which one counts. */
	if (!(sorted = malloc(h.nrefs * sizeof(*sorted)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(sorted, h.refs, h.nrefs * sizeof(*sorted));
	qsort(sorted, h.nrefs, sizeof(*sorted), ref_cmp);
	for (i = 1; i < h.nrefs; i++)
		if (!strcmp(sorted[i - 1].name, sorted[i].name)) {
			rc = vl_error_set(VL_EINVALID, "bundle names ref '%.200s' twice", sorted[i].name);
			goto out;
		}
	*consumed = (size_t)(eol + 1 - data);
	*out = h;
	memset(&h, 0, sizeof(h));
	rc = 0;
out:
	free(sorted);
	vl_bundle_header_free(&h);
	return rc;
}

/* ---- writing ------------------------------------------------------------- */

/* A set of object ids (open addressing, grows at half full). */
typedef struct {
	git_oid *ids;
	unsigned char *used;
	size_t cap, n;
} oidset;

static size_t oidset_slot(const oidset *s, const git_oid *id)
{
	size_t h, mask = s->cap - 1;

	memcpy(&h, id->id, sizeof(h));
	for (h &= mask; s->used[h] && !git_oid_equal(&s->ids[h], id); h = (h + 1) & mask)
		;
	return h;
}

/* 1 when added, 0 when it was there, <0 on error. */
static int oidset_add(oidset *s, const git_oid *id)
{
	size_t k;

	if (2 * (s->n + 1) > s->cap) {
		oidset big = { NULL, NULL, s->cap ? s->cap * 2 : 1024, 0 };
		if (!(big.ids = malloc(big.cap * sizeof(*big.ids))) || !(big.used = calloc(big.cap, 1))) {
			free(big.ids);
			return vl_error_set(VL_ENOMEM, "out of memory");
		}
		for (k = 0; k < s->cap; k++)
			if (s->used[k]) {
				size_t at = oidset_slot(&big, &s->ids[k]);
				big.used[at] = 1;
				git_oid_cpy(&big.ids[at], &s->ids[k]);
				big.n++;
			}
		free(s->ids);
		free(s->used);
		*s = big;
	}
	k = oidset_slot(s, id);
	if (s->used[k])
		return 0;
	s->used[k] = 1;
	git_oid_cpy(&s->ids[k], id);
	s->n++;
	return 1;
}

static void oidset_free(oidset *s)
{
	free(s->ids);
	free(s->used);
	memset(s, 0, sizeof(*s));
}

/*
 * Walk the tree `id` (named `name` in its parent, "" for a root): with pb,
 * insert it and everything below it that `skip` does not hold, each under
 * its name (libgit2's packbuilder looks for deltas among objects of one
 * name: a tree's versions find each other, which git_packbuilder_insert_walk,
 * naming no tree, misses); without pb, add everything to skip.
 */
static int walk_tree(git_packbuilder *pb, oidset *skip, git_repository *repo, const git_oid *id, const char *name,
		int depth)
{
	git_tree *tree = NULL;
	size_t i;
	int rc;

	if ((rc = oidset_add(skip, id)) <= 0)
		return rc; /* seen (or excluded) already, with all below it */
	if (depth > 8)
		return vl_error_set(VL_EINVALID, "tree %.12s nests too deep for a ledger", git_oid_tostr_s(id));
	if (pb && (rc = git_packbuilder_insert(pb, id, name)) < 0)
		return vl_error_git(rc, _("cannot collect the bundle's objects"));
	if ((rc = git_tree_lookup(&tree, repo, id)) < 0)
		return vl_error_git(rc, _("cannot read a tree for the bundle"));
	for (i = 0; i < git_tree_entrycount(tree); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			rc = walk_tree(pb, skip, repo, git_tree_entry_id(e), git_tree_entry_name(e), depth + 1);
		} else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
			rc = oidset_add(skip, git_tree_entry_id(e));
			if (rc == 1 && pb && (rc = git_packbuilder_insert(pb, git_tree_entry_id(e),
					git_tree_entry_name(e))) < 0)
				rc = vl_error_git(rc, _("cannot collect the bundle's objects"));
		} else {
			rc = 0; /* submodules: nothing to carry */
		}
		if (rc < 0)
			break;
	}
	git_tree_free(tree);
	return rc < 0 ? rc : 0;
}

/* The commits walk yields, and the trees and blobs they reach that the
 * trees of `hide` do not hold, into pb (as git's "edges uninteresting": the
 * trees of the hidden commits are excluded whole). */
static int insert_objects(git_packbuilder *pb, git_repository *repo, git_revwalk *walk, const git_oid *hide,
		size_t nhide)
{
	oidset seen = { NULL, NULL, 0, 0 };
	git_commit *c = NULL;
	git_oid id;
	size_t i;
	int rc = 0;

	for (i = 0; i < nhide && rc == 0; i++) {
		if ((rc = git_commit_lookup(&c, repo, &hide[i])) < 0) {
			rc = vl_error_git(rc, _("cannot read a commit the pack leaves out"));
			break;
		}
		rc = walk_tree(NULL, &seen, repo, git_commit_tree_id(c), "", 0);
		git_commit_free(c);
		c = NULL;
	}
	while (rc == 0 && (rc = git_revwalk_next(&id, walk)) == 0) {
		if ((rc = git_packbuilder_insert(pb, &id, NULL)) < 0 || (rc = git_commit_lookup(&c, repo, &id)) < 0) {
			rc = vl_error_git(rc, _("cannot collect the pack's objects"));
			break;
		}
		rc = walk_tree(pb, &seen, repo, git_commit_tree_id(c), "", 0);
		git_commit_free(c);
		c = NULL;
	}
	if (rc == GIT_ITEROVER)
		rc = 0;
	oidset_free(&seen);
	return rc;
}

int vl_pack_collect(git_packbuilder *pb, git_repository *repo, const git_oid *tips, size_t ntips,
		const git_oid *hide, size_t nhide)
{
	git_revwalk *walk = NULL;
	size_t i;
	int rc;

	if ((rc = git_revwalk_new(&walk, repo)) < 0)
		return vl_error_git(rc, _("cannot start the pack"));
	for (i = 0; i < ntips; i++)
		if ((rc = git_revwalk_push(walk, &tips[i])) < 0) {
			rc = vl_error_git(rc, _("cannot walk the pack's refs"));
			goto out;
		}
	for (i = 0; i < nhide; i++)
		if ((rc = git_revwalk_hide(walk, &hide[i])) < 0) {
			rc = vl_error_git(rc, _("cannot walk the commits the pack leaves out"));
			goto out;
		}
	rc = insert_objects(pb, repo, walk, hide, nhide);
out:
	git_revwalk_free(walk);
	return rc;
}

/* ---- thin packs, written by us ---------------------------------------- */

/* The delta depth of an object of t->seen: its used[] byte is 1 + depth
 * (held by the receiver or written whole: 0); -1 when not there. */
static int oidset_depth(const oidset *s, const git_oid *id)
{
	size_t k;

	if (!s->cap)
		return -1;
	k = oidset_slot(s, id);
	return s->used[k] ? s->used[k] - 1 : -1;
}

static void oidset_set_depth(oidset *s, const git_oid *id, int depth)
{
	size_t k = oidset_slot(s, id);

	if (s->used[k])
		s->used[k] = (unsigned char)(1 + depth);
}

/* Where each object written to a pack starts (open addressing, grows at
 * half full). */
typedef struct {
	git_oid *ids;
	uint64_t *offs;        /* offset + 1; 0: empty slot */
	size_t cap, n;
} offmap;

static size_t offmap_slot(const offmap *m, const git_oid *id)
{
	size_t h, mask = m->cap - 1;

	memcpy(&h, id->id, sizeof(h));
	for (h &= mask; m->offs[h] && !git_oid_equal(&m->ids[h], id); h = (h + 1) & mask)
		;
	return h;
}

/* The offset of id in the pack, or 0 when not written (no entry starts at 0). */
static uint64_t offmap_get(const offmap *m, const git_oid *id)
{
	size_t k;

	if (!m->cap)
		return 0;
	k = offmap_slot(m, id);
	return m->offs[k] ? m->offs[k] - 1 : 0;
}

static int offmap_put(offmap *m, const git_oid *id, uint64_t off)
{
	size_t k;

	if (2 * (m->n + 1) > m->cap) {
		offmap big = { NULL, NULL, m->cap ? m->cap * 2 : 1024, 0 };
		if (!(big.ids = malloc(big.cap * sizeof(*big.ids))) || !(big.offs = calloc(big.cap, sizeof(*big.offs)))) {
			free(big.ids);
			return vl_error_set(VL_ENOMEM, "out of memory");
		}
		for (k = 0; k < m->cap; k++)
			if (m->offs[k]) {
				size_t at = offmap_slot(&big, &m->ids[k]);
				big.offs[at] = m->offs[k];
				git_oid_cpy(&big.ids[at], &m->ids[k]);
				big.n++;
			}
		free(m->ids);
		free(m->offs);
		*m = big;
	}
	k = offmap_slot(m, id);
	if (!m->offs[k])
		m->n++;
	git_oid_cpy(&m->ids[k], id);
	m->offs[k] = off + 1;
	return 0;
}

static void offmap_free(offmap *m)
{
	free(m->ids);
	free(m->offs);
	memset(m, 0, sizeof(*m));
}

typedef struct {
	git_odb *odb;
	git_repository *repo;
	oidset seen;           /* held by the receiver, or written to the pack already */
	offmap written;        /* where what was written starts in the pack */
	vl_packm *pm;
	vl_buf delta;
	size_t deltas;
} thin;

/*
 * Write object id (just added to t->seen) to the pack: as a delta against
 * `base` (its version in the first parent, may be NULL) when the receiver
 * will hold the base (t->seen: in a hidden commit's tree, or written to this
 * pack before), the chain stays within VL_PACK_DELTA_DEPTH and the delta is
 * smaller than the object; else whole. Only a previous version of the same
 * path on the same branch is a base: nothing of a scope the receiver may not
 * read, and nothing it lacks.
 */
static int thin_put(thin *t, const git_oid *id, const git_oid *base)
{
	git_odb_object *obj = NULL, *bobj = NULL;
	const void *data;
	size_t len;
	uint64_t here;
	int rc, bdepth = base ? oidset_depth(&t->seen, base) : -1, made = 0;

	if (base && git_oid_equal(base, id))
		bdepth = -1; /* never a delta against itself (thin_tree skips those) */
	if ((rc = git_odb_read(&obj, t->odb, id)) < 0) {
		rc = vl_error_git(rc, _("cannot read an object to send"));
		goto out;
	}
	data = git_odb_object_data(obj);
	len = git_odb_object_size(obj);
	if (bdepth >= 0 && bdepth < VL_PACK_DELTA_DEPTH && len > 2 * GIT_OID_RAWSZ &&
			git_odb_read(&bobj, t->odb, base) == 0 && git_odb_object_type(bobj) == git_odb_object_type(obj)) {
		vl_buf_clear(&t->delta);
		/* Worth it when it saves more than the base's id costs. */
		if ((rc = vl_delta_create(&t->delta, git_odb_object_data(bobj), git_odb_object_size(bobj), data, len,
				len - GIT_OID_RAWSZ - 1)) < 0)
			goto out;
		made = rc;
	}
	here = vl_packm_offset(t->pm);
	if (made) {
		/* A base written earlier goes by its offset (as git does; a few
		 * bytes instead of 20), one the receiver holds by its id: the
		 * receiver completes exactly the REF_DELTA bases (bundle.c
		 * vl_pack_index_file). */
		uint64_t boff = offmap_get(&t->written, base);
		if ((rc = boff ? vl_packm_add_ofs_delta(t->pm, boff, t->delta.ptr, t->delta.len) :
				vl_packm_add_ref_delta(t->pm, base, t->delta.ptr, t->delta.len)) < 0)
			goto out;
		oidset_set_depth(&t->seen, id, bdepth + 1);
		t->deltas++;
	} else if ((rc = vl_packm_add(t->pm, git_odb_object_type(obj), data, len)) < 0) {
		goto out;
	}
	rc = offmap_put(&t->written, id, here);
out:
	git_odb_object_free(obj);
	git_odb_object_free(bobj);
	return rc;
}

/* Tree id (named in a commit at one path; base: the tree at that path in
 * the commit's first parent, or NULL) and everything below it that t->seen
 * does not hold, each against its parent version. */
static int thin_tree(thin *t, const git_oid *id, const git_oid *base, int depth)
{
	git_tree *tree = NULL, *btree = NULL;
	size_t i;
	int rc;

	/* The same tree as in the parent: held by the receiver (the parent is
	 * hidden) or sent already (the parent is earlier in this pack). */
	if (base && git_oid_equal(base, id))
		return 0;
	if ((rc = oidset_add(&t->seen, id)) <= 0)
		return rc; /* held or sent already, with all below it */
	if (depth > 8)
		return vl_error_set(VL_EINVALID, "tree %.12s nests too deep for a ledger", git_oid_tostr_s(id));
	if ((rc = thin_put(t, id, base)) < 0)
		return rc;
	if ((rc = git_tree_lookup(&tree, t->repo, id)) < 0) {
		rc = vl_error_git(rc, _("cannot read a tree to send"));
		goto out;
	}
	if (base && git_tree_lookup(&btree, t->repo, base) < 0)
		btree = NULL; /* no base below: everything whole */
	for (i = 0; i < git_tree_entrycount(tree); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const git_tree_entry *b = btree ? git_tree_entry_byname(btree, git_tree_entry_name(e)) : NULL;
		const git_oid *bid = b && git_tree_entry_type(b) == git_tree_entry_type(e) ? git_tree_entry_id(b) : NULL;
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			rc = thin_tree(t, git_tree_entry_id(e), bid, depth + 1);
		} else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
			/* unchanged from the parent: held or sent, as for trees */
			rc = bid && git_oid_equal(bid, git_tree_entry_id(e)) ? 0 : oidset_add(&t->seen, git_tree_entry_id(e));
			if (rc == 1)
				rc = thin_put(t, git_tree_entry_id(e), bid);
		} else {
			rc = 0; /* submodules: nothing to carry */
		}
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	git_tree_free(tree);
	git_tree_free(btree);
	return rc;
}

int vl_pack_thin(vl_buf *out, size_t *objects, size_t *deltas, git_repository *repo, const git_oid *tips,
		size_t ntips, const git_oid *hide, size_t nhide)
{
	thin t;
	git_revwalk *walk = NULL;
	git_commit *c = NULL, *parent = NULL;
	git_oid id;
	size_t i, was = out->len;
	int rc;

	memset(&t, 0, sizeof(t));
	t.repo = repo;
	if ((rc = git_repository_odb(&t.odb, repo)) < 0) {
		rc = vl_error_git(rc, _("cannot read this node's objects"));
		goto out;
	}
	if ((rc = git_revwalk_new(&walk, repo)) < 0) {
		rc = vl_error_git(rc, _("cannot start the pack"));
		goto out;
	}
	/* Oldest first: a commit's parent is written (or held) before it. */
	if ((rc = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE)) < 0) {
		rc = vl_error_git(rc, _("cannot start the pack"));
		goto out;
	}
	for (i = 0; i < ntips; i++)
		if ((rc = git_revwalk_push(walk, &tips[i])) < 0) {
			rc = vl_error_git(rc, _("cannot walk the pack's refs"));
			goto out;
		}
	for (i = 0; i < nhide; i++)
		if ((rc = git_revwalk_hide(walk, &hide[i])) < 0) {
			rc = vl_error_git(rc, _("cannot walk the commits the pack leaves out"));
			goto out;
		}
	/* What the receiver holds: the trees of the hidden commits, whole. */
	for (i = 0; i < nhide; i++) {
		if ((rc = git_commit_lookup(&c, repo, &hide[i])) < 0) {
			rc = vl_error_git(rc, _("cannot read a commit the pack leaves out"));
			goto out;
		}
		rc = walk_tree(NULL, &t.seen, repo, git_commit_tree_id(c), "", 0);
		git_commit_free(c);
		c = NULL;
		if (rc < 0 || (rc = oidset_add(&t.seen, &hide[i])) < 0)
			goto out;
	}
	if ((rc = vl_packm_new(&t.pm, out, 6 /* zlib's default, as git's */)) < 0)
		goto out;
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		const git_oid *pbase = NULL, *ctree;
		if ((rc = git_commit_lookup(&c, repo, &id)) < 0) {
			rc = vl_error_git(rc, _("cannot collect the pack's objects"));
			goto out;
		}
		if (git_commit_parentcount(c) > 0 && git_commit_parent(&parent, c, 0) == 0)
			pbase = git_commit_id(parent);
		if ((rc = oidset_add(&t.seen, &id)) < 0 || (rc == 1 && (rc = thin_put(&t, &id, pbase)) < 0))
			goto out;
		ctree = git_commit_tree_id(c);
		if ((rc = thin_tree(&t, ctree, parent ? git_commit_tree_id(parent) : NULL, 0)) < 0)
			goto out;
		git_commit_free(parent);
		git_commit_free(c);
		parent = NULL;
		c = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, _("cannot walk the pack's refs"));
		goto out;
	}
	if ((rc = vl_packm_finish(t.pm)) < 0)
		goto out;
	if (objects)
		*objects = vl_packm_count(t.pm);
	if (deltas)
		*deltas = t.deltas;
	rc = 0;
out:
	if (rc < 0 && out->ptr) {
		out->len = was;
		out->ptr[was] = '\0';
	}
	git_commit_free(parent);
	git_commit_free(c);
	vl_packm_free(t.pm);
	vl_buf_free(&t.delta);
	oidset_free(&t.seen);
	offmap_free(&t.written);
	git_revwalk_free(walk);
	git_odb_free(t.odb);
	return rc;
}

typedef struct {
	FILE *f;
	vl_seal_writer *seal;
	size_t bytes;
	int rc;                /* the first write error (our code) */
} sink;

static int sink_put(sink *s, const void *data, size_t len)
{
	int rc;

	if (s->seal) {
		if ((rc = vl_seal_write(s->seal, data, len)) < 0)
			return rc;
	} else if (len && fwrite(data, 1, len, s->f) != len) {
		return vl_error_set(VL_ERROR, "cannot write the bundle: %s", strerror(errno));
	}
	s->bytes += len;
	return 0;
}

static int pack_cb(void *buf, size_t size, void *payload)
{
	sink *s = payload;
	int rc = sink_put(s, buf, size);

	if (rc < 0) {
		s->rc = rc;
		return -1;
	}
	return 0;
}

int vl_bundle_write(size_t *objects, size_t *bytes, git_repository *repo, const vl_bundle_header *h,
		const char *path, const unsigned char *seal_pk)
{
	git_packbuilder *pb = NULL;
	git_oid *tips = NULL, *hide = NULL;
	vl_buf head = VL_BUF_INIT, tmp = VL_BUF_INIT;
	sink s = { NULL, NULL, 0, 0 };
	struct stat st;
	size_t i;
	int fd = -1, rc, made = 0;

	if ((rc = vl_buf_printf(&tmp, "%s.tmp-XXXXXX", path)) < 0)
		goto out;
	if (lstat(path, &st) == 0) {
		rc = vl_error_set(VL_EEXISTS, "'%s' exists; give another file name or a directory", path);
		goto out;
	}
	/* The header. */
	if ((rc = vl_buf_puts(&head, VL_BUNDLE_SIGNATURE)) < 0)
		goto out;
	for (i = 0; i < h->nprereqs; i++)
		if ((rc = vl_buf_printf(&head, "-%s%s%s\n", git_oid_tostr_s(&h->prereqs[i].id),
				h->prereqs[i].comment && *h->prereqs[i].comment ? " " : "",
				h->prereqs[i].comment ? h->prereqs[i].comment : "")) < 0)
			goto out;
	for (i = 0; i < h->nrefs; i++)
		if ((rc = vl_buf_printf(&head, "%s %s\n", git_oid_tostr_s(&h->refs[i].id), h->refs[i].name)) < 0)
			goto out;
	if ((rc = vl_buf_putc(&head, '\n')) < 0)
		goto out;
	/* The pack: what the refs reach, less what the prerequisites reach. */
	if ((rc = git_packbuilder_new(&pb, repo)) < 0) {
		rc = vl_error_git(rc, _("cannot start the bundle's pack"));
		goto out;
	}
	git_packbuilder_set_threads(pb, 0);
	if ((h->nrefs && !(tips = malloc(h->nrefs * sizeof(*tips)))) ||
			(h->nprereqs && !(hide = malloc(h->nprereqs * sizeof(*hide))))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < h->nrefs; i++)
		git_oid_cpy(&tips[i], &h->refs[i].id);
	for (i = 0; i < h->nprereqs; i++)
		git_oid_cpy(&hide[i], &h->prereqs[i].id);
	if ((rc = vl_pack_collect(pb, repo, tips, h->nrefs, hide, h->nprereqs)) < 0)
		goto out;
	if ((fd = mkstemp(tmp.ptr)) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot create a file next to '%s': %s", path, strerror(errno));
		goto out;
	}
	made = 1;
	if (!(s.f = fdopen(fd, "wb"))) {
		rc = vl_error_set(VL_ERROR, "cannot write '%s': %s", tmp.ptr, strerror(errno));
		goto out;
	}
	fd = -1;
	if (seal_pk && (rc = vl_seal_writer_open(&s.seal, s.f, seal_pk)) < 0)
		goto out;
	if ((rc = sink_put(&s, head.ptr, head.len)) < 0)
		goto out;
	if ((rc = git_packbuilder_foreach(pb, pack_cb, &s)) < 0 || s.rc < 0) {
		rc = s.rc < 0 ? s.rc : vl_error_git(rc, _("cannot write the bundle's pack"));
		goto out;
	}
	if (s.seal && (rc = vl_seal_writer_finish(s.seal)) < 0)
		goto out;
	if (fflush(s.f) != 0 || fsync(fileno(s.f)) != 0) {
		rc = vl_error_set(VL_ERROR, "cannot write '%s': %s", tmp.ptr, strerror(errno));
		goto out;
	}
	/* link, not rename: an existing file is never replaced. */
	if (link(tmp.ptr, path) < 0) {
		rc = errno == EEXIST ? vl_error_set(VL_EEXISTS, "'%s' exists; give another file name", path) :
			vl_error_set(VL_ERROR, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	if (objects)
		*objects = git_packbuilder_object_count(pb);
	if (bytes) {
		long end = ftell(s.f);
		*bytes = end > 0 ? (size_t)end : 0;
	}
	rc = 0;
out:
	vl_seal_writer_free(s.seal);
	if (s.f)
		fclose(s.f);
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp.ptr); /* the temporary name; path keeps the file */
	free(tips);
	free(hide);
	git_packbuilder_free(pb);
	vl_buf_free(&head);
	vl_buf_free(&tmp);
	return rc;
}

/* ---- reading ------------------------------------------------------------- */

/* Open a regular file for reading without blocking on a FIFO or device. */
static int open_regular(FILE **out, const char *path)
{
	struct stat st;
	int fd, flags;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ?
			vl_error_set(VL_ENOTFOUND, "no bundle at '%s'", path) :
			vl_error_set(VL_ERROR, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return vl_error_set(VL_EINVALID, "'%s' is not a regular file; give a bundle file", path);
	}
	if ((flags = fcntl(fd, F_GETFL)) >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	if (!(*out = fdopen(fd, "rb"))) {
		close(fd);
		return vl_error_set(VL_ERROR, "cannot open '%s': %s", path, strerror(errno));
	}
	return 0;
}

int vl_bundle_peek(int *sealed, char fp[VL_FP_LEN], const char *path)
{
	unsigned char head[VL_SEAL_HEADER_MAX];
	FILE *f = NULL;
	size_t got, hlen;
	int rc;

	if ((rc = open_regular(&f, path)) < 0)
		return rc;
	got = fread(head, 1, sizeof(head), f);
	fclose(f);
	rc = vl_seal_header_parse(fp, &hlen, head, got);
	if (rc == VL_ENOTFOUND) {
		*sealed = 0;
		return 0;
	}
	if (rc < 0)
		return rc;
	*sealed = 1;
	return 0;
}

void vl_bundle_info_free(vl_bundle_info *info)
{
	size_t i;

	if (!info)
		return;
	for (i = 0; i < info->nmissing; i++)
		free(info->missing[i].comment);
	free(info->missing);
	memset(info, 0, sizeof(*info));
}

/* The plain bytes of a bundle file: read directly, or through a seal. */
typedef struct {
	FILE *f;
	vl_seal_reader *seal;
	vl_buf chunk;          /* plain text of the current chunk */
	size_t pos;
	int done;
} instream;

/* Next bytes into *data / *len (borrowed until the next call); *len 0 at the end. */
static int in_next(instream *in, const char **data, size_t *len)
{
	int rc, done = 0;

	*len = 0;
	if (in->done)
		return 0;
	vl_buf_clear(&in->chunk);
	if (in->seal) {
		while (!done && in->chunk.len == 0)
			if ((rc = vl_seal_read(in->seal, &in->chunk, &done)) < 0)
				return rc;
		if (done)
			in->done = 1;
	} else {
		size_t got;
		if ((rc = vl_buf_grow(&in->chunk, 65536)) < 0)
			return rc;
		got = fread(in->chunk.ptr, 1, 65536, in->f);
		if (got == 0) {
			if (ferror(in->f))
				return vl_error_set(VL_ERROR, "cannot read the bundle: %s", strerror(errno));
			in->done = 1;
		}
		in->chunk.len = got;
	}
	*data = in->chunk.ptr;
	*len = in->chunk.len;
	return 0;
}

/* ---- checking a pack before libgit2 indexes it ---------------------------- */

/* Read one byte; VL_EINVALID (truncated) at the end. */
static int pack_byte(FILE *f, unsigned char *c)
{
	int v = getc(f);

	if (v == EOF)
		return vl_error_set(VL_EINVALID, "the pack is truncated");
	*c = (unsigned char)v;
	return 0;
}

/* vl_bundle_pack_check, also putting the base id of every REF_DELTA into
 * refs (when not NULL) and the bytes of objects and delta results the
 * headers declare into *total (when not NULL). */
static int pack_scan(size_t *objects, uint64_t *declared, oidset *refs, FILE *f)
{
	unsigned char hdr[12], c = 0, in[16384], out[16384], dhead[32], rid[GIT_OID_RAWSZ];
	uint64_t total = 0;
	uint32_t count, i;
	z_stream z;
	int rc = 0, zinit = 0, k;

	memset(&z, 0, sizeof(z));
	if (fread(hdr, 1, 12, f) != 12 || memcmp(hdr, "PACK", 4))
		return vl_error_set(VL_EINVALID, "the pack has no pack header (truncated or not a pack)");
	if (hdr[4] || hdr[5] || hdr[6] || (hdr[7] != 2 && hdr[7] != 3))
		return vl_error_set(VL_EINVALID, "the pack is of an unknown version");
	count = (uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 | (uint32_t)hdr[10] << 8 | hdr[11];
	if (count > VL_BUNDLE_MAX_OBJECTS)
		return vl_error_set(VL_ETOOBIG, "the pack holds %u objects, over the limit of %d", count,
				VL_BUNDLE_MAX_OBJECTS);
	if (inflateInit(&z) != Z_OK)
		return vl_error_set(VL_ENOMEM, "cannot start zlib");
	zinit = 1;
	for (i = 0; i < count; i++) {
		uint64_t size, dbase = 0, dresult = 0;
		size_t got_head = 0;
		int type, shift = 4, zr = Z_OK;
		if ((rc = pack_byte(f, &c)) < 0)
			goto out;
		type = (c >> 4) & 7;
		size = c & 15;
		while (c & 0x80) {
			if (shift > 56) {
				rc = vl_error_set(VL_EINVALID, "the pack has a malformed object header");
				goto out;
			}
			if ((rc = pack_byte(f, &c)) < 0)
				goto out;
			size |= (uint64_t)(c & 0x7f) << shift;
			shift += 7;
		}
		if (type == 0 || type == 5) {
			rc = vl_error_set(VL_EINVALID, "the pack has an object of unknown type %d", type);
			goto out;
		}
		if (type == 6) {          /* OFS_DELTA: a negative offset, 7-bit groups */
			for (k = 0;; k++) {
				if (k > 9) {
					rc = vl_error_set(VL_EINVALID, "the pack has a malformed delta offset");
					goto out;
				}
				if ((rc = pack_byte(f, &c)) < 0)
					goto out;
				if (!(c & 0x80))
					break;
			}
		} else if (type == 7) {   /* REF_DELTA: the base's id */
			git_oid base;
			for (k = 0; k < GIT_OID_RAWSZ; k++) {
				if ((rc = pack_byte(f, &c)) < 0)
					goto out;
				rid[k] = c;
			}
			git_oid_fromraw(&base, rid);
			if (refs && (rc = oidset_add(refs, &base)) < 0)
				goto out;
		}
		/* Every object, and a delta's result, within the object cap,
		 * all of them within the receive cap: checked from headers
		 * before libgit2 inflates or applies anything. */
		if (size > VL_SOURCE_MAX_OBJECT) {
			rc = vl_error_set(VL_ETOOBIG, "the pack holds an object of %llu bytes, over the limit of %zu",
					(unsigned long long)size, VL_SOURCE_MAX_OBJECT);
			goto out;
		}
		if (inflateReset(&z) != Z_OK) {
			rc = vl_error_set(VL_ERROR, "cannot reset zlib");
			goto out;
		}
		z.avail_in = 0;
		while (zr != Z_STREAM_END) {
			if (z.avail_in == 0) {
				size_t got = fread(in, 1, sizeof(in), f);
				if (got == 0) {
					rc = vl_error_set(VL_EINVALID, "the pack is truncated");
					goto out;
				}
				z.next_in = in;
				z.avail_in = (uInt)got;
			}
			z.next_out = out;
			z.avail_out = sizeof(out);
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END) {
				rc = vl_error_set(VL_EINVALID, "the pack holds a corrupt object (tampered or damaged)");
				goto out;
			}
			if ((type == 6 || type == 7) && got_head < sizeof(dhead)) {
				size_t made = sizeof(out) - z.avail_out, take = sizeof(dhead) - got_head;
				memcpy(dhead + got_head, out, made < take ? made : take);
				got_head += made < take ? made : take;
			}
			if (z.total_out > size) {
				rc = vl_error_set(VL_EINVALID, "the pack holds an object longer than its header says "
						"(tampered)");
				goto out;
			}
		}
		if (z.total_out != size) {
			rc = vl_error_set(VL_EINVALID, "the pack holds an object shorter than its header says "
					"(tampered)");
			goto out;
		}
		/* Give back what zlib read past the object's end. */
		if (z.avail_in && fseeko(f, -(off_t)z.avail_in, SEEK_CUR) < 0) {
			rc = vl_error_set(VL_ERROR, "cannot read back the received pack: %s", strerror(errno));
			goto out;
		}
		if (type == 6 || type == 7) {
			if (!vl_delta_sizes(&dbase, &dresult, dhead, got_head)) {
				rc = vl_error_set(VL_EINVALID, "the pack holds a malformed delta");
				goto out;
			}
			if (dresult > VL_SOURCE_MAX_OBJECT || dbase > VL_SOURCE_MAX_OBJECT) {
				rc = vl_error_set(VL_ETOOBIG, "the pack holds a delta making %llu bytes from %llu, over "
						"the limit of %zu", (unsigned long long)dresult, (unsigned long long)dbase,
						VL_SOURCE_MAX_OBJECT);
				goto out;
			}
			size = dresult;
		}
		total += size;
		if (total > VL_RECEIVE_MAX_BYTES) {
			rc = vl_error_set(VL_ETOOBIG, "the pack holds over %zu bytes of objects", VL_RECEIVE_MAX_BYTES);
			goto out;
		}
	}
	/* The trailer, then nothing. */
	for (k = 0; k < GIT_OID_RAWSZ; k++)
		if ((rc = pack_byte(f, &c)) < 0)
			goto out;
	if (getc(f) != EOF) {
		rc = vl_error_set(VL_EINVALID, "bundle has bytes after its pack (tampered)");
		goto out;
	}
	if (objects)
		*objects = count;
	if (declared)
		*declared = total;
	rc = 0;
out:
	if (zinit)
		inflateEnd(&z);
	return rc;
}

int vl_bundle_pack_check(size_t *objects, FILE *f)
{
	return pack_scan(objects, NULL, NULL, f);
}

typedef struct {
	vl_source base;
	vl_bundle_header header;
	char dir[4096];        /* the temporary pack directory, "" when none */
	git_odb *odb;
} bundle_source;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int bundle_list_refs(vl_source *s, vl_source_ref_cb fn, void *ctx)
{
	bundle_source *bs = (bundle_source *)s;
	size_t i;
	int rc;

	for (i = 0; i < bs->header.nrefs; i++) {
		/* HEAD is a symbolic ref in the sender's repository: not offered. */
		if (strncmp(bs->header.refs[i].name, "refs/", 5))
			continue;
		if ((rc = fn(bs->header.refs[i].name, &bs->header.refs[i].id, ctx)) < 0)
			return rc;
	}
	return 0;
}

static int bundle_objects(vl_source *s, git_odb **out)
{
	*out = ((bundle_source *)s)->odb;
	return 0;
}

static int bundle_peer_key(vl_source *s, unsigned char pk[32])
{
	(void)s;
	(void)pk;
	/* A bundle proves nobody: not even a sealed one names its sender. */
	return VL_ENOTFOUND;
}

static void bundle_free(vl_source *s)
{
	bundle_source *bs = (bundle_source *)s;

	git_odb_free(bs->odb);
	if (bs->dir[0])
		nftw(bs->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	vl_bundle_header_free(&bs->header);
	vl_buf_free(&bs->base.label);
	free(bs);
}

static const vl_source_ops bundle_ops = { bundle_list_refs, bundle_objects, bundle_peer_key, bundle_free };

/* The indexer's progress: stop it once the pack declares too many objects. */
static int index_progress(const git_indexer_progress *stats, void *payload)
{
	(void)payload;
	return stats->total_objects > VL_BUNDLE_MAX_OBJECTS ? -1 : 0;
}

/*
 * Index the spooled pack pf into dir with libgit2's indexer, given no
 * object database: libgit2 1.5 completes a thin pack itself only through
 * one, and that completion loops forever (fix_thin_pack "injects" a base
 * the pack already holds) when a delta resolves to an object the pack holds
 * already: one hostile pack would spin a receiver at full CPU. Without a
 * database it fails instead. The objects inject[0..ninject) (read from
 * ours) are appended to the pack whole, with its count and trailer made
 * anew: the thin pack completed by us. idxpath gets the index's path.
 */
static int index_once(vl_buf *idxpath, size_t *objects, const char *dir, FILE *pf, git_odb *ours,
		const git_oid *inject, size_t ninject)
{
	git_indexer *idx = NULL;
	git_indexer_options iopts;
	git_indexer_progress stats;
	git_odb_object *obj = NULL;
	vl_buf ent = VL_BUF_INIT;
	vl_sha1 sum;
	unsigned char chunk[65536], trailer[GIT_OID_RAWSZ];
	uint64_t left;
	off_t size;
	size_t i, at = 0;
	int rc;

	memset(&stats, 0, sizeof(stats));
	if (fseeko(pf, 0, SEEK_END) < 0 || (size = ftello(pf)) < 12 + GIT_OID_RAWSZ || fseeko(pf, 0, SEEK_SET) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot read back a pack in '%s': %s", dir, strerror(errno));
		goto out;
	}
	if ((rc = git_indexer_options_init(&iopts, GIT_INDEXER_OPTIONS_VERSION)) < 0 ||
			(iopts.progress_cb = index_progress, (rc = git_indexer_new(&idx, dir, 0, NULL, &iopts)) < 0)) {
		rc = vl_error_git(rc, _("cannot index a received pack"));
		goto out;
	}
	vl_sha1_init(&sum);
	/* With objects to add: everything but the trailer, the count raised. */
	left = (uint64_t)size - (ninject ? GIT_OID_RAWSZ : 0);
	while (left) {
		size_t part = fread(chunk, 1, left < sizeof(chunk) ? (size_t)left : sizeof(chunk), pf);
		if (part == 0) {
			rc = vl_error_set(VL_ERROR, "cannot read back a pack in '%s'", dir);
			goto out;
		}
		if (ninject && at == 0) {
			/* The header (12 bytes, read whole: the first part is at
			 * least that long) with the new count; the check capped
			 * the old one far below 2^32 - ninject. */
			uint32_t count = (uint32_t)chunk[8] << 24 | (uint32_t)chunk[9] << 16 | (uint32_t)chunk[10] << 8 |
					chunk[11];
			count += (uint32_t)ninject;
			chunk[8] = (unsigned char)(count >> 24);
			chunk[9] = (unsigned char)(count >> 16);
			chunk[10] = (unsigned char)(count >> 8);
			chunk[11] = (unsigned char)count;
		}
		at += part;
		left -= part;
		if (ninject)
			vl_sha1_update(&sum, chunk, part);
		if ((rc = git_indexer_append(idx, chunk, part, &stats)) < 0)
			goto bad;
	}
	for (i = 0; i < ninject; i++) {
		if ((rc = git_odb_read(&obj, ours, &inject[i])) < 0) {
			rc = vl_error_git(rc, _("cannot read this node's objects"));
			goto out;
		}
		vl_buf_clear(&ent);
		if ((rc = vl_pack_entry(&ent, git_odb_object_type(obj), git_odb_object_data(obj),
				git_odb_object_size(obj))) < 0)
			goto out;
		git_odb_object_free(obj);
		obj = NULL;
		vl_sha1_update(&sum, ent.ptr, ent.len);
		if ((rc = git_indexer_append(idx, ent.ptr, ent.len, &stats)) < 0)
			goto bad;
	}
	if (ninject) {
		vl_sha1_final(trailer, &sum);
		if ((rc = git_indexer_append(idx, trailer, sizeof(trailer), &stats)) < 0)
			goto bad;
	}
	if ((rc = git_indexer_commit(idx, &stats)) < 0)
		goto bad;
	vl_buf_clear(idxpath);
	if ((rc = vl_buf_printf(idxpath, "%s/pack-%s.idx", dir, git_indexer_name(idx))) < 0)
		goto out;
	if (objects)
		*objects = stats.total_objects;
	rc = 0;
	goto out;
bad:
	rc = vl_error_git(rc, _("the pack is truncated, corrupt or tampered"));
	if (rc == VL_ERROR)
		rc = VL_EINVALID;
out:
	git_odb_object_free(obj);
	git_indexer_free(idx);
	vl_buf_free(&ent);
	return rc;
}

int vl_pack_index_file(git_odb **out, size_t *objects, vl_node *n, const char *dir, FILE *pf)
{
	vl_buf idxpath = VL_BUF_INIT;
	oidset refs = { NULL, NULL, 0, 0 };
	git_oid *inject = NULL;
	git_odb *ours = NULL, *odb = NULL;
	git_odb_backend *pack = NULL;
	uint64_t declared = 0;
	size_t k, ninject = 0, capinject = 0, missing = 0, count = 0;
	int rc;

	if (fseeko(pf, 0, SEEK_SET) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot read back a pack in '%s': %s", dir, strerror(errno));
		goto out;
	}
	if ((rc = pack_scan(NULL, &declared, &refs, pf)) < 0)
		goto out;
	if ((rc = git_repository_odb(&ours, n->repo)) < 0) {
		rc = vl_error_git(rc, _("cannot read this node's objects"));
		goto out;
	}
	/* The bases of REF_DELTAs this node holds: a thin pack's, completed
	 * here, within the same byte cap as what the pack declares. */
	for (k = 0; k < refs.cap; k++) {
		size_t len;
		git_object_t type;
		if (!refs.used[k])
			continue;
		if (git_odb_read_header(&len, &type, ours, &refs.ids[k]) < 0) {
			missing++;
			continue;
		}
		declared += len;
		if (declared > VL_RECEIVE_MAX_BYTES) {
			rc = vl_error_set(VL_ETOOBIG, "the pack with the objects it builds on holds over %zu bytes",
					VL_RECEIVE_MAX_BYTES);
			goto out;
		}
		if ((rc = vl_array_grow((void **)&inject, &capinject, ninject, sizeof(*inject))) < 0)
			goto out;
		git_oid_cpy(&inject[ninject++], &refs.ids[k]);
	}
	rc = VL_EINVALID;
	if (ninject)
		rc = index_once(&idxpath, &count, dir, pf, ours, inject, ninject);
	/* A pack holding those bases itself (libgit2's packbuilder names bases in
	 * the pack by id), or with no REF_DELTA: as it is. */
	if (rc == VL_EINVALID && (rc = index_once(&idxpath, &count, dir, pf, NULL, NULL, 0)) == VL_EINVALID &&
			missing)
		rc = vl_error_set(VL_EINVALID, "the pack builds on objects this node does not hold (%zu; made for "
				"another node, or tampered): ask its sender for a full one", missing);
	if (rc < 0)
		goto out;
	if ((rc = git_odb_new(&odb)) < 0 || (rc = git_odb_backend_one_pack(&pack, idxpath.ptr)) < 0) {
		rc = vl_error_git(rc, _("cannot read a received pack"));
		goto out;
	}
	if ((rc = git_odb_add_backend(odb, pack, 1)) < 0) {
		pack->free(pack);
		rc = vl_error_git(rc, _("cannot read a received pack"));
		goto out;
	}
	if (objects)
		*objects = count;
	*out = odb;
	odb = NULL;
	rc = 0;
out:
	git_odb_free(odb);
	git_odb_free(ours);
	free(inject);
	oidset_free(&refs);
	vl_buf_free(&idxpath);
	return rc;
}

/* Prerequisites n does not hold, into info->missing; VL_ENOTFOUND with the
 * message when there are any. */
static int check_prereqs(vl_bundle_info *info, vl_node *n, const vl_bundle_header *h, const char *path)
{
	git_odb *odb = NULL;
	vl_buf list = VL_BUF_INIT;
	size_t i, cap = 0;
	int rc;

	if ((rc = git_repository_odb(&odb, n->repo)) < 0)
		return vl_error_git(rc, _("cannot read this node's objects"));
	for (i = 0; i < h->nprereqs; i++) {
		vl_bundle_prereq *m;
		if (git_odb_exists(odb, &h->prereqs[i].id))
			continue;
		if ((rc = vl_array_grow((void **)&info->missing, &cap, info->nmissing, sizeof(*info->missing))) < 0)
			goto out;
		m = &info->missing[info->nmissing];
		git_oid_cpy(&m->id, &h->prereqs[i].id);
		if (!(m->comment = strdup(h->prereqs[i].comment))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		info->nmissing++;
		if (info->nmissing <= 5 && (rc = vl_buf_printf(&list, "%s%.12s%s%.80s", info->nmissing > 1 ? ", " : "",
				git_oid_tostr_s(&m->id), *m->comment ? " " : "", m->comment)) < 0)
			goto out;
	}
	rc = 0;
	if (info->nmissing)
		rc = info->nmissing == 1 ?
			vl_error_set(VL_ENOTFOUND, "bundle '%s' needs 1 commit this node does not hold (%s); ask the "
				"sender for a bundle made with '--full', or apply the bundles it made before this one "
				"first", path, list.ptr ? list.ptr : "") :
			vl_error_set(VL_ENOTFOUND, "bundle '%s' needs %zu commits this node does not hold (%s%s); "
				"ask the sender for a bundle made with '--full', or apply the bundles it made "
				"before this one first", path, info->nmissing, list.ptr ? list.ptr : "",
				info->nmissing > 5 ? ", ..." : "");
out:
	vl_buf_free(&list);
	git_odb_free(odb);
	return rc;
}

int vl_source_open_bundle(vl_source **out, vl_bundle_info *info, vl_node *n, const char *path)
{
	bundle_source *bs = NULL;
	instream in;
	vl_buf head = VL_BUF_INIT, spool = VL_BUF_INIT;
	FILE *pf = NULL;
	unsigned char sealhead[VL_SEAL_HEADER_MAX];
	char fp[VL_FP_LEN];
	const char *data = NULL;
	size_t len = 0, consumed = 0, packbytes = 0, got, hlen, from;
	int rc;

	*out = NULL;
	memset(info, 0, sizeof(*info));
	memset(&in, 0, sizeof(in));
	if (!(bs = calloc(1, sizeof(*bs)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	bs->base.ops = &bundle_ops;
	if ((rc = vl_buf_printf(&bs->base.label, "'%s'", path)) < 0 || (rc = open_regular(&in.f, path)) < 0)
		goto out;
	/* Sealed? Then through the seal, with this node's key. */
	got = fread(sealhead, 1, sizeof(sealhead), in.f);
	rc = vl_seal_header_parse(fp, &hlen, sealhead, got);
	if (rc == 0) {
		if (strcmp(fp, n->fp)) {
			const vl_roster_entry *e = n->config_loaded ? vl_node_roster_find(n, fp) : NULL;
			rc = e ? vl_error_set(VL_EDENIED, "bundle '%s' is sealed to '%s' '%s', not to this node; give it "
					"to that node", path, e->name, fp) :
				vl_error_set(VL_EDENIED, "bundle '%s' is sealed to '%s', not to this node; give it to "
					"that node", path, fp);
			goto out;
		}
		if (!n->have_key) {
			rc = vl_error_set(VL_EDENIED, "bundle '%s' is sealed to this node; open the node with its secret "
					"key to read it", path);
			goto out;
		}
		rewind(in.f);
		if ((rc = vl_seal_reader_open(&in.seal, in.f, &n->key)) < 0)
			goto out;
		info->sealed = 1;
	} else if (rc != VL_ENOTFOUND) {
		goto out;
	} else {
		rewind(in.f);
	}
	/* The header, up to its blank line, under its cap. */
	for (;;) {
		if ((rc = in_next(&in, &data, &len)) < 0)
			goto out;
		if (len == 0)
			break;
		if (head.len + len > VL_BUNDLE_MAX_HEADER + 65536 + VL_SEAL_CHUNK) {
			rc = vl_error_set(VL_ETOOBIG, "bundle header is over %zu bytes", VL_BUNDLE_MAX_HEADER);
			goto out;
		}
		/* Look for the blank line only in what is new (and the byte before). */
		from = head.len ? head.len - 1 : 0;
		if ((rc = vl_buf_put(&head, data, len)) < 0)
			goto out;
		if (memmem(head.ptr + from, head.len - from, "\n\n", 2) || head.len > VL_BUNDLE_MAX_HEADER)
			break;
	}
	if ((rc = vl_bundle_header_parse(&bs->header, &consumed, head.ptr ? head.ptr : "", head.len)) < 0)
		goto out;
	info->refs = bs->header.nrefs;
	info->prereqs = bs->header.nprereqs;
	if ((rc = check_prereqs(info, n, &bs->header, path)) < 0)
		goto out;
	/* The pack: indexed in a directory of its own under <home>/cache, the
	 * bases of a thin pack from our objects. */
	snprintf(bs->dir, sizeof(bs->dir), "%s/cache/bundle-XXXXXX", n->home);
	if (!mkdtemp(bs->dir)) {
		bs->dir[0] = '\0';
		rc = vl_error_set(VL_ERROR, "cannot create a directory under '%s/cache': %s", n->home, strerror(errno));
		goto out;
	}
	/* Spool the pack to a file there, check it from its headers (caps on
	 * objects and sizes before anything is inflated whole), then index it. */
	if ((rc = vl_buf_printf(&spool, "%s/incoming.pack", bs->dir)) < 0)
		goto out;
	if (!(pf = fopen(spool.ptr, "w+b"))) {
		rc = vl_error_set(VL_ERROR, "cannot write '%s': %s", spool.ptr, strerror(errno));
		goto out;
	}
	data = head.ptr + consumed;
	len = head.len - consumed;
	for (;;) {
		if (len) {
			packbytes += len;
			if (packbytes > VL_BUNDLE_MAX_PACK) {
				rc = vl_error_set(VL_ETOOBIG, "bundle's pack is over %zu bytes", VL_BUNDLE_MAX_PACK);
				goto out;
			}
			if (fwrite(data, 1, len, pf) != len) {
				rc = vl_error_set(VL_ERROR, "cannot write '%s': %s", spool.ptr, strerror(errno));
				goto out;
			}
		}
		if ((rc = in_next(&in, &data, &len)) < 0)
			goto out;
		if (len == 0)
			break;
	}
	if (packbytes == 0) {
		rc = vl_error_set(VL_EINVALID, "bundle '%s' has no pack after its header (truncated); copy it again",
				path);
		goto out;
	}
	if (fflush(pf) != 0 || fseeko(pf, 0, SEEK_SET) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot read back '%s': %s", spool.ptr, strerror(errno));
		goto out;
	}
	if ((rc = vl_pack_index_file(&bs->odb, &info->objects, n, bs->dir, pf)) < 0) {
		if (rc == VL_EINVALID)
			vl_error_wrap(rc, "bundle '%s' is truncated, corrupt or tampered; copy it again", path);
		else if (rc == VL_ETOOBIG)
			vl_error_wrap(rc, "bundle '%s' is refused", path);
		goto out;
	}
	fclose(pf);
	pf = NULL;
	unlink(spool.ptr);
	*out = &bs->base;
	bs = NULL;
	rc = 0;
out:
	if (pf)
		fclose(pf);
	vl_buf_free(&spool);
	vl_seal_reader_free(in.seal);
	if (in.f)
		fclose(in.f);
	vl_buf_free(&in.chunk);
	vl_buf_free(&head);
	if (bs)
		bundle_free(&bs->base);
	return rc;
}
