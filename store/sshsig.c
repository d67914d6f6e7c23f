/*
 * sshsig.c - ed25519 node keys and key files, OpenSSH public keys, SSHSIG
 * blobs and their armor, and the strict parser of git commit signature
 * headers (see sshsig.h; byte-level facts in docs/formats.md §5).
 *
 * Every reader here accepts exactly one encoding. It takes out what it needs
 * (key, signature, blob), builds the canonical encoding of that again and
 * compares bytes, so no variant that stock tools tolerate (other base64
 * widths, a non-empty reserved field, an extra header line, a misplaced
 * gpgsig) can pass. S+L is left to libsodium, whose verify rejects S >= L.
 *
 * SSHSIG structures are small and bounded by VL_SSHSIG_MAX_BLOB, so they are
 * built in fixed arrays on the stack: signing and verifying never allocate.
 */
#include "store/sshsig.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#define KEYTYPE "ssh-ed25519"
#define MAGIC "SSHSIG"
#define HASHALG "sha512"
#define PUBBLOB_LEN 51 /* string "ssh-ed25519" || string pk(32) */
#define PK_OFFSET 19   /* of pk in the public key blob */
/* A signature blob is BLOB_FIXED bytes plus its namespace: magic 6, version
 * 4, pubkey 4+51, namespace 4, reserved 4, hashalg 4+6, sig 4+83. */
#define BLOB_FIXED 170
#define NS_MAX (VL_SSHSIG_MAX_BLOB - BLOB_FIXED)

/* Length of padded base64 for n bytes (no NUL). */
#define B64_LEN(n) (((n) + 2) / 3 * 4)

#define ARMOR_BEGIN "-----BEGIN SSH SIGNATURE-----\n"
#define ARMOR_END "-----END SSH SIGNATURE-----\n"
#define ARMOR_WIDTH 70 /* what ssh-keygen writes (PROTOCOL.sshsig says 76) */
#define ARMOR_LEN(n) (sizeof(ARMOR_BEGIN) - 1 + B64_LEN(n) + \
		(B64_LEN(n) + ARMOR_WIDTH - 1) / ARMOR_WIDTH + sizeof(ARMOR_END) - 1)
/* The armor of the biggest blob: the cap for armor text, so that armor and
 * unarmor are inverses over every blob we accept. */
#define ARMOR_MAX ARMOR_LEN(VL_SSHSIG_MAX_BLOB)

#define KEYFILE_PLAIN "vledger-key-v1 plain "
#define KEYFILE_SEALED "vledger-key-v1 sealed "
#define KEYFILE_MAX 1024
#define SEED_LEN 32
#define SEALED_BOX_LEN (crypto_secretbox_MACBYTES + SEED_LEN)

/* Undo a failed append: functions that append leave out as it was. */
static void buf_truncate(vl_buf *b, size_t len)
{
	b->len = len;
	if (b->ptr)
		b->ptr[len] = '\0';
}

/* ---- fixed-array writer --------------------------------------------- */

/* Appends to a caller's array; an overflow is sticky and checked once. */
typedef struct {
	unsigned char *p;
	size_t len, cap;
	int overflow;
} wr;

static void wr_put(wr *w, const void *data, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	if (n)
		memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void wr_u32(wr *w, size_t v)
{
	unsigned char b[4];

	if (v > UINT32_MAX) {
		w->overflow = 1;
		return;
	}
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
	wr_put(w, b, 4);
}

static void wr_string(wr *w, const void *data, size_t n)
{
	wr_u32(w, n);
	wr_put(w, data, n);
}

static void wr_cstring(wr *w, const char *s)
{
	wr_string(w, s, strlen(s));
}

/* ---- base64 ----------------------------------------------------------- */

/* Strict padded base64 into dst (at most cap bytes): no whitespace, padding
 * present and canonical, unused bits zero. 0 or -1; dst may hold partial
 * output on failure (callers wipe secrets). */
static int b64_decode_into(unsigned char *dst, size_t cap, const char *b64, size_t len,
		size_t *outlen)
{
	size_t n = 0, i;
	unsigned char c;

	if (len % 4 != 0)
		return -1;
	/* libsodium 1.0.18 reads the text as (signed) char and decodes every
	 * byte >= 0x80 as a digit; let only the alphabet and '=' reach it. */
	for (i = 0; i < len; i++) {
		c = (unsigned char)b64[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
					c == '+' || c == '/' || c == '='))
			return -1;
	}
	if (sodium_base642bin(dst, cap, b64, len, NULL, &n, NULL,
				sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	/* libsodium already refuses non-zero unused bits and bad padding; the
	 * length check keeps that true whatever the library version. */
	if (B64_LEN(n) != len)
		return -1;
	*outlen = n;
	return 0;
}

/* Decode exactly n bytes from exactly B64_LEN(n) characters. */
static int b64_decode_exact(unsigned char *dst, size_t n, const char *b64, size_t len)
{
	size_t got;

	if (len != B64_LEN(n) || b64_decode_into(dst, n, b64, len, &got) < 0 || got != n)
		return -1;
	return 0;
}

int vl_base64_encode(vl_buf *out, const void *data, size_t len)
{
	size_t n;
	int rc;

	if (len > (SIZE_MAX - 4) / 4 * 3)
		return vl_error_set(VL_ETOOBIG, "%zu bytes are too many to base64-encode", len);
	n = B64_LEN(len);
	if ((rc = vl_buf_grow(out, n)) < 0)
		return rc;
	/* grow left room for n characters and the NUL sodium writes */
	sodium_bin2base64(out->ptr + out->len, n + 1, len ? data : (const void *)"", len,
			sodium_base64_VARIANT_ORIGINAL);
	out->len += n;
	return 0;
}

int vl_base64_decode(vl_buf *out, const char *b64, size_t len)
{
	size_t cap = len / 4 * 3, n;
	int rc;

	if ((rc = vl_buf_grow(out, cap)) < 0)
		return rc;
	if (b64_decode_into((unsigned char *)out->ptr + out->len, cap, b64, len, &n) < 0) {
		sodium_memzero(out->ptr + out->len, cap + 1);
		return vl_error_set(VL_EINVALID, "text is not strict base64 (standard alphabet, "
				"'=' padding, no whitespace): re-encode it");
	}
	out->len += n;
	out->ptr[out->len] = '\0';
	return 0;
}

/* One more than the value of each digit of the standard alphabet, 0 for
 * any other byte ('=' included): a table, not a chain of ranges, as every
 * record's signature is decoded by verify. */
static const unsigned char b64_plus1[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
	['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
	['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23,
	['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
	['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44,
	['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51,
	['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58,
	['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64
};

/* Value of a base64 digit of the standard alphabet, 64 or more (UINT_MAX)
 * for anything else ('=' included). */
static unsigned b64_digit(unsigned char c)
{
	return (unsigned)b64_plus1[c] - 1u;
}

int vl_base64_decode_public(unsigned char *dst, size_t cap, size_t *outlen,
		const char *b64, size_t len)
{
	const unsigned char *p = (const unsigned char *)b64;
	size_t i, n = 0, pad = 0;
	unsigned d[4], k;

	assert(cap >= len / 4 * 3);
	if (len % 4 != 0 || cap < len / 4 * 3)
		goto bad;
	if (len >= 4) /* one or two '=' end the text; none elsewhere */
		pad = p[len - 1] != '=' ? 0 : p[len - 2] != '=' ? 1 : 2;
	for (i = 0; i < len; i += 4) {
		for (k = 0; k < 4; k++)
			d[k] = b64_digit(p[i + k]);
		if (i + 4 < len || pad == 0) {
			if ((d[0] | d[1] | d[2] | d[3]) >= 64)
				goto bad;
			dst[n++] = (unsigned char)(d[0] << 2 | d[1] >> 4);
			dst[n++] = (unsigned char)(d[1] << 4 | d[2] >> 2);
			dst[n++] = (unsigned char)(d[2] << 6 | d[3]);
		} else if (pad == 1) {
			/* the two low bits of the last digit are not used: zero */
			if ((d[0] | d[1] | d[2]) >= 64 || (d[2] & 3))
				goto bad;
			dst[n++] = (unsigned char)(d[0] << 2 | d[1] >> 4);
			dst[n++] = (unsigned char)(d[1] << 4 | d[2] >> 2);
		} else {
			if ((d[0] | d[1]) >= 64 || (d[1] & 15))
				goto bad;
			dst[n++] = (unsigned char)(d[0] << 2 | d[1] >> 4);
		}
	}
	*outlen = n;
	return 0;
bad:
	return vl_error_set(VL_EINVALID, "text is not strict base64 (standard alphabet, "
			"'=' padding, no whitespace): re-encode it");
}

/* ---- keys ------------------------------------------------------------- */

int vl_crypto_init(void)
{
	if (sodium_init() < 0)
		return vl_error_set(VL_ERROR, "libsodium failed to initialise: check that "
				"'/dev/urandom' is readable");
	return 0;
}

int vl_key_generate(vl_key *out)
{
	vl_key k;

	crypto_sign_keypair(k.pk, k.sk);
	memcpy(out, &k, sizeof(k));
	sodium_memzero(&k, sizeof(k));
	return 0;
}

int vl_key_from_seed(vl_key *out, const unsigned char seed[32])
{
	vl_key k;

	crypto_sign_seed_keypair(k.pk, k.sk, seed);
	memcpy(out, &k, sizeof(k));
	sodium_memzero(&k, sizeof(k));
	return 0;
}

void vl_key_wipe(vl_key *k)
{
	if (k)
		sodium_memzero(k, sizeof(*k));
}

/* A parsed key file. Holds a secret (the plain seed): wipe it. */
typedef struct {
	int sealed;
	unsigned char seed[SEED_LEN];
	unsigned char salt[crypto_pwhash_SALTBYTES];
	unsigned char nonce[crypto_secretbox_NONCEBYTES];
	unsigned char box[SEALED_BOX_LEN];
} keyfile;

/* Take one base64 field of exactly n bytes, then the separator `sep`. */
static int take_field(const char **p, const char *end, unsigned char *dst, size_t n, char sep)
{
	size_t len = B64_LEN(n);

	if ((size_t)(end - *p) < len + 1 || (*p)[len] != sep ||
			b64_decode_exact(dst, n, *p, len) < 0)
		return -1;
	*p += len + 1;
	return 0;
}

/* The whole file must be exactly one of the two lines vl_key_save writes. */
static int keyfile_parse(keyfile *kf, const char *s, size_t len, const char *path)
{
	const char *end = s + len, *p;
	size_t lp = strlen(KEYFILE_PLAIN), ls = strlen(KEYFILE_SEALED);

	if (len > lp && memcmp(s, KEYFILE_PLAIN, lp) == 0) {
		p = s + lp;
		kf->sealed = 0;
		if (take_field(&p, end, kf->seed, SEED_LEN, '\n') == 0 && p == end)
			return 0;
	} else if (len > ls && memcmp(s, KEYFILE_SEALED, ls) == 0) {
		p = s + ls;
		kf->sealed = 1;
		if (take_field(&p, end, kf->salt, sizeof(kf->salt), ' ') == 0 &&
				take_field(&p, end, kf->nonce, sizeof(kf->nonce), ' ') == 0 &&
				take_field(&p, end, kf->box, sizeof(kf->box), '\n') == 0 && p == end)
			return 0;
	}
	return vl_error_set(VL_EINVALID, "'%s' is not a vledger key file (want one line "
			"'vledger-key-v1 plain|sealed ...'): restore it from a backup or make a new key",
			path);
}

/* Argon2id at the moderate limits (about 0.5 s and 256 MiB). */
static int derive_key(unsigned char key[crypto_secretbox_KEYBYTES], const char *passphrase,
		const unsigned char salt[crypto_pwhash_SALTBYTES])
{
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, passphrase, strlen(passphrase), salt,
				crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE,
				crypto_pwhash_ALG_ARGON2ID13) != 0)
		return vl_error_set(VL_ENOMEM, "not enough memory to derive a key from the "
				"passphrase (argon2id needs %zu MiB)",
				(size_t)crypto_pwhash_MEMLIMIT_MODERATE >> 20);
	return 0;
}

int vl_key_save(const vl_key *k, const char *path, const char *passphrase)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	unsigned char salt[crypto_pwhash_SALTBYTES];
	unsigned char nonce[crypto_secretbox_NONCEBYTES];
	unsigned char box[SEALED_BOX_LEN];
	vl_buf line = VL_BUF_INIT;
	int rc;

	/* One allocation up front, so no realloc leaves a copy of the seed. */
	if ((rc = vl_buf_grow(&line, KEYFILE_MAX)) < 0)
		goto out;
	if (!passphrase || !*passphrase) {
		if ((rc = vl_buf_puts(&line, KEYFILE_PLAIN)) < 0 ||
				(rc = vl_base64_encode(&line, k->sk, SEED_LEN)) < 0)
			goto out;
	} else {
		randombytes_buf(salt, sizeof(salt));
		randombytes_buf(nonce, sizeof(nonce));
		if ((rc = derive_key(key, passphrase, salt)) < 0)
			goto out;
		crypto_secretbox_easy(box, k->sk, SEED_LEN, nonce, key);
		if ((rc = vl_buf_puts(&line, KEYFILE_SEALED)) < 0 ||
				(rc = vl_base64_encode(&line, salt, sizeof(salt))) < 0 ||
				(rc = vl_buf_putc(&line, ' ')) < 0 ||
				(rc = vl_base64_encode(&line, nonce, sizeof(nonce))) < 0 ||
				(rc = vl_buf_putc(&line, ' ')) < 0 ||
				(rc = vl_base64_encode(&line, box, sizeof(box))) < 0)
			goto out;
	}
	if ((rc = vl_buf_putc(&line, '\n')) < 0)
		goto out;
	rc = vl_buf_write_file(path, line.ptr, line.len, 0600);
out:
	sodium_memzero(key, sizeof(key));
	vl_buf_free_secure(&line);
	return rc;
}

/* Read and parse a key file; no permission check (see vl_key_load). */
static int keyfile_read(keyfile *kf, const char *path)
{
	vl_buf file = VL_BUF_INIT;
	int rc;

	if ((rc = vl_buf_read_file(&file, path, KEYFILE_MAX)) < 0)
		goto out;
	rc = keyfile_parse(kf, file.ptr, file.len, path);
out:
	vl_buf_free_secure(&file);
	return rc;
}

int vl_key_load(vl_key *out, const char *path, const char *passphrase)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	unsigned char seed[SEED_LEN];
	struct stat st;
	keyfile kf;
	vl_key k;
	int rc;

	memset(&kf, 0, sizeof(kf));
	memset(seed, 0, sizeof(seed));
	memset(key, 0, sizeof(key));
	memset(&k, 0, sizeof(k));
	/* Like ssh: a key others can read or change is not ours alone. The
	 * file could be swapped between stat and open only by someone who can
	 * write its directory, who owns the key anyway. */
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			rc = vl_error_set(VL_ENOTFOUND, "key file '%s' does not exist", path);
		else
			rc = vl_error_set(VL_ERROR, "cannot stat key file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = vl_error_set(VL_EINVALID, "key file '%s' is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = vl_error_set(VL_EDENIED, "key file '%s' is open to group or others (mode %03o): "
				"chmod 600 it", path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if ((rc = keyfile_read(&kf, path)) < 0)
		goto out;
	if (kf.sealed) {
		if (!passphrase || !*passphrase) {
			rc = vl_error_set(VL_EDENIED, "key file '%s' is sealed: give its passphrase", path);
			goto out;
		}
		if ((rc = derive_key(key, passphrase, kf.salt)) < 0)
			goto out;
		if (crypto_secretbox_open_easy(seed, kf.box, sizeof(kf.box), kf.nonce, key) != 0) {
			rc = vl_error_set(VL_EDENIED, "wrong passphrase for key file '%s'", path);
			goto out;
		}
	} else {
		memcpy(seed, kf.seed, SEED_LEN);
	}
	crypto_sign_seed_keypair(k.pk, k.sk, seed);
	memcpy(out, &k, sizeof(k));
out:
	sodium_memzero(&kf, sizeof(kf));
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&k, sizeof(k));
	return rc;
}

int vl_key_is_sealed(const char *path)
{
	keyfile kf;
	int rc;

	memset(&kf, 0, sizeof(kf));
	rc = keyfile_read(&kf, path);
	if (rc == 0)
		rc = kf.sealed;
	sodium_memzero(&kf, sizeof(kf));
	return rc;
}

/* ---- public keys ------------------------------------------------------ */

static void pubkey_blob(unsigned char blob[PUBBLOB_LEN], const unsigned char pk[32])
{
	wr w = { blob, 0, PUBBLOB_LEN, 0 };

	wr_cstring(&w, KEYTYPE);
	wr_string(&w, pk, 32);
	assert(!w.overflow && w.len == PUBBLOB_LEN);
}

int vl_pubkey_format(vl_buf *out, const unsigned char pk[32], const char *comment)
{
	unsigned char blob[PUBBLOB_LEN];
	size_t start = out->len;
	int rc;

	if (comment && strpbrk(comment, "\r\n"))
		return vl_error_set(VL_EINVALID, "public key comment has a line break: "
				"keep it on one line");
	pubkey_blob(blob, pk);
	if ((rc = vl_buf_puts(out, KEYTYPE " ")) < 0 ||
			(rc = vl_base64_encode(out, blob, sizeof(blob))) < 0 ||
			(comment && *comment &&
			 ((rc = vl_buf_putc(out, ' ')) < 0 || (rc = vl_buf_puts(out, comment)) < 0)))
		buf_truncate(out, start);
	return rc;
}

/* A line as read from a .pub file may end in one "\n"; nothing else. */
int vl_pubkey_parse(unsigned char pk[32], const char *line)
{
	static const char prefix[] = KEYTYPE " ";
	unsigned char blob[PUBBLOB_LEN], canon[PUBBLOB_LEN];
	size_t n = strlen(line), pl = sizeof(prefix) - 1, b64len, got;
	const char *b64, *sp;

	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n <= pl || memcmp(line, prefix, pl) != 0)
		goto bad;
	b64 = line + pl;
	sp = memchr(b64, ' ', n - pl);
	b64len = sp ? (size_t)(sp - b64) : n - pl;
	if (memchr(line, '\n', n) || memchr(line, '\r', n))
		goto bad;
	if (b64len != B64_LEN(sizeof(blob)) ||
			vl_base64_decode_public(blob, sizeof(blob), &got, b64, b64len) < 0 || got != sizeof(blob))
		goto bad; /* a public key: the table decoder (every roster entry, every config commit) */
	pubkey_blob(canon, blob + PK_OFFSET);
	if (memcmp(blob, canon, sizeof(blob)) != 0)
		goto bad;
	memcpy(pk, blob + PK_OFFSET, 32);
	return 0;
bad:
	return vl_error_set(VL_EINVALID, "public key is not one line 'ssh-ed25519 <base64 of "
			"the 51-byte key blob> [comment]': copy it again from the '.pub' file");
}

void vl_fingerprint(char out[VL_FP_LEN], const unsigned char pk[32])
{
	unsigned char blob[PUBBLOB_LEN], h[crypto_hash_sha256_BYTES];

	pubkey_blob(blob, pk);
	crypto_hash_sha256(h, blob, sizeof(blob));
	memcpy(out, "SHA256:", 7);
	sodium_bin2base64(out + 7, VL_FP_LEN - 7, h, sizeof(h),
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

/* ---- SSHSIG ----------------------------------------------------------- */

static int ns_check(const char *ns)
{
	size_t n = ns ? strlen(ns) : 0;

	assert(n > 0 && n <= NS_MAX);
	if (n == 0 || n > NS_MAX)
		return vl_error_set(VL_EINVALID, "signature namespace must be 1 to %d bytes", NS_MAX);
	return 0;
}

/* The data ed25519 signs: "SSHSIG" || ns || "" || "sha512" || SHA512(msg).
 * Out holds VL_SSHSIG_MAX_BLOB bytes; ns passed ns_check. */
static size_t tosign_build(unsigned char *out, const char *ns, const void *msg, size_t len)
{
	unsigned char h[crypto_hash_sha512_BYTES];
	wr w = { out, 0, VL_SSHSIG_MAX_BLOB, 0 };

	crypto_hash_sha512(h, len ? msg : (const void *)"", len);
	wr_put(&w, MAGIC, 6);
	wr_cstring(&w, ns);
	wr_string(&w, NULL, 0);
	wr_cstring(&w, HASHALG);
	wr_string(&w, h, sizeof(h));
	assert(!w.overflow);
	return w.len;
}

/* The canonical signature blob; out holds VL_SSHSIG_MAX_BLOB bytes and
 * receives BLOB_FIXED + strlen(ns) of them. */
static size_t sigblob_build(unsigned char *out, const unsigned char pk[32], const char *ns,
		const unsigned char sig[64])
{
	unsigned char pkblob[PUBBLOB_LEN];
	wr w = { out, 0, VL_SSHSIG_MAX_BLOB, 0 };

	pubkey_blob(pkblob, pk);
	wr_put(&w, MAGIC, 6);
	wr_u32(&w, 1);
	wr_string(&w, pkblob, sizeof(pkblob));
	wr_cstring(&w, ns);
	wr_string(&w, NULL, 0); /* reserved */
	wr_cstring(&w, HASHALG);
	wr_u32(&w, 4 + strlen(KEYTYPE) + 4 + 64);
	wr_cstring(&w, KEYTYPE);
	wr_string(&w, sig, 64);
	assert(!w.overflow && w.len == BLOB_FIXED + strlen(ns));
	return w.len;
}

int vl_sshsig_sign(vl_buf *out, const vl_key *k, const char *ns, const void *msg, size_t len)
{
	unsigned char tosign[VL_SSHSIG_MAX_BLOB], blob[VL_SSHSIG_MAX_BLOB], sig[64];
	size_t tlen, blen;
	int rc;

	if ((rc = ns_check(ns)) < 0)
		return rc;
	assert(memcmp(k->pk, k->sk + 32, 32) == 0);
	tlen = tosign_build(tosign, ns, msg, len);
	crypto_sign_detached(sig, NULL, tosign, tlen, k->sk);
	blen = sigblob_build(blob, k->pk, ns, sig);
	return vl_buf_put(out, blob, blen);
}

int vl_sshsig_verify(const void *blob, size_t bloblen, const char *ns, const void *msg,
		size_t len, unsigned char pk_out[32])
{
	unsigned char tosign[VL_SSHSIG_MAX_BLOB], canon[VL_SSHSIG_MAX_BLOB];
	const unsigned char *b = blob, *pk, *sig;
	size_t tlen;
	int rc;

	if (bloblen > VL_SSHSIG_MAX_BLOB)
		return vl_error_set(VL_ETOOBIG, "signature blob is %zu bytes, over the limit of %d: "
				"it is not one vledger makes", bloblen, VL_SSHSIG_MAX_BLOB);
	if ((rc = ns_check(ns)) < 0)
		return rc;
	/* A canonical blob for ns has this length and its key and signature at
	 * fixed places: take them, re-encode, and demand the same bytes. */
	if (bloblen != BLOB_FIXED + strlen(ns))
		goto noncanonical;
	pk = b + 6 + 4 + 4 + PK_OFFSET;
	sig = b + bloblen - 64;
	sigblob_build(canon, pk, ns, sig);
	if (memcmp(canon, b, bloblen) != 0)
		goto noncanonical;
	tlen = tosign_build(tosign, ns, msg, len);
	if (crypto_sign_verify_detached(sig, tosign, tlen, pk) != 0)
		return vl_error_set(VL_EBADSIG, "signature does not match the signed data and key");
	if (pk_out)
		memcpy(pk_out, pk, 32);
	return 0;
noncanonical:
	return vl_error_set(VL_EBADSIG, "signature is not the canonical SSHSIG encoding "
			"(version 1, ssh-ed25519, namespace '%s', empty reserved field, sha512)", ns);
}

/* ---- armor ------------------------------------------------------------ */

/* Armor blob (1..VL_SSHSIG_MAX_BLOB bytes) into out (ARMOR_MAX bytes). */
static size_t armor_build(char *out, const unsigned char *blob, size_t len)
{
	char b64[B64_LEN(VL_SSHSIG_MAX_BLOB) + 1];
	size_t n = B64_LEN(len), at, i, w;

	sodium_bin2base64(b64, sizeof(b64), blob, len, sodium_base64_VARIANT_ORIGINAL);
	at = sizeof(ARMOR_BEGIN) - 1;
	memcpy(out, ARMOR_BEGIN, at);
	for (i = 0; i < n; i += w) {
		w = n - i < ARMOR_WIDTH ? n - i : ARMOR_WIDTH;
		memcpy(out + at, b64 + i, w);
		at += w;
		out[at++] = '\n';
	}
	memcpy(out + at, ARMOR_END, sizeof(ARMOR_END) - 1);
	at += sizeof(ARMOR_END) - 1;
	assert(at == ARMOR_LEN(len));
	return at;
}

int vl_sshsig_armor(vl_buf *out, const void *blob, size_t len)
{
	char armor[ARMOR_MAX];

	if (len == 0)
		return vl_error_set(VL_EINVALID, "cannot armor an empty signature blob");
	if (len > VL_SSHSIG_MAX_BLOB)
		return vl_error_set(VL_ETOOBIG, "signature blob is %zu bytes, over the limit of %d",
				len, VL_SSHSIG_MAX_BLOB);
	return vl_buf_put(out, armor, armor_build(armor, blob, len));
}

int vl_sshsig_unarmor(vl_buf *out, const char *armor, size_t len)
{
	char b64[B64_LEN(VL_SSHSIG_MAX_BLOB)], canon[ARMOR_MAX];
	unsigned char blob[B64_LEN(VL_SSHSIG_MAX_BLOB) / 4 * 3]; /* what the longest text decodes to */
	size_t begin = sizeof(ARMOR_BEGIN) - 1, end = sizeof(ARMOR_END) - 1, n = 0, i, blen, clen;

	if (len > ARMOR_MAX)
		return vl_error_set(VL_ETOOBIG, "signature armor is %zu bytes, over the limit of %zu",
				len, (size_t)ARMOR_MAX);
	if (len > 0 && armor[len - 1] != '\n')
		end--; /* the final "\n" is optional */
	if (len < begin + end)
		goto bad;
	/* Gather the body without its newlines, decode it, armor the blob again
	 * and demand the same text: that fixes the width and every line. */
	for (i = begin; i < len - end; i++) {
		if (armor[i] == '\n')
			continue;
		if (n == sizeof(b64))
			goto bad;
		b64[n++] = armor[i];
	}
	/* A signature is public: the table decoder, not libsodium's constant-time
	 * one, which showed in verify (one armor per commit). */
	if (vl_base64_decode_public(blob, sizeof(blob), &blen, b64, n) < 0 || blen == 0 ||
			blen > VL_SSHSIG_MAX_BLOB)
		goto bad;
	clen = armor_build(canon, blob, blen);
	if ((len != clen && len != clen - 1) || memcmp(canon, armor, len) != 0)
		goto bad;
	return vl_buf_put(out, blob, blen);
bad:
	return vl_error_set(VL_EBADSIG, "signature armor is not exactly what ssh-keygen writes "
			"(BEGIN line, base64 in lines of %d, END line, LF only)", ARMOR_WIDTH);
}

/* ---- git commits ------------------------------------------------------ */

static int commit_bad(const char *why)
{
	return vl_error_set(VL_EBADSIG, "commit signature header is not canonical (%s): "
			"re-sign the commit with vledger or 'git commit -S'", why);
}

/* Add one line of the gpgsig value to the armor (from a0 on), within the
 * armor cap; lines after the first are joined with "\n". */
static int sig_line(vl_buf *armor, size_t a0, const char *text, size_t n)
{
	int rc;

	if (n > ARMOR_MAX || armor->len - a0 > ARMOR_MAX - n)
		return vl_error_set(VL_ETOOBIG, "commit signature is over the limit of %zu bytes",
				(size_t)ARMOR_MAX);
	if (armor->len > a0 && (rc = vl_buf_putc(armor, '\n')) < 0)
		return rc;
	return vl_buf_put(armor, text, n);
}

int vl_commit_split(vl_buf *payload, vl_buf *armor, const char *raw, size_t len)
{
	const char *p = raw, *end = raw + len, *nl, *sp, *sig_start = NULL, *sig_end = NULL;
	size_t p0 = payload->len, a0 = armor->len, llen, klen;
	int in_sig = 0, blank = 0, rc = 0;

	/* Header lines up to the first blank line; the message is not read. */
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (llen == 0) {
			blank = 1;
			break;
		}
		if (p[0] == ' ') {
			/* Continuation: ours if it follows gpgsig, else another
			 * header's (mergetag) and none of our business. */
			if (in_sig) {
				if (llen == 1) {
					rc = commit_bad("an empty ' ' line in the signature");
					goto out;
				}
				if (!nl) {
					rc = commit_bad("the signature runs to the end of the object");
					goto out;
				}
				if ((rc = sig_line(armor, a0, p + 1, llen - 1)) < 0)
					goto out;
				sig_end = nl + 1;
			}
		} else {
			in_sig = 0;
			sp = memchr(p, ' ', llen);
			klen = sp ? (size_t)(sp - p) : llen;
			if (klen == 6 && memcmp(p, "gpgsig", 6) == 0) {
				if (sig_start) {
					rc = commit_bad("two gpgsig headers");
					goto out;
				}
				if (llen <= 7 || !nl) {
					rc = commit_bad("an empty or unterminated gpgsig line");
					goto out;
				}
				if ((rc = sig_line(armor, a0, p + 7, llen - 7)) < 0)
					goto out;
				sig_start = p;
				sig_end = nl + 1;
				in_sig = 1;
			} else if (klen == 13 && memcmp(p, "gpgsig-sha256", 13) == 0) {
				rc = commit_bad("a gpgsig-sha256 header");
				goto out;
			} else if (sig_start) {
				/* git and libgit2 put gpgsig last */
				rc = commit_bad("a header after gpgsig");
				goto out;
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!sig_start) {
		rc = vl_error_set(VL_ENOTFOUND, "commit is not signed (no gpgsig header)");
		goto out;
	}
	if (!blank) {
		rc = commit_bad("no blank line after the headers");
		goto out;
	}
	if ((rc = vl_buf_put(payload, raw, (size_t)(sig_start - raw))) < 0 ||
			(rc = vl_buf_put(payload, sig_end, (size_t)(end - sig_end))) < 0)
		goto out;
out:
	if (rc < 0) {
		buf_truncate(payload, p0);
		buf_truncate(armor, a0);
	}
	return rc;
}

/* What git_commit_create_with_signature writes for payload and blob, given
 * the armor without its final "\n": "gpgsig " + armor with every "\n"
 * turned into "\n ", inserted after the first "\n" of the first "\n\n". */
static int commit_with_sig(vl_buf *out, const char *payload, size_t len,
		const unsigned char *blob, size_t bloblen)
{
	char armor[ARMOR_MAX];
	size_t alen, hdr, i;
	int rc;

	for (hdr = 0; hdr + 1 < len; hdr++)
		if (payload[hdr] == '\n' && payload[hdr + 1] == '\n')
			break;
	if (hdr + 1 >= len) /* the payload had gpgsig as its only header */
		return commit_bad("the gpgsig header is not where git writes it");
	hdr++;
	alen = armor_build(armor, blob, bloblen) - 1;
	if ((rc = vl_buf_put(out, payload, hdr)) < 0 || (rc = vl_buf_puts(out, "gpgsig ")) < 0)
		return rc;
	for (i = 0; i < alen; i++)
		if ((rc = vl_buf_putc(out, armor[i])) < 0 ||
				(armor[i] == '\n' && (rc = vl_buf_putc(out, ' ')) < 0))
			return rc;
	if ((rc = vl_buf_putc(out, '\n')) < 0)
		return rc;
	return vl_buf_put(out, payload + hdr, len - hdr);
}

int vl_commit_verify(const char *raw, size_t len, unsigned char pk_out[32])
{
	vl_buf payload = VL_BUF_INIT, armor = VL_BUF_INIT, blob = VL_BUF_INIT, again = VL_BUF_INIT;
	unsigned char pk[32];
	int rc;

	if ((rc = vl_commit_split(&payload, &armor, raw, len)) < 0 ||
			(rc = vl_sshsig_unarmor(&blob, armor.ptr, armor.len)) < 0)
		goto out;
	/* The cheap check first: the object must be exactly what signing its
	 * payload writes, so one signed content has one commit id. */
	if ((rc = commit_with_sig(&again, payload.ptr, payload.len,
					(const unsigned char *)blob.ptr, blob.len)) < 0)
		goto out;
	if (again.len != len || memcmp(again.ptr, raw, len) != 0) {
		rc = commit_bad("the gpgsig header is not where git writes it");
		goto out;
	}
	if ((rc = vl_sshsig_verify(blob.ptr, blob.len, VL_NS_GIT, payload.ptr, payload.len, pk)) < 0)
		goto out;
	if (pk_out)
		memcpy(pk_out, pk, 32);
out:
	vl_buf_free(&payload);
	vl_buf_free(&armor);
	vl_buf_free(&blob);
	vl_buf_free(&again);
	return rc;
}
