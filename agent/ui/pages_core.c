/*
 * pages_core.c - the core pages of the UI: the ledgers of this node (/),
 * a ledger's record list (/ledger/NAME), a record (/record/ID) with its
 * reveal button and history, and the unlock page (/unlock).
 *
 * Personal fields (schema pii) are masked with vl_schema_mask before any
 * value is written into a page; a reveal is a POST that logs through
 * vl_reveal_log first (like the CLI's --reveal) and shows the clear value
 * only when the log line was written.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/audit/audit.h"
#include "agent/node/reveal.h"
#include "agent/node/tz.h"
#include "agent/ops/history.h"
#include "agent/ops/record.h"
#include "agent/ui/ui.h"
#include "store/i18n.h"

/* The label of a ledger or field in the page's language. */
static const char *label(const vl_ui_req *q, const char *zh, const char *en)
{
	if (!strcmp(q->lang, "en") && en && *en)
		return en;
	return zh && *zh ? zh : en;
}

static int loaded(vl_node **out, vl_ui_req *q)
{
	vl_node *n = NULL;
	int rc;

	if ((rc = vl_ui_node(&n, q, 0)) < 0)
		return rc;
	if (!n->config_loaded && (rc = vl_node_load_config(n)) < 0)
		return rc;
	*out = n;
	return 0;
}

/* ---- / ---------------------------------------------------------------------- */

static int page_home(vl_ui_req *q, vl_ui_resp *r)
{
	vl_node *n = NULL;
	vl_buf *b = &r->body;
	size_t i;
	int rc;

	if ((rc = loaded(&n, q)) < 0)
		return rc;
	if ((rc = vl_ui_page_begin(b, q, _("Ledgers"))) < 0 ||
			(rc = vl_buf_puts(b, "<p class=\"muted\">")) < 0 ||
			(rc = vl_ui_esc(b, n->name)) < 0 ||
			(rc = vl_buf_puts(b, " &middot; ")) < 0 || (rc = vl_ui_esc(b, n->role)) < 0 ||
			(rc = vl_buf_puts(b, " &middot; ")) < 0 || (rc = vl_ui_esc(b, n->scope)) < 0 ||
			(rc = vl_buf_printf(b, "</p>\n<table class=\"ledgers\">\n<tr><th>")) < 0 ||
			(rc = vl_ui_esc(b, _("Ledger"))) < 0 || (rc = vl_buf_puts(b, "</th><th>")) < 0 ||
			(rc = vl_ui_esc(b, _("Records"))) < 0 || (rc = vl_buf_puts(b, "</th></tr>\n")) < 0)
		return rc;
	for (i = 0; i < n->nschemas; i++) {
		const vl_schema *s = n->schemas[i];
		vl_list_opts lo = VL_LIST_OPTS_INIT;
		vl_list_result lr;

		lo.ledger = s->name;
		rc = vl_list(n, &lo, &lr);
		if (rc >= 0)
			(void)((rc = vl_buf_puts(b, "<tr><td><a href=\"/ledger/")) < 0 ||
				(rc = vl_ui_url_esc(b, s->name)) < 0 || (rc = vl_buf_puts(b, "\">")) < 0 ||
				(rc = vl_ui_esc(b, label(q, s->label_zh, s->label_en))) < 0 ||
				(rc = vl_buf_puts(b, "</a> <span class=\"muted\">")) < 0 ||
				(rc = vl_ui_esc(b, s->name)) < 0 ||
				(rc = vl_buf_printf(b, "</span></td><td class=\"num\">%zu</td></tr>\n", lr.n)) < 0);
		vl_list_result_free(&lr);
		if (rc < 0)
			return rc;
	}
	if ((rc = vl_buf_puts(b, "</table>\n")) < 0)
		return rc;
	return vl_ui_page_end(b, q);
}


/* ---- /ledger/NAME ------------------------------------------------------------------ */

/* A value as a cell: a ref by its record's label, else the display text
 * (vl_audit_value_text), escaped; "-" when absent. */
static int cell(vl_buf *b, const vl_field *f, const vl_value *v, const vl_value *ref_label, int tz_min)
{
	vl_buf t = VL_BUF_INIT;
	int rc;

	if (ref_label && ref_label->kind == VL_V_STR)
		rc = vl_buf_puts(&t, ref_label->s);
	else
		rc = v ? vl_audit_value_text(&t, f, v, tz_min) : vl_buf_puts(&t, "-");
	if (rc >= 0)
		rc = vl_ui_esc_n(b, t.ptr ? t.ptr : "", t.len);
	vl_buf_free(&t);
	return rc;
}

/* The filter text split into --where expressions at ';' (borrowed into
 * buf, which owns the copy). */
static int split_where(char **buf, const char ***out, size_t *n, const char *text)
{
	char *p, *e;
	size_t k = 0, cap = 1;

	*out = NULL;
	*n = 0;
	for (p = (char *)text; *p; p++)
		cap += *p == ';';
	if (!(*buf = strdup(text)) || !(*out = calloc(cap, sizeof(**out))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (p = *buf; p; p = e) {
		if ((e = strchr(p, ';')))
			*e++ = '\0';
		while (*p == ' ')
			p++;
		if (*p)
			(*out)[k++] = p;
	}
	*n = k;
	return 0;
}

static int page_ledger(vl_ui_req *q, vl_ui_resp *r)
{
	vl_list_opts lo = VL_LIST_OPTS_INIT;
	vl_list_result lr;
	vl_node *n = NULL;
	vl_buf *b = &r->body;
	const vl_schema *s;
	const vl_field *cols[VL_LIST_COLUMNS_MAX], *f;
	const char *where = vl_ui_form_get(&q->query, "where"), *pg = vl_ui_form_get(&q->query, "page");
	const char **exprs = NULL;
	char *wbuf = NULL;
	size_t i, k, ncols = 0, nexprs = 0, page = 1, pages, first, last;
	int rc, list_rc;
	vl_value *shown = NULL;

	memset(&lr, 0, sizeof(lr));
	if ((rc = loaded(&n, q)) < 0)
		return rc;
	if (!(s = vl_node_schema(n, q->args[0])))
		return vl_error_set(VL_ENOTFOUND, "there is no ledger '%s' on this node", q->args[0]);
	if (pg) {
		char *end = NULL;
		unsigned long v = strtoul(pg, &end, 10);

		if (!*pg || *end || v < 1 || v > 1000000)
			return vl_error_set(VL_EINVALID, "page '%s' is not a page number", pg);
		page = v;
	}
	if (where && *where && (rc = split_where(&wbuf, &exprs, &nexprs, where)) < 0)
		goto out;
	lo.ledger = s->name;
	lo.where = exprs;
	lo.nwhere = nexprs;
	lo.ref_labels = 1;
	list_rc = vl_list(n, &lo, &lr);
	if ((rc = vl_ui_page_begin(b, q, label(q, s->label_zh, s->label_en))) < 0)
		goto out;
	if ((rc = vl_buf_puts(b, "<p><a class=\"new\" href=\"/ledger/")) < 0 || (rc = vl_ui_url_esc(b, s->name)) < 0 ||
			(rc = vl_buf_puts(b, "/new\">")) < 0 || (rc = vl_ui_esc(b, _("New record"))) < 0 ||
			(rc = vl_buf_puts(b, "</a></p>\n")) < 0)
		goto out;
	/* the filter box: the --where language of the command line */
	if ((rc = vl_buf_puts(b, "<form class=\"filter\" method=\"get\" action=\"/ledger/")) < 0 ||
			(rc = vl_ui_url_esc(b, s->name)) < 0 ||
			(rc = vl_buf_puts(b, "\"><label>")) < 0 || (rc = vl_ui_esc(b, _("Filter"))) < 0 ||
			(rc = vl_buf_puts(b, " <input class=\"where\" type=\"text\" name=\"where\" value=\"")) < 0 ||
			(rc = vl_ui_esc(b, where)) < 0 ||
			(rc = vl_buf_puts(b, "\" placeholder=\"")) < 0 ||
			(rc = vl_ui_esc(b, _("e.g. gender=female; birth_date<1960-01-01"))) < 0 ||
			(rc = vl_buf_puts(b, "\"></label> <button type=\"submit\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Filter"))) < 0 || (rc = vl_buf_puts(b, "</button></form>\n")) < 0)
		goto out;
	if (list_rc < 0) {
		/* a filter that does not parse: say why, beside the box */
		r->status = list_rc == VL_EINVALID || list_rc == VL_ENOTFOUND ? 400 : 500;
		if ((rc = vl_buf_puts(b, "<p class=\"error\">")) < 0 || (rc = vl_ui_esc(b, vl_error_last())) < 0 ||
				(rc = vl_buf_puts(b, "</p>\n")) < 0)
			goto out;
		rc = vl_ui_page_end(b, q);
		goto out;
	}
	for (i = 0; i < s->nlist_columns && ncols < VL_LIST_COLUMNS_MAX; i++)
		if ((f = vl_schema_field(s, s->list_columns[i])))
			cols[ncols++] = f;
	for (i = 0; !s->nlist_columns && i < s->nfields && ncols < 4; i++)
		if (s->fields[i].type != VL_T_TEXT && s->fields[i].type != VL_T_LIST && s->fields[i].type != VL_T_MAP)
			cols[ncols++] = &s->fields[i];
	pages = lr.n ? (lr.n + VL_UI_PAGE_SIZE - 1) / VL_UI_PAGE_SIZE : 1;
	if (page > pages)
		page = pages;
	first = (page - 1) * VL_UI_PAGE_SIZE;
	last = first + VL_UI_PAGE_SIZE < lr.n ? first + VL_UI_PAGE_SIZE : lr.n;
	if ((rc = vl_buf_puts(b, "<p class=\"muted\">")) < 0 ||
			(rc = vl_buf_printf(b, _("%zu records, page %zu of %zu"), lr.n, page, pages)) < 0 ||
			(rc = vl_buf_puts(b, "</p>\n<table class=\"records\">\n<tr>")) < 0)
		goto out;
	for (i = 0; i < ncols; i++)
		if ((rc = vl_buf_puts(b, "<th>")) < 0 ||
				(rc = vl_ui_esc(b, label(q, cols[i]->label_zh, cols[i]->label_en))) < 0 ||
				(rc = vl_buf_puts(b, "</th>")) < 0)
			goto out;
	if ((rc = vl_buf_puts(b, "<th>")) < 0 || (rc = vl_ui_esc(b, _("Village"))) < 0 ||
			(rc = vl_buf_puts(b, "</th></tr>\n")) < 0)
		goto out;
	for (k = first; k < last; k++) {
		const vl_record *rec = lr.items[k].rec;

		vl_value_free(shown);
		shown = NULL;
		if ((rc = vl_schema_mask(&shown, s, rec->data)) < 0)
			goto out;
		if ((rc = vl_buf_puts(b, "<tr>")) < 0)
			goto out;
		for (i = 0; i < ncols; i++) {
			if ((rc = vl_buf_puts(b, "<td>")) < 0)
				goto out;
			/* the first column links to the record */
			if (i == 0 && ((rc = vl_buf_puts(b, "<a href=\"/record/")) < 0 ||
					(rc = vl_ui_url_esc(b, rec->id)) < 0 || (rc = vl_buf_puts(b, "\">")) < 0))
				goto out;
			if ((rc = cell(b, cols[i], vl_value_map_get(shown, cols[i]->name),
					vl_value_map_get(lr.items[k].ref_labels, cols[i]->name), n->tz_min)) < 0 ||
					(rc = vl_buf_puts(b, i == 0 ? "</a></td>" : "</td>")) < 0)
				goto out;
		}
		if ((rc = vl_buf_puts(b, "<td class=\"muted\">")) < 0 || (rc = vl_ui_esc(b, rec->scope)) < 0 ||
				(rc = vl_buf_puts(b, "</td></tr>\n")) < 0)
			goto out;
	}
	if ((rc = vl_buf_puts(b, "</table>\n<div class=\"pager\">")) < 0)
		goto out;
	for (i = 0; i < 2; i++) {
		size_t to = i == 0 ? page - 1 : page + 1;

		if (to < 1 || to > pages)
			continue;
		if ((rc = vl_buf_puts(b, "<a href=\"/ledger/")) < 0 || (rc = vl_ui_url_esc(b, s->name)) < 0 ||
				(rc = vl_buf_printf(b, "?page=%zu", to)) < 0)
			goto out;
		if (where && *where && ((rc = vl_buf_puts(b, "&amp;where=")) < 0 || (rc = vl_ui_url_esc(b, where)) < 0))
			goto out;
		if ((rc = vl_buf_printf(b, "\" rel=\"%s\">", i == 0 ? "prev" : "next")) < 0 ||
				(rc = vl_ui_esc(b, i == 0 ? _("Previous page") : _("Next page"))) < 0 ||
				(rc = vl_buf_puts(b, "</a>")) < 0)
			goto out;
	}
	if ((rc = vl_buf_puts(b, "</div>\n")) < 0)
		goto out;
	rc = vl_ui_page_end(b, q);
out:
	vl_value_free(shown);
	vl_list_result_free(&lr);
	free(exprs);
	free(wbuf);
	return rc;
}

/* ---- /record/ID ----------------------------------------------------------------------- */

static const char *how_text(vl_audit_how how)
{
	switch (how) {
	case VL_AUDIT_SET: return _("set");
	case VL_AUDIT_ONE_SIDE: return _("merge: one side changed it");
	case VL_AUDIT_SAME: return _("merge: both made the same change");
	case VL_AUDIT_RULE: return _("merge: decided by the rule");
	case VL_AUDIT_PERSON: return _("merge: left for a person");
	}
	return "";
}

static int history_section(vl_buf *b, vl_ui_req *q, vl_node *n, const char *id)
{
	vl_history_opts ho = VL_HISTORY_OPTS_INIT;
	vl_history_result hr;
	vl_value *m = NULL;
	size_t i, k;
	int rc;

	memset(&hr, 0, sizeof(hr));
	ho.id = id;
	if ((rc = vl_history(n, &ho, &hr)) < 0)
		goto out;
	if ((rc = vl_buf_puts(b, "<h2>")) < 0 || (rc = vl_ui_esc(b, _("History"))) < 0 ||
			(rc = vl_buf_puts(b, "</h2>\n<table class=\"history\">\n<tr><th>")) < 0 ||
			(rc = vl_ui_esc(b, _("When"))) < 0 || (rc = vl_buf_puts(b, "</th><th>")) < 0 ||
			(rc = vl_ui_esc(b, _("Who"))) < 0 || (rc = vl_buf_puts(b, "</th><th>")) < 0 ||
			(rc = vl_ui_esc(b, _("What"))) < 0 || (rc = vl_buf_puts(b, "</th><th>")) < 0 ||
			(rc = vl_ui_esc(b, _("Changes"))) < 0 || (rc = vl_buf_puts(b, "</th></tr>\n")) < 0)
		goto out;
	for (i = hr.h.n; i-- > 0;) {
		const vl_audit_version *v = &hr.h.v[i];
		const vl_roster_entry *e = vl_node_roster_find(n, v->rec->author);

		if ((rc = vl_buf_puts(b, "<tr><td>")) < 0)
			goto out;
		if (v->have_commit) {
			vl_buf t = VL_BUF_INIT;

			rc = vl_time_show_secs(&t, (int64_t)v->commit_time, n->tz_min);
			if (rc >= 0)
				rc = vl_ui_esc_n(b, t.ptr ? t.ptr : "", t.len);
			vl_buf_free(&t);
			if (rc < 0)
				goto out;
		}
		if ((rc = vl_buf_puts(b, "</td><td>")) < 0)
			goto out;
		if (v->operator_name && ((rc = vl_ui_esc(b, v->operator_name)) < 0 || (rc = vl_buf_puts(b, "<br>")) < 0))
			goto out;
		if ((rc = vl_ui_esc(b, e ? e->name : v->commit_name)) < 0 ||
				(rc = vl_buf_puts(b, " <span class=\"muted\">")) < 0 ||
				(rc = vl_ui_esc_n(b, v->rec->author, strnlen(v->rec->author, 20))) < 0 ||
				(rc = vl_buf_puts(b, "</span></td><td>")) < 0 || (rc = vl_ui_esc(b, v->kind)) < 0 ||
				(rc = vl_buf_puts(b, "</td><td>")) < 0)
			goto out;
		for (k = 0; k < v->nchanges; k++) {
			const vl_audit_change *c = &v->changes[k];
			const vl_field *f = vl_schema_field(hr.h.schema, c->field);

			vl_value_free(m);
			m = NULL;
			if ((rc = vl_audit_mask_value(&m, hr.h.schema, c->field, c->now)) < 0 ||
					(rc = vl_ui_esc(b, f ? label(q, f->label_zh, f->label_en) : c->field)) < 0 ||
					(rc = vl_buf_puts(b, ": ")) < 0 || (rc = cell(b, f, m, NULL, n->tz_min)) < 0 ||
					(rc = vl_buf_puts(b, " <span class=\"rule\">")) < 0 ||
					(rc = vl_ui_esc(b, how_text(c->how))) < 0)
				goto out;
			if (c->rule && ((rc = vl_buf_puts(b, " (")) < 0 || (rc = vl_ui_esc(b, c->rule)) < 0 ||
					(rc = vl_buf_puts(b, ")")) < 0))
				goto out;
			if ((rc = vl_buf_puts(b, "</span><br>")) < 0)
				goto out;
		}
		if ((rc = vl_buf_puts(b, "</td></tr>\n")) < 0)
			goto out;
	}
	rc = vl_buf_puts(b, "</table>\n");
out:
	vl_value_free(m);
	vl_history_result_free(&hr);
	return rc;
}

/* The confirmation a form's POST asked for by redirecting here with
 * ?done=added|edited|unchanged (and &dup=ID: a likely duplicate). */
static int notice(vl_buf *b, const vl_ui_req *q)
{
	const char *done = vl_ui_form_get(&q->query, "done"), *dup = vl_ui_form_get(&q->query, "dup"), *msg = NULL;
	int rc;

	if (!done)
		return 0;
	if (!strcmp(done, "added"))
		msg = _("The record was added.");
	else if (!strcmp(done, "edited"))
		msg = _("The changes were saved.");
	else if (!strcmp(done, "unchanged"))
		msg = _("Nothing was changed.");
	if (!msg)
		return 0;
	if ((rc = vl_buf_puts(b, "<p class=\"notice\">")) < 0 || (rc = vl_ui_esc(b, msg)) < 0)
		return rc;
	if (dup && *dup && ((rc = vl_buf_puts(b, "<br>")) < 0 ||
			(rc = vl_ui_esc(b, _("A record with the same identity exists already:"))) < 0 ||
			(rc = vl_buf_puts(b, " <a href=\"/record/")) < 0 || (rc = vl_ui_url_esc(b, dup)) < 0 ||
			(rc = vl_buf_puts(b, "\">")) < 0 || (rc = vl_ui_esc(b, dup)) < 0 || (rc = vl_buf_puts(b, "</a>")) < 0))
		return rc;
	return vl_buf_puts(b, "</p>\n");
}

/* The record page; `reveal`: a personal field to show in clear (logged by
 * the caller before), or NULL. */
static int record_page(vl_ui_req *q, vl_ui_resp *r, const char *reveal)
{
	vl_show_opts so = VL_SHOW_OPTS_INIT;
	vl_show_result sr;
	vl_node *n = NULL;
	vl_value *shown = NULL;
	vl_buf *b = &r->body;
	const vl_schema *s;
	const vl_record *rec;
	size_t i;
	int rc;

	memset(&sr, 0, sizeof(sr));
	if ((rc = loaded(&n, q)) < 0)
		return rc;
	so.id = q->args[0];
	if ((rc = vl_show(n, &so, &sr)) < 0)
		goto out;
	s = sr.found.schema;
	rec = sr.found.rec;
	if ((rc = vl_schema_mask(&shown, s, rec->data)) < 0)
		goto out;
	if (reveal && (rc = vl_value_map_set(shown, reveal, vl_value_clone(vl_value_map_get(rec->data, reveal)))) < 0)
		goto out;
	if ((rc = vl_ui_page_begin(b, q, label(q, s->label_zh, s->label_en))) < 0 ||
			(rc = vl_buf_puts(b, "<p class=\"muted\">")) < 0 || (rc = vl_ui_esc(b, rec->id)) < 0 ||
			(rc = vl_buf_puts(b, " &middot; ")) < 0 || (rc = vl_ui_esc(b, rec->scope)) < 0 ||
			(rc = vl_buf_puts(b, " &middot; <a href=\"/ledger/")) < 0 || (rc = vl_ui_url_esc(b, s->name)) < 0 ||
			(rc = vl_buf_puts(b, "\">")) < 0 || (rc = vl_ui_esc(b, _("Back to the list"))) < 0 ||
			(rc = vl_buf_puts(b, "</a></p>\n")) < 0)
		goto out;
	if ((rc = notice(b, q)) < 0)
		goto out;
	if (!rec->deleted && ((rc = vl_buf_puts(b, "<p><a href=\"/record/")) < 0 ||
			(rc = vl_ui_url_esc(b, rec->id)) < 0 || (rc = vl_buf_puts(b, "/edit\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Edit"))) < 0 || (rc = vl_buf_puts(b, "</a></p>\n")) < 0))
		goto out;
	if (rec->deleted && ((rc = vl_buf_puts(b, "<p class=\"error\">")) < 0 ||
			(rc = vl_ui_esc(b, _("This record was deleted."))) < 0 || (rc = vl_buf_puts(b, "</p>\n")) < 0))
		goto out;
	if ((rc = vl_buf_puts(b, "<table class=\"record\">\n")) < 0)
		goto out;
	for (i = 0; i < s->nfields; i++) {
		const vl_field *f = &s->fields[i];
		const vl_value *v = vl_value_map_get(shown, f->name);

		if (!v && !vl_value_map_get(rec->data, f->name))
			continue;
		if ((rc = vl_buf_puts(b, "<tr><th>")) < 0 || (rc = vl_ui_esc(b, label(q, f->label_zh, f->label_en))) < 0 ||
				(rc = vl_buf_puts(b, "</th><td")) < 0 ||
				(rc = vl_buf_puts(b, f->pii && !(reveal && !strcmp(reveal, f->name)) ? " class=\"masked\">" : ">")) < 0 ||
				(rc = cell(b, f, v, NULL, n->tz_min)) < 0)
			goto out;
		if (f->pii && !(reveal && !strcmp(reveal, f->name))) {
			if ((rc = vl_buf_puts(b, " <form class=\"inline\" method=\"post\" action=\"/record/")) < 0 ||
					(rc = vl_ui_url_esc(b, rec->id)) < 0 || (rc = vl_buf_puts(b, "/reveal\">")) < 0 ||
					(rc = vl_ui_csrf_field(b, q)) < 0 ||
					(rc = vl_buf_puts(b, "<input type=\"hidden\" name=\"field\" value=\"")) < 0 ||
					(rc = vl_ui_esc(b, f->name)) < 0 ||
					(rc = vl_buf_puts(b, "\"><button type=\"submit\" class=\"reveal\">")) < 0 ||
					(rc = vl_ui_esc(b, _("Show"))) < 0 || (rc = vl_buf_puts(b, "</button></form>")) < 0)
				goto out;
		}
		if ((rc = vl_buf_puts(b, "</td></tr>\n")) < 0)
			goto out;
	}
	if ((rc = vl_buf_puts(b, "</table>\n")) < 0 || (rc = history_section(b, q, n, rec->id)) < 0)
		goto out;
	rc = vl_ui_page_end(b, q);
out:
	vl_value_free(shown);
	vl_show_result_free(&sr);
	return rc;
}

static int page_record(vl_ui_req *q, vl_ui_resp *r)
{
	return record_page(q, r, NULL);
}

/* POST /record/ID/reveal field=NAME: logged in log/reveal.log first (the
 * reveal is refused when the log cannot be written), then the page with
 * that one field in clear. */
static int post_reveal(vl_ui_req *q, vl_ui_resp *r)
{
	vl_show_opts so = VL_SHOW_OPTS_INIT;
	vl_show_result sr;
	vl_node *n = NULL;
	const vl_field *f;
	const char *field = vl_ui_form_get(&q->form, "field");
	int rc;

	memset(&sr, 0, sizeof(sr));
	if ((rc = loaded(&n, q)) < 0)
		return rc;
	so.id = q->args[0];
	if ((rc = vl_show(n, &so, &sr)) < 0)
		goto out;
	if (!field || !(f = vl_schema_field(sr.found.schema, field)) || !f->pii) {
		rc = vl_error_set(VL_EINVALID, "say which personal field to show");
		goto out;
	} else {
		const char *ids[1] = { sr.found.rec->id };
		vl_reveal_entry e = { "ui show", sr.found.schema->name, sr.found.scope, ids, 1, 1 };

		if ((rc = vl_reveal_log(n, &e)) < 0)
			goto out;
	}
	rc = record_page(q, r, f->name);
out:
	vl_show_result_free(&sr);
	return rc;
}

/* ---- /unlock -------------------------------------------------------------------- */

static int unlock_form(vl_ui_req *q, vl_ui_resp *r, const char *error)
{
	vl_buf *b = &r->body;
	int rc;

	vl_buf_clear(b);
	if ((rc = vl_ui_page_begin(b, q, _("Unlock the key"))) < 0)
		return rc;
	if (!vl_ui_locked(q)) {
		if ((rc = vl_buf_puts(b, "<p class=\"ok\">")) < 0 ||
				(rc = vl_ui_esc(b, _("The key is unlocked: this page can save changes."))) < 0 ||
				(rc = vl_buf_puts(b, "</p>\n")) < 0)
			return rc;
		return vl_ui_page_end(b, q);
	}
	if ((rc = vl_buf_puts(b, "<p>")) < 0 ||
			(rc = vl_ui_esc(b, _("This node's key is sealed with a passphrase. Enter it to save changes; "
					"it is kept in memory until the UI stops."))) < 0 ||
			(rc = vl_buf_puts(b, "</p>\n")) < 0)
		return rc;
	if (error && ((rc = vl_buf_puts(b, "<p class=\"error\">")) < 0 || (rc = vl_ui_esc(b, error)) < 0 ||
			(rc = vl_buf_puts(b, "</p>\n")) < 0))
		return rc;
	if ((rc = vl_buf_puts(b, "<form method=\"post\" action=\"/unlock\">")) < 0 ||
			(rc = vl_ui_csrf_field(b, q)) < 0 ||
			(rc = vl_buf_puts(b, "<label>")) < 0 || (rc = vl_ui_esc(b, _("Passphrase"))) < 0 ||
			(rc = vl_buf_puts(b, " <input type=\"password\" name=\"passphrase\" autocomplete=\"off\" "
					"autofocus></label> <button class=\"primary\" type=\"submit\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Unlock"))) < 0 || (rc = vl_buf_puts(b, "</button></form>\n")) < 0)
		return rc;
	return vl_ui_page_end(b, q);
}

static int page_unlock(vl_ui_req *q, vl_ui_resp *r)
{
	return unlock_form(q, r, NULL);
}

static int post_unlock(vl_ui_req *q, vl_ui_resp *r)
{
	const char *pass = vl_ui_form_get(&q->form, "passphrase");
	int rc;

	if (!vl_ui_locked(q))
		return vl_ui_redirect(r, "/");
	if (!pass || !*pass)
		return unlock_form(q, r, _("Enter the passphrase."));
	rc = vl_ui_unlock(q->ui, pass);
	if (rc == VL_EDENIED || rc == VL_EINVALID) {
		r->status = 403;
		return unlock_form(q, r, _("The passphrase is wrong."));
	}
	if (rc < 0)
		return rc;
	return vl_ui_redirect(r, "/");
}

const vl_ui_route vl_ui_routes_core[] = {
	{ "GET", "/", page_home },
	{ "GET", "/ledger/*", page_ledger },
	{ "GET", "/record/*", page_record },
	{ "POST", "/record/*/reveal", post_reveal },
	{ "GET", "/unlock", page_unlock },
	{ "POST", "/unlock", post_unlock },
	{ NULL, NULL, NULL }
};
