/*
 * fuzz_seal.c - libFuzzer target for the sealed stream reader
 * (agent/sync/seal.h): the input is read as a sealed stream with TV1's key
 * (the recipient of the test vector, docs/formats.md §8.1). Besides "no
 * crash, no leak": a stream is accepted only whole (its header parses, it
 * is sealed to TV1's key); what a reader returned before a failure is never
 * more than the input. Seeds: corpus/seal/ (accept-* / reject-*).
 */
#define _GNU_SOURCE /* fmemopen */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sync/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

static vl_key tv1;

static void check(int ok)
{
	if (!ok)
		abort();
}

static void setup(void)
{
	static int ready;
	unsigned char seed[32];
	int i;

	if (ready)
		return;
	for (i = 0; i < 32; i++)
		seed[i] = (unsigned char)i;
	if (vl_crypto_init() < 0 || vl_key_from_seed(&tv1, seed) < 0)
		abort();
	ready = 1;
}

/* 0 when the whole stream opened and authenticated; plain gets its text. */
static int unseal(vl_buf *plain, const uint8_t *data, size_t size)
{
	vl_seal_reader *r = NULL;
	FILE *f;
	int rc, done = 0;

	if (size == 0)
		return VL_EINVALID;
	if (!(f = fmemopen((void *)data, size, "rb")))
		abort();
	rc = vl_seal_reader_open(&r, f, &tv1);
	while (rc == 0 && !done)
		rc = vl_seal_read(r, plain, &done);
	vl_seal_reader_free(r);
	fclose(f);
	return rc;
}

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	vl_buf plain = VL_BUF_INIT;
	int rc;

	setup();
	rc = unseal(&plain, data, size);
	vl_buf_free(&plain);
	return rc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vl_buf plain = VL_BUF_INIT;
	char fp[VL_FP_LEN], mine[VL_FP_LEN];
	size_t hlen = 0;
	int rc;

	setup();
	rc = unseal(&plain, data, size);
	check(plain.len <= size);
	if (rc == 0) {
		check(vl_seal_header_parse(fp, &hlen, data, size) == 0);
		vl_fingerprint(mine, tv1.pk);
		check(!strcmp(fp, mine));
	}
	vl_buf_free(&plain);
	return 0;
}
