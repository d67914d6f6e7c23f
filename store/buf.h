/*
 * buf.h - length-tracked, capped byte buffers.
 *
 * Invariants: ptr is NULL (empty, nothing allocated) or points to cap bytes
 * of which the first len are content and ptr[len] == '\0'. A buffer never
 * grows beyond `max` content bytes (0 means VL_BUF_DEFAULT_MAX); growing past
 * it fails with VL_ETOOBIG before allocating. Not thread safe per buffer.
 */
#ifndef VL_BUF_H
#define VL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include "store/error.h"

#define VL_BUF_DEFAULT_MAX ((size_t)256 << 20) /* 256 MiB */

typedef struct {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;
} vl_buf;

#define VL_BUF_INIT { NULL, 0, 0, 0 }

/* Make room for `extra` more bytes (plus the terminating NUL). */
int vl_buf_grow(vl_buf *b, size_t extra) VL_MUST_CHECK;
int vl_buf_put(vl_buf *b, const void *data, size_t len) VL_MUST_CHECK;
int vl_buf_puts(vl_buf *b, const char *s) VL_MUST_CHECK;
int vl_buf_putc(vl_buf *b, char c) VL_MUST_CHECK;
int vl_buf_printf(vl_buf *b, const char *fmt, ...) VL_PRINTF(2, 3) VL_MUST_CHECK;
/* Set len to 0, keep the allocation. */
void vl_buf_clear(vl_buf *b);
/* Free the memory; the buffer is VL_BUF_INIT afterwards (max is kept). */
void vl_buf_free(vl_buf *b);
/* Wipe the contents with sodium_memzero, then free (for secrets). */
void vl_buf_free_secure(vl_buf *b);
/* Take the string out; caller frees with free(). Returns "" (allocated) for
 * an empty buffer; NULL only on allocation failure. */
char *vl_buf_detach(vl_buf *b, size_t *len_out);
/* Read a whole file, failing with VL_ETOOBIG (before reading) if it is
 * larger than `max` bytes. VL_ENOTFOUND if it does not exist. */
int vl_buf_read_file(vl_buf *out, const char *path, size_t max) VL_MUST_CHECK;

/*
 * Files of a repository we do not trust (another node's repo.git on a USB
 * stick or share), where a FIFO or a device would block a plain open or
 * read, and a symbolic link could point anywhere. Messages name the file as
 * "'<path>' of the source".
 *
 * VL_REGULAR_MAY_BE_ABSENT: nothing at path (ENOENT, or ENOTDIR: a directory
 * on the way is not one) is VL_ENOTFOUND, with no message set, for a caller
 * to whom a missing file means something (no loose object, no packed-refs).
 * Without it a missing file is refused like any other that cannot be
 * opened: VL_EINVALID.
 */
#define VL_REGULAR_MAY_BE_ABSENT 1u

/*
 * Open the regular file at path read-only, non-blocking and without
 * following a final symbolic link, then check with fstat that it is a
 * regular file: a FIFO or device is refused, never waited on (O_NONBLOCK
 * stays set on the descriptor; reads of a regular file ignore it).
 * fd_out: the descriptor, the caller closes it. size_out: the file's size
 * when opened. Both set on success only.
 * flags: 0 or VL_REGULAR_MAY_BE_ABSENT (above). VL_EINVALID when it cannot
 * be opened (a symbolic link, no permission) or is not a regular file.
 */
int vl_open_regular(int *fd_out, uint64_t *size_out, const char *path, unsigned flags) VL_MUST_CHECK;

/*
 * Append the regular file at path (opened as vl_open_regular does) to out,
 * at most max bytes: VL_ETOOBIG over max, before reading. Exactly the size
 * fstat gave is read (a file growing meanwhile is not read past it):
 * VL_EINVALID when the file ends sooner or a read fails. On error out's
 * content is as it was (its allocation may have grown).
 * flags and the other codes: vl_open_regular's.
 */
int vl_buf_read_regular(vl_buf *out, const char *path, size_t max, unsigned flags) VL_MUST_CHECK;

/* Room for n + 1 elements of `size` bytes in the array *p of capacity *cap
 * (doubled, from 16): VL_ENOMEM (nothing changed) when realloc fails or the
 * size would overflow. */
int vl_array_grow(void **p, size_t *cap, size_t n, size_t size) VL_MUST_CHECK;
/* Write atomically: temp file in the same directory, fsync, rename, fsync dir. */
int vl_buf_write_file(const char *path, const void *data, size_t len, int mode) VL_MUST_CHECK;

#endif
