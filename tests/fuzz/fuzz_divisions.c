/*
 * fuzz_divisions.c - libFuzzer target for the division table parser
 * (agent/node/divisions.h, vl_divisions_parse), a file the user points
 * aggregate and list at. Checks the table's invariant on what it accepts:
 * sorted by code, unique, every level and parent agreeing with the code.
 * Seeds: corpus/divisions/ (accept-* must parse, reject-* must not).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/node/divisions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

static int run(const uint8_t *data, size_t size)
{
	vl_divisions t = VL_DIVISIONS_INIT;
	size_t i;
	int ok = vl_divisions_parse(&t, (const char *)data, size, "fuzz") == 0;

	for (i = 0; ok && i < t.n; i++) {
		char parent[13];
		if ((i && strcmp(t.d[i - 1].code, t.d[i].code) >= 0) || t.d[i].level != vl_division_level(t.d[i].code) ||
				vl_division_parent(t.d[i].code, parent) != 0 || strcmp(parent, t.d[i].parent) != 0 ||
				vl_divisions_find(&t, t.d[i].code) != &t.d[i])
			abort();
	}
	vl_divisions_free(&t);
	return ok;
}

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	return run(data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)run(data, size);
	return 0;
}
