/*
 * pages_more.c - the UI's conflicts, sync, aggregate and report pages:
 *   /conflicts            fields merges left for a person, candidates side
 *                         by side, a button per candidate (POST
 *                         /record/ID/resolve -> vl_resolve)
 *   /sync                 the peers of node.yaml with their last success
 *                         or error (vl_net_status, times in the network's
 *                         zone); POST /sync runs `vledger sync` (vl_sync)
 *                         with each peer or one, each bounded by a timeout,
 *                         and shows the outcome; POST /sync/bundle-out
 *                         writes a USB bundle into a directory, POST
 *                         /sync/bundle-in reads the bundles of one
 *                         (bundle_ops.h)
 *   /aggregate, /reports  township and county nodes: the figures by unit
 *                         (vl_aggregate_run) and the report tracker
 *                         (vl_reports)
 * Personal values are masked (vl_audit_mask_value) before they are shown;
 * every text is escaped with vl_ui_esc.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/audit/audit.h"
#include "agent/node/ledger.h"
#include "agent/node/tz.h"
#include "agent/ops/aggregate.h"
#include "agent/ops/bundle_ops.h"
#include "agent/ops/merge.h"
#include "agent/ops/net_ops.h"
#include "agent/ops/reports.h"
#include "agent/ui/pages.h"
#include "agent/ui/ui.h"
#include "store/i18n.h"

/* A sync from the UI waits at most this long for each peer (connect and
 * every read), so the page comes back. */
#define SYNC_TIMEOUT_MS 15000
/* Conflicts shown on one page (the rest: fix these first, or the CLI). */
#define CONFLICTS_SHOWN 200

static const char *lbl(const vl_ui_req *q, const char *zh, const char *en, const char *fallback)
{
	if (!strcmp(q->lang, "en") && en && *en)
		return en;
	return zh && *zh ? zh : en && *en ? en : fallback;
}

static int loaded(vl_node **out, vl_ui_req *q, int need_key)
{
	vl_node *n = NULL;
	int rc;

	if ((rc = vl_ui_node(&n, q, need_key)) < 0)
		return rc;
	if (!n->config_loaded && (rc = vl_node_load_config(n)) < 0)
		return rc;
	*out = n;
	return 0;
}

/* <p class="CLASS">TEXT</p>, TEXT escaped. */
static int para(vl_buf *b, const char *cls, const char *text)
{
	int rc;

	if ((rc = vl_buf_printf(b, "<p class=\"%s\">", cls)) < 0 || (rc = vl_ui_esc(b, text)) < 0)
		return rc;
	return vl_buf_puts(b, "</p>\n");
}

/* A commit or state time (UTC seconds) in the network's zone; "-" for 0. */
static int when_secs(vl_buf *b, int64_t secs, int tz_min)
{
	vl_buf t = VL_BUF_INIT;
	int rc;

	if (!secs)
		return vl_buf_puts(b, "-");
	rc = vl_time_show_secs(&t, secs, tz_min);
	if (rc >= 0)
		rc = vl_ui_esc(b, t.ptr);
	vl_buf_free(&t);
	return rc;
}

/* ---- /conflicts --------------------------------------------------------------- */

/* A candidate's value as shown: masked when the field is personal. */
static int candidate_text(vl_buf *b, const vl_conflict *c, const vl_conflict_candidate *k, int tz_min)
{
	const vl_field *f = strcmp(c->field, "_deleted") ? vl_schema_field(c->schema, c->field) : NULL;
	vl_value *masked = NULL;
	vl_buf t = VL_BUF_INIT;
	int rc;

	if (!strcmp(c->field, "_deleted"))
		return vl_ui_esc(b, k->value && vl_value_text(k->value) && !strcmp(k->value->s, "true") ?
				_("deleted") : _("kept"));
	if (!k->value)
		return vl_ui_esc(b, _("(no value)"));
	if (f && f->pii && (rc = vl_audit_mask_value(&masked, c->schema, c->field, k->value)) < 0)
		return rc;
	rc = vl_audit_value_text(&t, f, masked ? masked : k->value, tz_min);
	if (rc >= 0)
		rc = vl_ui_esc(b, t.ptr ? t.ptr : "");
	vl_buf_free(&t);
	vl_value_free(masked);
	return rc;
}

/* The scope codes of the branches this node holds. */
typedef struct {
	char (*v)[13];
	size_t n, cap;
} codes;

static int add_code(const char code[13], const git_oid *head, void *ctx)
{
	codes *c = ctx;
	int rc;

	(void)head;
	if ((rc = vl_array_grow((void **)&c->v, &c->cap, c->n, sizeof(*c->v))) < 0)
		return rc;
	memcpy(c->v[c->n++], code, 13);
	return 0;
}

/* One conflict: the field, then its candidates side by side, each with a
 * button that keeps it. */
static int one_conflict(vl_buf *b, vl_ui_req *q, const vl_node *n, const vl_conflict *c)
{
	const vl_field *f = vl_schema_field(c->schema, c->field);
	vl_buf t = VL_BUF_INIT;
	size_t k;
	int rc;

	if ((rc = vl_buf_puts(b, "<section class=\"conflict\"><h2><a href=\"/record/")) < 0 ||
			(rc = vl_ui_url_esc(b, c->id)) < 0 || (rc = vl_buf_puts(b, "\">")) < 0 ||
			(rc = vl_ui_esc(b, lbl(q, c->schema->label_zh, c->schema->label_en, c->schema->name))) < 0 ||
			(rc = vl_buf_puts(b, " ")) < 0 || (rc = vl_ui_esc(b, c->id)) < 0 ||
			(rc = vl_buf_puts(b, "</a> &middot; ")) < 0 ||
			(rc = vl_ui_esc(b, f ? lbl(q, f->label_zh, f->label_en, f->name) :
			!strcmp(c->field, "_deleted") ? _("deleted or kept") : c->field)) < 0 ||
			(rc = vl_buf_puts(b, "</h2>\n<table class=\"candidates\"><tr>")) < 0)
		goto out;
	for (k = 0; k < c->ncands; k++) {
		const vl_conflict_candidate *cand = &c->cands[k];
		char clock[40];
		size_t cl = strcspn(cand->clock, "/");

		snprintf(clock, sizeof(clock), "%.*s", (int)(cl < 39 ? cl : 39), cand->clock);
		vl_buf_clear(&t);
		if ((rc = vl_buf_printf(b, "<td><p class=\"candidate\">")) < 0 ||
				(rc = candidate_text(b, c, cand, n->tz_min)) < 0 ||
				(rc = vl_buf_puts(b, "</p><p class=\"muted\">")) < 0 ||
				(rc = vl_ui_esc(b, cand->signer ? cand->signer->name : cand->author[0] ? cand->author :
				_("unknown"))) < 0 || (rc = vl_buf_puts(b, " &middot; ")) < 0 ||
				(rc = vl_time_show(&t, clock, n->tz_min)) < 0 || (rc = vl_ui_esc(b, t.ptr ? t.ptr : "")) < 0 ||
				(rc = vl_buf_puts(b, "</p><form method=\"post\" action=\"/record/")) < 0 ||
				(rc = vl_ui_url_esc(b, c->id)) < 0 || (rc = vl_buf_puts(b, "/resolve\">")) < 0 ||
				(rc = vl_ui_csrf_field(b, q)) < 0 ||
				(rc = vl_buf_puts(b, "<input type=\"hidden\" name=\"field\" value=\"")) < 0 ||
				(rc = vl_ui_esc(b, c->field)) < 0 ||
				(rc = vl_buf_printf(b, "\"><input type=\"hidden\" name=\"take\" value=\"%zu\">"
				"<button type=\"submit\" class=\"primary\">", k + 1)) < 0 ||
				(rc = vl_ui_esc(b, _("Keep this one"))) < 0 ||
				(rc = vl_buf_puts(b, "</button></form></td>")) < 0)
			goto out;
	}
	rc = vl_buf_puts(b, "</tr></table></section>\n");
out:
	vl_buf_free(&t);
	return rc;
}

/* GET /conflicts: those of every branch the node holds (a township settles
 * its villages' too), at most CONFLICTS_SHOWN. */
int vl_uip_conflicts(vl_ui_req *q, vl_ui_resp *r)
{
	vl_conflicts_result cr;
	vl_node *n = NULL;
	vl_buf *b = &r->body, list = VL_BUF_INIT;
	codes cs = { NULL, 0, 0 };
	const char *done = vl_ui_form_get(&q->query, "done");
	size_t i, k, total = 0, shown = 0;
	int rc;

	memset(&cr, 0, sizeof(cr));
	if ((rc = loaded(&n, q, 0)) < 0 || (rc = vl_scope_branches_each(n->repo, add_code, &cs)) < 0)
		goto out;
	for (i = 0; i < cs.n; i++) {
		vl_conflicts_opts co = VL_CONFLICTS_OPTS_INIT;

		co.scope = cs.v[i];
		if ((rc = vl_conflicts(n, &co, &cr)) < 0)
			goto out;
		total += cr.nconflicts;
		for (k = 0; k < cr.nconflicts && shown < CONFLICTS_SHOWN; k++, shown++)
			if ((rc = one_conflict(&list, q, n, &cr.conflicts[k])) < 0)
				goto out;
		vl_conflicts_result_free(&cr);
	}
	if ((rc = vl_ui_page_begin(b, q, _("Conflicts"))) < 0)
		goto out;
	if (done && !strcmp(done, "resolved") && (rc = para(b, "ok notice", _("The conflict was settled."))) < 0)
		goto out;
	if (!total) {
		if ((rc = para(b, "ok", _("No conflict is left for a person."))) < 0)
			goto out;
	} else {
		vl_buf t = VL_BUF_INIT;

		rc = vl_buf_printf(&t, _("Merges left %zu values for a person to choose. Compare the candidates and "
				"keep the right one; the choice is a signed change like any edit."), total);
		if (rc >= 0)
			rc = para(b, "muted", t.ptr);
		vl_buf_free(&t);
		if (rc < 0 || (rc = vl_buf_puts(b, list.ptr)) < 0)
			goto out;
		if (total > shown && (rc = para(b, "muted",
				_("More conflicts wait: settle these, then this page shows the next ones."))) < 0)
			goto out;
	}
	rc = vl_ui_page_end(b, q);
out:
	free(cs.v);
	vl_buf_free(&list);
	vl_conflicts_result_free(&cr);
	return rc;
}

/* POST /record/ID/resolve field=F take=K */
int vl_uip_resolve_post(vl_ui_req *q, vl_ui_resp *r)
{
	vl_resolve_opts ro = VL_RESOLVE_OPTS_INIT;
	vl_resolve_result res;
	vl_node *n = NULL;
	const char *field = vl_ui_form_get(&q->form, "field"), *take = vl_ui_form_get(&q->form, "take");
	char *end = NULL;
	unsigned long k;
	int rc;

	memset(&res, 0, sizeof(res));
	if (!field || !*field || !take || !*take)
		return vl_error_set(VL_EINVALID, "say which field and which candidate to keep; reload the page");
	k = strtoul(take, &end, 10);
	if (*end || k < 1 || k > 1000)
		return vl_error_set(VL_EINVALID, "candidate '%.20s' is not a number from the page; reload it", take);
	if ((rc = loaded(&n, q, 1)) < 0)
		return rc == VL_EDENIED && vl_ui_locked(q) ? vl_ui_redirect(r, "/unlock") : rc;
	ro.id = q->args[0];
	ro.field = field;
	ro.take = k;
	if ((rc = vl_resolve(n, &ro, &res)) < 0)
		goto out;
	rc = vl_ui_redirect(r, "/conflicts?done=resolved");
out:
	vl_resolve_result_free(&res);
	return rc;
}

/* ---- /sync ---------------------------------------------------------------------- */

/* The sync page; `outcome` (built by a POST, already HTML) goes on top. */
static int sync_page(vl_ui_req *q, vl_ui_resp *r, vl_node *n, const char *outcome)
{
	vl_status_result st;
	vl_buf *b = &r->body;
	size_t i;
	int rc;
	const char *cols[] = { _("Peer"), _("Address"), _("Last success"), _("Last error"), _("Waiting to send"), "" };

	memset(&st, 0, sizeof(st));
	vl_buf_clear(b);
	if ((rc = vl_net_status(n, &st)) < 0 || (rc = vl_ui_page_begin(b, q, _("Sync"))) < 0)
		goto out;
	if (outcome && (rc = vl_buf_puts(b, outcome)) < 0)
		goto out;
	if ((rc = vl_buf_puts(b, "<h2>")) < 0 || (rc = vl_ui_esc(b, _("Peers"))) < 0 ||
			(rc = vl_buf_puts(b, "</h2>\n")) < 0)
		goto out;
	if (!st.n) {
		rc = para(b, "muted", _("This node has no peer yet; add one with 'vledger peer add NAME HOST:PORT'."));
	} else {
		if ((rc = vl_buf_puts(b, "<table class=\"peers\">\n")) < 0 || (rc = vl_ui_table_heads(b, cols, 6)) < 0)
			goto out;
		for (i = 0; i < st.n; i++) {
			const vl_status_peer *p = &st.peers[i];

			if ((rc = vl_buf_puts(b, "<tr><td>")) < 0 || (rc = vl_ui_esc(b, p->peer.name)) < 0 ||
					(rc = vl_buf_puts(b, "</td><td>")) < 0 || (rc = vl_ui_esc(b, p->peer.address)) < 0 ||
					(rc = vl_buf_puts(b, "</td><td>")) < 0 ||
					(rc = when_secs(b, p->state.last_success, n->tz_min)) < 0 ||
					(rc = vl_buf_puts(b, "</td><td>")) < 0 ||
					(rc = when_secs(b, p->state.last_error, n->tz_min)) < 0)
				goto out;
			if (p->state.last_error && p->state.error[0] &&
					((rc = vl_buf_puts(b, "<br><span class=\"error\">")) < 0 ||
					(rc = vl_ui_esc(b, p->state.error)) < 0 || (rc = vl_buf_puts(b, "</span>")) < 0))
				goto out;
			if ((rc = vl_buf_puts(b, "</td><td class=\"num\">")) < 0)
				goto out;
			if (p->known)
				rc = vl_buf_printf(b, "%zu", p->waiting_commits);
			else
				rc = vl_ui_esc(b, _("unknown until the first sync"));
			if (rc < 0 || (rc = vl_buf_puts(b, "</td><td><form class=\"inline\" method=\"post\" "
					"action=\"/sync\">")) < 0 || (rc = vl_ui_csrf_field(b, q)) < 0 ||
					(rc = vl_buf_puts(b, "<input type=\"hidden\" name=\"peer\" value=\"")) < 0 ||
					(rc = vl_ui_esc(b, p->peer.name)) < 0 || (rc = vl_buf_puts(b, "\"><button type=\"submit\">")) < 0 ||
					(rc = vl_ui_esc(b, _("Sync now"))) < 0 || (rc = vl_buf_puts(b, "</button></form></td></tr>\n")) < 0)
				goto out;
		}
		if ((rc = vl_buf_puts(b, "</table>\n<form method=\"post\" action=\"/sync\">")) < 0 ||
				(rc = vl_ui_csrf_field(b, q)) < 0 ||
				(rc = vl_buf_puts(b, "<button type=\"submit\" class=\"primary\">")) < 0 ||
				(rc = vl_ui_esc(b, _("Sync with every peer now"))) < 0 ||
				(rc = vl_buf_puts(b, "</button></form>\n")) < 0)
			goto out;
	}
	if (rc < 0)
		goto out;
	/* USB bundles: a directory on this computer (the stick's) */
	if ((rc = vl_buf_puts(b, "<h2>")) < 0 || (rc = vl_ui_esc(b, _("USB bundles"))) < 0 ||
			(rc = vl_buf_puts(b, "</h2>\n")) < 0 ||
			(rc = para(b, "muted", _("For a place without a network: write what a peer needs into a "
			"directory (a USB stick), and read the bundles others wrote there."))) < 0 ||
			(rc = vl_buf_puts(b, "<form method=\"post\" action=\"/sync/bundle-out\">")) < 0 ||
			(rc = vl_ui_csrf_field(b, q)) < 0 || (rc = vl_buf_puts(b, "<label>")) < 0 ||
			(rc = vl_ui_esc(b, _("Directory"))) < 0 ||
			(rc = vl_buf_puts(b, " <input type=\"text\" name=\"dir\" required></label> <label>")) < 0 ||
			(rc = vl_ui_esc(b, _("For (a roster name; empty: everything)"))) < 0 ||
			(rc = vl_buf_puts(b, " <input type=\"text\" name=\"for\"></label> <button type=\"submit\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Write a bundle"))) < 0 ||
			(rc = vl_buf_puts(b, "</button></form>\n<form method=\"post\" action=\"/sync/bundle-in\">")) < 0 ||
			(rc = vl_ui_csrf_field(b, q)) < 0 || (rc = vl_buf_puts(b, "<label>")) < 0 ||
			(rc = vl_ui_esc(b, _("Directory or bundle file"))) < 0 ||
			(rc = vl_buf_puts(b, " <input type=\"text\" name=\"path\" required></label> <button type=\"submit\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Read bundles"))) < 0 || (rc = vl_buf_puts(b, "</button></form>\n")) < 0)
		goto out;
	rc = vl_ui_page_end(b, q);
out:
	vl_status_result_free(&st);
	return rc;
}

int vl_uip_sync(vl_ui_req *q, vl_ui_resp *r)
{
	vl_node *n = NULL;
	int rc;

	if ((rc = loaded(&n, q, 0)) < 0)
		return rc;
	return sync_page(q, r, n, NULL);
}

/* One sync's outcome as a line of HTML into out. */
static int sync_outcome(vl_buf *out, const char *peer, int rc, const vl_sync_result *res)
{
	vl_buf t = VL_BUF_INIT;
	int r;

	if (rc < 0)
		r = vl_buf_printf(&t, _("Sync with %s failed: %s"), peer, vl_error_last());
	else
		r = vl_buf_printf(&t, _("Synced with %s: received %zu objects, sent %zu; %zu branches refused."),
				peer, res->pulled.objects, res->pushed.objects, res->pulled.refused + res->pushed.refused);
	if (r >= 0)
		r = para(out, rc < 0 ? "error" : "ok", t.ptr);
	vl_buf_free(&t);
	return r;
}

/* POST /sync [peer=NAME]: vl_sync with that peer, or each peer of node.yaml
 * in turn, each bounded by SYNC_TIMEOUT_MS; the page shows every outcome. */
int vl_uip_sync_post(vl_ui_req *q, vl_ui_resp *r)
{
	vl_status_result st;
	vl_node *n = NULL;
	vl_buf outcome = VL_BUF_INIT;
	const char *peer = vl_ui_form_get(&q->form, "peer");
	size_t i;
	int rc;

	memset(&st, 0, sizeof(st));
	if ((rc = loaded(&n, q, 1)) < 0)
		return rc == VL_EDENIED && vl_ui_locked(q) ? vl_ui_redirect(r, "/unlock") : rc;
	if ((rc = vl_net_status(n, &st)) < 0)
		goto out;
	for (i = 0; i < st.n; i++) {
		vl_sync_opts so = VL_SYNC_OPTS_INIT;
		vl_sync_result res;
		int src;

		if (peer && *peer && strcmp(peer, st.peers[i].peer.name) != 0)
			continue;
		memset(&res, 0, sizeof(res));
		so.peer = st.peers[i].peer.name;
		so.push = 1;
		so.timeout_ms = SYNC_TIMEOUT_MS;
		src = vl_sync(n, &so, &res);
		rc = sync_outcome(&outcome, st.peers[i].peer.name, src, &res);
		vl_sync_result_free(&res);
		if (rc < 0)
			goto out;
	}
	if (!outcome.len && (rc = para(&outcome, "error", peer && *peer ?
			_("There is no such peer; reload the page.") : _("This node has no peer to sync with."))) < 0)
		goto out;
	rc = sync_page(q, r, n, outcome.ptr);
out:
	vl_buf_free(&outcome);
	vl_status_result_free(&st);
	return rc;
}

/* POST /sync/bundle-out dir=D [for=PEER] */
int vl_uip_bundle_out_post(vl_ui_req *q, vl_ui_resp *r)
{
	vl_bundle_create_opts bo = VL_BUNDLE_CREATE_OPTS_INIT;
	vl_bundle_create_result res;
	vl_node *n = NULL;
	vl_buf outcome = VL_BUF_INIT, t = VL_BUF_INIT;
	const char *dir = vl_ui_form_get(&q->form, "dir"), *peer = vl_ui_form_get(&q->form, "for");
	int rc, brc;

	memset(&res, 0, sizeof(res));
	if ((rc = loaded(&n, q, 0)) < 0)
		return rc;
	if (!dir || !*dir) {
		rc = para(&outcome, "error", _("Give the directory to write the bundle into."));
	} else {
		bo.path = dir;
		bo.for_peer = peer && *peer ? peer : NULL;
		brc = vl_bundle_create(n, &bo, &res);
		if (brc < 0)
			rc = vl_buf_printf(&t, _("No bundle was written: %s"), vl_error_last());
		else
			rc = vl_buf_printf(&t, _("Bundle written: %s (%zu objects, %zu bytes)."), res.path, res.objects,
					res.bytes);
		if (rc >= 0)
			rc = para(&outcome, brc < 0 ? "error" : "ok", t.ptr);
	}
	if (rc >= 0)
		rc = sync_page(q, r, n, outcome.ptr);
	vl_bundle_create_result_free(&res);
	vl_buf_free(&outcome);
	vl_buf_free(&t);
	return rc;
}

/* POST /sync/bundle-in path=P */
int vl_uip_bundle_in_post(vl_ui_req *q, vl_ui_resp *r)
{
	vl_bundle_apply_opts ao = VL_BUNDLE_APPLY_OPTS_INIT;
	vl_bundle_apply_result res;
	vl_node *n = NULL;
	vl_buf outcome = VL_BUF_INIT, t = VL_BUF_INIT;
	const char *path = vl_ui_form_get(&q->form, "path");
	size_t i;
	int rc, brc;

	memset(&res, 0, sizeof(res));
	if (!path || !*path) {
		if ((rc = loaded(&n, q, 0)) >= 0 && (rc = para(&outcome, "error", _("Give the directory or bundle "
				"file to read."))) >= 0)
			rc = sync_page(q, r, n, outcome.ptr);
		vl_buf_free(&outcome);
		return rc;
	}
	/* a sealed bundle needs the key */
	if ((rc = loaded(&n, q, 0)) < 0)
		return rc;
	if (vl_bundle_apply_needs_key(path, n->fp) && (rc = loaded(&n, q, 1)) < 0)
		return rc == VL_EDENIED && vl_ui_locked(q) ? vl_ui_redirect(r, "/unlock") : rc;
	ao.path = path;
	brc = vl_bundle_apply(n, &ao, &res);
	rc = 0;
	if (brc < 0 && !res.n) {
		if ((rc = vl_buf_printf(&t, _("No bundle was read: %s"), vl_error_last())) >= 0)
			rc = para(&outcome, "error", t.ptr);
	}
	for (i = 0; i < res.n && rc >= 0; i++) {
		const vl_bundle_applied *it = &res.items[i];

		vl_buf_clear(&t);
		if (it->skipped)
			rc = vl_buf_printf(&t, _("%s: skipped (%s)."), it->file, it->message ? it->message : "");
		else if (it->rc < 0)
			rc = vl_buf_printf(&t, _("%s: refused, nothing of it was kept (%s)."), it->file,
					it->message ? it->message : "");
		else
			rc = vl_buf_printf(&t, _("%s: read; %zu branches updated, %zu refused."), it->file,
					it->receive.branches_updated, it->receive.branches_refused);
		if (rc >= 0)
			rc = para(&outcome, it->rc < 0 ? "error" : "ok", t.ptr);
	}
	if (rc >= 0 && !outcome.len)
		rc = para(&outcome, "muted", _("No bundle there is meant for this node."));
	if (rc >= 0)
		rc = sync_page(q, r, n, outcome.ptr);
	vl_bundle_apply_result_free(&res);
	vl_buf_free(&outcome);
	vl_buf_free(&t);
	return rc;
}

/* ---- /aggregate, /reports ------------------------------------------------------------ */

/* Township and county nodes only (the rule the top bar's links follow). */
static int upper_only(vl_ui_req *q, vl_ui_resp *r, int *ok)
{
	*ok = vl_ui_role_above_village(q);
	if (*ok)
		return 0;
	return vl_ui_error_page(q, r, 404, _("Figures by unit and the report tracker are on township and "
			"county nodes."));
}

int vl_uip_aggregate(vl_ui_req *q, vl_ui_resp *r)
{
	vl_aggregate_opts ao = VL_AGGREGATE_OPTS_INIT;
	vl_aggregate_result ar;
	vl_node *n = NULL;
	vl_buf *b = &r->body, num = VL_BUF_INIT;
	size_t i, k, j;
	int rc, ok;

	memset(&ar, 0, sizeof(ar));
	if ((rc = loaded(&n, q, 0)) < 0 || (rc = upper_only(q, r, &ok)) < 0 || !ok)
		return rc;
	if ((rc = vl_aggregate_run(n, &ao, &ar)) < 0 || (rc = vl_ui_page_begin(b, q, _("Figures by unit"))) < 0)
		goto out;
	if ((rc = para(b, "muted", _("Live records only, added up village by village; a village never synced has "
			"no figures (not zeros)."))) < 0)
		goto out;
	/* one table per ledger: units down, its figures across */
	for (i = 0; i < ar.nfigs; i = j) {
		const vl_schema *s = ar.figs[i].schema;

		for (j = i; j < ar.nfigs && ar.figs[j].schema == s; j++)
			;
		if ((rc = vl_buf_puts(b, "<h2>")) < 0 || (rc = vl_ui_esc(b, lbl(q, s->label_zh, s->label_en, s->name))) < 0 ||
				(rc = vl_buf_puts(b, "</h2>\n<table class=\"figures\"><tr><th>")) < 0 ||
				(rc = vl_ui_esc(b, _("Unit"))) < 0 || (rc = vl_buf_puts(b, "</th>")) < 0)
			goto out;
		for (k = i; k < j; k++) {
			const vl_agg_figure *fg = &ar.figs[k];
			const vl_field *g = fg->group_value ? vl_schema_field(s, fg->agg->group_by) : NULL;
			const char *gl = g ? vl_field_enum_label(g, fg->group_value) : NULL;

			if ((rc = vl_buf_puts(b, "<th>")) < 0 ||
					(rc = vl_ui_esc(b, lbl(q, fg->agg->label_zh, fg->agg->label_en, fg->agg->name))) < 0 ||
					(fg->group_value && ((rc = vl_buf_puts(b, ": ")) < 0 ||
					(rc = vl_ui_esc(b, gl && strcmp(q->lang, "en") ? gl : fg->group_value)) < 0)) ||
					(rc = vl_buf_puts(b, "</th>")) < 0)
				goto out;
		}
		if ((rc = vl_buf_puts(b, "</tr>\n")) < 0)
			goto out;
		for (k = 0; k < ar.nunits; k++) {
			const vl_agg_unit *u = &ar.units[k];
			size_t m;

			if ((rc = vl_buf_printf(b, "<tr class=\"level-%d\"><td>", (int)u->level)) < 0 ||
					(rc = vl_ui_unit_label(b, u->name, u->code)) < 0)
				goto out;
			if (u->never_synced && (rc = vl_buf_puts(b, " <span class=\"error\">")) >= 0 &&
					(rc = vl_ui_esc(b, _("never synced"))) >= 0)
				rc = vl_buf_puts(b, "</span>");
			else if (u->stale && (rc = vl_buf_puts(b, " <span class=\"error\">")) >= 0 &&
					(rc = vl_ui_esc(b, _("not synced lately"))) >= 0)
				rc = vl_buf_puts(b, "</span>");
			if (rc < 0 || (rc = vl_buf_puts(b, "</td>")) < 0)
				goto out;
			for (m = i; m < j; m++) {
				vl_buf_clear(&num);
				if ((!u->never_synced && (rc = vl_agg_format(&num, u->vals[m])) < 0) ||
						(rc = vl_ui_table_cell(b, "num", u->never_synced ? "-" : num.ptr)) < 0)
					goto out;
			}
			if ((rc = vl_buf_puts(b, "</tr>\n")) < 0)
				goto out;
		}
		if ((rc = vl_buf_puts(b, "</table>\n")) < 0)
			goto out;
	}
	rc = vl_ui_page_end(b, q);
out:
	vl_buf_free(&num);
	vl_aggregate_result_free(&ar);
	return rc;
}

int vl_uip_reports(vl_ui_req *q, vl_ui_resp *r)
{
	vl_reports_opts ro = VL_REPORTS_OPTS_INIT;
	vl_reports_result rr;
	vl_node *n = NULL;
	vl_buf *b = &r->body, t = VL_BUF_INIT;
	size_t i, k;
	int rc, ok;
	const char *cols[] = { _("Unit"), _("State"), _("Report"), _("Submitted") };

	memset(&rr, 0, sizeof(rr));
	if ((rc = loaded(&n, q, 0)) < 0 || (rc = upper_only(q, r, &ok)) < 0 || !ok)
		return rc;
	/* VL_ENOTFOUND: the network has no report ledgers: no call to track */
	if (((rc = vl_reports(n, &ro, &rr)) < 0 && rc != VL_ENOTFOUND) ||
			(rc = vl_ui_page_begin(b, q, _("Report tracker"))) < 0)
		goto out;
	if (!rr.ncalls && (rc = para(b, "muted", _("This node holds no report call."))) < 0)
		goto out;
	for (i = 0; i < rr.ncalls; i++) {
		const vl_report_call *c = &rr.calls[i];

		vl_buf_clear(&t);
		if ((rc = vl_buf_puts(b, "<h2>")) < 0 || (rc = vl_ui_esc(b, c->title ? c->title : c->id)) < 0 ||
				(rc = vl_buf_puts(b, "</h2>\n")) < 0 ||
				(rc = vl_buf_printf(&t, _("Due %s: %zu reported, %zu late, %zu missing, %zu still open."),
				c->deadline, c->counts[VL_REPORT_REPORTED], c->counts[VL_REPORT_LATE],
				c->counts[VL_REPORT_MISSING], c->counts[VL_REPORT_OPEN])) < 0 ||
				(rc = para(b, "muted", t.ptr)) < 0 ||
				(rc = vl_buf_puts(b, "<table class=\"reports\">\n")) < 0 || (rc = vl_ui_table_heads(b, cols, 4)) < 0)
			goto out;
		for (k = 0; k < c->nunits; k++) {
			const vl_report_unit *u = &c->units[k];

			vl_buf_clear(&t);
			if ((rc = vl_buf_puts(b, "<tr><td>")) < 0 || (rc = vl_ui_unit_label(b, u->name, u->code)) < 0 ||
					(rc = vl_buf_printf(b, "</td><td class=\"state-%s\">", vl_report_state_name(u->state))) < 0 ||
					(rc = vl_ui_esc(b, strcmp(q->lang, "en") ? vl_report_state_zh(u->state) :
					vl_report_state_name(u->state))) < 0 || (rc = vl_buf_puts(b, "</td><td>")) < 0)
				goto out;
			if (u->report[0] && ((rc = vl_buf_puts(b, "<a href=\"/record/")) < 0 ||
					(rc = vl_ui_url_esc(b, u->report)) < 0 || (rc = vl_buf_puts(b, "\">")) < 0 ||
					(rc = vl_ui_esc(b, u->report)) < 0 || (rc = vl_buf_puts(b, "</a>")) < 0))
				goto out;
			if ((rc = vl_buf_puts(b, "</td>")) < 0 ||
					(u->submitted && (rc = vl_time_show(&t, u->submitted, n->tz_min)) < 0) ||
					(rc = vl_ui_table_cell(b, NULL, t.ptr)) < 0 || (rc = vl_buf_puts(b, "</tr>\n")) < 0)
				goto out;
		}
		if ((rc = vl_buf_puts(b, "</table>\n")) < 0)
			goto out;
	}
	rc = vl_ui_page_end(b, q);
out:
	vl_buf_free(&t);
	vl_reports_result_free(&rr);
	return rc;
}
