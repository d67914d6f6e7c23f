/*
 * cmd_lan.c - `peer list --lan` and `sync --lan`: parse, call vl_peer_lan
 * or vl_sync_lan (ops/lan_ops.h), print. The table's `peer list` and `sync`
 * entries point at the dispatchers at the end, which come here with --lan
 * and go to cmd_net.c without.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd/cli.h"
#include "store/i18n.h"
#include "agent/ops/lan_ops.h"
#include "store/yaml.h"

/* "--wait SECONDS": a whole number of seconds, 1 to the listener's cap. */
static int parse_wait(int *ms, const char *s)
{
	long v = 0;
	size_t i;

	if (!s || !*s || strlen(s) > 3)
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v * 1000 > VL_LAN_WAIT_MAX_MS)
		return -1;
	*ms = (int)v * 1000;
	return 0;
}

static int found_json(vl_buf *out, const vl_peer_lan_result *r)
{
	vl_value *list = vl_value_new(VL_V_LIST), *m = NULL;
	size_t i;
	int rc = 0;

	if (!list)
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < r->n && rc == 0; i++) {
		const vl_lan_found *f = &r->peers[i];
		if (!(m = vl_value_new(VL_V_MAP))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			break;
		}
		if ((rc = vl_value_map_set(m, "address", vl_value_str(f->addr))) < 0 ||
				(rc = vl_value_map_set(m, "port", vl_value_int(f->port))) < 0 ||
				(rc = vl_value_map_set(m, "fingerprint", vl_value_str(f->fp))) < 0 ||
				(rc = vl_value_map_set(m, "on_roster", vl_value_bool(f->on_roster))) < 0 ||
				(f->on_roster && ((rc = vl_value_map_set(m, "name", vl_value_str(f->name ? f->name : ""))) < 0 ||
					(rc = vl_value_map_set(m, "role", vl_value_str(f->role ? f->role : ""))) < 0 ||
					(rc = vl_value_map_set(m, "scope", vl_value_str(f->scope))) < 0 ||
					(rc = vl_value_map_set(m, "revoked", vl_value_bool(f->revoked))) < 0)) ||
				(rc = vl_value_map_set(m, "self", vl_value_bool(f->self))) < 0) {
			vl_value_free(m);
			break;
		}
		rc = vl_value_list_push(list, m);
		m = NULL;
	}
	if (rc == 0)
		rc = vl_json_emit(out, list, 2);
	vl_value_free(list);
	return rc;
}

int vl_cmd_peer_list_lan(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_peer_lan_opts lo = VL_PEER_LAN_OPTS_INIT;
	const char *wait = NULL;
	int json = 0, lan = 0, rc, exit_code = VL_EXIT_OK;
	const vl_opt opts[] = {
		{ "--lan", 0, NULL, &lan, NULL }, { "--wait", 1, &wait, NULL, NULL },
		{ "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	vl_peer_lan_result res;
	vl_node *n = NULL;
	vl_buf out = VL_BUF_INIT;
	size_t i;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (!lan)
		return vl_cli_usage(cmd, "lists what the LAN announces only with --lan");
	if (wait && parse_wait(&lo.wait_ms, wait) < 0)
		return vl_cli_usage(cmd, "--wait takes whole seconds, 1 to %d", VL_LAN_WAIT_MAX_MS / 1000);
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_peer_lan(n, &lo, &res)) < 0 || (json && (rc = found_json(&out, &res)) < 0)) {
		exit_code = vl_cli_fail(rc);
	} else if (json) {
		printf("%s\n", out.ptr);
	} else if (res.n == 0) {
		printf(_("no node of this network announced itself on udp port %u in %d s\n"), res.udp_port,
				res.wait_ms / 1000);
	} else {
		/* Who announced is a claim: the handshake checks it (the note says so). */
		vl_print_padded(_("ADDRESS"), 23);
		vl_print_padded(_("FINGERPRINT"), 53);
		/* TRANSLATORS: a column header: what the roster says of the key. */
		printf("%s\n", _("ROSTER"));
		for (i = 0; i < res.n; i++) {
			const vl_lan_found *f = &res.peers[i];
			char hp[VL_LAN_ADDR_LEN + 6];
			snprintf(hp, sizeof(hp), "%s:%u", f->addr, f->port);
			printf("%-21s  %-51s  ", hp, f->fp);
			if (f->on_roster)
				printf("%s (%s %s)%s%s\n", f->name ? f->name : "", f->role ? f->role : "", f->scope,
						f->revoked ? "  revoked" : "", f->self ? "  this node" : "");
			else
				printf(_("not on the roster%s\n"), f->self ? "  this node" : "");
		}
		printf(_("%zu heard in %d s; an announcement is a claim: sync authenticates the key\n"), res.n,
				res.wait_ms / 1000);
	}
	vl_buf_free(&out);
	vl_peer_lan_result_free(&res);
	vl_node_close(n);
	return exit_code;
}

/* The table's `peer list`: the LAN form with --lan, else node.yaml's peers. */
int vl_cmd_peer_list_or_lan(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--lan"))
			return vl_cmd_peer_list_lan(cmd, cli, argc, argv);
	return vl_cmd_peer_list(cmd, cli, argc, argv);
}

/* ---- sync --lan -------------------------------------------------------------- */

int vl_cmd_sync_lan(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	vl_sync_lan_opts so = VL_SYNC_LAN_OPTS_INIT;
	const char *wait = NULL, *pass = NULL, *timeout = NULL;
	int json = 0, lan = 0, t = 0, rc, exit_code = VL_EXIT_OK;
	const vl_opt opts[] = {
		{ "--lan", 0, NULL, &lan, NULL }, { "--wait", 1, &wait, NULL, NULL },
		{ "--json", 0, NULL, &json, NULL }, { "--timeout", 1, &timeout, NULL, NULL },
		{ "--passphrase-file", 1, &pass, NULL, NULL }, { NULL, 0, NULL, NULL, NULL }
	};
	vl_sync_lan_result res;
	vl_node *n = NULL;
	size_t i;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (!lan)
		return vl_cli_usage(cmd, "without a PEER, give --lan");
	if (wait && parse_wait(&so.wait_ms, wait) < 0)
		return vl_cli_usage(cmd, "--wait takes whole seconds, 1 to %d", VL_LAN_WAIT_MAX_MS / 1000);
	if (timeout && parse_wait(&t, timeout) < 0)
		return vl_cli_usage(cmd, "--timeout takes seconds from 1 to 600");
	so.timeout_ms = t;
	signal(SIGPIPE, SIG_IGN);
	if (vl_cli_node(&n, cli, 1, pass) < 0)
		return VL_EXIT_ERROR;
	rc = vl_sync_lan(n, &so, &res);
	if (rc < 0 && res.n == 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json)
		printf("[");
	for (i = 0; i < res.n; i++) {
		const vl_lan_synced *it = &res.items[i];
		const vl_lan_found *f = &res.heard.peers[it->heard];
		const vl_sync_result *r = &it->sync;
		if (json) {
			vl_buf name = VL_BUF_INIT;
			/* names come from the roster: quote them as JSON does */
			vl_value *v = vl_value_str(f->name ? f->name : "");
			if (!v || vl_json_emit(&name, v, 0) < 0) {
				vl_value_free(v);
				vl_buf_free(&name);
				exit_code = vl_cli_fail(vl_error_set(VL_ENOMEM, "out of memory"));
				goto out;
			}
			vl_value_free(v);
			printf("%s\n  {\"name\": %s, \"fingerprint\": \"%s\", \"address\": \"%s\", \"port\": %u, "
					"\"tries\": %zu, \"ok\": %s, \"identical\": %s, \"received_objects\": %zu, \"sent_objects\": %zu, "
					"\"refused\": %zu, \"conflicts\": %zu}", i ? "," : "", name.ptr, f->fp, f->addr, f->port,
					it->tries, it->rc == 0 ? "true" : "false", r->identical ? "true" : "false", r->pulled.objects,
					r->pushed.objects, r->pulled.refused + r->pushed.refused, r->pulled.conflicts);
			vl_buf_free(&name);
		} else if (it->rc < 0) {
			printf(_("%s (%s) at %s:%u: failed after %zu address%s: %s\n"), f->name ? f->name : "", f->fp, f->addr,
					f->port, it->tries, it->tries == 1 ? "" : "es", it->message ? it->message : "");
		} else {
			printf(_("%s (%s) at %s:%u: received %zu objects (%zu branches updated), sent %zu objects; %s\n"),
					f->name ? f->name : "", f->fp, f->addr, f->port, r->pulled.objects, r->pulled.updated,
					r->pushed.objects, r->identical ? _("same heads") : _("heads still differ: sync again"));
			if (it->tries > 1)
				printf(_("  %zu other address%s announced for this key failed the handshake or the connection\n"),
						it->tries - 1, it->tries == 2 ? "" : "es");
			if (r->pulled.report.len)
				fprintf(stderr, "%s", r->pulled.report.ptr);
			if (r->pushed.report.len)
				fprintf(stderr, "%s", r->pushed.report.ptr);
		}
		if (it->rc == 0 && (r->pulled.refused || r->pushed.refused))
			exit_code = VL_EXIT_VERIFY;
		else if (it->rc == 0 && r->pulled.conflicts && exit_code == VL_EXIT_OK)
			exit_code = VL_EXIT_CONFLICTS;
	}
	if (json)
		printf("%s]\n", res.n ? "\n" : "");
	else if (res.n == 0)
		printf(_("no roster peer of this network announced itself on udp port %u in %d s; nothing synced\n"),
				res.heard.udp_port, res.heard.wait_ms / 1000);
	if (rc < 0)
		exit_code = vl_cli_fail(rc);
out:
	vl_sync_lan_result_free(&res);
	vl_node_close(n);
	return exit_code;
}

/* The table's `sync`: with --lan every roster peer heard, else one PEER. */
int vl_cmd_sync_or_lan(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--lan"))
			return vl_cmd_sync_lan(cmd, cli, argc, argv);
	return vl_cmd_sync(cmd, cli, argc, argv);
}
