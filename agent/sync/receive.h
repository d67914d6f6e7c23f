/*
 * receive.h - the one path by which scope branches enter a node
 * (docs/formats.md §7.5): objects from a source land in a quarantine object directory (with the
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
#include "agent/ops/ops.h"
#include "agent/sync/source.h"

/* Caps on one received batch (per branch). */
#define VL_RECEIVE_MAX_OBJECTS 2000000
#define VL_RECEIVE_MAX_BYTES ((size_t)2 << 30)
/* A commit object: big enough for an import of 10,000 records' trailers. */
#define VL_RECEIVE_MAX_COMMIT ((size_t)4 << 20)

/* What happened to the config branch in one receive. */
typedef enum {
	VL_CONFIG_UNCHANGED = 0,  /* the source's config is ours */
	VL_CONFIG_UPDATED,        /* fast-forwarded to the source's */
	VL_CONFIG_OURS_NEWER,     /* the source's is an ancestor of ours */
} vl_config_state;

typedef struct {
	vl_config_state config;
	size_t config_commits;    /* new config commits taken */
	git_oid config_head;      /* our config head afterwards */
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

typedef struct {
	int merge;                /* merge received branches into ours (default 1) */
	vl_progress progress;
} vl_receive_opts;
#define VL_RECEIVE_OPTS_INIT { 1, { NULL, NULL } }

/*
 * The one entry point for everything received, from any source
 * (sync/source.h): first the config branch (a fast-forward whose every
 * commit is signed by an admin the parent's roster allows, the first by a
 * pinned root key), then, with the roster and schemas it brings, every
 * scope branch this node may read (vl_receive_scopes). opts NULL =
 * defaults. out is zeroed at entry and freed by the caller with
 * vl_receive_result_free, also after a failure.
 * Returns 0 when the receive ran (refused branches are counted in out, and
 * said in out->report); VL_ECONFLICT when the source's config does not
 * extend ours; VL_EBADSIG / VL_EDENIED when its config is refused (nothing
 * changed); other codes when it could not run.
 */
int vl_receive(vl_node *n, vl_source *src, const vl_receive_opts *opts, vl_receive_result *out) VL_MUST_CHECK;

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
