/* record.c - add, import, edit, rm, show, list as operations (record.h). */
#include "agent/ops/record.h"
#include "agent/ops/csv.h"
#include "agent/ops/query.h"
#include "agent/node/divisions.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/types.h"
#include "store/i18n.h"
#include "store/repo.h"
#include "store/yaml.h"

static const vl_yaml_limits import_limits = { VL_IMPORT_MAX_BYTES, 16, 5000000 };

/* The field name of a "FIELD=VALUE" item into field[128]; NULL when the item
 * has no '=' or the name does not fit. Returns the value. */
static const char *split_set(char field[128], const char *item)
{
	const char *eq = strchr(item, '=');

	if (!eq || (size_t)(eq - item) >= 128)
		return NULL;
	memcpy(field, item, (size_t)(eq - item));
	field[eq - item] = '\0';
	return eq + 1;
}

/* ---- problems by field (record.h vl_field_errors) ------------------------ */

void vl_field_errors_free(vl_field_errors *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n; i++) {
		free(e->v[i].field);
		free(e->v[i].message);
	}
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

const char *vl_field_errors_find(const vl_field_errors *e, const char *name)
{
	size_t i, k = name ? strlen(name) : 0;

	for (i = 0; e && name && i < e->n; i++)
		if (strncmp(e->v[i].field, name, k) == 0 &&
				(e->v[i].field[k] == '\0' || e->v[i].field[k] == '[' || e->v[i].field[k] == '.'))
			return e->v[i].message;
	return NULL;
}

/*
 * What add and edit found wrong with the values so far: every problem goes
 * to errs (when not NULL) by field, and the first one's code and message are
 * kept, so the caller returns exactly what it returned when it stopped at
 * the first (the command line prints that).
 */
typedef struct {
	vl_field_errors *errs;
	int rc;                      /* the first problem's code, 0 while none */
	vl_buf first;                /* its message */
} collector;

/* Record the last error (code rc) under field. 0, or VL_ENOMEM. */
static int collect_msg(collector *c, const char *field, int rc, const char *msg)
{
	vl_field_error *nv;

	if (!c->rc) {
		c->rc = rc;
		vl_buf_clear(&c->first);
		if (vl_buf_puts(&c->first, msg) < 0)
			return VL_ENOMEM;
	}
	if (!c->errs)
		return 0;
	if (!(nv = realloc(c->errs->v, (c->errs->n + 1) * sizeof(*nv))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	c->errs->v = nv;
	nv[c->errs->n].field = strdup(field ? field : "");
	nv[c->errs->n].message = strdup(msg);
	if (!nv[c->errs->n].field || !nv[c->errs->n].message) {
		free(nv[c->errs->n].field);
		free(nv[c->errs->n].message);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	c->errs->n++;
	return 0;
}

static int collect(collector *c, const char *field, int rc)
{
	char *msg = strdup(vl_error_last());
	int r;

	if (!msg)
		return vl_error_set(VL_ENOMEM, "out of memory");
	r = collect_msg(c, field, rc, msg);
	free(msg);
	return r;
}

/* A problem about the values (collected and checking goes on) or a
 * failure that ends the operation (VL_ENOMEM, git, I/O). */
static int is_value_problem(int rc)
{
	return rc == VL_EINVALID || rc == VL_ENOTFOUND;
}

/* The collected problems' outcome: 0, or the first one's code with its
 * message as the last error. */
static int collected(collector *c)
{
	if (!c->rc)
		return 0;
	return vl_error_set(c->rc, "%s", c->first.ptr ? c->first.ptr : "");
}

/* 1 if field (a top-level name) already has a problem: a value that did
 * not parse is not also reported as missing. */
static int collected_about(const collector *c, const char *field)
{
	return c->errs && vl_field_errors_find(c->errs, field) != NULL;
}

/* Apply `FIELD=VALUE` items to data; a value that does not parse is
 * collected and the others applied. */
static int apply_sets(const vl_schema *s, vl_value *data, const char *const *sets, size_t nsets,
		collector *c)
{
	size_t i;
	int rc;

	for (i = 0; i < nsets; i++) {
		char field[128];
		const char *val = split_set(field, sets[i]);
		if (!val || !field[0])
			return vl_error_set(VL_EINVALID, "--set takes FIELD=VALUE, got '%.40s'", sets[i]);
		if ((rc = vl_schema_set_text(s, data, field, val)) < 0 &&
				(!is_value_problem(rc) || (rc = collect(c, field, rc)) < 0))
			return rc;
	}
	return 0;
}

/* "field 'items' (物资清单)" into out, for messages about a field. */
static void field_name(char out[200], const vl_field *f)
{
	snprintf(out, 200, "field '%.64s'%s%.100s%s", f->name, f->label_zh ? " (" : "",
			f->label_zh ? f->label_zh : "", f->label_zh ? ")" : "");
}

/* 1 if elements a and b of list-or-set field f are the same element: equal
 * scalars, or maps with equal item keys (a list of maps with a key). */
static int same_element(const vl_field *f, const vl_value *a, const vl_value *b)
{
	if (f->item_type == VL_T_MAP && f->item_key && a->kind == VL_V_MAP && b->kind == VL_V_MAP) {
		const vl_value *ka = vl_value_map_get(a, f->item_key), *kb = vl_value_map_get(b, f->item_key);

		return ka && kb && vl_value_equal(ka, kb);
	}
	return vl_value_equal(a, b);
}

/* Number of elements of old that new lacks (by same_element). */
static size_t dropped_elements(const vl_field *f, const vl_value *old, const vl_value *new_)
{
	size_t i, j, n = 0;

	if (!old || old->kind != VL_V_LIST)
		return 0;
	for (i = 0; i < old->n; i++) {
		int found = 0;

		for (j = 0; new_ && new_->kind == VL_V_LIST && j < new_->n && !found; j++)
			found = same_element(f, old->items[i], new_->items[j]);
		n += !found;
	}
	return n;
}

/*
 * A --set of a set or list field replaces it whole; refuse one that would
 * silently drop elements the record holds (the supply request whose earlier
 * items vanished) unless the person said --replace.
 */
static int check_no_drops(const vl_schema *s, const vl_value *old, const vl_value *new_,
		const char *const *sets, size_t nsets, collector *c)
{
	size_t i, k;
	int rc;

	for (i = 0; i < nsets; i++) {
		char field[128], name[200];
		const vl_field *f;

		if (!split_set(field, sets[i]) || !(f = vl_schema_field(s, field)) ||
				(f->type != VL_T_SET && f->type != VL_T_LIST))
			continue;
		k = dropped_elements(f, vl_value_map_get(old, field), vl_value_map_get(new_, field));
		if (k) {
			field_name(name, f);
			rc = vl_error_set(VL_EINVALID, "%s: --set would drop %zu of its %zu elements; use "
					"--add %s=VALUE to add one, --remove %s=VALUE to take one out, or --replace "
					"to replace them all; nothing was changed", name, k,
					vl_value_map_get(old, field)->n, f->name, f->name);
			if ((rc = collect(c, f->name, rc)) < 0)
				return rc;
		}
	}
	return 0;
}

/* The elements VALUE names for set or list field f, as a LIST: parsed as
 * --set would parse it; one flow map {..} is one item of a list of maps. */
static int parse_elements(vl_value **out, const vl_schema *s, const vl_field *f, const char *text)
{
	vl_value *probe = NULL;
	vl_buf wrapped = VL_BUF_INIT;
	const char *t = text;
	int rc;

	*out = NULL;
	while (*t == ' ')
		t++;
	if (f->item_type == VL_T_MAP && *t == '{') {
		if ((rc = vl_buf_printf(&wrapped, "[%s]", t)) < 0)
			goto out;
		text = wrapped.ptr;
	}
	if (!(probe = vl_value_new(VL_V_MAP))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = vl_schema_set_text(s, probe, f->name, text)) < 0)
		goto out;
	if (probe->n != 1 || probe->items[0]->kind != VL_V_LIST) {
		rc = vl_error_set(VL_EINVALID, "field '%s': no element given", f->name);
		goto out;
	}
	*out = probe->items[0];
	probe->items[0] = NULL;
	rc = 0;
out:
	vl_value_free(probe);
	vl_buf_free(&wrapped);
	return rc;
}

/* Index in list of the element `want` names, or -1. For a list of maps
 * with a key, want may also be the key's text (items=大米). */
static long find_element(const vl_field *f, const vl_value *list, const vl_value *want, const char *text)
{
	size_t i;

	for (i = 0; list && i < list->n; i++) {
		const vl_value *it = list->items[i];

		if (f->item_type == VL_T_MAP && f->item_key && it->kind == VL_V_MAP) {
			const vl_value *k = vl_value_map_get(it, f->item_key);

			if (want && want->kind == VL_V_MAP ? same_element(f, it, want) :
					(k && vl_value_text(k) && strcmp(vl_value_text(k), text) == 0))
				return (long)i;
		} else if (want && vl_value_equal(it, want)) {
			return (long)i;
		}
	}
	return -1;
}

/* Apply one --add (add = 1) or --remove "FIELD=VALUE" to data. */
static int apply_element(const vl_schema *s, vl_value *data, const char *item, int add)
{
	const char *opt = add ? "--add" : "--remove";
	char field[128], name[200], *key = NULL;
	const char *val = split_set(field, item);
	const vl_field *f;
	vl_value *elems = NULL, *list = NULL, *cur;
	size_t i;
	long at;
	int rc = 0;

	if (!val || !field[0])
		return vl_error_set(VL_EINVALID, "%s takes FIELD=VALUE, got '%.40s'", opt, item);
	if (!(f = vl_schema_field(s, field)))
		return vl_error_set(VL_ENOTFOUND, "ledger '%s' has no field '%s'; 'vledger schema show %s' "
				"lists them", s->name, field, s->name);
	field_name(name, f);
	if (f->type != VL_T_SET && f->type != VL_T_LIST)
		return vl_error_set(VL_EINVALID, "%s: %s takes a set or list field; use --set for a %s",
				name, opt, vl_ftype_name(f->type));
	cur = vl_value_map_get(data, field);
	/* A list of maps' item named by its key: no parse, the key's text. */
	if (!add && f->item_type == VL_T_MAP) {
		const char *t = val;

		while (*t == ' ')
			t++;
		if (*t != '{' && *t != '[') {
			if (!(key = strdup(t))) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			for (i = strlen(key); i > 0 && key[i - 1] == ' '; i--)
				key[i - 1] = '\0';
		}
	}
	if (!key && (rc = parse_elements(&elems, s, f, val)) < 0)
		goto out;
	if (!(list = cur ? vl_value_clone(cur) : vl_value_new(VL_V_LIST))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if (list->kind != VL_V_LIST) {
		rc = vl_error_set(VL_EINVALID, "%s: the record's value is not a list; use --set", name);
		goto out;
	}
	for (i = 0; i < (key ? 1 : elems->n); i++) {
		const vl_value *e = key ? NULL : elems->items[i];

		at = find_element(f, list, e, key);
		if (add) {
			if (at >= 0 && f->type == VL_T_SET)
				continue; /* already in the set */
			if (at >= 0 && f->item_type == VL_T_MAP && f->item_key) {
				rc = vl_error_set(VL_EINVALID, "%s: an item with that %s is there already; "
						"--remove it first to change it", name, f->item_key);
				goto out;
			}
			vl_value *copy = vl_value_clone(e);

			if (!copy) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			if ((rc = vl_value_list_push(list, copy)) < 0)
				goto out;
		} else {
			if (at < 0) {
				rc = vl_error_set(VL_EINVALID, "%s: no such element to remove "
						"(see the record with 'vledger show')", name);
				goto out;
			}
			vl_value_free(list->items[at]);
			memmove(list->items + at, list->items + at + 1,
					(list->n - (size_t)at - 1) * sizeof(*list->items));
			list->n--;
		}
	}
	if (f->type == VL_T_SET && list->n > 1)
		qsort(list->items, list->n, sizeof(*list->items), vl_value_set_cmp);
	if (list->n == 0) {
		/* Absence is how records say "none": validate judges a required one. */
		(void)vl_value_map_del(data, field);
	} else {
		rc = vl_value_map_set(data, field, list);
		list = NULL;
		/* A new key is appended; normalising puts keys in schema order
		 * (and leaves canonical values as they are). */
		if (rc < 0 || (!cur && (rc = vl_schema_normalize(s, data)) < 0))
			goto out;
	}
	rc = 0;
out:
	free(key);
	vl_value_free(elems);
	vl_value_free(list);
	return rc;
}

/* ---- checks of entry beyond the schema ------------------------------------ */

typedef struct {
	git_repository *repo;
	const char *ledger;
} holds_ctx;

/* 1 (stop) when the branch at head has a directory for the ledger. */
static int branch_holds(const char *code, const git_oid *head, void *ctx)
{
	const holds_ctx *h = ctx;
	git_commit *c = NULL;
	git_tree *root = NULL;
	int rc;

	(void)code;
	if (!head)
		return 0;
	if ((rc = git_commit_lookup(&c, h->repo, head)) < 0 || (rc = git_commit_tree(&root, c)) < 0)
		rc = vl_error_git(rc, _("cannot read a branch head"));
	else
		rc = git_tree_entry_byname(root, h->ledger) != NULL;
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}

/* *out 1 if any scope branch this node holds has a directory for ledger
 * (so records of it can reach this node), else 0. */
static int node_holds_ledger(int *out, vl_node *n, const char *ledger)
{
	holds_ctx h = { n->repo, ledger };
	int rc = vl_scope_refs_each(n->repo, branch_holds, &h);

	if (rc < 0)
		return rc;
	*out = rc;
	return 0;
}

/* Is ref value id (of field f) a live record of ledger f->ref on this node?
 * Only values that changed are checked: an edit of another field is not
 * refused because a record referred to was deleted since. A node that holds
 * no record of f->ref at all cannot look it up: scoped replication keeps
 * some ledgers away from it (a village never receives its township's
 * report_call, yet its report cites the call by the id given with the
 * notice; docs/decisions.md "Report calls"), so there the value is
 * accepted as an id (its form is checked by the schema). */
static int check_ref(vl_node *n, const vl_field *f, const char *id)
{
	vl_found fd;
	char name[200];
	int rc, holds = 0;

	memset(&fd, 0, sizeof(fd));
	field_name(name, f);
	rc = vl_ledger_find(&fd, n, id);
	if (rc == VL_ENOTFOUND && (rc = node_holds_ledger(&holds, n, f->ref)) == 0)
		rc = holds ? VL_ENOTFOUND : 0;
	if (rc == 0 && !fd.rec) {
		/* not held here: accepted as an id */
	} else if (rc == VL_ENOTFOUND) {
		rc = vl_error_set(VL_EINVALID, "%s: no record %s on this node; it should name a '%s' record "
				"('vledger list %s' shows them)", name, id, f->ref, f->ref);
	} else if (rc == 0 && strcmp(fd.rec->schema, f->ref) != 0) {
		rc = vl_error_set(VL_EINVALID, "%s: record %s is a '%s' record; it should name a '%s' record",
				name, id, fd.rec->schema, f->ref);
	} else if (rc == 0 && fd.rec->deleted) {
		rc = vl_error_set(VL_EINVALID, "%s: record %s is deleted; name a live '%s' record", name, id,
				f->ref);
	} else if (rc < 0) {
		vl_error_wrap(rc, "%s", name);
	}
	vl_found_free(&fd);
	return rc;
}

/* Call fn(ctx, field, id) for every ref value of map (described by fields):
 * a ref field, items of a set or list of refs, and, inside a map field or
 * the items of a list of maps, the same again (a schema's nesting is
 * bounded by its own caps). fn returns < 0 (an error), 1 (stop: found) or
 * 0 (go on); the walk returns the first non-zero. */
typedef int (*ref_fn)(void *ctx, const vl_field *f, const char *id);

static int each_ref(const vl_field *fields, size_t nfields, const vl_value *map, ref_fn fn, void *ctx)
{
	size_t i, j;
	int rc;

	if (!map || map->kind != VL_V_MAP)
		return 0;
	for (i = 0; i < nfields; i++) {
		const vl_field *f = &fields[i];
		const vl_value *v = vl_value_map_get(map, f->name);

		if (!v)
			continue;
		if (f->type == VL_T_REF && f->ref && v->kind == VL_V_STR) {
			if ((rc = fn(ctx, f, v->s)) != 0)
				return rc;
		} else if ((f->type == VL_T_SET || f->type == VL_T_LIST) && v->kind == VL_V_LIST) {
			for (j = 0; j < v->n; j++) {
				const vl_value *it = v->items[j];
				if (f->item_type == VL_T_REF && f->ref && it->kind == VL_V_STR)
					rc = fn(ctx, f, it->s);
				else if (f->item_type == VL_T_MAP)
					rc = each_ref(f->item_fields, f->nitem_fields, it, fn, ctx);
				else
					rc = 0;
				if (rc != 0)
					return rc;
			}
		} else if (f->type == VL_T_MAP && (rc = each_ref(f->item_fields, f->nitem_fields, v, fn, ctx)) != 0) {
			return rc;
		}
	}
	return 0;
}

/* One ref value of a record: the field holding it and the id (borrowed
 * from the record's value). */
typedef struct {
	const vl_field *f;
	const char *id;
} ref_had;

typedef struct {
	ref_had *v;
	size_t n, cap;
} ref_list;

/* By field (its address: one schema's fields), then id. */
static int ref_had_cmp(const void *a, const void *b)
{
	const ref_had *x = a, *y = b;
	uintptr_t fx = (uintptr_t)x->f, fy = (uintptr_t)y->f;

	if (fx != fy)
		return fx < fy ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int ref_collect(void *ctx, const vl_field *f, const char *id)
{
	ref_list *l = ctx;
	int rc;

	if ((rc = vl_array_grow((void **)&l->v, &l->cap, l->n, sizeof(*l->v))) < 0)
		return rc;
	l->v[l->n].f = f;
	l->v[l->n].id = id;
	l->n++;
	return 0;
}

typedef struct {
	vl_node *n;
	const ref_list *had;         /* the record's ref values before an edit, sorted; empty at add */
	collector *col;              /* where a missing record is reported */
} ref_ctx;

/* A ref value the record had before is not checked again: an edit of
 * another field is not refused because a record referred to was deleted
 * since (check_ref). */
static int ref_check_new(void *ctx, const vl_field *f, const char *id)
{
	const ref_ctx *c = ctx;
	ref_had probe;
	int rc;

	probe.f = f;
	probe.id = id;
	if (c->had->n && bsearch(&probe, c->had->v, c->had->n, sizeof(*c->had->v), ref_had_cmp))
		return 0;
	rc = check_ref(c->n, f, id);
	/* A missing record is a problem of the values: collected, and the
	 * walk goes on so every problem is reported; anything else ends it. */
	if (rc == VL_EINVALID)
		return collect(c->col, f->name, rc);
	return rc;
}

/* Every ref value of data, at any depth (a ref inside the items of a list
 * of maps too), that old (NULL at add and import) lacks; a missing record
 * is collected in col. old's ref values are gathered once (sorted for
 * bsearch), not walked again for each ref value of data. */
static int check_refs(vl_node *n, const vl_schema *s, const vl_value *data, const vl_value *old,
		collector *col)
{
	ref_list had = { NULL, 0, 0 };
	ref_ctx c = { n, &had, col };
	int rc = 0;

	if (old && (rc = each_ref(s->fields, s->nfields, old, ref_collect, &had)) < 0)
		goto out;
	if (had.n > 1)
		qsort(had.v, had.n, sizeof(*had.v), ref_had_cmp);
	rc = each_ref(s->fields, s->nfields, data, ref_check_new, &c);
out:
	free(had.v);
	return rc < 0 ? rc : 0;
}

/*
 * A resident ID number carries its holder's birth date (digits 7-14) and
 * sex (digit 17: odd male, even female). When the schema has a cn_id field
 * and a `birth_date` date field or a `gender` enum of male/female, they
 * must agree: one of them was mistyped. Only a well-formed number is
 * compared (validate reports the others); values are never quoted.
 */
static int check_id_agrees(const vl_schema *s, const vl_value *data, collector *c)
{
	const vl_field *bf = vl_schema_field(s, "birth_date"), *gf = vl_schema_field(s, "gender");
	const vl_value *bd = vl_value_map_get(data, "birth_date"), *g = vl_value_map_get(data, "gender");
	char idname[200], name[200];
	size_t i;
	int rc;

	for (i = 0; i < s->nfields; i++) {
		const vl_field *f = &s->fields[i];
		const vl_value *v = vl_value_map_get(data, f->name);
		vl_cn_id_info info;

		if (f->type != VL_T_CN_ID || !v || v->kind != VL_V_STR || vl_cn_id_check(v->s, NULL, &info))
			continue;
		field_name(idname, f);
		if (bf && bf->type == VL_T_DATE && bd && bd->kind == VL_V_STR && strcmp(bd->s, info.birth) != 0) {
			field_name(name, bf);
			rc = vl_error_set(VL_EINVALID, "%s does not agree with the birth date in %s "
					"(characters 7-14); check both against the ID card", name, idname);
			if ((rc = collect(c, f->name, rc)) < 0)
				return rc;
		}
		if (gf && gf->type == VL_T_ENUM && g && g->kind == VL_V_STR &&
				((!strcmp(g->s, "male") && info.sex != 1) || (!strcmp(g->s, "female") && info.sex != 2))) {
			field_name(name, gf);
			rc = vl_error_set(VL_EINVALID, "%s does not agree with %s (its 17th digit: odd for "
					"male, even for female); check both against the ID card", name, idname);
			if ((rc = collect(c, f->name, rc)) < 0)
				return rc;
		}
	}
	return 0;
}

/* Called by identity_each with the identity key of one live record and its
 * id (borrowed). The callee may take the key over with vl_buf_detach; the
 * walk frees what is left. Returns <0 to stop the walk with that code. */
typedef int (*identity_fn)(vl_buf *key, const char *id, void *ctx);

typedef struct {
	const vl_schema *s;
	identity_fn fn;
	void *ctx;
} identity_walk;

static int identity_one(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	identity_walk *w = ctx;
	vl_record *r = NULL;
	vl_buf key = VL_BUF_INIT;
	int rc;

	(void)blob;
	if ((rc = vl_record_parse(&r, raw, len, path)) < 0)
		return rc;
	if (!r->deleted && vl_schema_identity(&key, w->s, r->data) == 0 && key.ptr)
		rc = w->fn(&key, r->id, w->ctx);
	vl_buf_free(&key);
	vl_record_free(r);
	return rc;
}

/* Call fn with the identity key of each live record of s on scope's branch
 * that has one (deleted records and records lacking a part are skipped), in
 * path order. A scope without a branch has none; fn's code <0 is returned. */
static int identity_each(vl_node *n, const vl_schema *s, const char *scope, identity_fn fn, void *ctx)
{
	identity_walk w;
	git_oid head;
	char ref[64];
	int rc;

	w.s = s;
	w.fn = fn;
	w.ctx = ctx;
	vl_scope_ref(ref, scope);
	rc = vl_repo_head(&head, n->repo, ref);
	if (rc == VL_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	return vl_ledger_each(n, &head, s->name, identity_one, &w);
}

typedef struct {
	const char *key;             /* identity of the new record */
	char found[VL_ULID_LEN + 1];
} dup_ctx;

static int dup_one(vl_buf *key, const char *id, void *ctx)
{
	dup_ctx *c = ctx;

	if (strcmp(key->ptr, c->key) != 0)
		return 0;
	snprintf(c->found, sizeof(c->found), "%s", id);
	return VL_EEXISTS; /* stop the walk: one is enough */
}

/* The id of a live record of s on scope's branch with data's identity key
 * into out ("" if none, or if s has no identity or data lacks a part). */
static int find_duplicate(char out[VL_ULID_LEN + 1], vl_node *n, const vl_schema *s, const char *scope,
		const vl_value *data)
{
	vl_buf key = VL_BUF_INIT;
	dup_ctx c;
	int rc;

	out[0] = '\0';
	if (!s->nidentity || vl_schema_identity(&key, s, data) < 0 || !key.ptr) {
		vl_buf_free(&key);
		return 0;
	}
	memset(&c, 0, sizeof(c));
	c.key = key.ptr;
	rc = identity_each(n, s, scope, dup_one, &c);
	if (rc == VL_EEXISTS && c.found[0]) {
		memcpy(out, c.found, VL_ULID_LEN + 1);
		rc = 0;
	}
	vl_buf_free(&key);
	return rc;
}

/* Index of state v in f's order list, or -1. */
static long order_index(const vl_field *f, const char *v)
{
	size_t i;

	for (i = 0; i < f->norder; i++)
		if (!strcmp(f->order[i], v))
			return (long)i;
	return -1;
}

static int is_terminal(const vl_field *f, const char *v)
{
	size_t i;

	for (i = 0; i < f->nterminal; i++)
		if (!strcmp(f->terminal[i], v))
			return 1;
	return 0;
}

/*
 * A field with an `order` rule moves forward: a merge keeps the step
 * furthest along, so a local step back would be undone by the next merge
 * anyway, and it is how a delivered request quietly becomes pending again.
 * Refused unless the person said --allow-backwards and gave a reason.
 */
static int check_backwards(const vl_schema *s, const vl_value *old, const vl_value *data,
		const vl_edit_opts *opts, collector *c)
{
	char name[200];
	size_t i;
	int rc;

	for (i = 0; i < s->nfields; i++) {
		const vl_field *f = &s->fields[i];
		const vl_value *a = vl_value_map_get(old, f->name), *b = vl_value_map_get(data, f->name);
		long ia, ib;
		int back;

		if (f->rule != VL_RULE_ORDER || !a || !b || a->kind != VL_V_STR || b->kind != VL_V_STR ||
				!strcmp(a->s, b->s))
			continue;
		ia = order_index(f, a->s);
		ib = order_index(f, b->s);
		back = is_terminal(f, a->s) || (ia >= 0 && ib >= 0 && ib < ia);
		if (!back)
			continue;
		field_name(name, f);
		if (!opts->allow_backwards)
			rc = vl_error_set(VL_EINVALID, "%s: moving from %s back to %s goes against its order; "
					"if that is really meant, add --allow-backwards --reason TEXT; nothing was changed",
					name, vl_field_enum_label(f, a->s) ? vl_field_enum_label(f, a->s) : a->s,
					vl_field_enum_label(f, b->s) ? vl_field_enum_label(f, b->s) : b->s);
		else if (!opts->reason || !*opts->reason)
			rc = vl_error_set(VL_EINVALID, "%s: --allow-backwards needs --reason TEXT saying why; "
					"nothing was changed", name);
		else
			continue;
		if ((rc = collect(c, f->name, rc)) < 0)
			return rc;
	}
	return 0;
}

/* Validate; the error lists every violation, and each goes to c by field
 * (except about fields c holds a problem of already: a value that did not
 * parse is not also missing). Returns 0 or VL_ENOMEM; a violation is only
 * collected (c->rc VL_EINVALID). */
static int validate_or_report(const vl_schema *s, const vl_value *data, int deleted, const char *what,
		collector *c)
{
	vl_buf diag = VL_BUF_INIT, msg = VL_BUF_INIT, paths = VL_BUF_INIT;
	int rc = vl_schema_validate_paths(s, data, deleted, &diag, &paths);
	const char *line, *nl, *path, *pnl;
	char field[256];
	int first = c->rc == 0;

	if (rc == VL_EINVALID) {
		vl_error_set(rc, "%s not written; ledger '%s' rules broken:\n%sfix the values above; nothing was "
				"changed", what, s->name, diag.len ? diag.ptr : vl_error_last());
		if ((rc = vl_buf_puts(&msg, vl_error_last())) < 0)
			goto out;
		for (line = diag.ptr, path = paths.ptr; line && *line && path; line = nl ? nl + 1 : NULL,
				path = pnl ? pnl + 1 : NULL) {
			size_t len;

			nl = strchr(line, '\n');
			pnl = strchr(path, '\n');
			len = nl ? (size_t)(nl - line) : strlen(line);
			snprintf(field, sizeof(field), "%.*s", (int)(pnl ? (size_t)(pnl - path) < 255 ? pnl - path : 255 :
					0), path);
			if (!field[0] || !collected_about(c, field)) {
				char *one = strndup(line, len);

				if (!one) {
					rc = vl_error_set(VL_ENOMEM, "out of memory");
					goto out;
				}
				rc = collect_msg(c, field, VL_EINVALID, one);
				free(one);
				if (rc < 0)
					goto out;
			}
		}
		if (first) {
			/* The whole report is the message, as the command line prints it. */
			c->rc = VL_EINVALID;
			vl_buf_clear(&c->first);
			if ((rc = vl_buf_puts(&c->first, msg.ptr)) < 0)
				goto out;
		}
		rc = 0;
	}
out:
	vl_buf_free(&diag);
	vl_buf_free(&msg);
	vl_buf_free(&paths);
	return rc;
}

/* Load the node's config and find ledger `name` (borrowed from the node). */
static int node_ledger(const vl_schema **out, vl_node *n, const char *name)
{
	int rc;

	*out = NULL;
	if (!name)
		return vl_error_set(VL_EINVALID, "no ledger named; 'vledger schema list' shows them");
	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	/* By name or label: 'vledger list 常住人口' works as 'list resident'. */
	if (!(*out = vl_schema_lookup(n->schemas, n->nschemas, name)))
		return vl_error_set(VL_ENOTFOUND, "no ledger '%s'; 'vledger schema list' shows them", name);
	return 0;
}

/* The scope a write goes to: given (a division code) or the node's own. */
static int write_scope(char out[13], const vl_node *n, const char *scope)
{
	if (scope && vl_division_level(scope) == VL_DIV_INVALID)
		return vl_error_set(VL_EINVALID, "scope '%.20s' is not a 12-digit division code", scope);
	snprintf(out, 13, "%s", scope ? scope : n->scope);
	return 0;
}

/* ---- add ----------------------------------------------------------------- */

void vl_add_result_free(vl_add_result *r)
{
	if (r) {
		vl_value_free((vl_value *)r->data);
		vl_field_errors_free(&r->errors);
		memset(r, 0, sizeof(*r));
	}
}

int vl_add(vl_node *n, const vl_add_opts *opts, vl_add_result *out)
{
	const vl_schema *s = NULL;
	vl_value *data = NULL;
	vl_record *r = NULL;
	vl_buf in = VL_BUF_INIT, summary = VL_BUF_INIT, what = VL_BUF_INIT;
	collector c = { NULL, 0, VL_BUF_INIT };
	char id[VL_ULID_LEN + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	c.errs = &out->errors;
	if (!opts || (!opts->nsets && !opts->file) || (opts->nsets && opts->file))
		return vl_error_set(VL_EINVALID, "add needs a ledger name and either field values or a file");
	if ((rc = node_ledger(&s, n, opts->ledger)) < 0 || (rc = write_scope(out->scope, n, opts->scope)) < 0 ||
			(rc = vl_ledger_may_write(n, out->scope)) < 0)
		goto out;
	if (opts->file) {
		if ((rc = vl_buf_read_file(&in, opts->file, vl_yaml_file_limits.max_bytes)) < 0 ||
				(rc = vl_yaml_load(&data, in.ptr, in.len, &vl_yaml_file_limits, opts->file)) < 0 ||
				(rc = vl_schema_normalize(s, data)) < 0)
			goto out;
	} else {
		if (!(data = vl_value_new(VL_V_MAP))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = apply_sets(s, data, opts->sets, opts->nsets, &c)) < 0)
			goto out;
	}
	/* A new record: the schema's defaults fill the fields left out. */
	if ((rc = vl_schema_apply_defaults(s, data)) < 0)
		goto out;
	if (opts->file)
		rc = vl_buf_printf(&what, _("record from '%s' (positions are line and column there)"), opts->file);
	else
		rc = vl_buf_puts(&what, _("record"));
	/* Every check runs and collects (c): one submission shows every
	 * problem; the code and message are the first one's. */
	if (rc < 0 || (rc = validate_or_report(s, data, 0, what.ptr, &c)) < 0 ||
			(rc = check_id_agrees(s, data, &c)) < 0 || (rc = check_refs(n, s, data, NULL, &c)) < 0 ||
			(rc = collected(&c)) < 0 ||
			(rc = find_duplicate(out->duplicate_of, n, s, out->scope, data)) < 0)
		goto out;
	vl_ulid_new(id, vl_hlc_wall_ms());
	if ((rc = vl_record_new(&r, s->name, id, out->scope)) < 0)
		goto out;
	vl_value_free(r->data);
	r->data = data;
	data = NULL;
	if ((rc = vl_buf_printf(&summary, "add %s %s", s->name, id)) < 0 ||
			(rc = vl_ledger_commit(&out->commit, n, out->scope, &r, 1, summary.ptr, NULL)) < 0)
		goto out;
	memcpy(out->id, id, sizeof(out->id));
	out->schema = s;
	out->data = r && r->data ? vl_value_clone(r->data) : NULL;
	rc = 0;
out:
	if (rc != VL_EINVALID)
		vl_field_errors_free(&out->errors); /* problems of the values only */
	vl_record_free(r);
	vl_value_free(data);
	vl_buf_free(&in);
	vl_buf_free(&summary);
	vl_buf_free(&what);
	vl_buf_free(&c.first);
	return rc;
}

/* ---- import -------------------------------------------------------------- */

void vl_import_result_free(vl_import_result *r)
{
	if (!r)
		return;
	vl_buf_free(&r->bad_rows);
	free(r->dups);
	memset(r, 0, sizeof(*r));
}

/* Identity keys of a scope's live records (or of the file's records so
 * far), sorted for bsearch: import checks thousands of records against
 * thousands without a walk of the ledger per record. */
typedef struct {
	char *key;
	char id[VL_ULID_LEN + 1];    /* "" for a record of the file */
	size_t record;               /* the file's record number, from 1 */
} ident;

typedef struct {
	ident *v;
	size_t n, cap;
	/* The file's records so far (seen): open addressing over v, slot =
	 * index + 1 (0 empty), one entry per key, the first record that had
	 * it. A scan of v per record was quadratic in the file's records. */
	size_t *slot;
	size_t nslot;                /* a power of two, or 0 */
} ident_set;

static void ident_set_free(ident_set *is)
{
	size_t i;

	for (i = 0; i < is->n; i++)
		free(is->v[i].key);
	free(is->v);
	free(is->slot);
	memset(is, 0, sizeof(*is));
}

/* FNV-1a of a key. */
static size_t ident_hash(const char *key)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * UINT64_C(1099511628211);
	return (size_t)(h ^ (h >> 29));
}

/* The slot of key in is->slot: where it is, or the empty one where it goes. */
static size_t *ident_slot(const ident_set *is, const char *key)
{
	size_t m = is->nslot - 1, i = ident_hash(key) & m;

	while (is->slot[i] && strcmp(is->v[is->slot[i] - 1].key, key) != 0)
		i = (i + 1) & m;
	return &is->slot[i];
}

/* The first entry of the hashed set with key; NULL if none. */
static ident *ident_find(const ident_set *is, const char *key)
{
	size_t *at;

	if (!is->nslot)
		return NULL;
	at = ident_slot(is, key);
	return *at ? &is->v[*at - 1] : NULL;
}

/* Hash the entry just pushed (the last of v), unless its key is there
 * already (the first one stays); the table at most half full. */
static int ident_index_last(ident_set *is)
{
	size_t i, *at;

	if (2 * is->n > is->nslot) {
		size_t nslot = is->nslot ? is->nslot * 2 : 256, *slot = calloc(nslot, sizeof(*slot)), *old = is->slot;
		if (!slot)
			return vl_error_set(VL_ENOMEM, "out of memory");
		is->slot = slot;
		is->nslot = nslot;
		free(old);
		for (i = 0; i + 1 < is->n; i++)
			if (!*(at = ident_slot(is, is->v[i].key)))
				*at = i + 1;
	}
	if (!*(at = ident_slot(is, is->v[is->n - 1].key)))
		*at = is->n;
	return 0;
}

static int ident_cmp(const void *a, const void *b)
{
	return strcmp(((const ident *)a)->key, ((const ident *)b)->key);
}

/* Append key (taken over: freed here on failure). */
static int ident_push(ident_set *is, char *key, const char *id, size_t record)
{
	if (is->n == is->cap) {
		size_t cap = is->cap ? is->cap * 2 : 64;
		ident *v = realloc(is->v, cap * sizeof(*v));
		if (!v) {
			free(key);
			return vl_error_set(VL_ENOMEM, "out of memory");
		}
		is->v = v;
		is->cap = cap;
	}
	is->v[is->n].key = key;
	snprintf(is->v[is->n].id, sizeof(is->v[is->n].id), "%s", id ? id : "");
	is->v[is->n].record = record;
	is->n++;
	return 0;
}

static int ident_one(vl_buf *key, const char *id, void *ctx)
{
	return ident_push(ctx, vl_buf_detach(key, NULL), id, 0);
}

/* The live records of s on scope's branch by identity key, sorted. */
static int ident_load(ident_set *is, vl_node *n, const vl_schema *s, const char *scope)
{
	int rc;

	memset(is, 0, sizeof(*is));
	if (!s->nidentity)
		return 0;
	if ((rc = identity_each(n, s, scope, ident_one, is)) < 0)
		return rc;
	if (is->n)
		qsort(is->v, is->n, sizeof(*is->v), ident_cmp);
	return 0;
}

/* Note record i (0-based) of the file as a likely duplicate when its
 * identity is one of the scope's (have) or of an earlier record (seen,
 * then added to seen). Warned, never refused: as add. */
static int import_dup(vl_import_result *out, size_t *capdups, ident_set *have, ident_set *seen,
		const vl_schema *s, const vl_value *d, size_t i)
{
	vl_buf key = VL_BUF_INIT;
	ident probe, *hit = NULL;
	int rc = 0;

	if (!s->nidentity || vl_schema_identity(&key, s, d) < 0 || !key.ptr) {
		vl_buf_free(&key);
		return 0;
	}
	probe.key = key.ptr;
	if (have->n)
		hit = bsearch(&probe, have->v, have->n, sizeof(*have->v), ident_cmp);
	if (!hit)  /* the first earlier one in file order */
		hit = ident_find(seen, key.ptr);
	if (hit) {
		if (out->ndups == *capdups) {
			size_t cap = *capdups ? *capdups * 2 : 16;
			vl_import_dup *v = realloc(out->dups, cap * sizeof(*v));
			if (!v) {
				vl_buf_free(&key);
				return vl_error_set(VL_ENOMEM, "out of memory");
			}
			out->dups = v;
			*capdups = cap;
		}
		memset(&out->dups[out->ndups], 0, sizeof(out->dups[0]));
		out->dups[out->ndups].record = i + 1;
		out->dups[out->ndups].line = d->line;
		snprintf(out->dups[out->ndups].duplicate_of, VL_ULID_LEN + 1, "%s", hit->id);
		out->dups[out->ndups].same_as = hit->id[0] ? 0 : hit->record;
		out->ndups++;
	}
	if ((!hit || hit->id[0]) && (rc = ident_push(seen, vl_buf_detach(&key, NULL), NULL, i + 1)) == 0)
		rc = ident_index_last(seen);
	vl_buf_free(&key);
	return rc;
}

/*
 * Does the canonical emit `em` of a tree read from `in` by the canonical
 * reader prove the tree is what libyaml reads from `in`? As vl_yaml_load's
 * byte-for-byte check, but for one difference that import files written by
 * programs have everywhere: a value double-quoted in `in` ("赵明") where the
 * emit is plain (赵明). The reader took the quoted form as that string (a
 * quoted scalar is always a string, for libyaml too), and the emitter writes
 * plain only a string that reads back as that string; the quoted text must
 * be escape-free and on one line, and positions do not move (a block value
 * ends its line).
 */
static int same_but_quotes(const char *in, size_t ilen, const char *em, size_t elen)
{
	size_t i = 0, e = 0, j;

	while (i < ilen && e < elen) {
		if (in[i] == em[e]) {
			i++;
			e++;
			continue;
		}
		if (in[i] != '"')
			return 0;
		for (j = i + 1; j < ilen && in[j] != '"'; j++)
			if (in[j] == '\\' || in[j] == '\n')
				return 0;
		if (j == ilen || j - i - 1 > elen - e || memcmp(in + i + 1, em + e, j - i - 1) != 0)
			return 0;
		e += j - i - 1;
		i = j + 1;
		/* The value ends its line in both. */
		if (i < ilen ? in[i] != '\n' : 0)
			return 0;
		if (e < elen ? em[e] != '\n' : i < ilen)
			return 0;
	}
	return i == ilen && e == elen;
}

/* An import file's YAML: by the canonical reader when its emit proves the
 * result (same_but_quotes: libyaml is about a tenth of a large import's
 * work), else by vl_yaml_load's libyaml. */
static int import_load(vl_value **out, const char *buf, size_t len, const char *file)
{
	vl_value *t = NULL;
	vl_buf again = VL_BUF_INIT;
	int rc;

	*out = NULL;
	rc = vl_yaml_load_canonical(&t, buf, len, &import_limits);
	if (rc == VL_ENOMEM)
		return rc;
	if (rc == 0) {
		again.max = len + len / 8 + 64;
		if (vl_yaml_emit(&again, t) == 0 && same_but_quotes(buf, len, again.ptr, again.len)) {
			vl_buf_free(&again);
			*out = t;
			return 0;
		}
		vl_buf_free(&again);
		vl_value_free(t);
	}
	return vl_yaml_load_libyaml(out, buf, len, &import_limits, file);
}

int vl_import(vl_node *n, const vl_import_opts *opts, vl_import_result *out)
{
	size_t i, batch, done, nrecs = 0;
	const vl_schema *s = NULL;
	vl_value *doc = NULL, *list = NULL;
	vl_record **recs = NULL;
	vl_buf in = VL_BUF_INIT, summary = VL_BUF_INIT, diag = VL_BUF_INIT;
	git_oid commit;
	const char *file = NULL;
	ident_set have, seen;
	size_t capdups = 0;
	collector col = { NULL, 0, VL_BUF_INIT };  /* one record's problems: its first is reported */
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&have, 0, sizeof(have));
	memset(&seen, 0, sizeof(seen));
	if (!opts || !opts->file)
		return vl_error_set(VL_EINVALID, "import needs a ledger name and a file");
	if (opts->batch > VL_IMPORT_BATCH_MAX)
		return vl_error_set(VL_EINVALID, "a batch holds 1 to %d records", VL_IMPORT_BATCH_MAX);
	batch = opts->batch ? opts->batch : VL_IMPORT_BATCH_DEFAULT;
	file = opts->file;
	if ((rc = node_ledger(&s, n, opts->ledger)) < 0 || (rc = write_scope(out->scope, n, opts->scope)) < 0 ||
			(rc = vl_ledger_may_write(n, out->scope)) < 0)
		goto out;
	if ((rc = vl_buf_read_file(&in, file, import_limits.max_bytes)) < 0)
		goto out;
	/* CSV: every row checked there, every bad row listed in bad_rows; the
	 * rows then go through the same checks and commits as YAML records. */
	if (vl_csv_is_csv(file, in.ptr, in.len)) {
		if ((rc = vl_csv_records(&list, &out->bad_rows, s, in.ptr, in.len, file)) < 0 ||
				!(doc = vl_value_new(VL_V_MAP)) || (rc = vl_value_map_set(doc, "records", list)) < 0) {
			if (rc == 0)
				vl_value_free(list);
			rc = rc < 0 ? rc : vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
	} else if ((rc = import_load(&doc, in.ptr, in.len, file)) < 0) {
		goto out;
	}
	list = vl_value_map_get(doc, "records");
	if (!list || list->kind != VL_V_LIST) {
		rc = vl_error_set(VL_EINVALID, "%s: an import file is a mapping with one key, 'records', "
				"holding a list of data mappings", file);
		goto out;
	}
	/* Check every record before writing any: an import is all or nothing. */
	recs = calloc(list->n ? list->n : 1, sizeof(*recs));
	if (!recs) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = ident_load(&have, n, s, out->scope)) < 0)
		goto out;
	for (i = 0; i < list->n; i++) {
		vl_value *d = list->items[i];
		char id[VL_ULID_LEN + 1];
		if (d->kind != VL_V_MAP) {
			rc = vl_error_set(VL_EINVALID, "%s:%d:%d: record %zu is not a mapping", file, d->line, d->col, i + 1);
			goto out;
		}
		if ((rc = vl_schema_normalize(s, d)) < 0 || (rc = vl_schema_apply_defaults(s, d)) < 0)
			goto out;
		vl_buf_clear(&diag);
		if ((rc = vl_schema_validate(s, d, 0, &diag)) == VL_ENOMEM)
			goto out;
		if (rc < 0) {
			rc = vl_error_set(VL_EINVALID, "%s: record %zu (line %d) breaks ledger '%s' rules:\n%s"
					"nothing was imported", file, i + 1, d->line, s->name, diag.ptr ? diag.ptr : "");
			goto out;
		}
		/* The checks add makes: ID number against birth date and
		 * gender, references that exist, likely duplicates (warned). */
		vl_buf_clear(&col.first);
		col.rc = 0;
		if ((rc = check_id_agrees(s, d, &col)) < 0 || (rc = check_refs(n, s, d, NULL, &col)) < 0 ||
				(rc = collected(&col)) < 0) {
			char why[1024];
			snprintf(why, sizeof(why), "%s", vl_error_last());
			rc = vl_error_set(rc, "%s: record %zu (line %d): %s; nothing was imported", file, i + 1,
					d->line, why);
			goto out;
		}
		if ((rc = import_dup(out, &capdups, &have, &seen, s, d, i)) < 0)
			goto out;
		vl_ulid_new(id, vl_hlc_wall_ms());
		if ((rc = vl_record_new(&recs[i], s->name, id, out->scope)) < 0)
			goto out;
		nrecs++;
		vl_value_free(recs[i]->data);
		recs[i]->data = d;
		list->items[i] = vl_value_new(VL_V_NULL);
	}
	out->records = nrecs;
	for (done = 0; done < nrecs; done += batch) {
		size_t k = nrecs - done < batch ? nrecs - done : batch;
		vl_progress_report(&opts->progress, N_("import"), done, nrecs);
		vl_buf_clear(&summary);
		if ((rc = vl_buf_printf(&summary, "import %zu %s records (%zu-%zu of %zu)", k, s->name,
				done + 1, done + k, nrecs)) < 0 ||
				(rc = vl_ledger_commit(&commit, n, out->scope, recs + done, k, summary.ptr, NULL)) < 0) {
			if (done)
				vl_error_wrap(rc, "import stopped after %zu of %zu records (those are committed)", done, nrecs);
			goto out;
		}
		out->committed = done + k;
	}
	vl_progress_report(&opts->progress, N_("import"), nrecs, nrecs);
	rc = 0;
out:
	vl_buf_free(&col.first);
	for (i = 0; recs && i < nrecs; i++)
		vl_record_free(recs[i]);
	free(recs);
	ident_set_free(&have);
	ident_set_free(&seen);
	vl_value_free(doc);
	vl_buf_free(&in);
	vl_buf_free(&summary);
	vl_buf_free(&diag);
	return rc;
}

/* ---- edit ---------------------------------------------------------------- */

void vl_edit_result_free(vl_edit_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	free(r->fields);
	vl_value_free(r->data);
	vl_field_errors_free(&r->errors);
	memset(r, 0, sizeof(*r));
}

/* The names of the top-level fields of s whose value differs between a
 * and b (present in one only, or unequal), in schema order, into out. */
static int changed_fields(vl_edit_result *out, const vl_schema *s, const vl_value *a, const vl_value *b)
{
	size_t i;

	for (i = 0; i < s->nfields; i++) {
		const vl_value *x = vl_value_map_get(a, s->fields[i].name), *y = vl_value_map_get(b, s->fields[i].name);
		char **nf;

		if ((!x && !y) || (x && y && vl_value_equal(x, y)))
			continue;
		if (!(nf = realloc(out->fields, (out->nfields + 1) * sizeof(*nf))))
			return vl_error_set(VL_ENOMEM, "out of memory");
		out->fields = nf;
		if (!(out->fields[out->nfields] = strdup(s->fields[i].name)))
			return vl_error_set(VL_ENOMEM, "out of memory");
		out->nfields++;
	}
	return 0;
}

int vl_edit(vl_node *n, const vl_edit_opts *opts, vl_edit_result *out)
{
	vl_found f;
	vl_record *r = NULL;
	vl_buf summary = VL_BUF_INIT, trailer = VL_BUF_INIT;
	collector c = { NULL, 0, VL_BUF_INIT };
	vl_field_errors errs = { NULL, 0 };
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	c.errs = &errs;
	if (!opts || !opts->id || (!opts->nsets && !opts->nunsets && !opts->nadds && !opts->nremoves))
		return vl_error_set(VL_EINVALID, "edit needs a record id and at least one field to set, unset, "
				"add to or remove from");
	/* Lazily (node.h): edit reads schemas only through vl_ledger_find. */
	if ((rc = vl_node_load_config_lazy(n)) < 0 || (rc = vl_ledger_find(&f, n, opts->id)) < 0 ||
			(rc = vl_ledger_may_write(n, f.scope)) < 0)
		goto out;
	if (f.rec->deleted) {
		rc = vl_error_set(VL_EINVALID, "record %s is deleted; a tombstone is not edited", f.rec->id);
		goto out;
	}
	if ((rc = vl_ledger_next_version(&r, &f)) < 0 ||
			(rc = apply_sets(f.schema, r->data, opts->sets, opts->nsets, &c)) < 0)
		goto out;
	if (!opts->replace && (rc = check_no_drops(f.schema, f.rec->data, r->data, opts->sets, opts->nsets, &c)) < 0)
		goto out;
	/* Setting a field a merge left for a person settles it with that value. */
	for (i = 0; r->conflicts && i < opts->nsets; i++) {
		char field[128];
		if (split_set(field, opts->sets[i]))
			(void)vl_value_map_del(r->conflicts, field);
	}
	for (i = 0; i < opts->nunsets; i++) {
		if (!vl_schema_field(f.schema, opts->unsets[i])) {
			rc = vl_error_set(VL_ENOTFOUND, "ledger '%s' has no field '%s'", f.schema->name, opts->unsets[i]);
			if ((rc = collect(&c, opts->unsets[i], rc)) < 0)
				goto out;
			continue;
		}
		(void)vl_value_map_del(r->data, opts->unsets[i]);
		if (r->conflicts)
			(void)vl_value_map_del(r->conflicts, opts->unsets[i]);
	}
	for (i = 0; i < opts->nadds + opts->nremoves; i++) {
		const char *item = i < opts->nadds ? opts->adds[i] : opts->removes[i - opts->nadds];
		char field[128];

		if ((rc = apply_element(f.schema, r->data, item, i < opts->nadds)) < 0 &&
				(!is_value_problem(rc) ||
				(rc = collect(&c, split_set(field, item) ? field : "", rc)) < 0))
			goto out;
	}
	if (r->conflicts && r->conflicts->n == 0) {
		vl_value_free(r->conflicts);
		r->conflicts = NULL;
	}
	memcpy(out->id, f.rec->id, sizeof(out->id));
	out->schema = f.schema;
	if (!(out->data = vl_value_clone(r->data))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = changed_fields(out, f.schema, f.rec->data, r->data)) < 0)
		goto out;
	if (!c.rc && vl_value_equal(r->data, f.rec->data) && !r->conflicts == !f.rec->conflicts &&
			(!r->conflicts || vl_value_equal(r->conflicts, f.rec->conflicts))) {
		rc = 0; /* unchanged: nothing to write */
		goto out;
	}
	/* Every check runs and collects (c); the code and message are the
	 * first problem's, as when the first one stopped the edit. */
	if ((rc = validate_or_report(f.schema, r->data, 0, "edit", &c)) < 0 ||
			(rc = check_id_agrees(f.schema, r->data, &c)) < 0 ||
			(rc = check_refs(n, f.schema, r->data, f.rec->data, &c)) < 0)
		goto out;
	if ((rc = check_backwards(f.schema, f.rec->data, r->data, opts, &c)) < 0 || (rc = collected(&c)) < 0)
		goto out;
	if (opts->reason && *opts->reason) {
		/* The reason goes into the commit message on one line. */
		if ((rc = vl_buf_puts(&trailer, "Vledger-Reason: ")) < 0)
			goto out;
		for (i = 0; opts->reason[i] && i < 400; i++)
			if ((rc = vl_buf_putc(&trailer, opts->reason[i] == '\n' || opts->reason[i] == '\r' ?
					' ' : opts->reason[i])) < 0)
				goto out;
		if ((rc = vl_buf_putc(&trailer, '\n')) < 0)
			goto out;
	}
	if ((rc = vl_buf_printf(&summary, "edit %s %s", r->schema, r->id)) < 0 ||
			(rc = vl_ledger_commit(&out->commit, n, f.scope, &r, 1, summary.ptr, trailer.ptr)) < 0)
		goto out;
	out->changed = 1;
	rc = 0;
out:
	if (rc < 0) {
		vl_edit_result_free(out); /* out-params are set on success only */
		if (rc == VL_EINVALID) {
			out->errors = errs; /* ... but the problems of the values are said */
			errs.v = NULL;
			errs.n = 0;
		}
	}
	vl_field_errors_free(&errs);
	vl_buf_free(&c.first);
	vl_found_free(&f);
	vl_record_free(r);
	vl_buf_free(&summary);
	vl_buf_free(&trailer);
	return rc;
}

/* ---- rm ------------------------------------------------------------------ */

void vl_rm_result_free(vl_rm_result *r)
{
	if (r)
		memset(r, 0, sizeof(*r));
}

int vl_rm(vl_node *n, const vl_rm_opts *opts, vl_rm_result *out)
{
	vl_found f;
	vl_record *r = NULL;
	vl_value *kept = NULL;
	vl_buf summary = VL_BUF_INIT, trailer = VL_BUF_INIT;
	const char *reason = NULL;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	if (!opts || !opts->id || !opts->reason || !*opts->reason)
		return vl_error_set(VL_EINVALID, "rm needs a record id and a reason");
	reason = opts->reason;
	if ((rc = vl_node_load_config(n)) < 0 || (rc = vl_ledger_find(&f, n, opts->id)) < 0 ||
			(rc = vl_ledger_may_write(n, f.scope)) < 0)
		goto out;
	if (f.rec->deleted) {
		rc = vl_error_set(VL_EEXISTS, "record %s is already deleted", f.rec->id);
		goto out;
	}
	if ((rc = vl_ledger_next_version(&r, &f)) < 0 ||
			(rc = vl_schema_tombstone_data(&kept, f.schema, f.rec->data)) < 0)
		goto out;
	vl_value_free(r->data);
	r->data = kept;
	kept = NULL;
	r->deleted = 1;
	/* Deleting settles what was open; the candidates stay in history. */
	vl_value_free(r->conflicts);
	r->conflicts = NULL;
	/* The reason goes into the commit message on one line. */
	if ((rc = vl_buf_puts(&trailer, "Vledger-Reason: ")) < 0)
		goto out;
	for (i = 0; reason[i] && i < 400; i++)
		if ((rc = vl_buf_putc(&trailer, reason[i] == '\n' || reason[i] == '\r' ? ' ' : reason[i])) < 0)
			goto out;
	if ((rc = vl_buf_putc(&trailer, '\n')) < 0 ||
			(rc = vl_buf_printf(&summary, "delete %s %s", r->schema, r->id)) < 0 ||
			(rc = vl_ledger_commit(&out->commit, n, f.scope, &r, 1, summary.ptr, trailer.ptr)) < 0)
		goto out;
	memcpy(out->id, f.rec->id, sizeof(out->id));
	rc = 0;
out:
	vl_found_free(&f);
	vl_record_free(r);
	vl_value_free(kept);
	vl_buf_free(&summary);
	vl_buf_free(&trailer);
	return rc;
}

/* ---- show ---------------------------------------------------------------- */

void vl_show_result_free(vl_show_result *r)
{
	if (!r)
		return;
	vl_found_free(&r->found);
	free(r->signer_name);
	memset(r, 0, sizeof(*r));
}

int vl_show(vl_node *n, const vl_show_opts *opts, vl_show_result *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts || !opts->id)
		return vl_error_set(VL_EINVALID, "show needs a record id");
	/* Lazily: one schema is read, the one of the record's ledger, and of
	 * the roster the author's entry. */
	if ((rc = vl_node_load_config_names(n)) < 0 || (rc = vl_ledger_find(&out->found, n, opts->id)) < 0)
		goto out;
	if (strcmp(out->found.rec->author, VL_AUTHOR_MERGE) != 0 &&
			(rc = vl_node_roster_name(&out->signer_name, n, out->found.rec->author)) < 0)
		goto out;
	return 0;
out:
	vl_show_result_free(out);
	return rc;
}

/* ---- list ---------------------------------------------------------------- */

void vl_list_result_free(vl_list_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		vl_record_free(r->items[i].rec);
		vl_value_free(r->items[i].ref_labels);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

typedef struct {
	vl_node *n;
	const vl_list_opts *opts;
	vl_list_result *res;
	vl_query where;
	size_t cap;
} list_ctx;

static int list_one(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	list_ctx *c = ctx;
	vl_record *r = NULL;
	int rc, match;

	(void)blob;
	if ((rc = vl_record_parse(&r, raw, len, path)) < 0)
		return rc;
	match = vl_query_match(&c->where, r->data);
	if ((r->deleted && !c->opts->deleted) || !match)
		goto out;
	if (c->res->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		vl_list_item *ni = realloc(c->res->items, ncap * sizeof(*ni));
		if (!ni) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		c->res->items = ni;
		c->cap = ncap;
	}
	c->res->items[c->res->n].ref_labels = NULL;
	c->res->items[c->res->n].signer = vl_node_roster_find(c->n, r->author);
	c->res->items[c->res->n++].rec = r;
	r = NULL;
	rc = 0;
out:
	vl_record_free(r);
	return rc;
}

static int code_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

typedef struct {
	const char *scope;
	int no_children;
	char (*v)[13];
	size_t cap, k;
} scopes_ctx;

static int scope_add(const char *code, const git_oid *head, void *ctx)
{
	scopes_ctx *x = ctx;
	int rc;

	(void)head;
	if (vl_division_level(code) == VL_DIV_INVALID ||
			!(x->no_children ? strcmp(code, x->scope) == 0 : vl_division_covers(x->scope, code)))
		return 0;
	if ((rc = vl_array_grow((void **)&x->v, &x->cap, x->k, sizeof(*x->v))) < 0)
		return rc;
	snprintf(x->v[x->k++], 13, "%s", code);
	return 0;
}

/* The scope codes whose branches a list reads: scope itself, and unless
 * no_children every branch below it, sorted. */
static int list_scopes(char (**out)[13], size_t *n, vl_node *n_, const char *scope, int no_children)
{
	scopes_ctx x = { scope, no_children, NULL, 0, 0 };
	int rc;

	if ((rc = vl_scope_refs_each(n_->repo, scope_add, &x)) < 0)
		goto out;
	if (x.k)
		qsort(x.v, x.k, sizeof(*x.v), code_cmp);
	*out = x.v;
	*n = x.k;
	x.v = NULL;
	rc = 0;
out:
	free(x.v);
	return rc;
}

static int label_field_ok(const vl_field *f)
{
	return f && f->type == VL_T_STRING && !f->pii;
}

int vl_record_label(const char **out, const vl_schema *s, const vl_record *r)
{
	const vl_value *v;
	size_t i;

	for (i = 0; s && i < s->nlist_columns; i++)
		if (label_field_ok(vl_schema_field(s, s->list_columns[i])) &&
				(v = vl_value_map_get(r->data, s->list_columns[i])) && v->kind == VL_V_STR && *v->s) {
			*out = v->s;
			return 0;
		}
	for (i = 0; s && i < s->nfields; i++)
		if (label_field_ok(&s->fields[i]) &&
				(v = vl_value_map_get(r->data, s->fields[i].name)) && v->kind == VL_V_STR && *v->s) {
			*out = v->s;
			return 0;
		}
	return VL_ENOTFOUND;
}

/* Each item's ref_labels: the label of every record a top-level ref field
 * names, when this node holds it (in the ledger the field says) and it
 * has one. Records not held keep their id; lookups go through the id
 * index, one per distinct id in a row (reports of one call share it). */
static int list_ref_labels(vl_node *n, vl_list_result *out)
{
	const vl_schema *s = out->schema;
	char last_id[VL_ULID_LEN + 1] = "";
	vl_buf last_label = VL_BUF_INIT;
	int last_found = 0, rc = 0;
	size_t i, k;

	for (i = 0; i < out->n && rc == 0; i++) {
		for (k = 0; k < s->nfields && rc == 0; k++) {
			const vl_field *f = &s->fields[k];
			const vl_value *v = f->type == VL_T_REF ? vl_value_map_get(out->items[i].rec->data, f->name) : NULL;
			vl_found fd;
			const char *label = NULL;

			if (!v || v->kind != VL_V_STR || strlen(v->s) > VL_ULID_LEN)
				continue;
			if (strcmp(last_id, v->s) != 0) {
				memset(&fd, 0, sizeof(fd));
				vl_buf_clear(&last_label);
				last_found = 0;
				snprintf(last_id, sizeof(last_id), "%s", v->s);
				rc = vl_ledger_find(&fd, n, v->s);
				if (rc == 0 && f->ref && !strcmp(fd.rec->schema, f->ref) && !fd.rec->deleted &&
						vl_record_label(&label, fd.schema, fd.rec) == 0) {
					rc = vl_buf_puts(&last_label, label);
					last_found = rc == 0;
				} else if (rc == VL_ENOTFOUND || rc == VL_EINVALID || rc == 0) {
					vl_error_clear(); /* not held (or not a label): the id is shown */
					rc = 0;
				}
				vl_found_free(&fd);
				if (rc < 0)
					break;
			}
			if (!last_found)
				continue;
			if (!out->items[i].ref_labels && !(out->items[i].ref_labels = vl_value_new(VL_V_MAP))) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				break;
			}
			rc = vl_value_map_set(out->items[i].ref_labels, f->name, vl_value_str(last_label.ptr));
		}
	}
	vl_buf_free(&last_label);
	return rc;
}

int vl_list(vl_node *n, const vl_list_opts *opts, vl_list_result *out)
{
	list_ctx c;
	vl_divisions div = VL_DIVISIONS_INIT;
	char (*scopes)[13] = NULL;
	char ref[64];
	git_oid head;
	size_t i, nscopes = 0;
	int rc, have_div = 0;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (!opts)
		return vl_error_set(VL_EINVALID, "list needs a ledger name");
	if ((rc = node_ledger(&out->schema, n, opts->ledger)) < 0 || (rc = write_scope(out->scope, n, opts->scope)) < 0 ||
			(rc = vl_query_parse(&c.where, out->schema, opts->where, opts->nwhere, 1)) < 0 ||
			(rc = list_scopes(&scopes, &nscopes, n, out->scope, opts->no_children)) < 0)
		goto out;
	/* A well-formed code that names no unit is an error too, not an empty
	 * list, when the node has a division table to tell (divisions.h). */
	if (nscopes == 0 && opts->scope) {
		if ((rc = vl_divisions_load(&div, &have_div, n->home, NULL)) < 0)
			goto out;
		if (have_div && !vl_divisions_find(&div, out->scope)) {
			rc = vl_error_set(VL_EINVALID, "scope '%s' is not a unit of the division table", out->scope);
			goto out;
		}
	}
	c.n = n;
	c.opts = opts;
	c.res = out;
	for (i = 0; i < nscopes; i++) {
		vl_scope_ref(ref, scopes[i]);
		if ((rc = vl_repo_head(&head, n->repo, ref)) < 0)
			goto out;
		out->have_branch = 1;
		if ((rc = vl_ledger_each(n, &head, out->schema->name, list_one, &c)) < 0)
			goto out;
	}
	rc = opts->ref_labels ? list_ref_labels(n, out) : 0;
out:
	vl_query_free(&c.where);
	vl_divisions_free(&div);
	free(scopes);
	return rc;
}
