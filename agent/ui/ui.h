/*
 * ui.h - `vledger ui`: the local web interface (docs/ui.md, issue 13).
 *
 * A libmicrohttpd server on loopback, one request at a time (MHD's internal
 * polling thread, no thread per connection), so handlers may use the node
 * and vl_i18n_set_lang freely. The server does the security rules before a
 * handler runs: session cookie (or the start token), Host header, CSRF token
 * on every POST, request caps, security headers on every response. A
 * handler only builds a page or a redirect.
 *
 * The node is opened per request (vl_ui_node) and closed when the request
 * ends, so the UI never holds the node's write lock between requests and
 * the CLI works beside a running UI.
 *
 * Adding a page: write `static int page(vl_ui_req *q, vl_ui_resp *r)`, add
 * { "GET", "/path/NAME", page } ("NAME" stands for "*") to a route table (core: agent/ui/pages_core.c;
 * the forms, conflicts, sync and aggregate pages: agent/ui/routes_pages.c).
 * A POST route gets control only when the form's CSRF token matched.
 */
#ifndef VL_UI_H
#define VL_UI_H

#include <stddef.h>

#include "agent/node/node.h"
#include "store/buf.h"
#include "store/error.h"

/* Caps (the server refuses more: 413, 414, 431). */
#define VL_UI_BODY_MAX (256u * 1024u)     /* a POST body */
#define VL_UI_URI_MAX 4096u               /* path and query */
#define VL_UI_HEADERS_MAX 64u             /* header lines of one request */
#define VL_UI_FIELDS_MAX 512u             /* name=value pairs of a query or form */
#define VL_UI_CONN_MAX 32u                /* connections open at once */
#define VL_UI_TIMEOUT_S 30u               /* idle seconds before a connection is closed */
#define VL_UI_MEMORY_MAX (64u * 1024u)    /* MHD's per-connection buffer: bounds headers */
#define VL_UI_PAGE_SIZE 100u              /* records per list page */

/* ---- parsers of outside input (agent/ui/parse.c; fuzzed) ------------------- */

/* Decoded name=value pairs of a query string or an
 * application/x-www-form-urlencoded body; names may repeat (check boxes). */
typedef struct {
	char **names;
	char **values;
	size_t n;
} vl_ui_form;

/*
 * Parse `len` bytes of "a=1&b=%E4%B8%AD+x" (no leading '?') into out
 * (zeroed first; freed with vl_ui_form_free, also after a failure).
 * '+' is a space, %XX a byte; a bad escape, a NUL byte, a value that is
 * not UTF-8, or more than VL_UI_FIELDS_MAX pairs: VL_EINVALID / VL_ETOOBIG.
 */
int vl_ui_form_parse(vl_ui_form *out, const char *s, size_t len) VL_MUST_CHECK;
void vl_ui_form_free(vl_ui_form *f);
/* Every value is wiped before it is freed (a passphrase may be among them). */
/* The first value of `name`, or NULL. Borrowed. */
const char *vl_ui_form_get(const vl_ui_form *f, const char *name);

/* The value of cookie `name` in a Cookie header ("a=1; b=2"), or NULL when
 * absent or the header is malformed or longer than VL_UI_URI_MAX. Returns a
 * pointer into `header` and the length in *len (not NUL-terminated). */
const char *vl_ui_cookie_find(const char *header, const char *name, size_t *len);

/* The UI language for an Accept-Language header: "en" when the browser
 * prefers English (a higher q, or listed first at the same q) over Chinese,
 * else "zh" (also for NULL or a malformed or over-long header). Static. */
const char *vl_ui_pick_lang(const char *accept_language);

/* ---- requests and responses -------------------------------------------------- */

typedef struct vl_ui vl_ui;

typedef struct {
	vl_ui *ui;
	const char *method;          /* "GET", "POST" */
	const char *path;            /* decoded path, without the query */
	const char *args[4];         /* the path's segments that matched "*", decoded */
	size_t nargs;
	vl_ui_form query;            /* ?a=b */
	vl_ui_form form;             /* a POST's urlencoded body (empty for GET) */
	const char *lang;            /* "zh" or "en" (already set with vl_i18n_set_lang) */
	const char *csrf;            /* this session's CSRF token, for vl_ui_csrf_field */
	vl_node *node;               /* opened by vl_ui_node, closed after the response */
} vl_ui_req;

typedef struct {
	int status;                  /* 200 unless set */
	const char *content_type;    /* static; NULL: text/html; charset=utf-8 */
	vl_buf body;
	char *location;              /* a redirect (303) target, owned; NULL: none */
} vl_ui_resp;

/* A handler: fill r (status, body) and return 0; a negative VL_E* return
 * makes the server answer with an error page for it (VL_ENOTFOUND 404,
 * VL_EINVALID 400, VL_EDENIED 403, else 500) showing vl_error_last(). */
typedef int (*vl_ui_handler)(vl_ui_req *q, vl_ui_resp *r);

typedef struct {
	const char *method;          /* "GET" or "POST" */
	const char *pattern;         /* "/ledger/" then "*": a "*" matches one path segment */
	vl_ui_handler fn;
} vl_ui_route;

/* Route tables, each ending with { NULL, NULL, NULL }. */
extern const vl_ui_route vl_ui_routes_core[];   /* pages_core.c */
extern const vl_ui_route vl_ui_routes_pages[];  /* routes_pages.c (helper uipages) */

/*
 * The request's node, opened on first call (and closed by the server after
 * the response). need_key 1: with the secret key, the plain key file or the
 * key unlocked on /unlock; VL_EDENIED when the key is sealed and not
 * unlocked yet (redirect to /unlock: vl_ui_redirect_unlock).
 */
int vl_ui_node(vl_node **out, vl_ui_req *q, int need_key) VL_MUST_CHECK;
/* Load the sealed node key with `passphrase` into locked memory
 * (sodium_malloc), kept until the server stops. VL_EDENIED for a wrong
 * passphrase. The /unlock page calls it. */
int vl_ui_unlock(vl_ui *ui, const char *passphrase) VL_MUST_CHECK;
/* 1 on a township or county node (its role, read when the UI started):
 * the aggregate and report pages apply. */
int vl_ui_role_above_village(const vl_ui_req *q);
/* 1 when writes need /unlock first (a sealed key not unlocked yet). */
int vl_ui_locked(const vl_ui_req *q);

/* ---- HTML (agent/ui/html.c) -------------------------------------------------- */

/* THE escaping function: text or an attribute value in double quotes
 * (& < > " ' escaped). Every byte that did not come from a literal in the
 * source goes through it. */
int vl_ui_esc(vl_buf *b, const char *s) VL_MUST_CHECK;
int vl_ui_esc_n(vl_buf *b, const char *s, size_t n) VL_MUST_CHECK;
/* Append a URL path segment or query value, percent-encoded (then safe in
 * an attribute too). */
int vl_ui_url_esc(vl_buf *b, const char *s) VL_MUST_CHECK;

/* Tables (the pages' one way to write them; text escaped with vl_ui_esc):
 * a header row <tr><th>T</th>...</tr> of n texts; a cell <td>TEXT</td>, or
 * <td class="CLS"> when cls (a literal) is given, "-" for a NULL text; and a
 * unit's label inside a cell the caller opened: its name (the code when
 * NULL), then the code in a muted span. */
int vl_ui_table_heads(vl_buf *b, const char *const *t, size_t n) VL_MUST_CHECK;
int vl_ui_table_cell(vl_buf *b, const char *cls, const char *text) VL_MUST_CHECK;
int vl_ui_unit_label(vl_buf *b, const char *name, const char *code) VL_MUST_CHECK;

/* The page frame: doctype, <head> with the title (escaped) and /ui.css,
 * the top bar (links to /, /conflicts, /sync, the language); then the
 * caller's content; vl_ui_page_end closes it. */
int vl_ui_page_begin(vl_buf *b, const vl_ui_req *q, const char *title) VL_MUST_CHECK;
int vl_ui_page_end(vl_buf *b, const vl_ui_req *q) VL_MUST_CHECK;
/* <input type="hidden" name="csrf" value="..."> for every POST form. */
int vl_ui_csrf_field(vl_buf *b, const vl_ui_req *q) VL_MUST_CHECK;

/* A 303 redirect to `location` (a local path; copied). */
int vl_ui_redirect(vl_ui_resp *r, const char *location) VL_MUST_CHECK;
/* An error page with status and message (escaped). Returns 0. */
int vl_ui_error_page(vl_ui_req *q, vl_ui_resp *r, int status, const char *msg);

/* ---- the server (agent/ui/server.c) ------------------------------------------ */

typedef struct {
	const char *home;            /* node home */
	const char *listen;          /* "127.0.0.1:0" default */
	int allow_remote;            /* 1: a non-loopback address is allowed */
	const char *passphrase_file; /* optional: unlock a sealed key at start */
	const char *operator_name;   /* --operator: signs the UI's commits (vl_node_set_operator) */
} vl_ui_opts;

/*
 * Start the server (a thread of MHD's). url_out gets the URL to open,
 * "http://ADDR:PORT/?token=..." (owned by ui). VL_EDENIED for a
 * non-loopback address without allow_remote.
 */
int vl_ui_start(vl_ui **out, const vl_ui_opts *opts) VL_MUST_CHECK;
const char *vl_ui_url(const vl_ui *ui);
/* Stop the server and wipe its secrets. NULL is fine. */
void vl_ui_stop(vl_ui *ui);

#endif
