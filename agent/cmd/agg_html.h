/*
 * agg_html.h - aggregate results rendered for people and scripts: one
 * self-contained HTML page (inline CSS and SVG, no external resources,
 * every text escaped) and the JSON of docs/formats.md "Aggregates".
 */
#ifndef VL_AGG_HTML_H
#define VL_AGG_HTML_H

#include "agent/ops/aggregate.h"
#include "agent/ops/reports.h"
#include "agent/ops/request_age.h"
#include "store/buf.h"

/* Append the page for r to b. tracker (borrowed; NULL or without calls:
 * none) adds the report tracker's section (vl_reports_html_section,
 * contacts masked) before the footer. age (borrowed; NULL: none) adds the
 * section of open supply requests by waiting time, its "now" shown in the
 * zone tz_min minutes east of UTC. */
int vl_agg_html(vl_buf *b, const vl_aggregate_result *r, const vl_reports_result *tracker,
		const vl_req_age_result *age, int tz_min) VL_MUST_CHECK;
/* Append the JSON document for r to b; age (borrowed; NULL: none) adds
 * each unit's "open_requests_by_age" (docs/formats.md §9.3). */
int vl_agg_json(vl_buf *b, const vl_aggregate_result *r, const vl_req_age_result *age) VL_MUST_CHECK;

#endif
