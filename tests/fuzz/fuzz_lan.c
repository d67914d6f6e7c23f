/*
 * fuzz_lan.c - libFuzzer target for the LAN announcement parser
 * (agent/net/lan.h). Besides "no crash": a datagram is accepted only when
 * it is exactly VL_LAN_DGRAM_LEN bytes, and an accepted one encodes back to
 * the same bytes (one encoding only). Seeds: corpus/lan/ (accept-* /
 * reject-*).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/net/lan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	vl_lan_announce a;

	return vl_lan_parse(&a, data, size) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char back[VL_LAN_DGRAM_LEN];
	vl_lan_announce a;

	if (vl_lan_parse(&a, data, size) == 0) {
		if (size != VL_LAN_DGRAM_LEN || a.port == 0)
			abort();
		vl_lan_encode(back, &a);
		if (memcmp(back, data, size) != 0)
			abort();
	}
	return 0;
}
