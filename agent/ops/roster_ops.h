/*
 * roster_ops.h - operations on the roster (ops.h conventions): add, list,
 * revoke, approve a request (a key rotation, or a join: ops/invite_ops.h),
 * rotate this node's key, export the roster for stock git and ssh-keygen.
 *
 * Every roster change is one signed commit on config, checked first with
 * vl_roster_check_change (node/roster.h) against the roster it builds on:
 * the same rule verify and receive apply to it later. After the commit the
 * node's loaded config is reloaded, so the node passed in stays usable.
 *
 * Key rotation (docs/decisions.md, "Key rotation"):
 * - the new key pair is written first as keys/node.key.next and
 *   keys/node.pub.next (sealed with the old key's passphrase when the old
 *   key is sealed);
 * - an admin node (its own key is an unrevoked admin) signs, with the OLD
 *   key, one config commit that adds the new key with the same name, role
 *   and scope and revokes the old one, then switches the key files;
 * - any other node writes a request (the two public keys, signed by the old
 *   key, namespace "vledger-rotate"), keeps signing with the old key, and an
 *   admin approves it with vl_roster_approve; once the node has received a
 *   config holding the new key, vl_key_rotate with `finish` switches.
 * Switching: keys/node.key is copied to keys/node.key.old-<UTC stamp> (mode
 * 0600, sealed as it was), then node.key.next and node.pub.next are renamed
 * over node.key and node.pub. A crash between the two renames is completed
 * by `finish`. A node whose key switched still holds the old key in memory:
 * open it again to sign with the new one.
 */
#ifndef VL_ROSTER_OPS_H
#define VL_ROSTER_OPS_H

#include "agent/node/node.h"
#include "agent/ops/ops.h"

/* ---- roster add ------------------------------------------------------------ */

typedef struct {
	const char *name;
	const char *role;             /* one of VL_ROLES */
	const char *scope;            /* a division code of the role's level */
	const char *key;              /* "ssh-ed25519 AAAA... [comment]" */
} vl_roster_add_opts;
#define VL_ROSTER_ADD_OPTS_INIT { NULL, NULL, NULL, NULL }

typedef struct {
	char fp[VL_FP_LEN];           /* the key added */
	char *name;
	char *role;
	char scope[13];
	char valid_from[21];          /* the commit's time */
	git_oid commit;               /* the config commit */
} vl_roster_add_result;

void vl_roster_add_result_free(vl_roster_add_result *r);

/*
 * Add a key to the roster, signed by this node's key (n opened with its
 * key), which must be an unrevoked admin whose scope covers `scope`.
 * VL_EINVALID for a bad role, scope or key; VL_EDENIED when this key may
 * not; VL_EEXISTS when the key is on the roster already.
 */
int vl_roster_add(vl_node *n, const vl_roster_add_opts *opts, vl_roster_add_result *out) VL_MUST_CHECK;

/* ---- roster list ----------------------------------------------------------- */

typedef struct {
	int unused;
} vl_roster_list_opts;
#define VL_ROSTER_LIST_OPTS_INIT { 0 }

typedef struct {
	vl_value *roster;             /* roster.yaml of the config head (owned) */
	vl_roster_entry *entries;     /* its keys in file order, borrowing from roster */
	size_t n;
} vl_roster_list_result;

void vl_roster_list_result_free(vl_roster_list_result *r);

/* The roster of the node's config head. VL_ENOTFOUND without config. */
int vl_roster_list(vl_node *n, const vl_roster_list_opts *opts, vl_roster_list_result *out) VL_MUST_CHECK;

/* ---- roster revoke ----------------------------------------------------------- */

/* A revocation reason: one line of 1 to VL_REVOKE_REASON_MAX bytes without
 * control characters (it travels in a commit trailer). */
#define VL_REVOKE_REASON_MAX 200
int vl_revoke_reason_valid(const char *reason);

typedef struct {
	const char *fp;               /* the key to revoke, "SHA256:..." */
	const char *reason;           /* vl_revoke_reason_valid */
} vl_roster_revoke_opts;
#define VL_ROSTER_REVOKE_OPTS_INIT { NULL, NULL }

typedef struct {
	char fp[VL_FP_LEN];
	char *role;                   /* of the revoked entry */
	char scope[13];
	char revoked_at[21];          /* the commit's time */
	git_oid commit;
} vl_roster_revoke_result;

void vl_roster_revoke_result_free(vl_roster_revoke_result *r);

/*
 * Revoke a key: one config commit, signed by this node's key, that sets the
 * entry's revoked_at to the commit's time and its revoked_reason.
 * VL_ENOTFOUND when the key is not on the roster; VL_EEXISTS when it is
 * revoked already; VL_EDENIED when this key may not (roster.h).
 */
int vl_roster_revoke(vl_node *n, const vl_roster_revoke_opts *opts, vl_roster_revoke_result *out) VL_MUST_CHECK;

/* ---- roster approve ---------------------------------------------------------- */

typedef struct {
	const char *path;             /* the request file 'key rotate' or 'join' wrote */
} vl_roster_approve_opts;
#define VL_ROSTER_APPROVE_OPTS_INIT { NULL }

typedef enum {
	VL_APPROVE_NONE = 0,
	VL_APPROVE_ROTATION,          /* kind: key-rotation */
	VL_APPROVE_JOIN               /* kind: join (ops/invite_ops.h) */
} vl_approve_kind;

typedef struct {
	vl_approve_kind kind;
	char fp[VL_FP_LEN];           /* the key entered: the new node's, or the rotation's new key */
	char old_fp[VL_FP_LEN];       /* rotation: the key retired */
	char *name;                   /* the roster name of the entry */
	char *role;
	char scope[13];
	char when[21];                /* the commit's time (valid_from; the old key's revoked_at) */
	git_oid commit;
	/* join only */
	char invite[33];              /* the invitation, now used */
	char *requested_name;         /* the name the new node gave itself, when it is not the roster's */
	vl_buf source;                /* this node's repo.git, absolute: where the new node fetches */
} vl_roster_approve_result;

void vl_roster_approve_result_free(vl_roster_approve_result *r);

/*
 * Approve a request file, signed by this node's key (n opened with its
 * key): a key rotation (the request verifies, the key it retires is on the
 * roster and unrevoked: one commit adds the new key with the old one's
 * name, role and scope and revokes the old one), or a join (vl_join_approve).
 * VL_EBADSIG when a signature or proof does not verify; VL_EDENIED when the
 * request is for another network or this key may not; VL_EINVALID when the
 * file is no request.
 */
int vl_roster_approve(vl_node *n, const vl_roster_approve_opts *opts, vl_roster_approve_result *out) VL_MUST_CHECK;

/* ---- key rotate -------------------------------------------------------------- */

typedef struct {
	int finish;                   /* switch to a pending key the roster now holds */
	const char *request_path;     /* non-admin: also write the request here (NULL: only in the result) */
	const char *passphrase_file;  /* seal the new key when the old one is sealed */
} vl_key_rotate_opts;
#define VL_KEY_ROTATE_OPTS_INIT { 0, NULL, NULL }

typedef enum {
	VL_ROTATE_NONE = 0,
	VL_ROTATE_DONE,               /* an admin: committed and switched */
	VL_ROTATE_REQUESTED,          /* a request for an admin; the new key is pending */
	VL_ROTATE_FINISHED            /* finish: switched to the approved key */
} vl_rotate_state;

typedef struct {
	vl_rotate_state state;
	char new_fp[VL_FP_LEN];
	char old_fp[VL_FP_LEN];       /* the key signing until the switch */
	char scope[13];               /* this node's: whose admin approves a request */
	char when[21];                /* DONE: the commit's time, the old key's revoked_at */
	vl_buf request;               /* REQUESTED: the signed request file */
} vl_key_rotate_result;

void vl_key_rotate_result_free(vl_key_rotate_result *r);

/*
 * Start a rotation of this node's key (n opened with its key) or, with
 * `finish`, complete one (n needs no secret key). VL_EEXISTS when a
 * rotation is pending already; VL_EDENIED when this key is not on the roster
 * or revoked; finish: VL_ENOTFOUND when nothing is pending or the roster
 * does not hold the new key yet.
 */
int vl_key_rotate(vl_node *n, const vl_key_rotate_opts *opts, vl_key_rotate_result *out) VL_MUST_CHECK;

/* ---- export allowed-signers ------------------------------------------------- */

typedef struct {
	int unused;
} vl_export_allowed_signers_opts;
#define VL_EXPORT_ALLOWED_SIGNERS_OPTS_INIT { 0 }

typedef struct {
	vl_buf signers;               /* the allowed_signers file */
	vl_buf revocations;           /* one "ssh-ed25519 AAAA..." line per revoked key */
} vl_export_allowed_signers_result;

void vl_export_allowed_signers_result_free(vl_export_allowed_signers_result *r);

/*
 * The roster as an OpenSSH allowed_signers file, for git's
 * gpg.ssh.allowedSignersFile and ssh-keygen -Y verify: valid-after comes
 * from valid_from and valid-before from revoked_at (stock git judges them by
 * the committer date, which the signer writes). The revocations, for
 * gpg.ssh.revocationFile, make git refuse every commit of those keys, even
 * those made before revocation.
 */
int vl_export_allowed_signers(vl_node *n, const vl_export_allowed_signers_opts *opts,
		vl_export_allowed_signers_result *out) VL_MUST_CHECK;

#endif
