/*
 * merge.h - the schema-aware three-way merge of one record (docs/formats.md §6),
 * and the hook runner it calls for `hook:NAME` fields.
 *
 * vl_merge_record is a pure function of (schema, base, x, y) apart from the
 * hook programs it may run (which the schema pins by sha256): the two sides
 * are first ordered canonically by blob id, so the result never depends on
 * which side is "ours". That is what makes merge commits identical on every
 * node and lets `vledger verify` replay every merge.
 *
 * Field rules (schema `merge:`), applied only to a field both sides changed
 * (one side changed -> take it; the same change on both sides -> take it,
 * except for `sum`, where two equal deltas are two deltas: 10+2 and 10+2
 * merge to 14):
 *   lww      later `clock` wins; equal clocks: larger author fingerprint
 *   max/min  larger/smaller value (int, decimal, date, datetime)
 *   sum      base + (x - base) + (y - base) (int, decimal; absent = 0)
 *   union    three-way set merge: an item is in the result when both sides
 *            have it, or one side added it (not in base); removals by either
 *            side stick unless the other side added it
 *   append   log entries, merged like a set of entries (three-way: an
 *            entry either side added is kept, one either side removed or
 *            corrected is gone), de-duplicated by content, ordered by the
 *            entry's `date` (or first date field) then by the sha256 of its
 *            canonical YAML
 *   order    enum state machine: a declared terminal state beats a
 *            non-terminal one; two different terminals -> person; else the
 *            later state in `order:` wins
 *   keep     may not change after creation -> person
 *   manual   -> person
 *   hook:N   run <hooks_dir>/N if its sha256 equals the schema's pin; exit 0
 *            with a valid value -> take it; anything else -> person
 * A list of maps with an `item_key` is merged item by item (matched by that
 * key; each item field by its own rule; items added by either side kept;
 * an item removed by one side and unchanged by the other removed; removed by
 * one and changed by the other -> the changed item is kept and the field
 * gets a conflict), in the order: x's items, then y's new items.
 *
 * "-> person" means: the field gets a `conflicts:` entry listing both
 * candidates, and takes the lww winner as a provisional value; sync never
 * blocks. Conflict entries: conflicts[field] is a list of two maps
 * {value, from: <blob id>, author, clock} in side order (x then y); an
 * absent value is written as null. Existing conflicts merge three-way by
 * field: an entry one side resolved (removed) and the other left as in the
 * base is removed.
 *
 * Record level: add/add of one id -> fields merged against an empty base;
 * edit/delete -> the schema's `on_delete`: "tombstone_wins" (default) gives
 * a tombstone whose conflicts["_deleted"] keeps both candidates (the edited
 * data and the tombstone's), "edit_wins" gives the edited record, with the
 * same conflict entry; both deleted -> tombstone, fields merged by rule.
 * The merged record has author "merge", no sig, prev = both blob ids sorted,
 * clock = the later of the two, scope/id/schema of the sides.
 */
#ifndef VL_MERGE_H
#define VL_MERGE_H

#include "store/record.h"
#include "store/limits.h"
#include "schemas/schema.h"

#define VL_HOOK_TIMEOUT_MS 5000

typedef struct {
	const char *hooks_dir;  /* <home>/hooks; NULL: every hook field -> person */
	int timeout_ms;         /* 0 = VL_HOOK_TIMEOUT_MS */
} vl_merge_env;

/* One version of a record: the parsed record and its blob id (40 hex). */
typedef struct {
	const vl_record *rec;   /* NULL = absent (only the base may be absent) */
	const char *blob;
} vl_merge_side;

/* What the merge decided, for audit and tests. */
typedef struct {
	size_t fields_merged;   /* fields both sides changed */
	size_t conflicts;       /* fields left to a person */
	size_t hooks_run;
} vl_merge_stats;

/* What happened to the record as a whole. */
typedef enum {
	VL_MERGE_EDIT_EDIT = 0, /* both sides live, a base version exists */
	VL_MERGE_ADD_ADD,       /* no base: both added the id; fields merged against {} */
	VL_MERGE_EDIT_DELETE,   /* one side deleted, the other edited: on_delete */
	VL_MERGE_BOTH_DELETED   /* both tombstones: fields merged by rule */
} vl_merge_kind;

/* How one field got its value. */
typedef enum {
	VL_HOW_ONE_SIDE = 0, /* only one side changed it: that side's value */
	VL_HOW_SAME,         /* both made the same change: that value */
	VL_HOW_RULE,         /* both changed it: the field's rule decided */
	VL_HOW_HOOK,         /* both changed it: the pinned hook computed it */
	VL_HOW_PERSON,       /* left as a conflict; the value is provisional (lww) */
	VL_HOW_ON_DELETE     /* edit/delete: taken with the whole record by on_delete
	                      * (and the "_deleted" entry itself) */
} vl_merge_how;

/* Why, in more detail than the rule (for explanations; VL_WHY_NONE when
 * the how and rule say it all). */
typedef enum {
	VL_WHY_NONE = 0,
	VL_WHY_LATER_CLOCK,     /* lww: the later clock */
	VL_WHY_CLOCK_TIE,       /* lww: equal clocks, the larger author fingerprint */
	VL_WHY_EQUAL_VALUES,    /* max/min: equal values spelt differently; lww picked */
	VL_WHY_BY_ITEM,         /* keyed list: item by item (each item field lww) */
	VL_WHY_TERMINAL,        /* order: a terminal state beat a non-terminal one */
	VL_WHY_LATER_STATE,     /* order: the later state in `order:` */
	/* PERSON: */
	VL_WHY_RULE_PERSON,     /* keep / manual: the rule always asks a person */
	VL_WHY_FIELD_REMOVED,   /* max/min/order: one side removed the field */
	VL_WHY_NOT_COMPARABLE,  /* max/min: values that do not compare */
	VL_WHY_TWO_TERMINALS,   /* order: two different terminal states */
	VL_WHY_UNKNOWN_STATE,   /* order: a state the machine does not place */
	VL_WHY_OVERFLOW,        /* sum: too large to add exactly */
	VL_WHY_ITEM_CONFLICT,   /* keyed list: an item removed on one side and
	                         * changed on the other, or a log item edited twice */
	VL_WHY_HOOK_DECLINED,   /* hook: missing, pin differs, declined, failed */
	VL_WHY_NO_HOOKS,        /* hook: no hooks directory in the merge env */
	VL_WHY_BROKE_SCHEMA,    /* the computed value failed the schema: lww kept */
	VL_WHY_EDIT_WINS,       /* on_delete edit_wins: the edit */
	VL_WHY_TOMBSTONE_WINS   /* on_delete tombstone_wins: the deletion */
} vl_merge_why;

/*
 * One field of a merge trace. Every value is an owned copy (NULL = the
 * field was absent there); vl_merge_trace_free frees them.
 */
typedef struct {
	const char *field;      /* the schema's field name, or "_deleted" (borrowed
	                         * from the schema / static; valid while the schema is) */
	vl_merge_how how;
	vl_merge_rule rule;     /* the field's rule (lww for "_deleted") */
	const char *hook;       /* VL_RULE_HOOK: the hook name, borrowed from the schema */
	vl_merge_why why;
	int side;               /* where the result came from: 0 = x, 1 = y,
	                         * -1 = neither as is (a rule computed it) */
	vl_value *base, *x, *y; /* the candidates; "_deleted": x's and y's data
	                         * as the conflict entry keeps them */
	vl_value *result;       /* the merged value ("_deleted": NULL) */
} vl_merge_trace_field;

/*
 * What vl_merge_record decided, field by field: every field whose base, x,
 * y or result values are not all equal, in schema order ("_deleted" first).
 * x and y are the sides in canonical order (x the smaller blob id, as the
 * merged record's prev lists them), whatever order the caller passed.
 * Fields none of the four touched are left out. Caller frees with
 * vl_merge_trace_free.
 */
typedef struct {
	vl_merge_kind kind;
	char base_blob[VL_OID_HEX + 1]; /* "" without a base */
	char x_blob[VL_OID_HEX + 1], y_blob[VL_OID_HEX + 1];
	int y_later;                    /* the lww winner is y */
	int clock_tie;                  /* equal clocks: lww went by author */
	vl_merge_trace_field *fields;
	size_t nfields;
} vl_merge_trace;

void vl_merge_trace_free(vl_merge_trace *t);

/* The entry for `field` in t, NULL if none. Borrowed. */
const vl_merge_trace_field *vl_merge_trace_find(const vl_merge_trace *t, const char *field);

/* Short names for tests and JSON: "one_side" "same" "rule" "hook" "person"
 * "on_delete"; "edit" "add_add" "edit_delete" "both_deleted". Static. */
const char *vl_merge_how_name(vl_merge_how h);
const char *vl_merge_kind_name(vl_merge_kind k);

/*
 * Merge x and y (both present, different blobs, neither equal to the base)
 * against base (rec NULL for add/add). out: caller frees with
 * vl_record_free. stats may be NULL. trace may be NULL (not wanted: no
 * cost); else *trace is set on success only, caller frees it with
 * vl_merge_trace_free. VL_EINVALID when the sides disagree on schema, id or
 * scope, or a side breaks the schema's shapes.
 */
int vl_merge_record(vl_record **out, const vl_schema *s, const vl_merge_side *base,
		const vl_merge_side *x, const vl_merge_side *y, const vl_merge_env *env,
		vl_merge_stats *stats, vl_merge_trace **trace) VL_MUST_CHECK;

/*
 * vl_merge_record, also handing back the merged record's file: on success
 * `file` (emptied first) holds what vl_record_emit(file, *out, 1) writes,
 * the very bytes the merge's self-check parsed back, so a caller that
 * stores the record need not emit it again. On failure `file` is undefined.
 */
int vl_merge_record_file(vl_record **out, vl_buf *file, const vl_schema *s, const vl_merge_side *base,
		const vl_merge_side *x, const vl_merge_side *y, const vl_merge_env *env,
		vl_merge_stats *stats, vl_merge_trace **trace) VL_MUST_CHECK;

/*
 * Run hook `name` for `field` of a record: writes base.yaml, a.yaml, b.yaml
 * (each `{field: F, schema: S, id: ID, value: V, data: {...}}`; base may
 * have no value/data) into a private temp dir, runs <hooks_dir>/name with
 * those three paths as arguments, no stdin, a clean environment, and a
 * timeout; reads at most VL_HOOK_MAX_OUTPUT bytes of stdout, which must be
 * one YAML map `value: V`. Returns 0 with *out set on exit status 0 and
 * parseable output; 1 for "leave it to a person" (exit 1, any other exit,
 * a signal, timeout, bad output, missing hook, or a sha256 that differs from
 * `pin`); <0 only for local failures (cannot fork, out of memory).
 */
int vl_hook_run(vl_value **out, const char *hooks_dir, const char *name, const char *pin,
		const char *field, const char *schema, const char *id,
		const vl_value *base_data, const vl_value *a_data, const vl_value *b_data,
		int timeout_ms) VL_MUST_CHECK;

/* sha256 of a file as 64 lowercase hex into out[65]. */
int vl_file_sha256(char out[65], const char *path) VL_MUST_CHECK;

#endif
