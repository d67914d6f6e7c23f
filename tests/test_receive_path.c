/*
 * test_receive_path.c - the one receive path (agent/sync/receive.c, issue
 * 7): config and scope branches land in one quarantine, pass one set of
 * checks and are promoted as one pack (a bad config refuses everything);
 * evidence kept on equivocation passes the checks of any received commit
 * (item 5); peer refs are named by an authenticated identity, never by the
 * source's keys/node.pub (item 9). The hang cases of item 6 are in
 * tests/sh/receive.sh (they need a timeout around the binary).
 *
 * A real network is made once with the binary (county, township, two
 * villages) and copied for every test; attacks are forged with libgit2 and
 * the store library in village 1's repo.git, then `vledger -C RECEIVER
 * fetch SOURCE/repo.git` runs the real binary. Refusals must leave the
 * receiver's repo.git byte for byte as it was.
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

#include "forge.h"
#include "agent/node/node.h"
#include "store/repo.h"
#include "store/sshsig.h"
#include "testutil.h"

#define COUNTY_CODE VF_COUNTY_CODE
#define TOWN_CODE VF_TOWN_CODE
#define V1_CODE VF_V1_CODE
#define V2_CODE VF_V2_CODE
#define V3_CODE "500243001003"
#define V1_REF VL_REF_SCOPE_PREFIX V1_CODE
#define TOWN_REF VL_REF_SCOPE_PREFIX TOWN_CODE

static char *g_template;

typedef struct {
	char *dir;
	char county[512], town[512], v1[512], v2[512];
	char crepo[600], trepo[600], v1repo[600];
	vl_node *v;  /* village 1 with its key: where we forge */
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
}

static void add_zone(const char *home, const char *scope, const char *zone_no)
{
	char args[512];

	snprintf(args, sizeof(args), "add zone %s%s --set zone_no=%s --set designation=sealed --set area=a-%s "
			"--set status=active --set announced_at=2022-04-06T08:00:00Z", scope ? "--scope " : "",
			scope ? scope : "", zone_no, zone_no);
	vf_ok_free(home, args);
}

/* vledger -C home fetch src: the exit code; stdout and stderr together. */
static int fetch(const char *home, const char *src, char **out)
{
	return vt_run(out, "'%s' -C '%s' fetch '%s' 2>&1", VL_BINARY, home, src);
}

/* Every file of a repo.git with its size and sha256, and every directory. */
static char *listing(const char *repo)
{
	char *out = NULL;

	assert_int_equal(vt_run(&out, "cd '%s' && { find . -type f -exec sha256sum {} + | LC_ALL=C sort; "
			"find . -type d | LC_ALL=C sort; }", repo), 0);
	return out;
}

static git_oid head_at(const char *repo_path, const char *ref)
{
	git_repository *r = NULL;
	git_oid id;

	assert_int_equal(vl_repo_open(&r, repo_path), 0);
	id = vf_head_of(r, ref);
	git_repository_free(r);
	return id;
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
	git_oid_cpy(&id, git_commit_parent_id(c, 0));
	git_commit_free(c);
	return id;
}

/* Hex of an id in the caller's buffer (git_oid_tostr_s has one buffer, so
 * two of them in one call would print the same id). */
static const char *hex(char out[GIT_OID_HEXSZ + 1], const git_oid *id)
{
	return git_oid_tostr(out, GIT_OID_HEXSZ + 1, id);
}

/* A fingerprint as it names refs/peers/<peer>/ (no "SHA256:", ref-safe). */
static void peer_of(char out[VL_FP_LEN], const char *fp)
{
	size_t i, k = 0;

	for (i = 7; fp[i]; i++)
		out[k++] = fp[i] == '/' ? '_' : fp[i] == '+' ? '-' : fp[i];
	out[k] = '\0';
}

static int group_setup(void **state)
{
	fx f;

	(void)state;
	assert_int_equal(unsetenv("VLEDGER_FAKE_TIME_MS"), 0);
	vf_env_init();
	memset(&f, 0, sizeof(f));
	g_template = vt_tmpdir();
	set_paths(&f, g_template);
	vf_network(g_template, f.county, f.town, "township", f.v1, f.v2);
	/* Village 1: seq 1..3; the township holds it. */
	add_zone(f.v1, NULL, "Z1");
	add_zone(f.v1, NULL, "Z2");
	add_zone(f.v1, NULL, "Z3");
	vf_fetch_ok(f.town, f.v1repo);
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

/* ---- one path: config and scopes together -------------------------------- */

/* A new config commit and a new scope commit arrive in ONE pack; nothing
 * is written loose (the old config route copied objects loose into the
 * live store). */
static void test_config_and_scopes_one_pack(void **state)
{
	fx *f = *state;
	char v3[600], *packs = NULL, *loose = NULL, *out = NULL;
	git_oid cfg_before = head_at(f->trepo, VL_REF_CONFIG), cfg, town;

	vf_path_in(v3, sizeof(v3), f->dir, "v3");
	{
		char args[800];
		snprintf(args, sizeof(args), "init --name V3 --role village --scope " V3_CODE " --network '%s/network.yaml'",
				f->dir);
		vf_ok_free(v3, args);
	}
	vf_roster_add(f->county, v3, "V3", "village", V3_CODE);
	add_zone(f->county, TOWN_CODE, "C1");
	cfg = head_at(f->crepo, VL_REF_CONFIG);
	town = head_at(f->crepo, TOWN_REF);
	assert_false(git_oid_equal(&cfg, &cfg_before));
	assert_int_equal(vt_run(NULL, "cd '%s/objects' && ls pack/*.pack 2>/dev/null | sort > ../packs.before && "
			"find . -path ./pack -prune -o -type f -print | grep -v '^./info/' | sort > ../loose.before", f->trepo), 0);
	assert_int_equal(fetch(f->town, f->crepo, &out), 0);
	free(out);
	{
		git_oid c2 = head_at(f->trepo, VL_REF_CONFIG), t2 = head_at(f->trepo, TOWN_REF);
		assert_true(git_oid_equal(&c2, &cfg));
		assert_true(git_oid_equal(&t2, &town));
	}
	assert_int_equal(vt_run(&packs, "cd '%s/objects' && ls pack/*.pack | sort | comm -13 ../packs.before -", f->trepo), 0);
	assert_int_equal(vt_run(&loose, "cd '%s/objects' && find . -path ./pack -prune -o -type f -print | "
			"grep -v '^./info/' | sort | comm -13 ../loose.before -", f->trepo), 0);
	if (*loose) {
		print_error("receive wrote objects loose into the live store:\n%s\n", loose);
		fail();
	}
	{
		size_t n = 0;
		const char *p;
		for (p = packs; *p; p++)
			n += *p == '\n';
		if (n != 1) {
			print_error("config and scope objects should arrive as ONE pack, got %zu:\n%s\n", n, packs);
			fail();
		}
	}
	/* The pack holds the new config commit and the new scope commit. */
	{
		char h1[GIT_OID_HEXSZ + 1], h2[GIT_OID_HEXSZ + 1];
		assert_int_equal(vt_run(NULL, "cd '%s/objects' && p=$(ls pack/*.pack | sort | comm -13 ../packs.before -) && "
				"git show-index < \"${p%%.pack}.idx\" | grep -q %s && "
				"git show-index < \"${p%%.pack}.idx\" | grep -q %s", f->trepo, hex(h1, &cfg), hex(h2, &town)), 0);
	}
	assert_int_equal(vt_run(NULL, "git --git-dir '%s' fsck --no-dangling --no-progress", f->trepo), 0);
	free(packs);
	free(loose);
}

/* A config whose newest commit is signed by a village key: everything is
 * refused — also the good scope commit that came with it — and the
 * receiver is byte for byte unchanged. */
static void test_bad_config_refuses_everything(void **state)
{
	fx *f = *state;
	git_repository *c = NULL;
	git_oid bad;
	char *before, *after, *out = NULL;
	int rc;

	vl_buf net = VL_BUF_INIT;

	add_zone(f->county, TOWN_CODE, "C1");
	assert_int_equal(vl_repo_open(&c, f->crepo), 0);
	/* network.yaml as it is, plus a comment: a change a village may not make. */
	assert_int_equal(vl_repo_read(&net, NULL, c, VL_REF_CONFIG, NULL, "network.yaml", 1 << 20), 0);
	assert_int_equal(vl_buf_puts(&net, "# by a village\n"), 0);
	bad = vf_forge_file(c, VL_REF_CONFIG, f->v_fp, &f->v->key, "network.yaml", net.ptr, net.len,
			GIT_FILEMODE_BLOB, "");
	git_repository_free(c);
	vl_buf_free(&net);
	before = listing(f->trepo);
	rc = fetch(f->town, f->crepo, &out);
	after = listing(f->trepo);
	if (rc == 0 || !strstr(out, "refused") || !strstr(out, "not an admin")) {
		print_error("a config commit by a village key: exit %d, output:\n%s\n", rc, out);
		fail();
	}
	if (strcmp(before, after) != 0) {
		print_error("the config was refused but the township changed\n");
		fail();
	}
	assert_false(has_object(f->trepo, &bad));
	free(before);
	free(after);
	free(out);
}

/* ---- item 9: who the peer is ------------------------------------------- */

/* A source whose keys/node.pub is the county's but whose commits are
 * village 1's: the township records the heads under village 1's
 * fingerprint (the verified signer of the newest commit), never under the
 * county's. */
static void test_peer_refs_from_signer(void **state)
{
	fx *f = *state;
	char rogue[600], rogue_repo[700], vpeer[VL_FP_LEN], cpeer[VL_FP_LEN], *refs = NULL, *out = NULL;
	vl_node *county = NULL;
	git_oid h;

	add_zone(f->v1, NULL, "Z4");
	h = head_at(f->v1repo, V1_REF);
	vf_path_in(rogue, sizeof(rogue), f->dir, "rogue");
	vf_path_in(rogue_repo, sizeof(rogue_repo), rogue, "repo.git");
	assert_int_equal(vt_run(NULL, "cp -a '%s' '%s' && cp '%s/keys/node.pub' '%s/keys/node.pub'", f->v1, rogue,
			f->county, rogue), 0);
	assert_int_equal(vl_node_open(&county, f->county, 0, NULL), 0);
	peer_of(cpeer, county->fp);
	vl_node_close(county);
	peer_of(vpeer, f->v_fp);
	assert_int_equal(fetch(f->town, rogue_repo, &out), 0);
	free(out);
	assert_int_equal(vt_run(&refs, "git --git-dir '%s' for-each-ref --format='%%(refname) %%(objectname)' refs/peers/",
			f->trepo), 0);
	if (strstr(refs, cpeer)) {
		print_error("the township recorded a rogue source's heads under the county's fingerprint:\n%s\n", refs);
		fail();
	}
	{
		char want[300];
		snprintf(want, sizeof(want), "refs/peers/%s/scope/%s %s", vpeer, V1_CODE, git_oid_tostr_s(&h));
		vf_must_contain(refs, want, "the township's peer refs");
	}
	free(refs);
}

/* ---- item 5: evidence passes the checks of received data ---------------- */

/* A raw tree entry (names not validated: a hostile peer writes them). */
typedef struct {
	const char *mode;
	const char *name;
	git_oid id;
} raw_entry;

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

/* tree `base` with one more raw entry at the top. */
static git_oid tree_plus(git_repository *repo, const git_oid *base, const char *mode, const char *name,
		const git_oid *id)
{
	git_tree *t = NULL;
	raw_entry e[64];
	vl_buf b = VL_BUF_INIT;
	git_odb *odb = NULL;
	git_oid out;
	size_t i, n;

	assert_int_equal(git_tree_lookup(&t, repo, base), 0);
	n = git_tree_entrycount(t);
	assert_true(n < 63);
	for (i = 0; i < n; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(t, i);
		e[i].mode = git_tree_entry_filemode(te) == GIT_FILEMODE_TREE ? "40000" : "100644";
		e[i].name = git_tree_entry_name(te);
		git_oid_cpy(&e[i].id, git_tree_entry_id(te));
	}
	e[n].mode = mode;
	e[n].name = name;
	git_oid_cpy(&e[n].id, id);
	qsort(e, n + 1, sizeof(*e), git_order);
	for (i = 0; i <= n; i++) {
		assert_int_equal(vl_buf_printf(&b, "%s %s", e[i].mode, e[i].name), 0);
		assert_int_equal(vl_buf_putc(&b, '\0'), 0);
		assert_int_equal(vl_buf_put(&b, e[i].id.id, GIT_OID_RAWSZ), 0);
	}
	assert_int_equal(git_repository_odb(&odb, repo), 0);
	assert_int_equal(git_odb_write(&out, odb, b.ptr, b.len, GIT_OBJECT_TREE), 0);
	git_odb_free(odb);
	git_tree_free(t);
	vl_buf_free(&b);
	return out;
}

typedef enum {
	EV_GOOD,          /* a valid new record: the control */
	EV_DOT_GIT,       /* .git/config at the top */
	EV_DOTDOT,        /* a file named ../x at the top */
	EV_SYMLINK,       /* a record path holding a link */
	EV_EXECUTABLE,    /* a record with mode 100755 */
	EV_OTHER_SCOPE,   /* village 2's record on village 1's branch */
	EV_OVERSIZED,     /* a record path holding 70 KB */
	EV_COUNT
} ev_shape;

static const char *const ev_names[EV_COUNT] = { "good", ".git/config", "../x", "symlink", "executable",
	"other scope's record", "oversized" };

/* Village 1 signs, at the seq of the township's head, another commit on
 * the same parent, whose tree has the given shape: equivocation evidence.
 * Village 1's branch is left pointing at it. */
static git_oid forge_equivocation(fx *f, ev_shape shape)
{
	git_repository *r = f->v->repo;
	git_oid held = head_at(f->trepo, V1_REF), parent = parent_of(r, &held), ptree = vf_tree_of(r, &parent), t, blob, c;
	vl_buf file = VL_BUF_INIT, msg = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];

	vf_move_ref(r, V1_REF, &parent);
	switch (shape) {
	case EV_GOOD:
	case EV_SYMLINK:
	case EV_EXECUTABLE:
		vf_new_zone(&file, &f->v->key, V1_CODE, path, id);
		blob = vf_put_blob(r, file.ptr, file.len);
		c = vf_forge_entry(r, V1_REF, f->v_fp, &f->v->key, path, &blob,
				shape == EV_GOOD ? GIT_FILEMODE_BLOB
				: shape == EV_SYMLINK ? GIT_FILEMODE_LINK : GIT_FILEMODE_BLOB_EXECUTABLE, NULL, VF_SIG_GOOD);
		break;
	case EV_OTHER_SCOPE:
		vf_new_zone(&file, &f->v->key, V2_CODE, path, id);
		c = vf_forge_file(r, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
		break;
	case EV_OVERSIZED: {
		vl_buf big = VL_BUF_INIT;
		vf_new_zone(&file, &f->v->key, V1_CODE, path, id);
		assert_int_equal(vl_buf_put(&big, file.ptr, file.len), 0);
		while (big.len < 70 * 1024)
			assert_int_equal(vl_buf_puts(&big, "# padding padding padding padding padding\n"), 0);
		c = vf_forge_file(r, V1_REF, f->v_fp, &f->v->key, path, big.ptr, big.len, GIT_FILEMODE_BLOB, NULL);
		vl_buf_free(&big);
		break;
	}
	case EV_DOT_GIT:
	case EV_DOTDOT:
	default:
		blob = vf_put_blob(r, "[core]\n\tfsmonitor = evil\n", 25);
		if (shape == EV_DOT_GIT) {
			git_oid sub = vf_tree_edit(r, NULL, "config", &blob, GIT_FILEMODE_BLOB);
			t = tree_plus(r, &ptree, "40000", ".git", &sub);
		} else {
			t = tree_plus(r, &ptree, "100644", "../x", &blob);
		}
		vf_chain_msg(&msg, r, &parent, f->v_fp, "");
		c = vf_write_commit(r, V1_REF, &parent, &t, f->v_fp, msg.ptr, &f->v->key);
		break;
	}
	vl_buf_free(&file);
	vl_buf_free(&msg);
	return c;
}

/* Each bad shape, received as a branch that equivocates: the branch is
 * refused, the evidence is not kept ("not kept" said), and the township is
 * byte for byte unchanged. The good shape keeps both commits. */
static void test_evidence_bad_trees_not_kept(void **state)
{
	fx *f = *state;
	git_oid held = head_at(f->trepo, V1_REF);
	int s;

	for (s = 0; s < EV_COUNT; s++) {
		char *before, *after, *out = NULL;
		git_oid c = forge_equivocation(f, (ev_shape)s);
		int rc;
		before = listing(f->trepo);
		rc = fetch(f->town, f->v1repo, &out);
		after = listing(f->trepo);
		/* Oversized is refused by the caps before anything is verified. */
		if (rc != 4 || !strstr(out, s == EV_OVERSIZED ? "over the limit" : "equivocation")) {
			print_error("%s: fetch exited %d (want 4, equivocation):\n%s\n", ev_names[s], rc, out);
			fail();
		}
		if (s == EV_GOOD) {
			/* The control: both commits kept as evidence. */
			char h1[GIT_OID_HEXSZ + 1], h2[GIT_OID_HEXSZ + 1];
			assert_int_equal(vt_run(NULL, "git --git-dir '%s' rev-parse -q --verify refs/evidence/%s && "
					"git --git-dir '%s' rev-parse -q --verify refs/evidence/%s", f->trepo,
					hex(h1, &c), f->trepo, hex(h2, &held)), 0);
			assert_int_equal(vt_run(NULL, "git --git-dir '%s' update-ref -d refs/evidence/%s && "
					"git --git-dir '%s' update-ref -d refs/evidence/%s", f->trepo, hex(h1, &c),
					f->trepo, hex(h2, &held)), 0);
		} else {
			if ((s != EV_OVERSIZED && !strstr(out, "not kept")) || strcmp(before, after) != 0 ||
					has_object(f->trepo, &c)) {
				print_error("%s: evidence with a bad tree was kept or changed the township (exit %d):\n%s\n",
						ev_names[s], rc, out);
				fail();
			}
		}
		free(before);
		free(after);
		free(out);
	}
}

/* Evidence a peer offers under refs/evidence/: a pair whose other half
 * carries .git/config, or a record with mode 100755, is not kept, neither
 * half; the county takes the good branch and nothing else. */
static void test_offered_evidence_bad_tree_not_kept(void **state)
{
	fx *f = *state;
	static const ev_shape shapes[] = { EV_DOT_GIT, EV_EXECUTABLE, EV_GOOD };
	git_oid held = head_at(f->trepo, V1_REF), bad;
	char county_copy[600], ccrepo[700];
	size_t i;

	vf_path_in(county_copy, sizeof(county_copy), f->dir, "county-copy");
	vf_path_in(ccrepo, sizeof(ccrepo), county_copy, "repo.git");
	assert_int_equal(vt_run(NULL, "cp -a '%s' '%s'", f->county, county_copy), 0);
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		char *out = NULL, *refs = NULL, h1[GIT_OID_HEXSZ + 1], h2[GIT_OID_HEXSZ + 1];
		int rc;
		assert_int_equal(vt_run(NULL, "rm -rf '%s' && cp -a '%s' '%s'", f->county, county_copy, f->county), 0);
		bad = forge_equivocation(f, shapes[i]);
		vf_move_ref(f->v->repo, V1_REF, &held);
		assert_int_equal(vt_run(NULL, "git --git-dir '%s' update-ref refs/evidence/%s %s && "
				"git --git-dir '%s' update-ref refs/evidence/%s %s", f->v1repo, hex(h1, &bad),
				hex(h1, &bad), f->v1repo, hex(h2, &held), hex(h2, &held)), 0);
		rc = fetch(f->county, f->v1repo, &out);
		if (rc != 0 || (shapes[i] == EV_EXECUTABLE && !strstr(out, "not kept"))) {
			print_error("offered evidence (%s): exit %d (want 0):\n%s\n", ev_names[shapes[i]], rc, out);
			fail();
		}
		assert_int_equal(vt_run(&refs, "git --git-dir '%s' for-each-ref refs/evidence/", f->crepo), 0);
		if (shapes[i] == EV_GOOD) {
			/* The control: a good pair is kept, both halves. */
			vf_must_contain(refs, hex(h1, &bad), "county evidence refs");
			vf_must_contain(refs, hex(h2, &held), "county evidence refs");
		} else if (*refs || has_object(f->crepo, &bad)) {
			print_error("the county kept evidence whose tree is bad (%s):\n%s\n", ev_names[shapes[i]], refs);
			fail();
		}
		{
			git_oid h = head_at(f->crepo, V1_REF);
			assert_true(git_oid_equal(&h, &held));
		}
		assert_int_equal(vt_run(NULL, "git --git-dir '%s' update-ref -d refs/evidence/%s && "
				"git --git-dir '%s' update-ref -d refs/evidence/%s", f->v1repo, hex(h1, &bad),
				f->v1repo, hex(h2, &held)), 0);
		free(refs);
		free(out);
	}
}

/* ---- item 9: a refused branch names no peer -------------------------------- */

/* The source offers village 1's new commit and, on village 2's branch, a
 * commit an hour newer signed by a key on no roster (a valid signature:
 * anyone can make a key). That branch is refused, so its signer is nobody
 * authenticated: the township names the peer by village 1's key, never by
 * the stranger's. */
static void test_peer_ref_not_from_refused_branch(void **state)
{
	fx *f = *state;
	git_repository *repo = f->v->repo;
	vl_key rogue;
	vl_buf file = VL_BUF_INIT, payload = VL_BUF_INIT, armor = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], rfp[VL_FP_LEN], rpeer[VL_FP_LEN], vpeer[VL_FP_LEN], want[300];
	char *refs = NULL, *out = NULL;
	git_oid h, blob, tree, forged;
	long long when = (long long)(vl_hlc_wall_ms() / 1000) + 3600;

	add_zone(f->v1, NULL, "Z4");
	h = head_at(f->v1repo, V1_REF);
	assert_int_equal(vl_key_generate(&rogue), 0);
	vl_fingerprint(rfp, rogue.pk);
	vf_new_zone(&file, &rogue, V2_CODE, path, id);
	blob = vf_put_blob(repo, file.ptr, file.len);
	tree = vf_tree_edit(repo, NULL, path, &blob, GIT_FILEMODE_BLOB);
	assert_int_equal(vl_buf_printf(&payload, "tree %s\nauthor Rogue <%s@vledger> %lld +0000\n"
			"committer Rogue <%s@vledger> %lld +0000\n\nzone\n", git_oid_tostr_s(&tree), rfp, when, rfp,
			when), 0);
	vf_make_armor(&armor, &rogue, payload.ptr, payload.len, VF_SIG_GOOD);
	assert_int_equal(git_commit_create_with_signature(&forged, repo, payload.ptr, armor.ptr, "gpgsig"), 0);
	vf_move_ref(repo, VL_REF_SCOPE_PREFIX V2_CODE, &forged);

	assert_int_not_equal(fetch(f->town, f->v1repo, &out), 0);
	vf_must_contain(out, V2_CODE, "the refused branch");
	free(out);
	assert_int_equal(vt_run(&refs, "git --git-dir '%s' for-each-ref --format='%%(refname) %%(objectname)' refs/peers/",
			f->trepo), 0);
	peer_of(rpeer, rfp);
	peer_of(vpeer, f->v_fp);
	if (strstr(refs, rpeer)) {
		print_error("the township named the peer by the signer of a refused branch:\n%s\n", refs);
		fail();
	}
	snprintf(want, sizeof(want), "refs/peers/%s/scope/%s %s", vpeer, V1_CODE, git_oid_tostr_s(&h));
	vf_must_contain(refs, want, "the township's peer refs");
	free(refs);
	vl_buf_free(&file);
	vl_buf_free(&payload);
	vl_buf_free(&armor);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_and_scopes_one_pack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config_refuses_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_refs_from_signer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_bad_trees_not_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offered_evidence_bad_tree_not_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_ref_not_from_refused_branch, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
