/* repo.c - the bare repository, signed commits, CAS ref updates (see repo.h). */
#include "store/repo.h"
#include "store/limits.h"
#include "store/pack.h"
#include "store/yaml.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Largest commit or tree kept in libgit2's object cache (its default is
 * 4 KiB). */
#define VL_REPO_CACHE_OBJECT_MAX ((size_t)1 << 20)
#define VL_REPO_MWINDOW_SIZE ((size_t)32 << 20)   /* one mapped window of a pack */
#define VL_REPO_MWINDOW_LIMIT ((size_t)96 << 20)  /* all windows of the process */
#define VL_REPO_CACHE_MAX ((size_t)48 << 20)      /* parsed objects, per repository */

/* Caps on what one pack may hold; received data is verified by the trust
 * layer, this is a backstop against pack bombs (docs/threats.md). */

int vl_repo_global_init(void)
{
	static int done;
	int rc;

	if (done)
		return 0;
	if ((rc = git_libgit2_init()) < 0)
		return vl_error_git(rc, "cannot initialise libgit2");
	if ((rc = git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1)) < 0 ||
			(rc = git_libgit2_opts(GIT_OPT_SET_PACK_MAX_OBJECTS, (size_t)VL_PACK_MAX_OBJECTS)) < 0 ||
			(rc = git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 1)) < 0 ||
			(rc = git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1)) < 0 ||
			/* libgit2 caches commits and trees of at most 4 KiB: an
			 * import commit (a trailer per record), a ledger's tree and
			 * a large bucket are bigger, and were inflated and hashed
			 * again for every record read through them. */
			(rc = git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_COMMIT,
					(size_t)VL_REPO_CACHE_OBJECT_MAX)) < 0 ||
			(rc = git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE,
					(size_t)VL_REPO_CACHE_OBJECT_MAX)) < 0 ||
			/* Packs are mapped a window at a time (1 GiB windows and an
			 * 8 GiB ceiling by default): a county's verify mapped every
			 * pack whole in each thread's repository, and the pages it
			 * touched counted against its memory. */
			(rc = git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)VL_REPO_MWINDOW_SIZE)) < 0 ||
			(rc = git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)VL_REPO_MWINDOW_LIMIT)) < 0 ||
			/* Each repository handle (verify opens one per thread)
			 * caches up to this many bytes of parsed objects. */
			(rc = git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)VL_REPO_CACHE_MAX)) < 0)
		return vl_error_git(rc, "cannot set libgit2 options");
	done = 1;
	return 0;
}

int vl_repo_init(git_repository **out, const char *path)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	int rc;

	*out = NULL;
	if ((rc = vl_repo_global_init()) < 0)
		return rc;
	if (git_repository_open_bare(&repo, path) == 0) {
		git_repository_free(repo);
		return vl_error_set(VL_EEXISTS, "'%s' already holds a repository", path);
	}
	if ((rc = git_repository_init(&repo, path, 1)) < 0)
		return vl_error_git(rc, "cannot create the repository");
	/* Stock git tools on this repository should also fsync and check what
	 * they receive. */
	if ((rc = git_repository_config(&cfg, repo)) < 0 ||
			(rc = git_config_set_string(cfg, "core.fsync", "all")) < 0 ||
			(rc = git_config_set_bool(cfg, "transfer.fsckObjects", 1)) < 0 ||
			(rc = git_config_set_bool(cfg, "core.logAllRefUpdates", 1)) < 0) {
		rc = vl_error_git(rc, "cannot configure the repository");
		goto out;
	}
	*out = repo;
	repo = NULL;
out:
	git_config_free(cfg);
	git_repository_free(repo);
	return rc;
}

int vl_repo_open(git_repository **out, const char *path)
{
	int rc;

	*out = NULL;
	if ((rc = vl_repo_global_init()) < 0)
		return rc;
	if ((rc = git_repository_open_bare(out, path)) < 0)
		return vl_error_git(rc, "cannot open the repository");
	return 0;
}

int vl_repo_head(git_oid *out, git_repository *repo, const char *refname)
{
	git_reference *ref = NULL, *resolved = NULL;
	int rc;

	rc = git_reference_lookup(&ref, repo, refname);
	if (rc == GIT_ENOTFOUND)
		return vl_error_set(VL_ENOTFOUND, "no branch '%s'", refname);
	if (rc < 0)
		return vl_error_git(rc, "cannot read a ref");
	if ((rc = git_reference_resolve(&resolved, ref)) < 0) {
		rc = vl_error_git(rc, "cannot resolve a ref");
		goto out;
	}
	git_oid_cpy(out, git_reference_target(resolved));
out:
	git_reference_free(resolved);
	git_reference_free(ref);
	return rc;
}

/* libgit2 objects for a commit build; freed at one place. */
typedef struct {
	git_commit *parent;
	git_tree *base;
	git_tree *tree;
	git_tree_update *updates;
	git_signature *sig;
	git_buf payload;
	vl_buf blob;
	vl_buf armor;
} commit_build;

static void commit_build_free(commit_build *b)
{
	git_commit_free(b->parent);
	git_tree_free(b->base);
	git_tree_free(b->tree);
	free(b->updates);
	git_signature_free(b->sig);
	git_buf_dispose(&b->payload);
	vl_buf_free(&b->blob);
	vl_buf_free(&b->armor);
}

int vl_repo_commit(git_oid *out, git_repository *repo, const char *refname,
		const git_oid *expected, const vl_change *changes, size_t n,
		const char *message, const vl_ident *who, const vl_key *key)
{
	commit_build b = { 0 };
	vl_stage *stage = NULL, *writer = NULL;
	git_oid current, tree_id, commit_id, empty_tree;
	const git_commit *parents[1];
	size_t i, nparents = 0;
	int rc;

	/* A large commit (an import batch) lands in one pack, fsynced once,
	 * instead of one fsynced loose file per object. */
	if (n >= VL_REPO_PACK_MIN_CHANGES) {
		git_odb *odb = NULL;
		if ((rc = vl_stage_open(&stage, repo)) < 0)
			goto out;
		if ((rc = git_repository_odb(&odb, repo)) < 0) {
			rc = vl_error_git(rc, "cannot open the object database");
			goto out;
		}
		writer = vl_stage_writer(odb);
		git_odb_free(odb);
	}
	/* The CAS precondition, checked early for a clear message; the ref
	 * update below re-checks it atomically. */
	rc = vl_repo_head(&current, repo, refname);
	if (rc == VL_ENOTFOUND) {
		if (expected) {
			rc = vl_error_set(VL_ECONFLICT, "branch '%s' disappeared while we worked; try again", refname);
			goto out;
		}
	} else if (rc < 0) {
		goto out;
	} else if (!expected || !git_oid_equal(&current, expected)) {
		rc = vl_error_set(VL_ECONFLICT, "branch '%s' moved while we worked; try again", refname);
		goto out;
	}
	if (expected) {
		if ((rc = git_commit_lookup(&b.parent, repo, expected)) < 0 ||
				(rc = git_commit_tree(&b.base, b.parent)) < 0) {
			rc = vl_error_git(rc, "cannot read the branch head");
			goto out;
		}
		parents[0] = b.parent;
		nparents = 1;
	} else {
		/* git_tree_create_updated needs a base tree: the empty one. */
		git_treebuilder *tb = NULL;
		if ((rc = git_treebuilder_new(&tb, repo, NULL)) < 0 ||
				(rc = git_treebuilder_write(&empty_tree, tb)) < 0 ||
				(rc = git_tree_lookup(&b.base, repo, &empty_tree)) < 0) {
			git_treebuilder_free(tb);
			rc = vl_error_git(rc, "cannot write the empty tree");
			goto out;
		}
		git_treebuilder_free(tb);
	}
	b.updates = calloc(n ? n : 1, sizeof(*b.updates));
	if (!b.updates) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		b.updates[i].path = changes[i].path;
		if (changes[i].data) {
			/* Into the stage directly (the one libgit2 would write
			 * to: a caller's own stage comes first): libgit2's
			 * write looks the new blob up first and, missing it,
			 * rescans every pack directory, once per record. A blob
			 * the repository holds already is then written twice,
			 * which git allows. */
			if (writer && changes[i].id) {
				if ((rc = vl_stage_add_known(writer, changes[i].id, GIT_OBJECT_BLOB,
						changes[i].data, changes[i].len)) < 0)
					goto out;
				git_oid_cpy(&b.updates[i].id, changes[i].id);
			} else if (writer) {
				if ((rc = vl_stage_add(&b.updates[i].id, writer, GIT_OBJECT_BLOB,
						changes[i].data, changes[i].len)) < 0)
					goto out;
			} else if ((rc = git_blob_create_from_buffer(&b.updates[i].id, repo,
					changes[i].data, changes[i].len)) < 0) {
				rc = vl_error_git(rc, "cannot write a record");
				goto out;
			}
			b.updates[i].action = GIT_TREE_UPDATE_UPSERT;
			b.updates[i].filemode = GIT_FILEMODE_BLOB;
		} else {
			b.updates[i].action = GIT_TREE_UPDATE_REMOVE;
		}
	}
	if ((rc = git_tree_create_updated(&tree_id, repo, b.base, n, b.updates)) < 0) {
		rc = vl_error_git(rc, "cannot write the new tree");
		goto out;
	}
	if ((rc = git_tree_lookup(&b.tree, repo, &tree_id)) < 0 ||
			(rc = git_signature_new(&b.sig, who->name, who->email, who->time, 0)) < 0 ||
			(rc = git_commit_create_buffer(&b.payload, repo, b.sig, b.sig, NULL, message,
					b.tree, nparents, parents)) < 0) {
		rc = vl_error_git(rc, "cannot build the commit");
		goto out;
	}
	if ((rc = vl_sshsig_sign(&b.blob, key, VL_NS_GIT, b.payload.ptr, b.payload.size)) < 0 ||
			(rc = vl_sshsig_armor(&b.armor, b.blob.ptr, b.blob.len)) < 0)
		goto out;
	/* Without its final newline, so the object is the canonical one that
	 * `git commit -S` writes (docs/formats.md §5.1). */
	b.armor.ptr[--b.armor.len] = '\0';
	if ((rc = git_commit_create_with_signature(&commit_id, repo, b.payload.ptr, b.armor.ptr, NULL)) < 0) {
		rc = vl_error_git(rc, "cannot write the signed commit");
		goto out;
	}
	/* The pack is durable before the ref names what it holds. */
	if (stage && (rc = vl_stage_flush(NULL, stage, NULL, 1)) < 0)
		goto out;
	if ((rc = vl_repo_ref_cas(repo, refname, &commit_id, expected, "vledger commit", "try again")) < 0)
		goto out;
	git_oid_cpy(out, &commit_id);
	rc = 0;
out:
	vl_stage_close(stage);
	commit_build_free(&b);
	return rc;
}

int vl_repo_ref_cas(git_repository *repo, const char *refname, const git_oid *to, const git_oid *expected,
		const char *log, const char *again)
{
	git_reference *ref = NULL;
	int rc;

	rc = expected ? git_reference_create_matching(&ref, repo, refname, to, 1, expected, log)
		      : git_reference_create(&ref, repo, refname, to, 0, log);
	git_reference_free(ref);
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS)
		return vl_error_set(VL_ECONFLICT, "'%s' moved while we worked; %s", refname, again);
	if (rc < 0)
		return vl_error_git(rc, "cannot move the ref");
	return 0;
}

int vl_repo_read(vl_buf *out, git_oid *blob_out, git_repository *repo, const char *refname,
		const git_oid *commit, const char *path, size_t max)
{
	git_oid head;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	int rc;

	if (!commit) {
		if ((rc = vl_repo_head(&head, repo, refname)) < 0)
			return rc;
		commit = &head;
	}
	if ((rc = git_commit_lookup(&c, repo, commit)) < 0 || (rc = git_commit_tree(&tree, c)) < 0) {
		rc = vl_error_git(rc, "cannot read a commit");
		goto out;
	}
	rc = git_tree_entry_bypath(&e, tree, path);
	if (rc == GIT_ENOTFOUND) {
		rc = vl_error_set(VL_ENOTFOUND, "no '%s'", path);
		goto out;
	}
	if (rc < 0) {
		rc = vl_error_git(rc, "cannot read a tree");
		goto out;
	}
	if (git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB) {
		rc = vl_error_set(VL_EINVALID, "'%s' is not a regular file", path);
		goto out;
	}
	if ((rc = vl_repo_read_blob(out, repo, git_tree_entry_id(e), max, path)) < 0)
		goto out;
	if (blob_out)
		git_oid_cpy(blob_out, git_tree_entry_id(e));
	rc = 0;
out:
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

int vl_repo_read_blob(vl_buf *out, git_repository *repo, const git_oid *id, size_t max, const char *what)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_object_t type;
	size_t size;
	int rc;

	if ((rc = git_repository_odb(&odb, repo)) < 0) {
		rc = vl_error_git(rc, "cannot open the object database");
		goto out;
	}
	rc = git_odb_read_header(&size, &type, odb, id);
	if (rc == GIT_ENOTFOUND) {
		rc = vl_error_set(VL_ENOTFOUND, "%s %.12s is not in this repository", what, git_oid_tostr_s(id));
		goto out;
	}
	if (rc < 0) {
		rc = vl_error_git(rc, "cannot read an object header");
		goto out;
	}
	if (type != GIT_OBJECT_BLOB) {
		rc = vl_error_set(VL_ETOOBIG, "%s %.12s is not a file", what, git_oid_tostr_s(id));
		goto out;
	}
	if (size > max) {
		rc = vl_error_set(VL_ETOOBIG, "%s %.12s is %zu bytes, over the limit of %zu", what,
				git_oid_tostr_s(id), size, max);
		goto out;
	}
	if (out) {
		if ((rc = git_odb_read(&obj, odb, id)) < 0) {
			rc = vl_error_git(rc, "cannot read an object");
			goto out;
		}
		if ((rc = vl_buf_put(out, git_odb_object_data(obj), git_odb_object_size(obj))) < 0)
			goto out;
	}
	rc = 0;
out:
	git_odb_object_free(obj);
	git_odb_free(odb);
	return rc;
}

int vl_message_trailer(vl_buf *out, const char *message, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = message;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);
		if (llen > nlen + 2 && !strncmp(p, name, nlen) && p[nlen] == ':' && p[nlen + 1] == ' ')
			return vl_buf_put(out, p + nlen + 2, llen - nlen - 2);
		p = eol ? eol + 1 : NULL;
	}
	return VL_ENOTFOUND;
}

int vl_repo_key_chain(uint64_t *seq, git_oid *prev, git_repository *repo,
		const git_oid *head, const char *fp)
{
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	vl_buf email = VL_BUF_INIT, val = VL_BUF_INIT;
	git_oid id;
	int rc;

	*seq = 0;
	if ((rc = vl_buf_printf(&email, "%s@vledger", fp)) < 0)
		return rc;
	/* Usually the head is this key's own last commit: look there first,
	 * so that a run of local commits costs one read each. Otherwise walk
	 * in topological order (commit times have one-second resolution and
	 * tie within a run of commits). */
	if ((rc = git_commit_lookup(&c, repo, head)) < 0) {
		rc = vl_error_git(rc, "cannot read a commit");
		goto out;
	}
	if (git_commit_author(c)->email && strcmp(git_commit_author(c)->email, email.ptr) != 0) {
		git_commit_free(c);
		c = NULL;
	}
	if ((rc = git_revwalk_new(&walk, repo)) < 0 ||
			(rc = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME)) < 0 ||
			(rc = git_revwalk_push(walk, head)) < 0) {
		rc = vl_error_git(rc, "cannot walk history");
		goto out;
	}
	while (c || (rc = git_revwalk_next(&id, walk)) == 0) {
		const git_signature *a;
		if (c)
			git_oid_cpy(&id, head);
		else if ((rc = git_commit_lookup(&c, repo, &id)) < 0) {
			rc = vl_error_git(rc, "cannot read a commit");
			goto out;
		}
		a = git_commit_author(c);
		if (a && a->email && !strcmp(a->email, email.ptr)) {
			char *end;
			unsigned long long v;
			vl_buf_clear(&val);
			if ((rc = vl_message_trailer(&val, git_commit_message(c), "Vledger-Seq")) < 0) {
				if (rc == VL_ENOTFOUND)
					rc = vl_error_set(VL_EINVALID, "commit %.12s by %s has no Vledger-Seq trailer",
							git_oid_tostr_s(&id), fp);
				goto out;
			}
			v = strtoull(val.ptr, &end, 10);
			if (*end || v == 0 || val.ptr[0] == '0') {
				rc = vl_error_set(VL_EINVALID, "commit %.12s has a bad Vledger-Seq", git_oid_tostr_s(&id));
				goto out;
			}
			*seq = v;
			git_oid_cpy(prev, &id);
			rc = 0;
			goto out;
		}
		git_commit_free(c);
		c = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, "cannot walk history");
		goto out;
	}
	rc = 0;
out:
	git_commit_free(c);
	git_revwalk_free(walk);
	vl_buf_free(&email);
	vl_buf_free(&val);
	return rc;
}

int vl_repo_raw_commit(vl_buf *out, git_repository *repo, const git_oid *id)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	int rc;

	if ((rc = git_repository_odb(&odb, repo)) < 0 || (rc = git_odb_read(&obj, odb, id)) < 0) {
		rc = vl_error_git(rc, "cannot read a commit object");
		goto out;
	}
	if (git_odb_object_type(obj) != GIT_OBJECT_COMMIT) {
		rc = vl_error_set(VL_EINVALID, "%s is not a commit", git_oid_tostr_s(id));
		goto out;
	}
	rc = vl_buf_put(out, git_odb_object_data(obj), git_odb_object_size(obj));
out:
	git_odb_object_free(obj);
	git_odb_free(odb);
	return rc;
}

/* Length of the header keyword at p (up to the first space or newline). */
static size_t header_word(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q != ' ' && *q != '\n')
		q++;
	return (size_t)(q - p);
}

static int word_is(const char *p, size_t l, const char *w)
{
	return l == strlen(w) && !memcmp(p, w, l);
}

int vl_operator_check(const char *name, size_t len)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i;

	if (len == 0 || len > VL_OPERATOR_MAX)
		return vl_error_set(VL_EINVALID, "the operator name is %zu bytes; give 1 to %d bytes "
				"(about %d Chinese characters)", len, VL_OPERATOR_MAX, VL_OPERATOR_MAX / 3);
	if (!vl_utf8_valid_nfc(name, len))
		return vl_error_set(VL_EINVALID, "the operator name is not valid UTF-8 text in NFC; type it again");
	for (i = 0; i < len; i++)
		/* C0 and DEL; C1 (U+0080-009F) is encoded 0xC2 0x80-0x9F. */
		if (s[i] < 0x20 || s[i] == 0x7f || (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f))
			return vl_error_set(VL_EINVALID, "the operator name has a control character; "
					"give a plain name on one line");
	if (s[0] == ' ' || s[len - 1] == ' ')
		return vl_error_set(VL_EINVALID, "the operator name starts or ends with a space; remove it");
	return 0;
}

int vl_message_operator(char **out, const char *message)
{
	vl_buf v = VL_BUF_INIT;
	int found, valid, rc = VL_ENOTFOUND;

	*out = NULL;
	/* Absent is none; out of memory is an error, not "none". */
	if (message && (rc = vl_message_trailer(&v, message, "Vledger-Operator")) < 0 && rc != VL_ENOTFOUND) {
		vl_buf_free(&v);
		return rc;
	}
	found = rc == 0 && v.ptr;
	valid = found && vl_operator_check(v.ptr, v.len) == 0;
	vl_error_clear(); /* absent or invalid: shown as none, not an error */
	if (valid && !(*out = vl_buf_detach(&v, NULL))) {
		vl_buf_free(&v);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	vl_buf_free(&v);
	return 0;
}

/* Trailers that appear at most once, in this case: the key chain's, and
 * the operator's (a second or miscased one could show another name to a
 * reader that takes the last, or any case). */
static const char *const chain_trailers[] = { "Vledger-Seq", "Vledger-Prev", "Vledger-Operator" };

static int check_chain_trailers(const char *msg, const char *end)
{
	size_t seen[sizeof(chain_trailers) / sizeof(chain_trailers[0])] = { 0 };
	const char *p = msg;
	size_t k;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t llen = eol ? (size_t)(eol - p) : (size_t)(end - p);
		for (k = 0; k < sizeof(chain_trailers) / sizeof(chain_trailers[0]); k++) {
			size_t tl = strlen(chain_trailers[k]);
			if (llen < tl + 1 || p[tl] != ':' || strncasecmp(p, chain_trailers[k], tl) != 0)
				continue;
			if (memcmp(p, chain_trailers[k], tl) != 0)
				return vl_error_set(VL_EINVALID, "the commit message has a '%.*s' line; the trailer "
						"is written '%s' exactly", (int)tl, p, chain_trailers[k]);
			if (++seen[k] > 1)
				return vl_error_set(VL_EINVALID, "the commit message has the %s trailer twice",
						chain_trailers[k]);
			if (k == 2) {
				const char *v = p + tl + 1;
				size_t vl = llen - tl - 1;
				if (vl == 0 || *v != ' ')
					return vl_error_set(VL_EINVALID, "the commit's Vledger-Operator trailer has no value");
				if (vl_operator_check(v + 1, vl - 1) < 0)
					return vl_error_wrap(VL_EINVALID, "the commit's Vledger-Operator trailer");
			}
		}
		p = eol ? eol + 1 : end;
	}
	return 0;
}

int vl_commit_check_canonical(const char *raw, size_t len, int is_signed)
{
	static const char *const order[] = { "tree", "parent", "author", "committer", "gpgsig" };
	const size_t norder = sizeof(order) / sizeof(order[0]);
	const char *p = raw, *end = raw + len;
	size_t l, i, seen[5] = { 0 };
	int at = -1;

	while (p < end && *p != '\n') {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return vl_error_set(VL_EINVALID, "the commit has no message");
		if (*p == ' ') {
			/* A continuation line: only the signature has them. */
			if (at != 4)
				return vl_error_set(VL_EINVALID, "the commit has a continued header other than gpgsig");
			p = eol + 1;
			continue;
		}
		l = header_word(p, eol);
		for (i = 0; i < norder && !word_is(p, l, order[i]); i++)
			;
		if (i == norder || (i == 4 && !is_signed))
			return vl_error_set(VL_EINVALID, "the commit has a '%.*s' header; only tree, parent, "
					"author, committer%s belong there", (int)(l > 40 ? 40 : l), p,
					is_signed ? " and gpgsig" : "");
		if ((int)i < at || (at == -1 && i != 0))
			return vl_error_set(VL_EINVALID, "the commit's headers are not in the order tree, parent, "
					"author, committer%s", is_signed ? ", gpgsig" : "");
		if (++seen[i] > 1 && i != 1)
			return vl_error_set(VL_EINVALID, "the commit has the '%s' header twice", order[i]);
		at = (int)i;
		p = eol + 1;
	}
	if (p >= end)
		return vl_error_set(VL_EINVALID, "the commit has no message");
	if (!seen[0] || !seen[2] || !seen[3] || (is_signed && !seen[4]))
		return vl_error_set(VL_EINVALID, "the commit lacks one of the tree, author, committer%s headers",
				is_signed ? ", gpgsig" : "");
	return check_chain_trailers(p + 1, end);
}

int vl_tree_check_modes(const char *raw, size_t len)
{
	const char *p = raw, *end = raw + len;

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p)), *nul;
		if (!sp || !(nul = memchr(sp, '\0', (size_t)(end - sp))) || (size_t)(end - nul) < 1 + GIT_OID_RAWSZ)
			return vl_error_set(VL_EINVALID, "a tree object is malformed");
		if (*p == '0')
			return vl_error_set(VL_EINVALID, "tree entry '%.60s' has the zero-padded mode '%.*s'; git "
					"writes modes without padding", sp + 1, (int)(sp - p > 8 ? 8 : sp - p), p);
		p = nul + 1 + GIT_OID_RAWSZ;
	}
	return 0;
}
