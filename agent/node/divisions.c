/*
 * divisions.c - parse and look up the division table (divisions.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/node/divisions.h"
#include "store/buf.h"
#include "store/yaml.h"

#ifndef VL_DEFAULT_DIVISIONS
#define VL_DEFAULT_DIVISIONS "/usr/share/vledger/divisions.csv"
#endif

void vl_divisions_free(vl_divisions *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		free(t->d[i].name);
	free(t->d);
	t->d = NULL;
	t->n = 0;
}

static int div_cmp(const void *a, const void *b)
{
	return strcmp(((const vl_division *)a)->code, ((const vl_division *)b)->code);
}

const vl_division *vl_divisions_find(const vl_divisions *t, const char *code)
{
	vl_division key;

	if (!t || !t->n || !code || strlen(code) != 12)
		return NULL;
	memcpy(key.code, code, 13);
	return bsearch(&key, t->d, t->n, sizeof(*t->d), div_cmp);
}

static int is_code(const char *s, size_t len)
{
	size_t i;

	if (len != 12)
		return 0;
	for (i = 0; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* One data row: code,name,level,parent_code. */
static int parse_row(vl_division *d, const char *line, size_t len, const char *src, size_t lineno)
{
	const char *f[4];
	size_t fl[4], k = 0, i, start = 0;
	char parent[13];

	for (i = 0; i <= len; i++) {
		if (i == len || line[i] == ',') {
			if (k == 4)
				return vl_error_set(VL_EINVALID, "'%s' line %zu: more than 4 columns", src, lineno);
			f[k] = line + start;
			fl[k++] = i - start;
			start = i + 1;
		}
	}
	if (k != 4)
		return vl_error_set(VL_EINVALID, "'%s' line %zu: expected 4 columns code,name,level,parent_code",
				src, lineno);
	if (!is_code(f[0], fl[0]) || !is_code(f[3], fl[3]))
		return vl_error_set(VL_EINVALID, "'%s' line %zu: code and parent_code must be 12 digits", src, lineno);
	memcpy(d->code, f[0], 12);
	d->code[12] = '\0';
	memcpy(d->parent, f[3], 12);
	d->parent[12] = '\0';
	d->level = vl_division_level(d->code);
	if (d->level == VL_DIV_INVALID || fl[2] >= 16 || strncmp(f[2], vl_division_level_name(d->level), fl[2]) != 0 ||
			strlen(vl_division_level_name(d->level)) != fl[2])
		return vl_error_set(VL_EINVALID, "'%s' line %zu: level does not agree with code %s", src, lineno,
				d->code);
	if (vl_division_parent(d->code, parent) < 0 || strcmp(parent, d->parent) != 0)
		return vl_error_set(VL_EINVALID, "'%s' line %zu: parent_code is not the parent of %s", src, lineno,
				d->code);
	if (fl[1] == 0 || fl[1] > VL_DIVISIONS_MAX_NAME || !vl_utf8_valid_nfc(f[1], fl[1]))
		return vl_error_set(VL_EINVALID, "'%s' line %zu: the name must be 1 to %d bytes of UTF-8", src, lineno,
				VL_DIVISIONS_MAX_NAME);
	for (i = 0; i < fl[1]; i++)
		if ((unsigned char)f[1][i] < 0x20 || f[1][i] == 0x7f || f[1][i] == '"')
			return vl_error_set(VL_EINVALID, "'%s' line %zu: the name holds a control character or a quote",
					src, lineno);
	if (!(d->name = malloc(fl[1] + 1)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	memcpy(d->name, f[1], fl[1]);
	d->name[fl[1]] = '\0';
	return 0;
}

int vl_divisions_parse(vl_divisions *out, const char *buf, size_t len, const char *src)
{
	static const char header[] = "code,name,level,parent_code";
	vl_divisions t = VL_DIVISIONS_INIT;
	size_t pos = 0, lineno = 0, cap = 0, i;
	int rc = 0;

	if (len > VL_DIVISIONS_MAX_BYTES)
		return vl_error_set(VL_ETOOBIG, "'%s' is larger than %u bytes", src, VL_DIVISIONS_MAX_BYTES);
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
		pos = 3;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		const char *line = buf + pos;

		pos += l + (nl ? 1 : 0);
		lineno++;
		if (l && line[l - 1] == '\r')
			l--;
		if (memchr(line, '\0', l)) {
			rc = vl_error_set(VL_EINVALID, "'%s' line %zu: holds a NUL byte", src, lineno);
			goto out;
		}
		if (lineno == 1) {
			if (l != sizeof(header) - 1 || memcmp(line, header, l) != 0) {
				rc = vl_error_set(VL_EINVALID, "'%s': the first line must be '%s'", src, header);
				goto out;
			}
			continue;
		}
		if (l == 0)
			continue;
		if (t.n == VL_DIVISIONS_MAX_ROWS) {
			rc = vl_error_set(VL_ETOOBIG, "'%s' has more than %d rows", src, VL_DIVISIONS_MAX_ROWS);
			goto out;
		}
		if ((rc = vl_array_grow((void **)&t.d, &cap, t.n, sizeof(*t.d))) < 0)
			goto out;
		memset(&t.d[t.n], 0, sizeof(t.d[t.n]));
		if ((rc = parse_row(&t.d[t.n], line, l, src, lineno)) < 0) {
			free(t.d[t.n].name);
			goto out;
		}
		t.n++;
	}
	if (lineno == 0) {
		rc = vl_error_set(VL_EINVALID, "'%s' is empty; the first line must be '%s'", src, header);
		goto out;
	}
	if (t.n)
		qsort(t.d, t.n, sizeof(*t.d), div_cmp);
	for (i = 1; i < t.n; i++)
		if (strcmp(t.d[i - 1].code, t.d[i].code) == 0) {
			rc = vl_error_set(VL_EINVALID, "'%s': code %s is listed twice", src, t.d[i].code);
			goto out;
		}
	*out = t;
	t.d = NULL;
	t.n = 0;
out:
	vl_divisions_free(&t);
	return rc;
}

int vl_divisions_load(vl_divisions *out, int *found, const char *home, const char *path)
{
	vl_buf file = VL_BUF_INIT, alt = VL_BUF_INIT;
	const char *p = path, *env = getenv("VLEDGER_DIVISIONS");
	int must = 1, rc;

	*found = 0;
	if (!p && env && *env)
		p = env;
	if (!p) {
		must = 0;
		if (home && (rc = vl_buf_printf(&alt, "%s/divisions.csv", home)) < 0)
			goto out;
		p = alt.ptr && access(alt.ptr, R_OK) == 0 ? alt.ptr : VL_DEFAULT_DIVISIONS;
	}
	if (!must && access(p, R_OK) != 0) {
		rc = 0;
		goto out;
	}
	if ((rc = vl_buf_read_file(&file, p, VL_DIVISIONS_MAX_BYTES)) < 0 ||
			(rc = vl_divisions_parse(out, file.ptr ? file.ptr : "", file.len, p)) < 0)
		goto out;
	*found = 1;
out:
	vl_buf_free(&file);
	vl_buf_free(&alt);
	return rc;
}
