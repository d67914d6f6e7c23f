/*
 * bench_ceiling.c - the baselines and set-ups of the county benches
 * (bench/county.sh, bench/README.md):
 *
 *   vl_bench ceiling-dump --home HOME --out FILE
 *       every signed record version in HOME's repository (every blob that is
 *       a record with a sig line), as the bytes it signs, its public key and
 *       its ed25519 signature, into FILE (set-up, not timed);
 *   vl_bench ceiling --in FILE [--threads N]
 *       the libsodium verify ceiling over those real signed bytes: per
 *       record the SHA-512 of the signed bytes, the SSHSIG signed-data blob
 *       and crypto_sign_verify_detached, the records split over N threads
 *       (default 2); the least crypto any verify of them must do;
 *   vl_bench day --home HOME --scope CODE --count N --every K --offset O --field phone|notes
 *       a day of edits: N resident records of the branch (every K-th in path
 *       order from O) edited one commit each, as `vledger edit` commits them
 *       (set-up of the both-sides bench, fsync off, one sync at the end).
 */
#define _GNU_SOURCE /* sync, memmem */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "agent/node/ledger.h"
#include "agent/node/node.h"
#include "store/limits.h"

#define NS "vledger-record"

/* ---- ceiling-dump ---- */

typedef struct {
	FILE *out;
	git_odb *odb;
	size_t n, skipped;
	int rc;
} dump_ctx;

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The next SSH string of blob[*off..len) into (*s, *slen). -1 if short. */
static int get_string(const unsigned char **s, uint32_t *slen, const unsigned char *blob, size_t len, size_t *off)
{
	if (*off + 4 > len)
		return -1;
	*slen = get_u32(blob + *off);
	if (*slen > len - *off - 4)
		return -1;
	*s = blob + *off + 4;
	*off += 4 + *slen;
	return 0;
}

/* pk and signature of an SSHSIG blob (ed25519, the one form vledger writes). */
static int sshsig_parts(unsigned char pk[32], unsigned char sig[64], const unsigned char *b, size_t len)
{
	const unsigned char *s, *k;
	uint32_t sl, kl;
	size_t off = 10, inner = 0;

	if (len < 10 || memcmp(b, "SSHSIG", 6) != 0 || get_string(&s, &sl, b, len, &off) < 0)
		return -1;
	/* publickey: string "ssh-ed25519", string pk */
	if (get_string(&k, &kl, s, sl, &inner) < 0 || get_string(&k, &kl, s, sl, &inner) < 0 || kl != 32)
		return -1;
	memcpy(pk, k, 32);
	/* namespace, reserved, hash algorithm, signature */
	if (get_string(&s, &sl, b, len, &off) < 0 || get_string(&s, &sl, b, len, &off) < 0 ||
			get_string(&s, &sl, b, len, &off) < 0 || get_string(&s, &sl, b, len, &off) < 0)
		return -1;
	inner = 0;
	if (get_string(&k, &kl, s, sl, &inner) < 0 || get_string(&k, &kl, s, sl, &inner) < 0 || kl != 64)
		return -1;
	memcpy(sig, k, 64);
	return 0;
}

static int dump_one(const git_oid *id, void *payload)
{
	dump_ctx *c = payload;
	git_odb_object *o = NULL;
	const char *raw, *sigl, *end;
	unsigned char blob[512], pk[32], sig[64];
	size_t len, bl = 0;
	uint32_t mlen;

	if (git_odb_read(&o, c->odb, id) < 0) {
		c->rc = vl_error_set(VL_ERROR, "cannot read object %s", git_oid_tostr_s(id));
		return -1;
	}
	raw = git_odb_object_data(o);
	len = git_odb_object_size(o);
	if (git_odb_object_type(o) != GIT_OBJECT_BLOB || len < 8 || memcmp(raw, "schema: ", 8) != 0 ||
			!(sigl = memmem(raw, len, "\nsig: ", 6))) {
		git_odb_object_free(o);
		return 0;
	}
	sigl++; /* the signed bytes end with the newline before "sig: " */
	/* sig: "<base64>" */
	end = memchr(sigl, '\n', len - (size_t)(sigl - raw));
	if (!end || end - sigl < 8 || sigl[5] != '"' || end[-1] != '"' ||
			sodium_base642bin(blob, sizeof(blob), sigl + 6, (size_t)(end - sigl - 7), NULL, &bl, NULL,
			sodium_base64_VARIANT_ORIGINAL) != 0 || sshsig_parts(pk, sig, blob, bl) < 0) {
		c->skipped++;
		git_odb_object_free(o);
		return 0;
	}
	mlen = (uint32_t)(sigl - raw);
	if (fwrite(&mlen, 4, 1, c->out) != 1 || fwrite(pk, 32, 1, c->out) != 1 || fwrite(sig, 64, 1, c->out) != 1 ||
			fwrite(raw, mlen, 1, c->out) != 1) {
		c->rc = vl_error_set(VL_ERROR, "cannot write: %s", strerror(errno));
		git_odb_object_free(o);
		return -1;
	}
	c->n++;
	git_odb_object_free(o);
	return 0;
}

static int ceiling_dump(const char *home, const char *path)
{
	git_repository *repo = NULL;
	dump_ctx c;
	char rp[1024];
	int rc;

	memset(&c, 0, sizeof(c));
	snprintf(rp, sizeof(rp), "%s/repo.git", home);
	if ((rc = vl_repo_open(&repo, rp)) < 0)
		return rc;
	if ((rc = git_repository_odb(&c.odb, repo)) < 0) {
		rc = vl_error_git(rc, "cannot open the object database");
		goto out;
	}
	if (!(c.out = fopen(path, "wb"))) {
		rc = vl_error_set(VL_ERROR, "cannot create '%s': %s", path, strerror(errno));
		goto out;
	}
	rc = git_odb_foreach(c.odb, dump_one, &c);
	if (c.rc < 0)
		rc = c.rc;
	else if (rc < 0)
		rc = vl_error_git(rc, "cannot list the objects");
	if (fclose(c.out) != 0 && rc == 0)
		rc = vl_error_set(VL_ERROR, "cannot write '%s'", path);
	if (rc == 0)
		fprintf(stderr, "ceiling-dump: %zu signed record versions (%zu unreadable signatures)\n", c.n, c.skipped);
out:
	git_odb_free(c.odb);
	git_repository_free(repo);
	return rc;
}

/* ---- ceiling ---- */

typedef struct {
	const unsigned char *p, *end; /* this thread's entries */
	size_t n, bad;
} verify_job;

static void *verify_range(void *arg)
{
	verify_job *j = arg;
	unsigned char data[6 + 4 + sizeof(NS) - 1 + 4 + 4 + 6 + 4 + 64], *h;
	const unsigned char *p = j->p;

	/* "SSHSIG" string(ns) string("") string("sha512") string(H(msg)) */
	memcpy(data, "SSHSIG\0\0\0\x0e" NS "\0\0\0\0\0\0\0\x06sha512\0\0\0\x40", sizeof(data) - 64);
	h = data + sizeof(data) - 64;
	while (p < j->end) {
		uint32_t mlen;
		memcpy(&mlen, p, 4);
		crypto_hash_sha512(h, p + 100, mlen);
		if (crypto_sign_verify_detached(p + 36, data, sizeof(data), p + 4) != 0)
			j->bad++;
		j->n++;
		p += 100 + mlen;
	}
	return NULL;
}

static int ceiling(const char *path, int threads)
{
	verify_job jobs[16];
	pthread_t tid[16];
	const unsigned char *map = MAP_FAILED, *p, *end;
	struct stat st;
	size_t i, n = 0, bad = 0, total = 0;
	double t0;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY)) < 0)
		return vl_error_set(VL_ERROR, "cannot read '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot read '%s': %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (st.st_size > 0)
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return vl_error_set(VL_ERROR, "cannot map '%s' (empty?)", path);
	end = map + st.st_size;
	for (p = map; p + 100 <= end; total++) {
		uint32_t mlen;
		memcpy(&mlen, p, 4);
		p += 100 + mlen;
	}
	/* Split by count into `threads` contiguous ranges. */
	p = map;
	for (i = 0; i < (size_t)threads; i++) {
		size_t want = total / (size_t)threads + (i < total % (size_t)threads), k;
		jobs[i].p = p;
		for (k = 0; k < want; k++) {
			uint32_t mlen;
			memcpy(&mlen, p, 4);
			p += 100 + mlen;
		}
		jobs[i].end = p;
		jobs[i].n = jobs[i].bad = 0;
	}
	t0 = vlb_now();
	for (i = 0; i < (size_t)threads; i++)
		if (pthread_create(&tid[i], NULL, verify_range, &jobs[i]) != 0) {
			rc = vl_error_set(VL_ERROR, "cannot start a thread");
			threads = (int)i;
			break;
		}
	for (i = 0; i < (size_t)threads; i++) {
		pthread_join(tid[i], NULL);
		n += jobs[i].n;
		bad += jobs[i].bad;
	}
	if (rc == 0) {
		double s = vlb_now() - t0;
		printf("ceiling: %zu signatures verified in %.3f s on %d threads: %.0f/s (%zu bad)\n", n, s, threads,
				(double)n / s, bad);
		if (bad)
			rc = vl_error_set(VL_EBADSIG, "%zu signatures did not verify", bad);
	}
	munmap((void *)map, (size_t)st.st_size);
	return rc;
}

/* ---- day ---- */

typedef struct {
	vl_buf paths;   /* NUL-separated */
	git_oid *blobs;
	size_t n, cap;
} listing;

static int list_cb(const char *path, const git_oid *blob, const char *raw, size_t len, void *ctx)
{
	listing *l = ctx;

	(void)raw;
	(void)len;
	if (l->n == l->cap) {
		git_oid *nb = realloc(l->blobs, (l->cap = l->cap ? l->cap * 2 : 1024) * sizeof(*nb));
		if (!nb)
			return vl_error_set(VL_ENOMEM, "out of memory");
		l->blobs = nb;
	}
	git_oid_cpy(&l->blobs[l->n++], blob);
	return vl_buf_put(&l->paths, path, strlen(path) + 1);
}

static int day(const char *home, const char *scope, size_t count, size_t every, size_t offset, const char *field)
{
	vl_node *n = NULL;
	const vl_schema *s;
	listing l;
	vl_buf raw = VL_BUF_INIT, summary = VL_BUF_INIT;
	char ref[64], value[64];
	const char *path;
	git_oid head, commit;
	size_t i, done = 0;
	int rc;

	memset(&l, 0, sizeof(l));
	vlb_set_fsync(0);
	vl_scope_ref(ref, scope);
	if ((rc = vl_node_open(&n, home, 1, NULL)) < 0 || (rc = vl_node_load_config(n)) < 0 ||
			(rc = vl_repo_head(&head, n->repo, ref)) < 0 ||
			(rc = vl_ledger_each(n, &head, "resident", list_cb, &l)) < 0)
		goto out;
	if (!(s = vl_node_schema(n, "resident"))) {
		rc = vl_error_set(VL_ENOTFOUND, "the config has no resident schema");
		goto out;
	}
	for (i = offset, path = l.paths.ptr; path && i < l.n && done < count; i += every) {
		vl_found f;
		vl_record *r = NULL;
		vl_value *v;
		size_t k;
		/* the i-th path */
		for (k = 0, path = l.paths.ptr; k < i; k++)
			path += strlen(path) + 1;
		memset(&f, 0, sizeof(f));
		git_oid_cpy(&f.blob, &l.blobs[i]);
		vl_buf_clear(&raw);
		if ((rc = vl_repo_read_blob(&raw, n->repo, &l.blobs[i], VL_RECORD_MAX_BYTES, path)) < 0 ||
				(rc = vl_record_parse(&f.rec, raw.ptr, raw.len, path)) < 0 ||
				(rc = vl_ledger_next_version(&r, &f)) < 0) {
			vl_record_free(f.rec);
			goto out;
		}
		vl_record_free(f.rec);
		if (!strcmp(field, "phone"))
			snprintf(value, sizeof(value), "1371111%04zu", done % 10000);
		else
			snprintf(value, sizeof(value), "今日第 %zu 户走访：情况稳定", done + 1);
		v = vl_value_str(value);
		vl_buf_clear(&summary);
		if (!v || (rc = vl_value_map_set(r->data, field, v)) < 0) {
			vl_value_free(v);
			vl_record_free(r);
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		/* As `vledger edit`: fields in the schema's order, then the rules. */
		if ((rc = vl_schema_normalize(s, r->data)) < 0 || (rc = vl_schema_validate(s, r->data, 0, &summary)) < 0) {
			vl_error_set(rc, "the edit breaks the schema: %s", summary.ptr ? summary.ptr : "");
			vl_record_free(r);
			goto out;
		}
		vl_buf_clear(&summary);
		rc = vl_buf_printf(&summary, "edit %s %s", r->schema, r->id);
		if (rc == 0)
			rc = vl_ledger_commit(&commit, n, scope, &r, 1, summary.ptr, NULL);
		vl_record_free(r);
		if (rc < 0)
			goto out;
		done++;
	}
	sync();
	fprintf(stderr, "day: %zu records edited (%s), one commit each, on %s\n", done, field, ref);
	if (done < count)
		rc = vl_error_set(VL_ENOTFOUND, "only %zu records to edit on '%s'", done, ref);
out:
	vl_buf_free(&l.paths);
	free(l.blobs);
	vl_buf_free(&raw);
	vl_buf_free(&summary);
	vl_node_close(n);
	return rc;
}

int vlb_ceiling_main(int argc, char **argv)
{
	const char *home = NULL, *in = NULL, *out = NULL, *scope = NULL, *field = "phone";
	unsigned long threads = 2, count = 1000, every = 3, offset = 0;
	int a, rc;

	for (a = 1; a + 1 < argc; a += 2) {
		const char *o = argv[a], *v = argv[a + 1];
		if (!strcmp(o, "--home"))
			home = v;
		else if (!strcmp(o, "--in"))
			in = v;
		else if (!strcmp(o, "--out"))
			out = v;
		else if (!strcmp(o, "--scope"))
			scope = v;
		else if (!strcmp(o, "--field"))
			field = v;
		else if (!strcmp(o, "--threads"))
			threads = strtoul(v, NULL, 10);
		else if (!strcmp(o, "--count"))
			count = strtoul(v, NULL, 10);
		else if (!strcmp(o, "--every"))
			every = strtoul(v, NULL, 10);
		else if (!strcmp(o, "--offset"))
			offset = strtoul(v, NULL, 10);
		else
			break;
	}
	if (a != argc || threads < 1 || threads > 16 || every < 1 || (strcmp(field, "phone") && strcmp(field, "notes"))) {
		fprintf(stderr, "usage: vl_bench ceiling-dump --home HOME --out FILE\n"
				"       vl_bench ceiling --in FILE [--threads N]\n"
				"       vl_bench day --home HOME --scope CODE [--count N] [--every K] [--offset O] "
				"[--field phone|notes]\n");
		return 2;
	}
	if ((rc = vl_crypto_init()) < 0 || (rc = vl_repo_global_init()) < 0)
		goto fail;
	if (!strcmp(argv[0], "ceiling-dump") && home && out)
		rc = ceiling_dump(home, out);
	else if (!strcmp(argv[0], "ceiling") && in)
		rc = ceiling(in, (int)threads);
	else if (!strcmp(argv[0], "day") && home && scope)
		rc = day(home, scope, count, every, offset, field);
	else {
		fprintf(stderr, "vl_bench %s: missing options\n", argv[0]);
		return 2;
	}
	if (rc < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "vl_bench %s: %s\n", argv[0], vl_error_last());
	return 1;
}
