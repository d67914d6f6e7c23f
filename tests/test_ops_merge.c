/*
 * test_ops_merge.c - the merge operation (agent/ops/merge.h) called as the
 * server, bundle import and web UI will call it: which scope branch a ref
 * goes to, and what the result says when the ref is refused (issue 7,
 * item 10). tests/sh/merge_ref.sh covers the command and equivocation.
 *
 * A network is made once with the real binary: a county and a village
 * (plain keys). The village writes, the county receives it with `vledger
 * fetch` and writes a record of its own scope; then the village writes
 * again and the county takes that head with stock git under refs/tmp/v, a
 * name that says nothing of its scope. Each test works on a copy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/node/ledger.h"
#include "agent/ops/merge.h"
#include "store/repo.h"
#include "forge.h"
#include "testutil.h"

#define COUNTY "500243000000"
#define VILLAGE "500243001001"

static char *g_template;

static int group_setup(void **state)
{
	char cmd[2048];
	char *key = NULL;

	(void)state;
	vf_env_init();
	g_template = vt_tmpdir();
	snprintf(cmd, sizeof(cmd), "cd '%s' && '" VL_BINARY "' -C county init --name 彭水县民政局 --role county "
			"--scope " COUNTY " --new-network >/dev/null && '" VL_BINARY "' -C county export network "
			"--output net.yaml && '"
			VL_BINARY "' -C village init --name 鼓楼社区 --role village --scope " VILLAGE
			" --network net.yaml >/dev/null", g_template);
	assert_int_equal(vt_run(NULL, "%s", cmd), 0);
	assert_int_equal(vt_run(&key, "'" VL_BINARY "' -C '%s/village' key | head -1 | tr -d '\\n'", g_template), 0);
	snprintf(cmd, sizeof(cmd), "cd '%s' && '" VL_BINARY "' -C county roster add --name 鼓楼社区 --role village "
			"--scope " VILLAGE " --key '%s' >/dev/null && '" VL_BINARY "' -C village fetch county/repo.git "
			">/dev/null && '" VL_BINARY "' -C village add resident --set name=王秀英 --set residence_kind=registered "
			"--set address=x --set source=self_report >/dev/null && '" VL_BINARY "' -C county fetch "
			"village/repo.git >/dev/null && '" VL_BINARY "' -C county add resident --set name=县里登记 "
			"--set residence_kind=registered --set address=y --set source=self_report >/dev/null && '" VL_BINARY
			"' -C village add resident --set name=赵建国 --set residence_kind=migrant --set address=z "
			"--set source=self_report >/dev/null && git --git-dir county/repo.git fetch -q village/repo.git "
			"+refs/heads/scope/" VILLAGE ":refs/tmp/v", g_template, key);
	free(key);
	assert_int_equal(vt_run(NULL, "%s", cmd), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vf_template_free(g_template);
	return 0;
}

typedef vf_node_copy fixture;

static int setup(void **state)
{
	*state = vf_node_copy_open(g_template, "county", 0, 0);
	return 0;
}

static int teardown(void **state)
{
	vf_node_copy_free(*state);
	return 0;
}

/* Every file of the county's repo.git with its content hash. Caller frees. */
static char *snapshot(const fixture *f)
{
	return vf_file_hashes(f->home);
}

static git_oid head_of(const fixture *f, const char *ref)
{
	git_oid id;

	assert_int_equal(vl_repo_head(&id, f->n->repo, ref), 0);
	return id;
}

/* A village's history asked onto the county's own branch: refused with the
 * reason in the result, nothing written (not even a merge commit object). */
static void test_refuses_other_scope(void **state)
{
	fixture *f = *state;
	vl_merge_opts o = VL_MERGE_OPTS_INIT;
	vl_merge_result res;
	git_oid before = head_of(f, VL_REF_SCOPE_PREFIX COUNTY), after;
	char *snap = snapshot(f), *snap2;

	o.ref = "refs/tmp/v";
	o.scope = COUNTY;
	assert_int_equal(vl_merge(f->n, &o, &res), VL_EBADSIG);
	assert_int_equal(res.outcome, VL_MERGED_NONE);
	assert_string_equal(res.scope, COUNTY);
	assert_non_null(res.report.ptr);
	assert_non_null(strstr(res.report.ptr, "may not write scope " COUNTY));
	assert_non_null(strstr(vl_error_last(), "nothing changed"));
	vl_merge_result_free(&res);
	after = head_of(f, VL_REF_SCOPE_PREFIX COUNTY);
	assert_true(git_oid_equal(&before, &after));
	snap2 = snapshot(f);
	assert_string_equal(snap, snap2);
	free(snap);
	free(snap2);
}

/* Without a scope: the scope of the ref's records, not the node's own. */
static void test_takes_scope_of_records(void **state)
{
	fixture *f = *state;
	vl_merge_opts o = VL_MERGE_OPTS_INIT;
	vl_merge_result res;
	git_oid county = head_of(f, VL_REF_SCOPE_PREFIX COUNTY), theirs = head_of(f, "refs/tmp/v"), now;

	o.ref = "refs/tmp/v";
	assert_int_equal(vl_merge(f->n, &o, &res), 0);
	assert_string_equal(res.scope, VILLAGE);
	assert_int_equal(res.outcome, VL_MERGED_FAST_FORWARD);
	assert_true(git_oid_equal(&res.head, &theirs));
	assert_int_equal(res.report.len, 0);
	vl_merge_result_free(&res);
	now = head_of(f, VL_REF_SCOPE_PREFIX VILLAGE);
	assert_true(git_oid_equal(&now, &theirs));
	now = head_of(f, VL_REF_SCOPE_PREFIX COUNTY);
	assert_true(git_oid_equal(&now, &county));
	/* Again: nothing to do. */
	assert_int_equal(vl_merge(f->n, &o, &res), 0);
	assert_int_equal(res.outcome, VL_MERGED_UP_TO_DATE);
	vl_merge_result_free(&res);
}

/* A commit that holds no record cannot say its scope: VL_EINVALID, and
 * nothing changes. */
static void test_recordless_needs_scope(void **state)
{
	fixture *f = *state;
	vl_merge_opts o = VL_MERGE_OPTS_INIT;
	vl_merge_result res;
	char *id = NULL, *snap, *snap2;

	assert_int_equal(vt_run(&id, "cd '%s' && git --git-dir repo.git commit-tree -m empty "
			"$(git --git-dir repo.git hash-object -t tree -w /dev/null) | tr -d '\\n'", f->home), 0);
	snap = snapshot(f);
	o.ref = id;
	assert_int_equal(vl_merge(f->n, &o, &res), VL_EINVALID);
	assert_non_null(strstr(vl_error_last(), "--scope"));
	assert_int_equal(res.outcome, VL_MERGED_NONE);
	vl_merge_result_free(&res);
	snap2 = snapshot(f);
	assert_string_equal(snap, snap2);
	free(snap);
	free(snap2);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refuses_other_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takes_scope_of_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recordless_needs_scope, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
