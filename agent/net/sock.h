/*
 * sock.h - TCP sockets with deadlines: listen on ADDR:PORT (IPv4 or [IPv6]),
 * connect with a timeout (non-blocking connect + poll), accept, and reads
 * and writes that wait at most a given time (poll) and never raise SIGPIPE
 * (MSG_NOSIGNAL). Every descriptor these functions return is non-blocking
 * and close-on-exec; the caller owns it and closes it with close(2) (or
 * hands it to vl_shs_client/vl_shs_server, agent/net/chan.h, which then own
 * it). Thread safe: no shared state.
 *
 * Errors: VL_EINVALID for an address that does not parse, VL_ENOTFOUND for
 * a host name that does not resolve, VL_ERROR for a system call that fails
 * (refused, unreachable, reset) or a timeout (the message says "timed out").
 */
#ifndef VL_NET_SOCK_H
#define VL_NET_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include "store/error.h"

/* Port used when an address names none (the one invitation tokens carry). */
#define VL_NET_DEFAULT_PORT 7878
/* Longest "HOST[:PORT]" / "[V6]:PORT" text accepted. */
#define VL_NET_MAX_ADDR 300

/*
 * Split "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT" into host (without
 * brackets, NUL-terminated, at most hostcap-1 bytes) and port
 * (default_port when absent). VL_EINVALID for anything else (empty host,
 * port 0 or > 65535, junk after the port, an unbracketed IPv6 literal with
 * a port, text longer than VL_NET_MAX_ADDR).
 */
int vl_sock_parse_addr(char *host, size_t hostcap, uint16_t *port, const char *addr,
		uint16_t default_port) VL_MUST_CHECK;

/*
 * Listen on `addr` ("ADDR:PORT", "[V6]:PORT", ":PORT" or "PORT" = all
 * IPv4 and IPv6 addresses). SO_REUSEADDR; an IPv6 wildcard also takes IPv4
 * where the system allows. *out is the listening fd.
 */
int vl_sock_listen(int *out, const char *addr, uint16_t default_port) VL_MUST_CHECK;
/* The local port of a bound socket (to find the one "0" picked). */
int vl_sock_local_port(uint16_t *out, int fd) VL_MUST_CHECK;
/*
 * Accept one connection on listening fd `lfd`, waiting at most timeout_ms
 * (< 0: forever). *out is the new fd; when peer is not NULL it receives
 * the peer's "ADDR:PORT" text (IPv6 bracketed), at most peercap bytes.
 * VL_ERROR "timed out" when nothing came, or EINTR (a signal) broke the wait:
 * the caller checks its stop flag and calls again.
 */
int vl_sock_accept(int *out, int lfd, int timeout_ms, char *peer, size_t peercap) VL_MUST_CHECK;
/*
 * Connect to "HOST[:PORT]" (default_port when it names none), trying every
 * address the name resolves to, each within the time left of timeout_ms.
 * *out is the connected fd (TCP_NODELAY set).
 */
int vl_sock_connect(int *out, const char *addr, uint16_t default_port, int timeout_ms) VL_MUST_CHECK;

/*
 * Read exactly len bytes from fd, all of them within timeout_ms from the
 * call (< 0: no deadline), so a peer that trickles 1 byte a second hits
 * the deadline as surely as one that sends nothing. VL_EPROTO when the peer
 * closes first (*got, if not NULL, says how many bytes came), VL_ERROR on a
 * timeout or a failed read.
 */
int vl_sock_read_full(int fd, void *buf, size_t len, int timeout_ms, size_t *got) VL_MUST_CHECK;
/* Read what is there, 1..cap bytes, waiting at most timeout_ms for the
 * first (< 0: no deadline). VL_EPROTO when the peer has closed, VL_ERROR
 * on a timeout or a failed read. */
int vl_sock_read_some(int fd, void *buf, size_t cap, int timeout_ms, size_t *got) VL_MUST_CHECK;
/* Write all len bytes within timeout_ms (< 0: no deadline). VL_ERROR on a
 * timeout, a reset or a closed peer (no SIGPIPE). */
int vl_sock_write_full(int fd, const void *buf, size_t len, int timeout_ms) VL_MUST_CHECK;

/* Milliseconds of a monotonic clock (for deadlines). */
int64_t vl_sock_now_ms(void);

#endif
