/*
 * test_merge.c - the record merge (hooks/merge.c) and the hook runner
 * (hooks/hook.c).
 *
 * Golden quadruples live in tests/golden/merge/<case>/: base.yaml (absent
 * for add/add), a.yaml, b.yaml, expected.yaml, each a full canonical record.
 * The sides are built here from the case table (fixed ids, clocks and
 * ed25519 seeds, so every byte is reproducible) and must equal the files on
 * disk; the files are then parsed, merged both ways round, and the two
 * merges must be byte-identical and equal expected.yaml. expected.yaml was
 * written by the code under test, so each case's key values are also
 * checked against `expects`, which a person derived from the rules.
 * VL_WRITE_GOLDEN=1 rewrites all four files of every case and then FAILS
 * (it can never make a run green): read the diff, commit, run again.
 *
 * Hook programs for the failure cases are written into a temporary hooks
 * directory at start-up, next to a copy of hooks/subsidy_recompute; the
 * test schemas pin their real sha256.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "hooks/merge.h"
#include "store/record.h"
#include "schemas/schema.h"
#include "testutil.h"
#include "store/yaml.h"

#define GOLDEN_DIR VL_SOURCE_DIR "/tests/golden/merge"
#define SCOPE "500243001001"
#define T0 "2022-04-07T01:00:00.000Z/0000"
#define T1 "2022-04-07T02:00:00.000Z/0000"
#define T2 "2022-04-07T03:00:00.000Z/0000"
#define FAKE_A "1111111111111111111111111111111111111111"
#define FAKE_B "2222222222222222222222222222222222222222"

static char *g_hooks;   /* temp hooks dir */
static char *g_tmp;     /* TMPDIR for the hook runner */
static vl_key g_keys[3];

/* ------------------------------------------------------------------------ */
/* The case table                                                           */

typedef struct {
	const char *clock;
	int key;              /* signing key 0..2; -1: a merged record (no sig) */
	int deleted;          /* a tombstone: the base's data without pii, then patch */
	const char *data;     /* full data (YAML map); NULL: the base's data */
	const char *patch;    /* YAML map of keys to set (null removes) */
	const char *conflicts; /* YAML map; NULL: the base's; "": none */
} side_def;

enum { V_NONE, V_EDIT_WINS, V_HOOK };

typedef struct {
	const char *name;
	const char *schema;
	const char *id;
	side_def base, a, b;  /* base.clock NULL: no base (add/add) */
	int variant;
	const char *hook;     /* V_HOOK: hook name */
	int wrong_pin;
	int timeout_ms;
	size_t conflicts, hooks_run;
} mcase;

#define RES_BASE \
	"name: 王秀英\n" \
	"gender: female\n" \
	"birth_date: 1950-03-15\n" \
	"phone: \"13800001234\"\n" \
	"residence_kind: registered\n" \
	"household_no: \"500243001001-0032\"\n" \
	"relation: head\n" \
	"address: 汉葭街道新华路12号3单元502\n" \
	"grid: 第三网格\n" \
	"tags: [elderly_alone]\n" \
	"source: worker_survey\n" \
	"surveyed_on: 2022-04-01\n" \
	"surveyed_by: 刘明\n"

#define SUPPLY_BASE \
	"request_no: \"500243001001-20220407-003\"\n" \
	"reason: sealed_household\n" \
	"address: 汉葭街道新华路12号3单元502\n" \
	"contact_name: 王秀英\n" \
	"contact_phone: \"13800001234\"\n" \
	"items:\n" \
	"  - {name: 大米, qty: 2, unit: 袋}\n" \
	"  - {name: 食用油, qty: 1, unit: 桶}\n" \
	"  - {name: 鸡蛋, qty: 30, unit: 个}\n" \
	"status: registered\n" \
	"requested_at: \"2022-04-07T01:12:33Z\"\n"

#define REPORT_BASE \
	"title: 关于独居老人关爱措施的报告\n" \
	"kind: policy_measure\n" \
	"body: \"一、摸排情况\\n二、关爱措施\"\n" \
	"contact_name: 陈红\n" \
	"contact_phone: \"023-78441234\"\n" \
	"target_level: township\n" \
	"deadline: 2022-04-15\n" \
	"status: draft\n"

#define VOL_BASE \
	"name: 黄伟\n" \
	"phone: \"13500002222\"\n" \
	"team: 党员先锋队\n" \
	"skills: [delivery, driving]\n" \
	"status: active\n" \
	"service_log:\n" \
	"  - {date: 2022-04-02, task: 核酸采样秩序维护, hours: 4}\n" \
	"service_hours: 10.5\n"

#define WORKER_BASE \
	"worker_name: 李四\n" \
	"id_number: \"500243198806123014\"\n" \
	"post: 网格员\n" \
	"duty_status: on_duty\n" \
	"subsidy_days: 10\n" \
	"daily_rate: 120.50\n" \
	"subsidy_amount: 1205.00\n" \
	"subsidy_paid: 500.00\n"

#define BASE(d) { T0, 0, 0, d, NULL, NULL }
#define SIDE(t, k, p) { t, k, 0, NULL, p, NULL }

#define HOOK_A "subsidy_days: 12\nsubsidy_amount: 1446.00\nrest_days: [2022-04-03]\n"
#define HOOK_B "subsidy_days: 15\nsubsidy_amount: 1807.50\nrest_days: [2022-04-04]\n"
#define HOOK_CASE(n, id, hook, pin, timeout, conf) \
	{ n, "worker_care", id, BASE(WORKER_BASE), SIDE(T1, 1, HOOK_A), SIDE(T2, 2, HOOK_B), \
		V_HOOK, hook, pin, timeout, conf, 1 }

static const mcase cases[] = {
	{ "lww_zh", "resident", "01hq3k5z6w8x9y0abcdefgh001",
		BASE(RES_BASE),
		SIDE(T1, 1, "address: 汉葭街道新华路14号1单元201\ngrid: 第四网格\nphone: \"13900005678\"\n"),
		SIDE(T2, 2, "address: 汉葭街道滨江路8号\nnotes: 独居，儿子在外地务工，每周电话联系一次\n"
			"phone: \"13900005678\"\n"),
		V_NONE, NULL, 0, 0, 0, 0 },
	{ "lww_tie", "resident", "01hq3k5z6w8x9y0abcdefgh002",
		BASE(RES_BASE),
		/* Equal clocks: the larger fingerprint (key 2's "SHA256:byp...")
		 * wins, here on side a. */
		SIDE(T1, 2, "address: 汉葭街道新华路14号1单元201\n"),
		SIDE(T1, 1, "address: 汉葭街道滨江路8号\n"),
		V_NONE, NULL, 0, 0, 0, 0 },
	{ "union_max", "resident", "01hq3k5z6w8x9y0abcdefgh003",
		{ T0, 0, 0, RES_BASE, "tags: [disabled, elderly_alone]\n", NULL },
		SIDE(T1, 1, "tags: [disabled, pregnant]\nsurveyed_on: 2022-04-06\n"),
		SIDE(T2, 2, "tags: [disabled, elderly_alone, special_disease]\nsurveyed_on: 2022-04-05\n"),
		V_NONE, NULL, 0, 0, 0, 0 },
	{ "min_order", "report", "01hq3k5z6w8x9y0abcdefgh004",
		BASE(REPORT_BASE),
		SIDE(T1, 1, "deadline: 2022-04-12\nstatus: submitted\nsubmitted_at: \"2022-04-10T08:00:00.5Z\"\n"),
		SIDE(T2, 2, "deadline: 2022-04-14\nstatus: received\nsubmitted_at: \"2022-04-10T08:00:00Z\"\n"
			"received_at: \"2022-04-10T09:30:00Z\"\n"),
		V_NONE, NULL, 0, 0, 0, 0 },
	{ "sum_decimal", "volunteer", "01hq3k5z6w8x9y0abcdefgh005",
		BASE(VOL_BASE),
		SIDE(T1, 1, "service_hours: 12.25\nskills: [delivery, driving, medical]\n"),
		SIDE(T2, 2, "service_hours: 11.5\nskills: [delivery]\n"),
		V_NONE, NULL, 0, 0, 0, 0 },
	/* A counter's equal changes are two events: 10.5 + 2 + 2. */
	{ "sum_equal_changes", "volunteer", "01hq3k5z6w8x9y0abcdefgh027",
		BASE(VOL_BASE),
		SIDE(T1, 1, "service_hours: 12.5\nteam: 青年突击队\n"),
		SIDE(T2, 2, "service_hours: 12.5\nteam: 青年突击队\n"),
		V_NONE, NULL, 0, 0, 0, 0 },
	{ "sum_below_min", "worker_care", "01hq3k5z6w8x9y0abcdefgh006",
		BASE(WORKER_BASE),
		SIDE(T1, 1, "subsidy_days: 2\nsubsidy_paid: 800.00\n"),
		SIDE(T2, 2, "subsidy_days: 1\nsubsidy_paid: 650\n"),
		V_NONE, NULL, 0, 0, 1, 0 },
	{ "append_log", "volunteer", "01hq3k5z6w8x9y0abcdefgh007",
		BASE(VOL_BASE),
		SIDE(T1, 1, "service_log:\n"
			"  - {date: 2022-04-02, task: 核酸采样秩序维护, hours: 4.5}\n"
			"  - {date: 2022-04-05, task: 物资配送到户, hours: 3.5}\n"
			"  - {date: 2022-04-03, task: 独居老人探访, hours: 2}\n"),
		SIDE(T2, 2, "service_log:\n"
			"  - {date: 2022-04-02, task: 核酸采样秩序维护, hours: 4}\n"
			"  - {date: 2022-04-03, task: 独居老人探访, hours: 2}\n"
			"  - {date: 2022-04-03, task: 核酸采样登记, hours: 6}\n"),
		V_NONE, NULL, 0, 0, 0, 0 },
	{ "order_forward", "supply_request", "01hq3k5z6w8x9y0abcdefgh008",
		BASE(SUPPLY_BASE),
		SIDE(T1, 1, "status: purchased\npurchased_at: \"2022-04-07T03:00:00Z\"\n"),
		SIDE(T2, 2, "status: delivering\ndeliverer: 周杰\n"),
		V_NONE, NULL, 0, 0, 0, 0 },
	{ "order_terminal", "supply_request", "01hq3k5z6w8x9y0abcdefgh009",
		BASE(SUPPLY_BASE),
		SIDE(T1, 1, "status: cancelled\nnotes: 居民已自行购买\n"),
		SIDE(T2, 2, "status: delivering\n"),
		V_NONE, NULL, 0, 0, 0, 0 },
	{ "order_two_terminals", "supply_request", "01hq3k5z6w8x9y0abcdefgh010",
		BASE(SUPPLY_BASE),
		SIDE(T1, 1, "status: cancelled\n"),
		SIDE(T2, 2, "status: delivered\ndelivered_at: \"2022-04-07T05:20:00Z\"\n"),
		V_NONE, NULL, 0, 0, 1, 0 },
	{ "keep_conflict", "supply_request", "01hq3k5z6w8x9y0abcdefgh011",
		BASE(SUPPLY_BASE),
		SIDE(T1, 1, "request_no: \"500243001001-20220407-004\"\nrequested_at: \"2022-04-07T01:10:00Z\"\n"),
		SIDE(T2, 2, "request_no: \"500243001001-20220407-005\"\nrequested_at: \"2022-04-07T01:15:00Z\"\n"),
		V_NONE, NULL, 0, 0, 2, 0 },
	{ "manual_conflict", "resident", "01hq3k5z6w8x9y0abcdefgh012",
		BASE(RES_BASE),
		SIDE(T1, 1, "id_number: \"500243195003151229\"\n"),
		SIDE(T2, 2, "id_number: \"500243195003151245\"\nname: 王秀瑛\n"),
		V_NONE, NULL, 0, 0, 1, 0 },
	{ "items_by_key", "supply_request", "01hq3k5z6w8x9y0abcdefgh013",
		BASE(SUPPLY_BASE),
		SIDE(T1, 1, "items:\n"
			"  - {name: 大米, qty: 3, unit: 袋}\n"
			"  - {name: 食用油, qty: 1, unit: 桶}\n"
			"  - {name: 感冒药, qty: 1, unit: 盒, note: 布洛芬缓释胶囊}\n"),
		SIDE(T2, 2, "items:\n"
			"  - {name: 大米, qty: 2, unit: 袋}\n"
			"  - {name: 食用油, qty: 1, unit: 桶, note: 要非转基因的}\n"
			"  - {name: 鸡蛋, qty: 30, unit: 个}\n"
			"  - {name: 牛奶, qty: 2, unit: 箱}\n"),
		V_NONE, NULL, 0, 0, 0, 0 },
	{ "items_conflict", "supply_request", "01hq3k5z6w8x9y0abcdefgh014",
		BASE(SUPPLY_BASE),
		SIDE(T1, 1, "items:\n"
			"  - {name: 大米, qty: 3, unit: 袋}\n"
			"  - {name: 鸡蛋, qty: 30, unit: 个}\n"),
		SIDE(T2, 2, "items:\n"
			"  - {name: 大米, qty: 5, unit: 袋}\n"
			"  - {name: 食用油, qty: 2, unit: 桶}\n"
			"  - {name: 鸡蛋, qty: 30, unit: 个}\n"),
		V_NONE, NULL, 0, 0, 1, 0 },
	{ "add_add", "resident", "01hq3k5z6w8x9y0abcdefgh015",
		{ NULL, 0, 0, NULL, NULL, NULL },
		{ T1, 1, 0, "name: 赵丽\nresidence_kind: migrant\naddress: 汉葭街道滨江路20号\n"
			"source: self_report\ntags: [pregnant]\n", NULL, NULL },
		{ T2, 2, 0, "name: 赵丽\nresidence_kind: migrant\naddress: 汉葭街道滨江路22号\n"
			"source: worker_survey\ntags: [disabled]\nphone: \"13700001111\"\n"
			"surveyed_on: 2022-04-06\n", NULL, NULL },
		V_NONE, NULL, 0, 0, 0, 0 },
	{ "edit_delete", "resident", "01hq3k5z6w8x9y0abcdefgh016",
		BASE(RES_BASE),
		{ T1, 1, 1, NULL, NULL, NULL },
		SIDE(T2, 2, "address: 汉葭街道滨江路8号\ntags: [disabled, elderly_alone]\n"),
		V_NONE, NULL, 0, 0, 1, 0 },
	{ "edit_delete_edit_wins", "resident", "01hq3k5z6w8x9y0abcdefgh017",
		BASE(RES_BASE),
		{ T1, 1, 1, NULL, NULL, NULL },
		SIDE(T2, 2, "address: 汉葭街道滨江路8号\ntags: [disabled, elderly_alone]\n"),
		V_EDIT_WINS, NULL, 0, 0, 1, 0 },
	{ "both_deleted", "resident", "01hq3k5z6w8x9y0abcdefgh018",
		BASE(RES_BASE),
		{ T1, 1, 1, NULL, "tags: []\ngrid: 第四网格\n", NULL },
		{ T2, 2, 1, NULL, "tags: [elderly_alone, special_disease]\n", NULL },
		V_NONE, NULL, 0, 0, 0, 0 },
	{ "conflicts_resolved", "resident", "01hq3k5z6w8x9y0abcdefgh019",
		{ T0, -1, 0, RES_BASE, "id_number: \"500243195003151245\"\n",
			"id_number:\n"
			"  - value: \"500243195003151229\"\n"
			"    from: \"" FAKE_A "\"\n"
			"    author: \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"\n"
			"    clock: \"2022-04-06T01:00:00.000Z/0000\"\n"
			"  - value: \"500243195003151245\"\n"
			"    from: \"" FAKE_B "\"\n"
			"    author: \"SHA256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\"\n"
			"    clock: \"2022-04-06T02:00:00.000Z/0000\"\n" },
		{ T1, 1, 0, NULL, "id_number: \"500243195003151229\"\n", "" },
		SIDE(T2, 2, "address: 汉葭街道滨江路8号\n"),
		V_NONE, NULL, 0, 0, 0, 0 },
	HOOK_CASE("hook_ok", "01hq3k5z6w8x9y0abcdefgh020", "subsidy_recompute", 0, 0, 0),
	HOOK_CASE("hook_exit1", "01hq3k5z6w8x9y0abcdefgh021", "decline", 0, 0, 1),
	HOOK_CASE("hook_timeout", "01hq3k5z6w8x9y0abcdefgh022", "sleeper", 0, 300, 1),
	HOOK_CASE("hook_wrong_pin", "01hq3k5z6w8x9y0abcdefgh023", "subsidy_recompute", 1, 0, 1),
	HOOK_CASE("hook_crash", "01hq3k5z6w8x9y0abcdefgh024", "crasher", 0, 0, 1),
	HOOK_CASE("hook_bad_output", "01hq3k5z6w8x9y0abcdefgh025", "bad_yaml", 0, 0, 1),
	HOOK_CASE("hook_bad_value", "01hq3k5z6w8x9y0abcdefgh026", "bad_value", 0, 0, 1),
};

/* ------------------------------------------------------------------------ */
/* Expectations a person wrote                                              */

/*
 * The key values of each golden case, derived by hand from the rules
 * (docs/schemas.md "Merge rules", docs/formats.md §6, merge.h), not copied from
 * the code's output: expected.yaml was written by the code under test, so
 * it is checked against these, never trusted alone. Side a is written at T1
 * with key 1, side b at T2 with key 2 unless the case says otherwise, so
 * lww (and every provisional value) is b's. Fields not listed must equal
 * the base's value (rest REST_BASE), the base's without pii (REST_TOMB: a
 * tombstone keeps no personal data), or be absent (REST_NONE, add/add).
 * how: the trace's decision for the field (-1: not checked).
 */
enum { REST_BASE, REST_TOMB, REST_NONE };
enum { EXP_ORDERED = 0, EXP_UNORDERED = 1 };

typedef struct {
	const char *field;
	const char *value;  /* YAML flow text; NULL: absent */
	int how;            /* vl_merge_how, or -1 */
	int flags;          /* EXP_UNORDERED: a list compared as a multiset */
} fexp;

typedef struct {
	const char *name;
	int deleted;
	int rest;
	const char *conflicts; /* conflict keys in order, space-separated */
	fexp f[10];
} cexp;

#define H1 VL_HOW_ONE_SIDE
#define HS VL_HOW_SAME
#define HR VL_HOW_RULE
#define HP VL_HOW_PERSON
#define HD VL_HOW_ON_DELETE
#define HH VL_HOW_HOOK

/* hook cases: days sum 10 + 2 + 5 = 17; rest_days a union of two adds. */
#define HOOK_FIELDS(amount, how) \
	{ "subsidy_days", "17", HR, 0 }, \
	{ "subsidy_amount", amount, how, 0 }, \
	{ "rest_days", "[\"2022-04-03\", \"2022-04-04\"]", HR, 0 }

static const cexp expects[] = {
	/* lww: both changed address -> b's (T2 > T1); grid only a; the same
	 * phone on both; notes added by b only. */
	{ "lww_zh", 0, REST_BASE, "", {
		{ "address", "汉葭街道滨江路8号", HR, 0 },
		{ "grid", "第四网格", H1, 0 },
		{ "phone", "\"13900005678\"", HS, 0 },
		{ "notes", "独居，儿子在外地务工，每周电话联系一次", H1, 0 } } },
	/* Equal clocks: the larger author fingerprint wins; a is signed by key 2,
	 * whose fingerprint ("SHA256:byp...") sorts above key 1's ("SHA256:EaB...")
	 * (run_case checks that premise), so a's address. */
	{ "lww_tie", 0, REST_BASE, "", {
		{ "address", "汉葭街道新华路14号1单元201", HR, 0 } } },
	/* union of tags: disabled on both; elderly_alone was in the base and a
	 * removed it -> gone; pregnant (a) and special_disease (b) added. max
	 * of surveyed_on: 04-06. */
	{ "union_max", 0, REST_BASE, "", {
		{ "tags", "[disabled, pregnant, special_disease]", HR, 0 },
		{ "surveyed_on", "\"2022-04-06\"", HR, 0 } } },
	/* min deadline 04-12; order draft < submitted < received: received;
	 * min submitted_at: 08:00:00Z is before 08:00:00.5Z; received_at b only. */
	{ "min_order", 0, REST_BASE, "", {
		{ "deadline", "\"2022-04-12\"", HR, 0 },
		{ "status", "received", HR, 0 },
		{ "submitted_at", "\"2022-04-10T08:00:00Z\"", HR, 0 },
		{ "received_at", "\"2022-04-10T09:30:00Z\"", H1, 0 } } },
	/* sum 10.5 + 1.75 + 1 = 13.25; union: driving removed by b, medical
	 * added by a. */
	{ "sum_decimal", 0, REST_BASE, "", {
		{ "service_hours", "13.25", HR, 0 },
		{ "skills", "[delivery, medical]", HR, 0 } } },
	/* Two equal increments are two events: 10.5 + 2 + 2. team: same change. */
	{ "sum_equal_changes", 0, REST_BASE, "", {
		{ "service_hours", "14.5", HR, 0 },
		{ "team", "青年突击队", HS, 0 } } },
	/* subsidy_days 10 + (2 - 10) + (1 - 10) = -7 breaks min 0: a person,
	 * provisional b's 1. subsidy_paid 500 + 300 + 150 = 950.00. */
	{ "sum_below_min", 0, REST_BASE, "subsidy_days", {
		{ "subsidy_days", "1", HP, 0 },
		{ "subsidy_paid", "950.00", HR, 0 } } },
	/* append (no key): the base entry a corrected (4 -> 4.5) is gone; a's
	 * correction and new 04-05 entry, the 04-03 visit both added (once),
	 * and b's 04-03 entry are kept, ordered by date (the two 04-03 entries
	 * by a hash: compared as a multiset, dates checked non-decreasing). */
	{ "append_log", 0, REST_BASE, "", {
		{ "service_log", "[{date: \"2022-04-02\", task: 核酸采样秩序维护, hours: 4.5}, "
			"{date: \"2022-04-03\", task: 独居老人探访, hours: 2}, "
			"{date: \"2022-04-03\", task: 核酸采样登记, hours: 6}, "
			"{date: \"2022-04-05\", task: 物资配送到户, hours: 3.5}]", HR, EXP_UNORDERED } } },
	/* order registered < purchased < delivering: delivering. */
	{ "order_forward", 0, REST_BASE, "", {
		{ "status", "delivering", HR, 0 },
		{ "purchased_at", "\"2022-04-07T03:00:00Z\"", H1, 0 },
		{ "deliverer", "周杰", H1, 0 } } },
	/* cancelled is terminal, delivering is not: cancelled. */
	{ "order_terminal", 0, REST_BASE, "", {
		{ "status", "cancelled", HR, 0 },
		{ "notes", "居民已自行购买", H1, 0 } } },
	/* Two different terminals: a person; provisional b's delivered. */
	{ "order_two_terminals", 0, REST_BASE, "status", {
		{ "status", "delivered", HP, 0 },
		{ "delivered_at", "\"2022-04-07T05:20:00Z\"", H1, 0 } } },
	/* keep: both fields changed on both sides -> two conflicts, b's values. */
	{ "keep_conflict", 0, REST_BASE, "request_no requested_at", {
		{ "request_no", "\"500243001001-20220407-005\"", HP, 0 },
		{ "requested_at", "\"2022-04-07T01:15:00Z\"", HP, 0 } } },
	/* manual: both added an id_number -> a person, b's provisionally. */
	{ "manual_conflict", 0, REST_BASE, "id_number", {
		{ "id_number", "\"500243195003151245\"", HP, 0 },
		{ "name", "王秀瑛", H1, 0 } } },
	/* Keyed by name: 大米 qty 3 (a), 食用油 note (b), 鸡蛋 removed by a and
	 * untouched by b -> removed, 感冒药 (a) and 牛奶 (b) added. Item order is
	 * x's then y's new ones, x by blob id: compared as a multiset. */
	{ "items_by_key", 0, REST_BASE, "", {
		{ "items", "[{name: 大米, qty: 3, unit: 袋}, {name: 食用油, qty: 1, unit: 桶, note: 要非转基因的}, "
			"{name: 感冒药, qty: 1, unit: 盒, note: 布洛芬缓释胶囊}, {name: 牛奶, qty: 2, unit: 箱}]",
			HR, EXP_UNORDERED } } },
	/* 大米 qty edited on both (3, 5): a person, b's 5 provisionally;
	 * 食用油 removed by a, changed by b: the change is kept. */
	{ "items_conflict", 0, REST_BASE, "items", {
		{ "items", "[{name: 大米, qty: 5, unit: 袋}, {name: 食用油, qty: 2, unit: 桶}, "
			"{name: 鸡蛋, qty: 30, unit: 个}]", HP, EXP_UNORDERED } } },
	/* add/add against an empty base: equal values kept, differing ones by
	 * rule (lww: b's; union of two adds), b's extra fields taken. */
	{ "add_add", 0, REST_NONE, "", {
		{ "name", "赵丽", HS, 0 },
		{ "residence_kind", "migrant", HS, 0 },
		{ "address", "汉葭街道滨江路22号", HR, 0 },
		{ "source", "worker_survey", HR, 0 },
		{ "tags", "[disabled, pregnant]", HR, 0 },
		{ "phone", "\"13700001111\"", H1, 0 },
		{ "surveyed_on", "\"2022-04-06\"", H1, 0 } } },
	/* tombstone_wins: the tombstone's data (the base without pii) as it is;
	 * b's edit only in conflicts[_deleted]. */
	{ "edit_delete", 1, REST_TOMB, "_deleted", {
		{ "address", NULL, HD, 0 },
		{ "tags", "[elderly_alone]", -1, 0 } } },
	/* edit_wins: b's edited data. */
	{ "edit_delete_edit_wins", 0, REST_BASE, "_deleted", {
		{ "address", "汉葭街道滨江路8号", HD, 0 },
		{ "tags", "[disabled, elderly_alone]", HD, 0 } } },
	/* Both deleted: pii gone on both (same change); tags: elderly_alone
	 * removed by a, special_disease added by b; grid a only. */
	{ "both_deleted", 1, REST_TOMB, "", {
		{ "tags", "[special_disease]", HR, 0 },
		{ "grid", "第四网格", H1, 0 },
		{ "address", NULL, HS, 0 } } },
	/* a resolved the id_number conflict (one side changed -> its value, and
	 * the entry it removed stays removed); b moved the address. */
	{ "conflicts_resolved", 0, REST_BASE, "", {
		{ "id_number", "\"500243195003151229\"", H1, 0 },
		{ "address", "汉葭街道滨江路8号", H1, 0 } } },
	/* The hook recomputes days x rate: 17 x 120.50 = 2048.50. */
	{ "hook_ok", 0, REST_BASE, "", { HOOK_FIELDS("2048.50", HH) } },
	/* Every hook failure: a person, b's amount provisionally. */
	{ "hook_exit1", 0, REST_BASE, "subsidy_amount", { HOOK_FIELDS("1807.50", HP) } },
	{ "hook_timeout", 0, REST_BASE, "subsidy_amount", { HOOK_FIELDS("1807.50", HP) } },
	{ "hook_wrong_pin", 0, REST_BASE, "subsidy_amount", { HOOK_FIELDS("1807.50", HP) } },
	{ "hook_crash", 0, REST_BASE, "subsidy_amount", { HOOK_FIELDS("1807.50", HP) } },
	{ "hook_bad_output", 0, REST_BASE, "subsidy_amount", { HOOK_FIELDS("1807.50", HP) } },
	/* -5.00 breaks min 0: a person. */
	{ "hook_bad_value", 0, REST_BASE, "subsidy_amount", { HOOK_FIELDS("1807.50", HP) } },
};

/* Test hooks written into the temp hooks dir. */
static const struct {
	const char *name, *body;
} test_hooks[] = {
	{ "decline", "#!/bin/sh\nexit 1\n" },
	{ "sleeper", "#!/bin/sh\nsleep 10\necho 'value: 1.00'\n" },
	{ "crasher", "#!/bin/sh\nkill -SEGV $$\n" },
	{ "bad_yaml", "#!/bin/sh\necho 'value: [1, 2'\n" },
	{ "bad_value", "#!/bin/sh\necho 'value: -5.00'\n" },
	{ "exit3", "#!/bin/sh\nexit 3\n" },
	{ "two_keys", "#!/bin/sh\nprintf 'value: 1.00\\nother: 2\\n'\n" },
	{ "flood", "#!/bin/sh\nawk 'BEGIN { for (i = 0; i < 20000; i++) print \"value: 1234\" }'\n" },
	{ "background", "#!/bin/sh\nsleep 10 &\necho 'value: 1.00'\n" },
	{ "litter", "#!/bin/sh\nmkdir -p \"$TMPDIR/x/y\" && echo junk > \"$TMPDIR/x/y/z\"\n"
		"echo 'value: 2.00'\n" },
	/* Checks its own contract: three readable inputs, a clean environment,
	 * stdin at EOF; prints what it found. */
	{ "envcheck", "#!/bin/sh\n"
		"[ \"$#\" -eq 3 ] || exit 1\n"
		"for f in \"$1\" \"$2\" \"$3\"; do [ -f \"$f\" ] || exit 1; done\n"
		"grep -q '^field: subsidy_amount$' \"$2\" || exit 1\n"
		"grep -q '^value: 1205.00$' \"$1\" || exit 1\n"
		"read line && exit 1\n"
		"echo \"value: \\\"${VL_TEST_SECRET:-unset}|$LC_ALL|$TMPDIR|$HOME\\\"\"\n" },
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static vl_value *yaml_map(const char *text)
{
	vl_value *v = NULL;

	assert_int_equal(vl_yaml_load(&v, text, strlen(text), &vl_yaml_file_limits, "case"), 0);
	return v;
}

static char *hook_pin(const char *name)
{
	char path[1024], *pin = malloc(65);

	assert_non_null(pin);
	snprintf(path, sizeof(path), "%s/%s", g_hooks, name);
	assert_int_equal(vl_file_sha256(pin, path), 0);
	return pin;
}

/* Replace the first `from` after `anchor` by `to` (all must be found). */
static char *subst(char *text, const char *anchor, const char *from, const char *to)
{
	char *a = strstr(text, anchor), *p, *res;
	size_t n;

	assert_non_null(a);
	p = strstr(a, from);
	assert_non_null(p);
	n = strlen(text) - strlen(from) + strlen(to) + 1;
	res = malloc(n);
	assert_non_null(res);
	snprintf(res, n, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
	free(text);
	return res;
}

static vl_schema *load_schema(const mcase *mc)
{
	char path[512], *text, *pin = NULL;
	vl_schema *s = NULL;
	vl_buf diag = VL_BUF_INIT;

	snprintf(path, sizeof(path), VL_SOURCE_DIR "/schemas/%s.yaml", mc->schema);
	text = vt_read(path, NULL);
	/* The shipped worker_care pins the real subsidy_recompute hook; these
	 * cases start from lww and pin what each case needs. */
	{
		char *amt = strstr(text, "- name: subsidy_amount");
		char *rule = amt ? strstr(amt, "\n    merge: hook:subsidy_recompute\n") : NULL;
		char *pinl = rule ? strstr(rule + 1, "\n    hook_sha256: ") : NULL;
		char *eol = pinl ? strchr(pinl + 1, '\n') : NULL;
		if (eol) {
			memmove(pinl, eol, strlen(eol) + 1);
			text = subst(text, "- name: subsidy_amount", "merge: hook:subsidy_recompute\n", "merge: lww\n");
		}
	}
	if (mc->variant == V_EDIT_WINS)
		text = subst(text, "", "on_delete: tombstone_wins", "on_delete: edit_wins");
	if (mc->variant == V_HOOK) {
		char rule[300];

		pin = mc->wrong_pin ? strdup("0000000000000000000000000000000000000000000000000000000000000000")
			: hook_pin(mc->hook);
		assert_non_null(pin);
		snprintf(rule, sizeof(rule), "\n    merge: hook:%s\n    hook_sha256: %s\n", mc->hook, pin);
		text = subst(text, "- name: subsidy_amount", "\n    merge: lww\n", rule);
	}
	if (vl_schema_load(&s, text, strlen(text), path, &diag) != 0)
		fail_msg("schema %s: %s", path, diag.ptr ? diag.ptr : vl_error_last());
	vl_buf_free(&diag);
	free(pin);
	free(text);
	return s;
}

static void blob_id(char out[VL_OID_HEX + 1], const vl_buf *b)
{
	git_oid oid;

	assert_int_equal(git_odb_hash(&oid, b->ptr, b->len, GIT_OBJECT_BLOB), 0);
	git_oid_tostr(out, VL_OID_HEX + 1, &oid);
}

/* Build one side's file. base_rec: the base (for derived data and
 * conflicts); prev: the base blob or NULL. */
static void build_side(vl_buf *out, const vl_schema *s, const mcase *mc, const side_def *d,
		const vl_record *base_rec, const char *prev)
{
	vl_record *r = NULL;
	vl_value *data = NULL, *patch;
	vl_buf diag = VL_BUF_INIT;
	size_t i;

	assert_int_equal(vl_record_new(&r, mc->schema, mc->id, SCOPE), 0);
	memcpy(r->clock, d->clock, VL_HLC_TEXT_LEN + 1);
	if (d->data)
		data = yaml_map(d->data);
	else if (d->deleted)
		assert_int_equal(vl_schema_tombstone_data(&data, s, base_rec->data), 0);
	else
		data = vl_value_clone(base_rec->data);
	assert_non_null(data);
	if (d->patch) {
		patch = yaml_map(d->patch);
		for (i = 0; i < patch->n; i++) {
			if (patch->items[i]->kind == VL_V_NULL)
				(void)vl_value_map_del(data, patch->keys[i]);
			else
				assert_int_equal(vl_value_map_set(data, patch->keys[i],
						vl_value_clone(patch->items[i])), 0);
		}
		vl_value_free(patch);
	}
	assert_int_equal(vl_schema_normalize(s, data), 0);
	if (vl_schema_validate(s, data, d->deleted, &diag) != 0)
		fail_msg("case %s: a side does not validate: %s", mc->name, diag.ptr);
	vl_buf_free(&diag);
	vl_value_free(r->data);
	r->data = data;
	r->deleted = d->deleted;
	if (d->conflicts && *d->conflicts)
		r->conflicts = yaml_map(d->conflicts);
	else if (!d->conflicts && base_rec && base_rec->conflicts)
		r->conflicts = vl_value_clone(base_rec->conflicts);
	if (d->key < 0) {
		r->prev = calloc(2, sizeof(*r->prev));
		assert_non_null(r->prev);
		memcpy(r->prev[0], FAKE_A, VL_OID_HEX + 1);
		memcpy(r->prev[1], FAKE_B, VL_OID_HEX + 1);
		r->nprev = 2;
		memcpy(r->author, VL_AUTHOR_MERGE, sizeof(VL_AUTHOR_MERGE));
		assert_int_equal(vl_record_emit(out, r, 1), 0);
	} else {
		if (prev) {
			r->prev = calloc(1, sizeof(*r->prev));
			assert_non_null(r->prev);
			memcpy(r->prev[0], prev, VL_OID_HEX + 1);
			r->nprev = 1;
		}
		assert_int_equal(vl_record_sign(r, &g_keys[d->key], out), 0);
	}
	vl_record_free(r);
}

static int golden_mode(void)
{
	const char *g = getenv("VL_WRITE_GOLDEN");

	return g && *g && strcmp(g, "0") != 0;
}

/* Write (golden mode) or compare a file of the case. */
static void golden_file(const char *casename, const char *file, const vl_buf *b)
{
	char path[512];
	char *disk;
	size_t len;

	snprintf(path, sizeof(path), GOLDEN_DIR "/%s/%s", casename, file);
	if (golden_mode()) {
		char dir[512];

		snprintf(dir, sizeof(dir), GOLDEN_DIR "/%s", casename);
		(void)mkdir(GOLDEN_DIR, 0755);
		(void)mkdir(dir, 0755);
		vt_write(path, b->ptr, b->len);
		return;
	}
	if (access(path, R_OK) != 0)
		fail_msg("missing %s (run with VL_WRITE_GOLDEN=1 and check it)", path);
	disk = vt_read(path, &len);
	if (len != b->len || memcmp(disk, b->ptr, len) != 0) {
		print_error("--- %s\n%s\n+++ got\n%.*s\n", path, disk, (int)b->len, b->ptr);
		fail_msg("%s differs", path);
	}
	free(disk);
}

static vl_record *parse(const vl_buf *b, const char *what)
{
	vl_record *r = NULL;

	if (vl_record_parse(&r, b->ptr, b->len, what) != 0)
		fail_msg("%s: %s", what, vl_error_last());
	return r;
}

/* ------------------------------------------------------------------------ */
/* Golden quadruples                                                        */

static const cexp *find_expect(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++)
		if (!strcmp(expects[i].name, name))
			return &expects[i];
	return NULL;
}

/* The value written as YAML flow text (NULL stays NULL). */
static vl_value *exp_value(const char *text)
{
	char buf[2048];
	vl_value *m, *v;

	if (!text)
		return NULL;
	snprintf(buf, sizeof(buf), "v: %s\n", text);
	m = yaml_map(buf);
	v = vl_value_clone(vl_value_map_get(m, "v"));
	assert_non_null(v);
	vl_value_free(m);
	return v;
}

/* Lists with the same items, each as often, in any order; and the merged
 * list's `date` items never decrease (append's order). */
static int same_multiset(const vl_value *want, const vl_value *got)
{
	char used[64] = { 0 };
	size_t i, j;

	if (!want || !got || want->kind != VL_V_LIST || got->kind != VL_V_LIST ||
			want->n != got->n || got->n > sizeof(used))
		return 0;
	for (i = 0; i < want->n; i++) {
		for (j = 0; j < got->n; j++)
			if (!used[j] && vl_value_equal(want->items[i], got->items[j]))
				break;
		if (j == got->n)
			return 0;
		used[j] = 1;
	}
	for (i = 1; i < got->n; i++) {
		const vl_value *d0 = vl_value_map_get(got->items[i - 1], "date");
		const vl_value *d1 = vl_value_map_get(got->items[i], "date");

		if (d0 && d1 && strcmp(d0->s, d1->s) > 0)
			return 0;
	}
	return 1;
}

static void print_value(const char *what, const vl_value *v)
{
	vl_buf b = VL_BUF_INIT;

	if (v && vl_json_emit(&b, v, 0) == 0)
		print_error("%s: %s\n", what, b.ptr);
	else
		print_error("%s: (absent)\n", what);
	vl_buf_free(&b);
}

/* The merged record o of case mc against the person's expectations. */
static void check_expect(const mcase *mc, const vl_schema *s, const vl_record *base,
		const vl_record *o, const vl_merge_trace *t)
{
	const cexp *e = find_expect(mc->name);
	vl_buf keys = VL_BUF_INIT;
	size_t i, k;

	if (!e)
		fail_msg("case %s has no hand-written expectation in `expects`: derive one from the rules", mc->name);
	assert_int_equal(o->deleted, e->deleted);
	for (i = 0; o->conflicts && i < o->conflicts->n; i++)
		assert_int_equal(vl_buf_printf(&keys, "%s%s", i ? " " : "", o->conflicts->keys[i]), 0);
	assert_string_equal(keys.ptr ? keys.ptr : "", e->conflicts);
	vl_buf_free(&keys);
	for (i = 0; i < s->nfields; i++) {
		const vl_field *f = &s->fields[i];
		const vl_value *got = vl_value_map_get(o->data, f->name);
		const fexp *fe = NULL;
		vl_value *want = NULL;
		int ok;

		for (k = 0; k < sizeof(e->f) / sizeof(e->f[0]) && e->f[k].field; k++)
			if (!strcmp(e->f[k].field, f->name))
				fe = &e->f[k];
		if (fe) {
			want = exp_value(fe->value);
			ok = (fe->flags & EXP_UNORDERED) ? same_multiset(want, got) : vl_value_equal(want, got);
		} else if (e->rest == REST_NONE || (e->rest == REST_TOMB && f->pii)) {
			ok = got == NULL;
		} else {
			ok = vl_value_equal(vl_value_map_get(base->data, f->name), got);
		}
		if (!ok) {
			print_value("want", fe ? want : e->rest == REST_BASE || (e->rest == REST_TOMB && !f->pii) ?
					vl_value_map_get(base->data, f->name) : NULL);
			print_value("got ", got);
			fail_msg("case %s: field '%s' is not what the rule gives", mc->name, f->name);
		}
		vl_value_free(want);
		if (fe && fe->how >= 0) {
			const vl_merge_trace_field *te = vl_merge_trace_find(t, f->name);

			if (!te)
				fail_msg("case %s: the trace has no entry for '%s'", mc->name, f->name);
			if ((int)te->how != fe->how)
				fail_msg("case %s: field '%s' decided by %s, expected %s", mc->name, f->name,
						vl_merge_how_name(te->how), vl_merge_how_name((vl_merge_how)fe->how));
			assert_true(vl_value_equal(te->result, got));
		}
	}
}

static void run_case(void **state)
{
	const mcase *mc = *state;
	vl_schema *s = load_schema(mc);
	vl_buf fb = VL_BUF_INIT, fa = VL_BUF_INIT, fbb = VL_BUF_INIT, m1 = VL_BUF_INIT, m2 = VL_BUF_INIT;
	vl_record *rb = NULL, *ra = NULL, *rbb = NULL, *o1 = NULL, *o2 = NULL;
	char bid[VL_OID_HEX + 1] = "", aid[VL_OID_HEX + 1], b2id[VL_OID_HEX + 1];
	vl_merge_side base = { NULL, NULL }, sa, sb;
	vl_merge_env env = { g_hooks, mc->timeout_ms };
	vl_merge_stats st1, st2;
	vl_merge_trace *tr = NULL;
	int rc;

	if (mc->base.clock) {
		build_side(&fb, s, mc, &mc->base, NULL, NULL);
		golden_file(mc->name, "base.yaml", &fb);
		rb = parse(&fb, "base.yaml");
		blob_id(bid, &fb);
		base.rec = rb;
		base.blob = bid;
	}
	build_side(&fa, s, mc, &mc->a, rb, rb ? bid : NULL);
	build_side(&fbb, s, mc, &mc->b, rb, rb ? bid : NULL);
	golden_file(mc->name, "a.yaml", &fa);
	golden_file(mc->name, "b.yaml", &fbb);
	ra = parse(&fa, "a.yaml");
	rbb = parse(&fbb, "b.yaml");
	blob_id(aid, &fa);
	blob_id(b2id, &fbb);
	sa.rec = ra;
	sa.blob = aid;
	sb.rec = rbb;
	sb.blob = b2id;

	rc = vl_merge_record(&o1, s, &base, &sa, &sb, &env, &st1, &tr);
	if (rc != 0)
		fail_msg("case %s: merge failed: %s", mc->name, vl_error_last());
	assert_int_equal(vl_merge_record(&o2, s, &base, &sb, &sa, &env, &st2, NULL), 0);
	assert_int_equal(vl_record_emit(&m1, o1, 1), 0);
	assert_int_equal(vl_record_emit(&m2, o2, 1), 0);
	/* Symmetric: which side is "ours" does not matter. */
	assert_int_equal(m1.len, m2.len);
	assert_memory_equal(m1.ptr, m2.ptr, m1.len);
	golden_file(mc->name, "expected.yaml", &m1);
	vl_record_free(parse(&m1, "expected.yaml"));

	assert_string_equal(o1->author, VL_AUTHOR_MERGE);
	assert_null(o1->sig);
	assert_int_equal(o1->nprev, 2);
	assert_true(strcmp(o1->prev[0], o1->prev[1]) < 0);
	assert_int_equal(st1.conflicts, mc->conflicts);
	assert_int_equal(st1.hooks_run, mc->hooks_run);
	assert_int_equal(st2.conflicts, mc->conflicts);
	assert_int_equal(o1->conflicts ? o1->conflicts->n : 0, mc->conflicts);
	assert_int_equal(vl_schema_validate(s, o1->data, o1->deleted, NULL), 0);
	/* Equal clocks: lww goes by the larger author fingerprint; the case
	 * table's expectation assumes a's signer sorts above b's. */
	if (!strcmp(mc->a.clock, mc->b.clock))
		assert_true(strcmp(ra->author, rbb->author) > 0);
	/* The values a person derived from the rules, independent of
	 * expected.yaml (which the code under test wrote). */
	check_expect(mc, s, rb ? rb : ra, o1, tr);
	if (golden_mode())
		fail_msg("VL_WRITE_GOLDEN: wrote the files of case %s; check the diff by hand and run "
				"again without VL_WRITE_GOLDEN (golden mode never passes)", mc->name);

	vl_merge_trace_free(tr);
	vl_record_free(o1);
	vl_record_free(o2);
	vl_record_free(rb);
	vl_record_free(ra);
	vl_record_free(rbb);
	vl_buf_free(&fb);
	vl_buf_free(&fa);
	vl_buf_free(&fbb);
	vl_buf_free(&m1);
	vl_buf_free(&m2);
	vl_schema_free(s);
}

/* ------------------------------------------------------------------------ */
/* The decision trace                                                       */

/* A golden case merged with a trace (sides built as run_case builds them). */
typedef struct {
	vl_schema *s;
	vl_record *rb, *ra, *rbb, *o;
	char bid[VL_OID_HEX + 1], aid[VL_OID_HEX + 1], b2id[VL_OID_HEX + 1];
	vl_merge_trace *t;
} traced;

static void trace_case(traced *c, const char *name)
{
	const mcase *mc = NULL;
	vl_buf fb = VL_BUF_INIT, fa = VL_BUF_INIT, fbb = VL_BUF_INIT;
	vl_merge_side base = { NULL, NULL }, sa, sb;
	vl_merge_env env;
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(cases[i].name, name))
			mc = &cases[i];
	assert_non_null(mc);
	env.hooks_dir = g_hooks;
	env.timeout_ms = mc->timeout_ms;
	c->s = load_schema(mc);
	if (mc->base.clock) {
		build_side(&fb, c->s, mc, &mc->base, NULL, NULL);
		c->rb = parse(&fb, "base");
		blob_id(c->bid, &fb);
		base.rec = c->rb;
		base.blob = c->bid;
	}
	build_side(&fa, c->s, mc, &mc->a, c->rb, c->rb ? c->bid : NULL);
	build_side(&fbb, c->s, mc, &mc->b, c->rb, c->rb ? c->bid : NULL);
	c->ra = parse(&fa, "a");
	c->rbb = parse(&fbb, "b");
	blob_id(c->aid, &fa);
	blob_id(c->b2id, &fbb);
	sa = (vl_merge_side){ c->ra, c->aid };
	sb = (vl_merge_side){ c->rbb, c->b2id };
	/* b first: the trace names the sides in canonical order anyway. */
	if (vl_merge_record(&c->o, c->s, &base, &sb, &sa, &env, NULL, &c->t) != 0)
		fail_msg("case %s: %s", name, vl_error_last());
	assert_non_null(c->t);
	vl_buf_free(&fb);
	vl_buf_free(&fa);
	vl_buf_free(&fbb);
}

static void traced_free(traced *c)
{
	vl_merge_trace_free(c->t);
	vl_record_free(c->o);
	vl_record_free(c->rb);
	vl_record_free(c->ra);
	vl_record_free(c->rbb);
	vl_schema_free(c->s);
}

/* Which rule decided which field, for every rule kind: a case, a field and
 * what the trace must say, each read off the rule (see `expects`). */
static const struct {
	const char *c, *field;
	vl_merge_kind kind;
	vl_merge_how how;
	vl_merge_rule rule;
	vl_merge_why why;
} trace_rules[] = {
	{ "lww_zh", "address", VL_MERGE_EDIT_EDIT, VL_HOW_RULE, VL_RULE_LWW, VL_WHY_LATER_CLOCK },
	{ "lww_zh", "grid", VL_MERGE_EDIT_EDIT, VL_HOW_ONE_SIDE, VL_RULE_LWW, VL_WHY_NONE },
	{ "lww_zh", "phone", VL_MERGE_EDIT_EDIT, VL_HOW_SAME, VL_RULE_LWW, VL_WHY_NONE },
	{ "lww_tie", "address", VL_MERGE_EDIT_EDIT, VL_HOW_RULE, VL_RULE_LWW, VL_WHY_CLOCK_TIE },
	{ "union_max", "surveyed_on", VL_MERGE_EDIT_EDIT, VL_HOW_RULE, VL_RULE_MAX, VL_WHY_NONE },
	{ "min_order", "deadline", VL_MERGE_EDIT_EDIT, VL_HOW_RULE, VL_RULE_MIN, VL_WHY_NONE },
	{ "sum_decimal", "service_hours", VL_MERGE_EDIT_EDIT, VL_HOW_RULE, VL_RULE_SUM, VL_WHY_NONE },
	{ "sum_equal_changes", "service_hours", VL_MERGE_EDIT_EDIT, VL_HOW_RULE, VL_RULE_SUM, VL_WHY_NONE },
	{ "sum_below_min", "subsidy_days", VL_MERGE_EDIT_EDIT, VL_HOW_PERSON, VL_RULE_SUM, VL_WHY_BROKE_SCHEMA },
	{ "union_max", "tags", VL_MERGE_EDIT_EDIT, VL_HOW_RULE, VL_RULE_UNION, VL_WHY_NONE },
	{ "append_log", "service_log", VL_MERGE_EDIT_EDIT, VL_HOW_RULE, VL_RULE_APPEND, VL_WHY_NONE },
	{ "items_by_key", "items", VL_MERGE_EDIT_EDIT, VL_HOW_RULE, VL_RULE_APPEND, VL_WHY_BY_ITEM },
	{ "items_conflict", "items", VL_MERGE_EDIT_EDIT, VL_HOW_PERSON, VL_RULE_APPEND, VL_WHY_ITEM_CONFLICT },
	{ "order_forward", "status", VL_MERGE_EDIT_EDIT, VL_HOW_RULE, VL_RULE_ORDER, VL_WHY_LATER_STATE },
	{ "order_terminal", "status", VL_MERGE_EDIT_EDIT, VL_HOW_RULE, VL_RULE_ORDER, VL_WHY_TERMINAL },
	{ "order_two_terminals", "status", VL_MERGE_EDIT_EDIT, VL_HOW_PERSON, VL_RULE_ORDER,
		VL_WHY_TWO_TERMINALS },
	{ "keep_conflict", "request_no", VL_MERGE_EDIT_EDIT, VL_HOW_PERSON, VL_RULE_KEEP, VL_WHY_RULE_PERSON },
	{ "manual_conflict", "id_number", VL_MERGE_EDIT_EDIT, VL_HOW_PERSON, VL_RULE_MANUAL,
		VL_WHY_RULE_PERSON },
	{ "hook_ok", "subsidy_amount", VL_MERGE_EDIT_EDIT, VL_HOW_HOOK, VL_RULE_HOOK, VL_WHY_NONE },
	{ "hook_exit1", "subsidy_amount", VL_MERGE_EDIT_EDIT, VL_HOW_PERSON, VL_RULE_HOOK,
		VL_WHY_HOOK_DECLINED },
	{ "hook_wrong_pin", "subsidy_amount", VL_MERGE_EDIT_EDIT, VL_HOW_PERSON, VL_RULE_HOOK,
		VL_WHY_HOOK_DECLINED },
	{ "hook_bad_value", "subsidy_amount", VL_MERGE_EDIT_EDIT, VL_HOW_PERSON, VL_RULE_HOOK,
		VL_WHY_BROKE_SCHEMA },
	{ "add_add", "address", VL_MERGE_ADD_ADD, VL_HOW_RULE, VL_RULE_LWW, VL_WHY_LATER_CLOCK },
	{ "add_add", "tags", VL_MERGE_ADD_ADD, VL_HOW_RULE, VL_RULE_UNION, VL_WHY_NONE },
	{ "edit_delete", "_deleted", VL_MERGE_EDIT_DELETE, VL_HOW_ON_DELETE, VL_RULE_LWW,
		VL_WHY_TOMBSTONE_WINS },
	{ "edit_delete", "address", VL_MERGE_EDIT_DELETE, VL_HOW_ON_DELETE, VL_RULE_LWW,
		VL_WHY_TOMBSTONE_WINS },
	{ "edit_delete_edit_wins", "_deleted", VL_MERGE_EDIT_DELETE, VL_HOW_ON_DELETE, VL_RULE_LWW,
		VL_WHY_EDIT_WINS },
	{ "both_deleted", "tags", VL_MERGE_BOTH_DELETED, VL_HOW_RULE, VL_RULE_UNION, VL_WHY_NONE },
};

/* The side record whose blob is `blob`. */
static const vl_record *side_of(const traced *c, const char *blob)
{
	if (!strcmp(blob, c->aid))
		return c->ra;
	assert_string_equal(blob, c->b2id);
	return c->rbb;
}

static void test_trace_rules(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(trace_rules) / sizeof(trace_rules[0]); i++) {
		traced c;
		const vl_merge_trace_field *e;
		const vl_record *x, *y;
		const char *f = trace_rules[i].field;

		trace_case(&c, trace_rules[i].c);
		e = vl_merge_trace_find(c.t, f);
		if (!e)
			fail_msg("%s: no trace entry for '%s'", trace_rules[i].c, f);
		if (c.t->kind != trace_rules[i].kind || e->how != trace_rules[i].how ||
				e->rule != trace_rules[i].rule || e->why != trace_rules[i].why)
			fail_msg("%s '%s': trace says %s/%s rule %s why %d, want %s/%s rule %s why %d",
					trace_rules[i].c, f, vl_merge_kind_name(c.t->kind), vl_merge_how_name(e->how),
					vl_merge_rule_name(e->rule), (int)e->why,
					vl_merge_kind_name(trace_rules[i].kind), vl_merge_how_name(trace_rules[i].how),
					vl_merge_rule_name(trace_rules[i].rule), (int)trace_rules[i].why);
		if (e->rule == VL_RULE_HOOK)
			assert_non_null(e->hook);
		else
			assert_null(e->hook);
		/* Sides in canonical order, whatever order they were passed in. */
		assert_true(strcmp(c.t->x_blob, c.t->y_blob) < 0);
		assert_string_equal(c.t->x_blob, c.o->prev[0]);
		assert_string_equal(c.t->y_blob, c.o->prev[1]);
		assert_string_equal(c.t->base_blob, c.rb ? c.bid : "");
		x = side_of(&c, c.t->x_blob);
		y = side_of(&c, c.t->y_blob);
		/* lww: b (T2) is later, except for the tie, where a's signer wins. */
		assert_int_equal(c.t->y_later, y == (strcmp(trace_rules[i].c, "lww_tie") ? c.rbb : c.ra));
		if (strcmp(f, "_deleted") != 0) {
			const vl_value *rv = vl_value_map_get(c.o->data, f);

			/* The candidates are the versions' values; the result the
			 * merged record's. */
			assert_true(vl_value_equal(e->base, c.rb ? vl_value_map_get(c.rb->data, f) : NULL));
			assert_true(vl_value_equal(e->x, vl_value_map_get(x->data, f)));
			assert_true(vl_value_equal(e->y, vl_value_map_get(y->data, f)));
			assert_true(vl_value_equal(e->result, rv));
			if (e->side == 0)
				assert_true(vl_value_equal(rv, e->x));
			else if (e->side == 1)
				assert_true(vl_value_equal(rv, e->y));
			else
				assert_true(!vl_value_equal(rv, e->x) && !vl_value_equal(rv, e->y));
		} else {
			/* The side on_delete kept: the tombstone, or the edit. */
			const vl_record *kept = e->side ? y : x;

			assert_int_equal(kept->deleted, e->why == VL_WHY_TOMBSTONE_WINS);
			assert_null(e->result);
			assert_non_null(e->x);
			assert_non_null(e->y);
		}
		/* Untouched fields are left out. */
		if (!strcmp(trace_rules[i].c, "lww_zh")) {
			assert_null(vl_merge_trace_find(c.t, "gender"));
			assert_int_equal(c.t->nfields, 4);
		}
		traced_free(&c);
	}
}

/* ------------------------------------------------------------------------ */
/* The hook runner                                                          */

static vl_value *worker_data(const char *patch)
{
	vl_value *d = yaml_map(WORKER_BASE), *p = yaml_map(patch);
	size_t i;

	for (i = 0; i < p->n; i++)
		assert_int_equal(vl_value_map_set(d, p->keys[i], vl_value_clone(p->items[i])), 0);
	vl_value_free(p);
	return d;
}

static int run_hook(vl_value **out, const char *dir, const char *name, const char *pin, int timeout)
{
	vl_value *b = worker_data("subsidy_days: 10\n"), *x = worker_data(HOOK_A), *y = worker_data(HOOK_B);
	int rc = vl_hook_run(out, dir, name, pin, "subsidy_amount", "worker_care",
			"01hq3k5z6w8x9y0abcdefgh099", b, x, y, timeout);

	vl_value_free(b);
	vl_value_free(x);
	vl_value_free(y);
	return rc;
}

static void test_file_sha256(void **state)
{
	char sha[65], path[1024], *out = NULL;

	(void)state;
	snprintf(path, sizeof(path), VL_SOURCE_DIR "/hooks/subsidy_recompute");
	assert_int_equal(vl_file_sha256(sha, path), 0);
	assert_int_equal(vt_run(&out, "sha256sum '%s'", path), 0);
	assert_memory_equal(out, sha, 64);
	free(out);
	assert_int_equal(vl_file_sha256(sha, "/nonexistent/hook"), VL_ENOTFOUND);
}

static void test_hook_success(void **state)
{
	vl_value *v = NULL;
	char *pin = hook_pin("subsidy_recompute");

	(void)state;
	assert_int_equal(run_hook(&v, g_hooks, "subsidy_recompute", pin, 0), 0);
	assert_non_null(v);
	assert_int_equal(v->kind, VL_V_DEC);
	assert_string_equal(v->s, "2048.50"); /* (10 + 2 + 5) x 120.50 */
	vl_value_free(v);
	v = NULL;
	/* Equal increments of the days are two increments, as in `sum`. */
	{
		vl_value *b = worker_data("subsidy_days: 10\n"), *x = worker_data(HOOK_A);
		vl_value *y = worker_data(HOOK_A "daily_rate: 130\n");

		assert_int_equal(vl_hook_run(&v, g_hooks, "subsidy_recompute", pin, "subsidy_amount",
				"worker_care", "01hq3k5z6w8x9y0abcdefgh099", b, x, y, 0), 0);
		assert_string_equal(v->s, "1820.00"); /* (10 + 2 + 2) x 130 */
		vl_value_free(v);
		v = NULL;
		/* Two different new rates: a person decides. */
		vl_value_free(x);
		x = worker_data(HOOK_A "daily_rate: 125.00\n");
		assert_int_equal(vl_hook_run(&v, g_hooks, "subsidy_recompute", pin, "subsidy_amount",
				"worker_care", "01hq3k5z6w8x9y0abcdefgh099", b, x, y, 0), 1);
		assert_null(v);
		vl_value_free(b);
		vl_value_free(x);
		vl_value_free(y);
	}
	free(pin);
}

static void test_hook_refusals(void **state)
{
	char path[1024], link[1024], *pin = hook_pin("decline"), *sub = NULL;
	vl_value *v = NULL;

	(void)state;
	/* Names that are not a plain file name, a missing hook, no dir. */
	assert_int_equal(run_hook(&v, g_hooks, "../decline", pin, 0), 1);
	assert_int_equal(run_hook(&v, g_hooks, "Decline", pin, 0), 1);
	assert_int_equal(run_hook(&v, g_hooks, "", pin, 0), 1);
	assert_int_equal(run_hook(&v, g_hooks, "missing", pin, 0), 1);
	assert_int_equal(run_hook(&v, NULL, "decline", pin, 0), 1);
	assert_int_equal(run_hook(&v, g_hooks, "decline", NULL, 0), 1);
	assert_null(v);
	/* A symlink to a good hook, a non-executable copy, a group-writable one. */
	free(pin);
	pin = hook_pin("subsidy_recompute");
	snprintf(path, sizeof(path), "%s/subsidy_recompute", g_hooks);
	snprintf(link, sizeof(link), "%s/linked", g_hooks);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(run_hook(&v, g_hooks, "linked", pin, 0), 1);
	assert_int_equal(unlink(link), 0);
	sub = vt_tmpdir();
	assert_int_equal(vt_run(NULL, "cp '%s' '%s/subsidy_recompute' && chmod 644 '%s/subsidy_recompute'",
			path, sub, sub), 0);
	assert_int_equal(run_hook(&v, sub, "subsidy_recompute", pin, 0), 1);
	assert_int_equal(vt_run(NULL, "chmod 775 '%s/subsidy_recompute'", sub), 0);
	assert_int_equal(run_hook(&v, sub, "subsidy_recompute", pin, 0), 1);
	assert_int_equal(vt_run(NULL, "chmod 755 '%s/subsidy_recompute'", sub), 0);
	assert_int_equal(run_hook(&v, sub, "subsidy_recompute", pin, 0), 0);
	vl_value_free(v);
	v = NULL;
	/* A directory of that name. */
	assert_int_equal(vt_run(NULL, "rm '%s/subsidy_recompute' && mkdir '%s/subsidy_recompute'", sub, sub), 0);
	assert_int_equal(run_hook(&v, sub, "subsidy_recompute", pin, 0), 1);
	vt_rmtree(sub);
	free(sub);
	free(pin);
}

static void test_hook_failures(void **state)
{
	static const char *const bad[] = { "decline", "crasher", "bad_yaml", "exit3", "two_keys",
		"flood" };
	vl_value *v = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *pin = hook_pin(bad[i]);

		if (run_hook(&v, g_hooks, bad[i], pin, 2000) != 1)
			fail_msg("hook %s was not declined", bad[i]);
		assert_null(v);
		free(pin);
	}
}

static void test_hook_timeouts(void **state)
{
	vl_value *v = NULL;
	char *pin = hook_pin("sleeper"), *pin2 = hook_pin("background");
	long long t0;
	struct timespec ts;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	assert_int_equal(run_hook(&v, g_hooks, "sleeper", pin, 200), 1);
	/* A background child that keeps stdout open: the deadline still holds. */
	assert_int_equal(run_hook(&v, g_hooks, "background", pin2, 200), 1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	assert_true((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0 < 3000);
	assert_null(v);
	free(pin);
	free(pin2);
}

static void test_hook_environment(void **state)
{
	vl_value *v = NULL;
	char *pin = hook_pin("envcheck"), want[2048];
	DIR *d;
	struct dirent *e;
	int n = 0;

	(void)state;
	setenv("VL_TEST_SECRET", "leaked", 1);
	assert_int_equal(run_hook(&v, g_hooks, "envcheck", pin, 2000), 0);
	unsetenv("VL_TEST_SECRET");
	assert_non_null(v);
	snprintf(want, sizeof(want), "unset|C|%s/vlhook-", g_tmp);
	assert_memory_equal(v->s, want, strlen(want));
	vl_value_free(v);
	free(pin);
	/* A hook that litters its temp dir: all removed afterwards. */
	pin = hook_pin("litter");
	assert_int_equal(run_hook(&v, g_hooks, "litter", pin, 2000), 0);
	vl_value_free(v);
	free(pin);
	d = opendir(g_tmp);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "vlhook-", 7) == 0)
			n++;
	closedir(d);
	assert_int_equal(n, 0);
}

/* ------------------------------------------------------------------------ */
/* Merge preconditions and odd inputs                                       */

static vl_record *rec_of(const vl_schema *s, const char *id, const char *clock, int key,
		const char *data, const char *patch, vl_buf *file)
{
	mcase mc;
	side_def d = { clock, key, 0, data, patch, "" };

	memset(&mc, 0, sizeof(mc));
	mc.name = "adhoc";
	mc.schema = s->name;
	mc.id = id;
	vl_buf_clear(file);
	build_side(file, s, &mc, &d, NULL, NULL);
	return parse(file, "adhoc");
}

static void test_merge_preconditions(void **state)
{
	mcase mc = { .schema = "resident" };
	vl_schema *s = load_schema(&mc);
	vl_buf f1 = VL_BUF_INIT, f2 = VL_BUF_INIT, f3 = VL_BUF_INIT;
	vl_record *a = rec_of(s, "01hq3k5z6w8x9y0abcdefgh090", T1, 1, RES_BASE, NULL, &f1);
	vl_record *b = rec_of(s, "01hq3k5z6w8x9y0abcdefgh090", T2, 2, RES_BASE, "notes: 备注\n", &f2);
	vl_record *c = rec_of(s, "01hq3k5z6w8x9y0abcdefgh091", T2, 2, RES_BASE, NULL, &f3);
	vl_merge_side sa = { a, FAKE_A }, sb = { b, FAKE_B }, sc = { c, FAKE_B };
	vl_merge_side bad_blob = { b, "XYZ" }, same = { b, FAKE_A };
	vl_record *out = NULL;

	(void)state;
	assert_int_equal(vl_merge_record(&out, s, NULL, &sa, &sc, NULL, NULL, NULL), VL_EINVALID);
	assert_int_equal(vl_merge_record(&out, s, NULL, &sa, &bad_blob, NULL, NULL, NULL), VL_EINVALID);
	assert_int_equal(vl_merge_record(&out, s, NULL, &sa, &same, NULL, NULL, NULL), VL_EINVALID);
	assert_int_equal(vl_merge_record(&out, s, &sa, &sa, &sb, NULL, NULL, NULL), VL_EINVALID);
	assert_null(out);
	/* A side whose data breaks the schema's shapes. */
	assert_int_equal(vl_value_map_set(b->data, "tags", vl_value_str("disabled")), 0);
	assert_int_equal(vl_merge_record(&out, s, NULL, &sa, &sb, NULL, NULL, NULL), VL_EINVALID);
	assert_int_equal(vl_value_map_set(b->data, "tags", vl_value_new(VL_V_LIST)), 0);
	assert_int_equal(vl_value_map_set(b->data, "bogus", vl_value_int(1)), 0);
	assert_int_equal(vl_merge_record(&out, s, NULL, &sa, &sb, NULL, NULL, NULL), VL_EINVALID);
	assert_null(out);
	vl_record_free(a);
	vl_record_free(b);
	vl_record_free(c);
	vl_buf_free(&f1);
	vl_buf_free(&f2);
	vl_buf_free(&f3);
	vl_schema_free(s);
}

/* Without a hooks directory a hook field goes to a person. */
static void test_merge_no_hooks_dir(void **state)
{
	mcase mc = cases[0];
	vl_schema *s;
	vl_buf f0 = VL_BUF_INIT, f1 = VL_BUF_INIT, f2 = VL_BUF_INIT;
	vl_record *b, *x, *y, *out = NULL;
	char id0[VL_OID_HEX + 1], id1[VL_OID_HEX + 1], id2[VL_OID_HEX + 1];
	vl_merge_side sb, sx, sy;
	vl_merge_stats st;

	(void)state;
	mc.schema = "worker_care";
	mc.variant = V_HOOK;
	mc.hook = "subsidy_recompute";
	s = load_schema(&mc);
	b = rec_of(s, "01hq3k5z6w8x9y0abcdefgh092", T0, 0, WORKER_BASE, NULL, &f0);
	x = rec_of(s, "01hq3k5z6w8x9y0abcdefgh092", T1, 1, WORKER_BASE, "subsidy_amount: 1.00\n", &f1);
	y = rec_of(s, "01hq3k5z6w8x9y0abcdefgh092", T2, 2, WORKER_BASE, "subsidy_amount: 2.00\n", &f2);
	blob_id(id0, &f0);
	blob_id(id1, &f1);
	blob_id(id2, &f2);
	sb.rec = b;
	sb.blob = id0;
	sx.rec = x;
	sx.blob = id1;
	sy.rec = y;
	sy.blob = id2;
	assert_int_equal(vl_merge_record(&out, s, &sb, &sx, &sy, NULL, &st, NULL), 0);
	assert_int_equal(st.conflicts, 1);
	assert_int_equal(st.hooks_run, 0);
	assert_non_null(vl_value_map_get(out->conflicts, "subsidy_amount"));
	assert_string_equal(vl_value_map_get(out->data, "subsidy_amount")->s, "2.00");
	vl_record_free(out);
	vl_record_free(b);
	vl_record_free(x);
	vl_record_free(y);
	vl_buf_free(&f0);
	vl_buf_free(&f1);
	vl_buf_free(&f2);
	vl_schema_free(s);
}

/* A merge whose conflict values would break the 64 KiB record cap keeps the
 * conflict entries without their values (`from` names the blobs). */
static void test_merge_too_big(void **state)
{
	mcase mc = { .name = "too_big", .schema = "report", .id = "01hq3k5z6w8x9y0abcdefgh093" };
	vl_schema *s = load_schema(&mc);
	vl_buf body = VL_BUF_INIT, patch = VL_BUF_INIT, f0 = VL_BUF_INIT, f1 = VL_BUF_INIT, f2 = VL_BUF_INIT;
	vl_record *b, *x, *y, *out = NULL, *back = NULL;
	char id0[VL_OID_HEX + 1], id1[VL_OID_HEX + 1], id2[VL_OID_HEX + 1];
	vl_merge_side sb, sx, sy;
	const vl_value *l;
	side_def del = { T1, 1, 1, NULL, NULL, NULL }, edit = { T2, 2, 0, NULL, NULL, NULL };
	size_t i;

	(void)state;
	for (i = 0; i < 8000; i++) /* 24 KB of text: three copies do not fit */
		assert_int_equal(vl_buf_puts(&body, "报"), 0);
	assert_int_equal(vl_buf_printf(&patch, "body: %s\n", body.ptr), 0);
	b = rec_of(s, mc.id, T0, 0, REPORT_BASE, patch.ptr, &f0);
	blob_id(id0, &f0);
	build_side(&f1, s, &mc, &del, b, id0);
	vl_buf_clear(&patch);
	assert_int_equal(vl_buf_printf(&patch, "body: 改%s\n", body.ptr), 0);
	edit.patch = patch.ptr;
	build_side(&f2, s, &mc, &edit, b, id0);
	x = parse(&f1, "x");
	y = parse(&f2, "y");
	blob_id(id1, &f1);
	blob_id(id2, &f2);
	sb.rec = b;
	sb.blob = id0;
	sx.rec = x;
	sx.blob = id1;
	sy.rec = y;
	sy.blob = id2;
	assert_int_equal(vl_merge_record(&out, s, &sb, &sx, &sy, NULL, NULL, NULL), 0);
	assert_true(out->deleted);
	l = vl_value_map_get(out->conflicts, "_deleted");
	assert_non_null(l);
	assert_int_equal(l->n, 2);
	for (i = 0; i < 2; i++) {
		assert_null(vl_value_map_get(l->items[i], "value"));
		assert_non_null(vl_value_map_get(l->items[i], "from"));
	}
	vl_buf_clear(&f0);
	assert_int_equal(vl_record_emit(&f0, out, 1), 0);
	assert_true(f0.len <= VL_RECORD_MAX_BYTES);
	back = parse(&f0, "merged");
	vl_record_free(back);
	vl_record_free(out);
	vl_record_free(b);
	vl_record_free(x);
	vl_record_free(y);
	vl_buf_free(&body);
	vl_buf_free(&patch);
	vl_buf_free(&f0);
	vl_buf_free(&f1);
	vl_buf_free(&f2);
	vl_schema_free(s);
}

/* ------------------------------------------------------------------------ */

static int setup(void **state)
{
	unsigned char seed[32];
	char path[1024];
	size_t i;
	int k;

	(void)state;
	if (vl_crypto_init() != 0 || git_libgit2_init() < 0)
		return -1;
	for (k = 0; k < 3; k++) {
		memset(seed, 0x10 * (k + 1), sizeof(seed));
		if (vl_key_from_seed(&g_keys[k], seed) != 0)
			return -1;
	}
	g_hooks = vt_tmpdir();
	g_tmp = vt_tmpdir();
	setenv("TMPDIR", g_tmp, 1);
	if (vt_run(NULL, "cp '%s/hooks/subsidy_recompute' '%s/' && chmod 755 '%s/subsidy_recompute'",
			VL_SOURCE_DIR, g_hooks, g_hooks) != 0)
		return -1;
	for (i = 0; i < sizeof(test_hooks) / sizeof(test_hooks[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", g_hooks, test_hooks[i].name);
		vt_write(path, test_hooks[i].body, strlen(test_hooks[i].body));
		if (chmod(path, 0755) != 0)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vt_rmtree(g_hooks);
	vt_rmtree(g_tmp);
	free(g_hooks);
	free(g_tmp);
	git_libgit2_shutdown();
	return 0;
}

int main(void)
{
	enum { NCASES = sizeof(cases) / sizeof(cases[0]) };
	struct CMUnitTest tests[NCASES + 10];
	size_t i, n = 0;

	for (i = 0; i < NCASES; i++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = cases[i].name;
		tests[n].test_func = run_case;
		tests[n].initial_state = (void *)&cases[i];
		n++;
	}
	{
		const struct CMUnitTest more[] = {
			cmocka_unit_test(test_file_sha256),
			cmocka_unit_test(test_hook_success),
			cmocka_unit_test(test_hook_refusals),
			cmocka_unit_test(test_hook_failures),
			cmocka_unit_test(test_hook_timeouts),
			cmocka_unit_test(test_hook_environment),
			cmocka_unit_test(test_merge_preconditions),
			cmocka_unit_test(test_trace_rules),
			cmocka_unit_test(test_merge_no_hooks_dir),
			cmocka_unit_test(test_merge_too_big),
		};
		for (i = 0; i < sizeof(more) / sizeof(more[0]); i++)
			tests[n++] = more[i];
	}
	return _cmocka_run_group_tests("test_merge", tests, n, setup, teardown);
}
