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

#endif
