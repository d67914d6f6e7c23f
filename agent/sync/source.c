/*
 * source.c - sources of received data (source.h): another node's repo.git
 * on disk, read without libgit2's repository layer. libgit2 1.5 would read
 * the source's git config (following [include] to a FIFO: a hang), its
 * objects/info/alternates, and its loose objects with a loop that spins
 * forever on a truncated one (docs/threats.md). So refs are read here
 * (packed-refs and loose ref files, regular files only), loose objects by a
 * backend of our own (one bounded zlib pass over a capped, regular file),
 * and packs through store/packread.h: each pack and index checked to be
 * regular files that agree, and each object's delta chain checked from its
 * headers before libgit2 reads it (libgit2 believes an entry's declared
 * size, and followed a damaged delta offset to a 95 GB allocation).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <git2/sys/odb_backend.h>

#include "agent/sync/source.h"
#include "store/buf.h"
#include "store/error.h"
#include "store/i18n.h"
#include "store/packread.h"

/* ---- loose objects ------------------------------------------------------- */

typedef struct {
	git_odb_backend parent;
	char *objects;          /* <repo>/objects */
} loose_backend;

static int loose_path(vl_buf *p, const loose_backend *b, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	return vl_buf_printf(p, "%s/%.2s/%s", b->objects, hex, hex + 2);
}

/*
 * Inflate a loose object: "<type> <size>\0<data>". The whole file is in
 * memory, so every inflate call ends after one pass over it; the object
 * must end exactly where its header says. header_only: data not produced.
 * Errors are GIT_ENOTFOUND (no such file), or GIT_ERROR with a libgit2
 * error set (libgit2 reports backend errors through its own).
 */
static int loose_load(void **data, size_t *len, git_object_t *type, loose_backend *b, const git_oid *id,
		int header_only)
{
	vl_buf p = VL_BUF_INIT, file = VL_BUF_INIT;
	unsigned char head[64], *obj = NULL;
	z_stream z;
	size_t hl, k, size = 0;
	char *end = NULL;
	const char *msg = NULL;
	int rc, zr, zinit = 0, nomem = 0;

	memset(&z, 0, sizeof(z));
	if (loose_path(&p, b, id) < 0) {
		msg = _("out of memory");
		nomem = 1;
		goto out;
	}
	rc = vl_buf_read_regular(&file, p.ptr, VL_SOURCE_MAX_LOOSE, VL_REGULAR_MAY_BE_ABSENT);
	if (rc == VL_ENOTFOUND) {
		vl_buf_free(&p);
		return GIT_ENOTFOUND;
	}
	if (rc < 0) {
		msg = vl_error_last();
		nomem = rc == VL_ENOMEM;
		goto out;
	}
	if ((zr = inflateInit(&z)) != Z_OK) {
		msg = _("cannot start zlib");
		nomem = zr == Z_MEM_ERROR;
		goto out;
	}
	zinit = 1;
	z.next_in = (unsigned char *)file.ptr;
	z.avail_in = (uInt)file.len;
	z.next_out = head;
	z.avail_out = sizeof(head);
	zr = inflate(&z, Z_SYNC_FLUSH);
	if (zr != Z_OK && zr != Z_STREAM_END) {
		msg = _("loose object is truncated or corrupt");
		goto out;
	}
	hl = sizeof(head) - z.avail_out;
	for (k = 0; k < hl && head[k]; k++)
		;
	if (k == hl || k > 30) {
		msg = _("loose object is truncated or corrupt (no valid header)");
		goto out;
	}
	head[k] = '\0';
	if (!strncmp((char *)head, "commit ", 7))
		*type = GIT_OBJECT_COMMIT;
	else if (!strncmp((char *)head, "tree ", 5))
		*type = GIT_OBJECT_TREE;
	else if (!strncmp((char *)head, "blob ", 5))
		*type = GIT_OBJECT_BLOB;
	else if (!strncmp((char *)head, "tag ", 4))
		*type = GIT_OBJECT_TAG;
	else {
		msg = _("loose object has an unknown type");
		goto out;
	}
	{
		const char *digits = strchr((char *)head, ' ') + 1;
		unsigned long long v;
		errno = 0;
		v = strtoull(digits, &end, 10);
		if (errno || *end || !*digits || *digits < '0' || *digits > '9' ||
				(digits[0] == '0' && digits[1]) || v > ((unsigned long long)1 << 40) ||
				(!header_only && v > VL_SOURCE_MAX_OBJECT)) {
			msg = _("loose object's size is not a number within the limit");
			goto out;
		}
		size = (size_t)v;
	}
	k++; /* past the NUL: head[k..hl) is data already inflated */
	if (hl - k > size) {
		msg = _("loose object is longer than its header says");
		goto out;
	}
	if (!header_only) {
		if (!(obj = git_odb_backend_data_alloc(&b->parent, size + 1))) {
			msg = _("out of memory");
			nomem = 1;
			goto out;
		}
		memcpy(obj, head + k, hl - k);
		if (zr != Z_STREAM_END) {
			/* One more byte of room: data past the declared size shows. */
			z.next_out = obj + (hl - k);
			z.avail_out = (uInt)(size + 1 - (hl - k));
			zr = inflate(&z, Z_FINISH);
		}
		if (zr != Z_STREAM_END || z.total_out != k + size) {
			msg = _("loose object is truncated or corrupt");
			goto out;
		}
		obj[size] = '\0';
		*data = obj;
		obj = NULL;
	}
	*len = size;
out:
	if (zinit)
		inflateEnd(&z);
	if (obj)
		git_odb_backend_data_free(&b->parent, obj);
	if (msg) {
		/* Out of memory in its own class: the receiver's error, not the
		 * source's damage (receive.c source_oom). */
		git_error_set(nomem ? GIT_ERROR_NOMEMORY : GIT_ERROR_ODB, "%s: %s", git_oid_tostr_s(id), msg);
		rc = GIT_ERROR;
	} else {
		rc = 0;
	}
	vl_buf_free(&p);
	vl_buf_free(&file);
	return rc;
}

static int loose_read(void **data, size_t *len, git_object_t *type, git_odb_backend *be, const git_oid *id)
{
	git_oid check;
	int rc;

	if ((rc = loose_load(data, len, type, (loose_backend *)be, id, 0)) < 0)
		return rc;
	/* The name is the hash: anything else is a forgery or damage. */
	if (git_odb_hash(&check, *data, *len, *type) < 0 || !git_oid_equal(&check, id)) {
		git_odb_backend_data_free(be, *data);
		*data = NULL;
		git_error_set_str(GIT_ERROR_ODB, _("loose object does not hash to its name"));
		return GIT_ERROR;
	}
	return 0;
}

static int loose_read_header(size_t *len, git_object_t *type, git_odb_backend *be, const git_oid *id)
{
	return loose_load(NULL, len, type, (loose_backend *)be, id, 1);
}

static int loose_exists(git_odb_backend *be, const git_oid *id)
{
	vl_buf p = VL_BUF_INIT;
	struct stat st;
	int found;

	if (loose_path(&p, (loose_backend *)be, id) < 0)
		return 0;
	found = lstat(p.ptr, &st) == 0 && S_ISREG(st.st_mode);
	vl_buf_free(&p);
	return found;
}

static void loose_free(git_odb_backend *be)
{
	loose_backend *b = (loose_backend *)be;

	free(b->objects);
	free(b);
}

static int loose_backend_new(git_odb_backend **out, const char *objects)
{
	loose_backend *b = calloc(1, sizeof(*b));

	if (!b || !(b->objects = strdup(objects))) {
		free(b);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	if (git_odb_init_backend(&b->parent, GIT_ODB_BACKEND_VERSION) < 0) {
		loose_free(&b->parent);
		return vl_error_set(VL_ERROR, "cannot set up reading the source's objects");
	}
	b->parent.read = loose_read;
	b->parent.read_header = loose_read_header;
	b->parent.exists = loose_exists;
	b->parent.free = loose_free;
	*out = &b->parent;
	return 0;
}

/* ---- refs ---------------------------------------------------------------- */

typedef struct {
	char *name;
	git_oid id;
	size_t order;           /* loose refs first: they win over packed ones */
} ref_entry;

typedef struct {
	ref_entry *refs;
	size_t n, cap;
} ref_list;

static void ref_list_free(ref_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->refs[i].name);
	free(l->refs);
	memset(l, 0, sizeof(*l));
}

static int ref_cmp(const void *a, const void *b)
{
	const ref_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->order < y->order ? -1 : x->order > y->order;
}

static int ref_list_add(ref_list *l, const char *name, size_t nlen, const git_oid *id)
{
	if (l->n >= VL_SOURCE_MAX_REFS)
		return vl_error_set(VL_ETOOBIG, "the source has over %d refs", VL_SOURCE_MAX_REFS);
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		ref_entry *nr = realloc(l->refs, ncap * sizeof(*nr));
		if (!nr)
			return vl_error_set(VL_ENOMEM, "out of memory");
		l->refs = nr;
		l->cap = ncap;
	}
	if (!(l->refs[l->n].name = strndup(name, nlen)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	git_oid_cpy(&l->refs[l->n].id, id);
	l->refs[l->n].order = l->n;
	l->n++;
	return 0;
}

/* Loose refs below dir (whose ref name is prefix), regular files only;
 * symbolic refs, links and anything else are not offered. */
static int read_loose_refs(ref_list *l, vl_buf *dir, vl_buf *prefix, int depth)
{
	DIR *d = NULL;
	struct dirent *de;
	size_t dl = dir->len, pl = prefix->len;
	vl_buf content = VL_BUF_INIT;
	int rc = 0;

	if (depth > 8)
		return 0;
	if (!(d = opendir(dir->ptr)))
		return 0;
	while (rc == 0 && (de = readdir(d))) {
		struct stat st;
		git_oid id;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || de->d_name[0] == '.')
			continue;
		dir->len = dl;
		dir->ptr[dl] = '\0';
		prefix->len = pl;
		prefix->ptr[pl] = '\0';
		if ((rc = vl_buf_printf(dir, "/%s", de->d_name)) < 0 || (rc = vl_buf_printf(prefix, "/%s", de->d_name)) < 0)
			break;
		if (lstat(dir->ptr, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			rc = read_loose_refs(l, dir, prefix, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		vl_buf_clear(&content);
		if (vl_buf_read_regular(&content, dir->ptr, 256, VL_REGULAR_MAY_BE_ABSENT) < 0)
			continue; /* not a ref we can read: not offered */
		if (content.len >= GIT_OID_HEXSZ && git_oid_fromstrn(&id, content.ptr, GIT_OID_HEXSZ) == 0 &&
				(content.len == GIT_OID_HEXSZ ||
				 (content.len == GIT_OID_HEXSZ + 1 && content.ptr[GIT_OID_HEXSZ] == '\n')))
			rc = ref_list_add(l, prefix->ptr, prefix->len, &id);
	}
	dir->len = dl;
	dir->ptr[dl] = '\0';
	prefix->len = pl;
	prefix->ptr[pl] = '\0';
	closedir(d);
	vl_buf_free(&content);
	return rc;
}

/* packed-refs: "<hex> <name>" lines; '#' headers and '^' peeled lines are
 * skipped. */
static int read_packed_refs(ref_list *l, const char *repo)
{
	vl_buf p = VL_BUF_INIT, b = VL_BUF_INIT;
	const char *s, *eol;
	int rc;

	if ((rc = vl_buf_printf(&p, "%s/packed-refs", repo)) < 0)
		goto out;
	rc = vl_buf_read_regular(&b, p.ptr, VL_SOURCE_MAX_PACKED_REFS, VL_REGULAR_MAY_BE_ABSENT);
	if (rc == VL_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	for (s = b.ptr; s && s < b.ptr + b.len; s = eol ? eol + 1 : NULL) {
		git_oid id;
		size_t ll;
		eol = memchr(s, '\n', (size_t)(b.ptr + b.len - s));
		ll = eol ? (size_t)(eol - s) : (size_t)(b.ptr + b.len - s);
		if (ll < GIT_OID_HEXSZ + 2 || s[GIT_OID_HEXSZ] != ' ' || git_oid_fromstrn(&id, s, GIT_OID_HEXSZ) < 0)
			continue;
		if (memchr(s + GIT_OID_HEXSZ + 1, '\0', ll - GIT_OID_HEXSZ - 1))
			continue;
		if ((rc = ref_list_add(l, s + GIT_OID_HEXSZ + 1, ll - GIT_OID_HEXSZ - 1, &id)) < 0)
			goto out;
	}
	rc = 0;
out:
	vl_buf_free(&p);
	vl_buf_free(&b);
	return rc;
}

/* ---- the path source ----------------------------------------------------- */

typedef struct {
	vl_source base;
	char *path;
	git_odb *odb;
} path_source;

static int path_list_refs(vl_source *s, vl_source_ref_cb fn, void *ctx)
{
	path_source *ps = (path_source *)s;
	ref_list l = { NULL, 0, 0 };
	vl_buf dir = VL_BUF_INIT, prefix = VL_BUF_INIT;
	size_t i;
	int rc;

	if ((rc = vl_buf_printf(&dir, "%s/refs", ps->path)) < 0 || (rc = vl_buf_puts(&prefix, "refs")) < 0 ||
			(rc = read_loose_refs(&l, &dir, &prefix, 0)) < 0 || (rc = read_packed_refs(&l, ps->path)) < 0)
		goto out;
	/* Each name once: a loose ref wins over a packed one of that name. */
	if (l.n)
		qsort(l.refs, l.n, sizeof(*l.refs), ref_cmp);
	for (i = 0; i < l.n; i++) {
		if (i > 0 && !strcmp(l.refs[i - 1].name, l.refs[i].name))
			continue;
		if ((rc = fn(l.refs[i].name, &l.refs[i].id, ctx)) < 0)
			goto out;
	}
	rc = 0;
out:
	ref_list_free(&l);
	vl_buf_free(&dir);
	vl_buf_free(&prefix);
	return rc;
}

/* Add a store/packread.h reader for every objects/pack/pack-*.idx with its
 * pack beside it (at most VL_SOURCE_MAX_PACKS of them). */
static int add_packs(git_odb *odb, const char *objects)
{
	vl_buf dir = VL_BUF_INIT, idx = VL_BUF_INIT;
	git_odb_backend *pack = NULL;
	struct dirent *de;
	DIR *d = NULL;
	size_t n = 0, len;
	int rc = 0;

	if ((rc = vl_buf_printf(&dir, "%s/pack", objects)) < 0)
		return rc;
	if (!(d = opendir(dir.ptr)))
		goto out;
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (len < 9 || strncmp(de->d_name, "pack-", 5) || strcmp(de->d_name + len - 4, ".idx"))
			continue;
		if (++n > VL_SOURCE_MAX_PACKS) {
			rc = vl_error_set(VL_ETOOBIG, _("the source holds more than %d packs, over the limit; run "
					"git gc there"), VL_SOURCE_MAX_PACKS);
			goto out;
		}
		vl_buf_clear(&idx);
		if ((rc = vl_buf_printf(&idx, "%s/%s", dir.ptr, de->d_name)) < 0)
			goto out;
		rc = vl_packread_backend(&pack, idx.ptr);
		if (rc == VL_ENOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc < 0)
			goto out;
		if ((rc = git_odb_add_backend(odb, pack, 2)) < 0) {
			pack->free(pack);
			rc = vl_error_git(rc, _("cannot read the source's packs"));
			goto out;
		}
	}
out:
	if (d)
		closedir(d);
	vl_buf_free(&dir);
	vl_buf_free(&idx);
	return rc;
}

static int path_objects(vl_source *s, git_odb **out)
{
	path_source *ps = (path_source *)s;
	git_odb_backend *loose = NULL;
	vl_buf objects = VL_BUF_INIT;
	int rc;

	if (ps->odb) {
		*out = ps->odb;
		return 0;
	}
	if ((rc = vl_buf_printf(&objects, "%s/objects", ps->path)) < 0)
		goto out;
	if ((rc = git_odb_new(&ps->odb)) < 0) {
		rc = vl_error_git(rc, _("cannot set up reading the source's objects"));
		goto out;
	}
	if ((rc = loose_backend_new(&loose, objects.ptr)) < 0)
		goto out;
	/* Packs are asked first (priority 2 over 1, as libgit2's own odb
	 * does): most of a source is packed, and a loose lookup that misses
	 * costs an open() of a path that is not there. */
	if ((rc = git_odb_add_backend(ps->odb, loose, 1)) < 0) {
		loose->free(loose);
		rc = vl_error_git(rc, _("cannot set up reading the source's objects"));
		goto out;
	}
	/* One checked reader per pack (no alternates, no rescan of the
	 * directory for packs that appear later). */
	if ((rc = add_packs(ps->odb, objects.ptr)) < 0)
		goto out;
	*out = ps->odb;
	rc = 0;
out:
	if (rc < 0) {
		git_odb_free(ps->odb);
		ps->odb = NULL;
	}
	vl_buf_free(&objects);
	return rc;
}

static int path_peer_key(vl_source *s, unsigned char pk[32])
{
	(void)s;
	(void)pk;
	/* A path proves nobody: its keys/node.pub is bytes a rogue chose. */
	return VL_ENOTFOUND;
}

static void path_free(vl_source *s)
{
	path_source *ps = (path_source *)s;

	git_odb_free(ps->odb);
	vl_buf_free(&ps->base.label);
	free(ps->path);
	free(ps);
}

static const vl_source_ops path_ops = { path_list_refs, path_objects, path_peer_key, path_free };

/* Every file in objects/pack must be a regular file (a FIFO named
 * x.pack would block the pack reader when it opens it). */
static int check_pack_dir(const char *repo)
{
	vl_buf p = VL_BUF_INIT, f = VL_BUF_INIT;
	struct dirent *de;
	DIR *d = NULL;
	int rc = 0;

	if ((rc = vl_buf_printf(&p, "%s/objects/pack", repo)) < 0)
		return rc;
	if (!(d = opendir(p.ptr)))
		goto out;
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		vl_buf_clear(&f);
		if ((rc = vl_buf_printf(&f, "%s/%s", p.ptr, de->d_name)) < 0)
			break;
		if (lstat(f.ptr, &st) == 0 && !S_ISREG(st.st_mode)) {
			rc = vl_error_set(VL_EINVALID, "'%s' of the source is not a regular file; refusing to read "
					"the source", f.ptr);
			break;
		}
	}
	closedir(d);
out:
	vl_buf_free(&p);
	vl_buf_free(&f);
	return rc;
}

int vl_source_open_path(vl_source **out, const char *path)
{
	path_source *s = NULL;
	vl_buf p = VL_BUF_INIT;
	struct stat st;
	int rc;

	*out = NULL;
	if (!strncmp(path, "file://", 7))
		path += 7;
	if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup(path))) {
		free(s);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	s->base.ops = &path_ops;
	if ((rc = vl_buf_printf(&s->base.label, "'%s'", path)) < 0)
		goto out;
	/* A bare repository: objects/ and refs/ directories (HEAD and config
	 * are not read). */
	if ((rc = vl_buf_printf(&p, "%s/objects", path)) < 0)
		goto out;
	if (stat(p.ptr, &st) < 0 || !S_ISDIR(st.st_mode)) {
		rc = vl_error_set(VL_ENOTFOUND, "'%s' is not a git repository (give a node's repo.git)", path);
		goto out;
	}
	vl_buf_clear(&p);
	if ((rc = vl_buf_printf(&p, "%s/refs", path)) < 0)
		goto out;
	if (stat(p.ptr, &st) < 0 || !S_ISDIR(st.st_mode)) {
		rc = vl_error_set(VL_ENOTFOUND, "'%s' is not a git repository (give a node's repo.git)", path);
		goto out;
	}
	if ((rc = check_pack_dir(path)) < 0)
		goto out;
	*out = &s->base;
	s = NULL;
	rc = 0;
out:
	if (s)
		path_free(&s->base);
	vl_buf_free(&p);
	return rc;
}

void vl_source_free(vl_source *s)
{
	if (s)
		s->ops->free(s);
}

int vl_source_list_refs(vl_source *s, vl_source_ref_cb fn, void *ctx)
{
	return s->ops->list_refs(s, fn, ctx);
}

int vl_source_objects(vl_source *s, git_odb **out)
{
	return s->ops->objects(s, out);
}

int vl_source_peer_key(vl_source *s, unsigned char pk[32])
{
	return s->ops->peer_key(s, pk);
}

const char *vl_source_label(const vl_source *s)
{
	return s->label.ptr;
}
