/*
 * net_fixture.h - the fixed keys of the network fuzz targets (fuzz_shs.c,
 * fuzz_boxstream.c) and of net_seeds.c, which makes their seed corpus:
 * a network key, the client's and the server's ed25519 keys, both
 * ephemeral seeds (so a whole handshake transcript is fixed), and one
 * box-stream direction's key and nonce.
 */
#ifndef VL_FUZZ_NET_FIXTURE_H
#define VL_FUZZ_NET_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "agent/net/boxstream.h"
#include "agent/net/shs.h"

struct net_fixture {
	unsigned char netkey[32], client_eph[32], server_eph[32];
	vl_key client, server;
	vl_box box;
};

static void net_fixture_make(struct net_fixture *f)
{
	unsigned char seed[32];
	int i;

	if (vl_crypto_init() < 0)
		abort();
	for (i = 0; i < 32; i++)
		f->netkey[i] = (unsigned char)i;
	memset(f->client_eph, 0x11, 32);
	memset(f->server_eph, 0x22, 32);
	memset(seed, 0x01, 32);
	if (vl_key_from_seed(&f->client, seed) < 0)
		abort();
	memset(seed, 0x02, 32);
	if (vl_key_from_seed(&f->server, seed) < 0)
		abort();
	memset(f->box.key, 0x33, 32);
	memset(f->box.nonce, 0xfe, 24); /* near the wrap: the increment carries */
}

#endif
