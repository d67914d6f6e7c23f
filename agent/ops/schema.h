/*
 * schema.h - operations on ledger schemas (ops.h conventions): list and show
 * the schemas a node uses (or, without a node, the shipped ones), and check
 * schema files before they are proposed for the config branch.
 */
#ifndef VL_OPS_SCHEMA_H
#define VL_OPS_SCHEMA_H

#include "agent/node/node.h"
#include "agent/ops/ops.h"

/* Which schemas: the node's config when n is given and has one, else the
 * *.yaml files of schema_dir (the shipped ones). */
typedef struct {
	const char *schema_dir;      /* required when n is NULL or has no config */
	const char *name;            /* vl_schema_show: the ledger */
	vl_progress progress;
} vl_schema_opts;
#define VL_SCHEMA_OPTS_INIT { NULL, NULL, { NULL, NULL } }

typedef struct {
	vl_schema **list;            /* in name order; borrowed from the node, or
	                              * owned (from_dir) */
	size_t n;
	int from_dir;                /* 1: loaded from schema_dir, owned here */
	const vl_schema *schema;     /* vl_schema_show: the one asked for */
} vl_schema_result;

void vl_schema_result_free(vl_schema_result *r);

/* Every schema. n may be NULL. */
int vl_schema_list(vl_node *n, const vl_schema_opts *opts, vl_schema_result *out) VL_MUST_CHECK;
/* The schema of ledger opts->name (VL_ENOTFOUND if none); list is filled too. */
int vl_schema_show(vl_node *n, const vl_schema_opts *opts, vl_schema_result *out) VL_MUST_CHECK;

typedef struct {
	const char *const *files;    /* schema files to check */
	size_t nfiles;
	vl_progress progress;
} vl_schema_check_opts;
#define VL_SCHEMA_CHECK_OPTS_INIT { NULL, 0, { NULL, NULL } }

typedef struct {
	const char *file;            /* borrowed from opts */
	vl_schema *schema;           /* owned; NULL when the file is refused */
	char *diag;                  /* refused: what is wrong, one problem a line
	                              * (newline-terminated); owned */
} vl_schema_check_item;

typedef struct {
	vl_schema_check_item *items; /* one per file, in order */
	size_t n;
	size_t bad;                  /* files refused */
} vl_schema_check_result;

void vl_schema_check_result_free(vl_schema_check_result *r);

/* Load each file as a schema; a refused file is counted in out->bad
 * (returns 0 then: <0 only when the check could not run). n may be NULL. */
int vl_schema_check(vl_node *n, const vl_schema_check_opts *opts, vl_schema_check_result *out) VL_MUST_CHECK;

/*
 * schema install: the network admin installs or upgrades ledger schemas on
 * the config branch in one signed commit ("Vledger-Config: schemas"), which
 * every node receives with config. All or nothing: any refusal commits
 * nothing. Refused:
 *   - a file that does not load (every problem in the message), two files
 *     of one ledger, a ref field naming a ledger the network would not have;
 *   - a version lower than the network's, or the same version with other
 *     bytes (a version names one content network-wide);
 *   - a change of how an existing field merges (rule, hook and its pin,
 *     type, the list's item key, on_delete; an `order` must keep its states
 *     in their order and which of them are terminal), since verify replays
 *     every past merge with the schemas of the config head;
 *   - a schema under which a record version this node holds, on any scope
 *     branch and in any commit, would fail validation (verify checks every
 *     version against the head's schemas).
 * The signer must be an unrevoked admin whose scope is the county (the
 * config rule, roster.h). A file identical to the installed one is left
 * alone; nothing to install is success with no commit.
 */
typedef struct {
	const char *const *files;    /* schema files, or */
	size_t nfiles;
	const char *dir;             /* every *.yaml of this directory (--shipped) */
	vl_progress progress;
} vl_schema_install_opts;
#define VL_SCHEMA_INSTALL_OPTS_INIT { NULL, 0, NULL, { NULL, NULL } }

typedef struct {
	char *name;                  /* ledger */
	int old_version;             /* 0: new to the network */
	int new_version;
	int changed;                 /* 0: the same bytes are installed already */
} vl_schema_install_item;

typedef struct {
	vl_schema_install_item *items; /* one per schema given, in name order */
	size_t n;
	size_t installed;            /* items with changed = 1 */
	size_t records_checked;      /* record versions validated under the new schemas */
	int committed;
	git_oid commit;              /* when committed */
	char *warnings;              /* ignored display-only keys (schema.h), or NULL */
} vl_schema_install_result;

void vl_schema_install_result_free(vl_schema_install_result *r);

/* Needs a node opened with its key. Errors: VL_EINVALID (a file, a version
 * or a change refused: the message says which and what to do), VL_EDENIED
 * (not a county admin), VL_ENOTFOUND (no config, no file). */
int vl_schema_install(vl_node *n, const vl_schema_install_opts *opts,
		vl_schema_install_result *out) VL_MUST_CHECK;

#endif
