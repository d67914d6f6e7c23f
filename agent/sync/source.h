/*
 * source.h - where received data comes from. A source offers refs and the
 * objects they reach; vl_receive (sync/receive.h) is the one path by which
 * a source's data enters a node, whatever the transport. Today: another
 * node's repository on disk (a path or file:// URL: a laptop's home on a
 * USB stick, a mounted share). The network peer, bundles and git remotes
 * add sources, not receive paths.
 */
#ifndef VL_SOURCE_H
#define VL_SOURCE_H

#include <git2.h>

typedef struct vl_source vl_source;

/*
 * Open another node's repo.git at `path` (or "file://path") read-only.
 * VL_ENOTFOUND when it is not a git repository. Caller frees with
 * vl_source_free.
 */
int vl_source_open_path(vl_source **out, const char *path);
void vl_source_free(vl_source *s);

/* The repository holding the source's refs and objects (borrowed; valid
 * while s lives). */
git_repository *vl_source_repo(const vl_source *s);
/* How to name the source to a person ("'/media/usb/repo.git'"; borrowed). */
const char *vl_source_label(const vl_source *s);
/* The path a path source was opened at, or NULL (borrowed). */
const char *vl_source_path(const vl_source *s);

#endif
