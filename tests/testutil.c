/* testutil.c - see testutil.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "store/repo.h"
#include "testutil.h"

char *vt_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;
	size_t n;

	if (!base || !*base)
		base = "/tmp";
	n = strlen(base) + 32;
	path = malloc(n);
	assert_non_null(path);
	snprintf(path, n, "%s/vltest-XXXXXX", base);
	assert_non_null(mkdtemp(path));
	return path;
}

void vt_rmtree(const char *path)
{
	if (!path || !strstr(path, "vltest-"))
		return;
	(void)vt_run(NULL, "rm -rf '%s'", path);
}

int vt_run(char **out, const char *fmt, ...)
{
	char cmd[8192];
	char chunk[4096];
	char *acc = NULL;
	size_t len = 0, n;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
		char *na = realloc(acc, len + n + 1);
		assert_non_null(na);
		acc = na;
		memcpy(acc + len, chunk, n);
		len += n;
		acc[len] = '\0';
	}
	st = pclose(p);
	if (out) {
		*out = acc ? acc : strdup("");
	} else {
		free(acc);
	}
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

void vt_write(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

char *vt_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	assert_non_null(f);
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

void vt_repo_make(vt_repo *r)
{
	r->dir = vt_tmpdir();
	snprintf(r->git, sizeof(r->git), "%s/repo.git", r->dir);
	snprintf(r->objects, sizeof(r->objects), "%s/objects", r->git);
	r->repo = NULL;
	assert_int_equal(vl_repo_init(&r->repo, r->git), 0);
}

void vt_repo_free(vt_repo *r)
{
	git_repository_free(r->repo);
	r->repo = NULL;
	vt_rmtree(r->dir);
	free(r->dir);
	r->dir = NULL;
}

int vt_repo_setup(void **state)
{
	vt_repo *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	vt_repo_make(r);
	*state = r;
	return 0;
}

int vt_repo_teardown(void **state)
{
	vt_repo *r = *state;

	vt_repo_free(r);
	free(r);
	return 0;
}

void vt_pack_entry_header(vl_buf *b, int type, uint64_t size)
{
	unsigned char c = (unsigned char)((type & 7) << 4 | (size & 15));

	size >>= 4;
	while (size) {
		assert_int_equal(vl_buf_putc(b, (char)(c | 0x80)), 0);
		c = size & 0x7f;
		size >>= 7;
	}
	assert_int_equal(vl_buf_putc(b, (char)c), 0);
}
