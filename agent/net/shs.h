/*
 * shs.h - the Secure Scuttlebutt secret handshake v1, the four messages as
 * pure functions on memory (the I/O is in chan.c), interoperable with npm
 * `secret-handshake` 1.1.21. Byte layouts: docs/formats.md §8.2.
 *
 * K = network key, (A, Ap) client ed25519 pair, (B, Bp) server's, (a, ap)
 * and (b, bp) the ephemeral X25519 pairs; hmac = crypto_auth
 * (HMAC-SHA-512-256), hash = SHA-256, box = crypto_secretbox with 24 zero
 * nonce bytes (each key boxes once).
 *   msg1 c->s  64: hmac[K](ap) | ap
 *   msg2 s->c  64: hmac[K](bp) | bp
 *   msg3 c->s 112: box[hash(K | a.b | a.B)](H), H = sign[A](K | Bp | hash(a.b)) | Ap
 *   msg4 s->c  80: box[hash(K | a.b | a.B | A.b)](sign[B](K | H | hash(a.b)))
 * Then, with S = hash(hash(K | a.b | a.B | A.b)), each side encrypts with
 * key hash(S | remote long-term pk), nonce hmac[K](remote ephemeral pk)[0..24]
 * and decrypts with key hash(S | own pk), nonce hmac[K](own ephemeral)[0..24].
 *
 * Every check fails closed: a bad HMAC, a low-order or non-canonical
 * point (a shared secret of zeros), a box that does not open, a signature
 * that does not verify. The state holds secrets: vl_shs_wipe it always.
 */
#ifndef VL_NET_SHS_H
#define VL_NET_SHS_H

#include "agent/net/boxstream.h"
#include "store/error.h"
#include "store/sshsig.h"

#define VL_SHS_MSG1 64
#define VL_SHS_MSG2 64
#define VL_SHS_MSG3 112
#define VL_SHS_MSG4 80

typedef struct {
	unsigned char K[32];
	vl_key me;
	unsigned char eph_pk[32], eph_sk[32];
	unsigned char peer_pk[32];     /* remote long-term ed25519 (client: given; server: from msg3) */
	unsigned char peer_eph[32];
	unsigned char ab[32], aB[32], Ab[32];
	unsigned char ab_hash[32];
	unsigned char hello[96];       /* H = sig_A | Ap */
	unsigned char local_mac[32], remote_mac[32];
} vl_shs;

/*
 * Start a handshake: copy the network key and this node's key, make an
 * ephemeral X25519 pair (random; or, for tests and fuzz targets with a
 * fixed transcript, from eph_seed as npm secret-handshake makes it from its
 * 32 random bytes: the ed25519 pair of that seed, converted to X25519). server_pk: the client's
 * expected server key (NULL on the server).
 */
void vl_shs_init(vl_shs *s, const unsigned char K[32], const vl_key *me,
		const unsigned char *server_pk, const unsigned char *eph_seed);
/* msg1 or msg2: hmac[K](own ephemeral pk) | own ephemeral pk. */
void vl_shs_hello(vl_shs *s, unsigned char out[64]);
/* Check the peer's msg1/msg2 and compute a.b. VL_EDENIED when the HMAC
 * does not verify (another network), VL_EPROTO for a bad point. */
int vl_shs_check_hello(vl_shs *s, const unsigned char in[64]) VL_MUST_CHECK;
/* Client: msg3 (after vl_shs_check_hello on msg2). VL_EPROTO when the
 * server key is not a usable ed25519 point. */
int vl_shs_client_auth(vl_shs *s, unsigned char out[VL_SHS_MSG3]) VL_MUST_CHECK;
/* Server: check msg3; learns the client key (s->peer_pk). VL_EDENIED when
 * the box does not open or the signature does not verify. */
int vl_shs_server_check_auth(vl_shs *s, const unsigned char in[VL_SHS_MSG3]) VL_MUST_CHECK;
/* Server: msg4 (after vl_shs_server_check_auth). */
void vl_shs_server_accept(vl_shs *s, unsigned char out[VL_SHS_MSG4]);
/* Client: check msg4. VL_EDENIED when the server did not prove its key. */
int vl_shs_client_check_accept(vl_shs *s, const unsigned char in[VL_SHS_MSG4]) VL_MUST_CHECK;
/* The box-stream keys of both directions (after a completed handshake). */
void vl_shs_keys(const vl_shs *s, vl_box *enc, vl_box *dec);
void vl_shs_wipe(vl_shs *s);

#endif
