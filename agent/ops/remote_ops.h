/*
 * remote_ops.h - git remotes as sources and hubs (issue 10; ops.h
 * conventions; docs/formats.md §8.5).
 *
 * A git remote is any git server libgit2 reaches: file://, ssh://,
 * https://, http://, git:// URLs, scp-like [user@]host:path, or an absolute
 * path. Remotes are named in <home>/remotes.yaml (never in repo.git's git
 * config, which stock git tools and a remote's config could touch):
 *
 *     remotes:
 *       hub: git://127.0.0.1:9418/hub.git
 *
 * sync / pull NAME: the refs this node may read (refs/heads/config, the
 * scope branches its scope covers, the refs under refs/evidence/) are fetched into a
 * TEMPORARY bare repository under <home>/cache/remote-XXXXXX (capped in
 * bytes and objects while it downloads; the pack is spooled there and put
 * through the pack check and indexer of bundles and the network,
 * vl_pack_index_file, never through libgit2's own indexer, which believes
 * the sizes a hostile pack declares), which is then offered to vl_receive
 * as a path source: the one receive path verifies, promotes and merges. A
 * remote on this machine (an absolute path, file://) is offered to receive
 * as a path source itself (its packs read through store/packread.h), not
 * fetched: libgit2's local transport would build a pack from its objects
 * with libgit2's own reader.
 * Nothing the remote sends is written to a ref of repo.git before that;
 * the temporary repository is removed whatever happens. A remote whose
 * branch was rewritten (force-pushed) is refused by receive like any other
 * source.
 *
 * sync also pushes (never forced): refs/heads/config and every scope
 * branch this node holds, where the remote's head is missing or an
 * ancestor of ours, so a hub is the union of what its nodes hold (a county
 * syncing keeps a full copy there; a village puts its own branch there). A
 * branch whose remote head we do not hold or that is not an ancestor of
 * ours (history we refused, or that moved meanwhile) is not pushed and
 * reported; a server's refusal (non-fast-forward) is reported, never
 * retried with force.
 */
#ifndef VL_OPS_REMOTE_H
#define VL_OPS_REMOTE_H

#include "agent/node/node.h"
#include "agent/ops/ops.h"
#include "agent/sync/receive.h"

/* Caps on the remotes file and on what it holds. */
#define VL_REMOTES_FILE_MAX ((size_t)64 * 1024)
#define VL_REMOTES_MAX 64
#define VL_REMOTE_NAME_MAX 64
#define VL_REMOTE_URL_MAX 1024
/* Refs a remote may advertise (all of them, before filtering). */
#define VL_REMOTE_MAX_REFS VL_SOURCE_MAX_REFS

/* One named remote. */
typedef struct {
	char *name;  /* owned */
	char *url;   /* owned */
} vl_remote;

typedef struct {
	vl_remote *items;
	size_t n;
} vl_remote_list_result;

void vl_remote_list_result_free(vl_remote_list_result *r);

/*
 * Is name a valid remote name: 1-64 of [a-z0-9._-], starting with a letter
 * or digit, not "." / ".."? 0 when it is, else VL_EINVALID with what to do.
 * (So a name can never be mistaken for a path or URL.)
 */
int vl_remote_name_check(const char *name) VL_MUST_CHECK;
/*
 * Is url a remote URL vledger takes: at most VL_REMOTE_URL_MAX bytes of
 * printable ASCII without spaces; file://, ssh://, git://, http://,
 * https:// with a host (file:// a path), scp-like [user@]host:path, or an
 * absolute path? 0, else VL_EINVALID saying what to give. A password in
 * the URL is refused (it would sit in a file in clear).
 */
int vl_remote_url_check(const char *url) VL_MUST_CHECK;
/*
 * Parse the text of a remotes file (src names it in messages): every name
 * and URL checked, at most VL_REMOTES_MAX, within VL_REMOTES_FILE_MAX.
 * out is zeroed first; the caller frees it with vl_remote_list_result_free.
 */
int vl_remote_parse(vl_remote_list_result *out, const char *text, size_t len, const char *src) VL_MUST_CHECK;

/* ---- remote add / remove / list ------------------------------------------ */

typedef struct {
	const char *name;
	const char *url;   /* add only */
} vl_remote_opts;
#define VL_REMOTE_OPTS_INIT { NULL, NULL }

/* The remotes of this node, in name order (out: the list). */
int vl_remote_list(vl_node *n, const vl_remote_opts *opts, vl_remote_list_result *out) VL_MUST_CHECK;
/* Add a remote: VL_EEXISTS when the name is taken, VL_EINVALID for a bad
 * name or URL, VL_ETOOBIG with VL_REMOTES_MAX remotes. out: the list after. */
int vl_remote_add(vl_node *n, const vl_remote_opts *opts, vl_remote_list_result *out) VL_MUST_CHECK;
/* Remove a remote: VL_ENOTFOUND when there is none of that name. */
int vl_remote_remove(vl_node *n, const vl_remote_opts *opts, vl_remote_list_result *out) VL_MUST_CHECK;

/*
 * Is name one of this node's git remotes? 1 yes, 0 no (also for a name
 * that is not a valid remote name), a negative code when the remotes file
 * cannot be read or is invalid (the message says why). The dispatch of
 * `vledger sync NAME` / `pull NAME`: a git remote goes to vl_remote_sync,
 * anything else to the network peers (issue 9).
 */
int vl_remote_is(vl_node *n, const char *name) VL_MUST_CHECK;

/* ---- sync / pull with a git remote --------------------------------------- */

typedef struct {
	const char *name;      /* a remote of remotes.yaml */
	int push;              /* after receiving, push what the remote should hold (sync) */
	int merge;             /* merge received branches (default 1) */
	vl_progress progress;  /* stages "fetch" (bytes), then receive's, then "push" */
} vl_remote_sync_opts;
#define VL_REMOTE_SYNC_OPTS_INIT { NULL, 0, 1, { NULL, NULL } }

/* What became of one branch offered for a push. */
typedef enum {
	VL_PUSH_UPTODATE = 0,  /* the remote has our head */
	VL_PUSH_DONE,          /* pushed (created or fast-forwarded) */
	VL_PUSH_SKIPPED,       /* the remote's head is not in our history: not pushed */
	VL_PUSH_REJECTED,      /* the server refused it (message says why) */
} vl_push_state;

typedef struct {
	char *ref;             /* full ref name; owned */
	vl_push_state state;
	char *message;         /* the server's or our reason (SKIPPED, REJECTED); owned */
} vl_push_item;

typedef struct {
	char *url;                 /* owned */
	size_t remote_refs;        /* refs the remote advertised */
	size_t fetched_refs;       /* of them, refs this node may read */
	size_t received_bytes;     /* bytes downloaded */
	size_t received_objects;
	int received;              /* receive ran */
	vl_receive_result receive;
	int pushed;                /* the push step ran */
	vl_push_item *push;
	size_t npush;
} vl_remote_sync_result;

void vl_remote_sync_result_free(vl_remote_sync_result *r);

/*
 * Fetch from remote opts->name into a temporary repository, receive it
 * (receive.h), and with opts->push push back (see the top of this file).
 * Returns 0 when the receive ran and every push step ended UPTODATE or
 * DONE (refused branches are counted in out->receive); VL_ECONFLICT when a
 * branch was skipped or rejected by the server (each item says why);
 * VL_ENOTFOUND for an unknown remote; VL_ETOOBIG when the remote offers
 * more refs, bytes or objects than the caps, or its pack an object, delta
 * or total over them (VL_EINVALID when the pack is malformed or builds on
 * objects this node lacks: "sent a pack that was refused"); VL_ERROR when the server
 * cannot be reached or the transfer breaks off (nothing changed). Any
 * other code of vl_receive as it says. Needs n opened without its secret
 * key (receive and push never sign).
 */
int vl_remote_sync(vl_node *n, const vl_remote_sync_opts *opts, vl_remote_sync_result *out) VL_MUST_CHECK;

#endif
