/* looselist.c - our loose objects, listed once (looselist.h). */
#include "store/looselist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/buf.h"
#include "store/oidset.h"

typedef struct {
	git_odb_backend parent;
	git_odb_backend *inner; /* libgit2's loose backend: the reads */
	vl_oidset ids;
} looselist;

static int ll_exists(git_odb_backend *b, const git_oid *id)
{
	return vl_oidset_has(&((looselist *)b)->ids, id);
}

static int ll_read(void **data, size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
	looselist *l = (looselist *)b;

	if (!vl_oidset_has(&l->ids, id))
		return GIT_ENOTFOUND;
	return l->inner->read(data, len, type, l->inner, id);
}

static int ll_read_header(size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
	looselist *l = (looselist *)b;

	if (!vl_oidset_has(&l->ids, id))
		return GIT_ENOTFOUND;
	return l->inner->read_header(len, type, l->inner, id);
}

static void ll_free(git_odb_backend *b)
{
	looselist *l = (looselist *)b;

	if (!l)
		return;
	if (l->inner)
		l->inner->free(l->inner);
	vl_oidset_free(&l->ids);
	free(l);
}

/* A loose object's file name: 38 lowercase hex digits (libgit2 names them
 * so, and reads no other). */
static int is_name(const char *s)
{
	size_t i;

	for (i = 0; i < GIT_OID_HEXSZ - 2; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

/* Every objects/xx/<38 hex> into ids. */
static int list(vl_oidset *ids, const char *objects)
{
	vl_buf dir = VL_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	struct dirent *de;
	size_t base, n = 0;
	unsigned i;
	int rc;

	if ((rc = vl_buf_printf(&dir, "%s/", objects)) < 0)
		return rc;
	base = dir.len;
	for (i = 0; i < 256; i++) {
		DIR *d;
		dir.len = base;
		if ((rc = vl_buf_printf(&dir, "%02x", i)) < 0)
			break;
		if (!(d = opendir(dir.ptr))) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue; /* none with these first two digits */
			rc = vl_error_set(VL_ERROR, "cannot list '%s': %s", dir.ptr, strerror(errno));
			break;
		}
		for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
			git_oid id;
			if (!is_name(de->d_name))
				continue;
			memcpy(hex, dir.ptr + base, 2);
			memcpy(hex + 2, de->d_name, GIT_OID_HEXSZ - 2);
			hex[GIT_OID_HEXSZ] = '\0';
			if (++n > VL_LOOSELIST_MAX) {
				rc = vl_error_set(VL_ETOOBIG, "over %d loose objects", VL_LOOSELIST_MAX);
				break;
			}
			if (git_oid_fromstr(&id, hex) < 0 || (rc = vl_oidset_add(ids, &id)) < 0) {
				rc = rc < 0 ? rc : vl_error_set(VL_EINVALID, "'%s' is not an object id", hex);
				break;
			}
		}
		if (rc == 0 && errno != 0)
			rc = vl_error_set(VL_ERROR, "cannot list '%s': %s", dir.ptr, strerror(errno));
		closedir(d);
		if (rc < 0)
			break;
	}
	vl_buf_free(&dir);
	return rc;
}

int vl_looselist_backend(git_odb_backend **out, const char *objects_dir)
{
	looselist *l = calloc(1, sizeof(*l));
	int rc;

	*out = NULL;
	if (!l)
		return vl_error_set(VL_ENOMEM, "out of memory");
	if ((rc = git_odb_init_backend(&l->parent, GIT_ODB_BACKEND_VERSION)) < 0 ||
			(rc = git_odb_backend_loose(&l->inner, objects_dir, -1, 0, 0, 0)) < 0) {
		rc = vl_error_git(rc, "cannot read this node's loose objects");
		goto out;
	}
	if ((rc = list(&l->ids, objects_dir)) < 0)
		goto out;
	l->parent.read = ll_read;
	l->parent.read_header = ll_read_header;
	l->parent.exists = ll_exists;
	l->parent.free = ll_free;
	*out = &l->parent;
	l = NULL;
	rc = 0;
out:
	ll_free(l ? &l->parent : NULL);
	return rc;
}
