/*
 * lan.h - finding peers on the local network (docs/formats.md §8.4).
 *
 * A serving node announces itself every few seconds with one UDP datagram
 * of VL_LAN_DGRAM_LEN bytes, sent to the broadcast address of every IPv4
 * interface that is up (the directed broadcast of each subnet, and
 * 127.255.255.255 on loopback), UDP port VL_LAN_PORT:
 *
 *   0   4  magic "VLAN"
 *   4   1  version 1
 *   5   1  zero (reserved; anything else is refused)
 *   6   2  the TCP port `serve` listens on, big-endian, not 0
 *   8  32  SHA-256("vledger-lan-v1" 0x00 network-id): which network, without
 *          naming it
 *   40 32  the node key's fingerprint: SHA-256 of its SSH public key blob
 *          (the 32 bytes behind "SHA256:..." of vl_fingerprint)
 *
 * No names, no scope, no personal data. A listener keeps the datagrams of
 * exactly that length and layout whose network hash is its own, one per
 * (address, port, fingerprint), and ignores everything else. Nothing is
 * trusted because it was announced: the address is where to try, and the
 * secret handshake with the roster key of that fingerprint decides whether
 * the peer is who it says (anyone on the LAN can send any datagram).
 *
 * Thread safety: the codec functions are pure. An announcer runs in a
 * process of its own (lan.c says why); start and stop it from one thread. vl_lan_discover blocks the
 * calling thread for the time asked.
 */
#ifndef VL_LAN_H
#define VL_LAN_H

#include <stddef.h>
#include <stdint.h>
#include "store/error.h"
#include "store/sshsig.h"

#define VL_LAN_PORT 7433          /* UDP; the same number as serve's default TCP port */
#define VL_LAN_DGRAM_LEN 72
#define VL_LAN_INTERVAL_MS 2000   /* between two announcements */
#define VL_LAN_WAIT_MS 5000       /* a listener's default: two announcements and a half */
#define VL_LAN_WAIT_MAX_MS 600000 /* the longest a listener may be asked to wait */
#define VL_LAN_MAX_PEERS 256      /* distinct announcers one listen reports; more are ignored */
#define VL_LAN_ADDR_LEN 16        /* "255.255.255.255" + NUL */

/* One announcement, decoded. */
typedef struct {
	uint16_t port;               /* TCP port of the announcer's serve, not 0 */
	unsigned char net_hash[32];  /* vl_lan_network_hash of its network id */
	unsigned char fp[32];        /* its key's fingerprint digest */
} vl_lan_announce;

/* out = SHA-256("vledger-lan-v1" 0x00 network_id). */
void vl_lan_network_hash(unsigned char out[32], const char *network_id);
/* out = the fingerprint digest of ed25519 key pk (vl_fingerprint's, raw). */
void vl_lan_fp_digest(unsigned char out[32], const unsigned char pk[32]);
/* The "SHA256:<base64>" text of a fingerprint digest. */
void vl_lan_fp_text(char out[VL_FP_LEN], const unsigned char fp[32]);

/* Encode a (the port must not be 0). */
void vl_lan_encode(unsigned char out[VL_LAN_DGRAM_LEN], const vl_lan_announce *a);
/*
 * Decode a received datagram, strictly: exactly VL_LAN_DGRAM_LEN bytes,
 * the magic, version 1, a zero reserved byte and a port other than 0.
 * VL_EPROTO (nothing set) otherwise. Does not look at the network hash.
 */
int vl_lan_parse(vl_lan_announce *out, const void *data, size_t len) VL_MUST_CHECK;

/* ---- announcing ---------------------------------------------------------- */

typedef struct {
	uint16_t udp_port;    /* where to send (0: vl_lan_default_port()) */
	int interval_ms;      /* between announcements (0: VL_LAN_INTERVAL_MS) */
	/* The host serve listens on (the HOST of --listen HOST:PORT): a
	 * numeric IPv4 address limits announcements to the interface that has
	 * it (127.0.0.1: loopback only), since the port is not reachable on
	 * the others; an IPv6 address other than "::" means no announcements
	 * (they are IPv4); NULL, "", "0.0.0.0", "::", "[::]" or a name: every
	 * interface. */
	const char *listen_host;
} vl_lan_opts;
#define VL_LAN_OPTS_INIT { 0, 0, NULL }

/* $VLEDGER_LAN_PORT when it holds a port number (1..65535), else
 * VL_LAN_PORT: lets tests and odd networks move discovery off the default. */
uint16_t vl_lan_default_port(void);

typedef struct vl_lan_announcer vl_lan_announcer;

/*
 * Start announcing (network_id, key pk, tcp_port) in a process of its own
 * (forked here; it ends when stopped, when this process's end of its pipe
 * closes, or when the thread that started it ends: Linux's parent-death
 * signal, so it does not outlive a caller that is SIGKILLed while children
 * forked later still hold the pipe; start it from the caller's main thread):
 * one datagram to every interface's broadcast address at once, then every
 * interval. Interfaces are listed again before each round, so a cable
 * plugged in later is found. A send that fails (an interface gone, no
 * broadcast allowed) is skipped silently: announcing is best effort.
 * *out owns the process and its socket until vl_lan_announcer_stop.
 * VL_EINVALID for a port of 0; VL_ERROR when the socket or process cannot
 * be made.
 */
int vl_lan_announcer_start(vl_lan_announcer **out, const char *network_id, const unsigned char pk[32],
		uint16_t tcp_port, const vl_lan_opts *opts) VL_MUST_CHECK;
/* Rounds sent so far (a round = one datagram per interface). */
unsigned vl_lan_announcer_rounds(vl_lan_announcer *a);
/* Stop the process (and wait for it), close the socket and free a. NULL is
 * fine. */
void vl_lan_announcer_stop(vl_lan_announcer *a);

/* ---- listening ----------------------------------------------------------- */

/* A peer heard: where it announced from and what it announced. */
typedef struct {
	char addr[VL_LAN_ADDR_LEN];  /* the datagram's source IPv4 address */
	uint16_t port;               /* the announced TCP port */
	unsigned char fp[32];        /* the announced fingerprint digest */
	char fp_text[VL_FP_LEN];     /* the same as "SHA256:..." */
} vl_lan_peer;

/* Called once per distinct (addr, port, fp), from the listening thread;
 * p is valid during the call only. Return nonzero to stop listening. */
typedef int (*vl_lan_found_fn)(void *ctx, const vl_lan_peer *p);

/*
 * Listen on UDP `udp_port` (0: vl_lan_default_port()) of every interface
 * for wait_ms milliseconds (1..VL_LAN_WAIT_MAX_MS) and call found for each
 * new announcer of network `network_id`. Datagrams of other networks,
 * malformed ones and those past VL_LAN_MAX_PEERS distinct announcers are
 * ignored. The socket allows other listeners on the same port (several
 * nodes on one machine). VL_EINVALID for a bad wait; VL_ERROR when the port
 * cannot be bound; otherwise 0, also when nobody was heard.
 */
int vl_lan_discover(const char *network_id, uint16_t udp_port, int wait_ms, vl_lan_found_fn found,
		void *ctx) VL_MUST_CHECK;

#endif
