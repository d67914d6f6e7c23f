/*
 * html.c - the UI's HTML: the one escaping function, the page frame and
 * the small responses every page uses.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/ui/ui.h"
#include "store/i18n.h"

int vl_ui_esc_n(vl_buf *b, const char *s, size_t n)
{
	size_t i, run = 0;
	int rc = 0;

	for (i = 0; i < n && rc >= 0; i++) {
		const char *rep = NULL;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: break;
		}
		if (!rep)
			continue;
		if ((rc = vl_buf_put(b, s + run, i - run)) >= 0)
			rc = vl_buf_puts(b, rep);
		run = i + 1;
	}
	if (rc >= 0)
		rc = vl_buf_put(b, s + run, n - run);
	return rc;
}

int vl_ui_esc(vl_buf *b, const char *s)
{
	return vl_ui_esc_n(b, s ? s : "", s ? strlen(s) : 0);
}

int vl_ui_url_esc(vl_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	int rc = 0;

	for (p = (const unsigned char *)(s ? s : ""); *p && rc >= 0; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
				*p == '-' || *p == '_' || *p == '.' || *p == '~')
			rc = vl_buf_putc(b, (char)*p);
		else if ((rc = vl_buf_putc(b, '%')) >= 0 && (rc = vl_buf_putc(b, hex[*p >> 4])) >= 0)
			rc = vl_buf_putc(b, hex[*p & 15]);
	}
	return rc;
}

int vl_ui_table_heads(vl_buf *b, const char *const *t, size_t n)
{
	size_t i;
	int rc = vl_buf_puts(b, "<tr>");

	for (i = 0; i < n && rc >= 0; i++)
		if ((rc = vl_buf_puts(b, "<th>")) >= 0 && (rc = vl_ui_esc(b, t[i])) >= 0)
			rc = vl_buf_puts(b, "</th>");
	return rc < 0 ? rc : vl_buf_puts(b, "</tr>\n");
}

int vl_ui_table_cell(vl_buf *b, const char *cls, const char *text)
{
	int rc;

	if ((rc = cls ? vl_buf_printf(b, "<td class=\"%s\">", cls) : vl_buf_puts(b, "<td>")) < 0 ||
			(rc = vl_ui_esc(b, text ? text : "-")) < 0)
		return rc;
	return vl_buf_puts(b, "</td>");
}

int vl_ui_unit_label(vl_buf *b, const char *name, const char *code)
{
	int rc;

	if ((rc = vl_ui_esc(b, name ? name : code)) < 0 || (rc = vl_buf_puts(b, " <span class=\"muted\">")) < 0 ||
			(rc = vl_ui_esc(b, code)) < 0)
		return rc;
	return vl_buf_puts(b, "</span>");
}

int vl_ui_page_begin(vl_buf *b, const vl_ui_req *q, const char *title)
{
	int rc;

	if ((rc = vl_buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
			strcmp(q->lang, "en") ? "zh-CN" : "en")) < 0 ||
			(rc = vl_ui_esc(b, title)) < 0 ||
			(rc = vl_buf_puts(b, " - vledger</title>\n<link rel=\"stylesheet\" href=\"/ui.css\">\n"
					"<script src=\"/ui.js\" defer></script>\n</head>\n<body>\n<nav class=\"top\">"
					"<a href=\"/\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Ledgers"))) < 0 ||
			(rc = vl_buf_puts(b, "</a> <a href=\"/conflicts\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Conflicts"))) < 0 ||
			(rc = vl_buf_puts(b, "</a> <a href=\"/sync\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Sync"))) < 0 ||
			(rc = vl_buf_puts(b, "</a>")) < 0)
		return rc;
	/* the aggregate figures and the report tracker: township and county nodes */
	if (vl_ui_role_above_village(q) && ((rc = vl_buf_puts(b, " <a href=\"/aggregate\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Aggregates"))) < 0 || (rc = vl_buf_puts(b, "</a> <a href=\"/reports\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Reports"))) < 0 || (rc = vl_buf_puts(b, "</a>")) < 0))
		return rc;
	if (vl_ui_locked(q) && ((rc = vl_buf_puts(b, " <a href=\"/unlock\">")) < 0 ||
			(rc = vl_ui_esc(b, _("Unlock the key"))) < 0 || (rc = vl_buf_puts(b, "</a>")) < 0))
		return rc;
	if ((rc = vl_buf_puts(b, "</nav>\n<main>\n<h1>")) < 0 || (rc = vl_ui_esc(b, title)) < 0)
		return rc;
	return vl_buf_puts(b, "</h1>\n");
}

int vl_ui_page_end(vl_buf *b, const vl_ui_req *q)
{
	(void)q;
	return vl_buf_puts(b, "</main>\n</body>\n</html>\n");
}

int vl_ui_csrf_field(vl_buf *b, const vl_ui_req *q)
{
	int rc;

	if ((rc = vl_buf_puts(b, "<input type=\"hidden\" name=\"csrf\" value=\"")) < 0 ||
			(rc = vl_ui_esc(b, q->csrf)) < 0)
		return rc;
	return vl_buf_puts(b, "\">");
}

int vl_ui_redirect(vl_ui_resp *r, const char *location)
{
	char *l = NULL;

	if (!(l = strdup(location)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	free(r->location);
	r->location = l;
	r->status = 303;
	return 0;
}

int vl_ui_error_page(vl_ui_req *q, vl_ui_resp *r, int status, const char *msg)
{
	const char *title;

	switch (status) {
	case 400: title = _("The request is not valid"); break;
	case 403: title = _("Not allowed"); break;
	case 404: title = _("Page not found"); break;
	case 405: title = _("Method not allowed"); break;
	case 413: title = _("The request is too large"); break;
	default: title = _("Something went wrong"); break;
	}
	vl_buf_clear(&r->body);
	r->status = status;
	r->content_type = NULL;
	if (vl_ui_page_begin(&r->body, q, title) < 0 || vl_buf_puts(&r->body, "<p class=\"error\">") < 0 ||
			vl_ui_esc(&r->body, msg) < 0 || vl_buf_puts(&r->body, "</p>\n<p><a href=\"/\">") < 0 ||
			vl_ui_esc(&r->body, _("Back to the ledgers")) < 0 || vl_buf_puts(&r->body, "</a></p>\n") < 0 ||
			vl_ui_page_end(&r->body, q) < 0) {
		vl_buf_clear(&r->body);
		if (vl_buf_puts(&r->body, "error\n") < 0)
			vl_buf_clear(&r->body);
		r->content_type = "text/plain; charset=utf-8";
	}
	return 0;
}
