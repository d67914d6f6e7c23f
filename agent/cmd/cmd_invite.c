/*
 * cmd_invite.c - invite and join: parse, call the operation
 * (ops/invite_ops.h, which describes the whole exchange), print. The
 * approval of a join request is 'roster approve' (cmd_roster.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/node/invite.h"
#include "agent/ops/invite_ops.h"

/* Hours: a decimal integer 1..VL_INVITE_MAX_HOURS. */
static int parse_hours(unsigned *out, const char *s)
{
	unsigned v = 0;

	if (!*s || strlen(s) > 4)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v < 1 || v > VL_INVITE_MAX_HOURS)
		return -1;
	*out = v;
	return 0;
}

int vl_cmd_invite(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_invite_create_opts io = VL_INVITE_CREATE_OPTS_INIT;
	const char *expires = NULL;
	int no_qr = 0, rc, exit_code = VL_EXIT_OK;
	const vl_opt opts[] = {
		{ "--role", 1, &io.role, NULL, NULL }, { "--scope", 1, &io.scope, NULL, NULL },
		{ "--name", 1, &io.name, NULL, NULL }, { "--expires", 1, &expires, NULL, NULL },
		{ "--address", 1, &io.address, NULL, NULL }, { "--source", 1, &io.source, NULL, NULL },
		{ "--no-qr", 0, NULL, &no_qr, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_invite_create_result res;
	vl_buf qr = VL_BUF_INIT;
	vl_node *n = NULL;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	free(pos);
	if (npos || !io.role || !io.scope || !io.name)
		return vl_cli_usage(cmd, "needs --role, --scope and --name");
	if (expires && parse_hours(&io.hours, expires) < 0)
		return vl_cli_usage(cmd, "--expires takes whole hours, 1 to %d", VL_INVITE_MAX_HOURS);
	if (!vl_invite_name_valid(io.name) || strlen(io.role) >= 16 || strlen(io.scope) != 12)
		return vl_cli_usage(cmd, "the name must be 1 to 255 bytes of text, the scope a 12-digit code");
	if ((io.address && strlen(io.address) > 255) || (io.source && strlen(io.source) > 255))
		return vl_cli_usage(cmd, "--address and --source are at most 255 bytes");
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_invite_create(n, &io, &res)) < 0 || (!no_qr && (rc = vl_qr_render(&qr, res.token.ptr)) < 0)) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	printf(_("invitation %s for '%s' (%s, scope %s), good for one join until %s\n"), res.id, io.name, io.role,
			io.scope, res.expires_at);
	printf("%s\n", res.token.ptr);
	if (!no_qr)
		printf("\n%s\n", qr.ptr);
	printf(_("on the new laptop:  vledger join TOKEN [--passphrase-file FILE]\n"
			"then, here:         vledger roster approve join-request.yaml   (the file join writes)\n"
			"whoever holds this token can join until it expires: show it only to the new laptop\n"));
	if (res.needs_admin)
		printf(_("note: this key is '%s', not an admin, for '%s': the invitation is pending an admin. "
				"'roster approve' here checks the request and prints the 'roster add' command for "
				"an admin whose scope covers %s\n"), res.inviter_role, res.inviter_scope, io.scope);
out:
	vl_buf_free_secure(&qr);
	vl_invite_create_result_free(&res);
	vl_node_close(n);
	return exit_code;
}

int vl_cmd_join(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_join_opts jo = VL_JOIN_OPTS_INIT;
	int no_fetch = 0, rc, exit_code = VL_EXIT_OK, wild;
	const vl_opt opts[] = {
		{ "--name", 1, &jo.name, NULL, NULL }, { "--passphrase-file", 1, &jo.passphrase_file, NULL, NULL },
		{ "--no-fetch", 0, NULL, &no_fetch, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_join_result res;
	char *home = NULL;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs the invitation (vledger1:...) as its one argument");
	}
	if (jo.name && !vl_invite_name_valid(jo.name)) {
		free(pos);
		return vl_cli_usage(cmd, "the name must be 1 to 255 bytes of text");
	}
	jo.token = pos[0];
	jo.fetch = !no_fetch;
	if (!(home = vl_node_home_path(cli->home)))
		rc = vl_error_set(VL_ENOMEM, "out of memory");
	else
		rc = vl_join(home, &jo, &res);
	if (rc < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	vl_cli_print_init(&res.node);
	printf(_("joining network %s (county %s) as '%s' (%s, scope %s); the invitation is good until %s\n"),
			res.node.network, res.county, res.node.name, res.node.role, res.node.scope, res.expires_at);
	printf(_("join request: %s\n"), res.request_path.ptr);
	/* A wildcard listen address (0.0.0.0:7433) names no host worth showing. */
	wild = !*res.address || !strncmp(res.address, "0.0.0.0:", 8) || !strncmp(res.address, "[::]:", 5);
	printf(_("send that file to the inviter%s%s, who runs:  vledger roster approve join-request.yaml\n"),
			wild ? "" : " at ", wild ? "" : res.address);
	printf(_("once approved, fetch the config here:  vledger -C %s fetch %s\n"), res.node.home,
			*res.source ? res.source : "SOURCE");
	if (res.fetched) {
		printf(_("fetching the config now from %s (the roster will name this key after approval):\n"),
				res.source);
		fflush(stdout);
		if (res.fetch_rc < 0)
			fprintf(stderr, _("vledger: %s\n"), res.fetch_error.len ? res.fetch_error.ptr : vl_error_name(res.fetch_rc));
		if (res.fetch_rc < 0 || vl_cli_print_receive(&res.receive) != VL_EXIT_OK)
			fprintf(stderr, _("vledger: the join request stands; fetch again once the source is "
					"reachable and the request approved\n"));
	}
out:
	vl_join_result_free(&res);
	free(home);
	free(pos);
	return exit_code;
}
