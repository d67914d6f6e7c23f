/*
 * lan_announce.c - test tool: announce a node home on the LAN as `vledger
 * serve` does (agent/net/lan.h), without serving. For tests/sh/lan.sh,
 * which runs it inside a network namespace.
 *
 *   lan_announce HOME TCP_PORT SECONDS [INTERVAL_MS [LISTEN_HOST]]
 *
 * LISTEN_HOST is what serve would be given in --listen HOST:PORT
 * (vl_lan_opts.listen_host).
 *
 * The UDP port is vl_lan_default_port() ($VLEDGER_LAN_PORT or 7433).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/net/lan.h"
#include "agent/node/node.h"

static long num(const char *s, long max)
{
	long v = 0;
	size_t i;

	if (!*s || strlen(s) > 9)
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

int main(int argc, char **argv)
{
	vl_lan_opts lo = VL_LAN_OPTS_INIT;
	vl_lan_announcer *a = NULL;
	vl_node *n = NULL;
	long port, secs, interval = 500;
	struct timespec t;

	if (argc < 4 || argc > 6 || (port = num(argv[2], 65535)) < 1 || (secs = num(argv[3], 3600)) < 0 ||
			(argc >= 5 && (interval = num(argv[4], 60000)) < 1)) {
		fprintf(stderr, "usage: lan_announce HOME TCP_PORT SECONDS [INTERVAL_MS [LISTEN_HOST]]\n");
		return 2;
	}
	if (vl_crypto_init() < 0 || vl_node_open(&n, argv[1], 0, NULL) < 0) {
		fprintf(stderr, "lan_announce: %s\n", vl_error_last());
		return 1;
	}
	lo.interval_ms = (int)interval;
	lo.listen_host = argc == 6 ? argv[5] : NULL;
	if (vl_lan_announcer_start(&a, n->network_id, n->key.pk, (uint16_t)port, &lo) < 0) {
		fprintf(stderr, "lan_announce: %s\n", vl_error_last());
		vl_node_close(n);
		return 1;
	}
	t.tv_sec = secs;
	t.tv_nsec = 0;
	nanosleep(&t, NULL);
	fprintf(stderr, "lan_announce: %u rounds\n", vl_lan_announcer_rounds(a));
	vl_lan_announcer_stop(a);
	vl_node_close(n);
	return 0;
}
