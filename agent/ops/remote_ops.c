/* remote_ops.c - git remotes: the remotes file, and sync / pull through a
 * temporary repository and the one receive path (ops/remote_ops.h). */
#define _GNU_SOURCE /* strdup, mkdtemp, nftw */
#include "agent/ops/remote_ops.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>

#include "agent/sync/bundle.h"
#include "schemas/types.h"
#include "store/i18n.h"
#include "store/repo.h"
#include "store/yaml.h"

/* ---- names, URLs and the remotes file ------------------------------------- */

int vl_remote_name_check(const char *name)
{
	size_t i, len;

	if (!name || !*name)
		return vl_error_set(VL_EINVALID, "give the remote a name, e.g. 'hub'");
	len = strnlen(name, VL_REMOTE_NAME_MAX + 1);
	if (len > VL_REMOTE_NAME_MAX)
		return vl_error_set(VL_EINVALID, "a remote name is at most %d characters; choose a shorter one",
				VL_REMOTE_NAME_MAX);
	for (i = 0; i < len; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return vl_error_set(VL_EINVALID, "remote name '%.*s' may hold only a-z, 0-9, '.', '_' and '-', "
					"starting with a letter or digit; choose another", (int)len, name);
	}
	return 0;
}

static int has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

int vl_remote_url_check(const char *url)
{
	static const char *const schemes[] = { "ssh://", "git://", "http://", "https://" };
	const char *host = NULL, *end, *at, *colon;
	size_t i, len;

	if (!url || !*url)
		return vl_error_set(VL_EINVALID, "give the remote's URL (ssh://, https://, git://, file:// or host:path)");
	len = strnlen(url, VL_REMOTE_URL_MAX + 1);
	if (len > VL_REMOTE_URL_MAX)
		return vl_error_set(VL_EINVALID, "a remote URL is at most %d bytes; give a shorter one", VL_REMOTE_URL_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return vl_error_set(VL_EINVALID, "a remote URL holds printable ASCII only, without spaces; "
					"percent-encode what else it needs");
	if (has_prefix(url, "file://")) {
		if (url[7] != '/')
			return vl_error_set(VL_EINVALID, "a file:// URL names an absolute path (file:///srv/hub.git)");
		return 0;
	}
	if (url[0] == '/')
		return 0;
	if (url[0] == '-')
		return vl_error_set(VL_EINVALID, "a remote URL does not start with '-'; give the URL itself");
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (has_prefix(url, schemes[i]))
			host = url + strlen(schemes[i]);
	if (host) {
		end = host + strcspn(host, "/");
		at = memchr(host, '@', (size_t)(end - host));
		if (at) {
			if (memchr(host, ':', (size_t)(at - host)))
				return vl_error_set(VL_EINVALID, "the remote URL holds a password; vledger keeps URLs in a "
						"file in clear: use an ssh key or a credential helper instead");
			host = at + 1;
		}
		if (host == end || *host == ':')
			return vl_error_set(VL_EINVALID, "the remote URL names no host (e.g. git://example.org/hub.git)");
		return 0;
	}
	if (strstr(url, "://"))
		return vl_error_set(VL_EINVALID, "unsupported URL scheme; use ssh://, https://, http://, git://, "
				"file:// or host:path");
	/* scp-like [user@]host:path: a ':' before any '/'. */
	colon = strchr(url, ':');
	if (!colon || memchr(url, '/', (size_t)(colon - url)) || colon == url || colon[1] == '\0' ||
			(url[0] == '@' || colon[-1] == '@'))
		return vl_error_set(VL_EINVALID, "'%s' is not a remote URL; use ssh://, https://, http://, git://, "
				"file://, host:path or an absolute path", url);
	return 0;
}

void vl_remote_list_result_free(vl_remote_list_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->items[i].name);
		free(r->items[i].url);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static const vl_yaml_limits remotes_limits = { VL_REMOTES_FILE_MAX, 3, 4 * VL_REMOTES_MAX + 8 };

static int by_name(const void *a, const void *b)
{
	return strcmp(((const vl_remote *)a)->name, ((const vl_remote *)b)->name);
}

static int list_add(vl_remote_list_result *l, size_t *cap, const char *name, const char *url)
{
	vl_remote *r;

	if (l->n >= VL_REMOTES_MAX)
		return vl_error_set(VL_ETOOBIG, "a node keeps at most %d remotes; remove one first", VL_REMOTES_MAX);
	if (vl_array_grow((void **)&l->items, cap, l->n, sizeof(*l->items)) < 0)
		return vl_error_set(VL_ENOMEM, "out of memory");
	r = &l->items[l->n];
	r->name = strdup(name);
	r->url = strdup(url);
	if (!r->name || !r->url) {
		free(r->name);
		free(r->url);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	l->n++;
	return 0;
}

int vl_remote_parse(vl_remote_list_result *out, const char *text, size_t len, const char *src)
{
	vl_remote_list_result l = { NULL, 0 };
	vl_value *doc = NULL, *map;
	size_t i, cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > VL_REMOTES_FILE_MAX)
		return vl_error_set(VL_ETOOBIG, "'%s' is over %zu bytes", src, VL_REMOTES_FILE_MAX);
	if ((rc = vl_yaml_load(&doc, text, len, &remotes_limits, src)) < 0)
		goto out;
	for (i = 0; i < doc->n; i++)
		if (strcmp(doc->keys[i], "remotes")) {
			rc = vl_error_set(VL_EINVALID, "%s: unknown key (only 'remotes'); fix it with 'vledger remote "
					"remove' / 'remote add'", src);
			goto out;
		}
	map = vl_value_map_get(doc, "remotes");
	if (map && map->kind != VL_V_MAP && map->kind != VL_V_NULL) {
		rc = vl_error_set(VL_EINVALID, "%s:%d: 'remotes' is not a mapping of names to URLs", src, map->line);
		goto out;
	}
	for (i = 0; map && map->kind == VL_V_MAP && i < map->n; i++) {
		const char *url = map->items[i]->kind == VL_V_STR ? map->items[i]->s : NULL;
		if (!url) {
			rc = vl_error_set(VL_EINVALID, "%s:%d: a remote's URL is not text", src, map->items[i]->line);
			goto out;
		}
		if ((rc = vl_remote_name_check(map->keys[i])) < 0 || (rc = vl_remote_url_check(url)) < 0) {
			rc = vl_error_wrap(rc, "%s:%d", src, map->items[i]->line);
			goto out;
		}
		if ((rc = list_add(&l, &cap, map->keys[i], url)) < 0)
			goto out;
	}
	if (l.n)
		qsort(l.items, l.n, sizeof(*l.items), by_name);
	*out = l;
	memset(&l, 0, sizeof(l));
out:
	vl_remote_list_result_free(&l);
	vl_value_free(doc);
	return rc;
}

static int remotes_path(vl_buf *p, const vl_node *n)
{
	return vl_buf_printf(p, "%s/remotes.yaml", n->home);
}

/* The remotes file: a missing file is no remotes. */
static int load(vl_remote_list_result *out, const vl_node *n)
{
	vl_buf p = VL_BUF_INIT, text = VL_BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = remotes_path(&p, n)) < 0)
		goto out;
	rc = vl_buf_read_file(&text, p.ptr, VL_REMOTES_FILE_MAX);
	if (rc == VL_ENOTFOUND) {
		vl_error_clear();
		rc = 0;
		goto out;
	}
	if (rc < 0 || (rc = vl_remote_parse(out, text.ptr ? text.ptr : "", text.len, p.ptr)) < 0)
		goto out;
out:
	vl_buf_free(&p);
	vl_buf_free(&text);
	return rc;
}

static int save(const vl_node *n, const vl_remote_list_result *l)
{
	vl_value *doc = NULL, *map = NULL;
	vl_buf p = VL_BUF_INIT, text = VL_BUF_INIT;
	size_t i;
	int rc = VL_ENOMEM;

	if (!(doc = vl_value_new(VL_V_MAP)) || !(map = vl_value_new(VL_V_MAP)))
		goto out;
	for (i = 0; i < l->n; i++)
		if (vl_value_map_set(map, l->items[i].name, vl_value_str(l->items[i].url)) < 0)
			goto out;
	rc = vl_value_map_set(doc, "remotes", map);
	map = NULL;
	if (rc < 0)
		goto out;
	if ((rc = vl_yaml_emit(&text, doc)) < 0 || (rc = remotes_path(&p, n)) < 0 ||
			(rc = vl_buf_write_file(p.ptr, text.ptr, text.len, 0644)) < 0)
		goto out;
out:
	if (rc == VL_ENOMEM)
		vl_error_set(VL_ENOMEM, "out of memory");
	vl_value_free(doc);
	vl_value_free(map);
	vl_buf_free(&p);
	vl_buf_free(&text);
	return rc;
}

static const vl_remote *find(const vl_remote_list_result *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].name, name))
			return &l->items[i];
	return NULL;
}

int vl_remote_list(vl_node *n, const vl_remote_opts *opts, vl_remote_list_result *out)
{
	(void)opts;
	return load(out, n);
}

int vl_remote_add(vl_node *n, const vl_remote_opts *opts, vl_remote_list_result *out)
{
	size_t cap;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts || (rc = vl_remote_name_check(opts->name)) < 0 || (rc = vl_remote_url_check(opts->url)) < 0)
		return opts ? rc : vl_error_set(VL_EINVALID, "give a remote name and URL");
	if ((rc = vl_node_lock_write(n)) < 0 || (rc = load(out, n)) < 0)
		return rc;
	if (find(out, opts->name))
		return vl_error_set(VL_EEXISTS, "remote '%s' exists; remove it first ('vledger remote remove %s')",
				opts->name, opts->name);
	cap = out->n;
	if ((rc = list_add(out, &cap, opts->name, opts->url)) < 0)
		return rc;
	qsort(out->items, out->n, sizeof(*out->items), by_name);
	return save(n, out);
}

int vl_remote_remove(vl_node *n, const vl_remote_opts *opts, vl_remote_list_result *out)
{
	vl_remote *r;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts || !opts->name)
		return vl_error_set(VL_EINVALID, "give the name of the remote to remove");
	if ((rc = vl_node_lock_write(n)) < 0 || (rc = load(out, n)) < 0)
		return rc;
	if (!(r = (vl_remote *)find(out, opts->name)))
		return vl_error_set(VL_ENOTFOUND, "no remote named '%s'; 'vledger remote list' shows them", opts->name);
	free(r->name);
	free(r->url);
	memmove(r, r + 1, (size_t)((out->items + out->n) - (r + 1)) * sizeof(*r));
	out->n--;
	return save(n, out);
}

int vl_remote_is(vl_node *n, const char *name)
{
	vl_remote_list_result l;
	int is;

	if (!name || vl_remote_name_check(name) < 0) {
		vl_error_clear();
		return 0;
	}
	if ((is = load(&l, n)) < 0)
		return is;
	is = find(&l, name) != NULL;
	vl_remote_list_result_free(&l);
	return is;
}

/* ---- sync / pull ------------------------------------------------------------ */

void vl_remote_sync_result_free(vl_remote_sync_result *r)
{
	size_t i;

	if (!r)
		return;
	free(r->url);
	vl_receive_result_free(&r->receive);
	for (i = 0; i < r->npush; i++) {
		free(r->push[i].ref);
		free(r->push[i].message);
	}
	free(r->push);
	memset(r, 0, sizeof(*r));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* State the libgit2 callbacks share. */
typedef struct {
	const vl_progress *progress;
	size_t bytes, objects;
	int over;              /* a cap was hit: which */
	int refused;           /* the pack check's code (VL_E*) when it refused the pack, else 0 */
	char why[VL_ERRMSG_MAX]; /* its message then */
	int cred_tries;
	vl_buf push_errors;    /* "ref\tmessage\n" per ref the server refused */
} xfer;

/* Downloading: caps on bytes and objects, checked as they arrive. */
static int on_transfer(const git_indexer_progress *st, void *payload)
{
	xfer *x = payload;

	x->bytes = st->received_bytes;
	x->objects = st->received_objects;
	if (st->received_bytes > VL_RECEIVE_MAX_BYTES) {
		x->over = 1;
		return -1;
	}
	if (st->total_objects > VL_RECEIVE_MAX_OBJECTS) {
		x->over = 2;
		return -1;
	}
	vl_progress_report(x->progress, N_("fetch"), st->received_bytes, 0);
	return 0;
}

/*
 * ssh keys: $VLEDGER_SSH_KEY (a private key file), else the ssh agent,
 * else ~/.ssh/id_ed25519. Each once: libgit2 asks again after a refusal,
 * and a loop of the same key is no use.
 */
static int on_credentials(git_credential **out, const char *url, const char *user, unsigned int allowed,
		void *payload)
{
	xfer *x = payload;
	const char *key = getenv("VLEDGER_SSH_KEY"), *home = getenv("HOME");
	vl_buf p = VL_BUF_INIT;
	int rc = GIT_PASSTHROUGH;

	(void)url;
	if (!user || !*user)
		user = "git";
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if (!(allowed & GIT_CREDENTIAL_SSH_KEY) || x->cred_tries++ > 0)
		return GIT_PASSTHROUGH;
	if (key && *key)
		return git_credential_ssh_key_new(out, user, NULL, key, NULL);
	if (getenv("SSH_AUTH_SOCK"))
		return git_credential_ssh_key_from_agent(out, user);
	if (home && vl_buf_printf(&p, "%s/.ssh/id_ed25519", home) == 0 && access(p.ptr, R_OK) == 0)
		rc = git_credential_ssh_key_new(out, user, NULL, p.ptr, NULL);
	vl_buf_free(&p);
	return rc;
}

/* The server's answer for each pushed ref: NULL status is success. */
static int on_push_ref(const char *ref, const char *status, void *payload)
{
	xfer *x = payload;

	if (status && vl_buf_printf(&x->push_errors, "%s\t%s\n", ref, status) < 0)
		return -1;
	return 0;
}

/* The URL without user info, for labels and messages. */
static int url_label(vl_buf *out, const char *name, const char *url)
{
	const char *s = strstr(url, "://"), *at;

	if (s && (at = strchr(s + 3, '@')) && (!strchr(s + 3, '/') || at < strchr(s + 3, '/')))
		return vl_buf_printf(out, "remote '%s' (%.*s%s)", name, (int)(s + 3 - url), url, at + 1);
	return vl_buf_printf(out, "remote '%s' (%s)", name, url);
}

enum { XFER_REACH, XFER_FETCH, XFER_PUSH };

static int transfer_error(const xfer *x, const char *label, int what)
{
	const char *why = git_error_last() && git_error_last()->message ? git_error_last()->message :
		_("transfer failed");

	if (x->refused)
		return vl_error_set(x->refused, "%s sent a pack that was refused (nothing changed): %s", label, x->why);
	if (x->over == 1)
		return vl_error_set(VL_ETOOBIG, "%s sent over %zu bytes; refused (nothing changed)", label,
				VL_RECEIVE_MAX_BYTES);
	if (x->over == 2)
		return vl_error_set(VL_ETOOBIG, "%s offered over %d objects; refused (nothing changed)", label,
				VL_RECEIVE_MAX_OBJECTS);
	if (what == XFER_REACH)
		return vl_error_set(VL_ERROR, "cannot reach %s: %s; check the URL and that the server runs, then try "
				"again (nothing changed)", label, why);
	if (what == XFER_FETCH)
		return vl_error_set(VL_ERROR, "cannot fetch from %s: %s; check the URL and that the server runs, then "
				"try again (nothing changed)", label, why);
	return vl_error_set(VL_ERROR, "cannot push to %s: %s; check the URL and that the server runs, then try "
			"again (nothing changed)", label, why);
}

/* A ref this node may read from a remote: config, its scope branches, evidence. */
static int readable(const vl_node *n, const char *name)
{
	const char *code;

	if (strlen(name) > 255)
		return 0;
	if (!strcmp(name, VL_REF_CONFIG))
		return 1;
	if (has_prefix(name, "refs/evidence/"))
		return 1;
	if (!has_prefix(name, VL_REF_SCOPE_PREFIX))
		return 0;
	code = name + strlen(VL_REF_SCOPE_PREFIX);
	return strlen(code) == 12 && vl_division_level(code) != VL_DIV_INVALID && vl_division_covers(n->scope, code);
}

/* ---- the fetched pack: spooled, checked, then indexed ----------------------
 *
 * libgit2 1.5 writes a fetched pack (smart and local transports alike)
 * through git_odb_write_pack: the first backend, by priority, that has a
 * writepack. Its own (the pack backend) feeds libgit2's indexer, which
 * believes entry headers: a delta declaring an 8 GiB result is allocated
 * and filled, a zlib bomb likewise. So the temporary repository gets a
 * backend of ours, above it, that only writes packs: the bytes are spooled
 * to a file (at most VL_RECEIVE_MAX_BYTES), and commit puts them through
 * the check and indexer of bundles and the network (vl_pack_index_file)
 * into the repository's objects/pack, where its pack backend then finds
 * them. A refusal is kept in the xfer for transfer_error.
 */
typedef struct {
	git_odb_backend parent;
	vl_node *n;            /* borrowed: its objects complete a thin pack */
	xfer *x;               /* borrowed: progress caps, and where a refusal goes */
	char dir[4096];        /* the temporary repository (its path, ending in '/') */
} spool_backend;

typedef struct {
	git_odb_writepack parent;
	FILE *f;               /* the spool, <dir>incoming.pack */
	vl_buf path;
	uint64_t bytes;        /* appended so far */
	unsigned char head[12];
	size_t nhead;          /* bytes of the pack header seen */
	git_indexer_progress_cb cb;
	void *payload;
} spool_pack;

/* Keep the check's refusal (code and message) for transfer_error; GIT_ERROR
 * for libgit2, which then ends the download. */
static int spool_refuse(spool_backend *b, int rc)
{
	b->x->refused = rc < 0 ? rc : VL_ERROR;
	snprintf(b->x->why, sizeof(b->x->why), "%s", vl_error_last());
	git_error_set_str(GIT_ERROR_NET, b->x->why);
	return GIT_ERROR;
}

static int spool_append(git_odb_writepack *w, const void *data, size_t size, git_indexer_progress *stats)
{
	spool_pack *p = (spool_pack *)w;
	spool_backend *b = (spool_backend *)w->backend;
	size_t take;
	uint32_t count;

	if (!p->f)
		return GIT_ERROR;
	if (size > VL_RECEIVE_MAX_BYTES - p->bytes)
		return spool_refuse(b, vl_error_set(VL_ETOOBIG, "the pack is over %zu bytes", VL_RECEIVE_MAX_BYTES));
	if (fwrite(data, 1, size, p->f) != size)
		return spool_refuse(b, vl_error_set(VL_ERROR, "cannot write '%s': %s; free some disk space",
				p->path.ptr, strerror(errno)));
	p->bytes += size;
	/* The object count, from the header, for the progress and its cap. */
	if (p->nhead < sizeof(p->head)) {
		take = sizeof(p->head) - p->nhead < size ? sizeof(p->head) - p->nhead : size;
		memcpy(p->head + p->nhead, data, take);
		p->nhead += take;
		if (p->nhead == sizeof(p->head)) {
			count = (uint32_t)p->head[8] << 24 | (uint32_t)p->head[9] << 16 | (uint32_t)p->head[10] << 8 |
					p->head[11];
			stats->total_objects = count;
		}
	}
	if (p->cb && p->cb(stats, p->payload) != 0) {
		git_error_set_str(GIT_ERROR_NET, _("the transfer was stopped"));
		return GIT_EUSER;
	}
	return 0;
}

static int spool_commit(git_odb_writepack *w, git_indexer_progress *stats)
{
	spool_pack *p = (spool_pack *)w;
	spool_backend *b = (spool_backend *)w->backend;
	vl_buf packdir = VL_BUF_INIT;
	git_odb *odb = NULL;
	size_t objects = 0;
	int rc;

	if (!p->f) {
		rc = GIT_ERROR;
		goto out;
	}
	if (fflush(p->f) != 0) {
		rc = spool_refuse(b, vl_error_set(VL_ERROR, "cannot write '%s': %s; free some disk space", p->path.ptr,
				strerror(errno)));
		goto out;
	}
	if ((rc = vl_buf_printf(&packdir, "%sobjects/pack", b->dir)) < 0 ||
			(rc = vl_pack_index_file(&odb, &objects, b->n, packdir.ptr, p->f)) < 0) {
		rc = spool_refuse(b, rc);
		goto out;
	}
	stats->total_objects = stats->received_objects = stats->indexed_objects = (unsigned int)objects;
	rc = 0;
	if (p->cb && p->cb(stats, p->payload) != 0) {
		git_error_set_str(GIT_ERROR_NET, _("the transfer was stopped"));
		rc = GIT_EUSER;
	}
out:
	git_odb_free(odb);
	vl_buf_free(&packdir);
	return rc;
}

static void spool_free(git_odb_writepack *w)
{
	spool_pack *p = (spool_pack *)w;

	if (p->f)
		fclose(p->f);
	if (p->path.ptr)
		unlink(p->path.ptr);
	vl_buf_free(&p->path);
	free(p);
}

/* A writepack that refuses everything, for when ours cannot be made: a
 * failure here would make libgit2 try the next backend's, its own. */
static int refuse_append(git_odb_writepack *w, const void *data, size_t size, git_indexer_progress *stats)
{
	(void)w;
	(void)data;
	(void)size;
	(void)stats;
	return GIT_ERROR;
}

static int refuse_commit(git_odb_writepack *w, git_indexer_progress *stats)
{
	(void)w;
	(void)stats;
	return GIT_ERROR;
}

static void refuse_free(git_odb_writepack *w)
{
	(void)w;
}

static git_odb_writepack refuse_pack = { NULL, refuse_append, refuse_commit, refuse_free };

/* Never fails: libgit2 tries the next backend's writepack when one does
 * (git_odb_write_pack), and that is its own indexer. A spool that cannot
 * be opened refuses every append. */
static int spool_writepack(git_odb_writepack **out, git_odb_backend *be, git_odb *odb, git_indexer_progress_cb cb,
		void *payload)
{
	spool_backend *b = (spool_backend *)be;
	spool_pack *p = NULL;
	int rc;

	(void)odb;
	if (!(p = calloc(1, sizeof(*p)))) {
		(void)spool_refuse(b, vl_error_set(VL_ENOMEM, "out of memory"));
		*out = &refuse_pack;
		return 0;
	}
	p->parent.backend = be;
	p->parent.append = spool_append;
	p->parent.commit = spool_commit;
	p->parent.free = spool_free;
	p->cb = cb;
	p->payload = payload;
	if ((rc = vl_buf_printf(&p->path, "%sincoming.pack", b->dir)) < 0)
		(void)spool_refuse(b, rc);
	else if (!(p->f = fopen(p->path.ptr, "w+bx"))) {
		(void)spool_refuse(b, vl_error_set(VL_ERROR, "cannot write '%s': %s", p->path.ptr, strerror(errno)));
		vl_buf_free(&p->path);  /* not ours to unlink */
	}
	*out = &p->parent;
	return 0;
}

static void spool_backend_free(git_odb_backend *be)
{
	free(be);
}

/* Add the spooling backend to tmp's object database (which owns it). */
static int add_spool(git_repository *tmp, vl_node *n, xfer *x)
{
	git_odb *odb = NULL;
	spool_backend *b = NULL;
	int rc;

	if (!(b = calloc(1, sizeof(*b))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	if ((size_t)snprintf(b->dir, sizeof(b->dir), "%s", git_repository_path(tmp)) >= sizeof(b->dir)) {
		free(b);
		return vl_error_set(VL_EINVALID, "the node home's path is too long");
	}
	if ((rc = git_odb_init_backend(&b->parent, GIT_ODB_BACKEND_VERSION)) < 0) {
		free(b);
		return vl_error_git(rc, _("cannot set up the fetch"));
	}
	b->parent.writepack = spool_writepack;
	b->parent.free = spool_backend_free;
	b->n = n;
	b->x = x;
	if ((rc = git_repository_odb(&odb, tmp)) < 0) {
		free(b);
		return vl_error_git(rc, _("cannot set up the fetch"));
	}
	/* Above the pack (2) and loose (1) backends: ours takes the pack. */
	if ((rc = git_odb_add_backend(odb, &b->parent, 100)) < 0) {
		free(b);
		rc = vl_error_git(rc, _("cannot set up the fetch"));
	}
	git_odb_free(odb);
	return rc;
}

/* Fetch what n may read from url into the bare repository at dir. */
static int fetch_into(vl_remote_sync_result *out, vl_node *n, git_repository *tmp, const char *url,
		const char *label, xfer *x)
{
	git_remote *rem = NULL;
	git_remote_callbacks cbs;
	git_fetch_options fo;
	const git_remote_head **heads = NULL;
	git_strarray specs = { NULL, 0 };
	size_t nheads = 0, i, nevidence = 0;
	vl_buf spec = VL_BUF_INIT;
	int rc;

	if ((rc = git_remote_init_callbacks(&cbs, GIT_REMOTE_CALLBACKS_VERSION)) < 0 ||
			(rc = git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION)) < 0)
		return vl_error_git(rc, _("cannot set up the fetch"));
	cbs.transfer_progress = on_transfer;
	cbs.credentials = on_credentials;
	cbs.payload = x;
	if ((rc = git_remote_create_anonymous(&rem, tmp, url)) < 0) {
		rc = vl_error_set(VL_EINVALID, "cannot use the URL of %s: %s", label,
				git_error_last() ? git_error_last()->message : "invalid");
		goto out;
	}
	if ((rc = git_remote_connect(rem, GIT_DIRECTION_FETCH, &cbs, NULL, NULL)) < 0 ||
			(rc = git_remote_ls(&heads, &nheads, rem)) < 0) {
		rc = transfer_error(x, label, XFER_REACH);
		goto out;
	}
	out->remote_refs = nheads;
	if (nheads > VL_REMOTE_MAX_REFS) {
		rc = vl_error_set(VL_ETOOBIG, "%s advertises %zu refs, over %d; refused", label, nheads,
				VL_REMOTE_MAX_REFS);
		goto out;
	}
	if (!(specs.strings = calloc(nheads + 1, sizeof(char *)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nheads; i++) {
		const char *name = heads[i]->name;
		if (!readable(n, name) || git_reference_is_valid_name(name) != 1)
			continue;
		if (has_prefix(name, "refs/evidence/") && ++nevidence > VL_EVIDENCE_MAX_REFS)
			continue;
		vl_buf_clear(&spec);
		if ((rc = vl_buf_printf(&spec, "+%s:%s", name, name)) < 0)
			goto out;
		if (!(specs.strings[specs.count] = vl_buf_detach(&spec, NULL))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		specs.count++;
	}
	out->fetched_refs = specs.count;
	if (specs.count == 0) {
		rc = 0;
		goto out;
	}
	fo.callbacks = cbs;
	fo.prune = GIT_FETCH_NO_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	if ((rc = add_spool(tmp, n, x)) < 0)
		goto out;
	if ((rc = git_remote_download(rem, &specs, &fo)) < 0 ||
			(rc = git_remote_update_tips(rem, &cbs, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, "vledger fetch")) < 0) {
		rc = transfer_error(x, label, XFER_FETCH);
		goto out;
	}
	out->received_bytes = x->bytes;
	out->received_objects = x->objects;
	rc = 0;
out:
	if (rem)
		git_remote_disconnect(rem);
	git_remote_free(rem);
	git_strarray_dispose(&specs);
	vl_buf_free(&spec);
	return rc;
}

static int push_add(vl_remote_sync_result *out, size_t *cap, const char *ref, vl_push_state st, const char *msg)
{
	vl_push_item *it;

	if (vl_array_grow((void **)&out->push, cap, out->npush, sizeof(*out->push)) < 0)
		return vl_error_set(VL_ENOMEM, "out of memory");
	it = &out->push[out->npush];
	memset(it, 0, sizeof(*it));
	if (!(it->ref = strdup(ref)) || (msg && !(it->message = strdup(msg)))) {
		free(it->ref);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	it->state = st;
	out->npush++;
	return 0;
}

/* Push config and every scope branch this node holds where the remote's
 * head (as fetched into tmp) is missing or behind ours; never forced. */
static int push_to(vl_remote_sync_result *out, vl_node *n, git_repository *tmp, const char *url,
		const char *label, xfer *x, const vl_progress *prog)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	git_remote *rem = NULL;
	git_remote_callbacks cbs;
	git_push_options po;
	git_strarray specs = { NULL, 0 };
	size_t cap = 0, speccap = 0, i;
	vl_buf spec = VL_BUF_INIT;
	int rc;

	if ((rc = git_remote_init_callbacks(&cbs, GIT_REMOTE_CALLBACKS_VERSION)) < 0 ||
			(rc = git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION)) < 0)
		return vl_error_git(rc, _("cannot set up the push"));
	if ((rc = git_reference_iterator_new(&it, n->repo)) < 0) {
		rc = vl_error_git(rc, _("cannot list this node's branches"));
		goto out;
	}
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);
		const git_oid *ours = git_reference_target(ref);
		git_oid theirs;
		int have;
		if (!ours || (strcmp(name, VL_REF_CONFIG) && !has_prefix(name, VL_REF_SCOPE_PREFIX))) {
			git_reference_free(ref);
			ref = NULL;
			continue;
		}
		have = vl_repo_head(&theirs, tmp, name) == 0;
		vl_error_clear();
		if (have && git_oid_equal(&theirs, ours)) {
			rc = push_add(out, &cap, name, VL_PUSH_UPTODATE, NULL);
		} else if (have && git_graph_descendant_of(n->repo, ours, &theirs) != 1) {
			rc = push_add(out, &cap, name, VL_PUSH_SKIPPED, _("the remote's head is not in this node's history "
					"(refused above, or not merged); not pushed"));
		} else {
			vl_buf_clear(&spec);
			if ((rc = vl_buf_printf(&spec, "%s:%s", name, name)) < 0 ||
					(rc = vl_array_grow((void **)&specs.strings, &speccap, specs.count, sizeof(char *))) < 0)
				goto out;
			if (!(specs.strings[specs.count] = vl_buf_detach(&spec, NULL))) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			specs.count++;
			rc = push_add(out, &cap, name, VL_PUSH_DONE, NULL);
		}
		git_reference_free(ref);
		ref = NULL;
		if (rc < 0)
			goto out;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, _("cannot list this node's branches"));
		goto out;
	}
	out->pushed = 1;
	rc = 0;
	if (specs.count == 0)
		goto out;
	vl_progress_report(prog, N_("push"), 0, specs.count);
	cbs.credentials = on_credentials;
	cbs.push_update_reference = on_push_ref;
	cbs.payload = x;
	x->cred_tries = 0;
	po.callbacks = cbs;
	/* Anonymous: nothing is saved in repo.git's config, and with no fetch
	 * refspec no ref of repo.git moves after the push. */
	if ((rc = git_remote_create_anonymous(&rem, n->repo, url)) < 0 ||
			(rc = git_remote_push(rem, &specs, &po)) < 0) {
		for (i = 0; i < out->npush; i++)
			if (out->push[i].state == VL_PUSH_DONE)
				out->push[i].state = VL_PUSH_REJECTED;
		rc = transfer_error(x, label, XFER_PUSH);
		goto out;
	}
	/* What the server refused. */
	for (i = 0; i < out->npush && x->push_errors.len; i++) {
		const char *line = x->push_errors.ptr;
		size_t rl = strlen(out->push[i].ref);
		while (line && *line) {
			const char *nl = strchr(line, '\n');
			if (!strncmp(line, out->push[i].ref, rl) && line[rl] == '\t') {
				free(out->push[i].message);
				out->push[i].state = VL_PUSH_REJECTED;
				if (!(out->push[i].message = strndup(line + rl + 1, (size_t)(nl - line - (long)rl - 1)))) {
					rc = vl_error_set(VL_ENOMEM, "out of memory");
					goto out;
				}
			}
			line = nl ? nl + 1 : NULL;
		}
	}
	vl_progress_report(prog, N_("push"), specs.count, specs.count);
out:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	git_remote_free(rem);
	git_strarray_dispose(&specs);
	vl_buf_free(&spec);
	return rc;
}

/*
 * Let the fetch negotiate from what this node holds: the temporary
 * repository reads repo.git's objects as an alternate (so a thin pack's
 * bases resolve and a head we hold needs no download), and names our heads
 * under refs/haves/ (libgit2 offers every ref's commit as a "have"). Those
 * refs are not offered by the path source to anything receive looks at
 * (receive takes config, scope and evidence refs only), and the source
 * itself never reads alternates: it offers what was downloaded, and
 * receive finds the rest in the node, as from any source.
 */
static int seed_haves(git_repository **tmp, vl_node *n, const char *dir)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL, *made = NULL;
	vl_buf p = VL_BUF_INIT, objs = VL_BUF_INIT, name = VL_BUF_INIT;
	size_t k = 0;
	int rc;

	if ((rc = vl_buf_printf(&p, "%s/objects/info", dir)) < 0)
		goto out;
	(void)mkdir(p.ptr, 0755);
	if ((rc = vl_buf_puts(&p, "/alternates")) < 0 ||
			(rc = vl_buf_printf(&objs, "%sobjects\n", git_repository_path(n->repo))) < 0 ||
			(rc = vl_buf_write_file(p.ptr, objs.ptr, objs.len, 0644)) < 0)
		goto out;
	/* Reopen, so the object database reads the alternate. */
	git_repository_free(*tmp);
	*tmp = NULL;
	if ((rc = git_repository_open_bare(tmp, dir)) < 0) {
		rc = vl_error_git(rc, _("cannot open the temporary repository"));
		goto out;
	}
	if ((rc = git_reference_iterator_new(&it, n->repo)) < 0) {
		rc = vl_error_git(rc, _("cannot list this node's branches"));
		goto out;
	}
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const char *rn = git_reference_name(ref);
		const git_oid *id = git_reference_target(ref);
		if (id && (!strcmp(rn, VL_REF_CONFIG) || has_prefix(rn, VL_REF_SCOPE_PREFIX))) {
			vl_buf_clear(&name);
			if ((rc = vl_buf_printf(&name, "refs/haves/%zu", k++)) < 0)
				goto out;
			if ((rc = git_reference_create(&made, *tmp, name.ptr, id, 1, NULL)) < 0) {
				rc = vl_error_git(rc, _("cannot write the temporary repository"));
				goto out;
			}
			git_reference_free(made);
			made = NULL;
		}
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, _("cannot list this node's branches"));
		goto out;
	}
	rc = 0;
out:
	git_reference_free(ref);
	git_reference_free(made);
	git_reference_iterator_free(it);
	vl_buf_free(&p);
	vl_buf_free(&objs);
	vl_buf_free(&name);
	return rc;
}

/*
 * Fetch from a remote over the network into a new temporary repository
 * *tmp at dir (dir: "" until made; the caller removes it and frees *tmp),
 * and open that as the path source *src when a readable ref came.
 */
static int fetch_remote(vl_source **src, git_repository **tmp, char *dir, size_t dirsize, vl_remote_sync_result *out,
		vl_node *n, const char *url, const char *label, xfer *x)
{
	int rc;

	if ((size_t)snprintf(dir, dirsize, "%s/cache/remote-XXXXXX", n->home) >= dirsize) {
		dir[0] = '\0';
		return vl_error_set(VL_EINVALID, "the node home's path is too long");
	}
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		return vl_error_set(VL_ERROR, "cannot create a directory under '%s/cache': %s", n->home, strerror(errno));
	}
	if ((rc = git_repository_init(tmp, dir, 1)) < 0)
		return vl_error_git(rc, _("cannot create the temporary repository"));
	if ((rc = seed_haves(tmp, n, dir)) < 0 || (rc = fetch_into(out, n, *tmp, url, label, x)) < 0)
		return rc;
	if (out->fetched_refs > 0)
		return vl_source_open_path(src, dir);
	return 0;
}

/*
 * A remote on this machine (an absolute path or a file:// URL). libgit2
 * fetches from one through its local transport, which builds the pack from
 * the hub's objects with its own reader: a delta bomb stored in the hub is
 * applied (GiBs allocated) before any pack reaches the spooling backend. So
 * the hub is offered to receive as a path source (vl_source_open_path: its
 * packs are read through the checked reader, store/packread.h), and only
 * the push goes through libgit2, from this node's own objects.
 */
static int is_local(const char *url)
{
	return url[0] == '/' || has_prefix(url, "file://");
}

typedef struct {
	const vl_node *n;
	size_t all, readable;
} refcount;

static int count_ref(const char *name, const git_oid *target, void *ctx)
{
	refcount *c = ctx;

	(void)target;
	if (++c->all > VL_REMOTE_MAX_REFS)
		return vl_error_set(VL_ETOOBIG, "the remote holds over %d refs; refused", VL_REMOTE_MAX_REFS);
	if (readable(c->n, name))
		c->readable++;
	return 0;
}

/* The path source of a local remote, its refs counted into out; *hub (for
 * the push: the remote's heads) opened only when push is set. */
static int open_local(vl_source **src, git_repository **hub, vl_remote_sync_result *out, vl_node *n,
		const char *url, const char *label, int push)
{
	refcount c = { n, 0, 0 };
	int rc;

	if ((rc = vl_source_open_path(src, url)) < 0)
		return vl_error_wrap(rc, "%s", label);
	if ((rc = vl_source_list_refs(*src, count_ref, &c)) < 0)
		return vl_error_wrap(rc, "%s", label);
	out->remote_refs = c.all;
	out->fetched_refs = c.readable;
	if (push && (rc = git_repository_open_bare(hub, has_prefix(url, "file://") ? url + 7 : url)) < 0)
		return vl_error_set(VL_ENOTFOUND, "cannot open %s: %s; check the path", label,
				git_error_last() ? git_error_last()->message : "not a repository");
	return 0;
}

int vl_remote_sync(vl_node *n, const vl_remote_sync_opts *opts, vl_remote_sync_result *out)
{
	vl_remote_sync_opts dflt = VL_REMOTE_SYNC_OPTS_INIT;
	vl_receive_opts ropts = VL_RECEIVE_OPTS_INIT;
	vl_remote_list_result l = { NULL, 0 };
	const vl_remote *r;
	git_repository *tmp = NULL;
	vl_source *src = NULL;
	vl_buf label = VL_BUF_INIT;
	char dir[4096] = "";
	xfer x;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	if (!opts)
		opts = &dflt;
	x.progress = &opts->progress;
	if ((rc = vl_remote_name_check(opts->name)) < 0 || (rc = load(&l, n)) < 0)
		goto out;
	if (!(r = find(&l, opts->name))) {
		rc = vl_error_set(VL_ENOTFOUND, "no remote named '%s'; add it with 'vledger remote add %s URL' "
				"('vledger remote list' shows them)", opts->name, opts->name);
		goto out;
	}
	if (!(out->url = strdup(r->url))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = url_label(&label, r->name, r->url)) < 0)
		goto out;
	/* The receive takes the write lock anyway: take it first, so two syncs
	 * of one node do not fetch twice. */
	if ((rc = vl_node_lock_write(n)) < 0)
		goto out;
	if (is_local(r->url)) {
		if ((rc = open_local(&src, &tmp, out, n, r->url, label.ptr, opts->push)) < 0)
			goto out;
	} else if ((rc = fetch_remote(&src, &tmp, dir, sizeof(dir), out, n, r->url, label.ptr, &x)) < 0) {
		goto out;
	}
	/* An empty remote (a new hub): nothing to receive; a sync fills it. */
	if (out->fetched_refs > 0 || !opts->push) {
		if (out->fetched_refs == 0) {
			rc = vl_error_set(VL_ENOTFOUND, "%s holds no vledger branches yet; 'vledger sync %s' from a node "
					"with the config puts them there", label.ptr, r->name);
			goto out;
		}
		ropts.merge = opts->merge;
		ropts.progress = opts->progress;
		vl_buf_clear(&src->label);
		if ((rc = vl_buf_puts(&src->label, label.ptr)) < 0)
			goto out;
		out->received = 1;
		if ((rc = vl_receive(n, src, &ropts, &out->receive)) < 0)
			goto out;
	}
	if (opts->push) {
		if ((rc = push_to(out, n, tmp, r->url, label.ptr, &x, &opts->progress)) < 0)
			goto out;
		for (i = 0; i < out->npush; i++)
			if (out->push[i].state == VL_PUSH_SKIPPED || out->push[i].state == VL_PUSH_REJECTED) {
				rc = vl_error_set(VL_ECONFLICT, "%s did not take every branch (each is reported); "
						"its history differs from this node's", label.ptr);
				goto out;
			}
	}
	rc = 0;
out:
	vl_source_free(src);
	git_repository_free(tmp);
	if (*dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	vl_remote_list_result_free(&l);
	vl_buf_free(&label);
	vl_buf_free(&x.push_errors);
	return rc;
}
