/*
 * test_index.c - the record id index (agent/node/idindex.h) behind
 * vl_ledger_places, on a real network made with the binary: a county that
 * holds two villages' branches.
 *
 * What must hold: the index answers as a scan of every branch would, also
 * when the branches moved under it (another process's commit, a receive, a
 * branch set back, an old head that is gone); a damaged or tampered file
 * is never believed (truncated, garbage, a flipped byte, an entry pointing
 * to the wrong branch or to a record that does not exist, an entry removed
 * so that a duplicate id would hide); it can say an id is in two places;
 * processes that use it at once (one under the write lock) all answer
 * right and leave a good file. An incrementally kept index holds exactly
 * what a rebuild holds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <git2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forge.h"
#include "agent/node/idindex.h"
#include "agent/node/ledger.h"
#include "agent/node/node.h"
#include "store/repo.h"
#include "testutil.h"

#define V1_REF VL_REF_SCOPE_PREFIX VF_V1_CODE
#define V2_REF VL_REF_SCOPE_PREFIX VF_V2_CODE

static char *g_template;
static char g_v1[3][VL_ULID_LEN + 1], g_v2[2][VL_ULID_LEN + 1];

typedef struct {
	char *dir;
	char county[512], village[512], village2[512], ipath[600];
} fx;

static void set_paths(fx *f, const char *dir)
{
	vf_path_in(f->county, sizeof(f->county), dir, "county");
	vf_path_in(f->village, sizeof(f->village), dir, "village");
	vf_path_in(f->village2, sizeof(f->village2), dir, "village2");
	vf_path_in(f->ipath, sizeof(f->ipath), f->county, VL_IDX_FILE);
}

static int group_setup(void **state)
{
	fx f;
	char town[512];

	(void)state;
	vf_env_init();
	memset(&f, 0, sizeof(f));
	g_template = vt_tmpdir();
	set_paths(&f, g_template);
	vf_path_in(town, sizeof(town), g_template, "town");
	vf_network(g_template, f.county, town, "township", f.village, f.village2);
	vf_add_zone(g_v1[0], f.village, "Z1");
	vf_add_zone(g_v1[1], f.village, "Z2");
	vf_add_zone(g_v1[2], f.village, "Z3");
	vf_add_zone(g_v2[0], f.village2, "Z4");
	vf_add_zone(g_v2[1], f.village2, "Z5");
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
	unlink(f->ipath); /* each test says how its index came to be */
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

/* ---- helpers ------------------------------------------------------------- */

static vl_node *open_county(const fx *f)
{
	vl_node *n = NULL;

	vf_forger_open(&n, NULL, f->county);
	return n;
}

/* How many places id has on n; the first goes to first (if wanted). */
static size_t places(vl_node *n, const char *id, vl_place *first)
{
	vl_place at[4];
	size_t count = 99;

	assert_int_equal(vl_ledger_places(at, 4, &count, n, n->repo, id), 0);
	if (first && count)
		*first = at[0];
	return count;
}

/* id is in exactly one place on a freshly opened county: ledger zone on
 * the branch of scope. */
static void expect_one(const fx *f, const char *id, const char *scope)
{
	vl_node *n = open_county(f);
	vl_place p;

	assert_int_equal(places(n, id, &p), 1);
	assert_string_equal(p.scope, scope);
	assert_string_equal(p.ledger, "zone");
	vl_node_close(n);
}

static void expect_none(const fx *f, const char *id)
{
	vl_node *n = open_county(f);

	assert_int_equal(places(n, id, NULL), 0);
	vl_node_close(n);
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What an index file says, one sorted line per entry ("<id hex> <scope>
 * <ledger>"), independent of how its tables are numbered. Fails the test
 * unless the file parses. */
static char *describe(const char *path)
{
	size_t len = 0, nb, nl, ne, hl, i, nlines = 0;
	unsigned char *p = (unsigned char *)vt_read(path, &len);
	vl_idindex *x = NULL;
	char **lines;
	vl_buf out = VL_BUF_INIT;

	assert_int_equal(vl_idindex_parse(&x, p, len), 0);
	vl_idindex_free(x);
	nb = p[8] | p[9] << 8;
	nl = p[12] | p[13] << 8;
	ne = (size_t)p[16] | (size_t)p[17] << 8 | (size_t)p[18] << 16;
	hl = 24 + nb * 32 + nl * 32 + 257 * 4 + 256 * 16 + 32;
	lines = calloc(ne + 1, sizeof(*lines));
	assert_non_null(lines);
	for (i = 0; i < ne; i++) {
		const unsigned char *e = p + hl + i * 20;
		unsigned b = e[16] | e[17] << 8, l = e[18] | e[19] << 8;
		char hex[33], line[128];
		size_t k;
		for (k = 0; k < 16; k++)
			snprintf(hex + 2 * k, 3, "%02x", e[k]);
		snprintf(line, sizeof(line), "%s %.12s %.32s\n", hex, (const char *)p + 24 + b * 32,
				(const char *)p + 24 + nb * 32 + l * 32);
		lines[nlines++] = strdup(line);
	}
	qsort(lines, nlines, sizeof(*lines), line_cmp);
	for (i = 0; i < nlines; i++) {
		assert_int_equal(vl_buf_puts(&out, lines[i]), 0);
		free(lines[i]);
	}
	free(lines);
	free(p);
	if (!out.ptr)
		assert_int_equal(vl_buf_puts(&out, ""), 0);
	return out.ptr;
}

/* The file on disk as it is now holds exactly what a rebuild of n's
 * index from the branches holds (which then replaces it). */
static void expect_file_equals_rebuild(vl_node *n, const fx *f)
{
	char *kept = describe(f->ipath), *rebuilt;

	assert_int_equal(vl_idindex_refresh(n, 1), 0);
	rebuilt = describe(f->ipath);
	assert_string_equal(kept, rebuilt);
	free(kept);
	free(rebuilt);
}

/* The file on disk, brought up to date from where it stands (a diff per
 * moved branch), holds exactly what a rebuild from the branches holds. */
static void expect_file_is_rebuild(const fx *f)
{
	vl_node *n = open_county(f);

	assert_int_equal(vl_idindex_refresh(n, 0), 0);
	expect_file_equals_rebuild(n, f);
	vl_node_close(n);
}

/* Build the index file with the branches as they are. */
static void build(const fx *f)
{
	vl_node *n = open_county(f);

	assert_int_equal(vl_idindex_refresh(n, 1), 0);
	vl_node_close(n);
	assert_int_equal(access(f->ipath, R_OK), 0);
}

/* Recompute the checksums of an index file in place: the header's always,
 * the sections' when sections is set (a tamperer who knows the format). */
static void reseal(unsigned char *p, size_t len, int sections)
{
	size_t nb = p[8] | p[9] << 8, nl = p[12] | p[13] << 8, k;
	size_t hl = 24 + nb * 32 + nl * 32 + 257 * 4 + 256 * 16 + 32;
	unsigned char *starts = p + 24 + nb * 32 + nl * 32, *sums = starts + 257 * 4;

	assert_true(len >= hl);
	for (k = 0; sections && k < 256; k++) {
		uint32_t a = starts[4 * k] | starts[4 * k + 1] << 8 | starts[4 * k + 2] << 16;
		uint32_t b = starts[4 * k + 4] | starts[4 * k + 5] << 8 | starts[4 * k + 6] << 16;
		crypto_generichash(sums + 16 * k, 16, p + hl + (size_t)a * 20, (size_t)(b - a) * 20, NULL, 0);
	}
	crypto_generichash(p + hl - 32, 32, p, hl - 32, NULL, 0);
}

/* Offset of the (first) entry of id in an index file's bytes. */
static size_t entry_of(const unsigned char *p, size_t len, const char *id)
{
	size_t nb = p[8] | p[9] << 8, nl = p[12] | p[13] << 8, i;
	size_t hl = 24 + nb * 32 + nl * 32 + 257 * 4 + 256 * 16 + 32;
	static const char cf[] = "0123456789abcdefghjkmnpqrstvwxyz";
	unsigned char key[16];
	uint64_t hi = 0, lo = 0;

	for (i = 0; i < VL_ULID_LEN; i++) {
		uint64_t v = (uint64_t)(strchr(cf, id[i]) - cf);
		hi = hi << 5 | lo >> 59;
		lo = lo << 5 | v;
	}
	for (i = 0; i < 8; i++) {
		key[i] = (unsigned char)(hi >> (56 - 8 * i));
		key[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
	}
	for (i = hl; i + 20 <= len; i += 20)
		if (!memcmp(p + i, key, 16))
			return i;
	fail_msg("no entry for the id in the index");
	return 0;
}

/* Put id's zone record file (any bytes: the index counts paths) on ref of
 * the county by a commit made here, as another writer would. */
static git_oid put_record(vl_node *n, const char *ref, const char *id)
{
	char path[128];

	vf_rec_path(path, sizeof(path), "zone", id);
	return vf_forge_file(n->repo, ref, n->fp, NULL, path, "x: 1\n", 5, GIT_FILEMODE_BLOB, "");
}

/* ---- tests --------------------------------------------------------------- */

/* Every record is found on its own branch, through the index, which is
 * written on first use; a valid id that is nowhere is in no place. */
static void test_finds_every_record(void **state)
{
	fx *f = *state;
	vl_node *n;
	vl_place at[1];
	size_t count;
	char *out, args[128];

	expect_one(f, g_v1[0], VF_V1_CODE);
	assert_int_equal(access(f->ipath, R_OK), 0);
	expect_one(f, g_v1[2], VF_V1_CODE);
	expect_one(f, g_v2[1], VF_V2_CODE);
	expect_none(f, "01arz3ndektsv4rrffq69g5fav");
	n = open_county(f);
	assert_int_equal(vl_ledger_places(at, 1, &count, n, n->repo, "NOT-AN-ID"), VL_EINVALID);
	vl_node_close(n);
	snprintf(args, sizeof(args), "show %s", g_v2[0]);
	out = vf_ok(f->county, args);
	vf_must_contain(out, "Z4", "vledger show");
	free(out);
	expect_file_is_rebuild(f);
}

/* Branches moved by other processes (a village's new record received by
 * the county, a record of the county's own, an edit) are seen by a
 * process that loaded the index before they moved, and by new ones. */
static void test_stale_after_other_processes(void **state)
{
	fx *f = *state;
	vl_node *n;
	char id[VL_ULID_LEN + 1], own[VL_ULID_LEN + 1], args[128];
	char *out;

	build(f);
	n = open_county(f);
	assert_int_equal(places(n, g_v1[0], NULL), 1);
	vf_add_zone(id, f->village, "Z6");
	snprintf(args, sizeof(args), "edit %s --set designation=controlled", g_v1[1]);
	vf_ok_free(f->village, args);
	vf_fetch_home(f->county, f->village);
	vf_add_zone(own, f->county, "Z7");
	assert_int_equal(places(n, id, NULL), 1);
	assert_int_equal(places(n, own, NULL), 1);
	assert_int_equal(places(n, g_v1[1], NULL), 1);
	vl_node_close(n);
	expect_one(f, id, VF_V1_CODE);
	expect_one(f, own, VF_COUNTY_CODE);
	snprintf(args, sizeof(args), "show %s", id);
	out = vf_ok(f->county, args);
	vf_must_contain(out, "Z6", "vledger show");
	free(out);
	expect_file_is_rebuild(f);
}

/* A branch set back to an earlier commit loses the records added since;
 * a branch whose old head is gone is read again whole (not counted twice). */
static void test_branch_moved_back_or_old_head_gone(void **state)
{
	fx *f = *state;
	vl_node *n = open_county(f);
	git_oid before = vf_head_of(n->repo, V1_REF), with_y;
	char y[VL_ULID_LEN + 1], z[VL_ULID_LEN + 1], obj[700], hex[GIT_OID_HEXSZ + 1];

	vf_new_id(y);
	vf_new_id(z);
	with_y = put_record(n, V1_REF, y);
	assert_int_equal(places(n, y, NULL), 1);
	vl_node_close(n);

	/* Set back: y is gone. */
	n = open_county(f);
	vf_move_ref(n->repo, V1_REF, &before);
	assert_int_equal(places(n, y, NULL), 0);
	assert_int_equal(places(n, g_v1[0], NULL), 1);
	vl_node_close(n);
	expect_file_is_rebuild(f);

	/* Index at with_y, then the branch goes elsewhere and with_y's
	 * commit object disappears. */
	n = open_county(f);
	vf_move_ref(n->repo, V1_REF, &with_y);
	assert_int_equal(places(n, y, NULL), 1);
	vf_move_ref(n->repo, V1_REF, &before);
	put_record(n, V1_REF, z);
	vl_node_close(n);
	git_oid_tostr(hex, sizeof(hex), &with_y);
	snprintf(obj, sizeof(obj), "%s/repo.git/objects/%.2s/%s", f->county, hex, hex + 2);
	assert_int_equal(unlink(obj), 0);
	/* One process: what it brought up to date is what it answers from. */
	n = open_county(f);
	assert_int_equal(places(n, z, NULL), 1);
	assert_int_equal(places(n, g_v1[0], NULL), 1);
	assert_int_equal(places(n, g_v1[2], NULL), 1);
	assert_int_equal(places(n, y, NULL), 0);
	vl_node_close(n);
	expect_file_is_rebuild(f);
}

/* An id on two branches is reported in two places, by the index and by
 * `vledger show`, which refuses to pick one. */
static void test_two_places(void **state)
{
	fx *f = *state;
	vl_node *n;
	vl_found found;
	char args[1200];
	char *out = NULL;

	build(f);
	n = open_county(f);
	put_record(n, V2_REF, g_v1[0]);
	assert_int_equal(places(n, g_v1[0], NULL), 2);
	memset(&found, 0, sizeof(found));
	assert_int_equal(vl_ledger_find(&found, n, g_v1[0]), VL_ECONFLICT);
	vl_node_close(n);
	snprintf(args, sizeof(args), "'%s' -C '%s' show %s 2>&1", VL_BINARY, f->county, g_v1[0]);
	assert_int_not_equal(vt_run(&out, "%s", args), 0);
	vf_must_contain(out, "in two places", "vledger show");
	free(out);
	expect_file_is_rebuild(f);
}

/* Damage of any kind: the answer is right and the file is rebuilt. */
typedef enum { T_TRUNCATE, T_GARBAGE, T_FLIP, T_LEDGER_NAME, T_WRONG_BRANCH, T_NO_SUCH_RECORD, T_HIDE_DUPLICATE } tamper;

static void tamper_with(const fx *f, tamper how)
{
	size_t len = 0, e;
	unsigned char *p = (unsigned char *)vt_read(f->ipath, &len);

	switch (how) {
	case T_TRUNCATE:
		len -= 7;
		break;
	case T_GARBAGE:
		memset(p + 8, 0x5a, len - 8);
		break;
	case T_FLIP:
		p[entry_of(p, len, g_v1[1]) + 3] ^= 1;
		break;
	case T_LEDGER_NAME:
		/* "zone" -> "yone" in the header (its checksum not fixed): every
		 * zone entry would name a ledger without a schema. */
		p[24 + (size_t)(p[8] | p[9] << 8) * 32] = 'y';
		break;
	case T_WRONG_BRANCH: {
		/* g_v1[1]'s entry now says the village 2 branch (branch
		 * numbers: county, town?, v1, v2 in scope order: v2 is v1 + 1). */
		e = entry_of(p, len, g_v1[1]);
		p[e + 16]++;
		reseal(p, len, 1);
		break;
	}
	case T_NO_SUCH_RECORD:
		/* g_v1[1]'s entry now names fake_id() (bit 8 flipped: the
		 * entries stay in order), which is nowhere. */
		e = entry_of(p, len, g_v1[1]);
		p[e + 14] ^= 1;
		reseal(p, len, 1);
		break;
	case T_HIDE_DUPLICATE: {
		/* g_v1[0] is also on the village 2 branch (put there after the
		 * build, below): drop one of its two entries, fix the counts and
		 * the header checksum, not the section's. */
		size_t nb = p[8] | p[9] << 8, nl = p[12] | p[13] << 8, k, k0;
		unsigned char *starts = p + 24 + nb * 32 + nl * 32;
		uint32_t ne;
		e = entry_of(p, len, g_v1[0]);
		k0 = p[e + 15];
		memmove(p + e, p + e + 20, len - e - 20);
		len -= 20;
		ne = (uint32_t)(p[16] | p[17] << 8 | p[18] << 16) - 1;
		p[16] = (unsigned char)ne;
		p[17] = (unsigned char)(ne >> 8);
		p[18] = (unsigned char)(ne >> 16);
		for (k = 0; k <= 256; k++) {
			uint32_t s = starts[4 * k] | starts[4 * k + 1] << 8 | starts[4 * k + 2] << 16;
			if (k > k0) {
				s--;
				starts[4 * k] = (unsigned char)s;
				starts[4 * k + 1] = (unsigned char)(s >> 8);
				starts[4 * k + 2] = (unsigned char)(s >> 16);
			}
		}
		reseal(p, len, 0);
		break;
	}
	}
	vt_write(f->ipath, (const char *)p, len);
	free(p);
}

/* g_v1[1] with bit 8 of its value flipped (character 24, value bit 3). */
static void fake_id(char out[VL_ULID_LEN + 1])
{
	static const char cf[] = "0123456789abcdefghjkmnpqrstvwxyz";

	memcpy(out, g_v1[1], VL_ULID_LEN + 1);
	out[24] = cf[(strchr(cf, out[24]) - cf) ^ 8];
}

/*
 * The lookups of run_tamper by a process that holds the index under the
 * write lock, as receive does, one branch after another: a damaged file is
 * rebuilt, a wrong entry is an error that makes vl_ledger_places scan, and
 * an index proved wrong is not believed by the next branch's hold either;
 * every answer is right. `many` lookups of absent ids come first: past the
 * hold's section reads, the loaded index answers.
 */
static void expect_held(const fx *f, const char *fake, int many)
{
	vl_node *n = open_county(f);
	vl_place p;
	char absent[VL_ULID_LEN + 1];
	int i;

	assert_int_equal(vl_node_lock_write(n), 0);
	vl_idindex_hold(n);
	for (i = 0; i < many; i++) {
		vf_new_id(absent);
		assert_int_equal(places(n, absent, NULL), 0);
	}
	assert_int_equal(places(n, fake, NULL), 0);
	vl_idindex_release(n);
	vl_idindex_hold(n);
	assert_int_equal(places(n, g_v1[1], &p), 1);
	assert_string_equal(p.scope, VF_V1_CODE);
	assert_int_equal(places(n, g_v1[0], &p), 1);
	assert_string_equal(p.scope, VF_V1_CODE);
	assert_int_equal(places(n, g_v2[0], &p), 1);
	assert_string_equal(p.scope, VF_V2_CODE);
	vl_idindex_release(n);
	vl_node_close(n);
}

static void run_tamper(const fx *f, tamper how)
{
	char *before, *tampered, fake[VL_ULID_LEN + 1];
	size_t tlen = 0;

	build(f);
	before = describe(f->ipath);
	tamper_with(f, how);
	tampered = vt_read(f->ipath, &tlen);
	{
		vl_idindex *x = NULL;
		size_t len = 0;
		unsigned char *p = (unsigned char *)vt_read(f->ipath, &len);
		int rc = vl_idindex_parse(&x, p, len);
		/* Resealed wrong entries parse: only the branches disprove them. */
		if (how == T_WRONG_BRANCH || how == T_NO_SUCH_RECORD)
			assert_int_equal(rc, 0);
		else
			assert_int_not_equal(rc, 0);
		vl_idindex_free(x);
		free(p);
	}
	/* The entry of the record that is not there is disproved on the
	 * branch and the index rebuilt; only then is g_v1[1] found again. */
	fake_id(fake);
	if (how != T_HIDE_DUPLICATE) { /* its duplicate is put on the branch after */
		/* A hold may rebuild the file: the tampered bytes go back each time. */
		expect_held(f, fake, 0);
		vt_write(f->ipath, tampered, tlen);
		expect_held(f, fake, 70);
		vt_write(f->ipath, tampered, tlen);
	}
	free(tampered);
	expect_none(f, fake);
	expect_one(f, g_v1[1], VF_V1_CODE);
	expect_one(f, g_v1[0], VF_V1_CODE);
	expect_one(f, g_v2[0], VF_V2_CODE);
	{
		char *after = describe(f->ipath);
		assert_string_equal(before, after);
		free(after);
	}
	free(before);
}

static void test_tamper_truncated(void **state) { run_tamper(*state, T_TRUNCATE); }
static void test_tamper_garbage(void **state) { run_tamper(*state, T_GARBAGE); }
static void test_tamper_flipped_byte(void **state) { run_tamper(*state, T_FLIP); }
static void test_tamper_ledger_name(void **state) { run_tamper(*state, T_LEDGER_NAME); }
static void test_tamper_wrong_branch(void **state) { run_tamper(*state, T_WRONG_BRANCH); }
static void test_tamper_no_such_record(void **state) { run_tamper(*state, T_NO_SUCH_RECORD); }

/* The same by the binary, the entry naming a wrong branch: show answers
 * from the right one. */
static void test_tamper_wrong_branch_show(void **state)
{
	fx *f = *state;
	char args[128];
	char *out;

	build(f);
	tamper_with(f, T_WRONG_BRANCH);
	snprintf(args, sizeof(args), "show %s", g_v1[1]);
	out = vf_ok(f->county, args);
	vf_must_contain(out, "Z2", "vledger show");
	free(out);
}

/* An entry removed so that a duplicate id would hide: the section no
 * longer matches its checksum, so the index is rebuilt and the two places
 * are found (show refuses to pick one). */
static void test_tamper_hidden_duplicate(void **state)
{
	fx *f = *state;
	vl_node *n = open_county(f);
	char args[1200];
	char *out = NULL;

	put_record(n, V2_REF, g_v1[0]);
	vl_node_close(n);
	build(f);
	tamper_with(f, T_HIDE_DUPLICATE);
	n = open_county(f);
	assert_int_equal(places(n, g_v1[0], NULL), 2);
	vl_node_close(n);
	snprintf(args, sizeof(args), "'%s' -C '%s' show %s 2>&1", VL_BINARY, f->county, g_v1[0]);
	assert_int_not_equal(vt_run(&out, "%s", args), 0);
	vf_must_contain(out, "in two places", "vledger show");
	free(out);
	expect_file_is_rebuild(f);
}

/*
 * One process holds the write lock and the index (as receive does while
 * it verifies a branch) while other processes show records at once and
 * rewrite the file; then it moves a branch, lets go, and sees the move.
 * Shows running together on a stale file all answer and leave a good one.
 */
static void test_concurrent_use(void **state)
{
	fx *f = *state;
	vl_node *n = open_county(f);
	char id[VL_ULID_LEN + 1], late[VL_ULID_LEN + 1];
	char *out = NULL;
	int i;

	assert_int_equal(vl_node_lock_write(n), 0);
	vl_idindex_hold(n);
	assert_int_equal(places(n, g_v1[0], NULL), 1);
	assert_int_equal(vt_run(&out, "for i in 1 2 3 4; do ('%s' -C '%s' show %s >/dev/null || echo FAIL) & "
			"('%s' -C '%s' show %s >/dev/null || echo FAIL) & done; wait", VL_BINARY, f->county, g_v1[2],
			VL_BINARY, f->county, g_v2[1]), 0);
	vf_must_not_contain(out, "FAIL", "parallel shows");
	free(out);
	for (i = 0; i < 3; i++)
		assert_int_equal(places(n, g_v1[i], NULL), 1);
	/* A branch moved under the lock by this process, as a receive does
	 * after a branch passed. */
	vf_new_id(id);
	put_record(n, V1_REF, id);
	vl_idindex_release(n);
	assert_int_equal(places(n, id, NULL), 1);
	vl_node_close(n);

	/* Stale for every process now. */
	vf_add_zone(late, f->village2, "Z8");
	vf_fetch_home(f->county, f->village2);
	out = NULL;
	assert_int_equal(vt_run(&out, "for i in 1 2 3 4; do ('%s' -C '%s' show %s >/dev/null || echo FAIL) & done; "
			"wait", VL_BINARY, f->county, late), 0);
	vf_must_not_contain(out, "FAIL", "parallel shows");
	free(out);
	expect_one(f, late, VF_V2_CODE);
	expect_one(f, id, VF_V1_CODE);
	expect_file_is_rebuild(f);
}

/*
 * While held (receive verifying a branch), a few lookups read their
 * sections of the file and leave it as it is, also when a branch moved
 * since it was written; many lookups bring it up to date and save it
 * once, and what is saved is what a rebuild holds.
 */
static void test_hold_reads_sections(void **state)
{
	fx *f = *state;
	vl_node *n;
	char id[VL_ULID_LEN + 1], absent[VL_ULID_LEN + 1];
	char *before, *after;
	size_t blen = 0, alen = 0;
	int i;

	build(f);
	n = open_county(f);
	vf_new_id(id);
	put_record(n, V1_REF, id); /* the file is one branch behind now */
	assert_int_equal(vl_node_lock_write(n), 0);
	before = vt_read(f->ipath, &blen);
	vl_idindex_hold(n);
	assert_int_equal(places(n, id, NULL), 1);
	assert_int_equal(places(n, g_v2[0], NULL), 1);
	fake_id(absent);
	assert_int_equal(places(n, absent, NULL), 0);
	after = vt_read(f->ipath, &alen);
	assert_true(alen == blen && !memcmp(before, after, blen));
	free(after);
	for (i = 0; i < 200; i++) {
		vf_new_id(absent);
		assert_int_equal(places(n, absent, NULL), 0);
	}
	assert_int_equal(places(n, id, NULL), 1);
	assert_int_equal(places(n, g_v1[2], NULL), 1);
	after = vt_read(f->ipath, &alen);
	assert_false(alen == blen && !memcmp(before, after, blen));
	free(after);
	free(before);
	vl_idindex_release(n);
	expect_file_equals_rebuild(n, f);
	vl_node_close(n);
}

/* More branches moved than a lookup looks at on its own: the index is
 * brought up to date whole and written. */
static void test_many_moved_branches(void **state)
{
	fx *f = *state;
	vl_node *n = open_county(f);
	char ids[12][VL_ULID_LEN + 1], ref[64], scope[13];
	char *kept;
	int i;

	build(f);
	for (i = 0; i < 12; i++) {
		snprintf(scope, sizeof(scope), "5002430020%02d", i + 1);
		vl_scope_ref(ref, scope);
		vf_new_id(ids[i]);
		put_record(n, ref, ids[i]);
	}
	vl_node_close(n);
	expect_one(f, ids[11], "500243002012");
	kept = describe(f->ipath);
	vf_must_contain(kept, "500243002001 zone", "the index file");
	vf_must_contain(kept, "500243002012 zone", "the index file");
	free(kept);
	for (i = 0; i < 12; i++) {
		snprintf(scope, sizeof(scope), "5002430020%02d", i + 1);
		expect_one(f, ids[i], scope);
	}
	expect_one(f, g_v1[0], VF_V1_CODE);
	expect_file_is_rebuild(f);
}

/* A home whose cache/ cannot be written still answers (the index lives in
 * memory only). */
static void test_read_only_cache(void **state)
{
	fx *f = *state;
	char cache[600];

	vf_path_in(cache, sizeof(cache), f->county, "cache");
	assert_int_equal(vt_run(NULL, "chmod a-w '%s'", cache), 0);
	expect_one(f, g_v2[0], VF_V2_CODE);
	expect_none(f, "01arz3ndektsv4rrffq69g5fav");
	assert_int_equal(vt_run(NULL, "chmod u+w '%s'", cache), 0);
	if (geteuid() != 0)
		assert_int_not_equal(access(f->ipath, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_finds_every_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_after_other_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_branch_moved_back_or_old_head_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_places, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_flipped_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_ledger_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_wrong_branch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_no_such_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_wrong_branch_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_hidden_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_moved_branches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_reads_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_cache, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
