/*
 * proto.h - the session protocol of `vledger serve` / `sync` / `pull`
 * (docs/formats.md §8.3), spoken inside a secure channel (agent/net/chan.h)
 * once the handshake has named the peer's key.
 *
 * Every message is framed
 *
 *   u8 type | u32 big-endian payload length | payload
 *
 * with a cap on each type's payload (VL_PROTO_MAX_PAYLOAD at most); only a
 * CHUNK message is followed by raw bytes (its pack, of the length its
 * header names). One side sends and the other receives in a "transfer":
 *
 *   sender    REFS   the refs the receiver may read (config, and the scope
 *                    branches the receiver's roster scope covers)
 *   receiver  HAVES  commits it holds: its heads, the sender's heads it
 *                    holds, and what it last received from this peer
 *                    (refs/peers/<fingerprint>/)
 *   sender    CHUNK  ... each a bounded pack (at most VL_NET_CHUNK_COMMITS
 *                    commits, oldest first) and the refs it brings the
 *                    receiver to; the last one is marked final
 *   receiver  ACK    after each chunk went through vl_receive (kept, so a
 *                    retry's HAVES skips it) or failed (nothing kept)
 *
 * Every received chunk is its own vl_receive (a node handle opened for it
 * and closed after, so the write lock is never held while waiting on the
 * network); only the final chunk merges.
 *
 * Parsers here take untrusted bytes and never read past len; the fuzz
 * target tests/fuzz/fuzz_proto.c runs them.
 */
#ifndef VL_NET_PROTO_H
#define VL_NET_PROTO_H

#include <stdint.h>
#include <git2.h>

#include "agent/net/chan.h"
#include "agent/node/node.h"
#include "agent/ops/ops.h"
#include "agent/sync/receive.h"
#include "store/buf.h"

#define VL_PROTO_VERSION 1

enum {
	VL_MSG_HELLO = 1,  /* client -> server, and the server's answer: u8 version, u8 mode (0 pull, 1 sync) */
	VL_MSG_PULL = 2,   /* client: send me what I may read (a transfer, server sends) */
	VL_MSG_PUSH = 3,   /* client: take what you may read (a transfer, client sends), then HEADS */
	VL_MSG_REFS = 4,   /* refs list */
	VL_MSG_HAVES = 5,  /* u32 count, count x 20-byte ids */
	VL_MSG_CHUNK = 6,  /* u8 final, u64 pack length, refs list; then the pack bytes */
	VL_MSG_ACK = 7,    /* u8 status (0 kept, 1 failed), u32 updated, u32 refused, text */
	VL_MSG_HEADS = 8,  /* server after a PUSH: refs list of its heads the client may read */
	VL_MSG_BYE = 9,    /* client: the session ends */
	VL_MSG_ERROR = 10, /* text: why the sender stops */
};

/* Caps (docs/formats.md §8.3). */
#define VL_PROTO_MAX_PAYLOAD ((size_t)16 << 20) /* one message */
#define VL_PROTO_MAX_REFS 50000                  /* refs in one list */
#define VL_PROTO_MAX_REFNAME 255                 /* bytes of one ref name */
#define VL_PROTO_MAX_HAVES 200000                /* ids in one HAVES */
#define VL_PROTO_MAX_TEXT 1024                   /* bytes of an ACK or ERROR text */
#define VL_NET_MAX_CHUNK_PACK ((uint64_t)512 << 20) /* bytes of one chunk's pack */
#define VL_NET_CHUNK_COMMITS 256                 /* commits in one chunk */
#define VL_NET_MAX_CHUNKS 100000                 /* chunks in one transfer */
#define VL_NET_LOCK_WAIT_MS 20000                /* a receive waits this long for the write lock */

/* A list of refs (owned names). */
typedef struct {
	char *name;
	git_oid id;
} vl_proto_ref;

typedef struct {
	vl_proto_ref *refs;
	size_t n, cap;
} vl_proto_refs;

void vl_proto_refs_free(vl_proto_refs *r);
/* Append a copy of name -> id. */
int vl_proto_refs_add(vl_proto_refs *r, const char *name, const git_oid *id) VL_MUST_CHECK;
/* The id of name, or NULL. */
const git_oid *vl_proto_refs_get(const vl_proto_refs *r, const char *name);

/*
 * Encode / parse a refs list: u32 count, then per ref u8 name length, the
 * name (1..255 bytes: "refs/" then characters git accepts in a ref name, no
 * "..", "//", "/." or "@{", not ending in "/", "." or ".lock"), 20-byte id.
 * Parse is strict: count at most VL_PROTO_MAX_REFS, no name twice, nothing
 * after the last ref. VL_EPROTO with the reason. out is zeroed at entry and
 * freed by the caller.
 */
int vl_proto_refs_encode(vl_buf *out, const vl_proto_refs *r) VL_MUST_CHECK;
int vl_proto_refs_parse(vl_proto_refs *out, const unsigned char *p, size_t len) VL_MUST_CHECK;
/* HAVES: u32 count (at most VL_PROTO_MAX_HAVES), count ids, nothing more.
 * *out (caller frees) NULL when count is 0. */
int vl_proto_haves_parse(git_oid **out, size_t *n, const unsigned char *p, size_t len) VL_MUST_CHECK;
/* CHUNK header: u8 final (0/1), u64 pack length (at most
 * VL_NET_MAX_CHUNK_PACK), a refs list holding refs/heads/config. */
int vl_proto_chunk_parse(int *final, uint64_t *packlen, vl_proto_refs *refs, const unsigned char *p,
		size_t len) VL_MUST_CHECK;
/* HELLO: u8 version (VL_PROTO_VERSION), u8 mode (0/1), nothing more. */
int vl_proto_hello_parse(int *mode, const unsigned char *p, size_t len) VL_MUST_CHECK;
/* ACK: u8 status (0/1), u32 updated, u32 refused, text (at most
 * VL_PROTO_MAX_TEXT printable bytes). text gets the text. */
int vl_proto_ack_parse(int *status, uint32_t *updated, uint32_t *refused, vl_buf *text, const unsigned char *p,
		size_t len) VL_MUST_CHECK;

/* Send one message (flushed). */
int vl_proto_send(vl_chan *c, int type, const void *payload, size_t len) VL_MUST_CHECK;
/* Read one message: *type and its payload into payload (replaced). A type
 * outside VL_MSG_* or a payload over VL_PROTO_MAX_PAYLOAD: VL_EPROTO. At
 * the peer's goodbye: VL_EPROTO "closed", *type 0. An ERROR message is
 * returned as VL_EDENIED with its text in the error message ("peer said: ..."). */
int vl_proto_recv(vl_chan *c, int *type, vl_buf *payload) VL_MUST_CHECK;

/* What one transfer moved. */
typedef struct {
	size_t chunks;
	size_t objects;
	uint64_t pack_bytes;
	size_t updated, refused, commits, merges, conflicts;
	vl_buf report;          /* what receive refused, in words */
	vl_progress progress;   /* set by the caller (zeroed: none): stage "receive"
	                         * or "send", objects so far after each chunk */
} vl_transfer_stats;

void vl_transfer_stats_free(vl_transfer_stats *s);

/* The refs a peer of roster scope `scope` may read from n: config and the
 * scope branches scope covers. */
int vl_proto_readable_refs(vl_proto_refs *out, vl_node *n, const char *scope) VL_MUST_CHECK;

/*
 * The sending side of a transfer to a peer of roster scope peer_scope:
 * REFS, read HAVES, then the chunks, each acknowledged. VL_EDENIED when
 * the receiver reports it refused (its text in the message).
 */
int vl_proto_send_side(vl_transfer_stats *st, vl_chan *c, vl_node *n, const char *peer_scope) VL_MUST_CHECK;

/*
 * The receiving side: read REFS, send HAVES, then each CHUNK through
 * vl_receive (a node handle of n->home of its own, closed after; the source
 * names the peer by its handshake key peer_pk), ACK each. n's loaded config
 * is reloaded at the end. st accumulates.
 */
int vl_proto_recv_side(vl_transfer_stats *st, vl_chan *c, vl_node *n, const unsigned char peer_pk[32]) VL_MUST_CHECK;

#endif
