/*
 * fuzz_uiformassign.c - libFuzzer target for what the UI makes of a
 * submitted ledger form (agent/ui/form.h): the body is decoded as the
 * server decodes it, its "add row"/"remove row" op applied, the form
 * rendered again with it, and its assignments computed for an add and for
 * an edit of a fixed record, against a schema with a field of every type.
 * Besides "no crash, no leak": the rendered form never holds a tag from
 * the input (everything is escaped), and every assignment names a field of
 * the schema. Seeds: corpus/uiformassign/ (accept-* must give
 * assignments, reject-* must be refused).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ui/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

static const char schema_text[] =
	"name: t\nversion: 1\nzh: 测\nen: T\nfields:\n"
	"  - {name: n, type: int, zh: a, en: a, merge: lww}\n"
	"  - {name: d, type: decimal, zh: a, en: a, merge: lww}\n"
	"  - {name: day, type: date, zh: a, en: a, merge: lww}\n"
	"  - {name: at, type: datetime, zh: a, en: a, merge: lww}\n"
	"  - {name: s, type: string, zh: a, en: a, merge: lww, required: true}\n"
	"  - {name: tx, type: text, zh: a, en: a, merge: lww}\n"
	"  - {name: b, type: bool, zh: a, en: a, merge: lww}\n"
	"  - {name: r, type: ref, ref: t, zh: a, en: a, merge: lww}\n"
	"  - name: e\n    type: enum\n    zh: a\n    en: a\n    merge: lww\n"
	"    values:\n      - {value: x, zh: 甲, en: X}\n      - {value: y, zh: 乙, en: Y}\n"
	"  - name: tags\n    type: set\n    items: enum\n    zh: a\n    en: a\n    merge: union\n"
	"    values:\n      - {value: p, zh: 丙, en: P}\n      - {value: q, zh: 丁, en: Q}\n"
	"  - {name: words, type: set, items: string, zh: a, en: a, merge: union}\n"
	"  - {name: seq, type: list, items: int, zh: a, en: a, merge: lww}\n"
	"  - name: items\n    type: list\n    items: map\n    key: name\n    zh: a\n    en: a\n    merge: append\n"
	"    fields:\n      - {name: name, type: string, zh: a, en: a, required: true}\n"
	"      - {name: qty, type: int, zh: a, en: a}\n"
	"  - name: m\n    type: map\n    zh: a\n    en: a\n    merge: lww\n"
	"    fields:\n      - {name: k, type: string, zh: a, en: a}\n"
	"  - {name: secret, type: string, zh: a, en: a, merge: lww, pii: true}\n";

static vl_schema *schema(void)
{
	static vl_schema *s;

	if (!s && vl_schema_load(&s, schema_text, sizeof(schema_text) - 1, "fuzz", NULL) != 0)
		abort();
	return s;
}

/* A record the edits start from. */
static vl_value *current(void)
{
	vl_value *m = vl_value_new(VL_V_MAP);

	if (!m || vl_schema_set_text(schema(), m, "s", "old") != 0 ||
			vl_schema_set_text(schema(), m, "tags", "p") != 0 ||
			vl_schema_set_text(schema(), m, "words", "a, b") != 0 ||
			vl_schema_set_text(schema(), m, "items", "[{name: rice, qty: 2}]") != 0 ||
			vl_schema_set_text(schema(), m, "secret", "x") != 0)
		abort();
	return m;
}

static void check_assign(const vl_form_assign *a)
{
	char *const *lists[4] = { a->sets, a->unsets, a->adds, a->removes };
	size_t ns[4] = { a->nsets, a->nunsets, a->nadds, a->nremoves }, i, k;

	for (k = 0; k < 4; k++)
		for (i = 0; i < ns[k]; i++) {
			char name[130];
			size_t len = strcspn(lists[k][i], "=");

			if (len >= sizeof(name))
				abort();
			memcpy(name, lists[k][i], len);
			name[len] = '\0';
			if (!vl_schema_field(schema(), name))
				abort();
		}
}

/* 1 when the body gave assignments both ways. */
static int run(const uint8_t *data, size_t size)
{
	vl_ui_form f = { NULL, NULL, 0 };
	vl_form_assign a1, a2;
	vl_form_action act;
	vl_form_opts o;
	vl_buf b = VL_BUF_INIT;
	vl_value *cur = current();
	int ok = 0;

	memset(&a1, 0, sizeof(a1));
	memset(&a2, 0, sizeof(a2));
	if (vl_ui_form_parse(&f, (const char *)data, size) != 0 || vl_form_rows_op(&act, &f, schema()) != 0)
		goto out;
	memset(&o, 0, sizeof(o));
	o.schema = schema();
	o.submitted = &f;
	o.data = cur;
	o.edit = act == VL_FORM_ROWS;
	o.tz_min = 480;
	if (vl_form_render(&b, &o) != 0)
		abort(); /* only memory can fail it */
	if (b.ptr && (strstr(b.ptr, "<script") || strstr(b.ptr, "<img")))
		abort();
	if (vl_form_assignments(&a1, schema(), &f, NULL, 480) != 0 ||
			vl_form_assignments(&a2, schema(), &f, cur, -330) != 0)
		goto out;
	check_assign(&a1);
	check_assign(&a2);
	ok = 1;
out:
	vl_form_assign_free(&a1);
	vl_form_assign_free(&a2);
	vl_buf_free(&b);
	vl_ui_form_free(&f);
	vl_value_free(cur);
	return ok;
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
