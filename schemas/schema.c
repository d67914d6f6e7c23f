/*
 * schema.c - loading and checking schema files, and checking, normalising,
 * masking and keying record data against them (see schema.h; the language
 * is documented in docs/schemas.md).
 *
 * A loaded schema is a schema_impl: the public vl_schema followed by the
 * compiled patterns of its fields, so that validating a record never
 * recompiles a regex. Every function taking a `const vl_schema *` therefore
 * needs one made by vl_schema_load (never a hand-built struct). Nothing is
 * written to a loaded schema afterwards, and POSIX regexec is thread safe,
 * so one schema can serve many threads.
 *
 * Messages never quote data values: they name the field, the rule and the
 * position. Schema messages may quote schema text (names, keys), never the
 * values of records.
 */
#include "schemas/schema.h"

#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "schemas/types.h"
#include "store/hlc.h"
#include "store/i18n.h"
#include "store/ulid.h"
#include "store/yaml.h"

/* ------------------------------------------------------------------------ */
/* The loaded schema                                                         */

#define SCHEMA_MAGIC 0x766c7363u /* "vlsc" */
#define NAME_MAX_LEN 64           /* field, enum value, aggregate names */
#define LEDGER_NAME_MAX 32        /* matches vl_ledger_name_valid (record.h) */
#define PATTERN_MAX_LEN 1024
#define PATTERN_MAX_COST 20000    /* see pattern_cost_ok */
#define DIAG_MAX_LINES 200
#define FIELD_MAX_DEPTH 8         /* nested list/map fields */

typedef struct {
	const vl_field *field;
	regex_t re;
} compiled_pattern;

typedef struct {
	vl_schema pub;     /* first: a vl_schema * points here */
	unsigned magic;
	compiled_pattern **pats;
	size_t npats, cappats;
} schema_impl;

static const schema_impl *impl_of(const vl_schema *s)
{
	return (const schema_impl *)s;
}

static const regex_t *pattern_of(const vl_schema *s, const vl_field *f)
{
	const schema_impl *im = impl_of(s);
	size_t i;

	for (i = 0; i < im->npats; i++)
		if (im->pats[i]->field == f)
			return &im->pats[i]->re;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static const struct {
	const char *name;
	vl_ftype type;
} type_names[] = {
	{ "string", VL_T_STRING }, { "text", VL_T_TEXT }, { "int", VL_T_INT },
	{ "decimal", VL_T_DECIMAL }, { "bool", VL_T_BOOL }, { "date", VL_T_DATE },
	{ "datetime", VL_T_DATETIME }, { "enum", VL_T_ENUM }, { "set", VL_T_SET },
	{ "list", VL_T_LIST }, { "map", VL_T_MAP }, { "cn_id", VL_T_CN_ID },
	{ "cn_mobile", VL_T_CN_MOBILE }, { "phone", VL_T_PHONE },
	{ "division", VL_T_DIVISION }, { "ref", VL_T_REF },
};

const char *vl_ftype_name(vl_ftype t)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == t)
			return type_names[i].name;
	return "unknown";
}

static vl_ftype ftype_from_name(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(type_names[i].name, s) == 0)
			return type_names[i].type;
	return (vl_ftype)0;
}

/* Types whose record value is a STR. */
static int is_str_type(vl_ftype t)
{
	switch (t) {
	case VL_T_STRING: case VL_T_TEXT: case VL_T_DATE: case VL_T_DATETIME:
	case VL_T_ENUM: case VL_T_CN_ID: case VL_T_CN_MOBILE: case VL_T_PHONE:
	case VL_T_DIVISION: case VL_T_REF:
		return 1;
	default:
		return 0;
	}
}

static int is_scalar_type(vl_ftype t)
{
	return t != VL_T_SET && t != VL_T_LIST && t != VL_T_MAP && t != 0;
}

static int is_scalar_value(const vl_value *v)
{
	return v && v->kind != VL_V_LIST && v->kind != VL_V_MAP;
}

/* The type each scalar of a field is checked as: the item type of a set or
 * list of scalars, else the field's own type; 0 for list/map of maps. */
static vl_ftype scalar_type(const vl_field *f)
{
	if (f->type == VL_T_SET || f->type == VL_T_LIST)
		return f->item_type == VL_T_MAP ? (vl_ftype)0 : f->item_type;
	if (f->type == VL_T_MAP)
		return (vl_ftype)0;
	return f->type;
}

/* [a-z][a-z0-9_]* of at most max bytes. */
static int ident_valid(const char *s, size_t max)
{
	size_t i;

	if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return i <= max;
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int ascii_casecmp(const char *a, const char *b)
{
	while (*a && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return ascii_lower((unsigned char)*a) - ascii_lower((unsigned char)*b);
}

/* Number of UTF-8 characters (bytes that are not continuation bytes). */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* Byte offset of character number `chars` (or len). */
static size_t utf8_offset(const char *s, size_t len, size_t chars)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (n == chars)
				return i;
			n++;
		}
	}
	return len;
}

static int match_int(const char *s)
{
	size_t i = 0;

	if (s[i] == '-')
		i++;
	if (s[i] == '0')
		return s[i + 1] == '\0';
	if (!(s[i] >= '1' && s[i] <= '9'))
		return 0;
	for (i++; s[i]; i++)
		if (!(s[i] >= '0' && s[i] <= '9'))
			return 0;
	return 1;
}

static int match_dec(const char *s)
{
	size_t i = 0, d;

	if (s[i] == '-')
		i++;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return 0;
	}
	if (s[i] != '.')
		return 0;
	for (i++, d = 0; s[i] >= '0' && s[i] <= '9'; i++, d++)
		;
	return d > 0 && s[i] == '\0';
}

/* An INT text that fits in long long. */
static int parse_ll(const char *s, long long *out)
{
	unsigned long long mag = 0, lim;
	int neg = 0;

	if (!match_int(s))
		return 0;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (mag > (lim - d) / 10)
			return 0;
		mag = mag * 10 + d;
	}
	if (neg)
		*out = mag == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)mag;
	else
		*out = (long long)mag;
	return 1;
}

/*
 * Compare two exact decimals given as INT or DEC text (already checked):
 * <0, 0, >0. Works on the digits, so there is no rounding and no range.
 */
static int dec_cmp(const char *a, const char *b)
{
	int na = *a == '-', nb = *b == '-';
	const char *ia = a + na, *ib = b + nb, *fa, *fb;
	size_t la, lb;
	int zero_a, zero_b, mag;

	la = strcspn(ia, ".");
	lb = strcspn(ib, ".");
	fa = ia[la] == '.' ? ia + la + 1 : ia + la;
	fb = ib[lb] == '.' ? ib + lb + 1 : ib + lb;
	zero_a = la == 1 && ia[0] == '0' && strspn(fa, "0") == strlen(fa);
	zero_b = lb == 1 && ib[0] == '0' && strspn(fb, "0") == strlen(fb);
	if (zero_a)
		na = 0;
	if (zero_b)
		nb = 0;
	if (na != nb)
		return na ? -1 : 1;
	/* Same sign: compare magnitudes (no leading zeros, so length first). */
	if (la != lb) {
		mag = la < lb ? -1 : 1;
	} else {
		int c = memcmp(ia, ib, la);

		mag = 0;
		if (c)
			mag = c < 0 ? -1 : 1;
		while (!mag && (*fa || *fb)) {
			char ca = *fa ? *fa++ : '0', cb = *fb ? *fb++ : '0';

			if (ca != cb)
				mag = ca < cb ? -1 : 1;
		}
	}
	return na ? -mag : mag;
}

/* ------------------------------------------------------------------------ */
/* Patterns                                                                  */

/*
 * glibc's regcomp copies the operand of every bounded repetition, so nested
 * bounds multiply: "((a{100}){100}){100}" would build a million-node tree.
 * Schema files come from the network's config branch, so bound the work
 * before calling regcomp: estimate the expanded size (every atom 1, a group
 * the sum of its parts, x{n,m} times max(n,m)+1) and refuse it over a cap.
 * Back-references (\1, a glibc extension to ERE) can make regexec take
 * exponential time, so they are refused too. Returns a reason or NULL.
 */
static const char *pattern_cost_ok(const char *p)
{
	size_t stack[33];
	size_t last = 0, i, len = strlen(p);
	int d = 0;

	if (len > PATTERN_MAX_LEN)
		return "pattern is longer than 1024 bytes";
	stack[0] = 0;
	for (i = 0; i < len; i++) {
		char c = p[i];

		if (c == '\\') {
			if (i + 1 < len && p[i + 1] >= '0' && p[i + 1] <= '9')
				return "back-references are not allowed in patterns";
			i++;
			last = 1;
			stack[d] += 1;
		} else if (c == '[') {
			size_t j = i + 1;

			if (j < len && p[j] == '^')
				j++;
			if (j < len && p[j] == ']')
				j++;
			while (j < len && p[j] != ']') {
				if (p[j] == '[' && j + 1 < len &&
						(p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
					char close = p[j + 1];

					j += 2;
					while (j + 1 < len && !(p[j] == close && p[j + 1] == ']'))
						j++;
					j += 2;
				} else {
					j++;
				}
			}
			i = j < len ? j : len;
			last = 1;
			stack[d] += 1;
		} else if (c == '(') {
			if (d >= 32)
				return "pattern nests groups deeper than 32";
			stack[++d] = 0;
			last = 0;
		} else if (c == ')') {
			/* An unmatched ')' would break out of the ^(...)$ anchoring. */
			if (d == 0)
				return "pattern has an unmatched ')'";
			last = stack[d--];
			stack[d] += last;
		} else if (c == '{') {
			size_t j = i + 1, n = 0, m = 0, k;
			int has_comma = 0, has_m = 0;

			while (j < len && p[j] >= '0' && p[j] <= '9' && n <= 100000)
				n = n * 10 + (size_t)(p[j++] - '0');
			if (j < len && p[j] == ',') {
				has_comma = 1;
				j++;
				while (j < len && p[j] >= '0' && p[j] <= '9' && m <= 100000) {
					m = m * 10 + (size_t)(p[j++] - '0');
					has_m = 1;
				}
			}
			if (j >= len || p[j] != '}') {
				last = 1; /* not an interval: let regcomp judge it */
				stack[d] += 1;
				continue;
			}
			k = has_comma ? (has_m ? m : n) + 1 : n;
			if (k > 1000)
				return "pattern repeats more than 1000 times";
			if (k > 1)
				stack[d] += last * (k - 1);
			last *= k ? k : 1;
			i = j;
		} else if (c == '|') {
			last = 0;
		} else if (c != '*' && c != '+' && c != '?' && c != '^' && c != '$') {
			last = 1;
			stack[d] += 1;
		}
		if (stack[d] > PATTERN_MAX_COST || last > PATTERN_MAX_COST)
			return "pattern is too complex";
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Parsing: context and diagnostics                                          */

typedef struct {
	const char *src;
	vl_buf *diag;
	size_t nerr;
	int oom;
	char first[512];
	schema_impl *im;
	const char *today;  /* the load's UTC date, for checking cn_id defaults */
	int language;       /* the schema's `language:` (1 when absent or bad) */
	vl_buf warn;        /* ignored display-only keys, one line each */
	size_t nwarn;       /* how many (lines kept up to DIAG_MAX_LINES) */
} pctx;

static void perr(pctx *c, const vl_value *at, const char *fmt, ...) VL_PRINTF(3, 4);

static void perr(pctx *c, const vl_value *at, const char *fmt, ...)
{
	char msg[400];
	char line[sizeof(msg) + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at && at->line > 0)
		snprintf(line, sizeof(line), "%d:%d: %s", at->line, at->col, msg);
	else
		snprintf(line, sizeof(line), " %s", msg);
	if (c->nerr == 0)
		snprintf(c->first, sizeof(c->first), "%s", line);
	c->nerr++;
	if (!c->diag)
		return;
	if (c->nerr <= DIAG_MAX_LINES) {
		if (vl_buf_printf(c->diag, "%s:%s\n", c->src, line) < 0)
			c->oom = 1;
	} else if (c->nerr == DIAG_MAX_LINES + 1) {
		if (vl_buf_printf(c->diag, "%s: more errors not listed\n", c->src) < 0)
			c->oom = 1;
	}
}

static char *pdup(pctx *c, const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		c->oom = 1;
	return p;
}

/* A display-only key this binary does not know: ignored, with a warning
 * line kept for the commands that check or install schemas. */
static void pwarn_ignored(pctx *c, const vl_value *at, const char *where, const char *key)
{
	int rc;

	if (++c->nwarn > DIAG_MAX_LINES) {
		if (c->nwarn == DIAG_MAX_LINES + 1 &&
				vl_buf_printf(&c->warn, "%s: more ignored keys not listed\n", c->src) < 0)
			c->oom = 1;
		return;
	}
	if (at && at->line > 0)
		rc = vl_buf_printf(&c->warn, "%s:%d:%d: %s: key '%.64s' is not known to this vledger (schema "
				"language %d) and is ignored: '%s' keys only change how records are shown\n", c->src,
				at->line, at->col, where, key, VL_SCHEMA_LANGUAGE, VL_SCHEMA_DISPLAY_PREFIX);
	else
		rc = vl_buf_printf(&c->warn, "%s: %s: key '%.64s' is not known to this vledger (schema "
				"language %d) and is ignored: '%s' keys only change how records are shown\n", c->src,
				where, key, VL_SCHEMA_LANGUAGE, VL_SCHEMA_DISPLAY_PREFIX);
	if (rc < 0)
		c->oom = 1;
}

/*
 * Report every key of m that is not in the NULL-terminated list: the schema
 * language version rule (schema.h VL_SCHEMA_LANGUAGE). A `ui_*` key only
 * changes the display, so one this binary does not know is ignored with a
 * warning; any other could change which records are valid or how they
 * merge, so it is refused, naming the language the schema says it needs
 * when that is newer than this binary's.
 */
static void check_keys(pctx *c, const vl_value *m, const char *where, const char *const *known)
{
	size_t i, k, plen = strlen(VL_SCHEMA_DISPLAY_PREFIX);

	for (i = 0; i < m->n; i++) {
		for (k = 0; known[k]; k++)
			if (strcmp(m->keys[i], known[k]) == 0)
				break;
		if (known[k])
			continue;
		if (strncmp(m->keys[i], VL_SCHEMA_DISPLAY_PREFIX, plen) == 0 && m->keys[i][plen])
			pwarn_ignored(c, m->items[i], where, m->keys[i]);
		else if (c->language > VL_SCHEMA_LANGUAGE)
			perr(c, m->items[i], "%s: key '%.64s' needs schema language %d, and this vledger reads "
					"schema language %d: upgrade vledger on this node", where, m->keys[i],
					c->language, VL_SCHEMA_LANGUAGE);
		else
			perr(c, m->items[i], "%s: unknown key '%.64s' (not in schema language %d; a schema "
					"written for a newer vledger says so with 'language:')", where, m->keys[i],
					VL_SCHEMA_LANGUAGE);
	}
}

/* A required or optional non-empty string; NULL when absent or wrong. */
static const char *get_str(pctx *c, const vl_value *m, const char *key,
		int required, const char *where)
{
	const vl_value *v = vl_value_map_get(m, key);

	if (!v) {
		if (required)
			perr(c, m, "%s: missing '%s'", where, key);
		return NULL;
	}
	if (v->kind != VL_V_STR || v->slen == 0) {
		perr(c, v, "%s: '%s' must be a non-empty string", where, key);
		return NULL;
	}
	return v->s;
}

/* An optional bool; def when absent. */
static int get_bool(pctx *c, const vl_value *m, const char *key, int def, const char *where)
{
	const vl_value *v = vl_value_map_get(m, key);

	if (!v)
		return def;
	if (v->kind != VL_V_BOOL) {
		perr(c, v, "%s: '%s' must be true or false", where, key);
		return def;
	}
	return strcmp(v->s, "true") == 0;
}

/* ------------------------------------------------------------------------ */
/* Parsing fields                                                            */

static void field_clear(vl_field *f);

static void fields_free(vl_field *fs, size_t n)
{
	size_t i;

	if (!fs)
		return;
	for (i = 0; i < n; i++)
		field_clear(&fs[i]);
	free(fs);
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void field_clear(vl_field *f)
{
	size_t i;

	free(f->name);
	free(f->label_zh);
	free(f->label_en);
	free(f->doc);
	vl_value_free(f->def);
	for (i = 0; f->opts && i < f->nopts; i++) {
		free(f->opts[i].value);
		free(f->opts[i].zh);
		free(f->opts[i].en);
	}
	free(f->opts);
	fields_free(f->item_fields, f->nitem_fields);
	free(f->item_key);
	free(f->min);
	free(f->max);
	free(f->pattern);
	free(f->ref);
	free(f->merge);
	free(f->hook);
	free(f->hook_sha256);
	strv_free(f->order, f->norder);
	strv_free(f->terminal, f->nterminal);
}

static const vl_enum_opt *find_opt(const vl_field *f, const char *value)
{
	size_t i;

	for (i = 0; i < f->nopts; i++)
		if (f->opts[i].value && strcmp(f->opts[i].value, value) == 0)
			return &f->opts[i];
	return NULL;
}

static void parse_values(pctx *c, vl_field *f, const vl_value *v, const char *where)
{
	size_t i, j;

	if (v->kind != VL_V_LIST || v->n == 0) {
		perr(c, v, "%s: 'values' must be a non-empty list of {value, zh, en}", where);
		return;
	}
	f->opts = calloc(v->n, sizeof(*f->opts));
	if (!f->opts) {
		c->oom = 1;
		return;
	}
	f->nopts = v->n;
	for (i = 0; i < v->n; i++) {
		static const char *const known[] = { "value", "zh", "en", NULL };
		const vl_value *o = v->items[i];
		vl_enum_opt *op = &f->opts[i];
		const char *val, *zh, *en;
		char w[160];

		snprintf(w, sizeof(w), "%.120s: value %zu", where, i + 1);
		if (o->kind != VL_V_MAP) {
			perr(c, o, "%s: must be a map {value, zh, en}", w);
			continue;
		}
		check_keys(c, o, w, known);
		val = get_str(c, o, "value", 1, w);
		zh = get_str(c, o, "zh", 1, w);
		en = get_str(c, o, "en", 1, w);
		if (val && !ident_valid(val, NAME_MAX_LEN)) {
			perr(c, vl_value_map_get(o, "value"),
					"%s: enum values are lowercase identifiers [a-z][a-z0-9_]*", w);
			val = NULL;
		}
		for (j = 0; j < i; j++) {
			const vl_enum_opt *p = &f->opts[j];

			if (val && p->value && strcmp(p->value, val) == 0)
				perr(c, vl_value_map_get(o, "value"), "%s: duplicate value '%s'", w, val);
			if (zh && p->zh && strcmp(p->zh, zh) == 0)
				perr(c, vl_value_map_get(o, "zh"), "%s: duplicate zh label", w);
			if (en && p->en && ascii_casecmp(p->en, en) == 0)
				perr(c, vl_value_map_get(o, "en"), "%s: duplicate en label", w);
		}
		op->value = pdup(c, val);
		op->zh = pdup(c, zh);
		op->en = pdup(c, en);
	}
	/* A label spelling another option's value would make set_text ambiguous. */
	for (i = 0; i < f->nopts; i++)
		for (j = 0; j < f->nopts; j++)
			if (i != j && f->opts[i].value && f->opts[j].en &&
					ascii_casecmp(f->opts[i].value, f->opts[j].en) == 0)
				perr(c, v->items[j], "%s: value %zu: en label spells value '%s' of another option",
						where, j + 1, f->opts[i].value);
}

/* order/terminal: a list of distinct enum values of f. */
static char **parse_states(pctx *c, const vl_field *f, const vl_value *v, const char *key,
		size_t *n_out, const char *where)
{
	char **out;
	size_t i, j;

	*n_out = 0;
	if (v->kind != VL_V_LIST || v->n == 0) {
		perr(c, v, "%s: '%s' must be a non-empty list of enum values", where, key);
		return NULL;
	}
	out = calloc(v->n, sizeof(*out));
	if (!out) {
		c->oom = 1;
		return NULL;
	}
	*n_out = v->n;
	for (i = 0; i < v->n; i++) {
		const vl_value *it = v->items[i];

		if (it->kind != VL_V_STR) {
			perr(c, it, "%s: '%s' item %zu must be an enum value", where, key, i + 1);
			continue;
		}
		if (f->opts && !find_opt(f, it->s)) {
			perr(c, it, "%s: '%s' item %zu is not one of the field's values", where, key, i + 1);
			continue;
		}
		for (j = 0; j < i; j++)
			if (out[j] && strcmp(out[j], it->s) == 0)
				perr(c, it, "%s: '%s' item %zu repeats a state", where, key, i + 1);
		out[i] = pdup(c, it->s);
	}
	return out;
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

int vl_hook_name_valid(const char *s)
{
	size_t i;

	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
				s[i] == '_' || s[i] == '-'))
			return 0;
	return i <= 64;
}

/* The rule names and the one place their text is compared. */
static const char *const rule_names[] = {
	[VL_RULE_LWW] = "lww", [VL_RULE_MAX] = "max", [VL_RULE_MIN] = "min",
	[VL_RULE_SUM] = "sum", [VL_RULE_UNION] = "union", [VL_RULE_APPEND] = "append",
	[VL_RULE_ORDER] = "order", [VL_RULE_KEEP] = "keep", [VL_RULE_MANUAL] = "manual",
	[VL_RULE_HOOK] = "hook",
};

const char *vl_merge_rule_name(vl_merge_rule r)
{
	if ((size_t)r < sizeof(rule_names) / sizeof(rule_names[0]) && rule_names[r])
		return rule_names[r];
	return "?";
}

/* `merge:` text -> rule; 0 with *out set, -1 if unknown. "hook:NAME" is
 * VL_RULE_HOOK (the name is checked by the caller). */
static int rule_parse(vl_merge_rule *out, const char *text)
{
	size_t i;

	if (strncmp(text, "hook:", 5) == 0) {
		*out = VL_RULE_HOOK;
		return 0;
	}
	for (i = 0; i < sizeof(rule_names) / sizeof(rule_names[0]); i++)
		if (i != VL_RULE_HOOK && strcmp(text, rule_names[i]) == 0) {
			*out = (vl_merge_rule)i;
			return 0;
		}
	return -1;
}

static void parse_merge(pctx *c, vl_field *f, const vl_value *m, const char *where)
{
	const vl_value *mv = vl_value_map_get(m, "merge");
	const vl_value *ov = vl_value_map_get(m, "order");
	const vl_value *tv = vl_value_map_get(m, "terminal");
	const vl_value *hv = vl_value_map_get(m, "hook_sha256");
	const char *rule = get_str(c, m, "merge", 1, where);
	vl_ftype t = f->type;
	vl_merge_rule r = VL_RULE_LWW;
	int ok = 1;

	if (!rule)
		return;
	if (rule_parse(&r, rule) < 0) {
		perr(c, mv, "%s: unknown merge rule '%.32s' (lww max min sum union append order keep manual hook:NAME)",
				where, rule);
		rule = NULL;
		r = VL_RULE_LWW;
	}
	switch (r) {
	case VL_RULE_LWW:
	case VL_RULE_KEEP:
	case VL_RULE_MANUAL:
		break; /* any type */
	case VL_RULE_MAX:
	case VL_RULE_MIN:
		ok = t == VL_T_INT || t == VL_T_DECIMAL || t == VL_T_DATE || t == VL_T_DATETIME;
		break;
	case VL_RULE_SUM:
		ok = t == VL_T_INT || t == VL_T_DECIMAL;
		break;
	case VL_RULE_UNION:
		ok = t == VL_T_SET;
		break;
	case VL_RULE_APPEND:
		ok = t == VL_T_LIST;
		break;
	case VL_RULE_ORDER:
		ok = t == VL_T_ENUM;
		break;
	case VL_RULE_HOOK:
		if (!vl_hook_name_valid(rule + 5)) {
			perr(c, mv, "%s: hook name must match [a-z0-9][a-z0-9_-]* (at most 64)", where);
			rule = NULL;
		}
		break;
	}
	if (rule && !ok && t) {
		perr(c, mv, "%s: merge rule '%s' does not apply to type %s", where, rule, vl_ftype_name(t));
		rule = NULL;
	}
	f->merge = pdup(c, rule);
	if (rule) {
		f->rule = r;
		if (r == VL_RULE_HOOK)
			f->hook = pdup(c, rule + 5);
	}
	if (r == VL_RULE_ORDER) {
		if (!ov)
			perr(c, mv, "%s: merge order needs 'order' (the states, earliest first)", where);
		else if (t == VL_T_ENUM)
			f->order = parse_states(c, f, ov, "order", &f->norder, where);
		if (tv && t == VL_T_ENUM)
			f->terminal = parse_states(c, f, tv, "terminal", &f->nterminal, where);
	} else {
		if (ov)
			perr(c, ov, "%s: 'order' is only for merge: order", where);
		if (tv)
			perr(c, tv, "%s: 'terminal' is only for merge: order", where);
	}
	if (r == VL_RULE_HOOK) {
		if (!hv)
			perr(c, mv, "%s: a hook merge needs 'hook_sha256' pinning the hook program", where);
		else if (hv->kind != VL_V_STR || !is_hex64(hv->s))
			perr(c, hv, "%s: 'hook_sha256' must be 64 lowercase hex digits", where);
		else
			f->hook_sha256 = pdup(c, hv->s);
	} else if (hv) {
		perr(c, hv, "%s: 'hook_sha256' is only for merge: hook:NAME", where);
	}
}

/* min/max of an int, decimal or date field (et: the scalar type). */
static char *parse_bound(pctx *c, vl_ftype et, const vl_value *v, const char *key,
		const char *where)
{
	int ok = 0;

	if (et == VL_T_INT) {
		long long ll;

		ok = v->kind == VL_V_INT && parse_ll(v->s, &ll);
	} else if (et == VL_T_DECIMAL) {
		ok = (v->kind == VL_V_INT && match_int(v->s)) || (v->kind == VL_V_DEC && match_dec(v->s));
	} else if (et == VL_T_DATE) {
		ok = v->kind == VL_V_STR && vl_date_valid(v->s);
	}
	if (!ok) {
		perr(c, v, "%s: '%s' must be a%s %s", where, key,
				et == VL_T_INT ? "n" : "", vl_ftype_name(et));
		return NULL;
	}
	return pdup(c, v->s);
}

static long long parse_len(pctx *c, const vl_value *v, const char *key, const char *where)
{
	long long n;

	if (v->kind != VL_V_INT || !parse_ll(v->s, &n) || n < 0 || n > 1000000) {
		perr(c, v, "%s: '%s' must be an int from 0 to 1000000", where, key);
		return -1;
	}
	return n;
}

static void add_pattern(pctx *c, const vl_field *f, const vl_value *v, const char *where)
{
	compiled_pattern *cp = NULL;
	vl_buf anchored = VL_BUF_INIT;
	const char *why;
	int rc;

	why = pattern_cost_ok(v->s);
	if (why) {
		perr(c, v, "%s: %s", where, why);
		return;
	}
	if (vl_buf_printf(&anchored, "^(%s)$", v->s) < 0)
		goto oom;
	cp = calloc(1, sizeof(*cp));
	if (!cp)
		goto oom;
	rc = regcomp(&cp->re, anchored.ptr, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char msg[128];

		regerror(rc, &cp->re, msg, sizeof(msg));
		perr(c, v, "%s: pattern does not compile: %s", where, msg);
		free(cp);
		vl_buf_free(&anchored);
		return;
	}
	cp->field = f;
	if (c->im->npats == c->im->cappats) {
		size_t ncap = c->im->cappats ? c->im->cappats * 2 : 8;
		compiled_pattern **np = realloc(c->im->pats, ncap * sizeof(*np));

		if (!np) {
			regfree(&cp->re);
			goto oom;
		}
		c->im->pats = np;
		c->im->cappats = ncap;
	}
	c->im->pats[c->im->npats++] = cp;
	vl_buf_free(&anchored);
	return;
oom:
	free(cp);
	vl_buf_free(&anchored);
	c->oom = 1;
}

static const char *check_scalar(const vl_schema *s, const vl_field *f, vl_ftype t,
		const vl_value *v, const char *today);
static const vl_enum_opt *opt_by_text(const vl_field *f, const char *t);

/*
 * default: a scalar valid for the field, checked now (so a bad default is a
 * schema error with its line:col, never a surprise at `add`), or the words
 * `today` (date) and `now` (datetime), kept as they are and resolved by
 * vl_schema_apply_defaults. Called after every other key of f is parsed:
 * enum values, bounds and patterns all apply to the default.
 */
static void parse_default(pctx *c, vl_field *f, const vl_value *v, const char *where)
{
	vl_value *d;
	const char *why;

	if (f->pii) {
		perr(c, v, "%s: a personal (pii) field takes no 'default'", where);
		return;
	}
	if (!f->type)
		return; /* its unknown type was reported already */
	if (!is_scalar_type(f->type)) {
		perr(c, v, "%s: 'default' does not apply to type %s", where, vl_ftype_name(f->type));
		return;
	}
	if (!is_scalar_value(v)) {
		perr(c, v, "%s: 'default' must be a scalar", where);
		return;
	}
	/* A plain 0 for a string-typed field means the text "0", as in data. */
	if (is_str_type(f->type) && (v->kind == VL_V_INT || v->kind == VL_V_DEC))
		d = vl_value_str(v->s);
	else
		d = vl_value_clone(v);
	if (!d) {
		c->oom = 1;
		return;
	}
	d->line = d->col = 0; /* a default is not from the record's file */
	if (d->kind == VL_V_STR && ((f->type == VL_T_DATE && strcmp(d->s, "today") == 0) ||
			(f->type == VL_T_DATETIME && strcmp(d->s, "now") == 0))) {
		f->def = d;
		return;
	}
	why = check_scalar(&c->im->pub, f, f->type, d, c->today);
	if (why) {
		const vl_enum_opt *o = f->type == VL_T_ENUM && d->kind == VL_V_STR ?
			opt_by_text(f, d->s) : NULL;

		if (o)
			perr(c, v, "%s: 'default' must be an enum value, not a label (use '%s')",
					where, o->value);
		else
			perr(c, v, "%s: 'default' is not valid for the field: %s%s", where, why,
					f->type == VL_T_DATE ? ", or the word 'today'" :
					f->type == VL_T_DATETIME ? ", or the word 'now'" : "");
		vl_value_free(d);
		return;
	}
	f->def = d;
}

static void parse_fields(pctx *c, vl_field **out, size_t *n_out, const vl_value *list,
		int depth, const char *where);

static void parse_field(pctx *c, vl_field *f, const vl_value *m, int depth, const char *parent)
{
	static const char *const known[] = {
		"name", "type", "zh", "en", "doc", "required", "pii", "values", "items",
		"fields", "key", "min", "max", "min_len", "max_len", "pattern", "ref",
		"merge", "hook_sha256", "order", "terminal", "default", NULL
	};
	const char *name, *type, *s;
	const vl_value *v;
	char where[160];
	vl_ftype et;
	int top = depth == 0;

	f->min_len = f->max_len = -1;
	name = get_str(c, m, "name", 1, parent);
	if (name && !ident_valid(name, NAME_MAX_LEN)) {
		perr(c, vl_value_map_get(m, "name"),
				"%s: field names are lowercase identifiers [a-z][a-z0-9_]* (at most 64)", parent);
		name = NULL;
	}
	snprintf(where, sizeof(where), "%s '%.64s'", top ? "field" : "item field", name ? name : "?");
	check_keys(c, m, where, known);
	f->name = pdup(c, name);

	type = get_str(c, m, "type", 1, where);
	if (type) {
		f->type = ftype_from_name(type);
		if (!f->type)
			perr(c, vl_value_map_get(m, "type"),
					"%s: unknown type '%.32s' (string text int decimal bool date datetime enum set list map cn_id cn_mobile phone division ref)",
					where, type);
	}
	/* items: the element type of a set or list */
	v = vl_value_map_get(m, "items");
	if (f->type == VL_T_SET || f->type == VL_T_LIST) {
		s = get_str(c, m, "items", 1, where);
		if (s) {
			f->item_type = ftype_from_name(s);
			if (!f->item_type ||
					f->item_type == VL_T_SET || f->item_type == VL_T_LIST ||
					(f->type == VL_T_SET && (f->item_type == VL_T_MAP ||
						f->item_type == VL_T_TEXT || f->item_type == VL_T_BOOL))) {
				perr(c, v, "%s: a %s cannot hold items of type '%.32s'", where,
						vl_ftype_name(f->type), s);
				f->item_type = (vl_ftype)0;
			}
		}
	} else if (v) {
		perr(c, v, "%s: 'items' is only for set and list", where);
	}
	et = scalar_type(f);

	f->label_zh = pdup(c, get_str(c, m, "zh", 1, where));
	f->label_en = pdup(c, get_str(c, m, "en", 1, where));
	f->doc = pdup(c, get_str(c, m, "doc", 0, where));
	f->required = get_bool(c, m, "required", 0, where);
	f->pii = get_bool(c, m, "pii", 0, where);

	/* values: enum options */
	v = vl_value_map_get(m, "values");
	if (et == VL_T_ENUM) {
		if (!v)
			perr(c, m, "%s: an enum needs 'values'", where);
		else
			parse_values(c, f, v, where);
	} else if (v) {
		perr(c, v, "%s: 'values' is only for enum fields and sets/lists of enum", where);
	}

	/* fields and key: maps and lists of maps */
	v = vl_value_map_get(m, "fields");
	if (f->type == VL_T_MAP || (f->type == VL_T_LIST && f->item_type == VL_T_MAP)) {
		if (!v)
			perr(c, m, "%s: needs 'fields' (the fields of each map)", where);
		else if (depth + 1 >= FIELD_MAX_DEPTH)
			perr(c, v, "%s: fields nest deeper than %d", where, FIELD_MAX_DEPTH);
		else
			parse_fields(c, &f->item_fields, &f->nitem_fields, v, depth + 1, where);
	} else if (v) {
		perr(c, v, "%s: 'fields' is only for map and list of map", where);
	}
	v = vl_value_map_get(m, "key");
	if (v) {
		if (!(f->type == VL_T_LIST && f->item_type == VL_T_MAP)) {
			perr(c, v, "%s: 'key' is only for a list of maps", where);
		} else if (v->kind != VL_V_STR) {
			perr(c, v, "%s: 'key' must name an item field", where);
		} else {
			size_t i;

			for (i = 0; i < f->nitem_fields; i++)
				if (f->item_fields[i].name && strcmp(f->item_fields[i].name, v->s) == 0)
					break;
			if (i == f->nitem_fields)
				perr(c, v, "%s: 'key' names no item field", where);
			else if (!is_scalar_type(f->item_fields[i].type))
				perr(c, v, "%s: 'key' must name a scalar item field", where);
			else
				f->item_key = pdup(c, v->s);
		}
	}

	/* constraints */
	v = vl_value_map_get(m, "min");
	if (v) {
		if (et == VL_T_INT || et == VL_T_DECIMAL || et == VL_T_DATE) {
			f->min = parse_bound(c, et, v, "min", where);
			f->has_min = f->min != NULL;
		} else if (f->type) {
			perr(c, v, "%s: 'min' does not apply to type %s", where, vl_ftype_name(f->type));
		}
	}
	v = vl_value_map_get(m, "max");
	if (v) {
		if (et == VL_T_INT || et == VL_T_DECIMAL || et == VL_T_DATE) {
			f->max = parse_bound(c, et, v, "max", where);
			f->has_max = f->max != NULL;
		} else if (f->type) {
			perr(c, v, "%s: 'max' does not apply to type %s", where, vl_ftype_name(f->type));
		}
	}
	if (f->has_min && f->has_max) {
		int cmp = et == VL_T_DATE ? strcmp(f->min, f->max) : dec_cmp(f->min, f->max);

		if (cmp > 0)
			perr(c, vl_value_map_get(m, "max"), "%s: 'max' is below 'min'", where);
	}
	v = vl_value_map_get(m, "min_len");
	if (v) {
		if (et == VL_T_STRING || et == VL_T_TEXT)
			f->min_len = parse_len(c, v, "min_len", where);
		else if (f->type)
			perr(c, v, "%s: 'min_len' does not apply to type %s", where, vl_ftype_name(f->type));
	}
	v = vl_value_map_get(m, "max_len");
	if (v) {
		if (et == VL_T_STRING || et == VL_T_TEXT)
			f->max_len = parse_len(c, v, "max_len", where);
		else if (f->type)
			perr(c, v, "%s: 'max_len' does not apply to type %s", where, vl_ftype_name(f->type));
	}
	if (f->min_len >= 0 && f->max_len >= 0 && f->min_len > f->max_len)
		perr(c, vl_value_map_get(m, "max_len"), "%s: 'max_len' is below 'min_len'", where);
	v = vl_value_map_get(m, "pattern");
	if (v) {
		if (!(et == VL_T_STRING || et == VL_T_TEXT)) {
			if (f->type)
				perr(c, v, "%s: 'pattern' does not apply to type %s", where, vl_ftype_name(f->type));
		} else if (v->kind != VL_V_STR || v->slen == 0) {
			perr(c, v, "%s: 'pattern' must be a non-empty string", where);
		} else {
			f->pattern = pdup(c, v->s);
			add_pattern(c, f, v, where);
		}
	}
	v = vl_value_map_get(m, "ref");
	if (et == VL_T_REF) {
		s = get_str(c, m, "ref", 1, where);
		if (s && !ident_valid(s, LEDGER_NAME_MAX))
			perr(c, v, "%s: 'ref' must name a ledger [a-z][a-z0-9_]*", where);
		else
			f->ref = pdup(c, s);
	} else if (v) {
		perr(c, v, "%s: 'ref' is only for ref fields", where);
	}

	/* merge: top-level fields only; an item merges with its enclosing field */
	if (top) {
		parse_merge(c, f, m, where);
	} else {
		static const char *const mkeys[] = { "merge", "hook_sha256", "order", "terminal", NULL };
		size_t k;

		for (k = 0; mkeys[k]; k++)
			if ((v = vl_value_map_get(m, mkeys[k])) != NULL)
				perr(c, v, "%s: '%s' belongs on the enclosing field (item fields merge with it)",
						where, mkeys[k]);
	}

	/* default: last, once the values and constraints it must meet are known */
	v = vl_value_map_get(m, "default");
	if (v && top)
		parse_default(c, f, v, where);
	else if (v)
		perr(c, v, "%s: 'default' is only for top-level fields", where);
}

static void parse_fields(pctx *c, vl_field **out, size_t *n_out, const vl_value *list,
		int depth, const char *where)
{
	vl_field *fs;
	size_t i, j;

	if (list->kind != VL_V_LIST || list->n == 0) {
		perr(c, list, "%s: 'fields' must be a non-empty list of fields", where);
		return;
	}
	fs = calloc(list->n, sizeof(*fs));
	if (!fs) {
		c->oom = 1;
		return;
	}
	/* Assigned before filling: compiled patterns point into this array. */
	*out = fs;
	*n_out = list->n;
	for (i = 0; i < list->n && !c->oom; i++) {
		const vl_value *m = list->items[i];

		if (m->kind != VL_V_MAP) {
			perr(c, m, "%s: field %zu must be a map", where, i + 1);
			fs[i].min_len = fs[i].max_len = -1;
			continue;
		}
		parse_field(c, &fs[i], m, depth, where);
		for (j = 0; j < i; j++)
			if (fs[i].name && fs[j].name && strcmp(fs[i].name, fs[j].name) == 0)
				perr(c, vl_value_map_get(m, "name"), "%s: duplicate field name '%s'",
						where, fs[i].name);
	}
}

/* ------------------------------------------------------------------------ */
/* Parsing the schema                                                        */

static const vl_field *find_field(const vl_field *fs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fs[i].name && strcmp(fs[i].name, name) == 0)
			return &fs[i];
	return NULL;
}

/* A list of distinct top-level scalar field names (`identity`,
 * `list_columns`), at most `max` of them, into *out / *nout. */
static void parse_field_names(pctx *c, const vl_schema *s, const vl_value *v, const char *key, size_t max,
		char ***out, size_t *nout)
{
	size_t i, j;

	if (v->kind != VL_V_LIST) {
		perr(c, v, "'%s' must be a list of field names", key);
		return;
	}
	if (v->n == 0)
		return;
	if (v->n > max) {
		perr(c, v, "'%s' names %zu fields; at most %zu", key, v->n, max);
		return;
	}
	*out = calloc(v->n, sizeof(**out));
	if (!*out) {
		c->oom = 1;
		return;
	}
	*nout = v->n;
	for (i = 0; i < v->n; i++) {
		const vl_value *it = v->items[i];
		const vl_field *f;

		if (it->kind != VL_V_STR) {
			perr(c, it, "%s: item %zu must be a field name", key, i + 1);
			continue;
		}
		f = find_field(s->fields, s->nfields, it->s);
		if (!f) {
			perr(c, it, "%s: no field '%.64s'", key, it->s);
			continue;
		}
		if (f->type && !is_scalar_type(f->type)) {
			perr(c, it, "%s: field '%s' must be a scalar, not %s", key, f->name,
					vl_ftype_name(f->type));
			continue;
		}
		for (j = 0; j < i; j++)
			if ((*out)[j] && strcmp((*out)[j], it->s) == 0)
				perr(c, it, "%s: field '%s' named twice", key, f->name);
		(*out)[i] = pdup(c, it->s);
	}
}

static void parse_identity(pctx *c, vl_schema *s, const vl_value *v)
{
	parse_field_names(c, s, v, "identity", SIZE_MAX, &s->identity, &s->nidentity);
}

int vl_cmp_parse(const char *s, vl_cmp *out, size_t *len)
{
	/* Two-character operators first, so "<=" is not read as "<". */
	static const struct { const char *text; vl_cmp c; } ops[] = {
		{ "!=", VL_CMP_NE }, { "<=", VL_CMP_LE }, { ">=", VL_CMP_GE },
		{ "=", VL_CMP_EQ }, { "<", VL_CMP_LT }, { ">", VL_CMP_GT }
	};
	size_t i;

	for (i = 0; s && i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t l = strlen(ops[i].text);
		if (strncmp(s, ops[i].text, l) == 0) {
			*out = ops[i].c;
			*len = l;
			return 1;
		}
	}
	return 0;
}

const char *vl_cmp_name(vl_cmp c)
{
	static const char *const names[] = { "=", "!=", "<", "<=", ">", ">=" };

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

/* One condition {field, [op,] value} of an aggregate's `where` into out. */
/* May aggregate a, which declared `personal: true`, filter or group on
 * pii field f? Counts only, and only by category or date: never a sum of,
 * or a filter on, free text or identifiers. */
static int personal_ok(const vl_aggregate *a, const vl_field *f)
{
	return a->personal && a->op && strcmp(a->op, "count") == 0 &&
		(f->type == VL_T_ENUM || f->type == VL_T_BOOL || f->type == VL_T_DATE ||
		 (f->type == VL_T_SET && f->item_type == VL_T_ENUM));
}

static void parse_agg_cond(pctx *c, vl_schema *s, const vl_aggregate *a, const vl_value *wv, const char *where,
		vl_agg_cond *out, const char *today)
{
	static const char *const wknown[] = { "field", "op", "value", NULL };
	const vl_value *val, *opv;
	const vl_field *f;
	const char *fname, *optext;
	vl_cmp op = VL_CMP_EQ;
	size_t oplen = 0;

	if (wv->kind != VL_V_MAP) {
		perr(c, wv, "%s: a 'where' condition must be a map {field, op, value}", where);
		return;
	}
	check_keys(c, wv, where, wknown);
	fname = get_str(c, wv, "field", 1, where);
	optext = get_str(c, wv, "op", 0, where);
	opv = vl_value_map_get(wv, "op");
	if (optext && (!vl_cmp_parse(optext, &op, &oplen) || optext[oplen])) {
		perr(c, opv, "%s: unknown 'where' op '%.8s' (=, !=, <, <=, >, >=)", where, optext);
		optext = NULL;
		op = VL_CMP_EQ;
		opv = NULL;
	}
	val = vl_value_map_get(wv, "value");
	f = fname ? find_field(s->fields, s->nfields, fname) : NULL;
	if (!val)
		perr(c, wv, "%s: 'where' needs 'value'", where);
	if (fname && !f) {
		perr(c, vl_value_map_get(wv, "field"), "%s: 'where' names no field '%.64s'", where, fname);
	} else if (f && f->pii && !personal_ok(a, f)) {
		perr(c, vl_value_map_get(wv, "field"), "%s: personal (pii) fields are never aggregated (a count by "
				"an enum, bool or date field may say 'personal: true')", where);
	} else if (f && (f->type == VL_T_MAP || (f->type == VL_T_LIST && f->item_type == VL_T_MAP))) {
		perr(c, vl_value_map_get(wv, "field"), "%s: 'where' needs a scalar, set or list field", where);
	} else if (f && op != VL_CMP_EQ && op != VL_CMP_NE && f->type != VL_T_INT && f->type != VL_T_DECIMAL &&
			f->type != VL_T_DATE && f->type != VL_T_DATETIME) {
		perr(c, opv, "%s: '%s' needs an int, decimal, date or datetime field, not %s", where,
				vl_cmp_name(op), f->type ? vl_ftype_name(f->type) : "?");
	} else if (f && val && f->type) {
		vl_ftype t = scalar_type(f);
		const char *why = is_scalar_value(val) && t ? check_scalar(s, f, t, val, today) : "not a scalar";

		if (why)
			perr(c, val, "%s: 'where' value is not valid for field '%s' (%s)", where, f->name, why);
		out->field = pdup(c, fname);
		out->op = op;
		out->value = pdup(c, vl_value_text(val));
	}
}

/* group_by: an enum or bool field, or a set of enum, not pii. */
static void parse_group_by(pctx *c, vl_schema *s, const vl_value *m, const char *where, vl_aggregate *a)
{
	const char *g = get_str(c, m, "group_by", 0, where);
	const vl_value *gv = vl_value_map_get(m, "group_by");
	const vl_field *f;

	if (!g)
		return;
	f = find_field(s->fields, s->nfields, g);
	if (!f)
		perr(c, gv, "%s: 'group_by' names no field '%.64s'", where, g);
	else if (f->pii && !personal_ok(a, f))
		perr(c, gv, "%s: personal (pii) fields are never aggregated (a count by an enum or bool field may "
				"say 'personal: true')", where);
	else if (f->type && f->type != VL_T_ENUM && f->type != VL_T_BOOL &&
			!(f->type == VL_T_SET && f->item_type == VL_T_ENUM))
		perr(c, gv, "%s: 'group_by' needs an enum, bool or set-of-enum field, not %s", where,
				vl_ftype_name(f->type));
	else
		a->group_by = pdup(c, g);
}

static void parse_aggregates(pctx *c, vl_schema *s, const vl_value *v, const char *today)
{
	static const char *const known[] = { "name", "zh", "en", "doc", "op", "field", "where", "group_by",
		"personal", NULL };
	size_t i, j;

	if (v->kind != VL_V_LIST) {
		perr(c, v, "'aggregates' must be a list");
		return;
	}
	if (v->n == 0)
		return;
	s->aggregates = calloc(v->n, sizeof(*s->aggregates));
	if (!s->aggregates) {
		c->oom = 1;
		return;
	}
	s->naggregates = v->n;
	for (i = 0; i < v->n && !c->oom; i++) {
		const vl_value *m = v->items[i], *fv, *wv;
		vl_aggregate *a = &s->aggregates[i];
		const char *name, *op, *fname;
		const vl_field *f;
		char where[128];

		if (m->kind != VL_V_MAP) {
			perr(c, m, "aggregate %zu must be a map", i + 1);
			continue;
		}
		name = get_str(c, m, "name", 1, "aggregate");
		if (name && !ident_valid(name, NAME_MAX_LEN)) {
			perr(c, vl_value_map_get(m, "name"),
					"aggregate: names are lowercase identifiers [a-z][a-z0-9_]*");
			name = NULL;
		}
		snprintf(where, sizeof(where), "aggregate '%.64s'", name ? name : "?");
		check_keys(c, m, where, known);
		for (j = 0; name && j < i; j++)
			if (s->aggregates[j].name && strcmp(s->aggregates[j].name, name) == 0)
				perr(c, vl_value_map_get(m, "name"), "%s: duplicate aggregate name", where);
		a->name = pdup(c, name);
		a->label_zh = pdup(c, get_str(c, m, "zh", 1, where));
		a->label_en = pdup(c, get_str(c, m, "en", 1, where));
		(void)get_str(c, m, "doc", 0, where);
		op = get_str(c, m, "op", 1, where);
		fv = vl_value_map_get(m, "field");
		if (op && strcmp(op, "count") == 0) {
			if (fv)
				perr(c, fv, "%s: count takes no 'field' (use 'where' to filter)", where);
		} else if (op && strcmp(op, "sum") == 0) {
			fname = get_str(c, m, "field", 1, where);
			f = fname ? find_field(s->fields, s->nfields, fname) : NULL;
			if (fname && !f)
				perr(c, fv, "%s: no field '%.64s'", where, fname);
			else if (f && !f->type)
				; /* its unknown type was reported already */
			else if (f && f->type != VL_T_INT && f->type != VL_T_DECIMAL)
				perr(c, fv, "%s: sum needs an int or decimal field, not %s", where,
						vl_ftype_name(f->type));
			else if (f && f->pii)
				perr(c, fv, "%s: personal (pii) fields are never aggregated", where);
			else
				a->field = pdup(c, fname);
		} else if (op) {
			perr(c, vl_value_map_get(m, "op"), "%s: unknown op '%.16s' (count, sum)", where, op);
			op = NULL;
		}
		a->op = pdup(c, op);
		if ((fv = vl_value_map_get(m, "personal")) != NULL) {
			if (fv->kind != VL_V_BOOL)
				perr(c, fv, "%s: 'personal' is true or false", where);
			else
				a->personal = strcmp(fv->s, "true") == 0;
		}
		parse_group_by(c, s, m, where, a);
		wv = vl_value_map_get(m, "where");
		if (!wv)
			continue;
		/* `where` is one condition (a map) or several (a list), ANDed. */
		if (wv->kind == VL_V_LIST && (wv->n == 0 || wv->n > VL_AGG_CONDS_MAX)) {
			perr(c, wv, "%s: 'where' takes 1 to %d conditions", where, VL_AGG_CONDS_MAX);
			continue;
		}
		if (wv->kind != VL_V_LIST && wv->kind != VL_V_MAP) {
			perr(c, wv, "%s: 'where' must be a map {field, op, value} or a list of them", where);
			continue;
		}
		a->nconds = wv->kind == VL_V_LIST ? wv->n : 1;
		if (!(a->conds = calloc(a->nconds, sizeof(*a->conds)))) {
			a->nconds = 0;
			c->oom = 1;
			continue;
		}
		for (j = 0; j < a->nconds; j++)
			parse_agg_cond(c, s, a, wv->kind == VL_V_LIST ? wv->items[j] : wv, where, &a->conds[j], today);
		if (a->conds[0].field && a->conds[0].op == VL_CMP_EQ) {
			a->where_field = pdup(c, a->conds[0].field);
			a->where_value = pdup(c, a->conds[0].value);
		}
	}
}

int vl_schema_load(vl_schema **out, const char *buf, size_t len, const char *src,
		vl_buf *diag)
{
	static const char *const known[] = {
		"name", "version", "language", "zh", "en", "doc", "identity", "on_delete", "fields",
		"aggregates", "list_columns", NULL
	};
	vl_value *tree = NULL;
	schema_impl *im = NULL;
	vl_schema *s;
	pctx c;
	const vl_value *v;
	const char *str;
	char today[11];
	int rc;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.src = src ? src : "schema";
	c.diag = diag;
	rc = vl_yaml_load(&tree, buf, len, &vl_yaml_file_limits, c.src);
	if (rc < 0) {
		if (diag && vl_buf_printf(diag, "%s\n", vl_error_last()) < 0)
			rc = VL_ENOMEM;
		goto out;
	}
	im = calloc(1, sizeof(*im));
	if (!im) {
		rc = vl_error_set(VL_ENOMEM, "%s: out of memory", c.src);
		goto out;
	}
	im->magic = SCHEMA_MAGIC;
	c.im = im;
	s = &im->pub;
	vl_date_today(today);
	c.today = today;
	c.language = 1;
	/* The language first: it says how to read unknown keys everywhere. */
	v = tree->kind == VL_V_MAP ? vl_value_map_get(tree, "language") : NULL;
	if (v) {
		long long lang;

		if (v->kind != VL_V_INT || !parse_ll(v->s, &lang) || lang < 1 || lang > INT_MAX)
			perr(&c, v, "schema: 'language' must be a positive int (the schema language version)");
		else
			c.language = (int)lang;
	}
	s->language = c.language;

	check_keys(&c, tree, "schema", known);
	str = get_str(&c, tree, "name", 1, "schema");
	if (str && !ident_valid(str, LEDGER_NAME_MAX))
		perr(&c, vl_value_map_get(tree, "name"),
				"schema: 'name' must be a ledger name [a-z][a-z0-9_]* of at most 32 characters");
	else
		s->name = pdup(&c, str);
	v = vl_value_map_get(tree, "version");
	if (!v) {
		perr(&c, tree, "schema: missing 'version'");
	} else {
		long long ver;

		if (v->kind != VL_V_INT || !parse_ll(v->s, &ver) || ver < 1 || ver > INT_MAX)
			perr(&c, v, "schema: 'version' must be a positive int");
		else
			s->version = (int)ver;
	}
	s->label_zh = pdup(&c, get_str(&c, tree, "zh", 1, "schema"));
	s->label_en = pdup(&c, get_str(&c, tree, "en", 1, "schema"));
	(void)get_str(&c, tree, "doc", 0, "schema");
	str = get_str(&c, tree, "on_delete", 0, "schema");
	if (str && strcmp(str, "tombstone_wins") != 0 && strcmp(str, "edit_wins") != 0) {
		perr(&c, vl_value_map_get(tree, "on_delete"),
				"schema: 'on_delete' must be tombstone_wins or edit_wins");
		str = NULL;
	}
	s->on_delete = pdup(&c, str ? str : "tombstone_wins");
	s->edit_wins = str && strcmp(str, "edit_wins") == 0;

	v = vl_value_map_get(tree, "fields");
	if (!v)
		perr(&c, tree, "schema: missing 'fields'");
	else
		parse_fields(&c, &s->fields, &s->nfields, v, 0, "schema");
	if (!c.oom && (v = vl_value_map_get(tree, "identity")) != NULL)
		parse_identity(&c, s, v);
	if (!c.oom && (v = vl_value_map_get(tree, "aggregates")) != NULL)
		parse_aggregates(&c, s, v, today);
	if (!c.oom && (v = vl_value_map_get(tree, "list_columns")) != NULL)
		parse_field_names(&c, s, v, "list_columns", VL_LIST_COLUMNS_MAX, &s->list_columns,
				&s->nlist_columns);

	/* Last, so that a key the language added is what the message names
	 * first; also when every key is known (a new value of a known key). */
	if (c.language > VL_SCHEMA_LANGUAGE)
		perr(&c, vl_value_map_get(tree, "language"), "schema: needs schema language %d, and this vledger "
				"reads schema language %d: upgrade vledger on this node", c.language, VL_SCHEMA_LANGUAGE);
	if (!c.oom && c.warn.len && !(s->warnings = vl_buf_detach(&c.warn, NULL)))
		c.oom = 1;
	if (c.oom) {
		rc = vl_error_set(VL_ENOMEM, "%s: out of memory loading the schema", c.src);
		goto out;
	}
	if (c.nerr) {
		rc = vl_error_set(VL_EINVALID, "%s:%s%s", c.src, c.first,
				c.nerr > 1 ? " (and more: see the full list)" : "");
		goto out;
	}
	*out = s;
	im = NULL; /* transferred */
	rc = 0;
out:
	if (im)
		vl_schema_free(&im->pub);
	vl_value_free(tree);
	vl_buf_free(&c.warn);
	return rc;
}

void vl_schema_free(vl_schema *s)
{
	schema_impl *im = (schema_impl *)s;
	size_t i, j;

	if (!s)
		return;
	for (i = 0; i < im->npats; i++) {
		regfree(&im->pats[i]->re);
		free(im->pats[i]);
	}
	free(im->pats);
	free(s->name);
	free(s->label_zh);
	free(s->label_en);
	fields_free(s->fields, s->nfields);
	strv_free(s->identity, s->nidentity);
	strv_free(s->list_columns, s->nlist_columns);
	free(s->on_delete);
	free(s->warnings);
	for (i = 0; s->aggregates && i < s->naggregates; i++) {
		vl_aggregate *a = &s->aggregates[i];

		free(a->name);
		free(a->label_zh);
		free(a->label_en);
		free(a->op);
		free(a->field);
		free(a->where_field);
		free(a->where_value);
		for (j = 0; j < a->nconds; j++) {
			free(a->conds[j].field);
			free(a->conds[j].value);
		}
		free(a->conds);
		free(a->group_by);
	}
	free(s->aggregates);
	im->magic = 0;
	free(im);
}

const vl_schema *vl_schema_lookup(vl_schema *const *list, size_t n, const char *text)
{
	const vl_schema *hit = NULL;
	size_t i;

	if (!text)
		return NULL;
	for (i = 0; i < n; i++)
		if (list[i]->name && strcmp(list[i]->name, text) == 0)
			return list[i];
	for (i = 0; i < n; i++) {
		if ((list[i]->label_zh && strcmp(list[i]->label_zh, text) == 0) ||
				(list[i]->label_en && ascii_casecmp(list[i]->label_en, text) == 0)) {
			if (hit)
				return NULL; /* two ledgers with one label: make the person use the name */
			hit = list[i];
		}
	}
	return hit;
}

const vl_field *vl_schema_field(const vl_schema *s, const char *name)
{
	return s && name ? find_field(s->fields, s->nfields, name) : NULL;
}

const char *vl_field_enum_label(const vl_field *f, const char *value)
{
	const vl_enum_opt *o = f && value ? find_opt(f, value) : NULL;

	return o ? o->zh : NULL;
}

/* ------------------------------------------------------------------------ */
/* Validation                                                                */

/* Control characters: none in a string; text also allows \n and \t. */
static int has_controls(const char *s, size_t len, int text)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 || ch == 0x7f) && !(text && (ch == '\n' || ch == '\t')))
			return 1;
	}
	return 0;
}

/*
 * Check one scalar against type t and the constraints of f. Returns NULL or
 * a static phrase naming the rule broken (never the value). `today` is the
 * reference date for resident ID numbers.
 */
static const char *check_scalar(const vl_schema *s, const vl_field *f, vl_ftype t,
		const vl_value *v, const char *today)
{
	const char *why;
	long long ll;

	switch (t) {
	case VL_T_INT:
		if (v->kind != VL_V_INT || !parse_ll(v->s, &ll))
			return N_("type (expected int)");
		if (f->has_min && dec_cmp(v->s, f->min) < 0)
			return N_("min (below the minimum)");
		if (f->has_max && dec_cmp(v->s, f->max) > 0)
			return N_("max (above the maximum)");
		return NULL;
	case VL_T_DECIMAL:
		if (!(v->kind == VL_V_INT && match_int(v->s)) && !(v->kind == VL_V_DEC && match_dec(v->s)))
			return N_("type (expected decimal)");
		if (f->has_min && dec_cmp(v->s, f->min) < 0)
			return N_("min (below the minimum)");
		if (f->has_max && dec_cmp(v->s, f->max) > 0)
			return N_("max (above the maximum)");
		return NULL;
	case VL_T_BOOL:
		return v->kind == VL_V_BOOL ? NULL : N_("type (expected true or false)");
	default:
		break;
	}
	if (!is_str_type(t))
		return N_("type (unknown)");
	if (v->kind != VL_V_STR)
		return v->kind == VL_V_NULL ? N_("null (leave the field out instead)") : N_("type (expected a string)");
	if (v->slen == 0)
		return N_("empty (leave the field out instead)");
	if (!vl_utf8_valid_nfc(v->s, v->slen))
		return N_("utf-8 (invalid or not NFC)");
	switch (t) {
	case VL_T_STRING:
	case VL_T_TEXT:
		if (has_controls(v->s, v->slen, t == VL_T_TEXT))
			return t == VL_T_TEXT ? N_("control character") : N_("control character (one line only)");
		if (f->min_len >= 0 || f->max_len >= 0) {
			size_t n = utf8_chars(v->s, v->slen);

			if (f->min_len >= 0 && n < (size_t)f->min_len)
				return N_("min_len (too short)");
			if (f->max_len >= 0 && n > (size_t)f->max_len)
				return N_("max_len (too long)");
		}
		if (f->pattern) {
			const regex_t *re = pattern_of(s, f);

			if (re && regexec(re, v->s, 0, NULL, 0) != 0)
				return N_("pattern (does not match)");
		}
		return NULL;
	case VL_T_DATE:
		if (!vl_date_valid(v->s))
			return N_("date (expected a real date YYYY-MM-DD)");
		if (f->has_min && strcmp(v->s, f->min) < 0)
			return N_("min (before the earliest date)");
		if (f->has_max && strcmp(v->s, f->max) > 0)
			return N_("max (after the latest date)");
		return NULL;
	case VL_T_DATETIME:
		return vl_datetime_valid(v->s) ? NULL : N_("datetime (expected YYYY-MM-DDTHH:MM:SS[.fff]Z)");
	case VL_T_ENUM:
		return find_opt(f, v->s) ? NULL : N_("enum (not one of the accepted values)");
	case VL_T_CN_ID:
		why = vl_cn_id_check(v->s, today, NULL);
		if (!why)
			return NULL;
		/* validate_value adds the counts and the expected check digit. */
		if (strcmp(why, "length") == 0) return N_("cn_id length (should be 18 characters)");
		if (strcmp(why, "characters") == 0)
			return N_("cn_id characters (should be 17 digits, then a digit or X)");
		if (strcmp(why, "region") == 0) return N_("cn_id region (the first 6 digits are not a region code)");
		if (strcmp(why, "birth date") == 0)
			return N_("cn_id birth date (characters 7-14 should be a real date YYYYMMDD from 1900 on)");
		if (strcmp(why, "future birth date") == 0)
			return N_("cn_id birth date (characters 7-14 are a date in the future)");
		return N_("cn_id check digit");
	case VL_T_CN_MOBILE:
		return vl_cn_mobile_check(v->s) ? N_("cn_mobile (expected 1[3-9] and 9 digits)") : NULL;
	case VL_T_PHONE:
		return vl_phone_check(v->s) ? N_("phone (expected a mobile or 0AA-NNNNNNNN[-EXT])") : NULL;
	case VL_T_DIVISION:
		return vl_division_level(v->s) == VL_DIV_INVALID ? N_("division (expected a 12-digit code)") : NULL;
	case VL_T_REF:
		return vl_ulid_valid(v->s) ? NULL : N_("ref (expected a record id)");
	default:
		return N_("type (unknown)");
	}
}

typedef struct {
	const vl_schema *s;
	vl_buf *diag;
	vl_buf *paths;     /* vl_schema_validate_paths: each line's field */
	size_t nerr;
	int oom;
	char today[11];
	char first[600];
} vctx;

/* Append path and a newline to b, a newline inside it made '?' (a key read
 * from a file may hold one), so that lines match diag's one for one. */
static int path_line(vl_buf *b, const char *path)
{
	int rc = 0;

	for (; *path && rc >= 0; path++)
		rc = vl_buf_putc(b, *path == '\n' ? '?' : *path);
	return rc < 0 ? rc : vl_buf_putc(b, '\n');
}

static int lang_zh(void)
{
	return vl_i18n_lang()[0] == 'z';
}

/*
 * One message about a field, into out (cut at n): in English
 * "field 'path': rule (line L col C) (label)" - the label last so that
 * "field 'x': rule" stays one greppable piece for scripts that read these
 * messages; in Chinese the label first, as a village worker knows the box:
 * "身份证号（id_number）：校验位应为 X（第 3 行第 12 列）". `rule` is already
 * in the current language. line <= 0: no position. f NULL or without a
 * label: no label.
 */
static void field_msg(char *out, size_t n, const vl_field *f, const char *path, const char *rule,
		int line, int col)
{
	const char *label = f && f->label_zh ? f->label_zh : NULL;
	char lb[104];

	if (label) {
		snprintf(lb, sizeof(lb), "%.100s", label);
		if (line > 0)
			/* TRANSLATORS: 1: field id, 2: what is wrong, 3-4: line and column
			 * in the file, 5: the field's label. Put the label first. */
			snprintf(out, n, _("field '%s': %s (line %d col %d) (%s)"), path, rule, line, col, lb);
		else
			/* TRANSLATORS: 1: field id, 2: what is wrong, 3: the field's label. */
			snprintf(out, n, _("field '%s': %s (%s)"), path, rule, lb);
	} else if (line > 0) {
		snprintf(out, n, _("field '%s': %s (line %d col %d)"), path, rule, line, col);
	} else {
		snprintf(out, n, _("field '%s': %s"), path, rule);
	}
}

/* vl_error_set(VL_EINVALID) with field_msg's message; rule is translated
 * here (a phrase marked N_(), or one already made in the language). buf:
 * the caller's scratch. */
static int field_error(char *buf, size_t n, const vl_field *f, const char *path, const char *rule)
{
	field_msg(buf, n, f, path, vl_tr(rule), 0, 0);
	return vl_error_set(VL_EINVALID, "%s", buf);
}

/* Report a violation of `path` at v (position only when it came from a file).
 * f: the field, whose Chinese label follows the path so that a village
 * worker knows which box is meant; NULL for a key the schema lacks. */
static int list_options(vl_buf *out, const vl_field *f, const char *only_prefix);

static void verr(vctx *c, const vl_field *f, const char *path, const vl_value *v, const char *rule)
{
	char msg[sizeof(c->first)];

	/* rule: a phrase marked N_() or one verr_scalar made in the language. */
	field_msg(msg, sizeof(msg), f, path, vl_tr(rule), v ? v->line : 0, v ? v->col : 0);
	if (c->nerr == 0)
		snprintf(c->first, sizeof(c->first), "%s", msg);
	c->nerr++;
	if (c->diag && c->nerr <= DIAG_MAX_LINES && (vl_buf_printf(c->diag, "%s\n", msg) < 0 ||
			(c->paths && path_line(c->paths, path) < 0)))
		c->oom = 1;
}

static void validate_map(vctx *c, const vl_field *fs, size_t nf, const vl_value *m,
		const char *prefix, int deleted);

/* out = "prefix.name" (name cut at 64 bytes), or "name" for no prefix,
 * cut to n - 1 bytes as snprintf would: built by hand because it runs for
 * every field of every record verified. n > 0. */
static void child_path(char *out, size_t n, const char *prefix, const char *name)
{
	size_t at = 0, k;

	if (prefix && *prefix) {
		for (k = 0; prefix[k] && at < n - 1; k++)
			out[at++] = prefix[k];
		if (at < n - 1)
			out[at++] = '.';
	}
	for (k = 0; k < 64 && name[k] && at < n - 1; k++)
		out[at++] = name[k];
	out[at] = '\0';
}

/* find_field starting at fs[from] and wrapping around: the fields of a
 * record follow the schema's order, so the next key is found at once.
 * Field names are unique (parse_fields refuses repeats): same result. */
static const vl_field *find_field_from(const vl_field *fs, size_t n, const char *name, size_t from)
{
	size_t i;

	for (i = from; i < n; i++)
		if (fs[i].name && strcmp(fs[i].name, name) == 0)
			return &fs[i];
	return find_field(fs, from < n ? from : n, name);
}

/*
 * verr for a scalar that check_scalar refused with `why`, saying what was
 * expected where a static phrase cannot: the accepted values of an enum
 * (Chinese labels and ids), the length of a resident ID number and its
 * expected check digit (a digit the number's own digits determine; the
 * number itself is never quoted).
 */
static void verr_scalar(vctx *c, const vl_field *f, vl_ftype t, const char *path,
		const vl_value *v, const char *why)
{
	char msg[sizeof(c->first)];

	if (t == VL_T_ENUM && f->nopts) {
		vl_buf vals = VL_BUF_INIT;

		if (list_options(&vals, f, NULL) < 0) {
			c->oom = 1;
			return;
		}
		/* TRANSLATORS: %s: the accepted values, in Chinese their labels "户籍人口、流动人口". */
		snprintf(msg, sizeof(msg), _("enum: should be one of %s"), vals.ptr ? vals.ptr : "");
		vl_buf_free(&vals);
		verr(c, f, path, v, msg);
		return;
	}
	if (t == VL_T_CN_ID && v->kind == VL_V_STR && strcmp(why, "cn_id check digit") == 0 &&
			v->slen == 18) {
		snprintf(msg, sizeof(msg), _("cn_id check digit should be %c"), vl_cn_id_check_char(v->s));
		verr(c, f, path, v, msg);
		return;
	}
	if (t == VL_T_CN_ID && v->kind == VL_V_STR && strncmp(why, "cn_id length", 12) == 0) {
		snprintf(msg, sizeof(msg), _("cn_id length: should be 18 characters, got %zu"),
				utf8_chars(v->s, v->slen));
		verr(c, f, path, v, msg);
		return;
	}
	verr(c, f, path, v, why);
}

static void validate_value(vctx *c, const vl_field *f, const vl_value *v, const char *path,
		int deleted)
{
	char sub[256];
	const char *why;
	size_t i, j;

	if (v->kind == VL_V_NULL) {
		verr(c, f, path, v, N_("null (leave the field out instead)"));
		return;
	}
	switch (f->type) {
	case VL_T_SET:
	case VL_T_LIST:
		if (v->kind != VL_V_LIST) {
			verr(c, f, path, v, f->type == VL_T_SET ? N_("type (expected a set: a list)") : N_("type (expected a list)"));
			return;
		}
		for (i = 0; i < v->n; i++) {
			const vl_value *it = v->items[i];

			snprintf(sub, sizeof(sub), "%.200s[%zu]", path, i);
			if (f->item_type == VL_T_MAP) {
				if (it->kind != VL_V_MAP) {
					verr(c, f, sub, it, N_("type (expected a map)"));
					continue;
				}
				validate_map(c, f->item_fields, f->nitem_fields, it, sub, deleted);
				/* A tombstone may have lost a pii key with the rest of its
				 * personal data; its items are no longer merged by key. */
				if (f->item_key && !deleted) {
					const vl_value *k = vl_value_map_get(it, f->item_key);

					if (!k) {
						verr(c, f, sub, it, N_("item key missing"));
						continue;
					}
					for (j = 0; j < i; j++) {
						const vl_value *k2 = vl_value_map_get(v->items[j], f->item_key);

						if (k2 && vl_value_equal(k, k2)) {
							verr(c, f, sub, it, N_("item key repeats an earlier item"));
							break;
						}
					}
				}
				continue;
			}
			if (!is_scalar_value(it)) {
				verr(c, f, sub, it, N_("type (expected a scalar item)"));
				continue;
			}
			why = check_scalar(c->s, f, f->item_type, it, c->today);
			if (why) {
				verr_scalar(c, f, f->item_type, sub, it, why);
				continue;
			}
			if (f->type == VL_T_SET && i > 0 && is_scalar_value(v->items[i - 1])) {
				int cmp = vl_value_set_cmp(&v->items[i - 1], &v->items[i]);

				if (cmp == 0)
					verr(c, f, sub, it, N_("set (duplicate item)"));
				else if (cmp > 0)
					verr(c, f, sub, it, N_("set (items not sorted)"));
			}
		}
		return;
	case VL_T_MAP:
		if (v->kind != VL_V_MAP) {
			verr(c, f, path, v, N_("type (expected a map)"));
			return;
		}
		validate_map(c, f->item_fields, f->nitem_fields, v, path, deleted);
		return;
	default:
		if (!is_scalar_value(v)) {
			verr(c, f, path, v, N_("type (expected a scalar)"));
			return;
		}
		why = check_scalar(c->s, f, f->type, v, c->today);
		if (why)
			verr_scalar(c, f, f->type, path, v, why);
	}
}

static void validate_map(vctx *c, const vl_field *fs, size_t nf, const vl_value *m,
		const char *prefix, int deleted)
{
	char path[256];
	/* seen[fi]: m has a key for fs[fi] (keys and field names are unique),
	 * so the required check needs no second search; big schemas search */
	unsigned char seen_small[128], *seen = nf <= sizeof(seen_small) ? seen_small : NULL;
	size_t i, fi, last = 0;
	int have_last = 0;

	if (seen)
		memset(seen, 0, nf);
	for (i = 0; i < m->n; i++) {
		const vl_field *f = find_field_from(fs, nf, m->keys[i], have_last ? last + 1 : 0);

		child_path(path, sizeof(path), prefix, m->keys[i]);
		if (!f) {
			verr(c, NULL, path, m->items[i], N_("unknown field (not in the schema)"));
			continue;
		}
		fi = (size_t)(f - fs);
		if (seen)
			seen[fi] = 1;
		if (have_last && fi <= last)
			verr(c, f, path, m->items[i], N_("order (keys must follow the schema's field order)"));
		last = fi;
		have_last = 1;
		if (deleted && f->pii) {
			verr(c, f, path, m->items[i], N_("pii (a tombstone keeps no personal data)"));
			continue;
		}
		validate_value(c, f, m->items[i], path, deleted);
	}
	if (deleted)
		return;
	for (fi = 0; fi < nf; fi++) {
		if (!fs[fi].required || (seen ? seen[fi] : vl_value_map_get(m, fs[fi].name) != NULL))
			continue;
		child_path(path, sizeof(path), prefix, fs[fi].name);
		verr(c, &fs[fi], path, m, N_("required (missing)"));
	}
}

int vl_schema_validate(const vl_schema *s, const vl_value *data, int deleted, vl_buf *diag)
{
	return vl_schema_validate_paths(s, data, deleted, diag, NULL);
}

int vl_schema_validate_paths(const vl_schema *s, const vl_value *data, int deleted, vl_buf *diag,
		vl_buf *paths)
{
	vctx c;

	memset(&c, 0, sizeof(c));
	c.s = s;
	c.diag = diag;
	c.paths = diag ? paths : NULL;
	vl_date_today(c.today);
	if (!data || data->kind != VL_V_MAP) {
		if (diag && (vl_buf_puts(diag, "data: not a map\n") < 0 || (paths && vl_buf_putc(paths, '\n') < 0)))
			return vl_error_set(VL_ENOMEM, "out of memory");
		return vl_error_set(VL_EINVALID, "%s: data is not a map", s->name);
	}
	validate_map(&c, s->fields, s->nfields, data, "", deleted);
	if (c.oom)
		return vl_error_set(VL_ENOMEM, "out of memory reporting schema violations");
	/* The ledger by its Chinese label in Chinese, by its id in English. */
	if (c.nerr > 1)
		return vl_error_set(VL_EINVALID, "%s: %s (and more)",
				lang_zh() && s->label_zh ? s->label_zh : s->name, c.first);
	if (c.nerr)
		return vl_error_set(VL_EINVALID, "%s: %s", lang_zh() && s->label_zh ? s->label_zh : s->name,
				c.first);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Normalising                                                               */

static size_t field_index(const vl_field *fs, size_t nf, const char *key)
{
	const vl_field *f = find_field(fs, nf, key);

	return f ? (size_t)(f - fs) : (size_t)-1;
}

/* Replace *slot by a STR node with text s, keeping the source position. */
static int replace_str(vl_value **slot, const char *s)
{
	vl_value *n = vl_value_str(s);

	if (!n)
		return vl_error_set(VL_ENOMEM, "out of memory");
	n->line = (*slot)->line;
	n->col = (*slot)->col;
	vl_value_free(*slot);
	*slot = n;
	return 0;
}

/* An enum option by value, zh label, or en label (ASCII case-insensitive). */
static const vl_enum_opt *opt_by_text(const vl_field *f, const char *t)
{
	size_t i;

	/* A schema that failed to load may hold options with missing parts
	 * (loading goes on after an error to report them all). */
	for (i = 0; i < f->nopts; i++)
		if (f->opts[i].value && strcmp(f->opts[i].value, t) == 0)
			return &f->opts[i];
	for (i = 0; i < f->nopts; i++)
		if ((f->opts[i].zh && strcmp(f->opts[i].zh, t) == 0) ||
				(f->opts[i].en && ascii_casecmp(f->opts[i].en, t) == 0))
			return &f->opts[i];
	return NULL;
}

static void trim(const char **p, size_t *n);

/* 1 if label starts with prefix p (bytewise; ASCII case-insensitive). */
static int label_has_prefix(const char *label, const char *p)
{
	size_t i;

	for (i = 0; p[i]; i++)
		if (!label[i] || ascii_lower((unsigned char)label[i]) != ascii_lower((unsigned char)p[i]))
			return 0;
	return 1;
}

/* Length of label without a trailing parenthesised part, "乡镇（街道）" ->
 * "乡镇", "Town (street)" -> "Town"; the whole length when it has none. */
static size_t label_core_len(const char *label)
{
	size_t n = strlen(label);
	const char *open = NULL;

	if (n >= 3 && strcmp(label + n - 3, "）") == 0) {
		const char *p = strstr(label, "（");
		while (p) {
			open = p;
			p = strstr(p + 3, "（");
		}
	} else if (n >= 1 && label[n - 1] == ')') {
		open = strrchr(label, '(');
	}
	if (!open)
		return n;
	while (open > label && open[-1] == ' ')
		open--;
	return (size_t)(open - label);
}

/*
 * The option a person meant by text t (already trimmed and folded to
 * half-width): the exact value or label first (opt_by_text), then the
 * value or English label in any case, then a label without its
 * parenthesised part, then a unique prefix of a value or label. Returns
 * the option, or NULL with *ambiguous = 1 when more than one option fits
 * (the caller lists them), 0 when none does.
 */
static const vl_enum_opt *opt_match(const vl_field *f, const char *t, int *ambiguous)
{
	const vl_enum_opt *hit = NULL, *o;
	size_t i, tl = strlen(t);
	int pass, n;

	*ambiguous = 0;
	if ((o = opt_by_text(f, t)))
		return o;
	if (tl == 0)
		return NULL;
	for (pass = 0; pass < 2; pass++) {
		n = 0;
		for (i = 0; i < f->nopts; i++) {
			const vl_enum_opt *x = &f->opts[i];
			int fit;

			if (!x->value)
				continue;
			if (pass == 0)
				fit = ascii_casecmp(x->value, t) == 0 ||
					(x->zh && label_core_len(x->zh) == tl && strncmp(x->zh, t, tl) == 0) ||
					(x->en && label_core_len(x->en) == tl && label_has_prefix(x->en, t));
			else
				fit = label_has_prefix(x->value, t) || (x->zh && label_has_prefix(x->zh, t)) ||
					(x->en && label_has_prefix(x->en, t));
			if (fit && x != hit) {
				hit = x;
				n++;
			}
		}
		if (n == 1)
			return hit;
		if (n > 1) {
			*ambiguous = 1;
			return NULL;
		}
		hit = NULL;
	}
	return NULL;
}

/* Append "户籍人口 (registered), 流动人口 (migrant)" ("户籍人口、流动人口" in
 * Chinese): every option of f, or
 * with only_prefix those t fits as opt_match's prefix pass would. */
static int list_options(vl_buf *out, const vl_field *f, const char *only_prefix)
{
	size_t i, k = 0;
	int rc;

	for (i = 0; i < f->nopts; i++) {
		const vl_enum_opt *x = &f->opts[i];

		if (!x->value)
			continue;
		if (only_prefix && !label_has_prefix(x->value, only_prefix) &&
				!(x->zh && label_has_prefix(x->zh, only_prefix)) &&
				!(x->en && label_has_prefix(x->en, only_prefix)) &&
				!(x->zh && label_core_len(x->zh) == strlen(only_prefix) &&
					strncmp(x->zh, only_prefix, strlen(only_prefix)) == 0))
			continue;
		/* Chinese: the labels a worker types ("户籍人口、流动人口"); English: each
		 * label with its id ("户籍人口 (registered), 流动人口 (migrant)"). */
		if (lang_zh())
			rc = vl_buf_printf(out, "%s%s", k++ ? "、" : "", x->zh ? x->zh : x->value);
		else
			rc = vl_buf_printf(out, "%s%s (%s)", k++ ? ", " : "", x->zh ? x->zh : x->value,
					x->value);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Forgive what a hurried person or an input method adds, in place on a NUL
 * terminated tmp of *len bytes (the result is never longer), before a value
 * of type t is parsed: full-width digits, letters and punctuation folded to
 * ASCII for numbers, dates, times, enums, booleans, ID and phone numbers,
 * division codes, record ids and code-like strings (a string field with a
 * pattern); then spaces and dashes dropped inside ID and mobile numbers, an
 * ID number's final x made X, and spaces inside a landline number made the
 * one dash it takes ("023 1234 5678" -> "023-12345678"). Free text is
 * never touched. docs/schemas.md, "Input rules".
 */
static void forgive_input(const vl_field *f, vl_ftype t, char *tmp, size_t *len)
{
	size_t i, o;

	switch (t) {
	case VL_T_STRING:
		if (!f->pattern)
			return;
		break;
	case VL_T_TEXT:
	case VL_T_SET:
	case VL_T_LIST:
	case VL_T_MAP:
		return;
	default:
		break;
	}
	*len = vl_fold_fullwidth(tmp, tmp, *len);
	{
		const char *p = tmp;
		size_t n = *len;

		trim(&p, &n);
		memmove(tmp, p, n);
		tmp[n] = '\0';
		*len = n;
	}
	if (t == VL_T_CN_ID || t == VL_T_CN_MOBILE || t == VL_T_PHONE) {
		int mobile_like = 0;

		/* A phone number whose digits (and +) alone make a mobile: drop
		 * every space and dash; any other phone keeps its dashes. */
		if (t == VL_T_PHONE) {
			char probe[64];

			for (i = 0, o = 0; i < *len && o < sizeof(probe) - 1; i++)
				if (tmp[i] != ' ' && tmp[i] != '-')
					probe[o++] = tmp[i];
			probe[o] = '\0';
			mobile_like = i == *len && vl_cn_mobile_check(probe) == NULL;
		}
		{
			int keep_dashes = t == VL_T_PHONE && !mobile_like;
			int dash = keep_dashes && memchr(tmp, '-', *len) != NULL;

			for (i = 0, o = 0; i < *len; i++) {
				if (tmp[i] == '-' && keep_dashes) {
					tmp[o++] = '-';
				} else if (tmp[i] == ' ' || tmp[i] == '-') {
					/* Spaces in a landline: the first one is its dash. */
					if (keep_dashes && !dash && o > 0) {
						tmp[o++] = '-';
						dash = 1;
					}
				} else {
					tmp[o++] = tmp[i];
				}
			}
		}
		tmp[o] = '\0';
		*len = o;
		if (t == VL_T_CN_ID && o == 18 && tmp[17] == 'x')
			tmp[17] = 'X';
	}
}

/* One scalar of scalar type t into its canonical spelling, in place. */
static int normalize_scalar(const vl_field *f, vl_ftype t, vl_value **slot)
{
	vl_value *v = *slot;

	if (!is_scalar_value(v))
		return 0;
	/* Data from a file is forgiven as typed text is (forgive_input); a
	 * value still wrong is left for validate to report. */
	if (v->kind == VL_V_STR && t != VL_T_TEXT && (t != VL_T_STRING || f->pattern)) {
		char *tmp = malloc(v->slen + 1);
		size_t len = v->slen;
		int rc = 0;

		if (!tmp)
			return vl_error_set(VL_ENOMEM, "out of memory");
		memcpy(tmp, v->s, len + 1);
		forgive_input(f, t, tmp, &len);
		if (t == VL_T_ENUM) {
			int amb;
			const vl_enum_opt *o = opt_match(f, tmp, &amb);

			if (o && strcmp(o->value, v->s) != 0)
				rc = replace_str(slot, o->value);
		} else if (len != v->slen && ((t == VL_T_INT && match_int(tmp)) ||
				(t == VL_T_DECIMAL && (match_int(tmp) || match_dec(tmp))))) {
			/* Full-width digits only: a quoted "42" stays a string for
			 * validate to report, as the file said a string. */
			vl_value *n = vl_value_scalar(match_int(tmp) ? VL_V_INT : VL_V_DEC, tmp);

			if (!n) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
			} else {
				n->line = v->line;
				n->col = v->col;
				vl_value_free(*slot);
				*slot = n;
			}
		} else if (is_str_type(t) && (len != v->slen || memcmp(tmp, v->s, len) != 0)) {
			rc = replace_str(slot, tmp);
		}
		free(tmp);
		return rc;
	}
	/* A plain 302 or 500243001001 in a string-typed field: the text is
	 * exactly what was written, so making it a string loses nothing. */
	if (is_str_type(t) && (v->kind == VL_V_INT || v->kind == VL_V_DEC))
		return replace_str(slot, v->s);
	return 0;
}

/* Sort a list of scalars bytewise by text and drop repeats (a set). Lists
 * holding collections are left for validate to report. */
static void sort_unique(vl_value *list)
{
	size_t i, o;

	for (i = 0; i < list->n; i++)
		if (!is_scalar_value(list->items[i]))
			return;
	if (list->n < 2)
		return;
	qsort(list->items, list->n, sizeof(*list->items), vl_value_set_cmp);
	for (i = 1, o = 1; i < list->n; i++) {
		if (vl_value_set_cmp(&list->items[o - 1], &list->items[i]) == 0)
			vl_value_free(list->items[i]);
		else
			list->items[o++] = list->items[i];
	}
	list->n = o;
}

static int normalize_map(const vl_field *fs, size_t nf, vl_value *m);

static int normalize_value(const vl_field *f, vl_value **slot)
{
	vl_value *v = *slot;
	size_t i;
	int rc;

	switch (f->type) {
	case VL_T_SET:
	case VL_T_LIST:
		if (v->kind != VL_V_LIST)
			return 0;
		for (i = 0; i < v->n; i++) {
			if (f->item_type == VL_T_MAP) {
				if (v->items[i]->kind == VL_V_MAP &&
						(rc = normalize_map(f->item_fields, f->nitem_fields, v->items[i])) < 0)
					return rc;
			} else if ((rc = normalize_scalar(f, f->item_type, &v->items[i])) < 0) {
				return rc;
			}
		}
		if (f->type == VL_T_SET)
			sort_unique(v);
		return 0;
	case VL_T_MAP:
		return v->kind == VL_V_MAP ? normalize_map(f->item_fields, f->nitem_fields, v) : 0;
	default:
		return normalize_scalar(f, f->type, slot);
	}
}

/* Keys into schema order (stable; unknown keys last in their order). */
static void order_keys(const vl_field *fs, size_t nf, vl_value *m)
{
	size_t i, j;

	for (i = 1; i < m->n; i++) {
		char *k = m->keys[i];
		vl_value *it = m->items[i];
		size_t ki = field_index(fs, nf, k);

		for (j = i; j > 0 && field_index(fs, nf, m->keys[j - 1]) > ki; j--) {
			m->keys[j] = m->keys[j - 1];
			m->items[j] = m->items[j - 1];
		}
		m->keys[j] = k;
		m->items[j] = it;
	}
}

static int normalize_map(const vl_field *fs, size_t nf, vl_value *m)
{
	size_t i;
	int rc;

	for (i = 0; i < m->n; i++) {
		const vl_field *f = find_field(fs, nf, m->keys[i]);

		if (f && (rc = normalize_value(f, &m->items[i])) < 0)
			return rc;
	}
	order_keys(fs, nf, m);
	return 0;
}

int vl_schema_normalize(const vl_schema *s, vl_value *data)
{
	if (!data || data->kind != VL_V_MAP)
		return vl_error_set(VL_EINVALID, "%s: data is not a map", s->name);
	return normalize_map(s->fields, s->nfields, data);
}

/* ------------------------------------------------------------------------ */
/* set_text                                                                  */

static int two(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

static int digits(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(p[i] >= '0' && p[i] <= '9'))
			return 0;
	return 1;
}

/*
 * Accept "YYYY-MM-DD[T| ]HH:MM[:SS[.f]](Z|+HH:MM|-HH:MM)" (t and z in either
 * case) and write the canonical UTC form "YYYY-MM-DDTHH:MM:SS[.f]Z" to
 * out[40]. People type local time (+08:00); records hold UTC. 1 ok, 0 not.
 */
static int datetime_to_utc(const char *in, char out[40])
{
	char date[11], frac[12] = "";
	size_t n = strlen(in), i = 16, fl = 0;
	int h, mi, sec = 0, off = 0;
	unsigned mo, d;
	int64_t y;
	long long days, mins;

	if (n < 17 || n > 40)
		return 0;
	memcpy(date, in, 10);
	date[10] = '\0';
	if (!vl_date_valid(date) || !(in[10] == 'T' || in[10] == 't' || in[10] == ' ') ||
			!digits(in + 11, 2) || in[13] != ':' || !digits(in + 14, 2))
		return 0;
	h = two(in + 11);
	mi = two(in + 14);
	if (in[i] == ':') {
		if (!digits(in + 17, 2))
			return 0;
		sec = two(in + 17);
		i = 19;
		if (in[i] == '.') {
			for (i++; in[i] >= '0' && in[i] <= '9'; i++) {
				if (fl >= 9)
					return 0;
				frac[fl++] = in[i];
			}
			if (!fl)
				return 0;
			frac[fl] = '\0';
		}
	}
	if (h > 23 || mi > 59 || sec > 59)
		return 0;
	if ((in[i] == 'Z' || in[i] == 'z') && in[i + 1] == '\0') {
		off = 0;
	} else if ((in[i] == '+' || in[i] == '-') && digits(in + i + 1, 2) && in[i + 3] == ':' &&
			digits(in + i + 4, 2) && in[i + 6] == '\0') {
		if (two(in + i + 1) > 23 || two(in + i + 4) > 59)
			return 0;
		off = two(in + i + 1) * 60 + two(in + i + 4);
		if (in[i] == '-')
			off = -off;
	} else {
		return 0;
	}
	days = vl_days_from_civil(two(in) * 100 + two(in + 2), (unsigned)two(in + 5), (unsigned)two(in + 8));
	mins = days * 1440 + h * 60 + mi - off;
	days = mins >= 0 ? mins / 1440 : -((-mins + 1439) / 1440);
	mins -= days * 1440;
	vl_civil_from_days(days, &y, &mo, &d);
	if (y < 1 || y > 9999)
		return 0;
	snprintf(out, 40, "%04d-%02u-%02uT%02d:%02d:%02d%s%.9sZ", (int)y, mo % 100, d % 100,
			(int)(mins / 60) % 100, (int)(mins % 60), sec % 100, fl ? "." : "", frac);
	return 1;
}

static void trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' ||
			(*p)[*n - 1] == '\n' || (*p)[*n - 1] == '\r'))
		(*n)--;
}

/* Parse the text of one scalar of type t into *out (a new node). */
static int parse_scalar_text(vl_value **out, const vl_field *f, vl_ftype t, const char *path,
		const char *text, size_t len)
{
	char *tmp = NULL, msg[600];
	vl_value *v = NULL;
	int rc = 0;

	*out = NULL;
	if (t != VL_T_TEXT)
		trim(&text, &len);
	tmp = malloc(len + 1);
	if (!tmp)
		return vl_error_set(VL_ENOMEM, "out of memory");
	memcpy(tmp, text, len);
	tmp[len] = '\0';
	if (strlen(tmp) != len) {
		rc = field_error(msg, sizeof(msg), f, path, N_("text contains a NUL byte"));
		goto out;
	}
	forgive_input(f, t, tmp, &len);
	switch (t) {
	case VL_T_INT: {
		long long ll;

		if (!parse_ll(tmp, &ll)) {
			rc = field_error(msg, sizeof(msg), f, path, N_("not an int (digits, optional leading -)"));
			goto out;
		}
		v = vl_value_scalar(VL_V_INT, tmp);
		break;
	}
	case VL_T_DECIMAL:
		if (match_int(tmp)) {
			v = vl_value_scalar(VL_V_INT, tmp);
		} else if (match_dec(tmp)) {
			v = vl_value_scalar(VL_V_DEC, tmp);
		} else {
			rc = field_error(msg, sizeof(msg), f, path, N_("not a decimal (like 12 or 12.50)"));
			goto out;
		}
		break;
	case VL_T_BOOL:
		if (strcmp(tmp, "true") == 0 || strcmp(tmp, "是") == 0) {
			v = vl_value_bool(1);
		} else if (strcmp(tmp, "false") == 0 || strcmp(tmp, "否") == 0) {
			v = vl_value_bool(0);
		} else {
			rc = field_error(msg, sizeof(msg), f, path, N_("not a bool (true, false, 是, 否)"));
			goto out;
		}
		break;
	case VL_T_DATE:
		if (!vl_date_valid(tmp)) {
			rc = field_error(msg, sizeof(msg), f, path, N_("not a date (YYYY-MM-DD)"));
			goto out;
		}
		v = vl_value_str(tmp);
		break;
	case VL_T_DATETIME: {
		char utc[40];

		if (!datetime_to_utc(tmp, utc)) {
			rc = field_error(msg, sizeof(msg), f, path,
					N_("not a date and time (YYYY-MM-DDTHH:MM:SSZ or with an offset like +08:00)"));
			goto out;
		}
		v = vl_value_str(utc);
		break;
	}
	case VL_T_ENUM: {
		int amb;
		const vl_enum_opt *o = opt_match(f, tmp, &amb);

		if (!o) {
			vl_buf vals = VL_BUF_INIT;

			if (list_options(&vals, f, amb ? tmp : NULL) < 0) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
			} else {
				char rule[480];

				if (amb)
					/* TRANSLATORS: %s: the values that fit, in Chinese their labels. */
					snprintf(rule, sizeof(rule), _("more than one value fits, say which: %s"),
							vals.ptr ? vals.ptr : "");
				else
					/* TRANSLATORS: %s: the accepted values, in Chinese their labels. */
					snprintf(rule, sizeof(rule), _("should be one of %s"), vals.ptr ? vals.ptr : "");
				rc = field_error(msg, sizeof(msg), f, path, rule);
			}
			vl_buf_free(&vals);
			goto out;
		}
		v = vl_value_str(o->value);
		break;
	}
	default:
		v = vl_value_str(tmp);
		break;
	}
	if (!v) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	*out = v;
	v = NULL;
out:
	free(tmp);
	return rc;
}

/* Load "v: <text>" as YAML flow text and take the value out; it must be of
 * `kind`. */
static int parse_flow(vl_value **out, const char *path, const char *text, vl_vkind kind)
{
	vl_buf doc = VL_BUF_INIT;
	vl_value *tree = NULL, *v;
	int rc;

	*out = NULL;
	if ((rc = vl_buf_puts(&doc, "v: ")) < 0 || (rc = vl_buf_puts(&doc, text)) < 0 ||
			(rc = vl_buf_putc(&doc, '\n')) < 0)
		goto out;
	rc = vl_yaml_load(&tree, doc.ptr, doc.len, &vl_yaml_file_limits, "--set");
	if (rc < 0) {
		rc = vl_error_wrap(VL_EINVALID, "field '%s'", path);
		goto out;
	}
	v = tree->n == 1 ? vl_value_map_get(tree, "v") : NULL;
	if (!v || v->kind != kind) {
		if (kind == VL_V_LIST)
			rc = vl_error_set(VL_EINVALID, "field '%s': expected a YAML flow sequence like [a, b]", path);
		else
			rc = vl_error_set(VL_EINVALID, "field '%s': expected a YAML flow mapping like {k: v}", path);
		goto out;
	}
	/* Detach v from the wrapper so that only it survives. */
	tree->items[0] = NULL;
	*out = v;
	rc = 0;
out:
	vl_value_free(tree);
	vl_buf_free(&doc);
	return rc;
}

/* The next item of a comma-separated list: separators ',' '，' '、'. */
static size_t next_sep(const char *s, size_t *seplen)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] == ',') {
			*seplen = 1;
			return i;
		}
		if (strncmp(s + i, "，", 3) == 0 || strncmp(s + i, "、", 3) == 0) {
			*seplen = 3;
			return i;
		}
	}
	*seplen = 0;
	return i;
}

static int parse_list_text(vl_value **out, const vl_field *f, const char *path, const char *text)
{
	vl_value *list = NULL, *item = NULL, *flow = NULL;
	const char *p = text;
	size_t i;
	int rc = 0;

	*out = NULL;
	while (*p == ' ')
		p++;
	if (f->item_type == VL_T_MAP || *p == '[') {
		rc = parse_flow(&flow, path, text, VL_V_LIST);
		if (rc < 0)
			goto out;
		if (f->item_type == VL_T_MAP) {
			list = flow;
			flow = NULL;
			goto done;
		}
		if (!(list = vl_value_new(VL_V_LIST))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < flow->n; i++) {
			const vl_value *it = flow->items[i];

			if (!is_scalar_value(it) || it->kind == VL_V_NULL) {
				rc = vl_error_set(VL_EINVALID, "field '%s': item %zu is not a scalar", path, i + 1);
				goto out;
			}
			if ((rc = parse_scalar_text(&item, f, f->item_type, path, it->s, it->slen)) < 0)
				goto out;
			if ((rc = vl_value_list_push(list, item)) < 0) {
				item = NULL;
				goto out;
			}
			item = NULL;
		}
		goto done;
	}
	if (!(list = vl_value_new(VL_V_LIST))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	while (*p) {
		size_t sl, n = next_sep(p, &sl), tl = n;
		const char *t = p;

		trim(&t, &tl);
		if (tl) {
			if ((rc = parse_scalar_text(&item, f, f->item_type, path, t, tl)) < 0)
				goto out;
			if ((rc = vl_value_list_push(list, item)) < 0) {
				item = NULL;
				goto out;
			}
			item = NULL;
		}
		p += n + sl;
	}
done:
	*out = list;
	list = NULL;
out:
	vl_value_free(flow);
	vl_value_free(list);
	vl_value_free(item);
	return rc;
}

/* Set key to val in data at the key's schema position (val owned). */
static int map_set_ordered(const vl_schema *s, vl_value *data, const char *key, vl_value *val)
{
	int existed = vl_value_map_get(data, key) != NULL;
	size_t fi, j, n;
	int rc;

	rc = vl_value_map_set(data, key, val);
	if (rc < 0 || existed)
		return rc;
	/* New keys are appended: rotate the last entry into place. */
	n = data->n;
	fi = field_index(s->fields, s->nfields, key);
	for (j = n - 1; j > 0 && field_index(s->fields, s->nfields, data->keys[j - 1]) > fi; j--) {
		char *k = data->keys[j];
		vl_value *it = data->items[j];

		data->keys[j] = data->keys[j - 1];
		data->items[j] = data->items[j - 1];
		data->keys[j - 1] = k;
		data->items[j - 1] = it;
	}
	return 0;
}

int vl_schema_set_text(const vl_schema *s, vl_value *data, const char *field, const char *text)
{
	const vl_field *f = vl_schema_field(s, field);
	vl_value *v = NULL;
	int rc;

	if (!data || data->kind != VL_V_MAP)
		return vl_error_set(VL_EINVALID, "%s: data is not a map", s->name);
	if (!f) {
		vl_buf names = VL_BUF_INIT;
		size_t i;

		for (i = 0; i < s->nfields; i++)
			if (vl_buf_printf(&names, "%s%s", i ? ", " : "", s->fields[i].name) < 0)
				break;
		rc = vl_error_set(VL_ENOTFOUND, "no field '%.64s' in ledger '%s' (fields: %s)",
				field ? field : "", s->name, names.ptr ? names.ptr : "");
		vl_buf_free(&names);
		return rc;
	}
	if (!text)
		text = "";
	/* An empty value clears the field: absence is how records say "unknown". */
	{
		const char *t = text;
		size_t tl = strlen(text);

		trim(&t, &tl);
		if (tl == 0) {
			if (vl_value_map_get(data, field))
				(void)vl_value_map_del(data, field);
			return 0;
		}
	}
	switch (f->type) {
	case VL_T_SET:
	case VL_T_LIST:
		rc = parse_list_text(&v, f, field, text);
		break;
	case VL_T_MAP:
		rc = parse_flow(&v, field, text, VL_V_MAP);
		break;
	default:
		rc = parse_scalar_text(&v, f, f->type, field, text, strlen(text));
		break;
	}
	if (rc < 0)
		return rc;
	rc = normalize_value(f, &v);
	if (rc < 0) {
		vl_value_free(v);
		return rc;
	}
	/* Values built from the command line carry no source position. */
	v->line = v->col = 0;
	return map_set_ordered(s, data, field, v);
}

/* ------------------------------------------------------------------------ */
/* Defaults                                                                  */

/* The current UTC date (YYYY-MM-DD) and time to the second
 * (YYYY-MM-DDTHH:MM:SSZ), from one reading of the clock. 1 ok, 0 if the
 * clock is outside years 0001-9999. */
static int utc_now(char date[11], char datetime[21])
{
	time_t t = time(NULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year < 1 - 1900 || tm.tm_year > 9999 - 1900)
		return 0;
	/* Unsigned and reduced, so that the compiler sees the widths fit. */
	snprintf(date, 11, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
			(unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
	/* tm_sec is 60 in a leap second, which datetimes do not allow. */
	snprintf(datetime, 21, "%.10sT%02u:%02u:%02uZ", date, (unsigned)tm.tm_hour % 100u,
			(unsigned)tm.tm_min % 100u, (unsigned)(tm.tm_sec > 59 ? 59 : tm.tm_sec) % 100u);
	return 1;
}

int vl_schema_apply_defaults(const vl_schema *s, vl_value *data)
{
	char date[11], datetime[21];
	int have_clock = 0, rc;
	size_t i;

	if (!data || data->kind != VL_V_MAP)
		return vl_error_set(VL_EINVALID, "%s: data is not a map", s->name);
	for (i = 0; i < s->nfields; i++) {
		const vl_field *f = &s->fields[i];
		const char *word = NULL;
		vl_value *v;

		if (!f->def || vl_value_map_get(data, f->name))
			continue;
		if (f->def->kind == VL_V_STR && f->type == VL_T_DATE && strcmp(f->def->s, "today") == 0)
			word = date;
		else if (f->def->kind == VL_V_STR && f->type == VL_T_DATETIME &&
				strcmp(f->def->s, "now") == 0)
			word = datetime;
		if (word && !have_clock) {
			if (!utc_now(date, datetime))
				return vl_error_set(VL_EINVALID,
						"%s: field '%s': the system clock is outside years 0001-9999",
						s->name, f->name);
			have_clock = 1;
		}
		v = word ? vl_value_str(word) : vl_value_clone(f->def);
		if (!v)
			return vl_error_set(VL_ENOMEM, "out of memory");
		v->line = v->col = 0;
		if ((rc = map_set_ordered(s, data, f->name, v)) < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Masking, tombstones, identity                                             */

/*
 * The mask of a pii value of (scalar) type t, of a fixed length so that it
 * never tells how long the value is (a two-character name and a
 * four-character one both show "***"). ID and phone numbers keep their
 * first 3 and last 4 characters, as printed ID cards and SMS receipts do,
 * with a fixed run of stars between: "500***********123X" (an ID number is
 * always 18), "138****5678", "023****5678".
 */
static vl_value *mask_value(vl_ftype t, const vl_value *v)
{
	vl_buf b = VL_BUF_INIT;
	vl_value *m = NULL;
	size_t chars;

	if (v->kind != VL_V_STR)
		return vl_value_str("***");
	chars = utf8_chars(v->s, v->slen);
	if ((t == VL_T_CN_ID && chars == 18) || ((t == VL_T_CN_MOBILE || t == VL_T_PHONE) && chars > 7)) {
		size_t head = utf8_offset(v->s, v->slen, 3);
		size_t tail = utf8_offset(v->s, v->slen, chars - 4);

		if (vl_buf_put(&b, v->s, head) < 0 ||
				vl_buf_puts(&b, t == VL_T_CN_ID ? "***********" : "****") < 0 ||
				vl_buf_put(&b, v->s + tail, v->slen - tail) < 0)
			goto out;
		m = vl_value_strn(b.ptr, b.len);
	} else {
		m = vl_value_str("***");
	}
out:
	vl_buf_free(&b);
	return m;
}

/*
 * Copy map m keeping only known fields, recursing into maps and lists of
 * maps. mask = 1: pii fields (and unknown keys, which may be anything)
 * become masks; mask = 0: they are dropped (tombstones).
 */
static int copy_filtered(vl_value **out, const vl_field *fs, size_t nf, const vl_value *m, int mask)
{
	vl_value *res = NULL, *v = NULL;
	size_t i, j;
	int rc = 0;

	*out = NULL;
	if (!(res = vl_value_new(VL_V_MAP)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	res->line = m->line;
	res->col = m->col;
	for (i = 0; i < m->n; i++) {
		const vl_field *f = find_field(fs, nf, m->keys[i]);
		const vl_value *it = m->items[i];

		v = NULL;
		if (!f || f->pii) {
			if (!mask)
				continue;
			if (f && !is_scalar_type(f->type))
				v = vl_value_str("***");
			else
				v = mask_value(f ? f->type : VL_T_STRING, it);
		} else if (f->type == VL_T_MAP && it->kind == VL_V_MAP) {
			if ((rc = copy_filtered(&v, f->item_fields, f->nitem_fields, it, mask)) < 0)
				goto out;
		} else if (f->type == VL_T_LIST && f->item_type == VL_T_MAP && it->kind == VL_V_LIST) {
			if (!(v = vl_value_new(VL_V_LIST)))
				goto oom;
			v->line = it->line;
			v->col = it->col;
			for (j = 0; j < it->n; j++) {
				vl_value *sub = NULL;

				if (it->items[j]->kind == VL_V_MAP) {
					if ((rc = copy_filtered(&sub, f->item_fields, f->nitem_fields,
							it->items[j], mask)) < 0)
						goto out;
				} else if (!(sub = vl_value_clone(it->items[j]))) {
					goto oom;
				}
				if ((rc = vl_value_list_push(v, sub)) < 0)
					goto out;
			}
		} else {
			v = vl_value_clone(it);
		}
		if (!v)
			goto oom;
		rc = vl_value_map_set(res, m->keys[i], v);
		v = NULL; /* owned by res, or freed on failure */
		if (rc < 0)
			goto out;
	}
	*out = res;
	res = NULL;
	goto out;
oom:
	rc = vl_error_set(VL_ENOMEM, "out of memory");
out:
	vl_value_free(v);
	vl_value_free(res);
	return rc;
}

int vl_schema_mask(vl_value **out, const vl_schema *s, const vl_value *data)
{
	*out = NULL;
	if (!data || data->kind != VL_V_MAP)
		return vl_error_set(VL_EINVALID, "%s: data is not a map", s->name);
	return copy_filtered(out, s->fields, s->nfields, data, 1);
}

int vl_schema_tombstone_data(vl_value **out, const vl_schema *s, const vl_value *data)
{
	*out = NULL;
	if (!data || data->kind != VL_V_MAP)
		return vl_error_set(VL_EINVALID, "%s: data is not a map", s->name);
	return copy_filtered(out, s->fields, s->nfields, data, 0);
}

/* "field=value|field=value"; '|' and '\' inside values are escaped with
 * '\' so that distinct keys never print the same. */
int vl_schema_identity(vl_buf *out, const vl_schema *s, const vl_value *data)
{
	size_t i, j;
	int rc;

	if (s->nidentity == 0)
		return vl_error_set(VL_ENOTFOUND, "ledger '%s' declares no identity", s->name);
	for (i = 0; i < s->nidentity; i++) {
		const vl_value *v = vl_value_map_get(data, s->identity[i]);

		if (!is_scalar_value(v) || v->kind == VL_V_NULL)
			return vl_error_set(VL_ENOTFOUND, "%s: identity field '%s' is missing",
					s->name, s->identity[i]);
	}
	for (i = 0; i < s->nidentity; i++) {
		const vl_value *v = vl_value_map_get(data, s->identity[i]);

		if ((rc = vl_buf_printf(out, "%s%s=", i ? "|" : "", s->identity[i])) < 0)
			return rc;
		for (j = 0; j < v->slen; j++) {
			if ((v->s[j] == '|' || v->s[j] == '\\') && (rc = vl_buf_putc(out, '\\')) < 0)
				return rc;
			if ((rc = vl_buf_putc(out, v->s[j])) < 0)
				return rc;
		}
	}
	return 0;
}
