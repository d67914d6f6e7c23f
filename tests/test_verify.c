/*
 * test_verify.c - `vledger verify` (agent/audit/verify.c) and `vledger fetch`
 * (agent/cmd/cmd_fetch.c) against forged history: the attacks of
 * docs/threats.md, built with libgit2 and the store library on
 * top of a real county + village network made with the real binary.
 *
 * The network is made once (group setup, with the binary: init, export
 * network, roster add, fetch, add, edit) and copied into a fresh scratch
 * directory for every test, like libgit2's clar sandboxes: each test forges
 * on its own copy. Every attack must be caught twice: by the binary (exit 4,
 * the report names the problem and the commit) and by vl_verify_all in this
 * process (failures > 0, same report). Fetch refusals must leave the
 * receiving repository as it was: the same refs (git for-each-ref) and the
 * same loose objects and packs. Keys are plain (not passphrase-sealed) to
 * keep the run fast. VT_VERBOSE=1 prints every report the binary gives.
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
#include "store/record.h"
#include "store/repo.h"
#include "store/sshsig.h"
#include "testutil.h"
#include "agent/audit/verify.h"
#include "store/yaml.h"

#define COUNTY_CODE "500243000000"
#define V1_CODE "500243001001"
#define V2_CODE "500243001002"
#define V3_CODE "500243001003"
#define V1_REF VL_REF_SCOPE_PREFIX V1_CODE
#define V2_REF VL_REF_SCOPE_PREFIX V2_CODE
#define SHORT_ID 12 /* the report names commits by their first 12 hex digits */

/* ---- the template network (made once) ---------------------------------- */

static char *g_template;
/* Zone records of the village: z[0] was edited once (its head version
 * replaces an older one), z[1] and z[2] were added once. */
static char g_zone[3][VL_ULID_LEN + 1];

/* One test's copy of the template. */
typedef struct {
	char *dir;
	char county[512], village[512], village2[512], joiner[512], other[512];
	char vrepo[600], crepo[600], jrepo[600], orepo[600];
	char signers[512];
	vl_node *v;  /* the village node, with its key; v->repo is where we forge */
	char v_fp[VL_FP_LEN];
} fx;

static void set_paths(fx *f, const char *dir)
{
	vf_path_in(f->county, sizeof(f->county), dir, "county");
	vf_path_in(f->village, sizeof(f->village), dir, "village");
	vf_path_in(f->village2, sizeof(f->village2), dir, "village2");
	vf_path_in(f->joiner, sizeof(f->joiner), dir, "joiner");
	vf_path_in(f->other, sizeof(f->other), dir, "other");
	vf_path_in(f->signers, sizeof(f->signers), dir, "allowed_signers");
	vf_path_in(f->vrepo, sizeof(f->vrepo), f->village, "repo.git");
	vf_path_in(f->crepo, sizeof(f->crepo), f->county, "repo.git");
	vf_path_in(f->jrepo, sizeof(f->jrepo), f->joiner, "repo.git");
	vf_path_in(f->orepo, sizeof(f->orepo), f->other, "repo.git");
}

static int group_setup(void **state)
{
	fx f;
	char args[1024], net[600];

	(void)state;
	vf_env_init();
	memset(&f, 0, sizeof(f));
	g_template = vt_tmpdir();
	set_paths(&f, g_template);
	vf_path_in(net, sizeof(net), g_template, "network.yaml");

	vf_ok_free(f.county, "init --name County --role county --scope " COUNTY_CODE " --new-network");
	snprintf(args, sizeof(args), "export network --output '%s'", net);
	vf_ok_free(f.county, args);
	snprintf(args, sizeof(args), "init --name V1 --role village --scope " V1_CODE " --network '%s'", net);
	vf_ok_free(f.village, args);
	snprintf(args, sizeof(args), "init --name V2 --role village --scope " V2_CODE " --network '%s'", net);
	vf_ok_free(f.village2, args);
	/* A node that has joined (pinned our network) but fetched nothing yet. */
	snprintf(args, sizeof(args), "init --name V3 --role village --scope " V3_CODE " --network '%s'", net);
	vf_ok_free(f.joiner, args);
	/* Another network: same county code, its own root key. */
	vf_ok_free(f.other, "init --name Other --role county --scope " COUNTY_CODE " --new-network");

	vf_roster_add(f.county, f.village, "V1", "village", V1_CODE);
	vf_roster_add(f.county, f.village2, "V2", "village", V2_CODE);
	vf_fetch_ok(f.village, f.crepo);

	vf_add_zone(g_zone[0], f.village, "Z1");
	vf_add_zone(g_zone[1], f.village, "Z2");
	vf_add_zone(g_zone[2], f.village, "Z3");
	snprintf(args, sizeof(args), "edit %s --set designation=controlled", g_zone[0]);
	vf_ok_free(f.village, args);
	snprintf(args, sizeof(args), "export allowed-signers --output '%s'", f.signers);
	vf_ok_free(f.village, args);
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
	vf_forger_open(&f->v, f->v_fp, f->village);
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

/* ---- forging with libgit2 and the library ------------------------------ */

/* A fresh valid zone record signed by the village, and its path. */
static void village_zone(fx *f, vl_buf *file, char path[128], char id[VL_ULID_LEN + 1])
{
	vf_new_zone(file, &f->v->key, V1_CODE, path, id);
}

/* ---- the two verifiers -------------------------------------------------- */

/*
 * `vledger verify --quiet` at home, run twice: records checked on one
 * thread (VLEDGER_THREADS=1) and on two. Both runs must exit alike and
 * print the same bytes (the parallel report is exactly the serial one).
 */
static int run_verify(char **out, const char *home)
{
	char *serial = NULL;
	int rc1 = vt_run(&serial, "VLEDGER_THREADS=1 '%s' -C '%s' verify --quiet", VL_BINARY, home);
	int rc2 = vt_run(out, "VLEDGER_THREADS=2 '%s' -C '%s' verify --quiet", VL_BINARY, home);

	if (rc1 != rc2 || strcmp(serial, *out) != 0) {
		print_error("vledger verify on 1 thread (exit %d):\n%s\nand on 2 threads (exit %d):\n%s\n", rc1,
				serial, rc2, *out);
		fail();
	}
	free(serial);
	return rc2;
}

/* vl_verify_all at home with records checked on `threads` threads, whole
 * branches from branch_min scope branches on (0: the default). */
static void verify_lib_on(const char *home, unsigned threads, unsigned branch_min, vl_verify_result *res)
{
	vl_node *n = NULL;

	memset(res, 0, sizeof(*res));
	res->threads = threads;
	res->branch_min = branch_min;
	assert_int_equal(vl_node_open(&n, home, 0, NULL), 0);
	assert_int_equal(vl_verify_all(n, res), 0);
	vl_node_close(n);
}

/* Two results must be the same: counts, report, revocations, evidence. */
static void expect_same_result(const vl_verify_result *a, const vl_verify_result *b)
{
	assert_int_equal(a->branches, b->branches);
	assert_int_equal(a->commits, b->commits);
	assert_int_equal(a->merges, b->merges);
	assert_int_equal(a->records, b->records);
	assert_int_equal(a->failures, b->failures);
	assert_string_equal(a->report.ptr ? a->report.ptr : "", b->report.ptr ? b->report.ptr : "");
	assert_string_equal(a->revocations.ptr ? a->revocations.ptr : "",
			b->revocations.ptr ? b->revocations.ptr : "");
	assert_int_equal(a->nevidence, b->nevidence);
	if (a->nevidence)
		assert_memory_equal(a->evidence, b->evidence, a->nevidence * sizeof(*a->evidence));
}

/* vl_verify_all at home, serial, on two threads sharing each branch's
 * records, and on two threads taking whole branches: the same result, of
 * which the failures and the report are returned. */
static void verify_lib(const char *home, size_t *failures, char **report)
{
	vl_verify_result serial, parallel, branches;

	verify_lib_on(home, 1, 0, &serial);
	verify_lib_on(home, 2, 0, &parallel);
	verify_lib_on(home, 2, 1, &branches);
	expect_same_result(&serial, &parallel);
	expect_same_result(&serial, &branches);
	vl_verify_result_free(&branches);
	*failures = parallel.failures;
	*report = strdup(parallel.report.ptr ? parallel.report.ptr : "");
	assert_non_null(*report);
	vl_verify_result_free(&serial);
	vl_verify_result_free(&parallel);
}

/*
 * Both verifiers must fail the node at home, naming `what` and (when given)
 * the forged commit; `not` (optional) must not be named (e.g. the good
 * commit on top of a bad one).
 */
static void expect_caught_at(const char *home, const char *what, const git_oid *bad, const git_oid *not)
{
	char *out = NULL, *report = NULL;
	char idbuf[GIT_OID_HEXSZ + 1], nbuf[GIT_OID_HEXSZ + 1];
	size_t failures = 0;
	int rc = run_verify(&out, home);

	if (rc != 4) {
		print_error("vledger verify exited %d, expected 4 (verification failed):\n%s\n", rc, out);
		free(out);
		fail();
	}
	if (getenv("VT_VERBOSE"))
		print_message("%s", out);
	vf_must_contain(out, what, "vledger verify");
	if (bad) {
		git_oid_tostr(idbuf, SHORT_ID + 1, bad);
		vf_must_contain(out, idbuf, "vledger verify (forged commit)");
	}
	if (not) {
		git_oid_tostr(nbuf, SHORT_ID + 1, not);
		vf_must_not_contain(out, nbuf, "vledger verify (good commit)");
	}
	verify_lib(home, &failures, &report);
	if (failures == 0) {
		print_error("vl_verify_all found nothing wrong\n");
		fail();
	}
	vf_must_contain(report, what, "vl_verify_all");
	if (bad)
		vf_must_contain(report, idbuf, "vl_verify_all (forged commit)");
	free(out);
	free(report);
}

static void expect_caught(fx *f, const char *what, const git_oid *bad)
{
	expect_caught_at(f->village, what, bad, NULL);
}

static void expect_good(const char *home)
{
	char *out = NULL, *report = NULL;
	size_t failures = 1;
	int rc = run_verify(&out, home);

	if (rc != 0) {
		print_error("vledger verify exited %d on a good node:\n%s\n", rc, out);
		fail();
	}
	vf_must_contain(out, "all good", "vledger verify");
	verify_lib(home, &failures, &report);
	if (failures) {
		print_error("vl_verify_all on a good node:\n%s\n", report);
		fail();
	}
	free(out);
	free(report);
}

/* Stock git verify-commit with the exported allowed-signers file. */
static int git_verify_commit(fx *f, const git_oid *id)
{
	return vt_run(NULL, "git --git-dir '%s' -c gpg.ssh.allowedSignersFile='%s' verify-commit %s",
			f->vrepo, f->signers, git_oid_tostr_s(id));
}

/* ---- positive controls -------------------------------------------------- */

static void test_good_fixture_verifies(void **state)
{
	fx *f = *state;
	char *out = NULL;
	vl_node *n = NULL;
	vl_verify_result res;

	expect_good(f->village);
	expect_good(f->county);
	memset(&res, 0, sizeof(res));
	assert_int_equal(vl_node_open(&n, f->village, 0, NULL), 0);
	assert_int_equal(vl_verify_all(n, &res), 0);
	assert_int_equal(res.branches, 2);
	assert_int_equal(res.commits, 3 + 4);  /* 3 config, 3 adds + 1 edit */
	assert_int_equal(res.records, 4);
	vl_verify_result_free(&res);
	vl_node_close(n);
	/* Stock git agrees on every commit of every branch. */
	assert_int_equal(vt_run(&out, "(cd '%s' && n=0 && for c in $(git rev-list --all); do "
			"git -c gpg.ssh.allowedSignersFile='%s' verify-commit $c || exit 1; n=$((n+1)); done; "
			"test $n -eq 7)", f->vrepo, f->signers), 0);
	free(out);
}

/* ---- commit signatures -------------------------------------------------- */

static void test_unsigned_commit(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid good = vf_head_of(f->v->repo, V1_REF), bad;

	assert_int_equal(git_verify_commit(f, &good), 0);
	village_zone(f, &file, path, id);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, NULL, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "commit signature", &bad);
	assert_int_not_equal(git_verify_commit(f, &bad), 0);
	vl_buf_free(&file);
}

static void test_unsigned_commit_in_signed_range(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT, file2 = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], path2[128], id2[VL_ULID_LEN + 1];
	git_oid bad, top;

	village_zone(f, &file, path, id);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, NULL, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	/* A properly signed commit of the village on top hides it from a
	 * check of the head alone. */
	village_zone(f, &file2, path2, id2);
	top = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path2, file2.ptr, file2.len,
			GIT_FILEMODE_BLOB, NULL);
	expect_caught_at(f->village, "commit signature", &bad, &top);
	/* Stock git: the top is good, the middle is not. */
	assert_int_equal(git_verify_commit(f, &top), 0);
	assert_int_not_equal(git_verify_commit(f, &bad), 0);
	vl_buf_free(&file);
	vl_buf_free(&file2);
}

static void test_commit_by_unknown_key(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	vl_key k;
	char path[128], id[VL_ULID_LEN + 1], fp[VL_FP_LEN];
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad;

	assert_int_equal(vl_key_generate(&k), 0);
	vl_fingerprint(fp, k.pk);
	village_zone(f, &file, path, id);
	bad = vf_forge_file(f->v->repo, V1_REF, fp, &k, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "which is not on the roster", &bad);
	assert_int_not_equal(git_verify_commit(f, &bad), 0);

	/* The same key claiming to be the village in author and committer. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &k, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "author/committer name another key", &bad);
	assert_int_not_equal(git_verify_commit(f, &bad), 0);
	vl_key_wipe(&k);
	vl_buf_free(&file);
}

/* gpgsig block moved from the header into the message: libgit2 1.5.1's
 * git_commit_extract_signature would still return it (docs/formats.md §5.1). */
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
	/* headers, blank line, "gpgsig <armor>" as git would write the header,
	 * then the message. */
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
	expect_caught(f, "commit signature", &bad);
	assert_int_not_equal(git_verify_commit(f, &bad), 0);
	git_buf_dispose(&payload);
	vl_buf_free(&file);
	vl_buf_free(&msg);
	vl_buf_free(&armor);
	vl_buf_free(&raw);
	vl_buf_free(&tr);
}

/* A validly signed commit given a second gpgsig header. */
static void test_second_gpgsig_header(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT, raw = VL_BUF_INIT, forged = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid good, bad;
	git_odb *odb = NULL;
	const char *sig, *end;

	village_zone(f, &file, path, id);
	good = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_good(f->village); /* the control: signed the way vledger signs */
	assert_int_equal(vl_repo_raw_commit(&raw, f->v->repo, &good), 0);
	sig = strstr(raw.ptr, "\ngpgsig ");
	assert_non_null(sig);
	sig++;
	end = strstr(sig, "-----END SSH SIGNATURE-----\n");
	assert_non_null(end);
	end += strlen("-----END SSH SIGNATURE-----\n");
	/* ... gpgsig <block> gpgsig <block> ... */
	assert_int_equal(vl_buf_put(&forged, raw.ptr, (size_t)(end - raw.ptr)), 0);
	assert_int_equal(vl_buf_put(&forged, sig, (size_t)(end - sig)), 0);
	assert_int_equal(vl_buf_puts(&forged, end), 0);
	assert_int_equal(git_repository_odb(&odb, f->v->repo), 0);
	assert_int_equal(git_odb_write(&bad, odb, forged.ptr, forged.len, GIT_OBJECT_COMMIT), 0);
	git_odb_free(odb);
	vf_move_ref(f->v->repo, V1_REF, &bad); /* in place of good, on the same parent */
	expect_caught(f, "commit signature", &bad);
	vl_buf_free(&file);
	vl_buf_free(&raw);
	vl_buf_free(&forged);
}

/* ---- record signatures -------------------------------------------------- */

static void test_record_signed_by_unknown_key(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	vl_key k;
	char path[128], id[VL_ULID_LEN + 1], fp[VL_FP_LEN];
	git_oid bad;

	assert_int_equal(vl_key_generate(&k), 0);
	vl_fingerprint(fp, k.pk);
	vf_new_id(id);
	vf_make_zone(&file, &k, id, V1_CODE, "Z9");
	vf_rec_path(path, sizeof(path), "zone", id);
	/* The commit is the village's own, properly signed. */
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "which is not on the roster", &bad);
	expect_caught(f, fp, &bad);
	vl_key_wipe(&k);
	vl_buf_free(&file);
}

static void test_record_altered_after_signing(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid bad;

	village_zone(f, &file, path, id);
	/* Still canonical; only the signature no longer holds. */
	vf_buf_replace(&file, "area: a-Z9", "area: b-Z9");
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, id, &bad);
	expect_caught(f, "signature", &bad);
	vl_buf_free(&file);
}

/* ---- where records live -------------------------------------------------- */

static void test_record_in_wrong_bucket(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid bad;

	village_zone(f, &file, path, id);
	snprintf(path, sizeof(path), "zone/%c/%s.yaml", id[VL_ULID_LEN - 1] == '0' ? '1' : '0', id);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "is not in its bucket", &bad);
	vl_buf_free(&file);
}

static void test_record_under_ledger_without_schema(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	vl_record *r = NULL;
	git_oid bad;

	/* A well-formed, signed record of a ledger the config has no schema for. */
	vf_new_id(id);
	assert_int_equal(vl_record_new(&r, "nosuch", id, V1_CODE), 0);
	assert_int_equal(vl_value_map_set(r->data, "x", vl_value_str("y")), 0);
	memcpy(r->clock, "2022-04-07T01:12:33.120Z/0001", VL_HLC_TEXT_LEN + 1);
	assert_int_equal(vl_record_sign(r, &f->v->key, &file), 0);
	vl_record_free(r);
	vf_rec_path(path, sizeof(path), "nosuch", id);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "'nosuch' is not allowed in a scope branch", &bad);
	vl_buf_free(&file);
}

static void test_record_scope_differs_from_branch(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	vl_node *c = NULL;
	git_oid bad;

	/* Signed by the county, which may write both villages: only the
	 * branch/scope disagreement is wrong. */
	assert_int_equal(vl_node_open(&c, f->county, 1, NULL), 0);
	vf_new_id(id);
	vf_make_zone(&file, &c->key, id, V2_CODE, "Z9");
	vf_rec_path(path, sizeof(path), "zone", id);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "has scope " V2_CODE " but lives on the branch of " V1_CODE, &bad);
	vl_node_close(c);
	vl_buf_free(&file);
}

static void test_record_name_differs_from_id(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], other[VL_ULID_LEN + 1];
	git_oid bad;

	village_zone(f, &file, path, id);
	/* Another valid ULID in the same bucket. */
	memcpy(other, id, sizeof(other));
	other[20] = other[20] == '0' ? '1' : '0';
	vf_rec_path(path, sizeof(path), "zone", other);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "holds record", &bad);
	expect_caught(f, other, &bad);
	vl_buf_free(&file);
}

/* A record id on two scope branches, each copy valid where it is: only the
 * id check across branches finds it (whole branches on threads list their
 * ids apart; verify_lib runs that way too). */
static void test_record_id_on_two_branches(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT, file2 = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	vl_node *c = NULL;

	village_zone(f, &file, path, id);
	(void)vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_good(f->village);
	assert_int_equal(vl_node_open(&c, f->county, 1, NULL), 0);
	vf_make_zone(&file2, &c->key, id, V2_CODE, "Z7");
	(void)vf_forge_file(f->v->repo, V2_REF, c->fp, &c->key, path, file2.ptr, file2.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught_at(f->village, "is in two places", NULL, NULL);
	expect_caught_at(f->village, id, NULL, NULL);
	vl_node_close(c);
	vl_buf_free(&file);
	vl_buf_free(&file2);
}

/* ---- what a scope tree may hold ----------------------------------------- */

static void test_extra_files_in_scope_tree(void **state)
{
	fx *f = *state;
	const char *tr = "";
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad;
	char path[128], id[VL_ULID_LEN + 1];
	const char *z1 = g_zone[0];

	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, "README", "hi\n", 3, GIT_FILEMODE_BLOB, tr);
	expect_caught(f, "'README' is not allowed in a scope branch", &bad);

	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, "zone/notes.txt", "hi\n", 3, GIT_FILEMODE_BLOB, tr);
	expect_caught(f, "'zone/notes.txt' is not allowed in a scope branch", &bad);

	vf_move_ref(f->v->repo, V1_REF, &start);
	snprintf(path, sizeof(path), "zone/%c/notes.txt", z1[VL_ULID_LEN - 1]);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, "hi\n", 3, GIT_FILEMODE_BLOB, tr);
	expect_caught(f, "is not named <id>.yaml", &bad);

	/* A directory where a record file belongs. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	vf_new_id(id);
	snprintf(path, sizeof(path), "zone/%c/%s.yaml/x", id[VL_ULID_LEN - 1], id);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, "hi\n", 3, GIT_FILEMODE_BLOB, tr);
	expect_caught(f, "is not a regular file (mode 40000)", &bad);
}

/* A copy of record bytes at a record path, in a mode other than 100644. */
static void check_mode(fx *f, git_filemode_t mode, const char *what)
{
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad, blob, tree, target;
	vl_buf msg = VL_BUF_INIT, tr = VL_BUF_INIT;
	git_oid base = vf_tree_of(f->v->repo, &start);

	village_zone(f, &file, path, id);
	blob = vf_put_blob(f->v->repo, file.ptr, file.len);
	target = mode == GIT_FILEMODE_COMMIT ? start : blob; /* a submodule points at a commit */
	tree = vf_tree_edit(f->v->repo, &base, path, &target, mode);
	vf_record_trailer(&tr, path, &target);
	vf_chain_msg(&msg, f->v->repo, &start, f->v_fp, tr.ptr);
	bad = vf_write_commit(f->v->repo, V1_REF, &start, &tree, f->v_fp, msg.ptr, &f->v->key);
	expect_caught(f, what, &bad);
	vl_buf_free(&msg);
	vl_buf_free(&tr);
	vl_buf_free(&file);
}

static void test_symlink_in_scope_tree(void **state)
{
	fx *f = *state;
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad;

	check_mode(f, GIT_FILEMODE_LINK, "is not a regular file (mode 120000)");
	/* A symlink in place of a ledger directory. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, "resident", "/etc", 4, GIT_FILEMODE_LINK, "");
	expect_caught(f, "'resident' is not allowed in a scope branch", &bad);
}

static void test_submodule_in_scope_tree(void **state)
{
	check_mode(*state, GIT_FILEMODE_COMMIT, "is not a regular file (mode 160000)");
}

static void test_executable_record(void **state)
{
	check_mode(*state, GIT_FILEMODE_BLOB_EXECUTABLE, "is not a regular file (mode 100755)");
}

/* ---- size and canonical encoding ---------------------------------------- */

static void test_record_over_64k(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT, body = VL_BUF_INIT, big = VL_BUF_INIT, area = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid bad;
	size_t i;

	/* A canonical record with a 70 000-byte field, signed over its bytes
	 * (vl_record_sign would refuse to make it). */
	village_zone(f, &file, path, id);
	vf_record_body(&body, &file);
	assert_int_equal(vl_buf_puts(&area, "area: "), 0);
	for (i = 0; i < 70000; i++)
		assert_int_equal(vl_buf_putc(&area, 'x'), 0);
	vf_buf_replace(&body, "area: a-Z9", area.ptr);
	vf_sign_body(&big, &f->v->key, body.ptr, body.len);
	assert_true(big.len > VL_RECORD_MAX_BYTES);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, big.ptr, big.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "over the record limit", &bad);
	vl_buf_free(&file);
	vl_buf_free(&body);
	vl_buf_free(&big);
	vl_buf_free(&area);
}

/* Sign body correctly over its exact bytes, commit it at path as the
 * village, and expect both verifiers to say `what`; then undo. */
static void forge_signed_body(fx *f, const vl_buf *body, const char *path, const char *what)
{
	vl_buf forged = VL_BUF_INIT;
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad;

	vf_sign_body(&forged, &f->v->key, body->ptr, body->len);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, forged.ptr, forged.len,
			GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, what, &bad);
	vf_move_ref(f->v->repo, V1_REF, &start);
	vl_buf_free(&forged);
}

/* A fresh record's body edited by each from[i] -> to[i], then signed
 * correctly: only the encoding is wrong. */
static void check_noncanonical(fx *f, const char *what, const char *from1, const char *to1,
		const char *from2, const char *to2)
{
	vl_buf file = VL_BUF_INIT, body = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];

	village_zone(f, &file, path, id);
	vf_record_body(&body, &file);
	vf_buf_replace(&body, from1, to1);
	if (from2)
		vf_buf_replace(&body, from2, to2);
	forge_signed_body(f, &body, path, what);
	vl_buf_free(&file);
	vl_buf_free(&body);
}

#define NC "record is not in canonical form"

static void test_noncanonical_record(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT, body = VL_BUF_INIT, again = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];

	/* The control: the canonical body signed the same way is exactly what
	 * vl_record_sign makes, and verifies. */
	village_zone(f, &file, path, id);
	vf_record_body(&body, &file);
	vf_sign_body(&again, &f->v->key, body.ptr, body.len);
	assert_int_equal(again.len, file.len);
	assert_memory_equal(again.ptr, file.ptr, file.len);
	(void)vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, again.ptr, again.len, GIT_FILEMODE_BLOB, NULL);
	expect_good(f->village);
	vl_buf_free(&file);
	vl_buf_free(&body);
	vl_buf_free(&again);

	check_noncanonical(f, NC, "area: a-Z9\n", "area: a-Z9 \n", NULL, NULL);      /* trailing space */
	check_noncanonical(f, NC, "area: a-Z9", "area:  a-Z9", NULL, NULL);            /* extra space */
	check_noncanonical(f, NC, "area: a-Z9", "area: \"a-Z9\"", NULL, NULL);         /* other quoting */
	check_noncanonical(f, NC, "area: a-Z9\n", "area: a-Z9 # c\n", NULL, NULL);     /* a comment */
	check_noncanonical(f, NC, "  area: a-Z9\n", "  area:   a-Z9\n", NULL, NULL);   /* more spaces */
	check_noncanonical(f, NC, "schema: zone\n", "---\nschema: zone\n", NULL, NULL); /* document marker */
	check_noncanonical(f, NC, "\n", "\r\n", NULL, NULL);                            /* one CRLF */
	check_noncanonical(f, NC, "prev: []\n", "prev: [ ]\n", NULL, NULL);            /* flow spacing */
	check_noncanonical(f, "duplicate mapping key", "  zone_no: Z9\n", "  zone_no: Z9\n  zone_no: Z9\n",
			NULL, NULL);
	/* Top-level keys out of order: scope before id. */
	check_noncanonical(f, "key 'scope' is unknown or out of order", "scope: \"" V1_CODE "\"\n", "",
			"id: ", "scope: \"" V1_CODE "\"\nid: ");
	/* data keys out of schema order: designation before zone_no. */
	check_noncanonical(f, "keys must follow the schema's field order", "  zone_no: Z9\n  designation: sealed\n",
			"  designation: sealed\n  zone_no: Z9\n", NULL, NULL);
}

/* ---- authorisation -------------------------------------------------------- */

static void test_village_writes_other_village(void **state)
{
	fx *f = *state;
	vl_node *v2 = NULL;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad;

	/* Village 2's key (on the roster, scope 500243001002), correctly signing
	 * a commit and its record of village 1. */
	assert_int_equal(vl_node_open(&v2, f->village2, 1, NULL), 0);
	vf_new_id(id);
	vf_make_zone(&file, &v2->key, id, V1_CODE, "Z9");
	vf_rec_path(path, sizeof(path), "zone", id);
	bad = vf_forge_file(f->v->repo, V1_REF, v2->fp, &v2->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "(village, scope " V2_CODE "), which may not write scope " V1_CODE, &bad);

	/* Village 2's record slipped into a commit of village 1. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "which may not write scope " V1_CODE, &bad);
	vf_move_ref(f->v->repo, V1_REF, &start);
	vl_buf_free(&file);

	/* Village 1 opening a branch of village 2 with its own records. */
	vf_new_id(id);
	vf_make_zone(&file, &f->v->key, id, V2_CODE, "Z9");
	vf_rec_path(path, sizeof(path), "zone", id);
	bad = vf_forge_file(f->v->repo, V2_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "(village, scope " V1_CODE "), which may not write scope " V2_CODE, &bad);
	vl_node_close(v2);
	vl_buf_free(&file);
}

/* ---- trailers and the key chain ----------------------------------------- */

static void test_record_trailer_missing_or_wrong(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT, tr = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], other_path[128];
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad, other, blob;

	village_zone(f, &file, path, id);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, "");
	expect_caught(f, "has no Vledger-Record trailer for it", &bad);

	/* A trailer naming another blob (an earlier version of the file). */
	vf_move_ref(f->v->repo, V1_REF, &start);
	other = vf_put_blob(f->v->repo, "something else\n", 15);
	vf_record_trailer(&tr, path, &other);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, tr.ptr);
	expect_caught(f, "has no Vledger-Record trailer for it", &bad);

	/* The right trailer plus one for a record the commit does not change. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	vl_buf_clear(&tr);
	blob = vf_put_blob(f->v->repo, file.ptr, file.len);
	vf_record_trailer(&tr, path, &blob);
	vf_rec_path(other_path, sizeof(other_path), "zone", g_zone[1]);
	vf_record_trailer(&tr, other_path, &other);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, tr.ptr);
	expect_caught(f, "the commit names 2 records in Vledger-Record trailers but changes 1", &bad);
	vl_buf_free(&file);
	vl_buf_free(&tr);
}

/* A signed commit of the village adding a new record with an explicit
 * Vledger-Seq / Vledger-Prev trailer text (prev NULL: none). */
static git_oid forge_chain(fx *f, const char *seq, const char *prev)
{
	vl_buf file = VL_BUF_INIT, tr = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid head = vf_head_of(f->v->repo, V1_REF), base = vf_tree_of(f->v->repo, &head), blob, tree, out;
	vl_buf msg = VL_BUF_INIT;

	village_zone(f, &file, path, id);
	blob = vf_put_blob(f->v->repo, file.ptr, file.len);
	tree = vf_tree_edit(f->v->repo, &base, path, &blob, GIT_FILEMODE_BLOB);
	vf_record_trailer(&tr, path, &blob);
	assert_int_equal(vl_buf_printf(&msg, "forged\n\n%s", tr.ptr), 0);
	if (seq)
		assert_int_equal(vl_buf_printf(&msg, "Vledger-Seq: %s\n", seq), 0);
	if (prev)
		assert_int_equal(vl_buf_printf(&msg, "Vledger-Prev: %s\n", prev), 0);
	out = vf_write_commit(f->v->repo, V1_REF, &head, &tree, f->v_fp, msg.ptr, &f->v->key);
	vl_buf_free(&file);
	vl_buf_free(&tr);
	vl_buf_free(&msg);
	return out;
}

static void test_broken_seq_prev_chain(void **state)
{
	fx *f = *state;
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad, second;
	char head[GIT_OID_HEXSZ + 1], sec[GIT_OID_HEXSZ + 1];
	git_commit *c = NULL;

	/* The village signed seq 1..4 on this branch; head = its seq 4. */
	git_oid_tostr(head, sizeof(head), &start);
	assert_int_equal(git_commit_lookup(&c, f->v->repo, &start), 0);
	git_oid_cpy(&second, git_commit_parent_id(c, 0));  /* seq 3 */
	git_commit_free(c);
	git_oid_tostr(sec, sizeof(sec), &second);

	bad = forge_chain(f, "6", head); /* a gap */
	expect_caught(f, "Vledger-Prev does not name this key's commit 5", &bad);
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = forge_chain(f, "5", sec); /* prev skips one link */
	expect_caught(f, "Vledger-Prev does not name this key's commit 4", &bad);
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = forge_chain(f, "5", NULL);
	expect_caught(f, "Vledger-Seq 5 without Vledger-Prev", &bad);
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = forge_chain(f, "5", "0123456789abcdef0123456789abcdef01234567");
	expect_caught(f, "Vledger-Prev names no earlier commit of this key", &bad);
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = forge_chain(f, NULL, head);
	expect_caught(f, "has no Vledger-Seq trailer", &bad);
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = forge_chain(f, "0", NULL);
	expect_caught(f, "is not a positive number", &bad);
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = forge_chain(f, "05", head);
	expect_caught(f, "is not a positive number", &bad);
	/* Seq 1 again: the chain restarted on the same branch. */
	vf_move_ref(f->v->repo, V1_REF, &start);
	bad = forge_chain(f, "1", NULL);
	expect_caught(f, "equivocation", &bad);
}

static void test_equivocation_same_seq(void **state)
{
	fx *f = *state;
	git_oid start = vf_head_of(f->v->repo, V1_REF), a, b;
	char head[GIT_OID_HEXSZ + 1];

	/* A: seq 5 after the head; B on top of A, also seq 5 after the head
	 * (a copy of the key on a second laptop, or a rewound history). */
	git_oid_tostr(head, sizeof(head), &start);
	a = forge_chain(f, "5", head);
	b = forge_chain(f, "5", head);
	assert_false(git_oid_equal(&a, &b));
	expect_caught(f, "signed two commits with Vledger-Seq 5", &b);
	expect_caught(f, "equivocation", &b);
}

/* vl_verify_received of V1 at theirs against ours, as a fetch verifies
 * it, on `threads` threads. */
static void verify_received_on(fx *f, const git_oid *theirs, const git_oid *ours, unsigned threads,
		vl_verify_result *res)
{
	vl_node *n = NULL;
	vl_view view;

	memset(res, 0, sizeof(*res));
	res->threads = threads;
	assert_int_equal(vl_node_open(&n, f->village, 0, NULL), 0);
	assert_int_equal(vl_node_load_config(n), 0);
	view = VL_VIEW_OF(n);
	assert_int_equal(vl_verify_received(&view, n, V1_REF, theirs, ours, res), 0);
	vl_node_close(n);
}

/*
 * Received history that forks off our chain two links back: its seq 3 and
 * 4 are equivocation against our seq 3 and 4 (the key's chain in our
 * history is found once and followed back, one step for seq 3), its seq 5
 * is past our chain. The pairs, in order, as evidence.
 */
static void test_equivocation_behind_our_head(void **state)
{
	fx *f = *state;
	git_oid h4 = vf_head_of(f->v->repo, V1_REF), h3, h2, x3, x4, x5;
	char hex[GIT_OID_HEXSZ + 1], want[128];
	vl_verify_result serial, parallel;
	const char *second;
	git_commit *c = NULL;

	assert_int_equal(git_commit_lookup(&c, f->v->repo, &h4), 0);
	git_oid_cpy(&h3, git_commit_parent_id(c, 0));
	git_commit_free(c);
	assert_int_equal(git_commit_lookup(&c, f->v->repo, &h3), 0);
	git_oid_cpy(&h2, git_commit_parent_id(c, 0));
	git_commit_free(c);
	vf_move_ref(f->v->repo, V1_REF, &h2);
	x3 = forge_chain(f, "3", git_oid_tostr(hex, sizeof(hex), &h2));
	x4 = forge_chain(f, "4", git_oid_tostr(hex, sizeof(hex), &x3));
	x5 = forge_chain(f, "5", git_oid_tostr(hex, sizeof(hex), &x4));
	vf_move_ref(f->v->repo, V1_REF, &h4);

	verify_received_on(f, &x5, &h4, 1, &serial);
	verify_received_on(f, &x5, &h4, 2, &parallel);
	expect_same_result(&serial, &parallel);
	assert_int_equal(parallel.commits, 3);
	assert_int_equal(parallel.failures, 2);
	assert_int_equal(parallel.nevidence, 4);
	assert_true(git_oid_equal(&parallel.evidence[0], &h3));
	assert_true(git_oid_equal(&parallel.evidence[1], &x3));
	assert_true(git_oid_equal(&parallel.evidence[2], &h4));
	assert_true(git_oid_equal(&parallel.evidence[3], &x4));
	second = strchr(parallel.report.ptr, '\n');
	assert_non_null(second);
	snprintf(want, sizeof(want), "%.12s: key %s signed", git_oid_tostr_s(&x3), f->v_fp);
	assert_true(!strncmp(parallel.report.ptr + strlen("scope/" V1_CODE " "), want, strlen(want)));
	snprintf(want, sizeof(want), "our %.12s with the same Vledger-Seq 3: equivocation", git_oid_tostr_s(&h3));
	vf_must_contain(parallel.report.ptr, want, "report");
	assert_true(strstr(parallel.report.ptr, want) < second);
	snprintf(want, sizeof(want), "our %.12s with the same Vledger-Seq 4: equivocation", git_oid_tostr_s(&h4));
	vf_must_contain(second, want, "report (second line)");
	vl_verify_result_free(&serial);
	vl_verify_result_free(&parallel);
}

/* Beyond the brief's list: the fork must be named even when another
 * problem was found before it (report masking). */
static void test_equivocation_reported_after_other_failure(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], head[GIT_OID_HEXSZ + 1];
	git_oid first, b;

	village_zone(f, &file, path, id);
	first = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, "");
	expect_caught(f, "has no Vledger-Record trailer for it", &first);
	git_oid_tostr(head, sizeof(head), &first);
	(void)forge_chain(f, "6", head);
	b = forge_chain(f, "6", head);
	expect_caught(f, "equivocation", &b);
	vl_buf_free(&file);
}

/* ---- history ------------------------------------------------------------ */

static void test_record_removed(void **state)
{
	fx *f = *state;
	vl_buf msg = VL_BUF_INIT;
	char path[128];
	git_oid start = vf_head_of(f->v->repo, V1_REF), base = vf_tree_of(f->v->repo, &start), tree, bad;

	vf_rec_path(path, sizeof(path), "zone", g_zone[1]);
	tree = vf_tree_edit(f->v->repo, &base, path, NULL, GIT_FILEMODE_BLOB);
	vf_chain_msg(&msg, f->v->repo, &start, f->v_fp, "");
	bad = vf_write_commit(f->v->repo, V1_REF, &start, &tree, f->v_fp, msg.ptr, &f->v->key);
	expect_caught(f, "was removed; records are deleted by tombstones only", &bad);
	vl_buf_free(&msg);
}

/* Beyond the brief's list (docs/threats.md: a replayed record): the village
 * puts back an earlier version of a record it has since edited. Both
 * versions are validly signed by the village; the replayed one's `prev`
 * does not name the version it replaces, so the record's own hash chain
 * (docs/formats.md §4) is broken. */
static void test_replayed_old_record_version(void **state)
{
	fx *f = *state;
	vl_buf old = VL_BUF_INIT;
	char path[128];
	git_oid start = vf_head_of(f->v->repo, V1_REF), bad, parent;
	git_commit *c = NULL;

	vf_rec_path(path, sizeof(path), "zone", g_zone[0]);
	assert_int_equal(git_commit_lookup(&c, f->v->repo, &start), 0);
	git_oid_cpy(&parent, git_commit_parent_id(c, 0)); /* before the edit */
	git_commit_free(c);
	assert_int_equal(vl_repo_read(&old, NULL, f->v->repo, NULL, &parent, path, VL_RECORD_MAX_BYTES), 0);
	vf_must_contain(old.ptr, "prev: []", "the first version");
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, old.ptr, old.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, g_zone[0], &bad);
	vl_buf_free(&old);
}

/* Beyond the brief's list (docs/formats.md §7: "not revoked"): a key revoked by an
 * admin goes on writing. */
static void test_revoked_key_writes(void **state)
{
	fx *f = *state;
	vl_node *c = NULL;
	vl_buf roster = VL_BUF_INIT, msg = VL_BUF_INIT, file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid chead = vf_head_of(f->v->repo, VL_REF_CONFIG), cbase = vf_tree_of(f->v->repo, &chead), blob, tree, bad;
	const char *v1, *vf, *eol;

	assert_int_equal(vl_node_open(&c, f->county, 1, NULL), 0);
	assert_int_equal(vl_repo_read(&roster, NULL, f->v->repo, VL_REF_CONFIG, NULL, "roster.yaml", 1 << 20), 0);
	v1 = strstr(roster.ptr, "name: V1\n");
	assert_non_null(v1);
	vf = strstr(v1, "valid_from: ");
	assert_non_null(vf);
	eol = strchr(vf, '\n') + 1;
	{
		vl_buf nr = VL_BUF_INIT;
		assert_int_equal(vl_buf_put(&nr, roster.ptr, (size_t)(eol - roster.ptr)), 0);
		assert_int_equal(vl_buf_puts(&nr, "    revoked_at: \"2000-01-01T00:00:00Z\"\n"), 0);
		assert_int_equal(vl_buf_puts(&nr, eol), 0);
		vl_buf_free(&roster);
		roster = nr;
	}
	/* The admin's signed config commit revoking the village key. */
	blob = vf_put_blob(f->v->repo, roster.ptr, roster.len);
	tree = vf_tree_edit(f->v->repo, &cbase, "roster.yaml", &blob, GIT_FILEMODE_BLOB);
	vf_chain_msg(&msg, f->v->repo, &chead, c->fp, "");
	(void)vf_write_commit(f->v->repo, VL_REF_CONFIG, &chead, &tree, c->fp, msg.ptr, &c->key);
	/* Then the revoked key writes a record. */
	village_zone(f, &file, path, id);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "revoked", &bad);
	vl_node_close(c);
	vl_buf_free(&roster);
	vl_buf_free(&msg);
	vl_buf_free(&file);
}

/* A record dated three days before its key joined the roster (a backdated
 * write, or a key added today signing old history): refused, by verify and
 * by the writing node itself. */
static void test_write_before_key_joined(void **state)
{
	fx *f = *state;
	vl_record *r = NULL;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], *out = NULL, fake[32];
	vl_hlc old = { vl_hlc_wall_ms() - (uint64_t)3 * 24 * 3600 * 1000, 0 };
	git_oid bad;

	vf_new_id(id);
	vf_rec_path(path, sizeof(path), "zone", id);
	assert_int_equal(vl_record_new(&r, "zone", id, V1_CODE), 0);
	assert_int_equal(vl_value_map_set(r->data, "zone_no", vl_value_str("Z-OLD")), 0);
	assert_int_equal(vl_value_map_set(r->data, "designation", vl_value_str("sealed")), 0);
	assert_int_equal(vl_value_map_set(r->data, "area", vl_value_str("a-old")), 0);
	assert_int_equal(vl_value_map_set(r->data, "status", vl_value_str("active")), 0);
	assert_int_equal(vl_value_map_set(r->data, "announced_at", vl_value_str("2022-04-06T08:00:00Z")), 0);
	vl_hlc_format(r->clock, &old);
	assert_int_equal(vl_record_sign(r, &f->v->key, &file), 0);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "before the key joined the roster", &bad);
	/* A node whose wall clock is that far back (its persisted clock gone,
	 * as on a reinstalled laptop: the clock never goes back otherwise)
	 * refuses to write. */
	snprintf(fake, sizeof(fake), "%llu", (unsigned long long)old.ms);
	assert_int_equal(vt_run(NULL, "rm -f '%s/clock'", f->village), 0);
	assert_int_equal(vt_run(&out, "VLEDGER_FAKE_TIME_MS=%s '%s' -C '%s' add zone --set zone_no=Z2 --set "
			"designation=sealed --set area=x --set announced_at=2022-04-06T08:00:00Z", fake, VL_BINARY,
			f->village), 1);
	vf_must_contain(out, "set the date right", "vledger add with a clock 3 days back");
	free(out);
	vl_record_free(r);
	vl_buf_free(&file);
}

/* ---- records checked on two threads ---------------------------------------- */

/* The kinds of record many_records_commit writes, by index. */
enum { MR_GOOD, MR_BAD_SIG, MR_OTHER_SCOPE, MR_UNKNOWN_KEY, MR_GOOD2, MR_KINDS };

/* One forged record and where its finding must come in the report. */
typedef struct {
	char id[VL_ULID_LEN + 1];
	int bad;
} mr_rec;

static int mr_cmp(const void *a, const void *b)
{
	const mr_rec *x = a, *y = b;

	/* The walk's order: bucket (the id's last character), then name. */
	if (x->id[VL_ULID_LEN - 1] != y->id[VL_ULID_LEN - 1])
		return (unsigned char)x->id[VL_ULID_LEN - 1] < (unsigned char)y->id[VL_ULID_LEN - 1] ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* One signed commit on V1 adding n zone records, a mix of good ones and
 * three kinds of bad ones (see the enum), listed in recs. */
static git_oid many_records_commit(fx *f, size_t n, const vl_key *stranger, mr_rec *recs)
{
	git_oid head = vf_head_of(f->v->repo, V1_REF), tree = vf_tree_of(f->v->repo, &head), blob, out;
	vl_buf file = VL_BUF_INIT, trailers = VL_BUF_INIT, msg = VL_BUF_INIT;
	char path[128], zone[32], from[40], to[40];
	size_t i;

	for (i = 0; i < n; i++) {
		int kind = (int)(i * 7 % MR_KINDS); /* spread the kinds unevenly over the buckets */
		vl_buf_clear(&file);
		vf_new_id(recs[i].id);
		snprintf(zone, sizeof(zone), "Q%zu", i);
		vf_make_zone(&file, kind == MR_UNKNOWN_KEY ? stranger : &f->v->key, recs[i].id,
				kind == MR_OTHER_SCOPE ? V2_CODE : V1_CODE, zone);
		if (kind == MR_BAD_SIG) {
			snprintf(from, sizeof(from), "a-Q%zu", i);
			snprintf(to, sizeof(to), "a-R%zu", i);
			vf_buf_replace(&file, from, to);
		}
		recs[i].bad = kind == MR_BAD_SIG || kind == MR_OTHER_SCOPE || kind == MR_UNKNOWN_KEY;
		vf_rec_path(path, sizeof(path), "zone", recs[i].id);
		blob = vf_put_blob(f->v->repo, file.ptr, file.len);
		tree = vf_tree_edit(f->v->repo, &tree, path, &blob, GIT_FILEMODE_BLOB);
		vf_record_trailer(&trailers, path, &blob);
	}
	vf_chain_msg(&msg, f->v->repo, &head, f->v_fp, trailers.ptr);
	out = vf_write_commit(f->v->repo, V1_REF, &head, &tree, f->v_fp, msg.ptr, &f->v->key);
	vl_buf_free(&file);
	vl_buf_free(&trailers);
	vl_buf_free(&msg);
	return out;
}

/*
 * Many forged records spread over commits of different sizes (one over
 * the chunk the threads share, so chunks end mid-commit): serial and
 * parallel verify must give the same report, which names each bad record
 * once, in the walk's order, with the finding of its own kind. A record
 * prepared by one thread and consumed as another's would show here.
 */
static void test_parallel_report_is_serial(void **state)
{
	fx *f = *state;
	static const size_t sizes[] = { 300, 37, 1, 64 };
	mr_rec *recs[4];
	vl_verify_result serial, parallel;
	vl_key stranger;
	char *out = NULL;
	const char *line;
	size_t c, i, bad = 0, total = 0;

	assert_int_equal(vl_key_generate(&stranger), 0);
	for (c = 0; c < 4; c++) {
		recs[c] = calloc(sizes[c], sizeof(mr_rec));
		assert_non_null(recs[c]);
		(void)many_records_commit(f, sizes[c], &stranger, recs[c]);
		total += sizes[c];
	}
	verify_lib_on(f->village, 1, 0, &serial);
	verify_lib_on(f->village, 2, 0, &parallel);
	expect_same_result(&serial, &parallel);
	assert_int_equal(parallel.records, 4 + total);
	/* Each bad record once, in the walk's order, with its kind's finding. */
	line = parallel.report.ptr;
	assert_non_null(line);
	for (c = 0; c < 4; c++) {
		qsort(recs[c], sizes[c], sizeof(mr_rec), mr_cmp);
		for (i = 0; i < sizes[c]; i++) {
			const char *eol;
			char one[2048];
			if (!recs[c][i].bad)
				continue;
			bad++;
			eol = strchr(line, '\n');
			assert_non_null(eol);
			snprintf(one, sizeof(one), "%.*s", (int)(eol - line), line);
			if (!strstr(one, recs[c][i].id)) {
				print_error("report line %zu does not name record %s:\n%s\n", bad, recs[c][i].id, one);
				fail();
			}
			line = eol + 1;
		}
	}
	assert_int_equal(parallel.failures, bad);
	assert_string_equal(line, "");
	/* Each kind's finding is there (so the kinds did not collapse into one). */
	vf_must_contain(parallel.report.ptr, "has scope " V2_CODE " but lives on the branch of " V1_CODE, "report");
	vf_must_contain(parallel.report.ptr, "which is not on the roster", "report");
	vf_must_contain(parallel.report.ptr, "signature", "report");
	/* The binary, serial and parallel (run_verify compares the two). */
	assert_int_equal(run_verify(&out, f->village), 4);
	free(out);
	vl_verify_result_free(&serial);
	vl_verify_result_free(&parallel);
	for (c = 0; c < 4; c++)
		free(recs[c]);
}

/* ---- vledger fetch (config) ---------------------------------------------- */

/* vledger -C home fetch source must fail naming `what`, changing nothing. */
static void expect_fetch_refused(const char *home, const char *repo, const char *source, const char *what)
{
	char *before = vf_snapshot(repo), *after, *out = NULL, *serial = NULL;
	int rc1 = vt_run(&serial, "VLEDGER_THREADS=1 '%s' -C '%s' fetch '%s'", VL_BINARY, home, source);
	int rc = vt_run(&out, "VLEDGER_THREADS=2 '%s' -C '%s' fetch '%s'", VL_BINARY, home, source);

	/* Refused, so nothing changed: the second run meets the same state,
	 * and must say the same. */
	if (rc1 != rc || strcmp(serial, out) != 0) {
		print_error("vledger fetch on 1 thread (exit %d):\n%s\nand on 2 threads (exit %d):\n%s\n", rc1,
				serial, rc, out);
		fail();
	}
	free(serial);

	if (getenv("VT_VERBOSE"))
		print_message("%s", out);
	if (rc == 0) {
		print_error("vledger fetch accepted %s:\n%s\n", source, out);
		fail();
	}
	vf_must_contain(out, what, "vledger fetch");
	after = vf_snapshot(repo);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(out);
}

static void test_fetch_positive_control(void **state)
{
	fx *f = *state;
	char args[700];
	char *before = vf_snapshot(f->vrepo), *after, *key;
	git_oid chead, vhead;

	/* A config commit by the county admin: fetched. */
	key = vf_ok(f->joiner, "key");
	*strchr(key, '\n') = '\0';
	snprintf(args, sizeof(args), "roster add --name V3 --role village --scope " V3_CODE " --key '%s'", key);
	free(key);
	vf_ok_free(f->county, args);
	snprintf(args, sizeof(args), "fetch '%s'", f->crepo);
	vf_ok_free(f->village, args);
	after = vf_snapshot(f->vrepo);
	assert_string_not_equal(before, after);
	chead = vf_head_of(f->v->repo, VL_REF_CONFIG);
	vhead = vf_head_of(f->v->repo, VL_REF_CONFIG);
	assert_true(git_oid_equal(&chead, &vhead));
	/* And by a node that has fetched nothing yet. */
	vf_ok_free(f->joiner, args);
	expect_good(f->village);
	free(before);
	free(after);
}

static void test_fetch_other_network_refused(void **state)
{
	fx *f = *state;

	/* A joined node with no config yet: the root commit is not signed by a
	 * root key it pinned. */
	expect_fetch_refused(f->joiner, f->jrepo, f->orepo, "this is another network");
	/* A node with config: the other history does not extend ours either. */
	expect_fetch_refused(f->village, f->vrepo, f->orepo, "does not extend ours");
}

static void test_fetch_non_fast_forward_refused(void **state)
{
	fx *f = *state;
	vl_node *c = NULL;
	vl_buf roster = VL_BUF_INIT, msg = VL_BUF_INIT;
	git_oid head, vhead, parent, base, blob, tree;
	git_commit *hc = NULL;

	/* The county rewrites its config: drop its head, sign another commit
	 * in its place (a correct admin signature, a rewritten history). */
	assert_int_equal(vl_node_open(&c, f->county, 1, NULL), 0);
	head = vf_head_of(c->repo, VL_REF_CONFIG);
	vhead = vf_head_of(f->v->repo, VL_REF_CONFIG);
	assert_true(git_oid_equal(&head, &vhead));
	assert_int_equal(git_commit_lookup(&hc, c->repo, &head), 0);
	git_oid_cpy(&parent, git_commit_parent_id(hc, 0));
	git_commit_free(hc);
	base = vf_tree_of(c->repo, &parent);
	assert_int_equal(vl_repo_read(&roster, NULL, c->repo, NULL, &parent, "roster.yaml", 1 << 20), 0);
	vf_buf_replace(&roster, "name: V1\n", "name: V1-renamed\n");
	blob = vf_put_blob(c->repo, roster.ptr, roster.len);
	tree = vf_tree_edit(c->repo, &base, "roster.yaml", &blob, GIT_FILEMODE_BLOB);
	vf_chain_msg(&msg, c->repo, &parent, c->fp, "");
	/* Rolled back: the county's config one commit older than ours. That
	 * is nothing new for us (a peer that has not caught up), not an
	 * attack: fetch takes nothing and keeps our newer config. */
	vf_move_ref(c->repo, VL_REF_CONFIG, &parent);
	{
		char *before = vf_snapshot(f->vrepo), *after, *out = NULL;
		assert_int_equal(vt_run(&out, "'%s' -C '%s' fetch '%s'", VL_BINARY, f->village, f->crepo), 0);
		vf_must_contain(out, "the source's is older", "vledger fetch");
		after = vf_snapshot(f->vrepo);
		assert_string_equal(before, after);
		free(before);
		free(after);
		free(out);
	}
	/* Rewritten. */
	(void)vf_write_commit(c->repo, VL_REF_CONFIG, &parent, &tree, c->fp, msg.ptr, &c->key);
	vl_node_close(c);
	expect_fetch_refused(f->village, f->vrepo, f->crepo, "does not extend ours");
	vl_buf_free(&roster);
	vl_buf_free(&msg);
}

/* A config commit on top of the county's head, by `key` (NULL: unsigned)
 * as fp, making the village an admin. */
static void forge_config(fx *f, const char *fp, const vl_key *key)
{
	git_repository *repo = NULL;
	vl_buf roster = VL_BUF_INIT, msg = VL_BUF_INIT;
	git_oid head, base, blob, tree;

	assert_int_equal(vl_repo_open(&repo, f->crepo), 0);
	head = vf_head_of(repo, VL_REF_CONFIG);
	base = vf_tree_of(repo, &head);
	assert_int_equal(vl_repo_read(&roster, NULL, repo, NULL, &head, "roster.yaml", 1 << 20), 0);
	vf_buf_replace(&roster, "name: V1\n    role: village\n", "name: V1\n    role: admin\n");
	blob = vf_put_blob(repo, roster.ptr, roster.len);
	tree = vf_tree_edit(repo, &base, "roster.yaml", &blob, GIT_FILEMODE_BLOB);
	vf_chain_msg(&msg, repo, &head, fp, "");
	(void)vf_write_commit(repo, VL_REF_CONFIG, &head, &tree, fp, msg.ptr, key);
	git_repository_free(repo);
	vl_buf_free(&roster);
	vl_buf_free(&msg);
}

static void test_fetch_non_admin_refused(void **state)
{
	fx *f = *state;
	git_repository *repo = NULL;
	vl_node *other = NULL;
	git_oid chead;

	assert_int_equal(vl_repo_open(&repo, f->crepo), 0);
	chead = vf_head_of(repo, VL_REF_CONFIG);
	/* The village key (on the roster, not an admin) promotes itself. */
	forge_config(f, f->v_fp, &f->v->key);
	expect_fetch_refused(f->village, f->vrepo, f->crepo, "not an admin");
	expect_fetch_refused(f->joiner, f->jrepo, f->crepo, "not an admin");
	/* The same change unsigned. */
	vf_move_ref(repo, VL_REF_CONFIG, &chead);
	forge_config(f, f->v_fp, NULL);
	expect_fetch_refused(f->village, f->vrepo, f->crepo, "is not signed");
	/* Signed by another network's root (and admin) key, on top of ours. */
	vf_move_ref(repo, VL_REF_CONFIG, &chead);
	assert_int_equal(vl_node_open(&other, f->other, 1, NULL), 0);
	forge_config(f, other->fp, &other->key);
	vl_node_close(other);
	expect_fetch_refused(f->village, f->vrepo, f->crepo, "not an admin");
	git_repository_free(repo);
}

/* ---- issue 14: checks no other test isolates ---------------------------- */

/* A record whose bytes carry a good signature by `signer` but whose
 * `author:` names claimed_fp: canonical, signed, only the claim is false. */
static void record_claiming(vl_buf *out, const vl_key *signer, const char *claimed_fp, const char *scope,
		char path[128], char id[VL_ULID_LEN + 1])
{
	vl_buf file = VL_BUF_INIT, body = VL_BUF_INIT;
	char real_fp[VL_FP_LEN], from[VL_FP_LEN + 16], to[VL_FP_LEN + 16];

	vf_new_zone(&file, signer, scope, path, id);
	vf_record_body(&body, &file);
	vl_fingerprint(real_fp, signer->pk);
	snprintf(from, sizeof(from), "author: \"%s\"", real_fp);
	snprintf(to, sizeof(to), "author: \"%s\"", claimed_fp);
	vf_buf_replace(&body, from, to);
	vf_sign_body(out, signer, body.ptr, body.len);
	vl_buf_free(&file);
	vl_buf_free(&body);
}

/* The village key signs a record that names the county as its author (the
 * county may write every scope, so only the author = signer check stands
 * in the way), inside the village's own good commit. */
static void test_record_author_not_signer(void **state)
{
	fx *f = *state;
	vl_node *c = NULL;
	vl_buf file = VL_BUF_INIT;
	vl_record *r = NULL;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid bad;

	assert_int_equal(vl_node_open(&c, f->county, 0, NULL), 0);
	record_claiming(&file, &f->v->key, c->fp, V1_CODE, path, id);
	/* The library refuses it on its own... */
	assert_int_equal(vl_record_parse(&r, file.ptr, file.len, "claim"), 0);
	assert_string_equal(r->author, c->fp);
	assert_int_equal(vl_record_verify(r, file.ptr, file.len, NULL), VL_EBADSIG);
	vf_must_contain(vl_error_last(), "claims author", "vl_record_verify");
	vl_record_free(r);
	/* ...and so do both verifiers, in a commit that is otherwise good. */
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	expect_caught(f, "claims author", &bad);
	expect_caught(f, id, &bad);
	vl_node_close(c);
	vl_buf_free(&file);
}

/* Well-formed SSHSIG (canonical encoding, the village's key) whose
 * signature bytes are over other bytes: only the Ed25519 check fails. */
static void test_commit_signature_cryptographically_wrong(void **state)
{
	fx *f = *state;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1];
	git_oid blob, bad;

	village_zone(f, &file, path, id);
	blob = vf_put_blob(f->v->repo, file.ptr, file.len);
	bad = vf_forge_entry(f->v->repo, V1_REF, f->v_fp, &f->v->key, path, &blob, GIT_FILEMODE_BLOB, NULL,
			VF_SIG_OTHER_BYTES);
	expect_caught(f, "commit signature: signature does not match the signed data and key", &bad);
	assert_int_not_equal(git_verify_commit(f, &bad), 0);
	vl_buf_free(&file);
}

/* A good signature by another key of the roster (village 2) on a commit
 * whose author and committer name village 1. */
static void test_commit_signed_by_other_roster_key(void **state)
{
	fx *f = *state;
	vl_node *v2 = NULL;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], what[VL_FP_LEN + 64];
	git_oid bad;

	assert_int_equal(vl_node_open(&v2, f->village2, 1, NULL), 0);
	village_zone(f, &file, path, id);
	bad = vf_forge_file(f->v->repo, V1_REF, f->v_fp, &v2->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	snprintf(what, sizeof(what), "signed by %s but author/committer name another key", v2->fp);
	expect_caught(f, what, &bad);
	/* Stock git says Good: it checks that the key is an allowed signer,
	 * not that it is the one the author line names. */
	assert_int_equal(git_verify_commit(f, &bad), 0);
	vl_node_close(v2);
	vl_buf_free(&file);
}

/* Only the commit's scope is wrong: village 2's key (on the roster) commits
 * a record that village 1 signed, valid in every other way, on village 1's
 * branch. The record passes every record check (its signer may write it);
 * the commit-scope check alone refuses. */
static void test_commit_scope_only_wrong(void **state)
{
	fx *f = *state;
	vl_node *v2 = NULL;
	vl_buf file = VL_BUF_INIT;
	char path[128], id[VL_ULID_LEN + 1], what[VL_FP_LEN + 128];
	git_oid bad;

	assert_int_equal(vl_node_open(&v2, f->village2, 1, NULL), 0);
	village_zone(f, &file, path, id);
	bad = vf_forge_file(f->v->repo, V1_REF, v2->fp, &v2->key, path, file.ptr, file.len, GIT_FILEMODE_BLOB, NULL);
	snprintf(what, sizeof(what), "signed by %s (village, scope " V2_CODE "), which may not write scope " V1_CODE,
			v2->fp);
	expect_caught(f, what, &bad);
	vl_node_close(v2);
	vl_buf_free(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_fixture_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsigned_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_id_on_two_branches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsigned_commit_in_signed_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_by_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpgsig_in_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_gpgsig_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_signed_by_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_altered_after_signing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_in_wrong_bucket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_under_ledger_without_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_scope_differs_from_branch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_name_differs_from_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extra_files_in_scope_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_in_scope_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submodule_in_scope_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_executable_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_over_64k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noncanonical_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_village_writes_other_village, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_trailer_missing_or_wrong, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_seq_prev_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_equivocation_same_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_equivocation_behind_our_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_equivocation_reported_after_other_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replayed_old_record_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_key_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_positive_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_other_network_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_before_key_joined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_non_fast_forward_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_non_admin_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_author_not_signer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_signature_cryptographically_wrong, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_signed_by_other_roster_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_scope_only_wrong, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_report_is_serial, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
