/*
 * pages_forms.c - the entry forms of the UI: /ledger/NAME/new (GET the
 * form, POST creates through vl_add) and /record/ID/edit (GET, POST through
 * vl_edit). The form comes from the ledger's schema (form.h); a POST is
 * turned into the command line's assignments, so it meets exactly the
 * checks of `vledger add/edit`. When anything is wrong nothing is written
 * and the form comes back as typed with every problem beside its field; on
 * success the browser is sent to the record's page (303) with a word of
 * confirmation. "Add row" / "remove row" buttons post the form back to
 * itself and only redraw it.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/ops/record.h"
#include "agent/ui/form.h"
#include "agent/ui/pages.h"
#include "agent/ui/ui.h"
#include "store/i18n.h"

/* The label of a ledger in the page's language. */
static const char *ledger_label(const vl_ui_req *q, const vl_schema *s)
{
	if (!strcmp(q->lang, "en") && s->label_en && *s->label_en)
		return s->label_en;
	return s->label_zh && *s->label_zh ? s->label_zh : s->name;
}

/* ---- the records a ref may name --------------------------------------------- */

typedef struct {
	vl_list_result *lists;       /* one per referenced ledger */
	vl_form_choice **choices;
	vl_form_choices *refs;
	size_t n;
} ref_lists;

static void ref_lists_free(ref_lists *rl)
{
	size_t i;

	for (i = 0; i < rl->n; i++) {
		vl_list_result_free(&rl->lists[i]);
		free(rl->choices[i]);
	}
	free(rl->lists);
	free(rl->choices);
	free(rl->refs);
	memset(rl, 0, sizeof(*rl));
}

/* For every ledger a ref field of s names (top level, or a set/list of
 * refs): its live records by label (vl_record_label; the id when none). */
static int ref_lists_load(ref_lists *rl, vl_node *n, const vl_schema *s)
{
	size_t i, k, j;
	int rc;

	memset(rl, 0, sizeof(*rl));
	if (!(rl->lists = calloc(s->nfields ? s->nfields : 1, sizeof(*rl->lists))) ||
			!(rl->choices = calloc(s->nfields ? s->nfields : 1, sizeof(*rl->choices))) ||
			!(rl->refs = calloc(s->nfields ? s->nfields : 1, sizeof(*rl->refs))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < s->nfields; i++) {
		const vl_field *f = &s->fields[i];
		vl_list_opts lo = VL_LIST_OPTS_INIT;
		vl_list_result *lr = &rl->lists[rl->n];
		int seen = 0;

		if (!f->ref || (f->type != VL_T_REF && f->item_type != VL_T_REF))
			continue;
		for (k = 0; k < rl->n; k++)
			seen |= !strcmp(rl->refs[k].ledger, f->ref);
		if (seen || !vl_node_schema(n, f->ref))
			continue;
		lo.ledger = f->ref;
		if ((rc = vl_list(n, &lo, lr)) < 0)
			return rc;
		if (!(rl->choices[rl->n] = calloc(lr->n ? lr->n : 1, sizeof(**rl->choices))))
			return vl_error_set(VL_ENOMEM, "out of memory");
		for (j = 0; j < lr->n; j++) {
			const char *label = NULL;

			rl->choices[rl->n][j].id = lr->items[j].rec->id;
			rl->choices[rl->n][j].label = vl_record_label(&label, lr->schema, lr->items[j].rec) == 0 ?
					label : lr->items[j].rec->id;
		}
		rl->refs[rl->n].ledger = f->ref;
		rl->refs[rl->n].v = rl->choices[rl->n];
		rl->refs[rl->n].n = lr->n;
		rl->n++;
	}
	return 0;
}

/* ---- the page --------------------------------------------------------------- */

/*
 * The form page. id NULL: a new record of s; else the edit of record id
 * whose data is data. sub: a submission to show again; errs: its problems;
 * msg: a problem of no field (NULL: none).
 */
static int form_page(vl_ui_req *q, vl_ui_resp *r, vl_node *n, const vl_schema *s, const char *id,
		const vl_value *data, const vl_ui_form *sub, const vl_field_errors *errs, const char *msg)
{
	vl_buf *b = &r->body, title = VL_BUF_INIT;
	ref_lists rl;
	vl_form_opts o;
	vl_field_error top = { (char *)"", (char *)msg };
	vl_field_errors toperrs = { &top, 1 };
	int rc;

	memset(&rl, 0, sizeof(rl));
	vl_buf_clear(b);
	if ((rc = ref_lists_load(&rl, n, s)) < 0)
		goto out;
	if ((rc = vl_buf_printf(&title, id ? _("Edit a record of %s") : _("New record of %s"),
			ledger_label(q, s))) < 0 || (rc = vl_ui_page_begin(b, q, title.ptr)) < 0)
		goto out;
	if ((rc = vl_buf_puts(b, "<p class=\"muted\"><a href=\"")) < 0)
		goto out;
	if (id) {
		if ((rc = vl_buf_puts(b, "/record/")) < 0 || (rc = vl_ui_url_esc(b, id)) < 0 ||
				(rc = vl_buf_puts(b, "\">")) < 0 || (rc = vl_ui_esc(b, _("Back to the record"))) < 0)
			goto out;
	} else if ((rc = vl_buf_puts(b, "/ledger/")) < 0 || (rc = vl_ui_url_esc(b, s->name)) < 0 ||
			(rc = vl_buf_puts(b, "\">")) < 0 || (rc = vl_ui_esc(b, _("Back to the list"))) < 0) {
		goto out;
	}
	if ((rc = vl_buf_puts(b, "</a> &middot; ")) < 0 ||
			(rc = vl_ui_esc(b, _("Fields marked * are required; personal fields are marked as such."))) < 0 ||
			(rc = vl_buf_puts(b, "</p>\n<form class=\"record-form\" method=\"post\" action=\"")) < 0)
		goto out;
	if (id)
		rc = (rc = vl_buf_puts(b, "/record/")) < 0 || (rc = vl_ui_url_esc(b, id)) < 0 ? rc :
				vl_buf_puts(b, "/edit");
	else
		rc = (rc = vl_buf_puts(b, "/ledger/")) < 0 || (rc = vl_ui_url_esc(b, s->name)) < 0 ? rc :
				vl_buf_puts(b, "/new");
	if (rc < 0 || (rc = vl_buf_puts(b, "\" novalidate>\n")) < 0 || (rc = vl_ui_csrf_field(b, q)) < 0)
		goto out;
	if (errs && errs->n && ((rc = vl_buf_puts(b, "<p class=\"error\" role=\"alert\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Nothing was saved: correct the fields marked below and save again."))) < 0 ||
			(rc = vl_buf_puts(b, "</p>\n")) < 0))
		goto out;
	memset(&o, 0, sizeof(o));
	o.schema = s;
	o.data = data;
	o.submitted = sub;
	o.errors = msg && (!errs || !errs->n) ? &toperrs : errs;
	o.refs = rl.refs;
	o.nrefs = rl.n;
	o.edit = id != NULL;
	o.tz_min = n->tz_min;
	if ((rc = vl_form_render(b, &o)) < 0 || (rc = vl_buf_puts(b, "</form>\n")) < 0)
		goto out;
	rc = vl_ui_page_end(b, q);
out:
	ref_lists_free(&rl);
	vl_buf_free(&title);
	return rc;
}

static int node_schema(vl_node **n, const vl_schema **s, vl_ui_req *q, int need_key, const char *name)
{
	int rc;

	if ((rc = vl_ui_node(n, q, need_key)) < 0)
		return rc;
	if (!(*n)->config_loaded && (rc = vl_node_load_config(*n)) < 0)
		return rc;
	if (name && !(*s = vl_node_schema(*n, name)))
		return vl_error_set(VL_ENOTFOUND, "there is no ledger '%s' on this node", name);
	return 0;
}

/* A write that needs the key while it is sealed: to /unlock first. */
static int locked(vl_ui_req *q, vl_ui_resp *r, int rc)
{
	if (rc == VL_EDENIED && vl_ui_locked(q))
		return vl_ui_redirect(r, "/unlock");
	return rc;
}

/* The record page's address with what happened: "/record/ID?done=WHAT[&dup=ID]". */
static int to_record(vl_ui_resp *r, const char *id, const char *done, const char *dup)
{
	vl_buf loc = VL_BUF_INIT;
	int rc;

	if ((rc = vl_buf_puts(&loc, "/record/")) < 0 || (rc = vl_ui_url_esc(&loc, id)) < 0 ||
			(rc = vl_buf_printf(&loc, "?done=%s", done)) < 0 ||
			(dup && *dup && ((rc = vl_buf_puts(&loc, "&dup=")) < 0 || (rc = vl_ui_url_esc(&loc, dup)) < 0)))
		goto out;
	rc = vl_ui_redirect(r, loc.ptr);
out:
	vl_buf_free(&loc);
	return rc;
}

/* ---- /ledger/NAME/new ------------------------------------------------------- */

int vl_uip_new(vl_ui_req *q, vl_ui_resp *r)
{
	vl_node *n = NULL;
	const vl_schema *s = NULL;
	int rc;

	if ((rc = node_schema(&n, &s, q, 0, q->args[0])) < 0)
		return rc;
	return form_page(q, r, n, s, NULL, NULL, NULL, NULL, NULL);
}

int vl_uip_new_post(vl_ui_req *q, vl_ui_resp *r)
{
	vl_node *n = NULL;
	const vl_schema *s = NULL;
	vl_form_action act;
	vl_form_assign a;
	vl_add_opts ao = VL_ADD_OPTS_INIT;
	vl_add_result res;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&res, 0, sizeof(res));
	if ((rc = node_schema(&n, &s, q, 0, q->args[0])) < 0)
		return rc;
	if ((rc = vl_form_rows_op(&act, &q->form, s)) < 0)
		return rc;
	if (act == VL_FORM_ROWS)
		return form_page(q, r, n, s, NULL, NULL, &q->form, NULL, NULL);
	if ((rc = vl_form_assignments(&a, s, &q->form, NULL, n->tz_min)) < 0)
		goto out;
	if (!a.nsets) {
		r->status = 400;
		rc = form_page(q, r, n, s, NULL, NULL, &q->form, NULL, _("The form is empty: fill in the fields."));
		goto out;
	}
	/* the key only now: a sealed one sends the person to /unlock */
	if ((rc = vl_ui_node(&n, q, 1)) < 0) {
		rc = locked(q, r, rc);
		goto out;
	}
	ao.ledger = s->name;
	ao.sets = (const char *const *)a.sets;
	ao.nsets = a.nsets;
	rc = vl_add(n, &ao, &res);
	if (rc == VL_EINVALID || rc == VL_ENOTFOUND) {
		/* nothing was written: the form again, each problem beside its field */
		char *msg = strdup(vl_error_last());

		r->status = 400;
		rc = msg ? form_page(q, r, n, s, NULL, NULL, &q->form, &res.errors, msg) :
				vl_error_set(VL_ENOMEM, "out of memory");
		free(msg);
		goto out;
	}
	if (rc < 0)
		goto out;
	rc = to_record(r, res.id, "added", res.duplicate_of);
out:
	vl_add_result_free(&res);
	vl_form_assign_free(&a);
	return rc;
}

/* ---- /record/ID/edit -------------------------------------------------------- */

static int show(vl_show_result *sr, vl_node *n, const char *id)
{
	vl_show_opts so = VL_SHOW_OPTS_INIT;
	int rc;

	so.id = id;
	if ((rc = vl_show(n, &so, sr)) < 0)
		return rc;
	if (sr->found.rec->deleted)
		return vl_error_set(VL_EINVALID, "record %s is deleted; a tombstone is not edited", sr->found.rec->id);
	return 0;
}

int vl_uip_edit(vl_ui_req *q, vl_ui_resp *r)
{
	vl_node *n = NULL;
	vl_show_result sr;
	int rc;

	memset(&sr, 0, sizeof(sr));
	if ((rc = node_schema(&n, NULL, q, 0, NULL)) < 0 || (rc = show(&sr, n, q->args[0])) < 0)
		goto out;
	rc = form_page(q, r, n, sr.found.schema, sr.found.rec->id, sr.found.rec->data, NULL, NULL, NULL);
out:
	vl_show_result_free(&sr);
	return rc;
}

int vl_uip_edit_post(vl_ui_req *q, vl_ui_resp *r)
{
	vl_node *n = NULL;
	vl_show_result sr;
	vl_form_action act;
	vl_form_assign a;
	vl_edit_opts eo = VL_EDIT_OPTS_INIT;
	vl_edit_result res;
	const vl_schema *s;
	int rc;

	memset(&sr, 0, sizeof(sr));
	memset(&a, 0, sizeof(a));
	memset(&res, 0, sizeof(res));
	if ((rc = node_schema(&n, NULL, q, 0, NULL)) < 0 || (rc = show(&sr, n, q->args[0])) < 0)
		goto out;
	s = sr.found.schema;
	if ((rc = vl_form_rows_op(&act, &q->form, s)) < 0)
		goto out;
	if (act == VL_FORM_ROWS) {
		rc = form_page(q, r, n, s, sr.found.rec->id, sr.found.rec->data, &q->form, NULL, NULL);
		goto out;
	}
	/* what differs from the record as it is now: only that is assigned */
	if ((rc = vl_form_assignments(&a, s, &q->form, sr.found.rec->data, n->tz_min)) < 0)
		goto out;
	if (!a.nsets && !a.nunsets && !a.nadds && !a.nremoves) {
		rc = to_record(r, sr.found.rec->id, "unchanged", NULL);
		goto out;
	}
	if ((rc = vl_ui_node(&n, q, 1)) < 0) {
		rc = locked(q, r, rc);
		goto out;
	}
	eo.id = sr.found.rec->id;
	vl_form_edit_opts(&eo, &a);
	rc = vl_edit(n, &eo, &res);
	if (rc == VL_EINVALID || rc == VL_ENOTFOUND) {
		char *msg = strdup(vl_error_last());

		r->status = 400;
		rc = msg ? form_page(q, r, n, s, sr.found.rec->id, sr.found.rec->data, &q->form, &res.errors, msg) :
				vl_error_set(VL_ENOMEM, "out of memory");
		free(msg);
		goto out;
	}
	if (rc < 0)
		goto out;
	rc = to_record(r, res.id, res.changed ? "edited" : "unchanged", NULL);
out:
	vl_edit_result_free(&res);
	vl_form_assign_free(&a);
	vl_show_result_free(&sr);
	return rc;
}
