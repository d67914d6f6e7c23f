/*
 * test_packread.c - the checked reader of an untrusted source's pack
 * (store/packread.h), against packs and v2 indexes written byte by byte
 * here: a good chain read back through an odb with only this backend, and
 * the damage libgit2 1.5 believes on its own (an entry or a delta declaring
 * 1 TiB, an OFS_DELTA landing mid-entry on bytes that read as a 95 GB
 * header, as in the CI crash, REF_DELTA cycles, unknown types) and index /
 * pack disagreements refused at open, a FIFO among them.
 *
 * Under ASan no single allocation may pass 128 MiB (__asan_default_options
 * below): a reader that believed one of these headers aborts instead of
 * getting lucky with overcommit. Without ASan, the exact codes and message
 * words tell a checked refusal from libgit2's own "out of memory".
 *
 * The good pack is checked by stock git (verify-pack), so each damaged one
 * differs from a pack git accepts by the damage alone. Against plain
 * git_odb_backend_one_pack every refusal here fails: the 1 TiB and 95 GB
 * headers abort under ASan (or fail with "out of memory"), the REF_DELTA
 * cycle never returns, the others read, open or say something else. What
 * the check leaves to libgit2 (inflating, hashing) is seen to fail cleanly
 * behind a passed check (test_data_damage).
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "store/buf.h"
#include "store/limits.h"
#include "store/pack.h"
#include "store/packread.h"
#include "testutil.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "max_allocation_size_mb=128";
}

#define TIB ((uint64_t)1 << 40)
/* The size libgit2 asked calloc for in CI, less its +1 for a NUL. */
#define CI_SIZE ((uint64_t)0x16383b1c84 - 1)

enum { T_COMMIT = 1, T_TREE = 2, T_BLOB = 3, T_TAG = 4, T_OFS = 6, T_REF = 7 };

/* ---- a pack and its v2 index, byte by byte --------------------------------- */

typedef struct {
	git_oid id;
	uint64_t off;
	uint32_t crc;
} pk_obj;

typedef struct {
	vl_buf pack;
	vl_buf idx;
	pk_obj *obj;      /* in the order added (pk_end sorts a copy) */
	size_t n, cap;
	uint64_t cur;     /* where the entry being written starts */
	int large;        /* put every offset but the first entry's (12: git and
	                   * libgit2 allow n - 1 large ones) in the large table */
	char idx_path[1024];
} pk;

static void pk_put(pk *p, const void *data, size_t len)
{
	assert_int_equal(vl_buf_put(&p->pack, data, len), 0);
}

static void pk_byte(pk *p, unsigned c)
{
	unsigned char b = (unsigned char)c;

	pk_put(p, &b, 1);
}

static void be32(unsigned char *o, uint32_t v)
{
	o[0] = (unsigned char)(v >> 24);
	o[1] = (unsigned char)(v >> 16);
	o[2] = (unsigned char)(v >> 8);
	o[3] = (unsigned char)v;
}

/* "PACK", version 2, `count` entries. */
static void pk_begin(pk *p, uint32_t count)
{
	unsigned char h[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 };

	memset(p, 0, sizeof(*p));
	be32(h + 8, count);
	pk_put(p, h, sizeof(h));
}

/* Start an entry here; returns its offset. */
static uint64_t pk_hdr(pk *p, int type, uint64_t size)
{
	p->cur = p->pack.len;
	vt_pack_entry_header(&p->pack, type, size);
	return p->cur;
}

/* An OFS_DELTA's distance back to its base, as git writes it. */
static void pk_ofs(pk *p, uint64_t back)
{
	unsigned char d[16];
	size_t pos = sizeof(d) - 1;

	d[pos] = back & 127;
	while (back >>= 7)
		d[--pos] = (unsigned char)(128 | (--back & 127));
	pk_put(p, d + pos, sizeof(d) - pos);
}

static void pk_deflate(pk *p, const void *data, size_t len, int level)
{
	uLongf olen = compressBound((uLong)len);
	unsigned char *out = malloc(olen);

	assert_non_null(out);
	assert_int_equal(compress2(out, &olen, data, (uLong)len, level), Z_OK);
	pk_put(p, out, olen);
	free(out);
}

static void pk_index_at(pk *p, const git_oid *id, uint64_t off, uint32_t crc)
{
	assert_int_equal(vl_array_grow((void **)&p->obj, &p->cap, p->n + 1, sizeof(*p->obj)), 0);
	git_oid_cpy(&p->obj[p->n].id, id);
	p->obj[p->n].off = off;
	p->obj[p->n].crc = crc;
	p->n++;
}

/* The entry just written is the object id. */
static void pk_index(pk *p, const git_oid *id)
{
	uLong crc = crc32(0, (const Bytef *)p->pack.ptr + p->cur, (uInt)(p->pack.len - p->cur));

	pk_index_at(p, id, p->cur, (uint32_t)crc);
}

static void sha1_of(unsigned char out[20], const void *data, size_t len)
{
	vl_sha1 c;

	vl_sha1_init(&c);
	vl_sha1_update(&c, data, len);
	vl_sha1_final(out, &c);
}

/* The index's own checksum again, after a test changed its bytes. */
static void pk_idx_resum(pk *p)
{
	assert_true(p->idx.len >= 20);
	sha1_of((unsigned char *)p->idx.ptr + p->idx.len - 20, p->idx.ptr, p->idx.len - 20);
}

static int obj_cmp(const void *a, const void *b)
{
	return git_oid_cmp(&((const pk_obj *)a)->id, &((const pk_obj *)b)->id);
}

/* The pack's trailer, then its index (fanout, sorted ids, CRCs, offsets,
 * large offsets, the pack's checksum, the index's). */
static void pk_end(pk *p)
{
	unsigned char sum[20], w[8];
	pk_obj *s = NULL;
	size_t i, j, nlarge = 0;

	sha1_of(sum, p->pack.ptr, p->pack.len);
	pk_put(p, sum, 20);
	s = malloc((p->n ? p->n : 1) * sizeof(*s));
	assert_non_null(s);
	memcpy(s, p->obj, p->n * sizeof(*s));
	qsort(s, p->n, sizeof(*s), obj_cmp);
	vl_buf_clear(&p->idx);
	assert_int_equal(vl_buf_put(&p->idx, "\377tOc\0\0\0\2", 8), 0);
	for (i = 0, j = 0; i < 256; i++) {
		while (j < p->n && s[j].id.id[0] <= i)
			j++;
		be32(w, (uint32_t)j);
		assert_int_equal(vl_buf_put(&p->idx, w, 4), 0);
	}
	for (i = 0; i < p->n; i++)
		assert_int_equal(vl_buf_put(&p->idx, s[i].id.id, 20), 0);
	for (i = 0; i < p->n; i++) {
		be32(w, s[i].crc);
		assert_int_equal(vl_buf_put(&p->idx, w, 4), 0);
	}
	for (i = 0; i < p->n; i++) {
		if ((p->large && s[i].off != 12) || s[i].off >= 0x80000000u)
			be32(w, (uint32_t)(0x80000000u | nlarge++));
		else
			be32(w, (uint32_t)s[i].off);
		assert_int_equal(vl_buf_put(&p->idx, w, 4), 0);
	}
	for (i = 0; i < p->n; i++) {
		if (!((p->large && s[i].off != 12) || s[i].off >= 0x80000000u))
			continue;
		be32(w, (uint32_t)(s[i].off >> 32));
		be32(w + 4, (uint32_t)s[i].off);
		assert_int_equal(vl_buf_put(&p->idx, w, 8), 0);
	}
	assert_int_equal(vl_buf_put(&p->idx, sum, 20), 0);
	assert_int_equal(vl_buf_put(&p->idx, sum, 20), 0); /* room for its own */
	pk_idx_resum(p);
	free(s);
}

/* Where the index holds the offset of its i-th id (in id order). */
static unsigned char *idx_offset_field(pk *p, size_t i)
{
	return (unsigned char *)p->idx.ptr + 8 + 1024 + p->n * 24 + i * 4;
}

/* Write dir/pack-<trailer>.{pack,idx}; p->idx_path is the index. */
static const char *pk_write(pk *p, const char *dir)
{
	char hex[41], path[1100];
	size_t i;

	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)p->pack.ptr[p->pack.len - 20 + i]);
	snprintf(path, sizeof(path), "%s/pack-%s.pack", dir, hex);
	unlink(path);
	vt_write(path, p->pack.ptr, p->pack.len);
	snprintf(p->idx_path, sizeof(p->idx_path), "%s/pack-%s.idx", dir, hex);
	unlink(p->idx_path);
	vt_write(p->idx_path, p->idx.ptr, p->idx.len);
	return p->idx_path;
}

static void pk_free(pk *p)
{
	vl_buf_free(&p->pack);
	vl_buf_free(&p->idx);
	free(p->obj);
	p->obj = NULL;
}

/* ---- git deltas ------------------------------------------------------------ */

static void varint(vl_buf *b, uint64_t v)
{
	while (v >= 0x80) {
		assert_int_equal(vl_buf_putc(b, (char)(0x80 | (v & 0x7f))), 0);
		v >>= 7;
	}
	assert_int_equal(vl_buf_putc(b, (char)v), 0);
}

/* Copy base[off, off + len) (len < 2^24, not 0). */
static void delta_copy(vl_buf *b, uint32_t off, uint32_t len)
{
	unsigned char op[8];
	size_t n = 1, i;

	op[0] = 0x80;
	for (i = 0; i < 4; i++)
		if ((off >> (8 * i)) & 0xff) {
			op[0] |= (unsigned char)(1u << i);
			op[n++] = (unsigned char)(off >> (8 * i));
		}
	for (i = 0; i < 3; i++)
		if ((len >> (8 * i)) & 0xff) {
			op[0] |= (unsigned char)(0x10u << i);
			op[n++] = (unsigned char)(len >> (8 * i));
		}
	assert_int_equal(vl_buf_put(b, op, n), 0);
}

static void delta_insert(vl_buf *b, const char *s)
{
	size_t len = strlen(s);

	assert_true(len > 0 && len < 128);
	assert_int_equal(vl_buf_putc(b, (char)len), 0);
	assert_int_equal(vl_buf_put(b, s, len), 0);
}

static void blob_id(git_oid *out, const void *data, size_t len)
{
	assert_int_equal(git_odb_hash(out, data, len, GIT_OBJECT_BLOB), 0);
}

/* An id that is no object's content (for entries never read whole). */
static void fake_id(git_oid *out, const char *name)
{
	blob_id(out, name, strlen(name));
}

/* ---- the backend ----------------------------------------------------------- */

typedef struct {
	char *dir;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = vt_tmpdir();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	vt_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static git_odb_backend *open_ok(const char *idx_path)
{
	git_odb_backend *b = NULL;
	int rc = vl_packread_backend(&b, idx_path);

	if (rc != 0)
		fail_msg("opening %s: %s: %s", idx_path, vl_error_name(rc), vl_error_last());
	assert_non_null(b);
	return b;
}

static void has_words(const char *msg, const char *words)
{
	if (!strstr(msg, words))
		fail_msg("the message \"%s\" does not say \"%s\"", msg, words);
}

/* The object id of the pack at idx_path is refused with code and a message
 * saying words: by vl_packread_check on one backend, and by a read (then the
 * check again) through an odb holding only a fresh one. */
static void refused(const char *idx_path, const git_oid *id, int code, const char *words)
{
	git_odb_backend *b = open_ok(idx_path);
	git_odb *odb = NULL;
	git_odb_object *o = NULL;
	const git_error *e;
	size_t len = 0;
	git_object_t type = GIT_OBJECT_INVALID;
	int rc;

	rc = vl_packread_check(b, id);
	if (rc != code)
		fail_msg("check: %s, want %s: %s", vl_error_name(rc), vl_error_name(code), vl_error_last());
	has_words(vl_error_last(), words);
	b->free(b);

	b = open_ok(idx_path);
	assert_int_equal(git_odb_new(&odb), 0);
	assert_int_equal(git_odb_add_backend(odb, b, 1), 0);
	rc = git_odb_read(&o, odb, id);
	if (rc != GIT_ERROR)
		fail_msg("read: %d, want GIT_ERROR (%d)", rc, GIT_ERROR);
	assert_null(o);
	e = git_error_last();
	assert_non_null(e);
	has_words(e->message, words);
	assert_int_equal(git_odb_read_header(&len, &type, odb, id), GIT_ERROR);
	has_words(git_error_last()->message, words);
	/* The refusal is remembered the same. */
	assert_int_equal(vl_packread_check(b, id), code);
	has_words(vl_error_last(), words);
	git_odb_free(odb);
}

/* The object id reads as content through an odb holding only the backend. */
static void reads_as(const char *idx_path, const git_oid *id, const void *content, size_t len)
{
	git_odb_backend *b = open_ok(idx_path);
	git_odb *odb = NULL;
	git_odb_object *o = NULL;
	size_t hlen = 0;
	git_object_t type = GIT_OBJECT_INVALID;
	int rc;

	assert_int_equal(git_odb_new(&odb), 0);
	assert_int_equal(git_odb_add_backend(odb, b, 1), 0);
	rc = vl_packread_check(b, id);
	if (rc != 0)
		fail_msg("check: %s: %s", vl_error_name(rc), vl_error_last());
	assert_true(git_odb_exists(odb, id));
	assert_int_equal(git_odb_read_header(&hlen, &type, odb, id), 0);
	assert_int_equal(hlen, len);
	assert_int_equal(type, GIT_OBJECT_BLOB);
	rc = git_odb_read(&o, odb, id);
	if (rc != 0)
		fail_msg("read: %d: %s", rc, git_error_last() ? git_error_last()->message : "");
	assert_int_equal(git_odb_object_type(o), GIT_OBJECT_BLOB);
	assert_int_equal(git_odb_object_size(o), len);
	assert_memory_equal(git_odb_object_data(o), content, len);
	git_odb_object_free(o);
	git_odb_free(odb);
}

/* vl_packread_backend refuses idx_path with code, its message naming the
 * file that ends in suffix and saying words; no backend comes out. Bounded: a FIFO waited on would
 * hang here, so SIGALRM ends the test instead. */
static void open_refused(const char *idx_path, int code, const char *suffix, const char *words)
{
	git_odb_backend *b = NULL;
	int rc;

	alarm(20);
	rc = vl_packread_backend(&b, idx_path);
	alarm(0);
	if (rc != code)
		fail_msg("open: %s, want %s: %s", vl_error_name(rc), vl_error_name(code), vl_error_last());
	assert_null(b);
	has_words(vl_error_last(), suffix);
	has_words(vl_error_last(), "/pack-");
	has_words(vl_error_last(), words);
}

/* ---- a: a good chain -------------------------------------------------------- */

static const char base_text[] =
	"id: 01HV0000000000000000000000\n"
	"kind: zone\n"
	"zone_no: Z1\n"
	"designation: sealed\n"
	"area: the north bank of the river, from the mill to the ferry\n"
	"status: active\n";

/* A pack of a blob B0, an OFS_DELTA making R1 from it, a REF_DELTA making
 * R2 from R1 (a chain of 3). Ids and contents into the arrays. */
static void good_pack(pk *p, git_oid ids[3], vl_buf res[3])
{
	vl_buf d1 = VL_BUF_INIT, d2 = VL_BUF_INIT;
	size_t blen = sizeof(base_text) - 1;
	uint64_t b0;

	/* R1: the base with "sealed" changed to "lifted". */
	assert_int_equal(vl_buf_put(&res[0], base_text, blen), 0);
	assert_memory_equal(base_text + 67, "sealed", 6);
	assert_int_equal(vl_buf_put(&res[1], base_text, 67), 0);
	assert_int_equal(vl_buf_puts(&res[1], "lifted"), 0);
	assert_int_equal(vl_buf_put(&res[1], base_text + 73, blen - 73), 0);
	varint(&d1, blen);
	varint(&d1, res[1].len);
	delta_copy(&d1, 0, 67);
	delta_insert(&d1, "lifted");
	delta_copy(&d1, 73, (uint32_t)(blen - 73));
	/* R2: R1 with a line added at the end. */
	assert_int_equal(vl_buf_put(&res[2], res[1].ptr, res[1].len), 0);
	assert_int_equal(vl_buf_puts(&res[2], "lifted_at: 2022-05-01\n"), 0);
	varint(&d2, res[1].len);
	varint(&d2, res[2].len);
	delta_copy(&d2, 0, (uint32_t)res[1].len);
	delta_insert(&d2, "lifted_at: 2022-05-01\n");
	blob_id(&ids[0], res[0].ptr, res[0].len);
	blob_id(&ids[1], res[1].ptr, res[1].len);
	blob_id(&ids[2], res[2].ptr, res[2].len);

	pk_begin(p, 3);
	b0 = pk_hdr(p, T_BLOB, blen);
	pk_deflate(p, base_text, blen, 6);
	pk_index(p, &ids[0]);
	pk_hdr(p, T_OFS, d1.len);
	pk_ofs(p, p->cur - b0);
	pk_deflate(p, d1.ptr, d1.len, 6);
	pk_index(p, &ids[1]);
	pk_hdr(p, T_REF, d2.len);
	pk_put(p, ids[1].id, 20);
	pk_deflate(p, d2.ptr, d2.len, 6);
	pk_index(p, &ids[2]);
	pk_end(p);
	vl_buf_free(&d1);
	vl_buf_free(&d2);
}

static void test_good_chain(void **state)
{
	fixture *f = *state;
	pk p;
	git_oid ids[3], missing;
	vl_buf res[3] = { VL_BUF_INIT, VL_BUF_INIT, VL_BUF_INIT };
	git_odb_backend *b = NULL;
	git_odb *odb = NULL;
	git_odb_object *o = NULL;
	char *out = NULL;
	size_t i;

	good_pack(&p, ids, res);
	pk_write(&p, f->dir);
	/* Stock git reads it whole: the damage of the other tests is all there is. */
	if (vt_run(&out, "git verify-pack -v '%s'", p.idx_path) != 0)
		fail_msg("git verify-pack: %s", out);
	has_words(out, "chain length = 2: 1 object");
	free(out);
	for (i = 3; i-- > 0;)
		reads_as(p.idx_path, &ids[i], res[i].ptr, res[i].len);
	/* An id the pack does not hold. */
	fake_id(&missing, "not in the pack");
	b = open_ok(p.idx_path);
	assert_int_equal(vl_packread_check(b, &missing), VL_ENOTFOUND);
	assert_int_equal(git_odb_new(&odb), 0);
	assert_int_equal(git_odb_add_backend(odb, b, 1), 0);
	assert_false(git_odb_exists(odb, &missing));
	assert_int_equal(git_odb_read(&o, odb, &missing), GIT_ENOTFOUND);
	assert_true(git_odb_exists(odb, &ids[1]));
	git_odb_free(odb);

	/* The same with every offset in the index's large offset table. */
	pk_free(&p);
	for (i = 0; i < 3; i++)
		vl_buf_clear(&res[i]);
	good_pack(&p, ids, res);
	p.large = 1;
	p.pack.len -= 20; /* the trailer again, and the index with the large table */
	pk_end(&p);
	pk_write(&p, f->dir);
	reads_as(p.idx_path, &ids[2], res[2].ptr, res[2].len);
	pk_free(&p);
	for (i = 0; i < 3; i++)
		vl_buf_free(&res[i]);
}

/* ---- b, d: sizes over the limit -------------------------------------------- */

static void test_entry_over_limit(void **state)
{
	fixture *f = *state;
	pk p;
	git_oid big, on_big, just_over;
	uint64_t at;

	pk_begin(&p, 3);
	/* A blob declaring 1 TiB that holds a few deflated bytes. */
	at = pk_hdr(&p, T_BLOB, TIB);
	pk_deflate(&p, "hi", 2, 6);
	fake_id(&big, "big");
	pk_index(&p, &big);
	/* A delta on it (its own header small). */
	{
		vl_buf d = VL_BUF_INIT;

		varint(&d, TIB);
		varint(&d, 2);
		delta_insert(&d, "hi");
		pk_hdr(&p, T_OFS, d.len);
		pk_ofs(&p, p.cur - at);
		pk_deflate(&p, d.ptr, d.len, 6);
		vl_buf_free(&d);
	}
	fake_id(&on_big, "on big");
	pk_index(&p, &on_big);
	/* One byte over the cap. */
	pk_hdr(&p, T_BLOB, (uint64_t)VL_SOURCE_MAX_OBJECT + 1);
	pk_deflate(&p, "hi", 2, 6);
	fake_id(&just_over, "just over");
	pk_index(&p, &just_over);
	pk_end(&p);
	pk_write(&p, f->dir);
	refused(p.idx_path, &big, VL_ETOOBIG, "over the limit");
	refused(p.idx_path, &on_big, VL_ETOOBIG, "over the limit");
	refused(p.idx_path, &just_over, VL_ETOOBIG, "over the limit");
	pk_free(&p);
}

static void test_delta_over_limit(void **state)
{
	fixture *f = *state;
	static const struct {
		uint64_t base, result;
		const char *name;
	} cases[] = {
		{ sizeof(base_text) - 1, TIB, "result 1 TiB" },
		{ TIB, 2, "base 1 TiB" },
		{ sizeof(base_text) - 1, (uint64_t)VL_SOURCE_MAX_OBJECT + 1, "result over by 1" },
	};
	git_oid ids[3];
	pk p;
	size_t i;
	uint64_t b0;

	pk_begin(&p, 4);
	b0 = pk_hdr(&p, T_BLOB, sizeof(base_text) - 1);
	pk_deflate(&p, base_text, sizeof(base_text) - 1, 6);
	blob_id(&ids[0], base_text, sizeof(base_text) - 1);
	pk_index(&p, &ids[0]);
	for (i = 0; i < 3; i++) {
		vl_buf d = VL_BUF_INIT;

		varint(&d, cases[i].base);
		varint(&d, cases[i].result);
		delta_copy(&d, 0, 2);
		pk_hdr(&p, T_OFS, d.len);
		pk_ofs(&p, p.cur - b0);
		pk_deflate(&p, d.ptr, d.len, 6);
		vl_buf_free(&d);
		fake_id(&ids[i], cases[i].name);
		pk_index(&p, &ids[i]);
	}
	pk_end(&p);
	pk_write(&p, f->dir);
	for (i = 0; i < 3; i++)
		refused(p.idx_path, &ids[i], VL_ETOOBIG, "over the limit");
	/* The base itself is fine. */
	blob_id(&ids[0], base_text, sizeof(base_text) - 1);
	reads_as(p.idx_path, &ids[0], base_text, sizeof(base_text) - 1);
	pk_free(&p);
}

/* ---- c: OFS_DELTA offsets that land where no entry starts ----------------- */

static void test_ofs_mid_entry(void **state)
{
	fixture *f = *state;
	vl_buf hdr = VL_BUF_INIT, content = VL_BUF_INIT, d = VL_BUF_INIT;
	git_oid e0, mid, in_header, before, self;
	const char *at = NULL;
	uint64_t target, e0off;
	pk p;

	/* The bytes the CI crash read as an entry header: a blob of ~95 GB. */
	vt_pack_entry_header(&hdr, T_BLOB, CI_SIZE);
	assert_int_equal(hdr.len, 6);
	/* An earlier blob holding them verbatim (deflated without compression). */
	assert_int_equal(vl_buf_puts(&content, "zone record, part one: "), 0);
	assert_int_equal(vl_buf_put(&content, hdr.ptr, hdr.len), 0);
	assert_int_equal(vl_buf_puts(&content, " part two\n"), 0);
	varint(&d, 4);
	varint(&d, 4);
	delta_copy(&d, 0, 4);

	pk_begin(&p, 5);
	e0off = pk_hdr(&p, T_BLOB, content.len);
	pk_deflate(&p, content.ptr, content.len, 0);
	blob_id(&e0, content.ptr, content.len);
	pk_index(&p, &e0);
	at = memmem(p.pack.ptr + e0off, p.pack.len - e0off, hdr.ptr, hdr.len);
	assert_non_null(at);
	target = (uint64_t)(at - p.pack.ptr);
	/* To the middle of e0. */
	pk_hdr(&p, T_OFS, d.len);
	pk_ofs(&p, p.cur - target);
	pk_deflate(&p, d.ptr, d.len, 6);
	fake_id(&mid, "mid");
	pk_index(&p, &mid);
	/* To offset 4, inside the pack's header. */
	pk_hdr(&p, T_OFS, d.len);
	pk_ofs(&p, p.cur - 4);
	pk_deflate(&p, d.ptr, d.len, 6);
	fake_id(&in_header, "in header");
	pk_index(&p, &in_header);
	/* Before the pack's start. */
	pk_hdr(&p, T_OFS, d.len);
	pk_ofs(&p, p.cur + 5);
	pk_deflate(&p, d.ptr, d.len, 6);
	fake_id(&before, "before");
	pk_index(&p, &before);
	/* An offset of 0: itself. */
	pk_hdr(&p, T_OFS, d.len);
	pk_ofs(&p, 0);
	pk_deflate(&p, d.ptr, d.len, 6);
	fake_id(&self, "self");
	pk_index(&p, &self);
	pk_end(&p);
	pk_write(&p, f->dir);

	refused(p.idx_path, &mid, VL_EINVALID, "names a base where no object starts");
	refused(p.idx_path, &in_header, VL_EINVALID, "names a base where no object starts");
	refused(p.idx_path, &before, VL_EINVALID, "names a base where no object starts");
	refused(p.idx_path, &self, VL_EINVALID, "names a base where no object starts");
	/* e0 itself reads: the damage is in the deltas alone. */
	reads_as(p.idx_path, &e0, content.ptr, content.len);
	pk_free(&p);
	vl_buf_free(&hdr);
	vl_buf_free(&content);
	vl_buf_free(&d);
}

/* ---- e: REF_DELTA bases --------------------------------------------------- */

static void ref_delta(pk *p, const git_oid *id, const git_oid *base)
{
	vl_buf d = VL_BUF_INIT;

	varint(&d, 1);
	varint(&d, 1);
	delta_copy(&d, 0, 1);
	pk_hdr(p, T_REF, d.len);
	pk_put(p, base->id, 20);
	pk_deflate(p, d.ptr, d.len, 6);
	pk_index(p, id);
	vl_buf_free(&d);
}

static void test_ref_delta_bases(void **state)
{
	fixture *f = *state;
	git_oid a, b, self, orphan, nowhere;
	pk p;

	fake_id(&a, "a");
	fake_id(&b, "b");
	fake_id(&self, "self");
	fake_id(&orphan, "orphan");
	fake_id(&nowhere, "nowhere");
	pk_begin(&p, 4);
	ref_delta(&p, &a, &b);
	ref_delta(&p, &b, &a);
	ref_delta(&p, &self, &self);
	ref_delta(&p, &orphan, &nowhere);
	pk_end(&p);
	pk_write(&p, f->dir);
	refused(p.idx_path, &a, VL_EINVALID, "(or a cycle)");
	refused(p.idx_path, &b, VL_EINVALID, "(or a cycle)");
	refused(p.idx_path, &self, VL_EINVALID, "(or a cycle)");
	refused(p.idx_path, &orphan, VL_EINVALID, "names a base the pack does not hold");
	pk_free(&p);
}

/* A chain longer than VL_SOURCE_MAX_DELTA_DEPTH: each OFS_DELTA on the one
 * before, down to a blob. */
static void test_chain_too_deep(void **state)
{
	fixture *f = *state;
	const size_t deltas = VL_SOURCE_MAX_DELTA_DEPTH + 2;
	vl_buf d = VL_BUF_INIT;
	git_oid id, top;
	uint64_t prev;
	size_t i;
	pk p;

	varint(&d, 1);
	varint(&d, 1);
	delta_copy(&d, 0, 1);
	pk_begin(&p, (uint32_t)(deltas + 1));
	prev = pk_hdr(&p, T_BLOB, 1);
	pk_deflate(&p, "x", 1, 6);
	blob_id(&id, "x", 1);
	pk_index(&p, &id);
	for (i = 0; i < deltas; i++) {
		char name[32];

		pk_hdr(&p, T_OFS, d.len);
		pk_ofs(&p, p.cur - prev);
		pk_deflate(&p, d.ptr, d.len, 6);
		prev = p.cur;
		snprintf(name, sizeof(name), "depth %zu", i + 1);
		fake_id(&id, name);
		pk_index(&p, &id);
	}
	git_oid_cpy(&top, &id);
	pk_end(&p);
	pk_write(&p, f->dir);
	refused(p.idx_path, &top, VL_EINVALID, "is longer than 4095");
	pk_free(&p);
	vl_buf_free(&d);
}

/* ---- g: entries of no known type ------------------------------------------ */

static void test_unknown_type(void **state)
{
	fixture *f = *state;
	git_oid t0, t5, on5, longsize;
	uint64_t at5;
	pk p;

	pk_begin(&p, 4);
	pk_hdr(&p, 0, 5);
	pk_deflate(&p, "hello", 5, 6);
	fake_id(&t0, "type 0");
	pk_index(&p, &t0);
	at5 = pk_hdr(&p, 5, 5);
	pk_deflate(&p, "hello", 5, 6);
	fake_id(&t5, "type 5");
	pk_index(&p, &t5);
	{
		vl_buf d = VL_BUF_INIT;

		varint(&d, 5);
		varint(&d, 5);
		delta_copy(&d, 0, 5);
		pk_hdr(&p, T_OFS, d.len);
		pk_ofs(&p, p.cur - at5);
		pk_deflate(&p, d.ptr, d.len, 6);
		vl_buf_free(&d);
	}
	fake_id(&on5, "on type 5");
	pk_index(&p, &on5);
	/* A size that never ends (11 bytes with the high bit: over 64 bits). */
	p.cur = p.pack.len;
	{
		int i;

		pk_byte(&p, 0x80 | T_BLOB << 4);
		for (i = 0; i < 10; i++)
			pk_byte(&p, 0xff);
		pk_byte(&p, 0x01);
	}
	pk_deflate(&p, "hello", 5, 6);
	fake_id(&longsize, "long size");
	pk_index(&p, &longsize);
	pk_end(&p);
	pk_write(&p, f->dir);
	refused(p.idx_path, &t0, VL_EINVALID, "of unknown type 0");
	refused(p.idx_path, &t5, VL_EINVALID, "of unknown type 5");
	refused(p.idx_path, &on5, VL_EINVALID, "of unknown type 5");
	refused(p.idx_path, &longsize, VL_EINVALID, "has a malformed header");
	pk_free(&p);
}

/* ---- what the check leaves to libgit2: inflating and hashing ------------- */

/* Entries whose headers pass but whose data is damaged: the check passes
 * (it reads headers only) and the read fails cleanly. */
static void test_data_damage(void **state)
{
	fixture *f = *state;
	git_oid longer, shorter, wrong, garbage;
	git_odb_backend *b = NULL;
	git_odb *odb = NULL;
	git_odb_object *o = NULL;
	pk p;

	pk_begin(&p, 4);
	/* Declared 100 bytes, inflating to 5; declared 3, inflating to 5. */
	pk_hdr(&p, T_BLOB, 100);
	pk_deflate(&p, "hello", 5, 6);
	fake_id(&longer, "longer");
	pk_index(&p, &longer);
	pk_hdr(&p, T_BLOB, 3);
	pk_deflate(&p, "hello", 5, 6);
	fake_id(&shorter, "shorter");
	pk_index(&p, &shorter);
	/* Whole and sound, under another object's id. */
	pk_hdr(&p, T_BLOB, 5);
	pk_deflate(&p, "hello", 5, 6);
	fake_id(&wrong, "wrong");
	pk_index(&p, &wrong);
	/* Not zlib at all. */
	pk_hdr(&p, T_BLOB, 5);
	pk_put(&p, "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", 8);
	fake_id(&garbage, "garbage");
	pk_index(&p, &garbage);
	pk_end(&p);
	pk_write(&p, f->dir);
	b = open_ok(p.idx_path);
	assert_int_equal(git_odb_new(&odb), 0);
	assert_int_equal(git_odb_add_backend(odb, b, 1), 0);
	assert_int_equal(vl_packread_check(b, &longer), 0);
	assert_true(git_odb_read(&o, odb, &longer) < 0);
	assert_null(o);
	assert_int_equal(vl_packread_check(b, &shorter), 0);
	assert_true(git_odb_read(&o, odb, &shorter) < 0);
	assert_null(o);
	assert_int_equal(vl_packread_check(b, &wrong), 0);
	assert_int_equal(git_odb_read(&o, odb, &wrong), GIT_EMISMATCH);
	assert_null(o);
	assert_int_equal(vl_packread_check(b, &garbage), 0);
	assert_true(git_odb_read(&o, odb, &garbage) < 0);
	assert_null(o);
	git_odb_free(odb);
	pk_free(&p);
}

/* ---- f: the index and the pack at open ------------------------------------ */

/* A fresh good pack in p (the ids and contents are not kept). */
static void fresh_good(pk *p)
{
	git_oid ids[3];
	vl_buf res[3] = { VL_BUF_INIT, VL_BUF_INIT, VL_BUF_INIT };
	size_t i;

	good_pack(p, ids, res);
	for (i = 0; i < 3; i++)
		vl_buf_free(&res[i]);
}

/* A good pack with byte `at` of its header set to `v` (its trailer and
 * index made anew): the open must refuse it as not matching its index. */
static void header_byte_refused(fixture *f, size_t at, unsigned char v)
{
	pk p;

	fresh_good(&p);
	p.pack.ptr[at] = v;
	p.pack.len -= 20;
	pk_end(&p);
	open_refused(pk_write(&p, f->dir), VL_EINVALID, ".pack", "does not match its index");
	pk_free(&p);
}

static void test_open_disagree(void **state)
{
	fixture *f = *state;
	unsigned char *field;
	size_t full, cut, i;
	pk p;

	/* The pack's header counts one object more, then one fewer. */
	header_byte_refused(f, 11, 4);
	header_byte_refused(f, 11, 2);
	/* Pack version 3 (git's format allows it; libgit2 1.5 opens only 2,
	 * and would then call every object of it missing). */
	header_byte_refused(f, 7, 3);

	/* An offset beyond the pack, in its trailer, inside its header. */
	fresh_good(&p);
	field = idx_offset_field(&p, 1);
	be32(field, (uint32_t)p.pack.len + 100);
	pk_idx_resum(&p);
	open_refused(pk_write(&p, f->dir), VL_EINVALID, ".idx", "does not match its pack");
	be32(field, (uint32_t)p.pack.len - 10);
	pk_idx_resum(&p);
	open_refused(pk_write(&p, f->dir), VL_EINVALID, ".idx", "does not match its pack");
	be32(field, 4);
	pk_idx_resum(&p);
	open_refused(pk_write(&p, f->dir), VL_EINVALID, ".idx", "does not match its pack");
	/* Two ids at one offset. */
	memcpy(field, idx_offset_field(&p, 0), 4);
	pk_idx_resum(&p);
	open_refused(pk_write(&p, f->dir), VL_EINVALID, ".idx", "does not match its pack");
	pk_free(&p);

	/* A large offset beyond the pack, and one past the large table. */
	fresh_good(&p);
	p.large = 1;
	p.pack.len -= 20;
	pk_end(&p);
	field = (unsigned char *)p.idx.ptr + p.idx.len - 40 - 8;
	be32(field, 1); /* the last large offset: 2^32 + its own */
	pk_idx_resum(&p);
	open_refused(pk_write(&p, f->dir), VL_EINVALID, ".idx", "does not match its pack");
	pk_free(&p);
	fresh_good(&p);
	p.large = 1;
	p.pack.len -= 20;
	pk_end(&p);
	for (i = 0; i < 3; i++)
		if (idx_offset_field(&p, i)[0] & 0x80)
			be32(idx_offset_field(&p, i), 0x80000007u);
	pk_idx_resum(&p);
	open_refused(pk_write(&p, f->dir), VL_EINVALID, ".idx", "not a valid pack index");
	pk_free(&p);

	/* The index's copy of the pack's checksum differs from the trailer. */
	fresh_good(&p);
	p.idx.ptr[p.idx.len - 40] ^= 1;
	pk_idx_resum(&p);
	open_refused(pk_write(&p, f->dir), VL_EINVALID, ".pack", "does not match its index");
	pk_free(&p);

	/* A fanout that goes down; another magic; another pack signature and version. */
	fresh_good(&p);
	p.idx.ptr[8 + 4 * 10 + 3] = 100;
	pk_idx_resum(&p);
	open_refused(pk_write(&p, f->dir), VL_EINVALID, ".idx", "not a valid pack index");
	pk_free(&p);
	fresh_good(&p);
	p.idx.ptr[1] = 'x';
	pk_idx_resum(&p);
	open_refused(pk_write(&p, f->dir), VL_EINVALID, ".idx", "not a valid pack index");
	pk_free(&p);
	header_byte_refused(f, 3, 'X');
	header_byte_refused(f, 7, 4);

	/* Ids out of order: all in the first one's fanout bucket, the larger of
	 * the first two first. */
	fresh_good(&p);
	{
		unsigned char *ids = (unsigned char *)p.idx.ptr + 8 + 1024, first[20], second[20];

		ids[20] = ids[40] = ids[0];
		for (i = 0; i < 256; i++)
			be32((unsigned char *)p.idx.ptr + 8 + 4 * i, i < ids[0] ? 0 : 3);
		memcpy(first, ids, 20);
		memcpy(second, ids + 20, 20);
		if (memcmp(first, second, 20) < 0) {
			memcpy(ids, second, 20);
			memcpy(ids + 20, first, 20);
		}
	}
	pk_idx_resum(&p);
	open_refused(pk_write(&p, f->dir), VL_EINVALID, ".idx", "not a valid pack index");
	pk_free(&p);
	/* An index naming more objects than the cap (its fanout says so). */
	fresh_good(&p);
	be32((unsigned char *)p.idx.ptr + 8 + 4 * 255, (uint32_t)VL_SOURCE_MAX_PACK_OBJECTS + 1);
	pk_idx_resum(&p);
	open_refused(pk_write(&p, f->dir), VL_ETOOBIG, ".idx", "over the limit");
	pk_free(&p);

	/* The index cut anywhere. */
	fresh_good(&p);
	full = p.idx.len;
	for (cut = 0; cut < full; cut++) {
		git_odb_backend *b = NULL;
		int rc;

		p.idx.len = cut;
		pk_write(&p, f->dir);
		rc = vl_packread_backend(&b, p.idx_path);
		if (rc != VL_EINVALID)
			fail_msg("an index cut at %zu of %zu: %s: %s", cut, full, vl_error_name(rc), vl_error_last());
	}
	pk_free(&p);
}

/* idx_path opens (the files are as they should be again). */
static void git_odb_backend_free_ok(const char *idx_path)
{
	git_odb_backend *b = open_ok(idx_path);

	b->free(b);
}

static void test_open_not_regular(void **state)
{
	fixture *f = *state;
	char pack_path[1100];
	size_t n;
	pk p;

	/* The index a FIFO (no writer: an open without O_NONBLOCK would wait). */
	fresh_good(&p);
	pk_write(&p, f->dir);
	assert_int_equal(unlink(p.idx_path), 0);
	assert_int_equal(mkfifo(p.idx_path, 0600), 0);
	open_refused(p.idx_path, VL_EINVALID, ".idx", "is not a regular file");
	/* The pack a FIFO. */
	pk_write(&p, f->dir);
	n = strlen(p.idx_path);
	snprintf(pack_path, sizeof(pack_path), "%.*s.pack", (int)(n - 4), p.idx_path);
	assert_int_equal(unlink(pack_path), 0);
	assert_int_equal(mkfifo(pack_path, 0600), 0);
	open_refused(p.idx_path, VL_EINVALID, ".pack", "is missing or not a regular file");
	/* Symbolic links to good files (O_NOFOLLOW): the pack, then the index. */
	pk_write(&p, f->dir);
	{
		char real[1200];

		snprintf(real, sizeof(real), "%s.real", pack_path);
		assert_int_equal(rename(pack_path, real), 0);
		assert_int_equal(symlink(real, pack_path), 0);
		open_refused(p.idx_path, VL_EINVALID, ".pack", "is missing or not a regular file");
		assert_int_equal(unlink(pack_path), 0);
		assert_int_equal(rename(real, pack_path), 0);
		git_odb_backend_free_ok(p.idx_path);
		snprintf(real, sizeof(real), "%s.real", p.idx_path);
		assert_int_equal(rename(p.idx_path, real), 0);
		assert_int_equal(symlink(real, p.idx_path), 0);
		open_refused(p.idx_path, VL_EINVALID, ".idx", "it must be a regular file");
		assert_int_equal(unlink(p.idx_path), 0);
		assert_int_equal(rename(real, p.idx_path), 0);
	}
	/* No pack at all. */
	assert_int_equal(unlink(pack_path), 0);
	{
		git_odb_backend *b = NULL;

		assert_int_equal(vl_packread_backend(&b, p.idx_path), VL_ENOTFOUND);
		assert_null(b);
	}
	pk_free(&p);
}


/* ---- finding ids: interpolation and halving ----------------------------------- */

static void put_be64(unsigned char *o, uint64_t v)
{
	be32(o, (uint32_t)(v >> 32));
	be32(o + 4, (uint32_t)v);
}

/*
 * A pack of 2,100 entries listed under ids of three shapes: even (SHA-1s),
 * crowded into one first byte along a cubic curve (interpolation guesses
 * far off and the halving steps must carry the search), and 20 sharing
 * their first 8 bytes. Every listed id is found; ids between, below and
 * above them are not.
 */
static void test_find_many(void **state)
{
	fixture *f = *state;
	enum { EVEN = 1200, CROWD = 880, SAME = 20, N = EVEN + CROWD + SAME };
	git_oid *ids = calloc(N, sizeof(*ids)), probe;
	git_odb_backend *b = NULL;
	pk p;
	size_t i;
	char name[64];

	assert_non_null(ids);
	for (i = 0; i < EVEN; i++) {
		snprintf(name, sizeof(name), "even %zu", i);
		fake_id(&ids[i], name);
	}
	for (i = 0; i < CROWD; i++) {
		uint64_t x = (uint64_t)i * i * i; /* cubic: dense at the start */
		memset(ids[EVEN + i].id, 0, GIT_OID_RAWSZ);
		put_be64(ids[EVEN + i].id, 0x4200000000000000ull | x);
		ids[EVEN + i].id[19] = 1;
	}
	for (i = 0; i < SAME; i++) {
		memset(ids[EVEN + CROWD + i].id, 0x77, GIT_OID_RAWSZ);
		ids[EVEN + CROWD + i].id[18] = (unsigned char)(2 * i);
	}
	pk_begin(&p, N);
	for (i = 0; i < N; i++) {
		pk_hdr(&p, T_BLOB, 1);
		pk_deflate(&p, "x", 1, 1);
		pk_index(&p, &ids[i]);
	}
	pk_end(&p);
	pk_write(&p, f->dir);
	b = open_ok(p.idx_path);
	for (i = 0; i < N; i++)
		if (vl_packread_check(b, &ids[i]) != 0)
			fail_msg("listed id %zu (%s) not found: %s", i, git_oid_tostr_s(&ids[i]), vl_error_last());
	for (i = 0; i < EVEN; i++) {
		snprintf(name, sizeof(name), "absent %zu", i);
		fake_id(&probe, name);
		assert_int_equal(vl_packread_check(b, &probe), VL_ENOTFOUND);
	}
	for (i = 0; i < CROWD; i++) { /* just above each crowded id, below the next */
		probe = ids[EVEN + i];
		probe.id[19] = 2;
		assert_int_equal(vl_packread_check(b, &probe), VL_ENOTFOUND);
		probe.id[19] = 0;
		assert_int_equal(vl_packread_check(b, &probe), VL_ENOTFOUND);
	}
	memset(probe.id, 0x42, GIT_OID_RAWSZ); /* above every crowded id */
	assert_int_equal(vl_packread_check(b, &probe), VL_ENOTFOUND);
	for (i = 0; i < SAME; i++) { /* between the ids sharing 8 bytes */
		probe = ids[EVEN + CROWD + i];
		probe.id[18]++;
		assert_int_equal(vl_packread_check(b, &probe), VL_ENOTFOUND);
	}
	b->free(b);
	pk_free(&p);
	free(ids);
}

/* ---- whole objects read directly (vl_packset_read) ----------------------------- */

/* Read id as an object of type through set at max: the code, and on 0 the
 * bytes must be content. */
static void direct_as(const vl_packset *set, vl_packread_scratch *s, const git_oid *id, git_object_t type,
		size_t max, int code, const void *content, size_t len)
{
	vl_buf out = VL_BUF_INIT;
	int rc;

	assert_int_equal(vl_buf_puts(&out, "left over from the last read"), 0);
	rc = vl_packset_read(&out, set, s, id, type, max);
	if (rc != code)
		fail_msg("direct read of %s: %s, want %s", git_oid_tostr_s(id), vl_error_name(rc), vl_error_name(code));
	if (code == 0) {
		assert_int_equal(out.len, len);
		assert_memory_equal(out.ptr, content, len);
		assert_int_equal(out.ptr[out.len], '\0');
	}
	vl_buf_free(&out);
}

/* Read id as a blob: as direct_as. */
static void direct(const vl_packset *set, vl_packread_scratch *s, const git_oid *id, size_t max, int code,
		const void *content, size_t len)
{
	direct_as(set, s, id, GIT_OBJECT_BLOB, max, code, content, len);
}

static const char other_text[] =
	"id: 01HV0000000000000000000001\n"
	"kind: zone\n"
	"zone_no: Z2\n"
	"designation: sealed\n"
	"area: the south bank of the river, from the bridge to the dam\n"
	"status: active\n";

/*
 * Only bytes that hash to the id asked for come out of a direct read; every
 * other entry is left to libgit2 (VL_ENOTFOUND): deltas, a tree, content
 * that inflates whole but is another object's (a pack whose index lies), a
 * tree listed under its bytes' blob id, a stream that is damaged (in its
 * deflate data, or only in its Adler-32, which stock git refuses too),
 * shorter or longer than its header says, a blob over max, an id no pack
 * holds, an object asked for as another type. A tree and a commit read as
 * what they are. Two packs are read through one set, and an index that
 * does not open is left out of the set.
 */
static void test_packset_blob(void **state)
{
	fixture *f = *state;
	char objects[1100], packdir[1200], junk[1300];
	pk a, b;
	git_oid ids[3], x, t, t2, y, w, v, l, c, ad, missing;
	vl_buf res[3] = { VL_BUF_INIT, VL_BUF_INIT, VL_BUF_INIT };
	vl_packset *set = NULL;
	vl_packread_scratch *s = NULL;
	const char tree_bytes[] = "100644 a\0aaaaaaaaaaaaaaaaaaaa";
	const char commit_bytes[] = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
		"author A <a@example.org> 0 +0000\ncommitter A <a@example.org> 0 +0000\n\na commit\n";
	size_t xlen = sizeof(other_text) - 1, blen = sizeof(base_text) - 1, i;
	unsigned char *z;

	snprintf(objects, sizeof(objects), "%s/objects", f->dir);
	snprintf(packdir, sizeof(packdir), "%s/pack", objects);
	assert_int_equal(mkdir(objects, 0700), 0);
	/* No pack directory yet: an empty set, every read left to libgit2. */
	assert_int_equal(vl_packset_open(&set, objects), 0);
	assert_int_equal(vl_packread_scratch_new(&s), 0);
	fake_id(&missing, "not in any pack");
	direct(set, s, &missing, 1 << 20, VL_ENOTFOUND, NULL, 0);
	vl_packset_free(set);
	assert_int_equal(mkdir(packdir, 0700), 0);

	/* Pack a: a whole blob, an OFS_DELTA and a REF_DELTA on it. */
	good_pack(&a, ids, res);
	pk_write(&a, packdir);

	/* Pack b: X whole at level 1, a tree, Y (its index names other_text's
	 * twin with "Z2" made "Z3", but the entry holds other_text), W with its
	 * zlib data damaged, V declaring 5 bytes more than its data. */
	blob_id(&x, other_text, xlen);
	pk_begin(&b, 9);
	pk_hdr(&b, T_BLOB, xlen);
	pk_deflate(&b, other_text, xlen, 1);
	pk_index(&b, &x);
	blob_id(&t, tree_bytes, sizeof(tree_bytes) - 1);
	assert_int_equal(git_odb_hash(&t, tree_bytes, sizeof(tree_bytes) - 1, GIT_OBJECT_TREE), 0);
	pk_hdr(&b, T_TREE, sizeof(tree_bytes) - 1);
	pk_deflate(&b, tree_bytes, sizeof(tree_bytes) - 1, 1);
	pk_index(&b, &t);
	/* T2: a tree entry listed under its bytes' blob id: libgit2 reads a tree
	 * and refuses its hash, so a direct read refuses it too. */
	{
		const char tb2[] = "100644 b\0bbbbbbbbbbbbbbbbbbbb";
		blob_id(&t2, tb2, sizeof(tb2) - 1);
		pk_hdr(&b, T_TREE, sizeof(tb2) - 1);
		pk_deflate(&b, tb2, sizeof(tb2) - 1, 1);
		pk_index(&b, &t2);
	}
	{
		char twin[sizeof(other_text)];
		memcpy(twin, other_text, sizeof(twin));
		assert_memory_equal(twin + 51, "Z2", 2);
		twin[52] = '3';
		blob_id(&y, twin, xlen);
	}
	pk_hdr(&b, T_BLOB, xlen);
	pk_deflate(&b, other_text, xlen, 1);
	pk_index(&b, &y);
	/* W: other_text twice, its id the one it has undamaged. */
	{
		char two[2 * sizeof(other_text)];
		memcpy(two, other_text, xlen);
		memcpy(two + xlen, other_text, xlen);
		blob_id(&w, two, 2 * xlen);
		pk_hdr(&b, T_BLOB, 2 * xlen);
		pk_deflate(&b, two, 2 * xlen, 6);
	}
	z = (unsigned char *)b.pack.ptr + b.pack.len - 12;
	*z ^= 0x55; /* inside the deflate data, before the Adler-32 */
	pk_index(&b, &w);
	fake_id(&v, "short");
	pk_hdr(&b, T_BLOB, blen + 5);
	pk_deflate(&b, base_text, blen, 6);
	pk_index(&b, &v);
	/* L: declaring 5 bytes fewer than its data, listed under the id of
	 * those first bytes: the stream is not whole at its size. */
	blob_id(&l, other_text, xlen - 5);
	pk_hdr(&b, T_BLOB, xlen - 5);
	pk_deflate(&b, other_text, xlen, 6);
	pk_index(&b, &l);
	/* C: a commit, whole. */
	assert_int_equal(git_odb_hash(&c, commit_bytes, sizeof(commit_bytes) - 1, GIT_OBJECT_COMMIT), 0);
	pk_hdr(&b, T_COMMIT, sizeof(commit_bytes) - 1);
	pk_deflate(&b, commit_bytes, sizeof(commit_bytes) - 1, 6);
	pk_index(&b, &c);
	/* AD: other_text's "Z2" made "Z4", whole but for one bit of its
	 * Adler-32 (the last 4 bytes of the zlib stream). */
	{
		char twin[sizeof(other_text)];
		memcpy(twin, other_text, sizeof(twin));
		twin[52] = '4';
		blob_id(&ad, twin, xlen);
		pk_hdr(&b, T_BLOB, xlen);
		pk_deflate(&b, twin, xlen, 6);
		b.pack.ptr[b.pack.len - 1] ^= 0x01;
		pk_index(&b, &ad);
	}
	pk_end(&b);
	pk_write(&b, packdir);
	/* An index with no pack beside it, and one that is not an index. */
	snprintf(junk, sizeof(junk), "%s/pack-%s.idx", packdir, "1111111111111111111111111111111111111111");
	vt_write(junk, "\377tOc\0\0\0\2", 8);
	snprintf(junk, sizeof(junk), "%s/pack-%s.pack", packdir, "2222222222222222222222222222222222222222");
	vt_write(junk, "PACK", 4);
	snprintf(junk, sizeof(junk), "%s/pack-%s.idx", packdir, "2222222222222222222222222222222222222222");
	vt_write(junk, "not an index at all", 19);

	assert_int_equal(vl_packset_open(&set, objects), 0);
	/* Alternating between the packs, twice round. */
	for (i = 0; i < 2; i++) {
		direct(set, s, &ids[0], 1 << 20, 0, res[0].ptr, res[0].len);
		direct(set, s, &x, 1 << 20, 0, other_text, xlen);
	}
	direct(set, s, &x, xlen, 0, other_text, xlen);
	direct(set, s, &x, xlen - 1, VL_ENOTFOUND, NULL, 0);
	direct(set, s, &ids[1], 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct(set, s, &ids[2], 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct(set, s, &t, 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct(set, s, &y, 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct(set, s, &w, 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct(set, s, &v, 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct(set, s, &t2, 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct(set, s, &l, 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct(set, s, &missing, 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct(set, s, &ad, 1 << 20, VL_ENOTFOUND, NULL, 0);
	/* A tree and a commit read as what they are, and only so. */
	direct_as(set, s, &t, GIT_OBJECT_TREE, 1 << 20, 0, tree_bytes, sizeof(tree_bytes) - 1);
	direct_as(set, s, &c, GIT_OBJECT_COMMIT, 1 << 20, 0, commit_bytes, sizeof(commit_bytes) - 1);
	direct_as(set, s, &c, GIT_OBJECT_COMMIT, sizeof(commit_bytes) - 2, VL_ENOTFOUND, NULL, 0);
	direct(set, s, &c, 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct_as(set, s, &x, GIT_OBJECT_TREE, 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct_as(set, s, &x, GIT_OBJECT_TAG, 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct_as(set, s, &ids[1], GIT_OBJECT_OFS_DELTA, 1 << 20, VL_ENOTFOUND, NULL, 0);
	direct_as(set, s, &t2, GIT_OBJECT_TREE, 1 << 20, VL_ENOTFOUND, NULL, 0);
	/* libgit2 refuses the same entries (strict hashing): what verify reports. */
	{
		git_odb *odb = NULL;
		git_odb_object *o = NULL;
		assert_int_equal(git_odb_open(&odb, objects), 0);
		assert_int_equal(git_odb_read(&o, odb, &x), 0);
		git_odb_object_free(o);
		assert_true(git_odb_read(&o, odb, &y) < 0);
		assert_true(git_odb_read(&o, odb, &t2) < 0);
		assert_true(git_odb_read(&o, odb, &l) < 0);
		assert_true(git_odb_read(&o, odb, &w) < 0);
		assert_true(git_odb_read(&o, odb, &ad) < 0);
		git_odb_free(odb);
	}
	vl_packset_free(set);
	vl_packread_scratch_free(s);
	pk_free(&a);
	pk_free(&b);
	for (i = 0; i < 3; i++)
		vl_buf_free(&res[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_over_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delta_over_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ofs_mid_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ref_delta_bases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_too_deep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_disagree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packset_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_many, setup, teardown),
	};
	int rc;

	if (git_libgit2_init() < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
