/*
 * fuzz_commit.c - libFuzzer target for the commit-object checks a receiver
 * runs on bytes from elsewhere (store/repo.h): vl_commit_check_canonical
 * (headers, the chain trailers and the Vledger-Operator trailer) and
 * vl_message_operator. Invariants (each violation aborts):
 * - a refusal is VL_EINVALID with a message;
 * - an object that passes has at most one exact "Vledger-Operator: " line,
 *   and vl_message_operator returns its value, which passes
 *   vl_operator_check and holds no control character.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/error.h"
#include "store/repo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz_commit: %s: %s\n", what, vl_error_last());
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = NULL, *op = NULL;
	const char *msg;
	int signed_, rc;
	size_t i;

	if (size == 0 || size > 64 * 1024)
		return 0;
	/* First byte: signed or not; the rest, NUL-terminated, the object. */
	signed_ = data[0] & 1;
	if (!(raw = malloc(size)))
		return 0;
	memcpy(raw, data + 1, size - 1);
	raw[size - 1] = '\0';
	rc = vl_commit_check_canonical(raw, size - 1, signed_);
	if (rc < 0 && (rc != VL_EINVALID || !vl_error_last() || !*vl_error_last()))
		die("refusal without VL_EINVALID and a message");
	msg = strstr(raw, "\n\n");
	if (vl_message_operator(&op, msg ? msg + 2 : raw) < 0)
		die("vl_message_operator failed");
	if (op) {
		if (vl_operator_check(op, strlen(op)) < 0)
			die("an operator that fails vl_operator_check was returned");
		for (i = 0; op[i]; i++)
			if ((unsigned char)op[i] < 0x20 || op[i] == 0x7f)
				die("a control character in an operator");
	}
	free(op);
	free(raw);
	return 0;
}
