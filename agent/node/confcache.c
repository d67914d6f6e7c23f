/* confcache.c - the config cache (see confcache.h). */
#include "agent/node/confcache.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/buf.h"

#define MAGIC "vledger-config-cache 1"
#define SUM_LINE_LEN (4 + 2 * 32 + 1) /* "sum " + 64 hex + "\n" */

void vl_confcache_free(vl_confcache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->file[i]);
		free(c->ledger[i]);
	}
	free(c->file);
	free(c->ledger);
	memset(c, 0, sizeof(*c));
}

/* This binary, as the cache key's second half: a rebuilt or upgraded
 * vledger gets its own cache. 0, or -1 where it cannot be told (no cache). */
static int self_id(vl_buf *out)
{
	struct stat st;

	if (stat("/proc/self/exe", &st) != 0)
		return -1;
	return vl_buf_printf(out, "%llu:%llu:%lld:%lld.%09ld", (unsigned long long)st.st_dev,
			(unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			(long)st.st_mtim.tv_nsec) < 0 ? -1 : 0;
}

/* The first lines of the file for tree: magic, binary, tree. */
static int head_lines(vl_buf *out, const git_oid *tree)
{
	vl_buf self = VL_BUF_INIT;
	int rc = -1;

	if (self_id(&self) == 0 && vl_buf_printf(out, MAGIC " %s\ntree %s\n", self.ptr, git_oid_tostr_s(tree)) == 0)
		rc = 0;
	vl_buf_free(&self);
	return rc;
}

static void sum_hex(char hex[2 * 32 + 1], const void *p, size_t len)
{
	unsigned char sum[32];

	crypto_generichash(sum, sizeof(sum), p, len, NULL, 0);
	sodium_bin2hex(hex, 2 * 32 + 1, sum, sizeof(sum));
}

/* A name written on a line between spaces: printable ASCII but space. */
static int name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 255)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

static int path_of(vl_buf *out, const char *home)
{
	return vl_buf_printf(out, "%s/" VL_CONFCACHE_FILE, home);
}

int vl_confcache_load(vl_confcache *out, const char *home, const git_oid *tree)
{
	vl_buf path = VL_BUF_INIT, data = VL_BUF_INIT, head = VL_BUF_INIT;
	vl_confcache c = { 0, 0, NULL, NULL };
	char hex[2 * 32 + 1];
	const char *p, *end;
	size_t body, capf = 0, capl = 0;
	int rc = VL_ENOTFOUND;

	memset(out, 0, sizeof(*out));
	if (path_of(&path, home) < 0 || head_lines(&head, tree) < 0) {
		rc = VL_ENOMEM;
		goto out;
	}
	if (vl_buf_read_file(&data, path.ptr, VL_CONFCACHE_MAX_BYTES) < 0 || data.len < head.len + SUM_LINE_LEN ||
			memcmp(data.ptr, head.ptr, head.len) != 0)
		goto miss;
	body = data.len - SUM_LINE_LEN;
	sum_hex(hex, data.ptr, body);
	if (memcmp(data.ptr + body, "sum ", 4) != 0 || memcmp(data.ptr + body + 4, hex, 64) != 0 ||
			data.ptr[data.len - 1] != '\n')
		goto miss;
	/* "roster canonical|other\n", then "schema FILE LEDGER\n" lines up to the sum. */
	p = data.ptr + head.len;
	end = data.ptr + body;
	if ((size_t)(end - p) >= 17 && !memcmp(p, "roster canonical\n", 17)) {
		c.roster_canonical = 1;
		p += 17;
	} else if ((size_t)(end - p) >= 13 && !memcmp(p, "roster other\n", 13)) {
		p += 13;
	} else {
		goto miss;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *f, *sp;
		if (!nl || (size_t)(nl - p) < 7 || memcmp(p, "schema ", 7) != 0 || c.n == VL_CONFCACHE_MAX_SCHEMAS)
			goto miss;
		f = p + 7;
		if (!(sp = memchr(f, ' ', (size_t)(nl - f))) || !name_ok(f, (size_t)(sp - f)) ||
				!name_ok(sp + 1, (size_t)(nl - sp - 1)))
			goto miss;
		if (vl_array_grow((void **)&c.file, &capf, c.n, sizeof(*c.file)) < 0 ||
				vl_array_grow((void **)&c.ledger, &capl, c.n, sizeof(*c.ledger)) < 0) {
			rc = VL_ENOMEM;
			goto out;
		}
		c.file[c.n] = strndup(f, (size_t)(sp - f));
		c.ledger[c.n] = strndup(sp + 1, (size_t)(nl - sp - 1));
		c.n++;
		if (!c.file[c.n - 1] || !c.ledger[c.n - 1]) {
			rc = VL_ENOMEM;
			goto out;
		}
		p = nl + 1;
	}
	*out = c;
	memset(&c, 0, sizeof(c));
	rc = 0;
	goto out;
miss:
	rc = VL_ENOTFOUND;
out:
	if (rc == VL_ENOMEM)
		vl_error_set(VL_ENOMEM, "out of memory");
	else if (rc != 0)
		vl_error_clear();
	vl_confcache_free(&c);
	vl_buf_free(&path);
	vl_buf_free(&data);
	vl_buf_free(&head);
	return rc;
}

void vl_confcache_save(const char *home, const git_oid *tree, int roster_canonical, const char *const *file,
		const char *const *ledger, size_t n)
{
	vl_buf path = VL_BUF_INIT, data = VL_BUF_INIT, saved = VL_BUF_INIT, old = VL_BUF_INIT;
	char hex[2 * 32 + 1];
	int code = vl_error_code();
	size_t i;

	if (n > VL_CONFCACHE_MAX_SCHEMAS || (code && vl_buf_puts(&saved, vl_error_last()) < 0) ||
			path_of(&path, home) < 0 || head_lines(&data, tree) < 0 ||
			vl_buf_puts(&data, roster_canonical ? "roster canonical\n" : "roster other\n") < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (!name_ok(file[i], strlen(file[i])) || !name_ok(ledger[i], strlen(ledger[i])) ||
				vl_buf_printf(&data, "schema %s %s\n", file[i], ledger[i]) < 0)
			goto out;
	sum_hex(hex, data.ptr, data.len);
	if (vl_buf_printf(&data, "sum %s\n", hex) < 0)
		goto out;
	/* Every full load comes here: the same bytes are not written again. */
	if (vl_buf_read_file(&old, path.ptr, VL_CONFCACHE_MAX_BYTES) == 0 && old.len == data.len &&
			memcmp(old.ptr, data.ptr, data.len) == 0)
		goto out;
	/* cache/ is made by init; a home from before it gets one here. */
	path.len -= strlen(VL_CONFCACHE_FILE) - strlen("cache");
	path.ptr[path.len] = '\0';
	if (mkdir(path.ptr, 0700) != 0 && errno != EEXIST)
		goto out;
	vl_buf_clear(&path);
	if (path_of(&path, home) < 0)
		goto out;
	if (vl_buf_write_file(path.ptr, data.ptr, data.len, 0600) < 0)
		goto out; /* only speed is lost */
out:
	if (code)
		vl_error_set(code, "%s", saved.ptr ? saved.ptr : "");
	else
		vl_error_clear();
	vl_buf_free(&path);
	vl_buf_free(&data);
	vl_buf_free(&saved);
	vl_buf_free(&old);
}
