/*
 * bench_county.c - `vl_bench county`: a whole county node, deterministically,
 * from the real division codes (data/divisions/pengshui_divisions.csv: one
 * county, 39 townships, 296 villages and communities).
 *
 *   vl_bench county --csv CSV --out DIR [--villages N] [--scale F] [--seed S]
 *                   [--village-home CODE] [--village-records N] [--imports] [--jobs N]
 *
 * What it writes under DIR (bench/README.md, "The county generator"):
 *   county/        the county's node home: the network (vl_init), all 296
 *                  village keys on the roster (vl_roster_add, one config
 *                  commit each), and the records of the first N villages
 *                  (the village home's village left out), each village's
 *                  records signed by that village's key and committed by
 *                  vl_ledger_commit exactly as `vledger import` / `add` /
 *                  `edit` commit them.
 *   county-empty/  the county home before any record (for the bulk import)
 *   village/       the home of one more village (--village-home, default:
 *                  the first village not in the county), its key, its config
 *                  (received from the county by vl_receive) and its own
 *                  --village-records residents plus its other ledgers
 *   village-empty/ that home before its records (for the import bench)
 *   imports/CODE.yaml  with --imports: each village's residents as a
 *                  `vledger import resident` file (the county's villages and
 *                  the village home's)
 *   manifest       key=value lines the benches read (codes, counts, ids)
 *
 * Records: residents of households with rough rural shares of the vulnerable
 * groups (bench_gen.c), ID numbers unique across the county; then per
 * village its special_group entries (one per resident per group, imported),
 * network roles, volunteers, test sessions, zones, worker care, supply
 * requests and reports (one `add` commit each), and edits (delivered supply
 * requests, submitted reports: new versions with prev). Village sizes vary
 * around 2,365 (communities of the county town larger, mountain villages
 * smaller) and sum to 700,000 x --scale over the 296.
 *
 * Determinism: the data, the record ids, the clocks (VLEDGER_FAKE_TIME_MS,
 * spring 2022) and the village keys (derived from --seed and the code) are
 * the same on every run; the county's own key and the network id are new
 * each time (vl_init makes them), so commit ids differ between runs.
 *
 * Writes: objects go to the repository through libgit2 as the product
 * writes them, into an in-memory stage flushed as a pack (store/pack.h);
 * fsync is off while generating (the --wrap=fsync switch of bench.c and
 * libgit2's option) and one sync() makes everything durable at the end.
 *
 * Workers (--jobs, default 2): every village's residents are generated
 * first, in table order; then worker w (a child process) writes villages
 * i = w mod N into its own copy of county-empty; the parent moves the
 * workers' packs into the county and creates their branches. A village's
 * data depends only on the seed and the village, so any N writes the same.
 */
#define _DEFAULT_SOURCE /* sync */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "agent/node/ledger.h"
#include "agent/node/node.h"
#include "agent/ops/node_ops.h"
#include "agent/ops/roster_ops.h"
#include "agent/sync/receive.h"
#include "agent/sync/source.h"
#include "schemas/types.h"
#include "store/limits.h"
#include "store/pack.h"
#include "store/yaml.h"

#define NVILLAGES_MAX 296
#define COUNTY_RESIDENTS 700000.0
#define RESIDENT_BATCH 500 /* vledger import's default */

/* Spring 2022 (UTC ms): the network, the survey, the follow-up, the edits. */
#define T_NETWORK 1647219600000ULL /* 2022-03-14T01:00:00Z */
#define T_SURVEY 1647734400000ULL  /* 2022-03-20T00:00:00Z */
#define T_ADDS 1649548800000ULL    /* 2022-04-10T00:00:00Z */
#define T_EDITS 1650412800000ULL   /* 2022-04-20T00:00:00Z */
#define VILLAGE_SLOT_MS (30ULL * 60 * 1000) /* village i works at +i x 30 min */
/* Staged bytes that trigger a pack: ~10 packs for the 700k county. */
#define FLUSH_BYTES ((size_t)192 << 20)

typedef struct {
	vlb_village v;
	size_t size;   /* residents */
	int community; /* 社区 (001-199) rather than 村 */
} county_village;

typedef struct {
	const char *csv;
	const char *out;
	size_t nvillages;
	double scale;
	uint64_t seed;
	const char *home_code;
	size_t home_records;
	int imports;
	county_village *vs;   /* all 296, in table order */
	size_t nvs;
	size_t home_index;    /* index of the village home's village in vs */
	vlb_idset *ids;       /* ID numbers of the whole county */
	uint64_t now;         /* the fake wall clock (ms) */
	size_t records, versions, commits; /* written */
	vl_yaml_limits limits;
	size_t packs;         /* packs written */
	size_t jobs;          /* worker processes */
	size_t county_records, county_versions, county_commits;
	const char *yaml_dir; /* under out: "imports" or ".residents" */
} county_gen;

/* One village's records as they are written (owned). */
typedef struct {
	vl_node *n;
	const county_village *cv;
	const vl_schema *schema;
	uint64_t rng;
	vl_record **res;   /* the residents, signed */
	size_t nres;
} village_ctx;

static const char *const surnames[] = { "王", "李", "张", "刘", "陈", "杨", "冉", "向", "田", "任", "庞", "侯" };
static const char *const given[] = { "秀", "英", "建", "国", "明", "华", "芳", "军", "丽", "强", "平", "兰",
	"文", "勇", "云", "霞", "志", "红", "德", "春" };
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int rnd(uint64_t *s, int lo, int hi)
{
	return lo + (int)(vlb_next_u64(s) % (uint64_t)(hi - lo + 1));
}

static int set_now(county_gen *g, uint64_t ms)
{
	char text[32];

	g->now = ms;
	snprintf(text, sizeof(text), "%llu", (unsigned long long)ms);
	if (setenv("VLEDGER_FAKE_TIME_MS", text, 1) < 0)
		return vl_error_set(VL_ERROR, "setenv: %s", strerror(errno));
	return 0;
}

/* A ULID for time ms with 80 bits from the village's generator. */
static void make_ulid(char out[VL_ULID_LEN + 1], uint64_t ms, uint64_t *rng)
{
	static const char crockford[] = "0123456789abcdefghjkmnpqrstvwxyz";
	uint64_t a = vlb_next_u64(rng), b = vlb_next_u64(rng);
	int i;

	for (i = 9; i >= 0; i--, ms >>= 5)
		out[i] = crockford[ms & 31];
	for (i = 10; i < 22; i++, a >>= 5)
		out[i] = crockford[a & 31];
	for (; i < VL_ULID_LEN; i++, b >>= 5)
		out[i] = crockford[b & 31];
	out[VL_ULID_LEN] = '\0';
}

/* The key of village `code`, from the seed: BLAKE2b(seed || code). */
static int village_key(vl_key *out, uint64_t seed, const char *code)
{
	unsigned char msg[64], s[32];
	size_t len;

	len = (size_t)snprintf((char *)msg, sizeof(msg), "vledger-bench %llu %s", (unsigned long long)seed, code);
	crypto_generichash(s, sizeof(s), msg, len, NULL, 0);
	return vl_key_from_seed(out, s);
}

/* ---- the division table and village sizes ---- */

static int load_villages(county_gen *g)
{
	FILE *f = fopen(g->csv, "r");
	char line[512];
	double *w = NULL, sum = 0, total = COUNTY_RESIDENTS * g->scale;
	uint64_t rng = g->seed ^ 0x5151;
	size_t i;
	int rc = 0;

	if (!f)
		return vl_error_set(VL_ENOTFOUND, "cannot open divisions table '%s'", g->csv);
	if (!(g->vs = calloc(NVILLAGES_MAX, sizeof(*g->vs))) || !(w = calloc(NVILLAGES_MAX, sizeof(*w)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		if (!c2 || strncmp(c2 + 1, "village,", 8) != 0 || c1 - line != 12)
			continue;
		if (g->nvs == NVILLAGES_MAX) {
			rc = vl_error_set(VL_ETOOBIG, "'%s' has more than %d villages", g->csv, NVILLAGES_MAX);
			goto out;
		}
		*c1 = '\0';
		if ((rc = vlb_village_load(&g->vs[g->nvs].v, g->csv, line)) < 0)
			goto out;
		g->vs[g->nvs].community = vl_division_kind(line) && !strcmp(vl_division_kind(line), "community");
		g->nvs++;
	}
	if (g->nvs == 0) {
		rc = vl_error_set(VL_ENOTFOUND, "'%s' has no villages", g->csv);
		goto out;
	}
	/* Communities of the county town hold more people than mountain
	 * villages; each varies by a factor of about 0.6 to 1.6. */
	for (i = 0; i < g->nvs; i++) {
		double noise = 0.6 + (double)rnd(&rng, 0, 1000) / 1000.0 * 0.6 + (double)rnd(&rng, 0, 1000) / 2500.0;
		w[i] = (g->vs[i].community ? 1.7 : 0.85) * noise;
		sum += w[i];
	}
	for (i = 0; i < g->nvs; i++) {
		double s = total * w[i] / sum + 0.5;
		g->vs[i].size = s < 20 ? 20 : (size_t)s;
	}
out:
	free(w);
	fclose(f);
	return rc;
}

/* ---- records ---- */

/* Load a "records:" document and turn each mapping into an unsigned record
 * of `ledger` and the village's scope, as `vledger import` does (normalise,
 * defaults, validate), with deterministic ids. */
static int build_records(vl_record ***out, size_t *nout, county_gen *g, village_ctx *vc, const char *ledger,
		const vl_buf *yaml)
{
	const vl_schema *s = vl_node_schema(vc->n, ledger);
	vl_value *doc = NULL, *list;
	vl_record **recs = NULL;
	vl_buf diag = VL_BUF_INIT;
	size_t i, n = 0;
	int rc;

	*out = NULL;
	*nout = 0;
	if (!s)
		return vl_error_set(VL_ENOTFOUND, "the config has no '%s' schema", ledger);
	if ((rc = vl_yaml_load(&doc, yaml->ptr, yaml->len, &g->limits, ledger)) < 0)
		goto out;
	list = vl_value_map_get(doc, "records");
	if (list && list->kind == VL_V_NULL) {
		rc = 0; /* nothing of this ledger (a small village) */
		goto out;
	}
	if (!list || list->kind != VL_V_LIST) {
		rc = vl_error_set(VL_EINVALID, "%s: no records list", ledger);
		goto out;
	}
	if (!(recs = calloc(list->n ? list->n : 1, sizeof(*recs)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < list->n; i++) {
		vl_value *d = list->items[i];
		char id[VL_ULID_LEN + 1];
		vl_buf_clear(&diag);
		if ((rc = vl_schema_normalize(s, d)) < 0 || (rc = vl_schema_apply_defaults(s, d)) < 0)
			goto out;
		if (vl_schema_validate(s, d, 0, &diag) < 0) {
			rc = vl_error_set(VL_EINVALID, "generated %s record %zu breaks the schema: %s", ledger, i + 1,
					diag.ptr ? diag.ptr : "");
			goto out;
		}
		make_ulid(id, g->now + i, &vc->rng);
		if ((rc = vl_record_new(&recs[n], s->name, id, vc->cv->v.code)) < 0)
			goto out;
		n++;
		vl_value_free(recs[i]->data);
		recs[i]->data = d;
		if (!(list->items[i] = vl_value_new(VL_V_NULL))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
	}
	*out = recs;
	*nout = n;
	recs = NULL;
	rc = 0;
out:
	for (i = 0; recs && i < n; i++)
		vl_record_free(recs[i]);
	free(recs);
	vl_value_free(doc);
	vl_buf_free(&diag);
	return rc;
}

static void free_recs(vl_record **recs, size_t n)
{
	size_t i;

	for (i = 0; recs && i < n; i++)
		vl_record_free(recs[i]);
	free(recs);
}

/* Commit recs[0..n) `per` to a commit, the summaries of `vledger import`
 * (per > 1) or `vledger add` (per = 1); the clock moves `step_ms` a commit. */
static int commit_records(county_gen *g, village_ctx *vc, vl_record **recs, size_t n, size_t per,
		uint64_t step_ms)
{
	vl_buf summary = VL_BUF_INIT;
	git_oid commit;
	size_t done;
	int rc = 0;

	for (done = 0; done < n; done += per) {
		size_t k = n - done < per ? n - done : per;
		vl_buf_clear(&summary);
		if ((rc = set_now(g, g->now + step_ms)) < 0)
			break;
		rc = per == 1 ? vl_buf_printf(&summary, "add %s %s", recs[done]->schema, recs[done]->id)
			      : vl_buf_printf(&summary, "import %zu %s records (%zu-%zu of %zu)", k, recs[done]->schema,
					done + 1, done + k, n);
		if (rc < 0 || (rc = vl_ledger_commit(&commit, vc->n, vc->cv->v.code, recs + done, k, summary.ptr,
				NULL)) < 0)
			break;
		g->records += k;
		g->commits++;
	}
	vl_buf_free(&summary);
	return rc;
}

/* One field an edit sets: a scalar of `kind` with text `text`. */
typedef struct {
	const char *key;
	vl_vkind kind;
	const char *text;
} field_set;

/* A new version of committed record *r (`vledger edit`): same id, its data
 * with the `n` fields of `set` set, prev = its blob on the branch, checked
 * against the schema; one commit. *r is replaced by the new version. */
static int edit_record(county_gen *g, village_ctx *vc, vl_record **r, const field_set *set, size_t n)
{
	const vl_schema *s = vl_node_schema(vc->n, (*r)->schema);
	char ref[64];
	vl_buf path = VL_BUF_INIT, summary = VL_BUF_INIT, diag = VL_BUF_INIT;
	vl_record *next = NULL;
	git_oid blob, commit;
	size_t i;
	int rc;

	vl_scope_ref(ref, vc->cv->v.code);
	if ((rc = vl_record_path(&path, (*r)->schema, (*r)->id)) < 0 ||
			(rc = vl_repo_read(NULL, &blob, vc->n->repo, ref, NULL, path.ptr, VL_RECORD_MAX_BYTES)) < 0 ||
			(rc = vl_record_new(&next, (*r)->schema, (*r)->id, (*r)->scope)) < 0)
		goto out;
	vl_value_free(next->data);
	next->data = vl_value_clone((*r)->data);
	next->prev = calloc(1, sizeof(*next->prev));
	if (!next->data || !next->prev) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	git_oid_tostr(next->prev[0], VL_OID_HEX + 1, &blob);
	next->nprev = 1;
	for (i = 0; i < n; i++) {
		vl_value *v = vl_value_scalar(set[i].kind, set[i].text);
		if (!v || (rc = vl_value_map_set(next->data, set[i].key, v)) < 0) {
			vl_value_free(v);
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!s || (rc = vl_schema_normalize(s, next->data)) < 0 ||
			vl_schema_validate(s, next->data, 0, &diag) < 0) {
		rc = vl_error_set(VL_EINVALID, "generated edit of %s breaks the schema: %s", (*r)->schema,
				diag.ptr ? diag.ptr : "no schema");
		goto out;
	}
	if ((rc = set_now(g, g->now + 7000)) < 0 ||
			(rc = vl_buf_printf(&summary, "edit %s %s", next->schema, next->id)) < 0 ||
			(rc = vl_ledger_commit(&commit, vc->n, vc->cv->v.code, &next, 1, summary.ptr, NULL)) < 0)
		goto out;
	g->versions++;
	g->commits++;
	vl_record_free(*r);
	*r = next;
	next = NULL;
out:
	vl_record_free(next);
	vl_buf_free(&path);
	vl_buf_free(&summary);
	vl_buf_free(&diag);
	return rc;
}

/* Text of field `name` of a resident, or NULL. */
static const char *res_str(const vl_record *r, const char *name)
{
	const vl_value *v = vl_value_map_get(r->data, name);

	return v && v->kind == VL_V_STR ? v->s : NULL;
}

static int res_has_tag(const vl_record *r, const char *tag)
{
	const vl_value *t = vl_value_map_get(r->data, "tags");
	size_t i;

	for (i = 0; t && t->kind == VL_V_LIST && i < t->n; i++)
		if (t->items[i]->kind == VL_V_STR && !strcmp(t->items[i]->s, tag))
			return 1;
	return 0;
}

static int res_age(const vl_record *r)
{
	const char *b = res_str(r, "birth_date");

	int y = 0, i;

	/* birth_date is YYYY-MM-DD (the schema checked it) */
	for (i = 0; b && i < 4 && b[i] >= '0' && b[i] <= '9'; i++)
		y = y * 10 + (b[i] - '0');
	return b && i == 4 ? 2022 - y : 40;
}

/* A resident picked at random with a mobile phone and an age in [lo, hi];
 * `used` (one flag per resident, may be NULL) keeps picks distinct. NULL
 * when none is found in a few tries. */
static vl_record *pick_resident(village_ctx *vc, int lo, int hi, char *used)
{
	int tries;

	for (tries = 0; tries < 400 && vc->nres; tries++) {
		size_t i = (size_t)rnd(&vc->rng, 0, (int)vc->nres - 1);
		const char *p = res_str(vc->res[i], "phone");
		int age = res_age(vc->res[i]);
		if (!p || p[0] != '1' || age < lo || age > hi || (used && used[i]))
			continue;
		if (used)
			used[i] = 1;
		return vc->res[i];
	}
	return NULL;
}

static void person_name(char *out, size_t cap, uint64_t *rng)
{
	snprintf(out, cap, "%s%s%s", surnames[rnd(rng, 0, NELEM(surnames) - 1)],
			given[rnd(rng, 0, NELEM(given) - 1)], given[rnd(rng, 0, NELEM(given) - 1)]);
}

/* The residents of the village (their import file, made by
 * pregen_residents), imported 500 to a commit. */
static int gen_residents(county_gen *g, village_ctx *vc, const char *yaml_path)
{
	vl_buf yaml = VL_BUF_INIT;
	int rc;

	if ((rc = vl_buf_read_file(&yaml, yaml_path, g->limits.max_bytes)) < 0 ||
			(rc = build_records(&vc->res, &vc->nres, g, vc, "resident", &yaml)) < 0)
		goto out;
	rc = commit_records(g, vc, vc->res, vc->nres, RESIDENT_BATCH, 40000);
out:
	vl_buf_free(&yaml);
	return rc;
}

/* One special_group entry per resident per vulnerable group, imported. */
static int gen_special_groups(county_gen *g, village_ctx *vc, const char *liaison, const char *liaison_phone)
{
	static const char *const groups[] = { "child_in_difficulty", "disabled", "elderly_alone", "pregnant",
		"special_disease" };
	static const char *const categories[] = { "visual", "hearing", "speech", "physical", "intellectual",
		"mental", "multiple" };
	static const char *const diseases[] = { "尿毒症（血液透析）", "恶性肿瘤（放化疗）", "严重精神障碍",
		"糖尿病（胰岛素依赖）", "慢性阻塞性肺疾病" };
	vl_buf y = VL_BUF_INIT;
	vl_record **recs = NULL;
	size_t i, k, nrecs = 0;
	int rc;

	if ((rc = vl_buf_puts(&y, "records:\n")) < 0)
		goto out;
	for (i = 0; i < vc->nres; i++) {
		const vl_record *r = vc->res[i];
		for (k = 0; k < NELEM(groups); k++) {
			if (!res_has_tag(r, groups[k]))
				continue;
			rc = vl_buf_printf(&y, "  - resident: %s\n    group: %s\n    status: active\n"
					"    liaison_name: \"%s\"\n    liaison_phone: \"%s\"\n"
					"    last_visit: \"2022-04-%02d\"\n    visits: %d\n",
					r->id, groups[k], liaison, liaison_phone, rnd(&vc->rng, 1, 9), rnd(&vc->rng, 1, 6));
			if (rc >= 0 && k == 1) { /* disabled: certificate = ID number + category + grade */
				int cat = rnd(&vc->rng, 1, 7), grade = rnd(&vc->rng, 1, 4);
				rc = vl_buf_printf(&y, "    disability_cert_no: \"%s%d%d\"\n    disability_category: %s\n"
						"    disability_grade: %d\n    needs: [daily_care, escort]\n",
						res_str(r, "id_number"), cat, grade, categories[cat - 1], grade);
			} else if (rc >= 0 && k == 0) {
				char gname[32];
				person_name(gname, sizeof(gname), &vc->rng);
				rc = vl_buf_printf(&y, "    guardian_name: \"%s\"\n    guardian_phone: \"1380000%04d\"\n"
						"    needs: [counselling, guardianship]\n", gname, rnd(&vc->rng, 0, 9999));
			} else if (rc >= 0 && k == 2) {
				rc = vl_buf_puts(&y, "    needs: [daily_care, delivery, medicine]\n");
			} else if (rc >= 0 && k == 3) {
				rc = vl_buf_printf(&y, "    due_date: \"2022-%02d-%02d\"\n    needs: [escort]\n",
						rnd(&vc->rng, 5, 12), rnd(&vc->rng, 1, 28));
			} else if (rc >= 0 && k == 4) {
				rc = vl_buf_printf(&y, "    disease: \"%s\"\n    treatment: \"每周定期治疗，需专车接送\"\n"
						"    next_treatment: \"2022-04-%02d\"\n    needs: [escort, medicine]\n",
						diseases[rnd(&vc->rng, 0, NELEM(diseases) - 1)], rnd(&vc->rng, 11, 28));
			}
			if (rc < 0)
				goto out;
		}
	}
	if ((rc = build_records(&recs, &nrecs, g, vc, "special_group", &y)) < 0)
		goto out;
	rc = commit_records(g, vc, recs, nrecs, RESIDENT_BATCH, 40000);
out:
	free_recs(recs, nrecs);
	vl_buf_free(&y);
	return rc;
}

/* The ledgers people fill in one record at a time: one `add` commit each,
 * then the edits of a follow-up (supply requests delivered, reports
 * submitted, test sessions closed). */
static int gen_small_ledgers(county_gen *g, village_ctx *vc, const char *worker, const char *worker_phone)
{
	const vlb_village *v = &vc->cv->v;
	char *used = calloc(vc->nres ? vc->nres : 1, 1);
	vl_buf y = VL_BUF_INIT;
	vl_record **recs = NULL, **kept[3] = { NULL, NULL, NULL };
	size_t nrecs = 0, nkept[3] = { 0, 0, 0 }, i;
	int grids = 4, groups = 12, step, k, n, rc = 0;
	const char *ledger;
	char tested[24];

	if (!used)
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (step = 0; step < 7; step++) {
		vl_buf_clear(&y);
		free_recs(recs, nrecs);
		recs = NULL;
		nrecs = 0;
		if ((rc = vl_buf_puts(&y, "records:\n")) < 0)
			goto out;
		switch (step) {
		case 0: /* network roles: a leader per grid and per group */
			ledger = "network_role";
			for (k = 1; rc >= 0 && k <= grids + groups; k++) {
				vl_record *p = pick_resident(vc, 28, 62, used);
				if (!p)
					break;
				if (k <= grids)
					rc = vl_buf_printf(&y, "  - role: grid_leader\n    person_name: \"%s\"\n    phone: \"%s\"\n"
							"    resident: %s\n    area: \"%s第 %d 网格\"\n    grid: \"%s第 %d 网格\"\n"
							"    households: %d\n    appointed_on: \"2022-03-1%d\"\n",
							res_str(p, "name"), res_str(p, "phone"), p->id, v->short_name, k,
							v->short_name, k, rnd(&vc->rng, 80, 260), rnd(&vc->rng, 5, 9));
				else
					rc = vl_buf_printf(&y, "  - role: group_leader\n    person_name: \"%s\"\n    phone: \"%s\"\n"
							"    resident: %s\n    area: \"%s %d 组\"\n    households: %d\n"
							"    appointed_on: \"2022-03-1%d\"\n",
							res_str(p, "name"), res_str(p, "phone"), p->id, v->short_name, k - grids,
							rnd(&vc->rng, 20, 70), rnd(&vc->rng, 5, 9));
			}
			break;
		case 1: /* volunteers: about 1 in 100 residents */
			ledger = "volunteer";
			n = (int)(vc->nres / 100) + 2;
			for (k = 0; rc >= 0 && k < n; k++) {
				vl_record *p = pick_resident(vc, 18, 60, used);
				if (!p)
					break;
				rc = vl_buf_printf(&y, "  - name: \"%s\"\n    phone: \"%s\"\n    team: \"%s志愿服务队\"\n"
						"    team_role: %s\n    service_area: \"%s第 %d 网格\"\n    skills: [%s]\n"
						"    status: active\n    joined_on: \"2022-03-%02d\"\n"
						"    service_log:\n      - {date: \"2022-04-0%d\", task: \"核酸检测秩序维护\", hours: 4}\n"
						"      - {date: \"2022-04-1%d\", task: \"物资配送\", hours: 3.5}\n"
						"    service_hours: 7.5\n",
						res_str(p, "name"), res_str(p, "phone"), v->short_name, k ? "member" : "leader",
						v->short_name, rnd(&vc->rng, 1, grids),
						k % 3 == 0 ? "delivery, driving" : k % 3 == 1 ? "order_keeping, sampling_assist"
							: "data_entry, publicity",
						rnd(&vc->rng, 15, 31), rnd(&vc->rng, 1, 9), rnd(&vc->rng, 0, 9));
			}
			break;
		case 2: /* test sessions: one round a few days apart */
			ledger = "test_session";
			n = 6 + (int)(vc->nres / 1000);
			for (k = 1; rc >= 0 && k <= n; k++)
				rc = vl_buf_printf(&y, "  - kind: on_site\n    date: \"2022-04-%02d\"\n    site: \"%s村委会广场\"\n"
						"    round: %d\n    slots: [\"08:00-11:30\", \"14:30-17:30\"]\n    mode: pool_10\n"
						"    status: planned\n    expected: %zu\n    samplers: %d\n"
						"    leader: \"%s\"\n    leader_phone: \"%s\"\n",
						k * 3 % 28 + 1, v->short_name, k, vc->nres * 9 / 10, rnd(&vc->rng, 4, 12), worker,
						worker_phone);
			break;
		case 3: /* zones */
			ledger = "zone";
			n = 1 + (rnd(&vc->rng, 0, 9) < 3);
			for (k = 1; rc >= 0 && k <= n; k++)
				rc = vl_buf_printf(&y, "  - zone_no: \"%s-2022-%02d\"\n    designation: %s\n"
						"    area: \"%s %d 组及周边，东至村道，西至河沟\"\n    buildings: [\"%d 号\", \"%d 号\"]\n"
						"    status: active\n    announced_at: \"2022-04-0%dT08:00:00Z\"\n"
						"    notice_no: \"彭水防控〔2022〕%d 号\"\n    announced_by: \"彭水县应对疫情工作领导小组\"\n"
						"    households: %d\n    residents: %d\n",
						v->code, k, k == 1 ? "controlled" : "prevention", v->short_name, rnd(&vc->rng, 1, 12),
						rnd(&vc->rng, 1, 30), rnd(&vc->rng, 31, 60), rnd(&vc->rng, 1, 9),
						rnd(&vc->rng, 10, 99), rnd(&vc->rng, 10, 80), rnd(&vc->rng, 30, 250));
			break;
		case 4: /* the village's workers */
			ledger = "worker_care";
			n = 4 + (int)(vc->nres / 800);
			for (k = 0; rc >= 0 && k < n; k++) {
				vl_record *p = pick_resident(vc, 24, 55, used);
				if (!p)
					break;
				rc = vl_buf_printf(&y, "  - worker_name: \"%s\"\n    id_number: \"%s\"\n    phone: \"%s\"\n"
						"    post: \"%s\"\n    duty_status: on_duty\n    subsidy_days: %d\n"
						"    daily_rate: 100\n    rest_days: [\"2022-04-0%d\"]\n    infection_status: none\n",
						res_str(p, "name"), res_str(p, "id_number"), res_str(p, "phone"),
						k ? "网格员" : "村（居）委会主任", rnd(&vc->rng, 10, 30), rnd(&vc->rng, 2, 9));
			}
			break;
		case 5: /* supply requests */
			ledger = "supply_request";
			for (i = 0, k = 0; rc >= 0 && i < vc->nres && k < 999; i++) {
				const vl_record *r = vc->res[i];
				const char *p = res_str(r, "phone");
				/* Half of the old people living alone, and 1 in 100 others. */
				if (!p || !(res_has_tag(r, "elderly_alone") ? rnd(&vc->rng, 0, 1) : rnd(&vc->rng, 0, 99) < 1))
					continue;
				k++;
				rc = vl_buf_printf(&y, "  - request_no: \"%s-202204%02d-%03d\"\n    resident: %s\n    reason: %s\n"
						"    address: \"%s\"\n    contact_name: \"%s\"\n    contact_phone: \"%s\"\n"
						"    items:\n      - {name: 大米, qty: 1, unit: 袋}\n      - {name: 食用油, qty: 1, unit: 桶}\n"
						"      - {name: 降压药, qty: 2, unit: 盒, note: 按处方}\n    urgent: %s\n"
						"    status: registered\n    requested_at: \"2022-04-%02dT0%d:%02d:00Z\"\n",
						v->code, k % 20 + 1, k, r->id, res_has_tag(r, "elderly_alone") ? "elderly_alone" : "immobile",
						res_str(r, "address"), res_str(r, "name"), p, k % 7 ? "false" : "true",
						k % 20 + 1, rnd(&vc->rng, 1, 9), rnd(&vc->rng, 0, 59));
			}
			break;
		case 6: /* reports upward */
			ledger = "report";
			n = 2 + rnd(&vc->rng, 0, 3);
			for (k = 1; rc >= 0 && k <= n; k++) {
				char town[13];
				snprintf(town, sizeof(town), "%.9s000", v->code);
				rc = vl_buf_printf(&y, "  - title: \"%s第 %d 期疫情防控工作信息\"\n    kind: %s\n"
						"    body: \"本周共组织核酸检测 %d 轮，排查返乡人员 %d 人，配送生活物资 %d 户。\"\n"
						"    contact_name: \"%s\"\n    contact_phone: \"%s\"\n    target_level: township\n"
						"    target_unit: \"%s\"\n    deadline: \"2022-04-%02d\"\n    status: draft\n",
						v->short_name, k, k == 1 ? "typical_experience" : "policy_measure",
						rnd(&vc->rng, 1, 3), rnd(&vc->rng, 0, 40), rnd(&vc->rng, 5, 60), worker, worker_phone,
						town, 20 + k);
			}
			break;
		default:
			ledger = NULL;
			break;
		}
		if (rc < 0)
			goto out;
		if ((rc = build_records(&recs, &nrecs, g, vc, ledger, &y)) < 0 ||
				(rc = commit_records(g, vc, recs, nrecs, 1, 7000)) < 0)
			goto out;
		/* Kept for the follow-up edits below. */
		if (step == 2 || step == 5 || step == 6) {
			k = step == 2 ? 0 : step == 5 ? 1 : 2;
			kept[k] = recs;
			nkept[k] = nrecs;
			recs = NULL;
			nrecs = 0;
		}
	}
	/* Ten days later: test sessions closed, supply requests delivered,
	 * reports submitted (`vledger edit`, one commit each). */
	if ((rc = set_now(g, T_EDITS + (uint64_t)(vc->cv - g->vs) * VILLAGE_SLOT_MS)) < 0)
		goto out;
	for (i = 0; i < nkept[0]; i++) {
		field_set set[] = { { "status", VL_V_STR, "closed" }, { "tested", VL_V_INT, tested } };
		snprintf(tested, sizeof(tested), "%zu", vc->nres * 8 / 10 + (size_t)rnd(&vc->rng, 0, 50));
		if ((rc = edit_record(g, vc, &kept[0][i], set, NELEM(set))) < 0)
			goto out;
	}
	for (i = 0; i < nkept[1]; i++) {
		field_set set[] = { { "status", VL_V_STR, "delivered" },
			{ "delivered_at", VL_V_STR, "2022-04-21T10:30:00Z" }, { "deliverer", VL_V_STR, worker },
			{ "payment", VL_V_STR, "self_paid" } };
		if ((rc = edit_record(g, vc, &kept[1][i], set, NELEM(set))) < 0)
			goto out;
	}
	for (i = 0; i < nkept[2]; i++) {
		field_set set[] = { { "status", VL_V_STR, "submitted" },
			{ "submitted_at", VL_V_STR, "2022-04-20T09:00:00Z" } };
		if ((rc = edit_record(g, vc, &kept[2][i], set, NELEM(set))) < 0)
			goto out;
	}
out:
	free(used);
	free_recs(recs, nrecs);
	for (k = 0; k < 3; k++)
		free_recs(kept[k], nkept[k]);
	vl_buf_free(&y);
	return rc;
}

/* The seed of village idx's generator. */
static uint64_t village_seed(const county_gen *g, size_t idx)
{
	return g->seed * 1000003u + idx + 1;
}

/*
 * All records of village cv into node n's repository, signed by key (which
 * must be on the roster with the village's scope): n's key is swapped for
 * it meanwhile and the clock starts fresh (each village is its own node).
 */
static int gen_village(county_gen *g, vl_node *n, const county_village *cv, const vl_key *key,
		const char *yaml_path)
{
	size_t idx = (size_t)(cv - g->vs);
	village_ctx vc;
	vl_key saved = n->key;
	char saved_fp[VL_FP_LEN], worker[32], worker_phone[16];
	vl_hlc saved_clock = n->clock;
	int rc;

	/* One open node and repository (and its stage) writes every village of
	 * a worker: for each village it holds that village's key and
	 * fingerprint, as the village's own node would, and a fresh clock; the
	 * county's are put back after. Opening a node per village would mean a
	 * stage, and so a pack, per village. */
	memset(&vc, 0, sizeof(vc));
	vc.n = n;
	vc.cv = cv;
	vc.rng = village_seed(g, idx);
	memcpy(saved_fp, n->fp, VL_FP_LEN);
	n->key = *key;
	vl_fingerprint(n->fp, key->pk);
	n->clock.ms = 0;
	n->clock.counter = 0;
	person_name(worker, sizeof(worker), &vc.rng);
	snprintf(worker_phone, sizeof(worker_phone), "1390000%04d", (int)(idx % 10000));
	if ((rc = vl_ledger_may_write(n, cv->v.code)) < 0 ||
			(rc = set_now(g, T_SURVEY + idx * VILLAGE_SLOT_MS)) < 0 ||
			(rc = gen_residents(g, &vc, yaml_path)) < 0 ||
			(rc = set_now(g, T_ADDS + idx * VILLAGE_SLOT_MS)) < 0 ||
			(rc = gen_special_groups(g, &vc, worker, worker_phone)) < 0 ||
			(rc = gen_small_ledgers(g, &vc, worker, worker_phone)) < 0)
		vl_error_wrap(rc, "village %s", cv->v.code);
	free_recs(vc.res, vc.nres);
	if (vl_hlc_cmp(&saved_clock, &n->clock) > 0)
		n->clock = saved_clock;
	n->key = saved;
	memcpy(n->fp, saved_fp, VL_FP_LEN);
	return rc;
}

/* ---- packs ---- */

/*
 * Everything written through n's repository lands in one stage (store/pack.h)
 * that goes out as one pack whenever FLUSH_BYTES are staged (force: now).
 * Opened before vl_repo_commit opens its own for a large commit, this stage
 * is the one libgit2 writes to, so that commit's own flush finds nothing.
 */
static int stage_flush(county_gen *g, vl_stage *st, int force)
{
	git_oid pack;
	int rc;

	if (!st || vl_stage_count(st) == 0 || (!force && vl_stage_bytes(st) < FLUSH_BYTES))
		return 0;
	if ((rc = vl_stage_flush(&pack, st, NULL, 1)) < 0)
		return rc;
	g->packs++;
	return 0;
}

/* ---- homes ---- */

static int pathf(vl_buf *b, const char *dir, const char *rel)
{
	vl_buf_clear(b);
	return vl_buf_printf(b, "%s/%s", dir, rel);
}

/* Replace a home's key pair with `key` (the generated home got a random one). */
static int install_key(const char *home, const vl_key *key, const char *name)
{
	vl_buf p = VL_BUF_INIT, pub = VL_BUF_INIT;
	int rc;

	if ((rc = pathf(&p, home, "keys/node.key")) < 0 || (rc = vl_key_save(key, p.ptr, NULL)) < 0 ||
			(rc = pathf(&p, home, "keys/node.pub")) < 0 ||
			(rc = vl_pubkey_format(&pub, key->pk, name)) < 0 || (rc = vl_buf_putc(&pub, '\n')) < 0 ||
			(rc = vl_buf_write_file(p.ptr, pub.ptr, pub.len, 0644)) < 0)
		vl_error_wrap(rc, "cannot write the key of '%s'", home);
	vl_buf_free(&p);
	vl_buf_free(&pub);
	return rc;
}

/* The county home: the network and every village key on the roster. */
static int make_county(county_gen *g, vl_node **out, vl_stage **stage_out, const char *home,
		const char *schema_dir)
{
	vl_stage *st = NULL;
	vl_init_opts io = VL_INIT_OPTS_INIT;
	vl_init_result ir;
	vl_node *n = NULL;
	vl_buf line = VL_BUF_INIT;
	char county_name[128], office[160];
	size_t i;
	int rc;

	memset(&ir, 0, sizeof(ir));
	if ((rc = vlb_division_find(county_name, sizeof(county_name), NULL, g->csv, "500243000000", "county")) < 0)
		return rc;
	snprintf(office, sizeof(office), "%s民政局", county_name);
	io.name = office;
	io.role = "county";
	io.scope = "500243000000";
	io.new_network = 1;
	io.schema_dir = schema_dir;
	if ((rc = set_now(g, T_NETWORK)) < 0 || (rc = vl_init(home, &io, &ir)) < 0 ||
			(rc = vl_node_open(&n, home, 1, NULL)) < 0 || (rc = vl_node_load_config(n)) < 0 ||
			(rc = vl_stage_open(&st, n->repo)) < 0)
		goto out;
	vlb_set_fsync(0);
	for (i = 0; i < g->nvs; i++) {
		vl_roster_add_opts ao = VL_ROSTER_ADD_OPTS_INIT;
		vl_roster_add_result ar;
		vl_key key;
		memset(&ar, 0, sizeof(ar));
		vl_buf_clear(&line);
		if ((rc = village_key(&key, g->seed, g->vs[i].v.code)) < 0 ||
				(rc = vl_pubkey_format(&line, key.pk, g->vs[i].v.name)) < 0)
			goto out;
		vl_key_wipe(&key);
		ao.name = g->vs[i].v.name;
		ao.role = "village";
		ao.scope = g->vs[i].v.code;
		ao.key = line.ptr;
		if ((rc = set_now(g, T_NETWORK + 60000 + i * 10000)) < 0)
			goto out;
		rc = vl_roster_add(n, &ao, &ar);
		vl_roster_add_result_free(&ar);
		if (rc < 0)
			goto out;
		g->commits++;
	}
	if ((rc = stage_flush(g, st, 1)) < 0)
		goto out;
	*out = n;
	*stage_out = st;
	n = NULL;
	st = NULL;
out:
	vl_stage_close(st);
	vl_init_result_free(&ir);
	vl_node_close(n);
	vl_buf_free(&line);
	return rc;
}

/* The village home: a node of the village's key and scope that has
 * received the county's config; `empty` is a copy of it before records. */
static int make_village_home(county_gen *g, const char *out_dir, const char *county_home)
{
	const county_village *cv = &g->vs[g->home_index];
	vl_buf home = VL_BUF_INIT, netfile = VL_BUF_INIT, empty = VL_BUF_INIT, imp = VL_BUF_INIT, p = VL_BUF_INIT;
	vl_export_network_result net;
	vl_init_opts io = VL_INIT_OPTS_INIT;
	vl_init_result ir;
	vl_receive_opts ro = VL_RECEIVE_OPTS_INIT;
	vl_receive_result rr;
	vl_node *cn = NULL, *vn = NULL;
	vl_source *src = NULL;
	vl_stage *st = NULL;
	vl_key key;
	int rc;

	memset(&net, 0, sizeof(net));
	memset(&ir, 0, sizeof(ir));
	memset(&rr, 0, sizeof(rr));
	memset(&key, 0, sizeof(key));
	if ((rc = pathf(&home, out_dir, "village")) < 0 || (rc = pathf(&netfile, out_dir, "network.yaml")) < 0 ||
			(rc = pathf(&empty, out_dir, "village-empty")) < 0 || (rc = pathf(&p, county_home, "repo.git")) < 0)
		goto out;
	if ((rc = vl_node_open(&cn, county_home, 0, NULL)) < 0 || (rc = vl_export_network(cn, NULL, &net)) < 0 ||
			(rc = vl_buf_write_file(netfile.ptr, net.network.ptr, net.network.len, 0644)) < 0)
		goto out;
	vl_node_close(cn);
	cn = NULL;
	io.name = cv->v.name;
	io.role = "village";
	io.scope = cv->v.code;
	io.network_file = netfile.ptr;
	if ((rc = set_now(g, T_NETWORK + 3600000)) < 0 || (rc = vl_init(home.ptr, &io, &ir)) < 0 ||
			(rc = village_key(&key, g->seed, cv->v.code)) < 0 || (rc = install_key(home.ptr, &key, cv->v.name)) < 0)
		goto out;
	/* Its config, received from the county as `vledger fetch` receives it. */
	if ((rc = vl_node_open(&vn, home.ptr, 1, NULL)) < 0 || (rc = vl_source_open_path(&src, p.ptr)) < 0 ||
			(rc = vl_receive(vn, src, &ro, &rr)) < 0)
		goto out;
	if (rr.branches_refused) {
		rc = vl_error_set(VL_EINVALID, "the village refused a county branch: %s", rr.report.ptr ? rr.report.ptr : "");
		goto out;
	}
	if ((rc = vl_node_reload_config(vn)) < 0 || (rc = vlb_copy_tree(home.ptr, empty.ptr)) < 0)
		goto out;
	if ((rc = vl_buf_printf(&imp, "%s/%s/%s.yaml", out_dir, g->yaml_dir, cv->v.code)) < 0)
		goto out;
	if ((rc = vl_stage_open(&st, vn->repo)) < 0 ||
			(rc = gen_village(g, vn, cv, &key, imp.ptr)) < 0 ||
			(rc = stage_flush(g, st, 1)) < 0 || (rc = vl_node_clock_save(vn)) < 0)
		goto out;
out:
	vl_stage_close(st);
	vl_key_wipe(&key);
	vl_source_free(src);
	vl_receive_result_free(&rr);
	vl_init_result_free(&ir);
	vl_export_network_result_free(&net);
	vl_node_close(cn);
	vl_node_close(vn);
	vl_buf_free(&home);
	vl_buf_free(&netfile);
	vl_buf_free(&empty);
	vl_buf_free(&imp);
	vl_buf_free(&p);
	return rc;
}

/* ---- the residents, then the villages on worker processes ---- */

/*
 * Every village's residents as an import file, in table order (the county's
 * villages, then the village home's), so that ID numbers are unique across
 * the county whichever worker later writes a village.
 */
static int pregen_residents(county_gen *g)
{
	vl_buf yaml = VL_BUF_INIT, path = VL_BUF_INIT;
	size_t i, k;
	int rc = 0;

	for (k = 0; k <= g->nvillages && rc == 0; k++) {
		/* k = nvillages: the village home, last */
		i = k < g->nvillages ? k : g->home_index;
		if (k < g->nvillages && i == g->home_index)
			continue;
		vl_buf_clear(&yaml);
		vl_buf_clear(&path);
		if ((rc = vlb_gen_residents_ex(&yaml, &g->vs[i].v, k < g->nvillages ? g->vs[i].size : g->home_records,
				village_seed(g, i), g->ids)) < 0 ||
				(rc = vl_buf_printf(&path, "%s/%s/%s.yaml", g->out, g->yaml_dir, g->vs[i].v.code)) < 0)
			break;
		rc = vl_buf_write_file(path.ptr, yaml.ptr, yaml.len, 0644);
	}
	vl_buf_free(&yaml);
	vl_buf_free(&path);
	return rc;
}

/*
 * Worker w of g->jobs, in a child process: in its own copy of the county
 * (whome, a copy of county-empty), the villages i with i % jobs == w, through
 * one stage; its counts go to whome/stats. Returns the exit status.
 */
static int run_worker(county_gen *g, size_t w, const char *whome)
{
	vl_node *n = NULL;
	vl_stage *st = NULL;
	vl_buf yaml = VL_BUF_INIT, stats = VL_BUF_INIT;
	size_t i, done = 0;
	int rc;

	vlb_set_fsync(0);
	if ((rc = vl_node_open(&n, whome, 1, NULL)) < 0 || (rc = vl_node_load_config(n)) < 0 ||
			(rc = vl_stage_open(&st, n->repo)) < 0)
		goto out;
	for (i = w; i < g->nvillages; i += g->jobs) {
		vl_key key;
		if (i == g->home_index)
			continue;
		vl_buf_clear(&yaml);
		if ((rc = vl_buf_printf(&yaml, "%s/%s/%s.yaml", g->out, g->yaml_dir, g->vs[i].v.code)) < 0 ||
				(rc = village_key(&key, g->seed, g->vs[i].v.code)) < 0)
			goto out;
		rc = gen_village(g, n, &g->vs[i], &key, yaml.ptr);
		vl_key_wipe(&key);
		if (rc < 0 || (rc = stage_flush(g, st, 0)) < 0)
			goto out;
		if (++done % 20 == 0)
			fprintf(stderr, "worker %zu: %zu villages, %zu records, %zu commits\n", w, done, g->records,
					g->commits);
	}
	if ((rc = stage_flush(g, st, 1)) < 0 || (rc = vl_node_clock_save(n)) < 0 ||
			(rc = vl_buf_printf(&stats, "%zu %zu %zu %zu\n", g->records, g->versions, g->commits, g->packs)) < 0)
		goto out;
	vl_buf_clear(&yaml);
	if ((rc = vl_buf_printf(&yaml, "%s/stats", whome)) < 0)
		goto out;
	rc = vl_buf_write_file(yaml.ptr, stats.ptr, stats.len, 0644);
out:
	if (rc < 0)
		fprintf(stderr, "vl_bench county: worker %zu: %s\n", w, vl_error_last());
	vl_stage_close(st);
	vl_node_close(n);
	vl_buf_free(&yaml);
	vl_buf_free(&stats);
	return rc < 0 ? 1 : 0;
}

/*
 * Take worker w's result into the county: its new packs (the pack, then its
 * index, renamed into the county's objects/pack), each of its village
 * branches (vl_repo_ref_cas, created: they are new), its clock and counts.
 */
static int merge_worker(county_gen *g, size_t w, const char *whome, vl_node *cn)
{
	vl_buf from = VL_BUF_INIT, to = VL_BUF_INIT, dir = VL_BUF_INIT, stats = VL_BUF_INIT;
	git_repository *wr = NULL;
	DIR *d = NULL;
	struct dirent *de;
	vl_hlc clock;
	size_t i, st[4] = { 0, 0, 0, 0 };
	int rc, ext;

	/* Packs: .pack files first, then the .idx files (git sees a pack by its index). */
	if ((rc = vl_buf_printf(&dir, "%s/repo.git/objects/pack", whome)) < 0)
		goto out;
	for (ext = 0; ext < 2; ext++) {
		if (!(d = opendir(dir.ptr))) {
			rc = vl_error_set(VL_ERROR, "cannot list '%s': %s", dir.ptr, strerror(errno));
			goto out;
		}
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);
			const char *want = ext ? ".idx" : ".pack";
			struct stat sb;
			if (strncmp(de->d_name, "pack-", 5) != 0 || l < 10 || strcmp(de->d_name + l - strlen(want), want) != 0)
				continue;
			vl_buf_clear(&from);
			vl_buf_clear(&to);
			if ((rc = vl_buf_printf(&from, "%s/%s", dir.ptr, de->d_name)) < 0 ||
					(rc = vl_buf_printf(&to, "%s/objects/pack/%s", git_repository_path(cn->repo), de->d_name)) < 0)
				goto out;
			if (stat(to.ptr, &sb) == 0)
				continue; /* the county's own (the roster's pack) */
			if (rename(from.ptr, to.ptr) < 0) {
				rc = vl_error_set(VL_ERROR, "cannot move '%s': %s", from.ptr, strerror(errno));
				goto out;
			}
		}
		closedir(d);
		d = NULL;
	}
	/* The county's odb learns of the new packs on its next miss. */
	vl_buf_clear(&from);
	if ((rc = vl_buf_printf(&from, "%s/repo.git", whome)) < 0 || (rc = vl_repo_open(&wr, from.ptr)) < 0)
		goto out;
	for (i = w; i < g->nvillages; i += g->jobs) {
		char ref[64];
		git_oid head;
		if (i == g->home_index)
			continue;
		vl_scope_ref(ref, g->vs[i].v.code);
		if ((rc = vl_repo_head(&head, wr, ref)) < 0 ||
				(rc = vl_repo_ref_cas(cn->repo, ref, &head, NULL, "vledger commit", "generate the county again")) < 0)
			goto out;
	}
	vl_buf_clear(&from);
	if ((rc = vl_buf_printf(&from, "%s/clock", whome)) < 0 || (rc = vl_hlc_load(&clock, from.ptr)) < 0)
		goto out;
	vl_hlc_observe(&cn->clock, &clock);
	vl_buf_clear(&from);
	if ((rc = vl_buf_printf(&from, "%s/stats", whome)) < 0 || (rc = vl_buf_read_file(&stats, from.ptr, 256)) < 0)
		goto out;
	if (sscanf(stats.ptr, "%zu %zu %zu %zu", &st[0], &st[1], &st[2], &st[3]) != 4) {
		rc = vl_error_set(VL_EINVALID, "worker %zu left no counts", w);
		goto out;
	}
	g->records += st[0];
	g->versions += st[1];
	g->commits += st[2];
	g->packs += st[3];
	rc = 0;
out:
	if (d)
		closedir(d);
	git_repository_free(wr);
	vl_buf_free(&from);
	vl_buf_free(&to);
	vl_buf_free(&dir);
	vl_buf_free(&stats);
	return rc;
}

/*
 * The county's villages on g->jobs worker processes, each in its own copy of
 * county-empty, then merged into the county at `county`.
 */
static int gen_villages(county_gen *g, const char *county, const char *empty)
{
	pid_t pids[16];
	vl_buf whome = VL_BUF_INIT;
	vl_node *cn = NULL;
	size_t w, started = 0;
	int rc = 0, status;

	for (w = 0; w < g->jobs && rc == 0; w++) {
		vl_buf_clear(&whome);
		if ((rc = vl_buf_printf(&whome, "%s/.worker%zu", g->out, w)) < 0 || (rc = vlb_copy_tree(empty, whome.ptr)) < 0)
			break;
		fflush(NULL);
		pids[w] = fork();
		if (pids[w] < 0) {
			rc = vl_error_set(VL_ERROR, "fork: %s", strerror(errno));
			break;
		}
		if (pids[w] == 0)
			_exit(run_worker(g, w, whome.ptr));
		started++;
	}
	for (w = 0; w < started; w++) {
		while (waitpid(pids[w], &status, 0) < 0 && errno == EINTR)
			;
		if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			rc = vl_error_set(VL_ERROR, "worker %zu failed (status %d)", w, status);
	}
	if (rc < 0)
		goto out;
	if ((rc = vl_node_open(&cn, county, 1, NULL)) < 0 || (rc = vl_node_lock_write(cn)) < 0)
		goto out;
	for (w = 0; w < g->jobs; w++) {
		char *argv[] = { "/bin/rm", "-rf", NULL, NULL };
		vl_buf_clear(&whome);
		if ((rc = vl_buf_printf(&whome, "%s/.worker%zu", g->out, w)) < 0 || (rc = merge_worker(g, w, whome.ptr, cn)) < 0)
			goto out;
		argv[2] = whome.ptr;
		if ((rc = vlb_run_proc(NULL, NULL, argv)) < 0)
			goto out;
	}
	rc = vl_node_clock_save(cn);
out:
	vl_node_close(cn);
	vl_buf_free(&whome);
	return rc;
}

/* key=value lines for the benches (bench/run.sh reads them). */
static int write_manifest(county_gen *g, const char *out_dir, const char *county_home, double secs)
{
	const county_village *hv = &g->vs[g->home_index];
	vl_buf m = VL_BUF_INIT, p = VL_BUF_INIT, raw = VL_BUF_INIT;
	vl_node *n = NULL;
	size_t i, residents = 0, in_county = 0;
	int rc;

	for (i = 0; i < g->nvillages && i < g->nvs; i++)
		if (i != g->home_index) {
			residents += g->vs[i].size;
			in_county++;
		}
	if ((rc = vl_buf_printf(&m, "villages=%zu\ncounty_residents=%zu\nrecords=%zu\nversions=%zu\ncommits=%zu\n"
			"seconds=%.1f\njobs=%zu\nvillage_code=%s\nvillage_records=%zu\nvillage_all_records=%zu\n"
			"village_versions=%zu\nvillage_commits=%zu\nvillage_codes=\"", in_county, residents,
			g->county_records, g->county_versions, g->county_commits, secs, g->jobs, hv->v.code, g->home_records,
			g->records, g->versions, g->commits)) < 0)
		goto out;
	for (i = 0; i < g->nvillages && i < g->nvs; i++)
		if (i != g->home_index && (rc = vl_buf_printf(&m, "%s%s", m.ptr[m.len - 1] == '"' ? "" : " ",
				g->vs[i].v.code)) < 0)
			goto out;
	if ((rc = vl_buf_puts(&m, "\"\n")) < 0)
		goto out;
	(void)county_home;
	if ((rc = vl_buf_write_file((pathf(&p, out_dir, "manifest"), p.ptr), m.ptr, m.len, 0644)) < 0)
		goto out;
out:
	vl_node_close(n);
	vl_buf_free(&m);
	vl_buf_free(&p);
	vl_buf_free(&raw);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: vl_bench county --csv DIVISIONS.csv --out DIR [--villages N] [--scale F] [--seed S]\n"
			"                      [--village-home CODE] [--village-records N] [--imports] [--jobs N]\n");
}

int vlb_county_main(int argc, char **argv)
{
	county_gen g;
	vl_node *cn = NULL;
	vl_stage *st = NULL;
	vl_buf county = VL_BUF_INIT, empty = VL_BUF_INIT, imp = VL_BUF_INIT;
	const char *schema_dir = getenv("VLEDGER_SCHEMA_DIR");
	double t0 = vlb_now(), t1;
	size_t i, done = 0;
	int a, rc;

	memset(&g, 0, sizeof(g));
	g.nvillages = NVILLAGES_MAX;
	g.scale = 1.0;
	g.seed = 20220407;
	g.home_records = 3000;
	g.jobs = 2;
	g.limits = (vl_yaml_limits){ (size_t)64 << 20, 16, 5000000 };
	for (a = 1; a < argc; a++) {
		const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
		char *end = NULL;
		if (!strcmp(o, "--imports")) {
			g.imports = 1;
			continue;
		}
		if (!v) {
			usage();
			return 2;
		}
		a++;
		errno = 0;
		if (!strcmp(o, "--csv"))
			g.csv = v;
		else if (!strcmp(o, "--out"))
			g.out = v;
		else if (!strcmp(o, "--village-home"))
			g.home_code = v;
		else if (!strcmp(o, "--villages"))
			g.nvillages = (size_t)strtoul(v, &end, 10);
		else if (!strcmp(o, "--village-records"))
			g.home_records = (size_t)strtoul(v, &end, 10);
		else if (!strcmp(o, "--jobs"))
			g.jobs = (size_t)strtoul(v, &end, 10);
		else if (!strcmp(o, "--seed"))
			g.seed = (uint64_t)strtoull(v, &end, 10);
		else if (!strcmp(o, "--scale"))
			g.scale = strtod(v, &end);
		else {
			usage();
			return 2;
		}
		if (end && (*end || errno || end == v)) {
			usage();
			return 2;
		}
	}
	if (!g.csv || !g.out || g.nvillages == 0 || g.nvillages > NVILLAGES_MAX || g.home_records == 0 ||
			g.home_records > 100000 || !(g.scale > 0 && g.scale <= 10) || g.jobs < 1 || g.jobs > 16) {
		usage();
		return 2;
	}
	if (!schema_dir || !*schema_dir) {
		fprintf(stderr, "vl_bench county: set VLEDGER_SCHEMA_DIR to the schemas/ directory\n");
		return 2;
	}
	if ((rc = vl_crypto_init()) < 0 || (rc = vl_repo_global_init()) < 0 || (rc = load_villages(&g)) < 0)
		goto fail;
	if (g.nvillages > g.nvs)
		g.nvillages = g.nvs;
	/* The village home: a village outside the county's records (the one
	 * after the prefix; with all villages, the last one is left out). */
	g.home_index = g.nvillages < g.nvs ? g.nvillages : g.nvs - 1;
	if (g.home_code) {
		for (i = 0; i < g.nvs && strcmp(g.vs[i].v.code, g.home_code) != 0; i++)
			;
		if (i == g.nvs) {
			rc = vl_error_set(VL_ENOTFOUND, "--village-home '%s' is not a village code of '%s'", g.home_code, g.csv);
			goto fail;
		}
		g.home_index = i;
	}
	if (!(g.ids = vlb_idset_new())) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto fail;
	}
	if (mkdir(g.out, 0755) < 0) {
		rc = vl_error_set(VL_EEXISTS, "cannot create '%s': %s (give a new directory)", g.out, strerror(errno));
		goto fail;
	}
	unsetenv("VLEDGER_PASSPHRASE_FILE");
	unsetenv("VLEDGER_HOME");
	g.yaml_dir = g.imports ? "imports" : ".residents";
	if ((rc = pathf(&county, g.out, "county")) < 0 || (rc = pathf(&empty, g.out, "county-empty")) < 0 ||
			(rc = pathf(&imp, g.out, g.yaml_dir)) < 0)
		goto fail;
	if (mkdir(imp.ptr, 0755) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot create '%s': %s", imp.ptr, strerror(errno));
		goto fail;
	}
	if ((rc = make_county(&g, &cn, &st, county.ptr, schema_dir)) < 0 || (rc = vl_node_clock_save(cn)) < 0)
		goto fail;
	vl_stage_close(st);
	st = NULL;
	vl_node_close(cn);
	cn = NULL;
	if ((rc = vlb_copy_tree(county.ptr, empty.ptr)) < 0)
		goto fail;
	fprintf(stderr, "county: network and %zu village keys in %.1f s\n", g.nvs, vlb_now() - t0);
	if ((rc = pregen_residents(&g)) < 0)
		goto fail;
	fprintf(stderr, "county: residents of %zu villages generated, %.1f s\n", g.nvillages, vlb_now() - t0);
	g.records = g.versions = g.commits = g.packs = 0;
	if ((rc = gen_villages(&g, county.ptr, empty.ptr)) < 0)
		goto fail;
	for (i = 0; i < g.nvillages; i++)
		done += i != g.home_index;
	g.county_records = g.records;
	g.county_versions = g.versions;
	g.county_commits = g.commits;
	t1 = vlb_now();
	fprintf(stderr, "county: %zu villages on %zu workers, %zu records + %zu edits in %zu commits, %zu packs, %.1f s\n",
			done, g.jobs, g.records, g.versions, g.commits, g.packs + 1, t1 - t0);
	g.records = g.versions = g.commits = 0;
	if ((rc = make_village_home(&g, g.out, county.ptr)) < 0)
		goto fail;
	fprintf(stderr, "village %s: %zu records + %zu edits in %zu commits, %.1f s\n", g.vs[g.home_index].v.code,
			g.records, g.versions, g.commits, vlb_now() - t1);
	sync();
	if ((rc = write_manifest(&g, g.out, county.ptr, vlb_now() - t0)) < 0)
		goto fail;
	if (!g.imports) {
		/* The residents' files were only the workers' input. */
		char *argv_rm[] = { "/bin/rm", "-rf", NULL, NULL };
		if ((rc = pathf(&imp, g.out, g.yaml_dir)) < 0)
			goto fail;
		argv_rm[2] = imp.ptr;
		if ((rc = vlb_run_proc(NULL, NULL, argv_rm)) < 0)
			goto fail;
	}
	fprintf(stderr, "done in %.1f s: %s\n", vlb_now() - t0, g.out);
	vlb_idset_free(g.ids);
	free(g.vs);
	vl_buf_free(&county);
	vl_buf_free(&empty);
	vl_buf_free(&imp);
	return 0;
fail:
	fprintf(stderr, "vl_bench county: %s\n", vl_error_last());
	vl_stage_close(st);
	vl_node_close(cn);
	vlb_idset_free(g.ids);
	free(g.vs);
	vl_buf_free(&county);
	vl_buf_free(&empty);
	vl_buf_free(&imp);
	return 1;
}
