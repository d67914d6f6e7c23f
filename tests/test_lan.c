/*
 * test_lan.c - LAN announcements (agent/net/lan.h): the datagram's bytes
 * against values computed by other tools (sha256sum, ssh-keygen's
 * fingerprint of test vector 1), the strict parser (every length, every bit
 * of the fixed header), and a real announcer heard over loopback by a real
 * listener, with a datagram of another network, garbage and a one-byte-long
 * datagram sent to it and ignored. The same between two network namespaces:
 * tests/sh/lan.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agent/net/lan.h"

/* docs/formats.md §7.1's sample network id, and its hash by
 * `printf 'vledger-lan-v1\0%s' ID | sha256sum`. */
#define NET_ID "db4f9b1ab7db3732666b0d7bc36e7695"
#define NET_HASH "9f6c6cf407b97bd32ef33e8c41c105accef77d4c35eac175b12d8f44fcf2a577"
/* Test vector 1 of docs/formats.md §5.7: seed 0..31, as ssh-keygen -l prints it. */
#define TV1_FP "SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg"

static void tv1_pk(unsigned char pk[32])
{
	unsigned char seed[32];
	vl_key k;
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (unsigned char)i;
	assert_int_equal(vl_crypto_init(), 0);
	assert_int_equal(vl_key_from_seed(&k, seed), 0);
	memcpy(pk, k.pk, 32);
	vl_key_wipe(&k);
}

static void hex(char *out, const unsigned char *b, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, b, n);
}

static void sample(vl_lan_announce *a)
{
	unsigned char pk[32];

	tv1_pk(pk);
	a->port = 7433;
	vl_lan_network_hash(a->net_hash, NET_ID);
	vl_lan_fp_digest(a->fp, pk);
}

static void test_bytes(void **state)
{
	unsigned char d[VL_LAN_DGRAM_LEN];
	char h[65], fp[VL_FP_LEN], fp2[VL_FP_LEN];
	vl_lan_announce a, b;
	vl_key k;

	(void)state;
	sample(&a);
	hex(h, a.net_hash, 32);
	assert_string_equal(h, NET_HASH);
	vl_lan_fp_text(fp, a.fp);
	assert_string_equal(fp, TV1_FP);
	/* and for any key, the text is vl_fingerprint's */
	assert_int_equal(vl_key_generate(&k), 0);
	vl_lan_fp_digest(b.fp, k.pk);
	vl_lan_fp_text(fp, b.fp);
	vl_fingerprint(fp2, k.pk);
	assert_string_equal(fp, fp2);
	vl_key_wipe(&k);

	vl_lan_encode(d, &a);
	assert_memory_equal(d, "VLAN\x01\x00\x1d\x09", 8); /* 7433 = 0x1d09 */
	assert_memory_equal(d + 8, a.net_hash, 32);
	assert_memory_equal(d + 40, a.fp, 32);
	memset(&b, 0, sizeof(b));
	assert_int_equal(vl_lan_parse(&b, d, sizeof(d)), 0);
	assert_int_equal(b.port, 7433);
	assert_memory_equal(b.net_hash, a.net_hash, 32);
	assert_memory_equal(b.fp, a.fp, 32);
	/* a different network id, a different hash */
	vl_lan_network_hash(b.net_hash, NET_ID "0");
	assert_memory_not_equal(b.net_hash, a.net_hash, 32);
}

static void test_parse_strict(void **state)
{
	unsigned char d[VL_LAN_DGRAM_LEN], big[VL_LAN_DGRAM_LEN * 3];
	vl_lan_announce a, b;
	size_t len, i;
	int bit;

	(void)state;
	sample(&a);
	vl_lan_encode(d, &a);
	memset(big, 0, sizeof(big));
	memcpy(big, d, sizeof(d));
	/* exactly 72 bytes: every other length of the same bytes is refused */
	for (len = 0; len <= sizeof(big); len++) {
		memset(&b, 0xee, sizeof(b));
		if (len == VL_LAN_DGRAM_LEN)
			continue;
		assert_int_equal(vl_lan_parse(&b, big, len), VL_EPROTO);
		assert_int_equal(b.port, 0xeeee); /* nothing set on failure */
	}
	/* every bit of magic, version and reserved */
	for (i = 0; i < 6; i++)
		for (bit = 0; bit < 8; bit++) {
			d[i] ^= (unsigned char)(1 << bit);
			assert_int_equal(vl_lan_parse(&b, d, sizeof(d)), VL_EPROTO);
			d[i] ^= (unsigned char)(1 << bit);
		}
	/* port 0 */
	d[6] = d[7] = 0;
	assert_int_equal(vl_lan_parse(&b, d, sizeof(d)), VL_EPROTO);
	d[7] = 1;
	assert_int_equal(vl_lan_parse(&b, d, sizeof(d)), 0);
	assert_int_equal(b.port, 1);
	d[6] = 0xff;
	d[7] = 0xff;
	assert_int_equal(vl_lan_parse(&b, d, sizeof(d)), 0);
	assert_int_equal(b.port, 65535);
}

/* A UDP port nobody uses now on this machine. */
static uint16_t free_udp_port(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(s >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
	close(s);
	return ntohs(a.sin_port);
}

typedef struct {
	vl_lan_peer peers[16];
	int n;
	int stop_after;             /* return 1 after this many (0: never) */
} heard;

static int on_found(void *ctx, const vl_lan_peer *p)
{
	heard *h = ctx;

	if (h->n < 16)
		h->peers[h->n] = *p;
	h->n++;
	return h->stop_after && h->n >= h->stop_after;
}

/* Sends the impostors to 127.0.0.1 while the listener listens. */
/* Threads other than cmocka's do not assert: they count failures. */
typedef struct {
	uint16_t udp_port;
	int rounds;
	int failed;
	unsigned char fp[32];
} impostor_args;

static int send_to(int s, uint16_t port, const void *d, size_t len)
{
	struct sockaddr_in to;

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sendto(s, d, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len ? 0 : 1;
}

static void *impostors(void *arg)
{
	impostor_args *ia = arg;
	unsigned char d[VL_LAN_DGRAM_LEN + 1], junk[40];
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	vl_lan_announce a;
	int s = socket(AF_INET, SOCK_DGRAM, 0), i;

	if (s < 0) {
		ia->failed++;
		return NULL;
	}
	for (i = 0; i < ia->rounds; i++) {
		nanosleep(&pause, NULL);
		/* another network: well formed, port 1001 */
		a.port = 1001;
		memcpy(a.fp, ia->fp, 32);
		vl_lan_network_hash(a.net_hash, "ffffffffffffffffffffffffffffffff");
		vl_lan_encode(d, &a);
		ia->failed += send_to(s, ia->udp_port, d, VL_LAN_DGRAM_LEN);
		/* our network, one byte too long: port 1002 */
		a.port = 1002;
		vl_lan_network_hash(a.net_hash, NET_ID);
		vl_lan_encode(d, &a);
		d[VL_LAN_DGRAM_LEN] = 0;
		ia->failed += send_to(s, ia->udp_port, d, VL_LAN_DGRAM_LEN + 1);
		/* our network, version 2: port 1003 */
		a.port = 1003;
		vl_lan_encode(d, &a);
		d[4] = 2;
		ia->failed += send_to(s, ia->udp_port, d, VL_LAN_DGRAM_LEN);
		/* the control: a well-formed one of our network, port 1004, must be
		 * heard (so the ones above did reach the listener) */
		a.port = 1004;
		vl_lan_encode(d, &a);
		ia->failed += send_to(s, ia->udp_port, d, VL_LAN_DGRAM_LEN);
		/* garbage */
		randombytes_buf(junk, sizeof(junk));
		ia->failed += send_to(s, ia->udp_port, junk, sizeof(junk));
		ia->failed += send_to(s, ia->udp_port, junk, 0);
	}
	close(s);
	return NULL;
}

static void test_loopback(void **state)
{
	unsigned char pk[32], fp[32];
	uint16_t port = free_udp_port();
	vl_lan_opts lo = VL_LAN_OPTS_INIT;
	vl_lan_announcer *a = NULL, *other = NULL;
	impostor_args ia = { port, 5, 0, { 0 } };
	pthread_t imp;
	heard h;
	char fpt[VL_FP_LEN];
	int i, loop = 0;

	(void)state;
	memset(&h, 0, sizeof(h));
	tv1_pk(pk);
	vl_lan_fp_digest(ia.fp, pk);
	lo.udp_port = port;
	lo.interval_ms = 100;
	/* a real announcer of our network, and one of another network */
	assert_int_equal(vl_lan_announcer_start(&a, NET_ID, pk, 40001, &lo), 0);
	assert_int_equal(vl_lan_announcer_start(&other, "0123456789abcdef0123456789abcdef", pk, 40002, &lo), 0);
	assert_int_equal(pthread_create(&imp, NULL, impostors, &ia), 0);
	assert_int_equal(vl_lan_discover(NET_ID, port, 1000, on_found, &h), 0);
	pthread_join(imp, NULL);
	assert_int_equal(ia.failed, 0);
	/* heard ~10 rounds and 5 controls, each reported once per address it
	 * came from (the announcer broadcasts on every interface, and this
	 * machine hears its own broadcasts: 127.0.0.1 and its LAN address);
	 * nothing else */
	assert_true(vl_lan_announcer_rounds(a) >= 5);
	vl_lan_fp_digest(fp, pk);
	vl_lan_fp_text(fpt, fp);
	assert_true(h.n <= 16);
	for (i = 0; i < h.n; i++) {
		assert_true(h.peers[i].port == 40001 || h.peers[i].port == 1004);
		assert_memory_equal(h.peers[i].fp, fp, 32);
		assert_string_equal(h.peers[i].fp_text, fpt);
		if (!strcmp(h.peers[i].addr, "127.0.0.1"))
			loop |= h.peers[i].port == 40001 ? 1 : 2;
		else
			assert_int_equal(h.peers[i].port, 40001); /* the control went to 127.0.0.1 only */
	}
	assert_int_equal(loop, 3);
	vl_lan_announcer_stop(other);
	vl_lan_announcer_stop(a);
}

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The callback can end the listening early; two listeners on one port both
 * hear (several nodes on one machine). */
static void test_stop_early_and_shared_port(void **state)
{
	unsigned char pk[32];
	uint16_t port = free_udp_port();
	vl_lan_opts lo = VL_LAN_OPTS_INIT;
	vl_lan_announcer *a = NULL;
	heard h;
	int64_t t0;

	(void)state;
	memset(&h, 0, sizeof(h));
	tv1_pk(pk);
	lo.udp_port = port;
	lo.interval_ms = 50;
	assert_int_equal(vl_lan_announcer_start(&a, NET_ID, pk, 40003, &lo), 0);
	h.stop_after = 1;
	t0 = mono_ms();
	assert_int_equal(vl_lan_discover(NET_ID, port, 20000, on_found, &h), 0);
	assert_true(mono_ms() - t0 < 5000);
	assert_int_equal(h.n, 1);
	vl_lan_announcer_stop(a);
	vl_lan_announcer_stop(NULL);
}

typedef struct {
	heard h;
	uint16_t port;
	int rc;
} listener_args;

static void *second_listener(void *arg)
{
	listener_args *la = arg;

	la->h.stop_after = 1;
	la->rc = vl_lan_discover(NET_ID, la->port, 3000, on_found, &la->h);
	return NULL;
}

static void test_two_listeners(void **state)
{
	unsigned char pk[32];
	uint16_t port = free_udp_port();
	vl_lan_opts lo = VL_LAN_OPTS_INIT;
	vl_lan_announcer *a = NULL;
	heard h1;
	listener_args la;
	pthread_t t;

	(void)state;
	memset(&h1, 0, sizeof(h1));
	memset(&la, 0, sizeof(la));
	tv1_pk(pk);
	la.port = port;
	assert_int_equal(pthread_create(&t, NULL, second_listener, &la), 0);
	lo.udp_port = port;
	lo.interval_ms = 50;
	assert_int_equal(vl_lan_announcer_start(&a, NET_ID, pk, 40004, &lo), 0);
	h1.stop_after = 1;
	assert_int_equal(vl_lan_discover(NET_ID, port, 3000, on_found, &h1), 0);
	pthread_join(t, NULL);
	assert_int_equal(h1.n, 1);
	assert_int_equal(la.rc, 0);
	assert_int_equal(la.h.n, 1);
	assert_int_equal(la.h.peers[0].port, 40004);
	vl_lan_announcer_stop(a);
}

/* Serving on one address: announced on that address's interface only; on an
 * IPv6 address: not at all (announcements are IPv4). */
static void test_listen_host(void **state)
{
	unsigned char pk[32];
	uint16_t port = free_udp_port();
	vl_lan_opts lo = VL_LAN_OPTS_INIT;
	vl_lan_announcer *a = NULL, *b = NULL;
	heard h;
	int i;

	(void)state;
	memset(&h, 0, sizeof(h));
	tv1_pk(pk);
	lo.udp_port = port;
	lo.interval_ms = 50;
	lo.listen_host = "127.0.0.1";
	assert_int_equal(vl_lan_announcer_start(&a, NET_ID, pk, 40005, &lo), 0);
	lo.listen_host = "[::1]";
	assert_int_equal(vl_lan_announcer_start(&b, NET_ID, pk, 40006, &lo), 0);
	assert_int_equal(vl_lan_discover(NET_ID, port, 700, on_found, &h), 0);
	assert_true(vl_lan_announcer_rounds(b) >= 3);
	assert_int_equal(h.n, 1);
	for (i = 0; i < h.n; i++) {
		assert_string_equal(h.peers[i].addr, "127.0.0.1");
		assert_int_equal(h.peers[i].port, 40005);
	}
	vl_lan_announcer_stop(b);
	vl_lan_announcer_stop(a);
}

static void test_bad_arguments(void **state)
{
	unsigned char pk[32];
	vl_lan_announcer *a = NULL;
	heard h;

	(void)state;
	tv1_pk(pk);
	assert_int_equal(vl_lan_announcer_start(&a, NET_ID, pk, 0, NULL), VL_EINVALID);
	assert_null(a);
	assert_int_equal(vl_lan_discover(NET_ID, 7433, 0, on_found, &h), VL_EINVALID);
	assert_int_equal(vl_lan_discover(NET_ID, 7433, VL_LAN_WAIT_MAX_MS + 1, on_found, &h), VL_EINVALID);
	/* VLEDGER_LAN_PORT moves the default, and only when it is a port */
	setenv("VLEDGER_LAN_PORT", "40123", 1);
	assert_int_equal(vl_lan_default_port(), 40123);
	setenv("VLEDGER_LAN_PORT", "0", 1);
	assert_int_equal(vl_lan_default_port(), VL_LAN_PORT);
	setenv("VLEDGER_LAN_PORT", "65536", 1);
	assert_int_equal(vl_lan_default_port(), VL_LAN_PORT);
	setenv("VLEDGER_LAN_PORT", "12a", 1);
	assert_int_equal(vl_lan_default_port(), VL_LAN_PORT);
	unsetenv("VLEDGER_LAN_PORT");
	assert_int_equal(vl_lan_default_port(), VL_LAN_PORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_parse_strict),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_stop_early_and_shared_port),
		cmocka_unit_test(test_two_listeners),
		cmocka_unit_test(test_listen_host),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
