/*
 * query.h - record filters: the one parser and evaluator of `--where` (list,
 * aggregate) and of the schemas' aggregate `where` conditions.
 *
 * An expression is FIELD OP VALUE with OP one of = != < <= > >= (no blanks
 * needed; "<=" is read before "<"). VALUE is parsed by the field's type as
 * `--set` parses it (vl_schema_set_text: enum labels, 是/否, datetimes with
 * an offset). Semantics, for a record's data:
 *   =   equal; for a set or list field: contains every item given
 *   !=  not equal; for a set or list: contains none of the items given
 *   < <= > >=  int and decimal compared as exact numbers, date and datetime
 *       by time; any other type is an error
 * A record without the field matches `!=` only. Several expressions are
 * ANDed. Caps: VL_QUERY_MAX_EXPRS expressions of VL_QUERY_MAX_TEXT bytes.
 * Errors name the expression's field, operator and what is wrong; the value
 * is quoted only when the field is not personal data.
 * A vl_query is immutable after parsing and may be shared between threads.
 */
#ifndef VL_QUERY_H
#define VL_QUERY_H

#include <stddef.h>
#include "schemas/schema.h"
#include "store/value.h"

#define VL_QUERY_MAX_EXPRS 32
#define VL_QUERY_MAX_TEXT 1024

typedef struct {
	const vl_field *field;  /* borrowed from the schema */
	vl_cmp op;
	vl_value *want;         /* owned; parsed by the field's type */
} vl_query_cond;

typedef struct {
	vl_query_cond *conds;
	size_t n;
} vl_query;

#define VL_QUERY_INIT { NULL, 0 }

/*
 * Parse exprs against schema s into out (which must be VL_QUERY_INIT or
 * freed). allow_pii 0 refuses personal fields (aggregates never filter on
 * them). VL_EINVALID: a malformed expression, an unknown field, an operator
 * that does not apply to the field's type, a value that does not parse;
 * VL_ETOOBIG: over the caps. On failure out is left empty.
 */
int vl_query_parse(vl_query *out, const vl_schema *s, const char *const *exprs, size_t n,
		int allow_pii) VL_MUST_CHECK;

/* The conditions of aggregate a (checked when its schema loaded), appended
 * to out. */
int vl_query_add_aggregate(vl_query *out, const vl_schema *s, const vl_aggregate *a) VL_MUST_CHECK;

/* 1 if data (a record's data MAP) meets every condition, else 0. */
int vl_query_match(const vl_query *q, const vl_value *data);

void vl_query_free(vl_query *q);

/*
 * Compare two exact decimal texts (-?digits[.digits], INT or DEC): <0, 0,
 * >0. Also used to order datetimes' fractions. Undefined for other text.
 */
int vl_decimal_cmp(const char *a, const char *b);

#endif
