/* cmd_csv.c - `vledger export LEDGER --format csv`: the ledger's records
 * (vl_list) as an Excel-ready CSV (vl_csv_render), personal fields masked
 * unless --reveal, every reveal logged first (agent/node/reveal.h).
 * Import of a CSV file is `vledger import` (cmd_record.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/node/reveal.h"
#include "agent/ops/csv.h"
#include "agent/ops/record.h"

int vl_cmd_export(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *format = NULL, *output = NULL;
	vl_list_opts lo = VL_LIST_OPTS_INIT;
	int reveal = 0;
	const vl_opt opts[] = {
		{ "--format", 1, &format, NULL, NULL }, { "--scope", 1, &lo.scope, NULL, NULL },
		{ "--output", 1, &output, NULL, NULL }, { "--reveal", 0, NULL, &reveal, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	const vl_value **data = NULL;
	vl_value **masked = NULL;
	const char **ids = NULL;
	size_t npos, i;
	vl_node *n = NULL;
	vl_list_result res;
	vl_buf out = VL_BUF_INIT;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1 || !format || strcmp(format, "csv") != 0) {
		free(pos);
		return vl_cli_usage(cmd, "needs a ledger name and --format csv");
	}
	lo.ledger = pos[0];
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = vl_list(n, &lo, &res)) < 0)
		goto fail;
	if (!(data = calloc(res.n ? res.n : 1, sizeof(*data))) || !(masked = calloc(res.n ? res.n : 1, sizeof(*masked))) ||
			!(ids = calloc(res.n ? res.n : 1, sizeof(*ids)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < res.n; i++) {
		ids[i] = res.items[i].rec->id;
		if (reveal) {
			data[i] = res.items[i].rec->data;
		} else {
			if ((rc = vl_schema_mask(&masked[i], res.schema, res.items[i].rec->data)) < 0)
				goto fail;
			data[i] = masked[i];
		}
	}
	if ((rc = vl_csv_render(&out, res.schema, data, res.n)) < 0)
		goto fail;
	if (reveal) {
		vl_reveal_entry e = { "export", res.schema->name, res.scope, ids, res.n, res.n };
		if ((rc = vl_reveal_log(n, &e)) < 0)
			goto fail;
	}
	if (!output || !strcmp(output, "-"))
		fwrite(out.ptr, 1, out.len, stdout);
	/* A revealed file holds personal data: readable by its owner only. */
	else if ((rc = vl_buf_write_file(output, out.ptr, out.len, reveal ? 0600 : 0644)) < 0)
		goto fail;
	else
		fprintf(stderr, _("exported %zu %s records of scope %s to %s%s\n"), res.n, res.schema->name, res.scope,
				output, reveal ? _(" (personal fields in clear; logged)") : _(" (personal fields masked)"));
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	for (i = 0; masked && i < res.n; i++)
		vl_value_free(masked[i]);
	free(masked);
	free(data);
	free(ids);
	vl_list_result_free(&res);
	vl_buf_free(&out);
	vl_node_close(n);
	free(pos);
	return exit_code;
}
