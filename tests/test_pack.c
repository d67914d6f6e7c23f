/* test_pack.c - packs we write, read back by stock git (verify-pack, fsck
 * --strict --full, cat-file); the in-memory stage in front of a real
 * repository. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pack.h"
#include "store/repo.h"
#include "testutil.h"

typedef vt_repo fixture;

/* Files in dir whose name starts with prefix and ends with suffix. */
static int count_files(const char *dir, const char *prefix, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name), sl = strlen(suffix);
		if (!strncmp(e->d_name, prefix, strlen(prefix)) && l >= sl && !strcmp(e->d_name + l - sl, suffix))
			n++;
	}
	closedir(d);
	return n;
}

/* Loose objects: files in the two-hex-digit directories. */
static int count_loose(const char *objects)
{
	char sub[700];
	int n = 0, i;

	for (i = 0; i < 256; i++) {
		snprintf(sub, sizeof(sub), "%s/%02x", objects, i);
		n += count_files(sub, "", "");
	}
	/* "." and ".." of each directory that exists */
	for (i = 0; i < 256; i++) {
		DIR *d;
		snprintf(sub, sizeof(sub), "%s/%02x", objects, i);
		if ((d = opendir(sub))) {
			n -= 2;
			closedir(d);
		}
	}
	return n;
}

static void assert_git_ok(const char *git, const char *cmd)
{
	char *out = NULL;
	int st = vt_run(&out, "git --git-dir='%s' %s 2>&1", git, cmd);

	if (st != 0)
		fail_msg("git %s: %s", cmd, out ? out : "");
	free(out);
}

static void test_packw_stock_git_reads_it(void **state)
{
	fixture *f = *state;
	vl_packw *w = NULL;
	git_oid blob, blob2, tree, commit, pack;
	char hex[GIT_OID_HEXSZ + 1], cmd[1024], *out = NULL, big[70000];
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	char commit_text[512];
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + (i * 7919) % 26);
	assert_int_equal(vl_packw_open(&w, f->objects, 1), 0);
	assert_int_equal(vl_packw_add(&blob, w, GIT_OBJECT_BLOB, "id: 1\nname: 张三\n", strlen("id: 1\nname: 张三\n")), 0);
	/* A large object (multi-byte size header), and a duplicate written once. */
	assert_int_equal(vl_packw_add(&blob2, w, GIT_OBJECT_BLOB, big, sizeof(big)), 0);
	assert_int_equal(vl_packw_add(NULL, w, GIT_OBJECT_BLOB, big, sizeof(big)), 0);
	assert_int_equal(vl_packw_count(w), 2);
	assert_true(vl_packw_has(w, &blob2));
	/* A tree over both blobs, its raw bytes as git writes them. */
	{
		/* mode SP name NUL id, sorted by name */
		char t[128];
		size_t tl = 0;
		memcpy(t + tl, "100644 a.yaml", 13);
		tl += 13;
		t[tl++] = '\0';
		memcpy(t + tl, blob.id, 20);
		tl += 20;
		memcpy(t + tl, "100644 b.yaml", 13);
		tl += 13;
		t[tl++] = '\0';
		memcpy(t + tl, blob2.id, 20);
		tl += 20;
		assert_int_equal(vl_packw_add(&tree, w, GIT_OBJECT_TREE, t, tl), 0);
	}
	snprintf(commit_text, sizeof(commit_text),
			"tree %s\nauthor A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000\n\nfirst\n",
			git_oid_tostr_s(&tree));
	assert_int_equal(vl_packw_add(&commit, w, GIT_OBJECT_COMMIT, commit_text, strlen(commit_text)), 0);
	assert_int_equal(count_files(f->objects, "", ""), 4); /* . .. info pack */
	assert_int_equal(vl_packw_finish(&pack, w), 0);
	vl_packw_free(w);

	/* Nothing left behind but the pack and its index. */
	snprintf(cmd, sizeof(cmd), "%s/pack", f->objects);
	assert_int_equal(count_files(cmd, "tmp_", ""), 0);
	assert_int_equal(count_files(cmd, "pack-", ".pack"), 1);
	assert_int_equal(count_files(cmd, "pack-", ".idx"), 1);
	assert_int_equal(count_loose(f->objects), 0);

	git_oid_tostr(hex, sizeof(hex), &pack);
	snprintf(cmd, sizeof(cmd), "verify-pack -v '%s/pack/pack-%s.idx'", f->objects, hex);
	assert_git_ok(f->git, cmd);
	assert_int_equal(vt_run(NULL, "git --git-dir='%s' update-ref refs/heads/main %s", f->git,
					 git_oid_tostr_s(&commit)), 0);
	assert_git_ok(f->git, "fsck --strict --full --no-dangling");
	assert_int_equal(vt_run(&out, "git --git-dir='%s' cat-file -p %s", f->git, git_oid_tostr_s(&blob)), 0);
	assert_string_equal(out, "id: 1\nname: 张三\n");
	free(out);
	out = NULL;
	assert_int_equal(vt_run(&out, "git --git-dir='%s' cat-file -s %s", f->git, git_oid_tostr_s(&blob2)), 0);
	assert_int_equal(strtol(out, NULL, 10), (long)sizeof(big));
	free(out);
	/* libgit2 reads it too, bytes equal. */
	assert_int_equal(git_repository_odb(&odb, f->repo), 0);
	assert_int_equal(git_odb_refresh(odb), 0);
	assert_int_equal(git_odb_read(&obj, odb, &blob2), 0);
	assert_int_equal(git_odb_object_size(obj), sizeof(big));
	assert_memory_equal(git_odb_object_data(obj), big, sizeof(big));
	git_odb_object_free(obj);
	git_odb_free(odb);
}

/* Trees go in stored (not deflated) zlib blocks: one over 64 KiB spans two
 * blocks, the empty tree is one empty block; stock git and libgit2 read both
 * back byte for byte. */
static void test_packw_stored_trees(void **state)
{
	fixture *f = *state;
	vl_packw *w = NULL;
	git_oid blob, tree, empty, commit, pack;
	char hex[GIT_OID_HEXSZ + 1], cmd[1024], *out = NULL, commit_text[512];
	unsigned char *t = NULL;
	size_t tl = 0, i, n = 2500;
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;

	assert_non_null(t = malloc(n * 40));
	assert_int_equal(vl_packw_open(&w, f->objects, 1), 0);
	assert_int_equal(vl_packw_add(&blob, w, GIT_OBJECT_BLOB, "id: 1\n", 6), 0);
	for (i = 0; i < n; i++) {
		char name[32];
		int k = snprintf(name, sizeof(name), "100644 f%05zu.yaml", i);
		memcpy(t + tl, name, (size_t)k + 1); /* with its NUL */
		tl += (size_t)k + 1;
		memcpy(t + tl, blob.id, 20);
		tl += 20;
	}
	assert_true(tl > 65535);
	assert_int_equal(vl_packw_add(&tree, w, GIT_OBJECT_TREE, t, tl), 0);
	assert_int_equal(vl_packw_add(&empty, w, GIT_OBJECT_TREE, "", 0), 0);
	assert_string_equal(git_oid_tostr_s(&empty), "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
	snprintf(commit_text, sizeof(commit_text),
			"tree %s\nauthor A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000\n\nbig\n",
			git_oid_tostr_s(&tree));
	assert_int_equal(vl_packw_add(&commit, w, GIT_OBJECT_COMMIT, commit_text, strlen(commit_text)), 0);
	assert_int_equal(vl_packw_finish(&pack, w), 0);
	vl_packw_free(w);

	git_oid_tostr(hex, sizeof(hex), &pack);
	snprintf(cmd, sizeof(cmd), "verify-pack -v '%s/pack/pack-%s.idx'", f->objects, hex);
	assert_git_ok(f->git, cmd);
	assert_int_equal(vt_run(NULL, "git --git-dir='%s' update-ref refs/heads/main %s", f->git,
					 git_oid_tostr_s(&commit)), 0);
	assert_git_ok(f->git, "fsck --strict --full");
	assert_int_equal(vt_run(&out, "git --git-dir='%s' cat-file -s %s", f->git, git_oid_tostr_s(&tree)), 0);
	assert_int_equal(strtol(out, NULL, 10), (long)tl);
	free(out);
	out = NULL;
	assert_int_equal(vt_run(&out, "git --git-dir='%s' ls-tree main | wc -l", f->git), 0);
	assert_int_equal(strtol(out, NULL, 10), (long)n);
	free(out);
	assert_int_equal(git_repository_odb(&odb, f->repo), 0);
	assert_int_equal(git_odb_refresh(odb), 0);
	assert_int_equal(git_odb_read(&obj, odb, &tree), 0);
	assert_int_equal(git_odb_object_size(obj), tl);
	assert_memory_equal(git_odb_object_data(obj), t, tl);
	git_odb_object_free(obj);
	assert_int_equal(git_odb_read(&obj, odb, &empty), 0);
	assert_int_equal(git_odb_object_size(obj), 0);
	git_odb_object_free(obj);
	git_odb_free(odb);
	free(t);
}

static void test_packw_empty_and_abandoned(void **state)
{
	fixture *f = *state;
	vl_packw *w = NULL;
	git_oid pack, zero;
	char dir[700];

	snprintf(dir, sizeof(dir), "%s/pack", f->objects);
	memset(&zero, 0, sizeof(zero));
	/* An empty pack writes nothing. */
	assert_int_equal(vl_packw_open(&w, f->objects, 1), 0);
	assert_int_equal(count_files(dir, "tmp_pack_", ""), 1);
	assert_int_equal(vl_packw_finish(&pack, w), 0);
	assert_true(git_oid_equal(&pack, &zero));
	vl_packw_free(w);
	assert_int_equal(count_files(dir, "", ""), 2);
	/* An abandoned one leaves nothing. */
	assert_int_equal(vl_packw_open(&w, f->objects, 0), 0);
	assert_int_equal(vl_packw_add(NULL, w, GIT_OBJECT_BLOB, "x\n", 2), 0);
	vl_packw_free(w);
	assert_int_equal(count_files(dir, "", ""), 2);
	/* A pack into a fresh objects directory (a quarantine) creates pack/. */
	snprintf(dir, sizeof(dir), "%s/q", f->dir);
	assert_int_equal(vt_run(NULL, "mkdir '%s'", dir), 0);
	assert_int_equal(vl_packw_open(&w, dir, 0), 0);
	/* Stored, not compressed (a quarantine's): still a pack git reads. */
	assert_int_equal(vl_packw_set_level(w, 10), VL_EINVALID);
	assert_int_equal(vl_packw_set_level(w, 0), 0);
	assert_int_equal(vl_packw_add(NULL, w, GIT_OBJECT_BLOB, "x\n", 2), 0);
	assert_int_equal(vl_packw_add(NULL, w, GIT_OBJECT_BLOB, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n", 43), 0);
	assert_int_equal(vl_packw_finish(NULL, w), 0);
	vl_packw_free(w);
	snprintf(dir, sizeof(dir), "%s/q/pack", f->dir);
	assert_int_equal(count_files(dir, "pack-", ".idx"), 1);
	assert_int_equal(vt_run(NULL, "git verify-pack '%s'/pack-*.idx", dir), 0);
}

/* Many changes through vl_repo_commit with a stage open: nothing loose,
 * one pack at flush, the same commit as without a stage. */
static void test_stage_takes_libgit2_writes(void **state)
{
	fixture *f = *state;
	vl_stage *s = NULL;
	vl_key key;
	char fp[VL_FP_LEN], email[80], *out = NULL;
	vl_change ch[100];
	char paths[100][32], datas[100][32];
	vl_ident who;
	git_oid c1, head, pack;
	vl_buf b = VL_BUF_INIT;
	size_t i, staged;

	assert_int_equal(vl_crypto_init(), 0);
	assert_int_equal(vl_key_generate(&key), 0);
	vl_fingerprint(fp, key.pk);
	snprintf(email, sizeof(email), "%s@vledger", fp);
	who.name = "测试村";
	who.email = email;
	who.time = 1700000000;
	for (i = 0; i < 100; i++) {
		snprintf(paths[i], sizeof(paths[i]), "resident/%02zu/r%zu.yaml", i % 7, i);
		snprintf(datas[i], sizeof(datas[i]), "id: %zu\n", i);
		ch[i].path = paths[i];
		ch[i].data = datas[i];
		ch[i].len = strlen(datas[i]);
		ch[i].id = NULL;
	}
	assert_int_equal(vl_stage_open(&s, f->repo), 0);
	assert_int_equal(vl_repo_commit(&c1, f->repo, "refs/heads/main", NULL, ch, 100,
					 "import\n\nVledger-Seq: 1\n", &who, &key), 0);
	/* The empty base tree is the one object written before: only what the
	 * stage does not hold may be loose. */
	staged = vl_stage_count(s);
	assert_true(staged >= 100 + 7 + 1 + 1 + 1);
	assert_true(count_loose(f->objects) <= 1);
	/* Reads through the repository find staged objects. */
	assert_int_equal(vl_repo_read(&b, NULL, f->repo, NULL, &c1, "resident/03/r10.yaml", 1000), 0);
	assert_string_equal(b.ptr, "id: 10\n");
	assert_true(vl_stage_has(s, &c1));
	assert_int_equal(vl_stage_flush(&pack, s, NULL, 1), 0);
	assert_int_equal(vl_stage_count(s), 0);
	assert_false(vl_stage_has(s, &c1));
	/* Still readable, from the pack now. */
	vl_buf_clear(&b);
	assert_int_equal(vl_repo_read(&b, NULL, f->repo, NULL, &c1, "resident/05/r5.yaml", 1000), 0);
	assert_string_equal(b.ptr, "id: 5\n");
	assert_int_equal(vl_repo_head(&head, f->repo, "refs/heads/main"), 0);
	assert_true(git_oid_equal(&head, &c1));
	assert_git_ok(f->git, "fsck --strict --full --no-dangling");
	assert_int_equal(vt_run(&out, "git --git-dir='%s' cat-file -p main:resident/01/r99.yaml", f->git), 0);
	assert_string_equal(out, "id: 99\n");
	free(out);
	out = NULL;
	assert_int_equal(vt_run(&out, "git --git-dir='%s' count-objects -v | grep '^in-pack'", f->git), 0);
	assert_true(strtol(strchr(out, ' ') + 1, NULL, 10) >= (long)staged);
	free(out);
	out = NULL;
	/* A second flush with nothing staged writes nothing. */
	assert_int_equal(vl_stage_flush(&pack, s, NULL, 1), 0);
	{
		git_oid zero;
		char dir[700];
		memset(&zero, 0, sizeof(zero));
		assert_true(git_oid_equal(&pack, &zero));
		snprintf(dir, sizeof(dir), "%s/pack", f->objects);
		assert_int_equal(count_files(dir, "pack-", ".pack"), 1);
	}
	/* Closed: writes are loose again, and a reopen reuses the same stage. */
	vl_stage_close(s);
	s = NULL;
	{
		git_oid blob;
		git_odb *odb = NULL;
		size_t nb;
		int before = count_loose(f->objects);
		assert_int_equal(git_blob_create_from_buffer(&blob, f->repo, "loose\n", 6), 0);
		assert_int_equal(count_loose(f->objects), before + 1);
		assert_int_equal(git_repository_odb(&odb, f->repo), 0);
		nb = git_odb_num_backends(odb);
		assert_int_equal(vl_stage_open(&s, f->repo), 0);
		assert_int_equal(git_odb_num_backends(odb), nb);
		/* An object the repository holds is not staged again. */
		assert_int_equal(git_blob_create_from_buffer(&blob, f->repo, "loose\n", 6), 0);
		assert_int_equal(vl_stage_count(s), 0);
		assert_int_equal(git_blob_create_from_buffer(&blob, f->repo, "dropped\n", 8), 0);
		assert_int_equal(vl_stage_count(s), 1);
		vl_stage_close(s);
		s = NULL;
		/* Dropped: not in the repository. */
		assert_int_not_equal(vt_run(NULL, "git --git-dir='%s' cat-file -e %s 2>/dev/null", f->git,
						 git_oid_tostr_s(&blob)), 0);
		git_odb_free(odb);
	}
	vl_buf_free(&b);
	vl_key_wipe(&key);
}

/* A signed commit's worth of changes just at the pack threshold: a new key,
 * its signer identity and VL_REPO_PACK_MIN_CHANGES records
 * resident/<i % 5>/r<i>.yaml holding "id: <i>\n". The pointers in who and ch
 * point into the set itself; vl_key_wipe(&cs->key) when done. */
typedef struct {
	vl_key key;
	char email[80];
	vl_ident who;
	vl_change ch[VL_REPO_PACK_MIN_CHANGES];
	char paths[VL_REPO_PACK_MIN_CHANGES][32], datas[VL_REPO_PACK_MIN_CHANGES][32];
} commit_set;

static void commit_set_init(commit_set *cs)
{
	char fp[VL_FP_LEN];
	size_t i;

	assert_int_equal(vl_crypto_init(), 0);
	assert_int_equal(vl_key_generate(&cs->key), 0);
	vl_fingerprint(fp, cs->key.pk);
	snprintf(cs->email, sizeof(cs->email), "%s@vledger", fp);
	cs->who.name = "测试村";
	cs->who.email = cs->email;
	cs->who.time = 1700000000;
	for (i = 0; i < VL_REPO_PACK_MIN_CHANGES; i++) {
		snprintf(cs->paths[i], sizeof(cs->paths[i]), "resident/%02zu/r%zu.yaml", i % 5, i);
		snprintf(cs->datas[i], sizeof(cs->datas[i]), "id: %zu\n", i);
		cs->ch[i] = (vl_change){ cs->paths[i], cs->datas[i], strlen(cs->datas[i]), NULL };
	}
}

/* vl_repo_commit: a large commit lands in one pack, nothing loose; a small
 * one stays loose. */
static void test_commit_large_packed_small_loose(void **state)
{
	fixture *f = *state;
	commit_set cs;
	char dir[700], *out = NULL;
	git_oid c1, c2;
	size_t i;

	commit_set_init(&cs);
	snprintf(dir, sizeof(dir), "%s/pack", f->objects);
	assert_int_equal(vl_repo_commit(&c1, f->repo, "refs/heads/main", NULL, cs.ch, VL_REPO_PACK_MIN_CHANGES,
					 "import\n\nVledger-Seq: 1\n", &cs.who, &cs.key), 0);
	/* Nothing loose, not even the empty base tree of a first commit. */
	assert_int_equal(count_loose(f->objects), 0);
	assert_int_equal(count_files(dir, "pack-", ".idx"), 1);
	assert_int_equal(count_files(dir, "tmp_", ""), 0);
	assert_git_ok(f->git, "fsck --strict --full --no-dangling");
	assert_int_equal(vt_run(&out, "git --git-dir='%s' cat-file -p main:resident/03/r63.yaml", f->git), 0);
	assert_string_equal(out, "id: 63\n");
	free(out);
	out = NULL;
	/* One change less than the threshold: loose, no new pack. */
	for (i = 0; i < VL_REPO_PACK_MIN_CHANGES - 1; i++)
		cs.datas[i][0] = 'X';
	cs.who.time++;
	assert_int_equal(vl_repo_commit(&c2, f->repo, "refs/heads/main", &c1, cs.ch, VL_REPO_PACK_MIN_CHANGES - 1,
					 "edit\n\nVledger-Seq: 2\n", &cs.who, &cs.key), 0);
	assert_int_equal(count_files(dir, "pack-", ".idx"), 1);
	assert_true(count_loose(f->objects) >= VL_REPO_PACK_MIN_CHANGES - 1 + 5 + 1 + 1);
	assert_git_ok(f->git, "fsck --strict --full --no-dangling");
	vl_key_wipe(&cs.key);
}

/* vl_repo_commit with each blob's id given (vl_change.id, as the signing
 * threads of an import compute it): the same commit, tree and pack as when
 * it hashes them itself; a wrong id is refused in a debug build, nothing
 * written and the ref where it was. */
static void test_commit_known_blob_ids(void **state)
{
	fixture *f = *state;
	commit_set cs;
	char dir[700], *out = NULL;
	git_oid ids[VL_REPO_PACK_MIN_CHANGES];
	git_oid c1, c2, head;
	size_t i;

	commit_set_init(&cs);
	assert_int_equal(vl_repo_commit(&c1, f->repo, "refs/heads/a", NULL, cs.ch, VL_REPO_PACK_MIN_CHANGES,
					 "import\n\nVledger-Seq: 1\n", &cs.who, &cs.key), 0);
	for (i = 0; i < VL_REPO_PACK_MIN_CHANGES; i++) {
		vl_object_id(&ids[i], GIT_OBJECT_BLOB, cs.datas[i], strlen(cs.datas[i]));
		cs.ch[i].id = &ids[i];
	}
	assert_int_equal(vl_repo_commit(&c2, f->repo, "refs/heads/b", NULL, cs.ch, VL_REPO_PACK_MIN_CHANGES,
					 "import\n\nVledger-Seq: 1\n", &cs.who, &cs.key), 0);
	assert_true(git_oid_equal(&c1, &c2));
	snprintf(dir, sizeof(dir), "%s/pack", f->objects);
	assert_int_equal(count_files(dir, "pack-", ".idx"), 2);
	assert_int_equal(count_loose(f->objects), 0);
	assert_git_ok(f->git, "fsck --strict --full --no-dangling");
	assert_int_equal(vt_run(&out, "git --git-dir='%s' cat-file -p b:resident/03/r63.yaml", f->git), 0);
	assert_string_equal(out, "id: 63\n");
	free(out);
#ifndef NDEBUG
	/* One id that is another record's: refused before anything is written. */
	cs.datas[7][0] = 'X';
	cs.ch[7].id = &ids[8];
	cs.who.time++;
	assert_int_equal(vl_repo_commit(&c2, f->repo, "refs/heads/b", &c1, cs.ch, VL_REPO_PACK_MIN_CHANGES,
					 "edit\n\nVledger-Seq: 2\n", &cs.who, &cs.key), VL_EINVALID);
	assert_int_equal(vl_repo_head(&head, f->repo, "refs/heads/b"), 0);
	assert_true(git_oid_equal(&head, &c1));
	assert_int_equal(count_files(dir, "pack-", ".idx"), 2);
	assert_int_equal(count_loose(f->objects), 0);
#else
	(void)head;
#endif
	vl_key_wipe(&cs.key);
}

/* vl_object_id (the SHA-1 of packs, indexes and the objects we build) is
 * libgit2's object id for every length around the 64-byte block and its
 * padding, and for a large object: on the SHA instructions where the
 * processor has them, and (test_pack_sha1_portable, VLEDGER_SHA1=portable)
 * on the portable code. */
static void test_object_id_matches_libgit2(void **state)
{
	unsigned char *buf = malloc(1 << 20);
	git_oid mine, theirs;
	size_t i, len;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < (1 << 20); i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	for (len = 0; len <= 300; len++) {
		vl_object_id(&mine, GIT_OBJECT_BLOB, buf, len);
		assert_int_equal(git_odb_hash(&theirs, buf, len, GIT_OBJECT_BLOB), 0);
		if (!git_oid_equal(&mine, &theirs))
			fail_msg("length %zu: %s", len, git_oid_tostr_s(&mine));
	}
	vl_object_id(&mine, GIT_OBJECT_TREE, buf, 1 << 20);
	assert_int_equal(git_odb_hash(&theirs, buf, 1 << 20, GIT_OBJECT_TREE), 0);
	assert_true(git_oid_equal(&mine, &theirs));
	free(buf);
}

/* A filtered flush writes only what the callback keeps. */
static int keep_blobs(const git_oid *id, git_object_t type, void *payload)
{
	(void)id;
	(*(int *)payload)++;
	return type == GIT_OBJECT_BLOB;
}

static void test_stage_filtered_flush(void **state)
{
	fixture *f = *state;
	vl_stage *s = NULL;
	git_oid blob, tree, pack;
	git_treebuilder *tb = NULL;
	int seen = 0;

	assert_int_equal(vl_stage_open(&s, f->repo), 0);
	assert_int_equal(git_blob_create_from_buffer(&blob, f->repo, "kept\n", 5), 0);
	assert_int_equal(git_treebuilder_new(&tb, f->repo, NULL), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, "k", &blob, GIT_FILEMODE_BLOB), 0);
	assert_int_equal(git_treebuilder_write(&tree, tb), 0);
	git_treebuilder_free(tb);
	assert_int_equal(vl_stage_count(s), 2);
	assert_int_equal(vl_stage_flush_filtered(&pack, s, NULL, 0, keep_blobs, &seen), 0);
	assert_int_equal(seen, 2);
	vl_stage_close(s);
	assert_int_equal(vt_run(NULL, "git --git-dir='%s' cat-file -e %s", f->git, git_oid_tostr_s(&blob)), 0);
	assert_int_not_equal(vt_run(NULL, "git --git-dir='%s' cat-file -e %s 2>/dev/null", f->git,
					 git_oid_tostr_s(&tree)), 0);
}

/* Maintenance: loose objects piled up -> one pack, loose files gone, every
 * object still there; below the limit nothing changes. */
static void test_auto_packs_loose(void **state)
{
	fixture *f = *state;
	vl_pack_auto_opts opts = VL_PACK_AUTO_OPTS_INIT;
	vl_pack_auto_result res;
	git_oid ids[2000];
	char buf[64], sub[700], *out = NULL;
	size_t n = 0, i;

	/* Loose blobs until objects/17 holds 3 (git's estimate: 3 x 256). */
	snprintf(sub, sizeof(sub), "%s/17", f->objects);
	while (count_files(sub, "", "") - 2 < 3) {
		assert_true(n < 2000);
		snprintf(buf, sizeof(buf), "blob %zu\n", n);
		assert_int_equal(git_blob_create_from_buffer(&ids[n], f->repo, buf, strlen(buf)), 0);
		n++;
	}
	git_repository_free(f->repo);
	f->repo = NULL;
	assert_int_equal(count_loose(f->objects), (int)n);
	/* Under the limit (3 <= ceil(768 / 256)): nothing happens. */
	opts.loose_limit = 768;
	opts.do_fsync = 0;
	assert_int_equal(vl_pack_auto(&res, f->objects, &opts), 0);
	assert_int_equal(res.loose_packed, 0);
	assert_int_equal(count_loose(f->objects), (int)n);
	/* Over it: one pack of all of them, nothing loose. */
	opts.loose_limit = 512;
	assert_int_equal(vl_pack_auto(&res, f->objects, &opts), 0);
	assert_int_equal(res.loose_packed, n);
	assert_int_equal(count_loose(f->objects), 0);
	snprintf(sub, sizeof(sub), "%s/pack", f->objects);
	assert_int_equal(count_files(sub, "pack-", ".idx"), 1);
	assert_git_ok(f->git, "fsck --strict --full");
	for (i = 0; i < n; i += 97) {
		snprintf(buf, sizeof(buf), "blob %zu\n", i);
		assert_int_equal(vt_run(&out, "git --git-dir='%s' cat-file -p %s", f->git, git_oid_tostr_s(&ids[i])), 0);
		assert_string_equal(out, buf);
		free(out);
		out = NULL;
	}
	assert_int_equal(vt_run(&out, "git --git-dir='%s' count-objects -v | grep -E '^(count|in-pack):'", f->git), 0);
	snprintf(buf, sizeof(buf), "count: 0\nin-pack: %zu\n", n);
	assert_string_equal(out, buf);
	free(out);
}

/* Maintenance: too many packs -> all but the largest combined, including a
 * pack stock git wrote with deltas; every object still there. */
static void test_auto_combines_packs(void **state)
{
	fixture *f = *state;
	vl_pack_auto_opts opts = VL_PACK_AUTO_OPTS_INIT;
	vl_pack_auto_result res;
	vl_packw *w = NULL;
	git_oid ids[35], big;
	char buf[64], dir[700], list[1024] = "", *out = NULL, *data;
	size_t i, k, at = 0, sz = 100000;
	uint32_t x = 12345;

	data = malloc(sz);
	assert_non_null(data);
	/* A pack stock git writes, of similar 3 KB blobs: stored as deltas. */
	for (i = 0; i < 3000; i++)
		data[i] = (char)('a' + (i * 7) % 26);
	for (k = 0; k < 5; k++) {
		data[0] = (char)('0' + k);
		assert_int_equal(git_blob_create_from_buffer(&ids[30 + k], f->repo, data, 3000), 0);
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s\\n", git_oid_tostr_s(&ids[30 + k]));
	}
	assert_int_equal(vt_run(NULL, "printf '%s' | git --git-dir='%s' pack-objects -q '%s/pack/pack' >/dev/null",
					 list, f->git, f->objects), 0);
	assert_int_equal(vt_run(&out, "git verify-pack -v %s/pack/pack-*.idx | grep -c ' blob .* 1 [0-9a-f]\\{40\\}$'",
					 f->objects), 0);
	assert_true(strtol(out, NULL, 10) >= 1); /* at least one delta */
	free(out);
	out = NULL;
	/* The largest: ours, 100 KB that does not compress. */
	for (i = 0; i < sz; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (char)(x >> 16);
	}
	assert_int_equal(vl_packw_open(&w, f->objects, 0), 0);
	assert_int_equal(vl_packw_add(&big, w, GIT_OBJECT_BLOB, data, sz), 0);
	assert_int_equal(vl_packw_finish(NULL, w), 0);
	vl_packw_free(w);
	w = NULL;
	/* Four small packs of ours. */
	for (k = 0; k < 4; k++) {
		assert_int_equal(vl_packw_open(&w, f->objects, 0), 0);
		for (i = 0; i < 6; i++) {
			snprintf(buf, sizeof(buf), "pack %zu object %zu\n", k, i);
			assert_int_equal(vl_packw_add(&ids[k * 6 + i], w, GIT_OBJECT_BLOB, buf, strlen(buf)), 0);
		}
		assert_int_equal(vl_packw_finish(NULL, w), 0);
		vl_packw_free(w);
		w = NULL;
	}
	git_repository_free(f->repo);
	f->repo = NULL;
	/* The loose copies of the similar blobs go: only packs hold them. */
	for (k = 0; k < 5; k++) {
		char hex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(hex, sizeof(hex), &ids[30 + k]);
		snprintf(dir, sizeof(dir), "%s/%.2s/%s", f->objects, hex, hex + 2);
		assert_int_equal(unlink(dir), 0);
	}
	snprintf(dir, sizeof(dir), "%s/pack", f->objects);
	assert_int_equal(count_files(dir, "pack-", ".idx"), 6);
	opts.do_fsync = 0;
	opts.pack_limit = 6;
	assert_int_equal(vl_pack_auto(&res, f->objects, &opts), 0);
	assert_int_equal(res.packs_combined, 0);
	assert_int_equal(count_files(dir, "pack-", ".idx"), 6);
	opts.pack_limit = 5;
	assert_int_equal(vl_pack_auto(&res, f->objects, &opts), 0);
	assert_int_equal(res.packs_combined, 5);
	assert_int_equal(count_files(dir, "pack-", ".idx"), 2);
	assert_int_equal(count_files(dir, "pack-", ".pack"), 2);
	assert_git_ok(f->git, "fsck --strict --full");
	for (i = 0; i < 24; i++) {
		snprintf(buf, sizeof(buf), "pack %zu object %zu\n", i / 6, i % 6);
		assert_int_equal(vt_run(&out, "git --git-dir='%s' cat-file -p %s", f->git, git_oid_tostr_s(&ids[i])), 0);
		assert_string_equal(out, buf);
		free(out);
		out = NULL;
	}
	for (k = 0; k < 5; k++) {
		assert_int_equal(vt_run(&out, "git --git-dir='%s' cat-file -p %s | head -c 1", f->git,
						 git_oid_tostr_s(&ids[30 + k])), 0);
		assert_int_equal(out[0], '0' + (int)k);
		free(out);
		out = NULL;
	}
	assert_int_equal(vt_run(NULL, "git --git-dir='%s' cat-file -e %s", f->git, git_oid_tostr_s(&big)), 0);
	free(data);
}

/* One pack of `len` bytes that do not compress (seeded), id out. */
static void random_pack(git_oid *id, const char *objects, size_t len, uint32_t seed)
{
	vl_packw *w = NULL;
	char *data = malloc(len);
	size_t i;

	assert_non_null(data);
	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		data[i] = (char)(seed >> 16);
	}
	assert_int_equal(vl_packw_open(&w, objects, 0), 0);
	assert_int_equal(vl_packw_add(id, w, GIT_OBJECT_BLOB, data, len), 0);
	assert_int_equal(vl_packw_finish(NULL, w), 0);
	vl_packw_free(w);
	free(data);
}

/* Maintenance combines as `git repack --geometric=2`: a pack at least twice
 * the size of everything smaller is not rewritten (combining all but the
 * largest rewrote a growing county at every combine), the small ones are;
 * a combine that leaves a progression is not repeated. */
static void test_auto_combines_geometrically(void **state)
{
	fixture *f = *state;
	vl_pack_auto_opts opts = VL_PACK_AUTO_OPTS_INIT;
	vl_pack_auto_result res;
	git_oid big, mid, small[4];
	char dir[700], *out = NULL;
	size_t k;

	random_pack(&big, f->objects, 200000, 1);
	random_pack(&mid, f->objects, 50000, 2);
	for (k = 0; k < 4; k++)
		random_pack(&small[k], f->objects, 1000, 10 + (uint32_t)k);
	git_repository_free(f->repo);
	f->repo = NULL;
	snprintf(dir, sizeof(dir), "%s/pack", f->objects);
	assert_int_equal(count_files(dir, "pack-", ".idx"), 6);
	opts.do_fsync = 0;
	opts.pack_limit = 5;
	assert_int_equal(vl_pack_auto(&res, f->objects, &opts), 0);
	assert_int_equal(res.packs_combined, 4);
	assert_int_equal(count_files(dir, "pack-", ".idx"), 3);
	/* The two large packs are the files they were. */
	assert_int_equal(vt_run(&out, "git verify-pack -v %s/pack-*.idx | grep -c '^[0-9a-f]\\{40\\} blob'", dir), 0);
	assert_int_equal(strtol(out, NULL, 10), 6);
	free(out);
	out = NULL;
	assert_int_equal(vt_run(&out, "for i in %s/pack-*.idx; do git show-index <$i | wc -l; done | sort -n | tr '\\n' ' '",
					 dir), 0);
	assert_string_equal(out, "1 1 4 ");
	free(out);
	out = NULL;
	/* 4 KB, 50 KB, 200 KB: a progression; nothing to combine even over
	 * the limit. */
	opts.pack_limit = 2;
	assert_int_equal(vl_pack_auto(&res, f->objects, &opts), 0);
	assert_int_equal(res.packs_combined, 0);
	assert_int_equal(count_files(dir, "pack-", ".idx"), 3);
	assert_git_ok(f->git, "fsck --strict --full");
	assert_int_equal(vt_run(NULL, "git --git-dir='%s' cat-file -e %s && git --git-dir='%s' cat-file -e %s",
					 f->git, git_oid_tostr_s(&big), f->git, git_oid_tostr_s(&mid)), 0);
	for (k = 0; k < 4; k++)
		assert_int_equal(vt_run(NULL, "git --git-dir='%s' cat-file -e %s", f->git, git_oid_tostr_s(&small[k])), 0);
}

/* Maintenance copies stored objects as they are, checked against the crc
 * of their pack's index: a damaged entry stops the combine, and every pack
 * stays as it was. */
static void test_auto_combine_refuses_damage(void **state)
{
	fixture *f = *state;
	vl_pack_auto_opts opts = VL_PACK_AUTO_OPTS_INIT;
	vl_pack_auto_result res;
	git_oid ids[3];
	char dir[700], *before = NULL, *after = NULL;
	size_t k;

	for (k = 0; k < 3; k++)
		random_pack(&ids[k], f->objects, 1000, 20 + (uint32_t)k);
	git_repository_free(f->repo);
	f->repo = NULL;
	snprintf(dir, sizeof(dir), "%s/pack", f->objects);
	/* One byte inside the stored data of one pack's object. */
	assert_int_equal(vt_run(NULL, "p=$(ls %s/pack-*.pack | head -1) && chmod u+w $p && "
				      "test \"$(dd if=$p bs=1 skip=600 count=1 2>/dev/null)\" != Z && "
				      "printf Z | dd of=$p bs=1 seek=600 conv=notrunc 2>/dev/null", dir), 0);
	assert_int_equal(vt_run(&before, "cd %s && ls && cat * | sha1sum", dir), 0);
	opts.do_fsync = 0;
	opts.pack_limit = 2;
	assert_true(vl_pack_auto(&res, f->objects, &opts) < 0);
	assert_int_equal(vt_run(&after, "cd %s && ls && cat * | sha1sum", dir), 0);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* Maintenance removes temporary pack files a killed writer left, once they
 * are an hour old, and nothing else. */
static void test_auto_removes_stale_tmp(void **state)
{
	fixture *f = *state;
	vl_pack_auto_opts opts = VL_PACK_AUTO_OPTS_INIT;
	char dir[700];

	snprintf(dir, sizeof(dir), "%s/pack", f->objects);
	assert_int_equal(vt_run(NULL, "cd '%s' && echo x > tmp_pack_old && echo x > tmp_idx_old && "
				      "echo x > tmp_pack_new && touch -d '2 hours ago' tmp_pack_old tmp_idx_old", dir), 0);
	opts.do_fsync = 0;
	assert_int_equal(vl_pack_auto(NULL, f->objects, &opts), 0);
	assert_int_equal(count_files(dir, "tmp_pack_old", ""), 0);
	assert_int_equal(count_files(dir, "tmp_idx_old", ""), 0);
	assert_int_equal(count_files(dir, "tmp_pack_new", ""), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object_id_matches_libgit2),
		cmocka_unit_test_setup_teardown(test_packw_stock_git_reads_it, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_packw_stored_trees, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_packw_empty_and_abandoned, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_stage_takes_libgit2_writes, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_stage_filtered_flush, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_commit_large_packed_small_loose, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_commit_known_blob_ids, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_auto_packs_loose, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_auto_combines_packs, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_auto_combines_geometrically, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_auto_combine_refuses_damage, vt_repo_setup, vt_repo_teardown),
		cmocka_unit_test_setup_teardown(test_auto_removes_stale_tmp, vt_repo_setup, vt_repo_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
