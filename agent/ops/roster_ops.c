/* roster_ops.c - roster add, list, revoke, approve, key rotate, export
 * allowed-signers (see roster_ops.h). */
#include "agent/ops/roster_ops.h"
#include "store/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agent/node/passprompt.h"
#include "agent/node/roster.h"
#include "agent/ops/invite_ops.h"
#include "schemas/types.h"
#include "store/i18n.h"
#include "store/repo.h"
#include "store/yaml.h"

#define REQUEST_KIND "key-rotation"

static const char *map_str(const vl_value *m, const char *key)
{
	const vl_value *v = vl_value_map_get(m, key);

	return v && v->kind == VL_V_STR ? v->s : NULL;
}

static const char *network_county(const vl_node *n)
{
	return map_str(n->network, "county");
}

static int oom(void)
{
	return vl_error_set(VL_ENOMEM, "out of memory");
}

/* Is this node's key an admin whose scope covers `scope`? */
static int require_admin(const vl_node *n, const char *scope)
{
	const vl_roster_entry *me = vl_node_roster_find(n, n->fp);

	if (!me)
		return vl_error_set(VL_EDENIED, "this node's key %s is not on the roster", n->fp);
	if (me->revoked_at)
		return vl_error_set(VL_EDENIED, "this node's key %s was revoked", n->fp);
	if (strcmp(me->role, "admin") != 0 || !vl_division_covers(me->scope, scope))
		return vl_error_set(VL_EDENIED, "only an admin whose scope covers '%s' may change the roster "
				"(this key is '%s' for '%s')", scope, me->role, me->scope);
	return 0;
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
		return oom();
	return 0;
}

/*
 * Check `roster` against the node's current roster with the shared rule,
 * then commit it on config signed by the node key, and reload the config.
 * The caller has ticked the clock (its value is the commit time) and holds
 * no pointer into the loaded config.
 */
static int commit_roster(git_oid *id, vl_node *n, const vl_value *roster, const char *summary,
		const char *trailers)
{
	vl_buf out = VL_BUF_INIT;
	git_oid head;
	vl_change ch;
	int rc;

	if ((rc = vl_roster_check_change(n->roster, roster, n->fp, network_county(n), 0)) < 0 ||
			(rc = vl_yaml_emit(&out, roster)) < 0 || (rc = vl_repo_head(&head, n->repo, VL_REF_CONFIG)) < 0)
		goto out;
	ch = (vl_change){ "roster.yaml", out.ptr, out.len, NULL };
	if ((rc = vl_node_commit(id, n, VL_REF_CONFIG, &head, &ch, 1, summary, trailers)) < 0)
		goto out;
	rc = vl_node_reload_config(n);
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

/* ---- roster add ------------------------------------------------------------ */

void vl_roster_add_result_free(vl_roster_add_result *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->role);
	memset(r, 0, sizeof(*r));
}

int vl_roster_add(vl_node *n, const vl_roster_add_opts *opts, vl_roster_add_result *out)
{
	vl_value *roster = NULL, *keys;
	vl_buf summary = VL_BUF_INIT;
	unsigned char pk[32];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts || !opts->name || !opts->role || !opts->scope || !opts->key) {
		rc = vl_error_set(VL_EINVALID, "roster add needs a name, role, scope and key");
		goto out;
	}
	if ((rc = vl_crypto_init()) < 0 || (rc = vl_roster_role_scope_check(opts->role, opts->scope)) < 0 ||
			(rc = vl_pubkey_parse(pk, opts->key)) < 0)
		goto out;
	if ((rc = vl_node_load_config(n)) < 0 || (rc = require_admin(n, opts->scope)) < 0)
		goto out;
	vl_fingerprint(out->fp, pk);
	if (vl_node_roster_find(n, out->fp)) {
		rc = vl_error_set(VL_EEXISTS, "key %s is already on the roster", out->fp);
		goto out;
	}
	if (!(out->name = strdup(opts->name)) || !(out->role = strdup(opts->role))) {
		rc = oom();
		goto out;
	}
	snprintf(out->scope, sizeof(out->scope), "%s", opts->scope);
	if ((rc = tick_when(n, out->valid_from)) < 0)
		goto out;
	if (!(roster = vl_value_clone(n->roster)) || !(keys = vl_value_map_get(roster, "keys")) ||
			vl_value_list_push(keys, vl_roster_entry_new(pk, opts->name, opts->role, opts->scope,
					out->valid_from)) < 0) {
		rc = oom();
		goto out;
	}
	if ((rc = vl_buf_printf(&summary, "roster: add %s (%s, %s)", opts->name, opts->role, opts->scope)) < 0 ||
			(rc = commit_roster(&out->commit, n, roster, summary.ptr, "Vledger-Config: roster\n")) < 0)
		goto out;
out:
	vl_value_free(roster);
	vl_buf_free(&summary);
	return rc;
}

/* ---- roster list ----------------------------------------------------------- */

void vl_roster_list_result_free(vl_roster_list_result *r)
{
	if (!r)
		return;
	free(r->entries);
	vl_value_free(r->roster);
	memset(r, 0, sizeof(*r));
}

int vl_roster_list(vl_node *n, const vl_roster_list_opts *opts, vl_roster_list_result *out)
{
	int rc;

	(void)opts;
	memset(out, 0, sizeof(*out));
	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	if (!(out->roster = vl_value_clone(n->roster)))
		return oom();
	return vl_roster_index(&out->entries, &out->n, out->roster);
}

/* ---- roster revoke ----------------------------------------------------------- */

int vl_revoke_reason_valid(const char *reason)
{
	size_t l = reason ? strlen(reason) : 0;
	const char *s;

	if (l == 0 || l > VL_REVOKE_REASON_MAX)
		return 0;
	for (s = reason; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

void vl_roster_revoke_result_free(vl_roster_revoke_result *r)
{
	if (!r)
		return;
	free(r->role);
	memset(r, 0, sizeof(*r));
}

int vl_roster_revoke(vl_node *n, const vl_roster_revoke_opts *opts, vl_roster_revoke_result *out)
{
	vl_value *roster = NULL;
	vl_buf summary = VL_BUF_INIT, trailers = VL_BUF_INIT;
	const vl_roster_entry *e;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts || !opts->fp || !vl_revoke_reason_valid(opts->reason)) {
		rc = vl_error_set(VL_EINVALID, "a revocation needs the key's fingerprint and a reason of one "
				"line of 1 to %d bytes", VL_REVOKE_REASON_MAX);
		goto out;
	}
	if ((rc = vl_node_load_config(n)) < 0)
		goto out;
	if (!(e = vl_node_roster_find(n, opts->fp))) {
		rc = vl_error_set(VL_ENOTFOUND, "key '%.60s' is not on the roster; 'vledger roster list' "
				"shows the fingerprints", opts->fp);
		goto out;
	}
	if (e->revoked_at) {
		rc = vl_error_set(VL_EEXISTS, "key %s was already revoked at %s", e->fp, e->revoked_at);
		goto out;
	}
	memcpy(out->fp, e->fp, VL_FP_LEN);
	snprintf(out->scope, sizeof(out->scope), "%s", e->scope);
	if (!(out->role = strdup(e->role))) {
		rc = oom();
		goto out;
	}
	if ((rc = tick_when(n, out->revoked_at)) < 0)
		goto out;
	if (!(roster = vl_value_clone(n->roster))) {
		rc = oom();
		goto out;
	}
	if ((rc = mark_revoked(roster, out->fp, out->revoked_at, opts->reason)) < 0 ||
			(rc = vl_roster_pin_heads(roster, n, out->fp)) < 0 ||
			(rc = vl_buf_printf(&summary, "roster: revoke %s (%s, %s)", out->fp, out->role, out->scope)) < 0 ||
			(rc = vl_buf_printf(&trailers, "Vledger-Config: roster\nVledger-Reason: %s\n", opts->reason)) < 0 ||
			(rc = commit_roster(&out->commit, n, roster, summary.ptr, trailers.ptr)) < 0)
		goto out;
out:
	vl_value_free(roster);
	vl_buf_free(&summary);
	vl_buf_free(&trailers);
	return rc;
}

/* ---- rotation: the roster change ---------------------------------------- */

/* Commit "add new_pk with old's name, role and scope; revoke old" on config,
 * signed by this node's key. `old` is copied first: the commit reloads the
 * config it points into. */
static int commit_rotation(git_oid *id, vl_node *n, const vl_roster_entry *old,
		const unsigned char new_pk[32], char when[21])
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
		rc = oom();
		goto out;
	}
	if ((rc = vl_buf_printf(&reason, "rotated to %s", newfp)) < 0 ||
			(rc = mark_revoked(roster, oldfp, when, reason.ptr)) < 0 ||
			(rc = vl_roster_pin_heads(roster, n, oldfp)) < 0 ||
			(rc = vl_buf_printf(&summary, "roster: rotate key of %s (%s, %s)", oldfp, old->role, old->scope)) < 0)
		goto out;
	vl_buf_clear(&reason);
	if ((rc = vl_buf_printf(&reason, "Vledger-Config: roster\nVledger-Rotate: %s %s\n", oldfp, newfp)) < 0)
		goto out;
	rc = commit_roster(id, n, roster, summary.ptr, reason.ptr);
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
 * are invite_ops.c's), then `sig: "<base64 SSHSIG>"` over the bytes before
 * that line by the old key, namespace vledger-rotate. */
static int make_request(vl_buf *body, const vl_node *n, const unsigned char new_pk[32])
{
	vl_value *m = NULL;
	vl_buf oldk = VL_BUF_INIT, newk = VL_BUF_INIT, blob = VL_BUF_INIT, b64 = VL_BUF_INIT;
	char now[21];
	int rc;

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
		rc = oom();
		goto out;
	}
	if ((rc = vl_yaml_emit(body, m)) < 0 ||
			(rc = vl_sshsig_sign(&blob, &n->key, VL_NS_ROTATE, body->ptr, body->len)) < 0 ||
			(rc = vl_base64_encode(&b64, blob.ptr, blob.len)) < 0)
		goto out;
	rc = vl_buf_printf(body, "sig: \"%s\"\n", b64.ptr);
out:
	vl_value_free(m);
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
	if ((rc = vl_buf_read_file(&file, path, VL_ROTATE_REQUEST_MAX)) < 0)
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

void vl_roster_approve_result_free(vl_roster_approve_result *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->role);
	free(r->requested_name);
	vl_buf_free(&r->source);
	memset(r, 0, sizeof(*r));
}

/* kind: key-rotation */
static int approve_rotation(vl_node *n, const char *path, vl_roster_approve_result *out)
{
	vl_value *req = NULL;
	const vl_roster_entry *old;
	const char *net;
	unsigned char old_pk[32], new_pk[32];
	int rc;

	if ((rc = vl_node_load_config(n)) < 0 || (rc = read_request(&req, old_pk, new_pk, path)) < 0)
		goto out;
	out->kind = VL_APPROVE_ROTATION;
	vl_fingerprint(out->old_fp, old_pk);
	vl_fingerprint(out->fp, new_pk);
	net = map_str(n->network, "network");
	if (!net || strcmp(net, map_str(req, "network")) != 0) {
		rc = vl_error_set(VL_EDENIED, "the request is for another network");
		goto out;
	}
	if (!(old = vl_node_roster_find(n, out->old_fp))) {
		rc = vl_error_set(VL_ENOTFOUND, "the key %s that the request retires is not on the roster "
				"(fetch the config first?)", out->old_fp);
		goto out;
	}
	if (old->revoked_at) {
		rc = vl_error_set(VL_EDENIED, "the key %s that the request retires was revoked at %s; "
				"a revoked key cannot ask for a new one", out->old_fp, old->revoked_at);
		goto out;
	}
	if (!(out->name = strdup(old->name)) || !(out->role = strdup(old->role))) {
		rc = oom();
		goto out;
	}
	snprintf(out->scope, sizeof(out->scope), "%s", old->scope);
	rc = commit_rotation(&out->commit, n, old, new_pk, out->when);
out:
	vl_value_free(req);
	return rc;
}

int vl_roster_approve(vl_node *n, const vl_roster_approve_opts *opts, vl_roster_approve_result *out)
{
	vl_buf b = VL_BUF_INIT;
	vl_value *req = NULL;
	const char *kind;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts || !opts->path) {
		rc = vl_error_set(VL_EINVALID, "roster approve needs the request file");
		goto out;
	}
	if ((rc = vl_crypto_init()) < 0)
		goto out;
	/* kind: join is a plain YAML map; anything else is read as a rotation
	 * request, whose reader names what is wrong with it. */
	if (vl_buf_read_file(&b, opts->path, VL_REQUEST_FILE_MAX) < 0 ||
			vl_yaml_load(&req, b.ptr, b.len, &vl_yaml_file_limits, opts->path) < 0)
		vl_error_clear();
	kind = map_str(req, "kind");
	if (kind && !strcmp(kind, "join"))
		rc = vl_join_approve(n, req, opts->path, out);
	else
		rc = approve_rotation(n, opts->path, out);
out:
	vl_value_free(req);
	vl_buf_free(&b);
	return rc;
}

/* ---- key rotate --------------------------------------------------------- */

void vl_key_rotate_result_free(vl_key_rotate_result *r)
{
	if (!r)
		return;
	vl_buf_free(&r->request);
	memset(r, 0, sizeof(*r));
}

static int rotate_finish(vl_node *n, vl_key_rotate_result *out)
{
	const vl_roster_entry *e;
	unsigned char pk[32];
	int rc;

	if ((rc = pending_pub(n, pk)) < 0)
		return rc;
	if (rc == 0)
		return vl_error_set(VL_ENOTFOUND, "no key rotation is pending on this node; start one with "
				"'vledger key rotate'");
	vl_fingerprint(out->new_fp, pk);
	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	e = vl_node_roster_find(n, out->new_fp);
	if (!e)
		return vl_error_set(VL_ENOTFOUND, "the new key %s is not on this node's roster yet: an admin "
				"approves the request with 'vledger roster approve FILE', then run 'vledger fetch' "
				"and this command again; until then the old key goes on signing", out->new_fp);
	if (e->revoked_at)
		return vl_error_set(VL_EDENIED, "the new key %s was revoked at %s", out->new_fp, e->revoked_at);
	if ((rc = switch_keys(n)) < 0)
		return rc;
	out->state = VL_ROTATE_FINISHED;
	return 0;
}

int vl_key_rotate(vl_node *n, const vl_key_rotate_opts *opts, vl_key_rotate_result *out)
{
	static const vl_key_rotate_opts defaults = VL_KEY_ROTATE_OPTS_INIT;
	const vl_roster_entry *me;
	vl_buf p = VL_BUF_INIT;
	char *pass = NULL;
	unsigned char pk[32];
	vl_key k;
	int rc, pending = 0;

	memset(out, 0, sizeof(*out));
	memset(&k, 0, sizeof(k));
	if (!opts)
		opts = &defaults;
	memcpy(out->old_fp, n->fp, VL_FP_LEN);
	snprintf(out->scope, sizeof(out->scope), "%s", n->scope);
	if (opts->finish) {
		rc = rotate_finish(n, out);
		goto out;
	}
	if (!n->have_key) {
		rc = vl_error_set(VL_EINVALID, "a key rotation needs the node's secret key");
		goto out;
	}
	if ((rc = vl_node_load_config(n)) < 0)
		goto out;
	if ((rc = pending_pub(n, pk)) != 0) {
		if (rc > 0) {
			vl_fingerprint(out->new_fp, pk);
			rc = vl_error_set(VL_EEXISTS, "a rotation to %s is already pending: finish it with "
					"'vledger key rotate --finish' once approved, or delete keys/node.key.next and "
					"keys/node.pub.next to start again", out->new_fp);
		}
		goto out;
	}
	if (!(me = vl_node_roster_find(n, n->fp))) {
		rc = vl_error_set(VL_EDENIED, "this node's key %s is not on the roster; nothing to rotate", n->fp);
		goto out;
	}
	if (me->revoked_at) {
		rc = vl_error_set(VL_EDENIED, "this node's key %s was revoked at %s; an admin adds a new key "
				"with 'vledger roster add'", n->fp, me->revoked_at);
		goto out;
	}
	/* The new key is sealed like the old one. */
	if ((rc = key_path(&p, n, "node.key")) < 0)
		goto out;
	if (vl_key_is_sealed(p.ptr) == 1) {
		if (!opts->passphrase_file && vl_passphrase_can_prompt()) {
			/* Asked again (the open did not keep it) and checked to
			 * open the current key, so both keys take one passphrase. */
			vl_key chk;
			if ((rc = vl_passphrase_prompt(&pass, _("Passphrase of this node's key, to seal the new key alike: "))) < 0)
				goto out;
			rc = vl_key_load(&chk, p.ptr, pass);
			sodium_memzero(&chk, sizeof(chk));
			if (rc < 0)
				goto out;
		} else if (!opts->passphrase_file) {
			rc = vl_error_set(VL_EDENIED, "this node's key is sealed: give the passphrase file "
					"(--passphrase-file or VLEDGER_PASSPHRASE_FILE) to seal the new key alike");
			goto out;
		} else if ((rc = vl_read_passphrase(&pass, opts->passphrase_file)) < 0) {
			goto out;
		}
	}
	if ((rc = vl_key_generate(&k)) < 0 || (rc = write_pending(n, &k, pass)) < 0)
		goto out;
	pending = 1;
	vl_fingerprint(out->new_fp, k.pk);
	if (!strcmp(me->role, "admin")) {
		/* An admin approves its own rotation: one commit signed by the old key. */
		git_oid id;
		if ((rc = commit_rotation(&id, n, me, k.pk, out->when)) < 0)
			goto out;
		pending = 0;
		if ((rc = switch_keys(n)) < 0) {
			vl_error_wrap(rc, "the roster holds the new key but the key files did not switch; "
					"run 'vledger key rotate --finish'");
			goto out;
		}
		out->state = VL_ROTATE_DONE;
	} else {
		if ((rc = make_request(&out->request, n, k.pk)) < 0 ||
				(opts->request_path && (rc = vl_buf_write_file(opts->request_path, out->request.ptr,
						out->request.len, 0644)) < 0))
			goto out;
		pending = 0;
		out->state = VL_ROTATE_REQUESTED;
	}
out:
	if (pending)
		remove_pending(n);
	if (pass) {
		sodium_memzero(pass, strlen(pass));
		free(pass);
	}
	vl_key_wipe(&k);
	vl_buf_free(&p);
	return rc;
}

/* ---- export allowed-signers ------------------------------------------------- */

void vl_export_allowed_signers_result_free(vl_export_allowed_signers_result *r)
{
	if (!r)
		return;
	vl_buf_free(&r->signers);
	vl_buf_free(&r->revocations);
	memset(r, 0, sizeof(*r));
}

/* A principal must not hold spaces, commas, quotes or wildcards. */
static int principal_safe(const char *s)
{
	for (; *s; s++)
		if (*s == ' ' || *s == ',' || *s == '"' || *s == '*' || *s == '?' || *s == '!' ||
				*s == '\t' || *s == '\n')
			return 0;
	return 1;
}

int vl_export_allowed_signers(vl_node *n, const vl_export_allowed_signers_opts *opts,
		vl_export_allowed_signers_result *out)
{
	vl_buf key = VL_BUF_INIT;
	vl_buf *o = &out->signers;
	char t[16];
	size_t i;
	int rc;

	(void)opts;
	memset(out, 0, sizeof(*out));
	if ((rc = vl_node_load_config(n)) < 0)
		goto out;
	if ((rc = vl_buf_puts(o, "# allowed_signers exported by vledger from the roster: use with\n"
			"#   git -c gpg.ssh.allowedSignersFile=FILE verify-commit / log --show-signature\n"
			"#   ssh-keygen -Y verify -n vledger-record -f FILE -I FINGERPRINT -s SIG < RECORD\n")) < 0)
		goto out;
	for (i = 0; i < n->nentries; i++) {
		const vl_roster_entry *e = &n->entries[i];
		vl_buf_clear(&key);
		if ((rc = vl_pubkey_format(&key, e->pk, NULL)) < 0 || (rc = vl_buf_puts(o, e->fp)) < 0)
			goto out;
		if (principal_safe(e->name) && (rc = vl_buf_printf(o, ",%s@%s", e->name, e->scope)) < 0)
			goto out;
		if ((rc = vl_buf_puts(o, " namespaces=\"git,vledger-record\"")) < 0)
			goto out;
		if (e->valid_from && ((rc = vl_roster_ssh_time(t, e->valid_from)) < 0 ||
				(rc = vl_buf_printf(o, ",valid-after=\"%s\"", t)) < 0))
			goto out;
		if (e->revoked_at && ((rc = vl_roster_ssh_time(t, e->revoked_at)) < 0 ||
				(rc = vl_buf_printf(o, ",valid-before=\"%s\"", t)) < 0 ||
				(rc = vl_buf_printf(&out->revocations, "%s\n", key.ptr)) < 0))
			goto out;
		if ((rc = vl_buf_printf(o, " %s\n", key.ptr)) < 0)
			goto out;
	}
out:
	vl_buf_free(&key);
	return rc;
}
