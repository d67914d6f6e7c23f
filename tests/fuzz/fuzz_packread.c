/*
 * fuzz_packread.c - libFuzzer target for the checked reader of a source's
 * pack (store/packread.h). The input is a pack index and a pack: 4 bytes
 * (big-endian) giving the index's length, the index, then the pack. They
 * are written to one scratch directory (made once, reused) as
 * pack-<zeros>.{idx,pack} and opened with vl_packread_backend; when that
 * passes, every id the index lists (at most MAX_IDS) is read through an odb
 * holding only this backend and checked with vl_packread_check, in turn
 * read first or checked first (a chain checked once is remembered). Every
 * id is also read directly (vl_packset_read as the type libgit2 read, a
 * blob when it read none; a set over the scratch
 * directory as an objects directory).
 *
 * Besides "no crash, no leak": a refused open gives no backend; an id of an
 * opened index is never "not found"; an object whose check fails does not
 * read; one that reads has checked, is at most VL_SOURCE_MAX_OBJECT bytes
 * and hashes to its id (strict hash checking is on); a direct read is
 * VL_ENOTFOUND or gives an object of at most its max that hashes to its id and
 * reads the same through libgit2. Under ASan no single
 * allocation may pass 128 MiB (__asan_default_options below; libFuzzer's
 * -malloc_limit_mb=128 does the same): a reader that believed a header
 * (the 95 GB of the CI crash) aborts. Seeds: corpus/packread/ (accept-*
 * open and read every id; reject-* do not), made by
 * tests/fuzz/packread_seeds.py.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, O_CLOEXEC: the libFuzzer build has no vl_warnings */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/limits.h"
#include "store/packread.h"

#define MAX_IDS 256
#define ZEROS "0000000000000000000000000000000000000000"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
	return "max_allocation_size_mb=128";
}

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_packread: %s\n", what);
		abort();
	}
}

static char dir_path[3900], sub_path[3950], idx_path[4096], pack_path[4096];

static void cleanup(void)
{
	unlink(idx_path);
	unlink(pack_path);
	rmdir(sub_path);
	rmdir(dir_path);
}

/* The scratch directory, made once (libgit2 too). */
static void ready(void)
{
	static int done;
	const char *tmp = getenv("TMPDIR");

	if (done)
		return;
	check(git_libgit2_init() >= 0, "cannot start libgit2");
	snprintf(dir_path, sizeof(dir_path), "%s/vlfuzz-packread-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	check(mkdtemp(dir_path) != NULL, "cannot make a scratch directory");
	snprintf(sub_path, sizeof(sub_path), "%s/pack", dir_path);
	check(mkdir(sub_path, 0700) == 0, "cannot make a scratch directory");
	snprintf(idx_path, sizeof(idx_path), "%s/pack-" ZEROS ".idx", sub_path);
	snprintf(pack_path, sizeof(pack_path), "%s/pack-" ZEROS ".pack", sub_path);
	atexit(cleanup);
	done = 1;
}

static void put_file(const char *path, const uint8_t *data, size_t len)
{
	int fd;
	ssize_t n;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	check(fd >= 0, "cannot write a scratch file");
	while (len) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		check(n > 0, "cannot write a scratch file");
		data += n;
		len -= (size_t)n;
	}
	check(close(fd) == 0, "cannot write a scratch file");
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Write the index and the pack; 0 when the input does not split. */
static int split(const uint8_t **idx, size_t *idx_len, const uint8_t *data, size_t size)
{
	uint32_t len;

	if (size < 4)
		return 0;
	len = be32(data);
	if (len > size - 4)
		return 0;
	*idx = data + 4;
	*idx_len = len;
	put_file(idx_path, data + 4, len);
	put_file(pack_path, data + 4 + len, size - 4 - len);
	return 1;
}

/* Read id directly from the set at max, as the type libgit2 read (o), or
 * as a blob when o is NULL. */
static void direct(const vl_packset *set, vl_packread_scratch *s, const git_oid *id, size_t max,
		git_odb_object *o)
{
	vl_buf out = VL_BUF_INIT;
	git_oid again;
	git_object_t type = o ? git_odb_object_type(o) : GIT_OBJECT_BLOB;
	int rc = vl_packset_read(&out, set, s, id, type, max);

	check(rc == 0 || rc == VL_ENOTFOUND, "a direct read failed otherwise than not found");
	if (rc == 0) {
		check(type == GIT_OBJECT_BLOB || type == GIT_OBJECT_TREE || type == GIT_OBJECT_COMMIT,
				"a direct read of a type it does not read");
		check(out.len <= max, "a direct read passed its max");
		check(git_odb_hash(&again, out.ptr, out.len, type) == 0 && git_oid_equal(&again, id),
				"a direct read is not its id's object");
		check(o && git_odb_object_size(o) == out.len && !memcmp(git_odb_object_data(o), out.ptr, out.len),
				"a direct read differs from libgit2's");
	}
	vl_buf_free(&out);
}

/* Open and read every id; 1 when all of them (at least one) read. */
static int run(const uint8_t *data, size_t size)
{
	const uint8_t *idx = NULL;
	size_t idx_len = 0, n, i, good = 0;
	git_odb_backend *b = NULL;
	git_odb *odb = NULL;
	vl_packset *set = NULL;
	vl_packread_scratch *s = NULL;
	int rc;

	ready();
	if (!split(&idx, &idx_len, data, size))
		return 0;
	rc = vl_packread_backend(&b, idx_path);
	if (rc < 0) {
		check(b == NULL, "a refused open gave a backend");
		vl_error_clear();
		return 0;
	}
	check(b != NULL, "an open gave no backend");
	check(vl_packset_open(&set, dir_path) == 0 && vl_packread_scratch_new(&s) == 0, "cannot open the set");
	check(git_odb_new(&odb) == 0, "cannot make an odb");
	check(git_odb_add_backend(odb, b, 1) == 0, "cannot add the backend");
	/* An index that opened is a v2 index of n ids (fanout[255]). */
	check(idx_len >= 8 + 1024 + 40, "an index too short to list its ids opened");
	n = be32(idx + 8 + 4 * 255);
	check(idx_len >= 8 + 1024 + n * 28 + 40, "an index shorter than its ids opened");
	for (i = 0; i < n && i < MAX_IDS; i++) {
		git_oid id, again;
		git_odb_object *o = NULL;
		int c, r;

		git_oid_fromraw(&id, idx + 8 + 1024 + 20 * i);
		if (i % 2) {
			c = vl_packread_check(b, &id);
			r = git_odb_read(&o, odb, &id);
		} else {
			r = git_odb_read(&o, odb, &id);
			c = vl_packread_check(b, &id);
		}
		check(c != VL_ENOTFOUND, "an id of the index was not found");
		check(r != GIT_ENOTFOUND, "an id of the index did not read as found");
		if (c < 0)
			check(r < 0, "an object that failed its check was read");
		if (r == 0) {
			check(c == 0, "an object was read that failed its check");
			check(git_odb_object_size(o) <= VL_SOURCE_MAX_OBJECT, "an object over the limit was read");
			check(git_odb_hash(&again, git_odb_object_data(o), git_odb_object_size(o),
					git_odb_object_type(o)) == 0 && git_oid_equal(&again, &id),
					"an object read is not its id's");
			good++;
		}
		direct(set, s, &id, i % 3 ? 1 << 20 : 64, o);
		git_odb_object_free(o);
	}
	git_odb_free(odb);
	vl_packset_free(set);
	vl_packread_scratch_free(s);
	vl_error_clear();
	git_error_clear();
	return n > 0 && good == n;
}

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	return run(data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)run(data, size);
	return 0;
}
