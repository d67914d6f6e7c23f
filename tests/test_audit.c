/*
 * test_audit.c - `vledger history`, `blame` and `audit export`
 * (agent/audit/audit.c, agent/cmd/cmd_audit.c) on a real network built with the real
 * binary, plus two replicas of one village that edit the same records
 * offline and are merged with vl_merge_heads, as test_converge.c does.
 *
 * The world (made once, read by every test):
 *   D  volunteer added, edited, deleted (--reason) with the binary;
 *   A  volunteer added by the county; laptop0 and laptop1 both edit team
 *      (lww), service_hours (sum), skills (union), phone (manual), and only
 *      laptop1 service_area; merged; then the county resolves phone;
 *   B  volunteer added by the county; laptop0 deletes it, laptop1 edits it;
 *      merged (edit/delete: the schema's on_delete, tombstone_wins);
 *   E  volunteer merged criss-cross: M1 = h0+h1, M2 = h1'+h0, then
 *      M1' + M2, whose two merge bases (h0, h1) fold into a virtual one:
 *      service_hours 5 -> +1 / +2 -> 8 by `sum` against that base.
 * Personal values (A's name, phone numbers, and a note holding a <script>
 * tag) must never appear in output without --reveal; with it, the HTML
 * must carry them escaped. The HTML is checked structurally (every tag we
 * emit balanced, every '&' an entity, no script) and, when chromium is
 * installed, rendered headless with --dump-dom. Nothing is downloaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/audit/audit.h"
#include "agent/node/ledger.h"
#include "store/repo.h"
#include "testutil.h"
#include "agent/sync/treemerge.h"
#include "store/yaml.h"

#define COUNTY "500243000000"
#define V1 "500243001001"
#define V2 "500243001002"
#define NAME_A "张三丰"
#define PHONE_A "13800000000"
#define PHONE_0 "13911111111"
#define PHONE_1 "13922222222"
#define PHONE_R "13933333333"
#define NOTE_A "<script>alert('x')</script> & co"

static char *g_dir, g_home[512];
static char g_a[VL_ULID_LEN + 1], g_b[VL_ULID_LEN + 1], g_d[VL_ULID_LEN + 1], g_e[VL_ULID_LEN + 1];
static char g_fp[2][VL_FP_LEN];

/* Run the binary; fail unless it exits `want`. Output (stdout+stderr) is
 * returned without the final newline; caller frees. */
static char *vl_run(int want, const char *args)
{
	char *out = NULL;
	size_t l;
	int rc = vt_run(&out, "'%s' -C '%s' %s", VL_BINARY, g_home, args);

	if (rc != want) {
		print_error("vledger %s exited %d, want %d:\n%s\n", args, rc, want, out);
		fail();
	}
	l = strlen(out);
	while (l && out[l - 1] == '\n')
		out[--l] = '\0';
	return out;
}

static void add_id(char id[VL_ULID_LEN + 1], const char *args)
{
	char *out = vl_run(0, args);

	assert_int_equal(strlen(out), VL_ULID_LEN);
	memcpy(id, out, VL_ULID_LEN + 1);
	free(out);
}

/* The replica's key in the node, and the scope ref at `head`. */
static void become(vl_node *n, vl_key *k, const git_oid *head)
{
	git_reference *ref = NULL;

	assert_int_equal(git_reference_create(&ref, n->repo, VL_REF_SCOPE_PREFIX V1, head, 1, NULL), 0);
	git_reference_free(ref);
	memcpy(&n->key, k, sizeof(*k));
	vl_fingerprint(n->fp, k->pk);
}

/* A new version of record id on the current head: sets "f=v" pairs, or
 * deletes it when sets is NULL. */
static void edit_rec(vl_node *n, const char *id, const char *const *sets, git_oid *head_out)
{
	vl_found f;
	vl_record *r = NULL;
	vl_value *kept = NULL;
	size_t i;

	memset(&f, 0, sizeof(f));
	assert_int_equal(vl_ledger_find(&f, n, id), 0);
	assert_int_equal(vl_record_new(&r, f.rec->schema, f.rec->id, f.rec->scope), 0);
	vl_value_free(r->data);
	r->data = vl_value_clone(f.rec->data);
	r->prev = calloc(1, sizeof(*r->prev));
	assert_non_null(r->prev);
	git_oid_tostr(r->prev[0], VL_OID_HEX + 1, &f.blob);
	r->nprev = 1;
	if (!sets) {
		assert_int_equal(vl_schema_tombstone_data(&kept, f.schema, r->data), 0);
		vl_value_free(r->data);
		r->data = kept;
		r->deleted = 1;
	}
	for (i = 0; sets && sets[i]; i += 2)
		assert_int_equal(vl_schema_set_text(f.schema, r->data, sets[i], sets[i + 1]), 0);
	assert_int_equal(vl_schema_validate(f.schema, r->data, r->deleted, NULL), 0);
	assert_int_equal(vl_ledger_commit(head_out, n, V1, &r, 1, sets ? "edit" : "delete", NULL), 0);
	vl_record_free(r);
	vl_found_free(&f);
}

static int group_setup(void **state)
{
	vl_node *n = NULL;
	vl_key keys[2];
	vl_buf pub = VL_BUF_INIT;
	git_oid base, h0, h1, m, m1, m2;
	git_reference *ref = NULL;
	vl_merge_summary sum;
	char args[1024];
	int i, kind;
	static const char *const a0[] = { "team", "青年突击队", "service_hours", "12", "skills", "driving,medical",
					  "phone", PHONE_0, NULL };
	static const char *const a1[] = { "team", "党员先锋队", "service_hours", "13", "skills", "delivery,driving",
					  "phone", PHONE_1, "service_area", "一组", NULL };
	static const char *const b1[] = { "team", "后勤队", NULL };
	static const char *const e0[] = { "team", "一队", NULL };
	static const char *const e1[] = { "service_hours", "5", NULL };
	static const char *const e1b[] = { "service_hours", "7", NULL };
	static const char *const e0b[] = { "team", "二队", "service_hours", "6", NULL };

	(void)state;
	assert_int_equal(setenv("VLEDGER_SCHEMA_DIR", VL_SOURCE_DIR "/schemas", 1), 0);
	assert_int_equal(unsetenv("VLEDGER_HOME"), 0);
	assert_int_equal(unsetenv("VLEDGER_PASSPHRASE_FILE"), 0);
	g_dir = vt_tmpdir();
	snprintf(g_home, sizeof(g_home), "%s/county", g_dir);
	free(vl_run(0, "init --name 彭水县民政局 --role county --scope " COUNTY " --new-network"));
	assert_int_equal(vl_crypto_init(), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(vl_key_generate(&keys[i]), 0);
		vl_fingerprint(g_fp[i], keys[i].pk);
		vl_buf_clear(&pub);
		assert_int_equal(vl_pubkey_format(&pub, keys[i].pk, NULL), 0);
		snprintf(args, sizeof(args), "roster add --name laptop%d --role village --scope " V1 " --key '%s'", i, pub.ptr);
		free(vl_run(0, args));
	}
	vl_buf_free(&pub);

	/* D: added, edited, deleted. */
	add_id(g_d, "add volunteer --scope " V1 " --set name=李四 --set phone=13700000000 --set team=突击队");
	snprintf(args, sizeof(args), "edit %s --set team=青年队 --set service_hours=3", g_d);
	free(vl_run(0, args));
	snprintf(args, sizeof(args), "rm %s --reason '搬离 moved away'", g_d);
	free(vl_run(0, args));
	/* A and B: the base versions. */
	add_id(g_a, "add volunteer --scope " V1 " --set name=" NAME_A " --set phone=" PHONE_A " --set team=突击队 "
			"--set service_hours=10 --set skills=driving --set \"notes=" NOTE_A "\"");
	add_id(g_b, "add volunteer --scope " V1 " --set name=王五 --set phone=13600000000 --set team=突击队");
	add_id(g_e, "add volunteer --scope " V1 " --set name=赵六 --set phone=13500000000 --set team=突击队 "
			"--set service_hours=0");

	/* Two replicas edit offline from the same head; then they merge. */
	assert_int_equal(vl_node_open(&n, g_home, 1, NULL), 0);
	assert_int_equal(vl_node_load_config(n), 0);
	assert_int_equal(vl_repo_head(&base, n->repo, VL_REF_SCOPE_PREFIX V1), 0);
	become(n, &keys[0], &base);
	edit_rec(n, g_a, a0, &h0);
	edit_rec(n, g_b, NULL, &h0);
	become(n, &keys[1], &base);
	edit_rec(n, g_a, a1, &h1);
	edit_rec(n, g_b, b1, &h1);
	assert_int_equal(vl_merge_heads(&m, &kind, n, V1, &h0, &h1, &sum), 0);
	assert_int_equal(kind, 1);
	assert_int_equal(sum.records_merged, 2);
	assert_true(sum.conflicts >= 2); /* A's phone, B's edit/delete */
	/* E, criss-cross on top of that. */
	become(n, &keys[0], &m);
	edit_rec(n, g_e, e0, &h0);
	become(n, &keys[1], &m);
	edit_rec(n, g_e, e1, &h1);
	assert_int_equal(vl_merge_heads(&m1, &kind, n, V1, &h0, &h1, NULL), 0);
	assert_int_equal(kind, 1);
	become(n, &keys[1], &h1);
	edit_rec(n, g_e, e1b, &h1);
	assert_int_equal(vl_merge_heads(&m2, &kind, n, V1, &h1, &h0, NULL), 0);
	assert_int_equal(kind, 1);
	become(n, &keys[0], &m1);
	edit_rec(n, g_e, e0b, &m1);
	assert_int_equal(vl_merge_heads(&m, &kind, n, V1, &m1, &m2, NULL), 0);
	assert_int_equal(kind, 1);
	assert_int_equal(git_reference_create(&ref, n->repo, VL_REF_SCOPE_PREFIX V1, &m, 1, NULL), 0);
	git_reference_free(ref);
	vl_key_wipe(&keys[0]);
	vl_key_wipe(&keys[1]);
	vl_node_close(n); /* closing wipes the key it holds (laptop1's copy) */

	/* A person settles A's phone with a value of their own. */
	snprintf(args, sizeof(args), "resolve %s phone --value " PHONE_R, g_a);
	free(vl_run(0, args));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (getenv("VT_KEEP")) /* VT_KEEP=1 keeps the world to look at */
		print_message("kept %s\n", g_dir);
	else
		vt_rmtree(g_dir);
	free(g_dir);
	return 0;
}

static vl_node *open_node(void)
{
	vl_node *n = NULL;

	assert_int_equal(vl_node_open(&n, g_home, 0, NULL), 0);
	assert_int_equal(vl_node_load_config(n), 0);
	return n;
}

static const vl_audit_change *change(const vl_audit_version *v, const char *field)
{
	size_t i;

	for (i = 0; i < v->nchanges; i++)
		if (!strcmp(v->changes[i].field, field))
			return &v->changes[i];
	return NULL;
}

static const char *text(const vl_value *v)
{
	return v && v->s ? v->s : "";
}

/* Which version of h is signed by g_fp[k]. */
static size_t by_laptop(const vl_audit_history *h, int k)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (!strcmp(h->v[i].rec->author, g_fp[k]))
			return i;
	fail_msg("no version by laptop%d", k);
	return 0;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		print_error("output lacks '%s':\n%s\n", needle, hay);
		fail();
	}
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle)) {
		print_error("output shows '%s'\n", needle);
		fail();
	}
}

/* ---- history: library ---------------------------------------------------- */

static void test_history_add_edit_delete(void **state)
{
	vl_node *n = open_node();
	vl_audit_history h;
	const vl_audit_change *c;
	char *out, args[128];

	(void)state;
	assert_int_equal(vl_audit_history_load(&h, n, g_d), 0);
	assert_int_equal(h.n, 3);
	assert_string_equal(h.v[0].kind, "add");
	assert_string_equal(h.v[1].kind, "edit");
	assert_string_equal(h.v[2].kind, "delete");
	assert_int_equal(h.v[0].sig_ok, 1);
	assert_true(h.v[0].have_commit && h.v[1].have_commit && h.v[2].have_commit);
	assert_true(h.v[0].seq < h.v[1].seq && h.v[1].seq < h.v[2].seq);
	assert_string_equal(h.v[2].reason, "搬离 moved away");
	assert_string_equal(h.v[0].commit_name, "彭水县民政局");
	c = change(&h.v[1], "team");
	assert_non_null(c);
	assert_string_equal(text(c->old), "突击队");
	assert_string_equal(text(c->now), "青年队");
	assert_int_equal(c->how, VL_AUDIT_SET);
	c = change(&h.v[1], "service_hours");
	assert_non_null(c);
	assert_null(c->old);
	assert_null(change(&h.v[1], "name"));
	/* The tombstone drops the personal fields. */
	c = change(&h.v[2], "name");
	assert_non_null(c);
	assert_null(c->now);
	assert_int_equal(h.prev_ix[2 * 2], 1);
	assert_int_equal(h.prev_ix[2 * 1], 0);
	vl_audit_history_free(&h);
	vl_node_close(n);

	snprintf(args, sizeof(args), "history %s", g_d);
	out = vl_run(0, args);
	assert_contains(out, "3 versions");
	assert_contains(out, "#1 add");
	assert_contains(out, "#2 edit");
	assert_contains(out, "#3 delete");
	assert_contains(out, "reason  搬离 moved away");
	assert_contains(out, "team: 突击队 → 青年队");
	assert_contains(out, "彭水县民政局 (admin, " COUNTY ")");
	assert_contains(out, "[signature valid]");
	assert_lacks(out, "李四");
	assert_lacks(out, "13700000000");
	free(out);
	snprintf(args, sizeof(args), "history %s --reveal", g_d);
	out = vl_run(0, args);
	assert_contains(out, "李四");
	free(out);
	out = vl_run(1, "history 01hzzzzzzzzzzzzzzzzzzzzzzz");
	assert_contains(out, "no record");
	free(out);
	out = vl_run(2, "history");
	free(out);
}

/* ---- history of a merged record: which rule decided which field ------------ */

static void test_history_merge_rules(void **state)
{
	vl_node *n = open_node();
	vl_audit_history h;
	const vl_audit_version *m, *l1;
	const vl_audit_change *c;
	size_t i;

	(void)state;
	assert_int_equal(vl_audit_history_load(&h, n, g_a), 0);
	assert_int_equal(h.n, 5);
	assert_string_equal(h.v[0].kind, "add");
	assert_string_equal(h.v[3].kind, "merge");
	assert_string_equal(h.v[4].kind, "resolve");
	m = &h.v[3];
	l1 = &h.v[by_laptop(&h, 1)];
	assert_int_equal(m->sig_ok, -1);
	assert_true(m->have_commit);
	assert_string_equal(m->commit_name, VL_MERGE_NAME);
	assert_true(m->have_base);
	assert_string_equal(m->base, h.v[0].blob);
	assert_string_equal(m->base_how, "commit");
	assert_int_equal(m->replay, 1);
	/* Both sides are the two laptop versions. */
	assert_true(h.prev_ix[2 * 3] >= 1 && h.prev_ix[2 * 3] <= 2);
	assert_true(h.prev_ix[2 * 3 + 1] >= 1 && h.prev_ix[2 * 3 + 1] <= 2);

	c = change(m, "team"); /* lww: laptop1 wrote later */
	assert_non_null(c);
	assert_int_equal(c->how, VL_AUDIT_RULE);
	assert_string_equal(c->rule, "lww");
	assert_string_equal(text(c->now), "党员先锋队");
	assert_string_equal(m->rec->prev[c->side], l1->blob);
	assert_non_null(strstr(c->why, "later clock"));
	assert_non_null(strstr(c->why, "laptop1"));

	c = change(m, "service_hours"); /* sum: 10 + 2 + 3 */
	assert_non_null(c);
	assert_int_equal(c->how, VL_AUDIT_RULE);
	assert_string_equal(c->rule, "sum");
	assert_string_equal(text(c->now), "15");
	assert_int_equal(c->side, -1);
	assert_non_null(strstr(c->why, "10 + (12 - 10) + (13 - 10) = 15") ?
			strstr(c->why, "10 + (12 - 10) + (13 - 10) = 15") : strstr(c->why, "10 + (13 - 10) + (12 - 10) = 15"));

	c = change(m, "skills"); /* union */
	assert_non_null(c);
	assert_int_equal(c->how, VL_AUDIT_RULE);
	assert_string_equal(c->rule, "union");
	assert_int_equal(c->now->n, 3);

	c = change(m, "phone"); /* manual: a person */
	assert_non_null(c);
	assert_int_equal(c->how, VL_AUDIT_PERSON);
	assert_string_equal(c->rule, "manual");
	assert_string_equal(text(c->now), PHONE_1); /* provisional: the later clock */

	c = change(m, "service_area"); /* only laptop1 */
	assert_non_null(c);
	assert_int_equal(c->how, VL_AUDIT_ONE_SIDE);
	assert_string_equal(m->rec->prev[c->side], l1->blob);

	assert_null(change(m, "status"));
	assert_null(change(m, "name"));
	for (i = 0; i < m->nconflicts; i++)
		assert_int_equal(m->conflicts[i].resolved, 0);
	assert_int_equal(m->nconflicts, 1);
	assert_string_equal(m->conflicts[0].field, "phone");
	assert_int_equal(m->conflicts[0].candidates->n, 2);

	assert_int_equal(h.v[4].nconflicts, 1);
	assert_int_equal(h.v[4].conflicts[0].resolved, 1);
	assert_string_equal(h.v[4].conflicts[0].field, "phone");
	assert_string_equal(text(h.v[4].conflicts[0].value), PHONE_R);
	vl_audit_history_free(&h);

	/* Edit against delete: the schema's on_delete. */
	assert_int_equal(vl_audit_history_load(&h, n, g_b), 0);
	assert_int_equal(h.n, 4);
	m = &h.v[3];
	assert_string_equal(m->kind, "merge");
	assert_true(m->rec->deleted);
	assert_int_equal(m->replay, 1);
	c = change(m, "_deleted");
	assert_non_null(c);
	assert_int_equal(c->how, VL_AUDIT_RULE);
	assert_string_equal(c->rule, "on_delete");
	assert_non_null(strstr(c->why, "tombstone_wins"));
	assert_string_equal(m->rec->prev[c->side], h.v[by_laptop(&h, 0)].blob);
	assert_int_equal(m->nconflicts, 1);
	assert_string_equal(m->conflicts[0].field, "_deleted");
	vl_audit_history_free(&h);
	vl_node_close(n);
}

/* Two merge bases: the virtual one, as the merge folded it. */
static void test_history_criss_cross(void **state)
{
	vl_node *n = open_node();
	vl_audit_history h;
	const vl_audit_version *f;
	const vl_audit_change *c;
	size_t i, merges = 0;
	long base_at = -1;

	(void)state;
	assert_int_equal(vl_audit_history_load(&h, n, g_e), 0);
	assert_int_equal(h.n, 8);
	for (i = 0; i < h.n; i++)
		merges += !strcmp(h.v[i].kind, "merge");
	assert_int_equal(merges, 3);
	f = &h.v[h.n - 1];
	assert_string_equal(f->kind, "merge");
	assert_string_equal(f->base_how, "virtual");
	assert_true(f->have_base);
	assert_int_equal(f->replay, 1);
	/* The virtual base merges h0 and h1 as M1 did: M1's version. */
	for (i = 0; i < h.n; i++)
		if (!strcmp(h.v[i].blob, f->base))
			base_at = (long)i;
	assert_true(base_at >= 0);
	assert_string_equal(h.v[base_at].kind, "merge");
	c = change(f, "service_hours");
	assert_non_null(c);
	assert_int_equal(c->how, VL_AUDIT_RULE);
	assert_string_equal(c->rule, "sum");
	assert_string_equal(text(c->old), "5");
	assert_string_equal(text(c->now), "8");
	c = change(f, "team");
	assert_non_null(c);
	assert_int_equal(c->how, VL_AUDIT_ONE_SIDE);
	assert_string_equal(text(c->now), "二队");
	/* Every merge version of the chain was explained and replayed. */
	for (i = 0; i < h.n; i++)
		if (!strcmp(h.v[i].kind, "merge"))
			assert_int_equal(h.v[i].replay, 1);
	vl_audit_history_free(&h);
	vl_node_close(n);
}

static void test_history_merge_cli(void **state)
{
	char *out, args[160];
	vl_value *doc = NULL;
	static const vl_yaml_limits lim = { (size_t)16 << 20, 32, 1000000 };

	(void)state;
	snprintf(args, sizeof(args), "history %s", g_a);
	out = vl_run(0, args);
	assert_contains(out, "#4 merge");
	assert_contains(out, "merge (no signature; checked by replaying the merge)");
	assert_contains(out, "base #1");
	assert_contains(out, "replay identical");
	assert_contains(out, "rule lww 后写为准: the later clock wins");
	assert_contains(out, "rule sum 增量累加");
	assert_contains(out, "rule union 集合合并");
	assert_contains(out, "rule manual 人工裁决");
	assert_contains(out, "other candidate");
	assert_contains(out, "only ");
	assert_contains(out, "conflict recorded: phone");
	assert_contains(out, "conflict resolved: phone");
	assert_contains(out, "laptop0 (village, " V1 ")");
	assert_lacks(out, NAME_A);
	assert_lacks(out, PHONE_A);
	assert_lacks(out, PHONE_0);
	assert_lacks(out, PHONE_1);
	assert_lacks(out, "<script>");
	free(out);

	/* JSON: one document the strict loader reads back, pii masked. */
	snprintf(args, sizeof(args), "history %s --json", g_a);
	out = vl_run(0, args);
	assert_lacks(out, PHONE_0);
	assert_lacks(out, PHONE_1);
	assert_lacks(out, NAME_A);
	assert_contains(out, "\"field\":\"service_hours\",\"how\":\"rule\",\"old\":10,\"new\":15,\"side\":null");
	assert_contains(out, "\"rule\":\"manual\"");
	assert_contains(out, "\"event\":\"recorded\"");
	assert_int_equal(vl_yaml_load(&doc, out, strlen(out), &lim, "history.json"), 0);
	assert_int_equal(vl_value_map_get(doc, "versions")->n, 5);
	vl_value_free(doc);
	free(out);
	snprintf(args, sizeof(args), "history %s --json --reveal", g_a);
	out = vl_run(0, args);
	assert_contains(out, PHONE_0);
	assert_contains(out, NAME_A);
	free(out);
}

/* ---- blame ------------------------------------------------------------------ */

static void test_blame(void **state)
{
	vl_node *n = open_node();
	vl_audit_history h;
	const vl_value *data;
	size_t *who = NULL, i;
	char *out, args[160];

	(void)state;
	assert_int_equal(vl_audit_history_load(&h, n, g_a), 0);
	assert_int_equal(vl_audit_blame(&who, &h), 0);
	data = h.v[h.n - 1].rec->data;
	for (i = 0; i < data->n; i++) {
		const char *k = data->keys[i];
		if (!strcmp(k, "name") || !strcmp(k, "status") || !strcmp(k, "notes"))
			assert_int_equal(who[i], 0);
		else if (!strcmp(k, "team") || !strcmp(k, "service_area"))
			assert_int_equal(who[i], by_laptop(&h, 1));
		else if (!strcmp(k, "service_hours") || !strcmp(k, "skills"))
			assert_int_equal(who[i], 3); /* computed by the merge */
		else if (!strcmp(k, "phone"))
			assert_int_equal(who[i], 4); /* the resolution */
	}
	free(who);
	vl_audit_history_free(&h);
	vl_node_close(n);

	snprintf(args, sizeof(args), "blame %s", g_a);
	out = vl_run(0, args);
	assert_contains(out, "service_hours");
	assert_contains(out, "#4   merge");
	assert_contains(out, "rule sum");
	assert_contains(out, "laptop1");
	assert_lacks(out, PHONE_R);
	assert_lacks(out, NAME_A);
	free(out);
	snprintf(args, sizeof(args), "blame %s --json", g_a);
	out = vl_run(0, args);
	assert_contains(out, "\"field\":\"service_hours\",\"value\":15,\"version\":4,");
	assert_contains(out, "\"kind\":\"resolve\"");
	assert_lacks(out, PHONE_R);
	free(out);
}

/* ---- audit export --------------------------------------------------------- */

static void test_export_json(void **state)
{
	char *out, *doc_text, path[600], args[800];
	vl_value *doc = NULL;
	const vl_value *v;
	static const vl_yaml_limits lim = { (size_t)16 << 20, 32, 1000000 };

	(void)state;
	snprintf(path, sizeof(path), "%s/audit.json", g_dir);
	snprintf(args, sizeof(args), "audit export --format json --output '%s'", path);
	free(vl_run(0, args));
	doc_text = vt_read(path, NULL);
	assert_lacks(doc_text, PHONE_A);
	assert_lacks(doc_text, PHONE_0);
	assert_lacks(doc_text, PHONE_R);
	assert_lacks(doc_text, NAME_A);
	assert_lacks(doc_text, "<script>");
	assert_int_equal(vl_yaml_load(&doc, doc_text, strlen(doc_text), &lim, "audit.json"), 0);
	v = vl_value_map_get(vl_value_map_get(doc, "verification"), "failures");
	assert_string_equal(text(v), "0");
	assert_string_equal(text(vl_value_map_get(vl_value_map_get(doc, "verification"), "ok")), "true");
	assert_string_equal(text(vl_value_map_get(vl_value_map_get(doc, "summary"), "merges")), "5");
	assert_string_equal(text(vl_value_map_get(vl_value_map_get(doc, "summary"), "records")), "4");
	assert_string_equal(text(vl_value_map_get(vl_value_map_get(doc, "summary"), "conflicts_resolved")), "1");
	v = vl_value_map_get(doc, "signers");
	assert_int_equal(v->n, 3); /* the county and both laptops */
	v = vl_value_map_get(doc, "merges");
	assert_int_equal(v->n, 5);
	v = vl_value_map_get(doc, "records");
	assert_int_equal(v->n, 4);
	assert_non_null(vl_value_map_get(doc, "per_day"));
	assert_string_equal(text(vl_value_map_get(doc, "revealed")), "false");
	vl_value_free(doc);
	free(doc_text);
	assert_contains(out = vt_read(path, NULL), "\"rule\":\"sum\"");
	free(out);

	/* Stable: two exports differ only in the generation time. */
	snprintf(args, sizeof(args), "audit export --format json --scope " V1);
	out = vl_run(0, args);
	assert_contains(out, "\"scope\":\"" V1 "\"");
	free(out);

	/* A period with nothing in it. */
	out = vl_run(0, "audit export --format json --from 2000-01-01 --to 2000-01-02");
	assert_contains(out, "\"versions\":0");
	assert_contains(out, "\"records\":[]");
	free(out);
	out = vl_run(0, "audit export --format json --scope 500243001002");
	assert_contains(out, "\"versions\":0");
	free(out);
	/* With --reveal the personal values are there. */
	out = vl_run(0, "audit export --format json --reveal");
	assert_contains(out, PHONE_R);
	assert_contains(out, NAME_A);
	free(out);
	/* Usage errors. */
	free(vl_run(2, "audit export"));
	free(vl_run(2, "audit export --format xml"));
	free(vl_run(2, "audit export --format json --from 2022-13-01"));
	free(vl_run(2, "audit export --format json --from 2022-05-01 --to 2022-04-01"));
	free(vl_run(2, "audit export --format json --scope 12345"));
}

static int is_tag(const char *name, size_t len)
{
	static const char *const tags[] = { "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3",
		"table", "tr", "th", "td", "span", "code", "p", "pre", "ul", "ol", "li", "b", "i", "br", "svg",
		"line", "text", "rect", "section", "footer", NULL };
	size_t i;

	for (i = 0; tags[i]; i++)
		if (strlen(tags[i]) == len && !strncmp(tags[i], name, len))
			return 1;
	return 0;
}

/* Every tag is one we emit and is closed in order (void elements and
 * "/>" excepted); every '&' starts an entity. */
static void check_html(const char *h)
{
	const char *stack[64], *p;
	size_t slen[64], depth = 0;

	assert_true(!strncmp(h, "<!DOCTYPE html>\n<html lang=\"zh-CN\">", 35));
	assert_contains(h, "<meta charset=\"utf-8\">");
	assert_lacks(h, "<script");
	assert_lacks(h, "http://"); /* no external resources (the SVG namespace excepted below) */
	for (p = h + 15; *p; p++) {
		if (*p == '&') {
			assert_true(!strncmp(p, "&amp;", 5) || !strncmp(p, "&lt;", 4) || !strncmp(p, "&gt;", 4) ||
					!strncmp(p, "&quot;", 6) || !strncmp(p, "&#39;", 5));
		} else if (*p == '<') {
			int close = p[1] == '/';
			const char *name = p + 1 + close, *end = strchr(p, '>');
			size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789");
			assert_non_null(end);
			if (!is_tag(name, len)) {
				print_error("unexpected tag at: %.60s\n", p);
				fail();
			}
			if (close) {
				assert_true(depth > 0);
				depth--;
				if (slen[depth] != len || strncmp(stack[depth], name, len)) {
					print_error("</%.*s> closes <%.*s>\n", (int)len, name, (int)slen[depth], stack[depth]);
					fail();
				}
			} else if (end[-1] != '/' && !(len == 4 && !strncmp(name, "meta", 4)) &&
					!(len == 2 && !strncmp(name, "br", 2))) {
				assert_true(depth < 64);
				stack[depth] = name;
				slen[depth++] = len;
			}
			p = end;
		}
	}
	assert_int_equal(depth, 0);
}

static void test_export_html(void **state)
{
	char *html, *out, path[600], rpath[600], args[800];

	(void)state;
	snprintf(path, sizeof(path), "%s/audit.html", g_dir);
	snprintf(rpath, sizeof(rpath), "%s/audit-revealed.html", g_dir);
	snprintf(args, sizeof(args), "audit export --format html --output '%s'", path);
	free(vl_run(0, args));
	snprintf(args, sizeof(args), "audit export --format html --reveal --output '%s'", rpath);
	free(vl_run(0, args));

	/* Masked: no personal value, in any spelling. */
	html = vt_read(path, NULL);
	{
		/* The SVG namespace is an identifier, not a resource. */
		char *ns = strstr(html, "http://www.w3.org/2000/svg");
		assert_non_null(ns);
		memcpy(ns, "xxxx", 4);
	}
	check_html(html);
	assert_lacks(html, NAME_A);
	assert_lacks(html, PHONE_A);
	assert_lacks(html, PHONE_0);
	assert_lacks(html, PHONE_1);
	assert_lacks(html, PHONE_R);
	assert_lacks(html, "alert(");
	assert_contains(html, "台账审计报告");
	assert_contains(html, "验证通过");
	assert_contains(html, "合并裁决");
	assert_contains(html, "后写为准 lww");
	assert_contains(html, "增量累加 sum");
	assert_contains(html, "集合合并 union");
	assert_contains(html, "删除规则 on_delete");
	assert_contains(html, "待人工处理");
	assert_contains(html, "laptop1");
	assert_contains(html, "<svg");
	assert_contains(html, "<rect");
	assert_contains(html, "原因 reason: 搬离 moved away");
	free(html);

	/* Revealed: the values, escaped. */
	html = vt_read(rpath, NULL);
	memcpy(strstr(html, "http://www.w3.org/2000/svg"), "xxxx", 4);
	check_html(html);
	assert_contains(html, NAME_A);
	assert_contains(html, PHONE_R);
	assert_contains(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co");
	assert_contains(html, "已显示 revealed");
	free(html);

	/* Rendered by a browser, when one is installed (never downloaded). */
	if (vt_run(NULL, "command -v chromium >/dev/null 2>&1") == 0) {
		int rc = vt_run(&out, "prof=$(mktemp -d) && timeout 120 chromium --headless --no-sandbox --disable-gpu "
				"--disable-background-networking --disable-component-update --disable-sync --no-first-run "
				"--user-data-dir=\"$prof\" --dump-dom 'file://%s' 2>/dev/null; s=$?; rm -rf \"$prof\"; exit $s",
				rpath);
		assert_int_equal(rc, 0);
		assert_contains(out, "台账审计报告");
		assert_contains(out, "合并裁决");
		assert_contains(out, "党员先锋队");
		assert_contains(out, "&lt;script&gt;alert('x')&lt;/script&gt;");
		assert_lacks(out, "<script");
		assert_contains(out, "<svg");
		free(out);
	} else {
		print_message("chromium not installed: HTML checked structurally only\n");
	}
}

/*
 * A hook field, explained by the replay's trace: with the pinned hook
 * installed, the trace says the hook computed the value; without it, this
 * node's replay leaves the field to a person while the stored merge has no
 * conflict, so audit must not explain it from the replay (the re-derivation
 * it replaced said "the hook computed the value" from the record alone)
 * and says the replay differs. The other fields stay explained. Runs last:
 * it adds a record to the world.
 */
static void test_history_hook_replay(void **state)
{
	static const char *const w0[] = { "subsidy_days", "12", "subsidy_amount", "1446.00", NULL };
	static const char *const w1[] = { "subsidy_days", "15", "subsidy_amount", "1807.50", NULL };
	char w[VL_ULID_LEN + 1], hook[600], moved[600];
	vl_node *n = NULL;
	vl_audit_history h;
	const vl_audit_version *m = NULL;
	const vl_audit_change *c;
	git_reference *ref = NULL;
	git_oid base, h0, h1, mid;
	size_t i;
	int kind, pass;

	(void)state;
	add_id(w, "add worker_care --scope " V1 " --set worker_name=李四 --set id_number=500243198806123014 "
			"--set post=网格员 --set duty_status=on_duty --set subsidy_days=10 --set daily_rate=120.50 --set subsidy_amount=1205.00");
	assert_int_equal(vl_node_open(&n, g_home, 1, NULL), 0);
	assert_int_equal(vl_node_load_config(n), 0);
	assert_int_equal(vl_repo_head(&base, n->repo, VL_REF_SCOPE_PREFIX V1), 0);
	edit_rec(n, w, w0, &h0);
	assert_int_equal(git_reference_create(&ref, n->repo, VL_REF_SCOPE_PREFIX V1, &base, 1, NULL), 0);
	git_reference_free(ref);
	edit_rec(n, w, w1, &h1);
	assert_int_equal(vl_merge_heads(&mid, &kind, n, V1, &h0, &h1, NULL), 0);
	assert_int_equal(kind, 1);
	assert_int_equal(git_reference_create(&ref, n->repo, VL_REF_SCOPE_PREFIX V1, &mid, 1, NULL), 0);
	git_reference_free(ref);
	vl_node_close(n);

	snprintf(hook, sizeof(hook), "%s/hooks/subsidy_recompute", g_home);
	snprintf(moved, sizeof(moved), "%s/hooks/subsidy_recompute.away", g_home);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			assert_int_equal(rename(hook, moved), 0);
		n = open_node();
		assert_int_equal(vl_audit_history_load(&h, n, w), 0);
		for (i = 0, m = NULL; i < h.n; i++)
			if (!strcmp(h.v[i].kind, "merge"))
				m = &h.v[i];
		assert_non_null(m);
		assert_int_equal(m->replay, pass == 0);
		c = change(m, "subsidy_days"); /* sum: 10 + 2 + 5 */
		assert_non_null(c);
		assert_int_equal(c->how, VL_AUDIT_RULE);
		assert_string_equal(text(c->now), "17");
		assert_non_null(strstr(c->why, "= 17"));
		c = change(m, "subsidy_amount"); /* the hook: 17 x 120.50 */
		assert_non_null(c);
		assert_int_equal(c->how, VL_AUDIT_RULE);
		assert_string_equal(c->rule, "hook:subsidy_recompute");
		assert_string_equal(text(c->now), "2048.50");
		assert_int_equal(c->side, -1);
		if (pass == 0) {
			assert_non_null(strstr(c->why, "hook 'subsidy_recompute' (pinned by sha256) computed the value"));
		} else {
			assert_null(strstr(c->why, "computed the value"));
			assert_non_null(strstr(c->why, "is the hook installed here?"));
		}
		vl_audit_history_free(&h);
		vl_node_close(n);
	}
	assert_int_equal(rename(moved, hook), 0);
}

/* vl_audit_collect reads the scope branches in ref order (audit.h), the
 * order history prints them in, whatever order the refs are stored in:
 * libgit2 lists loose refs before packed ones. A copy of the world with
 * V1's ref packed and a later village's loose lists that village first
 * unsorted. */
static void test_collect_ref_order(void **state)
{
	vl_audit_version *v = NULL;
	vl_node *n = NULL;
	char home[600];
	size_t nv = 0, i, nv1 = 0;

	(void)state;
	snprintf(home, sizeof(home), "%s/collect", g_dir);
	assert_int_equal(vt_run(NULL, "cp -a '%s' '%s' && git --git-dir '%s/repo.git' pack-refs --all && "
			"'%s' -C '%s' add volunteer --scope " V2 " --set name=孙七 --set phone=13400000000 --set team=突击队",
			g_home, home, home, VL_BINARY, home), 0);
	/* V1 packed, V2 loose: the order that needs the sort. */
	assert_int_equal(vt_run(NULL, "test -f '%s/repo.git/" VL_REF_SCOPE_PREFIX V2 "' && "
			"! test -e '%s/repo.git/" VL_REF_SCOPE_PREFIX V1 "'", home, home), 0);
	assert_int_equal(vl_node_open(&n, home, 0, NULL), 0);
	assert_int_equal(vl_audit_collect(&v, &nv, n, NULL, NULL, NULL), 0);
	for (i = 0; i < nv; i++)
		nv1 += !strcmp(v[i].rec->scope, V1);
	assert_true(nv1 >= 4);
	assert_int_equal(nv, nv1 + 1);
	for (i = 0; i < nv1; i++)
		assert_string_equal(v[i].rec->scope, V1);
	assert_string_equal(v[nv1].rec->scope, V2);
	for (i = 0; i < nv; i++)
		vl_audit_version_free(&v[i]);
	free(v);
	vl_node_close(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_history_add_edit_delete),
		cmocka_unit_test(test_history_merge_rules),
		cmocka_unit_test(test_history_criss_cross),
		cmocka_unit_test(test_history_merge_cli),
		cmocka_unit_test(test_blame),
		cmocka_unit_test(test_export_json),
		cmocka_unit_test(test_export_html),
		cmocka_unit_test(test_history_hook_replay),
		cmocka_unit_test(test_collect_ref_order),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
