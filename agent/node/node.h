/*
 * node.h - a node home on disk (docs/formats.md §2) and the config branch it
 * follows (network.yaml, roster.yaml, schemas/).
 *
 *   <home>/node.yaml  keys/node.key keys/node.pub  repo.git/  hooks/
 *   cache/  log/  clock
 *
 * A vl_node owns its open repository, its key (wiped on close), its clock
 * and the config it loaded. One thread at a time.
 */
#ifndef VL_NODE_H
#define VL_NODE_H

#include <git2.h>
#include "store/buf.h"
#include "store/hlc.h"
#include "store/record.h"
#include "store/repo.h"
#include "schemas/schema.h"
#include "store/sshsig.h"
#include "store/value.h"

/* Roles of docs/formats.md §7. */
#define VL_ROLES "village, township, county, auditor, admin"

typedef struct {
	char fp[VL_FP_LEN];
	unsigned char pk[32];
	const char *name;       /* borrowed from the roster tree */
	const char *role;
	const char *scope;
	const char *valid_from;
	const char *revoked_at; /* NULL when not revoked */
	/* With revoked_at, optionally: "scope/<code>" -> the id of the newest
	 * commit the key had signed on that branch as the revoking admin saw
	 * it (roster.h, "Revocation pins"); a MAP borrowed from the roster
	 * tree, or NULL. */
	const vl_value *revoked_heads;
} vl_roster_entry;

typedef struct {
	char *home;
	char *name;
	char *role;
	char scope[13];
	char *network_id;
	/* The operator name vl_node_commit writes in a Vledger-Operator
	 * trailer, or NULL: node.yaml's `operator`, replaced by
	 * $VLEDGER_OPERATOR when set (vl_node_open) and by
	 * vl_node_set_operator. A claim of the key holder, not an identity. */
	char *operator_name;
	vl_key key;
	int have_key;
	int write_lock;          /* fd holding <home>/lock, or -1 (vl_node_lock_write) */
	char fp[VL_FP_LEN];
	git_repository *repo;   /* the node's own repository; never swapped */
	vl_hlc clock;
	/* config branch, loaded by vl_node_load_config: config_loaded when
	 * all of it is (schemas and nschemas set); config_lazy when
	 * vl_node_load_config_lazy loaded network and roster and the schemas
	 * load one by one on first use (vl_node_schema), schemas NULL (after
	 * vl_node_load_config_names the roster may be unparsed too: roster
	 * and entries empty) */
	int config_loaded;
	int config_lazy;
	git_oid config_commit;  /* the config commit loaded (either way) */
	struct vl_config_lazy *lazy; /* owned; NULL unless it was loaded lazily */
	vl_value *network;
	int tz_min;             /* network.yaml `timezone`, minutes east of UTC (tz.h); default +08:00 */
	vl_value *roster;
	vl_roster_entry *entries;
	size_t nentries;
	vl_schema **schemas;
	size_t nschemas;
	/* the record id index (idindex.h), loaded on first use; owned */
	struct vl_idindex *idindex;
} vl_node;

/*
 * A read view: the repository a function reads objects (and refs) from,
 * passed explicitly instead of the node's. Received data is read through a
 * quarantine view: `repo` sees the node's objects plus the received ones,
 * which live as packs in the objects directory `quarantine_objects` until
 * they are promoted; a function that layers its own object store over the
 * view (a merge replay, a verify thread) adds both with
 * vl_view_add_objects. Borrowed fields.
 */
typedef struct {
	git_repository *repo;
	const char *quarantine_objects; /* NULL: the node's own repository */
	/* NULL, or the node's packs opened for direct reads of whole blobs
	 * (packread.h): the same objects as repo's, read without libgit2 when
	 * they are stored whole (verify) */
	const struct vl_packset *packs;
} vl_view;

/* The view of a node's own repository. */
#define VL_VIEW_OF(node) ((vl_view){ (node)->repo, NULL, NULL })

/*
 * Add the objects view v reads to odb, read-only: the quarantine's packs
 * (a pack backend only: the quarantine holds no loose objects, and a loose
 * backend would cost an access() for every object looked up in it), then
 * the node's objects directory `objects` (loose and packed).
 */
int vl_view_add_objects(git_odb *odb, const vl_view *v, const char *objects) VL_MUST_CHECK;

/* Which home: dir if given, else $VLEDGER_HOME, else
 * ~/.local/share/vledger. Caller frees. */
char *vl_node_home_path(const char *dir);

/*
 * Open a node home. need_key: 1 loads the secret key (when it is sealed,
 * the passphrase comes from passphrase_file, else $VLEDGER_PASSPHRASE_FILE,
 * else a prompt without echo when stdin is a terminal, else VL_EDENIED
 * saying how to give it), 0 only the public key. VL_ENOTFOUND when there is no node
 * at home ("run 'vledger init' first").
 */
int vl_node_open(vl_node **out, const char *home, int need_key, const char *passphrase_file) VL_MUST_CHECK;
void vl_node_close(vl_node *n);

/* Load network, roster and schemas from the head of the config branch.
 * VL_ENOTFOUND if this node has no config yet. After a lazy load it loads
 * the schemas not loaded yet from the same config commit (pointers handed
 * out before stay valid). */
int vl_node_load_config(vl_node *n) VL_MUST_CHECK;
/*
 * The same config and the same errors as vl_node_load_config, for a
 * caller that reaches schemas only through vl_node_schema /
 * vl_node_schema_get and vl_node_ledger_count / vl_node_ledger_name (never
 * n->schemas): when <home>/cache/config.cache (confcache.h) says this
 * binary loaded the head's config tree whole without an error, it loads
 * network.yaml and roster.yaml now and each schema on first use; else it
 * loads everything, as vl_node_load_config does, and writes that cache.
 * Every later load of the session (vl_node_load_config, a lazy schema)
 * reads the same config commit.
 */
int vl_node_load_config_lazy(vl_node *n) VL_MUST_CHECK;
/*
 * vl_node_load_config_lazy for a caller that writes nothing and reads the
 * roster only through vl_node_roster_name (show): when the cache is used,
 * roster.yaml is not parsed either, and until vl_node_load_config (which
 * loads it, from the same config commit) n->roster and n->entries stay
 * empty, so vl_node_roster_find finds no one. Without a usable cache it is
 * vl_node_load_config_lazy.
 */
int vl_node_load_config_names(vl_node *n) VL_MUST_CHECK;
/*
 * Load network, roster and schemas from config commit `head` read through
 * `repo` (a quarantine view while received config is verified), replacing
 * any config loaded. On failure nothing stays loaded (reload the node's own
 * with vl_node_reload_config).
 */
int vl_node_load_config_at(vl_node *n, git_repository *repo, const git_oid *head) VL_MUST_CHECK;
/* Drop the loaded config and load it again from the head of the config
 * branch (after the branch moved, e.g. a received config). */
int vl_node_reload_config(vl_node *n) VL_MUST_CHECK;
/* Schema by ledger name (borrowed), NULL if none. On a lazily loaded
 * config it parses that schema on first use: NULL with the error set when
 * it cannot (vl_node_schema_get tells the two apart). */
const vl_schema *vl_node_schema(const vl_node *n, const char *name);
/* Schema by ledger name (borrowed) into *out: VL_ENOTFOUND if there is no
 * such ledger, another error if its schema cannot be loaded. */
int vl_node_schema_get(const vl_schema **out, vl_node *n, const char *name) VL_MUST_CHECK;
/* The ledgers of the loaded config (full or lazy), in the config tree's
 * order: how many, and the name of the i-th (borrowed). */
size_t vl_node_ledger_count(const vl_node *n);
const char *vl_node_ledger_name(const vl_node *n, size_t i);
/* Roster entry by fingerprint (borrowed), NULL if none. */
const vl_roster_entry *vl_node_roster_find(const vl_node *n, const char *fp);
/*
 * The roster name of key fp: *out the name (caller frees), or NULL when fp
 * is not on the roster; for a config loaded any way. After
 * vl_node_load_config_names it reads the one entry from roster.yaml
 * (roster.h vl_roster_entry_name), else the whole roster, which it then
 * keeps. Errors: reading or parsing the roster (what a full load says),
 * VL_ENOMEM.
 */
int vl_node_roster_name(char **out, vl_node *n, const char *fp) VL_MUST_CHECK;

/*
 * Was a write at `write_ms` (UTC ms) dated before key e joined the roster
 * (its valid_from), beyond a day of allowed clock skew? 1 yes, 0 no (also
 * when valid_from is missing or does not parse).
 */
#define VL_VALID_FROM_SKEW_MS ((uint64_t)24 * 3600 * 1000)
int vl_roster_predates(const vl_roster_entry *e, uint64_t write_ms);
/* A roster time (RFC 3339 UTC "YYYY-MM-DDTHH:MM:SS[.fff]Z", valid_from or
 * revoked_at) in UTC ms; -1 if t is NULL or does not parse. */
int vl_roster_time_ms(const char *t, uint64_t *ms);

/*
 * Take this node's write lock (<home>/lock, a POSIX record lock held until
 * vl_node_close): one writer at a time per node home. Every write (a local
 * commit, the clock, a receive, a merge) takes it first; taking it again is
 * a no-op. The kernel drops the lock when its process dies, so whoever
 * holds it knows that ref '*.lock' files left in repo.git are stale (a
 * process killed inside a ref update) and removes them. VL_ECONFLICT when
 * another process writes to this node now ("try again when it is done").
 */
int vl_node_lock_write(vl_node *n) VL_MUST_CHECK;

/*
 * Point repo's HEAD where `git clone` of the node finds files: the node's
 * own scope branch refs/heads/scope/<scope> when it exists, else
 * refs/heads/config when that exists, else the scope branch (unborn, as
 * at init). Writes HEAD only when it differs. Called at init and, by
 * vl_node_close, after every session that held the write lock (a
 * received or first-written branch); best effort there.
 */
int vl_node_head_follow(git_repository *repo, const char *scope) VL_MUST_CHECK;

/* Next clock value, persisted before it is returned. */
int vl_node_tick(vl_node *n, char out[VL_HLC_TEXT_LEN + 1]) VL_MUST_CHECK;
/* Next clock value in memory only: the caller must vl_node_clock_save
 * before any value it got is used in a commit (one save for a batch). */
void vl_node_tick_mem(vl_node *n, char out[VL_HLC_TEXT_LEN + 1]);
int vl_node_clock_save(vl_node *n) VL_MUST_CHECK;

/*
 * Is the loaded secret key the one this node signs with? Its fingerprint
 * must be keys/node.pub's (vl_node_open calls it when it loads the key) and, when the
 * config is loaded and lists the node, that roster entry's key. VL_EDENIED
 * without a secret key, VL_EINVALID with what to do otherwise. Every write
 * calls it before it writes anything (vl_node_commit, vl_ledger_commit).
 */
int vl_node_check_key(const vl_node *n) VL_MUST_CHECK;

/*
 * Commit changes on a branch with this node's key: author/committer are the
 * roster name and "<fp>@vledger", the message is `summary`, a blank line,
 * `trailers` (may be empty) and the key's Vledger-Seq / Vledger-Prev. Fails
 * with VL_ECONFLICT if the branch moved from `expected`.
 */
int vl_node_commit(git_oid *out, vl_node *n, const char *refname, const git_oid *expected,
		const vl_change *changes, size_t nchanges, const char *summary,
		const char *trailers) VL_MUST_CHECK;

/*
 * Sign this node's next commits with operator `name` (vl_operator_check;
 * "" clears it for this run). Does not write node.yaml (vl_node_save_operator).
 */
int vl_node_set_operator(vl_node *n, const char *name) VL_MUST_CHECK;

/*
 * Keep operator `name` in <home>/node.yaml (NULL or "": remove it), other
 * keys unchanged, and use it from now on.
 */
int vl_node_save_operator(vl_node *n, const char *name) VL_MUST_CHECK;

/* Read a passphrase file (first line, without the newline). */
int vl_read_passphrase(char **out, const char *path) VL_MUST_CHECK;

/*
 * Load the sealed key at key_path into *out with a passphrase asked on the
 * terminal (agent/node/passprompt.h), asking once more after a wrong one.
 * For callers that checked vl_passphrase_can_prompt(). VL_EDENIED: wrong
 * twice or nothing typed; the passphrase is never kept or shown.
 */
int vl_node_prompt_key(vl_key *out, const char *key_path) VL_MUST_CHECK;

/* Load all *.yaml schema files of a directory, in name order. */
int vl_schemas_load_dir(vl_schema ***out, size_t *n, const char *dir, vl_buf *diag) VL_MUST_CHECK;
void vl_schemas_free(vl_schema **s, size_t n);

#endif
