/*
 * yaml_readers.c - the YAML readers compared (yaml_readers.h).
 */
#include "tests/yaml_readers.h"

#include <string.h>

int vt_same_with_positions(const vl_value *a, const vl_value *b)
{
	size_t i;

	if (!vl_value_equal(a, b) || a->line != b->line || a->col != b->col)
		return 0;
	for (i = 0; (a->kind == VL_V_LIST || a->kind == VL_V_MAP) && i < a->n; i++)
		if (!vt_same_with_positions(a->items[i], b->items[i]))
			return 0;
	return 1;
}

/* Is e (just emitted, rc its code) the input itself? */
static int is_input(int rc, const vl_buf *e, const char *data, size_t size)
{
	return rc == 0 && e->len == size && memcmp(e->ptr, data, size) == 0;
}

const char *vt_yaml_readers_differ(vl_buf *shown, const char *data, size_t size, const vl_yaml_limits *lim,
		const char *name, const vl_value *libyaml_tree, int libyaml_rc)
{
	const vl_value *t1 = libyaml_rc < 0 ? NULL : libyaml_tree;
	vl_value *c = NULL, *t0 = NULL, *x = NULL;
	const char *why = NULL;
	int canonical = 0, rc;

	vl_buf_free(shown);
	rc = vl_yaml_load_canonical(&c, data, size, lim);
	if (rc < 0 && (c || (rc != VL_EINVALID && rc != VL_ENOMEM))) {
		why = "canonical reader failed with an unexpected code or left a tree";
		goto out;
	}
	if (rc == 0 && is_input(vl_yaml_emit(shown, c), shown, data, size)) {
		if (!t1) {
			why = "canonical reader accepted what the loader refuses";
			goto out;
		}
		if (!vt_same_with_positions(c, t1)) {
			why = "canonical reader read another tree, or other positions, than the loader";
			goto out;
		}
		canonical = 1;
	}
	vl_buf_free(shown);
	if (t1 && !canonical && is_input(vl_yaml_emit(shown, t1), shown, data, size)) {
		why = "canonical reader refused a canonical document";
		goto out;
	}
	vl_buf_free(shown);
	/* The exact reader (vl_yaml_load_exact, vl_record_parse's first) accepts
	 * an input exactly when it is the emission of the canonical reader's tree. */
	rc = vl_yaml_load_exact(&x, data, size, lim);
	if (rc < 0 && (x || (rc != VL_EINVALID && rc != VL_ENOMEM)))
		why = "exact reader failed with an unexpected code or left a tree";
	else if (rc == 0 && !canonical)
		why = "exact reader accepted a document that is not its tree's emission";
	else if (rc == 0 && !vt_same_with_positions(x, c))
		why = "exact reader read another tree, or other positions, than the canonical reader";
	else if (rc == VL_EINVALID && canonical)
		why = "exact reader refused a canonical document";
	if (why)
		goto out;
	/* vl_yaml_load (the canonical reader first) must say what libyaml says */
	rc = vl_yaml_load(&t0, data, size, lim, name);
	if (rc != libyaml_rc || (rc == 0 && !vt_same_with_positions(t0, t1)))
		why = "vl_yaml_load and libyaml alone disagree";
out:
	vl_value_free(c);
	vl_value_free(t0);
	vl_value_free(x);
	return why;
}
