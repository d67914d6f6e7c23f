/*
 * repo.h - the node's bare git repository (docs/formats.md §2, §3, §5).
 *
 * Writes go straight into trees (git_tree_create_updated over the parent's
 * tree), never through a working copy or an index of the whole tree. Every
 * local change is one commit signed with the node key (gpgsig, namespace
 * "git"), and the branch moves by compare-and-swap: if it moved since the
 * caller read it, nothing moves and VL_ECONFLICT comes back. fsync of
 * objects and refs is switched on once per process (vl_repo_global_init).
 * A git_repository is used by one thread at a time.
 */
#ifndef VL_REPO_H
#define VL_REPO_H

#include <git2.h>
#include <stdint.h>
#include "store/buf.h"
#include "store/sshsig.h"

#define VL_REF_CONFIG "refs/heads/config"
#define VL_REF_SCOPE_PREFIX "refs/heads/scope/"

/* git_libgit2_init + fsync on + object-count caps; safe to call many times. */
int vl_repo_global_init(void) VL_MUST_CHECK;

/* Create a bare repository at path (which must not hold one). */
int vl_repo_init(git_repository **out, const char *path) VL_MUST_CHECK;
/* Open an existing bare repository. */
int vl_repo_open(git_repository **out, const char *path) VL_MUST_CHECK;

/* One path to write (data != NULL) or delete (data == NULL). */
typedef struct {
	const char *path;
	const char *data;
	size_t len;
	/* Optional (NULL: hashed here): data's blob id, which the caller
	 * computed already (vl_object_id, e.g. on its signing threads). Only a
	 * commit that writes a pack uses it (vl_stage_add_known): each record
	 * of an import was hashed twice, ~4% of it and on the one thread. */
	const git_oid *id;
} vl_change;

/* Author = committer of a signed commit. */
typedef struct {
	const char *name;
	const char *email;
	int64_t time;  /* seconds since the epoch */
} vl_ident;

/* A commit with at least this many changes writes its objects as one pack
 * (store/pack.h), fsynced once before the ref moves; smaller ones write
 * loose objects. */
#define VL_REPO_PACK_MIN_CHANGES 64

/*
 * Commit `changes` on `refname` and move it by compare-and-swap.
 *
 * expected  the head the caller built on (NULL = the ref must not exist
 *           yet); VL_ECONFLICT if the ref is elsewhere now.
 * message   the full commit message (summary, blank line, trailers).
 * out       the new commit id.
 * Nothing moves on failure; objects written before a failed ref update are
 * unreachable and harmless. With VL_REPO_PACK_MIN_CHANGES changes or more,
 * the objects go through a stage (store/pack.h) and one pack; the caller
 * must not hold a stage open on `repo` meanwhile.
 */
int vl_repo_commit(git_oid *out, git_repository *repo, const char *refname,
		const git_oid *expected, const vl_change *changes, size_t n,
		const char *message, const vl_ident *who, const vl_key *key) VL_MUST_CHECK;

/*
 * Move refname to `to` by compare-and-swap: only if it is still at
 * `expected` (NULL = only if it does not exist yet). The one copy of this
 * rule: local commits, merges and received branches all move refs here.
 * VL_ECONFLICT when the ref moved meanwhile ("'<refname>' moved while we
 * worked; <again>", again = what the person should do); other failures as
 * VL_ERROR. `log` is the reflog message.
 */
int vl_repo_ref_cas(git_repository *repo, const char *refname, const git_oid *to, const git_oid *expected,
		const char *log, const char *again) VL_MUST_CHECK;

/* Head of refname into out; VL_ENOTFOUND if there is no such ref. */
int vl_repo_head(git_oid *out, git_repository *repo, const char *refname) VL_MUST_CHECK;

/*
 * Read the blob at path in the tree of commit (or of refname's head when
 * commit is NULL). out gets the content (capped at max bytes, checked from
 * the object header before inflating), blob_out its id (both optional).
 * VL_ENOTFOUND if absent, VL_EINVALID if it is not a regular file.
 */
int vl_repo_read(vl_buf *out, git_oid *blob_out, git_repository *repo, const char *refname,
		const git_oid *commit, const char *path, size_t max) VL_MUST_CHECK;

/*
 * Read blob `id` into out (appended), after checking from its header that
 * it is a blob of at most `max` bytes: nothing is inflated before that. The
 * one size-capped object read. VL_ENOTFOUND when the repository lacks it,
 * VL_ETOOBIG when it is larger or not a blob (message: "<what> <id> ...").
 * out may be NULL to check only.
 */
int vl_repo_read_blob(vl_buf *out, git_repository *repo, const git_oid *id, size_t max,
		const char *what) VL_MUST_CHECK;

/*
 * The chain position of key `fp` on the branch at `head` (docs/formats.md §5):
 * walks back to the newest commit whose author email is "<fp>@vledger" and
 * returns its Vledger-Seq in *seq and its id in *prev; *seq = 0 when the key
 * has not signed on this branch (prev untouched).
 */
int vl_repo_key_chain(uint64_t *seq, git_oid *prev, git_repository *repo,
		const git_oid *head, const char *fp) VL_MUST_CHECK;

/*
 * Value of trailer `name` ("Vledger-Seq") in a commit message: the first
 * line of the trailer block that starts "name: ". Appends it to out;
 * VL_ENOTFOUND if none.
 */
int vl_message_trailer(vl_buf *out, const char *message, const char *name) VL_MUST_CHECK;

/*
 * The operator name a commit may carry in a `Vledger-Operator: <name>`
 * trailer (docs/formats.md §5.2): the person at the keyboard as the key
 * holder claims it, not an identity. 1 to VL_OPERATOR_MAX bytes of valid
 * UTF-8 (NFC as vl_utf8_valid_nfc checks it), no control character (C0,
 * DEL, C1), no leading or trailing space. VL_EINVALID saying what is wrong
 * (never the name itself: it is personal data).
 */
#define VL_OPERATOR_MAX 64
int vl_operator_check(const char *name, size_t len) VL_MUST_CHECK;

/*
 * The operator a commit message names: *out = a copy of its
 * Vledger-Operator value (caller frees), or NULL when it has none or the
 * value fails vl_operator_check (display never shows control characters
 * an unverified commit may carry). Fails only on VL_ENOMEM.
 */
int vl_message_operator(char **out, const char *message) VL_MUST_CHECK;

/*
 * Is a raw commit object in the one form vledger writes? Headers exactly
 * `tree`, `parent` (any number), `author`, `committer`, then `gpgsig` when
 * is_signed (with its continuation lines) or nothing when not, in that order
 * and each once: no `encoding`, `mergetag` or unknown header. In the message,
 * the Vledger-Seq, Vledger-Prev and Vledger-Operator trailers appear at most
 * once each and only in that exact case (a `Vledger-prev` or `VLEDGER-SEQ`
 * line, which other readers may take for the trailer, is refused), and a
 * Vledger-Operator value passes vl_operator_check. VL_EINVALID naming
 * the problem (no commit id: the caller adds it).
 */
int vl_commit_check_canonical(const char *raw, size_t len, int is_signed) VL_MUST_CHECK;

/*
 * Are the modes of a raw tree object written as git writes them: octal
 * without padding ("40000", "100644")? libgit2 reads "040000" or "0100644"
 * as the same mode, so the raw bytes are the only place to see it; git fsck
 * --strict refuses them (zeroPaddedFilemode). Which modes are allowed is the
 * caller's (git_tree_entry_filemode_raw). VL_EINVALID naming the entry.
 */
int vl_tree_check_modes(const char *raw, size_t len) VL_MUST_CHECK;

/* Raw commit object (headers + message, as stored) into out. */
int vl_repo_raw_commit(vl_buf *out, git_repository *repo, const git_oid *id) VL_MUST_CHECK;

#endif
