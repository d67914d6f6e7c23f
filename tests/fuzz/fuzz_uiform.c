/*
 * fuzz_uiform.c - libFuzzer target for the UI's urlencoded parser
 * (vl_ui_form_parse, agent/ui/parse.c): query strings and form bodies.
 * Besides "no crash, no leak": an accepted input gives at most
 * VL_UI_FIELDS_MAX pairs, every name and value NUL-free and no longer than
 * the input; a refused one leaves an empty form after vl_ui_form_free.
 * Seeds: corpus/uiform/ (accept-* must parse, reject-* must not).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ui/ui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	vl_ui_form f;
	int rc = vl_ui_form_parse(&f, (const char *)data, size);

	vl_ui_form_free(&f);
	return rc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vl_ui_form f;
	size_t i;

	if (vl_ui_form_parse(&f, (const char *)data, size) == 0) {
		if (f.n > VL_UI_FIELDS_MAX)
			abort();
		for (i = 0; i < f.n; i++)
			if (!f.names[i] || !f.values[i] || strlen(f.names[i]) > size || strlen(f.values[i]) > size)
				abort();
		if (f.n && vl_ui_form_get(&f, f.names[0]) != f.values[0])
			abort();
	}
	vl_ui_form_free(&f);
	if (f.n || f.names || f.values)
		abort();
	return 0;
}
