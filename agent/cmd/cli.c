/* cli.c - option parsing and output helpers shared by the commands. */
#include "agent/cmd/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/i18n.h"
#include "store/yaml.h"

#ifndef VL_DEFAULT_SCHEMA_DIR
#define VL_DEFAULT_SCHEMA_DIR "schemas"
#endif

void vl_strlist_free(vl_strlist *l)
{
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}

static int strlist_push(vl_strlist *l, const char *s)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		const char **ni = realloc(l->items, ncap * sizeof(*ni));
		if (!ni)
			return -1;
		l->items = ni;
		l->cap = ncap;
	}
	l->items[l->n++] = s;
	return 0;
}

int vl_cli_usage(const vl_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vledger %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, vl_tr(fmt), ap);
	va_end(ap);
	/* TRANSLATORS: the command's name and its arguments, which stay as they are. */
	fprintf(stderr, _("\nusage: vledger %s %s\n"), cmd->name, cmd->usage);
	return VL_EXIT_USAGE;
}

int vl_cli_parse(const vl_command *cmd, int argc, char **argv, const vl_opt *opts,
		const char ***pos, size_t *npos)
{
	const char **p = calloc((size_t)argc + 1, sizeof(*p));
	size_t np = 0;
	int i;

	*pos = NULL;
	*npos = 0;
	if (!p) {
		fputs(_("vledger: out of memory\n"), stderr);
		return VL_EXIT_ERROR;
	}
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *eq, *val = NULL;
		const vl_opt *o;
		size_t nlen;

		if (!strcmp(a, "--")) {
			for (i++; i < argc; i++)
				p[np++] = argv[i];
			break;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			p[np++] = a;
			continue;
		}
		eq = strchr(a, '=');
		nlen = eq ? (size_t)(eq - a) : strlen(a);
		for (o = opts; o && o->name; o++)
			if (strlen(o->name) == nlen && !strncmp(o->name, a, nlen))
				break;
		if (!o || !o->name) {
			free(p);
			return vl_cli_usage(cmd, "unknown option '%.*s'", (int)nlen, a);
		}
		if (o->has_arg) {
			if (eq) {
				val = eq + 1;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				free(p);
				return vl_cli_usage(cmd, "option '%s' needs a value", o->name);
			}
			if (o->list) {
				if (strlist_push(o->list, val) < 0) {
					free(p);
					fputs(_("vledger: out of memory\n"), stderr);
					return VL_EXIT_ERROR;
				}
			} else if (o->val) {
				*o->val = val;
			}
		} else {
			if (eq) {
				free(p);
				return vl_cli_usage(cmd, "option '%s' takes no value", o->name);
			}
			if (o->flag)
				*o->flag = 1;
		}
	}
	*pos = p;
	*npos = np;
	return 0;
}

int vl_cli_parse_options(const vl_command *cmd, int argc, char **argv, const vl_opt *opts)
{
	const char **pos = NULL;
	size_t npos;
	int rc;

	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	free(pos);
	if (npos)
		return vl_cli_usage(cmd, opts && opts[0].name ? "takes only options" : N_("takes no arguments"));
	return 0;
}

/* The one progress line of this process (vl_cli_progress). */
static struct {
	int drawn;              /* a line is on the terminal */
	long long last_ms;      /* when it was drawn, CLOCK_MONOTONIC */
	char stage[32];
} progress_line;

static long long mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void progress_draw(void *ctx, const char *stage, size_t done, size_t total)
{
	long long now = mono_ms();
	int same = stage && !strncmp(progress_line.stage, stage, sizeof(progress_line.stage) - 1);

	(void)ctx;
	if (!stage)
		return;
	/* Rate-limited; a new stage and the end of one always show. */
	if (progress_line.drawn && same && !(total && done >= total) && now - progress_line.last_ms < 100)
		return;
	snprintf(progress_line.stage, sizeof(progress_line.stage), "%s", stage);
	/* The stage is an id marked N_() by the operation (compared above
	 * untranslated); shown in the user's language. */
	if (total)
		fprintf(stderr, "\r\033[K%s %zu/%zu", vl_tr(stage), done, total);
	else if (done)
		fprintf(stderr, "\r\033[K%s %zu", vl_tr(stage), done);
	else
		fprintf(stderr, "\r\033[K%s ...", vl_tr(stage));
	fflush(stderr);
	progress_line.drawn = 1;
	progress_line.last_ms = now;
}

int vl_cli_json_lines(vl_buf *out, const char *text, size_t len)
{
	size_t i = 0, start, k = 0;
	int rc;

	if ((rc = vl_buf_putc(out, '[')) < 0)
		return rc;
	while (text && i < len) {
		for (start = i; i < len && text[i] != '\n'; i++)
			;
		if (i > start && ((k++ && (rc = vl_buf_putc(out, ',')) < 0) ||
				(rc = vl_json_str(out, text + start, i - start)) < 0))
			return rc;
		i++;
	}
	return vl_buf_putc(out, ']');
}

vl_progress vl_cli_progress(void)
{
	vl_progress p = { NULL, NULL };

	if (isatty(STDERR_FILENO))
		p.fn = progress_draw;
	return p;
}

void vl_cli_progress_done(void)
{
	if (!progress_line.drawn)
		return;
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
	progress_line.drawn = 0;
	progress_line.stage[0] = '\0';
}

int vl_cli_fail(int rc)
{
	const char *msg = vl_error_last();

	vl_cli_progress_done();
	fprintf(stderr, "vledger: %s\n", msg && *msg ? msg : vl_error_name(rc));
	return rc == VL_EBADSIG ? VL_EXIT_VERIFY : VL_EXIT_ERROR;
}

int vl_cli_node(vl_node **out, const vl_cli *cli, int need_key, const char *passphrase_file)
{
	char *home = vl_node_home_path(cli->home);
	int rc;

	if (!home) {
		fputs(_("vledger: out of memory\n"), stderr);
		return VL_ENOMEM;
	}
	rc = vl_node_open(out, home, need_key, passphrase_file);
	free(home);
	if (rc == 0 && cli->operator_name && (rc = vl_node_set_operator(*out, cli->operator_name)) < 0) {
		vl_error_wrap(rc, "--operator");
		vl_node_close(*out);
		*out = NULL;
	}
	if (rc < 0)
		vl_cli_fail(rc);
	return rc;
}

const char *vl_cli_schema_dir(void)
{
	const char *env = getenv("VLEDGER_SCHEMA_DIR");

	return env && *env ? env : VL_DEFAULT_SCHEMA_DIR;
}

/* Decode one UTF-8 sequence; returns its length (1 for invalid bytes). */
static size_t utf8_next(const unsigned char *s, unsigned *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
		*cp = ((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
		*cp = ((s[0] & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
		return 3;
	}
	if ((s[0] & 0xf8) == 0xf0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80) {
		*cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
		return 4;
	}
	*cp = '?';
	return 1;
}

/* Columns a code point takes on a terminal: 2 for East Asian Wide and
 * Fullwidth (the CJK ranges below, no locale involved), else 1. */
static size_t cp_width(unsigned cp)
{
	return (cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) ||
			(cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
			(cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
			(cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd))) ? 2 : 1;
}

size_t vl_text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	unsigned cp;

	while (p && *p) {
		p += utf8_next(p, &cp);
		w += cp_width(cp);
	}
	return w;
}

int vl_text_fit(vl_buf *out, const char *s, size_t w)
{
	const unsigned char *p = (const unsigned char *)s, *q;
	size_t have = 0;
	unsigned cp;
	int rc;

	if (vl_text_width(s) <= w)
		return vl_buf_puts(out, s);
	/* Room for the ellipsis (one column). */
	while (w && *p) {
		q = p + utf8_next(p, &cp);
		if (have + cp_width(cp) > w - 1)
			break;
		have += cp_width(cp);
		p = q;
	}
	if ((rc = vl_buf_put(out, s, (size_t)(p - (const unsigned char *)s))) < 0)
		return rc;
	return vl_buf_puts(out, w ? "…" : "");
}

void vl_print_padded(const char *s, size_t w)
{
	size_t have = vl_text_width(s);

	fputs(s, stdout);
	while (have++ < w)
		putchar(' ');
}
