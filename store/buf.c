/* buf.c - length-tracked capped buffers and whole-file I/O (see buf.h). */
#include "store/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t buf_max(const vl_buf *b)
{
	return b->max ? b->max : VL_BUF_DEFAULT_MAX;
}

int vl_buf_grow(vl_buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > buf_max(b) || b->len > buf_max(b) - extra)
		return vl_error_set(VL_ETOOBIG, "buffer would exceed its cap of %zu bytes", buf_max(b));
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	p = realloc(b->ptr, ncap);
	if (!p)
		return vl_error_set(VL_ENOMEM, "out of memory growing a buffer to %zu bytes", ncap);
	b->ptr = p;
	b->cap = ncap;
	return 0;
}

int vl_buf_put(vl_buf *b, const void *data, size_t len)
{
	int rc = vl_buf_grow(b, len);

	if (rc < 0)
		return rc;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int vl_buf_puts(vl_buf *b, const char *s) { return vl_buf_put(b, s, strlen(s)); }
int vl_buf_putc(vl_buf *b, char c) { return vl_buf_put(b, &c, 1); }

int vl_buf_printf(vl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return vl_error_set(VL_ERROR, "format error");
	if ((rc = vl_buf_grow(b, (size_t)n)) < 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void vl_buf_clear(vl_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void vl_buf_free(vl_buf *b)
{
	size_t max = b->max;

	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void vl_buf_free_secure(vl_buf *b)
{
	if (b->ptr)
		sodium_memzero(b->ptr, b->cap);
	vl_buf_free(b);
}

char *vl_buf_detach(vl_buf *b, size_t *len_out)
{
	char *p = b->ptr;
	size_t len = b->len;

	if (!p) {
		p = calloc(1, 1);
		len = 0;
	}
	b->ptr = NULL;
	b->len = b->cap = 0;
	if (len_out)
		*len_out = len;
	return p;
}

int vl_buf_read_file(vl_buf *out, const char *path, size_t max)
{
	struct stat st;
	int fd, rc = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return vl_error_set(VL_ENOTFOUND, "'%s' does not exist", path);
		return vl_error_set(VL_ERROR, "cannot open '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		rc = vl_error_set(VL_ETOOBIG, "'%s' is %lld bytes, over the limit of %zu",
				path, (long long)st.st_size, max);
		goto out;
	}
	for (;;) {
		if ((rc = vl_buf_grow(out, 65536)) < 0)
			goto out;
		n = read(fd, out->ptr + out->len, 65536);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = vl_error_set(VL_ERROR, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->ptr[out->len] = '\0';
		if (out->len > max) {
			rc = vl_error_set(VL_ETOOBIG, "'%s' is over the limit of %zu bytes", path, max);
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

int vl_open_regular(int *fd_out, uint64_t *size_out, const char *path, unsigned flags)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (flags & VL_REGULAR_MAY_BE_ABSENT) && (errno == ENOENT || errno == ENOTDIR))
		return VL_ENOTFOUND;
	if (fd < 0)
		return vl_error_set(VL_EINVALID, "cannot open '%s' of the source (%s); it must be a regular file",
				path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return vl_error_set(VL_EINVALID, "'%s' of the source is not a regular file; refusing to read it",
				path);
	}
	*fd_out = fd;
	*size_out = (uint64_t)st.st_size;
	return 0;
}

int vl_buf_read_regular(vl_buf *out, const char *path, size_t max, unsigned flags)
{
	size_t start = out->len, size;
	uint64_t len = 0;
	ssize_t got;
	int fd = -1, rc;

	if ((rc = vl_open_regular(&fd, &len, path, flags)) < 0)
		return rc;
	if (len > max) {
		rc = vl_error_set(VL_ETOOBIG, "'%s' of the source is %lld bytes, over the limit of %zu", path,
				(long long)len, max);
		goto out;
	}
	size = (size_t)len;
	if ((rc = vl_buf_grow(out, size)) < 0)
		goto out;
	while (out->len - start < size) {
		got = read(fd, out->ptr + out->len, size - (out->len - start));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			rc = vl_error_set(VL_EINVALID, "'%s' of the source is truncated or cannot be read", path);
			goto out;
		}
		out->len += (size_t)got;
	}
	rc = 0;
out:
	if (rc < 0)
		out->len = start;
	if (out->ptr)
		out->ptr[out->len] = '\0';
	close(fd);
	return rc;
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return vl_error_set(VL_ENOMEM, "out of memory");
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) < 0 && errno != EINVAL)
			rc = vl_error_set(VL_ERROR, "cannot fsync directory of '%s': %s", path, strerror(errno));
		close(fd);
	}
	free(copy);
	return rc;
}

int vl_buf_write_file(const char *path, const void *data, size_t len, int mode)
{
	vl_buf tmp = VL_BUF_INIT;
	const char *p = data;
	int fd = -1, rc;
	ssize_t n;

	if ((rc = vl_buf_printf(&tmp, "%s.tmpXXXXXX", path)) < 0)
		return rc;
	fd = mkstemp(tmp.ptr);
	if (fd < 0) {
		rc = vl_error_set(VL_ERROR, "cannot create a file beside '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, (mode_t)mode) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot chmod '%s': %s", tmp.ptr, strerror(errno));
		goto out;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = vl_error_set(VL_ERROR, "cannot write '%s': %s", path, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot fsync '%s': %s", path, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp.ptr, path) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot rename into '%s': %s", path, strerror(errno));
		goto out;
	}
	rc = fsync_dir_of(path);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp.ptr)
		unlink(tmp.ptr);
	vl_buf_free(&tmp);
	return rc;
}

int vl_array_grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *np;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap < *cap || (size && ncap > SIZE_MAX / size) || !(np = realloc(*p, ncap * size)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	*p = np;
	*cap = ncap;
	return 0;
}
