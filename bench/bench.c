/*
 * bench.c - vl_bench: sign+commit and verify throughput of a village import,
 * against the libsodium ed25519 ceilings measured in the same run.
 *
 *   vl_bench run --vledger PATH --csv DIVISIONS.csv [--work DIR] [--records N]
 *                [--reps N] [--import-reps N] [--fsync-budget SECS] [--village CODE]
 *   vl_bench merge --vledger PATH --csv DIVISIONS.csv --git PATH --driver SCRIPT
 *                [--work DIR] [--records N] [--changed N] [--batch N] [--reps N]
 *   vl_bench gen --csv DIVISIONS.csv --out FILE [--records N] [--village CODE]
 *
 * What is measured and why is in bench/README.md; bench/run.sh is the
 * documented command. The network (county + village) is made by the real
 * vledger binary exactly as scripts/demo.sh does, once, then copied for
 * every import so that each starts from a fresh village node.
 *
 * fsync: the product switches libgit2's GIT_OPT_ENABLE_FSYNC_GITDIR on and
 * fsyncs the clock file on every tick (store/buf.c vl_buf_write_file). The
 * "fsync off" rows turn the libgit2 option off and, through a link-time
 * --wrap of fsync() that only this binary has, vledger's own fsyncs; the
 * product code is unchanged and the vledger binary always fsyncs.
 *
 * `vl_bench merge` (vledger's merge against stock git with a merge driver)
 * is in bench_merge.c; it shares the helpers declared in bench.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "agent/node/ledger.h"
#include "agent/node/node.h"
#include "store/repo.h"
#include "agent/audit/verify.h"
#include "store/yaml.h"

/* ---- fsync switch (see the file comment) ---- */

static int g_nofsync;
static unsigned long g_fsyncs; /* vledger's own fsync() calls seen */

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	g_fsyncs++;
	return g_nofsync ? 0 : __real_fsync(fd);
}

void vlb_set_fsync(int on)
{
	g_nofsync = !on;
	/* Cannot fail for this option; the result is checked all the same. */
	if (git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, on) < 0)
		fprintf(stderr, "vl_bench: cannot switch libgit2 fsync\n");
}

/* ---- small helpers ---- */

double vlb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double vlb_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int parse_size(size_t *out, const char *s, size_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !*s || *end || v == 0 || v > max)
		return -1;
	*out = (size_t)v;
	return 0;
}

/*
 * Run argv[0] (a path) with argv; stdout into out (when not NULL), stderr
 * through. secs gets the wall time from fork to exit. VL_ERROR unless it
 * exits 0.
 */
int vlb_run_proc(double *secs, vl_buf *out, char *const argv[])
{
	int pfd[2] = { -1, -1 }, status = 0, rc = 0;
	char chunk[4096];
	double t0;
	ssize_t got;
	pid_t pid;

	if (pipe(pfd) < 0)
		return vl_error_set(VL_ERROR, "pipe: %s", strerror(errno));
	fflush(NULL);
	t0 = vlb_now();
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return vl_error_set(VL_ERROR, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((got = read(pfd[0], chunk, sizeof(chunk))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (out && rc == 0)
			rc = vl_buf_put(out, chunk, (size_t)got);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (secs)
		*secs = vlb_now() - t0;
	if (rc < 0)
		return rc;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return vl_error_set(VL_ERROR, "'%s %s %s %s' failed (status %d)", argv[0],
				argv[1] ? argv[1] : "", argv[1] && argv[2] ? argv[2] : "",
				argv[1] && argv[2] && argv[3] ? argv[3] : "", status);
	return 0;
}

int vlb_copy_tree(const char *from, const char *to)
{
	char *argv[] = { "/bin/cp", "-a", (char *)from, (char *)to, NULL };

	return vlb_run_proc(NULL, NULL, argv);
}

/* ---- results ---- */

typedef struct {
	char what[160];
	char work[64];
	double secs;    /* median */
	double rate;    /* per second */
	const char *unit;
	char note[160];
} row;

static row rows[32];
static size_t nrows;

static row *add_row(const char *what, const char *work, double secs, double rate, const char *unit)
{
	row *r = &rows[nrows < 31 ? nrows++ : 31];

	snprintf(r->what, sizeof(r->what), "%s", what);
	snprintf(r->work, sizeof(r->work), "%s", work);
	r->secs = secs;
	r->rate = rate;
	r->unit = unit;
	r->note[0] = '\0';
	return r;
}

/* dir + "/" + rel into out[cap]. */
int vlb_pathf(char *out, size_t cap, const char *dir, const char *rel)
{
	if ((size_t)snprintf(out, cap, "%s/%s", dir, rel) >= cap)
		return vl_error_set(VL_ETOOBIG, "path too long under '%s'", dir);
	return 0;
}

/* ---- setup: the network of scripts/demo.sh ---- */

int vlb_setup_network(vlb_config *c)
{
	char county[600], netfile[600], cname[200], vdir[600];
	vl_buf key = VL_BUF_INIT, data = VL_BUF_INIT;
	char *nl;
	double t0 = vlb_now();
	int rc;

	if ((rc = vlb_pathf(county, sizeof(county), c->work, "tmpl/county")) < 0 ||
			(rc = vlb_pathf(netfile, sizeof(netfile), c->work, "tmpl/network.yaml")) < 0 ||
			(rc = vlb_pathf(vdir, sizeof(vdir), c->work, "tmpl/village")) < 0 ||
			(rc = vlb_pathf(c->tmpl, sizeof(c->tmpl), c->work, "tmpl/village")) < 0 ||
			(rc = vlb_pathf(c->file, sizeof(c->file), c->work, "village-residents.yaml")) < 0)
		return rc;
	{
		char tmpl[600];
		if ((rc = vlb_pathf(tmpl, sizeof(tmpl), c->work, "tmpl")) < 0)
			return rc;
		if (mkdir(tmpl, 0700) < 0)
			return vl_error_set(VL_ERROR, "cannot create '%s': %s", tmpl, strerror(errno));
	}
	snprintf(cname, sizeof(cname), "%s民政局", c->county_name);
	{
		char *a1[] = { (char *)c->vledger, "-C", county, "init", "--name", cname, "--role", "county",
			"--scope", c->county_code, "--new-network", NULL };
		char *a2[] = { (char *)c->vledger, "-C", county, "export", "network", "--output", netfile, NULL };
		char *a3[] = { (char *)c->vledger, "-C", vdir, "init", "--name", c->village.name, "--role",
			"village", "--scope", c->village.code, "--network", netfile, NULL };
		char *a4[] = { (char *)c->vledger, "-C", vdir, "key", NULL };
		if ((rc = vlb_run_proc(NULL, NULL, a1)) < 0 || (rc = vlb_run_proc(NULL, NULL, a2)) < 0 ||
				(rc = vlb_run_proc(NULL, NULL, a3)) < 0 || (rc = vlb_run_proc(NULL, &key, a4)) < 0)
			goto out;
	}
	if (!key.ptr || !(nl = memchr(key.ptr, '\n', key.len))) {
		rc = vl_error_set(VL_EINVALID, "'vledger key' printed no key line");
		goto out;
	}
	*nl = '\0';
	{
		char *a5[] = { (char *)c->vledger, "-C", county, "roster", "add", "--name", c->village.name,
			"--role", "village", "--scope", c->village.code, "--key", key.ptr, NULL };
		char repo[700];
		char *a6[] = { (char *)c->vledger, "-C", vdir, "fetch", repo, NULL };
		snprintf(repo, sizeof(repo), "%s/repo.git", county);
		if ((rc = vlb_run_proc(NULL, NULL, a5)) < 0 || (rc = vlb_run_proc(NULL, NULL, a6)) < 0)
			goto out;
	}
	/* The data: n synthetic residents of this village. */
	if ((rc = vlb_gen_residents(&data, &c->village, c->records, 20220407)) < 0 ||
			(rc = vl_buf_write_file(c->file, data.ptr, data.len, 0644)) < 0)
		goto out;
	fprintf(stderr, "setup: county %s + village %s (%s) in %.1f s; %zu residents, %zu bytes of YAML\n",
			c->county_code, c->village.code, c->village.name, vlb_now() - t0, c->records, data.len);
out:
	vl_buf_free(&key);
	vl_buf_free(&data);
	return rc;
}

/* ---- the records of the import file, built as the import builds them ---- */

static const vl_yaml_limits import_limits = { (size_t)64 << 20, 16, 5000000 }; /* cmd_record.c's */

/*
 * Load the first `limit` records of file as unsigned vl_records of scope:
 * normalised and validated like `vledger import`. Caller frees each record
 * and the array.
 */
static int load_records(vl_record ***out, size_t *nout, const vl_schema *s, const char *file,
		const char *scope, size_t limit)
{
	vl_buf in = VL_BUF_INIT, diag = VL_BUF_INIT;
	vl_value *doc = NULL, *list;
	vl_record **recs = NULL;
	size_t i, n = 0;
	int rc;

	*out = NULL;
	*nout = 0;
	if ((rc = vl_buf_read_file(&in, file, import_limits.max_bytes)) < 0 ||
			(rc = vl_yaml_load(&doc, in.ptr, in.len, &import_limits, file)) < 0)
		goto out;
	list = vl_value_map_get(doc, "records");
	if (!list || list->kind != VL_V_LIST) {
		rc = vl_error_set(VL_EINVALID, "%s: no 'records' list", file);
		goto out;
	}
	if (limit > list->n)
		limit = list->n;
	if (!(recs = calloc(limit ? limit : 1, sizeof(*recs)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < limit; i++) {
		vl_value *d = list->items[i];
		char id[VL_ULID_LEN + 1];
		vl_buf_clear(&diag);
		if ((rc = vl_schema_normalize(s, d)) < 0)
			goto out;
		if ((rc = vl_schema_validate(s, d, 0, &diag)) < 0) {
			vl_error_set(rc, "%s: record %zu: %s", file, i + 1, diag.ptr ? diag.ptr : "");
			goto out;
		}
		vl_ulid_new(id, vl_hlc_wall_ms());
		if ((rc = vl_record_new(&recs[n], s->name, id, scope)) < 0)
			goto out;
		n++;
		vl_value_free(recs[i]->data);
		recs[i]->data = d; /* moved out of the document */
		list->items[i] = vl_value_new(VL_V_NULL);
		if (!list->items[i]) {
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
	vl_buf_free(&in);
	vl_buf_free(&diag);
	return rc;
}

static void free_records(vl_record **recs, size_t n)
{
	size_t i;

	for (i = 0; recs && i < n; i++)
		vl_record_free(recs[i]);
	free(recs);
}

/* ---- 1. ceilings ---- */

static int bench_ceilings(vlb_config *c)
{
	vl_node *n = NULL;
	vl_record **recs = NULL;
	vl_buf *msgs = NULL, *blobs = NULL, *files = NULL;
	unsigned char (*sigs)[64] = NULL;
	const vl_schema *s;
	size_t nrec = 0, i, rep, msum = 0, fsum = 0;
	double t[5][16], t0;
	char work[64];
	int rc;

	if ((rc = vl_node_open(&n, c->tmpl, 1, NULL)) < 0 || (rc = vl_node_load_config(n)) < 0)
		goto out;
	if (!(s = vl_node_schema(n, "resident"))) {
		rc = vl_error_set(VL_ENOTFOUND, "the config has no resident schema");
		goto out;
	}
	if ((rc = load_records(&recs, &nrec, s, c->file, c->village.code, c->records)) < 0)
		goto out;
	msgs = calloc(nrec, sizeof(*msgs));
	blobs = calloc(nrec, sizeof(*blobs));
	files = calloc(nrec, sizeof(*files));
	sigs = calloc(nrec, sizeof(*sigs));
	if (!msgs || !blobs || !files || !sigs) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	/* The signed bytes of each record as a node would sign it. */
	for (i = 0; i < nrec; i++) {
		if ((rc = vl_node_tick(n, recs[i]->clock)) < 0)
			goto out;
		memcpy(recs[i]->author, n->fp, VL_FP_LEN);
		if ((rc = vl_record_emit(&msgs[i], recs[i], 0)) < 0)
			goto out;
		msum += msgs[i].len;
	}
	for (rep = 0; rep < c->reps; rep++) {
		/* libsodium alone: the ceilings. */
		t0 = vlb_now();
		for (i = 0; i < nrec; i++)
			crypto_sign_detached(sigs[i], NULL, (const unsigned char *)msgs[i].ptr, msgs[i].len, n->key.sk);
		t[0][rep] = vlb_now() - t0;
		t0 = vlb_now();
		for (i = 0; i < nrec; i++)
			if (crypto_sign_verify_detached(sigs[i], (const unsigned char *)msgs[i].ptr, msgs[i].len,
					n->key.pk) != 0) {
				rc = vl_error_set(VL_EBADSIG, "libsodium rejected its own signature");
				goto out;
			}
		t[1][rep] = vlb_now() - t0;
		/* The SSHSIG layer on top: SHA-512 of the message, the signed-data
		 * blob, ed25519, the wire encoding (and the canonical re-encode and
		 * compare on verify). */
		t0 = vlb_now();
		for (i = 0; i < nrec; i++) {
			vl_buf_clear(&blobs[i]);
			if ((rc = vl_sshsig_sign(&blobs[i], &n->key, VL_NS_RECORD, msgs[i].ptr, msgs[i].len)) < 0)
				goto out;
		}
		t[2][rep] = vlb_now() - t0;
		t0 = vlb_now();
		for (i = 0; i < nrec; i++)
			if ((rc = vl_sshsig_verify(blobs[i].ptr, blobs[i].len, VL_NS_RECORD, msgs[i].ptr,
					msgs[i].len, NULL)) < 0)
				goto out;
		t[3][rep] = vlb_now() - t0;
		/* Whole records: canonical emit + SSHSIG + base64 sig line. */
		t0 = vlb_now();
		for (i = 0; i < nrec; i++) {
			vl_buf_clear(&files[i]);
			if ((rc = vl_record_sign(recs[i], &n->key, &files[i])) < 0)
				goto out;
		}
		t[4][rep] = vlb_now() - t0;
	}
	for (i = 0; i < nrec; i++)
		fsum += files[i].len;
	snprintf(work, sizeof(work), "%zu msgs, mean %zu B", nrec, msum / nrec);
	add_row("ed25519 sign, libsodium `crypto_sign_detached` (**sign ceiling**)", work,
			vlb_median(t[0], (int)c->reps), (double)nrec / vlb_median(t[0], (int)c->reps), "sig/s");
	add_row("ed25519 verify, libsodium `crypto_sign_verify_detached` (**verify ceiling**)", work,
			vlb_median(t[1], (int)c->reps), (double)nrec / vlb_median(t[1], (int)c->reps), "sig/s");
	add_row("SSHSIG sign, `vl_sshsig_sign` (ns vledger-record)", work, vlb_median(t[2], (int)c->reps),
			(double)nrec / vlb_median(t[2], (int)c->reps), "sig/s");
	add_row("SSHSIG verify, `vl_sshsig_verify`", work, vlb_median(t[3], (int)c->reps),
			(double)nrec / vlb_median(t[3], (int)c->reps), "sig/s");
	snprintf(work, sizeof(work), "%zu records, mean %zu B", nrec, fsum / nrec);
	add_row("record sign, `vl_record_sign` (emit + SSHSIG + emit)", work, vlb_median(t[4], (int)c->reps),
			(double)nrec / vlb_median(t[4], (int)c->reps), "rec/s");
	/* Per-record verify work without git: parse, signature, schema. */
	for (rep = 0; rep < c->reps; rep++) {
		vl_buf diag = VL_BUF_INIT;
		t0 = vlb_now();
		for (i = 0; i < nrec; i++) {
			vl_record *r = NULL;
			if ((rc = vl_record_parse(&r, files[i].ptr, files[i].len, "bench")) < 0 ||
					(rc = vl_record_verify(r, files[i].ptr, files[i].len, NULL)) < 0 ||
					(rc = vl_schema_validate(s, r->data, r->deleted, &diag)) < 0) {
				vl_record_free(r);
				vl_buf_free(&diag);
				goto out;
			}
			vl_record_free(r);
		}
		t[0][rep] = vlb_now() - t0;
		vl_buf_free(&diag);
	}
	add_row("record parse + `vl_record_verify` + schema validate (no git)", work,
			vlb_median(t[0], (int)c->reps), (double)nrec / vlb_median(t[0], (int)c->reps), "rec/s");
	/* The clock: every record's tick is persisted (write, fsync, rename,
	 * fsync of the directory) before it is used. */
	{
		size_t k, nt = 200;
		unsigned long before = g_fsyncs;
		char clk[VL_HLC_TEXT_LEN + 1];
		for (rep = 0; rep < c->reps; rep++) {
			t0 = vlb_now();
			for (k = 0; k < nt; k++)
				if ((rc = vl_node_tick(n, clk)) < 0)
					goto out;
			t[0][rep] = vlb_now() - t0;
		}
		snprintf(work, sizeof(work), "%zu ticks, %lu fsyncs each", nt,
				(g_fsyncs - before) / (nt * c->reps));
		add_row("clock tick persisted, `vl_node_tick` (fsync on)", work, vlb_median(t[0], (int)c->reps),
				(double)nt / vlb_median(t[0], (int)c->reps), "tick/s");
		vlb_set_fsync(0);
		for (rep = 0; rep < c->reps; rep++) {
			t0 = vlb_now();
			for (k = 0; k < nt; k++)
				if ((rc = vl_node_tick(n, clk)) < 0)
					break;
			t[0][rep] = vlb_now() - t0;
		}
		vlb_set_fsync(1);
		if (rc < 0)
			goto out;
		snprintf(work, sizeof(work), "%zu ticks", nt);
		add_row("clock tick persisted, `vl_node_tick` (fsync off)", work, vlb_median(t[0], (int)c->reps),
				(double)nt / vlb_median(t[0], (int)c->reps), "tick/s");
	}
	rc = 0;
out:
	for (i = 0; i < nrec; i++) {
		if (msgs)
			vl_buf_free(&msgs[i]);
		if (blobs)
			vl_buf_free(&blobs[i]);
		if (files)
			vl_buf_free(&files[i]);
	}
	free(msgs);
	free(blobs);
	free(files);
	free(sigs);
	free_records(recs, nrec);
	vl_node_close(n);
	return rc;
}

/* ---- 2. import ---- */

/*
 * Import the first `limit` records of the import file into the village at
 * home, `batch` records per signed commit, in this process: open the node,
 * load and check every record (as `vledger import` does), then commit.
 * Stops after the commit that passes `budget` seconds (0 = no budget).
 */
int vlb_import_inproc(vlb_import_stats *st, const vlb_config *c, const char *home, size_t limit,
		size_t batch, int fsync_on, double budget)
{
	vl_node *n = NULL;
	vl_record **recs = NULL;
	vl_buf summary = VL_BUF_INIT;
	const vl_schema *s;
	size_t nrec = 0, done = 0, commits = 0, i, tenth;
	double t0, *ends = NULL, tstart;
	git_oid commit;
	int rc;

	memset(st, 0, sizeof(*st));
	vlb_set_fsync(fsync_on);
	t0 = vlb_now();
	if ((rc = vl_node_open(&n, home, 1, NULL)) < 0 || (rc = vl_node_load_config(n)) < 0)
		goto out;
	if (!(s = vl_node_schema(n, "resident"))) {
		rc = vl_error_set(VL_ENOTFOUND, "the config has no resident schema");
		goto out;
	}
	if ((rc = vl_ledger_may_write(n, c->village.code)) < 0 ||
			(rc = load_records(&recs, &nrec, s, c->file, c->village.code, limit)) < 0)
		goto out;
	if (!(ends = calloc(nrec / batch + 2, sizeof(*ends)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	tstart = vlb_now();
	while (done < nrec && (budget <= 0 || vlb_now() - t0 < budget)) {
		size_t k = nrec - done < batch ? nrec - done : batch;
		vl_buf_clear(&summary);
		rc = k == 1 ? vl_buf_printf(&summary, "add %s %s", s->name, recs[done]->id)
			    : vl_buf_printf(&summary, "import %zu %s records (%zu-%zu of %zu)", k, s->name,
					done + 1, done + k, nrec);
		if (rc < 0 || (rc = vl_ledger_commit(&commit, n, c->village.code, recs + done, k,
				summary.ptr, NULL)) < 0)
			goto out;
		ends[commits++] = vlb_now();
		done += k;
	}
	st->secs = vlb_now() - t0;
	st->commits = commits;
	st->records = done;
	/* Per-commit time over the first and the last tenth: does it grow? */
	tenth = commits / 10;
	if (tenth) {
		st->first_ms = (ends[tenth - 1] - tstart) * 1e3 / (double)tenth;
		st->last_ms = (ends[commits - 1] - ends[commits - 1 - tenth]) * 1e3 / (double)tenth;
	}
	rc = 0;
out:
	vlb_set_fsync(1);
	for (i = 0; recs && i < nrec; i++)
		vl_record_free(recs[i]);
	free(recs);
	free(ends);
	vl_buf_free(&summary);
	vl_node_close(n);
	return rc;
}

/* ---- 3. verify ---- */

/* Repeat a measurement up to c->reps times, but not one that took over
 * this long: the bench has to stay within a few minutes. */
#define SLOW_SECS 20.0

/* Counts from "verified N commits [...] and M record versions ...". */
static int parse_verified(size_t *commits, size_t *records, const char *out)
{
	const char *p = out ? strstr(out, "verified ") : NULL;
	const char *q = out ? strstr(out, " record versions") : NULL;

	if (!p || !q || q < p)
		return -1;
	while (q > out && q[-1] >= '0' && q[-1] <= '9')
		q--;
	*commits = (size_t)strtoull(p + 9, NULL, 10);
	*records = (size_t)strtoull(q, NULL, 10);
	return 0;
}

/* `vledger verify --quiet` on home; counts from its output. */
static int verify_proc(const vlb_config *c, const char *home, const char *label)
{
	double t[16];
	size_t rep, commits = 0, records = 0;
	char work[64], what[160];
	row *r;
	int rc;

	for (rep = 0; rep < c->reps && (rep == 0 || t[0] < SLOW_SECS); rep++) {
		vl_buf out = VL_BUF_INIT;
		char *argv[] = { (char *)c->vledger, "-C", (char *)home, "verify", "--quiet", NULL };
		rc = vlb_run_proc(&t[rep], &out, argv);
		if (rc == 0 && parse_verified(&commits, &records, out.ptr) < 0)
			rc = vl_error_set(VL_EINVALID, "verify said: %s", out.ptr ? out.ptr : "nothing");
		vl_buf_free(&out);
		if (rc < 0)
			return rc;
		fprintf(stderr, "verify %s: %.2f s\n", label, t[rep]);
	}
	snprintf(work, sizeof(work), "%zu records, %zu commits%s", records, commits, rep == 1 ? ", 1 run" : "");
	snprintf(what, sizeof(what), "`vledger verify`, %s", label);
	r = add_row(what, work, vlb_median(t, (int)rep), (double)records / vlb_median(t, (int)rep), "rec/s");
	snprintf(r->note, sizeof(r->note), "%.0f commits/s; %.0f signatures/s (records + commits)",
			(double)commits / r->secs, (double)(records + commits) / r->secs);
	return 0;
}

static int bench_run(vlb_config *c)
{
	char home[700], a_home[700], b_home[700], what[200], work[80];
	double t[16], secs, sign_ceiling, verify_ceiling;
	size_t rep, i;
	vlb_import_stats st;
	row *r;
	int rc;

	if ((rc = vlb_setup_network(c)) < 0 || (rc = bench_ceilings(c)) < 0)
		return rc;
	fprintf(stderr, "ceilings done\n");

	/* What a process costs before it does anything: start, node open,
	 * config load (roster, schemas). */
	for (rep = 0; rep < c->reps; rep++) {
		char *argv[] = { (char *)c->vledger, "-C", c->tmpl, "roster", "list", NULL };
		if ((rc = vlb_run_proc(&t[rep], NULL, argv)) < 0)
			return rc;
	}
	secs = vlb_median(t, (int)c->reps);
	add_row("process baseline: `vledger roster list` (start, open node, load config)", "1 process",
			secs, 1 / secs, "proc/s");

	/* (a) `vledger import` as a process: fsync on, 500 per commit. */
	for (rep = 0; rep < c->import_reps && (rep == 0 || t[0] < SLOW_SECS); rep++) {
		char *argv[] = { (char *)c->vledger, "-C", home, "import", "resident", "--file", c->file, NULL };
		snprintf(home, sizeof(home), "%s/import-a%zu", c->work, rep);
		if ((rc = vlb_copy_tree(c->tmpl, home)) < 0 || (rc = vlb_run_proc(&t[rep], NULL, argv)) < 0)
			return rc;
		fprintf(stderr, "import (a) run %zu: %.2f s\n", rep + 1, t[rep]);
	}
	snprintf(a_home, sizeof(a_home), "%s/import-a0", c->work);
	snprintf(work, sizeof(work), "%zu records, %zu commits%s", c->records, (c->records + 499) / 500,
			rep == 1 ? ", 1 run" : "");
	secs = vlb_median(t, (int)rep);
	add_row("import (a): `vledger import resident --file F` process, 500/commit, **fsync on**", work,
			secs, (double)c->records / secs, "rec/s");

	/* (a') the same import in this process with fsync off. */
	for (rep = 0; rep < c->reps; rep++) {
		snprintf(home, sizeof(home), "%s/import-a-nofsync%zu", c->work, rep);
		if ((rc = vlb_copy_tree(c->tmpl, home)) < 0 ||
				(rc = vlb_import_inproc(&st, c, home, c->records, 500, 0, 0)) < 0)
			return rc;
		t[rep] = st.secs;
	}
	snprintf(work, sizeof(work), "%zu records, %zu commits", st.records, st.commits);
	secs = vlb_median(t, (int)c->reps);
	add_row("import (a'): same, in process (`vl_ledger_commit` x500), fsync off", work, secs,
			(double)st.records / secs, "rec/s");

	/* (b) one signed commit per record, fsync on: what `vledger add` costs
	 * without process start, for as many records as fit the time budget. */
	snprintf(home, sizeof(home), "%s/import-b-fsync", c->work);
	if ((rc = vlb_copy_tree(c->tmpl, home)) < 0 ||
			(rc = vlb_import_inproc(&st, c, home, c->records, 1, 1, c->fsync_budget)) < 0)
		return rc;
	snprintf(work, sizeof(work), "%s%zu records, %zu commits", st.records < c->records ? "first " : "",
			st.records, st.commits);
	r = add_row("import (b): `vl_ledger_commit` x1 per record, in process, **fsync on**", work, st.secs,
			(double)st.records / st.secs, "rec/s");
	snprintf(r->note, sizeof(r->note), "%.2f ms/commit over the first tenth, %.2f over the last",
			st.first_ms, st.last_ms);
	fprintf(stderr, "import (b) fsync on: %.2f s for %zu records\n", st.secs, st.records);

	/* (b') all records, one commit each, fsync off: the history verified below. */
	snprintf(b_home, sizeof(b_home), "%s/import-b-nofsync", c->work);
	if ((rc = vlb_copy_tree(c->tmpl, b_home)) < 0 ||
			(rc = vlb_import_inproc(&st, c, b_home, c->records, 1, 0, 0)) < 0)
		return rc;
	snprintf(work, sizeof(work), "%zu records, %zu commits", st.records, st.commits);
	r = add_row("import (b'): `vl_ledger_commit` x1 per record, in process, fsync off", work, st.secs,
			(double)st.records / st.secs, "rec/s");
	snprintf(r->note, sizeof(r->note), "%.2f ms/commit over the first tenth, %.2f over the last",
			st.first_ms, st.last_ms);
	fprintf(stderr, "import (b') fsync off: %.2f s\n", st.secs);

	/* 3. verify both histories. */
	if ((rc = verify_proc(c, a_home, "history (a): 500 records/commit")) < 0 ||
			(rc = verify_proc(c, b_home, "history (b'): 1 record/commit")) < 0)
		return rc;

	/* The table and the ratios. */
	sign_ceiling = rows[0].rate;
	verify_ceiling = rows[1].rate;
	printf("| measurement | work | time (s, median) | rate | of ceiling |\n|---|---|---|---|---|\n");
	for (i = 0; i < nrows; i++) {
		double ceil = strstr(rows[i].what, "verify") || strstr(rows[i].what, "validate")
				? verify_ceiling : sign_ceiling;
		r = &rows[i];
		if (strstr(r->what, "clock") || strstr(r->what, "baseline"))
			snprintf(what, sizeof(what), "-");
		else
			snprintf(what, sizeof(what), "%.1f%%", 100.0 * r->rate / ceil);
		printf("| %s | %s | %.3f | %.0f %s | %s |\n", r->what, r->work, r->secs, r->rate, r->unit, what);
	}
	printf("\nRatios (rate / ceiling measured above: sign %.0f/s, verify %.0f/s):\n", sign_ceiling,
			verify_ceiling);
	for (i = 0; i < nrows; i++) {
		r = &rows[i];
		if (!strncmp(r->what, "import", 6))
			printf("  %-12.12s %8.1f rec/s / sign ceiling   = %.4f%s%s%s\n", r->what, r->rate,
					r->rate / sign_ceiling, r->note[0] ? "   (" : "", r->note, r->note[0] ? ")" : "");
		else if (strstr(r->what, "vledger verify"))
			printf("  %-12.12s %8.1f rec/s / verify ceiling = %.4f   (%s)\n", r->what + 18, r->rate,
					r->rate / verify_ceiling, r->note);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: vl_bench run --vledger PATH --csv DIVISIONS.csv [--work DIR] [--records N]\n"
			"                    [--reps N] [--import-reps N] [--fsync-budget SECS] [--village CODE]\n"
			"       vl_bench merge --vledger PATH --csv DIVISIONS.csv --git PATH --driver merge-driver.sh\n"
			"                    [--work DIR] [--records N] [--changed N] [--batch N] [--reps N]\n"
			"                    [--village CODE]\n"
			"       vl_bench gen --csv DIVISIONS.csv --out FILE [--records N] [--village CODE]\n"
			"       vl_bench county --csv DIVISIONS.csv --out DIR [--villages N] [--scale F] ...\n");
}

int main(int argc, char **argv)
{
	vlb_config c;
	const char *out = NULL, *work = NULL;
	int i, rc, gen, merge;

	memset(&c, 0, sizeof(c));
	c.village_code = "500243001001";
	c.records = 3000;
	c.reps = 3;
	c.import_reps = 3;
	c.fsync_budget = 45;
	c.changed = 1000;
	c.batch = 250;
	if (argc >= 2 && !strcmp(argv[1], "read-ceiling"))
		return vlb_agg_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "county"))
		return vlb_county_main(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "ceiling-dump") || !strcmp(argv[1], "ceiling") || !strcmp(argv[1], "day") ||
			!strcmp(argv[1], "pack-loose")))
		return vlb_ceiling_main(argc - 1, argv + 1);
	if (argc < 2 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "gen") != 0 &&
			strcmp(argv[1], "merge") != 0)) {
		usage();
		return 2;
	}
	gen = !strcmp(argv[1], "gen");
	merge = !strcmp(argv[1], "merge");
	/* Every option takes a value: --name VALUE. */
	for (i = 2; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;
		if (!v)
			bad = 1;
		else if (!strcmp(a, "--vledger"))
			c.vledger = v;
		else if (!strcmp(a, "--csv"))
			c.csv = v;
		else if (!strcmp(a, "--village"))
			c.village_code = v;
		else if (!strcmp(a, "--work"))
			work = v;
		else if (!strcmp(a, "--out"))
			out = v;
		else if (!strcmp(a, "--git"))
			c.git = v;
		else if (!strcmp(a, "--driver"))
			c.driver = v;
		else if (!strcmp(a, "--changed"))
			bad = parse_size(&c.changed, v, 100000) < 0;
		else if (!strcmp(a, "--batch"))
			bad = parse_size(&c.batch, v, 100000) < 0;
		else if (!strcmp(a, "--records"))
			bad = parse_size(&c.records, v, 100000) < 0;
		else if (!strcmp(a, "--reps"))
			bad = parse_size(&c.reps, v, 15) < 0;
		else if (!strcmp(a, "--import-reps"))
			bad = parse_size(&c.import_reps, v, 15) < 0;
		else if (!strcmp(a, "--fsync-budget")) {
			size_t secs = 0;
			bad = parse_size(&secs, v, 3600) < 0;
			c.fsync_budget = (double)secs;
		} else
			bad = 1;
		if (bad) {
			usage();
			return 2;
		}
	}
	if (!c.csv || (gen ? !out : !c.vledger) || (merge && (!c.git || !c.driver))) {
		usage();
		return 2;
	}
	if ((rc = vl_crypto_init()) < 0 || (rc = vl_repo_global_init()) < 0 ||
			(rc = vlb_village_load(&c.village, c.csv, c.village_code)) < 0)
		goto fail;
	if (gen) {
		vl_buf data = VL_BUF_INIT;
		if ((rc = vlb_gen_residents(&data, &c.village, c.records, 20220407)) == 0)
			rc = vl_buf_write_file(out, data.ptr, data.len, 0644);
		vl_buf_free(&data);
		if (rc < 0)
			goto fail;
		return 0;
	}
	snprintf(c.county_code, sizeof(c.county_code), "%.6s000000", c.village.code);
	if ((rc = vlb_division_find(c.county_name, sizeof(c.county_name), NULL, c.csv, c.county_code,
			"county")) < 0)
		goto fail;
	if (work)
		snprintf(c.work, sizeof(c.work), "%s", work);
	else if (snprintf(c.work, sizeof(c.work), "/tmp/vl-bench.XXXXXX") < 0 || !mkdtemp(c.work)) {
		rc = vl_error_set(VL_ERROR, "mkdtemp: %s", strerror(errno));
		goto fail;
	}
	unsetenv("VLEDGER_PASSPHRASE_FILE");
	unsetenv("VLEDGER_HOME");
	unsetenv("VLEDGER_FAKE_TIME_MS");
	fprintf(stderr, "vl_bench: work directory %s\n", c.work);
	if ((rc = merge ? vlb_bench_merge(&c) : bench_run(&c)) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "vl_bench: %s\n", vl_error_last());
	return 1;
}
