/* ulid.c - lowercase ULIDs (see ulid.h). */
#include "store/ulid.h"

#include <sodium.h>
#include <string.h>

static const char crockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

void vl_ulid_new(char out[VL_ULID_LEN + 1], uint64_t ms)
{
	unsigned char rnd[10];
	int i, bit;

	ms &= (UINT64_C(1) << 48) - 1;
	for (i = 9; i >= 0; i--) {
		out[i] = crockford[ms & 31];
		ms >>= 5;
	}
	randombytes_buf(rnd, sizeof(rnd));
	/* 80 random bits -> 16 characters, most significant first. */
	for (i = 0; i < 16; i++) {
		int v = 0, b;
		for (b = 0; b < 5; b++) {
			bit = i * 5 + b;
			v = (v << 1) | ((rnd[bit / 8] >> (7 - bit % 8)) & 1);
		}
		out[10 + i] = crockford[v];
	}
	out[VL_ULID_LEN] = '\0';
	sodium_memzero(rnd, sizeof(rnd));
}

int vl_ulid_valid(const char *s)
{
	size_t i;

	if (!s || strlen(s) != VL_ULID_LEN || s[0] > '7')
		return 0;
	for (i = 0; i < VL_ULID_LEN; i++)
		if (!s[i] || !strchr(crockford, s[i]))
			return 0;
	return 1;
}

uint64_t vl_ulid_time(const char *id)
{
	uint64_t ms = 0;
	int i;

	for (i = 0; i < 10; i++)
		ms = (ms << 5) | (uint64_t)(strchr(crockford, id[i]) - crockford);
	return ms;
}
