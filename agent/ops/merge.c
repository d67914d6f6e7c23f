/* merge.c - merge, conflicts, resolve, join-records as operations (merge.h). */
#include "agent/ops/merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/audit/verify.h"
#include "agent/node/ledger.h"
#include "schemas/types.h"
#include "store/i18n.h"
#include "store/repo.h"
#include "store/yaml.h"

/* ------------------------------------------------------------------------ */
/* merge                                                                    */

void vl_merge_result_free(vl_merge_result *r)
{
	if (!r)
		return;
	vl_buf_free(&r->report);
	memset(r, 0, sizeof(*r));
}

/* Scope from a ref name ending in "scope/<12 digits>", else NULL. */
static const char *scope_of_ref(const char *ref)
{
	const char *p = strstr(ref, "scope/");
	size_t i;

	if (!p || strlen(p + 6) != 12)
		return NULL;
	for (i = 0; i < 12; i++)
		if (p[6 + i] < '0' || p[6 + i] > '9')
			return NULL;
	return p + 6;
}

typedef struct {
	git_repository *repo;
	char scope[13];
} scope_probe;

/* Tree walk: the first record file (<ledger>/<c>/<id>.yaml) that parses
 * gives the scope; stops the walk with 1. */
static int probe_one(const char *root, const git_tree_entry *e, void *ctx)
{
	scope_probe *p = ctx;
	vl_buf raw = VL_BUF_INIT;
	vl_record *r = NULL;
	size_t depth = 0;
	const char *s = NULL;
	int found = 0;

	for (s = root; *s; s++)
		depth += *s == '/';
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB || depth != 2)
		return 0;
	if (vl_repo_read_blob(&raw, p->repo, git_tree_entry_id(e), VL_RECORD_MAX_BYTES, "record") == 0 &&
			vl_record_parse(&r, raw.ptr, raw.len, git_tree_entry_name(e)) == 0 &&
			vl_division_level(r->scope) != VL_DIV_INVALID) {
		memcpy(p->scope, r->scope, sizeof(p->scope));
		found = 1;
	}
	vl_record_free(r);
	vl_buf_free(&raw);
	return found ? -1 : 0; /* < 0 stops the walk */
}

/* The scope the records of commit `id` belong to ("" when it holds none).
 * Only the first is read: verification checks that all agree. */
static int records_scope(char out[13], git_repository *repo, const git_oid *id)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	scope_probe p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.repo = repo;
	out[0] = '\0';
	if ((rc = git_commit_lookup(&c, repo, id)) < 0 || (rc = git_commit_tree(&t, c)) < 0) {
		rc = vl_error_git(rc, _("cannot read the commit to merge"));
		goto out;
	}
	(void)git_tree_walk(t, GIT_TREEWALK_PRE, probe_one, &p);
	memcpy(out, p.scope, 13);
	rc = 0;
out:
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

/* verify.c words equivocation for received data, whose pair the receive
 * path keeps under refs/evidence/; a refused merge keeps nothing (both
 * commits are in this repository already), so that claim is dropped. */
static int copy_report(vl_buf *out, const char *report)
{
	static const char kept[] = " (both kept as evidence)";
	const char *p = NULL;
	int rc;

	while ((p = strstr(report, kept)) != NULL) {
		if ((rc = vl_buf_put(out, report, (size_t)(p - report))) < 0)
			return rc;
		report = p + sizeof(kept) - 1;
	}
	return vl_buf_puts(out, report);
}

int vl_merge(vl_node *n, const vl_merge_opts *opts, vl_merge_result *out)
{
	vl_merge_opts dflt = VL_MERGE_OPTS_INIT;
	git_object *obj = NULL;
	vl_verify_result vr;
	git_oid ours, theirs, result;
	char refname[64];
	const char *scope = NULL;
	int rc, kind, have_ours;

	memset(out, 0, sizeof(*out));
	memset(&vr, 0, sizeof(vr));
	if (!opts)
		opts = &dflt;
	if (!opts->ref)
		return vl_error_set(VL_EINVALID, "merge needs the ref or commit to merge");
	if ((rc = vl_node_lock_write(n)) < 0 || (rc = vl_node_load_config(n)) < 0)
		goto out;
	if ((rc = git_revparse_single(&obj, n->repo, opts->ref)) < 0) {
		rc = vl_error_set(VL_ENOTFOUND, "'%s' names no commit in this node's repository", opts->ref);
		goto out;
	}
	if (git_object_type(obj) != GIT_OBJECT_COMMIT) {
		rc = vl_error_set(VL_EINVALID, "'%s' is not a commit", opts->ref);
		goto out;
	}
	git_oid_cpy(&theirs, git_object_id(obj));
	/* Which branch: given, else the ref's own; never the node's own scope
	 * by default (a village's history does not belong on the county's). */
	if (!(scope = opts->scope) && !(scope = scope_of_ref(opts->ref))) {
		if ((rc = records_scope(out->scope, n->repo, &theirs)) < 0)
			goto out;
		if (!out->scope[0]) {
			rc = vl_error_set(VL_EINVALID, "'%s' holds no records to tell its scope; give --scope", opts->ref);
			goto out;
		}
		scope = out->scope;
	}
	if (vl_division_level(scope) == VL_DIV_INVALID) {
		rc = vl_error_set(VL_EINVALID, "scope '%.20s' is not a 12-digit division code", scope);
		goto out;
	}
	if (scope != out->scope)
		snprintf(out->scope, sizeof(out->scope), "%s", scope);
	vl_scope_ref(refname, out->scope);
	rc = vl_repo_head(&ours, n->repo, refname);
	if (rc < 0 && rc != VL_ENOTFOUND)
		goto out;
	have_ours = rc == 0;
	/* What the ref brings is checked as received data before anything is
	 * written: the scope of its records, signatures, and equivocation
	 * against our branch. Its objects are ours already, so no quarantine. */
	vl_progress_report(&opts->progress, N_("verify"), 0, 0);
	{
		const vl_view view = VL_VIEW_OF(n);
		if ((rc = vl_verify_received(&view, n, refname, &theirs, have_ours ? &ours : NULL, &vr)) < 0)
			goto out;
	}
	if (vr.failures) {
		if ((rc = copy_report(&out->report, vr.report.ptr ? vr.report.ptr : "")) < 0)
			goto out;
		rc = vr.nevidence ?
			vl_error_set(VL_EBADSIG, "'%s' does not verify as history of scope/%s (a key signed two "
				"commits at one Vledger-Seq); nothing changed (the report says why; merge the ref into "
				"its own scope, or drop it)", opts->ref, out->scope) :
			vl_error_set(VL_EBADSIG, "'%s' does not verify as history of scope/%s; nothing changed (the "
				"report says why; merge the ref into its own scope, or drop it)", opts->ref, out->scope);
		goto out;
	}
	vl_progress_report(&opts->progress, N_("merge"), 0, 0);
	if (!have_ours) {
		git_oid_cpy(&result, &theirs);
		kind = 0;
	} else if ((rc = vl_merge_heads(&result, &kind, n, out->scope, &ours, &theirs, &out->sum)) < 0) {
		goto out;
	}
	if (have_ours && git_oid_equal(&result, &ours)) {
		git_oid_cpy(&out->head, &ours);
		out->outcome = VL_MERGED_UP_TO_DATE;
		rc = 0;
		goto out;
	}
	if ((rc = vl_repo_ref_cas(n->repo, refname, &result, have_ours ? &ours : NULL, "vledger merge",
			"run the merge again")) < 0)
		goto out;
	git_oid_cpy(&out->head, &result);
	out->outcome = kind ? VL_MERGED_COMMIT : VL_MERGED_FAST_FORWARD;
	rc = 0;
out:
	vl_verify_result_free(&vr);
	git_object_free(obj);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* conflicts                                                                */

void vl_conflicts_result_free(vl_conflicts_result *r)
{
	size_t i, j;

	if (!r)
		return;
	for (i = 0; i < r->nconflicts; i++) {
		for (j = 0; j < r->conflicts[i].ncands; j++) {
			vl_value_free(r->conflicts[i].cands[j].value);
			free(r->conflicts[i].cands[j].author);
			free(r->conflicts[i].cands[j].clock);
		}
		free(r->conflicts[i].cands);
		free(r->conflicts[i].field);
	}
	free(r->conflicts);
	for (i = 0; i < r->ngroups; i++) {
		for (j = 0; j < r->groups[i].nids; j++)
			free(r->groups[i].ids[j]);
		free(r->groups[i].ids);
	}
	free(r->groups);
	memset(r, 0, sizeof(*r));
}

typedef struct {
	vl_node *n;
	const vl_schema *s;
	int duplicates;
	vl_conflicts_result *res;
	size_t capconf;
	/* duplicates: identity key -> id, per ledger */
	char **keys;
	char **ids;
	size_t nkeys, capkeys;
} conf_ctx;

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

/* Append the conflicts of one record. */
static int add_conflicts(conf_ctx *c, const vl_record *r)
{
	size_t i, j;

	for (i = 0; i < r->conflicts->n; i++) {
		const vl_value *cands = r->conflicts->items[i];
		vl_conflict *cf;
		if (c->res->nconflicts == c->capconf) {
			size_t ncap = c->capconf ? c->capconf * 2 : 16;
			vl_conflict *nc = realloc(c->res->conflicts, ncap * sizeof(*nc));
			if (!nc)
				return vl_error_set(VL_ENOMEM, "out of memory");
			c->res->conflicts = nc;
			c->capconf = ncap;
		}
		cf = &c->res->conflicts[c->res->nconflicts];
		memset(cf, 0, sizeof(*cf));
		c->res->nconflicts++;
		cf->schema = c->s;
		memcpy(cf->id, r->id, sizeof(cf->id));
		memcpy(cf->scope, r->scope, sizeof(cf->scope));
		cf->deleted = r->deleted;
		if (!(cf->field = strdup(r->conflicts->keys[i])))
			return vl_error_set(VL_ENOMEM, "out of memory");
		if (cands->kind != VL_V_LIST || !cands->n)
			continue;
		if (!(cf->cands = calloc(cands->n, sizeof(*cf->cands))))
			return vl_error_set(VL_ENOMEM, "out of memory");
		for (j = 0; j < cands->n; j++) {
			const vl_value *cd = cands->items[j];
			const vl_value *author = vl_value_map_get(cd, "author"), *clock = vl_value_map_get(cd, "clock");
			const vl_value *v = vl_value_map_get(cd, "value");
			vl_conflict_candidate *k = &cf->cands[cf->ncands++];
			k->signer = author && author->kind == VL_V_STR ? vl_node_roster_find(c->n, author->s) : NULL;
			if (!(k->author = dup_or_empty(author ? vl_value_text(author) : NULL)) ||
					!(k->clock = dup_or_empty(clock ? vl_value_text(clock) : NULL)) ||
					(v && v->kind != VL_V_NULL && !(k->value = vl_value_clone(v))))
				return vl_error_set(VL_ENOMEM, "out of memory");
		}
	}
	return 0;
}

static int conf_one(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	conf_ctx *c = ctx;
	vl_record *r = NULL;
	vl_buf key = VL_BUF_INIT;
	int rc = 0;

	(void)blob;
	if ((rc = vl_record_parse(&r, raw, len, path)) < 0)
		return rc;
	if (c->duplicates) {
		if (!r->deleted && c->s->nidentity && vl_schema_identity(&key, c->s, r->data) == 0) {
			if (c->nkeys == c->capkeys) {
				size_t ncap = c->capkeys ? c->capkeys * 2 : 64;
				char **nk = realloc(c->keys, ncap * sizeof(*nk)), **ni;
				if (!nk) {
					rc = vl_error_set(VL_ENOMEM, "out of memory");
					goto out;
				}
				c->keys = nk;
				if (!(ni = realloc(c->ids, ncap * sizeof(*ni)))) {
					rc = vl_error_set(VL_ENOMEM, "out of memory");
					goto out;
				}
				c->ids = ni;
				c->capkeys = ncap;
			}
			c->keys[c->nkeys] = vl_buf_detach(&key, NULL);
			c->ids[c->nkeys] = strdup(r->id);
			if (!c->keys[c->nkeys] || !c->ids[c->nkeys]) {
				free(c->keys[c->nkeys]);
				free(c->ids[c->nkeys]);
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			c->nkeys++;
		}
	} else if (r->conflicts) {
		rc = add_conflicts(c, r);
	}
out:
	vl_buf_free(&key);
	vl_record_free(r);
	return rc;
}

/* Group the equal identity keys gathered for one ledger (few thousand per
 * village: quadratic is fine); the ids are moved into the groups. */
static int group_duplicates(conf_ctx *c, size_t *cap)
{
	size_t j, k;

	for (j = 0; j < c->nkeys; j++) {
		size_t members = 0;
		vl_duplicate_group *g;
		if (!c->keys[j])
			continue;
		for (k = j + 1; k < c->nkeys; k++)
			members += c->keys[k] && !strcmp(c->keys[k], c->keys[j]);
		if (!members)
			continue;
		if (c->res->ngroups == *cap) {
			size_t ncap = *cap ? *cap * 2 : 8;
			vl_duplicate_group *ng = realloc(c->res->groups, ncap * sizeof(*ng));
			if (!ng)
				return vl_error_set(VL_ENOMEM, "out of memory");
			c->res->groups = ng;
			*cap = ncap;
		}
		g = &c->res->groups[c->res->ngroups++];
		g->schema = c->s;
		g->nids = 0;
		if (!(g->ids = calloc(members + 1, sizeof(*g->ids))))
			return vl_error_set(VL_ENOMEM, "out of memory");
		g->ids[g->nids++] = c->ids[j];
		c->ids[j] = NULL;
		for (k = j + 1; k < c->nkeys; k++) {
			if (!c->keys[k] || strcmp(c->keys[k], c->keys[j]) != 0)
				continue;
			g->ids[g->nids++] = c->ids[k];
			c->ids[k] = NULL;
			free(c->keys[k]);
			c->keys[k] = NULL;
		}
	}
	return 0;
}

int vl_conflicts(vl_node *n, const vl_conflicts_opts *opts, vl_conflicts_result *out)
{
	vl_conflicts_opts dflt = VL_CONFLICTS_OPTS_INIT;
	conf_ctx c;
	size_t i, j, capgroups = 0;
	char ref[64];
	git_oid head;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (!opts)
		opts = &dflt;
	c.n = n;
	c.duplicates = opts->duplicates;
	c.res = out;
	if ((rc = vl_node_load_config(n)) < 0)
		goto out;
	if (opts->scope && vl_division_level(opts->scope) == VL_DIV_INVALID) {
		rc = vl_error_set(VL_EINVALID, "scope '%.20s' is not a 12-digit division code", opts->scope);
		goto out;
	}
	snprintf(out->scope, sizeof(out->scope), "%s", opts->scope ? opts->scope : n->scope);
	vl_scope_ref(ref, out->scope);
	rc = vl_repo_head(&head, n->repo, ref);
	if (rc == VL_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	out->have_branch = 1;
	for (i = 0; i < n->nschemas; i++) {
		c.s = n->schemas[i];
		vl_progress_report(&opts->progress, N_("conflicts"), i, n->nschemas);
		if ((rc = vl_ledger_each(n, &head, c.s->name, conf_one, &c)) < 0)
			goto out;
		if (c.duplicates && (rc = group_duplicates(&c, &capgroups)) < 0)
			goto out;
		for (j = 0; j < c.nkeys; j++) {
			free(c.keys[j]);
			free(c.ids[j]);
		}
		c.nkeys = 0;
	}
	rc = 0;
out:
	for (j = 0; j < c.nkeys; j++) {
		free(c.keys[j]);
		free(c.ids[j]);
	}
	free(c.keys);
	free(c.ids);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* resolve                                                                  */

void vl_resolve_result_free(vl_resolve_result *r)
{
	if (r)
		memset(r, 0, sizeof(*r));
}

int vl_resolve(vl_node *n, const vl_resolve_opts *opts, vl_resolve_result *out)
{
	vl_found f;
	vl_record *r = NULL, *src = NULL;
	vl_buf summary = VL_BUF_INIT, diag = VL_BUF_INIT, raw = VL_BUF_INIT;
	const vl_value *cands = NULL;
	const char *field = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	if (!opts || !opts->id || !opts->field || (!opts->take && !opts->value))
		return vl_error_set(VL_EINVALID, "resolve needs a record id, a field, and a candidate or a value");
	field = opts->field;
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&f, n, opts->id)) < 0 ||
			(rc = vl_ledger_may_write(n, f.scope)) < 0)
		goto out;
	cands = f.rec->conflicts ? vl_value_map_get(f.rec->conflicts, field) : NULL;
	if (!cands || cands->kind != VL_V_LIST) {
		rc = vl_error_set(VL_ENOTFOUND, "record %s has no conflict on '%s'; 'vledger conflicts' lists them",
				f.rec->id, field);
		goto out;
	}
	if ((rc = vl_ledger_next_version(&r, &f)) < 0)
		goto out;
	if (opts->take) {
		size_t k = opts->take;
		const vl_value *cand, *v;
		if (k > cands->n) {
			rc = vl_error_set(VL_EINVALID, "--take needs a candidate number from 1 to %zu", cands->n);
			goto out;
		}
		cand = cands->items[k - 1];
		v = vl_value_map_get(cand, "value");
		if (!strcmp(field, "_deleted")) {
			/* Edit against delete: the candidate's own version says which. */
			const vl_value *from = vl_value_map_get(cand, "from");
			git_oid id;
			git_blob *blob = NULL;
			if (!from || from->kind != VL_V_STR || git_oid_fromstr(&id, from->s) < 0 ||
					git_blob_lookup(&blob, n->repo, &id) < 0) {
				rc = vl_error_set(VL_ENOTFOUND, "the version candidate %zu came from is not in this repository", k);
				goto out;
			}
			rc = vl_buf_put(&raw, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
			git_blob_free(blob);
			if (rc < 0 || (rc = vl_record_parse(&src, raw.ptr, raw.len, "candidate")) < 0)
				goto out;
			r->deleted = src->deleted;
			vl_value_free(r->data);
			r->data = vl_value_clone(src->data);
		} else if (!v || v->kind == VL_V_NULL) {
			(void)vl_value_map_del(r->data, field);
		} else if ((rc = vl_value_map_set(r->data, field, vl_value_clone(v))) < 0) {
			goto out;
		} else if ((rc = vl_schema_normalize(f.schema, r->data)) < 0) {
			goto out;
		}
	} else if ((rc = vl_schema_set_text(f.schema, r->data, field, opts->value)) < 0) {
		goto out;
	}
	(void)vl_value_map_del(r->conflicts, field);
	if (r->conflicts->n == 0) {
		vl_value_free(r->conflicts);
		r->conflicts = NULL;
	}
	if ((rc = vl_schema_validate(f.schema, r->data, r->deleted, &diag)) == VL_ENOMEM)
		goto out;
	if (rc < 0) {
		rc = vl_error_set(VL_EINVALID, "the resolved record breaks ledger '%s' rules:\n%snothing was written",
				f.schema->name, diag.ptr ? diag.ptr : "");
		goto out;
	}
	if ((rc = vl_buf_printf(&summary, "resolve %s %s %s", r->schema, r->id, field)) < 0 ||
			(rc = vl_ledger_commit(&out->commit, n, f.scope, &r, 1, summary.ptr, NULL)) < 0)
		goto out;
	memcpy(out->id, r->id, sizeof(out->id));
	rc = 0;
out:
	vl_found_free(&f);
	vl_record_free(r);
	vl_record_free(src);
	vl_buf_free(&summary);
	vl_buf_free(&diag);
	vl_buf_free(&raw);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* join-records                                                             */

void vl_join_records_result_free(vl_join_records_result *r)
{
	if (r)
		memset(r, 0, sizeof(*r));
}

int vl_join_records(vl_node *n, const vl_join_records_opts *opts, vl_join_records_result *out)
{
	vl_found keep, other;
	vl_record *alias = NULL, *merged = NULL, *tomb = NULL, *recs[2];
	vl_value *kept = NULL;
	vl_buf summary = VL_BUF_INIT, trailer = VL_BUF_INIT, hooks = VL_BUF_INIT, diag = VL_BUF_INIT;
	char hk[41], ho[41];
	vl_merge_side base = { NULL, NULL }, sk, so;
	vl_merge_env env;
	vl_merge_stats st;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&keep, 0, sizeof(keep));
	memset(&other, 0, sizeof(other));
	if (!opts || !opts->keep || !opts->other || !strcmp(opts->keep, opts->other))
		return vl_error_set(VL_EINVALID, "join-records needs two different record ids");
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&keep, n, opts->keep)) < 0 ||
			(rc = vl_ledger_find(&other, n, opts->other)) < 0 || (rc = vl_ledger_may_write(n, keep.scope)) < 0)
		goto out;
	if (strcmp(keep.rec->schema, other.rec->schema) != 0 || strcmp(keep.scope, other.scope) != 0 ||
			keep.rec->deleted || other.rec->deleted) {
		rc = vl_error_set(VL_EINVALID, "only two live records of one ledger and one scope can be joined");
		goto out;
	}
	/* The other record as a second version of the kept one, merged against
	 * an empty base by the field rules (like an add/add). */
	if ((rc = vl_record_new(&alias, other.rec->schema, keep.rec->id, other.rec->scope)) < 0)
		goto out;
	vl_value_free(alias->data);
	alias->data = vl_value_clone(other.rec->data);
	memcpy(alias->clock, other.rec->clock, sizeof(alias->clock));
	memcpy(alias->author, other.rec->author, sizeof(alias->author));
	git_oid_tostr(hk, sizeof(hk), &keep.blob);
	git_oid_tostr(ho, sizeof(ho), &other.blob);
	sk = (vl_merge_side){ keep.rec, hk };
	so = (vl_merge_side){ alias, ho };
	if ((rc = vl_buf_printf(&hooks, "%s/hooks", n->home)) < 0)
		goto out;
	env.hooks_dir = hooks.ptr;
	env.timeout_ms = VL_HOOK_TIMEOUT_MS;
	if ((rc = vl_merge_record(&merged, keep.schema, &base, &sk, &so, &env, &st, NULL)) < 0)
		goto out;
	if ((rc = vl_record_new(&tomb, other.rec->schema, other.rec->id, other.rec->scope)) < 0 ||
			(rc = vl_schema_tombstone_data(&kept, other.schema, other.rec->data)) < 0)
		goto out;
	vl_value_free(tomb->data);
	tomb->data = kept;
	kept = NULL;
	tomb->deleted = 1;
	tomb->prev = calloc(1, sizeof(*tomb->prev));
	if (!tomb->prev) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(tomb->prev[0], ho, 41);
	tomb->nprev = 1;
	if ((rc = vl_schema_validate(keep.schema, merged->data, 0, &diag)) == VL_ENOMEM)
		goto out;
	if (rc < 0) {
		rc = vl_error_set(VL_EINVALID, "the joined record breaks ledger '%s' rules:\n%snothing was written",
				keep.schema->name, diag.ptr ? diag.ptr : "");
		goto out;
	}
	recs[0] = merged;
	recs[1] = tomb;
	if ((rc = vl_buf_printf(&summary, "join %s %s %s", keep.rec->schema, keep.rec->id, other.rec->id)) < 0 ||
			(rc = vl_buf_printf(&trailer, "Vledger-Join: %s %s\n", keep.rec->id, other.rec->id)) < 0 ||
			(rc = vl_ledger_commit(&out->commit, n, keep.scope, recs, 2, summary.ptr, trailer.ptr)) < 0)
		goto out;
	memcpy(out->keep, keep.rec->id, sizeof(out->keep));
	memcpy(out->other, other.rec->id, sizeof(out->other));
	out->conflicts = st.conflicts;
	rc = 0;
out:
	vl_found_free(&keep);
	vl_found_free(&other);
	vl_record_free(alias);
	vl_record_free(merged);
	vl_record_free(tomb);
	vl_value_free(kept);
	vl_buf_free(&summary);
	vl_buf_free(&trailer);
	vl_buf_free(&hooks);
	vl_buf_free(&diag);
	return rc;
}
