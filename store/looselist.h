/*
 * looselist.h - a repository's own loose objects, listed once, as an odb
 * backend.
 *
 * A receive asks "do we hold this?" of every object the source names, and
 * most answers are no (the object is new). libgit2's loose backend answers
 * each with an access() of objects/xx/yyyy: 5,000 of them for a day's
 * fetch, 4% of its CPU. This backend lists the objects/xx directories once
 * (256 readdirs) and answers "exists" from that list; reads of a listed id
 * go to libgit2's loose backend, ids not listed are GIT_ENOTFOUND.
 *
 * For our own objects directory only, while we hold the node's write lock:
 * nothing else adds loose objects then, and an object this process writes
 * loose later is not seen here (a reader of it must use another odb). A
 * wrong "no" costs a second copy of an object in a pack, never a wrong read.
 */
#ifndef VL_LOOSELIST_H
#define VL_LOOSELIST_H

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include "store/error.h"

/* Above this many loose objects the listing is not made (VL_ETOOBIG): the
 * caller uses libgit2's own loose backend (git gc --auto packs at 6,700). */
#define VL_LOOSELIST_MAX 200000

/*
 * The backend for objects_dir (".../repo.git/objects"), for
 * git_odb_add_backend / git_odb_add_alternate: exists, read and
 * read_header. VL_ETOOBIG over VL_LOOSELIST_MAX objects; VL_ERROR when a
 * directory cannot be listed whole (anything but "not there": a listing
 * with holes would hide objects we hold); VL_ENOMEM. The caller then uses
 * libgit2's own loose backend.
 * out: freed by the odb it is added to (or by out->free).
 */
int vl_looselist_backend(git_odb_backend **out, const char *objects_dir) VL_MUST_CHECK;

#endif
