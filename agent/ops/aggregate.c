/*
 * aggregate.c - the aggregate operation (aggregate.h): plan the figures,
 * walk each branch's ledger and bucket subtrees through the cache, roll the
 * units up along the division codes.
 */
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/node/ledger.h"
#include "agent/ops/aggregate.h"
#include "agent/ops/query.h"
#include "store/i18n.h"
#include "store/record.h"

#define CACHE_MAGIC "vledger-aggregate-cache 1\n"

/* ---- figures as scaled integers ----------------------------------------- */

int vl_agg_format(vl_buf *out, long long v)
{
	unsigned long long a = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	unsigned long long ip = a / (unsigned long long)VL_AGG_SCALE, fp = a % (unsigned long long)VL_AGG_SCALE;
	char frac[8];
	int rc, k;

	if ((rc = vl_buf_printf(out, "%s%llu", v < 0 ? "-" : "", ip)) < 0 || fp == 0)
		return rc;
	snprintf(frac, sizeof(frac), "%06llu", fp);
	for (k = 5; k > 0 && frac[k] == '0'; k--)
		frac[k] = '\0';
	return vl_buf_printf(out, ".%s", frac);
}

/* Exact decimal text (-?digits[.digits]) to a scaled integer. */
static int scaled_parse(long long *out, const char *s)
{
	unsigned long long ip = 0, fp = 0;
	int neg = 0, nf = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (ip > (unsigned long long)(LLONG_MAX / VL_AGG_SCALE) / 10)
			return -2;
		ip = ip * 10 + (unsigned long long)(*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			if (nf == 6)
				return -3;
			fp = fp * 10 + (unsigned long long)(*s - '0');
			nf++;
		}
	}
	if (*s)
		return -1;
	for (; nf < 6; nf++)
		fp *= 10;
	if (ip > (unsigned long long)(LLONG_MAX / VL_AGG_SCALE) - 1)
		return -2;
	*out = (long long)(ip * (unsigned long long)VL_AGG_SCALE + fp);
	if (neg)
		*out = -*out;
	return 0;
}

static int add_checked(long long *acc, long long v)
{
	if ((v > 0 && *acc > LLONG_MAX - v) || (v < 0 && *acc < LLONG_MIN - v))
		return vl_error_set(VL_ETOOBIG, "an aggregate figure overflows 64 bits");
	*acc += v;
	return 0;
}

/* ---- the plan: one entry per ledger ------------------------------------- */

typedef struct {
	const vl_schema *s;
	size_t first, nfigs;         /* its figures in the result */
	vl_query where;              /* --where */
	vl_query *aggq;              /* per aggregate */
	size_t *agg_first;           /* per aggregate: its first figure, from first */
	unsigned char digest[16];    /* cache key part */
} ledger_plan;

typedef struct {
	ledger_plan *l;
	size_t n;
} plan;

static void plan_free(plan *p)
{
	size_t i, j;

	for (i = 0; p && i < p->n; i++) {
		vl_query_free(&p->l[i].where);
		for (j = 0; p->l[i].aggq && j < p->l[i].s->naggregates; j++)
			vl_query_free(&p->l[i].aggq[j]);
		free(p->l[i].aggq);
		free(p->l[i].agg_first);
	}
	if (p)
		free(p->l);
}

static int fig_push(vl_aggregate_result *r, size_t *cap, const vl_schema *s, const vl_aggregate *a,
		const char *gv)
{
	vl_buf key = VL_BUF_INIT;
	int rc;

	if ((rc = vl_array_grow((void **)&r->figs, cap, r->nfigs, sizeof(*r->figs))) < 0 ||
			(rc = vl_buf_printf(&key, "%s.%s%s%s", s->name, a->name, gv ? "." : "", gv ? gv : "")) < 0) {
		vl_buf_free(&key);
		return rc;
	}
	memset(&r->figs[r->nfigs], 0, sizeof(r->figs[0]));
	r->figs[r->nfigs].key = vl_buf_detach(&key, NULL);
	r->figs[r->nfigs].schema = s;
	r->figs[r->nfigs].agg = a;
	r->figs[r->nfigs].group_value = gv;
	r->figs[r->nfigs++].is_sum = a->op && strcmp(a->op, "sum") == 0;
	return 0;
}

/* Digest of what a ledger's cached figures depend on. */
static void plan_digest(ledger_plan *lp, const vl_aggregate_result *r, const vl_aggregate_opts *o)
{
	crypto_generichash_state st;
	char ver[32];
	size_t i;

	crypto_generichash_init(&st, NULL, 0, sizeof(lp->digest));
	crypto_generichash_update(&st, (const unsigned char *)lp->s->name, strlen(lp->s->name) + 1);
	snprintf(ver, sizeof(ver), "%d", lp->s->version);
	crypto_generichash_update(&st, (const unsigned char *)ver, strlen(ver) + 1);
	for (i = lp->first; i < lp->first + lp->nfigs; i++) {
		const vl_aggregate *a = r->figs[i].agg;
		size_t k;
		crypto_generichash_update(&st, (const unsigned char *)r->figs[i].key, strlen(r->figs[i].key) + 1);
		crypto_generichash_update(&st, (const unsigned char *)a->op, strlen(a->op) + 1);
		if (a->field)
			crypto_generichash_update(&st, (const unsigned char *)a->field, strlen(a->field) + 1);
		for (k = 0; k < a->nconds; k++) {
			crypto_generichash_update(&st, (const unsigned char *)a->conds[k].field,
					strlen(a->conds[k].field) + 1);
			crypto_generichash_update(&st, (const unsigned char *)vl_cmp_name(a->conds[k].op),
					strlen(vl_cmp_name(a->conds[k].op)) + 1);
			crypto_generichash_update(&st, (const unsigned char *)a->conds[k].value,
					strlen(a->conds[k].value) + 1);
		}
	}
	for (i = 0; i < o->nwhere; i++)
		crypto_generichash_update(&st, (const unsigned char *)o->where[i], strlen(o->where[i]) + 1);
	crypto_generichash_final(&st, lp->digest, sizeof(lp->digest));
}

static int plan_build(plan *p, vl_node *n, const vl_aggregate_opts *o, vl_aggregate_result *r)
{
	const vl_schema *only = NULL;
	size_t i, j, k, cap = 0;
	int rc;

	if (o->nwhere && !o->ledger)
		return vl_error_set(VL_EINVALID, "--where needs --ledger NAME: its fields belong to one ledger");
	/* the ledger by its id or either label, as every command takes it */
	if (o->ledger && !(only = vl_schema_lookup(n->schemas, n->nschemas, o->ledger)))
		return vl_error_set(VL_EINVALID, "no ledger '%.40s' ('vledger schema list' lists them)", o->ledger);
	if (!(p->l = calloc(n->nschemas ? n->nschemas : 1, sizeof(*p->l))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < n->nschemas; i++) {
		const vl_schema *s = n->schemas[i];
		ledger_plan *lp;

		if ((only && only != s) || s->naggregates == 0)
			continue;
		lp = &p->l[p->n++];
		lp->s = s;
		lp->first = r->nfigs;
		if (!(lp->aggq = calloc(s->naggregates, sizeof(*lp->aggq))) ||
				!(lp->agg_first = calloc(s->naggregates, sizeof(*lp->agg_first))))
			return vl_error_set(VL_ENOMEM, "out of memory");
		if ((rc = vl_query_parse(&lp->where, s, o->where, o->nwhere, 0)) < 0)
			return rc;
		for (j = 0; j < s->naggregates; j++) {
			const vl_aggregate *a = &s->aggregates[j];
			const vl_field *g = a->group_by ? vl_schema_field(s, a->group_by) : NULL;

			if ((rc = vl_query_add_aggregate(&lp->aggq[j], s, a)) < 0)
				return rc;
			lp->agg_first[j] = r->nfigs - lp->first;
			if (!g) {
				if ((rc = fig_push(r, &cap, s, a, NULL)) < 0)
					return rc;
			} else if (g->type == VL_T_BOOL) {
				if ((rc = fig_push(r, &cap, s, a, "true")) < 0 || (rc = fig_push(r, &cap, s, a, "false")) < 0)
					return rc;
			} else {
				for (k = 0; k < g->nopts; k++)
					if ((rc = fig_push(r, &cap, s, a, g->opts[k].value)) < 0)
						return rc;
			}
		}
		lp->nfigs = r->nfigs - lp->first;
		if (lp->nfigs > VL_AGG_CACHE_MAX_FIGURES)
			return vl_error_set(VL_ETOOBIG, "ledger '%s' declares more than %d figures", s->name,
					VL_AGG_CACHE_MAX_FIGURES);
		plan_digest(lp, r, o);
	}
	if (o->ledger && p->n == 0)
		return vl_error_set(VL_EINVALID, "ledger '%.40s' declares no aggregates", o->ledger);
	return 0;
}

/* ---- the cache ---------------------------------------------------------- */

typedef struct {
	git_oid tree;
	unsigned char digest[16];
	long long *vals;
	size_t n;
	int used;
} cache_entry;

typedef struct {
	cache_entry *e;
	size_t n, cap;
	size_t *slot;                /* open addressing: index + 1, 0 = empty */
	size_t nslot;                /* power of two */
} cache;

static void cache_free(cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->e[i].vals);
	free(c->e);
	free(c->slot);
	memset(c, 0, sizeof(*c));
}

static size_t cache_hash(const git_oid *t, const unsigned char d[16])
{
	size_t h = 0;
	memcpy(&h, t->id, sizeof(h));
	return h ^ ((size_t)d[0] << 8 | d[1]);
}

static cache_entry *cache_get(const cache *c, const git_oid *t, const unsigned char d[16])
{
	size_t i;

	if (!c->nslot)
		return NULL;
	for (i = cache_hash(t, d) & (c->nslot - 1); c->slot[i]; i = (i + 1) & (c->nslot - 1)) {
		cache_entry *e = &c->e[c->slot[i] - 1];
		if (git_oid_equal(&e->tree, t) && !memcmp(e->digest, d, 16))
			return e;
	}
	return NULL;
}

static int cache_rehash(cache *c, size_t nslot)
{
	size_t *ns = calloc(nslot, sizeof(*ns)), i, j;

	if (!ns)
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < c->n; i++) {
		for (j = cache_hash(&c->e[i].tree, c->e[i].digest) & (nslot - 1); ns[j]; j = (j + 1) & (nslot - 1))
			;
		ns[j] = i + 1;
	}
	free(c->slot);
	c->slot = ns;
	c->nslot = nslot;
	return 0;
}

/* Insert a copy of vals (a key already there keeps its first values). */
static int cache_put(cache *c, const git_oid *t, const unsigned char d[16], const long long *vals, size_t n,
		int used)
{
	cache_entry *e = cache_get(c, t, d);
	size_t j;
	int rc;

	if (e) {
		e->used |= used;
		return 0;
	}
	if ((rc = vl_array_grow((void **)&c->e, &c->cap, c->n, sizeof(*c->e))) < 0)
		return rc;
	e = &c->e[c->n];
	memset(e, 0, sizeof(*e));
	if (!(e->vals = malloc((n ? n : 1) * sizeof(*vals))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	memcpy(e->vals, vals, n * sizeof(*vals));
	git_oid_cpy(&e->tree, t);
	memcpy(e->digest, d, 16);
	e->n = n;
	e->used = used;
	c->n++;
	if (c->n * 2 > c->nslot)
		return cache_rehash(c, c->nslot ? c->nslot * 2 : 1024);
	for (j = cache_hash(t, d) & (c->nslot - 1); c->slot[j]; j = (j + 1) & (c->nslot - 1))
		;
	c->slot[j] = c->n;
	return 0;
}

/* The checksum of a cache line's text before it: 16 hex digits of
 * BLAKE2b-64. Catches corruption and hand edits; the cache is never
 * trusted more than that (aggregate.h). */
static void line_check(char out[17], const char *line, size_t len)
{
	unsigned char h[8];
	crypto_generichash(h, sizeof(h), (const unsigned char *)line, len, NULL, 0);
	sodium_bin2hex(out, 17, h, sizeof(h));
}

int vl_agg_cache_parse(const char *buf, size_t len, vl_agg_cache_cb fn, void *ctx)
{
	size_t pos = sizeof(CACHE_MAGIC) - 1;
	long long *vals = NULL;
	int rc = 0;

	if (len > VL_AGG_CACHE_MAX_BYTES)
		return vl_error_set(VL_ETOOBIG, "aggregate cache larger than %u bytes", VL_AGG_CACHE_MAX_BYTES);
	if (len < pos || memcmp(buf, CACHE_MAGIC, pos) != 0)
		return vl_error_set(VL_EINVALID, "aggregate cache: bad header");
	if (!(vals = malloc(VL_AGG_CACHE_MAX_FIGURES * sizeof(*vals))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos), *p, *end;
		unsigned char digest[16];
		char check[17], num[24];
		git_oid tree;
		size_t n, i, body;

		if (!nl) {
			rc = vl_error_set(VL_EINVALID, "aggregate cache: truncated line");
			goto out;
		}
		end = nl;
		pos = (size_t)(nl - buf) + 1;
		/* "<oid40> <digest32> <n> v... <check16>" */
		if (end - line < 40 + 1 + 32 + 1 + 1 + 1 + 16 || end[-17] != ' ') {
			rc = vl_error_set(VL_EINVALID, "aggregate cache: short line");
			goto out;
		}
		body = (size_t)(end - line) - 17;
		line_check(check, line, body);
		if (memcmp(check, end - 16, 16) != 0) {
			rc = vl_error_set(VL_EINVALID, "aggregate cache: checksum mismatch");
			goto out;
		}
		/* Lowercase hex only (the one form the writer makes), decoded
		 * here: libgit2's parser needs the library initialised. */
		for (i = 0; i < 73; i++)
			if (i != 40 && !((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f')))
				break;
		if (i != 73 || line[40] != ' ' || line[73] != ' ' ||
				sodium_hex2bin(tree.id, sizeof(tree.id), line, 40, NULL, NULL, NULL) != 0 ||
				sodium_hex2bin(digest, 16, line + 41, 32, NULL, NULL, NULL) != 0) {
			rc = vl_error_set(VL_EINVALID, "aggregate cache: bad key");
			goto out;
		}
		p = line + 74;
		end = line + body;
		for (i = 0, n = (size_t)-1; p < end; i++) {
			const char *sp = memchr(p, ' ', (size_t)(end - p));
			size_t l = sp ? (size_t)(sp - p) : (size_t)(end - p);
			char *ep = NULL;
			long long v;

			if (l == 0 || l >= sizeof(num)) {
				rc = vl_error_set(VL_EINVALID, "aggregate cache: bad number");
				goto out;
			}
			memcpy(num, p, l);
			num[l] = '\0';
			errno = 0;
			v = strtoll(num, &ep, 10);
			if (errno || *ep || (num[0] != '-' && (num[0] < '0' || num[0] > '9'))) {
				rc = vl_error_set(VL_EINVALID, "aggregate cache: bad number");
				goto out;
			}
			if (i == 0) {
				if (v < 0 || v > VL_AGG_CACHE_MAX_FIGURES) {
					rc = vl_error_set(VL_ETOOBIG, "aggregate cache: too many figures");
					goto out;
				}
				n = (size_t)v;
			} else if (i - 1 < n) {
				vals[i - 1] = v;
			} else {
				rc = vl_error_set(VL_EINVALID, "aggregate cache: more values than announced");
				goto out;
			}
			p += l + (sp ? 1 : 0);
		}
		if (n == (size_t)-1 || i - 1 != n) {
			rc = vl_error_set(VL_EINVALID, "aggregate cache: fewer values than announced");
			goto out;
		}
		if ((rc = fn(ctx, &tree, digest, vals, n)) < 0)
			goto out;
	}
out:
	free(vals);
	return rc;
}

static int cache_load_cb(void *ctx, const git_oid *tree, const unsigned char digest[16], const long long *vals,
		size_t n)
{
	return cache_put(ctx, tree, digest, vals, n, 0);
}

static int cache_path(vl_buf *p, const vl_node *n, const char *name)
{
	return vl_buf_printf(p, "%s/cache/%s", n->home, name);
}

/* Load the cache; anything wrong leaves it empty (and says so). */
static int cache_load(cache *c, const vl_node *n, int *rejected)
{
	vl_buf path = VL_BUF_INIT, file = VL_BUF_INIT;
	int rc;

	if ((rc = cache_path(&path, n, "aggregate.v1")) < 0)
		goto out;
	rc = vl_buf_read_file(&file, path.ptr, VL_AGG_CACHE_MAX_BYTES);
	if (rc == VL_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc == VL_ENOMEM)
		goto out;
	if (rc < 0 || (rc = vl_agg_cache_parse(file.ptr ? file.ptr : "", file.len, cache_load_cb, c)) < 0) {
		if (rc == VL_ENOMEM)
			goto out;
		cache_free(c);
		*rejected = 1;
		rc = 0;
	}
out:
	vl_buf_free(&path);
	vl_buf_free(&file);
	return rc;
}

/* Entries a partial run keeps beyond those it used. */
#define CACHE_KEEP_MAX 1000000

/* Write the cache atomically. prune (a run over the node's whole scope and
 * every ledger, which used every entry still current): only the entries
 * used; else also those loaded, up to CACHE_KEEP_MAX, so a run over one
 * township does not throw away the county's. A failure to write the cache
 * is not the operation's failure. */
static void cache_save(const cache *c, const vl_node *n, int prune)
{
	vl_buf out = VL_BUF_INIT, dir = VL_BUF_INIT, path = VL_BUF_INIT;
	size_t i, j;

	if (vl_buf_puts(&out, CACHE_MAGIC) < 0)
		goto out;
	for (i = 0; i < c->n; i++) {
		const cache_entry *e = &c->e[i];
		char hex[GIT_OID_HEXSZ + 1], dg[33], check[17];
		size_t start = out.len;

		if (!e->used && (prune || i >= CACHE_KEEP_MAX))
			continue;
		git_oid_tostr(hex, sizeof(hex), &e->tree);
		sodium_bin2hex(dg, sizeof(dg), e->digest, 16);
		if (vl_buf_printf(&out, "%s %s %zu", hex, dg, e->n) < 0)
			goto out;
		for (j = 0; j < e->n; j++)
			if (vl_buf_printf(&out, " %lld", e->vals[j]) < 0)
				goto out;
		line_check(check, out.ptr + start, out.len - start);
		if (vl_buf_printf(&out, " %s\n", check) < 0)
			goto out;
	}
	if (vl_buf_printf(&dir, "%s/cache", n->home) < 0 || cache_path(&path, n, "aggregate.v1") < 0)
		goto out;
	(void)mkdir(dir.ptr, 0700);
	if (vl_buf_write_file(path.ptr, out.ptr, out.len, 0600) < 0)
		vl_error_clear();
out:
	vl_buf_free(&out);
	vl_buf_free(&dir);
	vl_buf_free(&path);
}

/* ---- walking the branches ----------------------------------------------- */

typedef struct {
	vl_node *n;
	const vl_aggregate_opts *o;
	vl_aggregate_result *r;
	plan p;
	cache c;
	int use_cache;
} agg_ctx;

/* Add one live record's contributions to vals (lp->nfigs). */
static int record_add(const ledger_plan *lp, const vl_record *rec, long long *vals, const char *path)
{
	size_t j, k;
	int rc;

	if (!vl_query_match(&lp->where, rec->data))
		return 0;
	for (j = 0; j < lp->s->naggregates; j++) {
		const vl_aggregate *a = &lp->s->aggregates[j];
		long long v = VL_AGG_SCALE;
		size_t at = lp->agg_first[j];

		if (!vl_query_match(&lp->aggq[j], rec->data))
			continue;
		if (a->field) {
			const vl_value *fv = vl_value_map_get(rec->data, a->field);
			int pr;
			if (!fv)
				continue;
			if (!fv->s || (fv->kind != VL_V_INT && fv->kind != VL_V_DEC) || (pr = scaled_parse(&v, fv->s)) < 0)
				return vl_error_set(VL_EINVALID, "'%s': field '%s' cannot be summed exactly (a number with at "
						"most 6 decimal places and 13 integer digits)", path, a->field);
		}
		if (a->group_by) {
			const vl_field *g = vl_schema_field(lp->s, a->group_by);
			const vl_value *gv = vl_value_map_get(rec->data, a->group_by);
			size_t ni = gv && gv->kind == VL_V_LIST ? gv->n : 1;

			for (k = 0; g && gv && k < ni; k++) {
				const vl_value *it = gv->kind == VL_V_LIST ? gv->items[k] : gv;
				size_t o;
				if (!it->s)
					continue;
				if (g->type == VL_T_BOOL) {
					if ((rc = add_checked(&vals[at + (strcmp(it->s, "true") != 0)], v)) < 0)
						return rc;
					continue;
				}
				for (o = 0; o < g->nopts; o++)
					if (strcmp(g->opts[o].value, it->s) == 0 && (rc = add_checked(&vals[at + o], v)) < 0)
						return rc;
			}
		} else if ((rc = add_checked(&vals[at], v)) < 0) {
			return rc;
		}
	}
	return 0;
}

/* Figures of one bucket subtree into vals (zeroed by the caller). */
static int bucket_eval(agg_ctx *x, const ledger_plan *lp, const git_tree_entry *be, long long *vals)
{
	git_tree *t = NULL;
	vl_buf raw = VL_BUF_INIT, path = VL_BUF_INIT;
	vl_record *rec = NULL;
	size_t i;
	int rc;

	if (git_tree_entry_type(be) != GIT_OBJECT_TREE ||
			(rc = git_tree_lookup(&t, x->n->repo, git_tree_entry_id(be))) < 0) {
		rc = vl_error_set(VL_EINVALID, "'%s/%s' is not a bucket directory", lp->s->name, git_tree_entry_name(be));
		goto out;
	}
	for (i = 0; i < git_tree_entrycount(t); i++) {
		const git_tree_entry *re = git_tree_entry_byindex(t, i);

		vl_buf_clear(&path);
		vl_buf_clear(&raw);
		vl_record_free(rec);
		rec = NULL;
		if ((rc = vl_buf_printf(&path, "%s/%s/%s", lp->s->name, git_tree_entry_name(be),
				git_tree_entry_name(re))) < 0)
			goto out;
		if (git_tree_entry_filemode(re) != GIT_FILEMODE_BLOB) {
			rc = vl_error_set(VL_EINVALID, "'%s' is not a regular file", path.ptr);
			goto out;
		}
		if ((rc = vl_repo_read_blob(&raw, x->n->repo, git_tree_entry_id(re), VL_RECORD_MAX_BYTES,
				path.ptr)) < 0 ||
				(rc = vl_record_parse(&rec, raw.ptr ? raw.ptr : "", raw.len, path.ptr)) < 0)
			goto out;
		x->r->records_read++;
		if (!rec->deleted && (rc = record_add(lp, rec, vals, path.ptr)) < 0)
			goto out;
	}
	x->r->subtrees_read++;
	rc = 0;
out:
	vl_record_free(rec);
	vl_buf_free(&raw);
	vl_buf_free(&path);
	git_tree_free(t);
	return rc;
}

/* Figures of one ledger subtree added to vals: from the cache when its id
 * (or its buckets' ids) were seen before, else read. */
static int ledger_eval(agg_ctx *x, const ledger_plan *lp, const git_tree_entry *le, long long *vals)
{
	git_tree *t = NULL;
	long long *sum = NULL, *b = NULL;
	cache_entry *e;
	size_t i, k;
	int rc;

	if (x->use_cache && (e = cache_get(&x->c, git_tree_entry_id(le), lp->digest)) != NULL && e->n == lp->nfigs) {
		e->used = 1;
		x->r->subtrees_cached++;
		for (k = 0; k < lp->nfigs; k++)
			if ((rc = add_checked(&vals[k], e->vals[k])) < 0)
				return rc;
		return 0;
	}
	if (!(sum = calloc(lp->nfigs, sizeof(*sum))) || !(b = calloc(lp->nfigs, sizeof(*b)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if (git_tree_entry_type(le) != GIT_OBJECT_TREE || (rc = git_tree_lookup(&t, x->n->repo, git_tree_entry_id(le))) < 0) {
		rc = vl_error_set(VL_EINVALID, "'%s' in the branch is not a directory", lp->s->name);
		goto out;
	}
	for (i = 0; i < git_tree_entrycount(t); i++) {
		const git_tree_entry *be = git_tree_entry_byindex(t, i);

		memset(b, 0, lp->nfigs * sizeof(*b));
		if (x->use_cache && (e = cache_get(&x->c, git_tree_entry_id(be), lp->digest)) != NULL &&
				e->n == lp->nfigs) {
			e->used = 1;
			x->r->subtrees_cached++;
			memcpy(b, e->vals, lp->nfigs * sizeof(*b));
		} else {
			if ((rc = bucket_eval(x, lp, be, b)) < 0 ||
					(x->use_cache && (rc = cache_put(&x->c, git_tree_entry_id(be), lp->digest, b, lp->nfigs, 1)) < 0))
				goto out;
		}
		for (k = 0; k < lp->nfigs; k++)
			if ((rc = add_checked(&sum[k], b[k])) < 0)
				goto out;
	}
	if (x->use_cache && (rc = cache_put(&x->c, git_tree_entry_id(le), lp->digest, sum, lp->nfigs, 1)) < 0)
		goto out;
	for (k = 0; k < lp->nfigs; k++)
		if ((rc = add_checked(&vals[k], sum[k])) < 0)
			goto out;
	rc = 0;
out:
	free(sum);
	free(b);
	git_tree_free(t);
	return rc;
}

/* When the branch last changed or moved here (aggregate.h, Freshness). */
static long long branch_as_of(git_repository *repo, const char *ref, const git_commit *c)
{
	git_reflog *log = NULL;
	long long t = (long long)git_commit_time(c);

	if (git_reflog_read(&log, repo, ref) == 0 && git_reflog_entrycount(log) > 0) {
		const git_reflog_entry *e = git_reflog_entry_byindex(log, 0);
		const git_signature *sig = e ? git_reflog_entry_committer(e) : NULL;
		if (sig && (long long)sig->when.time > t)
			t = (long long)sig->when.time;
	}
	git_reflog_free(log);
	return t;
}

static int branch_eval(agg_ctx *x, vl_agg_unit *u, const git_oid *head)
{
	git_commit *c = NULL;
	git_tree *root = NULL;
	char ref[64];
	size_t i;
	int rc;

	vl_scope_ref(ref, u->code);
	git_oid_cpy(&u->head, head);
	if ((rc = git_commit_lookup(&c, x->n->repo, &u->head)) < 0 || (rc = git_commit_tree(&root, c)) < 0) {
		rc = rc == GIT_ENOTFOUND ? vl_error_set(VL_ENOTFOUND, "this node lacks commit %s of '%s' (fetch it "
					"first)", git_oid_tostr_s(head), ref)
			: vl_error_git(rc, _("cannot read a branch head"));
		goto out;
	}
	u->have_branch = 1;
	u->as_of = branch_as_of(x->n->repo, ref, c);
	u->stale = x->r->now - u->as_of > x->r->stale_after;
	for (i = 0; i < x->p.n; i++) {
		const git_tree_entry *le = git_tree_entry_byname(root, x->p.l[i].s->name);
		if (le && (rc = ledger_eval(x, &x->p.l[i], le, u->vals + x->p.l[i].first)) < 0)
			goto out;
	}
	x->r->branches++;
	rc = 0;
out:
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}

/* ---- units and roll-up -------------------------------------------------- */

typedef struct {
	char (*c)[13];
	size_t n, cap;
} codes;

static int codes_add(codes *cs, const char *code, const char *scope)
{
	char cur[13], up[13];
	int rc;

	memcpy(cur, code, 13);
	for (;;) {
		if ((rc = vl_array_grow((void **)&cs->c, &cs->cap, cs->n, sizeof(*cs->c))) < 0)
			return rc;
		memcpy(cs->c[cs->n++], cur, 13);
		if (strcmp(cur, scope) == 0 || vl_division_parent(cur, up) < 0 || !vl_division_covers(scope, up))
			return 0;
		memcpy(cur, up, 13);
	}
}

static int code_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int unit_cmp(const void *a, const void *b)
{
	return strcmp(((const vl_agg_unit *)a)->code, ((const vl_agg_unit *)b)->code);
}

/* The units of the sorted, de-duplicated codes of cs, named from the table;
 * with_supp: each gets a suppression flag per figure. */
static int units_alloc(agg_ctx *x, codes *cs, int with_supp)
{
	size_t i;

	qsort(cs->c, cs->n, sizeof(*cs->c), code_cmp);
	if (!(x->r->units = calloc(cs->n ? cs->n : 1, sizeof(*x->r->units))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < cs->n; i++) {
		vl_agg_unit *u;
		const vl_division *d;

		if (i && strcmp(cs->c[i], cs->c[i - 1]) == 0)
			continue;
		u = &x->r->units[x->r->nunits++];
		memcpy(u->code, cs->c[i], 13);
		if (vl_division_parent(u->code, u->parent) < 0)
			u->parent[0] = '\0';
		u->level = vl_division_level(u->code);
		d = vl_divisions_find(&x->r->divisions, u->code);
		u->name = d ? d->name : NULL;
		if (!(u->vals = calloc(x->r->nfigs ? x->r->nfigs : 1, sizeof(*u->vals))) ||
				(with_supp && !(u->supp = calloc(x->r->nfigs ? x->r->nfigs : 1, 1))))
			return vl_error_set(VL_ENOMEM, "out of memory");
	}
	return 0;
}

/* A walk of the scope branches (vl_scope_refs_each) adding codes to cs. */
typedef struct {
	codes *cs;
	const char *scope;
	size_t nbranch;              /* branches under scope seen */
} branch_walk;

/* A branch under scope (or scope's own), with the codes between. */
static int branch_below(const char *code, const git_oid *head, void *ctx)
{
	branch_walk *w = ctx;

	(void)head;
	if (vl_division_level(code) == VL_DIV_INVALID || !vl_division_covers(w->scope, code))
		return 0;
	w->nbranch++;
	return codes_add(w->cs, code, w->scope);
}

/* A branch one level below scope. */
static int branch_child(const char *code, const git_oid *head, void *ctx)
{
	branch_walk *w = ctx;
	char parent[13];

	(void)head;
	if (vl_division_parent(code, parent) < 0 || strcmp(parent, w->scope) != 0)
		return 0;
	return codes_add(w->cs, code, code);
}

/* Every unit: the table's rows under scope, the branches under it, and the
 * codes between them and scope. */
static int units_build(agg_ctx *x, const char *scope)
{
	codes cs = { NULL, 0, 0 };
	branch_walk bb = { &cs, scope, 0 };
	size_t i, j;
	int rc;

	if ((rc = codes_add(&cs, scope, scope)) < 0)
		goto out;
	for (i = 0; i < x->r->divisions.n; i++)
		if (vl_division_covers(scope, x->r->divisions.d[i].code) &&
				(rc = codes_add(&cs, x->r->divisions.d[i].code, scope)) < 0)
			goto out;
	for (i = 0; x->o->at && i < x->o->nat; i++)
		if (vl_division_covers(scope, x->o->at[i].code)) {
			bb.nbranch++;
			if ((rc = codes_add(&cs, x->o->at[i].code, scope)) < 0)
				goto out;
		}
	if (!x->o->at && (rc = vl_scope_refs_each(x->n->repo, branch_below, &bb)) < 0)
		goto out;
	if (x->r->have_divisions && !vl_divisions_find(&x->r->divisions, scope) && bb.nbranch == 0) {
		rc = vl_error_set(VL_EINVALID, "scope '%s' is not in the division table and the node holds no branch "
				"under it (check the code, or give --divisions FILE)", scope);
		goto out;
	}
	if ((rc = units_alloc(x, &cs, 0)) < 0)
		goto out;
	for (i = 0, j = 0; i < x->r->nunits; i++) {
		char refname[64];
		git_oid head;

		vl_scope_ref(refname, x->r->units[i].code);
		if (x->o->at) {
			size_t a;
			for (a = 0; a < x->o->nat && strcmp(x->o->at[a].code, x->r->units[i].code) != 0; a++)
				;
			if (a < x->o->nat)
				git_oid_cpy(&head, &x->o->at[a].head);
			rc = a < x->o->nat ? 0 : VL_ENOTFOUND;
		} else {
			rc = vl_repo_head(&head, x->n->repo, refname);
		}
		if (rc == VL_ENOTFOUND) {
			x->r->units[i].never_synced = x->r->units[i].level == VL_DIV_VILLAGE;
			continue;
		}
		if (rc < 0 || (rc = branch_eval(x, &x->r->units[i], &head)) < 0)
			goto out;
		vl_progress_report(&x->o->progress, N_("aggregate"), ++j, bb.nbranch);
	}
	rc = 0;
out:
	free(cs.c);
	return rc;
}


/* ---- --from-published ----------------------------------------------------- */

typedef struct {
	const char *unit;
	vl_record *best;             /* newest report of unit seen so far, owned */
	const char *best_at;
} pub_ctx;

static int pub_one(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	pub_ctx *p = ctx;
	vl_record *r = NULL;
	const vl_value *u, *at;
	int rc;

	(void)blob;
	if ((rc = vl_record_parse(&r, raw, len, path)) < 0)
		return rc;
	u = vl_value_map_get(r->data, "unit");
	at = vl_value_map_get(r->data, "computed_at");
	if (r->deleted || !u || !u->s || strcmp(u->s, p->unit) != 0 || !at || !at->s ||
			(p->best && (strcmp(at->s, p->best_at) < 0 ||
				(strcmp(at->s, p->best_at) == 0 && strcmp(r->id, p->best->id) < 0)))) {
		vl_record_free(r);
		return 0;
	}
	vl_record_free(p->best);
	p->best = r;
	p->best_at = at->s;
	return 0;
}

/* RFC 3339 UTC to unix seconds (the roster's parser); 0 if it does not parse. */
static long long rfc3339_secs(const char *s)
{
	uint64_t ms;

	return vl_roster_time_ms(s, &ms) == 0 ? (long long)(ms / 1000) : 0;
}

/* Unit u's figures from the newest aggregate_report of its own branch. */
static int published_unit(agg_ctx *x, vl_agg_unit *u)
{
	pub_ctx p = { u->code, NULL, NULL };
	const vl_value *figs;
	git_oid head;
	char ref[64];
	size_t i, k;
	int rc;

	vl_scope_ref(ref, u->code);
	rc = vl_repo_head(&head, x->n->repo, ref);
	if (rc == VL_ENOTFOUND || (rc == 0 && !vl_node_schema(x->n, "aggregate_report"))) {
		u->never_synced = 1;
		return 0;
	}
	if (rc < 0 || (rc = vl_ledger_each(x->n, &head, "aggregate_report", pub_one, &p)) < 0)
		goto out;
	x->r->branches++;
	if (!p.best) {
		u->never_synced = 1;
		rc = 0;
		goto out;
	}
	u->have_branch = 1;
	git_oid_cpy(&u->head, &head);
	u->as_of = rfc3339_secs(p.best_at);
	u->stale = x->r->now - u->as_of > x->r->stale_after;
	figs = vl_value_map_get(p.best->data, "figures");
	for (i = 0; figs && figs->kind == VL_V_LIST && i < figs->n; i++) {
		const char *f = figs->items[i]->s, *eq = f ? strchr(f, '=') : NULL;
		if (!eq)
			continue;
		for (k = 0; k < x->r->nfigs; k++) {
			if (strlen(x->r->figs[k].key) != (size_t)(eq - f) || strncmp(x->r->figs[k].key, f, (size_t)(eq - f)))
				continue;
			if (strcmp(eq + 1, "<3") == 0)
				u->supp[k] = VL_AGG_LT3;
			else if (strcmp(eq + 1, "hidden") == 0)
				u->supp[k] = VL_AGG_HIDDEN;
			else if (scaled_parse(&u->vals[k], eq + 1) < 0)
				u->supp[k] = VL_AGG_HIDDEN;
			break;
		}
	}
	rc = 0;
out:
	vl_record_free(p.best);
	return rc;
}

/* The scope and the units one level below it, each with its newest
 * published report; the scope's figures are the sum of theirs. */
static int published_build(agg_ctx *x, const char *scope)
{
	codes cs = { NULL, 0, 0 };
	branch_walk bb = { &cs, scope, 0 };
	vl_agg_unit *top = NULL;
	size_t i, k;
	int rc;

	if ((rc = vl_array_grow((void **)&cs.c, &cs.cap, cs.n, sizeof(*cs.c))) < 0)
		goto out;
	memcpy(cs.c[cs.n++], scope, 13);
	for (i = 0; i < x->r->divisions.n; i++)
		if (strcmp(x->r->divisions.d[i].parent, scope) == 0 &&
				(rc = codes_add(&cs, x->r->divisions.d[i].code, x->r->divisions.d[i].code)) < 0)
			goto out;
	if ((rc = vl_scope_refs_each(x->n->repo, branch_child, &bb)) < 0)
		goto out;
	if ((rc = units_alloc(x, &cs, 1)) < 0)
		goto out;
	for (i = 0; i < x->r->nunits; i++)
		if (strcmp(x->r->units[i].code, scope) == 0)
			top = &x->r->units[i];
	for (i = 0; i < x->r->nunits; i++) {
		vl_agg_unit *u = &x->r->units[i];
		if (u == top)
			continue;
		if ((rc = published_unit(x, u)) < 0)
			goto out;
		top->villages_below++;
		top->never_synced_below += (size_t)u->never_synced;
		top->stale_below += (size_t)u->stale;
		for (k = 0; !u->never_synced && k < x->r->nfigs; k++) {
			if (u->supp[k])
				top->supp[k] = VL_AGG_LOWER_BOUND;
			else if ((rc = add_checked(&top->vals[k], u->vals[k])) < 0)
				goto out;
		}
	}
	if (top->villages_below && top->never_synced_below == top->villages_below)
		top->never_synced = 1;
	rc = 0;
out:
	free(cs.c);
	return rc;
}

static int rollup(vl_aggregate_result *r)
{
	int lvl;
	size_t i, k;
	int rc;

	for (lvl = VL_DIV_VILLAGE; lvl > VL_DIV_INVALID; lvl--) {
		for (i = 0; i < r->nunits; i++) {
			vl_agg_unit *u = &r->units[i], key, *p;

			if ((int)u->level != lvl || strcmp(u->code, r->scope) == 0 || !u->parent[0])
				continue;
			memcpy(key.code, u->parent, 13);
			if (!(p = bsearch(&key, r->units, r->nunits, sizeof(*r->units), unit_cmp)))
				continue;
			for (k = 0; k < r->nfigs; k++)
				if ((rc = add_checked(&p->vals[k], u->vals[k])) < 0)
					return rc;
			p->villages_below += u->level == VL_DIV_VILLAGE ? 1 : u->villages_below;
			p->stale_below += u->stale_below + (size_t)u->stale;
			p->never_synced_below += u->never_synced_below + (size_t)(u->level == VL_DIV_VILLAGE && u->never_synced);
		}
	}
	/* A unit above the villages with no branch of its own and nothing synced
	 * below is never synced too: no figures, not zeros. */
	for (i = 0; i < r->nunits; i++) {
		vl_agg_unit *u = &r->units[i];
		if (u->level != VL_DIV_VILLAGE && !u->have_branch && u->villages_below &&
				u->never_synced_below == u->villages_below)
			u->never_synced = 1;
	}
	return 0;
}

void vl_aggregate_result_free(vl_aggregate_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nfigs; i++)
		free(r->figs[i].key);
	free(r->figs);
	for (i = 0; i < r->nunits; i++) {
		free(r->units[i].vals);
		free(r->units[i].supp);
	}
	free(r->units);
	vl_divisions_free(&r->divisions);
	memset(r, 0, sizeof(*r));
}

int vl_aggregate_run(vl_node *n, const vl_aggregate_opts *opts, vl_aggregate_result *out)
{
	static const vl_aggregate_opts defaults = VL_AGGREGATE_OPTS_INIT;
	agg_ctx x;
	vl_div_level by = VL_DIV_INVALID;
	size_t i, k;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	if (!opts)
		opts = &defaults;
	x.n = n;
	x.o = opts;
	x.r = out;
	x.use_cache = !opts->no_cache;
	if (opts->scope && vl_division_level(opts->scope) == VL_DIV_INVALID)
		return vl_error_set(VL_EINVALID, "scope '%.20s' is not a 12-digit division code", opts->scope);
	if (opts->by) {
		for (by = VL_DIV_PROVINCE; by <= VL_DIV_VILLAGE; by++)
			if (strcmp(opts->by, vl_division_level_name(by)) == 0)
				break;
		if (by > VL_DIV_VILLAGE)
			return vl_error_set(VL_EINVALID, "--by '%.20s': say village, township or county", opts->by);
	}
	if (opts->stale_after < 0)
		return vl_error_set(VL_EINVALID, "the staleness threshold must not be negative");
	snprintf(out->scope, sizeof(out->scope), "%s", opts->scope ? opts->scope : n->scope);
	out->now = opts->now ? opts->now : (long long)time(NULL);
	out->stale_after = opts->stale_after ? opts->stale_after : VL_AGG_STALE_DEFAULT;
	if ((rc = vl_node_load_config(n)) < 0 ||
			(rc = vl_divisions_load(&out->divisions, &out->have_divisions, n->home, opts->divisions)) < 0 ||
			(rc = plan_build(&x.p, n, opts, out)) < 0)
		goto out;
	if (x.use_cache && (rc = cache_load(&x.c, n, &out->cache_rejected)) < 0)
		goto out;
	if (opts->from_published) {
		if (opts->nwhere || opts->at || opts->by) {
			rc = vl_error_set(VL_EINVALID, "--from-published sums published figures: it takes no --where or --by");
			goto out;
		}
		rc = published_build(&x, out->scope);
		goto out;
	}
	if ((rc = units_build(&x, out->scope)) < 0 || (rc = rollup(out)) < 0)
		goto out;
	if (x.use_cache)
		cache_save(&x.c, n, !opts->ledger && !opts->nwhere && !opts->at && strcmp(out->scope, n->scope) == 0);
	if (opts->by) {
		for (i = 0, k = 0; i < out->nunits; i++) {
			if (out->units[i].level == by) {
				out->units[k++] = out->units[i];
			} else {
				free(out->units[i].vals);
				free(out->units[i].supp);
			}
		}
		out->nunits = k;
	}
	rc = 0;
out:
	plan_free(&x.p);
	cache_free(&x.c);
	return rc;
}
