/*
 * schema.h - the schema language of vledger ledgers (docs/formats.md §6).
 *
 * A schema file (schemas/<name>.yaml in the project; installed into the
 * `config` branch) declares one ledger: its fields in canonical order, their
 * types and constraints, zh/en labels, which are personal (pii), the natural
 * key (identity), the per-field merge rule, and aggregates. The language is
 * documented in docs/schemas.md.
 *
 * Record data is a VL_V_MAP whose keys appear in schema field order. Value
 * kinds by field type:
 *   string text cn_id cn_mobile phone division ref date datetime enum -> STR
 *   int -> INT; decimal -> DEC or INT; bool -> BOOL
 *   set -> LIST of scalars, sorted bytewise by text, no duplicates
 *   list -> LIST (of scalars of item type, or of MAPs with item fields)
 *   map -> MAP (of item fields)
 * A loaded vl_schema is immutable and may be shared between threads.
 * Every function below that takes a schema needs one returned by
 * vl_schema_load (it carries compiled patterns behind the public struct);
 * never pass a hand-built vl_schema.
 */
#ifndef VL_SCHEMA_H
#define VL_SCHEMA_H

#include <stddef.h>
#include "store/buf.h"
#include "store/value.h"

typedef enum {
	VL_T_STRING = 1, VL_T_TEXT, VL_T_INT, VL_T_DECIMAL, VL_T_BOOL,
	VL_T_DATE, VL_T_DATETIME, VL_T_ENUM, VL_T_SET, VL_T_LIST, VL_T_MAP,
	VL_T_CN_ID, VL_T_CN_MOBILE, VL_T_PHONE, VL_T_DIVISION, VL_T_REF
} vl_ftype;

/*
 * A field's merge rule (docs/formats.md §6, docs/schemas.md), parsed once by
 * vl_schema_load from the schema's `merge:` text. Consumers switch on it;
 * the text is kept only for display. A field without `merge:` is
 * VL_RULE_LWW (the zero value).
 */
typedef enum {
	VL_RULE_LWW = 0,  /* later clock wins */
	VL_RULE_MAX,      /* larger value */
	VL_RULE_MIN,      /* smaller value */
	VL_RULE_SUM,      /* base + both deltas */
	VL_RULE_UNION,    /* three-way set merge */
	VL_RULE_APPEND,   /* three-way log merge ordered by date */
	VL_RULE_ORDER,    /* enum state machine (vl_field order/terminal) */
	VL_RULE_KEEP,     /* may not change after creation -> person */
	VL_RULE_MANUAL,   /* -> person */
	VL_RULE_HOOK      /* hook program vl_field.hook, pinned by hook_sha256 */
} vl_merge_rule;

typedef struct {
	char *value; /* lowercase English identifier, stored in records */
	char *zh;    /* Chinese label */
	char *en;    /* English label */
} vl_enum_opt;

typedef struct vl_field vl_field;
struct vl_field {
	char *name;
	vl_ftype type;
	char *label_zh, *label_en;
	char *doc;            /* why this field and its merge rule, optional */
	int required;
	int pii;
	/* default: what a new record gets when it lacks the field (top-level,
	 * non-pii scalar fields only), NULL if none. Always a valid value of the
	 * field, except the STR "today" of a date field and "now" of a datetime
	 * field, which vl_schema_apply_defaults resolves when it runs. */
	vl_value *def;
	/* enum (or set/list items of enum type) */
	vl_enum_opt *opts;
	size_t nopts;
	/* set/list: type of scalar items, or VL_T_MAP with item_fields */
	vl_ftype item_type;
	vl_field *item_fields; /* list of maps / map: fields of each item */
	size_t nitem_fields;
	char *item_key;        /* list of maps: the field that identifies an item */
	/* constraints (has_* says whether set) */
	int has_min, has_max;
	char *min, *max;       /* int/decimal bounds as text, dates as YYYY-MM-DD */
	long long min_len, max_len; /* string length in characters; -1 = unset */
	char *pattern;         /* POSIX extended regex, anchored by the engine */
	char *ref;             /* ref: name of the ledger referred to */
	/* merge */
	vl_merge_rule rule;    /* parsed `merge:`; decide by this, never by the text */
	char *merge;           /* the `merge:` text as written, for display only;
	                        * NULL when absent (rule VL_RULE_LWW) */
	char *hook;            /* VL_RULE_HOOK: the hook's name (NAME of hook:NAME) */
	char *hook_sha256;     /* hook: pinned sha256 (64 hex) */
	char **order;          /* order: states in order */
	size_t norder;
	char **terminal;       /* order: terminal states */
	size_t nterminal;
};

/*
 * A comparison of a filter (aggregate `where`, `--where`): `=` and `!=` on
 * any scalar, set or list field (for a set or list: contains / does not
 * contain), the orderings on int, decimal, date and datetime fields only.
 */
typedef enum { VL_CMP_EQ = 0, VL_CMP_NE, VL_CMP_LT, VL_CMP_LE, VL_CMP_GT, VL_CMP_GE } vl_cmp;

/* The operator at the start of s ("<=" before "<"): its length (1 or 2)
 * into *len and the comparison into *out; 0 if s starts with none. */
int vl_cmp_parse(const char *s, vl_cmp *out, size_t *len);
/* "=", "!=", "<", ... Static string. */
const char *vl_cmp_name(vl_cmp c);

/* One condition of an aggregate's `where`: the value is text valid for the
 * field (checked when the schema loads). */
typedef struct {
	char *field;
	vl_cmp op;
	char *value;
} vl_agg_cond;

#define VL_AGG_CONDS_MAX 8     /* conditions in one aggregate's `where` */

typedef struct {
	char *name;
	char *label_zh, *label_en;
	char *op;              /* count | sum */
	char *field;           /* sum: the field summed */
	/* The first condition when it is an equality (the original
	 * `where: {field, value}` form), for readers of the old interface;
	 * NULL otherwise. Decide by conds. */
	char *where_field;
	char *where_value;
	vl_agg_cond *conds;    /* every condition of `where`, ANDed */
	size_t nconds;
	/* group_by: an enum or bool field (or a set of enum), not pii: one
	 * figure per declared value, NAME.VALUE; NULL for one figure. */
	char *group_by;
	/* `personal: true`: a count that may filter or group on personal
	 * fields of a category type (enum, bool, date, set of enum), e.g.
	 * workers infected. Such figures name no one by themselves, but small
	 * ones can; publishing suppresses them like every small count. */
	int personal;
} vl_aggregate;

typedef struct {
	char *name;            /* ledger name, [a-z][a-z0-9_]* */
	int version;
	char *label_zh, *label_en;
	vl_field *fields;
	size_t nfields;
	char **identity;       /* natural key fields; may be empty */
	size_t nidentity;
	char *on_delete;       /* edit/delete rule as written, for display: "tombstone_wins"
	                        * (default) or "edit_wins"; decide by edit_wins */
	int edit_wins;         /* parsed on_delete: 1 edit_wins, 0 tombstone_wins */
	vl_aggregate *aggregates;
	size_t naggregates;
	/* `list_columns`: the fields `vledger list` shows, in order (at most
	 * VL_LIST_COLUMNS_MAX top-level scalar fields); n = 0 when the schema
	 * does not say (list then takes the first short fields). */
	char **list_columns;
	size_t nlist_columns;
	/* `language:` (1 when absent): the schema-language version the schema
	 * needs for validity and merging (docs/schemas.md "Schema language
	 * versions"); never above VL_SCHEMA_LANGUAGE in a loaded schema. */
	int language;
	/* What was ignored while loading: one line per display-only `ui_*`
	 * key this binary does not know ("src:line:col: ...\n"), NULL if
	 * none. Owned by the schema. Commands that check or install schemas
	 * print it; loading a node's config keeps quiet. */
	char *warnings;
} vl_schema;
#define VL_LIST_COLUMNS_MAX 8

/*
 * The schema language this binary reads. A schema declares with `language:
 * N` the version its validity and merge rules need; a binary refuses a
 * schema whose N is above this, naming the first key it does not know and
 * N. Keys named `ui_*` only change how records are shown (forms, hints):
 * a binary that does not know one ignores it with a warning, whatever N
 * says. Every other unknown key is an error. Binaries from before this rule
 * (issue 12's first half and older) know neither `language` nor `ui_*` and
 * refuse both; a schema that leaves both out loads everywhere its other
 * keys are known.
 */
#define VL_SCHEMA_LANGUAGE 1
/* The prefix of display-only keys (see VL_SCHEMA_LANGUAGE). */
#define VL_SCHEMA_DISPLAY_PREFIX "ui_"

/*
 * Parse and check a schema file. Every problem found is appended to diag
 * (when not NULL) as one line "src:line:col: what\n"; parsing goes on after
 * an error so that one run reports them all.
 * Errors: VL_EINVALID (see diag), VL_ETOOBIG (caps of vl_yaml_file_limits).
 * out: caller frees with vl_schema_free.
 */
int vl_schema_load(vl_schema **out, const char *buf, size_t len, const char *src,
		vl_buf *diag) VL_MUST_CHECK;
void vl_schema_free(vl_schema *s);

/*
 * The ledger a person named, among list[0..n): by its name (resident), its
 * Chinese label (常住人口) or its English label in any case (Residents).
 * The one lookup behind every SCHEMA/LEDGER argument of the command line
 * (never for names read from records or branches, which are exact).
 * Borrowed; NULL if none or if two ledgers share the label.
 */
const vl_schema *vl_schema_lookup(vl_schema *const *list, size_t n, const char *text);

/* Borrowed field by name, NULL if none. */
const vl_field *vl_schema_field(const vl_schema *s, const char *name);

/*
 * Check record data against the schema: only declared fields, in schema
 * order; required fields present (not for tombstones: deleted != 0); types,
 * enums, sets sorted and unique, bounds, lengths, patterns, domain checks.
 * Every violation is appended to diag as one line naming the field, the rule
 * and, when the data came from a file, "line L col C"; never the value of a
 * pii field. VL_EINVALID if any.
 */
int vl_schema_validate(const vl_schema *s, const vl_value *data, int deleted,
		vl_buf *diag) VL_MUST_CHECK;

/*
 * vl_schema_validate, and the path of the field each line of diag is about
 * ("name", "items[1].qty"; empty for a line about no field) appended to
 * paths, one per line in diag's order (paths needs diag). For a form that
 * shows each problem beside its field, whatever language the lines are in.
 */
int vl_schema_validate_paths(const vl_schema *s, const vl_value *data, int deleted,
		vl_buf *diag, vl_buf *paths) VL_MUST_CHECK;

/*
 * Set one field of data from command-line text (`--set field=text`): parses
 * by type (int, decimal, bool true/false/是/否, date YYYY-MM-DD, datetime
 * RFC 3339 UTC, enum value or its zh/en label, set/list as comma-separated
 * items or a YAML flow sequence, list of maps / map as YAML flow text),
 * normalises (enum labels to values, sets sorted and unique) and inserts the
 * key at its schema position. VL_ENOTFOUND: no such field (message lists the
 * fields); VL_EINVALID: text does not parse for the type. Does not run the
 * full validation; call vl_schema_validate afterwards.
 */
int vl_schema_set_text(const vl_schema *s, vl_value *data, const char *field,
		const char *text) VL_MUST_CHECK;

/*
 * Bring data loaded from a user's file into canonical shape: keys in schema
 * order, enum labels replaced by values, sets sorted and unique, ints given
 * as strings of digits for int fields left as errors for validate. Unknown
 * keys are kept (validate reports them).
 */
int vl_schema_normalize(const vl_schema *s, vl_value *data) VL_MUST_CHECK;

/*
 * Give a new record (add, import; never an edit) the schema's defaults: for
 * every top-level field with a `default:` whose key data lacks, insert a copy
 * at the field's schema position. A key that is present, even as null, is
 * left alone for vl_schema_validate to judge. `today` becomes the current
 * UTC date (YYYY-MM-DD) and `now` the current UTC time to the second
 * (YYYY-MM-DDTHH:MM:SSZ), both read once per call. Call it after
 * vl_schema_set_text / vl_schema_normalize and before vl_schema_validate;
 * it does not validate. Errors: VL_EINVALID (data is not a map, or the
 * clock is beyond year 9999), VL_ENOMEM.
 */
int vl_schema_apply_defaults(const vl_schema *s, vl_value *data) VL_MUST_CHECK;

/* A copy of data with every pii field (recursively) replaced by a mask that
 * keeps its shape ("110***********123X" style for ids/phones, "*" * n for
 * names). Caller frees with vl_value_free. */
int vl_schema_mask(vl_value **out, const vl_schema *s, const vl_value *data) VL_MUST_CHECK;

/* The data a tombstone keeps: data without its pii fields. */
int vl_schema_tombstone_data(vl_value **out, const vl_schema *s, const vl_value *data) VL_MUST_CHECK;

/* Append the natural key ("field=value|field=value") of data to out;
 * VL_ENOTFOUND if the schema has no identity or data lacks one of its fields. */
int vl_schema_identity(vl_buf *out, const vl_schema *s, const vl_value *data) VL_MUST_CHECK;

/* Name of a rule as the schema writes it ("lww", "sum"; "hook" for
 * VL_RULE_HOOK, whose field says which hook). Static string. */
const char *vl_merge_rule_name(vl_merge_rule r);

/* 1 if s is a valid hook name, [a-z0-9][a-z0-9_-]{0,63}: a plain file name
 * in <home>/hooks, never a path. The one copy of this check (schema load and
 * the hook runner both call it). */
int vl_hook_name_valid(const char *s);

/* Type name ("cn_id") for messages and `schema show`. */
const char *vl_ftype_name(vl_ftype t);
/* Label of an enum value in Chinese, or NULL. Borrowed. */
const char *vl_field_enum_label(const vl_field *f, const char *value);

#endif
