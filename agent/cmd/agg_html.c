/*
 * agg_html.c - the aggregate page (agg_html.h): one HTML file with inline
 * CSS and SVG bar charts, Chinese text, no script and no external
 * resource, so it opens offline and prints. Every text that comes from
 * data (unit names, labels) is escaped.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/cmd/agg_html.h"
#include "agent/node/tz.h"

static int esc(vl_buf *b, const char *s)
{
	int rc = 0;

	for (; s && *s && rc >= 0; s++) {
		switch (*s) {
		case '<': rc = vl_buf_puts(b, "&lt;"); break;
		case '>': rc = vl_buf_puts(b, "&gt;"); break;
		case '&': rc = vl_buf_puts(b, "&amp;"); break;
		case '"': rc = vl_buf_puts(b, "&quot;"); break;
		case '\'': rc = vl_buf_puts(b, "&#39;"); break;
		default: rc = vl_buf_putc(b, *s);
		}
	}
	return rc;
}

static long fig(const vl_aggregate_result *r, const char *key)
{
	size_t k;

	for (k = 0; k < r->nfigs; k++)
		if (strcmp(r->figs[k].key, key) == 0)
			return (long)k;
	return -1;
}

static const vl_agg_unit *top_unit(const vl_aggregate_result *r)
{
	size_t i;

	for (i = 0; i < r->nunits; i++)
		if (strcmp(r->units[i].code, r->scope) == 0)
			return &r->units[i];
	return NULL;
}

/* Label of figure k: the aggregate's Chinese label, and for a group its
 * value's Chinese label. */
static int fig_label(vl_buf *b, const vl_agg_figure *f)
{
	const vl_field *g = f->group_value ? vl_schema_field(f->schema, f->agg->group_by) : NULL;
	const char *gl = g ? vl_field_enum_label(g, f->group_value) : NULL;
	int rc;

	if (f->group_value)
		return esc(b, gl ? gl : f->group_value);
	rc = esc(b, f->agg->label_zh);
	return rc;
}

/* A horizontal bar chart of (label, value) pairs as inline SVG. */
typedef struct {
	const char *label;           /* escaped when written */
	const vl_agg_figure *f;      /* label from a figure when label is NULL */
	long long v;
} bar;

static int chart(vl_buf *b, const bar *bars, size_t n)
{
	long long max = 1;
	size_t i;
	int rc;
	vl_buf num = VL_BUF_INIT;

	for (i = 0; i < n; i++)
		if (bars[i].v > max)
			max = bars[i].v;
	if ((rc = vl_buf_printf(b, "<svg class=\"chart\" width=\"640\" height=\"%zu\" viewBox=\"0 0 640 %zu\" "
			"xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n", n * 26 + 6, n * 26 + 6)) < 0)
		return rc;
	for (i = 0; i < n && rc >= 0; i++) {
		long long w = bars[i].v > 0 ? (long long)((double)bars[i].v / (double)max * 380.0) : 0;
		vl_buf_clear(&num);
		if ((rc = vl_buf_printf(b, "<text x=\"0\" y=\"%zu\" class=\"l\">", i * 26 + 19)) < 0 ||
				(rc = bars[i].label ? esc(b, bars[i].label) : fig_label(b, bars[i].f)) < 0 ||
				(rc = vl_buf_printf(b, "</text><rect x=\"190\" y=\"%zu\" width=\"%lld\" height=\"18\" "
						"class=\"b\"/>", i * 26 + 5, w < 1 && bars[i].v > 0 ? 1 : w)) < 0 ||
				(rc = vl_agg_format(&num, bars[i].v)) < 0)
			break;
		rc = vl_buf_printf(b, "<text x=\"%lld\" y=\"%zu\" class=\"v\">%s</text>\n", 196 + w, i * 26 + 19,
				num.ptr);
	}
	vl_buf_free(&num);
	return rc < 0 ? rc : vl_buf_puts(b, "</svg>\n");
}

/* A section: every figure of `ledger` whose key starts with prefix (NULL:
 * all of the ledger that are not groups) for the top unit, as a chart and
 * a table. Skipped when the ledger has none. */
static int section(vl_buf *b, const vl_aggregate_result *r, const vl_agg_unit *top, const char *title,
		const char *prefix)
{
	bar bars[64];
	size_t k, n = 0, pl = strlen(prefix);
	int rc;

	/* A ledger's section ("resident.") leaves its groups to their own. */
	int groups = strchr(prefix, '.') != strrchr(prefix, '.');

	for (k = 0; k < r->nfigs && n < 64; k++)
		if (strncmp(r->figs[k].key, prefix, pl) == 0 && (groups || !r->figs[k].group_value)) {
			bars[n].label = NULL;
			bars[n].f = &r->figs[k];
			bars[n++].v = top->vals[k];
		}
	if (n == 0)
		return 0;
	if ((rc = vl_buf_puts(b, "<section><h2>")) < 0 || (rc = esc(b, title)) < 0 ||
			(rc = vl_buf_puts(b, "</h2>\n")) < 0 || (rc = chart(b, bars, n)) < 0)
		return rc;
	return vl_buf_puts(b, "</section>\n");
}

static const char *const overview_keys[] = {
	"resident.residents", "resident.elderly_alone", "resident.children_in_difficulty", "resident.disabled",
	"zone.sealed", "supply_request.open", "worker_care.workers", NULL
};

/* The table of the units one level below the top, with freshness. */
static int overview(vl_buf *b, const vl_aggregate_result *r, const vl_agg_unit *top, int tz_min)
{
	size_t i, k;
	long cols[8];
	size_t nc = 0;
	vl_buf num = VL_BUF_INIT;
	int rc;

	for (k = 0; overview_keys[k]; k++) {
		long f = fig(r, overview_keys[k]);
		if (f >= 0)
			cols[nc++] = f;
	}
	if ((rc = vl_buf_puts(b, "<section><h2>各单位概况</h2>\n<table><tr><th>代码</th><th>单位</th><th>数据时间</th>")) < 0)
		return rc;
	for (k = 0; k < nc; k++)
		if ((rc = vl_buf_puts(b, "<th>")) < 0 || (rc = fig_label(b, &r->figs[cols[k]])) < 0 ||
				(rc = vl_buf_puts(b, "</th>")) < 0)
			return rc;
	if ((rc = vl_buf_puts(b, "</tr>\n")) < 0)
		return rc;
	for (i = 0; i < r->nunits && rc >= 0; i++) {
		const vl_agg_unit *u = &r->units[i];
		char t[32] = "—";

		if (strcmp(u->parent, top->code) != 0)
			continue;
		if (u->have_branch) {
			/* The day in the network's time zone (tz.h). */
			time_t tt = (time_t)u->as_of + (time_t)tz_min * 60;
			struct tm tm;
			if (gmtime_r(&tt, &tm))
				strftime(t, sizeof(t), "%Y-%m-%d", &tm);
		}
		if ((rc = vl_buf_printf(b, "<tr%s><td>%s</td><td>", u->never_synced ? " class=\"never\"" :
				u->stale ? " class=\"stale\"" : "", u->code)) < 0 || (rc = esc(b, u->name ? u->name : "")) < 0 ||
				(rc = vl_buf_printf(b, "%s%s</td><td>%s</td>", u->never_synced ? "（从未同步）" : "",
						u->stale ? "（数据过期）" : (!u->never_synced && u->never_synced_below ? "（部分未同步）" : ""), t)) < 0)
			break;
		for (k = 0; k < nc && rc >= 0; k++) {
			vl_buf_clear(&num);
			int sp = u->supp ? u->supp[cols[k]] : VL_AGG_EXACT;
			if (u->never_synced || sp == VL_AGG_HIDDEN)
				rc = vl_buf_puts(b, "<td>—</td>");
			else if (sp == VL_AGG_LT3)
				rc = vl_buf_puts(b, "<td class=\"n\">&lt;3</td>");
			else if ((rc = vl_agg_format(&num, u->vals[cols[k]])) >= 0)
				rc = vl_buf_printf(b, "<td class=\"n\">%s%s</td>", sp == VL_AGG_LOWER_BOUND ? "≥" : "", num.ptr);
		}
		if (rc >= 0)
			rc = vl_buf_puts(b, "</tr>\n");
	}
	vl_buf_free(&num);
	return rc < 0 ? rc : vl_buf_puts(b, "</table></section>\n");
}

/* Residents per unit below the top, as a chart. */
static int by_unit_chart(vl_buf *b, const vl_aggregate_result *r, const vl_agg_unit *top, const char *key,
		const char *title)
{
	bar bars[400];
	long f = fig(r, key);
	size_t i, n = 0;
	int rc;

	if (f < 0)
		return 0;
	for (i = 0; i < r->nunits && n < 400; i++)
		if (strcmp(r->units[i].parent, top->code) == 0 && !r->units[i].never_synced) {
			bars[n].label = r->units[i].name ? r->units[i].name : r->units[i].code;
			bars[n].f = NULL;
			bars[n++].v = r->units[i].vals[f];
		}
	if (n == 0)
		return 0;
	if ((rc = vl_buf_puts(b, "<section><h2>")) < 0 || (rc = esc(b, title)) < 0 ||
			(rc = vl_buf_puts(b, "</h2>\n")) < 0 || (rc = chart(b, bars, n)) < 0)
		return rc;
	return vl_buf_puts(b, "</section>\n");
}

static const char *const age_labels[VL_REQ_AGE_NBUCKETS] = { "不足1天", "1–3天", "3–7天", "7天以上" };

/* Open supply requests by waiting time (request_age.h): a chart of the
 * top unit's buckets and a table of it and the units one level below,
 * as of age->now. Skipped without figures for the top unit. */
static int age_section(vl_buf *b, const vl_aggregate_result *r, const vl_agg_unit *top,
		const vl_req_age_result *age, int tz_min)
{
	const vl_req_age_unit *ta = vl_req_age_find(age, top->code);
	bar bars[VL_REQ_AGE_NBUCKETS];
	size_t i, j;
	int rc;

	if (!ta || ta->never_synced)
		return 0;
	for (j = 0; j < VL_REQ_AGE_NBUCKETS; j++) {
		bars[j].label = age_labels[j];
		bars[j].f = NULL;
		bars[j].v = ta->n[j] * VL_AGG_SCALE;
	}
	if ((rc = vl_buf_puts(b, "<section id=\"open-requests-by-age\"><h2>未办结物资需求（按等待时长）</h2>\n"
			"<p>截至 ")) < 0 || (rc = vl_time_show_secs(b, age->now, tz_min)) < 0 ||
			(rc = vl_buf_puts(b, "，按登记时间计算未送达、未取消的需求（生成时计算，不缓存）。</p>\n")) < 0 ||
			(rc = chart(b, bars, VL_REQ_AGE_NBUCKETS)) < 0 ||
			(rc = vl_buf_puts(b, "<table><tr><th>代码</th><th>单位</th>")) < 0)
		return rc;
	for (j = 0; j < VL_REQ_AGE_NBUCKETS; j++)
		if ((rc = vl_buf_printf(b, "<th>%s</th>", age_labels[j])) < 0)
			return rc;
	if ((rc = vl_buf_puts(b, "</tr>\n")) < 0)
		return rc;
	for (i = 0; i < r->nunits; i++) {
		const vl_agg_unit *u = &r->units[i];
		const vl_req_age_unit *a;

		if (u != top && strcmp(u->parent, top->code) != 0)
			continue;
		a = vl_req_age_find(age, u->code);
		if ((rc = vl_buf_printf(b, "<tr><td>%s</td><td>", u->code)) < 0 ||
				(rc = esc(b, u->name ? u->name : "")) < 0 || (rc = vl_buf_puts(b, "</td>")) < 0)
			return rc;
		for (j = 0; j < VL_REQ_AGE_NBUCKETS; j++) {
			if (!a || a->never_synced)
				rc = vl_buf_puts(b, "<td>—</td>");
			else
				rc = vl_buf_printf(b, "<td class=\"n\">%lld</td>", a->n[j]);
			if (rc < 0)
				return rc;
		}
		if ((rc = vl_buf_puts(b, "</tr>\n")) < 0)
			return rc;
	}
	return vl_buf_puts(b, "</table></section>\n");
}

int vl_agg_html(vl_buf *b, const vl_aggregate_result *r, const vl_reports_result *tracker,
		const vl_req_age_result *age, int tz_min)
{
	const vl_agg_unit *top = top_unit(r);
	vl_buf t = VL_BUF_INIT;
	int rc;

	if (!top)
		return vl_error_set(VL_ENOTFOUND, "no unit '%s' to report on", r->scope);
	/* Generated at: the network's local time (tz.h), as every human output. */
	if ((rc = vl_time_show_secs(&t, r->now, tz_min)) < 0)
		return rc;
	if ((rc = vl_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\n<title>")) < 0 ||
			(rc = esc(b, top->name ? top->name : top->code)) < 0 ||
			(rc = vl_buf_puts(b, " 汇总报告</title>\n<style>\n"
				"body{font-family:\"Noto Sans CJK SC\",\"WenQuanYi Micro Hei\",sans-serif;margin:24px;color:#222}\n"
				"h1{font-size:22px}h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:4px}\n"
				"table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #bbb;padding:3px 8px}\n"
				"td.n{text-align:right}tr.stale td{background:#fff3cd}tr.never td{background:#f8d7da}\n"
				".chart .b{fill:#3b6ea5}.chart .l,.chart .v{font-size:13px;fill:#222}\n"
				".warn{background:#fff3cd;padding:6px 10px}\n"
				"</style></head><body>\n<h1>")) < 0 ||
			(rc = esc(b, top->name ? top->name : top->code)) < 0 ||
			(rc = vl_buf_printf(b, " 汇总报告</h1>\n<p>单位代码 %s，生成时间 %s。</p>\n", top->code, t.ptr)) < 0) {
		vl_buf_free(&t);
		return rc;
	}
	vl_buf_free(&t);
	if ((top->never_synced_below || top->stale_below) &&
			(rc = vl_buf_printf(b, "<p class=\"warn\">数据不完整：%zu 个村（社区）中 %zu 个从未同步，%zu 个单位数据过期；"
					"以下合计不含从未同步的单位。</p>\n", top->villages_below, top->never_synced_below,
					top->stale_below)) < 0)
		return rc;
	if ((rc = overview(b, r, top, tz_min)) < 0 ||
			(rc = by_unit_chart(b, r, top, "resident.residents", "常住人口（按下级单位）")) < 0 ||
			(rc = section(b, r, top, "重点人群", "special_group.")) < 0 ||
			(rc = section(b, r, top, "常住人口与重点人群标识", "resident.")) < 0 ||
			(rc = section(b, r, top, "生效区域（按类别）", "zone.active_by_class.")) < 0 ||
			(rc = section(b, r, top, "物资需求（按环节）", "supply_request.by_stage.")) < 0 ||
			(age && (rc = age_section(b, r, top, age, tz_min)) < 0) ||
			(rc = section(b, r, top, "物资需求", "supply_request.")) < 0 ||
			(rc = section(b, r, top, "工作人员关爱（按状态）", "worker_care.by_duty_status.")) < 0 ||
			(rc = section(b, r, top, "工作人员关爱", "worker_care.")) < 0 ||
			(tracker && tracker->ncalls && (rc = vl_reports_html_section(b, tracker, 0)) < 0))
		return rc;
	return vl_buf_puts(b, "<p>本页由 vledger aggregate 生成；数字来自各单位已签名的台账记录，不含个人信息。</p>\n</body></html>\n");
}
