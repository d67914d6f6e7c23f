/* invite.c - invitation tokens, join proofs and terminal QR codes (see invite.h). */
#include "agent/node/invite.h"
#include "agent/node/dynlib.h"

#include <errno.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store/hlc.h"
#include "agent/node/roster.h"
#include "schemas/types.h"
#include "store/yaml.h"

#define TOKEN_VERSION 1
#define CHECKSUM_LEN 4
/* version + network + county + nroots + roots + netkey + id + secret +
 * expires + role + scope + 3 strings + checksum */
#define TOKEN_MAX_BIN (1 + 16 + 12 + 1 + VL_INVITE_MAX_ROOTS * 32 + 32 + 16 + 32 + 8 + 1 + 12 + \
		3 * 256 + CHECKSUM_LEN)
#define QUIET_ZONE 4


void vl_invite_wipe(vl_invite *inv)
{
	sodium_memzero(inv, sizeof(*inv));
}

/* Text a person reads: valid UTF-8 in NFC, no control characters. */
static int text_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return vl_utf8_valid_nfc(s, len);
}

static int is_lower_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int check_fields(const vl_invite *inv)
{
	int rc;

	if (strlen(inv->network) != 32 || !is_lower_hex(inv->network, 32))
		return vl_error_set(VL_EINVALID, "invitation: the network id is not 32 hex digits");
	if (vl_division_level(inv->county) != VL_DIV_COUNTY)
		return vl_error_set(VL_EINVALID, "invitation: '%s' is not a county code", inv->county);
	if (inv->nroots < 1 || inv->nroots > VL_INVITE_MAX_ROOTS)
		return vl_error_set(VL_EINVALID, "invitation: %zu root keys (1 to %d)", inv->nroots,
				VL_INVITE_MAX_ROOTS);
	if (vl_role_index(inv->role) < 0)
		return vl_error_set(VL_EINVALID, "invitation: role '%s' is not one of village, township, "
				"county, auditor, admin", inv->role);
	if (vl_division_level(inv->scope) == VL_DIV_INVALID || !vl_division_covers(inv->county, inv->scope))
		return vl_error_set(VL_EINVALID, "invitation: scope '%s' is not a division of county '%s'",
				inv->scope, inv->county);
	/* The level rule of the roster itself (roster.h). */
	if ((rc = vl_roster_role_scope_check(inv->role, inv->scope)) < 0)
		return vl_error_wrap(rc, "invitation");
	if (!*inv->name || !text_ok(inv->name, strlen(inv->name)))
		return vl_error_set(VL_EINVALID, "invitation: the name is empty or not valid UTF-8 text");
	if (!text_ok(inv->address, strlen(inv->address)) || !text_ok(inv->source, strlen(inv->source)))
		return vl_error_set(VL_EINVALID, "invitation: the address or source is not valid text");
	return 0;
}

static int put_str(vl_buf *b, const char *s)
{
	size_t l = strlen(s);
	unsigned char n = (unsigned char)l;

	if (l > 255)
		return vl_error_set(VL_EINVALID, "invitation: a text field is longer than 255 bytes");
	if (vl_buf_put(b, &n, 1) < 0 || vl_buf_put(b, s, l) < 0)
		return VL_ENOMEM;
	return 0;
}

int vl_invite_encode(vl_buf *out, const vl_invite *inv)
{
	vl_buf bin = VL_BUF_INIT;
	unsigned char u8, be[8], h[16];
	char *b64 = NULL;
	size_t i, b64len;
	int rc, role;

	if ((rc = check_fields(inv)) < 0)
		return rc;
	role = vl_role_index(inv->role);
	bin.max = TOKEN_MAX_BIN;
	u8 = TOKEN_VERSION;
	rc = vl_buf_put(&bin, &u8, 1);
	{
		unsigned char nid[16];
		if (rc == 0 && sodium_hex2bin(nid, 16, inv->network, 32, NULL, NULL, NULL) != 0)
			rc = vl_error_set(VL_EINVALID, "invitation: the network id is not 32 hex digits");
		if (rc == 0)
			rc = vl_buf_put(&bin, nid, 16);
	}
	u8 = (unsigned char)inv->nroots;
	if (rc < 0 || (rc = vl_buf_put(&bin, inv->county, 12)) < 0 || (rc = vl_buf_put(&bin, &u8, 1)) < 0)
		goto out;
	for (i = 0; i < inv->nroots; i++)
		if ((rc = vl_buf_put(&bin, inv->root_keys[i], 32)) < 0)
			goto out;
	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)(inv->expires >> (56 - 8 * i));
	u8 = (unsigned char)role;
	if ((rc = vl_buf_put(&bin, inv->network_key, 32)) < 0 || (rc = vl_buf_put(&bin, inv->id, 16)) < 0 ||
			(rc = vl_buf_put(&bin, inv->secret, 32)) < 0 || (rc = vl_buf_put(&bin, be, 8)) < 0 ||
			(rc = vl_buf_put(&bin, &u8, 1)) < 0 || (rc = vl_buf_put(&bin, inv->scope, 12)) < 0 ||
			(rc = put_str(&bin, inv->name)) < 0 || (rc = put_str(&bin, inv->address)) < 0 ||
			(rc = put_str(&bin, inv->source)) < 0)
		goto out;
	crypto_generichash(h, sizeof(h), (const unsigned char *)bin.ptr, bin.len, NULL, 0);
	if ((rc = vl_buf_put(&bin, h, CHECKSUM_LEN)) < 0)
		goto out;
	b64len = sodium_base64_ENCODED_LEN(bin.len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (!(b64 = sodium_malloc(b64len))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	sodium_bin2base64(b64, b64len, (const unsigned char *)bin.ptr, bin.len,
			sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((rc = vl_buf_puts(out, VL_INVITE_PREFIX)) < 0 || (rc = vl_buf_puts(out, b64)) < 0)
		goto out;
	rc = 0;
out:
	sodium_free(b64);
	vl_buf_free_secure(&bin);
	return rc;
}

/* A bounds-checked reader over the decoded bytes. */
typedef struct {
	const unsigned char *p;
	size_t left;
} reader;

static int take(reader *r, void *dst, size_t n)
{
	if (r->left < n)
		return -1;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

static int take_str(reader *r, char dst[256])
{
	unsigned char n;

	if (take(r, &n, 1) < 0 || take(r, dst, n) < 0)
		return -1;
	dst[n] = '\0';
	return memchr(dst, '\0', n) ? -1 : 0;
}

int vl_invite_decode(vl_invite *out, const char *text)
{
	unsigned char bin[TOKEN_MAX_BIN], h[16], nid[16], u8, be[8];
	const char *s = text, *e;
	size_t len, plen = strlen(VL_INVITE_PREFIX), binlen, i;
	reader r;
	int rc = VL_EINVALID;

	memset(out, 0, sizeof(*out));
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	len = strnlen(s, VL_INVITE_MAX_TEXT + 1);
	if (len > VL_INVITE_MAX_TEXT)
		return vl_error_set(VL_ETOOBIG, "the invitation is longer than %d characters", VL_INVITE_MAX_TEXT);
	e = s + len;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	len = (size_t)(e - s);
	if (len < plen || strncmp(s, VL_INVITE_PREFIX, plen) != 0)
		return vl_error_set(VL_EINVALID, "this is not a vledger invitation (it starts with '%s')",
				VL_INVITE_PREFIX);
	s += plen;
	len -= plen;
	/* libsodium's decoder takes bytes >= 0x80 for base64 (docs/decisions.md,
	 * Records): allow exactly the base64url alphabet. */
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
				(s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return vl_error_set(VL_EINVALID, "the invitation holds a character outside base64url "
					"at position %zu; copy it again", plen + i + 1);
	if (sodium_base642bin(bin, sizeof(bin), s, len, NULL, &binlen, &e,
			sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || e != s + len)
		return vl_error_set(VL_EINVALID, "the invitation is cut short or too long; copy it again");
	if (binlen <= CHECKSUM_LEN + 1)
		return vl_error_set(VL_EINVALID, "the invitation is cut short; copy it again");
	crypto_generichash(h, sizeof(h), bin, binlen - CHECKSUM_LEN, NULL, 0);
	if (sodium_memcmp(h, bin + binlen - CHECKSUM_LEN, CHECKSUM_LEN) != 0) {
		rc = vl_error_set(VL_EINVALID, "the invitation's checksum does not match: it was changed "
				"or mistyped; copy it again");
		goto out;
	}
	if (bin[0] != TOKEN_VERSION) {
		rc = vl_error_set(VL_EINVALID, "invitation format %u is not known to this vledger (it reads %d)",
				bin[0], TOKEN_VERSION);
		goto out;
	}
	r.p = bin + 1;
	r.left = binlen - CHECKSUM_LEN - 1;
	if (take(&r, nid, 16) < 0 || take(&r, out->county, 12) < 0 || take(&r, &u8, 1) < 0)
		goto short_;
	sodium_bin2hex(out->network, sizeof(out->network), nid, 16);
	out->nroots = u8;
	if (u8 < 1 || u8 > VL_INVITE_MAX_ROOTS) {
		rc = vl_error_set(VL_EINVALID, "invitation: %u root keys (1 to %d)", u8, VL_INVITE_MAX_ROOTS);
		goto out;
	}
	for (i = 0; i < out->nroots; i++)
		if (take(&r, out->root_keys[i], 32) < 0)
			goto short_;
	if (take(&r, out->network_key, 32) < 0 || take(&r, out->id, 16) < 0 ||
			take(&r, out->secret, 32) < 0 || take(&r, be, 8) < 0 || take(&r, &u8, 1) < 0 ||
			take(&r, out->scope, 12) < 0 || take_str(&r, out->name) < 0 ||
			take_str(&r, out->address) < 0 || take_str(&r, out->source) < 0)
		goto short_;
	if (r.left != 0) {
		rc = vl_error_set(VL_EINVALID, "invitation: %zu bytes after the last field", r.left);
		goto out;
	}
	for (i = 0; i < 8; i++)
		out->expires = out->expires << 8 | be[i];
	if (!vl_role_name(u8)) {
		rc = vl_error_set(VL_EINVALID, "invitation: role %u is not known", u8);
		goto out;
	}
	snprintf(out->role, sizeof(out->role), "%s", vl_role_name(u8));
	if ((rc = check_fields(out)) < 0)
		goto out;
	rc = 0;
	goto out;
short_:
	rc = vl_error_set(VL_EINVALID, "invitation: a field runs past the end");
out:
	sodium_memzero(bin, sizeof(bin));
	if (rc < 0)
		vl_invite_wipe(out);
	return rc;
}

int vl_invite_expired(uint64_t expires)
{
	return vl_hlc_wall_ms() / 1000 >= expires;
}

void vl_invite_time_format(char out[21], uint64_t secs)
{
	vl_hlc c = { secs * 1000, 0 };
	char t[VL_HLC_TEXT_LEN + 1];

	vl_hlc_format(t, &c);
	memcpy(out, t, 19);
	out[19] = 'Z';
	out[20] = '\0';
}

int vl_invite_time_parse(uint64_t *out, const char *text)
{
	char t[VL_HLC_TEXT_LEN + 1];
	vl_hlc c;

	*out = 0;
	if (!text || strlen(text) != 20 || text[19] != 'Z')
		return vl_error_set(VL_EINVALID, "time is not of the form YYYY-MM-DDTHH:MM:SSZ");
	memcpy(t, text, 19);
	memcpy(t + 19, ".000Z/0000", 11);
	if (vl_hlc_parse(&c, t) < 0)
		return vl_error_set(VL_EINVALID, "time is not of the form YYYY-MM-DDTHH:MM:SSZ");
	*out = c.ms / 1000;
	return 0;
}

int vl_invite_key(vl_key *out, const unsigned char secret[32])
{
	static const char label[] = "vledger-invite-key-v1";
	unsigned char seed[32];
	int rc;

	if (crypto_generichash(seed, sizeof(seed), (const unsigned char *)label, sizeof(label) - 1,
			secret, 32) != 0)
		return vl_error_set(VL_ERROR, "cannot derive the invitation key");
	rc = vl_key_from_seed(out, seed);
	sodium_memzero(seed, sizeof(seed));
	return rc;
}

int vl_join_message(vl_buf *out, const char *network, const unsigned char id[16],
		const unsigned char pk[32], const char *name)
{
	static const char label[] = "vledger-join-v1";
	int rc;

	/* Both NULs are written: the label and the network id are delimited. */
	if ((rc = vl_buf_put(out, label, sizeof(label))) < 0 ||
			(rc = vl_buf_put(out, network, strlen(network) + 1)) < 0 ||
			(rc = vl_buf_put(out, id, 16)) < 0 || (rc = vl_buf_put(out, pk, 32)) < 0 ||
			(rc = vl_buf_puts(out, name)) < 0)
		return rc;
	return 0;
}

/* Is the module at (x, y) of the symbol dark? Outside it (the quiet zone
 * and below the last row) is light. */
static int dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->data[(size_t)y * (size_t)qr->width + (size_t)x] & 1;
}

/* libqrencode, opened on the first QR code (dynlib.h). */
static QRcode *(*qr_encode)(const char *, int, QRecLevel, QRencodeMode, int);
static void (*qr_free)(QRcode *);

static int qr_open(void)
{
	const vl_dynsym syms[] = { { "QRcode_encodeString", &qr_encode }, { "QRcode_free", &qr_free } };

	VL_DYNSYM_CHECK(QRcode_encodeString, qr_encode);
	VL_DYNSYM_CHECK(QRcode_free, qr_free);
	return qr_free ? 0 : vl_dynlib_open(VL_SONAME_QRENCODE, "libqrencode", syms, 2);
}

#define QRcode_encodeString (*qr_encode)
#define QRcode_free (*qr_free)

int vl_qr_render(vl_buf *out, const char *text)
{
	/* Index: top light + 2 * bottom light. */
	static const char *const cell[4] = { " ", "\xe2\x96\x80", "\xe2\x96\x84", "\xe2\x96\x88" };
	QRcode *qr = NULL;
	int x, y, rc = 0;

	if ((rc = qr_open()) < 0)
		return rc;
	errno = 0;
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	if (!qr)
		return errno == ERANGE ? vl_error_set(VL_ETOOBIG, "the text is too long for a QR code")
				       : vl_error_set(errno == ENOMEM ? VL_ENOMEM : VL_ERROR,
						       "cannot make a QR code: %s", strerror(errno));
	/* The bottom half of the last cell row lies past the quiet zone: blank
	 * there, so the drawing ends exactly at the zone's edge. */
	for (y = -QUIET_ZONE; y < qr->width + QUIET_ZONE && rc == 0; y += 2) {
		for (x = -QUIET_ZONE; x < qr->width + QUIET_ZONE && rc == 0; x++) {
			int top = !dark(qr, x, y);
			int bottom = y + 1 < qr->width + QUIET_ZONE && !dark(qr, x, y + 1);
			rc = vl_buf_puts(out, cell[top + 2 * bottom]);
		}
		if (rc == 0)
			rc = vl_buf_putc(out, '\n');
	}
	QRcode_free(qr);
	return rc;
}
