/* cmd_log.c - history of a branch, optionally of one record: parse, vl_log
 * (agent/ops/history.h), print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cmd/cli.h"
#include "agent/node/tz.h"
#include "agent/ops/history.h"
#include "store/yaml.h"

int vl_cmd_log(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_log_opts lo = VL_LOG_OPTS_INIT;
	int json = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = {
		{ "--scope", 1, &lo.scope, NULL, NULL }, { "--record", 1, &lo.record, NULL, NULL },
		{ "--config", 0, NULL, &lo.config, NULL }, { "--json", 0, NULL, &json, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	size_t i;
	vl_node *n = NULL;
	vl_log_result res;
	vl_buf out = VL_BUF_INIT;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_log(n, &lo, &res)) < 0)
		goto fail;
	if (json && (rc = vl_buf_putc(&out, '[')) < 0)
		goto fail;
	for (i = 0; i < res.n; i++) {
		const vl_log_entry *e = &res.items[i];
		const vl_roster_entry *who = e->signer;
		char when[32];
		time_t t = (time_t)e->time;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
		if (json) {
			if ((rc = vl_buf_printf(&out, "%s{\"commit\":\"%s\",\"time\":\"%s\",\"author\":", i ? "," : "",
					git_oid_tostr_s(&e->commit), when)) < 0 ||
					(rc = vl_json_str(&out, e->author, strlen(e->author))) < 0 ||
					(rc = vl_buf_puts(&out, ",\"email\":")) < 0 ||
					(rc = vl_json_str(&out, e->email, strlen(e->email))) < 0 ||
					(rc = vl_buf_puts(&out, ",\"message\":")) < 0 ||
					(rc = vl_json_str(&out, e->message, strlen(e->message))) < 0 ||
					(rc = vl_buf_puts(&out, ",\"operator\":")) < 0 ||
					(rc = e->operator_name ? vl_json_str(&out, e->operator_name, strlen(e->operator_name))
					 : vl_buf_puts(&out, "null")) < 0 ||
					(rc = vl_buf_putc(&out, '}')) < 0)
				goto fail;
		} else {
			vl_buf local = VL_BUF_INIT;
			if ((rc = vl_time_show_secs(&local, (int64_t)e->time, n->tz_min)) < 0)
				goto fail;
			printf("%.12s  %s  %s%s%s%s%s%s  %s\n", git_oid_tostr_s(&e->commit), local.ptr, e->author,
					who ? " (" : "", who ? who->role : "", who ? ")" : "",
					e->operator_name ? ", operator " : "", e->operator_name ? e->operator_name : "", e->summary);
			vl_buf_free(&local);
		}
	}
	if (json)
		printf("%s]\n", out.ptr);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_log_result_free(&res);
	vl_buf_free(&out);
	vl_node_close(n);
	return exit_code;
}
