/*
 * peers.h - the peers a node syncs with (node.yaml `peers`) and what it
 * remembers of each (<home>/net/<peer>.state, outside git).
 *
 * node.yaml:
 *   peers:
 *     - name: township        # a name of this node's choosing
 *       address: 10.0.0.5:7433
 *       key: SHA256:...       # optional: the fingerprint the server must prove
 *
 * A state file is lines "KEY VALUE": last_success (UTC s), last_error
 * (UTC s), error (text), failures (count since the last success),
 * next_try (UTC s, the backoff), key (the fingerprint that answered last).
 */
#ifndef VL_NET_PEERS_H
#define VL_NET_PEERS_H

#include <stdint.h>
#include "store/buf.h"
#include "store/error.h"
#include "store/sshsig.h"

#define VL_PEER_NAME_MAX 64
#define VL_PEERS_MAX 1000

typedef struct {
	char name[VL_PEER_NAME_MAX + 1];
	char address[301];
	char key[VL_FP_LEN];       /* "" when not given */
} vl_peer;

/* The peers of node.yaml at home, in file order (*out NULL when none;
 * caller frees). VL_EINVALID naming a malformed entry. */
int vl_peers_load(vl_peer **out, size_t *n, const char *home) VL_MUST_CHECK;
/* The peer named name, into out; VL_ENOTFOUND when there is none. */
int vl_peers_find(vl_peer *out, const char *home, const char *name) VL_MUST_CHECK;
/*
 * Add (or replace, by name) a peer in node.yaml, written atomically. name:
 * 1..64 of [A-Za-z0-9._-], not starting with '.'; key: "" or a
 * "SHA256:" fingerprint. VL_EINVALID otherwise.
 */
int vl_peers_add(const char *home, const vl_peer *p) VL_MUST_CHECK;

typedef struct {
	int64_t last_success, last_error, next_try;
	uint32_t failures;
	char error[VL_ERRMSG_MAX];   /* the last sync's error message, whole */
	char key[VL_FP_LEN];
} vl_peer_state;

/* The state of peer `name` (zeroed when there is none yet). */
int vl_peer_state_load(vl_peer_state *out, const char *home, const char *name) VL_MUST_CHECK;
int vl_peer_state_save(const vl_peer_state *s, const char *home, const char *name) VL_MUST_CHECK;
/* A name usable as a file name for an address ("10.0.0.5:7433" ->
 * "10.0.0.5_7433"). */
void vl_peer_state_name(char out[VL_PEER_NAME_MAX + 1], const char *name_or_addr);

#endif
