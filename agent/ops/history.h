/*
 * history.h - operations that read history back (ops.h conventions): log
 * (commits of a branch, optionally of one record), history and blame (a
 * record's versions, audit/audit.h), and the data of an audit report
 * (verification plus the versions of a period). Rendering a report as HTML
 * or JSON is the caller's (agent/cmd/cmd_audit.c).
 *
 * Values are returned in clear; the caller masks personal fields for
 * display unless the user asked to see them (ops.h, "Personal data").
 */
#ifndef VL_OPS_HISTORY_H
#define VL_OPS_HISTORY_H

#include "agent/audit/audit.h"
#include "agent/audit/verify.h"
#include "agent/node/node.h"
#include "agent/ops/ops.h"

/* ---- log ----------------------------------------------------------------- */

typedef struct {
	const char *scope;     /* the branch of this scope (NULL: the node's own) */
	const char *record;    /* only commits that touch this record; without
	                        * scope or config, on the record's own branch */
	int config;            /* the config branch instead */
	vl_progress progress;
} vl_log_opts;
#define VL_LOG_OPTS_INIT { NULL, NULL, 0, { NULL, NULL } }

typedef struct {
	git_oid commit;
	long long time;                  /* author time, seconds since the epoch */
	char *author;                    /* author name; owned */
	char *email;                     /* owned */
	char *message;                   /* whole message; owned */
	char *summary;                   /* first line; owned */
	char *operator_name;             /* Vledger-Operator trailer (vl_message_operator),
	                                  * or NULL; owned */
	const vl_roster_entry *signer;   /* the key the email names (borrowed
	                                  * from the node), or NULL */
} vl_log_entry;

typedef struct {
	char ref[64];                    /* the branch walked */
	vl_log_entry *items;             /* newest first (topological, then time) */
	size_t n;
} vl_log_result;

void vl_log_result_free(vl_log_result *r);

int vl_log(vl_node *n, const vl_log_opts *opts, vl_log_result *out) VL_MUST_CHECK;

/* ---- history, blame -------------------------------------------------------- */

typedef struct {
	const char *id;        /* record id */
	vl_progress progress;
	const char *field;     /* vl_history: only versions that changed this
	                        * field, named by id or by its Chinese or English
	                        * label; NULL: all */
} vl_history_opts;
#define VL_HISTORY_OPTS_INIT { NULL, { NULL, NULL }, NULL }

typedef struct {
	vl_audit_history h;    /* every version, oldest first (audit.h) */
	size_t *who;           /* vl_blame only: per field of the current data,
	                        * the index in h.v of the version that set it */
	/* With opts->field: the field (borrowed from the schema) and, per
	 * version of h, 1 if it changed the field (added, set, removed; a merge
	 * that decided it), else 0; owned. NULL without opts->field. */
	const vl_field *field;
	unsigned char *changed;
	size_t nchanged;       /* how many versions changed it */
} vl_history_result;

void vl_history_result_free(vl_history_result *r);

/* Every version of the record, each described (vl_audit_history_load). */
int vl_history(vl_node *n, const vl_history_opts *opts, vl_history_result *out) VL_MUST_CHECK;
/* vl_history plus, per field, the version that set its value now (vl_audit_blame). */
int vl_blame(vl_node *n, const vl_history_opts *opts, vl_history_result *out) VL_MUST_CHECK;

/* ---- audit export ------------------------------------------------------------ */

typedef struct {
	const char *scope;     /* the scope branches it covers (NULL: all) */
	const char *from, *to; /* clock dates YYYY-MM-DD (UTC), inclusive; NULL: open */
	vl_progress progress;
} vl_audit_export_opts;
#define VL_AUDIT_EXPORT_OPTS_INIT { NULL, NULL, NULL, { NULL, NULL } }

typedef struct {
	vl_verify_result verify;     /* the whole repository verified */
	vl_audit_version *v;         /* versions of the period (vl_audit_collect) */
	size_t nv;
	long long generated;         /* when the data was gathered, seconds since the epoch */
} vl_audit_export_result;

void vl_audit_export_result_free(vl_audit_export_result *r);

/* The data of an audit report. VL_EINVALID for a bad scope or date, or
 * from after to. Verification failures are in out->verify (returns 0). */
int vl_audit_export(vl_node *n, const vl_audit_export_opts *opts, vl_audit_export_result *out) VL_MUST_CHECK;

#endif
