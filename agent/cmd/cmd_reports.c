/* cmd_reports.c - `vledger reports`: the upward-report tracker
 * (agent/ops/reports.h) as a table, JSON or one HTML page; contacts masked
 * unless --reveal, which is logged first (agent/node/reveal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "agent/node/reveal.h"
#include "agent/ops/reports.h"

int vl_cmd_reports(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *format = "table", *output = NULL;
	vl_reports_opts ro = VL_REPORTS_OPTS_INIT;
	int reveal = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = {
		{ "--call", 1, &ro.call, NULL, NULL }, { "--due", 1, &ro.due, NULL, NULL },
		{ "--scope", 1, &ro.scope, NULL, NULL }, { "--format", 1, &format, NULL, NULL },
		{ "--today", 1, &ro.today, NULL, NULL }, { "--output", 1, &output, NULL, NULL },
		{ "--reveal", 0, NULL, &reveal, NULL }, { "--divisions", 1, &ro.divisions, NULL, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	vl_node *n = NULL;
	vl_reports_result res;
	vl_buf out = VL_BUF_INIT;
	const char **ids = NULL;
	size_t i, j, nids = 0, total = 0;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (strcmp(format, "table") && strcmp(format, "json") && strcmp(format, "html"))
		return vl_cli_usage(cmd, "--format takes table, json or html");
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = vl_reports(n, &ro, &res)) < 0)
		goto fail;
	if (reveal) {
		/* The contacts shown are those of the answering reports. */
		for (i = 0; i < res.ncalls; i++)
			total += res.calls[i].nunits;
		if (!(ids = calloc(total ? total : 1, sizeof(*ids)))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto fail;
		}
		for (i = 0; i < res.ncalls; i++)
			for (j = 0; j < res.calls[i].nunits; j++)
				if (res.calls[i].units[j].report[0])
					ids[nids++] = res.calls[i].units[j].report;
		{
			vl_reveal_entry e = { "reports", "report", res.scope, ids, nids, nids };
			if ((rc = vl_reveal_log(n, &e)) < 0)
				goto fail;
		}
	}
	if (!strcmp(format, "json"))
		rc = vl_reports_json(&out, &res, reveal);
	else if (!strcmp(format, "html"))
		rc = vl_reports_html(&out, &res, reveal);
	else
		rc = vl_reports_text(&out, &res, reveal);
	if (rc < 0)
		goto fail;
	if (!output || !strcmp(output, "-"))
		fwrite(out.ptr, 1, out.len, stdout);
	else if ((rc = vl_buf_write_file(output, out.ptr, out.len, reveal ? 0600 : 0644)) < 0)
		goto fail;
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	free(ids);
	vl_reports_result_free(&res);
	vl_buf_free(&out);
	vl_node_close(n);
	return exit_code;
}
