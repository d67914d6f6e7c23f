/* cmd_schema.c - schema list, show, check: parse, call the operation
 * (agent/ops/schema.h), print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/ops/schema.h"
#include "store/yaml.h"

/* The node of cli->home when there is one (quietly NULL otherwise: the
 * schema commands then show the shipped schemas). */
static vl_node *maybe_node(const vl_cli *cli)
{
	char *home = vl_node_home_path(cli->home);
	vl_node *n = NULL;

	if (home && vl_node_open(&n, home, 0, NULL) < 0)
		n = NULL;
	free(home);
	return n;
}

int vl_cmd_schema_list(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0, rc, exit_code = VL_EXIT_OK;
	const vl_opt opts[] = { { "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL } };
	vl_schema_opts so = VL_SCHEMA_OPTS_INIT;
	vl_schema_result res;
	vl_node *node = NULL;
	size_t i;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	node = maybe_node(cli);
	so.schema_dir = vl_cli_schema_dir();
	if ((rc = vl_schema_list(node, &so, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
	} else if (json) {
		vl_buf out = VL_BUF_INIT;
		int ok = vl_buf_putc(&out, '[') == 0;
		for (i = 0; ok && i < res.n; i++)
			ok = vl_buf_printf(&out, "%s{\"name\":\"%s\",\"version\":%d,\"fields\":%zu,\"label_zh\":",
					i ? "," : "", res.list[i]->name, res.list[i]->version, res.list[i]->nfields) == 0 &&
					vl_json_str(&out, res.list[i]->label_zh ? res.list[i]->label_zh : "",
							res.list[i]->label_zh ? strlen(res.list[i]->label_zh) : 0) == 0 &&
					vl_buf_puts(&out, ",\"label_en\":") == 0 &&
					vl_json_str(&out, res.list[i]->label_en ? res.list[i]->label_en : "",
							res.list[i]->label_en ? strlen(res.list[i]->label_en) : 0) == 0 &&
					vl_buf_putc(&out, '}') == 0;
		if (ok)
			printf("%s]\n", out.ptr);
		vl_buf_free(&out);
		if (!ok)
			exit_code = vl_cli_fail(VL_ENOMEM);
	} else {
		/* Headers translated, padded by display width (CJK counts 2). */
		vl_print_padded(_("LEDGER"), 17);
		/* TRANSLATORS: a column header: how many fields a ledger has. */
		vl_print_padded(_("FIELDS"), 9);
		vl_print_padded("名称", 17);
		/* TRANSLATORS: a column header: the ledger's English label. */
		printf("%s\n", C_("schema list", "NAME"));
		for (i = 0; i < res.n; i++) {
			printf("%-16s %-7zu  ", res.list[i]->name, res.list[i]->nfields);
			vl_print_padded(res.list[i]->label_zh ? res.list[i]->label_zh : "", 16);
			printf(" %s\n", res.list[i]->label_en ? res.list[i]->label_en : "");
		}
	}
	vl_schema_result_free(&res);
	vl_node_close(node);
	return exit_code;
}

static void print_fields(const vl_field *f, size_t n, int indent)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		printf("%*s", indent, "");
		vl_print_padded(f[i].name, 20 - (size_t)indent);
		printf(" %-10s %-4s %-4s %-22s ", vl_ftype_name(f[i].type), f[i].required ? "req" : "",
				f[i].pii ? "pii" : "", f[i].merge ? f[i].merge : "lww");
		printf("%s / %s", f[i].label_zh ? f[i].label_zh : "", f[i].label_en ? f[i].label_en : "");
		if (f[i].def && vl_value_text(f[i].def))
			printf(_("  [default %s]"), vl_value_text(f[i].def));
		printf("\n");
		for (j = 0; j < f[i].nopts; j++)
			printf("%*s  - %s  %s / %s\n", indent + 20, "", f[i].opts[j].value,
					f[i].opts[j].zh ? f[i].opts[j].zh : "", f[i].opts[j].en ? f[i].opts[j].en : "");
		if (f[i].nitem_fields)
			print_fields(f[i].item_fields, f[i].nitem_fields, indent + 2);
	}
}

int vl_cmd_schema_show(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0, rc;
	const vl_opt opts[] = { { "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL } };
	vl_schema_opts so = VL_SCHEMA_OPTS_INIT;
	vl_schema_result res;
	const char **pos = NULL;
	size_t npos, i;
	const vl_schema *s = NULL;
	vl_node *node = NULL;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs a ledger name");
	}
	node = maybe_node(cli);
	so.schema_dir = vl_cli_schema_dir();
	so.name = pos[0];
	if ((rc = vl_schema_show(node, &so, &res)) < 0) {
		free(pos);
		vl_schema_result_free(&res);
		vl_node_close(node);
		return vl_cli_fail(rc);
	}
	s = res.schema;
	if (json) {
		vl_buf out = VL_BUF_INIT;
		int ok = vl_buf_printf(&out, "{\"name\":\"%s\",\"version\":%d,\"identity\":[", s->name, s->version) == 0;
		for (i = 0; ok && i < s->nidentity; i++)
			ok = vl_buf_printf(&out, "%s\"%s\"", i ? "," : "", s->identity[i]) == 0;
		ok = ok && vl_buf_puts(&out, "],\"fields\":[") == 0;
		for (i = 0; ok && i < s->nfields; i++)
			ok = vl_buf_printf(&out, "%s{\"name\":\"%s\",\"type\":\"%s\",\"required\":%s,\"pii\":%s,"
					"\"merge\":\"%s\",\"label_zh\":", i ? "," : "", s->fields[i].name,
					vl_ftype_name(s->fields[i].type), s->fields[i].required ? "true" : "false",
					s->fields[i].pii ? "true" : "false", s->fields[i].merge ? s->fields[i].merge : "lww") == 0 &&
					vl_json_str(&out, s->fields[i].label_zh ? s->fields[i].label_zh : "",
							s->fields[i].label_zh ? strlen(s->fields[i].label_zh) : 0) == 0 &&
					vl_buf_putc(&out, '}') == 0;
		if (ok)
			printf("%s]}\n", out.ptr);
		vl_buf_free(&out);
	} else {
		printf(_("%s  %s / %s  (version %d)\n"), s->name, s->label_zh ? s->label_zh : "",
				s->label_en ? s->label_en : "", s->version);
		if (s->nidentity) {
			printf(_("identity:"));
			for (i = 0; i < s->nidentity; i++)
				printf(" %s", s->identity[i]);
			printf("\n");
		}
		vl_print_padded(_("FIELD"), 21);
		vl_print_padded(_("TYPE"), 21);
		/* TRANSLATORS: a column header: the field's merge rule. */
		vl_print_padded(_("MERGE"), 23);
		printf("%s\n", _("LABEL"));
		print_fields(s->fields, s->nfields, 0);
		/* The filter with its value ("count where residence_kind=registered"):
		 * without it the line does not say what is counted. */
		for (i = 0; i < s->naggregates; i++)
			printf(_("aggregate %s: %s%s%s%s%s%s%s\n"), s->aggregates[i].name, s->aggregates[i].op,
					s->aggregates[i].field ? " " : "", s->aggregates[i].field ? s->aggregates[i].field : "",
					s->aggregates[i].where_field ? " where " : "",
					s->aggregates[i].where_field ? s->aggregates[i].where_field : "",
					s->aggregates[i].where_value ? "=" : "",
					s->aggregates[i].where_value ? s->aggregates[i].where_value : "");
	}
	free(pos);
	vl_schema_result_free(&res);
	vl_node_close(node);
	return VL_EXIT_OK;
}

/* schema check --json (docs/formats.md §9.5): one object, each file with
 * ok, its ledger and field count, or its problems one a line. */
static int check_json(vl_buf *out, const vl_schema_check_result *res)
{
	size_t i;
	int rc;

	if ((rc = vl_buf_printf(out, "{\"bad\":%zu,\"files\":[", res->bad)) < 0)
		return rc;
	for (i = 0; i < res->n; i++) {
		const vl_schema_check_item *it = &res->items[i];
		if ((rc = vl_buf_puts(out, i ? ",{\"file\":" : "{\"file\":")) < 0 ||
				(rc = vl_json_str(out, it->file, strlen(it->file))) < 0)
			return rc;
		if (it->schema) {
			if ((rc = vl_buf_puts(out, ",\"ok\":true,\"ledger\":")) < 0 ||
					(rc = vl_json_str(out, it->schema->name, strlen(it->schema->name))) < 0 ||
					(rc = vl_buf_printf(out, ",\"fields\":%zu,\"errors\":[]}", it->schema->nfields)) < 0)
				return rc;
		} else {
			const char *p = it->diag ? it->diag : "", *nl;
			int first = 1;
			if ((rc = vl_buf_puts(out, ",\"ok\":false,\"ledger\":null,\"fields\":null,\"errors\":[")) < 0)
				return rc;
			for (; *p; p = *nl ? nl + 1 : nl) {
				nl = strchr(p, '\n');
				if (!nl)
					nl = p + strlen(p);
				if (nl == p)
					continue;
				if ((!first && (rc = vl_buf_putc(out, ',')) < 0) ||
						(rc = vl_json_str(out, p, (size_t)(nl - p))) < 0)
					return rc;
				first = 0;
			}
			if ((rc = vl_buf_puts(out, "]}")) < 0)
				return rc;
		}
	}
	return vl_buf_puts(out, "]}\n");
}

int vl_cmd_schema_check(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0;
	const vl_opt opts[] = { { "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL } };
	vl_schema_check_opts co = VL_SCHEMA_CHECK_OPTS_INIT;
	vl_schema_check_result res;
	const char **pos = NULL;
	size_t npos, i;
	int rc;

	(void)cli;
	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos == 0) {
		free(pos);
		return vl_cli_usage(cmd, "needs at least one schema file");
	}
	co.files = pos;
	co.nfiles = npos;
	if ((rc = vl_schema_check(NULL, &co, &res)) < 0) {
		free(pos);
		vl_schema_check_result_free(&res);
		return vl_cli_fail(rc);
	}
	if (json) {
		vl_buf out = VL_BUF_INIT;
		if ((rc = check_json(&out, &res)) < 0) {
			vl_buf_free(&out);
			free(pos);
			vl_schema_check_result_free(&res);
			return vl_cli_fail(rc);
		}
		fwrite(out.ptr, 1, out.len, stdout);
		vl_buf_free(&out);
	}
	for (i = 0; i < res.n; i++)  /* display-only keys ignored (docs/schemas.md), also under --json */
		if (res.items[i].schema && res.items[i].schema->warnings)
			fputs(res.items[i].schema->warnings, stderr);
	for (i = 0; !json && i < res.n; i++) {
		if (res.items[i].schema)
			printf(_("%s: ok (ledger '%s', %zu fields)\n"), res.items[i].file, res.items[i].schema->name,
					res.items[i].schema->nfields);
		else
			fputs(res.items[i].diag, stderr);
	}
	rc = res.bad ? VL_EXIT_ERROR : VL_EXIT_OK;
	vl_schema_check_result_free(&res);
	free(pos);
	return rc;
}

int vl_cmd_schema_install(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int shipped = 0, json = 0, rc, exit_code = VL_EXIT_OK;
	const char *passfile = NULL;
	const vl_opt opts[] = {
		{ "--shipped", 0, NULL, &shipped, NULL }, { "--json", 0, NULL, &json, NULL },
		{ "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	vl_schema_install_opts io = VL_SCHEMA_INSTALL_OPTS_INIT;
	vl_schema_install_result res;
	const char **pos = NULL;
	size_t npos, i;
	vl_node *n = NULL;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (!npos == !shipped) {
		free(pos);
		return vl_cli_usage(cmd, "needs schema files or --shipped (not both)");
	}
	io.files = pos;
	io.nfiles = npos;
	io.dir = shipped ? vl_cli_schema_dir() : NULL;
	io.progress = vl_cli_progress();
	if (vl_cli_node(&n, cli, 1, passfile) < 0) {
		free(pos);
		return VL_EXIT_ERROR;
	}
	rc = vl_schema_install(n, &io, &res);
	vl_cli_progress_done();
	if (rc < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (res.warnings)
		fputs(res.warnings, stderr);
	if (json) {
		vl_buf o = VL_BUF_INIT;
		int ok = vl_buf_puts(&o, "{\"schemas\":[") == 0;
		for (i = 0; ok && i < res.n; i++)
			ok = vl_buf_printf(&o, "%s{\"name\":\"%s\",\"old_version\":%d,\"version\":%d,\"changed\":%s}",
					i ? "," : "", res.items[i].name, res.items[i].old_version, res.items[i].new_version,
					res.items[i].changed ? "true" : "false") == 0;
		ok = ok && vl_buf_printf(&o, "],\"installed\":%zu,\"records_checked\":%zu,\"commit\":", res.installed,
				res.records_checked) == 0;
		ok = ok && (res.committed ? vl_buf_printf(&o, "\"%s\"}", git_oid_tostr_s(&res.commit)) :
				vl_buf_puts(&o, "null}")) == 0;
		if (ok)
			printf("%s\n", o.ptr);
		else
			exit_code = vl_cli_fail(VL_ENOMEM);
		vl_buf_free(&o);
		goto out;
	}
	for (i = 0; i < res.n; i++) {
		if (!res.items[i].changed)
			printf(_("unchanged %s version %d\n"), res.items[i].name, res.items[i].new_version);
		else if (!res.items[i].old_version)
			printf(_("installed %s version %d (new ledger)\n"), res.items[i].name, res.items[i].new_version);
		else
			printf(_("installed %s version %d (was version %d)\n"), res.items[i].name, res.items[i].new_version,
					res.items[i].old_version);
	}
	if (res.committed)
		printf(_("config commit %s; %zu record versions checked against the new schemas\n"),
				git_oid_tostr_s(&res.commit), res.records_checked);
	else
		printf(_("nothing to install: the network has these schemas already\n"));
out:
	vl_schema_install_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}
