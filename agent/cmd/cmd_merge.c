/* cmd_merge.c - merge, conflicts, resolve, join-records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "agent/node/ledger.h"
#include "store/repo.h"
#include "agent/sync/treemerge.h"
#include "store/yaml.h"

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

int vl_cmd_merge(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *scope = NULL;
	const vl_opt opts[] = { { "--scope", 1, &scope, NULL, NULL }, { NULL, 0, NULL, NULL, NULL } };
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	git_object *obj = NULL;
	git_reference *ref = NULL;
	vl_merge_summary sum;
	git_oid ours, theirs, result;
	char refname[64];
	int rc, kind, have_ours, exit_code = VL_EXIT_ERROR;

	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs the ref or commit to merge");
	}
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = vl_node_load_config(n)) < 0)
		goto fail;
	if ((rc = git_revparse_single(&obj, n->repo, pos[0])) < 0) {
		rc = vl_error_set(VL_ENOTFOUND, "'%s' names no commit in this node's repository", pos[0]);
		goto fail;
	}
	if (git_object_type(obj) != GIT_OBJECT_COMMIT) {
		rc = vl_error_set(VL_EINVALID, "'%s' is not a commit", pos[0]);
		goto fail;
	}
	git_oid_cpy(&theirs, git_object_id(obj));
	if (!scope)
		scope = scope_of_ref(pos[0]);
	if (!scope)
		scope = n->scope;
	vl_scope_ref(refname, scope);
	rc = vl_repo_head(&ours, n->repo, refname);
	if (rc < 0 && rc != VL_ENOTFOUND)
		goto fail;
	have_ours = rc == 0;
	memset(&sum, 0, sizeof(sum));
	if (!have_ours) {
		git_oid_cpy(&result, &theirs);
		kind = 0;
	} else if ((rc = vl_merge_heads(&result, &kind, n, scope, &ours, &theirs, &sum)) < 0) {
		goto fail;
	}
	if (have_ours && git_oid_equal(&result, &ours)) {
		printf("scope/%s is up to date (%.12s)\n", scope, git_oid_tostr_s(&ours));
		exit_code = VL_EXIT_OK;
		goto out;
	}
	rc = have_ours ? git_reference_create_matching(&ref, n->repo, refname, &result, 1, &ours, "vledger merge")
		       : git_reference_create(&ref, n->repo, refname, &result, 0, "vledger merge");
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS) {
		rc = vl_error_set(VL_ECONFLICT, "scope/%s moved while merging; run the merge again", scope);
		goto fail;
	}
	if (rc < 0) {
		rc = vl_error_git(rc, "cannot move the branch");
		goto fail;
	}
	if (!kind)
		printf("scope/%s fast-forwarded to %.12s\n", scope, git_oid_tostr_s(&result));
	else
		printf("scope/%s merged: %.12s (%zu records merged, %zu taken from one side, %zu fields left "
				"for a person%s)\n", scope, git_oid_tostr_s(&result), sum.records_merged,
				sum.records_taken, sum.conflicts, sum.conflicts ? "; see 'vledger conflicts'" : "");
	exit_code = sum.conflicts ? VL_EXIT_CONFLICTS : VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	git_reference_free(ref);
	git_object_free(obj);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

typedef struct {
	vl_node *n;
	const vl_schema *s;
	int json, reveal, duplicates;
	size_t count;
	vl_buf out;
	/* duplicates: identity key -> ids */
	char **keys;
	char **ids;
	size_t nkeys, capkeys;
} conf_ctx;

/* A candidate value as text for people, masked when the field is pii. */
static int candidate_text(vl_buf *out, const conf_ctx *c, const char *field, const vl_value *v)
{
	const vl_field *f = vl_schema_field(c->s, field);
	vl_value *probe = NULL, *masked = NULL;
	int rc;

	if (!v || v->kind == VL_V_NULL)
		return vl_buf_puts(out, "(absent)");
	if (f && f->pii && !c->reveal) {
		if (!(probe = vl_value_new(VL_V_MAP)) || vl_value_map_set(probe, field, vl_value_clone(v)) < 0 ||
				(rc = vl_schema_mask(&masked, c->s, probe)) < 0) {
			vl_value_free(probe);
			return vl_error_set(VL_ENOMEM, "out of memory");
		}
		v = vl_value_map_get(masked, field);
	}
	rc = v->kind == VL_V_LIST || v->kind == VL_V_MAP ? vl_json_emit(out, v, 0) : vl_buf_puts(out, v->s);
	vl_value_free(probe);
	vl_value_free(masked);
	return rc;
}

static int conf_one(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	conf_ctx *c = ctx;
	vl_record *r = NULL;
	vl_buf key = VL_BUF_INIT, text = VL_BUF_INIT;
	size_t i, j;
	int rc;

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
		rc = 0;
		goto out;
	}
	if (!r->conflicts) {
		rc = 0;
		goto out;
	}
	for (i = 0; i < r->conflicts->n; i++) {
		const vl_value *cands = r->conflicts->items[i];
		const char *field = r->conflicts->keys[i];
		if (c->json) {
			if ((rc = vl_buf_printf(&c->out, "%s{\"ledger\":\"%s\",\"id\":\"%s\",\"scope\":\"%s\",\"field\":",
					c->count ? "," : "", r->schema, r->id, r->scope)) < 0 ||
					(rc = vl_json_str(&c->out, field, strlen(field))) < 0 ||
					(rc = vl_buf_puts(&c->out, ",\"candidates\":[")) < 0)
				goto out;
		} else {
			printf("%s %s  field %s%s\n", r->schema, r->id, field, r->deleted ? "  (record deleted)" : "");
		}
		for (j = 0; cands->kind == VL_V_LIST && j < cands->n; j++) {
			const vl_value *cd = cands->items[j];
			const vl_value *author = vl_value_map_get(cd, "author"), *clock = vl_value_map_get(cd, "clock");
			const vl_roster_entry *who = author && author->kind == VL_V_STR ?
					vl_node_roster_find(c->n, author->s) : NULL;
			vl_buf_clear(&text);
			if ((rc = candidate_text(&text, c, field, vl_value_map_get(cd, "value"))) < 0)
				goto out;
			if (c->json) {
				if ((rc = vl_buf_printf(&c->out, "%s{\"n\":%zu,\"value\":", j ? "," : "", j + 1)) < 0 ||
						(rc = vl_json_str(&c->out, text.ptr, text.len)) < 0 ||
						(rc = vl_buf_puts(&c->out, ",\"author\":")) < 0 ||
						(rc = vl_json_str(&c->out, author ? vl_value_text(author) : "", author ? strlen(vl_value_text(author)) : 0)) < 0 ||
						(rc = vl_buf_puts(&c->out, ",\"name\":")) < 0 ||
						(rc = who ? vl_json_str(&c->out, who->name, strlen(who->name)) : vl_buf_puts(&c->out, "null")) < 0 ||
						(rc = vl_buf_printf(&c->out, ",\"clock\":\"%s\"}", clock ? vl_value_text(clock) : "")) < 0)
					goto out;
			} else {
				printf("  [%zu] %s  — %s %s\n", j + 1, text.ptr, who ? who->name : (author ? vl_value_text(author) : "?"),
						clock ? vl_value_text(clock) : "");
			}
		}
		if (c->json && (rc = vl_buf_puts(&c->out, "]}")) < 0)
			goto out;
		c->count++;
	}
	rc = 0;
out:
	vl_buf_free(&key);
	vl_buf_free(&text);
	vl_record_free(r);
	return rc;
}

int vl_cmd_conflicts(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *scope = NULL;
	conf_ctx c;
	const vl_opt opts[] = {
		{ "--scope", 1, &scope, NULL, NULL }, { "--json", 0, NULL, &c.json, NULL },
		{ "--reveal", 0, NULL, &c.reveal, NULL }, { "--duplicates", 0, NULL, &c.duplicates, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	size_t i, j, groups = 0;
	char ref[64];
	git_oid head;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&c, 0, sizeof(c));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&c.n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_node_load_config(c.n)) < 0)
		goto fail;
	vl_scope_ref(ref, scope ? scope : c.n->scope);
	rc = vl_repo_head(&head, c.n->repo, ref);
	if (rc == VL_ENOTFOUND) {
		printf(c.json ? "[]\n" : "no records in scope %s\n", scope ? scope : c.n->scope);
		exit_code = VL_EXIT_OK;
		goto out;
	}
	if (rc < 0 || (c.json && (rc = vl_buf_putc(&c.out, '[')) < 0))
		goto fail;
	for (i = 0; i < c.n->nschemas; i++) {
		size_t k;
		c.s = c.n->schemas[i];
		if ((rc = vl_ledger_each(c.n, &head, c.s->name, conf_one, &c)) < 0)
			goto fail;
		if (!c.duplicates)
			continue;
		/* Group equal identity keys (few thousand per village: quadratic is fine). */
		for (j = 0; j < c.nkeys; j++) {
			size_t members = 0;
			if (!c.keys[j])
				continue;
			for (k = j + 1; k < c.nkeys; k++)
				members += c.keys[k] && !strcmp(c.keys[k], c.keys[j]);
			if (!members)
				continue;
			if (c.json) {
				if ((rc = vl_buf_printf(&c.out, "%s{\"ledger\":\"%s\",\"ids\":[\"%s\"", groups ? "," : "",
						c.s->name, c.ids[j])) < 0)
					goto fail;
			} else {
				printf("%s: the same %s on records %s", c.s->name, c.s->identity[0], c.ids[j]);
			}
			for (k = j + 1; k < c.nkeys; k++) {
				if (!c.keys[k] || strcmp(c.keys[k], c.keys[j]) != 0)
					continue;
				if (c.json ? (rc = vl_buf_printf(&c.out, ",\"%s\"", c.ids[k])) < 0 : (printf(" %s", c.ids[k]), 0))
					goto fail;
				free(c.keys[k]);
				c.keys[k] = NULL;
			}
			if (c.json ? (rc = vl_buf_puts(&c.out, "]}")) < 0 : (printf("\n  join them with 'vledger join-records KEEP OTHER'\n"), 0))
				goto fail;
			groups++;
		}
		for (j = 0; j < c.nkeys; j++) {
			free(c.keys[j]);
			free(c.ids[j]);
		}
		c.nkeys = 0;
	}
	if (c.json)
		printf("%s]\n", c.out.ptr);
	else if (c.duplicates)
		printf("%zu group%s of duplicates\n", groups, groups == 1 ? "" : "s");
	else
		printf("%zu field%s left for a person\n", c.count, c.count == 1 ? "" : "s");
	exit_code = (c.duplicates ? groups : c.count) ? VL_EXIT_CONFLICTS : VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	for (j = 0; j < c.nkeys; j++) {
		free(c.keys[j]);
		free(c.ids[j]);
	}
	free(c.keys);
	free(c.ids);
	vl_buf_free(&c.out);
	vl_node_close(c.n);
	return exit_code;
}

int vl_cmd_resolve(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *take = NULL, *value = NULL, *passfile = NULL;
	const vl_opt opts[] = {
		{ "--take", 1, &take, NULL, NULL }, { "--value", 1, &value, NULL, NULL },
		{ "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_found f;
	vl_record *r = NULL, *src = NULL;
	vl_buf summary = VL_BUF_INIT, diag = VL_BUF_INIT, raw = VL_BUF_INIT, path = VL_BUF_INIT;
	const vl_value *cands;
	git_oid commit;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&f, 0, sizeof(f));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 2 || (!take == !value)) {
		free(pos);
		return vl_cli_usage(cmd, "needs a record id, a field, and one of --take N or --value V");
	}
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&f, n, pos[0])) < 0 ||
			(rc = vl_ledger_may_write(n, f.scope)) < 0)
		goto fail;
	cands = f.rec->conflicts ? vl_value_map_get(f.rec->conflicts, pos[1]) : NULL;
	if (!cands || cands->kind != VL_V_LIST) {
		rc = vl_error_set(VL_ENOTFOUND, "record %s has no conflict on '%s'; 'vledger conflicts' lists them",
				f.rec->id, pos[1]);
		goto fail;
	}
	if ((rc = vl_ledger_next_version(&r, &f)) < 0)
		goto fail;
	if (take) {
		char *end;
		unsigned long k = strtoul(take, &end, 10);
		const vl_value *cand, *v;
		if (*end || k == 0 || k > cands->n) {
			rc = vl_error_set(VL_EINVALID, "--take needs a candidate number from 1 to %zu", cands->n);
			goto fail;
		}
		cand = cands->items[k - 1];
		v = vl_value_map_get(cand, "value");
		if (!strcmp(pos[1], "_deleted")) {
			/* Edit against delete: the candidate's own version says which. */
			const vl_value *from = vl_value_map_get(cand, "from");
			git_oid id;
			git_blob *blob = NULL;
			if (!from || from->kind != VL_V_STR || git_oid_fromstr(&id, from->s) < 0 ||
					git_blob_lookup(&blob, n->repo, &id) < 0) {
				rc = vl_error_set(VL_ENOTFOUND, "the version candidate %lu came from is not in this repository", k);
				goto fail;
			}
			rc = vl_buf_put(&raw, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
			git_blob_free(blob);
			if (rc < 0 || (rc = vl_record_parse(&src, raw.ptr, raw.len, "candidate")) < 0)
				goto fail;
			r->deleted = src->deleted;
			vl_value_free(r->data);
			r->data = vl_value_clone(src->data);
		} else if (!v || v->kind == VL_V_NULL) {
			(void)vl_value_map_del(r->data, pos[1]);
		} else if ((rc = vl_value_map_set(r->data, pos[1], vl_value_clone(v))) < 0) {
			goto fail;
		} else if ((rc = vl_schema_normalize(f.schema, r->data)) < 0) {
			goto fail;
		}
	} else if ((rc = vl_schema_set_text(f.schema, r->data, pos[1], value)) < 0) {
		goto fail;
	}
	(void)vl_value_map_del(r->conflicts, pos[1]);
	if (r->conflicts->n == 0) {
		vl_value_free(r->conflicts);
		r->conflicts = NULL;
	}
	if (vl_schema_validate(f.schema, r->data, r->deleted, &diag) < 0) {
		rc = vl_error_set(VL_EINVALID, "the resolved record breaks ledger '%s' rules:\n%snothing was written",
				f.schema->name, diag.ptr ? diag.ptr : "");
		goto fail;
	}
	if ((rc = vl_buf_printf(&summary, "resolve %s %s %s", r->schema, r->id, pos[1])) < 0 ||
			(rc = vl_ledger_commit(&commit, n, f.scope, &r, 1, summary.ptr, NULL)) < 0)
		goto fail;
	printf("%s: '%s' resolved\n", r->id, pos[1]);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_found_free(&f);
	vl_record_free(r);
	vl_record_free(src);
	vl_buf_free(&summary);
	vl_buf_free(&diag);
	vl_buf_free(&raw);
	vl_buf_free(&path);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

int vl_cmd_join_records(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *passfile = NULL;
	const vl_opt opts[] = { { "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL } };
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_found keep, other;
	vl_record *alias = NULL, *merged = NULL, *tomb = NULL, *recs[2];
	vl_value *kept = NULL;
	vl_buf summary = VL_BUF_INIT, trailer = VL_BUF_INIT, hooks = VL_BUF_INIT, diag = VL_BUF_INIT;
	char hk[41], ho[41];
	vl_merge_side base = { NULL, NULL }, sk, so;
	vl_merge_env env;
	vl_merge_stats st;
	git_oid commit;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&keep, 0, sizeof(keep));
	memset(&other, 0, sizeof(other));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 2 || !strcmp(pos[0], pos[1])) {
		free(pos);
		return vl_cli_usage(cmd, "needs two different record ids: the one to keep, then the other");
	}
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		goto out;
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&keep, n, pos[0])) < 0 ||
			(rc = vl_ledger_find(&other, n, pos[1])) < 0 || (rc = vl_ledger_may_write(n, keep.scope)) < 0)
		goto fail;
	if (strcmp(keep.rec->schema, other.rec->schema) != 0 || strcmp(keep.scope, other.scope) != 0 ||
			keep.rec->deleted || other.rec->deleted) {
		rc = vl_error_set(VL_EINVALID, "only two live records of one ledger and one scope can be joined");
		goto fail;
	}
	/* The other record as a second version of the kept one, merged against
	 * an empty base by the field rules (like an add/add). */
	if ((rc = vl_record_new(&alias, other.rec->schema, keep.rec->id, other.rec->scope)) < 0)
		goto fail;
	vl_value_free(alias->data);
	alias->data = vl_value_clone(other.rec->data);
	memcpy(alias->clock, other.rec->clock, sizeof(alias->clock));
	memcpy(alias->author, other.rec->author, sizeof(alias->author));
	git_oid_tostr(hk, sizeof(hk), &keep.blob);
	git_oid_tostr(ho, sizeof(ho), &other.blob);
	sk = (vl_merge_side){ keep.rec, hk };
	so = (vl_merge_side){ alias, ho };
	if ((rc = vl_buf_printf(&hooks, "%s/hooks", n->home)) < 0)
		goto fail;
	env.hooks_dir = hooks.ptr;
	env.timeout_ms = VL_HOOK_TIMEOUT_MS;
	if ((rc = vl_merge_record(&merged, keep.schema, &base, &sk, &so, &env, &st, NULL)) < 0)
		goto fail;
	if ((rc = vl_record_new(&tomb, other.rec->schema, other.rec->id, other.rec->scope)) < 0 ||
			(rc = vl_schema_tombstone_data(&kept, other.schema, other.rec->data)) < 0)
		goto fail;
	vl_value_free(tomb->data);
	tomb->data = kept;
	kept = NULL;
	tomb->deleted = 1;
	tomb->prev = calloc(1, sizeof(*tomb->prev));
	if (!tomb->prev) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(tomb->prev[0], ho, 41);
	tomb->nprev = 1;
	if (vl_schema_validate(keep.schema, merged->data, 0, &diag) < 0) {
		rc = vl_error_set(VL_EINVALID, "the joined record breaks ledger '%s' rules:\n%snothing was written",
				keep.schema->name, diag.ptr ? diag.ptr : "");
		goto fail;
	}
	recs[0] = merged;
	recs[1] = tomb;
	if ((rc = vl_buf_printf(&summary, "join %s %s %s", keep.rec->schema, keep.rec->id, other.rec->id)) < 0 ||
			(rc = vl_buf_printf(&trailer, "Vledger-Join: %s %s\n", keep.rec->id, other.rec->id)) < 0 ||
			(rc = vl_ledger_commit(&commit, n, keep.scope, recs, 2, summary.ptr, trailer.ptr)) < 0)
		goto fail;
	printf("%s joined into %s (%s deleted)%s\n", other.rec->id, keep.rec->id, other.rec->id,
			st.conflicts ? "; fields that differ are listed by 'vledger conflicts'" : "");
	exit_code = st.conflicts ? VL_EXIT_CONFLICTS : VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
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
	vl_node_close(n);
	free(pos);
	return exit_code;
}
