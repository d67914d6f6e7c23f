/* test_record.c - canonical signed records, ULIDs and the hybrid logical clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/hlc.h"
#include "store/record.h"
#include "testutil.h"
#include "store/ulid.h"
#include "store/yaml.h"

/*
 * The golden record was written by hand, not by the code under test: the
 * text of docs/formats.md §4's example with the canonical rules of
 * docs/decisions.md ("One quoting rule": the id starts with a digit, so it is
 * quoted; flow maps for the short list items), and its sig line made by
 * stock OpenSSH over the bytes before it:
 *   ssh-keygen -Y sign -f tv1 -n vledger-record body   (tv1: the TV1 seed
 *   of reference/sshsig.md in an OpenSSH key file; Ed25519 is deterministic)
 * then the armor's base64 joined on one line. test_golden_record checks the
 * emitter against it, and ssh-keygen -Y verify checks its signature on every
 * run. VL_WRITE_GOLDEN=1 rewrites it from the emitter and then FAILS: read
 * the diff against these rules by hand before committing it.
 */
#define GOLDEN VL_SOURCE_DIR "/tests/golden/record_supply.yaml"
#define ALLOWED_LINE "tv1 namespaces=\"vledger-record\" " TV1_PUB "\n"
#define TV1_PUB "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"

/* The TV1 key of docs/formats.md §5.7: seed 00 01 .. 1f. */
static void tv1_key(vl_key *k)
{
	unsigned char seed[32];
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (unsigned char)i;
	assert_int_equal(vl_crypto_init(), 0);
	assert_int_equal(vl_key_from_seed(k, seed), 0);
}

static vl_value *item(const char *name, long long qty, const char *unit)
{
	vl_value *m = vl_value_new(VL_V_MAP);

	assert_int_equal(vl_value_map_set(m, "name", vl_value_str(name)), 0);
	assert_int_equal(vl_value_map_set(m, "qty", vl_value_int(qty)), 0);
	assert_int_equal(vl_value_map_set(m, "unit", vl_value_str(unit)), 0);
	return m;
}

/* The record example of docs/formats.md §4.3, signed with the TV1 key. */
static vl_record *sample(void)
{
	vl_record *r = NULL;
	vl_value *items = vl_value_new(VL_V_LIST);

	assert_int_equal(vl_record_new(&r, "supply_request", "01hq3k5z6w8x9y0abcdefghjkm", "500243001001"), 0);
	memcpy(r->clock, "2022-04-07T01:12:33.120Z/0001", VL_HLC_TEXT_LEN + 1);
	r->prev = calloc(1, sizeof(*r->prev));
	assert_non_null(r->prev);
	memcpy(r->prev[0], "3b18e512dba79e4c8300dd08aeb37f8e728b8dad", 41);
	r->nprev = 1;
	assert_int_equal(vl_value_map_set(r->data, "request_no", vl_value_str("500243001001-20220407-003")), 0);
	assert_int_equal(vl_value_map_set(r->data, "status", vl_value_str("purchased")), 0);
	assert_int_equal(vl_value_list_push(items, item("大米", 2, "袋")), 0);
	assert_int_equal(vl_value_list_push(items, item("食用油", 1, "桶")), 0);
	assert_int_equal(vl_value_map_set(r->data, "items", items), 0);
	return r;
}

static void test_golden_record(void **state)
{
	vl_record *r = sample(), *back = NULL;
	vl_key k;
	vl_buf out = VL_BUF_INIT;
	unsigned char pk[32];
	char *golden;
	size_t glen;

	(void)state;
	tv1_key(&k);
	assert_int_equal(vl_record_sign(r, &k, &out), 0);
	if (getenv("VL_WRITE_GOLDEN")) {
		vt_write(GOLDEN, out.ptr, out.len);
		print_error("wrote %s from the emitter; compare it by hand with the canonical rules, commit it, "
				"and run again without VL_WRITE_GOLDEN\n", GOLDEN);
		fail();
	}
	golden = vt_read(GOLDEN, &glen);
	assert_int_equal(out.len, glen);
	assert_memory_equal(out.ptr, golden, glen);
	assert_string_equal(r->author, "SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg");
	/* Parse back: same fields, signature good, signer = TV1. */
	assert_int_equal(vl_record_parse(&back, golden, glen, "golden"), 0);
	assert_string_equal(back->id, r->id);
	assert_string_equal(back->scope, "500243001001");
	assert_int_equal(back->nprev, 1);
	assert_true(vl_value_equal(back->data, r->data));
	assert_int_equal(vl_record_verify(back, golden, glen, pk), 0);
	assert_memory_equal(pk, k.pk, 32);
	vl_record_free(back);
	vl_record_free(r);
	vl_buf_free(&out);
	free(golden);
	vl_key_wipe(&k);
}

static void test_tampered_data_fails_signature(void **state)
{
	size_t len;
	char *g = vt_read(GOLDEN, &len);
	char *p = strstr(g, "qty: 2");
	vl_record *r = NULL;

	(void)state;
	assert_non_null(p);
	p[5] = '3'; /* still canonical, no longer what was signed */
	assert_int_equal(vl_record_parse(&r, g, len, "tampered"), 0);
	assert_int_equal(vl_record_verify(r, g, len, NULL), VL_EBADSIG);
	vl_record_free(r);
	free(g);
}

/* Replace the first occurrence of `from` in the golden file with `to` and
 * expect vl_record_parse to refuse it with `code`. */
static void expect_rejected(const char *from, const char *to, int code)
{
	size_t len, flen = strlen(from), tlen = strlen(to);
	char *g = vt_read(GOLDEN, &len);
	char *p = strstr(g, from);
	char *bad = malloc(len - flen + tlen + 1);
	vl_record *r = NULL;
	size_t pre;
	int rc;

	assert_non_null(p);
	assert_non_null(bad);
	pre = (size_t)(p - g);
	memcpy(bad, g, pre);
	memcpy(bad + pre, to, tlen);
	memcpy(bad + pre + tlen, p + flen, len - pre - flen);
	rc = vl_record_parse(&r, bad, len - flen + tlen, "variant");
	if (rc != code)
		print_error("variant %s -> %s gave %d (%s)\n", from, to, rc, vl_error_last());
	assert_int_equal(rc, code);
	assert_null(r);
	free(bad);
	free(g);
}

static void test_noncanonical_variants_rejected(void **state)
{
	(void)state;
	expect_rejected("id: \"01hq", "id: 01hq", VL_EINVALID);                 /* id unquoted */
	expect_rejected("scope: \"500243001001\"", "scope: '500243001001'", VL_EINVALID);
	expect_rejected("status: purchased", "status:  purchased", VL_EINVALID);
	expect_rejected("status: purchased", "status: \"purchased\"", VL_EINVALID);
	expect_rejected("schema: supply_request\n", "schema: supply_request\r\n", VL_EINVALID);
	expect_rejected("data:\n", "# comment\ndata:\n", VL_EINVALID);
	expect_rejected("schema: supply_request\nid:", "id:", VL_EINVALID);       /* schema missing */
	expect_rejected("clock: \"2022-04-07T01:12:33.120Z/0001\"\n", "", VL_EINVALID);
	expect_rejected("clock: \"2022-04-07T01:12:33.120Z/0001\"", "clock: \"2022-02-30T01:12:33.120Z/0001\"",
			VL_EINVALID);
	expect_rejected("scope: \"500243001001\"", "scope: \"50024300100\"", VL_EINVALID);
	expect_rejected("prev: [\"3b18", "prev: [\"3B18", VL_EINVALID);
	expect_rejected("data:\n", "deleted: false\ndata:\n", VL_EINVALID);       /* out of order */
	expect_rejected("sig: \"", "extra: 1\nsig: \"", VL_EINVALID);
	expect_rejected("sig: \"", "deleted: false\nsig: \"", VL_EINVALID);
	expect_rejected("items:\n", "items: !!seq\n", VL_EINVALID);
	expect_rejected("request_no: \"500243001001-20220407-003\"",
			"request_no: &a \"x\"\n  dup: *a", VL_EINVALID);
	expect_rejected("status: purchased", "status: purchased\n  status: purchased", VL_EINVALID);
	expect_rejected("author: \"SHA256:", "author: \"MD5:", VL_EINVALID);
}

static void test_missing_sig_and_merge_rules(void **state)
{
	size_t len;
	char *g = vt_read(GOLDEN, &len);
	char *sig = strstr(g, "sig: \"");
	vl_record *r = NULL;
	vl_buf b = VL_BUF_INIT;

	(void)state;
	/* Cut the sig line: an authored record must be signed. */
	assert_int_equal(vl_record_parse(&r, g, (size_t)(sig - g), "unsigned"), VL_EBADSIG);
	/* A merged record carries no sig and verify refuses it as unsigned. */
	r = sample();
	memcpy(r->author, "merge", 6);
	assert_int_equal(vl_record_emit(&b, r, 1), 0);
	vl_record_free(r);
	r = NULL;
	assert_int_equal(vl_record_parse(&r, b.ptr, b.len, "merged"), 0);
	assert_int_equal(vl_record_verify(r, b.ptr, b.len, NULL), VL_EBADSIG);
	vl_record_free(r);
	vl_buf_free(&b);
	free(g);
}

static void test_oversized_refused_before_parsing(void **state)
{
	size_t n = VL_RECORD_MAX_BYTES + 1;
	char *big = malloc(n);
	vl_record *r = NULL;
	vl_record *s = sample();
	vl_key k;
	vl_buf out = VL_BUF_INIT, text = VL_BUF_INIT;
	size_t i;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', n);
	assert_int_equal(vl_record_parse(&r, big, n, "big"), VL_ETOOBIG);
	free(big);
	/* Signing refuses to make a record over the limit. */
	for (i = 0; i < 70000 / 10; i++)
		assert_int_equal(vl_buf_puts(&text, "长文本长文"), 0);
	assert_int_equal(vl_value_map_set(s->data, "note", vl_value_str(text.ptr)), 0);
	tv1_key(&k);
	assert_int_equal(vl_record_sign(s, &k, &out), VL_ETOOBIG);
	vl_key_wipe(&k);
	vl_record_free(s);
	vl_buf_free(&out);
	vl_buf_free(&text);
}

static void test_record_path(void **state)
{
	vl_buf b = VL_BUF_INIT;

	(void)state;
	assert_int_equal(vl_record_path(&b, "resident", "01hq3k5z6w8x9y0abcdefghjkk"), 0);
	assert_string_equal(b.ptr, "resident/k/01hq3k5z6w8x9y0abcdefghjkk.yaml");
	vl_buf_free(&b);
	assert_true(vl_ledger_name_valid("supply_request"));
	assert_false(vl_ledger_name_valid("Supply"));
	assert_false(vl_ledger_name_valid("../x"));
	assert_false(vl_ledger_name_valid(""));
}

static void test_ulid(void **state)
{
	char a[27], b[27];
	int buckets[32] = { 0 };
	const char *alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
	int i;

	(void)state;
	assert_int_equal(vl_crypto_init(), 0);
	vl_ulid_new(a, 1649294000000ULL);
	vl_ulid_new(b, 1649294000001ULL);
	assert_true(vl_ulid_valid(a));
	assert_true(strcmp(a, b) < 0); /* time-ordered */
	assert_int_equal(vl_ulid_time(a), 1649294000000ULL);
	assert_false(vl_ulid_valid("01HQ3K5Z6W8X9Y0ABCDEFGHJKK")); /* uppercase */
	assert_false(vl_ulid_valid("01hq3k5z6w8x9y0abcdefghjki"));  /* i is not Crockford */
	assert_false(vl_ulid_valid("81hq3k5z6w8x9y0abcdefghjkk"));  /* > 128 bits */
	assert_false(vl_ulid_valid("01hq3k5z6w8x9y0abcdefghjk"));
	/* The bucket (last character) is spread over all 32 values. */
	for (i = 0; i < 3200; i++) {
		vl_ulid_new(a, 1649294000000ULL);
		buckets[strchr(alphabet, a[25]) - alphabet]++;
	}
	for (i = 0; i < 32; i++)
		assert_true(buckets[i] > 40 && buckets[i] < 180);
}

static void test_hlc(void **state)
{
	vl_hlc c = { 0, 0 }, p, later;
	char text[VL_HLC_TEXT_LEN + 1];
	char *dir = vt_tmpdir();
	char path[512];

	(void)state;
	assert_int_equal(vl_hlc_parse(&p, "2022-04-07T01:12:33.120Z/0001"), 0);
	assert_int_equal(p.ms, 1649293953120ULL);
	assert_int_equal(p.counter, 1);
	vl_hlc_format(text, &p);
	assert_string_equal(text, "2022-04-07T01:12:33.120Z/0001");
	assert_int_not_equal(vl_hlc_parse(&p, "2022-04-07T01:12:33.120Z"), 0);
	assert_int_not_equal(vl_hlc_parse(&p, "2023-02-29T01:12:33.120Z/0001"), 0);
	assert_int_not_equal(vl_hlc_parse(&p, "2022-04-07T24:12:33.120Z/0001"), 0);
	assert_int_not_equal(vl_hlc_parse(&p, "2022-04-07 01:12:33.120Z/0001"), 0);
	assert_int_equal(vl_hlc_parse(&p, "2024-02-29T23:59:59.999Z/9999"), 0);
	/* Never backwards: the wall clock jumps back an hour. */
	vl_hlc_tick(&c, 1649293953120ULL);
	later = c;
	vl_hlc_tick(&c, 1649293953120ULL - 3600000);
	assert_true(vl_hlc_cmp(&c, &later) > 0);
	assert_int_equal(c.ms, later.ms);
	assert_int_equal(c.counter, 1);
	/* The counter has four digits: at 9999 the next millisecond is borrowed. */
	c.counter = 9999;
	vl_hlc_tick(&c, 0);
	assert_int_equal(c.ms, later.ms + 1);
	assert_int_equal(c.counter, 0);
	/* Observing a later clock moves us; an earlier one does not. */
	p.ms = c.ms + 5000;
	p.counter = 7;
	vl_hlc_observe(&c, &p);
	assert_int_equal(vl_hlc_cmp(&c, &p), 0);
	p.ms = 1;
	vl_hlc_observe(&c, &p);
	assert_int_not_equal(c.ms, 1);
	/* Persisted and read back; a missing file is the zero clock. */
	snprintf(path, sizeof(path), "%s/clock", dir);
	assert_int_equal(vl_hlc_load(&p, path), 0);
	assert_int_equal(p.ms, 0);
	assert_int_equal(vl_hlc_save(&c, path), 0);
	assert_int_equal(vl_hlc_load(&p, path), 0);
	assert_int_equal(vl_hlc_cmp(&c, &p), 0);
	vt_write(path, "garbage\n", 8);
	assert_int_equal(vl_hlc_load(&p, path), VL_EINVALID);
	vt_rmtree(dir);
	free(dir);
}

/* The golden's signature holds for stock OpenSSH: the sig line is base64 of
 * an SSHSIG blob over the bytes before it, by the TV1 key. */
static void test_golden_verifies_with_ssh_keygen(void **state)
{
	size_t len;
	char *g = vt_read(GOLDEN, &len);
	char *dir = vt_tmpdir(), *out = NULL;
	char body[512], sig[512], allowed[512];
	const char *line = strstr(g, "\nsig: \"");
	vl_buf armor = VL_BUF_INIT;
	const char *b64;
	size_t n, i;

	(void)state;
	assert_non_null(line);
	line++;
	b64 = line + strlen("sig: \"");
	n = strcspn(b64, "\"");
	assert_int_equal(vl_buf_puts(&armor, "-----BEGIN SSH SIGNATURE-----\n"), 0);
	for (i = 0; i < n; i += 70) {
		assert_int_equal(vl_buf_put(&armor, b64 + i, n - i < 70 ? n - i : 70), 0);
		assert_int_equal(vl_buf_putc(&armor, '\n'), 0);
	}
	assert_int_equal(vl_buf_puts(&armor, "-----END SSH SIGNATURE-----\n"), 0);
	snprintf(body, sizeof(body), "%s/body", dir);
	snprintf(sig, sizeof(sig), "%s/body.sig", dir);
	snprintf(allowed, sizeof(allowed), "%s/allowed", dir);
	vt_write(body, g, (size_t)(line - g));
	vt_write(sig, armor.ptr, armor.len);
	vt_write(allowed, ALLOWED_LINE, strlen(ALLOWED_LINE));
	if (vt_run(&out, "ssh-keygen -Y verify -f '%s' -I tv1 -n vledger-record -s '%s' < '%s'", allowed, sig,
			body) != 0) {
		print_error("ssh-keygen refuses the golden record's signature:\n%s\n", out);
		fail();
	}
	free(out);
	/* and refuses it over other bytes (the check bites) */
	vt_write(body, g, (size_t)(line - g) - 1);
	assert_int_not_equal(vt_run(NULL, "ssh-keygen -Y verify -f '%s' -I tv1 -n vledger-record -s '%s' < '%s'",
			allowed, sig, body), 0);
	vl_buf_free(&armor);
	vt_rmtree(dir);
	free(dir);
	free(g);
}

/* A record whose signature is good but made by a key other than the one
 * its `author:` names: vl_record_verify must refuse it. The record stays
 * canonical, so only the author = signer comparison stands in the way. */
static void test_signer_must_be_author(void **state)
{
	vl_record *r = sample(), *back = NULL;
	vl_key k, other;
	unsigned char seed[32];
	vl_buf body = VL_BUF_INIT, blob = VL_BUF_INIT, b64 = VL_BUF_INIT, file = VL_BUF_INIT;
	unsigned char pk[32];
	int i;

	(void)state;
	tv1_key(&k);
	for (i = 0; i < 32; i++)
		seed[i] = (unsigned char)(0xa0 + i);
	assert_int_equal(vl_key_from_seed(&other, seed), 0);
	/* First a record the other key signed verifies (vl_record_verify
	 * keeps the fingerprint of the last key: it must not answer for
	 * another key). */
	assert_int_equal(vl_record_sign(r, &other, &file), 0);
	assert_int_equal(vl_record_parse(&back, file.ptr, file.len, "honest"), 0);
	assert_int_equal(vl_record_verify(back, file.ptr, file.len, NULL), 0);
	vl_record_free(back);
	back = NULL;
	vl_buf_clear(&file);
	free(r->sig);
	r->sig = NULL;
	/* author: the other key; signed by TV1 over exactly these bytes */
	vl_fingerprint(r->author, other.pk);
	assert_int_equal(vl_record_emit(&body, r, 0), 0);
	assert_int_equal(vl_sshsig_sign(&blob, &k, VL_NS_RECORD, body.ptr, body.len), 0);
	assert_int_equal(vl_base64_encode(&b64, blob.ptr, blob.len), 0);
	assert_int_equal(vl_buf_put(&file, body.ptr, body.len), 0);
	assert_int_equal(vl_buf_printf(&file, "sig: \"%s\"\n", b64.ptr), 0);
	assert_int_equal(vl_record_parse(&back, file.ptr, file.len, "claim"), 0);
	memset(pk, 0, sizeof(pk));
	assert_int_equal(vl_record_verify(back, file.ptr, file.len, pk), VL_EBADSIG);
	assert_non_null(strstr(vl_error_last(), "claims author"));
	assert_non_null(strstr(vl_error_last(), r->author));
	/* the key is not handed out for a record that failed */
	for (i = 0; i < 32; i++)
		assert_int_equal(pk[i], 0);
	vl_record_free(back);
	back = NULL;
	/* Control: the same record signed by the key it names verifies. */
	vl_buf_clear(&file);
	assert_int_equal(vl_record_sign(r, &other, &file), 0);
	assert_int_equal(vl_record_parse(&back, file.ptr, file.len, "honest"), 0);
	assert_int_equal(vl_record_verify(back, file.ptr, file.len, pk), 0);
	assert_memory_equal(pk, other.pk, 32);
	vl_record_free(back);
	vl_record_free(r);
	vl_buf_free(&body);
	vl_buf_free(&blob);
	vl_buf_free(&b64);
	vl_buf_free(&file);
	vl_key_wipe(&k);
	vl_key_wipe(&other);
}

/* The record's own size cap answers first (before the YAML loader's, which
 * has the same bound): one byte over is refused by size, with the record's
 * message, and the limit itself is not over it. */
/* Line and column of every node, recursively: the parse hands the record
 * the loaded subtree itself, which must keep the source positions that
 * schema findings quote. */
static void assert_same_positions(const vl_value *a, const vl_value *b)
{
	size_t i;

	assert_int_equal(a->line, b->line);
	assert_int_equal(a->col, b->col);
	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++)
		assert_same_positions(a->items[i], b->items[i]);
}

/*
 * vl_record_parse takes data, conflicts and sig out of the loaded tree
 * (no clones) and checks the canonical form with an emit that borrows
 * them: the record must hold exactly what vl_yaml_load reads, with its
 * positions, and emit back to the same bytes, deleted and conflicts in
 * their places, also after a first emit (nothing borrowed was freed).
 */
static void test_parse_keeps_the_loaded_tree(void **state)
{
	vl_record *r = NULL, *back = NULL;
	vl_value *tree = NULL, *c = NULL;
	vl_buf text = VL_BUF_INIT, again = VL_BUF_INIT;
	vl_key k;
	int deleted;

	(void)state;
	tv1_key(&k);
	for (deleted = 0; deleted < 2; deleted++) {
		r = sample();
		r->deleted = deleted;
		c = vl_value_new(VL_V_MAP);
		assert_int_equal(vl_value_map_set(c, "status", vl_value_str("ordered")), 0);
		assert_int_equal(vl_value_map_set(c, "note", vl_value_str("两边都改了")), 0);
		r->conflicts = c;
		assert_int_equal(vl_record_sign(r, &k, &text), 0);
		assert_int_equal(vl_yaml_load(&tree, text.ptr, text.len, &vl_yaml_record_limits, "t"), 0);
		assert_int_equal(vl_record_parse(&back, text.ptr, text.len, "t"), 0);
		assert_true(vl_value_equal(back->data, vl_value_map_get(tree, "data")));
		assert_true(vl_value_equal(back->data, r->data));
		assert_same_positions(back->data, vl_value_map_get(tree, "data"));
		assert_non_null(back->conflicts);
		assert_true(vl_value_equal(back->conflicts, r->conflicts));
		assert_non_null(strstr(text.ptr, deleted ? "\ndeleted: true\nconflicts:\n" : "\nconflicts:\n"));
		assert_non_null(strstr(text.ptr, "  note: 两边都改了\nsig: \""));
		assert_true(vl_value_equal(back->conflicts, vl_value_map_get(tree, "conflicts")));
		assert_same_positions(back->conflicts, vl_value_map_get(tree, "conflicts"));
		assert_string_equal(back->sig, vl_value_map_get(tree, "sig")->s);
		assert_int_equal(back->deleted, deleted);
		assert_int_equal(vl_record_emit(&again, back, 1), 0);
		assert_int_equal(again.len, text.len);
		assert_memory_equal(again.ptr, text.ptr, text.len);
		vl_buf_clear(&again);
		assert_int_equal(vl_record_emit(&again, back, 1), 0);
		assert_memory_equal(again.ptr, text.ptr, text.len);
		assert_int_equal(vl_record_verify(back, text.ptr, text.len, NULL), 0);
		vl_buf_clear(&again);
		vl_buf_clear(&text);
		vl_value_free(tree);
		tree = NULL;
		vl_record_free(back);
		back = NULL;
		vl_record_free(r);
		r = NULL;
	}
	vl_buf_free(&again);
	vl_buf_free(&text);
}

static void test_size_cap_checked_first(void **state)
{
	size_t n = VL_RECORD_MAX_BYTES + 1;
	char *big = malloc(n);
	vl_record *r = NULL;

	(void)state;
	assert_non_null(big);
	memset(big, '#', n);
	assert_int_equal(vl_record_parse(&r, big, n, "big"), VL_ETOOBIG);
	assert_non_null(strstr(vl_error_last(), "big: record is 65537 bytes, over the limit of 65536"));
	/* at the limit: not refused for its size (it is just not a record) */
	assert_int_equal(vl_record_parse(&r, big, n - 1, "big"), VL_EINVALID);
	assert_null(r);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_record),
		cmocka_unit_test(test_tampered_data_fails_signature),
		cmocka_unit_test(test_noncanonical_variants_rejected),
		cmocka_unit_test(test_missing_sig_and_merge_rules),
		cmocka_unit_test(test_oversized_refused_before_parsing),
		cmocka_unit_test(test_record_path),
		cmocka_unit_test(test_ulid),
		cmocka_unit_test(test_hlc),
		cmocka_unit_test(test_golden_verifies_with_ssh_keygen),
		cmocka_unit_test(test_signer_must_be_author),
		cmocka_unit_test(test_size_cap_checked_first),
		cmocka_unit_test(test_parse_keeps_the_loaded_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
