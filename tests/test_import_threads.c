/*
 * test_import_threads.c - an import writes the same repository on one thread
 * as on two (VLEDGER_THREADS): the records signed and hashed in parallel
 * (vl_ledger_commit) and the pack's objects deflated in parallel
 * (vl_stage_flush) give byte-identical records, commits and packs.
 *
 * Record ids are random (vl_ulid_new), so the test makes libsodium's random
 * numbers repeatable (randombytes_set_implementation, before anything starts
 * libsodium) and the clock fixed (VLEDGER_FAKE_TIME_MS); the two imports
 * then differ only in their thread count. Both homes are copies of one node
 * made by the real binary; both imports run in this process through the
 * import operation (agent/ops/record.h), as `vledger import` does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/node/ledger.h"
#include "agent/ops/record.h"
#include "store/pack.h"
#include "store/repo.h"
#include "store/yaml.h"
#include "testutil.h"

#define SCOPE "500243000000"
#define NREC 1100 /* three commits at the default batch: 500, 500, 100 */

/* ---- repeatable random numbers ---- */

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s;
}

static uint64_t rng_next(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static const char *rng_name(void)
{
	return "vledger-test-repeatable";
}

static uint32_t rng_random(void)
{
	return (uint32_t)(rng_next() >> 32);
}

static void rng_buf(void *const buf, const size_t size)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < size; i++)
		p[i] = (unsigned char)(rng_next() >> 56);
}

static randombytes_implementation rng_impl = { rng_name, rng_random, NULL, NULL, rng_buf, NULL };

/* ---- the fixture ---- */

typedef struct {
	char *dir;
	char home[2][512];
	char file[600];
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	vl_buf yaml = VL_BUF_INIT;
	int i;

	assert_non_null(f);
	f->dir = vt_tmpdir();
	setenv("VLEDGER_SCHEMA_DIR", VL_SOURCE_DIR "/schemas", 1);
	setenv("VLEDGER_FAKE_TIME_MS", "1650000000000", 1);
	snprintf(f->home[0], sizeof(f->home[0]), "%s/one", f->dir);
	snprintf(f->home[1], sizeof(f->home[1]), "%s/two", f->dir);
	assert_int_equal(vt_run(NULL, "'%s' -C '%s' init --name 彭水县民政局 --role county --scope " SCOPE
			" --new-network", VL_BINARY, f->home[0]), 0);
	assert_int_equal(vt_run(NULL, "cp -a '%s' '%s'", f->home[0], f->home[1]), 0);
	/* Residents with the required fields and some optional ones. */
	assert_int_equal(vl_buf_puts(&yaml, "records:\n"), 0);
	for (i = 0; i < NREC; i++)
		assert_int_equal(vl_buf_printf(&yaml, "  - name: \"居民%d\"\n    residence_kind: %s\n"
				"    address: \"%d 组 %d 号\"\n    source: worker_survey\n%s", i % 1000,
				i % 3 ? "registered" : "migrant", i % 17, i % 1000,
				i % 5 ? "    phone: \"13800001234\"\n" : ""), 0);
	snprintf(f->file, sizeof(f->file), "%s/residents.yaml", f->dir);
	vt_write(f->file, yaml.ptr, yaml.len);
	vl_buf_free(&yaml);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	vt_rmtree(f->dir);
	free(f->dir);
	free(f);
	unsetenv("VLEDGER_FAKE_TIME_MS");
	unsetenv("VLEDGER_THREADS");
	return 0;
}

/* Import the file into home h on `threads` threads, the random numbers
 * from the same seed; the branch head into *head. */
static void import_with(fixture *f, int h, const char *threads, git_oid *head)
{
	vl_import_opts o = VL_IMPORT_OPTS_INIT;
	vl_import_result r;
	vl_node *n = NULL;

	setenv("VLEDGER_THREADS", threads, 1);
	rng_seed(20221207);
	assert_int_equal(vl_node_open(&n, f->home[h], 1, NULL), 0);
	assert_int_equal(vl_node_load_config(n), 0);
	o.ledger = "resident";
	o.file = f->file;
	if (vl_import(n, &o, &r) != 0)
		fail_msg("import on %s thread(s): %s", threads, vl_error_last());
	assert_int_equal(r.committed, NREC);
	vl_import_result_free(&r);
	assert_int_equal(vl_repo_head(head, n->repo, VL_REF_SCOPE_PREFIX SCOPE), 0);
	vl_node_close(n);
}

/* The names in dir, sorted, one a line. */
static char *list_dir(const char *dir)
{
	char *out = NULL;

	assert_int_equal(vt_run(&out, "ls '%s'", dir), 0);
	return out;
}

static void test_one_thread_and_two_write_the_same(void **state)
{
	fixture *f = *state;
	git_oid one, two;
	char packs[2][600], *names[2], *line, *save = NULL;
	size_t k = 0;

	import_with(f, 0, "1", &one);
	import_with(f, 1, "2", &two);
	/* The same commits (ids cover records, trees, clocks, signatures). */
	if (!git_oid_equal(&one, &two)) {
		char a[GIT_OID_HEXSZ + 1], b[GIT_OID_HEXSZ + 1];
		fail_msg("heads differ: %s on one thread, %s on two", git_oid_tostr(a, sizeof(a), &one),
				git_oid_tostr(b, sizeof(b), &two));
	}
	/* The same packs, byte for byte (a pack is named by its checksum;
	 * compared whole all the same). */
	snprintf(packs[0], sizeof(packs[0]), "%s/repo.git/objects/pack", f->home[0]);
	snprintf(packs[1], sizeof(packs[1]), "%s/repo.git/objects/pack", f->home[1]);
	names[0] = list_dir(packs[0]);
	names[1] = list_dir(packs[1]);
	assert_string_equal(names[0], names[1]);
	for (line = strtok_r(names[0], "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(vt_run(NULL, "cmp '%s/%s' '%s/%s'", packs[0], line, packs[1], line), 0);
		k += strstr(line, ".pack") != NULL;
	}
	assert_true(k >= 3); /* a pack per commit of the import */
	free(names[0]);
	free(names[1]);
	/* The clocks saved alike, and what was written verifies (the
	 * records' signatures and blob ids, the commit chain). */
	assert_int_equal(vt_run(NULL, "cmp '%s/clock' '%s/clock'", f->home[0], f->home[1]), 0);
	assert_int_equal(vt_run(NULL, "'%s' -C '%s' verify --quiet", VL_BINARY, f->home[1]), 0);
}

/* Names keyed by address, as the import stored them. */
typedef struct {
	char addr[64][32];
	char name[64][64];
	size_t n;
} stored_names;

static int note_name(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	stored_names *sn = ctx;
	vl_record *r = NULL;
	const vl_value *a, *nm;

	(void)blob;
	assert_int_equal(vl_record_parse(&r, raw, len, path), 0);
	a = vl_value_map_get(r->data, "address");
	nm = vl_value_map_get(r->data, "name");
	assert_true(a && nm && a->kind == VL_V_STR && nm->kind == VL_V_STR && sn->n < 64);
	snprintf(sn->addr[sn->n], sizeof(sn->addr[0]), "%s", a->s);
	snprintf(sn->name[sn->n], sizeof(sn->name[0]), "%s", nm->s);
	sn->n++;
	vl_record_free(r);
	return 0;
}

/* Values double-quoted in an import file (as programs write them) are read
 * by the canonical reader when its emit differs only there: every value
 * stored is the one libyaml reads from the file, whatever it looks like
 * unquoted (a number, a boolean, null, a comment, a key). */
static void test_quoted_values_read_as_libyaml_reads_them(void **state)
{
	static const char *const names[] = { "赵明", "yes", "~", "null", "123", "1.5", "a: b", "#c", "-",
					     "[a]", "{a}", "0x10", "true", "2022-04-07", " lead", "trail ",
					     "'q'", "?x", "张 三", "@x", "%x", "!x", "*x",
					     "&x", "|", ">" };
	const size_t nn = sizeof(names) / sizeof(names[0]);
	fixture *f = *state;
	vl_import_opts o = VL_IMPORT_OPTS_INIT;
	vl_import_result r;
	vl_buf yaml = VL_BUF_INIT;
	vl_value *lib = NULL;
	const vl_value *list;
	stored_names sn;
	vl_node *n = NULL;
	git_oid head;
	char file[700];
	size_t i, k;

	memset(&sn, 0, sizeof(sn));
	/* Long enough records to be block mappings, as an import file's. */
	assert_int_equal(vl_buf_puts(&yaml, "records:\n"), 0);
	for (i = 0; i < nn; i++)
		assert_int_equal(vl_buf_printf(&yaml, "  - name: \"%s\"\n    residence_kind: \"registered\"\n"
				"    address: \"第 %zu 组\"\n    source: \"worker_survey\"\n"
				"    notes: \"a note long enough for a block mapping\"\n", names[i], i), 0);
	snprintf(file, sizeof(file), "%s/quoted.yaml", f->dir);
	vt_write(file, yaml.ptr, yaml.len);
	if (vl_yaml_load_libyaml(&lib, yaml.ptr, yaml.len, &vl_yaml_file_limits, "quoted.yaml") != 0)
		fail_msg("libyaml: %s", vl_error_last());
	list = vl_value_map_get(lib, "records");
	assert_true(list && list->kind == VL_V_LIST && list->n == nn);

	assert_int_equal(vl_node_open(&n, f->home[0], 1, NULL), 0);
	assert_int_equal(vl_node_load_config(n), 0);
	o.ledger = "resident";
	o.file = file;
	if (vl_import(n, &o, &r) != 0)
		fail_msg("import: %s", vl_error_last());
	vl_import_result_free(&r);
	assert_int_equal(vl_repo_head(&head, n->repo, VL_REF_SCOPE_PREFIX SCOPE), 0);
	assert_int_equal(vl_ledger_each(n, &head, "resident", note_name, &sn), 0);
	assert_int_equal(sn.n, nn);
	for (i = 0; i < nn; i++) {
		const vl_value *want = vl_value_map_get(list->items[i], "name");
		const vl_value *addr = vl_value_map_get(list->items[i], "address");
		for (k = 0; k < sn.n && strcmp(sn.addr[k], addr->s) != 0; k++)
			;
		assert_true(k < sn.n);
		assert_true(want && want->kind == VL_V_STR);
		if (strcmp(sn.name[k], want->s) != 0)
			fail_msg("record %zu: stored name '%s' differs from libyaml's reading of the file '%s'", i,
					sn.name[k], want->s);
	}
	vl_node_close(n);
	vl_value_free(lib);
	vl_buf_free(&yaml);
}

/* A pack whose count was said up front (its checksum computed as it was
 * written) and one that ended with another count than said (read back at
 * finish) are both whole packs to stock git. */
static void test_pack_count_said_up_front(void **state)
{
	fixture *f = *state;
	char git[600], objects[700], *out = NULL;
	git_repository *repo = NULL;
	vl_packw *w = NULL;
	git_oid id;
	int said, st;

	(void)state;
	snprintf(git, sizeof(git), "%s/p.git", f->dir);
	snprintf(objects, sizeof(objects), "%s/objects", git);
	assert_int_equal(vl_repo_init(&repo, git), 0);
	for (said = 2; said <= 3; said++) {
		char blob[64];
		int i;
		assert_int_equal(vl_packw_open(&w, objects, 0), 0);
		assert_int_equal(vl_packw_expect(w, (size_t)said), 0);
		for (i = 0; i < 2; i++) {
			snprintf(blob, sizeof(blob), "said %d, blob %d\n", said, i);
			assert_int_equal(vl_packw_add(&id, w, GIT_OBJECT_BLOB, blob, strlen(blob)), 0);
		}
		/* Too late once an object is in. */
		assert_int_equal(vl_packw_expect(w, 2), VL_ERROR);
		assert_int_equal(vl_packw_finish(NULL, w), 0);
		vl_packw_free(w);
		w = NULL;
	}
	st = vt_run(&out, "for i in '%s'/pack/*.idx; do git verify-pack \"$i\" || exit 1; done 2>&1 && "
			"git --git-dir='%s' fsck --strict --full 2>&1", objects, git);
	if (st != 0)
		fail_msg("stock git refuses a pack: %s", out ? out : "");
	free(out);
	assert_int_equal(vt_run(&out, "ls '%s'/pack/*.pack | wc -l", objects), 0);
	assert_int_equal(strtol(out, NULL, 10), 2);
	free(out);
	git_repository_free(repo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_thread_and_two_write_the_same, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_count_said_up_front, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quoted_values_read_as_libyaml_reads_them, setup, teardown),
	};

	/* Before anything starts libsodium; then started here, as its start
	 * draws random bytes once (its guard-page canary). */
	if (randombytes_set_implementation(&rng_impl) != 0 || sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
