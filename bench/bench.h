/*
 * bench.h - the benchmark of bench/README.md: shared pieces of vl_bench.
 *
 * bench_gen.c makes synthetic village data (no real personal data: names
 * from a small character list, ID numbers with region 500243 and a correct
 * GB 11643 check digit, phones from a reserved-looking 1380000xxxx range);
 * bench.c runs the import/verify measurements and holds the shared helpers
 * below; bench_merge.c the merge comparison with stock git. Single threaded.
 */
#ifndef VL_BENCH_H
#define VL_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include "store/buf.h"

/* A village of the division table, found by code. */
typedef struct {
	char code[13];       /* 12-digit village code */
	char name[128];      /* "鼓楼社区居委会" */
	char short_name[128]; /* "鼓楼社区" (居委会/村委会 dropped, 村 kept) */
	char town[128];      /* name of the parent township */
} vlb_village;

/*
 * Name (and parent code, when parent is not NULL) of `code` in the divisions
 * CSV (code,name,level,parent_code); level, when not NULL, must match.
 * VL_ENOTFOUND if there is no such row.
 */
int vlb_division_find(char *name, size_t cap, char parent[13], const char *csv_path,
		const char *code, const char *level) VL_MUST_CHECK;

/*
 * Look up a village-level code in the divisions CSV (code,name,level,
 * parent_code). VL_ENOTFOUND if the code is absent or not a village.
 */
int vlb_village_load(vlb_village *out, const char *csv_path, const char *code) VL_MUST_CHECK;

/*
 * Append an import file for `vledger import resident --file` to out:
 * "records:" and n resident data mappings in the resident schema's field
 * order, deterministic for a given seed. Households of 1-5 people share a
 * household number, address and grid; ages, tags and sources follow rough
 * rural proportions.
 */
int vlb_gen_residents(vl_buf *out, const vlb_village *v, size_t n, uint64_t seed) VL_MUST_CHECK;

/* A set of resident ID numbers, to keep them unique across villages. */
typedef struct vlb_idset vlb_idset;
vlb_idset *vlb_idset_new(void);
void vlb_idset_free(vlb_idset *s);
/* vlb_gen_residents with ID numbers unique within `ids` (added to it). */
int vlb_gen_residents_ex(vl_buf *out, const vlb_village *v, size_t n, uint64_t seed,
		vlb_idset *ids) VL_MUST_CHECK;
/* The generators' random numbers: splitmix64, deterministic for a seed. */
uint64_t vlb_next_u64(uint64_t *s);

/*
 * `vl_bench county` (bench_county.c): the county generator of
 * bench/README.md. argv[0] is "county"; returns the exit status.
 */
int vlb_county_main(int argc, char **argv);
/* `vl_bench ceiling-dump | ceiling | day` (bench_ceiling.c): the county
 * benches' verify ceiling and the set-up of a day of edits. */
int vlb_ceiling_main(int argc, char **argv);
/* `vl_bench read-ceiling` (bench_agg.c): the aggregate bench's baseline. */
int vlb_agg_main(int argc, char **argv);

/* ---- shared by the modes of vl_bench (bench.c, bench_merge.c) ---- */

/* The options of a run; filled by main() in bench.c. */
typedef struct {
	const char *vledger;
	const char *csv;
	const char *village_code;
	char work[512];
	size_t records;
	size_t reps;          /* cheap measurements */
	size_t import_reps;   /* `vledger import` as a process (fsync bound) */
	double fsync_budget;  /* seconds for (b), one commit per record with fsync on */
	/* merge mode (bench_merge.c) */
	const char *git;      /* path of the git binary */
	const char *driver;   /* path of bench/merge-driver.sh */
	size_t changed;       /* records changed on both sides */
	size_t batch;         /* records per signed commit on each side */
	vlb_village village;
	char county_code[13];
	char county_name[128];
	char file[600];       /* the import file */
	char tmpl[600];       /* the template village home */
} vlb_config;

/* What one in-process import did. */
typedef struct {
	double secs;        /* node open, load and check, commits */
	size_t commits;
	size_t records;     /* committed (fewer than asked when the budget ran out) */
	double first_ms;    /* mean ms per commit over the first tenth of commits */
	double last_ms;     /* ... and over the last tenth */
} vlb_import_stats;

/* Wall clock (CLOCK_MONOTONIC) in seconds. */
double vlb_now(void);
/* Median of v[0..n) (sorts v in place). */
double vlb_median(double *v, int n);
/* dir + "/" + rel into out[cap]; VL_ETOOBIG if it does not fit. */
int vlb_pathf(char *out, size_t cap, const char *dir, const char *rel) VL_MUST_CHECK;
/*
 * Switch fsync on or off for this process: libgit2's GIT_OPT_ENABLE_FSYNC_GITDIR
 * and vledger's own fsync() calls (through the --wrap=fsync of bench.c).
 */
void vlb_set_fsync(int on);
/*
 * Run argv[0] (a path) with argv; its stdout into out (when not NULL), stderr
 * through. secs (when not NULL) gets the wall time from fork to exit.
 * VL_ERROR unless it exits 0.
 */
int vlb_run_proc(double *secs, vl_buf *out, char *const argv[]) VL_MUST_CHECK;
/* `cp -a from to`. */
int vlb_copy_tree(const char *from, const char *to) VL_MUST_CHECK;
/*
 * The network of scripts/demo.sh under c->work/tmpl (county + village made
 * by the vledger binary; sets c->tmpl) and the import file c->file of
 * c->records synthetic residents.
 */
int vlb_setup_network(vlb_config *c) VL_MUST_CHECK;
/*
 * Import the first `limit` records of c->file into the village at home,
 * `batch` per signed commit, in this process (as `vledger import` does),
 * fsync on or off; stop after the commit that passes `budget` s (0 = none).
 */
int vlb_import_inproc(vlb_import_stats *st, const vlb_config *c, const char *home, size_t limit,
		size_t batch, int fsync_on, double budget) VL_MUST_CHECK;

/*
 * `vl_bench merge` (bench_merge.c): vl_merge_heads against stock git with a
 * merge driver on two branches that change the same c->changed records;
 * prints its table to stdout. See bench/README.md.
 */
int vlb_bench_merge(vlb_config *c) VL_MUST_CHECK;

#endif
