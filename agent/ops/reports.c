/* reports.c - the upward-report tracker and its renderers (reports.h). */
#include "agent/ops/reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/node/divisions.h"
#include "agent/node/ledger.h"
#include "schemas/types.h"
#include "store/hlc.h"
#include "store/i18n.h"
#include "store/record.h"
#include "store/repo.h"
#include "store/yaml.h"

/* Units one call may name, and calls one run collects: caps on what the
 * repository (signed, but large) hands this loop. */
#define MAX_UNITS 100000
#define MAX_CALLS 10000

typedef struct {
	char code[13];
	git_oid head;
} branch;

typedef struct {
	vl_node *n;
	const vl_reports_opts *opts;
	vl_reports_result *res;
	size_t cap;
	vl_record **recs;        /* the calls' records, parallel to res->calls */
	size_t recs_cap;
	/* answer search */
	const char *call_id;
	vl_record *best;
	char best_at[21];
	/* the division table, loaded by the first call with all_villages_of */
	vl_divisions div;
	int div_loaded, have_div;
} rctx;

const char *vl_report_state_name(vl_report_state s)
{
	static const char *const names[] = { "reported", "late", "missing", "open" };
	return (unsigned)s < 4 ? names[s] : "?";
}

const char *vl_report_state_zh(vl_report_state s)
{
	static const char *const names[] = { "按时报送", "逾期报送", "未报送", "未到期" };
	return (unsigned)s < 4 ? names[s] : "?";
}

void vl_reports_result_free(vl_reports_result *r)
{
	size_t i, j;

	if (!r)
		return;
	for (i = 0; i < r->ncalls; i++) {
		vl_report_call *c = &r->calls[i];
		for (j = 0; j < c->nunits; j++) {
			free(c->units[j].name);
			free(c->units[j].submitted);
			vl_value_free(c->units[j].contact_name);
			vl_value_free(c->units[j].contact_phone);
		}
		free(c->units);
		free(c->title);
		free(c->kind);
	}
	free(r->calls);
	memset(r, 0, sizeof(*r));
}

/* ---- dates ----------------------------------------------------------------- */

/* YYYY-MM-DD of a day count since 1970-01-01 into out. */
static void date_of_days(int64_t z, char out[11])
{
	int64_t y;
	unsigned m, d;

	vl_civil_from_days(z, &y, &m, &d);
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)(y % 10000), m % 100u, d % 100u);
}

/* The date, in the network's time zone (tz_min minutes east of UTC:
 * China Standard Time unless network.yaml says otherwise), of a UTC time
 * "YYYY-MM-DDTHH:MM:SS..." into out; 0 if t does not start that way. */
static int local_date(const char *t, int tz_min, char out[11])
{
	unsigned y, mo, d, h, mi;
	long m;

	if (!t || strlen(t) < 19 || sscanf(t, "%4u-%2u-%2uT%2u:%2u", &y, &mo, &d, &h, &mi) != 5 || mo < 1 ||
			mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
		return 0;
	m = (long)h * 60 + (long)mi + tz_min;  /* |tz_min| <= 14 h: at most one day either way */
	date_of_days(vl_days_from_civil(y, mo, d) + (m >= 1440 ? 1 : m < 0 ? -1 : 0), out);
	return 1;
}

static void today_local(char out[11], int tz_min)
{
	time_t t = time(NULL) + (time_t)tz_min * 60;
	struct tm tm;

	if (gmtime_r(&t, &tm))
		snprintf(out, 11, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
				(unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
	else
		snprintf(out, 11, "9999-12-31");
}

/* ---- collecting ------------------------------------------------------------ */

typedef struct {
	branch *b;
	size_t nb, cap;
} branch_list;

static int branch_add(const char code[13], const git_oid *head, void *ctx)
{
	branch_list *l = ctx;
	int rc;

	if ((rc = vl_array_grow((void **)&l->b, &l->cap, l->nb, sizeof(*l->b))) < 0)
		return rc;
	memcpy(l->b[l->nb].code, code, 13);
	git_oid_cpy(&l->b[l->nb].head, head);
	l->nb++;
	return 0;
}

static int list_branches(branch **out, size_t *nout, vl_node *n)
{
	branch_list l = {NULL, 0, 0};
	int rc;

	*out = NULL;
	*nout = 0;
	if ((rc = vl_scope_branches_each(n->repo, branch_add, &l)) < 0) {
		free(l.b);
		return rc;
	}
	*out = l.b;
	*nout = l.nb;
	return 0;
}

static const char *str_of(const vl_value *data, const char *field)
{
	const vl_value *v = vl_value_map_get(data, field);
	return v && v->kind == VL_V_STR ? v->s : NULL;
}

static int call_cb(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	rctx *c = ctx;
	vl_record *r = NULL;
	vl_report_call *rc_ = NULL;
	const char *deadline, *title, *kind;
	int rc;

	(void)blob;
	if ((rc = vl_record_parse(&r, raw, len, path)) < 0)
		return rc;
	deadline = str_of(r->data, "deadline");
	title = str_of(r->data, "title");
	kind = str_of(r->data, "kind");
	if (r->deleted || !deadline || strlen(deadline) != 10 || (c->opts->call && strcmp(c->opts->call, r->id)) ||
			(c->opts->due && strcmp(deadline, c->opts->due) > 0)) {
		vl_record_free(r);
		return 0;
	}
	if (c->res->ncalls >= MAX_CALLS) {
		vl_record_free(r);
		return vl_error_set(VL_ETOOBIG, "more than %d report calls; narrow with --call or --due", MAX_CALLS);
	}
	if ((rc = vl_array_grow((void **)&c->res->calls, &c->cap, c->res->ncalls, sizeof(*c->res->calls))) < 0) {
		vl_record_free(r);
		return rc;
	}
	if (c->recs_cap < c->cap) {
		vl_record **nr = realloc(c->recs, c->cap * sizeof(*c->recs));
		if (!nr) {
			vl_record_free(r);
			return vl_error_set(VL_ENOMEM, "out of memory");
		}
		c->recs = nr;
		c->recs_cap = c->cap;
	}
	rc_ = &c->res->calls[c->res->ncalls];
	memset(rc_, 0, sizeof(*rc_));
	memcpy(rc_->id, r->id, sizeof(rc_->id));
	memcpy(rc_->issuer, r->scope, sizeof(rc_->issuer));
	memcpy(rc_->deadline, deadline, 11);
	rc_->title = strdup(title ? title : "");
	rc_->kind = strdup(kind ? kind : "");
	c->recs[c->res->ncalls++] = r;
	if (!rc_->title || !rc_->kind)
		return vl_error_set(VL_ENOMEM, "out of memory");
	return 0;
}

/* The time a report counts as submitted: submitted_at, else its clock. */
static int submitted_time(const vl_record *r, char out[21])
{
	const char *t = str_of(r->data, "submitted_at");

	if (!t)
		t = r->clock;
	if (!t || strlen(t) < 19)
		return 0;
	snprintf(out, 21, "%.19sZ", t);
	return 1;
}

static int answer_cb(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	rctx *c = ctx;
	vl_record *r = NULL;
	const char *call, *status;
	char at[21];
	int rc;

	(void)blob;
	if ((rc = vl_record_parse(&r, raw, len, path)) < 0)
		return rc;
	call = str_of(r->data, "call");
	status = str_of(r->data, "status");
	/* A draft, or one reviewed (审核, report v3) but not sent, answers nothing yet. */
	if (r->deleted || !call || strcmp(call, c->call_id) || !status || !strcmp(status, "draft") ||
			!strcmp(status, "reviewed") ||
			!submitted_time(r, at) || (c->best && strcmp(at, c->best_at) >= 0)) {
		vl_record_free(r);
		return 0;
	}
	vl_record_free(c->best);
	c->best = r;
	memcpy(c->best_at, at, sizeof(at));
	return 0;
}

static int unit_cmp(const void *a, const void *b)
{
	return strcmp(((const vl_report_unit *)a)->code, ((const vl_report_unit *)b)->code);
}

static int call_cmp(const void *a, const void *b)
{
	const vl_report_call *x = a, *y = b;
	int d = strcmp(x->deadline, y->deadline);
	return d ? d : strcmp(x->id, y->id);
}

/* Add unit code to call c (once), if it lies in scope. */
static int add_unit(vl_report_call *c, size_t *cap, const char *code, const char *scope)
{
	size_t i;
	int rc;

	if (vl_division_level(code) == VL_DIV_INVALID || !vl_division_covers(scope, code))
		return 0;
	for (i = 0; i < c->nunits; i++)
		if (!strcmp(c->units[i].code, code))
			return 0;
	if (c->nunits >= MAX_UNITS)
		return vl_error_set(VL_ETOOBIG, "report call %s names more than %d units", c->id, MAX_UNITS);
	if ((rc = vl_array_grow((void **)&c->units, cap, c->nunits, sizeof(*c->units))) < 0)
		return rc;
	memset(&c->units[c->nunits], 0, sizeof(c->units[0]));
	memcpy(c->units[c->nunits].code, code, 13);
	c->units[c->nunits].state = VL_REPORT_MISSING;
	c->nunits++;
	return 0;
}

/* Units of call r: its `units`, and with `all_villages_of` T every village
 * below T in the division table (so a village without a node, or one not
 * fetched yet, is listed missing rather than left out), plus the villages
 * below T the node knows otherwise (roster entries, branches held), which
 * covers a village whose code a stale table lacks and a node without a
 * table. */
static int fill_units(rctx *ctx, vl_report_call *c, const vl_record *r, const branch *b, size_t nb, const char *scope)
{
	vl_node *n = ctx->n;
	const vl_value *units = vl_value_map_get(r->data, "units");
	const char *all = str_of(r->data, "all_villages_of");
	size_t i, cap = 0;
	int rc;

	for (i = 0; units && units->kind == VL_V_LIST && i < units->n; i++)
		if (units->items[i]->kind == VL_V_STR && (rc = add_unit(c, &cap, units->items[i]->s, scope)) < 0)
			return rc;
	if (all && vl_division_level(all) != VL_DIV_INVALID) {
		if (!ctx->div_loaded) {
			if ((rc = vl_divisions_load(&ctx->div, &ctx->have_div, n->home, ctx->opts->divisions)) < 0)
				return rc;
			ctx->div_loaded = 1;
		}
		for (i = 0; ctx->have_div && i < ctx->div.n; i++)
			if (ctx->div.d[i].level == VL_DIV_VILLAGE && vl_division_covers(all, ctx->div.d[i].code) &&
					(rc = add_unit(c, &cap, ctx->div.d[i].code, scope)) < 0)
				return rc;
		for (i = 0; i < n->nentries; i++) {
			const vl_roster_entry *e = &n->entries[i];
			if (e->role && !strcmp(e->role, "village") && e->scope && !e->revoked_at &&
					vl_division_covers(all, e->scope) && (rc = add_unit(c, &cap, e->scope, scope)) < 0)
				return rc;
		}
		for (i = 0; i < nb; i++)
			if (vl_division_level(b[i].code) == VL_DIV_VILLAGE && vl_division_covers(all, b[i].code) &&
					(rc = add_unit(c, &cap, b[i].code, scope)) < 0)
				return rc;
	}
	if (c->nunits)
		qsort(c->units, c->nunits, sizeof(*c->units), unit_cmp);
	return 0;
}

static int judge_unit(rctx *ctx, vl_report_call *c, vl_report_unit *u, const branch *b, size_t nb)
{
	char day[11];
	size_t i;
	int rc;

	for (i = 0; i < ctx->n->nentries; i++)
		if (ctx->n->entries[i].scope && !strcmp(ctx->n->entries[i].scope, u->code) && ctx->n->entries[i].name) {
			if (!(u->name = strdup(ctx->n->entries[i].name)))
				return vl_error_set(VL_ENOMEM, "out of memory");
			break;
		}
	if (!u->name && ctx->have_div) {
		/* No node of the unit in the roster: the division table's name. */
		const vl_division *d = vl_divisions_find(&ctx->div, u->code);
		if (d && d->name && !(u->name = strdup(d->name)))
			return vl_error_set(VL_ENOMEM, "out of memory");
	}
	ctx->call_id = c->id;
	ctx->best = NULL;
	for (i = 0; i < nb; i++)
		if (!strcmp(b[i].code, u->code)) {
			u->held = 1;
			if ((rc = vl_ledger_each(ctx->n, &b[i].head, "report", answer_cb, ctx)) < 0)
				goto out;
		}
	if (ctx->best) {
		memcpy(u->report, ctx->best->id, sizeof(u->report));
		if (!(u->submitted = strdup(ctx->best_at))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		if (vl_value_map_get(ctx->best->data, "contact_name") &&
				!(u->contact_name = vl_value_clone(vl_value_map_get(ctx->best->data, "contact_name")))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		if (vl_value_map_get(ctx->best->data, "contact_phone") &&
				!(u->contact_phone = vl_value_clone(vl_value_map_get(ctx->best->data, "contact_phone")))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		u->state = local_date(ctx->best_at, ctx->n->tz_min, day) && strcmp(day, c->deadline) <= 0 ? VL_REPORT_REPORTED : VL_REPORT_LATE;
	} else {
		u->state = strcmp(ctx->res->today, c->deadline) > 0 ? VL_REPORT_MISSING : VL_REPORT_OPEN;
	}
	c->counts[u->state]++;
	rc = 0;
out:
	vl_record_free(ctx->best);
	ctx->best = NULL;
	return rc;
}

int vl_reports(vl_node *n, const vl_reports_opts *opts, vl_reports_result *out)
{
	rctx c;
	branch *b = NULL;
	size_t nb = 0, i, j;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (!opts)
		return vl_error_set(VL_EINVALID, "reports needs options");
	if (opts->scope && vl_division_level(opts->scope) == VL_DIV_INVALID)
		return vl_error_set(VL_EINVALID, "scope '%.20s' is not a 12-digit division code", opts->scope);
	if ((opts->due && !vl_date_valid(opts->due)) || (opts->today && !vl_date_valid(opts->today)))
		return vl_error_set(VL_EINVALID, "dates are YYYY-MM-DD");
	if (opts->call && !vl_ulid_valid(opts->call))
		return vl_error_set(VL_EINVALID, "'%.40s' is not a record id", opts->call);
	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	out->call_schema = vl_node_schema(n, "report_call");
	out->report_schema = vl_node_schema(n, "report");
	if (!out->call_schema || !out->report_schema)
		return vl_error_set(VL_ENOTFOUND, "the network's config has no 'report_call' or 'report' ledger; "
				"an admin installs the current schemas");
	snprintf(out->scope, sizeof(out->scope), "%s", opts->scope ? opts->scope : n->scope);
	if (opts->today)
		snprintf(out->today, sizeof(out->today), "%s", opts->today);
	else
		today_local(out->today, n->tz_min);
	c.n = n;
	c.opts = opts;
	c.res = out;
	if ((rc = list_branches(&b, &nb, n)) < 0)
		goto out;
	/* Calls issued in the scope, below it, or above it (the county's call
	 * seen from a township that holds the county branch). */
	for (i = 0; i < nb; i++) {
		if (!vl_division_covers(out->scope, b[i].code) && !vl_division_covers(b[i].code, out->scope))
			continue;
		vl_progress_report(&opts->progress, N_("calls"), i, nb);
		if ((rc = vl_ledger_each(n, &b[i].head, "report_call", call_cb, &c)) < 0)
			goto out;
	}
	if (opts->call && out->ncalls == 0) {
		rc = vl_error_set(VL_ENOTFOUND, "no report call %s on the branches this node holds for scope %s",
				opts->call, out->scope);
		goto out;
	}
	for (i = 0; i < out->ncalls; i++) {
		vl_report_call *call = &out->calls[i];
		vl_progress_report(&opts->progress, N_("reports"), i, out->ncalls);
		if ((rc = fill_units(&c, call, c.recs[i], b, nb, out->scope)) < 0)
			goto out;
		for (j = 0; j < call->nunits; j++)
			if ((rc = judge_unit(&c, call, &call->units[j], b, nb)) < 0)
				goto out;
	}
	if (out->ncalls)
		qsort(out->calls, out->ncalls, sizeof(*out->calls), call_cmp);
	rc = 0;
out:
	for (i = 0; c.recs && i < out->ncalls; i++)
		vl_record_free(c.recs[i]);
	free(c.recs);
	vl_divisions_free(&c.div);
	free(b);
	return rc;
}

/* ---- rendering ------------------------------------------------------------- */

/* The contact's text as shown: masked unless reveal. */
static int contact_text(vl_buf *out, const vl_reports_result *r, const vl_report_unit *u, int reveal)
{
	vl_value *m = NULL, *shown = NULL;
	const vl_value *name, *phone;
	int rc = 0;

	if (!u->contact_name && !u->contact_phone)
		return 0;
	if (!reveal) {
		if (!(m = vl_value_new(VL_V_MAP)) ||
				(u->contact_name && (rc = vl_value_map_set(m, "contact_name", vl_value_clone(u->contact_name))) < 0) ||
				(u->contact_phone && (rc = vl_value_map_set(m, "contact_phone", vl_value_clone(u->contact_phone))) < 0) ||
				(rc = vl_schema_mask(&shown, r->report_schema, m)) < 0) {
			rc = rc < 0 ? rc : vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		name = vl_value_map_get(shown, "contact_name");
		phone = vl_value_map_get(shown, "contact_phone");
	} else {
		name = u->contact_name;
		phone = u->contact_phone;
	}
	rc = vl_buf_printf(out, "%s%s%s", name && name->s ? name->s : "", name && phone ? " " : "",
			phone && phone->s ? phone->s : "");
out:
	vl_value_free(m);
	vl_value_free(shown);
	return rc;
}

int vl_reports_text(vl_buf *out, const vl_reports_result *r, int reveal)
{
	vl_buf cell = VL_BUF_INIT;
	size_t i, j;
	int rc = 0;

	if (r->ncalls == 0) {
		rc = vl_buf_printf(out, _("no report calls for scope %s\n"), r->scope);
		goto out;
	}
	for (i = 0; i < r->ncalls; i++) {
		const vl_report_call *c = &r->calls[i];
		if ((rc = vl_buf_printf(out, _("%s报送通知 %s  %s\n  issued by %s, deadline %s (as of %s): %zu reported, "
				"%zu late, %zu missing, %zu open\n"), i ? "\n" : "", c->id, c->title, c->issuer, c->deadline,
				r->today, c->counts[0], c->counts[1], c->counts[2], c->counts[3])) < 0)
			goto out;
		for (j = 0; j < c->nunits; j++) {
			const vl_report_unit *u = &c->units[j];
			vl_buf_clear(&cell);
			if ((rc = contact_text(&cell, r, u, reveal)) < 0 ||
					(rc = vl_buf_printf(out, "  %s  %-8s %-9s %s  %s  %s%s\n", u->code, vl_report_state_name(u->state),
							vl_report_state_zh(u->state), u->name ? u->name : "-",
							u->report[0] ? u->report : "-", cell.len ? cell.ptr : "-",
							u->held ? "" : _("  (no branch of this unit held: fetch from it)"))) < 0)
				goto out;
		}
	}
	if (!reveal)
		rc = vl_buf_puts(out, _("(contacts masked; --reveal shows them)\n"));
out:
	vl_buf_free(&cell);
	return rc;
}

static int json_str_or_null(vl_buf *out, const char *s)
{
	return s ? vl_json_str(out, s, strlen(s)) : vl_buf_puts(out, "null");
}

int vl_reports_json(vl_buf *out, const vl_reports_result *r, int reveal)
{
	vl_buf cell = VL_BUF_INIT;
	size_t i, j;
	int rc;

	if ((rc = vl_buf_printf(out, "{\"scope\":\"%s\",\"today\":\"%s\",\"revealed\":%s,\"calls\":[", r->scope,
			r->today, reveal ? "true" : "false")) < 0)
		goto out;
	for (i = 0; i < r->ncalls; i++) {
		const vl_report_call *c = &r->calls[i];
		if ((rc = vl_buf_printf(out, "%s{\"id\":\"%s\",\"issuer\":\"%s\",\"title\":", i ? "," : "", c->id,
				c->issuer)) < 0 || (rc = json_str_or_null(out, c->title)) < 0 ||
				(rc = vl_buf_puts(out, ",\"kind\":")) < 0 || (rc = json_str_or_null(out, c->kind)) < 0 ||
				(rc = vl_buf_printf(out, ",\"deadline\":\"%s\",\"counts\":{\"reported\":%zu,\"late\":%zu,"
						"\"missing\":%zu,\"open\":%zu},\"units\":[", c->deadline, c->counts[0], c->counts[1],
						c->counts[2], c->counts[3])) < 0)
			goto out;
		for (j = 0; j < c->nunits; j++) {
			const vl_report_unit *u = &c->units[j];
			vl_buf_clear(&cell);
			if ((rc = vl_buf_printf(out, "%s{\"code\":\"%s\",\"name\":", j ? "," : "", u->code)) < 0 ||
					(rc = json_str_or_null(out, u->name)) < 0 ||
					(rc = vl_buf_printf(out, ",\"state\":\"%s\",\"held\":%s,\"report\":", vl_report_state_name(u->state),
							u->held ? "true" : "false")) < 0 ||
					(rc = json_str_or_null(out, u->report[0] ? u->report : NULL)) < 0 ||
					(rc = vl_buf_puts(out, ",\"submitted_at\":")) < 0 ||
					(rc = json_str_or_null(out, u->submitted)) < 0 ||
					(rc = contact_text(&cell, r, u, reveal)) < 0 || (rc = vl_buf_puts(out, ",\"contact\":")) < 0 ||
					(rc = json_str_or_null(out, cell.len ? cell.ptr : NULL)) < 0 || (rc = vl_buf_putc(out, '}')) < 0)
				goto out;
		}
		if ((rc = vl_buf_puts(out, "]}")) < 0)
			goto out;
	}
	rc = vl_buf_puts(out, "]}\n");
out:
	vl_buf_free(&cell);
	return rc;
}

/* HTML text with & < > " ' escaped. */
static int html_esc(vl_buf *out, const char *s)
{
	int rc = 0;

	for (; s && *s && rc == 0; s++) {
		switch (*s) {
		case '&': rc = vl_buf_puts(out, "&amp;"); break;
		case '<': rc = vl_buf_puts(out, "&lt;"); break;
		case '>': rc = vl_buf_puts(out, "&gt;"); break;
		case '"': rc = vl_buf_puts(out, "&quot;"); break;
		case '\'': rc = vl_buf_puts(out, "&#39;"); break;
		default: rc = vl_buf_putc(out, *s); break;
		}
	}
	return rc;
}

int vl_reports_html_section(vl_buf *out, const vl_reports_result *r, int reveal)
{
	static const char *const cls[] = { "ok", "late", "missing", "open" };
	vl_buf cell = VL_BUF_INIT;
	size_t i, j;
	int rc;

	if ((rc = vl_buf_printf(out, "<section class=\"vl-reports\">\n<h2>报送情况 (report tracker) %s，截至 %s</h2>\n",
			r->scope, r->today)) < 0)
		goto out;
	if (r->ncalls == 0 && (rc = vl_buf_puts(out, "<p>没有报送通知 (no report calls)</p>\n")) < 0)
		goto out;
	for (i = 0; i < r->ncalls; i++) {
		const vl_report_call *c = &r->calls[i];
		if ((rc = vl_buf_puts(out, "<h3>")) < 0 || (rc = html_esc(out, c->title)) < 0 ||
				(rc = vl_buf_printf(out, "</h3>\n<p>通知 %s，发文单位 %s，截止 %s：按时报送 %zu，逾期报送 %zu，"
						"未报送 %zu，未到期 %zu</p>\n<table><tr><th>单位代码</th><th>单位</th><th>状态</th>"
						"<th>报送记录</th><th>报送时间</th><th>联系人</th></tr>\n", c->id, c->issuer,
						c->deadline, c->counts[0], c->counts[1], c->counts[2], c->counts[3])) < 0)
			goto out;
		for (j = 0; j < c->nunits; j++) {
			const vl_report_unit *u = &c->units[j];
			vl_buf_clear(&cell);
			if ((rc = contact_text(&cell, r, u, reveal)) < 0 ||
					(rc = vl_buf_printf(out, "<tr class=\"%s\"><td>%s</td><td>", cls[u->state], u->code)) < 0 ||
					(rc = html_esc(out, u->name ? u->name : "")) < 0 ||
					(rc = vl_buf_printf(out, "</td><td>%s%s</td><td>%s</td><td>", vl_report_state_zh(u->state),
							u->held ? "" : "（未收到该单位数据）", u->report)) < 0 ||
					(rc = html_esc(out, u->submitted ? u->submitted : "")) < 0 ||
					(rc = vl_buf_puts(out, "</td><td>")) < 0 || (rc = html_esc(out, cell.ptr ? cell.ptr : "")) < 0 ||
					(rc = vl_buf_puts(out, "</td></tr>\n")) < 0)
				goto out;
		}
		if ((rc = vl_buf_puts(out, "</table>\n")) < 0)
			goto out;
	}
	rc = vl_buf_printf(out, "<p class=\"note\">联系人%s。</p>\n</section>\n", reveal ? "已显示" : "已遮盖（--reveal 显示）");
out:
	vl_buf_free(&cell);
	return rc;
}

int vl_reports_html(vl_buf *out, const vl_reports_result *r, int reveal)
{
	int rc;

	if ((rc = vl_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<title>报送情况</title>\n<style>\n"
			"body{font-family:\"Noto Sans CJK SC\",\"Microsoft YaHei\",sans-serif;margin:2em;color:#222}\n"
			"table{border-collapse:collapse;margin:0 0 1.5em}th,td{border:1px solid #bbb;padding:.3em .6em;"
			"text-align:left}\nth{background:#eee}tr.ok td:nth-child(3){color:#176b2c}"
			"tr.late td:nth-child(3){color:#9a6700}\ntr.missing td:nth-child(3){color:#b00020;font-weight:bold}"
			"tr.open td:nth-child(3){color:#555}.note{color:#666;font-size:.9em}\n"
			"</style>\n</head>\n<body>\n")) < 0 ||
			(rc = vl_reports_html_section(out, r, reveal)) < 0)
		return rc;
	return vl_buf_puts(out, "</body>\n</html>\n");
}
