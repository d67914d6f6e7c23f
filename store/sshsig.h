/*
 * sshsig.h - ed25519 node keys, OpenSSH public keys and fingerprints, SSHSIG
 * signatures (records and commits), and the strict parser of git commit
 * signature headers. Byte-level facts: docs/formats.md §5.
 *
 * One module signs and verifies both records (namespace "vledger-record") and
 * commits (namespace "git"). Verification accepts exactly one encoding: the
 * blob is re-encoded canonically and compared, so the malleable variants
 * (non-empty reserved field, other base64 wrapping, S+L, an extra " \n" line,
 * a second gpgsig header, gpgsig-sha256) are all rejected with VL_EBADSIG.
 * Thread safe once sodium_init() has run (vl_crypto_init).
 */
#ifndef VL_SSHSIG_H
#define VL_SSHSIG_H

#include <stddef.h>
#include "store/limits.h"
#include "store/buf.h"

#define VL_NS_RECORD "vledger-record"
#define VL_NS_GIT "git"
#define VL_FP_LEN 51 /* "SHA256:" + 43 base64 chars + NUL */
/* Biggest signature blob/armor we ever accept (an ed25519 one is 173+ns). */

/* A node key. sk is libsodium's seed||pk. Wipe with vl_key_wipe. */
typedef struct {
	unsigned char pk[32];
	unsigned char sk[64];
} vl_key;

/* sodium_init(); safe to call many times. VL_ERROR if libsodium fails. */
int vl_crypto_init(void) VL_MUST_CHECK;

int vl_key_generate(vl_key *out) VL_MUST_CHECK;
int vl_key_from_seed(vl_key *out, const unsigned char seed[32]) VL_MUST_CHECK;
void vl_key_wipe(vl_key *k);

/*
 * Write the secret key to `path` with mode 0600 (atomic replace).
 * Without a passphrase the file is "vledger-key-v1 plain <base64 seed>\n".
 * With one (not NULL/empty) it is sealed: crypto_pwhash (argon2id13,
 * OPSLIMIT_MODERATE / MEMLIMIT_MODERATE) derives a key that secretbox-encrypts
 * the seed: "vledger-key-v1 sealed <b64 salt> <b64 nonce> <b64 box>\n".
 */
int vl_key_save(const vl_key *k, const char *path, const char *passphrase) VL_MUST_CHECK;
/*
 * Load a key written by vl_key_save. VL_EDENIED when the file is sealed and
 * no passphrase was given, or the passphrase is wrong; VL_EINVALID for a
 * malformed file; VL_ENOTFOUND if absent. A file readable by group/other is
 * refused with VL_EDENIED ("chmod 600 it").
 */
int vl_key_load(vl_key *out, const char *path, const char *passphrase) VL_MUST_CHECK;
/* 1 if the key file at path is sealed, 0 if plain, <0 on error. */
int vl_key_is_sealed(const char *path);

/* Append "ssh-ed25519 <base64 blob>" and, if comment, " comment". */
int vl_pubkey_format(vl_buf *out, const unsigned char pk[32], const char *comment) VL_MUST_CHECK;
/* Parse "ssh-ed25519 <base64> [comment]"; strict: the blob must be exactly
 * the 51-byte canonical one. VL_EINVALID otherwise. */
int vl_pubkey_parse(unsigned char pk[32], const char *line) VL_MUST_CHECK;
/* "SHA256:" + unpadded base64 of SHA-256 of the public key blob. */
void vl_fingerprint(char out[VL_FP_LEN], const unsigned char pk[32]);

/* Append the raw SSHSIG blob (not armored) of msg to out. */
int vl_sshsig_sign(vl_buf *out, const vl_key *k, const char *ns,
		const void *msg, size_t len) VL_MUST_CHECK;
/*
 * Verify a raw SSHSIG blob over msg for namespace ns. On success copies the
 * signer's public key to pk_out (if not NULL). The blob must be the canonical
 * encoding (version 1, ssh-ed25519, empty reserved, sha512, exact lengths, no
 * trailing bytes) and the signature must pass libsodium's strict verify.
 * VL_EBADSIG on any failure, VL_ETOOBIG when the blob exceeds the cap.
 */
int vl_sshsig_verify(const void *blob, size_t bloblen, const char *ns,
		const void *msg, size_t len, unsigned char pk_out[32]) VL_MUST_CHECK;

/* Armor exactly as ssh-keygen does: BEGIN line, base64 at 70 columns, END
 * line, each ending "\n". */
int vl_sshsig_armor(vl_buf *out, const void *blob, size_t len) VL_MUST_CHECK;
/* Strict inverse of vl_sshsig_armor (a trailing "\n" after END optional);
 * anything else (other widths, CRLF, junk) is VL_EBADSIG. */
int vl_sshsig_unarmor(vl_buf *out, const char *armor, size_t len) VL_MUST_CHECK;

/* Standard base64 with padding (as used on the record sig line). */
int vl_base64_encode(vl_buf *out, const void *data, size_t len) VL_MUST_CHECK;
/* Strict decode: no whitespace, canonical padding. VL_EINVALID otherwise. */
int vl_base64_decode(vl_buf *out, const char *b64, size_t len) VL_MUST_CHECK;
/*
 * The same strict decode of PUBLIC text (a record's sig) into dst, at most
 * cap bytes, which must be >= len / 4 * 3: table-driven and not constant
 * time, so never for secrets (vl_base64_decode is, through libsodium).
 * Accepts exactly what vl_base64_decode accepts and gives the same bytes;
 * 0 and *outlen, or VL_EINVALID with vl_base64_decode's message.
 */
int vl_base64_decode_public(unsigned char *dst, size_t cap, size_t *outlen,
		const char *b64, size_t len) VL_MUST_CHECK;

/*
 * Split a raw git commit object (as stored: headers, blank line, message)
 * into the signed payload (the object without its gpgsig header) and the
 * signature armor (continuation lines joined, without the final "\n").
 * Parses only the header section: a gpgsig block in the message is not a
 * signature. VL_ENOTFOUND when the commit has no gpgsig header (unsigned);
 * VL_EBADSIG for any non-canonical form: two gpgsig headers, gpgsig-sha256,
 * a continuation line that is not " " + text, an empty " " line, a header
 * after the signature other than those git writes in order.
 */
int vl_commit_split(vl_buf *payload, vl_buf *armor, const char *raw, size_t len) VL_MUST_CHECK;
/*
 * Verify a raw signed commit: split, unarmor strictly, verify namespace
 * "git"; then check the signed form is exactly what signing the payload
 * produces (re-encode and compare). pk_out receives the signer key.
 * VL_ENOTFOUND if unsigned, VL_EBADSIG otherwise on failure.
 */
int vl_commit_verify(const char *raw, size_t len, unsigned char pk_out[32]) VL_MUST_CHECK;

#endif
