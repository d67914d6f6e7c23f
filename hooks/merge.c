/*
 * merge.c - the schema-aware three-way merge of one record (see merge.h).
 *
 * The sides are put in canonical order (x has the smaller blob id) before
 * anything else; from there on every step is a deterministic function of
 * (schema, base, x, y) and of the pinned hook programs, so merge(a, b) and
 * merge(b, a) emit the same bytes.
 *
 * Per field: equal sides, or one side unchanged from the base, decide
 * without a rule; otherwise the field's rule yields a value, possibly marked
 * "-> person" with a provisional value. Values that a rule computed (a sum,
 * a union, a hook's output, an item-by-item list) are then checked against
 * the schema one field at a time; one that fails goes to a person with the
 * lww value instead. Finally the record is emitted and parsed back, so a
 * merge never writes a file that vl_record_parse would refuse.
 *
 * Decisions made here where merge.h leaves room (docs: hooks/README.md and
 * the report of the merge issue):
 * - `sum` runs whenever both sides changed the field, even to the same
 *   value: equal increments on two nodes are two events (merge.h's "same
 *   change -> take it" holds for every other rule, which are idempotent).
 * - append is three-way like union: an entry one side removed (present in
 *   the base) stays removed, so a corrected log entry is not resurrected
 *   next to its correction; kept entries are ordered by date, then by the
 *   sha256 of their canonical YAML (a map: vl_yaml_emit; a scalar:
 *   vl_yaml_emit_scalar).
 * - Item fields have no rule of their own. Inside a keyed list merged with
 *   `append` (a log of items), two different edits of one item field go to a
 *   person (docs/schemas.md); inside a keyed `lww` list the later side wins.
 * - max, min and order cannot decide when one side removed the field; sum,
 *   union and append read an absent value as 0 / empty. An empty union or
 *   append result is written `[]` when both sides have the field, else the
 *   field is left out.
 * - A tombstone keeps no personal data, in its conflicts either: when the
 *   result is deleted, conflict candidates lose their pii fields (the full
 *   versions stay reachable by the `from` blob id).
 * - A merged record that would pass the record caps (64 KiB, 1,000 nodes)
 *   only without its conflict values gets conflict entries without `value`
 *   (`from` names the blob that holds it); beyond that, VL_ETOOBIG.
 * - Edit/delete takes the data of the winning side as it is (the tombstone's,
 *   or the edit's for edit_wins); the `_deleted` candidates are both sides'
 *   data without pii.
 * Purity caveat: vl_schema_validate checks cn_id birth dates against today,
 * so a computed value could pass on a later replay that failed at merge
 * time; only an ID number with a future birth date can tell the difference.
 */
#include "hooks/merge.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/yaml.h"

#define CONFLICT_DELETED "_deleted"
#define DEC_MAX_SCALE 18

/* The merge of one record; sides already in canonical order. */
typedef struct {
	const vl_schema *s;
	const vl_merge_side *x, *y; /* x->blob < y->blob */
	const vl_record *b;         /* base record or NULL (add/add) */
	const vl_value *bd, *xd, *yd;
	const vl_merge_env *env;
	int y_later;                /* the lww winner is y */
	int clock_tie;              /* equal clocks: lww went by author */
	int deleted;                /* the result is a tombstone */
	vl_merge_stats st;
	vl_merge_trace *tr;         /* NULL: no trace wanted */
} mctx;

/* What the merge decided for one field. how and why cost two stores per
 * field; the trace is built from them only when asked for. */
typedef struct {
	vl_value *val; /* owned; NULL = the field is absent */
	int ruled;     /* a rule computed val: it must pass the schema probe */
	int person;    /* left to a person; val is provisional */
	vl_merge_how how;
	vl_merge_why why;
} fres;

static int oom(void)
{
	return vl_error_set(VL_ENOMEM, "out of memory merging a record");
}

/* *out = a copy of v (NULL stays NULL). */
static int dup_opt(vl_value **out, const vl_value *v)
{
	*out = NULL;
	if (!v)
		return 0;
	if (!(*out = vl_value_clone(v)))
		return oom();
	return 0;
}

static const vl_value *lww_pick(const mctx *c, const vl_value *xv, const vl_value *yv)
{
	return c->y_later ? yv : xv;
}

static int is_oid(const char *s)
{
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i < VL_OID_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

/* ------------------------------------------------------------------------ */
/* Shapes: the value kinds the rules rely on                                */

static const vl_field *find_item_field(const vl_field *fs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(fs[i].name, name) == 0)
			return &fs[i];
	return NULL;
}

static int is_scalar(const vl_value *v)
{
	return v && v->kind != VL_V_LIST && v->kind != VL_V_MAP && v->kind != VL_V_NULL;
}

static int map_shape_ok(const vl_field *fs, size_t nf, const vl_value *m);

static int kind_ok(const vl_field *f, const vl_value *v)
{
	size_t i;

	switch (f->type) {
	case VL_T_SET:
	case VL_T_LIST:
		if (v->kind != VL_V_LIST)
			return 0;
		for (i = 0; i < v->n; i++) {
			if (f->type == VL_T_LIST && f->item_type == VL_T_MAP) {
				if (v->items[i]->kind != VL_V_MAP ||
						!map_shape_ok(f->item_fields, f->nitem_fields, v->items[i]))
					return 0;
			} else if (!is_scalar(v->items[i])) {
				return 0;
			}
		}
		return 1;
	case VL_T_MAP:
		return v->kind == VL_V_MAP && map_shape_ok(f->item_fields, f->nitem_fields, v);
	case VL_T_INT:
		return v->kind == VL_V_INT;
	case VL_T_DECIMAL:
		return v->kind == VL_V_INT || v->kind == VL_V_DEC;
	case VL_T_BOOL:
		return v->kind == VL_V_BOOL;
	default:
		return v->kind == VL_V_STR;
	}
}

static int map_shape_ok(const vl_field *fs, size_t nf, const vl_value *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		const vl_field *f = find_item_field(fs, nf, m->keys[i]);

		if (!f || !kind_ok(f, m->items[i]))
			return 0;
	}
	return 1;
}

static int check_shape(const vl_schema *s, const vl_merge_side *sd, const char *which)
{
	const vl_value *d = sd->rec->data;
	size_t i;

	if (!d || d->kind != VL_V_MAP)
		return vl_error_set(VL_EINVALID, "merge of %s %s: %s data is not a map",
				s->name, sd->rec->id, which);
	for (i = 0; i < d->n; i++) {
		const vl_field *f = vl_schema_field(s, d->keys[i]);

		if (!f || !kind_ok(f, d->items[i]))
			return vl_error_set(VL_EINVALID, "merge of %s %s: field '%.64s' of %s (blob %s) "
					"does not have the schema's shape; validate the record",
					s->name, sd->rec->id, d->keys[i], which, sd->blob);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Numbers, dates and ordering                                              */

/* A decimal text split into sign, integer digits and fraction digits. */
typedef struct {
	int neg;
	const char *ip, *fp;
	size_t il, fl;      /* normalised: no leading / trailing zeros */
	size_t raw_fl;      /* fraction digits as written */
} decnum;

static int dec_split(decnum *d, const char *s)
{
	memset(d, 0, sizeof(*d));
	if (*s == '-') {
		d->neg = 1;
		s++;
	}
	d->ip = s;
	while (*s >= '0' && *s <= '9')
		s++;
	d->il = (size_t)(s - d->ip);
	if (d->il == 0)
		return 0;
	d->fp = s;
	if (*s == '.') {
		d->fp = ++s;
		while (*s >= '0' && *s <= '9')
			s++;
		d->fl = (size_t)(s - d->fp);
		if (d->fl == 0)
			return 0;
	}
	if (*s)
		return 0;
	d->raw_fl = d->fl;
	while (d->il > 0 && *d->ip == '0') {
		d->ip++;
		d->il--;
	}
	while (d->fl > 0 && d->fp[d->fl - 1] == '0')
		d->fl--;
	if (d->il == 0 && d->fl == 0)
		d->neg = 0;
	return 1;
}

static int sgn(int v)
{
	return (v > 0) - (v < 0);
}

/* Compare two decimal texts numerically; *ok = 0 if one is malformed. */
static int dec_cmp(const char *a, const char *b, int *ok)
{
	decnum x, y;
	size_t n;
	int m;

	*ok = dec_split(&x, a) && dec_split(&y, b);
	if (!*ok)
		return 0;
	if (x.neg != y.neg)
		return x.neg ? -1 : 1;
	if (x.il != y.il) {
		m = x.il < y.il ? -1 : 1;
	} else if ((m = sgn(memcmp(x.ip, y.ip, x.il))) == 0) {
		n = x.fl < y.fl ? x.fl : y.fl;
		if ((m = sgn(memcmp(x.fp, y.fp, n))) == 0)
			m = x.fl < y.fl ? -1 : x.fl > y.fl;
	}
	return x.neg ? -m : m;
}

/* Compare two RFC 3339 UTC datetimes "YYYY-MM-DDTHH:MM:SS[.f]Z": the
 * seconds part bytewise, then the fraction as digits padded with zeros. */
static int dt_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	const char *fa, *fb;
	int m;

	if (la < 19 || lb < 19)
		return sgn(strcmp(a, b));
	if ((m = sgn(memcmp(a, b, 19))) != 0)
		return m;
	fa = a[19] == '.' ? a + 20 : "";
	fb = b[19] == '.' ? b + 20 : "";
	for (i = 0;; i++) {
		char ca = (fa[i] >= '0' && fa[i] <= '9') ? fa[i] : '0';
		char cb = (fb[i] >= '0' && fb[i] <= '9') ? fb[i] : '0';
		int ea = !(fa[i] >= '0' && fa[i] <= '9');
		int eb = !(fb[i] >= '0' && fb[i] <= '9');

		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (ea && eb)
			break;
	}
	return sgn(strcmp(a, b));
}

/* Compare two values of a max/min field; *ok = 0 when they cannot be. */
static int value_cmp(vl_ftype t, const vl_value *a, const vl_value *b, int *ok)
{
	*ok = 1;
	switch (t) {
	case VL_T_INT:
	case VL_T_DECIMAL:
		return dec_cmp(a->s, b->s, ok);
	case VL_T_DATE:
		return sgn(strcmp(a->s, b->s));
	case VL_T_DATETIME:
		return dt_cmp(a->s, b->s);
	default:
		*ok = 0;
		return 0;
	}
}

/* v (NULL = 0) as an integer scaled by 10^scale; 0 on overflow or when v
 * has more fraction digits than scale. */
static int dec_scaled(long long *out, const vl_value *v, size_t scale)
{
	decnum d;
	long long m = 0;
	size_t i;

	*out = 0;
	if (!v)
		return 1;
	if (!dec_split(&d, v->s) || d.fl > scale)
		return 0;
	for (i = 0; i < d.il + scale; i++) {
		int digit = i < d.il ? d.ip[i] - '0' : (i - d.il < d.fl ? d.fp[i - d.il] - '0' : 0);

		if (__builtin_mul_overflow(m, 10, &m) || __builtin_add_overflow(m, digit, &m))
			return 0;
	}
	*out = d.neg ? -m : m;
	return 1;
}

static size_t raw_scale(const vl_value *v)
{
	decnum d;

	return v && dec_split(&d, v->s) ? d.raw_fl : 0;
}

/* The text of m / 10^scale as an INT (scale 0) or DEC scalar. */
static vl_value *dec_format(long long m, size_t scale)
{
	char buf[64];
	unsigned long long a = m < 0 ? (unsigned long long)(-(m + 1)) + 1 : (unsigned long long)m;
	unsigned long long p = 1;
	size_t i;

	for (i = 0; i < scale; i++)
		p *= 10;
	if (scale == 0) {
		snprintf(buf, sizeof(buf), "%s%llu", m < 0 ? "-" : "", a);
		return vl_value_scalar(VL_V_INT, buf);
	}
	snprintf(buf, sizeof(buf), "%s%llu.%0*llu", m < 0 ? "-" : "", a / p, (int)scale, a % p);
	return vl_value_scalar(VL_V_DEC, buf);
}

/* ------------------------------------------------------------------------ */
/* Rules                                                                    */

/* sum: base + (x - base) + (y - base); absent = 0. */
static int rule_sum(fres *r, const vl_value *bv, const vl_value *xv, const vl_value *yv)
{
	size_t scale = raw_scale(bv);
	long long b, x, y, res;

	if (raw_scale(xv) > scale)
		scale = raw_scale(xv);
	if (raw_scale(yv) > scale)
		scale = raw_scale(yv);
	if (scale > DEC_MAX_SCALE || !dec_scaled(&b, bv, scale) || !dec_scaled(&x, xv, scale) ||
			!dec_scaled(&y, yv, scale) || __builtin_add_overflow(x, y, &res) ||
			__builtin_sub_overflow(res, b, &res)) {
		r->person = 1; /* too large to add exactly */
		r->why = VL_WHY_OVERFLOW;
		return 0;
	}
	if (!(r->val = dec_format(res, scale)))
		return oom();
	r->ruled = 1;
	return 0;
}

static int rule_maxmin(fres *r, const mctx *c, const vl_field *f, int want_max,
		const vl_value *xv, const vl_value *yv)
{
	int cmp, ok;

	if (!xv || !yv) {
		r->person = 1; /* one side removed the field: no number to compare */
		r->why = VL_WHY_FIELD_REMOVED;
		return 0;
	}
	cmp = value_cmp(f->type, xv, yv, &ok);
	if (!ok) {
		r->person = 1;
		r->why = VL_WHY_NOT_COMPARABLE;
		return 0;
	}
	if (cmp == 0) { /* equal values in different spellings (1.5, 1.50) */
		r->why = VL_WHY_EQUAL_VALUES;
		return dup_opt(&r->val, lww_pick(c, xv, yv));
	}
	r->ruled = 1;
	return dup_opt(&r->val, (cmp > 0) == want_max ? xv : yv);
}

static int in_list(const vl_value *list, const vl_value *v)
{
	size_t i;

	for (i = 0; list && i < list->n; i++)
		if (vl_value_equal(list->items[i], v))
			return 1;
	return 0;
}

/*
 * The three-way selection of union and append: every distinct item of x,
 * then of y, that both sides hold or that one side added (absent from the
 * base). Borrowed pointers into xv/yv go to *sel (caller frees the array).
 */
static int select_3way(const vl_value ***sel, size_t *nsel, const vl_value *bv,
		const vl_value *xv, const vl_value *yv)
{
	const vl_value **arr = NULL;
	size_t n = 0, i, side, cap = (xv ? xv->n : 0) + (yv ? yv->n : 0);

	*sel = NULL;
	*nsel = 0;
	if (cap && !(arr = calloc(cap, sizeof(*arr))))
		return oom();
	for (side = 0; side < 2; side++) {
		const vl_value *l = side ? yv : xv;

		for (i = 0; l && i < l->n; i++) {
			const vl_value *it = l->items[i];
			size_t k;
			int dup = 0;

			for (k = 0; k < n && !dup; k++)
				dup = vl_value_equal(arr[k], it);
			if (dup)
				continue;
			if ((in_list(xv, it) && in_list(yv, it)) || !in_list(bv, it))
				arr[n++] = it;
		}
	}
	*sel = arr;
	*nsel = n;
	return 0;
}

/* An empty result: [] when both sides have the field, absent otherwise. */
static int list_result(fres *r, const vl_value *xv, const vl_value *yv,
		const vl_value *const *items, size_t n)
{
	vl_value *l = NULL;
	size_t i;

	r->ruled = 1;
	if (n == 0 && (!xv || !yv))
		return 0;
	if (!(l = vl_value_new(VL_V_LIST)))
		return oom();
	for (i = 0; i < n; i++) {
		vl_value *it = vl_value_clone(items[i]);

		if (!it || vl_value_list_push(l, it) < 0) {
			vl_value_free(l);
			return oom();
		}
	}
	r->val = l;
	return 0;
}

static int rule_union(fres *r, const vl_value *bv, const vl_value *xv, const vl_value *yv)
{
	const vl_value **sel = NULL;
	size_t n;
	int rc;

	if ((rc = select_3way(&sel, &n, bv, xv, yv)) < 0)
		return rc;
	if (n > 1)
		qsort(sel, n, sizeof(*sel), vl_value_set_cmp);
	rc = list_result(r, xv, yv, sel, n);
	free(sel);
	return rc;
}

/* An append entry with its sort key. */
typedef struct {
	const vl_value *v;
	const char *date;   /* NULL sorts first */
	int datetime;       /* compare date as a datetime */
	unsigned char h[crypto_hash_sha256_BYTES];
} entry;

static int entry_cmp(const void *pa, const void *pb)
{
	const entry *a = pa, *b = pb;
	int m = 0;

	if (a->date && b->date)
		m = a->datetime ? dt_cmp(a->date, b->date) : sgn(strcmp(a->date, b->date));
	else if (a->date || b->date)
		m = a->date ? 1 : -1;
	if (m)
		return m;
	return memcmp(a->h, b->h, sizeof(a->h));
}

/* The field of a log entry it is ordered by: `date`, else the first date or
 * datetime item field; NULL if none. */
static const vl_field *date_field(const vl_field *f)
{
	const vl_field *d = find_item_field(f->item_fields, f->nitem_fields, "date");
	size_t i;

	if (d && (d->type == VL_T_DATE || d->type == VL_T_DATETIME))
		return d;
	for (i = 0; i < f->nitem_fields; i++)
		if (f->item_fields[i].type == VL_T_DATE || f->item_fields[i].type == VL_T_DATETIME)
			return &f->item_fields[i];
	return NULL;
}

static int entry_key(entry *e, const vl_field *f, const vl_value *v)
{
	vl_buf b = VL_BUF_INIT;
	int rc;

	memset(e, 0, sizeof(*e));
	e->v = v;
	if (v->kind == VL_V_MAP) {
		const vl_field *df = date_field(f);
		const vl_value *dv = df ? vl_value_map_get(v, df->name) : NULL;

		if (dv && dv->kind == VL_V_STR) {
			e->date = dv->s;
			e->datetime = df->type == VL_T_DATETIME;
		}
		rc = vl_yaml_emit(&b, v);
	} else {
		if ((f->item_type == VL_T_DATE || f->item_type == VL_T_DATETIME) && v->kind == VL_V_STR) {
			e->date = v->s;
			e->datetime = f->item_type == VL_T_DATETIME;
		}
		rc = vl_yaml_emit_scalar(&b, v);
	}
	if (rc == 0)
		crypto_hash_sha256(e->h, (const unsigned char *)(b.ptr ? b.ptr : ""), b.len);
	vl_buf_free(&b);
	return rc;
}

static int rule_append(fres *r, const vl_field *f, const vl_value *bv, const vl_value *xv,
		const vl_value *yv)
{
	const vl_value **sel = NULL;
	entry *es = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = select_3way(&sel, &n, bv, xv, yv)) < 0)
		goto out;
	if (n && !(es = calloc(n, sizeof(*es)))) {
		rc = oom();
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((rc = entry_key(&es[i], f, sel[i])) < 0)
			goto out;
	if (n > 1)
		qsort(es, n, sizeof(*es), entry_cmp);
	for (i = 0; i < n; i++)
		sel[i] = es[i].v;
	rc = list_result(r, xv, yv, sel, n);
out:
	free(es);
	free(sel);
	return rc;
}

/* order: a terminal state beats a non-terminal one; two terminals -> person;
 * else the later state in `order`. */
static int state_index(char *const *v, size_t n, const vl_value *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s->s) == 0)
			return (int)i;
	return -1;
}

static int rule_order(fres *r, const vl_field *f, const vl_value *xv, const vl_value *yv)
{
	int xt, yt, xi, yi;

	if (!xv || !yv) {
		r->person = 1;
		r->why = VL_WHY_FIELD_REMOVED;
		return 0;
	}
	xt = state_index(f->terminal, f->nterminal, xv) >= 0;
	yt = state_index(f->terminal, f->nterminal, yv) >= 0;
	if (xt && yt) { /* two different final states */
		r->person = 1;
		r->why = VL_WHY_TWO_TERMINALS;
		return 0;
	}
	r->ruled = 1;
	if (xt || yt) {
		r->why = VL_WHY_TERMINAL;
		return dup_opt(&r->val, xt ? xv : yv);
	}
	xi = state_index(f->order, f->norder, xv);
	yi = state_index(f->order, f->norder, yv);
	if (xi < 0 || yi < 0) { /* a state the machine does not place */
		r->ruled = 0;
		r->person = 1;
		r->why = VL_WHY_UNKNOWN_STATE;
		return 0;
	}
	r->why = VL_WHY_LATER_STATE;
	return dup_opt(&r->val, xi > yi ? xv : yv);
}

static int rule_hook(fres *r, mctx *c, const vl_field *f)
{
	vl_value *v = NULL;
	int rc;

	if (!c->env || !c->env->hooks_dir || !f->hook_sha256) {
		r->person = 1;
		r->why = VL_WHY_NO_HOOKS;
		return 0;
	}
	c->st.hooks_run++;
	rc = vl_hook_run(&v, c->env->hooks_dir, f->hook, f->hook_sha256, f->name, c->s->name,
			c->x->rec->id, c->b ? c->bd : NULL, c->xd, c->yd, c->env->timeout_ms);
	if (rc < 0)
		return vl_error_wrap(rc, "merge of %s %s: hook for '%s'", c->s->name, c->x->rec->id, f->name);
	if (rc != 0) {
		r->person = 1;
		r->why = VL_WHY_HOOK_DECLINED;
		return 0;
	}
	r->ruled = 1;
	r->how = VL_HOW_HOOK;
	if (v->kind == VL_V_NULL) /* `value: null`: the field is left out */
		vl_value_free(v);
	else
		r->val = v;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Lists of maps by key                                                     */

static const vl_value *item_by_key(const vl_value *list, const char *key, const vl_value *k)
{
	size_t i;

	for (i = 0; list && i < list->n; i++)
		if (vl_value_equal(vl_value_map_get(list->items[i], key), k))
			return list->items[i];
	return NULL;
}

/* 1 if every item of list (NULL = empty) has a scalar key, all distinct. */
static int keys_ok(const vl_value *list, const char *key)
{
	size_t i, j;

	for (i = 0; list && i < list->n; i++) {
		const vl_value *k = vl_value_map_get(list->items[i], key);

		if (!is_scalar(k))
			return 0;
		for (j = 0; j < i; j++)
			if (vl_value_equal(vl_value_map_get(list->items[j], key), k))
				return 0;
	}
	return 1;
}

/* Merge one item present on both sides, field by field (bi NULL: both
 * added it). */
static int merge_item(vl_value **out, const mctx *c, const vl_field *f, int log,
		const vl_value *bi, const vl_value *xi, const vl_value *yi, int *person)
{
	vl_value *m = NULL, *v = NULL;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!(m = vl_value_new(VL_V_MAP)))
		return oom();
	for (i = 0; i < f->nitem_fields; i++) {
		const char *name = f->item_fields[i].name;
		const vl_value *b = bi ? vl_value_map_get(bi, name) : NULL;
		const vl_value *xv = vl_value_map_get(xi, name), *yv = vl_value_map_get(yi, name);
		const vl_value *take;

		if (vl_value_equal(xv, yv) || vl_value_equal(yv, b))
			take = xv;
		else if (vl_value_equal(xv, b))
			take = yv;
		else {
			take = lww_pick(c, xv, yv);
			if (log)
				*person = 1;
		}
		if (!take)
			continue;
		if ((rc = dup_opt(&v, take)) < 0)
			goto out;
		rc = vl_value_map_set(m, name, v);
		v = NULL;
		if (rc < 0) {
			rc = oom();
			goto out;
		}
	}
	*out = m;
	m = NULL;
out:
	vl_value_free(m);
	return rc;
}

static int push_clone(vl_value *list, const vl_value *it)
{
	vl_value *v = vl_value_clone(it);

	if (!v || vl_value_list_push(list, v) < 0)
		return oom();
	return 0;
}

/*
 * A list of maps with an item key, item by item: x's items in x's order,
 * then y's new ones. Returns 1 (nothing done) when an item lacks its key or
 * a key repeats, so the caller falls back to the list-wide rule.
 */
static int rule_keyed(fres *r, const mctx *c, const vl_field *f, int log,
		const vl_value *bv, const vl_value *xv, const vl_value *yv)
{
	const char *key = f->item_key;
	vl_value *res = NULL, *m = NULL;
	size_t i;
	int rc = 0, person = 0;

	if (!keys_ok(bv, key) || !keys_ok(xv, key) || !keys_ok(yv, key))
		return 1;
	if (!(res = vl_value_new(VL_V_LIST)))
		return oom();
	for (i = 0; xv && i < xv->n; i++) {
		const vl_value *xi = xv->items[i], *k = vl_value_map_get(xi, key);
		const vl_value *yi = item_by_key(yv, key, k), *bi = item_by_key(bv, key, k);

		if (yi) {
			if ((rc = merge_item(&m, c, f, log, bi, xi, yi, &person)) < 0)
				goto out;
			rc = vl_value_list_push(res, m);
			m = NULL;
			if (rc < 0) {
				rc = oom();
				goto out;
			}
			continue;
		}
		if (bi && vl_value_equal(bi, xi))
			continue; /* y removed it, x left it alone */
		if (bi)
			person = 1; /* y removed it, x changed it: keep the change */
		if ((rc = push_clone(res, xi)) < 0)
			goto out;
	}
	for (i = 0; yv && i < yv->n; i++) {
		const vl_value *yi = yv->items[i], *k = vl_value_map_get(yi, key);
		const vl_value *bi = item_by_key(bv, key, k);

		if (item_by_key(xv, key, k) || (bi && vl_value_equal(bi, yi)))
			continue;
		if (bi)
			person = 1;
		if ((rc = push_clone(res, yi)) < 0)
			goto out;
	}
	r->ruled = 1;
	r->person = person;
	r->why = person ? VL_WHY_ITEM_CONFLICT : VL_WHY_BY_ITEM;
	if (res->n || (xv && yv)) {
		r->val = res;
		res = NULL;
	}
out:
	vl_value_free(res);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Fields and records                                                       */

/*
 * A counter's equal changes are two events, not one: two nodes that each
 * logged 2 hours on top of 10 give 14, not 12. So `sum` runs whenever both
 * sides changed the field, equal or not; every other rule is idempotent and
 * takes an equal change as is.
 */
static int is_counter(const vl_field *f)
{
	return f->rule == VL_RULE_SUM;
}

/* A field both sides changed: its rule. */
static int merge_field(fres *r, mctx *c, const vl_field *f, const vl_value *bv,
		const vl_value *xv, const vl_value *yv)
{
	int rc = 0;

	c->st.fields_merged++;
	r->how = VL_HOW_RULE;
	if (f->type == VL_T_LIST && f->item_type == VL_T_MAP && f->item_key &&
			(f->rule == VL_RULE_LWW || f->rule == VL_RULE_APPEND)) {
		rc = rule_keyed(r, c, f, f->rule == VL_RULE_APPEND, bv, xv, yv);
		if (rc <= 0)
			goto provisional;
		rc = 0; /* not keyable: the list-wide rule below */
	}
	switch (f->rule) {
	case VL_RULE_LWW:
		r->why = c->clock_tie ? VL_WHY_CLOCK_TIE : VL_WHY_LATER_CLOCK;
		rc = dup_opt(&r->val, lww_pick(c, xv, yv));
		break;
	case VL_RULE_MAX:
	case VL_RULE_MIN:
		rc = rule_maxmin(r, c, f, f->rule == VL_RULE_MAX, xv, yv);
		break;
	case VL_RULE_SUM:
		rc = rule_sum(r, bv, xv, yv);
		break;
	case VL_RULE_UNION:
		rc = rule_union(r, bv, xv, yv);
		break;
	case VL_RULE_APPEND:
		rc = rule_append(r, f, bv, xv, yv);
		break;
	case VL_RULE_ORDER:
		rc = rule_order(r, f, xv, yv);
		break;
	case VL_RULE_HOOK:
		rc = rule_hook(r, c, f);
		break;
	case VL_RULE_KEEP:
	case VL_RULE_MANUAL:
		r->person = 1;
		r->why = VL_WHY_RULE_PERSON;
		break;
	}
provisional:
	if (rc == 0 && r->person && !r->ruled)
		rc = dup_opt(&r->val, lww_pick(c, xv, yv));
	if (r->person)
		r->how = VL_HOW_PERSON;
	return rc;
}

/* Data from per-field values (borrowed; NULL = absent), in schema order. */
static int build_data(vl_value **out, const vl_schema *s, vl_value *const *vals)
{
	vl_value *m = vl_value_new(VL_V_MAP), *v = NULL;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!m)
		return oom();
	for (i = 0; i < s->nfields; i++) {
		if (!vals[i])
			continue;
		if ((rc = dup_opt(&v, vals[i])) < 0)
			goto out;
		rc = vl_value_map_set(m, s->fields[i].name, v);
		if (rc < 0) {
			rc = oom();
			goto out;
		}
	}
	*out = m;
	m = NULL;
out:
	vl_value_free(m);
	return rc;
}

/*
 * Values a rule computed must pass the schema. When the merged data does
 * not, each computed value is tried alone in data whose other computed
 * values are the lww ones (values of valid sides, so a failure is that
 * value's own); one that fails goes to a person with the lww value.
 */
static int probe_fields(mctx *c, fres *fr, vl_value **lwwv, vl_value **merged)
{
	const vl_schema *s = c->s;
	vl_value **vals = NULL, *probe = NULL;
	size_t i;
	int rc;

	*merged = NULL;
	if (!(vals = calloc(s->nfields ? s->nfields : 1, sizeof(*vals))))
		return oom();
	for (i = 0; i < s->nfields; i++)
		vals[i] = fr[i].val;
	/* A validation that ran out of memory is an error: taken as "breaks
	 * the schema" it would leave fields to a person that the rules settle. */
	if ((rc = build_data(merged, s, vals)) < 0 ||
			(rc = vl_schema_validate(s, *merged, c->deleted, NULL)) == 0 || rc == VL_ENOMEM)
		goto out;
	vl_value_free(*merged);
	*merged = NULL;
	for (i = 0; i < s->nfields; i++)
		vals[i] = fr[i].ruled ? lwwv[i] : fr[i].val;
	for (i = 0; i < s->nfields; i++) {
		if (!fr[i].ruled || vl_value_equal(fr[i].val, lwwv[i]))
			continue;
		vals[i] = fr[i].val;
		vl_value_free(probe);
		probe = NULL;
		if ((rc = build_data(&probe, s, vals)) < 0)
			goto out;
		vals[i] = lwwv[i];
		if ((rc = vl_schema_validate(s, probe, c->deleted, NULL)) == 0)
			continue;
		if (rc == VL_ENOMEM)
			goto out;
		/* The computed value breaks the schema (a sum past a bound, a
		 * hook's bad output): a person decides; lww meanwhile. */
		vl_value_free(fr[i].val);
		fr[i].val = lwwv[i];
		lwwv[i] = NULL;
		fr[i].ruled = 0;
		fr[i].person = 1;
		fr[i].how = VL_HOW_PERSON;
		fr[i].why = VL_WHY_BROKE_SCHEMA;
	}
	for (i = 0; i < s->nfields; i++)
		vals[i] = fr[i].val;
	rc = build_data(merged, s, vals);
out:
	if (rc < 0) {
		vl_value_free(*merged);
		*merged = NULL;
	}
	vl_value_free(probe);
	free(vals);
	return rc;
}

/* {value, from, author, clock} of one side; value NULL is written null. */
static int candidate(vl_value **out, const vl_value *v, const vl_merge_side *sd)
{
	vl_value *m = vl_value_new(VL_V_MAP);

	*out = NULL;
	if (!m || vl_value_map_set(m, "value", v ? vl_value_clone(v) : vl_value_new(VL_V_NULL)) < 0 ||
			vl_value_map_set(m, "from", vl_value_str(sd->blob)) < 0 ||
			vl_value_map_set(m, "author", vl_value_str(sd->rec->author)) < 0 ||
			vl_value_map_set(m, "clock", vl_value_str(sd->rec->clock)) < 0) {
		vl_value_free(m);
		return oom();
	}
	*out = m;
	return 0;
}

static int conflict_entry(vl_value *conf, const char *key, const mctx *c,
		const vl_value *xv, const vl_value *yv)
{
	vl_value *l = vl_value_new(VL_V_LIST), *e = NULL;

	if (!l)
		return oom();
	if (candidate(&e, xv, c->x) < 0 || vl_value_list_push(l, e) < 0 ||
			candidate(&e, yv, c->y) < 0 || vl_value_list_push(l, e) < 0) {
		vl_value_free(l);
		return oom();
	}
	if (vl_value_map_set(conf, key, l) < 0)
		return oom();
	return 0;
}

/*
 * Existing conflict entries merge three-way by key: an entry one side
 * resolved (removed) or changed while the other left it as in the base
 * takes that side; two different changes keep the candidates of both.
 */
static int merge_old_conflicts(vl_value *conf, const vl_value *bc, const vl_value *xc,
		const vl_value *yc)
{
	size_t side, i, j;
	vl_value *v = NULL;

	for (side = 0; side < 2; side++) {
		const vl_value *src = side ? yc : xc;

		for (i = 0; src && i < src->n; i++) {
			const char *k = src->keys[i];
			const vl_value *be = vl_value_map_get(bc, k), *xe = vl_value_map_get(xc, k);
			const vl_value *ye = vl_value_map_get(yc, k), *take = NULL;
			int both = 0;

			if (side && xe)
				continue; /* done with x's keys */
			if (vl_value_equal(xe, ye) || vl_value_equal(ye, be))
				take = xe;
			else if (vl_value_equal(xe, be))
				take = ye;
			else if (!xe || !ye) /* resolved on one side, changed on the other */
				take = xe ? xe : ye;
			else
				both = 1;
			if (!both && !take)
				continue; /* resolved */
			if (take) {
				if (!(v = vl_value_clone(take)))
					return oom();
			} else if (xe->kind == VL_V_LIST && ye->kind == VL_V_LIST) {
				if (!(v = vl_value_clone(xe)))
					return oom();
				for (j = 0; j < ye->n; j++)
					if (!in_list(xe, ye->items[j]) && push_clone(v, ye->items[j]) < 0) {
						vl_value_free(v);
						return oom();
					}
			} else if (!(v = vl_value_clone(xe))) {
				return oom();
			}
			if (vl_value_map_set(conf, k, v) < 0)
				return oom();
			v = NULL;
		}
	}
	return 0;
}

/* Remove personal data from the conflicts of a tombstone. */
static int strip_conflicts(const vl_schema *s, vl_value *conf)
{
	vl_value *tmp = NULL, *clean = NULL;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < conf->n;) {
		const char *k = conf->keys[i];
		const vl_field *f = vl_schema_field(s, k);
		vl_value *l = conf->items[i];

		if (f && f->pii) {
			(void)vl_value_map_del(conf, k);
			continue;
		}
		i++;
		if ((!f && strcmp(k, CONFLICT_DELETED) != 0) || l->kind != VL_V_LIST)
			continue;
		for (j = 0; j < l->n; j++) {
			vl_value *cand = l->items[j], *val = vl_value_map_get(cand, "value");

			if (cand->kind != VL_V_MAP || !val || val->kind == VL_V_NULL)
				continue;
			if (f) { /* nested pii items of a field */
				if (!(tmp = vl_value_new(VL_V_MAP)) ||
						vl_value_map_set(tmp, k, vl_value_clone(val)) < 0) {
					rc = oom();
					goto out;
				}
				if ((rc = vl_schema_tombstone_data(&clean, s, tmp)) < 0)
					goto out;
				val = vl_value_map_get(clean, k);
				rc = vl_value_map_set(cand, "value",
						val ? vl_value_clone(val) : vl_value_new(VL_V_NULL));
			} else if (val->kind == VL_V_MAP) {
				if ((rc = vl_schema_tombstone_data(&clean, s, val)) < 0)
					goto out;
				rc = vl_value_map_set(cand, "value", clean);
				clean = NULL;
			}
			if (rc < 0) {
				rc = oom();
				goto out;
			}
			vl_value_free(tmp);
			vl_value_free(clean);
			tmp = clean = NULL;
		}
	}
out:
	vl_value_free(tmp);
	vl_value_free(clean);
	return rc;
}

/* Conflict keys in a fixed order: _deleted, the schema's fields, the rest
 * bytewise. */
static int conflict_rank(const vl_schema *s, const char *k)
{
	size_t i;

	if (!strcmp(k, CONFLICT_DELETED))
		return -1;
	for (i = 0; i < s->nfields; i++)
		if (!strcmp(s->fields[i].name, k))
			return (int)i;
	return INT_MAX;
}

static int order_conflicts(vl_value **out, const vl_schema *s, vl_value *conf)
{
	vl_value *m = NULL;
	size_t i, best;
	int rc = 0;

	*out = NULL;
	if (!(m = vl_value_new(VL_V_MAP)))
		return oom();
	while (conf->n) {
		best = 0;
		for (i = 1; i < conf->n; i++) {
			int ri = conflict_rank(s, conf->keys[i]), rb = conflict_rank(s, conf->keys[best]);

			if (ri < rb || (ri == rb && strcmp(conf->keys[i], conf->keys[best]) < 0))
				best = i;
		}
		if (vl_value_map_set(m, conf->keys[best], vl_value_clone(conf->items[best])) < 0) {
			rc = oom();
			goto out;
		}
		(void)vl_value_map_del(conf, conf->keys[best]);
	}
	*out = m;
	m = NULL;
out:
	vl_value_free(m);
	return rc;
}

/* Drop the `value` of every conflict candidate (the last resort for a merged
 * record over the caps). */
static void elide_values(vl_value *conf)
{
	size_t i, j;

	for (i = 0; conf && i < conf->n; i++) {
		const vl_value *l = conf->items[i];

		for (j = 0; l->kind == VL_V_LIST && j < l->n; j++)
			if (l->items[j]->kind == VL_V_MAP)
				(void)vl_value_map_del(l->items[j], "value");
	}
}

/* The merged record must be a file vl_record_parse accepts. file (may be
 * NULL): on success, the file that was checked. */
static int self_check(const vl_record *r, vl_buf *file)
{
	vl_buf b = VL_BUF_INIT;
	vl_record *back = NULL;
	int rc;

	b.max = VL_RECORD_MAX_BYTES;
	if ((rc = vl_record_emit(&b, r, 1)) == 0)
		rc = vl_record_parse(&back, b.ptr, b.len, "merged record");
	if (rc == 0 && file) {
		vl_buf_clear(file);
		rc = vl_buf_put(file, b.ptr, b.len);
	}
	vl_record_free(back);
	vl_buf_free(&b);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The decision trace                                                       */

void vl_merge_trace_free(vl_merge_trace *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nfields; i++) {
		vl_value_free(t->fields[i].base);
		vl_value_free(t->fields[i].x);
		vl_value_free(t->fields[i].y);
		vl_value_free(t->fields[i].result);
	}
	free(t->fields);
	free(t);
}

const vl_merge_trace_field *vl_merge_trace_find(const vl_merge_trace *t, const char *field)
{
	size_t i;

	for (i = 0; t && i < t->nfields; i++)
		if (strcmp(t->fields[i].field, field) == 0)
			return &t->fields[i];
	return NULL;
}

const char *vl_merge_how_name(vl_merge_how h)
{
	switch (h) {
	case VL_HOW_ONE_SIDE: return "one_side";
	case VL_HOW_SAME: return "same";
	case VL_HOW_RULE: return "rule";
	case VL_HOW_HOOK: return "hook";
	case VL_HOW_PERSON: return "person";
	case VL_HOW_ON_DELETE: return "on_delete";
	}
	return "?";
}

const char *vl_merge_kind_name(vl_merge_kind k)
{
	switch (k) {
	case VL_MERGE_EDIT_EDIT: return "edit";
	case VL_MERGE_ADD_ADD: return "add_add";
	case VL_MERGE_EDIT_DELETE: return "edit_delete";
	case VL_MERGE_BOTH_DELETED: return "both_deleted";
	}
	return "?";
}

/* Append one entry to c->tr (sized for every field plus "_deleted" up
 * front); the values are copied. */
static int trace_push(mctx *c, const char *field, const vl_field *f, vl_merge_how how,
		vl_merge_why why, int side, const vl_value *b, const vl_value *x, const vl_value *y,
		const vl_value *res)
{
	vl_merge_trace_field *e = &c->tr->fields[c->tr->nfields];

	memset(e, 0, sizeof(*e));
	e->field = field;
	e->how = how;
	e->rule = f ? f->rule : VL_RULE_LWW;
	e->hook = f ? f->hook : NULL;
	e->why = why;
	e->side = side;
	c->tr->nfields++; /* counted first: the free below sees what was copied */
	if (dup_opt(&e->base, b) < 0 || dup_opt(&e->x, x) < 0 || dup_opt(&e->y, y) < 0 ||
			dup_opt(&e->result, res) < 0)
		return oom();
	return 0;
}

/* A field merged by merge_fields: recorded unless base, x, y and the
 * result all agree. */
static int trace_field(mctx *c, const vl_field *f, vl_merge_how how, vl_merge_why why,
		const vl_value *res)
{
	const vl_value *bv = vl_value_map_get(c->bd, f->name);
	const vl_value *xv = vl_value_map_get(c->xd, f->name), *yv = vl_value_map_get(c->yd, f->name);
	int side;

	if (vl_value_equal(xv, bv) && vl_value_equal(yv, bv) && vl_value_equal(res, bv))
		return 0;
	if (how == VL_HOW_ONE_SIDE)
		side = vl_value_equal(yv, bv) ? 0 : 1;
	else if (how == VL_HOW_SAME)
		side = 0;
	else
		side = vl_value_equal(res, xv) ? 0 : vl_value_equal(res, yv) ? 1 : -1;
	return trace_push(c, f->name, f, how, why, side, bv, xv, yv, res);
}

/* Edit/delete: the "_deleted" entry (candidates as the conflict entry keeps
 * them), then every field taken with the winning side's data. */
static int trace_edit_delete(mctx *c, const vl_value *conf, int edit_wins, int edit_is_y,
		const vl_value *data)
{
	const vl_value *cands = vl_value_map_get(conf, CONFLICT_DELETED);
	const vl_value *cx = NULL, *cy = NULL;
	int winner = edit_wins == edit_is_y; /* 1: y's data won */
	size_t i;
	int rc;

	if (cands && cands->kind == VL_V_LIST && cands->n == 2) {
		cx = vl_value_map_get(cands->items[0], "value");
		cy = vl_value_map_get(cands->items[1], "value");
	}
	if ((rc = trace_push(c, CONFLICT_DELETED, NULL, VL_HOW_ON_DELETE,
			edit_wins ? VL_WHY_EDIT_WINS : VL_WHY_TOMBSTONE_WINS, winner, NULL, cx, cy, NULL)) < 0)
		return rc;
	for (i = 0; i < c->s->nfields; i++) {
		const vl_field *f = &c->s->fields[i];
		const vl_value *bv = vl_value_map_get(c->bd, f->name);
		const vl_value *xv = vl_value_map_get(c->xd, f->name), *yv = vl_value_map_get(c->yd, f->name);
		const vl_value *rv = vl_value_map_get(data, f->name);

		if (vl_value_equal(xv, bv) && vl_value_equal(yv, bv) && vl_value_equal(rv, bv))
			continue;
		if ((rc = trace_push(c, f->name, f, VL_HOW_ON_DELETE, edit_wins ? VL_WHY_EDIT_WINS :
				VL_WHY_TOMBSTONE_WINS, winner, bv, xv, yv, rv)) < 0)
			return rc;
	}
	return 0;
}

/* Field by field (both sides live, or both tombstones). */
static int merge_fields(mctx *c, vl_value **data, vl_value *conf)
{
	const vl_schema *s = c->s;
	fres *fr = NULL;
	vl_value **lwwv = NULL;
	size_t i, nf = s->nfields;
	int rc = 0;

	*data = NULL;
	if (!(fr = calloc(nf ? nf : 1, sizeof(*fr))) || !(lwwv = calloc(nf ? nf : 1, sizeof(*lwwv)))) {
		rc = oom();
		goto out;
	}
	for (i = 0; i < nf; i++) {
		const vl_field *f = &s->fields[i];
		const vl_value *bv = vl_value_map_get(c->bd, f->name);
		const vl_value *xv = vl_value_map_get(c->xd, f->name);
		const vl_value *yv = vl_value_map_get(c->yd, f->name);

		if ((rc = dup_opt(&lwwv[i], lww_pick(c, xv, yv))) < 0)
			goto out;
		if (vl_value_equal(yv, bv) || (vl_value_equal(xv, yv) && (!xv || !is_counter(f)))) {
			fr[i].how = vl_value_equal(yv, bv) ? VL_HOW_ONE_SIDE : VL_HOW_SAME;
			rc = dup_opt(&fr[i].val, xv);
		} else if (vl_value_equal(xv, bv)) {
			fr[i].how = VL_HOW_ONE_SIDE;
			rc = dup_opt(&fr[i].val, yv);
		} else {
			rc = merge_field(&fr[i], c, f, bv, xv, yv);
		}
		if (rc < 0)
			goto out;
	}
	if ((rc = probe_fields(c, fr, lwwv, data)) < 0)
		goto out;
	for (i = 0; i < nf; i++) {
		const char *name = s->fields[i].name;

		if (c->tr && (rc = trace_field(c, &s->fields[i], fr[i].how, fr[i].why,
				vl_value_map_get(*data, name))) < 0)
			goto out;
		if (!fr[i].person)
			continue;
		c->st.conflicts++;
		if ((rc = conflict_entry(conf, name, c, vl_value_map_get(c->xd, name),
				vl_value_map_get(c->yd, name))) < 0)
			goto out;
	}
out:
	for (i = 0; fr && lwwv && i < nf; i++) {
		vl_value_free(fr[i].val);
		vl_value_free(lwwv[i]);
	}
	free(fr);
	free(lwwv);
	if (rc < 0) {
		vl_value_free(*data);
		*data = NULL;
	}
	return rc;
}

/* One side deleted the record, the other edited it: the schema's on_delete. */
static int merge_edit_delete(mctx *c, vl_value **data, vl_value *conf)
{
	const vl_merge_side *t = c->x->rec->deleted ? c->x : c->y;
	const vl_merge_side *e = c->x->rec->deleted ? c->y : c->x;
	int edit_wins = c->s->edit_wins;
	vl_value *edit = NULL;
	int rc;

	*data = NULL;
	/* The edit is kept without its personal data: the full version is
	 * the blob `from` names, and a tombstone must not carry pii. */
	if ((rc = vl_schema_tombstone_data(&edit, c->s, e->rec->data)) < 0)
		return rc;
	rc = conflict_entry(conf, CONFLICT_DELETED, c, c->x == e ? edit : c->xd,
			c->y == e ? edit : c->yd);
	vl_value_free(edit);
	if (rc < 0)
		return rc;
	c->st.conflicts++;
	c->deleted = !edit_wins;
	if (!(*data = vl_value_clone(edit_wins ? e->rec->data : t->rec->data)))
		return oom();
	if (c->tr && (rc = trace_edit_delete(c, conf, edit_wins, e == c->y, *data)) < 0) {
		vl_value_free(*data);
		*data = NULL;
		return rc;
	}
	return 0;
}

static int same_record(const vl_schema *s, const vl_record *a, const vl_record *b)
{
	return strcmp(a->schema, s->name) == 0 && strcmp(b->schema, s->name) == 0 &&
		strcmp(a->id, b->id) == 0 && strcmp(a->scope, b->scope) == 0;
}

static int clock_cmp(const char *a, const char *b)
{
	vl_hlc ha, hb;

	if (vl_hlc_parse(&ha, a) == 0 && vl_hlc_parse(&hb, b) == 0)
		return vl_hlc_cmp(&ha, &hb);
	return sgn(strcmp(a, b));
}

int vl_merge_record(vl_record **out, const vl_schema *s, const vl_merge_side *base,
		const vl_merge_side *x, const vl_merge_side *y, const vl_merge_env *env,
		vl_merge_stats *stats, vl_merge_trace **trace)
{
	return vl_merge_record_file(out, NULL, s, base, x, y, env, stats, trace);
}

int vl_merge_record_file(vl_record **out, vl_buf *file, const vl_schema *s, const vl_merge_side *base,
		const vl_merge_side *x, const vl_merge_side *y, const vl_merge_env *env,
		vl_merge_stats *stats, vl_merge_trace **trace)
{
	mctx c;
	vl_merge_trace *tr = NULL;
	vl_record *r = NULL;
	vl_value *empty = NULL, *data = NULL, *conf = NULL, *ordered = NULL;
	int rc = 0, cmp;

	*out = NULL;
	if (trace)
		*trace = NULL;
	memset(&c, 0, sizeof(c));
	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (!s || !x || !y || !x->rec || !y->rec || !is_oid(x->blob) || !is_oid(y->blob))
		return vl_error_set(VL_EINVALID, "merge needs two records with their blob ids");
	if (base && base->rec && !is_oid(base->blob))
		return vl_error_set(VL_EINVALID, "merge: the base has no blob id");
	if (strcmp(x->blob, y->blob) == 0 ||
			(base && base->rec && (!strcmp(base->blob, x->blob) || !strcmp(base->blob, y->blob))))
		return vl_error_set(VL_EINVALID, "merge of %s %s: a side is the same blob as the other "
				"or the base; nothing to merge", s->name, x->rec->id);
	/* Canonical order: the rest never knows which side was "ours". */
	if (strcmp(x->blob, y->blob) > 0) {
		const vl_merge_side *t = x;

		x = y;
		y = t;
	}
	c.s = s;
	c.x = x;
	c.y = y;
	c.b = base ? base->rec : NULL;
	c.env = env;
	if (!same_record(s, x->rec, y->rec) || (c.b && !same_record(s, c.b, x->rec)))
		return vl_error_set(VL_EINVALID, "merge of %s %s: the versions disagree on ledger, id "
				"or scope", s->name, x->rec->id);
	if ((rc = check_shape(s, x, "side")) < 0 || (rc = check_shape(s, y, "side")) < 0 ||
			(c.b && (rc = check_shape(s, base, "base")) < 0))
		return rc;
	if (!(empty = vl_value_new(VL_V_MAP)) || !(conf = vl_value_new(VL_V_MAP))) {
		rc = oom();
		goto out;
	}
	c.bd = c.b ? c.b->data : empty;
	c.xd = x->rec->data;
	c.yd = y->rec->data;
	cmp = clock_cmp(x->rec->clock, y->rec->clock);
	if (cmp == 0) {
		c.clock_tie = 1;
		cmp = sgn(strcmp(x->rec->author, y->rec->author));
	}
	c.y_later = cmp <= 0; /* a full tie: the larger blob id, y */
	if (trace) {
		if (!(tr = calloc(1, sizeof(*tr))) ||
				!(tr->fields = calloc(s->nfields + 1, sizeof(*tr->fields)))) {
			rc = oom();
			goto out;
		}
		tr->kind = x->rec->deleted != y->rec->deleted ? VL_MERGE_EDIT_DELETE :
			x->rec->deleted ? VL_MERGE_BOTH_DELETED : c.b ? VL_MERGE_EDIT_EDIT : VL_MERGE_ADD_ADD;
		if (c.b)
			memcpy(tr->base_blob, base->blob, VL_OID_HEX + 1);
		memcpy(tr->x_blob, x->blob, VL_OID_HEX + 1);
		memcpy(tr->y_blob, y->blob, VL_OID_HEX + 1);
		tr->y_later = c.y_later;
		tr->clock_tie = c.clock_tie;
		c.tr = tr;
	}

	if ((rc = merge_old_conflicts(conf, c.b ? c.b->conflicts : NULL, x->rec->conflicts,
			y->rec->conflicts)) < 0)
		goto out;
	if (x->rec->deleted != y->rec->deleted) {
		rc = merge_edit_delete(&c, &data, conf);
	} else {
		c.deleted = x->rec->deleted;
		rc = merge_fields(&c, &data, conf);
	}
	if (rc < 0)
		goto out;
	if ((rc = vl_schema_validate(s, data, c.deleted, NULL)) == VL_ENOMEM)
		goto out;
	if (rc < 0) {
		rc = vl_error_wrap(VL_EINVALID, "merge of %s %s: the merged data does not validate",
				s->name, x->rec->id);
		goto out;
	}
	if (c.deleted && (rc = strip_conflicts(s, conf)) < 0)
		goto out;
	if ((rc = order_conflicts(&ordered, s, conf)) < 0)
		goto out;

	if ((rc = vl_record_new(&r, s->name, x->rec->id, x->rec->scope)) < 0)
		goto out;
	memcpy(r->clock, clock_cmp(x->rec->clock, y->rec->clock) >= 0 ? x->rec->clock : y->rec->clock,
			sizeof(r->clock));
	memcpy(r->author, VL_AUTHOR_MERGE, sizeof(VL_AUTHOR_MERGE));
	if (!(r->prev = calloc(2, sizeof(*r->prev)))) {
		rc = oom();
		goto out;
	}
	memcpy(r->prev[0], x->blob, VL_OID_HEX + 1);
	memcpy(r->prev[1], y->blob, VL_OID_HEX + 1);
	r->nprev = 2;
	vl_value_free(r->data);
	r->data = data;
	data = NULL;
	r->deleted = c.deleted;
	if (ordered->n) {
		r->conflicts = ordered;
		ordered = NULL;
	}
	rc = self_check(r, file);
	if (rc == VL_ETOOBIG && r->conflicts) {
		elide_values(r->conflicts);
		rc = self_check(r, file);
	}
	if (rc < 0) {
		rc = vl_error_wrap(rc, "merge of %s %s", s->name, x->rec->id);
		goto out;
	}
	if (stats)
		*stats = c.st;
	if (trace) {
		*trace = tr;
		tr = NULL;
	}
	*out = r;
	r = NULL;
out:
	vl_merge_trace_free(tr);
	vl_record_free(r);
	vl_value_free(ordered);
	vl_value_free(conf);
	vl_value_free(data);
	vl_value_free(empty);
	return rc;
}
