/*
 * bundle.h - git bundles (v2, docs/formats.md §8.1): the file a USB stick
 * carries between nodes that share no network. Stock git reads and writes
 * the same format:
 *
 *   "# v2 git bundle\n"
 *   "-<40 hex>[ <comment>]\n"   a prerequisite: a commit the reader must hold
 *   "<40 hex> <refname>\n"      a ref the bundle carries
 *   "\n"
 *   <pack>                      the objects reachable from the refs and not
 *                               from the prerequisites (may be thin)
 *
 * optionally sealed to one recipient (agent/sync/seal.h). Reading a bundle
 * makes a source (agent/sync/source.h), so what it carries enters the node
 * only through vl_receive: the header is parsed under caps, the pack is
 * indexed with libgit2's indexer into a temporary directory under
 * <home>/cache (caps on bytes and objects; bases of a thin pack come from
 * the node's own objects) and offered read-only.
 */
#ifndef VL_BUNDLE_H
#define VL_BUNDLE_H

#include <stdio.h>
#include <git2.h>

#include "agent/node/node.h"
#include "agent/sync/source.h"
#include "store/buf.h"
#include "store/limits.h"

#define VL_BUNDLE_SIGNATURE "# v2 git bundle\n"

/* Caps on a bundle read (header bytes, one header line, refs and
 * prerequisites; pack bytes and objects). Kept here until store/limits.h
 * takes them (the lead merges limits.h). */
#define VL_BUNDLE_MAX_HEADER ((size_t)8 << 20)
#define VL_BUNDLE_MAX_LINE 1024
#define VL_BUNDLE_MAX_REFS 100000
#define VL_BUNDLE_MAX_PREREQS 100000
#define VL_BUNDLE_MAX_PACK ((size_t)2 << 30)
#define VL_BUNDLE_MAX_OBJECTS VL_RECEIVE_MAX_OBJECTS

typedef struct {
	char *name;            /* "refs/heads/config"; owned */
	git_oid id;
} vl_bundle_ref;

typedef struct {
	git_oid id;
	char *comment;         /* what the writer said it is (may be ""); owned */
} vl_bundle_prereq;

typedef struct {
	vl_bundle_ref *refs;
	size_t nrefs;
	vl_bundle_prereq *prereqs;
	size_t nprereqs;
} vl_bundle_header;

void vl_bundle_header_free(vl_bundle_header *h);

/*
 * Parse a bundle header at the start of data (len bytes): out gets its refs
 * and prerequisites, *consumed the bytes up to and including the blank line
 * (where the pack starts). Strict: the v2 signature line, then "-" lines,
 * then ref lines (a full name, "HEAD" or "refs/...", no name twice, no
 * control characters, ".." or "//"), each ending '\n', then one empty line;
 * lines of at most VL_BUNDLE_MAX_LINE bytes, at most VL_BUNDLE_MAX_REFS refs
 * and VL_BUNDLE_MAX_PREREQS prerequisites, at least one ref. VL_EINVALID
 * with the reason (a v3 bundle, a truncated header, a bad line);
 * VL_ETOOBIG over a cap. out is zeroed at entry and freed by the caller.
 */
int vl_bundle_header_parse(vl_bundle_header *out, size_t *consumed, const char *data, size_t len) VL_MUST_CHECK;

/*
 * Write a bundle to path (atomically: a temporary file in its directory,
 * fsynced, then linked into place; VL_EEXISTS when path exists) holding
 * refs h->refs of repo and the objects they reach that h->prereqs do not,
 * as a pack made by libgit2's packbuilder. seal_pk: seal it to that
 * ed25519 key (seal.h), NULL for a plain bundle. objects / bytes (either
 * may be NULL) get the objects packed and the file's size.
 */
int vl_bundle_write(size_t *objects, size_t *bytes, git_repository *repo, const vl_bundle_header *h,
		const char *path, const unsigned char *seal_pk) VL_MUST_CHECK;

/*
 * Is the file at path sealed? *sealed = 1 and fp the recipient when it is,
 * else *sealed = 0. VL_ENOTFOUND when there is no file, VL_EINVALID when it
 * is not a regular file or a malformed sealed header.
 */
int vl_bundle_peek(int *sealed, char fp[VL_FP_LEN], const char *path) VL_MUST_CHECK;

/*
 * Check the pack on f (from its current position to the end) from its
 * headers alone, before libgit2 inflates or applies anything: pack version
 * 2 or 3; at most VL_BUNDLE_MAX_OBJECTS objects; every object, and every
 * delta's base and result (from the delta's own header), at most
 * VL_SOURCE_MAX_OBJECT bytes, and all of them at most VL_RECEIVE_MAX_BYTES
 * (a delta or zlib bomb is refused, not allocated); each object's zlib data
 * inflating to exactly its declared size; the 20-byte trailer, then the end
 * of f. Ids, CRCs and the checksum are left to the indexer. objects (may be
 * NULL) gets the count. VL_EINVALID (truncated, corrupt) or VL_ETOOBIG.
 */
int vl_bundle_pack_check(size_t *objects, FILE *f) VL_MUST_CHECK;

/* What opening a bundle saw (for the report). Freed with
 * vl_bundle_info_free. */
typedef struct {
	int sealed;                /* it was sealed (to this node) */
	size_t refs, prereqs;
	size_t objects;            /* objects in its pack */
	vl_bundle_prereq *missing; /* prerequisites this node does not hold; owned */
	size_t nmissing;
} vl_bundle_info;

void vl_bundle_info_free(vl_bundle_info *info);

/*
 * Open the bundle at path as a source for vl_receive: a sealed one is
 * opened with n's secret key (VL_EDENIED without one or when it is sealed
 * to another key, saying to whom); the header is parsed; every
 * prerequisite must be an object n holds, else VL_ENOTFOUND with them in
 * info->missing and the message saying what to ask the sender for; the
 * pack is spooled to <home>/cache/bundle-XXXXXX, checked by
 * vl_bundle_pack_check, and indexed there (removed by vl_source_free). A truncated or tampered file is refused (VL_EBADSIG,
 * VL_EINVALID) before anything is offered. Nothing of n changes. info is
 * zeroed at entry; the caller frees it, also after a failure.
 */
int vl_source_open_bundle(vl_source **out, vl_bundle_info *info, vl_node *n, const char *path) VL_MUST_CHECK;

/* ---- shared with the network source (agent/net/proto.h) ------------------- */

/*
 * Insert into pb the commits of repo reachable from tips and not from hide
 * (every hide id must be a commit repo holds), with the trees and blobs
 * they reach that the trees of the hide commits do not: the pack of a
 * bundle or of one network chunk. Each tree and blob goes in under its name
 * so versions of one file find each other as deltas.
 */
int vl_pack_collect(git_packbuilder *pb, git_repository *repo, const git_oid *tips, size_t ntips,
		const git_oid *hide, size_t nhide) VL_MUST_CHECK;

/* Longest delta chain vl_pack_thin writes (git's pack.depth default). */
#define VL_PACK_DELTA_DEPTH 50

/*
 * The objects vl_pack_collect would insert, written by us as a thin pack
 * appended to out (no delta search over the whole set, which costs
 * libgit2's packbuilder ~0.6 s per 1,000 objects): commits oldest first;
 * each commit, tree and blob that is new at a path goes as a delta against
 * its version at that path in the commit's first parent: a REF_DELTA when
 * that version is in a hide commit's tree (the receiver holds it and
 * completes the pack from its own objects: the only REF_DELTA bases), an
 * OFS_DELTA when it is earlier in this pack; when the chain stays within
 * VL_PACK_DELTA_DEPTH and the delta is smaller; else whole. A
 * base is only ever an earlier version on the same branch: nothing of a
 * scope the receiver may not read. objects (may be NULL) gets the count,
 * deltas (may be NULL) how many went as deltas. On failure out is as before.
 */
int vl_pack_thin(vl_buf *out, size_t *objects, size_t *deltas, git_repository *repo, const git_oid *tips,
		size_t ntips, const git_oid *hide, size_t nhide) VL_MUST_CHECK;

/*
 * The pack spooled in pf (read from its start), checked from its headers
 * (vl_bundle_pack_check) and indexed by libgit2's indexer into directory
 * dir (the caller's temporary directory under <home>/cache, removed by the
 * caller). A thin pack is completed here: the REF_DELTA bases n holds are
 * appended whole (within VL_RECEIVE_MAX_BYTES with what the pack declares);
 * libgit2 is given no object database, as its own completion can loop
 * forever on a hostile pack. *out (caller frees) reads the pack, objects
 * (may be NULL) gets its count. VL_EINVALID (truncated, corrupt, tampered,
 * a base n lacks) or VL_ETOOBIG; nothing of n changes.
 */
int vl_pack_index_file(git_odb **out, size_t *objects, vl_node *n, const char *dir, FILE *pf) VL_MUST_CHECK;

#endif
