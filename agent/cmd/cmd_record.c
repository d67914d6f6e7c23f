/* cmd_record.c - add, import, edit, rm, show, list: parse, call the
 * operation (agent/ops/record.h), print. Personal fields are masked here,
 * at display, unless --reveal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/node/reveal.h"
#include "agent/node/tz.h"
#include "agent/ops/record.h"
#include "schemas/types.h"
#include "store/yaml.h"

/*
 * How a saved record is named to the person who saved it: its ledger's
 * Chinese label, then the value of its first required, non-personal string
 * field (a request number, a report title), then its id. Personal values
 * never: a resident is named by id.
 */
static int saved_name(vl_buf *out, const vl_schema *s, const vl_value *data, const char *id)
{
	size_t i;
	int rc;

	if ((rc = vl_buf_puts(out, s->label_zh ? s->label_zh : s->name)) < 0)
		return rc;
	for (i = 0; data && i < s->nfields; i++) {
		const vl_field *f = &s->fields[i];
		const vl_value *v = vl_value_map_get(data, f->name);

		if (f->type == VL_T_STRING && f->required && !f->pii && v && v->kind == VL_V_STR)
			return vl_buf_printf(out, " %s (%s)", v->s, id);
	}
	return vl_buf_printf(out, " %s", id);
}

/* "联系电话、人口类型": the Chinese labels of fields (names if none). */
static int field_labels(vl_buf *out, const vl_schema *s, char *const *names, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		const vl_field *f = vl_schema_field(s, names[i]);

		if ((rc = vl_buf_printf(out, "%s%s", i ? "、" : "", f && f->label_zh ? f->label_zh : names[i])) < 0)
			return rc;
	}
	return 0;
}

/* --json of add (edit = 0: duplicate_of) and edit (edit = 1: the changed
 * fields): stable names, docs/formats.md. */
static int saved_json(vl_buf *out, const vl_schema *s, const char *id, const char *scope, const git_oid *commit,
		int changed, int edit, char *const *fields, size_t nfields, const char *duplicate_of)
{
	size_t i;
	int rc;

	if ((rc = vl_buf_printf(out, "{\"id\":\"%s\",\"ledger\":", id)) < 0 ||
			(rc = vl_json_str(out, s->name, strlen(s->name))) < 0 ||
			(rc = vl_buf_puts(out, ",\"ledger_label\":")) < 0 ||
			(rc = s->label_zh ? vl_json_str(out, s->label_zh, strlen(s->label_zh)) : vl_buf_puts(out, "null")) < 0)
		return rc;
	if (scope && (rc = vl_buf_printf(out, ",\"scope\":\"%s\"", scope)) < 0)
		return rc;
	if ((rc = vl_buf_printf(out, ",\"saved\":%s,\"commit\":", changed ? "true" : "false")) < 0 ||
			(rc = changed ? vl_buf_printf(out, "\"%s\"", git_oid_tostr_s(commit)) : vl_buf_puts(out, "null")) < 0)
		return rc;
	if (edit) {
		if ((rc = vl_buf_puts(out, ",\"changed\":[")) < 0)
			return rc;
		for (i = 0; i < nfields; i++) {
			const vl_field *f = vl_schema_field(s, fields[i]);

			if ((rc = vl_buf_printf(out, "%s{\"field\":", i ? "," : "")) < 0 ||
					(rc = vl_json_str(out, fields[i], strlen(fields[i]))) < 0 ||
					(rc = vl_buf_puts(out, ",\"label\":")) < 0 ||
					(rc = f && f->label_zh ? vl_json_str(out, f->label_zh, strlen(f->label_zh)) :
					 vl_buf_puts(out, "null")) < 0 ||
					(rc = vl_buf_putc(out, '}')) < 0)
				return rc;
		}
		if ((rc = vl_buf_putc(out, ']')) < 0)
			return rc;
	}
	if (!edit && (rc = duplicate_of && *duplicate_of ?
			vl_buf_printf(out, ",\"duplicate_of\":\"%s\"", duplicate_of) :
			vl_buf_puts(out, ",\"duplicate_of\":null")) < 0)
		return rc;
	return vl_buf_puts(out, "}\n");
}

int vl_cmd_add(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *passfile = NULL;
	vl_add_opts ao = VL_ADD_OPTS_INIT;
	vl_strlist sets = { 0 };
	vl_buf text = VL_BUF_INIT;
	vl_buf name = VL_BUF_INIT;
	int json = 0;
	const vl_opt opts[] = {
		{ "--scope", 1, &ao.scope, NULL, NULL }, { "--set", 1, NULL, NULL, &sets },
		{ "--json", 0, NULL, &json, NULL },
		{ "--file", 1, &ao.file, NULL, NULL }, { "--passphrase-file", 1, &passfile, NULL, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_add_result res;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1 || (!sets.n && !ao.file) || (sets.n && ao.file)) {
		free(pos);
		vl_strlist_free(&sets);
		return vl_cli_usage(cmd, "needs a ledger name and either --set FIELD=VALUE... or --file F");
	}
	ao.ledger = pos[0];
	ao.sets = sets.items;
	ao.nsets = sets.n;
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	if ((rc = vl_add(n, &ao, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	/* In words on a terminal; the id alone for a script ($(vledger add ..)),
	 * as before; --json for both. */
	if (json)
		rc = saved_json(&text, res.schema, res.id, res.scope, &res.commit, 1, 0, NULL, 0, res.duplicate_of);
	else if (isatty(STDOUT_FILENO))
		rc = saved_name(&name, res.schema, res.data, res.id) < 0 ||
			/* TRANSLATORS: %s: the ledger and the record ("常住人口 王秀英 (ULID)"). */
			vl_buf_printf(&text, _("saved %s\n"), name.ptr) < 0 ? VL_ENOMEM : 0;
	else
		rc = vl_buf_printf(&text, "%s\n", res.id);
	if (rc < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	fputs(text.ptr, stdout);
	if (res.duplicate_of[0])
		fprintf(stderr, _("vledger: warning: likely a duplicate of record %s (same identity fields); "
				"if they are one, 'vledger join-records %s %s' joins them\n"), res.duplicate_of,
				res.duplicate_of, res.id);
	exit_code = VL_EXIT_OK;
out:
	vl_add_result_free(&res);
	vl_node_close(n);
	vl_buf_free(&text);
	vl_buf_free(&name);
	vl_strlist_free(&sets);
	free(pos);
	return exit_code;
}

int vl_cmd_import(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *passfile = NULL, *batch_s = NULL;
	int json = 0;
	vl_import_opts io = VL_IMPORT_OPTS_INIT;
	const vl_opt opts[] = {
		{ "--scope", 1, &io.scope, NULL, NULL }, { "--file", 1, &io.file, NULL, NULL },
		{ "--batch", 1, &batch_s, NULL, NULL }, { "--passphrase-file", 1, &passfile, NULL, NULL },
		{ "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos, i;
	vl_node *n = NULL;
	vl_import_result res;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1 || !io.file) {
		free(pos);
		return vl_cli_usage(cmd, "needs a ledger name and --file F");
	}
	if (batch_s) {
		char *end;
		unsigned long v = strtoul(batch_s, &end, 10);
		if (*end || v == 0 || v > VL_IMPORT_BATCH_MAX) {
			free(pos);
			return vl_cli_usage(cmd, "--batch takes a number from 1 to 10000");
		}
		io.batch = v;
	}
	io.ledger = pos[0];
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	io.progress = vl_cli_progress();
	rc = vl_import(n, &io, &res);
	vl_cli_progress_done();
	if (rc < 0) {
		if (res.bad_rows.len)
			fputs(res.bad_rows.ptr, stderr);
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json) {
		/* The ledger as named on the command line may be a label: the
		 * scope and counts are what scripts need; see docs/formats.md. */
		printf("{\"scope\":\"%s\",\"records\":%zu,\"committed\":%zu,\"duplicates\":[", res.scope, res.records,
				res.committed);
		for (i = 0; i < res.ndups; i++) {
			const vl_import_dup *d = &res.dups[i];
			printf("%s{\"record\":%zu,\"line\":%d,\"duplicate_of\":", i ? "," : "", d->record, d->line);
			if (d->duplicate_of[0])
				printf("\"%s\",\"same_as_record\":null}", d->duplicate_of);
			else
				printf("null,\"same_as_record\":%zu}", d->same_as);
		}
		printf("]}\n");
	} else {
		/* Warned as add warns: one line per record, the other named. */
		for (i = 0; i < res.ndups; i++) {
			const vl_import_dup *d = &res.dups[i];
			if (d->duplicate_of[0])
				fprintf(stderr, _("vledger: warning: record %zu (line %d) is likely a duplicate of record %s "
						"(same identity fields); if they are one, 'vledger join-records' joins them\n"),
						d->record, d->line, d->duplicate_of);
			else
				fprintf(stderr, _("vledger: warning: record %zu (line %d) has the same identity fields as "
						"record %zu of the file; both were imported\n"), d->record, d->line, d->same_as);
		}
		printf(_("imported %zu %s records into scope %s\n"), res.records, io.ledger, res.scope);
	}
	exit_code = VL_EXIT_OK;
out:
	vl_import_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

int vl_cmd_edit(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *passfile = NULL;
	vl_edit_opts eo = VL_EDIT_OPTS_INIT;
	vl_strlist sets = { 0 }, unsets = { 0 }, adds = { 0 }, removes = { 0 };
	vl_buf text = VL_BUF_INIT;
	vl_buf name = VL_BUF_INIT, labels = VL_BUF_INIT;
	int json = 0;
	const vl_opt opts[] = {
		{ "--json", 0, NULL, &json, NULL },
		{ "--set", 1, NULL, NULL, &sets }, { "--unset", 1, NULL, NULL, &unsets },
		{ "--add", 1, NULL, NULL, &adds }, { "--remove", 1, NULL, NULL, &removes },
		{ "--replace", 0, NULL, &eo.replace, NULL },
		{ "--allow-backwards", 0, NULL, &eo.allow_backwards, NULL }, { "--reason", 1, &eo.reason, NULL, NULL },
		{ "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_edit_result res;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1 || (!sets.n && !unsets.n && !adds.n && !removes.n)) {
		free(pos);
		vl_strlist_free(&sets);
		vl_strlist_free(&unsets);
		vl_strlist_free(&adds);
		vl_strlist_free(&removes);
		return vl_cli_usage(cmd, "needs a record id and at least one --set, --unset, --add or --remove");
	}
	eo.adds = adds.items;
	eo.nadds = adds.n;
	eo.removes = removes.items;
	eo.nremoves = removes.n;
	eo.id = pos[0];
	eo.sets = sets.items;
	eo.nsets = sets.n;
	eo.unsets = unsets.items;
	eo.nunsets = unsets.n;
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	if ((rc = vl_edit(n, &eo, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json) {
		rc = saved_json(&text, res.schema, res.id, NULL, &res.commit, res.changed, 1, res.fields,
				res.nfields, NULL);
	} else if (isatty(STDOUT_FILENO)) {
		/* Whole sentences with the names as arguments, for the translations. */
		rc = saved_name(&name, res.schema, res.data, res.id);
		if (rc == 0 && res.changed && (rc = field_labels(&labels, res.schema, res.fields, res.nfields)) == 0)
			/* TRANSLATORS: 1: the ledger and the record, 2: the labels of the fields changed. */
			rc = vl_buf_printf(&text, _("saved %s, changed: %s\n"), name.ptr, labels.ptr ? labels.ptr : "");
		else if (rc == 0 && !res.changed)
			rc = vl_buf_printf(&text, _("nothing to save: %s is unchanged\n"), name.ptr);
	} else {
		rc = vl_buf_printf(&text, res.changed ? "%s\n" : "%s unchanged\n", res.id);
	}
	if (rc < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	fputs(text.ptr, stdout);
	exit_code = VL_EXIT_OK;
out:
	vl_edit_result_free(&res);
	vl_buf_free(&text);
	vl_buf_free(&name);
	vl_buf_free(&labels);
	vl_node_close(n);
	vl_strlist_free(&sets);
	vl_strlist_free(&unsets);
	vl_strlist_free(&adds);
	vl_strlist_free(&removes);
	free(pos);
	return exit_code;
}

int vl_cmd_rm(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *passfile = NULL;
	int json = 0;
	vl_rm_opts ro = VL_RM_OPTS_INIT;
	const vl_opt opts[] = {
		{ "--reason", 1, &ro.reason, NULL, NULL }, { "--passphrase-file", 1, &passfile, NULL, NULL },
		{ "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_rm_result res;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1 || !ro.reason || !*ro.reason) {
		free(pos);
		return vl_cli_usage(cmd, "needs a record id and --reason TEXT");
	}
	ro.id = pos[0];
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	if ((rc = vl_rm(n, &ro, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json)  /* docs/formats.md §9.5 */
		printf("{\"id\":\"%s\",\"deleted\":true,\"commit\":\"%s\"}\n", res.id, git_oid_tostr_s(&res.commit));
	else
		printf(_("%s deleted\n"), res.id);
	exit_code = VL_EXIT_OK;
out:
	vl_rm_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

/* Text of a value for people: enum values (alone or in a set) as their
 * Chinese labels, datetimes in the network's local time (tz_min, tz.h),
 * other scalars as they are, anything else as JSON. */
static int cell_text(vl_buf *out, const vl_field *f, const vl_value *v, int tz_min)
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
	if (f && f->type == VL_T_DATETIME && v->kind == VL_V_STR)
		return vl_time_show(out, v->s, tz_min);
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
		const char *who, int reveal)
{
	vl_value *conf = NULL;
	size_t i;
	int rc;

	if ((rc = vl_buf_puts(out, "{\"schema\":")) < 0 || (rc = vl_json_str(out, r->schema, strlen(r->schema))) < 0 ||
			(rc = vl_buf_printf(out, ",\"id\":\"%s\",\"scope\":\"%s\",\"clock\":\"%s\",\"author\":", r->id,
					r->scope, r->clock)) < 0 ||
			(rc = vl_json_str(out, r->author, strlen(r->author))) < 0 ||
			(rc = vl_buf_puts(out, ",\"author_name\":")) < 0 ||
			(rc = who ? vl_json_str(out, who, strlen(who)) : vl_buf_puts(out, "null")) < 0 ||
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

/* The data as shown: a copy, personal fields masked unless reveal. */
static int shown_data(vl_value **out, const vl_schema *s, const vl_value *data, int reveal)
{
	int rc;

	*out = NULL;
	if (reveal) {
		if (!(*out = vl_value_clone(data)))
			return vl_error_set(VL_ENOMEM, "out of memory");
		return 0;
	}
	if ((rc = vl_schema_mask(out, s, data)) < 0)
		return rc;
	return *out ? 0 : vl_error_set(VL_ENOMEM, "out of memory");
}

int vl_cmd_show(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0, reveal = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = {
		{ "--json", 0, NULL, &json, NULL }, { "--reveal", 0, NULL, &reveal, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	vl_show_opts so = VL_SHOW_OPTS_INIT;
	const char **pos = NULL;
	size_t npos, i;
	vl_node *n = NULL;
	vl_show_result res;
	const vl_found *f = &res.found;
	vl_value *shown = NULL;
	vl_buf out = VL_BUF_INIT;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs one record id");
	}
	so.id = pos[0];
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = vl_show(n, &so, &res)) < 0 || (rc = shown_data(&shown, f->schema, f->rec->data, reveal)) < 0)
		goto fail;
	if (reveal) {
		const char *ids[1] = { f->rec->id };
		vl_reveal_entry e = { "show", f->schema->name, f->scope, ids, 1, 1 };
		if ((rc = vl_reveal_log(n, &e)) < 0)
			goto fail;
	}
	if (json) {
		if ((rc = record_json(&out, f->rec, f->schema, shown, res.signer_name, reveal)) < 0)
			goto fail;
		printf("%s\n", out.ptr);
	} else {
		const char *who = res.signer_name;
		size_t w = 0;
		printf("%s %s  %s%s\n", f->schema->label_zh ? f->schema->label_zh : f->schema->name, f->rec->id,
				f->rec->schema, f->rec->deleted ? "  [已删除 deleted]" : "");
		printf(_("  scope    %s\n  clock    %s\n  author   %s%s%s%s\n"), f->rec->scope, f->rec->clock,
				who ? who : "", who ? " (" : "", f->rec->author, who ? ")" : "");
		for (i = 0; i < f->rec->nprev; i++)
			printf(_("  prev     %s\n"), f->rec->prev[i]);
		printf(_("  blob     %s\n"), git_oid_tostr_s(&f->blob));
		for (i = 0; i < f->schema->nfields; i++) {
			size_t lw = vl_text_width(f->schema->fields[i].label_zh ? f->schema->fields[i].label_zh : "") +
					strlen(f->schema->fields[i].name) + 1;
			if (lw > w)
				w = lw;
		}
		for (i = 0; i < shown->n; i++) {
			const vl_field *fd = vl_schema_field(f->schema, shown->keys[i]);
			vl_buf label = VL_BUF_INIT, cell = VL_BUF_INIT;
			if (vl_buf_printf(&label, "%s %s", fd && fd->label_zh ? fd->label_zh : "", shown->keys[i]) < 0 ||
					cell_text(&cell, fd, shown->items[i], n->tz_min) < 0) {
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
			printf(_("  (personal fields masked; --reveal shows them)\n"));
	}
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_value_free(shown);
	vl_show_result_free(&res);
	vl_buf_free(&out);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

/* Widest cell of a list column, in terminal columns; longer ones are cut. */
#define VL_LIST_CELL_MAX 30

int vl_cmd_list(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_list_opts lo = VL_LIST_OPTS_INIT;
	vl_strlist where = { 0 };
	int json = 0, reveal = 0;
	const vl_opt opts[] = {
		{ "--scope", 1, &lo.scope, NULL, NULL }, { "--where", 1, NULL, NULL, &where },
		{ "--json", 0, NULL, &json, NULL }, { "--reveal", 0, NULL, &reveal, NULL },
		{ "--deleted", 0, NULL, &lo.deleted, NULL }, { "--no-children", 0, NULL, &lo.no_children, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos, i, k, ncols = 0, width[VL_LIST_COLUMNS_MAX];
	const vl_field *cols[VL_LIST_COLUMNS_MAX], *f = NULL;
	char **cells = NULL;
	vl_node *n = NULL;
	vl_list_result res;
	vl_value *shown = NULL;
	vl_buf out = VL_BUF_INIT, cell = VL_BUF_INIT, text = VL_BUF_INIT;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		vl_strlist_free(&where);
		return vl_cli_usage(cmd, "needs a ledger name");
	}
	lo.ledger = pos[0];
	lo.ref_labels = !json;
	lo.where = where.items;
	lo.nwhere = where.n;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = vl_list(n, &lo, &res)) < 0)
		goto fail;
	if (reveal && res.n) {
		const char **ids = calloc(res.n, sizeof(*ids));
		vl_reveal_entry e = { "list", res.schema->name, res.scope, ids, res.n, res.n };
		for (k = 0; ids && k < res.n; k++)
			ids[k] = res.items[k].rec->id;
		rc = ids ? vl_reveal_log(n, &e) : vl_error_set(VL_ENOMEM, "out of memory");
		free(ids);
		if (rc < 0)
			goto fail;
	}
	if (!res.have_branch) {
		if (json)
			printf("[]\n");
		else
			printf(_("no records in scope %s\n"), res.scope);
		exit_code = VL_EXIT_OK;
		goto out;
	}
	/* Columns: the ledger's list_columns, else the first four fields
	 * short enough for a table. */
	for (i = 0; i < res.schema->nlist_columns && ncols < VL_LIST_COLUMNS_MAX; i++)
		if ((f = vl_schema_field(res.schema, res.schema->list_columns[i])))
			cols[ncols++] = f;
	for (i = 0; !res.schema->nlist_columns && i < res.schema->nfields && ncols < 4; i++)
		if (res.schema->fields[i].type != VL_T_TEXT && res.schema->fields[i].type != VL_T_LIST &&
				res.schema->fields[i].type != VL_T_MAP)
			cols[ncols++] = &res.schema->fields[i];
	if (json) {
		if ((rc = vl_buf_puts(&out, "[")) < 0)
			goto fail;
		for (k = 0; k < res.n; k++) {
			const vl_record *r = res.items[k].rec;
			vl_value_free(shown);
			if ((rc = shown_data(&shown, res.schema, r->data, reveal)) < 0 ||
					(rc = vl_buf_puts(&out, k ? ",\n" : "")) < 0 ||
					(rc = record_json(&out, r, res.schema, shown, res.items[k].signer ? res.items[k].signer->name : NULL, reveal)) < 0)
				goto fail;
		}
		printf("%s]\n", out.ptr);
		exit_code = VL_EXIT_OK;
		goto out;
	}
	/* The table: every cell first (a ref by its record's label), each
	 * column as wide as its widest cell in terminal columns (CJK
	 * characters count 2), at most VL_LIST_CELL_MAX; longer cells cut. */
	if (!(cells = calloc((res.n + 1) * ncols + 1, sizeof(*cells)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < ncols; i++) {
		vl_buf_clear(&cell);
		if ((rc = vl_text_fit(&cell, cols[i]->label_zh ? cols[i]->label_zh : cols[i]->name, VL_LIST_CELL_MAX)) < 0 ||
				!(cells[i] = vl_buf_detach(&cell, NULL)))
			goto cell_fail;
		width[i] = vl_text_width(cells[i]);
	}
	for (k = 0; k < res.n; k++) {
		const vl_record *r = res.items[k].rec;
		vl_value_free(shown);
		if ((rc = shown_data(&shown, res.schema, r->data, reveal)) < 0)
			goto fail;
		for (i = 0; i < ncols; i++) {
			const vl_value *lv = vl_value_map_get(res.items[k].ref_labels, cols[i]->name);
			vl_buf_clear(&text);
			vl_buf_clear(&cell);
			if ((rc = lv && lv->kind == VL_V_STR ? vl_buf_puts(&text, lv->s)
					: cell_text(&text, cols[i], vl_value_map_get(shown, cols[i]->name), n->tz_min)) < 0 ||
					(rc = vl_text_fit(&cell, text.len ? text.ptr : "-", VL_LIST_CELL_MAX)) < 0 ||
					!(cells[(k + 1) * ncols + i] = vl_buf_detach(&cell, NULL)))
				goto cell_fail;
			if (vl_text_width(cells[(k + 1) * ncols + i]) > width[i])
				width[i] = vl_text_width(cells[(k + 1) * ncols + i]);
		}
	}
	for (k = 0; k <= res.n; k++) {
		const vl_record *r = k ? res.items[k - 1].rec : NULL;
		vl_print_padded(r ? r->id : "ID", 26);
		for (i = 0; i < ncols; i++) {
			printf("  ");
			/* The last column is not padded: no trailing spaces. */
			vl_print_padded(cells[k * ncols + i], i + 1 < ncols ? width[i] : 0);
		}
		printf("%s\n", r && r->deleted ? "  [deleted]" : "");
	}
	printf(_("%zu record%s\n"), res.n, res.n == 1 ? "" : "s");
	exit_code = VL_EXIT_OK;
	goto out;
cell_fail:
	if (rc >= 0)
		rc = vl_error_set(VL_ENOMEM, "out of memory");
fail:
	exit_code = vl_cli_fail(rc);
out:
	for (i = 0; cells && i < (res.n + 1) * ncols; i++)
		free(cells[i]);
	free(cells);
	vl_buf_free(&text);
	vl_value_free(shown);
	vl_list_result_free(&res);
	vl_buf_free(&out);
	vl_buf_free(&cell);
	vl_node_close(n);
	vl_strlist_free(&where);
	free(pos);
	return exit_code;
}
