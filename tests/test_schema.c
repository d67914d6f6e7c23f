/*
 * test_schema.c - the schema language (schemas/schema.h): every shipped
 * schema loads cleanly and keeps the contracts other tools rely on; a broken
 * schema reports all of its errors with line:col; record data is checked
 * rule by rule; set_text, normalize, defaults, mask, tombstone_data and
 * identity; and no personal value ever reaches a message.
 *
 * ID numbers are synthetic (region 500243, check characters computed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/schema.h"
#include "schemas/types.h"
#include "store/yaml.h"

#ifndef VL_SOURCE_DIR
#error "VL_SOURCE_DIR must name the project's source directory"
#endif

#define SCHEMA_DIR VL_SOURCE_DIR "/schemas/"
#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ---- helpers ----------------------------------------------------------- */

static vl_schema *load_text(const char *text, vl_buf *diag, int *rc_out)
{
	vl_schema *s = NULL;
	int rc = vl_schema_load(&s, text, strlen(text), "test.yaml", diag);

	if (rc_out)
		*rc_out = rc;
	return s;
}

static vl_schema *load_file(const char *name)
{
	char path[512];
	vl_buf b = VL_BUF_INIT, diag = VL_BUF_INIT;
	vl_schema *s = NULL;
	int rc;

	snprintf(path, sizeof(path), SCHEMA_DIR "%s", name);
	assert_int_equal(vl_buf_read_file(&b, path, 1 << 20), 0);
	rc = vl_schema_load(&s, b.ptr, b.len, path, &diag);
	if (rc != 0)
		print_error("%s", diag.ptr ? diag.ptr : vl_error_last());
	assert_int_equal(rc, 0);
	assert_non_null(s);
	assert_int_equal(diag.len, 0);
	vl_buf_free(&b);
	vl_buf_free(&diag);
	return s;
}

static vl_value *data_from(const char *yaml)
{
	vl_value *v = NULL;

	assert_int_equal(vl_yaml_load(&v, yaml, strlen(yaml), &vl_yaml_file_limits, "data"), 0);
	return v;
}

/* Validate and return the diag text (caller frees); *rc_out gets the code. */
static char *validate(const vl_schema *s, const vl_value *d, int deleted, int *rc_out)
{
	vl_buf diag = VL_BUF_INIT;
	int rc = vl_schema_validate(s, d, deleted, &diag);
	char *out = vl_buf_detach(&diag, NULL);

	assert_non_null(out);
	if (rc_out)
		*rc_out = rc;
	return out;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		/* stderr: cmocka's print_error truncates long messages */
		fprintf(stderr, "expected to find [%s] in:\n%s\n", needle, hay);
		fail();
	}
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

static const char *text_of(const vl_value *map, const char *key)
{
	const vl_value *v = vl_value_map_get(map, key);

	assert_non_null(v);
	return vl_value_text(v);
}

/* ---- a schema using every type and rule --------------------------------- */

static const char sink_yaml[] =
	"name: sink\n"
	"version: 2\n"
	"zh: 测试\n"
	"en: Test\n"
	"identity: [code, id_number]\n"
	"fields:\n"
	"  - {name: code, type: string, zh: 编号, en: Code, required: true, pattern: \"[A-Z]{2}[0-9]{3}\", merge: keep}\n"
	"  - {name: name, type: string, zh: 姓名, en: Name, pii: true, min_len: 2, max_len: 4, merge: lww}\n"
	"  - {name: id_number, type: cn_id, zh: 身份证号, en: ID, pii: true, merge: manual}\n"
	"  - {name: mobile, type: cn_mobile, zh: 手机, en: Mobile, pii: true, merge: lww}\n"
	"  - {name: phone, type: phone, zh: 电话, en: Phone, pii: true, merge: lww}\n"
	"  - {name: age, type: int, zh: 年龄, en: Age, min: 0, max: 150, merge: max}\n"
	"  - {name: amount, type: decimal, zh: 金额, en: Amount, min: 0, max: 99.5, merge: sum}\n"
	"  - {name: ok, type: bool, zh: 是否, en: OK, merge: lww}\n"
	"  - {name: day, type: date, zh: 日期, en: Day, min: 2020-01-01, max: 2030-12-31, merge: min}\n"
	"  - {name: at, type: datetime, zh: 时间, en: At, merge: lww}\n"
	"  - name: status\n"
	"    type: enum\n"
	"    zh: 状态\n"
	"    en: Status\n"
	"    required: true\n"
	"    values:\n"
	"      - {value: registered, zh: 已登记, en: Registered}\n"
	"      - {value: purchased, zh: 已采购, en: Purchased}\n"
	"      - {value: delivered, zh: 已送达, en: Delivered}\n"
	"      - {value: cancelled, zh: 已取消, en: Cancelled}\n"
	"    merge: order\n"
	"    order: [registered, purchased, delivered]\n"
	"    terminal: [delivered, cancelled]\n"
	"  - name: tags\n"
	"    type: set\n"
	"    items: enum\n"
	"    zh: 标签\n"
	"    en: Tags\n"
	"    values:\n"
	"      - {value: elderly_alone, zh: 独居老人, en: Elderly living alone}\n"
	"      - {value: disabled, zh: 残疾人, en: Disabled}\n"
	"      - {value: pregnant, zh: 孕产妇, en: Pregnant}\n"
	"    merge: union\n"
	"  - {name: nums, type: set, items: int, zh: 数, en: Numbers, merge: union}\n"
	"  - {name: unit, type: division, zh: 单位, en: Unit, merge: lww}\n"
	"  - {name: who, type: ref, ref: resident, zh: 居民, en: Resident, merge: lww}\n"
	"  - {name: note, type: text, zh: 备注, en: Note, max_len: 10, merge: lww}\n"
	"  - name: items\n"
	"    type: list\n"
	"    items: map\n"
	"    key: name\n"
	"    zh: 物资\n"
	"    en: Items\n"
	"    fields:\n"
	"      - {name: name, type: string, zh: 名称, en: Name, required: true}\n"
	"      - {name: qty, type: int, zh: 数量, en: Qty, min: 1}\n"
	"      - {name: secret, type: string, zh: 密, en: Secret, pii: true}\n"
	"    merge: append\n"
	"  - name: addr\n"
	"    type: map\n"
	"    zh: 地址\n"
	"    en: Address\n"
	"    fields:\n"
	"      - {name: street, type: string, zh: 街道, en: Street}\n"
	"      - {name: room, type: string, zh: 房号, en: Room, pii: true}\n"
	"    merge: lww\n"
	"  - {name: hooked, type: int, zh: 钩子, en: Hooked, merge: \"hook:recalc\", hook_sha256: " HEX64 "}\n"
	"aggregates:\n"
	"  - {name: all, zh: 全部, en: All, op: count}\n"
	"  - {name: amount, zh: 金额, en: Amount, op: sum, field: amount}\n"
	"  - name: alone\n"
	"    zh: 独居\n"
	"    en: Alone\n"
	"    op: count\n"
	"    where: {field: tags, value: elderly_alone}\n"
	"  - {name: fine, zh: 好, en: Fine, op: count, where: {field: ok, value: true}}\n";

static vl_schema *sink(void)
{
	vl_buf diag = VL_BUF_INIT;
	int rc;
	vl_schema *s = load_text(sink_yaml, &diag, &rc);

	if (rc)
		print_error("%s", diag.ptr ? diag.ptr : "");
	assert_int_equal(rc, 0);
	assert_non_null(s);
	vl_buf_free(&diag);
	return s;
}

/* ---- loading -------------------------------------------------------------- */

static const char *const shipped[] = {
	"resident.yaml", "special_group.yaml", "zone.yaml", "supply_request.yaml",
	"test_session.yaml", "volunteer.yaml", "worker_care.yaml", "network_role.yaml",
	"report.yaml", "report_call.yaml", "care_tally.yaml", "committee.yaml",
	"test_attendance.yaml", "appeal.yaml",
};

static void test_shipped_load(void **state)
{
	DIR *d;
	struct dirent *e;
	size_t n = 0, i;

	(void)state;
	for (i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		vl_schema *s = load_file(shipped[i]);
		char name[64];

		/* the file is named after the ledger */
		snprintf(name, sizeof(name), "%s.yaml", s->name);
		assert_string_equal(name, shipped[i]);
		assert_true(s->version >= 1);
		assert_true(s->naggregates >= 1);
		vl_schema_free(s);
	}
	/* any other schema in the directory loads too */
	d = opendir(SCHEMA_DIR);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);

		if (l > 5 && strcmp(e->d_name + l - 5, ".yaml") == 0) {
			vl_schema_free(load_file(e->d_name));
			n++;
		}
	}
	closedir(d);
	assert_true(n >= sizeof(shipped) / sizeof(shipped[0]));
}

/* What other tools rely on in the shipped schemas. */
static void test_shipped_contracts(void **state)
{
	vl_schema *s;
	const vl_field *f;

	(void)state;
	s = load_file("resident.yaml");
	f = vl_schema_field(s, "id_number");
	assert_non_null(f);
	assert_int_equal(f->type, VL_T_CN_ID);
	assert_true(f->pii);
	assert_string_equal(f->merge, "manual");
	assert_int_equal(s->nidentity, 1);
	assert_string_equal(s->identity[0], "id_number");
	f = vl_schema_field(s, "tags");
	assert_int_equal(f->type, VL_T_SET);
	assert_int_equal(f->item_type, VL_T_ENUM);
	assert_string_equal(f->merge, "union");
	assert_int_equal(f->nopts, 5);
	assert_string_equal(vl_field_enum_label(f, "elderly_alone"), "独居老人");
	assert_string_equal(vl_field_enum_label(f, "child_in_difficulty"), "困境儿童");
	assert_string_equal(vl_field_enum_label(f, "disabled"), "残疾人");
	assert_string_equal(vl_field_enum_label(f, "pregnant"), "孕产妇");
	assert_string_equal(vl_field_enum_label(f, "special_disease"), "特殊疾病患者");
	assert_null(vl_field_enum_label(f, "nobody"));
	assert_true(vl_schema_field(s, "name")->pii);
	assert_true(vl_schema_field(s, "phone")->pii);
	assert_string_equal(vl_field_enum_label(vl_schema_field(s, "source"), "worker_survey"), "主动摸排");
	assert_string_equal(vl_field_enum_label(vl_schema_field(s, "source"), "self_report"), "群众主动告知");
	vl_schema_free(s);

	s = load_file("supply_request.yaml");
	f = vl_schema_field(s, "status");
	assert_string_equal(f->merge, "order");
	assert_int_equal(f->norder, 4);
	assert_string_equal(f->order[0], "registered");
	assert_string_equal(f->order[3], "delivered");
	assert_int_equal(f->nterminal, 2);
	assert_string_equal(f->terminal[0], "delivered");
	assert_string_equal(f->terminal[1], "cancelled");
	assert_string_equal(vl_field_enum_label(f, "purchased"), "已采购");
	f = vl_schema_field(s, "items");
	assert_int_equal(f->item_type, VL_T_MAP);
	assert_string_equal(f->item_key, "name");
	assert_int_equal(f->item_fields[1].type, VL_T_INT);
	assert_true(vl_schema_field(s, "address")->pii);
	assert_true(vl_schema_field(s, "contact_name")->pii);
	assert_true(vl_schema_field(s, "contact_phone")->pii);
	assert_non_null(vl_schema_field(s, "request_no"));
	vl_schema_free(s);

	s = load_file("volunteer.yaml");
	assert_string_equal(vl_schema_field(s, "service_log")->merge, "append");
	assert_int_equal(vl_schema_field(s, "service_hours")->type, VL_T_DECIMAL);
	assert_string_equal(vl_schema_field(s, "service_hours")->merge, "sum");
	vl_schema_free(s);

	s = load_file("worker_care.yaml");
	assert_string_equal(vl_schema_field(s, "subsidy_amount")->merge, "hook:subsidy_recompute");
	assert_non_null(vl_schema_field(s, "subsidy_amount")->hook_sha256);
	assert_int_equal(vl_schema_field(s, "subsidy_amount")->type, VL_T_DECIMAL);
	vl_schema_free(s);

	s = load_file("network_role.yaml");
	f = vl_schema_field(s, "role");
	assert_string_equal(vl_field_enum_label(f, "grid_leader"), "网格长");
	assert_string_equal(vl_field_enum_label(f, "building_leader"), "楼栋长");
	assert_string_equal(vl_field_enum_label(f, "group_leader"), "组长");
	vl_schema_free(s);

	s = load_file("zone.yaml");
	f = vl_schema_field(s, "designation");
	assert_string_equal(vl_field_enum_label(f, "sealed"), "封控区");
	assert_string_equal(vl_field_enum_label(f, "controlled"), "管控区");
	assert_string_equal(vl_field_enum_label(f, "prevention"), "防范区");
	vl_schema_free(s);

	s = load_file("report.yaml");
	f = vl_schema_field(s, "status");
	assert_string_equal(f->merge, "order");
	assert_int_equal(f->nterminal, 2);
	assert_string_equal(vl_field_enum_label(f, "adopted"), "采用");
	assert_string_equal(vl_field_enum_label(vl_schema_field(s, "kind"), "zero_report"), "零报告");
	assert_int_equal(vl_schema_field(s, "deadline")->type, VL_T_DATE);
	vl_schema_free(s);
}

/* report.call (issue 11) is optional and last: a report written before it
 * existed, with every field of version 1, still validates; a call that is
 * not a record id is refused; report_call's units are division codes. */
static void test_report_call_ref(void **state)
{
	vl_schema *s = load_file("report.yaml"), *cs = load_file("report_call.yaml");
	vl_value *old = data_from("{title: t, kind: zero_report, body: b, contact_name: n, "
			"contact_phone: \"13800000001\", target_level: township, target_unit: \"500243001000\", "
			"deadline: 2026-01-10, status: adopted, submitted_at: \"2026-01-09T01:00:00Z\", "
			"received_at: \"2026-01-09T02:00:00Z\", feedback: f, adopted_in: x}");
	vl_value *bad = vl_value_clone(old), *good = vl_value_clone(old), *call = NULL;
	char *diag;
	int rc;

	(void)state;
	assert_non_null(bad);
	assert_non_null(good);
	assert_int_equal(vl_schema_validate(s, old, 0, NULL), 0);
	/* call and the fields added after it (version 3) are optional */
	{
		size_t k = (size_t)(vl_schema_field(s, "call") - s->fields);
		assert_true(k < s->nfields);
		for (; k < s->nfields; k++)
			assert_false(s->fields[k].required);
	}
	assert_int_equal(vl_schema_field(s, "call")->type, VL_T_REF);
	assert_int_equal(vl_schema_set_text(s, good, "call", "01hq3k5z6w8x9y0abcdefgh004"), 0);
	assert_int_equal(vl_schema_validate(s, good, 0, NULL), 0);
	assert_int_equal(vl_schema_set_text(s, bad, "call", "not-an-id"), 0);
	diag = validate(s, bad, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_non_null(strstr(diag, "field 'call': ref"));
	free(diag);
	call = data_from("{title: t, kind: any, deadline: 2026-01-10, units: [\"500243001001\", \"500243001\"]}");
	diag = validate(cs, call, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_non_null(strstr(diag, "field 'units[1]': division"));
	free(diag);
	vl_value_free(old);
	vl_value_free(bad);
	vl_value_free(good);
	vl_value_free(call);
	vl_schema_free(s);
	vl_schema_free(cs);
}

static void test_sink_loads(void **state)
{
	vl_schema *s = sink();
	const vl_field *f;

	(void)state;
	assert_string_equal(s->name, "sink");
	assert_int_equal(s->version, 2);
	assert_string_equal(s->on_delete, "tombstone_wins");
	assert_int_equal(s->nfields, 19);
	f = vl_schema_field(s, "hooked");
	assert_string_equal(f->merge, "hook:recalc");
	assert_string_equal(f->hook_sha256, HEX64);
	f = vl_schema_field(s, "name");
	assert_int_equal(f->min_len, 2);
	assert_int_equal(f->max_len, 4);
	assert_int_equal(vl_schema_field(s, "code")->min_len, -1);
	assert_string_equal(vl_schema_field(s, "amount")->max, "99.5");
	assert_string_equal(vl_schema_field(s, "day")->min, "2020-01-01");
	assert_string_equal(s->aggregates[2].where_field, "tags");
	assert_string_equal(s->aggregates[2].where_value, "elderly_alone");
	assert_string_equal(s->aggregates[3].where_value, "true");
	/* the original one-condition form is one equality in conds */
	assert_int_equal(s->aggregates[2].nconds, 1);
	assert_int_equal(s->aggregates[2].conds[0].op, VL_CMP_EQ);
	assert_null(vl_schema_field(s, "nope"));
	assert_string_equal(vl_ftype_name(VL_T_CN_ID), "cn_id");
	assert_string_equal(vl_ftype_name(VL_T_DIVISION), "division");
	assert_string_equal(vl_ftype_name((vl_ftype)99), "unknown");
	vl_schema_free(s);
}

/* One file, many mistakes: all reported, each at its line:col. */
/* ---- the schema language version rule ------------------------------------- */

/* A schema of a later language: display-only `ui_*` keys at every level,
 * and (line 14) a validity key this binary does not know. */
static const char later_yaml[] =
	"name: thing\n"                                         /* 1 */
	"version: 2\n"                                          /* 2 */
	"language: %d\n"                                        /* 3 */
	"zh: 东西\n"                                            /* 4 */
	"en: Things\n"                                          /* 5 */
	"ui_form: {columns: 2, groups: [a, b]}\n"               /* 6 */
	"fields:\n"                                             /* 7 */
	"  - name: kind\n"                                      /* 8 */
	"    type: enum\n"                                      /* 9 */
	"    zh: 类\n"                                          /* 10 */
	"    en: Kind\n"                                        /* 11 */
	"    values:\n"                                         /* 12 */
	"      - {value: a, zh: 甲, en: A, ui_colour: red}\n"   /* 13 */
	"    %s: true\n"                                        /* 14 */
	"    ui_widget: radio\n"                                /* 15 */
	"    merge: lww\n"                                      /* 16 */
	"aggregates:\n"                                         /* 17 */
	"  - {name: n, zh: 数, en: N, op: count, ui_chart: bar}\n"; /* 18 */

static vl_schema *load_later(int language, const char *key14, vl_buf *diag, int *rc)
{
	char text[sizeof(later_yaml) + 64];

	snprintf(text, sizeof(text), later_yaml, language, key14);
	return load_text(text, diag, rc);
}

static void test_language_rule(void **state)
{
	vl_buf diag = VL_BUF_INIT;
	vl_schema *s;
	int rc;

	(void)state;
	/* Display-only keys this binary does not know: loaded, each one warned
	 * about at its position, nothing else changed. */
	s = load_later(1, "ui_hint", &diag, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	assert_int_equal(diag.len, 0);
	assert_int_equal(s->language, 1);
	assert_non_null(s->warnings);
	assert_contains(s->warnings, "test.yaml:6:10: schema: key 'ui_form' is not known to this vledger "
			"(schema language 1) and is ignored: 'ui_' keys only change how records are shown");
	assert_contains(s->warnings, "test.yaml:13:45: field 'kind': value 1: key 'ui_colour'");
	assert_contains(s->warnings, "test.yaml:14:14: field 'kind': key 'ui_hint'");
	assert_contains(s->warnings, "test.yaml:15:16: field 'kind': key 'ui_widget'");
	assert_contains(s->warnings, "test.yaml:18:50: aggregate 'n': key 'ui_chart'");
	assert_int_equal(count_lines(s->warnings), 5);
	assert_int_equal(s->nfields, 1);
	assert_int_equal(s->fields[0].nopts, 1);
	vl_schema_free(s);

	/* A key that could change validity or merging, in a schema that says it
	 * needs a later language: refused, naming the key and the version. */
	vl_buf_clear(&diag);
	s = load_later(2, "unique", &diag, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_null(s);
	assert_contains(diag.ptr, "test.yaml:14:13: field 'kind': key 'unique' needs schema language 2, and "
			"this vledger reads schema language 1: upgrade vledger on this node");
	assert_contains(diag.ptr, "test.yaml:3:11: schema: needs schema language 2");
	assert_int_equal(count_lines(diag.ptr), 2);
	/* the one-line error names the key first */
	assert_contains(vl_error_last(), "key 'unique' needs schema language 2");

	/* Every key known, but a later language: still refused (a known key
	 * may have gained a value this binary cannot check). */
	vl_buf_clear(&diag);
	s = load_later(3, "ui_hint", &diag, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_null(s);
	assert_contains(diag.ptr, "test.yaml:3:11: schema: needs schema language 3, and this vledger reads "
			"schema language 1: upgrade vledger on this node");
	assert_int_equal(count_lines(diag.ptr), 1);

	/* No language said (or this one): an unknown key is an error, as ever,
	 * and the message says how a newer schema would have said so. */
	vl_buf_clear(&diag);
	s = load_later(1, "unique", &diag, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag.ptr, "test.yaml:14:13: field 'kind': unknown key 'unique' (not in schema "
			"language 1; a schema written for a newer vledger says so with 'language:')");

	/* `ui_` alone is not a display key; a bad language is an error. */
	vl_buf_clear(&diag);
	s = load_later(1, "ui_", &diag, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag.ptr, "unknown key 'ui_'");
	vl_buf_clear(&diag);
	s = load_later(0, "ui_hint", &diag, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag.ptr, "test.yaml:3:11: schema: 'language' must be a positive int");

	/* The shipped schemas say no language (so binaries from before the
	 * rule read them) and carry no warning. */
	s = load_file("report.yaml");
	assert_int_equal(s->language, 1);
	assert_null(s->warnings);
	vl_schema_free(s);
	vl_buf_free(&diag);
}

static void test_bad_schema(void **state)
{
	static const char bad[] =
		"name: Bad-Name\n"                                   /* 1 */
		"version: 0\n"                                       /* 2 */
		"zh: 坏\n"                                           /* 3 */
		"colour: red\n"                                      /* 4 */
		"fields:\n"                                          /* 5 */
		"  - name: a\n"                                      /* 6 */
		"    type: strin\n"                                  /* 7 */
		"    zh: 甲\n"                                       /* 8 */
		"    en: A\n"                                        /* 9 */
		"    merge: lww\n"                                   /* 10 */
		"  - name: b\n"                                      /* 11 */
		"    type: int\n"                                    /* 12 */
		"    zh: 乙\n"                                       /* 13 */
		"    en: B\n"                                        /* 14 */
		"    merge: union\n"                                 /* 15 */
		"    pattern: \"[0-9\"\n"                            /* 16 */
		"  - name: a\n"                                      /* 17 */
		"    type: enum\n"                                   /* 18 */
		"    zh: 丙\n"                                       /* 19 */
		"    en: C\n"                                        /* 20 */
		"    values:\n"                                      /* 21 */
		"      - {value: Open, zh: 开, en: Open}\n"          /* 22 */
		"      - {value: closed, zh: 开, en: Closed}\n"      /* 23 */
		"    merge: order\n"                                 /* 24 */
		"    order: [open, shut]\n"                          /* 25 */
		"  - name: s\n"                                      /* 26 */
		"    type: string\n"                                 /* 27 */
		"    zh: 丁\n"                                       /* 28 */
		"    en: D\n"                                        /* 29 */
		"    pattern: \"[0-9\"\n"                            /* 30 */
		"    merge: hook:recompute\n"                        /* 31 */
		"    hook_sha256: abc\n"                             /* 32 */
		"  - {name: t, type: set, items: string, zh: 戊, en: E, merge: append}\n" /* 33 */
		"  - {name: u, type: date, zh: 己, en: F, min: 2020-02-30, merge: sum}\n" /* 34 */
		"  - {name: v, type: string, zh: 庚, en: G, pattern: \"((a{100}){100}){9}\", merge: lww}\n" /* 35 */
		"  - {name: w, type: string, zh: 辛, en: H, pattern: \"(a)\\\\1\", merge: lww, order: [x]}\n" /* 36 */
		"identity: [nope, t]\n"                              /* 37 */
		"aggregates:\n"                                      /* 38 */
		"  - {name: x, zh: 甲, en: X, op: sum, field: s}\n"  /* 39 */
		"  - {name: y, zh: 乙, en: Y, op: avg}\n"            /* 40 */
		"  - name: z\n"                                      /* 41 */
		"    zh: 丙\n"                                       /* 42 */
		"    en: Z\n"                                        /* 43 */
		"    op: count\n"                                    /* 44 */
		"    where: {field: b, value: notanint}\n";          /* 45 */
	vl_buf diag = VL_BUF_INIT;
	vl_schema *s;
	int rc;

	(void)state;
	s = load_text(bad, &diag, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_null(s);
	assert_non_null(diag.ptr);
	/* columns count characters, as libyaml does: 戊 is one column */
	assert_contains(diag.ptr, "test.yaml:4:9: schema: unknown key 'colour'");
	assert_contains(diag.ptr, "test.yaml:1:7: schema: 'name' must be a ledger name");
	assert_contains(diag.ptr, "test.yaml:2:10: schema: 'version' must be a positive int");
	assert_contains(diag.ptr, "test.yaml:1:1: schema: missing 'en'");
	assert_contains(diag.ptr, "test.yaml:7:11: field 'a': unknown type 'strin'");
	assert_contains(diag.ptr, "test.yaml:15:12: field 'b': merge rule 'union' does not apply to type int");
	assert_contains(diag.ptr, "test.yaml:16:14: field 'b': 'pattern' does not apply to type int");
	assert_contains(diag.ptr, "test.yaml:22:17: field 'a': value 1: enum values are lowercase identifiers");
	assert_contains(diag.ptr, "test.yaml:23:29: field 'a': value 2: duplicate zh label");
	assert_contains(diag.ptr, "test.yaml:25:13: field 'a': 'order' item 1 is not one of the field's values");
	assert_contains(diag.ptr, "test.yaml:25:19: field 'a': 'order' item 2 is not one of the field's values");
	assert_contains(diag.ptr, "test.yaml:17:11: schema: duplicate field name 'a'");
	assert_contains(diag.ptr, "test.yaml:30:14: field 's': pattern does not compile");
	assert_contains(diag.ptr, "test.yaml:32:18: field 's': 'hook_sha256' must be 64 lowercase hex digits");
	assert_contains(diag.ptr, "test.yaml:33:62: field 't': merge rule 'append' does not apply to type set");
	assert_contains(diag.ptr, "test.yaml:34:46: field 'u': 'min' must be a date");
	assert_contains(diag.ptr, "test.yaml:34:65: field 'u': merge rule 'sum' does not apply to type date");
	assert_contains(diag.ptr, "test.yaml:35:52: field 'v': pattern is too complex");
	assert_contains(diag.ptr, "test.yaml:36:52: field 'w': back-references are not allowed");
	assert_contains(diag.ptr, "test.yaml:36:81: field 'w': 'order' is only for merge: order");
	assert_contains(diag.ptr, "test.yaml:37:12: identity: no field 'nope'");
	assert_contains(diag.ptr, "test.yaml:37:18: identity: field 't' must be a scalar, not set");
	assert_contains(diag.ptr, "test.yaml:39:45: aggregate 'x': sum needs an int or decimal field, not string");
	assert_contains(diag.ptr, "test.yaml:40:33: aggregate 'y': unknown op 'avg'");
	assert_contains(diag.ptr, "test.yaml:45:30: aggregate 'z': 'where' value is not valid for field 'b'");
	assert_true(count_lines(diag.ptr) >= 25);
	/* the last error names the first problem and says there are more */
	assert_contains(vl_error_last(), "test.yaml:");
	assert_contains(vl_error_last(), "and more");
	vl_buf_free(&diag);
}

static void test_bad_schema_more(void **state)
{
	static const struct {
		const char *yaml;
		const char *expect;
	} cases[] = {
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields: []\n", "test.yaml:5:9: schema: 'fields' must be a non-empty list" },
		{ "name: x\nversion: 1\nzh: a\nen: b\n", "test.yaml:1:1: schema: missing 'fields'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b}\n",
		  "test.yaml:6:5: field 'f': missing 'merge'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: enum, zh: a, en: b, merge: lww}\n",
		  "field 'f': an enum needs 'values'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: ref, zh: a, en: b, merge: lww}\n",
		  "field 'f': missing 'ref'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: list, zh: a, en: b, merge: append}\n",
		  "field 'f': missing 'items'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: list, items: map, zh: a, en: b, merge: append}\n",
		  "field 'f': needs 'fields'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: lww, min: 5, max: 1}\n",
		  "field 'f': 'max' is below 'min'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: \"hook:x\"}\n",
		  "field 'f': a hook merge needs 'hook_sha256'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: \"hook:../x\", hook_sha256: " HEX64 "}\n",
		  "field 'f': hook name must match" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: lww, hook_sha256: " HEX64 "}\n",
		  "field 'f': 'hook_sha256' is only for merge: hook:NAME" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: newest}\n",
		  "field 'f': unknown merge rule 'newest'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: string, zh: a, en: b, merge: max}\n",
		  "field 'f': merge rule 'max' does not apply to type string" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: enum, zh: a, en: b, merge: order, values: [{value: a, zh: 甲, en: A}]}\n",
		  "field 'f': merge order needs 'order'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: enum, zh: a, en: b, merge: order, order: [a], terminal: [b], values: [{value: a, zh: 甲, en: A}]}\n",
		  "field 'f': 'terminal' item 1 is not one of the field's values" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: enum, zh: a, en: b, merge: lww, values: [{value: a, zh: 甲}]}\n",
		  "field 'f': value 1: missing 'en'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: list, items: map, key: nope, zh: a, en: b, merge: append, fields: [{name: g, type: int, zh: a, en: b}]}\n",
		  "field 'f': 'key' names no item field" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: list, items: map, zh: a, en: b, merge: append, fields: [{name: g, type: int, zh: a, en: b, merge: sum}]}\n",
		  "item field 'g': 'merge' belongs on the enclosing field" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: set, items: map, zh: a, en: b, merge: union}\n",
		  "field 'f': a set cannot hold items of type 'map'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: lww, pii: yes}\n",
		  "field 'f': 'pii' must be true or false" },
		{ "name: x\nversion: 1\nzh: a\nen: b\non_delete: never\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: lww}\n",
		  "test.yaml:5:12: schema: 'on_delete' must be tombstone_wins or edit_wins" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: lww, pii: true}\n"
		  "aggregates:\n  - {name: s, zh: a, en: b, op: sum, field: f}\n",
		  "aggregate 's': personal (pii) fields are never aggregated" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: lww}\n"
		  "aggregates:\n  - {name: s, zh: a, en: b, op: count, field: f}\n",
		  "aggregate 's': count takes no 'field'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: string, zh: a, en: b, merge: lww, pattern: \"a)|(b\"}\n",
		  "field 'f': pattern has an unmatched ')'" },
		/* aggregate conditions, groups and personal counts (docs/schemas.md "Aggregates") */
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: string, zh: a, en: b, merge: lww}\n"
		  "aggregates:\n  - {name: s, zh: a, en: b, op: count, where: {field: f, op: \"<\", value: x}}\n",
		  "aggregate 's': '<' needs an int, decimal, date or datetime field, not string" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: lww}\n"
		  "aggregates:\n  - {name: s, zh: a, en: b, op: count, where: {field: f, op: \"=<\", value: 1}}\n",
		  "aggregate 's': unknown 'where' op '=<'" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: lww}\n"
		  "aggregates:\n  - {name: s, zh: a, en: b, op: count, where: []}\n",
		  "aggregate 's': 'where' takes 1 to 8 conditions" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: lww}\n"
		  "aggregates:\n  - {name: s, zh: a, en: b, op: count, group_by: f}\n",
		  "aggregate 's': 'group_by' needs an enum, bool or set-of-enum field, not int" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: enum, zh: a, en: b, merge: lww, pii: true, values: [{value: v, zh: a, en: b}]}\n"
		  "aggregates:\n  - {name: s, zh: a, en: b, op: count, where: {field: f, value: v}}\n",
		  "aggregate 's': personal (pii) fields are never aggregated" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: string, zh: a, en: b, merge: lww, pii: true}\n"
		  "aggregates:\n  - {name: s, zh: a, en: b, op: count, personal: true, where: {field: f, value: v}}\n",
		  "aggregate 's': personal (pii) fields are never aggregated" },
		{ "name: x\nversion: 1\nzh: a\nen: b\nfields:\n  - {name: f, type: int, zh: a, en: b, merge: lww}\n"
		  "aggregates:\n  - {name: s, zh: a, en: b, op: count, personal: yes}\n",
		  "aggregate 's': 'personal' is true or false" },
		/* not YAML at all: the loader's own message, with its position */
		{ "name: [x\n", "test.yaml:" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vl_buf diag = VL_BUF_INIT;
		int rc;
		vl_schema *s = load_text(cases[i].yaml, &diag, &rc);

		if (rc != VL_EINVALID || !diag.ptr || !strstr(diag.ptr, cases[i].expect)) {
			print_error("case %zu: rc %d, diag:\n%s\n", i, rc, diag.ptr ? diag.ptr : "(none)");
			fail();
		}
		assert_null(s);
		vl_buf_free(&diag);
	}
}

/* ---- validation ------------------------------------------------------------ */

static const char good_data[] =
	"code: AB123\n"
	"name: 张三\n"
	"id_number: 50024319800229001X\n"
	"mobile: \"13812345678\"\n"
	"phone: 023-78441234\n"
	"age: 42\n"
	"amount: 12.50\n"
	"ok: true\n"
	"day: 2022-04-07\n"
	"at: 2022-04-07T01:12:33.120Z\n"
	"status: purchased\n"
	"tags: [disabled, elderly_alone]\n"
	"nums: [10, 9]\n"
	"unit: \"500243001001\"\n"
	"who: 01hq3k5z6w8x9y0abcdefghjkm\n"
	"note: \"两行\\n文字\"\n"
	"items:\n"
	"  - {name: 大米, qty: 2, secret: 某}\n"
	"  - {name: 鸡蛋, qty: 30}\n"
	"addr: {street: 新华路, room: \"302\"}\n"
	"hooked: 3\n";

static void test_validate_good(void **state)
{
	vl_schema *s = sink();
	vl_value *d = data_from(good_data);
	char *diag;
	int rc;

	(void)state;
	diag = validate(s, d, 0, &rc);
	if (rc)
		print_error("%s", diag);
	assert_int_equal(rc, 0);
	assert_string_equal(diag, "");
	free(diag);
	assert_int_equal(vl_schema_validate(s, d, 0, NULL), 0);
	vl_value_free(d);

	/* only the required fields */
	d = data_from("code: XY999\nstatus: registered\n");
	assert_int_equal(vl_schema_validate(s, d, 0, NULL), 0);
	vl_value_free(d);
	vl_schema_free(s);
}

static void test_validate_rules(void **state)
{
	static const char bad_data[] =
		"code: ab123\n"                          /* 1 pattern */
		"name: 张\n"                             /* 2 min_len */
		"id_number: \"500243198002290011\"\n"    /* 3 check digit */
		"mobile: \"12812345678\"\n"              /* 4 mobile */
		"phone: 023-1234\n"                      /* 5 phone */
		"age: 151\n"                             /* 6 max */
		"amount: -0.01\n"                        /* 7 min */
		"ok: \"yes\"\n"                          /* 8 bool type */
		"day: 2023-02-29\n"                      /* 9 date */
		"at: 2022-04-07 01:12:33\n"              /* 10 datetime */
		"status: shipped\n"                      /* 11 enum */
		"tags: [elderly_alone, disabled]\n"      /* 12 unsorted */
		"nums: [1, 1]\n"                         /* 13 duplicate */
		"unit: \"500043001001\"\n"               /* 14 division */
		"who: 01HQ3K5Z6W8X9Y0ABCDEFGHJKM\n"      /* 15 ref */
		"note: \"一二三四五六七八九十一\"\n"     /* 16 max_len 10 */
		"items:\n"                               /* 17 */
		"  - {qty: 0}\n"                         /* 18 name required, qty min */
		"  - {name: a}\n"                        /* 19 */
		"  - {name: a, extra: 1}\n"              /* 20 repeat key, unknown */
		"addr: {room: \"302\", street: x}\n"     /* 21 order */
		"colour: red\n";                         /* 22 unknown */
	vl_schema *s = sink();
	vl_value *d = data_from(bad_data);
	char *diag;
	int rc;

	(void)state;
	diag = validate(s, d, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag, "field 'code': pattern (does not match) (line 1 col 7)");
	assert_contains(diag, "field 'name': min_len (too short) (line 2 col 7)");
	assert_contains(diag, "field 'id_number': cn_id check digit should be X (line 3 col 12) (身份证号)");
	assert_contains(diag, "field 'mobile': cn_mobile");
	assert_contains(diag, "(line 4 col 9)");
	assert_contains(diag, "field 'phone': phone");
	assert_contains(diag, "field 'age': max (above the maximum) (line 6 col 6)");
	assert_contains(diag, "field 'amount': min (below the minimum) (line 7 col 9)");
	assert_contains(diag, "field 'ok': type (expected true or false) (line 8 col 5)");
	assert_contains(diag, "field 'day': date (expected a real date YYYY-MM-DD) (line 9 col 6)");
	assert_contains(diag, "field 'at': datetime");
	/* the accepted values named, Chinese labels with their ids */
	assert_contains(diag, "field 'status': enum: should be one of 已登记 (registered), 已采购 (purchased), "
			"已送达 (delivered), 已取消 (cancelled) (line 11 col 9) (状态)");
	assert_contains(diag, "field 'tags[1]': set (items not sorted) (line 12 col 23)");
	assert_contains(diag, "field 'nums[1]': set (duplicate item) (line 13 col 11)");
	assert_contains(diag, "field 'unit': division");
	assert_contains(diag, "field 'who': ref (expected a record id) (line 15 col 6)");
	assert_contains(diag, "field 'note': max_len (too long) (line 16 col 7)");
	assert_contains(diag, "field 'items[0].qty': min (below the minimum) (line 18 col 11)");
	assert_contains(diag, "field 'items[0].name': required (missing) (line 18 col 5)");
	assert_contains(diag, "field 'items[0]': item key missing (line 18 col 5)");
	assert_contains(diag, "field 'items[2].extra': unknown field (not in the schema) (line 20 col 22)");
	assert_contains(diag, "field 'items[2]': item key repeats an earlier item (line 20 col 5)");
	assert_contains(diag, "field 'addr.street': order (keys must follow the schema's field order) (line 21 col 29)");
	assert_contains(diag, "field 'colour': unknown field (not in the schema) (line 22 col 9)");
	assert_contains(diag, "field 'status'");
	/* the last-error slot carries the first violation */
	assert_contains(vl_error_last(), "field 'code': pattern");
	free(diag);
	vl_value_free(d);

	/* required, top-level order, null, empty, control characters, kinds */
	d = data_from("name: 张三三\ncode: AB123\nage: null\nphone: \"\"\nnote: \"a\\rb\"\n"
			"tags: disabled\nitems: {a: 1}\naddr: [x]\namount: \"1.5\"\n");
	diag = validate(s, d, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag, "field 'status': required (missing) (line 1 col 1)");
	assert_contains(diag, "field 'code': order (keys must follow the schema's field order) (line 2 col 7)");
	assert_contains(diag, "field 'age': null (leave the field out instead) (line 3 col 6)");
	assert_contains(diag, "field 'phone': empty (leave the field out instead)");
	assert_contains(diag, "field 'note': control character");
	assert_contains(diag, "field 'tags': type (expected a set: a list)");
	assert_contains(diag, "field 'items': type (expected a list)");
	assert_contains(diag, "field 'addr': type (expected a map)");
	assert_contains(diag, "field 'amount': type (expected decimal)");
	free(diag);
	vl_value_free(d);

	/* data built in memory: no position in the message */
	d = vl_value_new(VL_V_MAP);
	assert_int_equal(vl_value_map_set(d, "code", vl_value_str("AB123")), 0);
	assert_int_equal(vl_value_map_set(d, "status", vl_value_str("purchased")), 0);
	assert_int_equal(vl_value_map_set(d, "age", vl_value_str("12")), 0);
	diag = validate(s, d, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag, "field 'age': order");
	assert_contains(diag, "field 'age': type (expected int) (年龄)\n");
	free(diag);
	vl_value_free(d);

	/* not a map */
	d = vl_value_new(VL_V_LIST);
	assert_int_equal(vl_schema_validate(s, d, 0, NULL), VL_EINVALID);
	vl_value_free(d);
	vl_schema_free(s);
}

static void test_validate_tombstone(void **state)
{
	vl_schema *s = sink();
	vl_value *d, *t = NULL;
	char *diag;
	int rc;

	(void)state;
	/* a tombstone needs no required field ... */
	d = data_from("age: 3\n");
	assert_int_equal(vl_schema_validate(s, d, 1, NULL), 0);
	assert_int_equal(vl_schema_validate(s, d, 0, NULL), VL_EINVALID);
	vl_value_free(d);
	/* ... and keeps no personal data */
	d = data_from(good_data);
	diag = validate(s, d, 1, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag, "field 'name': pii (a tombstone keeps no personal data) (line 2 col 7)");
	assert_contains(diag, "field 'items[0].secret': pii");
	assert_contains(diag, "field 'addr.room': pii");
	free(diag);
	/* tombstone_data strips exactly that */
	assert_int_equal(vl_schema_tombstone_data(&t, s, d), 0);
	assert_int_equal(vl_schema_validate(s, t, 1, NULL), 0);
	assert_null(vl_value_map_get(t, "name"));
	assert_null(vl_value_map_get(t, "id_number"));
	assert_null(vl_value_map_get(t, "mobile"));
	assert_null(vl_value_map_get(t, "phone"));
	assert_string_equal(text_of(t, "code"), "AB123");
	assert_string_equal(text_of(t, "status"), "purchased");
	assert_null(vl_value_map_get(vl_value_map_get(t, "items")->items[0], "secret"));
	assert_string_equal(text_of(vl_value_map_get(t, "items")->items[0], "name"), "大米");
	assert_null(vl_value_map_get(vl_value_map_get(t, "addr"), "room"));
	assert_string_equal(text_of(vl_value_map_get(t, "addr"), "street"), "新华路");
	/* keys stay in schema order: validation above would have said otherwise */
	assert_string_equal(t->keys[0], "code");
	vl_value_free(t);
	vl_value_free(d);
	vl_schema_free(s);
}

/* Realistic records of the shipped schemas. */
static void test_validate_shipped(void **state)
{
	vl_schema *s;
	vl_value *d;
	char *diag;
	int rc;

	(void)state;
	s = load_file("supply_request.yaml");
	d = data_from(
		"request_no: 500243001001-20220407-003\n"
		"reason: sealed_household\n"
		"address: 鼓楼社区2栋1单元302\n"
		"contact_name: 李四\n"
		"contact_phone: \"13812345678\"\n"
		"items:\n"
		"  - {name: 大米, qty: 2, unit: 袋}\n"
		"  - {name: 食用油, qty: 1, unit: 桶, note: 5升}\n"
		"status: purchased\n"
		"requested_at: 2022-04-07T01:12:33.120Z\n"
		"amount: 135.50\n");
	diag = validate(s, d, 0, &rc);
	if (rc)
		print_error("%s", diag);
	assert_int_equal(rc, 0);
	free(diag);
	vl_value_free(d);
	d = data_from("request_no: 2022-003\nreason: sealed_household\naddress: x\ncontact_name: y\n"
			"contact_phone: \"13812345678\"\nitems: []\nstatus: purchased\n"
			"requested_at: 2022-04-07T01:12:33Z\n");
	diag = validate(s, d, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag, "field 'request_no': pattern (does not match) (line 1 col 13)");
	free(diag);
	vl_value_free(d);
	vl_schema_free(s);

	s = load_file("resident.yaml");
	d = data_from(
		"name: 王五\n"
		"id_number: \"500243195405120021\"\n"
		"gender: female\n"
		"birth_date: 1954-05-12\n"
		"residence_kind: registered\n"
		"address: 鼓楼社区3组\n"
		"tags: [elderly_alone, special_disease]\n"
		"source: worker_survey\n"
		"surveyed_on: 2022-04-06\n");
	diag = validate(s, d, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	/* the check character of this one is X, not 1 */
	assert_contains(diag, "field 'id_number': cn_id check digit should be X (line 2 col 12) (公民身份号码)");
	free(diag);
	vl_value_free(d);
	vl_schema_free(s);

	s = load_file("volunteer.yaml");
	d = data_from(
		"name: 赵六\n"
		"phone: \"13987654321\"\n"
		"team: 党员先锋队\n"
		"skills: [delivery, driving]\n"
		"status: active\n"
		"service_log:\n"
		"  - {date: 2022-04-07, task: 物资配送, hours: 3.5}\n"
		"  - {date: 2022-04-08, task: 核酸采样秩序维护, hours: 25}\n"
		"service_hours: 3.5\n");
	diag = validate(s, d, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag, "field 'service_log[1].hours': max (above the maximum) (line 8 col 47)");
	assert_int_equal(count_lines(diag), 1);
	free(diag);
	vl_value_free(d);
	vl_schema_free(s);
}

/* ---- set_text / normalize ------------------------------------------------ */

static void test_set_text(void **state)
{
	vl_schema *s;
	vl_value *d, *v;

	(void)state;
	s = load_file("supply_request.yaml");
	d = vl_value_new(VL_V_MAP);
	assert_non_null(d);
	/* inserted at schema positions whatever the order of --set */
	assert_int_equal(vl_schema_set_text(s, d, "status", "已采购"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "request_no", "500243001001-20220407-003"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "contact_phone", " 13812345678 "), 0);
	assert_int_equal(vl_schema_set_text(s, d, "items", "[{name: 大米, qty: 2, unit: 袋}, {qty: 1, name: 鸡蛋}]"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "reason", "Sealed household"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "address", "鼓楼社区2栋"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "contact_name", "李四"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "requested_at", "2022-04-07 09:12:33+08:00"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "urgent", "是"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "amount", "135.50"), 0);
	assert_string_equal(d->keys[0], "request_no");
	assert_string_equal(d->keys[1], "reason");
	assert_string_equal(d->keys[2], "address");
	assert_string_equal(d->keys[3], "contact_name");
	assert_string_equal(d->keys[4], "contact_phone");
	assert_string_equal(d->keys[5], "items");
	assert_string_equal(d->keys[6], "urgent");
	assert_string_equal(d->keys[7], "status");
	assert_string_equal(d->keys[8], "requested_at");
	assert_string_equal(d->keys[9], "amount");
	assert_string_equal(text_of(d, "status"), "purchased");
	assert_string_equal(text_of(d, "reason"), "sealed_household");
	assert_string_equal(text_of(d, "contact_phone"), "13812345678");
	assert_string_equal(text_of(d, "requested_at"), "2022-04-07T01:12:33Z");
	v = vl_value_map_get(d, "urgent");
	assert_int_equal(v->kind, VL_V_BOOL);
	assert_string_equal(v->s, "true");
	assert_int_equal(vl_value_map_get(d, "amount")->kind, VL_V_DEC);
	v = vl_value_map_get(d, "items");
	assert_int_equal(v->n, 2);
	/* item keys normalised into field order */
	assert_string_equal(v->items[1]->keys[0], "name");
	assert_int_equal(vl_value_map_get(v->items[0], "qty")->kind, VL_V_INT);
	assert_int_equal(vl_schema_validate(s, d, 0, NULL), 0);
	/* replace keeps the position; labels in English and values both work */
	assert_int_equal(vl_schema_set_text(s, d, "status", "Delivered"), 0);
	assert_string_equal(d->keys[7], "status");
	assert_string_equal(text_of(d, "status"), "delivered");
	assert_int_equal(vl_schema_set_text(s, d, "status", "cancelled"), 0);
	assert_string_equal(text_of(d, "status"), "cancelled");
	/* an empty value clears the field */
	assert_int_equal(vl_schema_set_text(s, d, "amount", ""), 0);
	assert_null(vl_value_map_get(d, "amount"));
	assert_int_equal(vl_schema_set_text(s, d, "amount", ""), 0);
	/* errors */
	assert_int_equal(vl_schema_set_text(s, d, "colour", "red"), VL_ENOTFOUND);
	assert_contains(vl_error_last(), "request_no");
	assert_contains(vl_error_last(), "contact_phone");
	assert_int_equal(vl_schema_set_text(s, d, "status", "lost"), VL_EINVALID);
	assert_contains(vl_error_last(), "should be one of 已登记 (registered), 已采购 (purchased), 配送中 (delivering), "
			"已送达 (delivered), 已取消 (cancelled) (状态)");
	assert_int_equal(vl_schema_set_text(s, d, "urgent", "maybe"), VL_EINVALID);
	assert_int_equal(vl_schema_set_text(s, d, "amount", "1,5"), VL_EINVALID);
	assert_int_equal(vl_schema_set_text(s, d, "amount", "1e3"), VL_EINVALID);
	assert_int_equal(vl_schema_set_text(s, d, "requested_at", "2022-04-07"), VL_EINVALID);
	assert_int_equal(vl_schema_set_text(s, d, "requested_at", "2022-04-07T25:00:00Z"), VL_EINVALID);
	assert_int_equal(vl_schema_set_text(s, d, "items", "{name: x}"), VL_EINVALID);
	assert_int_equal(vl_schema_set_text(s, d, "items", "[{name: x"), VL_EINVALID);
	/* failures leave the data alone */
	assert_string_equal(text_of(d, "status"), "cancelled");
	vl_value_free(d);
	vl_schema_free(s);

	s = sink();
	d = vl_value_new(VL_V_MAP);
	/* sets: comma lists (ASCII and Chinese separators) or flow, labels,
	 * sorted and unique */
	assert_int_equal(vl_schema_set_text(s, d, "tags", "孕产妇、独居老人, disabled，独居老人"), 0);
	v = vl_value_map_get(d, "tags");
	assert_int_equal(v->n, 3);
	assert_string_equal(v->items[0]->s, "disabled");
	assert_string_equal(v->items[1]->s, "elderly_alone");
	assert_string_equal(v->items[2]->s, "pregnant");
	assert_int_equal(vl_schema_set_text(s, d, "nums", "[10, 9, 10]"), 0);
	v = vl_value_map_get(d, "nums");
	assert_int_equal(v->n, 2);
	assert_int_equal(v->items[0]->kind, VL_V_INT);
	assert_string_equal(v->items[0]->s, "10"); /* bytewise: "10" < "9" */
	assert_string_equal(v->items[1]->s, "9");
	assert_int_equal(vl_schema_set_text(s, d, "nums", "1, x"), VL_EINVALID);
	assert_int_equal(vl_schema_set_text(s, d, "tags", "elderly_alone, 残废"), VL_EINVALID);
	assert_int_equal(vl_schema_set_text(s, d, "age", "42"), 0);
	assert_int_equal(vl_value_map_get(d, "age")->kind, VL_V_INT);
	assert_int_equal(vl_schema_set_text(s, d, "age", "042"), VL_EINVALID);
	assert_int_equal(vl_schema_set_text(s, d, "age", "99999999999999999999"), VL_EINVALID);
	assert_int_equal(vl_schema_set_text(s, d, "ok", "否"), 0);
	assert_string_equal(text_of(d, "ok"), "false");
	assert_int_equal(vl_schema_set_text(s, d, "day", "2024-02-29"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "day", "2023-02-29"), VL_EINVALID);
	assert_int_equal(vl_schema_set_text(s, d, "at", "2022-01-01T07:30:00.5+08:00"), 0);
	assert_string_equal(text_of(d, "at"), "2021-12-31T23:30:00.5Z");
	assert_int_equal(vl_schema_set_text(s, d, "at", "2022-01-01T23:30-01:00"), 0);
	assert_string_equal(text_of(d, "at"), "2022-01-02T00:30:00Z");
	assert_int_equal(vl_schema_set_text(s, d, "id_number", "50024319800229001x"), 0);
	assert_string_equal(text_of(d, "id_number"), "50024319800229001X");
	assert_int_equal(vl_schema_set_text(s, d, "addr", "{room: 302, street: 新华路}"), 0);
	v = vl_value_map_get(d, "addr");
	assert_string_equal(v->keys[0], "street");
	assert_int_equal(vl_value_map_get(v, "room")->kind, VL_V_STR);
	assert_int_equal(vl_schema_set_text(s, d, "note", "第一行\n第二行"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "code", "AB123"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "status", "registered"), 0);
	assert_int_equal(vl_schema_validate(s, d, 0, NULL), 0);
	assert_string_equal(d->keys[0], "code");
	vl_value_free(d);
	vl_schema_free(s);
}

static void test_normalize(void **state)
{
	vl_schema *s = sink();
	vl_value *d;
	char *diag;
	int rc;

	(void)state;
	d = data_from(
		"status: 已采购\n"
		"tags: [孕产妇, elderly_alone, Disabled, pregnant]\n"
		"unit: 500243001001\n"
		"id_number: 50024319800229001x\n"
		"code: AB123\n"
		"items:\n"
		"  - {qty: 2, name: 大米}\n"
		"addr: {room: 302}\n"
		"age: \"42\"\n"
		"colour: red\n");
	assert_int_equal(vl_schema_normalize(s, d), 0);
	assert_string_equal(d->keys[0], "code");
	assert_string_equal(d->keys[1], "id_number");
	assert_string_equal(d->keys[2], "age");
	assert_string_equal(d->keys[3], "status");
	assert_string_equal(d->keys[d->n - 1], "colour"); /* unknown keys kept, last */
	assert_string_equal(text_of(d, "status"), "purchased");
	assert_string_equal(text_of(d, "id_number"), "50024319800229001X");
	assert_int_equal(vl_value_map_get(d, "unit")->kind, VL_V_STR);
	assert_int_equal(vl_value_map_get(d, "tags")->n, 3);
	assert_string_equal(vl_value_map_get(d, "tags")->items[0]->s, "disabled");
	assert_string_equal(vl_value_map_get(d, "items")->items[0]->keys[0], "name");
	assert_int_equal(vl_value_map_get(vl_value_map_get(d, "addr"), "room")->kind, VL_V_STR);
	/* positions survive for validate's messages */
	assert_int_equal(vl_value_map_get(d, "status")->line, 1);
	/* a string of digits for an int field is left for validate to report */
	assert_int_equal(vl_value_map_get(d, "age")->kind, VL_V_STR);
	diag = validate(s, d, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag, "field 'age': type (expected int) (line 9 col 6)");
	assert_contains(diag, "field 'colour': unknown field");
	assert_int_equal(count_lines(diag), 2);
	free(diag);
	vl_value_free(d);
	vl_schema_free(s);
}

/* ---- defaults -------------------------------------------------------------- */

static const char dflt_yaml[] =
	"name: dflt\n"
	"version: 1\n"
	"zh: 默认\n"
	"en: Defaults\n"
	"fields:\n"
	"  - {name: code, type: string, zh: 编号, en: Code, required: true, merge: keep}\n"
	"  - name: status\n"
	"    type: enum\n"
	"    zh: 状态\n"
	"    en: Status\n"
	"    required: true\n"
	"    default: open\n"
	"    values:\n"
	"      - {value: open, zh: 开, en: Open}\n"
	"      - {value: shut, zh: 关, en: Shut}\n"
	"    merge: lww\n"
	"  - {name: n, type: int, zh: 数, en: N, min: 0, max: 9, default: 3, merge: lww}\n"
	"  - {name: amount, type: decimal, zh: 额, en: Amount, default: 12.50, merge: lww}\n"
	"  - {name: ok, type: bool, zh: 是否, en: OK, default: false, merge: lww}\n"
	"  - {name: room, type: string, zh: 房, en: Room, default: 302, merge: lww}\n"
	"  - {name: day, type: date, zh: 日, en: Day, default: 2022-04-07, merge: lww}\n"
	"  - {name: on, type: date, zh: 今, en: On, default: today, merge: lww}\n"
	"  - {name: at, type: datetime, zh: 时, en: At, default: \"2022-04-07T01:12:33Z\", merge: lww}\n"
	"  - {name: seen, type: datetime, zh: 见, en: Seen, required: true, default: now, merge: keep}\n"
	"  - {name: note, type: text, zh: 注, en: Note, merge: lww}\n"
	"  - {name: who, type: string, zh: 人, en: Who, pii: true, merge: lww}\n"
	"  - {name: tags, type: set, items: string, zh: 标, en: Tags, merge: union}\n";

static vl_schema *dflt(void)
{
	vl_buf diag = VL_BUF_INIT;
	int rc;
	vl_schema *s = load_text(dflt_yaml, &diag, &rc);

	if (rc)
		print_error("%s", diag.ptr ? diag.ptr : vl_error_last());
	assert_int_equal(rc, 0);
	assert_non_null(s);
	assert_int_equal(diag.len, 0);
	vl_buf_free(&diag);
	return s;
}

static void assert_def(const vl_schema *s, const char *field, vl_vkind kind, const char *text)
{
	const vl_field *f = vl_schema_field(s, field);

	assert_non_null(f);
	assert_non_null(f->def);
	assert_int_equal(f->def->kind, kind);
	assert_string_equal(f->def->s, text);
	assert_int_equal(f->def->line, 0); /* never a position in the record's file */
}

static void test_defaults_load(void **state)
{
	static const struct {
		const char *file, *field, *def;
	} shipped_defs[] = {
		{ "supply_request.yaml", "status", "registered" },
		{ "supply_request.yaml", "requested_at", "now" },
		{ "report.yaml", "status", "draft" },
		{ "zone.yaml", "status", "active" },
		{ "volunteer.yaml", "status", "active" },
		{ "test_session.yaml", "status", "planned" },
		{ "network_role.yaml", "status", "active" },
		{ "special_group.yaml", "status", "active" },
		{ "committee.yaml", "status", "active" },
		{ "test_attendance.yaml", "status", "notified" },
		{ "test_attendance.yaml", "notified_at", "now" },
		{ "appeal.yaml", "urgency", "normal" },
		{ "appeal.yaml", "received_at", "now" },
		{ "appeal.yaml", "status", "received" },
	};
	vl_schema *s = dflt();
	size_t i, j, n;

	(void)state;
	assert_def(s, "status", VL_V_STR, "open");
	assert_def(s, "n", VL_V_INT, "3");
	assert_def(s, "amount", VL_V_DEC, "12.50");
	assert_def(s, "ok", VL_V_BOOL, "false");
	assert_def(s, "room", VL_V_STR, "302"); /* a plain number, taken as its text */
	assert_def(s, "day", VL_V_STR, "2022-04-07");
	assert_def(s, "on", VL_V_STR, "today");  /* resolved when applied */
	assert_def(s, "at", VL_V_STR, "2022-04-07T01:12:33Z");
	assert_def(s, "seen", VL_V_STR, "now");
	assert_null(vl_schema_field(s, "code")->def);
	assert_null(vl_schema_field(s, "note")->def);
	assert_null(vl_schema_field(s, "tags")->def);
	vl_schema_free(s);

	/* the shipped defaults, and no others */
	for (i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		s = load_file(shipped[i]);
		for (j = 0, n = 0; j < s->nfields; j++) {
			const vl_field *f = &s->fields[j];
			size_t k;

			if (!f->def)
				continue;
			n++;
			for (k = 0; k < sizeof(shipped_defs) / sizeof(shipped_defs[0]); k++)
				if (strcmp(shipped_defs[k].file, shipped[i]) == 0 &&
						strcmp(shipped_defs[k].field, f->name) == 0)
					break;
			if (k == sizeof(shipped_defs) / sizeof(shipped_defs[0])) {
				print_error("%s: unexpected default on '%s'\n", shipped[i], f->name);
				fail();
			}
			assert_string_equal(f->def->s, shipped_defs[k].def);
			assert_false(f->pii);
		}
		for (j = 0; j < sizeof(shipped_defs) / sizeof(shipped_defs[0]); j++)
			if (strcmp(shipped_defs[j].file, shipped[i]) == 0)
				n--;
		assert_int_equal(n, 0);
		vl_schema_free(s);
	}
}

/* Bad defaults: every one reported at the position of its value. */
static void test_defaults_bad(void **state)
{
	static const char bad[] =
		"name: x\n"                                                                              /* 1 */
		"version: 1\n"                                                                           /* 2 */
		"zh: a\n"                                                                                /* 3 */
		"en: b\n"                                                                                /* 4 */
		"fields:\n"                                                                              /* 5 */
		"  - {name: a, type: int, zh: a, en: b, merge: lww, default: abc}\n"                     /* 6 */
		"  - {name: b, type: int, zh: a, en: b, merge: lww, max: 5, default: 6}\n"               /* 7 */
		"  - {name: c, type: string, zh: a, en: b, pii: true, merge: lww, default: x}\n"         /* 8 */
		"  - {name: d, type: set, items: int, zh: a, en: b, merge: union, default: 1}\n"         /* 9 */
		"  - {name: e, type: date, zh: a, en: b, merge: lww, default: now}\n"                    /* 10 */
		"  - {name: f, type: datetime, zh: a, en: b, merge: lww, default: today}\n"              /* 11 */
		"  - {name: g, type: enum, zh: a, en: b, merge: lww, default: 开, values: [{value: open, zh: 开, en: Open}]}\n" /* 12 */
		"  - {name: h, type: string, zh: a, en: b, merge: lww, pattern: \"[A-Z]+\", default: abc}\n" /* 13 */
		"  - {name: i, type: list, items: map, zh: a, en: b, merge: append, fields: [{name: j, type: int, zh: a, en: b, default: 1}]}\n" /* 14 */
		"  - {name: k, type: bool, zh: a, en: b, merge: lww, default: [true]}\n"                 /* 15 */
		"  - {name: l, type: string, zh: a, en: b, merge: lww, default: ~}\n"                    /* 16 */
		"  - {name: m, type: map, zh: a, en: b, merge: lww, fields: [{name: j, type: int, zh: a, en: b}], default: 1}\n" /* 17 */
		"  - {name: n, type: datetime, zh: a, en: b, merge: lww, default: \"2022-04-07 09:30+08:00\"}\n" /* 18 */
		"  - {name: o, type: list, items: string, zh: a, en: b, merge: append, default: x}\n"    /* 19 */
		"  - {name: p, type: string, zh: a, en: b, merge: lww, max_len: 2, default: abc}\n";     /* 20 */
	vl_buf diag = VL_BUF_INIT;
	vl_schema *s;
	int rc;

	(void)state;
	s = load_text(bad, &diag, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_null(s);
	assert_non_null(diag.ptr);
	assert_contains(diag.ptr, "test.yaml:6:61: field 'a': 'default' is not valid for the field: type (expected int)\n");
	assert_contains(diag.ptr, "test.yaml:7:69: field 'b': 'default' is not valid for the field: max (above the maximum)\n");
	assert_contains(diag.ptr, "test.yaml:8:75: field 'c': a personal (pii) field takes no 'default'\n");
	assert_contains(diag.ptr, "test.yaml:9:75: field 'd': 'default' does not apply to type set\n");
	assert_contains(diag.ptr, "test.yaml:10:62: field 'e': 'default' is not valid for the field: date (expected a real date YYYY-MM-DD), or the word 'today'\n");
	assert_contains(diag.ptr, "test.yaml:11:66: field 'f': 'default' is not valid for the field: datetime (expected YYYY-MM-DDTHH:MM:SS[.fff]Z), or the word 'now'\n");
	assert_contains(diag.ptr, "test.yaml:12:62: field 'g': 'default' must be an enum value, not a label (use 'open')\n");
	assert_contains(diag.ptr, "test.yaml:13:83: field 'h': 'default' is not valid for the field: pattern (does not match)\n");
	assert_contains(diag.ptr, "test.yaml:14:121: item field 'j': 'default' is only for top-level fields\n");
	assert_contains(diag.ptr, "test.yaml:15:62: field 'k': 'default' must be a scalar\n");
	assert_contains(diag.ptr, "test.yaml:16:64: field 'l': 'default' is not valid for the field: null (leave the field out instead)\n");
	assert_contains(diag.ptr, "test.yaml:17:107: field 'm': 'default' does not apply to type map\n");
	assert_contains(diag.ptr, "test.yaml:18:66: field 'n': 'default' is not valid for the field: datetime");
	assert_contains(diag.ptr, "test.yaml:19:80: field 'o': 'default' does not apply to type list\n");
	assert_contains(diag.ptr, "test.yaml:20:76: field 'p': 'default' is not valid for the field: max_len (too long)\n");
	assert_int_equal(count_lines(diag.ptr), 15);
	vl_buf_free(&diag);
}

static void test_apply_defaults(void **state)
{
	vl_schema *s = dflt();
	vl_value *d, *again;
	const vl_value *v;
	char t0[11], t1[11];
	const char *on, *seen;
	char *diag;
	int rc;

	(void)state;
	/* missing fields get their defaults, at their schema positions; given
	 * values stay (n: 7), and so do keys the schema does not know */
	d = data_from("note: hi\nn: 7\ncode: X1\nzzz: 1\n");
	assert_int_equal(vl_schema_normalize(s, d), 0);
	vl_date_today(t0);
	assert_int_equal(vl_schema_apply_defaults(s, d), 0);
	vl_date_today(t1);
	assert_int_equal(d->n, 12);
	assert_string_equal(d->keys[0], "code");
	assert_string_equal(d->keys[1], "status");
	assert_string_equal(d->keys[2], "n");
	assert_string_equal(d->keys[3], "amount");
	assert_string_equal(d->keys[4], "ok");
	assert_string_equal(d->keys[5], "room");
	assert_string_equal(d->keys[6], "day");
	assert_string_equal(d->keys[7], "on");
	assert_string_equal(d->keys[8], "at");
	assert_string_equal(d->keys[9], "seen");
	assert_string_equal(d->keys[10], "note");
	assert_string_equal(d->keys[11], "zzz");
	assert_string_equal(text_of(d, "status"), "open");
	assert_string_equal(text_of(d, "n"), "7");
	assert_int_equal(vl_value_map_get(d, "n")->line, 2);
	assert_int_equal(vl_value_map_get(d, "amount")->kind, VL_V_DEC);
	assert_int_equal(vl_value_map_get(d, "ok")->kind, VL_V_BOOL);
	assert_string_equal(text_of(d, "room"), "302");
	assert_string_equal(text_of(d, "day"), "2022-04-07");
	assert_string_equal(text_of(d, "at"), "2022-04-07T01:12:33Z");
	assert_null(vl_value_map_get(d, "who"));
	assert_null(vl_value_map_get(d, "tags"));
	/* today and now: the current UTC date, and time to the second, of one
	 * reading of the clock */
	on = text_of(d, "on");
	seen = text_of(d, "seen");
	assert_true(strcmp(on, t0) == 0 || strcmp(on, t1) == 0);
	assert_true(vl_date_valid(on));
	assert_int_equal(strlen(seen), 20);
	assert_true(vl_datetime_valid(seen));
	assert_memory_equal(seen, on, 10);
	assert_int_equal(seen[10], 'T');
	assert_int_equal(seen[19], 'Z');
	/* inserted values carry no position (validate would cite the file) */
	v = vl_value_map_get(d, "status");
	assert_int_equal(v->line, 0);
	assert_int_equal(v->col, 0);
	/* only the unknown key is left for validate */
	diag = validate(s, d, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag, "field 'zzz': unknown field");
	assert_int_equal(count_lines(diag), 1);
	free(diag);
	assert_int_equal(vl_value_map_del(d, "zzz"), 0);
	assert_int_equal(vl_schema_validate(s, d, 0, NULL), 0);
	/* a second application changes nothing */
	again = vl_value_clone(d);
	assert_non_null(again);
	assert_int_equal(vl_schema_apply_defaults(s, again), 0);
	assert_true(vl_value_equal(d, again));
	vl_value_free(again);
	vl_value_free(d);

	/* a present key, even null, is not defaulted: validate judges it */
	d = data_from("code: X1\nstatus: null\nseen: \"2022-04-07T01:12:33Z\"\n");
	assert_int_equal(vl_schema_apply_defaults(s, d), 0);
	assert_int_equal(vl_value_map_get(d, "status")->kind, VL_V_NULL);
	assert_string_equal(text_of(d, "seen"), "2022-04-07T01:12:33Z");
	diag = validate(s, d, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag, "field 'status': null");
	free(diag);
	vl_value_free(d);

	/* an empty map gets every default; code stays missing */
	d = vl_value_new(VL_V_MAP);
	assert_non_null(d);
	assert_int_equal(vl_schema_apply_defaults(s, d), 0);
	assert_int_equal(d->n, 9);
	assert_string_equal(d->keys[0], "status");
	diag = validate(s, d, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_contains(diag, "field 'code': required (missing)");
	assert_int_equal(count_lines(diag), 1);
	free(diag);
	vl_value_free(d);

	/* data must be a map */
	d = vl_value_new(VL_V_LIST);
	assert_int_equal(vl_schema_apply_defaults(s, d), VL_EINVALID);
	vl_value_free(d);
	assert_int_equal(vl_schema_apply_defaults(s, NULL), VL_EINVALID);
	vl_schema_free(s);

	/* a shipped ledger: a supply request as `add --set` builds it */
	s = load_file("supply_request.yaml");
	d = vl_value_new(VL_V_MAP);
	assert_non_null(d);
	assert_int_equal(vl_schema_set_text(s, d, "request_no", "500243001001-20220407-003"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "reason", "封控户"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "address", "鼓楼社区2栋"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "contact_name", "李四"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "contact_phone", "13812345678"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "items", "[{name: 大米, qty: 2}]"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "amount", "12"), 0);
	assert_int_equal(vl_schema_validate(s, d, 0, NULL), VL_EINVALID);
	assert_int_equal(vl_schema_apply_defaults(s, d), 0);
	assert_int_equal(vl_schema_validate(s, d, 0, NULL), 0);
	assert_string_equal(d->keys[6], "status");
	assert_string_equal(d->keys[7], "requested_at");
	assert_string_equal(d->keys[8], "amount");
	assert_string_equal(text_of(d, "status"), "registered");
	assert_true(vl_datetime_valid(text_of(d, "requested_at")));
	assert_int_equal(strlen(text_of(d, "requested_at")), 20);
	/* given values win */
	vl_value_free(d);
	d = vl_value_new(VL_V_MAP);
	assert_non_null(d);
	assert_int_equal(vl_schema_set_text(s, d, "status", "已采购"), 0);
	assert_int_equal(vl_schema_set_text(s, d, "requested_at", "2022-04-07 09:12:33+08:00"), 0);
	assert_int_equal(vl_schema_apply_defaults(s, d), 0);
	assert_int_equal(d->n, 2);
	assert_string_equal(text_of(d, "status"), "purchased");
	assert_string_equal(text_of(d, "requested_at"), "2022-04-07T01:12:33Z");
	vl_value_free(d);
	vl_schema_free(s);
}

/* ---- mask, identity ---------------------------------------------------- */

static void test_mask(void **state)
{
	vl_schema *s = sink();
	vl_value *d = data_from(good_data), *m = NULL, *t;
	char *diag;

	(void)state;
	assert_int_equal(vl_value_map_set(d, "colour", vl_value_str("红色的")), 0);
	assert_int_equal(vl_schema_mask(&m, s, d), 0);
	assert_string_equal(text_of(m, "id_number"), "500***********001X");
	assert_string_equal(text_of(m, "mobile"), "138****5678");
	assert_string_equal(text_of(m, "phone"), "023****1234"); /* a fixed run of stars */
	assert_string_equal(text_of(m, "name"), "***");
	assert_string_equal(text_of(m, "code"), "AB123");
	assert_string_equal(text_of(m, "colour"), "***"); /* unknown: masked too */
	t = vl_value_map_get(m, "items");
	assert_string_equal(text_of(t->items[0], "secret"), "***"); /* one character shows as three */
	assert_string_equal(text_of(t->items[0], "name"), "大米");
	assert_string_equal(text_of(vl_value_map_get(m, "addr"), "room"), "***");
	assert_string_equal(text_of(vl_value_map_get(m, "addr"), "street"), "新华路");
	/* shape and order kept */
	assert_int_equal(m->n, d->n);
	assert_string_equal(m->keys[2], "id_number");
	assert_int_equal(vl_value_map_get(m, "tags")->n, 2);
	/* the input is untouched */
	assert_string_equal(text_of(d, "name"), "张三");
	diag = validate(s, d, 0, NULL);
	free(diag);
	vl_value_free(m);
	vl_value_free(d);

	/* masks of fixed length: a long name shows what a short one does;
	 * short ids fully masked; non-strings */
	d = data_from("name: 欧阳司马诸葛上官\nid_number: \"1234567\"\nmobile: 13812345678\n");
	assert_int_equal(vl_schema_mask(&m, s, d), 0);
	assert_string_equal(text_of(m, "name"), "***");
	assert_string_equal(text_of(m, "id_number"), "***"); /* too short to keep 3 + 4 */
	assert_string_equal(text_of(m, "mobile"), "***"); /* an INT where a string belongs */
	vl_value_free(m);
	vl_value_free(d);
	vl_schema_free(s);

	/* a pii list as a whole */
	s = load_file("resident.yaml");
	d = data_from("name: 张三\ntags: [disabled]\nnotes: \"独居，需送药\"\n");
	assert_int_equal(vl_schema_mask(&m, s, d), 0);
	assert_string_equal(text_of(m, "notes"), "***");
	assert_int_equal(vl_value_map_get(m, "tags")->kind, VL_V_LIST);
	vl_value_free(m);
	vl_value_free(d);
	vl_schema_free(s);
}

static void test_identity(void **state)
{
	vl_schema *s = sink();
	vl_value *d;
	vl_buf b = VL_BUF_INIT;

	(void)state;
	d = data_from("code: AB123\nid_number: 50024319800229001X\n");
	assert_int_equal(vl_schema_identity(&b, s, d), 0);
	assert_string_equal(b.ptr, "code=AB123|id_number=50024319800229001X");
	vl_value_free(d);
	vl_buf_clear(&b);
	/* separators inside values are escaped */
	d = data_from("code: \"A|B\\\\\"\nid_number: x\n");
	assert_int_equal(vl_schema_identity(&b, s, d), 0);
	assert_string_equal(b.ptr, "code=A\\|B\\\\|id_number=x");
	vl_value_free(d);
	vl_buf_clear(&b);
	d = data_from("code: AB123\n");
	assert_int_equal(vl_schema_identity(&b, s, d), VL_ENOTFOUND);
	vl_value_free(d);
	vl_schema_free(s);

	s = load_file("report.yaml"); /* no identity */
	d = data_from("title: x\n");
	assert_int_equal(vl_schema_identity(&b, s, d), VL_ENOTFOUND);
	vl_value_free(d);
	vl_schema_free(s);

	s = load_file("special_group.yaml");
	d = data_from("resident: 01hq3k5z6w8x9y0abcdefghjkm\ngroup: disabled\n");
	vl_buf_clear(&b);
	assert_int_equal(vl_schema_identity(&b, s, d), 0);
	assert_string_equal(b.ptr, "resident=01hq3k5z6w8x9y0abcdefghjkm|group=disabled");
	vl_value_free(d);
	vl_schema_free(s);
	vl_buf_free(&b);
}

/* ---- no personal data in messages ---------------------------------------- */

static void assert_no_pii(const char *text)
{
	static const char *const secrets[] = {
		"秘密", "50024319800229", "19800229", "8005", "13899998888", "9999888",
		"023-7777", "7777666", "鼓楼", "南门", "xyzzy",
	};
	size_t i;

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strstr(text, secrets[i])) {
			print_error("personal value [%s] leaked into:\n%s\n", secrets[i], text);
			fail();
		}
}

static void test_no_pii_in_messages(void **state)
{
	static const char leaky[] =
		"code: xyzzy\n"
		"name: \"王秘密\\t\"\n"
		"id_number: \"500243198002290010\"\n"
		"mobile: \"1389999888\"\n"
		"phone: 023-7777666\n"
		"age: 8005\n"
		"status: 鼓楼\n"
		"tags: [南门]\n"
		"note: \"秘密秘密秘密秘密秘密秘密\"\n"
		"items:\n"
		"  - {name: 秘密, qty: 0, secret: 13899998888}\n"
		"addr: {street: 鼓楼, room: 7777666, extra: 秘密}\n";
	vl_schema *s = sink();
	vl_value *d = data_from(leaky), *m = NULL;
	char *diag;
	vl_buf b = VL_BUF_INIT;
	int rc;

	(void)state;
	diag = validate(s, d, 0, &rc);
	assert_int_equal(rc, VL_EINVALID);
	assert_true(count_lines(diag) >= 10);
	assert_no_pii(diag);
	assert_no_pii(vl_error_last());
	free(diag);
	diag = validate(s, d, 1, &rc);
	assert_no_pii(diag);
	free(diag);
	/* masks hide them */
	assert_int_equal(vl_schema_mask(&m, s, d), 0);
	assert_int_equal(vl_json_emit(&b, vl_value_map_get(m, "name"), 0), 0);
	assert_int_equal(vl_json_emit(&b, vl_value_map_get(m, "id_number"), 0), 0);
	assert_int_equal(vl_json_emit(&b, vl_value_map_get(m, "phone"), 0), 0);
	assert_int_equal(vl_json_emit(&b, vl_value_map_get(vl_value_map_get(m, "addr"), "room"), 0), 0);
	assert_no_pii(b.ptr);
	vl_value_free(m);
	vl_buf_free(&b);
	/* set_text failures do not echo the text either */
	assert_int_equal(vl_schema_set_text(s, d, "age", "xyzzy秘密"), VL_EINVALID);
	assert_no_pii(vl_error_last());
	assert_int_equal(vl_schema_set_text(s, d, "status", "鼓楼秘密"), VL_EINVALID);
	assert_no_pii(vl_error_last());
	assert_int_equal(vl_schema_set_text(s, d, "day", "19800229"), VL_EINVALID);
	assert_no_pii(vl_error_last());
	assert_int_equal(vl_schema_set_text(s, d, "items", "[{name: 秘密, qty: [1}]"), VL_EINVALID);
	assert_no_pii(vl_error_last());
	assert_int_equal(vl_schema_set_text(s, d, "xyzzy", "秘密"), VL_ENOTFOUND);
	vl_value_free(d);
	vl_schema_free(s);
}

/* The aggregate language's conditions, groups and personal counts load as
 * declared (docs/schemas.md "Aggregates"). */
static void test_aggregate_conditions(void **state)
{
	static const char text[] =
		"name: x\nversion: 1\nzh: a\nen: b\nfields:\n"
		"  - {name: n, type: int, zh: a, en: b, merge: lww}\n"
		"  - {name: e, type: enum, zh: a, en: b, merge: lww, values: [{value: p, zh: a, en: b}, {value: q, zh: c, en: d}]}\n"
		"  - {name: h, type: enum, zh: a, en: b, merge: lww, pii: true, values: [{value: y, zh: a, en: b}]}\n"
		"aggregates:\n"
		"  - {name: a1, zh: a, en: b, op: count, where: [{field: n, op: \">=\", value: 3}, {field: e, op: \"!=\", value: q}]}\n"
		"  - {name: a2, zh: a, en: b, op: sum, field: n, group_by: e}\n"
		"  - {name: a3, zh: a, en: b, op: count, personal: true, where: {field: h, value: y}}\n";
	vl_buf diag = VL_BUF_INIT;
	int rc;
	vl_schema *s = load_text(text, &diag, &rc);

	(void)state;
	if (rc != 0)
		print_error("%s\n", diag.ptr ? diag.ptr : "");
	assert_int_equal(rc, 0);
	assert_int_equal(s->aggregates[0].nconds, 2);
	assert_int_equal(s->aggregates[0].conds[0].op, VL_CMP_GE);
	assert_string_equal(s->aggregates[0].conds[0].value, "3");
	assert_int_equal(s->aggregates[0].conds[1].op, VL_CMP_NE);
	assert_null(s->aggregates[0].where_field); /* the first is not an equality */
	assert_string_equal(s->aggregates[1].group_by, "e");
	assert_int_equal(s->aggregates[1].nconds, 0);
	assert_int_equal(s->aggregates[2].personal, 1);
	assert_string_equal(s->aggregates[2].where_field, "h");
	vl_schema_free(s);
	vl_buf_free(&diag);
}

/* Issue 12: what a hurried person types is forgiven before validation;
 * what cannot be told apart is refused with the candidates. */
static void test_forgiving_input(void **state)
{
	vl_schema *s, *r, *list[3];
	vl_value *d;
	char buf[64];

	(void)state;
	/* the pure fold: full-width forms and the ideographic space */
	assert_int_equal(vl_fold_fullwidth(buf, "１９４３－０２－１５　Ｘｘ！～", strlen("１９４３－０２－１５　Ｘｘ！～")), 15);
	assert_string_equal(buf, "1943-02-15 Xx!~");
	assert_int_equal(vl_fold_fullwidth(buf, "王a", strlen("王a")), 4);
	assert_string_equal(buf, "王a");

	s = load_file("supply_request.yaml");
	r = load_file("resident.yaml");
	d = vl_value_new(VL_V_MAP);
	assert_non_null(d);
	assert_int_equal(vl_schema_set_text(s, d, "request_no", "５００２４３００１００１－２０２２０４０７－００３"), 0);
	assert_string_equal(text_of(d, "request_no"), "500243001001-20220407-003");
	assert_int_equal(vl_schema_set_text(s, d, "contact_phone", "+86 138-1234 5678"), 0);
	assert_string_equal(text_of(d, "contact_phone"), "+8613812345678");
	assert_int_equal(vl_schema_set_text(s, d, "contact_phone", "023　1234 5678"), 0);
	assert_string_equal(text_of(d, "contact_phone"), "023-12345678");
	assert_int_equal(vl_schema_set_text(s, d, "contact_phone", "0571-8888 1234-12"), 0);
	assert_string_equal(text_of(d, "contact_phone"), "0571-88881234-12");
	assert_int_equal(vl_schema_set_text(s, d, "amount", "１３５．５０"), 0);
	assert_string_equal(text_of(d, "amount"), "135.50");
	/* free text is kept as typed */
	assert_int_equal(vl_schema_set_text(s, d, "address", "２栋　３单元"), 0);
	assert_string_equal(text_of(d, "address"), "２栋　３单元");
	/* labels: unique prefix, any case, zh label, English label */
	assert_int_equal(vl_schema_set_text(s, d, "status", "配送"), 0);
	assert_string_equal(text_of(d, "status"), "delivering");
	assert_int_equal(vl_schema_set_text(s, d, "status", "DELIVERED"), 0);
	assert_string_equal(text_of(d, "status"), "delivered");
	assert_int_equal(vl_schema_set_text(s, d, "status", "已"), VL_EINVALID);
	assert_non_null(strstr(vl_error_last(), "more than one value fits"));
	assert_non_null(strstr(vl_error_last(), "已登记 (registered)"));
	assert_null(strstr(vl_error_last(), "配送中"));
	assert_string_equal(text_of(d, "status"), "delivered"); /* unchanged */
	vl_value_free(d);

	d = vl_value_new(VL_V_MAP);
	assert_non_null(d);
	assert_int_equal(vl_schema_set_text(r, d, "id_number", "110105 19491231 002x"), 0);
	assert_string_equal(text_of(d, "id_number"), "11010519491231002X");
	assert_int_equal(vl_schema_set_text(r, d, "surveyed_on", "２０２２－０４－０１"), 0);
	assert_string_equal(text_of(d, "surveyed_on"), "2022-04-01");
	vl_value_free(d);

	/* a file is forgiven the same way */
	d = data_from("id_number: \"１１０１０５１９４９１２３１００２ｘ\"\nresidence_kind: 流动\n");
	assert_int_equal(vl_schema_normalize(r, d), 0);
	assert_string_equal(text_of(d, "id_number"), "11010519491231002X");
	assert_string_equal(text_of(d, "residence_kind"), "migrant");
	vl_value_free(d);

	/* ledgers by name, zh label, en label in any case */
	list[0] = s;
	list[1] = r;
	assert_ptr_equal(vl_schema_lookup(list, 2, "resident"), r);
	assert_ptr_equal(vl_schema_lookup(list, 2, "常住人口"), r);
	assert_ptr_equal(vl_schema_lookup(list, 2, "supply REQUESTS"), s);
	assert_null(vl_schema_lookup(list, 2, "常住"));
	list[2] = r;
	assert_null(vl_schema_lookup(list, 3, "常住人口")); /* two with one label: neither */
	vl_schema_free(s);
	vl_schema_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forgiving_input),
		cmocka_unit_test(test_shipped_load),
		cmocka_unit_test(test_report_call_ref),
		cmocka_unit_test(test_shipped_contracts),
		cmocka_unit_test(test_language_rule),
		cmocka_unit_test(test_sink_loads),
		cmocka_unit_test(test_bad_schema),
		cmocka_unit_test(test_bad_schema_more),
		cmocka_unit_test(test_validate_good),
		cmocka_unit_test(test_validate_rules),
		cmocka_unit_test(test_validate_tombstone),
		cmocka_unit_test(test_validate_shipped),
		cmocka_unit_test(test_set_text),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_defaults_load),
		cmocka_unit_test(test_defaults_bad),
		cmocka_unit_test(test_apply_defaults),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_no_pii_in_messages),
		cmocka_unit_test(test_aggregate_conditions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
