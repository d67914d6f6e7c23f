/*
 * lan.c - LAN announcements: the datagram codec, the announcer process and
 * the listener (lan.h; the format: docs/formats.md §8.4).
 */
#define _DEFAULT_SOURCE /* getifaddrs, struct ifaddrs, IFF_* */
#include "agent/net/lan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

static const unsigned char lan_magic[4] = { 'V', 'L', 'A', 'N' };
#define LAN_VERSION 1
#define LAN_NET_DOMAIN "vledger-lan-v1"
/* Interfaces one round sends to; a machine with more announces on the
 * first ones only (a router's worth of VLANs is not a village laptop). */
#define LAN_MAX_TARGETS 32

/* ---- codec --------------------------------------------------------------- */

void vl_lan_network_hash(unsigned char out[32], const char *network_id)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	/* The domain with its NUL: no network id can pose as another input. */
	crypto_hash_sha256_update(&st, (const unsigned char *)LAN_NET_DOMAIN, sizeof(LAN_NET_DOMAIN));
	crypto_hash_sha256_update(&st, (const unsigned char *)network_id, strlen(network_id));
	crypto_hash_sha256_final(&st, out);
}

void vl_lan_fp_digest(unsigned char out[32], const unsigned char pk[32])
{
	/* The SSH wire blob of an ed25519 key: string "ssh-ed25519", string pk
	 * (RFC 8709), as vl_fingerprint hashes it. */
	unsigned char blob[4 + 11 + 4 + 32] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9',
		0, 0, 0, 32 };

	memcpy(blob + 19, pk, 32);
	crypto_hash_sha256(out, blob, sizeof(blob));
}

void vl_lan_fp_text(char out[VL_FP_LEN], const unsigned char fp[32])
{
	memcpy(out, "SHA256:", 7);
	sodium_bin2base64(out + 7, VL_FP_LEN - 7, fp, 32, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

void vl_lan_encode(unsigned char out[VL_LAN_DGRAM_LEN], const vl_lan_announce *a)
{
	memcpy(out, lan_magic, 4);
	out[4] = LAN_VERSION;
	out[5] = 0;
	out[6] = (unsigned char)(a->port >> 8);
	out[7] = (unsigned char)(a->port & 0xff);
	memcpy(out + 8, a->net_hash, 32);
	memcpy(out + 40, a->fp, 32);
}

int vl_lan_parse(vl_lan_announce *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint16_t port;

	if (len != VL_LAN_DGRAM_LEN)
		return vl_error_set(VL_EPROTO, "lan announcement of %zu bytes; one is exactly %d", len,
				VL_LAN_DGRAM_LEN);
	if (memcmp(p, lan_magic, 4) != 0 || p[4] != LAN_VERSION || p[5] != 0)
		return vl_error_set(VL_EPROTO, "not a version %d lan announcement", LAN_VERSION);
	port = (uint16_t)((p[6] << 8) | p[7]);
	if (port == 0)
		return vl_error_set(VL_EPROTO, "lan announcement names tcp port 0");
	out->port = port;
	memcpy(out->net_hash, p + 8, 32);
	memcpy(out->fp, p + 40, 32);
	return 0;
}

uint16_t vl_lan_default_port(void)
{
	const char *s = getenv("VLEDGER_LAN_PORT");
	unsigned long v = 0;
	size_t i;

	if (!s || !*s || strlen(s) > 5)
		return VL_LAN_PORT;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return VL_LAN_PORT;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535 ? (uint16_t)v : VL_LAN_PORT;
}

/* ---- announcing ---------------------------------------------------------- */

/*
 * The announcer is a process, not a thread: `vledger serve` forks a process
 * per session and per scheduled sync from its loop, and a fork while
 * another thread of the serving process holds a lock leaves the child with
 * that lock held for good. A round allocates (getifaddrs), and under
 * AddressSanitizer (GCC 12), whose allocator is not made safe across fork,
 * scheduled syncs hung before their first allocation (tests/sh/net.sh).
 * With the announcer out of the process, serve forks with one thread.
 */
struct vl_lan_announcer {
	int sock;
	int wake[2];                /* a byte on wake[1], or its close, stops the process */
	pid_t pid;                  /* the announcing process */
	uint16_t udp_port;
	int interval_ms;
	int only_none;              /* listening on an IPv6 address: announce nowhere */
	uint32_t only_addr;         /* network order; INADDR_ANY: every interface */
	unsigned char dgram[VL_LAN_DGRAM_LEN];
	atomic_uint *rounds;        /* shared with the process (MAP_SHARED) */
};

/*
 * The broadcast address of every IPv4 interface that is up: addr | ~mask,
 * computed rather than read from ifa_broadaddr, which is unset when an
 * address was added without "brd". Loopback counts (nodes on one machine
 * find each other through 127.255.255.255); point-to-point links and /32s
 * have no broadcast and are skipped. With only_addr (network order) other
 * than INADDR_ANY, only the interface holding that address. Returns how
 * many (network order).
 */
static size_t broadcast_targets(uint32_t out[LAN_MAX_TARGETS], uint32_t only_addr)
{
	struct ifaddrs *ifs = NULL, *i;
	size_t n = 0, k;

	if (getifaddrs(&ifs) != 0)
		return 0;
	for (i = ifs; i && n < LAN_MAX_TARGETS; i = i->ifa_next) {
		uint32_t addr, mask, bc;
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask ||
				!(i->ifa_flags & IFF_UP) || !(i->ifa_flags & (IFF_BROADCAST | IFF_LOOPBACK)))
			continue;
		addr = ntohl(((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr.s_addr);
		if (only_addr != htonl(INADDR_ANY) && htonl(addr) != only_addr)
			continue;
		mask = ntohl(((const struct sockaddr_in *)(const void *)i->ifa_netmask)->sin_addr.s_addr);
		if (mask == 0xffffffffu)
			continue;
		bc = htonl(addr | ~mask);
		for (k = 0; k < n && out[k] != bc; k++)
			;
		if (k == n)
			out[n++] = bc;
	}
	freeifaddrs(ifs);
	return n;
}

static void announce_round(vl_lan_announcer *a)
{
	uint32_t targets[LAN_MAX_TARGETS];
	size_t n = a->only_none ? 0 : broadcast_targets(targets, a->only_addr), i;

	for (i = 0; i < n; i++) {
		struct sockaddr_in to;
		memset(&to, 0, sizeof(to));
		to.sin_family = AF_INET;
		to.sin_port = htons(a->udp_port);
		to.sin_addr.s_addr = targets[i];
		/* Best effort, never blocking: a full queue drops this round. */
		(void)sendto(a->sock, a->dgram, sizeof(a->dgram), MSG_DONTWAIT, (const struct sockaddr *)&to,
				sizeof(to));
	}
	atomic_fetch_add(a->rounds, 1);
}

/* The announcing process: rounds until a byte comes on wake[0] or the
 * other end closes (serve stopped, or died). */
static void announce_main(vl_lan_announcer *a)
{
	for (;;) {
		struct pollfd p = { a->wake[0], POLLIN, 0 };
		int r;
		announce_round(a);
		r = poll(&p, 1, a->interval_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 0)
			break; /* stop asked, or the pipe broke: stop either way */
	}
}

static void announcer_close(vl_lan_announcer *a)
{
	if (a->rounds)
		munmap(a->rounds, sizeof(*a->rounds));
	if (a->sock >= 0)
		close(a->sock);
	if (a->wake[0] >= 0)
		close(a->wake[0]);
	if (a->wake[1] >= 0)
		close(a->wake[1]);
	free(a);
}

int vl_lan_announcer_start(vl_lan_announcer **out, const char *network_id, const unsigned char pk[32],
		uint16_t tcp_port, const vl_lan_opts *opts)
{
	vl_lan_announcer *a = NULL;
	vl_lan_announce ann;
	pid_t parent;
	int one = 1, rc = 0;

	*out = NULL;
	if (tcp_port == 0 || !network_id)
		return vl_error_set(VL_EINVALID, "lan announcer needs a network id and a tcp port other than 0");
	if (!(a = calloc(1, sizeof(*a))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	a->sock = a->wake[0] = a->wake[1] = -1;
	a->udp_port = opts && opts->udp_port ? opts->udp_port : vl_lan_default_port();
	a->interval_ms = opts && opts->interval_ms > 0 ? opts->interval_ms : VL_LAN_INTERVAL_MS;
	a->only_addr = htonl(INADDR_ANY);
	if (opts && opts->listen_host && *opts->listen_host) {
		const char *h = opts->listen_host;
		struct in_addr v4;
		struct in6_addr v6;
		char h6[64];
		size_t hl = strlen(h);
		/* "[::1]" as --listen writes IPv6 hosts */
		if (h[0] == '[' && hl >= 2 && hl - 2 < sizeof(h6) && h[hl - 1] == ']') {
			memcpy(h6, h + 1, hl - 2);
			h6[hl - 2] = 0;
			h = h6;
		}
		if (inet_pton(AF_INET, h, &v4) == 1)
			a->only_addr = v4.s_addr;
		else if (inet_pton(AF_INET6, h, &v6) == 1 && !IN6_IS_ADDR_UNSPECIFIED(&v6))
			a->only_none = 1;
	}
	ann.port = tcp_port;
	vl_lan_network_hash(ann.net_hash, network_id);
	vl_lan_fp_digest(ann.fp, pk);
	vl_lan_encode(a->dgram, &ann);
	if ((a->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
			setsockopt(a->sock, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) != 0 ||
			pipe(a->wake) != 0 || fcntl(a->wake[0], F_SETFD, FD_CLOEXEC) != 0 ||
			fcntl(a->wake[1], F_SETFD, FD_CLOEXEC) != 0) {
		rc = vl_error_set(VL_ERROR, "cannot make the lan announcement socket: %s", strerror(errno));
		goto out;
	}
	if ((a->rounds = mmap(NULL, sizeof(*a->rounds), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			0)) == MAP_FAILED) {
		a->rounds = NULL;
		rc = vl_error_set(VL_ERROR, "cannot start the lan announcer: %s", strerror(errno));
		goto out;
	}
	atomic_init(a->rounds, 0);
	parent = getpid();
	if ((a->pid = fork()) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot start the lan announcer: %s", strerror(errno));
		goto out;
	}
	if (a->pid == 0) {
		/* Only the pipe's read end and the socket are its business; a
		 * signal ends it (serve's handlers only set a flag it never reads). */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		/* Serve's session and sync children inherit the pipe's write end
		 * (they are forked later, without exec): were serve SIGKILLed, the
		 * pipe would close only as the last of them ends. The parent's
		 * death ends the announcer at once; one already dead before the
		 * prctl leaves it reparented. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
			_exit(0);
		close(a->wake[1]);
		a->wake[1] = -1;
		announce_main(a);
		_exit(0);
	}
	close(a->wake[0]);
	a->wake[0] = -1;
	*out = a;
	a = NULL;
out:
	if (a)
		announcer_close(a);
	return rc;
}

unsigned vl_lan_announcer_rounds(vl_lan_announcer *a)
{
	return atomic_load(a->rounds);
}

void vl_lan_announcer_stop(vl_lan_announcer *a)
{
	char b = 1;

	if (!a)
		return;
	while (write(a->wake[1], &b, 1) < 0 && errno == EINTR)
		;
	/* ECHILD: a caller's waitpid(-1) reaped it already */
	while (waitpid(a->pid, NULL, 0) < 0 && errno == EINTR)
		;
	announcer_close(a);
}

/* ---- listening ----------------------------------------------------------- */

typedef struct {
	uint32_t addr;
	uint16_t port;
	unsigned char fp[32];
} seen_peer;

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int vl_lan_discover(const char *network_id, uint16_t udp_port, int wait_ms, vl_lan_found_fn found, void *ctx)
{
	seen_peer *seen = NULL;
	size_t nseen = 0, i;
	unsigned char net[32];
	struct sockaddr_in me;
	int64_t deadline;
	int sock = -1, one = 1, rc = 0;

	if (wait_ms < 1 || wait_ms > VL_LAN_WAIT_MAX_MS)
		return vl_error_set(VL_EINVALID, "lan wait of %d ms; give 1 to %d", wait_ms, VL_LAN_WAIT_MAX_MS);
	if (!(seen = calloc(VL_LAN_MAX_PEERS, sizeof(*seen))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	vl_lan_network_hash(net, network_id);
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_port = htons(udp_port ? udp_port : vl_lan_default_port());
	me.sin_addr.s_addr = htonl(INADDR_ANY);
	/* SO_REUSEADDR: every listener on one machine gets each broadcast. */
	if ((sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
			setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
			bind(sock, (const struct sockaddr *)&me, sizeof(me)) != 0) {
		rc = vl_error_set(VL_ERROR, "cannot listen on udp port %u for lan announcements: %s; "
				"set VLEDGER_LAN_PORT to another port", ntohs(me.sin_port), strerror(errno));
		goto out;
	}
	deadline = now_ms() + wait_ms;
	for (;;) {
		/* One byte more than a datagram, so a longer one is seen as such. */
		unsigned char buf[VL_LAN_DGRAM_LEN + 1];
		struct sockaddr_in from;
		socklen_t fromlen = sizeof(from);
		struct pollfd p = { sock, POLLIN, 0 };
		vl_lan_announce ann;
		vl_lan_peer peer;
		int64_t left = deadline - now_ms();
		ssize_t got;

		if (left <= 0)
			break;
		if (poll(&p, 1, (int)left) <= 0)
			continue; /* timeout (ends the loop above) or EINTR */
		got = recvfrom(sock, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
		if (got < 0 || fromlen != sizeof(from) || from.sin_family != AF_INET)
			continue;
		if (vl_lan_parse(&ann, buf, (size_t)got) < 0 || memcmp(ann.net_hash, net, 32) != 0)
			continue; /* not ours: any host on the LAN may send anything */
		for (i = 0; i < nseen; i++)
			if (seen[i].addr == from.sin_addr.s_addr && seen[i].port == ann.port &&
					!memcmp(seen[i].fp, ann.fp, 32))
				break;
		if (i < nseen || nseen == VL_LAN_MAX_PEERS)
			continue;
		seen[nseen].addr = from.sin_addr.s_addr;
		seen[nseen].port = ann.port;
		memcpy(seen[nseen].fp, ann.fp, 32);
		nseen++;
		memset(&peer, 0, sizeof(peer));
		if (!inet_ntop(AF_INET, &from.sin_addr, peer.addr, sizeof(peer.addr)))
			continue;
		peer.port = ann.port;
		memcpy(peer.fp, ann.fp, 32);
		vl_lan_fp_text(peer.fp_text, ann.fp);
		if (found(ctx, &peer))
			break;
	}
out:
	if (sock >= 0)
		close(sock);
	free(seen);
	return rc;
}
