/*
 * yaml.c - the strict YAML loader, the canonical emitter, JSON output and
 * the UTF-8/NFC check (see yaml.h for the contracts).
 *
 * Loading drives libyaml's event parser and builds the vl_value tree itself,
 * counting depth and nodes on every event, so that hostile input stops at a
 * cap before libyaml's quadratic deep-nesting behaviour or our allocations
 * matter (docs/threats.md). The input is checked for UTF-8, NUL, BOM and
 * NFC before libyaml sees it; scalar values are checked again after escape
 * decoding (an escape can produce a NUL or a combining mark).
 *
 * Emitting never uses libyaml's emitter: the canonical form is small, fixed
 * and written by hand below, and the emitter refuses any tree that would not
 * load back equal (non-NFC strings, malformed INT/DEC text, overlong keys), so
 * that load -> emit -> load -> emit is a fixed point.
 *
 * Thread safety: no global state; the last error is thread-local.
 */
#include "store/yaml.h"

#include <yaml.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const vl_yaml_limits vl_yaml_record_limits = {
	VL_RECORD_MAX_BYTES, VL_YAML_MAX_DEPTH, VL_YAML_MAX_NODES
};
const vl_yaml_limits vl_yaml_file_limits = {
	VL_YAML_FILE_MAX_BYTES, VL_YAML_MAX_DEPTH, VL_YAML_FILE_MAX_NODES
};

/*
 * Longest map key, in bytes. libyaml forgets a simple (implicit) key that
 * runs over 1024 characters, so a longer emitted key would not load back;
 * 200 bytes keep even a key of control characters, each escaped to 4
 * characters, under that. Keys are field names: 200 bytes is plenty.
 */
#define KEY_MAX_BYTES 200
/* A flow mapping inside a block sequence is used up to this many bytes. */
#define FLOW_MAP_MAX 100
/* Emitter recursion guard for trees built in code (loaded ones are capped). */
#define EMIT_MAX_DEPTH 128

/* ---------------------------------------------------------------- UTF-8 */

enum { U_OK = 0, U_BAD, U_NUL, U_NFC, U_BOM };

/* Decode the code point at s[0..len); return its byte length, or 0 when the
 * bytes there are not UTF-8 (truncated, overlong, surrogate, > U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xC2) /* continuation byte, or an overlong 2-byte lead */
		return 0;
	if (c < 0xE0) {
		if (len < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		*cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
		return 2;
	}
	if (c < 0xF0) {
		if (len < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		v = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
			return 0;
		*cp = v;
		return 3;
	}
	if (c < 0xF5) {
		if (len < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
				(s[3] & 0xC0) != 0x80)
			return 0;
		v = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
			((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
		if (v < 0x10000 || v > 0x10FFFF)
			return 0;
		*cp = v;
		return 4;
	}
	return 0;
}

/*
 * Code points that NFC would change and that can be told without Unicode
 * tables: combining marks (they may compose with what precedes them; we
 * refuse them all rather than carry the composition tables) and the CJK
 * compatibility ideographs, which NFC maps to unified ones. Twelve code
 * points of the U+F900 block are unified ideographs themselves, which NFC
 * leaves alone; they are allowed.
 */
static int nfc_unstable(uint32_t cp)
{
	if (cp >= 0xFA0E && cp <= 0xFA29) {
		switch (cp) {
		case 0xFA0E: case 0xFA0F: case 0xFA11: case 0xFA13: case 0xFA14:
		case 0xFA1F: case 0xFA21: case 0xFA23: case 0xFA24: case 0xFA27:
		case 0xFA28: case 0xFA29:
			return 0;
		default:
			return 1;
		}
	}
	return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
		(cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
		(cp >= 0xFE20 && cp <= 0xFE2F) || (cp >= 0xF900 && cp <= 0xFAFF) ||
		(cp >= 0x2F800 && cp <= 0x2FA1F);
}

/*
 * Eight bytes at a time (a record is mostly ASCII: its signature alone is
 * ~400 base64 bytes, scanned by every load and every emit). For a word w of
 * eight bytes: w_less(w, n) is nonzero iff some byte of w is below n
 * (n <= 0x80; exact, the classic "hasless"); w_has(w, c) iff some byte is c.
 */
#define W_ONES 0x0101010101010101ull
#define W_HIGH 0x8080808080808080ull

static uint64_t w_load(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static uint64_t w_less(uint64_t w, unsigned n)
{
	return (w - W_ONES * n) & ~w & W_HIGH;
}

static uint64_t w_has(uint64_t w, unsigned c)
{
	return w_less(w ^ (W_ONES * c), 1);
}

/* The end of the run of bytes 0x01..0x7F in p[i..len). */
static size_t ascii_run(const unsigned char *p, size_t i, size_t len)
{
	for (; i + 8 <= len; i += 8) {
		uint64_t w = w_load(p + i);
		if ((w & W_HIGH) || w_less(w, 1))
			break;
	}
	while (i < len && p[i] >= 0x01 && p[i] < 0x80)
		i++;
	return i;
}

/* Offset of the first refused code point in s[0..len) (len when none), and
 * why in *why. A BOM (U+FEFF) is refused only when no_bom is set. */
static size_t utf8_scan(const char *s, size_t len, int no_bom, int *why)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp = 0;

	*why = U_OK;
	while (i < len) {
		i = ascii_run(p, i, len); /* the common case */
		if (i >= len)
			break;
		n = utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			*why = U_BAD;
			return i;
		}
		if (cp == 0) {
			*why = U_NUL;
			return i;
		}
		if (nfc_unstable(cp)) {
			*why = U_NFC;
			return i;
		}
		if (no_bom && cp == 0xFEFF) {
			*why = U_BOM;
			return i;
		}
		i += n;
	}
	return len;
}

int vl_utf8_valid_nfc(const char *s, size_t len)
{
	int why;

	if (!s)
		return len == 0;
	return utf8_scan(s, len, 0, &why) == len;
}

static const char *utf8_problem(int why)
{
	switch (why) {
	case U_NUL: return "NUL character; text may not contain NUL";
	case U_NFC: return "combining mark or CJK compatibility ideograph; "
		"text must be in Unicode NFC (compose it first)";
	case U_BOM: return "byte order mark (U+FEFF); save the file as UTF-8 without BOM";
	default: return "invalid UTF-8 (or overlong form, surrogate, above U+10FFFF)";
	}
}

/* ---------------------------------------------------------------- loader */

typedef struct {
	vl_value *coll; /* borrowed: owned by its parent, or ld->root */
	char *key;      /* MAP: the key waiting for its value, or NULL */
	size_t *slots;  /* MAP with many keys: hash of key index + 1, 0 = free */
	size_t nslots;  /* 0, or a power of two over twice coll->n */
} frame;

typedef struct {
	const char *src;
	const char *buf;
	size_t len;
	const vl_yaml_limits *lim;
	vl_value *root;
	frame *stack;
	size_t depth, cap;
	size_t nodes;
} loader;

/* 1-based line and column (in code points) of byte offset off. */
static void pos_of_offset(const char *buf, size_t len, size_t off, size_t *line, size_t *col)
{
	size_t i, l = 1, c = 1;

	if (off > len)
		off = len;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static int fail_at(const loader *ld, int code, const yaml_mark_t *m, const char *what)
{
	return vl_error_set(code, "%s:%zu:%zu: %s", ld->src,
			m ? m->line + 1 : 1, m ? m->column + 1 : 1, what);
}

/* Report libyaml's own failure. Its problem and context strings are fixed
 * texts: they never contain the input. */
static int fail_parser(const loader *ld, const yaml_parser_t *p)
{
	size_t line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return vl_error_set(VL_ENOMEM, "%s: out of memory parsing YAML", ld->src);
	case YAML_READER_ERROR:
		pos_of_offset(ld->buf, ld->len, p->problem_offset, &line, &col);
		return vl_error_set(VL_EINVALID, "%s:%zu:%zu: %s", ld->src, line, col,
				p->problem ? p->problem : "cannot read the input");
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (p->context)
			return vl_error_set(VL_EINVALID, "%s:%zu:%zu: %s %s", ld->src,
					p->problem_mark.line + 1, p->problem_mark.column + 1,
					p->problem ? p->problem : "syntax error", p->context);
		return vl_error_set(VL_EINVALID, "%s:%zu:%zu: %s", ld->src,
				p->problem_mark.line + 1, p->problem_mark.column + 1,
				p->problem ? p->problem : "syntax error");
	default:
		return vl_error_set(VL_EINVALID, "%s: YAML parser failed", ld->src);
	}
}

/* Does s (NUL-terminated, n bytes) match -?(0|[1-9][0-9]*) ? */
static int match_int(const char *s, size_t n, size_t *digits_end)
{
	size_t i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return 0;
	if (s[i] == '0') {
		i++;
	} else {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	*digits_end = i;
	return 1;
}

static int fits_int64(const char *s)
{
	char *end = NULL;

	errno = 0;
	(void)strtoll(s, &end, 10);
	return errno != ERANGE && end && *end == '\0';
}

/* Is s[0..n) of the form -?(0|[1-9][0-9]*)(\.[0-9]+)? whose value is zero? */
static int is_negative_zero(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || s[0] != '-')
		return 0;
	for (i = 1; i < n; i++)
		if (s[i] != '0' && s[i] != '.')
			return 0;
	return 1;
}

/* The kind a plain scalar resolves to (yaml.h). */
static vl_vkind resolve_plain(const char *s, size_t n)
{
	size_t i, j;

	if (n == 0 || (n == 1 && s[0] == '~') || (n == 4 && memcmp(s, "null", 4) == 0))
		return VL_V_NULL;
	if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0))
		return VL_V_BOOL;
	if (!match_int(s, n, &i))
		return VL_V_STR;
	if (i == n)
		return fits_int64(s) ? VL_V_INT : VL_V_STR;
	if (s[i] != '.' || i + 1 >= n)
		return VL_V_STR;
	for (j = i + 1; j < n; j++)
		if (s[j] < '0' || s[j] > '9')
			return VL_V_STR;
	return VL_V_DEC;
}

/*
 * The scalar node for text s (n bytes, NUL-terminated), plain or quoted.
 * Plain scalars resolve by yaml.h; negative zero ("-0", "-0.00") is stored
 * without its sign, so that each number has one canonical text and a file
 * saying "-0" is not canonical.
 */
static vl_value *make_scalar(const char *s, size_t n, int plain)
{
	vl_vkind kind = VL_V_STR;

	if (plain)
		kind = resolve_plain(s, n);
	switch (kind) {
	case VL_V_NULL:
		return vl_value_scalar(VL_V_NULL, "null");
	case VL_V_INT:
	case VL_V_DEC:
		if (is_negative_zero(s, n))
			return vl_value_scalar(kind, s + 1);
		return vl_value_scalar(kind, s);
	case VL_V_BOOL:
		return vl_value_scalar(kind, s);
	default:
		return vl_value_strn(s, n);
	}
}

/* The scalar node for a SCALAR event. */
static vl_value *scalar_node(const yaml_event_t *ev)
{
	return make_scalar((const char *)ev->data.scalar.value, ev->data.scalar.length,
			ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
}

/*
 * Duplicate keys are found with a small open-addressing hash per map once it
 * holds more than LINEAR_KEYS keys, and entries are appended directly: with
 * vl_value_map_set's linear search a 20,000-node file would take seconds.
 */
#define LINEAR_KEYS 16

static size_t key_hash(const char *k)
{
	size_t h = (size_t)14695981039346656037ULL;

	while (*k)
		h = (h ^ (unsigned char)*k++) * (size_t)1099511628211ULL;
	return h;
}

static void slots_insert(frame *f, size_t idx)
{
	size_t mask = f->nslots - 1, h = key_hash(f->coll->keys[idx]) & mask;

	while (f->slots[h])
		h = (h + 1) & mask;
	f->slots[h] = idx + 1;
}

static int frame_has_key(loader *ld, frame *f, const char *k)
{
	const vl_value *m = f->coll;
	size_t i, want, h, mask, *ns;

	if (m->n <= LINEAR_KEYS) {
		for (i = 0; i < m->n; i++)
			if (strcmp(m->keys[i], k) == 0)
				return 1;
		return 0;
	}
	if (f->nslots < 2 * (m->n + 1)) { /* (re)build for the keys so far */
		want = 64;
		while (want < 4 * (m->n + 1))
			want *= 2;
		ns = calloc(want, sizeof(*ns));
		if (!ns)
			return vl_error_set(VL_ENOMEM, "%s: out of memory", ld->src);
		free(f->slots);
		f->slots = ns;
		f->nslots = want;
		for (i = 0; i < m->n; i++)
			slots_insert(f, i);
	}
	mask = f->nslots - 1;
	for (h = key_hash(k) & mask; f->slots[h]; h = (h + 1) & mask)
		if (strcmp(m->keys[f->slots[h] - 1], k) == 0)
			return 1;
	return 0;
}

/* Append key (owned) and val (owned) to map; both are freed on failure. The
 * caller has checked that key is new. Grows keys and items together, as
 * value.c does (value.h: one cap for both). */
static int map_append(loader *ld, frame *f, char *key, vl_value *val)
{
	vl_value *m = f->coll;
	size_t ncap;
	char **nk;
	vl_value **ni;

	if (m->n == m->cap) {
		ncap = m->cap ? m->cap * 2 : 4;
		nk = realloc(m->keys, ncap * sizeof(*nk));
		if (nk)
			m->keys = nk;
		ni = nk ? realloc(m->items, ncap * sizeof(*ni)) : NULL;
		if (ni)
			m->items = ni;
		if (!nk || !ni) {
			free(key);
			vl_value_free(val);
			return vl_error_set(VL_ENOMEM, "%s: out of memory", ld->src);
		}
		m->cap = ncap;
	}
	m->keys[m->n] = key;
	m->items[m->n] = val;
	m->n++;
	if (f->nslots)
		slots_insert(f, m->n - 1);
	return 0;
}

static int push_frame(loader *ld, vl_value *coll)
{
	frame *ns;
	size_t ncap;

	if (ld->depth == ld->cap) {
		ncap = ld->cap ? ld->cap * 2 : 16;
		ns = realloc(ld->stack, ncap * sizeof(*ns));
		if (!ns)
			return vl_error_set(VL_ENOMEM, "%s: out of memory", ld->src);
		ld->stack = ns;
		ld->cap = ncap;
	}
	ld->stack[ld->depth].coll = coll;
	ld->stack[ld->depth].key = NULL;
	ld->stack[ld->depth].slots = NULL;
	ld->stack[ld->depth].nslots = 0;
	ld->depth++;
	return 0;
}

/* Attach a new node (owned, freed on failure) to the innermost collection. */
static int attach(loader *ld, vl_value *node)
{
	frame *f = &ld->stack[ld->depth - 1];
	char *key = f->key;

	if (f->coll->kind == VL_V_LIST)
		return vl_value_list_push(f->coll, node);
	f->key = NULL; /* transferred */
	return map_append(ld, f, key, node);
}

/* Checks every node event shares: caps first, then anchors and tags. */
static int node_checks(loader *ld, const yaml_event_t *ev, const yaml_char_t *anchor,
		const yaml_char_t *tag, int collection)
{
	if (ld->nodes >= ld->lim->max_nodes)
		return fail_at(ld, VL_ETOOBIG, &ev->start_mark,
				"too many nodes; the limit is lower than this document");
	ld->nodes++;
	if (collection && (ld->lim->max_depth <= 0 || ld->depth >= (size_t)ld->lim->max_depth))
		return fail_at(ld, VL_ETOOBIG, &ev->start_mark, "nested too deeply");
	if (anchor)
		return fail_at(ld, VL_EINVALID, &ev->start_mark, "anchors (&) are not allowed");
	if (tag)
		return fail_at(ld, VL_EINVALID, &ev->start_mark, "tags (!) are not allowed");
	if (ld->depth == 0 && ev->type != YAML_MAPPING_START_EVENT)
		return fail_at(ld, VL_EINVALID, &ev->start_mark, "the top level must be a mapping");
	if (ld->depth > 0 && collection && ld->stack[ld->depth - 1].coll->kind == VL_V_MAP &&
			!ld->stack[ld->depth - 1].key)
		return fail_at(ld, VL_EINVALID, &ev->start_mark,
				"a mapping key must be a scalar, not a collection");
	return 0;
}

static int on_scalar(loader *ld, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	frame *f;
	vl_value *node;
	int rc, why;

	if ((rc = node_checks(ld, ev, ev->data.scalar.anchor, ev->data.scalar.tag, 0)) < 0)
		return rc;
	if (utf8_scan(s, n, 0, &why) != n)
		return fail_at(ld, VL_EINVALID, &ev->start_mark, why == U_NUL ?
				"a scalar contains a NUL character (from an escape)" :
				"a scalar contains a code point that is not NFC (from an escape)");
	f = &ld->stack[ld->depth - 1];
	if (f->coll->kind == VL_V_MAP && !f->key) {
		if (n > KEY_MAX_BYTES)
			return fail_at(ld, VL_EINVALID, &ev->start_mark,
					"mapping key longer than 200 bytes");
		if ((rc = frame_has_key(ld, f, s)) != 0)
			return rc < 0 ? rc : fail_at(ld, VL_EINVALID, &ev->start_mark,
					"duplicate mapping key");
		f->key = malloc(n + 1);
		if (!f->key)
			return vl_error_set(VL_ENOMEM, "%s: out of memory", ld->src);
		memcpy(f->key, s, n + 1);
		return 0;
	}
	node = scalar_node(ev);
	if (!node)
		return vl_error_set(VL_ENOMEM, "%s: out of memory", ld->src);
	node->line = (int)ev->start_mark.line + 1;
	node->col = (int)ev->start_mark.column + 1;
	return attach(ld, node);
}

static int on_collection_start(loader *ld, const yaml_event_t *ev)
{
	int map = ev->type == YAML_MAPPING_START_EVENT;
	const yaml_char_t *anchor = map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	const yaml_char_t *tag = map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
	vl_value *node;
	int rc;

	if ((rc = node_checks(ld, ev, anchor, tag, 1)) < 0)
		return rc;
	node = vl_value_new(map ? VL_V_MAP : VL_V_LIST);
	if (!node)
		return vl_error_set(VL_ENOMEM, "%s: out of memory", ld->src);
	node->line = (int)ev->start_mark.line + 1;
	node->col = (int)ev->start_mark.column + 1;
	if (ld->depth == 0) {
		ld->root = node;
	} else if ((rc = attach(ld, node)) < 0) {
		return rc;
	}
	return push_frame(ld, node); /* node is borrowed from here on */
}

/*
 * Files vledger wrote itself (the roster, records, configs) are in the
 * canonical layout: read them with the canonical reader, and keep its tree
 * only if it emits back to buf byte for byte (then it is the tree libyaml
 * gives, positions included: yaml.h, checked by fuzz_yaml). The exact
 * reader makes that proof while it reads; the emission is compared only
 * for what it refuses (none of vledger's own files), so that a refusal of
 * the exact reader changes nothing but time. Anything else goes through
 * libyaml, which gives today's messages.
 */
int vl_yaml_load(vl_value **out, const char *buf, size_t len,
		const vl_yaml_limits *lim, const char *src)
{
	return vl_yaml_load_how(out, NULL, buf, len, lim, src);
}

int vl_yaml_load_how(vl_value **out, int *canonical, const char *buf, size_t len,
		const vl_yaml_limits *lim, const char *src)
{
	vl_value *t = NULL;
	vl_buf again = VL_BUF_INIT;
	int rc;

	*out = NULL;
	if (canonical)
		*canonical = 0;
	/* exact: its acceptance is the proof, no emission to compare */
	rc = vl_yaml_load_exact(&t, buf, len, lim);
	if (rc == 0) {
		*out = t;
		if (canonical)
			*canonical = 1;
		return 0;
	}
	if (rc == VL_ENOMEM)
		return rc;
	rc = vl_yaml_load_canonical(&t, buf, len, lim);
	if (rc == 0) {
		again.max = len;
		if (vl_yaml_emit(&again, t) == 0 && again.len == len && memcmp(again.ptr, buf, len) == 0) {
			vl_buf_free(&again);
			*out = t;
			if (canonical)
				*canonical = 1;
			return 0;
		}
		vl_buf_free(&again);
		vl_value_free(t);
	} else if (rc == VL_ENOMEM) {
		return rc;
	}
	return vl_yaml_load_libyaml(out, buf, len, lim, src);
}

int vl_yaml_load_libyaml(vl_value **out, const char *buf, size_t len,
		const vl_yaml_limits *lim, const char *src)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	loader ld;
	int parser_ok = 0, have_ev = 0, docs = 0, done = 0, rc = 0, why;
	size_t bad, line, col;

	*out = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.src = src ? src : "<input>";
	ld.buf = buf;
	ld.len = len;
	ld.lim = lim ? lim : &vl_yaml_record_limits;
	if (len > ld.lim->max_bytes) {
		rc = vl_error_set(VL_ETOOBIG, "%s:1:1: input is %zu bytes, over the limit of %zu",
				ld.src, len, ld.lim->max_bytes);
		goto out;
	}
	if (!buf && len) {
		rc = vl_error_set(VL_EINVALID, "%s:1:1: no input", ld.src);
		goto out;
	}
	bad = utf8_scan(buf, len, 1, &why);
	if (bad != len) {
		pos_of_offset(buf, len, bad, &line, &col);
		rc = vl_error_set(VL_EINVALID, "%s:%zu:%zu: %s", ld.src, line, col,
				utf8_problem(why));
		goto out;
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = vl_error_set(VL_ENOMEM, "%s: out of memory starting the YAML parser", ld.src);
		goto out;
	}
	parser_ok = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)(buf ? buf : ""), len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = fail_parser(&ld, &parser);
			goto out;
		}
		have_ev = 1;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_NO_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (docs++) {
				rc = fail_at(&ld, VL_EINVALID, &ev.start_mark,
						"more than one document; a file holds exactly one");
				goto out;
			}
			if (ev.data.document_start.version_directive ||
					ev.data.document_start.tag_directives.start !=
					ev.data.document_start.tag_directives.end) {
				rc = fail_at(&ld, VL_EINVALID, &ev.start_mark,
						"directives (%YAML, %TAG) are not allowed");
				goto out;
			}
			break;
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_ALIAS_EVENT:
			rc = fail_at(&ld, VL_EINVALID, &ev.start_mark, "aliases (*) are not allowed");
			goto out;
		case YAML_SCALAR_EVENT:
			if ((rc = on_scalar(&ld, &ev)) < 0)
				goto out;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if ((rc = on_collection_start(&ld, &ev)) < 0)
				goto out;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (ld.depth > 0) {
				ld.depth--;
				free(ld.stack[ld.depth].slots);
			}
			break;
		}
		yaml_event_delete(&ev);
		have_ev = 0;
	}
	if (!ld.root) {
		rc = vl_error_set(VL_EINVALID, "%s:1:1: empty document; expected a mapping", ld.src);
		goto out;
	}
	*out = ld.root;
	ld.root = NULL; /* transferred */
out:
	if (have_ev)
		yaml_event_delete(&ev);
	if (parser_ok)
		yaml_parser_delete(&parser);
	while (ld.depth > 0) {
		ld.depth--;
		free(ld.stack[ld.depth].key);
		free(ld.stack[ld.depth].slots);
	}
	free(ld.stack);
	vl_value_free(ld.root);
	return rc;
}

/* ------------------------------------------------- canonical-form reader */

/*
 * vl_yaml_load_canonical: a reader for exactly the layout vl_yaml_emit
 * writes (yaml.h), without libyaml. It builds the tree vl_yaml_load would,
 * positions included (libyaml's marks: line, and column in code points;
 * a block map at its first key, a block sequence at its first '-', a flow
 * collection at its bracket). Anything outside that layout is refused, not
 * interpreted: the caller then loads with vl_yaml_load, which says what is
 * wrong. Plain scalars are read as the maximal run of the characters the
 * emitter writes plain ([A-Za-z0-9_.-] and non-ASCII); whether a scalar's
 * form is the canonical one is the caller's check (emit and compare).
 */
typedef struct {
	const char *b;
	size_t len, pos;
	size_t linestart;       /* offset of the current line's first byte */
	int line;               /* 1-based */
	size_t nodes;
	const vl_yaml_limits *lim;
	vl_buf tmp;             /* a scalar's text while it is read */
	int exact;              /* vl_yaml_load_exact: refuse every form the
	                         * emitter would not write for the tree read */
} canon;

static int is_safe_plain(const char *s, size_t n);
static int all_scalars(const vl_value *v);

/* The refusal: no position, the caller falls back to vl_yaml_load. */
static int canon_no(void)
{
	return vl_error_set(VL_EINVALID, "not in vledger's canonical YAML layout; read it with the full loader");
}

static void canon_mark(const canon *c, size_t at, int *line, int *col)
{
	size_t i;
	int n = 1;

	for (i = c->linestart; i < at; i++)
		n += ((unsigned char)c->b[i] & 0xC0) != 0x80;
	*line = c->line;
	*col = n;
}

static int canon_plain_byte(unsigned char ch)
{
	return ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		(ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
}

static int canon_hex(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = s[i];
		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (uint32_t)(ch - '0');
		else if (ch >= 'A' && ch <= 'F')
			v |= (uint32_t)(ch - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int canon_put_cp(vl_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			return canon_no();
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	}
	return vl_buf_put(b, u, n);
}

/*
 * Exact mode (vl_yaml_load_exact) holds a quoted scalar to emit_quoted's
 * choices. exact_raw_ok: p[0..n) is a run of unescaped bytes inside the
 * quotes (valid UTF-8, no byte below 0x20, no '"' or '\\') that
 * emit_quoted copies as it is: no DEL, no C1 control (U+0080..U+009F, C2
 * 80..C2 9F), no U+2028/U+2029 (E2 80 A8/A9), U+FEFF (EF BB BF) or
 * U+FFFE/U+FFFF (EF BF BE/BF), which it escapes.
 */
static int exact_raw_ok(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (i + 8 <= n) { /* plain ASCII without DEL: 8 bytes at a time */
			uint64_t w = w_load(p + i);
			if (!(w & W_HIGH) && !w_has(w, 0x7F)) {
				i += 8;
				continue;
			}
		}
		if (p[i] == 0x7F)
			return 0;
		if (p[i] == 0xC2 && i + 1 < n && p[i + 1] < 0xA0)
			return 0;
		if (p[i] == 0xE2 && i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9))
			return 0;
		if (p[i] == 0xEF && i + 2 < n && ((p[i + 1] == 0xBB && p[i + 2] == 0xBF) ||
				(p[i + 1] == 0xBF && (p[i + 2] == 0xBE || p[i + 2] == 0xBF))))
			return 0;
		i++;
	}
	return 1;
}

/* Does emit_quoted write cp as \xXX? The C0 controls but tab, LF and CR
 * (\t \n \r), DEL, and the C1 controls. */
static int exact_x_escape(uint32_t cp)
{
	return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F ||
		(cp >= 0x80 && cp <= 0x9F);
}

/* Does emit_quoted write cp as \uXXXX? */
static int exact_u_escape(uint32_t cp)
{
	return cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF;
}

/* A scalar at c->pos (a key when key): its text in c->tmp (NUL-ended),
 * whether it was plain in *plain. Counts a node. */
static int canon_scalar_text(canon *c, int *plain, int key)
{
	const char *b = c->b;
	size_t i = c->pos, start;
	uint32_t cp;
	int rc, why, escaped = 0;

	if (++c->nodes > c->lim->max_nodes)
		return canon_no();
	vl_buf_clear(&c->tmp);
	if (i < c->len && b[i] == '"') {
		i++;
		for (;;) {
			start = i;
			for (; i + 8 <= c->len; i += 8) { /* as the byte loop below, 8 at a time */
				uint64_t w = w_load((const unsigned char *)b + i);
				if (w_less(w, 0x20) || w_has(w, '"') || w_has(w, '\\'))
					break;
			}
			while (i < c->len && b[i] != '"' && b[i] != '\\' && (unsigned char)b[i] >= 0x20)
				i++;
			if (i > start && c->exact && !exact_raw_ok((const unsigned char *)b + start, i - start))
				return canon_no();
			if (i > start && (rc = vl_buf_put(&c->tmp, b + start, i - start)) < 0)
				return rc;
			if (i >= c->len || (unsigned char)b[i] < 0x20)
				return canon_no();
			if (b[i] == '"')
				break;
			if (i + 1 >= c->len)
				return canon_no();
			escaped = 1;
			switch (b[i + 1]) {
			case '"': rc = vl_buf_putc(&c->tmp, '"'); i += 2; break;
			case '\\': rc = vl_buf_putc(&c->tmp, '\\'); i += 2; break;
			case 'n': rc = vl_buf_putc(&c->tmp, '\n'); i += 2; break;
			case 't': rc = vl_buf_putc(&c->tmp, '\t'); i += 2; break;
			case 'r': rc = vl_buf_putc(&c->tmp, '\r'); i += 2; break;
			case 'x':
				if (i + 4 > c->len || canon_hex(b + i + 2, 2, &cp) < 0 || (c->exact && !exact_x_escape(cp)))
					return canon_no();
				rc = canon_put_cp(&c->tmp, cp);
				i += 4;
				break;
			case 'u':
				if (i + 6 > c->len || canon_hex(b + i + 2, 4, &cp) < 0 || (c->exact && !exact_u_escape(cp)))
					return canon_no();
				rc = canon_put_cp(&c->tmp, cp);
				i += 6;
				break;
			default:
				return canon_no();
			}
			if (rc < 0)
				return rc;
		}
		c->pos = i + 1;
		*plain = 0;
		/* what an escape made must pass on_scalar's check too (text
		 * without one is bytes of buf, which passed it whole, cut
		 * between characters: at quotes and backslashes) */
		if (escaped && c->tmp.len && utf8_scan(c->tmp.ptr, c->tmp.len, 0, &why) != c->tmp.len)
			return canon_no();
		/* the emitter quotes exactly the strings that are not safe plain */
		if (c->exact && is_safe_plain(c->tmp.ptr ? c->tmp.ptr : "", c->tmp.len))
			return canon_no();
	} else {
		start = i;
		while (i < c->len && canon_plain_byte((unsigned char)b[i]))
			i++;
		if (i == start)
			return canon_no();
		if ((rc = vl_buf_put(&c->tmp, b + start, i - start)) < 0)
			return rc;
		c->pos = i;
		*plain = 1;
		/* a key is a string: plain only when safe (a value: canon_scalar) */
		if (c->exact && key && !is_safe_plain(c->tmp.ptr, c->tmp.len))
			return canon_no();
	}
	if (!c->tmp.ptr && (rc = vl_buf_grow(&c->tmp, 1)) < 0)
		return rc;
	if (key && c->tmp.len > KEY_MAX_BYTES)
		return canon_no();
	return 0;
}

/* A value scalar at c->pos as a node, positioned. */
static int canon_scalar(canon *c, vl_value **out)
{
	vl_value *v = NULL;
	int line, col, plain, rc;

	canon_mark(c, c->pos, &line, &col);
	if ((rc = canon_scalar_text(c, &plain, 0)) < 0)
		return rc;
	if (!(v = make_scalar(c->tmp.ptr, c->tmp.len, plain)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	/* A plain string is written plain only when safe; any other plain
	 * scalar as its text, which make_scalar may have changed ("~" is
	 * "null", "-0" is "0"): then the source is not the canonical form. */
	if (c->exact && plain && (v->kind == VL_V_STR ? !is_safe_plain(v->s, v->slen)
			: (v->slen != c->tmp.len || memcmp(v->s, c->tmp.ptr, v->slen) != 0))) {
		vl_value_free(v);
		return canon_no();
	}
	v->line = line;
	v->col = col;
	*out = v;
	return 0;
}

static int canon_lit(canon *c, const char *s)
{
	size_t n = strlen(s);

	if (c->len - c->pos < n || memcmp(c->b + c->pos, s, n) != 0)
		return 0;
	c->pos += n;
	return 1;
}

/* Past the '\n' at c->pos. */
static int canon_eol(canon *c)
{
	if (c->pos >= c->len || c->b[c->pos] != '\n')
		return canon_no();
	c->pos++;
	c->line++;
	c->linestart = c->pos;
	return 0;
}

/* Spaces at the start of the current line (c->pos at its start). */
static size_t canon_indent(const canon *c)
{
	size_t i = c->pos;

	while (i < c->len && c->b[i] == ' ')
		i++;
	return i - c->pos;
}

/* A new collection at depth (the top map is 0), positioned at `at`. */
static int canon_coll(canon *c, vl_value **out, vl_vkind kind, int depth, size_t at)
{
	vl_value *v;

	if (++c->nodes > c->lim->max_nodes || c->lim->max_depth <= 0 || depth >= c->lim->max_depth)
		return canon_no();
	if (c->exact && depth + 2 > EMIT_MAX_DEPTH) /* deeper than the emitter writes */
		return canon_no();
	if (!(v = vl_value_new(kind)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	canon_mark(c, at, &v->line, &v->col);
	*out = v;
	return 0;
}

/* Most keys a map read here may have; a bigger one is left to vl_yaml_load. */
#define CANON_MAP_MAX 64

/* Add key (keylen bytes) -> val to map (val taken); lens[i] is the length
 * of map->keys[i], kept by the caller so that the search for a duplicate
 * compares only keys of the same length (a strcmp per key and entry was
 * a good part of a record's read). Duplicate keys, and maps too big for a
 * linear search, are left to vl_yaml_load. */
static int canon_map_add(vl_value *map, size_t lens[CANON_MAP_MAX], const char *key, size_t keylen,
		vl_value *val)
{
	size_t i;

	if (map->n >= CANON_MAP_MAX) {
		vl_value_free(val);
		return canon_no();
	}
	for (i = 0; i < map->n; i++) {
		if (lens[i] == keylen && memcmp(map->keys[i], key, keylen) == 0) {
			vl_value_free(val);
			return canon_no();
		}
	}
	lens[map->n] = keylen;
	return vl_value_map_append(map, key, keylen, val);
}

static int canon_block_map(canon *c, vl_value *map, size_t indent, int inline_first, int depth,
		size_t *entry_bytes);
static int canon_block_seq(canon *c, vl_value *list, size_t indent, int inline_first, int depth);

/*
 * Exact mode, a map of scalars (map) read in block style as a sequence
 * item, whose entry lines "key: value" hold entry_bytes bytes in all: 0
 * when the emitter writes it so, that is when its flow form
 * "{key: value, ...}" is over FLOW_MAP_MAX bytes, else canon_no(). The
 * flow form has the same keys and values, each written as here (they are
 * exact), so its length is known without writing it (a roster has a
 * thousand such items).
 */
static int block_item_exact(const vl_value *map, size_t entry_bytes)
{
	return map->n && 2 + entry_bytes + 2 * (map->n - 1) > FLOW_MAP_MAX ? 0 : canon_no();
}

/* "[a, b]" or "[]" at c->pos, as a list at depth. */
static int canon_flow_seq(canon *c, vl_value **out, int depth)
{
	vl_value *list = NULL, *item = NULL;
	int rc;

	if ((rc = canon_coll(c, &list, VL_V_LIST, depth, c->pos)) < 0)
		return rc;
	c->pos++; /* '[' */
	if (!canon_lit(c, "]")) {
		for (;;) {
			if ((rc = canon_scalar(c, &item)) < 0 || (rc = vl_value_list_push(list, item)) < 0)
				goto fail;
			if (canon_lit(c, "]"))
				break;
			if (!canon_lit(c, ", ")) {
				rc = canon_no();
				goto fail;
			}
		}
	}
	*out = list;
	return 0;
fail:
	vl_value_free(list);
	return rc;
}

/* "{k: v, ...}" or "{}" at c->pos, as a map at depth. */
static int canon_flow_map(canon *c, vl_value **out, int depth)
{
	vl_value *map = NULL, *item = NULL;
	char key[KEY_MAX_BYTES + 1];
	size_t keylen, lens[CANON_MAP_MAX];
	int plain, rc;

	if ((rc = canon_coll(c, &map, VL_V_MAP, depth, c->pos)) < 0)
		return rc;
	c->pos++; /* '{' */
	if (!canon_lit(c, "}")) {
		for (;;) {
			if ((rc = canon_scalar_text(c, &plain, 1)) < 0)
				goto fail;
			keylen = c->tmp.len;
			memcpy(key, c->tmp.ptr, keylen + 1);
			if (!canon_lit(c, ": ")) {
				rc = canon_no();
				goto fail;
			}
			if ((rc = canon_scalar(c, &item)) < 0 || (rc = canon_map_add(map, lens, key, keylen, item)) < 0)
				goto fail;
			if (canon_lit(c, "}"))
				break;
			if (!canon_lit(c, ", ")) {
				rc = canon_no();
				goto fail;
			}
		}
	}
	*out = map;
	return 0;
fail:
	vl_value_free(map);
	return rc;
}

/* The value after "key:" of a block map at indent. */
static int canon_entry_value(canon *c, vl_value **out, size_t indent, int depth)
{
	vl_value *v = NULL;
	size_t at;
	int rc;

	if (canon_lit(c, " ")) {
		if (c->pos < c->len && (c->b[c->pos] == '[' || c->b[c->pos] == '{')) {
			rc = c->b[c->pos] == '[' ? canon_flow_seq(c, &v, depth) : canon_flow_map(c, &v, depth);
			/* only an empty map is written in flow style here */
			if (rc == 0 && v->kind == VL_V_MAP && v->n) {
				vl_value_free(v);
				return canon_no();
			}
		} else {
			rc = canon_scalar(c, &v);
		}
		if (rc < 0)
			return rc;
		if ((rc = canon_eol(c)) < 0) {
			vl_value_free(v);
			return rc;
		}
		*out = v;
		return 0;
	}
	if ((rc = canon_eol(c)) < 0)
		return rc;
	if (canon_indent(c) != indent + 2)
		return canon_no();
	at = c->pos + indent + 2;
	if (c->len - at >= 2 && c->b[at] == '-' && c->b[at + 1] == ' ') {
		if ((rc = canon_coll(c, &v, VL_V_LIST, depth, at)) < 0)
			return rc;
		rc = canon_block_seq(c, v, indent + 2, 0, depth);
	} else {
		if ((rc = canon_coll(c, &v, VL_V_MAP, depth, at)) < 0)
			return rc;
		rc = canon_block_map(c, v, indent + 2, 0, depth, NULL);
	}
	/* the emitter writes a list of scalars in flow style */
	if (rc == 0 && c->exact && v->kind == VL_V_LIST && all_scalars(v))
		rc = canon_no();
	if (rc < 0 || v->n == 0) {
		vl_value_free(v);
		return rc < 0 ? rc : canon_no();
	}
	*out = v;
	return 0;
}

/* Entries at column indent into map (a collection at depth); with
 * inline_first, the first follows a "- " already read. Stops at a line
 * indented otherwise, or the end. entry_bytes (may be NULL) receives the
 * bytes of the entries' lines, indents and line ends left out. */
static int canon_block_map(canon *c, vl_value *map, size_t indent, int inline_first, int depth,
		size_t *entry_bytes)
{
	vl_value *v = NULL;
	char key[KEY_MAX_BYTES + 1];
	size_t keylen, lens[CANON_MAP_MAX], start, bytes = 0;
	int first = 1, plain, rc;

	for (;;) {
		if (!(first && inline_first)) {
			if (c->pos >= c->len || canon_indent(c) != indent)
				break;
			c->pos += indent;
		}
		first = 0;
		start = c->pos;
		if ((rc = canon_scalar_text(c, &plain, 1)) < 0)
			return rc;
		keylen = c->tmp.len;
		memcpy(key, c->tmp.ptr, keylen + 1);
		if (!canon_lit(c, ":"))
			return canon_no();
		if ((rc = canon_entry_value(c, &v, indent, depth + 1)) < 0 ||
				(rc = canon_map_add(map, lens, key, keylen, v)) < 0)
			return rc;
		bytes += c->pos - start - 1; /* a scalar's entry: one line, its '\n' read */
	}
	if (entry_bytes)
		*entry_bytes = bytes;
	return 0;
}

/* Items "- x" at column indent into list (a collection at depth); with
 * inline_first, the first "- " follows one already read. */
static int canon_block_seq(canon *c, vl_value *list, size_t indent, int inline_first, int depth)
{
	vl_value *v = NULL;
	size_t at, save, i, bytes = 0;
	int first = 1, rc;

	for (;;) {
		if (!(first && inline_first)) {
			if (c->pos >= c->len || canon_indent(c) != indent)
				break;
			c->pos += indent;
		}
		first = 0;
		if (!canon_lit(c, "- "))
			return canon_no();
		v = NULL; /* the previous item is the list's */
		at = c->pos;
		if (at < c->len && c->b[at] == '[') {
			rc = canon_flow_seq(c, &v, depth + 1);
		} else if (at < c->len && c->b[at] == '{') {
			rc = canon_flow_map(c, &v, depth + 1);
			/* a map of scalars is written in flow style up to FLOW_MAP_MAX
			 * bytes (exactly its bytes here, its scalars being exact) */
			if (rc == 0 && c->exact && c->pos - at > FLOW_MAP_MAX)
				rc = canon_no();
		} else if (c->len - at >= 2 && c->b[at] == '-' && c->b[at + 1] == ' ') {
			if ((rc = canon_coll(c, &v, VL_V_LIST, depth + 1, at)) == 0)
				rc = canon_block_seq(c, v, indent + 2, 1, depth + 1);
			if (rc == 0 && c->exact && all_scalars(v)) /* written [a, b] */
				rc = canon_no();
			if (rc == 0) {
				if ((rc = vl_value_list_push(list, v)) < 0)
					return rc;
				continue; /* the inner sequence read its lines */
			}
		} else {
			/* a scalar, or the first key of a block map: look past it */
			save = c->pos;
			i = c->nodes;
			if ((rc = canon_scalar(c, &v)) < 0)
				return rc;
			if (c->pos < c->len && c->b[c->pos] == ':') {
				vl_value_free(v);
				v = NULL;
				c->pos = save;
				c->nodes = i;
				if ((rc = canon_coll(c, &v, VL_V_MAP, depth + 1, at)) == 0)
					rc = canon_block_map(c, v, indent + 2, 1, depth + 1, &bytes);
				if (rc == 0 && c->exact && all_scalars(v))
					rc = block_item_exact(v, bytes);
				if (rc == 0) {
					if ((rc = vl_value_list_push(list, v)) < 0)
						return rc;
					continue;
				}
			}
		}
		if (rc < 0) {
			vl_value_free(v);
			return rc;
		}
		if ((rc = canon_eol(c)) < 0) {
			vl_value_free(v);
			return rc;
		}
		if ((rc = vl_value_list_push(list, v)) < 0)
			return rc;
	}
	return 0;
}

static int canon_load(vl_value **out, const char *buf, size_t len, const vl_yaml_limits *lim, int exact)
{
	canon c;
	vl_value *root = NULL;
	int rc, why;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.b = buf;
	c.len = len;
	c.line = 1;
	c.lim = lim ? lim : &vl_yaml_record_limits;
	c.exact = exact;
	if (!buf || len == 0 || len > c.lim->max_bytes || utf8_scan(buf, len, 1, &why) != len)
		return canon_no();
	if ((rc = canon_coll(&c, &root, VL_V_MAP, 0, 0)) < 0)
		goto out;
	if (len == 3 && memcmp(buf, "{}\n", 3) == 0)
		c.pos = len;
	else if ((rc = canon_block_map(&c, root, 0, 0, 0, NULL)) < 0)
		goto out;
	if (c.pos != len) {
		rc = canon_no();
		goto out;
	}
	*out = root;
	root = NULL;
out:
	vl_value_free(root);
	vl_buf_free(&c.tmp);
	return rc;
}

int vl_yaml_load_canonical(vl_value **out, const char *buf, size_t len, const vl_yaml_limits *lim)
{
	return canon_load(out, buf, len, lim, 0);
}

int vl_yaml_load_exact(vl_value **out, const char *buf, size_t len, const vl_yaml_limits *lim)
{
	return canon_load(out, buf, len, lim, 1);
}

/* --------------------------------------------------------------- emitter */

static int is_scalar(const vl_value *v)
{
	return v->kind != VL_V_LIST && v->kind != VL_V_MAP;
}

/* 1 if every item of the LIST/MAP v is a scalar. */
static int all_scalars(const vl_value *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!v->items[i] || !is_scalar(v->items[i]))
			return 0;
	return 1;
}

static int ascii_ieq(const char *s, size_t n, const char *word)
{
	size_t i;

	if (strlen(word) != n)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return 0;
	}
	return 1;
}

static int is_ascii_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The safe-plain rule of yaml.h. s is valid UTF-8. */
static int is_safe_plain(const char *s, size_t n)
{
	static const char *const reserved[] = {
		"y", "n", "yes", "no", "true", "false", "on", "off", "null"
	};
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, w;
	uint32_t cp;

	if (n == 0)
		return 0;
	/* the reserved words are at most 5 bytes, and begin with y, n, t, f
	 * or o in either case (| 0x20 lowers those letters): other text is
	 * none of them (every map key of every record is checked here) */
	if (n <= 5) {
		unsigned char f = (unsigned char)(p[0] | 0x20);
		for (k = 0; (f == 'y' || f == 'n' || f == 't' || f == 'f' || f == 'o') &&
				k < sizeof(reserved) / sizeof(reserved[0]); k++)
			if (ascii_ieq(s, n, reserved[k]))
				return 0;
	}
	while (i < n) {
		if (p[i] < 0x80) {
			unsigned char c = p[i];

			if (!is_ascii_letter(c) && (i == 0 || !((c >= '0' && c <= '9') ||
					c == '_' || c == '-' || c == '.')))
				return 0;
			i++;
			continue;
		}
		w = utf8_decode(p + i, n - i, &cp);
		if (w == 0)
			return 0;
		if (!((cp >= 0x3000 && cp <= 0xD7FF) || (cp >= 0xF900 && cp <= 0xFFEF)) ||
				cp == 0xFEFF)
			return 0;
		i += w;
	}
	return 1;
}

static const char hexdig[] = "0123456789ABCDEF";

/* Double-quoted form. s is valid UTF-8. Escapes: \" \\ \n \t \r, \xXX for the
 * other C0 controls, DEL and the C1 controls (NEL included: libyaml reads a
 * raw one as a line break), \uXXXX for U+2028, U+2029 (line breaks to
 * libyaml), U+FEFF (a BOM) and U+FFFE/U+FFFF (refused raw by libyaml). */
static int emit_quoted(vl_buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start, w;
	uint32_t cp = 0;
	char esc[6];
	int rc;

	if ((rc = vl_buf_putc(out, '"')) < 0)
		return rc;
	while (i < n) {
		start = i;
		/* copy a run that needs no escape in one go (ASCII 8 bytes at a time) */
		for (; i + 8 <= n; i += 8) {
			uint64_t q = w_load(p + i);
			if ((q & W_HIGH) || w_less(q, 0x20) || w_has(q, 0x7F) || w_has(q, '"') || w_has(q, '\\'))
				break;
		}
		while (i < n) {
			if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '"' && p[i] != '\\') {
				i++;
				continue;
			}
			if (p[i] < 0x80)
				break;
			w = utf8_decode(p + i, n - i, &cp);
			if (w == 0)
				return vl_error_set(VL_EINVALID, "cannot emit a string that is not UTF-8");
			if (cp <= 0x9F || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF ||
					cp == 0xFFFE || cp == 0xFFFF)
				break;
			i += w;
		}
		if (i > start && (rc = vl_buf_put(out, s + start, i - start)) < 0)
			return rc;
		if (i >= n)
			break;
		if (p[i] < 0x80) {
			cp = p[i];
			w = 1;
		} else {
			w = utf8_decode(p + i, n - i, &cp);
		}
		esc[0] = '\\';
		switch (cp) {
		case '"': esc[1] = '"'; rc = vl_buf_put(out, esc, 2); break;
		case '\\': esc[1] = '\\'; rc = vl_buf_put(out, esc, 2); break;
		case '\n': esc[1] = 'n'; rc = vl_buf_put(out, esc, 2); break;
		case '\t': esc[1] = 't'; rc = vl_buf_put(out, esc, 2); break;
		case '\r': esc[1] = 'r'; rc = vl_buf_put(out, esc, 2); break;
		default:
			if (cp <= 0xFF) {
				esc[1] = 'x';
				esc[2] = hexdig[(cp >> 4) & 0xF];
				esc[3] = hexdig[cp & 0xF];
				rc = vl_buf_put(out, esc, 4);
			} else {
				esc[1] = 'u';
				esc[2] = hexdig[(cp >> 12) & 0xF];
				esc[3] = hexdig[(cp >> 8) & 0xF];
				esc[4] = hexdig[(cp >> 4) & 0xF];
				esc[5] = hexdig[cp & 0xF];
				rc = vl_buf_put(out, esc, 6);
			}
			break;
		}
		if (rc < 0)
			return rc;
		i += w;
	}
	return vl_buf_putc(out, '"');
}

/* A string (value or key) in canonical form; refuses what would not load. */
static int emit_str(vl_buf *out, const char *s, size_t n)
{
	int why;

	if (utf8_scan(s, n, 0, &why) != n)
		return vl_error_set(VL_EINVALID, "cannot emit a string with %s", utf8_problem(why));
	if (is_safe_plain(s, n))
		return vl_buf_put(out, s, n);
	return emit_quoted(out, s, n);
}

static int emit_key(vl_buf *out, const char *k)
{
	size_t n = strlen(k);

	if (n > KEY_MAX_BYTES)
		return vl_error_set(VL_EINVALID, "cannot emit a map key longer than %d bytes",
				KEY_MAX_BYTES);
	return emit_str(out, k, n);
}

/* Is the text of a non-STR scalar what the loader would resolve back to the
 * same kind and text? */
static int scalar_text_ok(const vl_value *v)
{
	if (!v->s || strlen(v->s) != v->slen)
		return 0;
	switch (v->kind) {
	case VL_V_NULL:
		return strcmp(v->s, "null") == 0;
	case VL_V_BOOL:
		return strcmp(v->s, "true") == 0 || strcmp(v->s, "false") == 0;
	case VL_V_INT:
	case VL_V_DEC:
		if (resolve_plain(v->s, v->slen) != v->kind || is_negative_zero(v->s, v->slen))
			return 0;
		return 1;
	case VL_V_STR:
		return 1;
	default:
		return 0;
	}
}

static const char *kind_name(vl_vkind k)
{
	switch (k) {
	case VL_V_NULL: return "null";
	case VL_V_STR: return "string";
	case VL_V_INT: return "integer";
	case VL_V_DEC: return "decimal";
	case VL_V_BOOL: return "boolean";
	case VL_V_LIST: return "list";
	default: return "map";
	}
}

static int emit_scalar(vl_buf *out, const vl_value *v)
{
	if (!v || !is_scalar(v))
		return vl_error_set(VL_EINVALID, "cannot emit a %s as a scalar",
				v ? kind_name(v->kind) : "missing value");
	if (!scalar_text_ok(v))
		return vl_error_set(VL_EINVALID, "cannot emit a malformed %s scalar",
				kind_name(v->kind));
	if (v->kind == VL_V_STR)
		return emit_str(out, v->s, v->slen);
	return vl_buf_put(out, v->s, v->slen);
}

int vl_yaml_emit_scalar(vl_buf *out, const vl_value *v)
{
	size_t mark = out->len;
	int rc = emit_scalar(out, v);

	if (rc < 0 && out->ptr) { /* leave out as it was */
		out->len = mark;
		out->ptr[mark] = '\0';
	}
	return rc;
}

static int emit_indent(vl_buf *out, int indent)
{
	int rc = 0;

	while (indent-- > 0 && rc == 0)
		rc = vl_buf_putc(out, ' ');
	return rc;
}

/* `[a, "b"]` for a list of scalars. */
static int emit_flow_seq(vl_buf *out, const vl_value *list)
{
	size_t i;
	int rc;

	if ((rc = vl_buf_putc(out, '[')) < 0)
		return rc;
	for (i = 0; i < list->n; i++) {
		if (i && (rc = vl_buf_put(out, ", ", 2)) < 0)
			return rc;
		if ((rc = emit_scalar(out, list->items[i])) < 0)
			return rc;
	}
	return vl_buf_putc(out, ']');
}

/* `{k: v, k2: v2}` for a map of scalars. */
static int emit_flow_map(vl_buf *out, const vl_value *map)
{
	size_t i;
	int rc;

	if ((rc = vl_buf_putc(out, '{')) < 0)
		return rc;
	for (i = 0; i < map->n; i++) {
		if (i && (rc = vl_buf_put(out, ", ", 2)) < 0)
			return rc;
		if ((rc = emit_key(out, map->keys[i])) < 0 ||
				(rc = vl_buf_put(out, ": ", 2)) < 0 ||
				(rc = emit_scalar(out, map->items[i])) < 0)
			return rc;
	}
	return vl_buf_putc(out, '}');
}

static int emit_block_map(vl_buf *out, const vl_value *map, int indent, int inline_first,
		int depth);
static int emit_block_seq(vl_buf *out, const vl_value *list, int indent, int inline_first,
		int depth);

static int check_node(const vl_value *v, int depth)
{
	if (!v)
		return vl_error_set(VL_EINVALID, "cannot emit a missing (NULL) value");
	if (depth > EMIT_MAX_DEPTH)
		return vl_error_set(VL_ETOOBIG, "cannot emit a tree nested deeper than %d",
				EMIT_MAX_DEPTH);
	if (v->kind == VL_V_MAP && v->n && (!v->keys || !v->items))
		return vl_error_set(VL_EINVALID, "cannot emit a malformed map");
	if (v->kind == VL_V_LIST && v->n && !v->items)
		return vl_error_set(VL_EINVALID, "cannot emit a malformed list");
	return 0;
}

/* The value of a block-map entry, written after "key:". */
static int emit_entry_value(vl_buf *out, const vl_value *v, int indent, int depth)
{
	int rc;

	if ((rc = check_node(v, depth)) < 0)
		return rc;
	if (is_scalar(v)) {
		if ((rc = vl_buf_putc(out, ' ')) < 0 || (rc = emit_scalar(out, v)) < 0)
			return rc;
		return vl_buf_putc(out, '\n');
	}
	if (v->n == 0)
		return vl_buf_puts(out, v->kind == VL_V_MAP ? " {}\n" : " []\n");
	if (v->kind == VL_V_LIST && all_scalars(v)) {
		if ((rc = vl_buf_putc(out, ' ')) < 0 || (rc = emit_flow_seq(out, v)) < 0)
			return rc;
		return vl_buf_putc(out, '\n');
	}
	if ((rc = vl_buf_putc(out, '\n')) < 0)
		return rc;
	if (v->kind == VL_V_MAP)
		return emit_block_map(out, v, indent + 2, 0, depth + 1);
	return emit_block_seq(out, v, indent + 2, 0, depth + 1);
}

/* A block-sequence item, written after "- "; indent is its column. */
static int emit_seq_item(vl_buf *out, const vl_value *v, int indent, int depth)
{
	vl_buf flow = VL_BUF_INIT;
	int rc;

	if ((rc = check_node(v, depth)) < 0)
		return rc;
	if (is_scalar(v)) {
		if ((rc = emit_scalar(out, v)) < 0)
			return rc;
		return vl_buf_putc(out, '\n');
	}
	if (v->n == 0)
		return vl_buf_puts(out, v->kind == VL_V_MAP ? "{}\n" : "[]\n");
	if (v->kind == VL_V_LIST) {
		if (all_scalars(v)) {
			if ((rc = emit_flow_seq(out, v)) < 0)
				return rc;
			return vl_buf_putc(out, '\n');
		}
		return emit_block_seq(out, v, indent, 1, depth + 1);
	}
	if (all_scalars(v)) {
		if ((rc = emit_flow_map(&flow, v)) < 0)
			goto out;
		if (flow.len <= FLOW_MAP_MAX) {
			if ((rc = vl_buf_put(out, flow.ptr, flow.len)) < 0)
				goto out;
			rc = vl_buf_putc(out, '\n');
			goto out;
		}
	}
	rc = emit_block_map(out, v, indent, 1, depth + 1);
out:
	vl_buf_free(&flow);
	return rc;
}

/* Entries at column indent; with inline_first the first one follows a "- "
 * already written. */
static int emit_block_map(vl_buf *out, const vl_value *map, int indent, int inline_first,
		int depth)
{
	size_t i;
	int rc;

	for (i = 0; i < map->n; i++) {
		if ((i > 0 || !inline_first) && (rc = emit_indent(out, indent)) < 0)
			return rc;
		if (!map->keys[i])
			return vl_error_set(VL_EINVALID, "cannot emit a map with a missing key");
		if ((rc = emit_key(out, map->keys[i])) < 0 || (rc = vl_buf_putc(out, ':')) < 0)
			return rc;
		if ((rc = emit_entry_value(out, map->items[i], indent, depth)) < 0)
			return rc;
	}
	return 0;
}

static int emit_block_seq(vl_buf *out, const vl_value *list, int indent, int inline_first,
		int depth)
{
	size_t i;
	int rc;

	for (i = 0; i < list->n; i++) {
		if ((i > 0 || !inline_first) && (rc = emit_indent(out, indent)) < 0)
			return rc;
		if ((rc = vl_buf_put(out, "- ", 2)) < 0)
			return rc;
		if ((rc = emit_seq_item(out, list->items[i], indent + 2, depth)) < 0)
			return rc;
	}
	return 0;
}

int vl_yaml_emit(vl_buf *out, const vl_value *map)
{
	size_t mark = out->len;
	int rc;

	if (!map || map->kind != VL_V_MAP)
		return vl_error_set(VL_EINVALID, "the top level of a YAML document must be a map");
	if ((rc = check_node(map, 1)) < 0)
		return rc;
	if (map->n == 0)
		return vl_buf_puts(out, "{}\n");
	rc = emit_block_map(out, map, 0, 0, 1);
	if (rc < 0 && out->ptr) { /* leave out as it was */
		out->len = mark;
		out->ptr[mark] = '\0';
	}
	return rc;
}

/* ------------------------------------------------------------------ JSON */

int vl_json_str(vl_buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start, w;
	uint32_t cp = 0;
	char esc[6];
	int rc;

	if (!s && len)
		return vl_error_set(VL_EINVALID, "no string to write as JSON");
	if ((rc = vl_buf_putc(out, '"')) < 0)
		return rc;
	while (i < len) {
		start = i;
		while (i < len) {
			if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '"' && p[i] != '\\') {
				i++;
				continue;
			}
			if (p[i] < 0x80)
				break;
			w = utf8_decode(p + i, len - i, &cp);
			if (w == 0)
				return vl_error_set(VL_EINVALID, "cannot write a string that is not UTF-8 as JSON");
			if (cp == 0x2028 || cp == 0x2029) /* breaks JavaScript string literals */
				break;
			i += w;
		}
		if (i > start && (rc = vl_buf_put(out, s + start, i - start)) < 0)
			return rc;
		if (i >= len)
			break;
		if (p[i] < 0x80) {
			cp = p[i];
			w = 1;
		} else {
			w = utf8_decode(p + i, len - i, &cp);
		}
		esc[0] = '\\';
		switch (cp) {
		case '"': esc[1] = '"'; rc = vl_buf_put(out, esc, 2); break;
		case '\\': esc[1] = '\\'; rc = vl_buf_put(out, esc, 2); break;
		case '\n': esc[1] = 'n'; rc = vl_buf_put(out, esc, 2); break;
		case '\t': esc[1] = 't'; rc = vl_buf_put(out, esc, 2); break;
		case '\r': esc[1] = 'r'; rc = vl_buf_put(out, esc, 2); break;
		case '\b': esc[1] = 'b'; rc = vl_buf_put(out, esc, 2); break;
		case '\f': esc[1] = 'f'; rc = vl_buf_put(out, esc, 2); break;
		default:
			esc[1] = 'u';
			esc[2] = "0123456789abcdef"[(cp >> 12) & 0xF];
			esc[3] = "0123456789abcdef"[(cp >> 8) & 0xF];
			esc[4] = "0123456789abcdef"[(cp >> 4) & 0xF];
			esc[5] = "0123456789abcdef"[cp & 0xF];
			rc = vl_buf_put(out, esc, 6);
			break;
		}
		if (rc < 0)
			return rc;
		i += w;
	}
	return vl_buf_putc(out, '"');
}

static int json_newline(vl_buf *out, int indent, int level)
{
	int rc;

	if (indent <= 0)
		return 0;
	if ((rc = vl_buf_putc(out, '\n')) < 0)
		return rc;
	return emit_indent(out, indent * level);
}

static int json_value(vl_buf *out, const vl_value *v, int indent, int level)
{
	size_t i;
	int rc;

	if ((rc = check_node(v, level + 1)) < 0)
		return rc;
	if (v->kind == VL_V_STR)
		return vl_json_str(out, v->s ? v->s : "", v->s ? v->slen : 0);
	if (is_scalar(v)) {
		if (!scalar_text_ok(v))
			return vl_error_set(VL_EINVALID, "cannot write a malformed %s as JSON",
					kind_name(v->kind));
		return vl_buf_put(out, v->s, v->slen);
	}
	if (v->n == 0)
		return vl_buf_puts(out, v->kind == VL_V_MAP ? "{}" : "[]");
	if ((rc = vl_buf_putc(out, v->kind == VL_V_MAP ? '{' : '[')) < 0)
		return rc;
	for (i = 0; i < v->n; i++) {
		if (i && (rc = vl_buf_putc(out, ',')) < 0)
			return rc;
		if ((rc = json_newline(out, indent, level + 1)) < 0)
			return rc;
		if (v->kind == VL_V_MAP) {
			if (!v->keys[i])
				return vl_error_set(VL_EINVALID, "cannot write a map with a missing key");
			if ((rc = vl_json_str(out, v->keys[i], strlen(v->keys[i]))) < 0 ||
					(rc = vl_buf_puts(out, indent > 0 ? ": " : ":")) < 0)
				return rc;
		}
		if ((rc = json_value(out, v->items[i], indent, level + 1)) < 0)
			return rc;
	}
	if ((rc = json_newline(out, indent, level)) < 0)
		return rc;
	return vl_buf_putc(out, v->kind == VL_V_MAP ? '}' : ']');
}

int vl_json_emit(vl_buf *out, const vl_value *v, int indent)
{
	size_t mark = out->len;
	int rc = json_value(out, v, indent, 0);

	if (rc < 0 && out->ptr) {
		out->len = mark;
		out->ptr[mark] = '\0';
	}
	return rc;
}
