/* cmd_incidents.c - vledger incidents: parse, vl_incidents
 * (agent/ops/verify.h), print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cmd/cli.h"
#include "agent/node/tz.h"
#include "store/i18n.h"
#include "agent/ops/verify.h"
#include "store/yaml.h"

int vl_cmd_incidents(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = { { "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL } };
	size_t i;
	vl_node *n = NULL;
	vl_incidents_result res;
	vl_buf out = VL_BUF_INIT;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_incidents(n, NULL, &res)) < 0)
		goto fail;
	if (json && (rc = vl_buf_putc(&out, '[')) < 0)
		goto fail;
	for (i = 0; i < res.n; i++) {
		const vl_incident *inc = &res.items[i];
		const vl_roster_entry *who = inc->signer;
		char when[32];
		time_t t = (time_t)inc->time;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
		if (json) {
			if ((rc = vl_buf_printf(&out, "%s{\"key\":\"%s\",\"name\":", i ? "," : "", inc->fp)) < 0 ||
					(rc = who ? vl_json_str(&out, who->name, strlen(who->name)) : vl_buf_puts(&out, "null")) < 0 ||
					(rc = vl_buf_printf(&out, ",\"seq\":%llu,\"commit\":\"%s\",\"time\":\"%s\",\"summary\":",
							inc->seq, git_oid_tostr_s(&inc->commit), when)) < 0 ||
					(rc = vl_json_str(&out, inc->summary, strlen(inc->summary))) < 0 ||
					(rc = vl_buf_putc(&out, '}')) < 0)
				goto fail;
		} else {
			if (i == 0 || strcmp(res.items[i - 1].fp, inc->fp) || res.items[i - 1].seq != inc->seq)
				printf(_("key %s (%s, %s %s) signed two histories at Vledger-Seq %llu:\n"), inc->fp,
						who ? who->name : _("not on the roster"), who ? who->role : "",
						who ? who->scope : "", inc->seq);
			vl_buf local = VL_BUF_INIT;
			if ((rc = vl_time_show_secs(&local, (int64_t)inc->time, n->tz_min)) < 0)
				goto fail;
			printf("  %.12s  %s  %s\n", git_oid_tostr_s(&inc->commit), local.ptr, inc->summary);
			vl_buf_free(&local);
		}
	}
	if (json)
		printf("%s]\n", out.ptr);
	else if (!res.n)
		printf(_("no incidents\n"));
	else
		printf(_("a key that signs two histories was copied to a second machine or its laptop was rewound: "
				"revoke it ('vledger roster revoke') and find out which\n"));
	exit_code = res.n ? VL_EXIT_VERIFY : VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_incidents_result_free(&res);
	vl_buf_free(&out);
	vl_node_close(n);
	return exit_code;
}
