/*
 * invite_ops.h - a new laptop enters the network by a one-time invitation
 * (docs/formats.md §7; docs/decisions.md, "Invitations"); operations of ops.h:
 *
 *   inviter   vl_invite_create: the token (node/invite.h); keeps
 *             <home>/invites/<id>.yaml: role, scope, name, expiry, the
 *             verifier (public half of the invitation key), used: false
 *   new node  vl_join: checks the token, makes the node home as vl_init
 *             does (vl_node_create, network.yaml pinned from the token),
 *             keys/network.key, <home>/join-request.yaml with two proofs,
 *             and receives the config from the token's source
 *   inviter   vl_roster_approve (roster_ops.h) hands a 'kind: join' file to
 *             vl_join_approve: checks the invitation (there, unused, not
 *             expired) and both proofs, marks it used, and adds the key with
 *             vl_roster_add
 *   new node  vl_receive from the inviter once approved
 */
#ifndef VL_INVITE_OPS_H
#define VL_INVITE_OPS_H

#include "agent/node/node.h"
#include "agent/ops/node_ops.h"
#include "agent/ops/ops.h"
#include "agent/ops/roster_ops.h"
#include "agent/sync/receive.h"

#define VL_INVITE_MAX_HOURS 720
#define VL_INVITE_DEFAULT_HOURS 72

/* Text a person reads, as an invitation carries it: 1..255 bytes of UTF-8
 * in NFC without control characters. 1 if s is such, else 0. */
int vl_invite_name_valid(const char *s);

/* ---- invite ------------------------------------------------------------------ */

typedef struct {
	const char *role;             /* for the new node */
	const char *scope;
	const char *name;             /* vl_invite_name_valid */
	unsigned hours;               /* good for 1..VL_INVITE_MAX_HOURS; 0: the default */
	const char *address;          /* host:port to name; NULL: node.yaml's listen */
	const char *source;           /* repository the new node fetches; NULL: this node's repo.git */
} vl_invite_create_opts;
#define VL_INVITE_CREATE_OPTS_INIT { NULL, NULL, NULL, 0, NULL, NULL }

typedef struct {
	char id[33];                  /* the invitation id, hex */
	vl_buf token;                 /* "vledger1:..." (a secret: freed wiped) */
	char expires_at[21];
	int needs_admin;              /* this key is no admin: an admin must add the key */
	char *inviter_role;           /* this key's role and scope */
	char inviter_scope[13];
} vl_invite_create_result;

void vl_invite_create_result_free(vl_invite_create_result *r);

/*
 * Make a one-time invitation from this node (any unrevoked roster key whose
 * scope covers opts->scope; the node must hold keys/network.key). Every
 * field is checked by encoding the token before anything is stored.
 * VL_EDENIED when this key is not on the roster, revoked or does not cover
 * the scope; VL_ENOTFOUND / VL_EDENIED for the network key (netkey.h);
 * VL_EINVALID for a bad field.
 */
int vl_invite_create(vl_node *n, const vl_invite_create_opts *opts, vl_invite_create_result *out) VL_MUST_CHECK;

/* ---- join --------------------------------------------------------------------- */

typedef struct {
	const char *token;            /* "vledger1:..." */
	const char *name;             /* what the new node calls itself; NULL: the invitation's */
	const char *passphrase_file;  /* seal the key (vl_node_create_opts) */
	int fetch;                    /* receive from the token's source when it is a directory here (default 1) */
	const char *hook_dir;         /* as vl_node_create_opts */
	vl_progress progress;
} vl_join_opts;
#define VL_JOIN_OPTS_INIT { NULL, NULL, NULL, 1, NULL, { NULL, NULL } }

typedef struct {
	vl_init_result node;          /* the node made (home, name, role, scope, network, key) */
	char county[13];
	char expires_at[21];          /* of the invitation */
	char address[256];            /* the inviter's, may be "" */
	char source[256];             /* the inviter's repository, may be "" */
	vl_buf request_path;          /* <home>/join-request.yaml */
	int fetched;                  /* a receive from source was attempted */
	int fetch_rc;                 /* its code: 0, or negative with fetch_error */
	vl_buf fetch_error;
	vl_receive_result receive;    /* what it received */
} vl_join_result;

void vl_join_result_free(vl_join_result *r);

/*
 * Join a network by an invitation: make a node home at `home` for the
 * invitation's role and scope, keep the token's network key and the
 * inviter as a peer, write the join request for the inviter to approve,
 * and (opts->fetch) receive the config from the token's source. A failed
 * receive does not fail the join: the request stands, and out says why.
 * VL_EINVALID / VL_ETOOBIG for a bad token, VL_EDENIED for an expired one,
 * VL_EEXISTS when home holds a node; nothing is made then.
 */
int vl_join(const char *home, const vl_join_opts *opts, vl_join_result *out) VL_MUST_CHECK;

/*
 * Approve a join request (the loaded 'kind: join' file, named `label` in
 * messages) for vl_roster_approve, which zeroed out. Every check happens
 * before anything is written; the invitation is marked used under
 * invites/<id>.lock before the roster commit and restored if that fails,
 * so a token or a request is good exactly once. When the request is good
 * but this key may not change the roster, VL_EDENIED says the 'vledger
 * roster add' an admin runs, and the invitation stays unused.
 */
int vl_join_approve(vl_node *n, const vl_value *request, const char *label,
		vl_roster_approve_result *out) VL_MUST_CHECK;

#endif
