/* form.c - a ledger's form from its schema, and a submission into
 * assignments (form.h). */
#include "agent/ui/form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/node/tz.h"
#include "store/i18n.h"

/* Append a pair (copies) to a decoded form. */
static int form_add(vl_ui_form *f, const char *name, const char *value)
{
	char **nn, **nv, *a, *b;

	if (f->n >= VL_UI_FIELDS_MAX)
		return vl_error_set(VL_ETOOBIG, "the form has more than %u fields", VL_UI_FIELDS_MAX);
	if (!(nn = realloc(f->names, (f->n + 1) * sizeof(*nn))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	f->names = nn;
	if (!(nv = realloc(f->values, (f->n + 1) * sizeof(*nv))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	f->values = nv;
	a = strdup(name);
	b = strdup(value);
	if (!a || !b) {
		free(a);
		free(b);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	f->names[f->n] = a;
	f->values[f->n] = b;
	f->n++;
	return 0;
}

/* ---- rows ---------------------------------------------------------------- */

static int is_rows_field(const vl_field *f)
{
	return (f->type == VL_T_LIST || f->type == VL_T_SET) && !(f->item_type == VL_T_ENUM && f->type == VL_T_SET);
}

/* Parse a row count or index: digits only, < cap. -1 if not. */
static long small_num(const char *s, long cap)
{
	long v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v >= cap)
			return -1;
	}
	return v;
}

/* Set the first pair named name to value, or add it. */
static int form_put(vl_ui_form *f, const char *name, const char *value)
{
	size_t i;
	char *v;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->names[i], name) == 0) {
			if (!(v = strdup(value)))
				return vl_error_set(VL_ENOMEM, "out of memory");
			free(f->values[i]);
			f->values[i] = v;
			return 0;
		}
	return form_add(f, name, value);
}

/* The row a pair "v.FIELD.K[.SUB]" is in (K), or -1; *rest at what follows K. */
static long row_of(const char *pname, const char *prefix, size_t plen, const char **rest)
{
	const char *p;
	long k = 0;

	if (strncmp(pname, prefix, plen) != 0)
		return -1;
	p = pname + plen;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9' && k < VL_FORM_MAX_ROWS * 10)
		k = k * 10 + (*p++ - '0');
	if (*p && *p != '.')
		return -1;
	*rest = p;
	return k;
}

int vl_form_rows_op(vl_form_action *out, vl_ui_form *f, const vl_schema *s)
{
	const char *op = vl_ui_form_get(f, "op");
	char name[160], rowsname[160], num[24], prefix[160];
	const vl_field *fld;
	const char *colon, *rest;
	long rows, del = -1, k;
	size_t i, plen;

	*out = VL_FORM_SAVE;
	if (!op || strcmp(op, "save") == 0 || (strncmp(op, "add:", 4) != 0 && strncmp(op, "del:", 4) != 0))
		return 0;
	snprintf(name, sizeof(name), "%.120s", op + 4);
	if ((colon = strchr(name, ':')) != NULL) {
		del = small_num(colon + 1, VL_FORM_MAX_ROWS);
		name[colon - name] = '\0';
	}
	fld = vl_schema_field(s, name);
	if (!fld || !is_rows_field(fld) || (op[0] == 'd' && del < 0) || (op[0] == 'a' && colon))
		return vl_error_set(VL_EINVALID, "the form asked for rows of '%.60s', which has none; reload the page",
				name);
	snprintf(rowsname, sizeof(rowsname), "rows.%.120s", name);
	rows = small_num(vl_ui_form_get(f, rowsname), VL_FORM_MAX_ROWS + 1);
	if (rows < 0)
		rows = 0;
	if (op[0] == 'a') {
		if (rows >= VL_FORM_MAX_ROWS)
			return vl_error_set(VL_ETOOBIG, "a list holds at most %d rows here", VL_FORM_MAX_ROWS);
		rows++;
	} else {
		if (del >= rows)
			return vl_error_set(VL_EINVALID, "the form asked to remove a row it does not have; reload the page");
		snprintf(prefix, sizeof(prefix), "v.%.120s.", name);
		plen = strlen(prefix);
		for (i = 0; i < f->n;) {
			k = row_of(f->names[i], prefix, plen, &rest);
			if (k == del) {
				free(f->names[i]);
				free(f->values[i]);
				memmove(f->names + i, f->names + i + 1, (f->n - i - 1) * sizeof(*f->names));
				memmove(f->values + i, f->values + i + 1, (f->n - i - 1) * sizeof(*f->values));
				f->n--;
				continue;
			}
			if (k > del) {
				char *nn;
				size_t need = plen + 24 + strlen(rest);

				if (!(nn = malloc(need)))
					return vl_error_set(VL_ENOMEM, "out of memory");
				snprintf(nn, need, "%s%ld%s", prefix, k - 1, rest);
				free(f->names[i]);
				f->names[i] = nn;
			}
			i++;
		}
		rows--;
	}
	snprintf(num, sizeof(num), "%ld", rows);
	*out = VL_FORM_ROWS;
	return form_put(f, rowsname, num);
}

/* ---- rendering ----------------------------------------------------------- */

/* Append literal HTML (never data: that goes through vl_ui_esc). */
static int put(vl_buf *b, const char *s)
{
	return vl_buf_puts(b, s);
}

static const char *field_label(const vl_field *f)
{
	int en = strcmp(vl_i18n_lang(), "en") == 0;

	if (en && f->label_en)
		return f->label_en;
	return f->label_zh ? f->label_zh : f->label_en ? f->label_en : f->name;
}

static const char *opt_label(const vl_enum_opt *o)
{
	int en = strcmp(vl_i18n_lang(), "en") == 0;

	if (en && o->en)
		return o->en;
	return o->zh ? o->zh : o->en ? o->en : o->value;
}

typedef struct {
	const vl_form_opts *o;
	vl_buf *b;
	vl_buf tmp;
} rctx;

/* The submitted text of a control, or NULL when the form is not a submission. */
static const char *sub_text(const rctx *c, const char *name)
{
	const char *v;

	if (!c->o->submitted)
		return NULL;
	v = vl_ui_form_get(c->o->submitted, name);
	return v ? v : "";
}

/* The text of value v for a control of type t (datetimes in local time,
 * "YYYY-MM-DDTHH:MM[:SS]" as <input type=datetime-local> takes it). */
static const char *value_text(rctx *c, vl_ftype t, const vl_value *v)
{
	char *sp;

	if (!v || !vl_value_text(v) || v->kind == VL_V_NULL)
		return "";
	if (t != VL_T_DATETIME)
		return v->s;
	vl_buf_clear(&c->tmp);
	if (vl_time_show(&c->tmp, v->s, c->o->tz_min) < 0 || !c->tmp.ptr)
		return v->s;
	/* "YYYY-MM-DD HH:MM[:SS] +08:00" */
	if ((sp = strrchr(c->tmp.ptr, ' ')) != NULL && sp - c->tmp.ptr > 10 && c->tmp.ptr[10] == ' ') {
		*sp = '\0';
		c->tmp.ptr[10] = 'T';
	}
	return c->tmp.ptr;
}

/* <option>s of an enum, v selected. */
static int enum_options(vl_buf *b, const vl_field *f, const char *sel)
{
	size_t i;
	int rc = put(b, "<option value=\"\"></option>");

	for (i = 0; i < f->nopts && rc >= 0; i++) {
		if ((rc = put(b, "<option value=\"")) < 0 || (rc = vl_ui_esc(b, f->opts[i].value)) < 0 ||
				(rc = put(b, sel && !strcmp(sel, f->opts[i].value) ? "\" selected>" : "\">")) < 0 ||
				(rc = vl_ui_esc(b, opt_label(&f->opts[i]))) < 0)
			break;
		rc = put(b, "</option>");
	}
	return rc;
}

static const vl_form_choices *choices_for(const vl_form_opts *o, const char *ledger)
{
	size_t i;

	for (i = 0; ledger && o->refs && i < o->nrefs; i++)
		if (o->refs[i].ledger && !strcmp(o->refs[i].ledger, ledger))
			return &o->refs[i];
	return NULL;
}

/* One scalar control of type t (field f: its options and ref), named and
 * identified as given, showing text. */
static int scalar_control(rctx *c, const vl_field *f, vl_ftype t, const char *name, const char *id,
		const char *text, const char *placeholder)
{
	vl_buf *b = c->b;
	const char *type = "text";
	int rc;

	if ((t == VL_T_ENUM && f->nopts) || t == VL_T_BOOL) {
		if ((rc = put(b, "<select name=\"")) < 0 || (rc = vl_ui_esc(b, name)) < 0 ||
				(rc = put(b, "\" id=\"")) < 0 || (rc = vl_ui_esc(b, id)) < 0 || (rc = put(b, "\">")) < 0)
			return rc;
		if (t == VL_T_BOOL) {
			if ((rc = vl_buf_printf(b, "<option value=\"\"></option><option value=\"true\"%s>%s</option>"
					"<option value=\"false\"%s>%s</option>", !strcmp(text, "true") ? " selected" : "",
					_("yes"), !strcmp(text, "false") ? " selected" : "", _("no"))) < 0)
				return rc;
		} else if ((rc = enum_options(b, f, text)) < 0) {
			return rc;
		}
		return put(b, "</select>");
	}
	if (t == VL_T_REF) {
		const vl_form_choices *ch = choices_for(c->o, f->ref);
		size_t i;
		int found = 0;

		if (ch && ch->n <= VL_FORM_SELECT_MAX) {
			if ((rc = put(b, "<select name=\"")) < 0 || (rc = vl_ui_esc(b, name)) < 0 ||
					(rc = put(b, "\" id=\"")) < 0 || (rc = vl_ui_esc(b, id)) < 0 ||
					(rc = put(b, "\"><option value=\"\"></option>")) < 0)
				return rc;
			for (i = 0; i < ch->n; i++) {
				int sel = !strcmp(text, ch->v[i].id);

				found |= sel;
				if ((rc = put(b, "<option value=\"")) < 0 || (rc = vl_ui_esc(b, ch->v[i].id)) < 0 ||
						(rc = put(b, sel ? "\" selected>" : "\">")) < 0 ||
						(rc = vl_ui_esc(b, ch->v[i].label ? ch->v[i].label : ch->v[i].id)) < 0 ||
						(rc = put(b, "</option>")) < 0)
					return rc;
			}
			/* A value that is not among the choices stays choosable as it is. */
			if (!found && *text && ((rc = put(b, "<option selected value=\"")) < 0 || (rc = vl_ui_esc(b, text)) < 0 ||
					(rc = put(b, "\">")) < 0 || (rc = vl_ui_esc(b, text)) < 0 || (rc = put(b, "</option>")) < 0))
				return rc;
			return put(b, "</select>");
		}
		if (ch) {
			if ((rc = put(b, "<datalist id=\"dl-")) < 0 || (rc = vl_ui_esc(b, id)) < 0 || (rc = put(b, "\">")) < 0)
				return rc;
			for (i = 0; i < ch->n; i++)
				if ((rc = put(b, "<option value=\"")) < 0 || (rc = vl_ui_esc(b, ch->v[i].id)) < 0 ||
						(rc = put(b, "\" label=\"")) < 0 ||
						(rc = vl_ui_esc(b, ch->v[i].label ? ch->v[i].label : ch->v[i].id)) < 0 ||
						(rc = put(b, "\"></option>")) < 0)
					return rc;
			if ((rc = put(b, "</datalist>")) < 0)
				return rc;
		}
		if ((rc = put(b, "<input type=\"text\" name=\"")) < 0 || (rc = vl_ui_esc(b, name)) < 0 ||
				(rc = put(b, "\" id=\"")) < 0 || (rc = vl_ui_esc(b, id)) < 0 ||
				(ch && ((rc = put(b, "\" list=\"dl-")) < 0 || (rc = vl_ui_esc(b, id)) < 0)) ||
				(rc = put(b, "\" value=\"")) < 0 || (rc = vl_ui_esc(b, text)) < 0 || (rc = put(b, "\">")) < 0)
			return rc;
		return 0;
	}
	if (t == VL_T_TEXT) {
		if ((rc = put(b, "<textarea rows=\"3\" name=\"")) < 0 || (rc = vl_ui_esc(b, name)) < 0 ||
				(rc = put(b, "\" id=\"")) < 0 || (rc = vl_ui_esc(b, id)) < 0 ||
				(placeholder && ((rc = put(b, "\" placeholder=\"")) < 0 || (rc = vl_ui_esc(b, placeholder)) < 0)) ||
				(rc = put(b, "\">")) < 0 || (rc = vl_ui_esc(b, text)) < 0)
			return rc;
		return put(b, "</textarea>");
	}
	if (t == VL_T_DATE)
		type = "date";
	else if (t == VL_T_DATETIME)
		type = "datetime-local\" step=\"1";
	else if (t == VL_T_PHONE || t == VL_T_CN_MOBILE)
		type = "tel";
	if ((rc = vl_buf_printf(b, "<input type=\"%s\"%s name=\"", type,
			t == VL_T_INT || t == VL_T_DECIMAL ? " inputmode=\"decimal\"" : "")) < 0 ||
			(rc = vl_ui_esc(b, name)) < 0 || (rc = put(b, "\" id=\"")) < 0 || (rc = vl_ui_esc(b, id)) < 0 ||
			(placeholder && ((rc = put(b, "\" placeholder=\"")) < 0 || (rc = vl_ui_esc(b, placeholder)) < 0)) ||
			(rc = put(b, "\" value=\"")) < 0 || (rc = vl_ui_esc(b, text)) < 0)
		return rc;
	return put(b, "\">");
}

/* The problems about field name, each beside it. */
static int field_errors(rctx *c, const char *name)
{
	const vl_field_errors *e = c->o->errors;
	size_t i, k = strlen(name);
	int rc;

	for (i = 0; e && i < e->n; i++) {
		const char *fn = e->v[i].field;

		if (strncmp(fn, name, k) != 0 || (fn[k] && fn[k] != '[' && fn[k] != '.'))
			continue;
		if ((rc = put(c->b, "<p class=\"field-error\" role=\"alert\" id=\"err-")) < 0 ||
				(rc = vl_ui_esc(c->b, name)) < 0 || (rc = put(c->b, "\">")) < 0 ||
				(rc = vl_ui_esc(c->b, e->v[i].message)) < 0 || (rc = put(c->b, "</p>")) < 0)
			return rc;
	}
	return 0;
}

/* The number of rows list field f shows. */
static long rows_shown(rctx *c, const vl_field *f, const vl_value *cur)
{
	char rn[160];
	long rows;

	if (c->o->submitted) {
		snprintf(rn, sizeof(rn), "rows.%s", f->name);
		rows = small_num(vl_ui_form_get(c->o->submitted, rn), VL_FORM_MAX_ROWS + 1);
		return rows < 0 ? 0 : rows;
	}
	rows = cur && cur->kind == VL_V_LIST ? (long)cur->n : 0;
	if (rows > VL_FORM_MAX_ROWS)
		rows = VL_FORM_MAX_ROWS;
	return rows ? rows : 1;
}

static int row_buttons(rctx *c, const vl_field *f, long k)
{
	if (k >= 0)
		return vl_buf_printf(c->b, "<button type=\"submit\" class=\"row-del\" name=\"op\" "
				"value=\"del:%s:%ld\" formnovalidate>%s</button>", f->name, k, _("Remove row"));
	return vl_buf_printf(c->b, "<button type=\"submit\" class=\"row-add\" name=\"op\" value=\"add:%s\" "
			"formnovalidate>%s</button>", f->name, _("Add row"));
}

/* A list (or a set of non-enum scalars) as rows. */
static int rows_control(rctx *c, const vl_field *f, const vl_value *cur)
{
	vl_buf name = VL_BUF_INIT, id = VL_BUF_INIT;
	long rows = rows_shown(c, f, cur), k;
	size_t j;
	int rc;

	if ((rc = vl_buf_printf(c->b, "<input type=\"hidden\" name=\"rows.%s\" value=\"%ld\">", f->name, rows)) < 0)
		goto out;
	if (f->item_type == VL_T_MAP) {
		if ((rc = put(c->b, "<table class=\"rows\"><thead><tr>")) < 0)
			goto out;
		for (j = 0; j < f->nitem_fields; j++)
			if ((rc = put(c->b, "<th>")) < 0 || (rc = vl_ui_esc(c->b, field_label(&f->item_fields[j]))) < 0 ||
					(rc = put(c->b, f->item_fields[j].required ? " *</th>" : "</th>")) < 0)
				goto out;
		if ((rc = put(c->b, "<th></th></tr></thead><tbody>")) < 0)
			goto out;
	} else if ((rc = put(c->b, "<div class=\"rows\">")) < 0) {
		goto out;
	}
	for (k = 0; k < rows; k++) {
		const vl_value *it = cur && cur->kind == VL_V_LIST && (size_t)k < cur->n ? cur->items[k] : NULL;

		if (f->item_type == VL_T_MAP) {
			if ((rc = put(c->b, "<tr>")) < 0)
				goto out;
			for (j = 0; j < f->nitem_fields; j++) {
				const vl_field *sf = &f->item_fields[j];
				const char *t;

				vl_buf_clear(&name);
				vl_buf_clear(&id);
				if ((rc = vl_buf_printf(&name, "v.%s.%ld.%s", f->name, k, sf->name)) < 0 ||
						(rc = vl_buf_printf(&id, "in-%s-%ld-%s", f->name, k, sf->name)) < 0)
					goto out;
				t = sub_text(c, name.ptr);
				if (!t)
					t = value_text(c, sf->type, it ? vl_value_map_get(it, sf->name) : NULL);
				if ((rc = put(c->b, "<td>")) < 0 ||
						(rc = scalar_control(c, sf, sf->type, name.ptr, id.ptr, t, NULL)) < 0 ||
						(rc = put(c->b, "</td>")) < 0)
					goto out;
			}
			if ((rc = put(c->b, "<td>")) < 0 || (rc = row_buttons(c, f, k)) < 0 ||
					(rc = put(c->b, "</td></tr>")) < 0)
				goto out;
		} else {
			const char *t;

			vl_buf_clear(&name);
			vl_buf_clear(&id);
			if ((rc = vl_buf_printf(&name, "v.%s.%ld", f->name, k)) < 0 ||
					(rc = vl_buf_printf(&id, "in-%s-%ld", f->name, k)) < 0)
				goto out;
			t = sub_text(c, name.ptr);
			if (!t)
				t = value_text(c, f->item_type, it);
			if ((rc = put(c->b, "<div class=\"row\">")) < 0 ||
					(rc = scalar_control(c, f, f->item_type, name.ptr, id.ptr, t, NULL)) < 0 ||
					(rc = row_buttons(c, f, k)) < 0 || (rc = put(c->b, "</div>")) < 0)
				goto out;
		}
	}
	if ((rc = put(c->b, f->item_type == VL_T_MAP ? "</tbody></table>" : "</div>")) < 0 ||
			(rc = row_buttons(c, f, -1)) < 0)
		goto out;
out:
	vl_buf_free(&name);
	vl_buf_free(&id);
	return rc;
}

/* 1 if the submission (or else cur, a LIST) holds element value. */
static int set_has(rctx *c, const char *name, const vl_value *cur, const char *value)
{
	size_t i;

	if (c->o->submitted) {
		for (i = 0; i < c->o->submitted->n; i++)
			if (!strcmp(c->o->submitted->names[i], name) && !strcmp(c->o->submitted->values[i], value))
				return 1;
		return 0;
	}
	for (i = 0; cur && cur->kind == VL_V_LIST && i < cur->n; i++)
		if (vl_value_text(cur->items[i]) && !strcmp(cur->items[i]->s, value))
			return 1;
	return 0;
}

static int one_field(rctx *c, const vl_field *f)
{
	const vl_value *cur = c->o->data ? vl_value_map_get(c->o->data, f->name) : NULL;
	vl_buf name = VL_BUF_INIT, id = VL_BUF_INIT;
	int hidden_pii = c->o->edit && f->pii, rc;
	size_t i;

	if (!c->o->data && !c->o->edit && f->def && vl_value_text(f->def) &&
			!((f->type == VL_T_DATE && !strcmp(f->def->s, "today")) ||
			(f->type == VL_T_DATETIME && !strcmp(f->def->s, "now"))))
		cur = f->def;
	if ((rc = vl_buf_printf(&name, "v.%s", f->name)) < 0 || (rc = vl_buf_printf(&id, "in-%s", f->name)) < 0)
		goto out;
	if ((rc = vl_buf_printf(c->b, "<div class=\"field%s%s\" id=\"field-%s\">",
			c->o->errors && vl_field_errors_find(c->o->errors, f->name) ? " has-error" : "",
			f->pii ? " pii" : "", f->name)) < 0)
		goto out;
	/* A set of check boxes is a group: its label is a legend-like span. */
	if ((rc = put(c->b, f->type == VL_T_SET && f->item_type == VL_T_ENUM ? "<span class=\"label\">" :
			"<label for=\"")) < 0)
		goto out;
	if (!(f->type == VL_T_SET && f->item_type == VL_T_ENUM) &&
			((rc = vl_ui_esc(c->b, id.ptr)) < 0 || (rc = put(c->b, "\">")) < 0))
		goto out;
	if ((rc = vl_ui_esc(c->b, field_label(f))) < 0 ||
			(f->required && (rc = vl_buf_printf(c->b, " <abbr class=\"req\" title=\"%s\">*</abbr>",
			_("required"))) < 0) ||
			(f->pii && (rc = vl_buf_printf(c->b, " <span class=\"pii-mark\">%s</span>", _("personal"))) < 0) ||
			(rc = put(c->b, f->type == VL_T_SET && f->item_type == VL_T_ENUM ? "</span>" : "</label>")) < 0)
		goto out;
	if (hidden_pii && (f->type == VL_T_SET || f->type == VL_T_LIST || f->type == VL_T_MAP)) {
		rc = vl_buf_printf(c->b, "<p class=\"note\">%s</p>",
				_("This personal field is edited from the command line."));
		if (rc < 0)
			goto out;
	} else if (f->type == VL_T_SET && f->item_type == VL_T_ENUM) {
		if ((rc = vl_buf_printf(c->b, "<input type=\"hidden\" name=\"rows.%s\" value=\"%zu\">"
				"<div class=\"checks\">", f->name, f->nopts)) < 0)
			goto out;
		for (i = 0; i < f->nopts; i++)
			if ((rc = vl_buf_printf(c->b, "<label class=\"check\"><input type=\"checkbox\" name=\"v.%s\" "
					"value=\"", f->name)) < 0 || (rc = vl_ui_esc(c->b, f->opts[i].value)) < 0 ||
					(rc = put(c->b, set_has(c, name.ptr, cur, f->opts[i].value) ? "\" checked> " : "\"> ")) < 0 ||
					(rc = vl_ui_esc(c->b, opt_label(&f->opts[i]))) < 0 || (rc = put(c->b, "</label>")) < 0)
				goto out;
		if ((rc = put(c->b, "</div>")) < 0)
			goto out;
	} else if (f->type == VL_T_SET || f->type == VL_T_LIST) {
		if ((rc = rows_control(c, f, cur)) < 0)
			goto out;
	} else if (f->type == VL_T_MAP) {
		for (i = 0; i < f->nitem_fields; i++) {
			const vl_field *sf = &f->item_fields[i];
			vl_buf sn = VL_BUF_INIT, si = VL_BUF_INIT;
			const char *t;

			if ((rc = vl_buf_printf(&sn, "v.%s.%s", f->name, sf->name)) < 0 ||
					(rc = vl_buf_printf(&si, "in-%s-%s", f->name, sf->name)) < 0) {
				vl_buf_free(&sn);
				vl_buf_free(&si);
				goto out;
			}
			t = sub_text(c, sn.ptr);
			if (!t)
				t = value_text(c, sf->type, cur ? vl_value_map_get(cur, sf->name) : NULL);
			rc = put(c->b, "<div class=\"sub\"><label for=\"");
			if (rc >= 0 && (rc = vl_ui_esc(c->b, si.ptr)) >= 0 && (rc = put(c->b, "\">")) >= 0 &&
					(rc = vl_ui_esc(c->b, field_label(sf))) >= 0 && (rc = put(c->b, "</label>")) >= 0 &&
					(rc = scalar_control(c, sf, sf->type, sn.ptr, si.ptr, t, NULL)) >= 0)
				rc = put(c->b, "</div>");
			vl_buf_free(&sn);
			vl_buf_free(&si);
			if (rc < 0)
				goto out;
		}
	} else {
		const char *t = sub_text(c, name.ptr);

		if (!t)
			t = hidden_pii ? "" : value_text(c, f->type, cur);
		if ((rc = scalar_control(c, f, f->type, name.ptr, id.ptr, t,
				hidden_pii && cur ? _("saved; leave empty to keep it") : NULL)) < 0)
			goto out;
		if (hidden_pii && cur) {
			const char *cl;

			vl_buf_clear(&name);
			if ((rc = vl_buf_printf(&name, "clear.%s", f->name)) < 0)
				goto out;
			cl = sub_text(c, name.ptr);
			if ((rc = vl_buf_printf(c->b, "<label class=\"check clear\"><input type=\"checkbox\" "
					"name=\"clear.%s\" value=\"1\"%s> %s</label>", f->name, cl && *cl ? " checked" : "",
					_("remove this value"))) < 0)
				goto out;
		}
	}
	if ((rc = field_errors(c, f->name)) < 0 || (rc = put(c->b, "</div>\n")) < 0)
		goto out;
out:
	vl_buf_free(&name);
	vl_buf_free(&id);
	return rc;
}

int vl_form_render(vl_buf *out, const vl_form_opts *o)
{
	rctx c;
	size_t i, nother = 0;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.b = out;
	/* Problems of no field of the form (the record as a whole) on top. */
	for (i = 0; o->errors && i < o->errors->n; i++) {
		const char *fn = o->errors->v[i].field;
		char top[130];
		size_t k = strcspn(fn, "[.");

		snprintf(top, sizeof(top), "%.*s", (int)(k < 128 ? k : 128), fn);
		if (*fn && vl_schema_field(o->schema, top))
			continue;
		if ((!nother++ && (rc = vl_buf_printf(out, "<div class=\"form-errors\" role=\"alert\"><p>%s</p><ul>",
				_("Nothing was saved:"))) < 0) || (rc = put(out, "<li>")) < 0 ||
				(rc = vl_ui_esc(out, o->errors->v[i].message)) < 0 || (rc = put(out, "</li>")) < 0)
			goto out;
	}
	if (nother && (rc = put(out, "</ul></div>\n")) < 0)
		goto out;
	for (i = 0; i < o->schema->nfields; i++)
		if ((rc = one_field(&c, &o->schema->fields[i])) < 0)
			goto out;
	rc = vl_buf_printf(out, "<div class=\"actions\"><button type=\"submit\" name=\"op\" value=\"save\" "
			"class=\"primary\">%s</button></div>\n", _("Save"));
out:
	vl_buf_free(&c.tmp);
	return rc;
}

/* ---- assignments --------------------------------------------------------- */

void vl_form_assign_free(vl_form_assign *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nsets; i++)
		free(a->sets[i]);
	for (i = 0; i < a->nunsets; i++)
		free(a->unsets[i]);
	for (i = 0; i < a->nadds; i++)
		free(a->adds[i]);
	for (i = 0; i < a->nremoves; i++)
		free(a->removes[i]);
	free(a->sets);
	free(a->unsets);
	free(a->adds);
	free(a->removes);
	memset(a, 0, sizeof(*a));
}

void vl_form_edit_opts(vl_edit_opts *o, const vl_form_assign *a)
{
	o->sets = (const char *const *)a->sets;
	o->nsets = a->nsets;
	o->unsets = (const char *const *)a->unsets;
	o->nunsets = a->nunsets;
	o->adds = (const char *const *)a->adds;
	o->nadds = a->nadds;
	o->removes = (const char *const *)a->removes;
	o->nremoves = a->nremoves;
	o->replace = a->replace;
}

/* Append "NAME=" text to the list *v (taking text from buf). */
static int push_assign(char ***v, size_t *n, const char *field, const char *text)
{
	char **nv, *s;
	size_t len = strlen(field) + strlen(text) + 2;

	if (!(s = malloc(len)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	snprintf(s, len, "%s=%s", field, text);
	if (!(nv = realloc(*v, (*n + 1) * sizeof(*nv)))) {
		free(s);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	*v = nv;
	nv[(*n)++] = s;
	return 0;
}

/* text as a YAML double-quoted scalar. */
static int yaml_quote(vl_buf *b, const char *t)
{
	int rc = vl_buf_putc(b, '"');

	for (; *t && rc >= 0; t++) {
		unsigned char ch = (unsigned char)*t;

		if (ch == '"' || ch == '\\')
			rc = vl_buf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			rc = vl_buf_printf(b, "\\x%02x", ch);
		else
			rc = vl_buf_putc(b, (char)ch);
	}
	return rc < 0 ? rc : vl_buf_putc(b, '"');
}

/* A scalar of type t in a flow collection: numbers and booleans as plain
 * YAML when they are nothing else, all else quoted (so a text can never
 * break out of its item). */
static int flow_scalar(vl_buf *b, vl_ftype t, const char *text)
{
	size_t i;
	int plain = (t == VL_T_INT || t == VL_T_DECIMAL || t == VL_T_BOOL) && *text;

	for (i = 0; plain && text[i]; i++)
		plain = (text[i] >= '0' && text[i] <= '9') || text[i] == '-' || text[i] == '.' ||
				(t == VL_T_BOOL && text[i] >= 'a' && text[i] <= 'z');
	return plain ? vl_buf_puts(b, text) : yaml_quote(b, text);
}

/* 1 if text is empty or only spaces. */
static int blank(const char *t)
{
	for (; t && *t; t++)
		if (*t != ' ' && *t != '\t' && *t != '\r' && *t != '\n')
			return 0;
	return 1;
}

/* A local "YYYY-MM-DDTHH:MM[:SS]" from a datetime picker: seconds and the
 * network's offset added, so it means the same instant on every node. */
static int datetime_text(vl_buf *out, const char *t, int tz_min)
{
	size_t n = strlen(t), i;
	int ok = n == 16 || n == 19;
	int a = tz_min < 0 ? -tz_min : tz_min;

	for (i = 0; ok && i < n; i++) {
		char ch = t[i];

		ok = i == 4 || i == 7 ? ch == '-' : i == 10 ? ch == 'T' : i == 13 || i == 16 ? ch == ':' :
				ch >= '0' && ch <= '9';
	}
	if (!ok)
		return vl_buf_puts(out, t);
	return vl_buf_printf(out, "%s%s%c%02d:%02d", t, n == 16 ? ":00" : "", tz_min < 0 ? '-' : '+',
			a / 60, a % 60);
}

/* The text a scalar control of type t submitted, made ready for set_text
 * (textareas' CRLF to LF; datetimes with their offset). */
static int scalar_text(vl_buf *out, vl_ftype t, const char *raw, int tz_min)
{
	const char *p;
	int rc = 0;

	vl_buf_clear(out);
	if (t == VL_T_DATETIME)
		return datetime_text(out, raw, tz_min);
	for (p = raw; *p && rc >= 0; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			rc = vl_buf_putc(out, *p);
	if (rc >= 0 && !out->ptr)
		rc = vl_buf_puts(out, "");
	return rc;
}

/* The flow text of list/set field f's rows (or check boxes) into out, and
 * the number of elements into *count. *present 0: the form did not hold f. */
static int list_flow(vl_buf *out, size_t *count, int *present, const vl_field *f, const vl_ui_form *form,
		int tz_min)
{
	char rn[160];
	vl_buf nm = VL_BUF_INIT, one = VL_BUF_INIT;
	long rows, k;
	size_t i, j;
	int rc;

	*count = 0;
	snprintf(rn, sizeof(rn), "rows.%s", f->name);
	*present = vl_ui_form_get(form, rn) != NULL;
	rows = small_num(vl_ui_form_get(form, rn), VL_FORM_MAX_ROWS + 1);
	if (*present && rows < 0)
		return vl_error_set(VL_ETOOBIG, "field '%s': a list holds at most %d rows here", f->name,
				VL_FORM_MAX_ROWS);
	if ((rc = vl_buf_putc(out, '[')) < 0)
		goto out;
	if (f->type == VL_T_SET && f->item_type == VL_T_ENUM) {
		if ((rc = vl_buf_printf(&nm, "v.%s", f->name)) < 0)
			goto out;
		for (i = 0; i < form->n; i++) {
			if (strcmp(form->names[i], nm.ptr) != 0 || blank(form->values[i]))
				continue;
			if ((*count && (rc = vl_buf_puts(out, ", ")) < 0) || (rc = yaml_quote(out, form->values[i])) < 0)
				goto out;
			++*count;
		}
	} else {
		for (k = 0; *present && k < rows; k++) {
			if (f->item_type == VL_T_MAP) {
				size_t given = 0;
				vl_buf item = VL_BUF_INIT;

				rc = vl_buf_putc(&item, '{');
				for (j = 0; rc >= 0 && j < f->nitem_fields; j++) {
					const vl_field *sf = &f->item_fields[j];
					const char *t;

					vl_buf_clear(&nm);
					if ((rc = vl_buf_printf(&nm, "v.%s.%ld.%s", f->name, k, sf->name)) < 0)
						break;
					t = vl_ui_form_get(form, nm.ptr);
					if (!t || blank(t))
						continue;
					if ((rc = scalar_text(&one, sf->type, t, tz_min)) < 0 ||
							(given && (rc = vl_buf_puts(&item, ", ")) < 0) ||
							(rc = yaml_quote(&item, sf->name)) < 0 || (rc = vl_buf_puts(&item, ": ")) < 0 ||
							(rc = flow_scalar(&item, sf->type, one.ptr)) < 0)
						break;
					given++;
				}
				if (rc >= 0 && given && (rc = vl_buf_putc(&item, '}')) >= 0 &&
						(!*count || (rc = vl_buf_puts(out, ", ")) >= 0))
					rc = vl_buf_puts(out, item.ptr);
				*count += rc >= 0 && given;
				vl_buf_free(&item);
				if (rc < 0)
					goto out;
			} else {
				const char *t;

				vl_buf_clear(&nm);
				if ((rc = vl_buf_printf(&nm, "v.%s.%ld", f->name, k)) < 0)
					goto out;
				t = vl_ui_form_get(form, nm.ptr);
				if (!t || blank(t))
					continue;
				if ((rc = scalar_text(&one, f->item_type, t, tz_min)) < 0 ||
						(*count && (rc = vl_buf_puts(out, ", ")) < 0) ||
						(rc = flow_scalar(out, f->item_type, one.ptr)) < 0)
					goto out;
				++*count;
			}
		}
	}
	rc = vl_buf_putc(out, ']');
out:
	vl_buf_free(&nm);
	vl_buf_free(&one);
	return rc;
}

/* The flow map of map field f's subfields; *given 0 when all are empty. */
static int map_flow(vl_buf *out, size_t *given, const vl_field *f, const vl_ui_form *form, int tz_min)
{
	vl_buf nm = VL_BUF_INIT, one = VL_BUF_INIT;
	size_t j;
	int rc = vl_buf_putc(out, '{');

	*given = 0;
	for (j = 0; rc >= 0 && j < f->nitem_fields; j++) {
		const vl_field *sf = &f->item_fields[j];
		const char *t;

		vl_buf_clear(&nm);
		if ((rc = vl_buf_printf(&nm, "v.%s.%s", f->name, sf->name)) < 0)
			break;
		t = vl_ui_form_get(form, nm.ptr);
		if (!t || blank(t))
			continue;
		if ((rc = scalar_text(&one, sf->type, t, tz_min)) < 0 || (*given && (rc = vl_buf_puts(out, ", ")) < 0) ||
				(rc = yaml_quote(out, sf->name)) < 0 || (rc = vl_buf_puts(out, ": ")) < 0 ||
				(rc = flow_scalar(out, sf->type, one.ptr)) < 0)
			break;
		++*given;
	}
	if (rc >= 0)
		rc = vl_buf_putc(out, '}');
	vl_buf_free(&nm);
	vl_buf_free(&one);
	return rc;
}

/* Parse text for field f as set_text would, into *out (NULL: empty, or
 * the text does not parse: then *bad 1). */
static int probe(vl_value **out, int *bad, const vl_schema *s, const vl_field *f, const char *text)
{
	vl_value *m = vl_value_new(VL_V_MAP);
	int rc;

	*out = NULL;
	*bad = 0;
	if (!m)
		return vl_error_set(VL_ENOMEM, "out of memory");
	rc = vl_schema_set_text(s, m, f->name, text);
	if (rc == VL_ENOMEM) {
		vl_value_free(m);
		return rc;
	}
	if (rc < 0) {
		vl_error_clear();
		*bad = 1;
	} else if (m->n == 1) {
		*out = m->items[0];
		m->items[0] = NULL;
	}
	vl_value_free(m);
	return 0;
}

static int list_has(const vl_value *l, const vl_value *e)
{
	size_t i;

	for (i = 0; l && l->kind == VL_V_LIST && i < l->n; i++)
		if (vl_value_equal(l->items[i], e))
			return 1;
	return 0;
}

/* A parsed value as flow YAML: strings quoted, numbers and booleans plain. */
static int value_flow(vl_buf *b, const vl_value *v)
{
	size_t i;
	int rc = 0;

	switch (v->kind) {
	case VL_V_STR:
		return yaml_quote(b, v->s);
	case VL_V_LIST:
	case VL_V_MAP:
		rc = vl_buf_putc(b, v->kind == VL_V_LIST ? '[' : '{');
		for (i = 0; rc >= 0 && i < v->n; i++) {
			if (i && (rc = vl_buf_puts(b, ", ")) < 0)
				break;
			if (v->kind == VL_V_MAP && ((rc = yaml_quote(b, v->keys[i])) < 0 || (rc = vl_buf_puts(b, ": ")) < 0))
				break;
			rc = value_flow(b, v->items[i]);
		}
		return rc < 0 ? rc : vl_buf_putc(b, v->kind == VL_V_LIST ? ']' : '}');
	default:
		return vl_buf_puts(b, v->s ? v->s : "null");
	}
}

/* An element's text for --add/--remove: a one-item flow sequence. */
static int element_text(vl_buf *b, const vl_value *e)
{
	int rc;

	vl_buf_clear(b);
	if ((rc = vl_buf_putc(b, '[')) < 0 || (rc = yaml_quote(b, e->s ? e->s : "")) < 0)
		return rc;
	return vl_buf_putc(b, ']');
}

/* Edit of a set or list field: what changed, by element where it can. */
static int assign_list_edit(vl_form_assign *a, const vl_schema *s, const vl_field *f, const char *flow,
		size_t count, const vl_value *cur)
{
	vl_value *nv = NULL;
	vl_buf t = VL_BUF_INIT;
	size_t i;
	int bad, rc;

	if ((rc = probe(&nv, &bad, s, f, count ? flow : "")) < 0)
		goto out;
	if (bad) {
		rc = push_assign(&a->sets, &a->nsets, f->name, flow); /* vl_edit says what is wrong */
		goto out;
	}
	if ((!nv && !cur) || (nv && cur && vl_value_equal(nv, cur)))
		goto out;
	if (!nv) {
		rc = push_assign(&a->unsets, &a->nunsets, f->name, "") ;
		if (rc >= 0) /* unsets hold names: drop the "=" */
			a->unsets[a->nunsets - 1][strlen(f->name)] = '\0';
		goto out;
	}
	if (f->type == VL_T_SET && f->item_type != VL_T_MAP) {
		/* Element by element, so what another node added meanwhile stays. */
		for (i = 0; cur && cur->kind == VL_V_LIST && i < cur->n; i++)
			if (!list_has(nv, cur->items[i]) && ((rc = element_text(&t, cur->items[i])) < 0 ||
					(rc = push_assign(&a->removes, &a->nremoves, f->name, t.ptr)) < 0))
				goto out;
		vl_buf_clear(&t);
		rc = vl_buf_putc(&t, '[');
		for (i = 0; rc >= 0 && i < nv->n; i++) {
			if (list_has(cur, nv->items[i]))
				continue;
			if (t.len > 1 && (rc = vl_buf_puts(&t, ", ")) < 0)
				break;
			rc = value_flow(&t, nv->items[i]);
		}
		if (rc >= 0 && t.len > 1 && (rc = vl_buf_putc(&t, ']')) >= 0)
			rc = push_assign(&a->adds, &a->nadds, f->name, t.ptr);
		goto out;
	}
	/* A list: rows only added at the end are an --add of them; any other
	 * change of the rows replaces the list the person saw whole. */
	if (cur && cur->kind == VL_V_LIST && nv->n > cur->n) {
		int prefix = 1;

		for (i = 0; prefix && i < cur->n; i++)
			prefix = vl_value_equal(cur->items[i], nv->items[i]);
		if (prefix) {
			vl_buf_clear(&t);
			rc = vl_buf_putc(&t, '[');
			for (i = cur->n; rc >= 0 && i < nv->n; i++)
				if ((i == cur->n || (rc = vl_buf_puts(&t, ", ")) >= 0))
					rc = value_flow(&t, nv->items[i]);
			if (rc >= 0 && (rc = vl_buf_putc(&t, ']')) >= 0)
				rc = push_assign(&a->adds, &a->nadds, f->name, t.ptr);
			goto out;
		}
	}
	rc = push_assign(&a->sets, &a->nsets, f->name, flow);
	a->replace = 1;
out:
	vl_value_free(nv);
	vl_buf_free(&t);
	return rc;
}

int vl_form_assignments(vl_form_assign *out, const vl_schema *s, const vl_ui_form *form,
		const vl_value *current, int tz_min)
{
	vl_form_assign a;
	vl_buf text = VL_BUF_INIT, nm = VL_BUF_INIT;
	vl_value *nv = NULL;
	size_t i, count;
	int rc = 0, bad, present;

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	for (i = 0; i < s->nfields; i++) {
		const vl_field *f = &s->fields[i];
		const vl_value *cur = current ? vl_value_map_get(current, f->name) : NULL;
		const char *raw;

		vl_buf_clear(&text);
		vl_buf_clear(&nm);
		vl_value_free(nv);
		nv = NULL;
		if (f->type == VL_T_SET || f->type == VL_T_LIST) {
			if ((rc = list_flow(&text, &count, &present, f, form, tz_min)) < 0)
				goto out;
			if (!present)
				continue;
			if (!current) {
				if (count && (rc = push_assign(&a.sets, &a.nsets, f->name, text.ptr)) < 0)
					goto out;
				continue;
			}
			if ((rc = assign_list_edit(&a, s, f, text.ptr, count, cur)) < 0)
				goto out;
			continue;
		}
		if (f->type == VL_T_MAP) {
			if ((rc = map_flow(&text, &count, f, form, tz_min)) < 0)
				goto out;
			raw = count ? text.ptr : "";
		} else {
			if ((rc = vl_buf_printf(&nm, "v.%s", f->name)) < 0)
				goto out;
			if (!(raw = vl_ui_form_get(form, nm.ptr)))
				continue; /* not on the form: not touched */
			if ((rc = scalar_text(&text, f->type, raw, tz_min)) < 0)
				goto out;
			raw = text.ptr;
		}
		if (!current) {
			if (!blank(raw) && (rc = push_assign(&a.sets, &a.nsets, f->name, raw)) < 0)
				goto out;
			continue;
		}
		if (f->pii && blank(raw)) {
			/* A personal field's box is empty on an edit: keep it, unless
			 * the person ticked "remove". */
			vl_buf_clear(&nm);
			if ((rc = vl_buf_printf(&nm, "clear.%s", f->name)) < 0)
				goto out;
			if (cur && vl_ui_form_get(form, nm.ptr) && (rc = push_assign(&a.unsets, &a.nunsets, f->name, "")) >= 0)
				a.unsets[a.nunsets - 1][strlen(f->name)] = '\0';
			if (rc < 0)
				goto out;
			continue;
		}
		if ((rc = probe(&nv, &bad, s, f, raw)) < 0)
			goto out;
		if (bad) {
			if ((rc = push_assign(&a.sets, &a.nsets, f->name, raw)) < 0)
				goto out;
		} else if (!nv && cur) {
			if ((rc = push_assign(&a.unsets, &a.nunsets, f->name, "")) < 0)
				goto out;
			a.unsets[a.nunsets - 1][strlen(f->name)] = '\0';
		} else if (nv && !(cur && vl_value_equal(nv, cur))) {
			if ((rc = push_assign(&a.sets, &a.nsets, f->name, raw)) < 0)
				goto out;
		}
	}
	*out = a;
	memset(&a, 0, sizeof(a));
	rc = 0;
out:
	vl_form_assign_free(&a);
	vl_value_free(nv);
	vl_buf_free(&text);
	vl_buf_free(&nm);
	return rc;
}
