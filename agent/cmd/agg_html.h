/*
 * agg_html.h - aggregate results rendered for people and scripts: one
 * self-contained HTML page (inline CSS and SVG, no external resources,
 * every text escaped) and the JSON of docs/formats.md "Aggregates".
 */
#ifndef VL_AGG_HTML_H
#define VL_AGG_HTML_H

#include "agent/ops/aggregate.h"
#include "agent/ops/reports.h"
#include "store/buf.h"

/* Append the page for r to b. tracker (borrowed; NULL or without calls:
 * none) adds the report tracker's section (vl_reports_html_section,
 * contacts masked) before the footer. */
int vl_agg_html(vl_buf *b, const vl_aggregate_result *r, const vl_reports_result *tracker) VL_MUST_CHECK;
/* Append the JSON document for r to b. */
int vl_agg_json(vl_buf *b, const vl_aggregate_result *r) VL_MUST_CHECK;

#endif
