/*
 * test_delta.c - the git delta encoder (store/delta.c), the pack in memory
 * (store/pack.c vl_packm) and the thin packs of the network send
 * (agent/sync/bundle.c vl_pack_thin), each checked by the real appliers:
 * libgit2's indexer completing a thin pack from a repository's objects (what
 * the receiver does) and stock git (`index-pack --fix-thin`, `verify-pack
 * -v` for chain lengths). An object resolved from a wrong delta gets another
 * id than the one expected, so "the expected id is there" checks the bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sync/bundle.h"
#include "store/delta.h"
#include "store/pack.h"
#include "store/repo.h"
#include "testutil.h"

/* git is the repository holding the bases. */
typedef vt_repo fixture;

static uint32_t rng = 12345;

static uint32_t next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

/* A record-like text of about n bytes: YAML lines, then a signature block. */
static void record_text(vl_buf *b, size_t fields, unsigned seed)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	vl_buf_clear(b);
	for (i = 0; i < fields; i++)
		assert_int_equal(vl_buf_printf(b, "field_%zu: value %u of field %zu\n", i, (unsigned)(i * 7919u + 13u), i), 0);
	assert_int_equal(vl_buf_puts(b, "signature: |\n  "), 0);
	rng = seed;
	for (i = 0; i < 300; i++)
		assert_int_equal(vl_buf_putc(b, b64[next_rand() % 64]), 0);
	assert_int_equal(vl_buf_putc(b, '\n'), 0);
}

static git_oid put_blob(git_repository *repo, const void *data, size_t len)
{
	git_oid id;

	assert_int_equal(git_blob_create_from_buffer(&id, repo, data, len), 0);
	return id;
}

/*
 * Index the pack in p with libgit2's indexer into <dir>/idx-N, bases taken
 * from repo's objects (the receiver's way); returns the indexer's result
 * and, on success, the odb reading the pack in *out.
 */
static int index_thin(git_odb **out, const char *dir, git_repository *repo, const vl_buf *p)
{
	static int seq;
	char sub[700], idxpath[800];
	git_indexer *idx = NULL;
	git_indexer_progress stats;
	git_odb *ours = NULL, *odb = NULL;
	git_odb_backend *be = NULL;
	int rc;

	snprintf(sub, sizeof(sub), "%s/idx-%d", dir, seq++);
	assert_int_equal(vt_run(NULL, "mkdir -p '%s'", sub), 0);
	assert_int_equal(git_repository_odb(&ours, repo), 0);
	assert_int_equal(git_indexer_new(&idx, sub, 0, ours, NULL), 0);
	rc = git_indexer_append(idx, p->ptr, p->len, &stats);
	if (rc == 0)
		rc = git_indexer_commit(idx, &stats);
	if (rc == 0 && out) {
		snprintf(idxpath, sizeof(idxpath), "%s/pack-%s.idx", sub, git_indexer_name(idx));
		assert_int_equal(git_odb_new(&odb), 0);
		assert_int_equal(git_odb_backend_one_pack(&be, idxpath), 0);
		assert_int_equal(git_odb_add_backend(odb, be, 1), 0);
		*out = odb;
	}
	git_indexer_free(idx);
	git_odb_free(ours);
	return rc;
}

/* Does odb hold id with exactly these bytes? */
static void must_hold(git_odb *odb, const git_oid *id, const void *data, size_t len)
{
	git_odb_object *o = NULL;

	assert_int_equal(git_odb_read(&o, odb, id), 0);
	assert_int_equal(git_odb_object_size(o), len);
	assert_memory_equal(git_odb_object_data(o), data, len);
	git_odb_object_free(o);
}

/* Write p to <dir>/name and run git index-pack --fix-thin on it in repo git
 * (the pack goes into git's objects): git's exit status. */
static int git_fix_thin(const char *dir, const char *git, const vl_buf *p, const char *name)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	vt_write(path, p->ptr, p->len);
	return vt_run(NULL, "git --git-dir '%s' index-pack --fix-thin --stdin < '%s' >/dev/null", git, path);
}

/* Edited versions of a record against its base: each a delta, each
 * resolved to the right bytes by libgit2's indexer and by git. */
static void test_delta_round_trip(void **state)
{
	fixture *f = *state;
	vl_buf base = VL_BUF_INIT, tgt = VL_BUF_INIT, d = VL_BUF_INIT, pack = VL_BUF_INIT;
	git_oid bid, ids[64];
	vl_packm *m = NULL;
	git_odb *got = NULL;
	char *texts[64];
	size_t lens[64], n = 0, i;

	record_text(&base, 30, 1);
	bid = put_blob(f->repo, base.ptr, base.len);
	assert_int_equal(vl_packm_new(&m, &pack, 6), 0);
	for (i = 0; i < 64; i++) {
		size_t at;
		record_text(&tgt, 30, (unsigned)(i % 3 ? 1000 + i : 1)); /* mostly a new signature */
		switch (i % 4) {
		case 0: /* a field edited in place */
			at = next_rand() % (tgt.len - 20);
			tgt.ptr[at] = 'X';
			break;
		case 1: /* a line inserted */
			at = 0;
			assert_int_equal(vl_buf_puts(&tgt, "extra_field: appended\n"), 0);
			break;
		case 2: /* a prefix inserted (the first copy has an offset of 0) */
		{
			vl_buf t2 = VL_BUF_INIT;
			assert_int_equal(vl_buf_puts(&t2, "prefix: x\n"), 0);
			assert_int_equal(vl_buf_put(&t2, tgt.ptr, tgt.len), 0);
			vl_buf_free(&tgt);
			tgt = t2;
			break;
		}
		default: /* bytes removed in the middle */
			at = 100 + next_rand() % 200;
			memmove(tgt.ptr + at, tgt.ptr + at + 37, tgt.len - at - 37);
			tgt.len -= 37;
			break;
		}
		(void)at;
		assert_int_equal(vl_buf_printf(&tgt, "n: %zu\n", i), 0); /* every target distinct */
		vl_buf_clear(&d);
		assert_int_equal(vl_delta_create(&d, base.ptr, base.len, tgt.ptr, tgt.len, tgt.len / 2), 1);
		assert_true(d.len < tgt.len / 2);
		assert_int_equal(git_odb_hash(&ids[n], tgt.ptr, tgt.len, GIT_OBJECT_BLOB), 0);
		assert_false(git_oid_equal(&ids[n], &bid));
		assert_int_equal(vl_packm_add_ref_delta(m, &bid, d.ptr, d.len), 0);
		texts[n] = malloc(tgt.len);
		assert_non_null(texts[n]);
		memcpy(texts[n], tgt.ptr, tgt.len);
		lens[n++] = tgt.len;
	}
	assert_int_equal(vl_packm_count(m), n);
	assert_int_equal(vl_packm_finish(m), 0);
	assert_int_equal(index_thin(&got, f->dir, f->repo, &pack), 0);
	for (i = 0; i < n; i++)
		must_hold(got, &ids[i], texts[i], lens[i]);
	git_odb_free(got);
	assert_int_equal(git_fix_thin(f->dir, f->git, &pack, "rt.pack"), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(vt_run(NULL, "git --git-dir '%s' cat-file -e %s", f->git, git_oid_tostr_s(&ids[i])), 0);
		free(texts[i]);
	}
	vl_packm_free(m);
	vl_buf_free(&base);
	vl_buf_free(&tgt);
	vl_buf_free(&d);
	vl_buf_free(&pack);
}

/* Random data mutated at random: every delta applies to the right bytes
 * (copies over 64 KiB, offsets with zero bytes, inserts of 127 and more). */
static void test_delta_random(void **state)
{
	fixture *f = *state;
	vl_buf pack = VL_BUF_INIT, d = VL_BUF_INIT;
	vl_packm *m = NULL;
	git_odb *got = NULL;
	unsigned char *base = NULL, *tgt[40];
	size_t blen = 300000, tlen[40], i, k, made = 0;
	git_oid bid, ids[40];

	base = malloc(blen);
	assert_non_null(base);
	rng = 7;
	for (i = 0; i < blen; i++)
		base[i] = (unsigned char)(next_rand() % 7); /* low entropy: many equal blocks */
	bid = put_blob(f->repo, base, blen);
	assert_int_equal(vl_packm_new(&m, &pack, 1), 0);
	for (k = 0; k < 40; k++) {
		size_t len = k < 20 ? blen : blen / (k - 18), edits = 1 + next_rand() % 50, e, cap = len + 10000;
		tgt[k] = malloc(cap);
		assert_non_null(tgt[k]);
		memcpy(tgt[k], base + (k % 3) * 1000, len - (k % 3) * 1000);
		len -= (k % 3) * 1000;
		for (e = 0; e < edits; e++) {
			size_t at = next_rand() % len, run = 1 + next_rand() % 300;
			if (next_rand() % 2 && len + run <= cap) { /* insert run bytes */
				memmove(tgt[k] + at + run, tgt[k] + at, len - at);
				len += run;
			} else if (at + run > len) {
				run = len - at;
			}
			for (i = 0; i < run; i++)
				tgt[k][at + i] = (unsigned char)next_rand();
		}
		tlen[k] = len;
		vl_buf_clear(&d);
		assert_int_equal(vl_delta_create(&d, base, blen, tgt[k], len, len), 1);
		assert_int_equal(git_odb_hash(&ids[k], tgt[k], len, GIT_OBJECT_BLOB), 0);
		assert_int_equal(vl_packm_add_ref_delta(m, &bid, d.ptr, d.len), 0);
		made++;
	}
	assert_int_equal(vl_packm_finish(m), 0);
	assert_int_equal(index_thin(&got, f->dir, f->repo, &pack), 0);
	for (k = 0; k < made; k++)
		must_hold(got, &ids[k], tgt[k], tlen[k]);
	git_odb_free(got);
	assert_int_equal(git_fix_thin(f->dir, f->git, &pack, "random.pack"), 0);
	for (k = 0; k < made; k++) {
		assert_int_equal(vt_run(NULL, "git --git-dir '%s' cat-file -e %s", f->git, git_oid_tostr_s(&ids[k])), 0);
		free(tgt[k]);
	}
	vl_packm_free(m);
	free(base);
	vl_buf_free(&pack);
	vl_buf_free(&d);
}

/* Unrelated bytes, a cap too small, inputs under one block: no delta, and
 * the output buffer exactly as it was. */
static void test_delta_not_worth_it(void **state)
{
	vl_buf a = VL_BUF_INIT, b = VL_BUF_INIT, d = VL_BUF_INIT;
	size_t i;

	(void)state;
	rng = 99;
	for (i = 0; i < 4000; i++) {
		assert_int_equal(vl_buf_putc(&a, (char)next_rand()), 0);
		assert_int_equal(vl_buf_putc(&b, (char)next_rand()), 0);
	}
	assert_int_equal(vl_buf_puts(&d, "kept"), 0);
	assert_int_equal(vl_delta_create(&d, a.ptr, a.len, b.ptr, b.len, b.len - 21), 0);
	assert_int_equal(d.len, 4);
	assert_string_equal(d.ptr, "kept");
	/* Similar, but the cap is below what the change needs. */
	assert_int_equal(vl_delta_create(&d, a.ptr, a.len, a.ptr, a.len - 1, 4), 0);
	assert_int_equal(d.len, 4);
	assert_int_equal(vl_delta_create(&d, "short", 5, "shorter", 7, 100), 0);
	assert_int_equal(d.len, 4);
	/* The same bytes: a header and one copy op. */
	assert_int_equal(vl_delta_create(&d, a.ptr, a.len, a.ptr, a.len, a.len), 1);
	assert_true(d.len - 4 <= 2 * 2 + 1 + 3);
	vl_buf_free(&a);
	vl_buf_free(&b);
	vl_buf_free(&d);
}

/* An OFS_DELTA names an earlier entry or is refused; a finished pack takes
 * nothing more; the pack's count and checksum are what git reads. */
static void test_packm_checks(void **state)
{
	fixture *f = *state;
	vl_buf pack = VL_BUF_INIT, d = VL_BUF_INIT, text = VL_BUF_INIT;
	vl_packm *m = NULL;
	git_odb *got = NULL;
	uint64_t first;
	git_oid id;

	record_text(&text, 20, 5);
	assert_int_equal(vl_packm_new(&m, &pack, 6), 0);
	first = vl_packm_offset(m);
	assert_int_equal(first, 12);
	assert_int_equal(vl_packm_add(m, GIT_OBJECT_BLOB, text.ptr, text.len), 0);
	text.ptr[3] = 'Z';
	assert_int_equal(vl_delta_create(&d, pack.ptr, 0, text.ptr, text.len, text.len), 0); /* empty base */
	{
		vl_buf base = VL_BUF_INIT;
		record_text(&base, 20, 5);
		assert_int_equal(vl_delta_create(&d, base.ptr, base.len, text.ptr, text.len, text.len), 1);
		vl_buf_free(&base);
	}
	assert_int_equal(vl_packm_add_ofs_delta(m, vl_packm_offset(m), d.ptr, d.len), VL_EINVALID); /* itself */
	assert_int_equal(vl_packm_add_ofs_delta(m, 4, d.ptr, d.len), VL_EINVALID);               /* the header */
	assert_int_equal(vl_packm_add_ofs_delta(m, first, d.ptr, d.len), 0);
	assert_int_equal(vl_packm_count(m), 2);
	assert_int_equal(vl_packm_finish(m), 0);
	assert_int_equal(vl_packm_add(m, GIT_OBJECT_BLOB, "x", 1), VL_EINVALID);
	assert_int_equal(index_thin(&got, f->dir, f->repo, &pack), 0);
	assert_int_equal(git_odb_hash(&id, text.ptr, text.len, GIT_OBJECT_BLOB), 0);
	must_hold(got, &id, text.ptr, text.len);
	git_odb_free(got);
	assert_int_equal(git_fix_thin(f->dir, f->git, &pack, "ofs.pack"), 0);
	assert_int_equal(vt_run(NULL, "git --git-dir '%s' cat-file -e %s", f->git, git_oid_tostr_s(&id)), 0);
	vl_packm_free(m);
	vl_buf_free(&pack);
	vl_buf_free(&d);
	vl_buf_free(&text);
}

/* ---- vl_pack_thin ---- */

/* A commit on top of parent (NULL: a root) whose tree is {f: f_text,
 * d/g: g_text}. */
static git_oid commit_of(git_repository *repo, const git_oid *parent, const char *f_text, const char *g_text)
{
	git_treebuilder *tb = NULL, *sub = NULL;
	git_signature *sig = NULL;
	git_commit *p = NULL;
	git_tree *tree = NULL;
	git_oid blob, sid, tid, out;
	const git_commit *parents[1];

	assert_int_equal(git_treebuilder_new(&sub, repo, NULL), 0);
	blob = put_blob(repo, g_text, strlen(g_text));
	assert_int_equal(git_treebuilder_insert(NULL, sub, "g", &blob, GIT_FILEMODE_BLOB), 0);
	assert_int_equal(git_treebuilder_write(&sid, sub), 0);
	assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
	blob = put_blob(repo, f_text, strlen(f_text));
	assert_int_equal(git_treebuilder_insert(NULL, tb, "f", &blob, GIT_FILEMODE_BLOB), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, "d", &sid, GIT_FILEMODE_TREE), 0);
	assert_int_equal(git_treebuilder_write(&tid, tb), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tid), 0);
	assert_int_equal(git_signature_new(&sig, "t", "t@example.org", 1700000000, 0), 0);
	if (parent)
		assert_int_equal(git_commit_lookup(&p, repo, parent), 0);
	parents[0] = p;
	assert_int_equal(git_commit_create(&out, repo, NULL, sig, sig, NULL, "edit\n", tree, p ? 1 : 0, parents), 0);
	git_commit_free(p);
	git_tree_free(tree);
	git_signature_free(sig);
	git_treebuilder_free(tb);
	git_treebuilder_free(sub);
	return out;
}

/* Text of the file f at version v: a long common part, one line changed. */
static void f_version(vl_buf *b, unsigned v)
{
	size_t i;

	vl_buf_clear(b);
	for (i = 0; i < 60; i++)
		assert_int_equal(vl_buf_printf(b, "line %zu: %s\n", i, i == 30 ? "" : "the same words every time"), 0);
	assert_int_equal(vl_buf_printf(b, "version: %u\n", v), 0);
}

/* A repository at path holding exactly the objects of one commit (its
 * tree, everything below, the commit): a receiver that holds only that. */
static git_repository *holder_of(const char *path, git_repository *src, const git_oid *commit)
{
	git_repository *r = NULL;
	vl_buf pack = VL_BUF_INIT;
	size_t objects = 0;
	char dir[600];

	assert_int_equal(vl_repo_init(&r, path), 0);
	/* Everything commit reaches, whole (nothing hidden: no base at all). */
	assert_int_equal(vl_pack_thin(&pack, &objects, NULL, src, commit, 1, NULL, 0), 0);
	assert_true(objects >= 4);
	snprintf(dir, sizeof(dir), "%s/objects/pack", path);
	assert_int_equal(index_thin(NULL, dir, r, &pack), 0);
	assert_int_equal(vt_run(NULL, "mv '%s'/idx-*/* '%s'/ && rmdir '%s'/idx-*", dir, dir, dir), 0);
	vl_buf_free(&pack);
	return r;
}

/* 70 commits editing one file after the one the receiver holds: the pack
 * carries deltas (against the held version, then earlier in the pack),
 * libgit2's indexer completes it from the receiver's objects, and no chain
 * is longer than VL_PACK_DELTA_DEPTH (git verify-pack). */
static void test_pack_thin(void **state)
{
	fixture *f = *state;
	vl_buf text = VL_BUF_INIT, pack = VL_BUF_INIT;
	git_oid c[71];
	git_repository *recv = NULL;
	git_odb *got = NULL;
	char path[700], *out = NULL, *line;
	size_t objects = 0, deltas = 0, i, longest = 0;

	for (i = 0; i <= 70; i++) {
		f_version(&text, (unsigned)i);
		c[i] = commit_of(f->repo, i ? &c[i - 1] : NULL, text.ptr, i % 10 ? "g stays the same for a while\n" :
				"g changes every tenth commit, a little\n");
	}
	snprintf(path, sizeof(path), "%s/recv.git", f->dir);
	recv = holder_of(path, f->repo, &c[0]);
	assert_int_equal(vl_pack_thin(&pack, &objects, &deltas, f->repo, &c[70], 1, &c[0], 1), 0);
	assert_true(deltas > 70); /* each file version and root tree at least */
	assert_int_equal(index_thin(&got, f->dir, recv, &pack), 0);
	for (i = 1; i <= 70; i++) {
		git_odb_object *o = NULL;
		assert_int_equal(git_odb_read(&o, got, &c[i]), 0);
		git_odb_object_free(o);
	}
	git_odb_free(got);
	/* Stock git completes it too; its chains stay within the cap. */
	assert_int_equal(git_fix_thin(f->dir, path, &pack, "thin.pack"), 0);
	assert_int_equal(vt_run(&out, "git --git-dir '%s' verify-pack -v '%s'/objects/pack/pack-*.idx", path, path), 0);
	for (line = strstr(out, "chain length = "); line; line = strstr(line + 1, "chain length = ")) {
		size_t len = strtoul(line + 15, NULL, 10);
		if (len > longest)
			longest = len;
	}
	assert_true(longest >= 40); /* the chain grows, */
	assert_true(longest <= VL_PACK_DELTA_DEPTH); /* up to the cap */
	free(out);
	git_repository_free(recv);
	vl_buf_free(&text);
	vl_buf_free(&pack);
}

/* The texts of g in the history below (each long enough to be worth a
 * delta of its own). */
#define G_A0 "g of a0, long enough to be worth a delta of its own\n"
#define G_A1 "g of a1, long enough to be worth a delta of its own\n"
#define G_X "g of x., long enough to be worth a delta of its own\n"

/* The history of the two tests below: a0 -> a1 and a0 -> x, f at versions
 * 0, 1 and 2, g at G_A0, G_A1 and x_g; *a1 and *x are set, *text is left
 * at x's f. Returns a receiver at <dir>/recv.git holding a1 (and so a0). */
static git_repository *fork_beside_held(git_oid *a1, git_oid *x, vl_buf *text, const fixture *f, const char *x_g)
{
	git_oid a0;
	char path[700];

	f_version(text, 0);
	a0 = commit_of(f->repo, NULL, text->ptr, G_A0);
	f_version(text, 1);
	*a1 = commit_of(f->repo, &a0, text->ptr, G_A1);
	f_version(text, 2);
	*x = commit_of(f->repo, &a0, text->ptr, x_g);
	snprintf(path, sizeof(path), "%s/recv.git", f->dir);
	return holder_of(path, f->repo, a1);
}

/* A commit whose parent is an ancestor of the hidden commit, not the
 * hidden commit itself: its parent's versions are not known to be held,
 * so they are no base (a receiver holding only the hidden commit's objects
 * completes the pack). */
static void test_pack_thin_base_not_held(void **state)
{
	fixture *f = *state;
	vl_buf text = VL_BUF_INIT, pack = VL_BUF_INIT;
	git_oid a1, x;
	git_repository *recv = NULL;
	git_odb *got = NULL;
	size_t objects = 0, deltas = 0;

	recv = fork_beside_held(&a1, &x, &text, f, G_X);
	assert_int_equal(vl_pack_thin(&pack, &objects, &deltas, f->repo, &x, 1, &a1, 1), 0);
	assert_int_equal(objects, 5); /* x, its tree, f, d, g */
	assert_int_equal(deltas, 0);
	assert_int_equal(index_thin(&got, f->dir, recv, &pack), 0);
	git_odb_free(got);
	/* Against a1 itself the same edit goes as deltas. */
	vl_buf_clear(&pack);
	x = commit_of(f->repo, &a1, text.ptr, G_X);
	assert_int_equal(vl_pack_thin(&pack, &objects, &deltas, f->repo, &x, 1, &a1, 1), 0);
	assert_true(deltas >= 3);
	assert_int_equal(index_thin(&got, f->dir, recv, &pack), 0);
	git_odb_free(got);
	git_repository_free(recv);
	vl_buf_free(&text);
	vl_buf_free(&pack);
}

/* A commit whose parent is an ancestor of the hidden commit, with a subtree
 * the same as in that parent but not as in the hidden commit: the receiver
 * holds it (it holds the parent), so it is not sent; before, it went as a
 * delta against itself, which the receiver then held twice in one pack and
 * refused (scripts/demo.sh: the second laptop's sync). */
static void test_pack_thin_unchanged_subtree(void **state)
{
	fixture *f = *state;
	vl_buf text = VL_BUF_INIT, pack = VL_BUF_INIT;
	git_oid a1, x;
	git_repository *recv = NULL;
	git_odb *got = NULL;
	git_commit *xc = NULL;
	git_tree *xt = NULL;
	git_odb_object *o = NULL;
	size_t objects = 0, deltas = 0;

	recv = fork_beside_held(&a1, &x, &text, f, G_A0);
	assert_int_equal(vl_pack_thin(&pack, &objects, &deltas, f->repo, &x, 1, &a1, 1), 0);
	assert_int_equal(objects, 3); /* x, its tree, f: d is a0's */
	assert_int_equal(index_thin(&got, f->dir, recv, &pack), 0);
	git_odb_free(got);
	/* The receiver holds all of x now: d and g from a0. */
	assert_int_equal(git_commit_lookup(&xc, f->repo, &x), 0);
	assert_int_equal(git_commit_tree(&xt, xc), 0);
	assert_int_equal(git_repository_odb(&got, recv), 0);
	assert_int_equal(git_odb_read(&o, got, git_tree_entry_id(git_tree_entry_byname(xt, "d"))), 0);
	git_odb_object_free(o);
	git_odb_free(got);
	git_tree_free(xt);
	git_commit_free(xc);
	git_repository_free(recv);
	vl_buf_free(&text);
	vl_buf_free(&pack);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delta_round_trip, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_delta_random, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test(test_delta_not_worth_it),
		cmocka_unit_test_setup_teardown(test_packm_checks, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_pack_thin, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_pack_thin_base_not_held, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_pack_thin_unchanged_subtree, vt_repo_setup, vt_repo_teardown),
	};
	int rc;

	git_libgit2_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
