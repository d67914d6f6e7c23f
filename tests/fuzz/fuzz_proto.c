/*
 * fuzz_proto.c - libFuzzer target for the session protocol's message
 * parsers (agent/net/proto.h). The first input byte picks the message type
 * (its value modulo 5: REFS, HAVES, CHUNK header, HELLO, ACK), the rest is
 * the payload as a peer would send it. Besides "no crash, no leak": an
 * accepted refs list re-encodes to exactly the bytes it came from (the
 * parser is strict: one encoding per list), and every accepted list is
 * within its caps. Seeds: corpus/proto/ (accept-* / reject-*).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/net/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* 1 when the parser picked by data[0] accepts the rest. */
static int parse(const uint8_t *data, size_t size)
{
	const unsigned char *p = data + 1;
	size_t len = size - 1, n = 0;
	vl_proto_refs refs;
	vl_buf b = VL_BUF_INIT, text = VL_BUF_INIT;
	git_oid *ids = NULL;
	uint64_t packlen = 0;
	uint32_t u1 = 0, u2 = 0;
	int ok = 0, final = 0, mode = 0, status = 0;

	if (size == 0)
		return 0;
	memset(&refs, 0, sizeof(refs));
	switch (data[0] % 5) {
	case 0:
		if (vl_proto_refs_parse(&refs, p, len) == 0) {
			ok = 1;
			check(refs.n <= VL_PROTO_MAX_REFS);
			check(vl_proto_refs_encode(&b, &refs) == 0 && b.len == len && !memcmp(b.ptr, p, len));
		}
		break;
	case 1:
		if (vl_proto_haves_parse(&ids, &n, p, len) == 0) {
			ok = 1;
			check(n <= VL_PROTO_MAX_HAVES && len == 4 + n * 20);
		}
		break;
	case 2:
		if (vl_proto_chunk_parse(&final, &packlen, &refs, p, len) == 0) {
			ok = 1;
			check(packlen <= VL_NET_MAX_CHUNK_PACK && (final == 0 || final == 1));
			check(vl_proto_refs_get(&refs, "refs/heads/config") != NULL);
		}
		break;
	case 3:
		ok = vl_proto_hello_parse(&mode, p, len) == 0;
		break;
	default:
		if (vl_proto_ack_parse(&status, &u1, &u2, &text, p, len) == 0) {
			ok = 1;
			check(text.len <= VL_PROTO_MAX_TEXT);
		}
		break;
	}
	vl_proto_refs_free(&refs);
	vl_buf_free(&b);
	vl_buf_free(&text);
	free(ids);
	return ok;
}

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	return parse(data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)parse(data, size);
	return 0;
}
