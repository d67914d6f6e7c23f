/*
 * divisions.h - the division table: 12-digit codes, names and levels of the
 * units a node aggregates (data/divisions/, data/README.md).
 *
 * The table is outside input (a file the user points at), so its parser
 * has caps and validates every row: the header `code,name,level,parent_code`,
 * codes valid by schemas/types.h, each level and parent agreeing with the
 * code, names valid UTF-8 without control characters, no duplicates.
 * Which file: opts path, else $VLEDGER_DIVISIONS, else <home>/divisions.csv,
 * else the project's data/divisions/pengshui_divisions.csv fixed at build
 * time (vl_divisions_default). A node that has none still aggregates, by
 * the codes of its branches, without names.
 */
#ifndef VL_DIVISIONS_H
#define VL_DIVISIONS_H

#include <stddef.h>
#include "schemas/types.h"
#include "store/error.h"

#define VL_DIVISIONS_MAX_BYTES (8u << 20)  /* file size */
#define VL_DIVISIONS_MAX_ROWS 200000
#define VL_DIVISIONS_MAX_NAME 200          /* bytes of a name */

typedef struct {
	char code[13];
	char parent[13];
	vl_div_level level;
	char *name;            /* owned */
} vl_division;

/* Invariant: d sorted by code, codes unique. */
typedef struct {
	vl_division *d;
	size_t n;
} vl_divisions;

#define VL_DIVISIONS_INIT { NULL, 0 }

/*
 * Parse a division table from buf (UTF-8, optional BOM, LF or CRLF).
 * VL_EINVALID naming src, the line and the problem; VL_ETOOBIG over the
 * caps. out (VL_DIVISIONS_INIT or freed) is set on success only; caller
 * frees with vl_divisions_free.
 */
int vl_divisions_parse(vl_divisions *out, const char *buf, size_t len, const char *src) VL_MUST_CHECK;

/*
 * Load the table a node uses (see above): path if not NULL, else the first
 * that exists of $VLEDGER_DIVISIONS, <home>/divisions.csv, the build-time
 * default. *found 0 (and out empty, return 0) when there is none; a file
 * named by path or $VLEDGER_DIVISIONS that cannot be read is an error.
 */
int vl_divisions_load(vl_divisions *out, int *found, const char *home, const char *path) VL_MUST_CHECK;

/* Row of code (borrowed), NULL if none. */
const vl_division *vl_divisions_find(const vl_divisions *t, const char *code);

void vl_divisions_free(vl_divisions *t);

#endif
