/*
 * server.h - `vledger serve`: the accept loop and the server's side of a
 * session (docs/formats.md §8.3).
 *
 * One process per session: the loop forks a child for each accepted
 * connection (at most max_sessions at once; one more is closed at once,
 * before any byte is read), so a slow or endless peer stalls only its own
 * child, which the handshake and idle timeouts and the byte cap end. The
 * child opens the node home afresh (no secret key: the handshake key is
 * the parent's copy), runs the handshake, looks the client's key up in the
 * roster (not there or revoked: the connection is closed, nothing is
 * advertised), then answers HELLO, PULL (it sends), PUSH (it receives
 * through vl_receive, each chunk on a handle of its own, then HEADS) until
 * BYE. The write lock is taken only inside each receive.
 */
#ifndef VL_NET_SERVER_H
#define VL_NET_SERVER_H

#include <signal.h>
#include <stdint.h>

#include "store/sshsig.h"

typedef struct {
	int handshake_timeout_ms;  /* the whole handshake */
	int idle_timeout_ms;       /* one box read or written */
	uint64_t byte_cap;         /* wire bytes one session may receive (0: none) */
} vl_session_limits;
#define VL_SESSION_LIMITS_INIT { 10000, 30000, (uint64_t)4 << 30 }

/*
 * Serve one session on accepted fd (owned, closed on return) for the node
 * at home with key me. Returns 0 when the client said BYE, else the code
 * the session ended with (a dropped key: VL_EDENIED).
 */
int vl_server_session(const char *home, const vl_key *me, const unsigned char netkey[32], int fd,
		const vl_session_limits *lim) VL_MUST_CHECK;

typedef struct {
	int lfd;                   /* listening socket (owned by the caller) */
	int max_sessions;
	vl_session_limits limits;
	const char *home;
	const vl_key *me;
	const unsigned char *netkey;
	/* Called about once a second in the loop (the schedule, a LAN
	 * announcer); it must return quickly (fork for long work). */
	void (*tick)(void *ctx);
	void *ctx;
	volatile sig_atomic_t *stop; /* set (by a signal handler) to end the loop */
} vl_server_loop_opts;

/* Accept until *stop; then ask the children to stop (SIGTERM) and reap
 * them. Returns 0, or the code of a failed accept loop. */
int vl_server_loop(const vl_server_loop_opts *o) VL_MUST_CHECK;

#endif
