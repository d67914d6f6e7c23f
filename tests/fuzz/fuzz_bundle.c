/*
 * fuzz_bundle.c - libFuzzer target for the bundle header parser
 * (agent/sync/bundle.h). Besides "no crash, no leak" it checks the
 * strictness promise: an accepted header re-serialises to exactly the bytes
 * it consumed, which end in the blank line. What follows an accepted header
 * goes through the pack check (vl_bundle_pack_check). Seeds: corpus/bundle/
 * (accept-* / reject-* carry their expectation).
 */
#define _GNU_SOURCE /* fmemopen */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sync/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	vl_bundle_header h;
	size_t consumed = 0;
	int rc = vl_bundle_header_parse(&h, &consumed, (const char *)data, size);

	vl_bundle_header_free(&h);
	return rc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	vl_bundle_header h;
	vl_buf again = VL_BUF_INIT;
	size_t consumed = 0, i;
	char hex[GIT_OID_HEXSZ + 1];

	if (!ready) {
		if (git_libgit2_init() < 0)
			abort();
		ready = 1;
	}
	if (vl_bundle_header_parse(&h, &consumed, (const char *)data, size) == 0) {
		check(consumed <= size && consumed >= 2 && data[consumed - 1] == '\n' && data[consumed - 2] == '\n');
		check(h.nrefs >= 1);
		check(vl_buf_puts(&again, VL_BUNDLE_SIGNATURE) == 0);
		for (i = 0; i < h.nprereqs; i++) {
			git_oid_tostr(hex, sizeof(hex), &h.prereqs[i].id);
			check(vl_buf_printf(&again, "-%s%s%s\n", hex, *h.prereqs[i].comment ? " " : "",
					h.prereqs[i].comment) == 0);
		}
		for (i = 0; i < h.nrefs; i++) {
			git_oid_tostr(hex, sizeof(hex), &h.refs[i].id);
			check(vl_buf_printf(&again, "%s %s\n", hex, h.refs[i].name) == 0);
		}
		check(vl_buf_putc(&again, '\n') == 0);
		/* A comment of only a space ("-<id> ") prints back without it. */
		check(again.len <= consumed && again.len + h.nprereqs >= consumed);
		if (again.len == consumed)
			check(memcmp(again.ptr, data, consumed) == 0);
		if (consumed < size) {
			FILE *f = fmemopen((void *)(data + consumed), size - consumed, "rb");
			size_t objects = 0;
			check(f != NULL);
			if (vl_bundle_pack_check(&objects, f) == 0)
				check(objects <= (size - consumed) / 2);
			fclose(f);
		}
	} else {
		check(h.nrefs == 0 && h.nprereqs == 0);
	}
	vl_bundle_header_free(&h);
	vl_buf_free(&again);
	return 0;
}
