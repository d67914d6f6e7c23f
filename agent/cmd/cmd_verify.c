/* cmd_verify.c - vledger verify: parse, vl_verify (agent/ops/verify.h), print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/ops/verify.h"

int vl_cmd_verify(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int quiet = 0, json = 0, rc;
	vl_verify_opts vo = VL_VERIFY_OPTS_INIT;
	const vl_opt opts[] = {
		{ "--quiet", 0, NULL, &quiet, NULL }, { "--scope", 1, &vo.scope, NULL, NULL },
		{ "--since", 1, &vo.since, NULL, NULL }, { "--json", 0, NULL, &json, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	vl_node *n = NULL;
	vl_verify_result res;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	vo.progress_file = !quiet && isatty(STDERR_FILENO) ? stderr : NULL;
	if ((rc = vl_verify(n, &vo, &res)) < 0) {
		vl_verify_result_free(&res);
		vl_node_close(n);
		return vl_cli_fail(rc);
	}
	if (json) {
		vl_buf out = VL_BUF_INIT;
		if ((rc = vl_buf_printf(&out, "{\"ok\":%s,\"commits\":%zu,\"merges\":%zu,\"records\":%zu,"
				"\"branches\":%zu,\"failures\":%zu,\"problems\":", res.failures ? "false" : "true", res.commits,
				res.merges, res.records, res.branches, res.failures)) < 0 ||
				(rc = vl_cli_json_lines(&out, res.report.ptr, res.report.len)) < 0 ||
				(rc = vl_buf_puts(&out, ",\"revocations\":")) < 0 ||
				(rc = vl_cli_json_lines(&out, res.revocations.ptr, res.revocations.len)) < 0 ||
				(rc = vl_buf_putc(&out, '}')) < 0) {
			vl_buf_free(&out);
			vl_verify_result_free(&res);
			vl_node_close(n);
			return vl_cli_fail(rc);
		}
		printf("%s\n", out.ptr);
		vl_buf_free(&out);
	} else {
		if (!quiet && res.revocations.len)
			printf("%s", res.revocations.ptr);
		if (res.failures) {
			fprintf(stderr, "%s", res.report.ptr);
			printf(_("verification FAILED: %zu problem%s in %zu commits, %zu records on %zu branches\n"),
					res.failures, res.failures == 1 ? "" : "s", res.commits, res.records, res.branches);
		} else {
			printf(_("verified %zu commits (%zu merges replayed) and %zu record versions on %zu branches: "
					"all good\n"), res.commits, res.merges, res.records, res.branches);
		}
	}
	rc = res.failures ? VL_EXIT_VERIFY : VL_EXIT_OK;
	vl_verify_result_free(&res);
	vl_node_close(n);
	return rc;
}
