/*
 * test_receive.c - the receive path of scope branches (agent/sync/receive.c,
 * reached through `vledger fetch SOURCE`) against the attacks of
 * docs/threats.md (the attacks the receive path must turn away),
 * docs/formats.md §3 (scoped replication), §7 (quarantine, equivocation) and §8.
 *
 * A real network is made once with the binary (county, township, two
 * villages; see group_setup) and copied for every test (cp -a). Each attack
 * is forged with libgit2 and the store library in a SOURCE node's repo.git
 * (normally the village 1 laptop), then `vledger -C RECEIVER fetch
 * SOURCE/repo.git` is run with the real binary. A refusal must:
 *   - exit 4;
 *   - say on stderr that the branch was refused, naming the rule and the
 *     object (the forged commit's first 12 hex digits, or the object id);
 *   - leave the receiver's repo.git byte for byte as it was (every file with
 *     its size and sha256, and every directory), except that equivocation
 *     adds exactly refs/evidence/<both commits> and the received objects;
 *   - leave no quarantine directory under <home>/cache.
 * Attacks are received twice where it makes sense: by the township, which
 * already holds the village's good history (an incremental receive), and by
 * the county, which holds none of it (a whole branch from scratch).
 * Keys are plain (not passphrase-sealed) to keep the run fast.
 * VT_VERBOSE=1 prints what the binary says on every refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "forge.h"
#include "agent/node/ledger.h"
#include "store/record.h"
#include "store/repo.h"
#include "store/sshsig.h"
#include "testutil.h"
#include "agent/sync/treemerge.h"
#include "store/yaml.h"

#define COUNTY_CODE VF_COUNTY_CODE
#define TOWN_CODE VF_TOWN_CODE
#define V1_CODE VF_V1_CODE
#define V2_CODE VF_V2_CODE
#define V3_CODE "500243001003"   /* a village of the township with no node yet */
#define X1_CODE "500243002001"   /* a village of another township */
#define V1_REF VL_REF_SCOPE_PREFIX V1_CODE
#define V2_REF VL_REF_SCOPE_PREFIX V2_CODE
#define SHORT_ID 12
#define REFUSED "refused; nothing was taken"

/* ---- the template network (made once) ---------------------------------- */

static char *g_template;
/* Village 1's zones: z[0] was added then edited, z[1] added once. */
static char g_zone[2][VL_ULID_LEN + 1];

typedef struct {
	char *dir;
	char county[512], town[512], v1[512], v2[512];
	char crepo[600], trepo[600], v1repo[600], v2repo[600];
	vl_node *v;  /* village 1, with its key: v->repo is where we forge */
	char v_fp[VL_FP_LEN];
} fx;

static void set_paths(fx *f, const char *dir)
{
	vf_path_in(f->county, sizeof(f->county), dir, "county");
	vf_path_in(f->town, sizeof(f->town), dir, "town");
	vf_path_in(f->v1, sizeof(f->v1), dir, "v1");
	vf_path_in(f->v2, sizeof(f->v2), dir, "v2");
	vf_path_in(f->crepo, sizeof(f->crepo), f->county, "repo.git");
	vf_path_in(f->trepo, sizeof(f->trepo), f->town, "repo.git");
	vf_path_in(f->v1repo, sizeof(f->v1repo), f->v1, "repo.git");
	vf_path_in(f->v2repo, sizeof(f->v2repo), f->v2, "repo.git");
}

static void no_quarantine(const char *home);

/* A zone added by the binary at home (scope NULL: the node's own); the id. */
static void add_zone(char id[VL_ULID_LEN + 1], const char *home, const char *scope, const char *zone_no,
		const char *env)
{
	char *out = NULL;
	int rc = vt_run(&out, "%s '%s' -C '%s' add zone %s%s --set zone_no=%s --set designation=sealed "
			"--set area=a-%s --set status=active --set announced_at=2022-04-06T08:00:00Z",
			env ? env : "", VL_BINARY, home, scope ? "--scope " : "", scope ? scope : "", zone_no, zone_no);
	size_t l;

	if (rc != 0) {
		print_error("vledger add zone at %s exited %d:\n%s\n", home, rc, out);
		fail();
	}
	l = strlen(out);
	while (l && out[l - 1] == '\n')
		out[--l] = '\0';
	assert_int_equal(l, VL_ULID_LEN);
	assert_true(vl_ulid_valid(out));
	if (id)
		memcpy(id, out, VL_ULID_LEN + 1);
	free(out);
}

/* vledger -C home fetch src, which must succeed (exit 0) and leave no
 * quarantine behind. */
static void fetch_ok(const char *home, const char *src)
{
	vf_fetch_ok(home, src);
	no_quarantine(home);
}

static int group_setup(void **state)
{
	fx f;
	char args[1024];

	(void)state;
	assert_int_equal(unsetenv("VLEDGER_FAKE_TIME_MS"), 0);
	vf_env_init();
	memset(&f, 0, sizeof(f));
	g_template = vt_tmpdir();
	set_paths(&f, g_template);
	vf_network(g_template, f.county, f.town, "township", f.v1, f.v2);
	/* Their config fetches left no quarantine behind. */
	no_quarantine(f.town);
	no_quarantine(f.v1);
	no_quarantine(f.v2);

	/* Village 1: seq 1..3 on its branch (two adds, one edit). */
	add_zone(g_zone[0], f.v1, NULL, "Z1", NULL);
	add_zone(g_zone[1], f.v1, NULL, "Z2", NULL);
	snprintf(args, sizeof(args), "edit %s --set designation=controlled", g_zone[0]);
	vf_ok_free(f.v1, args);
	add_zone(NULL, f.v2, NULL, "Z1", NULL);
	add_zone(NULL, f.town, NULL, "T1", NULL);                 /* the township's own unit */
	add_zone(NULL, f.county, X1_CODE, "X1", NULL);            /* another township's village */
	/* The township holds both villages' good history. */
	fetch_ok(f.town, f.v1repo);
	fetch_ok(f.town, f.v2repo);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vf_template_free(g_template);
	return 0;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = vf_sandbox(g_template);
	set_paths(f, f->dir);
	vf_forger_open(&f->v, f->v_fp, f->v1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;

	vl_node_close(f->v);
	vt_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- forging (after test_verify.c) --------------------------------------- */

/* The head of ref in the repository at path (opened just for this). */
static git_oid head_at(const char *repo_path, const char *ref)
{
	git_repository *r = NULL;
	git_oid id;

	assert_int_equal(vl_repo_open(&r, repo_path), 0);
	id = vf_head_of(r, ref);
	git_repository_free(r);
	return id;
}

static int has_ref(const char *repo_path, const char *ref)
{
	git_repository *r = NULL;
	git_oid id;
	int rc;

	assert_int_equal(vl_repo_open(&r, repo_path), 0);
	rc = vl_repo_head(&id, r, ref) == 0;
	git_repository_free(r);
	return rc;
}

static int has_object(const char *repo_path, const git_oid *id)
{
	return vt_run(NULL, "git --git-dir '%s' cat-file -e %s", repo_path, git_oid_tostr_s(id)) == 0;
}

static git_oid parent_of(git_repository *repo, const git_oid *commit)
{
	git_commit *c = NULL;
	git_oid id;

	assert_int_equal(git_commit_lookup(&c, repo, commit), 0);
	assert_true(git_commit_parentcount(c) >= 1);
	git_oid_cpy(&id, git_commit_parent_id(c, 0));
	git_commit_free(c);
	return id;
}

/* A fresh valid zone record signed by village 1, and its path. */
static void village_zone(fx *f, vl_buf *file, char path[128], char id[VL_ULID_LEN + 1])
{
	vf_new_zone(file, &f->v->key, V1_CODE, path, id);
}

/* A commit of village 1 adding a fresh valid record, signed in the given way. */
static git_oid forge_zone_commit(fx *f, vf_sig how)
{
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid blob, out;

	village_zone(f, &file, path, id);
	blob = vf_put_blob(f->v->repo, file.ptr, file.len);
	out = vf_forge_entry(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, &blob, GIT_FILEMODE_BLOB, NULL, how);
	vl_buf_free(&file);
	return out;
}

/* A raw tree object from entries "mode name" -> id, in the order given
 * (names are not validated: this is how a hostile peer writes them). */
typedef struct {
	const char *mode;
	const char *name;
	git_oid id;
} raw_entry;

/* git's tree order: bytewise, a tree's name as if it ended in '/'. */
static int git_order(const void *x, const void *y)
{
	const raw_entry *a = x, *b = y;
	size_t la = strlen(a->name), lb = strlen(b->name), l = la < lb ? la : lb;
	int c = memcmp(a->name, b->name, l);
	unsigned ca, cb;

	if (c)
		return c;
	ca = la > l ? (unsigned char)a->name[l] : !strcmp(a->mode, "40000") ? '/' : 0;
	cb = lb > l ? (unsigned char)b->name[l] : !strcmp(b->mode, "40000") ? '/' : 0;
	return (int)ca - (int)cb;
}

/* sorted: put the entries in git's order first (else as given). */
static git_oid raw_tree(git_repository *repo, raw_entry *e, size_t n, int sorted)
{
	vl_buf b = VL_BUF_INIT;
	git_odb *odb = NULL;
	git_oid id;
	size_t i;

	if (sorted)
		qsort(e, n, sizeof(*e), git_order);
	for (i = 0; i < n; i++) {
		assert_int_equal(vl_buf_printf(&b, "%s %s", e[i].mode, e[i].name), 0);
		assert_int_equal(vl_buf_putc(&b, '\0'), 0);
		assert_int_equal(vl_buf_put(&b, e[i].id.id, GIT_OID_RAWSZ), 0);
	}
	assert_int_equal(git_repository_odb(&odb, repo), 0);
	assert_int_equal(git_odb_write(&id, odb, b.ptr, b.len, GIT_OBJECT_TREE), 0);
	git_odb_free(odb);
	vl_buf_free(&b);
	return id;
}

/* The entries of a tree, as raw entries (names borrowed from the tree,
 * which the caller frees after use). */
static size_t tree_entries(raw_entry *out, size_t cap, git_tree *t)
{
	size_t i, n = git_tree_entrycount(t);

	assert_true(n <= cap);
	for (i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		out[i].mode = git_tree_entry_filemode(e) == GIT_FILEMODE_TREE ? "40000" : "100644";
		out[i].name = git_tree_entry_name(e);
		git_oid_cpy(&out[i].id, git_tree_entry_id(e));
	}
	return n;
}

/* ---- receiving ---------------------------------------------------------- */

static void no_quarantine(const char *home)
{
	char *out = NULL;

	assert_int_equal(vt_run(&out, "ls -A '%s/cache'", home), 0);
	if (strstr(out, "quarantine")) {
		print_error("a quarantine is left under %s/cache:\n%s\n", home, out);
		fail();
	}
	free(out);
}

/*
 * Every directory and every file (with size and sha256) under a repo.git,
 * one per line, sorted; kept in the file `save` when given.
 */
static char *listing(const char *repo, const char *save)
{
	char path[760];
	char *out;
	size_t len;

	if (save)
		snprintf(path, sizeof(path), "%s", save);
	else
		snprintf(path, sizeof(path), "%s.lst", repo);
	assert_int_equal(vt_run(NULL, "cd '%s' && find . -type f -printf '%%p %%s\\n' | LC_ALL=C sort > '%s.1' && "
			"find . -type f -exec sha256sum {} + | awk '{print $2\" \"$1}' | LC_ALL=C sort > '%s.2' && "
			"{ LC_ALL=C join '%s.1' '%s.2'; find . -type d | sed 's/^/dir /' | LC_ALL=C sort; } > '%s' && "
			"rm -f '%s.1' '%s.2'", repo, path, path, path, path, path, path, path), 0);
	out = vt_read(path, &len);
	if (!save)
		remove(path);
	return out;
}

/* Peak RSS of the last fetch, and the largest since it was reset (KiB). */
static long g_last_rss_kb, g_max_rss_kb;

/* vledger -C home fetch src; stdout and stderr apart. Returns the exit code. */
static int fetch(const char *home, const char *src, char **out, char **err)
{
	char errpath[700], rsspath[700];
	char *rss, *last;
	int rc;
	size_t l;

	snprintf(errpath, sizeof(errpath), "%s.stderr", home);
	snprintf(rsspath, sizeof(rsspath), "%s.rss", home);
	rc = vt_run(out, "{ /usr/bin/time -f '%%M' -o '%s' '%s' -C '%s' fetch '%s' 2>'%s'; }", rsspath, VL_BINARY, home,
			src, errpath);
	*err = vt_read(errpath, &l);
	remove(errpath);
	rss = vt_read(rsspath, &l);
	remove(rsspath);
	while (l && rss[l - 1] == '\n')
		rss[--l] = '\0';
	last = strrchr(rss, '\n');
	g_last_rss_kb = strtol(last ? last + 1 : rss, NULL, 10);
	if (g_last_rss_kb > g_max_rss_kb)
		g_max_rss_kb = g_last_rss_kb;
	free(rss);
	if (getenv("VT_VERBOSE"))
		print_message("fetch %s <- %s: exit %d, peak RSS %ld KiB\nstdout:\n%s\nstderr:\n%s\n", home, src, rc,
				g_last_rss_kb, *out, *err);
	no_quarantine(home);
	return rc;
}

/*
 * home fetching src must be refused: exit 4, stderr saying REFUSED, `what`,
 * and (when given) the object `bad`; repo.git byte-for-byte unchanged.
 */
/* Like must_contain, but reports and returns 0 instead of failing (so that
 * the caller can free before it fails). */
static int has(const char *hay, const char *needle, const char *what)
{
	if (hay && strstr(hay, needle))
		return 1;
	print_error("%s: expected '%s' in:\n%s\n", what, needle, hay ? hay : "(null)");
	return 0;
}

static void expect_refused(const char *home, const char *src, const char *what, const git_oid *bad)
{
	char repo[600], idbuf[GIT_OID_HEXSZ + 1];
	char *before, *after, *out = NULL, *err = NULL;
	int rc, ok = 1;

	vf_path_in(repo, sizeof(repo), home, "repo.git");
	before = listing(repo, NULL);
	rc = fetch(home, src, &out, &err);
	if (rc != 4) {
		print_error("vledger -C %s fetch %s exited %d, expected 4:\nstdout:\n%s\nstderr:\n%s\n", home, src,
				rc, out, err);
		ok = 0;
	}
	ok &= has(err, REFUSED, "fetch stderr");
	ok &= has(err, what, "fetch stderr");
	if (bad) {
		git_oid_tostr(idbuf, SHORT_ID + 1, bad);
		ok &= has(err, idbuf, "fetch stderr (the forged object)");
	}
	after = listing(repo, NULL);
	if (strcmp(before, after) != 0) {
		char *diff = NULL, b[700], a[700];
		snprintf(b, sizeof(b), "%s.before", repo);
		snprintf(a, sizeof(a), "%s.after", repo);
		vt_write(b, before, strlen(before));
		vt_write(a, after, strlen(after));
		(void)vt_run(&diff, "diff '%s' '%s'", b, a);
		print_error("fetch from %s was refused but %s changed:\n%s\n", src, repo, diff);
		free(diff);
		ok = 0;
	}
	free(before);
	free(after);
	free(out);
	free(err);
	if (!ok)
		fail();
}

/* The township (which holds village 1's history) and the county (which
 * holds none of it) both refuse what village 1's laptop now has. */
static void expect_refused_both(fx *f, const char *what, const git_oid *bad)
{
	expect_refused(f->town, f->v1repo, what, bad);
	expect_refused(f->county, f->v1repo, what, bad);
}

/*
 * home fetching src must be refused as equivocation: exit 4, stderr naming
 * both commits; ref stays at ours; both commits kept under refs/evidence/.
 */
static void expect_equivocation(const char *home, const char *src, const char *ref, const git_oid *theirs,
		const git_oid *ours)
{
	char repo[600], tb[SHORT_ID + 1], ob[SHORT_ID + 1], th[GIT_OID_HEXSZ + 1], oh[GIT_OID_HEXSZ + 1];
	char *out = NULL, *err = NULL;
	git_oid h;
	int rc, ok = 1;

	vf_path_in(repo, sizeof(repo), home, "repo.git");
	rc = fetch(home, src, &out, &err);
	if (rc != 4) {
		print_error("vledger -C %s fetch %s exited %d, expected 4:\nstdout:\n%s\nstderr:\n%s\n", home, src,
				rc, out, err);
		ok = 0;
	}
	git_oid_tostr(tb, sizeof(tb), theirs);
	git_oid_tostr(ob, sizeof(ob), ours);
	git_oid_tostr(th, sizeof(th), theirs);
	git_oid_tostr(oh, sizeof(oh), ours);
	ok &= has(err, REFUSED, "fetch stderr");
	ok &= has(err, "equivocation", "fetch stderr");
	ok &= has(err, tb, "fetch stderr (their commit)");
	ok &= has(err, ob, "fetch stderr (our commit)");
	free(out);
	free(err);
	if (!ok)
		fail();
	h = head_at(repo, ref);
	assert_true(git_oid_equal(&h, ours));
	assert_int_equal(vt_run(NULL, "test \"$(git --git-dir '%s' rev-parse -q --verify refs/evidence/%s)\" = %s && "
			"test \"$(git --git-dir '%s' rev-parse -q --verify refs/evidence/%s)\" = %s", repo, th, th, repo,
			oh, oh), 0);
}

/* ---- positive control ---------------------------------------------------- */

static void test_good_receive(void **state)
{
	fx *f = *state;
	char *out = NULL, *err = NULL;
	git_oid good, th;

	/* What vledger itself writes, and the same forged "as vledger signs". */
	add_zone(NULL, f->v1, NULL, "Z5", NULL);
	good = forge_zone_commit(f, VF_SIG_GOOD);
	assert_int_equal(fetch(f->town, f->v1repo, &out, &err), 0);
	vf_must_contain(out, "1 updated, 0 refused; 2 new commits", "fetch stdout");
	th = head_at(f->trepo, V1_REF);
	assert_true(git_oid_equal(&th, &good));
	/* The peer's head is remembered under refs/peers/<its fingerprint>/. */
	assert_int_equal(vt_run(NULL, "git --git-dir '%s' for-each-ref 'refs/peers/*/scope/" V1_CODE "' "
			"--format='%%(objectname)' | grep -qx %s", f->trepo, git_oid_tostr_s(&good)), 0);
	free(out);
	free(err);
	/* A whole branch from scratch. */
	assert_int_equal(fetch(f->county, f->v1repo, &out, &err), 0);
	th = head_at(f->crepo, V1_REF);
	assert_true(git_oid_equal(&th, &good));
	assert_int_equal(vt_run(NULL, "'%s' -C '%s' verify --quiet", VL_BINARY, f->county), 0);
	free(out);
	free(err);
}

/* ---- signatures --------------------------------------------------------- */

static void test_forged_commit_signature(void **state)
{
	fx *f = *state;
	git_oid bad = forge_zone_commit(f, VF_SIG_OTHER_BYTES);

	expect_refused_both(f, "commit signature", &bad);
}

static void test_forged_record_signature(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid bad;

	village_zone(f, &file, path, id);
	vf_buf_replace(&file, "area: a-Z9", "area: b-Z9"); /* canonical still; the signature no longer holds */
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_refused_both(f, id, &bad);
	expect_refused(f->town, f->v1repo, "signature", &bad);
	vl_buf_free(&file);
}

/* One fetch offering a branch that is refused (a forged record signature on
 * village 1's) and one that is accepted (village 2's new zone): the accepted
 * branch's objects are stored, none of the refused branch's (promote's
 * shortcut, which skips its walk when every branch taken from is kept, must
 * not apply). */
static void test_refused_branch_objects_not_kept(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], zid[VL_ULID_LEN + 1], *out = NULL, *err = NULL, *hex = NULL;
	git_oid bad, badtree, badblob, v2new;
	int rc;

	add_zone(zid, f->v2, NULL, "G2", NULL);
	v2new = head_at(f->v2repo, V2_REF);
	village_zone(f, &file, path, id);
	vf_buf_replace(&file, "area: a-Z9", "area: b-Z9");
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	assert_int_equal(vt_run(&hex, "git --git-dir '%s' rev-parse %s^{tree}", f->v1repo, git_oid_tostr_s(&bad)), 0);
	assert_int_equal(git_oid_fromstrn(&badtree, hex, GIT_OID_HEXSZ), 0);
	free(hex);
	hex = NULL;
	assert_int_equal(vt_run(&hex, "git --git-dir '%s' rev-parse %s:%s", f->v1repo, git_oid_tostr_s(&bad), path), 0);
	assert_int_equal(git_oid_fromstrn(&badblob, hex, GIT_OID_HEXSZ), 0);
	free(hex);
	assert_int_equal(vt_run(NULL, "git --git-dir '%s' fetch -q '%s' '+" V2_REF ":" V2_REF "'", f->v1repo, f->v2repo),
			0);
	rc = fetch(f->town, f->v1repo, &out, &err);
	if (rc != 4 || !strstr(err, "signature")) {
		print_error("fetch exited %d, expected 4 naming the signature:\n%s\n%s\n", rc, out, err);
		fail();
	}
	assert_int_equal(vt_run(NULL, "git --git-dir '%s' merge-base --is-ancestor %s " V2_REF, f->trepo,
			git_oid_tostr_s(&v2new)), 0);
	assert_false(has_object(f->trepo, &bad));
	assert_false(has_object(f->trepo, &badtree));
	assert_false(has_object(f->trepo, &badblob));
	free(out);
	free(err);
	vl_buf_free(&file);
}

static void test_unknown_key(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	vl_key k;
	char path[128], id[VL_ULID_LEN + 1], fp[VL_FP_LEN];
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad;

	assert_int_equal(vl_key_generate(&k), 0);
	vl_fingerprint(fp, k.pk);
	/* A commit by a key that is not on the roster. */
	village_zone(f, &file, path, id);
	bad = vf_forge_file(f->v->repo, V1_REF, fp, &k, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_refused_both(f, "which is not on the roster", &bad);
	/* A record signed by it, inside village 1's own signed commit. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	vl_buf_clear(&file);
	vf_new_id(id);
	vf_make_zone(&file, &k, id, V1_CODE, "Z9");
	vf_rec_path(path, sizeof(path), "zone", id);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_refused_both(f, "which is not on the roster", &bad);
	expect_refused(f->town, f->v1repo, fp, &bad);
	vl_key_wipe(&k);
	vl_buf_free(&file);
}

/* The county admin revokes village 1's key (revoked_at in roster.yaml, by a
 * signed config commit); everyone takes the config; the laptop goes on
 * writing with the revoked key. */
static void test_revoked_key(void **state)
{
	fx *f = *state;
	vl_node *c = NULL;
	git_repository *crepo = NULL;
	vl_buf roster = VL_BUF_INIT, msg = VL_BUF_INIT, nr = VL_BUF_INIT;
	char when[32];
	time_t now = time(NULL) - 60;
	struct tm tm;
	git_oid chead, cbase, blob, tree, bad;
	const char *v1, *vf, *eol;

	assert_int_equal(vl_node_open(&c, f->county, 1, NULL), 0);
	crepo = c->repo;
	chead = vf_head_of(crepo, VL_REF_CONFIG);
	cbase = vf_tree_of(crepo, &chead);
	assert_int_equal(vl_repo_read(&roster, NULL, crepo, VL_REF_CONFIG, NULL, "roster.yaml", 1 << 20), 0);
	v1 = strstr(roster.ptr, "name: V1\n");
	assert_non_null(v1);
	vf = strstr(v1, "valid_from: ");
	assert_non_null(vf);
	eol = strchr(vf, '\n') + 1;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_int_equal(vl_buf_put(&nr, roster.ptr, (size_t)(eol - roster.ptr)), 0);
	assert_int_equal(vl_buf_printf(&nr, "    revoked_at: \"%s\"\n", when), 0);
	assert_int_equal(vl_buf_puts(&nr, eol), 0);
	blob = vf_put_blob(crepo, nr.ptr, nr.len);
	tree = vf_tree_edit(crepo, &cbase, "roster.yaml", &blob, GIT_FILEMODE_BLOB);
	vf_chain_msg(&msg, crepo, &chead, c->fp, "Vledger-Config: roster\n");
	(void)vf_write_commit(crepo, VL_REF_CONFIG, &chead, &tree, c->fp, msg.ptr, &c->key);
	vl_node_close(c);
	fetch_ok(f->town, f->crepo);
	fetch_ok(f->v1, f->crepo);
	assert_int_equal(vl_node_load_config(f->v), 0);

	bad = forge_zone_commit(f, VF_SIG_GOOD);
	expect_refused_both(f, "after the key was revoked", &bad);
	vl_buf_free(&roster);
	vl_buf_free(&nr);
	vl_buf_free(&msg);
}

/* ---- authorisation and paths ------------------------------------------- */

static void test_cross_scope_write(void **state)
{
	fx *f = *state;
	vl_node *v2 = NULL;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad, v2head;

	/* Village 2's key (on the roster) writing village 1's branch. */
	assert_int_equal(vl_node_open(&v2, f->v2, 1, NULL), 0);
	vf_new_id(id);
	vf_make_zone(&file, &v2->key, id, V1_CODE, "Z9");
	vf_rec_path(path, sizeof(path), "zone", id);
	bad = vf_forge_file(f->v->repo, V1_REF, v2->fp, &v2->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_refused_both(f, "(village, scope " V2_CODE "), which may not write scope " V1_CODE, &bad);
	vf_move_ref(f->v->repo, V1_REF, &start);
	vl_node_close(v2);

	/* Village 1's laptop extending village 2's branch (it got a copy of it)
	 * with its own records: the township holds that branch. */
	vl_buf_clear(&file);
	vf_new_id(id);
	vf_make_zone(&file, &f->v->key, id, V2_CODE, "Z9");
	vf_rec_path(path, sizeof(path), "zone", id);
	v2head = head_at(f->trepo, V2_REF);
	assert_int_equal(vt_run(NULL, "git --git-dir '%s' fetch -q '%s' '+" V2_REF ":" V2_REF "'", f->v1repo, f->v2repo),
			0);
	bad = vf_forge_file(f->v->repo, V2_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_refused(f->town, f->v1repo, "(village, scope " V1_CODE "), which may not write scope " V2_CODE, &bad);
	{
		git_oid th = head_at(f->trepo, V2_REF);
		assert_true(git_oid_equal(&th, &v2head));
	}
	vl_buf_free(&file);
}

static void test_scope_path_mismatch(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	vl_node *c = NULL;
	git_oid bad;

	/* Signed by the county, which may write both villages: only the
	 * record's scope disagrees with the branch it is on. */
	assert_int_equal(vl_node_open(&c, f->county, 1, NULL), 0);
	vf_new_id(id);
	vf_make_zone(&file, &c->key, id, V2_CODE, "Z9");
	vf_rec_path(path, sizeof(path), "zone", id);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_refused_both(f, "has scope " V2_CODE " but lives on the branch of " V1_CODE, &bad);
	vl_node_close(c);
	vl_buf_free(&file);
}

/* ---- canonical encodings ------------------------------------------------ */

static void test_noncanonical_commit_signatures(void **state)
{
	fx *f = *state;
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad;
	vl_buf raw = VL_BUF_INIT;
	static const vf_sig kinds[] = { VF_SIG_WRAP76, VF_SIG_EXTRA_LINE, VF_SIG_RESERVED, VF_SIG_S_PLUS_L };
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		vf_move_ref(f->v->repo, V1_REF, &start);
		bad = forge_zone_commit(f, kinds[i]);
		if (kinds[i] == VF_SIG_EXTRA_LINE) {
			vl_buf_clear(&raw);
			assert_int_equal(vl_repo_raw_commit(&raw, f->v->repo, &bad), 0);
			vf_must_contain(raw.ptr, "-----END SSH SIGNATURE-----\n \n", "the forged commit");
		}
		expect_refused_both(f, "commit signature", &bad);
	}
	vl_buf_free(&raw);
}

/* gpgsig moved from the header into the message (docs/formats.md §5.1). */
static void test_gpgsig_in_message(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT, msg = VL_BUF_INIT, armor = VL_BUF_INIT, raw = VL_BUF_INIT, tr = VL_BUF_INIT;
	git_buf payload = { NULL, 0, 0 };
	char path[128], id[VL_ULID_LEN + 1];
	git_oid head = vf_head_of(f->v->repo, V1_REF), base = vf_tree_of(f->v->repo, &head), blob, tree, bad;
	git_odb *odb = NULL;
	const char *body, *p;

	village_zone(f, &file, path, id);
	blob = vf_put_blob(f->v->repo, file.ptr, file.len);
	tree = vf_tree_edit(f->v->repo, &base, path, &blob, GIT_FILEMODE_BLOB);
	vf_record_trailer(&tr, path, &blob);
	vf_chain_msg(&msg, f->v->repo, &head, f->v_fp, tr.ptr);
	vf_commit_payload(&payload, f->v->repo, &head, &tree, f->v_fp, msg.ptr);
	vf_make_armor(&armor, &f->v->key, payload.ptr, payload.size, VF_SIG_GOOD);
	body = strstr(payload.ptr, "\n\n");
	assert_non_null(body);
	assert_int_equal(vl_buf_put(&raw, payload.ptr, (size_t)(body - payload.ptr) + 2), 0);
	assert_int_equal(vl_buf_puts(&raw, "gpgsig "), 0);
	for (p = armor.ptr; *p; p++)
		assert_int_equal(*p == '\n' ? vl_buf_puts(&raw, "\n ") : vl_buf_putc(&raw, *p), 0);
	assert_int_equal(vl_buf_putc(&raw, '\n'), 0);
	assert_int_equal(vl_buf_puts(&raw, body + 2), 0);
	assert_int_equal(git_repository_odb(&odb, f->v->repo), 0);
	assert_int_equal(git_odb_write(&bad, odb, raw.ptr, raw.len, GIT_OBJECT_COMMIT), 0);
	git_odb_free(odb);
	vf_move_ref(f->v->repo, V1_REF, &bad);
	expect_refused_both(f, "commit signature", &bad);
	git_buf_dispose(&payload);
	vl_buf_free(&file);
	vl_buf_free(&msg);
	vl_buf_free(&armor);
	vl_buf_free(&raw);
	vl_buf_free(&tr);
}

static void test_unsigned_commit_in_signed_range(void **state)
{
	fx *f = *state;
	git_oid bad, top;
	char topbuf[SHORT_ID + 1];
	char *out = NULL, *err = NULL;

	bad = forge_zone_commit(f, VF_SIG_NONE);
	top = forge_zone_commit(f, VF_SIG_GOOD); /* a good signed commit on top hides it from a head-only check */
	expect_refused_both(f, "commit signature", &bad);
	/* The good top is not what is blamed. */
	git_oid_tostr(topbuf, sizeof(topbuf), &top);
	assert_int_equal(fetch(f->town, f->v1repo, &out, &err), 4);
	assert_null(strstr(err, topbuf));
	free(out);
	free(err);
}

static void test_noncanonical_record(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT, body = VL_BUF_INIT, forged = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid bad;

	village_zone(f, &file, path, id);
	vf_record_body(&body, &file);
	vf_buf_replace(&body, "area: a-Z9", "area: \"a-Z9\""); /* other quoting, signed correctly */
	vf_sign_body(&forged, &f->v->key, body.ptr, body.len);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, forged.ptr, forged.len, GIT_FILEMODE_BLOB, NULL);
	expect_refused_both(f, "not in canonical form", &bad);
	vl_buf_free(&file);
	vl_buf_free(&body);
	vl_buf_free(&forged);
}

/* ---- history ------------------------------------------------------------ */

/* A copy of village 1's laptop home signs another commit at the same
 * Vledger-Seq. The township took the first; the second is refused, both are
 * kept under refs/evidence/ (and only those refs and the received objects
 * are added), and `vledger incidents` names the pair. */
static void test_equivocation_laptop_copy(void **state)
{
	fx *f = *state;
	char copy[600], copyrepo[700], before[700], after[700];
	char ahex[GIT_OID_HEXSZ + 1], bhex[GIT_OID_HEXSZ + 1];
	char *out = NULL, *added = NULL, *removed = NULL, *line, *save;
	git_oid a, b;
	size_t nobj = 0, nref = 0;

	vf_path_in(copy, sizeof(copy), f->dir, "v1-copy");
	vf_path_in(copyrepo, sizeof(copyrepo), copy, "repo.git");
	assert_int_equal(vt_run(NULL, "cp -a '%s' '%s'", f->v1, copy), 0);
	add_zone(NULL, f->v1, NULL, "ZA", NULL);
	add_zone(NULL, copy, NULL, "ZB", NULL);
	a = head_at(f->v1repo, V1_REF);
	b = head_at(copyrepo, V1_REF);
	assert_false(git_oid_equal(&a, &b));
	git_oid_tostr(ahex, sizeof(ahex), &a);
	git_oid_tostr(bhex, sizeof(bhex), &b);

	fetch_ok(f->town, f->v1repo);
	vf_path_in(before, sizeof(before), f->dir, "before.lst");
	vf_path_in(after, sizeof(after), f->dir, "after.lst");
	free(listing(f->trepo, before));
	expect_equivocation(f->town, copyrepo, V1_REF, &b, &a);
	free(listing(f->trepo, after));

	/* Nothing removed or changed; added: the two evidence refs, and objects
	 * of the other history only. */
	assert_int_equal(vt_run(&removed, "LC_ALL=C comm -23 '%s' '%s'", before, after), 0);
	if (*removed) {
		print_error("equivocation changed or removed:\n%s\n", removed);
		fail();
	}
	assert_int_equal(vt_run(&added, "LC_ALL=C comm -13 '%s' '%s'", before, after), 0);
	for (line = strtok_r(added, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char hex[GIT_OID_HEXSZ + 1];
		if (!strncmp(line, "dir ./objects/", 14) || !strcmp(line, "dir ./refs/evidence"))
			continue;
		if (!strncmp(line, "./refs/evidence/", 16)) {
			assert_true(!strncmp(line + 16, ahex, GIT_OID_HEXSZ) || !strncmp(line + 16, bhex, GIT_OID_HEXSZ));
			nref++;
			continue;
		}
		/* The evidence arrives as one pack (receive promotes one pack):
		 * every object in it must be of the other history. */
		if (!strncmp(line, "./objects/pack/pack-", 20) && strstr(line, ".idx ")) {
			char *objs = NULL;
			assert_int_equal(vt_run(&objs, "cd '%s' && git show-index < '%.*s' | awk '{print $2}' | "
					"while read o; do git --git-dir . rev-list --objects %s --not %s | grep -q \"^$o\" || "
					"echo \"$o\"; done", f->trepo, (int)(strchr(line, ' ') - line), line, bhex, ahex), 0);
			if (*objs) {
				print_error("equivocation added objects not of the other history:\n%s\n", objs);
				fail();
			}
			free(objs);
			nobj++;
			continue;
		}
		if (!strncmp(line, "./objects/pack/pack-", 20) && strstr(line, ".pack "))
			continue;
		if (strncmp(line, "./objects/", 10) != 0 || strlen(line) < 10 + 41 || line[12] != '/') {
			print_error("equivocation added something other than evidence: %s\n", line);
			fail();
		}
		memcpy(hex, line + 10, 2);
		memcpy(hex + 2, line + 13, GIT_OID_HEXSZ - 2);
		hex[GIT_OID_HEXSZ] = '\0';
		/* Reachable from the other history, and not from what we held. */
		if (vt_run(NULL, "git --git-dir '%s' rev-list --objects %s --not %s | grep -q '^%s'", f->trepo, bhex, ahex,
				hex) != 0) {
			print_error("equivocation added object %s, which is not of the other history\n", hex);
			fail();
		}
		nobj++;
	}
	assert_int_equal(nref, 2);
	assert_true(nobj >= 1);
	assert_true(has_object(f->trepo, &b));
	assert_int_equal(vt_run(NULL, "git --git-dir '%s' fsck --no-dangling --no-progress", f->trepo), 0);

	/* incidents names the key, the seq and both commits, exit 4. */
	assert_int_equal(vt_run(&out, "'%s' -C '%s' incidents", VL_BINARY, f->town), 4);
	vf_must_contain(out, f->v_fp, "incidents");
	vf_must_contain(out, "Vledger-Seq 4", "incidents");
	ahex[SHORT_ID] = bhex[SHORT_ID] = '\0';
	vf_must_contain(out, ahex, "incidents");
	vf_must_contain(out, bhex, "incidents");
	free(out);
	/* Fetching the copy again changes nothing more. */
	expect_refused(f->town, copyrepo, "equivocation", &b);
	/* The county took the copy first; it catches the same key when it
	 * compares heads with the township. */
	fetch_ok(f->county, copyrepo);
	expect_equivocation(f->county, f->trepo, V1_REF, &a, &b);
	free(added);
	free(removed);
}

/* The laptop rewound its branch by one commit (a rollback: the township's
 * branch never moves backward), then signed another commit in its place. */
static void test_rewritten_history(void **state)
{
	fx *f = *state;
	git_oid head = vf_head_of(f->v->repo, V1_REF), parent = parent_of(f->v->repo, &head), bad, th;
	char *out = NULL, *err = NULL, *before, *after;

	vf_move_ref(f->v->repo, V1_REF, &parent);
	before = listing(f->trepo, NULL);
	assert_int_equal(fetch(f->town, f->v1repo, &out, &err), 0);
	after = listing(f->trepo, NULL);
	assert_string_equal(before, after);
	th = head_at(f->trepo, V1_REF);
	assert_true(git_oid_equal(&th, &head));
	free(out);
	free(err);
	free(before);
	free(after);
	/* Rewritten: seq 3 again, another commit. */
	bad = forge_zone_commit(f, VF_SIG_GOOD);
	expect_equivocation(f->town, f->v1repo, V1_REF, &bad, &head);
	/* The county never saw the first history: for it this one is good. */
	fetch_ok(f->county, f->v1repo);
}

/* The laptop's clock is 3 days ahead when it writes. */
static void test_future_clock(void **state)
{
	fx *f = *state;
	char env[128];
	git_oid bad;

	/* 1 hour ahead is within the tolerance. */
	snprintf(env, sizeof(env), "VLEDGER_FAKE_TIME_MS=%llu",
			(unsigned long long)(vl_hlc_wall_ms() + 3600ull * 1000));
	add_zone(NULL, f->v1, NULL, "ZH", env);
	fetch_ok(f->town, f->v1repo);
	snprintf(env, sizeof(env), "VLEDGER_FAKE_TIME_MS=%llu",
			(unsigned long long)(vl_hlc_wall_ms() + 3ull * 24 * 3600 * 1000));
	add_zone(NULL, f->v1, NULL, "ZF", env);
	bad = head_at(f->v1repo, V1_REF);
	expect_refused_both(f, "more than 24 hours ahead", &bad);
}

static void test_replayed_old_record_version(void **state)
{
	fx *f = *state;
	vl_buf old = VL_BUF_INIT;
	char path[128];
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad, before_edit;

	/* The head of the template is: add z0, add z1, edit z0. */
	vf_rec_path(path, sizeof(path), "zone", g_zone[0]);
	before_edit = parent_of(f->v->repo, &start);
	assert_int_equal(vl_repo_read(&old, NULL, f->v->repo, NULL, &before_edit, path, VL_RECORD_MAX_BYTES), 0);
	vf_must_contain(old.ptr, "prev: []", "the first version");
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, old.ptr, old.len, GIT_FILEMODE_BLOB, NULL);
	expect_refused_both(f, "does not name the version it replaces", &bad);
	expect_refused(f->town, f->v1repo, g_zone[0], &bad);
	vl_buf_free(&old);
}

/* A merge of village 1's and the county's concurrent commits whose tree is
 * not what replaying the merge gives; then the true merge, accepted. */
static void test_forged_merge(void **state)
{
	fx *f = *state;
	vl_node *c = NULL;
	vl_buf file = VL_BUF_INIT, raw = VL_BUF_INIT, forged = VL_BUF_INIT, tl = VL_BUF_INIT, tl2 = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid start = vf_head_of(f->v->repo, V1_REF), a, b, merge, bad, th;
	git_odb *odb = NULL;
	int kind = -1;

	a = forge_zone_commit(f, VF_SIG_GOOD);
	vf_move_ref(f->v->repo, V1_REF, &start);
	assert_int_equal(vl_node_open(&c, f->county, 1, NULL), 0);
	vf_new_id(id);
	vf_make_zone(&file, &c->key, id, V1_CODE, "ZC");
	vf_rec_path(path, sizeof(path), "zone", id);
	b = vf_forge_file(f->v->repo, V1_REF, c->fp, &c->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	vl_node_close(c);
	assert_int_equal(vl_merge_heads(&merge, &kind, f->v, V1_CODE, &a, &b, NULL), 0);
	assert_int_equal(kind, 1);
	/* The same commit with a's tree (b's record dropped). */
	assert_int_equal(vl_repo_raw_commit(&raw, f->v->repo, &merge), 0);
	{
		git_oid mt = vf_tree_of(f->v->repo, &merge), at = vf_tree_of(f->v->repo, &a);
		assert_int_equal(vl_buf_printf(&tl, "tree %s\n", git_oid_tostr_s(&mt)), 0);
		assert_int_equal(vl_buf_printf(&tl2, "tree %s\n", git_oid_tostr_s(&at)), 0);
	}
	assert_int_equal(vl_buf_put(&forged, raw.ptr, raw.len), 0);
	vf_buf_replace(&forged, tl.ptr, tl2.ptr);
	assert_int_equal(git_repository_odb(&odb, f->v->repo), 0);
	assert_int_equal(git_odb_write(&bad, odb, forged.ptr, forged.len, GIT_OBJECT_COMMIT), 0);
	git_odb_free(odb);
	vf_move_ref(f->v->repo, V1_REF, &bad);
	expect_refused_both(f, "differs from its replay", &bad);

	/* The true merge: taken as it is. */
	vf_move_ref(f->v->repo, V1_REF, &merge);
	fetch_ok(f->town, f->v1repo);
	th = head_at(f->trepo, V1_REF);
	assert_true(git_oid_equal(&th, &merge));
	vl_buf_free(&file);
	vl_buf_free(&raw);
	vl_buf_free(&forged);
	vl_buf_free(&tl);
	vl_buf_free(&tl2);
}

/* ---- what a tree may hold ----------------------------------------------- */

static void test_bad_tree_entry_names(void **state)
{
	fx *f = *state;
	git_oid start = vf_head_of(f->v->repo, V1_REF), root = vf_tree_of(f->v->repo, &start), bad, zone_tree = { { 0 } },
		t, bucket_tree = { { 0 } };
	git_tree *rt = NULL, *zt = NULL, *bt = NULL;
	raw_entry e[64];
	size_t n, i;
	char bucket[2] = { g_zone[1][VL_ULID_LEN - 1], '\0' }, bpath[16];
	static const char *const root_names[] = { "..", ".git", ".", "../x", ".GIT" };

	assert_int_equal(git_tree_lookup(&rt, f->v->repo, &root), 0);
	for (i = 0; i < git_tree_entrycount(rt); i++)
		if (!strcmp(git_tree_entry_name(git_tree_entry_byindex(rt, i)), "zone"))
			git_oid_cpy(&zone_tree, git_tree_entry_id(git_tree_entry_byindex(rt, i)));
	assert_false(git_oid_is_zero(&zone_tree));

	/* At the top: a directory named .., .git, . ; a file named ../x. */
	for (i = 0; i < sizeof(root_names) / sizeof(root_names[0]); i++) {
		vl_buf msg = VL_BUF_INIT, want = VL_BUF_INIT;
		n = tree_entries(e, 60, rt);
		e[n].mode = strchr(root_names[i], '/') ? "100644" : "40000";
		e[n].name = root_names[i];
		if (strchr(root_names[i], '/'))
			e[n].id = vf_put_blob(f->v->repo, "x\n", 2);
		else
			git_oid_cpy(&e[n].id, &zone_tree);
		t = raw_tree(f->v->repo, e, n + 1, 1);
		vf_chain_msg(&msg, f->v->repo, &start, f->v_fp, "");
		bad = vf_write_commit(f->v->repo, V1_REF, &start, &t, f->v_fp, msg.ptr, &f->v->key);
		assert_int_equal(vl_buf_printf(&want, "'%s' is not allowed in a scope branch", root_names[i]), 0);
		expect_refused_both(f, want.ptr, &bad);
		vf_move_ref(f->v->repo, V1_REF, &start);
		vl_buf_free(&msg);
		vl_buf_free(&want);
	}

	/* Inside a bucket: ../x and .git next to a real record. */
	assert_int_equal(git_tree_lookup(&zt, f->v->repo, &zone_tree), 0);
	for (i = 0; i < git_tree_entrycount(zt); i++)
		if (!strcmp(git_tree_entry_name(git_tree_entry_byindex(zt, i)), bucket))
			git_oid_cpy(&bucket_tree, git_tree_entry_id(git_tree_entry_byindex(zt, i)));
	assert_false(git_oid_is_zero(&bucket_tree));
	assert_int_equal(git_tree_lookup(&bt, f->v->repo, &bucket_tree), 0);
	snprintf(bpath, sizeof(bpath), "zone/%s", bucket);
	for (i = 0; i < 2; i++) {
		vl_buf msg = VL_BUF_INIT;
		const char *name = i == 0 ? "../x" : ".git";
		git_oid blob = vf_put_blob(f->v->repo, "x\n", 2);
		n = tree_entries(e, 60, bt);
		e[n].mode = "100644";
		e[n].name = name;
		e[n].id = blob;
		t = raw_tree(f->v->repo, e, n + 1, 1);
		t = vf_tree_edit(f->v->repo, &root, bpath, &t, GIT_FILEMODE_TREE);
		vf_chain_msg(&msg, f->v->repo, &start, f->v_fp, "");
		bad = vf_write_commit(f->v->repo, V1_REF, &start, &t, f->v_fp, msg.ptr, &f->v->key);
		expect_refused_both(f, "is not named <id>.yaml", &bad);
		expect_refused(f->town, f->v1repo, name, &bad);
		vf_move_ref(f->v->repo, V1_REF, &start);
		vl_buf_free(&msg);
	}
	git_tree_free(bt);
	git_tree_free(zt);
	git_tree_free(rt);
}

/* A record path holding a link or a submodule, or a link for a ledger. */
static void test_symlink_and_submodule(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad, blob, nowhere;

	village_zone(f, &file, path, id);
	blob = vf_put_blob(f->v->repo, file.ptr, file.len);
	bad = vf_forge_entry(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, &blob, GIT_FILEMODE_LINK, NULL, VF_SIG_GOOD);
	expect_refused_both(f, "is not a regular file (mode 120000)", &bad);
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, "resident", "/etc", 4, GIT_FILEMODE_LINK, "");
	expect_refused_both(f, "'resident' is not allowed in a scope branch", &bad);
	/* A submodule pointing at a commit that exists nowhere: never followed. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	assert_int_equal(git_oid_fromstr(&nowhere, "0123456789abcdef0123456789abcdef01234567"), 0);
	bad = vf_forge_entry(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, &nowhere, GIT_FILEMODE_COMMIT, NULL, VF_SIG_GOOD);
	expect_refused_both(f, "is not a regular file (mode 160000)", &bad);
	vl_buf_free(&file);
}

/* The trees git fsck refuses (duplicateEntries, treeNotSorted): one name
 * twice, so that readers see one or the other; entries out of order, so
 * that lookups by name miss. */
static void test_duplicate_and_unsorted_tree_entries(void **state)
{
	fx *f = *state;
	git_oid start = vf_head_of(f->v->repo, V1_REF), root = vf_tree_of(f->v->repo, &start), zone_tree = { { 0 } },
		newzone, blob, t, bad;
	git_tree *rt = NULL, *zt = NULL;
	raw_entry e[64];
	size_t n, i, z = 64;
	vl_buf file = VL_BUF_INIT, msg = VL_BUF_INIT, tr = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];

	assert_int_equal(git_tree_lookup(&rt, f->v->repo, &root), 0);
	n = tree_entries(e, 60, rt);
	for (i = 0; i < n; i++)
		if (!strcmp(e[i].name, "zone"))
			z = i;
	assert_true(z < n);
	zone_tree = e[z].id;
	/* A new record, in a bucket the zone tree does not have yet. */
	do {
		vl_buf_clear(&file);
		village_zone(f, &file, path, id);
	} while (id[VL_ULID_LEN - 1] == g_zone[0][VL_ULID_LEN - 1] || id[VL_ULID_LEN - 1] == g_zone[1][VL_ULID_LEN - 1]);
	blob = vf_put_blob(f->v->repo, file.ptr, file.len);
	newzone = vf_tree_edit(f->v->repo, &zone_tree, path + 5, &blob, GIT_FILEMODE_BLOB);
	vf_record_trailer(&tr, path, &blob);

	/* "zone" twice: the one we hold, then one with the new record. */
	memmove(&e[z + 2], &e[z + 1], (n - z - 1) * sizeof(*e));
	e[z + 1] = e[z];
	e[z + 1].id = newzone;
	t = raw_tree(f->v->repo, e, n + 1, 0);
	vf_chain_msg(&msg, f->v->repo, &start, f->v_fp, tr.ptr);
	bad = vf_write_commit(f->v->repo, V1_REF, &start, &t, f->v_fp, msg.ptr, &f->v->key);
	assert_int_not_equal(vt_run(NULL, "git --git-dir '%s' fsck --no-dangling --no-progress %s", f->v1repo,
			git_oid_tostr_s(&bad)), 0);
	expect_refused_both(f, "out of order or twice", &t);

	/* The new zone tree with its buckets in reverse order. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	assert_int_equal(git_tree_lookup(&zt, f->v->repo, &newzone), 0);
	n = tree_entries(e, 60, zt);
	assert_true(n >= 2);
	for (i = 0; i < n / 2; i++) {
		raw_entry x = e[i];
		e[i] = e[n - 1 - i];
		e[n - 1 - i] = x;
	}
	t = raw_tree(f->v->repo, e, n, 0);
	t = vf_tree_edit(f->v->repo, &root, "zone", &t, GIT_FILEMODE_TREE);
	vl_buf_clear(&msg);
	vf_chain_msg(&msg, f->v->repo, &start, f->v_fp, tr.ptr);
	bad = vf_write_commit(f->v->repo, V1_REF, &start, &t, f->v_fp, msg.ptr, &f->v->key);
	expect_refused_both(f, "out of order or twice", NULL);
	git_tree_free(zt);
	git_tree_free(rt);
	vl_buf_free(&file);
	vl_buf_free(&msg);
	vl_buf_free(&tr);
}

/* ---- sizes and YAML bombs ----------------------------------------------- */

#define BOMB_BYTES 67108864       /* 64 MiB of zeros: 64 KiB on disk */
#define RSS_LIMIT_KB (48 * 1024)  /* a fetch of this network peaks near 25 MiB */

/* A loose object of BOMB_BYTES zeros of the given type, written as git
 * would (a hostile peer's object database can hold anything). */
static git_oid make_bomb(const char *repo, const char *type)
{
	char *out = NULL;
	git_oid id;

	assert_int_equal(vt_run(&out, "head -c %d /dev/zero | git --git-dir '%s' hash-object -t %s --literally -w --stdin",
			BOMB_BYTES, repo, type), 0);
	out[GIT_OID_HEXSZ] = '\0';
	assert_int_equal(git_oid_fromstr(&id, out), 0);
	free(out);
	return id;
}

static void expect_small_rss(const char *what)
{
	if (g_max_rss_kb > RSS_LIMIT_KB) {
		print_error("%s: a fetch peaked at %ld KiB: the %d-byte object was inflated\n", what, g_max_rss_kb,
				BOMB_BYTES);
		fail();
	}
}

/* The county's config pointing at a 64 MiB commit: the township's fetch
 * reads the header, refuses before parsing, and changes nothing. */
static void test_config_commit_bomb(void **state)
{
	fx *f = *state;
	git_oid bomb = make_bomb(f->crepo, "commit");
	git_repository *c = NULL;
	git_reference *ref = NULL;
	char *before = vf_snapshot(f->trepo), *after, *out = NULL, *err = NULL;

	assert_int_equal(git_repository_open_bare(&c, f->crepo), 0);
	assert_int_equal(git_reference_create(&ref, c, "refs/heads/config", &bomb, 1, NULL), 0);
	git_reference_free(ref);
	git_repository_free(c);
	g_max_rss_kb = 0;
	assert_int_not_equal(fetch(f->town, f->crepo, &out, &err), 0);
	vf_must_contain(err, "size limit", "config bomb");
	expect_small_rss("a 64 MiB config commit");
	after = vf_snapshot(f->trepo);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(out);
	free(err);
}

/* refs/evidence/ of the source pointing at a 64 MiB commit or blob: read
 * from the header, never inflated, never taken. */
static void test_evidence_bomb(void **state)
{
	fx *f = *state;
	git_oid cb = make_bomb(f->v1repo, "commit"), bb = make_bomb(f->v1repo, "blob");
	char *out = NULL, *err = NULL, *refs = NULL;

	vf_move_ref(f->v->repo, "refs/evidence/0000000000000000000000000000000000000001", &cb);
	vf_move_ref(f->v->repo, "refs/evidence/0000000000000000000000000000000000000002", &bb);
	g_max_rss_kb = 0;
	assert_int_equal(fetch(f->town, f->v1repo, &out, &err), 0);
	expect_small_rss("evidence bomb");
	assert_int_equal(vt_run(&refs, "git --git-dir '%s' for-each-ref refs/evidence/", f->trepo), 0);
	assert_string_equal(refs, "");
	assert_false(has_object(f->trepo, &cb));
	assert_false(has_object(f->trepo, &bb));
	free(out);
	free(err);
	free(refs);
}

/* A scope branch whose head, or the parent of a signed head, is a 64 MiB
 * commit object (64 KiB on disk): refused from its header, never inflated. */
static void test_commit_bombs(void **state)
{
	fx *f = *state;
	git_oid start = vf_head_of(f->v->repo, V1_REF), bomb = make_bomb(f->v1repo, "commit"), top, tree;
	git_buf payload = { NULL, 0, 0 };
	vl_buf msg = VL_BUF_INIT, p = VL_BUF_INIT, armor = VL_BUF_INIT, from = VL_BUF_INIT, to = VL_BUF_INIT;

	vf_move_ref(f->v->repo, V1_REF, &bomb);
	g_max_rss_kb = 0;
	expect_refused_both(f, "over the limit", &bomb);
	expect_small_rss("a 64 MiB commit at the head");

	/* A signed commit of the village whose parent is the bomb. */
	tree = vf_tree_of(f->v->repo, &start);
	vf_chain_msg(&msg, f->v->repo, &start, f->v_fp, "");
	vf_commit_payload(&payload, f->v->repo, &start, &tree, f->v_fp, msg.ptr);
	assert_int_equal(vl_buf_put(&p, payload.ptr, payload.size), 0);
	assert_int_equal(vl_buf_printf(&from, "parent %s\n", git_oid_tostr_s(&start)), 0);
	assert_int_equal(vl_buf_printf(&to, "parent %s\n", git_oid_tostr_s(&bomb)), 0);
	vf_buf_replace(&p, from.ptr, to.ptr);
	vf_make_armor(&armor, &f->v->key, p.ptr, p.len, VF_SIG_GOOD);
	assert_int_equal(git_commit_create_with_signature(&top, f->v->repo, p.ptr, armor.ptr, NULL), 0);
	vf_move_ref(f->v->repo, V1_REF, &top);
	g_max_rss_kb = 0;
	expect_refused_both(f, "over the limit", &bomb);
	expect_small_rss("a 64 MiB parent commit");
	git_buf_dispose(&payload);
	vl_buf_free(&msg);
	vl_buf_free(&p);
	vl_buf_free(&armor);
	vl_buf_free(&from);
	vl_buf_free(&to);
}

/* Write a loose object by hand: a zlib stream (stored blocks) of
 * "<type> <claimed>\0" + data, under the given id. */
static void write_lying_loose(const char *repo, const char *hex, const char *type, size_t claimed,
		const char *data, size_t len)
{
	vl_buf content = VL_BUF_INIT, z = VL_BUF_INIT;
	char dir[700], file[760];
	uint32_t a = 1, b = 0;
	size_t i;

	assert_int_equal(vl_buf_printf(&content, "%s %zu", type, claimed), 0);
	assert_int_equal(vl_buf_putc(&content, '\0'), 0);
	assert_int_equal(vl_buf_put(&content, data, len), 0);
	assert_int_equal(vl_buf_putc(&z, 0x78), 0);
	assert_int_equal(vl_buf_putc(&z, 0x01), 0);
	assert_true(content.len < 65535);
	{
		size_t n = content.len;
		unsigned char h[5] = { 1, (unsigned char)(n & 0xff), (unsigned char)(n >> 8), (unsigned char)(~n & 0xff),
			(unsigned char)((~n >> 8) & 0xff) };
		assert_int_equal(vl_buf_put(&z, h, 5), 0);
		assert_int_equal(vl_buf_put(&z, content.ptr, n), 0);
	}
	for (i = 0; i < content.len; i++) {
		a = (a + (unsigned char)content.ptr[i]) % 65521;
		b = (b + a) % 65521;
	}
	{
		uint32_t ad = (b << 16) | a;
		unsigned char t[4] = { (unsigned char)(ad >> 24), (unsigned char)(ad >> 16), (unsigned char)(ad >> 8),
			(unsigned char)ad };
		assert_int_equal(vl_buf_put(&z, t, 4), 0);
	}
	snprintf(dir, sizeof(dir), "%s/objects/%.2s", repo, hex);
	(void)mkdir(dir, 0755);
	snprintf(file, sizeof(file), "%s/%s", dir, hex + 2);
	vt_write(file, z.ptr, z.len);
	vl_buf_free(&content);
	vl_buf_free(&z);
}

static void test_oversized_record(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT, body = VL_BUF_INIT, big = VL_BUF_INIT, area = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], hex[GIT_OID_HEXSZ + 1];
	git_oid start = vf_head_of(f->v->repo, V1_REF), blob, lie;
	size_t i;

	/* A canonical record of 70 000 bytes, signed over its bytes. */
	village_zone(f, &file, path, id);
	vf_record_body(&body, &file);
	assert_int_equal(vl_buf_puts(&area, "area: "), 0);
	for (i = 0; i < 70000; i++)
		assert_int_equal(vl_buf_putc(&area, 'x'), 0);
	vf_buf_replace(&body, "area: a-Z9", area.ptr);
	vf_sign_body(&big, &f->v->key, body.ptr, body.len);
	assert_true(big.len > VL_RECORD_MAX_BYTES);
	blob = vf_put_blob(f->v->repo, big.ptr, big.len);
	(void)vf_forge_entry(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, &blob, GIT_FILEMODE_BLOB, NULL, VF_SIG_GOOD);
	expect_refused_both(f, "over the limit", &blob);
	/* The same from a pack. */
	assert_int_equal(vt_run(NULL, "git --git-dir '%s' repack -adq", f->v1repo), 0);
	expect_refused_both(f, "over the limit", &blob);

	/* A loose object whose header claims 1 GiB but holds 100 bytes: it
	 * must be refused from its header, never inflated. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	memset(hex, 'e', GIT_OID_HEXSZ);
	hex[GIT_OID_HEXSZ] = '\0';
	memcpy(hex, "e0c0ffee", 8);
	write_lying_loose(f->v1repo, hex, "blob", (size_t)1 << 30, file.ptr, 100);
	assert_int_equal(git_oid_fromstr(&lie, hex), 0);
	(void)vf_forge_entry(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, &lie, GIT_FILEMODE_BLOB, NULL, VF_SIG_GOOD);
	expect_refused_both(f, "1073741824 bytes, over the limit", &lie);

	/* A real 64 MiB record blob (64 KiB on disk): refused without
	 * inflating it. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	blob = make_bomb(f->v1repo, "blob");
	(void)vf_forge_entry(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, &blob, GIT_FILEMODE_BLOB, NULL, VF_SIG_GOOD);
	g_max_rss_kb = 0;
	expect_refused_both(f, "67108864 bytes, over the limit", &blob);
	expect_small_rss("a 64 MiB record");
	vl_buf_free(&file);
	vl_buf_free(&body);
	vl_buf_free(&big);
	vl_buf_free(&area);
}

/* A record body edited by from -> to, signed correctly over its bytes. */
static git_oid forge_body(fx *f, const char *from, const char *to)
{
	vl_buf file = VL_BUF_INIT, body = VL_BUF_INIT, forged = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid bad;

	village_zone(f, &file, path, id);
	vf_record_body(&body, &file);
	vf_buf_replace(&body, from, to);
	vf_sign_body(&forged, &f->v->key, body.ptr, body.len);
	assert_true(forged.len <= VL_RECORD_MAX_BYTES);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, forged.ptr, forged.len, GIT_FILEMODE_BLOB, NULL);
	vl_buf_free(&file);
	vl_buf_free(&body);
	vl_buf_free(&forged);
	return bad;
}

static void test_yaml_bombs(void **state)
{
	fx *f = *state;
	vl_buf deep = VL_BUF_INIT, bomb = VL_BUF_INIT;
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad;
	struct timespec t0, t1;
	size_t i, j;

	/* Depth: 28 000 nested flow sequences (quadratic in libyaml unless
	 * stopped at the depth cap). */
	assert_int_equal(vl_buf_puts(&deep, "area: "), 0);
	for (i = 0; i < 28000; i++)
		assert_int_equal(vl_buf_putc(&deep, '['), 0);
	for (i = 0; i < 28000; i++)
		assert_int_equal(vl_buf_putc(&deep, ']'), 0);
	bad = forge_body(f, "area: a-Z9", deep.ptr);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_refused_both(f, "nested too deeply", &bad);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 8);

	/* The 9x9 alias bomb. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	assert_int_equal(vl_buf_puts(&bomb, "area: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"), 0);
	for (i = 1; i < 9; i++) {
		assert_int_equal(vl_buf_printf(&bomb, "  %c: &%c [", 'a' + (int)i, 'a' + (int)i), 0);
		for (j = 0; j < 9; j++)
			assert_int_equal(vl_buf_printf(&bomb, "%s*%c", j ? "," : "", 'a' + (int)i - 1), 0);
		assert_int_equal(vl_buf_puts(&bomb, "]\n"), 0);
	}
	bomb.ptr[--bomb.len] = '\0';
	bad = forge_body(f, "area: a-Z9", bomb.ptr);
	expect_refused_both(f, "anchors (&) are not allowed", &bad);
	/* An alias alone. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = forge_body(f, "area: a-Z9", "area: *a");
	expect_refused_both(f, "alias", &bad);
	vl_buf_free(&deep);
	vl_buf_free(&bomb);
}

/* ---- scoped replication ------------------------------------------------- */

/* The scope branches a repository holds, one per line. */
static char *scope_refs(const char *repo)
{
	char *out = NULL;

	assert_int_equal(vt_run(&out, "git --git-dir '%s' for-each-ref --format='%%(refname)' refs/heads/scope/", repo),
			0);
	return out;
}

static void test_scope_filtering(void **state)
{
	fx *f = *state;
	char *refs;
	git_oid v2head, x1head, townhead, v3head, ch, th;

	/* The county receives everything the township has. */
	fetch_ok(f->county, f->trepo);
	refs = scope_refs(f->crepo);
	vf_must_contain(refs, V1_CODE, "county");
	vf_must_contain(refs, V2_CODE, "county");
	vf_must_contain(refs, TOWN_CODE, "county");
	vf_must_contain(refs, X1_CODE, "county");
	free(refs);
	ch = head_at(f->crepo, V2_REF);
	th = head_at(f->trepo, V2_REF);
	assert_true(git_oid_equal(&ch, &th));

	/* The county writes village 2 and a new village of the township: the
	 * township receives both, and nothing of another township's village. */
	add_zone(NULL, f->county, V2_CODE, "C2", NULL);
	add_zone(NULL, f->county, V3_CODE, "C3", NULL);
	v2head = head_at(f->crepo, V2_REF);
	v3head = head_at(f->crepo, VL_REF_SCOPE_PREFIX V3_CODE);
	x1head = head_at(f->crepo, VL_REF_SCOPE_PREFIX X1_CODE);
	townhead = head_at(f->crepo, VL_REF_SCOPE_PREFIX TOWN_CODE);
	fetch_ok(f->town, f->crepo);
	th = head_at(f->trepo, V2_REF);
	assert_true(git_oid_equal(&th, &v2head));
	th = head_at(f->trepo, VL_REF_SCOPE_PREFIX V3_CODE);
	assert_true(git_oid_equal(&th, &v3head));
	assert_false(has_ref(f->trepo, VL_REF_SCOPE_PREFIX X1_CODE));
	assert_false(has_object(f->trepo, &x1head));

	/* A village receives only its own branch, from the county and from the
	 * township, although both hold others. */
	fetch_ok(f->v1, f->crepo);
	fetch_ok(f->v1, f->trepo);
	refs = scope_refs(f->v1repo);
	assert_string_equal(refs, "refs/heads/scope/" V1_CODE "\n");
	free(refs);
	assert_false(has_object(f->v1repo, &v2head));
	assert_false(has_object(f->v1repo, &v3head));
	assert_false(has_object(f->v1repo, &x1head));
	assert_false(has_object(f->v1repo, &townhead));
}

/* ---- evidence travels upward ------------------------------------------- */

/* Village 2's key copied to a second laptop; both write; village 2's own
 * laptop catches it. Returns the two commits. */
static void village2_equivocates(fx *f, git_oid *a, git_oid *b)
{
	char copy[600], copyrepo[700];

	vf_path_in(copy, sizeof(copy), f->dir, "v2-copy");
	vf_path_in(copyrepo, sizeof(copyrepo), copy, "repo.git");
	assert_int_equal(vt_run(NULL, "cp -a '%s' '%s'", f->v2, copy), 0);
	add_zone(NULL, f->v2, NULL, "ZA", NULL);
	add_zone(NULL, copy, NULL, "ZB", NULL);
	*a = head_at(f->v2repo, V2_REF);
	*b = head_at(copyrepo, V2_REF);
	expect_equivocation(f->v2, copyrepo, V2_REF, b, a);
}

static void test_evidence_travels_upward(void **state)
{
	fx *f = *state;
	char abuf[SHORT_ID + 1], bbuf[SHORT_ID + 1];
	char *out = NULL, *err = NULL;
	git_oid a, b;

	village2_equivocates(f, &a, &b);
	git_oid_tostr(abuf, sizeof(abuf), &a);
	git_oid_tostr(bbuf, sizeof(bbuf), &b);
	/* The township fetching from that laptop gets the evidence too. */
	assert_int_equal(fetch(f->town, f->v2repo, &out, &err), 0);
	vf_must_contain(out, "EQUIVOCATION", "fetch stdout");
	free(out);
	free(err);
	assert_int_equal(vt_run(NULL, "git --git-dir '%s' rev-parse -q --verify refs/evidence/%s && "
			"git --git-dir '%s' rev-parse -q --verify refs/evidence/%s", f->trepo, git_oid_tostr_s(&a), f->trepo,
			git_oid_tostr_s(&b)), 0);
	assert_int_equal(vt_run(&out, "'%s' -C '%s' incidents", VL_BINARY, f->town), 4);
	vf_must_contain(out, abuf, "township incidents");
	vf_must_contain(out, bbuf, "township incidents");
	vf_must_contain(out, "V2", "township incidents");
	free(out);
	/* And from the township to the county. */
	fetch_ok(f->county, f->trepo);
	assert_int_equal(vt_run(&out, "'%s' -C '%s' incidents", VL_BINARY, f->county), 4);
	vf_must_contain(out, abuf, "county incidents");
	vf_must_contain(out, bbuf, "county incidents");
	free(out);
}

/* Evidence about village 2 holds village 2's records: village 1 fetching
 * from the township must not receive it (docs/formats.md §3: a node never gets
 * what it may not read). */
static void test_evidence_respects_scope(void **state)
{
	fx *f = *state;
	git_oid a, b;
	char *refs = NULL;

	village2_equivocates(f, &a, &b);
	fetch_ok(f->town, f->v2repo);
	assert_true(has_object(f->trepo, &b));
	fetch_ok(f->v1, f->trepo);
	assert_int_equal(vt_run(&refs, "git --git-dir '%s' for-each-ref refs/evidence/", f->v1repo), 0);
	if (*refs || has_object(f->v1repo, &b) || has_object(f->v1repo, &a)) {
		print_error("village 1 received village 2's evidence commits (and with them village 2's records):\n%s\n",
				refs);
		free(refs);
		fail();
	}
	free(refs);
}

/* A peer cannot accuse a key by putting one of its ordinary commits under
 * refs/evidence/: without the other commit of the pair there is no
 * equivocation. */
static void test_lone_evidence_not_taken(void **state)
{
	fx *f = *state;
	git_oid v1head = head_at(f->trepo, V1_REF);
	char *out = NULL;
	int rc;

	assert_int_equal(vt_run(NULL, "git --git-dir '%s' update-ref refs/evidence/%s %s", f->trepo,
			git_oid_tostr_s(&v1head), git_oid_tostr_s(&v1head)), 0);
	fetch_ok(f->county, f->trepo);
	rc = vt_run(&out, "'%s' -C '%s' incidents", VL_BINARY, f->county);
	if (rc != 0) {
		print_error("one ordinary commit under the peer's refs/evidence/ became an incident (exit %d):\n%s\n",
				rc, out);
		free(out);
		fail();
	}
	free(out);
}

/* ---- convergence ------------------------------------------------------- */

static void test_fetch_merge_converges(void **state)
{
	fx *f = *state;
	char snap[600], snaprepo[700], args[256];
	char *out = NULL, *err = NULL;
	git_oid vh, th, before;

	before = head_at(f->v1repo, V1_REF);
	/* Concurrent work on village 1's branch: the laptop adds a zone and
	 * changes one field of Z2, the township adds a zone and another field. */
	add_zone(NULL, f->v1, NULL, "ZV", NULL);
	snprintf(args, sizeof(args), "edit %s --set designation=prevention", g_zone[1]);
	vf_ok_free(f->v1, args);
	add_zone(NULL, f->town, V1_CODE, "ZT", NULL);
	snprintf(args, sizeof(args), "edit %s --set notes=checked", g_zone[1]);
	vf_ok_free(f->town, args);
	/* Both fetch from the other's state before either fetch. */
	vf_path_in(snap, sizeof(snap), f->dir, "v1-snapshot");
	vf_path_in(snaprepo, sizeof(snaprepo), snap, "repo.git");
	assert_int_equal(vt_run(NULL, "cp -a '%s' '%s'", f->v1, snap), 0);
	assert_int_equal(fetch(f->v1, f->trepo, &out, &err), 0);
	vf_must_contain(out, "1 merges", "village fetch");
	free(out);
	free(err);
	assert_int_equal(fetch(f->town, snaprepo, &out, &err), 0);
	vf_must_contain(out, "1 merges", "township fetch");
	free(out);
	free(err);
	vh = head_at(f->v1repo, V1_REF);
	th = head_at(f->trepo, V1_REF);
	assert_false(git_oid_equal(&vh, &before));
	if (!git_oid_equal(&vh, &th)) {
		char v[GIT_OID_HEXSZ + 1], t[GIT_OID_HEXSZ + 1];
		git_oid_tostr(v, sizeof(v), &vh);
		git_oid_tostr(t, sizeof(t), &th);
		print_error("the laptops did not converge: village %s, township %s\n", v, t);
		fail();
	}
	{
		char *a = NULL, *b = NULL;
		assert_int_equal(vt_run(&a, "git --git-dir '%s' rev-parse " V1_REF, f->v1repo), 0);
		assert_int_equal(vt_run(&b, "git --git-dir '%s' rev-parse " V1_REF, f->trepo), 0);
		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	/* Both fields stand, and both nodes verify. */
	snprintf(args, sizeof(args), "show %s", g_zone[1]);
	out = vf_ok(f->v1, args);
	vf_must_contain(out, "prevention", "merged record");
	vf_must_contain(out, "checked", "merged record");
	free(out);
	vf_ok_free(f->v1, "verify --quiet");
	vf_ok_free(f->town, "verify --quiet");
	/* Fetching again changes nothing on either side. */
	fetch_ok(f->v1, f->trepo);
	fetch_ok(f->town, f->v1repo);
	th = head_at(f->trepo, V1_REF);
	vh = head_at(f->v1repo, V1_REF);
	assert_true(git_oid_equal(&vh, &th));
}

/* The township took a newer config from the county; a village laptop that
 * has not yet must still be able to give it its branch (the config is
 * not a fast-forward, but it is older, not another history). */
static void test_fetch_from_peer_with_older_config(void **state)
{
	fx *f = *state;
	vl_key k;
	vl_buf line = VL_BUF_INIT;
	char args[512];
	git_oid vh, th;

	assert_int_equal(vl_key_generate(&k), 0);
	assert_int_equal(vl_pubkey_format(&line, k.pk, NULL), 0);
	snprintf(args, sizeof(args), "roster add --name V3 --role village --scope " V3_CODE " --key '%s'", line.ptr);
	vf_ok_free(f->county, args);
	fetch_ok(f->town, f->crepo);
	add_zone(NULL, f->v1, NULL, "ZO", NULL);
	vh = head_at(f->v1repo, V1_REF);
	fetch_ok(f->town, f->v1repo);
	th = head_at(f->trepo, V1_REF);
	assert_true(git_oid_equal(&vh, &th));
	vl_key_wipe(&k);
	vl_buf_free(&line);
}

/* ---- issue 14: checks no other test isolates ---------------------------- */

/* Village 1's key signs a record naming the county as its author (the
 * county may write every scope: only the author = signer check refuses
 * it), inside village 1's own good commit. */
static void test_record_author_not_signer(void **state)
{
	fx *f = *state;
	vl_node *c = NULL;
	vl_buf file = VL_BUF_INIT, body = VL_BUF_INIT, forged = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], from[VL_FP_LEN + 16], to[VL_FP_LEN + 16];
	git_oid bad;

	assert_int_equal(vl_node_open(&c, f->county, 0, NULL), 0);
	village_zone(f, &file, path, id);
	vf_record_body(&body, &file);
	snprintf(from, sizeof(from), "author: \"%s\"", f->v_fp);
	snprintf(to, sizeof(to), "author: \"%s\"", c->fp);
	vf_buf_replace(&body, from, to);
	vf_sign_body(&forged, &f->v->key, body.ptr, body.len);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, forged.ptr, forged.len,
			GIT_FILEMODE_BLOB, NULL);
	expect_refused_both(f, "claims author", &bad);
	expect_refused(f->town, f->v1repo, id, &bad);
	vl_node_close(c);
	vl_buf_free(&file);
	vl_buf_free(&body);
	vl_buf_free(&forged);
}

/* Only the record's scope is wrong: the township (which may write both
 * villages) signs a record of village 2 and commits it, with its own good
 * signature and chain, on village 1's branch. Commit scope, record signer
 * and record signature all pass; the record-scope check alone refuses. */
static void test_record_scope_only_wrong(void **state)
{
	fx *f = *state;
	vl_node *t = NULL;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid bad;

	git_oid start = vf_head_of(f->v->repo, V1_REF), good, th;
	char *out = NULL, *err = NULL;

	assert_int_equal(vl_node_open(&t, f->town, 1, NULL), 0);
	vf_new_zone(&file, &t->key, V2_CODE, path, id);
	bad = vf_forge_file(f->v->repo, V1_REF, t->fp, &t->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_refused_both(f, "has scope " V2_CODE " but lives on the branch of " V1_CODE, &bad);
	/* Control: the same forgery with the record's scope right is taken. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	vl_buf_clear(&file);
	vf_new_zone(&file, &t->key, V1_CODE, path, id);
	good = vf_forge_file(f->v->repo, V1_REF, t->fp, &t->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	assert_int_equal(fetch(f->county, f->v1repo, &out, &err), 0);
	th = head_at(f->crepo, V1_REF);
	assert_true(git_oid_equal(&th, &good));
	free(out);
	free(err);
	vl_node_close(t);
	vl_buf_free(&file);
}

/* Only the commit's scope is wrong: village 2's key commits a record that
 * village 1 signed (valid in every other way) on village 1's branch. */
static void test_commit_scope_only_wrong(void **state)
{
	fx *f = *state;
	vl_node *v2 = NULL;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], what[VL_FP_LEN + 128];
	git_oid bad;

	assert_int_equal(vl_node_open(&v2, f->v2, 1, NULL), 0);
	village_zone(f, &file, path, id);
	bad = vf_forge_file(f->v->repo, V1_REF, v2->fp, &v2->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	snprintf(what, sizeof(what), "signed by %s (village, scope " V2_CODE "), which may not write scope " V1_CODE,
			v2->fp);
	expect_refused_both(f, what, &bad);
	vl_node_close(v2);
	vl_buf_free(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_commit_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_record_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_branch_objects_not_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cross_scope_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope_path_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noncanonical_commit_signatures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpgsig_in_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsigned_commit_in_signed_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noncanonical_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_equivocation_laptop_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewritten_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replayed_old_record_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_tree_entry_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_and_submodule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_and_unsorted_tree_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_bombs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_commit_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml_bombs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope_filtering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_travels_upward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_respects_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lone_evidence_not_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_merge_converges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_from_peer_with_older_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_author_not_signer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_scope_only_wrong, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_scope_only_wrong, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
