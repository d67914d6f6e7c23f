/*
 * agg_publish.c - published aggregates (aggregate.h, docs/formats.md §9.4):
 * the suppression rule, `aggregate --publish` (a signed aggregate_report
 * record citing the heads read) and `aggregate --check` (recompute from the
 * cited heads and compare).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/node/ledger.h"
#include "agent/ops/aggregate.h"
#include "store/i18n.h"
#include "store/ulid.h"

#define REPORT_LEDGER "aggregate_report"

static int below_county(vl_div_level l)
{
	return l == VL_DIV_TOWNSHIP || l == VL_DIV_VILLAGE;
}

/* The ledger's record count: its first count with no where and no group. */
static const long long *base_count(const vl_aggregate_result *r, const vl_agg_unit *u, const vl_schema *s)
{
	size_t k;

	for (k = 0; k < r->nfigs; k++)
		if (r->figs[k].schema == s && !r->figs[k].is_sum && !r->figs[k].agg->nconds && !r->figs[k].group_value)
			return &u->vals[k];
	return NULL;
}

int vl_agg_published_figure(vl_buf *out, const vl_aggregate_result *r, const vl_agg_unit *u, size_t k)
{
	const vl_agg_figure *f = &r->figs[k];
	long long v = u->vals[k];
	int rc;

	if ((rc = vl_buf_printf(out, "%s=", f->key)) < 0)
		return rc;
	if (below_county(u->level) && v != 0) {
		if (!f->is_sum && (v == VL_AGG_SCALE || v == 2 * VL_AGG_SCALE))
			return vl_buf_puts(out, "<3");
		if (f->is_sum) {
			const long long *b = base_count(r, u, f->schema);
			if (f->agg->nconds || !b || *b == VL_AGG_SCALE || *b == 2 * VL_AGG_SCALE)
				return vl_buf_puts(out, "hidden");
		}
	}
	return vl_agg_format(out, v);
}

static const vl_agg_unit *unit_of(const vl_aggregate_result *r, const char *code)
{
	size_t i;

	for (i = 0; i < r->nunits; i++)
		if (strcmp(r->units[i].code, code) == 0)
			return &r->units[i];
	return NULL;
}

void vl_agg_publish_result_free(vl_agg_publish_result *r)
{
	if (!r)
		return;
	vl_aggregate_result_free(&r->agg);
	memset(r, 0, sizeof(*r));
}

static int push_str(vl_value *list, const char *s)
{
	vl_value *v = vl_value_str(s);

	if (!v)
		return vl_error_set(VL_ENOMEM, "out of memory");
	return vl_value_list_push(list, v);
}

int vl_aggregate_publish(vl_node *n, const vl_aggregate_opts *opts, vl_agg_publish_result *out)
{
	vl_aggregate_opts o = VL_AGGREGATE_OPTS_INIT;
	const vl_schema *s;
	const vl_agg_unit *top;
	vl_value *data = NULL, *heads = NULL, *figs = NULL;
	vl_record *rec = NULL;
	vl_buf t = VL_BUF_INIT, diag = VL_BUF_INIT, summary = VL_BUF_INIT;
	char now[32], id[VL_ULID_LEN + 1], hex[GIT_OID_HEXSZ + 1];
	time_t tt;
	struct tm tm;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (opts) {
		if ((opts->scope && strcmp(opts->scope, n->scope) != 0) || opts->by || opts->ledger || opts->nwhere ||
				opts->at)
			return vl_error_set(VL_EINVALID, "--publish writes every figure of this node's own unit: it "
					"takes no --scope, --by, --ledger or --where");
		o.divisions = opts->divisions;
		o.stale_after = opts->stale_after;
		o.now = opts->now;
		o.no_cache = opts->no_cache;
		o.progress = opts->progress;
	}
	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	if (!(s = vl_node_schema(n, REPORT_LEDGER)))
		return vl_error_set(VL_ENOTFOUND, "this network's schemas have no '%s' ledger; an admin installs "
				"schemas/%s.yaml in the config branch first", REPORT_LEDGER, REPORT_LEDGER);
	if ((rc = vl_ledger_may_write(n, n->scope)) < 0 || (rc = vl_aggregate_run(n, &o, &out->agg)) < 0)
		return rc;
	if (!(top = unit_of(&out->agg, n->scope)))
		return vl_error_set(VL_ERROR, "no figures for unit '%s'", n->scope);
	tt = (time_t)out->agg.now;
	if (!gmtime_r(&tt, &tm) || !strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return vl_error_set(VL_EINVALID, "the clock is out of range");
	if (!(data = vl_value_new(VL_V_MAP)) || !(heads = vl_value_new(VL_V_LIST)) || !(figs = vl_value_new(VL_V_LIST))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < out->agg.nunits; i++) {
		const vl_agg_unit *u = &out->agg.units[i];
		if (!u->have_branch)
			continue;
		vl_buf_clear(&t);
		git_oid_tostr(hex, sizeof(hex), &u->head);
		if ((rc = vl_buf_printf(&t, "%s %s", u->code, hex)) < 0 || (rc = push_str(heads, t.ptr)) < 0)
			goto out;
		out->nheads++;
	}
	for (i = 0; i < out->agg.nfigs; i++) {
		vl_buf_clear(&t);
		if ((rc = vl_agg_published_figure(&t, &out->agg, top, i)) < 0 || (rc = push_str(figs, t.ptr)) < 0)
			goto out;
	}
	if ((rc = vl_value_map_set(data, "unit", vl_value_str(n->scope))) < 0 ||
			(rc = vl_value_map_set(data, "computed_at", vl_value_str(now))) < 0 ||
			(rc = vl_value_map_set(data, "rule", vl_value_str(VL_AGG_RULE))) < 0)
		goto out;
	rc = vl_value_map_set(data, "heads", heads);
	heads = NULL;
	if (rc < 0)
		goto out;
	rc = vl_value_map_set(data, "figures", figs);
	figs = NULL;
	if (rc < 0 || (rc = vl_value_map_set(data, "never_synced", vl_value_int((long long)top->never_synced_below))) < 0 ||
			(rc = vl_value_map_set(data, "stale", vl_value_int((long long)(top->stale_below + (size_t)top->stale)))) < 0)
		goto out;
	if ((rc = vl_schema_validate(s, data, 0, &diag)) < 0) {
		rc = vl_error_set(rc, "the report does not fit ledger '%s' (a schema too old for these figures?):\n%s",
				REPORT_LEDGER, diag.ptr ? diag.ptr : "");
		goto out;
	}
	vl_ulid_new(id, vl_hlc_wall_ms());
	if ((rc = vl_record_new(&rec, s->name, id, n->scope)) < 0)
		goto out;
	vl_value_free(rec->data);
	rec->data = data;
	data = NULL;
	if ((rc = vl_buf_printf(&summary, "publish the figures of %s", n->scope)) < 0 ||
			(rc = vl_ledger_commit(&out->commit, n, n->scope, &rec, 1, summary.ptr, NULL)) < 0)
		goto out;
	memcpy(out->id, id, sizeof(out->id));
	memcpy(out->unit, n->scope, sizeof(out->unit));
	rc = 0;
out:
	vl_record_free(rec);
	vl_value_free(data);
	vl_value_free(heads);
	vl_value_free(figs);
	vl_buf_free(&t);
	vl_buf_free(&diag);
	vl_buf_free(&summary);
	return rc;
}

void vl_agg_check_result_free(vl_agg_check_result *r)
{
	if (!r)
		return;
	vl_buf_free(&r->mismatches);
	memset(r, 0, sizeof(*r));
}

int vl_aggregate_check(vl_node *n, const char *id, const vl_aggregate_opts *opts, vl_agg_check_result *out)
{
	vl_aggregate_opts o = VL_AGGREGATE_OPTS_INIT;
	vl_aggregate_result agg;
	vl_found f;
	vl_agg_head *at = NULL;
	const vl_value *unit, *heads, *figs, *rule;
	const vl_agg_unit *top;
	vl_buf t = VL_BUF_INIT;
	size_t i, k;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&agg, 0, sizeof(agg));
	memset(&f, 0, sizeof(f));
	if (!id)
		return vl_error_set(VL_EINVALID, "--check needs the id of an aggregate_report record");
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&f, n, id)) < 0)
		goto out;
	if (strcmp(f.rec->schema, REPORT_LEDGER) != 0) {
		rc = vl_error_set(VL_EINVALID, "record '%s' is a '%s', not an %s", id, f.rec->schema, REPORT_LEDGER);
		goto out;
	}
	unit = vl_value_map_get(f.rec->data, "unit");
	heads = vl_value_map_get(f.rec->data, "heads");
	figs = vl_value_map_get(f.rec->data, "figures");
	rule = vl_value_map_get(f.rec->data, "rule");
	if (f.rec->deleted || !unit || !unit->s || !heads || heads->kind != VL_V_LIST || !figs ||
			figs->kind != VL_V_LIST || !rule || !rule->s) {
		rc = vl_error_set(VL_EINVALID, "record '%s' lacks the unit, heads, figures or rule of a report", id);
		goto out;
	}
	if (strcmp(rule->s, VL_AGG_RULE) != 0) {
		rc = vl_error_set(VL_EINVALID, "report '%s' uses rule '%.20s', which this version does not know", id,
				rule->s);
		goto out;
	}
	snprintf(out->unit, sizeof(out->unit), "%s", unit->s);
	if (!(at = calloc(heads->n ? heads->n : 1, sizeof(*at)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < heads->n; i++) {
		const char *h = heads->items[i]->s;
		/* "CODE12 COMMIT": the schema's pattern, checked again. */
		if (!h || strlen(h) != 53 || h[12] != ' ' || git_oid_fromstrn(&at[i].head, h + 13, 40) < 0) {
			rc = vl_error_set(VL_EINVALID, "report '%s': head %zu is not 'CODE12 COMMIT'", id, i + 1);
			goto out;
		}
		memcpy(at[i].code, h, 12);
		at[i].code[12] = '\0';
	}
	out->nheads = heads->n;
	o.scope = out->unit;
	o.at = at;
	o.nat = heads->n;
	if (opts) {
		o.divisions = opts->divisions;
		o.no_cache = opts->no_cache;
	}
	if ((rc = vl_aggregate_run(n, &o, &agg)) < 0)
		goto out;
	if (!(top = unit_of(&agg, out->unit))) {
		rc = vl_error_set(VL_ERROR, "no figures for unit '%s'", out->unit);
		goto out;
	}
	out->nfigs = figs->n;
	for (i = 0; i < figs->n; i++) {
		const char *pub = figs->items[i]->s, *eq = pub ? strchr(pub, '=') : NULL;
		int found = 0;

		if (!eq) {
			rc = vl_error_set(VL_EINVALID, "report '%s': figure %zu is not KEY=VALUE", id, i + 1);
			goto out;
		}
		for (k = 0; k < agg.nfigs && !found; k++) {
			if (strlen(agg.figs[k].key) != (size_t)(eq - pub) || strncmp(agg.figs[k].key, pub, (size_t)(eq - pub)))
				continue;
			found = 1;
			vl_buf_clear(&t);
			if ((rc = vl_agg_published_figure(&t, &agg, top, k)) < 0)
				goto out;
			if (strcmp(t.ptr, pub) == 0)
				out->nmatch++;
			else if ((rc = vl_buf_printf(&out->mismatches, _("%.*s: published %s, recomputed %s\n"),
					(int)(eq - pub), pub, eq + 1, strchr(t.ptr, '=') + 1)) < 0)
				goto out;
		}
		if (!found && (rc = vl_buf_printf(&out->mismatches, _("%.*s: published %s, no such figure in this "
				"node's schemas\n"), (int)(eq - pub), pub, eq + 1)) < 0)
			goto out;
	}
	rc = 0;
out:
	vl_buf_free(&t);
	free(at);
	vl_aggregate_result_free(&agg);
	vl_found_free(&f);
	return rc;
}
