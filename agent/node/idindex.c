/* idindex.c - the record id index (see idindex.h). */
#include "agent/node/idindex.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "store/record.h"
#include "store/ulid.h"

/*
 * File layout (docs/formats.md §2), integers little-endian:
 *   "VLIDX\0\0\1"  u32 nbranches  u32 nledgers  u32 nentries  u32 0
 *   nbranches x (12-byte scope, 20-byte head id), in scope order
 *   nledgers x 32-byte ledger name, NUL padded
 *   257 x u32 section starts (entry numbers; [0] = 0, [256] = nentries)
 *   256 x 16-byte BLAKE2b of each section's entry bytes
 *   32-byte BLAKE2b of all the above
 *   nentries x (16-byte id, u16 branch, u16 ledger), in (id[15], id,
 *   branch, ledger) order: section k holds the ids whose last byte is k
 *   (random bits of the ULID), so that a lookup reads and checks the
 *   header and one section, not the whole file.
 */
#define MAGIC "VLIDX\0\0\1"
#define FIXED 24
#define ENTRY 20
#define NSEC 256
#define SECSUM 16
#define HEADSUM 32
#define BRANCH_BYTES 32
#define LEDGER_BYTES 32

static const char crockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

typedef struct {
	uint8_t id[16];
	uint16_t branch, ledger;
} ent;

typedef struct {
	char scope[13];
	git_oid head;
} branch;

/* Between vl_idindex_hold and release. */
typedef struct {
	int on;
	branch *cur;     /* the heads at hold (they do not move until release) */
	size_t ncur;
	unsigned probes; /* lookups answered from the file's sections */
	int tried;       /* bring_up was tried (fresh says whether it worked) */
} hold_state;

struct vl_idindex {
	branch *branches;
	size_t nbranches;
	char (*ledgers)[LEDGER_BYTES + 1];
	size_t nledgers;
	ent *entries;
	size_t nentries, capentries;
	int loaded; /* holds every entry (parsed whole or built) */
	int fresh;  /* held and brought up to date with hold.cur */
	hold_state hold;
	int distrust; /* proved wrong under a hold: nothing of the file or of
	               * x is believed until a rebuild from the branches */
};

/* While held, this many lookups read their section of the file (probe)
 * before the whole index is loaded, brought up to date and saved: a
 * receive with no new record id (a day of edits) or a few costs no more
 * than those sections, and one with many pays the whole file once. */
#define HOLD_PROBES 64

/* A growable list of entries. */
typedef struct {
	ent *v;
	size_t n, cap;
} entvec;

void vl_idindex_free(vl_idindex *x)
{
	if (!x)
		return;
	free(x->branches);
	free(x->ledgers);
	free(x->entries);
	free(x->hold.cur);
	free(x);
}

size_t vl_idindex_count(const vl_idindex *x)
{
	return x ? x->nentries : 0;
}

/* Drop everything x holds, keeping its hold state. */
static void reset(vl_idindex *x)
{
	free(x->branches);
	free(x->ledgers);
	free(x->entries);
	x->branches = NULL;
	x->ledgers = NULL;
	x->entries = NULL;
	x->nbranches = x->nledgers = x->nentries = x->capentries = 0;
	x->loaded = 0;
	x->fresh = 0;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* A valid ULID (vl_ulid_valid) as its 128-bit value, big-endian. */
static void id_bin(uint8_t out[16], const char *id)
{
	uint64_t hi = 0, lo = 0;
	size_t i;
	int k;

	for (i = 0; i < VL_ULID_LEN; i++) {
		const char *p = strchr(crockford, id[i]);
		uint64_t v = p ? (uint64_t)(p - crockford) : 0;
		hi = hi << 5 | lo >> 59;
		lo = lo << 5 | v;
	}
	for (k = 0; k < 8; k++) {
		out[k] = (uint8_t)(hi >> (56 - 8 * k));
		out[8 + k] = (uint8_t)(lo >> (56 - 8 * k));
	}
}

/* The bucket (crockford digit of the id's last character) of an id. */
static unsigned bucket_of(const uint8_t id[16])
{
	return id[15] & 31u;
}

static int ent_cmp(const ent *a, const ent *b)
{
	int c;

	if (a->id[15] != b->id[15])
		return a->id[15] < b->id[15] ? -1 : 1;
	if ((c = memcmp(a->id, b->id, 16)) != 0)
		return c;
	if (a->branch != b->branch)
		return a->branch < b->branch ? -1 : 1;
	if (a->ledger != b->ledger)
		return a->ledger < b->ledger ? -1 : 1;
	return 0;
}

static int ent_qcmp(const void *a, const void *b)
{
	return ent_cmp(a, b);
}

static size_t head_len(size_t nb, size_t nl)
{
	return FIXED + nb * BRANCH_BYTES + nl * LEDGER_BYTES + (NSEC + 1) * 4 + NSEC * SECSUM + HEADSUM;
}

static int bad(const char *what)
{
	return vl_error_set(VL_EINVALID, "the record index %s; it is rebuilt", what);
}

/*
 * Parse the header (p[0..hl), hl = head_len of its counts) into x's
 * branches and ledgers; sec gets the section starts and sums points at the
 * section checksums inside p. *ne gets the entry count.
 */
static int parse_head(vl_idindex *x, uint32_t sec[NSEC + 1], const unsigned char **sums, size_t *ne,
		const unsigned char *p, size_t len)
{
	unsigned char sum[HEADSUM];
	size_t nb, nl, hl, i, k;
	const unsigned char *q;

	if (len < FIXED || memcmp(p, MAGIC, 8) != 0)
		return bad("is not an index of this version");
	nb = get32(p + 8);
	nl = get32(p + 12);
	*ne = get32(p + 16);
	if (get32(p + 20) != 0)
		return bad("is not an index of this version");
	if (nb > VL_IDX_MAX_BRANCHES || nl > VL_IDX_MAX_LEDGERS || *ne > VL_IDX_MAX_ENTRIES)
		return vl_error_set(VL_ETOOBIG, "the record index is larger than its caps; it is rebuilt");
	hl = head_len(nb, nl);
	if (len < hl)
		return bad("is cut short");
	crypto_generichash(sum, sizeof(sum), p, hl - HEADSUM, NULL, 0);
	if (sodium_memcmp(sum, p + hl - HEADSUM, HEADSUM) != 0)
		return bad("header does not match its checksum");
	x->branches = calloc(nb ? nb : 1, sizeof(*x->branches));
	x->ledgers = calloc(nl ? nl : 1, sizeof(*x->ledgers));
	if (!x->branches || !x->ledgers)
		return vl_error_set(VL_ENOMEM, "out of memory");
	q = p + FIXED;
	for (i = 0; i < nb; i++, q += BRANCH_BYTES) {
		if (memchr(q, 0, 12))
			return bad("names a branch that is not a scope");
		memcpy(x->branches[i].scope, q, 12);
		git_oid_fromraw(&x->branches[i].head, q + 12);
		if (i && memcmp(x->branches[i - 1].scope, q, 12) >= 0)
			return bad("branches are out of order");
	}
	x->nbranches = nb;
	for (i = 0; i < nl; i++, q += LEDGER_BYTES) {
		memcpy(x->ledgers[i], q, LEDGER_BYTES);
		x->ledgers[i][LEDGER_BYTES] = '\0';
		for (k = strlen(x->ledgers[i]); k < LEDGER_BYTES; k++)
			if (q[k])
				return bad("has a ledger name with bytes after its end");
		if (!vl_ledger_name_valid(x->ledgers[i]))
			return bad("has an invalid ledger name");
		for (k = 0; k < i; k++)
			if (!strcmp(x->ledgers[k], x->ledgers[i]))
				return bad("names a ledger twice");
	}
	x->nledgers = nl;
	for (i = 0; i <= NSEC; i++, q += 4) {
		sec[i] = get32(q);
		if ((i == 0 && sec[i] != 0) || (i > 0 && sec[i] < sec[i - 1]))
			return bad("sections are out of order");
	}
	if (sec[NSEC] != *ne)
		return bad("sections do not add up");
	*sums = q;
	return 0;
}

/* Check section k's entry bytes p (its sum, its order, its references)
 * and append its entries to x. */
static int parse_section(vl_idindex *x, unsigned k, const unsigned char *p, size_t n, const unsigned char *sum)
{
	unsigned char got[SECSUM];
	size_t i;

	crypto_generichash(got, sizeof(got), p, n * ENTRY, NULL, 0);
	if (sodium_memcmp(got, sum, SECSUM) != 0)
		return bad("entries do not match their checksum");
	for (i = 0; i < n; i++, p += ENTRY) {
		ent *e = &x->entries[x->nentries];
		memcpy(e->id, p, 16);
		e->branch = get16(p + 16);
		e->ledger = get16(p + 18);
		if (e->id[15] != k || e->branch >= x->nbranches || e->ledger >= x->nledgers)
			return bad("has an entry out of place");
		if (i > 0 && ent_cmp(e - 1, e) >= 0)
			return bad("entries are out of order");
		x->nentries++;
	}
	return 0;
}

int vl_idindex_parse(vl_idindex **out, const unsigned char *data, size_t len)
{
	vl_idindex *x = calloc(1, sizeof(*x));
	uint32_t sec[NSEC + 1];
	const unsigned char *sums = NULL;
	size_t ne = 0, hl;
	unsigned k;
	int rc;

	if (!x)
		return vl_error_set(VL_ENOMEM, "out of memory");
	if ((rc = parse_head(x, sec, &sums, &ne, data, len)) < 0)
		goto out;
	hl = head_len(x->nbranches, x->nledgers);
	if (len != hl + ne * ENTRY) {
		rc = bad("has the wrong size");
		goto out;
	}
	x->entries = calloc(ne ? ne : 1, sizeof(*x->entries));
	if (!x->entries) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	x->capentries = ne;
	for (k = 0; k < NSEC; k++)
		if ((rc = parse_section(x, k, data + hl + (size_t)sec[k] * ENTRY, sec[k + 1] - sec[k],
				sums + (size_t)k * SECSUM)) < 0)
			goto out;
	x->loaded = 1;
	*out = x;
	x = NULL;
	rc = 0;
out:
	vl_idindex_free(x);
	return rc;
}

int vl_idindex_serialize(vl_buf *out, const vl_idindex *x)
{
	unsigned char fixed[FIXED], b[BRANCH_BYTES], l[LEDGER_BYTES], w[4], sum[HEADSUM];
	unsigned char *entries = NULL, *sums = NULL;
	uint32_t sec[NSEC + 1];
	size_t i, start = out->len;
	unsigned k;
	int rc;

	if (x->nbranches > VL_IDX_MAX_BRANCHES || x->nledgers > VL_IDX_MAX_LEDGERS || x->nentries > VL_IDX_MAX_ENTRIES)
		return vl_error_set(VL_ETOOBIG, "the record index would be larger than its caps");
	entries = malloc(x->nentries ? x->nentries * ENTRY : 1);
	sums = malloc(NSEC * SECSUM);
	if (!entries || !sums) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0, k = 0; i < x->nentries; i++) {
		unsigned char *p = entries + i * ENTRY;
		memcpy(p, x->entries[i].id, 16);
		p[16] = (unsigned char)x->entries[i].branch;
		p[17] = (unsigned char)(x->entries[i].branch >> 8);
		p[18] = (unsigned char)x->entries[i].ledger;
		p[19] = (unsigned char)(x->entries[i].ledger >> 8);
	}
	for (k = 0, i = 0; k <= NSEC; k++) {
		while (i < x->nentries && x->entries[i].id[15] < k)
			i++;
		sec[k] = (uint32_t)(k == NSEC ? x->nentries : i);
	}
	for (k = 0; k < NSEC; k++)
		crypto_generichash(sums + k * SECSUM, SECSUM, entries + (size_t)sec[k] * ENTRY,
				(size_t)(sec[k + 1] - sec[k]) * ENTRY, NULL, 0);
	memcpy(fixed, MAGIC, 8);
	put32(fixed + 8, (uint32_t)x->nbranches);
	put32(fixed + 12, (uint32_t)x->nledgers);
	put32(fixed + 16, (uint32_t)x->nentries);
	put32(fixed + 20, 0);
	if ((rc = vl_buf_put(out, fixed, sizeof(fixed))) < 0)
		goto out;
	for (i = 0; i < x->nbranches; i++) {
		memcpy(b, x->branches[i].scope, 12);
		memcpy(b + 12, x->branches[i].head.id, 20);
		if ((rc = vl_buf_put(out, b, sizeof(b))) < 0)
			goto out;
	}
	for (i = 0; i < x->nledgers; i++) {
		memset(l, 0, sizeof(l));
		memcpy(l, x->ledgers[i], strlen(x->ledgers[i]));
		if ((rc = vl_buf_put(out, l, sizeof(l))) < 0)
			goto out;
	}
	for (k = 0; k <= NSEC; k++) {
		put32(w, sec[k]);
		if ((rc = vl_buf_put(out, w, 4)) < 0)
			goto out;
	}
	if ((rc = vl_buf_put(out, sums, NSEC * SECSUM)) < 0)
		goto out;
	crypto_generichash(sum, sizeof(sum), (unsigned char *)out->ptr + start, out->len - start, NULL, 0);
	if ((rc = vl_buf_put(out, sum, sizeof(sum))) < 0 ||
			(rc = vl_buf_put(out, entries, x->nentries * ENTRY)) < 0)
		goto out;
	rc = 0;
out:
	free(entries);
	free(sums);
	return rc;
}

/* ---- the branches now ---------------------------------------------------- */

static int branch_cmp(const void *a, const void *b)
{
	return strcmp(((const branch *)a)->scope, ((const branch *)b)->scope);
}

typedef struct {
	branch *v;
	size_t n, cap;
} heads_ctx;

static int head_add(const char *code, const git_oid *head, void *ctx)
{
	heads_ctx *h = ctx;
	branch *nv;

	if (!head || strlen(code) != 12)
		return 0;
	if (h->n == VL_IDX_MAX_BRANCHES)
		return vl_error_set(VL_ETOOBIG, "more scope branches than the record index holds");
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		if (!(nv = realloc(h->v, h->cap * sizeof(*h->v))))
			return vl_error_set(VL_ENOMEM, "out of memory");
		h->v = nv;
	}
	memcpy(h->v[h->n].scope, code, 13);
	git_oid_cpy(&h->v[h->n].head, head);
	h->n++;
	return 0;
}

/* The scope branches of repo, as vl_ledger_places sees them
 * (refs/heads/scope/ + 12 characters, direct refs), in scope order. */
static int list_heads(branch **out, size_t *count, git_repository *repo)
{
	heads_ctx h = { NULL, 0, 0 };
	int rc;

	if ((rc = vl_scope_refs_each(repo, head_add, &h)) < 0) {
		free(h.v);
		return rc;
	}
	if (h.n)
		qsort(h.v, h.n, sizeof(*h.v), branch_cmp);
	*out = h.v;
	*count = h.n;
	return 0;
}

static int heads_equal(const vl_idindex *x, const branch *cur, size_t ncur)
{
	size_t i;

	if (x->nbranches != ncur)
		return 0;
	for (i = 0; i < ncur; i++)
		if (strcmp(x->branches[i].scope, cur[i].scope) != 0 || !git_oid_equal(&x->branches[i].head, &cur[i].head))
			return 0;
	return 1;
}

/* ---- bringing it up to date ---------------------------------------------- */

static int push(entvec *v, const ent *e)
{
	ent *nv;

	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 256;
		if (v->n >= VL_IDX_MAX_ENTRIES)
			return vl_error_set(VL_ETOOBIG, "more records than the record index holds");
		if (!(nv = realloc(v->v, cap * sizeof(*nv))))
			return vl_error_set(VL_ENOMEM, "out of memory");
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = *e;
	return 0;
}

/* Ledger number of name in x, added when absent (add) or -1. */
static int ledger_no(vl_idindex *x, const char *name, int add, size_t *out)
{
	char (*nl)[LEDGER_BYTES + 1];
	size_t i;

	for (i = 0; i < x->nledgers; i++)
		if (!strcmp(x->ledgers[i], name)) {
			*out = i;
			return 0;
		}
	if (!add)
		return VL_ENOTFOUND;
	if (x->nledgers == VL_IDX_MAX_LEDGERS)
		return vl_error_set(VL_ETOOBIG, "more ledgers than the record index holds");
	if (!(nl = realloc(x->ledgers, (x->nledgers + 1) * sizeof(*nl))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	x->ledgers = nl;
	snprintf(x->ledgers[x->nledgers], LEDGER_BYTES + 1, "%s", name);
	*out = x->nledgers++;
	return 0;
}

/* The subtree named name in t, or NULL (absent, or not a directory). */
static const git_tree_entry *subtree(const git_tree *t, const char *name)
{
	const git_tree_entry *e = t ? git_tree_entry_byname(t, name) : NULL;

	return e && git_tree_entry_type(e) == GIT_OBJECT_TREE ? e : NULL;
}

/* Entries for every record path of bucket tree `be` (bucket b of ledger
 * li) on branch j: names "<id>.yaml" in their id's bucket, whatever the
 * object (vl_ledger_places counts a path that is there, readable or not). */
static int add_bucket(entvec *add, git_repository *repo, const git_tree_entry *be, unsigned b, size_t li, size_t j)
{
	git_tree *t = NULL;
	char idtext[VL_ULID_LEN + 1];
	size_t i;
	ent e;
	int rc;

	if ((rc = git_tree_lookup(&t, repo, git_tree_entry_id(be))) < 0)
		return vl_error_git(rc, "cannot read a bucket");
	for (i = 0; i < git_tree_entrycount(t); i++) {
		const char *name = git_tree_entry_name(git_tree_entry_byindex(t, i));
		if (strlen(name) != VL_ULID_LEN + 5 || strcmp(name + VL_ULID_LEN, ".yaml") != 0)
			continue;
		memcpy(idtext, name, VL_ULID_LEN);
		idtext[VL_ULID_LEN] = '\0';
		if (!vl_ulid_valid(idtext) || idtext[VL_ULID_LEN - 1] != crockford[b])
			continue;
		id_bin(e.id, idtext);
		e.branch = (uint16_t)j;
		e.ledger = (uint16_t)li;
		if ((rc = push(add, &e)) < 0)
			break;
	}
	git_tree_free(t);
	return rc < 0 ? rc : 0;
}

/*
 * Ledger `name` went from tree entry ol (NULL: none) to nl on branch j:
 * mark the buckets whose tree changed in drop (the old entries of old
 * ledger numbers below oldnl are dropped) and add the new trees' entries.
 */
static int diff_ledger(vl_idindex *x, git_repository *repo, const char *name, const git_tree_entry *ol,
		const git_tree_entry *nl, uint32_t *drop, size_t oldnl, size_t j, entvec *add)
{
	git_tree *ot = NULL, *nt = NULL;
	size_t li = 0;
	unsigned b;
	int rc = 0;

	if (!vl_ledger_name_valid(name) || (ol && nl && git_oid_equal(git_tree_entry_id(ol), git_tree_entry_id(nl))))
		return 0;
	if ((rc = ledger_no(x, name, nl != NULL, &li)) == VL_ENOTFOUND)
		return 0; /* gone, and never indexed */
	if (rc < 0)
		return rc;
	if ((ol && (rc = git_tree_lookup(&ot, repo, git_tree_entry_id(ol))) < 0) ||
			(nl && (rc = git_tree_lookup(&nt, repo, git_tree_entry_id(nl))) < 0)) {
		rc = vl_error_git(rc, "cannot read a ledger");
		goto out;
	}
	for (b = 0; b < 32; b++) {
		char bn[2] = { crockford[b], '\0' };
		const git_tree_entry *ob = subtree(ot, bn), *nb = subtree(nt, bn);
		if ((!ob && !nb) || (ob && nb && git_oid_equal(git_tree_entry_id(ob), git_tree_entry_id(nb))))
			continue;
		if (li < oldnl)
			drop[li] |= 1u << b;
		if (nb && (rc = add_bucket(add, repo, nb, b, li, j)) < 0)
			goto out;
	}
	rc = 0;
out:
	git_tree_free(ot);
	git_tree_free(nt);
	return rc;
}

/*
 * Branch j moved from old commit `from` (NULL: not indexed) to `to`:
 * record its changes in drop (per old ledger number) and add. When `from`
 * cannot be read (gone), everything of the branch is dropped and read
 * again. The diff is exact in both directions (a bucket that changed is
 * dropped and read whole), so a head that is not a descendant of `from`
 * needs nothing special.
 */
static int diff_branch(vl_idindex *x, git_repository *repo, const git_oid *from, const git_oid *to,
		uint32_t *drop, size_t oldnl, size_t j, entvec *add)
{
	git_commit *oc = NULL, *nc = NULL;
	git_tree *ot = NULL, *nt = NULL;
	size_t i;
	int rc;

	if (from && (git_commit_lookup(&oc, repo, from) < 0 || git_commit_tree(&ot, oc) < 0)) {
		for (i = 0; i < oldnl; i++)
			drop[i] = 0xffffffffu;
	}
	if ((rc = git_commit_lookup(&nc, repo, to)) < 0 || (rc = git_commit_tree(&nt, nc)) < 0) {
		rc = vl_error_git(rc, "cannot read a branch head");
		goto out;
	}
	for (i = 0; i < git_tree_entrycount(nt); i++) {
		const git_tree_entry *ne = git_tree_entry_byindex(nt, i);
		const char *name = git_tree_entry_name(ne);
		if ((rc = diff_ledger(x, repo, name, subtree(ot, name), subtree(nt, name), drop, oldnl, j, add)) < 0)
			goto out;
	}
	for (i = 0; ot && i < git_tree_entrycount(ot); i++) {
		const git_tree_entry *oe = git_tree_entry_byindex(ot, i);
		const char *name = git_tree_entry_name(oe);
		if (!git_tree_entry_byname(nt, name) &&
				(rc = diff_ledger(x, repo, name, subtree(ot, name), NULL, drop, oldnl, j, add)) < 0)
			goto out;
	}
	rc = 0;
out:
	git_tree_free(ot);
	git_tree_free(nt);
	git_commit_free(oc);
	git_commit_free(nc);
	return rc;
}

/* Bring x (loaded, possibly empty) to the branches cur. */
static int update(vl_idindex *x, git_repository *repo, const branch *cur, size_t ncur)
{
	const size_t oldnb = x->nbranches, oldnl = x->nledgers;
	long *map = NULL;
	uint32_t *drop = NULL;
	branch *nb = NULL;
	entvec add = { NULL, 0, 0 };
	ent *merged = NULL;
	size_t i, j, k, kept;
	int rc;

	map = calloc(oldnb ? oldnb : 1, sizeof(*map));
	drop = calloc(oldnb * oldnl > 0 ? oldnb * oldnl : 1, sizeof(*drop));
	nb = malloc((ncur ? ncur : 1) * sizeof(*nb));
	if (!map || !drop || !nb) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < oldnb; i++)
		map[i] = -1;
	for (i = 0, j = 0; j < ncur; j++) {
		int c = 1;
		while (i < oldnb && (c = strcmp(x->branches[i].scope, cur[j].scope)) < 0)
			i++;
		if (i < oldnb && c == 0) {
			map[i] = (long)j;
			if (!git_oid_equal(&x->branches[i].head, &cur[j].head) &&
					(rc = diff_branch(x, repo, &x->branches[i].head, &cur[j].head, drop + i * oldnl,
						oldnl, j, &add)) < 0)
				goto out;
		} else if ((rc = diff_branch(x, repo, NULL, &cur[j].head, NULL, 0, j, &add)) < 0) {
			goto out;
		}
	}
	/* Keep what did not change, renumbered; the order stays, since both
	 * branch tables are in scope order and ledger numbers only grow. */
	for (i = 0, kept = 0; i < x->nentries; i++) {
		ent e = x->entries[i];
		if (map[e.branch] < 0 || (drop[e.branch * oldnl + e.ledger] >> bucket_of(e.id) & 1u))
			continue;
		e.branch = (uint16_t)map[e.branch];
		x->entries[kept++] = e;
	}
	if (kept + add.n > VL_IDX_MAX_ENTRIES) {
		rc = vl_error_set(VL_ETOOBIG, "more records than the record index holds");
		goto out;
	}
	if (add.n) {
		qsort(add.v, add.n, sizeof(*add.v), ent_qcmp);
		if (!(merged = malloc((kept + add.n) * sizeof(*merged)))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		for (i = 0, j = 0, k = 0; i < kept || j < add.n; k++)
			merged[k] = j == add.n || (i < kept && ent_cmp(&x->entries[i], &add.v[j]) < 0)
				? x->entries[i++] : add.v[j++];
		free(x->entries);
		x->entries = merged;
		x->capentries = kept + add.n;
		merged = NULL;
	}
	x->nentries = kept + add.n;
	memcpy(nb, cur, ncur * sizeof(*nb));
	free(x->branches);
	x->branches = nb;
	x->nbranches = ncur;
	nb = NULL;
	x->loaded = 1;
	rc = 0;
out:
	if (rc < 0)
		reset(x); /* half-updated: nothing of it is kept */
	free(merged);
	free(add.v);
	free(nb);
	free(drop);
	free(map);
	return rc;
}

/* ---- the file ------------------------------------------------------------ */

static int index_path(vl_buf *out, const vl_node *n)
{
	return vl_buf_printf(out, "%s/" VL_IDX_FILE, n->home);
}

/* Write x to the index file, atomically; a failure is not an error (the
 * index only saves time), except running out of memory. */
static int save(const vl_node *n, const vl_idindex *x)
{
	vl_buf data = VL_BUF_INIT, path = VL_BUF_INIT, tmp = VL_BUF_INIT;
	size_t off = 0;
	int fd = -1, rc;

	if ((rc = vl_idindex_serialize(&data, x)) < 0 || (rc = index_path(&path, n)) < 0 ||
			(rc = vl_buf_printf(&tmp, "%s.tmp-XXXXXX", path.ptr)) < 0)
		goto out;
	if ((fd = mkstemp(tmp.ptr)) < 0)
		goto out;
	while (off < data.len) {
		ssize_t w = write(fd, data.ptr + off, data.len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (close(fd) != 0 || off != data.len || rename(tmp.ptr, path.ptr) != 0)
		unlink(tmp.ptr);
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	vl_buf_free(&data);
	vl_buf_free(&path);
	vl_buf_free(&tmp);
	return rc == VL_ENOMEM ? rc : 0;
}

/* Read the whole file into x (reset first); any problem leaves x empty
 * and loaded, to be built from the branches. */
static int load(vl_idindex *x, const vl_node *n)
{
	vl_buf path = VL_BUF_INIT, data = VL_BUF_INIT;
	vl_idindex *got = NULL;
	int rc, distrust = x->distrust;
	hold_state hold = x->hold;

	reset(x);
	x->loaded = 1;
	if ((rc = index_path(&path, n)) < 0)
		goto out;
	rc = vl_buf_read_file(&data, path.ptr, head_len(VL_IDX_MAX_BRANCHES, VL_IDX_MAX_LEDGERS) +
			VL_IDX_MAX_ENTRIES * ENTRY);
	if (rc == 0 && (rc = vl_idindex_parse(&got, (const unsigned char *)data.ptr, data.len)) == 0) {
		*x = *got;
		x->hold = hold;
		x->distrust = distrust;
		free(got);
	}
	rc = rc == VL_ENOMEM ? rc : 0;
out:
	vl_buf_free(&path);
	vl_buf_free(&data);
	return rc;
}

/* Read exactly len bytes at off. */
static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Append a place (scope, ledger, head) to v. */
static int add_place(vl_place **v, size_t *nv, const char *scope, const char *ledger, const git_oid *head)
{
	vl_place *grown = realloc(*v, (*nv + 1) * sizeof(**v));

	if (!grown)
		return vl_error_set(VL_ENOMEM, "out of memory");
	*v = grown;
	memset(&grown[*nv], 0, sizeof(grown[*nv]));
	memcpy(grown[*nv].scope, scope, 13);
	snprintf(grown[*nv].ledger, sizeof(grown[*nv].ledger), "%s", ledger);
	git_oid_cpy(&grown[*nv].head, head);
	(*nv)++;
	return 0;
}

/* The places the section entries of x (key's section, loaded) give key on
 * file branch fb in ledger li (any ledger when li < 0), at head. */
static int file_places(vl_place **v, size_t *nv, const vl_idindex *x, const uint8_t key[16], size_t fb,
		long li, const char *scope, const git_oid *head)
{
	size_t i;
	int rc;

	for (i = 0; i < x->nentries; i++) {
		const ent *e = &x->entries[i];
		if (memcmp(e->id, key, 16) != 0 || e->branch != fb || (li >= 0 && e->ledger != (size_t)li))
			continue;
		if ((rc = add_place(v, nv, scope, x->ledgers[e->ledger], head)) < 0)
			return rc;
	}
	return 0;
}

/* How many moved or new branches the quick path looks at itself before
 * it prefers to bring the whole index up to date. */
#define OVERLAY_MAX 8

/*
 * Branch `b` moved from `from` (file branch fb; NULL: not in the file):
 * for each ledger with a schema, id's bucket tree is compared between the
 * two heads; where it is the same the file's entries stand, elsewhere the
 * record path is looked up at the new head. 1 when `from` is gone.
 */
static int overlay(vl_place **v, size_t *nv, vl_node *n, const vl_idindex *x, const uint8_t key[16],
		const char *id, size_t fb, const git_oid *from, const branch *b)
{
	git_commit *oc = NULL, *nc = NULL;
	git_tree *ot = NULL, *nt = NULL;
	git_tree_entry *oe = NULL, *ne = NULL, *re = NULL;
	vl_buf path = VL_BUF_INIT;
	size_t i, k;
	int rc;

	if (from && (git_commit_lookup(&oc, n->repo, from) < 0 || git_commit_tree(&ot, oc) < 0)) {
		rc = 1;
		goto out;
	}
	if ((rc = git_commit_lookup(&nc, n->repo, &b->head)) < 0 || (rc = git_commit_tree(&nt, nc)) < 0) {
		rc = vl_error_git(rc, "cannot read a branch head");
		goto out;
	}
	for (i = 0; i < vl_node_ledger_count(n); i++) {
		const char *ledger = vl_node_ledger_name(n, i);
		long li = -1;
		vl_buf_clear(&path);
		if ((rc = vl_buf_printf(&path, "%s/%c", ledger, id[VL_ULID_LEN - 1])) < 0)
			goto out;
		if (ot && git_tree_entry_bypath(&oe, ot, path.ptr) < 0)
			oe = NULL;
		if (git_tree_entry_bypath(&ne, nt, path.ptr) < 0)
			ne = NULL;
		for (k = 0; k < x->nledgers; k++)
			if (!strcmp(x->ledgers[k], ledger))
				li = (long)k;
		if (ot && ((!oe && !ne) || (oe && ne && git_oid_equal(git_tree_entry_id(oe), git_tree_entry_id(ne)) &&
				git_tree_entry_type(ne) == GIT_OBJECT_TREE))) {
			if (li >= 0 && (rc = file_places(v, nv, x, key, fb, li, b->scope, &b->head)) < 0)
				goto out;
		} else {
			vl_buf_clear(&path);
			if ((rc = vl_record_path(&path, ledger, id)) < 0)
				goto out;
			if (git_tree_entry_bypath(&re, nt, path.ptr) == 0 &&
					(rc = add_place(v, nv, b->scope, ledger, &b->head)) < 0)
				goto out;
		}
		git_tree_entry_free(oe);
		git_tree_entry_free(ne);
		git_tree_entry_free(re);
		oe = ne = re = NULL;
	}
	rc = 0;
out:
	git_tree_entry_free(oe);
	git_tree_entry_free(ne);
	git_tree_entry_free(re);
	vl_buf_free(&path);
	git_tree_free(ot);
	git_tree_free(nt);
	git_commit_free(oc);
	git_commit_free(nc);
	return rc;
}

/*
 * The quick path of a process that has not loaded the index: read the
 * header and the one section of key from the file, and look at the few
 * branches that moved since it was written (at most OVERLAY_MAX) on their
 * own. 0 with the places found (*nhits of them into hits, which the caller
 * frees); 1 when the file cannot answer (absent, damaged, too far behind).
 */
static int probe(vl_place **hits, size_t *nhits, vl_node *n, const branch *cur, size_t ncur,
		const uint8_t key[16], const char *id)
{
	vl_buf path = VL_BUF_INIT;
	vl_idindex *x = NULL;
	unsigned char fixed[FIXED], *head = NULL, *sec = NULL;
	uint32_t starts[NSEC + 1];
	const unsigned char *sums = NULL;
	vl_place *v = NULL;
	struct stat st;
	size_t hl, ne = 0, cnt, i, j, nv = 0, moved = 0;
	int fd = -1, rc = 1;

	if (index_path(&path, n) < 0 || (fd = open(path.ptr, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0 ||
			pread_all(fd, fixed, FIXED, 0) < 0)
		goto out;
	if (memcmp(fixed, MAGIC, 8) != 0 || get32(fixed + 8) > VL_IDX_MAX_BRANCHES ||
			get32(fixed + 12) > VL_IDX_MAX_LEDGERS || get32(fixed + 16) > VL_IDX_MAX_ENTRIES)
		goto out;
	hl = head_len(get32(fixed + 8), get32(fixed + 12));
	if ((uint64_t)st.st_size != hl + (uint64_t)get32(fixed + 16) * ENTRY || !(head = malloc(hl)) ||
			pread_all(fd, head, hl, 0) < 0 || !(x = calloc(1, sizeof(*x))))
		goto out;
	if (parse_head(x, starts, &sums, &ne, head, hl) < 0)
		goto out;
	cnt = starts[key[15] + 1] - starts[key[15]];
	if (!(sec = malloc(cnt ? cnt * ENTRY : 1)) || !(x->entries = calloc(cnt ? cnt : 1, sizeof(*x->entries))) ||
			pread_all(fd, sec, cnt * ENTRY, (off_t)(hl + (size_t)starts[key[15]] * ENTRY)) < 0 ||
			parse_section(x, key[15], sec, cnt, sums + (size_t)key[15] * SECSUM) < 0)
		goto out;
	/* Keep only id's entries: file_places scans them once per branch, and
	 * a county has hundreds of branches over a section of thousands. */
	for (i = 0, j = 0; i < x->nentries; i++)
		if (!memcmp(x->entries[i].id, key, 16))
			x->entries[j++] = x->entries[i];
	x->nentries = j;
	/* Both branch lists are in scope order. */
	for (i = 0, j = 0; j < ncur; j++) {
		int c = 1;
		while (i < x->nbranches && (c = strcmp(x->branches[i].scope, cur[j].scope)) < 0)
			i++;
		if (i < x->nbranches && c == 0 && git_oid_equal(&x->branches[i].head, &cur[j].head)) {
			rc = file_places(&v, &nv, x, key, i, -1, cur[j].scope, &cur[j].head);
		} else if (++moved > OVERLAY_MAX) {
			rc = 1;
			goto out;
		} else {
			rc = overlay(&v, &nv, n, x, key, id, i, i < x->nbranches && c == 0 ? &x->branches[i].head : NULL,
					&cur[j]);
		}
		if (rc != 0)
			goto out;
	}
	*hits = v;
	*nhits = nv;
	v = NULL;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(v);
	free(head);
	free(sec);
	vl_idindex_free(x);
	vl_buf_free(&path);
	return rc;
}

/* The places x (loaded) names for key. */
static int search(vl_place **hits, size_t *nhits, const vl_idindex *x, const uint8_t key[16])
{
	ent probe_e;
	vl_place *v = NULL;
	size_t lo = 0, hi = x->nentries, nv = 0;
	int rc;

	memcpy(probe_e.id, key, 16);
	probe_e.branch = 0;
	probe_e.ledger = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ent_cmp(&x->entries[mid], &probe_e) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < x->nentries && !memcmp(x->entries[lo].id, key, 16); lo++) {
		const ent *e = &x->entries[lo];
		if ((rc = add_place(&v, &nv, x->branches[e->branch].scope, x->ledgers[e->ledger],
				&x->branches[e->branch].head)) < 0) {
			free(v);
			return rc;
		}
	}
	*hits = v;
	*nhits = nv;
	return 0;
}

/*
 * Keep the hits of ledgers with a schema, each confirmed on its head (the
 * path is there: vl_ledger_places counts a path that does not read as a
 * record too). 1 when a hit is not there: the index is wrong.
 */
static int confirm(vl_place *hits, size_t *nhits, vl_node *n, const char *id)
{
	vl_buf path = VL_BUF_INIT;
	git_oid blob;
	size_t i, k = 0;
	int rc = 0;

	for (i = 0; i < *nhits; i++) {
		const vl_schema *s = NULL;
		if ((rc = vl_node_schema_get(&s, n, hits[i].ledger)) == VL_ENOTFOUND) {
			vl_error_clear();
			rc = 0;
			continue;
		}
		if (rc < 0)
			goto out;
		vl_buf_clear(&path);
		if ((rc = vl_record_path(&path, hits[i].ledger, id)) < 0)
			goto out;
		rc = vl_repo_read(NULL, &blob, n->repo, NULL, &hits[i].head, path.ptr, VL_RECORD_MAX_BYTES);
		if (rc == VL_ENOTFOUND) {
			rc = 1;
			goto out;
		}
		if (rc < 0 && rc != VL_EINVALID && rc != VL_ETOOBIG)
			goto out;
		hits[k++] = hits[i];
	}
	*nhits = k;
	rc = 0;
out:
	vl_buf_free(&path);
	return rc;
}

static vl_idindex *index_of(vl_node *n)
{
	if (!n->idindex)
		n->idindex = calloc(1, sizeof(vl_idindex));
	return n->idindex;
}

/* Bring x up to date with cur (loading the file first if x holds
 * nothing yet, or starting empty when rebuild) and save it. */
static int bring_up(vl_idindex *x, vl_node *n, const branch *cur, size_t ncur, int rebuild)
{
	int rc;

	if (rebuild) {
		reset(x);
		x->loaded = 1;
	} else if (!x->loaded && (rc = load(x, n)) < 0) {
		return rc;
	}
	if (heads_equal(x, cur, ncur) && x->loaded && !rebuild)
		return 0;
	if ((rc = update(x, n->repo, cur, ncur)) < 0)
		return rc;
	if (rebuild)
		x->distrust = 0;
	return save(n, x);
}

int vl_idindex_refresh(vl_node *n, int rebuild)
{
	vl_idindex *x = index_of(n);
	branch *cur = NULL;
	size_t ncur = 0;
	int rc;

	if (!x)
		return vl_error_set(VL_ENOMEM, "out of memory");
	if ((rc = list_heads(&cur, &ncur, n->repo)) < 0)
		return rc;
	rc = bring_up(x, n, cur, ncur, rebuild || x->distrust);
	free(cur);
	return rc;
}

static void hold_clear(vl_idindex *x)
{
	free(x->hold.cur);
	memset(&x->hold, 0, sizeof(x->hold));
	x->fresh = 0;
}

void vl_idindex_hold(vl_node *n)
{
	vl_idindex *x = index_of(n);

	if (!x)
		return;
	/* Only the heads are read here: nothing is brought up to date until a
	 * lookup needs it (held_places). When the heads cannot be listed,
	 * every lookup fails and the caller scans. */
	hold_clear(x);
	x->hold.on = 1;
	if (list_heads(&x->hold.cur, &x->hold.ncur, n->repo) < 0) {
		vl_error_clear();
		x->hold.tried = 1;
	}
}

void vl_idindex_release(vl_node *n)
{
	if (n->idindex)
		hold_clear(n->idindex);
}

/*
 * A lookup while held: the heads are those of vl_idindex_hold. From x when
 * it is (or has been made) up to date with them; before that, the first
 * HOLD_PROBES lookups read their section of the file (probe), and the next
 * one, or one the file cannot answer, brings x up to date and saves it,
 * once. Never a rebuild: a wrong index, or one that cannot be brought up
 * to date, is an error, and the caller scans. A wrong one is not believed
 * again (x->distrust) until a lookup outside a hold rebuilds it.
 */
static int held_places(vl_place **hits, size_t *nhits, vl_node *n, vl_idindex *x, const uint8_t key[16],
		const char *id)
{
	int rc;

	if (x->distrust)
		return vl_error_set(VL_ERROR, "the record index is wrong");
	if (!x->fresh && !x->hold.tried && x->loaded && heads_equal(x, x->hold.cur, x->hold.ncur))
		x->fresh = 1;
	if (!x->fresh && !x->hold.tried && x->hold.probes < HOLD_PROBES) {
		x->hold.probes++;
		if ((rc = probe(hits, nhits, n, x->hold.cur, x->hold.ncur, key, id)) < 0)
			return rc;
		if (rc == 0)
			goto found;
		/* 1: the file cannot answer (absent, damaged, too far behind) */
	}
	if (!x->fresh && !x->hold.tried) {
		x->hold.tried = 1;
		if ((rc = bring_up(x, n, x->hold.cur, x->hold.ncur, 0)) == VL_ENOMEM)
			return rc;
		x->fresh = rc == 0;
	}
	if (!x->fresh)
		return vl_error_set(VL_ERROR, "the record index could not be read");
	if ((rc = search(hits, nhits, x, key)) < 0)
		return rc;
found:
	if ((rc = confirm(*hits, nhits, n, id)) < 0)
		return rc;
	if (rc == 1) {
		/* Proved wrong: its misses are not believed either, for the
		 * rest of this hold and every later one (every lookup scans)
		 * until a lookup outside a hold rebuilds it. */
		reset(x);
		x->distrust = 1;
		return vl_error_set(VL_ERROR, "the record index is wrong");
	}
	return 0;
}

int vl_idindex_places(vl_place *out, size_t max, size_t *count, vl_node *n, const char *id)
{
	vl_idindex *x = index_of(n);
	branch *cur = NULL;
	vl_place *hits = NULL;
	size_t ncur = 0, nhits = 0, i;
	uint8_t key[16];
	int rc, attempt;

	if (!vl_ulid_valid(id))
		return vl_error_set(VL_EINVALID, "'%s' is not a record id (26 lowercase ULID characters)", id);
	if (!x)
		return vl_error_set(VL_ENOMEM, "out of memory");
	id_bin(key, id);
	if (x->hold.on) {
		if ((rc = held_places(&hits, &nhits, n, x, key, id)) < 0)
			goto out;
		goto done;
	}
	if ((rc = list_heads(&cur, &ncur, n->repo)) < 0)
		goto out;
	if (!x->loaded && !x->distrust) {
		if ((rc = probe(&hits, &nhits, n, cur, ncur, key, id)) < 0)
			goto out;
		if (rc == 0 && (rc = confirm(hits, &nhits, n, id)) < 0)
			goto out;
		if (rc == 0)
			goto done;
		free(hits);
		hits = NULL;
		nhits = 0;
	}
	/* A hit the branch does not confirm means the index is wrong although
	 * its heads are right: build it again from the branches. */
	for (attempt = x->distrust ? 1 : 0; attempt < 2; attempt++) {
		if ((rc = bring_up(x, n, cur, ncur, attempt)) < 0 || (rc = search(&hits, &nhits, x, key)) < 0 ||
				(rc = confirm(hits, &nhits, n, id)) < 0)
			goto out;
		if (rc == 0)
			break;
		free(hits);
		hits = NULL;
		nhits = 0;
	}
	if (rc != 0) {
		rc = vl_error_set(VL_ERROR, "the record index disagrees with the branches");
		goto out;
	}
done:
	for (i = 0; i < nhits && i < max; i++)
		out[i] = hits[i];
	*count = nhits;
	rc = 0;
out:
	free(hits);
	free(cur);
	return rc;
}
