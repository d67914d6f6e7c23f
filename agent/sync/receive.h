/*
 * receive.h - the one path by which scope branches enter a node (DESIGN.md
 * §7): objects from a source land in a quarantine object directory (with the
 * node's own objects as a read-only alternate), the received history is
 * verified there as a whole (vl_verify_received: signatures, authorisation,
 * canonical records, schemas, merge replays, chains, clocks, caps), and only
 * then are the objects copied into the repository and refs moved, by
 * compare-and-swap. One bad object rejects the whole branch batch; nothing
 * the node held changes, except that a key caught signing two histories
 * leaves both signed commits under refs/evidence/ for people to see.
 */
#ifndef VL_RECEIVE_H
#define VL_RECEIVE_H

#include "agent/node/node.h"

/* Caps on one received batch (per branch). */
#define VL_RECEIVE_MAX_OBJECTS 2000000
#define VL_RECEIVE_MAX_BYTES ((size_t)2 << 30)
/* A commit object: big enough for an import of 10,000 records' trailers. */
#define VL_RECEIVE_MAX_COMMIT ((size_t)4 << 20)

typedef struct {
	size_t branches_seen;     /* scope branches this node may read */
	size_t branches_updated;
	size_t branches_refused;
	size_t commits;           /* new commits verified */
	size_t objects;           /* objects copied in */
	size_t merges;            /* merge commits written */
	size_t conflicts;         /* fields left for a person */
	size_t evidence;          /* equivocation pairs kept */
	vl_buf report;            /* what was refused and why */
} vl_receive_result;

void vl_receive_result_free(vl_receive_result *r);

/*
 * Receive every scope branch of `src` (another repository this process can
 * open: a node's repo.git on a disk or USB stick, a bundle unpacked into a
 * temporary repository) that this node may read, remember the peer's heads
 * under refs/peers/<peer>/, and with `merge` merge each into our branch
 * (fast-forward when possible). Also takes the peer's refs/evidence/ whose
 * commits are validly signed by roster keys. Returns <0 only when the
 * receive could not run; refused branches are counted in res.
 */
int vl_receive_scopes(vl_node *n, git_repository *src, const char *peer, int merge,
		vl_receive_result *res) VL_MUST_CHECK;

#endif
