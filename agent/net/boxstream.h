/*
 * boxstream.h - box-stream framing (docs/formats.md §8.2), as npm
 * `pull-box-stream` 1.0.13 writes and reads it. One direction of a channel
 * is a key (32 bytes) and a nonce (24 bytes) that the handshake derives
 * (agent/net/shs.h). A box is
 *   header: secretbox(key, n,   len (u16 big endian) || tag of body) = 34 bytes
 *   body:   secretbox(key, n+1, data) without its 16-byte tag     = len bytes
 * and the nonce advances by 2 (big-endian increment of all 24 bytes). The
 * goodbye is a header box of 18 zero bytes. Bodies are 1..VL_BOX_MAX_BODY
 * bytes: a longer or an empty body is a protocol error here (the reference
 * never sends either).
 *
 * These functions work on memory only (no I/O), so the channel (chan.h)
 * and the fuzz target share one reader. Not thread safe per state.
 */
#ifndef VL_NET_BOXSTREAM_H
#define VL_NET_BOXSTREAM_H

#include <stddef.h>
#include "store/error.h"

#define VL_BOX_HEADER 34
#define VL_BOX_MAX_BODY 4096
#define VL_BOX_TAG 16

/* One direction: the key and the next header's nonce. Wipe with
 * vl_box_wipe when done. */
typedef struct {
	unsigned char key[32];
	unsigned char nonce[24];
} vl_box;

/*
 * Seal data (1..VL_BOX_MAX_BODY bytes) into out: VL_BOX_HEADER + len
 * bytes (header, then body). Advances the nonce. Programmer error (assert)
 * for len 0 or past the maximum.
 */
void vl_box_seal(vl_box *b, unsigned char *out, const void *data, size_t len);
/* The goodbye header into out (VL_BOX_HEADER bytes). Advances the nonce. */
void vl_box_goodbye(vl_box *b, unsigned char out[VL_BOX_HEADER]);
/*
 * Open a received header. 1 for the goodbye; 0 with *len (1..VL_BOX_MAX_BODY)
 * and tag set for a body to follow. VL_EPROTO when the header does not
 * authenticate, or names an empty or too long body. The nonce is advanced
 * only by vl_box_open_body (or here for the goodbye), so a failed box
 * leaves the state unusable anyway: the caller drops the channel.
 */
int vl_box_open_header(vl_box *b, size_t *len, unsigned char tag[VL_BOX_TAG],
		const unsigned char hdr[VL_BOX_HEADER]) VL_MUST_CHECK;
/* Open a body of len bytes (from the header) into out (len bytes; may be
 * the same buffer as cipher). VL_EPROTO when it does not authenticate; then
 * out holds nothing usable. Advances the nonce on success. */
int vl_box_open_body(vl_box *b, unsigned char *out, const unsigned char *cipher, size_t len,
		const unsigned char tag[VL_BOX_TAG]) VL_MUST_CHECK;
/* Big-endian increment of a 24-byte nonce (wraps at 2^192). */
void vl_box_nonce_inc(unsigned char nonce[24]);
void vl_box_wipe(vl_box *b);

#endif
