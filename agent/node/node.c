/* node.c - node homes, config loading, signed commits (see node.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "agent/node/node.h"
#include "store/limits.h"

#include <dirent.h>
#include <git2/sys/odb_backend.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/node/confcache.h"
#include "agent/node/idindex.h"
#include "agent/node/passprompt.h"
#include "agent/node/roster.h"
#include "agent/node/tz.h"
#include "store/i18n.h"
#include "store/pack.h"
#include "store/repo.h"
#include "schemas/types.h"
#include "store/yaml.h"

char *vl_node_home_path(const char *dir)
{
	const char *env = getenv("VLEDGER_HOME");
	const char *home = getenv("HOME");
	vl_buf b = VL_BUF_INIT;

	if (dir && *dir)
		return strdup(dir);
	if (env && *env)
		return strdup(env);
	if (vl_buf_printf(&b, "%s/.local/share/vledger", home && *home ? home : ".") < 0)
		return NULL;
	return vl_buf_detach(&b, NULL);
}

int vl_read_passphrase(char **out, const char *path)
{
	vl_buf b = VL_BUF_INIT;
	char *nl;
	int rc;

	*out = NULL;
	if ((rc = vl_buf_read_file(&b, path, 4096)) < 0)
		return vl_error_wrap(rc, "cannot read the passphrase file");
	nl = b.ptr ? memchr(b.ptr, '\n', b.len) : NULL;
	if (nl)
		b.len = (size_t)(nl - b.ptr);
	if (b.len == 0) {
		vl_buf_free_secure(&b);
		return vl_error_set(VL_EINVALID, "passphrase file '%s' is empty", path);
	}
	b.ptr[b.len] = '\0';
	*out = vl_buf_detach(&b, NULL);
	return 0;
}

int vl_node_prompt_key(vl_key *out, const char *key_path)
{
	char *pass = NULL;
	int rc = 0, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if ((rc = vl_passphrase_prompt(&pass, attempt ? _("Wrong passphrase; try again: ") :
				_("Passphrase for this node's key: "))) < 0)
			return rc;
		rc = vl_key_load(out, key_path, pass);
		sodium_memzero(pass, strlen(pass));
		free(pass);
		pass = NULL;
		if (rc != VL_EDENIED)
			break;
	}
	return rc;
}

static const char *map_str(const vl_value *m, const char *key)
{
	const vl_value *v = vl_value_map_get(m, key);

	return v && v->kind == VL_V_STR ? v->s : NULL;
}

struct vl_config_lazy;
static void lazy_free(struct vl_config_lazy *z);

static int path_join(vl_buf *b, const char *home, const char *rel)
{
	vl_buf_clear(b);
	return vl_buf_printf(b, "%s/%s", home, rel);
}

int vl_node_open(vl_node **out, const char *home, int need_key, const char *passphrase_file)
{
	vl_node *n = NULL;
	vl_buf p = VL_BUF_INIT, pub = VL_BUF_INIT;
	vl_value *conf = NULL;
	char *pass = NULL;
	const char *s;
	int rc;

	*out = NULL;
	if ((rc = vl_crypto_init()) < 0 || (rc = vl_repo_global_init()) < 0)
		return rc;
	if ((n = calloc(1, sizeof(*n)))) {
		n->write_lock = -1;
		n->tz_min = VL_TZ_DEFAULT_MIN;
	}
	if (!n || !(n->home = strdup(home))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = path_join(&p, home, "node.yaml")) < 0)
		goto out;
	rc = vl_buf_read_file(&pub, p.ptr, VL_PUBKEY_FILE_MAX);
	if (rc == VL_ENOTFOUND) {
		rc = vl_error_set(VL_ENOTFOUND, "no vledger node at '%s'; run 'vledger init' first, "
				"or name the node with -C DIR or VLEDGER_HOME", home);
		goto out;
	}
	if (rc < 0 || (rc = vl_yaml_load(&conf, pub.ptr, pub.len, &vl_yaml_file_limits, p.ptr)) < 0)
		goto out;
	if (!map_str(conf, "name") || !map_str(conf, "role") || !(s = map_str(conf, "scope")) ||
			vl_division_level(s) == VL_DIV_INVALID || !map_str(conf, "network")) {
		rc = vl_error_set(VL_EINVALID, "'%s' lacks name, role, a valid scope or network", p.ptr);
		goto out;
	}
	n->name = strdup(map_str(conf, "name"));
	n->role = strdup(map_str(conf, "role"));
	n->network_id = strdup(map_str(conf, "network"));
	memcpy(n->scope, s, 13);
	if (!n->name || !n->role || !n->network_id) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	/* The operator: node.yaml's, unless the environment names one. A bad
	 * one stops only a node opened to write (to sign with it): reading
	 * commands, and 'operator set' which repairs it, still open. */
	if ((s = getenv("VLEDGER_OPERATOR")) && *s) {
		if ((rc = vl_node_set_operator(n, s)) < 0) {
			vl_error_wrap(rc, "VLEDGER_OPERATOR");
			if (need_key)
				goto out;
			vl_error_clear();
		}
	} else if (vl_value_map_get(conf, "operator")) {
		if (!(s = map_str(conf, "operator")))
			rc = vl_error_set(VL_EINVALID, "'operator' in '%s' is not text; set it again with "
					"'vledger operator set NAME'", p.ptr);
		else if ((rc = vl_node_set_operator(n, s)) < 0)
			vl_error_wrap(rc, "'%s' (set it again with 'vledger operator set NAME')", p.ptr);
		if (rc < 0 && need_key)
			goto out;
		vl_error_clear();
	}
	rc = 0;
	/* The public key is always there; the secret one only when asked. */
	vl_buf_clear(&pub);
	if ((rc = path_join(&p, home, "keys/node.pub")) < 0 ||
			(rc = vl_buf_read_file(&pub, p.ptr, 4096)) < 0 ||
			(rc = vl_pubkey_parse(n->key.pk, pub.ptr)) < 0) {
		vl_error_wrap(rc, "cannot read this node's public key");
		goto out;
	}
	vl_fingerprint(n->fp, n->key.pk);
	if (need_key) {
		if ((rc = path_join(&p, home, "keys/node.key")) < 0)
			goto out;
		if (!passphrase_file)
			passphrase_file = getenv("VLEDGER_PASSPHRASE_FILE");
		if (vl_key_is_sealed(p.ptr) == 1 && (!passphrase_file || !*passphrase_file) &&
				vl_passphrase_can_prompt()) {
			/* No file given, a person at a terminal: ask, twice at most. */
			if ((rc = vl_node_prompt_key(&n->key, p.ptr)) < 0)
				goto out;
		} else {
			if (vl_key_is_sealed(p.ptr) == 1) {
				if (!passphrase_file || !*passphrase_file) {
					rc = vl_error_set(VL_EDENIED, "the node key is sealed with a passphrase; "
							"give it with --passphrase-file FILE or VLEDGER_PASSPHRASE_FILE");
					goto out;
				}
				if ((rc = vl_read_passphrase(&pass, passphrase_file)) < 0)
					goto out;
			}
			if ((rc = vl_key_load(&n->key, p.ptr, pass)) < 0)
				goto out;
		}
		/* A node signs only with the key its public key (and so its
		 * roster entry) names: a commit by any other key would be
		 * refused by every peer, its own verify included. */
		n->have_key = 1;
		if ((rc = vl_node_check_key(n)) < 0)
			goto out;
	}
	if ((rc = path_join(&p, home, "repo.git")) < 0 || (rc = vl_repo_open(&n->repo, p.ptr)) < 0)
		goto out;
	if ((rc = path_join(&p, home, "clock")) < 0 || (rc = vl_hlc_load(&n->clock, p.ptr)) < 0)
		goto out;
	*out = n;
	n = NULL;
out:
	if (pass) {
		sodium_memzero(pass, strlen(pass));
		free(pass);
	}
	vl_value_free(conf);
	vl_buf_free(&p);
	vl_buf_free(&pub);
	vl_node_close(n);
	return rc;
}

void vl_schemas_free(vl_schema **s, size_t n)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		vl_schema_free(s[i]);
	free(s);
}

/*
 * Pack the refs (`git pack-refs --all`, libgit2's git_refdb_compress) when
 * more than VL_LOOSE_SCOPE_REFS_MAX scope branches are loose ref files:
 * every lookup by record id reads every scope head (the id index's check,
 * idindex.h), which costs a loose ref an open, a read, a close and two stats
 * (295 of them: 2 ms of a county's `vledger show`), a packed one a line of
 * packed-refs. The next writes leave a few loose again, up to the limit.
 * Under the write lock (no other vledger moves a ref); libgit2 writes
 * packed-refs whole through a lock file and removes only loose refs that
 * still hold what it packed. A reader that read the old packed-refs just
 * before a loose file went may miss that branch once, as with stock git's
 * pack-refs; the id index then catches up on its next lookup. Best effort.
 */
#define VL_LOOSE_SCOPE_REFS_MAX 64

static void pack_refs(const char *home)
{
	vl_buf p = VL_BUF_INIT;
	git_repository *repo = NULL;
	git_refdb *db = NULL;
	DIR *d = NULL;
	struct dirent *e;
	size_t loose = 0;

	if (vl_buf_printf(&p, "%s/repo.git/" VL_REF_SCOPE_PREFIX, home) < 0 || !(d = opendir(p.ptr)))
		goto out;
	while ((e = readdir(d)) && loose <= VL_LOOSE_SCOPE_REFS_MAX)
		if (e->d_name[0] != '.')
			loose++;
	if (loose <= VL_LOOSE_SCOPE_REFS_MAX)
		goto out;
	vl_buf_clear(&p);
	if (vl_buf_printf(&p, "%s/repo.git", home) < 0 || git_repository_open_bare(&repo, p.ptr) < 0 ||
			git_repository_refdb(&db, repo) < 0 || git_refdb_compress(db) < 0)
		git_error_clear();
out:
	if (d)
		closedir(d);
	git_refdb_free(db);
	git_repository_free(repo);
	vl_buf_free(&p);
}

/* As `git gc --auto` after a write (store/pack.h vl_pack_auto): under the
 * write lock, with the repository handle freed. Best effort: it loses
 * nothing when it fails (the next writer tries again), and the caller's
 * error message stays. */
static void auto_maintain(const vl_node *n)
{
	vl_pack_auto_opts opts = VL_PACK_AUTO_OPTS_INIT;
	vl_buf objects = VL_BUF_INIT, saved = VL_BUF_INIT;
	git_config *cfg = NULL;
	int64_t v;
	int code = vl_error_code();

	if (!n->home || vl_buf_puts(&saved, vl_error_last()) < 0 ||
			vl_buf_printf(&objects, "%s/repo.git/config", n->home) < 0)
		goto out;
	pack_refs(n->home);
	/* git's own settings, as stock git reads them (0 turns a step off). */
	if (git_config_open_ondisk(&cfg, objects.ptr) == 0) {
		if (git_config_get_int64(&v, cfg, "gc.auto") == 0 && v >= 0)
			opts.loose_limit = (size_t)v;
		if (git_config_get_int64(&v, cfg, "gc.autoPackLimit") == 0 && v >= 0)
			opts.pack_limit = (size_t)v;
	}
	vl_buf_clear(&objects);
	if (vl_buf_printf(&objects, "%s/repo.git/objects", n->home) < 0)
		goto out;
	if (vl_pack_auto(NULL, objects.ptr, &opts) < 0) {
		if (code)
			vl_error_set(code, "%s", saved.ptr ? saved.ptr : "");
		else
			vl_error_clear();
	}
out:
	git_config_free(cfg);
	vl_buf_free(&objects);
	vl_buf_free(&saved);
}

int vl_node_head_follow(git_repository *repo, const char *scope)
{
	git_reference *head = NULL, *ref = NULL;
	char want[64];
	git_oid id;
	int rc;

	if ((size_t)snprintf(want, sizeof(want), VL_REF_SCOPE_PREFIX "%s", scope) >= sizeof(want))
		return vl_error_set(VL_EINVALID, "scope '%s' is not a 12-digit division code", scope);
	if (git_reference_name_to_id(&id, repo, want) < 0 && git_reference_name_to_id(&id, repo, VL_REF_CONFIG) == 0)
		snprintf(want, sizeof(want), "%s", VL_REF_CONFIG);
	git_error_clear();
	if (git_reference_lookup(&head, repo, "HEAD") == 0 && git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
			!strcmp(git_reference_symbolic_target(head), want)) {
		rc = 0;
		goto out;
	}
	if ((rc = git_reference_symbolic_create(&ref, repo, "HEAD", want, 1, "vledger: HEAD follows the node's branch")) < 0)
		rc = vl_error_git(rc, "cannot point HEAD at the node's branch");
out:
	git_reference_free(head);
	git_reference_free(ref);
	return rc;
}

void vl_node_close(vl_node *n)
{
	if (!n)
		return;
	vl_key_wipe(&n->key);
	/* After a write session, HEAD follows the branches that now exist. */
	if (n->write_lock >= 0 && n->repo && vl_node_head_follow(n->repo, n->scope) < 0)
		vl_error_clear();
	git_repository_free(n->repo);
	if (n->write_lock >= 0) {
		auto_maintain(n);
		close(n->write_lock); /* releases the write lock */
	}
	vl_value_free(n->network);
	vl_value_free(n->roster);
	free(n->entries);
	vl_schemas_free(n->schemas, n->nschemas);
	lazy_free(n->lazy);
	vl_idindex_free(n->idindex);
	free(n->home);
	free(n->name);
	free(n->role);
	free(n->network_id);
	free(n->operator_name);
	free(n);
}

/* nftw callback: remove ref lock files (only called under the write lock). */
static int rm_stale_lock(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	size_t len = strlen(path);

	(void)ftw;
	if (flag == FTW_F && S_ISREG(st->st_mode) && len > 5 && !strcmp(path + len - 5, ".lock"))
		(void)unlink(path);
	return 0;
}

int vl_node_lock_write(vl_node *n)
{
	vl_buf p = VL_BUF_INIT;
	struct flock fl;
	int fd = -1, rc;

	if (n->write_lock >= 0)
		return 0;
	if ((rc = path_join(&p, n->home, "lock")) < 0)
		goto out;
	if ((fd = open(p.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		rc = vl_error_set(VL_ERROR, "cannot open '%s': %s", p.ptr, strerror(errno));
		goto out;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		rc = errno == EACCES || errno == EAGAIN
			? vl_error_set(VL_ECONFLICT, "another vledger process is writing to this node ('%s'); "
					"try again when it is done", n->home)
			: vl_error_set(VL_ERROR, "cannot lock '%s': %s", p.ptr, strerror(errno));
		goto out;
	}
	/* No other vledger writes here now: ref locks left behind are stale. */
	vl_buf_clear(&p);
	if ((rc = path_join(&p, n->home, "repo.git/refs")) < 0)
		goto out;
	(void)nftw(p.ptr, rm_stale_lock, 16, FTW_PHYS);
	vl_buf_clear(&p);
	if ((rc = path_join(&p, n->home, "repo.git/packed-refs.lock")) < 0)
		goto out;
	(void)unlink(p.ptr);
	n->write_lock = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	vl_buf_free(&p);
	return rc;
}

int vl_node_tick(vl_node *n, char out[VL_HLC_TEXT_LEN + 1])
{
	vl_buf p = VL_BUF_INIT;
	vl_hlc next = n->clock;
	int rc;

	if ((rc = vl_node_lock_write(n)) < 0)
		return rc;
	vl_hlc_tick(&next, vl_hlc_wall_ms());
	if ((rc = path_join(&p, n->home, "clock")) < 0 || (rc = vl_hlc_save(&next, p.ptr)) < 0)
		goto out;
	n->clock = next;
	vl_hlc_format(out, &next);
out:
	vl_buf_free(&p);
	return rc;
}

int vl_roster_time_ms(const char *t, uint64_t *ms)
{
	char text[VL_HLC_TEXT_LEN + 1];
	vl_hlc h;

	if (!t || strlen(t) < 20)
		return -1;
	snprintf(text, sizeof(text), "%.19s.000Z/0000", t);
	if (vl_hlc_parse(&h, text) < 0)
		return -1;
	*ms = h.ms;
	return 0;
}

int vl_roster_predates(const vl_roster_entry *e, uint64_t write_ms)
{
	uint64_t from;

	if (!e || vl_roster_time_ms(e->valid_from, &from) < 0)
		return 0;
	return write_ms + VL_VALID_FROM_SKEW_MS < from;
}

void vl_node_tick_mem(vl_node *n, char out[VL_HLC_TEXT_LEN + 1])
{
	vl_hlc_tick(&n->clock, vl_hlc_wall_ms());
	vl_hlc_format(out, &n->clock);
}

int vl_node_clock_save(vl_node *n)
{
	vl_buf p = VL_BUF_INIT;
	int rc;

	if ((rc = vl_node_lock_write(n)) == 0 && (rc = path_join(&p, n->home, "clock")) == 0)
		rc = vl_hlc_save(&n->clock, p.ptr);
	vl_buf_free(&p);
	return rc;
}

/* The lazy part of a config (node.h, config_lazy). */
struct vl_config_lazy {
	vl_confcache names;   /* file and ledger of each schema, tree order */
	vl_schema **slot;     /* names.n: parsed on first use, else NULL; owned */
	git_oid schemas_tree; /* schemas/ of the config commit */
	/* vl_node_load_config_names: roster.yaml not parsed yet (n->roster and
	 * n->entries empty); roster_blob is its blob in the config commit */
	int roster_deferred;
	git_oid roster_blob;
};

static void lazy_free(struct vl_config_lazy *z)
{
	if (!z)
		return;
	vl_schemas_free(z->slot, z->names.n);
	vl_confcache_free(&z->names);
	free(z);
}

/* Parse the schema blob of tree entry se: a full load's one error. */
static int load_schema_entry(vl_schema **out, git_repository *repo, const git_tree_entry *se, vl_buf *diag)
{
	git_blob *blob = NULL;
	char src[256];
	int rc;

	if ((rc = git_blob_lookup(&blob, repo, git_tree_entry_id(se))) < 0)
		return vl_error_git(rc, "config: cannot read a schema");
	snprintf(src, sizeof(src), "config:schemas/%s", git_tree_entry_name(se));
	vl_buf_clear(diag);
	rc = vl_schema_load(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), src, diag);
	git_blob_free(blob);
	if (rc < 0)
		vl_error_set(rc, "%s", diag->len ? diag->ptr : vl_error_last());
	return rc;
}

/*
 * Load every YAML blob under schemas/ in the config tree into n->schemas
 * (set only on success). reuse: a lazy config of this same tree, whose
 * parsed schemas are taken instead of parsed again (their pointers stay
 * valid). save: write the config cache for this tree on success, with
 * roster_canonical (vl_yaml_load_how) for its roster.yaml.
 */
static int load_config_schemas(vl_node *n, git_repository *repo, git_tree *root, struct vl_config_lazy *reuse,
		int save, int roster_canonical)
{
	const git_tree_entry *e;
	git_tree *dir = NULL;
	vl_schema **list = NULL;
	size_t *from = NULL;
	const char **files = NULL, **ledgers = NULL;
	vl_buf diag = VL_BUF_INIT;
	size_t i, j, count, k = 0;
	int rc;

	e = git_tree_entry_byname(root, "schemas");
	if (!e || git_tree_entry_type(e) != GIT_OBJECT_TREE)
		return vl_error_set(VL_EINVALID, "config: there is no schemas/ directory");
	if ((rc = git_tree_lookup(&dir, repo, git_tree_entry_id(e))) < 0)
		return vl_error_git(rc, "config: cannot read schemas/");
	count = git_tree_entrycount(dir);
	/* from[k]: the reuse slot list[k] came from + 1, or 0 when parsed here. */
	if (!(list = calloc(count ? count : 1, sizeof(*list))) || !(from = calloc(count ? count : 1, sizeof(*from))) ||
			!(files = calloc(count ? count : 1, sizeof(*files))) ||
			!(ledgers = calloc(count ? count : 1, sizeof(*ledgers)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < count; i++) {
		const git_tree_entry *se = git_tree_entry_byindex(dir, i);
		if (git_tree_entry_type(se) != GIT_OBJECT_BLOB)
			continue;
		for (j = 0; reuse && j < reuse->names.n; j++)
			if (reuse->slot[j] && !strcmp(reuse->names.file[j], git_tree_entry_name(se))) {
				list[k] = reuse->slot[j];
				from[k] = j + 1;
				break;
			}
		if (!list[k] && (rc = load_schema_entry(&list[k], repo, se, &diag)) < 0)
			goto out;
		files[k] = git_tree_entry_name(se); /* borrowed from dir */
		ledgers[k] = list[k]->name;
		k++;
	}
	if (save)
		vl_confcache_save(n->home, git_tree_id(root), roster_canonical, files, ledgers, k);
	/* Taken: the slots give their schemas up to n->schemas. */
	for (i = 0; i < k; i++)
		if (from[i])
			reuse->slot[from[i] - 1] = NULL;
	n->schemas = list;
	n->nschemas = k;
	list = NULL;
	rc = 0;
out:
	for (i = 0; list && from && i < count; i++)
		if (!from[i])
			vl_schema_free(list[i]);
	free(list);
	free(from);
	free(files);
	free(ledgers);
	vl_buf_free(&diag);
	git_tree_free(dir);
	return rc;
}

/*
 * Read roster.yaml of config commit head through repo into n->roster and
 * index it into n->entries, which borrow from that tree (the one rule of
 * roster.c: fields, times, revocation pins). trusted: the config cache says these bytes
 * passed the canonical proof in this binary (the canonical reader alone
 * then gives the same tree); *canon (may be NULL) tells which reader did.
 * On failure n->roster and n->entries are as they were.
 */
static int load_roster(vl_node *n, git_repository *repo, const git_oid *head, int trusted, int *canon)
{
	vl_buf b = VL_BUF_INIT;
	vl_yaml_limits lim = vl_yaml_file_limits;
	vl_value *doc = NULL;
	vl_roster_entry *entries = NULL;
	size_t nentries = 0;
	int rc, how = 0;

	lim.max_bytes = VL_ROSTER_FILE_MAX;
	lim.max_nodes = VL_ROSTER_MAX_NODES;
	if ((rc = vl_repo_read(&b, NULL, repo, NULL, head, "roster.yaml", VL_ROSTER_FILE_MAX)) < 0)
		goto out;
	if (trusted && vl_yaml_load_canonical(&doc, b.ptr, b.len, &lim) == 0)
		how = 1;
	else if ((rc = vl_yaml_load_how(&doc, &how, b.ptr, b.len, &lim, "config:roster.yaml")) < 0)
		goto out;
	if ((rc = vl_roster_index(&entries, &nentries, doc)) < 0) {
		rc = vl_error_wrap(rc, "config: roster.yaml");
		goto out;
	}
	vl_value_free(n->roster);
	free(n->entries);
	n->roster = doc;
	n->entries = entries;
	n->nentries = nentries;
	doc = NULL;
	if (canon)
		*canon = how;
	rc = 0;
out:
	vl_value_free(doc);
	vl_buf_free(&b);
	return rc;
}

/* Load the config of commit `at` through repo: all of it, or (lazy, the
 * node's own repository, a config cache for its tree) all but the schemas,
 * the roster without the canonical proof when the cache says it passed;
 * lazy 2 (vl_node_load_config_names) leaves the roster unparsed then. */
static int load_config(vl_node *n, git_repository *repo, const git_oid *at, int lazy)
{
	vl_buf b = VL_BUF_INIT;
	vl_confcache names = { 0, 0, NULL, NULL };
	git_oid head;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	const git_tree_entry *re = NULL, *se = NULL;
	int rc, hit = 0, canon = 0, defer = 0;

	git_oid_cpy(&head, at);
	/* Lazy: the cache of this tree, if any (a head that cannot be read
	 * loads the whole way, which says so where it always did). */
	if (lazy && repo == n->repo && git_commit_lookup(&c, repo, &head) == 0) {
		if (git_commit_tree(&tree, c) < 0) {
			git_commit_free(c);
			c = NULL;
		} else if ((rc = vl_confcache_load(&names, n->home, git_tree_id(tree))) == VL_ENOMEM) {
			goto out;
		} else {
			hit = rc == 0;
		}
	}
	git_error_clear();
	if ((rc = vl_repo_read(&b, NULL, repo, NULL, &head, "network.yaml", VL_NETWORK_FILE_MAX)) < 0 ||
			(rc = vl_yaml_load(&n->network, b.ptr, b.len, &vl_yaml_file_limits, "config:network.yaml")) < 0)
		goto out;
	{
		/* Optional; a network.yaml from before the key shows Asia/Shanghai. */
		const vl_value *tz = vl_value_map_get(n->network, "timezone");
		n->tz_min = VL_TZ_DEFAULT_MIN;
		if (tz && (rc = vl_tz_parse(&n->tz_min, tz->kind == VL_V_STR ? tz->s : NULL)) < 0)
			goto out;
	}
	/* Names only (lazy 2): a tree the cache vouches for, whose roster.yaml
	 * is a blob, is not parsed now (vl_node_roster_name reads one entry). */
	if (hit && lazy == 2 && (re = git_tree_entry_byname(tree, "roster.yaml")) &&
			git_tree_entry_type(re) == GIT_OBJECT_BLOB && (se = git_tree_entry_byname(tree, "schemas")) &&
			git_tree_entry_type(se) == GIT_OBJECT_TREE)
		defer = 1;
	/* Else these bytes passed the proof in this binary's full load of
	 * this tree (when the cache says so): the canonical reader alone
	 * gives the same tree. */
	if (!defer && (rc = load_roster(n, repo, &head, hit && names.roster_canonical, &canon)) < 0)
		goto out;
	if (!tree && ((rc = git_commit_lookup(&c, repo, &head)) < 0 || (rc = git_commit_tree(&tree, c)) < 0)) {
		rc = vl_error_git(rc, "config: cannot read the head");
		goto out;
	}
	if (hit) {
		const git_tree_entry *e = git_tree_entry_byname(tree, "schemas");
		if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			if (!(n->lazy = calloc(1, sizeof(*n->lazy))) ||
					!(n->lazy->slot = calloc(names.n ? names.n : 1, sizeof(*n->lazy->slot)))) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			n->lazy->names = names;
			memset(&names, 0, sizeof(names));
			git_oid_cpy(&n->lazy->schemas_tree, git_tree_entry_id(e));
			if (defer) {
				n->lazy->roster_deferred = 1;
				git_oid_cpy(&n->lazy->roster_blob, git_tree_entry_id(re));
			}
			git_oid_cpy(&n->config_commit, &head);
			n->config_lazy = 1;
			rc = 0;
			goto out;
		}
	}
	if ((rc = load_config_schemas(n, repo, tree, NULL, repo == n->repo, canon)) < 0)
		goto out;
	git_oid_cpy(&n->config_commit, &head);
	n->config_loaded = 1;
out:
	if (rc < 0) {
		/* No half-loaded config: a later call starts clean. */
		vl_value_free(n->network);
		vl_value_free(n->roster);
		free(n->entries);
		vl_schemas_free(n->schemas, n->nschemas);
		lazy_free(n->lazy);
		n->network = n->roster = NULL;
		n->entries = NULL;
		n->nentries = 0;
		n->schemas = NULL;
		n->nschemas = 0;
		n->lazy = NULL;
	}
	vl_confcache_free(&names);
	git_tree_free(tree);
	git_commit_free(c);
	vl_buf_free(&b);
	return rc;
}

/* The roster a names-only load left unparsed, from the same config commit. */
static int roster_complete(vl_node *n)
{
	int rc = load_roster(n, n->repo, &n->config_commit, n->lazy->names.roster_canonical, NULL);

	if (rc == 0)
		n->lazy->roster_deferred = 0;
	return rc;
}

/* A lazy config made whole: the roster and the schemas not parsed yet,
 * from the same config commit; on failure it stays as it was. */
static int complete_lazy(vl_node *n)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	int rc;

	if ((rc = git_commit_lookup(&c, n->repo, &n->config_commit)) < 0 || (rc = git_commit_tree(&tree, c)) < 0) {
		rc = vl_error_git(rc, "config: cannot read the head");
		goto out;
	}
	if (n->lazy->roster_deferred && (rc = roster_complete(n)) < 0)
		goto out;
	if ((rc = load_config_schemas(n, n->repo, tree, n->lazy, 0, 0)) < 0)
		goto out;
	/* n->lazy stays until the config is dropped: a slot that was not
	 * taken may still be pointed to. */
	n->config_loaded = 1;
	n->config_lazy = 0;
out:
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

static int config_head(git_oid *head, vl_node *n)
{
	int rc = vl_repo_head(head, n->repo, VL_REF_CONFIG);

	if (rc == VL_ENOTFOUND)
		return vl_error_set(VL_ENOTFOUND, "this node has no network config yet; a county node "
				"creates it with 'vledger init --new-network', others fetch it with 'vledger fetch'");
	return rc;
}

int vl_node_load_config(vl_node *n)
{
	git_oid head;
	int rc;

	if (n->config_loaded)
		return 0;
	if (n->config_lazy)
		return complete_lazy(n);
	if ((rc = config_head(&head, n)) < 0)
		return rc;
	return load_config(n, n->repo, &head, 0);
}

/* The config at the head in load_config's mode `lazy`, unless some is
 * loaded already. */
static int load_config_head(vl_node *n, int lazy)
{
	git_oid head;
	int rc;

	if (n->config_loaded || n->config_lazy)
		return 0;
	if ((rc = config_head(&head, n)) < 0)
		return rc;
	return load_config(n, n->repo, &head, lazy);
}

int vl_node_load_config_lazy(vl_node *n)
{
	return load_config_head(n, 1);
}

int vl_node_load_config_names(vl_node *n)
{
	return load_config_head(n, 2);
}

static void unload_config(vl_node *n)
{
	vl_value_free(n->network);
	vl_value_free(n->roster);
	free(n->entries);
	vl_schemas_free(n->schemas, n->nschemas);
	lazy_free(n->lazy);
	n->network = n->roster = NULL;
	n->entries = NULL;
	n->nentries = 0;
	n->schemas = NULL;
	n->nschemas = 0;
	n->lazy = NULL;
	n->config_loaded = 0;
	n->config_lazy = 0;
}

int vl_node_load_config_at(vl_node *n, git_repository *repo, const git_oid *head)
{
	unload_config(n);
	return load_config(n, repo, head, 0);
}

int vl_node_reload_config(vl_node *n)
{
	unload_config(n);
	return vl_node_load_config(n);
}

/*
 * Parse slot j of a lazy config: its file under the config commit's
 * schemas/, which must name the ledger the cache says. VL_ECONFLICT when it
 * does not (a cache that is wrong: it is removed, and the caller loads the
 * whole config).
 */
static int lazy_load(const vl_node *n, size_t j)
{
	struct vl_config_lazy *z = n->lazy;
	const git_tree_entry *se;
	git_tree *dir = NULL;
	vl_schema *s = NULL;
	vl_buf diag = VL_BUF_INIT;
	int rc;

	if ((rc = git_tree_lookup(&dir, n->repo, &z->schemas_tree)) < 0) {
		rc = vl_error_git(rc, "config: cannot read schemas/");
		goto out;
	}
	se = git_tree_entry_byname(dir, z->names.file[j]);
	if (se && git_tree_entry_type(se) == GIT_OBJECT_BLOB && (rc = load_schema_entry(&s, n->repo, se, &diag)) < 0)
		goto out;
	if (!s || strcmp(s->name, z->names.ledger[j]) != 0) {
		vl_buf_clear(&diag);
		if (vl_buf_printf(&diag, "%s/" VL_CONFCACHE_FILE, n->home) == 0)
			(void)unlink(diag.ptr);
		rc = vl_error_set(VL_ECONFLICT, "config: the config cache does not match schemas/%s", z->names.file[j]);
		goto out;
	}
	z->slot[j] = s;
	s = NULL;
out:
	vl_schema_free(s);
	vl_buf_free(&diag);
	git_tree_free(dir);
	return rc;
}

/* 0 and *out, VL_ENOTFOUND (no message) when there is no such ledger, or
 * the error of loading it lazily. */
static int schema_find(const vl_schema **out, const vl_node *n, const char *name)
{
	size_t i;
	int rc;

	if (n->config_loaded) {
		for (i = 0; i < n->nschemas; i++)
			if (!strcmp(n->schemas[i]->name, name)) {
				*out = n->schemas[i];
				return 0;
			}
	} else if (n->config_lazy) {
		for (i = 0; i < n->lazy->names.n; i++)
			if (!strcmp(n->lazy->names.ledger[i], name)) {
				if (!n->lazy->slot[i] && (rc = lazy_load(n, i)) < 0)
					return rc;
				*out = n->lazy->slot[i];
				return 0;
			}
	}
	return VL_ENOTFOUND;
}

const vl_schema *vl_node_schema(const vl_node *n, const char *name)
{
	const vl_schema *s = NULL;

	return schema_find(&s, n, name) == 0 ? s : NULL;
}

int vl_node_schema_get(const vl_schema **out, vl_node *n, const char *name)
{
	int rc = schema_find(out, n, name);

	/* A cache that was wrong: the whole config, from the same commit. */
	if (rc == VL_ECONFLICT && n->config_lazy && (rc = vl_node_load_config(n)) == 0)
		rc = schema_find(out, n, name);
	if (rc == VL_ENOTFOUND)
		return vl_error_set(VL_ENOTFOUND, "there is no ledger '%s' in this node's config; 'vledger schema list' shows them", name);
	return rc;
}

size_t vl_node_ledger_count(const vl_node *n)
{
	return n->config_loaded ? n->nschemas : n->config_lazy ? n->lazy->names.n : 0;
}

const char *vl_node_ledger_name(const vl_node *n, size_t i)
{
	return n->config_loaded ? n->schemas[i]->name : n->lazy->names.ledger[i];
}

const vl_roster_entry *vl_node_roster_find(const vl_node *n, const char *fp)
{
	size_t i;

	for (i = 0; i < n->nentries; i++)
		if (!strcmp(n->entries[i].fp, fp))
			return &n->entries[i];
	return NULL;
}

int vl_node_roster_name(char **out, vl_node *n, const char *fp)
{
	const vl_roster_entry *e = NULL;
	vl_buf b = VL_BUF_INIT;
	char *name = NULL;
	int rc;

	if (n->config_lazy && n->lazy->roster_deferred) {
		/* Capped as a full load reads it. */
		if ((rc = vl_repo_read_blob(&b, n->repo, &n->lazy->roster_blob, VL_ROSTER_FILE_MAX, "roster.yaml")) < 0)
			return rc;
		rc = vl_roster_entry_name(&name, b.ptr, b.len, fp);
		vl_buf_free(&b);
		if (rc == 0) {
			*out = name;
			return 0;
		}
		/* Not that way (not on the roster, or another layout): the whole
		 * roster decides, as it would have without the cache. */
		if (rc == VL_ENOMEM || (rc = roster_complete(n)) < 0)
			return rc;
	}
	e = vl_node_roster_find(n, fp);
	if (e && !(name = strdup(e->name)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	*out = name;
	return 0;
}

int vl_node_check_key(const vl_node *n)
{
	const vl_roster_entry *me;
	char keyfp[VL_FP_LEN];

	if (!n->have_key)
		return vl_error_set(VL_EDENIED, "this command needs the node's secret key");
	vl_fingerprint(keyfp, n->key.pk);
	if (strcmp(keyfp, n->fp) != 0)
		return vl_error_set(VL_EINVALID, "keys/node.key does not match keys/node.pub (%s): an "
				"interrupted key rotation? run 'vledger key rotate --finish', or put back the key "
				"pair that belongs together; nothing was written", n->fp);
	me = n->config_loaded || n->config_lazy ? vl_node_roster_find(n, n->fp) : NULL;
	if (me && memcmp(me->pk, n->key.pk, sizeof(me->pk)) != 0)
		return vl_error_set(VL_EINVALID, "the roster entry %s holds another key than keys/node.key; "
				"nothing was written", n->fp);
	return 0;
}

int vl_node_commit(git_oid *out, vl_node *n, const char *refname, const git_oid *expected,
		const vl_change *changes, size_t nchanges, const char *summary, const char *trailers)
{
	vl_buf msg = VL_BUF_INIT, email = VL_BUF_INIT;
	const vl_roster_entry *me = vl_node_roster_find(n, n->fp);
	git_oid prev;
	uint64_t seq = 0;
	vl_ident who;
	int rc;

	if ((rc = vl_node_check_key(n)) < 0 || (rc = vl_node_lock_write(n)) < 0)
		return rc;
	if (expected && (rc = vl_repo_key_chain(&seq, &prev, n->repo, expected, n->fp)) < 0)
		return rc;
	if ((rc = vl_buf_printf(&msg, "%s\n\n%s", summary, trailers ? trailers : "")) < 0 ||
			(n->operator_name && (rc = vl_buf_printf(&msg, "Vledger-Operator: %s\n", n->operator_name)) < 0) ||
			(rc = vl_buf_printf(&msg, "Vledger-Seq: %llu\n", (unsigned long long)seq + 1)) < 0 ||
			(seq && (rc = vl_buf_printf(&msg, "Vledger-Prev: %s\n", git_oid_tostr_s(&prev))) < 0) ||
			(rc = vl_buf_printf(&email, "%s@vledger", n->fp)) < 0)
		goto out;
	who.name = me ? me->name : n->name;
	who.email = email.ptr;
	who.time = (int64_t)(n->clock.ms / 1000);
	if (who.time == 0)
		who.time = (int64_t)(vl_hlc_wall_ms() / 1000);
	/* Time moves forward along a key's chain (verify.c refuses a step back). */
	if (seq) {
		git_commit *pc = NULL;
		int64_t before;
		if ((rc = git_commit_lookup(&pc, n->repo, &prev)) < 0) {
			rc = vl_error_git(rc, "cannot read this key's last commit");
			goto out;
		}
		before = (int64_t)git_commit_committer(pc)->when.time;
		git_commit_free(pc);
		if (who.time < before) {
			rc = vl_error_set(VL_EINVALID, "this computer's clock is behind this key's last commit on "
					"'%s'; set the date right and try again (nothing was written)", refname);
			goto out;
		}
	}
	rc = vl_repo_commit(out, n->repo, refname, expected, changes, nchanges, msg.ptr, &who, &n->key);
out:
	vl_buf_free(&msg);
	vl_buf_free(&email);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vl_schemas_load_dir(vl_schema ***out, size_t *nout, const char *dir, vl_buf *diag)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	vl_schema **list = NULL;
	vl_buf path = VL_BUF_INIT, data = VL_BUF_INIT;
	size_t n = 0, cap = 0, i, loaded = 0;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if (!d)
		return vl_error_set(VL_ENOTFOUND, "cannot open schema directory '%s'", dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".yaml") != 0 || de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*names));
			if (!nn) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	list = calloc(n ? n : 1, sizeof(*list));
	if (!list) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		vl_buf_clear(&path);
		vl_buf_clear(&data);
		if ((rc = vl_buf_printf(&path, "%s/%s", dir, names[i])) < 0 ||
				(rc = vl_buf_read_file(&data, path.ptr, vl_yaml_file_limits.max_bytes)) < 0 ||
				(rc = vl_schema_load(&list[loaded], data.ptr, data.len, path.ptr, diag)) < 0)
			goto out;
		loaded++;
	}
	*out = list;
	*nout = loaded;
	list = NULL;
out:
	if (list)
		vl_schemas_free(list, loaded);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	vl_buf_free(&path);
	vl_buf_free(&data);
	return rc;
}

int vl_view_add_objects(git_odb *odb, const vl_view *v, const char *objects)
{
	git_odb_backend *packed = NULL;
	int rc;

	if (v->quarantine_objects) {
		if ((rc = git_odb_backend_pack(&packed, v->quarantine_objects)) < 0)
			return vl_error_git(rc, "cannot read the quarantine");
		/* Above the node's own loose (1) and packed (2) backends. */
		if ((rc = git_odb_add_alternate(odb, packed, 3)) < 0) {
			packed->free(packed);
			return vl_error_git(rc, "cannot read the quarantine");
		}
	}
	if ((rc = git_odb_add_disk_alternate(odb, objects)) < 0)
		return vl_error_git(rc, "cannot read this node's objects");
	return 0;
}

int vl_node_set_operator(vl_node *n, const char *name)
{
	char *copy = NULL;
	int rc;

	if (name && *name) {
		if ((rc = vl_operator_check(name, strlen(name))) < 0)
			return rc;
		if (!(copy = strdup(name)))
			return vl_error_set(VL_ENOMEM, "out of memory");
	}
	free(n->operator_name);
	n->operator_name = copy;
	return 0;
}

int vl_node_save_operator(vl_node *n, const char *name)
{
	vl_buf path = VL_BUF_INIT, data = VL_BUF_INIT, text = VL_BUF_INIT;
	vl_value *conf = NULL;
	int rc;

	if (name && *name && (rc = vl_operator_check(name, strlen(name))) < 0)
		return rc;
	if ((rc = path_join(&path, n->home, "node.yaml")) < 0 ||
			(rc = vl_buf_read_file(&data, path.ptr, VL_NODE_YAML_MAX)) < 0 ||
			(rc = vl_yaml_load(&conf, data.ptr ? data.ptr : "", data.len, &vl_yaml_file_limits, path.ptr)) < 0)
		goto out;
	if (conf->kind != VL_V_MAP) {
		rc = vl_error_set(VL_EINVALID, "'%s' is not a map of settings", path.ptr);
		goto out;
	}
	if (name && *name) {
		/* map_set takes the value, and frees it on failure too. */
		if ((rc = vl_value_map_set(conf, "operator", vl_value_str(name))) < 0)
			goto out;
	} else {
		(void)vl_value_map_del(conf, "operator");
	}
	if ((rc = vl_yaml_emit(&text, conf)) < 0 || (rc = vl_buf_write_file(path.ptr, text.ptr, text.len, 0600)) < 0)
		goto out;
	rc = vl_node_set_operator(n, name);
out:
	vl_value_free(conf);
	vl_buf_free(&path);
	vl_buf_free(&data);
	vl_buf_free(&text);
	return rc;
}
