/*
 * fuzz_query.c - libFuzzer target for the --where parser and evaluator
 * (agent/ops/query.h): the input is lines of expressions, parsed against a
 * schema with a field of every filterable type and, when accepted,
 * evaluated on a record. Besides "no crash, no leak": an accepted query
 * has as many conditions as lines, and a refused one leaves no query.
 * Seeds: corpus/query/ (accept-* must parse, reject-* must not).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/query.h"
#include "store/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

static const char schema_text[] =
	"name: t\nversion: 1\nzh: 测\nen: T\nfields:\n"
	"  - {name: n, type: int, zh: a, en: a, merge: lww}\n"
	"  - {name: d, type: decimal, zh: a, en: a, merge: lww}\n"
	"  - {name: day, type: date, zh: a, en: a, merge: lww}\n"
	"  - {name: at, type: datetime, zh: a, en: a, merge: lww}\n"
	"  - {name: s, type: string, zh: a, en: a, merge: lww}\n"
	"  - {name: b, type: bool, zh: a, en: a, merge: lww}\n"
	"  - name: e\n    type: enum\n    zh: a\n    en: a\n    merge: lww\n"
	"    values:\n      - {value: x, zh: 甲, en: X}\n      - {value: y, zh: 乙, en: Y}\n"
	"  - name: tags\n    type: set\n    items: enum\n    zh: a\n    en: a\n    merge: union\n"
	"    values:\n      - {value: p, zh: 丙, en: P}\n      - {value: q, zh: 丁, en: Q}\n"
	"  - {name: secret, type: string, zh: a, en: a, merge: lww, pii: true}\n";

static vl_schema *schema(void)
{
	static vl_schema *s;

	if (!s && vl_schema_load(&s, schema_text, sizeof(schema_text) - 1, "fuzz", NULL) != 0)
		abort();
	return s;
}

/* Run the input; 1 if the query was accepted. */
static int run(const uint8_t *data, size_t size)
{
	vl_query q = VL_QUERY_INIT;
	vl_value *rec = NULL;
	char *text = NULL, *lines[VL_QUERY_MAX_EXPRS + 2];
	size_t n = 0, i;
	int ok;

	if (!(text = malloc(size + 1)))
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	lines[n++] = text;
	for (i = 0; i < size && n < VL_QUERY_MAX_EXPRS + 2; i++)
		if (text[i] == '\n') {
			text[i] = '\0';
			lines[n++] = text + i + 1;
		}
	ok = vl_query_parse(&q, schema(), (const char *const *)lines, n, 0) == 0;
	if (ok && q.n != n)
		abort();
	if (!ok && (q.n || q.conds))
		abort();
	if (ok) {
		if (!(rec = vl_value_new(VL_V_MAP)) || vl_schema_set_text(schema(), rec, "n", "42") != 0 ||
				vl_schema_set_text(schema(), rec, "d", "12.50") != 0 ||
				vl_schema_set_text(schema(), rec, "day", "2022-04-07") != 0 ||
				vl_schema_set_text(schema(), rec, "at", "2022-04-07T01:12:33.5Z") != 0 ||
				vl_schema_set_text(schema(), rec, "tags", "p") != 0)
			abort();
		(void)vl_query_match(&q, rec);
	}
	vl_value_free(rec);
	vl_query_free(&q);
	free(text);
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
