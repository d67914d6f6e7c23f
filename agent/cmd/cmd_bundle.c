/* cmd_bundle.c - vledger bundle create / bundle apply: parse, one operation
 * (ops/bundle_ops.h), print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/ops/bundle_ops.h"
#include "store/yaml.h"

int vl_cmd_bundle_create(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_bundle_create_opts bo = VL_BUNDLE_CREATE_OPTS_INIT;
	vl_bundle_create_result res;
	int json = 0;
	const vl_opt opts[] = {
		{ "--for", 1, &bo.for_peer, NULL, NULL }, { "--scope", 1, &bo.scope, NULL, NULL },
		{ "--full", 0, NULL, &bo.full, NULL }, { "--seal-to", 1, &bo.seal_to, NULL, NULL },
		{ "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_buf out = VL_BUF_INIT;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs the bundle file (or a directory to put it in)");
	}
	if (bo.for_peer && bo.scope) {
		free(pos);
		return vl_cli_usage(cmd, "give --for PEER or --scope CODE12, not both");
	}
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	bo.path = pos[0];
	if ((rc = vl_bundle_create(n, &bo, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json) {
		/* docs/formats.md §9.5 */
		if ((rc = vl_buf_puts(&out, "{\"path\":")) < 0 || (rc = vl_json_str(&out, res.path, strlen(res.path))) < 0 ||
				(rc = vl_buf_printf(&out, ",\"scope\":\"%s\",\"bytes\":%zu,\"refs\":%zu,\"objects\":%zu,"
						"\"prerequisites\":%zu,\"sealed_to\":", res.scope, res.bytes, res.refs, res.objects,
						res.prereqs)) < 0 ||
				(rc = *res.sealed_to ? vl_json_str(&out, res.sealed_to, strlen(res.sealed_to)) :
						vl_buf_puts(&out, "null")) < 0 || (rc = vl_buf_puts(&out, "}\n")) < 0) {
			exit_code = vl_cli_fail(rc);
			goto out;
		}
		fwrite(out.ptr, 1, out.len, stdout);
	} else {
		printf(_("wrote %s: %zu bytes, %zu refs, %zu objects, %zu prerequisite%s, what scope %s reads%s%s\n"),
				res.path, res.bytes, res.refs, res.objects, res.prereqs, res.prereqs == 1 ? "" : "s", res.scope,
				*res.sealed_to ? "; sealed to " : "", res.sealed_to);
	}
	exit_code = VL_EXIT_OK;
out:
	vl_buf_free(&out);
	vl_bundle_create_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

int vl_cmd_bundle_apply(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_bundle_apply_opts ao = VL_BUNDLE_APPLY_OPTS_INIT;
	vl_bundle_apply_result res;
	const char *passfile = NULL;
	int no_merge = 0, json = 0;
	const vl_opt opts[] = {
		{ "--no-merge", 0, NULL, &no_merge, NULL }, { "--passphrase-file", 1, &passfile, NULL, NULL },
		{ "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos, i;
	vl_node *n = NULL;
	vl_buf out = VL_BUF_INIT;
	int rc, exit_code = VL_EXIT_ERROR, worst = VL_EXIT_OK;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs a bundle file or a directory of bundles");
	}
	/* The secret key (and its passphrase) only for a bundle sealed to it. */
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if (vl_bundle_apply_needs_key(pos[0], n->fp)) {
		vl_node_close(n);
		n = NULL;
		if (vl_cli_node(&n, cli, 1, passfile) < 0)
			goto out;
	}
	ao.path = pos[0];
	ao.merge = !no_merge;
	ao.progress = vl_cli_progress();
	rc = vl_bundle_apply(n, &ao, &res);
	vl_cli_progress_done();
	if (rc < 0 && res.n == 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json && ((rc = vl_buf_puts(&out, "{\"path\":")) < 0 || (rc = vl_json_str(&out, ao.path, strlen(ao.path))) < 0 ||
			(rc = vl_buf_puts(&out, ",\"bundles\":[")) < 0))
		goto fail;
	for (i = 0; i < res.n; i++) {
		const vl_bundle_applied *it = &res.items[i];
		int code;
		if (json) {
			const char *msg = it->message ? it->message : it->rc < 0 ? vl_error_name(it->rc) : NULL;
			code = it->skipped ? VL_EXIT_OK : it->rc < 0 ? (it->rc == VL_EBADSIG ? VL_EXIT_VERIFY : VL_EXIT_ERROR) :
					vl_cli_receive_code(&it->receive);
			if ((rc = vl_buf_puts(&out, i ? ",{\"file\":" : "{\"file\":")) < 0 ||
					(rc = vl_json_str(&out, it->file, strlen(it->file))) < 0 ||
					(rc = vl_buf_printf(&out, ",\"status\":\"%s\",\"message\":", it->skipped ? "skipped" :
							it->rc < 0 ? "failed" : "applied")) < 0 ||
					(rc = msg ? vl_json_str(&out, msg, strlen(msg)) : vl_buf_puts(&out, "null")) < 0 ||
					(rc = vl_buf_printf(&out, ",\"sealed\":%s,\"refs\":%zu,\"objects\":%zu,\"receive\":",
							it->info.sealed ? "true" : "false", it->info.refs, it->info.objects)) < 0 ||
					(rc = it->received && it->rc == 0 ? vl_cli_receive_json(&out, &it->receive) :
							vl_buf_puts(&out, "null")) < 0 ||
					(rc = vl_buf_putc(&out, '}')) < 0)
				goto fail;
		} else if (it->skipped) {
			printf(_("%s: skipped, %s\n"), it->file, it->message);
			continue;
		} else if (it->rc < 0) {
			fprintf(stderr, _("vledger: %s: %s\n"), it->file, it->message ? it->message : vl_error_name(it->rc));
			code = it->rc == VL_EBADSIG ? VL_EXIT_VERIFY : VL_EXIT_ERROR;
		} else {
			printf(_("%s: %s%zu refs, %zu objects\n"), it->file, it->info.sealed ? _("sealed to this node, ") : "",
					it->info.refs, it->info.objects);
			code = vl_cli_print_receive(&it->receive);
		}
		/* The worst outcome decides: error 1 over refusal 4 over conflicts 3. */
		if (code == VL_EXIT_ERROR || (worst != VL_EXIT_ERROR && code > worst))
			worst = code;
	}
	if (json) {
		if ((rc = vl_buf_puts(&out, "]}")) < 0)
			goto fail;
		printf("%s\n", out.ptr);
	} else if (res.n == 0) {
		printf(_("%s: no bundles\n"), ao.path);
	}
	exit_code = worst;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_buf_free(&out);
	vl_bundle_apply_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}
