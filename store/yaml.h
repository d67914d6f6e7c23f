/*
 * yaml.h - the strict YAML loader, the canonical emitter, and JSON output.
 *
 * The loader drives libyaml's event parser itself so that it can stop at the
 * caps below before libyaml spends quadratic time on deep nesting
 * (docs/threats.md). It rejects, with "src:line:col: what" messages:
 * input over max_bytes (checked before parsing), nesting deeper than
 * max_depth, more than max_nodes nodes, anchors, aliases, explicit tags,
 * more than one document, duplicate keys, non-scalar keys, invalid UTF-8,
 * NUL bytes, and a byte order mark.
 *
 * Plain scalars resolve as: INT `-?(0|[1-9][0-9]*)` (fits in int64), DEC
 * `-?(0|[1-9][0-9]*)\.[0-9]+`, BOOL `true|false`, NULL `null|~` or empty;
 * any other plain scalar, and every quoted or block scalar, is a STR.
 *
 * The canonical emitter (used for records; docs/formats.md §4) writes:
 * - block mappings, keys in map order, two-space indentation, LF endings;
 * - a list whose items are all scalars as a flow sequence `[a, "b"]`
 *   (`[]` when empty); `{}` for an empty map;
 * - a list containing maps as a block sequence; an item that is a map of
 *   scalars only and whose flow form `{k: v, ...}` is at most 100 bytes is
 *   written in flow style, any other item in block style;
 * - INT/DEC/BOOL/NULL plain; a STR plain only when it is "safe": non-empty,
 *   every character an ASCII letter, digit, '_', '-', '.', or a code point
 *   in U+3000..U+D7FF or U+F900..U+FFEF except U+FEFF; first character an
 *   ASCII letter or such a code point; and not, case-insensitively, one of
 *   y n yes no true false on off null. Every other STR double-quoted, escaping
 *   only `"` `\` and control characters (\n \t \r and \xXX / \uXXXX).
 * - map keys follow the same rule as STR values.
 * A document emitted and loaded back gives an equal tree, and emitting that
 * again gives the same bytes.
 */
#ifndef VL_YAML_H
#define VL_YAML_H

#include <stddef.h>
#include "store/limits.h"
#include "store/buf.h"
#include "store/value.h"


typedef struct {
	size_t max_bytes; /* whole input */
	int max_depth;    /* collections nested; the top map is depth 1 */
	size_t max_nodes; /* scalars + collections (keys count) */
} vl_yaml_limits;

/* The record caps of docs/formats.md §4. */
extern const vl_yaml_limits vl_yaml_record_limits;
/* Caps for schema files and CLI input files: 256 KiB, depth 16, 20,000 nodes. */
extern const vl_yaml_limits vl_yaml_file_limits;

/*
 * Load one YAML document whose top level is a mapping. A document in the
 * canonical layout (what vl_yaml_emit writes) is read without libyaml, with
 * the same result (vl_yaml_load_canonical).
 *
 * out   receives the tree; caller frees with vl_value_free. NULL on failure.
 * src   names the input in messages ("resident/k/01h....yaml", a path).
 * Errors: VL_ETOOBIG (a cap), VL_EINVALID (anything else wrong with the
 * input); the message is "src:line:col: what" and never quotes scalar values
 * (they may be personal data).
 */
int vl_yaml_load(vl_value **out, const char *buf, size_t len,
		const vl_yaml_limits *lim, const char *src) VL_MUST_CHECK;

/* vl_yaml_load that also tells (canonical, may be NULL) whose tree it
 * returned: 1 the canonical reader's (its tree re-emitted byte for byte as
 * buf), 0 libyaml's. A caller that keeps this for the same bytes may read
 * them again with vl_yaml_load_canonical alone (agent/node/confcache.h). */
int vl_yaml_load_how(vl_value **out, int *canonical, const char *buf, size_t len,
		const vl_yaml_limits *lim, const char *src) VL_MUST_CHECK;

/* vl_yaml_load without its first try, the canonical reader below: libyaml
 * only. For tests that check the one against the other. */
int vl_yaml_load_libyaml(vl_value **out, const char *buf, size_t len,
		const vl_yaml_limits *lim, const char *src) VL_MUST_CHECK;

/*
 * Read a document in exactly the layout vl_yaml_emit writes, without
 * libyaml (records are read millions of times by a county's verify).
 * On success *out is the tree vl_yaml_load gives for buf, source positions
 * included, PROVIDED the caller then checks that emitting the tree gives
 * buf back byte for byte: this reader does not decide whether a scalar's
 * form is the canonical one (quoted or plain), the comparison does. With
 * that check it accepts nothing vl_yaml_load refuses under the same
 * limits (lim; NULL = the record limits): those are applied as it does.
 * Anything outside the layout fails with VL_EINVALID and a message without
 * a position: load with vl_yaml_load then, which says what is wrong.
 * VL_ENOMEM is out of memory. Caller frees *out with vl_value_free.
 */
int vl_yaml_load_canonical(vl_value **out, const char *buf, size_t len,
		const vl_yaml_limits *lim) VL_MUST_CHECK;

/*
 * vl_yaml_load_canonical that also makes the caller's check itself: it
 * succeeds only when vl_yaml_emit of *out gives buf back byte for byte
 * (each scalar plain or quoted, and each escape, as the emitter writes
 * it; a list of scalars in flow style; a map item of a sequence in flow
 * style exactly when the emitter uses it), so success is the proof of the
 * canonical form without emitting (tests/test_yaml.c and fuzz_yaml check
 * it against the emitter). It may refuse a canonical document (a
 * vl_yaml_load_canonical + emit + compare then decides); it never accepts
 * one that is not. Same errors, same tree, same ownership as
 * vl_yaml_load_canonical.
 */
int vl_yaml_load_exact(vl_value **out, const char *buf, size_t len,
		const vl_yaml_limits *lim) VL_MUST_CHECK;

/* Append the canonical form of `map` (a VL_V_MAP) to out. */
int vl_yaml_emit(vl_buf *out, const vl_value *map) VL_MUST_CHECK;

/* Append one scalar in canonical form (plain or double-quoted) to out. */
int vl_yaml_emit_scalar(vl_buf *out, const vl_value *scalar) VL_MUST_CHECK;

/* Append `v` as JSON (UTF-8, INT/DEC as numbers, BOOL/NULL as literals).
 * indent 0 = one line; >0 = pretty with that many spaces. */
int vl_json_emit(vl_buf *out, const vl_value *v, int indent) VL_MUST_CHECK;
/* Append a JSON string literal with escapes. */
int vl_json_str(vl_buf *out, const char *s, size_t len) VL_MUST_CHECK;

/* 1 if s[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF)
 * with no NUL and no code point NFC would change among those vledger can
 * detect without tables (combining marks U+0300-036F, U+1AB0-1AFF,
 * U+1DC0-1DFF, U+20D0-20FF, U+FE20-FE2F; CJK compatibility ideographs
 * U+F900-FAFF, U+2F800-2FA1F); 0 otherwise. */
int vl_utf8_valid_nfc(const char *s, size_t len);

#endif
