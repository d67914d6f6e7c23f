/*
 * fetch.c - vl_receive (receive.h): the config branch (network, roster,
 * schemas) from a source, then its scope branches (receive.c).
 *
 * Everything is checked in the source repository before one object is
 * copied: the history from our head to theirs is linear and only adds to
 * ours (a fast-forward); the first config commit is signed by a root key
 * pinned in our network.yaml and names the same network; every later one is
 * signed by an admin on the roster of its parent whose scope covers every
 * roster entry it adds, changes or revokes (roster.h); only config files change;
 * object sizes are read from headers before anything is inflated. Then the
 * objects are copied and the ref moves by compare-and-swap. Then the scope
 * branches, with the config just taken, through the quarantine of
 * receive.c.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sync/receive.h"
#include "store/repo.h"
#include "agent/sync/source.h"
#include "agent/node/roster.h"
#include "store/yaml.h"

#define CONFIG_MAX_OBJECT ((size_t)4 << 20)
#define CONFIG_MAX_COMMITS 100000

/* The pinned network file: <home>/network.yaml, or for the county the
 * network.yaml of its own config. */
static int load_pinned_network(vl_value **out, vl_node *n)
{
	vl_buf p = VL_BUF_INIT, b = VL_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = vl_buf_printf(&p, "%s/network.yaml", n->home)) < 0)
		goto out;
	rc = vl_buf_read_file(&b, p.ptr, 256 * 1024);
	if (rc == VL_ENOTFOUND)
		rc = vl_repo_read(&b, NULL, n->repo, VL_REF_CONFIG, NULL, "network.yaml", 256 * 1024);
	if (rc < 0 || (rc = vl_yaml_load(out, b.ptr, b.len, &vl_yaml_file_limits, "network.yaml")) < 0)
		goto out;
out:
	vl_buf_free(&p);
	vl_buf_free(&b);
	return rc;
}

/* Read a config file from a commit of the source repository. */
static int src_read(vl_value **out, git_repository *src, const git_oid *commit, const char *path)
{
	vl_buf b = VL_BUF_INIT;
	vl_yaml_limits lim = vl_yaml_file_limits;
	int rc;

	*out = NULL;
	lim.max_bytes = CONFIG_MAX_OBJECT;
	lim.max_nodes = 1000000;
	if ((rc = vl_repo_read(&b, NULL, src, NULL, commit, path, CONFIG_MAX_OBJECT)) == 0)
		rc = vl_yaml_load(out, b.ptr, b.len, &lim, path);
	vl_buf_free(&b);
	return rc;
}

static int key_in_list(const vl_value *list, const unsigned char pk[32])
{
	unsigned char k[32];
	size_t i;

	for (i = 0; list && list->kind == VL_V_LIST && i < list->n; i++)
		if (list->items[i]->kind == VL_V_STR && vl_pubkey_parse(k, list->items[i]->s) == 0 &&
				!memcmp(k, pk, 32))
			return 1;
	return 0;
}

/* Check one source commit (its parent already accepted). */
static int check_commit(git_repository *src, git_commit *c, const vl_value *pinned)
{
	vl_buf raw = VL_BUF_INIT;
	vl_value *net = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	git_commit *parent = NULL;
	git_diff *diff = NULL;
	unsigned char pk[32];
	size_t i;
	const char *id = git_oid_tostr_s(git_commit_id(c));
	char sid[13];
	int rc;

	snprintf(sid, sizeof(sid), "%.12s", id);
	if (git_commit_parentcount(c) > 1) {
		rc = vl_error_set(VL_EINVALID, "config commit %s is a merge; config history is linear", sid);
		goto out;
	}
	if ((rc = vl_repo_raw_commit(&raw, src, git_commit_id(c))) < 0)
		goto out;
	if ((rc = vl_commit_verify(raw.ptr, raw.len, pk)) < 0) {
		vl_error_wrap(rc, "config commit %s", sid);
		goto out;
	}
	if (git_commit_parentcount(c) == 0) {
		const vl_value *a, *b;
		if (!key_in_list(vl_value_map_get(pinned, "root_keys"), pk)) {
			rc = vl_error_set(VL_EDENIED, "the first config commit %s is not signed by a root key "
					"of our network.yaml: this is another network", sid);
			goto out;
		}
		if ((rc = src_read(&net, src, git_commit_id(c), "network.yaml")) < 0)
			goto out;
		a = vl_value_map_get(net, "network");
		b = vl_value_map_get(pinned, "network");
		if (!a || !b || !vl_value_equal(a, b) ||
				!vl_value_equal(vl_value_map_get(net, "root_keys"), vl_value_map_get(pinned, "root_keys"))) {
			rc = vl_error_set(VL_EDENIED, "config commit %s names another network or other root keys", sid);
			goto out;
		}
	} else {
		char fp[VL_FP_LEN];
		if ((rc = git_commit_parent(&parent, c, 0)) < 0) {
			rc = vl_error_git(rc, "cannot read a config parent");
			goto out;
		}
		/* Delegated admins (roster.h): signer and scopes by the parent's roster. */
		vl_fingerprint(fp, pk);
		if ((rc = vl_config_check_commit(src, c, fp)) < 0) {
			vl_error_wrap(rc, "config commit %s refused", sid);
			goto out;
		}
	}
	if ((rc = git_commit_tree(&tree, c)) < 0 || (parent && (rc = git_commit_tree(&ptree, parent)) < 0) ||
			(rc = git_diff_tree_to_tree(&diff, src, ptree, tree, NULL)) < 0) {
		rc = vl_error_git(rc, "cannot compare config trees");
		goto out;
	}
	for (i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *p = d->new_file.path;
		size_t l = strlen(p);
		if (!(!strcmp(p, "network.yaml") || !strcmp(p, "roster.yaml") ||
				(!strncmp(p, "schemas/", 8) && l > 13 && !strcmp(p + l - 5, ".yaml") && !strchr(p + 8, '/'))) ||
				(d->status != GIT_DELTA_DELETED && d->new_file.mode != GIT_FILEMODE_BLOB)) {
			rc = vl_error_set(VL_EINVALID, "config commit %s touches '%.80s'; config holds only "
					"network.yaml, roster.yaml and schemas/*.yaml", sid, p);
			goto out;
		}
	}
	rc = 0;
out:
	git_diff_free(diff);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	vl_value_free(net);
	vl_buf_free(&raw);
	return rc;
}

/* Copy one object (and, for trees, what it holds) unless we have it. */
static int copy_object(git_odb *from, git_odb *to, const git_oid *id, int depth)
{
	git_odb_object *obj = NULL;
	git_tree *tree = NULL;
	git_oid written;
	size_t size;
	git_object_t type;
	int rc;

	if (git_odb_exists(to, id))
		return 0;
	if (depth > 8)
		return vl_error_set(VL_ETOOBIG, "config tree is nested too deep");
	if ((rc = git_odb_read_header(&size, &type, from, id)) < 0)
		return vl_error_git(rc, "cannot read an object header");
	if (size > CONFIG_MAX_OBJECT)
		return vl_error_set(VL_ETOOBIG, "config object %s is %zu bytes, over the limit", git_oid_tostr_s(id), size);
	if ((rc = git_odb_read(&obj, from, id)) < 0)
		return vl_error_git(rc, "cannot read an object");
	if (type == GIT_OBJECT_TREE) {
		git_repository *tmp = NULL;
		size_t i;
		/* Parse the tree through a repository wrapper around `from`. */
		if ((rc = git_repository_wrap_odb(&tmp, from)) < 0 || (rc = git_tree_lookup(&tree, tmp, id)) < 0) {
			git_repository_free(tmp);
			rc = vl_error_git(rc, "cannot parse a tree");
			goto out;
		}
		for (i = 0; i < git_tree_entrycount(tree); i++) {
			const git_tree_entry *e = git_tree_entry_byindex(tree, i);
			if (git_tree_entry_type(e) != GIT_OBJECT_BLOB && git_tree_entry_type(e) != GIT_OBJECT_TREE) {
				rc = vl_error_set(VL_EINVALID, "config tree holds a submodule or link");
				break;
			}
			if ((rc = copy_object(from, to, git_tree_entry_id(e), depth + 1)) < 0)
				break;
		}
		git_tree_free(tree);
		tree = NULL;
		git_repository_free(tmp);
		if (rc < 0)
			goto out;
	}
	if ((rc = git_odb_write(&written, to, git_odb_object_data(obj), git_odb_object_size(obj), type)) < 0) {
		rc = vl_error_git(rc, "cannot store an object");
		goto out;
	}
	rc = 0;
out:
	git_odb_object_free(obj);
	return rc;
}

/* Every commit of src reachable from `tip` that `mine` does not hold must be
 * a commit object of at most CONFIG_MAX_OBJECT bytes, checked from its header
 * before it is parsed; at most CONFIG_MAX_COMMITS of them. */
static int check_commit_headers(git_repository *src, git_repository *mine, const git_oid *tip)
{
	git_odb *sodb = NULL, *modb = NULL;
	git_oid *stack = NULL, id;
	size_t n = 0, cap = 64, seen = 0;
	int rc;

	if ((rc = git_repository_odb(&sodb, src)) < 0 || (rc = git_repository_odb(&modb, mine)) < 0) {
		rc = vl_error_git(rc, "cannot open object databases");
		goto out;
	}
	if (!(stack = malloc(cap * sizeof(*stack)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	git_oid_cpy(&stack[n++], tip);
	while (n) {
		git_commit *c = NULL;
		size_t size;
		git_object_t type;
		unsigned k;
		git_oid_cpy(&id, &stack[--n]);
		if (git_odb_exists(modb, &id))
			continue;
		if (++seen > CONFIG_MAX_COMMITS) {
			rc = vl_error_set(VL_ETOOBIG, "more than %d new config commits", CONFIG_MAX_COMMITS);
			goto out;
		}
		if (git_odb_read_header(&size, &type, sodb, &id) < 0 || type != GIT_OBJECT_COMMIT ||
				size > CONFIG_MAX_OBJECT) {
			rc = vl_error_set(VL_ETOOBIG, "config history names %.12s, which is not a commit within "
					"the size limit of %zu bytes; nothing fetched", git_oid_tostr_s(&id), CONFIG_MAX_OBJECT);
			goto out;
		}
		if ((rc = git_commit_lookup(&c, src, &id)) < 0) {
			rc = vl_error_set(VL_EINVALID, "config commit %.12s does not parse", git_oid_tostr_s(&id));
			goto out;
		}
		for (k = 0; k < git_commit_parentcount(c); k++) {
			if (n == cap) {
				git_oid *ns = realloc(stack, (cap *= 2) * sizeof(*stack));
				if (!ns) {
					git_commit_free(c);
					rc = vl_error_set(VL_ENOMEM, "out of memory");
					goto out;
				}
				stack = ns;
			}
			git_oid_cpy(&stack[n++], git_commit_parent_id(c, k));
		}
		git_commit_free(c);
	}
	rc = 0;
out:
	free(stack);
	git_odb_free(sodb);
	git_odb_free(modb);
	return rc;
}

/* A name for the peer under refs/peers/: the fingerprint of the node whose
 * repository this is (its home holds keys/node.pub), made ref-safe, else
 * "path-" + a hash of the path. */
static int peer_name(vl_buf *out, const char *repo_path)
{
	vl_buf p = VL_BUF_INIT, pub = VL_BUF_INIT;
	unsigned char pk[32], h[8];
	char fp[VL_FP_LEN];
	size_t i;
	int rc;

	if ((rc = vl_buf_printf(&p, "%s/../keys/node.pub", repo_path)) < 0)
		goto out;
	if (vl_buf_read_file(&pub, p.ptr, 4096) == 0 && vl_pubkey_parse(pk, pub.ptr) == 0) {
		vl_fingerprint(fp, pk);
		for (i = 7; fp[i]; i++)
			if ((rc = vl_buf_putc(out, fp[i] == '/' ? '_' : fp[i] == '+' ? '-' : fp[i])) < 0)
				goto out;
	} else {
		crypto_generichash(h, sizeof(h), (const unsigned char *)repo_path, strlen(repo_path), NULL, 0);
		rc = vl_buf_printf(out, "path-%02x%02x%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4],
				h[5], h[6], h[7]);
	}
out:
	vl_buf_free(&p);
	vl_buf_free(&pub);
	return rc;
}

int vl_receive(vl_node *n, vl_source *source, const vl_receive_opts *opts, vl_receive_result *out)
{
	static const vl_receive_opts defaults = VL_RECEIVE_OPTS_INIT;
	vl_buf peer = VL_BUF_INIT;
	size_t ncommits = 0, cap = 0, i;
	vl_value *pinned = NULL;
	git_repository *src = vl_source_repo(source);
	git_odb *sodb = NULL, *odb = NULL;
	git_revwalk *walk = NULL;
	git_reference *ref = NULL;
	git_oid theirs, ours, id, *commits = NULL;
	const char *label = vl_source_label(source);
	int rc, have_ours;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	if ((rc = load_pinned_network(&pinned, n)) < 0)
		goto out;
	if ((rc = vl_repo_head(&theirs, src, VL_REF_CONFIG)) < 0) {
		vl_error_wrap(rc, "%s has no config", label);
		goto out;
	}
	rc = vl_repo_head(&ours, n->repo, VL_REF_CONFIG);
	if (rc < 0 && rc != VL_ENOTFOUND)
		goto out;
	have_ours = rc == 0;
	vl_progress_report(&opts->progress, "config", 0, 0);
	if (have_ours && git_oid_equal(&ours, &theirs)) {
		out->config = VL_CONFIG_UNCHANGED;
		goto scopes;
	}
	/* Before libgit2 parses any of their commits (graph checks, the walk
	 * below), check each one's type and size from its header. */
	if ((rc = check_commit_headers(src, n->repo, &theirs)) < 0)
		goto out;
	if (have_ours && git_graph_descendant_of(n->repo, &ours, &theirs) == 1) {
		out->config = VL_CONFIG_OURS_NEWER;
		goto scopes;
	}
	if (have_ours && git_graph_descendant_of(src, &theirs, &ours) != 1) {
		rc = vl_error_set(VL_ECONFLICT, "the config of %s does not extend ours (ours %.12s is not in "
				"its history); nothing fetched", label, git_oid_tostr_s(&ours));
		goto out;
	}
	/* New commits, oldest first. */
	if ((rc = git_revwalk_new(&walk, src)) < 0 ||
			(rc = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE)) < 0 ||
			(rc = git_revwalk_push(walk, &theirs)) < 0 || (have_ours && (rc = git_revwalk_hide(walk, &ours)) < 0)) {
		rc = vl_error_git(rc, "cannot walk the source's config");
		goto out;
	}
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL;
		if (ncommits == CONFIG_MAX_COMMITS) {
			rc = vl_error_set(VL_ETOOBIG, "more than %d new config commits", CONFIG_MAX_COMMITS);
			goto out;
		}
		if (ncommits == cap) {
			git_oid *nc = realloc(commits, (cap = cap ? cap * 2 : 16) * sizeof(*commits));
			if (!nc) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			commits = nc;
		}
		git_oid_cpy(&commits[ncommits++], &id);
		if ((rc = git_commit_lookup(&c, src, &id)) < 0) {
			rc = vl_error_git(rc, "cannot read a source commit");
			goto out;
		}
		rc = check_commit(src, c, pinned);
		git_commit_free(c);
		if (rc < 0)
			goto out;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, "cannot walk the source's config");
		goto out;
	}
	/* Verified: copy, then move the ref by compare-and-swap. */
	if ((rc = git_repository_odb(&sodb, src)) < 0 || (rc = git_repository_odb(&odb, n->repo)) < 0) {
		rc = vl_error_git(rc, "cannot open object databases");
		goto out;
	}
	for (i = 0; i < ncommits; i++) {
		git_commit *c = NULL;
		if ((rc = git_commit_lookup(&c, src, &commits[i])) < 0) {
			rc = vl_error_git(rc, "cannot read a source commit");
			goto out;
		}
		rc = copy_object(sodb, odb, git_commit_tree_id(c), 0);
		git_commit_free(c);
		if (rc < 0 || (rc = copy_object(sodb, odb, &commits[i], 0)) < 0)
			goto out;
	}
	rc = have_ours ? git_reference_create_matching(&ref, n->repo, VL_REF_CONFIG, &theirs, 1, &ours, "vledger fetch")
		       : git_reference_create(&ref, n->repo, VL_REF_CONFIG, &theirs, 0, "vledger fetch");
	if (rc < 0) {
		rc = vl_error_git(rc, "cannot move config");
		goto out;
	}
	out->config = VL_CONFIG_UPDATED;
	out->config_commits = ncommits;
scopes:
	/* Then the scope branches this node may read, through the quarantine,
	 * with the roster and schemas of the config just taken. */
	if ((rc = vl_repo_head(&out->config_head, n->repo, VL_REF_CONFIG)) < 0 ||
			(rc = vl_node_reload_config(n)) < 0)
		goto out;
	vl_progress_report(&opts->progress, "scopes", 0, 0);
	if ((rc = peer_name(&peer, vl_source_path(source))) < 0 ||
			(rc = vl_receive_scopes(n, src, peer.ptr, opts->merge, out)) < 0)
		goto out;
out:
	vl_buf_free(&peer);
	free(commits);
	git_reference_free(ref);
	git_revwalk_free(walk);
	git_odb_free(sodb);
	git_odb_free(odb);
	vl_value_free(pinned);
	return rc;
}
