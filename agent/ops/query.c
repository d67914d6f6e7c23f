/*
 * query.c - parse and evaluate record filters (query.h): `--where` of list
 * and aggregate, and the schemas' aggregate conditions, by one evaluator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/query.h"
#include "store/error.h"
#include "store/i18n.h"

void vl_query_free(vl_query *q)
{
	size_t i;

	if (!q)
		return;
	for (i = 0; i < q->n; i++)
		vl_value_free(q->conds[i].want);
	free(q->conds);
	q->conds = NULL;
	q->n = 0;
}

/* |a| vs |b| for unsigned decimal texts digits[.digits]. */
static int dec_cmp_abs(const char *a, const char *b)
{
	size_t ia = strcspn(a, "."), ib = strcspn(b, ".");
	const char *fa, *fb;
	int c;

	while (ia > 1 && *a == '0') {
		a++;
		ia--;
	}
	while (ib > 1 && *b == '0') {
		b++;
		ib--;
	}
	if (ia != ib)
		return ia < ib ? -1 : 1;
	if ((c = memcmp(a, b, ia)) != 0)
		return c < 0 ? -1 : 1;
	fa = a[ia] == '.' ? a + ia + 1 : "";
	fb = b[ib] == '.' ? b + ib + 1 : "";
	while (*fa || *fb) {
		char ca = *fa ? *fa++ : '0', cb = *fb ? *fb++ : '0';
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return 0;
}

int vl_decimal_cmp(const char *a, const char *b)
{
	int na = a[0] == '-', nb = b[0] == '-', c;

	a += na;
	b += nb;
	c = dec_cmp_abs(a, b);
	if (na == nb)
		return na ? -c : c;
	if (dec_cmp_abs(a, "0") == 0 && dec_cmp_abs(b, "0") == 0)
		return 0; /* -0 = 0 */
	return na ? -1 : 1;
}

/* RFC 3339 UTC datetimes with 0-9 fraction digits: by the first 19
 * characters, then the fraction as digits padded with zeros. */
static int datetime_cmp(const char *a, const char *b)
{
	int c = strncmp(a, b, 19);
	const char *fa, *fb;

	if (c != 0 || strlen(a) < 19 || strlen(b) < 19)
		return c < 0 ? -1 : c > 0;
	fa = a[19] == '.' ? a + 20 : "";
	fb = b[19] == '.' ? b + 20 : "";
	for (;;) {
		char ca = (*fa >= '0' && *fa <= '9') ? *fa++ : '0';
		char cb = (*fb >= '0' && *fb <= '9') ? *fb++ : '0';
		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (!(*fa >= '0' && *fa <= '9') && !(*fb >= '0' && *fb <= '9'))
			return 0;
	}
}

static int orderable(vl_ftype t)
{
	return t == VL_T_INT || t == VL_T_DECIMAL || t == VL_T_DATE || t == VL_T_DATETIME;
}

static int is_number(const vl_value *v)
{
	return v && (v->kind == VL_V_INT || v->kind == VL_V_DEC);
}

/* Compare a record's scalar with the wanted one by the field's type; 2 when
 * they cannot be compared (wrong kinds: such a record never matches an
 * ordering). */
static int scalar_cmp(const vl_field *f, const vl_value *have, const vl_value *want)
{
	if (!have || !want || !have->s || !want->s)
		return 2;
	switch (f->type) {
	case VL_T_INT:
	case VL_T_DECIMAL:
		return is_number(have) && is_number(want) ? vl_decimal_cmp(have->s, want->s) : 2;
	case VL_T_DATE:
		return have->kind == VL_V_STR ? (strcmp(have->s, want->s) > 0) - (strcmp(have->s, want->s) < 0) : 2;
	case VL_T_DATETIME:
		return have->kind == VL_V_STR ? datetime_cmp(have->s, want->s) : 2;
	default:
		return vl_value_equal(have, want) ? 0 : 2;
	}
}

static int list_has(const vl_value *list, const vl_value *item)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (vl_value_equal(list->items[i], item))
			return 1;
	return 0;
}

static int cond_match(const vl_query_cond *c, const vl_value *data)
{
	const vl_value *have = vl_value_map_get(data, c->field->name);
	size_t k;
	int r;

	if (!have)
		return c->op == VL_CMP_NE;
	if (c->want->kind == VL_V_LIST) {
		if (have->kind != VL_V_LIST)
			return c->op == VL_CMP_NE;
		for (k = 0; k < c->want->n; k++) {
			int in = list_has(have, c->want->items[k]);
			if (c->op == VL_CMP_EQ ? !in : in)
				return 0;
		}
		return 1;
	}
	r = scalar_cmp(c->field, have, c->want);
	switch (c->op) {
	case VL_CMP_EQ: return r == 0;
	case VL_CMP_NE: return r != 0;
	case VL_CMP_LT: return r == -1;
	case VL_CMP_LE: return r == -1 || r == 0;
	case VL_CMP_GT: return r == 1;
	case VL_CMP_GE: return r == 1 || r == 0;
	}
	return 0;
}

int vl_query_match(const vl_query *q, const vl_value *data)
{
	size_t i;

	for (i = 0; q && i < q->n; i++)
		if (!cond_match(&q->conds[i], data))
			return 0;
	return 1;
}

/* Parse `value` for field f into a condition appended to q. what names the
 * expression in messages ("--where 'age'"). */
static int add_cond(vl_query *q, const vl_schema *s, const vl_field *f, vl_cmp op, const char *value,
		const char *what)
{
	vl_value *probe = NULL, *want = NULL;
	vl_query_cond *nc;
	int rc;

	if (op != VL_CMP_EQ && op != VL_CMP_NE && !orderable(f->type))
		return vl_error_set(VL_EINVALID, "%s: operator '%s' needs an int, decimal, date or datetime field; "
				"'%s' is %s (use = or !=)", what, vl_cmp_name(op), f->name, vl_ftype_name(f->type));
	if (!(probe = vl_value_new(VL_V_MAP)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	if ((rc = vl_schema_set_text(s, probe, f->name, value)) < 0) {
		if (rc != VL_ENOMEM)
			rc = f->pii ? vl_error_set(VL_EINVALID, "%s: the value is not a valid %s", what,
						vl_ftype_name(f->type))
				    : vl_error_set(VL_EINVALID, "%s: value '%.64s' is not a valid %s", what, value,
						vl_ftype_name(f->type));
		goto out;
	}
	want = vl_value_map_get(probe, f->name);
	if (!want) {
		rc = vl_error_set(VL_EINVALID, "%s: needs a value after '%s'", what, vl_cmp_name(op));
		goto out;
	}
	if (f->type == VL_T_LIST && f->item_type == VL_T_MAP) {
		rc = vl_error_set(VL_EINVALID, "%s: '%s' is a list of maps, which cannot be filtered", what, f->name);
		goto out;
	}
	if (!(want = vl_value_clone(want))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if (!(nc = realloc(q->conds, (q->n + 1) * sizeof(*nc)))) {
		vl_value_free(want);
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	q->conds = nc;
	q->conds[q->n].field = f;
	q->conds[q->n].op = op;
	q->conds[q->n++].want = want;
	rc = 0;
out:
	vl_value_free(probe);
	return rc;
}

int vl_query_parse(vl_query *out, const vl_schema *s, const char *const *exprs, size_t n, int allow_pii)
{
	vl_query q = VL_QUERY_INIT;
	size_t i;
	int rc = 0;

	if (n > VL_QUERY_MAX_EXPRS)
		return vl_error_set(VL_ETOOBIG, "at most %d --where expressions, got %zu", VL_QUERY_MAX_EXPRS, n);
	for (i = 0; i < n; i++) {
		const char *e = exprs[i];
		char name[65], what[96];
		size_t nl = 0, oplen = 0;
		const vl_field *f;
		vl_cmp op;

		if (strnlen(e, VL_QUERY_MAX_TEXT + 1) > VL_QUERY_MAX_TEXT) {
			rc = vl_error_set(VL_ETOOBIG, "--where expression %zu is longer than %d bytes", i + 1,
					VL_QUERY_MAX_TEXT);
			goto out;
		}
		while ((e[nl] >= 'a' && e[nl] <= 'z') || (e[nl] >= '0' && e[nl] <= '9') || e[nl] == '_')
			nl++;
		if (nl == 0 || nl >= sizeof(name) || !vl_cmp_parse(e + nl, &op, &oplen)) {
			rc = vl_error_set(VL_EINVALID, "--where expression %zu: expected FIELD OP VALUE with OP one of "
					"= != < <= > >= (e.g. status!=delivered, surveyed_on>=2022-04-01)", i + 1);
			goto out;
		}
		memcpy(name, e, nl);
		name[nl] = '\0';
		snprintf(what, sizeof(what), "--where '%s%s'", name, vl_cmp_name(op));
		if (!(f = vl_schema_field(s, name))) {
			rc = vl_error_set(VL_EINVALID, "--where: ledger '%s' has no field '%s' ('vledger schema show %s' "
					"lists them)", s->name, name, s->name);
			goto out;
		}
		if (f->pii && !allow_pii) {
			rc = vl_error_set(VL_EINVALID, "--where: field '%s' is personal data and never aggregated", name);
			goto out;
		}
		if ((rc = add_cond(&q, s, f, op, e + nl + oplen, what)) < 0)
			goto out;
	}
	*out = q;
	q.conds = NULL;
	q.n = 0;
out:
	vl_query_free(&q);
	return rc;
}

int vl_query_add_aggregate(vl_query *out, const vl_schema *s, const vl_aggregate *a)
{
	size_t i;
	int rc;

	for (i = 0; i < a->nconds; i++) {
		const vl_field *f = vl_schema_field(s, a->conds[i].field);
		if (!f || !a->conds[i].value)
			return vl_error_set(VL_EINVALID, "aggregate '%s' of '%s': a condition names no field", a->name,
					s->name);
		if ((rc = add_cond(out, s, f, a->conds[i].op, a->conds[i].value, _("aggregate condition"))) < 0)
			return rc;
	}
	return 0;
}
