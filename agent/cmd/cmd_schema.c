/* cmd_schema.c - schema list, show, check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/yaml.h"

/* Schemas from the node's config when there is one, else the shipped ones.
 * *owned tells whether the caller frees the array. */
static int pick_schemas(vl_node **node, vl_schema ***list, size_t *n, const vl_cli *cli)
{
	char *home = vl_node_home_path(cli->home);
	vl_buf diag = VL_BUF_INIT;
	int rc;

	*node = NULL;
	if (home && vl_node_open(node, home, 0, NULL) == 0 && vl_node_load_config(*node) == 0) {
		free(home);
		*list = (*node)->schemas;
		*n = (*node)->nschemas;
		return 0;
	}
	vl_node_close(*node);
	*node = NULL;
	free(home);
	rc = vl_schemas_load_dir(list, n, vl_cli_schema_dir(), &diag);
	if (rc < 0 && diag.len)
		vl_error_set(rc, "%s", diag.ptr);
	vl_buf_free(&diag);
	return rc;
}

static void release_schemas(vl_node *node, vl_schema **list, size_t n)
{
	if (node)
		vl_node_close(node);
	else
		vl_schemas_free(list, n);
}

int vl_cmd_schema_list(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0, rc;
	const vl_opt opts[] = { { "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL } };
	size_t n = 0, i;
	vl_schema **list = NULL;
	vl_node *node = NULL;

	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if ((rc = pick_schemas(&node, &list, &n, cli)) < 0)
		return vl_cli_fail(rc);
	if (json) {
		vl_buf out = VL_BUF_INIT;
		int ok = vl_buf_putc(&out, '[') == 0;
		for (i = 0; ok && i < n; i++)
			ok = vl_buf_printf(&out, "%s{\"name\":\"%s\",\"version\":%d,\"fields\":%zu,\"label_zh\":",
					i ? "," : "", list[i]->name, list[i]->version, list[i]->nfields) == 0 &&
					vl_json_str(&out, list[i]->label_zh ? list[i]->label_zh : "",
							list[i]->label_zh ? strlen(list[i]->label_zh) : 0) == 0 &&
					vl_buf_puts(&out, ",\"label_en\":") == 0 &&
					vl_json_str(&out, list[i]->label_en ? list[i]->label_en : "",
							list[i]->label_en ? strlen(list[i]->label_en) : 0) == 0 &&
					vl_buf_putc(&out, '}') == 0;
		if (ok)
			printf("%s]\n", out.ptr);
		vl_buf_free(&out);
		if (!ok) {
			release_schemas(node, list, n);
			return vl_cli_fail(VL_ENOMEM);
		}
	} else {
		printf("%-16s %-7s  %-16s %s\n", "LEDGER", "FIELDS", "名称", "NAME");
		for (i = 0; i < n; i++) {
			printf("%-16s %-7zu  ", list[i]->name, list[i]->nfields);
			vl_print_padded(list[i]->label_zh ? list[i]->label_zh : "", 16);
			printf(" %s\n", list[i]->label_en ? list[i]->label_en : "");
		}
	}
	release_schemas(node, list, n);
	return VL_EXIT_OK;
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
			printf("  [default %s]", vl_value_text(f[i].def));
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
	const char **pos = NULL;
	size_t npos, n = 0, i;
	vl_schema **list = NULL;
	const vl_schema *s = NULL;
	vl_node *node = NULL;

	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs a ledger name");
	}
	if ((rc = pick_schemas(&node, &list, &n, cli)) < 0) {
		free(pos);
		return vl_cli_fail(rc);
	}
	for (i = 0; i < n; i++)
		if (!strcmp(list[i]->name, pos[0]))
			s = list[i];
	if (!s) {
		vl_error_set(VL_ENOTFOUND, "no ledger '%s'; 'vledger schema list' shows them", pos[0]);
		free(pos);
		release_schemas(node, list, n);
		return vl_cli_fail(VL_ENOTFOUND);
	}
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
		printf("%s  %s / %s  (version %d)\n", s->name, s->label_zh ? s->label_zh : "",
				s->label_en ? s->label_en : "", s->version);
		if (s->nidentity) {
			printf("identity:");
			for (i = 0; i < s->nidentity; i++)
				printf(" %s", s->identity[i]);
			printf("\n");
		}
		printf("%-20s %-10s %-4s %-4s %-22s %s\n", "FIELD", "TYPE", "", "", "MERGE", "LABEL");
		print_fields(s->fields, s->nfields, 0);
		for (i = 0; i < s->naggregates; i++)
			printf("aggregate %s: %s%s%s%s%s%s\n", s->aggregates[i].name, s->aggregates[i].op,
					s->aggregates[i].field ? " " : "", s->aggregates[i].field ? s->aggregates[i].field : "",
					s->aggregates[i].where_field ? " where " : "",
					s->aggregates[i].where_field ? s->aggregates[i].where_field : "",
					s->aggregates[i].where_value ? "=" : "");
	}
	free(pos);
	release_schemas(node, list, n);
	return VL_EXIT_OK;
}

int vl_cmd_schema_check(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const vl_opt opts[] = { { NULL, 0, NULL, NULL, NULL } };
	const char **pos = NULL;
	size_t npos, i;
	int rc, bad = 0;

	(void)cli;
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos == 0) {
		free(pos);
		return vl_cli_usage(cmd, "needs at least one schema file");
	}
	for (i = 0; i < npos; i++) {
		vl_buf in = VL_BUF_INIT, diag = VL_BUF_INIT;
		vl_schema *s = NULL;
		rc = vl_buf_read_file(&in, pos[i], vl_yaml_file_limits.max_bytes);
		if (rc == 0)
			rc = vl_schema_load(&s, in.ptr, in.len, pos[i], &diag);
		if (rc < 0) {
			bad = 1;
			if (diag.len)
				fputs(diag.ptr, stderr);
			else
				fprintf(stderr, "%s\n", vl_error_last());
		} else {
			printf("%s: ok (ledger '%s', %zu fields)\n", pos[i], s->name, s->nfields);
		}
		vl_schema_free(s);
		vl_buf_free(&in);
		vl_buf_free(&diag);
	}
	free(pos);
	return bad ? VL_EXIT_ERROR : VL_EXIT_OK;
}
