/*
 * node_ops.h - operations on a node home (ops.h conventions): make one
 * (init; join in ops/invite_ops.h makes one the same way), show its key,
 * export its network file.
 */
#ifndef VL_NODE_OPS_H
#define VL_NODE_OPS_H

#include "agent/node/node.h"
#include "agent/ops/ops.h"

/* ---- making a node home ------------------------------------------------ */

typedef struct {
	const char *name;             /* the person or office (node.yaml, keys/node.pub comment) */
	const char *role;             /* one of VL_ROLES */
	const char *scope;            /* 12-digit division code of the role's level */
	const char *network_id;       /* node.yaml `network`: the network joined or created */
	const char *network_yaml;     /* bytes pinned as <home>/network.yaml, or NULL (a new network) */
	size_t network_yaml_len;
	const char *passphrase_file;  /* seal keys/node.key with this file's passphrase; NULL: plain */
	const char *hook_dir;         /* hooks to install; NULL: $VLEDGER_HOOK_DIR, else the shipped ones */
} vl_node_create_opts;

/*
 * Make a node home at `home` (node.h): the directories, the shipped merge
 * hooks, a new key pair (keys/node.key, keys/node.pub), an empty repo.git,
 * the pinned network.yaml when given, and node.yaml last, so that a
 * half-made home is never taken for a node (a network.yaml written for a
 * creation that then failed is removed). Checks role and scope
 * (vl_roster_role_scope_check). `key`, when not NULL, receives the new key
 * pair (the caller wipes it with vl_key_wipe). VL_EEXISTS when home already
 * holds a node.
 */
int vl_node_create(vl_key *key, const char *home, const vl_node_create_opts *opts) VL_MUST_CHECK;

/* ---- init ------------------------------------------------------------------ */

typedef struct {
	const char *name;
	const char *role;
	const char *scope;
	int new_network;              /* create a network: a county node of a county scope */
	const char *network_file;     /* or join this one: a file 'vledger export network' wrote */
	const char *passphrase_file;  /* seal the key (vl_node_create_opts) */
	const char *schema_dir;       /* new network: the shipped schemas for its first config commit */
	const char *hook_dir;         /* as vl_node_create_opts */
	vl_progress progress;
	const char *timezone;         /* new network: network.yaml `timezone` (agent/node/tz.h); NULL: none
	                               * written, Asia/Shanghai shown */
} vl_init_opts;
#define VL_INIT_OPTS_INIT { NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, { NULL, NULL }, NULL }

typedef struct {
	char *home;                   /* where the node was made */
	char *name;
	char *role;
	char scope[13];
	char network[33];             /* the network id */
	int new_network;              /* 1 when this init created the network */
	int has_network_key;          /* 1 when keys/network.key was written: a new network's, or
	                               * the network.key found beside the network file */
	char fp[VL_FP_LEN];           /* the new key's fingerprint */
	vl_buf pubkey;                /* keys/node.pub: "ssh-ed25519 AAAA... NAME\n" */
} vl_init_result;

void vl_init_result_free(vl_init_result *r);

/*
 * Make a node home at `home` (vl_node_create) for a network: with
 * new_network, a random network id, a new network key (netkey.h) and the
 * first config commit (network.yaml with this key as root, roster.yaml with
 * it as admin, the schemas of schema_dir), signed by the new key; with
 * network_file, that file's network id pinned, and no config until a
 * fetch; the network key is taken from network.key beside network_file
 * when it is there (vl_netkey_beside; stored as keys/network.key, 0600),
 * and checked before anything is made. VL_EINVALID for a bad role, scope,
 * network file or network key file, or a
 * network created by a node that is not a county; VL_EEXISTS when home holds
 * a node.
 */
int vl_init(const char *home, const vl_init_opts *opts, vl_init_result *out) VL_MUST_CHECK;

/* ---- key ------------------------------------------------------------------- */

typedef struct {
	int unused;
} vl_key_show_opts;
#define VL_KEY_SHOW_OPTS_INIT { 0 }

typedef struct {
	vl_buf pubkey;                /* "ssh-ed25519 AAAA... NAME" (no newline) */
	char fp[VL_FP_LEN];
} vl_key_show_result;

void vl_key_show_result_free(vl_key_show_result *r);

/* The node's public key line and fingerprint (what an admin enters with
 * 'roster add'). */
int vl_key_show(vl_node *n, const vl_key_show_opts *opts, vl_key_show_result *out) VL_MUST_CHECK;

/* ---- export network ------------------------------------------------------ */

typedef struct {
	int unused;
} vl_export_network_opts;
#define VL_EXPORT_NETWORK_OPTS_INIT { 0 }

typedef struct {
	vl_buf network;               /* network.yaml of the config head, as committed */
	int has_network_key;          /* 1 when the node holds keys/network.key: */
	unsigned char network_key[32]; /* the handshake capability (secret; wiped by _free) */
} vl_export_network_result;

void vl_export_network_result_free(vl_export_network_result *r);

/* network.yaml of the node's config branch: what another node's 'init
 * --network FILE' pins, and the network key when this node has one (the
 * command writes it as network.key beside the file, mode 0600).
 * VL_ENOTFOUND when the node has no config yet; VL_EDENIED when
 * keys/network.key may be read by others. */
int vl_export_network(vl_node *n, const vl_export_network_opts *opts, vl_export_network_result *out) VL_MUST_CHECK;

#endif
