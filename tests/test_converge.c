/*
 * test_converge.c - merges converge: five replicas of one village edit the
 * same ledgers offline (thousands of random adds, edits and deletes), then
 * merge pairwise in random order until quiescent. Every pairwise merge is
 * computed independently by both sides and must give the same commit id;
 * at the end all replicas hold the same head, `vledger verify` replays every
 * merge, and nothing a rule says must survive was lost (records, union-added
 * tags, appended service-log entries, summed service hours).
 *
 * All replicas live in one repository (objects are shared, as after a sync);
 * each replica is a head of its own and signs with its own roster key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/node/ledger.h"
#include "store/repo.h"
#include "testutil.h"
#include "agent/sync/treemerge.h"
#include "agent/audit/verify.h"
#include "store/yaml.h"

#define NREP 5
#define SCOPE "500243001001"
#define MAXREC 400

static const char *const tag_names[] = { "child_in_difficulty", "disabled", "elderly_alone",
					  "pregnant", "special_disease" };

typedef struct {
	char id[27];
	int is_volunteer;
	unsigned tags_added;     /* bit set of tags some replica added */
	long long hours_total;   /* sum of every hours delta ever applied */
	int log_entries;         /* service-log entries ever appended */
} expect_rec;

typedef struct {
	char *dir;
	vl_node *n;
	vl_key keys[NREP];
	git_oid heads[NREP];
	int have[NREP];
	expect_rec recs[MAXREC];
	size_t nrecs;
	unsigned long long rng;
} world;

static unsigned rnd(world *w, unsigned n)
{
	w->rng = w->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((w->rng >> 33) % n);
}

static void run_ok(const char *fmt, const char *a, const char *b)
{
	char *out = NULL;
	int rc = vt_run(&out, fmt, a, b);

	if (rc != 0)
		print_error("command failed (%d): %s\n", rc, out);
	assert_int_equal(rc, 0);
	free(out);
}

static int setup(void **state)
{
	world *w = calloc(1, sizeof(*w));
	char cmd[4096], home[512];
	vl_buf pub = VL_BUF_INIT;
	int i;

	assert_non_null(w);
	w->dir = vt_tmpdir();
	w->rng = 20221128;
	setenv("VLEDGER_SCHEMA_DIR", VL_SOURCE_DIR "/schemas", 1);
	snprintf(home, sizeof(home), "%s/county", w->dir);
	run_ok("'%s' -C '%s' init --name 彭水县民政局 --role county --scope 500243000000 --new-network", VL_BINARY, home);
	assert_int_equal(vl_crypto_init(), 0);
	for (i = 0; i < NREP; i++) {
		assert_int_equal(vl_key_generate(&w->keys[i]), 0);
		vl_buf_clear(&pub);
		assert_int_equal(vl_pubkey_format(&pub, w->keys[i].pk, NULL), 0);
		snprintf(cmd, sizeof(cmd), "'%s' -C '%s' roster add --name laptop%d --role village --scope " SCOPE
				" --key '%s'", VL_BINARY, home, i, pub.ptr);
		assert_int_equal(vt_run(NULL, "%s", cmd), 0);
	}
	vl_buf_free(&pub);
	assert_int_equal(vl_node_open(&w->n, home, 1, NULL), 0);
	assert_int_equal(vl_node_load_config(w->n), 0);
	/* Durability is not under test here; thousands of fsyncs would be. */
	assert_int_equal(git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0), 0);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	world *w = *state;
	int i;

	for (i = 0; i < NREP; i++)
		vl_key_wipe(&w->keys[i]);
	vl_node_close(w->n);
	vt_rmtree(w->dir);
	free(w->dir);
	free(w);
	return 0;
}

/* Make replica r current: the scope ref at its head, its key in the node. */
static void become(world *w, int r)
{
	git_reference *ref = NULL;

	if (w->have[r]) {
		assert_int_equal(git_reference_create(&ref, w->n->repo, VL_REF_SCOPE_PREFIX SCOPE, &w->heads[r], 1, NULL), 0);
		git_reference_free(ref);
	} else if (git_reference_lookup(&ref, w->n->repo, VL_REF_SCOPE_PREFIX SCOPE) == 0) {
		assert_int_equal(git_reference_delete(ref), 0);
		git_reference_free(ref);
	}
	memcpy(&w->n->key, &w->keys[r], sizeof(vl_key));
	vl_fingerprint(w->n->fp, w->keys[r].pk);
}

static void commit_as(world *w, int r, vl_record *rec, const char *what)
{
	git_oid out;

	assert_int_equal(vl_ledger_commit(&out, w->n, SCOPE, &rec, 1, what, NULL), 0);
	w->heads[r] = out;
	w->have[r] = 1;
}

/* The record as replica r sees it; NULL if r does not have it. */
static vl_record *read_rec(world *w, int r, const char *ledger, const char *id, git_oid *blob)
{
	vl_buf path = VL_BUF_INIT, raw = VL_BUF_INIT;
	vl_record *rec = NULL;
	int rc;

	if (!w->have[r])
		return NULL;
	assert_int_equal(vl_record_path(&path, ledger, id), 0);
	rc = vl_repo_read(&raw, blob, w->n->repo, NULL, &w->heads[r], path.ptr, VL_RECORD_MAX_BYTES);
	if (rc == 0)
		assert_int_equal(vl_record_parse(&rec, raw.ptr, raw.len, path.ptr), 0);
	vl_buf_free(&path);
	vl_buf_free(&raw);
	return rec;
}

static vl_record *next_of(const vl_record *cur, const git_oid *blob)
{
	vl_record *r = NULL;

	assert_int_equal(vl_record_new(&r, cur->schema, cur->id, cur->scope), 0);
	vl_value_free(r->data);
	r->data = vl_value_clone(cur->data);
	r->prev = calloc(1, sizeof(*r->prev));
	assert_non_null(r->prev);
	git_oid_tostr(r->prev[0], 41, blob);
	r->nprev = 1;
	if (cur->conflicts)
		r->conflicts = vl_value_clone(cur->conflicts);
	return r;
}

static void op_add(world *w, int r)
{
	expect_rec *e = &w->recs[w->nrecs];
	const vl_schema *s;
	vl_record *rec = NULL;
	char buf[64];

	if (w->nrecs == MAXREC)
		return;
	e->is_volunteer = rnd(w, 3) == 0;
	s = vl_node_schema(w->n, e->is_volunteer ? "volunteer" : "resident");
	vl_ulid_new(e->id, 1649294000000ULL + w->nrecs);
	assert_int_equal(vl_record_new(&rec, s->name, e->id, SCOPE), 0);
	snprintf(buf, sizeof(buf), "居民%zu", w->nrecs);
	assert_int_equal(vl_schema_set_text(s, rec->data, "name", buf), 0);
	if (e->is_volunteer) {
		assert_int_equal(vl_schema_set_text(s, rec->data, "phone", "13800000000"), 0);
		assert_int_equal(vl_schema_set_text(s, rec->data, "team", "突击队"), 0);
		assert_int_equal(vl_schema_set_text(s, rec->data, "status", "active"), 0);
		assert_int_equal(vl_schema_set_text(s, rec->data, "service_hours", "0"), 0);
	} else {
		assert_int_equal(vl_schema_set_text(s, rec->data, "residence_kind", "registered"), 0);
		assert_int_equal(vl_schema_set_text(s, rec->data, "address", "1 组"), 0);
		assert_int_equal(vl_schema_set_text(s, rec->data, "source", "worker_survey"), 0);
	}
	assert_int_equal(vl_schema_validate(s, rec->data, 0, NULL), 0);
	commit_as(w, r, rec, "add");
	vl_record_free(rec);
	w->nrecs++;
}

static void op_edit(world *w, int r)
{
	expect_rec *e;
	vl_record *cur, *next;
	const vl_schema *s;
	git_oid blob;
	char buf[128];

	if (!w->nrecs)
		return;
	e = &w->recs[rnd(w, (unsigned)w->nrecs)];
	s = vl_node_schema(w->n, e->is_volunteer ? "volunteer" : "resident");
	cur = read_rec(w, r, s->name, e->id, &blob);
	if (!cur)
		return;
	if (cur->deleted) {
		vl_record_free(cur);
		return;
	}
	next = next_of(cur, &blob);
	if (e->is_volunteer) {
		/* Append a log entry and add its hours (append + sum). */
		vl_value *log = vl_value_map_get(next->data, "service_log"), *entry = vl_value_new(VL_V_MAP);
		const vl_value *h = vl_value_map_get(next->data, "service_hours");
		long long hours = 1 + rnd(w, 4), have = 0;
		if (!log) {
			assert_int_equal(vl_value_map_set(next->data, "service_log", vl_value_new(VL_V_LIST)), 0);
			log = vl_value_map_get(next->data, "service_log");
		}
		snprintf(buf, sizeof(buf), "2022-04-%02u", 1 + rnd(w, 28));
		assert_int_equal(vl_value_map_set(entry, "date", vl_value_str(buf)), 0);
		snprintf(buf, sizeof(buf), "送菜上门 %u-%u", (unsigned)r, rnd(w, 1000000));
		assert_int_equal(vl_value_map_set(entry, "task", vl_value_str(buf)), 0);
		snprintf(buf, sizeof(buf), "%lld.0", hours);
		assert_int_equal(vl_value_map_set(entry, "hours", vl_value_scalar(VL_V_DEC, buf)), 0);
		assert_int_equal(vl_value_list_push(log, entry), 0);
		if (h && h->s)
			have = strtoll(h->s, NULL, 10);
		snprintf(buf, sizeof(buf), "%lld", have + hours);
		assert_int_equal(vl_schema_set_text(s, next->data, "service_hours", buf), 0);
		e->hours_total += hours;
		e->log_entries++;
	} else if (rnd(w, 2)) {
		unsigned t = rnd(w, 5);
		const vl_value *tags = vl_value_map_get(next->data, "tags");
		vl_buf list = VL_BUF_INIT;
		size_t i;
		for (i = 0; tags && i < tags->n; i++)
			assert_int_equal(vl_buf_printf(&list, "%s,", tags->items[i]->s), 0);
		assert_int_equal(vl_buf_puts(&list, tag_names[t]), 0);
		assert_int_equal(vl_schema_set_text(s, next->data, "tags", list.ptr), 0);
		vl_buf_free(&list);
		e->tags_added |= 1u << t;
	} else {
		snprintf(buf, sizeof(buf), "139%08u", rnd(w, 100000000));
		assert_int_equal(vl_schema_set_text(s, next->data, "phone", buf), 0);
	}
	assert_int_equal(vl_schema_normalize(s, next->data), 0);
	{
		vl_buf diag = VL_BUF_INIT;
		if (vl_schema_validate(s, next->data, 0, &diag) != 0)
			print_error("edit does not validate: %s\n", diag.ptr);
		assert_int_equal(diag.len, 0);
		vl_buf_free(&diag);
	}
	commit_as(w, r, next, "edit");
	vl_record_free(next);
	vl_record_free(cur);
}

static void op_delete(world *w, int r)
{
	expect_rec *e;
	vl_record *cur, *next;
	vl_value *kept = NULL;
	const vl_schema *s;
	git_oid blob;

	if (!w->nrecs)
		return;
	e = &w->recs[rnd(w, (unsigned)w->nrecs)];
	if (e->is_volunteer)
		return; /* volunteers stay, so their sums and logs can be checked */
	s = vl_node_schema(w->n, "resident");
	cur = read_rec(w, r, s->name, e->id, &blob);
	if (!cur || cur->deleted) {
		vl_record_free(cur);
		return;
	}
	next = next_of(cur, &blob);
	assert_int_equal(vl_schema_tombstone_data(&kept, s, next->data), 0);
	vl_value_free(next->data);
	next->data = kept;
	next->deleted = 1;
	commit_as(w, r, next, "delete");
	vl_record_free(next);
	vl_record_free(cur);
}

/* i and j sync: each side merges on its own; both must write one commit. */
static void sync_pair(world *w, int i, int j)
{
	git_oid mi, mj;
	int ki, kj;

	if (!w->have[j])
		return;
	if (!w->have[i]) {
		w->heads[i] = w->heads[j];
		w->have[i] = 1;
		return;
	}
	assert_int_equal(vl_merge_heads(&mi, &ki, w->n, SCOPE, &w->heads[i], &w->heads[j], NULL), 0);
	assert_int_equal(vl_merge_heads(&mj, &kj, w->n, SCOPE, &w->heads[j], &w->heads[i], NULL), 0);
	assert_true(git_oid_equal(&mi, &mj));
	w->heads[i] = w->heads[j] = mi;
}

static int all_equal(const world *w)
{
	int i;

	for (i = 1; i < NREP; i++)
		if (!w->have[i] || !git_oid_equal(&w->heads[i], &w->heads[0]))
			return 0;
	return w->have[0];
}

static void test_random_convergence(void **state)
{
	world *w = *state;
	size_t step, i, merges = 0;
	int r, rounds;
	vl_verify_result res;
	git_reference *ref = NULL;

	for (step = 0; step < 2000; step++) {
		r = (int)rnd(w, NREP);
		become(w, r);
		switch (rnd(w, 10)) {
		case 0: case 1: case 2: op_add(w, r); break;
		case 3: op_delete(w, r); break;
		default: op_edit(w, r); break;
		}
		if (rnd(w, 8) == 0) {
			int a = (int)rnd(w, NREP), b = (int)rnd(w, NREP);
			if (a != b) {
				sync_pair(w, a, b);
				merges++;
			}
		}
	}
	/* Gossip in random order until every replica holds the same head. */
	for (rounds = 0; !all_equal(w) && rounds < 1000; rounds++) {
		int a = (int)rnd(w, NREP), b = (int)rnd(w, NREP);
		if (a != b) {
			sync_pair(w, a, b);
			merges++;
		}
	}
	assert_true(all_equal(w));
	print_message("%zu records, %zu pairwise merges, converged after %d gossip rounds\n", w->nrecs, merges, rounds);
	/* Nothing that must survive was lost. */
	for (i = 0; i < w->nrecs; i++) {
		expect_rec *e = &w->recs[i];
		git_oid blob;
		vl_record *fin = read_rec(w, 0, e->is_volunteer ? "volunteer" : "resident", e->id, &blob);
		assert_non_null(fin);
		if (e->is_volunteer) {
			const vl_value *h = vl_value_map_get(fin->data, "service_hours");
			const vl_value *log = vl_value_map_get(fin->data, "service_log");
			assert_non_null(h);
			assert_int_equal(strtoll(h->s, NULL, 10), e->hours_total);
			assert_int_equal(log ? (int)log->n : 0, e->log_entries);
		} else if (!fin->deleted) {
			const vl_value *tags = vl_value_map_get(fin->data, "tags");
			unsigned t;
			for (t = 0; t < 5; t++) {
				size_t k;
				int found = 0;
				if (!(e->tags_added & (1u << t)))
					continue;
				for (k = 0; tags && k < tags->n; k++)
					found |= !strcmp(tags->items[k]->s, tag_names[t]);
				assert_true(found);
			}
		}
		vl_record_free(fin);
	}
	/* The converged branch verifies, every merge replayed. */
	assert_int_equal(git_reference_create(&ref, w->n->repo, VL_REF_SCOPE_PREFIX SCOPE, &w->heads[0], 1, NULL), 0);
	git_reference_free(ref);
	memset(&res, 0, sizeof(res));
	assert_int_equal(vl_verify_all(w->n, &res), 0);
	if (res.failures)
		print_error("%s", res.report.ptr);
	assert_int_equal(res.failures, 0);
	assert_true(res.merges > 0);
	/* The same with whole branches on two threads: merges replayed off
	 * the calling thread, through a repository of that thread's own. */
	{
		vl_verify_result br;
		memset(&br, 0, sizeof(br));
		br.threads = 2;
		br.branch_min = 1;
		assert_int_equal(vl_verify_all(w->n, &br), 0);
		assert_int_equal(br.failures, 0);
		assert_int_equal(br.merges, res.merges);
		assert_int_equal(br.commits, res.commits);
		assert_int_equal(br.records, res.records);
		vl_verify_result_free(&br);
	}
	vl_verify_result_free(&res);
}

/*
 * A merge large enough to read its records on two threads (a batch of at
 * least 64 both-changed records, agent/sync/treemerge.c) writes exactly the
 * commit the serial merge (VLEDGER_THREADS=1) writes, with the same summary.
 */
#define NBASE 300
#define NEDIT 200

static void edit_side(world *w, int r, const git_oid *base, const char (*ids)[27], int tags)
{
	const vl_schema *s = vl_node_schema(w->n, "resident");
	vl_record *recs[NEDIT];
	char buf[64];
	git_oid blob;
	size_t i;

	w->heads[r] = *base;
	w->have[r] = 1;
	become(w, r);
	for (i = 0; i < NEDIT; i++) {
		vl_record *cur = read_rec(w, r, "resident", ids[i], &blob);
		assert_non_null(cur);
		recs[i] = next_of(cur, &blob);
		vl_record_free(cur);
		if (tags) {
			assert_int_equal(vl_schema_set_text(s, recs[i]->data, "tags", tag_names[i % 5]), 0);
		} else {
			snprintf(buf, sizeof(buf), "139%08zu", i);
			assert_int_equal(vl_schema_set_text(s, recs[i]->data, "phone", buf), 0);
		}
		assert_int_equal(vl_schema_normalize(s, recs[i]->data), 0);
	}
	assert_int_equal(vl_ledger_commit(&w->heads[r], w->n, SCOPE, recs, NEDIT, tags ? "tags" : "phones", NULL), 0);
	for (i = 0; i < NEDIT; i++)
		vl_record_free(recs[i]);
}

static void test_threads_same_merge(void **state)
{
	world *w = *state;
	const vl_schema *s = vl_node_schema(w->n, "resident");
	static char ids[NBASE][27];
	vl_record *recs[NBASE];
	vl_merge_summary sum1, sum2;
	git_oid base, m1, m2;
	char buf[64];
	int k1 = 0, k2 = 0;
	size_t i;

	become(w, 0);
	for (i = 0; i < NBASE; i++) {
		vl_ulid_new(ids[i], 1649294000000ULL + i);
		assert_int_equal(vl_record_new(&recs[i], "resident", ids[i], SCOPE), 0);
		snprintf(buf, sizeof(buf), "居民%zu", i);
		assert_int_equal(vl_schema_set_text(s, recs[i]->data, "name", buf), 0);
		assert_int_equal(vl_schema_set_text(s, recs[i]->data, "residence_kind", "registered"), 0);
		assert_int_equal(vl_schema_set_text(s, recs[i]->data, "address", "1 组"), 0);
		assert_int_equal(vl_schema_set_text(s, recs[i]->data, "source", "worker_survey"), 0);
	}
	assert_int_equal(vl_ledger_commit(&base, w->n, SCOPE, recs, NBASE, "base", NULL), 0);
	for (i = 0; i < NBASE; i++)
		vl_record_free(recs[i]);
	edit_side(w, 0, &base, ids, 0);
	edit_side(w, 1, &base, ids, 1);

	assert_int_equal(setenv("VLEDGER_THREADS", "1", 1), 0);
	assert_int_equal(vl_merge_heads(&m1, &k1, w->n, SCOPE, &w->heads[0], &w->heads[1], &sum1), 0);
	assert_int_equal(setenv("VLEDGER_THREADS", "2", 1), 0);
	assert_int_equal(vl_merge_heads(&m2, &k2, w->n, SCOPE, &w->heads[1], &w->heads[0], &sum2), 0);
	assert_int_equal(unsetenv("VLEDGER_THREADS"), 0);
	assert_int_equal(k1, 1);
	assert_int_equal(k2, 1);
	assert_true(git_oid_equal(&m1, &m2));
	assert_int_equal(sum1.records_merged, NEDIT);
	assert_int_equal(sum2.records_merged, NEDIT);
	assert_int_equal(sum1.records_taken, sum2.records_taken);
	assert_int_equal(sum1.conflicts, sum2.conflicts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_random_convergence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_same_merge, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
