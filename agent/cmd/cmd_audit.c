/*
 * cmd_audit.c - history, blame, audit export: the record chain read back
 * for people (the operations of agent/ops/history.h gather it, through
 * agent/audit/audit.h; this file parses, and renders it).
 *
 * Personal fields (schema `pii: true`) are masked everywhere unless
 * --reveal: in values, in merge candidates and in conflict entries. The
 * HTML report is one self-contained UTF-8 file (inline CSS and SVG, no
 * script, nothing fetched) in which every piece of text from the ledger
 * is HTML-escaped. The JSON report is one document whose keys are always
 * present (null when they do not apply) and always in the same order.
 * `audit export` exits 4 when verification found failures (the report is
 * still written, with the failures in it), like `vledger verify`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/audit/audit.h"
#include "agent/cmd/cli.h"
#include "agent/node/reveal.h"
#include "agent/node/ledger.h"
#include "agent/node/tz.h"
#include "agent/ops/history.h"
#include "schemas/types.h"
#include "store/yaml.h"

/* ------------------------------------------------------------------------ */
/* Shared rendering helpers                                                 */

/* The node whose network time zone (tz.h) text and HTML show; set by each
 * command once its node is open (one command runs per process; the config,
 * and with it the zone, loads inside the operation). JSON keeps UTC. */
static const vl_node *tz_node;

static int show_tz(void)
{
	return tz_node ? tz_node->tz_min : VL_TZ_DEFAULT_MIN;
}

/* A commit time: iso, RFC 3339 UTC for JSON; else local time with offset. */
static void fmt_time(char out[32], long long t, int iso)
{
	time_t tt = (time_t)t;
	struct tm tm;
	vl_buf b = VL_BUF_INIT;

	out[0] = '\0';
	if (!iso) {
		if (vl_time_show_secs(&b, (int64_t)t, show_tz()) == 0 && b.len < 32)
			memcpy(out, b.ptr, b.len + 1);
		vl_buf_free(&b);
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int html_esc(vl_buf *b, const char *s)
{
	int rc = 0;

	for (; s && *s && rc == 0; s++) {
		switch (*s) {
		case '&': rc = vl_buf_puts(b, "&amp;"); break;
		case '<': rc = vl_buf_puts(b, "&lt;"); break;
		case '>': rc = vl_buf_puts(b, "&gt;"); break;
		case '"': rc = vl_buf_puts(b, "&quot;"); break;
		case '\'': rc = vl_buf_puts(b, "&#39;"); break;
		default: rc = vl_buf_putc(b, *s); break;
		}
	}
	return rc;
}

/* A JSON string, or null for NULL. */
static int jstr(vl_buf *b, const char *s)
{
	return s ? vl_json_str(b, s, strlen(s)) : vl_buf_puts(b, "null");
}

/* The value of `field` as people see it (masked unless reveal), as text. */
static int value_text(vl_buf *out, const vl_schema *s, const char *field, const vl_value *v, int reveal)
{
	vl_value *m = NULL;
	int rc;

	if (!reveal && v && (rc = vl_audit_mask_value(&m, s, field, v)) < 0)
		return rc;
	rc = vl_audit_value_text(out, vl_schema_field(s, field), reveal ? v : m, show_tz());
	vl_value_free(m);
	return rc;
}

static int value_json(vl_buf *out, const vl_schema *s, const char *field, const vl_value *v, int reveal)
{
	vl_value *m = NULL;
	int rc;

	if (!v)
		return vl_buf_puts(out, "null");
	if (!reveal && (rc = vl_audit_mask_value(&m, s, field, v)) < 0)
		return rc;
	rc = vl_json_emit(out, reveal ? v : m, 0);
	vl_value_free(m);
	return rc;
}

static int value_html(vl_buf *out, const vl_schema *s, const char *field, const vl_value *v, int reveal)
{
	vl_buf t = VL_BUF_INIT;
	int rc;

	if ((rc = value_text(&t, s, field, v, reveal)) == 0)
		rc = html_esc(out, t.ptr ? t.ptr : "");
	vl_buf_free(&t);
	return rc;
}

static const char *field_label(const vl_schema *s, const char *field)
{
	const vl_field *f = vl_schema_field(s, field);

	if (!strcmp(field, "_deleted"))
		return "记录删除";
	return f && f->label_zh ? f->label_zh : "";
}

static const vl_roster_entry *signer_of(const vl_node *n, const vl_record *r)
{
	return strcmp(r->author, VL_AUTHOR_MERGE) ? vl_node_roster_find(n, r->author) : NULL;
}

static const char *kind_zh(const char *kind)
{
	static const char *const map[][2] = {
		{ "add", "新增" }, { "edit", "修改" }, { "delete", "删除" }, { "merge", "合并" },
		{ "resolve", "处理冲突" }, { "join", "合并重复记录" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i][0], kind))
			return map[i][1];
	return kind;
}

static const char *rule_zh(const char *rule)
{
	static const char *const map[][2] = {
		{ "lww", "后写为准" }, { "max", "取较大值" }, { "min", "取较小值" }, { "sum", "增量累加" },
		{ "union", "集合合并" }, { "append", "日志追加" }, { "order", "状态顺序" },
		{ "keep", "创建后不可改" }, { "manual", "人工裁决" }, { "on_delete", "删除规则" },
	};
	size_t i;

	if (!rule)
		return "";
	if (!strncmp(rule, "hook:", 5))
		return "钩子程序";
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i][0], rule))
			return map[i][1];
	return "";
}

static const char *how_zh(vl_audit_how how)
{
	switch (how) {
	case VL_AUDIT_SET: return "修改";
	case VL_AUDIT_ONE_SIDE: return "单方修改";
	case VL_AUDIT_SAME: return "双方相同修改";
	case VL_AUDIT_RULE: return "规则裁决";
	case VL_AUDIT_PERSON: return "待人工处理";
	}
	return "";
}

static const char *sig_name(int sig_ok)
{
	return sig_ok < 0 ? "merge" : sig_ok ? "valid" : "invalid";
}

static const char *replay_name(int replay)
{
	return replay < 0 ? NULL : replay ? "identical" : "differs";
}

/* The candidate the rule did not take: "y" when x won, "x" when y won,
 * NULL when neither side's value was taken as is. */
static const vl_value *other_candidate(const vl_audit_change *c, const char **which)
{
	*which = c->side == 0 ? "y" : c->side == 1 ? "x" : NULL;
	return c->side == 0 ? c->y : c->side == 1 ? c->x : NULL;
}

/* ------------------------------------------------------------------------ */
/* JSON of one version                                                      */

static int candidates_json(vl_buf *b, const vl_node *n, const vl_schema *s, const char *field,
		const vl_value *cands, int reveal)
{
	size_t i;
	int rc;

	if ((rc = vl_buf_putc(b, '[')) < 0)
		return rc;
	for (i = 0; cands && cands->kind == VL_V_LIST && i < cands->n; i++) {
		const vl_value *c = cands->items[i];
		const vl_value *from = vl_value_map_get(c, "from"), *author = vl_value_map_get(c, "author");
		const vl_value *clock = vl_value_map_get(c, "clock");
		const vl_roster_entry *e = author && author->kind == VL_V_STR ? vl_node_roster_find(n, author->s) : NULL;
		if ((rc = vl_buf_puts(b, i ? ",{\"value\":" : "{\"value\":")) < 0 ||
				(rc = value_json(b, s, field, vl_value_map_get(c, "value"), reveal)) < 0 ||
				(rc = vl_buf_puts(b, ",\"from\":")) < 0 || (rc = jstr(b, vl_value_text(from))) < 0 ||
				(rc = vl_buf_puts(b, ",\"author\":")) < 0 || (rc = jstr(b, vl_value_text(author))) < 0 ||
				(rc = vl_buf_puts(b, ",\"author_name\":")) < 0 || (rc = jstr(b, e ? e->name : NULL)) < 0 ||
				(rc = vl_buf_puts(b, ",\"clock\":")) < 0 || (rc = jstr(b, vl_value_text(clock))) < 0 ||
				(rc = vl_buf_putc(b, '}')) < 0)
			return rc;
	}
	return vl_buf_putc(b, ']');
}

static int signer_json(vl_buf *b, const vl_node *n, const vl_record *r)
{
	const vl_roster_entry *e = signer_of(n, r);
	int rc;

	if (!strcmp(r->author, VL_AUTHOR_MERGE))
		return vl_buf_puts(b, "null");
	if ((rc = vl_buf_puts(b, "{\"fingerprint\":")) < 0 || (rc = jstr(b, r->author)) < 0 ||
			(rc = vl_buf_puts(b, ",\"name\":")) < 0 || (rc = jstr(b, e ? e->name : NULL)) < 0 ||
			(rc = vl_buf_puts(b, ",\"role\":")) < 0 || (rc = jstr(b, e ? e->role : NULL)) < 0 ||
			(rc = vl_buf_puts(b, ",\"scope\":")) < 0 || (rc = jstr(b, e ? e->scope : NULL)) < 0 ||
			(rc = vl_buf_puts(b, ",\"revoked_at\":")) < 0 || (rc = jstr(b, e ? e->revoked_at : NULL)) < 0)
		return rc;
	return vl_buf_putc(b, '}');
}

static int change_json(vl_buf *b, const vl_schema *s, const vl_audit_change *c, int merged, int reveal)
{
	int rc;

	if ((rc = vl_buf_puts(b, "{\"field\":")) < 0 || (rc = jstr(b, c->field)) < 0 ||
			(rc = vl_buf_printf(b, ",\"how\":\"%s\",\"old\":", vl_audit_how_name(c->how))) < 0 ||
			(rc = value_json(b, s, c->field, c->old, reveal)) < 0 ||
			(rc = vl_buf_puts(b, ",\"new\":")) < 0 || (rc = value_json(b, s, c->field, c->now, reveal)) < 0 ||
			(rc = vl_buf_puts(b, ",\"side\":")) < 0 ||
			(rc = jstr(b, merged && c->side >= 0 ? (c->side ? "y" : "x") : NULL)) < 0 ||
			(rc = vl_buf_puts(b, ",\"x\":")) < 0 ||
			(rc = merged ? value_json(b, s, c->field, c->x, reveal) : vl_buf_puts(b, "null")) < 0 ||
			(rc = vl_buf_puts(b, ",\"y\":")) < 0 ||
			(rc = merged ? value_json(b, s, c->field, c->y, reveal) : vl_buf_puts(b, "null")) < 0 ||
			(rc = vl_buf_puts(b, ",\"rule\":")) < 0 || (rc = jstr(b, c->rule)) < 0 ||
			(rc = vl_buf_puts(b, ",\"why\":")) < 0 || (rc = jstr(b, c->why)) < 0)
		return rc;
	return vl_buf_putc(b, '}');
}

/* num < 0: no "n" key (the report numbers nothing). */
static int version_json(vl_buf *b, const vl_node *n, const vl_audit_version *v, long num, int reveal)
{
	const vl_record *r = v->rec;
	const vl_schema *s = v->schema;
	int merged = !strcmp(v->kind, "merge");
	char when[32];
	size_t i;
	int rc;

	if ((rc = vl_buf_putc(b, '{')) < 0 || (num >= 0 && (rc = vl_buf_printf(b, "\"n\":%ld,", num)) < 0) ||
			(rc = vl_buf_printf(b, "\"kind\":\"%s\",\"blob\":\"%s\",\"clock\":\"%s\",\"author\":", v->kind,
					v->blob, r->clock)) < 0 ||
			(rc = jstr(b, r->author)) < 0 || (rc = vl_buf_puts(b, ",\"signer\":")) < 0 ||
			(rc = signer_json(b, n, r)) < 0 ||
			(rc = vl_buf_printf(b, ",\"signature\":\"%s\",\"commit\":", sig_name(v->sig_ok))) < 0)
		return rc;
	if (v->have_commit) {
		fmt_time(when, v->commit_time, 1);
		if ((rc = vl_buf_printf(b, "{\"id\":\"%s\",\"time\":\"%s\",\"committer\":", v->commit, when)) < 0 ||
				(rc = jstr(b, v->commit_name)) < 0 || (rc = vl_buf_puts(b, ",\"summary\":")) < 0 ||
				(rc = jstr(b, v->summary)) < 0 || (rc = vl_buf_puts(b, ",\"operator\":")) < 0 ||
				(rc = jstr(b, v->operator_name)) < 0 || (rc = vl_buf_putc(b, '}')) < 0)
			return rc;
	} else if ((rc = vl_buf_puts(b, "null")) < 0) {
		return rc;
	}
	if ((rc = vl_buf_puts(b, ",\"reason\":")) < 0 || (rc = jstr(b, v->reason)) < 0 ||
			(rc = vl_buf_printf(b, ",\"deleted\":%s,\"prev\":[", r->deleted ? "true" : "false")) < 0)
		return rc;
	for (i = 0; i < r->nprev; i++)
		if ((rc = vl_buf_printf(b, "%s\"%s\"", i ? "," : "", r->prev[i])) < 0)
			return rc;
	if ((rc = vl_buf_printf(b, "],\"prev_missing\":%s,\"joined\":", v->prev_missing ? "true" : "false")) < 0 ||
			(rc = jstr(b, v->joined[0] ? v->joined : NULL)) < 0 || (rc = vl_buf_puts(b, ",\"merge\":")) < 0)
		return rc;
	if (merged && r->nprev == 2) {
		if ((rc = vl_buf_printf(b, "{\"x\":\"%s\",\"y\":\"%s\",\"base\":", r->prev[0], r->prev[1])) < 0 ||
				(rc = jstr(b, v->have_base ? v->base : NULL)) < 0 ||
				(rc = vl_buf_printf(b, ",\"base_from\":\"%s\",\"replay\":", v->base_how)) < 0 ||
				(rc = jstr(b, replay_name(v->replay))) < 0 || (rc = vl_buf_putc(b, '}')) < 0)
			return rc;
	} else if ((rc = vl_buf_puts(b, "null")) < 0) {
		return rc;
	}
	if ((rc = vl_buf_puts(b, ",\"changes\":[")) < 0)
		return rc;
	for (i = 0; i < v->nchanges; i++)
		if ((i && (rc = vl_buf_putc(b, ',')) < 0) || (rc = change_json(b, s, &v->changes[i], merged, reveal)) < 0)
			return rc;
	if ((rc = vl_buf_puts(b, "],\"conflicts\":[")) < 0)
		return rc;
	for (i = 0; i < v->nconflicts; i++) {
		const vl_audit_conflict *c = &v->conflicts[i];
		if ((i && (rc = vl_buf_putc(b, ',')) < 0) || (rc = vl_buf_puts(b, "{\"field\":")) < 0 ||
				(rc = jstr(b, c->field)) < 0 ||
				(rc = vl_buf_printf(b, ",\"event\":\"%s\",\"candidates\":", c->resolved ? "resolved" : "recorded")) < 0 ||
				(rc = c->resolved ? vl_buf_puts(b, "null") : candidates_json(b, n, s, c->field, c->candidates, reveal)) < 0 ||
				(rc = vl_buf_puts(b, ",\"value\":")) < 0 ||
				(rc = c->resolved ? value_json(b, s, c->field, c->value, reveal) : vl_buf_puts(b, "null")) < 0 ||
				(rc = vl_buf_putc(b, '}')) < 0)
			return rc;
	}
	return vl_buf_puts(b, "]}");
}

/* ------------------------------------------------------------------------ */
/* vledger history                                                          */

static int signer_text(vl_buf *b, const vl_node *n, const vl_audit_version *v)
{
	const vl_roster_entry *e = signer_of(n, v->rec);

	if (!strcmp(v->rec->author, VL_AUTHOR_MERGE))
		return vl_buf_puts(b, "merge (no signature; checked by replaying the merge)");
	if (e)
		return vl_buf_printf(b, "%s (%s, %s%s%s) %s [signature %s]", e->name, e->role, e->scope,
				e->revoked_at ? ", revoked " : "", e->revoked_at ? e->revoked_at : "", v->rec->author,
				sig_name(v->sig_ok));
	return vl_buf_printf(b, "%s (not on the roster) [signature %s]", v->rec->author, sig_name(v->sig_ok));
}

static int candidates_text(vl_buf *b, const vl_node *n, const vl_schema *s, const char *field,
		const vl_value *cands, int reveal)
{
	size_t i;
	int rc = 0;

	for (i = 0; cands && cands->kind == VL_V_LIST && i < cands->n && rc == 0; i++) {
		const vl_value *c = cands->items[i];
		const vl_value *author = vl_value_map_get(c, "author"), *from = vl_value_map_get(c, "from");
		const vl_roster_entry *e = author && author->kind == VL_V_STR ? vl_node_roster_find(n, author->s) : NULL;
		if ((rc = vl_buf_printf(b, "\n       %zu) ", i + 1)) == 0 &&
				(rc = value_text(b, s, field, vl_value_map_get(c, "value"), reveal)) == 0)
			rc = vl_buf_printf(b, "  by %s, clock %s, blob %.12s", e ? e->name : vl_value_text(author) ?
					vl_value_text(author) : "?", vl_value_text(vl_value_map_get(c, "clock")) ?
					vl_value_text(vl_value_map_get(c, "clock")) : "?",
					vl_value_text(from) ? vl_value_text(from) : "?");
	}
	return rc;
}

static int version_text(vl_buf *b, const vl_node *n, const vl_audit_history *h, size_t i, int reveal)
{
	const vl_audit_version *v = &h->v[i];
	const vl_schema *s = v->schema;
	int merged = !strcmp(v->kind, "merge");
	char when[32];
	size_t k;
	int rc;

	if ((rc = vl_buf_printf(b, "#%zu %s %s  %s%s\n     signed  ", i + 1, v->kind, kind_zh(v->kind), v->rec->clock,
			v->rec->deleted ? "  [已删除 deleted]" : "")) < 0 || (rc = signer_text(b, n, v)) < 0)
		return rc;
	if (v->have_commit) {
		fmt_time(when, v->commit_time, 0);
		rc = vl_buf_printf(b, "\n     commit  %.12s  %s  %s  \"%s\"", v->commit, when, v->commit_name, v->summary);
	} else {
		rc = vl_buf_puts(b, "\n     commit  (not found on the branch)");
	}
	if (rc < 0 || (rc = vl_buf_printf(b, "\n     blob    %s", v->blob)) < 0)
		return rc;
	if (v->operator_name && (rc = vl_buf_printf(b, "\n     operator %s", v->operator_name)) < 0)
		return rc;
	if (v->reason && (rc = vl_buf_printf(b, "\n     reason  %s", v->reason)) < 0)
		return rc;
	if (v->joined[0] && (rc = vl_buf_printf(b, "\n     joined  record %s joined into this one", v->joined)) < 0)
		return rc;
	if (v->prev_missing && (rc = vl_buf_puts(b, "\n     warning a replaced version is not in this repository")) < 0)
		return rc;
	if (merged && v->rec->nprev == 2) {
		int px = h->prev_ix[2 * i], py = h->prev_ix[2 * i + 1], pb = -1;
		for (k = 0; v->have_base && k < h->n; k++)
			if (!strcmp(h->v[k].blob, v->base))
				pb = (int)k;
		if ((rc = vl_buf_printf(b, "\n     sides   x = #%d (%.12s), y = #%d (%.12s); base ", px + 1, v->rec->prev[0],
				py + 1, v->rec->prev[1])) < 0)
			return rc;
		if (!v->have_base)
			rc = vl_buf_puts(b, "none (both added the record)");
		else if (pb >= 0)
			rc = vl_buf_printf(b, "#%d (%.12s, %s)", pb + 1, v->base, v->base_how);
		else
			rc = vl_buf_printf(b, "%.12s (%s)", v->base, v->base_how);
		if (rc < 0 || (rc = vl_buf_printf(b, "; replay %s", replay_name(v->replay))) < 0)
			return rc;
	}
	for (k = 0; k < v->nchanges; k++) {
		const vl_audit_change *c = &v->changes[k];
		const char *mark = !c->old ? "+" : !c->now ? "-" : "~";
		if (c->how == VL_AUDIT_RULE)
			mark = "*";
		else if (c->how == VL_AUDIT_PERSON)
			mark = "!";
		if ((rc = vl_buf_printf(b, "\n   %s %s %s: ", mark, field_label(s, c->field), c->field)) < 0)
			return rc;
		if (strcmp(c->field, "_deleted") != 0 &&
				((rc = value_text(b, s, c->field, c->old, reveal)) < 0 || (rc = vl_buf_puts(b, " → ")) < 0 ||
				 (rc = value_text(b, s, c->field, c->now, reveal)) < 0))
			return rc;
		if (!merged)
			continue;
		if (c->how == VL_AUDIT_RULE || c->how == VL_AUDIT_PERSON) {
			const char *which;
			const vl_value *other = other_candidate(c, &which);
			if ((rc = vl_buf_printf(b, "\n       rule %s %s: %s", c->rule, rule_zh(c->rule), c->why ? c->why : "")) < 0)
				return rc;
			if (strcmp(c->field, "_deleted") != 0) {
				if (which)
					rc = vl_buf_printf(b, "\n       other candidate (%s): ", which) < 0 ? VL_ENOMEM :
						value_text(b, s, c->field, other, reveal);
				else if ((rc = vl_buf_puts(b, "\n       candidates x: ")) == 0 &&
						(rc = value_text(b, s, c->field, c->x, reveal)) == 0 &&
						(rc = vl_buf_puts(b, ", y: ")) == 0)
					rc = value_text(b, s, c->field, c->y, reveal);
				if (rc < 0)
					return rc;
			}
		} else if ((rc = vl_buf_printf(b, "  [%s]", c->why ? c->why : "")) < 0) {
			return rc;
		}
	}
	for (k = 0; k < v->nconflicts; k++) {
		const vl_audit_conflict *c = &v->conflicts[k];
		if (c->resolved) {
			if ((rc = vl_buf_printf(b, "\n   conflict resolved: %s, value now ", c->field)) < 0 ||
					(rc = strcmp(c->field, "_deleted") ? value_text(b, s, c->field, c->value, reveal) :
					 vl_buf_puts(b, v->rec->deleted ? "deleted" : "kept")) < 0)
				return rc;
		} else if ((rc = vl_buf_printf(b, "\n   conflict recorded: %s, left to a person; candidates:", c->field)) < 0 ||
				(rc = candidates_text(b, n, s, c->field, c->candidates, reveal)) < 0) {
			return rc;
		}
	}
	return vl_buf_putc(b, '\n');
}

/* Log a --reveal of one record's versions before they are shown. */
static int log_reveal(const vl_node *n, const char *command, const vl_audit_history *h)
{
	const char *ids[1] = { h->id };
	vl_reveal_entry e = { command, h->schema->name, h->scope, ids, 1, 1 };

	return vl_reveal_log(n, &e);
}

int vl_cmd_history(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0, reveal = 0, rc, exit_code = VL_EXIT_ERROR;
	vl_history_opts ho = VL_HISTORY_OPTS_INIT;
	const vl_opt opts[] = {
		{ "--json", 0, NULL, &json, NULL }, { "--reveal", 0, NULL, &reveal, NULL },
		{ "--field", 1, &ho.field, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos, i, shown = 0;
	vl_node *n = NULL;
	vl_history_result res;
	const vl_audit_history *hp = &res.h;
	vl_buf out = VL_BUF_INIT;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs one record id");
	}
	ho.id = pos[0];
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	tz_node = n;
	if ((rc = vl_history(n, &ho, &res)) < 0 || (reveal && (rc = log_reveal(n, "history", hp)) < 0))
		goto fail;
	if (json) {
		if ((rc = vl_buf_printf(&out, "{\"schema\":\"%s\",\"id\":\"%s\",\"scope\":\"%s\",\"revealed\":%s,"
				"\"field\":", hp->schema->name, hp->id, hp->scope, reveal ? "true" : "false")) < 0 ||
				(rc = jstr(&out, res.field ? res.field->name : NULL)) < 0 ||
				(rc = vl_buf_puts(&out, ",\"versions\":[")) < 0)
			goto fail;
		/* With --field, only the versions that changed it, "n" still
		 * numbering all versions. */
		for (i = 0; i < hp->n; i++)
			if (!res.changed || res.changed[i])
				if ((shown++ && (rc = vl_buf_puts(&out, ",\n")) < 0) ||
						(rc = version_json(&out, n, &hp->v[i], (long)i + 1, reveal)) < 0)
					goto fail;
		if ((rc = vl_buf_puts(&out, "]}\n")) < 0)
			goto fail;
	} else {
		if ((rc = vl_buf_printf(&out, "%s %s %s  scope %s  %zu version%s%s\n", hp->schema->label_zh ?
				hp->schema->label_zh : "", hp->schema->name, hp->id, hp->scope, hp->n, hp->n == 1 ? "" : "s",
				reveal ? "" : "  (personal fields masked; --reveal shows them)")) < 0)
			goto fail;
		if (res.field && (rc = vl_buf_printf(&out, "field %s %s: changed in %zu of the %zu versions\n",
				res.field->label_zh ? res.field->label_zh : "", res.field->name, res.nchanged, hp->n)) < 0)
			goto fail;
		for (i = 0; i < hp->n; i++)
			if ((!res.changed || res.changed[i]) &&
					((rc = vl_buf_putc(&out, '\n')) < 0 || (rc = version_text(&out, n, hp, i, reveal)) < 0))
				goto fail;
	}
	fwrite(out.ptr, 1, out.len, stdout);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_history_result_free(&res);
	vl_buf_free(&out);
	tz_node = NULL;
	vl_node_close(n);
	free(pos);
	return exit_code;
}

/* ------------------------------------------------------------------------ */
/* vledger blame                                                            */

/* The merge's decision for `field` in v, if v is a merge that changed it. */
static const vl_audit_change *change_of(const vl_audit_version *v, const char *field)
{
	size_t i;

	for (i = 0; i < v->nchanges; i++)
		if (!strcmp(v->changes[i].field, field))
			return &v->changes[i];
	return NULL;
}

int vl_cmd_blame(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0, reveal = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = {
		{ "--json", 0, NULL, &json, NULL }, { "--reveal", 0, NULL, &reveal, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	vl_history_opts ho = VL_HISTORY_OPTS_INIT;
	const char **pos = NULL;
	size_t npos, i, *who = NULL, w = 0;
	vl_node *n = NULL;
	vl_history_result res;
	const vl_audit_history *hp = &res.h;
	vl_buf out = VL_BUF_INIT, cell = VL_BUF_INIT;
	const vl_value *data;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs one record id");
	}
	ho.id = pos[0];
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	tz_node = n;
	if ((rc = vl_blame(n, &ho, &res)) < 0 || (reveal && (rc = log_reveal(n, "blame", hp)) < 0))
		goto fail;
	who = res.who;
	data = hp->v[hp->n - 1].rec->data;
	if (json && (rc = vl_buf_printf(&out, "{\"schema\":\"%s\",\"id\":\"%s\",\"scope\":\"%s\",\"revealed\":%s,"
			"\"fields\":[", hp->schema->name, hp->id, hp->scope, reveal ? "true" : "false")) < 0)
		goto fail;
	if (!json) {
		if ((rc = vl_buf_printf(&out, "%s %s %s  %zu version%s%s\n", hp->schema->label_zh ? hp->schema->label_zh : "",
				hp->schema->name, hp->id, hp->n, hp->n == 1 ? "" : "s",
				reveal ? "" : "  (personal fields masked; --reveal shows them)")) < 0)
			goto fail;
		for (i = 0; i < data->n; i++) {
			size_t lw = vl_text_width(field_label(hp->schema, data->keys[i])) + strlen(data->keys[i]) + 1;
			if (lw > w)
				w = lw;
		}
		fwrite(out.ptr, 1, out.len, stdout);
		vl_buf_clear(&out);
	}
	for (i = 0; i < data->n; i++) {
		const vl_audit_version *v = &hp->v[who[i]];
		const vl_roster_entry *e = signer_of(n, v->rec);
		const vl_audit_change *c = !strcmp(v->kind, "merge") ? change_of(v, data->keys[i]) : NULL;
		const char *rule = c && (c->how == VL_AUDIT_RULE || c->how == VL_AUDIT_PERSON) ? c->rule : NULL;
		char when[32] = "";
		if (v->have_commit)
			fmt_time(when, v->commit_time, 1);
		if (json) {
			if ((i && (rc = vl_buf_putc(&out, ',')) < 0) || (rc = vl_buf_puts(&out, "{\"field\":")) < 0 ||
					(rc = jstr(&out, data->keys[i])) < 0 || (rc = vl_buf_puts(&out, ",\"value\":")) < 0 ||
					(rc = value_json(&out, hp->schema, data->keys[i], data->items[i], reveal)) < 0 ||
					(rc = vl_buf_printf(&out, ",\"version\":%zu,\"blob\":\"%s\",\"kind\":\"%s\",\"clock\":\"%s\","
							"\"author\":", who[i] + 1, v->blob, v->kind, v->rec->clock)) < 0 ||
					(rc = jstr(&out, v->rec->author)) < 0 || (rc = vl_buf_puts(&out, ",\"author_name\":")) < 0 ||
					(rc = jstr(&out, e ? e->name : NULL)) < 0 || (rc = vl_buf_puts(&out, ",\"commit\":")) < 0 ||
					(rc = jstr(&out, v->have_commit ? v->commit : NULL)) < 0 ||
					(rc = vl_buf_puts(&out, ",\"commit_time\":")) < 0 ||
					(rc = jstr(&out, v->have_commit ? when : NULL)) < 0 || (rc = vl_buf_puts(&out, ",\"rule\":")) < 0 ||
					(rc = jstr(&out, rule)) < 0 || (rc = vl_buf_puts(&out, ",\"operator\":")) < 0 ||
					(rc = jstr(&out, v->operator_name)) < 0 || (rc = vl_buf_putc(&out, '}')) < 0)
				goto fail;
			continue;
		}
		vl_buf_clear(&cell);
		if ((rc = vl_buf_printf(&cell, "%s %s", field_label(hp->schema, data->keys[i]), data->keys[i])) < 0)
			goto fail;
		printf("  ");
		vl_print_padded(cell.ptr, w + 1);
		vl_buf_clear(&cell);
		if ((rc = value_text(&cell, hp->schema, data->keys[i], data->items[i], reveal)) < 0)
			goto fail;
		printf(" ");
		vl_print_padded(cell.ptr, 20);
		printf("  #%-3zu %-7s %s  %s%s%s  %.12s%s%s\n", who[i] + 1, v->kind, v->rec->clock,
				e ? e->name : strcmp(v->rec->author, VL_AUTHOR_MERGE) ? v->rec->author : "merge",
				v->operator_name ? ", operator " : "", v->operator_name ? v->operator_name : "",
				v->have_commit ? v->commit : "-", rule ? "  rule " : "", rule ? rule : "");
	}
	if (json) {
		if ((rc = vl_buf_puts(&out, "]}\n")) < 0)
			goto fail;
		fwrite(out.ptr, 1, out.len, stdout);
	}
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_history_result_free(&res);
	vl_buf_free(&out);
	vl_buf_free(&cell);
	tz_node = NULL;
	vl_node_close(n);
	free(pos);
	return exit_code;
}

/* ------------------------------------------------------------------------ */
/* vledger audit export                                                     */

typedef struct {
	const char *fp;
	size_t versions;
	const char *first, *last; /* clocks */
} signer_row;

typedef struct {
	char date[11];
	const char *ledger;
	size_t count;
} day_row;

typedef struct {
	vl_node *n;
	const vl_audit_version *v; /* the versions, in report order */
	size_t nv;
	const vl_audit_version **ord;
	const vl_verify_result *vr;
	const char *scope, *from, *to;
	int reveal;
	char generated[32];
	signer_row *signers;
	size_t nsigners;
	day_row *days;
	size_t ndays;
	size_t records, merges, deletions, recorded, resolved;
} report;

static int ord_cmp(const void *a, const void *b)
{
	const vl_audit_version *x = *(const vl_audit_version *const *)a, *y = *(const vl_audit_version *const *)b;
	int m;

	if ((m = strcmp(x->rec->scope, y->rec->scope)) != 0 || (m = strcmp(x->rec->schema, y->rec->schema)) != 0 ||
			(m = strcmp(x->rec->id, y->rec->id)) != 0)
		return m;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int day_cmp(const void *a, const void *b)
{
	const day_row *x = a, *y = b;
	int m = strcmp(x->date, y->date);

	return m ? m : strcmp(x->ledger, y->ledger);
}

static int signer_cmp(const void *a, const void *b)
{
	const signer_row *x = a, *y = b;

	return strcmp(x->fp, y->fp);
}

/* Totals, signers and per-day counts. */
static int report_tally(report *r)
{
	size_t i, j;

	if (r->nv && (!(r->ord = calloc(r->nv, sizeof(*r->ord))) || !(r->signers = calloc(r->nv, sizeof(*r->signers))) ||
			!(r->days = calloc(r->nv, sizeof(*r->days)))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < r->nv; i++)
		r->ord[i] = &r->v[i];
	if (r->nv > 1)
		qsort(r->ord, r->nv, sizeof(*r->ord), ord_cmp);
	for (i = 0; i < r->nv; i++) {
		const vl_audit_version *v = r->ord[i];
		if (i == 0 || strcmp(v->rec->id, r->ord[i - 1]->rec->id) != 0)
			r->records++;
		r->merges += !strcmp(v->kind, "merge");
		r->deletions += !strcmp(v->kind, "delete");
		for (j = 0; j < v->nconflicts; j++) {
			r->recorded += !v->conflicts[j].resolved;
			r->resolved += (size_t)v->conflicts[j].resolved;
		}
		if (strcmp(v->rec->author, VL_AUTHOR_MERGE) != 0) {
			for (j = 0; j < r->nsigners && strcmp(r->signers[j].fp, v->rec->author); j++)
				;
			if (j == r->nsigners)
				r->signers[r->nsigners++] = (signer_row){ v->rec->author, 0, v->rec->clock, v->rec->clock };
			r->signers[j].versions++;
			if (strcmp(v->rec->clock, r->signers[j].first) < 0)
				r->signers[j].first = v->rec->clock;
			if (strcmp(v->rec->clock, r->signers[j].last) > 0)
				r->signers[j].last = v->rec->clock;
		}
		for (j = 0; j < r->ndays && (strncmp(r->days[j].date, v->rec->clock, 10) ||
				strcmp(r->days[j].ledger, v->rec->schema)); j++)
			;
		if (j == r->ndays) {
			snprintf(r->days[j].date, sizeof(r->days[j].date), "%.10s", v->rec->clock);
			r->days[j].ledger = v->rec->schema;
			r->ndays++;
		}
		r->days[j].count++;
	}
	if (r->nsigners > 1)
		qsort(r->signers, r->nsigners, sizeof(*r->signers), signer_cmp);
	if (r->ndays > 1)
		qsort(r->days, r->ndays, sizeof(*r->days), day_cmp);
	return 0;
}

static int report_json(vl_buf *b, const report *r)
{
	const vl_node *n = r->n;
	const vl_verify_result *vr = r->vr;
	const char *p, *eol;
	size_t i, j, nd;
	int rc, first;

	if ((rc = vl_buf_printf(b, "{\"format\":\"vledger-audit\",\"format_version\":1,\"generated_at\":\"%s\","
			"\"network_id\":", r->generated)) < 0 || (rc = jstr(b, n->network_id)) < 0 ||
			(rc = vl_buf_puts(b, ",\"node\":{\"name\":")) < 0 || (rc = jstr(b, n->name)) < 0 ||
			(rc = vl_buf_puts(b, ",\"role\":")) < 0 || (rc = jstr(b, n->role)) < 0 ||
			(rc = vl_buf_printf(b, ",\"scope\":\"%s\",\"fingerprint\":\"%s\"},\"scope\":", n->scope, n->fp)) < 0 ||
			(rc = jstr(b, r->scope)) < 0 || (rc = vl_buf_puts(b, ",\"from\":")) < 0 || (rc = jstr(b, r->from)) < 0 ||
			(rc = vl_buf_puts(b, ",\"to\":")) < 0 || (rc = jstr(b, r->to)) < 0 ||
			(rc = vl_buf_printf(b, ",\"revealed\":%s,\n\"verification\":{\"ok\":%s,\"branches\":%zu,\"commits\":%zu,"
					"\"merges\":%zu,\"records\":%zu,\"failures\":%zu,\"report\":[", r->reveal ? "true" : "false",
					vr->failures ? "false" : "true", vr->branches, vr->commits, vr->merges, vr->records,
					vr->failures)) < 0)
		return rc;
	for (p = vr->report.ptr, first = 1; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if ((rc = vl_buf_puts(b, first ? "" : ",")) < 0 || (rc = vl_json_str(b, p, eol ? (size_t)(eol - p) : strlen(p))) < 0)
			return rc;
		first = 0;
		if (!eol)
			break;
	}
	if ((rc = vl_buf_printf(b, "]},\n\"summary\":{\"records\":%zu,\"versions\":%zu,\"signed\":%zu,\"merges\":%zu,"
			"\"deletions\":%zu,\"conflicts_recorded\":%zu,\"conflicts_resolved\":%zu},\n\"per_day\":[",
			r->records, r->nv, r->nv - r->merges, r->merges, r->deletions, r->recorded, r->resolved)) < 0)
		return rc;
	for (i = 0; i < r->ndays; i++)
		if ((rc = vl_buf_printf(b, "%s{\"date\":\"%s\",\"ledger\":\"%s\",\"changes\":%zu}", i ? "," : "",
				r->days[i].date, r->days[i].ledger, r->days[i].count)) < 0)
			return rc;
	if ((rc = vl_buf_puts(b, "],\n\"signers\":[")) < 0)
		return rc;
	for (i = 0; i < r->nsigners; i++) {
		const vl_roster_entry *e = vl_node_roster_find(n, r->signers[i].fp);
		if ((rc = vl_buf_puts(b, i ? ",{\"fingerprint\":" : "{\"fingerprint\":")) < 0 ||
				(rc = jstr(b, r->signers[i].fp)) < 0 || (rc = vl_buf_puts(b, ",\"name\":")) < 0 ||
				(rc = jstr(b, e ? e->name : NULL)) < 0 || (rc = vl_buf_puts(b, ",\"role\":")) < 0 ||
				(rc = jstr(b, e ? e->role : NULL)) < 0 || (rc = vl_buf_puts(b, ",\"scope\":")) < 0 ||
				(rc = jstr(b, e ? e->scope : NULL)) < 0 || (rc = vl_buf_puts(b, ",\"revoked_at\":")) < 0 ||
				(rc = jstr(b, e ? e->revoked_at : NULL)) < 0 ||
				(rc = vl_buf_printf(b, ",\"versions\":%zu,\"first_clock\":\"%s\",\"last_clock\":\"%s\"}",
						r->signers[i].versions, r->signers[i].first, r->signers[i].last)) < 0)
			return rc;
	}
	if ((rc = vl_buf_puts(b, "],\n\"merges\":[")) < 0)
		return rc;
	for (i = 0, first = 1; i < r->nv; i++) {
		const vl_audit_version *v = r->ord[i];
		if (strcmp(v->kind, "merge") != 0)
			continue;
		if ((rc = vl_buf_printf(b, "%s{\"schema\":\"%s\",\"id\":\"%s\",\"scope\":\"%s\",\"blob\":\"%s\",\"commit\":",
				first ? "" : ",\n", v->rec->schema, v->rec->id, v->rec->scope, v->blob)) < 0 ||
				(rc = jstr(b, v->have_commit ? v->commit : NULL)) < 0 ||
				(rc = vl_buf_puts(b, ",\"replay\":")) < 0 || (rc = jstr(b, replay_name(v->replay))) < 0 ||
				(rc = vl_buf_puts(b, ",\"decisions\":[")) < 0)
			return rc;
		first = 0;
		for (j = 0, nd = 0; j < v->nchanges; j++) {
			const vl_audit_change *c = &v->changes[j];
			if (c->how != VL_AUDIT_RULE && c->how != VL_AUDIT_PERSON)
				continue;
			if ((rc = vl_buf_puts(b, nd++ ? "," : "")) < 0 ||
					(rc = change_json(b, v->schema, c, 1, r->reveal)) < 0)
				return rc;
		}
		if ((rc = vl_buf_puts(b, "]}")) < 0)
			return rc;
	}
	if ((rc = vl_buf_puts(b, "],\n\"conflicts\":[")) < 0)
		return rc;
	for (i = 0, first = 1; i < r->nv; i++) {
		const vl_audit_version *v = r->ord[i];
		for (j = 0; j < v->nconflicts; j++) {
			const vl_audit_conflict *c = &v->conflicts[j];
			if ((rc = vl_buf_printf(b, "%s{\"schema\":\"%s\",\"id\":\"%s\",\"field\":", first ? "" : ",",
					v->rec->schema, v->rec->id)) < 0 || (rc = jstr(b, c->field)) < 0 ||
					(rc = vl_buf_printf(b, ",\"event\":\"%s\",\"blob\":\"%s\",\"clock\":\"%s\",\"commit\":",
							c->resolved ? "resolved" : "recorded", v->blob, v->rec->clock)) < 0 ||
					(rc = jstr(b, v->have_commit ? v->commit : NULL)) < 0 || (rc = vl_buf_putc(b, '}')) < 0)
				return rc;
			first = 0;
		}
	}
	if ((rc = vl_buf_puts(b, "],\n\"records\":[")) < 0)
		return rc;
	for (i = 0; i < r->nv; i++) {
		const vl_audit_version *v = r->ord[i];
		int start = i == 0 || strcmp(v->rec->id, r->ord[i - 1]->rec->id) != 0;
		if (start && (rc = vl_buf_printf(b, "%s{\"schema\":\"%s\",\"id\":\"%s\",\"scope\":\"%s\",\"versions\":[\n",
				i ? "]},\n" : "", v->rec->schema, v->rec->id, v->rec->scope)) < 0)
			return rc;
		if ((!start && (rc = vl_buf_puts(b, ",\n")) < 0) || (rc = version_json(b, n, v, -1, r->reveal)) < 0)
			return rc;
	}
	return vl_buf_puts(b, r->nv ? "]}]}\n" : "]}\n");
}

/* ---- HTML ---- */

static const char *const palette[] = { "#2f6db5", "#d9822b", "#3a9d5d", "#c23b3b", "#8a5cc2", "#5a8f9c",
				       "#b8860b", "#6b6b6b" };

static int html_chart(vl_buf *b, const report *r)
{
	const char *ledgers[64];
	size_t nl = 0, nd = 0, i, j, max = 1, tot;
	char dates[400][11];
	int rc, bw, gap, width, x, h = 160, top = 20, left = 40;

	for (i = 0; i < r->ndays; i++) {
		for (j = 0; j < nl && strcmp(ledgers[j], r->days[i].ledger); j++)
			;
		if (j == nl && nl < 64)
			ledgers[nl++] = r->days[i].ledger;
		if ((nd == 0 || strcmp(dates[nd - 1], r->days[i].date)) && nd < 400)
			snprintf(dates[nd++], 11, "%s", r->days[i].date);
	}
	if (!nd)
		return vl_buf_puts(b, "<p class=\"muted\">期间内没有变更 No changes in the period.</p>\n");
	for (i = 0; i < nd; i++) {
		for (tot = 0, j = 0; j < r->ndays; j++)
			if (!strcmp(r->days[j].date, dates[i]))
				tot += r->days[j].count;
		if (tot > max)
			max = tot;
	}
	bw = nd > 60 ? 6 : nd > 20 ? 14 : 28;
	gap = bw / 3 + 1;
	width = left + (int)nd * (bw + gap) + 20;
	if (width < 320)
		width = 320;
	if ((rc = vl_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
			"role=\"img\" aria-label=\"每日变更 changes per day\">\n"
			"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n"
			"<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%zu</text>\n"
			"<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">0</text>\n",
			width, top + h + 40, left - 2, top + h, width - 10, top + h, left - 6, top + 8, max,
			left - 6, top + h)) < 0)
		return rc;
	for (i = 0; i < nd; i++) {
		int y = top + h;
		x = left + (int)i * (bw + gap) + gap;
		for (j = 0; j < nl; j++) {
			size_t k, c = 0;
			int bh;
			for (k = 0; k < r->ndays; k++)
				if (!strcmp(r->days[k].date, dates[i]) && !strcmp(r->days[k].ledger, ledgers[j]))
					c = r->days[k].count;
			if (!c)
				continue;
			bh = (int)((double)c * h / (double)max + 0.5);
			if (bh < 1)
				bh = 1;
			y -= bh;
			if ((rc = vl_buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
					"<title>%s %s: %zu</title></rect>\n", x, y, bw, bh, palette[j % 8], dates[i],
					ledgers[j], c)) < 0)
				return rc;
		}
		if ((i % ((nd + 7) / 8) == 0 || i == nd - 1) &&
				(rc = vl_buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>\n",
						x + bw / 2, top + h + 14, dates[i] + 5)) < 0)
			return rc;
	}
	if ((rc = vl_buf_puts(b, "</svg>\n<p class=\"legend\">")) < 0)
		return rc;
	for (j = 0; j < nl; j++) {
		const vl_schema *s = vl_node_schema(r->n, ledgers[j]);
		if ((rc = vl_buf_printf(b, "<span><i style=\"background:%s\"></i>", palette[j % 8])) < 0 ||
				(rc = html_esc(b, s && s->label_zh ? s->label_zh : "")) < 0 ||
				(rc = vl_buf_printf(b, " %s</span> ", ledgers[j])) < 0)
			return rc;
	}
	if (nd == 400 && (rc = vl_buf_puts(b, " (first 400 days)")) < 0)
		return rc;
	return vl_buf_puts(b, "</p>\n");
}

static int html_signer(vl_buf *b, const vl_node *n, const vl_record *rec)
{
	const vl_roster_entry *e = signer_of(n, rec);
	int rc;

	if (!strcmp(rec->author, VL_AUTHOR_MERGE))
		return vl_buf_puts(b, "<span class=\"muted\">合并 merge</span>");
	if ((rc = html_esc(b, e ? e->name : "(不在名册 not on the roster)")) < 0)
		return rc;
	if (e && ((rc = vl_buf_puts(b, " <span class=\"muted\">")) < 0 || (rc = html_esc(b, e->role)) < 0 ||
			(rc = vl_buf_printf(b, " %s</span>", e->scope)) < 0))
		return rc;
	if ((rc = vl_buf_puts(b, "<br><code class=\"fp\">")) < 0 || (rc = html_esc(b, rec->author)) < 0)
		return rc;
	return vl_buf_puts(b, "</code>");
}

static int html_change(vl_buf *b, const vl_schema *s, const vl_audit_change *c, int merged, int reveal)
{
	int rc;

	if ((rc = vl_buf_printf(b, "<li class=\"c-%s\"><b>", vl_audit_how_name(c->how))) < 0 ||
			(rc = html_esc(b, field_label(s, c->field))) < 0 || (rc = vl_buf_putc(b, ' ')) < 0 ||
			(rc = html_esc(b, c->field)) < 0 || (rc = vl_buf_puts(b, "</b>: ")) < 0)
		return rc;
	if (strcmp(c->field, "_deleted") != 0 &&
			((rc = vl_buf_puts(b, "<span class=\"old\">")) < 0 || (rc = value_html(b, s, c->field, c->old, reveal)) < 0 ||
			 (rc = vl_buf_puts(b, "</span> → <span class=\"new\">")) < 0 ||
			 (rc = value_html(b, s, c->field, c->now, reveal)) < 0 || (rc = vl_buf_puts(b, "</span>")) < 0))
		return rc;
	if (merged) {
		if ((rc = vl_buf_printf(b, " <span class=\"tag\">%s</span>", how_zh(c->how))) < 0)
			return rc;
		if (c->rule && (rc = vl_buf_printf(b, " <span class=\"rule\">%s %s</span>", rule_zh(c->rule), c->rule)) < 0)
			return rc;
		if (c->why && ((rc = vl_buf_puts(b, " <span class=\"why\">")) < 0 || (rc = html_esc(b, c->why)) < 0 ||
				(rc = vl_buf_puts(b, "</span>")) < 0))
			return rc;
	}
	return vl_buf_puts(b, "</li>\n");
}

static int html_candidates(vl_buf *b, const vl_node *n, const vl_schema *s, const char *field,
		const vl_value *cands, int reveal)
{
	size_t i;
	int rc;

	if ((rc = vl_buf_puts(b, "<ol>")) < 0)
		return rc;
	for (i = 0; cands && cands->kind == VL_V_LIST && i < cands->n; i++) {
		const vl_value *c = cands->items[i], *author = vl_value_map_get(c, "author");
		const vl_roster_entry *e = author && author->kind == VL_V_STR ? vl_node_roster_find(n, author->s) : NULL;
		const char *clock = vl_value_text(vl_value_map_get(c, "clock"));
		if ((rc = vl_buf_puts(b, "<li>")) < 0 || (rc = value_html(b, s, field, vl_value_map_get(c, "value"), reveal)) < 0 ||
				(rc = vl_buf_puts(b, " <span class=\"muted\">")) < 0 ||
				(rc = html_esc(b, e ? e->name : vl_value_text(author) ? vl_value_text(author) : "?")) < 0 ||
				(rc = vl_buf_putc(b, ' ')) < 0 || (rc = html_esc(b, clock ? clock : "")) < 0 ||
				(rc = vl_buf_puts(b, "</span></li>")) < 0)
			return rc;
	}
	return vl_buf_puts(b, "</ol>");
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>台账审计报告 vledger audit report</title>\n<style>\n"
	"body{font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"Microsoft YaHei\",\"PingFang SC\",sans-serif;"
	"margin:2em auto;max-width:1200px;padding:0 1em;color:#222;line-height:1.45}\n"
	"h1{font-size:1.6em;border-bottom:3px solid #2f6db5;padding-bottom:.3em}\n"
	"h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}\n"
	"h3{font-size:1.05em;margin:1.5em 0 .4em}\n"
	"table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:.92em}\n"
	"th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}\n"
	"th{background:#eef3fa}\n"
	"table.meta{width:auto}table.meta th{width:11em}\n"
	"code,.fp{font-family:monospace;font-size:.88em;word-break:break-all}\n"
	".muted{color:#777}.ok{color:#1e7b34;font-weight:bold}.bad{color:#b00020;font-weight:bold}\n"
	".tag{background:#eee;border-radius:3px;padding:0 .3em;font-size:.85em}\n"
	".rule{background:#fff3d6;border-radius:3px;padding:0 .3em;font-size:.85em}\n"
	".why{color:#555;font-size:.85em}\n"
	"li.c-rule{background:#fff8e6}li.c-person{background:#fdecea}li.c-person>b{color:#b00020}\n"
	".clock{white-space:nowrap;font-size:.9em}\n"
	".old{color:#8a1f1f}.new{color:#1e5e2e}\n"
	"ul.changes{margin:0;padding-left:1.2em}ol{margin:0;padding-left:1.4em}\n"
	".legend span{margin-right:1em}.legend i{display:inline-block;width:.8em;height:.8em;margin-right:.3em}\n"
	"pre{white-space:pre-wrap;background:#fafafa;border:1px solid #ddd;padding:.5em}\n"
	"@media print{body{margin:0}h2{page-break-after:avoid}}\n"
	"</style>\n</head>\n<body>\n";

static int report_html(vl_buf *b, const report *r)
{
	const vl_node *n = r->n;
	const vl_verify_result *vr = r->vr;
	size_t i, j;
	int rc;

	if ((rc = vl_buf_puts(b, html_head)) < 0 ||
			(rc = vl_buf_puts(b, "<h1>台账审计报告 <span class=\"muted\">vledger audit report</span></h1>\n"
					"<table class=\"meta\">\n<tr><th>网络 Network</th><td><code>")) < 0 ||
			(rc = html_esc(b, n->network_id)) < 0 ||
			(rc = vl_buf_puts(b, "</code></td></tr>\n<tr><th>导出节点 Node</th><td>")) < 0 ||
			(rc = html_esc(b, n->name)) < 0 || (rc = vl_buf_putc(b, ' ')) < 0 || (rc = html_esc(b, n->role)) < 0 ||
			(rc = vl_buf_printf(b, " %s <code>", n->scope)) < 0 || (rc = html_esc(b, n->fp)) < 0 ||
			(rc = vl_buf_printf(b, "</code></td></tr>\n<tr><th>范围 Scope</th><td>%s</td></tr>\n"
					"<tr><th>期间 Period</th><td>%s — %s</td></tr>\n<tr><th>生成时间 Generated</th><td>%s</td></tr>\n"
					"<tr><th>个人信息 Personal data</th><td>%s</td></tr>\n</table>\n",
					r->scope ? r->scope : "全部 all", r->from ? r->from : "…", r->to ? r->to : "…", r->generated,
					r->reveal ? "<span class=\"bad\">已显示 revealed (--reveal)</span>" :
					"已遮盖 masked")) < 0)
		return rc;

	/* Verification */
	if ((rc = vl_buf_printf(b, "<h2 id=\"verify\">验证 Verification</h2>\n<p>%s</p>\n"
			"<table class=\"meta\"><tr><th>分支 Branches</th><td>%zu</td></tr><tr><th>提交 Commits</th><td>%zu</td></tr>"
			"<tr><th>合并重放 Merges replayed</th><td>%zu</td></tr><tr><th>记录 Records</th><td>%zu</td></tr>"
			"<tr><th>问题 Failures</th><td>%zu</td></tr></table>\n",
			vr->failures ? "<span class=\"bad\">验证未通过 verification FAILED</span>" :
			"<span class=\"ok\">验证通过 verified</span>: every signature, authorisation, record and merge replay checked",
			vr->branches, vr->commits, vr->merges, vr->records, vr->failures)) < 0)
		return rc;
	if (vr->failures && ((rc = vl_buf_puts(b, "<pre class=\"failures\">")) < 0 ||
			(rc = html_esc(b, vr->report.ptr)) < 0 || (rc = vl_buf_puts(b, "</pre>\n")) < 0))
		return rc;

	/* Summary and chart */
	if ((rc = vl_buf_printf(b, "<h2 id=\"summary\">概览 Summary</h2>\n<table class=\"meta\">"
			"<tr><th>变更记录 Records changed</th><td>%zu</td></tr><tr><th>版本 Versions</th><td>%zu</td></tr>"
			"<tr><th>签名版本 Signed</th><td>%zu</td></tr><tr><th>合并 Merges</th><td>%zu</td></tr>"
			"<tr><th>删除 Deletions</th><td>%zu</td></tr><tr><th>新冲突 Conflicts recorded</th><td>%zu</td></tr>"
			"<tr><th>已处理 Resolved</th><td>%zu</td></tr></table>\n<h2 id=\"chart\">每日变更 Changes per day</h2>\n",
			r->records, r->nv, r->nv - r->merges, r->merges, r->deletions, r->recorded, r->resolved)) < 0 ||
			(rc = html_chart(b, r)) < 0)
		return rc;

	/* Signers */
	if ((rc = vl_buf_puts(b, "<h2 id=\"signers\">签名人 Signers</h2>\n<table><tr><th>姓名 Name</th><th>角色 Role</th>"
			"<th>范围 Scope</th><th>指纹 Fingerprint</th><th>版本数 Versions</th><th>首次 First</th>"
			"<th>最近 Last</th><th>吊销 Revoked</th></tr>\n")) < 0)
		return rc;
	for (i = 0; i < r->nsigners; i++) {
		const vl_roster_entry *e = vl_node_roster_find(n, r->signers[i].fp);
		if ((rc = vl_buf_puts(b, "<tr><td>")) < 0 || (rc = html_esc(b, e ? e->name : "(不在名册 not on the roster)")) < 0 ||
				(rc = vl_buf_puts(b, "</td><td>")) < 0 || (rc = html_esc(b, e ? e->role : "")) < 0 ||
				(rc = vl_buf_puts(b, "</td><td>")) < 0 || (rc = html_esc(b, e ? e->scope : "")) < 0 ||
				(rc = vl_buf_puts(b, "</td><td><code class=\"fp\">")) < 0 || (rc = html_esc(b, r->signers[i].fp)) < 0 ||
				(rc = vl_buf_printf(b, "</code></td><td>%zu</td><td class=\"clock\">%s</td><td class=\"clock\">%s</td><td>",
						r->signers[i].versions,
						r->signers[i].first, r->signers[i].last)) < 0 ||
				(rc = html_esc(b, e && e->revoked_at ? e->revoked_at : "")) < 0 || (rc = vl_buf_puts(b, "</td></tr>\n")) < 0)
			return rc;
	}
	if ((rc = vl_buf_puts(b, "</table>\n")) < 0)
		return rc;

	/* Merge decisions */
	if ((rc = vl_buf_puts(b, "<h2 id=\"merges\">合并裁决 Merge decisions</h2>\n<p class=\"muted\">Fields both sides of a "
			"merge changed, and the rule of the ledger's schema that decided each (re-derived from the merge's base and "
			"two sides, and confirmed by replaying the merge).</p>\n<table><tr><th>记录 Record</th><th>合并 Merge</th>"
			"<th>字段 Field</th><th>规则 Rule</th><th>结果 Result</th><th>另一候选 Other candidate</th>"
			"<th>说明 How</th></tr>\n")) < 0)
		return rc;
	for (i = 0; i < r->nv; i++) {
		const vl_audit_version *v = r->ord[i];
		if (strcmp(v->kind, "merge") != 0)
			continue;
		for (j = 0; j < v->nchanges; j++) {
			const vl_audit_change *c = &v->changes[j];
			const char *which;
			const vl_value *other = other_candidate(c, &which);
			char when[32] = "";
			if (c->how != VL_AUDIT_RULE && c->how != VL_AUDIT_PERSON)
				continue;
			if (v->have_commit)
				fmt_time(when, v->commit_time, 0);
			if ((rc = vl_buf_printf(b, "<tr><td>%s <code>%s</code></td><td><code>%.12s</code><br>%s<br>replay %s</td><td>",
					v->rec->schema, v->rec->id, v->have_commit ? v->commit : "-", when,
					replay_name(v->replay))) < 0 ||
					(rc = html_esc(b, field_label(v->schema, c->field))) < 0 || (rc = vl_buf_putc(b, ' ')) < 0 ||
					(rc = html_esc(b, c->field)) < 0 || (rc = vl_buf_puts(b, "</td><td>")) < 0 ||
					(rc = html_esc(b, c->rule)) < 0 ||
					(rc = vl_buf_printf(b, " %s%s</td><td>", rule_zh(c->rule),
							c->how == VL_AUDIT_PERSON ? "<br><span class=\"bad\">待人工处理 left to a person</span>" : "")) < 0)
				return rc;
			if (strcmp(c->field, "_deleted") != 0) {
				if ((rc = value_html(b, v->schema, c->field, c->now, r->reveal)) < 0 ||
						(rc = vl_buf_puts(b, "</td><td>")) < 0)
					return rc;
				if (which)
					rc = vl_buf_printf(b, "%s: ", which) < 0 ? VL_ENOMEM :
						value_html(b, v->schema, c->field, other, r->reveal);
				else if ((rc = vl_buf_puts(b, "x: ")) == 0 && (rc = value_html(b, v->schema, c->field, c->x, r->reveal)) == 0 &&
						(rc = vl_buf_puts(b, "<br>y: ")) == 0)
					rc = value_html(b, v->schema, c->field, c->y, r->reveal);
			} else {
				rc = vl_buf_printf(b, "%s</td><td>conflicts[_deleted]", v->rec->deleted ? "已删除 deleted" : "保留 kept");
			}
			if (rc < 0 || (rc = vl_buf_puts(b, "</td><td class=\"why\">")) < 0 || (rc = html_esc(b, c->why)) < 0 ||
					(rc = vl_buf_puts(b, "</td></tr>\n")) < 0)
				return rc;
		}
	}
	if ((rc = vl_buf_puts(b, "</table>\n")) < 0)
		return rc;

	/* Conflicts */
	if ((rc = vl_buf_puts(b, "<h2 id=\"conflicts\">冲突与处理 Conflicts and resolutions</h2>\n<table><tr><th>记录 Record</th>"
			"<th>字段 Field</th><th>事件 Event</th><th>版本 Version</th><th>候选 / 处理结果 Candidates / value</th></tr>\n")) < 0)
		return rc;
	for (i = 0; i < r->nv; i++) {
		const vl_audit_version *v = r->ord[i];
		for (j = 0; j < v->nconflicts; j++) {
			const vl_audit_conflict *c = &v->conflicts[j];
			if ((rc = vl_buf_printf(b, "<tr><td>%s <code>%s</code></td><td>", v->rec->schema, v->rec->id)) < 0 ||
					(rc = html_esc(b, field_label(v->schema, c->field))) < 0 || (rc = vl_buf_putc(b, ' ')) < 0 ||
					(rc = html_esc(b, c->field)) < 0 ||
					(rc = vl_buf_printf(b, "</td><td>%s</td><td>%s <span class=\"clock\">%s</span><br><code>%.12s</code> ",
							c->resolved ? "已处理 resolved" : "<span class=\"bad\">记录冲突 recorded</span>",
							v->kind, v->rec->clock, v->have_commit ? v->commit : "-")) < 0 ||
					(rc = html_signer(b, n, v->rec)) < 0 || (rc = vl_buf_puts(b, "</td><td>")) < 0)
				return rc;
			if (c->resolved)
				rc = strcmp(c->field, "_deleted") ? value_html(b, v->schema, c->field, c->value, r->reveal) :
					vl_buf_puts(b, v->rec->deleted ? "已删除 deleted" : "保留 kept");
			else
				rc = html_candidates(b, n, v->schema, c->field, c->candidates, r->reveal);
			if (rc < 0 || (rc = vl_buf_puts(b, "</td></tr>\n")) < 0)
				return rc;
		}
	}
	if ((rc = vl_buf_puts(b, "</table>\n")) < 0)
		return rc;

	/* Per record */
	if ((rc = vl_buf_puts(b, "<h2 id=\"records\">记录变更 Record changes</h2>\n")) < 0)
		return rc;
	for (i = 0; i < r->nv; i++) {
		const vl_audit_version *v = r->ord[i];
		int start = i == 0 || strcmp(v->rec->id, r->ord[i - 1]->rec->id) != 0;
		char when[32] = "";
		if (start) {
			if ((i && (rc = vl_buf_puts(b, "</table>\n</section>\n")) < 0) ||
					(rc = vl_buf_printf(b, "<section class=\"record\">\n<h3>")) < 0 ||
					(rc = html_esc(b, v->schema->label_zh ? v->schema->label_zh : "")) < 0 ||
					(rc = vl_buf_printf(b, " %s <code>%s</code> <span class=\"muted\">scope %s</span></h3>\n"
							"<table><tr><th>版本 Version</th><th>签名人 Signer</th><th>提交 Commit</th>"
							"<th>变更 Changes</th></tr>\n", v->rec->schema, v->rec->id, v->rec->scope)) < 0)
				return rc;
		}
		if (v->have_commit)
			fmt_time(when, v->commit_time, 0);
		if ((rc = vl_buf_printf(b, "<tr><td>%s %s<br><span class=\"clock\">%s</span><br><code>%.12s</code>%s%s</td><td>",
				kind_zh(v->kind), v->kind,
				v->rec->clock, v->blob, v->sig_ok == 0 ? "<br><span class=\"bad\">签名无效 bad signature</span>" : "",
				v->replay == 0 ? "<br><span class=\"bad\">重放不一致 replay differs</span>" : "")) < 0 ||
				(rc = html_signer(b, n, v->rec)) < 0 ||
				(rc = vl_buf_printf(b, "</td><td><code>%.12s</code><br>%s<br>", v->have_commit ? v->commit : "-", when)) < 0 ||
				(rc = html_esc(b, v->summary ? v->summary : "")) < 0)
			return rc;
		if (v->operator_name && ((rc = vl_buf_puts(b, "<br>操作员 operator: ")) < 0 ||
				(rc = html_esc(b, v->operator_name)) < 0))
			return rc;
		if (v->reason && ((rc = vl_buf_puts(b, "<br>原因 reason: ")) < 0 || (rc = html_esc(b, v->reason)) < 0))
			return rc;
		if ((rc = vl_buf_puts(b, "</td><td>")) < 0)
			return rc;
		if (v->joined[0] && (rc = vl_buf_printf(b, "<p>合并了记录 joined record <code>%s</code></p>", v->joined)) < 0)
			return rc;
		if ((rc = vl_buf_puts(b, "<ul class=\"changes\">\n")) < 0)
			return rc;
		for (j = 0; j < v->nchanges; j++)
			if ((rc = html_change(b, v->schema, &v->changes[j], !strcmp(v->kind, "merge"), r->reveal)) < 0)
				return rc;
		if ((rc = vl_buf_puts(b, "</ul></td></tr>\n")) < 0)
			return rc;
	}
	if (r->nv && (rc = vl_buf_puts(b, "</table>\n</section>\n")) < 0)
		return rc;
	if (!r->nv && (rc = vl_buf_puts(b, "<p class=\"muted\">期间内没有变更 No changes in the period.</p>\n")) < 0)
		return rc;
	return vl_buf_printf(b, "<footer><p class=\"muted\">%s 个人信息字段%s。Generated by vledger from signed records; "
			"every value above can be checked against its blob id with git and ssh-keygen.</p></footer>\n"
			"</body>\n</html>\n", r->generated, r->reveal ? "已显示 (revealed)" : "已遮盖 (masked)");
}

int vl_cmd_audit_export(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *format = NULL, *output = NULL;
	vl_audit_export_opts ao = VL_AUDIT_EXPORT_OPTS_INIT;
	int reveal = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = {
		{ "--format", 1, &format, NULL, NULL }, { "--scope", 1, &ao.scope, NULL, NULL },
		{ "--from", 1, &ao.from, NULL, NULL }, { "--to", 1, &ao.to, NULL, NULL },
		{ "--output", 1, &output, NULL, NULL }, { "--reveal", 0, NULL, &reveal, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	vl_node *n = NULL;
	vl_audit_export_result res;
	const vl_verify_result *vr = &res.verify;
	report r;
	vl_buf out = VL_BUF_INIT;
	int html;

	memset(&res, 0, sizeof(res));
	memset(&r, 0, sizeof(r));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (!format || (strcmp(format, "html") && strcmp(format, "json")))
		return vl_cli_usage(cmd, "needs --format html or --format json");
	html = !strcmp(format, "html");
	if (ao.scope && vl_division_level(ao.scope) == VL_DIV_INVALID)
		return vl_cli_usage(cmd, "--scope takes a 12-digit division code, got '%.20s'", ao.scope);
	if ((ao.from && !vl_date_valid(ao.from)) || (ao.to && !vl_date_valid(ao.to)))
		return vl_cli_usage(cmd, "--from and --to take dates YYYY-MM-DD (UTC)");
	if (ao.from && ao.to && strcmp(ao.from, ao.to) > 0)
		return vl_cli_usage(cmd, "--from %s is after --to %s", ao.from, ao.to);
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	tz_node = n;
	if ((rc = vl_audit_export(n, &ao, &res)) < 0)
		goto fail;
	if (reveal) {
		/* Every version of the report is shown: the count, not the ids. */
		vl_reveal_entry e = { "audit export", NULL, ao.scope, NULL, 0, res.nv };
		if ((rc = vl_reveal_log(n, &e)) < 0)
			goto fail;
	}
	r.n = n;
	r.v = res.v;
	r.nv = res.nv;
	r.vr = vr;
	r.scope = ao.scope;
	r.from = ao.from;
	r.to = ao.to;
	r.reveal = reveal;
	fmt_time(r.generated, res.generated, 1);
	if ((rc = report_tally(&r)) < 0 || (rc = html ? report_html(&out, &r) : report_json(&out, &r)) < 0)
		goto fail;
	if (output) {
		/* A revealed report holds personal data: readable by its owner only. */
		if ((rc = vl_buf_write_file(output, out.ptr, out.len, reveal ? 0600 : 0644)) < 0)
			goto fail;
		fprintf(stderr, "wrote %s: %zu version%s of %zu record%s; verification %s\n", output, r.nv,
				r.nv == 1 ? "" : "s", r.records, r.records == 1 ? "" : "s",
				vr->failures ? "FAILED (see the report)" : "ok");
	} else {
		fwrite(out.ptr, 1, out.len, stdout);
	}
	if (vr->failures) {
		fprintf(stderr, "vledger: verification found %zu failure%s; the report lists them\n", vr->failures,
				vr->failures == 1 ? "" : "s");
		exit_code = VL_EXIT_VERIFY;
	} else {
		exit_code = VL_EXIT_OK;
	}
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	free(r.ord);
	free(r.signers);
	free(r.days);
	vl_audit_export_result_free(&res);
	vl_buf_free(&out);
	tz_node = NULL;
	vl_node_close(n);
	return exit_code;
}
