/*
 * shs_peer.c - vledger's channel (agent/net/chan.h) as one end of a
 * connection with the npm reference (tests/interop/shs_peer.js), for
 * tests/interop/shs_interop.sh. The same arguments and data pattern as
 * shs_peer.js:
 *   shs_peer server NETKEY_HEX SEED_HEX CLIENT_PK_HEX BYTES [deny]
 *     listens on 127.0.0.1 (a free port), prints "port N", serves one client
 *   shs_peer client PORT NETKEY_HEX SEED_HEX SERVER_PK_HEX BYTES [deny]
 *   shs_peer pubkey SEED_HEX   (prints the ed25519 public key, hex)
 * Each end sends BYTES bytes of its role's pattern, then goodbye, and checks
 * that it receives exactly the other role's pattern (BYTES may be
 * SEND:RECV, for a one-way transfer: both ends write before they read, so
 * two large transfers at once would fill both socket buffers). With "deny" the
 * handshake must fail with VL_EDENIED instead. Exit 0 and "ok" on success.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/net/chan.h"
#include "agent/net/sock.h"
#include "store/buf.h"

static int hex32(unsigned char out[32], const char *hex)
{
	size_t n = 0;

	return sodium_hex2bin(out, 32, hex, strlen(hex), NULL, &n, NULL) == 0 && n == 32 ? 0 : -1;
}

static int die(const char *what)
{
	fprintf(stderr, "shs_peer: %s: %s\n", what, vl_error_last());
	return 1;
}

static unsigned char pat(size_t i, int tag)
{
	return (unsigned char)((i * 31 + (size_t)tag) & 0xff);
}

/* Send our pattern in uneven writes, goodbye, read theirs to its goodbye. */
static int exchange(vl_chan *c, size_t bytes, size_t rbytes, int mytag, int theirtag)
{
	unsigned char *buf = malloc(bytes + 4096);
	size_t i, off = 0, step = 700, n, got = 0;
	int rc = 1;

	if (!buf)
		return 1;
	for (i = 0; i < bytes; i++)
		buf[i] = pat(i, mytag);
	while (off < bytes) {
		n = bytes - off < step ? bytes - off : step;
		if (vl_chan_write(c, buf + off, n) < 0)
			goto out;
		off += n;
		step = step * 5 % 9001 + 1;
	}
	if (vl_chan_goodbye(c) < 0)
		goto out;
	for (;;) {
		if (vl_chan_read(c, buf, 4096, &n) < 0)
			goto out;
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (got + i >= rbytes || buf[i] != pat(got + i, theirtag)) {
				fprintf(stderr, "shs_peer: byte %zu differs\n", got + i);
				rc = 2;
				goto out;
			}
		}
		got += n;
	}
	if (got != rbytes) {
		fprintf(stderr, "shs_peer: received %zu bytes of %zu\n", got, rbytes);
		rc = 2;
		goto out;
	}
	rc = 0;
out:
	if (rc == 1)
		die("exchange");
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned char netkey[32], seed[32], peer[32];
	vl_key me;
	vl_chan *c = NULL;
	int server, fd = -1, lfd = -1, rc, deny, base;
	uint16_t port = 0;
	vl_buf addr = VL_BUF_INIT;
	size_t bytes, rbytes;
	char *end = NULL;

	if (argc == 3 && !strcmp(argv[1], "pubkey")) {
		char hex[65];
		if (hex32(seed, argv[2]) < 0 || vl_crypto_init() < 0 || vl_key_from_seed(&me, seed) < 0)
			return 2;
		printf("%s\n", sodium_bin2hex(hex, sizeof(hex), me.pk, 32));
		vl_key_wipe(&me);
		return 0;
	}
	if (argc < 2 || (strcmp(argv[1], "server") && strcmp(argv[1], "client"))) {
		fprintf(stderr, "usage: shs_peer server|client ...\n");
		return 2;
	}
	server = !strcmp(argv[1], "server");
	base = server ? 2 : 3;
	if (argc < base + 4 || hex32(netkey, argv[base]) < 0 || hex32(seed, argv[base + 1]) < 0 ||
			hex32(peer, argv[base + 2]) < 0) {
		fprintf(stderr, "shs_peer: bad arguments\n");
		return 2;
	}
	bytes = rbytes = strtoul(argv[base + 3], &end, 10);
	if (end && *end == ':')
		rbytes = strtoul(end + 1, NULL, 10);
	deny = argc > base + 4 && !strcmp(argv[base + 4], "deny");
	if (vl_crypto_init() < 0 || vl_key_from_seed(&me, seed) < 0)
		return die("key");
	if (server) {
		if (vl_sock_listen(&lfd, "127.0.0.1:0", VL_NET_DEFAULT_PORT) < 0 ||
				vl_sock_local_port(&port, lfd) < 0)
			return die("listen");
		printf("port %u\n", (unsigned)port);
		fflush(stdout);
		if (vl_sock_accept(&fd, lfd, 20000, NULL, 0) < 0)
			return die("accept");
		rc = vl_shs_server(&c, fd, netkey, &me, 10000);
	} else {
		if (vl_buf_printf(&addr, "127.0.0.1:%s", argv[2]) < 0 ||
				vl_sock_connect(&fd, addr.ptr, VL_NET_DEFAULT_PORT, 10000) < 0)
			return die("connect");
		vl_buf_free(&addr);
		rc = vl_shs_client(&c, fd, netkey, &me, peer, 10000);
	}
	vl_key_wipe(&me);
	if (deny) {
		if (rc != VL_EDENIED) {
			fprintf(stderr, "shs_peer: the handshake gave %d, not EDENIED\n", rc);
			vl_chan_free(c);
			return 1;
		}
		printf("ok (denied: %s)\n", vl_error_last());
		return 0;
	}
	if (rc < 0)
		return die("handshake");
	if (memcmp(vl_chan_peer_key(c), peer, 32) != 0) {
		fprintf(stderr, "shs_peer: the peer's key differs\n");
		vl_chan_free(c);
		return 1;
	}
	rc = exchange(c, bytes, rbytes, server ? 2 : 1, server ? 1 : 2);
	vl_chan_free(c);
	if (lfd >= 0)
		close(lfd);
	if (rc == 0)
		printf("ok\n");
	return rc;
}
