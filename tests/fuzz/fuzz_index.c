/*
 * fuzz_index.c - libFuzzer target for the record index file reader
 * (agent/node/idindex.h, vl_idindex_parse): the file sits in cache/ and is
 * read whole when the index is brought up to date. Besides "no crash, no
 * leak" it checks that whatever is accepted is in the one form the writer
 * makes: serializing it gives back exactly the input.
 * Seeds: corpus/index/ (accept-* must parse, reject-* must not; made by
 * corpus/index/make-seeds.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/node/idindex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	vl_idindex *x = NULL;
	int ok = vl_idindex_parse(&x, data, size) == 0;

	vl_idindex_free(x);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vl_idindex *x = NULL;
	vl_buf again = VL_BUF_INIT;

	if (vl_idindex_parse(&x, data, size) == 0) {
		if (vl_idindex_serialize(&again, x) != 0 || again.len != size || memcmp(again.ptr, data, size) != 0)
			abort();
	}
	vl_buf_free(&again);
	vl_idindex_free(x);
	return 0;
}
