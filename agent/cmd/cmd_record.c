/* cmd_record.c - add, import, edit, rm, show, list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "agent/node/ledger.h"
#include "store/repo.h"
#include "schemas/types.h"
#include "store/yaml.h"

/* Caps for an import file: records of 64 KiB at most each, 64 MiB in all. */
static const vl_yaml_limits import_limits = { (size_t)64 << 20, 16, 5000000 };

/* Apply `--set field=value` items to data. */
static int apply_sets(const vl_schema *s, vl_value *data, const vl_strlist *sets)
{
	size_t i;
	int rc;

	for (i = 0; i < sets->n; i++) {
		const char *eq = strchr(sets->items[i], '=');
		char field[128];
		if (!eq || eq == sets->items[i] || (size_t)(eq - sets->items[i]) >= sizeof(field))
			return vl_error_set(VL_EINVALID, "--set takes FIELD=VALUE, got '%.40s'", sets->items[i]);
		memcpy(field, sets->items[i], (size_t)(eq - sets->items[i]));
		field[eq - sets->items[i]] = '\0';
		if ((rc = vl_schema_set_text(s, data, field, eq + 1)) < 0)
			return rc;
	}
	return 0;
}

/* Validate, printing every violation; returns VL_EINVALID when any. */
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
	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	if (!(*out = vl_node_schema(n, name)))
		return vl_error_set(VL_ENOTFOUND, "no ledger '%s'; 'vledger schema list' shows them", name);
	return 0;
}

int vl_cmd_add(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *scope = NULL, *file = NULL, *passfile = NULL;
	vl_strlist sets = { 0 };
	const vl_opt opts[] = {
		{ "--scope", 1, &scope, NULL, NULL }, { "--set", 1, NULL, NULL, &sets },
		{ "--file", 1, &file, NULL, NULL }, { "--passphrase-file", 1, &passfile, NULL, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	const vl_schema *s;
	vl_value *data = NULL;
	vl_record *r = NULL;
	vl_buf in = VL_BUF_INIT, summary = VL_BUF_INIT;
	char id[VL_ULID_LEN + 1];
	git_oid commit;
	int rc, exit_code = VL_EXIT_ERROR;

	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1 || (!sets.n && !file) || (sets.n && file)) {
		free(pos);
		vl_strlist_free(&sets);
		return vl_cli_usage(cmd, "needs a ledger name and either --set FIELD=VALUE... or --file F");
	}
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	if (!scope)
		scope = n->scope;
	if ((rc = node_ledger(&s, n, pos[0])) < 0 || (rc = vl_ledger_may_write(n, scope)) < 0)
		goto fail;
	if (file) {
		if ((rc = vl_buf_read_file(&in, file, vl_yaml_file_limits.max_bytes)) < 0 ||
				(rc = vl_yaml_load(&data, in.ptr, in.len, &vl_yaml_file_limits, file)) < 0 ||
				(rc = vl_schema_normalize(s, data)) < 0)
			goto fail;
	} else {
		if (!(data = vl_value_new(VL_V_MAP))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto fail;
		}
		if ((rc = apply_sets(s, data, &sets)) < 0)
			goto fail;
	}
	/* A new record: the schema's defaults fill the fields left out. */
	if ((rc = vl_schema_apply_defaults(s, data)) < 0)
		goto fail;
	if (file) {
		vl_buf what = VL_BUF_INIT;
		if ((rc = vl_buf_printf(&what, "record from '%s' (positions are line and column there)", file)) < 0)
			goto fail;
		rc = validate_or_report(s, data, 0, what.ptr);
		vl_buf_free(&what);
	} else {
		rc = validate_or_report(s, data, 0, "record");
	}
	if (rc < 0)
		goto fail;
	vl_ulid_new(id, vl_hlc_wall_ms());
	if ((rc = vl_record_new(&r, s->name, id, scope)) < 0)
		goto fail;
	vl_value_free(r->data);
	r->data = data;
	data = NULL;
	if ((rc = vl_buf_printf(&summary, "add %s %s", s->name, id)) < 0 ||
			(rc = vl_ledger_commit(&commit, n, scope, &r, 1, summary.ptr, NULL)) < 0)
		goto fail;
	printf("%s\n", id);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_record_free(r);
	vl_value_free(data);
	vl_buf_free(&in);
	vl_buf_free(&summary);
	vl_node_close(n);
	vl_strlist_free(&sets);
	free(pos);
	return exit_code;
}

int vl_cmd_import(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *scope = NULL, *file = NULL, *passfile = NULL, *batch_s = NULL;
	const vl_opt opts[] = {
		{ "--scope", 1, &scope, NULL, NULL }, { "--file", 1, &file, NULL, NULL },
		{ "--batch", 1, &batch_s, NULL, NULL }, { "--passphrase-file", 1, &passfile, NULL, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos, i, batch = 500, done = 0, nrecs = 0;
	vl_node *n = NULL;
	const vl_schema *s;
	vl_value *doc = NULL, *list;
	vl_record **recs = NULL;
	vl_buf in = VL_BUF_INIT, summary = VL_BUF_INIT, diag = VL_BUF_INIT;
	git_oid commit;
	int rc, exit_code = VL_EXIT_ERROR;

	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1 || !file) {
		free(pos);
		return vl_cli_usage(cmd, "needs a ledger name and --file F");
	}
	if (batch_s) {
		char *end;
		unsigned long v = strtoul(batch_s, &end, 10);
		if (*end || v == 0 || v > 10000) {
			free(pos);
			return vl_cli_usage(cmd, "--batch takes a number from 1 to 10000");
		}
		batch = v;
	}
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	if (!scope)
		scope = n->scope;
	if ((rc = node_ledger(&s, n, pos[0])) < 0 || (rc = vl_ledger_may_write(n, scope)) < 0)
		goto fail;
	if ((rc = vl_buf_read_file(&in, file, import_limits.max_bytes)) < 0 ||
			(rc = vl_yaml_load(&doc, in.ptr, in.len, &import_limits, file)) < 0)
		goto fail;
	list = vl_value_map_get(doc, "records");
	if (!list || list->kind != VL_V_LIST) {
		rc = vl_error_set(VL_EINVALID, "%s: an import file is a mapping with one key, 'records', "
				"holding a list of data mappings", file);
		goto fail;
	}
	/* Check every record before writing any: an import is all or nothing. */
	recs = calloc(list->n ? list->n : 1, sizeof(*recs));
	if (!recs) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < list->n; i++) {
		vl_value *d = list->items[i];
		char id[VL_ULID_LEN + 1];
		if (d->kind != VL_V_MAP) {
			rc = vl_error_set(VL_EINVALID, "%s:%d:%d: record %zu is not a mapping", file, d->line, d->col, i + 1);
			goto fail;
		}
		if ((rc = vl_schema_normalize(s, d)) < 0 || (rc = vl_schema_apply_defaults(s, d)) < 0)
			goto fail;
		vl_buf_clear(&diag);
		if (vl_schema_validate(s, d, 0, &diag) < 0) {
			rc = vl_error_set(VL_EINVALID, "%s: record %zu (line %d) breaks ledger '%s' rules:\n%s"
					"nothing was imported", file, i + 1, d->line, s->name, diag.ptr ? diag.ptr : "");
			goto fail;
		}
		vl_ulid_new(id, vl_hlc_wall_ms());
		if ((rc = vl_record_new(&recs[i], s->name, id, scope)) < 0)
			goto fail;
		nrecs++;
		vl_value_free(recs[i]->data);
		recs[i]->data = d;
		list->items[i] = vl_value_new(VL_V_NULL);
	}
	for (done = 0; done < nrecs; done += batch) {
		size_t k = nrecs - done < batch ? nrecs - done : batch;
		vl_buf_clear(&summary);
		if ((rc = vl_buf_printf(&summary, "import %zu %s records (%zu-%zu of %zu)", k, s->name,
				done + 1, done + k, nrecs)) < 0 ||
				(rc = vl_ledger_commit(&commit, n, scope, recs + done, k, summary.ptr, NULL)) < 0) {
			if (done)
				vl_error_wrap(rc, "import stopped after %zu of %zu records (those are committed)", done, nrecs);
			goto fail;
		}
	}
	printf("imported %zu %s records into scope %s\n", nrecs, s->name, scope);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	for (i = 0; recs && i < nrecs; i++)
		vl_record_free(recs[i]);
	free(recs);
	vl_value_free(doc);
	vl_buf_free(&in);
	vl_buf_free(&summary);
	vl_buf_free(&diag);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

int vl_cmd_edit(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *passfile = NULL;
	vl_strlist sets = { 0 }, unsets = { 0 };
	const vl_opt opts[] = {
		{ "--set", 1, NULL, NULL, &sets }, { "--unset", 1, NULL, NULL, &unsets },
		{ "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos, i;
	vl_node *n = NULL;
	vl_found f;
	vl_record *r = NULL;
	vl_buf summary = VL_BUF_INIT;
	git_oid commit;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&f, 0, sizeof(f));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1 || (!sets.n && !unsets.n)) {
		free(pos);
		vl_strlist_free(&sets);
		vl_strlist_free(&unsets);
		return vl_cli_usage(cmd, "needs a record id and at least one --set or --unset");
	}
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&f, n, pos[0])) < 0 ||
			(rc = vl_ledger_may_write(n, f.scope)) < 0)
		goto fail;
	if (f.rec->deleted) {
		rc = vl_error_set(VL_EINVALID, "record %s is deleted; a tombstone is not edited", f.rec->id);
		goto fail;
	}
	if ((rc = vl_ledger_next_version(&r, &f)) < 0 || (rc = apply_sets(f.schema, r->data, &sets)) < 0)
		goto fail;
	/* Setting a field a merge left for a person settles it with that value. */
	for (i = 0; r->conflicts && i < sets.n; i++) {
		const char *eq = strchr(sets.items[i], '=');
		char field[128];
		if (!eq || (size_t)(eq - sets.items[i]) >= sizeof(field))
			continue;
		memcpy(field, sets.items[i], (size_t)(eq - sets.items[i]));
		field[eq - sets.items[i]] = '\0';
		(void)vl_value_map_del(r->conflicts, field);
	}
	for (i = 0; i < unsets.n; i++) {
		if (!vl_schema_field(f.schema, unsets.items[i])) {
			rc = vl_error_set(VL_ENOTFOUND, "ledger '%s' has no field '%s'", f.schema->name, unsets.items[i]);
			goto fail;
		}
		(void)vl_value_map_del(r->data, unsets.items[i]);
		if (r->conflicts)
			(void)vl_value_map_del(r->conflicts, unsets.items[i]);
	}
	if (r->conflicts && r->conflicts->n == 0) {
		vl_value_free(r->conflicts);
		r->conflicts = NULL;
	}
	if (vl_value_equal(r->data, f.rec->data) && !r->conflicts == !f.rec->conflicts &&
			(!r->conflicts || vl_value_equal(r->conflicts, f.rec->conflicts))) {
		printf("%s unchanged\n", f.rec->id);
		exit_code = VL_EXIT_OK;
		goto out;
	}
	if ((rc = validate_or_report(f.schema, r->data, 0, "edit")) < 0)
		goto fail;
	if ((rc = vl_buf_printf(&summary, "edit %s %s", r->schema, r->id)) < 0 ||
			(rc = vl_ledger_commit(&commit, n, f.scope, &r, 1, summary.ptr, NULL)) < 0)
		goto fail;
	printf("%s\n", r->id);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_found_free(&f);
	vl_record_free(r);
	vl_buf_free(&summary);
	vl_node_close(n);
	vl_strlist_free(&sets);
	vl_strlist_free(&unsets);
	free(pos);
	return exit_code;
}

int vl_cmd_rm(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *reason = NULL, *passfile = NULL;
	const vl_opt opts[] = {
		{ "--reason", 1, &reason, NULL, NULL }, { "--passphrase-file", 1, &passfile, NULL, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos, i;
	vl_node *n = NULL;
	vl_found f;
	vl_record *r = NULL;
	vl_value *kept = NULL;
	vl_buf summary = VL_BUF_INIT, trailer = VL_BUF_INIT;
	git_oid commit;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&f, 0, sizeof(f));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1 || !reason || !*reason) {
		free(pos);
		return vl_cli_usage(cmd, "needs a record id and --reason TEXT");
	}
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&f, n, pos[0])) < 0 ||
			(rc = vl_ledger_may_write(n, f.scope)) < 0)
		goto fail;
	if (f.rec->deleted) {
		rc = vl_error_set(VL_EEXISTS, "record %s is already deleted", f.rec->id);
		goto fail;
	}
	if ((rc = vl_ledger_next_version(&r, &f)) < 0 ||
			(rc = vl_schema_tombstone_data(&kept, f.schema, f.rec->data)) < 0)
		goto fail;
	vl_value_free(r->data);
	r->data = kept;
	kept = NULL;
	r->deleted = 1;
	/* Deleting settles what was open; the candidates stay in history. */
	vl_value_free(r->conflicts);
	r->conflicts = NULL;
	/* The reason goes into the commit message on one line. */
	if ((rc = vl_buf_puts(&trailer, "Vledger-Reason: ")) < 0)
		goto fail;
	for (i = 0; reason[i] && i < 400; i++)
		if ((rc = vl_buf_putc(&trailer, reason[i] == '\n' || reason[i] == '\r' ? ' ' : reason[i])) < 0)
			goto fail;
	if ((rc = vl_buf_putc(&trailer, '\n')) < 0 ||
			(rc = vl_buf_printf(&summary, "delete %s %s", r->schema, r->id)) < 0 ||
			(rc = vl_ledger_commit(&commit, n, f.scope, &r, 1, summary.ptr, trailer.ptr)) < 0)
		goto fail;
	printf("%s deleted\n", r->id);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_found_free(&f);
	vl_record_free(r);
	vl_value_free(kept);
	vl_buf_free(&summary);
	vl_buf_free(&trailer);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

/* Text of a value for people: enum values (alone or in a set) as their
 * Chinese labels, other scalars as they are, anything else as JSON. */
static int cell_text(vl_buf *out, const vl_field *f, const vl_value *v)
{
	size_t i;
	int rc;

	if (!v)
		return 0;
	if (f && f->nopts && v->kind == VL_V_STR && vl_field_enum_label(f, v->s))
		return vl_buf_puts(out, vl_field_enum_label(f, v->s));
	if (f && f->nopts && v->kind == VL_V_LIST) {
		for (i = 0; i < v->n; i++) {
			const char *l = v->items[i]->kind == VL_V_STR ? vl_field_enum_label(f, v->items[i]->s) : NULL;
			if ((rc = vl_buf_puts(out, i ? "、" : "")) < 0 ||
					(rc = l ? vl_buf_puts(out, l) : vl_json_emit(out, v->items[i], 0)) < 0)
				return rc;
		}
		return 0;
	}
	if (v->kind != VL_V_LIST && v->kind != VL_V_MAP)
		return vl_buf_puts(out, v->s);
	return vl_json_emit(out, v, 0);
}

/* A copy of a record's conflicts with every candidate value masked as the
 * data is: pii fields masked, `_deleted` candidates (whole data maps)
 * masked field by field. Caller frees. */
static int mask_conflicts(vl_value **out, const vl_schema *s, const vl_value *conflicts)
{
	vl_value *c = vl_value_clone(conflicts);
	size_t i, j;
	int rc = 0;

	*out = NULL;
	if (!c)
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < c->n && rc == 0; i++) {
		vl_value *cands = c->items[i];
		const vl_field *f = vl_schema_field(s, c->keys[i]);
		int whole = !strcmp(c->keys[i], "_deleted");
		for (j = 0; cands->kind == VL_V_LIST && j < cands->n && rc == 0; j++) {
			vl_value *v = vl_value_map_get(cands->items[j], "value"), *probe = NULL, *masked = NULL;
			if (!v || v->kind == VL_V_NULL || (!whole && (!f || !f->pii)))
				continue;
			if (whole) {
				rc = vl_schema_mask(&masked, s, v);
			} else if (!(probe = vl_value_new(VL_V_MAP)) ||
					(rc = vl_value_map_set(probe, c->keys[i], vl_value_clone(v))) < 0 ||
					(rc = vl_schema_mask(&masked, s, probe)) < 0) {
				rc = rc ? rc : vl_error_set(VL_ENOMEM, "out of memory");
			}
			if (rc == 0) {
				vl_value *m = whole ? masked : vl_value_clone(vl_value_map_get(masked, c->keys[i]));
				if (!whole)
					vl_value_free(masked);
				rc = vl_value_map_set(cands->items[j], "value", m);
			} else {
				vl_value_free(masked);
			}
			vl_value_free(probe);
		}
	}
	if (rc < 0) {
		vl_value_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* The record as JSON: metadata plus data (shown: masked unless --reveal),
 * conflicts masked the same way unless reveal. */
static int record_json(vl_buf *out, const vl_record *r, const vl_schema *s, const vl_value *shown,
		const vl_node *n, int reveal)
{
	const vl_roster_entry *who = vl_node_roster_find(n, r->author);
	vl_value *conf = NULL;
	size_t i;
	int rc;

	if ((rc = vl_buf_puts(out, "{\"schema\":")) < 0 || (rc = vl_json_str(out, r->schema, strlen(r->schema))) < 0 ||
			(rc = vl_buf_printf(out, ",\"id\":\"%s\",\"scope\":\"%s\",\"clock\":\"%s\",\"author\":", r->id,
					r->scope, r->clock)) < 0 ||
			(rc = vl_json_str(out, r->author, strlen(r->author))) < 0 ||
			(rc = vl_buf_puts(out, ",\"author_name\":")) < 0 ||
			(rc = who ? vl_json_str(out, who->name, strlen(who->name)) : vl_buf_puts(out, "null")) < 0 ||
			(rc = vl_buf_puts(out, ",\"prev\":[")) < 0)
		return rc;
	for (i = 0; i < r->nprev; i++)
		if ((rc = vl_buf_printf(out, "%s\"%s\"", i ? "," : "", r->prev[i])) < 0)
			return rc;
	if ((rc = vl_buf_printf(out, "],\"deleted\":%s,\"data\":", r->deleted ? "true" : "false")) < 0 ||
			(rc = vl_json_emit(out, shown, 0)) < 0)
		return rc;
	if (r->conflicts) {
		if (!reveal && (rc = mask_conflicts(&conf, s, r->conflicts)) < 0)
			return rc;
		rc = vl_buf_puts(out, ",\"conflicts\":");
		if (rc == 0)
			rc = vl_json_emit(out, conf ? conf : r->conflicts, 0);
		vl_value_free(conf);
		if (rc < 0)
			return rc;
	}
	return vl_buf_putc(out, '}');
}

int vl_cmd_show(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0, reveal = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = {
		{ "--json", 0, NULL, &json, NULL }, { "--reveal", 0, NULL, &reveal, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos, i;
	vl_node *n = NULL;
	vl_found f;
	vl_value *shown = NULL;
	vl_buf out = VL_BUF_INIT;

	memset(&f, 0, sizeof(f));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs one record id");
	}
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&f, n, pos[0])) < 0)
		goto fail;
	if (reveal)
		shown = vl_value_clone(f.rec->data);
	else if ((rc = vl_schema_mask(&shown, f.schema, f.rec->data)) < 0)
		goto fail;
	if (!shown) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	if (json) {
		if ((rc = record_json(&out, f.rec, f.schema, shown, n, reveal)) < 0)
			goto fail;
		printf("%s\n", out.ptr);
	} else {
		const vl_roster_entry *who = vl_node_roster_find(n, f.rec->author);
		size_t w = 0;
		printf("%s %s  %s%s\n", f.schema->label_zh ? f.schema->label_zh : f.schema->name, f.rec->id,
				f.rec->schema, f.rec->deleted ? "  [已删除 deleted]" : "");
		printf("  scope    %s\n  clock    %s\n  author   %s%s%s%s\n", f.rec->scope, f.rec->clock,
				who ? who->name : "", who ? " (" : "", f.rec->author, who ? ")" : "");
		for (i = 0; i < f.rec->nprev; i++)
			printf("  prev     %s\n", f.rec->prev[i]);
		printf("  blob     %s\n", git_oid_tostr_s(&f.blob));
		for (i = 0; i < f.schema->nfields; i++) {
			size_t lw = vl_text_width(f.schema->fields[i].label_zh ? f.schema->fields[i].label_zh : "") +
					strlen(f.schema->fields[i].name) + 1;
			if (lw > w)
				w = lw;
		}
		for (i = 0; i < shown->n; i++) {
			const vl_field *fd = vl_schema_field(f.schema, shown->keys[i]);
			vl_buf label = VL_BUF_INIT, cell = VL_BUF_INIT;
			if (vl_buf_printf(&label, "%s %s", fd && fd->label_zh ? fd->label_zh : "", shown->keys[i]) < 0 ||
					cell_text(&cell, fd, shown->items[i]) < 0) {
				vl_buf_free(&label);
				vl_buf_free(&cell);
				rc = VL_ENOMEM;
				goto fail;
			}
			printf("  ");
			vl_print_padded(label.ptr, w + 1);
			if (fd && fd->type == VL_T_ENUM && shown->items[i]->kind == VL_V_STR)
				printf("  %s (%s)\n", cell.ptr ? cell.ptr : "", shown->items[i]->s);
			else
				printf("  %s\n", cell.ptr ? cell.ptr : "");
			vl_buf_free(&label);
			vl_buf_free(&cell);
		}
		if (!reveal)
			printf("  (personal fields masked; --reveal shows them)\n");
	}
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_value_free(shown);
	vl_found_free(&f);
	vl_buf_free(&out);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

typedef struct {
	vl_node *n;
	const vl_schema *s;
	const vl_strlist *where;
	int json, reveal, deleted;
	size_t count;
	vl_buf out;
	size_t ncols;
	const vl_field *cols[4];
} list_ctx;

/* Does data match every --where FIELD=VALUE (equal, or contained in a set /
 * list; enum labels accepted)? */
static int where_match(const list_ctx *c, const vl_value *data, int *match)
{
	size_t i, j;
	int rc;

	*match = 1;
	for (i = 0; i < c->where->n && *match; i++) {
		const char *eq = strchr(c->where->items[i], '=');
		char field[128];
		const vl_value *have, *want;
		vl_value *probe = NULL;
		if (!eq || (size_t)(eq - c->where->items[i]) >= sizeof(field))
			return vl_error_set(VL_EINVALID, "--where takes FIELD=VALUE");
		memcpy(field, c->where->items[i], (size_t)(eq - c->where->items[i]));
		field[eq - c->where->items[i]] = '\0';
		/* Parse the wanted value by the field's type. */
		if (!(probe = vl_value_new(VL_V_MAP)))
			return vl_error_set(VL_ENOMEM, "out of memory");
		if ((rc = vl_schema_set_text(c->s, probe, field, eq + 1)) < 0) {
			vl_value_free(probe);
			return rc;
		}
		want = vl_value_map_get(probe, field);
		have = vl_value_map_get(data, field);
		if (!have) {
			*match = 0;
		} else if (have->kind == VL_V_LIST && want->kind == VL_V_LIST) {
			/* Every wanted item present. */
			size_t k;
			for (k = 0; k < want->n && *match; k++) {
				int found = 0;
				for (j = 0; j < have->n && !found; j++)
					found = vl_value_equal(have->items[j], want->items[k]);
				*match = found;
			}
		} else {
			*match = vl_value_equal(have, want);
		}
		vl_value_free(probe);
	}
	return 0;
}

static int list_one(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	list_ctx *c = ctx;
	vl_record *r = NULL;
	vl_value *shown = NULL;
	size_t i;
	int rc, match;

	(void)blob;
	if ((rc = vl_record_parse(&r, raw, len, path)) < 0)
		return rc;
	if (r->deleted && !c->deleted)
		goto out;
	if ((rc = where_match(c, r->data, &match)) < 0 || !match)
		goto out;
	if (c->reveal)
		shown = vl_value_clone(r->data);
	else if ((rc = vl_schema_mask(&shown, c->s, r->data)) < 0)
		goto out;
	if (!shown) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if (c->json) {
		if ((rc = vl_buf_puts(&c->out, c->count ? ",\n" : "")) < 0 ||
				(rc = record_json(&c->out, r, c->s, shown, c->n, c->reveal)) < 0)
			goto out;
	} else {
		printf("%s", r->id);
		for (i = 0; i < c->ncols; i++) {
			vl_buf cell = VL_BUF_INIT;
			const vl_value *v = vl_value_map_get(shown, c->cols[i]->name);
			if ((rc = cell_text(&cell, c->cols[i], v)) < 0)
				goto out;
			printf("  ");
			vl_print_padded(cell.len ? cell.ptr : "-", 18);
			vl_buf_free(&cell);
		}
		printf("%s\n", r->deleted ? "  [deleted]" : "");
	}
	c->count++;
	rc = 0;
out:
	vl_value_free(shown);
	vl_record_free(r);
	return rc;
}

int vl_cmd_list(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *scope = NULL;
	vl_strlist where = { 0 };
	list_ctx c;
	const vl_opt opts[] = {
		{ "--scope", 1, &scope, NULL, NULL }, { "--where", 1, NULL, NULL, &where },
		{ "--json", 0, NULL, &c.json, NULL }, { "--reveal", 0, NULL, &c.reveal, NULL },
		{ "--deleted", 0, NULL, &c.deleted, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos, i;
	char ref[64];
	git_oid head;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&c, 0, sizeof(c));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		vl_strlist_free(&where);
		return vl_cli_usage(cmd, "needs a ledger name");
	}
	c.where = &where;
	if (vl_cli_node(&c.n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = node_ledger(&c.s, c.n, pos[0])) < 0)
		goto fail;
	vl_scope_ref(ref, scope ? scope : c.n->scope);
	rc = vl_repo_head(&head, c.n->repo, ref);
	if (rc == VL_ENOTFOUND) {
		rc = 0;
		if (c.json)
			printf("[]\n");
		else
			printf("no records in scope %s\n", scope ? scope : c.n->scope);
		exit_code = VL_EXIT_OK;
		goto out;
	}
	if (rc < 0)
		goto fail;
	for (i = 0; i < c.s->nfields && c.ncols < 4; i++)
		if (c.s->fields[i].type != VL_T_TEXT && c.s->fields[i].type != VL_T_LIST &&
				c.s->fields[i].type != VL_T_MAP)
			c.cols[c.ncols++] = &c.s->fields[i];
	if (!c.json) {
		vl_print_padded("ID", 26);
		for (i = 0; i < c.ncols; i++) {
			printf("  ");
			vl_print_padded(c.cols[i]->label_zh ? c.cols[i]->label_zh : c.cols[i]->name, 18);
		}
		printf("\n");
	} else if ((rc = vl_buf_puts(&c.out, "[")) < 0) {
		goto fail;
	}
	if ((rc = vl_ledger_each(c.n, &head, c.s->name, list_one, &c)) < 0)
		goto fail;
	if (c.json)
		printf("%s]\n", c.out.ptr);
	else
		printf("%zu record%s\n", c.count, c.count == 1 ? "" : "s");
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_buf_free(&c.out);
	vl_node_close(c.n);
	vl_strlist_free(&where);
	free(pos);
	return exit_code;
}
