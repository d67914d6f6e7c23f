/* pack.c - the pack writer and the in-memory stage (see pack.h). */
#include "store/pack.h"
#include "store/buf.h"

#include <git2/sys/odb_backend.h>
#include <errno.h>
#include <pthread.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ---- SHA-1 for the pack and index checksums and the ids of objects we
 * build ourselves (vl_object_id). Plain FIPS 180-1, without the collision
 * detection of libgit2's git_odb_hash: objects from elsewhere are hashed by
 * libgit2 when they are read or indexed. ---- */

typedef vl_sha1 sha1_ctx; /* pack.h: the state is public for vl_sha1_* */

static uint32_t rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(sha1_ctx *c, const unsigned char *p)
{
	uint32_t w[80], a, b, d, e, t, cc;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       (uint32_t)p[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0];
	b = c->h[1];
	cc = c->h[2];
	d = c->h[3];
	e = c->h[4];
	/* Four branch-free stretches of 20 rounds: the round function and its
	 * constant chosen per stretch, not per round (2x the loop with a
	 * branch in every round). */
#define VL_SHA1_ROUNDS(from, F, K) \
	for (i = (from); i < (from) + 20; i++) { \
		t = rol32(a, 5) + (F) + e + (K) + w[i]; \
		e = d; \
		d = cc; \
		cc = rol32(b, 30); \
		b = a; \
		a = t; \
	}
	VL_SHA1_ROUNDS(0, (d ^ (b & (cc ^ d))), 0x5A827999u)
	VL_SHA1_ROUNDS(20, (b ^ cc ^ d), 0x6ED9EBA1u)
	VL_SHA1_ROUNDS(40, ((b & cc) | (d & (b | cc))), 0x8F1BBCDCu)
	VL_SHA1_ROUNDS(60, (b ^ cc ^ d), 0xCA62C1D6u)
#undef VL_SHA1_ROUNDS
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
}

static void sha1_init(sha1_ctx *c)
{
	static const uint32_t h0[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };

	memcpy(c->h, h0, sizeof(h0));
	c->len = 0;
	c->used = 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define VL_SHA1_NI 1

/* One group of four rounds of the x86 SHA extensions, rounds 4g..4g+3
 * (g >= 1), with message register m (words 4g..4g+3, ready) and the
 * schedule of the next words run ahead (msg1/msg2/xor): the Intel
 * sequence, the same results as sha1_block's. */
#define VL_SHA1_NI_GROUP(e_in, e_out, m, m1, m2, m3, f) \
	e_in = _mm_sha1nexte_epu32(e_in, m); \
	e_out = abcd; \
	m1 = _mm_sha1msg2_epu32(m1, m); \
	abcd = _mm_sha1rnds4_epu32(abcd, e_in, f); \
	m3 = _mm_sha1msg1_epu32(m3, m); \
	m2 = _mm_xor_si128(m2, m)

/* nblocks 64-byte blocks into c->h with the SHA instructions (sha_ni: 5-8x
 * sha1_block; a pack's checksum is hashed on the one thread). */
__attribute__((target("sha,sse4.1,ssse3")))
static void sha1_blocks_ni(sha1_ctx *c, const unsigned char *p, size_t nblocks)
{
	const __m128i mask = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
	__m128i abcd, abcd_save, e0, e0_save, e1, m0, m1, m2, m3;

	abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)c->h), 0x1B);
	e0 = _mm_set_epi32((int)c->h[4], 0, 0, 0);
	for (; nblocks; nblocks--, p += 64) {
		abcd_save = abcd;
		e0_save = e0;
		/* rounds 0-3, 4-7, 8-11: the message loaded */
		m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), mask);
		e0 = _mm_add_epi32(e0, m0);
		e1 = abcd;
		abcd = _mm_sha1rnds4_epu32(abcd, e0, 0);
		m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), mask);
		e1 = _mm_sha1nexte_epu32(e1, m1);
		e0 = abcd;
		abcd = _mm_sha1rnds4_epu32(abcd, e1, 0);
		m0 = _mm_sha1msg1_epu32(m0, m1);
		m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 32)), mask);
		e0 = _mm_sha1nexte_epu32(e0, m2);
		e1 = abcd;
		abcd = _mm_sha1rnds4_epu32(abcd, e0, 0);
		m1 = _mm_sha1msg1_epu32(m1, m2);
		m0 = _mm_xor_si128(m0, m2);
		m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 48)), mask);
		/* rounds 12-79: group g uses message register g % 4 */
		VL_SHA1_NI_GROUP(e1, e0, m3, m0, m1, m2, 0);  /* 3 */
		VL_SHA1_NI_GROUP(e0, e1, m0, m1, m2, m3, 0);  /* 4 */
		VL_SHA1_NI_GROUP(e1, e0, m1, m2, m3, m0, 1);  /* 5 */
		VL_SHA1_NI_GROUP(e0, e1, m2, m3, m0, m1, 1);
		VL_SHA1_NI_GROUP(e1, e0, m3, m0, m1, m2, 1);
		VL_SHA1_NI_GROUP(e0, e1, m0, m1, m2, m3, 1);
		VL_SHA1_NI_GROUP(e1, e0, m1, m2, m3, m0, 1);  /* 9 */
		VL_SHA1_NI_GROUP(e0, e1, m2, m3, m0, m1, 2);  /* 10 */
		VL_SHA1_NI_GROUP(e1, e0, m3, m0, m1, m2, 2);
		VL_SHA1_NI_GROUP(e0, e1, m0, m1, m2, m3, 2);
		VL_SHA1_NI_GROUP(e1, e0, m1, m2, m3, m0, 2);
		VL_SHA1_NI_GROUP(e0, e1, m2, m3, m0, m1, 2);  /* 14 */
		VL_SHA1_NI_GROUP(e1, e0, m3, m0, m1, m2, 3);  /* 15 */
		VL_SHA1_NI_GROUP(e0, e1, m0, m1, m2, m3, 3);
		VL_SHA1_NI_GROUP(e1, e0, m1, m2, m3, m0, 3);
		VL_SHA1_NI_GROUP(e0, e1, m2, m3, m0, m1, 3);
		VL_SHA1_NI_GROUP(e1, e0, m3, m0, m1, m2, 3);  /* 19 */
		e0 = _mm_sha1nexte_epu32(e0, e0_save);
		abcd = _mm_add_epi32(abcd, abcd_save);
	}
	_mm_storeu_si128((__m128i *)(void *)c->h, _mm_shuffle_epi32(abcd, 0x1B));
	c->h[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}
#undef VL_SHA1_NI_GROUP

static int sha1_ni_ok;
static pthread_once_t sha1_ni_once = PTHREAD_ONCE_INIT;

/* The SHA extensions, SSSE3 and SSE4.1 (CPUID leaves 7 and 1), unless
 * VLEDGER_SHA1=portable (tests run both paths). */
static void sha1_ni_probe(void)
{
	unsigned a, b, cc, d;
	const char *env = getenv("VLEDGER_SHA1");

	if (env && !strcmp(env, "portable"))
		return;
	if (!__get_cpuid(1, &a, &b, &cc, &d) || !(cc & (1u << 9)) || !(cc & (1u << 19)))
		return;
	if (!__get_cpuid_count(7, 0, &a, &b, &cc, &d) || !(b & (1u << 29)))
		return;
	sha1_ni_ok = 1;
}
#endif

/* nblocks 64-byte blocks at p into c->h. */
static void sha1_blocks(sha1_ctx *c, const unsigned char *p, size_t nblocks)
{
#ifdef VL_SHA1_NI
	pthread_once(&sha1_ni_once, sha1_ni_probe);
	if (sha1_ni_ok) {
		sha1_blocks_ni(c, p, nblocks);
		return;
	}
#endif
	for (; nblocks; nblocks--, p += 64)
		sha1_block(c, p);
}

static void sha1_update(sha1_ctx *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	c->len += len;
	if (c->used) {
		size_t take = 64 - c->used < len ? 64 - c->used : len;
		memcpy(c->block + c->used, p, take);
		c->used += take;
		p += take;
		len -= take;
		if (c->used < 64)
			return;
		sha1_blocks(c, c->block, 1);
		c->used = 0;
	}
	if (len >= 64) {
		sha1_blocks(c, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	memcpy(c->block, p, len);
	c->used = len;
}

static void sha1_final(unsigned char out[20], sha1_ctx *c)
{
	uint64_t bits = c->len * 8;
	unsigned char pad[72] = { 0x80 };
	size_t padlen = (c->used < 56 ? 56 : 120) - c->used;
	unsigned i;

	for (i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(c, pad, padlen + 8);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

void vl_sha1_init(vl_sha1 *c)
{
	sha1_init(c);
}

void vl_sha1_update(vl_sha1 *c, const void *data, size_t len)
{
	sha1_update(c, data, len);
}

void vl_sha1_final(unsigned char out[20], vl_sha1 *c)
{
	sha1_final(out, c);
}

void vl_object_id(git_oid *out, git_object_t type, const void *data, size_t len)
{
	char hdr[40];
	const char *name = type == GIT_OBJECT_COMMIT ? "commit" : type == GIT_OBJECT_TREE ? "tree"
			 : type == GIT_OBJECT_TAG ? "tag" : "blob";
	int h = snprintf(hdr, sizeof(hdr), "%s %zu", name, len);
	sha1_ctx c;

	sha1_init(&c);
	sha1_update(&c, hdr, (size_t)h + 1); /* with its NUL */
	sha1_update(&c, data, len);
	sha1_final(out->id, &c);
}

unsigned vl_work_threads(void)
{
	const char *env = getenv("VLEDGER_THREADS");
	unsigned long v;
	char *end = NULL;

	if (env && env[0] >= '1' && env[0] <= '9') {
		v = strtoul(env, &end, 10);
		if (!*end)
			return v > VL_WORK_MAX_THREADS ? VL_WORK_MAX_THREADS : (unsigned)v;
	}
	return sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
}

typedef struct {
	vl_work_fn fn;
	void *ctx;
	size_t from, to;
	int rc;
	char msg[VL_ERRMSG_MAX];     /* vl_error_last, whole */
} work_part;

static void *work_main(void *arg)
{
	work_part *p = arg;

	p->rc = p->fn(p->ctx, p->from, p->to);
	if (p->rc < 0)
		snprintf(p->msg, sizeof(p->msg), "%s", vl_error_last());
	return NULL;
}

int vl_work_split(size_t n, unsigned threads, vl_work_fn fn, void *ctx)
{
	work_part parts[VL_WORK_MAX_THREADS];
	pthread_t th[VL_WORK_MAX_THREADS];
	unsigned t, started = 0;
	int rc = 0;

	if (threads > VL_WORK_MAX_THREADS)
		threads = VL_WORK_MAX_THREADS;
	if (threads < 2 || n < 2)
		return n ? fn(ctx, 0, n) : 0;
	if ((size_t)threads > n)
		threads = (unsigned)n;
	for (t = 0; t < threads; t++) {
		parts[t].fn = fn;
		parts[t].ctx = ctx;
		parts[t].from = n * t / threads;
		parts[t].to = n * (t + 1) / threads;
		parts[t].rc = 0;
		parts[t].msg[0] = '\0';
	}
	/* Parts 1.. on threads of their own, part 0 on this one; a thread
	 * that cannot start leaves its part to this one. */
	for (t = 1; t < threads; t++) {
		if (pthread_create(&th[t], NULL, work_main, &parts[t]) != 0)
			break;
		started = t;
	}
	work_main(&parts[0]);
	for (t = 1; t <= started; t++)
		pthread_join(th[t], NULL);
	for (t = started + 1; t < threads; t++)
		work_main(&parts[t]);
	/* The first failure in item order, as one thread would have met it. */
	for (t = 0; t < threads; t++) {
		if (parts[t].rc < 0) {
			rc = vl_error_set(parts[t].rc, "%s", parts[t].msg);
			break;
		}
	}
	return rc;
}

/* ---- an open-addressing set of ids: slots hold index + 1 into a caller's
 * array of records that start with a git_oid ---- */

typedef struct {
	uint32_t *slots;
	size_t mask; /* slots - 1; a power of two minus one, 0 when none */
} idset;

static size_t id_hash(const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h;
}

/* Find the slot for id among `recs` (stride bytes each, oid first): the
 * slot of the record with that id, or the empty one where it would go. */
static size_t idset_find(const idset *s, const void *recs, size_t stride, const git_oid *id)
{
	size_t i = id_hash(id) & s->mask;

	while (s->slots[i]) {
		const git_oid *have = (const git_oid *)(const void *)((const char *)recs +
				(size_t)(s->slots[i] - 1) * stride);
		if (git_oid_equal(have, id))
			break;
		i = (i + 1) & s->mask;
	}
	return i;
}

/* Make room for n records (load at most one half). */
static int idset_reserve(idset *s, const void *recs, size_t stride, size_t n)
{
	uint32_t *old = s->slots;
	size_t oldn = old ? s->mask + 1 : 0, want = 64, i;

	if (old && n * 2 <= oldn)
		return 0;
	while (want < n * 2)
		want *= 2;
	s->slots = calloc(want, sizeof(*s->slots));
	if (!s->slots) {
		s->slots = old;
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	s->mask = want - 1;
	for (i = 0; i < oldn; i++) {
		if (old[i]) {
			const git_oid *id = (const git_oid *)(const void *)((const char *)recs +
					(size_t)(old[i] - 1) * stride);
			s->slots[idset_find(s, recs, stride, id)] = old[i];
		}
	}
	free(old);
	return 0;
}

static void idset_clear(idset *s)
{
	free(s->slots);
	s->slots = NULL;
	s->mask = 0;
}

/* ---- the pack writer ---- */

typedef struct {
	git_oid id;
	uint64_t offset;
	uint32_t crc;
} packw_entry;

#define PACKW_BUFSZ ((size_t)1 << 20)

struct vl_packw {
	int fd;
	int do_fsync;
	int done;          /* finished or failed: takes nothing more */
	vl_buf dir;        /* <objects>/pack */
	vl_buf tmp_pack;   /* temporary names, empty once renamed or removed */
	vl_buf tmp_idx;
	packw_entry *ents;
	size_t n, cap;
	idset set;
	uint64_t offset;   /* bytes of the pack so far, buffered included */
	unsigned char *out;
	size_t out_len;
	z_stream z;
	int z_ready;
	/* vl_packw_expect: the count is in the header from the start, so
	 * the checksum runs over the bytes as they are written instead of
	 * reading the whole pack back at finish. */
	int streaming;
	uint32_t expect;
	sha1_ctx run;
	unsigned char *zbuf;
	size_t zcap;
};

/* zlib memLevel of the pack writer (see vl_packw_open). */
#define PACKW_MEMLEVEL 4

/* A deflate stream as the pack writer's at level. */
static int packw_zinit(z_stream *z, int level)
{
	memset(z, 0, sizeof(*z));
	/* memLevel 4, not zlib's 8: every object is a deflateReset, which
	 * clears the hash table (64 KiB at 8, 4 KiB at 4); for objects of a
	 * few KiB the smaller table compresses within 0.2% as well. */
	if (deflateInit2(z, Z_BEST_SPEED, Z_DEFLATED, 15, PACKW_MEMLEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		return vl_error_set(VL_ENOMEM, "cannot start zlib");
	if (level != Z_BEST_SPEED && deflateParams(z, level, Z_DEFAULT_STRATEGY) != Z_OK) {
		deflateEnd(z);
		return vl_error_set(VL_ERROR, "zlib refused level %d", level);
	}
	return 0;
}

static int write_all(int fd, const void *data, size_t len, const char *what)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vl_error_set(VL_ERROR, "cannot write %s: %s; check the disk", what, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int packw_flush_buf(vl_packw *w)
{
	int rc;

	if (w->streaming)
		sha1_update(&w->run, w->out, w->out_len);
	rc = write_all(w->fd, w->out, w->out_len, "a pack");

	w->out_len = 0;
	return rc;
}

/* Append to the pack, through the buffer. */
static int packw_put(vl_packw *w, const void *data, size_t len)
{
	int rc;

	w->offset += len;
	if (w->out_len + len > PACKW_BUFSZ) {
		if ((rc = packw_flush_buf(w)) < 0)
			return rc;
		if (len > PACKW_BUFSZ) {
			if (w->streaming)
				sha1_update(&w->run, data, len);
			return write_all(w->fd, data, len, "a pack");
		}
	}
	memcpy(w->out + w->out_len, data, len);
	w->out_len += len;
	return 0;
}

static int fsync_path(const char *path, int flags, const char *what)
{
	int fd = open(path, flags), rc = 0;

	if (fd < 0)
		return vl_error_set(VL_ERROR, "cannot open %s '%s': %s", what, path, strerror(errno));
	if (fsync(fd) < 0)
		rc = vl_error_set(VL_ERROR, "cannot fsync %s '%s': %s", what, path, strerror(errno));
	close(fd);
	return rc;
}

int vl_packw_open(vl_packw **out, const char *objects_dir, int do_fsync)
{
	vl_packw *w = NULL;
	unsigned char hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0 };
	int rc;

	*out = NULL;
	if (!(w = calloc(1, sizeof(*w))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	w->fd = -1;
	w->do_fsync = do_fsync;
	if ((rc = vl_buf_printf(&w->dir, "%s/pack", objects_dir)) < 0 ||
			(rc = vl_buf_printf(&w->tmp_pack, "%s/tmp_pack_XXXXXX", w->dir.ptr)) < 0)
		goto out;
	if (mkdir(w->dir.ptr, 0755) < 0 && errno != EEXIST) {
		rc = vl_error_set(VL_ERROR, "cannot create '%s': %s", w->dir.ptr, strerror(errno));
		goto out;
	}
	if (!(w->out = malloc(PACKW_BUFSZ))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = packw_zinit(&w->z, Z_BEST_SPEED)) < 0)
		goto out;
	w->z_ready = 1;
	if ((w->fd = mkstemp(w->tmp_pack.ptr)) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot create a pack in '%s': %s", w->dir.ptr, strerror(errno));
		vl_buf_clear(&w->tmp_pack);
		goto out;
	}
	if ((rc = packw_put(w, hdr, sizeof(hdr))) < 0)
		goto out;
	*out = w;
	w = NULL;
	rc = 0;
out:
	vl_packw_free(w);
	return rc;
}

int vl_packw_expect(vl_packw *w, size_t count)
{
	if (w->done || w->n || w->offset != 12 || w->out_len != 12)
		return vl_error_set(VL_ERROR, "a pack's object count is set before its first object");
	if (count == 0 || count > VL_PACKW_MAX_OBJECTS)
		return vl_error_set(VL_EINVALID, "a pack of %zu objects", count);
	put_be32(w->out + 8, (uint32_t)count);
	w->expect = (uint32_t)count;
	w->streaming = 1;
	sha1_init(&w->run);
	return 0;
}

int vl_packw_set_level(vl_packw *w, int level)
{
	if (level < Z_NO_COMPRESSION || level > Z_BEST_COMPRESSION)
		return vl_error_set(VL_EINVALID, "zlib level %d is not 0 to 9", level);
	if (deflateParams(&w->z, level, Z_DEFAULT_STRATEGY) != Z_OK)
		return vl_error_set(VL_ERROR, "zlib refused level %d", level);
	return 0;
}

int vl_packw_has(const vl_packw *w, const git_oid *id)
{
	return w->set.slots && w->set.slots[idset_find(&w->set, w->ents, sizeof(*w->ents), id)] != 0;
}

/*
 * Room for object id in w: 1 when the pack holds it already (nothing to
 * add), 0 when w->ents[w->n] is free for it and *slot is where its id goes
 * in the id set, <0 on error (the pack is full, or out of memory).
 */
static int packw_room(size_t *slot, vl_packw *w, const git_oid *id)
{
	int rc;

	if ((rc = idset_reserve(&w->set, w->ents, sizeof(*w->ents), w->n + 1)) < 0)
		return rc;
	*slot = idset_find(&w->set, w->ents, sizeof(*w->ents), id);
	if (w->set.slots[*slot])
		return 1;
	if (w->n >= VL_PACKW_MAX_OBJECTS)
		return vl_error_set(VL_ETOOBIG, "a pack holds at most %zu objects", VL_PACKW_MAX_OBJECTS);
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 1024;
		packw_entry *ne = realloc(w->ents, ncap * sizeof(*ne));
		if (!ne)
			return vl_error_set(VL_ENOMEM, "out of memory");
		w->ents = ne;
		w->cap = ncap;
	}
	return 0;
}

size_t vl_packw_count(const vl_packw *w)
{
	return w->n;
}

/* Bytes zlib_stored writes for len bytes: header, one 5-byte head per
 * stored block of at most 65,535 bytes (one at least), data, adler32. */
static size_t zlib_stored_bound(size_t len)
{
	return 2 + (len / 65535 + 1) * 5 + len + 4;
}

/* A zlib stream of data in stored (uncompressed) blocks, RFC 1950/1951, into
 * out (zlib_stored_bound(len) bytes); returns its length. */
static size_t zlib_stored(unsigned char *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t adler = (uint32_t)adler32_z(adler32(0L, Z_NULL, 0), p, len);
	size_t o = 0;

	out[o++] = 0x78; /* deflate, 32 KiB window */
	out[o++] = 0x01; /* fastest; 0x7801 is a multiple of 31 */
	do {
		size_t n = len > 65535 ? 65535 : len;
		out[o++] = len == n ? 1 : 0; /* BFINAL on the last, BTYPE 00 */
		out[o++] = (unsigned char)(n & 0xff);
		out[o++] = (unsigned char)(n >> 8);
		out[o++] = (unsigned char)(~n & 0xff);
		out[o++] = (unsigned char)((~n >> 8) & 0xff);
		memcpy(out + o, p, n);
		o += n;
		p += n;
		len -= n;
	} while (len);
	put_be32(out + o, adler);
	return o + 4;
}

/* A pack entry's header into hdr (at least 11 bytes): its type (1..7), then
 * its size 4 bits and 7 per byte, low first; returns its length. */
static size_t entry_header(unsigned char *hdr, unsigned type, uint64_t size)
{
	size_t h = 0;

	hdr[h] = (unsigned char)((type << 4) | (size & 15));
	size >>= 4;
	while (size) {
		hdr[h++] |= 0x80;
		hdr[h] = (unsigned char)(size & 127);
		size >>= 7;
	}
	return h + 1;
}

/*
 * One pack entry of an object, into *buf (of *cap bytes, grown as needed):
 * its header (type and size, 4 bits then 7 per byte) and its content
 * deflated by z (reset here; trees stored, not deflated: their entries are
 * mostly 20-byte hashes, which zlib shrinks by a fifth at three times the
 * cost of the rest of a received day, bench/bundle.sh: 0.11 s of 0.16 s).
 * *elen gets the entry's length, *crc its CRC-32 (what the index records).
 */
static int entry_encode(unsigned char **buf, size_t *cap, size_t *elen, uint32_t *crc, z_stream *z,
		git_object_t type, const void *data, size_t len)
{
	unsigned char hdr[16];
	size_t h, bound, zlen;
	int stored = type == GIT_OBJECT_TREE;

	h = entry_header(hdr, (unsigned)type, len);
	bound = h + (stored ? zlib_stored_bound(len) : deflateBound(z, (uLong)len));
	if (bound > *cap) {
		unsigned char *nb = realloc(*buf, bound);
		if (!nb)
			return vl_error_set(VL_ENOMEM, "out of memory");
		*buf = nb;
		*cap = bound;
	}
	memcpy(*buf, hdr, h);
	if (stored) {
		zlen = zlib_stored(*buf + h, data, len);
	} else {
		if (deflateReset(z) != Z_OK)
			return vl_error_set(VL_ERROR, "zlib failed");
		z->next_in = (Bytef *)(uintptr_t)data;
		z->avail_in = (uInt)len;
		z->next_out = *buf + h;
		z->avail_out = (uInt)(*cap - h);
		if (deflate(z, Z_FINISH) != Z_STREAM_END)
			return vl_error_set(VL_ERROR, "zlib failed to deflate an object");
		zlen = z->total_out;
	}
	*elen = h + zlen;
	*crc = (uint32_t)crc32(0, *buf, (uInt)*elen);
	return 0;
}

int vl_packw_add_known(vl_packw *w, const git_oid *id, git_object_t type, const void *data, size_t len)
{
	size_t slot, elen;
	packw_entry *e;
	uint32_t crc;
	int rc;

	if (w->done)
		return vl_error_set(VL_ERROR, "the pack is already finished");
	if (type < GIT_OBJECT_COMMIT || type > GIT_OBJECT_TAG)
		return vl_error_set(VL_EINVALID, "an object of type %d cannot go in a pack", (int)type);
	if ((rc = packw_room(&slot, w, id)) != 0)
		return rc < 0 ? rc : 0; /* an error, or the object is in the pack already */
	if ((rc = entry_encode(&w->zbuf, &w->zcap, &elen, &crc, &w->z, type, data, len)) < 0)
		return rc;
	e = &w->ents[w->n];
	git_oid_cpy(&e->id, id);
	e->offset = w->offset;
	e->crc = crc;
	if ((rc = packw_put(w, w->zbuf, elen)) < 0) {
		w->done = 1; /* the file is now inconsistent */
		return rc;
	}
	w->n++;
	w->set.slots[slot] = (uint32_t)w->n;
	return 0;
}

int vl_packw_add(git_oid *out, vl_packw *w, git_object_t type, const void *data, size_t len)
{
	git_oid id;
	int rc;

	if (type < GIT_OBJECT_COMMIT || type > GIT_OBJECT_TAG)
		return vl_error_set(VL_EINVALID, "an object of type %d cannot go in a pack", (int)type);
	vl_object_id(&id, type, data, len);
	if ((rc = vl_packw_add_known(w, &id, type, data, len)) < 0)
		return rc;
	if (out)
		git_oid_cpy(out, &id);
	return 0;
}

/* Append an entry another pack stores whole (header and deflated data, as
 * they are there), with the crc its index records; an id already in this
 * pack is skipped. */
static int packw_add_raw(vl_packw *w, const git_oid *id, const unsigned char *entry, size_t len, uint32_t crc)
{
	packw_entry *e;
	size_t slot;
	int rc;

	if (w->done)
		return vl_error_set(VL_ERROR, "the pack is already finished");
	if ((rc = packw_room(&slot, w, id)) != 0)
		return rc < 0 ? rc : 0; /* an error, or the object is in the pack already */
	e = &w->ents[w->n];
	git_oid_cpy(&e->id, id);
	e->offset = w->offset;
	e->crc = crc;
	if ((rc = packw_put(w, entry, len)) < 0) {
		w->done = 1;
		return rc;
	}
	w->n++;
	w->set.slots[slot] = (uint32_t)w->n;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return git_oid_cmp(&((const packw_entry *)a)->id, &((const packw_entry *)b)->id);
}

/* The pack's checksum: SHA-1 of everything written, read back (the object
 * count in the header is only known now). */
static int pack_checksum(unsigned char sum[20], vl_packw *w)
{
	sha1_ctx c;
	uint64_t at = 0;

	sha1_init(&c);
	while (at < w->offset) {
		size_t want = w->offset - at < PACKW_BUFSZ ? (size_t)(w->offset - at) : PACKW_BUFSZ;
		ssize_t n = pread(w->fd, w->out, want, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return vl_error_set(VL_ERROR, "cannot read back a pack: %s", n < 0 ? strerror(errno) : "short");
		sha1_update(&c, w->out, (size_t)n);
		at += (uint64_t)n;
	}
	sha1_final(sum, &c);
	return 0;
}

/* The index (v2) of the sorted entries into idx. */
static int build_idx(vl_buf *idx, const vl_packw *w, const unsigned char packsum[20])
{
	unsigned char be[8], sum[20];
	uint32_t fan[256] = { 0 }, nlarge = 0;
	size_t i;
	sha1_ctx c;
	int rc;

	idx->max = (size_t)-1;
	for (i = 0; i < w->n; i++)
		fan[w->ents[i].id.id[0]]++;
	for (i = 1; i < 256; i++)
		fan[i] += fan[i - 1];
	if ((rc = vl_buf_grow(idx, 8 + 1024 + w->n * 28 + 40)) < 0 ||
			(rc = vl_buf_put(idx, "\377tOc\0\0\0\2", 8)) < 0)
		return rc;
	for (i = 0; i < 256; i++) {
		put_be32(be, fan[i]);
		if ((rc = vl_buf_put(idx, be, 4)) < 0)
			return rc;
	}
	for (i = 0; i < w->n; i++)
		if ((rc = vl_buf_put(idx, w->ents[i].id.id, GIT_OID_RAWSZ)) < 0)
			return rc;
	for (i = 0; i < w->n; i++) {
		put_be32(be, w->ents[i].crc);
		if ((rc = vl_buf_put(idx, be, 4)) < 0)
			return rc;
	}
	for (i = 0; i < w->n; i++) {
		uint64_t off = w->ents[i].offset;
		put_be32(be, off < 0x80000000u ? (uint32_t)off : 0x80000000u | nlarge++);
		if ((rc = vl_buf_put(idx, be, 4)) < 0)
			return rc;
	}
	for (i = 0; i < w->n; i++) {
		uint64_t off = w->ents[i].offset;
		if (off < 0x80000000u)
			continue;
		put_be32(be, (uint32_t)(off >> 32));
		put_be32(be + 4, (uint32_t)off);
		if ((rc = vl_buf_put(idx, be, 8)) < 0)
			return rc;
	}
	if ((rc = vl_buf_put(idx, packsum, 20)) < 0)
		return rc;
	sha1_init(&c);
	sha1_update(&c, idx->ptr, idx->len);
	sha1_final(sum, &c);
	return vl_buf_put(idx, sum, 20);
}

int vl_packw_finish(git_oid *out, vl_packw *w)
{
	unsigned char count[4], sum[20];
	vl_buf idx = VL_BUF_INIT, name = VL_BUF_INIT, final = VL_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid packid;
	int ifd = -1, rc;

	if (w->done)
		return vl_error_set(VL_ERROR, "the pack is already finished");
	w->done = 1;
	if (w->n == 0) {
		/* Nothing to write: nothing appears. */
		close(w->fd);
		w->fd = -1;
		unlink(w->tmp_pack.ptr);
		vl_buf_clear(&w->tmp_pack);
		if (out)
			memset(out, 0, sizeof(*out));
		return 0;
	}
	put_be32(count, (uint32_t)w->n);
	if ((rc = packw_flush_buf(w)) < 0)
		goto out;
	if (w->streaming && w->n == w->expect) {
		/* The header said so from the start: every byte is hashed. */
		sha1_final(sum, &w->run);
	} else {
		if (pwrite(w->fd, count, 4, 8) != 4) {
			rc = vl_error_set(VL_ERROR, "cannot write a pack header: %s", strerror(errno));
			goto out;
		}
		if ((rc = pack_checksum(sum, w)) < 0)
			goto out;
	}
	if ((rc = write_all(w->fd, sum, 20, "a pack")) < 0)
		goto out;
	if (fchmod(w->fd, 0444) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot chmod a pack: %s", strerror(errno));
		goto out;
	}
	if (w->do_fsync && fsync(w->fd) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot fsync a pack: %s", strerror(errno));
		goto out;
	}
	qsort(w->ents, w->n, sizeof(*w->ents), cmp_entry);
	idset_clear(&w->set); /* its slots index the unsorted order */
	if ((rc = build_idx(&idx, w, sum)) < 0)
		goto out;
	if ((rc = vl_buf_printf(&w->tmp_idx, "%s/tmp_idx_XXXXXX", w->dir.ptr)) < 0)
		goto out;
	if ((ifd = mkstemp(w->tmp_idx.ptr)) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot create a pack index in '%s': %s", w->dir.ptr, strerror(errno));
		vl_buf_clear(&w->tmp_idx);
		goto out;
	}
	if ((rc = write_all(ifd, idx.ptr, idx.len, "a pack index")) < 0)
		goto out;
	if (fchmod(ifd, 0444) < 0 || (w->do_fsync && fsync(ifd) < 0)) {
		rc = vl_error_set(VL_ERROR, "cannot finish a pack index: %s", strerror(errno));
		goto out;
	}
	git_oid_fromraw(&packid, sum);
	git_oid_tostr(hex, sizeof(hex), &packid);
	if ((rc = vl_buf_printf(&name, "%s/pack-%s.pack", w->dir.ptr, hex)) < 0 ||
			(rc = vl_buf_printf(&final, "%s/pack-%s.idx", w->dir.ptr, hex)) < 0)
		goto out;
	/* The pack first, its index last: a pack without an index is not seen. */
	if (rename(w->tmp_pack.ptr, name.ptr) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot rename into '%s': %s", name.ptr, strerror(errno));
		goto out;
	}
	vl_buf_clear(&w->tmp_pack);
	if (rename(w->tmp_idx.ptr, final.ptr) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot rename into '%s': %s", final.ptr, strerror(errno));
		goto out;
	}
	vl_buf_clear(&w->tmp_idx);
	if (w->do_fsync && (rc = fsync_path(w->dir.ptr, O_RDONLY | O_DIRECTORY, "directory")) < 0)
		goto out;
	if (out)
		git_oid_cpy(out, &packid);
	rc = 0;
out:
	if (ifd >= 0)
		close(ifd);
	vl_buf_free(&idx);
	vl_buf_free(&name);
	vl_buf_free(&final);
	return rc;
}

void vl_packw_free(vl_packw *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp_pack.len)
		unlink(w->tmp_pack.ptr);
	if (w->tmp_idx.len)
		unlink(w->tmp_idx.ptr);
	if (w->z_ready)
		deflateEnd(&w->z);
	vl_buf_free(&w->dir);
	vl_buf_free(&w->tmp_pack);
	vl_buf_free(&w->tmp_idx);
	idset_clear(&w->set);
	free(w->ents);
	free(w->out);
	free(w->zbuf);
	free(w);
}

/* ---- the stage ---- */

typedef struct {
	git_oid id;
	git_object_t type;
	size_t len;
	unsigned char *data;
} stage_obj;

/* Stages sit above the packed (2) and loose (1) backends. */
#define VL_STAGE_PRIORITY 100

struct vl_stage {
	git_odb_backend parent; /* first: libgit2 hands us this pointer */
	int refs;               /* the odb's and the caller's */
	int open;
	int level;              /* zlib level of its packs */
	vl_buf objects_dir;     /* the repository's */
	stage_obj *objs;
	size_t n, cap, bytes;
	idset set;
};

static stage_obj *stage_get(const vl_stage *s, const git_oid *id)
{
	uint32_t slot;

	if (!s->open || !s->set.slots)
		return NULL;
	slot = s->set.slots[idset_find(&s->set, s->objs, sizeof(*s->objs), id)];
	return slot ? &s->objs[slot - 1] : NULL;
}

static void stage_empty(vl_stage *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->objs[i].data);
	s->n = 0;
	s->bytes = 0;
	if (s->set.slots)
		memset(s->set.slots, 0, (s->set.mask + 1) * sizeof(*s->set.slots));
}

static int stage_read(void **data, size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
	stage_obj *o = stage_get((vl_stage *)b, id);

	if (!o)
		return GIT_ENOTFOUND;
	if (!(*data = git_odb_backend_data_alloc(b, o->len ? o->len : 1)))
		return GIT_ERROR;
	memcpy(*data, o->data, o->len);
	*len = o->len;
	*type = o->type;
	return 0;
}

static int stage_read_header(size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
	stage_obj *o = stage_get((vl_stage *)b, id);

	if (!o)
		return GIT_ENOTFOUND;
	*len = o->len;
	*type = o->type;
	return 0;
}

static int stage_exists(git_odb_backend *b, const git_oid *id)
{
	return stage_get((vl_stage *)b, id) != NULL;
}

static int stage_write(git_odb_backend *b, const git_oid *id, const void *data, size_t len, git_object_t type)
{
	vl_stage *s = (vl_stage *)b;
	stage_obj *o;
	size_t slot;

	if (!s->open)
		return GIT_PASSTHROUGH;
	if (idset_reserve(&s->set, s->objs, sizeof(*s->objs), s->n + 1) < 0)
		return GIT_ERROR;
	slot = idset_find(&s->set, s->objs, sizeof(*s->objs), id);
	if (s->set.slots[slot])
		return 0;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		stage_obj *no = realloc(s->objs, ncap * sizeof(*no));
		if (!no)
			return GIT_ERROR;
		s->objs = no;
		s->cap = ncap;
	}
	o = &s->objs[s->n];
	if (!(o->data = malloc(len ? len : 1)))
		return GIT_ERROR;
	memcpy(o->data, data, len);
	git_oid_cpy(&o->id, id);
	o->type = type;
	o->len = len;
	s->n++;
	s->bytes += len;
	s->set.slots[slot] = (uint32_t)s->n;
	return 0;
}

/* A write stream into the stage (git_blob_create_from_buffer writes through
 * a stream). A closed stage declines it, and libgit2 asks the next backend. */
typedef struct {
	git_odb_stream parent;
	git_object_t type;
	unsigned char *buf;
	size_t len, cap;
} stage_stream;

static int stage_stream_write(git_odb_stream *st, const char *data, size_t len)
{
	stage_stream *ss = (stage_stream *)st;

	if (len > ss->cap - ss->len) {
		size_t ncap = ss->len + len;
		unsigned char *nb = realloc(ss->buf, ncap ? ncap : 1);
		if (!nb)
			return GIT_ERROR;
		ss->buf = nb;
		ss->cap = ncap;
	}
	memcpy(ss->buf + ss->len, data, len);
	ss->len += len;
	return 0;
}

static int stage_write(git_odb_backend *b, const git_oid *id, const void *data, size_t len, git_object_t type);

static int stage_stream_finalize(git_odb_stream *st, const git_oid *id)
{
	stage_stream *ss = (stage_stream *)st;

	return stage_write(st->backend, id, ss->buf, ss->len, ss->type);
}

static void stage_stream_free(git_odb_stream *st)
{
	stage_stream *ss = (stage_stream *)st;

	free(ss->buf);
	free(ss);
}

static int stage_writestream(git_odb_stream **out, git_odb_backend *b, git_object_size_t size, git_object_t type)
{
	stage_stream *ss;

	if (!((vl_stage *)b)->open)
		return GIT_PASSTHROUGH;
	if (size > (git_object_size_t)VL_BUF_DEFAULT_MAX || !(ss = calloc(1, sizeof(*ss))))
		return GIT_ERROR;
	if (!(ss->buf = malloc(size ? (size_t)size : 1))) {
		free(ss);
		return GIT_ERROR;
	}
	ss->cap = (size_t)size;
	ss->type = type;
	ss->parent.backend = b;
	ss->parent.mode = GIT_STREAM_WRONLY;
	ss->parent.write = stage_stream_write;
	ss->parent.finalize_write = stage_stream_finalize;
	ss->parent.free = stage_stream_free;
	*out = &ss->parent;
	return 0;
}

static void stage_unref(vl_stage *s)
{
	if (--s->refs > 0)
		return;
	stage_empty(s);
	free(s->objs);
	idset_clear(&s->set);
	vl_buf_free(&s->objects_dir);
	free(s);
}

static void stage_backend_free(git_odb_backend *b)
{
	stage_unref((vl_stage *)b);
}

int vl_stage_open_odb(vl_stage **out, git_odb *odb, const char *objects_dir)
{
	git_odb_backend *b = NULL;
	vl_stage *s = NULL;
	size_t i, nb;
	int rc;

	*out = NULL;
	/* A closed stage left on this odb by an earlier open: reuse it. */
	nb = git_odb_num_backends(odb);
	for (i = 0; i < nb; i++) {
		if (git_odb_get_backend(&b, odb, i) == 0 && b->read == stage_read && !((vl_stage *)b)->open) {
			s = (vl_stage *)b;
			vl_buf_clear(&s->objects_dir);
			if (objects_dir && (rc = vl_buf_puts(&s->objects_dir, objects_dir)) < 0)
				return rc;
			s->open = 1;
			s->level = Z_BEST_SPEED;
			s->refs++;
			*out = s;
			return 0;
		}
	}
	if (!(s = calloc(1, sizeof(*s))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	if ((rc = git_odb_init_backend(&s->parent, GIT_ODB_BACKEND_VERSION)) < 0) {
		free(s);
		return vl_error_git(rc, "cannot set up an object stage");
	}
	s->parent.read = stage_read;
	s->parent.read_header = stage_read_header;
	s->parent.write = stage_write;
	s->parent.writestream = stage_writestream;
	s->parent.exists = stage_exists;
	s->parent.free = stage_backend_free;
	s->refs = 1;
	s->level = Z_BEST_SPEED;
	if (objects_dir && (rc = vl_buf_puts(&s->objects_dir, objects_dir)) < 0) {
		stage_unref(s);
		return rc;
	}
	if ((rc = git_odb_add_backend(odb, &s->parent, VL_STAGE_PRIORITY)) < 0) {
		stage_unref(s);
		return vl_error_git(rc, "cannot set up an object stage");
	}
	/* The odb holds one reference, the caller the other. */
	s->refs = 2;
	s->open = 1;
	*out = s;
	return 0;
}

int vl_stage_open(vl_stage **out, git_repository *repo)
{
	git_odb *odb = NULL;
	vl_buf dir = VL_BUF_INIT;
	int rc;

	*out = NULL;
	if (!git_repository_path(repo))
		return vl_error_set(VL_EINVALID, "a repository without a directory has no objects to stage for; "
				"use vl_stage_open_odb");
	if ((rc = git_repository_odb(&odb, repo)) < 0) {
		rc = vl_error_git(rc, "cannot open the object database");
		goto out;
	}
	if ((rc = vl_buf_printf(&dir, "%sobjects", git_repository_path(repo))) < 0)
		goto out;
	rc = vl_stage_open_odb(out, odb, dir.ptr);
out:
	vl_buf_free(&dir);
	git_odb_free(odb);
	return rc;
}

int vl_stage_set_level(vl_stage *s, int level)
{
	if (level < Z_NO_COMPRESSION || level > Z_BEST_COMPRESSION)
		return vl_error_set(VL_EINVALID, "zlib level %d is not 0 to 9", level);
	s->level = level;
	return 0;
}

size_t vl_stage_count(const vl_stage *s)
{
	return s->n;
}

size_t vl_stage_bytes(const vl_stage *s)
{
	return s->bytes;
}

int vl_stage_add(git_oid *out, vl_stage *s, git_object_t type, const void *data, size_t len)
{
	git_oid id;
	int rc;

	if (type < GIT_OBJECT_COMMIT || type > GIT_OBJECT_TAG)
		return vl_error_set(VL_EINVALID, "an object of type %d cannot be staged", (int)type);
	vl_object_id(&id, type, data, len);
	if ((rc = vl_stage_add_known(s, &id, type, data, len)) < 0)
		return rc;
	if (out)
		git_oid_cpy(out, &id);
	return 0;
}

int vl_stage_add_known(vl_stage *s, const git_oid *id, git_object_t type, const void *data, size_t len)
{
	if (!s->open)
		return vl_error_set(VL_ERROR, "the object stage is closed");
	if (type < GIT_OBJECT_COMMIT || type > GIT_OBJECT_TAG)
		return vl_error_set(VL_EINVALID, "an object of type %d cannot be staged", (int)type);
#ifndef NDEBUG
	{
		git_oid want;
		vl_object_id(&want, type, data, len);
		if (!git_oid_equal(&want, id))
			return vl_error_set(VL_EINVALID, "an object staged with an id that is not its own; "
					"this is a bug in vledger, please report it");
	}
#endif
	if (stage_write(&s->parent, id, data, len, type) != 0)
		return vl_error_set(VL_ENOMEM, "out of memory");
	return 0;
}

vl_stage *vl_stage_writer(git_odb *odb)
{
	git_odb_backend *b = NULL;
	size_t i, nb = git_odb_num_backends(odb);

	/* The backends in libgit2's order, as a write tries them: a closed
	 * stage passes, the first backend that writes takes it. */
	for (i = 0; i < nb; i++) {
		if (git_odb_get_backend(&b, odb, i) < 0)
			return NULL;
		if (b->read == stage_read) {
			if (((vl_stage *)b)->open)
				return (vl_stage *)b;
		} else if (b->write || b->writestream) {
			return NULL;
		}
	}
	return NULL;
}

int vl_stage_has(const vl_stage *s, const git_oid *id)
{
	return stage_get(s, id) != NULL;
}

/* Objects a flush deflates at once (on vl_work_threads threads) before it
 * writes them in order: bounds the deflated copies held in memory. */
#define FLUSH_WINDOW 1024
/* Below this many objects in a window, one thread: starting one costs more. */
#define FLUSH_MIN_SPLIT 64

typedef struct {
	const stage_obj *objs;       /* the window's first object */
	const unsigned char *keep;   /* per object: 1 goes into the pack */
	int level;
	unsigned char **ent;         /* per object: its pack entry (entry_encode) */
	size_t *elen;
	uint32_t *crc;
} flush_job;

static int flush_part(void *ctx, size_t from, size_t to)
{
	flush_job *j = ctx;
	z_stream z;
	size_t i, cap;
	int rc;

	if ((rc = packw_zinit(&z, j->level)) < 0)
		return rc;
	for (i = from; i < to && rc == 0; i++) {
		const stage_obj *o = &j->objs[i];
		cap = 0;
		if (j->keep[i])
			rc = entry_encode(&j->ent[i], &cap, &j->elen[i], &j->crc[i], &z, o->type, o->data, o->len);
	}
	deflateEnd(&z);
	return rc;
}

int vl_stage_flush_filtered(git_oid *pack_out, vl_stage *s, const char *objects_dir, int do_fsync,
		vl_stage_keep_cb keep, void *payload)
{
	vl_packw *w = NULL;
	git_oid packid;
	flush_job j;
	unsigned char *keepv = NULL, **ent = NULL;
	size_t *elen = NULL;
	uint32_t *crc = NULL;
	size_t i, at, k, win = 0, kept = 0;
	unsigned threads = 1;
	int rc;

	if (!s->open)
		return vl_error_set(VL_ERROR, "the object stage is closed");
	memset(&packid, 0, sizeof(packid));
	if (s->n == 0)
		goto done;
	if (!objects_dir && !s->objects_dir.len) {
		rc = vl_error_set(VL_EINVALID, "the object stage has no objects directory to flush into");
		goto out;
	}
	if ((rc = vl_packw_open(&w, objects_dir ? objects_dir : s->objects_dir.ptr, do_fsync)) < 0)
		goto out;
	/* Which objects go in, first (the count goes in the pack's header,
	 * and the checksum runs as it is written); then they are deflated a
	 * window at a time, each window split over threads (each object
	 * deflated alone: the same bytes on any number of threads), and
	 * written in stage order. */
	win = s->n < FLUSH_WINDOW ? s->n : FLUSH_WINDOW;
	keepv = calloc(s->n, 1);
	ent = calloc(win, sizeof(*ent));
	elen = calloc(win, sizeof(*elen));
	crc = calloc(win, sizeof(*crc));
	if (!keepv || !ent || !elen || !crc) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if (s->level < Z_NO_COMPRESSION || s->level > Z_BEST_COMPRESSION) {
		rc = vl_error_set(VL_EINVALID, "zlib level %d is not 0 to 9", s->level);
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		const stage_obj *o = &s->objs[i];
		int kp = 1;
		if (keep && (kp = keep(&o->id, o->type, payload)) < 0) {
			rc = kp;
			goto out;
		}
		if (kp && (o->type < GIT_OBJECT_COMMIT || o->type > GIT_OBJECT_TAG)) {
			rc = vl_error_set(VL_EINVALID, "an object of type %d cannot go in a pack", (int)o->type);
			goto out;
		}
		keepv[i] = kp != 0;
		kept += keepv[i];
	}
	if (kept && (rc = vl_packw_expect(w, kept)) < 0)
		goto out;
	if (s->n >= FLUSH_MIN_SPLIT)
		threads = vl_work_threads();
	for (at = 0; at < s->n; at += k) {
		k = s->n - at < win ? s->n - at : win;
		j.objs = &s->objs[at];
		j.keep = keepv + at;
		j.level = s->level;
		j.ent = ent;
		j.elen = elen;
		j.crc = crc;
		if ((rc = vl_work_split(k, k >= FLUSH_MIN_SPLIT ? threads : 1, flush_part, &j)) < 0)
			goto out;
		for (i = 0; i < k; i++)
			if (keepv[at + i] && (rc = packw_add_raw(w, &s->objs[at + i].id, ent[i], elen[i], crc[i])) < 0)
				goto out;
		for (i = 0; i < k; i++) {
			free(ent[i]);
			ent[i] = NULL;
		}
	}
	if ((rc = vl_packw_finish(&packid, w)) < 0)
		goto out;
done:
	stage_empty(s);
	if (pack_out)
		git_oid_cpy(pack_out, &packid);
	rc = 0;
out:
	for (i = 0; ent && i < win; i++)
		free(ent[i]);
	free(ent);
	free(keepv);
	free(elen);
	free(crc);
	vl_packw_free(w);
	return rc;
}

int vl_stage_flush(git_oid *pack_out, vl_stage *s, const char *objects_dir, int do_fsync)
{
	return vl_stage_flush_filtered(pack_out, s, objects_dir, do_fsync, NULL, NULL);
}

void vl_stage_close(vl_stage *s)
{
	if (!s)
		return;
	stage_empty(s);
	s->open = 0;
	stage_unref(s);
}

/* ---- maintenance ---- */

static int is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

/* Loose objects in objects/17, as git estimates the whole from it. */
static size_t loose_in_17(const char *objects_dir)
{
	vl_buf p = VL_BUF_INIT;
	struct dirent *de;
	DIR *d = NULL;
	size_t n = 0;

	if (vl_buf_printf(&p, "%s/17", objects_dir) < 0 || !(d = opendir(p.ptr)))
		goto out;
	while ((de = readdir(d)))
		n += is_hex(de->d_name, GIT_OID_HEXSZ - 2);
out:
	if (d)
		closedir(d);
	vl_buf_free(&p);
	return n;
}

/* Add object id, read through odb, to the pack; 1 when added, 0 when it
 * cannot be read (left where it is, for fsck to report). */
static int add_from_odb(vl_packw *w, git_odb *odb, const git_oid *id)
{
	git_odb_object *o = NULL;
	int rc;

	if (vl_packw_has(w, id))
		return 1;
	if (git_odb_read(&o, odb, id) < 0)
		return 0;
	rc = vl_packw_add_known(w, id, git_odb_object_type(o), git_odb_object_data(o), git_odb_object_size(o));
	git_odb_object_free(o);
	return rc < 0 ? rc : 1;
}

/* Pack every loose object, then remove the loose files. */
static int pack_loose(size_t *packed, const char *objects_dir, git_odb *odb, int do_fsync)
{
	vl_packw *w = NULL;
	vl_buf p = VL_BUF_INIT;
	git_oid *ids = NULL;
	size_t n = 0, cap = 0, i;
	char hex[GIT_OID_HEXSZ + 1];
	struct dirent *de;
	DIR *d = NULL;
	unsigned fan;
	int rc;

	*packed = 0;
	if ((rc = vl_packw_open(&w, objects_dir, do_fsync)) < 0)
		goto out;
	for (fan = 0; fan < 256; fan++) {
		vl_buf_clear(&p);
		if ((rc = vl_buf_printf(&p, "%s/%02x", objects_dir, fan)) < 0)
			goto out;
		if (!(d = opendir(p.ptr)))
			continue;
		while ((de = readdir(d))) {
			git_oid id;
			if (!is_hex(de->d_name, GIT_OID_HEXSZ - 2))
				continue;
			snprintf(hex, sizeof(hex), "%02x%.38s", fan, de->d_name);
			if (git_oid_fromstr(&id, hex) < 0)
				continue;
			if ((rc = add_from_odb(w, odb, &id)) < 0)
				goto out;
			if (rc == 0)
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				git_oid *ni = realloc(ids, ncap * sizeof(*ni));
				if (!ni) {
					rc = vl_error_set(VL_ENOMEM, "out of memory");
					goto out;
				}
				ids = ni;
				cap = ncap;
			}
			git_oid_cpy(&ids[n++], &id);
		}
		closedir(d);
		d = NULL;
	}
	/* Durable before any loose file goes. */
	if ((rc = vl_packw_finish(NULL, w)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		git_oid_tostr(hex, sizeof(hex), &ids[i]);
		vl_buf_clear(&p);
		if ((rc = vl_buf_printf(&p, "%s/%.2s/%s", objects_dir, hex, hex + 2)) < 0)
			goto out;
		(void)unlink(p.ptr);
	}
	*packed = n;
	rc = 0;
out:
	if (d)
		closedir(d);
	vl_packw_free(w);
	vl_buf_free(&p);
	free(ids);
	return rc;
}

typedef struct {
	char *base;   /* <objects>/pack/pack-<sha>, without the suffix */
	off_t size;   /* of the .pack */
} pack_file;

static int file_exists(const char *base, const char *suffix, off_t *size)
{
	vl_buf p = VL_BUF_INIT;
	struct stat st;
	int r = 0;

	if (vl_buf_printf(&p, "%s%s", base, suffix) == 0 && stat(p.ptr, &st) == 0) {
		r = 1;
		if (size)
			*size = st.st_size;
	}
	vl_buf_free(&p);
	return r;
}

/* The packs of objects_dir that may be combined: index and pack present,
 * no .keep. */
static int list_packs(pack_file **out, size_t *nout, const char *objects_dir)
{
	vl_buf dir = VL_BUF_INIT, base = VL_BUF_INIT;
	pack_file *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = NULL;
	int rc;

	*out = NULL;
	*nout = 0;
	if ((rc = vl_buf_printf(&dir, "%s/pack", objects_dir)) < 0)
		goto out;
	if (!(d = opendir(dir.ptr))) {
		rc = 0;
		goto out;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		off_t size = 0;
		if (l != 5 + GIT_OID_HEXSZ + 4 || strncmp(de->d_name, "pack-", 5) || strcmp(de->d_name + l - 4, ".idx"))
			continue;
		vl_buf_clear(&base);
		if ((rc = vl_buf_printf(&base, "%s/%.*s", dir.ptr, (int)(l - 4), de->d_name)) < 0)
			goto out;
		if (!file_exists(base.ptr, ".pack", &size) || file_exists(base.ptr, ".keep", NULL))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			pack_file *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		v[n].size = size;
		if (!(v[n].base = vl_buf_detach(&base, NULL))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	*out = v;
	*nout = n;
	v = NULL;
	rc = 0;
out:
	while (v && n)
		free(v[--n].base);
	free(v);
	if (d)
		closedir(d);
	vl_buf_free(&dir);
	vl_buf_free(&base);
	return rc;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

typedef struct {
	uint64_t offset;
	uint32_t i;
} idx_pos;

static int cmp_idx_pos(const void *a, const void *b)
{
	const idx_pos *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * Add every object a pack's index (v2) lists. An object the pack stores whole
 * is copied as it is stored, checked against the crc its index records (as
 * `git repack` reuses data): no inflate, hash and deflate again, which made
 * a combine of a county's packs cost seconds. A delta (stock git's packs) is
 * read through odb and added whole.
 */
static int add_pack_objects(vl_packw *w, git_odb *odb, const char *base)
{
	vl_buf path = VL_BUF_INIT, idx = VL_BUF_INIT;
	const unsigned char *u, *pk = NULL;
	idx_pos *pos = NULL;
	size_t pack_len = 0, nlarge;
	struct stat st;
	uint32_t n, i;
	int fd = -1, rc;

	if ((rc = vl_buf_printf(&path, "%s.idx", base)) < 0 ||
			(rc = vl_buf_read_file(&idx, path.ptr, (size_t)1 << 30)) < 0)
		goto out;
	u = (const unsigned char *)idx.ptr;
	if (idx.len < 8 + 1024 + 40 || memcmp(u, "\377tOc\0\0\0\2", 8) != 0 ||
			(n = get_be32(u + 8 + 255 * 4), idx.len < 8 + 1024 + (size_t)n * 28 + 40)) {
		rc = vl_error_set(VL_EINVALID, "'%s' is not a pack index (v2); run git fsck", path.ptr);
		goto out;
	}
	nlarge = (idx.len - 8 - 1024 - (size_t)n * 28 - 40) / 8;
	vl_buf_clear(&path);
	if ((rc = vl_buf_printf(&path, "%s.pack", base)) < 0)
		goto out;
	if ((fd = open(path.ptr, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot read '%s': %s", path.ptr, strerror(errno));
		goto out;
	}
	pack_len = (size_t)st.st_size;
	if (pack_len < 12 + 20 || (pk = mmap(NULL, pack_len, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		pk = NULL;
		rc = vl_error_set(VL_EINVALID, "'%s' is not a pack; run git fsck", path.ptr);
		goto out;
	}
	if (memcmp(pk, "PACK\0\0\0\2", 8) != 0 || get_be32(pk + 8) != n) {
		rc = vl_error_set(VL_EINVALID, "'%s' does not match its index; run git fsck", path.ptr);
		goto out;
	}
	if (!(pos = calloc(n ? n : 1, sizeof(*pos)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		uint32_t o = get_be32(u + 8 + 1024 + (size_t)n * 24 + (size_t)i * 4);
		uint64_t off = o;
		if (o & 0x80000000u) {
			const unsigned char *l = u + 8 + 1024 + (size_t)n * 28 + (size_t)(o & 0x7fffffffu) * 8;
			if ((o & 0x7fffffffu) >= nlarge) {
				rc = vl_error_set(VL_EINVALID, "'%s' is not a pack index (v2); run git fsck", base);
				goto out;
			}
			off = (uint64_t)get_be32(l) << 32 | get_be32(l + 4);
		}
		pos[i].offset = off;
		pos[i].i = i;
	}
	qsort(pos, n, sizeof(*pos), cmp_idx_pos);
	for (i = 0; i < n; i++) {
		uint64_t off = pos[i].offset, end = i + 1 < n ? pos[i + 1].offset : pack_len - 20;
		uint32_t k = pos[i].i, crc;
		unsigned type;
		git_oid id;

		git_oid_fromraw(&id, u + 8 + 1024 + (size_t)k * GIT_OID_RAWSZ);
		if (off < 12 || end <= off || end > pack_len - 20) {
			rc = vl_error_set(VL_EINVALID, "'%s' does not match its index; run git fsck", path.ptr);
			goto out;
		}
		type = (pk[off] >> 4) & 7;
		if (type == 6 || type == 7) { /* OFS_DELTA, REF_DELTA */
			if ((rc = add_from_odb(w, odb, &id)) < 0)
				goto out;
			if (rc == 0) {
				rc = vl_error_set(VL_ERROR, "object %s of '%s' cannot be read; run git fsck",
						git_oid_tostr_s(&id), path.ptr);
				goto out;
			}
			continue;
		}
		crc = (uint32_t)crc32(0, pk + off, (uInt)(end - off));
		if (crc != get_be32(u + 8 + 1024 + (size_t)n * 20 + (size_t)k * 4)) {
			rc = vl_error_set(VL_EINVALID, "object %s of '%s' does not match its checksum; run git fsck",
					git_oid_tostr_s(&id), path.ptr);
			goto out;
		}
		if ((rc = packw_add_raw(w, &id, pk + off, (size_t)(end - off), crc)) < 0)
			goto out;
	}
	rc = 0;
out:
	free(pos);
	if (pk)
		munmap((void *)(uintptr_t)pk, pack_len);
	if (fd >= 0)
		close(fd);
	vl_buf_free(&path);
	vl_buf_free(&idx);
	return rc;
}

static int cmp_pack_size(const void *a, const void *b)
{
	const pack_file *x = a, *y = b;
	return x->size < y->size ? -1 : x->size > y->size;
}

/* Which packs to combine, as `git repack --geometric=2` chooses: sorted by
 * size, the packs above the split each hold at least twice what every
 * smaller pack holds together, and stay; the small ones below it are
 * combined (and any pack above that is not at least twice their sum). A
 * pack is rewritten O(log n) times in the county's life, not at every
 * combine: combining all but the largest rewrote most of a growing county
 * each time the limit was passed. Sorts packs; returns how many of its
 * first entries to combine (0 or at least 2). */
static size_t geometric_rollup(pack_file *packs, size_t n)
{
	uint64_t total = 0;
	size_t i, k = 0;

	if (n < 2)
		return 0;
	qsort(packs, n, sizeof(*packs), cmp_pack_size);
	/* The largest pack out of progression with the one below it. */
	for (i = n - 1; i > 0; i--)
		if ((uint64_t)packs[i].size < 2 * (uint64_t)packs[i - 1].size) {
			k = i + 1;
			break;
		}
	for (i = 0; i < k; i++)
		total += (uint64_t)packs[i].size;
	while (k < n && (uint64_t)packs[k].size < 2 * total)
		total += (uint64_t)packs[k++].size;
	return k >= 2 ? k : 0;
}

/* Combine the first k packs (sorted by geometric_rollup) into one, then
 * remove them. */
static int combine_packs(size_t *combined, const char *objects_dir, git_odb *odb, pack_file *packs, size_t k,
		int do_fsync)
{
	static const char *const suffixes[] = { ".idx", ".pack", ".rev", ".bitmap", ".promisor", ".mtimes" };
	vl_packw *w = NULL;
	vl_buf p = VL_BUF_INIT;
	size_t i, j;
	git_oid packid;
	char hex[GIT_OID_HEXSZ + 1];
	int rc;

	*combined = 0;
	if ((rc = vl_packw_open(&w, objects_dir, do_fsync)) < 0)
		goto out;
	for (i = 0; i < k; i++)
		if ((rc = add_pack_objects(w, odb, packs[i].base)) < 0)
			goto out;
	if ((rc = vl_packw_finish(&packid, w)) < 0)
		goto out;
	git_oid_tostr(hex, sizeof(hex), &packid);
	for (i = 0; i < k; i++) {
		size_t bl = strlen(packs[i].base);
		/* The new pack can have the name of an old one (same objects). */
		if (bl >= GIT_OID_HEXSZ && !strcmp(packs[i].base + bl - GIT_OID_HEXSZ, hex))
			continue;
		/* The index first: a pack without one is not read. */
		for (j = 0; j < sizeof(suffixes) / sizeof(suffixes[0]); j++) {
			vl_buf_clear(&p);
			if ((rc = vl_buf_printf(&p, "%s%s", packs[i].base, suffixes[j])) < 0)
				goto out;
			(void)unlink(p.ptr);
		}
		(*combined)++;
	}
	rc = 0;
out:
	vl_packw_free(w);
	vl_buf_free(&p);
	return rc;
}

/* Temporary pack files older than VL_PACK_TMP_GRACE seconds: left by a
 * writer killed mid-way (ours or stock git's; a younger one may still be
 * written). */
#define VL_PACK_TMP_GRACE 3600

static void remove_stale_tmp(const char *objects_dir)
{
	vl_buf dir = VL_BUF_INIT, p = VL_BUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	time_t now = time(NULL);

	if (vl_buf_printf(&dir, "%s/pack", objects_dir) < 0 || !(d = opendir(dir.ptr)))
		goto out;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "tmp_pack_", 9) != 0 && strncmp(de->d_name, "tmp_idx_", 8) != 0)
			continue;
		vl_buf_clear(&p);
		if (vl_buf_printf(&p, "%s/%s", dir.ptr, de->d_name) < 0)
			goto out;
		if (lstat(p.ptr, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime > VL_PACK_TMP_GRACE)
			(void)unlink(p.ptr);
	}
out:
	if (d)
		closedir(d);
	vl_buf_free(&dir);
	vl_buf_free(&p);
}

int vl_pack_auto(vl_pack_auto_result *out, const char *objects_dir, const vl_pack_auto_opts *opts)
{
	static const vl_pack_auto_opts defaults = VL_PACK_AUTO_OPTS_INIT;
	vl_pack_auto_result res = { 0, 0 };
	pack_file *packs = NULL;
	git_odb *odb = NULL;
	size_t npacks = 0, nroll = 0, i;
	int rc = 0;

	if (!opts)
		opts = &defaults;
	remove_stale_tmp(objects_dir);
	if (opts->loose_limit && loose_in_17(objects_dir) > (opts->loose_limit + 255) / 256) {
		if ((rc = git_odb_open(&odb, objects_dir)) < 0) {
			rc = vl_error_git(rc, "cannot open the object database");
			goto out;
		}
		if ((rc = pack_loose(&res.loose_packed, objects_dir, odb, opts->do_fsync)) < 0)
			goto out;
	}
	if (opts->pack_limit) {
		if ((rc = list_packs(&packs, &npacks, objects_dir)) < 0)
			goto out;
		if (npacks > opts->pack_limit && (nroll = geometric_rollup(packs, npacks)) > 0) {
			if (odb)
				rc = git_odb_refresh(odb);
			else
				rc = git_odb_open(&odb, objects_dir);
			if (rc < 0) {
				rc = vl_error_git(rc, "cannot open the object database");
				goto out;
			}
			if ((rc = combine_packs(&res.packs_combined, objects_dir, odb, packs, nroll, opts->do_fsync)) < 0)
				goto out;
		}
	}
	if (out)
		*out = res;
	rc = 0;
out:
	for (i = 0; i < npacks; i++)
		free(packs[i].base);
	free(packs);
	git_odb_free(odb);
	return rc;
}

int vl_pack_loose_now(size_t *packed, const char *objects_dir, int do_fsync)
{
	git_odb *odb = NULL;
	size_t n = 0;
	int rc;

	remove_stale_tmp(objects_dir);
	if ((rc = git_odb_open(&odb, objects_dir)) < 0)
		return vl_error_git(rc, "cannot open the object database");
	if ((rc = pack_loose(&n, objects_dir, odb, do_fsync)) == 0 && packed)
		*packed = n;
	git_odb_free(odb);
	return rc;
}

/* ---- a pack in memory ---- */

struct vl_packm {
	vl_buf *dst;
	size_t start;   /* where the pack begins in dst */
	size_t count;
	z_stream z;
	int zinit;
	int done;
};

int vl_packm_new(vl_packm **out, vl_buf *dst, int level)
{
	static const unsigned char hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0 };
	vl_packm *m = NULL;
	int rc;

	if (level < 0 || level > 9)
		return vl_error_set(VL_EINVALID, "zlib level %d is not 0..9", level);
	if (!(m = calloc(1, sizeof(*m))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	m->dst = dst;
	m->start = dst->len;
	memset(&m->z, 0, sizeof(m->z));
	if (deflateInit(&m->z, level) != Z_OK) {
		rc = vl_error_set(VL_ENOMEM, "cannot start zlib");
		goto out;
	}
	m->zinit = 1;
	if ((rc = vl_buf_put(dst, hdr, sizeof(hdr))) < 0)
		goto out;
	*out = m;
	m = NULL;
	rc = 0;
out:
	vl_packm_free(m);
	return rc;
}

/* One entry: header of `type` (pack type 1..7) and `size`, `base` (REF_DELTA
 * only), then data deflated. On failure dst is cut back to where it was. */
static int packm_entry(vl_packm *m, int type, uint64_t size, const git_oid *base, uint64_t base_off,
		const void *data, size_t len)
{
	unsigned char hdr[16 + GIT_OID_RAWSZ], ofs[16];
	size_t h = 0, was = m->dst->len, bound, o = sizeof(ofs) - 1;
	uint64_t here = was - m->start, dist;
	int rc;

	if (m->done)
		return vl_error_set(VL_EINVALID, "the pack is finished already");
	if (m->count >= VL_PACKW_MAX_OBJECTS)
		return vl_error_set(VL_ETOOBIG, "over %zu objects in one pack", VL_PACKW_MAX_OBJECTS);
	if (len > (size_t)UINT32_MAX)
		return vl_error_set(VL_ETOOBIG, "an object of %zu bytes is too large for a pack", len);
	h = entry_header(hdr, (unsigned)type, size);
	if (base) {
		memcpy(hdr + h, base->id, GIT_OID_RAWSZ);
		h += GIT_OID_RAWSZ;
	} else if (type == 6) {
		/* The distance back to the base: 7 bits a byte, most significant
		 * first, each continuation byte standing for one more than its
		 * value (git's offset encoding). */
		if (base_off < 12 || base_off >= here)
			return vl_error_set(VL_EINVALID, "a delta's base must be an earlier entry of its pack");
		dist = here - base_off;
		ofs[o] = (unsigned char)(dist & 127);
		while (dist >>= 7)
			ofs[--o] = (unsigned char)(128 | (--dist & 127));
		memcpy(hdr + h, ofs + o, sizeof(ofs) - o);
		h += sizeof(ofs) - o;
	}
	bound = deflateBound(&m->z, (uLong)len);
	if ((rc = vl_buf_put(m->dst, hdr, h)) < 0 || (rc = vl_buf_grow(m->dst, bound)) < 0)
		goto out;
	if (deflateReset(&m->z) != Z_OK) {
		rc = vl_error_set(VL_ERROR, "zlib failed");
		goto out;
	}
	m->z.next_in = (Bytef *)(uintptr_t)data;
	m->z.avail_in = (uInt)len;
	m->z.next_out = (Bytef *)m->dst->ptr + m->dst->len;
	m->z.avail_out = (uInt)bound;
	if (deflate(&m->z, Z_FINISH) != Z_STREAM_END) {
		rc = vl_error_set(VL_ERROR, "zlib failed to deflate an object");
		goto out;
	}
	m->dst->len += m->z.total_out;
	m->dst->ptr[m->dst->len] = '\0';
	m->count++;
	rc = 0;
out:
	if (rc < 0 && m->dst->ptr) {
		m->dst->len = was;
		m->dst->ptr[was] = '\0';
	}
	return rc;
}

int vl_pack_entry(vl_buf *out, git_object_t type, const void *data, size_t len)
{
	unsigned char hdr[16];
	size_t h, was = out->len;
	uLongf zlen;
	int rc;

	if (type != GIT_OBJECT_COMMIT && type != GIT_OBJECT_TREE && type != GIT_OBJECT_BLOB && type != GIT_OBJECT_TAG)
		return vl_error_set(VL_EINVALID, "object type %d cannot go in a pack", (int)type);
	if (len > (size_t)UINT32_MAX)
		return vl_error_set(VL_ETOOBIG, "an object of %zu bytes is too large for a pack", len);
	h = entry_header(hdr, (unsigned)type, len);
	zlen = compressBound((uLong)len);
	if ((rc = vl_buf_put(out, hdr, h)) < 0 || (rc = vl_buf_grow(out, zlen)) < 0)
		goto out;
	if (compress2((Bytef *)out->ptr + out->len, &zlen, data, (uLong)len, Z_BEST_SPEED) != Z_OK) {
		rc = vl_error_set(VL_ERROR, "zlib failed to deflate an object");
		goto out;
	}
	out->len += zlen;
	out->ptr[out->len] = '\0';
	rc = 0;
out:
	if (rc < 0 && out->ptr) {
		out->len = was;
		out->ptr[was] = '\0';
	}
	return rc;
}

int vl_packm_add(vl_packm *m, git_object_t type, const void *data, size_t len)
{
	if (type != GIT_OBJECT_COMMIT && type != GIT_OBJECT_TREE && type != GIT_OBJECT_BLOB && type != GIT_OBJECT_TAG)
		return vl_error_set(VL_EINVALID, "object type %d cannot go in a pack", (int)type);
	return packm_entry(m, (int)type, len, NULL, 0, data, len);
}

int vl_packm_add_ref_delta(vl_packm *m, const git_oid *base, const void *delta, size_t len)
{
	return packm_entry(m, 7, len, base, 0, delta, len);
}

int vl_packm_add_ofs_delta(vl_packm *m, uint64_t base_offset, const void *delta, size_t len)
{
	return packm_entry(m, 6, len, NULL, base_offset, delta, len);
}

uint64_t vl_packm_offset(const vl_packm *m)
{
	return m->dst->len - m->start;
}

size_t vl_packm_count(const vl_packm *m)
{
	return m->count;
}

int vl_packm_finish(vl_packm *m)
{
	unsigned char sum[20];
	sha1_ctx c;

	if (m->done)
		return vl_error_set(VL_EINVALID, "the pack is finished already");
	m->done = 1;
	put_be32((unsigned char *)m->dst->ptr + m->start + 8, (uint32_t)m->count);
	sha1_init(&c);
	sha1_update(&c, m->dst->ptr + m->start, m->dst->len - m->start);
	sha1_final(sum, &c);
	return vl_buf_put(m->dst, sum, sizeof(sum));
}

void vl_packm_free(vl_packm *m)
{
	if (!m)
		return;
	if (m->zinit)
		deflateEnd(&m->z);
	free(m);
}
