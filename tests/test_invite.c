/*
 * test_invite.c - invitation tokens, join proofs and the terminal QR code
 * (agent/node/invite.h): round trips, every single-character change of a token
 * refused, cut and padded tokens, field rules, expiry with a fake clock,
 * the invitation key, and the QR drawing read back module by module
 * (quiet zone, the three finder patterns, the timing patterns).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/node/invite.h"

static void sample(vl_invite *inv)
{
	size_t i;

	memset(inv, 0, sizeof(*inv));
	snprintf(inv->network, sizeof(inv->network), "%s", "0123456789abcdef0123456789abcdef");
	snprintf(inv->county, sizeof(inv->county), "%s", "500243000000");
	inv->nroots = 2;
	for (i = 0; i < 32; i++) {
		inv->root_keys[0][i] = (unsigned char)i;
		inv->root_keys[1][i] = (unsigned char)(200 + i);
		inv->network_key[i] = (unsigned char)(100 + i);
		inv->secret[i] = (unsigned char)(50 + i);
	}
	for (i = 0; i < 16; i++)
		inv->id[i] = (unsigned char)(7 * i);
	inv->expires = 1900000000;
	snprintf(inv->role, sizeof(inv->role), "%s", "village");
	snprintf(inv->scope, sizeof(inv->scope), "%s", "500243001001");
	snprintf(inv->name, sizeof(inv->name), "%s", "鼓楼社区居委会");
	snprintf(inv->address, sizeof(inv->address), "%s", "10.0.0.2:7433");
	snprintf(inv->source, sizeof(inv->source), "%s", "/srv/county/repo.git");
}

static void encode(vl_buf *out, const vl_invite *inv)
{
	vl_buf_clear(out);
	assert_int_equal(vl_invite_encode(out, inv), 0);
}

static void test_round_trip(void **state)
{
	vl_invite a, b;
	vl_buf t = VL_BUF_INIT, spaced = VL_BUF_INIT;

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	sample(&a);
	encode(&t, &a);
	assert_memory_equal(t.ptr, VL_INVITE_PREFIX, strlen(VL_INVITE_PREFIX));
	assert_null(strchr(t.ptr, '='));
	assert_int_equal(vl_invite_decode(&b, t.ptr), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* Whitespace around it, as a copy from a terminal brings. */
	assert_int_equal(vl_buf_printf(&spaced, "  %s\r\n", t.ptr), 0);
	assert_int_equal(vl_invite_decode(&b, spaced.ptr), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* Empty address and source; one root key; an admin of a township. */
	memset(a.address, 0, sizeof(a.address));
	memset(a.source, 0, sizeof(a.source));
	memset(a.role, 0, sizeof(a.role));
	a.nroots = 1;
	memset(a.root_keys[1], 0, 32);
	memcpy(a.role, "admin", 5);
	memcpy(a.scope, "500243001000", 12);
	encode(&t, &a);
	assert_int_equal(vl_invite_decode(&b, t.ptr), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	vl_buf_free(&t);
	vl_buf_free(&spaced);
}

static void test_every_change_refused(void **state)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	vl_invite a, b;
	vl_buf t = VL_BUF_INIT;
	size_t i, plen = strlen(VL_INVITE_PREFIX), refused = 0, tried = 0;

	(void)state;
	sample(&a);
	encode(&t, &a);
	/* Every position, one other character: the checksum (or, in the last
	 * character's unused bits, the strict base64 decoder) refuses it. */
	for (i = plen; i < t.len; i++) {
		char keep = t.ptr[i];
		t.ptr[i] = alphabet[(strchr(alphabet, keep) - alphabet + 1 + (int)(i % 7)) % 64];
		tried++;
		if (vl_invite_decode(&b, t.ptr) < 0)
			refused++;
		t.ptr[i] = keep;
	}
	assert_int_equal(refused, tried);
	/* Cut short, one character more, a character outside base64url. */
	for (i = plen; i < t.len; i += 5) {
		char keep = t.ptr[i];
		t.ptr[i] = '\0';
		assert_int_not_equal(vl_invite_decode(&b, t.ptr), 0);
		t.ptr[i] = keep;
	}
	assert_int_equal(vl_buf_putc(&t, 'A'), 0);
	assert_int_equal(vl_invite_decode(&b, t.ptr), VL_EINVALID);
	t.ptr[t.len - 1] = '=';
	assert_int_equal(vl_invite_decode(&b, t.ptr), VL_EINVALID);
	t.ptr[t.len - 1] = '\xc3';
	assert_int_equal(vl_invite_decode(&b, t.ptr), VL_EINVALID);
	assert_int_equal(vl_invite_decode(&b, "vledger2:AAAA"), VL_EINVALID);
	assert_int_equal(vl_invite_decode(&b, ""), VL_EINVALID);
	/* Refused output is wiped. */
	{
		vl_invite zero;
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(&b, &zero, sizeof(b));
	}
	vl_buf_free(&t);
}

static void test_too_long(void **state)
{
	char *s = malloc(VL_INVITE_MAX_TEXT + 64);
	vl_invite b;

	(void)state;
	assert_non_null(s);
	memset(s, 'A', VL_INVITE_MAX_TEXT + 63);
	memcpy(s, VL_INVITE_PREFIX, strlen(VL_INVITE_PREFIX));
	s[VL_INVITE_MAX_TEXT + 63] = '\0';
	assert_int_equal(vl_invite_decode(&b, s), VL_ETOOBIG);
	free(s);
}

static void test_field_rules(void **state)
{
	vl_invite a;
	vl_buf t = VL_BUF_INIT;

	(void)state;
#define REFUSED(mutate) do { sample(&a); mutate; vl_buf_clear(&t); \
		assert_int_equal(vl_invite_encode(&t, &a), VL_EINVALID); } while (0)
	REFUSED(a.network[5] = 'G');
	REFUSED(a.network[31] = '\0');
	REFUSED(snprintf(a.county, sizeof(a.county), "%s", "500243001000"));
	REFUSED(a.nroots = 0);
	REFUSED(a.nroots = VL_INVITE_MAX_ROOTS + 1);
	REFUSED(snprintf(a.role, sizeof(a.role), "%s", "mayor"));
	REFUSED(snprintf(a.scope, sizeof(a.scope), "%s", "500244001001"));   /* another county */
	REFUSED(snprintf(a.scope, sizeof(a.scope), "%s", "500243001000"));   /* village role, township code */
	REFUSED(a.name[0] = '\0');
	REFUSED(snprintf(a.name, sizeof(a.name), "%s", "a\nb"));
	REFUSED(snprintf(a.source, sizeof(a.source), "%s", "/tmp/\x1b[2J"));
	REFUSED(memset(a.name, 'x', 255); a.name[255] = '\0'; a.name[10] = '\xff');
#undef REFUSED
	sample(&a);
	memset(a.name, 'x', 255);
	a.name[255] = '\0';
	assert_int_equal(vl_invite_encode(&t, &a), 0);
	vl_buf_free(&t);
}

static void test_time_and_expiry(void **state)
{
	char text[21];
	uint64_t s;

	(void)state;
	vl_invite_time_format(text, 1700000000);
	assert_string_equal(text, "2023-11-14T22:13:20Z");
	assert_int_equal(vl_invite_time_parse(&s, text), 0);
	assert_int_equal(s, 1700000000);
	assert_int_equal(vl_invite_time_parse(&s, "2023-11-14T22:13:20"), VL_EINVALID);
	assert_int_equal(vl_invite_time_parse(&s, "2023-02-30T00:00:00Z"), VL_EINVALID);
	setenv("VLEDGER_FAKE_TIME_MS", "1700000000000", 1);
	assert_int_equal(vl_invite_expired(1700000000), 1);
	assert_int_equal(vl_invite_expired(1700000001), 0);
	unsetenv("VLEDGER_FAKE_TIME_MS");
}

static void test_invite_key_and_proof(void **state)
{
	unsigned char secret[32], other[32], pk[32], sig[crypto_sign_BYTES], id[16] = { 1, 2, 3 };
	vl_key k1, k2, k3;
	vl_buf m1 = VL_BUF_INIT, m2 = VL_BUF_INIT;

	(void)state;
	memset(secret, 9, sizeof(secret));
	memcpy(other, secret, sizeof(other));
	other[31] ^= 1;
	memset(pk, 4, sizeof(pk));
	assert_int_equal(vl_invite_key(&k1, secret), 0);
	assert_int_equal(vl_invite_key(&k2, secret), 0);
	assert_int_equal(vl_invite_key(&k3, other), 0);
	assert_memory_equal(k1.pk, k2.pk, 32);
	assert_memory_not_equal(k1.pk, k3.pk, 32);
	assert_int_equal(vl_join_message(&m1, "0123456789abcdef0123456789abcdef", id, pk, "甲"), 0);
	assert_int_equal(vl_join_message(&m2, "0123456789abcdef0123456789abcdef", id, pk, "乙"), 0);
	crypto_sign_detached(sig, NULL, (const unsigned char *)m1.ptr, m1.len, k1.sk);
	assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)m1.ptr, m1.len, k2.pk), 0);
	assert_int_not_equal(crypto_sign_verify_detached(sig, (const unsigned char *)m2.ptr, m2.len, k1.pk), 0);
	assert_int_not_equal(crypto_sign_verify_detached(sig, (const unsigned char *)m1.ptr, m1.len, k3.pk), 0);
	vl_key_wipe(&k1);
	vl_key_wipe(&k2);
	vl_key_wipe(&k3);
	vl_buf_free(&m1);
	vl_buf_free(&m2);
}

/* ---- the QR drawing, read back ---------------------------------------- */

static const char *const cells[4] = { " ", "\xe2\x96\x80", "\xe2\x96\x84", "\xe2\x96\x88" };

/* The cell at *s (index: top light + 2 * bottom light), advancing s; -1 at
 * a newline. Fails the test on anything else. */
static int next_cell(const char **s)
{
	int c;

	if (**s == '\n') {
		(*s)++;
		return -1;
	}
	for (c = 0; c < 4; c++)
		if (!strncmp(*s, cells[c], strlen(cells[c]))) {
			*s += strlen(cells[c]);
			return c;
		}
	fail_msg("not a half-block cell at '%.8s'", *s);
	return -1;
}

/* Modules of a drawing, row by row: 1 light, 0 dark. *width cells a line,
 * *height module rows (two a line). */
static unsigned char *read_drawing(const char *s, int *width, int *height)
{
	const char *p = s;
	unsigned char *m;
	int w = 0, lines = 0, x, y, c;

	while ((c = next_cell(&p)) >= 0)
		w++;
	for (p = s; *p; p++)
		lines += *p == '\n';
	m = calloc((size_t)(w * lines * 2), 1);
	assert_non_null(m);
	for (p = s, y = 0; y < lines; y++) {
		for (x = 0; (c = next_cell(&p)) >= 0; x++) {
			assert_true(x < w);
			m[(2 * y) * w + x] = (unsigned char)(c & 1);
			m[(2 * y + 1) * w + x] = (unsigned char)(c >> 1);
		}
		assert_int_equal(x, w);
	}
	assert_int_equal(*p, '\0');
	*width = w;
	*height = 2 * lines;
	return m;
}

static int light(const unsigned char *m, int w, int x, int y)
{
	return m[y * w + x];
}

static void check_finder(const unsigned char *m, int w, int x0, int y0)
{
	int x, y;

	for (y = 0; y < 7; y++)
		for (x = 0; x < 7; x++) {
			int ring = x == 0 || y == 0 || x == 6 || y == 6;
			int inner = x >= 2 && x <= 4 && y >= 2 && y <= 4;
			assert_int_equal(light(m, w, x0 + x, y0 + y), !(ring || inner));
		}
}

static void test_qr_drawing(void **state)
{
	vl_invite a;
	vl_buf t = VL_BUF_INIT, d = VL_BUF_INIT;
	unsigned char *m;
	int w, h, n, i, x, y;

	(void)state;
	sample(&a);
	encode(&t, &a);
	assert_int_equal(vl_qr_render(&d, t.ptr), 0);
	m = read_drawing(d.ptr, &w, &h);
	n = w - 8;
	/* Symbol and quiet zone are w modules tall; the last line's lower half
	 * lies past them and is blank. */
	assert_int_equal(h, w + 1);
	for (x = 0; x < w; x++)
		assert_false(light(m, w, x, h - 1));
	assert_true(n >= 21 && n <= 177 && (n - 21) % 4 == 0);
	/* A token of ~330 characters needs at least version 10 (57 modules). */
	assert_true(n >= 57);
	for (i = 0; i < w; i++)
		for (y = 0; y < 4; y++) {
			assert_true(light(m, w, i, y));
			assert_true(light(m, w, i, w - 1 - y));
			assert_true(light(m, w, y, i));
			assert_true(light(m, w, w - 1 - y, i));
		}
	check_finder(m, w, 4, 4);
	check_finder(m, w, 4 + n - 7, 4);
	check_finder(m, w, 4, 4 + n - 7);
	for (x = 8; x < n - 8; x++) {
		assert_int_equal(light(m, w, 4 + x, 4 + 6), x % 2);
		assert_int_equal(light(m, w, 4 + 6, 4 + x), x % 2);
	}
	free(m);
	/* Too long for any QR code. */
	{
		char *big = malloc(8000);
		assert_non_null(big);
		memset(big, 'z', 7999);
		big[7999] = '\0';
		vl_buf_clear(&d);
		assert_int_equal(vl_qr_render(&d, big), VL_ETOOBIG);
		free(big);
	}
	vl_buf_free(&t);
	vl_buf_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_change_refused),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_field_rules),
		cmocka_unit_test(test_time_and_expiry),
		cmocka_unit_test(test_invite_key_and_proof),
		cmocka_unit_test(test_qr_drawing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
