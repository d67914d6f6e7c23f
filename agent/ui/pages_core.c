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
	{ "GET", "/unlock", page_unlock },
	{ "POST", "/unlock", post_unlock },
	{ NULL, NULL, NULL }
};
