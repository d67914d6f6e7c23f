/* cmd_init.c - init, key, export allowed-signers/network: parse, call the
 * operation (ops/node_ops.h, ops/roster_ops.h), print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/node/netkey.h"
#include "agent/node/roster.h"
#include "agent/ops/node_ops.h"
#include "agent/ops/roster_ops.h"

void vl_cli_print_init(const vl_init_result *r)
{
	printf(_("created node '%s' (%s, scope %s) at %s\n"), r->name, r->role, r->scope, r->home);
	printf(_("key %s"), r->pubkey.ptr ? r->pubkey.ptr : "\n");
	printf(_("fingerprint %s\n"), r->fp);
	if (r->new_network)
		printf(_("network %s created; this key is its root and first admin\n"), r->network);
	else {
		if (r->has_network_key)
			printf(_("network key taken from network.key beside the network file\n"));
		else
			printf(_("no network.key beside the network file: this node cannot sync over the network "
					"until it has keys/network.key\n"));
		printf(_("next: an admin adds this key with 'vledger roster add', then run 'vledger fetch'\n"));
	}
}

int vl_cmd_init(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_init_opts io = VL_INIT_OPTS_INIT;
	const vl_opt opts[] = {
		{ "--name", 1, &io.name, NULL, NULL }, { "--role", 1, &io.role, NULL, NULL },
		{ "--scope", 1, &io.scope, NULL, NULL }, { "--network", 1, &io.network_file, NULL, NULL },
		{ "--new-network", 0, NULL, &io.new_network, NULL }, { "--timezone", 1, &io.timezone, NULL, NULL },
		{ "--passphrase-file", 1, &io.passphrase_file, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	vl_init_result res;
	const char **pos = NULL;
	size_t npos;
	char *home = NULL;
	int rc, exit_code = VL_EXIT_OK;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	free(pos);
	if (npos || !io.name || !io.role || !io.scope || (io.new_network == (io.network_file != NULL)))
		return vl_cli_usage(cmd, "needs --name, --role, --scope and exactly one of --new-network or --network");
	if (!vl_roster_role_valid(io.role))
		return vl_cli_usage(cmd, "role '%s' is not one of %s", io.role, VL_ROLES);
	io.schema_dir = vl_cli_schema_dir();
	if (!(home = vl_node_home_path(cli->home)))
		rc = vl_error_set(VL_ENOMEM, "out of memory");
	else
		rc = vl_init(home, &io, &res);
	if (rc < 0)
		exit_code = vl_cli_fail(rc);
	else
		vl_cli_print_init(&res);
	vl_init_result_free(&res);
	free(home);
	return exit_code;
}

int vl_cmd_key(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const vl_opt opts[] = { { NULL, 0, NULL, NULL, NULL } };
	vl_key_show_result res;
	vl_node *n = NULL;
	int rc, exit_code = VL_EXIT_OK;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_key_show(n, NULL, &res)) < 0)
		exit_code = vl_cli_fail(rc);
	else
		printf("%s\n%s\n", res.pubkey.ptr, res.fp);
	vl_key_show_result_free(&res);
	vl_node_close(n);
	return exit_code;
}

/* Write b to the file path, or to standard output when path is NULL or "-". */
static int write_output(const char *path, const vl_buf *b)
{
	if (!path || !strcmp(path, "-")) {
		fwrite(b->ptr ? b->ptr : "", 1, b->len, stdout);
		return 0;
	}
	return vl_buf_write_file(path, b->ptr ? b->ptr : "", b->len, 0644);
}

/*
 * The roster as allowed_signers (vl_export_allowed_signers). With
 * --revocations FILE, the revoked keys are also written to FILE, one
 * "ssh-ed25519 AAAA..." line each, for gpg.ssh.revocationFile.
 */
int vl_cmd_export_allowed_signers(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *output = NULL, *revocations = NULL;
	const vl_opt opts[] = { { "--output", 1, &output, NULL, NULL },
		{ "--revocations", 1, &revocations, NULL, NULL }, { NULL, 0, NULL, NULL, NULL } };
	vl_export_allowed_signers_result res;
	vl_node *n = NULL;
	int rc, exit_code = VL_EXIT_OK;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_export_allowed_signers(n, NULL, &res)) < 0 || (rc = write_output(output, &res.signers)) < 0 ||
			(revocations && (rc = vl_buf_write_file(revocations, res.revocations.ptr ? res.revocations.ptr : "",
					res.revocations.len, 0644)) < 0))
		exit_code = vl_cli_fail(rc);
	vl_export_allowed_signers_result_free(&res);
	vl_node_close(n);
	return exit_code;
}

/*
 * network.yaml of the config head (vl_export_network), to --output FILE or
 * standard output; with a FILE and a node that holds the network key, also
 * the key as network.key beside FILE (what 'init --network FILE' takes).
 */
int vl_cmd_export_network(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *output = NULL;
	vl_buf keypath = VL_BUF_INIT;
	const vl_opt opts[] = { { "--output", 1, &output, NULL, NULL }, { NULL, 0, NULL, NULL, NULL } };
	vl_export_network_result res;
	vl_node *n = NULL;
	int rc, exit_code = VL_EXIT_OK;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_export_network(n, NULL, &res)) < 0 || (rc = write_output(output, &res.network)) < 0)
		exit_code = vl_cli_fail(rc);
	else if (res.has_network_key && output && strcmp(output, "-") != 0) {
		/* the capability goes beside the file, 0600, never into the config branch */
		if ((rc = vl_netkey_beside(&keypath, output)) < 0 ||
				(rc = vl_netkey_write_file(keypath.ptr, res.network_key)) < 0)
			exit_code = vl_cli_fail(rc);
		else
			printf(_("wrote %s and %s (mode 600: the network's secret, hand it over with the file "
					"and never publish it)\n"), output, keypath.ptr);
	}
	vl_buf_free(&keypath);
	vl_export_network_result_free(&res);
	vl_node_close(n);
	return exit_code;
}
