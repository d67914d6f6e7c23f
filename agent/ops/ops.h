/*
 * ops.h - conventions of the operations layer.
 *
 * Everything a user can do is an operation: a library function that the
 * command line, the network server, bundle import and a local web UI all
 * call. Each has the shape
 *
 *     int vl_<op>(vl_node *n, const vl_<op>_opts *opts, vl_<op>_result *out);
 *
 * - opts is a struct initialised with VL_<OP>_OPTS_INIT (NULL = defaults);
 * - out is zeroed by the operation at entry, filled as it goes and freed by
 *   the caller with vl_<op>_result_free (also after a failure: a failed
 *   operation may still say what it saw);
 * - the return is 0 or a negative VL_E* code with the message in the
 *   thread-local last error (store/error.h);
 * - an operation never prints, never reads standard input, never exits and
 *   never calls a command; it reports progress through the callback below;
 * - commands (agent/cmd/) parse arguments, call ONE operation, print its
 *   result as text or --json and map the code to an exit code.
 *
 * Personal data: results hold record values in clear, as they are signed.
 * Masking personal fields (schema `pii: true`) is a display decision made
 * by whoever shows a result: the CLI masks unless --reveal (vl_schema_mask,
 * vl_audit_mask_value), and so must a server or web UI before a value
 * leaves it. One rule for every result, like audit.h's, so no operation
 * needs a `reveal` option and none returns half-masked data.
 */
#ifndef VL_OPS_H
#define VL_OPS_H

#include <stddef.h>

/*
 * Progress of a long operation: `stage` names the step ("config",
 * "verify", "merge", "import", ...; static English text marked N_() at the
 * call, so a listener may use it as an id and one that shows it translates
 * it with vl_tr(stage)), `done` of `total` units
 * (total 0 = unknown). Called from the operation's thread; must not call
 * back into the operation.
 */
typedef void (*vl_progress_fn)(void *ctx, const char *stage, size_t done, size_t total);

typedef struct {
	vl_progress_fn fn;  /* NULL: no progress */
	void *ctx;
} vl_progress;

/* Report progress if anyone listens. */
static inline void vl_progress_report(const vl_progress *p, const char *stage, size_t done, size_t total)
{
	if (p && p->fn)
		p->fn(p->ctx, stage, done, total);
}

#endif
