/*
 * test_trust.c - the trust holes of issue 7 ("What must hold afterwards",
 * items 1, 2, 3, 4, 7 and 8), each forged on a real network made with the
 * binary (county, a delegated township admin, two villages) and each
 * caught twice: by `vledger verify` on the forging node (exit 4, naming the
 * problem and the commit) and by the county's `vledger fetch` from it
 * (exit 4, the county's repository byte-for-byte unchanged).
 *
 *   1  time moves forward along a key's chain      test_time_*
 *   2  revocation pins what it cuts off            test_revocation_pins_heads
 *   3  roster dates stay near their commit         test_backdated_revocation
 *   4  record ids are unique on a node             test_record_id_reused
 *   7  a node signs only with its roster key       test_key_mismatch_writes_nothing
 *   8  canonical objects only                      test_canon_*
 *
 * test_roster_rules_in_memory checks the roster side of items 2 and 3 on
 * rosters in memory. test_forge_control shows the forging helpers make commits that pass, so
 * every refusal below is the rule's doing. Keys are plain (not sealed) to
 * keep the run fast. VT_VERBOSE=1 prints what the binary says.
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
#include "agent/node/ledger.h"
#include "agent/node/node.h"
#include "agent/node/roster.h"
#include "store/record.h"
#include "store/repo.h"
#include "store/sshsig.h"
#include "store/yaml.h"
#include "testutil.h"

#define COUNTY_CODE VF_COUNTY_CODE
#define TOWN_CODE VF_TOWN_CODE
#define V1_CODE VF_V1_CODE
#define V2_CODE VF_V2_CODE
#define V1_REF VL_REF_SCOPE_PREFIX V1_CODE
#define SHORT_ID 12

/* ---- the template network (made once) ---------------------------------- */

static char *g_template;
/* Zone records of village 1 (g_zone[0] edited once) and of village 2. */
static char g_zone[2][VL_ULID_LEN + 1];
static char g_zone2[VL_ULID_LEN + 1];

typedef struct {
	char *dir;
	char county[512], town[512], village[512], village2[512];
	char crepo[600], vrepo[600], trepo[600];
	vl_node *v; /* village 1, with its key: where the forging happens */
} fx;

static void set_paths(fx *f, const char *dir)
{
	vf_path_in(f->county, sizeof(f->county), dir, "county");
	vf_path_in(f->town, sizeof(f->town), dir, "town");
	vf_path_in(f->village, sizeof(f->village), dir, "village");
	vf_path_in(f->village2, sizeof(f->village2), dir, "village2");
	vf_path_in(f->crepo, sizeof(f->crepo), f->county, "repo.git");
	vf_path_in(f->vrepo, sizeof(f->vrepo), f->village, "repo.git");
	vf_path_in(f->trepo, sizeof(f->trepo), f->town, "repo.git");
}

static int group_setup(void **state)
{
	fx f;
	char args[1024];

	(void)state;
	vf_env_init();
	memset(&f, 0, sizeof(f));
	g_template = vt_tmpdir();
	set_paths(&f, g_template);
	/* The town is rostered as an admin, not a township node. */
	vf_network(g_template, f.county, f.town, "admin", f.village, f.village2);
	vf_add_zone(g_zone[0], f.village, "Z1");
	vf_add_zone(g_zone[1], f.village, "Z2");
	snprintf(args, sizeof(args), "edit %s --set designation=controlled", g_zone[0]);
	vf_ok_free(f.village, args);
	vf_add_zone(g_zone2, f.village2, "Z5");
	vf_fetch_home(f.county, f.village);
	vf_fetch_home(f.county, f.village2);
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
	vf_forger_open(&f->v, NULL, f->village);
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

/* ---- the two refusals ----------------------------------------------------- */

static int run(char **out, const char *home, const char *args)
{
	int rc = vt_run(out, "'%s' -C '%s' %s 2>&1", VL_BINARY, home, args);

	if (getenv("VT_VERBOSE"))
		print_message("vledger -C %s %s -> %d\n%s\n", home, args, rc, *out);
	return rc;
}

/*
 * vledger -C home args, twice: records checked on one thread
 * (VLEDGER_THREADS=1), then on two. Only for commands that change nothing
 * (verify, a refused fetch): both runs must exit alike and print the same
 * bytes, the parallel report being exactly the serial one.
 */
static int run_both(char **out, const char *home, const char *args)
{
	char *serial = NULL;
	int rc1 = vt_run(&serial, "VLEDGER_THREADS=1 '%s' -C '%s' %s 2>&1", VL_BINARY, home, args);
	int rc2 = vt_run(out, "VLEDGER_THREADS=2 '%s' -C '%s' %s 2>&1", VL_BINARY, home, args);

	if (getenv("VT_VERBOSE"))
		print_message("vledger -C %s %s -> %d\n%s\n", home, args, rc2, *out);
	if (rc1 != rc2 || strcmp(serial, *out) != 0) {
		print_error("vledger %s on 1 thread (exit %d):\n%s\nand on 2 threads (exit %d):\n%s\n", args, rc1,
				serial, rc2, *out);
		fail();
	}
	free(serial);
	return rc2;
}

/* `vledger verify` at home exits 4 naming `what` and (when given) bad. */
static void expect_verify_fails(const char *home, const char *what, const git_oid *bad)
{
	char *out = NULL, idbuf[GIT_OID_HEXSZ + 1];
	int rc = run_both(&out, home, "verify --quiet");

	if (rc != 4) {
		print_error("vledger verify exited %d, expected 4:\n%s\n", rc, out);
		fail();
	}
	vf_must_contain(out, what, "vledger verify");
	if (bad) {
		git_oid_tostr(idbuf, SHORT_ID + 1, bad);
		vf_must_contain(out, idbuf, "vledger verify (the forged commit)");
	}
	free(out);
}

static void expect_verify_good(const char *home)
{
	char *out = NULL;
	int rc = run_both(&out, home, "verify --quiet");

	if (rc != 0) {
		print_error("vledger verify exited %d on a good node:\n%s\n", rc, out);
		fail();
	}
	vf_must_contain(out, "all good", "vledger verify");
	free(out);
}

/* home fetching from src_home fails naming `what` (exit 4, a refused
 * branch; config, refused before any branch is looked at, exits 1); home's
 * repository is byte-for-byte what it was. */
static void expect_fetch_refused(const char *home, const char *src_home, const char *what)
{
	char repo[600], args[700];
	char *before, *after, *out = NULL;
	int rc;

	vf_path_in(repo, sizeof(repo), home, "repo.git");
	before = vf_snapshot(repo);
	snprintf(args, sizeof(args), "fetch '%s/repo.git'", src_home);
	rc = run_both(&out, home, args);
	if (rc != 4 && !(rc == 1 && strstr(out, "config commit"))) {
		print_error("vledger fetch exited %d, expected 4 (refused):\n%s\n", rc, out);
		fail();
	}
	vf_must_contain(out, what, "vledger fetch");
	after = vf_snapshot(repo);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(out);
}

/* The forgery on village 1 is refused by its verify and by the county. */
static void expect_caught(fx *f, const char *what, const git_oid *bad)
{
	expect_verify_fails(f->village, what, bad);
	expect_fetch_refused(f->county, f->village, what);
}

/* ---- forging --------------------------------------------------------------- */

/* A zone record version of id in scope signed by k, dated clock_ms; prev
 * (nprev ids, sorted as a record wants them); with_conflict adds a
 * conflicts section no merge produced. */
static void zone_version(vl_buf *out, const vl_key *k, const char *id, const char *scope, const char *const *prev,
		size_t nprev, uint64_t clock_ms, int with_conflict)
{
	vl_record *r = NULL;
	vl_hlc c = { clock_ms, 1 };
	size_t i;

	assert_int_equal(vl_record_new(&r, "zone", id, scope), 0);
	assert_int_equal(vl_value_map_set(r->data, "zone_no", vl_value_str("Z9")), 0);
	assert_int_equal(vl_value_map_set(r->data, "designation", vl_value_str(nprev ? "prevention" : "sealed")), 0);
	assert_int_equal(vl_value_map_set(r->data, "area", vl_value_str("a-Z9")), 0);
	assert_int_equal(vl_value_map_set(r->data, "status", vl_value_str("active")), 0);
	assert_int_equal(vl_value_map_set(r->data, "announced_at", vl_value_str("2022-04-06T08:00:00Z")), 0);
	if (nprev) {
		r->prev = calloc(nprev, sizeof(*r->prev));
		assert_non_null(r->prev);
		for (i = 0; i < nprev; i++)
			snprintf(r->prev[i], sizeof(r->prev[i]), "%s", prev[i]);
		r->nprev = nprev;
	}
	if (with_conflict) {
		vl_value *cands = vl_value_new(VL_V_LIST);
		assert_non_null(cands);
		assert_int_equal(vl_value_list_push(cands, vl_value_str("sealed")), 0);
		assert_int_equal(vl_value_list_push(cands, vl_value_str("controlled")), 0);
		r->conflicts = vl_value_new(VL_V_MAP);
		assert_non_null(r->conflicts);
		assert_int_equal(vl_value_map_set(r->conflicts, "designation", cands), 0);
	}
	vl_hlc_format(r->clock, &c);
	assert_int_equal(vl_record_sign(r, k, out), 0);
	vl_record_free(r);
}

/* How a forged commit differs from what vl_node_commit writes. */
typedef struct {
	const char *author_name;    /* NULL: the key's roster name */
	const char *committer_name; /* NULL: the key's roster name */
	int64_t author_time;        /* 0: `when` */
	int64_t when;               /* committer time; 0: now, not before the key's last commit */
	const char *extra_header;   /* a header line put after committer, or NULL */
	const char *msg;            /* NULL: vf_chain_msg with the record's trailer */
} how;

static int64_t commit_time(git_repository *repo, const git_oid *id)
{
	git_commit *c = NULL;
	int64_t t;

	assert_int_equal(git_commit_lookup(&c, repo, id), 0);
	t = (int64_t)git_commit_committer(c)->when.time;
	git_commit_free(c);
	return t;
}

/* Time of key fp's last commit on the branch at head (0 if none). */
static int64_t chain_time(git_repository *repo, const git_oid *head, const char *fp)
{
	uint64_t seq = 0;
	git_oid prev;

	assert_int_equal(vl_repo_key_chain(&seq, &prev, repo, head, fp), 0);
	return seq ? commit_time(repo, &prev) : 0;
}

/* A signed commit on village 1's branch by its key setting path to file,
 * made by hand (headers as text) so that every part can be forged. */
static git_oid forge_commit(fx *f, const char *path, const vl_buf *file, const how *h)
{
	git_repository *repo = f->v->repo;
	git_oid head = vf_head_of(repo, V1_REF), base = vf_tree_of(repo, &head), blob, tree, id;
	vl_buf msg = VL_BUF_INIT, tr = VL_BUF_INIT, payload = VL_BUF_INIT, armor = VL_BUF_INIT;
	char name[256];
	int64_t when = h->when, last = chain_time(repo, &head, f->v->fp);

	if (!when) {
		when = (int64_t)(vl_hlc_wall_ms() / 1000);
		if (when < last)
			when = last;
	}
	blob = vf_put_blob(repo, file->ptr, file->len);
	tree = vf_tree_edit(repo, &base, path, &blob, GIT_FILEMODE_BLOB);
	if (!h->msg) {
		vf_record_trailer(&tr, path, &blob);
		vf_chain_msg(&msg, repo, &head, f->v->fp, tr.ptr);
	} else {
		assert_int_equal(vl_buf_puts(&msg, h->msg), 0);
	}
	vf_roster_name(name, sizeof(name), repo, f->v->fp);
	assert_int_equal(vl_buf_printf(&payload, "tree %s\n", git_oid_tostr_s(&tree)), 0);
	assert_int_equal(vl_buf_printf(&payload, "parent %s\n", git_oid_tostr_s(&head)), 0);
	assert_int_equal(vl_buf_printf(&payload, "author %s <%s@vledger> %lld +0000\n",
			h->author_name ? h->author_name : name, f->v->fp,
			(long long)(h->author_time ? h->author_time : when)), 0);
	assert_int_equal(vl_buf_printf(&payload, "committer %s <%s@vledger> %lld +0000\n",
			h->committer_name ? h->committer_name : name, f->v->fp, (long long)when), 0);
	if (h->extra_header)
		assert_int_equal(vl_buf_puts(&payload, h->extra_header), 0);
	assert_int_equal(vl_buf_printf(&payload, "\n%s", msg.ptr), 0);
	vf_make_armor(&armor, &f->v->key, payload.ptr, payload.len, VF_SIG_GOOD);
	assert_int_equal(git_commit_create_with_signature(&id, repo, payload.ptr, armor.ptr, NULL), 0);
	vf_move_ref(repo, V1_REF, &id);
	vl_buf_free(&msg);
	vl_buf_free(&tr);
	vl_buf_free(&payload);
	vl_buf_free(&armor);
	return id;
}

/* A new zone record of village 1 dated clock_ms (0: now), its path and id. */
static void new_zone(fx *f, vl_buf *file, char path[128], char id[VL_ULID_LEN + 1], uint64_t clock_ms)
{
	vf_new_id(id);
	vf_rec_path(path, 128, "zone", id);
	zone_version(file, &f->v->key, id, V1_CODE, NULL, 0, clock_ms ? clock_ms : vl_hlc_wall_ms(), 0);
}

/* The blob id (hex) of record id's current version on village 1's branch. */
static void current_blob(fx *f, const char *id, char hex[GIT_OID_HEXSZ + 1], char path[128])
{
	git_oid blob;

	vf_rec_path(path, 128, "zone", id);
	assert_int_equal(vl_repo_read(NULL, &blob, f->v->repo, V1_REF, NULL, path, VL_RECORD_MAX_BYTES), 0);
	git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &blob);
}

/* ---- positive control ------------------------------------------------------ */

static void test_forge_control(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT, edit = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], hex[GIT_OID_HEXSZ + 1], epath[128];
	const char *prev[1];
	how h = { 0 };

	expect_verify_good(f->village);
	expect_verify_good(f->county);
	new_zone(f, &file, path, id, 0);
	(void)forge_commit(f, path, &file, &h);
	current_blob(f, g_zone[1], hex, epath);
	prev[0] = hex;
	zone_version(&edit, &f->v->key, g_zone[1], V1_CODE, prev, 1, vl_hlc_wall_ms(), 0);
	(void)forge_commit(f, epath, &edit, &h);
	expect_verify_good(f->village);
	vf_fetch_home(f->county, f->village);
	expect_verify_good(f->county);
	vl_buf_free(&file);
	vl_buf_free(&edit);
}

/* ---- 1: time moves forward along a key's chain -------------------------- */

static void test_time_commit_before_previous(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid head = vf_head_of(f->v->repo, V1_REF), bad;
	how h = { 0 };

	/* Dated an hour before the key's last commit on the branch (its
	 * record dated now). */
	h.when = chain_time(f->v->repo, &head, f->v->fp) - 3600;
	new_zone(f, &file, path, id, 0);
	bad = forge_commit(f, path, &file, &h);
	expect_caught(f, "before this key's previous commit", &bad);
	vl_buf_free(&file);
}

static void test_time_record_before_previous_commit(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid head = vf_head_of(f->v->repo, V1_REF), bad;
	how h = { 0 };

	/* A record dated a minute before the key's last commit (a stolen key
	 * writing "before" the owner's own last write). */
	new_zone(f, &file, path, id, (uint64_t)chain_time(f->v->repo, &head, f->v->fp) * 1000 - 60 * 1000);
	bad = forge_commit(f, path, &file, &h);
	expect_caught(f, "before the signing key's previous commit", &bad);
	vl_buf_free(&file);
}

static void test_time_record_before_its_prev(void **state)
{
	fx *f = *state;
	vl_buf a = VL_BUF_INIT, b = VL_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1], path[128];
	const char *prev[1];
	git_oid bad;
	how h = { 0 };

	/* Version A dated an hour ahead (accepted: within a day), then B
	 * replacing it dated now: B's clock is earlier than A's. */
	current_blob(f, g_zone[1], hex, path);
	prev[0] = hex;
	zone_version(&a, &f->v->key, g_zone[1], V1_CODE, prev, 1, vl_hlc_wall_ms() + 3600 * 1000, 0);
	(void)forge_commit(f, path, &a, &h);
	current_blob(f, g_zone[1], hex, path);
	zone_version(&b, &f->v->key, g_zone[1], V1_CODE, prev, 1, vl_hlc_wall_ms(), 0);
	bad = forge_commit(f, path, &b, &h);
	expect_caught(f, "earlier than the version it replaces", &bad);
	vl_buf_free(&a);
	vl_buf_free(&b);
}

/* ---- 2: revocation pins what it cuts off -------------------------------- */

static void test_revocation_pins_heads(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT, roster = VL_BUF_INIT, want = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], args[256], pin[GIT_OID_HEXSZ + 1];
	char *out = NULL;
	git_oid head = vf_head_of(f->v->repo, V1_REF), bad;
	int64_t last = commit_time(f->v->repo, &head), revoked;
	uint64_t ms;
	const char *at;
	vl_node *c = NULL;
	how h = { 0 };

	/* A second or two between the village's last write and the
	 * revocation, so that a write can be dated in between. */
	while ((int64_t)(vl_hlc_wall_ms() / 1000) < last + 2)
		assert_int_equal(vt_run(NULL, "sleep 1"), 0);
	/* The laptop is stolen: the county revokes the village key. The
	 * county holds the village's branch, so the revocation pins its head. */
	snprintf(args, sizeof(args), "roster revoke '%s' --reason stolen", f->v->fp);
	vf_ok_free(f->county, args);
	assert_int_equal(vl_node_open(&c, f->county, 0, NULL), 0);
	assert_int_equal(vl_repo_read(&roster, NULL, c->repo, VL_REF_CONFIG, NULL, "roster.yaml", 1 << 20), 0);
	vl_node_close(c);
	git_oid_tostr(pin, sizeof(pin), &head);
	assert_int_equal(vl_buf_printf(&want, "revoked_heads:\n      \"scope/%s\": ", V1_CODE), 0);
	vf_must_contain(roster.ptr, want.ptr, "roster.yaml after the revocation");
	vf_must_contain(roster.ptr, pin, "roster.yaml after the revocation");
	at = strstr(roster.ptr, "revoked_at: \"");
	assert_non_null(at);
	{
		char t[21];
		snprintf(t, sizeof(t), "%.20s", at + 13);
		assert_int_equal(vl_roster_time_ms(t, &ms), 0);
	}
	revoked = (int64_t)(ms / 1000);
	vf_fetch_home(f->village, f->county);
	vl_node_close(f->v);
	assert_int_equal(vl_node_open(&f->v, f->village, 1, NULL), 0);
	assert_int_equal(vl_node_load_config(f->v), 0);

	/* The thief writes with the key, dated a second before the
	 * revocation: the old time rule lets that through; the pin does not. */
	assert_true(revoked - 1 >= last);
	h.when = revoked - 1;
	new_zone(f, &file, path, id, (uint64_t)(revoked - 1) * 1000 + 500);
	bad = forge_commit(f, path, &file, &h);
	expect_caught(f, "pinned", &bad);

	/* What the key signed up to the pinned head stays valid, and verify
	 * shows what the revocation pinned. */
	assert_int_equal(run(&out, f->county, "verify"), 0);
	vf_must_contain(out, "all good", "vledger verify on the county");
	vl_buf_clear(&want);
	assert_int_equal(vl_buf_printf(&want, "scope/%s pinned at %.12s", V1_CODE, pin), 0);
	vf_must_contain(out, want.ptr, "vledger verify on the county");
	free(out);
	vf_move_ref(f->v->repo, V1_REF, &head);
	expect_verify_good(f->village);
	vl_buf_free(&file);
	vl_buf_free(&roster);
	vl_buf_free(&want);
}

/* ---- 3: a roster change dates its times near its own commit -------------- */

/* On the township admin's node: a config commit signed by its key that
 * revokes village 1's key at revoked_at (no pins, as a modified binary
 * would write it). */
static void town_revokes(fx *f, const char *revoked_at)
{
	vl_node *n = NULL;
	vl_value *r = NULL, *keys;
	vl_buf b = VL_BUF_INIT;
	vl_yaml_limits lim = vl_yaml_file_limits;
	char clock[VL_HLC_TEXT_LEN + 1];
	git_oid head, id;
	vl_change ch;
	size_t i;

	lim.max_bytes = 1 << 22;
	assert_int_equal(vl_node_open(&n, f->town, 1, NULL), 0);
	assert_int_equal(vl_node_load_config(n), 0);
	assert_int_equal(vl_repo_read(&b, NULL, n->repo, VL_REF_CONFIG, NULL, "roster.yaml", 1 << 22), 0);
	assert_int_equal(vl_yaml_load(&r, b.ptr, b.len, &lim, "roster.yaml"), 0);
	keys = vl_value_map_get(r, "keys");
	for (i = 0; i < keys->n; i++)
		if (!strcmp(vl_value_text(vl_value_map_get(keys->items[i], "fingerprint")), f->v->fp))
			assert_int_equal(vl_value_map_set(keys->items[i], "revoked_at", vl_value_str(revoked_at)), 0);
	vl_buf_clear(&b);
	assert_int_equal(vl_yaml_emit(&b, r), 0);
	assert_int_equal(vl_repo_head(&head, n->repo, VL_REF_CONFIG), 0);
	assert_int_equal(vl_node_tick(n, clock), 0);
	ch = (vl_change){ "roster.yaml", b.ptr, b.len, NULL };
	assert_int_equal(vl_node_commit(&id, n, VL_REF_CONFIG, &head, &ch, 1, "roster: revoke", "Vledger-Config: roster\n"), 0);
	vl_value_free(r);
	vl_buf_free(&b);
	vl_node_close(n);
}

static void test_backdated_revocation(void **state)
{
	fx *f = *state;
	char now[21];

	/* The delegated township admin revokes a village key of its own
	 * township with revoked_at years in the past: every node would then
	 * refuse the village's whole history, for ever. */
	town_revokes(f, "2020-01-01T00:00:00Z");
	expect_verify_fails(f->town, "more than 10 minutes away", NULL);
	expect_fetch_refused(f->county, f->town, "more than 10 minutes away");
	expect_fetch_refused(f->village, f->town, "more than 10 minutes away");
	/* The village's history still verifies where it is held. */
	expect_verify_good(f->village);
	expect_verify_good(f->county);

	/* Dated now, the same revocation is taken, and the history written
	 * before it stays valid. */
	{
		vl_node *n = NULL;
		git_oid h;
		assert_int_equal(vl_node_open(&n, f->town, 0, NULL), 0);
		assert_int_equal(vl_repo_head(&h, n->repo, VL_REF_CONFIG), 0);
		{
			git_commit *hc = NULL;
			assert_int_equal(git_commit_lookup(&hc, n->repo, &h), 0);
			vf_move_ref(n->repo, VL_REF_CONFIG, git_commit_parent_id(hc, 0));
			git_commit_free(hc);
		}
		vl_node_close(n);
	}
	vl_roster_time_text(now, vl_hlc_wall_ms());
	town_revokes(f, now);
	expect_verify_good(f->town);
	vf_fetch_home(f->county, f->town);
	expect_verify_good(f->county);
}

/* ---- 4: record ids are unique on a node ---------------------------------- */

static void test_record_id_reused(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], args[700];
	char *out = NULL, *before, *after;
	git_oid bad;
	how h = { 0 };

	/* Village 1 writes a record under the id of village 2's record, which
	 * the county holds. */
	vf_rec_path(path, sizeof(path), "zone", g_zone2);
	zone_version(&file, &f->v->key, g_zone2, V1_CODE, NULL, 0, vl_hlc_wall_ms(), 0);
	bad = forge_commit(f, path, &file, &h);
	expect_fetch_refused(f->county, f->village, "reuses record id");

	/* Had it come in some other way (stock git here), verify reports it
	 * and show / edit do not pick one of the two. */
	assert_int_equal(vt_run(NULL, "git --git-dir '%s' fetch -q '%s' +%s:%s", f->crepo, f->vrepo, V1_REF, V1_REF), 0);
	expect_verify_fails(f->county, "in two places", NULL);
	snprintf(args, sizeof(args), "show %s", g_zone2);
	assert_int_not_equal(run(&out, f->county, args), 0);
	vf_must_contain(out, "in two places", "vledger show");
	vf_must_contain(out, V1_CODE, "vledger show");
	vf_must_contain(out, V2_CODE, "vledger show");
	free(out);
	before = vf_snapshot(f->crepo);
	snprintf(args, sizeof(args), "edit %s --set designation=controlled", g_zone2);
	assert_int_not_equal(run(&out, f->county, args), 0);
	vf_must_contain(out, "in two places", "vledger edit");
	after = vf_snapshot(f->crepo);
	assert_string_equal(before, after);
	(void)bad;
	free(out);
	free(before);
	free(after);
	vl_buf_free(&file);
}

/* ---- 7: a node signs only with its roster key ---------------------------- */

static void test_key_mismatch_writes_nothing(void **state)
{
	fx *f = *state;
	char *before, *after, *out = NULL, *clock0, *clock1, clockp[600];
	size_t l;

	/* keys/node.key is another key than keys/node.pub (a rotation cut
	 * between its renames, a key copied from another node). */
	assert_int_equal(vt_run(NULL, "cp -p '%s/keys/node.key' '%s/keys/node.key'", f->village2, f->village), 0);
	vf_path_in(clockp, sizeof(clockp), f->village, "clock");
	before = vf_snapshot(f->vrepo);
	clock0 = vt_read(clockp, &l);
	assert_int_not_equal(run(&out, f->village, "add zone --set zone_no=Z8 --set designation=sealed "
			"--set area=x --set status=active --set announced_at=2022-04-06T08:00:00Z"), 0);
	vf_must_contain(out, "keys/node.key does not match keys/node.pub", "vledger add");
	after = vf_snapshot(f->vrepo);
	clock1 = vt_read(clockp, &l);
	assert_string_equal(before, after);
	assert_string_equal(clock0, clock1);
	free(out);
	free(before);
	free(after);
	free(clock0);
	free(clock1);
}

/* ---- 8: canonical objects only -------------------------------------------- */

/* A record file at a record path in a mode git_tree_create_updated will not
 * write (100664, 100600, or 100644 zero-padded): the bucket tree is written
 * by hand. expect: what the refusal says (NULL: "is not a regular file"). */
static void check_raw_mode(fx *f, const char *mode, const char *expect)
{
	git_odb *odb = NULL;
	vl_buf file = VL_BUF_INIT, tree = VL_BUF_INIT, msg = VL_BUF_INIT, tr = VL_BUF_INIT, what = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], bucket[8];
	git_oid head = vf_head_of(f->v->repo, V1_REF), base = vf_tree_of(f->v->repo, &head), blob, btree, root, bad;
	git_tree_entry *e = NULL;
	git_tree *bt = NULL;

	/* A fresh id in a bucket no record uses yet. */
	do {
		new_zone(f, &file, path, id, 0);
		snprintf(bucket, sizeof(bucket), "zone/%c", id[VL_ULID_LEN - 1]);
		assert_int_equal(git_tree_lookup(&bt, f->v->repo, &base), 0);
		if (git_tree_entry_bypath(&e, bt, bucket) == 0) {
			git_tree_entry_free(e);
			e = NULL;
			vl_buf_clear(&file);
			git_tree_free(bt);
			bt = NULL;
			continue;
		}
		git_tree_free(bt);
		bt = NULL;
		break;
	} while (1);
	blob = vf_put_blob(f->v->repo, file.ptr, file.len);
	assert_int_equal(vl_buf_printf(&tree, "%s %s.yaml", mode, id), 0);
	assert_int_equal(vl_buf_putc(&tree, '\0'), 0);
	assert_int_equal(vl_buf_put(&tree, blob.id, GIT_OID_RAWSZ), 0);
	assert_int_equal(git_repository_odb(&odb, f->v->repo), 0);
	assert_int_equal(git_odb_write(&btree, odb, tree.ptr, tree.len, GIT_OBJECT_TREE), 0);
	git_odb_free(odb);
	root = vf_tree_edit(f->v->repo, &base, bucket, &btree, GIT_FILEMODE_TREE);
	vf_record_trailer(&tr, path, &blob);
	vf_chain_msg(&msg, f->v->repo, &head, f->v->fp, tr.ptr);
	bad = vf_write_commit(f->v->repo, V1_REF, &head, &root, f->v->fp, msg.ptr, &f->v->key);
	if (expect)
		assert_int_equal(vl_buf_puts(&what, expect), 0);
	else
		assert_int_equal(vl_buf_printf(&what, "is not a regular file (mode %s)", mode), 0);
	expect_caught(f, what.ptr, &bad);
	vf_move_ref(f->v->repo, V1_REF, &head);
	vl_buf_free(&file);
	vl_buf_free(&tree);
	vl_buf_free(&msg);
	vl_buf_free(&tr);
	vl_buf_free(&what);
}

static void test_canon_tree_modes(void **state)
{
	check_raw_mode(*state, "100664", NULL);
	check_raw_mode(*state, "100600", NULL);
	/* 100644 written "0100644": libgit2 reads the same mode. */
	check_raw_mode(*state, "0100644", "zero-padded mode '0100644'");
}

static void test_canon_prev_names_missing_version(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1], path[128];
	const char *bogus = "ffffffffffffffffffffffffffffffffffffffff", *prev[2];
	git_oid bad;
	how h = { 0 };

	/* An edit naming the version it replaces and a blob that exists
	 * nowhere. */
	current_blob(f, g_zone[1], hex, path);
	prev[0] = strcmp(hex, bogus) < 0 ? hex : bogus;
	prev[1] = strcmp(hex, bogus) < 0 ? bogus : hex;
	zone_version(&file, &f->v->key, g_zone[1], V1_CODE, prev, 2, vl_hlc_wall_ms(), 0);
	bad = forge_commit(f, path, &file, &h);
	expect_caught(f, "other than the one it replaces", &bad);
	vl_buf_free(&file);
}

static void check_header(fx *f, const char *header, const char *what)
{
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid head = vf_head_of(f->v->repo, V1_REF), bad;
	how h = { 0 };

	h.extra_header = header;
	new_zone(f, &file, path, id, 0);
	bad = forge_commit(f, path, &file, &h);
	expect_caught(f, what, &bad);
	vf_move_ref(f->v->repo, V1_REF, &head);
	vl_buf_free(&file);
}

static void test_canon_commit_headers(void **state)
{
	check_header(*state, "encoding ISO-8859-1\n", "'encoding' header");
	check_header(*state, "x-vledger-note hello\n", "'x-vledger-note' header");
}

/* A commit whose message is the chain trailers as vl_node_commit writes
 * them with `extra` spliced in after Vledger-Seq. */
static void check_trailers(fx *f, const char *extra, const char *what)
{
	vl_buf file = VL_BUF_INIT, tr = VL_BUF_INIT, msg = VL_BUF_INIT, good = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid head = vf_head_of(f->v->repo, V1_REF), blob, bad;
	const char *prev;
	how h = { 0 };

	new_zone(f, &file, path, id, 0);
	blob = vf_put_blob(f->v->repo, file.ptr, file.len);
	vf_record_trailer(&tr, path, &blob);
	vf_chain_msg(&good, f->v->repo, &head, f->v->fp, tr.ptr);
	prev = strstr(good.ptr, "Vledger-Prev: ");
	assert_non_null(prev);
	assert_int_equal(vl_buf_put(&msg, good.ptr, (size_t)(prev - good.ptr)), 0);
	assert_int_equal(vl_buf_puts(&msg, extra), 0);
	assert_int_equal(vl_buf_puts(&msg, prev), 0);
	h.msg = msg.ptr;
	bad = forge_commit(f, path, &file, &h);
	expect_caught(f, what, &bad);
	vf_move_ref(f->v->repo, V1_REF, &head);
	vl_buf_free(&file);
	vl_buf_free(&tr);
	vl_buf_free(&msg);
	vl_buf_free(&good);
}

static void test_canon_chain_trailers(void **state)
{
	fx *f = *state;
	git_oid head = vf_head_of(f->v->repo, V1_REF);
	uint64_t seq = 0;
	git_oid prev;
	char line[128];

	assert_int_equal(vl_repo_key_chain(&seq, &prev, f->v->repo, &head, f->v->fp), 0);
	snprintf(line, sizeof(line), "Vledger-Seq: %llu\n", (unsigned long long)seq + 1);
	check_trailers(f, line, "Vledger-Seq trailer twice");
	snprintf(line, sizeof(line), "Vledger-prev: %s\n", git_oid_tostr_s(&head));
	check_trailers(f, line, "'Vledger-prev' line");
	check_trailers(f, "VLEDGER-SEQ: 99\n", "'VLEDGER-SEQ' line");
}

/* The operator trailer is optional, but at most once, in this case, with
 * a capped value without control characters (a terminal escape or a
 * second name would show the reader something the signer did not say
 * once). */
static void test_canon_operator_trailer(void **state)
{
	fx *f = *state;
	char line[128];

	check_trailers(f, "Vledger-Operator: 王秀英\nVledger-Operator: 张三\n", "Vledger-Operator trailer twice");
	check_trailers(f, "vledger-operator: 王秀英\n", "'vledger-operator' line");
	check_trailers(f, "Vledger-Operator: 王\x1b[2J秀英\n", "control character");
	check_trailers(f, "Vledger-Operator: \xc2\x9b" "31m\n", "control character");
	check_trailers(f, "Vledger-Operator: \n", "operator name is 0 bytes");
	check_trailers(f, "Vledger-Operator: \xff\xfe\n", "not valid UTF-8");
	snprintf(line, sizeof(line), "Vledger-Operator: %065d\n", 0);
	check_trailers(f, line, "operator name is 65 bytes");
}

static void test_canon_signed_record_with_conflicts(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid bad;
	how h = { 0 };

	/* A conflict no merge produced, which a person might then "resolve". */
	vf_new_id(id);
	vf_rec_path(path, sizeof(path), "zone", id);
	zone_version(&file, &f->v->key, id, V1_CODE, NULL, 0, vl_hlc_wall_ms(), 1);
	bad = forge_commit(f, path, &file, &h);
	expect_caught(f, "that no merge produced", &bad);
	vl_buf_free(&file);
}

static void test_canon_author_is_roster_name(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid head = vf_head_of(f->v->repo, V1_REF), bad;
	how h = { 0 };

	/* A village commit showing as the county's office. */
	h.author_name = "County";
	h.committer_name = "County";
	new_zone(f, &file, path, id, 0);
	bad = forge_commit(f, path, &file, &h);
	expect_caught(f, "not the roster name of the signing key", &bad);
	/* Only the committer's. */
	vf_move_ref(f->v->repo, V1_REF, &head);
	h.author_name = NULL;
	bad = forge_commit(f, path, &file, &h);
	expect_caught(f, "not the roster name of the signing key", &bad);
	vl_buf_free(&file);
}

static void test_canon_author_time(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid bad;
	how h = { 0 };

	/* `git log` would show the year 2100. */
	h.author_time = 4102444800;
	new_zone(f, &file, path, id, 0);
	bad = forge_commit(f, path, &file, &h);
	expect_caught(f, "author time and committer time differ", &bad);
	vl_buf_free(&file);
}

/* ---- the roster rules in memory (items 2, 3) ---------------------------- */

static vl_value *two_entry_roster(const vl_key *admin, const vl_key *village, const char *village_from)
{
	vl_value *doc = vl_value_new(VL_V_MAP), *keys = vl_value_new(VL_V_LIST);

	assert_non_null(doc);
	assert_non_null(keys);
	assert_int_equal(vl_value_list_push(keys, vl_roster_entry_new(admin->pk, "County", "admin", COUNTY_CODE,
			"2026-01-01T00:00:00Z")), 0);
	assert_int_equal(vl_value_list_push(keys, vl_roster_entry_new(village->pk, "V1", "village", V1_CODE,
			village_from)), 0);
	assert_int_equal(vl_value_map_set(doc, "keys", keys), 0);
	return doc;
}

static void test_roster_rules_in_memory(void **state)
{
	vl_key admin, village;
	unsigned char seed[32];
	char afp[VL_FP_LEN];
	vl_value *base, *next, *heads;
	vl_roster_entry *e = NULL;
	size_t n = 0;
	const int64_t t = 1767225600; /* 2026-01-01T00:00:00Z */

	(void)state;
	memset(seed, 1, sizeof(seed));
	assert_int_equal(vl_key_from_seed(&admin, seed), 0);
	memset(seed, 2, sizeof(seed));
	assert_int_equal(vl_key_from_seed(&village, seed), 0);
	vl_fingerprint(afp, admin.pk);
	base = two_entry_roster(&admin, &village, "2026-01-01T00:00:00Z");

	/* A new entry's valid_from: within 10 minutes of the commit. */
	{
		vl_value *only_admin = vl_value_clone(base);
		assert_non_null(only_admin);
		vl_value_free(vl_value_map_get(only_admin, "keys")->items[1]);
		vl_value_map_get(only_admin, "keys")->n = 1;
		next = two_entry_roster(&admin, &village, "2026-01-01T00:09:00Z");
		assert_int_equal(vl_roster_check_dates(only_admin, next, t), 0);
		assert_int_equal(vl_roster_check_dates(only_admin, next, t + 3600), VL_EDENIED);
		vf_must_contain(vl_error_last(), "more than 10 minutes away", "backdated valid_from");
		vl_value_free(next);
		vl_value_free(only_admin);
	}
	assert_int_equal(vl_roster_check_dates(base, base, t + 365 * 86400), 0);
	/* Names and valid_from never change. */
	next = two_entry_roster(&admin, &village, "2020-01-01T00:00:00Z");
	assert_int_equal(vl_roster_check_change(base, next, afp, COUNTY_CODE, 0), VL_EDENIED);
	vf_must_contain(vl_error_last(), "never change", "renaming valid_from");
	vl_value_free(next);
	/* revoked_at: near the commit; revoked_heads only with it. */
	next = vl_value_clone(base);
	assert_non_null(next);
	assert_int_equal(vl_value_map_set(vl_value_map_get(next, "keys")->items[1], "revoked_at",
			vl_value_str("2020-01-01T00:00:00Z")), 0);
	assert_int_equal(vl_roster_check_change(base, next, afp, COUNTY_CODE, 0), 0);
	assert_int_equal(vl_roster_check_dates(base, next, t), VL_EDENIED);
	vf_must_contain(vl_error_last(), "cannot reach back", "backdated revoked_at");
	assert_int_equal(vl_value_map_set(vl_value_map_get(next, "keys")->items[1], "revoked_at",
			vl_value_str("2026-01-01T00:05:00Z")), 0);
	assert_int_equal(vl_roster_check_dates(base, next, t), 0);
	heads = vl_value_new(VL_V_MAP);
	assert_non_null(heads);
	assert_int_equal(vl_value_map_set(heads, "scope/" V1_CODE,
			vl_value_str("0123456789abcdef0123456789abcdef01234567")), 0);
	assert_int_equal(vl_value_map_set(vl_value_map_get(next, "keys")->items[1], "revoked_heads", heads), 0);
	assert_int_equal(vl_roster_index(&e, &n, next), 0);
	assert_string_equal(vl_roster_pinned_head(&e[1], "scope/" V1_CODE), "0123456789abcdef0123456789abcdef01234567");
	assert_null(vl_roster_pinned_head(&e[1], "scope/" V2_CODE));
	free(e);
	e = NULL;
	assert_int_equal(vl_value_map_del(vl_value_map_get(next, "keys")->items[1], "revoked_at"), 0);
	assert_int_equal(vl_roster_index(&e, &n, next), VL_EINVALID);
	vf_must_contain(vl_error_last(), "revoked_heads without revoked_at", "pins without a revocation");
	vl_value_free(next);
	vl_value_free(base);
}

/* ---- 7: the key pair is checked when the node opens ----------------------- */

/* Opening a node with its secret key refuses a keys/node.key that is not
 * keys/node.pub's key, before any command runs (vl_node_check_key repeats
 * the check before each write; each alone keeps `add` from writing, so this
 * test pins the check at open). */
static void test_key_mismatch_refused_at_open(void **state)
{
	fx *f = *state;
	vl_node *n = NULL;

	assert_int_equal(vt_run(NULL, "cp -p '%s/keys/node.key' '%s/keys/node.key'", f->village2, f->village), 0);
	assert_int_equal(vl_node_open(&n, f->village, 1, NULL), VL_EINVALID);
	assert_null(n);
	vf_must_contain(vl_error_last(), "keys/node.key does not match keys/node.pub", "vl_node_open");
	/* Without the secret key the node opens (verify, show need no key). */
	assert_int_equal(vl_node_open(&n, f->village, 0, NULL), 0);
	vl_node_close(n);
}

/* ---- 4: ids unique across the ledgers of one received branch ------------- */

/* Village 1 adds a test session (the binary picks its id), then forges a
 * zone record under the same id. The county receives both at once, so it
 * holds neither: the received head itself has the id in two ledgers. */
static void test_record_id_reused_across_ledgers_in_one_receive(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	char *out;
	how h = { 0 };

	out = vf_ok(f->village, "add test_session --set kind=on_site --set date=2022-04-06 --set site=s1 "
			"--set round=1");
	assert_int_equal(strlen(out), VL_ULID_LEN);
	memcpy(id, out, VL_ULID_LEN + 1);
	free(out);
	vf_rec_path(path, sizeof(path), "zone", id);
	zone_version(&file, &f->v->key, id, V1_CODE, NULL, 0, vl_hlc_wall_ms(), 0);
	(void)forge_commit(f, path, &file, &h);
	expect_fetch_refused(f->county, f->village, "which the same branch holds in ledger");
	vl_buf_free(&file);
}

/* One receive carrying two branches that each add a record under the same
 * new id: the node holds neither yet, so only the receive itself can see
 * it. One branch is accepted; the other is refused and its ref stays. */
static void test_record_id_reused_across_branches_in_one_receive(void **state)
{
	fx *f = *state;
	const char *scopes[2] = { TOWN_CODE, V2_CODE };
	char id[VL_ULID_LEN + 1], ref[64];
	vl_node *t = NULL;
	git_repository *c = NULL;
	git_reference *town_ref = NULL;
	git_oid v2_before, v2_after, made;
	char *out = NULL;
	size_t i;
	int rc, town_taken, v2_taken;

	vf_fetch_ok(f->town, f->crepo); /* the town holds the county's scope/V2 */
	vf_forger_open(&t, NULL, f->town);
	vf_new_id(id);
	for (i = 0; i < 2; i++) {
		vl_record *r = NULL;
		assert_int_equal(vl_record_new(&r, "zone", id, scopes[i]), 0);
		assert_int_equal(vl_value_map_set(r->data, "zone_no", vl_value_str("Z8")), 0);
		assert_int_equal(vl_value_map_set(r->data, "designation", vl_value_str("sealed")), 0);
		assert_int_equal(vl_value_map_set(r->data, "area", vl_value_str("a-Z8")), 0);
		assert_int_equal(vl_value_map_set(r->data, "status", vl_value_str("active")), 0);
		assert_int_equal(vl_value_map_set(r->data, "announced_at", vl_value_str("2022-04-06T08:00:00Z")), 0);
		assert_int_equal(vl_ledger_commit(&made, t, scopes[i], &r, 1, "zone", NULL), 0);
		vl_record_free(r);
	}
	vl_node_close(t);

	assert_int_equal(git_repository_open(&c, f->crepo), 0);
	v2_before = vf_head_of(c, VL_REF_SCOPE_PREFIX V2_CODE);
	rc = vt_run(&out, "'%s' -C '%s' fetch '%s' 2>&1", VL_BINARY, f->county, f->trepo);
	assert_int_equal(rc, 4);
	vf_must_contain(out, "in this same receive", "vledger fetch");
	git_repository_free(c);
	assert_int_equal(git_repository_open(&c, f->crepo), 0);
	v2_after = vf_head_of(c, VL_REF_SCOPE_PREFIX V2_CODE);
	vl_scope_ref(ref, TOWN_CODE);
	town_taken = git_reference_lookup(&town_ref, c, ref) == 0;
	v2_taken = !git_oid_equal(&v2_before, &v2_after);
	assert_true(town_taken != v2_taken); /* exactly one of the two */
	git_reference_free(town_ref);
	git_repository_free(c);
	free(out);
	/* What was taken verifies: the id is in one place only. */
	vf_ok_free(f->county, "verify --quiet");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roster_rules_in_memory),
		cmocka_unit_test_setup_teardown(test_forge_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_commit_before_previous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_record_before_previous_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_record_before_its_prev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revocation_pins_heads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backdated_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_id_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_mismatch_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canon_tree_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canon_prev_names_missing_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canon_commit_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canon_chain_trailers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canon_operator_trailer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canon_signed_record_with_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canon_author_is_roster_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canon_author_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_mismatch_refused_at_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_id_reused_across_ledgers_in_one_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_id_reused_across_branches_in_one_receive, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
