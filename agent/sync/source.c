/* source.c - sources of received data (source.h): a repository on disk. */
#include <stdlib.h>
#include <string.h>

#include "agent/sync/source.h"
#include "store/buf.h"
#include "store/error.h"

struct vl_source {
	char *path;
	vl_buf label;
	git_repository *repo;
};

int vl_source_open_path(vl_source **out, const char *path)
{
	vl_source *s = NULL;
	int rc;

	*out = NULL;
	if (!strncmp(path, "file://", 7))
		path += 7;
	if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup(path))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = vl_buf_printf(&s->label, "'%s'", path)) < 0)
		goto out;
	if (git_repository_open_bare(&s->repo, path) < 0) {
		rc = vl_error_set(VL_ENOTFOUND, "'%s' is not a git repository (give a node's repo.git)", path);
		goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	vl_source_free(s);
	return rc;
}

void vl_source_free(vl_source *s)
{
	if (!s)
		return;
	git_repository_free(s->repo);
	vl_buf_free(&s->label);
	free(s->path);
	free(s);
}

git_repository *vl_source_repo(const vl_source *s)
{
	return s->repo;
}

const char *vl_source_label(const vl_source *s)
{
	return s->label.ptr;
}

const char *vl_source_path(const vl_source *s)
{
	return s->path;
}
