/*
 * receive.h - the one path by which data enters a node (docs/formats.md §7.5), from
 * any source (sync/source.h): the config branch and every scope branch this
 * node may read land in ONE quarantine object directory (with the node's
 * objects as a read-only alternate), pass ONE set of checks there
 * (audit/verify.h: signatures, the config rules of node/roster.h,
 * authorisation, paths, modes, canonical records, schemas, merge replays,
 * chains, clocks, caps), and what was accepted is promoted as ONE pack;
 * then refs move by compare-and-swap and received branches are merged. A
 * bad config refuses everything; one bad object refuses its whole branch.
 * Nothing the node held changes, except that a key caught signing two
 * histories leaves both signed commits under refs/evidence/ (each checked
 * like any received commit) for people to see.
 */
#ifndef VL_RECEIVE_H
#define VL_RECEIVE_H

#include "store/limits.h"
#include "agent/node/node.h"
#include "agent/ops/ops.h"
#include "agent/sync/source.h"

/* Caps on what one receive takes: store/limits.h. */

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
 * The one entry point for everything received, from any source: in one
 * quarantine, first the config branch (a fast-forward of ours whose head
 * names the network this node's network.yaml pins, every commit passing
 * the config rules), then, with the roster and schemas it brings, every
 * scope branch this node may read, then the evidence the source offers;
 * what passed is promoted as one pack, the config ref moves, evidence refs
 * are created, the peer's heads are recorded under refs/peers/<peer>/ (the
 * peer: the source's authenticated key, else the signer of the newest
 * signed commit received, else none), and with opts->merge each branch is
 * merged into ours (fast-forward when possible) and moved by
 * compare-and-swap. opts NULL = defaults. out is zeroed at entry and freed
 * by the caller with vl_receive_result_free, also after a failure.
 * Returns 0 when the receive ran (refused branches are counted in out, and
 * said in out->report); VL_ECONFLICT when the source's config does not
 * extend ours; VL_EBADSIG when its config fails verification (said in out->report;
 * nothing changed); VL_ENOTFOUND when the source has no config; other codes
 * when it could not run (nothing changed before promotion).
 */
int vl_receive(vl_node *n, vl_source *src, const vl_receive_opts *opts, vl_receive_result *out) VL_MUST_CHECK;

#endif
