/*
 * fuzz_schema.c - libFuzzer target for the schema language (schemas/schema.h).
 *
 * Any input is loaded as a schema file. A failed load must leave no schema,
 * fail with VL_EINVALID or VL_ETOOBIG, and say why in the diagnostics; a
 * successful one must say nothing. A schema that loads is then exercised the
 * way the CLI uses it: every field is set from a few texts (enum labels,
 * lists, flow maps, dates), and the data is normalised, validated, masked
 * and reduced to a tombstone. Invariants (each violation aborts):
 * - normalising twice changes nothing the second time;
 * - data that validates keeps validating as a tombstone after
 *   vl_schema_tombstone_data, and a mask keeps the same keys in order;
 * - defaults fill every defaulted field of an empty record, in canonical
 *   form (normalising changes nothing), and a second application nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/schema.h"
#include "store/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz_schema: %s: %s\n", what, vl_error_last());
	abort();
}

/* Texts every field is set from; each is right for some type. */
static const char *const texts[] = {
	"1", "-2.50", "是", "2022-04-07", "2022-04-07T09:30:00+08:00", "abc",
	"a, b、c", "[1, x]", "[{name: a, qty: 1}]", "{k: v}", "50024319800229001x",
	"13812345678", "500243001001", "01hq3k5z6w8x9y0abcdefghjkm", "",
};

/* set_text may refuse a text (VL_EINVALID) or a field (VL_ENOTFOUND), never
 * fail otherwise. */
static void set(const vl_schema *s, vl_value *d, const char *field, const char *text)
{
	int rc = vl_schema_set_text(s, d, field, text);

	if (rc != 0 && rc != VL_EINVALID && rc != VL_ENOTFOUND)
		die("set_text failed with an unexpected code");
}

static void exercise_defaults(const vl_schema *s)
{
	vl_value *d = vl_value_new(VL_V_MAP), *copy = NULL;
	size_t i;

	if (!d)
		die("out of memory");
	if (vl_schema_apply_defaults(s, d) < 0)
		die("apply_defaults failed");
	for (i = 0; i < s->nfields; i++)
		if (!s->fields[i].def != !vl_value_map_get(d, s->fields[i].name))
			die("apply_defaults missed a default or made one up");
	if (!(copy = vl_value_clone(d)))
		die("out of memory");
	if (vl_schema_normalize(s, copy) < 0 || !vl_value_equal(copy, d))
		die("a default is not in canonical form");
	if (vl_schema_apply_defaults(s, copy) < 0 || !vl_value_equal(copy, d))
		die("apply_defaults is not idempotent");
	vl_value_free(copy);
	vl_value_free(d);
}

static void exercise(const vl_schema *s, size_t seed)
{
	vl_value *d = vl_value_new(VL_V_MAP), *copy = NULL, *m = NULL, *t = NULL;
	vl_buf id = VL_BUF_INIT;
	size_t i, j, ntexts = sizeof(texts) / sizeof(texts[0]);
	int rc;

	if (!d)
		die("out of memory");
	for (i = 0; i < s->nfields; i++) {
		const vl_field *f = &s->fields[i];

		/* an enum value, its labels, then the generic texts */
		if (f->nopts) {
			const vl_enum_opt *o = &f->opts[(seed + i) % f->nopts];

			set(s, d, f->name, o->zh);
			set(s, d, f->name, o->en);
		}
		for (j = 0; j < 3; j++)
			set(s, d, f->name, texts[(seed + i * 3 + j) % ntexts]);
	}
	if (vl_schema_set_text(s, d, "no_such_field", "x") != VL_ENOTFOUND)
		die("set_text accepted an unknown field");
	if (vl_schema_normalize(s, d) < 0)
		die("normalize failed");
	if (!(copy = vl_value_clone(d)))
		die("out of memory");
	if (vl_schema_normalize(s, copy) < 0 || !vl_value_equal(copy, d))
		die("normalize is not idempotent");
	if (vl_schema_mask(&m, s, d) < 0)
		die("mask failed");
	if (m->n != d->n)
		die("mask changed the keys");
	for (i = 0; i < d->n; i++)
		if (strcmp(m->keys[i], d->keys[i]) != 0)
			die("mask reordered the keys");
	if (vl_schema_tombstone_data(&t, s, d) < 0)
		die("tombstone_data failed");
	rc = vl_schema_validate(s, d, 0, NULL);
	if (rc != 0 && rc != VL_EINVALID)
		die("validate failed with an unexpected code");
	if (rc == 0 && vl_schema_validate(s, t, 1, NULL) != 0)
		die("the tombstone of valid data does not validate");
	rc = vl_schema_identity(&id, s, d);
	if (rc != 0 && rc != VL_ENOTFOUND)
		die("identity failed with an unexpected code");
	vl_buf_free(&id);
	vl_value_free(t);
	vl_value_free(m);
	vl_value_free(copy);
	vl_value_free(d);
	exercise_defaults(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vl_schema *s = NULL;
	vl_buf diag = VL_BUF_INIT;
	int rc;

	rc = vl_schema_load(&s, (const char *)data, size, "fuzz.yaml", &diag);
	if (rc < 0) {
		if (s || (rc != VL_EINVALID && rc != VL_ETOOBIG))
			die("load failed with an unexpected code or left a schema");
		if (diag.len == 0)
			die("load failed without a diagnostic");
		goto out;
	}
	if (!s || diag.len != 0)
		die("load succeeded with diagnostics or without a schema");
	exercise(s, size);
out:
	vl_schema_free(s);
	vl_buf_free(&diag);
	return 0;
}
