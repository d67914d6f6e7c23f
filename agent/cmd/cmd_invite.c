/*
 * cmd_invite.c - invite, join and roster approve: a new laptop enters the
 * network by a one-time invitation (docs/formats.md §7; docs/decisions.md,
 * "Invitations"). Also the network key of a node home.
 *
 *   inviter   vledger invite --role R --scope S --name N
 *             prints the token (invite.h) and its QR code; keeps
 *             <home>/invites/<id>.yaml: role, scope, name, expiry, the
 *             verifier (public half of the invitation key), used: false
 *   new node  vledger join TOKEN
 *             checks the token, makes the node home as 'init --network'
 *             does (network.yaml pinned from the token), keys/network.key,
 *             and <home>/join-request.yaml with two proofs
 *   inviter   vledger roster approve join-request.yaml
 *             (cmd_roster.c hands a 'kind: join' file to vl_approve_join)
 *             checks the invitation (there, unused, not expired) and both
 *             proofs, marks it used, and adds the key with 'roster add'
 *   new node  vledger fetch SOURCE
 *
 * join and approve run init, fetch and roster add themselves, so a node
 * that joined is made, and a key that is approved is entered, exactly as
 * those commands do it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/cmd/cli.h"
#include "agent/node/invite.h"
#include "schemas/types.h"
#include "store/yaml.h"

#define NETKEY_MAGIC "vledger-network-key-v1 "
#define INVITE_MAX_HOURS 720
#define INVITE_DEFAULT_HOURS 72
#define REQUEST_MAX_BYTES ((size_t)64 * 1024)

static const char *map_str(const vl_value *m, const char *key)
{
	const vl_value *v = vl_value_map_get(m, key);

	return v && v->kind == VL_V_STR ? v->s : NULL;
}

/* Text a person reads: 1..255 bytes of UTF-8 in NFC without control
 * characters (the name fields of the token have one length byte). */
static int name_ok(const char *s)
{
	size_t i, l = strlen(s);

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

/* ---- the network key ------------------------------------------------- */

/* <home>/keys/network.key: "vledger-network-key-v1 <base64 of 32 bytes>\n",
 * mode 0600, like keys/node.key. Never in the config branch. */
static int netkey_write(const char *home, const unsigned char key[32])
{
	vl_buf path = VL_BUF_INIT, line = VL_BUF_INIT;
	int rc;

	if ((rc = vl_buf_printf(&path, "%s/keys/network.key", home)) == 0 &&
			(rc = vl_buf_puts(&line, NETKEY_MAGIC)) == 0 &&
			(rc = vl_base64_encode(&line, key, 32)) == 0 && (rc = vl_buf_putc(&line, '\n')) == 0)
		rc = vl_buf_write_file(path.ptr, line.ptr, line.len, 0600);
	vl_buf_free_secure(&line);
	vl_buf_free(&path);
	return rc;
}

int vl_netkey_create(const char *home)
{
	unsigned char key[32];
	int rc;

	randombytes_buf(key, sizeof(key));
	rc = netkey_write(home, key);
	sodium_memzero(key, sizeof(key));
	return rc;
}

static int netkey_load(unsigned char out[32], const char *home)
{
	vl_buf path = VL_BUF_INIT, b = VL_BUF_INIT, raw = VL_BUF_INIT;
	size_t ml = strlen(NETKEY_MAGIC);
	struct stat st;
	int rc;

	if ((rc = vl_buf_printf(&path, "%s/keys/network.key", home)) < 0)
		goto out;
	if (stat(path.ptr, &st) < 0) {
		rc = vl_error_set(VL_ENOTFOUND, "this node has no network key ('%s'): only a node made by "
				"'init --new-network' or by 'join' holds one, so invite from such a node", path.ptr);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = vl_error_set(VL_EDENIED, "'%s' may be read by others; chmod 600 it", path.ptr);
		goto out;
	}
	if ((rc = vl_buf_read_file(&b, path.ptr, 256)) < 0)
		goto out;
	if (b.len < ml + 2 || strncmp(b.ptr, NETKEY_MAGIC, ml) != 0 || b.ptr[b.len - 1] != '\n' ||
			vl_base64_decode(&raw, b.ptr + ml, b.len - ml - 1) < 0 || raw.len != 32) {
		rc = vl_error_set(VL_EINVALID, "'%s' is not a network key file", path.ptr);
		goto out;
	}
	memcpy(out, raw.ptr, 32);
	rc = 0;
out:
	vl_buf_free_secure(&raw);
	vl_buf_free_secure(&b);
	vl_buf_free(&path);
	return rc;
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
	rc = vl_buf_read_file(raw, path, 64 * 1024);
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

/* Hours: a decimal integer 1..INVITE_MAX_HOURS. */
static int parse_hours(unsigned *out, const char *s)
{
	unsigned v = 0;

	if (!*s || strlen(s) > 4)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v < 1 || v > INVITE_MAX_HOURS)
		return -1;
	*out = v;
	return 0;
}

/* The 'listen' address of node.yaml ("" when there is none). */
static int node_listen(vl_buf *out, const char *home)
{
	vl_buf p = VL_BUF_INIT, b = VL_BUF_INIT;
	vl_value *conf = NULL;
	const char *l;
	int rc;

	if ((rc = vl_buf_printf(&p, "%s/node.yaml", home)) == 0 &&
			(rc = vl_buf_read_file(&b, p.ptr, 64 * 1024)) == 0 &&
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
		rc = vl_error_set(VL_ENOMEM, "out of memory");
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

int vl_cmd_invite(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *role = NULL, *scope = NULL, *name = NULL, *expires = NULL, *address = NULL,
			*source = NULL;
	int no_qr = 0, needs_admin, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = {
		{ "--role", 1, &role, NULL, NULL }, { "--scope", 1, &scope, NULL, NULL },
		{ "--name", 1, &name, NULL, NULL }, { "--expires", 1, &expires, NULL, NULL },
		{ "--address", 1, &address, NULL, NULL }, { "--source", 1, &source, NULL, NULL },
		{ "--no-qr", 0, NULL, &no_qr, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	unsigned hours = INVITE_DEFAULT_HOURS;
	uint64_t created;
	vl_node *n = NULL;
	const vl_roster_entry *me;
	vl_invite inv;
	vl_key ikey;
	vl_buf token = VL_BUF_INIT, qr = VL_BUF_INIT, p = VL_BUF_INIT, listen = VL_BUF_INIT;
	vl_buf real = VL_BUF_INIT;
	char idhex[33], exp[21];

	memset(&inv, 0, sizeof(inv));
	memset(&ikey, 0, sizeof(ikey));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	free(pos);
	if (npos || !role || !scope || !name)
		return vl_cli_usage(cmd, "needs --role, --scope and --name");
	if (expires && parse_hours(&hours, expires) < 0)
		return vl_cli_usage(cmd, "--expires takes whole hours, 1 to %d", INVITE_MAX_HOURS);
	if (!name_ok(name) || strlen(role) >= sizeof(inv.role) || strlen(scope) != 12)
		return vl_cli_usage(cmd, "the name must be 1 to 255 bytes of text, the scope a 12-digit code");
	if ((address && strlen(address) > 255) || (source && strlen(source) > 255))
		return vl_cli_usage(cmd, "--address and --source are at most 255 bytes");
	if ((rc = vl_crypto_init()) < 0)
		goto fail;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = vl_node_load_config(n)) < 0)
		goto fail;
	me = vl_node_roster_find(n, n->fp);
	if (!me || me->revoked_at) {
		rc = vl_error_set(VL_EDENIED, "this node's key %s is %s; only a key on the roster invites",
				n->fp, me ? "revoked" : "not on the roster");
		goto fail;
	}
	if (!vl_division_covers(me->scope, scope)) {
		rc = vl_error_set(VL_EDENIED, "this key holds '%s', which does not cover '%s'; invite from a "
				"node whose scope does", me->scope, scope);
		goto fail;
	}
	needs_admin = strcmp(me->role, "admin") != 0;
	if ((rc = invite_network(&inv, n)) < 0 || (rc = netkey_load(inv.network_key, n->home)) < 0)
		goto fail;
	randombytes_buf(inv.id, sizeof(inv.id));
	randombytes_buf(inv.secret, sizeof(inv.secret));
	sodium_bin2hex(idhex, sizeof(idhex), inv.id, sizeof(inv.id));
	created = vl_hlc_wall_ms() / 1000;
	inv.expires = created + (uint64_t)hours * 3600;
	snprintf(inv.role, sizeof(inv.role), "%s", role);
	snprintf(inv.scope, sizeof(inv.scope), "%s", scope);
	snprintf(inv.name, sizeof(inv.name), "%s", name);
	if (!address && (rc = node_listen(&listen, n->home)) < 0)
		goto fail;
	snprintf(inv.address, sizeof(inv.address), "%s", address ? address : listen.ptr ? listen.ptr : "");
	/* The source: the given path or our own repository, absolute so that
	 * the new node can use it from anywhere. */
	if (!source) {
		if ((rc = vl_buf_printf(&p, "%s/repo.git", n->home)) < 0)
			goto fail;
		source = p.ptr;
	}
	if ((rc = abs_path(&real, source)) < 0)
		goto fail;
	if (real.len > 255) {
		rc = vl_error_set(VL_EINVALID, "the source path '%s' is over 255 bytes; give a shorter --source",
				real.ptr);
		goto fail;
	}
	snprintf(inv.source, sizeof(inv.source), "%s", real.ptr);
	/* Encoding checks every field: nothing is stored before it passes. */
	if ((rc = vl_invite_encode(&token, &inv)) < 0 || (!no_qr && (rc = vl_qr_render(&qr, token.ptr)) < 0) ||
			(rc = vl_invite_key(&ikey, inv.secret)) < 0 ||
			(rc = invite_save(n->home, &inv, idhex, n->fp, needs_admin, ikey.pk, created)) < 0)
		goto fail;
	vl_invite_time_format(exp, inv.expires);
	printf("invitation %s for '%s' (%s, scope %s), good for one join until %s\n", idhex, name, role,
			scope, exp);
	printf("%s\n", token.ptr);
	if (!no_qr)
		printf("\n%s\n", qr.ptr);
	printf("on the new laptop:  vledger join TOKEN [--passphrase-file FILE]\n"
			"then, here:         vledger roster approve join-request.yaml   (the file join writes)\n"
			"whoever holds this token can join until it expires: show it only to the new laptop\n");
	if (needs_admin)
		printf("note: this key is '%s', not an admin, for '%s': the invitation is pending an admin. "
				"'roster approve' here checks the request and prints the 'roster add' command for "
				"an admin whose scope covers %s\n", me->role, me->scope, scope);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_buf_free(&real);
	vl_invite_wipe(&inv);
	vl_key_wipe(&ikey);
	vl_buf_free_secure(&token);
	vl_buf_free_secure(&qr);
	vl_buf_free(&p);
	vl_buf_free(&listen);
	vl_node_close(n);
	return exit_code;
}

/* ---- join ------------------------------------------------------------ */

/* network.yaml as the token pins it: network, county, root_keys. fetch
 * compares the network id and the root keys by value with the first
 * config commit (cmd_fetch.c), so the other fields of the county's file
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
			(rc = vl_buf_read_file(&b, p.ptr, 64 * 1024)) < 0 ||
			(rc = vl_yaml_load(&conf, b.ptr, b.len, &vl_yaml_file_limits, p.ptr)) < 0)
		goto out;
	rc = VL_ENOMEM;
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
	rc = vl_error_set(VL_ENOMEM, "out of memory");
out:
	vl_value_free(conf);
	vl_value_free(peers);
	vl_value_free(peer);
	vl_buf_free(&p);
	vl_buf_free(&b);
	vl_buf_free(&out);
	return rc;
}

/* The request the inviter approves: both proofs over vl_join_message. */
static int join_request(vl_buf *out, const vl_invite *inv, const vl_node *n, const char *name)
{
	vl_buf msg = VL_BUF_INIT, key = VL_BUF_INIT, proof = VL_BUF_INIT, kproof = VL_BUF_INIT;
	vl_value *v = NULL;
	vl_key ikey;
	unsigned char sig[crypto_sign_BYTES];
	char idhex[33];
	int rc;

	memset(&ikey, 0, sizeof(ikey));
	sodium_bin2hex(idhex, sizeof(idhex), inv->id, sizeof(inv->id));
	if ((rc = vl_join_message(&msg, inv->network, inv->id, n->key.pk, name)) < 0 ||
			(rc = vl_invite_key(&ikey, inv->secret)) < 0)
		goto out;
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.ptr, msg.len, ikey.sk);
	if ((rc = vl_base64_encode(&proof, sig, sizeof(sig))) < 0)
		goto out;
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.ptr, msg.len, n->key.sk);
	if ((rc = vl_base64_encode(&kproof, sig, sizeof(sig))) < 0 ||
			(rc = vl_pubkey_format(&key, n->key.pk, NULL)) < 0)
		goto out;
	if (!(v = vl_value_new(VL_V_MAP)) || vl_value_map_set(v, "kind", vl_value_str("join")) < 0 ||
			vl_value_map_set(v, "network", vl_value_str(inv->network)) < 0 ||
			vl_value_map_set(v, "invite", vl_value_str(idhex)) < 0 ||
			vl_value_map_set(v, "name", vl_value_str(name)) < 0 ||
			vl_value_map_set(v, "key", vl_value_str(key.ptr)) < 0 ||
			vl_value_map_set(v, "proof", vl_value_str(proof.ptr)) < 0 ||
			vl_value_map_set(v, "key_proof", vl_value_str(kproof.ptr)) < 0) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
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

int vl_cmd_join(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	static const vl_command init_cmd = { "init", "", "", vl_cmd_init };
	static const vl_command fetch_cmd = { "fetch", "", "", vl_cmd_fetch };
	const char *name = NULL, *passfile = NULL;
	int no_fetch = 0, rc, exit_code = VL_EXIT_ERROR, made_netfile = 0, wild;
	const vl_opt opts[] = {
		{ "--name", 1, &name, NULL, NULL }, { "--passphrase-file", 1, &passfile, NULL, NULL },
		{ "--no-fetch", 0, NULL, &no_fetch, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_invite inv;
	vl_node *n = NULL;
	vl_buf p = VL_BUF_INIT, net = VL_BUF_INIT, req = VL_BUF_INIT, conf = VL_BUF_INIT;
	char *home = NULL, exp[21];
	struct stat st;

	memset(&inv, 0, sizeof(inv));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs the invitation (vledger1:...) as its one argument");
	}
	if (name && !name_ok(name)) {
		free(pos);
		return vl_cli_usage(cmd, "the name must be 1 to 255 bytes of text");
	}
	if ((rc = vl_crypto_init()) < 0 || (rc = vl_invite_decode(&inv, pos[0])) < 0)
		goto fail;
	vl_invite_time_format(exp, inv.expires);
	if (vl_invite_expired(inv.expires)) {
		rc = vl_error_set(VL_EDENIED, "this invitation expired at %s; ask the inviter for a new one", exp);
		goto fail;
	}
	if (!name)
		name = inv.name;
	if (!(home = vl_node_home_path(cli->home))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = vl_buf_printf(&conf, "%s/node.yaml", home)) < 0)
		goto fail;
	if (stat(conf.ptr, &st) == 0) {
		rc = vl_error_set(VL_EEXISTS, "'%s' already holds a vledger node; join into a new -C DIR", home);
		goto fail;
	}
	/* The pinned network.yaml goes where init puts the one it is given:
	 * init reads it there and writes the same bytes back. */
	if (mkdir(home, 0700) < 0 && errno != EEXIST) {
		rc = vl_error_set(VL_ERROR, "cannot create '%s': %s", home, strerror(errno));
		goto fail;
	}
	if ((rc = vl_buf_printf(&p, "%s/network.yaml", home)) < 0 || (rc = pinned_network(&net, &inv)) < 0 ||
			(rc = vl_buf_write_file(p.ptr, net.ptr, net.len, 0644)) < 0)
		goto fail;
	made_netfile = 1;
	{
		char *args[10];
		int na = 0;
		args[na++] = "--name";
		args[na++] = (char *)name;
		args[na++] = "--role";
		args[na++] = inv.role;
		args[na++] = "--scope";
		args[na++] = inv.scope;
		args[na++] = "--network";
		args[na++] = p.ptr;
		if (passfile) {
			args[na++] = "--passphrase-file";
			args[na++] = (char *)passfile;
		}
		if ((exit_code = vl_cmd_init(&init_cmd, cli, na, args)) != VL_EXIT_OK)
			goto out;
	}
	exit_code = VL_EXIT_ERROR;
	made_netfile = 0;
	if ((rc = netkey_write(home, inv.network_key)) < 0 || (rc = note_inviter(home, &inv)) < 0 ||
			(rc = vl_node_open(&n, home, 1, passfile)) < 0 || (rc = join_request(&req, &inv, n, name)) < 0)
		goto fail;
	vl_buf_clear(&p);
	if ((rc = vl_buf_printf(&p, "%s/join-request.yaml", home)) < 0 ||
			(rc = vl_buf_write_file(p.ptr, req.ptr, req.len, 0644)) < 0)
		goto fail;
	printf("joining network %s (county %s) as '%s' (%s, scope %s); the invitation is good until %s\n",
			inv.network, inv.county, name, inv.role, inv.scope, exp);
	printf("join request: %s\n", p.ptr);
	/* A wildcard listen address (0.0.0.0:7433) names no host worth showing. */
	wild = !*inv.address || !strncmp(inv.address, "0.0.0.0:", 8) || !strncmp(inv.address, "[::]:", 5);
	printf("send that file to the inviter%s%s, who runs:  vledger roster approve join-request.yaml\n",
			wild ? "" : " at ", wild ? "" : inv.address);
	printf("once approved, fetch the config here:  vledger -C %s fetch %s\n", home,
			*inv.source ? inv.source : "SOURCE");
	if (!no_fetch && *inv.source && stat(inv.source, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *args[1];
		args[0] = inv.source;
		printf("fetching the config now from %s (the roster will name this key after approval):\n",
				inv.source);
		vl_node_close(n);
		n = NULL;
		fflush(stdout);
		if (vl_cmd_fetch(&fetch_cmd, cli, 1, args) != VL_EXIT_OK)
			fprintf(stderr, "vledger: the join request stands; fetch again once the source is "
					"reachable and the request approved\n");
	}
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	/* A network.yaml we wrote for an init that then failed is not left
	 * behind to look like a half-made node. */
	if (made_netfile && stat(conf.ptr, &st) != 0)
		unlink(p.ptr);
	vl_invite_wipe(&inv);
	vl_node_close(n);
	vl_buf_free(&p);
	vl_buf_free(&net);
	vl_buf_free(&req);
	vl_buf_free(&conf);
	free(home);
	free(pos);
	return exit_code;
}

/* ---- roster approve -------------------------------------------------- */

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

/*
 * kind: join. Every check happens before anything is written; the
 * invitation is marked used under <id>.lock before the roster commit and
 * restored if that fails, so a token or a request is good exactly once.
 * Returns an exit code.
 */
static int approve_join(const vl_cli *cli, const vl_value *req, const char *file, const char *passfile)
{
	static const char *const fields[] = { "kind", "network", "invite", "name", "key", "proof", "key_proof" };
	static const vl_command add_cmd = { "roster add", "", "", vl_cmd_roster_add };
	const char *network = map_str(req, "network"), *idhex = map_str(req, "invite"),
			*name = map_str(req, "name"), *keyline = map_str(req, "key");
	unsigned char id[16], pk[32], proof[crypto_sign_BYTES], kproof[crypto_sign_BYTES];
	vl_buf path = VL_BUF_INIT, lock = VL_BUF_INIT, raw = VL_BUF_INIT, msg = VL_BUF_INIT,
			text = VL_BUF_INIT, cmdline = VL_BUF_INIT, repo = VL_BUF_INIT, where = VL_BUF_INIT;
	invite_file inv;
	vl_node *n = NULL;
	const vl_roster_entry *me;
	char fp[VL_FP_LEN], now[21], role[16], scope[13];
	char *rname = NULL;
	int rc, locked = 0, marked = 0, exit_code = VL_EXIT_ERROR, fd;
	size_t i;

	memset(&inv, 0, sizeof(inv));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!map_str(req, fields[i]))
			break;
	if (i < sizeof(fields) / sizeof(fields[0]) || req->n != i) {
		rc = vl_error_set(VL_EINVALID, "'%s' is not a join request: it holds exactly kind, network, "
				"invite, name, key, proof and key_proof", file);
		goto fail;
	}
	if (strlen(idhex) != 32 || sodium_hex2bin(id, 16, idhex, 32, NULL, NULL, NULL) != 0 ||
			vl_pubkey_parse(pk, keyline) < 0 || !name_ok(name) ||
			b64_exact(proof, sizeof(proof), map_str(req, "proof")) < 0 ||
			b64_exact(kproof, sizeof(kproof), map_str(req, "key_proof")) < 0) {
		rc = vl_error_set(VL_EINVALID, "'%s': a malformed invite id, key, name or proof", file);
		goto fail;
	}
	for (i = 0; i < 32; i++)
		if (idhex[i] >= 'A' && idhex[i] <= 'F')
			break;
	if (i < 32) {
		rc = vl_error_set(VL_EINVALID, "'%s': the invite id is not lowercase hex", file);
		goto fail;
	}
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = vl_node_load_config(n)) < 0)
		goto fail;
	if (strcmp(network, n->network_id) != 0) {
		rc = vl_error_set(VL_EDENIED, "the request is for network %s; this node is in %s", network,
				n->network_id);
		goto fail;
	}
	/* One approve at a time per invitation. */
	if ((rc = invite_path(&lock, n->home, idhex, ".lock")) < 0)
		goto fail;
	if ((fd = open(lock.ptr, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
		rc = errno == EEXIST
			? vl_error_set(VL_ECONFLICT, "'%s' exists: another approve of this invitation is running "
					"(remove the file if none is)", lock.ptr)
			: (errno == ENOENT ? vl_error_set(VL_ENOTFOUND, "no invitation '%s' was made at this "
					"node; approve the request on the node that printed the invitation", idhex)
				: vl_error_set(VL_ERROR, "cannot create '%s': %s", lock.ptr, strerror(errno)));
		goto fail;
	}
	close(fd);
	locked = 1;
	if ((rc = invite_path(&path, n->home, idhex, ".yaml")) < 0 ||
			(rc = invite_load(&inv, &raw, path.ptr, idhex)) < 0)
		goto fail;
	if (inv.used) {
		const char *by = map_str(inv.v, "used_by"), *at = map_str(inv.v, "used_at");
		rc = vl_error_set(VL_EDENIED, "invitation %s was already used (by %s at %s); a token and its "
				"request are good once: print a new invitation with 'vledger invite'", idhex,
				by ? by : "?", at ? at : "?");
		goto fail;
	}
	if (vl_invite_expired(inv.expires)) {
		rc = vl_error_set(VL_EDENIED, "invitation %s expired at %s; print a new one with 'vledger invite'",
				idhex, inv.expires_at);
		goto fail;
	}
	if ((rc = vl_join_message(&msg, network, id, pk, name)) < 0)
		goto fail;
	if (crypto_sign_verify_detached(proof, (const unsigned char *)msg.ptr, msg.len, inv.verifier) != 0) {
		rc = vl_error_set(VL_EBADSIG, "the request's proof does not match invitation %s: it was not "
				"made with that token, or it was changed after", idhex);
		goto fail;
	}
	if (crypto_sign_verify_detached(kproof, (const unsigned char *)msg.ptr, msg.len, pk) != 0) {
		rc = vl_error_set(VL_EBADSIG, "the request's key_proof is not signed by the key it asks to add");
		goto fail;
	}
	vl_fingerprint(fp, pk);
	if (vl_node_roster_find(n, fp)) {
		rc = vl_error_set(VL_EEXISTS, "key %s is already on the roster", fp);
		goto fail;
	}
	me = vl_node_roster_find(n, n->fp);
	if (!me || me->revoked_at || strcmp(me->role, "admin") != 0 || !vl_division_covers(me->scope, inv.scope)) {
		/* The request is good, but this key may not change the roster:
		 * say exactly what an admin runs, and leave the invitation unused. */
		if (vl_buf_puts(&cmdline, "vledger roster add --name ") < 0 || shell_quote(&cmdline, inv.name) < 0 ||
				vl_buf_printf(&cmdline, " --role %s --scope %s --key ", inv.role, inv.scope) < 0 ||
				shell_quote(&cmdline, keyline) < 0) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto fail;
		}
		rc = vl_error_set(VL_EDENIED, "the request is good (invitation %s, left unused), but this "
				"node's key (%s%s%s) may not change the roster for '%s'; an admin whose scope covers "
				"'%s' adds the key on their node with:\n  %s", idhex,
				!me ? "not on the roster" : me->revoked_at ? "revoked" : me->role,
				me && !me->revoked_at ? " for " : "", me && !me->revoked_at ? me->scope : "",
				inv.scope, inv.scope, cmdline.ptr);
		goto fail;
	}
	if (strcmp(name, inv.name) != 0)
		printf("note: the new node calls itself '%s'; the roster names it '%s' as the invitation does\n",
				name, inv.name);
	/* Mark used first: if the commit then fails, the old file comes back. */
	vl_invite_time_format(now, vl_hlc_wall_ms() / 1000);
	if (vl_value_map_set(inv.v, "used", vl_value_bool(1)) < 0 ||
			vl_value_map_set(inv.v, "used_at", vl_value_str(now)) < 0 ||
			vl_value_map_set(inv.v, "used_by", vl_value_str(fp)) < 0) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = vl_yaml_emit(&text, inv.v)) < 0 || (rc = vl_buf_write_file(path.ptr, text.ptr, text.len, 0600)) < 0)
		goto fail;
	marked = 1;
	/* roster add opens the node with its key and commits; ours is closed
	 * first so that one process does not hold the repository twice. */
	snprintf(role, sizeof(role), "%s", inv.role);
	snprintf(scope, sizeof(scope), "%s", inv.scope);
	if (!(rname = strdup(inv.name)) || vl_buf_puts(&repo, n->home) < 0 || vl_buf_puts(&repo, "/repo.git") < 0) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	vl_node_close(n);
	n = NULL;
	{
		char *args[10];
		int na = 0;
		args[na++] = "--name";
		args[na++] = rname;
		args[na++] = "--role";
		args[na++] = role;
		args[na++] = "--scope";
		args[na++] = scope;
		args[na++] = "--key";
		args[na++] = (char *)keyline;
		if (passfile) {
			args[na++] = "--passphrase-file";
			args[na++] = (char *)passfile;
		}
		if ((exit_code = vl_cmd_roster_add(&add_cmd, cli, na, args)) != VL_EXIT_OK)
			goto out;
	}
	marked = 0;
	if (abs_path(&where, repo.ptr) < 0)
		vl_error_clear();
	printf("invitation %s is used; the new node now runs:  vledger fetch %s\n", idhex,
			where.len ? where.ptr : repo.ptr);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	if (marked && vl_buf_write_file(path.ptr, raw.ptr, raw.len, 0600) < 0)
		fprintf(stderr, "vledger: could not mark invitation %s unused again: %s\n", idhex, vl_error_last());
	if (locked)
		unlink(lock.ptr);
	vl_value_free(inv.v);
	vl_node_close(n);
	free(rname);
	vl_buf_free(&path);
	vl_buf_free(&lock);
	vl_buf_free(&raw);
	vl_buf_free(&msg);
	vl_buf_free(&text);
	vl_buf_free(&cmdline);
	vl_buf_free(&repo);
	vl_buf_free(&where);
	return exit_code;
}

/* Load a request file into *out (caller frees); VL_EINVALID etc. */
static int request_load(vl_value **out, const char *path)
{
	vl_buf b = VL_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = vl_buf_read_file(&b, path, REQUEST_MAX_BYTES)) == 0)
		rc = vl_yaml_load(out, b.ptr, b.len, &vl_yaml_file_limits, path);
	vl_buf_free(&b);
	return rc;
}

int vl_join_request_is(const char *path)
{
	vl_value *req = NULL;
	const char *kind;
	int is;

	if (request_load(&req, path) < 0) {
		vl_error_clear();
		return 0;
	}
	kind = map_str(req, "kind");
	is = kind && !strcmp(kind, "join");
	vl_value_free(req);
	return is;
}

int vl_approve_join(const vl_cli *cli, const char *path, const char *passfile)
{
	vl_value *req = NULL;
	int rc, exit_code;

	if ((rc = vl_crypto_init()) < 0 || (rc = request_load(&req, path)) < 0)
		return vl_cli_fail(rc);
	exit_code = approve_join(cli, req, path, passfile);
	vl_value_free(req);
	return exit_code;
}
