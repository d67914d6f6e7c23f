/*
 * aggregate.h - the aggregate operation (ops.h conventions): the schemas'
 * aggregate declarations evaluated over every scope branch the node holds,
 * live records only, rolled up village -> township -> county along the
 * division codes, each unit named from the division table (divisions.h).
 *
 * Figures are exact: counts, and sums of int/decimal fields kept as 64-bit
 * integers scaled by VL_AGG_SCALE (a decimal with more than 6 fraction
 * digits cannot be summed and is an error naming the field and record path).
 * A figure's key is LEDGER.AGGREGATE, or LEDGER.AGGREGATE.VALUE for each
 * declared value of a `group_by` aggregate (docs/formats.md, "Aggregates").
 *
 * Incremental: figures of each ledger subtree and bucket subtree of a branch
 * are cached in <home>/cache/aggregate.v1, keyed by (tree id, digest of the
 * ledger's name, schema version, aggregate declarations and the --where
 * expressions). A run reads only subtrees whose ids it has not seen; equal
 * ids are skipped without reading, so after a sync only the changed buckets
 * are parsed. The cache is derived data: deleted, unreadable, over its caps
 * or failing its per-line checksum, it is ignored and rebuilt; it is
 * rewritten (atomically) after each run: a run over the node's whole scope
 * and every ledger keeps only the entries it used (pruning old trees), a
 * narrower run keeps the others too.
 *
 * Freshness: a unit with a branch carries its head and `as_of`, the later of
 * the head commit's committer time (when the data last changed at its
 * source) and the newest reflog entry of the branch on this node (when it
 * last moved here: a local commit or a receive). It is stale when as_of is
 * older than stale_after. A village in the division table with no branch at
 * the node is `never_synced`: it has no figures (not zeros), and every unit
 * above counts it.
 */
#ifndef VL_OPS_AGGREGATE_H
#define VL_OPS_AGGREGATE_H

#include "agent/node/divisions.h"
#include "agent/node/node.h"
#include "agent/ops/ops.h"

#define VL_AGG_SCALE 1000000LL                     /* figures are value * VL_AGG_SCALE */
#define VL_AGG_STALE_DEFAULT (7LL * 24 * 3600)      /* seconds */
#define VL_AGG_CACHE_MAX_BYTES (64u << 20)
#define VL_AGG_CACHE_MAX_FIGURES 4096              /* figures of one ledger */

/* A branch head to read instead of the branch's current one. */
typedef struct {
	char code[13];
	git_oid head;
} vl_agg_head;

typedef struct {
	const char *scope;           /* unit to aggregate under; NULL: the node's own */
	const char *by;              /* "village", "township", "county": only units of that
	                              * level in the result; NULL: every level */
	const char *ledger;          /* NULL: every ledger with aggregates */
	const char *const *where;    /* query.h expressions, ANDed; need ledger */
	size_t nwhere;
	const char *divisions;       /* division table (divisions.h); NULL: default */
	long long stale_after;       /* seconds; 0: VL_AGG_STALE_DEFAULT */
	long long now;               /* unix seconds; 0: the clock */
	int no_cache;                /* 1: neither read nor write the cache */
	vl_progress progress;        /* stage "aggregate": branches done of total */
	/* Not NULL: read exactly these branches at these heads (a published
	 * report's citations), as if the node held no other branch. */
	const vl_agg_head *at;
	size_t nat;
	/* 1: the scope's figures are the sum of the newest aggregate_report
	 * published by each unit one level below it (and held here), not of
	 * any record: units are the scope and those units; a unit with no
	 * report is never_synced; villages_below counts the units below */
	int from_published;
} vl_aggregate_opts;
#define VL_AGGREGATE_OPTS_INIT { NULL, NULL, NULL, NULL, 0, NULL, 0, 0, 0, { NULL, NULL }, NULL, 0, 0 }

/* One figure (a column). */
typedef struct {
	char *key;                   /* LEDGER.AGGREGATE[.VALUE], owned */
	const vl_schema *schema;     /* borrowed from the node */
	const vl_aggregate *agg;     /* borrowed from the schema */
	const char *group_value;     /* group_by value (borrowed), or NULL */
	int is_sum;                  /* 0 count, 1 sum */
} vl_agg_figure;

/* One unit (a row). */
typedef struct {
	char code[13];
	char parent[13];
	const char *name;            /* borrowed from the result's table; NULL: not in it */
	vl_div_level level;
	int have_branch;             /* the node holds this unit's own branch */
	git_oid head;                /* its head, when have_branch */
	long long as_of;             /* unix seconds, when have_branch */
	int stale;                   /* have_branch and as_of older than stale_after */
	int never_synced;            /* a village with no branch at the node, or a unit
	                              * above with no branch and only such villages;
	                              * its vals are zeros that mean "unknown" */
	size_t villages_below;       /* villages of the table (or with branches) below */
	size_t stale_below;          /* of them (and other units below) stale */
	size_t never_synced_below;
	long long *vals;             /* nfigs totals (own + everything below), scaled */
	/* from_published only (else NULL): per figure, VL_AGG_LT3 / VL_AGG_HIDDEN
	 * as the unit's report published it, or VL_AGG_LOWER_BOUND for a total
	 * that left out such parts (vals then holds the sum of the exact ones) */
	unsigned char *supp;
} vl_agg_unit;

enum { VL_AGG_EXACT = 0, VL_AGG_LT3, VL_AGG_HIDDEN, VL_AGG_LOWER_BOUND };

typedef struct {
	char scope[13];
	int have_divisions;          /* a division table was loaded */
	vl_divisions divisions;
	vl_agg_figure *figs;
	size_t nfigs;
	vl_agg_unit *units;          /* by code (so each unit precedes the units below it) */
	size_t nunits;
	long long now, stale_after;
	/* what the run read, for the bench and tests */
	size_t branches, records_read, subtrees_read, subtrees_cached;
	int cache_rejected;          /* the cache file was there but not trusted */
} vl_aggregate_result;

void vl_aggregate_result_free(vl_aggregate_result *r);

/*
 * Aggregate. VL_EINVALID: scope not a division code (or a code the table
 * does not know while the node holds nothing under it), an unknown ledger,
 * a bad --where (query.h), --where without a ledger, a bad `by`.
 * Never writes the repository; writes only <home>/cache/.
 */
int vl_aggregate_run(vl_node *n, const vl_aggregate_opts *opts, vl_aggregate_result *out) VL_MUST_CHECK;

/* ---- published aggregates (docs/formats.md §9.4) ------------------------- */

/*
 * The suppression rule of published figures, `lt3_v1`: in a unit below the
 * county (a township or village) a count of 1 or 2 is published as "<3",
 * and a sum as "hidden" when its aggregate has a `where` (its support is
 * unknown) or when the ledger's record count (its first aggregate counting
 * every record) is 1 or 2 or not declared. County figures and above are
 * exact. Zeros are exact everywhere.
 */
#define VL_AGG_RULE "lt3_v1"

/* Append figure k of unit u of r as published: "KEY=VALUE" under lt3_v1. */
int vl_agg_published_figure(vl_buf *out, const vl_aggregate_result *r, const vl_agg_unit *u, size_t k) VL_MUST_CHECK;

typedef struct {
	vl_aggregate_result agg;     /* the figures computed (every unit) */
	char id[27];                 /* the aggregate_report record written */
	char unit[13];
	git_oid commit;
	size_t nheads;
} vl_agg_publish_result;

void vl_agg_publish_result_free(vl_agg_publish_result *r);

/*
 * Compute the node's own unit's figures (every ledger, current heads) and
 * write them, suppressed, as a signed `aggregate_report` record in the
 * node's scope, citing every branch head read. opts: only divisions,
 * stale_after, now, no_cache and progress apply. VL_ENOTFOUND when the
 * network's schemas lack aggregate_report; VL_EDENIED when the node may not
 * write its scope; VL_EINVALID for options that do not apply.
 */
int vl_aggregate_publish(vl_node *n, const vl_aggregate_opts *opts, vl_agg_publish_result *out) VL_MUST_CHECK;

typedef struct {
	char unit[13];
	size_t nheads;               /* heads the record cites */
	size_t nfigs;                /* figures it publishes */
	size_t nmatch;               /* of them recomputed equal */
	vl_buf mismatches;           /* one line per difference: "KEY: published V, recomputed W" */
} vl_agg_check_result;

void vl_agg_check_result_free(vl_agg_check_result *r);

/*
 * Recompute a published aggregate_report record from the heads it cites
 * (read from this node's repository, with its current schemas) and compare
 * every figure under the record's rule. Returns 0 whether or not they
 * match (see nmatch / mismatches). VL_ENOTFOUND: no such record, or this
 * node lacks a cited commit; VL_EINVALID: not an aggregate_report, or a
 * rule this version does not know.
 */
int vl_aggregate_check(vl_node *n, const char *id, const vl_aggregate_opts *opts, vl_agg_check_result *out) VL_MUST_CHECK;

/* Append a scaled figure as exact decimal text ("37", "1234.5"). */
int vl_agg_format(vl_buf *out, long long scaled) VL_MUST_CHECK;

/*
 * Parse a cache file's bytes (for the fuzz target and the operation):
 * every entry checked (format, caps, checksum); calls fn for each valid
 * entry. VL_EINVALID / VL_ETOOBIG at the first bad byte (the caller then
 * ignores the whole file).
 */
typedef int (*vl_agg_cache_cb)(void *ctx, const git_oid *tree, const unsigned char digest[16],
		const long long *vals, size_t n);
int vl_agg_cache_parse(const char *buf, size_t len, vl_agg_cache_cb fn, void *ctx) VL_MUST_CHECK;

#endif
