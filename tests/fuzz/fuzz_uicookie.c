/*
 * fuzz_uicookie.c - libFuzzer target for the UI's Cookie header reader
 * (vl_ui_cookie_find, agent/ui/parse.c). The input is a header (up to the
 * first NUL); the cookie looked up is "vledger_8080". Besides "no crash":
 * a value found lies inside the header and follows "vledger_8080=".
 * Seeds: corpus/uicookie/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ui/ui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = malloc(size + 1);
	const char *v;
	size_t len = 0, hl;

	if (!h)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	hl = strlen(h);
	v = vl_ui_cookie_find(h, "vledger_8080", &len);
	if (v) {
		if (v < h + 13 || v + len > h + hl || memcmp(v - 13, "vledger_8080=", 13))
			abort();
	}
	free(h);
	return 0;
}
