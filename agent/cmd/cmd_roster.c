/*
 * cmd_roster.c - roster add, list, revoke, approve and key rotate: parse,
 * call the operation (ops/roster_ops.h, which also describes key
 * rotation), print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/node/roster.h"
#include "agent/ops/roster_ops.h"
#include "store/yaml.h"

/* ---- roster add ------------------------------------------------------------ */

int vl_cmd_roster_add(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_roster_add_opts ao = VL_ROSTER_ADD_OPTS_INIT;
	const char *passfile = NULL;
	const vl_opt opts[] = {
		{ "--name", 1, &ao.name, NULL, NULL }, { "--role", 1, &ao.role, NULL, NULL },
		{ "--scope", 1, &ao.scope, NULL, NULL }, { "--key", 1, &ao.key, NULL, NULL },
		{ "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_roster_add_result res;
	vl_node *n = NULL;
	int rc, exit_code = VL_EXIT_OK;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	free(pos);
	if (npos || !ao.name || !ao.role || !ao.scope || !ao.key)
		return vl_cli_usage(cmd, "needs --name, --role, --scope and --key");
	if (!vl_roster_role_valid(ao.role))
		return vl_cli_usage(cmd, "role '%s' is not one of %s", ao.role, VL_ROLES);
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_roster_add(n, &ao, &res)) < 0)
		exit_code = vl_cli_fail(rc);
	else
		printf(_("added %s %s (%s, scope %s)\n"), res.fp, res.name, res.role, res.scope);
	vl_roster_add_result_free(&res);
	vl_node_close(n);
	return exit_code;
}

/* ---- roster list ----------------------------------------------------------- */

int vl_cmd_roster_list(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0, rc, exit_code = VL_EXIT_OK;
	const vl_opt opts[] = { { "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL } };
	vl_roster_list_result res;
	vl_node *n = NULL;
	vl_buf out = VL_BUF_INIT;
	size_t i;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_roster_list(n, NULL, &res)) < 0 ||
			(json && (rc = vl_json_emit(&out, vl_value_map_get(res.roster, "keys"), 2)) < 0)) {
		exit_code = vl_cli_fail(rc);
	} else if (json) {
		printf("%s\n", out.ptr);
	} else {
		printf("%-51s  %-8s  %-12s  %s\n", "FINGERPRINT", "ROLE", "SCOPE", "NAME");
		for (i = 0; i < res.n; i++)
			printf("%-51s  %-8s  %-12s  %s%s\n", res.entries[i].fp, res.entries[i].role,
					res.entries[i].scope, res.entries[i].name,
					res.entries[i].revoked_at ? "  (revoked)" : "");
	}
	vl_buf_free(&out);
	vl_roster_list_result_free(&res);
	vl_node_close(n);
	return exit_code;
}

/* ---- roster revoke ------------------------------------------------------ */

int vl_cmd_roster_revoke(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_roster_revoke_opts ro = VL_ROSTER_REVOKE_OPTS_INIT;
	const char *passfile = NULL;
	const vl_opt opts[] = {
		{ "--reason", 1, &ro.reason, NULL, NULL }, { "--passphrase-file", 1, &passfile, NULL, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_roster_revoke_result res;
	vl_node *n = NULL;
	int rc, exit_code = VL_EXIT_OK;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1 || !ro.reason) {
		free(pos);
		return vl_cli_usage(cmd, "needs the key's fingerprint and --reason");
	}
	ro.fp = pos[0];
	if (!vl_revoke_reason_valid(ro.reason)) {
		free(pos);
		return vl_cli_usage(cmd, "--reason must be one line of 1 to %d bytes", VL_REVOKE_REASON_MAX);
	}
	if (vl_cli_node(&n, cli, 1, passfile) < 0) {
		free(pos);
		return VL_EXIT_ERROR;
	}
	if ((rc = vl_roster_revoke(n, &ro, &res)) < 0)
		exit_code = vl_cli_fail(rc);
	else
		printf(_("revoked %s (%s, scope %s) at %s\n"), res.fp, res.role, res.scope, res.revoked_at);
	vl_roster_revoke_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

/* ---- roster approve ----------------------------------------------------- */

int vl_cmd_roster_approve(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *passfile = NULL;
	const vl_opt opts[] = { { "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL } };
	vl_roster_approve_opts ao = VL_ROSTER_APPROVE_OPTS_INIT;
	vl_roster_approve_result res;
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	int rc, exit_code = VL_EXIT_OK;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs the request file that 'vledger key rotate' or 'vledger join' wrote");
	}
	ao.path = pos[0];
	if (vl_cli_node(&n, cli, 1, passfile) < 0) {
		free(pos);
		return VL_EXIT_ERROR;
	}
	if ((rc = vl_roster_approve(n, &ao, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
	} else if (res.kind == VL_APPROVE_JOIN) {
		if (res.requested_name)
			printf(_("note: the new node calls itself '%s'; the roster names it '%s' as the invitation does\n"),
					res.requested_name, res.name);
		printf(_("added %s %s (%s, scope %s)\n"), res.fp, res.name, res.role, res.scope);
		printf(_("invitation %s is used; the new node now runs:  vledger fetch %s\n"), res.invite,
				res.source.ptr);
	} else {
		printf(_("approved: %s (%s, scope %s) now signs with %s; %s revoked at %s\n"), res.name, res.role,
				res.scope, res.fp, res.old_fp, res.when);
		printf(_("the node switches with 'vledger key rotate --finish' after it fetches this config\n"));
	}
	vl_roster_approve_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

/* ---- key rotate --------------------------------------------------------- */

int vl_cmd_key_rotate(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_key_rotate_opts ko = VL_KEY_ROTATE_OPTS_INIT;
	const char *output = NULL, *passfile = NULL;
	const vl_opt opts[] = {
		{ "--output", 1, &output, NULL, NULL }, { "--finish", 0, NULL, &ko.finish, NULL },
		{ "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_key_rotate_result res;
	vl_node *n = NULL;
	int rc, exit_code = VL_EXIT_OK;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	free(pos);
	if (npos || (ko.finish && output))
		return vl_cli_usage(cmd, "takes no arguments; --output only when starting a rotation");
	ko.passphrase_file = passfile ? passfile : getenv("VLEDGER_PASSPHRASE_FILE");
	ko.request_path = output ? output : "rotate-request.yaml";
	if (vl_cli_node(&n, cli, !ko.finish, ko.finish ? NULL : passfile) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_key_rotate(n, &ko, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
	} else if (res.state == VL_ROTATE_FINISHED) {
		printf(_("this node now signs with %s\n"), res.new_fp);
	} else if (res.state == VL_ROTATE_DONE) {
		printf(_("rotated: this node now signs with %s; %s revoked at %s\n"), res.new_fp, res.old_fp, res.when);
	} else {
		printf(_("new key %s is pending; this node goes on signing with %s until the switch\n"), res.new_fp,
				res.old_fp);
		printf(_("wrote the request to %s; an admin whose scope covers %s runs:\n"
				"  vledger roster approve %s\n"
				"then, after 'vledger fetch', run here: vledger key rotate --finish\n"), ko.request_path,
				res.scope, ko.request_path);
	}
	vl_key_rotate_result_free(&res);
	vl_node_close(n);
	return exit_code;
}
