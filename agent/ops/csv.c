/* csv.c - strict CSV parser, CSV rows as record data, records as CSV (csv.h). */
#include "agent/ops/csv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/i18n.h"
#include "store/limits.h"
#include "store/yaml.h"

const vl_csv_limits vl_csv_import_limits = {
	VL_IMPORT_MAX_BYTES, VL_CSV_MAX_ROWS, VL_CSV_MAX_COLUMNS, VL_CSV_MAX_CELL
};

/* Bad rows listed at most; the count still says how many there were. */
#define BAD_MAX_LINES 1000

/* ---- parser -------------------------------------------------------------- */

void vl_csv_free(vl_csv *c)
{
	if (!c)
		return;
	free(c->text);
	free(c->cells);
	free(c->rows);
	free(c);
}

const char *vl_csv_text(const vl_csv *c, const vl_csv_row *r, size_t i)
{
	return c->text + c->cells[r->first + i].off;
}

int vl_csv_parse(vl_csv **out, const char *buf, size_t len, const vl_csv_limits *lim, const char *src)
{
	vl_csv *c = NULL;
	vl_buf text = VL_BUF_INIT;
	size_t i = 0, linestart = 0, ccap = 0, rcap = 0, cstart;
	vl_csv_row *row = NULL;
	vl_csv_cell *cell = NULL;
	int line = 1, rc = 0;

	*out = NULL;
	if (!src)
		src = "csv";
	if (len > lim->max_bytes)
		return vl_error_set(VL_ETOOBIG, "%s: %zu bytes, more than the %zu a CSV file may hold; split it",
				src, len, lim->max_bytes);
	if (!(c = calloc(1, sizeof(*c))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
		i = 3;
		linestart = 3;
		c->had_bom = 1;
	}
	if (i == len) {
		rc = vl_error_set(VL_EINVALID, "%s: the file is empty; the first row names the columns", src);
		goto out;
	}
	while (i < len) {
		/* A new row. */
		if (c->nrows >= lim->max_rows + 1) {
			rc = vl_error_set(VL_ETOOBIG, "%s: more than %zu rows; split the file", src, lim->max_rows);
			goto out;
		}
		if ((rc = vl_array_grow((void **)&c->rows, &rcap, c->nrows, sizeof(*c->rows))) < 0)
			goto out;
		row = &c->rows[c->nrows++];
		row->first = c->ncells;
		row->n = 0;
		row->line = line;
		for (;;) {
			/* A new cell. */
			if (row->n >= lim->max_columns) {
				rc = vl_error_set(VL_ETOOBIG, "%s:%d: more than %zu columns in a row", src, line,
						lim->max_columns);
				goto out;
			}
			if ((rc = vl_array_grow((void **)&c->cells, &ccap, c->ncells, sizeof(*c->cells))) < 0)
				goto out;
			cell = &c->cells[c->ncells];
			cell->off = text.len;
			cell->line = line;
			cell->col = (int)(i - linestart + 1);
			cstart = text.len;
			if (i < len && buf[i] == '"') {
				i++;
				for (;;) {
					if (i == len) {
						rc = vl_error_set(VL_EINVALID, "%s:%d:%d: a quoted cell is never closed; "
								"add the closing quote", src, cell->line, cell->col);
						goto out;
					}
					if (buf[i] == '"') {
						if (i + 1 < len && buf[i + 1] == '"') {
							i += 2;
							rc = vl_buf_putc(&text, '"');
						} else {
							i++;
							break;
						}
					} else if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n') {
						i++; /* CRLF in a cell is a line break: LF, as records keep it */
						continue;
					} else {
						if (buf[i] == '\n') {
							line++;
							linestart = i + 1;
						}
						if (buf[i] == '\0')
							goto nul;
						rc = vl_buf_putc(&text, buf[i++]);
					}
					if (rc < 0)
						goto out;
					if (text.len - cstart > lim->max_cell)
						goto cellbig;
				}
				if (i < len && buf[i] != ',' && buf[i] != '\n' && buf[i] != '\r') {
					rc = vl_error_set(VL_EINVALID, "%s:%d:%d: text after a closing quote; a quote "
							"inside a quoted cell is written twice (\"\")", src, line,
							(int)(i - linestart + 1));
					goto out;
				}
			} else {
				size_t k = i;
				while (k < len && buf[k] != ',' && buf[k] != '\n' && buf[k] != '\r') {
					if (buf[k] == '"') {
						rc = vl_error_set(VL_EINVALID, "%s:%d:%d: a quote inside an unquoted cell; "
								"quote the whole cell and write the quote twice (\"\")", src,
								line, (int)(k - linestart + 1));
						goto out;
					}
					if (buf[k] == '\0')
						goto nul;
					k++;
				}
				if (k - i > lim->max_cell)
					goto cellbig;
				if ((rc = vl_buf_put(&text, buf + i, k - i)) < 0)
					goto out;
				i = k;
			}
			cell->len = text.len - cstart;
			if (!vl_utf8_valid_nfc(text.ptr ? text.ptr + cstart : "", cell->len)) {
				rc = vl_error_set(VL_EINVALID, "%s:%d:%d: the cell is not UTF-8 text (or not in NFC); "
						"save the file as 'CSV UTF-8'", src, cell->line, cell->col);
				goto out;
			}
			if ((rc = vl_buf_putc(&text, '\0')) < 0)
				goto out;
			c->ncells++;
			row->n++;
			if (i < len && buf[i] == ',') {
				i++;
				continue;
			}
			break;
		}
		/* End of the row: CRLF, LF or the end of the file. */
		if (i < len && buf[i] == '\r') {
			if (i + 1 >= len || buf[i + 1] != '\n') {
				rc = vl_error_set(VL_EINVALID, "%s:%d:%d: a CR without LF; lines end with CRLF or LF",
						src, line, (int)(i - linestart + 1));
				goto out;
			}
			i++;
		}
		if (i < len) {
			i++; /* the LF */
			line++;
			linestart = i;
		}
	}
	c->text = vl_buf_detach(&text, NULL);
	if (!c->text && !(c->text = calloc(1, 1))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
	goto out;
nul:
	rc = vl_error_set(VL_EINVALID, "%s:%d: a NUL byte; a CSV file is text", src, line);
	goto out;
cellbig:
	rc = vl_error_set(VL_ETOOBIG, "%s:%d:%d: a cell of more than %zu bytes", src, cell->line, cell->col,
			lim->max_cell);
out:
	vl_buf_free(&text);
	vl_csv_free(c);
	return rc;
}

int vl_csv_is_csv(const char *path, const char *buf, size_t len)
{
	size_t pl = path ? strlen(path) : 0;

	if (pl >= 4 && path[pl - 4] == '.' && (path[pl - 3] | 0x20) == 'c' && (path[pl - 2] | 0x20) == 's' &&
			(path[pl - 1] | 0x20) == 'v')
		return 1;
	return len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0;
}

/* ---- rows as record data --------------------------------------------------- */

static int ascii_casecmp(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a, y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;
		if (x != y)
			return x - y;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

/* The field a header names: name, Chinese label, English label (ASCII
 * case-insensitive); surrounding spaces ignored. */
static const vl_field *header_field(const vl_schema *s, const char *h)
{
	char t[256];
	size_t l = strlen(h), i;

	while (l && (*h == ' ' || *h == '\t')) {
		h++;
		l--;
	}
	while (l && (h[l - 1] == ' ' || h[l - 1] == '\t'))
		l--;
	if (l >= sizeof(t))
		return NULL;
	memcpy(t, h, l);
	t[l] = '\0';
	for (i = 0; i < s->nfields; i++)
		if (!strcmp(s->fields[i].name, t) || (s->fields[i].label_zh && !strcmp(s->fields[i].label_zh, t)))
			return &s->fields[i];
	for (i = 0; i < s->nfields; i++)
		if (s->fields[i].label_en && !ascii_casecmp(s->fields[i].label_en, t))
			return &s->fields[i];
	return NULL;
}

/* A spreadsheet's column letters for 0-based column j: A..Z, AA.. */
static void col_letters(char out[8], size_t j)
{
	char tmp[8];
	size_t n = 0, k;

	j++;
	while (j && n < sizeof(tmp) - 1) {
		tmp[n++] = (char)('A' + (j - 1) % 26);
		j = (j - 1) / 26;
	}
	for (k = 0; k < n; k++)
		out[k] = tmp[n - 1 - k];
	out[n] = '\0';
}

/* The header as written, cut at 60 bytes on a UTF-8 boundary, for messages. */
static int put_header(vl_buf *b, const char *h)
{
	size_t l = strlen(h);

	if (l > 60) {
		l = 60;
		while (l && ((unsigned char)h[l] & 0xC0) == 0x80)
			l--;
	}
	return vl_buf_put(b, h, l);
}

typedef struct {
	vl_buf *bad;
	size_t nlines;      /* problem lines */
	size_t nbadrows;
} bad_ctx;

/* One problem line for row ri (0-based index into rows; the spreadsheet row
 * is ri + 1), column j (or (size_t)-1 for none). */
static int bad_line(bad_ctx *b, const vl_csv *c, size_t ri, size_t j, const char *header, const char *rule)
{
	char letters[8];
	const vl_csv_row *r = &c->rows[ri];
	vl_buf h = VL_BUF_INIT;
	int rc;

	b->nlines++;
	if (!b->bad || b->nlines > BAD_MAX_LINES)
		return 0;
	if (j == (size_t)-1)
		return vl_buf_printf(b->bad, _("row %zu (line %d): %s\n"), ri + 1, r->line, rule);
	/* One whole sentence per line, so a translation can order it. */
	col_letters(letters, j);
	if ((rc = put_header(&h, header)) == 0)
		rc = vl_buf_printf(b->bad, _("row %zu, column %zu '%s' (cell %s%zu, line %d): %s\n"), ri + 1, j + 1,
				h.ptr ? h.ptr : "", letters, ri + 1, j < r->n ? c->cells[r->first + j].line : r->line, rule);
	vl_buf_free(&h);
	return rc;
}

/*
 * A message of set_text or validate about one field, in any of the forms
 * schemas/schema.c's field_msg writes: English "field 'PATH': RULE", the
 * Chinese catalog's "LABEL（PATH）：RULE" (label first) or "字段“PATH”：RULE".
 * 1 with the top field of PATH in field (before any '.' or '[') and *rule
 * at RULE; 0 when msg has none of the forms (*rule = msg).
 */
static int field_msg(char field[128], const char **rule, const char *msg, size_t len)
{
	static const struct { const char *open, *close; } forms[] = {
		{ "field '", "': " }, { "字段“", "”：" },
	};
	static const char lp[] = "（", rp[] = "）：";
	size_t i, k, ol, cl, fl, start = 0, end = 0;
	const char *p;

	*rule = msg;
	field[0] = '\0';
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]) && !end; i++) {
		ol = strlen(forms[i].open);
		cl = strlen(forms[i].close);
		if (len <= ol || strncmp(msg, forms[i].open, ol))
			continue;
		for (k = ol; k + cl <= len && strncmp(msg + k, forms[i].close, cl); k++)
			;
		if (k + cl <= len) {
			start = ol;
			end = k;
			*rule = msg + k + cl;
		}
	}
	/* LABEL（PATH）：RULE - PATH is the field's id, ASCII. */
	for (k = 0; !end && k + sizeof(rp) - 1 <= len; k++) {
		if (strncmp(msg + k, rp, sizeof(rp) - 1))
			continue;
		for (p = msg + k; p > msg && (isalnum((unsigned char)p[-1]) || strchr("_.[]", p[-1])); p--)
			;
		if (p < msg + k && (size_t)(p - msg) >= sizeof(lp) - 1 &&
				!strncmp(p - (sizeof(lp) - 1), lp, sizeof(lp) - 1)) {
			start = (size_t)(p - msg);
			end = k;
			*rule = msg + k + sizeof(rp) - 1;
		}
		break;
	}
	if (!end)
		return 0;
	for (fl = 0; start + fl < end && msg[start + fl] != '.' && msg[start + fl] != '[' && fl < 127; fl++)
		field[fl] = msg[start + fl];
	field[fl] = '\0';
	return 1;
}

/* The rule of a "field 'X': RULE" message, or the whole message. */
static const char *rule_of(const char *msg)
{
	char field[128];
	const char *rule;

	field_msg(field, &rule, msg, strlen(msg));
	return rule;
}

/* A cell's text with the export's formula neutralisation undone: one
 * leading ' dropped when = + - @ TAB CR or ' follows. */
static const char *unneutralise(const char *t)
{
	if (t[0] == '\'' && t[1] && strchr("=+-@\t\r'", t[1]))
		return t + 1;
	return t;
}

/* Check one data row into *out (NULL when bad: its problems listed). */
static int row_data(vl_value **out, bad_ctx *b, const vl_schema *s, const vl_csv *c, size_t ri,
		const vl_field *const *cols, unsigned char *failed)
{
	const vl_csv_row *r = &c->rows[ri], *hdr = &c->rows[0];
	vl_value *data = NULL;
	vl_buf diag = VL_BUF_INIT, rule = VL_BUF_INIT;
	size_t j, before = b->nlines;
	int rc = 0;

	*out = NULL;
	if (!(data = vl_value_new(VL_V_MAP)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	/* The row's line, so import names it as it names a YAML record's. */
	data->line = r->line;
	memset(failed, 0, hdr->n);
	for (j = 0; j < r->n; j++) {
		const char *t = unneutralise(vl_csv_text(c, r, j));
		if (!*t || !cols[j])
			continue;
		rc = vl_schema_set_text(s, data, cols[j]->name, t);
		if (rc == VL_ENOMEM)
			goto out;
		if (rc < 0) {
			const vl_field *f = cols[j];
			failed[j] = 1;
			vl_buf_clear(&rule);
			/* A map or list of maps is parsed as YAML, whose message may
			 * quote the text: say only what was expected. */
			if (f->type == VL_T_MAP || (f->type == VL_T_LIST && f->item_type == VL_T_MAP))
				rc = vl_buf_puts(&rule, _("not YAML flow text (like [a, b] or {k: v})"));
			else
				rc = vl_buf_puts(&rule, rule_of(vl_error_last()));
			if (rc < 0 || (rc = bad_line(b, c, ri, j, vl_csv_text(c, hdr, j), rule.ptr)) < 0)
				goto out;
		}
	}
	rc = 0;
	if ((rc = vl_schema_apply_defaults(s, data)) < 0)
		goto out;
	if ((rc = vl_schema_validate(s, data, 0, &diag)) == VL_ENOMEM)
		goto out; /* ours: an error, not a bad row */
	if (rc < 0) {
		const char *p = diag.ptr ? diag.ptr : "";
		while (*p) {
			const char *nl = strchr(p, '\n'), *lrule;
			size_t ll = nl ? (size_t)(nl - p) : strlen(p);
			char field[128];
			size_t col = (size_t)-1;
			/* "field 'PATH': RULE": the column is the top field of PATH. */
			int named = field_msg(field, &lrule, p, ll);
			if (named)
				for (j = 0; j < hdr->n; j++)
					if (cols[j] && !strcmp(cols[j]->name, field))
						col = j;
			vl_buf_clear(&rule);
			if ((rc = vl_buf_put(&rule, p, ll)) < 0)
				goto out;
			if (col == (size_t)-1 || !failed[col]) {
				if (col == (size_t)-1 && named && vl_schema_field(s, field) && !vl_value_map_get(data, field)) {
					/* No column for a required field: name it (the field is
					 * known and absent; not told by the rule's words, which
					 * are translated). */
					vl_buf tmp = VL_BUF_INIT;
					const vl_field *f = vl_schema_field(s, field);
					rc = vl_buf_printf(&tmp, _("%s: no column '%s' (%s) and no default"), rule_of(rule.ptr),
							f && f->label_zh ? f->label_zh : field, field);
					if (rc == 0)
						rc = bad_line(b, c, ri, (size_t)-1, NULL, tmp.ptr);
					vl_buf_free(&tmp);
				} else {
					rc = bad_line(b, c, ri, col, col != (size_t)-1 ? vl_csv_text(c, hdr, col) : NULL,
							rule_of(rule.ptr));
				}
				if (rc < 0)
					goto out;
			}
			p += ll + (nl ? 1 : 0);
		}
	}
	if (b->nlines > before) {
		b->nbadrows++;
		rc = 0;
		goto out;
	}
	*out = data;
	data = NULL;
	rc = 0;
out:
	vl_value_free(data);
	vl_buf_free(&diag);
	vl_buf_free(&rule);
	return rc;
}

int vl_csv_records(vl_value **out, vl_buf *bad, const vl_schema *s, const char *buf, size_t len, const char *src)
{
	vl_csv *c = NULL;
	vl_value *list = NULL, *data = NULL;
	const vl_field **cols = NULL;
	unsigned char *failed = NULL;
	vl_buf known = VL_BUF_INIT;
	bad_ctx b;
	const vl_csv_row *hdr;
	size_t i, j, ndata = 0;
	int rc;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	b.bad = bad;
	if ((rc = vl_csv_parse(&c, buf, len, &vl_csv_import_limits, src)) < 0)
		goto out;
	hdr = &c->rows[0];
	if (!(cols = calloc(hdr->n, sizeof(*cols))) || !(failed = calloc(hdr->n, 1)) ||
			!(list = vl_value_new(VL_V_LIST))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	/* A first row that names no field at all is data, not a header: say so
	 * without echoing it (it may be a person's record). */
	for (j = 0, i = 0; j < hdr->n; j++)
		i += header_field(s, vl_csv_text(c, hdr, j)) != NULL;
	if (i == 0) {
		rc = vl_error_set(VL_EINVALID, "%s: the first row names no field of ledger '%s' (its text is not shown); "
				"is the header row missing? The first row holds the fields' Chinese labels or names, "
				"as 'vledger schema show %s' lists them", src, s->name, s->name);
		goto out;
	}
	for (j = 0; j < hdr->n; j++) {
		const char *h = vl_csv_text(c, hdr, j);
		char letters[8];
		col_letters(letters, j);
		if (!*h) {
			/* A column without a header (spreadsheets save formatted empty
			 * columns) is ignored when it holds nothing. */
			for (i = 1; i < c->nrows; i++)
				if (j < c->rows[i].n && *vl_csv_text(c, &c->rows[i], j)) {
					rc = vl_error_set(VL_EINVALID, "%s: column %zu (%s) holds values but has no header; "
							"name its field in row 1 or delete the column", src, j + 1, letters);
					goto out;
				}
			continue;
		}
		if (!(cols[j] = header_field(s, h))) {
			for (i = 0; i < s->nfields; i++)
				if ((rc = vl_buf_printf(&known, "%s%s", i ? ", " : "",
						s->fields[i].label_zh ? s->fields[i].label_zh : s->fields[i].name)) < 0)
					goto out;
			if ((rc = vl_buf_printf(&known, _(" (or the field names of 'vledger schema show %s')"), s->name)) < 0)
				goto out;
			rc = vl_error_set(VL_EINVALID, "%s: column %zu (%s1) header '%.60s' is not a field of ledger '%s'; "
					"the headers are %s", src, j + 1, letters, *h ? h : _("(empty)"), s->name, known.ptr);
			goto out;
		}
		for (i = 0; i < j; i++)
			if (cols[i] && cols[i] == cols[j]) {
				rc = vl_error_set(VL_EINVALID, "%s: columns %zu and %zu both hold field '%s'; keep one",
						src, i + 1, j + 1, cols[j]->name);
				goto out;
			}
	}
	for (i = 1; i < c->nrows; i++) {
		const vl_csv_row *r = &c->rows[i];
		int empty = 1;
		for (j = 0; j < r->n && empty; j++)
			empty = !*vl_csv_text(c, r, j);
		if (empty)
			continue;
		if (r->n != hdr->n) {
			vl_buf msg = VL_BUF_INIT;
			if ((rc = vl_buf_printf(&msg, _("the row has %zu cells, the header %zu"), r->n, hdr->n)) == 0)
				rc = bad_line(&b, c, i, (size_t)-1, NULL, msg.ptr);
			vl_buf_free(&msg);
			if (rc < 0)
				goto out;
			b.nbadrows++;
			continue;
		}
		if ((rc = row_data(&data, &b, s, c, i, cols, failed)) < 0)
			goto out;
		if (data) {
			rc = vl_value_list_push(list, data);
			data = NULL;
			if (rc < 0)
				goto out;
			ndata++;
		}
	}
	if (b.nbadrows) {
		if (bad && b.nlines > BAD_MAX_LINES && (rc = vl_buf_printf(bad, _("... and %zu more problems\n"),
				b.nlines - BAD_MAX_LINES)) < 0)
			goto out;
		rc = vl_error_set(VL_EINVALID, "%s: %zu of %zu rows break ledger '%s' rules (%zu problems listed "
				"by row, column and cell; values are not shown); nothing was imported: fix the rows "
				"and import again", src, b.nbadrows, b.nbadrows + ndata, s->name, b.nlines);
		goto out;
	}
	*out = list;
	list = NULL;
	rc = 0;
out:
	vl_csv_free(c);
	vl_value_free(list);
	vl_value_free(data);
	free(cols);
	free(failed);
	vl_buf_free(&known);
	return rc;
}

/* ---- records as CSV -------------------------------------------------------- */

/* One cell, quoted when needed, neutralised when it looks like a formula. */
static int put_cell(vl_buf *out, const char *t, size_t len)
{
	size_t i;
	int quote = 0, rc;

	for (i = 0; i < len && !quote; i++)
		quote = t[i] == ',' || t[i] == '"' || t[i] == '\r' || t[i] == '\n';
	if (quote && (rc = vl_buf_putc(out, '"')) < 0)
		return rc;
	if (len && strchr("=+-@\t\r'", t[0]) && (rc = vl_buf_putc(out, '\'')) < 0)
		return rc;
	for (i = 0; i < len; i++) {
		if (t[i] == '"' && (rc = vl_buf_putc(out, '"')) < 0)
			return rc;
		if ((rc = vl_buf_putc(out, t[i])) < 0)
			return rc;
	}
	return quote ? vl_buf_putc(out, '"') : 0;
}

/* A value's cell text (see csv.h "Cell syntax"). */
static int cell_text(vl_buf *out, const vl_field *f, const vl_value *v)
{
	size_t i;
	int rc;

	if (v->kind == VL_V_BOOL)
		return vl_buf_puts(out, !strcmp(v->s, "true") ? "是" : "否");
	if (v->kind == VL_V_STR && f->nopts && vl_field_enum_label(f, v->s))
		return vl_buf_puts(out, vl_field_enum_label(f, v->s));
	if (v->kind == VL_V_LIST && (f->type == VL_T_SET || f->type == VL_T_LIST) && f->item_type != VL_T_MAP) {
		int plain = 1;
		/* Items joined by 、 unless one holds a separator (then JSON). */
		for (i = 0; i < v->n && plain; i++) {
			const char *t = v->items[i]->s;
			size_t tl = t ? strlen(t) : 0;
			plain = tl && !strchr(t, ',') && !strstr(t, "，") && !strstr(t, "、") &&
					!(i == 0 && t[0] == '[') && t[0] != ' ' && t[tl - 1] != ' ' &&
					v->items[i]->kind != VL_V_NULL;
		}
		if (plain) {
			for (i = 0; i < v->n; i++) {
				const char *l = f->nopts ? vl_field_enum_label(f, v->items[i]->s) : NULL;
				if ((rc = vl_buf_puts(out, i ? "、" : "")) < 0 || (rc = vl_buf_puts(out, l ? l : v->items[i]->s)) < 0)
					return rc;
			}
			return 0;
		}
	}
	if (v->kind == VL_V_LIST || v->kind == VL_V_MAP)
		return vl_json_emit(out, v, 0);
	return vl_buf_puts(out, v->s ? v->s : "");
}

int vl_csv_render(vl_buf *out, const vl_schema *s, const vl_value *const *data, size_t n)
{
	vl_buf cell = VL_BUF_INIT;
	size_t i, k;
	int rc;

	if ((rc = vl_buf_puts(out, "\xEF\xBB\xBF")) < 0)
		goto out;
	for (i = 0; i < s->nfields; i++) {
		const char *h = s->fields[i].label_zh ? s->fields[i].label_zh : s->fields[i].name;
		if ((i && (rc = vl_buf_putc(out, ',')) < 0) || (rc = put_cell(out, h, strlen(h))) < 0)
			goto out;
	}
	if ((rc = vl_buf_puts(out, "\r\n")) < 0)
		goto out;
	for (k = 0; k < n; k++) {
		for (i = 0; i < s->nfields; i++) {
			const vl_value *v = vl_value_map_get(data[k], s->fields[i].name);
			vl_buf_clear(&cell);
			if ((i && (rc = vl_buf_putc(out, ',')) < 0) ||
					(v && v->kind != VL_V_NULL && (rc = cell_text(&cell, &s->fields[i], v)) < 0) ||
					(rc = put_cell(out, cell.ptr ? cell.ptr : "", cell.len)) < 0)
				goto out;
		}
		if ((rc = vl_buf_puts(out, "\r\n")) < 0)
			goto out;
	}
	rc = 0;
out:
	vl_buf_free(&cell);
	return rc;
}
