/*
 * test_ui_form.c - the web UI's ledger forms (agent/ui/form.h) and the
 * problems by field that vl_add / vl_edit report (agent/ops/record.h):
 * a form body decoded under its caps; the form of a real schema rendered
 * (labels, drop-downs, check boxes, rows, pickers, personal marks, every
 * value escaped, problems beside their fields); a submission turned into
 * the command line's assignments and run through the real operations on a
 * real node, where a bad submission reports every problem by field and
 * leaves the repository byte for byte as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/record.h"
#include "agent/ui/form.h"
#include "store/i18n.h"
#include "forge.h"
#include "testutil.h"

#define COUNTY "500243000000"

static char *g_template;

static int group_setup(void **state)
{
	(void)state;
	vf_env_init();
	g_template = vt_tmpdir();
	assert_int_equal(vt_run(NULL, "cd '%s' && '" VL_BINARY "' -C county init --name 彭水县民政局 --role county "
			"--scope " COUNTY " --new-network >/dev/null", g_template), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vf_template_free(g_template);
	return 0;
}

typedef vf_node_copy fixture;

static int setup(void **state)
{
	*state = vf_node_copy_open(g_template, "county", 1, 1);
	vl_i18n_set_lang("zh");
	return 0;
}

static int teardown(void **state)
{
	vf_node_copy_free(*state);
	return 0;
}

/* Every file of the county's repo.git with its content hash. Caller frees. */
static char *snapshot(const fixture *f)
{
	return vf_file_hashes(f->home);
}

static const vl_schema *ledger(const fixture *f, const char *name)
{
	const vl_schema *s = vl_schema_lookup(f->n->schemas, f->n->nschemas, name);

	assert_non_null(s);
	return s;
}

static void parse_ok(vl_ui_form *form, const char *body)
{
	assert_int_equal(vl_ui_form_parse(form, body, strlen(body)), 0);
}

/* ---- rendering ----------------------------------------------------------- */

static void test_render_resident(void **state)
{
	fixture *f = *state;
	const vl_schema *s = ledger(f, "resident");
	vl_ui_form sub = { NULL, NULL, 0 };
	vl_field_errors errs = { NULL, 0 };
	vl_field_error e[2];
	vl_form_opts o;
	vl_buf b = VL_BUF_INIT;

	memset(&o, 0, sizeof(o));
	o.schema = s;
	o.tz_min = 480;
	assert_int_equal(vl_form_render(&b, &o), 0);
	/* labels in Chinese, enum drop-down with Chinese labels, a date
	 * picker, check boxes for the set, personal fields marked */
	assert_non_null(strstr(b.ptr, "<label for=\"in-gender\">性别</label><select name=\"v.gender\" id=\"in-gender\">"));
	assert_non_null(strstr(b.ptr, "<option value=\"female\">女</option>"));
	assert_non_null(strstr(b.ptr, "<input type=\"date\" name=\"v.birth_date\""));
	assert_non_null(strstr(b.ptr, "<input type=\"checkbox\" name=\"v.tags\" value=\"elderly_alone\"> 独居老人"));
	assert_non_null(strstr(b.ptr, "class=\"field pii\" id=\"field-id_number\""));
	assert_null(strstr(b.ptr, "class=\"field pii\" id=\"field-gender\""));
	assert_non_null(strstr(b.ptr, "<textarea rows=\"3\" name=\"v.notes\""));
	assert_non_null(strstr(b.ptr, "name=\"op\" value=\"save\""));

	/* English under an English locale */
	vl_i18n_set_lang("en");
	vl_buf_clear(&b);
	assert_int_equal(vl_form_render(&b, &o), 0);
	assert_non_null(strstr(b.ptr, ">Gender</label>"));
	assert_non_null(strstr(b.ptr, "<option value=\"female\">Female</option>"));
	vl_i18n_set_lang("zh");

	/* a submission shown again: values as typed, escaped; problems beside
	 * their fields; one not about a field on top */
	parse_ok(&sub, "v.name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&v.gender=male&v.tags=disabled&rows.tags=5"
			"&v.address=%22%3E%3Cb%3E");
	e[0].field = (char *)"id_number";
	e[0].message = (char *)"field 'id_number': cn_id check digit should be 7 (公民身份号码)";
	e[1].field = (char *)"";
	e[1].message = (char *)"no <scope> here";
	errs.v = e;
	errs.n = 2;
	o.submitted = &sub;
	o.errors = &errs;
	vl_buf_clear(&b);
	assert_int_equal(vl_form_render(&b, &o), 0);
	assert_null(strstr(b.ptr, "<script>"));
	assert_null(strstr(b.ptr, "<b>"));
	assert_null(strstr(b.ptr, "<scope>"));
	assert_non_null(strstr(b.ptr, "value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
	assert_non_null(strstr(b.ptr, "value=\"&quot;&gt;&lt;b&gt;\""));
	assert_non_null(strstr(b.ptr, "<option value=\"male\" selected>男</option>"));
	assert_non_null(strstr(b.ptr, "value=\"disabled\" checked> 残疾人"));
	assert_non_null(strstr(b.ptr, "value=\"pregnant\"> 孕产妇"));
	{
		const char *div = strstr(b.ptr, "<div class=\"field has-error pii\" id=\"field-id_number\">");
		const char *err = strstr(b.ptr, "<p class=\"field-error\" role=\"alert\" id=\"err-id_number\">"
				"field &#39;id_number&#39;: cn_id check digit should be 7 (公民身份号码)</p>");
		const char *next = strstr(b.ptr, "id=\"field-gender\"");

		assert_non_null(div);
		assert_non_null(err);
		assert_true(div < err && err < next); /* beside its own field */
	}
	assert_non_null(strstr(b.ptr, "<div class=\"form-errors\" role=\"alert\">"));
	assert_non_null(strstr(b.ptr, "<li>no &lt;scope&gt; here</li>"));
	vl_ui_form_free(&sub);
	vl_buf_free(&b);
}

static void test_render_rows_and_refs(void **state)
{
	fixture *f = *state;
	const vl_schema *s = ledger(f, "supply_request");
	vl_ui_form sub = { NULL, NULL, 0 };
	vl_form_action act;
	vl_form_choice ch[2] = { { "01J0000000000000000000000A", "王<秀>英" }, { "01J0000000000000000000000B", NULL } };
	vl_form_choices refs = { "resident", ch, 2 };
	vl_form_opts o;
	vl_buf b = VL_BUF_INIT;

	memset(&o, 0, sizeof(o));
	o.schema = s;
	o.refs = &refs;
	o.nrefs = 1;
	o.tz_min = 480;
	assert_int_equal(vl_form_render(&b, &o), 0);
	/* a ref chosen by name; a list of maps as rows with add / remove
	 * buttons; the default of an enum preselected; a datetime picker */
	assert_non_null(strstr(b.ptr, "<select name=\"v.resident\" id=\"in-resident\"><option value=\"\"></option>"
			"<option value=\"01J0000000000000000000000A\">王&lt;秀&gt;英</option>"
			"<option value=\"01J0000000000000000000000B\">01J0000000000000000000000B</option></select>"));
	assert_non_null(strstr(b.ptr, "<input type=\"hidden\" name=\"rows.items\" value=\"1\">"));
	assert_non_null(strstr(b.ptr, "<th>物资名称 *</th>"));
	assert_non_null(strstr(b.ptr, "name=\"v.items.0.qty\""));
	assert_non_null(strstr(b.ptr, "value=\"del:items:0\""));
	assert_non_null(strstr(b.ptr, "value=\"add:items\""));
	assert_non_null(strstr(b.ptr, "<option value=\"registered\" selected>已登记</option>"));
	assert_non_null(strstr(b.ptr, "<input type=\"datetime-local\" step=\"1\" name=\"v.requested_at\""));

	/* add a row, then remove the first: the second row becomes row 0 */
	parse_ok(&sub, "rows.items=2&v.items.0.name=A&v.items.1.name=B&v.items.1.qty=3&op=add%3Aitems");
	assert_int_equal(vl_form_rows_op(&act, &sub, s), 0);
	assert_int_equal(act, VL_FORM_ROWS);
	assert_string_equal(vl_ui_form_get(&sub, "rows.items"), "3");
	{
		size_t i;

		for (i = 0; i < sub.n; i++)
			if (!strcmp(sub.names[i], "op"))
				break;
		free(sub.values[i]);
		sub.values[i] = strdup("del:items:0");
	}
	assert_int_equal(vl_form_rows_op(&act, &sub, s), 0);
	assert_int_equal(act, VL_FORM_ROWS);
	assert_string_equal(vl_ui_form_get(&sub, "rows.items"), "2");
	assert_string_equal(vl_ui_form_get(&sub, "v.items.0.name"), "B");
	assert_string_equal(vl_ui_form_get(&sub, "v.items.0.qty"), "3");
	assert_null(vl_ui_form_get(&sub, "v.items.1.name"));
	o.submitted = &sub;
	vl_buf_clear(&b);
	assert_int_equal(vl_form_render(&b, &o), 0);
	assert_non_null(strstr(b.ptr, "name=\"v.items.0.name\" id=\"in-items-0-name\" value=\"B\""));
	assert_non_null(strstr(b.ptr, "name=\"v.items.1.name\" id=\"in-items-1-name\" value=\"\""));
	vl_ui_form_free(&sub);

	/* ops that name no list, or a row it does not have, are refused */
	parse_ok(&sub, "rows.items=1&op=del%3Aitems%3A1");
	assert_int_equal(vl_form_rows_op(&act, &sub, s), VL_EINVALID);
	vl_ui_form_free(&sub);
	parse_ok(&sub, "op=add%3Astatus");
	assert_int_equal(vl_form_rows_op(&act, &sub, s), VL_EINVALID);
	vl_ui_form_free(&sub);
	parse_ok(&sub, "op=save");
	assert_int_equal(vl_form_rows_op(&act, &sub, s), 0);
	assert_int_equal(act, VL_FORM_SAVE);
	vl_ui_form_free(&sub);
	vl_buf_free(&b);
}

/* ---- through the operations ---------------------------------------------- */

/* Add the record a form body describes; returns vl_add's code. */
static int add_form(fixture *f, const char *ledger_name, const char *body, vl_add_result *res)
{
	vl_ui_form form = { NULL, NULL, 0 };
	vl_form_assign a;
	vl_add_opts o = VL_ADD_OPTS_INIT;
	int rc;

	parse_ok(&form, body);
	assert_int_equal(vl_form_assignments(&a, ledger(f, ledger_name), &form, NULL, 480), 0);
	o.ledger = ledger_name;
	o.sets = (const char *const *)a.sets;
	o.nsets = a.nsets;
	rc = vl_add(f->n, &o, res);
	vl_form_assign_free(&a);
	vl_ui_form_free(&form);
	return rc;
}

static void test_add_through_form(void **state)
{
	fixture *f = *state;
	vl_add_result res;
	const vl_value *tags, *items;

	assert_int_equal(add_form(f, "resident", "v.name=%E7%8E%8B%E7%A7%80%E8%8B%B1&v.id_number=&v.gender=female"
			"&v.birth_date=1950-03-01&v.residence_kind=registered&v.address=%E4%B8%80%E7%BB%84+3%E5%8F%B7"
			"&rows.tags=5&v.tags=pregnant&v.tags=elderly_alone&v.source=self_report&v.notes=a%0D%0Ab"
			"&op=save&csrf=x", &res), 0);
	assert_string_equal(vl_value_map_get(res.data, "name")->s, "王秀英");
	assert_string_equal(vl_value_map_get(res.data, "address")->s, "一组 3号");
	assert_string_equal(vl_value_map_get(res.data, "notes")->s, "a\nb");
	assert_null(vl_value_map_get(res.data, "id_number"));
	tags = vl_value_map_get(res.data, "tags");
	assert_int_equal(tags->n, 2);
	assert_string_equal(tags->items[0]->s, "elderly_alone");
	assert_int_equal(res.errors.n, 0);
	vl_add_result_free(&res);

	/* rows of a list of maps, a quote in a value, empty rows skipped, a
	 * local datetime taken in the network's zone */
	assert_int_equal(add_form(f, "supply_request", "v.request_no=500243000000-20220407-001&v.reason=immobile"
			"&v.address=x&v.contact_name=y&v.contact_phone=13800138000&rows.items=3"
			"&v.items.0.name=%E5%A4%A7%22%E7%B1%B3%7D&v.items.0.qty=2&v.items.1.name=&v.items.2.name=oil"
			"&v.items.2.qty=1&v.items.2.unit=L&v.requested_at=2022-04-07T16%3A00&v.status=registered", &res), 0);
	items = vl_value_map_get(res.data, "items");
	assert_int_equal(items->n, 2);
	assert_string_equal(vl_value_map_get(items->items[0], "name")->s, "大\"米}");
	assert_string_equal(vl_value_map_get(items->items[0], "qty")->s, "2");
	assert_string_equal(vl_value_map_get(items->items[1], "unit")->s, "L");
	assert_string_equal(vl_value_map_get(res.data, "requested_at")->s, "2022-04-07T08:00:00Z");
	vl_add_result_free(&res);
}

/* A submission with several problems: every one reported by field, the
 * message the command line prints unchanged (the first), nothing written. */
static void test_add_problems_by_field(void **state)
{
	fixture *f = *state;
	vl_add_result res;
	vl_add_opts o = VL_ADD_OPTS_INIT;
	char *before = snapshot(f), *after;
	const char *m;
	const char *sets[] = { "name=王秀英", "id_number=110101195003010011", "birth_date=1950-3-1x",
		"residence_kind=registered", "source=nonsense" };

	/* the fields are told in any language: in Chinese first */
	assert_int_equal(add_form(f, "resident", "v.name=a&v.id_number=110101195003010011&v.birth_date=1950-3-1x"
			"&v.residence_kind=registered&v.source=nonsense&rows.tags=5", &res), VL_EINVALID);
	assert_non_null(vl_field_errors_find(&res.errors, "id_number"));
	assert_non_null(vl_field_errors_find(&res.errors, "address"));
	assert_non_null(vl_field_errors_find(&res.errors, "source"));
	assert_null(vl_field_errors_find(&res.errors, "name"));
	vl_add_result_free(&res);
	vl_i18n_set_lang("en");

	/* wrong check digit, a date that does not parse, an unknown enum, no address */
	assert_int_equal(add_form(f, "resident", "v.name=a&v.id_number=110101195003010011&v.birth_date=1950-3-1x"
			"&v.residence_kind=registered&v.source=nonsense&rows.tags=5", &res), VL_EINVALID);
	assert_non_null(m = vl_field_errors_find(&res.errors, "id_number"));
	assert_non_null(strstr(m, "check digit"));
	assert_non_null(vl_field_errors_find(&res.errors, "birth_date"));
	assert_non_null(vl_field_errors_find(&res.errors, "source"));
	assert_non_null(m = vl_field_errors_find(&res.errors, "address"));
	assert_non_null(strstr(m, "required"));
	assert_null(vl_field_errors_find(&res.errors, "name"));
	assert_null(vl_field_errors_find(&res.errors, "birth"));
	/* the date that did not parse is not also "missing" */
	{
		size_t i, k = 0;

		for (i = 0; i < res.errors.n; i++)
			k += !strcmp(res.errors.v[i].field, "birth_date");
		assert_int_equal(k, 1);
	}
	/* no personal value in any message */
	{
		size_t i;

		for (i = 0; i < res.errors.n; i++)
			assert_null(strstr(res.errors.v[i].message, "11010119500301"));
	}
	vl_add_result_free(&res);
	after = snapshot(f);
	assert_string_equal(before, after);
	free(after);

	/* the same through the command line's options: the first problem's
	 * message, as before this list existed */
	o.ledger = "resident";
	o.sets = sets;
	o.nsets = 5;
	assert_int_equal(vl_add(f->n, &o, &res), VL_EINVALID);
	assert_non_null(strstr(vl_error_last(), "birth_date"));
	assert_null(strstr(vl_error_last(), "check digit"));
	assert_true(res.errors.n >= 3);
	vl_add_result_free(&res);

	/* an ID number that disagrees with the birth date and the gender: both */
	assert_int_equal(add_form(f, "resident", "v.name=a&v.id_number=110101195003010010&v.gender=female"
			"&v.birth_date=1960-01-01&v.residence_kind=registered&v.address=x&v.source=self_report",
			&res), VL_EINVALID);
	assert_int_equal(res.errors.n, 2);
	assert_string_equal(res.errors.v[0].field, "id_number");
	assert_non_null(strstr(res.errors.v[0].message, "birth date"));
	assert_non_null(strstr(res.errors.v[1].message, "17th digit"));
	assert_non_null(strstr(vl_error_last(), "birth date"));
	vl_add_result_free(&res);
	after = snapshot(f);
	assert_string_equal(before, after);
	free(after);
	free(before);
}

static char *added(fixture *f, const char *ledger_name, const char *body)
{
	vl_add_result res;
	char *id;

	assert_int_equal(add_form(f, ledger_name, body, &res), 0);
	id = strdup(res.id);
	vl_add_result_free(&res);
	return id;
}

/* Edit through the form: only what changed is assigned; personal fields
 * left empty are kept; set elements added and removed one by one. */
static void test_edit_through_form(void **state)
{
	fixture *f = *state;
	const vl_schema *s = ledger(f, "resident");
	char *id = added(f, "resident", "v.name=a&v.phone=13800138000&v.residence_kind=registered&v.address=x"
			"&v.source=self_report&v.tags=disabled&v.tags=pregnant&rows.tags=5&v.grid=g1");
	vl_show_opts so = VL_SHOW_OPTS_INIT;
	vl_show_result sr;
	vl_ui_form form = { NULL, NULL, 0 };
	vl_form_assign a;
	vl_edit_opts eo = VL_EDIT_OPTS_INIT;
	vl_edit_result er;
	vl_form_opts ro;
	vl_buf b = VL_BUF_INIT;
	char *before, *after;

	vl_i18n_set_lang("en");
	so.id = id;
	assert_int_equal(vl_show(f->n, &so, &sr), 0);
	/* the edit form shows no personal value */
	memset(&ro, 0, sizeof(ro));
	ro.schema = s;
	ro.data = sr.found.rec->data;
	ro.edit = 1;
	assert_int_equal(vl_form_render(&b, &ro), 0);
	assert_null(strstr(b.ptr, "13800138000"));
	assert_non_null(strstr(b.ptr, "name=\"clear.phone\""));
	assert_non_null(strstr(b.ptr, "value=\"g1\""));
	assert_non_null(strstr(b.ptr, "value=\"disabled\" checked>"));
	vl_buf_free(&b);

	/* name and address empty (kept), phone cleared, grid changed, a tag
	 * swapped, gender untouched */
	parse_ok(&form, "v.name=&v.phone=&clear.phone=1&v.residence_kind=registered&v.address=&v.grid=g2"
			"&v.source=self_report&rows.tags=5&v.tags=pregnant&v.tags=elderly_alone&v.gender=");
	assert_int_equal(vl_form_assignments(&a, s, &form, sr.found.rec->data, 480), 0);
	assert_int_equal(a.nsets, 1);
	assert_string_equal(a.sets[0], "grid=g2");
	assert_int_equal(a.nunsets, 1);
	assert_string_equal(a.unsets[0], "phone");
	assert_int_equal(a.nadds, 1);
	assert_string_equal(a.adds[0], "tags=[\"elderly_alone\"]");
	assert_int_equal(a.nremoves, 1);
	assert_string_equal(a.removes[0], "tags=[\"disabled\"]");
	eo.id = id;
	vl_form_edit_opts(&eo, &a);
	assert_int_equal(vl_edit(f->n, &eo, &er), 0);
	assert_true(er.changed);
	assert_string_equal(vl_value_map_get(er.data, "name")->s, "a");
	assert_null(vl_value_map_get(er.data, "phone"));
	assert_string_equal(vl_value_map_get(er.data, "tags")->items[0]->s, "elderly_alone");
	assert_string_equal(vl_value_map_get(er.data, "tags")->items[1]->s, "pregnant");
	vl_edit_result_free(&er);
	vl_form_assign_free(&a);
	vl_ui_form_free(&form);

	/* a bad edit: problems by field, nothing written */
	before = snapshot(f);
	parse_ok(&form, "v.birth_date=1800-01-01&v.residence_kind=nowhere&v.grid=g3");
	assert_int_equal(vl_form_assignments(&a, s, &form, sr.found.rec->data, 480), 0);
	eo = (vl_edit_opts)VL_EDIT_OPTS_INIT;
	eo.id = id;
	vl_form_edit_opts(&eo, &a);
	assert_int_equal(vl_edit(f->n, &eo, &er), VL_EINVALID);
	assert_non_null(vl_field_errors_find(&er.errors, "birth_date"));
	assert_non_null(vl_field_errors_find(&er.errors, "residence_kind"));
	assert_null(vl_field_errors_find(&er.errors, "grid"));
	assert_null(er.data);
	vl_edit_result_free(&er);
	after = snapshot(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
	vl_form_assign_free(&a);
	vl_ui_form_free(&form);
	vl_show_result_free(&sr);
	free(id);
}

/* A list of maps: rows added at the end are an --add; a changed row
 * replaces the list as the form showed it. */
static void test_edit_list_rows(void **state)
{
	fixture *f = *state;
	const vl_schema *s = ledger(f, "supply_request");
	char *id = added(f, "supply_request", "v.request_no=500243000000-20220407-002&v.reason=immobile"
			"&v.address=x&v.contact_name=y&v.contact_phone=13800138000&rows.items=1"
			"&v.items.0.name=rice&v.items.0.qty=2");
	vl_show_opts so = VL_SHOW_OPTS_INIT;
	vl_show_result sr;
	vl_ui_form form = { NULL, NULL, 0 };
	vl_form_assign a;

	so.id = id;
	assert_int_equal(vl_show(f->n, &so, &sr), 0);
	parse_ok(&form, "rows.items=2&v.items.0.name=rice&v.items.0.qty=2&v.items.1.name=oil&v.items.1.qty=1");
	assert_int_equal(vl_form_assignments(&a, s, &form, sr.found.rec->data, 480), 0);
	assert_int_equal(a.nsets, 0);
	assert_int_equal(a.nadds, 1);
	assert_string_equal(a.adds[0], "items=[{\"name\": \"oil\", \"qty\": 1}]");
	assert_int_equal(a.replace, 0);
	vl_form_assign_free(&a);
	vl_ui_form_free(&form);

	parse_ok(&form, "rows.items=1&v.items.0.name=rice&v.items.0.qty=3");
	assert_int_equal(vl_form_assignments(&a, s, &form, sr.found.rec->data, 480), 0);
	assert_int_equal(a.nsets, 1);
	assert_int_equal(a.replace, 1);
	assert_int_equal(a.nadds, 0);
	vl_form_assign_free(&a);
	vl_ui_form_free(&form);

	/* unchanged rows: nothing */
	parse_ok(&form, "rows.items=1&v.items.0.name=rice&v.items.0.qty=2");
	assert_int_equal(vl_form_assignments(&a, s, &form, sr.found.rec->data, 480), 0);
	assert_int_equal(a.nsets + a.nadds + a.nremoves + a.nunsets, 0);
	vl_form_assign_free(&a);
	vl_ui_form_free(&form);
	vl_show_result_free(&sr);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_render_resident, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_rows_and_refs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_through_form, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_problems_by_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_through_form, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_list_rows, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
