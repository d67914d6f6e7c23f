/*
 * net_seeds.c - makes the seed corpus of fuzz_shs.c and fuzz_boxstream.c
 * from net_fixture.h's fixed keys, or checks (--check) that the committed
 * seeds are still what it makes (a ctest test), so the accept-* seeds stay
 * a valid transcript and stream if the protocol code changes.
 *   net_seeds [--check] CORPUS_DIR   (writes/reads CORPUS_DIR/shs, /boxstream)
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "net_fixture.h"
#include "store/buf.h"

static struct net_fixture fx;
static int checking, bad;

static void emit(const char *dir, const char *sub, const char *name, const unsigned char *p, size_t n)
{
	vl_buf path = VL_BUF_INIT, have = VL_BUF_INIT;

	if (vl_buf_printf(&path, "%s/%s/%s", dir, sub, name) < 0)
		abort();
	if (checking) {
		if (vl_buf_read_file(&have, path.ptr, 1 << 20) < 0 || have.len != n || memcmp(have.ptr, p, n)) {
			fprintf(stderr, "net_seeds: %s is not what net_seeds makes; run it without --check\n", path.ptr);
			bad = 1;
		}
	} else if (vl_buf_write_file(path.ptr, p, n, 0644) < 0) {
		fprintf(stderr, "net_seeds: cannot write %s: %s\n", path.ptr, vl_error_last());
		bad = 1;
	}
	vl_buf_free(&have);
	vl_buf_free(&path);
}

/* msg1 | msg3 of the fixed transcript, made with key K (the network key
 * unless testing another) and client key c. */
static void transcript(unsigned char out[176], const unsigned char *K, const vl_key *c)
{
	vl_shs cl, sv;
	unsigned char m2[64];

	vl_shs_init(&cl, K, c, fx.server.pk, fx.client_eph);
	vl_shs_init(&sv, fx.netkey, &fx.server, NULL, fx.server_eph);
	vl_shs_hello(&cl, out);
	vl_shs_hello(&sv, m2);
	if (vl_shs_check_hello(&cl, m2) < 0 && K == fx.netkey)
		abort();
	/* with another network key the client cannot check msg2; it still
	 * makes msg3 with the secrets it has, as a hostile client would */
	if (K != fx.netkey) {
		memcpy(cl.peer_eph, m2 + 32, 32);
		if (crypto_scalarmult(cl.ab, cl.eph_sk, cl.peer_eph) != 0)
			abort();
		crypto_hash_sha256(cl.ab_hash, cl.ab, 32);
	}
	if (vl_shs_client_auth(&cl, out + 64) < 0)
		abort();
	vl_shs_wipe(&cl);
	vl_shs_wipe(&sv);
}

int main(int argc, char **argv)
{
	unsigned char t[176], w[3 * (VL_BOX_HEADER + VL_BOX_MAX_BODY)], body[VL_BOX_MAX_BODY];
	const char *dir;
	vl_box b;
	vl_key other;
	size_t n, i;

	if (argc == 3 && !strcmp(argv[1], "--check"))
		checking = 1;
	else if (argc != 2) {
		fprintf(stderr, "usage: net_seeds [--check] CORPUS_DIR\n");
		return 2;
	}
	dir = argv[argc - 1];
	net_fixture_make(&fx);

	/* ---- handshake: msg1 | msg3 ---- */
	transcript(t, fx.netkey, &fx.client);
	emit(dir, "shs", "accept-transcript", t, sizeof(t));
	emit(dir, "shs", "reject-msg1-only", t, 64);
	emit(dir, "shs", "reject-one-short", t, 175);
	t[3] ^= 1;
	emit(dir, "shs", "reject-msg1-hmac-bit", t, sizeof(t));
	t[3] ^= 1;
	t[40] ^= 0x80;
	emit(dir, "shs", "reject-msg1-key-bit", t, sizeof(t));
	t[40] ^= 0x80;
	t[64 + 50] ^= 4;
	emit(dir, "shs", "reject-msg3-bit", t, sizeof(t));
	t[64 + 50] ^= 4;
	memset(t + 32, 0, 32); /* a low-order ephemeral key, with its HMAC */
	crypto_auth(t, t + 32, 32, fx.netkey);
	emit(dir, "shs", "reject-zero-ephemeral", t, sizeof(t));
	transcript(t, fx.server.pk /* any other 32 bytes */, &fx.client);
	emit(dir, "shs", "reject-other-network", t, sizeof(t));
	{
		unsigned char seed[32];
		memset(seed, 0x07, 32);
		if (vl_key_from_seed(&other, seed) < 0)
			abort();
		/* another client key is fine for the handshake (the roster decides) */
		transcript(t, fx.netkey, &other);
		emit(dir, "shs", "accept-other-client", t, sizeof(t));
	}

	/* ---- box-stream ---- */
	b = fx.box;
	vl_box_goodbye(&b, w);
	emit(dir, "boxstream", "accept-goodbye-only", w, VL_BOX_HEADER);
	b = fx.box;
	n = 0;
	vl_box_seal(&b, w, "hello", 5);
	n += VL_BOX_HEADER + 5;
	for (i = 0; i < sizeof(body); i++)
		body[i] = (unsigned char)(i * 7);
	vl_box_seal(&b, w + n, body, sizeof(body));
	n += VL_BOX_HEADER + sizeof(body);
	vl_box_goodbye(&b, w + n);
	n += VL_BOX_HEADER;
	emit(dir, "boxstream", "accept-two-boxes", w, n);
	emit(dir, "boxstream", "reject-no-goodbye", w, n - VL_BOX_HEADER);
	emit(dir, "boxstream", "reject-truncated-body", w, VL_BOX_HEADER + 3);
	w[n] = 'x';
	emit(dir, "boxstream", "reject-trailing-byte", w, n + 1);
	w[VL_BOX_HEADER + 2] ^= 1;
	emit(dir, "boxstream", "reject-body-bit", w, n);
	w[VL_BOX_HEADER + 2] ^= 1;
	w[5] ^= 1;
	emit(dir, "boxstream", "reject-header-bit", w, n);
	w[5] ^= 1;
	/* the second box first: out of nonce order */
	emit(dir, "boxstream", "reject-reordered", w + VL_BOX_HEADER + 5, VL_BOX_HEADER + sizeof(body));
	/* a header naming 4097 bytes, properly sealed */
	{
		unsigned char head[18];
		memset(head, 0x41, sizeof(head));
		head[0] = 0x10;
		head[1] = 0x01;
		b = fx.box;
		crypto_secretbox_easy(w, head, sizeof(head), b.nonce, b.key);
		memset(w + VL_BOX_HEADER, 0, 4097);
		emit(dir, "boxstream", "reject-body-4097", w, VL_BOX_HEADER + 4097);
	}
	vl_key_wipe(&other);
	return bad;
}
