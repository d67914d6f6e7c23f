/*
 * record.h - operations on records (ops.h conventions): add, import, edit,
 * rm (each one signed commit, or one per batch for import), show and list.
 *
 * Writes need the node's secret key and a roster entry that may write the
 * record's scope (vl_ledger_may_write); bad input writes nothing, and the
 * error says every schema rule broken (never a personal value).
 * Values are returned in clear; the caller masks personal fields for
 * display unless the user asked to see them (ops.h, "Personal data").
 */
#ifndef VL_OPS_RECORD_H
#define VL_OPS_RECORD_H

#include "agent/node/ledger.h"
#include "store/limits.h"
#include "agent/node/node.h"
#include "agent/ops/ops.h"

/* ---- problems of one submission, by field --------------------------------- */

/*
 * One problem with the values given to add or edit, for a form that shows
 * it beside its field. vl_add and vl_edit check everything they can before
 * they give up (every value that does not parse, every schema rule, the ID
 * number's agreement, every reference), so one submission shows all its
 * problems; the error message they return stays the first one, as before.
 */
typedef struct {
	char *field;     /* the field's path as validation names it ("name",
	                  * "items[1].qty"); "" for a problem of the record as a
	                  * whole; owned */
	char *message;   /* the message the command line would print for it
	                  * (never a personal value); owned */
} vl_field_error;

typedef struct {
	vl_field_error *v;
	size_t n;
} vl_field_errors;

void vl_field_errors_free(vl_field_errors *e);

/* The first message about top-level field `name` or a part of it
 * ("items[1].qty" is about "items"), or NULL. Borrowed from e. */
const char *vl_field_errors_find(const vl_field_errors *e, const char *name);

/* ---- add ----------------------------------------------------------------- */

typedef struct {
	const char *ledger;          /* schema name */
	const char *scope;           /* NULL: the node's own */
	const char *const *sets;     /* "FIELD=VALUE" texts (schema.h set_text) ... */
	size_t nsets;
	const char *file;            /* ... or a YAML file holding the data mapping */
	vl_progress progress;
} vl_add_opts;
#define VL_ADD_OPTS_INIT { NULL, NULL, NULL, 0, NULL, { NULL, NULL } }

typedef struct {
	char id[VL_ULID_LEN + 1];    /* the new record's id */
	char scope[13];
	git_oid commit;
	/* A live record of the same ledger and scope with the same identity
	 * key (docs/schemas.md "Identity"): a likely duplicate, written anyway
	 * (only a person can tell) and named here for a warning; "" if none. */
	char duplicate_of[VL_ULID_LEN + 1];
	const vl_schema *schema;     /* the record's ledger, borrowed from the node */
	const vl_value *data;        /* the data saved; owned by the result */
	/* After a VL_EINVALID about the values: every problem found, by field
	 * (also when the first was not a field's); empty otherwise. */
	vl_field_errors errors;
} vl_add_result;

void vl_add_result_free(vl_add_result *r);

/* A new record from sets or file (exactly one of them), the schema's
 * defaults filling the fields left out, validated, signed and committed.
 * Besides the schema's rules (add and edit both): a `ref` field must name
 * a live record of its ledger that this node holds (what the writer may
 * read); a resident ID number must agree with the record's birth_date and
 * gender fields when the schema has them. */
int vl_add(vl_node *n, const vl_add_opts *opts, vl_add_result *out) VL_MUST_CHECK;

/* ---- import -------------------------------------------------------------- */

/* Caps for an import file: store/limits.h. */
#define VL_IMPORT_BATCH_DEFAULT 500

typedef struct {
	const char *ledger;
	const char *scope;           /* NULL: the node's own */
	const char *file;            /* YAML: {records: [data mapping, ...]}, or CSV
	                              * (a header row of field names or labels, one
	                              * record per row; agent/ops/csv.h): CSV when the
	                              * name ends in .csv or the file starts with a
	                              * UTF-8 byte-order mark */
	size_t batch;                /* records per commit, 1..VL_IMPORT_BATCH_MAX; 0 = default */
	vl_progress progress;        /* stage "import": records committed of total */
} vl_import_opts;
#define VL_IMPORT_OPTS_INIT { NULL, NULL, NULL, 0, { NULL, NULL } }

/* A record of an import file that is likely a duplicate: the same identity
 * fields (schema `identity`) as a live record of the scope, or as an
 * earlier record of the same file. */
typedef struct {
	size_t record;               /* its number in the file, from 1 */
	int line;                    /* its line there (CSV: its row's line) */
	char duplicate_of[VL_ULID_LEN + 1]; /* the existing record's id, or "" */
	size_t same_as;              /* else the earlier record's number in the file */
} vl_import_dup;

typedef struct {
	char scope[13];
	size_t records;              /* records in the file */
	size_t committed;            /* of them committed (all on success; after a
	                              * failure, those of the batches before it) */
	vl_buf bad_rows;             /* CSV refused for bad rows: every problem, one
	                              * line each (row, column, cell, rule; never a
	                              * value), the error message counting them */
	vl_import_dup *dups;         /* likely duplicates, warned as add warns
	                              * (imported all the same), in file order */
	size_t ndups;
} vl_import_result;

void vl_import_result_free(vl_import_result *r);

/* Every record of the file checked before any is written; then committed
 * in batches of opts->batch. */
int vl_import(vl_node *n, const vl_import_opts *opts, vl_import_result *out) VL_MUST_CHECK;

/* ---- edit ---------------------------------------------------------------- */

typedef struct {
	const char *id;
	const char *const *sets;     /* "FIELD=VALUE"; setting a field a merge left
	                              * for a person settles it with that value */
	size_t nsets;
	const char *const *unsets;   /* field names to remove */
	size_t nunsets;
	vl_progress progress;
	/* Set and list fields edited by element (after sets and unsets):
	 * "FIELD=VALUE" adds VALUE's elements (a set ignores one it holds; a
	 * list of maps refuses an item whose key it holds) or removes them (a
	 * list of maps: VALUE is the item's key, e.g. items=大米; an element
	 * not there is an error). */
	const char *const *adds;
	size_t nadds;
	const char *const *removes;
	size_t nremoves;
	/* 0: a --set of a set or list field that would drop elements the
	 * record holds is refused (VL_EINVALID); 1: the whole value replaced. */
	int replace;
	/* A field with an `order` rule moved back (to an earlier state, or out
	 * of a terminal one) is refused unless allow_backwards and a reason
	 * (kept in a Vledger-Reason trailer, one line of at most 400 bytes). */
	int allow_backwards;
	const char *reason;
} vl_edit_opts;
#define VL_EDIT_OPTS_INIT { NULL, NULL, 0, NULL, 0, { NULL, NULL }, NULL, 0, NULL, 0, 0, 0, NULL }

typedef struct {
	char id[VL_ULID_LEN + 1];
	int changed;                 /* 0: the edit changed nothing, nothing written */
	git_oid commit;
	const vl_schema *schema;     /* the record's ledger, borrowed from the node */
	vl_value *data;              /* the data as saved (or as it stands); owned */
	char **fields;               /* names of the top-level fields whose value
	                              * changed, in schema order; owned */
	size_t nfields;
	/* After a VL_EINVALID about the values: every problem found, by field;
	 * empty otherwise. The only member kept after a failure. */
	vl_field_errors errors;
} vl_edit_result;

void vl_edit_result_free(vl_edit_result *r);

int vl_edit(vl_node *n, const vl_edit_opts *opts, vl_edit_result *out) VL_MUST_CHECK;

/* ---- rm ------------------------------------------------------------------ */

typedef struct {
	const char *id;
	const char *reason;          /* required; one line of at most 400 bytes kept */
	vl_progress progress;
} vl_rm_opts;
#define VL_RM_OPTS_INIT { NULL, NULL, { NULL, NULL } }

typedef struct {
	char id[VL_ULID_LEN + 1];
	git_oid commit;
} vl_rm_result;

void vl_rm_result_free(vl_rm_result *r);

/* A tombstone version (non-personal data kept, open conflicts settled),
 * the reason in a Vledger-Reason trailer. */
int vl_rm(vl_node *n, const vl_rm_opts *opts, vl_rm_result *out) VL_MUST_CHECK;

/* ---- show ---------------------------------------------------------------- */

typedef struct {
	const char *id;
	vl_progress progress;
} vl_show_opts;
#define VL_SHOW_OPTS_INIT { NULL, { NULL, NULL } }

typedef struct {
	vl_found found;                  /* the record, its blob, branch and schema */
	char *signer_name;               /* its author's roster name (owned),
	                                  * NULL for a merge or a key not on
	                                  * the roster */
} vl_show_result;

void vl_show_result_free(vl_show_result *r);

int vl_show(vl_node *n, const vl_show_opts *opts, vl_show_result *out) VL_MUST_CHECK;

/* ---- list ---------------------------------------------------------------- */

typedef struct {
	const char *ledger;
	const char *scope;           /* NULL: the node's own */
	const char *const *where;    /* FIELD OP VALUE expressions, ANDed (query.h:
	                              * = != < <= > >=; for a set or list, = is
	                              * contains); enum labels accepted */
	size_t nwhere;
	int deleted;                 /* include tombstones */
	vl_progress progress;
	int no_children;             /* 1: only scope's own branch, not the units below */
	int ref_labels;              /* 1: fill each item's ref_labels */
} vl_list_opts;
#define VL_LIST_OPTS_INIT { NULL, NULL, NULL, 0, 0, { NULL, NULL }, 0, 0 }

typedef struct {
	vl_record *rec;                  /* owned */
	const vl_roster_entry *signer;   /* borrowed from the node, or NULL */
	/* With opts->ref_labels: a MAP from each top-level `ref` field whose
	 * record this node holds to that record's label (vl_record_label), or
	 * NULL when there is none; owned. */
	vl_value *ref_labels;
} vl_list_item;

typedef struct {
	const vl_schema *schema;     /* borrowed from the node */
	char scope[13];
	int have_branch;             /* 0: the node holds no branch of scope (nor,
	                              * unless no_children, of a unit below it) */
	vl_list_item *items;         /* by scope code, then in path order */
	size_t n;
} vl_list_result;

void vl_list_result_free(vl_list_result *r);

int vl_list(vl_node *n, const vl_list_opts *opts, vl_list_result *out) VL_MUST_CHECK;

/*
 * The text a record is known by where a `ref` names it: the value of the
 * first field of its ledger's `list_columns`, else of its fields, that is a
 * non-personal string (so never masked data). VL_ENOTFOUND when the record
 * has no such value. Borrowed from r.
 */
int vl_record_label(const char **out, const vl_schema *s, const vl_record *r) VL_MUST_CHECK;

#endif
