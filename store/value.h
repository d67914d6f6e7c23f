/*
 * value.h - the in-memory tree of a YAML document as vledger uses it.
 *
 * Records, schemas and CLI input are all loaded into vl_value trees. A tree
 * owns all of its children and strings. Maps keep insertion order (the
 * canonical emitter writes them in that order; the record layer inserts keys
 * in schema order) and never hold two equal keys.
 *
 * Scalars keep their text in `s`:
 *   VL_V_STR   the string itself (UTF-8, may contain NUL-free any text)
 *   VL_V_INT   decimal digits, optional leading '-', no leading zeros
 *   VL_V_DEC   -?(0|[1-9][0-9]*)\.[0-9]+  (exact decimal, never a float)
 *   VL_V_BOOL  "true" or "false"
 *   VL_V_NULL  "null"
 * Not thread safe; distinct trees may be used from distinct threads.
 */
#ifndef VL_VALUE_H
#define VL_VALUE_H

#include <stddef.h>
#include "store/error.h"

typedef enum {
	VL_V_NULL = 0,
	VL_V_STR,
	VL_V_INT,
	VL_V_DEC,
	VL_V_BOOL,
	VL_V_LIST,
	VL_V_MAP
} vl_vkind;

typedef struct vl_value vl_value;
struct vl_value {
	vl_vkind kind;
	char *s;          /* scalar text, NUL-terminated; NULL for LIST/MAP.
	                   * Allocated with the node: edit it in place, never
	                   * free or replace it */
	size_t slen;      /* strlen(s) */
	size_t n;         /* LIST/MAP: number of items */
	size_t cap;
	char **keys;      /* MAP: keys[i] names items[i] */
	vl_value **items; /* LIST items, MAP values */
	int line, col;    /* 1-based source position when loaded; 0 when built */
};

/* Constructors: return NULL only on allocation failure. Caller frees with
 * vl_value_free. */
vl_value *vl_value_new(vl_vkind kind);            /* empty LIST/MAP or NULL */
vl_value *vl_value_str(const char *s);
vl_value *vl_value_strn(const char *s, size_t len);
vl_value *vl_value_int(long long v);
vl_value *vl_value_scalar(vl_vkind kind, const char *text); /* text as is */
vl_value *vl_value_bool(int v);
vl_value *vl_value_clone(const vl_value *v);
void vl_value_free(vl_value *v);

/* MAP: set key to val, taking ownership of val (freed on failure too);
 * replaces an existing value in place (keeping its position). */
int vl_value_map_set(vl_value *map, const char *key, vl_value *val) VL_MUST_CHECK;
/* MAP: append key (with len bytes, no NUL inside) -> val, taking ownership
 * of val (freed on failure too), for a caller that knows key is not in map
 * yet (a reader that just looked: no second search). */
int vl_value_map_append(vl_value *map, const char *key, size_t len, vl_value *val) VL_MUST_CHECK;
/* Borrowed; NULL if absent or map is not a MAP. */
vl_value *vl_value_map_get(const vl_value *map, const char *key);
/* Remove and free; VL_ENOTFOUND if absent. */
int vl_value_map_del(vl_value *map, const char *key);
/* LIST: append, taking ownership of item (freed on failure too). */
int vl_value_list_push(vl_value *list, vl_value *item) VL_MUST_CHECK;

/*
 * The order of a set's items (docs/schemas.md): bytewise by text, the
 * shorter first when one is a prefix of the other. The one copy of this
 * rule: schema validation, normalisation and the union merge all sort by it.
 * A qsort comparator over `vl_value *` array elements (scalars).
 */
int vl_value_set_cmp(const void *a, const void *b);

/* Deep equality (kind, text, order of keys and items). */
int vl_value_equal(const vl_value *a, const vl_value *b);
/* Scalar helpers: text of a scalar, NULL for LIST/MAP/NULL-pointer. */
const char *vl_value_text(const vl_value *v);
/* Parse an INT scalar into *out; VL_EINVALID if not INT or out of range. */
int vl_value_get_int(const vl_value *v, long long *out);

#endif
