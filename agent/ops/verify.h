/*
 * verify.h - operations that check a node's history (ops.h conventions):
 * verify (the checks of agent/audit/verify.h over the whole repository or
 * one branch) and incidents (equivocation evidence kept under
 * refs/evidence/).
 */
#ifndef VL_OPS_VERIFY_H
#define VL_OPS_VERIFY_H

#include <stdio.h>
#include "agent/audit/verify.h"
#include "agent/node/node.h"
#include "agent/ops/ops.h"

/* ---- verify -------------------------------------------------------------- */

typedef struct {
	const char *scope;     /* one scope branch (NULL: all branches, unless since) */
	const char *since;     /* only commits after this revision (NULL: all) */
	/* Where audit/verify.c writes its progress line (a terminal), NULL for
	 * none. A stream until audit/verify.c reports through a vl_progress. */
	FILE *progress_file;
	vl_progress progress;  /* stage "verify" at start and end */
	unsigned threads;      /* vl_verify_result.threads (0: the default) */
} vl_verify_opts;
#define VL_VERIFY_OPTS_INIT { NULL, NULL, NULL, { NULL, NULL }, 0 }

/*
 * Verify the node's history (vl_verify_some; both NULL: vl_verify_all).
 * The result is audit/verify.h's vl_verify_result, freed with
 * vl_verify_result_free: failures are counted there and said one per line
 * in its report; 0 is returned even when there are failures (<0 only when
 * verification could not run).
 */
int vl_verify(vl_node *n, const vl_verify_opts *opts, vl_verify_result *out) VL_MUST_CHECK;

/* ---- incidents ----------------------------------------------------------- */

typedef struct {
	vl_progress progress;
} vl_incidents_opts;
#define VL_INCIDENTS_OPTS_INIT { { NULL, NULL } }

/* One commit kept as evidence: a key signed it and another commit at the
 * same Vledger-Seq. */
typedef struct {
	char fp[VL_FP_LEN];              /* signer, or "(bad signature)" */
	const vl_roster_entry *signer;   /* fp's roster entry (borrowed from the node) or NULL */
	unsigned long long seq;          /* its Vledger-Seq (0 if none) */
	git_oid commit;
	long long time;                  /* committer time, seconds since the epoch */
	char *summary;                   /* the commit's first line; owned */
} vl_incident;

typedef struct {
	vl_incident *items;              /* by key, then seq, then commit id: the
	                                  * commits of one pair are neighbours */
	size_t n;
} vl_incidents_result;

void vl_incidents_result_free(vl_incidents_result *r);

int vl_incidents(vl_node *n, const vl_incidents_opts *opts, vl_incidents_result *out) VL_MUST_CHECK;

#endif
