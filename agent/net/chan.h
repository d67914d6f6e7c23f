/*
 * chan.h - the secure channel every network session runs on: the Secure
 * Scuttlebutt secret handshake v1 (agent/net/shs.h) on a connected TCP
 * socket, then box-stream framing (agent/net/boxstream.h) both ways.
 * Byte layouts, checks and caps: docs/formats.md §8.2.
 *
 * The capability is the 32-byte network key (keys/network.key); the
 * identity is the node's ed25519 roster key (a vl_key, store/sshsig.h). A
 * client must know the server's public key; the server learns the client's
 * from the handshake (vl_chan_peer_key). The channel authenticates the key
 * only: whether that key is on the roster, and not revoked, is the caller's
 * check, right after the handshake.
 *
 * A vl_chan owns its fd. One thread at a time per channel; different
 * channels are independent. Writes are buffered into boxes of at most
 * VL_CHAN_MAX_BODY bytes: vl_chan_flush sends what is pending, and
 * vl_chan_read, vl_chan_read_exact and vl_chan_goodbye flush first, so a
 * request-then-reply exchange never deadlocks on an unsent buffer.
 *
 * Errors (every function): VL_EPROTO when the peer broke the protocol (a
 * malformed or tampered message or box, a TCP close without goodbye or in
 * the middle of a box); VL_EDENIED when the handshake failed authentication
 * (wrong network key, wrong server key, bad signature); VL_ERROR on a
 * timeout (message says "timed out") or a failed system call; VL_ETOOBIG
 * past the byte cap; VL_ENOMEM. After any error other than from a closed
 * channel the channel is dead: every later read or write returns VL_EPROTO
 * and the caller frees it. Secrets are wiped with sodium_memzero.
 */
#ifndef VL_NET_CHAN_H
#define VL_NET_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include "store/error.h"
#include "store/sshsig.h"

#define VL_CHAN_MAX_BODY 4096          /* box-stream's largest body */
#define VL_CHAN_DEFAULT_TIMEOUT_MS 30000 /* idle timeout until set */

typedef struct vl_chan vl_chan;

/*
 * Run the handshake as client on connected fd. `netkey` is the 32-byte
 * network key, `me` this node's key (pk and 64-byte libsodium sk),
 * `server_pk` the ed25519 key the server must prove it holds. The whole
 * handshake must finish within timeout_ms (< 0: no deadline). On success
 * *out owns fd; on failure fd is closed and *out stays NULL.
 * VL_EDENIED when the server closed at msg1 (wrong network key) or did not
 * prove `server_pk`.
 */
int vl_shs_client(vl_chan **out, int fd, const unsigned char netkey[32], const vl_key *me,
		const unsigned char server_pk[32], int timeout_ms) VL_MUST_CHECK;
/*
 * Run the handshake as server on an accepted fd. Reads 64 bytes and closes
 * without writing a byte when their HMAC does not match the network key.
 * On success *out owns fd and vl_chan_peer_key(*out) is the client's
 * authenticated key; on failure fd is closed and *out stays NULL.
 */
int vl_shs_server(vl_chan **out, int fd, const unsigned char netkey[32], const vl_key *me,
		int timeout_ms) VL_MUST_CHECK;

/* The authenticated peer's ed25519 public key (borrowed from c). */
const unsigned char *vl_chan_peer_key(const vl_chan *c);

/* Queue len bytes (any size; len 0 is a no-op), sending full boxes of
 * VL_CHAN_MAX_BODY bytes as they fill. */
int vl_chan_write(vl_chan *c, const void *buf, size_t len) VL_MUST_CHECK;
/* Send the pending bytes as one box (none if nothing is pending). */
int vl_chan_flush(vl_chan *c) VL_MUST_CHECK;
/*
 * Read at least 1 and at most cap bytes into buf (*got), waiting for the
 * next box when nothing is buffered. *got = 0 and 0 once the peer has said
 * goodbye (and on every later call). cap must be >= 1.
 */
int vl_chan_read(vl_chan *c, void *buf, size_t cap, size_t *got) VL_MUST_CHECK;
/* Read exactly len bytes; VL_EPROTO if the peer says goodbye first. */
int vl_chan_read_exact(vl_chan *c, void *buf, size_t len) VL_MUST_CHECK;

/*
 * The most one wait may take: reading one whole box (header and body) or
 * writing one box must complete within ms of starting (so a trickling
 * peer times out too). < 0: no limit. Default VL_CHAN_DEFAULT_TIMEOUT_MS.
 */
void vl_chan_set_idle_timeout(vl_chan *c, int ms);
/* Fail with VL_ETOOBIG, before reading it, a box that would take the wire
 * bytes received (handshake included) past in_cap. 0: no cap (default). */
void vl_chan_set_byte_cap(vl_chan *c, uint64_t in_cap);
/* Wire bytes received / sent so far, handshake included. */
uint64_t vl_chan_bytes_in(const vl_chan *c);
uint64_t vl_chan_bytes_out(const vl_chan *c);

/* The connection's fd (borrowed: the channel closes it), for poll(2) in a
 * server loop or shutdown(2) from a watchdog; never read or write it. */
int vl_chan_fd(const vl_chan *c);

/* Flush, then send the goodbye (an encrypted header of 18 zero bytes). No
 * write after it. Reading still works (the peer's goodbye ends it). */
int vl_chan_goodbye(vl_chan *c) VL_MUST_CHECK;
/* Close the fd, wipe the keys and free. NULL is fine. */
void vl_chan_free(vl_chan *c);

#endif
