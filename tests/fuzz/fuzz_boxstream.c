/*
 * fuzz_boxstream.c - libFuzzer target for the box-stream reader
 * (agent/net/boxstream.h), the way the channel reads: 34-byte headers, then
 * the body they name, with net_fixture.h's key and nonce. Besides "no
 * crash, no leak": a stream is accepted only when every box authenticates,
 * every body is 1..4096 bytes, it ends in the goodbye and nothing follows;
 * the plain text returned is never more than the input. Then the input, as
 * plain text, is sealed in boxes (split at box size) and read back: it must
 * come back byte for byte. Seeds: corpus/boxstream/, made and checked by
 * net_seeds.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* Read a wire stream; 1 when accepted. *plain_len: bytes returned. */
static int read_stream(const uint8_t *data, size_t size, size_t *plain_len)
{
	vl_box b = fx.box;
	unsigned char tag[VL_BOX_TAG], body[VL_BOX_MAX_BODY];
	size_t off = 0, len = 0;
	int rc, ok = 0;

	*plain_len = 0;
	for (;;) {
		if (size - off < VL_BOX_HEADER)
			break;
		rc = vl_box_open_header(&b, &len, tag, data + off);
		if (rc < 0)
			break;
		off += VL_BOX_HEADER;
		if (rc == 1) {
			ok = off == size;
			break;
		}
		check(len >= 1 && len <= VL_BOX_MAX_BODY);
		if (size - off < len || vl_box_open_body(&b, body, data + off, len, tag) < 0)
			break;
		off += len;
		*plain_len += len;
	}
	check(*plain_len <= size);
	vl_box_wipe(&b);
	return ok;
}

/* Seal data as a stream and read it back: it must round-trip. */
static void roundtrip(const uint8_t *data, size_t size)
{
	size_t boxes = (size + VL_BOX_MAX_BODY - 1) / VL_BOX_MAX_BODY, off = 0, n = 0, wl = 0, got = 0;
	unsigned char *wire = malloc(size + (boxes + 1) * VL_BOX_HEADER);
	unsigned char tag[VL_BOX_TAG];
	vl_box enc = fx.box, dec = fx.box;
	int rc;

	check(wire != NULL);
	while (off < size) {
		n = size - off < VL_BOX_MAX_BODY ? size - off : VL_BOX_MAX_BODY;
		vl_box_seal(&enc, wire + wl, data + off, n);
		wl += VL_BOX_HEADER + n;
		off += n;
	}
	vl_box_goodbye(&enc, wire + wl);
	wl += VL_BOX_HEADER;
	check(read_stream(wire, wl, &got) == 1 && got == size);
	/* open each body in place and compare it with its slice of the input */
	off = 0;
	got = 0;
	for (;;) {
		rc = vl_box_open_header(&dec, &n, tag, wire + off);
		off += VL_BOX_HEADER;
		if (rc == 1)
			break;
		check(rc == 0 && got + n <= size);
		check(vl_box_open_body(&dec, wire + off, wire + off, n, tag) == 0);
		check(!memcmp(wire + off, data + got, n));
		off += n;
		got += n;
	}
	check(off == wl && got == size);
	vl_box_wipe(&enc);
	vl_box_wipe(&dec);
	free(wire);
}

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	size_t n;

	setup();
	return read_stream(data, size, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;

	setup();
	(void)read_stream(data, size, &n);
	if (size <= 3 * VL_BOX_MAX_BODY)
		roundtrip(data, size);
	return 0;
}
