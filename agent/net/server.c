/* server.c - the serve loop and the server's side of a session (server.h). */
#define _GNU_SOURCE
#include "agent/net/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/net/chan.h"
#include "agent/net/proto.h"
#include "agent/net/sock.h"
#include "agent/node/node.h"

int vl_server_session(const char *home, const vl_key *me, const unsigned char netkey[32], int fd,
		const vl_session_limits *lim)
{
	vl_chan *c = NULL;
	vl_node *n = NULL;
	vl_buf msg = VL_BUF_INIT, out = VL_BUF_INIT;
	const vl_roster_entry *peer;
	vl_proto_refs heads = { NULL, 0, 0 };
	char fp[VL_FP_LEN], scope[13];
	unsigned char pk[32], hello[2] = { VL_PROTO_VERSION, 0 };
	int rc, type, mode = 0;

	if ((rc = vl_shs_server(&c, fd, netkey, me, lim->handshake_timeout_ms)) < 0)
		return rc; /* fd closed by the handshake */
	vl_chan_set_idle_timeout(c, lim->idle_timeout_ms);
	vl_chan_set_byte_cap(c, lim->byte_cap);
	memcpy(pk, vl_chan_peer_key(c), 32);
	vl_fingerprint(fp, pk);
	/* The roster decides, right after the handshake: an unknown or revoked
	 * key is dropped before anything is advertised. */
	if ((rc = vl_node_open(&n, home, 0, NULL)) < 0 || (rc = vl_node_load_config(n)) < 0)
		goto out;
	peer = vl_node_roster_find(n, fp);
	if (!peer || peer->revoked_at) {
		rc = peer ? vl_error_set(VL_EDENIED, "key '%s' is revoked; session dropped", fp) :
			vl_error_set(VL_EDENIED, "key '%s' is not on the roster; session dropped", fp);
		goto out;
	}
	memcpy(scope, peer->scope, 13);
	for (;;) {
		if ((rc = vl_proto_recv(c, &type, &msg)) < 0)
			goto out;
		switch (type) {
		case VL_MSG_HELLO:
			if ((rc = vl_proto_hello_parse(&mode, (const unsigned char *)msg.ptr, msg.len)) < 0)
				goto out;
			hello[1] = (unsigned char)mode;
			if ((rc = vl_proto_send(c, VL_MSG_HELLO, hello, 2)) < 0)
				goto out;
			break;
		case VL_MSG_PULL: {
			vl_transfer_stats st;
			memset(&st, 0, sizeof(st));
			rc = vl_node_reload_config(n);
			if (rc == 0)
				rc = vl_proto_send_side(&st, c, n, scope);
			vl_transfer_stats_free(&st);
			if (rc < 0)
				goto out;
			break;
		}
		case VL_MSG_PUSH: {
			vl_transfer_stats st;
			memset(&st, 0, sizeof(st));
			rc = vl_proto_recv_side(&st, c, n, pk);
			vl_transfer_stats_free(&st);
			if (rc < 0)
				goto out;
			vl_buf_clear(&out);
			if ((rc = vl_node_reload_config(n)) < 0 || (rc = vl_proto_readable_refs(&heads, n, scope)) < 0 ||
					(rc = vl_proto_refs_encode(&out, &heads)) < 0 ||
					(rc = vl_proto_send(c, VL_MSG_HEADS, out.ptr, out.len)) < 0)
				goto out;
			vl_proto_refs_free(&heads);
			break;
		}
		case VL_MSG_BYE:
			rc = vl_chan_goodbye(c);
			goto out;
		default:
			rc = vl_error_set(VL_EPROTO, "peer sent message type %d out of turn", type);
			goto out;
		}
	}
out:
	vl_proto_refs_free(&heads);
	vl_buf_free(&msg);
	vl_buf_free(&out);
	vl_node_close(n);
	vl_chan_free(c);
	return rc;
}

/* The children alive. */
typedef struct {
	pid_t *pids;
	size_t n, cap;
} children;

static void reap(children *k)
{
	size_t i;
	pid_t p;
	int status;

	while ((p = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < k->n; i++)
			if (k->pids[i] == p) {
				k->pids[i] = k->pids[--k->n];
				break;
			}
}

int vl_server_loop(const vl_server_loop_opts *o)
{
	children k = { NULL, 0, 0 };
	int64_t last_tick = 0;
	size_t i;
	int rc = 0;

	while (!*o->stop) {
		int fd = -1;
		pid_t pid;
		reap(&k);
		if (o->tick && vl_sock_now_ms() - last_tick >= 1000) {
			last_tick = vl_sock_now_ms();
			o->tick(o->ctx);
		}
		rc = vl_sock_accept(&fd, o->lfd, 1000, NULL, 0);
		if (rc < 0) {
			vl_error_clear();
			rc = 0;
			continue; /* timed out or a signal: look at stop again */
		}
		reap(&k);
		if ((int)k.n >= o->max_sessions) {
			close(fd); /* over the cap: closed at once, nothing read */
			continue;
		}
		if ((rc = vl_array_grow((void **)&k.pids, &k.cap, k.n, sizeof(*k.pids))) < 0) {
			close(fd);
			break;
		}
		/* fork without exec: safe because serve has one thread (the LAN
		 * announcer is a process of its own). A thread added to serve
		 * would leave a child any lock it held at the fork (the
		 * allocator's hung sh_net's scheduled sync so): exec the session
		 * then, or start the thread in a process of its own. */
		pid = fork();
		if (pid < 0) {
			close(fd);
			continue;
		}
		if (pid == 0) {
			close(o->lfd);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			rc = vl_server_session(o->home, o->me, o->netkey, fd, &o->limits);
			_exit(rc < 0 ? 1 : 0);
		}
		close(fd);
		k.pids[k.n++] = pid;
	}
	for (i = 0; i < k.n; i++)
		kill(k.pids[i], SIGTERM);
	while (k.n) {
		pid_t p = waitpid(-1, NULL, 0);
		if (p < 0 && errno != EINTR)
			break;
		for (i = 0; i < k.n; i++)
			if (k.pids[i] == p) {
				k.pids[i] = k.pids[--k.n];
				break;
			}
	}
	free(k.pids);
	return rc;
}
