/*
 * reports.h - the upward-report tracker (ops.h conventions): for each
 * report_call the node holds, every unit called on and whether it
 * reported, reported late, is missing, or still has time.
 *
 * A call (schemas/report_call.yaml) lives on its issuer's branch (a
 * township or the county); the answers are `report` records on each unit's
 * branch whose `call` field names the call's id. A unit has answered with
 * its earliest report (not deleted, status past draft) naming the call; it
 * is on time when that report's submitted_at (or, without one, the time of
 * its first signed version's clock) falls on or before the deadline in
 * China Standard Time (UTC+8). Without an answer a unit is missing once the
 * deadline has passed (as of opts->today), else open.
 * Which units: the call's `units`, plus with `all_villages_of` T every
 * village below T in the division table (vl_divisions_load: opts->divisions,
 * $VLEDGER_DIVISIONS, <home>/divisions.csv, the built-in table), so a
 * village without a node is listed missing, and every other village below T
 * the node knows (roster entries with a village scope, village branches
 * held). A unit's name is its roster name, else the table's.
 * Values in the result are in clear; the renderers mask the contact
 * unless told to reveal (ops.h, "Personal data").
 */
#ifndef VL_OPS_REPORTS_H
#define VL_OPS_REPORTS_H

#include "agent/node/node.h"
#include "agent/ops/ops.h"
#include "store/buf.h"
#include "store/limits.h"

typedef struct {
	const char *call;     /* one call's id; NULL: every call held */
	const char *due;      /* YYYY-MM-DD: only calls due on or before it; NULL: all */
	const char *scope;    /* NULL: the node's own. Calls issued in it, below or
	                       * above it; units called on below it (or it) */
	const char *today;    /* YYYY-MM-DD the states are judged on; NULL: today (UTC+8) */
	vl_progress progress;
	const char *divisions; /* division table file; NULL: vl_divisions_load's default */
} vl_reports_opts;
#define VL_REPORTS_OPTS_INIT { NULL, NULL, NULL, NULL, { NULL, NULL }, NULL }

typedef enum {
	VL_REPORT_REPORTED = 0,  /* answered on or before the deadline */
	VL_REPORT_LATE,          /* answered after it */
	VL_REPORT_MISSING,       /* no answer, deadline passed */
	VL_REPORT_OPEN           /* no answer yet, deadline not passed */
} vl_report_state;

typedef struct {
	char code[13];
	char *name;              /* a roster name of the unit's node, else the
	                          * division table's, or NULL; owned */
	vl_report_state state;
	int held;                /* 0: the node holds no branch of the unit, so
	                          * missing may only mean "not received yet" */
	char report[VL_ULID_LEN + 1];  /* the answer's id, "" when none */
	char *submitted;         /* when it was submitted (RFC 3339 UTC), or NULL; owned */
	vl_value *contact_name;  /* the answer's contact, in clear, or NULL; owned */
	vl_value *contact_phone;
} vl_report_unit;

typedef struct {
	char id[VL_ULID_LEN + 1];
	char issuer[13];         /* the call's scope */
	char *title;             /* owned */
	char *kind;              /* enum value, owned */
	char deadline[11];
	vl_report_unit *units;   /* by code */
	size_t nunits;
	size_t counts[4];        /* units per vl_report_state */
} vl_report_call;

typedef struct {
	char scope[13];
	char today[11];
	const vl_schema *call_schema;    /* borrowed from the node */
	const vl_schema *report_schema;
	vl_report_call *calls;           /* by deadline, then id */
	size_t ncalls;
} vl_reports_result;

void vl_reports_result_free(vl_reports_result *r);

/* Errors: VL_EINVALID (bad option), VL_ENOTFOUND (opts->call names no call
 * the node holds; or the ledgers are not in the node's config). */
int vl_reports(vl_node *n, const vl_reports_opts *opts, vl_reports_result *out) VL_MUST_CHECK;

/* State names: "reported" ... (English, for JSON) and 已报送 ... (Chinese). */
const char *vl_report_state_name(vl_report_state s);
const char *vl_report_state_zh(vl_report_state s);

/*
 * Renderers, for the command and for any page that embeds the tracker:
 * append r as text (a table per call), JSON ({"scope","today","calls":[...]},
 * a stable interface: docs/formats.md §9) or one self-contained HTML page
 * (inline CSS, Chinese, every text escaped; vl_reports_html_section is the
 * same without <html>/<head>, for the overview page). reveal 0 masks the
 * contacts (vl_schema_mask).
 */
int vl_reports_text(vl_buf *out, const vl_reports_result *r, int reveal) VL_MUST_CHECK;
int vl_reports_json(vl_buf *out, const vl_reports_result *r, int reveal) VL_MUST_CHECK;
int vl_reports_html(vl_buf *out, const vl_reports_result *r, int reveal) VL_MUST_CHECK;
int vl_reports_html_section(vl_buf *out, const vl_reports_result *r, int reveal) VL_MUST_CHECK;

#endif
