/*
 * fuzz_aggcache.c - libFuzzer target for the aggregate cache reader
 * (agent/ops/aggregate.h, vl_agg_cache_parse): the file sits in cache/,
 * derived data that any bit flip or hand edit must turn into "ignore the
 * cache", never into a crash or a figure. Checks that every entry handed
 * out is within the caps.
 * Seeds: corpus/aggcache/ (accept-* must parse, reject-* must not; made by
 * corpus/aggcache/make-seeds.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "agent/ops/aggregate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

static int entry(void *ctx, const git_oid *tree, const unsigned char digest[16], const long long *vals, size_t n)
{
	(void)ctx;
	(void)tree;
	(void)digest;
	if (n > VL_AGG_CACHE_MAX_FIGURES || (n && !vals))
		abort();
	return 0;
}

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	return vl_agg_cache_parse((const char *)data, size, entry, NULL) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return vl_agg_cache_parse((const char *)data, size, entry, NULL) < -1000; /* always 0 */
}
