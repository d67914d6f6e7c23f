/*
 * fuzz_shs.c - libFuzzer target for the server side of the secret
 * handshake (agent/net/shs.h): the input is msg1 (64 bytes) then msg3
 * (112 bytes) from a client, read by a server with net_fixture.h's keys
 * and ephemeral seed (so one fixed transcript is valid). Besides "no crash,
 * no leak": an input is accepted only when it is exactly 176 bytes, msg1's
 * HMAC holds, and the client key it names signed this transcript (that the
 * server sends no byte after a bad msg1 is test_shs's check). Seeds:
 * corpus/shs/, made and checked by net_seeds.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "net_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

static struct net_fixture fx;

static void check(int ok)
{
	if (!ok)
		abort();
}

static void setup(void)
{
	static int ready;

	if (!ready)
		net_fixture_make(&fx);
	ready = 1;
}

/* 1 when the server accepts the input as msg1 | msg3. */
static int serve(const uint8_t *data, size_t size)
{
	vl_shs s;
	unsigned char m2[VL_SHS_MSG2], m4[VL_SHS_MSG4], msg[96];
	int ok = 0;

	vl_shs_init(&s, fx.netkey, &fx.server, NULL, fx.server_eph);
	if (size != VL_SHS_MSG1 + VL_SHS_MSG3)
		goto out;
	if (vl_shs_check_hello(&s, data) < 0)
		goto out;
	check(!sodium_memcmp(s.peer_eph, data + 32, 32));
	vl_shs_hello(&s, m2);
	if (vl_shs_server_check_auth(&s, data + VL_SHS_MSG1) < 0)
		goto out;
	/* accepted: the named client key signed K | B | hash(a.b) */
	memcpy(msg, fx.netkey, 32);
	memcpy(msg + 32, fx.server.pk, 32);
	memcpy(msg + 64, s.ab_hash, 32);
	check(crypto_sign_verify_detached(s.hello, msg, 96, s.peer_pk) == 0);
	check(!memcmp(s.peer_pk, s.hello + 64, 32));
	vl_shs_server_accept(&s, m4);
	ok = 1;
out:
	vl_shs_wipe(&s);
	return ok;
}

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	setup();
	return serve(data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	(void)serve(data, size);
	return 0;
}
