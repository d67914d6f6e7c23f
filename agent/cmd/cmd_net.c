/* cmd_net.c - vledger serve, sync, pull, peer add, peer list, status:
 * parse, call one operation (ops/net_ops.h), print. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cmd/cli.h"
#include "agent/node/tz.h"
#include "store/i18n.h"
#include "agent/ops/net_ops.h"
#include "store/yaml.h"

static volatile sig_atomic_t stop_serving = 0;

static void on_signal(int sig)
{
	(void)sig;
	stop_serving = 1;
}

static void print_listen(void *ctx, const char *addr, uint16_t port)
{
	(void)ctx;
	/* Tests and scripts read the port from this line (with port 0 the
	 * kernel chose it). */
	printf(_("listening on %s (port %u)\n"), addr, (unsigned)port);
	fflush(stdout);
}

/* "30s", "10m", "2h", "1d" or plain seconds, into ms; -1 when malformed. */
static int64_t parse_duration(const char *s)
{
	int64_t v = 0, mult = 1000;
	const char *p = s;

	if (!*p)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 100000000)
			return -1;
	}
	if (p == s)
		return -1;
	if (*p == 's')
		p++;
	else if (*p == 'm')
		mult = 60000, p++;
	else if (*p == 'h')
		mult = 3600000, p++;
	else if (*p == 'd')
		mult = 86400000, p++;
	if (*p || v == 0)
		return -1;
	return v * mult;
}

/* A positive integer option (NULL: keep *out). */
static int parse_count(const char *s, long long *out)
{
	char *end = NULL;
	long long v;

	if (!s)
		return 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || v <= 0)
		return -1;
	*out = v;
	return 0;
}

int vl_cmd_serve(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *listen = NULL, *every = NULL, *pass = NULL, *maxs = NULL, *idle = NULL, *maxb = NULL;
	const vl_opt opts[] = { { "--listen", 1, &listen, NULL, NULL }, { "--sync-every", 1, &every, NULL, NULL },
		{ "--passphrase-file", 1, &pass, NULL, NULL }, { "--max-sessions", 1, &maxs, NULL, NULL },
		{ "--idle-timeout", 1, &idle, NULL, NULL }, { "--max-bytes", 1, &maxb, NULL, NULL },
		{ NULL, 0, NULL, NULL, NULL } };
	vl_serve_opts so = VL_SERVE_OPTS_INIT;
	vl_serve_result res;
	vl_node *n = NULL;
	struct sigaction sa;
	long long v;
	int rc, exit_code = VL_EXIT_ERROR;

	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	so.listen = listen;
	if (every && (so.sync_every_ms = parse_duration(every)) < 0)
		return vl_cli_usage(cmd, "--sync-every takes a duration: 30s, 10m, 2h or 1d");
	v = so.max_sessions;
	if (parse_count(maxs, &v) < 0 || v > 10000)
		return vl_cli_usage(cmd, "--max-sessions takes a count from 1 to 10000");
	so.max_sessions = (int)v;
	v = so.limits.idle_timeout_ms / 1000;
	if (parse_count(idle, &v) < 0 || v > 86400)
		return vl_cli_usage(cmd, "--idle-timeout takes seconds from 1 to 86400");
	so.limits.idle_timeout_ms = (int)v * 1000;
	v = (long long)so.limits.byte_cap;
	if (parse_count(maxb, &v) < 0)
		return vl_cli_usage(cmd, "--max-bytes takes a byte count");
	so.limits.byte_cap = (uint64_t)v;
	so.on_listen = print_listen;
	so.stop = &stop_serving;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (vl_cli_node(&n, cli, 1, pass) < 0)
		goto out;
	if ((rc = vl_serve(n, &so, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	exit_code = VL_EXIT_OK;
out:
	vl_node_close(n);
	return exit_code;
}

static void print_transfer(const char *what, const vl_transfer_stats *t)
{
	printf(_("%s: %zu chunk%s, %zu objects, %llu pack bytes; %zu branches updated, %zu refused, %zu new commits, "
			"%zu merges, %zu fields left for a person\n"), what, t->chunks, t->chunks == 1 ? "" : "s", t->objects,
			(unsigned long long)t->pack_bytes, t->updated, t->refused, t->commits, t->merges, t->conflicts);
	if (t->report.len)
		fprintf(stderr, "%s", t->report.ptr);
}

/*
 * sync / pull PEER: a git remote of this node (cmd_remote.c) first, else a
 * network peer (a peer name or HOST[:PORT]).
 */
static int sync_or_pull(const vl_command *cmd, const vl_cli *cli, int argc, char **argv, int push)
{
	const char *pass = NULL, *timeout = NULL;
	int json = 0;
	const vl_opt opts[] = { { "--passphrase-file", 1, &pass, NULL, NULL }, { "--timeout", 1, &timeout, NULL, NULL },
		{ "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL } };
	vl_sync_opts so = VL_SYNC_OPTS_INIT;
	vl_sync_result res;
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	long long v;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	{
		int handled = 0;
		rc = vl_cmd_remote_dispatch(cmd, cli, argc, argv, push, &handled);
		if (handled)
			return rc;
	}
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 1) {
		free(pos);
		return vl_cli_usage(cmd, "needs one peer: HOST[:PORT] or a name from 'vledger peer list'");
	}
	if (strchr(pos[0], '/')) {
		rc = vl_error_set(VL_EINVALID, "'%.200s' is a path or URL, not a peer: for another node's repository on "
				"disk use 'vledger fetch PATH'; for a git server 'vledger remote add NAME URL', then "
				"'vledger %s NAME'", pos[0], push ? "sync" : "pull");
		free(pos);
		return vl_cli_fail(rc);
	}
	v = so.timeout_ms / 1000;
	if (parse_count(timeout, &v) < 0 || v > 3600) {
		free(pos);
		return vl_cli_usage(cmd, "--timeout takes seconds from 1 to 3600");
	}
	so.timeout_ms = (int)v * 1000;
	so.peer = pos[0];
	so.push = push;
	signal(SIGPIPE, SIG_IGN);
	if (vl_cli_node(&n, cli, 1, pass) < 0)
		goto out;
	so.progress = vl_cli_progress();
	rc = vl_sync(n, &so, &res);
	vl_cli_progress_done();
	if (rc < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json) {
		printf("{\"peer\": \"%s\", \"address\": \"%s\", \"rounds\": %d, \"identical\": %s, "
				"\"pulled\": {\"chunks\": %zu, \"objects\": %zu, \"updated\": %zu, \"refused\": %zu}, "
				"\"pushed\": {\"chunks\": %zu, \"objects\": %zu, \"pack_bytes\": %llu, \"updated\": %zu, "
				"\"refused\": %zu}, \"bytes_in\": %llu, \"bytes_out\": %llu}\n",
				res.peer_fp, res.address, res.rounds, res.identical ? "true" : "false", res.pulled.chunks,
				res.pulled.objects, res.pulled.updated, res.pulled.refused, res.pushed.chunks, res.pushed.objects,
				(unsigned long long)res.pushed.pack_bytes, res.pushed.updated, res.pushed.refused,
				(unsigned long long)res.bytes_in, (unsigned long long)res.bytes_out);
	} else {
		printf(_("peer %s (%s) at %s\n"), res.peer_name, res.peer_fp, res.address);
		print_transfer(_("received"), &res.pulled);
		if (push) {
			print_transfer(_("sent"), &res.pushed);
			printf(_("%s after %d round%s; %llu bytes in, %llu bytes out\n"),
					res.identical ? _("both ends hold the same heads") : _("heads still differ (the peer refused "
					"something, or keeps moving); sync again"), res.rounds, res.rounds == 1 ? "" : "s",
					(unsigned long long)res.bytes_in, (unsigned long long)res.bytes_out);
		}
	}
	exit_code = res.pulled.refused || res.pushed.refused ? VL_EXIT_VERIFY :
		res.pulled.conflicts ? VL_EXIT_CONFLICTS : VL_EXIT_OK;
out:
	vl_sync_result_free(&res);
	vl_node_close(n);
	free(pos);
	return exit_code;
}

int vl_cmd_sync(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	return sync_or_pull(cmd, cli, argc, argv, 1);
}

int vl_cmd_pull(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	return sync_or_pull(cmd, cli, argc, argv, 0);
}

int vl_cmd_peer_add(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	const char *key = NULL;
	const vl_opt opts[] = { { "--key", 1, &key, NULL, NULL }, { NULL, 0, NULL, NULL, NULL } };
	const char **pos = NULL;
	size_t npos;
	vl_node *n = NULL;
	vl_peer p;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&p, 0, sizeof(p));
	if ((rc = vl_cli_parse(cmd, argc, argv, opts, &pos, &npos)) != 0)
		return rc;
	if (npos != 2 || strlen(pos[0]) > VL_PEER_NAME_MAX || strlen(pos[1]) >= sizeof(p.address) ||
			(key && strlen(key) >= sizeof(p.key))) {
		free(pos);
		return vl_cli_usage(cmd, "needs a NAME (at most %d characters) and a HOST[:PORT]", VL_PEER_NAME_MAX);
	}
	snprintf(p.name, sizeof(p.name), "%s", pos[0]);
	snprintf(p.address, sizeof(p.address), "%s", pos[1]);
	snprintf(p.key, sizeof(p.key), "%s", key ? key : "");
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if (key) {
		const vl_roster_entry *e;
		if (vl_node_load_config(n) < 0 || !(e = vl_node_roster_find(n, key))) {
			fprintf(stderr, _("vledger: key '%s' is not on the roster; see 'vledger roster list'\n"), key);
			goto out;
		}
	}
	if ((rc = vl_peers_add(n->home, &p)) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	printf(_("peer %s at %s%s%s\n"), p.name, p.address, *p.key ? " with key " : "", p.key);
	exit_code = VL_EXIT_OK;
out:
	vl_node_close(n);
	free(pos);
	return exit_code;
}

/* A peer's time in the network's time zone (tz.h); JSON keeps the seconds. */
static void print_time(int64_t t, int tz_min)
{
	vl_buf b = VL_BUF_INIT;

	if (!t || vl_time_show_secs(&b, t, tz_min) < 0)
		printf(_("never"));
	else
		printf("%s", b.ptr);
	vl_buf_free(&b);
}

static int json_str(vl_buf *b, const char *s)
{
	return vl_json_str(b, s, strlen(s));
}

/* peer list and status: one table, status adds the state. */
static int list_peers(const vl_command *cmd, const vl_cli *cli, int argc, char **argv, int with_state)
{
	int json = 0;
	const vl_opt opts[] = { { "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL } };
	vl_status_result res;
	vl_node *n = NULL;
	vl_buf b = VL_BUF_INIT;
	size_t i;
	int rc, exit_code = VL_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		goto out;
	if ((rc = vl_net_status(n, &res)) < 0) {
		exit_code = vl_cli_fail(rc);
		goto out;
	}
	if (json) {
		rc = vl_buf_puts(&b, "[");
		for (i = 0; i < res.n && rc == 0; i++) {
			const vl_status_peer *p = &res.peers[i];
			rc = vl_buf_printf(&b, "%s\n  {\"name\": ", i ? "," : "");
			if (rc == 0)
				rc = json_str(&b, p->peer.name);
			if (rc == 0)
				rc = vl_buf_puts(&b, ", \"address\": ");
			if (rc == 0)
				rc = json_str(&b, p->peer.address);
			if (rc == 0)
				rc = vl_buf_puts(&b, ", \"key\": ");
			if (rc == 0)
				rc = json_str(&b, p->peer.key[0] ? p->peer.key : p->state.key);
			if (rc == 0 && with_state) {
				rc = vl_buf_printf(&b, ", \"last_success\": %lld, \"last_error\": %lld, \"failures\": %u, "
						"\"next_try\": %lld, \"waiting_commits\": %zu, \"waiting_branches\": %zu, "
						"\"key_known\": %s, \"error\": ", (long long)p->state.last_success,
						(long long)p->state.last_error, p->state.failures, (long long)p->state.next_try,
						p->waiting_commits, p->waiting_branches, p->known ? "true" : "false");
				if (rc == 0)
					rc = json_str(&b, p->state.error);
			}
			if (rc == 0)
				rc = vl_buf_puts(&b, "}");
		}
		if (rc == 0)
			rc = vl_buf_puts(&b, res.n ? "\n]\n" : "]\n");
		if (rc < 0) {
			exit_code = vl_cli_fail(rc);
			goto out;
		}
		fwrite(b.ptr, 1, b.len, stdout);
	} else {
		if (!res.n)
			printf(_("no peers; add one with 'vledger peer add NAME HOST[:PORT]'\n"));
		for (i = 0; i < res.n; i++) {
			const vl_status_peer *p = &res.peers[i];
			printf("%s  %s  %s", p->peer.name, p->peer.address,
					p->peer.key[0] ? p->peer.key : p->state.key[0] ? p->state.key : _("(key not known yet)"));
			if (with_state) {
				printf(_("\n  last success: "));
				print_time(p->state.last_success, n->tz_min);
				printf(_("\n  last error:   "));
				print_time(p->state.last_error, n->tz_min);
				if (p->state.last_error && p->state.error[0])
					printf(" (%s)", p->state.error);
				if (p->known)
					printf(_("\n  waiting:      %zu commit%s on %zu branch%s"), p->waiting_commits,
							p->waiting_commits == 1 ? "" : "s", p->waiting_branches,
							p->waiting_branches == 1 ? "" : "es");
				else
					printf(_("\n  waiting:      unknown until the first sync"));
			}
			printf("\n");
		}
	}
	exit_code = VL_EXIT_OK;
out:
	vl_buf_free(&b);
	vl_status_result_free(&res);
	vl_node_close(n);
	return exit_code;
}

int vl_cmd_peer_list(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	return list_peers(cmd, cli, argc, argv, 0);
}

int vl_cmd_status(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	return list_peers(cmd, cli, argc, argv, 1);
}
