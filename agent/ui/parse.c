/*
 * parse.c - the UI's parsers of outside input: urlencoded pairs (query
 * strings and form bodies), the Cookie header, Accept-Language. Pure
 * functions on memory with caps (ui.h), fuzzed by tests/fuzz/fuzz_ui*.c.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent/ui/ui.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1 if s[0..len) is well-formed UTF-8 (no overlong form, no surrogate,
 * at most U+10FFFF). */
static int utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0, k, n;
	unsigned long cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
				(cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Decode s[0..len) ('+' space, %XX) into a new NUL-terminated string. */
static int decode(char **out, const char *s, size_t len)
{
	char *d = NULL;
	size_t i, k = 0;
	int hi, lo;

	if (!(d = malloc(len + 1)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		if (s[i] == '+') {
			d[k++] = ' ';
		} else if (s[i] == '%') {
			if (len - i < 3 || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				goto bad;
			d[k++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			d[k++] = s[i];
		}
		if (k && d[k - 1] == '\0')
			goto bad;
	}
	d[k] = '\0';
	if (!utf8_ok((const unsigned char *)d, k))
		goto bad;
	*out = d;
	return 0;
bad:
	sodium_memzero(d, len + 1);
	free(d);
	return vl_error_set(VL_EINVALID, "the request holds a malformed form field; reload the page and try again");
}

void vl_ui_form_free(vl_ui_form *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++) {
		if (f->names[i])
			free(f->names[i]);
		if (f->values[i]) {
			sodium_memzero(f->values[i], strlen(f->values[i]));
			free(f->values[i]);
		}
	}
	free(f->names);
	free(f->values);
	memset(f, 0, sizeof(*f));
}

int vl_ui_form_parse(vl_ui_form *out, const char *s, size_t len)
{
	size_t i = 0, n = 0, amp, eq;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < len; i++)
		if (s[i] == '&')
			n++;
	if (n + 1 > VL_UI_FIELDS_MAX)
		return vl_error_set(VL_ETOOBIG, "the request has more than %u fields; send less at once",
				VL_UI_FIELDS_MAX);
	if (!len)
		return 0;
	out->names = calloc(n + 1, sizeof(char *));
	out->values = calloc(n + 1, sizeof(char *));
	if (!out->names || !out->values)
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i <= len; i = amp + 1) {
		const char *p = s + i, *e;

		e = memchr(p, '&', len - i);
		amp = e ? (size_t)(e - s) : len;
		if (amp == i)
			continue; /* "a=1&&b=2" */
		e = memchr(p, '=', amp - i);
		eq = e ? (size_t)(e - s) : amp;
		if ((rc = decode(&out->names[out->n], p, eq - i)) < 0)
			return rc;
		rc = decode(&out->values[out->n], s + (eq < amp ? eq + 1 : amp), eq < amp ? amp - eq - 1 : 0);
		out->n++; /* the name is owned now; a failed value is NULL */
		if (rc < 0)
			return rc;
	}
	return 0;
}

const char *vl_ui_form_get(const vl_ui_form *f, const char *name)
{
	size_t i;

	for (i = 0; f && i < f->n; i++)
		if (!strcmp(f->names[i], name))
			return f->values[i];
	return NULL;
}

const char *vl_ui_cookie_find(const char *header, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = header, *v, *e;

	if (!header || strnlen(header, VL_UI_URI_MAX + 1) > VL_UI_URI_MAX)
		return NULL;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (!*p)
			break;
		e = strchr(p, ';');
		if (!e)
			e = p + strlen(p);
		v = memchr(p, '=', (size_t)(e - p));
		if (v && (size_t)(v - p) == nl && !memcmp(p, name, nl)) {
			v++;
			*len = (size_t)(e - v);
			while (*len && (v[*len - 1] == ' ' || v[*len - 1] == '\t'))
				(*len)--;
			return v;
		}
		p = e;
	}
	return NULL;
}

/* q of a ";q=0.8" parameter list (1000 = 1.0); -1 when malformed. */
static int qvalue(const char *p, const char *e)
{
	int q = 1000, scale = 100;

	while (p < e && (*p == ' ' || *p == ';'))
		p++;
	if (p == e)
		return q;
	if (e - p < 3 || p[0] != 'q' || p[1] != '=')
		return -1;
	p += 2;
	if (*p == '1') {
		q = 1000;
		p++;
	} else if (*p == '0') {
		q = 0;
		p++;
	} else {
		return -1;
	}
	if (p < e && *p == '.') {
		for (p++; p < e && *p >= '0' && *p <= '9' && scale; p++, scale /= 10)
			q += (*p - '0') * scale;
	}
	while (p < e && *p == ' ')
		p++;
	return p == e && q <= 1000 ? q : -1;
}

static int prefix_nocase(const char *p, const char *lit, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return 0;
	}
	return 1;
}

/* Does the language range [p, e) name `lang` ("en" matches "en", "en-US")? */
static int is_lang(const char *p, const char *e, const char *lang)
{
	size_t n = strlen(lang);

	while (p < e && *p == ' ')
		p++;
	while (e > p && e[-1] == ' ')
		e--;
	return (size_t)(e - p) >= n && prefix_nocase(p, lang, n) &&
			((size_t)(e - p) == n || p[n] == '-' || p[n] == '_');
}

const char *vl_ui_pick_lang(const char *h)
{
	int best_en = -1, best_zh = -1, pos_en = 0, pos_zh = 0, pos = 0;
	const char *p = h, *e, *semi;

	if (!h || strnlen(h, 1025) > 1024)
		return "zh";
	while (*p) {
		int q;

		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		semi = memchr(p, ';', (size_t)(e - p));
		q = qvalue(semi ? semi : e, e);
		if (q < 0)
			return "zh";
		pos++;
		if (is_lang(p, semi ? semi : e, "en") && q > best_en) {
			best_en = q;
			pos_en = pos;
		} else if (is_lang(p, semi ? semi : e, "zh") && q > best_zh) {
			best_zh = q;
			pos_zh = pos;
		}
		p = *e ? e + 1 : e;
	}
	if (best_en > 0 && (best_en > best_zh || (best_en == best_zh && pos_en < pos_zh)))
		return "en";
	return "zh";
}
