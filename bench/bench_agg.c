/*
 * bench_agg.c - the read ceiling of the aggregate bench (bench/aggregate.sh,
 * bench/README.md "The aggregate bench"):
 *
 *   vl_bench read-ceiling --home HOME
 *       every record of every ledger on every scope branch of HOME's
 *       repository read (size-checked inflate, vl_repo_read_blob) and parsed
 *       (vl_record_parse), one thread: what any aggregation of the same
 *       blobs must do before it counts anything. Prints "records seconds".
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "agent/node/ledger.h"
#include "agent/node/node.h"

typedef struct {
	vl_node *n;
	size_t records;
} ceiling_ctx;

static int parse_one(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	ceiling_ctx *c = ctx;
	vl_record *r = NULL;
	int rc;

	(void)blob;
	if ((rc = vl_record_parse(&r, raw, len, path)) < 0)
		return rc;
	c->records += r->deleted ? 0 : 1;
	vl_record_free(r);
	return 0;
}

/* Every ledger of one scope branch. */
static int parse_branch(const char *code, const git_oid *head, void *ctx)
{
	ceiling_ctx *c = ctx;
	size_t i;
	int rc;

	(void)code;
	for (i = 0; head && i < c->n->nschemas; i++)
		if ((rc = vl_ledger_each(c->n, head, c->n->schemas[i]->name, parse_one, c)) < 0)
			return rc;
	return 0;
}

int vlb_agg_main(int argc, char **argv)
{
	const char *home = NULL;
	vl_node *n = NULL;
	ceiling_ctx c = { NULL, 0 };
	struct timespec t0, t1;
	int rc, a;

	for (a = 2; a + 1 < argc; a += 2)
		if (!strcmp(argv[a], "--home"))
			home = argv[a + 1];
	if (!home) {
		fprintf(stderr, "usage: vl_bench read-ceiling --home HOME\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = vl_node_open(&n, home, 0, NULL)) < 0 || (rc = vl_node_load_config(n)) < 0)
		goto out;
	c.n = n;
	rc = vl_scope_refs_each(n->repo, parse_branch, &c);
out:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vl_node_close(n);
	if (rc < 0) {
		fprintf(stderr, "vl_bench read-ceiling: %s\n", vl_error_last());
		return 1;
	}
	printf("%zu %.3f\n", c.records, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
