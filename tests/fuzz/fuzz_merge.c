/*
 * fuzz_merge.c - libFuzzer target for the record merge (hooks/merge.h).
 *
 * Input: one flag byte, then the data maps of base, x and y as YAML,
 * separated by lines "%%" (an empty or missing base chunk = add/add).
 * Flags: bit 0 x is a tombstone, bit 1 y is, bit 2 equal clocks, bit 3
 * equal authors, bit 4 no base even when given, bit 5 use the resident
 * schema instead of the built-in one that has a field for every rule.
 * Sides are not required to validate: the merge must cope with anything.
 *
 * Properties (each violation aborts): no crash or leak; merge(x, y) and
 * merge(y, x) both succeed or both fail with the same code, and when they
 * succeed they emit the same bytes, which vl_record_parse accepts; a
 * merged record's data validates; hook fields never run a program (no
 * hooks directory).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks/merge.h"
#include "schemas/schema.h"
#include "store/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every rule, including a keyed append list, a keyed lww list and a hook. */
static const char fuzz_schema[] =
	"name: fuzzmerge\nversion: 1\nzh: 合并\nen: Merge\n"
	"fields:\n"
	"  - {name: code, type: string, zh: 编号, en: Code, max_len: 20, merge: keep}\n"
	"  - {name: name, type: string, zh: 姓名, en: Name, pii: true, max_len: 20, merge: lww}\n"
	"  - {name: idn, type: cn_id, zh: 身份证, en: ID, pii: true, merge: manual}\n"
	"  - {name: n, type: int, zh: 数, en: N, min: 0, max: 100, merge: sum}\n"
	"  - {name: d, type: decimal, zh: 金额, en: Amount, min: 0, merge: sum}\n"
	"  - {name: hi, type: int, zh: 高, en: High, merge: max}\n"
	"  - {name: lo, type: date, zh: 低, en: Low, merge: min}\n"
	"  - {name: at, type: datetime, zh: 时, en: At, merge: max}\n"
	"  - name: tags\n    type: set\n    items: enum\n    zh: 标识\n    en: Tags\n"
	"    values:\n"
	"      - {value: a, zh: 甲, en: A}\n      - {value: b, zh: 乙, en: B}\n"
	"      - {value: c, zh: 丙, en: C}\n"
	"    merge: union\n"
	"  - name: st\n    type: enum\n    zh: 状态\n    en: State\n"
	"    values:\n"
	"      - {value: s1, zh: 一, en: One}\n      - {value: s2, zh: 二, en: Two}\n"
	"      - {value: s3, zh: 三, en: Three}\n      - {value: x1, zh: 终, en: End}\n"
	"      - {value: x2, zh: 止, en: Stop}\n"
	"    merge: order\n    order: [s1, s2, s3]\n    terminal: [s3, x1, x2]\n"
	"  - name: log\n    type: list\n    items: map\n    zh: 记录\n    en: Log\n"
	"    fields:\n"
	"      - {name: date, type: date, zh: 日期, en: Date, required: true}\n"
	"      - {name: text, type: string, zh: 内容, en: Text, pii: true, max_len: 50}\n"
	"    merge: append\n"
	"  - name: items\n    type: list\n    items: map\n    key: name\n    zh: 物资\n    en: Items\n"
	"    fields:\n"
	"      - {name: name, type: string, zh: 名称, en: Name, required: true, max_len: 20}\n"
	"      - {name: qty, type: int, zh: 数量, en: Qty, min: 1, max: 100}\n"
	"    merge: append\n"
	"  - name: pairs\n    type: list\n    items: map\n    key: k\n    zh: 对\n    en: Pairs\n"
	"    fields:\n"
	"      - {name: k, type: string, zh: 键, en: Key, required: true, max_len: 10}\n"
	"      - {name: v, type: string, zh: 值, en: Value, max_len: 10}\n"
	"    merge: lww\n"
	"  - name: amt\n    type: decimal\n    zh: 补助\n    en: Amount\n"
	"    merge: hook:fuzzhook\n"
	"    hook_sha256: 0000000000000000000000000000000000000000000000000000000000000000\n"
	"  - name: m\n    type: map\n    zh: 地址\n    en: Address\n"
	"    fields:\n"
	"      - {name: street, type: string, zh: 街, en: Street, max_len: 20}\n"
	"      - {name: room, type: int, zh: 室, en: Room}\n"
	"    merge: lww\n";


static void die(const char *what)
{
	fprintf(stderr, "fuzz_merge: %s: %s\n", what, vl_error_last());
	abort();
}

static vl_schema *load_schema(int resident)
{
	vl_schema *s = NULL;
	vl_buf text = VL_BUF_INIT;

	if (resident) {
		/* The shipped schema, found from this file's path in the source
		 * tree (fuzz targets get no VL_SOURCE_DIR); skipped if absent. */
		const char *me = __FILE__, *tail = strstr(me, "tests/fuzz/fuzz_merge.c");
		vl_buf path = VL_BUF_INIT;
		int rc;

		if (!tail || vl_buf_printf(&path, "%.*sschemas/resident.yaml", (int)(tail - me), me) < 0)
			return NULL;
		rc = vl_buf_read_file(&text, path.ptr, 1 << 20);
		vl_buf_free(&path);
		if (rc < 0)
			return NULL;
	} else if (vl_buf_puts(&text, fuzz_schema) < 0) {
		die("out of memory");
	}
	if (vl_schema_load(&s, text.ptr, text.len, "fuzz schema", NULL) < 0)
		die("the fuzz schema does not load");
	vl_buf_free(&text);
	return s;
}

/* A side from a YAML chunk; NULL when it does not load as a map. */
static vl_record *side(const vl_schema *s, const char *p, size_t n, const char *clock,
		const char *author, int deleted)
{
	vl_record *r = NULL;
	vl_value *d = NULL;

	if (vl_yaml_load(&d, p, n, &vl_yaml_record_limits, "fuzz") < 0)
		return NULL;
	if (vl_schema_normalize(s, d) < 0 || vl_record_new(&r, s->name, "01hq3k5z6w8x9y0abcdefghjkm",
			"500243001001") < 0) {
		vl_value_free(d);
		return NULL;
	}
	vl_value_free(r->data);
	r->data = d;
	r->deleted = deleted;
	memcpy(r->clock, clock, VL_HLC_TEXT_LEN + 1);
	snprintf(r->author, sizeof(r->author), "%s", author);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static vl_schema *schemas[2];
	static int loaded;
	const char *chunk[3] = { "", "", "" }, *p, *end;
	size_t len[3] = { 0, 0, 0 }, k = 0;
	vl_record *rb = NULL, *rx = NULL, *ry = NULL, *o1 = NULL, *o2 = NULL, *back = NULL;
	vl_merge_side b = { NULL, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	vl_merge_side x = { NULL, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" };
	vl_merge_side y = { NULL, "cccccccccccccccccccccccccccccccccccccccc" };
	vl_merge_env env = { NULL, 0 };
	vl_merge_stats st;
	vl_merge_trace *tr = NULL;
	size_t i;
	vl_buf e1 = VL_BUF_INIT, e2 = VL_BUF_INIT;
	const vl_schema *s;
	unsigned flags;
	int rc1, rc2;

	if (vl_crypto_init() < 0)
		abort();
	if (!loaded) {
		schemas[0] = load_schema(0);
		schemas[1] = load_schema(1);
		loaded = 1;
	}
	if (size < 1)
		return 0;
	flags = data[0];
	s = schemas[(flags >> 5) & 1] ? schemas[(flags >> 5) & 1] : schemas[0];
	p = (const char *)data + 1;
	end = (const char *)data + size;
	chunk[0] = p;
	while (p < end && k < 3) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;

		if (line_end - p == 2 && p[0] == '%' && p[1] == '%') {
			len[k] = (size_t)(p - chunk[k]);
			if (++k < 3)
				chunk[k] = nl ? nl + 1 : end;
		}
		p = nl ? nl + 1 : end;
	}
	if (k < 3)
		len[k] = (size_t)(end - chunk[k]);
	if (k < 2)
		return 0; /* need at least base %% x %% y */

	if (len[0] && !(flags & 16))
		rb = side(s, chunk[0], len[0], "2022-04-07T01:00:00.000Z/0000",
				"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0);
	rx = side(s, chunk[1], len[1], "2022-04-07T02:00:00.000Z/0000",
			"SHA256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", flags & 1);
	ry = side(s, chunk[2], len[2], flags & 4 ? "2022-04-07T02:00:00.000Z/0000"
			: "2022-04-07T03:00:00.000Z/0001",
			flags & 8 ? "SHA256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
			: "SHA256:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", (flags >> 1) & 1);
	if (!rx || !ry)
		goto out;
	b.rec = rb;
	x.rec = rx;
	y.rec = ry;
	rc1 = vl_merge_record(&o1, s, &b, &x, &y, &env, &st, NULL);
	if (rc1 == 0 && st.hooks_run != 0)
		die("a hook ran without a hooks directory");
	rc2 = vl_merge_record(&o2, s, &b, &y, &x, &env, NULL, &tr);
	if (rc1 != rc2 || !o1 != !o2)
		die("merge(x, y) and merge(y, x) disagree on failing");
	if (rc1 == VL_ENOMEM)
		goto out;
	if (rc1 < 0) {
		if (rc1 != VL_EINVALID && rc1 != VL_ETOOBIG)
			die("merge failed with an unexpected code");
		goto out;
	}
	if (vl_record_emit(&e1, o1, 1) < 0 || vl_record_emit(&e2, o2, 1) < 0)
		die("cannot emit a merged record");
	if (e1.len != e2.len || memcmp(e1.ptr, e2.ptr, e1.len) != 0)
		die("merge(x, y) and merge(y, x) differ");
	if (vl_record_parse(&back, e1.ptr, e1.len, "merged") < 0)
		die("a merged record does not parse");
	if (vl_schema_validate(s, o1->data, o1->deleted, NULL) < 0)
		die("a merged record does not validate");
	/* The trace tells what the merge wrote: every entry's result is the
	 * merged value, and a field it leaves out kept one value throughout. */
	if (!tr)
		die("no trace from a successful merge");
	for (i = 0; i < tr->nfields; i++)
		if (strcmp(tr->fields[i].field, "_deleted") != 0 &&
				!vl_value_equal(tr->fields[i].result, vl_value_map_get(o2->data, tr->fields[i].field)))
			die("a trace entry's result is not the merged value");
	for (i = 0; i < s->nfields; i++) {
		const char *f = s->fields[i].name;
		const vl_value *v = vl_value_map_get(o2->data, f);

		if (!vl_merge_trace_find(tr, f) && (!vl_value_equal(v, vl_value_map_get(rx->data, f)) ||
				!vl_value_equal(v, vl_value_map_get(ry->data, f))))
			die("a field the merge changed is missing from the trace");
	}
out:
	vl_merge_trace_free(tr);
	vl_record_free(back);
	vl_record_free(o1);
	vl_record_free(o2);
	vl_record_free(rb);
	vl_record_free(rx);
	vl_record_free(ry);
	vl_buf_free(&e1);
	vl_buf_free(&e2);
	return 0;
}
