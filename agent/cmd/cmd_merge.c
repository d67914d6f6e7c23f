/* cmd_merge.c - merge, conflicts, resolve, join-records: parse, call the
 * operation (agent/ops/merge.h), print. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/audit/audit.h"
#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/node/reveal.h"
#include "agent/node/tz.h"
#include "agent/ops/merge.h"
#include "store/yaml.h"

int vl_cmd_merge(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_merge_opts mo = VL_MERGE_OPTS_INIT;
	int json = 0;
	const vl_opt opts[] = { { "--scope", 1, &mo.scope, NULL, NULL }, { "--json", 0, NULL, &json, NULL },
		{ NULL, 0, NULL, NULL, NULL } };
	static const char *const outcome[] = { "none", "up_to_date", "fast_forward", "merged" };
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_merge_result res;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs the ref or commit to merge");
	}
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	mo.ref = pos[0];
	if ((rc = vl_merge(n, &mo, &res)) < 0) {
		if (res.report.len)
			fprintf(stderr, "%s", res.report.ptr);
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json) {
		/* docs/formats.md §9.5 */
		printf("{\"scope\":\"%s\",\"outcome\":\"%s\",\"head\":\"%s\",\"records_merged\":%zu,"
				"\"records_taken\":%zu,\"conflicts\":%zu}\n", res.scope, outcome[res.outcome],
				git_oid_tostr_s(&res.head), res.sum.records_merged, res.sum.records_taken, res.sum.conflicts);
	} else switch (res.outcome) {
	case VL_MERGED_UP_TO_DATE:
		printf(_("scope/%s is up to date (%.12s)\n"), res.scope, git_oid_tostr_s(&res.head));
		break;
	case VL_MERGED_FAST_FORWARD:
		printf(_("scope/%s fast-forwarded to %.12s\n"), res.scope, git_oid_tostr_s(&res.head));
		break;
	default:
		printf(_("scope/%s merged: %.12s (%zu records merged, %zu taken from one side, %zu fields left "
				"for a person%s)\n"), res.scope, git_oid_tostr_s(&res.head), res.sum.records_merged,
				res.sum.records_taken, res.sum.conflicts, res.sum.conflicts ? "; see 'vledger conflicts'" : "");
		break;
	}
	exit_code = res.sum.conflicts ? VL_EXIT_CONFLICTS : VL_EXIT_OK;
out:
	vl_merge_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

/* A candidate value as text for people, masked when the field is pii and
 * not reveal ("(absent)" when the candidate had none). */
static int candidate_text(vl_buf *out, const vl_schema *s, const char *field, const vl_value *v, int reveal,
		const int *tz_min)
{
	const vl_field *f = vl_schema_field(s, field);
	vl_value *masked = NULL;
	int rc;

	if (!v)
		return vl_buf_puts(out, "(absent)");
	if (!reveal) {
		if ((rc = vl_audit_mask_value(&masked, s, field, v)) < 0)
			return rc;
		v = masked;
	}
	/* tz_min: text shows datetimes in local time; JSON (NULL) keeps UTC. */
	if (tz_min && f && f->type == VL_T_DATETIME && v->kind == VL_V_STR)
		rc = vl_time_show(out, v->s, *tz_min);
	else
		rc = v->kind == VL_V_LIST || v->kind == VL_V_MAP ? vl_json_emit(out, v, 0) : vl_buf_puts(out, v->s);
	vl_value_free(masked);
	return rc;
}

static int print_conflicts_json(vl_buf *out, const vl_conflicts_result *res, int reveal)
{
	vl_buf text = VL_BUF_INIT;
	size_t i, j;
	int rc = vl_buf_putc(out, '[');

	for (i = 0; rc == 0 && i < res->nconflicts; i++) {
		const vl_conflict *cf = &res->conflicts[i];
		if ((rc = vl_buf_printf(out, "%s{\"ledger\":\"%s\",\"id\":\"%s\",\"scope\":\"%s\",\"field\":",
				i ? "," : "", cf->schema->name, cf->id, cf->scope)) < 0 ||
				(rc = vl_json_str(out, cf->field, strlen(cf->field))) < 0 ||
				(rc = vl_buf_puts(out, ",\"candidates\":[")) < 0)
			break;
		for (j = 0; rc == 0 && j < cf->ncands; j++) {
			const vl_conflict_candidate *k = &cf->cands[j];
			vl_buf_clear(&text);
			if ((rc = candidate_text(&text, cf->schema, cf->field, k->value, reveal, NULL)) < 0 ||
					(rc = vl_buf_printf(out, "%s{\"n\":%zu,\"value\":", j ? "," : "", j + 1)) < 0 ||
					(rc = vl_json_str(out, text.ptr, text.len)) < 0 ||
					(rc = vl_buf_puts(out, ",\"author\":")) < 0 ||
					(rc = vl_json_str(out, k->author, strlen(k->author))) < 0 ||
					(rc = vl_buf_puts(out, ",\"name\":")) < 0 ||
					(rc = k->signer ? vl_json_str(out, k->signer->name, strlen(k->signer->name)) :
					 vl_buf_puts(out, "null")) < 0)
				break;
			rc = vl_buf_printf(out, ",\"clock\":\"%s\"}", k->clock);
		}
		if (rc == 0)
			rc = vl_buf_puts(out, "]}");
	}
	vl_buf_free(&text);
	return rc;
}

static int print_conflicts_text(const vl_conflicts_result *res, int reveal, int tz_min)
{
	vl_buf text = VL_BUF_INIT;
	size_t i, j;
	int rc = 0;

	for (i = 0; rc == 0 && i < res->nconflicts; i++) {
		const vl_conflict *cf = &res->conflicts[i];
		printf(_("%s %s  field %s%s\n"), cf->schema->name, cf->id, cf->field, cf->deleted ? "  (record deleted)" : "");
		for (j = 0; rc == 0 && j < cf->ncands; j++) {
			const vl_conflict_candidate *k = &cf->cands[j];
			vl_buf_clear(&text);
			if ((rc = candidate_text(&text, cf->schema, cf->field, k->value, reveal, &tz_min)) < 0)
				break;
			printf("  [%zu] %s  — %s %s\n", j + 1, text.ptr, k->signer ? k->signer->name :
					(k->author[0] ? k->author : "?"), k->clock);
		}
	}
	vl_buf_free(&text);
	return rc;
}

int vl_cmd_conflicts(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_conflicts_opts co = VL_CONFLICTS_OPTS_INIT;
	int json = 0, reveal = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = {
		{ "--scope", 1, &co.scope, NULL, NULL }, { "--json", 0, NULL, &json, NULL },
		{ "--reveal", 0, NULL, &reveal, NULL }, { "--duplicates", 0, NULL, &co.duplicates, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	vl_node *n = NULL;
	vl_conflicts_result res;
	vl_buf out = VL_BUF_INIT;
	size_t i, j;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_conflicts(n, &co, &res)) < 0)
		goto fail;
	/* Duplicates show ids only; conflicts show candidate values. */
	if (reveal && !co.duplicates && res.nconflicts) {
		const char **ids = calloc(res.nconflicts, sizeof(*ids));
		vl_reveal_entry e = { "conflicts", NULL, res.scope, ids, res.nconflicts, res.nconflicts };
		for (i = 0; ids && i < res.nconflicts; i++)
			ids[i] = res.conflicts[i].id;
		rc = ids ? vl_reveal_log(n, &e) : vl_error_set(VL_ENOMEM, "out of memory");
		free(ids);
		if (rc < 0)
			goto fail;
	}
	if (!res.have_branch) {
		if (json)
			printf("[]\n");
		else
			printf(_("no records in scope %s\n"), res.scope);
		exit_code = VL_EXIT_OK;
		goto out;
	}
	if (co.duplicates) {
		if (json && (rc = vl_buf_putc(&out, '[')) < 0)
			goto fail;
		for (i = 0; i < res.ngroups; i++) {
			const vl_duplicate_group *g = &res.groups[i];
			if (json) {
				if ((rc = vl_buf_printf(&out, "%s{\"ledger\":\"%s\",\"ids\":[", i ? "," : "", g->schema->name)) < 0)
					goto fail;
				for (j = 0; j < g->nids; j++)
					if ((rc = vl_buf_printf(&out, "%s\"%s\"", j ? "," : "", g->ids[j])) < 0)
						goto fail;
				if ((rc = vl_buf_puts(&out, "]}")) < 0)
					goto fail;
			} else {
				printf(_("%s: the same %s on records %s"), g->schema->name, g->schema->identity[0], g->ids[0]);
				for (j = 1; j < g->nids; j++)
					printf(" %s", g->ids[j]);
				printf(_("\n  join them with 'vledger join-records KEEP OTHER'\n"));
			}
		}
	} else if (json) {
		if ((rc = print_conflicts_json(&out, &res, reveal)) < 0)
			goto fail;
	} else if ((rc = print_conflicts_text(&res, reveal, n->tz_min)) < 0) {
		goto fail;
	}
	if (json)
		printf("%s]\n", out.ptr);
	else if (co.duplicates)
		printf(_("%zu group%s of duplicates\n"), res.ngroups, res.ngroups == 1 ? "" : "s");
	else
		printf(_("%zu field%s left for a person\n"), res.nconflicts, res.nconflicts == 1 ? "" : "s");
	exit_code = (co.duplicates ? res.ngroups : res.nconflicts) ? VL_EXIT_CONFLICTS : VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_conflicts_result_free(&res);
	vl_buf_free(&out);
	vl_node_close(n);
	return exit_code;
}

int vl_cmd_resolve(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *take = NULL, *passfile = NULL;
	int json = 0;
	vl_resolve_opts ro = VL_RESOLVE_OPTS_INIT;
	const vl_opt opts[] = {
		{ "--take", 1, &take, NULL, NULL }, { "--value", 1, &ro.value, NULL, NULL },
		{ "--passphrase-file", 1, &passfile, NULL, NULL }, { "--json", 0, NULL, &json, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_resolve_result res;
	vl_buf out = VL_BUF_INIT;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 2 || (!take == !ro.value)) {
		free(pos);
		return vl_cli_usage(cmd, "needs a record id, a field, and one of --take N or --value V");
	}
	if (take) {
		/* Not a number, or 0: out of range, which the operation says
		 * with the range it has. */
		char *end;
		unsigned long k = strtoul(take, &end, 10);
		ro.take = *end || *take == '\0' || k == 0 ? SIZE_MAX : (size_t)k;
	}
	ro.id = pos[0];
	ro.field = pos[1];
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	if ((rc = vl_resolve(n, &ro, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json) {
		/* docs/formats.md §9.5 */
		if ((rc = vl_buf_printf(&out, "{\"id\":\"%s\",\"field\":", res.id)) < 0 ||
				(rc = vl_json_str(&out, ro.field, strlen(ro.field))) < 0 ||
				(rc = vl_buf_printf(&out, ",\"commit\":\"%s\"}\n", git_oid_tostr_s(&res.commit))) < 0) {
			exit_code = vl_cli_fail(rc);
			goto out;
		}
		fwrite(out.ptr, 1, out.len, stdout);
	} else {
		printf(_("%s: '%s' resolved\n"), res.id, ro.field);
	}
	exit_code = VL_EXIT_OK;
out:
	vl_buf_free(&out);
	vl_resolve_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

int vl_cmd_join_records(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *passfile = NULL;
	int json = 0;
	const vl_opt opts[] = { { "--passphrase-file", 1, &passfile, NULL, NULL }, { "--json", 0, NULL, &json, NULL },
		{ NULL, 0, NULL, NULL, NULL } };
	vl_join_records_opts jo = VL_JOIN_RECORDS_OPTS_INIT;
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_join_records_result res;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 2 || !strcmp(pos[0], pos[1])) {
		free(pos);
		return vl_cli_usage(cmd, "needs two different record ids: the one to keep, then the other");
	}
	jo.keep = pos[0];
	jo.other = pos[1];
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	if ((rc = vl_join_records(n, &jo, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json)  /* docs/formats.md §9.5 */
		printf("{\"keep\":\"%s\",\"deleted\":\"%s\",\"commit\":\"%s\",\"conflicts\":%zu}\n", res.keep,
				res.other, git_oid_tostr_s(&res.commit), res.conflicts);
	else
		printf(_("%s joined into %s (%s deleted)%s\n"), res.other, res.keep, res.other,
				res.conflicts ? _("; fields that differ are listed by 'vledger conflicts'") : "");
	exit_code = res.conflicts ? VL_EXIT_CONFLICTS : VL_EXIT_OK;
out:
	vl_join_records_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}
