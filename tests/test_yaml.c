/*
 * test_yaml.c - the value tree, the strict YAML loader, the canonical
 * emitter and JSON output (store/value.h, store/yaml.h).
 *
 * Golden emissions are exact bytes; every loader rejection has its own case
 * and checks the code, the "src:line:col:" prefix and that the message does
 * not quote the scalar values around the fault.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/value.h"
#include "store/yaml.h"
#include "tests/yaml_readers.h"

/* ------------------------------------------------------------- helpers */

static vl_value *load_ok(const char *y)
{
	vl_value *t = NULL;
	int rc = vl_yaml_load(&t, y, strlen(y), &vl_yaml_file_limits, "t.yaml");

	if (rc != 0)
		fail_msg("load failed (%d): %s\n--- input\n%s", rc, vl_error_last(), y);
	assert_non_null(t);
	return t;
}

/* Emit t and return the bytes (caller frees). */
static char *emit(const vl_value *t)
{
	vl_buf b = VL_BUF_INIT;
	int rc = vl_yaml_emit(&b, t);

	if (rc != 0)
		fail_msg("emit failed (%d): %s", rc, vl_error_last());
	return vl_buf_detach(&b, NULL);
}

static void assert_emits(const vl_value *t, const char *expected)
{
	char *got = emit(t);

	if (strcmp(got, expected) != 0)
		fail_msg("emission differs\n--- expected\n%s--- got\n%s", expected, got);
	free(got);
}

/* Load, emit, load, emit: equal trees, equal bytes; returns the emission. */
static char *fixed_point(const char *y)
{
	vl_value *t1 = load_ok(y), *t2 = NULL;
	char *e1 = emit(t1), *e2;
	int rc = vl_yaml_load(&t2, e1, strlen(e1), &vl_yaml_file_limits, "e.yaml");

	if (rc != 0)
		fail_msg("emission does not load: %s\n--- emission\n%s", vl_error_last(), e1);
	assert_true(vl_value_equal(t1, t2));
	e2 = emit(t2);
	assert_string_equal(e1, e2);
	vl_value_free(t1);
	vl_value_free(t2);
	free(e2);
	return e1;
}

/* Expect vl_yaml_load to fail with `code`, a message starting with `prefix`
 * ("t.yaml:L:C:"), containing `what` (when not NULL) and not containing
 * `secret` (when not NULL). */
static void expect_fail_n(const char *y, size_t len, const vl_yaml_limits *lim, int code,
		const char *prefix, const char *what, const char *secret)
{
	vl_value *t = (vl_value *)(uintptr_t)1; /* must be reset to NULL */
	int rc = vl_yaml_load(&t, y, len, lim ? lim : &vl_yaml_record_limits, "t.yaml");
	const char *msg = vl_error_last();

	if (rc != code)
		fail_msg("expected %s, got %s (%s)", vl_error_name(code), vl_error_name(rc), msg);
	assert_null(t);
	if (prefix && strncmp(msg, prefix, strlen(prefix)) != 0)
		fail_msg("message '%s' does not start with '%s'", msg, prefix);
	if (what && !strstr(msg, what))
		fail_msg("message '%s' does not say '%s'", msg, what);
	if (secret && strstr(msg, secret))
		fail_msg("message '%s' quotes the value '%s'", msg, secret);
}

static void expect_fail(const char *y, int code, const char *prefix, const char *what,
		const char *secret)
{
	expect_fail_n(y, strlen(y), NULL, code, prefix, what, secret);
}

static vl_value *scalar_of(vl_vkind kind, const char *text)
{
	vl_value *v = vl_value_scalar(kind, text);

	assert_non_null(v);
	return v;
}

static void set(vl_value *m, const char *k, vl_value *v)
{
	assert_int_equal(vl_value_map_set(m, k, v), 0);
}

static void push(vl_value *l, vl_value *v)
{
	assert_int_equal(vl_value_list_push(l, v), 0);
}

static vl_value *new_map(void)
{
	vl_value *m = vl_value_new(VL_V_MAP);

	assert_non_null(m);
	return m;
}

static vl_value *new_list(void)
{
	vl_value *l = vl_value_new(VL_V_LIST);

	assert_non_null(l);
	return l;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------- value tree */

static void test_value_basics(void **state)
{
	vl_value *m = new_map(), *c, *c2, *l;
	long long n = 0;

	(void)state;
	set(m, "a", vl_value_str("x"));
	set(m, "b", vl_value_int(-42));
	set(m, "c", vl_value_bool(1));
	set(m, "a", vl_value_str("y")); /* replaces in place */
	assert_int_equal(m->n, 3);
	assert_string_equal(m->keys[0], "a");
	assert_string_equal(vl_value_text(vl_value_map_get(m, "a")), "y");
	assert_int_equal(vl_value_get_int(vl_value_map_get(m, "b"), &n), 0);
	assert_int_equal(n, -42);
	assert_int_equal(vl_value_get_int(vl_value_map_get(m, "a"), &n), VL_EINVALID);
	assert_string_equal(vl_value_text(vl_value_map_get(m, "c")), "true");
	assert_null(vl_value_map_get(m, "zz"));
	assert_null(vl_value_text(m));

	l = new_list();
	push(l, vl_value_new(VL_V_NULL));
	push(l, vl_value_strn("abc", 2));
	set(m, "l", l);
	assert_string_equal(vl_value_text(l->items[0]), "null");
	assert_string_equal(vl_value_text(l->items[1]), "ab");
	assert_int_equal(l->items[1]->slen, 2);

	c = vl_value_clone(m);
	assert_non_null(c);
	assert_true(vl_value_equal(m, c));
	assert_int_equal(vl_value_map_del(c, "b"), 0);
	assert_int_equal(vl_value_map_del(c, "b"), VL_ENOTFOUND);
	assert_false(vl_value_equal(m, c));
	assert_string_equal(c->keys[1], "c");
	assert_string_equal(c->keys[2], "l");

	/* ownership: a failed set/push frees its argument (checked by ASan) */
	assert_int_equal(vl_value_map_set(l, "k", vl_value_str("x")), VL_EINVALID);
	assert_int_equal(vl_value_list_push(m, vl_value_str("x")), VL_EINVALID);
	assert_int_equal(vl_value_map_set(m, "k", NULL), VL_ENOMEM);

	/* equality looks at kinds, not only texts */
	c2 = scalar_of(VL_V_STR, "null");
	assert_false(vl_value_equal(l->items[0], c2));
	vl_value_free(c2);
	vl_value_free(c);
	vl_value_free(m);
	vl_value_free(NULL);
}

static void test_value_int_range(void **state)
{
	vl_value *v;
	long long n = 0;

	(void)state;
	v = vl_value_int(INT64_MIN);
	assert_string_equal(v->s, "-9223372036854775808");
	assert_int_equal(vl_value_get_int(v, &n), 0);
	assert_true(n == INT64_MIN);
	vl_value_free(v);
	v = scalar_of(VL_V_INT, "9223372036854775808");
	n = 7;
	assert_int_equal(vl_value_get_int(v, &n), VL_EINVALID);
	assert_int_equal(n, 7); /* untouched on failure */
	vl_value_free(v);
}

/* -------------------------------------------------------------- golden */

/* The design's record example, built in code. The design printed the id plain;
 * by the safe-plain rule a string starting with a digit is quoted. */
static const char golden_record[] =
	"schema: supply_request\n"
	"id: \"01hq3k5z6w8x9y0abcdefghjkm\"\n"
	"scope: \"500243001001\"\n"
	"clock: \"2022-04-07T01:12:33.120Z/0001\"\n"
	"author: \"SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg\"\n"
	"prev: [\"3b18e512dba79e4c8300dd08aeb37f8e728b8dad\"]\n"
	"data:\n"
	"  request_no: \"500243001001-20220407-003\"\n"
	"  status: purchased\n"
	"  items:\n"
	"    - {name: 大米, qty: 2, unit: 袋}\n"
	"sig: \"U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg+/=\"\n";

static void test_golden_record(void **state)
{
	vl_value *r = new_map(), *data = new_map(), *items = new_list(), *it = new_map();
	vl_value *prev = new_list(), *loaded;
	char *e;

	(void)state;
	set(r, "schema", vl_value_str("supply_request"));
	set(r, "id", vl_value_str("01hq3k5z6w8x9y0abcdefghjkm"));
	set(r, "scope", vl_value_str("500243001001"));
	set(r, "clock", vl_value_str("2022-04-07T01:12:33.120Z/0001"));
	set(r, "author", vl_value_str("SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg"));
	push(prev, vl_value_str("3b18e512dba79e4c8300dd08aeb37f8e728b8dad"));
	set(r, "prev", prev);
	set(data, "request_no", vl_value_str("500243001001-20220407-003"));
	set(data, "status", vl_value_str("purchased"));
	set(it, "name", vl_value_str("大米"));
	set(it, "qty", vl_value_int(2));
	set(it, "unit", vl_value_str("袋"));
	push(items, it);
	set(data, "items", items);
	set(r, "data", data);
	set(r, "sig", vl_value_str("U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg+/="));
	assert_emits(r, golden_record);

	/* and the golden text is itself canonical */
	loaded = load_ok(golden_record);
	assert_true(vl_value_equal(r, loaded));
	e = fixed_point(golden_record);
	assert_string_equal(e, golden_record);
	free(e);
	vl_value_free(loaded);
	vl_value_free(r);
}

static void test_golden_shapes(void **state)
{
	static const char expected[] =
		"住户:\n"
		"  姓名: 张三\n"
		"  地址: \"重庆市彭水县 汉葭街道\"\n"
		"  标记: [独居老人, 残疾人]\n"
		"  电话: \"13800138000\"\n"
		"empty_map: {}\n"
		"empty_list: []\n"
		"nested:\n"
		"  deeper:\n"
		"    x: null\n"
		"list_of_maps:\n"
		"  - {名称: 口罩, 数量: 100, 单价: 0.50}\n"
		"  - {}\n"
		"  - 备注: 这一项的值很长所以不能写成一行的流式映射因为超过了一百个字节的限制\n"
		"    数量: 1\n"
		"  - k: [a, \"b c\"]\n"
		"    m:\n"
		"      z: true\n"
		"  - plain\n"
		"  - []\n"
		"  - [1, 2]\n"
		"  - - {a: 1}\n"
		"    - x\n"
		"lists:\n"
		"  - []\n"
		"end: false\n";
	vl_value *m = new_map(), *who = new_map(), *tags = new_list(), *nested = new_map();
	vl_value *deeper = new_map(), *lom = new_list(), *a = new_map(), *b = new_map();
	vl_value *c = new_map(), *ck = new_list(), *cm = new_map(), *l12 = new_list();
	vl_value *ll = new_list(), *llm = new_map(), *lists = new_list();
	char *e;

	(void)state;
	set(who, "姓名", vl_value_str("张三"));
	set(who, "地址", vl_value_str("重庆市彭水县 汉葭街道"));
	push(tags, vl_value_str("独居老人"));
	push(tags, vl_value_str("残疾人"));
	set(who, "标记", tags);
	set(who, "电话", vl_value_str("13800138000"));
	set(m, "住户", who);
	set(m, "empty_map", vl_value_new(VL_V_MAP));
	set(m, "empty_list", vl_value_new(VL_V_LIST));
	set(deeper, "x", vl_value_new(VL_V_NULL));
	set(nested, "deeper", deeper);
	set(m, "nested", nested);
	set(a, "名称", vl_value_str("口罩"));
	set(a, "数量", vl_value_int(100));
	set(a, "单价", scalar_of(VL_V_DEC, "0.50"));
	push(lom, a);
	push(lom, b);
	set(c, "备注", vl_value_str("这一项的值很长所以不能写成一行的流式映射因为超过了一百个字节的限制"));
	set(c, "数量", vl_value_int(1));
	push(lom, c);
	push(ck, vl_value_str("a"));
	push(ck, vl_value_str("b c"));
	set(cm, "k", ck);
	set(cm, "m", new_map());
	set(vl_value_map_get(cm, "m"), "z", vl_value_bool(1));
	push(lom, cm);
	push(lom, vl_value_str("plain"));
	push(lom, vl_value_new(VL_V_LIST));
	push(l12, vl_value_int(1));
	push(l12, vl_value_int(2));
	push(lom, l12);
	set(llm, "a", vl_value_int(1));
	push(ll, llm);
	push(ll, vl_value_str("x"));
	push(lom, ll);
	set(m, "list_of_maps", lom);
	push(lists, vl_value_new(VL_V_LIST));
	set(m, "lists", lists);
	set(m, "end", vl_value_bool(0));
	assert_emits(m, expected);
	e = fixed_point(expected);
	assert_string_equal(e, expected);
	free(e);
	vl_value_free(m);
}

/* A flow map in a list is used up to 100 bytes, exactly. */
static void test_golden_flow_limit(void **state)
{
	/* "{k: " + v + "}" = 5 + len(v) bytes */
	char v95[96], v96[97];
	vl_value *m = new_map(), *l = new_list(), *i1 = new_map(), *i2 = new_map();
	vl_buf want = VL_BUF_INIT;

	(void)state;
	memset(v95, 'a', 95);
	v95[95] = '\0';
	memset(v96, 'b', 96);
	v96[96] = '\0';
	set(i1, "k", vl_value_str(v95));
	set(i2, "k", vl_value_str(v96));
	push(l, i1);
	push(l, i2);
	set(m, "l", l);
	assert_int_equal(vl_buf_printf(&want, "l:\n  - {k: %s}\n  - k: %s\n", v95, v96), 0);
	assert_emits(m, want.ptr);
	vl_buf_free(&want);
	vl_value_free(m);
}

static void test_emit_empty_and_scalar(void **state)
{
	vl_value *m = new_map(), *s;
	vl_buf b = VL_BUF_INIT;

	(void)state;
	assert_emits(m, "{}\n");
	vl_value_free(m);
	s = vl_value_str("a b");
	assert_int_equal(vl_yaml_emit_scalar(&b, s), 0);
	assert_string_equal(b.ptr, "\"a b\"");
	assert_int_equal(vl_yaml_emit(&b, s), VL_EINVALID); /* not a map */
	assert_string_equal(b.ptr, "\"a b\"");
	vl_value_free(s);
	vl_buf_free(&b);
}

/* --------------------------------------------------------- fixed point */

static void test_fixed_point_many(void **state)
{
	static const char *const docs[] = {
		"a: 1\n",
		"{a: 1, b: [x, y], ? c : d}\n",
		"a: {b: {c: {d: [1, [2, [3, {e: f}]]]}}}\n",
		"a:\n- 1\n- two\n- {x: y}\n- [p, q]\n- - r\n  - s\n",
		"\"quoted key\": 'single'\n'x y': \"a\\tb\\nc\"\n",
		"k: |\n  line 1\n    indented\n  last\n",
		"k: >\n  folded\n  lines\n\n  para\n",
		"k: |-\n  no newline\n",
		"数量: 100\n名称: 大米\n单位: 袋\n备注: \"\"\n",
		"a: null\nb: ~\nc:\nd: Null\ne: NULL\n",
		"n: [0, -1, 1.50, -0.25, 007, 1e3, 0x1f, .inf, 1_000, +1]\n",
		"b: [true, false, True, FALSE, yes, No, on, OFF, y, N]\n",
		"s: [\"\", \" \", \"a \", \" a\", \"a: b\", \"a #b\", \"#c\", \"-\", \"- a\", \"?\", \"'\", \"\\\"\"]\n",
		"s: [\"\\\\\", \"\\u00e9\", \"\\u2028\", \"\\U0001F600\", \"\\x7f\", \"\\x85\", \"\\uFEFF\", \"\\xa0\"]\n",
		"s: [\"\\r\\n\", \"\\e\", \"\\a\\b\\v\\f\", \"\\/\", \"\\_\", \"\\N\\L\\P\"]\n",
		"long: \"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\"\n",
		"l:\n  - {a: 1, b: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\n",
		"l: [[], {}, [[]], {a: {}}]\n",
		"x: \"\u3000全角空格\"\ny: ＡＢＣ１２３\nz: 'ｶﾀｶﾅ'\nw: \"\xef\xbf\xaf\"\n",
		"---\na: 1\n...\n",
		"# comment\na: 1 # trailing\n# end\n",
		"a: 1\r\nb: 2\r\n",
		"? a\n: 1\n? b\n: [x]\n",
		"a: plain text with spaces\nb: multi\n  line plain\n",
		"k: \"\\u00e9\\u0065\"\n",
		"? \"\"\n: empty key\n",
		"1: one\n\"2\": two\ntrue: t\nnull: n\n",
		"k: -9223372036854775808\nm: 9223372036854775807\nn: 9223372036854775808\no: -9223372036854775809\n",
		"k: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, v, w, x, y, z]\n",
	};
	size_t i;
	char *e;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		e = fixed_point(docs[i]);
		free(e);
	}
}

/* Loading canonical text and emitting it gives the same bytes; loading a
 * non-canonical spelling gives the canonical one. */
static void test_canonical_spellings(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "a: 'x'\n", "a: x\n" },
		{ "a: \"01\"\n", "a: \"01\"\n" },
		{ "a: 01\n", "a: \"01\"\n" },
		{ "a: -0\n", "a: 0\n" },
		{ "a: -0.00\n", "a: 0.00\n" },
		{ "a: -0.10\n", "a: -0.10\n" },
		{ "a: ~\n", "a: null\n" },
		{ "a:\n", "a: null\n" },
		{ "a: True\n", "a: \"True\"\n" },
		{ "a: [ 1 ,2 ]\n", "a: [1, 2]\n" },
		{ "a:\n  - x\n  - y\n", "a: [x, \"y\"]\n" },
		{ "a: {b: 1}\n", "a:\n  b: 1\n" },
		{ "a:\n- b: 1\n  c: 2\n", "a:\n  - {b: 1, c: 2}\n" },
		{ "a: [{b: [1]}]\n", "a:\n  - b: [1]\n" },
		{ "a: \"tab\there\"\n", "a: \"tab\\there\"\n" },
		{ "a: \"\\x1b\\x7F\\u0085\"\n", "a: \"\\x1B\\x7F\\x85\"\n" },
		{ "a: \"\\u2029\\ufeff\"\n", "a: \"\\u2029\\uFEFF\"\n" },
		{ "a: \"\\U0001F600\"\n", "a: \"\xf0\x9f\x98\x80\"\n" },
		{ "a: \"\\\\ \\\" '\"\n", "a: \"\\\\ \\\" '\"\n" },
		{ "a: |\n  x\n  y\n", "a: \"x\\ny\\n\"\n" },
		{ "{}", "{}\n" },
		{ "a: []\nb: {}\n", "a: []\nb: {}\n" },
	};
	size_t i;
	vl_value *t;
	char *e;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = load_ok(cases[i].in);
		e = emit(t);
		if (strcmp(e, cases[i].out) != 0)
			fail_msg("case %zu: '%s' emitted as '%s', expected '%s'", i, cases[i].in, e,
					cases[i].out);
		free(e);
		vl_value_free(t);
		free(fixed_point(cases[i].in));
	}
}

/* ---------------------------------------------------------- resolution */

static void test_scalar_resolution(void **state)
{
	static const struct { const char *text; vl_vkind kind; const char *stored; } table[] = {
		{ "0", VL_V_INT, "0" },
		{ "42", VL_V_INT, "42" },
		{ "-7", VL_V_INT, "-7" },
		{ "-0", VL_V_INT, "0" },            /* negative zero loses its sign */
		{ "0123", VL_V_STR, "0123" },       /* leading zero: not a number */
		{ "-012", VL_V_STR, "-012" },
		{ "+1", VL_V_STR, "+1" },
		{ "1_000", VL_V_STR, "1_000" },
		{ "0x1F", VL_V_STR, "0x1F" },
		{ "0o17", VL_V_STR, "0o17" },
		{ "9223372036854775807", VL_V_INT, "9223372036854775807" },
		{ "-9223372036854775808", VL_V_INT, "-9223372036854775808" },
		{ "9223372036854775808", VL_V_STR, "9223372036854775808" }, /* over int64 */
		{ "1.50", VL_V_DEC, "1.50" },       /* exact: trailing zero kept */
		{ "0.5", VL_V_DEC, "0.5" },
		{ "-0.5", VL_V_DEC, "-0.5" },
		{ "-0.0", VL_V_DEC, "0.0" },
		{ "00.5", VL_V_STR, "00.5" },
		{ ".5", VL_V_STR, ".5" },
		{ "1.", VL_V_STR, "1." },
		{ "1e3", VL_V_STR, "1e3" },
		{ "1.5e3", VL_V_STR, "1.5e3" },
		{ ".inf", VL_V_STR, ".inf" },
		{ ".NaN", VL_V_STR, ".NaN" },
		{ "true", VL_V_BOOL, "true" },
		{ "false", VL_V_BOOL, "false" },
		{ "True", VL_V_STR, "True" },
		{ "TRUE", VL_V_STR, "TRUE" },
		{ "yes", VL_V_STR, "yes" },
		{ "no", VL_V_STR, "no" },
		{ "on", VL_V_STR, "on" },
		{ "off", VL_V_STR, "off" },
		{ "null", VL_V_NULL, "null" },
		{ "~", VL_V_NULL, "null" },
		{ "", VL_V_NULL, "null" },
		{ "Null", VL_V_STR, "Null" },
		{ "NULL", VL_V_STR, "NULL" },
		{ "2022-04-07", VL_V_STR, "2022-04-07" },
		{ "12:30", VL_V_STR, "12:30" },
		{ "大米", VL_V_STR, "大米" },
	};
	vl_buf y = VL_BUF_INIT;
	vl_value *t, *v, *q;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		vl_buf_clear(&y);
		assert_int_equal(vl_buf_printf(&y, "v: %s\nq: \"%s\"\n", table[i].text,
				table[i].text), 0);
		t = load_ok(y.ptr);
		v = vl_value_map_get(t, "v");
		q = vl_value_map_get(t, "q");
		if (v->kind != table[i].kind || strcmp(v->s, table[i].stored) != 0)
			fail_msg("'%s' resolved to kind %d '%s', expected kind %d '%s'",
					table[i].text, v->kind, v->s, table[i].kind, table[i].stored);
		/* quoted, the same text is always a string, kept as it is */
		assert_int_equal(q->kind, VL_V_STR);
		assert_string_equal(q->s, table[i].text);
		vl_value_free(t);
		free(fixed_point(y.ptr));
	}
	vl_buf_free(&y);
	/* block scalars are strings too */
	t = load_ok("a: |-\n  123\nb: >-\n  true\n");
	assert_int_equal(vl_value_map_get(t, "a")->kind, VL_V_STR);
	assert_int_equal(vl_value_map_get(t, "b")->kind, VL_V_STR);
	vl_value_free(t);
}

/* ------------------------------------------------------------- quoting */

static void test_string_quoting(void **state)
{
	static const struct { const char *s, *emitted; } table[] = {
		{ "abc", "abc" },
		{ "a-b_c.d9", "a-b_c.d9" },
		{ "大米", "大米" },
		{ "张三丰ＡＢＣ", "张三丰ＡＢＣ" },
		{ "x大米1", "x大米1" },
		{ "", "\"\"" },
		{ "yes", "\"yes\"" }, { "No", "\"No\"" }, { "ON", "\"ON\"" }, { "off", "\"off\"" },
		{ "y", "\"y\"" }, { "N", "\"N\"" }, { "true", "\"true\"" }, { "False", "\"False\"" },
		{ "null", "\"null\"" }, { "NULL", "\"NULL\"" }, { "yess", "yess" },
		{ "1abc", "\"1abc\"" }, { "0", "\"0\"" }, { "500243001001", "\"500243001001\"" },
		{ "-a", "\"-a\"" }, { "_a", "\"_a\"" }, { ".a", "\".a\"" },
		{ "a: b", "\"a: b\"" }, { "a:b", "\"a:b\"" }, { "a #b", "\"a #b\"" },
		{ "#", "\"#\"" }, { " a", "\" a\"" }, { "a ", "\"a \"" }, { "a b", "\"a b\"" },
		{ "a\nb", "\"a\\nb\"" }, { "a\tb", "\"a\\tb\"" }, { "a\rb", "\"a\\rb\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" }, { "it's", "\"it's\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "\x01\x1f\x7f", "\"\\x01\\x1F\\x7F\"" },
		{ "\xc2\x85", "\"\\x85\"" },            /* NEL */
		{ "\xc2\xa0", "\"\xc2\xa0\"" },           /* NBSP: raw but quoted */
		{ "\xe2\x80\xa8", "\"\\u2028\"" },        /* LINE SEPARATOR */
		{ "\xef\xbb\xbf", "\"\\uFEFF\"" },        /* ZWNBSP / BOM */
		{ "é", "\"é\"" },                         /* Latin-1 letter: not in the safe set */
		{ "，", "，" },                           /* U+FF0C fullwidth comma: safe */
		{ "　", "　" },                           /* U+3000 ideographic space: safe */
		{ "a,b", "\"a,b\"" }, { "[a]", "\"[a]\"" }, { "{a}", "\"{a}\"" },
		{ "a/b", "\"a/b\"" }, { "a+b", "\"a+b\"" }, { "@a", "\"@a\"" }, { "`a", "\"`a\"" },
		{ "&a", "\"&a\"" }, { "*a", "\"*a\"" }, { "!a", "\"!a\"" }, { "%a", "\"%a\"" },
		{ "|", "\"|\"" }, { ">", "\">\"" }, { "?", "\"?\"" }, { "~", "\"~\"" },
		{ "😀", "\"😀\"" },
	};
	vl_buf b = VL_BUF_INIT;
	vl_value *v, *m, *t;
	size_t i;
	char *e;

	(void)state;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		v = vl_value_str(table[i].s);
		vl_buf_clear(&b);
		assert_int_equal(vl_yaml_emit_scalar(&b, v), 0);
		if (strcmp(b.ptr, table[i].emitted) != 0)
			fail_msg("'%s' emitted as '%s', expected '%s'", table[i].s, b.ptr,
					table[i].emitted);
		/* as a value and as a key, it loads back unchanged */
		m = new_map();
		set(m, table[i].s, v);
		e = emit(m);
		t = load_ok(e);
		assert_true(vl_value_equal(m, t));
		free(e);
		vl_value_free(t);
		vl_value_free(m);
	}
	vl_buf_free(&b);
}

/* Long keys and values survive libyaml's 1024-character simple-key limit. */
static void test_long_keys_and_values(void **state)
{
	static const char *const fills[] = { "\x01", "\"", "k", "大" };
	vl_value *m, *l, *it, *t;
	char *big, *e;
	size_t i, f, klen;

	(void)state;
	big = malloc(20001);
	assert_non_null(big);
	for (f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
		klen = strlen(fills[f]);
		for (i = 0; i + klen <= 200; i += klen)
			memcpy(big + i, fills[f], klen);
		big[i] = '\0';
		m = new_map();
		set(m, big, vl_value_str("v"));
		set(m, "next", vl_value_str(big)); /* and the same key text as a value */
		e = emit(m);
		t = load_ok(e);
		assert_true(vl_value_equal(m, t));
		free(e);
		vl_value_free(t);
		vl_value_free(m);
	}
	memset(big, 'x', 20000);
	big[20000] = '\0';
	m = new_map();
	l = new_list();
	push(l, vl_value_str(big));
	push(l, vl_value_str("y"));
	set(m, "flow", l);
	l = new_list();
	it = new_map();
	set(it, "k", vl_value_str(big));
	set(it, big + 19900, vl_value_str(big));
	push(l, it);
	push(l, vl_value_str(big));
	set(m, "block", l);
	e = emit(m);
	t = NULL;
	assert_int_equal(vl_yaml_load(&t, e, strlen(e), &vl_yaml_file_limits, "t"), 0);
	assert_true(vl_value_equal(m, t));
	vl_value_free(t);
	vl_value_free(m);
	free(e);
	free(big);
}

/* Lists of lists and maps mixed, in every position. */
static void test_nested_list_shapes(void **state)
{
	static const char *const docs[] = {
		"a: [[[x, {k: v, j: [1, 2], m: {p: o}}], []], [{}]]\n",
		"a: [[{k: \"a long value that pushes this flow map over the hundred byte limit for sure, yes indeed\", j: 2}]]\n",
		"a: [{k: [{x: [[1]]}]}, [[{y: z}]]]\n",
		"a: [{k: {}, j: []}, {k: [{}], j: [[]]}]\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		free(fixed_point(docs[i]));
	{
		char *e = fixed_point(docs[0]);

		assert_string_equal(e,
			"a:\n"
			"  - - - x\n"
			"      - k: v\n"
			"        j: [1, 2]\n"
			"        m:\n"
			"          p: o\n"
			"    - []\n"
			"  - - {}\n");
		free(e);
	}
}

/* ---------------------------------------------------------- rejections */

static void test_reject_size(void **state)
{
	size_t n = VL_RECORD_MAX_BYTES + 1;
	char *big = malloc(n);

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, "a: b\n", 5);
	expect_fail_n(big, n, NULL, VL_ETOOBIG, "t.yaml:1:1:", "over the limit", NULL);
	/* exactly at the cap is fine */
	{
		vl_value *t = NULL;

		assert_int_equal(vl_yaml_load(&t, big, n - 1, &vl_yaml_record_limits, "t"), 0);
		vl_value_free(t);
	}
	free(big);
}

static void test_reject_depth(void **state)
{
	vl_buf y = VL_BUF_INIT;
	vl_value *t = NULL;
	int i;

	(void)state;
	/* 16 nested collections (the top map is 1) load; 17 do not */
	assert_int_equal(vl_buf_puts(&y, "a: "), 0);
	for (i = 0; i < 15; i++)
		assert_int_equal(vl_buf_putc(&y, '['), 0);
	for (i = 0; i < 15; i++)
		assert_int_equal(vl_buf_putc(&y, ']'), 0);
	assert_int_equal(vl_yaml_load(&t, y.ptr, y.len, &vl_yaml_record_limits, "t"), 0);
	free(fixed_point(y.ptr));
	vl_value_free(t);
	vl_buf_clear(&y);
	assert_int_equal(vl_buf_puts(&y, "a: "), 0);
	for (i = 0; i < 16; i++)
		assert_int_equal(vl_buf_putc(&y, '['), 0);
	for (i = 0; i < 16; i++)
		assert_int_equal(vl_buf_putc(&y, ']'), 0);
	expect_fail(y.ptr, VL_ETOOBIG, "t.yaml:1:19:", "nested too deeply", NULL);
	/* block nesting counts the same */
	vl_buf_clear(&y);
	for (i = 0; i < 17; i++)
		assert_int_equal(vl_buf_printf(&y, "%*sk:\n", 2 * i, ""), 0);
	expect_fail(y.ptr, VL_ETOOBIG, "t.yaml:17:", "nested too deeply", NULL);
	vl_buf_free(&y);
}

/* 400 KB of '[' takes libyaml minutes on its own; the depth cap stops it at
 * once. With the record caps the size check refuses it first. */
static void test_reject_deep_flow_bomb_fast(void **state)
{
	static const vl_yaml_limits roomy = { (size_t)1 << 20, 16, 1000 };
	size_t n = 400 * 1024, i;
	char *bomb = malloc(n);
	double t0;

	(void)state;
	assert_non_null(bomb);
	memset(bomb, '[', n);
	t0 = now_s();
	/* a list at the top is refused at its first event */
	expect_fail_n(bomb, n, &roomy, VL_EINVALID, "t.yaml:1:1:", "top level must be a mapping",
			NULL);
	expect_fail_n(bomb, n, NULL, VL_ETOOBIG, "t.yaml:1:1:", "over the limit", NULL);
	memcpy(bomb, "a: ", 3);
	expect_fail_n(bomb, n, &roomy, VL_ETOOBIG, "t.yaml:1:", "nested too deeply", NULL);
	/* `{{` is a map used as a key: refused at once too */
	memset(bomb, '{', n);
	memcpy(bomb, "a: ", 3);
	expect_fail_n(bomb, n, &roomy, VL_EINVALID, "t.yaml:1:5:", "must be a scalar", NULL);
	for (i = 0; i + 4 <= n; i += 4)
		memcpy(bomb + i, "{k: ", 4);
	memcpy(bomb, "a: ", 3);
	expect_fail_n(bomb, n, &roomy, VL_ETOOBIG, "t.yaml:1:", "nested too deeply", NULL);
	/* block nesting, 100 KB deep */
	for (i = 0; i + 4 <= n; i += 4)
		memcpy(bomb + i, "- - ", 4);
	memcpy(bomb, "a:\n", 3);
	expect_fail_n(bomb, n, &roomy, VL_ETOOBIG, "t.yaml:2:", "nested too deeply", NULL);
	assert_true(now_s() - t0 < 2.0);
	free(bomb);
}

static void test_reject_nodes(void **state)
{
	vl_buf y = VL_BUF_INIT;
	vl_value *t = NULL;
	int i;

	(void)state;
	/* top map + key + list = 3 nodes; 997 items make 1000 */
	assert_int_equal(vl_buf_puts(&y, "l: [0"), 0);
	for (i = 1; i < 997; i++)
		assert_int_equal(vl_buf_puts(&y, ",0"), 0);
	assert_int_equal(vl_buf_puts(&y, "]\n"), 0);
	assert_int_equal(vl_yaml_load(&t, y.ptr, y.len, &vl_yaml_record_limits, "t"), 0);
	assert_int_equal(vl_value_map_get(t, "l")->n, 997);
	vl_value_free(t);
	y.len -= 2;
	assert_int_equal(vl_buf_puts(&y, ",0]\n"), 0);
	expect_fail(y.ptr, VL_ETOOBIG, "t.yaml:1:", "too many nodes", NULL);
	/* keys count as nodes */
	vl_buf_clear(&y);
	for (i = 0; i < 500; i++)
		assert_int_equal(vl_buf_printf(&y, "k%d: v\n", i), 0);
	expect_fail(y.ptr, VL_ETOOBIG, "t.yaml:500:", "too many nodes", NULL);
	vl_buf_free(&y);
}

static void test_reject_anchor_alias_tag(void **state)
{
	/* the 9x9 "billion laughs" alias bomb */
	static const char bomb[] =
		"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";

	(void)state;
	expect_fail(bomb, VL_EINVALID, "t.yaml:1:4:", "anchors", "lol");
	expect_fail("a: &x secret1\n", VL_EINVALID, "t.yaml:1:4:", "anchors", "secret1");
	expect_fail("a: *x\n", VL_EINVALID, "t.yaml:1:4:", "aliases", NULL);
	expect_fail("a: [b, *x]\n", VL_EINVALID, "t.yaml:1:8:", "aliases", NULL);
	expect_fail("&top {a: 1}\n", VL_EINVALID, "t.yaml:1:1:", "anchors", NULL);
	expect_fail("a: !!str secret2\n", VL_EINVALID, "t.yaml:1:4:", "tags", "secret2");
	expect_fail("a: !local secret3\n", VL_EINVALID, "t.yaml:1:4:", "tags", "secret3");
	expect_fail("a: ! secret4\n", VL_EINVALID, "t.yaml:1:4:", "tags", "secret4");
	expect_fail("a: !!seq [1]\n", VL_EINVALID, "t.yaml:1:4:", "tags", NULL);
	expect_fail("--- !!map\na: 1\n", VL_EINVALID, "t.yaml:1:5:", "tags", NULL);
	expect_fail("!!str k: v\n", VL_EINVALID, "t.yaml:1:1:", "tags", NULL);
	expect_fail("%TAG !e! tag:example.com,2000:\n---\na: 1\n", VL_EINVALID, "t.yaml:",
			"directives", NULL);
	expect_fail("%YAML 1.1\n---\na: 1\n", VL_EINVALID, "t.yaml:", "directives", NULL);
}

static void test_reject_structure(void **state)
{
	(void)state;
	expect_fail("a: secret1\n---\nb: secret2\n", VL_EINVALID, "t.yaml:2:1:",
			"more than one document", "secret");
	expect_fail("a: 1\n...\n---\na: 2\n", VL_EINVALID, "t.yaml:3:1:",
			"more than one document", NULL);
	expect_fail("name: 张三secret\nname: 李四secret\n", VL_EINVALID, "t.yaml:2:1:",
			"duplicate mapping key", "secret");
	expect_fail("a:\n  x: 1\n  y: 2\n  x: 3\n", VL_EINVALID, "t.yaml:4:3:", "duplicate", NULL);
	expect_fail("1: a\n\"1\": b\n", VL_EINVALID, "t.yaml:2:1:", "duplicate", NULL);
	expect_fail("{a: 1, a: 2}\n", VL_EINVALID, "t.yaml:1:8:", "duplicate", NULL);
	expect_fail("[a]: b\n", VL_EINVALID, "t.yaml:1:1:", "must be a scalar", NULL);
	expect_fail("? {k: secret}\n: b\n", VL_EINVALID, "t.yaml:1:3:", "must be a scalar",
			"secret");
	expect_fail("a:\n  ? [x, y]\n  : z\n", VL_EINVALID, "t.yaml:2:5:", "must be a scalar",
			NULL);
	expect_fail("- a\n- b\n", VL_EINVALID, "t.yaml:1:1:", "top level must be a mapping", NULL);
	expect_fail("just text\n", VL_EINVALID, "t.yaml:1:1:", "top level must be a mapping",
			"just text");
	expect_fail("", VL_EINVALID, "t.yaml:1:1:", "empty document", NULL);
	expect_fail("# only a comment\n", VL_EINVALID, "t.yaml:1:1:", "empty document", NULL);
	expect_fail("---\n", VL_EINVALID, "t.yaml:", "top level must be a mapping", NULL);
	/* long keys would not survive libyaml's 1024-character simple-key limit */
	{
		char key[202];
		vl_buf y = VL_BUF_INIT;

		memset(key, 'k', 201);
		key[201] = '\0';
		assert_int_equal(vl_buf_printf(&y, "? %s\n: v\n", key), 0);
		expect_fail(y.ptr, VL_EINVALID, "t.yaml:1:3:", "longer than 200 bytes", NULL);
		key[200] = '\0';
		vl_buf_clear(&y);
		assert_int_equal(vl_buf_printf(&y, "%s: v\n", key), 0);
		free(fixed_point(y.ptr));
		vl_buf_free(&y);
	}
}

/* Large maps: duplicates found past the linear-search size, in linear time. */
static void test_large_map(void **state)
{
	vl_buf y = VL_BUF_INIT;
	vl_value *t = NULL;
	double t0;
	int i;

	(void)state;
	for (i = 0; i < 9999; i++)
		assert_int_equal(vl_buf_printf(&y, "k%05d: %d\n", i, i), 0);
	t0 = now_s();
	assert_int_equal(vl_yaml_load(&t, y.ptr, y.len, &vl_yaml_file_limits, "t"), 0);
	assert_true(now_s() - t0 < 2.0);
	assert_int_equal(t->n, 9999);
	assert_string_equal(t->keys[9998], "k09998");
	assert_string_equal(vl_value_map_get(t, "k04321")->s, "4321");
	vl_value_free(t);
	assert_int_equal(vl_buf_puts(&y, "k04321: secret\n"), 0);
	expect_fail_n(y.ptr, y.len, &vl_yaml_file_limits, VL_EINVALID, "t.yaml:10000:1:",
			"duplicate", "secret");
	vl_buf_clear(&y);
	for (i = 0; i < 40; i++)
		assert_int_equal(vl_buf_printf(&y, "k%d: {a%d: 1}\n", i, i), 0);
	assert_int_equal(vl_buf_puts(&y, "k17: 2\n"), 0);
	expect_fail(y.ptr, VL_EINVALID, "t.yaml:41:1:", "duplicate", NULL);
	vl_buf_free(&y);
}

static void test_reject_syntax_messages(void **state)
{
	(void)state;
	expect_fail("a: \"secret \\q\"\n", VL_EINVALID, "t.yaml:1:", "escape", "secret");
	expect_fail("a: 'secret\n", VL_EINVALID, "t.yaml:", NULL, "secret");
	expect_fail("a: b: secret\n", VL_EINVALID, "t.yaml:1:5:", NULL, "secret");
	expect_fail("a: [secret\n", VL_EINVALID, "t.yaml:", NULL, "secret");
	expect_fail("a:\n\tb: secret\n", VL_EINVALID, "t.yaml:2:", NULL, "secret");
	/* a C1 control raw in the input: libyaml's reader refuses it */
	expect_fail("a: secret\xc2\x80\n", VL_EINVALID, "t.yaml:1:10:", NULL, "secret");
}

#define S(lit) lit, sizeof(lit) - 1
static void test_reject_encoding(void **state)
{
	static const struct { const char *y; size_t len; const char *prefix, *what; } cases[] = {
		{ S("a: secret\xff\n"), "t.yaml:1:10:", "invalid UTF-8" },
		{ S("a: secret\xc3\n"), "t.yaml:1:10:", "invalid UTF-8" },       /* truncated */
		{ S("a: secret\xc3"), "t.yaml:1:10:", "invalid UTF-8" },         /* at the end */
		{ S("a: secret\x80\n"), "t.yaml:1:10:", "invalid UTF-8" },       /* lone continuation */
		{ S("a: secret\xc0\xaf\n"), "t.yaml:1:10:", "invalid UTF-8" },   /* overlong '/' */
		{ S("a: secret\xe0\x80\xaf\n"), "t.yaml:1:10:", "invalid UTF-8" },
		{ S("a: secret\xf0\x80\x80\xaf\n"), "t.yaml:1:10:", "invalid UTF-8" },
		{ S("a: secret\xed\xa0\x80\n"), "t.yaml:1:10:", "invalid UTF-8" }, /* surrogate */
		{ S("a: secret\xed\xbf\xbf\n"), "t.yaml:1:10:", "invalid UTF-8" },
		{ S("a: secret\xf4\x90\x80\x80\n"), "t.yaml:1:10:", "invalid UTF-8" }, /* > U+10FFFF */
		{ S("a: secret\xf8\x88\x80\x80\x80\n"), "t.yaml:1:10:", "invalid UTF-8" },
		{ S("a: secret\0x\n"), "t.yaml:1:10:", "NUL" },
		{ S("\xef\xbb\xbf" "a: secret\n"), "t.yaml:1:1:", "byte order mark" },
		{ S("a: secret\xef\xbb\xbf\n"), "t.yaml:1:10:", "byte order mark" },
		{ S("a: secre\xcc\x81\n"), "t.yaml:1:9:", "NFC" },               /* U+0301 */
		{ S("a: 大\xef\xa4\x80secret\n"), "t.yaml:1:5:", "NFC" },       /* U+F900 */
		{ S("a: x\xf0\xaf\xa0\x80secret\n"), "t.yaml:1:5:", "NFC" },     /* U+2F800 */
		{ S("a: x\xe2\x83\x90secret\n"), "t.yaml:1:5:", "NFC" },         /* U+20D0 */
		{ S("a: x\xef\xb8\xa0secret\n"), "t.yaml:1:5:", "NFC" },         /* U+FE20 */
		{ S("a: ok\nb: secret\xcc\x88\n"), "t.yaml:2:10:", "NFC" },      /* U+0308 line 2 */
		/* escapes can make what the raw check refuses */
		{ S("a: \"secret\\0\"\n"), "t.yaml:1:4:", "NUL" },
		{ S("a: \"secret\\x00\"\n"), "t.yaml:1:4:", "NUL" },
		{ S("a: \"e\\u0301secret\"\n"), "t.yaml:1:4:", "NFC" },
		{ S("a: \"\\uF900secret\"\n"), "t.yaml:1:4:", "NFC" },
		{ S("\"k\\u0301\": secret\n"), "t.yaml:1:1:", "NFC" },
		{ S("a: \"\\uD800secret\"\n"), "t.yaml:1:", NULL },              /* surrogate escape */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_fail_n(cases[i].y, cases[i].len, NULL, VL_EINVALID, cases[i].prefix,
				cases[i].what, "secret");
	}
}

/* The twelve unified ideographs inside the compatibility block are NFC. */
static void test_nfc_exceptions(void **state)
{
	vl_value *t;

	(void)state;
	t = load_ok("a: \xef\xa8\x8e\xef\xa8\xa9\n"); /* U+FA0E U+FA29 */
	vl_value_free(t);
	free(fixed_point("a: \xef\xa8\x8e\n"));
	expect_fail("a: \xef\xa8\x90\n", VL_EINVALID, "t.yaml:1:4:", "NFC", NULL); /* U+FA10 */
}

static void test_utf8_valid_nfc(void **state)
{
	(void)state;
	assert_true(vl_utf8_valid_nfc("", 0));
	assert_true(vl_utf8_valid_nfc("abc", 3));
	assert_true(vl_utf8_valid_nfc("大米 é \xf0\x9f\x98\x80", strlen("大米 é \xf0\x9f\x98\x80")));
	assert_true(vl_utf8_valid_nfc("\xef\xbb\xbf", 3)); /* a BOM is the loader's business */
	assert_true(vl_utf8_valid_nfc("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
	assert_true(vl_utf8_valid_nfc("\xed\x9f\xbf", 3));     /* U+D7FF */
	assert_true(vl_utf8_valid_nfc("\xee\x80\x80", 3));     /* U+E000 */
	assert_true(vl_utf8_valid_nfc("\xcd\xaf", 2) == 0);    /* U+036F */
	assert_true(vl_utf8_valid_nfc("\xcd\xb0", 2));         /* U+0370 */
	assert_false(vl_utf8_valid_nfc("a\0b", 3));
	assert_false(vl_utf8_valid_nfc("\xc1\xbf", 2));
	assert_false(vl_utf8_valid_nfc("\xe0\x9f\xbf", 3));
	assert_false(vl_utf8_valid_nfc("\xf0\x8f\xbf\xbf", 4));
	assert_false(vl_utf8_valid_nfc("\xed\xa0\x80", 3));
	assert_false(vl_utf8_valid_nfc("\xf4\x90\x80\x80", 4));
	assert_false(vl_utf8_valid_nfc("\xe4\xb8", 2));
	assert_false(vl_utf8_valid_nfc("\xcc\x80", 2));          /* U+0300 */
	assert_false(vl_utf8_valid_nfc("\xe1\xaa\xb0", 3));      /* U+1AB0 */
	assert_false(vl_utf8_valid_nfc("\xe1\xb7\x80", 3));      /* U+1DC0 */
	assert_false(vl_utf8_valid_nfc("\xef\xab\xbf", 3));      /* U+FAFF */
	assert_false(vl_utf8_valid_nfc("\xf0\xaf\xa8\x9f", 4));  /* U+2FA1F */
	assert_true(vl_utf8_valid_nfc("\xf0\xaf\xa8\xa0", 4));   /* U+2FA20 */
}

/* Nothing the emitter writes fails to load: it refuses such trees instead. */
static void test_emit_refuses(void **state)
{
	static const struct { vl_vkind kind; const char *text; } bad[] = {
		{ VL_V_STR, "e\xcc\x81" }, { VL_V_STR, "\xff" }, { VL_V_STR, "\xef\xa4\x80" },
		{ VL_V_INT, "01" }, { VL_V_INT, "-0" }, { VL_V_INT, "1.5" }, { VL_V_INT, "x" },
		{ VL_V_INT, "" }, { VL_V_INT, "99999999999999999999" },
		{ VL_V_DEC, "1" }, { VL_V_DEC, "-0.0" }, { VL_V_DEC, ".5" }, { VL_V_DEC, "1e5" },
		{ VL_V_BOOL, "yes" }, { VL_V_BOOL, "True" }, { VL_V_NULL, "~" },
	};
	vl_buf b = VL_BUF_INIT;
	vl_value *m, *v;
	char key[202];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = new_map();
		set(m, "k", scalar_of(bad[i].kind, bad[i].text));
		assert_int_equal(vl_buf_puts(&b, "keep"), 0);
		if (vl_yaml_emit(&b, m) != VL_EINVALID)
			fail_msg("emitted a %d scalar '%s'", bad[i].kind, bad[i].text);
		assert_string_equal(b.ptr, "keep"); /* out untouched on failure */
		vl_buf_clear(&b);
		vl_value_free(m);
	}
	memset(key, 'k', 201);
	key[201] = '\0';
	m = new_map();
	set(m, key, vl_value_str("v"));
	assert_int_equal(vl_yaml_emit(&b, m), VL_EINVALID);
	vl_value_free(m);
	m = new_map();
	set(m, "e\xcc\x81", vl_value_str("v"));
	assert_int_equal(vl_yaml_emit(&b, m), VL_EINVALID);
	vl_value_free(m);
	v = new_list();
	assert_int_equal(vl_yaml_emit(&b, v), VL_EINVALID);
	assert_int_equal(vl_yaml_emit_scalar(&b, v), VL_EINVALID);
	vl_value_free(v);
	vl_buf_free(&b);
}

static void test_positions(void **state)
{
	vl_value *t = load_ok("a: 1\nb:\n  c: [x, 大米, z]\n  d: {e: f}\n");
	vl_value *b = vl_value_map_get(t, "b"), *c = vl_value_map_get(b, "c");

	(void)state;
	assert_int_equal(t->line, 1);
	assert_int_equal(t->col, 1);
	assert_int_equal(vl_value_map_get(t, "a")->line, 1);
	assert_int_equal(vl_value_map_get(t, "a")->col, 4);
	assert_int_equal(b->line, 3);
	assert_int_equal(b->col, 3);
	assert_int_equal(c->line, 3);
	assert_int_equal(c->col, 6);
	assert_int_equal(c->items[2]->col, 14); /* columns count characters */
	assert_int_equal(vl_value_map_get(b, "d")->col, 6);
	vl_value_free(t);
}

/* ---------------------------------------------------------------- JSON */

static void test_json(void **state)
{
	vl_value *t = load_ok(
		"名称: 大米\n"
		"n: -12\n"
		"d: 1.50\n"
		"b: true\n"
		"z: ~\n"
		"s: \"q\\\" b\\\\ \\n\\t\\r\\b\\f \\x01\\x7f \\u2028 /\"\n"
		"l: [1, [], {}]\n"
		"m: {x: [a]}\n");
	vl_buf b = VL_BUF_INIT;

	(void)state;
	assert_int_equal(vl_json_emit(&b, t, 0), 0);
	assert_string_equal(b.ptr,
		"{\"名称\":\"大米\",\"n\":-12,\"d\":1.50,\"b\":true,\"z\":null,"
		"\"s\":\"q\\\" b\\\\ \\n\\t\\r\\b\\f \\u0001\\u007f \\u2028 /\","
		"\"l\":[1,[],{}],\"m\":{\"x\":[\"a\"]}}");
	vl_buf_clear(&b);
	assert_int_equal(vl_json_emit(&b, vl_value_map_get(t, "m"), 2), 0);
	assert_string_equal(b.ptr, "{\n  \"x\": [\n    \"a\"\n  ]\n}");
	vl_buf_clear(&b);
	assert_int_equal(vl_json_emit(&b, vl_value_map_get(t, "l"), 4), 0);
	assert_string_equal(b.ptr, "[\n    1,\n    [],\n    {}\n]");
	vl_buf_clear(&b);
	assert_int_equal(vl_json_str(&b, "a\0b", 3), 0);
	assert_string_equal(b.ptr, "\"a\\u0000b\"");
	assert_int_equal(vl_json_str(&b, "\xff", 1), VL_EINVALID);
	vl_buf_free(&b);
	vl_value_free(t);
}

/* ---------------------------------------------- the canonical-layout reader */

/*
 * vl_yaml_load reads canonical documents without libyaml: the tree and
 * every position are libyaml's, and what libyaml refuses in that layout
 * (duplicate keys, the depth and node caps) is still refused, with
 * libyaml's message.
 */
static void test_canonical_reader(void **state)
{
	static const char doc[] =
		"schema: household\n"
		"id: \"01g08cct4145mhj77qgw6d4880\"\n"
		"members:\n"
		"  - {name: 张三, role: head, age: 45}\n"
		"  - name: \"李四 a long text that keeps this map out of the flow form, which is at most 100 bytes\"\n"
		"    tags: [a, \"b c\", 3, -1.5, true, null]\n"
		"  - - x: 1\n"
		"      \"y\": [1, 2]\n"
		"    - {}\n"
		"  - []\n"
		"  - \"tab\\t \\\"q\\\" \\x01 \\u2028 末\"\n"
		"nested:\n"
		"  deep:\n"
		"    k: v\n"
		"  数字: 12\n";
	static const vl_yaml_limits shallow = { 4096, 3, 100 }, few = { 4096, 8, 5 };
	vl_value *l = NULL, *t = NULL;
	vl_buf e = VL_BUF_INIT;
	const char *why = NULL;
	int rc;
	(void)state;

	assert_int_equal(vl_yaml_load_libyaml(&l, doc, strlen(doc), &vl_yaml_file_limits, "t.yaml"), 0);
	assert_int_equal(vl_yaml_emit(&e, l), 0);
	assert_string_equal(e.ptr, doc); /* the document is canonical */
	/* so the canonical reader and vl_yaml_load read it as libyaml does */
	why = vt_yaml_readers_differ(&e, doc, strlen(doc), &vl_yaml_file_limits, "t.yaml", l, 0);
	if (why)
		fail_msg("%s", why);
	vl_value_free(l);
	vl_buf_free(&e);

	/* canonical layout, duplicate key: refused as libyaml refuses it */
	rc = vl_yaml_load(&t, "a: 1\nb: 2\na: 3\n", strlen("a: 1\nb: 2\na: 3\n"), &vl_yaml_file_limits, "t.yaml");
	assert_int_equal(rc, VL_EINVALID);
	assert_null(t);
	assert_non_null(strstr(vl_error_last(), "t.yaml:3:1: duplicate mapping key"));
	/* nested deeper than the cap (the top map is depth 1) */
	rc = vl_yaml_load(&t, "a:\n  b:\n    c:\n      d: 1\n", strlen("a:\n  b:\n    c:\n      d: 1\n"), &shallow, "t.yaml");
	assert_int_equal(rc, VL_ETOOBIG);
	assert_non_null(strstr(vl_error_last(), "t.yaml:4:7: nested too deeply"));
	rc = vl_yaml_load(&t, "a:\n  b:\n    c: 1\n", strlen("a:\n  b:\n    c: 1\n"), &shallow, "t.yaml");
	assert_int_equal(rc, 0);
	vl_value_free(t);
	t = NULL;
	/* more nodes than the cap: 1 map + 3 keys + 3 values = 7 > 5 */
	rc = vl_yaml_load(&t, "a: 1\nb: 2\nc: 3\n", strlen("a: 1\nb: 2\nc: 3\n"), &few, "t.yaml");
	assert_int_equal(rc, VL_ETOOBIG);
	assert_null(t);
	assert_non_null(strstr(vl_error_last(), "too many nodes"));
}

/* ------------------------------------------- the exact canonical reader */

/* Is doc[0..len) its own canonical emission, by the canonical reader and
 * the emitter (what vl_yaml_load_exact must decide without emitting)?
 * *tree (when not NULL) receives the canonical reader's tree. */
static int canonical_by_emit(const char *doc, size_t len, const vl_yaml_limits *lim, vl_value **tree)
{
	vl_value *c = NULL;
	vl_buf e = VL_BUF_INIT;
	int yes = 0;

	if (vl_yaml_load_canonical(&c, doc, len, lim) == 0 && vl_yaml_emit(&e, c) == 0 &&
			e.len == len && memcmp(e.ptr, doc, len) == 0)
		yes = 1;
	vl_buf_free(&e);
	if (tree)
		*tree = c;
	else
		vl_value_free(c);
	return yes;
}

/*
 * Each of these documents is read by the canonical-layout reader, but is
 * not the emission of what it reads, in one way each: the exact reader
 * must refuse it (each case fails if its check is taken out of
 * vl_yaml_load_exact), and it must accept the canonical spelling next to it.
 */
static void test_exact_reader_refusals(void **state)
{
	static const char long_text[] = "a long value that keeps this map over the flow limit of one hundred bytes, so it is written as a block";
	static const struct {
		const char *bad, *good;
	} cases[] = {
		{ "a: 1abc\n", "a: \"1abc\"\n" },                      /* plain string not safe plain */
		{ "a: \"abc\"\n", "a: abc\n" },                        /* quoted string safe plain */
		{ "a: \"\xE5\xBC\xA0\"\n", "a: \xE5\xBC\xA0\n" },      /* quoted CJK, safe plain */
		{ "1k: v\n", "\"1k\": v\n" },                          /* plain key not safe plain */
		{ "\"k\": v\n", "k: v\n" },                            /* quoted key safe plain */
		{ "a: [\"x\", z]\n", "a: [x, z]\n" },                  /* quoted item safe plain */
		{ "a: -0\n", "a: 0\n" },                               /* negative zero: "0" read */
		{ "a: -0.00\n", "a: 0.00\n" },
		{ "a: \"x\x7Fy\"\n", "a: \"x\\x7Fy\"\n" },             /* raw DEL */
		{ "a: \"x\xC2\x85y\"\n", "a: \"x\\x85y\"\n" },         /* raw C1 control (NEL) */
		{ "a: \"x\xC2\x9Fy\"\n", "a: \"x\\x9Fy\"\n" },
		{ "a: \"x\xE2\x80\xA8y\"\n", "a: \"x\\u2028y\"\n" },   /* raw line separator */
		{ "a: \"x\xE2\x80\xA9y\"\n", "a: \"x\\u2029y\"\n" },
		{ "a: \"x\xEF\xBF\xBEy\"\n", "a: \"x\\uFFFEy\"\n" },   /* raw noncharacters */
		{ "a: \"x\xEF\xBF\xBFy\"\n", "a: \"x\\uFFFFy\"\n" },
		{ "a: \"x\\x41 y\"\n", "a: \"xA y\"\n" },              /* escape of a printable */
		{ "a: \"x\\x0Ay\"\n", "a: \"x\\ny\"\n" },              /* \x of \n, \t, \r */
		{ "a: \"x\\x09y\"\n", "a: \"x\\ty\"\n" },
		{ "a: \"x\\x0Dy\"\n", "a: \"x\\ry\"\n" },
		{ "a: \"x\\x22y\"\n", "a: \"x\\\"y\"\n" },
		{ "a: \"x\\xE9y\"\n", "a: \"x\xC3\xA9y\"\n" },         /* \x of a character written raw */
		{ "a: \"x\\u00E9y\"\n", "a: \"x\xC3\xA9y\"\n" },       /* \u of one */
		{ "a: \"x\\u0001y\"\n", "a: \"x\\x01y\"\n" },          /* \u where \x is written */
		{ "a: \"x\\u4E00 y\"\n", "a: \"x\xE4\xB8\x80 y\"\n" },
		{ "a:\n  - x\n  - 1\n", "a: [x, 1]\n" },               /* block list of scalars */
		{ "a:\n  - - x\n    - z\n", "a:\n  - [x, z]\n" },      /* nested block list of scalars */
		{ "a:\n  - k: v\n    l: 1\n", "a:\n  - {k: v, l: 1}\n" }, /* map item that fits the flow form */
		{ "a:\n  - k: \"1\"\n", "a:\n  - {k: \"1\"}\n" },
	};
	char bad[512], good[512];
	vl_value *t = NULL;
	vl_buf e = VL_BUF_INIT;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* the canonical-layout reader reads it; its emission differs */
		if (vl_yaml_load_canonical(&t, cases[i].bad, strlen(cases[i].bad), NULL) != 0)
			fail_msg("canonical-layout reader refused case %zu: %s", i, cases[i].bad);
		vl_value_free(t);
		t = NULL;
		if (canonical_by_emit(cases[i].bad, strlen(cases[i].bad), NULL, NULL))
			fail_msg("case %zu is canonical: %s", i, cases[i].bad);
		if (vl_yaml_load_exact(&t, cases[i].bad, strlen(cases[i].bad), NULL) != VL_EINVALID)
			fail_msg("exact reader accepted case %zu: %s", i, cases[i].bad);
		assert_null(t);
		if (!canonical_by_emit(cases[i].good, strlen(cases[i].good), NULL, NULL))
			fail_msg("case %zu's twin is not canonical: %s", i, cases[i].good);
		if (vl_yaml_load_exact(&t, cases[i].good, strlen(cases[i].good), NULL) != 0)
			fail_msg("exact reader refused case %zu's twin: %s (%s)", i, cases[i].good, vl_error_last());
		vl_value_free(t);
		t = NULL;
	}

	/* a map item of scalars over the flow limit: block, not flow */
	snprintf(bad, sizeof(bad), "a:\n  - {k: \"%s\"}\n", long_text);
	snprintf(good, sizeof(good), "a:\n  - k: \"%s\"\n", long_text);
	assert_int_equal(vl_yaml_load_canonical(&t, bad, strlen(bad), NULL), 0);
	vl_value_free(t);
	t = NULL;
	assert_false(canonical_by_emit(bad, strlen(bad), NULL, NULL));
	assert_int_equal(vl_yaml_load_exact(&t, bad, strlen(bad), NULL), VL_EINVALID);
	assert_true(canonical_by_emit(good, strlen(good), NULL, NULL));
	assert_int_equal(vl_yaml_load_exact(&t, good, strlen(good), NULL), 0);
	vl_value_free(t);
	t = NULL;

	/* at the flow limit: {k: "..."} of 100 bytes is flow, of 101 block */
	{
		char text[128];
		size_t tl;

		for (tl = 93; tl <= 94; tl++) {
			memset(text, 'a', tl);
			text[0] = '1'; /* quoted */
			text[tl] = '\0';
			snprintf(bad, sizeof(bad), tl == 93 ? "a:\n  - k: \"%s\"\n" : "a:\n  - {k: \"%s\"}\n", text);
			snprintf(good, sizeof(good), tl == 93 ? "a:\n  - {k: \"%s\"}\n" : "a:\n  - k: \"%s\"\n", text);
			assert_false(canonical_by_emit(bad, strlen(bad), NULL, NULL));
			assert_int_equal(vl_yaml_load_exact(&t, bad, strlen(bad), NULL), VL_EINVALID);
			assert_true(canonical_by_emit(good, strlen(good), NULL, NULL));
			assert_int_equal(vl_yaml_load_exact(&t, good, strlen(good), NULL), 0);
			vl_value_free(t);
			t = NULL;
		}
	}

	/* nested deeper than the emitter writes (its guard), under limits
	 * that let the canonical-layout reader read it */
	{
		static const vl_yaml_limits deep = { 1 << 20, 1000, 100000 };
		vl_buf d = VL_BUF_INIT;
		int k, j;

		for (k = 0; k < 140; k++) {
			for (j = 0; j < 2 * k; j++)
				assert_int_equal(vl_buf_putc(&d, ' '), 0);
			assert_int_equal(vl_buf_puts(&d, k < 139 ? "k:\n" : "k: v\n"), 0);
		}
		assert_int_equal(vl_yaml_load_canonical(&t, d.ptr, d.len, &deep), 0);
		assert_int_equal(vl_yaml_emit(&e, t), VL_ETOOBIG);
		vl_value_free(t);
		t = NULL;
		assert_int_equal(vl_yaml_load_exact(&t, d.ptr, d.len, &deep), VL_EINVALID);
		assert_null(t);
		vl_buf_free(&d);
	}
	vl_buf_free(&e);
}

/* The documents of the sweep below: canonical, with every shape the
 * emitter writes. */
static const char *const sweep_docs[] = {
	"schema: resident\n"
	"id: \"01fyj9z907sfak2xxywd0p0mg0\"\n"
	"scope: \"500243001001\"\n"
	"prev: [abc, \"0123\"]\n"
	"data:\n"
	"  name: \xE6\x9C\xB1\xE5\x8D\x8E\n"
	"  id_number: \"50024319871205576X\"\n"
	"  i: -12\n"
	"  d: 0.5\n"
	"  b: true\n"
	"  z: null\n"
	"  e: \"\"\n"
	"  note: \"tab\\t \\\"q\\\" \\\\ \\x01\\x7F\\x85 \\u2028\\uFEFF \xC3\xA9 \xE5\xBC\xA0\"\n"
	"  empty: {}\n"
	"  none: []\n"
	"sig: \"U1NIU0lHAAAAAQ==\"\n",
	"members:\n"
	"  - {name: \xE5\xBC\xA0\xE4\xB8\x89, role: head, age: 45}\n"
	"  - name: \"a long text that keeps this map out of the flow form, which is at most 100 bytes\"\n"
	"    tags: [a, \"b c\", 3, -1.5, true, null]\n"
	"  - - x: 1\n"
	"      \"y\": [1, 2]\n"
	"    - {}\n"
	"  - [p, q]\n"
	"  - []\n"
	"  - \"1x\"\n"
	"  - k:\n"
	"      deep: v\n"
	"\"2\": {}\n",
};

/*
 * A sweep of near-canonical documents: every single-byte deletion, and
 * every insertion and replacement of the bytes and escapes below, at every
 * offset of the documents above. For each, the exact reader accepts
 * exactly when the document is its own emission, and then reads the
 * canonical reader's tree, positions included: a deterministic
 * differential test of the proof vl_record_parse relies on.
 */
static void test_exact_reader_sweep(void **state)
{
	static const char *const edits[] = {
		" ", "\n", "\"", "\\", ":", "-", "[", "]", "{", "}", ",", "a", "A", "0", "1", "~", ".",
		"x", "u", "n", "\x7F", "\x01", "\xC2\x85", "\xE2\x80\xA8", "\xEF\xBF\xBE", "\xC3\xA9",
		"\xE5\xBC\xA0", "\\x41", "\\x0A", "\\x7F", "\\x00", "\\u2028", "\\u00E9", "\\n", "\\\"", "  ", "- ",
		": ", ", ", "true", "null", "-0",
	};
	char *m = NULL;
	size_t d, i, k, len, n, accepted = 0, tried = 0;
	(void)state;

	for (d = 0; d < sizeof(sweep_docs) / sizeof(sweep_docs[0]); d++) {
		const char *doc = sweep_docs[d];
		len = strlen(doc);
		assert_true(canonical_by_emit(doc, len, NULL, NULL));
		m = malloc(len + 16);
		assert_non_null(m);
		for (i = 0; i <= len; i++) {
			for (k = 0; k <= 2 * sizeof(edits) / sizeof(edits[0]); k++) {
				vl_value *c = NULL, *x = NULL;
				int canonical, rcx;

				if (k == 0) { /* delete the byte at i */
					if (i == len)
						continue;
					memcpy(m, doc, i);
					memcpy(m + i, doc + i + 1, len - i - 1);
					n = len - 1;
				} else {
					const char *ed = edits[(k - 1) / 2];
					size_t el = strlen(ed), skip = (k - 1) % 2; /* insert, or replace the byte */
					if (skip && i == len)
						continue;
					memcpy(m, doc, i);
					memcpy(m + i, ed, el);
					memcpy(m + i + el, doc + i + skip, len - i - skip);
					n = len + el - skip;
				}
				tried++;
				canonical = canonical_by_emit(m, n, NULL, &c);
				rcx = vl_yaml_load_exact(&x, m, n, NULL);
				if (rcx == 0 && !canonical)
					fail_msg("exact reader accepted a non-canonical document:\n%.*s", (int)n, m);
				if (rcx != 0 && canonical)
					fail_msg("exact reader refused a canonical document (%s):\n%.*s",
							vl_error_last(), (int)n, m);
				if (rcx == 0 && !vt_same_with_positions(x, c))
					fail_msg("exact reader read another tree:\n%.*s", (int)n, m);
				accepted += rcx == 0;
				vl_value_free(c);
				vl_value_free(x);
			}
		}
		free(m);
	}
	/* the sweep reaches both sides: many variants stay canonical */
	assert_true(tried > 40000);
	assert_true(accepted > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_basics),
		cmocka_unit_test(test_value_int_range),
		cmocka_unit_test(test_golden_record),
		cmocka_unit_test(test_golden_shapes),
		cmocka_unit_test(test_golden_flow_limit),
		cmocka_unit_test(test_emit_empty_and_scalar),
		cmocka_unit_test(test_fixed_point_many),
		cmocka_unit_test(test_canonical_spellings),
		cmocka_unit_test(test_scalar_resolution),
		cmocka_unit_test(test_string_quoting),
		cmocka_unit_test(test_long_keys_and_values),
		cmocka_unit_test(test_nested_list_shapes),
		cmocka_unit_test(test_reject_size),
		cmocka_unit_test(test_reject_depth),
		cmocka_unit_test(test_reject_deep_flow_bomb_fast),
		cmocka_unit_test(test_reject_nodes),
		cmocka_unit_test(test_reject_anchor_alias_tag),
		cmocka_unit_test(test_reject_structure),
		cmocka_unit_test(test_large_map),
		cmocka_unit_test(test_reject_syntax_messages),
		cmocka_unit_test(test_reject_encoding),
		cmocka_unit_test(test_nfc_exceptions),
		cmocka_unit_test(test_utf8_valid_nfc),
		cmocka_unit_test(test_emit_refuses),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_canonical_reader),
		cmocka_unit_test(test_exact_reader_refusals),
		cmocka_unit_test(test_exact_reader_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
