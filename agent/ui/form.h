/*
 * form.h - a ledger's entry form for the web UI, generated from its schema,
 * and the parser of a submitted form into the assignments add and edit take.
 *
 * Rendering appends the inside of a <form> (the page adds the <form> tag,
 * the CSRF field and the layout): per field a label (Chinese, or English
 * when vl_i18n_lang() is "en"), a control by type (enum: a drop-down of its
 * labels; set of enum: check boxes; list: rows with "add row" / "remove
 * row" submit buttons that work without JavaScript; date: a date picker;
 * datetime: a local date-time picker in the network's time zone; ref: a
 * drop-down of the referenced ledger's records by label, or a text box with
 * a datalist when there are many), personal fields marked, and each field's
 * problems (record.h vl_field_errors) beside it. Every text is escaped.
 *
 * Names of the controls (the contract between render and assign):
 *   v.FIELD            a scalar field, or one check box per set element
 *   v.FIELD.K          row K (from 0) of a list or set of scalars
 *   v.FIELD.K.SUB      field SUB of row K of a list of maps
 *   v.FIELD.SUB        field SUB of a map field
 *   rows.FIELD         how many rows a list field shows
 *   clear.FIELD        edit: remove a personal field (its box is left
 *                      empty, which means "keep")
 *   op                 "save", "add:FIELD" (one more row), "del:FIELD:K"
 *
 * Assignment turns a submission into "FIELD=VALUE" texts with the meaning
 * of the command line's --set / --unset / --add / --remove (record.h), so a
 * form goes through exactly the checks `vledger add/edit` runs and nothing
 * is dropped silently: an edit sets only fields whose value changed, adds
 * and removes set elements one by one, and replaces a list only when the
 * person changed its rows (the form shows every row).
 *
 * Submissions are decoded by the server (ui.h vl_ui_form_parse, with its
 * caps); these are pure functions on memory, as thread-safe as _() is.
 */
#ifndef VL_UI_FORM_H
#define VL_UI_FORM_H

#include <stddef.h>

#include "agent/ops/record.h"
#include "agent/ui/ui.h"
#include "schemas/schema.h"
#include "store/buf.h"

#define VL_FORM_MAX_ROWS 200                   /* rows of one list field */
#define VL_FORM_SELECT_MAX 300                 /* ref choices shown as a drop-down;
                                                * more: a text box with a datalist */

/* What the submission asks (its `op`). */
typedef enum {
	VL_FORM_SAVE = 0,      /* save (also: no op given) */
	VL_FORM_ROWS           /* a row was added or removed: show the form again */
} vl_form_action;

/*
 * Apply an "add row" / "remove row" op to the submission (renumbering the
 * rows after a removed one) and say whether the person asked to save.
 * VL_EINVALID for an op that names no list field of s or a row out of range.
 */
int vl_form_rows_op(vl_form_action *out, vl_ui_form *f, const vl_schema *s) VL_MUST_CHECK;

/* The records a ref field may name: id and label (vl_record_label, else the id). */
typedef struct {
	const char *id;
	const char *label;
} vl_form_choice;

typedef struct {
	const char *ledger;          /* the ledger the ref names (vl_field.ref) */
	const vl_form_choice *v;
	size_t n;
} vl_form_choices;

typedef struct {
	const vl_schema *schema;
	/* The values shown: the record (edit) or NULL (add: the schema's
	 * defaults, except `today`/`now` left for the operation). */
	const vl_value *data;
	/* A submission shown again (after a problem, or a row op): its texts
	 * win over data, as typed. */
	const vl_ui_form *submitted;
	const vl_field_errors *errors;  /* shown beside their fields; NULL: none */
	const vl_form_choices *refs;    /* per referenced ledger; NULL: ids typed */
	size_t nrefs;
	int edit;                    /* personal fields are not shown: empty keeps them */
	int tz_min;                  /* the network's zone for datetimes (node.h) */
} vl_form_opts;

/* Append the controls of the form (no <form> tag, no CSRF field). */
int vl_form_render(vl_buf *out, const vl_form_opts *o) VL_MUST_CHECK;

/* The assignments of a submission. Every string owned. */
typedef struct {
	char **sets;
	size_t nsets;
	char **unsets;
	size_t nunsets;
	char **adds;
	size_t nadds;
	char **removes;
	size_t nremoves;
	int replace;                 /* a list field's rows were changed: its --set replaces */
} vl_form_assign;

void vl_form_assign_free(vl_form_assign *a);

/*
 * The assignments a submission makes for s: an add (current NULL) sets
 * every field given; an edit sets what differs from current, unsets what was
 * cleared (a personal field only through clear.FIELD), adds and removes set
 * elements, and sets a list whose rows changed (with replace). A text that
 * does not parse is passed on as given, so vl_add / vl_edit report it
 * beside its field. A datetime without an offset is taken in tz_min.
 * Names of no field of s are ignored (op, csrf, ...). VL_ETOOBIG past
 * VL_FORM_MAX_ROWS, VL_ENOMEM. out: caller frees with vl_form_assign_free.
 */
int vl_form_assignments(vl_form_assign *out, const vl_schema *s, const vl_ui_form *f,
		const vl_value *current, int tz_min) VL_MUST_CHECK;

/* An edit's options pointing into a (borrowed: keep a alive meanwhile). */
void vl_form_edit_opts(vl_edit_opts *o, const vl_form_assign *a);

#endif
