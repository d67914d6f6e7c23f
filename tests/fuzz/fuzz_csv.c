/*
 * fuzz_csv.c - libFuzzer target for the strict CSV parser and the CSV
 * import/export of records (agent/ops/csv.h).
 *
 * Any input is parsed with small caps. A failed parse must leave nothing and
 * fail with VL_EINVALID or VL_ETOOBIG; a successful one must respect the caps
 * and give NUL-terminated UTF-8 cells of the stated lengths. The input is
 * then read as rows of a built-in ledger (every field type a CSV cell can
 * hold); when that succeeds, every record validates, and rendering the
 * records as CSV and reading the rendering back gives the same records (the
 * export -> import round trip). Every violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/csv.h"
#include "store/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

static const char schema_text[] =
	"name: fz\nversion: 1\nzh: 测试\nen: Fuzz\n"
	"fields:\n"
	"  - {name: name, type: string, zh: 姓名, en: Name, required: true, pii: true, max_len: 20, merge: lww}\n"
	"  - {name: note, type: text, zh: 备注, en: Note, max_len: 200, merge: lww}\n"
	"  - {name: n, type: int, zh: 数, en: Count, min: -5, max: 1000, merge: lww}\n"
	"  - {name: d, type: decimal, zh: 金额, en: Amount, merge: lww}\n"
	"  - {name: ok, type: bool, zh: 是否, en: OK, merge: lww}\n"
	"  - {name: day, type: date, zh: 日期, en: Day, merge: lww}\n"
	"  - {name: at, type: datetime, zh: 时间, en: At, merge: lww}\n"
	"  - name: kind\n    type: enum\n    merge: lww\n    zh: 类别\n    en: Kind\n    values:\n"
	"      - {value: a, zh: 甲, en: A}\n      - {value: b, zh: 乙, en: B}\n"
	"  - name: tags\n    type: set\n    merge: union\n    items: enum\n    zh: 标识\n    en: Tags\n    values:\n"
	"      - {value: x, zh: 叉, en: X}\n      - {value: y, zh: 歪, en: Y}\n"
	"  - {name: words, type: set, items: string, zh: 词, en: Words, merge: lww}\n"
	"  - name: items\n    type: list\n    merge: lww\n    items: map\n    key: k\n    zh: 清单\n    en: Items\n    fields:\n"
	"      - {name: k, type: string, zh: 名, en: K, required: true, max_len: 10}\n"
	"      - {name: q, type: int, zh: 量, en: Q}\n";

static const vl_csv_limits small = { 1 << 16, 64, 16, 1024 };

static vl_schema *s;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_csv: %s: %s\n", what, vl_error_last());
	abort();
}

static void load_schema(void)
{
	if (!s && vl_schema_load(&s, schema_text, sizeof(schema_text) - 1, "fuzz", NULL) < 0)
		die("built-in schema does not load");
}

/* Seeds named accept-* / reject-* (replay.c): the rows import, or not. */
int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	vl_value *recs = NULL;
	int rc;

	load_schema();
	rc = vl_csv_records(&recs, NULL, s, (const char *)data, size, "fuzz");
	vl_value_free(recs);
	return rc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vl_csv *c = NULL;
	vl_value *recs = NULL, *again = NULL;
	vl_buf bad = VL_BUF_INIT, csv = VL_BUF_INIT;
	size_t i;
	int rc;

	load_schema();
	rc = vl_csv_parse(&c, (const char *)data, size, &small, "fuzz");
	if (rc < 0) {
		if (c || (rc != VL_EINVALID && rc != VL_ETOOBIG))
			die("parse failed with an unexpected code or left a result");
	} else {
		if (c->nrows == 0 || c->nrows > small.max_rows + 1)
			die("row count outside the caps");
		for (i = 0; i < c->nrows; i++)
			if (c->rows[i].n == 0 || c->rows[i].n > small.max_columns)
				die("column count outside the caps");
		for (i = 0; i < c->ncells; i++) {
			const char *t = c->text + c->cells[i].off;
			if (strlen(t) != c->cells[i].len || c->cells[i].len > small.max_cell ||
					!vl_utf8_valid_nfc(t, c->cells[i].len))
				die("a cell is not what the header promises");
		}
	}
	if (size > small.max_bytes)
		goto out;
	rc = vl_csv_records(&recs, &bad, s, (const char *)data, size, "fuzz");
	if (rc < 0) {
		if (recs || (rc != VL_EINVALID && rc != VL_ETOOBIG))
			die("records failed with an unexpected code or left a result");
		goto out;
	}
	if (bad.len)
		die("records succeeded yet listed bad rows");
	for (i = 0; i < recs->n; i++)
		if (vl_schema_validate(s, recs->items[i], 0, NULL) < 0)
			die("an accepted row does not validate");
	if (vl_csv_render(&csv, s, (const vl_value *const *)recs->items, recs->n) < 0)
		die("render refused accepted records");
	if (vl_csv_records(&again, NULL, s, csv.ptr, csv.len, "rendered") < 0) {
		fprintf(stderr, "%.*s\n", (int)csv.len, csv.ptr);
		die("the rendering does not read back");
	}
	if (again->n != recs->n)
		die("the rendering reads back a different number of records");
	for (i = 0; i < recs->n; i++)
		if (!vl_value_equal(recs->items[i], again->items[i])) {
			fprintf(stderr, "%.*s\n", (int)csv.len, csv.ptr);
			die("the rendering reads back a different record");
		}
out:
	vl_csv_free(c);
	vl_value_free(recs);
	vl_value_free(again);
	vl_buf_free(&bad);
	vl_buf_free(&csv);
	return 0;
}
