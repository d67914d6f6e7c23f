/*
 * cmd_aggregate.c - vledger aggregate: parse, vl_aggregate_run
 * (agent/ops/aggregate.h), print as a table, JSON (docs/formats.md,
 * "Aggregates": a stable interface), CSV or a self-contained HTML page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/cmd/agg_html.h"
#include "agent/node/tz.h"
#include "agent/ops/aggregate.h"
#include "agent/ops/request_age.h"
#include "store/hlc.h"
#include "store/yaml.h"

/* "7d", "12h", "30m", "3600s" or plain seconds. */
static int parse_duration(long long *out, const char *s)
{
	long long v = 0, mul = 1;
	size_t i = 0;

	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 9)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0)
		return -1;
	if (s[i] == 'd')
		mul = 86400;
	else if (s[i] == 'h')
		mul = 3600;
	else if (s[i] == 'm')
		mul = 60;
	else if (s[i] == 's' || !s[i])
		mul = 1;
	else
		return -1;
	if (s[i] && s[i + 1])
		return -1;
	if (v == 0)
		return -1;
	*out = v * mul;
	return 0;
}

/* --as-of YYYY-MM-DD: the end of that day (the next midnight) in the
 * network's time zone, tz_min minutes east of UTC, as unix seconds. */
static int parse_as_of(long long *out, const char *s, int tz_min)
{
	unsigned v[3] = { 0, 0, 0 }, m = 0, d = 0;
	int64_t y = 0, days;
	size_t i, f = 0, nd = 0;
	static const size_t width[3] = { 4, 2, 2 };

	for (i = 0; s[i]; i++) {
		if (s[i] == '-' && nd == width[f] && f < 2) {
			f++;
			nd = 0;
		} else if (s[i] >= '0' && s[i] <= '9' && nd < width[f]) {
			v[f] = v[f] * 10 + (unsigned)(s[i] - '0');
			nd++;
		} else {
			return -1;
		}
	}
	if (f != 2 || nd != 2 || v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31)
		return -1;
	days = vl_days_from_civil(v[0], v[1], v[2]);
	vl_civil_from_days(days, &y, &m, &d);
	if (y != v[0] || m != v[1] || d != v[2])
		return -1;                     /* 2022-02-30 */
	*out = (long long)(days + 1) * 86400 - (long long)tz_min * 60;
	return 0;
}

static void rfc3339(char out[32], long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "?");
}

static int json_strz(vl_buf *b, const char *s)
{
	return s ? vl_json_str(b, s, strlen(s)) : vl_buf_puts(b, "null");
}

/* Figure k of u as text: the number, or "<3" / "hidden" as a published
 * report gave it (from_published), ">=N" for a total over such parts. */
static int fig_text(vl_buf *b, const vl_agg_unit *u, size_t k, int json)
{
	int s = u->supp ? u->supp[k] : VL_AGG_EXACT;

	if (s == VL_AGG_LT3)
		return vl_buf_puts(b, json ? "\"<3\"" : "<3");
	if (s == VL_AGG_HIDDEN)
		return vl_buf_puts(b, json ? "\"hidden\"" : "hidden");
	if (s == VL_AGG_LOWER_BOUND && !json) {
		int rc = vl_buf_puts(b, ">=");
		return rc < 0 ? rc : vl_agg_format(b, u->vals[k]);
	}
	return vl_agg_format(b, u->vals[k]);
}

/* The unit's open requests by age, computed at run time (request_age.h):
 * nothing without them or for a unit never synced. */
static int age_json(vl_buf *b, const vl_req_age_unit *a)
{
	size_t j;
	int rc;

	if (!a || a->never_synced)
		return 0;
	if ((rc = vl_buf_puts(b, ",\n   \"open_requests_by_age\": {")) < 0)
		return rc;
	for (j = 0; j < VL_REQ_AGE_NBUCKETS; j++)
		if ((rc = vl_buf_printf(b, "%s\"%s\": %lld", j ? ", " : "", vl_req_age_keys[j], a->n[j])) < 0)
			return rc;
	return vl_buf_puts(b, "}");
}

int vl_agg_json(vl_buf *b, const vl_aggregate_result *r, const vl_req_age_result *age)
{
	char t[32];
	size_t i, k;
	int rc;

	rfc3339(t, r->now);
	if ((rc = vl_buf_printf(b, "{\"scope\": \"%s\", \"generated_at\": \"%s\", \"stale_after_seconds\": %lld,\n"
			" \"run\": {\"branches\": %zu, \"records_read\": %zu, \"subtrees_read\": %zu, "
			"\"subtrees_cached\": %zu, \"cache_rejected\": %s},\n", r->scope, t, r->stale_after,
			r->branches, r->records_read, r->subtrees_read, r->subtrees_cached,
			r->cache_rejected ? "true" : "false")) < 0)
		return rc;
	if (age) {
		rfc3339(t, age->now);
		if ((rc = vl_buf_printf(b, " \"open_requests_age_now\": \"%s\",\n", t)) < 0)
			return rc;
	}
	if ((rc = vl_buf_puts(b, " \"figures\": [")) < 0)
		return rc;
	for (k = 0; k < r->nfigs; k++) {
		const vl_agg_figure *f = &r->figs[k];
		if ((rc = vl_buf_puts(b, k ? ",\n  {\"key\": " : "\n  {\"key\": ")) < 0 || (rc = json_strz(b, f->key)) < 0 ||
				(rc = vl_buf_puts(b, ", \"ledger\": ")) < 0 || (rc = json_strz(b, f->schema->name)) < 0 ||
				(rc = vl_buf_puts(b, ", \"aggregate\": ")) < 0 || (rc = json_strz(b, f->agg->name)) < 0 ||
				(rc = vl_buf_puts(b, ", \"group_value\": ")) < 0 || (rc = json_strz(b, f->group_value)) < 0 ||
				(rc = vl_buf_printf(b, ", \"op\": \"%s\", \"zh\": ", f->is_sum ? "sum" : "count")) < 0 ||
				(rc = json_strz(b, f->agg->label_zh)) < 0 || (rc = vl_buf_puts(b, ", \"en\": ")) < 0 ||
				(rc = json_strz(b, f->agg->label_en)) < 0 || (rc = vl_buf_puts(b, "}")) < 0)
			return rc;
	}
	if ((rc = vl_buf_puts(b, "],\n \"units\": [")) < 0)
		return rc;
	for (i = 0; i < r->nunits; i++) {
		const vl_agg_unit *u = &r->units[i];
		char head[GIT_OID_HEXSZ + 1];

		if ((rc = vl_buf_printf(b, "%s\n  {\"code\": \"%s\", \"name\": ", i ? "," : "", u->code)) < 0 ||
				(rc = json_strz(b, u->name)) < 0 ||
				(rc = vl_buf_printf(b, ", \"level\": \"%s\", \"parent\": ", vl_division_level_name(u->level))) < 0 ||
				(rc = json_strz(b, u->parent[0] ? u->parent : NULL)) < 0)
			return rc;
		if (u->have_branch) {
			git_oid_tostr(head, sizeof(head), &u->head);
			rfc3339(t, u->as_of);
			rc = vl_buf_printf(b, ", \"head\": \"%s\", \"as_of\": \"%s\"", head, t);
		} else {
			rc = vl_buf_puts(b, ", \"head\": null, \"as_of\": null");
		}
		if (rc < 0 || (rc = vl_buf_printf(b, ", \"stale\": %s, \"never_synced\": %s, \"villages_below\": %zu, "
				"\"stale_below\": %zu, \"never_synced_below\": %zu,\n   \"figures\": {",
				u->stale ? "true" : "false", u->never_synced ? "true" : "false", u->villages_below,
				u->stale_below, u->never_synced_below)) < 0)
			return rc;
		for (k = 0; !u->never_synced && k < r->nfigs; k++)
			if ((rc = vl_buf_puts(b, k ? ", " : "")) < 0 || (rc = json_strz(b, r->figs[k].key)) < 0 ||
					(rc = vl_buf_puts(b, ": ")) < 0 || (rc = fig_text(b, u, k, 1)) < 0)
				return rc;
		if ((rc = vl_buf_puts(b, "}")) < 0)
			return rc;
		if ((rc = age_json(b, age ? vl_req_age_find(age, u->code) : NULL)) < 0)
			return rc;
		if (u->supp) {
			int first = 1;
			if ((rc = vl_buf_puts(b, ", \"lower_bounds\": [")) < 0)
				return rc;
			for (k = 0; k < r->nfigs; k++)
				if (u->supp[k] == VL_AGG_LOWER_BOUND) {
					if ((rc = vl_buf_puts(b, first ? "" : ", ")) < 0 || (rc = json_strz(b, r->figs[k].key)) < 0)
						return rc;
					first = 0;
				}
			if ((rc = vl_buf_puts(b, "]")) < 0)
				return rc;
		}
		if ((rc = vl_buf_puts(b, "}")) < 0)
			return rc;
	}
	return vl_buf_puts(b, "]}\n");
}

static int agg_csv(vl_buf *b, const vl_aggregate_result *r)
{
	size_t i, k;
	int rc;

	if ((rc = vl_buf_puts(b, "code,name,level,as_of,stale,never_synced")) < 0)
		return rc;
	for (k = 0; k < r->nfigs; k++)
		if ((rc = vl_buf_printf(b, ",%s", r->figs[k].key)) < 0)
			return rc;
	for (i = 0; i < r->nunits; i++) {
		const vl_agg_unit *u = &r->units[i];
		char t[32] = "";
		if (u->have_branch)
			rfc3339(t, u->as_of);
		/* Names come from the validated table: no comma, quote or newline. */
		if ((rc = vl_buf_printf(b, "\n%s,%s,%s,%s,%d,%d", u->code, u->name ? u->name : "",
				vl_division_level_name(u->level), t, u->stale, u->never_synced)) < 0)
			return rc;
		for (k = 0; k < r->nfigs; k++)
			if ((rc = vl_buf_putc(b, ',')) < 0 || (!u->never_synced && (rc = fig_text(b, u, k, 0)) < 0))
				return rc;
	}
	return vl_buf_putc(b, '\n');
}

/* The text table; "as of" in the network's time zone (tz.h). */
static int agg_table(vl_buf *b, const vl_aggregate_result *r, int tz_min)
{
	vl_buf v = VL_BUF_INIT;
	size_t i, k;
	int rc = 0;

	for (i = 0; i < r->nunits && rc >= 0; i++) {
		const vl_agg_unit *u = &r->units[i];

		rc = vl_buf_printf(b, "%s%s %s (%s)", i ? "\n" : "", u->code, u->name ? u->name : "-",
				vl_division_level_name(u->level));
		if (rc >= 0 && u->have_branch && (rc = vl_buf_puts(b, _("  as of "))) >= 0 &&
				(rc = vl_time_show_secs(b, u->as_of, tz_min)) >= 0)
			rc = vl_buf_puts(b, u->stale ? _("  STALE") : "");
		if (rc >= 0 && u->never_synced)
			rc = vl_buf_puts(b, _("  NEVER SYNCED: no figures"));
		if (rc >= 0 && (u->stale_below || u->never_synced_below))
			rc = vl_buf_printf(b, _("  incomplete: %zu of %zu villages never synced, %zu stale below"),
					u->never_synced_below, u->villages_below, u->stale_below);
		if (rc >= 0)
			rc = vl_buf_putc(b, '\n');
		for (k = 0; rc >= 0 && !u->never_synced && k < r->nfigs; k++) {
			const vl_agg_figure *f = &r->figs[k];
			vl_buf_clear(&v);
			if ((rc = fig_text(&v, u, k, 0)) < 0)
				break;
			rc = vl_buf_printf(b, "  %-44s %12s  %s%s%s\n", f->key, v.ptr, f->agg->label_zh,
					f->group_value ? " " : "", f->group_value ? f->group_value : "");
		}
	}
	vl_buf_free(&v);
	return rc;
}

static int publish_cmd(vl_node *n, const vl_aggregate_opts *ao)
{
	vl_agg_publish_result pr;
	int rc;

	rc = vl_aggregate_publish(n, ao, &pr);
	if (rc < 0) {
		vl_agg_publish_result_free(&pr);
		return vl_cli_fail(rc);
	}
	printf("%s\n", pr.id);
	fprintf(stderr, _("published %zu figures of %s (rule %s), citing %zu heads\n"), pr.agg.nfigs, pr.unit,
			VL_AGG_RULE, pr.nheads);
	vl_agg_publish_result_free(&pr);
	return VL_EXIT_OK;
}

/* Exit 0 when every figure recomputes equal, 4 when one does not. */
static int check_cmd(vl_node *n, const vl_aggregate_opts *ao, const char *id)
{
	vl_agg_check_result cr;
	int rc, exit_code;

	if ((rc = vl_aggregate_check(n, id, ao, &cr)) < 0) {
		vl_agg_check_result_free(&cr);
		return vl_cli_fail(rc);
	}
	if (cr.nmatch == cr.nfigs) {
		printf(_("match: all %zu figures of %s recomputed equal from the %zu heads cited\n"), cr.nfigs, cr.unit,
				cr.nheads);
		exit_code = VL_EXIT_OK;
	} else {
		printf(_("MISMATCH: %zu of %zu figures of %s differ from a recomputation at the %zu heads cited\n%s"),
				cr.nfigs - cr.nmatch, cr.nfigs, cr.unit, cr.nheads, cr.mismatches.ptr ? cr.mismatches.ptr : "");
		exit_code = VL_EXIT_VERIFY;
	}
	vl_agg_check_result_free(&cr);
	return exit_code;
}

/* The report tracker for the HTML overview of scope: the calls the node
 * holds for it (vl_reports), judged today; none (out left empty) when the
 * network's config has no report ledgers, since a page without a tracker
 * is still the overview. */
static int html_tracker(vl_node *n, const vl_aggregate_opts *ao, const char *scope, vl_reports_result *out)
{
	vl_reports_opts ro = VL_REPORTS_OPTS_INIT;
	int rc;

	ro.scope = scope;
	ro.divisions = ao->divisions;
	rc = vl_reports(n, &ro, out);
	if (rc == VL_ENOTFOUND) {
		vl_reports_result_free(out);
		vl_error_clear();
		return 0;
	}
	return rc;
}

int vl_cmd_aggregate(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_aggregate_opts ao = VL_AGGREGATE_OPTS_INIT;
	vl_strlist where = { 0 };
	const char *format = NULL, *output = NULL, *stale = NULL, *check = NULL, *as_of = NULL;
	int no_cache = 0, publish = 0, from_published = 0, ages = 0;
	const vl_opt opts[] = {
		{ "--scope", 1, &ao.scope, NULL, NULL }, { "--by", 1, &ao.by, NULL, NULL },
		{ "--ledger", 1, &ao.ledger, NULL, NULL }, { "--where", 1, NULL, NULL, &where },
		{ "--format", 1, &format, NULL, NULL }, { "--output", 1, &output, NULL, NULL },
		{ "--stale-after", 1, &stale, NULL, NULL }, { "--divisions", 1, &ao.divisions, NULL, NULL },
		{ "--no-cache", 0, NULL, &no_cache, NULL }, { "--publish", 0, NULL, &publish, NULL },
		{ "--check", 1, &check, NULL, NULL }, { "--from-published", 0, NULL, &from_published, NULL },
		{ "--as-of", 1, &as_of, NULL, NULL }, { "--ages", 0, NULL, &ages, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	vl_node *n = NULL;
	vl_aggregate_result res;
	vl_reports_result tracker;
	vl_req_age_result age;
	const vl_req_age_result *agep = NULL;
	vl_buf out = VL_BUF_INIT;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	memset(&tracker, 0, sizeof(tracker));
	memset(&age, 0, sizeof(age));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0) {
		vl_strlist_free(&where);
		return rc;
	}
	if (format && strcmp(format, "table") && strcmp(format, "json") && strcmp(format, "csv") &&
			strcmp(format, "html")) {
		vl_strlist_free(&where);
		return vl_cli_usage(cmd, "--format is table, json, csv or html");
	}
	if (stale && parse_duration(&ao.stale_after, stale) < 0) {
		vl_strlist_free(&where);
		return vl_cli_usage(cmd, "--stale-after takes a duration such as 7d, 12h, 30m or 3600s");
	}
	ao.where = where.items;
	ao.nwhere = where.n;
	ao.no_cache = no_cache;
	ao.from_published = from_published;
	if (publish && check) {
		vl_strlist_free(&where);
		return vl_cli_usage(cmd, "--publish and --check are two different things: give one");
	}
	if (as_of && (publish || check || from_published)) {
		vl_strlist_free(&where);
		return vl_cli_usage(cmd, "--as-of dates the open requests' ages of an overview: give it without "
				"--publish, --check or --from-published");
	}
	if (vl_cli_node(&n, cli, publish, NULL) < 0)
		goto out;
	if (as_of && parse_as_of(&ao.now, as_of, n->tz_min) < 0) {
		exit_code = vl_cli_usage(cmd, "--as-of takes a date YYYY-MM-DD (the end of that day in the network's time zone)");
		goto out;
	}
	if (publish || check) {
		exit_code = publish ? publish_cmd(n, &ao) : check_cmd(n, &ao, check);
		goto out;
	}
	ao.progress = vl_cli_progress();
	rc = vl_aggregate_run(n, &ao, &res);
	vl_cli_progress_done();
	if (rc < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	/* Open requests by age, for the overview page (and JSON when asked:
	 * --ages or --as-of): relative to now, so computed here at each run and
	 * never cached (request_age.h). Not by default in JSON, whose re-run
	 * after a sync should read only what changed. */
	if (format && (!strcmp(format, "html") || (!strcmp(format, "json") && (ages || as_of))) && !from_published &&
			(!ao.ledger || !strcmp(ao.ledger, "supply_request"))) {
		rc = vl_request_age(n, &ao, res.now, &age);
		if (rc == VL_ENOTFOUND) {
			vl_error_clear();
		} else if (rc < 0) {
			exit_code = vl_cli_fail(rc);
			goto out;
		} else {
			agep = &age;
		}
	}
	if (!format || !strcmp(format, "table"))
		rc = agg_table(&out, &res, n->tz_min);
	else if (!strcmp(format, "json"))
		rc = vl_agg_json(&out, &res, agep);
	else if (!strcmp(format, "csv"))
		rc = agg_csv(&out, &res);
	else if ((rc = html_tracker(n, &ao, res.scope, &tracker)) == 0)
		rc = vl_agg_html(&out, &res, &tracker, agep, n->tz_min);
	if (rc < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (output) {
		if ((rc = vl_buf_write_file(output, out.ptr, out.len, 0644)) < 0) {
			exit_code = vl_cli_fail(rc);
			goto out;
		}
		fprintf(stderr, _("wrote %s: %zu units, %zu figures\n"), output, res.nunits, res.nfigs);
	} else {
		fwrite(out.ptr ? out.ptr : "", 1, out.len, stdout);
	}
	exit_code = VL_EXIT_OK;
out:
	vl_buf_free(&out);
	vl_reports_result_free(&tracker);
	vl_req_age_result_free(&age);
	vl_aggregate_result_free(&res);
	vl_node_close(n);
	vl_strlist_free(&where);
	return exit_code;
}
