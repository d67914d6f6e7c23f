/* invite_ops.c - invite, join, and the approval of a join (see invite_ops.h). */
#include "agent/ops/invite_ops.h"
#include "store/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/node/invite.h"
#include "agent/node/netkey.h"
#include "agent/sync/source.h"
#include "schemas/types.h"
#include "store/i18n.h"
#include "store/yaml.h"


static const char *map_str(const vl_value *m, const char *key)
{
	const vl_value *v = vl_value_map_get(m, key);

	return v && v->kind == VL_V_STR ? v->s : NULL;
}

static int oom(void)
{
	return vl_error_set(VL_ENOMEM, "out of memory");
}

int vl_invite_name_valid(const char *s)
{
	size_t i, l = s ? strlen(s) : 0;

	for (i = 0; i < l; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return l > 0 && l <= 255 && vl_utf8_valid_nfc(s, l);
}

/* Append s single-quoted for a POSIX shell. */
static int shell_quote(vl_buf *b, const char *s)
{
	int rc = vl_buf_putc(b, '\'');

	for (; rc == 0 && *s; s++)
		rc = *s == '\'' ? vl_buf_puts(b, "'\\''") : vl_buf_putc(b, *s);
	return rc == 0 ? vl_buf_putc(b, '\'') : rc;
}

/* Append path made absolute against the working directory (not resolved:
 * realpath is not POSIX.1-2008 base). */
static int abs_path(vl_buf *out, const char *path)
{
	char cwd[4096];

	if (path[0] == '/')
		return vl_buf_puts(out, path);
	if (!getcwd(cwd, sizeof(cwd)))
		return vl_error_set(VL_ERROR, "cannot read the working directory: %s", strerror(errno));
	if (path[0] == '.' && path[1] == '/')
		path += 2;
	return vl_buf_printf(out, "%s/%s", cwd, path);
}

/* ---- invitation files ------------------------------------------------ */

/* An invitation as <home>/invites/<id>.yaml holds it (fields borrowed from
 * v). */
typedef struct {
	vl_value *v;
	const char *role, *scope, *name, *expires_at;
	uint64_t expires;
	unsigned char verifier[32];
	int used;
} invite_file;

static int invite_path(vl_buf *out, const char *home, const char *idhex, const char *suffix)
{
	vl_buf_clear(out);
	return vl_buf_printf(out, "%s/invites/%s%s", home, idhex, suffix);
}

static int invite_load(invite_file *out, vl_buf *raw, const char *path, const char *idhex)
{
	const vl_value *used;
	const char *id, *verifier;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = vl_buf_read_file(raw, path, VL_INVITE_FILE_MAX);
	if (rc == VL_ENOTFOUND)
		return vl_error_set(VL_ENOTFOUND, "no invitation '%s' was made at this node; approve the "
				"request on the node that printed the invitation", idhex);
	if (rc < 0 || (rc = vl_yaml_load(&out->v, raw->ptr, raw->len, &vl_yaml_file_limits, path)) < 0)
		return rc;
	id = map_str(out->v, "id");
	out->role = map_str(out->v, "role");
	out->scope = map_str(out->v, "scope");
	out->name = map_str(out->v, "name");
	out->expires_at = map_str(out->v, "expires_at");
	verifier = map_str(out->v, "verifier");
	used = vl_value_map_get(out->v, "used");
	if (!id || strcmp(id, idhex) != 0 || !out->role || !out->scope || !out->name || !out->expires_at ||
			!verifier || !used || used->kind != VL_V_BOOL ||
			vl_invite_time_parse(&out->expires, out->expires_at) < 0 ||
			vl_pubkey_parse(out->verifier, verifier) < 0) {
		vl_value_free(out->v);
		out->v = NULL;
		return vl_error_set(VL_EINVALID, "'%s' is not an invitation file (id, role, scope, name, "
				"expires_at, verifier, used)", path);
	}
	out->used = !strcmp(used->s, "true");
	return 0;
}

/* ---- invite ---------------------------------------------------------- */

void vl_invite_create_result_free(vl_invite_create_result *r)
{
	if (!r)
		return;
	vl_buf_free_secure(&r->token);
	free(r->inviter_role);
	memset(r, 0, sizeof(*r));
}

/* The 'listen' address of node.yaml ("" when there is none). */
static int node_listen(vl_buf *out, const char *home)
{
	vl_buf p = VL_BUF_INIT, b = VL_BUF_INIT;
	vl_value *conf = NULL;
	const char *l;
	int rc;

	if ((rc = vl_buf_printf(&p, "%s/node.yaml", home)) == 0 &&
			(rc = vl_buf_read_file(&b, p.ptr, VL_NODE_YAML_MAX)) == 0 &&
			(rc = vl_yaml_load(&conf, b.ptr, b.len, &vl_yaml_file_limits, p.ptr)) == 0)
		rc = vl_buf_puts(out, (l = map_str(conf, "listen")) ? l : "");
	vl_value_free(conf);
	vl_buf_free(&p);
	vl_buf_free(&b);
	return rc;
}

/* Fill the network part of an invitation from the config of n. */
static int invite_network(vl_invite *inv, const vl_node *n)
{
	const char *id = map_str(n->network, "network"), *county = map_str(n->network, "county");
	const vl_value *roots = vl_value_map_get(n->network, "root_keys");
	size_t i;

	if (!id || !county || strlen(county) != 12 || !roots || roots->kind != VL_V_LIST)
		return vl_error_set(VL_EINVALID, "config: network.yaml lacks network, county or root_keys");
	if (strlen(id) != 32)
		return vl_error_set(VL_EINVALID, "config: the network id is not 32 hex digits, so it "
				"cannot travel in an invitation");
	memcpy(inv->network, id, 33);
	memcpy(inv->county, county, 13);
	if (roots->n < 1 || roots->n > VL_INVITE_MAX_ROOTS)
		return vl_error_set(VL_EINVALID, "config: network.yaml has %zu root keys; an invitation "
				"carries 1 to %d", roots->n, VL_INVITE_MAX_ROOTS);
	for (i = 0; i < roots->n; i++)
		if (roots->items[i]->kind != VL_V_STR ||
				vl_pubkey_parse(inv->root_keys[i], roots->items[i]->s) < 0)
			return vl_error_set(VL_EINVALID, "config: root key %zu of network.yaml is not an "
					"ssh-ed25519 key", i + 1);
	inv->nroots = roots->n;
	return 0;
}

/* The invitation file: no secret in it, only the verifier. */
static int invite_save(const char *home, const vl_invite *inv, const char *idhex, const char *inviter,
		int needs_admin, const unsigned char verifier[32], uint64_t created)
{
	vl_value *v = NULL;
	vl_buf path = VL_BUF_INIT, key = VL_BUF_INIT, text = VL_BUF_INIT;
	char now[21], exp[21];
	int rc;

	vl_invite_time_format(now, created);
	vl_invite_time_format(exp, inv->expires);
	if ((rc = vl_buf_printf(&path, "%s/invites", home)) < 0)
		goto out;
	if (mkdir(path.ptr, 0700) < 0 && errno != EEXIST) {
		rc = vl_error_set(VL_ERROR, "cannot create '%s': %s", path.ptr, strerror(errno));
		goto out;
	}
	if ((rc = vl_pubkey_format(&key, verifier, NULL)) < 0)
		goto out;
	if (!(v = vl_value_new(VL_V_MAP)) || vl_value_map_set(v, "id", vl_value_str(idhex)) < 0 ||
			vl_value_map_set(v, "network", vl_value_str(inv->network)) < 0 ||
			vl_value_map_set(v, "role", vl_value_str(inv->role)) < 0 ||
			vl_value_map_set(v, "scope", vl_value_str(inv->scope)) < 0 ||
			vl_value_map_set(v, "name", vl_value_str(inv->name)) < 0 ||
			vl_value_map_set(v, "inviter", vl_value_str(inviter)) < 0 ||
			vl_value_map_set(v, "needs_admin", vl_value_bool(needs_admin)) < 0 ||
			vl_value_map_set(v, "created_at", vl_value_str(now)) < 0 ||
			vl_value_map_set(v, "expires_at", vl_value_str(exp)) < 0 ||
			vl_value_map_set(v, "verifier", vl_value_str(key.ptr)) < 0 ||
			vl_value_map_set(v, "used", vl_value_bool(0)) < 0) {
		rc = oom();
		goto out;
	}
	if ((rc = vl_yaml_emit(&text, v)) < 0 || (rc = invite_path(&path, home, idhex, ".yaml")) < 0)
		goto out;
	rc = vl_buf_write_file(path.ptr, text.ptr, text.len, 0600);
out:
	vl_value_free(v);
	vl_buf_free(&path);
	vl_buf_free(&key);
	vl_buf_free(&text);
	return rc;
}

int vl_invite_create(vl_node *n, const vl_invite_create_opts *opts, vl_invite_create_result *out)
{
	const char *source;
	unsigned hours;
	uint64_t created;
	const vl_roster_entry *me;
	vl_invite inv;
	vl_key ikey;
	vl_buf p = VL_BUF_INIT, listen = VL_BUF_INIT, real = VL_BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&inv, 0, sizeof(inv));
	memset(&ikey, 0, sizeof(ikey));
	if (!opts || !opts->role || !opts->scope || !opts->name) {
		rc = vl_error_set(VL_EINVALID, "an invitation needs a role, scope and name");
		goto out;
	}
	hours = opts->hours ? opts->hours : VL_INVITE_DEFAULT_HOURS;
	if (hours > VL_INVITE_MAX_HOURS || !vl_invite_name_valid(opts->name) ||
			strlen(opts->role) >= sizeof(inv.role) || strlen(opts->scope) != 12 ||
			(opts->address && strlen(opts->address) > 255) || (opts->source && strlen(opts->source) > 255)) {
		rc = vl_error_set(VL_EINVALID, "an invitation is good for 1 to %d hours; its name is 1 to "
				"255 bytes of text, its scope a 12-digit code, its address and source at most 255 "
				"bytes", VL_INVITE_MAX_HOURS);
		goto out;
	}
	if ((rc = vl_crypto_init()) < 0 || (rc = vl_node_load_config(n)) < 0)
		goto out;
	me = vl_node_roster_find(n, n->fp);
	if (!me || me->revoked_at) {
		rc = me ? vl_error_set(VL_EDENIED, "this node's key %s is revoked; only a key on the roster invites",
				n->fp) :
			vl_error_set(VL_EDENIED, "this node's key %s is not on the roster; only a key on the roster "
				"invites", n->fp);
		goto out;
	}
	if (!vl_division_covers(me->scope, opts->scope)) {
		rc = vl_error_set(VL_EDENIED, "this key holds '%s', which does not cover '%s'; invite from a "
				"node whose scope does", me->scope, opts->scope);
		goto out;
	}
	out->needs_admin = strcmp(me->role, "admin") != 0;
	snprintf(out->inviter_scope, sizeof(out->inviter_scope), "%s", me->scope);
	if (!(out->inviter_role = strdup(me->role))) {
		rc = oom();
		goto out;
	}
	if ((rc = invite_network(&inv, n)) < 0 || (rc = vl_netkey_load(inv.network_key, n->home)) < 0)
		goto out;
	randombytes_buf(inv.id, sizeof(inv.id));
	randombytes_buf(inv.secret, sizeof(inv.secret));
	sodium_bin2hex(out->id, sizeof(out->id), inv.id, sizeof(inv.id));
	created = vl_hlc_wall_ms() / 1000;
	inv.expires = created + (uint64_t)hours * 3600;
	snprintf(inv.role, sizeof(inv.role), "%s", opts->role);
	snprintf(inv.scope, sizeof(inv.scope), "%s", opts->scope);
	snprintf(inv.name, sizeof(inv.name), "%s", opts->name);
	if (!opts->address && (rc = node_listen(&listen, n->home)) < 0)
		goto out;
	snprintf(inv.address, sizeof(inv.address), "%s", opts->address ? opts->address : listen.ptr ? listen.ptr : "");
	/* The source: the given path or our own repository, absolute so that
	 * the new node can use it from anywhere. */
	source = opts->source;
	if (!source) {
		if ((rc = vl_buf_printf(&p, "%s/repo.git", n->home)) < 0)
			goto out;
		source = p.ptr;
	}
	if ((rc = abs_path(&real, source)) < 0)
		goto out;
	if (real.len > 255) {
		rc = vl_error_set(VL_EINVALID, "the source path '%s' is over 255 bytes; give a shorter --source",
				real.ptr);
		goto out;
	}
	snprintf(inv.source, sizeof(inv.source), "%s", real.ptr);
	/* Encoding checks every field: nothing is stored before it passes. */
	if ((rc = vl_invite_encode(&out->token, &inv)) < 0 || (rc = vl_invite_key(&ikey, inv.secret)) < 0 ||
			(rc = invite_save(n->home, &inv, out->id, n->fp, out->needs_admin, ikey.pk, created)) < 0)
		goto out;
	vl_invite_time_format(out->expires_at, inv.expires);
out:
	vl_buf_free(&real);
	vl_invite_wipe(&inv);
	vl_key_wipe(&ikey);
	vl_buf_free(&p);
	vl_buf_free(&listen);
	return rc;
}

/* ---- join ------------------------------------------------------------ */

void vl_join_result_free(vl_join_result *r)
{
	if (!r)
		return;
	vl_init_result_free(&r->node);
	vl_buf_free(&r->request_path);
	vl_buf_free(&r->fetch_error);
	vl_receive_result_free(&r->receive);
	memset(r, 0, sizeof(*r));
}

/* network.yaml as the token pins it: network, county, root_keys. A receive
 * compares the network id and the root keys by value with the first
 * config commit (sync/fetch.c), so the other fields of the county's file
 * (name, created) are not needed. */
static int pinned_network(vl_buf *out, const vl_invite *inv)
{
	vl_value *v = NULL, *roots = NULL;
	vl_buf key = VL_BUF_INIT;
	size_t i;
	int rc = VL_ENOMEM;

	if (!(v = vl_value_new(VL_V_MAP)) || !(roots = vl_value_new(VL_V_LIST)) ||
			vl_value_map_set(v, "network", vl_value_str(inv->network)) < 0 ||
			vl_value_map_set(v, "county", vl_value_str(inv->county)) < 0)
		goto out;
	for (i = 0; i < inv->nroots; i++) {
		vl_buf_clear(&key);
		if (vl_pubkey_format(&key, inv->root_keys[i], NULL) < 0 ||
				vl_value_list_push(roots, vl_value_str(key.ptr)) < 0)
			goto out;
	}
	rc = vl_value_map_set(v, "root_keys", roots);
	roots = NULL;
	if (rc < 0)
		goto out;
	rc = vl_yaml_emit(out, v);
out:
	if (rc == VL_ENOMEM)
		vl_error_set(VL_ENOMEM, "out of memory");
	vl_value_free(v);
	vl_value_free(roots);
	vl_buf_free(&key);
	return rc;
}

/* Note the inviter in node.yaml's peers: its address and repository, for
 * sync to use when it exists. */
static int note_inviter(const char *home, const vl_invite *inv)
{
	vl_buf p = VL_BUF_INIT, b = VL_BUF_INIT, out = VL_BUF_INIT;
	vl_value *conf = NULL, *peers = NULL, *peer = NULL;
	int rc;

	if ((rc = vl_buf_printf(&p, "%s/node.yaml", home)) < 0 ||
			(rc = vl_buf_read_file(&b, p.ptr, VL_NODE_YAML_MAX)) < 0 ||
			(rc = vl_yaml_load(&conf, b.ptr, b.len, &vl_yaml_file_limits, p.ptr)) < 0)
		goto out;
	if (!(peers = vl_value_new(VL_V_LIST)) || !(peer = vl_value_new(VL_V_MAP)) ||
			(*inv->address && vl_value_map_set(peer, "address", vl_value_str(inv->address)) < 0) ||
			(*inv->source && vl_value_map_set(peer, "repo", vl_value_str(inv->source)) < 0) ||
			vl_value_map_set(peer, "via", vl_value_str("invitation")) < 0)
		goto oom;
	rc = vl_value_list_push(peers, peer);
	peer = NULL;
	if (rc < 0)
		goto oom;
	rc = vl_value_map_set(conf, "peers", peers);
	peers = NULL;
	if (rc < 0)
		goto oom;
	if ((rc = vl_yaml_emit(&out, conf)) < 0)
		goto out;
	rc = vl_buf_write_file(p.ptr, out.ptr, out.len, 0644);
	goto out;
oom:
	rc = oom();
out:
	vl_value_free(conf);
	vl_value_free(peers);
	vl_value_free(peer);
	vl_buf_free(&p);
	vl_buf_free(&b);
	vl_buf_free(&out);
	return rc;
}

/* The request the inviter approves: both proofs over vl_join_message, by
 * the invitation key and by the new node's key. */
static int join_request(vl_buf *out, const vl_invite *inv, const vl_key *k, const char *name)
{
	vl_buf msg = VL_BUF_INIT, key = VL_BUF_INIT, proof = VL_BUF_INIT, kproof = VL_BUF_INIT;
	vl_value *v = NULL;
	vl_key ikey;
	unsigned char sig[crypto_sign_BYTES];
	char idhex[33];
	int rc;

	memset(&ikey, 0, sizeof(ikey));
	sodium_bin2hex(idhex, sizeof(idhex), inv->id, sizeof(inv->id));
	if ((rc = vl_join_message(&msg, inv->network, inv->id, k->pk, name)) < 0 ||
			(rc = vl_invite_key(&ikey, inv->secret)) < 0)
		goto out;
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.ptr, msg.len, ikey.sk);
	if ((rc = vl_base64_encode(&proof, sig, sizeof(sig))) < 0)
		goto out;
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.ptr, msg.len, k->sk);
	if ((rc = vl_base64_encode(&kproof, sig, sizeof(sig))) < 0 ||
			(rc = vl_pubkey_format(&key, k->pk, NULL)) < 0)
		goto out;
	if (!(v = vl_value_new(VL_V_MAP)) || vl_value_map_set(v, "kind", vl_value_str("join")) < 0 ||
			vl_value_map_set(v, "network", vl_value_str(inv->network)) < 0 ||
			vl_value_map_set(v, "invite", vl_value_str(idhex)) < 0 ||
			vl_value_map_set(v, "name", vl_value_str(name)) < 0 ||
			vl_value_map_set(v, "key", vl_value_str(key.ptr)) < 0 ||
			vl_value_map_set(v, "proof", vl_value_str(proof.ptr)) < 0 ||
			vl_value_map_set(v, "key_proof", vl_value_str(kproof.ptr)) < 0) {
		rc = oom();
		goto out;
	}
	rc = vl_yaml_emit(out, v);
out:
	vl_key_wipe(&ikey);
	vl_value_free(v);
	vl_buf_free(&msg);
	vl_buf_free(&key);
	vl_buf_free(&proof);
	vl_buf_free(&kproof);
	return rc;
}

/* Receive the config (and what this node may read) from the token's
 * source. A failure is kept in out, not returned: the join stands. */
static void join_fetch(vl_join_result *out, const vl_join_opts *opts)
{
	vl_receive_opts ropts = VL_RECEIVE_OPTS_INIT;
	vl_source *src = NULL;
	vl_node *n = NULL;
	int rc;

	out->fetched = 1;
	ropts.progress = opts->progress;
	if ((rc = vl_node_open(&n, out->node.home, 0, NULL)) < 0 || (rc = vl_source_open_path(&src, out->source)) < 0 ||
			(rc = vl_receive(n, src, &ropts, &out->receive)) < 0) {
		out->fetch_rc = rc;
		if (vl_buf_puts(&out->fetch_error, vl_error_last()) < 0)
			out->fetch_rc = VL_ENOMEM;
		vl_error_clear();
	}
	vl_source_free(src);
	vl_node_close(n);
}

int vl_join(const char *home, const vl_join_opts *opts, vl_join_result *out)
{
	vl_node_create_opts co;
	const char *name;
	vl_invite inv;
	vl_key key;
	vl_buf p = VL_BUF_INIT, net = VL_BUF_INIT, req = VL_BUF_INIT;
	struct stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&inv, 0, sizeof(inv));
	memset(&key, 0, sizeof(key));
	memset(&co, 0, sizeof(co));
	if (!opts || !opts->token || (opts->name && !vl_invite_name_valid(opts->name))) {
		rc = vl_error_set(VL_EINVALID, "a join needs the invitation, and a name of 1 to 255 bytes of text");
		goto out;
	}
	if ((rc = vl_crypto_init()) < 0 || (rc = vl_invite_decode(&inv, opts->token)) < 0)
		goto out;
	vl_invite_time_format(out->expires_at, inv.expires);
	if (vl_invite_expired(inv.expires)) {
		rc = vl_error_set(VL_EDENIED, "this invitation expired at %s; ask the inviter for a new one",
				out->expires_at);
		goto out;
	}
	name = opts->name ? opts->name : inv.name;
	if ((rc = vl_buf_printf(&p, "%s/node.yaml", home)) < 0)
		goto out;
	if (stat(p.ptr, &st) == 0) {
		rc = vl_error_set(VL_EEXISTS, "'%s' already holds a vledger node; join into a new -C DIR", home);
		goto out;
	}
	memcpy(out->county, inv.county, sizeof(out->county));
	memcpy(out->address, inv.address, sizeof(out->address));
	memcpy(out->source, inv.source, sizeof(out->source));
	if (!(out->node.home = strdup(home)) || !(out->node.name = strdup(name)) ||
			!(out->node.role = strdup(inv.role))) {
		rc = oom();
		goto out;
	}
	memcpy(out->node.scope, inv.scope, sizeof(out->node.scope));
	memcpy(out->node.network, inv.network, sizeof(out->node.network));
	/* The node home as vl_init makes it, with network.yaml pinned by the
	 * token instead of a file. */
	if ((rc = pinned_network(&net, &inv)) < 0)
		goto out;
	co.name = name;
	co.role = inv.role;
	co.scope = inv.scope;
	co.network_id = inv.network;
	co.network_yaml = net.ptr;
	co.network_yaml_len = net.len;
	co.passphrase_file = opts->passphrase_file;
	co.hook_dir = opts->hook_dir;
	vl_progress_report(&opts->progress, N_("create"), 0, 0);
	if ((rc = vl_node_create(&key, home, &co)) < 0)
		goto out;
	vl_fingerprint(out->node.fp, key.pk);
	if ((rc = vl_pubkey_format(&out->node.pubkey, key.pk, name)) < 0 ||
			(rc = vl_buf_putc(&out->node.pubkey, '\n')) < 0)
		goto out;
	if ((rc = vl_netkey_write(home, inv.network_key)) < 0 || (rc = note_inviter(home, &inv)) < 0 ||
			(rc = join_request(&req, &inv, &key, name)) < 0 ||
			(rc = vl_buf_printf(&out->request_path, "%s/join-request.yaml", home)) < 0 ||
			(rc = vl_buf_write_file(out->request_path.ptr, req.ptr, req.len, 0644)) < 0)
		goto out;
	if (opts->fetch && *inv.source && stat(inv.source, &st) == 0 && S_ISDIR(st.st_mode))
		join_fetch(out, opts);
out:
	vl_invite_wipe(&inv);
	vl_key_wipe(&key);
	vl_buf_free(&p);
	vl_buf_free(&net);
	vl_buf_free(&req);
	return rc;
}

/* ---- approve a join -------------------------------------------------- */

/* A base64 field that must decode to exactly n bytes. */
static int b64_exact(unsigned char *out, size_t n, const char *s)
{
	vl_buf b = VL_BUF_INIT;
	int rc = -1;

	if (s && vl_base64_decode(&b, s, strlen(s)) == 0 && b.len == n) {
		memcpy(out, b.ptr, n);
		rc = 0;
	}
	vl_buf_free(&b);
	return rc;
}

/* The request is good, but this key may not change the roster: say exactly
 * what an admin runs. */
static int not_admin(const vl_roster_entry *me, const invite_file *inv, const char *idhex,
		const char *keyline)
{
	vl_buf cmdline = VL_BUF_INIT;
	int rc;

	if (vl_buf_puts(&cmdline, "vledger roster add --name ") < 0 || shell_quote(&cmdline, inv->name) < 0 ||
			vl_buf_printf(&cmdline, " --role %s --scope %s --key ", inv->role, inv->scope) < 0 ||
			shell_quote(&cmdline, keyline) < 0)
		rc = oom();
	else if (!me)
		rc = vl_error_set(VL_EDENIED, "the request is good (invitation %s, left unused), but this "
				"node's key (not on the roster) may not change the roster for '%s'; an admin whose "
				"scope covers '%s' adds the key on their node with:\n  %s", idhex, inv->scope,
				inv->scope, cmdline.ptr);
	else if (me->revoked_at)
		rc = vl_error_set(VL_EDENIED, "the request is good (invitation %s, left unused), but this "
				"node's key (revoked) may not change the roster for '%s'; an admin whose scope covers "
				"'%s' adds the key on their node with:\n  %s", idhex, inv->scope, inv->scope,
				cmdline.ptr);
	else
		rc = vl_error_set(VL_EDENIED, "the request is good (invitation %s, left unused), but this "
				"node's key (%s for %s) may not change the roster for '%s'; an admin whose scope "
				"covers '%s' adds the key on their node with:\n  %s", idhex, me->role, me->scope,
				inv->scope, inv->scope, cmdline.ptr);
	vl_buf_free(&cmdline);
	return rc;
}

int vl_join_approve(vl_node *n, const vl_value *req, const char *file, vl_roster_approve_result *out)
{
	static const char *const fields[] = { "kind", "network", "invite", "name", "key", "proof", "key_proof" };
	const char *network = map_str(req, "network"), *idhex = map_str(req, "invite"),
			*name = map_str(req, "name"), *keyline = map_str(req, "key");
	unsigned char id[16], pk[32], proof[crypto_sign_BYTES], kproof[crypto_sign_BYTES];
	vl_buf path = VL_BUF_INIT, lock = VL_BUF_INIT, raw = VL_BUF_INIT, msg = VL_BUF_INIT,
			text = VL_BUF_INIT, repo = VL_BUF_INIT;
	vl_roster_add_opts aopts = VL_ROSTER_ADD_OPTS_INIT;
	vl_roster_add_result added;
	invite_file inv;
	const vl_roster_entry *me;
	char fp[VL_FP_LEN], now[21];
	int rc, locked = 0, marked = 0, fd;
	size_t i;

	memset(&inv, 0, sizeof(inv));
	memset(&added, 0, sizeof(added));
	out->kind = VL_APPROVE_JOIN;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!map_str(req, fields[i]))
			break;
	if (i < sizeof(fields) / sizeof(fields[0]) || req->n != i) {
		rc = vl_error_set(VL_EINVALID, "'%s' is not a join request: it holds exactly kind, network, "
				"invite, name, key, proof and key_proof", file);
		goto out;
	}
	if (strlen(idhex) != 32 || sodium_hex2bin(id, 16, idhex, 32, NULL, NULL, NULL) != 0 ||
			vl_pubkey_parse(pk, keyline) < 0 || !vl_invite_name_valid(name) ||
			b64_exact(proof, sizeof(proof), map_str(req, "proof")) < 0 ||
			b64_exact(kproof, sizeof(kproof), map_str(req, "key_proof")) < 0) {
		rc = vl_error_set(VL_EINVALID, "'%s': a malformed invite id, key, name or proof", file);
		goto out;
	}
	for (i = 0; i < 32; i++)
		if (idhex[i] >= 'A' && idhex[i] <= 'F')
			break;
	if (i < 32) {
		rc = vl_error_set(VL_EINVALID, "'%s': the invite id is not lowercase hex", file);
		goto out;
	}
	memcpy(out->invite, idhex, sizeof(out->invite));
	if ((rc = vl_node_load_config(n)) < 0)
		goto out;
	if (strcmp(network, n->network_id) != 0) {
		rc = vl_error_set(VL_EDENIED, "the request is for network %s; this node is in %s", network,
				n->network_id);
		goto out;
	}
	/* One approve at a time per invitation. */
	if ((rc = invite_path(&lock, n->home, idhex, ".lock")) < 0)
		goto out;
	if ((fd = open(lock.ptr, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
		rc = errno == EEXIST
			? vl_error_set(VL_ECONFLICT, "'%s' exists: another approve of this invitation is running "
					"(remove the file if none is)", lock.ptr)
			: (errno == ENOENT ? vl_error_set(VL_ENOTFOUND, "no invitation '%s' was made at this "
					"node; approve the request on the node that printed the invitation", idhex)
				: vl_error_set(VL_ERROR, "cannot create '%s': %s", lock.ptr, strerror(errno)));
		goto out;
	}
	close(fd);
	locked = 1;
	if ((rc = invite_path(&path, n->home, idhex, ".yaml")) < 0 ||
			(rc = invite_load(&inv, &raw, path.ptr, idhex)) < 0)
		goto out;
	if (inv.used) {
		const char *by = map_str(inv.v, "used_by"), *at = map_str(inv.v, "used_at");
		rc = vl_error_set(VL_EDENIED, "invitation %s was already used (by %s at %s); a token and its "
				"request are good once: print a new invitation with 'vledger invite'", idhex,
				by ? by : "?", at ? at : "?");
		goto out;
	}
	if (vl_invite_expired(inv.expires)) {
		rc = vl_error_set(VL_EDENIED, "invitation %s expired at %s; print a new one with 'vledger invite'",
				idhex, inv.expires_at);
		goto out;
	}
	if ((rc = vl_join_message(&msg, network, id, pk, name)) < 0)
		goto out;
	if (crypto_sign_verify_detached(proof, (const unsigned char *)msg.ptr, msg.len, inv.verifier) != 0) {
		rc = vl_error_set(VL_EBADSIG, "the request's proof does not match invitation %s: it was not "
				"made with that token, or it was changed after", idhex);
		goto out;
	}
	if (crypto_sign_verify_detached(kproof, (const unsigned char *)msg.ptr, msg.len, pk) != 0) {
		rc = vl_error_set(VL_EBADSIG, "the request's key_proof is not signed by the key it asks to add");
		goto out;
	}
	vl_fingerprint(fp, pk);
	if (vl_node_roster_find(n, fp)) {
		rc = vl_error_set(VL_EEXISTS, "key %s is already on the roster", fp);
		goto out;
	}
	me = vl_node_roster_find(n, n->fp);
	if (!me || me->revoked_at || strcmp(me->role, "admin") != 0 || !vl_division_covers(me->scope, inv.scope)) {
		rc = not_admin(me, &inv, idhex, keyline);
		goto out;
	}
	if (strcmp(name, inv.name) != 0 && !(out->requested_name = strdup(name))) {
		rc = oom();
		goto out;
	}
	if ((rc = vl_buf_puts(&repo, n->home)) < 0 || (rc = vl_buf_puts(&repo, "/repo.git")) < 0 ||
			(rc = abs_path(&out->source, repo.ptr)) < 0)
		goto out;
	/* Mark used first: if the commit then fails, the old file comes back. */
	vl_invite_time_format(now, vl_hlc_wall_ms() / 1000);
	if (vl_value_map_set(inv.v, "used", vl_value_bool(1)) < 0 ||
			vl_value_map_set(inv.v, "used_at", vl_value_str(now)) < 0 ||
			vl_value_map_set(inv.v, "used_by", vl_value_str(fp)) < 0) {
		rc = oom();
		goto out;
	}
	if ((rc = vl_yaml_emit(&text, inv.v)) < 0 || (rc = vl_buf_write_file(path.ptr, text.ptr, text.len, 0600)) < 0)
		goto out;
	marked = 1;
	aopts.name = inv.name;
	aopts.role = inv.role;
	aopts.scope = inv.scope;
	aopts.key = keyline;
	if ((rc = vl_roster_add(n, &aopts, &added)) < 0)
		goto out;
	marked = 0;
	memcpy(out->fp, added.fp, VL_FP_LEN);
	memcpy(out->scope, added.scope, sizeof(out->scope));
	memcpy(out->when, added.valid_from, sizeof(out->when));
	out->commit = added.commit;
	out->name = added.name;
	out->role = added.role;
	added.name = added.role = NULL;
out:
	if (marked) {
		/* The commit failed: the invitation comes back unused, or the
		 * message says both failures. */
		vl_buf why = VL_BUF_INIT, how = VL_BUF_INIT;
		int kept = vl_buf_puts(&why, vl_error_last());
		if (vl_buf_write_file(path.ptr, raw.ptr, raw.len, 0600) < 0 && kept == 0 &&
				vl_buf_puts(&how, vl_error_last()) == 0)
			vl_error_set(rc, "%s; and invitation %s could not be marked unused again: %s",
					why.ptr ? why.ptr : "", idhex, how.ptr ? how.ptr : "");
		vl_buf_free(&why);
		vl_buf_free(&how);
	}
	if (locked)
		unlink(lock.ptr);
	vl_roster_add_result_free(&added);
	vl_value_free(inv.v);
	vl_buf_free(&path);
	vl_buf_free(&lock);
	vl_buf_free(&raw);
	vl_buf_free(&msg);
	vl_buf_free(&text);
	vl_buf_free(&repo);
	return rc;
}
