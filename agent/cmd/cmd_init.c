/* cmd_init.c - init, key, roster add/list, export allowed-signers/network. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "agent/cmd/cli.h"
#include "store/repo.h"
#include "agent/node/roster.h"
#include "schemas/types.h"
#include "store/yaml.h"

#ifndef VL_DEFAULT_HOOK_DIR
#define VL_DEFAULT_HOOK_DIR "hooks"
#endif

static const char *const roles[] = { "village", "township", "county", "auditor", "admin" };

static int role_valid(const char *r)
{
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(r, roles[i]))
			return 1;
	return 0;
}

/* A role's scope must be of the matching level (auditors and admins may hold
 * any level). */
static int role_scope_check(const char *role, const char *scope)
{
	vl_div_level l = vl_division_level(scope);

	if (l == VL_DIV_INVALID)
		return vl_error_set(VL_EINVALID, "scope '%s' is not a valid 12-digit division code", scope);
	if ((!strcmp(role, "village") && l != VL_DIV_VILLAGE) ||
			(!strcmp(role, "township") && l != VL_DIV_TOWNSHIP) ||
			(!strcmp(role, "county") && l != VL_DIV_COUNTY))
		return vl_error_set(VL_EINVALID, "role '%s' needs a %s-level scope, but '%s' is a %s code",
				role, role, scope, vl_division_level_name(l));
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return vl_error_set(VL_ERROR, "cannot create '%s': %s", path, strerror(errno));
	return 0;
}

static void utc_now(char out[21])
{
	vl_hlc c = { vl_hlc_wall_ms(), 0 };
	char t[VL_HLC_TEXT_LEN + 1];

	vl_hlc_format(t, &c);
	memcpy(out, t, 19);
	out[19] = 'Z';
	out[20] = '\0';
}

/* A roster entry as a YAML map. */
static vl_value *roster_entry(const unsigned char pk[32], const char *name, const char *role,
		const char *scope)
{
	vl_value *e = vl_value_new(VL_V_MAP);
	vl_buf key = VL_BUF_INIT;
	char fp[VL_FP_LEN], now[21];

	vl_fingerprint(fp, pk);
	utc_now(now);
	if (!e || vl_pubkey_format(&key, pk, NULL) < 0 ||
			vl_value_map_set(e, "fingerprint", vl_value_str(fp)) < 0 ||
			vl_value_map_set(e, "key", vl_value_str(key.ptr)) < 0 ||
			vl_value_map_set(e, "name", vl_value_str(name)) < 0 ||
			vl_value_map_set(e, "role", vl_value_str(role)) < 0 ||
			vl_value_map_set(e, "scope", vl_value_str(scope)) < 0 ||
			vl_value_map_set(e, "valid_from", vl_value_str(now)) < 0) {
		vl_value_free(e);
		e = NULL;
	}
	vl_buf_free(&key);
	return e;
}

/* Build the first config commit of a new network: network.yaml, roster.yaml
 * with this key as admin, and the shipped schemas. */
static int create_network(vl_node *n, const char *network_id)
{
	vl_value *net = NULL, *roster = NULL, *list = NULL, *roots = NULL;
	vl_buf netb = VL_BUF_INIT, rosb = VL_BUF_INIT, key = VL_BUF_INIT, diag = VL_BUF_INIT;
	vl_buf *schema_bufs = NULL, *schema_paths = NULL;
	vl_change *changes = NULL;
	vl_schema **schemas = NULL;
	size_t nschemas = 0, i, nch = 0;
	const char *dir = vl_cli_schema_dir();
	git_oid id;
	char now[21], summary[256];
	int rc;

	utc_now(now);
	if ((rc = vl_schemas_load_dir(&schemas, &nschemas, dir, &diag)) < 0) {
		vl_error_set(rc, "the shipped schemas in '%s' do not load:\n%s", dir, diag.len ? diag.ptr : vl_error_last());
		goto out;
	}
	if (nschemas == 0) {
		rc = vl_error_set(VL_ENOTFOUND, "no schemas in '%s'; set VLEDGER_SCHEMA_DIR", dir);
		goto out;
	}
	rc = VL_ENOMEM;
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
			vl_yaml_emit(&netb, net) < 0)
		goto oom;
	if (!(roster = vl_value_new(VL_V_MAP)) || !(list = vl_value_new(VL_V_LIST)) ||
			vl_value_list_push(list, roster_entry(n->key.pk, n->name, "admin", n->scope)) < 0)
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
	changes[nch++] = (vl_change){ "network.yaml", netb.ptr, netb.len };
	changes[nch++] = (vl_change){ "roster.yaml", rosb.ptr, rosb.len };
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
		changes[nch++] = (vl_change){ schema_paths[i].ptr, schema_bufs[i].ptr, schema_bufs[i].len };
	}
	{
		char clock[VL_HLC_TEXT_LEN + 1];
		if ((rc = vl_node_tick(n, clock)) < 0)
			goto out;
	}
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

/*
 * Install the shipped merge hooks (the executable files of the hooks
 * directory whose names a schema may use: [a-z0-9][a-z0-9_-]*) into
 * <home>/hooks, mode 0755. A node runs only what is installed there; the
 * schemas pin each hook's sha256, so a changed copy is never run.
 */
static int install_hooks(const char *home)
{
	const char *dir = getenv("VLEDGER_HOOK_DIR");
	DIR *d;
	struct dirent *de;
	vl_buf src = VL_BUF_INIT, dst = VL_BUF_INIT, data = VL_BUF_INIT;
	int rc = 0;

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
				(rc = vl_buf_read_file(&data, src.ptr, (size_t)1 << 20)) < 0 ||
				(rc = vl_buf_write_file(dst.ptr, data.ptr ? data.ptr : "", data.len, 0755)) < 0)
			break;
	}
	closedir(d);
	vl_buf_free(&src);
	vl_buf_free(&dst);
	vl_buf_free(&data);
	return rc;
}

int vl_cmd_init(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *name = NULL, *role = NULL, *scope = NULL, *network = NULL, *passfile = NULL;
	int new_network = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = {
		{ "--name", 1, &name, NULL, NULL }, { "--role", 1, &role, NULL, NULL },
		{ "--scope", 1, &scope, NULL, NULL }, { "--network", 1, &network, NULL, NULL },
		{ "--new-network", 0, NULL, &new_network, NULL },
		{ "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	char *home = NULL, *pass = NULL;
	vl_buf p = VL_BUF_INIT, conf = VL_BUF_INIT, pub = VL_BUF_INIT, netfile = VL_BUF_INIT;
	vl_value *nc = NULL, *peers = NULL, *netv = NULL;
	git_repository *repo = NULL;
	vl_node *n = NULL;
	vl_key key;
	unsigned char nid[16];
	char nid_hex[33];
	struct stat st;

	memset(&key, 0, sizeof(key));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos || !name || !role || !scope || (new_network == (network != NULL))) {
		free(pos);
		return vl_cli_usage(cmd, "needs --name, --role, --scope and exactly one of --new-network or --network");
	}
	if (!role_valid(role)) {
		free(pos);
		return vl_cli_usage(cmd, "role '%s' is not one of %s", role, VL_ROLES);
	}
	if ((rc = vl_crypto_init()) < 0 || (rc = role_scope_check(role, scope)) < 0)
		goto fail;
	if (new_network && (strcmp(role, "county") != 0 || vl_division_level(scope) != VL_DIV_COUNTY)) {
		rc = vl_error_set(VL_EINVALID, "only a county node with a county-level scope creates a network");
		goto fail;
	}
	if (!(home = vl_node_home_path(cli->home))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = vl_buf_printf(&p, "%s/node.yaml", home)) < 0)
		goto fail;
	if (stat(p.ptr, &st) == 0) {
		rc = vl_error_set(VL_EEXISTS, "'%s' already holds a vledger node; choose another -C DIR", home);
		goto fail;
	}
	if (network) {
		const vl_value *id;
		if ((rc = vl_buf_read_file(&netfile, network, 256 * 1024)) < 0 ||
				(rc = vl_yaml_load(&netv, netfile.ptr, netfile.len, &vl_yaml_file_limits, network)) < 0)
			goto fail;
		id = vl_value_map_get(netv, "network");
		if (!id || id->kind != VL_V_STR || !vl_value_map_get(netv, "root_keys")) {
			rc = vl_error_set(VL_EINVALID, "'%s' is not a network file (no 'network' id or "
					"'root_keys'); get one with 'vledger export network' on the county node", network);
			goto fail;
		}
		snprintf(nid_hex, sizeof(nid_hex), "%s", id->s);
	} else {
		randombytes_buf(nid, sizeof(nid));
		sodium_bin2hex(nid_hex, sizeof(nid_hex), nid, sizeof(nid));
	}
	/* Directories first, then the key, then the repository; node.yaml last,
	 * so a half-made home is never taken for a node. */
	if ((rc = mkdir_p(home, 0700)) < 0)
		goto fail;
	{
		static const char *const sub[] = { "keys", "hooks", "cache", "log" };
		size_t i;
		for (i = 0; i < 4; i++) {
			vl_buf_clear(&p);
			if ((rc = vl_buf_printf(&p, "%s/%s", home, sub[i])) < 0 ||
					(rc = mkdir_p(p.ptr, i == 0 ? 0700 : 0755)) < 0)
				goto fail;
		}
	}
	if ((rc = install_hooks(home)) < 0 || (rc = vl_key_generate(&key)) < 0)
		goto fail;
	if (passfile && (rc = vl_read_passphrase(&pass, passfile)) < 0)
		goto fail;
	vl_buf_clear(&p);
	if ((rc = vl_buf_printf(&p, "%s/keys/node.key", home)) < 0 ||
			(rc = vl_key_save(&key, p.ptr, pass)) < 0)
		goto fail;
	vl_buf_clear(&p);
	if ((rc = vl_pubkey_format(&pub, key.pk, name)) < 0 || (rc = vl_buf_putc(&pub, '\n')) < 0 ||
			(rc = vl_buf_printf(&p, "%s/keys/node.pub", home)) < 0 ||
			(rc = vl_buf_write_file(p.ptr, pub.ptr, pub.len, 0644)) < 0)
		goto fail;
	vl_buf_clear(&p);
	if ((rc = vl_buf_printf(&p, "%s/repo.git", home)) < 0 || (rc = vl_repo_init(&repo, p.ptr)) < 0)
		goto fail;
	if (network) {
		vl_buf_clear(&p);
		if ((rc = vl_buf_printf(&p, "%s/network.yaml", home)) < 0 ||
				(rc = vl_buf_write_file(p.ptr, netfile.ptr, netfile.len, 0644)) < 0)
			goto fail;
	}
	rc = VL_ENOMEM;
	if (!(nc = vl_value_new(VL_V_MAP)) || !(peers = vl_value_new(VL_V_LIST)) ||
			vl_value_map_set(nc, "name", vl_value_str(name)) < 0 ||
			vl_value_map_set(nc, "role", vl_value_str(role)) < 0 ||
			vl_value_map_set(nc, "scope", vl_value_str(scope)) < 0 ||
			vl_value_map_set(nc, "network", vl_value_str(nid_hex)) < 0 ||
			vl_value_map_set(nc, "listen", vl_value_str("0.0.0.0:7433")) < 0) {
		vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	rc = vl_value_map_set(nc, "peers", peers);
	peers = NULL;
	if (rc < 0 || (rc = vl_yaml_emit(&conf, nc)) < 0)
		goto fail;
	vl_buf_clear(&p);
	if ((rc = vl_buf_printf(&p, "%s/node.yaml", home)) < 0 ||
			(rc = vl_buf_write_file(p.ptr, conf.ptr, conf.len, 0644)) < 0)
		goto fail;
	if (new_network) {
		/* keys/network.key: the handshake capability, handed on by invitations. */
		if ((rc = vl_netkey_create(home)) < 0 || (rc = vl_node_open(&n, home, 1, passfile)) < 0 ||
				(rc = create_network(n, nid_hex)) < 0)
			goto fail;
	}
	printf("created node '%s' (%s, scope %s) at %s\n", name, role, scope, home);
	printf("key %s", pub.ptr);
	{
		char fp[VL_FP_LEN];
		vl_fingerprint(fp, key.pk);
		printf("fingerprint %s\n", fp);
	}
	if (new_network)
		printf("network %s created; this key is its root and first admin\n", nid_hex);
	else
		printf("next: an admin adds this key with 'vledger roster add', then run 'vledger fetch'\n");
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	if (pass) {
		sodium_memzero(pass, strlen(pass));
		free(pass);
	}
	vl_key_wipe(&key);
	vl_node_close(n);
	git_repository_free(repo);
	vl_value_free(nc);
	vl_value_free(peers);
	vl_value_free(netv);
	vl_buf_free(&p);
	vl_buf_free(&conf);
	vl_buf_free(&pub);
	vl_buf_free(&netfile);
	free(home);
	free(pos);
	return exit_code;
}

int vl_cmd_key(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const vl_opt opts[] = { { NULL, 0, NULL, NULL, NULL } };
	vl_node *n = NULL;
	vl_buf line = VL_BUF_INIT;
	int rc;

	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_pubkey_format(&line, n->key.pk, n->name)) < 0) {
		vl_node_close(n);
		return vl_cli_fail(rc);
	}
	printf("%s\n%s\n", line.ptr, n->fp);
	vl_buf_free(&line);
	vl_node_close(n);
	return VL_EXIT_OK;
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

int vl_cmd_roster_add(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *name = NULL, *role = NULL, *scope = NULL, *keyline = NULL, *passfile = NULL;
	const vl_opt opts[] = {
		{ "--name", 1, &name, NULL, NULL }, { "--role", 1, &role, NULL, NULL },
		{ "--scope", 1, &scope, NULL, NULL }, { "--key", 1, &keyline, NULL, NULL },
		{ "--passphrase-file", 1, &passfile, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_value *roster = NULL, *keys;
	vl_buf out = VL_BUF_INIT, summary = VL_BUF_INIT;
	unsigned char pk[32];
	char fp[VL_FP_LEN], when[21];
	git_oid head, id;
	vl_change ch;
	int rc, exit_code = VL_EXIT_ERROR;

	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	free(pos);
	if (npos || !name || !role || !scope || !keyline)
		return vl_cli_usage(cmd, "needs --name, --role, --scope and --key");
	if (!role_valid(role))
		return vl_cli_usage(cmd, "role '%s' is not one of %s", role, VL_ROLES);
	if ((rc = vl_crypto_init()) < 0 || (rc = role_scope_check(role, scope)) < 0 ||
			(rc = vl_pubkey_parse(pk, keyline)) < 0)
		return vl_cli_fail(rc);
	if (vl_cli_node(&n, cli, 1, passfile) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_node_load_config(n)) < 0 || (rc = require_admin(n, scope)) < 0)
		goto fail;
	vl_fingerprint(fp, pk);
	if (vl_node_roster_find(n, fp)) {
		rc = vl_error_set(VL_EEXISTS, "key %s is already on the roster", fp);
		goto fail;
	}
	/* valid_from is the second the commit carries (roster.h: a change dates
	 * it within minutes of its own commit). */
	{
		char clock[VL_HLC_TEXT_LEN + 1];
		if ((rc = vl_node_tick(n, clock)) < 0)
			goto fail;
		vl_roster_time_text(when, n->clock.ms);
	}
	if (!(roster = vl_value_clone(n->roster)) || !(keys = vl_value_map_get(roster, "keys")) ||
			vl_value_list_push(keys, vl_roster_entry_new(pk, name, role, scope, when)) < 0) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	/* The rule verify and fetch apply to this commit (roster.h). */
	if ((rc = vl_roster_check_change(n->roster, roster, n->fp,
			vl_value_text(vl_value_map_get(n->network, "county")), 0)) < 0 ||
			(rc = vl_yaml_emit(&out, roster)) < 0 || (rc = vl_repo_head(&head, n->repo, VL_REF_CONFIG)) < 0)
		goto fail;
	ch = (vl_change){ "roster.yaml", out.ptr, out.len };
	if ((rc = vl_buf_printf(&summary, "roster: add %s (%s, %s)", name, role, scope)) < 0 ||
			(rc = vl_node_commit(&id, n, VL_REF_CONFIG, &head, &ch, 1, summary.ptr,
					"Vledger-Config: roster\n")) < 0)
		goto fail;
	printf("added %s %s (%s, scope %s)\n", fp, name, role, scope);
	exit_code = VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	vl_value_free(roster);
	vl_buf_free(&out);
	vl_buf_free(&summary);
	vl_node_close(n);
	return exit_code;
}

int vl_cmd_roster_list(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0, rc;
	const vl_opt opts[] = { { "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL } };
	size_t i;
	vl_node *n = NULL;
	vl_buf out = VL_BUF_INIT;

	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_node_load_config(n)) < 0) {
		vl_node_close(n);
		return vl_cli_fail(rc);
	}
	if (json) {
		if ((rc = vl_json_emit(&out, vl_value_map_get(n->roster, "keys"), 2)) < 0) {
			vl_node_close(n);
			return vl_cli_fail(rc);
		}
		printf("%s\n", out.ptr);
	} else {
		printf("%-51s  %-8s  %-12s  %s\n", "FINGERPRINT", "ROLE", "SCOPE", "NAME");
		for (i = 0; i < n->nentries; i++)
			printf("%-51s  %-8s  %-12s  %s%s\n", n->entries[i].fp, n->entries[i].role,
					n->entries[i].scope, n->entries[i].name,
					n->entries[i].revoked_at ? "  (revoked)" : "");
	}
	vl_buf_free(&out);
	vl_node_close(n);
	return VL_EXIT_OK;
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

static int write_output(const char *path, const vl_buf *b)
{
	if (!path || !strcmp(path, "-")) {
		fwrite(b->ptr ? b->ptr : "", 1, b->len, stdout);
		return 0;
	}
	return vl_buf_write_file(path, b->ptr ? b->ptr : "", b->len, 0644);
}

/*
 * valid-after comes from valid_from and valid-before from revoked_at (stock
 * git judges them by the committer date, which the signer writes). With
 * --revocations FILE, the revoked keys are also written to FILE, one
 * "ssh-ed25519 AAAA..." line each, for gpg.ssh.revocationFile: git then
 * refuses every commit of those keys, even those made before revocation.
 */
int vl_cmd_export_allowed_signers(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *output = NULL, *revocations = NULL;
	const vl_opt opts[] = { { "--output", 1, &output, NULL, NULL },
		{ "--revocations", 1, &revocations, NULL, NULL }, { NULL, 0, NULL, NULL, NULL } };
	size_t i;
	vl_node *n = NULL;
	vl_buf out = VL_BUF_INIT, key = VL_BUF_INIT, rev = VL_BUF_INIT;
	char t[16];
	int rc;

	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_node_load_config(n)) < 0)
		goto fail;
	if ((rc = vl_buf_puts(&out, "# allowed_signers exported by vledger from the roster: use with\n"
			"#   git -c gpg.ssh.allowedSignersFile=FILE verify-commit / log --show-signature\n"
			"#   ssh-keygen -Y verify -n vledger-record -f FILE -I FINGERPRINT -s SIG < RECORD\n")) < 0)
		goto fail;
	for (i = 0; i < n->nentries; i++) {
		const vl_roster_entry *e = &n->entries[i];
		vl_buf_clear(&key);
		if ((rc = vl_pubkey_format(&key, e->pk, NULL)) < 0 || (rc = vl_buf_puts(&out, e->fp)) < 0)
			goto fail;
		if (principal_safe(e->name) && (rc = vl_buf_printf(&out, ",%s@%s", e->name, e->scope)) < 0)
			goto fail;
		if ((rc = vl_buf_puts(&out, " namespaces=\"git,vledger-record\"")) < 0)
			goto fail;
		if (e->valid_from && ((rc = vl_roster_ssh_time(t, e->valid_from)) < 0 ||
				(rc = vl_buf_printf(&out, ",valid-after=\"%s\"", t)) < 0))
			goto fail;
		if (e->revoked_at && ((rc = vl_roster_ssh_time(t, e->revoked_at)) < 0 ||
				(rc = vl_buf_printf(&out, ",valid-before=\"%s\"", t)) < 0 ||
				(rc = vl_buf_printf(&rev, "%s\n", key.ptr)) < 0))
			goto fail;
		if ((rc = vl_buf_printf(&out, " %s\n", key.ptr)) < 0)
			goto fail;
	}
	if ((rc = write_output(output, &out)) < 0 ||
			(revocations && (rc = vl_buf_write_file(revocations, rev.ptr ? rev.ptr : "", rev.len, 0644)) < 0))
		goto fail;
	vl_buf_free(&out);
	vl_buf_free(&key);
	vl_buf_free(&rev);
	vl_node_close(n);
	return VL_EXIT_OK;
fail:
	vl_buf_free(&out);
	vl_buf_free(&key);
	vl_buf_free(&rev);
	vl_node_close(n);
	return vl_cli_fail(rc);
}

int vl_cmd_export_network(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *output = NULL;
	const vl_opt opts[] = { { "--output", 1, &output, NULL, NULL }, { NULL, 0, NULL, NULL, NULL } };
	vl_node *n = NULL;
	vl_buf out = VL_BUF_INIT;
	int rc;

	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_repo_read(&out, NULL, n->repo, VL_REF_CONFIG, NULL, "network.yaml", 256 * 1024)) < 0 ||
			(rc = write_output(output, &out)) < 0) {
		vl_buf_free(&out);
		vl_node_close(n);
		return vl_cli_fail(rc);
	}
	vl_buf_free(&out);
	vl_node_close(n);
	return VL_EXIT_OK;
}
