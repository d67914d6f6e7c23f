/*
 * test_roster.c - delegated admins (agent/node/roster.c): the rule itself on
 * rosters built in memory, and forged config commits that the commands
 * would refuse to make, signed with real node keys through vl_node_commit
 * (so signature, author and Vledger-Seq chain are all correct and only the
 * roster rule can catch them). Each forgery must be caught twice: by
 * `vledger verify` (exit 4, the reason in the report) and by `vledger fetch`
 * on another node (refused, the receiving repository unchanged).
 *
 * The network (a county admin, a township admin for 汉葭街道 500243001000,
 * and a node that has joined but fetched nothing) is made once with the
 * binary and copied for every test. The CLI flows (revoke, rotate, the
 * allowed-signers export with stock git) are in tests/sh/roster.sh.
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
#include "store/repo.h"
#include "agent/node/roster.h"
#include "store/sshsig.h"
#include "testutil.h"
#include "store/yaml.h"

#define COUNTY "500243000000"
#define TOWN "500243001000"
#define TOWN2 "500243002000"
#define VIL "500243001001"
#define OUTSIDE "500243002001"
#define T0 "2024-01-01T00:00:00Z"

/* ---- the rule on rosters in memory -------------------------------------- */

static vl_key g_keys[6];
static char g_fp[6][VL_FP_LEN];

typedef struct {
	int key;
	const char *role, *scope, *revoked;
} ent;

static vl_value *roster(const ent *e, size_t n)
{
	vl_value *doc = vl_value_new(VL_V_MAP), *keys = vl_value_new(VL_V_LIST);
	size_t i;

	assert_non_null(doc);
	assert_non_null(keys);
	for (i = 0; i < n; i++) {
		char name[16];
		vl_value *v;
		snprintf(name, sizeof(name), "k%d", e[i].key);
		v = vl_roster_entry_new(g_keys[e[i].key].pk, name, e[i].role, e[i].scope, T0);
		assert_non_null(v);
		if (e[i].revoked) {
			assert_int_equal(vl_value_map_set(v, "revoked_at", vl_value_str(e[i].revoked)), 0);
			assert_int_equal(vl_value_map_set(v, "revoked_reason", vl_value_str("test")), 0);
		}
		assert_int_equal(vl_value_list_push(keys, v), 0);
	}
	assert_int_equal(vl_value_map_set(doc, "keys", keys), 0);
	return doc;
}

/* Check parent -> next signed by key `signer`; want 0 or an error code whose
 * message contains `what`. */
#define CHECK(parent, next, signer, other, want, what) \
	check((parent), sizeof(parent) / sizeof(parent[0]), (next), sizeof(next) / sizeof(next[0]), \
			(signer), (other), (want), (what), __LINE__)

static void check(const ent *p, size_t np, const ent *nx, size_t nn, int signer, int other, int want,
		const char *what, int line)
{
	vl_value *a = roster(p, np), *b = roster(nx, nn);
	int rc = vl_roster_check_change(a, b, g_fp[signer], COUNTY, other);

	if (rc != want || (what && !strstr(vl_error_last(), what))) {
		print_error("line %d: got %d '%s', want %d '%s'\n", line, rc, rc ? vl_error_last() : "",
				want, what ? what : "");
		fail();
	}
	vl_value_free(a);
	vl_value_free(b);
}

static void test_rule(void **state)
{
	/* 0 county admin, 1 township admin, 2 village, 3 new key, 4 second
	 * county admin, 5 other township's admin */
	const ent base[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL }, { 2, "village", VIL, NULL },
		{ 5, "admin", TOWN2, NULL } };
	const ent add_town_admin[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, NULL }, { 3, "admin", TOWN, NULL } };
	const ent add_village[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, NULL }, { 3, "village", "500243001002", NULL } };
	const ent add_outside[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, NULL }, { 3, "village", OUTSIDE, NULL } };
	const ent revoke_village[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL },
		{ 2, "village", VIL, T0 }, { 5, "admin", TOWN2, NULL } };
	const ent revoke_town2[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, T0 } };
	const ent move_village_out[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL },
		{ 2, "village", OUTSIDE, NULL }, { 5, "admin", TOWN2, NULL } };
	const ent widen_self[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", COUNTY, NULL },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, NULL } };
	const ent removed[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL }, { 5, "admin", TOWN2, NULL } };
	const ent revoke_self[] = { { 0, "admin", COUNTY, T0 }, { 1, "admin", TOWN, NULL },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, NULL } };
	const ent dup[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL }, { 2, "village", VIL, NULL },
		{ 5, "admin", TOWN2, NULL }, { 2, "village", VIL, NULL } };
	const ent bad_level[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, NULL }, { 3, "village", TOWN, NULL } };
	const ent bad_time[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL },
		{ 2, "village", VIL, "yesterday" }, { 5, "admin", TOWN2, NULL } };
	const ent two_county[] = { { 0, "admin", COUNTY, NULL }, { 4, "admin", COUNTY, NULL } };
	const ent two_county_self[] = { { 0, "admin", COUNTY, T0 }, { 4, "admin", COUNTY, NULL } };
	const ent two_county_both[] = { { 0, "admin", COUNTY, T0 }, { 4, "admin", COUNTY, T0 } };
	const ent revoked_town[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, T0 },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, NULL } };
	const ent revoked_town_adds[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, T0 },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, NULL }, { 3, "village", "500243001002", NULL } };
	const ent unrevoke[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, NULL } };
	const ent rerevoke[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, "2030-01-01T00:00:00Z" },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, NULL } };
	const ent rotate_town[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, T0 },
		{ 2, "village", VIL, NULL }, { 5, "admin", TOWN2, NULL }, { 3, "admin", TOWN, NULL } };
	/* The entries of base in another order: each is paired by its
	 * fingerprint wherever it stands, not by its place. */
	const ent reordered[] = { { 5, "admin", TOWN2, NULL }, { 2, "village", VIL, NULL }, { 1, "admin", TOWN, NULL },
		{ 0, "admin", COUNTY, NULL } };
	const ent reordered_out[] = { { 5, "admin", TOWN2, NULL }, { 2, "village", OUTSIDE, NULL },
		{ 1, "admin", TOWN, NULL }, { 0, "admin", COUNTY, NULL } };

	(void)state;
	/* The county delegates; the township admin works inside its township. */
	CHECK(base, add_town_admin, 0, 0, 0, NULL);
	CHECK(base, add_town_admin, 1, 0, 0, NULL);
	CHECK(base, add_village, 1, 0, 0, NULL);
	CHECK(base, revoke_village, 1, 0, 0, NULL);
	CHECK(base, rotate_town, 1, 0, 0, NULL);
	CHECK(base, add_outside, 0, 0, 0, NULL);
	/* ... and nowhere else. */
	CHECK(base, add_outside, 1, 0, VL_EDENIED, OUTSIDE);
	CHECK(base, revoke_town2, 1, 0, VL_EDENIED, "outside");
	CHECK(base, move_village_out, 1, 0, VL_EDENIED, "outside");
	CHECK(base, widen_self, 1, 0, VL_EDENIED, "outside");
	CHECK(base, add_village, 5, 0, VL_EDENIED, "outside");
	/* Non-admins, unknown keys, revoked admins. */
	CHECK(base, add_village, 2, 0, VL_EDENIED, "not an admin");
	CHECK(base, add_village, 3, 0, VL_EDENIED, "not an admin");
	CHECK(revoked_town, revoked_town_adds, 1, 0, VL_EDENIED, "not an admin any more");
	/* Schemas and network.yaml: the county's admins only. */
	CHECK(base, base, 1, 1, VL_EDENIED, "only an admin of the county");
	CHECK(base, base, 0, 1, 0, NULL);
	/* Entries stay; revoked entries never change. */
	CHECK(base, removed, 0, 0, VL_EDENIED, "never removed");
	CHECK(revoked_town, unrevoke, 0, 0, VL_EDENIED, "may not change any more");
	CHECK(revoked_town, rerevoke, 0, 0, VL_EDENIED, "may not change any more");
	/* The county keeps an admin. */
	CHECK(base, revoke_self, 0, 0, VL_EDENIED, "last admin of the county cannot revoke itself");
	CHECK(two_county, two_county_self, 0, 0, 0, NULL);
	CHECK(two_county, two_county_both, 0, 0, VL_EDENIED, "no admin");
	/* Order does not matter: reordered entries are the same entries. */
	CHECK(base, reordered, 1, 0, 0, NULL);
	CHECK(base, reordered_out, 1, 0, VL_EDENIED, "outside");
	CHECK(reordered, add_outside, 1, 0, VL_EDENIED, OUTSIDE);
	{
		/* Their valid_from (T0) is not set by the change, however long
		 * after T0 it is committed. */
		vl_value *a = roster(base, sizeof(base) / sizeof(base[0]));
		vl_value *b = roster(reordered, sizeof(reordered) / sizeof(reordered[0]));
		assert_int_equal(vl_roster_check_dates(a, b, 1704067200 + 86400), 0);
		assert_int_equal(vl_roster_check_dates(b, a, 1704067200 + 86400), 0);
		vl_value_free(a);
		vl_value_free(b);
	}
	/* A malformed roster is refused whoever signs it. */
	CHECK(base, dup, 0, 0, VL_EINVALID, "twice");
	CHECK(base, bad_level, 0, 0, VL_EINVALID, "village-level");
	CHECK(base, bad_time, 0, 0, VL_EINVALID, "RFC 3339");
}

static void test_ssh_time(void **state)
{
	char t[16];

	(void)state;
	assert_int_equal(vl_roster_ssh_time(t, "2022-04-07T01:12:33Z"), 0);
	assert_string_equal(t, "20220407011233Z");
	assert_int_equal(vl_roster_ssh_time(t, "2022-04-07T01:12:33.999Z"), 0);
	assert_string_equal(t, "20220407011233Z");
	assert_int_equal(vl_roster_ssh_time(t, "2022-04-07 01:12:33"), VL_EINVALID);
	assert_int_equal(vl_roster_ssh_time(t, "2022-02-30T01:12:33Z"), VL_EINVALID);
}

/* ---- one name read from roster.yaml's bytes (vl_roster_entry_name) ------ */

/* ok: 0 and the name, else VL_ENOTFOUND. */
static void want_name(const char *buf, size_t len, const char *fp, const char *want, int line)
{
	char *name = NULL;
	int rc = vl_roster_entry_name(&name, buf, len, fp);

	if (want ? rc != 0 || !name || strcmp(name, want) != 0 : rc != VL_ENOTFOUND || name) {
		print_error("line %d: got %d '%s', want '%s'\n", line, rc, name ? name : "(none)",
				want ? want : "VL_ENOTFOUND");
		fail();
	}
	free(name);
}
#define WANT_NAME(buf, fp, want) want_name((buf).ptr, (buf).len, (fp), (want), __LINE__)

/* Replace the first `from` in b (after offset at) by `to`. */
static void replace(vl_buf *b, const char *from, const char *to)
{
	vl_buf out = VL_BUF_INIT;
	const char *p = strstr(b->ptr, from);

	assert_non_null(p);
	assert_int_equal(vl_buf_put(&out, b->ptr, (size_t)(p - b->ptr)), 0);
	assert_int_equal(vl_buf_puts(&out, to), 0);
	assert_int_equal(vl_buf_puts(&out, p + strlen(from)), 0);
	vl_buf_free(b);
	*b = out;
}

static void test_entry_name(void **state)
{
	const ent e[] = { { 0, "admin", COUNTY, NULL }, { 1, "admin", TOWN, NULL }, { 2, "village", VIL, T0 } };
	vl_value *doc = roster(e, 3), *heads = vl_value_new(VL_V_MAP);
	vl_buf b = VL_BUF_INIT, t = VL_BUF_INIT;
	vl_roster_entry *idx = NULL;
	size_t n = 0;

	(void)state;
	assert_non_null(heads);
	assert_int_equal(vl_value_map_set(vl_value_map_get(doc, "keys")->items[1], "name",
			vl_value_str("汉葭街道办事处: \"东\"")), 0);
	assert_int_equal(vl_value_map_set(heads, "scope/" VIL, vl_value_str("0123456789abcdef0123456789abcdef01234567")), 0);
	assert_int_equal(vl_value_map_set(vl_value_map_get(doc, "keys")->items[2], "revoked_heads", heads), 0);
	assert_int_equal(vl_roster_index(&idx, &n, doc), 0);
	assert_int_equal(vl_yaml_emit(&b, doc), 0);
	/* Every entry, the first, one with a quoted name, the last (nested
	 * revoked_heads below it): the name the whole roster gives. */
	WANT_NAME(b, g_fp[0], idx[0].name);
	WANT_NAME(b, g_fp[1], idx[1].name);
	WANT_NAME(b, g_fp[2], idx[2].name);
	assert_string_equal(idx[1].name, "汉葭街道办事处: \"东\"");
	/* Not on the roster. */
	WANT_NAME(b, g_fp[3], NULL);
	/* A file cut short: not the layout of the last entry (the whole roster
	 * decides), the others still read. */
	b.len--;
	WANT_NAME(b, g_fp[2], NULL);
	WANT_NAME(b, g_fp[1], idx[1].name);
	b.len++;
	/* Another layout (a quoted scalar where vl_yaml_emit writes it plain,
	 * the same string): the re-emission differs, so the caller reads the
	 * whole roster. */
	assert_int_equal(vl_buf_puts(&t, b.ptr), 0);
	replace(&t, "role: admin", "role: \"admin\"");
	WANT_NAME(t, g_fp[0], NULL);
	WANT_NAME(t, g_fp[1], idx[1].name);
	vl_buf_free(&t);
	/* An entry whose fingerprint line names another key than its key. */
	assert_int_equal(vl_buf_puts(&t, b.ptr), 0);
	replace(&t, g_fp[1], g_fp[3]);
	WANT_NAME(t, g_fp[3], NULL);
	vl_buf_free(&t);
	/* The same fingerprint line twice: not picked from two. */
	assert_int_equal(vl_buf_puts(&t, b.ptr), 0);
	replace(&t, g_fp[2], g_fp[1]);
	WANT_NAME(t, g_fp[1], NULL);
	vl_buf_free(&t);
	/* Indented otherwise (not the layout): not found that way. */
	assert_int_equal(vl_buf_puts(&t, b.ptr), 0);
	replace(&t, "\n  - fingerprint: \"", "\n  -  fingerprint: \"");
	WANT_NAME(t, g_fp[0], NULL);
	vl_buf_free(&t);
	free(idx);
	vl_buf_free(&b);
	vl_value_free(doc);
}

/* ---- forged config commits --------------------------------------------- */

static char *g_template;

typedef struct {
	char *dir;
	char county[512], town[512], joiner[512];
} fx;

static void set_paths(fx *f, const char *dir)
{
	snprintf(f->county, sizeof(f->county), "%s/county", dir);
	snprintf(f->town, sizeof(f->town), "%s/town", dir);
	snprintf(f->joiner, sizeof(f->joiner), "%s/joiner", dir);
}

/* Run the binary; returns its exit code and output (caller frees). */
static int vl_run(char **out, const char *home, const char *args)
{
	int rc = vt_run(out, "'%s' -C '%s' %s", VL_BINARY, home, args);

	if (getenv("VT_VERBOSE"))
		print_message("vledger %s -> %d\n%s", args, rc, *out);
	return rc;
}

static void vl_ok(const char *home, const char *args)
{
	char *out = NULL;

	if (vl_run(&out, home, args) != 0) {
		print_error("vledger -C %s %s failed:\n%s\n", home, args, out);
		fail();
	}
	free(out);
}

static char *pubkey_of(const char *home)
{
	char *out = NULL;

	assert_int_equal(vl_run(&out, home, "key"), 0);
	*strchr(out, '\n') = '\0';
	return out;
}

static int group_setup(void **state)
{
	fx f;
	char args[1024];
	char *key;
	int i;

	(void)state;
	assert_int_equal(vl_crypto_init(), 0);
	for (i = 0; i < 6; i++) {
		unsigned char seed[32];
		memset(seed, i + 1, sizeof(seed));
		assert_int_equal(vl_key_from_seed(&g_keys[i], seed), 0);
		vl_fingerprint(g_fp[i], g_keys[i].pk);
	}
	vf_env_init();
	g_template = vt_tmpdir();
	set_paths(&f, g_template);
	vl_ok(f.county, "init --name County --role county --scope " COUNTY " --new-network");
	snprintf(args, sizeof(args), "export network --output '%s/network.yaml'", g_template);
	vl_ok(f.county, args);
	snprintf(args, sizeof(args), "init --name Town --role township --scope " TOWN " --network '%s/network.yaml'",
			g_template);
	vl_ok(f.town, args);
	snprintf(args, sizeof(args), "init --name J --role village --scope " VIL " --network '%s/network.yaml'",
			g_template);
	vl_ok(f.joiner, args);
	key = pubkey_of(f.town);
	snprintf(args, sizeof(args), "roster add --name Town --role admin --scope " TOWN " --key '%s'", key);
	free(key);
	vl_ok(f.county, args);
	snprintf(args, sizeof(args), "fetch '%s/repo.git'", f.county);
	vl_ok(f.town, args);
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
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;

	vt_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* vf_snapshot of home/repo.git. Caller frees. */
static char *snapshot(const char *home)
{
	char repo[600];

	vf_path_in(repo, sizeof(repo), home, "repo.git");
	return vf_snapshot(repo);
}

/* A config file of home's head, loaded. Caller frees. */
static vl_value *config_file(const char *home, const char *path)
{
	vl_node *n = NULL;
	vl_buf b = VL_BUF_INIT;
	vl_value *v = NULL;
	vl_yaml_limits lim = vl_yaml_file_limits;

	lim.max_bytes = 1 << 22;
	assert_int_equal(vl_node_open(&n, home, 0, NULL), 0);
	assert_int_equal(vl_repo_read(&b, NULL, n->repo, VL_REF_CONFIG, NULL, path, 1 << 22), 0);
	assert_int_equal(vl_yaml_load(&v, b.ptr, b.len, &lim, path), 0);
	vl_buf_free(&b);
	vl_node_close(n);
	return v;
}

/* Commit `doc` as `path` on home's config, signed by home's own key, with no
 * check of the rule (what a modified binary or a hand-made commit does). */
static void forge(const char *home, const char *path, const vl_value *doc)
{
	vl_node *n = NULL;
	vl_buf b = VL_BUF_INIT;
	char clock[VL_HLC_TEXT_LEN + 1];
	git_oid head, id;
	vl_change ch;

	assert_int_equal(vl_node_open(&n, home, 1, NULL), 0);
	assert_int_equal(vl_node_load_config(n), 0);
	assert_int_equal(vl_yaml_emit(&b, doc), 0);
	assert_int_equal(vl_repo_head(&head, n->repo, VL_REF_CONFIG), 0);
	assert_int_equal(vl_node_tick(n, clock), 0);
	ch = (vl_change){ path, b.ptr, b.len, NULL };
	assert_int_equal(vl_node_commit(&id, n, VL_REF_CONFIG, &head, &ch, 1, "forged", "Vledger-Config: roster\n"), 0);
	vl_buf_free(&b);
	vl_node_close(n);
}

/* The forgery on `forged` (a home) is caught by its verify (exit 4) and
 * refused by `receiver`'s fetch, which changes nothing there. */
static void expect_caught(const char *forged, const char *receiver, const char *what)
{
	char args[700];
	char *out = NULL, *before, *after;

	assert_int_equal(vl_run(&out, forged, "verify"), 4);
	vf_must_contain(out, what, "vledger verify");
	vf_must_contain(out, "config", "vledger verify");
	free(out);
	before = snapshot(receiver);
	snprintf(args, sizeof(args), "fetch '%s/repo.git'", forged);
	assert_int_not_equal(vl_run(&out, receiver, args), 0);
	vf_must_contain(out, what, "vledger fetch");
	after = snapshot(receiver);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(out);
}

static void push_entry(vl_value *doc, const unsigned char pk[32], const char *role, const char *scope)
{
	char now[21];

	/* Dated now: a change dates valid_from within minutes of itself. */
	vl_roster_time_text(now, vl_hlc_wall_ms());
	assert_int_equal(vl_value_list_push(vl_value_map_get(doc, "keys"),
			vl_roster_entry_new(pk, "forged", role, scope, now)), 0);
}

static vl_value *entry_of(vl_value *doc, const char *scope)
{
	vl_value *keys = vl_value_map_get(doc, "keys");
	size_t i;

	for (i = 0; i < keys->n; i++)
		if (!strcmp(vl_value_text(vl_value_map_get(keys->items[i], "scope")), scope))
			return keys->items[i];
	fail_msg("no roster entry for %s", scope);
	return NULL;
}

static void test_positive_control(void **state)
{
	fx *f = *state;
	vl_value *r = config_file(f->town, "roster.yaml");
	char args[700];

	/* The township admin adds a village of its own township the hard way. */
	push_entry(r, g_keys[2].pk, "village", VIL);
	forge(f->town, "roster.yaml", r);
	vl_ok(f->town, "verify");
	snprintf(args, sizeof(args), "fetch '%s/repo.git'", f->town);
	vl_ok(f->county, args);
	vl_ok(f->joiner, args);
	vl_value_free(r);
}

static void test_forged_village_outside_township(void **state)
{
	fx *f = *state;
	vl_value *r = config_file(f->town, "roster.yaml");

	push_entry(r, g_keys[2].pk, "village", OUTSIDE);
	forge(f->town, "roster.yaml", r);
	expect_caught(f->town, f->county, "outside");
	expect_caught(f->town, f->joiner, "outside");
	vl_value_free(r);
}

static void test_forged_change_of_county_entry(void **state)
{
	fx *f = *state;
	vl_value *r = config_file(f->town, "roster.yaml");

	/* The township admin makes itself the county's admin. */
	assert_int_equal(vl_value_map_set(entry_of(r, TOWN), "scope", vl_value_str(COUNTY)), 0);
	forge(f->town, "roster.yaml", r);
	expect_caught(f->town, f->county, "outside");
	vl_value_free(r);
}

static void test_forged_network_change_by_township(void **state)
{
	fx *f = *state;
	vl_value *net = config_file(f->town, "network.yaml");

	assert_int_equal(vl_value_map_set(net, "name", vl_value_str("renamed")), 0);
	forge(f->town, "network.yaml", net);
	expect_caught(f->town, f->county, "only an admin of the county");
	vl_value_free(net);
}

static void test_network_identity_is_fixed(void **state)
{
	fx *f = *state;
	vl_value *net = config_file(f->county, "network.yaml");
	char args[700];

	/* The county admin may rename the network ... */
	assert_int_equal(vl_value_map_set(net, "name", vl_value_str("renamed")), 0);
	forge(f->county, "network.yaml", net);
	vl_ok(f->county, "verify");
	snprintf(args, sizeof(args), "fetch '%s/repo.git'", f->county);
	vl_ok(f->town, args);
	/* ... but not move it to another county. */
	assert_int_equal(vl_value_map_set(net, "county", vl_value_str("500242000000")), 0);
	forge(f->county, "network.yaml", net);
	expect_caught(f->county, f->town, "never change");
	vl_value_free(net);
}

static void test_forged_removal(void **state)
{
	fx *f = *state;
	vl_value *r = config_file(f->county, "roster.yaml"), *keys = vl_value_map_get(r, "keys");

	/* Drop the township's entry: its past signatures would lose their key. */
	assert_int_equal(keys->n, 2);
	vl_value_free(keys->items[1]);
	keys->n = 1;
	forge(f->county, "roster.yaml", r);
	expect_caught(f->county, f->joiner, "never removed");
	vl_value_free(r);
}

static void test_forged_unrevoke(void **state)
{
	fx *f = *state;
	vl_value *r;
	char args[700];
	char *town_fp, *out = NULL;

	assert_int_equal(vl_run(&out, f->town, "key"), 0);
	town_fp = strdup(strchr(out, '\n') + 1);
	*strchr(town_fp, '\n') = '\0';
	free(out);
	snprintf(args, sizeof(args), "roster revoke '%s' --reason test", town_fp);
	vl_ok(f->county, args);
	vl_ok(f->county, "verify");
	r = config_file(f->county, "roster.yaml");
	assert_int_equal(vl_value_map_del(entry_of(r, TOWN), "revoked_at"), 0);
	forge(f->county, "roster.yaml", r);
	expect_caught(f->county, f->joiner, "may not change any more");
	vl_value_free(r);
	free(town_fp);
}

static void test_forged_by_revoked_admin(void **state)
{
	fx *f = *state;
	vl_value *r;
	char args[700];
	char *out = NULL, *town_fp;

	assert_int_equal(vl_run(&out, f->town, "key"), 0);
	town_fp = strdup(strchr(out, '\n') + 1);
	*strchr(town_fp, '\n') = '\0';
	free(out);
	snprintf(args, sizeof(args), "roster revoke '%s' --reason test", town_fp);
	vl_ok(f->county, args);
	snprintf(args, sizeof(args), "fetch '%s/repo.git'", f->county);
	vl_ok(f->town, args);
	/* The CLI refuses; a forged commit on top of its own revocation: */
	assert_int_equal(vl_run(&out, f->town, "roster add --name x --role village --scope " VIL
			" --key 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4'"), 1);
	vf_must_contain(out, "revoked", "roster add");
	free(out);
	r = config_file(f->town, "roster.yaml");
	push_entry(r, g_keys[2].pk, "village", VIL);
	forge(f->town, "roster.yaml", r);
	expect_caught(f->town, f->county, "not an admin any more");
	vl_value_free(r);
	free(town_fp);
}

static void test_forged_last_admin_revokes_itself(void **state)
{
	fx *f = *state;
	vl_value *r = config_file(f->county, "roster.yaml");

	assert_int_equal(vl_value_map_set(entry_of(r, COUNTY), "revoked_at", vl_value_str(T0)), 0);
	forge(f->county, "roster.yaml", r);
	expect_caught(f->county, f->town, "no admin");
	vl_value_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_ssh_time),
		cmocka_unit_test(test_entry_name),
		cmocka_unit_test_setup_teardown(test_positive_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_village_outside_township, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_change_of_county_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_network_change_by_township, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_identity_is_fixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_unrevoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_by_revoked_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_last_admin_revokes_itself, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
