/* cmd_log.c - history of a branch, optionally of one record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cmd/cli.h"
#include "agent/node/ledger.h"
#include "store/yaml.h"

int vl_cmd_log(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *scope = NULL, *record = NULL;
	int json = 0, config = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = {
		{ "--scope", 1, &scope, NULL, NULL }, { "--record", 1, &record, NULL, NULL },
		{ "--config", 0, NULL, &config, NULL }, { "--json", 0, NULL, &json, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	size_t count = 0;
	vl_node *n = NULL;
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	vl_buf needle = VL_BUF_INIT, out = VL_BUF_INIT;
	char ref[64];
	git_oid head, id;

	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_node_load_config(n)) < 0)
		goto fail;
	if (config)
		snprintf(ref, sizeof(ref), "%s", VL_REF_CONFIG);
	else
		vl_scope_ref(ref, scope ? scope : n->scope);
	if (record) {
		vl_found f;
		memset(&f, 0, sizeof(f));
		if ((rc = vl_ledger_find(&f, n, record)) < 0)
			goto fail;
		if (!scope && !config)
			snprintf(ref, sizeof(ref), "%s", f.ref);
		rc = vl_buf_printf(&needle, "Vledger-Record: %s %s ", f.rec->schema, f.rec->id);
		vl_found_free(&f);
		if (rc < 0)
			goto fail;
	}
	if ((rc = vl_repo_head(&head, n->repo, ref)) < 0)
		goto fail;
	if ((rc = git_revwalk_new(&walk, n->repo)) < 0 ||
			(rc = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME)) < 0 || (rc = git_revwalk_push(walk, &head)) < 0) {
		rc = vl_error_git(rc, "cannot walk history");
		goto fail;
	}
	if (json && (rc = vl_buf_putc(&out, '[')) < 0)
		goto fail;
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		const git_signature *a;
		const char *msg, *summary;
		const vl_roster_entry *who;
		char when[32];
		time_t t;
		struct tm tm;

		git_commit_free(c);
		if ((rc = git_commit_lookup(&c, n->repo, &id)) < 0) {
			rc = vl_error_git(rc, "cannot read a commit");
			goto fail;
		}
		msg = git_commit_message(c);
		if (needle.len && !strstr(msg, needle.ptr))
			continue;
		a = git_commit_author(c);
		summary = git_commit_summary(c);
		t = (time_t)a->when.time;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
		who = NULL;
		if (a->email && strlen(a->email) > 8) {
			char fp[VL_FP_LEN];
			snprintf(fp, sizeof(fp), "%.*s", (int)(strlen(a->email) - 8), a->email);
			who = vl_node_roster_find(n, fp);
		}
		if (json) {
			if ((rc = vl_buf_printf(&out, "%s{\"commit\":\"%s\",\"time\":\"%s\",\"author\":", count ? "," : "",
					git_oid_tostr_s(&id), when)) < 0 ||
					(rc = vl_json_str(&out, a->name, strlen(a->name))) < 0 ||
					(rc = vl_buf_puts(&out, ",\"email\":")) < 0 ||
					(rc = vl_json_str(&out, a->email, strlen(a->email))) < 0 ||
					(rc = vl_buf_puts(&out, ",\"message\":")) < 0 ||
					(rc = vl_json_str(&out, msg, strlen(msg))) < 0 || (rc = vl_buf_putc(&out, '}')) < 0)
				goto fail;
		} else {
			printf("%.12s  %s  %s%s%s%s  %s\n", git_oid_tostr_s(&id), when, a->name,
					who ? " (" : "", who ? who->role : "", who ? ")" : "", summary ? summary : "");
		}
		count++;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, "cannot walk history");
		goto fail;
	}
	if (json)
		printf("%s]\n", out.ptr);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	git_commit_free(c);
	git_revwalk_free(walk);
	vl_buf_free(&needle);
	vl_buf_free(&out);
	vl_node_close(n);
	return exit_code;
}
