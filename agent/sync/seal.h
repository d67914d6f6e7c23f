/*
 * seal.h - a stream sealed to one recipient's node key (docs/formats.md
 * §8.1, "Sealed bundles"): what `vledger bundle create --seal-to` writes, so
 * a lost USB stick leaks nothing and a township can carry a village's
 * bundle to the county without reading it.
 *
 *   "# vledger sealed v1\n"              clear header, line 1
 *   "to <fingerprint>\n"                 clear header, line 2: the recipient
 *   crypto_box_seal(key)                 80 bytes: a random 32-byte stream key
 *                                        sealed to the recipient's ed25519 key
 *                                        converted to X25519
 *   secretstream header                  24 bytes (xchacha20poly1305)
 *   chunks                               each: 4-byte big-endian length L,
 *                                        then L bytes of secretstream
 *                                        ciphertext (0..65536 bytes of plain
 *                                        text + 17; only the last may be
 *                                        short); the first chunk's
 *                                        additional data is the clear header;
 *                                        the last, and only the last, carries
 *                                        TAG_FINAL; nothing follows it
 *
 * A truncated stream lacks the final tag and is refused; a changed byte
 * fails a chunk's authentication; a stream sealed to another key is refused
 * naming the key it is for. Readers and writers work on stdio streams; one
 * thread per reader or writer.
 */
#ifndef VL_SEAL_H
#define VL_SEAL_H

#include <stdio.h>
#include <stddef.h>

#include "store/buf.h"
#include "store/sshsig.h"

#define VL_SEAL_MAGIC "# vledger sealed v1\n"
#define VL_SEAL_CHUNK 65536            /* plain text bytes per chunk, at most */
/* The clear header: magic, "to " + fingerprint + "\n". */
#define VL_SEAL_HEADER_MAX 128

/*
 * Parse the clear header at the start of data (len bytes, at least the
 * header): fp gets the recipient fingerprint, *hlen the header's length.
 * VL_ENOTFOUND when data does not start with VL_SEAL_MAGIC (not sealed);
 * VL_EINVALID when the header is malformed.
 */
int vl_seal_header_parse(char fp[VL_FP_LEN], size_t *hlen, const void *data, size_t len) VL_MUST_CHECK;

typedef struct vl_seal_writer vl_seal_writer;

/*
 * Start a sealed stream to the holder of ed25519 public key pk on f (the
 * clear header, the sealed key and the stream header are written now).
 * out: free with vl_seal_writer_free after vl_seal_writer_finish.
 */
int vl_seal_writer_open(vl_seal_writer **out, FILE *f, const unsigned char pk[32]) VL_MUST_CHECK;
int vl_seal_write(vl_seal_writer *w, const void *data, size_t len) VL_MUST_CHECK;
/* Write the last chunk (TAG_FINAL). The stream's bytes are all written to f
 * afterwards (the caller flushes and syncs f). */
int vl_seal_writer_finish(vl_seal_writer *w) VL_MUST_CHECK;
/* Wipes the stream key. NULL is fine. */
void vl_seal_writer_free(vl_seal_writer *w);

typedef struct vl_seal_reader vl_seal_reader;

/*
 * Open the sealed stream on f (positioned at its start) with the
 * recipient's key. VL_EDENIED when it is sealed to another key ("sealed to
 * '<fp>'", plus the roster name when the caller adds one); VL_EBADSIG when
 * the sealed key does not open (tampered, or not for this key after all);
 * VL_EINVALID when the header is malformed. out: free with
 * vl_seal_reader_free.
 */
int vl_seal_reader_open(vl_seal_reader **out, FILE *f, const vl_key *key) VL_MUST_CHECK;
/*
 * Append the next chunk's plain text (0..VL_SEAL_CHUNK bytes) to out;
 * *done = 1 when that was the final chunk, after which the stream must
 * end: bytes after it are VL_EBADSIG. VL_EBADSIG for a chunk that fails
 * authentication, is out of place, or is cut short (a truncated stream).
 * Nothing after a failure may be used.
 */
int vl_seal_read(vl_seal_reader *r, vl_buf *out, int *done) VL_MUST_CHECK;
void vl_seal_reader_free(vl_seal_reader *r);

#endif
