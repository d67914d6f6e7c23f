/* history.c - log, history, blame and the data of audit export as
 * operations (ops/history.h). */
#include "agent/ops/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/node/ledger.h"
#include "schemas/types.h"
#include "store/i18n.h"

/* ---- log ----------------------------------------------------------------- */

void vl_log_result_free(vl_log_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->items[i].author);
		free(r->items[i].email);
		free(r->items[i].message);
		free(r->items[i].summary);
		free(r->items[i].operator_name);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* The roster entry of a commit's "<fp>@vledger" email, or NULL. */
static const vl_roster_entry *signer_of_email(const vl_node *n, const char *email)
{
	char fp[VL_FP_LEN];
	size_t len = email ? strlen(email) : 0;

	if (len <= 8)
		return NULL;
	snprintf(fp, sizeof(fp), "%.*s", (int)(len - 8), email);
	return vl_node_roster_find(n, fp);
}

int vl_log(vl_node *n, const vl_log_opts *opts, vl_log_result *out)
{
	vl_log_opts dflt = VL_LOG_OPTS_INIT;
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	vl_buf needle = VL_BUF_INIT;
	size_t cap = 0;
	git_oid head, id;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &dflt;
	if ((rc = vl_node_load_config(n)) < 0)
		goto out;
	if (opts->config)
		snprintf(out->ref, sizeof(out->ref), "%s", VL_REF_CONFIG);
	else
		vl_scope_ref(out->ref, opts->scope ? opts->scope : n->scope);
	if (opts->record) {
		vl_found f;
		memset(&f, 0, sizeof(f));
		if ((rc = vl_ledger_find(&f, n, opts->record)) < 0)
			goto out;
		if (!opts->scope && !opts->config)
			snprintf(out->ref, sizeof(out->ref), "%s", f.ref);
		rc = vl_buf_printf(&needle, "Vledger-Record: %s %s ", f.rec->schema, f.rec->id);
		vl_found_free(&f);
		if (rc < 0)
			goto out;
	}
	if ((rc = vl_repo_head(&head, n->repo, out->ref)) < 0)
		goto out;
	if ((rc = git_revwalk_new(&walk, n->repo)) < 0 ||
			(rc = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME)) < 0 ||
			(rc = git_revwalk_push(walk, &head)) < 0) {
		rc = vl_error_git(rc, _("cannot walk history"));
		goto out;
	}
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		const git_signature *a;
		const char *msg, *summary;
		vl_log_entry *e;

		git_commit_free(c);
		if ((rc = git_commit_lookup(&c, n->repo, &id)) < 0) {
			rc = vl_error_git(rc, _("cannot read a commit"));
			goto out;
		}
		msg = git_commit_message(c);
		if (needle.len && !strstr(msg, needle.ptr))
			continue;
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			vl_log_entry *ni = realloc(out->items, ncap * sizeof(*ni));
			if (!ni) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			out->items = ni;
			cap = ncap;
		}
		a = git_commit_author(c);
		summary = git_commit_summary(c);
		e = &out->items[out->n++];
		memset(e, 0, sizeof(*e));
		git_oid_cpy(&e->commit, &id);
		e->time = (long long)a->when.time;
		e->signer = signer_of_email(n, a->email);
		if (!(e->author = strdup(a->name ? a->name : "")) || !(e->email = strdup(a->email ? a->email : "")) ||
				!(e->message = strdup(msg)) || !(e->summary = strdup(summary ? summary : ""))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = vl_message_operator(&e->operator_name, msg)) < 0)
			goto out;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, _("cannot walk history"));
		goto out;
	}
	rc = 0;
out:
	git_commit_free(c);
	git_revwalk_free(walk);
	vl_buf_free(&needle);
	return rc;
}

/* ---- history, blame -------------------------------------------------------- */

void vl_history_result_free(vl_history_result *r)
{
	if (!r)
		return;
	vl_audit_history_free(&r->h);
	free(r->who);
	free(r->changed);
	memset(r, 0, sizeof(*r));
}

/* The field `name` names in s: its id, else its Chinese label, else its
 * English label in any case. */
static const vl_field *field_named(const vl_schema *s, const char *name)
{
	const vl_field *f = vl_schema_field(s, name);
	size_t i;

	for (i = 0; !f && i < s->nfields; i++)
		if (s->fields[i].label_zh && !strcmp(s->fields[i].label_zh, name))
			f = &s->fields[i];
	for (i = 0; !f && i < s->nfields; i++)
		if (s->fields[i].label_en && !strcasecmp(s->fields[i].label_en, name))
			f = &s->fields[i];
	return f;
}

int vl_history(vl_node *n, const vl_history_opts *opts, vl_history_result *out)
{
	size_t i, k;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts || !opts->id)
		return vl_error_set(VL_EINVALID, "history needs a record id");
	if ((rc = vl_audit_history_load(&out->h, n, opts->id)) < 0 || !opts->field)
		return rc;
	if (!(out->field = field_named(out->h.schema, opts->field))) {
		rc = vl_error_set(VL_EINVALID, "ledger '%s' has no field '%.64s'; 'vledger schema show %s' lists its "
				"fields and labels", out->h.schema->name, opts->field, out->h.schema->name);
		goto fail;
	}
	if (out->h.n && !(out->changed = calloc(out->h.n, 1))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < out->h.n; i++)
		for (k = 0; k < out->h.v[i].nchanges && !out->changed[i]; k++)
			if (!strcmp(out->h.v[i].changes[k].field, out->field->name)) {
				out->changed[i] = 1;
				out->nchanged++;
			}
	return 0;
fail:
	vl_history_result_free(out);
	return rc;
}

int vl_blame(vl_node *n, const vl_history_opts *opts, vl_history_result *out)
{
	int rc;

	if ((rc = vl_history(n, opts, out)) < 0)
		return rc;
	return vl_audit_blame(&out->who, &out->h);
}

/* ---- audit export ------------------------------------------------------------ */

void vl_audit_export_result_free(vl_audit_export_result *r)
{
	size_t i;

	if (!r)
		return;
	vl_verify_result_free(&r->verify);
	for (i = 0; i < r->nv; i++)
		vl_audit_version_free(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int vl_audit_export(vl_node *n, const vl_audit_export_opts *opts, vl_audit_export_result *out)
{
	vl_audit_export_opts dflt = VL_AUDIT_EXPORT_OPTS_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &dflt;
	if (opts->scope && vl_division_level(opts->scope) == VL_DIV_INVALID)
		return vl_error_set(VL_EINVALID, "scope '%.20s' is not a 12-digit division code", opts->scope);
	if ((opts->from && !vl_date_valid(opts->from)) || (opts->to && !vl_date_valid(opts->to)))
		return vl_error_set(VL_EINVALID, "report periods take dates YYYY-MM-DD (UTC)");
	if (opts->from && opts->to && strcmp(opts->from, opts->to) > 0)
		return vl_error_set(VL_EINVALID, "the period starts on %s, after its end %s", opts->from, opts->to);
	out->generated = (long long)time(NULL);
	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	vl_progress_report(&opts->progress, N_("verify"), 0, 2);
	if ((rc = vl_verify_all(n, &out->verify)) < 0)
		return rc;
	vl_progress_report(&opts->progress, N_("collect"), 1, 2);
	if ((rc = vl_audit_collect(&out->v, &out->nv, n, opts->scope, opts->from, opts->to)) < 0)
		return rc;
	vl_progress_report(&opts->progress, N_("collect"), 2, 2);
	return 0;
}
