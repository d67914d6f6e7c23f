/*
 * audit.c - record history, field diffs and merge rule attribution (see
 * audit.h).
 *
 * Decisions:
 * - A version is dated by its commit only for display; the hash chain, not
 *   the branch, says which versions a record has. The branch walk only
 *   names the commit that brought each version (the first, oldest first,
 *   whose tree holds it at the record's path).
 * - A merged version is explained by replaying its merge with this node's
 *   hooks and reading the decision trace vl_merge_record returns: nothing
 *   here re-derives a rule. `replay` says whether the replay gives the
 *   stored bytes. A field is explained by its trace entry only when the
 *   entry's result is the stored value and the entry's "left to a person"
 *   agrees with the record (a new conflicts entry naming the merge's two
 *   sides); otherwise it is shown as merged with a why saying that this
 *   node's replay decides differently (typically a hook not installed
 *   here), never with an explanation the replay did not give.
 * - An unreadable or unparseable version met while collecting a report is
 *   skipped, not fatal: the report's verification section names it.
 */
#include "agent/audit/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/node/ledger.h"
#include "agent/node/tz.h"
#include "hooks/merge.h"
#include "store/repo.h"
#include "agent/sync/treemerge.h"
#include "schemas/types.h"
#include "store/yaml.h"

#define CONFLICT_DELETED "_deleted"

static int oom(void)
{
	return vl_error_set(VL_ENOMEM, "out of memory");
}

const char *vl_audit_how_name(vl_audit_how how)
{
	switch (how) {
	case VL_AUDIT_SET: return "set";
	case VL_AUDIT_ONE_SIDE: return "one_side";
	case VL_AUDIT_SAME: return "same";
	case VL_AUDIT_RULE: return "rule";
	case VL_AUDIT_PERSON: return "person";
	}
	return "?";
}

void vl_audit_version_free(vl_audit_version *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->nchanges; i++)
		free(v->changes[i].why);
	free(v->changes);
	free(v->conflicts);
	vl_record_free(v->rec);
	vl_record_free(v->prev[0]);
	vl_record_free(v->prev[1]);
	vl_record_free(v->base_rec);
	free(v->commit_name);
	free(v->summary);
	free(v->reason);
	free(v->operator_name);
	memset(v, 0, sizeof(*v));
}

/* ------------------------------------------------------------------------ */
/* Reading versions                                                         */

/* Load and parse record blob `hex`. VL_ENOTFOUND if the repository lacks
 * it; the size cap is checked from the object header first. */
static int load_blob(vl_record **out, git_repository *repo, const char *hex)
{
	vl_buf raw = VL_BUF_INIT;
	git_oid id;
	int rc;

	*out = NULL;
	if (git_oid_fromstr(&id, hex) < 0)
		return vl_error_set(VL_EINVALID, "'%.40s' is not a blob id", hex);
	if ((rc = vl_repo_read_blob(&raw, repo, &id, VL_RECORD_MAX_BYTES, "version")) == 0)
		rc = vl_record_parse(out, raw.ptr, raw.len, hex);
	vl_buf_free(&raw);
	return rc;
}

/* v = version `hex`: record, schema, signature check. */
static int version_load(vl_audit_version *v, vl_node *n, const char *hex)
{
	vl_buf raw = VL_BUF_INIT;
	int rc;

	memset(v, 0, sizeof(*v));
	snprintf(v->blob, sizeof(v->blob), "%s", hex);
	v->replay = -1;
	v->base_how = "none";
	v->kind = "edit";
	if ((rc = load_blob(&v->rec, n->repo, hex)) < 0)
		return rc;
	if (!(v->schema = vl_node_schema(n, v->rec->schema)))
		return vl_error_set(VL_EINVALID, "version %.12s belongs to ledger '%s', which has no schema",
				hex, v->rec->schema);
	if (!strcmp(v->rec->author, VL_AUTHOR_MERGE)) {
		v->sig_ok = -1;
	} else {
		/* The signed bytes are the canonical emission up to `sig:`. */
		if ((rc = vl_record_emit(&raw, v->rec, 1)) < 0)
			return rc;
		v->sig_ok = vl_record_verify(v->rec, raw.ptr, raw.len, NULL) == 0;
		vl_buf_free(&raw);
	}
	return 0;
}

/* What a version shows of the commit that brought it. */
typedef struct {
	char id[VL_OID_HEX + 1];
	long long time;
	char *name, *summary, *reason, *operator_name;
} commit_info;

static void commit_info_free(commit_info *ci)
{
	free(ci->name);
	free(ci->summary);
	free(ci->reason);
	free(ci->operator_name);
	memset(ci, 0, sizeof(*ci));
}

static int commit_info_load(commit_info *ci, git_repository *repo, const git_oid *commit)
{
	git_commit *c = NULL;
	vl_buf reason = VL_BUF_INIT;
	const git_signature *who;
	int rc;

	commit_info_free(ci);
	if ((rc = git_commit_lookup(&c, repo, commit)) < 0)
		return vl_error_git(rc, "cannot read a commit");
	who = git_commit_committer(c);
	git_oid_tostr(ci->id, sizeof(ci->id), commit);
	ci->time = (long long)who->when.time;
	ci->name = strdup(who->name ? who->name : "");
	ci->summary = strdup(git_commit_summary(c) ? git_commit_summary(c) : "");
	rc = 0;
	if (!ci->name || !ci->summary)
		rc = oom();
	else if ((rc = vl_message_trailer(&reason, git_commit_message(c), "Vledger-Reason")) == 0 &&
			!(ci->reason = vl_buf_detach(&reason, NULL)))
		rc = oom();
	else if (rc == VL_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = vl_message_operator(&ci->operator_name, git_commit_message(c));
	vl_buf_free(&reason);
	git_commit_free(c);
	return rc;
}

static int version_commit(vl_audit_version *v, const commit_info *ci, size_t seq)
{
	v->have_commit = 1;
	v->seq = seq;
	memcpy(v->commit, ci->id, sizeof(v->commit));
	v->commit_time = ci->time;
	if (!(v->commit_name = strdup(ci->name)) || !(v->summary = strdup(ci->summary)) ||
			(ci->reason && !(v->reason = strdup(ci->reason))) ||
			(ci->operator_name && !(v->operator_name = strdup(ci->operator_name))))
		return oom();
	return 0;
}

static int same_record(const vl_record *a, const vl_record *b)
{
	return a && b && !strcmp(a->id, b->id) && !strcmp(a->schema, b->schema) && !strcmp(a->scope, b->scope);
}

/* ------------------------------------------------------------------------ */
/* Values for people                                                        */

int vl_audit_mask_value(vl_value **out, const vl_schema *s, const char *field, const vl_value *v)
{
	vl_value *tmp = NULL, *masked = NULL;
	int rc;

	*out = NULL;
	if (!v)
		return 0;
	if (!strcmp(field, CONFLICT_DELETED) && v->kind == VL_V_MAP)
		return vl_schema_mask(out, s, v);
	if (!(tmp = vl_value_new(VL_V_MAP)))
		return oom();
	if ((rc = vl_value_map_set(tmp, field, vl_value_clone(v))) < 0 ||
			(rc = vl_schema_mask(&masked, s, tmp)) < 0)
		goto out;
	if (masked->n != 1 || !(*out = vl_value_clone(masked->items[0])))
		rc = oom();
out:
	vl_value_free(tmp);
	vl_value_free(masked);
	return rc;
}

int vl_audit_value_text(vl_buf *out, const vl_field *f, const vl_value *v, int tz_min)
{
	size_t i;
	int rc;

	if (!v)
		return vl_buf_puts(out, "-");
	if (f && f->nopts && v->kind == VL_V_STR && vl_field_enum_label(f, v->s))
		return vl_buf_printf(out, "%s (%s)", vl_field_enum_label(f, v->s), v->s);
	if (f && f->nopts && v->kind == VL_V_LIST) {
		for (i = 0; i < v->n; i++) {
			const char *l = v->items[i]->kind == VL_V_STR ? vl_field_enum_label(f, v->items[i]->s) : NULL;
			if ((rc = vl_buf_puts(out, i ? "、" : "")) < 0 ||
					(rc = l ? vl_buf_puts(out, l) : vl_json_emit(out, v->items[i], 0)) < 0)
				return rc;
		}
		return v->n ? 0 : vl_buf_puts(out, "[]");
	}
	if (f && f->type == VL_T_DATETIME && v->kind == VL_V_STR)
		return vl_time_show(out, v->s, tz_min);
	if (v->kind != VL_V_LIST && v->kind != VL_V_MAP)
		return vl_buf_puts(out, v->s);
	return vl_json_emit(out, v, 0);
}

/* ------------------------------------------------------------------------ */
/* Describing a version                                                     */

static vl_audit_change *push_change(vl_audit_version *v, const char *field)
{
	vl_audit_change *nc = realloc(v->changes, (v->nchanges + 1) * sizeof(*nc));

	if (!nc)
		return NULL;
	v->changes = nc;
	memset(&nc[v->nchanges], 0, sizeof(*nc));
	nc[v->nchanges].field = field;
	nc[v->nchanges].side = -1;
	return &nc[v->nchanges++];
}

static int push_conflict(vl_audit_version *v, const char *field, int resolved, const vl_value *cands,
		const vl_value *value)
{
	vl_audit_conflict *nc = realloc(v->conflicts, (v->nconflicts + 1) * sizeof(*nc));

	if (!nc)
		return oom();
	v->conflicts = nc;
	nc[v->nconflicts] = (vl_audit_conflict){ field, resolved, cands, value };
	v->nconflicts++;
	return 0;
}

/* Fields whose value differs from p's (p NULL: a new record). */
static int diff_signed(vl_audit_version *v, const vl_record *p)
{
	const vl_schema *s = v->schema;
	size_t i;

	for (i = 0; i < s->nfields; i++) {
		const char *name = s->fields[i].name;
		const vl_value *old = p ? vl_value_map_get(p->data, name) : NULL;
		const vl_value *now = vl_value_map_get(v->rec->data, name);
		vl_audit_change *c;

		if (vl_value_equal(old, now))
			continue;
		if (!(c = push_change(v, name)))
			return oom();
		c->old = old;
		c->now = now;
	}
	return 0;
}

/* Does a conflicts entry list a candidate from blob a or b? */
static int conflict_from(const vl_value *entry, const char *a, const char *b)
{
	size_t i;

	for (i = 0; entry && entry->kind == VL_V_LIST && i < entry->n; i++) {
		const vl_value *from = vl_value_map_get(entry->items[i], "from");
		if (from && from->kind == VL_V_STR && (!strcmp(from->s, a) || !strcmp(from->s, b)))
			return 1;
	}
	return 0;
}

static int clock_cmp(const char *a, const char *b)
{
	vl_hlc ha, hb;
	int m;

	if (vl_hlc_parse(&ha, a) == 0 && vl_hlc_parse(&hb, b) == 0)
		return vl_hlc_cmp(&ha, &hb);
	m = strcmp(a, b);
	return (m > 0) - (m < 0);
}

/* Who wrote a side, for explanations: roster name, or the fingerprint. */
static const char *who_name(const vl_node *n, const vl_record *r)
{
	const vl_roster_entry *e = vl_node_roster_find(n, r->author);

	return e ? e->name : r->author;
}

static const char *side_name(int side)
{
	return side == 0 ? "x" : side == 1 ? "y" : "neither side";
}

/* The rule as the schema writes it: "hook:NAME" for a hook. */
static const char *rule_text(const vl_field *f)
{
	return f->rule == VL_RULE_HOOK && f->merge ? f->merge : vl_merge_rule_name(f->rule);
}

/* How the merge decided a field both sides changed, from its trace entry;
 * one line into out. */
static int explain_rule(vl_buf *out, const vl_node *n, const vl_field *f, const vl_merge_trace *t,
		const vl_merge_trace_field *e, const vl_record *x, const vl_record *y)
{
	int lww_side = t->y_later ? 1 : 0;
	const vl_record *lw = t->y_later ? y : x;
	const char *rule = rule_text(f);
	int append = f->rule == VL_RULE_APPEND;
	int rc = 0;

	if (e->how != VL_HOW_PERSON) {
		switch (e->why) {
		case VL_WHY_BY_ITEM:
			return vl_buf_printf(out, "item by item, matched by '%s'%s", f->item_key,
					append ? "; log items either side added are kept" :
					"; an item both changed: the later clock");
		case VL_WHY_CLOCK_TIE:
			return vl_buf_printf(out, "equal clocks: the larger author fingerprint wins: %s (%s)",
					side_name(lww_side), who_name(n, lw));
		case VL_WHY_LATER_CLOCK:
			return vl_buf_printf(out, "the later clock wins: %s (%s, %s)", side_name(lww_side),
					lw->clock, who_name(n, lw));
		case VL_WHY_EQUAL_VALUES:
			return vl_buf_printf(out, "equal values written differently: the later clock's, %s (%s)",
					side_name(lww_side), who_name(n, lw));
		case VL_WHY_TERMINAL:
			return vl_buf_printf(out, "a terminal state beats a non-terminal one: %s", side_name(e->side));
		case VL_WHY_LATER_STATE:
			return vl_buf_printf(out, "the later state in the declared order wins: %s",
					side_name(e->side));
		default:
			break;
		}
		switch (f->rule) {
		case VL_RULE_MAX:
		case VL_RULE_MIN:
			return vl_buf_printf(out, "the %s value wins: %s", f->rule == VL_RULE_MAX ? "larger" :
					"smaller", side_name(e->side));
		case VL_RULE_SUM:
			if (f->pii)
				return vl_buf_puts(out, "base + both sides' changes");
			return vl_buf_printf(out, "base + both sides' changes: %s + (%s - %s) + (%s - %s) = %s",
					e->base ? e->base->s : "0", e->x ? e->x->s : "0", e->base ? e->base->s : "0",
					e->y ? e->y->s : "0", e->base ? e->base->s : "0", e->result ? e->result->s : "0");
		case VL_RULE_UNION:
			return vl_buf_puts(out, "three-way set merge: items either side added are kept, "
					"items either side removed are gone");
		case VL_RULE_APPEND:
			return vl_buf_puts(out, "log merge: entries either side added are kept, ordered by date");
		case VL_RULE_HOOK:
			return vl_buf_printf(out, "hook '%s' (pinned by sha256) computed the value", f->hook);
		default:
			return vl_buf_printf(out, "rule '%s'", rule);
		}
	}
	switch (e->why) {
	case VL_WHY_RULE_PERSON:
		rc = vl_buf_puts(out, f->rule == VL_RULE_KEEP ? "may not change after creation" :
				"a person decides this field");
		break;
	case VL_WHY_HOOK_DECLINED:
		rc = vl_buf_printf(out, "hook '%s' did not decide (not installed here, its sha256 differs "
				"from the pin, or it declined)", f->hook);
		break;
	case VL_WHY_NO_HOOKS:
		rc = vl_buf_printf(out, "hook '%s' was not run (no hooks directory)", f->hook);
		break;
	case VL_WHY_ITEM_CONFLICT:
		rc = vl_buf_printf(out, "item by item, matched by '%s': an item was removed on one side and "
				"changed on the other%s", f->item_key, append ? ", or both edited one log item" : "");
		break;
	case VL_WHY_FIELD_REMOVED:
		rc = vl_buf_puts(out, "one side removed the field: nothing to compare");
		break;
	case VL_WHY_NOT_COMPARABLE:
		rc = vl_buf_printf(out, "rule '%s': the two values do not compare", rule);
		break;
	case VL_WHY_TWO_TERMINALS:
		rc = vl_buf_puts(out, "two different terminal states");
		break;
	case VL_WHY_UNKNOWN_STATE:
		rc = vl_buf_puts(out, "a state the declared order does not place");
		break;
	case VL_WHY_OVERFLOW:
		rc = vl_buf_puts(out, "the sum is too large to add exactly");
		break;
	case VL_WHY_BROKE_SCHEMA:
		rc = vl_buf_printf(out, "rule '%s' computed a value that breaks the schema", rule);
		break;
	default:
		rc = vl_buf_printf(out, "rule '%s' could not decide", rule);
		break;
	}
	if (rc == 0)
		rc = vl_buf_printf(out, "; left to a person (vledger conflicts); provisional value: "
				"the later clock, %s (%s)", side_name(lww_side), who_name(n, lw));
	return rc;
}

static int set_why(vl_audit_change *c, vl_buf *b)
{
	if (!(c->why = vl_buf_detach(b, NULL)))
		return oom();
	return 0;
}

/* Record `id` at `path` in commit `commit`: its blob id in hex; VL_ENOTFOUND if absent. */
static int blob_at(char hex[VL_OID_HEX + 1], git_repository *repo, const git_oid *commit, const char *path)
{
	git_oid blob;
	int rc = vl_repo_read(NULL, &blob, repo, NULL, commit, path, VL_RECORD_MAX_BYTES);

	if (rc < 0)
		return rc;
	git_oid_tostr(hex, VL_OID_HEX + 1, &blob);
	return 0;
}

/* The merge base commit of a and b as treemerge.c builds it: the one base,
 * or the bases folded in id order into a virtual one. *found = 0 when the
 * histories are unrelated. */
static int base_commit(git_oid *out, int *found, int *virt, vl_node *n, const char *scope,
		const git_oid *a, const git_oid *b)
{
	git_oidarray bases = { NULL, 0 };
	git_oid *sorted = NULL;
	size_t i, j;
	int rc, kind;

	*found = *virt = 0;
	rc = git_merge_bases(&bases, n->repo, a, b);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return vl_error_git(rc, "cannot find the merge base");
	if (!(sorted = malloc(bases.count * sizeof(*sorted)))) {
		rc = oom();
		goto out;
	}
	memcpy(sorted, bases.ids, bases.count * sizeof(*sorted));
	for (i = 1; i < bases.count; i++)
		for (j = i; j > 0 && git_oid_cmp(&sorted[j - 1], &sorted[j]) > 0; j--) {
			git_oid t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	git_oid_cpy(out, &sorted[0]);
	for (i = 1; i < bases.count; i++)
		if ((rc = vl_merge_heads(out, &kind, n, scope, out, &sorted[i], NULL)) < 0)
			goto out;
	*found = 1;
	*virt = bases.count > 1;
	rc = 0;
out:
	free(sorted);
	git_oidarray_dispose(&bases);
	return rc;
}

/* Versions of one record reached from `start` through prev (same record
 * only), breadth first, start included. */
typedef struct {
	char (*ids)[VL_OID_HEX + 1];
	size_t n, cap;
} hexlist;

static int hexlist_has(const hexlist *l, const char *hex)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->ids[i], hex))
			return 1;
	return 0;
}

static int hexlist_add(hexlist *l, const char *hex)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		char (*ni)[VL_OID_HEX + 1];
		if (ncap > VL_AUDIT_MAX_VERSIONS)
			return vl_error_set(VL_ETOOBIG, "a record chain longer than %d versions", VL_AUDIT_MAX_VERSIONS);
		if (!(ni = realloc(l->ids, ncap * sizeof(*ni))))
			return oom();
		l->ids = ni;
		l->cap = ncap;
	}
	snprintf(l->ids[l->n++], VL_OID_HEX + 1, "%s", hex);
	return 0;
}

static int chain_ancestors(hexlist *out, vl_node *n, const char *start, const vl_record *self)
{
	vl_record *r = NULL;
	size_t i, k;
	int rc;

	if ((rc = hexlist_add(out, start)) < 0)
		return rc;
	for (i = 0; i < out->n; i++) {
		rc = load_blob(&r, n->repo, out->ids[i]);
		if (rc == VL_ENOTFOUND)
			continue;
		if (rc < 0)
			return rc;
		for (k = 0; same_record(r, self) && k < r->nprev; k++)
			if (!hexlist_has(out, r->prev[k]) && (rc = hexlist_add(out, r->prev[k])) < 0)
				break;
		vl_record_free(r);
		r = NULL;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The merge base of the last merge commit seen: every record one merge
 * commit merged shares it (a virtual base is costly to fold again). */
typedef struct {
	int valid, found, virt;
	git_oid merge, base;
} base_cache;

/* The base of merged version v: from its merge commit when known, else the
 * nearest common version of both sides in the record's chain. */
static int find_base(vl_audit_version *v, vl_node *n, base_cache *bc)
{
	const vl_record *r = v->rec;
	git_commit *c = NULL;
	vl_buf path = VL_BUF_INIT;
	hexlist ax = { NULL, 0, 0 }, ay = { NULL, 0, 0 };
	char h0[VL_OID_HEX + 1] = "", h1[VL_OID_HEX + 1] = "";
	git_oid id, base;
	size_t i;
	int rc = 0, found, virt, have = 0;

	if ((rc = vl_record_path(&path, r->schema, r->id)) < 0)
		goto out;
	if (v->have_commit) {
		if (git_oid_fromstr(&id, v->commit) < 0) {
			rc = vl_error_set(VL_EINVALID, "'%s' is not a commit id", v->commit);
			goto out;
		}
		if ((rc = git_commit_lookup(&c, n->repo, &id)) < 0) {
			rc = vl_error_git(rc, "cannot read a merge commit");
			goto out;
		}
		if (git_commit_parentcount(c) == 2 &&
				blob_at(h0, n->repo, git_commit_parent_id(c, 0), path.ptr) == 0 &&
				blob_at(h1, n->repo, git_commit_parent_id(c, 1), path.ptr) == 0 &&
				((!strcmp(h0, r->prev[0]) && !strcmp(h1, r->prev[1])) ||
				 (!strcmp(h0, r->prev[1]) && !strcmp(h1, r->prev[0])))) {
			if (bc->valid && git_oid_equal(&bc->merge, &id)) {
				git_oid_cpy(&base, &bc->base);
				found = bc->found;
				virt = bc->virt;
			} else {
				rc = base_commit(&base, &found, &virt, n, r->scope, git_commit_parent_id(c, 0),
						git_commit_parent_id(c, 1));
				if (rc == VL_ENOMEM)
					goto out;
				if (rc < 0) /* a virtual base could not be built (a read-only copy): the chain */
					goto chain;
				*bc = (base_cache){ 1, found, virt, id, base };
			}
			v->base_how = virt ? "virtual" : "commit";
			rc = found ? blob_at(v->base, n->repo, &base, path.ptr) : VL_ENOTFOUND;
			if (rc < 0 && rc != VL_ENOTFOUND)
				goto out;
			have = rc == 0;
			rc = 0;
			goto load;
		}
	}
chain:
	/* The record's own chain: the first version y descends from (breadth
	 * first, nearest first) that x descends from too. */
	v->base_how = "chain";
	rc = 0;
	if ((rc = chain_ancestors(&ax, n, r->prev[0], r)) < 0 ||
			(rc = chain_ancestors(&ay, n, r->prev[1], r)) < 0)
		goto out;
	for (i = 0; i < ay.n && !have; i++) {
		if (hexlist_has(&ax, ay.ids[i])) {
			snprintf(v->base, sizeof(v->base), "%s", ay.ids[i]);
			have = 1;
		}
	}
load:
	if (have) {
		rc = load_blob(&v->base_rec, n->repo, v->base);
		if (rc == VL_ENOTFOUND) {
			v->base_how = "missing";
			rc = 0;
		} else if (rc == 0) {
			v->have_base = 1;
		}
	}
out:
	free(ax.ids);
	free(ay.ids);
	vl_buf_free(&path);
	git_commit_free(c);
	return rc;
}

/* Replay the merge from (base, x, y) with this node's hooks: the same
 * bytes? *trace: what the replay decided, NULL when it failed (caller
 * frees with vl_merge_trace_free). */
static int replay(vl_merge_trace **trace, vl_audit_version *v, vl_node *n)
{
	vl_merge_side sb = { v->base_rec, v->have_base ? v->base : NULL };
	vl_merge_side sx = { v->prev[0], v->rec->prev[0] }, sy = { v->prev[1], v->rec->prev[1] };
	vl_merge_env env;
	vl_record *out = NULL;
	vl_buf hooks = VL_BUF_INIT, a = VL_BUF_INIT, b = VL_BUF_INIT;
	int rc;

	*trace = NULL;
	if ((rc = vl_buf_printf(&hooks, "%s/hooks", n->home)) < 0)
		return rc;
	env.hooks_dir = hooks.ptr;
	env.timeout_ms = VL_HOOK_TIMEOUT_MS;
	rc = vl_merge_record(&out, v->schema, &sb, &sx, &sy, &env, NULL, trace);
	if (rc == VL_ENOMEM)
		goto out;
	v->replay = 0;
	if (rc == 0 && (rc = vl_record_emit(&a, out, 1)) == 0 && (rc = vl_record_emit(&b, v->rec, 1)) == 0)
		v->replay = a.len == b.len && !memcmp(a.ptr, b.ptr, a.len);
	rc = rc == VL_ENOMEM ? rc : 0;
out:
	if (rc < 0) {
		vl_merge_trace_free(*trace);
		*trace = NULL;
	}
	vl_record_free(out);
	vl_buf_free(&hooks);
	vl_buf_free(&a);
	vl_buf_free(&b);
	return rc;
}

/* One side deleted the record and the other edited it: the trace's
 * "_deleted" entry says which side on_delete kept. */
static int attribute_edit_delete(vl_audit_version *v, vl_node *n, const vl_merge_trace *t,
		const vl_value *bd)
{
	const vl_record *x = v->prev[0], *y = v->prev[1];
	const vl_merge_trace_field *d = vl_merge_trace_find(t, CONFLICT_DELETED);
	const vl_schema *s = v->schema;
	int tomb = x->deleted ? 0 : 1, edit_wins, winner;
	vl_buf why = VL_BUF_INIT;
	vl_audit_change *c;
	size_t i;
	int rc;

	if (!d) /* no replay: the record itself says who won */
		winner = v->rec->deleted ? tomb : 1 - tomb;
	else
		winner = d->side;
	edit_wins = winner != tomb;
	if (!(c = push_change(v, CONFLICT_DELETED)))
		return oom();
	c->how = VL_AUDIT_RULE;
	c->side = winner;
	c->rule = "on_delete";
	if ((rc = vl_buf_printf(&why, "%s (%s) deleted the record, %s (%s) edited it; on_delete %s: the %s "
			"wins, the other side is kept in conflicts[_deleted]", side_name(tomb),
			who_name(n, tomb ? y : x), side_name(1 - tomb), who_name(n, tomb ? x : y),
			edit_wins ? "edit_wins" : "tombstone_wins", edit_wins ? "edit" : "deletion")) < 0 ||
			(rc = set_why(c, &why)) < 0)
		return rc;
	for (i = 0; i < s->nfields; i++) {
		const char *name = s->fields[i].name;
		const vl_value *bv = vl_value_map_get(bd, name), *rv = vl_value_map_get(v->rec->data, name);

		if (vl_value_equal(bv, rv))
			continue;
		if (!(c = push_change(v, name)))
			return oom();
		c->old = bv;
		c->now = rv;
		c->x = vl_value_map_get(x->data, name);
		c->y = vl_value_map_get(y->data, name);
		c->how = VL_AUDIT_ONE_SIDE;
		c->side = winner;
		c->rule = "on_delete";
		if ((rc = vl_buf_printf(&why, "taken with the whole record from %s by on_delete",
				side_name(winner))) < 0 || (rc = set_why(c, &why)) < 0)
			return rc;
	}
	return 0;
}

/*
 * Field by field, as the replayed merge decided them (its trace). A field
 * whose stored value or conflict the replay does not reproduce (a hook not
 * installed here; a base other than the merge's) is not explained: it is
 * shown as decided by its rule, or left to a person when the record has a
 * new conflict for it, with a why saying the replay differs.
 */
static int attribute_fields(vl_audit_version *v, vl_node *n, const vl_merge_trace *t,
		const vl_value *bd)
{
	const vl_schema *s = v->schema;
	const vl_record *x = v->prev[0], *y = v->prev[1], *r = v->rec;
	vl_buf why = VL_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < s->nfields; i++) {
		const vl_field *f = &s->fields[i];
		const vl_value *bv = vl_value_map_get(bd, f->name), *xv = vl_value_map_get(x->data, f->name);
		const vl_value *yv = vl_value_map_get(y->data, f->name), *rv = vl_value_map_get(r->data, f->name);
		const vl_value *entry = r->conflicts ? vl_value_map_get(r->conflicts, f->name) : NULL;
		int person = conflict_from(entry, r->prev[0], r->prev[1]);
		const vl_merge_trace_field *e = vl_merge_trace_find(t, f->name);
		vl_audit_change *c;

		if (vl_value_equal(xv, bv) && vl_value_equal(yv, bv) && vl_value_equal(rv, bv))
			continue;
		if (!(c = push_change(v, f->name)))
			return oom();
		c->old = bv;
		c->now = rv;
		c->x = xv;
		c->y = yv;
		if (!e || !vl_value_equal(e->result, rv) || (e->how == VL_HOW_PERSON) != person) {
			c->how = person ? VL_AUDIT_PERSON : VL_AUDIT_RULE;
			c->rule = rule_text(f);
			c->side = vl_value_equal(rv, xv) ? 0 : vl_value_equal(rv, yv) ? 1 : -1;
			rc = vl_buf_printf(&why, "this node's replay of the merge %s; the value is shown as "
					"merged", !t ? "failed" : f->rule == VL_RULE_HOOK ?
					"decides it differently (is the hook installed here?)" :
					"decides it differently");
		} else if (e->how == VL_HOW_ONE_SIDE || e->how == VL_HOW_SAME) {
			c->how = e->how == VL_HOW_SAME ? VL_AUDIT_SAME : VL_AUDIT_ONE_SIDE;
			c->side = e->side;
			rc = vl_buf_printf(&why, c->how == VL_AUDIT_SAME ? "both sides made the same change" :
					"only %s (%s) changed it", side_name(c->side), who_name(n, c->side ? y : x));
		} else {
			c->how = e->how == VL_HOW_PERSON ? VL_AUDIT_PERSON : VL_AUDIT_RULE;
			c->rule = rule_text(f);
			c->side = e->side;
			rc = explain_rule(&why, n, f, t, e, x, y);
		}
		if (rc < 0 || (rc = set_why(c, &why)) < 0)
			return rc;
	}
	return 0;
}

static int describe(vl_audit_version *v, vl_node *n, base_cache *bc)
{
	vl_record *r = v->rec;
	const vl_record *own = NULL;
	vl_merge_trace *trace = NULL;
	vl_value *empty = NULL;
	size_t k, i;
	int rc = 0;

	for (k = 0; k < r->nprev && k < 2; k++) {
		rc = load_blob(&v->prev[k], n->repo, r->prev[k]);
		if (rc == VL_ENOTFOUND) {
			v->prev_missing = 1;
			rc = 0;
			continue;
		}
		if (rc < 0)
			return rc;
		if (!same_record(v->prev[k], r))
			snprintf(v->joined, sizeof(v->joined), "%s", v->prev[k]->id);
		else if (!own)
			own = v->prev[k];
	}
	if (r->nprev == 0)
		v->kind = "add";
	else if (!strcmp(r->author, VL_AUTHOR_MERGE))
		v->kind = "merge";
	else if (v->joined[0])
		v->kind = "join";
	else if (r->deleted && (!own || !own->deleted))
		v->kind = "delete";
	else
		v->kind = "edit";
	if (!strcmp(v->kind, "edit") && own && own->conflicts)
		for (i = 0; i < own->conflicts->n; i++)
			if (!r->conflicts || !vl_value_map_get(r->conflicts, own->conflicts->keys[i]))
				v->kind = "resolve";

	if (!strcmp(v->kind, "merge") && r->nprev == 2 && v->prev[0] && v->prev[1] && !v->joined[0]) {
		if ((rc = find_base(v, n, bc)) < 0)
			return rc;
		if (!(empty = vl_value_new(VL_V_MAP)))
			return oom();
		if ((rc = replay(&trace, v, n)) == 0) {
			if (v->prev[0]->deleted != v->prev[1]->deleted)
				rc = attribute_edit_delete(v, n, trace, v->have_base ? v->base_rec->data : empty);
			else
				rc = attribute_fields(v, n, trace, v->have_base ? v->base_rec->data : empty);
		}
		vl_value_free(empty);
		vl_merge_trace_free(trace);
		if (rc < 0)
			return rc;
		for (i = 0; r->conflicts && i < r->conflicts->n; i++)
			if (conflict_from(r->conflicts->items[i], r->prev[0], r->prev[1]) &&
					(rc = push_conflict(v, r->conflicts->keys[i], 0, r->conflicts->items[i], NULL)) < 0)
				return rc;
		return 0;
	}
	if ((rc = diff_signed(v, own)) < 0)
		return rc;
	for (i = 0; r->conflicts && i < r->conflicts->n; i++) {
		const vl_value *was = own && own->conflicts ? vl_value_map_get(own->conflicts, r->conflicts->keys[i]) : NULL;
		if (!vl_value_equal(was, r->conflicts->items[i]) &&
				(rc = push_conflict(v, r->conflicts->keys[i], 0, r->conflicts->items[i], NULL)) < 0)
			return rc;
	}
	for (i = 0; own && own->conflicts && i < own->conflicts->n; i++) {
		const char *key = own->conflicts->keys[i];
		if ((!r->conflicts || !vl_value_map_get(r->conflicts, key)) &&
				(rc = push_conflict(v, key, 1, NULL, vl_value_map_get(r->data, key))) < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* History of one record                                                    */

void vl_audit_history_free(vl_audit_history *h)
{
	size_t i;

	for (i = 0; h->v && i < h->n; i++)
		vl_audit_version_free(&h->v[i]);
	free(h->v);
	free(h->prev_ix);
	memset(h, 0, sizeof(*h));
}

static int push_version(vl_audit_history *h, size_t *cap, vl_audit_version *v)
{
	if (h->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		vl_audit_version *nv;
		if (h->n >= VL_AUDIT_MAX_VERSIONS)
			return vl_error_set(VL_ETOOBIG, "record %s has more than %d versions", h->id, VL_AUDIT_MAX_VERSIONS);
		if (!(nv = realloc(h->v, ncap * sizeof(*nv))))
			return oom();
		h->v = nv;
		*cap = ncap;
	}
	h->v[h->n++] = *v;
	memset(v, 0, sizeof(*v));
	return 0;
}

/* Index of version `hex` in h->v, by the sorted index `ix`; -1 if none. */
typedef struct {
	const char *hex;
	size_t i;
} hexidx;

static int hexidx_cmp(const void *a, const void *b)
{
	return strcmp(((const hexidx *)a)->hex, ((const hexidx *)b)->hex);
}

static long find_ix(const hexidx *ix, size_t n, const char *hex)
{
	hexidx key = { hex, 0 };
	const hexidx *hit = bsearch(&key, ix, n, sizeof(*ix), hexidx_cmp);

	return hit ? (long)hit->i : -1;
}

static int version_seq_cmp(const void *a, const void *b)
{
	const vl_audit_version *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Order versions oldest first: by commit when every version has one, else
 * parents before children, the earliest ready one (commit, then clock)
 * first. */
static int order_versions(vl_audit_history *h)
{
	vl_audit_version *sorted = NULL;
	hexidx *ix = NULL;
	char *done = NULL;
	size_t i, k, m, all = 1;
	int rc = 0;

	for (i = 0; i < h->n; i++)
		all &= (size_t)h->v[i].have_commit;
	if (all) {
		qsort(h->v, h->n, sizeof(*h->v), version_seq_cmp);
		return 0;
	}
	if (!(sorted = calloc(h->n, sizeof(*sorted))) || !(ix = calloc(h->n, sizeof(*ix))) ||
			!(done = calloc(h->n, 1))) {
		rc = oom();
		goto out;
	}
	for (i = 0; i < h->n; i++)
		ix[i] = (hexidx){ h->v[i].blob, i };
	qsort(ix, h->n, sizeof(*ix), hexidx_cmp);
	for (m = 0; m < h->n; m++) {
		long best = -1;
		for (i = 0; i < h->n; i++) {
			const vl_audit_version *v = &h->v[i];
			int ready = !done[i];
			for (k = 0; ready && k < v->rec->nprev; k++) {
				long p = find_ix(ix, h->n, v->rec->prev[k]);
				ready = p < 0 || done[p];
			}
			if (!ready)
				continue;
			if (best < 0) {
				best = (long)i;
			} else {
				const vl_audit_version *b = &h->v[best];
				if (v->have_commit != b->have_commit ? v->have_commit :
						v->have_commit ? v->seq < b->seq : clock_cmp(v->rec->clock, b->rec->clock) < 0)
					best = (long)i;
			}
		}
		if (best < 0) {
			rc = vl_error_set(VL_EINVALID, "the versions of record %s form a cycle", h->id);
			goto out;
		}
		done[best] = 1;
		sorted[m] = h->v[best];
	}
	memcpy(h->v, sorted, h->n * sizeof(*sorted));
out:
	free(sorted);
	free(ix);
	free(done);
	return rc;
}

int vl_audit_history_load(vl_audit_history *out, vl_node *n, const char *id)
{
	vl_found f;
	vl_audit_version tmp;
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	vl_audit_history res, *h = &res;
	hexidx *ix = NULL;
	base_cache bc;
	commit_info ci;
	git_oid cid;
	size_t cap = 0, i, k, seq = 0, mapped = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	memset(&f, 0, sizeof(f));
	memset(&tmp, 0, sizeof(tmp));
	memset(&bc, 0, sizeof(bc));
	memset(&ci, 0, sizeof(ci));
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&f, n, id)) < 0)
		goto out;
	h->schema = f.schema;
	snprintf(h->id, sizeof(h->id), "%s", f.rec->id);
	snprintf(h->scope, sizeof(h->scope), "%s", f.scope);
	snprintf(h->ref, sizeof(h->ref), "%s", f.ref);

	/* The chain, back from the current version. */
	if ((rc = version_load(&tmp, n, git_oid_tostr_s(&f.blob))) < 0 ||
			(rc = push_version(h, &cap, &tmp)) < 0)
		goto out;
	for (i = 0; i < h->n; i++) {
		for (k = 0; k < h->v[i].rec->nprev; k++) {
			char hex[VL_OID_HEX + 1];
			size_t j;
			int seen = 0;
			snprintf(hex, sizeof(hex), "%s", h->v[i].rec->prev[k]);
			for (j = 0; j < h->n && !seen; j++)
				seen = !strcmp(h->v[j].blob, hex);
			if (seen)
				continue;
			rc = version_load(&tmp, n, hex);
			if (rc == VL_ENOTFOUND) { /* describe() marks it missing */
				vl_audit_version_free(&tmp);
				continue;
			}
			if (rc < 0)
				goto out;
			if (!same_record(tmp.rec, f.rec)) { /* a join: the other record's own history */
				vl_audit_version_free(&tmp);
				continue;
			}
			if ((rc = push_version(h, &cap, &tmp)) < 0)
				goto out;
		}
	}

	/* The commit that brought each version: the branch once, oldest first. */
	if (!(ix = calloc(h->n, sizeof(*ix)))) {
		rc = oom();
		goto out;
	}
	for (i = 0; i < h->n; i++)
		ix[i] = (hexidx){ h->v[i].blob, i };
	qsort(ix, h->n, sizeof(*ix), hexidx_cmp);
	if ((rc = git_revwalk_new(&walk, n->repo)) < 0 ||
			(rc = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE)) < 0 ||
			(rc = git_revwalk_push(walk, &f.head)) < 0) {
		rc = vl_error_git(rc, "cannot walk the branch");
		goto out;
	}
	while (mapped < h->n && (rc = git_revwalk_next(&cid, walk)) == 0) {
		long at;
		seq++;
		if ((rc = git_commit_lookup(&c, n->repo, &cid)) < 0 || (rc = git_commit_tree(&tree, c)) < 0) {
			rc = vl_error_git(rc, "cannot read a commit");
			goto out;
		}
		if (git_tree_entry_bypath(&e, tree, f.path.ptr) == 0 &&
				(at = find_ix(ix, h->n, git_oid_tostr_s(git_tree_entry_id(e)))) >= 0 &&
				!h->v[at].have_commit) {
			if ((rc = commit_info_load(&ci, n->repo, &cid)) < 0 ||
					(rc = version_commit(&h->v[at], &ci, seq)) < 0)
				goto out;
			mapped++;
		}
		git_tree_entry_free(e);
		e = NULL;
		git_tree_free(tree);
		tree = NULL;
		git_commit_free(c);
		c = NULL;
	}
	if (mapped < h->n && rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, "cannot walk the branch");
		goto out;
	}
	free(ix);
	ix = NULL;

	if ((rc = order_versions(h)) < 0)
		goto out;
	if (!(h->prev_ix = malloc(2 * h->n * sizeof(*h->prev_ix))) || !(ix = calloc(h->n, sizeof(*ix)))) {
		rc = oom();
		goto out;
	}
	for (i = 0; i < h->n; i++)
		ix[i] = (hexidx){ h->v[i].blob, i };
	qsort(ix, h->n, sizeof(*ix), hexidx_cmp);
	for (i = 0; i < h->n; i++) {
		for (k = 0; k < 2; k++)
			h->prev_ix[2 * i + k] = k < h->v[i].rec->nprev ?
				(int)find_ix(ix, h->n, h->v[i].rec->prev[k]) : -1;
		if ((rc = describe(&h->v[i], n, &bc)) < 0)
			goto out;
	}
	*out = res;
	memset(&res, 0, sizeof(res));
	rc = 0;
out:
	vl_audit_history_free(&res);
	free(ix);
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_commit_free(c);
	git_revwalk_free(walk);
	vl_audit_version_free(&tmp);
	vl_found_free(&f);
	commit_info_free(&ci);
	return rc;
}

int vl_audit_blame(size_t **out, const vl_audit_history *h)
{
	const vl_value *cur;
	size_t *res = NULL, *origin = NULL, i, j, k;

	*out = NULL;
	if (!h->n)
		return vl_error_set(VL_EINVALID, "a history without versions");
	cur = h->v[h->n - 1].rec->data;
	if (!(res = calloc(cur->n ? cur->n : 1, sizeof(*res))) || !(origin = calloc(h->n, sizeof(*origin)))) {
		free(res);
		return oom();
	}
	for (j = 0; j < cur->n; j++) {
		/* Oldest first, so a version's prevs are done before it. */
		for (i = 0; i < h->n; i++) {
			const vl_value *val = vl_value_map_get(h->v[i].rec->data, cur->keys[j]);
			origin[i] = i;
			for (k = 0; k < 2; k++) {
				int p = h->prev_ix[2 * i + k];
				if (p >= 0 && (size_t)p < i &&
						vl_value_equal(vl_value_map_get(h->v[p].rec->data, cur->keys[j]), val) &&
						origin[p] < origin[i])
					origin[i] = origin[p];
			}
		}
		res[j] = origin[h->n - 1];
	}
	free(origin);
	*out = res;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Collecting the versions a branch's commits brought in                    */

typedef struct {
	vl_node *n;
	const char *from, *to;
	vl_audit_version *v;
	size_t nv, cap;
	size_t seq;
	commit_info ci;           /* the commit being walked */
	base_cache bc;
} collect_ctx;

static int in_period(const collect_ctx *c, const char *clock)
{
	return (!c->from || strncmp(clock, c->from, 10) >= 0) && (!c->to || strncmp(clock, c->to, 10) <= 0);
}

static int collect_blob(collect_ctx *c, const git_oid *blob)
{
	vl_audit_version v;
	int rc;

	rc = version_load(&v, c->n, git_oid_tostr_s(blob));
	if (rc == VL_EINVALID || rc == VL_ETOOBIG || rc == VL_ENOTFOUND) {
		/* verify reports it; the report goes on */
		vl_audit_version_free(&v);
		return 0;
	}
	if (rc < 0 || !in_period(c, v.rec->clock))
		goto out;
	if ((rc = version_commit(&v, &c->ci, c->seq)) < 0 || (rc = describe(&v, c->n, &c->bc)) < 0)
		goto out;
	if (c->nv == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		vl_audit_version *nv;
		if (c->nv >= VL_AUDIT_MAX_COLLECT) {
			rc = vl_error_set(VL_ETOOBIG, "more than %d versions in the period; narrow it with --from/--to "
					"or --scope", VL_AUDIT_MAX_COLLECT);
			goto out;
		}
		if (!(nv = realloc(c->v, ncap * sizeof(*nv)))) {
			rc = oom();
			goto out;
		}
		c->v = nv;
		c->cap = ncap;
	}
	c->v[c->nv++] = v;
	memset(&v, 0, sizeof(v));
out:
	vl_audit_version_free(&v);
	return rc;
}

/* Entries of `t` (depth 0 ledgers, 1 buckets, 2 records) whose ids differ
 * from those at the same name in every parent tree; equal subtrees are
 * skipped whole. */
static int collect_tree(collect_ctx *c, git_tree *t, git_tree **pt, size_t np, int depth)
{
	git_tree **sub = NULL;
	git_tree *st = NULL;
	size_t i, j;
	int rc = 0;

	if (np && !(sub = calloc(np, sizeof(*sub))))
		return oom();
	for (i = 0; i < git_tree_entrycount(t); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		int seen = 0;

		for (j = 0; j < np && !seen; j++) {
			const git_tree_entry *pe = pt[j] ? git_tree_entry_byname(pt[j], git_tree_entry_name(e)) : NULL;
			seen = pe && git_oid_equal(git_tree_entry_id(pe), git_tree_entry_id(e));
		}
		if (seen)
			continue;
		if (depth == 2) {
			if (git_tree_entry_type(e) == GIT_OBJECT_BLOB && (rc = collect_blob(c, git_tree_entry_id(e))) < 0)
				goto out;
			continue;
		}
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE)
			continue; /* verify reports what is not a directory here */
		if ((rc = git_tree_lookup(&st, c->n->repo, git_tree_entry_id(e))) < 0) {
			rc = vl_error_git(rc, "cannot read a tree");
			goto out;
		}
		for (j = 0; j < np; j++) {
			const git_tree_entry *pe = pt[j] ? git_tree_entry_byname(pt[j], git_tree_entry_name(e)) : NULL;
			sub[j] = NULL;
			if (pe && git_tree_entry_type(pe) == GIT_OBJECT_TREE &&
					(rc = git_tree_lookup(&sub[j], c->n->repo, git_tree_entry_id(pe))) < 0) {
				rc = vl_error_git(rc, "cannot read a tree");
				goto out;
			}
		}
		rc = collect_tree(c, st, sub, np, depth + 1);
		for (j = 0; j < np; j++) {
			git_tree_free(sub[j]);
			sub[j] = NULL;
		}
		git_tree_free(st);
		st = NULL;
		if (rc < 0)
			goto out;
	}
out:
	for (j = 0; sub && j < np; j++)
		git_tree_free(sub[j]);
	free(sub);
	git_tree_free(st);
	return rc;
}

static int collect_branch(collect_ctx *c, const git_oid *head)
{
	git_revwalk *walk = NULL;
	git_commit *cm = NULL, *p = NULL;
	git_tree *t = NULL, **pt = NULL;
	git_oid id;
	size_t np = 0, j;
	int rc;

	if ((rc = git_revwalk_new(&walk, c->n->repo)) < 0 ||
			(rc = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE)) < 0 ||
			(rc = git_revwalk_push(walk, head)) < 0) {
		rc = vl_error_git(rc, "cannot walk a branch");
		goto out;
	}
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		c->seq++;
		if ((rc = commit_info_load(&c->ci, c->n->repo, &id)) < 0)
			goto out;
		if ((rc = git_commit_lookup(&cm, c->n->repo, &id)) < 0 || (rc = git_commit_tree(&t, cm)) < 0) {
			rc = vl_error_git(rc, "cannot read a commit");
			goto out;
		}
		np = git_commit_parentcount(cm);
		if (np && !(pt = calloc(np, sizeof(*pt)))) {
			rc = oom();
			goto out;
		}
		for (j = 0; j < np; j++) {
			if ((rc = git_commit_parent(&p, cm, (unsigned)j)) < 0 || (rc = git_commit_tree(&pt[j], p)) < 0) {
				rc = vl_error_git(rc, "cannot read a parent commit");
				goto out;
			}
			git_commit_free(p);
			p = NULL;
		}
		if ((rc = collect_tree(c, t, pt, np, 0)) < 0)
			goto out;
		for (j = 0; j < np; j++)
			git_tree_free(pt[j]);
		free(pt);
		pt = NULL;
		np = 0;
		git_tree_free(t);
		t = NULL;
		git_commit_free(cm);
		cm = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, "cannot walk a branch");
		goto out;
	}
	rc = 0;
out:
	for (j = 0; pt && j < np; j++)
		git_tree_free(pt[j]);
	free(pt);
	git_tree_free(t);
	git_commit_free(p);
	git_commit_free(cm);
	git_revwalk_free(walk);
	commit_info_free(&c->ci);
	return rc;
}

/* The codes of the scope branches vl_audit_collect reads. */
typedef struct {
	const char *scope;           /* NULL: every scope branch */
	char (*code)[13];
	size_t n;
} scope_codes;

/* vl_scope_refs_each: keep the refs named by a division code covered by
 * the scope. A symbolic ref is kept too: vl_repo_head resolves it. */
static int scope_code_add(const char *code, const git_oid *head, void *ctx)
{
	scope_codes *sc = ctx;
	char (*nc)[13];

	(void)head;
	if (strlen(code) != 12 || vl_division_level(code) == VL_DIV_INVALID ||
			(sc->scope && !vl_division_covers(sc->scope, code)))
		return 0;
	if (!(nc = realloc(sc->code, (sc->n + 1) * sizeof(*nc))))
		return oom();
	sc->code = nc;
	memcpy(sc->code[sc->n++], code, 13);
	return 0;
}

static int code_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int vl_audit_collect(vl_audit_version **out, size_t *nout, vl_node *n, const char *scope,
		const char *from, const char *to)
{
	scope_codes sc;
	collect_ctx c;
	size_t i;
	int rc;

	*out = NULL;
	*nout = 0;
	memset(&c, 0, sizeof(c));
	memset(&sc, 0, sizeof(sc));
	c.n = n;
	c.from = from;
	c.to = to;
	sc.scope = scope;
	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	if ((rc = vl_scope_refs_each(n->repo, scope_code_add, &sc)) < 0)
		goto out;
	/* the ref iterator gives loose refs before packed ones: sort */
	if (sc.n > 1)
		qsort(sc.code, sc.n, sizeof(*sc.code), code_cmp);
	for (i = 0; i < sc.n; i++) {
		git_oid head;
		char ref[64];
		vl_scope_ref(ref, sc.code[i]);
		if ((rc = vl_repo_head(&head, n->repo, ref)) < 0 || (rc = collect_branch(&c, &head)) < 0)
			goto out;
	}
	*out = c.v;
	*nout = c.nv;
	c.v = NULL;
	c.nv = 0;
	rc = 0;
out:
	for (i = 0; i < c.nv; i++)
		vl_audit_version_free(&c.v[i]);
	free(c.v);
	free(sc.code);
	return rc;
}
