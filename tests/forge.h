/*
 * forge.h - fixture code shared by the cmocka tests that build a real
 * network with the binary and forge history on it with libgit2 and the store
 * library (test_receive.c, test_receive_path.c, test_trust.c, test_verify.c,
 * test_roster.c; test_ui_form.c and test_ops_merge.c for their per-test
 * node copies): the binary at a node home, the base network, template
 * networks copied per test, repo snapshots, and forged blobs, trees,
 * commits, signatures and zone records.
 * Include after <cmocka.h>'s prerequisites (stdarg, stddef, setjmp, stdint).
 * Every helper fails the test on error.
 */
#ifndef VL_FORGE_H
#define VL_FORGE_H

#include <stddef.h>
#include <git2.h>

#include "agent/node/node.h"
#include "store/buf.h"
#include "store/sshsig.h"
#include "store/ulid.h"

/* ---- homes, templates, the binary ---------------------------------------- */

/* out = "dir/rel"; fails the test if it does not fit. */
void vf_path_in(char *out, size_t len, const char *dir, const char *rel);
/* For a group setup: VLEDGER_SCHEMA_DIR to the source schemas, no
 * VLEDGER_HOME nor VLEDGER_PASSPHRASE_FILE; libgit2 initialised. */
void vf_env_init(void);
/* A fresh scratch directory holding a copy (cp -a) of template. Caller
 * frees and removes it with vt_rmtree. */
char *vf_sandbox(const char *template_dir);
/* For a group teardown: remove and free the template; shut libgit2 down. */
void vf_template_free(char *template_dir);
/* Run the binary against a node home; fail the test unless it exits 0.
 * Returns its output without trailing newlines (caller frees). */
char *vf_ok(const char *home, const char *args);
void vf_ok_free(const char *home, const char *args);
/* `vledger -C county roster add` of the node at home under name, role and
 * scope, with the key `vledger -C home key` prints. */
void vf_roster_add(const char *county, const char *home, const char *name, const char *role, const char *scope);
/* `vledger -C home fetch src_repo` (a repo.git path), which must exit 0. */
void vf_fetch_ok(const char *home, const char *src_repo);
/* vledger -C home fetch src_home/repo.git, which must exit 0. */
void vf_fetch_home(const char *home, const char *src_home);
/* vledger -C home add zone (zone_no, area a-<zone_no>, sealed, active): its
 * new id into id, checked to be a ULID. */
void vf_add_zone(char id[VL_ULID_LEN + 1], const char *home, const char *zone_no);

/* One test's node (test_ui_form.c, test_ops_merge.c): a sandbox copy of a
 * template made once per group, and the node at dir/<node> in it, opened. */
typedef struct {
	char *dir;                   /* the sandbox (vt_rmtree'd by vf_node_copy_free) */
	char home[1024];             /* dir/<node> */
	vl_node *n;
} vf_node_copy;
/* For a per-test setup: a vf_sandbox of template_dir with the node at
 * <sandbox>/node opened (need_key as vl_node_open's) and, when load_config,
 * its config loaded. Caller frees with vf_node_copy_free. */
vf_node_copy *vf_node_copy_open(const char *template_dir, const char *node, int need_key, int load_config);
/* Close the node, remove the sandbox, free. NULL is fine. */
void vf_node_copy_free(vf_node_copy *c);
/* Every file of home/repo.git with its content hash (sha256sum lines, in
 * name order): "nothing written" is this string unchanged. Caller frees. */
char *vf_file_hashes(const char *home);

/* The codes of the network vf_network makes. */
#define VF_COUNTY_CODE "500243000000"
#define VF_TOWN_CODE "500243001000"
#define VF_V1_CODE "500243001001"
#define VF_V2_CODE "500243001002"

/*
 * The base network the receive and trust tests share, made with the binary
 * (for a group setup; the homes must not exist yet):
 *   - county: "County", a new network (VF_COUNTY_CODE); the network is
 *     exported to dir/network.yaml;
 *   - town: "Town", a township node (VF_TOWN_CODE), rostered by the county
 *     with town_role ("township", or "admin" to test a role mismatch);
 *   - v1, v2: villages "V1", "V2" (VF_V1_CODE, VF_V2_CODE), rostered;
 *   - town, v1 and v2 have fetched the county's config (roster included),
 *     in that order. No records are written: callers add their zones.
 * Fails the test if any step does not exit 0.
 */
void vf_network(const char *dir, const char *county, const char *town, const char *town_role, const char *v1,
		const char *v2);
/* Open the node at home with its (plain) key and its config loaded, as the
 * per-test setups do for the node they forge with; fp (NULL: not wanted)
 * gets the node's key fingerprint. Caller closes *out with vl_node_close. */
void vf_forger_open(vl_node **out, char *fp, const char *home);
/* Fail the test unless hay holds needle (what names hay in the message). */
void vf_must_contain(const char *hay, const char *needle, const char *what);
/* Fail the test if hay holds needle. */
void vf_must_not_contain(const char *hay, const char *needle, const char *what);
/* Refs, loose objects and packs of a repository, as text. Caller frees. */
char *vf_snapshot(const char *repo);

/* ---- forging with libgit2 and the library -------------------------------- */

git_oid vf_head_of(git_repository *repo, const char *ref);
/* Point ref at `to` (forced). */
void vf_move_ref(git_repository *repo, const char *ref, const git_oid *to);
git_oid vf_put_blob(git_repository *repo, const char *data, size_t len);
/* The tree of a commit. */
git_oid vf_tree_of(git_repository *repo, const git_oid *commit);
/* base_tree (NULL: empty) with path set to blob in `mode`, or removed when
 * blob is NULL. */
git_oid vf_tree_edit(git_repository *repo, const git_oid *base_tree, const char *path, const git_oid *blob,
		git_filemode_t mode);
/* A message continuing key fp's chain on the branch at head (NULL: new
 * branch), as vl_node_commit writes it. */
void vf_chain_msg(vl_buf *msg, git_repository *repo, const git_oid *head, const char *fp, const char *trailers);
/* The roster name of key fp on repo's config branch ("forger" if none). */
void vf_roster_name(char *out, size_t len, git_repository *repo, const char *fp);
/* The payload git_commit_create_buffer makes for tree on parent by fp: the
 * key's roster name, author time = committer time = now (or the key's
 * previous commit's time on the branch, if later). */
void vf_commit_payload(git_buf *payload, git_repository *repo, const git_oid *parent, const git_oid *tree_id,
		const char *fp, const char *msg);

/* How the signature of a forged commit is made. */
typedef enum {
	VF_SIG_GOOD,        /* as vl_repo_commit signs */
	VF_SIG_NONE,        /* unsigned */
	VF_SIG_OTHER_BYTES, /* a valid signature of the key over other bytes */
	VF_SIG_WRAP76,      /* base64 re-wrapped at 76 columns */
	VF_SIG_EXTRA_LINE,  /* armor passed with its final \n: an extra " \n" header line */
	VF_SIG_RESERVED,    /* a non-empty reserved field in the SSHSIG blob */
	VF_SIG_S_PLUS_L,    /* Ed25519 S replaced by S + L */
} vf_sig;

/* The armor of key's SSHSIG (namespace git) over payload, made in the given
 * way; VF_SIG_GOOD: canonical, without its final newline (as vl_repo_commit
 * passes it to libgit2). */
void vf_make_armor(vl_buf *armor, const vl_key *key, const char *payload, size_t len, vf_sig how);
/* Commit tree on parent (NULL: root) with author = committer "<fp>@vledger",
 * signed by key in the given way; point ref at it (forced). */
git_oid vf_write_commit_how(git_repository *repo, const char *ref, const git_oid *parent, const git_oid *tree_id,
		const char *fp, const char *msg, const vl_key *key, vf_sig how);
/* The same, signed as vl_repo_commit signs (key NULL: unsigned). */
git_oid vf_write_commit(git_repository *repo, const char *ref, const git_oid *parent, const git_oid *tree_id,
		const char *fp, const char *msg, const vl_key *key);
/* "Vledger-Record: <ledger> <id> <blob>\n" for a path <ledger>/<b>/<id>.yaml. */
void vf_record_trailer(vl_buf *out, const char *path, const git_oid *blob);
/* One commit on ref (a new branch when it has no head) that sets path to
 * blob in mode, by fp / key in the given way, continuing fp's chain;
 * trailers NULL: the right Vledger-Record trailer for the file. */
git_oid vf_forge_entry(git_repository *repo, const char *ref, const char *fp, const vl_key *key, const char *path,
		const git_oid *blob, git_filemode_t mode, const char *trailers, vf_sig how);
/* vf_forge_entry of data, signed as vl_repo_commit signs (key NULL: unsigned). */
git_oid vf_forge_file(git_repository *repo, const char *ref, const char *fp, const vl_key *key, const char *path,
		const char *data, size_t len, git_filemode_t mode, const char *trailers);

/* ---- records -------------------------------------------------------------- */

/* A new zone record of `scope` signed by k, as the binary writes it. */
void vf_make_zone(vl_buf *out, const vl_key *k, const char *id, const char *scope, const char *zone_no);
/* The signed-over part of a record: everything before its sig line. */
void vf_record_body(vl_buf *out, const vl_buf *file);
/* body + a correct sig line over exactly those bytes (whatever they are). */
void vf_sign_body(vl_buf *out, const vl_key *k, const char *body, size_t len);
/* Replace the first `from` in b by `to` (in place, through a copy). */
void vf_buf_replace(vl_buf *b, const char *from, const char *to);
void vf_new_id(char id[VL_ULID_LEN + 1]);
/* <ledger>/<last char>/<id>.yaml */
void vf_rec_path(char *out, size_t len, const char *ledger, const char *id);
/* A fresh valid zone record (zone_no Z9) of scope signed by k, its path and id. */
void vf_new_zone(vl_buf *file, const vl_key *k, const char *scope, char path[128], char id[VL_ULID_LEN + 1]);

#endif
