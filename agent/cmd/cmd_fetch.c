/* cmd_fetch.c - vledger fetch SOURCE: parse, vl_receive (sync/receive.h), print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/sync/receive.h"
#include "store/yaml.h"

int vl_cli_print_receive(const vl_receive_result *res)
{
	switch (res->config) {
	case VL_CONFIG_UNCHANGED:
		printf(_("config is up to date (%.12s)\n"), git_oid_tostr_s(&res->config_head));
		break;
	case VL_CONFIG_OURS_NEWER:
		printf(_("config is up to date (%.12s; the source's is older)\n"), git_oid_tostr_s(&res->config_head));
		break;
	case VL_CONFIG_UPDATED:
		printf(_("config: %zu new commit%s, now at %.12s\n"), res->config_commits,
				res->config_commits == 1 ? "" : "s", git_oid_tostr_s(&res->config_head));
		break;
	}
	if (res->report.len)
		fprintf(stderr, "%s", res->report.ptr);
	printf(_("scopes: %zu readable, %zu updated, %zu refused; %zu new commits, %zu merges, "
			"%zu fields left for a person%s\n"), res->branches_seen, res->branches_updated,
			res->branches_refused, res->commits, res->merges, res->conflicts,
			res->evidence ? "; EQUIVOCATION evidence kept, see 'vledger incidents'" : "");
	return vl_cli_receive_code(res);
}

int vl_cli_receive_code(const vl_receive_result *res)
{
	return res->branches_refused ? VL_EXIT_VERIFY : res->conflicts ? VL_EXIT_CONFLICTS : VL_EXIT_OK;
}

int vl_cli_receive_json(vl_buf *out, const vl_receive_result *r)
{
	static const char *const state[] = { "unchanged", "updated", "ours_newer" };
	int rc;

	if ((rc = vl_buf_printf(out, "{\"config\":{\"state\":\"%s\",\"commits\":%zu,\"head\":\"%s\"},"
			"\"scopes\":{\"readable\":%zu,\"updated\":%zu,\"refused\":%zu},\"commits\":%zu,"
			"\"objects\":%zu,\"merges\":%zu,\"conflicts\":%zu,\"evidence\":%zu,\"refused\":",
			state[r->config], r->config_commits, git_oid_tostr_s(&r->config_head), r->branches_seen,
			r->branches_updated, r->branches_refused, r->commits, r->objects, r->merges, r->conflicts,
			r->evidence)) < 0 ||
			(rc = vl_cli_json_lines(out, r->report.ptr, r->report.len)) < 0)
		return rc;
	return vl_buf_putc(out, '}');
}

int vl_cmd_fetch(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int no_merge = 0, json = 0;
	const vl_opt opts[] = { { "--no-merge", 0, NULL, &no_merge, NULL }, { "--json", 0, NULL, &json, NULL },
		{ NULL, 0, NULL, NULL, NULL } };
	vl_buf out = VL_BUF_INIT;
	vl_receive_opts ropts = VL_RECEIVE_OPTS_INIT;
	vl_receive_result res;
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_source *src = NULL;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs the path of another node's repo.git");
	}
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	ropts.merge = !no_merge;
	ropts.progress = vl_cli_progress();
	rc = vl_source_open_path(&src, pos[0]);
	if (rc == 0)
		rc = vl_receive(n, src, &ropts, &res);
	vl_cli_progress_done();
	if (rc < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json) {
		if ((rc = vl_cli_receive_json(&out, &res)) < 0) {
			exit_code = vl_cli_fail(rc);
			goto out;
		}
		printf("%s\n", out.ptr);
		exit_code = vl_cli_receive_code(&res);
	} else {
		exit_code = vl_cli_print_receive(&res);
	}
out:
	vl_buf_free(&out);
	vl_receive_result_free(&res);
	vl_source_free(src);
	vl_node_close(n);
	free(pos);
	return exit_code;
}
