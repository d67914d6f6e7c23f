/*
 * test_looselist.c - our loose objects listed once (store/looselist.h), on
 * a real repository written by libgit2: every loose object is there and
 * reads as libgit2 reads it; an id not listed is not there, whatever lies
 * in objects/ beside the real files (a name in capitals, a temporary file,
 * a directory that is not two hex digits); an object written after the
 * listing is not seen (the contract: the listing is of one moment).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/looselist.h"
#include "testutil.h"

/* snprintf into a buffer that must hold it all. */
#define FMT(buf, ...) assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

static void test_lists_loose_objects(void **state)
{
	char *dir = vt_tmpdir(), path[1024], objects[1024], hex[GIT_OID_HEXSZ + 1];
	git_repository *repo = NULL;
	git_odb *home = NULL, *odb = NULL;
	git_odb_backend *b = NULL;
	git_odb_object *o = NULL;
	git_oid ids[3], later, absent, upper;
	const char *data[3] = { "one\n", "two records\n", "three\n" };
	size_t len, i;
	git_object_t type;

	(void)state;
	FMT(path, "%s/r.git", dir);
	FMT(objects, "%s/objects", path);
	assert_int_equal(git_repository_init(&repo, path, 1), 0);
	assert_int_equal(git_repository_odb(&home, repo), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(git_odb_write(&ids[i], home, data[i], strlen(data[i]), GIT_OBJECT_BLOB), 0);
	/* Beside them: a name in capitals (libgit2 never reads it), a
	 * temporary file, a directory that is not an object directory. */
	assert_int_equal(git_odb_hash(&upper, "upper\n", 6, GIT_OBJECT_BLOB), 0);
	git_oid_tostr(hex, sizeof(hex), &upper);
	FMT(path, "%s/%.2s", objects, hex);
	mkdir(path, 0755);
	for (i = 2; hex[i]; i++)
		if (hex[i] >= 'a' && hex[i] <= 'f')
			hex[i] = (char)(hex[i] - 'a' + 'A');
	FMT(path, "%s/%.2s/%s", objects, hex, hex + 2);
	touch(path);
	FMT(path, "%s/%.2s/tmp_obj_Xa1b2c", objects, hex);
	touch(path);
	FMT(path, "%s/zz", objects);
	assert_int_equal(mkdir(path, 0755), 0);
	FMT(path, "%s/zz/%s", objects, "0123456789012345678901234567890123456789" + 2);
	touch(path);

	assert_int_equal(vl_looselist_backend(&b, objects), 0);
	assert_int_equal(git_odb_new(&odb), 0);
	assert_int_equal(git_odb_add_backend(odb, b, 1), 0);
	for (i = 0; i < 3; i++) {
		assert_true(git_odb_exists(odb, &ids[i]));
		assert_int_equal(git_odb_read(&o, odb, &ids[i]), 0);
		assert_int_equal(git_odb_object_size(o), strlen(data[i]));
		assert_memory_equal(git_odb_object_data(o), data[i], strlen(data[i]));
		git_odb_object_free(o);
		assert_int_equal(git_odb_read_header(&len, &type, odb, &ids[i]), 0);
		assert_int_equal(len, strlen(data[i]));
		assert_int_equal(type, GIT_OBJECT_BLOB);
	}
	assert_false(git_odb_exists(odb, &upper));
	assert_int_equal(git_odb_hash(&absent, "nowhere\n", 8, GIT_OBJECT_BLOB), 0);
	assert_false(git_odb_exists(odb, &absent));
	assert_int_equal(git_odb_read(&o, odb, &absent), GIT_ENOTFOUND);
	/* Written after the listing: not seen through it. */
	assert_int_equal(git_odb_write(&later, home, "later\n", 6, GIT_OBJECT_BLOB), 0);
	assert_true(git_odb_exists(home, &later));
	assert_false(git_odb_exists(odb, &later));
	assert_int_equal(git_odb_read_header(&len, &type, odb, &later), GIT_ENOTFOUND);

	git_odb_free(odb);
	git_odb_free(home);
	git_repository_free(repo);
	vt_rmtree(dir);
	free(dir);
}

/* A repository with no objects/xx directory at all (a new one, or one
 * whose objects are all packed): an empty listing, not an error. */
static void test_no_loose_objects(void **state)
{
	char *dir = vt_tmpdir(), objects[1024];
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	git_odb_backend *b = NULL;
	git_oid id;

	(void)state;
	FMT(objects, "%s/r.git", dir);
	assert_int_equal(git_repository_init(&repo, objects, 1), 0);
	FMT(objects, "%s/r.git/objects", dir);
	assert_int_equal(vl_looselist_backend(&b, objects), 0);
	assert_int_equal(git_odb_new(&odb), 0);
	assert_int_equal(git_odb_add_backend(odb, b, 1), 0);
	assert_int_equal(git_odb_hash(&id, "x\n", 2, GIT_OBJECT_BLOB), 0);
	assert_false(git_odb_exists(odb, &id));
	git_odb_free(odb);
	git_repository_free(repo);
	vt_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists_loose_objects),
		cmocka_unit_test(test_no_loose_objects),
	};

	git_libgit2_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
