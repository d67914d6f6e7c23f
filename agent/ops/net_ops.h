/*
 * net_ops.h - network sync as operations (ops.h conventions): serve, sync,
 * pull, peer add/list, status. The protocol: agent/net/proto.h; the
 * channel: agent/net/chan.h; the formats: docs/formats.md §8.3.
 */
#ifndef VL_OPS_NET_H
#define VL_OPS_NET_H

#include <signal.h>
#include <stdint.h>

#include "agent/net/peers.h"
#include "agent/net/proto.h"
#include "agent/net/server.h"
#include "agent/node/node.h"
#include "agent/ops/ops.h"

/* The port serve listens on and sync dials when an address names none: the
 * one node.yaml's default `listen` and so invitation tokens carry
 * (agent/ops/node_ops.c). sock.h's VL_NET_DEFAULT_PORT should become the
 * same (asked of the channel's branch); until then this one is used here. */
#define VL_SYNC_DEFAULT_PORT 7433

/* ---- sync / pull ---------------------------------------------------------- */

#define VL_SYNC_MAX_ROUNDS 3      /* pull+push rounds until both ends hold the same heads */
#define VL_SYNC_MAX_KEY_TRIES 8   /* roster keys tried when the server's is not known */

typedef struct {
	const char *peer;             /* HOST[:PORT] or a peer name of node.yaml (or NULL with host) */
	/* Direct (the LAN helper): host/port and the key the server must
	 * prove; used when peer is NULL. */
	const char *host;
	uint16_t port;
	const unsigned char *server_pk;
	int push;                     /* 1: both directions (sync); 0: receive only (pull) */
	int timeout_ms;               /* connect + handshake; also the idle timeout (default 30000) */
	vl_progress progress;         /* stages "connect", "pull", "push" */
} vl_sync_opts;
#define VL_SYNC_OPTS_INIT { NULL, NULL, 0, NULL, 1, 30000, { NULL, NULL } }

typedef struct {
	char address[320];            /* what was dialled */
	char peer_fp[VL_FP_LEN];      /* the server's authenticated key */
	char peer_name[128];          /* its roster name */
	int rounds;
	int identical;                /* both ends finished on the same heads (sync) */
	vl_transfer_stats pulled, pushed;
	uint64_t bytes_in, bytes_out; /* wire bytes, handshake included */
} vl_sync_result;

void vl_sync_result_free(vl_sync_result *r);

/*
 * Sync (or pull) with one peer: connect, secret handshake with the
 * server's key (the peer's `key` from node.yaml resolved in the roster; a
 * direct server_pk; else up to VL_SYNC_MAX_KEY_TRIES roster keys, the
 * ancestors of this node's scope nearest first), check that key on the
 * roster (not revoked), pull what this node may read (each chunk through
 * vl_receive, merged at the end), then (push) offer what the server may
 * read, and repeat while the server's heads differ from ours, at most
 * VL_SYNC_MAX_ROUNDS times. n must hold its secret key. The peer's state
 * file (peers.h) records the outcome. VL_ENOTFOUND: unknown peer name or
 * no key answered; VL_EDENIED: the server is not on the roster or refused;
 * VL_EPROTO / VL_ERROR: the network or the peer failed (nothing half-done
 * is kept: each acknowledged chunk is a whole receive).
 */
int vl_sync(vl_node *n, const vl_sync_opts *opts, vl_sync_result *out) VL_MUST_CHECK;

/* ---- serve ----------------------------------------------------------------- */

typedef struct {
	const char *listen;           /* ADDR:PORT; NULL: node.yaml's listen, else all addresses, default port */
	int64_t sync_every_ms;        /* 0: no schedule; else sync with node.yaml's peers this often */
	int max_sessions;             /* concurrent sessions (default 16) */
	vl_session_limits limits;
	/* Called once listening (the port actually bound: with port 0 the
	 * kernel's choice). The LAN announcer starts from here. */
	void (*on_listen)(void *ctx, const char *addr, uint16_t port);
	/* Called about once a second from the loop; must return quickly. */
	void (*on_tick)(void *ctx);
	void *ctx;
	volatile sig_atomic_t *stop;  /* the loop ends when it becomes non-zero */
	/* LAN (h-lan): announce this node on the LAN while serving
	 * (agent/net/lan.h; on the interface of the listen address only when
	 * that is one IPv4 address). Default 1. */
	int lan;
} vl_serve_opts;
#define VL_SERVE_OPTS_INIT { NULL, 0, 16, VL_SESSION_LIMITS_INIT, NULL, NULL, NULL, NULL, 1 }

typedef struct {
	uint16_t port;
	/* LAN (h-lan): 1 while announcing; otherwise why not, when it failed
	 * (announcing is best effort: serving goes on without it). */
	int lan_announcing;
	char lan_error[160];
} vl_serve_result;

/* Listen and serve until *opts->stop. n must hold its secret key and the
 * network key (keys/network.key). */
int vl_serve(vl_node *n, const vl_serve_opts *opts, vl_serve_result *out) VL_MUST_CHECK;

/* Exponential backoff for an unreachable peer: the wait (seconds) after
 * `failures` failures in a row, base the schedule, at most 64 times it. */
int64_t vl_sync_backoff_s(int64_t base_s, uint32_t failures);

/* One scheduled round: sync with every peer of node.yaml whose next_try
 * has come, updating its state. Returns 0 (each peer's outcome is in its
 * state). */
int vl_sync_peers(vl_node *n, int64_t base_s) VL_MUST_CHECK;

/* ---- status ------------------------------------------------------------------ */

typedef struct {
	vl_peer peer;
	vl_peer_state state;
	int known;                    /* the peer's key is known (given, or learnt at a sync) */
	size_t waiting_commits;       /* commits on branches it may read that it has not acknowledged */
	size_t waiting_branches;
} vl_status_peer;

typedef struct {
	vl_status_peer *peers;
	size_t n;
} vl_status_result;

void vl_status_result_free(vl_status_result *r);
/* Each peer of node.yaml: its state and what waits to go to it. */
int vl_net_status(vl_node *n, vl_status_result *out) VL_MUST_CHECK;

#endif
