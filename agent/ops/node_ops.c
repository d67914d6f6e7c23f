/* node_ops.c - make a node home, init, key, export network (see node_ops.h). */
#include "agent/ops/node_ops.h"
#include "store/limits.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agent/node/netkey.h"
#include "agent/node/roster.h"
#include "agent/node/tz.h"
#include "schemas/types.h"
#include "store/i18n.h"
#include "store/repo.h"
#include "store/yaml.h"

#ifndef VL_DEFAULT_HOOK_DIR
#define VL_DEFAULT_HOOK_DIR "hooks"
#endif

/* network.yaml files are small; a bigger one is not one. */

static int mkdir_p(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return vl_error_set(VL_ERROR, "cannot create '%s': %s", path, strerror(errno));
	return 0;
}

/*
 * Install the shipped merge hooks (the executable files of the hooks
 * directory whose names a schema may use: [a-z0-9][a-z0-9_-]*) into
 * <home>/hooks, mode 0755. A node runs only what is installed there; the
 * schemas pin each hook's sha256, so a changed copy is never run.
 */
static int install_hooks(const char *home, const char *dir)
{
	DIR *d;
	struct dirent *de;
	vl_buf src = VL_BUF_INIT, dst = VL_BUF_INIT, data = VL_BUF_INIT;
	int rc = 0;

	if (!dir || !*dir)
		dir = getenv("VLEDGER_HOOK_DIR");
	if (!dir || !*dir)
		dir = VL_DEFAULT_HOOK_DIR;
	if (!(d = opendir(dir)))
		return 0; /* no shipped hooks here: hook fields go to a person */
	while ((de = readdir(d))) {
		struct stat st;
		const char *nm = de->d_name;
		size_t i, ok = nm[0] && ((nm[0] >= 'a' && nm[0] <= 'z') || (nm[0] >= '0' && nm[0] <= '9'));
		for (i = 1; ok && nm[i]; i++)
			ok = (nm[i] >= 'a' && nm[i] <= 'z') || (nm[i] >= '0' && nm[i] <= '9') || nm[i] == '_' || nm[i] == '-';
		vl_buf_clear(&src);
		if (!ok || (rc = vl_buf_printf(&src, "%s/%s", dir, nm)) < 0)
			continue;
		if (lstat(src.ptr, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
			continue;
		vl_buf_clear(&dst);
		vl_buf_clear(&data);
		if ((rc = vl_buf_printf(&dst, "%s/hooks/%s", home, nm)) < 0 ||
				(rc = vl_buf_read_file(&data, src.ptr, VL_HOOK_FILE_MAX)) < 0 ||
				(rc = vl_buf_write_file(dst.ptr, data.ptr ? data.ptr : "", data.len, 0755)) < 0)
			break;
	}
	closedir(d);
	vl_buf_free(&src);
	vl_buf_free(&dst);
	vl_buf_free(&data);
	return rc;
}

/* node.yaml of a new node: no peers yet, the default listen address. */
static int node_yaml(vl_buf *out, const vl_node_create_opts *o)
{
	vl_value *nc = NULL, *peers = NULL;
	int rc = VL_ENOMEM;

	if (!(nc = vl_value_new(VL_V_MAP)) || !(peers = vl_value_new(VL_V_LIST)) ||
			vl_value_map_set(nc, "name", vl_value_str(o->name)) < 0 ||
			vl_value_map_set(nc, "role", vl_value_str(o->role)) < 0 ||
			vl_value_map_set(nc, "scope", vl_value_str(o->scope)) < 0 ||
			vl_value_map_set(nc, "network", vl_value_str(o->network_id)) < 0 ||
			vl_value_map_set(nc, "listen", vl_value_str("0.0.0.0:7433")) < 0)
		goto out;
	rc = vl_value_map_set(nc, "peers", peers);
	peers = NULL;
	if (rc == 0)
		rc = vl_yaml_emit(out, nc);
out:
	if (rc == VL_ENOMEM)
		vl_error_set(VL_ENOMEM, "out of memory");
	vl_value_free(nc);
	vl_value_free(peers);
	return rc;
}

int vl_node_create(vl_key *key_out, const char *home, const vl_node_create_opts *o)
{
	static const char *const sub[] = { "keys", "hooks", "cache", "log" };
	vl_buf p = VL_BUF_INIT, conf = VL_BUF_INIT, pub = VL_BUF_INIT, netpath = VL_BUF_INIT;
	git_repository *repo = NULL;
	char *pass = NULL;
	vl_key key;
	struct stat st;
	size_t i;
	int rc, wrote_net = 0;

	memset(&key, 0, sizeof(key));
	if (!o || !o->name || !o->role || !o->scope || !o->network_id) {
		rc = vl_error_set(VL_EINVALID, "a new node needs a name, role, scope and network id");
		goto out;
	}
	if ((rc = vl_crypto_init()) < 0 || (rc = vl_roster_role_scope_check(o->role, o->scope)) < 0 ||
			(rc = vl_buf_printf(&p, "%s/node.yaml", home)) < 0)
		goto out;
	if (stat(p.ptr, &st) == 0) {
		rc = vl_error_set(VL_EEXISTS, "'%s' already holds a vledger node; choose another -C DIR", home);
		goto out;
	}
	if (o->passphrase_file && (rc = vl_read_passphrase(&pass, o->passphrase_file)) < 0)
		goto out;
	/* Directories first, then the key, then the repository; node.yaml last,
	 * so a half-made home is never taken for a node. */
	if ((rc = mkdir_p(home, 0700)) < 0)
		goto out;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		vl_buf_clear(&p);
		if ((rc = vl_buf_printf(&p, "%s/%s", home, sub[i])) < 0 ||
				(rc = mkdir_p(p.ptr, i == 0 ? 0700 : 0755)) < 0)
			goto out;
	}
	if ((rc = install_hooks(home, o->hook_dir)) < 0 || (rc = vl_key_generate(&key)) < 0)
		goto out;
	vl_buf_clear(&p);
	if ((rc = vl_buf_printf(&p, "%s/keys/node.key", home)) < 0 || (rc = vl_key_save(&key, p.ptr, pass)) < 0)
		goto out;
	vl_buf_clear(&p);
	if ((rc = vl_pubkey_format(&pub, key.pk, o->name)) < 0 || (rc = vl_buf_putc(&pub, '\n')) < 0 ||
			(rc = vl_buf_printf(&p, "%s/keys/node.pub", home)) < 0 ||
			(rc = vl_buf_write_file(p.ptr, pub.ptr, pub.len, 0644)) < 0)
		goto out;
	vl_buf_clear(&p);
	if ((rc = vl_buf_printf(&p, "%s/repo.git", home)) < 0 || (rc = vl_repo_init(&repo, p.ptr)) < 0 ||
			(rc = vl_node_head_follow(repo, o->scope)) < 0)
		goto out;
	if (o->network_yaml) {
		if ((rc = vl_buf_printf(&netpath, "%s/network.yaml", home)) < 0)
			goto out;
		wrote_net = 1;
		if ((rc = vl_buf_write_file(netpath.ptr, o->network_yaml, o->network_yaml_len, 0644)) < 0)
			goto out;
	}
	vl_buf_clear(&p);
	if ((rc = node_yaml(&conf, o)) < 0 || (rc = vl_buf_printf(&p, "%s/node.yaml", home)) < 0 ||
			(rc = vl_buf_write_file(p.ptr, conf.ptr, conf.len, 0644)) < 0)
		goto out;
	if (key_out) {
		*key_out = key;
		memset(&key, 0, sizeof(key));
	}
	wrote_net = 0;
out:
	if (wrote_net)
		(void)unlink(netpath.ptr);
	if (pass) {
		sodium_memzero(pass, strlen(pass));
		free(pass);
	}
	vl_key_wipe(&key);
	git_repository_free(repo);
	vl_buf_free(&p);
	vl_buf_free(&conf);
	vl_buf_free(&pub);
	vl_buf_free(&netpath);
	return rc;
}

/* ---- init ------------------------------------------------------------------ */

void vl_init_result_free(vl_init_result *r)
{
	if (!r)
		return;
	free(r->home);
	free(r->name);
	free(r->role);
	vl_buf_free(&r->pubkey);
	memset(r, 0, sizeof(*r));
}

/* Build the first config commit of a new network: network.yaml (with
 * `timezone` when given, already checked), roster.yaml with this key as
 * admin, and the schemas of `dir`. */
static int create_network(vl_node *n, const char *network_id, const char *dir, const char *timezone)
{
	vl_value *net = NULL, *roster = NULL, *list = NULL, *roots = NULL;
	vl_buf netb = VL_BUF_INIT, rosb = VL_BUF_INIT, key = VL_BUF_INIT, diag = VL_BUF_INIT;
	vl_buf *schema_bufs = NULL, *schema_paths = NULL;
	vl_change *changes = NULL;
	vl_schema **schemas = NULL;
	size_t nschemas = 0, i, nch = 0;
	git_oid id;
	char now[21], summary[256], clock[VL_HLC_TEXT_LEN + 1];
	int rc;

	vl_roster_time_text(now, vl_hlc_wall_ms());
	if (!dir) {
		rc = vl_error_set(VL_EINVALID, "a new network needs the directory of its schemas");
		goto out;
	}
	if ((rc = vl_schemas_load_dir(&schemas, &nschemas, dir, &diag)) < 0) {
		vl_error_set(rc, "the shipped schemas in '%s' do not load:\n%s", dir, diag.len ? diag.ptr : vl_error_last());
		goto out;
	}
	if (nschemas == 0) {
		rc = vl_error_set(VL_ENOTFOUND, "no schemas in '%s'; set VLEDGER_SCHEMA_DIR", dir);
		goto out;
	}
	if (!(net = vl_value_new(VL_V_MAP)) || !(roots = vl_value_new(VL_V_LIST)) ||
			vl_pubkey_format(&key, n->key.pk, NULL) < 0 ||
			vl_value_map_set(net, "network", vl_value_str(network_id)) < 0 ||
			vl_value_map_set(net, "county", vl_value_str(n->scope)) < 0 ||
			vl_value_map_set(net, "name", vl_value_str(n->name)) < 0 ||
			vl_value_list_push(roots, vl_value_str(key.ptr)) < 0)
		goto oom;
	rc = vl_value_map_set(net, "root_keys", roots);
	roots = NULL;
	if (rc < 0 || vl_value_map_set(net, "created", vl_value_str(now)) < 0 ||
			(timezone && vl_value_map_set(net, "timezone", vl_value_str(timezone)) < 0) ||
			vl_yaml_emit(&netb, net) < 0)
		goto oom;
	if (!(roster = vl_value_new(VL_V_MAP)) || !(list = vl_value_new(VL_V_LIST)) ||
			vl_value_list_push(list, vl_roster_entry_new(n->key.pk, n->name, "admin", n->scope, now)) < 0)
		goto oom;
	rc = vl_value_map_set(roster, "keys", list);
	list = NULL;
	if (rc < 0 || vl_yaml_emit(&rosb, roster) < 0)
		goto oom;
	changes = calloc(nschemas + 2, sizeof(*changes));
	schema_bufs = calloc(nschemas, sizeof(*schema_bufs));
	schema_paths = calloc(nschemas, sizeof(*schema_paths));
	if (!changes || !schema_bufs || !schema_paths)
		goto oom;
	changes[nch++] = (vl_change){ "network.yaml", netb.ptr, netb.len, NULL };
	changes[nch++] = (vl_change){ "roster.yaml", rosb.ptr, rosb.len, NULL };
	for (i = 0; i < nschemas; i++) {
		vl_buf src = VL_BUF_INIT;
		if ((rc = vl_buf_printf(&src, "%s/%s.yaml", dir, schemas[i]->name)) < 0 ||
				(rc = vl_buf_read_file(&schema_bufs[i], src.ptr, vl_yaml_file_limits.max_bytes)) < 0 ||
				(rc = vl_buf_printf(&schema_paths[i], "schemas/%s.yaml", schemas[i]->name)) < 0) {
			vl_buf_free(&src);
			if (rc == VL_ENOTFOUND)
				vl_error_set(rc, "schema '%s' must live in a file named %s.yaml", schemas[i]->name,
						schemas[i]->name);
			goto out;
		}
		vl_buf_free(&src);
		changes[nch++] = (vl_change){ schema_paths[i].ptr, schema_bufs[i].ptr, schema_bufs[i].len, NULL };
	}
	if ((rc = vl_node_tick(n, clock)) < 0)
		goto out;
	snprintf(summary, sizeof(summary), "create network %s for county %s", network_id, n->scope);
	rc = vl_node_commit(&id, n, VL_REF_CONFIG, NULL, changes, nch, summary, "Vledger-Config: network roster schemas\n");
	goto out;
oom:
	rc = vl_error_set(VL_ENOMEM, "out of memory");
out:
	for (i = 0; i < nschemas; i++) {
		if (schema_bufs)
			vl_buf_free(&schema_bufs[i]);
		if (schema_paths)
			vl_buf_free(&schema_paths[i]);
	}
	free(schema_bufs);
	free(schema_paths);
	free(changes);
	vl_schemas_free(schemas, nschemas);
	vl_value_free(net);
	vl_value_free(roster);
	vl_value_free(list);
	vl_value_free(roots);
	vl_buf_free(&netb);
	vl_buf_free(&rosb);
	vl_buf_free(&key);
	vl_buf_free(&diag);
	return rc;
}

/* The network id of a network file (from 'export network'), into id. */
static int network_file_id(char id[33], vl_buf *raw, const char *path)
{
	vl_value *v = NULL;
	const vl_value *nid;
	int rc;

	if ((rc = vl_buf_read_file(raw, path, VL_NETWORK_FILE_MAX)) < 0 ||
			(rc = vl_yaml_load(&v, raw->ptr, raw->len, &vl_yaml_file_limits, path)) < 0)
		goto out;
	nid = vl_value_map_get(v, "network");
	if (!nid || nid->kind != VL_V_STR || !vl_value_map_get(v, "root_keys")) {
		rc = vl_error_set(VL_EINVALID, "'%s' is not a network file (no 'network' id or "
				"'root_keys'); get one with 'vledger export network' on the county node", path);
		goto out;
	}
	snprintf(id, 33, "%s", nid->s);
out:
	vl_value_free(v);
	return rc;
}

int vl_init(const char *home, const vl_init_opts *opts, vl_init_result *out)
{
	vl_node_create_opts co;
	vl_buf netfile = VL_BUF_INIT, keypath = VL_BUF_INIT;
	vl_node *n = NULL;
	vl_key key;
	unsigned char nid[16], netkey[32];
	int rc, have_netkey = 0;

	memset(out, 0, sizeof(*out));
	memset(&key, 0, sizeof(key));
	memset(&co, 0, sizeof(co));
	if (!opts || !opts->name || !opts->role || !opts->scope || opts->new_network == (opts->network_file != NULL)) {
		rc = vl_error_set(VL_EINVALID, "init needs a name, role, scope and exactly one of a new network "
				"or a network file");
		goto out;
	}
	if ((rc = vl_crypto_init()) < 0 || (rc = vl_roster_role_scope_check(opts->role, opts->scope)) < 0)
		goto out;
	if (opts->new_network && (strcmp(opts->role, "county") != 0 || vl_division_level(opts->scope) != VL_DIV_COUNTY)) {
		rc = vl_error_set(VL_EINVALID, "only a county node with a county-level scope creates a network");
		goto out;
	}
	if (opts->timezone) {
		int tz_min;
		if (!opts->new_network) {
			rc = vl_error_set(VL_EINVALID, "--timezone is set when a network is created; a joining node "
					"takes the network's");
			goto out;
		}
		if ((rc = vl_tz_parse(&tz_min, opts->timezone)) < 0)
			goto out;
	}
	if (!(out->home = strdup(home)) || !(out->name = strdup(opts->name)) || !(out->role = strdup(opts->role))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(out->scope, sizeof(out->scope), "%s", opts->scope);
	out->new_network = opts->new_network;
	if (opts->network_file) {
		if ((rc = network_file_id(out->network, &netfile, opts->network_file)) < 0 ||
				(rc = vl_netkey_beside(&keypath, opts->network_file)) < 0)
			goto out;
		/* read (and so check) the key before the home is made */
		rc = vl_netkey_read_file(netkey, keypath.ptr);
		if (rc < 0 && rc != VL_ENOTFOUND)
			goto out;
		if (rc == VL_ENOTFOUND)
			vl_error_clear();
		have_netkey = rc == 0;
	} else {
		randombytes_buf(nid, sizeof(nid));
		sodium_bin2hex(out->network, sizeof(out->network), nid, sizeof(nid));
	}
	co.name = opts->name;
	co.role = opts->role;
	co.scope = opts->scope;
	co.network_id = out->network;
	co.network_yaml = opts->network_file ? netfile.ptr : NULL;
	co.network_yaml_len = netfile.len;
	co.passphrase_file = opts->passphrase_file;
	co.hook_dir = opts->hook_dir;
	vl_progress_report(&opts->progress, N_("create"), 0, 0);
	if ((rc = vl_node_create(&key, home, &co)) < 0)
		goto out;
	vl_fingerprint(out->fp, key.pk);
	if ((rc = vl_pubkey_format(&out->pubkey, key.pk, opts->name)) < 0 || (rc = vl_buf_putc(&out->pubkey, '\n')) < 0)
		goto out;
	if (opts->new_network) {
		/* keys/network.key: the handshake capability, handed on by invitations. */
		vl_progress_report(&opts->progress, N_("config"), 0, 0);
		if ((rc = vl_netkey_create(home)) < 0 || (rc = vl_node_open(&n, home, 1, opts->passphrase_file)) < 0 ||
				(rc = create_network(n, out->network, opts->schema_dir, opts->timezone)) < 0)
			goto out;
		out->has_network_key = 1;
	} else if (have_netkey) {
		if ((rc = vl_netkey_write(home, netkey)) < 0)
			goto out;
		out->has_network_key = 1;
	}
	rc = 0;
out:
	sodium_memzero(netkey, sizeof(netkey));
	vl_buf_free(&keypath);
	vl_key_wipe(&key);
	vl_node_close(n);
	vl_buf_free(&netfile);
	return rc;
}

/* ---- key ------------------------------------------------------------------- */

void vl_key_show_result_free(vl_key_show_result *r)
{
	if (!r)
		return;
	vl_buf_free(&r->pubkey);
	memset(r, 0, sizeof(*r));
}

int vl_key_show(vl_node *n, const vl_key_show_opts *opts, vl_key_show_result *out)
{
	int rc;

	(void)opts;
	memset(out, 0, sizeof(*out));
	if ((rc = vl_pubkey_format(&out->pubkey, n->key.pk, n->name)) < 0)
		return rc;
	memcpy(out->fp, n->fp, VL_FP_LEN);
	return 0;
}

/* ---- export network ------------------------------------------------------ */

void vl_export_network_result_free(vl_export_network_result *r)
{
	if (!r)
		return;
	vl_buf_free(&r->network);
	sodium_memzero(r, sizeof(*r));
}

int vl_export_network(vl_node *n, const vl_export_network_opts *opts, vl_export_network_result *out)
{
	int rc;

	(void)opts;
	memset(out, 0, sizeof(*out));
	if ((rc = vl_repo_read(&out->network, NULL, n->repo, VL_REF_CONFIG, NULL, "network.yaml",
			VL_NETWORK_FILE_MAX)) < 0)
		return rc;
	rc = vl_netkey_load(out->network_key, n->home);
	if (rc == VL_ENOTFOUND) {
		vl_error_clear();
		return 0;
	}
	if (rc < 0) {
		vl_export_network_result_free(out);
		return rc;
	}
	out->has_network_key = 1;
	return 0;
}
