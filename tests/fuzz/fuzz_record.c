/*
 * fuzz_record.c - libFuzzer target for record files (vl_record_parse).
 *
 * Properties: never crash or leak; a record that parses re-emits to exactly
 * the input (one encoding per record); signature verification of whatever
 * parsed never crashes.
 *
 * For the corpus replayer (replay.c), vl_fuzz_accepts says whether an input
 * parses: seeds named reject-* must not (non-canonical variants of good
 * records, so that the replay catches a loosened canonical check), seeds
 * named accept-* must.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	vl_record *r = NULL;

	if (vl_crypto_init() < 0)
		abort();
	if (vl_record_parse(&r, (const char *)data, size, "fuzz") < 0)
		return 0;
	vl_record_free(r);
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vl_record *r = NULL;
	vl_buf again = VL_BUF_INIT;
	unsigned char pk[32];

	if (vl_crypto_init() < 0)
		abort();
	if (vl_record_parse(&r, (const char *)data, size, "fuzz") < 0)
		return 0;
	if (vl_record_emit(&again, r, 1) < 0 || again.len != size || memcmp(again.ptr, data, size) != 0)
		abort();
	if (r->sig)
		(void)!vl_record_verify(r, (const char *)data, size, pk);
	vl_buf_free(&again);
	vl_record_free(r);
	return 0;
}
