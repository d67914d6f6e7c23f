/* bundle_ops.c - bundle create and bundle apply as operations (ops/bundle_ops.h). */
#define _GNU_SOURCE /* strdup, gmtime_r */
#include "agent/ops/bundle_ops.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/node/ledger.h"
#include "schemas/types.h"
#include "store/i18n.h"
#include "store/repo.h"

/* ---- who and what -------------------------------------------------------- */

/* A fingerprint made ref- and file-safe, as receive names refs/peers/<peer>/:
 * without "SHA256:", '/' -> '_', '+' -> '-'. */
static void fp_safe(char out[VL_FP_LEN], const char *fp)
{
	size_t i, k = 0;

	for (i = 7; fp[i] && k < VL_FP_LEN - 1; i++)
		out[k++] = fp[i] == '/' ? '_' : fp[i] == '+' ? '-' : fp[i];
	out[k] = '\0';
}

/* The roster entry named by who: a fingerprint, or a roster name that
 * exactly one entry has. */
static int find_entry(const vl_roster_entry **out, const vl_node *n, const char *who, const char *what)
{
	const vl_roster_entry *found = NULL;
	size_t i, matches = 0;

	if (!strncmp(who, "SHA256:", 7)) {
		if (!(found = vl_node_roster_find(n, who)))
			return vl_error_set(VL_ENOTFOUND, "%s '%s' is not on the roster; see 'vledger roster list'", what, who);
	} else {
		for (i = 0; i < n->nentries; i++)
			if (n->entries[i].name && !strcmp(n->entries[i].name, who) && !n->entries[i].revoked_at) {
				found = &n->entries[i];
				matches++;
			}
		if (matches == 0)
			return vl_error_set(VL_ENOTFOUND, "%s '%s' is not a name on the roster (or only revoked keys "
					"have it); see 'vledger roster list'", what, who);
		if (matches > 1)
			return vl_error_set(VL_EINVALID, "%s '%s' names %zu keys on the roster; give the fingerprint",
					what, who, matches);
	}
	if (found->revoked_at)
		return vl_error_set(VL_EDENIED, "%s '%s' is revoked; make bundles for a current key", what, who);
	*out = found;
	return 0;
}

void vl_bundle_create_result_free(vl_bundle_create_result *r)
{
	if (!r)
		return;
	free(r->path);
	memset(r, 0, sizeof(*r));
}

static int add_ref(vl_bundle_header *h, size_t *cap, const char *name, const git_oid *id)
{
	vl_bundle_ref *nr;

	if (h->nrefs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		if (!(nr = realloc(h->refs, ncap * sizeof(*nr))))
			return vl_error_set(VL_ENOMEM, "out of memory");
		h->refs = nr;
		*cap = ncap;
	}
	if (!(h->refs[h->nrefs].name = strdup(name)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	git_oid_cpy(&h->refs[h->nrefs].id, id);
	h->nrefs++;
	return 0;
}

static int add_prereq(vl_bundle_header *h, size_t *cap, const git_oid *id, const char *comment)
{
	vl_bundle_prereq *np;

	if (h->nprereqs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		if (!(np = realloc(h->prereqs, ncap * sizeof(*np))))
			return vl_error_set(VL_ENOMEM, "out of memory");
		h->prereqs = np;
		*cap = ncap;
	}
	if (!(h->prereqs[h->nprereqs].comment = strdup(comment)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	git_oid_cpy(&h->prereqs[h->nprereqs].id, id);
	h->nprereqs++;
	return 0;
}

/* The refs scope may read (config, scope branches it covers) and, with
 * peer (fp-safe, "" = none), the heads last received from that peer which
 * ours contain, as prerequisites. */
typedef struct {
	vl_bundle_header *h;
	vl_node *n;
	const char *scope, *peer;
	size_t caprefs, capprereqs;
} collect_ctx;

static int collect_branch(const char code[13], const git_oid *ours, void *ctx)
{
	collect_ctx *c = ctx;
	char name[64];
	int rc;

	if (!vl_division_covers(c->scope, code))
		return 0;
	vl_scope_ref(name, code);
	if ((rc = add_ref(c->h, &c->caprefs, name, ours)) < 0)
		return rc;
	if (*c->peer) {
		char peerref[256], comment[64];
		git_oid theirs;
		snprintf(peerref, sizeof(peerref), "refs/peers/%s/scope/%s", c->peer, code);
		snprintf(comment, sizeof(comment), "scope/%s", code);
		if (vl_repo_head(&theirs, c->n->repo, peerref) == 0 &&
				(git_oid_equal(&theirs, ours) ||
				 git_graph_descendant_of(c->n->repo, ours, &theirs) == 1) &&
				(rc = add_prereq(c->h, &c->capprereqs, &theirs, comment)) < 0)
			return rc;
	}
	return 0;
}

static int collect(vl_bundle_header *h, vl_node *n, const char *scope, const char *peer)
{
	collect_ctx c;
	git_oid config;
	int rc;

	if ((rc = vl_repo_head(&config, n->repo, VL_REF_CONFIG)) < 0) {
		rc = vl_error_set(VL_ENOTFOUND, "this node has no config branch yet; fetch the network's config first");
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.h = h;
	c.n = n;
	c.scope = scope;
	c.peer = peer;
	if ((rc = add_ref(h, &c.caprefs, VL_REF_CONFIG, &config)) < 0)
		goto out;
	rc = vl_scope_branches_each(n->repo, collect_branch, &c);
out:
	return rc;
}

int vl_bundle_create(vl_node *n, const vl_bundle_create_opts *opts, vl_bundle_create_result *out)
{
	vl_bundle_create_opts dflt = VL_BUNDLE_CREATE_OPTS_INIT;
	vl_bundle_header h;
	const vl_roster_entry *peer = NULL, *seal = NULL;
	char peersafe[VL_FP_LEN] = "", mine[VL_FP_LEN], who[VL_FP_LEN + 16];
	vl_buf path = VL_BUF_INIT;
	struct stat st;
	int rc, k;

	memset(out, 0, sizeof(*out));
	memset(&h, 0, sizeof(h));
	if (!opts)
		opts = &dflt;
	if (!opts->path || !*opts->path)
		return vl_error_set(VL_EINVALID, "give a file or directory to write the bundle to");
	if (opts->for_peer && opts->scope)
		return vl_error_set(VL_EINVALID, "give --for PEER or --scope CODE12, not both");
	if (!n->config_loaded && (rc = vl_node_load_config(n)) < 0)
		return rc == VL_ENOTFOUND ?
			vl_error_set(VL_ENOTFOUND, "this node has no config branch yet; fetch the network's config first") :
			rc;
	if (opts->for_peer) {
		if ((rc = find_entry(&peer, n, opts->for_peer, _("peer"))) < 0)
			return rc;
		memcpy(out->scope, peer->scope, 13);
		if (!opts->full)
			fp_safe(peersafe, peer->fp);
	} else if (opts->scope) {
		if (strlen(opts->scope) != 12 || vl_division_level(opts->scope) == VL_DIV_INVALID)
			return vl_error_set(VL_EINVALID, "scope '%s' is not a 12-digit division code", opts->scope);
		memcpy(out->scope, opts->scope, 13);
	} else {
		memcpy(out->scope, n->scope, 13);
	}
	if (opts->seal_to) {
		if ((rc = find_entry(&seal, n, opts->seal_to, _("seal recipient"))) < 0)
			return rc;
		memcpy(out->sealed_to, seal->fp, VL_FP_LEN);
	}
	vl_progress_report(&opts->progress, N_("bundle"), 0, 1);
	if ((rc = collect(&h, n, out->scope, peersafe)) < 0)
		goto out;
	/* A directory: the file is named by this node, the recipient and the time. */
	if (stat(opts->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		fp_safe(mine, n->fp);
		if (peer || seal)
			fp_safe(who, (seal ? seal : peer)->fp), who[12] = '\0';
		else
			snprintf(who, sizeof(who), "scope-%s", out->scope);
		if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm)) {
			rc = vl_error_set(VL_ERROR, "cannot format the time");
			goto out;
		}
		for (k = 0; k < 100; k++) {
			vl_buf_clear(&path);
			if ((rc = vl_buf_printf(&path, "%s/vledger-%.12s-to-%s-%s", opts->path, mine, who, stamp)) < 0 ||
					(k && (rc = vl_buf_printf(&path, "-%d", k)) < 0) ||
					(rc = vl_buf_puts(&path, ".bundle")) < 0)
				goto out;
			rc = vl_bundle_write(&out->objects, &out->bytes, n->repo, &h, path.ptr, seal ? seal->pk : NULL);
			if (rc != VL_EEXISTS)
				break;
		}
	} else {
		if ((rc = vl_buf_puts(&path, opts->path)) < 0)
			goto out;
		rc = vl_bundle_write(&out->objects, &out->bytes, n->repo, &h, path.ptr, seal ? seal->pk : NULL);
	}
	if (rc < 0)
		goto out;
	out->refs = h.nrefs;
	out->prereqs = h.nprereqs;
	if (!(out->path = vl_buf_detach(&path, NULL))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	vl_progress_report(&opts->progress, N_("bundle"), 1, 1);
	rc = 0;
out:
	vl_bundle_header_free(&h);
	vl_buf_free(&path);
	return rc;
}

/* ---- bundle apply -------------------------------------------------------- */

void vl_bundle_apply_result_free(vl_bundle_apply_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->items[i].file);
		free(r->items[i].message);
		vl_bundle_info_free(&r->items[i].info);
		vl_receive_result_free(&r->items[i].receive);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.bundle regular files of dir, sorted by name (names start with
 * sender and recipient, then the time). */
static int list_dir(char ***out, size_t *nout, const char *dir)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	vl_buf p = VL_BUF_INIT;
	int rc = 0;

	if (!(d = opendir(dir)))
		return vl_error_set(VL_ENOTFOUND, "cannot read directory '%s'", dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		struct stat st;
		if (l < 8 || strcmp(de->d_name + l - 7, ".bundle") || de->d_name[0] == '.')
			continue;
		vl_buf_clear(&p);
		if ((rc = vl_buf_printf(&p, "%s/%s", dir, de->d_name)) < 0)
			goto out;
		if (lstat(p.ptr, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n >= 100000) {
			rc = vl_error_set(VL_ETOOBIG, "over 100000 bundles in '%s'; apply them a few at a time", dir);
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*nn));
			if (!nn) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			names = nn;
			cap = ncap;
		}
		if (!(names[n] = vl_buf_detach(&p, NULL))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	*out = names;
	*nout = n;
	names = NULL;
	n = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	vl_buf_free(&p);
	closedir(d);
	return rc;
}

/* Is the file (named as vl_bundle_create names them in a directory) for
 * another node? Then *why says for whom. */
static int meant_for_other(char **why, const vl_node *n, const char *file)
{
	const char *base = strrchr(file, '/'), *to;
	char mine[VL_FP_LEN], sealed_fp[VL_FP_LEN];
	vl_buf msg = VL_BUF_INIT;
	size_t i;
	int sealed = 0, rc;

	*why = NULL;
	base = base ? base + 1 : file;
	fp_safe(mine, n->fp);
	if ((rc = vl_bundle_peek(&sealed, sealed_fp, file)) < 0)
		return 0; /* apply says what is wrong with it */
	if (sealed) {
		const vl_roster_entry *e;
		if (!strcmp(sealed_fp, n->fp))
			return 0;
		e = n->config_loaded ? vl_node_roster_find(n, sealed_fp) : NULL;
		rc = e ? vl_buf_printf(&msg, _("sealed to '%s' '%s'; not for this node"), e->name, sealed_fp) :
			vl_buf_printf(&msg, _("sealed to '%s'; not for this node"), sealed_fp);
		if (rc < 0)
			return VL_ENOMEM;
		*why = vl_buf_detach(&msg, NULL);
		return *why ? 1 : VL_ENOMEM;
	}
	/* vledger-<from12>-to-<to12>-<time>.bundle */
	if (strncmp(base, "vledger-", 8) || strlen(base) < 8 + 12 + 4 + 12 || strncmp(base + 20, "-to-", 4))
		return 0;
	to = base + 24;
	if (!strncmp(to, "scope-", 6) || !strncmp(to, mine, 12))
		return 0;
	/* For another key: named by the roster when it knows the key. */
	for (i = 0; i < n->nentries; i++) {
		char s[VL_FP_LEN];
		fp_safe(s, n->entries[i].fp);
		if (!strncmp(s, to, 12))
			break;
	}
	rc = i < n->nentries ?
		vl_buf_printf(&msg, _("made for '%s' (%s); not for this node"), n->entries[i].name, n->entries[i].fp) :
		vl_buf_printf(&msg, _("made for another node's key ('%.12s...'); not for this node"),
				to);
	if (rc < 0)
		return rc;
	*why = vl_buf_detach(&msg, NULL);
	return *why ? 1 : VL_ENOMEM;
}

static int apply_one(vl_bundle_applied *item, vl_node *n, const char *file, int merge, const vl_progress *prog)
{
	vl_receive_opts ropts = VL_RECEIVE_OPTS_INIT;
	vl_source *src = NULL;
	int rc;

	ropts.merge = merge;
	if (prog)
		ropts.progress = *prog;
	if ((rc = vl_source_open_bundle(&src, &item->info, n, file)) < 0)
		goto out;
	item->received = 1;
	rc = vl_receive(n, src, &ropts, &item->receive);
out:
	vl_source_free(src);
	item->rc = rc;
	if (rc < 0 && !(item->message = strdup(vl_error_last())))
		rc = vl_error_set(VL_ENOMEM, "out of memory");
	return rc;
}

int vl_bundle_apply(vl_node *n, const vl_bundle_apply_opts *opts, vl_bundle_apply_result *out)
{
	vl_bundle_apply_opts dflt = VL_BUNDLE_APPLY_OPTS_INIT;
	char **files = NULL, *why = NULL;
	size_t nfiles = 0, i;
	struct stat st;
	int rc, first = 0;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &dflt;
	if (!opts->path || !*opts->path)
		return vl_error_set(VL_EINVALID, "give a bundle file or a directory of bundles");
	if (stat(opts->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if ((rc = list_dir(&files, &nfiles, opts->path)) < 0)
			return rc;
	} else {
		if (!(files = malloc(sizeof(*files))) || !(files[0] = strdup(opts->path))) {
			free(files);
			return vl_error_set(VL_ENOMEM, "out of memory");
		}
		nfiles = 1;
	}
	/* The roster names whom a bundle is for in messages; a node without
	 * config yet can still apply a bundle (its first config). */
	if (!n->config_loaded && vl_node_load_config(n) < 0)
		vl_error_clear();
	if (nfiles && !(out->items = calloc(nfiles, sizeof(*out->items)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		vl_bundle_applied *item = &out->items[out->n++];
		item->file = files[i];
		files[i] = NULL;
		vl_progress_report(&opts->progress, N_("bundle"), i, nfiles);
		if (S_ISDIR(st.st_mode)) {
			if ((rc = meant_for_other(&why, n, item->file)) < 0)
				goto out;
			if (rc == 1) {
				item->skipped = 1;
				item->message = why;
				why = NULL;
				continue;
			}
		}
		rc = apply_one(item, n, item->file, opts->merge, &opts->progress);
		if (rc == VL_ENOMEM)
			goto out;
		if (rc < 0 && !first)
			first = rc;
	}
	vl_progress_report(&opts->progress, N_("bundle"), nfiles, nfiles);
	rc = first;
	if (rc < 0 && out->n == 1)
		vl_error_set(rc, "%s", out->items[0].message);
	else if (rc < 0)
		vl_error_set(rc, "some bundles in '%s' were not applied (each is reported)", opts->path);
out:
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(why);
	return rc;
}

/* 1 when file is sealed to fp. */
static int sealed_to(const char *file, const char *fp)
{
	char to[VL_FP_LEN];
	int sealed = 0;

	if (vl_bundle_peek(&sealed, to, file) < 0) {
		vl_error_clear();
		return 0;
	}
	return sealed && !strcmp(to, fp);
}

int vl_bundle_apply_needs_key(const char *path, const char *fp)
{
	char **files = NULL;
	size_t nfiles = 0, i;
	struct stat st;
	int any = 0;

	if (stat(path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return sealed_to(path, fp);
	if (list_dir(&files, &nfiles, path) < 0) {
		vl_error_clear();
		return 0;
	}
	for (i = 0; i < nfiles; i++) {
		if (!any && sealed_to(files[i], fp))
			any = 1;
		free(files[i]);
	}
	free(files);
	return any;
}
