/*
 * invite.h - invitations (docs/formats.md §7): the one-line token a node prints,
 * and shows as a QR code, so that a new laptop can join the network; the
 * proofs of a join request; the QR code drawn in a terminal.
 *
 * A token is "vledger1:" followed by the unpadded base64url encoding of
 *
 *   u8        format version, 1
 *   16        network id (network.yaml's 'network': 32 lowercase hex digits)
 *   12        county code, ASCII digits
 *   u8, n×32  root keys (1..VL_INVITE_MAX_ROOTS ed25519 public keys)
 *   32        network key (the capability of the future secret handshake)
 *   16        invitation id
 *   32        one-time secret
 *   u64 BE    expiry, Unix seconds (UTC)
 *   u8        role, the index in: village township county auditor admin
 *   12        scope code, ASCII digits
 *   u8, n     name (UTF-8, 1..255 bytes)
 *   u8, n     inviter's address, host:port (0..255 bytes)
 *   u8, n     source: the inviter's repo.git path, until there is a network
 *             protocol (0..255 bytes)
 *   4         checksum: the first 4 bytes of BLAKE2b-128 of all of the above
 *
 * The checksum catches a token cut short or mistyped; it is not a MAC.
 * What makes a token worth anything is its secret, and whoever holds the
 * token may join: a token travels only face to face (the QR code) or over a
 * channel the inviter trusts. The inviter keeps no secret: only the public
 * half of the invitation key (vl_invite_key) that the secret derives.
 *
 * All functions are pure (no globals) and safe from any thread once
 * sodium_init() has run (vl_crypto_init).
 */
#ifndef VL_INVITE_H
#define VL_INVITE_H

#include <stddef.h>
#include <stdint.h>
#include "store/limits.h"
#include "store/buf.h"
#include "store/sshsig.h"

#define VL_INVITE_PREFIX "vledger1:"

/* A decoded invitation. Fixed arrays: nothing to free, wipe with
 * vl_invite_wipe (it holds the secret and the network key). */
typedef struct {
	char network[33];                              /* 32 lowercase hex digits */
	char county[13];
	unsigned char root_keys[VL_INVITE_MAX_ROOTS][32];
	size_t nroots;
	unsigned char network_key[32];
	unsigned char id[16];
	unsigned char secret[32];
	uint64_t expires;                              /* Unix seconds, UTC */
	char role[16];
	char scope[13];
	char name[256];
	char address[256];
	char source[256];
} vl_invite;

void vl_invite_wipe(vl_invite *inv);

/*
 * Append the token text of inv to out. VL_EINVALID when a field breaks the
 * layout above (a network id that is not 32 hex digits, a role not in the
 * list, a scope outside the county, a string too long or not valid UTF-8,
 * a control character in a string).
 */
int vl_invite_encode(vl_buf *out, const vl_invite *inv) VL_MUST_CHECK;
/*
 * Decode and check a token (surrounding whitespace ignored). Strict: the
 * prefix, base64url without padding or stray characters, the checksum,
 * every length, no trailing bytes, and every field as vl_invite_encode
 * requires. VL_ETOOBIG over VL_INVITE_MAX_TEXT; VL_EINVALID otherwise. Does
 * not look at the expiry (see vl_invite_expired). *out is wiped on failure.
 */
int vl_invite_decode(vl_invite *out, const char *text) VL_MUST_CHECK;

/* 1 if `expires` (Unix seconds) is not in the future of the wall clock
 * (vl_hlc_wall_ms, so VLEDGER_FAKE_TIME_MS moves it), else 0. */
int vl_invite_expired(uint64_t expires);
/* "YYYY-MM-DDTHH:MM:SSZ" for Unix seconds; out has 21 bytes. */
void vl_invite_time_format(char out[21], uint64_t secs);
/* Inverse of vl_invite_time_format, strict. VL_EINVALID otherwise. */
int vl_invite_time_parse(uint64_t *out, const char *text) VL_MUST_CHECK;

/*
 * The invitation key: the ed25519 key whose seed is the keyed BLAKE2b-256
 * of "vledger-invite-key-v1" under the secret. The joiner signs its request
 * with it; the inviter stores only its public half (the verifier), so the
 * invitations directory lets nobody forge a request. Wipe with vl_key_wipe.
 */
int vl_invite_key(vl_key *out, const unsigned char secret[32]) VL_MUST_CHECK;
/*
 * The bytes both proofs of a join request sign: "vledger-join-v1", NUL, the
 * network id, NUL, the invitation id (16), the new public key (32), then the
 * name. The invitation key signs them (proof: the token was held) and so
 * does the new key (key_proof: the key is held). Appends to out.
 */
int vl_join_message(vl_buf *out, const char *network, const unsigned char id[16],
		const unsigned char pk[32], const char *name) VL_MUST_CHECK;

/*
 * Append a QR code of text (byte mode, error correction L, the smallest
 * version that fits) drawn for a terminal: two modules per character cell
 * with the half blocks "▀" "▄" "█" and " ", light modules drawn as blocks and
 * dark ones left blank (a terminal with light text on a dark background,
 * as `qrencode -t UTF8` assumes), a quiet zone of 4 modules, each line ending
 * "\n". VL_ETOOBIG when text does not fit a QR code; VL_ERROR otherwise.
 */
int vl_qr_render(vl_buf *out, const char *text) VL_MUST_CHECK;

#endif
