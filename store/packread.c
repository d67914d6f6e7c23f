/*
 * packread.c - one pack of an untrusted repository, read in place through
 * libgit2 once each object's delta chain has been checked from its headers
 * (packread.h; the pack format: docs/formats.md §2).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "store/buf.h"
#include "store/delta.h"
#include "store/i18n.h"
#include "store/limits.h"
#include "store/pack.h"
#include "store/packread.h"

/* An entry's header, an OFS_DELTA's offset or a REF_DELTA's id, and the
 * start of a delta's zlib data: what is read of each entry checked. A
 * delta's own header (two sizes) comes out of the first few hundred bytes of
 * any zlib stream git writes. */
#define ENTRY_READ 4096
#define IDX_HEAD (8 + 256 * 4)

typedef struct {
	git_odb_backend parent;
	git_odb_backend *inner;      /* libgit2's reader of this one pack */
	char *pack_path;             /* for messages */
	int fd;                      /* the pack */
	uint64_t pack_len;
	vl_buf idx;                  /* the whole index */
	uint32_t n;                  /* objects */
	size_t nlarge;               /* 8-byte offsets */
	uint64_t *starts;            /* every entry's offset, ascending */
	unsigned char *ok;           /* per entry of starts: its chain passed */
	uint32_t *chain;             /* positions of the chain being checked */
	z_stream z;
	int zinit;
} packread;

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Read len bytes at off of the pack into buf (*got gets how many: len on
 * success). A failure sets a message naming the source's pack; the direct
 * reads (pack_object) drop it, since their caller reads through libgit2. */
static int pack_read(size_t *got, const packread *p, uint64_t off, unsigned char *buf, size_t len)
{
	ssize_t r;

	*got = 0;
	while (*got < len) {
		r = pread(p->fd, buf + *got, len - *got, (off_t)(off + *got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return vl_error_set(VL_ERROR, _("cannot read '%s' of the source: %s"), p->pack_path,
					strerror(errno));
		if (r == 0)
			return vl_error_set(VL_EINVALID, _("'%s' of the source is truncated or corrupt (it is shorter "
					"than its index says)"), p->pack_path);
		*got += (size_t)r;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* The index position of id, or -1. Ids are strictly ascending and agree
 * with the fanout (checked at open), so this finds what libgit2 finds. */
static int64_t find_id(const packread *p, const unsigned char *id)
{
	const unsigned char *fan = (const unsigned char *)p->idx.ptr + 8, *ids = fan + 1024;
	uint32_t lo = id[0] ? be32(fan + 4 * (id[0] - 1)) : 0, hi = be32(fan + 4 * id[0]);
	uint64_t key = be64(id), k;
	unsigned step = 0;

	/* The first 8 bytes as a number decide almost every step. Ids are
	 * SHA-1s, even over their range, so every other step guesses where the
	 * key lies between the ends (a few steps instead of ~11 for the
	 * 200,000 objects of a county's pack, each a cache miss in verify's
	 * lookup of every record); the halving steps between keep the worst
	 * case (ids crafted to be uneven) at twice a binary search. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const unsigned char *e;
		int c;
		if (step++ % 2 == 0 && hi - lo > 8) {
			uint64_t kl = be64(ids + (size_t)lo * GIT_OID_RAWSZ), kh = be64(ids + (size_t)(hi - 1) * GIT_OID_RAWSZ);
			if (key < kl || key > kh)
				return -1;
			if (kh > kl)
				mid = lo + (uint32_t)((double)(key - kl) / (double)(kh - kl) * (double)(hi - 1 - lo));
			if (mid >= hi)
				mid = hi - 1;
		}
		e = ids + (size_t)mid * GIT_OID_RAWSZ;
		k = be64(e);
		c = k < key ? -1 : k > key ? 1 : memcmp(e + 8, id + 8, GIT_OID_RAWSZ - 8);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The pack offset of index position k (large offsets were checked at open). */
static uint64_t offset_of(const packread *p, uint32_t k)
{
	const unsigned char *offs = (const unsigned char *)p->idx.ptr + IDX_HEAD + (size_t)p->n * 24;
	uint32_t o = be32(offs + 4 * (size_t)k);
	const unsigned char *l;

	if (!(o & 0x80000000u))
		return o;
	l = offs + (size_t)p->n * 4 + (size_t)(o & 0x7fffffffu) * 8;
	return (uint64_t)be32(l) << 32 | be32(l + 4);
}

/* The position in starts of an entry at off, or -1 when no entry starts
 * there. */
static int64_t find_start(const packread *p, uint64_t off)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->starts[mid] == off)
			return (int64_t)mid;
		if (p->starts[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Inflate the start of a delta's zlib data (in[0..len)) far enough to read
 * its two sizes. */
static int delta_head(uint64_t *base, uint64_t *result, packread *p, uint64_t off, const unsigned char *in,
		size_t len)
{
	unsigned char head[32];
	int zr = Z_OK;

	if (inflateReset(&p->z) != Z_OK)
		return vl_error_set(VL_ERROR, "cannot reset zlib");
	p->z.next_in = (unsigned char *)(uintptr_t)in;
	p->z.avail_in = (uInt)len;
	p->z.next_out = head;
	p->z.avail_out = sizeof(head);
	while (p->z.avail_out && zr == Z_OK) {
		uInt before_in = p->z.avail_in, before_out = p->z.avail_out;
		zr = inflate(&p->z, Z_SYNC_FLUSH);
		if (zr == Z_OK && p->z.avail_in == before_in && p->z.avail_out == before_out)
			break;
	}
	if ((zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) ||
			!vl_delta_sizes(base, result, head, sizeof(head) - p->z.avail_out))
		return vl_error_set(VL_EINVALID, _("'%s' of the source is truncated or corrupt: the delta at offset "
				"%llu has no readable header"), p->pack_path, (unsigned long long)off);
	return 0;
}

/* The type and size an entry's header (the first n bytes of u) declares:
 * the number of header bytes, or 0 when the header runs past n or over 64
 * bits. */
static size_t entry_head(int *type, uint64_t *size, const unsigned char *u, size_t n)
{
	unsigned char c;
	size_t i = 1;
	int shift = 4;

	if (n == 0)
		return 0;
	c = u[0];
	*type = (c >> 4) & 7;
	*size = c & 15;
	while (c & 0x80) {
		if (i >= n || shift > 56)
			return 0;
		c = u[i++];
		*size |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	}
	return i;
}

/* Check the entry at starts[pos]: its type and sizes; for a delta, *base
 * gets its base's position (else -1). */
static int check_entry(int64_t *base, packread *p, size_t pos)
{
	unsigned char buf[ENTRY_READ], c;
	uint64_t off = p->starts[pos], end = pos + 1 < p->n ? p->starts[pos + 1] : p->pack_len - GIT_OID_RAWSZ;
	uint64_t size, dbase, dresult, rel;
	size_t got, i;
	int type, rc;

	*base = -1;
	if ((rc = pack_read(&got, p, off, buf, end - off < sizeof(buf) ? (size_t)(end - off) : sizeof(buf))) < 0)
		return rc;
	if ((i = entry_head(&type, &size, buf, got)) == 0)
		return vl_error_set(VL_EINVALID, _("'%s' of the source is truncated or corrupt: the object at "
				"offset %llu has a malformed header"), p->pack_path, (unsigned long long)off);
	if (type == 0 || type == 5)
		return vl_error_set(VL_EINVALID, _("'%s' of the source is truncated or corrupt: the object at offset "
				"%llu is of unknown type %d"), p->pack_path, (unsigned long long)off, type);
	if (size > VL_SOURCE_MAX_OBJECT)
		return vl_error_set(VL_ETOOBIG, _("'%s' of the source holds an object of %llu bytes at offset %llu, "
				"over the limit of %zu"), p->pack_path, (unsigned long long)size,
				(unsigned long long)off, VL_SOURCE_MAX_OBJECT);
	if (type < 6)
		return 0;
	if (type == 6) {          /* OFS_DELTA: the base is rel bytes before */
		if (i >= got)
			goto malformed;
		c = buf[i++];
		rel = c & 0x7f;
		while (c & 0x80) {
			if (i >= got || rel > (UINT64_MAX >> 8))
				goto malformed;
			c = buf[i++];
			rel = ((rel + 1) << 7) | (c & 0x7f);
		}
		if (rel == 0 || rel > off || (*base = find_start(p, off - rel)) < 0)
			return vl_error_set(VL_EINVALID, _("'%s' of the source is truncated or corrupt: the delta at "
					"offset %llu names a base where no object starts"), p->pack_path,
					(unsigned long long)off);
	} else {                  /* REF_DELTA: the base's id, in this pack */
		int64_t k;
		if (got - i < GIT_OID_RAWSZ)
			goto malformed;
		if ((k = find_id(p, buf + i)) < 0 || (*base = find_start(p, offset_of(p, (uint32_t)k))) < 0)
			return vl_error_set(VL_EINVALID, _("'%s' of the source is truncated or corrupt: the delta at "
					"offset %llu names a base the pack does not hold"), p->pack_path,
					(unsigned long long)off);
		i += GIT_OID_RAWSZ;
	}
	if ((rc = delta_head(&dbase, &dresult, p, off, buf + i, got - i)) < 0)
		return rc;
	if (dbase > VL_SOURCE_MAX_OBJECT || dresult > VL_SOURCE_MAX_OBJECT)
		return vl_error_set(VL_ETOOBIG, _("'%s' of the source holds a delta at offset %llu making %llu bytes "
				"from %llu, over the limit of %zu"), p->pack_path, (unsigned long long)off,
				(unsigned long long)dresult, (unsigned long long)dbase, VL_SOURCE_MAX_OBJECT);
	return 0;
malformed:
	return vl_error_set(VL_EINVALID, _("'%s' of the source is truncated or corrupt: the delta at offset %llu "
			"is malformed"), p->pack_path, (unsigned long long)off);
}

/* Check the chain from the entry at starts[pos] down to a whole object (or
 * to an entry checked before), and remember every entry of it. */
static int check_chain(packread *p, size_t pos)
{
	size_t depth = 0, k;
	int64_t next = (int64_t)pos;
	int rc;

	while (next >= 0 && !p->ok[next]) {
		if (depth > VL_SOURCE_MAX_DELTA_DEPTH)
			return vl_error_set(VL_EINVALID, _("'%s' of the source is truncated or corrupt: a delta chain "
					"from offset %llu is longer than %d (or a cycle)"), p->pack_path,
					(unsigned long long)p->starts[pos], VL_SOURCE_MAX_DELTA_DEPTH);
		p->chain[depth++] = (uint32_t)next;
		if ((rc = check_entry(&next, p, (size_t)next)) < 0)
			return rc;
	}
	for (k = 0; k < depth; k++)
		p->ok[p->chain[k]] = 1;
	return 0;
}

/* The position in starts of the object id: VL_ENOTFOUND when the pack does
 * not hold it. */
static int locate(size_t *pos, packread *p, const git_oid *id)
{
	int64_t k = find_id(p, id->id), at;

	if (k < 0 || (at = find_start(p, offset_of(p, (uint32_t)k))) < 0)
		return VL_ENOTFOUND;
	*pos = (size_t)at;
	return 0;
}

int vl_packread_check(git_odb_backend *b, const git_oid *id)
{
	packread *p = (packread *)b;
	size_t pos;
	int rc;

	if ((rc = locate(&pos, p, id)) < 0)
		return vl_error_set(rc, "'%s' does not hold %s", p->pack_path, git_oid_tostr_s(id));
	return check_chain(p, pos);
}

/* Before libgit2 reads id: 0 to go on, GIT_ENOTFOUND, or GIT_ERROR with
 * libgit2's error set to our message (libgit2 reports backend errors
 * through its own). */
static int ready(packread *p, const git_oid *id)
{
	size_t pos;
	int rc;

	if (locate(&pos, p, id) < 0)
		return GIT_ENOTFOUND;
	if ((rc = check_chain(p, pos)) < 0) {
		/* Out of memory in its own class: the reader's error, not damage. */
		git_error_set_str(rc == VL_ENOMEM ? GIT_ERROR_NOMEMORY : GIT_ERROR_ODB, vl_error_last());
		return GIT_ERROR;
	}
	return 0;
}

static int pr_read(void **data, size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
	packread *p = (packread *)b;
	int rc = ready(p, id);

	return rc < 0 ? rc : p->inner->read(data, len, type, p->inner, id);
}

static int pr_read_header(size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
	packread *p = (packread *)b;
	int rc = ready(p, id);

	return rc < 0 ? rc : p->inner->read_header(len, type, p->inner, id);
}

static int pr_exists(git_odb_backend *b, const git_oid *id)
{
	size_t pos;

	return locate(&pos, (packread *)b, id) == 0;
}

static void pr_free(git_odb_backend *b)
{
	packread *p = (packread *)b;

	if (!p)
		return;
	if (p->inner)
		p->inner->free(p->inner);
	if (p->fd >= 0)
		close(p->fd);
	if (p->zinit)
		inflateEnd(&p->z);
	vl_buf_free(&p->idx);
	free(p->starts);
	free(p->ok);
	free(p->chain);
	free(p->pack_path);
	free(p);
}

/* Parse and check the index: layout, fanout, ids strictly ascending,
 * offsets within the pack, one object per offset; fill starts. */
static int load_index(packread *p, const char *idx_path)
{
	const unsigned char *u, *fan, *ids, *offs;
	size_t len, min, i;
	uint32_t prev = 0;
	int rc;

	if ((rc = vl_buf_read_regular(&p->idx, idx_path, IDX_HEAD + VL_SOURCE_MAX_PACK_OBJECTS * 36 + 40, 0)) < 0)
		return rc == VL_ETOOBIG ? vl_error_set(VL_ETOOBIG, _("'%s' of the source names more than %zu "
				"objects, over the limit"), idx_path, VL_SOURCE_MAX_PACK_OBJECTS) : rc;
	u = (const unsigned char *)p->idx.ptr;
	len = p->idx.len;
	if (len < IDX_HEAD + 40 || memcmp(u, "\377tOc\0\0\0\2", 8) != 0)
		goto bad;
	fan = u + 8;
	for (i = 0; i < 256; i++) {
		uint32_t f = be32(fan + 4 * i);
		if (f < prev)
			goto bad;
		prev = f;
	}
	p->n = prev;
	if (p->n > VL_SOURCE_MAX_PACK_OBJECTS)
		return vl_error_set(VL_ETOOBIG, _("'%s' of the source names more than %zu objects, over the limit"),
				idx_path, VL_SOURCE_MAX_PACK_OBJECTS);
	min = IDX_HEAD + (size_t)p->n * 28 + 40;
	if (len < min || (len - min) % 8)
		goto bad;
	p->nlarge = (len - min) / 8;
	ids = fan + 1024;
	offs = ids + (size_t)p->n * 24;
	if (!(p->starts = malloc(((size_t)p->n ? p->n : 1) * sizeof(*p->starts))) ||
			!(p->ok = calloc(p->n ? p->n : 1, 1)) ||
			!(p->chain = malloc((VL_SOURCE_MAX_DELTA_DEPTH + 2) * sizeof(*p->chain))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < p->n; i++) {
		const unsigned char *id = ids + i * GIT_OID_RAWSZ;
		uint32_t o = be32(offs + 4 * i), first = id[0] ? be32(fan + 4 * (id[0] - 1)) : 0;
		if (i < first || i >= be32(fan + 4 * id[0]) ||
				(i && memcmp(id - GIT_OID_RAWSZ, id, GIT_OID_RAWSZ) >= 0) ||
				((o & 0x80000000u) && (o & 0x7fffffffu) >= p->nlarge))
			goto bad;
		p->starts[i] = offset_of(p, (uint32_t)i);
	}
	qsort(p->starts, p->n, sizeof(*p->starts), cmp_u64);
	for (i = 0; i < p->n; i++)
		if (p->starts[i] < 12 || p->starts[i] >= p->pack_len - GIT_OID_RAWSZ ||
				(i && p->starts[i] == p->starts[i - 1]))
			return vl_error_set(VL_EINVALID, _("'%s' of the source does not match its pack (an object "
					"outside it, or two at one offset); the source is damaged"), idx_path);
	return 0;
bad:
	return vl_error_set(VL_EINVALID, _("'%s' of the source is not a valid pack index (version 2); the "
			"source is damaged"), idx_path);
}

/* Open and check the pack of idx_path; with_inner: with libgit2's reader of
 * it, for reads through the backend. */
static int pack_open(packread **out, const char *idx_path, int with_inner)
{
	packread *p = NULL;
	size_t n = strlen(idx_path);
	unsigned char head[12], trailer[GIT_OID_RAWSZ];
	size_t got;
	int rc;

	*out = NULL;
	if (n < 4 || strcmp(idx_path + n - 4, ".idx"))
		return vl_error_set(VL_EINVALID, "'%s' is not a pack index (.idx)", idx_path);
	if (!(p = calloc(1, sizeof(*p))) || !(p->pack_path = malloc(n + 2))) {
		free(p);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	p->fd = -1;
	memcpy(p->pack_path, idx_path, n - 4);
	memcpy(p->pack_path + n - 4, ".pack", 6);
	if (inflateInit(&p->z) != Z_OK) {
		rc = vl_error_set(VL_ENOMEM, "cannot start zlib");
		goto out;
	}
	p->zinit = 1;
	rc = vl_open_regular(&p->fd, &p->pack_len, p->pack_path, VL_REGULAR_MAY_BE_ABSENT);
	if (rc == VL_ENOTFOUND) {
		rc = vl_error_set(VL_ENOTFOUND, "'%s' has no pack beside it", idx_path);
		goto out;
	}
	if (rc < 0) { /* the pack's own message, whichever way it is not a regular file */
		rc = vl_error_set(VL_EINVALID, _("'%s' of the source is missing or not a regular file; refusing to "
				"read it"), p->pack_path);
		goto out;
	}
	if (p->pack_len < 12 + GIT_OID_RAWSZ) {
		rc = vl_error_set(VL_EINVALID, _("'%s' of the source is truncated or corrupt (not a pack)"),
				p->pack_path);
		goto out;
	}
	if ((rc = load_index(p, idx_path)) < 0)
		goto out;
	if ((rc = pack_read(&got, p, 0, head, sizeof(head))) < 0 ||
			(rc = pack_read(&got, p, p->pack_len - GIT_OID_RAWSZ, trailer, sizeof(trailer))) < 0)
		goto out;
	if (memcmp(head, "PACK\0\0\0\2", 8) || be32(head + 8) != p->n ||
			memcmp(trailer, p->idx.ptr + p->idx.len - 40, GIT_OID_RAWSZ)) {
		rc = vl_error_set(VL_EINVALID, _("'%s' of the source does not match its index; the source is "
				"damaged"), p->pack_path);
		goto out;
	}
	if (with_inner && (rc = git_odb_backend_one_pack(&p->inner, idx_path)) < 0) {
		p->inner = NULL;
		rc = vl_error_git(rc, _("cannot read the source's packs"));
		goto out;
	}
	if (git_odb_init_backend(&p->parent, GIT_ODB_BACKEND_VERSION) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot set up reading the source's objects");
		goto out;
	}
	p->parent.read = pr_read;
	p->parent.read_header = pr_read_header;
	p->parent.exists = pr_exists;
	p->parent.free = pr_free;
	*out = p;
	p = NULL;
	rc = 0;
out:
	pr_free(p ? &p->parent : NULL);
	return rc;
}

int vl_packread_backend(git_odb_backend **out, const char *idx_path)
{
	packread *p = NULL;
	int rc;

	*out = NULL;
	if ((rc = pack_open(&p, idx_path, 1)) < 0)
		return rc;
	*out = &p->parent;
	return 0;
}

/* ---- whole objects read directly ---- */

#define INFLATE_SLACK 512

struct vl_packread_scratch {
	z_stream z;
	vl_buf in;                  /* the entry as stored */
	size_t last;                /* the pack of the last object found */
};

int vl_packread_scratch_new(vl_packread_scratch **out)
{
	vl_packread_scratch *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return vl_error_set(VL_ENOMEM, "out of memory");
	if (inflateInit(&s->z) != Z_OK) {
		free(s);
		return vl_error_set(VL_ENOMEM, "cannot start zlib");
	}
	*out = s;
	return 0;
}

void vl_packread_scratch_free(vl_packread_scratch *s)
{
	if (!s)
		return;
	inflateEnd(&s->z);
	vl_buf_free(&s->in);
	free(s);
}

struct vl_packset {
	packread **packs;
	size_t n;
};

void vl_packset_free(vl_packset *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++)
		pr_free(&set->packs[i]->parent);
	free(set->packs);
	free(set);
}

int vl_packset_open(vl_packset **out, const char *objects_dir)
{
	vl_packset *set = NULL;
	vl_buf path = VL_BUF_INIT;
	size_t cap = 0, dlen;
	DIR *d = NULL;
	struct dirent *de;
	int rc;

	*out = NULL;
	if ((rc = vl_buf_printf(&path, "%s/pack/", objects_dir)) < 0)
		goto out;
	dlen = path.len;
	if (!(set = calloc(1, sizeof(*set)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	/* No packs: every read goes to libgit2. The order of the packs does
	 * not matter: any pack that holds an id gives its bytes, checked by
	 * hash. */
	if ((d = opendir(path.ptr)))
		while ((de = readdir(d)) != NULL && set->n < VL_SOURCE_MAX_PACKS) {
			size_t len = strlen(de->d_name);
			if (len < 5 || strcmp(de->d_name + len - 4, ".idx") != 0)
				continue;
			path.len = dlen;
			if ((rc = vl_buf_puts(&path, de->d_name)) < 0 ||
					(rc = vl_array_grow((void **)&set->packs, &cap, set->n, sizeof(*set->packs))) < 0)
				goto out;
			rc = pack_open(&set->packs[set->n], path.ptr, 0);
			if (rc == VL_ENOMEM)
				goto out;
			if (rc == 0)
				set->n++;
		}
	*out = set;
	set = NULL;
	rc = 0;
out:
	if (d)
		closedir(d);
	vl_buf_free(&path);
	vl_packset_free(set);
	return rc;
}

/* Object id of type want from the pack p into out, as vl_packset_read, or
 * 1 when p does not list id. Reads only what opening set (the index,
 * starts, the descriptor), so threads may share p. zlib checks the
 * stream's header and Adler-32 as git does: an entry stock git cannot
 * inflate is not read here either. */
static int pack_object(vl_buf *out, const packread *p, vl_packread_scratch *s, const git_oid *id,
		git_object_t want, size_t max)
{
	const unsigned char *u;
	uint64_t off, end, size;
	int64_t k, pos;
	size_t i, got;
	int type, zr;
	git_oid got_id;

	if ((k = find_id(p, id->id)) < 0)
		return 1;
	if ((pos = find_start(p, offset_of(p, (uint32_t)k))) < 0 || max > (size_t)INT32_MAX)
		return VL_ENOTFOUND;
	off = p->starts[pos];
	end = (size_t)pos + 1 < p->n ? p->starts[pos + 1] : p->pack_len - GIT_OID_RAWSZ;
	/* A whole object's entry is its header and its zlib data, which is at
	 * most a little over the object's size (stored blocks); beyond that it
	 * is not one we read here. */
	if (end - off > max + max / 64 + 64)
		return VL_ENOTFOUND;
	vl_buf_clear(&s->in);
	if (vl_buf_grow(&s->in, (size_t)(end - off)) < 0)
		return VL_ENOMEM;
	if (pack_read(&got, p, off, (unsigned char *)s->in.ptr, (size_t)(end - off)) < 0) {
		vl_error_clear(); /* not ours to report: libgit2 reads it and says why */
		return VL_ENOTFOUND;
	}
	u = (const unsigned char *)s->in.ptr;
	if ((i = entry_head(&type, &size, u, got)) == 0 || type != (int)want || size > max)
		return VL_ENOTFOUND;
	vl_buf_clear(out);
	/* Room past the size: zlib decodes with its fast loop only while 258
	 * bytes of output space are left, which without the slack would be the
	 * last third of a record. A stream longer than its header says ends
	 * in the slack and is refused below. */
	if (vl_buf_grow(out, (size_t)size + INFLATE_SLACK) < 0)
		return VL_ENOMEM;
	if (inflateReset(&s->z) != Z_OK)
		return VL_ENOTFOUND;
	s->z.next_in = (unsigned char *)(uintptr_t)(u + i);
	s->z.avail_in = (uInt)(got - i);
	s->z.next_out = (unsigned char *)out->ptr;
	s->z.avail_out = (uInt)size + INFLATE_SLACK;
	zr = inflate(&s->z, Z_FINISH);
	if (zr != Z_STREAM_END || s->z.total_out != size)
		return VL_ENOTFOUND;
	out->len = (size_t)size;
	out->ptr[out->len] = '\0';
	vl_object_id(&got_id, want, out->ptr, out->len);
	return git_oid_equal(&got_id, id) ? 0 : VL_ENOTFOUND;
}

int vl_packset_read(vl_buf *out, const vl_packset *set, vl_packread_scratch *s, const git_oid *id,
		git_object_t type, size_t max)
{
	size_t i, k;
	int rc;

	if (type < GIT_OBJECT_COMMIT || type > GIT_OBJECT_TAG) /* a delta is no object's type */
		return VL_ENOTFOUND;
	for (i = 0; set && i < set->n; i++) {
		k = (s->last + i) % set->n; /* a branch's objects mostly share a pack */
		if ((rc = pack_object(out, set->packs[k], s, id, type, max)) == 1)
			continue;
		if (rc == 0)
			s->last = k;
		return rc;
	}
	return VL_ENOTFOUND;
}
