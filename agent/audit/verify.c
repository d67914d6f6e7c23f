/* verify.c - whole-repository verification (see verify.h). */
#include "agent/audit/verify.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/node/idindex.h"
#include "agent/node/ledger.h"
#include "store/limits.h"
#include "store/oidset.h"
#include "store/packread.h"
#include "store/repo.h"
#include "agent/node/roster.h"
#include "agent/sync/treemerge.h"
#include "schemas/types.h"
#include "store/yaml.h"

/* One key's chain on one branch: seq -> commit, to catch forks. */
typedef struct {
	char fp[VL_FP_LEN];
	uint64_t seq;
	git_oid commit;
} chain_link;

/*
 * Received data: one key's chain in the history we hold (`known`), found
 * once per verify run instead of once per commit (a revwalk over every
 * commit we hold each time made a batch quadratic). at[0] is the key's
 * newest commit there (vl_repo_key_chain, Vledger-Seq `top`); at[k] the
 * commit k Vledger-Prev steps back, followed lazily as older seqs are asked.
 */
typedef struct {
	char fp[VL_FP_LEN];
	uint64_t top;           /* 0: the key has not signed in known's history */
	git_oid *at;
	size_t nat, capat;
	int broken;             /* the step back from at[nat - 1] did not read */
} known_chain;

/*
 * The order-free part of one record's checks (check_record): what follows
 * from the record's bytes alone, computed by any thread (prep_record) and
 * consumed in order by check_record, which makes every finding. Serial
 * verify runs the same part inline, so the two cannot drift. The buffers
 * are reused from record to record.
 */
typedef struct {
	/* in, set by the walk (setup_prep) */
	git_oid id, oldid;
	int has_old;
	int skip;               /* name, bucket or mode wrong: nothing is read */
	const vl_schema *s;     /* the ledger's schema (its name is the ledger) */
	char bucket[2];
	char name[VL_ULID_LEN + 6];
	/* out: return codes of each step (0 when not reached) and what
	 * vl_error_last said when one failed */
	vl_buf raw;             /* the record's bytes */
	int read_rc, parse_rc, clock_rc, verify_rc, old_rc, oclock_rc, schema_rc;
	vl_record *r, *oldrec;
	vl_hlc rclock, oclock;
	vl_buf why_read;        /* the read's or the parse's error */
	vl_buf why_verify;
	vl_buf why_schema;
	vl_buf diag;            /* vl_schema_validate's; freed, not cleared, between records */
	int oom;                /* keeping a message ran out of memory */
} rec_prep;

/* The order-free part of a signed commit's checks (verify_commit): its
 * raw bytes, signature and canonical form, by any thread (prep_commit). */
typedef struct {
	git_oid id;
	int skip;               /* a merge: nothing to prepare */
	int config;             /* a config commit with one parent: check the change */
	vl_buf raw;
	int read_rc, sig_rc, canon_rc;
	unsigned char pk[32];   /* the signing key, when sig_rc is 0 */
	int cfg_done, cfg_rc;   /* vl_config_check_commit's verdict on the change,
	                         * once done (it reads only the commit and its
	                         * parent, so any thread may judge it) */
	vl_buf why_read, why_sig, why_canon, why_cfg;
	int oom;
} commit_prep;

/* Parallel mode takes the commits of a branch a window at a time: up to
 * PREP_WINDOW commits, fewer once they change PREP_CHUNK records, so that a
 * run of small commits (a day of edits, one record each) is spread over
 * the threads too. A window's records are prepared in one batch up to
 * PREP_BATCH_MAX (the rest PREP_CHUNK at a time as the walk reaches them),
 * which bounds the parsed records held for one huge commit. */
#define PREP_CHUNK 256
#define PREP_WINDOW 64
#define PREP_BATCH_MAX 4096

/* One window: its commits, their prepared parts, their records'. */
typedef struct {
	git_commit *win[PREP_WINDOW];
	size_t start[PREP_WINDOW], end[PREP_WINDOW]; /* commit i's records: jobs[start[i]..end[i]) */
	int listed[PREP_WINDOW];                     /* 0: its trees did not read, prepare inline */
	size_t nwin;
	commit_prep cjobs[PREP_WINDOW];
	rec_prep *jobs;
	size_t njobs, capjobs;
	size_t prepped;     /* jobs the walk may reach before this one are prepared */
} prep_window;

/* Worker threads preparing records (prep_record) while the main thread
 * does too; each worker reads through its own repository over the same
 * objects (libgit2 objects are not shared across threads). */
typedef struct {
	pthread_t *th;
	size_t nth;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	struct prep_worker_s *workers;
	size_t nworkers;
	const vl_packset *packs; /* the view's, or NULL */
	unsigned gen;           /* bumped for each batch */
	int quit;
	/* The batch: commit jobs, then record jobs; items next.. not yet taken. */
	commit_prep *cjobs;
	size_t ncjobs;
	rec_prep *jobs;
	size_t njobs, next, finished;
} prep_pool;

typedef struct {
	vl_node *n;
	git_repository *repo;   /* the view read: the node's, or a quarantine */
	const vl_view *view;
	vl_verify_result *res;
	const char *branch;     /* short name for messages */
	const char *scope;      /* NULL for config */
	const git_oid *commit;
	const vl_roster_entry *signer;
	vl_buf trailers;        /* the commit's Vledger-Record trailers, one per line */
	const char **tlines;    /* the lines of trailers, sorted (has_trailer) */
	size_t ntlines, captlines;
	size_t trailers_seen;
	chain_link *links;
	size_t nlinks, caplinks;
	const git_oid *known;   /* received data: the history we already hold */
	known_chain *kc;        /* received data: the signers' chains in known */
	size_t nkc, capkc;
	int64_t max_time;       /* received data: latest acceptable time (s), 0 = none */
	int no_chain;           /* evidence: a lone commit, its key chain not checked */
	const git_oid *head;    /* the head being verified */
	git_repository *home;   /* received data: the node's own repository, whose
	                         * refs say what it holds (the view is then a
	                         * quarantine); NULL otherwise */
	uint64_t prev_ms;       /* the signer's previous commit on this branch:
	                         * its time in ms; 0 = none */
	git_tree *ptree;        /* the tree of the commit's parent, or NULL */
	const char *msg;        /* the commit's message */
	unsigned threads;       /* 1: records prepared inline (serial) */
	vl_packread_scratch *scratch; /* this thread's, when view->packs */
	int collect;            /* walk_changes only lists the records (setup_prep) */
	rec_prep one;           /* serial: the record being checked */
	commit_prep onec;       /* serial: the commit being checked */
	prep_window *wins;      /* parallel: two windows, one verified while the
	                         * threads prepare the other */
	prep_window *fill;      /* the window being listed (add_job) */
	prep_window *cur;       /* the window being verified (next_prep) */
	prep_window *inflight;  /* the window the threads are preparing, or NULL */
	size_t jobi, jobend;    /* the commit being checked: its records cur->jobs[jobi..jobend) */
	int inline_prep;        /* its records could not be listed ahead: prepare them inline */
	prep_pool *pool;        /* parallel: started at the first batch */
	vl_oidset modes_ok;     /* trees whose raw bytes passed vl_tree_check_modes
	                         * on this branch: a tree is read raw once, checked,
	                         * and then parsed from the raw object libgit2 has
	                         * just cached (tree_read); one that failed is never
	                         * here (check_tree_bytes reads it again, reports) */
	const vl_roster_entry *last_key; /* roster_find's last answer */
	pthread_mutex_t *merge_mu; /* branches on threads (branch_pool): one
	                         * merge replay at a time; NULL otherwise */
} vctx;

static int fail(vctx *c, const char *fmt, ...) VL_PRINTF(2, 3);

/* vl_node_roster_find, asking the roster only when the key differs from
 * the last one found: a branch's commits and records are mostly signed by
 * one key, and a county's roster has hundreds of entries. */
static const vl_roster_entry *roster_find(vctx *c, const char *fp)
{
	if (!c->last_key || strcmp(c->last_key->fp, fp) != 0)
		c->last_key = vl_node_roster_find(c->n, fp);
	return c->last_key;
}

/* Was key e revoked at or before `when` (an HLC text, or NULL = the commit
 * time in seconds given by `secs`)? A revocation time that does not parse
 * counts as revoked from the start. */
/* The time of a write: a record's HLC text, or (when NULL) commit seconds. */
static int write_time_ms(const char *clock, long long secs, uint64_t *ms)
{
	vl_hlc t;

	if (!clock) {
		*ms = (uint64_t)secs * 1000;
		return 0;
	}
	if (vl_hlc_parse(&t, clock) < 0)
		return -1;
	*ms = t.ms;
	return 0;
}

/* Was key e revoked at or before the write? A revocation time that does
 * not parse counts as revoked from the start. */
static int revoked_at_or_before(const vl_roster_entry *e, const char *when, long long secs)
{
	uint64_t rev, t;

	if (!e->revoked_at)
		return 0;
	if (vl_roster_time_ms(e->revoked_at, &rev) < 0 || write_time_ms(when, secs, &t) < 0)
		return 1;
	return t >= rev;
}

/*
 * Did revoked key e sign beyond what its revocation allows? On a branch the
 * revocation pinned (roster.h) a write is valid exactly when the commit
 * holding it is the pinned head or one of its ancestors, whatever its date
 * (*pin gets the pinned id); elsewhere, or when this node does not hold the
 * pinned commit, when it is dated before revoked_at. 1 refused, 0 valid.
 */
static int revoked_refuses(vctx *c, const vl_roster_entry *e, const char *clock, long long secs,
		const char **pin)
{
	const char *hex = vl_roster_pinned_head(e, c->branch);
	git_commit *pc = NULL;
	git_oid pid;

	*pin = NULL;
	if (!e->revoked_at)
		return 0;
	if (hex && git_oid_fromstr(&pid, hex) == 0 && git_commit_lookup(&pc, c->repo, &pid) == 0) {
		git_commit_free(pc);
		*pin = hex;
		return !(git_oid_equal(&pid, c->commit) || git_graph_descendant_of(c->repo, &pid, c->commit) == 1);
	}
	return revoked_at_or_before(e, clock, secs);
}

/* "YYYY-MM-DDTHH:MM:SSZ" of a commit time. */
static void time_text(char out[21], int64_t secs)
{
	vl_roster_time_text(out, secs > 0 ? (uint64_t)secs * 1000 : 0);
}

/*
 * Record ids are unique across ledgers and scope branches: a record new on
 * this branch in received data must not exist at another path, neither on
 * the branches this node holds nor in another ledger of the received head.
 */
static int check_unique(vctx *c, const char *ledger, const char *id, const char *line)
{
	vl_place at[4];
	vl_buf path = VL_BUF_INIT;
	git_oid blob;
	size_t count = 0, i;
	int rc;

	if (c->res->nalso_new) {
		vl_new_id key;
		const vl_new_id *hit;
		memset(&key, 0, sizeof(key));
		memcpy(key.id, id, VL_ULID_LEN);
		hit = bsearch(&key, c->res->also_new, c->res->nalso_new, sizeof(key), vl_new_id_cmp);
		if (hit)
			return fail(c, "'%s' reuses record id %s, which scope/%s adds in ledger %s in this same "
					"receive: record ids are unique across ledgers and scopes", line, id, hit->scope,
					hit->ledger);
	}
	if (c->res->nnew_ids % 256 == 0) {
		vl_new_id *nn = realloc(c->res->new_ids, (c->res->nnew_ids + 256) * sizeof(*nn));
		if (!nn)
			return vl_error_set(VL_ENOMEM, "out of memory");
		c->res->new_ids = nn;
	}
	memset(&c->res->new_ids[c->res->nnew_ids], 0, sizeof(*c->res->new_ids));
	memcpy(c->res->new_ids[c->res->nnew_ids].id, id, VL_ULID_LEN);
	snprintf(c->res->new_ids[c->res->nnew_ids].scope, 13, "%s", c->scope);
	snprintf(c->res->new_ids[c->res->nnew_ids].ledger, 33, "%s", ledger);
	c->res->nnew_ids++;
	if ((rc = vl_ledger_places(at, 4, &count, c->n, c->home, id)) < 0)
		return rc;
	for (i = 0; i < count && i < 4; i++) {
		if (!strcmp(at[i].scope, c->scope) && !strcmp(at[i].ledger, ledger))
			continue; /* our copy of this same record */
		return fail(c, "'%s' reuses record id %s, which this node holds in ledger %s on scope/%s: "
				"record ids are unique across ledgers and scopes", line, id, at[i].ledger, at[i].scope);
	}
	for (i = 0; i < c->n->nschemas; i++) {
		if (!strcmp(c->n->schemas[i]->name, ledger))
			continue;
		vl_buf_clear(&path);
		if ((rc = vl_record_path(&path, c->n->schemas[i]->name, id)) < 0)
			break;
		rc = vl_repo_read(NULL, &blob, c->repo, NULL, c->head, path.ptr, VL_RECORD_MAX_BYTES);
		if (rc == VL_ENOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc < 0 && rc != VL_EINVALID && rc != VL_ETOOBIG)
			break;
		rc = fail(c, "'%s' reuses record id %s, which the same branch holds in ledger %s: record "
				"ids are unique across ledgers and scopes", line, id, c->n->schemas[i]->name);
		break;
	}
	vl_buf_free(&path);
	return rc;
}

/* Was the write dated before the key joined the roster (beyond the skew
 * vl_roster_predates allows)? */
static int before_valid_from(const vl_roster_entry *e, const char *when, long long secs)
{
	uint64_t t;

	return write_time_ms(when, secs, &t) == 0 && vl_roster_predates(e, t);
}

static int fail(vctx *c, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->res->failures++;
	return vl_buf_printf(&c->res->report, "%s %.12s: %s\n", c->branch,
			c->commit ? git_oid_tostr_s(c->commit) : "-", msg);
}

/*
 * `join-records` (cmd_merge.c) writes the kept record with two prevs: the
 * version it replaces and the current version of the record joined into
 * it, named by the commit's "Vledger-Join: <kept> <joined>" trailer. Is the
 * prev of r other than oldhex that joined record's version in the parent?
 * 1 yes, 0 no, < 0 an error of ours (out of memory).
 */
static int joined_version(vctx *c, const char *ledger, const char *id, const vl_record *r, const char *oldhex)
{
	vl_buf want = VL_BUF_INIT, path = VL_BUF_INIT;
	git_tree_entry *e = NULL;
	const char *p, *other = strcmp(r->prev[0], oldhex) ? r->prev[0] : r->prev[1];
	int ok = 0, rc;

	if (r->nprev != 2 || !c->ptree)
		goto out;
	/* Our own failures (out of memory) are errors, not a "no". */
	if ((rc = vl_buf_printf(&want, "\nVledger-Join: %s ", id)) < 0) {
		ok = rc;
		goto out;
	}
	p = strstr(c->msg, want.ptr);
	if (!p || strlen(p + want.len) < VL_ULID_LEN || (p[want.len + VL_ULID_LEN] != '\n' &&
			p[want.len + VL_ULID_LEN] != '\0'))
		goto out;
	if ((rc = vl_buf_put(&path, p + want.len, VL_ULID_LEN)) < 0) {
		ok = rc;
		goto out;
	}
	vl_buf_clear(&want);
	if ((rc = vl_record_path(&want, ledger, path.ptr)) == VL_ENOMEM) {
		ok = rc;
		goto out;
	}
	if (rc < 0 || git_tree_entry_bypath(&e, c->ptree, want.ptr) < 0)
		goto out;
	ok = !strcmp(git_oid_tostr_s(git_tree_entry_id(e)), other);
out:
	git_tree_entry_free(e);
	vl_buf_free(&want);
	vl_buf_free(&path);
	return ok;
}

/* Keep in why what vl_error_last says about a failed step, for the thread
 * that judges it (errors are per thread): record and commit jobs, branch
 * jobs. Returns 0, or VL_ENOMEM when why cannot hold the message (it is
 * left empty). */
static int keep_why(vl_buf *why)
{
	vl_buf_clear(why);
	return vl_buf_puts(why, vl_error_last()) < 0 ? VL_ENOMEM : 0;
}

/* Raise in this thread the error a step of prep_record kept. */
static int raise_kept(int rc, const vl_buf *why)
{
	return vl_error_set(rc, "%s", why->len ? why->ptr : "out of memory");
}

/* Is a record file named and placed as check_record wants it, so that it
 * is read at all? The same conditions, in the same order, as there. */
static int record_entry_ok(const char *name, const char *bucket, uint32_t mode)
{
	char id[VL_ULID_LEN + 1];

	if (strlen(name) != VL_ULID_LEN + 5 || strcmp(name + VL_ULID_LEN, ".yaml") != 0)
		return 0;
	memcpy(id, name, VL_ULID_LEN);
	id[VL_ULID_LEN] = '\0';
	return vl_ulid_valid(id) && bucket[0] == id[VL_ULID_LEN - 1] && !bucket[1] && mode == GIT_FILEMODE_BLOB;
}

/* Set p up for the record file e (old: the entry it replaces, or NULL) in
 * ledger/bucket, dropping what the previous record left. */
static void setup_prep(rec_prep *p, const vl_schema *s, const char *bucket, const git_tree_entry *e,
		const git_tree_entry *old)
{
	const char *name = git_tree_entry_name(e);

	vl_record_free(p->r);
	vl_record_free(p->oldrec);
	p->r = p->oldrec = NULL;
	vl_buf_clear(&p->raw);
	vl_buf_free(&p->diag);
	p->read_rc = p->parse_rc = p->clock_rc = p->verify_rc = p->old_rc = p->oclock_rc = p->schema_rc = 0;
	p->oom = 0;
	p->s = s;
	git_oid_cpy(&p->id, git_tree_entry_id(e));
	p->has_old = old != NULL;
	if (old)
		git_oid_cpy(&p->oldid, git_tree_entry_id(old));
	/* walk_changes enters only ledgers that have a schema: s is never NULL. */
	p->skip = !s || !record_entry_ok(name, bucket, (uint32_t)git_tree_entry_filemode_raw(e));
	if (!p->skip) {
		memcpy(p->name, name, VL_ULID_LEN + 6);
		memcpy(p->bucket, bucket, 2);
	}
}

static void prep_free(rec_prep *p)
{
	vl_record_free(p->r);
	vl_record_free(p->oldrec);
	vl_buf_free(&p->raw);
	vl_buf_free(&p->why_read);
	vl_buf_free(&p->why_verify);
	vl_buf_free(&p->why_schema);
	vl_buf_free(&p->diag);
	memset(p, 0, sizeof(*p));
}

/*
 * Object id of type (a record blob or a commit) into out (empty), through
 * packs (with this thread's scratch) when it is stored whole there, else
 * through repo, which reads anything else and words every refusal: as
 * vl_repo_read_blob and vl_repo_raw_commit.
 */
static int read_object(vl_buf *out, git_repository *repo, const vl_packset *packs, vl_packread_scratch *scratch,
		const git_oid *id, git_object_t type, const char *what)
{
	int rc;

	if (packs && scratch) {
		/* A commit of a bulk import lists every record it adds: it is
		 * read here up to a receive's cap, larger through libgit2. */
		size_t max = type == GIT_OBJECT_BLOB ? VL_RECORD_MAX_BYTES : VL_RECEIVE_MAX_COMMIT;
		if ((rc = vl_packset_read(out, packs, scratch, id, type, max)) != VL_ENOTFOUND)
			return rc == VL_ENOMEM ? vl_error_set(rc, "out of memory") : rc;
		vl_buf_clear(out);
	}
	return type == GIT_OBJECT_BLOB ? vl_repo_read_blob(out, repo, id, VL_RECORD_MAX_BYTES, what)
			: vl_repo_raw_commit(out, repo, id);
}

/*
 * The order-free part of check_record for p, read through repo (the
 * calling thread's): read the blob once, parse it, its clock, its
 * signature, its schema, and the version it replaces. Each step's result
 * is kept; nothing is judged here.
 */
static void prep_record(rec_prep *p, git_repository *repo, const vl_packset *packs, vl_packread_scratch *scratch)
{
	git_blob *oldblob = NULL;
	char line[256];
	size_t n;

	if (p->skip)
		return;
	/* "<ledger>/<bucket>/<name>" without snprintf, which showed per
	 * record; a ledger name is at most 32 bytes, so nothing is cut */
	n = strlen(p->s->name);
	if (n > sizeof(line) - 3 - sizeof(p->name))
		n = sizeof(line) - 3 - sizeof(p->name);
	memcpy(line, p->s->name, n);
	line[n] = '/';
	line[n + 1] = p->bucket[0];
	line[n + 2] = '/';
	memcpy(line + n + 3, p->name, sizeof(p->name)); /* ends in its NUL */
	if ((p->read_rc = read_object(&p->raw, repo, packs, scratch, &p->id, GIT_OBJECT_BLOB, line)) < 0) {
		if (keep_why(&p->why_read) < 0)
			p->oom = 1;
		return;
	}
	if ((p->parse_rc = vl_record_parse(&p->r, p->raw.ptr, p->raw.len, line)) < 0) {
		if (keep_why(&p->why_read) < 0)
			p->oom = 1;
		return;
	}
	p->clock_rc = vl_hlc_parse(&p->rclock, p->r->clock);
	if ((p->verify_rc = vl_record_verify(p->r, p->raw.ptr, p->raw.len, NULL)) < 0)
		if (keep_why(&p->why_verify) < 0)
			p->oom = 1;
	if (p->has_old) {
		p->old_rc = git_blob_lookup(&oldblob, repo, &p->oldid) < 0 ? VL_EINVALID
			: vl_record_parse(&p->oldrec, git_blob_rawcontent(oldblob), (size_t)git_blob_rawsize(oldblob), line);
		if (p->old_rc == 0)
			p->oclock_rc = vl_hlc_parse(&p->oclock, p->oldrec->clock);
		git_blob_free(oldblob);
	}
	if ((p->schema_rc = vl_schema_validate(p->s, p->r->data, p->r->deleted, &p->diag)) < 0)
		if (keep_why(&p->why_schema) < 0)
			p->oom = 1;
}

/* Order of two '\n'-terminated lines. */
static int cmp_line(const char *a, const char *b)
{
	while (*a == *b && *a != '\n' && *a)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

static int cmp_tline(const void *a, const void *b)
{
	return cmp_line(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_key_tline(const void *key, const void *elem)
{
	return cmp_line(key, *(const char *const *)elem);
}

/*
 * Sort the lines of c->trailers for has_trailer: a commit of n records
 * has n trailers, and searching the text for each would be quadratic.
 */
static int index_trailers(vctx *c)
{
	const char *p;

	c->ntlines = 0;
	for (p = c->trailers.ptr; p && *p; p = strchr(p, '\n') + 1) {
		if (c->ntlines == c->captlines) {
			size_t ncap = c->captlines ? c->captlines * 2 : 64;
			const char **nl = realloc(c->tlines, ncap * sizeof(*nl));
			if (!nl)
				return vl_error_set(VL_ENOMEM, "out of memory");
			c->tlines = nl;
			c->captlines = ncap;
		}
		c->tlines[c->ntlines++] = p;
	}
	if (c->ntlines > 1)
		qsort(c->tlines, c->ntlines, sizeof(*c->tlines), cmp_tline);
	return 0;
}

/* Does the commit's trailer text hold `line` ("Vledger-Record: ...\n")? A
 * whole line is found in the index; anything else (a trailer line with
 * more before it) by searching the text, as the index cannot say. */
static int has_trailer(const vctx *c, const char *line)
{
	if (!c->trailers.ptr)
		return 0;
	if (c->ntlines && bsearch(line, c->tlines, c->ntlines, sizeof(*c->tlines), cmp_key_tline))
		return 1;
	return strstr(c->trailers.ptr, line) != NULL;
}

/* Set cp up for commit id (skip: a merge, nothing to prepare; config: a
 * config commit with one parent, whose change is checked too). */
static void setup_commit_prep(commit_prep *cp, const git_oid *id, int skip, int config)
{
	vl_buf_clear(&cp->raw);
	git_oid_cpy(&cp->id, id);
	cp->skip = skip;
	cp->config = config;
	cp->read_rc = cp->sig_rc = cp->canon_rc = cp->cfg_done = cp->cfg_rc = 0;
	cp->oom = 0;
}

static void commit_prep_free(commit_prep *cp)
{
	vl_buf_free(&cp->raw);
	vl_buf_free(&cp->why_read);
	vl_buf_free(&cp->why_sig);
	vl_buf_free(&cp->why_canon);
	vl_buf_free(&cp->why_cfg);
	memset(cp, 0, sizeof(*cp));
}

/* The order-free part of verify_commit for cp, read through packs (with
 * this thread's scratch) or repo (the calling thread's): the raw commit,
 * its signature, its form, and for a config commit the change judged by
 * its parent's roster (left to verify_commit when the commit does not read
 * here). */
static void prep_commit(commit_prep *cp, git_repository *repo, const vl_packset *packs, vl_packread_scratch *scratch)
{
	git_commit *gc = NULL;
	char fp[VL_FP_LEN];

	if (cp->skip)
		return;
	if ((cp->read_rc = read_object(&cp->raw, repo, packs, scratch, &cp->id, GIT_OBJECT_COMMIT, NULL)) < 0) {
		if (keep_why(&cp->why_read) < 0)
			cp->oom = 1;
		return;
	}
	if ((cp->sig_rc = vl_commit_verify(cp->raw.ptr, cp->raw.len, cp->pk)) < 0) {
		if (keep_why(&cp->why_sig) < 0)
			cp->oom = 1;
		return;
	}
	if ((cp->canon_rc = vl_commit_check_canonical(cp->raw.ptr, cp->raw.len, 1)) < 0)
		if (keep_why(&cp->why_canon) < 0)
			cp->oom = 1;
	if (cp->config && git_commit_lookup(&gc, repo, &cp->id) == 0) {
		vl_fingerprint(fp, cp->pk);
		if ((cp->cfg_rc = vl_config_check_commit(repo, gc, fp)) < 0)
			if (keep_why(&cp->why_cfg) < 0)
				cp->oom = 1;
		cp->cfg_done = 1;
		git_commit_free(gc);
	}
}

/*
 * Append the NUL-terminated parts (a NULL ends them) to out[0..size), cut
 * as snprintf cuts, always terminated: what snprintf of "%s%s..." makes,
 * without its cost, which showed twice per record on the walking thread.
 */
static void join_text(char *out, size_t size, const char *const *parts)
{
	size_t at = 0, n;

	for (; *parts && at + 1 < size; parts++) {
		n = strlen(*parts);
		if (n > size - 1 - at)
			n = size - 1 - at;
		memcpy(out + at, *parts, n);
		at += n;
	}
	out[at] = '\0';
}

/* Check one changed record file at ledger/bucket/name, consuming p (set
 * up for it and prepared). */
static int check_record(vctx *c, const char *ledger, const char *bucket, const git_tree_entry *e,
		const git_tree_entry *old, rec_prep *p)
{
	const char *name = git_tree_entry_name(e);
	char id[VL_ULID_LEN + 1], line[256];
	const vl_schema *s = vl_node_schema(c->n, ledger);
	const vl_roster_entry *author;
	const vl_record *r = p->r, *oldrec = p->oldrec;
	const char *pin;
	int rc = 0;

	c->res->records++;
	if (p->oom)
		return vl_error_set(VL_ENOMEM, "out of memory");
	if (strlen(name) != VL_ULID_LEN + 5 || strcmp(name + VL_ULID_LEN, ".yaml") != 0)
		return fail(c, "'%s/%s/%.60s' is not named <id>.yaml", ledger, bucket, name);
	memcpy(id, name, VL_ULID_LEN);
	id[VL_ULID_LEN] = '\0';
	if (!vl_ulid_valid(id) || bucket[0] != id[VL_ULID_LEN - 1] || bucket[1])
		return fail(c, "'%s/%s/%s' is not in its bucket, or the id is not a ULID", ledger, bucket, name);
	/* The raw mode: libgit2 reads 100664 and 100600 as 100644. */
	if (git_tree_entry_filemode_raw(e) != GIT_FILEMODE_BLOB)
		return fail(c, "'%s/%s/%s' is not a regular file (mode %o), as records are (100644)", ledger, bucket,
				name, (unsigned)git_tree_entry_filemode_raw(e));
	{
		const char *parts[] = { ledger, "/", bucket, "/", name, NULL };
		join_text(line, sizeof(line), parts);
	}
	if (p->skip || !git_oid_equal(&p->id, git_tree_entry_id(e)))
		return vl_error_set(VL_ERROR, "verify prepared '%s' out of step with the walk", line);
	if (p->read_rc == VL_ETOOBIG)
		return fail(c, "'%s' is over the record limit, or not a file (%s)", line, p->why_read.ptr);
	if (p->read_rc < 0)
		return raise_kept(p->read_rc, &p->why_read);
	if (p->parse_rc < 0) {
		if (p->parse_rc != VL_ENOMEM) /* out of memory is ours: an error, not a finding */
			return fail(c, "%s", p->why_read.ptr);
		return raise_kept(p->parse_rc, &p->why_read);
	}
	if (strcmp(r->schema, ledger) != 0 || strcmp(r->id, id) != 0)
		return fail(c, "'%s' holds record %s of ledger %s", line, r->id, r->schema);
	if (strcmp(r->scope, c->scope) != 0)
		return fail(c, "'%s' has scope %s but lives on the branch of %s", line, r->scope, c->scope);
	if (!strcmp(r->author, VL_AUTHOR_MERGE))
		return fail(c, "'%s' is a merged record outside a merge commit", line);
	/* The hash chain: a new record has no prev; an edit names the version
	 * it replaces (so an old version cannot be put back), and only that
	 * one: a signed version replaces one version (merges, which join two,
	 * are replayed). */
	{
		char oldhex[VL_OID_HEX + 1];
		size_t k;
		int found = 0, joined;
		if (old) {
			git_oid_tostr(oldhex, sizeof(oldhex), git_tree_entry_id(old));
			for (k = 0; k < r->nprev; k++)
				found |= !strcmp(r->prev[k], oldhex);
			if (!found)
				return fail(c, "'%s' does not name the version it replaces (%.12s) in 'prev': "
						"an old or unrelated version was put back", line, oldhex);
			if (r->nprev != 1 && (joined = joined_version(c, ledger, id, r, oldhex)) < 0)
				return joined;
			if (r->nprev != 1 && !joined)
				return fail(c, "'%s' names versions in 'prev' other than the one it replaces (%.12s)",
						line, oldhex);
		} else if (r->nprev) {
			return fail(c, "'%s' is new on this branch but names earlier versions in 'prev'", line);
		}
	}
	if (p->clock_rc < 0)
		return fail(c, "'%s' has a clock that does not parse", line);
	if (p->verify_rc < 0) {
		if (p->verify_rc != VL_ENOMEM)
			return fail(c, "%s", p->why_verify.ptr);
		return raise_kept(p->verify_rc, &p->why_verify);
	}
	if (c->max_time && p->rclock.ms / 1000 > (uint64_t)c->max_time)
		return fail(c, "'%s' has a clock more than 24 hours ahead of this node's clock", line);
	author = roster_find(c, r->author);
	if (!author)
		return fail(c, "'%s' is signed by %s, which is not on the roster", line, r->author);
	if (before_valid_from(author, r->clock, 0))
		return fail(c, "'%s' is signed by %s at %s, more than a day before the key joined the roster (%s)",
				line, r->author, r->clock, author->valid_from);
	if (revoked_refuses(c, author, r->clock, 0, &pin)) {
		if (pin)
			return fail(c, "'%s' is signed by %s, revoked at %s, in a commit beyond the head %.12s "
					"pinned on this branch by the revocation", line, r->author, author->revoked_at, pin);
		return fail(c, "'%s' is signed by %s at %s, after the key was revoked at %s", line, r->author,
				r->clock, author->revoked_at);
	}
	if (!strcmp(author->role, "auditor") || !vl_division_covers(author->scope, r->scope))
		return fail(c, "'%s' is signed by %s (%s, scope %s), which may not write scope %s", line,
				r->author, author->role, author->scope, r->scope);
	/* Time moves forward: not before the signer's previous commit on this
	 * branch, not before the version replaced. HLC values never go back,
	 * so no step back at all is allowed. */
	if (c->prev_ms && p->rclock.ms < c->prev_ms)
		return fail(c, "'%s' has clock %s, before the signing key's previous commit on this branch: "
				"time goes only forward along a key's chain", line, r->clock);
	if (old) {
		if (p->old_rc == VL_ENOMEM)
			return vl_error_set(VL_ENOMEM, "out of memory"); /* ours: an error, not a finding */
		if (p->old_rc < 0 || p->oclock_rc < 0)
			return fail(c, "'%s' replaces a version that does not read as a record", line);
		if (vl_hlc_cmp(&p->rclock, &p->oclock) < 0)
			return fail(c, "'%s' has clock %s, earlier than the version it replaces (%s)", line, r->clock,
					oldrec->clock);
	}
	/* Conflicts come from merges only: a signed version may keep (some
	 * of) the conflicts of the version it replaces, never add one. */
	if (r->conflicts) {
		size_t k;
		for (k = 0; k < r->conflicts->n; k++) {
			const vl_value *was = oldrec && oldrec->conflicts
				? vl_value_map_get(oldrec->conflicts, r->conflicts->keys[k]) : NULL;
			if (!was || !vl_value_equal(was, r->conflicts->items[k]))
				return fail(c, "'%s' carries a conflict on '%.40s' that no merge produced (a signed "
						"version may only keep conflicts of the version it replaces)", line,
						r->conflicts->keys[k]);
		}
	}
	if (!s)
		return fail(c, "'%s' belongs to ledger '%s', which has no schema", line, ledger);
	if (p->schema_rc < 0) {
		if (p->schema_rc != VL_ENOMEM)
			return fail(c, "'%s' breaks its schema: %s", line, p->diag.ptr ? p->diag.ptr : p->why_schema.ptr);
		return raise_kept(p->schema_rc, &p->why_schema);
	}
	{
		char hex[VL_OID_HEX + 1];
		const char *parts[] = { "Vledger-Record: ", ledger, " ", id, " ", hex, "\n", NULL };
		git_oid_tostr(hex, sizeof(hex), git_tree_entry_id(e));
		join_text(line, sizeof(line), parts);
	}
	if (!has_trailer(c, line))
		return fail(c, "record %s changed but the commit has no Vledger-Record trailer for it", id);
	c->trailers_seen++;
	if (c->home && !old)
		rc = check_unique(c, ledger, id, line);
	return rc;
}

/*
 * git_tree_lookup of a scope branch's tree, which is read once: the first
 * time, raw (libgit2 caches the raw object), its modes checked and the
 * result kept in c->modes_ok, and then parsed from the cached raw object.
 * Errors as git_tree_lookup's, which the caller reports.
 */
static int tree_read(git_tree **out, vctx *c, const git_oid *id)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;

	if (!vl_oidset_has(&c->modes_ok, id) && git_repository_odb(&odb, c->repo) == 0 &&
			git_odb_read(&obj, odb, id) == 0 && git_odb_object_type(obj) == GIT_OBJECT_TREE &&
			vl_tree_check_modes(git_odb_object_data(obj), git_odb_object_size(obj)) == 0 &&
			vl_oidset_add(&c->modes_ok, id) < 0)
		vl_error_clear(); /* out of memory loses only the shortcut: the tree is read again */
	git_odb_object_free(obj);
	git_odb_free(odb);
	return git_tree_lookup(out, c->repo, id);
}

/* The raw bytes of a tree that changed: modes without padding (libgit2
 * parses "0100644" as 100644; git fsck --strict refuses it). A tree
 * tree_read found canonical is not read again. */
static int check_tree_bytes(vctx *c, git_tree *tree, const char *ledger, const char *bucket)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	int rc;

	if (vl_oidset_has(&c->modes_ok, git_tree_id(tree)))
		return 0;
	if ((rc = git_repository_odb(&odb, c->repo)) < 0 || (rc = git_odb_read(&obj, odb, git_tree_id(tree))) < 0) {
		rc = vl_error_git(rc, "cannot read a tree");
		goto out;
	}
	if (vl_tree_check_modes(git_odb_object_data(obj), git_odb_object_size(obj)) < 0)
		rc = fail(c, "the tree of '%s%s%s' is not canonical: %s", ledger ? ledger : "/", bucket ? "/" : "",
				bucket ? bucket : "", vl_error_last());
out:
	git_odb_object_free(obj);
	git_odb_free(odb);
	return rc;
}

/* ---- parallel preparation of records ----------------------------------- */

typedef struct prep_worker_s {
	prep_pool *pool;
	git_repository *repo;
	vl_packread_scratch *scratch; /* when pool->packs */
} prep_worker;

/* Take jobs of the current batch until none is left; pool->mu held on
 * entry and exit. */
static void pool_drain(prep_pool *pool, git_repository *repo, vl_packread_scratch *scratch)
{
	size_t total = pool->ncjobs + pool->njobs;

	while (pool->next < total) {
		size_t i = pool->next++;
		pthread_mutex_unlock(&pool->mu);
		if (i < pool->ncjobs)
			prep_commit(&pool->cjobs[i], repo, pool->packs, scratch);
		else
			prep_record(&pool->jobs[i - pool->ncjobs], repo, pool->packs, scratch);
		pthread_mutex_lock(&pool->mu);
		if (++pool->finished == total)
			pthread_cond_signal(&pool->done);
	}
}

static void *pool_worker(void *arg)
{
	prep_worker *w = arg;
	prep_pool *pool = w->pool;
	unsigned seen = 0;

	pthread_mutex_lock(&pool->mu);
	for (;;) {
		while (pool->gen == seen && !pool->quit)
			pthread_cond_wait(&pool->go, &pool->mu);
		if (pool->quit)
			break;
		seen = pool->gen;
		pool_drain(pool, w->repo, w->scratch);
	}
	pthread_mutex_unlock(&pool->mu);
	return NULL;
}

static void pool_stop(prep_pool *pool)
{
	size_t i;

	if (!pool)
		return;
	pthread_mutex_lock(&pool->mu);
	pool->quit = 1;
	pthread_cond_broadcast(&pool->go);
	pthread_mutex_unlock(&pool->mu);
	for (i = 0; i < pool->nth; i++)
		pthread_join(pool->th[i], NULL);
	for (i = 0; pool->workers && i < pool->nworkers; i++) {
		git_repository_free(pool->workers[i].repo);
		vl_packread_scratch_free(pool->workers[i].scratch);
	}
	pthread_cond_destroy(&pool->go);
	pthread_cond_destroy(&pool->done);
	pthread_mutex_destroy(&pool->mu);
	free(pool->workers);
	free(pool->th);
	free(pool);
}

/* A repository of its own for a thread, over the objects view v reads:
 * n's, and the quarantine's when the view has one. */
static int own_repo(git_repository **out, vl_node *n, const vl_view *v)
{
	git_odb *odb = NULL;
	vl_buf objects = VL_BUF_INIT;
	int rc;

	if ((rc = vl_buf_printf(&objects, "%sobjects", git_repository_path(n->repo))) < 0)
		return rc;
	if ((rc = git_odb_new(&odb)) < 0)
		rc = vl_error_git(rc, "cannot open the objects for a verify thread");
	else if ((rc = vl_view_add_objects(odb, v, objects.ptr)) == 0 &&
			(rc = git_repository_wrap_odb(out, odb)) < 0)
		rc = vl_error_git(rc, "cannot open the objects for a verify thread");
	git_odb_free(odb);
	vl_buf_free(&objects);
	return rc;
}

/* Start c->threads - 1 workers. */
static int pool_start(vctx *c)
{
	prep_pool *pool = calloc(1, sizeof(*pool));
	size_t i, n = c->threads - 1;
	int rc = 0;

	if (!pool)
		return vl_error_set(VL_ENOMEM, "out of memory");
	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->go, NULL);
	pthread_cond_init(&pool->done, NULL);
	pool->packs = c->view->packs;
	if (!(pool->th = calloc(n, sizeof(*pool->th))) || !(pool->workers = calloc(n, sizeof(*pool->workers)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		pool->workers[i].pool = pool;
		if ((rc = own_repo(&pool->workers[i].repo, c->n, c->view)) < 0 ||
				(pool->packs && (rc = vl_packread_scratch_new(&pool->workers[i].scratch)) < 0)) {
			git_repository_free(pool->workers[i].repo);
			pool->workers[i].repo = NULL;
			goto out;
		}
		pool->nworkers++;
		if (pthread_create(&pool->th[i], NULL, pool_worker, &pool->workers[i]) != 0) {
			rc = vl_error_set(VL_ERROR, "cannot start a verify thread: run with VLEDGER_THREADS=1");
			goto out;
		}
		pool->nth++;
	}
out:
	if (rc < 0)
		pool_stop(pool);
	else
		c->pool = pool;
	return rc;
}

/* Start the threads on the commits of w and its records jobs[from, to):
 * the batch runs while this thread goes on (pool_finish waits for it). */
static int pool_submit(vctx *c, prep_window *w, size_t ncommits, size_t from, size_t to)
{
	prep_pool *pool;
	int rc;

	if (!c->pool && (rc = pool_start(c)) < 0)
		return rc;
	pool = c->pool;
	pthread_mutex_lock(&pool->mu);
	pool->cjobs = w->cjobs;
	pool->ncjobs = ncommits;
	pool->jobs = w->jobs + from;
	pool->njobs = to - from;
	pool->next = pool->finished = 0;
	pool->gen++;
	pthread_cond_broadcast(&pool->go);
	pthread_mutex_unlock(&pool->mu);
	c->inflight = w;
	return 0;
}

/* Finish the batch in flight, if any, this thread taking jobs too. */
static void pool_finish(vctx *c)
{
	prep_pool *pool = c->pool;

	if (!c->inflight)
		return;
	pthread_mutex_lock(&pool->mu);
	pool_drain(pool, c->repo, c->scratch);
	while (pool->finished < pool->ncjobs + pool->njobs)
		pthread_cond_wait(&pool->done, &pool->mu);
	pool->jobs = NULL;
	pool->cjobs = NULL;
	pool->ncjobs = pool->njobs = pool->next = pool->finished = 0;
	pthread_mutex_unlock(&pool->mu);
	c->inflight = NULL;
}

/* Collecting: list record file e (old: what it replaces) of ledger/bucket. */
static int add_job(vctx *c, const char *ledger, const char *bucket, const git_tree_entry *e,
		const git_tree_entry *old)
{
	prep_window *w = c->fill;

	if (w->njobs == w->capjobs) {
		size_t ncap = w->capjobs ? w->capjobs * 2 : 64;
		rec_prep *nj = realloc(w->jobs, ncap * sizeof(*nj));
		if (!nj)
			return vl_error_set(VL_ENOMEM, "out of memory");
		memset(nj + w->capjobs, 0, (ncap - w->capjobs) * sizeof(*nj));
		w->jobs = nj;
		w->capjobs = ncap;
	}
	setup_prep(&w->jobs[w->njobs++], vl_node_schema(c->n, ledger), bucket, e, old);
	return 0;
}

/* The prepared record for file e, in walk order: the next job (preparing
 * the next chunk first when needed), or in serial mode e prepared now. */
static int next_prep(rec_prep **out, vctx *c, const char *ledger, const char *bucket, const git_tree_entry *e,
		const git_tree_entry *old)
{
	int rc;

	if (c->threads <= 1 || c->inline_prep) {
		setup_prep(&c->one, vl_node_schema(c->n, ledger), bucket, e, old);
		prep_record(&c->one, c->repo, c->view->packs, c->scratch);
		*out = &c->one;
		return 0;
	}
	if (c->jobi >= c->jobend)
		return vl_error_set(VL_ERROR, "verify walked more records than it listed");
	if (c->jobi >= c->cur->prepped) {
		/* A huge commit: its next chunk, once the batch in flight is done. */
		prep_window *w = c->cur;
		size_t to = w->njobs - c->jobi > PREP_CHUNK ? c->jobi + PREP_CHUNK : w->njobs;
		pool_finish(c);
		if ((rc = pool_submit(c, w, 0, c->jobi, to)) < 0)
			return rc;
		pool_finish(c);
		w->prepped = to;
	}
	*out = &c->cur->jobs[c->jobi++];
	return 0;
}

/* Parallel mode: a consumed job's parsed records go now, so that a big
 * commit holds at most a chunk of them. */
static void job_done(vctx *c, rec_prep *p)
{
	if (p == &c->one)
		return;
	vl_record_free(p->r);
	vl_record_free(p->oldrec);
	p->r = p->oldrec = NULL;
	vl_buf_free(&p->diag);
}

static void jobs_free(vctx *c)
{
	size_t i, k;

	pool_stop(c->pool);
	c->pool = NULL;
	for (k = 0; c->wins && k < 2; k++) {
		prep_window *w = &c->wins[k];
		for (i = 0; i < w->capjobs; i++)
			prep_free(&w->jobs[i]);
		free(w->jobs);
		for (i = 0; i < PREP_WINDOW; i++)
			commit_prep_free(&w->cjobs[i]);
		for (i = 0; i < w->nwin; i++)
			git_commit_free(w->win[i]);
	}
	free(c->wins);
	c->wins = c->fill = c->cur = NULL;
	c->jobi = c->jobend = 0;
	prep_free(&c->one);
	commit_prep_free(&c->onec);
}

/*
 * Walk the entries of new_tree that differ from old_tree (NULL = empty),
 * depth 0 = ledger dirs, 1 = buckets, 2 = record files. When c->collect,
 * only list the record files (add_job), finding nothing; the walk that
 * follows takes exactly the same steps and consumes the list in order.
 */
static int walk_changes(vctx *c, git_tree *old_tree, git_tree *new_tree, int depth,
		const char *ledger, const char *bucket)
{
	size_t i, count = git_tree_entrycount(new_tree);
	int rc = 0;

	if (!c->collect && (rc = check_tree_bytes(c, new_tree, ledger, bucket)) < 0)
		return rc;
	/* Records are never removed from a scope branch: tombstones stay. */
	if (old_tree && !c->collect) {
		for (i = 0; i < git_tree_entrycount(old_tree); i++) {
			const git_tree_entry *oe = git_tree_entry_byindex(old_tree, i);
			if (!git_tree_entry_byname(new_tree, git_tree_entry_name(oe)))
				if ((rc = fail(c, "'%s%s%s%s%s' was removed; records are deleted by tombstones only",
						ledger ? ledger : "", ledger ? "/" : "", bucket ? bucket : "", bucket ? "/" : "",
						git_tree_entry_name(oe))) < 0)
					return rc;
		}
	}
	for (i = 0; i < count; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(new_tree, i);
		const git_tree_entry *oe = old_tree ? git_tree_entry_byname(old_tree, git_tree_entry_name(e)) : NULL;
		const char *name = git_tree_entry_name(e);
		git_tree *sub = NULL, *osub = NULL;

		if (oe && git_oid_equal(git_tree_entry_id(oe), git_tree_entry_id(e)) &&
				git_tree_entry_filemode_raw(oe) == git_tree_entry_filemode_raw(e))
			continue; /* unchanged subtree or file: verified with an earlier commit */
		if (depth < 2) {
			int ok = git_tree_entry_filemode_raw(e) == GIT_FILEMODE_TREE &&
					(depth == 0 ? vl_ledger_name_valid(name) && vl_node_schema(c->n, name)
						    : strlen(name) == 1 && strchr("0123456789abcdefghjkmnpqrstvwxyz", name[0]));
			if (!ok) {
				if (!c->collect && (rc = fail(c, "'%s%s%.60s' is not allowed in a scope branch (only <ledger>/<bucket>/<id>.yaml)",
						ledger ? ledger : "", ledger ? "/" : "", name)) < 0)
					return rc;
				continue;
			}
			if ((rc = tree_read(&sub, c, git_tree_entry_id(e))) < 0)
				return vl_error_git(rc, "cannot read a tree");
			if (oe && git_tree_entry_filemode_raw(oe) == GIT_FILEMODE_TREE &&
					(rc = tree_read(&osub, c, git_tree_entry_id(oe))) < 0) {
				git_tree_free(sub);
				return vl_error_git(rc, "cannot read a tree");
			}
			rc = walk_changes(c, osub, sub, depth + 1, depth == 0 ? name : ledger, depth == 1 ? name : NULL);
			git_tree_free(sub);
			git_tree_free(osub);
			if (rc < 0)
				return rc;
		} else if (c->collect) {
			if ((rc = add_job(c, ledger, bucket, e, oe)) < 0)
				return rc;
		} else {
			rec_prep *p = NULL;
			if ((rc = next_prep(&p, c, ledger, bucket, e, oe)) < 0)
				return rc;
			rc = check_record(c, ledger, bucket, e, oe, p);
			job_done(c, p);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void known_chains_free(vctx *c)
{
	size_t i;

	for (i = 0; i < c->nkc; i++)
		free(c->kc[i].at);
	free(c->kc);
	c->kc = NULL;
	c->nkc = c->capkc = 0;
}

/*
 * Received data: key fp's commit at Vledger-Seq `seq` in the history we
 * hold. *same = 1 when it is this commit, 0 when it is another (its id in
 * *at: equivocation), -1 when known has none (the key's chain there is
 * shorter, or a Vledger-Prev on the way back does not read).
 */
static int known_at_seq(int *same, git_oid *at, vctx *c, const char *fp, uint64_t seq)
{
	known_chain *k = NULL;
	vl_buf pv = VL_BUF_INIT;
	size_t i, steps;
	int rc = 0;

	for (i = 0; i < c->nkc && !k; i++)
		if (!strcmp(c->kc[i].fp, fp))
			k = &c->kc[i];
	if (!k) {
		uint64_t top = 0;
		git_oid newest;
		if ((rc = vl_repo_key_chain(&top, &newest, c->repo, c->known, fp)) < 0)
			return rc;
		if (c->nkc == c->capkc) {
			size_t ncap = c->capkc ? c->capkc * 2 : 8;
			known_chain *nk = realloc(c->kc, ncap * sizeof(*nk));
			if (!nk)
				return vl_error_set(VL_ENOMEM, "out of memory");
			c->kc = nk;
			c->capkc = ncap;
		}
		k = &c->kc[c->nkc++];
		memset(k, 0, sizeof(*k));
		memcpy(k->fp, fp, VL_FP_LEN);
		k->top = top;
		if (top) {
			if (!(k->at = malloc(8 * sizeof(*k->at)))) {
				c->nkc--;
				return vl_error_set(VL_ENOMEM, "out of memory");
			}
			k->capat = 8;
			git_oid_cpy(&k->at[0], &newest);
			k->nat = 1;
		}
	}
	*same = -1;
	if (k->top < seq || !k->top)
		return 0;
	steps = (size_t)(k->top - seq);
	/* Follow Vledger-Prev back from the newest commit, as far as asked. */
	while (k->nat <= steps && !k->broken) {
		git_commit *kc = NULL;
		git_oid prev;
		int tr = 0;
		vl_buf_clear(&pv);
		if (git_commit_lookup(&kc, c->repo, &k->at[k->nat - 1]) < 0 ||
				(tr = vl_message_trailer(&pv, git_commit_message(kc), "Vledger-Prev")) < 0 ||
				git_oid_fromstr(&prev, pv.ptr) < 0) {
			/* Out of memory is an error, not a chain that ends here. */
			if (tr < 0 && tr != VL_ENOTFOUND) {
				git_commit_free(kc);
				rc = tr;
				goto out;
			}
			k->broken = 1;
		} else {
			if (k->nat == k->capat) {
				git_oid *na = realloc(k->at, k->capat * 2 * sizeof(*na));
				if (!na) {
					git_commit_free(kc);
					rc = vl_error_set(VL_ENOMEM, "out of memory");
					goto out;
				}
				k->at = na;
				k->capat *= 2;
			}
			git_oid_cpy(&k->at[k->nat++], &prev);
		}
		git_commit_free(kc);
	}
	if (k->nat > steps) {
		git_oid_cpy(at, &k->at[steps]);
		*same = git_oid_equal(at, c->commit);
	}
out:
	vl_buf_free(&pv);
	return rc;
}

/* The key chain of one commit: Vledger-Seq n and Vledger-Prev. */
static int check_chain(vctx *c, git_commit *commit)
{
	const char *msg = git_commit_message(commit);
	vl_buf seqb = VL_BUF_INIT, prevb = VL_BUF_INIT;
	unsigned long long seq;
	char *end;
	size_t i, before = c->res->failures;
	int rc = 0, tr;

	/* A trailer that could not be copied (out of memory) is an error of
	 * ours, never a finding against the commit. */
	if ((tr = vl_message_trailer(&seqb, msg, "Vledger-Seq")) < 0) {
		rc = tr == VL_ENOTFOUND ? fail(c, "signed commit has no Vledger-Seq trailer") : tr;
		goto out;
	}
	seq = seqb.ptr[0] >= '1' && seqb.ptr[0] <= '9' ? strtoull(seqb.ptr, &end, 10) : 0;
	if (seq == 0 || *end || strspn(seqb.ptr, "0123456789") != seqb.len) {
		rc = fail(c, "Vledger-Seq '%.20s' is not a positive number", seqb.ptr);
		goto out;
	}
	if ((tr = vl_message_trailer(&prevb, msg, "Vledger-Prev")) < 0 && tr != VL_ENOTFOUND) {
		rc = tr;
		goto out;
	}
	if (tr == 0) {
		git_oid prev;
		git_commit *pc = NULL;
		vl_buf ps = VL_BUF_INIT;
		if (seq == 1 || git_oid_fromstr(&prev, prevb.ptr) < 0 ||
				git_commit_lookup(&pc, c->repo, &prev) < 0) {
			rc = fail(c, "Vledger-Prev names no earlier commit of this key");
			goto out;
		}
		/* The previous link must be the same key at seq - 1, and an ancestor. */
		/* Usually the previous link is the parent: no walk needed then. */
		tr = vl_message_trailer(&ps, git_commit_message(pc), "Vledger-Seq");
		if (tr < 0 && tr != VL_ENOTFOUND)
			rc = tr;
		else if (strcmp(git_commit_author(pc)->email, git_commit_author(commit)->email) != 0 ||
				tr < 0 ||
				strtoull(ps.ptr, NULL, 10) != seq - 1 ||
				(!(git_commit_parentcount(commit) > 0 && git_oid_equal(git_commit_parent_id(commit, 0), &prev)) &&
				 git_graph_descendant_of(c->repo, git_commit_id(commit), &prev) != 1))
			rc = fail(c, "Vledger-Prev does not name this key's commit %llu on this branch", seq - 1);
		/* Time moves forward along the chain (seconds: commit times have
		 * no finer resolution). */
		if (rc == 0 && c->res->failures == before) {
			int64_t pt = git_commit_committer(pc)->when.time, ct = git_commit_committer(commit)->when.time;
			char a[21], b[21];
			c->prev_ms = pt > 0 ? (uint64_t)pt * 1000 : 0;
			if (ct < pt) {
				time_text(a, ct);
				time_text(b, pt);
				rc = fail(c, "commit is dated %s, before this key's previous commit %.12s on this "
						"branch (%s): time goes only forward along a key's chain", a,
						git_oid_tostr_s(&prev), b);
			}
		}
		vl_buf_free(&ps);
		git_commit_free(pc);
		if (rc < 0 || c->res->failures > before)
			goto out;
	} else if (seq != 1) {
		rc = fail(c, "Vledger-Seq %llu without Vledger-Prev", seq);
		goto out;
	}
	/* Received data: does the history we hold have another commit of this
	 * key at this seq? Then the key signed two histories: equivocation. */
	if (c->known) {
		git_oid at;
		int same = -1;
		if ((rc = known_at_seq(&same, &at, c, c->signer->fp, seq)) < 0)
			goto out;
		if (same == 0) {
			git_oid *ne = realloc(c->res->evidence, (c->res->nevidence + 2) * sizeof(*ne));
			if (!ne) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			c->res->evidence = ne;
			git_oid_cpy(&ne[c->res->nevidence++], &at);
			git_oid_cpy(&ne[c->res->nevidence++], git_commit_id(commit));
			rc = fail(c, "key %s signed this commit and our %.12s with the same Vledger-Seq %llu: "
					"equivocation (both kept as evidence)", c->signer->fp, git_oid_tostr_s(&at), seq);
			goto out;
		}
	}
	/* Two commits of one key with one seq on one branch: a fork. */
	for (i = 0; i < c->nlinks; i++) {
		if (!strcmp(c->links[i].fp, c->signer->fp) && c->links[i].seq == seq &&
				!git_oid_equal(&c->links[i].commit, git_commit_id(commit))) {
			rc = fail(c, "key %s signed two commits with Vledger-Seq %llu (%.12s): equivocation",
					c->signer->fp, seq, git_oid_tostr_s(&c->links[i].commit));
			goto out;
		}
	}
	if (c->nlinks == c->caplinks) {
		size_t ncap = c->caplinks ? c->caplinks * 2 : 64;
		chain_link *nl = realloc(c->links, ncap * sizeof(*nl));
		if (!nl) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		c->links = nl;
		c->caplinks = ncap;
	}
	memcpy(c->links[c->nlinks].fp, c->signer->fp, VL_FP_LEN);
	c->links[c->nlinks].seq = seq;
	git_oid_cpy(&c->links[c->nlinks].commit, git_commit_id(commit));
	c->nlinks++;
out:
	vl_buf_free(&seqb);
	vl_buf_free(&prevb);
	return rc;
}

/* Is pk one of network.yaml's root keys? */
static int is_root_key(const vl_node *n, const unsigned char pk[32])
{
	const vl_value *roots = vl_value_map_get(n->network, "root_keys");
	unsigned char rk[32];
	size_t i;

	for (i = 0; roots && roots->kind == VL_V_LIST && i < roots->n; i++)
		if (roots->items[i]->kind == VL_V_STR && vl_pubkey_parse(rk, roots->items[i]->s) == 0 &&
				!memcmp(rk, pk, 32))
			return 1;
	return 0;
}

static int check_config_paths(vctx *c, git_tree *old_tree, git_tree *new_tree)
{
	git_diff *diff = NULL;
	size_t i;
	int rc;

	/* The config tree is small (a few dozen files): a plain diff is fine. */
	if ((rc = git_diff_tree_to_tree(&diff, c->repo, old_tree, new_tree, NULL)) < 0)
		return vl_error_git(rc, "cannot diff config");
	for (i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *p = d->new_file.path;
		size_t l = strlen(p);
		int ok = !strcmp(p, "network.yaml") || !strcmp(p, "roster.yaml") ||
				(!strncmp(p, "schemas/", 8) && l > 13 && !strcmp(p + l - 5, ".yaml") &&
				 !strchr(p + 8, '/'));
		if (!ok || (d->status != GIT_DELTA_DELETED && d->new_file.mode != GIT_FILEMODE_BLOB))
			if ((rc = fail(c, "config may hold only network.yaml, roster.yaml and schemas/*.yaml "
					"files, not '%.80s'", p)) < 0)
				break;
	}
	git_diff_free(diff);
	if (rc < 0)
		return rc;
	/* Modes as written, which the diff normalises (100664 reads as 100644). */
	if ((rc = check_tree_bytes(c, new_tree, NULL, NULL)) < 0)
		return rc;
	for (i = 0; i < git_tree_entrycount(new_tree); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(new_tree, i);
		int is_dir = !strcmp(git_tree_entry_name(e), "schemas");
		git_tree *sub = NULL;
		size_t k;
		if (git_tree_entry_filemode_raw(e) != (is_dir ? GIT_FILEMODE_TREE : GIT_FILEMODE_BLOB))
			return fail(c, "config entry '%.80s' has mode %o, not %s", git_tree_entry_name(e),
					(unsigned)git_tree_entry_filemode_raw(e), is_dir ? "040000" : "100644");
		if (!is_dir)
			continue;
		if ((rc = git_tree_lookup(&sub, c->repo, git_tree_entry_id(e))) < 0)
			return vl_error_git(rc, "cannot read a tree");
		if ((rc = check_tree_bytes(c, sub, "schemas", NULL)) < 0) {
			git_tree_free(sub);
			return rc;
		}
		for (k = 0; k < git_tree_entrycount(sub); k++) {
			const git_tree_entry *se = git_tree_entry_byindex(sub, k);
			if (git_tree_entry_filemode_raw(se) != GIT_FILEMODE_BLOB) {
				rc = fail(c, "config entry 'schemas/%.80s' has mode %o, not 100644", git_tree_entry_name(se),
						(unsigned)git_tree_entry_filemode_raw(se));
				break;
			}
		}
		git_tree_free(sub);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Verify one commit; cp: its prepared part, or NULL to prepare it here. */
static int verify_commit(vctx *c, git_commit *commit, const commit_prep *cp)
{
	vl_buf email = VL_BUF_INIT;
	git_commit *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	unsigned char pk[32];
	char fp[VL_FP_LEN];
	const char *msg = git_commit_message(commit);
	const char *p, *pin;
	size_t before = c->res->failures;
	int rc;

	c->res->commits++;
	c->signer = NULL;
	c->prev_ms = 0;
	c->trailers_seen = 0;
	c->ntlines = 0;
	vl_buf_clear(&c->trailers);
	if (git_commit_parentcount(commit) > 2) {
		rc = fail(c, "commit has %u parents; vledger merges two heads at a time",
				git_commit_parentcount(commit));
		goto out;
	}
	if (git_commit_parentcount(commit) == 2) {
		/* A merge is not signed: it is verified by replaying it from its
		 * parents, which were verified before it (oldest first). */
		/* The replay may load config into the node: no thread may be
		 * reading the node's schemas then. */
		pool_finish(c);
		if (!c->scope) {
			rc = fail(c, "merge commit on config; config history is linear");
		} else {
			/* Branches on threads (branch_pool): one replay at a time. */
			if (c->merge_mu)
				pthread_mutex_lock(c->merge_mu);
			rc = vl_merge_replay(c->view, c->n, c->scope, git_commit_id(commit));
			if (c->merge_mu)
				pthread_mutex_unlock(c->merge_mu);
			c->last_key = NULL; /* the replay may have loaded the config */
			if (rc == 0)
				c->res->merges++;
			else if (rc == VL_ENOMEM || rc == VL_ERROR)
				; /* memory, a hook's temp file: ours, not the merge's */
			else if (rc != VL_EBADSIG)
				rc = fail(c, "merge replay failed: %s", vl_error_last());
			else
				rc = fail(c, "%s", vl_error_last());
		}
		goto out;
	}
	if (!cp) {
		setup_commit_prep(&c->onec, git_commit_id(commit), 0, !c->scope && git_commit_parentcount(commit) == 1);
		prep_commit(&c->onec, c->repo, c->view->packs, c->scratch);
		cp = &c->onec;
	}
	if (cp->skip || !git_oid_equal(&cp->id, git_commit_id(commit))) {
		rc = vl_error_set(VL_ERROR, "verify prepared commit %.12s out of step with the walk",
				git_oid_tostr_s(git_commit_id(commit)));
		goto out;
	}
	if (cp->oom) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if (cp->read_rc < 0) {
		rc = raise_kept(cp->read_rc, &cp->why_read);
		goto out;
	}
	if (cp->sig_rc < 0) {
		if (cp->sig_rc != VL_ENOMEM)
			rc = fail(c, "commit signature: %s", cp->why_sig.ptr);
		else
			rc = raise_kept(cp->sig_rc, &cp->why_sig);
		goto out;
	}
	if (cp->canon_rc < 0) {
		rc = fail(c, "commit is not in canonical form: %s", cp->why_canon.ptr);
		goto out;
	}
	memcpy(pk, cp->pk, 32);
	vl_fingerprint(fp, pk);
	if ((rc = vl_buf_printf(&email, "%s@vledger", fp)) < 0)
		goto out;
	if (strcmp(git_commit_author(commit)->email, email.ptr) != 0 ||
			strcmp(git_commit_committer(commit)->email, email.ptr) != 0) {
		rc = fail(c, "signed by %s but author/committer name another key", fp);
		goto out;
	}
	if (c->max_time && git_commit_committer(commit)->when.time > c->max_time) {
		rc = fail(c, "commit is dated more than 24 hours ahead of this node's clock");
		goto out;
	}
	/* Config after its first commit is judged by its parent's roster
	 * (roster.h: delegated admins), before the head's roster is asked, so
	 * the reason is the rule's ("not an admin", "outside"). */
	if (!c->scope && git_commit_parentcount(commit) == 1) {
		if (cp->cfg_done && cp->cfg_rc < 0)
			rc = raise_kept(cp->cfg_rc, &cp->why_cfg);
		else if (!cp->cfg_done)
			rc = vl_config_check_commit(c->repo, commit, fp);
		else
			rc = 0;
		if (rc < 0) {
			if (rc != VL_ENOMEM)
				rc = fail(c, "config change refused: %s", vl_error_last());
			goto out;
		}
	}
	c->signer = roster_find(c, fp);
	if (!c->signer) {
		rc = fail(c, "signed by %s, which is not on the roster", fp);
		goto out;
	}
	/* Who a commit shows is who signed it: the roster's name (log and
	 * stock git show it), and one time for author and committer. */
	if (strcmp(git_commit_author(commit)->name, c->signer->name) != 0 ||
			strcmp(git_commit_committer(commit)->name, c->signer->name) != 0) {
		rc = fail(c, "author or committer name is not the roster name of the signing key %s", fp);
		goto out;
	}
	if (git_commit_author(commit)->when.time - git_commit_committer(commit)->when.time > VL_AUTHOR_TIME_SKEW_S ||
			git_commit_committer(commit)->when.time - git_commit_author(commit)->when.time > VL_AUTHOR_TIME_SKEW_S ||
			git_commit_author(commit)->when.offset != git_commit_committer(commit)->when.offset) {
		rc = fail(c, "author time and committer time differ; vledger writes both from one clock");
		goto out;
	}
	/* Config commits are judged by their parent's roster below (the commit
	 * that revokes a key may be signed by that key at that second). */
	if (c->scope && before_valid_from(c->signer, NULL, (long long)git_commit_committer(commit)->when.time)) {
		rc = fail(c, "signed by %s more than a day before the key joined the roster (%s)", fp,
				c->signer->valid_from);
		goto out;
	}
	if (c->scope && revoked_refuses(c, c->signer, NULL, (long long)git_commit_committer(commit)->when.time,
			&pin)) {
		if (pin)
			rc = fail(c, "signed by %s, revoked at %s, beyond the head %.12s its revocation pinned on "
					"this branch", fp, c->signer->revoked_at, pin);
		else
			rc = fail(c, "signed by %s after the key was revoked at %s", fp, c->signer->revoked_at);
		goto out;
	}
	if (c->scope) {
		if (!strcmp(c->signer->role, "auditor") || !vl_division_covers(c->signer->scope, c->scope)) {
			rc = fail(c, "signed by %s (%s, scope %s), which may not write scope %s", fp,
					c->signer->role, c->signer->scope, c->scope);
			goto out;
		}
	} else if (git_commit_parentcount(commit) == 0) {
		if (!is_root_key(c->n, pk)) {
			rc = fail(c, "config changed by %s, which is not a root key of network.yaml", fp);
			goto out;
		}
	}
	if (!c->no_chain && (rc = check_chain(c, commit)) < 0)
		goto out;
	/* Gather the Vledger-Record trailers. */
	for (p = strstr(msg, "\nVledger-Record: "); p; p = strstr(p + 1, "\nVledger-Record: ")) {
		const char *eol = strchr(p + 1, '\n');
		if ((rc = vl_buf_put(&c->trailers, p + 1, eol ? (size_t)(eol - p) : strlen(p + 1))) < 0)
			goto out;
		if (!eol && (rc = vl_buf_putc(&c->trailers, '\n')) < 0)
			goto out;
	}
	if ((rc = index_trailers(c)) < 0)
		goto out;
	if ((rc = tree_read(&tree, c, git_commit_tree_id(commit))) < 0 ||
			(git_commit_parentcount(commit) == 1 &&
			 ((rc = git_commit_parent(&parent, commit, 0)) < 0 ||
			  (rc = tree_read(&ptree, c, git_commit_tree_id(parent))) < 0))) {
		rc = vl_error_git(rc, "cannot read a commit's tree");
		goto out;
	}
	if (c->scope) {
		c->ptree = ptree;
		c->msg = msg;
		rc = walk_changes(c, ptree, tree, 0, NULL, NULL);
		c->ptree = NULL;
		if (rc < 0)
			goto out;
		if (c->res->failures == before && c->trailers_seen != count_lines(c->trailers.ptr))
			rc = fail(c, "the commit names %zu records in Vledger-Record trailers but changes %zu",
					count_lines(c->trailers.ptr), c->trailers_seen);
	} else {
		rc = check_config_paths(c, ptree, tree);
	}
out:
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	vl_buf_free(&email);
	return rc;
}

static void progress(vctx *c)
{
	if (c->res->progress && c->res->commits % 100 == 0)
		fprintf(c->res->progress, "\rverifying %s: %zu commits, %zu records", c->branch, c->res->commits,
				c->res->records);
}

/* Parallel mode: list the records commit changes (add_job), as the walk of
 * verify_commit will meet them. */
static int collect_commit(vctx *c, git_commit *commit)
{
	git_commit *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	int rc;

	if (!c->scope || git_commit_parentcount(commit) > 1)
		return 0;
	if ((rc = tree_read(&tree, c, git_commit_tree_id(commit))) < 0 ||
			(git_commit_parentcount(commit) == 1 &&
			 ((rc = git_commit_parent(&parent, commit, 0)) < 0 ||
			  (rc = tree_read(&ptree, c, git_commit_tree_id(parent))) < 0))) {
		rc = vl_error_git(rc, "cannot read a commit's tree");
		goto out;
	}
	c->collect = 1;
	rc = walk_changes(c, ptree, tree, 0, NULL, NULL);
	c->collect = 0;
out:
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	return rc;
}

/*
 * List the next window of walk into w (w->nwin 0: the walk is over): read
 * its commits, set their prepared parts up, list their records.
 */
static int fill_window(vctx *c, prep_window *w, git_revwalk *walk)
{
	git_oid id;
	int rc;

	c->fill = w;
	w->nwin = w->njobs = w->prepped = 0;
	while (w->nwin < PREP_WINDOW && w->njobs < PREP_CHUNK) {
		size_t k = w->nwin;
		if ((rc = git_revwalk_next(&id, walk)) == GIT_ITEROVER)
			return 0;
		if (rc < 0)
			return vl_error_git(rc, "cannot walk history");
		if ((rc = git_commit_lookup(&w->win[k], c->repo, &id)) < 0)
			return vl_error_git(rc, "cannot read a commit");
		w->nwin++;
		setup_commit_prep(&w->cjobs[k], &id, git_commit_parentcount(w->win[k]) > 1,
				!c->scope && git_commit_parentcount(w->win[k]) == 1);
		w->start[k] = w->njobs;
		rc = collect_commit(c, w->win[k]);
		if (rc == VL_ENOMEM)
			return rc;
		w->listed[k] = rc == 0;
		if (rc < 0)
			w->njobs = w->start[k]; /* prepared inline if the walk gets there */
		w->end[k] = w->njobs;
	}
	return 0;
}

static void window_release(prep_window *w)
{
	size_t i;

	for (i = 0; i < w->nwin; i++)
		git_commit_free(w->win[i]);
	w->nwin = 0;
}

/*
 * Parallel mode: the commits of walk, oldest first, a window at a time.
 * While the threads prepare a window (its commits' signatures and its
 * records), this thread lists the next one; then it verifies the window's
 * commits in order, consuming what was prepared for each, while the
 * threads prepare the next. A commit whose records cannot be listed ahead
 * (an unreadable tree) has them prepared inline, so that its findings, or
 * the error, come as in serial mode.
 */
static int verify_windows(vctx *c, git_revwalk *walk)
{
	prep_window *cur, *next, *t;
	size_t i;
	int rc;

	if (!c->wins && !(c->wins = calloc(2, sizeof(*c->wins))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	cur = &c->wins[0];
	next = &c->wins[1];
	if ((rc = fill_window(c, cur, walk)) < 0 || !cur->nwin)
		goto out;
	cur->prepped = cur->njobs > PREP_BATCH_MAX ? PREP_BATCH_MAX : cur->njobs;
	if ((rc = pool_submit(c, cur, cur->nwin, 0, cur->prepped)) < 0)
		goto out;
	while (cur->nwin) {
		if ((rc = fill_window(c, next, walk)) < 0)
			goto out;
		pool_finish(c);
		if (next->nwin) {
			next->prepped = next->njobs > PREP_BATCH_MAX ? PREP_BATCH_MAX : next->njobs;
			if ((rc = pool_submit(c, next, next->nwin, 0, next->prepped)) < 0)
				goto out;
		}
		c->cur = cur;
		for (i = 0; i < cur->nwin; i++) {
			c->commit = git_commit_id(cur->win[i]);
			c->jobi = cur->start[i];
			c->jobend = cur->end[i];
			c->inline_prep = !cur->listed[i];
			rc = verify_commit(c, cur->win[i], &cur->cjobs[i]);
			c->inline_prep = 0;
			if (rc < 0)
				goto out;
			progress(c);
		}
		c->cur = NULL;
		window_release(cur);
		t = cur;
		cur = next;
		next = t;
	}
out:
	pool_finish(c);
	c->cur = NULL;
	return rc;
}

/* How many threads check records: res->threads, else VLEDGER_THREADS, else
 * 2 when this machine has two processors online. */
static unsigned verify_threads(const vl_verify_result *res)
{
	const char *env = getenv("VLEDGER_THREADS");
	unsigned long v;
	char *end = NULL;

	if (res->threads)
		return res->threads > VL_VERIFY_MAX_THREADS ? VL_VERIFY_MAX_THREADS : res->threads;
	if (env && env[0] >= '1' && env[0] <= '9') {
		v = strtoul(env, &end, 10);
		if (!*end)
			return v > VL_VERIFY_MAX_THREADS ? VL_VERIFY_MAX_THREADS : (unsigned)v;
	}
	return sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
}

static int verify_branch(const vl_view *v, vl_node *n, vl_verify_result *res, const char *refname,
		const git_oid *head, const git_oid *known, int64_t max_time, git_repository *home,
		pthread_mutex_t *merge_mu)
{
	vctx c;
	git_revwalk *walk = NULL;
	git_commit *commit = NULL;
	git_oid id;
	int rc;

	memset(&c, 0, sizeof(c));
	c.n = n;
	c.repo = v->repo;
	c.view = v;
	c.res = res;
	c.branch = !strncmp(refname, "refs/heads/", 11) ? refname + 11 : refname;
	c.scope = !strncmp(refname, VL_REF_SCOPE_PREFIX, strlen(VL_REF_SCOPE_PREFIX))
			? refname + strlen(VL_REF_SCOPE_PREFIX) : NULL;
	c.known = known;
	c.max_time = max_time;
	c.head = head;
	c.home = home;
	c.threads = verify_threads(res);
	c.merge_mu = merge_mu;
	if (home) /* under the write lock; nothing moves a branch until it returns */
		vl_idindex_hold(n);
	res->branches++;
	if (v->packs && (rc = vl_packread_scratch_new(&c.scratch)) < 0)
		goto out;
	if (c.scope && vl_division_level(c.scope) == VL_DIV_INVALID) {
		rc = fail(&c, "branch name is not scope/<12-digit code>");
		goto out;
	}
	/* Oldest first, so that chains are seen in order. */
	if ((rc = git_revwalk_new(&walk, v->repo)) < 0 ||
			(rc = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE)) < 0 ||
			(rc = git_revwalk_push(walk, head)) < 0 || (known && (rc = git_revwalk_hide(walk, known)) < 0)) {
		rc = vl_error_git(rc, "cannot walk history");
		goto out;
	}
	if (c.threads > 1) {
		rc = verify_windows(&c, walk);
		goto out;
	}
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		if ((rc = git_commit_lookup(&commit, v->repo, &id)) < 0) {
			rc = vl_error_git(rc, "cannot read a commit");
			goto out;
		}
		c.commit = git_commit_id(commit);
		rc = verify_commit(&c, commit, NULL);
		git_commit_free(commit);
		commit = NULL;
		if (rc < 0)
			goto out;
		progress(&c);
	}
	rc = rc == GIT_ITEROVER ? 0 : vl_error_git(rc, "cannot walk history");
out:
	if (home)
		vl_idindex_release(n);
	git_revwalk_free(walk);
	free(c.links);
	known_chains_free(&c);
	jobs_free(&c);
	vl_packread_scratch_free(c.scratch);
	vl_buf_free(&c.trailers);
	free(c.tlines);
	vl_oidset_free(&c.modes_ok);
	return rc;
}

/* For each revoked key: what its revocation pinned, and the window left. */
static int note_revocations(const vl_node *n, vl_verify_result *res)
{
	size_t i, k;
	int rc = 0;

	for (i = 0; rc == 0 && i < n->nentries; i++) {
		const vl_roster_entry *e = &n->entries[i];
		if (!e->revoked_at)
			continue;
		rc = vl_buf_printf(&res->revocations, "key %s (%s, %s) revoked at %s:", e->fp, e->role, e->scope,
				e->revoked_at);
		for (k = 0; rc == 0 && e->revoked_heads && k < e->revoked_heads->n; k++)
			rc = vl_buf_printf(&res->revocations, " %s pinned at %.12s;", e->revoked_heads->keys[k],
					e->revoked_heads->items[k]->s);
		if (rc == 0)
			rc = vl_buf_printf(&res->revocations, " %s writes dated before %s are accepted\n",
					e->revoked_heads && e->revoked_heads->n ? "on other branches" : "on every branch",
					e->revoked_at);
	}
	return rc;
}

/* One record file seen on a branch head. */
typedef struct {
	char id[VL_ULID_LEN + 1];
	char ledger[33];
	char scope[13];
} id_seen;

static int cmp_id_seen(const void *a, const void *b)
{
	return strcmp(((const id_seen *)a)->id, ((const id_seen *)b)->id);
}

/* Add the record ids of one branch head (names only, no blob is read). */
static int collect_ids(vl_node *n, git_repository *repo, const char *scope, const git_oid *head, id_seen **list,
		size_t *len, size_t *cap)
{
	git_commit *c = NULL;
	git_tree *root = NULL, *lt = NULL, *bt = NULL;
	size_t i, j, k;
	int rc;

	if ((rc = git_commit_lookup(&c, repo, head)) < 0 || (rc = git_commit_tree(&root, c)) < 0) {
		rc = vl_error_git(rc, "cannot read a branch head");
		goto out;
	}
	for (i = 0; i < git_tree_entrycount(root); i++) {
		const git_tree_entry *le = git_tree_entry_byindex(root, i);
		if (git_tree_entry_type(le) != GIT_OBJECT_TREE || !vl_node_schema(n, git_tree_entry_name(le)))
			continue;
		if ((rc = git_tree_lookup(&lt, repo, git_tree_entry_id(le))) < 0)
			goto git_fail;
		for (j = 0; j < git_tree_entrycount(lt); j++) {
			const git_tree_entry *be = git_tree_entry_byindex(lt, j);
			if (git_tree_entry_type(be) != GIT_OBJECT_TREE)
				continue;
			if ((rc = git_tree_lookup(&bt, repo, git_tree_entry_id(be))) < 0)
				goto git_fail;
			for (k = 0; k < git_tree_entrycount(bt); k++) {
				const char *name = git_tree_entry_name(git_tree_entry_byindex(bt, k));
				if (strlen(name) != VL_ULID_LEN + 5)
					continue;
				if (*len == *cap) {
					size_t nc = *cap ? *cap * 2 : 1024;
					id_seen *nl = realloc(*list, nc * sizeof(*nl));
					if (!nl) {
						rc = vl_error_set(VL_ENOMEM, "out of memory");
						goto out;
					}
					*list = nl;
					*cap = nc;
				}
				memcpy((*list)[*len].id, name, VL_ULID_LEN);
				(*list)[*len].id[VL_ULID_LEN] = '\0';
				snprintf((*list)[*len].ledger, sizeof((*list)[*len].ledger), "%s", git_tree_entry_name(le));
				snprintf((*list)[*len].scope, sizeof((*list)[*len].scope), "%s", scope);
				(*len)++;
			}
			git_tree_free(bt);
			bt = NULL;
		}
		git_tree_free(lt);
		lt = NULL;
	}
	rc = 0;
	goto out;
git_fail:
	rc = vl_error_git(rc, "cannot read a tree");
out:
	git_tree_free(bt);
	git_tree_free(lt);
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}

/* Report every id of list (len, sorted here) found at two places. */
static int report_dup_ids(vl_verify_result *res, id_seen *list, size_t len)
{
	size_t i;
	int rc = 0;

	if (len > 1)
		qsort(list, len, sizeof(*list), cmp_id_seen);
	for (i = 0; rc == 0 && i + 1 < len; i++) {
		if (strcmp(list[i].id, list[i + 1].id) != 0)
			continue;
		res->failures++;
		rc = vl_buf_printf(&res->report, "records -: record id %s is in two places, ledger %s on scope/%s "
				"and ledger %s on scope/%s; record ids are unique across ledgers and scopes\n",
				list[i].id, list[i].ledger, list[i].scope, list[i + 1].ledger, list[i + 1].scope);
	}
	return rc;
}

/* Does a scope branch named ref take part in the id check (a plain ref
 * named scope/<12 characters>)? */
static int ids_branch(const char *ref)
{
	return strlen(ref) == strlen(VL_REF_SCOPE_PREFIX) + 12;
}

/*
 * vl_verify_all's branches on several threads. Each thread takes the next
 * scope branch and verifies it whole, one commit and record at a time,
 * through a repository of its own and into a result of its own, then lists
 * its head's record ids; the config branch is verified on the calling
 * thread meanwhile. The results are joined in branch order, so counts,
 * report and the first error are what one thread gives. No thread waits
 * on another except to take a branch or replay a merge (merge_mu: a
 * replay runs on two threads of its own and runs hooks). With few
 * branches a branch's records are prepared on the threads instead
 * (verify_windows): a village's own branch holds most of its records, and
 * one thread on it would leave the other idle.
 */
#define BRANCH_PAR_MIN 8 /* res->branch_min's default */

typedef struct {
	char *ref;
	git_oid head;
	int symbolic;
	int rc;                 /* verify_branch's */
	vl_verify_result res;   /* this branch's counts and report */
	vl_buf why;             /* vl_error_last when rc < 0 */
	id_seen *ids;           /* its head's record ids (ids_branch) */
	size_t nids, capids;
	int ids_rc;             /* collect_ids's */
	vl_buf ids_why;
} branch_job;

typedef struct {
	vl_node *n;
	const vl_packset *packs; /* the node's, for direct reads, or NULL */
	branch_job *jobs;
	size_t njobs;
	size_t next;            /* the next job to take */
	int quit;               /* a job or the config branch failed: take no more */
	size_t done;
	pthread_mutex_t mu, merge_mu;
	FILE *progress;
} branch_pool;

/* Verify job j through repo, then list its record ids. */
static void branch_one(branch_pool *p, branch_job *j, git_repository *repo)
{
	const vl_view own = { repo, NULL, p->packs };

	if (j->symbolic)
		return;
	j->res.threads = 1;
	if ((j->rc = verify_branch(&own, p->n, &j->res, j->ref, &j->head, NULL, 0, NULL, &p->merge_mu)) < 0) {
		if (keep_why(&j->why) < 0)
			j->rc = VL_ENOMEM;
		return;
	}
	if (ids_branch(j->ref) && (j->ids_rc = collect_ids(p->n, repo, j->ref + strlen(VL_REF_SCOPE_PREFIX), &j->head,
			&j->ids, &j->nids, &j->capids)) < 0)
		if (keep_why(&j->ids_why) < 0)
			j->ids_rc = VL_ENOMEM;
}

/*
 * Take branches until none is left. Each is read through a repository
 * opened for it alone: libgit2's object cache, kept across a county's
 * branches, grew slower to probe as it evicted (libgit2 1.5 deletes
 * entries from its hash table and leaves them as tombstones), and cost 15%
 * more CPU than opening the packs again per branch.
 */
static void branch_run(branch_pool *p)
{
	const vl_view home = { p->n->repo, NULL, p->packs };

	for (;;) {
		git_repository *repo = NULL;
		branch_job *j;
		size_t i;

		pthread_mutex_lock(&p->mu);
		i = p->next;
		if (i >= p->njobs || p->quit) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		p->next++;
		pthread_mutex_unlock(&p->mu);
		j = &p->jobs[i];
		if (!j->symbolic) {
			if ((j->rc = own_repo(&repo, p->n, &home)) < 0) {
				if (keep_why(&j->why) < 0)
					j->rc = VL_ENOMEM;
			} else {
				branch_one(p, j, repo);
			}
			git_repository_free(repo);
		}
		pthread_mutex_lock(&p->mu);
		if (j->rc < 0)
			p->quit = 1;
		p->done++;
		if (p->progress)
			fprintf(p->progress, "\rverifying: %zu of %zu branches", p->done, p->njobs);
		pthread_mutex_unlock(&p->mu);
	}
}

static void *branch_worker(void *arg)
{
	branch_run(arg);
	return NULL;
}

/* Join job j's verification into res; its error, if it had one. */
static int branch_join(vl_verify_result *res, branch_job *j)
{
	int rc;

	if (j->symbolic) {
		res->failures++;
		return vl_buf_printf(&res->report, "%s: symbolic refs are not allowed\n", j->ref);
	}
	res->branches += j->res.branches;
	res->commits += j->res.commits;
	res->merges += j->res.merges;
	res->records += j->res.records;
	res->failures += j->res.failures;
	if (j->res.report.len && (rc = vl_buf_put(&res->report, j->res.report.ptr, j->res.report.len)) < 0)
		return rc;
	if (j->rc < 0)
		return vl_error_set(j->rc, "%s", j->why.ptr ? j->why.ptr : "");
	return 0;
}

/* The scope branches of n in the order the iterator gives them. */
static int branch_list(branch_pool *p)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	size_t cap = 0;
	int rc;

	if ((rc = git_reference_iterator_glob_new(&it, p->n->repo, VL_REF_SCOPE_PREFIX "*")) < 0)
		return vl_error_git(rc, "cannot list branches");
	while ((rc = git_reference_next(&ref, it)) == 0) {
		branch_job *j;
		if (p->njobs == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			branch_job *nj = realloc(p->jobs, ncap * sizeof(*nj));
			if (!nj) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			memset(nj + cap, 0, (ncap - cap) * sizeof(*nj));
			p->jobs = nj;
			cap = ncap;
		}
		j = &p->jobs[p->njobs];
		if (!(j->ref = strdup(git_reference_name(ref)))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		p->njobs++;
		if (git_reference_target(ref))
			git_oid_cpy(&j->head, git_reference_target(ref));
		else
			j->symbolic = 1;
		git_reference_free(ref);
		ref = NULL;
	}
	rc = rc == GIT_ITEROVER ? 0 : vl_error_git(rc, "cannot list branches");
out:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return rc;
}

static void branch_pool_free(branch_pool *p)
{
	size_t i;

	for (i = 0; i < p->njobs; i++) {
		free(p->jobs[i].ref);
		vl_verify_result_free(&p->jobs[i].res);
		vl_buf_free(&p->jobs[i].why);
		free(p->jobs[i].ids);
		vl_buf_free(&p->jobs[i].ids_why);
	}
	free(p->jobs);
}

/* The config branch (head), then the scope branches, then the ids: one
 * after the other, each branch's records prepared on the threads. */
static int verify_serial(vl_node *n, vl_verify_result *res, const git_oid *head, branch_pool *p)
{
	const vl_view home = { n->repo, NULL, p->packs };
	id_seen *list = NULL;
	size_t len = 0, cap = 0, i;
	int rc;

	if ((rc = verify_branch(&home, n, res, VL_REF_CONFIG, head, NULL, 0, NULL, NULL)) < 0)
		return rc;
	for (i = 0; i < p->njobs; i++) {
		branch_job *j = &p->jobs[i];
		if (j->symbolic)
			rc = branch_join(res, j);
		else
			rc = verify_branch(&home, n, res, j->ref, &j->head, NULL, 0, NULL, NULL);
		if (rc < 0)
			goto out;
	}
	for (i = 0; i < p->njobs; i++)
		if (!p->jobs[i].symbolic && ids_branch(p->jobs[i].ref) &&
				(rc = collect_ids(n, n->repo, p->jobs[i].ref + strlen(VL_REF_SCOPE_PREFIX), &p->jobs[i].head,
						&list, &len, &cap)) < 0)
			goto out;
	rc = report_dup_ids(res, list, len);
out:
	free(list);
	return rc;
}

/* The same, the scope branches shared by `threads` threads while this one
 * verifies the config branch and then takes scope branches too. */
static int verify_parallel(vl_node *n, vl_verify_result *res, const git_oid *head, branch_pool *p,
		unsigned threads)
{
	const vl_view home = { n->repo, NULL, p->packs };
	pthread_t th[VL_VERIFY_MAX_THREADS];
	id_seen *list = NULL;
	size_t nth = 0, len = 0, i;
	unsigned keep = res->threads;
	FILE *progress = res->progress;
	vl_buf why = VL_BUF_INIT;
	int rc;

	p->progress = res->progress;
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->merge_mu, NULL);
	for (; nth + 1 < threads; nth++)
		if (pthread_create(&th[nth], NULL, branch_worker, p) != 0)
			break; /* fewer threads: this one takes what is left */
	res->threads = 1;
	res->progress = NULL; /* the branch count is the progress */
	rc = verify_branch(&home, n, res, VL_REF_CONFIG, head, NULL, 0, NULL, NULL);
	res->threads = keep;
	res->progress = progress;
	if (rc < 0) {
		pthread_mutex_lock(&p->mu);
		p->quit = 1;
		pthread_mutex_unlock(&p->mu);
		if (keep_why(&why) < 0)
			rc = VL_ENOMEM;
	} else {
		branch_run(p);
	}
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->merge_mu);
	if (rc < 0) {
		rc = vl_error_set(rc, "%s", why.ptr ? why.ptr : "");
		vl_buf_free(&why);
		return rc;
	}
	for (i = 0; i < p->njobs; i++)
		if ((rc = branch_join(res, &p->jobs[i])) < 0)
			return rc;
	for (i = 0; i < p->njobs; i++) {
		if (p->jobs[i].ids_rc < 0)
			return vl_error_set(p->jobs[i].ids_rc, "%s", p->jobs[i].ids_why.ptr ? p->jobs[i].ids_why.ptr : "");
		len += p->jobs[i].nids;
	}
	if (len && !(list = malloc(len * sizeof(*list))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (len = 0, i = 0; i < p->njobs; i++) {
		if (p->jobs[i].nids)
			memcpy(list + len, p->jobs[i].ids, p->jobs[i].nids * sizeof(*list));
		len += p->jobs[i].nids;
	}
	rc = report_dup_ids(res, list, len);
	free(list);
	return rc;
}

/* Every record blob is read once: through our own reader of the node's
 * packs when it is stored whole there (packread.h), which saves libgit2's
 * second lookup, allocation, copy and collision-detecting hash per blob. */
static int open_packs(vl_packset **out, vl_node *n)
{
	vl_buf objects = VL_BUF_INIT;
	int rc;

	if ((rc = vl_buf_printf(&objects, "%sobjects", git_repository_path(n->repo))) == 0)
		rc = vl_packset_open(out, objects.ptr);
	vl_buf_free(&objects);
	return rc;
}

int vl_verify_all(vl_node *n, vl_verify_result *res)
{
	branch_pool p;
	vl_packset *packs = NULL;
	git_oid head;
	unsigned threads = verify_threads(res);
	int rc;

	memset(&p, 0, sizeof(p));
	p.n = n;
	if ((rc = open_packs(&packs, n)) < 0)
		goto out;
	p.packs = packs;
	if ((rc = vl_node_load_config(n)) < 0 || (rc = note_revocations(n, res)) < 0 ||
			(rc = vl_repo_head(&head, n->repo, VL_REF_CONFIG)) < 0 || (rc = branch_list(&p)) < 0)
		goto out;
	if (threads < 2 || p.njobs < (res->branch_min ? res->branch_min : BRANCH_PAR_MIN))
		rc = verify_serial(n, res, &head, &p);
	else
		rc = verify_parallel(n, res, &head, &p, threads);
out:
	if (res->progress)
		fprintf(res->progress, "\r\033[K");
	branch_pool_free(&p);
	vl_packset_free(packs);
	return rc;
}

int vl_new_id_cmp(const void *a, const void *b)
{
	return strcmp(((const vl_new_id *)a)->id, ((const vl_new_id *)b)->id);
}

void vl_verify_result_free(vl_verify_result *res)
{
	free(res->new_ids);
	res->new_ids = NULL;
	res->nnew_ids = 0;
	vl_buf_free(&res->report);
	vl_buf_free(&res->revocations);
	free(res->evidence);
	res->evidence = NULL;
	res->nevidence = 0;
}

int vl_verify_some(vl_node *n, const char *scope, const char *since, vl_verify_result *res)
{
	const vl_view home = VL_VIEW_OF(n);
	git_object *obj = NULL;
	git_oid head, known;
	char ref[64];
	int rc;

	if (!scope && !since)
		return vl_verify_all(n, res);
	if ((rc = vl_node_load_config(n)) < 0)
		return rc;
	if (since) {
		git_object *peeled = NULL;
		if ((rc = git_revparse_single(&obj, n->repo, since)) < 0)
			return vl_error_set(VL_ENOTFOUND, "'%s' names no commit here", since);
		rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
		git_object_free(obj);
		if (rc < 0)
			return vl_error_set(VL_EINVALID, "'%s' is not a commit", since);
		git_oid_cpy(&known, git_object_id(peeled));
		git_object_free(peeled);
	}
	if (!scope) {
		/* --since without --scope: the node's own branch. */
		scope = n->scope;
	}
	snprintf(ref, sizeof(ref), "%s%s", VL_REF_SCOPE_PREFIX, scope);
	if ((rc = vl_repo_head(&head, n->repo, ref)) < 0)
		return rc;
	/* No direct reads (open_packs): one branch of a county reads a few
	 * thousand records, fewer than opening every pack's index costs. */
	if ((rc = note_revocations(n, res)) < 0)
		return rc;
	return verify_branch(&home, n, res, ref, &head, since ? &known : NULL, 0, NULL, NULL);
}

int vl_verify_received(const vl_view *v, vl_node *n, const char *refname, const git_oid *head,
		const git_oid *known, vl_verify_result *res)
{
	int64_t now = (int64_t)(vl_hlc_wall_ms() / 1000);

	/* The view is a quarantine, which has objects but no refs: what this
	 * node holds is read from its own repository. */
	return verify_branch(v, n, res, refname, head, known, now + 24 * 3600, n->repo, NULL);
}

int vl_verify_evidence(const vl_view *v, vl_node *n, const char *scope, const git_oid *commit,
		vl_verify_result *res)
{
	vctx c;
	git_commit *gc = NULL;
	char branch[64];
	int rc;

	memset(&c, 0, sizeof(c));
	snprintf(branch, sizeof(branch), "evidence/%s", scope);
	c.n = n;
	c.repo = v->repo;
	c.view = v;
	c.res = res;
	c.branch = branch;
	c.scope = scope;
	c.no_chain = 1;
	c.max_time = (int64_t)(vl_hlc_wall_ms() / 1000) + 24 * 3600;
	if (vl_division_level(scope) == VL_DIV_INVALID)
		return fail(&c, "evidence names no scope");
	if ((rc = git_commit_lookup(&gc, v->repo, commit)) < 0)
		return vl_error_git(rc, "cannot read an evidence commit");
	c.commit = git_commit_id(gc);
	rc = verify_commit(&c, gc, NULL);
	git_commit_free(gc);
	vl_buf_free(&c.trailers);
	free(c.tlines);
	free(c.links);
	jobs_free(&c);
	vl_oidset_free(&c.modes_ok);
	return rc;
}
