/*
 * reveal.h - the log of every --reveal (docs/formats.md §2, "log/").
 *
 * Every command that shows personal fields in clear (export --reveal, show,
 * list, history, blame, conflicts, audit export and reports with --reveal)
 * first appends one JSON line to <home>/log/reveal.log saying who (this
 * node's key fingerprint and name), when (UTC), which command, ledger and
 * scope, and which records (ids, or a count when there are many). Never a
 * value. The append is O_APPEND and fsynced before the data is shown; when
 * it fails the reveal is refused, so no clear text leaves unlogged.
 * The log is local (not synced): it answers "who looked" on this machine.
 */
#ifndef VL_NODE_REVEAL_H
#define VL_NODE_REVEAL_H

#include <stddef.h>

#include "agent/node/node.h"

/* Ids listed in one line at most; past it only the count is written. */
#define VL_REVEAL_MAX_IDS 100

typedef struct {
	const char *command;        /* "export", "show", ... (static text) */
	const char *ledger;         /* NULL: several or not one ledger */
	const char *scope;          /* NULL: the node's own or not one scope */
	const char *const *ids;     /* the records shown, borrowed; may be NULL */
	size_t nids;
	size_t count;               /* records shown (>= nids) */
} vl_reveal_entry;

/*
 * Append e as one line to <home>/log/reveal.log (created 0600, its
 * directory 0700), fsynced. Errors: VL_ERROR (the log cannot be written:
 * the message says the reveal is refused and why), VL_ENOMEM.
 */
int vl_reveal_log(const vl_node *n, const vl_reveal_entry *e) VL_MUST_CHECK;

#endif
