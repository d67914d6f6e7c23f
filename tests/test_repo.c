/* test_repo.c - signed commits on a real bare repository, CAS ref updates,
 * reads with size caps, key chains and trailers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/repo.h"
#include "testutil.h"

typedef struct {
	vt_repo r;
	vl_key key;
	char fp[VL_FP_LEN];
	char email[80];
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(vl_crypto_init(), 0);
	vt_repo_make(&f->r);
	assert_int_equal(vl_key_generate(&f->key), 0);
	vl_fingerprint(f->fp, f->key.pk);
	snprintf(f->email, sizeof(f->email), "%s@vledger", f->fp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	vt_repo_free(&f->r);
	vl_key_wipe(&f->key);
	free(f);
	return 0;
}

static int commit(fixture *f, git_oid *out, const char *ref, const git_oid *expected, const char *path,
		const char *data, unsigned seq)
{
	vl_change ch = { path, data, data ? strlen(data) : 0, NULL };
	vl_ident who = { "测试村", f->email, 1700000000 + seq };
	char msg[256];

	snprintf(msg, sizeof(msg), "change %u\n\nVledger-Seq: %u\n", seq, seq);
	return vl_repo_commit(out, f->r.repo, ref, expected, &ch, 1, msg, &who, &f->key);
}

static void test_commit_read_and_cas(void **state)
{
	fixture *f = *state;
	const char *ref = VL_REF_SCOPE_PREFIX "500243001001";
	git_oid c1, c2, c3, head;
	vl_buf b = VL_BUF_INIT, raw = VL_BUF_INIT;
	unsigned char pk[32];

	assert_int_equal(commit(f, &c1, ref, NULL, "resident/k/a.yaml", "one\n", 1), 0);
	assert_int_equal(vl_repo_head(&head, f->r.repo, ref), 0);
	assert_true(git_oid_equal(&head, &c1));
	/* Creating again from "no ref" is a conflict: the ref exists now. */
	assert_int_equal(commit(f, &c2, ref, NULL, "resident/k/b.yaml", "two\n", 2), VL_ECONFLICT);
	assert_int_equal(commit(f, &c2, ref, &c1, "resident/k/b.yaml", "two\n", 2), 0);
	/* A stale expected head moves nothing. */
	assert_int_equal(commit(f, &c3, ref, &c1, "resident/k/c.yaml", "three\n", 3), VL_ECONFLICT);
	assert_int_equal(vl_repo_head(&head, f->r.repo, ref), 0);
	assert_true(git_oid_equal(&head, &c2));
	/* Reads: content, absence, size cap from the header. */
	assert_int_equal(vl_repo_read(&b, NULL, f->r.repo, ref, NULL, "resident/k/a.yaml", 100), 0);
	assert_string_equal(b.ptr, "one\n");
	assert_int_equal(vl_repo_read(&b, NULL, f->r.repo, ref, NULL, "resident/k/zz.yaml", 100), VL_ENOTFOUND);
	assert_int_equal(vl_repo_read(NULL, NULL, f->r.repo, ref, NULL, "resident/k/a.yaml", 3), VL_ETOOBIG);
	assert_int_equal(vl_repo_read(NULL, NULL, f->r.repo, ref, NULL, "resident/k", 100), VL_EINVALID);
	/* The commit is signed canonically by our key. */
	assert_int_equal(vl_repo_raw_commit(&raw, f->r.repo, &c2), 0);
	assert_int_equal(vl_commit_verify(raw.ptr, raw.len, pk), 0);
	assert_memory_equal(pk, f->key.pk, 32);
	/* Delete a path. */
	assert_int_equal(commit(f, &c3, ref, &c2, "resident/k/a.yaml", NULL, 3), 0);
	assert_int_equal(vl_repo_read(NULL, NULL, f->r.repo, ref, NULL, "resident/k/a.yaml", 100), VL_ENOTFOUND);
	vl_buf_free(&b);
	vl_buf_free(&raw);
}

static void test_stock_git_accepts(void **state)
{
	fixture *f = *state;
	const char *ref = VL_REF_SCOPE_PREFIX "500243001001";
	vl_buf pub = VL_BUF_INIT;
	char allowed[600], line[800], *out = NULL;
	git_oid c1;

	assert_int_equal(commit(f, &c1, ref, NULL, "resident/k/a.yaml", "one\n", 1), 0);
	assert_int_equal(vl_pubkey_format(&pub, f->key.pk, NULL), 0);
	snprintf(allowed, sizeof(allowed), "%s/allowed", f->r.dir);
	snprintf(line, sizeof(line), "%s namespaces=\"git\" %s\n", f->fp, pub.ptr);
	vt_write(allowed, line, strlen(line));
	assert_int_equal(vt_run(&out, "git --git-dir '%s' -c gpg.ssh.allowedSignersFile='%s' verify-commit %s",
			f->r.git, allowed, git_oid_tostr_s(&c1)), 0);
	assert_non_null(strstr(out, "Good \"git\" signature"));
	free(out);
	/* git fsck agrees the repository is sound. */
	assert_int_equal(vt_run(NULL, "git --git-dir '%s' fsck --strict", f->r.git), 0);
	vl_buf_free(&pub);
}

static void test_key_chain_and_trailers(void **state)
{
	fixture *f = *state;
	const char *ref = VL_REF_SCOPE_PREFIX "500243001001";
	git_oid c1, c2, prev;
	uint64_t seq;
	vl_buf b = VL_BUF_INIT;

	assert_int_equal(commit(f, &c1, ref, NULL, "resident/k/a.yaml", "one\n", 1), 0);
	assert_int_equal(commit(f, &c2, ref, &c1, "resident/k/b.yaml", "two\n", 2), 0);
	assert_int_equal(vl_repo_key_chain(&seq, &prev, f->r.repo, &c2, f->fp), 0);
	assert_int_equal(seq, 2);
	assert_true(git_oid_equal(&prev, &c2));
	assert_int_equal(vl_repo_key_chain(&seq, &prev, f->r.repo, &c2, "SHA256:someoneelse"), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(vl_message_trailer(&b, "s\n\nVledger-Seq: 12\nVledger-Prev: abc\n", "Vledger-Prev"), 0);
	assert_string_equal(b.ptr, "abc");
	vl_buf_clear(&b);
	assert_int_equal(vl_message_trailer(&b, "s\n\nVledger-Seqx: 12\n", "Vledger-Seq"), VL_ENOTFOUND);
	vl_buf_free(&b);
}

static void test_init_refuses_existing(void **state)
{
	fixture *f = *state;
	git_repository *again = NULL;

	assert_int_equal(vl_repo_init(&again, f->r.git), VL_EEXISTS);
	assert_null(again);
	assert_int_equal(vl_repo_open(&again, f->r.git), 0);
	git_repository_free(again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_read_and_cas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stock_git_accepts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_chain_and_trailers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_refuses_existing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
