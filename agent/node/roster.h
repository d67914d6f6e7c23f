/*
 * roster.h - who may change the config branch (docs/formats.md §3, §7), in one
 * place for every path that writes or receives config: `roster add`,
 * `roster revoke`, `roster approve` and `key rotate` check their own change
 * with it before they sign; `verify` and `fetch` check every config commit
 * after the first with it.
 *
 * The rule (delegated admins): a config commit is judged by the roster of
 * its PARENT. Its signer must be on that roster, have role `admin`, and not
 * be revoked. Every roster entry the commit adds, changes or revokes must
 * have a scope (before and after the change) that the signer's scope covers:
 * the county's admin may add a township admin, who may then add and revoke
 * the keys of its own villages but nothing outside its township. Entries are
 * never removed (history is verified against them) and a revoked entry never
 * changes again (un-revoking, or moving revoked_at, would rewrite which old
 * writes are valid). Changes to network.yaml or schemas/ need an admin whose
 * scope is the network's county; network.yaml's `network`, `county` and
 * `root_keys` never change after the first commit. A change may not leave
 * the county without an unrevoked county-scope admin (so the last county
 * admin cannot revoke itself).
 *
 * An entry's name and valid_from never change either (commits carry the
 * name; valid_from dates what the key wrote).
 *
 * Times (vl_roster_check_dates): a change that sets valid_from or revoked_at
 * must date it within VL_ROSTER_TIME_WINDOW_S of its own commit time, so
 * a revocation cannot reach back years and turn accepted history bad.
 *
 * Revocation pins: `roster revoke` also writes `revoked_heads`, for every
 * scope branch the revoking node holds where the key signed, the newest
 * commit it signed there (vl_roster_pin_heads). On such a branch a commit
 * or record by the key is valid exactly when it is reachable from that
 * pinned head, whatever its date; on other branches (the admin did not hold
 * them, or had not seen the key write there) writes dated before revoked_at
 * stay valid: that is the window that remains (docs/decisions.md).
 *
 * Pure functions over loaded YAML trees (plus ones that read a repository);
 * thread safe for distinct arguments.
 */
#ifndef VL_ROSTER_H
#define VL_ROSTER_H

#include <git2.h>
#include "agent/node/node.h"
#include <stdint.h>
#include "store/value.h"

/* Namespace of the SSHSIG over a key rotation request (ops/roster_ops.c). */
#define VL_NS_ROTATE "vledger-rotate"

/*
 * Index roster.yaml's `keys` list into entries that borrow from `doc` (valid
 * while doc lives). Checks each entry: key, fingerprint (matching the key),
 * name, role (one of VL_ROLES), a valid scope of the role's level, and the
 * times valid_from / revoked_at when present (RFC 3339 UTC); no fingerprint
 * twice; nothing but `keys` at the top. out: caller frees with free().
 * VL_EINVALID naming the entry; VL_ENOMEM.
 */
int vl_roster_index(vl_roster_entry **out, size_t *n, const vl_value *doc) VL_MUST_CHECK;

/*
 * The name on the entry for key fp in roster.yaml's bytes (buf, len),
 * without reading the whole file: for a caller that needs one name and
 * whose config cache (confcache.h) says this binary loaded this roster
 * whole without an error. The entry is the one that starts with the line
 * `  - fingerprint: "FP"` (vl_yaml_emit's layout); its lines, indented by
 * four, are read by the canonical reader, and taken only when emitting
 * them again gives the same bytes, when fp occurs on exactly one such
 * line, and when the entry's key has fingerprint fp. So a name comes only
 * from the repository's bytes, bound to the key; the cache decides nothing
 * but whether to try. 0 and *out (caller frees); VL_ENOTFOUND (no message
 * kept) when the bytes do not give it that way: the caller then reads the
 * whole roster, which decides; VL_ENOMEM.
 */
int vl_roster_entry_name(char **out, const char *buf, size_t len, const char *fp) VL_MUST_CHECK;

/* Entry with fingerprint fp, or NULL. Borrowed from entries. */
const vl_roster_entry *vl_roster_find(const vl_roster_entry *entries, size_t n, const char *fp);

/*
 * The roles (docs/formats.md §7.2), in one list: the roster checks them and
 * invitations encode a role as its index here, so the order never changes
 * (new roles go at the end). vl_role_index: the index, or -1 when role is
 * none of them; vl_role_name: the role at index i, NULL past the end.
 */
int vl_role_index(const char *role);
const char *vl_role_name(size_t i);

/* 1 if role is one of VL_ROLES, else 0. */
int vl_roster_role_valid(const char *role);

/* A role's scope must be of its level (village/township/county); auditors
 * and admins may hold any level. VL_EINVALID with the reason. */
int vl_roster_role_scope_check(const char *role, const char *scope) VL_MUST_CHECK;

/*
 * May the key signer_fp turn roster `parent` into roster `next`?
 *
 * county         the network's county code (network.yaml `county` of the
 *                parent commit).
 * other_changed  1 when the same commit also changes network.yaml or
 *                schemas/ (then the signer must be a county admin).
 * 0 when allowed; VL_EDENIED with the reason (the message names the key and
 * the scope, and says "not an admin" when the signer is none); VL_EINVALID
 * when `next` is not a valid roster; VL_ENOMEM.
 */
int vl_roster_check_change(const vl_value *parent, const vl_value *next, const char *signer_fp,
		const char *county, int other_changed) VL_MUST_CHECK;

/*
 * The same rule applied to a config commit with exactly one parent, read
 * from repo: loads network.yaml and roster.yaml of both commits, sees which
 * other files changed, keeps network.yaml's identity fixed, and calls
 * vl_roster_check_change. signer_fp is the fingerprint of the key whose
 * signature the caller has already verified. Errors as above, plus the
 * errors of reading the objects (a missing roster.yaml is VL_EINVALID).
 */
int vl_config_check_commit(git_repository *repo, git_commit *commit, const char *signer_fp) VL_MUST_CHECK;

/* How far (seconds) a change may date the valid_from or revoked_at it sets
 * from its own commit time, either way: clock skew between the admin's
 * laptop and the clock that stamped the commit, nothing more. */
#define VL_ROSTER_TIME_WINDOW_S (10 * 60)

/*
 * Do the valid_from and revoked_at that `next` sets (new entries, newly
 * revoked entries) lie within VL_ROSTER_TIME_WINDOW_S of commit_s, the
 * change's commit time (seconds)? 0 yes; VL_EDENIED naming the entry;
 * VL_EINVALID / VL_ENOMEM. vl_config_check_commit calls it.
 */
int vl_roster_check_dates(const vl_value *parent, const vl_value *next, int64_t commit_s) VL_MUST_CHECK;

/*
 * Pin what revoking key fp cuts off: set `revoked_heads` of fp's entry in
 * roster (a tree the caller is building) to, for each scope branch of n's
 * repository where fp signed, the newest commit fp signed there (its key
 * chain head). Nothing is set when fp signed nowhere. Call it together with
 * setting revoked_at. VL_ENOTFOUND if fp is not in roster; git errors.
 */
int vl_roster_pin_heads(vl_value *roster, vl_node *n, const char *fp) VL_MUST_CHECK;

/* The commit id pinned for branch ("scope/<code>") in revoked entry e, or
 * NULL (not revoked, nothing pinned there). Borrowed from the roster tree. */
const char *vl_roster_pinned_head(const vl_roster_entry *e, const char *branch);

/* A new roster entry map: fingerprint, key, name, role, scope, valid_from.
 * NULL on allocation failure. Caller frees with vl_value_free. */
vl_value *vl_roster_entry_new(const unsigned char pk[32], const char *name, const char *role,
		const char *scope, const char *valid_from);

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SS[.fff]Z" to the allowed_signers form
 * "YYYYMMDDHHMMSSZ" (seconds; fractions dropped). VL_EINVALID otherwise. */
int vl_roster_ssh_time(char out[16], const char *rfc3339) VL_MUST_CHECK;

/* "YYYY-MM-DDTHH:MM:SSZ" of a clock value's whole second. */
void vl_roster_time_text(char out[21], uint64_t ms);

#endif
