/* schema.c - schema list, show, check as operations (ops/schema.h). */
#include "agent/ops/schema.h"

#include <stdlib.h>
#include <string.h>

#include "store/i18n.h"
#include "store/yaml.h"

void vl_schema_result_free(vl_schema_result *r)
{
	if (!r)
		return;
	if (r->from_dir)
		vl_schemas_free(r->list, r->n);
	memset(r, 0, sizeof(*r));
}

int vl_schema_list(vl_node *n, const vl_schema_opts *opts, vl_schema_result *out)
{
	vl_buf diag = VL_BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if (n && vl_node_load_config(n) == 0) {
		out->list = n->schemas;
		out->n = n->nschemas;
		return 0;
	}
	if (!opts || !opts->schema_dir)
		return vl_error_set(VL_ENOTFOUND, "no node config and no schema directory to read schemas from");
	rc = vl_schemas_load_dir(&out->list, &out->n, opts->schema_dir, &diag);
	if (rc < 0 && diag.len)
		vl_error_set(rc, "%s", diag.ptr);
	vl_buf_free(&diag);
	if (rc < 0)
		return rc;
	out->from_dir = 1;
	return 0;
}

int vl_schema_show(vl_node *n, const vl_schema_opts *opts, vl_schema_result *out)
{
	int rc;

	if (!opts || !opts->name) {
		memset(out, 0, sizeof(*out));
		return vl_error_set(VL_EINVALID, "schema show needs a ledger name");
	}
	if ((rc = vl_schema_list(n, opts, out)) < 0)
		return rc;
	out->schema = vl_schema_lookup(out->list, out->n, opts->name);
	if (!out->schema)
		return vl_error_set(VL_ENOTFOUND, "no ledger '%s'; 'vledger schema list' shows them", opts->name);
	return 0;
}

void vl_schema_check_result_free(vl_schema_check_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		vl_schema_free(r->items[i].schema);
		free(r->items[i].diag);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

int vl_schema_check(vl_node *n, const vl_schema_check_opts *opts, vl_schema_check_result *out)
{
	size_t i;

	(void)n;
	memset(out, 0, sizeof(*out));
	if (!opts || !opts->nfiles)
		return vl_error_set(VL_EINVALID, "schema check needs at least one schema file");
	if (!(out->items = calloc(opts->nfiles, sizeof(*out->items))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < opts->nfiles; i++) {
		vl_schema_check_item *it = &out->items[out->n++];
		vl_buf in = VL_BUF_INIT, diag = VL_BUF_INIT;
		int rc;
		it->file = opts->files[i];
		vl_progress_report(&opts->progress, N_("check"), i, opts->nfiles);
		rc = vl_buf_read_file(&in, it->file, vl_yaml_file_limits.max_bytes);
		if (rc == 0)
			rc = vl_schema_load(&it->schema, in.ptr, in.len, it->file, &diag);
		if (rc < 0) {
			out->bad++;
			if (!diag.len)
				rc = vl_buf_printf(&diag, "%s\n", vl_error_last());
			it->diag = vl_buf_detach(&diag, NULL);
			if (!it->diag) {
				vl_buf_free(&in);
				return vl_error_set(VL_ENOMEM, "out of memory");
			}
		}
		vl_buf_free(&in);
		vl_buf_free(&diag);
	}
	return 0;
}
