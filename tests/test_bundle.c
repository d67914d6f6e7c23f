/*
 * test_bundle.c - the bundle header parser (agent/sync/bundle.h) and the
 * sealed stream (agent/sync/seal.h): the test vector of docs/formats.md
 * §8.1, round trips across chunk boundaries, a stream sealed to another key
 * refused naming it, every flipped byte and every truncation refused, and
 * every malformed header line refused. The end-to-end cases (stock git both
 * ways, apply, attack bundles against a real node) are tests/sh/bundle.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zlib.h>

#include "agent/sync/bundle.h"
#include "agent/sync/seal.h"
#include "store/sshsig.h"
#include "testutil.h"

/* ---- the sealed test vector (docs/formats.md §8.1) ------------------------ */

/* Recipient: TV1's key (seed 00 01 .. 1f, docs/formats.md §5.7). */
#define TV_FP "SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg"
#define TV_PLAIN "vledger sealed bundle test vector\n"
#define TV_SEALED \
	"2320766c6564676572207365616c65642076310a746f205348413235363a6c62" \
	"6d736f41307949456345695644526e4d57757a6d2b6e562b335a454570564955" \
	"5271466f65537370670add790dcbb59a6f316a6cf31fc9e3dce08aa4bb7563b8" \
	"6d322eaa1b3554c44b26fe861140dfcdae3f0b5a60d83f2a22804c4ff2fc75ba" \
	"8d2983a9968ed16a1815ea58100eb826071b5b2a2bd7cbfb685b65fa8e8b5692" \
	"5d53a2c87f5dacfa8477757ff33052a4a38f0000003343fe1366201ef4b614d4" \
	"31ea6f265e7ed4345c2be32fde73a28a178cfa14d6479b90a58af122fb51dec2" \
	"fc46798c6b4c5795cc"

static void key_of(vl_key *k, unsigned char first)
{
	unsigned char seed[32];
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (unsigned char)(first + i);
	assert_int_equal(vl_key_from_seed(k, seed), 0);
}

/* A stdio stream over a copy of data. */
static FILE *stream_of(const void *data, size_t len)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	rewind(f);
	return f;
}

/* Open and read the whole sealed stream; 0 and the plain text, or the
 * first error. */
static int unseal(vl_buf *plain, const void *data, size_t len, const vl_key *k)
{
	vl_seal_reader *r = NULL;
	FILE *f = stream_of(data, len);
	int rc, done = 0;

	rc = vl_seal_reader_open(&r, f, k);
	while (rc == 0 && !done)
		rc = vl_seal_read(r, plain, &done);
	vl_seal_reader_free(r);
	fclose(f);
	return rc;
}

/* Seal plain (len bytes) to k; the sealed bytes into out. */
static void seal(vl_buf *out, const void *plain, size_t len, const vl_key *k, size_t step)
{
	vl_seal_writer *w = NULL;
	FILE *f = tmpfile();
	const unsigned char *p = plain;
	long n;
	size_t at;

	assert_non_null(f);
	assert_int_equal(vl_seal_writer_open(&w, f, k->pk), 0);
	for (at = 0; at < len; at += step)
		assert_int_equal(vl_seal_write(w, p + at, len - at < step ? len - at : step), 0);
	assert_int_equal(vl_seal_writer_finish(w), 0);
	vl_seal_writer_free(w);
	n = ftell(f);
	rewind(f);
	assert_int_equal(vl_buf_grow(out, (size_t)n), 0);
	assert_int_equal(fread(out->ptr, 1, (size_t)n, f), (size_t)n);
	out->len = (size_t)n;
	fclose(f);
}

static void test_vector(void **state)
{
	vl_key k;
	vl_buf sealed = VL_BUF_INIT, plain = VL_BUF_INIT;
	char fp[VL_FP_LEN];
	size_t hlen = 0, i;
	const char *hex = TV_SEALED;

	(void)state;
	key_of(&k, 0);
	vl_fingerprint(fp, k.pk);
	assert_string_equal(fp, TV_FP);
	for (i = 0; hex[i]; i += 2) {
		unsigned int b;
		assert_int_equal(sscanf(hex + i, "%2x", &b), 1);
		assert_int_equal(vl_buf_putc(&sealed, (char)b), 0);
	}
	assert_int_equal(sealed.len, 233);
	assert_int_equal(vl_seal_header_parse(fp, &hlen, sealed.ptr, sealed.len), 0);
	assert_string_equal(fp, TV_FP);
	assert_int_equal(hlen, 74);
	assert_int_equal(unseal(&plain, sealed.ptr, sealed.len, &k), 0);
	assert_int_equal(plain.len, strlen(TV_PLAIN));
	assert_memory_equal(plain.ptr, TV_PLAIN, plain.len);
	vl_buf_free(&sealed);
	vl_buf_free(&plain);
}

static void test_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, VL_SEAL_CHUNK - 1, VL_SEAL_CHUNK, VL_SEAL_CHUNK + 1,
		3 * VL_SEAL_CHUNK + 17 };
	static const size_t steps[] = { 1000, 7, VL_SEAL_CHUNK, 100000 };
	unsigned char *data = malloc(3 * VL_SEAL_CHUNK + 17);
	vl_key k;
	size_t i, j;

	(void)state;
	assert_non_null(data);
	randombytes_buf(data, 3 * VL_SEAL_CHUNK + 17);
	key_of(&k, 7);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			vl_buf sealed = VL_BUF_INIT, plain = VL_BUF_INIT;
			if (sizes[i] > 100000 && steps[j] == 7)
				continue;
			seal(&sealed, data, sizes[i], &k, steps[j]);
			assert_int_equal(unseal(&plain, sealed.ptr, sealed.len, &k), 0);
			assert_int_equal(plain.len, sizes[i]);
			if (sizes[i])
				assert_memory_equal(plain.ptr, data, sizes[i]);
			/* Two seals of the same text differ (a random key each time). */
			if (sizes[i] == 1 && j == 0) {
				vl_buf again = VL_BUF_INIT;
				seal(&again, data, 1, &k, 1000);
				assert_int_equal(again.len, sealed.len);
				assert_true(memcmp(again.ptr, sealed.ptr, sealed.len) != 0);
				vl_buf_free(&again);
			}
			vl_buf_free(&sealed);
			vl_buf_free(&plain);
		}
	free(data);
}

static void test_wrong_recipient(void **state)
{
	vl_key to, other;
	vl_buf sealed = VL_BUF_INIT, plain = VL_BUF_INIT;
	char fp[VL_FP_LEN];

	(void)state;
	key_of(&to, 1);
	key_of(&other, 2);
	seal(&sealed, "hello", 5, &to, 100);
	assert_int_equal(unseal(&plain, sealed.ptr, sealed.len, &other), VL_EDENIED);
	vl_fingerprint(fp, to.pk);
	assert_non_null(strstr(vl_error_last(), fp));
	assert_int_equal(plain.len, 0);
	/* The header rewritten to name the other key: the sealed key does not
	 * open with it (it was sealed to `to`). */
	{
		char ofp[VL_FP_LEN];
		vl_fingerprint(ofp, other.pk);
		memcpy(sealed.ptr + strlen(VL_SEAL_MAGIC) + 3, ofp, VL_FP_LEN - 1);
		assert_int_equal(unseal(&plain, sealed.ptr, sealed.len, &other), VL_EBADSIG);
		assert_int_equal(plain.len, 0);
	}
	vl_buf_free(&sealed);
	vl_buf_free(&plain);
}

/* Every byte flipped, and every truncation, is refused. */
static void test_tamper_truncate(void **state)
{
	vl_key k;
	vl_buf sealed = VL_BUF_INIT;
	unsigned char text[300];
	size_t i;

	(void)state;
	key_of(&k, 3);
	memset(text, 'r', sizeof(text));
	/* Two chunks' worth would be too slow per byte: one chunk covers every
	 * field; tests/sh/bundle.sh flips bytes of a real multi-chunk bundle. */
	seal(&sealed, text, sizeof(text), &k, 100);
	for (i = 0; i < sealed.len; i++) {
		vl_buf plain = VL_BUF_INIT;
		int rc;
		sealed.ptr[i] ^= 0x01;
		rc = unseal(&plain, sealed.ptr, sealed.len, &k);
		sealed.ptr[i] ^= 0x01;
		if (rc == 0)
			fail_msg("a flipped byte at %zu was accepted", i);
		vl_buf_free(&plain);
	}
	for (i = 0; i < sealed.len; i++) {
		vl_buf plain = VL_BUF_INIT;
		if (unseal(&plain, sealed.ptr, i, &k) == 0)
			fail_msg("a stream cut at %zu of %zu was accepted", i, sealed.len);
		vl_buf_free(&plain);
	}
	{
		vl_buf plain = VL_BUF_INIT;
		assert_int_equal(vl_buf_putc(&sealed, 0), 0);
		assert_int_equal(unseal(&plain, sealed.ptr, sealed.len, &k), VL_EBADSIG);
		vl_buf_free(&plain);
	}
	vl_buf_free(&sealed);
}

/* ---- the bundle header ---------------------------------------------------- */

#define OID_A "0123456789abcdef0123456789abcdef01234567"
#define OID_B "89abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *text, vl_bundle_header *h, size_t *consumed)
{
	return vl_bundle_header_parse(h, consumed, text, strlen(text));
}

static void test_header_good(void **state)
{
	vl_bundle_header h;
	size_t consumed = 0;
	const char *text = "# v2 git bundle\n-" OID_A " scope/500243001001\n-" OID_B "\n" OID_A " refs/heads/config\n"
		OID_B " HEAD\n\nPACK";

	(void)state;
	assert_int_equal(parse(text, &h, &consumed), 0);
	assert_int_equal(consumed, strlen(text) - 4);
	assert_int_equal(h.nprereqs, 2);
	assert_string_equal(h.prereqs[0].comment, "scope/500243001001");
	assert_string_equal(h.prereqs[1].comment, "");
	assert_string_equal(git_oid_tostr_s(&h.prereqs[1].id), OID_B);
	assert_int_equal(h.nrefs, 2);
	assert_string_equal(h.refs[0].name, "refs/heads/config");
	assert_string_equal(git_oid_tostr_s(&h.refs[0].id), OID_A);
	assert_string_equal(h.refs[1].name, "HEAD");
	vl_bundle_header_free(&h);
}

static void test_header_bad(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *says;
	} cases[] = {
		{ "", VL_EINVALID, "not a git bundle" },
		{ "# v2 git bundlX\n" OID_A " refs/heads/config\n\n", VL_EINVALID, "not a git bundle" },
		{ "# v3 git bundle\n@object-format=sha1\n" OID_A " refs/heads/config\n\n", VL_EINVALID, "v3" },
		{ "# v2 git bundle\n" OID_A " refs/heads/config\n", VL_EINVALID, "truncated" },
		{ "# v2 git bundle\n" OID_A " refs/heads/config", VL_EINVALID, "truncated" },
		{ "# v2 git bundle\n\n", VL_EINVALID, "no refs" },
		{ "# v2 git bundle\n" OID_A " refs/heads/config\n-" OID_B "\n\n", VL_EINVALID, "after a ref" },
		{ "# v2 git bundle\n-" OID_B "x\n" OID_A " refs/heads/config\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n-0123\n" OID_A " refs/heads/config\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n-0123456789ABCDEF0123456789abcdef01234567\n" OID_A " refs/heads/config\n\n",
		  VL_EINVALID, "lower-case" },
		{ "# v2 git bundle\n0123456789ABCDEF0123456789abcdef01234567 refs/heads/config\n\n", VL_EINVALID,
		  "lower-case" },
		{ "# v2 git bundle\n" OID_A "  refs/heads/config\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n" OID_A " heads/config\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n" OID_A " refs/heads/../config\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n" OID_A " refs/heads//config\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n" OID_A " refs/heads/con fig\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n" OID_A " refs/heads/con\tfig\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n" OID_A " refs/heads/config.lock\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n" OID_A " refs/heads/config/\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n" OID_A " refs/heads/a@{1}\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n" OID_A " refs/heads/.hidden\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n" OID_A " refs/heads/config\r\n\n", VL_EINVALID, "line 2" },
		{ "# v2 git bundle\n" OID_A " refs/heads/config\n" OID_B " refs/heads/config\n\n", VL_EINVALID,
		  "twice" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vl_bundle_header h;
		size_t consumed = 0;
		int rc = parse(cases[i].text, &h, &consumed);
		if (rc != cases[i].rc || !strstr(vl_error_last(), cases[i].says))
			fail_msg("case %zu: rc %d, '%s' (want %d, '%s')", i, rc, vl_error_last(), cases[i].rc,
					cases[i].says);
		assert_int_equal(h.nrefs, 0);
		assert_int_equal(h.nprereqs, 0);
	}
	/* A NUL inside a line. */
	{
		static const char nul[] = "# v2 git bundle\n" OID_A " refs/heads/con\0fig\n\n";
		vl_bundle_header h;
		size_t consumed = 0;
		assert_int_equal(vl_bundle_header_parse(&h, &consumed, nul, sizeof(nul) - 1), VL_EINVALID);
	}
}

static void test_header_caps(void **state)
{
	vl_buf b = VL_BUF_INIT;
	vl_bundle_header h;
	size_t consumed = 0, i;

	(void)state;
	/* A line just over the cap. */
	assert_int_equal(vl_buf_puts(&b, "# v2 git bundle\n" OID_A " refs/heads/"), 0);
	for (i = 0; i < VL_BUNDLE_MAX_LINE; i++)
		assert_int_equal(vl_buf_putc(&b, 'a'), 0);
	assert_int_equal(vl_buf_puts(&b, "\n\n"), 0);
	assert_int_equal(vl_bundle_header_parse(&h, &consumed, b.ptr, b.len), VL_ETOOBIG);
	/* At the cap of refs, then one over. */
	vl_buf_clear(&b);
	b.max = (size_t)64 << 20;
	assert_int_equal(vl_buf_puts(&b, "# v2 git bundle\n"), 0);
	for (i = 0; i < VL_BUNDLE_MAX_REFS; i++)
		assert_int_equal(vl_buf_printf(&b, OID_A " refs/heads/r%zu\n", i), 0);
	assert_int_equal(vl_buf_putc(&b, '\n'), 0);
	assert_int_equal(vl_bundle_header_parse(&h, &consumed, b.ptr, b.len), 0);
	assert_int_equal(h.nrefs, VL_BUNDLE_MAX_REFS);
	vl_bundle_header_free(&h);
	b.len--;
	assert_int_equal(vl_buf_printf(&b, OID_A " refs/heads/one-more\n\n"), 0);
	assert_int_equal(vl_bundle_header_parse(&h, &consumed, b.ptr, b.len), VL_ETOOBIG);
	assert_non_null(strstr(vl_error_last(), "refs"));
	/* A header over its byte cap (prerequisite lines, no end). */
	vl_buf_clear(&b);
	assert_int_equal(vl_buf_puts(&b, "# v2 git bundle\n"), 0);
	while (b.len <= VL_BUNDLE_MAX_HEADER)
		assert_int_equal(vl_buf_puts(&b, "-" OID_A "\n"), 0);
	assert_int_equal(vl_bundle_header_parse(&h, &consumed, b.ptr, b.len), VL_ETOOBIG);
	vl_buf_free(&b);
}


/* ---- the pack check -------------------------------------------------------- */

static void pack_zlib(vl_buf *b, const void *data, size_t len)
{
	unsigned char out[1024];
	uLongf olen = sizeof(out);

	assert_int_equal(compress2(out, &olen, data, (uLong)len, 6), Z_OK);
	assert_int_equal(vl_buf_put(b, out, olen), 0);
}

static void pack_start(vl_buf *b, uint32_t count)
{
	unsigned char h[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 };

	h[8] = (unsigned char)(count >> 24);
	h[9] = (unsigned char)(count >> 16);
	h[10] = (unsigned char)(count >> 8);
	h[11] = (unsigned char)count;
	assert_int_equal(vl_buf_put(b, h, 12), 0);
}

static void pack_end(vl_buf *b)
{
	unsigned char trailer[20] = { 0 };

	assert_int_equal(vl_buf_put(b, trailer, 20), 0);
}

static int check_pack(const vl_buf *b)
{
	FILE *f = stream_of(b->ptr, b->len);
	size_t n = 0;
	int rc = vl_bundle_pack_check(&n, f);

	fclose(f);
	return rc;
}

static void test_pack_check(void **state)
{
	/* A delta of 1 byte into 8 GiB: base size 1, result 2^33. */
	static const unsigned char bomb[] = { 0x01, 0x80, 0x80, 0x80, 0x80, 0x20, 0x90, 0x01 };
	vl_buf b = VL_BUF_INIT;

	(void)state;
	/* A good one: a blob. */
	pack_start(&b, 1);
	vt_pack_entry_header(&b, 3, 5);
	pack_zlib(&b, "hello", 5);
	pack_end(&b);
	assert_int_equal(check_pack(&b), 0);
	/* Truncated anywhere, or with a byte more: refused. */
	{
		size_t full = b.len, cut;
		for (cut = 0; cut < full; cut++) {
			b.len = cut;
			if (check_pack(&b) == 0)
				fail_msg("a pack cut at %zu of %zu was accepted", cut, full);
		}
		b.len = full;
		assert_int_equal(vl_buf_putc(&b, 'x'), 0);
		assert_int_equal(check_pack(&b), VL_EINVALID);
	}
	/* Declared shorter or longer than its data. */
	vl_buf_clear(&b);
	pack_start(&b, 1);
	vt_pack_entry_header(&b, 3, 4);
	pack_zlib(&b, "hello", 5);
	pack_end(&b);
	assert_int_equal(check_pack(&b), VL_EINVALID);
	vl_buf_clear(&b);
	pack_start(&b, 1);
	vt_pack_entry_header(&b, 3, 6);
	pack_zlib(&b, "hello", 5);
	pack_end(&b);
	assert_int_equal(check_pack(&b), VL_EINVALID);
	/* An object declared over the cap: refused from its header. */
	vl_buf_clear(&b);
	pack_start(&b, 1);
	vt_pack_entry_header(&b, 3, (uint64_t)VL_SOURCE_MAX_OBJECT + 1);
	pack_zlib(&b, "hello", 5);
	pack_end(&b);
	assert_int_equal(check_pack(&b), VL_ETOOBIG);
	/* A delta bomb: a blob, then an OFS_DELTA on it making 8 GiB. */
	vl_buf_clear(&b);
	pack_start(&b, 2);
	vt_pack_entry_header(&b, 3, 1);
	pack_zlib(&b, "a", 1);
	vt_pack_entry_header(&b, 6, sizeof(bomb));
	assert_int_equal(vl_buf_putc(&b, 0x0e), 0); /* offset back to the blob */
	pack_zlib(&b, bomb, sizeof(bomb));
	pack_end(&b);
	assert_int_equal(check_pack(&b), VL_ETOOBIG);
	assert_non_null(strstr(vl_error_last(), "delta making"));
	/* Too many objects, an unknown type, another version. */
	vl_buf_clear(&b);
	pack_start(&b, VL_BUNDLE_MAX_OBJECTS + 1);
	pack_end(&b);
	assert_int_equal(check_pack(&b), VL_ETOOBIG);
	vl_buf_clear(&b);
	pack_start(&b, 1);
	vt_pack_entry_header(&b, 5, 5);
	pack_zlib(&b, "hello", 5);
	pack_end(&b);
	assert_int_equal(check_pack(&b), VL_EINVALID);
	vl_buf_clear(&b);
	pack_start(&b, 0);
	b.ptr[7] = 4;
	pack_end(&b);
	assert_int_equal(check_pack(&b), VL_EINVALID);
	vl_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wrong_recipient),
		cmocka_unit_test(test_tamper_truncate),
		cmocka_unit_test(test_header_good),
		cmocka_unit_test(test_header_bad),
		cmocka_unit_test(test_header_caps),
		cmocka_unit_test(test_pack_check),
	};

	int rc;

	if (vl_crypto_init() < 0 || git_libgit2_init() < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
