/*
 * record.h - one ledger record: the canonical signed YAML file of docs/formats.md §4.
 *
 *   schema, id, scope, clock, author, prev, data, [deleted], [conflicts], sig
 *
 * A record file is accepted only when it is byte-identical to the canonical
 * re-emission of what it parses to, so one record has exactly one encoding.
 * `sig` is an SSHSIG blob (namespace "vledger-record"), base64 on one line,
 * over the bytes of the file before the `sig:` line. Merged records have
 * author "merge" and no sig. Schema validation of `data` is the caller's
 * (schemas/), because a record does not know its schema's rules.
 * Not thread safe per record.
 */
#ifndef VL_RECORD_H
#define VL_RECORD_H

#include <stddef.h>
#include "store/buf.h"
#include "store/hlc.h"
#include "store/sshsig.h"
#include "store/ulid.h"
#include "store/value.h"

#define VL_OID_HEX 40
#define VL_AUTHOR_MERGE "merge"

typedef struct {
	char *schema;                     /* ledger name [a-z][a-z0-9_]{0,31} */
	char id[VL_ULID_LEN + 1];
	char scope[13];                   /* 12-digit division code */
	char clock[VL_HLC_TEXT_LEN + 1];
	char author[VL_FP_LEN];           /* fingerprint, or "merge" */
	char (*prev)[VL_OID_HEX + 1];     /* blob ids of replaced versions */
	size_t nprev;
	vl_value *data;                   /* MAP, owned */
	int deleted;
	vl_value *conflicts;              /* MAP or NULL, owned */
	char *sig;                        /* base64 SSHSIG blob, or NULL */
} vl_record;

/* A new empty record (data = {}); caller frees with vl_record_free. */
int vl_record_new(vl_record **out, const char *schema, const char *id, const char *scope) VL_MUST_CHECK;
void vl_record_free(vl_record *r);

/*
 * Parse a record file strictly: size cap before anything else (64 KiB),
 * YAML caps and rejections (yaml.h), exact top-level keys in order, each
 * with its type (id a ULID, scope 12 digits, clock an HLC, author a
 * fingerprint or "merge", prev 0-2 lowercase 40-hex ids sorted when 2,
 * data a map, deleted only `true`, sig present unless author is "merge"),
 * and the file must be byte for byte its re-emission (proven by
 * vl_yaml_load_exact while reading, else emitted and compared). Does not
 * verify the signature.
 * VL_ETOOBIG / VL_EINVALID with "src: what" messages.
 */
int vl_record_parse(vl_record **out, const char *buf, size_t len, const char *src) VL_MUST_CHECK;

/* Append the canonical file; with_sig = 0 stops before the sig line (the
 * bytes that are signed). */
int vl_record_emit(vl_buf *out, const vl_record *r, int with_sig) VL_MUST_CHECK;

/* Set author to k's fingerprint, sign, set sig, and append the final file to
 * out (when not NULL). */
int vl_record_sign(vl_record *r, const vl_key *k, vl_buf *out) VL_MUST_CHECK;

/*
 * Verify the signature of a record file that vl_record_parse accepted as r:
 * the signed bytes are raw up to the start of the "sig:" line; the signer's
 * key must hash to r->author. pk_out (optional) receives the key.
 * VL_EBADSIG on failure (also for merge records, which carry no sig).
 */
int vl_record_verify(const vl_record *r, const char *raw, size_t len,
		unsigned char pk_out[32]) VL_MUST_CHECK;

/* "<schema>/<last char of id>/<id>.yaml" into out. */
int vl_record_path(vl_buf *out, const char *schema, const char *id) VL_MUST_CHECK;

/* 1 if s is a valid ledger name. */
int vl_ledger_name_valid(const char *s);

#endif
