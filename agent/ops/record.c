/* record.c - add, import, edit, rm, show, list as operations (record.h). */
#include "agent/ops/record.h"
#include "agent/ops/csv.h"
#include "agent/ops/query.h"
#include "agent/node/divisions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/types.h"
#include "store/repo.h"
#include "store/yaml.h"

static const vl_yaml_limits import_limits = { VL_IMPORT_MAX_BYTES, 16, 5000000 };

/* The field name of a "FIELD=VALUE" item into field[128]; NULL when the item
 * has no '=' or the name does not fit. Returns the value. */
static const char *split_set(char field[128], const char *item)
{
	const char *eq = strchr(item, '=');

	if (!eq || (size_t)(eq - item) >= 128)
		return NULL;
	memcpy(field, item, (size_t)(eq - item));
	field[eq - item] = '\0';
	return eq + 1;
}

/* Apply `FIELD=VALUE` items to data. */
static int apply_sets(const vl_schema *s, vl_value *data, const char *const *sets, size_t nsets)
{
	size_t i;
	int rc;

	for (i = 0; i < nsets; i++) {
		char field[128];
		const char *val = split_set(field, sets[i]);
		if (!val || !field[0])
			return vl_error_set(VL_EINVALID, "--set takes FIELD=VALUE, got '%.40s'", sets[i]);
		if ((rc = vl_schema_set_text(s, data, field, val)) < 0)
			return rc;
	}
	return 0;
}

/* Validate; the error lists every violation. VL_EINVALID when any. */
static int validate_or_report(const vl_schema *s, const vl_value *data, int deleted, const char *what)
{
	vl_buf diag = VL_BUF_INIT;
	int rc = vl_schema_validate(s, data, deleted, &diag);

	if (rc < 0) {
		vl_error_set(rc, "%s not written; ledger '%s' rules broken:\n%s%s", what, s->name,
				diag.len ? diag.ptr : vl_error_last(),
				"fix the values above; nothing was changed");
	}
	vl_buf_free(&diag);
	return rc;
}

/* Load the node's config and find ledger `name` (borrowed from the node). */
static int node_ledger(const vl_schema **out, vl_node *n, const char *name)
{
	int rc;

	*out = NULL;
	if (!name)
		return vl_error_set(VL_EINVALID, "no ledger named; 'vledger schema list' shows them");
	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	if (!(*out = vl_node_schema(n, name)))
		return vl_error_set(VL_ENOTFOUND, "no ledger '%s'; 'vledger schema list' shows them", name);
	return 0;
}

/* The scope a write goes to: given (a division code) or the node's own. */
static int write_scope(char out[13], const vl_node *n, const char *scope)
{
	if (scope && vl_division_level(scope) == VL_DIV_INVALID)
		return vl_error_set(VL_EINVALID, "scope '%.20s' is not a 12-digit division code", scope);
	snprintf(out, 13, "%s", scope ? scope : n->scope);
	return 0;
}

/* ---- add ----------------------------------------------------------------- */

void vl_add_result_free(vl_add_result *r)
{
	if (r)
		memset(r, 0, sizeof(*r));
}

int vl_add(vl_node *n, const vl_add_opts *opts, vl_add_result *out)
{
	const vl_schema *s = NULL;
	vl_value *data = NULL;
	vl_record *r = NULL;
	vl_buf in = VL_BUF_INIT, summary = VL_BUF_INIT, what = VL_BUF_INIT;
	char id[VL_ULID_LEN + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts || (!opts->nsets && !opts->file) || (opts->nsets && opts->file))
		return vl_error_set(VL_EINVALID, "add needs a ledger name and either field values or a file");
	if ((rc = node_ledger(&s, n, opts->ledger)) < 0 || (rc = write_scope(out->scope, n, opts->scope)) < 0 ||
			(rc = vl_ledger_may_write(n, out->scope)) < 0)
		goto out;
	if (opts->file) {
		if ((rc = vl_buf_read_file(&in, opts->file, vl_yaml_file_limits.max_bytes)) < 0 ||
				(rc = vl_yaml_load(&data, in.ptr, in.len, &vl_yaml_file_limits, opts->file)) < 0 ||
				(rc = vl_schema_normalize(s, data)) < 0)
			goto out;
	} else {
		if (!(data = vl_value_new(VL_V_MAP))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = apply_sets(s, data, opts->sets, opts->nsets)) < 0)
			goto out;
	}
	/* A new record: the schema's defaults fill the fields left out. */
	if ((rc = vl_schema_apply_defaults(s, data)) < 0)
		goto out;
	if (opts->file)
		rc = vl_buf_printf(&what, "record from '%s' (positions are line and column there)", opts->file);
	else
		rc = vl_buf_puts(&what, "record");
	if (rc < 0 || (rc = validate_or_report(s, data, 0, what.ptr)) < 0)
		goto out;
	vl_ulid_new(id, vl_hlc_wall_ms());
	if ((rc = vl_record_new(&r, s->name, id, out->scope)) < 0)
		goto out;
	vl_value_free(r->data);
	r->data = data;
	data = NULL;
	if ((rc = vl_buf_printf(&summary, "add %s %s", s->name, id)) < 0 ||
			(rc = vl_ledger_commit(&out->commit, n, out->scope, &r, 1, summary.ptr, NULL)) < 0)
		goto out;
	memcpy(out->id, id, sizeof(out->id));
	rc = 0;
out:
	vl_record_free(r);
	vl_value_free(data);
	vl_buf_free(&in);
	vl_buf_free(&summary);
	vl_buf_free(&what);
	return rc;
}

/* ---- import -------------------------------------------------------------- */

void vl_import_result_free(vl_import_result *r)
{
	if (!r)
		return;
	vl_buf_free(&r->bad_rows);
	memset(r, 0, sizeof(*r));
}

int vl_import(vl_node *n, const vl_import_opts *opts, vl_import_result *out)
{
	size_t i, batch, done, nrecs = 0;
	const vl_schema *s = NULL;
	vl_value *doc = NULL, *list = NULL;
	vl_record **recs = NULL;
	vl_buf in = VL_BUF_INIT, summary = VL_BUF_INIT, diag = VL_BUF_INIT;
	git_oid commit;
	const char *file = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts || !opts->file)
		return vl_error_set(VL_EINVALID, "import needs a ledger name and a file");
	if (opts->batch > VL_IMPORT_BATCH_MAX)
		return vl_error_set(VL_EINVALID, "a batch holds 1 to %d records", VL_IMPORT_BATCH_MAX);
	batch = opts->batch ? opts->batch : VL_IMPORT_BATCH_DEFAULT;
	file = opts->file;
	if ((rc = node_ledger(&s, n, opts->ledger)) < 0 || (rc = write_scope(out->scope, n, opts->scope)) < 0 ||
			(rc = vl_ledger_may_write(n, out->scope)) < 0)
		goto out;
	if ((rc = vl_buf_read_file(&in, file, import_limits.max_bytes)) < 0)
		goto out;
	/* CSV: every row checked there, every bad row listed in bad_rows; the
	 * rows then go through the same checks and commits as YAML records. */
	if (vl_csv_is_csv(file, in.ptr, in.len)) {
		if ((rc = vl_csv_records(&list, &out->bad_rows, s, in.ptr, in.len, file)) < 0 ||
				!(doc = vl_value_new(VL_V_MAP)) || (rc = vl_value_map_set(doc, "records", list)) < 0) {
			if (rc == 0)
				vl_value_free(list);
			rc = rc < 0 ? rc : vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
	} else if ((rc = vl_yaml_load(&doc, in.ptr, in.len, &import_limits, file)) < 0) {
		goto out;
	}
	list = vl_value_map_get(doc, "records");
	if (!list || list->kind != VL_V_LIST) {
		rc = vl_error_set(VL_EINVALID, "%s: an import file is a mapping with one key, 'records', "
				"holding a list of data mappings", file);
		goto out;
	}
	/* Check every record before writing any: an import is all or nothing. */
	recs = calloc(list->n ? list->n : 1, sizeof(*recs));
	if (!recs) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < list->n; i++) {
		vl_value *d = list->items[i];
		char id[VL_ULID_LEN + 1];
		if (d->kind != VL_V_MAP) {
			rc = vl_error_set(VL_EINVALID, "%s:%d:%d: record %zu is not a mapping", file, d->line, d->col, i + 1);
			goto out;
		}
		if ((rc = vl_schema_normalize(s, d)) < 0 || (rc = vl_schema_apply_defaults(s, d)) < 0)
			goto out;
		vl_buf_clear(&diag);
		if (vl_schema_validate(s, d, 0, &diag) < 0) {
			rc = vl_error_set(VL_EINVALID, "%s: record %zu (line %d) breaks ledger '%s' rules:\n%s"
					"nothing was imported", file, i + 1, d->line, s->name, diag.ptr ? diag.ptr : "");
			goto out;
		}
		vl_ulid_new(id, vl_hlc_wall_ms());
		if ((rc = vl_record_new(&recs[i], s->name, id, out->scope)) < 0)
			goto out;
		nrecs++;
		vl_value_free(recs[i]->data);
		recs[i]->data = d;
		list->items[i] = vl_value_new(VL_V_NULL);
	}
	out->records = nrecs;
	for (done = 0; done < nrecs; done += batch) {
		size_t k = nrecs - done < batch ? nrecs - done : batch;
		vl_progress_report(&opts->progress, "import", done, nrecs);
		vl_buf_clear(&summary);
		if ((rc = vl_buf_printf(&summary, "import %zu %s records (%zu-%zu of %zu)", k, s->name,
				done + 1, done + k, nrecs)) < 0 ||
				(rc = vl_ledger_commit(&commit, n, out->scope, recs + done, k, summary.ptr, NULL)) < 0) {
			if (done)
				vl_error_wrap(rc, "import stopped after %zu of %zu records (those are committed)", done, nrecs);
			goto out;
		}
		out->committed = done + k;
	}
	vl_progress_report(&opts->progress, "import", nrecs, nrecs);
	rc = 0;
out:
	for (i = 0; recs && i < nrecs; i++)
		vl_record_free(recs[i]);
	free(recs);
	vl_value_free(doc);
	vl_buf_free(&in);
	vl_buf_free(&summary);
	vl_buf_free(&diag);
	return rc;
}

/* ---- edit ---------------------------------------------------------------- */

void vl_edit_result_free(vl_edit_result *r)
{
	if (r)
		memset(r, 0, sizeof(*r));
}

int vl_edit(vl_node *n, const vl_edit_opts *opts, vl_edit_result *out)
{
	vl_found f;
	vl_record *r = NULL;
	vl_buf summary = VL_BUF_INIT;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	if (!opts || !opts->id || (!opts->nsets && !opts->nunsets))
		return vl_error_set(VL_EINVALID, "edit needs a record id and at least one field to set or unset");
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&f, n, opts->id)) < 0 ||
			(rc = vl_ledger_may_write(n, f.scope)) < 0)
		goto out;
	if (f.rec->deleted) {
		rc = vl_error_set(VL_EINVALID, "record %s is deleted; a tombstone is not edited", f.rec->id);
		goto out;
	}
	if ((rc = vl_ledger_next_version(&r, &f)) < 0 || (rc = apply_sets(f.schema, r->data, opts->sets, opts->nsets)) < 0)
		goto out;
	/* Setting a field a merge left for a person settles it with that value. */
	for (i = 0; r->conflicts && i < opts->nsets; i++) {
		char field[128];
		if (split_set(field, opts->sets[i]))
			(void)vl_value_map_del(r->conflicts, field);
	}
	for (i = 0; i < opts->nunsets; i++) {
		if (!vl_schema_field(f.schema, opts->unsets[i])) {
			rc = vl_error_set(VL_ENOTFOUND, "ledger '%s' has no field '%s'", f.schema->name, opts->unsets[i]);
			goto out;
		}
		(void)vl_value_map_del(r->data, opts->unsets[i]);
		if (r->conflicts)
			(void)vl_value_map_del(r->conflicts, opts->unsets[i]);
	}
	if (r->conflicts && r->conflicts->n == 0) {
		vl_value_free(r->conflicts);
		r->conflicts = NULL;
	}
	memcpy(out->id, f.rec->id, sizeof(out->id));
	if (vl_value_equal(r->data, f.rec->data) && !r->conflicts == !f.rec->conflicts &&
			(!r->conflicts || vl_value_equal(r->conflicts, f.rec->conflicts))) {
		rc = 0; /* unchanged: nothing to write */
		goto out;
	}
	if ((rc = validate_or_report(f.schema, r->data, 0, "edit")) < 0)
		goto out;
	if ((rc = vl_buf_printf(&summary, "edit %s %s", r->schema, r->id)) < 0 ||
			(rc = vl_ledger_commit(&out->commit, n, f.scope, &r, 1, summary.ptr, NULL)) < 0)
		goto out;
	out->changed = 1;
	rc = 0;
out:
	vl_found_free(&f);
	vl_record_free(r);
	vl_buf_free(&summary);
	return rc;
}

/* ---- rm ------------------------------------------------------------------ */

void vl_rm_result_free(vl_rm_result *r)
{
	if (r)
		memset(r, 0, sizeof(*r));
}

int vl_rm(vl_node *n, const vl_rm_opts *opts, vl_rm_result *out)
{
	vl_found f;
	vl_record *r = NULL;
	vl_value *kept = NULL;
	vl_buf summary = VL_BUF_INIT, trailer = VL_BUF_INIT;
	const char *reason = NULL;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	if (!opts || !opts->id || !opts->reason || !*opts->reason)
		return vl_error_set(VL_EINVALID, "rm needs a record id and a reason");
	reason = opts->reason;
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&f, n, opts->id)) < 0 ||
			(rc = vl_ledger_may_write(n, f.scope)) < 0)
		goto out;
	if (f.rec->deleted) {
		rc = vl_error_set(VL_EEXISTS, "record %s is already deleted", f.rec->id);
		goto out;
	}
	if ((rc = vl_ledger_next_version(&r, &f)) < 0 ||
			(rc = vl_schema_tombstone_data(&kept, f.schema, f.rec->data)) < 0)
		goto out;
	vl_value_free(r->data);
	r->data = kept;
	kept = NULL;
	r->deleted = 1;
	/* Deleting settles what was open; the candidates stay in history. */
	vl_value_free(r->conflicts);
	r->conflicts = NULL;
	/* The reason goes into the commit message on one line. */
	if ((rc = vl_buf_puts(&trailer, "Vledger-Reason: ")) < 0)
		goto out;
	for (i = 0; reason[i] && i < 400; i++)
		if ((rc = vl_buf_putc(&trailer, reason[i] == '\n' || reason[i] == '\r' ? ' ' : reason[i])) < 0)
			goto out;
	if ((rc = vl_buf_putc(&trailer, '\n')) < 0 ||
			(rc = vl_buf_printf(&summary, "delete %s %s", r->schema, r->id)) < 0 ||
			(rc = vl_ledger_commit(&out->commit, n, f.scope, &r, 1, summary.ptr, trailer.ptr)) < 0)
		goto out;
	memcpy(out->id, f.rec->id, sizeof(out->id));
	rc = 0;
out:
	vl_found_free(&f);
	vl_record_free(r);
	vl_value_free(kept);
	vl_buf_free(&summary);
	vl_buf_free(&trailer);
	return rc;
}

/* ---- show ---------------------------------------------------------------- */

void vl_show_result_free(vl_show_result *r)
{
	if (!r)
		return;
	vl_found_free(&r->found);
	memset(r, 0, sizeof(*r));
}

int vl_show(vl_node *n, const vl_show_opts *opts, vl_show_result *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts || !opts->id)
		return vl_error_set(VL_EINVALID, "show needs a record id");
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&out->found, n, opts->id)) < 0)
		return rc;
	out->signer = vl_node_roster_find(n, out->found.rec->author);
	return 0;
}

/* ---- list ---------------------------------------------------------------- */

void vl_list_result_free(vl_list_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		vl_record_free(r->items[i].rec);
	free(r->items);
	memset(r, 0, sizeof(*r));
}

typedef struct {
	vl_node *n;
	const vl_list_opts *opts;
	vl_list_result *res;
	vl_query where;
	size_t cap;
} list_ctx;

static int list_one(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	list_ctx *c = ctx;
	vl_record *r = NULL;
	int rc, match;

	(void)blob;
	if ((rc = vl_record_parse(&r, raw, len, path)) < 0)
		return rc;
	match = vl_query_match(&c->where, r->data);
	if ((r->deleted && !c->opts->deleted) || !match)
		goto out;
	if (c->res->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		vl_list_item *ni = realloc(c->res->items, ncap * sizeof(*ni));
		if (!ni) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		c->res->items = ni;
		c->cap = ncap;
	}
	c->res->items[c->res->n].signer = vl_node_roster_find(c->n, r->author);
	c->res->items[c->res->n++].rec = r;
	r = NULL;
	rc = 0;
out:
	vl_record_free(r);
	return rc;
}

static int code_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The scope codes whose branches a list reads: scope itself, and unless
 * no_children every branch below it, sorted. */
static int list_scopes(char (**out)[13], size_t *n, vl_node *n_, const char *scope, int no_children)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	char (*v)[13] = NULL;
	size_t cap = 0, k = 0;
	int rc;

	if ((rc = git_reference_iterator_glob_new(&it, n_->repo, "refs/heads/scope/*")) < 0) {
		rc = vl_error_git(rc, "cannot list the scope branches");
		goto out;
	}
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const char *code = git_reference_name(ref) + strlen("refs/heads/scope/");
		if (vl_division_level(code) != VL_DIV_INVALID &&
				(no_children ? strcmp(code, scope) == 0 : vl_division_covers(scope, code))) {
			if ((rc = vl_array_grow((void **)&v, &cap, k, sizeof(*v))) < 0)
				goto out;
			snprintf(v[k++], 13, "%s", code);
		}
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, "cannot list the scope branches");
		goto out;
	}
	if (k)
		qsort(v, k, sizeof(*v), code_cmp);
	*out = v;
	*n = k;
	v = NULL;
	rc = 0;
out:
	free(v);
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return rc;
}

int vl_list(vl_node *n, const vl_list_opts *opts, vl_list_result *out)
{
	list_ctx c;
	vl_divisions div = VL_DIVISIONS_INIT;
	char (*scopes)[13] = NULL;
	char ref[64];
	git_oid head;
	size_t i, nscopes = 0;
	int rc, have_div = 0;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (!opts)
		return vl_error_set(VL_EINVALID, "list needs a ledger name");
	if ((rc = node_ledger(&out->schema, n, opts->ledger)) < 0 || (rc = write_scope(out->scope, n, opts->scope)) < 0 ||
			(rc = vl_query_parse(&c.where, out->schema, opts->where, opts->nwhere, 1)) < 0 ||
			(rc = list_scopes(&scopes, &nscopes, n, out->scope, opts->no_children)) < 0)
		goto out;
	/* A well-formed code that names no unit is an error too, not an empty
	 * list, when the node has a division table to tell (divisions.h). */
	if (nscopes == 0 && opts->scope) {
		if ((rc = vl_divisions_load(&div, &have_div, n->home, NULL)) < 0)
			goto out;
		if (have_div && !vl_divisions_find(&div, out->scope)) {
			rc = vl_error_set(VL_EINVALID, "scope '%s' is not a unit of the division table", out->scope);
			goto out;
		}
	}
	c.n = n;
	c.opts = opts;
	c.res = out;
	for (i = 0; i < nscopes; i++) {
		vl_scope_ref(ref, scopes[i]);
		if ((rc = vl_repo_head(&head, n->repo, ref)) < 0)
			goto out;
		out->have_branch = 1;
		if ((rc = vl_ledger_each(n, &head, out->schema->name, list_one, &c)) < 0)
			goto out;
	}
	rc = 0;
out:
	vl_query_free(&c.where);
	vl_divisions_free(&div);
	free(scopes);
	return rc;
}
