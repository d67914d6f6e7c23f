/* cmd_operator.c - vledger operator set, operator show: the name of the
 * person at this laptop, which this node's commits carry in a
 * Vledger-Operator trailer (docs/formats.md §5.2). Parse, call one
 * operation (vl_node_save_operator), print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"

int vl_cmd_operator_set(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int clear = 0;
	const vl_opt opts[] = { { "--clear", 0, NULL, &clear, NULL }, { NULL, 0, NULL, NULL, NULL } };
	const char **pos = NULL;
	size_t npos = 0;
	vl_node *n = NULL;
	int rc, exit_code = VL_EXIT_ERROR;

	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if ((clear && npos != 0) || (!clear && npos != 1)) {
		free(pos);
		return vl_cli_usage(cmd, "needs one NAME (quote a name with spaces), or --clear");
	}
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = vl_node_save_operator(n, clear ? NULL : pos[0])) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (clear)
		printf(_("operator cleared: commits name only the node's key\n"));
	else
		printf(_("operator %s: this node's commits carry it (a claim of the key holder, not an identity)\n"),
				n->operator_name);
	exit_code = VL_EXIT_OK;
out:
	vl_node_close(n);
	free(pos);
	return exit_code;
}

int vl_cmd_operator_show(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_node *n = NULL;
	int rc;

	if ((rc = vl_cli_parse_options(cmd, argc, argv, NULL)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if (n->operator_name)
		printf("%s\n", n->operator_name);
	else
		printf(_("no operator set; name one with 'vledger operator set NAME'\n"));
	vl_node_close(n);
	return VL_EXIT_OK;
}
