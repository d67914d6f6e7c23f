/* schema.c - schema list, show, check as operations (ops/schema.h). */
#include "agent/ops/schema.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/i18n.h"
#include "agent/node/roster.h"
#include "store/repo.h"
#include "store/yaml.h"

void vl_schema_result_free(vl_schema_result *r)
{
	if (!r)
		return;
	if (r->from_dir)
		vl_schemas_free(r->list, r->n);
	memset(r, 0, sizeof(*r));
}

int vl_schema_list(vl_node *n, const vl_schema_opts *opts, vl_schema_result *out)
{
	vl_buf diag = VL_BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if (n && vl_node_load_config(n) == 0) {
		out->list = n->schemas;
		out->n = n->nschemas;
		return 0;
	}
	if (!opts || !opts->schema_dir)
		return vl_error_set(VL_ENOTFOUND, "no node config and no schema directory to read schemas from");
	rc = vl_schemas_load_dir(&out->list, &out->n, opts->schema_dir, &diag);
	if (rc < 0 && diag.len)
		vl_error_set(rc, "%s", diag.ptr);
	vl_buf_free(&diag);
	if (rc < 0)
		return rc;
	out->from_dir = 1;
	return 0;
}

int vl_schema_show(vl_node *n, const vl_schema_opts *opts, vl_schema_result *out)
{
	int rc;

	if (!opts || !opts->name) {
		memset(out, 0, sizeof(*out));
		return vl_error_set(VL_EINVALID, "schema show needs a ledger name");
	}
	if ((rc = vl_schema_list(n, opts, out)) < 0)
		return rc;
	out->schema = vl_schema_lookup(out->list, out->n, opts->name);
	if (!out->schema)
		return vl_error_set(VL_ENOTFOUND, "no ledger '%s'; 'vledger schema list' shows them", opts->name);
	return 0;
}

void vl_schema_check_result_free(vl_schema_check_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		vl_schema_free(r->items[i].schema);
		free(r->items[i].diag);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

int vl_schema_check(vl_node *n, const vl_schema_check_opts *opts, vl_schema_check_result *out)
{
	size_t i;

	(void)n;
	memset(out, 0, sizeof(*out));
	if (!opts || !opts->nfiles)
		return vl_error_set(VL_EINVALID, "schema check needs at least one schema file");
	if (!(out->items = calloc(opts->nfiles, sizeof(*out->items))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < opts->nfiles; i++) {
		vl_schema_check_item *it = &out->items[out->n++];
		vl_buf in = VL_BUF_INIT, diag = VL_BUF_INIT;
		int rc;
		it->file = opts->files[i];
		vl_progress_report(&opts->progress, N_("check"), i, opts->nfiles);
		rc = vl_buf_read_file(&in, it->file, vl_yaml_file_limits.max_bytes);
		if (rc == 0)
			rc = vl_schema_load(&it->schema, in.ptr, in.len, it->file, &diag);
		if (rc < 0) {
			out->bad++;
			if (!diag.len)
				rc = vl_buf_printf(&diag, "%s\n", vl_error_last());
			it->diag = vl_buf_detach(&diag, NULL);
			if (!it->diag) {
				vl_buf_free(&in);
				return vl_error_set(VL_ENOMEM, "out of memory");
			}
		}
		vl_buf_free(&in);
		vl_buf_free(&diag);
	}
	return 0;
}

/* ---- schema install --------------------------------------------------------- */

#define INSTALL_PROBLEMS_MAX 20   /* refusal lines listed; the rest counted */

typedef struct {
	char *path;                  /* the file read */
	vl_buf bytes;
	vl_schema *s;
	const vl_schema *old;        /* the network's, borrowed from the node; NULL if new */
	int changed;
} inst_item;

/* A set of object ids (open addressing): each tree and blob is read once
 * however many commits share it. */
typedef struct {
	git_oid *ids;
	unsigned char *used;
	size_t cap, n;
} oidset;

static void oidset_free(oidset *s)
{
	free(s->ids);
	free(s->used);
	memset(s, 0, sizeof(*s));
}

static size_t oid_hash(const git_oid *id)
{
	size_t h = 0;

	memcpy(&h, id->id, sizeof(h) < sizeof(id->id) ? sizeof(h) : sizeof(id->id));
	return h;
}

/* 1: added, 0: there already, VL_ENOMEM. */
static int oidset_add(oidset *s, const git_oid *id)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		oidset bigger;
		size_t k;

		memset(&bigger, 0, sizeof(bigger));
		bigger.cap = s->cap ? s->cap * 2 : 1024;
		if (!(bigger.ids = calloc(bigger.cap, sizeof(*bigger.ids))) ||
				!(bigger.used = calloc(bigger.cap, 1))) {
			oidset_free(&bigger);
			return vl_error_set(VL_ENOMEM, "out of memory");
		}
		for (k = 0; k < s->cap; k++)
			if (s->used[k]) {
				for (i = oid_hash(&s->ids[k]) & (bigger.cap - 1); bigger.used[i]; i = (i + 1) & (bigger.cap - 1))
					;
				bigger.used[i] = 1;
				git_oid_cpy(&bigger.ids[i], &s->ids[k]);
			}
		bigger.n = s->n;
		oidset_free(s);
		*s = bigger;
	}
	for (i = oid_hash(id) & (s->cap - 1); s->used[i]; i = (i + 1) & (s->cap - 1))
		if (git_oid_equal(&s->ids[i], id))
			return 0;
	s->used[i] = 1;
	git_oid_cpy(&s->ids[i], id);
	s->n++;
	return 1;
}

typedef struct {
	vl_node *n;
	oidset seen;
	size_t checked;              /* record versions validated */
	size_t bad;                  /* problems found */
	vl_buf why;                  /* the first INSTALL_PROBLEMS_MAX, one a line */
	const vl_progress *progress;
} rcheck;

static int problem(vl_buf *why, size_t *bad, const char *fmt, ...) VL_PRINTF(3, 4);

/* Note one reason to refuse (listed up to INSTALL_PROBLEMS_MAX). */
static int problem(vl_buf *why, size_t *bad, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	(*bad)++;
	if (*bad > INSTALL_PROBLEMS_MAX)
		return 0;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return vl_buf_printf(why, "  %s\n", line) < 0 ? vl_error_set(VL_ENOMEM, "out of memory") : 0;
}

/* Validate one record version under the new schema s. Messages name the
 * record and the field and rule, never a value (vl_schema_validate's). */
static int check_record(rcheck *c, const inst_item *it, const git_tree_entry *e, const git_oid *commit)
{
	git_blob *b = NULL;
	vl_record *r = NULL;
	vl_buf diag = VL_BUF_INIT;
	char *nl = NULL;
	int rc;

	if ((rc = oidset_add(&c->seen, git_tree_entry_id(e))) <= 0)
		return rc;
	if ((rc = git_blob_lookup(&b, c->n->repo, git_tree_entry_id(e))) < 0)
		return vl_error_git(rc, "cannot read a record");
	/* A record that does not parse is verify's to report, not a schema's. */
	if (vl_record_parse(&r, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), git_tree_entry_name(e)) < 0) {
		rc = 0;
		goto out;
	}
	c->checked++;
	if ((c->checked & 1023) == 0)
		vl_progress_report(c->progress, N_("check records"), c->checked, 0);
	if ((rc = vl_schema_validate(it->s, r->data, r->deleted, &diag)) == VL_ENOMEM)
		goto out;
	if (rc < 0) {
		if (diag.ptr && (nl = strchr(diag.ptr, '\n')) != NULL)
			*nl = '\0';
		rc = problem(&c->why, &c->bad, _("%s record %s (in commit %.12s) would break version %d: %s"),
				it->s->name, r->id, git_oid_tostr_s(commit), it->s->version,
				diag.ptr ? diag.ptr : vl_error_last());
	}
out:
	vl_buf_free(&diag);
	vl_record_free(r);
	git_blob_free(b);
	return rc;
}

/* <ledger>/<bucket>/<id>.yaml: depth 0 is the ledger's tree, 1 a bucket. */
static int check_tree(rcheck *c, const inst_item *it, const git_oid *tree_id, int depth, const git_oid *commit)
{
	git_tree *t = NULL;
	size_t i;
	int rc;

	if ((rc = oidset_add(&c->seen, tree_id)) <= 0)
		return rc;
	if ((rc = git_tree_lookup(&t, c->n->repo, tree_id)) < 0)
		return vl_error_git(rc, "cannot read a tree");
	for (i = 0, rc = 0; rc >= 0 && i < git_tree_entrycount(t); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		if (depth == 0 && git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = check_tree(c, it, git_tree_entry_id(e), 1, commit);
		else if (depth == 1 && git_tree_entry_type(e) == GIT_OBJECT_BLOB)
			rc = check_record(c, it, e, commit);
	}
	git_tree_free(t);
	return rc;
}

/* Every record version of the upgraded ledgers, in every commit of every
 * scope branch this node holds, under its new schema. */
static int check_held_records(rcheck *c, inst_item *items, size_t nitems)
{
	git_revwalk *walk = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_oid id;
	size_t i;
	int rc;

	if ((rc = git_revwalk_new(&walk, c->n->repo)) < 0)
		return vl_error_git(rc, "cannot walk the scope branches");
	rc = git_revwalk_push_glob(walk, VL_REF_SCOPE_PREFIX "*");
	if (rc < 0 && rc != GIT_ENOTFOUND) {
		rc = vl_error_git(rc, "cannot walk the scope branches");
		goto out;
	}
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		if ((rc = git_commit_lookup(&commit, c->n->repo, &id)) < 0 || (rc = git_commit_tree(&tree, commit)) < 0) {
			rc = vl_error_git(rc, "cannot read a commit of a scope branch");
			goto out;
		}
		for (i = 0; i < nitems; i++) {
			const git_tree_entry *e;
			if (!items[i].changed || !items[i].old)
				continue;
			e = git_tree_entry_byname(tree, items[i].s->name);
			if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
					(rc = check_tree(c, &items[i], git_tree_entry_id(e), 0, &id)) < 0)
				goto out;
		}
		git_tree_free(tree);
		tree = NULL;
		git_commit_free(commit);
		commit = NULL;
	}
	rc = rc == GIT_ITEROVER ? 0 : vl_error_git(rc, "cannot walk the scope branches");
out:
	git_tree_free(tree);
	git_commit_free(commit);
	git_revwalk_free(walk);
	return rc;
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int in_list(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* Would the new schema merge what the old one merged differently? verify
 * replays every past merge with the head's schemas, so it must not. */
static int check_merge_rules(vl_buf *why, size_t *bad, const vl_schema *old, const vl_schema *s)
{
	size_t i, j, k;
	int rc = 0;

	if (old->edit_wins != s->edit_wins)
		rc = problem(why, bad, _("%s: 'on_delete' changes from %s to %s, which would change past merges; "
				"keep it"), s->name, old->on_delete, s->on_delete);
	for (i = 0; rc == 0 && i < old->nfields; i++) {
		const vl_field *f0 = &old->fields[i], *f1 = vl_schema_field(s, f0->name);
		if (!f1)
			continue; /* a removed field: the held records say whether that is safe */
		if (f0->type != f1->type)
			rc = problem(why, bad, _("%s field '%s': its type changes from %s to %s; add a new field "
					"instead"), s->name, f0->name, vl_ftype_name(f0->type), vl_ftype_name(f1->type));
		else if (f0->rule != f1->rule || !str_eq(f0->hook, f1->hook) || !str_eq(f0->hook_sha256, f1->hook_sha256))
			rc = problem(why, bad, _("%s field '%s': its merge rule changes from '%s' to '%s', which would "
					"change past merges; add a new field instead"), s->name, f0->name,
					f0->merge ? f0->merge : "lww", f1->merge ? f1->merge : "lww");
		else if (!str_eq(f0->item_key, f1->item_key))
			rc = problem(why, bad, _("%s field '%s': its item key changes, which would change past merges"),
					s->name, f0->name);
		if (rc < 0 || f0->rule != VL_RULE_ORDER || f0->rule != f1->rule)
			continue;
		/* The old states keep their order; new states may come between. */
		for (j = 0, k = 0; j < f0->norder && k < f1->norder; k++)
			if (strcmp(f0->order[j], f1->order[k]) == 0)
				j++;
		if (j < f0->norder)
			rc = problem(why, bad, _("%s field '%s': the states of 'order' must keep their order (new "
					"states may be added between them)"), s->name, f0->name);
		for (j = 0; rc == 0 && j < f0->nopts; j++)
			if (in_list(f0->terminal, f0->nterminal, f0->opts[j].value) !=
					in_list(f1->terminal, f1->nterminal, f0->opts[j].value))
				rc = problem(why, bad, _("%s field '%s': state '%s' changes whether it is terminal, which "
						"would change past merges"), s->name, f0->name, f0->opts[j].value);
	}
	return rc;
}

/* Ref fields (and items) must name a ledger the network will have. */
static int check_refs(vl_buf *why, size_t *bad, vl_node *n, const inst_item *items, size_t nitems,
		const vl_schema *s, const vl_field *fs, size_t nfs)
{
	size_t i, k;
	int rc = 0;

	for (i = 0; rc == 0 && i < nfs; i++) {
		const vl_field *f = &fs[i];
		if (f->ref && !vl_node_schema(n, f->ref)) {
			for (k = 0; k < nitems && strcmp(items[k].s->name, f->ref) != 0; k++)
				;
			if (k == nitems)
				rc = problem(why, bad, _("%s field '%s' refers to ledger '%s', which the network does not "
						"have: install %s.yaml with it"), s->name, f->name, f->ref, f->ref);
		}
		if (rc == 0 && f->nitem_fields)
			rc = check_refs(why, bad, n, items, nitems, s, f->item_fields, f->nitem_fields);
	}
	return rc;
}

static int cmp_item_name(const void *a, const void *b)
{
	return strcmp(((const inst_item *)a)->s->name, ((const inst_item *)b)->s->name);
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml files of dir, sorted, as "dir/name" paths into *out. */
static int dir_files(char ***out, size_t *nout, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de = NULL;
	char **v = NULL, **nv = NULL;
	size_t n = 0, cap = 0, i;
	vl_buf p = VL_BUF_INIT;
	int rc = 0;

	if (!d)
		return vl_error_set(VL_ENOTFOUND, "cannot open the schema directory '%s'; set VLEDGER_SCHEMA_DIR", dir);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 6 || de->d_name[0] == '.' || strcmp(de->d_name + l - 5, ".yaml") != 0)
			continue;
		if (n == cap) {
			if (!(nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v)))) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			v = nv;
		}
		vl_buf_clear(&p);
		if ((rc = vl_buf_printf(&p, "%s/%s", dir, de->d_name)) < 0 || !(v[n] = vl_buf_detach(&p, NULL))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_cstr);
	*out = v;
	*nout = n;
	v = NULL;
out:
	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
	vl_buf_free(&p);
	closedir(d);
	return rc;
}

void vl_schema_install_result_free(vl_schema_install_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->items[i].name);
	free(r->items);
	free(r->warnings);
	memset(r, 0, sizeof(*r));
}

int vl_schema_install(vl_node *n, const vl_schema_install_opts *opts, vl_schema_install_result *out)
{
	inst_item *items = NULL;
	char **paths = NULL;
	size_t npaths = 0, nitems = 0, i, bad = 0, nch = 0;
	vl_buf why = VL_BUF_INIT, diag = VL_BUF_INIT, summary = VL_BUF_INIT, warn = VL_BUF_INIT, cur = VL_BUF_INIT;
	vl_change *changes = NULL;
	vl_buf *cpaths = NULL;
	rcheck rc_ctx;
	const char *county = NULL;
	git_oid head;
	char clock[VL_HLC_TEXT_LEN + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&rc_ctx, 0, sizeof(rc_ctx));
	if (!opts || (!opts->nfiles == !opts->dir))
		return vl_error_set(VL_EINVALID, "schema install needs schema files or the shipped directory, not both");
	/* One writer: nothing may be added between the check and the commit. */
	if ((rc = vl_node_lock_write(n)) < 0 || (rc = vl_node_reload_config(n)) < 0)
		goto out;
	county = vl_value_map_get(n->network, "county") ? vl_value_map_get(n->network, "county")->s : NULL;
	if ((rc = vl_roster_check_change(n->roster, n->roster, n->fp, county, 1)) < 0) {
		vl_error_wrap(rc, "schemas are installed by an admin of the county");
		goto out;
	}
	if (opts->dir) {
		if ((rc = dir_files(&paths, &npaths, opts->dir)) < 0)
			goto out;
		if (npaths == 0) {
			rc = vl_error_set(VL_ENOTFOUND, "no schema files in '%s'; set VLEDGER_SCHEMA_DIR", opts->dir);
			goto out;
		}
	}
	nitems = opts->dir ? npaths : opts->nfiles;
	if (!(items = calloc(nitems, sizeof(*items)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	/* Every file loads, or nothing is installed: all problems listed. */
	for (i = 0; i < nitems; i++) {
		inst_item *it = &items[i];
		it->path = opts->dir ? paths[i] : (char *)opts->files[i];
		vl_progress_report(&opts->progress, N_("load schemas"), i, nitems);
		vl_buf_clear(&diag);
		rc = vl_buf_read_file(&it->bytes, it->path, vl_yaml_file_limits.max_bytes);
		if (rc == 0)
			rc = vl_schema_load(&it->s, it->bytes.ptr, it->bytes.len, it->path, &diag);
		if (rc == VL_ENOMEM)
			goto out;
		if (rc < 0) {
			bad++;
			if (vl_buf_printf(&why, "%s", diag.len ? diag.ptr : vl_error_last()) < 0 ||
					(!diag.len && vl_buf_putc(&why, '\n') < 0)) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
		} else if (it->s->warnings && vl_buf_puts(&warn, it->s->warnings) < 0) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (bad) {
		rc = vl_error_set(VL_EINVALID, "nothing installed: a schema file does not load:\n%s", why.ptr);
		goto out;
	}
	qsort(items, nitems, sizeof(*items), cmp_item_name);
	if ((rc = vl_repo_head(&head, n->repo, VL_REF_CONFIG)) < 0)
		goto out;
	/* Versions: new, the same, or higher with a change. */
	for (i = 0; i < nitems; i++) {
		inst_item *it = &items[i];
		vl_buf path = VL_BUF_INIT;
		if (i && strcmp(items[i - 1].s->name, it->s->name) == 0 &&
				(rc = problem(&why, &bad, _("two files declare ledger '%s' (%s, %s): give one"), it->s->name,
						items[i - 1].path, it->path)) < 0)
			goto out;
		it->old = vl_node_schema(n, it->s->name);
		if (!it->old) {
			it->changed = 1;
			continue;
		}
		vl_buf_clear(&cur);
		if ((rc = vl_buf_printf(&path, "schemas/%s.yaml", it->s->name)) == 0)
			rc = vl_repo_read(&cur, NULL, n->repo, NULL, &head, path.ptr, vl_yaml_file_limits.max_bytes);
		vl_buf_free(&path);
		if (rc < 0 && rc != VL_ENOTFOUND)
			goto out;
		it->changed = rc == VL_ENOTFOUND || cur.len != it->bytes.len ||
				(cur.len && memcmp(cur.ptr, it->bytes.ptr, cur.len) != 0);
		rc = 0;
		if (!it->changed)
			continue;
		if (it->s->version < it->old->version)
			rc = problem(&why, &bad, _("%s: %s is version %d, lower than the network's version %d: a "
					"lower version is never installed"), it->s->name, it->path, it->s->version,
					it->old->version);
		else if (it->s->version == it->old->version)
			rc = problem(&why, &bad, _("%s: %s differs from the network's version %d but has the same "
					"version: raise 'version' in the file"), it->s->name, it->path, it->old->version);
		else
			rc = check_merge_rules(&why, &bad, it->old, it->s);
		if (rc < 0)
			goto out;
	}
	for (i = 0; i < nitems; i++)
		if (items[i].changed &&
				(rc = check_refs(&why, &bad, n, items, nitems, items[i].s, items[i].s->fields,
						items[i].s->nfields)) < 0)
			goto out;
	if (!bad) {
		/* What this node holds must stay valid: verify reads every record
		 * version with the head's schemas. */
		rc_ctx.n = n;
		rc_ctx.progress = &opts->progress;
		rc = check_held_records(&rc_ctx, items, nitems);
		out->records_checked = rc_ctx.checked;
		if (rc < 0)
			goto out;
		bad = rc_ctx.bad;
		if (bad && (rc = vl_buf_puts(&why, rc_ctx.why.ptr)) < 0)
			goto out;
	}
	if (bad) {
		rc = vl_error_set(VL_EINVALID, "nothing installed: %zu problem%s:\n%s%s", bad, bad == 1 ? "" : "s",
				why.ptr, bad > INSTALL_PROBLEMS_MAX ? _("  (more not listed)\n") : "");
		goto out;
	}
	if (!(out->items = calloc(nitems, sizeof(*out->items)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nitems; i++) {
		vl_schema_install_item *o = &out->items[out->n++];
		if (!(o->name = strdup(items[i].s->name))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		o->old_version = items[i].old ? items[i].old->version : 0;
		o->new_version = items[i].s->version;
		o->changed = items[i].changed;
		out->installed += (size_t)items[i].changed;
	}
	if (warn.len && !(out->warnings = vl_buf_detach(&warn, NULL))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if (!out->installed) {
		rc = 0;
		goto out;
	}
	if (!(changes = calloc(out->installed, sizeof(*changes))) ||
			!(cpaths = calloc(out->installed, sizeof(*cpaths))) ||
			vl_buf_puts(&summary, "install schemas") < 0) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nitems; i++) {
		if (!items[i].changed)
			continue;
		if (vl_buf_printf(&cpaths[nch], "schemas/%s.yaml", items[i].s->name) < 0 ||
				(summary.len < 200 && vl_buf_printf(&summary, " %s v%d", items[i].s->name,
						items[i].s->version) < 0)) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		changes[nch] = (vl_change){ cpaths[nch].ptr, items[i].bytes.ptr, items[i].bytes.len, NULL };
		nch++;
	}
	if ((rc = vl_node_tick(n, clock)) < 0 ||
			(rc = vl_node_commit(&out->commit, n, VL_REF_CONFIG, &head, changes, nch, summary.ptr,
					"Vledger-Config: schemas\n")) < 0)
		goto out;
	out->committed = 1;
	rc = vl_node_reload_config(n);
out:
	if (rc < 0)
		vl_schema_install_result_free(out); /* nothing half-filled on failure */
	for (i = 0; items && i < nitems; i++) {
		vl_schema_free(items[i].s);
		vl_buf_free(&items[i].bytes);
	}
	for (i = 0; cpaths && i < nch; i++)
		vl_buf_free(&cpaths[i]);
	free(cpaths);
	free(changes);
	free(items);
	for (i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	oidset_free(&rc_ctx.seen);
	vl_buf_free(&rc_ctx.why);
	vl_buf_free(&why);
	vl_buf_free(&diag);
	vl_buf_free(&summary);
	vl_buf_free(&warn);
	vl_buf_free(&cur);
	return rc;
}
