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
		printf("%-16s %-7s  %-16s %s\n", "LEDGER", "FIELDS", "名称", "NAME");
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
		printf("%-20s %-10s %-4s %-4s %-22s %s\n", "FIELD", "TYPE", "", "", "MERGE", "LABEL");
		print_fields(s->fields, s->nfields, 0);
		for (i = 0; i < s->naggregates; i++)
			printf(_("aggregate %s: %s%s%s%s%s%s\n"), s->aggregates[i].name, s->aggregates[i].op,
					s->aggregates[i].field ? " " : "", s->aggregates[i].field ? s->aggregates[i].field : "",
					s->aggregates[i].where_field ? " where " : "",
					s->aggregates[i].where_field ? s->aggregates[i].where_field : "",
					s->aggregates[i].where_value ? "=" : "");
	}
	free(pos);
	vl_schema_result_free(&res);
	vl_node_close(node);
	return VL_EXIT_OK;
}

int vl_cmd_schema_check(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const vl_opt opts[] = { { NULL, 0, NULL, NULL, NULL } };
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
	for (i = 0; i < res.n; i++) {
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
