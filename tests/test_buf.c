/*
 * test_buf.c - reading a file of a source we do not trust (store/buf.h
 * vl_open_regular, vl_buf_read_regular), on real files in a scratch
 * directory: a FIFO and a symbolic link are refused (a FIFO without being
 * waited on: SIGALRM ends a test that would hang), a file over the cap is
 * refused before it is read and leaves the buffer as it was, a missing file
 * is VL_ENOTFOUND only when the caller says absence is allowed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/buf.h"
#include "testutil.h"

typedef struct {
	char *dir;
	char path[600]; /* <dir>/f */
	char other[600]; /* <dir>/g */
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = vt_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/f", f->dir);
	snprintf(f->other, sizeof(f->other), "%s/g", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	vt_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* vl_buf_read_regular of path with flags fails with code, says words, and
 * leaves b holding "kept" (what it held before). Bounded by SIGALRM. */
static void refused(const char *path, size_t max, unsigned flags, int code, const char *words)
{
	vl_buf b = VL_BUF_INIT;
	int rc;

	assert_int_equal(vl_buf_puts(&b, "kept"), 0);
	vl_error_clear();
	alarm(20);
	rc = vl_buf_read_regular(&b, path, max, flags);
	alarm(0);
	if (rc != code)
		fail_msg("%s: %s, want %s: %s", path, vl_error_name(rc), vl_error_name(code), vl_error_last());
	if (words && !strstr(vl_error_last(), words))
		fail_msg("%s: message '%s' does not say '%s'", path, vl_error_last(), words);
	if (words && !strstr(vl_error_last(), path))
		fail_msg("message '%s' does not name '%s'", vl_error_last(), path);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.ptr, "kept");
	vl_buf_free(&b);
}

/* A regular file is appended whole; at the cap exactly is still allowed. */
static void test_read(void **state)
{
	fixture *f = *state;
	vl_buf b = VL_BUF_INIT;
	uint64_t size = 0;
	int fd = -1;

	vt_write(f->path, "0123456789", 10);
	assert_int_equal(vl_buf_puts(&b, "head:"), 0);
	assert_int_equal(vl_buf_read_regular(&b, f->path, 10, 0), 0);
	assert_int_equal(b.len, 15);
	assert_string_equal(b.ptr, "head:0123456789");
	vl_buf_free(&b);
	vt_write(f->other, "", 0);
	assert_int_equal(vl_buf_read_regular(&b, f->other, 0, 0), 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.ptr, "");
	vl_buf_free(&b);
	assert_int_equal(vl_open_regular(&fd, &size, f->path, 0), 0);
	assert_true(fd >= 0);
	assert_int_equal(size, 10);
	close(fd);
}

/* One byte over the cap: VL_ETOOBIG, the buffer as it was. */
static void test_over_cap(void **state)
{
	fixture *f = *state;

	vt_write(f->path, "0123456789", 10);
	refused(f->path, 9, 0, VL_ETOOBIG, "is 10 bytes, over the limit of 9");
}

/* A FIFO with no writer: an open without O_NONBLOCK would wait for one. */
static void test_fifo(void **state)
{
	fixture *f = *state;
	uint64_t size = 7;
	int fd = -7;

	assert_int_equal(mkfifo(f->path, 0600), 0);
	refused(f->path, 100, 0, VL_EINVALID, "is not a regular file");
	refused(f->path, 100, VL_REGULAR_MAY_BE_ABSENT, VL_EINVALID, "is not a regular file");
	alarm(20);
	assert_int_equal(vl_open_regular(&fd, &size, f->path, 0), VL_EINVALID);
	alarm(0);
	assert_int_equal(fd, -7); /* out-params untouched on failure */
	assert_int_equal(size, 7);
	/* A directory is not a regular file either. */
	refused(f->dir, 100, 0, VL_EINVALID, "is not a regular file");
}

/* A symbolic link to a good file is refused (O_NOFOLLOW). */
static void test_symlink(void **state)
{
	fixture *f = *state;

	vt_write(f->other, "0123456789", 10);
	assert_int_equal(symlink(f->other, f->path), 0);
	refused(f->path, 100, 0, VL_EINVALID, "it must be a regular file");
	refused(f->path, 100, VL_REGULAR_MAY_BE_ABSENT, VL_EINVALID, "it must be a regular file");
}

/* Nothing there: VL_ENOTFOUND only with VL_REGULAR_MAY_BE_ABSENT (also when
 * a directory on the way is a file), VL_EINVALID without. */
static void test_absent(void **state)
{
	fixture *f = *state;
	char below[700];

	refused(f->path, 100, VL_REGULAR_MAY_BE_ABSENT, VL_ENOTFOUND, NULL);
	refused(f->path, 100, 0, VL_EINVALID, "it must be a regular file");
	vt_write(f->other, "x", 1);
	snprintf(below, sizeof(below), "%s/h", f->other);
	refused(below, 100, VL_REGULAR_MAY_BE_ABSENT, VL_ENOTFOUND, NULL);
	refused(below, 100, 0, VL_EINVALID, "it must be a regular file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_over_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
