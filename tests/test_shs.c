/*
 * test_shs.c - the secure channel (agent/net/chan.h): the secret handshake
 * (agent/net/shs.h) in both roles over real sockets, box-stream framing
 * (agent/net/boxstream.h) at its boundaries, and the attacks: every bit of
 * every handshake message flipped, a wrong network key (the server sends
 * no byte), a wrong server key, a peer that trickles or never sends, one
 * that floods, truncated and tampered boxes. The hostile peer is written
 * with the handshake's own pure functions and raw socket I/O, so it speaks
 * the real protocol up to the byte it breaks. Interop with the npm
 * reference: tests/interop/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/net/boxstream.h"
#include "agent/net/chan.h"
#include "agent/net/shs.h"
#include "agent/net/sock.h"
#include "testutil.h"

static unsigned char netkey[32], otherkey[32];
static vl_key alice, bob, carol; /* client, server, a stranger */

static int setup(void **state)
{
	unsigned char seed[32];
	int i;

	(void)state;
	assert_int_equal(vl_crypto_init(), 0);
	for (i = 0; i < 32; i++) {
		netkey[i] = (unsigned char)(0x10 + i);
		otherkey[i] = (unsigned char)(0x90 + i);
	}
	memset(seed, 1, 32);
	assert_int_equal(vl_key_from_seed(&alice, seed), 0);
	memset(seed, 2, 32);
	assert_int_equal(vl_key_from_seed(&bob, seed), 0);
	memset(seed, 3, 32);
	assert_int_equal(vl_key_from_seed(&carol, seed), 0);
	return 0;
}

static void pair(int sv[2])
{
	int i;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(fcntl(sv[i], F_SETFL, fcntl(sv[i], F_GETFL) | O_NONBLOCK), 0);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- a server in a thread ------------------------------------------------ */

struct srv {
	pthread_t th;
	int fd, timeout_ms, rc;
	const unsigned char *K;
	const vl_key *key;
	vl_chan *chan;
};

static void *srv_main(void *arg)
{
	struct srv *s = arg;

	s->rc = vl_shs_server(&s->chan, s->fd, s->K, s->key, s->timeout_ms);
	return NULL;
}

static void srv_start(struct srv *s, int fd, const unsigned char *K, const vl_key *key)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->K = K;
	s->key = key;
	s->timeout_ms = 5000;
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_join(struct srv *s)
{
	assert_int_equal(pthread_join(s->th, NULL), 0);
}

/* A connected client/server channel pair over a socketpair. */
static void connect_pair(vl_chan **cl, vl_chan **sv)
{
	struct srv s;
	int fds[2];

	pair(fds);
	srv_start(&s, fds[1], netkey, &bob);
	assert_int_equal(vl_shs_client(cl, fds[0], netkey, &alice, bob.pk, 5000), 0);
	srv_join(&s);
	assert_int_equal(s.rc, 0);
	*sv = s.chan;
}

static void test_handshake_both_roles(void **state)
{
	vl_chan *cl = NULL, *sv = NULL;
	unsigned char b[8];
	struct srv s;
	int fds[2];
	int64_t t0;

	(void)state;
	/* blocking descriptors (as a caller's own accept gives): the channel
	 * makes them non-blocking, so its deadlines hold */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	srv_start(&s, fds[1], netkey, &bob);
	assert_int_equal(vl_shs_client(&cl, fds[0], netkey, &alice, bob.pk, 5000), 0);
	srv_join(&s);
	assert_int_equal(s.rc, 0);
	vl_chan_set_idle_timeout(s.chan, 100);
	t0 = vl_sock_now_ms();
	assert_int_equal(vl_chan_read(s.chan, b, 1, &(size_t){ 0 }), VL_ERROR);
	assert_true(vl_sock_now_ms() - t0 < 2000);
	vl_chan_free(cl);
	vl_chan_free(s.chan);

	/* a watchdog's shutdown(2) on the fd ends a blocked read at once */
	connect_pair(&cl, &sv);
	vl_chan_set_idle_timeout(sv, 60000);
	assert_int_equal(shutdown(vl_chan_fd(sv), SHUT_RDWR), 0);
	t0 = vl_sock_now_ms();
	assert_int_equal(vl_chan_read(sv, b, 1, &(size_t){ 0 }), VL_EPROTO);
	assert_true(vl_sock_now_ms() - t0 < 2000);
	vl_chan_free(cl);
	vl_chan_free(sv);

	connect_pair(&cl, &sv);
	/* each end learned the other's key */
	assert_memory_equal(vl_chan_peer_key(cl), bob.pk, 32);
	assert_memory_equal(vl_chan_peer_key(sv), alice.pk, 32);
	/* the handshake's wire bytes: 64 + 112 one way, 64 + 80 the other */
	assert_int_equal(vl_chan_bytes_out(cl), 176);
	assert_int_equal(vl_chan_bytes_in(sv), 176);
	assert_int_equal(vl_chan_bytes_out(sv), 144);
	assert_int_equal(vl_chan_bytes_in(cl), 144);
	/* and the two directions decrypt: a short exchange each way */
	assert_int_equal(vl_chan_write(cl, "ping", 4), 0);
	assert_int_equal(vl_chan_flush(cl), 0);
	assert_int_equal(vl_chan_read_exact(sv, b, 4), 0);
	assert_memory_equal(b, "ping", 4);
	assert_int_equal(vl_chan_write(sv, "pong", 4), 0);
	assert_int_equal(vl_chan_flush(sv), 0);
	assert_int_equal(vl_chan_read_exact(cl, b, 4), 0);
	assert_memory_equal(b, "pong", 4);
	vl_chan_free(cl);
	vl_chan_free(sv);
}

/* ---- the reference's known answer (tests/golden/shs-kat.txt) --------------- */

/* The hex value of line `name` of the KAT file, into out (at most cap). */
static size_t kat_get(const char *kat, const char *name, unsigned char *out, size_t cap)
{
	size_t nl = strlen(name), len = 0;
	const char *p = kat, *e;

	for (;;) {
		if (!strncmp(p, name, nl) && p[nl] == ' ')
			break;
		p = strchr(p, '\n');
		if (!p)
			fail_msg("shs-kat.txt has no '%s'", name);
		p++;
	}
	p += nl + 1;
	e = strchr(p, '\n');
	assert_int_equal(sodium_hex2bin(out, cap, p, e ? (size_t)(e - p) : strlen(p), NULL, &len, NULL), 0);
	return len;
}

static void test_reference_kat(void **state)
{
	char *kat = vt_read(VL_SOURCE_DIR "/tests/golden/shs-kat.txt", NULL);
	unsigned char K[32], seed[32], ce[32], se[32], want[16384], got[16384], text[5000];
	unsigned char m1[64], m2[64], m3[112], m4[80];
	vl_key a, b;
	vl_shs c, s;
	vl_box cenc, cdec, senc, sdec;
	size_t i, n, off;

	(void)state;
	for (i = 0; i < 32; i++)
		K[i] = (unsigned char)i;
	memset(seed, 1, 32);
	assert_int_equal(vl_key_from_seed(&a, seed), 0);
	memset(seed, 2, 32);
	assert_int_equal(vl_key_from_seed(&b, seed), 0);
	memset(ce, 0x11, 32);
	memset(se, 0x22, 32);
	vl_shs_init(&c, K, &a, b.pk, ce);
	vl_shs_init(&s, K, &b, NULL, se);
	vl_shs_hello(&c, m1);
	assert_int_equal(vl_shs_check_hello(&s, m1), 0);
	vl_shs_hello(&s, m2);
	assert_int_equal(vl_shs_check_hello(&c, m2), 0);
	assert_int_equal(vl_shs_client_auth(&c, m3), 0);
	assert_int_equal(vl_shs_server_check_auth(&s, m3), 0);
	vl_shs_server_accept(&s, m4);
	assert_int_equal(vl_shs_client_check_accept(&c, m4), 0);
	/* byte for byte what npm secret-handshake sends */
	assert_int_equal(kat_get(kat, "msg1", want, sizeof(want)), 64);
	assert_memory_equal(m1, want, 64);
	assert_int_equal(kat_get(kat, "msg2", want, sizeof(want)), 64);
	assert_memory_equal(m2, want, 64);
	assert_int_equal(kat_get(kat, "msg3", want, sizeof(want)), 112);
	assert_memory_equal(m3, want, 112);
	assert_int_equal(kat_get(kat, "msg4", want, sizeof(want)), 80);
	assert_memory_equal(m4, want, 80);
	vl_shs_keys(&c, &cenc, &cdec);
	vl_shs_keys(&s, &senc, &sdec);
	kat_get(kat, "client_enc_key", want, sizeof(want));
	assert_memory_equal(cenc.key, want, 32);
	kat_get(kat, "client_enc_nonce", want, sizeof(want));
	assert_memory_equal(cenc.nonce, want, 24);
	kat_get(kat, "client_dec_key", want, sizeof(want));
	assert_memory_equal(cdec.key, want, 32);
	kat_get(kat, "client_dec_nonce", want, sizeof(want));
	assert_memory_equal(cdec.nonce, want, 24);
	kat_get(kat, "server_enc_key", want, sizeof(want));
	assert_memory_equal(senc.key, want, 32);
	kat_get(kat, "server_enc_nonce", want, sizeof(want));
	assert_memory_equal(senc.nonce, want, 24);
	/* and the same boxes for a 5000-byte text: 4096 + 904 and the goodbye */
	for (i = 0; i < sizeof(text); i++)
		text[i] = (unsigned char)((i * 31 + 7) & 0xff);
	off = 0;
	vl_box_seal(&cenc, got, text, 4096);
	off += VL_BOX_HEADER + 4096;
	vl_box_seal(&cenc, got + off, text + 4096, 904);
	off += VL_BOX_HEADER + 904;
	vl_box_goodbye(&cenc, got + off);
	off += VL_BOX_HEADER;
	n = kat_get(kat, "box_stream", want, sizeof(want));
	assert_int_equal(n, off);
	assert_memory_equal(got, want, n);
	/* the server reads them back */
	{
		unsigned char tag[16], body[4096];
		size_t len = 0;
		assert_int_equal(vl_box_open_header(&sdec, &len, tag, want), 0);
		assert_int_equal(len, 4096);
		assert_int_equal(vl_box_open_body(&sdec, body, want + VL_BOX_HEADER, len, tag), 0);
		assert_memory_equal(body, text, 4096);
	}
	vl_shs_wipe(&c);
	vl_shs_wipe(&s);
	vl_key_wipe(&a);
	vl_key_wipe(&b);
	free(kat);
}

/* ---- box-stream round trips ----------------------------------------------- */

struct writer {
	pthread_t th;
	vl_chan *c;
	const unsigned char *data;
	size_t len, step;
	int rc;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	size_t off = 0, n;

	w->rc = 0;
	while (off < w->len && w->rc == 0) {
		n = w->len - off < w->step ? w->len - off : w->step;
		w->rc = vl_chan_write(w->c, w->data + off, n);
		off += n;
	}
	if (w->rc == 0)
		w->rc = vl_chan_goodbye(w->c);
	return NULL;
}

/* Send len bytes from `from` in writes of `step`, read them all at `to`
 * until the goodbye; they must arrive whole and in order. */
static void roundtrip(vl_chan *from, vl_chan *to, size_t len, size_t step)
{
	unsigned char *data = malloc(len ? len : 1), *got = malloc(len + 1);
	struct writer w;
	size_t have = 0, n = 0;
	uint64_t in0 = vl_chan_bytes_in(to), boxes;

	assert_non_null(data);
	assert_non_null(got);
	randombytes_buf(data, len);
	memset(&w, 0, sizeof(w));
	w.c = from;
	w.data = data;
	w.len = len;
	w.step = step;
	assert_int_equal(pthread_create(&w.th, NULL, writer_main, &w), 0);
	for (;;) {
		assert_int_equal(vl_chan_read(to, got + have, len + 1 - have, &n), 0);
		if (n == 0)
			break;
		have += n;
		assert_true(have <= len);
	}
	assert_int_equal(pthread_join(w.th, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_int_equal(have, len);
	assert_memory_equal(got, data, len);
	/* with writes of whole boxes, the wire holds exactly ceil(len/4096)
	 * boxes and the goodbye */
	if (step % VL_BOX_MAX_BODY == 0 || step >= len) {
		boxes = (len + VL_BOX_MAX_BODY - 1) / VL_BOX_MAX_BODY;
		assert_int_equal(vl_chan_bytes_in(to) - in0, len + (boxes + 1) * VL_BOX_HEADER);
	}
	/* and every later read says goodbye again */
	assert_int_equal(vl_chan_read(to, got, 1, &n), 0);
	assert_int_equal(n, 0);
	free(data);
	free(got);
}

static void test_boxstream_boundaries(void **state)
{
	static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 8192, 1 << 20 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		vl_chan *cl = NULL, *sv = NULL;
		connect_pair(&cl, &sv);
		roundtrip(cl, sv, sizes[i], sizes[i] ? sizes[i] : 1);
		roundtrip(sv, cl, sizes[i], sizes[i] ? sizes[i] : 1);
		vl_chan_free(cl);
		vl_chan_free(sv);
	}
	/* small writes coalesce into boxes; odd write sizes cross box edges */
	{
		vl_chan *cl = NULL, *sv = NULL;
		connect_pair(&cl, &sv);
		roundtrip(cl, sv, 100000, 7);
		roundtrip(sv, cl, 100000, 5000);
		vl_chan_free(cl);
		vl_chan_free(sv);
	}
}

static void test_read_exact_early_goodbye(void **state)
{
	vl_chan *cl = NULL, *sv = NULL;
	unsigned char b[10];

	(void)state;
	connect_pair(&cl, &sv);
	assert_int_equal(vl_chan_write(cl, "abc", 3), 0);
	assert_int_equal(vl_chan_goodbye(cl), 0);
	assert_int_equal(vl_chan_read_exact(sv, b, 10), VL_EPROTO);
	assert_int_equal(vl_chan_write(cl, "x", 1), VL_EINVALID); /* no write after goodbye */
	vl_chan_free(cl);
	vl_chan_free(sv);
}

/* ---- every bit of every handshake message ---------------------------------- */

/* Run the four messages with the pure functions; flip bit `bit` of message
 * `which` (1..4) on the way; return the receiving check's result. */
static int run_flipped(int which, size_t bit)
{
	vl_shs c, s;
	unsigned char m1[64], m2[64], m3[112], m4[80];
	int rc;

	vl_shs_init(&c, netkey, &alice, bob.pk, NULL);
	vl_shs_init(&s, netkey, &bob, NULL, NULL);
	vl_shs_hello(&c, m1);
	if (which == 1)
		m1[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	if ((rc = vl_shs_check_hello(&s, m1)) < 0)
		goto out;
	vl_shs_hello(&s, m2);
	if (which == 2)
		m2[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	if ((rc = vl_shs_check_hello(&c, m2)) < 0 || (rc = vl_shs_client_auth(&c, m3)) < 0)
		goto out;
	if (which == 3)
		m3[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	if ((rc = vl_shs_server_check_auth(&s, m3)) < 0)
		goto out;
	vl_shs_server_accept(&s, m4);
	if (which == 4)
		m4[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	rc = vl_shs_client_check_accept(&c, m4);
out:
	vl_shs_wipe(&c);
	vl_shs_wipe(&s);
	return rc;
}

static void test_every_bit_flipped(void **state)
{
	static const size_t len[5] = { 0, 64, 64, 112, 80 };
	size_t bit;
	int m, rc;

	(void)state;
	assert_int_equal(run_flipped(0, 0), 0); /* unflipped: the handshake completes */
	for (m = 1; m <= 4; m++) {
		for (bit = 0; bit < len[m] * 8; bit++) {
			rc = run_flipped(m, bit);
			if (rc != VL_EDENIED && rc != VL_EPROTO)
				fail_msg("message %d bit %zu: %d", m, bit, rc);
		}
	}
}

/* ---- forged signatures inside correct boxes ------------------------------ */

static const unsigned char zero24[24];

/* A client and a server state through msg2 (hellos exchanged). */
static void states_after_hello(vl_shs *c, vl_shs *s)
{
	unsigned char m1[64], m2[64];

	vl_shs_init(c, netkey, &alice, bob.pk, NULL);
	vl_shs_init(s, netkey, &bob, NULL, NULL);
	vl_shs_hello(c, m1);
	assert_int_equal(vl_shs_check_hello(s, m1), 0);
	vl_shs_hello(s, m2);
	assert_int_equal(vl_shs_check_hello(c, m2), 0);
}

/* Re-box H (c->hello) as msg3 with the right key: only the signature or
 * the key inside can be wrong. */
static void rebox_msg3(const vl_shs *c, unsigned char m3[112])
{
	unsigned char key[32];
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, c->K, 32);
	crypto_hash_sha256_update(&st, c->ab, 32);
	crypto_hash_sha256_update(&st, c->aB, 32);
	crypto_hash_sha256_final(&st, key);
	crypto_secretbox_easy(m3, c->hello, 96, zero24, key);
}

static void test_forged_signatures(void **state)
{
	vl_shs c, s;
	unsigned char m3[112], m4[80], key[32], sig[64], msg[160];
	crypto_hash_sha256_state st;
	int which;

	(void)state;
	/* msg3: the control (re-boxed as made), a flipped signature bit, and
	 * alice's signature claiming carol's key */
	for (which = 0; which < 3; which++) {
		states_after_hello(&c, &s);
		assert_int_equal(vl_shs_client_auth(&c, m3), 0);
		if (which == 1)
			c.hello[10] ^= 1;
		if (which == 2)
			memcpy(c.hello + 64, carol.pk, 32);
		rebox_msg3(&c, m3);
		assert_int_equal(vl_shs_server_check_auth(&s, m3), which == 0 ? 0 : VL_EDENIED);
		vl_shs_wipe(&c);
		vl_shs_wipe(&s);
	}
	/* msg4: the control, a signature by carol (not the expected bob), and
	 * bob's signature over another transcript */
	for (which = 0; which < 3; which++) {
		states_after_hello(&c, &s);
		assert_int_equal(vl_shs_client_auth(&c, m3), 0);
		assert_int_equal(vl_shs_server_check_auth(&s, m3), 0);
		memcpy(msg, s.K, 32);
		memcpy(msg + 32, s.hello, 96);
		memcpy(msg + 128, s.ab_hash, 32);
		if (which == 2)
			msg[100] ^= 1;
		crypto_sign_detached(sig, NULL, msg, sizeof(msg), which == 1 ? carol.sk : bob.sk);
		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st, s.K, 32);
		crypto_hash_sha256_update(&st, s.ab, 32);
		crypto_hash_sha256_update(&st, s.aB, 32);
		crypto_hash_sha256_update(&st, s.Ab, 32);
		crypto_hash_sha256_final(&st, key);
		crypto_secretbox_easy(m4, sig, 64, zero24, key);
		assert_int_equal(vl_shs_client_check_accept(&c, m4), which == 0 ? 0 : VL_EDENIED);
		vl_shs_wipe(&c);
		vl_shs_wipe(&s);
	}
}

static void test_weak_ephemeral_key(void **state)
{
	vl_shs s;
	unsigned char m1[64];

	(void)state;
	/* a low-order point (zero) with a valid HMAC: refused as weak */
	memset(m1 + 32, 0, 32);
	crypto_auth(m1, m1 + 32, 32, netkey);
	vl_shs_init(&s, netkey, &bob, NULL, NULL);
	assert_int_equal(vl_shs_check_hello(&s, m1), VL_EPROTO);
	vl_shs_wipe(&s);
}

/* A raw client (this thread) against a real server: the server must
 * close without sending a byte when msg1 is not for its network. */
static void raw_msg1_expect_silence(const unsigned char m1[64])
{
	struct srv s;
	int fds[2];
	unsigned char b[64];
	ssize_t n;
	struct pollfd p;

	pair(fds);
	srv_start(&s, fds[1], netkey, &bob);
	assert_int_equal(vl_sock_write_full(fds[0], m1, 64, 2000), 0);
	srv_join(&s);
	assert_int_equal(s.rc, VL_EDENIED);
	assert_null(s.chan);
	p.fd = fds[0];
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recv(fds[0], b, sizeof(b), 0);
	assert_int_equal(n, 0); /* EOF, no byte */
	close(fds[0]);
}

static void test_flipped_msg1_gets_no_byte(void **state)
{
	vl_shs c;
	unsigned char m1[64];
	size_t bit;

	(void)state;
	vl_shs_init(&c, netkey, &alice, bob.pk, NULL);
	vl_shs_hello(&c, m1);
	vl_shs_wipe(&c);
	for (bit = 0; bit < 512; bit += 7) {
		m1[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		raw_msg1_expect_silence(m1);
		m1[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
}

static void test_wrong_network_key(void **state)
{
	struct srv s;
	int fds[2];
	vl_chan *cl = NULL;
	vl_shs c;
	unsigned char m1[64];

	(void)state;
	/* a raw client: nothing comes back */
	vl_shs_init(&c, otherkey, &alice, bob.pk, NULL);
	vl_shs_hello(&c, m1);
	vl_shs_wipe(&c);
	raw_msg1_expect_silence(m1);
	/* the real client sees a refusal */
	pair(fds);
	srv_start(&s, fds[1], netkey, &bob);
	assert_int_equal(vl_shs_client(&cl, fds[0], otherkey, &alice, bob.pk, 5000), VL_EDENIED);
	assert_null(cl);
	srv_join(&s);
	assert_int_equal(s.rc, VL_EDENIED);
	assert_null(s.chan);
}

static void test_wrong_server_key(void **state)
{
	struct srv s;
	int fds[2];
	vl_chan *cl = NULL;

	(void)state;
	/* the client expects carol; bob answers: bob cannot open msg3 */
	pair(fds);
	srv_start(&s, fds[1], netkey, &bob);
	assert_int_equal(vl_shs_client(&cl, fds[0], netkey, &alice, carol.pk, 5000), VL_EDENIED);
	assert_null(cl);
	srv_join(&s);
	assert_int_equal(s.rc, VL_EDENIED);
	assert_null(s.chan);
}

/* ---- a man in the middle flipping one bit on the wire ---------------------- */

/* Relays a<->b (client side a, server side b), flipping bit `bit` of the
 * client->server stream (dir 0) or the server->client one (dir 1). */
struct mitm {
	pthread_t th;
	int a, b, dir;
	size_t bit;
};

static void *mitm_main(void *arg)
{
	struct mitm *m = arg;
	struct pollfd p[2];
	unsigned char buf[512];
	size_t seen[2] = { 0, 0 };
	ssize_t n;
	int i, src, dst, open_ = 2;

	while (open_ == 2) {
		p[0].fd = m->a;
		p[1].fd = m->b;
		p[0].events = p[1].events = POLLIN;
		if (poll(p, 2, 3000) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			src = i ? m->b : m->a;
			dst = i ? m->a : m->b;
			n = recv(src, buf, sizeof(buf), 0);
			if (n <= 0) {
				open_--;
				break;
			}
			if (i == m->dir && m->bit / 8 >= seen[i] && m->bit / 8 < seen[i] + (size_t)n)
				buf[m->bit / 8 - seen[i]] ^= (unsigned char)(1u << (m->bit % 8));
			seen[i] += (size_t)n;
			if (vl_sock_write_full(dst, buf, (size_t)n, 2000) < 0) {
				open_--;
				break;
			}
		}
	}
	close(m->a);
	close(m->b);
	return NULL;
}

static void test_mitm_every_message(void **state)
{
	size_t bit;
	int dir;

	(void)state;
	/* the control: the relay flipping nothing (a bit past the handshake,
	 * no data follows) lets the handshake through */
	{
		int c1[2], c2[2];
		struct mitm m;
		struct srv s;
		vl_chan *cl = NULL;

		pair(c1);
		pair(c2);
		m.a = c1[1];
		m.b = c2[0];
		m.dir = 0;
		m.bit = 100000;
		assert_int_equal(pthread_create(&m.th, NULL, mitm_main, &m), 0);
		srv_start(&s, c2[1], netkey, &bob);
		assert_int_equal(vl_shs_client(&cl, c1[0], netkey, &alice, bob.pk, 3000), 0);
		srv_join(&s);
		assert_int_equal(s.rc, 0);
		vl_chan_free(cl);
		vl_chan_free(s.chan);
		assert_int_equal(pthread_join(m.th, NULL), 0);
	}
	/* client->server: msg1 (bytes 0..63) and msg3 (64..175);
	 * server->client: msg2 (0..63) and msg4 (64..143) */
	for (dir = 0; dir < 2; dir++) {
		size_t bits = dir == 0 ? 176 * 8 : 144 * 8;
		for (bit = 0; bit < bits; bit += 11) {
			int c1[2], c2[2];
			struct mitm m;
			struct srv s;
			vl_chan *cl = NULL;
			int rc;

			pair(c1);
			pair(c2);
			m.a = c1[1];
			m.b = c2[0];
			m.dir = dir;
			m.bit = bit;
			assert_int_equal(pthread_create(&m.th, NULL, mitm_main, &m), 0);
			srv_start(&s, c2[1], netkey, &bob);
			s.timeout_ms = 3000;
			rc = vl_shs_client(&cl, c1[0], netkey, &alice, bob.pk, 3000);
			/* the client never completes with a flipped byte anywhere */
			if (rc != VL_EDENIED && rc != VL_EPROTO)
				fail_msg("dir %d bit %zu: client %d", dir, bit, rc);
			assert_null(cl);
			srv_join(&s);
			if (dir == 1 && bit >= 64 * 8) {
				/* msg4 is the server's last word: it finished; its first
				 * read then finds the client gone */
				size_t got;
				unsigned char x;
				assert_int_equal(s.rc, 0);
				assert_int_equal(vl_chan_read(s.chan, &x, 1, &got), VL_EPROTO);
				vl_chan_free(s.chan);
			} else {
				if (s.rc != VL_EDENIED && s.rc != VL_EPROTO)
					fail_msg("dir %d bit %zu: server %d", dir, bit, s.rc);
				assert_null(s.chan);
			}
			assert_int_equal(pthread_join(m.th, NULL), 0);
		}
	}
}

/* ---- a hostile peer that speaks the real protocol --------------------- */

/* Handshake as client from raw functions on fd; enc/dec: its box states. */
static void evil_client(int fd, vl_box *enc, vl_box *dec)
{
	vl_shs c;
	unsigned char m1[64], m2[64], m3[112], m4[80];

	vl_shs_init(&c, netkey, &alice, bob.pk, NULL);
	vl_shs_hello(&c, m1);
	assert_int_equal(vl_sock_write_full(fd, m1, 64, 2000), 0);
	assert_int_equal(vl_sock_read_full(fd, m2, 64, 2000, NULL), 0);
	assert_int_equal(vl_shs_check_hello(&c, m2), 0);
	assert_int_equal(vl_shs_client_auth(&c, m3), 0);
	assert_int_equal(vl_sock_write_full(fd, m3, 112, 2000), 0);
	assert_int_equal(vl_sock_read_full(fd, m4, 80, 2000, NULL), 0);
	assert_int_equal(vl_shs_client_check_accept(&c, m4), 0);
	vl_shs_keys(&c, enc, dec);
	vl_shs_wipe(&c);
}

/* A server channel (thread) and an evil client on this thread. */
static vl_chan *evil_pair(int *evil_fd, vl_box *enc, vl_box *dec)
{
	struct srv s;
	int fds[2];

	pair(fds);
	srv_start(&s, fds[1], netkey, &bob);
	evil_client(fds[0], enc, dec);
	srv_join(&s);
	assert_int_equal(s.rc, 0);
	*evil_fd = fds[0];
	return s.chan;
}

static void test_evil_client_is_real(void **state)
{
	vl_box enc, dec;
	int fd;
	vl_chan *sv = evil_pair(&fd, &enc, &dec);
	unsigned char wire[VL_BOX_HEADER + 5], b[5];

	(void)state;
	/* the control for the tampering tests: untampered, it is read */
	vl_box_seal(&enc, wire, "hello", 5);
	assert_int_equal(vl_sock_write_full(fd, wire, sizeof(wire), 1000), 0);
	assert_int_equal(vl_chan_read_exact(sv, b, 5), 0);
	assert_memory_equal(b, "hello", 5);
	vl_chan_free(sv);
	close(fd);
}

static void test_tampered_and_truncated_boxes(void **state)
{
	unsigned char wire[VL_BOX_HEADER + 100], data[100], b[100];
	size_t pos;
	size_t got;

	(void)state;
	memset(data, 'x', sizeof(data));
	/* a flipped bit anywhere in a box (header or body) */
	for (pos = 0; pos < sizeof(wire); pos += 13) {
		vl_box enc, dec;
		int fd;
		vl_chan *sv = evil_pair(&fd, &enc, &dec);
		vl_box_seal(&enc, wire, data, sizeof(data));
		wire[pos] ^= 0x20;
		assert_int_equal(vl_sock_write_full(fd, wire, sizeof(wire), 1000), 0);
		assert_int_equal(vl_chan_read(sv, b, sizeof(b), &got), VL_EPROTO);
		/* the channel stays dead */
		assert_int_equal(vl_chan_read(sv, b, sizeof(b), &got), VL_EPROTO);
		vl_chan_free(sv);
		close(fd);
	}
	/* truncated: the header and half the body, then a close */
	{
		vl_box enc, dec;
		int fd;
		vl_chan *sv = evil_pair(&fd, &enc, &dec);
		vl_box_seal(&enc, wire, data, sizeof(data));
		assert_int_equal(vl_sock_write_full(fd, wire, VL_BOX_HEADER + 50, 1000), 0);
		close(fd);
		assert_int_equal(vl_chan_read(sv, b, sizeof(b), &got), VL_EPROTO);
		vl_chan_free(sv);
	}
	/* a close without goodbye after whole boxes: data, then an error */
	{
		vl_box enc, dec;
		int fd;
		vl_chan *sv = evil_pair(&fd, &enc, &dec);
		vl_box_seal(&enc, wire, data, sizeof(data));
		assert_int_equal(vl_sock_write_full(fd, wire, sizeof(wire), 1000), 0);
		close(fd);
		assert_int_equal(vl_chan_read_exact(sv, b, sizeof(b)), 0);
		assert_int_equal(vl_chan_read(sv, b, sizeof(b), &got), VL_EPROTO);
		vl_chan_free(sv);
	}
	/* boxes replayed or reordered: the nonce sequence refuses them */
	{
		vl_box enc, dec;
		int fd;
		unsigned char w2[VL_BOX_HEADER + 100];
		vl_chan *sv = evil_pair(&fd, &enc, &dec);
		vl_box_seal(&enc, wire, data, sizeof(data));
		vl_box_seal(&enc, w2, data, sizeof(data));
		assert_int_equal(vl_sock_write_full(fd, w2, sizeof(w2), 1000), 0);
		assert_int_equal(vl_chan_read(sv, b, sizeof(b), &got), VL_EPROTO);
		vl_chan_free(sv);
		close(fd);
	}
}

static void test_header_length_caps(void **state)
{
	/* a header naming 0 or 4097 body bytes, sealed with the right key */
	static const unsigned lens[] = { 0, 4097, 65535 };
	size_t i, got;
	unsigned char b[16];

	(void)state;
	for (i = 0; i < 3; i++) {
		vl_box enc, dec;
		int fd;
		unsigned char head[18], wire[VL_BOX_HEADER];
		vl_chan *sv = evil_pair(&fd, &enc, &dec);
		memset(head, 0x55, sizeof(head)); /* not the goodbye */
		head[0] = (unsigned char)(lens[i] >> 8);
		head[1] = (unsigned char)(lens[i] & 0xff);
		crypto_secretbox_easy(wire, head, sizeof(head), enc.nonce, enc.key);
		assert_int_equal(vl_sock_write_full(fd, wire, sizeof(wire), 1000), 0);
		assert_int_equal(vl_chan_read(sv, b, sizeof(b), &got), VL_EPROTO);
		vl_chan_free(sv);
		close(fd);
	}
}

/* ---- timeouts and caps ------------------------------------------------------ */

struct trickle {
	pthread_t th;
	int fd, delay_ms;
	const unsigned char *data;
	size_t len;
};

static void *trickle_main(void *arg)
{
	struct trickle *t = arg;
	size_t i;

	for (i = 0; i < t->len; i++) {
		if (send(t->fd, t->data + i, 1, MSG_NOSIGNAL) != 1)
			break;
		sleep_ms(t->delay_ms);
	}
	return NULL;
}

static void test_trickle_and_silence(void **state)
{
	vl_box enc, dec;
	int fd, fds[2];
	unsigned char wire[VL_BOX_HEADER + 1], b[4];
	size_t got;
	int64_t t0;
	struct trickle t;
	struct srv s;
	vl_chan *sv;

	(void)state;
	/* silence after the handshake: the read gives up after the idle timeout */
	sv = evil_pair(&fd, &enc, &dec);
	vl_chan_set_idle_timeout(sv, 200);
	t0 = vl_sock_now_ms();
	assert_int_equal(vl_chan_read(sv, b, sizeof(b), &got), VL_ERROR);
	assert_non_null(strstr(vl_error_last(), "timed out"));
	assert_true(vl_sock_now_ms() - t0 < 2000);
	vl_chan_free(sv);
	close(fd);

	/* a box trickled a byte every 20 ms (35 bytes = 700 ms) against 300 ms:
	 * every byte resets no clock, the box as a whole is late */
	sv = evil_pair(&fd, &enc, &dec);
	vl_chan_set_idle_timeout(sv, 300);
	vl_box_seal(&enc, wire, "z", 1);
	t.fd = fd;
	t.delay_ms = 20;
	t.data = wire;
	t.len = sizeof(wire);
	assert_int_equal(pthread_create(&t.th, NULL, trickle_main, &t), 0);
	t0 = vl_sock_now_ms();
	assert_int_equal(vl_chan_read(sv, b, sizeof(b), &got), VL_ERROR);
	assert_true(vl_sock_now_ms() - t0 < 650);
	assert_int_equal(pthread_join(t.th, NULL), 0);
	vl_chan_free(sv);
	close(fd);

	/* the control: the same trickle with room enough is read */
	sv = evil_pair(&fd, &enc, &dec);
	vl_chan_set_idle_timeout(sv, 5000);
	vl_box_seal(&enc, wire, "z", 1);
	t.fd = fd;
	t.delay_ms = 2;
	assert_int_equal(pthread_create(&t.th, NULL, trickle_main, &t), 0);
	assert_int_equal(vl_chan_read(sv, b, sizeof(b), &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(pthread_join(t.th, NULL), 0);
	vl_chan_free(sv);
	close(fd);

	/* a handshake trickled: the server's whole-handshake deadline */
	{
		vl_shs c;
		unsigned char m1[64];
		vl_shs_init(&c, netkey, &alice, bob.pk, NULL);
		vl_shs_hello(&c, m1);
		vl_shs_wipe(&c);
		pair(fds);
		memset(&s, 0, sizeof(s));
		s.fd = fds[1];
		s.K = netkey;
		s.key = &bob;
		s.timeout_ms = 300;
		assert_int_equal(pthread_create(&s.th, NULL, srv_main, &s), 0);
		t.fd = fds[0];
		t.delay_ms = 20; /* 64 bytes = 1.3 s */
		t.data = m1;
		t.len = sizeof(m1);
		assert_int_equal(pthread_create(&t.th, NULL, trickle_main, &t), 0);
		srv_join(&s);
		assert_int_equal(s.rc, VL_ERROR);
		assert_null(s.chan);
		assert_int_equal(pthread_join(t.th, NULL), 0);
		close(fds[0]);
	}
	/* a client whose server never answers */
	{
		vl_chan *cl = NULL;
		pair(fds);
		t0 = vl_sock_now_ms();
		assert_int_equal(vl_shs_client(&cl, fds[0], netkey, &alice, bob.pk, 200), VL_ERROR);
		assert_true(vl_sock_now_ms() - t0 < 2000);
		close(fds[1]);
	}
}

struct flood {
	pthread_t th;
	int fd;
	vl_box *enc;
	size_t boxes;
};

static void *flood_main(void *arg)
{
	struct flood *f = arg;
	static unsigned char body[VL_BOX_MAX_BODY];
	unsigned char *wire = malloc(VL_BOX_HEADER + VL_BOX_MAX_BODY);
	size_t i;

	for (i = 0; wire && i < f->boxes; i++) {
		vl_box_seal(f->enc, wire, body, sizeof(body));
		if (vl_sock_write_full(f->fd, wire, VL_BOX_HEADER + VL_BOX_MAX_BODY, 2000) < 0)
			break;
	}
	free(wire);
	shutdown(f->fd, SHUT_WR);
	return NULL;
}

static void test_flood_hits_byte_cap(void **state)
{
	vl_box enc, dec;
	int fd, rc;
	struct flood f;
	unsigned char b[VL_BOX_MAX_BODY];
	size_t got, total = 0;
	vl_chan *sv;

	(void)state;
	sv = evil_pair(&fd, &enc, &dec);
	vl_chan_set_byte_cap(sv, 100000);
	f.fd = fd;
	f.enc = &enc;
	f.boxes = 1000; /* 4 MB, "endless" */
	assert_int_equal(pthread_create(&f.th, NULL, flood_main, &f), 0);
	while ((rc = vl_chan_read(sv, b, sizeof(b), &got)) == 0 && got > 0)
		total += got;
	assert_int_equal(rc, VL_ETOOBIG);
	assert_true(vl_chan_bytes_in(sv) <= 100000);
	assert_true(total > 90000 - 176); /* it did read up to the cap */
	vl_chan_free(sv); /* closes: the flooder's write fails */
	assert_int_equal(pthread_join(f.th, NULL), 0);
	close(fd);
}

/* ---- sockets over TCP ------------------------------------------------------ */

static void test_tcp_loopback(void **state)
{
	int lfd = -1, cfd = -1, afd = -1;
	uint16_t port = 0;
	char addr[64], peer[80];
	vl_buf b = VL_BUF_INIT;
	struct srv s;
	vl_chan *cl = NULL;
	unsigned char x[3];

	(void)state;
	assert_int_equal(vl_sock_listen(&lfd, "127.0.0.1:0", VL_NET_DEFAULT_PORT), 0);
	assert_int_equal(vl_sock_local_port(&port, lfd), 0);
	assert_true(port != 0);
	assert_int_equal(vl_buf_printf(&b, "127.0.0.1:%u", (unsigned)port), 0);
	assert_true(b.len < sizeof(addr));
	memcpy(addr, b.ptr, b.len + 1);
	vl_buf_free(&b);
	assert_int_equal(vl_sock_connect(&cfd, addr, VL_NET_DEFAULT_PORT, 2000), 0);
	assert_int_equal(vl_sock_accept(&afd, lfd, 2000, peer, sizeof(peer)), 0);
	assert_memory_equal(peer, "127.0.0.1:", 10);
	srv_start(&s, afd, netkey, &bob);
	assert_int_equal(vl_shs_client(&cl, cfd, netkey, &alice, bob.pk, 5000), 0);
	srv_join(&s);
	assert_int_equal(s.rc, 0);
	assert_int_equal(vl_chan_write(cl, "abc", 3), 0);
	assert_int_equal(vl_chan_goodbye(cl), 0);
	assert_int_equal(vl_chan_read_exact(s.chan, x, 3), 0);
	assert_memory_equal(x, "abc", 3);
	vl_chan_free(cl);
	vl_chan_free(s.chan);
	/* nothing listens any more on a closed port: refused, not a hang */
	close(lfd);
	assert_int_equal(vl_sock_connect(&cfd, addr, VL_NET_DEFAULT_PORT, 2000), VL_ERROR);
	/* an accept with nothing coming times out */
	assert_int_equal(vl_sock_listen(&lfd, "[::1]:0", VL_NET_DEFAULT_PORT) == 0 ||
			vl_sock_listen(&lfd, "127.0.0.1:0", VL_NET_DEFAULT_PORT) == 0, 1);
	assert_int_equal(vl_sock_accept(&afd, lfd, 100, NULL, 0), VL_ERROR);
	close(lfd);
}

/* Connect to "HOST:port" of listener lfd and accept it; 0 when both worked. */
static int connect_to(int lfd, const char *host)
{
	vl_buf a = VL_BUF_INIT;
	uint16_t port = 0;
	int cfd = -1, afd = -1, rc;

	assert_int_equal(vl_sock_local_port(&port, lfd), 0);
	assert_int_equal(vl_buf_printf(&a, "%s:%u", host, (unsigned)port), 0);
	rc = vl_sock_connect(&cfd, a.ptr, VL_NET_DEFAULT_PORT, 2000);
	if (rc == 0) {
		assert_int_equal(vl_sock_accept(&afd, lfd, 2000, NULL, 0), 0);
		close(afd);
		close(cfd);
	}
	vl_buf_free(&a);
	return rc;
}

static void test_listen_forms(void **state)
{
	int lfd = -1, v6 = 0;

	(void)state;
	/* ":0" and "0": every address, IPv4 and (where there is one) IPv6 */
	assert_int_equal(vl_sock_listen(&lfd, ":0", VL_NET_DEFAULT_PORT), 0);
	assert_int_equal(connect_to(lfd, "127.0.0.1"), 0);
	assert_int_equal(connect_to(lfd, "localhost"), 0);
	v6 = connect_to(lfd, "[::1]") == 0;
	close(lfd);
	assert_int_equal(vl_sock_listen(&lfd, "0", VL_NET_DEFAULT_PORT), 0);
	assert_int_equal(connect_to(lfd, "127.0.0.1"), 0);
	close(lfd);
	/* a name */
	assert_int_equal(vl_sock_listen(&lfd, "localhost:0", VL_NET_DEFAULT_PORT), 0);
	close(lfd);
	if (v6) {
		assert_int_equal(vl_sock_listen(&lfd, "[::1]:0", VL_NET_DEFAULT_PORT), 0);
		assert_int_equal(connect_to(lfd, "[::1]"), 0);
		assert_int_not_equal(connect_to(lfd, "127.0.0.1"), 0); /* only ::1 */
		close(lfd);
	}
	assert_int_equal(vl_sock_listen(&lfd, "nonsense:x", VL_NET_DEFAULT_PORT), VL_EINVALID);
}

static void test_parse_addr(void **state)
{
	char host[64];
	uint16_t port = 0;

	(void)state;
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, "example.org", 7878), 0);
	assert_string_equal(host, "example.org");
	assert_int_equal(port, 7878);
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, "10.0.0.1:9", 7878), 0);
	assert_string_equal(host, "10.0.0.1");
	assert_int_equal(port, 9);
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, "[fe80::1]:65535", 7878), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(port, 65535);
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, "[::1]", 7878), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 7878);
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, "::1:80", 1), VL_EINVALID);
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, "h:0", 1), VL_EINVALID);
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, "h:65536", 1), VL_EINVALID);
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, "h:8x", 1), VL_EINVALID);
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, ":80", 1), VL_EINVALID);
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, "[::1]x", 1), VL_EINVALID);
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, "[h]:1", 1), VL_EINVALID);
	assert_int_equal(vl_sock_parse_addr(host, sizeof(host), &port, "", 1), VL_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_both_roles),
		cmocka_unit_test(test_reference_kat),
		cmocka_unit_test(test_boxstream_boundaries),
		cmocka_unit_test(test_read_exact_early_goodbye),
		cmocka_unit_test(test_every_bit_flipped),
		cmocka_unit_test(test_flipped_msg1_gets_no_byte),
		cmocka_unit_test(test_forged_signatures),
		cmocka_unit_test(test_mitm_every_message),
		cmocka_unit_test(test_weak_ephemeral_key),
		cmocka_unit_test(test_wrong_network_key),
		cmocka_unit_test(test_wrong_server_key),
		cmocka_unit_test(test_evil_client_is_real),
		cmocka_unit_test(test_tampered_and_truncated_boxes),
		cmocka_unit_test(test_header_length_caps),
		cmocka_unit_test(test_trickle_and_silence),
		cmocka_unit_test(test_flood_hits_byte_cap),
		cmocka_unit_test(test_tcp_loopback),
		cmocka_unit_test(test_listen_forms),
		cmocka_unit_test(test_parse_addr),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
