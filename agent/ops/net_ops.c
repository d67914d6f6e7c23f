/* net_ops.c - serve, sync, pull and status as operations (ops/net_ops.h). */
#define _GNU_SOURCE
#include "agent/ops/net_ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/net/chan.h"
#include "agent/net/lan.h"
#include "agent/net/sock.h"
#include "agent/node/netkey.h"
#include "schemas/types.h"
#include "store/i18n.h"
#include "store/limits.h"
#include "store/repo.h"
#include "store/value.h"
#include "store/yaml.h"

void vl_sync_result_free(vl_sync_result *r)
{
	if (!r)
		return;
	vl_transfer_stats_free(&r->pulled);
	vl_transfer_stats_free(&r->pushed);
	memset(r, 0, sizeof(*r));
}

/* ---- which key the server must prove -------------------------------------- */

typedef struct {
	unsigned char pk[32];
	int rank;
	char scope[13];
} candidate;

static int cand_cmp(const void *a, const void *b)
{
	const candidate *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank - y->rank;
	/* Among ancestors the longer code is the nearer one; among descendants
	 * the shorter one (a township before its villages). */
	return x->rank == 0 ? strcmp(y->scope, x->scope) : strcmp(x->scope, y->scope);
}

/* The roster keys most likely to serve this node, best first, at most
 * VL_SYNC_MAX_KEY_TRIES: ancestors of its scope nearest first, then units
 * below it, then the rest (never its own key, revoked keys, admins or
 * auditors, who are people). */
static int roster_candidates(candidate *out, size_t *nout, const vl_node *n)
{
	candidate *all = NULL;
	size_t i, k = 0;

	*nout = 0;
	if (!n->nentries)
		return 0;
	if (!(all = calloc(n->nentries, sizeof(*all))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < n->nentries; i++) {
		const vl_roster_entry *e = &n->entries[i];
		if (e->revoked_at || !strcmp(e->fp, n->fp) || !strcmp(e->role, "admin") || !strcmp(e->role, "auditor"))
			continue;
		memcpy(all[k].pk, e->pk, 32);
		snprintf(all[k].scope, sizeof(all[k].scope), "%s", e->scope);
		all[k].rank = vl_division_covers(e->scope, n->scope) ? 0 : vl_division_covers(n->scope, e->scope) ? 1 : 2;
		k++;
	}
	qsort(all, k, sizeof(*all), cand_cmp);
	if (k > VL_SYNC_MAX_KEY_TRIES)
		k = VL_SYNC_MAX_KEY_TRIES;
	memcpy(out, all, k * sizeof(*all));
	*nout = k;
	free(all);
	return 0;
}

/* ---- the client's session ------------------------------------------------- */

/* Do the server's heads (HEADS) equal ours for every ref both name, and
 * does it hold every ref of ours it may read? */
static int same_heads(vl_node *n, const vl_proto_refs *theirs, const char *server_scope)
{
	vl_proto_refs mine = { NULL, 0, 0 };
	size_t i;
	int same = 1;

	if (vl_proto_readable_refs(&mine, n, server_scope) < 0) {
		vl_error_clear();
		return 0;
	}
	for (i = 0; i < mine.n && same; i++) {
		const git_oid *t = vl_proto_refs_get(theirs, mine.refs[i].name);
		if (!t || !git_oid_equal(t, &mine.refs[i].id))
			same = 0;
	}
	for (i = 0; i < theirs->n && same; i++) {
		const git_oid *m = vl_proto_refs_get(&mine, theirs->refs[i].name);
		if (m && !git_oid_equal(m, &theirs->refs[i].id))
			same = 0;
	}
	vl_proto_refs_free(&mine);
	return same;
}

/* Record the server's scope heads (objects we hold: they equal ours) under
 * refs/peers/<fp>/, on a node handle of its own, under the write lock. */
static int record_heads(vl_node *n, const vl_proto_refs *heads, const char *fp)
{
	vl_node *w = NULL;
	git_reference *ref = NULL;
	char safe[VL_FP_LEN], name[256];
	size_t i, k = 0;
	int rc, tries;

	for (i = 7; fp[i] && k < VL_FP_LEN - 1; i++)
		safe[k++] = fp[i] == '/' ? '_' : fp[i] == '+' ? '-' : fp[i];
	safe[k] = '\0';
	if ((rc = vl_node_open(&w, n->home, 0, NULL)) < 0)
		return rc;
	for (tries = 0; (rc = vl_node_lock_write(w)) == VL_ECONFLICT && tries < VL_NET_LOCK_WAIT_MS / 50; tries++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		vl_error_clear();
		nanosleep(&ts, NULL);
	}
	for (i = 0; rc == 0 && i < heads->n; i++) {
		const char *nm = heads->refs[i].name;
		git_oid ours;
		if (strncmp(nm, VL_REF_SCOPE_PREFIX, strlen(VL_REF_SCOPE_PREFIX)))
			continue;
		if (vl_repo_head(&ours, w->repo, nm) < 0 || !git_oid_equal(&ours, &heads->refs[i].id)) {
			vl_error_clear();
			continue; /* only heads this node holds as its own */
		}
		snprintf(name, sizeof(name), "refs/peers/%s/scope/%s", safe, nm + strlen(VL_REF_SCOPE_PREFIX));
		if ((rc = git_reference_create(&ref, w->repo, name, &heads->refs[i].id, 1, "vledger sync: peer's head")) < 0)
			rc = vl_error_git(rc, _("cannot record the peer's head"));
		git_reference_free(ref);
		ref = NULL;
	}
	vl_node_close(w);
	return rc;
}

static int run_session(vl_sync_result *out, vl_chan *c, vl_node *n, const vl_roster_entry *server,
		const vl_sync_opts *o)
{
	vl_buf msg = VL_BUF_INIT;
	vl_proto_refs heads = { NULL, 0, 0 };
	unsigned char hello[2] = { VL_PROTO_VERSION, (unsigned char)(o->push ? 1 : 0) };
	char scope[13], fp[VL_FP_LEN];
	unsigned char pk[32];
	int rc, mode = 0, type, r;

	/* Copies: each receive reloads n's config, and with it the roster
	 * server points into. */
	memcpy(scope, server->scope, 13);
	memcpy(fp, server->fp, VL_FP_LEN);
	memcpy(pk, server->pk, 32);
	server = NULL;
	if ((rc = vl_proto_send(c, VL_MSG_HELLO, hello, 2)) < 0 || (rc = vl_proto_recv(c, &type, &msg)) < 0)
		goto out;
	if (type != VL_MSG_HELLO) {
		rc = vl_error_set(VL_EPROTO, "server answered hello with message type %d", type);
		goto out;
	}
	if ((rc = vl_proto_hello_parse(&mode, (const unsigned char *)msg.ptr, msg.len)) < 0)
		goto out;
	for (r = 1; r <= VL_SYNC_MAX_ROUNDS; r++) {
		size_t updated_before = out->pushed.updated;
		out->rounds = r;
		vl_progress_report(&o->progress, N_("pull"), (size_t)r, VL_SYNC_MAX_ROUNDS);
		out->pulled.progress = o->progress;  /* objects as chunks arrive */
		if ((rc = vl_proto_send(c, VL_MSG_PULL, NULL, 0)) < 0 || (rc = vl_proto_recv_side(&out->pulled, c, n,
				pk)) < 0)
			goto out;
		if (!o->push)
			break;
		vl_progress_report(&o->progress, N_("push"), (size_t)r, VL_SYNC_MAX_ROUNDS);
		out->pushed.progress = o->progress;
		if ((rc = vl_proto_send(c, VL_MSG_PUSH, NULL, 0)) < 0 ||
				(rc = vl_proto_send_side(&out->pushed, c, n, scope)) < 0)
			goto out;
		if ((rc = vl_proto_recv(c, &type, &msg)) < 0)
			goto out;
		if (type != VL_MSG_HEADS) {
			rc = vl_error_set(VL_EPROTO, "server sent message type %d where its heads belong", type);
			goto out;
		}
		vl_proto_refs_free(&heads);
		if ((rc = vl_proto_refs_parse(&heads, (const unsigned char *)msg.ptr, msg.len)) < 0)
			goto out;
		out->identical = same_heads(n, &heads, scope);
		(void)updated_before;
		if (out->identical || out->pushed.refused)
			break;
	}
	/* The server's heads, now ours too, are what it holds: recorded under
	 * refs/peers/ as a pull would (the next HAVES, status, bundles --for). */
	if (out->identical && (rc = record_heads(n, &heads, fp)) < 0)
		goto out;
	if ((rc = vl_proto_send(c, VL_MSG_BYE, NULL, 0)) < 0)
		goto out;
	/* The server's goodbye ends the session. */
	{
		unsigned char b;
		size_t got = 0;
		rc = vl_chan_read(c, &b, 1, &got);
		if (rc == 0 && got)
			rc = vl_error_set(VL_EPROTO, "server sent bytes after the session's end");
	}
out:
	vl_proto_refs_free(&heads);
	vl_buf_free(&msg);
	return rc;
}

/* Address text for host and port ([v6]:port). */
static void join_addr(char *out, size_t cap, const char *host, uint16_t port)
{
	if (strchr(host, ':'))
		snprintf(out, cap, "[%s]:%u", host, (unsigned)port);
	else
		snprintf(out, cap, "%s:%u", host, (unsigned)port);
}

/* Record the outcome in the peer's state file (best effort: a sync that
 * worked is not failed by its bookkeeping). */
static void note_outcome(vl_node *n, const char *who, int rc, const char *fp, const char *why)
{
	vl_peer_state st;

	if (vl_peer_state_load(&st, n->home, who) < 0)
		memset(&st, 0, sizeof(st));
	if (rc == 0) {
		st.last_success = (int64_t)time(NULL);
		st.failures = 0;
		st.next_try = 0;
	} else {
		st.last_error = (int64_t)time(NULL);
		st.failures++;
		snprintf(st.error, sizeof(st.error), "%s", why);
	}
	if (fp && *fp)
		snprintf(st.key, sizeof(st.key), "%s", fp);
	if (vl_peer_state_save(&st, n->home, who) < 0)
		vl_error_clear();
}

int vl_sync(vl_node *n, const vl_sync_opts *opts, vl_sync_result *out)
{
	vl_sync_opts dflt = VL_SYNC_OPTS_INIT;
	vl_peer peer;
	vl_peer_state st;
	candidate cands[VL_SYNC_MAX_KEY_TRIES + 1];
	size_t ncands = 0, i;
	unsigned char netkey[32];
	vl_chan *c = NULL;
	const vl_roster_entry *server = NULL;
	const char *who = NULL;
	char saved[1024];
	int rc, fd = -1;

	memset(out, 0, sizeof(*out));
	memset(&peer, 0, sizeof(peer));
	if (!opts)
		opts = &dflt;
	if (!n->have_key)
		return vl_error_set(VL_EDENIED, "sync needs this node's secret key");
	if ((rc = vl_netkey_load(netkey, n->home)) < 0)
		return rc == VL_ENOTFOUND ? vl_error_set(VL_ENOTFOUND, "this node has no network key (keys/network.key); "
				"copy network.key from 'vledger export network' into the node's keys/ (mode 0600)") : rc;
	if (!n->config_loaded && (rc = vl_node_load_config(n)) < 0)
		goto out;
	/* Where, and which key. */
	if (opts->peer) {
		who = opts->peer;
		rc = vl_peers_find(&peer, n->home, opts->peer);
		if (rc == VL_ENOTFOUND) {
			vl_error_clear();
			snprintf(peer.address, sizeof(peer.address), "%s", opts->peer);
		} else if (rc < 0) {
			goto out;
		}
		snprintf(out->address, sizeof(out->address), "%s", peer.address);
	} else if (opts->host) {
		join_addr(out->address, sizeof(out->address), opts->host, opts->port ? opts->port : VL_SYNC_DEFAULT_PORT);
		who = out->address;
	} else {
		rc = vl_error_set(VL_EINVALID, "give a peer: HOST[:PORT] or a name from 'vledger peer list'");
		goto out;
	}
	if (opts->server_pk) {
		memcpy(cands[0].pk, opts->server_pk, 32);
		ncands = 1;
	} else if (*peer.key) {
		const vl_roster_entry *e = vl_node_roster_find(n, peer.key);
		if (!e) {
			rc = vl_error_set(VL_ENOTFOUND, "peer '%s' names key '%s', which is not on the roster; fix it with "
					"'vledger peer add'", who, peer.key);
			goto out;
		}
		memcpy(cands[0].pk, e->pk, 32);
		ncands = 1;
	} else {
		/* The key that answered last time first. */
		if (vl_peer_state_load(&st, n->home, who) == 0 && st.key[0]) {
			const vl_roster_entry *e = vl_node_roster_find(n, st.key);
			if (e && !e->revoked_at) {
				memcpy(cands[0].pk, e->pk, 32);
				ncands = 1;
			}
		}
		{
			size_t nr = 0;
			if ((rc = roster_candidates(cands + ncands, &nr, n)) < 0)
				goto out;
			if (ncands && nr == VL_SYNC_MAX_KEY_TRIES)
				nr--;
			ncands += nr;
		}
	}
	if (ncands == 0) {
		rc = vl_error_set(VL_ENOTFOUND, "no roster key to expect at '%s'; give it with 'vledger peer add NAME %s "
				"--key FINGERPRINT'", out->address, out->address);
		goto out;
	}
	vl_progress_report(&opts->progress, N_("connect"), 0, ncands);
	for (i = 0; i < ncands; i++) {
		if ((rc = vl_sock_connect(&fd, out->address, VL_SYNC_DEFAULT_PORT, opts->timeout_ms)) < 0)
			goto out;
		rc = vl_shs_client(&c, fd, netkey, &n->key, cands[i].pk, opts->timeout_ms);
		fd = -1; /* the handshake owns it */
		if (rc == 0)
			break;
		if (rc != VL_EDENIED && rc != VL_EPROTO)
			goto out;
		snprintf(saved, sizeof(saved), "%s", vl_error_last());
	}
	if (!c) {
		rc = vl_error_set(VL_ENOTFOUND, "the server at '%s' proved none of the %zu roster keys tried (last: %s); "
				"check that both nodes hold the same network key, or name the server's key with "
				"'vledger peer add NAME %s --key FINGERPRINT'", out->address, ncands, saved, out->address);
		goto out;
	}
	vl_chan_set_idle_timeout(c, opts->timeout_ms);
	vl_fingerprint(out->peer_fp, vl_chan_peer_key(c));
	server = vl_node_roster_find(n, out->peer_fp);
	if (!server || server->revoked_at) {
		rc = server ? vl_error_set(VL_EDENIED, "the server at '%s' holds key '%s', which is revoked; not syncing",
				out->address, out->peer_fp) :
			vl_error_set(VL_EDENIED, "the server at '%s' holds key '%s', which is not on the roster; not "
				"syncing", out->address, out->peer_fp);
		goto out;
	}
	snprintf(out->peer_name, sizeof(out->peer_name), "%s", server->name ? server->name : "");
	rc = run_session(out, c, n, server, opts);
out:
	if (c) {
		out->bytes_in = vl_chan_bytes_in(c);
		out->bytes_out = vl_chan_bytes_out(c);
	}
	vl_chan_free(c);
	if (fd >= 0)
		close(fd);
	if (who) {
		int keep = rc;
		char msg[VL_ERRMSG_MAX];     /* the whole message: it is set again below */
		snprintf(msg, sizeof(msg), "%s", vl_error_last());
		note_outcome(n, who, rc, out->peer_fp, msg);
		if (keep < 0)
			vl_error_set(keep, "%s", msg);
	}
	return rc;
}

/* ---- serve ---------------------------------------------------------------- */

int64_t vl_sync_backoff_s(int64_t base_s, uint32_t failures)
{
	int64_t w = base_s;
	uint32_t i;

	for (i = 1; i < failures && w < base_s * 64; i++)
		w *= 2;
	return w > base_s * 64 ? base_s * 64 : w;
}

int vl_sync_peers(vl_node *n, int64_t base_s)
{
	vl_peer *ps = NULL;
	size_t np = 0, i;
	int rc;

	if ((rc = vl_peers_load(&ps, &np, n->home)) < 0)
		return rc;
	for (i = 0; i < np; i++) {
		vl_sync_opts o = VL_SYNC_OPTS_INIT;
		vl_sync_result r;
		vl_peer_state st;
		int64_t now = (int64_t)time(NULL);
		if (vl_peer_state_load(&st, n->home, ps[i].name) == 0 && st.next_try > now)
			continue;
		o.peer = ps[i].name;
		rc = vl_sync(n, &o, &r);
		vl_sync_result_free(&r);
		if (rc < 0 && vl_peer_state_load(&st, n->home, ps[i].name) == 0) {
			st.next_try = now + vl_sync_backoff_s(base_s, st.failures);
			if (vl_peer_state_save(&st, n->home, ps[i].name) < 0)
				vl_error_clear();
		}
		vl_error_clear();
	}
	free(ps);
	return 0;
}

/* The 'listen' of node.yaml into out ("" when none). */
static int node_listen(char *out, size_t cap, const char *home)
{
	vl_buf p = VL_BUF_INIT, b = VL_BUF_INIT;
	vl_value *conf = NULL;
	const vl_value *l;
	int rc;

	out[0] = '\0';
	if ((rc = vl_buf_printf(&p, "%s/node.yaml", home)) == 0 &&
			(rc = vl_buf_read_file(&b, p.ptr, VL_NODE_YAML_MAX)) == 0 &&
			(rc = vl_yaml_load(&conf, b.ptr ? b.ptr : "", b.len, &vl_yaml_file_limits, p.ptr)) == 0 &&
			(l = vl_value_map_get(conf, "listen")) && l->kind == VL_V_STR)
		snprintf(out, cap, "%s", vl_value_text(l));
	vl_value_free(conf);
	vl_buf_free(&p);
	vl_buf_free(&b);
	return rc;
}

typedef struct {
	const vl_serve_opts *o;
	vl_node *n;
	int64_t next_sync;  /* monotonic ms */
	pid_t child;        /* the running scheduled sync, or 0 */
} serve_ctx;

/* Once a second: the caller's tick, and the schedule (a child process per
 * round, so the loop never waits on a peer). */
static void serve_tick(void *ctx)
{
	serve_ctx *s = ctx;
	int64_t now = vl_sock_now_ms();

	if (s->o->on_tick)
		s->o->on_tick(s->o->ctx);
	if (!s->o->sync_every_ms)
		return;
	if (s->child > 0) {
		/* The loop reaps every child; ours is gone when kill says so. */
		if (kill(s->child, 0) == 0 && waitpid(s->child, NULL, WNOHANG) == 0)
			return;
		s->child = 0;
	}
	if (now < s->next_sync)
		return;
	s->next_sync = now + s->o->sync_every_ms;
	s->child = fork();
	if (s->child == 0) {
		vl_node *w = NULL;
		int rc;
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		rc = vl_node_open(&w, s->n->home, 0, NULL);
		if (rc == 0) {
			w->key = s->n->key;
			w->have_key = 1;
			rc = vl_sync_peers(w, s->o->sync_every_ms / 1000 > 0 ? s->o->sync_every_ms / 1000 : 1);
		}
		vl_node_close(w);
		_exit(rc < 0 ? 1 : 0);
	}
	if (s->child < 0)
		s->child = 0;
}

/*
 * LAN (h-lan): start announcing this node (agent/net/lan.h) from the
 * serving process, limited to the listen address's interface when that is
 * one IPv4 address. Best effort: a failure is kept in out and serving goes
 * on. Session children are forked from the loop; they never stop the
 * announcer (only this process, at the end of vl_serve).
 */
static void lan_start(vl_lan_announcer **lan, vl_serve_result *out, vl_node *n, const char *listen_at,
		uint16_t port)
{
	vl_lan_opts lo = VL_LAN_OPTS_INIT;
	char host[VL_NET_MAX_ADDR + 1];
	uint16_t p;

	if (vl_sock_parse_addr(host, sizeof(host), &p, listen_at, port) == 0)
		lo.listen_host = host;
	if (vl_lan_announcer_start(lan, n->network_id, n->key.pk, port, &lo) < 0) {
		snprintf(out->lan_error, sizeof(out->lan_error), "%s", vl_error_last());
		return;
	}
	out->lan_announcing = 1;
}

int vl_serve(vl_node *n, const vl_serve_opts *opts, vl_serve_result *out)
{
	vl_serve_opts dflt = VL_SERVE_OPTS_INIT;
	vl_server_loop_opts lo;
	serve_ctx sc;
	unsigned char netkey[32];
	char listen_at[VL_NET_MAX_ADDR + 1], shown[VL_NET_MAX_ADDR + 16];
	static volatile sig_atomic_t never = 0;
	vl_lan_announcer *lan = NULL;
	uint16_t port = 0;
	int rc, lfd = -1;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &dflt;
	if (!n->have_key)
		return vl_error_set(VL_EDENIED, "serve needs this node's secret key");
	if ((rc = vl_netkey_load(netkey, n->home)) < 0)
		return rc == VL_ENOTFOUND ? vl_error_set(VL_ENOTFOUND, "this node has no network key (keys/network.key); "
				"copy network.key from 'vledger export network' into the node's keys/ (mode 0600)") : rc;
	if (!n->config_loaded && (rc = vl_node_load_config(n)) < 0)
		return rc == VL_ENOTFOUND ? vl_error_set(VL_ENOTFOUND, "this node has no config branch yet; fetch the "
				"network's config first") : rc;
	if (opts->listen)
		snprintf(listen_at, sizeof(listen_at), "%s", opts->listen);
	else if ((rc = node_listen(listen_at, sizeof(listen_at), n->home)) < 0)
		return rc;
	if (!listen_at[0])
		snprintf(listen_at, sizeof(listen_at), "0.0.0.0:%d", VL_SYNC_DEFAULT_PORT);
	if ((rc = vl_sock_listen(&lfd, listen_at, VL_SYNC_DEFAULT_PORT)) < 0 || (rc = vl_sock_local_port(&port, lfd)) < 0)
		goto out;
	out->port = port;
	snprintf(shown, sizeof(shown), "%s", listen_at);
	if (opts->lan)
		lan_start(&lan, out, n, listen_at, port);
	if (opts->on_listen)
		opts->on_listen(opts->ctx, shown, port);
	memset(&sc, 0, sizeof(sc));
	sc.o = opts;
	sc.n = n;
	sc.next_sync = vl_sock_now_ms();
	memset(&lo, 0, sizeof(lo));
	lo.lfd = lfd;
	lo.max_sessions = opts->max_sessions > 0 ? opts->max_sessions : 16;
	lo.limits = opts->limits;
	lo.home = n->home;
	lo.me = &n->key;
	lo.netkey = netkey;
	lo.tick = serve_tick;
	lo.ctx = &sc;
	lo.stop = opts->stop ? opts->stop : &never;
	rc = vl_server_loop(&lo);
	if (sc.child > 0) {
		kill(sc.child, SIGTERM);
		waitpid(sc.child, NULL, 0);
	}
out:
	vl_lan_announcer_stop(lan);
	if (lfd >= 0)
		close(lfd);
	return rc;
}

/* ---- status ---------------------------------------------------------------- */

void vl_status_result_free(vl_status_result *r)
{
	if (!r)
		return;
	free(r->peers);
	memset(r, 0, sizeof(*r));
}

/* Commits on ours not reachable from theirs (theirs NULL: all), capped. */
static size_t count_ahead(git_repository *repo, const git_oid *ours, const git_oid *theirs)
{
	git_revwalk *w = NULL;
	git_oid id;
	size_t k = 0;

	if (git_revwalk_new(&w, repo) < 0)
		return 0;
	if (git_revwalk_push(w, ours) == 0 && (!theirs || git_revwalk_hide(w, theirs) == 0))
		while (k < 1000000 && git_revwalk_next(&id, w) == 0)
			k++;
	git_revwalk_free(w);
	git_error_clear();
	return k;
}

int vl_net_status(vl_node *n, vl_status_result *out)
{
	vl_peer *ps = NULL;
	size_t np = 0, i, k;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!n->config_loaded && (rc = vl_node_load_config(n)) < 0 && rc != VL_ENOTFOUND)
		return rc;
	vl_error_clear();
	if ((rc = vl_peers_load(&ps, &np, n->home)) < 0)
		return rc;
	if (np && !(out->peers = calloc(np, sizeof(*out->peers)))) {
		free(ps);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	for (i = 0; i < np; i++) {
		vl_status_peer *sp = &out->peers[out->n++];
		const char *fp;
		const vl_roster_entry *e;
		sp->peer = ps[i];
		if ((rc = vl_peer_state_load(&sp->state, n->home, ps[i].name)) < 0)
			goto out;
		fp = ps[i].key[0] ? ps[i].key : sp->state.key;
		e = fp[0] && n->config_loaded ? vl_node_roster_find(n, fp) : NULL;
		if (!e)
			continue;
		sp->known = 1;
		{
			vl_proto_refs mine = { NULL, 0, 0 };
			char safe[VL_FP_LEN];
			size_t j, s = 0;
			for (j = 7; e->fp[j] && s < VL_FP_LEN - 1; j++)
				safe[s++] = e->fp[j] == '/' ? '_' : e->fp[j] == '+' ? '-' : e->fp[j];
			safe[s] = '\0';
			if ((rc = vl_proto_readable_refs(&mine, n, e->scope)) < 0)
				goto out;
			for (k = 0; k < mine.n; k++) {
				char peerref[256];
				git_oid theirs;
				size_t ahead;
				if (strncmp(mine.refs[k].name, VL_REF_SCOPE_PREFIX, strlen(VL_REF_SCOPE_PREFIX)))
					continue;
				snprintf(peerref, sizeof(peerref), "refs/peers/%s/scope/%s", safe,
						mine.refs[k].name + strlen(VL_REF_SCOPE_PREFIX));
				if (vl_repo_head(&theirs, n->repo, peerref) == 0)
					ahead = count_ahead(n->repo, &mine.refs[k].id, &theirs);
				else
					ahead = count_ahead(n->repo, &mine.refs[k].id, NULL);
				vl_error_clear();
				sp->waiting_commits += ahead;
				sp->waiting_branches += ahead > 0;
			}
			vl_proto_refs_free(&mine);
		}
	}
	rc = 0;
out:
	free(ps);
	return rc;
}
