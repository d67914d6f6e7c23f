/*
 * bench.h - the benchmark of bench/README.md: shared pieces of vl_bench.
 *
 * bench_gen.c makes synthetic village data (no real personal data: names
 * from a small character list, ID numbers with region 500243 and a correct
 * GB 11643 check digit, phones from a reserved-looking 1380000xxxx range);
 * bench.c runs the measurements. Single threaded.
 */
#ifndef VL_BENCH_H
#define VL_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* A village of the division table, found by code. */
typedef struct {
	char code[13];       /* 12-digit village code */
	char name[128];      /* "鼓楼社区居委会" */
	char short_name[128]; /* "鼓楼社区" (居委会/村委会 dropped, 村 kept) */
	char town[128];      /* name of the parent township */
} vlb_village;

/*
 * Name (and parent code, when parent is not NULL) of `code` in the divisions
 * CSV (code,name,level,parent_code); level, when not NULL, must match.
 * VL_ENOTFOUND if there is no such row.
 */
int vlb_division_find(char *name, size_t cap, char parent[13], const char *csv_path,
		const char *code, const char *level) VL_MUST_CHECK;

/*
 * Look up a village-level code in the divisions CSV (code,name,level,
 * parent_code). VL_ENOTFOUND if the code is absent or not a village.
 */
int vlb_village_load(vlb_village *out, const char *csv_path, const char *code) VL_MUST_CHECK;

/*
 * Append an import file for `vledger import resident --file` to out:
 * "records:" and n resident data mappings in the resident schema's field
 * order, deterministic for a given seed. Households of 1-5 people share a
 * household number, address and grid; ages, tags and sources follow rough
 * rural proportions.
 */
int vlb_gen_residents(vl_buf *out, const vlb_village *v, size_t n, uint64_t seed) VL_MUST_CHECK;

#endif
