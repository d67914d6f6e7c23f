/* shs.c - the secret handshake's four messages (see shs.h). */
#include "agent/net/shs.h"

#include <sodium.h>
#include <string.h>

static const unsigned char zero_nonce[crypto_secretbox_NONCEBYTES];

/* out = sha256(p1 | p2 | p3 | p4), each 32 bytes; NULL parts are skipped. */
static void hash32(unsigned char out[32], const unsigned char *p1, const unsigned char *p2,
		const unsigned char *p3, const unsigned char *p4)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, p1, 32);
	if (p2)
		crypto_hash_sha256_update(&st, p2, 32);
	if (p3)
		crypto_hash_sha256_update(&st, p3, 32);
	if (p4)
		crypto_hash_sha256_update(&st, p4, 32);
	crypto_hash_sha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

void vl_shs_init(vl_shs *s, const unsigned char K[32], const vl_key *me,
		const unsigned char *server_pk, const unsigned char *eph_seed)
{
	sodium_memzero(s, sizeof(*s));
	memcpy(s->K, K, 32);
	s->me = *me;
	if (server_pk)
		memcpy(s->peer_pk, server_pk, 32);
	if (eph_seed) {
		/* as the reference makes its ephemeral pair from its 32 random
		 * bytes: an ed25519 pair from the seed, converted to X25519 (so a
		 * transcript with fixed seeds is comparable byte for byte) */
		unsigned char epk[32], esk[64];
		/* a key from crypto_sign_seed_keypair always converts; should it
		 * not, a random pair is still a correct (if unfixed) one */
		if (crypto_sign_seed_keypair(epk, esk, eph_seed) != 0 ||
				crypto_sign_ed25519_pk_to_curve25519(s->eph_pk, epk) != 0 ||
				crypto_sign_ed25519_sk_to_curve25519(s->eph_sk, esk) != 0)
			crypto_box_keypair(s->eph_pk, s->eph_sk);
		sodium_memzero(esk, sizeof(esk));
	} else {
		crypto_box_keypair(s->eph_pk, s->eph_sk);
	}
	crypto_auth(s->local_mac, s->eph_pk, 32, s->K);
}

void vl_shs_hello(vl_shs *s, unsigned char out[64])
{
	memcpy(out, s->local_mac, 32);
	memcpy(out + 32, s->eph_pk, 32);
}

int vl_shs_check_hello(vl_shs *s, const unsigned char in[64])
{
	if (crypto_auth_verify(in, in + 32, 32, s->K) != 0)
		return vl_error_set(VL_EDENIED, "the peer's hello is not for this network (its network key "
				"differs); check keys/network.key on both nodes");
	memcpy(s->remote_mac, in, 32);
	memcpy(s->peer_eph, in + 32, 32);
	if (crypto_scalarmult(s->ab, s->eph_sk, s->peer_eph) != 0)
		return vl_error_set(VL_EPROTO, "the peer's ephemeral key is a weak point");
	crypto_hash_sha256(s->ab_hash, s->ab, 32);
	return 0;
}

int vl_shs_client_auth(vl_shs *s, unsigned char out[VL_SHS_MSG3])
{
	unsigned char curve_B[32], key[32], msg[96];
	int rc;

	if (crypto_sign_ed25519_pk_to_curve25519(curve_B, s->peer_pk) != 0 ||
			crypto_scalarmult(s->aB, s->eph_sk, curve_B) != 0) {
		rc = vl_error_set(VL_EPROTO, "the server's key is not a usable ed25519 key");
		goto out;
	}
	/* H = sign[A](K | Bp | hash(a.b)) | Ap */
	memcpy(msg, s->K, 32);
	memcpy(msg + 32, s->peer_pk, 32);
	memcpy(msg + 64, s->ab_hash, 32);
	crypto_sign_detached(s->hello, NULL, msg, 96, s->me.sk);
	memcpy(s->hello + 64, s->me.pk, 32);
	hash32(key, s->K, s->ab, s->aB, NULL);
	crypto_secretbox_easy(out, s->hello, 96, zero_nonce, key);
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(curve_B, sizeof(curve_B));
	sodium_memzero(msg, sizeof(msg));
	return rc;
}

int vl_shs_server_check_auth(vl_shs *s, const unsigned char in[VL_SHS_MSG3])
{
	unsigned char curve_b[32], curve_A[32], key[32], msg[96];
	int rc;

	if (crypto_sign_ed25519_sk_to_curve25519(curve_b, s->me.sk) != 0 ||
			crypto_scalarmult(s->aB, curve_b, s->peer_eph) != 0) {
		rc = vl_error_set(VL_EPROTO, "the client's ephemeral key is a weak point");
		goto out;
	}
	hash32(key, s->K, s->ab, s->aB, NULL);
	if (crypto_secretbox_open_easy(s->hello, in, VL_SHS_MSG3, zero_nonce, key) != 0) {
		rc = vl_error_set(VL_EDENIED, "the client's authentication does not open: it does not "
				"know this server's key");
		goto out;
	}
	memcpy(msg, s->K, 32);
	memcpy(msg + 32, s->me.pk, 32);
	memcpy(msg + 64, s->ab_hash, 32);
	if (crypto_sign_verify_detached(s->hello, msg, 96, s->hello + 64) != 0) {
		rc = vl_error_set(VL_EDENIED, "the client's handshake signature does not verify");
		goto out;
	}
	memcpy(s->peer_pk, s->hello + 64, 32);
	if (crypto_sign_ed25519_pk_to_curve25519(curve_A, s->peer_pk) != 0 ||
			crypto_scalarmult(s->Ab, s->eph_sk, curve_A) != 0) {
		rc = vl_error_set(VL_EPROTO, "the client's key is not a usable ed25519 key");
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(curve_b, sizeof(curve_b));
	sodium_memzero(curve_A, sizeof(curve_A));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(msg, sizeof(msg));
	return rc;
}

/* K | H | hash(a.b): what the server signs in msg4. */
static void accept_payload(const vl_shs *s, unsigned char msg[160])
{
	memcpy(msg, s->K, 32);
	memcpy(msg + 32, s->hello, 96);
	memcpy(msg + 128, s->ab_hash, 32);
}

void vl_shs_server_accept(vl_shs *s, unsigned char out[VL_SHS_MSG4])
{
	unsigned char key[32], msg[160], sig[64];

	accept_payload(s, msg);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), s->me.sk);
	hash32(key, s->K, s->ab, s->aB, s->Ab);
	crypto_secretbox_easy(out, sig, 64, zero_nonce, key);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(msg, sizeof(msg));
}

int vl_shs_client_check_accept(vl_shs *s, const unsigned char in[VL_SHS_MSG4])
{
	unsigned char curve_a[32], key[32], msg[160], sig[64];
	int rc;

	if (crypto_sign_ed25519_sk_to_curve25519(curve_a, s->me.sk) != 0 ||
			crypto_scalarmult(s->Ab, curve_a, s->peer_eph) != 0) {
		rc = vl_error_set(VL_EPROTO, "the server's ephemeral key is a weak point");
		goto out;
	}
	hash32(key, s->K, s->ab, s->aB, s->Ab);
	if (crypto_secretbox_open_easy(sig, in, VL_SHS_MSG4, zero_nonce, key) != 0) {
		rc = vl_error_set(VL_EDENIED, "the server's acceptance does not open: it is not the "
				"server whose key was given");
		goto out;
	}
	accept_payload(s, msg);
	if (crypto_sign_verify_detached(sig, msg, sizeof(msg), s->peer_pk) != 0) {
		rc = vl_error_set(VL_EDENIED, "the server's handshake signature does not verify");
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(curve_a, sizeof(curve_a));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(msg, sizeof(msg));
	return rc;
}

void vl_shs_keys(const vl_shs *s, vl_box *enc, vl_box *dec)
{
	unsigned char s3[32], S[32];

	hash32(s3, s->K, s->ab, s->aB, s->Ab);
	crypto_hash_sha256(S, s3, 32);
	hash32(enc->key, S, s->peer_pk, NULL, NULL);
	memcpy(enc->nonce, s->remote_mac, 24);
	hash32(dec->key, S, s->me.pk, NULL, NULL);
	memcpy(dec->nonce, s->local_mac, 24);
	sodium_memzero(s3, sizeof(s3));
	sodium_memzero(S, sizeof(S));
}

void vl_shs_wipe(vl_shs *s)
{
	sodium_memzero(s, sizeof(*s));
}
