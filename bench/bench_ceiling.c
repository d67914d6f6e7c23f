/*
 * bench_ceiling.c - the baselines and set-ups of the county benches
 * (bench/county.sh, bench/README.md):
 *
 *   vl_bench ceiling-dump --home HOME --out FILE
 *       every signature in HOME's repository that a full verify checks, as
 *       the bytes it signs, its public key, its ed25519 signature and its
 *       namespace, into FILE (set-up, not timed; the format is below):
 *       every signed record version (every blob that is a record with a sig
 *       line) and every signed commit (every commit object with a gpgsig
 *       header); the counts of both on stderr;
 *   vl_bench ceiling --in FILE [--threads N] [--records-only]
 *       the libsodium verify ceiling over those real signed bytes: per
 *       signature the SHA-512 of the signed bytes, the SSHSIG signed-data
 *       blob of its namespace and crypto_sign_verify_detached, split over N
 *       threads (default 2): the least crypto any full verify must do.
 *       --records-only: the record signatures alone (the ceiling of the
 *       earlier bench stops, kept for comparison). Fails (exit 1) unless every
 *       signature verifies: a wrong extraction of signed bytes cannot pass;
 *   vl_bench pack-loose --home HOME
 *       every loose object of HOME's repository into one pack, as vledger's
 *       own maintenance packs them when they pile up (vl_pack_auto; set-up of
 *       the day bench's packed-source row);
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
#include "store/pack.h"
#include "store/sshsig.h"


/* ---- the dump file ----
 *
 * A bench-only temporary file, read by the same binary that wrote it
 * (native byte order), one entry per signature:
 *
 *   u32 mlen | char ns[16] | pk[32] | sig[64] | msg[mlen]
 *
 * ns is the namespace the verifier demands, NUL-padded: "vledger-record"
 * for a record version (msg: the blob up to and with the newline before its
 * "sig: " line), "git" for a commit (msg: the commit object without its
 * gpgsig header, split by vl_commit_split: exactly what vl_commit_verify
 * hashes). pk and sig come from the entry's SSHSIG blob.
 */
#define E_NS 4
#define E_PK 20
#define E_SIG 52
#define E_HDR 116
#define E_NSMAX 16

typedef struct {
	FILE *out;
	git_odb *odb;
	vl_buf payload, armor, blob; /* reused for commits */
	size_t records, skipped, commits, unsigned_commits, bad_commits;
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

/* Append one entry (the format above) to the dump. */
static int dump_entry(dump_ctx *c, const char *ns, const unsigned char pk[32], const unsigned char sig[64],
		const void *msg, size_t len)
{
	char nsf[E_NSMAX];
	uint32_t mlen = (uint32_t)len;

	memset(nsf, 0, sizeof(nsf));
	memcpy(nsf, ns, strlen(ns));
	if (len > UINT32_MAX || fwrite(&mlen, 4, 1, c->out) != 1 || fwrite(nsf, sizeof(nsf), 1, c->out) != 1 ||
			fwrite(pk, 32, 1, c->out) != 1 || fwrite(sig, 64, 1, c->out) != 1 ||
			(len && fwrite(msg, len, 1, c->out) != 1))
		return c->rc = vl_error_set(VL_ERROR, "cannot write the dump: %s", strerror(errno));
	return 0;
}

/* A signed record version: a blob "schema: ..." with a sig line. */
static int dump_record(dump_ctx *c, const char *raw, size_t len)
{
	const char *sigl, *end;
	unsigned char blob[512], pk[32], sig[64];
	size_t bl = 0;

	if (len < 8 || memcmp(raw, "schema: ", 8) != 0 || !(sigl = memmem(raw, len, "\nsig: ", 6)))
		return 0;
	sigl++; /* the signed bytes end with the newline before "sig: " */
	/* sig: "<base64>" */
	end = memchr(sigl, '\n', len - (size_t)(sigl - raw));
	if (!end || end - sigl < 8 || sigl[5] != '"' || end[-1] != '"' ||
			sodium_base642bin(blob, sizeof(blob), sigl + 6, (size_t)(end - sigl - 7), NULL, &bl, NULL,
			sodium_base64_VARIANT_ORIGINAL) != 0 || sshsig_parts(pk, sig, blob, bl) < 0) {
		c->skipped++;
		return 0;
	}
	if (dump_entry(c, VL_NS_RECORD, pk, sig, raw, (size_t)(sigl - raw)) < 0)
		return -1;
	c->records++;
	return 0;
}

/* A commit: signed when it has a gpgsig header (vl_commit_split). */
static int dump_commit(dump_ctx *c, const char *raw, size_t len)
{
	unsigned char pk[32], sig[64];
	int rc;

	vl_buf_clear(&c->payload);
	vl_buf_clear(&c->armor);
	vl_buf_clear(&c->blob);
	rc = vl_commit_split(&c->payload, &c->armor, raw, len);
	if (rc == VL_ENOTFOUND) {
		c->unsigned_commits++;
		return 0;
	}
	if (rc < 0 || vl_sshsig_unarmor(&c->blob, c->armor.ptr, c->armor.len) < 0 ||
			sshsig_parts(pk, sig, (const unsigned char *)c->blob.ptr, c->blob.len) < 0) {
		c->bad_commits++;
		return 0;
	}
	if (dump_entry(c, VL_NS_GIT, pk, sig, c->payload.ptr, c->payload.len) < 0)
		return -1;
	c->commits++;
	return 0;
}

static int dump_one(const git_oid *id, void *payload)
{
	dump_ctx *c = payload;
	git_odb_object *o = NULL;
	int rc = 0;

	if (git_odb_read(&o, c->odb, id) < 0) {
		c->rc = vl_error_set(VL_ERROR, "cannot read object %s", git_oid_tostr_s(id));
		return -1;
	}
	if (git_odb_object_type(o) == GIT_OBJECT_BLOB)
		rc = dump_record(c, git_odb_object_data(o), git_odb_object_size(o));
	else if (git_odb_object_type(o) == GIT_OBJECT_COMMIT)
		rc = dump_commit(c, git_odb_object_data(o), git_odb_object_size(o));
	git_odb_object_free(o);
	return rc;
}

static int ceiling_dump(const char *home, const char *path)
{
	git_repository *repo = NULL;
	dump_ctx c;
	char rp[1024];
	int rc;

	memset(&c, 0, sizeof(c)); /* the vl_bufs: VL_BUF_INIT is all zero */
	snprintf(rp, sizeof(rp), "%s/repo.git", home);
	if ((rc = vl_repo_open(&repo, rp)) < 0)
		goto out;
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
		fprintf(stderr, "ceiling-dump: %zu record signatures + %zu commit signatures "
				"(%zu unreadable record signatures, %zu unreadable commit signatures, %zu unsigned commits)\n",
				c.records, c.commits, c.skipped, c.bad_commits, c.unsigned_commits);
out:
	vl_buf_free(&c.payload);
	vl_buf_free(&c.armor);
	vl_buf_free(&c.blob);
	git_odb_free(c.odb);
	git_repository_free(repo);
	return rc;
}

/* ---- ceiling ---- */

typedef struct {
	const unsigned char *p, *end; /* this thread's entries */
	int records_only;
	size_t records, commits, bad_records, bad_commits;
} verify_job;

static int is_record(const unsigned char *e)
{
	return memcmp(e + E_NS, VL_NS_RECORD, sizeof(VL_NS_RECORD)) == 0;
}

static void *verify_range(void *arg)
{
	verify_job *j = arg;
	/* "SSHSIG" string(ns) string("") string("sha512") string(H(msg)) */
	unsigned char data[6 + 4 + E_NSMAX + 4 + 4 + 6 + 4 + 64];
	const unsigned char *p = j->p;

	memcpy(data, "SSHSIG", 6);
	while (p < j->end) {
		uint32_t mlen;
		size_t nslen = strnlen((const char *)p + E_NS, E_NSMAX), dl = 6;
		int rec = is_record(p);

		memcpy(&mlen, p, 4);
		if (rec || !j->records_only) {
			/* "SSHSIG" is in place; the rest depends on the entry */
			data[dl++] = 0;
			data[dl++] = 0;
			data[dl++] = 0;
			data[dl++] = (unsigned char)nslen;
			memcpy(data + dl, p + E_NS, nslen);
			dl += nslen;
			memcpy(data + dl, "\0\0\0\0\0\0\0\x06sha512\0\0\0\x40", 18);
			dl += 18;
			crypto_hash_sha512(data + dl, p + E_HDR, mlen);
			dl += 64;
			if (crypto_sign_verify_detached(p + E_SIG, data, dl, p + E_PK) != 0)
				*(rec ? &j->bad_records : &j->bad_commits) += 1;
			*(rec ? &j->records : &j->commits) += 1;
		}
		p += E_HDR + mlen;
	}
	return NULL;
}

static int ceiling(const char *path, int threads, int records_only)
{
	verify_job jobs[16];
	pthread_t tid[16];
	const unsigned char *map = MAP_FAILED, *p, *end;
	struct stat st;
	size_t i, records = 0, commits = 0, bad_records = 0, bad_commits = 0, total = 0;
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
	/* Check the framing and namespaces, count the entries to verify. */
	for (p = map; p < end;) {
		uint32_t mlen;
		if ((size_t)(end - p) < E_HDR)
			break;
		memcpy(&mlen, p, 4);
		if (mlen > (size_t)(end - p) - E_HDR || p[E_NS + E_NSMAX - 1] != 0 ||
				(!is_record(p) && memcmp(p + E_NS, VL_NS_GIT, sizeof(VL_NS_GIT)) != 0))
			break;
		total += is_record(p) || !records_only;
		p += E_HDR + mlen;
	}
	if (p != end) {
		rc = vl_error_set(VL_EINVALID, "'%s' is not a dump of this vl_bench at byte %zu: "
				"write it again with vl_bench ceiling-dump", path, (size_t)(p - map));
		goto out;
	}
	/* Split by count of entries to verify into `threads` contiguous ranges. */
	p = map;
	for (i = 0; i < (size_t)threads; i++) {
		size_t want = total / (size_t)threads + (i < total % (size_t)threads), k = 0;
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].p = p;
		jobs[i].records_only = records_only;
		while (p < end && (k < want || i + 1 == (size_t)threads)) {
			uint32_t mlen;
			memcpy(&mlen, p, 4);
			k += is_record(p) || !records_only;
			p += E_HDR + mlen;
		}
		jobs[i].end = p;
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
		records += jobs[i].records;
		commits += jobs[i].commits;
		bad_records += jobs[i].bad_records;
		bad_commits += jobs[i].bad_commits;
	}
	if (rc == 0) {
		double s = vlb_now() - t0;
		printf("ceiling: %zu record + %zu commit signatures verified in %.3f s on %d threads: %.0f/s "
				"(%zu bad)%s\n", records, commits, s, threads, (double)(records + commits) / s,
				bad_records + bad_commits, records_only ? " (--records-only)" : "");
		if (records + commits != total)
			rc = vl_error_set(VL_ERROR, "verified %zu of %zu signatures", records + commits, total);
		else if (bad_records + bad_commits)
			rc = vl_error_set(VL_EBADSIG, "%zu record and %zu commit signatures did not verify: "
					"the dump's signed bytes are not what was signed", bad_records, bad_commits);
	}
out:
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

/* Every loose object of home's repository into one pack, as vledger's
 * maintenance packs them (vl_pack_loose_now). */
static int pack_loose(const char *home)
{
	char objects[1024];
	size_t n = 0;
	int rc;

	snprintf(objects, sizeof(objects), "%s/repo.git/objects", home);
	if ((rc = vl_pack_loose_now(&n, objects, 1)) < 0)
		return rc;
	fprintf(stderr, "pack-loose: %zu loose objects packed\n", n);
	return 0;
}

int vlb_ceiling_main(int argc, char **argv)
{
	const char *home = NULL, *in = NULL, *out = NULL, *scope = NULL, *field = "phone";
	unsigned long threads = 2, count = 1000, every = 3, offset = 0;
	int a, rc, records_only = 0;

	for (a = 1; a < argc; a += 2) {
		const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
		if (!strcmp(o, "--records-only")) {
			records_only = 1;
			a--; /* a flag, no value */
		} else if (!v)
			break;
		else if (!strcmp(o, "--home"))
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
	if (a < argc || threads < 1 || threads > 16 || every < 1 || (strcmp(field, "phone") && strcmp(field, "notes"))) {
		fprintf(stderr, "usage: vl_bench ceiling-dump --home HOME --out FILE\n"
				"       vl_bench ceiling --in FILE [--threads N] [--records-only]\n"
				"       vl_bench day --home HOME --scope CODE [--count N] [--every K] [--offset O] "
				"[--field phone|notes]\n"
				"       vl_bench pack-loose --home HOME\n");
		return 2;
	}
	if ((rc = vl_crypto_init()) < 0 || (rc = vl_repo_global_init()) < 0)
		goto fail;
	if (!strcmp(argv[0], "ceiling-dump") && home && out)
		rc = ceiling_dump(home, out);
	else if (!strcmp(argv[0], "ceiling") && in)
		rc = ceiling(in, (int)threads, records_only);
	else if (!strcmp(argv[0], "day") && home && scope)
		rc = day(home, scope, count, every, offset, field);
	else if (!strcmp(argv[0], "pack-loose") && home)
		rc = pack_loose(home);
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
