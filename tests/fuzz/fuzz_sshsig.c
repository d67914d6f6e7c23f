/*
 * fuzz_sshsig.c - libFuzzer target for the SSHSIG and commit-signature
 * parsers (store/sshsig.h). The input is taken as a signature blob over a
 * fixed message, as armor, as base64, as a public key line and as a raw
 * commit. Besides "no crash, no leak" it checks the strictness promises:
 * whatever is accepted re-encodes to exactly the input.
 * Seeds: corpus/sshsig/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/sshsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* TV1's message: the TV1 blob seed verifies against it. */
static const char msg[] = "village: 17\nrecord: 1\n";

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Accepted armor is exactly vl_sshsig_armor's output (final "\n" optional). */
static void fuzz_armor(const char *in, size_t size)
{
	vl_buf blob = VL_BUF_INIT, again = VL_BUF_INIT;

	if (vl_sshsig_unarmor(&blob, in, size) == 0) {
		check(vl_sshsig_armor(&again, blob.ptr, blob.len) == 0);
		check(size == again.len || size + 1 == again.len);
		check(memcmp(again.ptr, in, size) == 0);
		if (vl_sshsig_verify(blob.ptr, blob.len, VL_NS_GIT, msg, sizeof(msg) - 1, NULL) == 0)
			check(blob.len == 173);
	}
	vl_buf_free(&blob);
	vl_buf_free(&again);
}

/* Accepted base64 re-encodes to the same text. */
static void fuzz_base64(const char *in, size_t size)
{
	vl_buf bin = VL_BUF_INIT, again = VL_BUF_INIT;

	if (vl_base64_decode(&bin, in, size) == 0) {
		check(vl_base64_encode(&again, bin.ptr, bin.len) == 0);
		check(again.len == size && memcmp(again.ptr, in, size) == 0);
	}
	vl_buf_free(&bin);
	vl_buf_free(&again);
}

/* A parsed public key formats back to the line's key part. */
static void fuzz_pubkey(const char *in, size_t size)
{
	vl_buf line = VL_BUF_INIT, again = VL_BUF_INIT;
	unsigned char pk[32];

	if (vl_buf_put(&line, in, size) == 0 && strlen(line.ptr) == size &&
			vl_pubkey_parse(pk, line.ptr) == 0) {
		check(vl_pubkey_format(&again, pk, NULL) == 0);
		check(again.len <= size && memcmp(again.ptr, in, again.len) == 0);
	}
	vl_buf_free(&line);
	vl_buf_free(&again);
}

/* Split removes exactly the gpgsig lines; verify implies split. */
static void fuzz_commit(const char *in, size_t size)
{
	vl_buf payload = VL_BUF_INIT, armor = VL_BUF_INIT;
	unsigned char pk[32];
	size_t i, cont = 0;
	int split = vl_commit_split(&payload, &armor, in, size);

	if (split == 0) {
		/* "gpgsig " + first line + "\n", then " " + line + "\n" each */
		for (i = 0; i < armor.len; i++)
			cont += armor.ptr[i] == '\n';
		check(payload.len + strlen("gpgsig ") + armor.len + 1 + cont == size);
	} else {
		check(payload.len == 0 && armor.len == 0);
	}
	if (vl_commit_verify(in, size, pk) == 0)
		check(split == 0);
	vl_buf_free(&payload);
	vl_buf_free(&armor);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const char *in = (const char *)data;
	unsigned char pk[32];

	if (!ready) {
		if (vl_crypto_init() < 0)
			abort();
		ready = 1;
	}
	if (vl_sshsig_verify(data, size, VL_NS_GIT, msg, sizeof(msg) - 1, pk) == 0)
		check(size == 173);
	fuzz_armor(in, size);
	fuzz_base64(in, size);
	fuzz_pubkey(in, size);
	fuzz_commit(in, size);
	return 0;
}
