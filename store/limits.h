/*
 * limits.h - every hard cap on input from outside, in one place (STYLE.md:
 * "every input from outside has a hard cap fixed up front, returning
 * VL_ETOOBIG before allocating"). Records, YAML files, signatures, config
 * files, what a source offers and a receive takes, evidence, hook output,
 * imports, invitations and requests, audit reports. A cap is checked before
 * the input is read or inflated (object sizes from their headers).
 * Changing one changes what nodes accept from each other: caps on received
 * data must agree across a network.
 */
#ifndef VL_LIMITS_H
#define VL_LIMITS_H

#include <stddef.h>

/* ---- records and YAML (docs/formats.md §4) ------------------------------- */
#define VL_RECORD_MAX_BYTES ((size_t)64 * 1024)  /* one record file */
#define VL_YAML_MAX_DEPTH 16                     /* nesting of a record */
#define VL_YAML_MAX_NODES 1000                   /* nodes of a record */
#define VL_YAML_FILE_MAX_BYTES ((size_t)256 * 1024) /* another YAML file (schema, node.yaml) */
#define VL_YAML_FILE_MAX_NODES 20000

/* ---- signatures ---------------------------------------------------------- */
#define VL_SSHSIG_MAX_BLOB 1024                  /* one SSHSIG blob, decoded */

/* ---- the config branch (network.yaml, roster.yaml) ------------------------ */
#define VL_NETWORK_FILE_MAX ((size_t)256 * 1024)
#define VL_ROSTER_FILE_MAX ((size_t)4 << 20)     /* a large county's roster */
#define VL_ROSTER_MAX_NODES 1000000

/* ---- what one receive takes (all branches together; sync/receive.h) ------- */
#define VL_RECEIVE_MAX_OBJECTS 2000000
#define VL_RECEIVE_MAX_BYTES ((size_t)2 << 30)
/* A commit object: big enough for an import of 10,000 records' trailers. */
#define VL_RECEIVE_MAX_COMMIT ((size_t)4 << 20)
/* The config branch: one object, new commits. */
#define VL_CONFIG_MAX_OBJECT VL_ROSTER_FILE_MAX
#define VL_CONFIG_MAX_COMMITS 100000
/* Evidence: refs/evidence/ looked at, one evidence commit, commits one
 * piece of evidence may bring that the node does not hold, and bytes of
 * evidence in one receive. */
#define VL_EVIDENCE_MAX_REFS 10000
#define VL_EVIDENCE_MAX_COMMIT ((size_t)65536)
#define VL_EVIDENCE_MAX_COMMITS 64
#define VL_EVIDENCE_MAX_BYTES ((size_t)16 << 20)
/* One received tree or other non-blob object. */
#define VL_RECEIVE_MAX_TREE ((size_t)16 << 20)
/* A pack written by the node (merges, promoted quarantines). */
#define VL_PACK_MAX_OBJECTS 2000000

/* ---- the path source (sync/source.h): one loose object file, one inflated
 * object, the packed-refs file, refs in all ---------------------------------- */
#define VL_SOURCE_MAX_LOOSE ((size_t)32 << 20)
#define VL_SOURCE_MAX_OBJECT ((size_t)64 << 20)
#define VL_SOURCE_MAX_PACKED_REFS ((size_t)64 << 20)
#define VL_SOURCE_MAX_REFS 200000
/* One pack of a source (store/packread.h): objects its index may name (the
 * index is read whole: about 28 bytes an object), and the longest delta
 * chain (git's own pack-objects writes at most 4095). */
#define VL_SOURCE_MAX_PACK_OBJECTS ((size_t)4 << 20)
#define VL_SOURCE_MAX_DELTA_DEPTH 4095
#define VL_SOURCE_MAX_PACKS 1000              /* packs of one source */

/* ---- merge hooks (hooks/merge.h) ------------------------------------------ */
#define VL_HOOK_MAX_OUTPUT ((size_t)64 * 1024)

/* ---- files a person hands in ---------------------------------------------- */
/* An import file: records of VL_RECORD_MAX_BYTES at most each, 64 MiB in all. */
#define VL_IMPORT_MAX_BYTES ((size_t)64 << 20)
#define VL_IMPORT_BATCH_MAX 10000
/* A CSV import (agent/ops/csv.h): the file is capped as above; rows
 * (header included), columns of a row, bytes of one cell (a record's). */
#define VL_CSV_MAX_ROWS 200000
#define VL_CSV_MAX_COLUMNS 256
#define VL_CSV_MAX_CELL VL_RECORD_MAX_BYTES
/* An invitation token's text, checked before anything is decoded, and the
 * root keys it may carry. */
#define VL_INVITE_MAX_TEXT 2048
#define VL_INVITE_MAX_ROOTS 8
/* A key-rotation request; a request file of any kind (a join request is the
 * bigger one); the inviter's record of an invitation; a node.yaml. */
#define VL_ROTATE_REQUEST_MAX ((size_t)16 * 1024)
#define VL_REQUEST_FILE_MAX ((size_t)64 * 1024)
#define VL_INVITE_FILE_MAX ((size_t)64 * 1024)
#define VL_NODE_YAML_MAX ((size_t)64 * 1024)
#define VL_PUBKEY_FILE_MAX ((size_t)64 * 1024)

/* A hook program copied from the shipped hooks into a new node home. */
#define VL_HOOK_FILE_MAX ((size_t)1 << 20)

/* ---- reports -------------------------------------------------------------- */
/* Versions of one record, and versions collected for one audit report. */
#define VL_AUDIT_MAX_VERSIONS 100000
#define VL_AUDIT_MAX_COLLECT 2000000

#endif
