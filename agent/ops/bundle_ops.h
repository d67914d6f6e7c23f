/*
 * bundle_ops.h - operations on USB bundles (ops.h conventions; the format:
 * agent/sync/bundle.h, sealing: agent/sync/seal.h).
 *
 * bundle create: a git bundle (v2) of what a peer may read: the config
 * branch and the scope branches its roster scope covers. For a roster peer
 * (--for) the heads last received from it (refs/peers/<peer>/scope/<code>,
 * when ours descends from them) are the prerequisites, so the bundle holds
 * only what it has not acknowledged; --full, --scope or no peer: everything.
 * The config branch always goes whole (nothing records which config a peer
 * holds). Optionally sealed to one roster key.
 *
 * bundle apply: each bundle through vl_receive (the one receive path), as
 * a bundle source; a directory: every *.bundle there meant for this node,
 * in name order, each reported.
 */
#ifndef VL_OPS_BUNDLE_H
#define VL_OPS_BUNDLE_H

#include "agent/node/node.h"
#include "agent/ops/ops.h"
#include "agent/sync/bundle.h"
#include "agent/sync/receive.h"

/* ---- bundle create ------------------------------------------------------- */

typedef struct {
	const char *path;      /* a file to create, or an existing directory (the file
	                        * is named "vledger-<from>-to-<for>-<UTC time>.bundle") */
	const char *for_peer;  /* a roster name or fingerprint (NULL: none) */
	const char *scope;     /* CODE12 whose reading to bundle (NULL: for_peer's, else this node's) */
	int full;              /* no prerequisites */
	const char *seal_to;   /* a roster name or fingerprint to seal to (NULL: plain) */
	vl_progress progress;  /* stage "bundle" */
} vl_bundle_create_opts;
#define VL_BUNDLE_CREATE_OPTS_INIT { NULL, NULL, NULL, 0, NULL, { NULL, NULL } }

typedef struct {
	char *path;                /* the file written; owned */
	char scope[13];            /* whose reading it holds */
	size_t refs, prereqs, objects, bytes;
	char sealed_to[VL_FP_LEN]; /* "" when plain */
} vl_bundle_create_result;

void vl_bundle_create_result_free(vl_bundle_create_result *r);

/*
 * Write the bundle. VL_EINVALID for options that contradict (--for with
 * --scope) or a bad scope; VL_ENOTFOUND when a peer or seal recipient is not
 * on the roster, or this node has no config; VL_EDENIED when the peer's or
 * recipient's key is revoked; VL_EEXISTS when the file exists. Only reads
 * the node; needs no secret key.
 */
int vl_bundle_create(vl_node *n, const vl_bundle_create_opts *opts, vl_bundle_create_result *out) VL_MUST_CHECK;

/* ---- bundle apply -------------------------------------------------------- */

typedef struct {
	const char *path;      /* a bundle file, or a directory of *.bundle files */
	int merge;             /* merge received branches (default 1) */
	vl_progress progress;  /* stage "bundle": done of total bundles */
} vl_bundle_apply_opts;
#define VL_BUNDLE_APPLY_OPTS_INIT { NULL, 1, { NULL, NULL } }

/* One bundle looked at. */
typedef struct {
	char *file;                /* its path; owned */
	int skipped;               /* not meant for this node (message says why) */
	int rc;                    /* 0, or the code it failed with */
	char *message;             /* why it failed or was skipped; owned, NULL otherwise */
	vl_bundle_info info;       /* what opening it saw */
	vl_receive_result receive; /* what the receive did (when it ran) */
	int received;              /* the receive ran */
} vl_bundle_applied;

typedef struct {
	vl_bundle_applied *items;
	size_t n;
} vl_bundle_apply_result;

void vl_bundle_apply_result_free(vl_bundle_apply_result *r);

/*
 * Apply one bundle file, or every bundle in a directory meant for this node
 * (sealed to its key, or plain and not named for another node's key).
 * Returns 0 when every bundle looked at was applied (refused branches are
 * in each receive result) or skipped; else the code of the first that
 * failed (each item has its own code and message). A failed bundle
 * changes nothing. A sealed bundle needs n opened with its secret key.
 */
int vl_bundle_apply(vl_node *n, const vl_bundle_apply_opts *opts, vl_bundle_apply_result *out) VL_MUST_CHECK;

/* 1 when path is a bundle sealed to fingerprint fp, or a directory holding
 * one (so the caller opens the node with its secret key, asking for its
 * passphrase only then), 0 otherwise (also when path cannot be read:
 * vl_bundle_apply says why). */
int vl_bundle_apply_needs_key(const char *path, const char *fp);

#endif
