/*
 * lan_ops.h - who is on the LAN (ops.h conventions; the announcements:
 * agent/net/lan.h, docs/formats.md §8.4).
 *
 * peer lan: listen for the announcements of this node's network for a
 * while and say who was heard: address, TCP port, fingerprint, and, when
 * the fingerprint is on this node's roster, that entry's name, role and
 * scope. Being heard proves nothing about who sent it: a listed peer is a
 * place to try the secret handshake, which authenticates it.
 *
 * sync lan: listen as peer lan does, keeping roster peers only (not
 * revoked, not this node), then vl_sync (ops/net_ops.h) with each
 * fingerprint heard, once: its addresses in order until one completes. The
 * handshake proves the key; an impostor's address simply fails.
 */
#ifndef VL_OPS_LAN_H
#define VL_OPS_LAN_H

#include <stdint.h>
#include "agent/net/lan.h"
#include "agent/node/node.h"
#include "agent/ops/net_ops.h"
#include "agent/ops/ops.h"

typedef struct {
	int wait_ms;          /* how long to listen (0: VL_LAN_WAIT_MS) */
	uint16_t udp_port;    /* 0: vl_lan_default_port() */
	int roster_only;      /* keep only announcers whose key is on the roster, not
	                       * revoked, and not this node (what sync --lan contacts) */
} vl_peer_lan_opts;
#define VL_PEER_LAN_OPTS_INIT { 0, 0, 0 }

/* One announcer heard. */
typedef struct {
	char addr[VL_LAN_ADDR_LEN];  /* IPv4 address the datagram came from */
	uint16_t port;               /* TCP port it announced */
	char fp[VL_FP_LEN];          /* fingerprint it announced */
	int on_roster;               /* the fingerprint is a roster key */
	unsigned char pk[32];        /* that key (on_roster only): the handshake's server key */
	char *name, *role;           /* its roster entry's (owned; NULL when not on the roster) */
	char scope[13];              /* "" when not on the roster */
	int revoked;                 /* the roster entry is revoked */
	int self;                    /* it is this node's own key */
} vl_lan_found;

typedef struct {
	vl_lan_found *peers;         /* by address, then port (owned) */
	size_t n;
	int wait_ms;                 /* how long it listened */
	uint16_t udp_port;           /* on which UDP port */
} vl_peer_lan_result;

void vl_peer_lan_result_free(vl_peer_lan_result *r);

/*
 * Listen and list. Reads the roster of the node's config (without config,
 * every peer is "not on the roster"); needs no secret key; writes nothing.
 * VL_EINVALID for a wait outside 1 ms..VL_LAN_WAIT_MAX_MS; VL_ERROR when
 * the UDP port cannot be bound. Hearing nobody is a success with n == 0.
 */
int vl_peer_lan(vl_node *n, const vl_peer_lan_opts *opts, vl_peer_lan_result *out) VL_MUST_CHECK;

/* ---- sync --lan ------------------------------------------------------------ */

typedef struct {
	int wait_ms;          /* how long to listen (0: VL_LAN_WAIT_MS) */
	uint16_t udp_port;    /* 0: vl_lan_default_port() */
	int push;             /* 1: sync (both directions); 0: pull */
	int timeout_ms;       /* per peer: connect + handshake, and idle (0: vl_sync's default) */
	vl_progress progress; /* passed to each vl_sync */
} vl_sync_lan_opts;
#define VL_SYNC_LAN_OPTS_INIT { 0, 0, 1, 0, { NULL, NULL } }

/* One roster key heard, and how syncing with it went. */
typedef struct {
	size_t heard;           /* index in heard.peers of the address used (the last tried on failure) */
	size_t tries;           /* addresses tried */
	int rc;                 /* 0, or the last address's failure */
	char *message;          /* its message (owned; NULL on success) */
	vl_sync_result sync;    /* what the successful vl_sync did */
} vl_lan_synced;

typedef struct {
	vl_peer_lan_result heard;  /* roster peers heard, by address */
	vl_lan_synced *items;      /* one per fingerprint, in the order first heard */
	size_t n;
	size_t failed;             /* items with rc < 0 */
} vl_sync_lan_result;

void vl_sync_lan_result_free(vl_sync_lan_result *r);

/*
 * Listen, then sync with every roster peer heard. n must hold its secret
 * key and the network key. Hearing nobody is a success with n == 0. When
 * some peers failed: the first failure's code, with a message counting
 * them (each item says why); the others' syncs stand.
 */
int vl_sync_lan(vl_node *n, const vl_sync_lan_opts *opts, vl_sync_lan_result *out) VL_MUST_CHECK;

#endif
