/*
 * server.c - the UI's HTTP server: libmicrohttpd with its internal polling
 * thread (every request on that one thread, one at a time), the session,
 * the security rules of docs/ui.md, routing and the log.
 *
 * Order of checks for every request (each refusal changes nothing):
 *   header count (431) -> Host names the listen address (421) -> URI size
 *   (414) -> body size (413) -> query parses (400) -> static files -> the
 *   start token (303 to the URL without it, setting the cookie) or the
 *   session cookie (403) -> route (404/405) -> for POST: urlencoded body
 *   and its CSRF token (403) -> the handler.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <sodium.h>

#include "agent/node/dynlib.h"
#include "agent/ui/ui.h"
#include "agent/ui/static.h"
#include "store/i18n.h"

/* libmicrohttpd, opened by vl_ui_start (agent/node/dynlib.h: no other
 * command loads it and the libraries it brings); every MHD_ function below
 * is called through these pointers (the macros after mhd_open). */
static struct {
	struct MHD_Response *(*create_response_from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
	enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
	void (*destroy_response)(struct MHD_Response *);
	int (*get_connection_values)(struct MHD_Connection *, enum MHD_ValueKind, MHD_KeyValueIterator, void *);
	const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
	const char *(*lookup_connection_value)(struct MHD_Connection *, enum MHD_ValueKind, const char *);
	enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
	struct MHD_Daemon *(*start_daemon)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
			MHD_AccessHandlerCallback, void *, ...);
	void (*stop_daemon)(struct MHD_Daemon *);
} mhd;

static int mhd_open(void)
{
	const vl_dynsym syms[] = {
		{ "MHD_create_response_from_buffer", &mhd.create_response_from_buffer },
		{ "MHD_add_response_header", &mhd.add_response_header },
		{ "MHD_destroy_response", &mhd.destroy_response },
		{ "MHD_get_connection_values", &mhd.get_connection_values },
		{ "MHD_get_daemon_info", &mhd.get_daemon_info },
		{ "MHD_lookup_connection_value", &mhd.lookup_connection_value },
		{ "MHD_queue_response", &mhd.queue_response },
		{ "MHD_start_daemon", &mhd.start_daemon },
		{ "MHD_stop_daemon", &mhd.stop_daemon },
	};

	VL_DYNSYM_CHECK(MHD_create_response_from_buffer, mhd.create_response_from_buffer);
	VL_DYNSYM_CHECK(MHD_add_response_header, mhd.add_response_header);
	VL_DYNSYM_CHECK(MHD_destroy_response, mhd.destroy_response);
	VL_DYNSYM_CHECK(MHD_get_connection_values, mhd.get_connection_values);
	VL_DYNSYM_CHECK(MHD_get_daemon_info, mhd.get_daemon_info);
	VL_DYNSYM_CHECK(MHD_lookup_connection_value, mhd.lookup_connection_value);
	VL_DYNSYM_CHECK(MHD_queue_response, mhd.queue_response);
	VL_DYNSYM_CHECK(MHD_start_daemon, mhd.start_daemon);
	VL_DYNSYM_CHECK(MHD_stop_daemon, mhd.stop_daemon);
	return vl_dynlib_open(VL_SONAME_MHD, "libmicrohttpd", syms, sizeof(syms) / sizeof(syms[0]));
}

#define MHD_create_response_from_buffer (*mhd.create_response_from_buffer)
#define MHD_add_response_header (*mhd.add_response_header)
#define MHD_destroy_response (*mhd.destroy_response)
#define MHD_get_connection_values (*mhd.get_connection_values)
#define MHD_get_daemon_info (*mhd.get_daemon_info)
#define MHD_lookup_connection_value (*mhd.lookup_connection_value)
#define MHD_queue_response (*mhd.queue_response)
#define MHD_start_daemon (*mhd.start_daemon)
#define MHD_stop_daemon (*mhd.stop_daemon)

#define SECRET_HEX 64 /* 32 random bytes as hex */

struct vl_ui {
	struct MHD_Daemon *d;
	char *home;
	char *operator_name;          /* NULL: node.yaml's or $VLEDGER_OPERATOR */
	char *url;
	char token[SECRET_HEX + 1];   /* the start token, in the URL printed */
	char session[SECRET_HEX + 1]; /* the cookie's value */
	char csrf[SECRET_HEX + 1];    /* the forms' hidden field */
	char cookie_name[32];         /* vledger_PORT: one per server, as ports share cookies */
	char host[80];                /* "127.0.0.1:PORT" as the Host header must say */
	char host_alt[80];            /* "localhost:PORT" (loopback only), else "" */
	int sealed;                   /* the node key is sealed */
	int above_village;            /* role township or county (node.yaml, read at start) */
	vl_key *key;                  /* sodium_malloc'd once unlocked (locked memory), or NULL */
};

/* Per connection request state: the raw URI (from MHD's URI log
 * callback: the only place the query arrives undecoded) and the body. */
typedef struct {
	char *uri;
	vl_buf body;
	int started;
	int too_big;
} req_state;

/* ---- secrets ------------------------------------------------------------- */

static void random_hex(char out[SECRET_HEX + 1])
{
	unsigned char r[SECRET_HEX / 2];

	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(out, SECRET_HEX + 1, r, sizeof(r));
	sodium_memzero(r, sizeof(r));
}

/* Constant time: equal lengths checked first (the length is public). */
static int secret_eq(const char *want, const char *got, size_t got_len)
{
	return got && got_len == strlen(want) && sodium_memcmp(want, got, got_len) == 0;
}

/* ---- the node per request ---------------------------------------------------- */

int vl_ui_role_above_village(const vl_ui_req *q)
{
	return q->ui->above_village;
}

int vl_ui_locked(const vl_ui_req *q)
{
	return q->ui->sealed && !q->ui->key;
}

int vl_ui_node(vl_node **out, vl_ui_req *q, int need_key)
{
	vl_ui *ui = q->ui;
	vl_buf p = VL_BUF_INIT;
	int rc;

	if (!q->node) {
		if ((rc = vl_node_open(&q->node, ui->home, 0, NULL)) < 0)
			return rc;
		if (ui->operator_name && (rc = vl_node_set_operator(q->node, ui->operator_name)) < 0)
			return rc;
	}
	if (need_key && !q->node->have_key) {
		if (ui->key) {
			memcpy(&q->node->key, ui->key, sizeof(*ui->key));
		} else if (ui->sealed) {
			return vl_error_set(VL_EDENIED, "the node key is locked; unlock it with its passphrase first");
		} else {
			if ((rc = vl_buf_printf(&p, "%s/keys/node.key", ui->home)) < 0 ||
					(rc = vl_key_load(&q->node->key, p.ptr, NULL)) < 0) {
				vl_buf_free(&p);
				return rc;
			}
			vl_buf_free(&p);
		}
		q->node->have_key = 1;
		if ((rc = vl_node_check_key(q->node)) < 0) {
			q->node->have_key = 0;
			return rc;
		}
	}
	*out = q->node;
	return 0;
}

int vl_ui_unlock(vl_ui *ui, const char *passphrase)
{
	vl_buf p = VL_BUF_INIT;
	vl_key *k = NULL;
	int rc;

	if (ui->key)
		return 0;
	if (!(k = sodium_malloc(sizeof(*k))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	if ((rc = vl_buf_printf(&p, "%s/keys/node.key", ui->home)) < 0 ||
			(rc = vl_key_load(k, p.ptr, passphrase)) < 0)
		goto out;
	ui->key = k;
	k = NULL;
out:
	if (k)
		sodium_free(k); /* sodium_free wipes */
	vl_buf_free(&p);
	return rc;
}

/* ---- routing ----------------------------------------------------------------- */

/* Does path match pattern ("*" = one non-empty segment)? Fills q->args. */
static int match(vl_ui_req *q, const char *pattern, const char *path)
{
	const char *p = pattern, *s = path;

	q->nargs = 0;
	while (*p && *s) {
		if (*p == '*') {
			const char *e = strchr(s, '/');
			size_t n = e ? (size_t)(e - s) : strlen(s);

			if (!n || q->nargs == sizeof(q->args) / sizeof(q->args[0]))
				return 0;
			q->args[q->nargs++] = s; /* terminated by the caller's copy below */
			s += n;
			p++;
		} else if (*p++ != *s++) {
			return 0;
		}
	}
	return !*p && !*s;
}

static const vl_ui_route *const tables[] = { vl_ui_routes_core, vl_ui_routes_pages };

/* Find the route; *path_known = 1 when the path matched with another method. */
static const vl_ui_route *find_route(vl_ui_req *q, char *path, int *path_known)
{
	size_t t, i, k;

	*path_known = 0;
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (i = 0; tables[t][i].pattern; i++) {
			if (!match(q, tables[t][i].pattern, path))
				continue;
			if (strcmp(tables[t][i].method, q->method)) {
				*path_known = 1;
				continue;
			}
			/* cut the segments into strings now that the route is chosen */
			for (k = 0; k < q->nargs; k++) {
				char *e = strchr((char *)q->args[k], '/');

				if (e)
					*e = '\0';
			}
			return &tables[t][i];
		}
	return NULL;
}

/* ---- responses ------------------------------------------------------------------ */

static void log_request(const char *method, const char *uri, unsigned status)
{
	char path[201];
	size_t i;

	/* the path only: the query may hold the token or a filter value */
	for (i = 0; uri && uri[i] && uri[i] != '?' && i < sizeof(path) - 1; i++)
		path[i] = (uri[i] >= 0x20 && uri[i] < 0x7f) ? uri[i] : '?';
	path[i] = '\0';
	fprintf(stderr, "vledger ui: %s %s %u\n", method, path, status);
}

static enum MHD_Result respond(struct MHD_Connection *c, const vl_ui *ui, const char *method, const char *uri,
		unsigned status, const char *ctype, const char *body, size_t len, const char *location,
		const char *cookie, const char *allow)
{
	struct MHD_Response *r = NULL;
	enum MHD_Result ret;

	if (!(r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY)))
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ctype ? ctype : "text/html; charset=utf-8");
	MHD_add_response_header(r, "Content-Security-Policy",
			"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (location)
		MHD_add_response_header(r, "Location", location);
	if (cookie)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	if (allow)
		MHD_add_response_header(r, "Allow", allow);
	(void)ui;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	log_request(method, uri, status);
	return ret;
}

/* A refusal before any page logic: short plain text, nothing else done. */
static enum MHD_Result refuse(struct MHD_Connection *c, const vl_ui *ui, const char *method, const char *uri,
		unsigned status, const char *msg)
{
	return respond(c, ui, method, uri, status, "text/plain; charset=utf-8", msg, strlen(msg), NULL, NULL, NULL);
}

static int status_of(int rc)
{
	switch (rc) {
	case VL_ENOTFOUND: return 404;
	case VL_EINVALID: case VL_EEXISTS: case VL_ECONFLICT: return 400;
	case VL_EDENIED: return 403;
	case VL_ETOOBIG: return 413;
	default: return 500;
	}
}

/* ---- the request ------------------------------------------------------------------ */

static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	req_state *st = calloc(1, sizeof(*st));

	(void)cls;
	(void)c;
	if (st && !(st->uri = strdup(uri ? uri : ""))) {
		free(st);
		st = NULL;
	}
	return st;
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	req_state *st = *con_cls;

	(void)cls;
	(void)c;
	(void)t;
	if (!st)
		return;
	free(st->uri);
	vl_buf_free_secure(&st->body); /* a passphrase may have been in it */
	free(st);
	*con_cls = NULL;
}

static int host_ok(const vl_ui *ui, const char *host)
{
	size_t i, n;

	if (!host)
		return 0;
	if (!strcmp(host, ui->host))
		return 1;
	if (!*ui->host_alt || (n = strlen(host)) != strlen(ui->host_alt))
		return 0;
	for (i = 0; i < n; i++) {
		char ch = host[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch != ui->host_alt[i])
			return 0;
	}
	return 1;
}

/* The whole request, once its body is in. */
static enum MHD_Result handle(vl_ui *ui, struct MHD_Connection *c, const char *url, const char *method,
		req_state *st)
{
	vl_ui_req q;
	vl_ui_resp r;
	const vl_ui_route *route;
	const char *qs, *v, *tok;
	char *path = NULL, *segs = NULL;
	vl_buf cookie = VL_BUF_INIT, loc = VL_BUF_INIT;
	size_t len;
	int known = 0, rc, status;
	enum MHD_Result ret = MHD_NO;

	memset(&q, 0, sizeof(q));
	memset(&r, 0, sizeof(r));
	q.ui = ui;
	q.method = method;
	q.csrf = ui->csrf;
	q.lang = vl_i18n_set_lang(vl_ui_pick_lang(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language")));

	if (strcmp(method, "GET") && strcmp(method, "POST") && strcmp(method, "HEAD"))
		return respond(c, ui, method, st->uri, 405, "text/plain; charset=utf-8", "method not allowed\n", 19, NULL,
				NULL, "GET, POST");
	qs = strchr(st->uri, '?');
	if (qs && vl_ui_form_parse(&q.query, qs + 1, strlen(qs + 1)) < 0) {
		ret = refuse(c, ui, method, st->uri, 400, _("malformed query string\n"));
		goto out;
	}
	if (!(path = strdup(url)) || !(segs = strdup(url))) {
		ret = MHD_NO;
		goto out;
	}
	q.path = path;

	/* static files: no data in them, no session needed */
	if (!strcmp(method, "GET") && !strcmp(url, "/ui.css")) {
		ret = respond(c, ui, method, st->uri, 200, "text/css; charset=utf-8", vl_ui_css, strlen(vl_ui_css), NULL,
				NULL, NULL);
		goto out;
	}
	if (!strcmp(method, "GET") && !strcmp(url, "/ui.js")) {
		ret = respond(c, ui, method, st->uri, 200, "text/javascript; charset=utf-8", vl_ui_js, strlen(vl_ui_js),
				NULL, NULL, NULL);
		goto out;
	}

	/* the start token: exchanged for the session cookie, then a URL without it */
	if ((tok = vl_ui_form_get(&q.query, "token"))) {
		if (!secret_eq(ui->token, tok, strlen(tok))) {
			ret = refuse(c, ui, method, st->uri, 403,
					_("wrong token: open the address 'vledger ui' printed when it started\n"));
			goto out;
		}
		if (vl_buf_printf(&cookie, "%s=%s; HttpOnly; SameSite=Strict; Path=/", ui->cookie_name,
				ui->session) < 0 || vl_buf_puts(&loc, url) < 0)
			goto out;
		ret = respond(c, ui, method, st->uri, 303, "text/plain; charset=utf-8", "", 0, loc.ptr, cookie.ptr, NULL);
		goto out;
	}
	v = vl_ui_cookie_find(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie"), ui->cookie_name, &len);
	if (!secret_eq(ui->session, v, v ? len : 0)) {
		ret = refuse(c, ui, method, st->uri, 403,
				_("no session: open the address 'vledger ui' printed when it started\n"));
		goto out;
	}

	if (!strcmp(method, "HEAD"))
		q.method = "GET";
	route = find_route(&q, segs, &known); /* args point into segs */
	if (!route) {
		vl_ui_error_page(&q, &r, known ? 405 : 404, known ? _("This page does not take that kind of request.")
				: _("There is no page at this address."));
		ret = respond(c, ui, method, st->uri, (unsigned)r.status, NULL, r.body.ptr ? r.body.ptr : "", r.body.len,
				NULL, NULL, known ? "GET, POST" : NULL);
		goto out;
	}
	if (!strcmp(method, "POST")) {
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");

		if (!ct || strncmp(ct, "application/x-www-form-urlencoded", 33) ||
				vl_ui_form_parse(&q.form, st->body.ptr ? st->body.ptr : "", st->body.len) < 0) {
			ret = refuse(c, ui, method, st->uri, 400, _("a form must be sent as application/x-www-form-urlencoded\n"));
			goto out;
		}
		v = vl_ui_form_get(&q.form, "csrf");
		if (!secret_eq(ui->csrf, v, v ? strlen(v) : 0)) {
			ret = refuse(c, ui, method, st->uri, 403, _("missing or wrong form token: reload the page and try again\n"));
			goto out;
		}
	}

	r.status = 200;
	vl_error_clear();
	rc = route->fn(&q, &r);
	if (q.node) {
		vl_node_close(q.node); /* drops the write lock, if taken */
		q.node = NULL;
	}
	if (rc < 0) {
		status = status_of(rc);
		vl_ui_error_page(&q, &r, status, vl_error_last());
	}
	ret = respond(c, ui, method, st->uri, (unsigned)r.status, r.content_type, r.body.ptr ? r.body.ptr : "",
			strcmp(method, "HEAD") ? r.body.len : 0, r.location, NULL, NULL);
out:
	if (q.node)
		vl_node_close(q.node);
	vl_ui_form_free(&q.query);
	vl_ui_form_free(&q.form);
	vl_buf_free_secure(&r.body);
	free(r.location);
	free(path);
	free(segs);
	vl_buf_free(&cookie);
	vl_buf_free(&loc);
	return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url, const char *method,
		const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	vl_ui *ui = cls;
	req_state *st = *con_cls;
	const char *cl;

	(void)version;
	if (!st)
		return MHD_NO; /* out of memory in uri_cb */
	if (!st->started) {
		st->started = 1;
		if (MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL) > (int)VL_UI_HEADERS_MAX)
			return refuse(c, ui, method, st->uri, 431, "too many header lines\n");
		if (!host_ok(ui, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host")))
			return refuse(c, ui, method, st->uri, 421,
					"the Host header does not name this server's address\n");
		if (strlen(st->uri) > VL_UI_URI_MAX)
			return refuse(c, ui, method, st->uri, 414, "the address is too long\n");
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (cl && (strlen(cl) > 9 || strtoul(cl, NULL, 10) > VL_UI_BODY_MAX))
			return refuse(c, ui, method, st->uri, 413, "the request body is too large\n");
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!st->too_big && st->body.len + *upload_data_size <= VL_UI_BODY_MAX) {
			if (vl_buf_put(&st->body, upload_data, *upload_data_size) < 0)
				return MHD_NO;
		} else {
			st->too_big = 1; /* chunked past the cap: read on, keep nothing */
			vl_buf_free_secure(&st->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (st->too_big)
		return refuse(c, ui, method, st->uri, 413, "the request body is too large\n");
	return handle(ui, c, url, method, st);
}

/* ---- start and stop ----------------------------------------------------------- */

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		static const unsigned char lo[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

		return !memcmp(a, lo, 16);
	}
	return 0;
}

int vl_ui_start(vl_ui **out, const vl_ui_opts *opts)
{
	vl_ui *ui = NULL;
	struct addrinfo hints, *ai = NULL;
	const char *listen = opts->listen ? opts->listen : "127.0.0.1:0";
	const char *colon = strrchr(listen, ':');
	char host[64], port_s[8];
	const union MHD_DaemonInfo *info;
	vl_buf p = VL_BUF_INIT, u = VL_BUF_INIT;
	size_t hl;
	int rc, port, v6;
	char *pass = NULL;
	vl_node *n = NULL;

	*out = NULL;
	if (sodium_init() < 0)
		return vl_error_set(VL_ERROR, "libsodium failed to start");
	if ((rc = mhd_open()) < 0)
		return rc;
	if (!colon || colon == listen || strlen(colon + 1) == 0 || strlen(colon + 1) > 5 ||
			(hl = (size_t)(colon - listen)) >= sizeof(host))
		return vl_error_set(VL_EINVALID, "--listen '%s' is not ADDRESS:PORT; use e.g. 127.0.0.1:8080", listen);
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memcpy(port_s, colon + 1, strlen(colon + 1) + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port_s, &hints, &ai) != 0 || !ai)
		return vl_error_set(VL_EINVALID, "--listen '%s' is not a numeric ADDRESS:PORT; use e.g. 127.0.0.1:8080",
				listen);
	v6 = ai->ai_family == AF_INET6;
	if (!is_loopback(ai->ai_addr)) {
		int any = (ai->ai_family == AF_INET &&
				((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr.s_addr == 0) ||
				(v6 && IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr));

		if (!opts->allow_remote) {
			rc = vl_error_set(VL_EDENIED, "'%s' is not a loopback address: anyone on that network could "
					"reach the ledgers; give --allow-remote to listen there anyway", host);
			goto out;
		}
		if (any) {
			rc = vl_error_set(VL_EINVALID, "'%s' is every address; name the one address to listen on", host);
			goto out;
		}
	}
	if (!(ui = calloc(1, sizeof(*ui))) || !(ui->home = strdup(opts->home)) ||
			(opts->operator_name && !(ui->operator_name = strdup(opts->operator_name)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	random_hex(ui->token);
	random_hex(ui->session);
	random_hex(ui->csrf);
	if ((rc = vl_node_open(&n, opts->home, 0, NULL)) < 0)
		goto out;
	ui->above_village = !strcmp(n->role, "township") || !strcmp(n->role, "county");
	vl_node_close(n);
	n = NULL;
	if ((rc = vl_buf_printf(&p, "%s/keys/node.key", opts->home)) < 0)
		goto out;
	ui->sealed = vl_key_is_sealed(p.ptr) == 1;
	if (ui->sealed && opts->passphrase_file) {
		if ((rc = vl_read_passphrase(&pass, opts->passphrase_file)) < 0 || (rc = vl_ui_unlock(ui, pass)) < 0)
			goto out;
	}
	ui->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
			access_cb, ui,
			MHD_OPTION_SOCK_ADDR, ai->ai_addr,
			MHD_OPTION_URI_LOG_CALLBACK, uri_cb, (void *)NULL,
			MHD_OPTION_NOTIFY_COMPLETED, completed_cb, (void *)NULL,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)VL_UI_CONN_MAX,
			MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)VL_UI_CONN_MAX,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)VL_UI_TIMEOUT_S,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)VL_UI_MEMORY_MAX,
			MHD_OPTION_END);
	if (!ui->d) {
		rc = vl_error_set(VL_ERROR, "cannot listen on '%s' (%s); choose another port with --listen",
				listen, strerror(errno));
		goto out;
	}
	if (!(info = MHD_get_daemon_info(ui->d, MHD_DAEMON_INFO_BIND_PORT)) || !info->port) {
		rc = vl_error_set(VL_ERROR, "cannot tell which port the UI listens on");
		goto out;
	}
	port = info->port;
	snprintf(ui->cookie_name, sizeof(ui->cookie_name), "vledger_%d", port);
	snprintf(ui->host, sizeof(ui->host), v6 ? "[%s]:%d" : "%s:%d", host, port);
	if (is_loopback(ai->ai_addr))
		snprintf(ui->host_alt, sizeof(ui->host_alt), "localhost:%d", port);
	if ((rc = vl_buf_printf(&u, "http://%s/?token=%s", ui->host, ui->token)) < 0)
		goto out;
	ui->url = vl_buf_detach(&u, NULL);
	*out = ui;
	ui = NULL;
	rc = 0;
out:
	if (pass) {
		sodium_memzero(pass, strlen(pass));
		free(pass);
	}
	if (ai)
		freeaddrinfo(ai);
	vl_buf_free(&p);
	vl_buf_free(&u);
	if (n)
		vl_node_close(n);
	vl_ui_stop(ui);
	return rc;
}

const char *vl_ui_url(const vl_ui *ui)
{
	return ui->url;
}

void vl_ui_stop(vl_ui *ui)
{
	if (!ui)
		return;
	if (ui->d)
		MHD_stop_daemon(ui->d);
	if (ui->key)
		sodium_free(ui->key);
	if (ui->url) {
		sodium_memzero(ui->url, strlen(ui->url));
		free(ui->url);
	}
	sodium_memzero(ui->token, sizeof(ui->token));
	sodium_memzero(ui->session, sizeof(ui->session));
	sodium_memzero(ui->csrf, sizeof(ui->csrf));
	free(ui->home);
	free(ui->operator_name);
	free(ui);
}
