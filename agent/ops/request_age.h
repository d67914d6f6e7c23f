/*
 * request_age.h - open supply requests by how long they have waited: a
 * figure relative to "now", so it is computed at run time from the records
 * and never cached (the aggregate cache holds only figures that depend on
 * the records alone; docs/formats.md §9.3).
 *
 * Open is the `supply_request` schema's own `open` aggregate (neither
 * delivered nor cancelled). Age is now minus `requested_at`, in exact
 * seconds, bucketed as
 *     lt1d   age < 1 day (a requested_at after now, clock skew, counts here)
 *     1d_3d  1 day  <= age < 3 days
 *     3d_7d  3 days <= age < 7 days
 *     ge7d   age >= 7 days
 * per unit, rolled up village -> township -> county like the aggregate.
 * The status is the record's current one, also for a now in the past.
 */
#ifndef VL_OPS_REQUEST_AGE_H
#define VL_OPS_REQUEST_AGE_H

#include "agent/ops/aggregate.h"

#define VL_REQ_AGE_NBUCKETS 4

/* The buckets' JSON keys, in order: "lt1d", "1d_3d", "3d_7d", "ge7d". */
extern const char *const vl_req_age_keys[VL_REQ_AGE_NBUCKETS];

typedef struct {
	char code[13];
	int never_synced;            /* as the aggregate's unit: counts unknown */
	long long n[VL_REQ_AGE_NBUCKETS];
} vl_req_age_unit;

typedef struct {
	long long now;               /* unix seconds the ages are measured to */
	vl_req_age_unit *units;      /* owned; the aggregate's units, same order */
	size_t nunits;
} vl_req_age_result;

void vl_req_age_result_free(vl_req_age_result *r);

/* The unit of r with code, or NULL. */
const vl_req_age_unit *vl_req_age_find(const vl_req_age_result *r, const char *code);

/*
 * Count open supply requests by age. base (borrowed) gives the scope, by,
 * divisions and, when its ledger is supply_request, --where expressions
 * ANDed to the age conditions; its ledger, no_cache and progress are
 * overridden (never cached). now: unix seconds; 0: the clock.
 * VL_ENOTFOUND when the network has no supply_request ledger with an
 * `open` aggregate and a requested_at field (callers then show nothing);
 * otherwise vl_aggregate_run's errors.
 */
int vl_request_age(vl_node *n, const vl_aggregate_opts *base, long long now, vl_req_age_result *out) VL_MUST_CHECK;

#endif
