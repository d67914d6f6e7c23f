/*
 * cmd_roster.c - roster revoke, roster approve, key rotate.
 *
 * Every roster change here is one signed commit on config, checked first
 * with vl_roster_check_change (roster.h) against the roster it builds on:
 * the same rule verify and fetch apply to it later.
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
 *   admin runs `vledger roster approve FILE`; once the node has fetched a
 *   config holding the new key, `vledger key rotate --finish` switches.
 * Switching: keys/node.key is copied to keys/node.key.old-<UTC stamp> (mode
 * 0600, sealed as it was), then node.key.next and node.pub.next are renamed
 * over node.key and node.pub. A crash between the two renames is completed
 * by `key rotate --finish`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agent/cmd/cli.h"
#include "store/repo.h"
#include "agent/node/roster.h"
#include "schemas/types.h"
#include "store/yaml.h"

#define REASON_MAX 200
#define REQUEST_MAX ((size_t)16 * 1024)
#define REQUEST_KIND "key-rotation"

static const char *map_str(const vl_value *m, const char *key)
{
	const vl_value *v = vl_value_map_get(m, key);

	return v && v->kind == VL_V_STR ? v->s : NULL;
}

/* One line of printable text (no control characters). */
static int one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static const char *network_county(const vl_node *n)
{
	return map_str(n->network, "county");
}

/* The map of the roster entry with fingerprint fp inside a roster tree. */
static vl_value *entry_value(vl_value *roster, const char *fp)
{
	vl_value *keys = vl_value_map_get(roster, "keys");
	size_t i;

	for (i = 0; keys && keys->kind == VL_V_LIST && i < keys->n; i++) {
		const char *f = map_str(keys->items[i], "fingerprint");
		if (f && !strcmp(f, fp))
			return keys->items[i];
	}
	return NULL;
}

/* Mark the entry fp of a roster tree revoked at `when` for `reason`. */
static int mark_revoked(vl_value *roster, const char *fp, const char *when, const char *reason)
{
	vl_value *e = entry_value(roster, fp);

	if (!e)
		return vl_error_set(VL_ENOTFOUND, "key %s is not on the roster", fp);
	if (vl_value_map_set(e, "revoked_at", vl_value_str(when)) < 0 ||
			vl_value_map_set(e, "revoked_reason", vl_value_str(reason)) < 0)
		return vl_error_set(VL_ENOMEM, "out of memory");
	return 0;
}

/*
 * Check `roster` against the node's current roster with the shared rule,
 * then commit it on config signed by the node key. The caller has ticked
 * the clock (its value is the commit time).
 */
static int commit_roster(vl_node *n, const vl_value *roster, const char *summary, const char *trailers)
{
	vl_buf out = VL_BUF_INIT;
	git_oid head, id;
	vl_change ch;
	int rc;

	if ((rc = vl_roster_check_change(n->roster, roster, n->fp, network_county(n), 0)) < 0 ||
			(rc = vl_yaml_emit(&out, roster)) < 0 || (rc = vl_repo_head(&head, n->repo, VL_REF_CONFIG)) < 0)
		goto out;
	ch = (vl_change){ "roster.yaml", out.ptr, out.len };
	rc = vl_node_commit(&id, n, VL_REF_CONFIG, &head, &ch, 1, summary, trailers);
out:
	vl_buf_free(&out);
	return rc;
}

/* Tick the clock; `when` = its whole second as RFC 3339, the time both the
 * commit and the revoked_at / valid_from it writes carry. */
static int tick_when(vl_node *n, char when[21])
{
	char clock[VL_HLC_TEXT_LEN + 1];
	int rc;

	if ((rc = vl_node_tick(n, clock)) < 0)
		return rc;
	vl_roster_time_text(when, n->clock.ms);
	return 0;
}

/* ---- roster revoke ------------------------------------------------------ */

int vl_cmd_roster_revoke(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *reason = NULL, *passfile = NULL;
	const vl_opt opts[] = {
		{ "--reason", 1, &reason, NULL, NULL }, { "--passphrase-file", 1, &passfile, NULL, NULL },
		{ NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_value *roster = NULL;
	vl_buf summary = VL_BUF_INIT, trailers = VL_BUF_INIT;
	const vl_roster_entry *e;
	char fp[VL_FP_LEN], when[21];
	int rc, exit_code = VL_EXIT_ERROR;

	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1 || !reason) {
		free(pos);
		return vl_cli_usage(cmd, "needs the key's fingerprint and --reason");
	}
	snprintf(fp, sizeof(fp), "%s", pos[0]);
	free(pos);
	if (!*reason || strlen(reason) > REASON_MAX || !one_line(reason))
		return vl_cli_usage(cmd, "--reason must be one line of 1 to %d bytes", REASON_MAX);
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_node_load_config(n)) < 0)
		goto fail;
	if (!(e = vl_node_roster_find(n, fp))) {
		rc = vl_error_set(VL_ENOTFOUND, "key '%.60s' is not on the roster; 'vledger roster list' "
				"shows the fingerprints", fp);
		goto fail;
	}
	if (e->revoked_at) {
		rc = vl_error_set(VL_EEXISTS, "key %s was already revoked at %s", fp, e->revoked_at);
		goto fail;
	}
	if ((rc = tick_when(n, when)) < 0)
		goto fail;
	if (!(roster = vl_value_clone(n->roster))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = mark_revoked(roster, fp, when, reason)) < 0 ||
			(rc = vl_roster_pin_heads(roster, n, fp)) < 0 ||
			(rc = vl_buf_printf(&summary, "roster: revoke %s (%s, %s)", fp, e->role, e->scope)) < 0 ||
			(rc = vl_buf_printf(&trailers, "Vledger-Config: roster\nVledger-Reason: %s\n", reason)) < 0 ||
			(rc = commit_roster(n, roster, summary.ptr, trailers.ptr)) < 0)
		goto fail;
	printf("revoked %s (%s, scope %s) at %s\n", fp, e->role, e->scope, when);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_value_free(roster);
	vl_buf_free(&summary);
	vl_buf_free(&trailers);
	vl_node_close(n);
	return exit_code;
}

/* ---- rotation: the roster change ---------------------------------------- */

/* Commit "add new_pk with old's name, role and scope; revoke old" on config,
 * signed by this node's key. */
static int commit_rotation(vl_node *n, const vl_roster_entry *old, const unsigned char new_pk[32],
		char when[21])
{
	vl_value *roster = NULL, *keys;
	vl_buf summary = VL_BUF_INIT, reason = VL_BUF_INIT;
	char newfp[VL_FP_LEN], oldfp[VL_FP_LEN];
	int rc;

	vl_fingerprint(newfp, new_pk);
	memcpy(oldfp, old->fp, VL_FP_LEN);
	if (vl_node_roster_find(n, newfp))
		return vl_error_set(VL_EEXISTS, "the new key %s is already on the roster", newfp);
	if ((rc = tick_when(n, when)) < 0)
		return rc;
	if (!(roster = vl_value_clone(n->roster)) || !(keys = vl_value_map_get(roster, "keys")) ||
			vl_value_list_push(keys, vl_roster_entry_new(new_pk, old->name, old->role, old->scope, when)) < 0) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = vl_buf_printf(&reason, "rotated to %s", newfp)) < 0 ||
			(rc = mark_revoked(roster, oldfp, when, reason.ptr)) < 0 ||
			(rc = vl_buf_printf(&summary, "roster: rotate key of %s (%s, %s)", oldfp, old->role, old->scope)) < 0)
		goto out;
	vl_buf_clear(&reason);
	if ((rc = vl_buf_printf(&reason, "Vledger-Config: roster\nVledger-Rotate: %s %s\n", oldfp, newfp)) < 0)
		goto out;
	rc = commit_roster(n, roster, summary.ptr, reason.ptr);
out:
	vl_value_free(roster);
	vl_buf_free(&summary);
	vl_buf_free(&reason);
	return rc;
}

/* ---- rotation: key files ------------------------------------------------ */

static int key_path(vl_buf *b, const vl_node *n, const char *file)
{
	vl_buf_clear(b);
	return vl_buf_printf(b, "%s/keys/%s", n->home, file);
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY), rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = vl_error_set(VL_ERROR, "cannot sync '%s': %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * Make the pending key (node.key.next / node.pub.next) the node's key. Keeps
 * the old secret key as node.key.old-<stamp>. Idempotent after a crash: a
 * node.key.next already renamed is not copied again.
 */
static int switch_keys(const vl_node *n)
{
	vl_buf p = VL_BUF_INIT, q = VL_BUF_INIT, old = VL_BUF_INIT, dir = VL_BUF_INIT;
	char stamp[21], compact[17];
	int rc;

	vl_roster_time_text(stamp, vl_hlc_wall_ms());
	snprintf(compact, sizeof(compact), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", stamp, stamp + 5, stamp + 8,
			stamp + 11, stamp + 14, stamp + 17);
	if ((rc = key_path(&p, n, "node.key.next")) < 0 || (rc = vl_buf_printf(&dir, "%s/keys", n->home)) < 0)
		goto out;
	if (exists(p.ptr)) {
		if ((rc = key_path(&q, n, "node.key")) < 0 || (rc = vl_buf_read_file(&old, q.ptr, 4096)) < 0)
			goto out;
		vl_buf_clear(&q);
		if ((rc = vl_buf_printf(&q, "%s/keys/node.key.old-%s", n->home, compact)) < 0 ||
				(rc = vl_buf_write_file(q.ptr, old.ptr, old.len, 0600)) < 0 ||
				(rc = key_path(&q, n, "node.key")) < 0)
			goto out;
		if (rename(p.ptr, q.ptr) < 0) {
			rc = vl_error_set(VL_ERROR, "cannot rename '%s': %s", p.ptr, strerror(errno));
			goto out;
		}
	}
	if ((rc = key_path(&p, n, "node.pub.next")) < 0 || (rc = key_path(&q, n, "node.pub")) < 0)
		goto out;
	if (exists(p.ptr) && rename(p.ptr, q.ptr) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot rename '%s': %s", p.ptr, strerror(errno));
		goto out;
	}
	rc = sync_dir(dir.ptr);
out:
	vl_buf_free_secure(&old);
	vl_buf_free(&p);
	vl_buf_free(&q);
	vl_buf_free(&dir);
	return rc;
}

static void remove_pending(const vl_node *n)
{
	vl_buf p = VL_BUF_INIT;

	if (key_path(&p, n, "node.key.next") == 0)
		(void)unlink(p.ptr);
	if (key_path(&p, n, "node.pub.next") == 0)
		(void)unlink(p.ptr);
	vl_buf_free(&p);
}

/* Write the new key pair as node.key.next / node.pub.next; the secret key
 * sealed with `pass` when it is not NULL. */
static int write_pending(const vl_node *n, const vl_key *k, const char *pass)
{
	vl_buf p = VL_BUF_INIT, pub = VL_BUF_INIT;
	int rc;

	if ((rc = key_path(&p, n, "node.key.next")) < 0 || (rc = vl_key_save(k, p.ptr, pass)) < 0 ||
			(rc = vl_pubkey_format(&pub, k->pk, n->name)) < 0 || (rc = vl_buf_putc(&pub, '\n')) < 0 ||
			(rc = key_path(&p, n, "node.pub.next")) < 0 ||
			(rc = vl_buf_write_file(p.ptr, pub.ptr, pub.len, 0644)) < 0)
		remove_pending(n);
	vl_buf_free(&p);
	vl_buf_free(&pub);
	return rc;
}

/* The pending public key, if any: 1 and pk set, 0 if none. */
static int pending_pub(const vl_node *n, unsigned char pk[32])
{
	vl_buf p = VL_BUF_INIT, b = VL_BUF_INIT;
	int rc;

	if ((rc = key_path(&p, n, "node.pub.next")) < 0)
		goto out;
	rc = vl_buf_read_file(&b, p.ptr, 4096);
	if (rc == VL_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc < 0 || (rc = vl_pubkey_parse(pk, b.ptr)) < 0) {
		vl_error_wrap(rc, "cannot read '%s'", p.ptr);
		goto out;
	}
	rc = 1;
out:
	vl_buf_free(&p);
	vl_buf_free(&b);
	return rc;
}

/* ---- rotation: the request file ----------------------------------------- */

/* The request: a canonical YAML map (kind: key-rotation; 'kind: join' files
 * are cmd_invite.c's), then `sig: "<base64 SSHSIG>"` over the
 * bytes before that line by the old key, namespace vledger-rotate. */
static int write_request(const vl_node *n, const unsigned char new_pk[32], const char *path)
{
	vl_value *m = NULL;
	vl_buf body = VL_BUF_INIT, oldk = VL_BUF_INIT, newk = VL_BUF_INIT, blob = VL_BUF_INIT, b64 = VL_BUF_INIT;
	char now[21];
	int rc = VL_ENOMEM;

	vl_roster_time_text(now, vl_hlc_wall_ms());
	if ((rc = vl_pubkey_format(&oldk, n->key.pk, NULL)) < 0 || (rc = vl_pubkey_format(&newk, new_pk, NULL)) < 0)
		goto out;
	if (!(m = vl_value_new(VL_V_MAP)) || vl_value_map_set(m, "kind", vl_value_str(REQUEST_KIND)) < 0 ||
			vl_value_map_set(m, "network", vl_value_str(n->network_id)) < 0 ||
			vl_value_map_set(m, "name", vl_value_str(n->name)) < 0 ||
			vl_value_map_set(m, "scope", vl_value_str(n->scope)) < 0 ||
			vl_value_map_set(m, "old_key", vl_value_str(oldk.ptr)) < 0 ||
			vl_value_map_set(m, "new_key", vl_value_str(newk.ptr)) < 0 ||
			vl_value_map_set(m, "requested_at", vl_value_str(now)) < 0) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = vl_yaml_emit(&body, m)) < 0 ||
			(rc = vl_sshsig_sign(&blob, &n->key, VL_NS_ROTATE, body.ptr, body.len)) < 0 ||
			(rc = vl_base64_encode(&b64, blob.ptr, blob.len)) < 0 ||
			(rc = vl_buf_printf(&body, "sig: \"%s\"\n", b64.ptr)) < 0)
		goto out;
	rc = vl_buf_write_file(path, body.ptr, body.len, 0644);
out:
	vl_value_free(m);
	vl_buf_free(&body);
	vl_buf_free(&oldk);
	vl_buf_free(&newk);
	vl_buf_free(&blob);
	vl_buf_free(&b64);
	return rc;
}

/*
 * Read and verify a request: the signature over the body must verify and be
 * by the body's old_key. old_pk/new_pk receive the keys, *req the body
 * (caller frees). VL_EBADSIG when it does not verify; VL_EINVALID when
 * malformed.
 */
static int read_request(vl_value **req, unsigned char old_pk[32], unsigned char new_pk[32], const char *path)
{
	vl_buf file = VL_BUF_INIT, blob = VL_BUF_INIT;
	vl_value *m = NULL;
	unsigned char signer[32];
	const char *p, *sig, *end;
	size_t body_len;
	int rc;

	*req = NULL;
	if ((rc = vl_buf_read_file(&file, path, REQUEST_MAX)) < 0)
		goto out;
	rc = vl_error_set(VL_EINVALID, "'%s' is not a key rotation request (made by 'vledger key rotate')", path);
	if (file.len == 0)
		goto out;
	/* The last line: sig: "<base64>" */
	end = file.ptr + file.len;
	if (end[-1] != '\n')
		goto out;
	for (p = end - 1; p > file.ptr && p[-1] != '\n'; p--)
		;
	if (strncmp(p, "sig: \"", 6) != 0 || end - p < 9 || end[-2] != '"')
		goto out;
	body_len = (size_t)(p - file.ptr);
	sig = p + 6;
	if (vl_base64_decode(&blob, sig, (size_t)(end - 2 - sig)) < 0)
		goto out;
	if (vl_sshsig_verify(blob.ptr, blob.len, VL_NS_ROTATE, file.ptr, body_len, signer) < 0) {
		rc = vl_error_set(VL_EBADSIG, "the signature of '%s' does not verify: the request was "
				"changed or not made by 'vledger key rotate'", path);
		goto out;
	}
	if (vl_yaml_load(&m, file.ptr, body_len, &vl_yaml_file_limits, path) < 0 ||
			!map_str(m, "kind") || strcmp(map_str(m, "kind"), REQUEST_KIND) != 0 ||
			!map_str(m, "old_key") || !map_str(m, "new_key") || !map_str(m, "network") ||
			vl_pubkey_parse(old_pk, map_str(m, "old_key")) < 0 ||
			vl_pubkey_parse(new_pk, map_str(m, "new_key")) < 0)
		goto out;
	if (sodium_memcmp(signer, old_pk, 32) != 0) {
		rc = vl_error_set(VL_EBADSIG, "'%s' is signed by another key than the one it retires", path);
		goto out;
	}
	if (!memcmp(old_pk, new_pk, 32))
		goto out;
	*req = m;
	m = NULL;
	rc = 0;
out:
	vl_value_free(m);
	vl_buf_free(&file);
	vl_buf_free(&blob);
	return rc;
}

/* ---- roster approve ----------------------------------------------------- */

int vl_cmd_roster_approve(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *passfile = NULL;
	const vl_opt opts[] = { { "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL } };
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_value *req = NULL;
	const vl_roster_entry *old;
	const char *net;
	unsigned char old_pk[32], new_pk[32];
	char oldfp[VL_FP_LEN], newfp[VL_FP_LEN], when[21];
	int rc, exit_code = VL_EXIT_ERROR;

	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs the request file that 'vledger key rotate' or 'vledger join' wrote");
	}
	if (vl_join_request_is(pos[0])) {
		/* kind: join (cmd_invite.c) */
		exit_code = vl_approve_join(cli, pos[0], passfile);
		free(pos);
		return exit_code;
	}
	if (vl_cli_node(&n, cli, 1, passfile) < 0) {
		free(pos);
		return VL_EXIT_ERROR;
	}
	if ((rc = vl_node_load_config(n)) < 0 || (rc = read_request(&req, old_pk, new_pk, pos[0])) < 0)
		goto fail;
	vl_fingerprint(oldfp, old_pk);
	vl_fingerprint(newfp, new_pk);
	net = map_str(n->network, "network");
	if (!net || strcmp(net, map_str(req, "network")) != 0) {
		rc = vl_error_set(VL_EDENIED, "the request is for another network");
		goto fail;
	}
	if (!(old = vl_node_roster_find(n, oldfp))) {
		rc = vl_error_set(VL_ENOTFOUND, "the key %s that the request retires is not on the roster "
				"(fetch the config first?)", oldfp);
		goto fail;
	}
	if (old->revoked_at) {
		rc = vl_error_set(VL_EDENIED, "the key %s that the request retires was revoked at %s; "
				"a revoked key cannot ask for a new one", oldfp, old->revoked_at);
		goto fail;
	}
	if ((rc = commit_rotation(n, old, new_pk, when)) < 0)
		goto fail;
	printf("approved: %s (%s, scope %s) now signs with %s; %s revoked at %s\n", old->name, old->role,
			old->scope, newfp, oldfp, when);
	printf("the node switches with 'vledger key rotate --finish' after it fetches this config\n");
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_value_free(req);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

/* ---- key rotate --------------------------------------------------------- */

static int rotate_finish(vl_node *n)
{
	const vl_roster_entry *e;
	unsigned char pk[32];
	char fp[VL_FP_LEN];
	int rc;

	if ((rc = pending_pub(n, pk)) < 0)
		return rc;
	if (rc == 0)
		return vl_error_set(VL_ENOTFOUND, "no key rotation is pending on this node; start one with "
				"'vledger key rotate'");
	vl_fingerprint(fp, pk);
	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	e = vl_node_roster_find(n, fp);
	if (!e)
		return vl_error_set(VL_ENOTFOUND, "the new key %s is not on this node's roster yet: an admin "
				"approves the request with 'vledger roster approve FILE', then run 'vledger fetch' "
				"and this command again; until then the old key goes on signing", fp);
	if (e->revoked_at)
		return vl_error_set(VL_EDENIED, "the new key %s was revoked at %s", fp, e->revoked_at);
	if ((rc = switch_keys(n)) < 0)
		return rc;
	printf("this node now signs with %s\n", fp);
	return 0;
}

int vl_cmd_key_rotate(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *output = NULL, *passfile = NULL;
	int finish = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = {
		{ "--output", 1, &output, NULL, NULL }, { "--finish", 0, NULL, &finish, NULL },
		{ "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_buf p = VL_BUF_INIT;
	const vl_roster_entry *me;
	char *pass = NULL;
	unsigned char pk[32];
	char newfp[VL_FP_LEN], when[21];
	vl_key k;
	int pending = 0;

	memset(&k, 0, sizeof(k));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	free(pos);
	if (npos || (finish && output))
		return vl_cli_usage(cmd, "takes no arguments; --output only when starting a rotation");
	if (finish) {
		if (vl_cli_node(&n, cli, 0, NULL) < 0)
			return VL_EXIT_ERROR;
		rc = rotate_finish(n);
		vl_node_close(n);
		return rc < 0 ? vl_cli_fail(rc) : VL_EXIT_OK;
	}
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_node_load_config(n)) < 0)
		goto fail;
	if ((rc = pending_pub(n, pk)) != 0) {
		if (rc > 0) {
			vl_fingerprint(newfp, pk);
			rc = vl_error_set(VL_EEXISTS, "a rotation to %s is already pending: finish it with "
					"'vledger key rotate --finish' once approved, or delete keys/node.key.next and "
					"keys/node.pub.next to start again", newfp);
		}
		goto fail;
	}
	if (!(me = vl_node_roster_find(n, n->fp))) {
		rc = vl_error_set(VL_EDENIED, "this node's key %s is not on the roster; nothing to rotate", n->fp);
		goto fail;
	}
	if (me->revoked_at) {
		rc = vl_error_set(VL_EDENIED, "this node's key %s was revoked at %s; an admin adds a new key "
				"with 'vledger roster add'", n->fp, me->revoked_at);
		goto fail;
	}
	/* The new key is sealed like the old one. */
	if ((rc = key_path(&p, n, "node.key")) < 0)
		goto fail;
	if (vl_key_is_sealed(p.ptr) == 1) {
		if (!passfile)
			passfile = getenv("VLEDGER_PASSPHRASE_FILE");
		if ((rc = vl_read_passphrase(&pass, passfile)) < 0)
			goto fail;
	}
	if ((rc = vl_key_generate(&k)) < 0 || (rc = write_pending(n, &k, pass)) < 0)
		goto fail;
	pending = 1;
	vl_fingerprint(newfp, k.pk);
	if (!strcmp(me->role, "admin")) {
		/* An admin approves its own rotation: one commit signed by the old key. */
		if ((rc = commit_rotation(n, me, k.pk, when)) < 0)
			goto fail;
		pending = 0;
		if ((rc = switch_keys(n)) < 0) {
			vl_error_wrap(rc, "the roster holds the new key but the key files did not switch; "
					"run 'vledger key rotate --finish'");
			goto fail;
		}
		printf("rotated: this node now signs with %s; %s revoked at %s\n", newfp, n->fp, when);
	} else {
		const char *path = output ? output : "rotate-request.yaml";
		if ((rc = write_request(n, k.pk, path)) < 0)
			goto fail;
		pending = 0;
		printf("new key %s is pending; this node goes on signing with %s until the switch\n", newfp, n->fp);
		printf("wrote the request to %s; an admin whose scope covers %s runs:\n"
				"  vledger roster approve %s\n"
				"then, after 'vledger fetch', run here: vledger key rotate --finish\n", path, n->scope, path);
	}
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	if (pending)
		remove_pending(n);
	exit_code = vl_cli_fail(rc);
out:
	if (pass) {
		sodium_memzero(pass, strlen(pass));
		free(pass);
	}
	vl_key_wipe(&k);
	vl_buf_free(&p);
	vl_node_close(n);
	return exit_code;
}
