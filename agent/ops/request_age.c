/*
 * request_age.c - open supply requests by age (request_age.h): four
 * uncached aggregate runs of the ledger's `open` count, each with a
 * requested_at window as extra --where conditions, so open, the roll-up
 * and never-synced units mean exactly what they mean in the aggregate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/ops/query.h"
#include "agent/ops/request_age.h"

const char *const vl_req_age_keys[VL_REQ_AGE_NBUCKETS] = { "lt1d", "1d_3d", "3d_7d", "ge7d" };

/* Bucket b is requested_at in (now - hi[b], now - lo[b]]; lo 0 and hi -1
 * mean unbounded (the newest bucket also takes times after now). */
static const long long age_lo[VL_REQ_AGE_NBUCKETS] = { 0, 86400, 3 * 86400, 7 * 86400 };
static const long long age_hi[VL_REQ_AGE_NBUCKETS] = { 86400, 3 * 86400, 7 * 86400, -1 };

#define AGE_EXPR_LEN 48

static int when(char out[32], long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return vl_error_set(VL_EINVALID, "time %lld cannot be shown as a date: give a --as-of date after 1970", t);
	return 0;
}

void vl_req_age_result_free(vl_req_age_result *r)
{
	if (!r)
		return;
	free(r->units);
	memset(r, 0, sizeof(*r));
}

const vl_req_age_unit *vl_req_age_find(const vl_req_age_result *r, const char *code)
{
	size_t i;

	for (i = 0; r && i < r->nunits; i++)
		if (strcmp(r->units[i].code, code) == 0)
			return &r->units[i];
	return NULL;
}

static long find_open(const vl_aggregate_result *r)
{
	size_t k;

	for (k = 0; k < r->nfigs; k++)
		if (strcmp(r->figs[k].key, "supply_request.open") == 0)
			return (long)k;
	return -1;
}

/* Run bucket b and add its counts to out (units taken from the first run). */
static int run_bucket(vl_node *n, const vl_aggregate_opts *base, long long now, size_t b, vl_req_age_result *out)
{
	vl_aggregate_opts ao = *base;
	const char *exprs[VL_QUERY_MAX_EXPRS];
	char lo_t[32], hi_t[32], lo_e[AGE_EXPR_LEN], hi_e[AGE_EXPR_LEN];
	vl_aggregate_result r;
	size_t ne = 0, i;
	long k;
	int rc;

	memset(&r, 0, sizeof(r));
	if (base->nwhere + 2 > VL_QUERY_MAX_EXPRS)
		return vl_error_set(VL_ETOOBIG, "too many --where expressions for the request ages: give at most %d",
				VL_QUERY_MAX_EXPRS - 2);
	for (i = 0; i < base->nwhere; i++)
		exprs[ne++] = base->where[i];
	if (age_lo[b] > 0) {
		if ((rc = when(lo_t, now - age_lo[b])) < 0)
			return rc;
		snprintf(lo_e, sizeof(lo_e), "requested_at<=%s", lo_t);
		exprs[ne++] = lo_e;
	}
	if (age_hi[b] > 0) {
		if ((rc = when(hi_t, now - age_hi[b])) < 0)
			return rc;
		snprintf(hi_e, sizeof(hi_e), "requested_at>%s", hi_t);
		exprs[ne++] = hi_e;
	}
	ao.ledger = "supply_request";
	ao.where = exprs;
	ao.nwhere = ne;
	ao.no_cache = 1;           /* figures relative to now: never cached */
	ao.progress.fn = NULL;
	ao.from_published = 0;
	if ((rc = vl_aggregate_run(n, &ao, &r)) < 0)
		goto out;
	if ((k = find_open(&r)) < 0) {
		rc = vl_error_set(VL_ENOTFOUND, "ledger 'supply_request' has no 'open' aggregate: "
				"update the network's schemas to count open requests by age");
		goto out;
	}
	if (!out->units) {
		out->units = r.nunits ? calloc(r.nunits, sizeof(*out->units)) : NULL;
		if (r.nunits && !out->units) {
			rc = vl_error_set(VL_ENOMEM, "out of memory counting %zu units' requests", r.nunits);
			goto out;
		}
		out->nunits = r.nunits;
		for (i = 0; i < r.nunits; i++) {
			memcpy(out->units[i].code, r.units[i].code, sizeof(out->units[i].code));
			out->units[i].never_synced = r.units[i].never_synced;
		}
	}
	for (i = 0; i < r.nunits && i < out->nunits; i++) {
		if (strcmp(out->units[i].code, r.units[i].code) != 0) {
			rc = vl_error_set(VL_EINVALID, "unit '%s' changed while counting request ages: run again",
					r.units[i].code);
			goto out;
		}
		out->units[i].n[b] = r.units[i].vals[k] / VL_AGG_SCALE;
	}
	rc = 0;
out:
	vl_aggregate_result_free(&r);
	return rc;
}

int vl_request_age(vl_node *n, const vl_aggregate_opts *base, long long now, vl_req_age_result *out)
{
	const vl_schema *s = vl_node_schema(n, "supply_request");
	vl_aggregate_opts ao = *base;
	size_t b;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!s || !vl_schema_field(s, "requested_at"))
		return vl_error_set(VL_ENOTFOUND, "the network has no 'supply_request' ledger with 'requested_at': "
				"no request ages to count");
	/* Another ledger's --where does not apply to supply requests. */
	if (!ao.ledger || strcmp(ao.ledger, "supply_request") != 0) {
		ao.where = NULL;
		ao.nwhere = 0;
	}
	out->now = now ? now : (long long)time(NULL);
	for (b = 0; b < VL_REQ_AGE_NBUCKETS && rc >= 0; b++)
		rc = run_bucket(n, &ao, out->now, b, out);
	return rc;
}
