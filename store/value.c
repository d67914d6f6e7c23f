/*
 * value.c - the in-memory YAML tree (see value.h).
 *
 * A node owns its text, its keys and its children. Maps are small (record
 * fields, schema entries) and keep insertion order, so lookups are linear;
 * the loader caps a document at vl_yaml_file_limits.max_nodes anyway.
 */
#include "store/value.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_n(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static int is_scalar_kind(vl_vkind kind)
{
	return kind != VL_V_LIST && kind != VL_V_MAP;
}

/* The text a scalar of `kind` gets when none is given. */
static const char *default_text(vl_vkind kind)
{
	switch (kind) {
	case VL_V_NULL: return "null";
	case VL_V_INT: return "0";
	case VL_V_DEC: return "0.0";
	case VL_V_BOOL: return "false";
	default: return "";
	}
}

/* A scalar node owning a copy of s[0..len). Text stops at an embedded NUL so
 * that slen == strlen(s) always holds. */
static vl_value *scalar_n(vl_vkind kind, const char *s, size_t len)
{
	vl_value *v;
	const char *nul = memchr(s, '\0', len);

	if (nul)
		len = (size_t)(nul - s);
	/* One allocation for the node and its text (vl_value_free knows the
	 * text by its place): a record has dozens of scalars, and loading,
	 * cloning and freeing them was a good part of verify's malloc time. */
	if (len > SIZE_MAX - sizeof(*v) - 1)
		return NULL;
	v = malloc(sizeof(*v) + len + 1);
	if (!v)
		return NULL;
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->s = (char *)(v + 1);
	if (len)
		memcpy(v->s, s, len);
	v->s[len] = '\0';
	v->slen = len;
	return v;
}

vl_value *vl_value_new(vl_vkind kind)
{
	vl_value *v;
	const char *t;

	if (is_scalar_kind(kind)) {
		t = default_text(kind);
		return scalar_n(kind, t, strlen(t));
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->kind = kind;
	return v;
}

vl_value *vl_value_str(const char *s)
{
	return scalar_n(VL_V_STR, s ? s : "", s ? strlen(s) : 0);
}

vl_value *vl_value_strn(const char *s, size_t len)
{
	return scalar_n(VL_V_STR, s ? s : "", s ? len : 0);
}

vl_value *vl_value_int(long long v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%lld", v);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return NULL;
	return scalar_n(VL_V_INT, tmp, (size_t)n);
}

vl_value *vl_value_scalar(vl_vkind kind, const char *text)
{
	if (!is_scalar_kind(kind))
		return vl_value_new(kind);
	if (!text)
		text = default_text(kind);
	return scalar_n(kind, text, strlen(text));
}

vl_value *vl_value_bool(int v)
{
	return v ? scalar_n(VL_V_BOOL, "true", 4) : scalar_n(VL_V_BOOL, "false", 5);
}

vl_value *vl_value_clone(const vl_value *v)
{
	vl_value *c = NULL;
	size_t i;

	if (!v)
		return NULL;
	if (is_scalar_kind(v->kind)) {
		c = scalar_n(v->kind, v->s ? v->s : "", v->s ? v->slen : 0);
		if (c) {
			c->line = v->line;
			c->col = v->col;
		}
		return c;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = v->kind;
	c->line = v->line;
	c->col = v->col;
	if (v->n) {
		c->items = calloc(v->n, sizeof(*c->items));
		if (!c->items)
			goto fail;
		c->cap = v->n;
		if (v->kind == VL_V_MAP) {
			c->keys = calloc(v->n, sizeof(*c->keys));
			if (!c->keys)
				goto fail;
		}
	}
	for (i = 0; i < v->n; i++) {
		if (v->kind == VL_V_MAP) {
			c->keys[i] = dup_n(v->keys[i], strlen(v->keys[i]));
			if (!c->keys[i])
				goto fail;
		}
		c->items[i] = vl_value_clone(v->items[i]);
		c->n = i + 1; /* keys[i] and items[i] are now owned by c */
		if (!c->items[i])
			goto fail;
	}
	return c;
fail:
	vl_value_free(c);
	return NULL;
}

void vl_value_free(vl_value *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		if (v->items)
			vl_value_free(v->items[i]);
	}
	free(v->keys);
	free(v->items);
	if (v->s != (char *)(v + 1)) /* text kept apart from the node */
		free(v->s);
	free(v);
}

/* Room for one more item (and key, for maps). */
static int reserve_one(vl_value *c)
{
	size_t ncap;
	vl_value **items;
	char **keys;

	if (c->n < c->cap)
		return 0;
	if (c->cap > SIZE_MAX / 2 / sizeof(*items))
		return vl_error_set(VL_ENOMEM, "out of memory growing a collection");
	ncap = c->cap ? c->cap * 2 : 4;
	items = realloc(c->items, ncap * sizeof(*items));
	if (!items)
		return vl_error_set(VL_ENOMEM, "out of memory growing a collection");
	c->items = items;
	if (c->kind == VL_V_MAP) {
		keys = realloc(c->keys, ncap * sizeof(*keys));
		if (!keys)
			return vl_error_set(VL_ENOMEM, "out of memory growing a map");
		c->keys = keys;
	}
	c->cap = ncap;
	return 0;
}

static ptrdiff_t map_find(const vl_value *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0)
			return (ptrdiff_t)i;
	return -1;
}

/* Append a copy of key[0..len) -> val (taken: freed on failure too) to
 * map, a MAP known not to hold key: what map_set and map_append share. */
static int map_push(vl_value *map, const char *key, size_t len, vl_value *val)
{
	char *k = NULL;
	int rc;

	if (!(k = dup_n(key, len))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory adding a map key");
		goto out;
	}
	if ((rc = reserve_one(map)) < 0)
		goto out;
	map->keys[map->n] = k;
	map->items[map->n] = val;
	map->n++;
	return 0;
out:
	free(k);
	vl_value_free(val);
	return rc;
}

/* The checks map_set and map_append share: 0, or the error (val freed). */
static int map_args_ok(vl_value *map, const char *key, vl_value *val)
{
	if (!val)
		return vl_error_set(VL_ENOMEM, "out of memory building a value");
	if (!map || map->kind != VL_V_MAP || !key) {
		vl_value_free(val);
		return vl_error_set(VL_EINVALID, "cannot set a key on something that is not a map");
	}
	return 0;
}

int vl_value_map_set(vl_value *map, const char *key, vl_value *val)
{
	ptrdiff_t at;
	int rc;

	if ((rc = map_args_ok(map, key, val)) < 0)
		return rc;
	at = map_find(map, key);
	if (at >= 0) {
		vl_value_free(map->items[at]);
		map->items[at] = val;
		return 0;
	}
	return map_push(map, key, strlen(key), val);
}

int vl_value_map_append(vl_value *map, const char *key, size_t len, vl_value *val)
{
	int rc;

	if ((rc = map_args_ok(map, key, val)) < 0)
		return rc;
	return map_push(map, key, len, val);
}

vl_value *vl_value_map_get(const vl_value *map, const char *key)
{
	ptrdiff_t at;

	if (!map || map->kind != VL_V_MAP || !key)
		return NULL;
	at = map_find(map, key);
	return at < 0 ? NULL : map->items[at];
}

int vl_value_map_del(vl_value *map, const char *key)
{
	ptrdiff_t at;
	size_t i;

	if (!map || map->kind != VL_V_MAP || !key)
		return vl_error_set(VL_ENOTFOUND, "no such key: not a map");
	at = map_find(map, key);
	if (at < 0)
		return vl_error_set(VL_ENOTFOUND, "no key '%s' in the map", key);
	free(map->keys[at]);
	vl_value_free(map->items[at]);
	for (i = (size_t)at; i + 1 < map->n; i++) {
		map->keys[i] = map->keys[i + 1];
		map->items[i] = map->items[i + 1];
	}
	map->n--;
	return 0;
}

int vl_value_list_push(vl_value *list, vl_value *item)
{
	int rc;

	if (!item)
		return vl_error_set(VL_ENOMEM, "out of memory building a value");
	if (!list || list->kind != VL_V_LIST) {
		vl_value_free(item);
		return vl_error_set(VL_EINVALID, "cannot append to something that is not a list");
	}
	if ((rc = reserve_one(list)) < 0) {
		vl_value_free(item);
		return rc;
	}
	list->items[list->n++] = item;
	return 0;
}

int vl_value_equal(const vl_value *a, const vl_value *b)
{
	size_t i;

	if (a == b)
		return 1;
	if (!a || !b || a->kind != b->kind)
		return 0;
	if (is_scalar_kind(a->kind))
		return a->slen == b->slen && memcmp(a->s, b->s, a->slen) == 0;
	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (a->kind == VL_V_MAP && strcmp(a->keys[i], b->keys[i]) != 0)
			return 0;
		if (!vl_value_equal(a->items[i], b->items[i]))
			return 0;
	}
	return 1;
}

const char *vl_value_text(const vl_value *v)
{
	if (!v || !is_scalar_kind(v->kind))
		return NULL;
	return v->s;
}

int vl_value_get_int(const vl_value *v, long long *out)
{
	long long n;
	char *end = NULL;

	if (!v || v->kind != VL_V_INT || !v->s || !v->slen ||
			!(v->s[0] == '-' || (v->s[0] >= '0' && v->s[0] <= '9')))
		return vl_error_set(VL_EINVALID, "value is not an integer");
	errno = 0;
	n = strtoll(v->s, &end, 10);
	if (errno == ERANGE || !end || *end != '\0')
		return vl_error_set(VL_EINVALID, "integer is out of range or malformed");
	*out = n;
	return 0;
}

int vl_value_set_cmp(const void *a, const void *b)
{
	const vl_value *x = *(const vl_value *const *)a, *y = *(const vl_value *const *)b;
	size_t ml = x->slen < y->slen ? x->slen : y->slen;
	int c = memcmp(x->s, y->s, ml);

	if (c)
		return c;
	return x->slen < y->slen ? -1 : x->slen > y->slen ? 1 : 0;
}
