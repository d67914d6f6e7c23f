/*
 * testutil.h - helpers shared by the cmocka tests: scratch directories and
 * running real programs (the vledger binary, stock git, ssh-keygen).
 * Include after <cmocka.h>'s prerequisites (stdarg, stddef, setjmp, stdint).
 */
#ifndef VL_TESTUTIL_H
#define VL_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "store/buf.h"

/* A fresh directory under $TMPDIR (default /tmp), "vltest-XXXXXX". Caller
 * frees the string and removes the tree with vt_rmtree. Fails the test on
 * error. */
char *vt_tmpdir(void);
/* rm -rf path (only below /tmp or $TMPDIR, as a safety net). */
void vt_rmtree(const char *path);
/* Run `sh -c cmd` and return its exit status (or -1); stdout+stderr are
 * captured into *out (NUL-terminated, caller frees) when out is not NULL. */
int vt_run(char **out, const char *fmt, ...);
/* Write a whole file; fails the test on error. */
void vt_write(const char *path, const char *data, size_t len);
/* Read a whole file into a NUL-terminated allocation (caller frees). */
char *vt_read(const char *path, size_t *len);

struct git_repository;

/* A scratch directory holding a fresh bare repository (vl_repo_init), the
 * set-up of the tests on one repository. */
typedef struct {
	char *dir;         /* vt_tmpdir's */
	char git[512];     /* "<dir>/repo.git", the bare repository */
	char objects[600]; /* "<git>/objects" */
	struct git_repository *repo; /* open on git */
} vt_repo;

/* Make *r (fails the test on error). */
void vt_repo_make(vt_repo *r);
/* Close r's repository and remove its directory; r may be half made. */
void vt_repo_free(vt_repo *r);
/* cmocka setup and teardown: *state is a vt_repo made by vt_repo_make. */
int vt_repo_setup(void **state);
int vt_repo_teardown(void **state);


/* Append a pack entry's header (pack-format.txt: type in bits 4-6 of the
 * first byte, size in its low 4 bits then 7 bits a byte, low first) to b,
 * for tests that write packs byte by byte. */
void vt_pack_entry_header(vl_buf *b, int type, uint64_t size);

#endif
