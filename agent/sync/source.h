/*
 * source.h - where received data comes from. A source offers refs and the
 * objects they reach; vl_receive (sync/receive.h) is the one path by which
 * a source's data enters a node, whatever the transport. A transport adds a
 * source (a struct vl_source with its vl_source_ops), never a receive path.
 * Today: another node's repository on disk (a path or file:// URL: a
 * laptop's home on a USB stick, a mounted share). Next: the network peer
 * (a pack stream after a handshake), bundles, git remotes.
 *
 * The contract every source keeps (receive relies on it, and checks
 * everything else itself):
 *   - Nothing it offers is trusted: refs may name anything, objects may be
 *     missing, truncated, corrupt or huge. Receive reads every object's
 *     type and size from its header first, copies what it takes into its
 *     own quarantine, and verifies there.
 *   - Every call ends in bounded time and memory, whatever the source's
 *     bytes are: a source never opens anything but regular files (no FIFOs,
 *     devices or sockets: opened O_NONBLOCK, then checked with fstat), never
 *     follows what the source's own files name (git config [include],
 *     objects/info/alternates, symbolic refs, symlinks), and caps what it
 *     reads (a truncated or corrupt object is an error, never a loop).
 *   - Its identity is what a handshake proved, or none: a source never
 *     names itself from a file it holds (keys/node.pub of a path is just
 *     bytes a rogue chose).
 * One thread at a time per source.
 */
#ifndef VL_SOURCE_H
#define VL_SOURCE_H

#include <git2.h>

#include "store/limits.h"
#include "store/buf.h"

typedef struct vl_source vl_source;

/* Called for each ref a source offers: a full name ("refs/heads/config")
 * and the object it points at, both borrowed for the call. <0 stops the
 * listing with that code. */
typedef int (*vl_source_ref_cb)(const char *name, const git_oid *target, void *ctx);

typedef struct {
	/* Call fn for every direct ref the source offers, in any order, each
	 * name once. Symbolic refs are not offered. */
	int (*list_refs)(vl_source *s, vl_source_ref_cb fn, void *ctx);
	/* A read-only object database holding what the listed refs reach
	 * (objects may still be missing: receive refuses then), borrowed,
	 * valid while s lives. A path source reads the repository's objects in
	 * place; a stream source indexes what it received into a pack of its
	 * own (capped) and offers that. */
	int (*objects)(vl_source *s, git_odb **out);
	/* The public key the source authenticated as (a handshake), into pk;
	 * VL_ENOTFOUND when it did not authenticate (a path). */
	int (*peer_key)(vl_source *s, unsigned char pk[32]);
	void (*free)(vl_source *s);
} vl_source_ops;

/* Embedded first in each source's own struct. */
struct vl_source {
	const vl_source_ops *ops;
	vl_buf label;  /* how to name the source to a person, e.g. "'/media/usb/repo.git'" */
};

/*
 * Open another node's repo.git at `path` (or "file://path") read-only,
 * without reading its git config, alternates or symbolic refs. VL_ENOTFOUND
 * when it is not a git repository; VL_EINVALID when one of its pack files is
 * not a regular file. Caller frees with vl_source_free.
 */
int vl_source_open_path(vl_source **out, const char *path) VL_MUST_CHECK;
void vl_source_free(vl_source *s);

/* The operations, through s->ops. */
int vl_source_list_refs(vl_source *s, vl_source_ref_cb fn, void *ctx) VL_MUST_CHECK;
int vl_source_objects(vl_source *s, git_odb **out) VL_MUST_CHECK;
int vl_source_peer_key(vl_source *s, unsigned char pk[32]) VL_MUST_CHECK;
/* How to name the source to a person (borrowed). */
const char *vl_source_label(const vl_source *s);

/* Caps of the path source: store/limits.h. */

#endif
