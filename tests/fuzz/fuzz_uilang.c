/*
 * fuzz_uilang.c - libFuzzer target for the UI's Accept-Language reader
 * (vl_ui_pick_lang, agent/ui/parse.c). The input is a header (up to the
 * first NUL). Besides "no crash": the answer is always "zh" or "en", and
 * "en" only when the header names English somewhere.
 * Seeds: corpus/uilang/.
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
	const char *l;
	size_t i;
	int has_en = 0;

	if (!h)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	l = vl_ui_pick_lang(h);
	for (i = 0; h[i] && h[i + 1]; i++)
		if ((h[i] == 'e' || h[i] == 'E') && (h[i + 1] == 'n' || h[i + 1] == 'N'))
			has_en = 1;
	if (strcmp(l, "zh") && strcmp(l, "en"))
		abort();
	if (!strcmp(l, "en") && !has_en)
		abort();
	free(h);
	return 0;
}
