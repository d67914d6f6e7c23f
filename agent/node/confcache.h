/*
 * confcache.h - the config cache in <home>/cache/config.cache, behind the
 * lazy config of vl_node_load_config_lazy (node.h).
 *
 * What it says: "this vledger binary loaded the whole config tree T (every
 * schema under schemas/, network.yaml, roster.yaml) without an error, and
 * schemas/FILE names ledger LEDGER". It is written after such a full load
 * and read by a lazy load of a config commit whose tree is T, which then
 * parses only the schemas it uses and still fails, as a full load would,
 * on a config that has an error anywhere: a tree with an error never gets
 * a cache, so every load of it is full and reports the error where it did.
 * It also says whether roster.yaml was read by the canonical reader with
 * its re-emission proof (the same bytes then read the same way without it).
 *
 * Derived and rebuildable: keyed by the config tree id and by this binary
 * (its device, inode, size and modification time: a rebuilt or upgraded
 * vledger, whose schema rules may differ, does not read an older one's
 * cache). A file that is short, too big, of another format, for another
 * tree or binary, or whose checksum does not match is ignored (and
 * rewritten by the next full load). A schema loaded through it is read
 * from the repository and must name the ledger the cache says (else the
 * caller loads the whole config). The checksum catches damage, not a
 * person who can write cache/: that person can write repo.git beside it
 * too (docs/threats.md). `vledger verify` never reads it.
 */
#ifndef VL_CONFCACHE_H
#define VL_CONFCACHE_H

#include <git2.h>
#include <stddef.h>

#include "store/error.h"

#define VL_CONFCACHE_FILE "cache/config.cache"
/* Caps on what is read: the file is a file on disk. */
#define VL_CONFCACHE_MAX_BYTES ((size_t)64 << 10)
#define VL_CONFCACHE_MAX_SCHEMAS 1024

/* The schemas of one config tree, in tree order. Owned strings. */
typedef struct {
	int roster_canonical; /* roster.yaml passed vl_yaml_load's canonical
			       * proof (store/yaml.h vl_yaml_load_how) */
	size_t n;
	char **file;   /* entry name under schemas/ */
	char **ledger; /* the ledger that schema names */
} vl_confcache;

void vl_confcache_free(vl_confcache *c);

/*
 * Read home's cache for config tree `tree`: 0 and *out filled when it is
 * there, well formed and for this tree and this binary; VL_ENOTFOUND
 * (no error message kept) otherwise; VL_ENOMEM.
 */
int vl_confcache_load(vl_confcache *out, const char *home, const git_oid *tree) VL_MUST_CHECK;

/*
 * Write home's cache for tree after a full load without an error: file[i]
 * and ledger[i] for the n schemas in tree order. Best effort, atomic: a
 * cache that cannot be written (a read-only home, a name that cannot be
 * written on one line) only costs speed; the error state is left as it was.
 */
void vl_confcache_save(const char *home, const git_oid *tree, int roster_canonical, const char *const *file,
		const char *const *ledger, size_t n);

#endif
