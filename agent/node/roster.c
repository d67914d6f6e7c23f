/* roster.c - the rule for config changes by delegated admins (see roster.h). */
#include "agent/node/roster.h"
#include "agent/node/tz.h"
#include "store/limits.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/node/ledger.h"
#include "store/repo.h"
#include "schemas/types.h"
#include "store/yaml.h"


static const char *const roles[] = { "village", "township", "county", "auditor", "admin" };

static const char *map_str(const vl_value *m, const char *key)
{
	const vl_value *v = vl_value_map_get(m, key);

	return v && v->kind == VL_V_STR ? v->s : NULL;
}

int vl_role_index(const char *role)
{
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(role, roles[i]))
			return (int)i;
	return -1;
}

const char *vl_role_name(size_t i)
{
	return i < sizeof(roles) / sizeof(roles[0]) ? roles[i] : NULL;
}

int vl_roster_role_valid(const char *role)
{
	return vl_role_index(role) >= 0;
}

int vl_roster_role_scope_check(const char *role, const char *scope)
{
	vl_div_level l = vl_division_level(scope);

	if (vl_role_index(role) < 0)
		return vl_error_set(VL_EINVALID, "role '%.40s' is not one of %s", role, VL_ROLES);
	if (l == VL_DIV_INVALID)
		return vl_error_set(VL_EINVALID, "scope '%.20s' is not a valid 12-digit division code", scope);
	if ((!strcmp(role, "village") && l != VL_DIV_VILLAGE) ||
			(!strcmp(role, "township") && l != VL_DIV_TOWNSHIP) ||
			(!strcmp(role, "county") && l != VL_DIV_COUNTY))
		return vl_error_set(VL_EINVALID, "role '%s' needs a %s-level scope, but '%s' is a %s code",
				role, role, scope, vl_division_level_name(l));
	return 0;
}

/* Is s 40 lowercase hex digits (a commit id)? */
static int is_commit_hex(const char *s)
{
	return strlen(s) == GIT_OID_HEXSZ && strspn(s, "0123456789abcdef") == GIT_OID_HEXSZ;
}

/* revoked_heads of entry e (indexed as r): absent, or with revoked_at a map
 * of "scope/<code>" to a commit id. */
static int check_revoked_heads(const vl_value *e, vl_roster_entry *r)
{
	const vl_value *h = vl_value_map_get(e, "revoked_heads");
	size_t k;

	r->revoked_heads = NULL;
	if (!h)
		return 0;
	if (!r->revoked_at)
		return vl_error_set(VL_EINVALID, "roster entry %s: revoked_heads without revoked_at; the heads "
				"are pinned by the revocation itself", r->fp);
	if (h->kind != VL_V_MAP)
		return vl_error_set(VL_EINVALID, "roster entry %s: revoked_heads must map branches to commits", r->fp);
	for (k = 0; k < h->n; k++) {
		const char *b = h->keys[k];
		if (strncmp(b, "scope/", 6) != 0 || vl_division_level(b + 6) == VL_DIV_INVALID ||
				h->items[k]->kind != VL_V_STR || !is_commit_hex(h->items[k]->s))
			return vl_error_set(VL_EINVALID, "roster entry %s: revoked_heads maps 'scope/<12-digit code>' "
					"to a 40-hex commit id; '%.40s' does not", r->fp, b);
	}
	r->revoked_heads = h;
	return 0;
}

const char *vl_roster_pinned_head(const vl_roster_entry *e, const char *branch)
{
	const vl_value *v = e && e->revoked_heads ? vl_value_map_get(e->revoked_heads, branch) : NULL;

	return v && v->kind == VL_V_STR ? v->s : NULL;
}

/* FNV-1a of a fingerprint, for the duplicate check of vl_roster_index. */
static size_t fp_hash(const char *fp)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *fp; fp++)
		h = (h ^ (unsigned char)*fp) * 1099511628211ULL;
	return (size_t)h;
}

int vl_roster_index(vl_roster_entry **out, size_t *nout, const vl_value *doc)
{
	const vl_value *keys = vl_value_map_get(doc, "keys");
	vl_roster_entry *list = NULL;
	const vl_roster_entry **seen = NULL;
	size_t i, j, nseen = 16;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if (!doc || doc->kind != VL_V_MAP || doc->n != 1 || !keys || keys->kind != VL_V_LIST)
		return vl_error_set(VL_EINVALID, "roster.yaml must hold exactly one 'keys' list");
	/* seen: an open-addressing set of the entries' fingerprints, a power
	 * of two at least twice their number: a second one is found in O(1)
	 * as the loop reaches it, so the first error stays the one it was. */
	while (nseen < 2 * keys->n)
		nseen *= 2;
	if (!(list = calloc(keys->n ? keys->n : 1, sizeof(*list))) || !(seen = calloc(nseen, sizeof(*seen)))) {
		free(list);
		return vl_error_set(VL_ENOMEM, "out of memory");
	}
	for (i = 0; i < keys->n; i++) {
		const vl_value *e = keys->items[i];
		vl_roster_entry *r = &list[i];
		const char *key = map_str(e, "key"), *fp = map_str(e, "fingerprint");

		if (e->kind != VL_V_MAP || !key || !fp || !map_str(e, "name") || !map_str(e, "role") ||
				!map_str(e, "scope")) {
			rc = vl_error_set(VL_EINVALID, "roster entry %zu lacks key, fingerprint, name, role or scope", i + 1);
			goto out;
		}
		if (vl_pubkey_parse(r->pk, key) < 0) {
			rc = vl_error_wrap(VL_EINVALID, "roster entry %zu", i + 1);
			goto out;
		}
		vl_fingerprint(r->fp, r->pk);
		if (strcmp(r->fp, fp) != 0) {
			rc = vl_error_set(VL_EINVALID, "roster entry %zu: fingerprint does not match its key", i + 1);
			goto out;
		}
		r->name = map_str(e, "name");
		r->role = map_str(e, "role");
		r->scope = map_str(e, "scope");
		r->valid_from = map_str(e, "valid_from");
		r->revoked_at = map_str(e, "revoked_at");
		if ((rc = vl_roster_role_scope_check(r->role, r->scope)) < 0) {
			vl_error_wrap(rc, "roster entry %s", r->fp);
			goto out;
		}
		if ((vl_value_map_get(e, "valid_from") && (!r->valid_from || !vl_datetime_valid(r->valid_from))) ||
				(vl_value_map_get(e, "revoked_at") && (!r->revoked_at || !vl_datetime_valid(r->revoked_at)))) {
			rc = vl_error_set(VL_EINVALID, "roster entry %s: valid_from and revoked_at must be "
					"RFC 3339 UTC times (YYYY-MM-DDTHH:MM:SSZ)", r->fp);
			goto out;
		}
		if ((rc = check_revoked_heads(e, r)) < 0)
			goto out;
		for (j = fp_hash(r->fp) & (nseen - 1); seen[j]; j = (j + 1) & (nseen - 1)) {
			if (!strcmp(seen[j]->fp, r->fp)) {
				rc = vl_error_set(VL_EINVALID, "key %s is on the roster twice", r->fp);
				goto out;
			}
		}
		seen[j] = r;
	}
	*out = list;
	*nout = keys->n;
	list = NULL;
out:
	free(seen);
	free(list);
	return rc;
}

const vl_roster_entry *vl_roster_find(const vl_roster_entry *entries, size_t n, const char *fp)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(entries[i].fp, fp))
			return &entries[i];
	return NULL;
}

/* vl_roster_find, trying position hint first: a change keeps the entries in
 * their order and adds at the end, so pairing the entries of two rosters
 * is linear, not quadratic (a county's roster has hundreds of keys, and
 * verify pairs them for every config commit). Fingerprints are unique in
 * an index (vl_roster_index), so the entry found is the same. */
static const vl_roster_entry *find_at(const vl_roster_entry *e, size_t n, const char *fp, size_t hint)
{
	if (hint < n && !strcmp(e[hint].fp, fp))
		return &e[hint];
	return vl_roster_find(e, n, fp);
}

/* The first occurrence of needle in buf[from..len), or len. */
static size_t find_bytes(const char *buf, size_t len, size_t from, const char *needle, size_t nlen)
{
	const char *p;

	while (from + nlen <= len && (p = memchr(buf + from, needle[0], len - from - nlen + 1))) {
		from = (size_t)(p - buf);
		if (!memcmp(p, needle, nlen))
			return from;
		from++;
	}
	return len;
}

int vl_roster_entry_name(char **out, const char *buf, size_t len, const char *fp)
{
	vl_buf needle = VL_BUF_INIT, doc = VL_BUF_INIT, again = VL_BUF_INIT;
	vl_yaml_limits lim = vl_yaml_file_limits;
	vl_value *entry = NULL;
	const char *key = NULL, *name = NULL;
	unsigned char pk[32];
	char keyfp[VL_FP_LEN];
	size_t at, p;
	int rc = VL_ENOTFOUND;

	lim.max_bytes = VL_ROSTER_FILE_MAX;
	lim.max_nodes = VL_ROSTER_MAX_NODES;
	/* The entry's first line; its '\n' before it: "keys:\n" precedes the first. */
	if (vl_buf_printf(&needle, "\n  - fingerprint: \"%s\"\n", fp) < 0) {
		rc = VL_ENOMEM;
		goto out;
	}
	if (len > VL_ROSTER_FILE_MAX || (at = find_bytes(buf, len, 0, needle.ptr, needle.len)) == len ||
			find_bytes(buf, len, at + 1, needle.ptr, needle.len) != len)
		goto out;
	/* "fingerprint: ...\n" and each following line indented by four, less
	 * those four: the entry as a top-level map. */
	for (p = at + 5;; p += 4) {
		const char *nl = memchr(buf + p, '\n', len - p);
		size_t end = nl ? (size_t)(nl - buf) + 1 : len;
		if (vl_buf_put(&doc, buf + p, end - p) < 0) {
			rc = VL_ENOMEM;
			goto out;
		}
		p = end;
		if (p + 4 >= len || memcmp(buf + p, "    ", 4) != 0)
			break;
	}
	if ((rc = vl_yaml_load_canonical(&entry, doc.ptr, doc.len, &lim)) == VL_ENOMEM ||
			(rc == 0 && (rc = vl_yaml_emit(&again, entry)) == VL_ENOMEM))
		goto out;
	rc = VL_ENOTFOUND;
	if (again.len != doc.len || memcmp(again.ptr, doc.ptr, doc.len) != 0 || !(key = map_str(entry, "key")) ||
			!(name = map_str(entry, "name")) || vl_pubkey_parse(pk, key) < 0)
		goto out;
	vl_fingerprint(keyfp, pk);
	if (strcmp(keyfp, fp) != 0)
		goto out;
	if (!(*out = strdup(name))) {
		rc = VL_ENOMEM;
		goto out;
	}
	rc = 0;
out:
	if (rc == VL_ENOMEM)
		vl_error_set(VL_ENOMEM, "out of memory");
	else if (rc != 0)
		vl_error_clear();
	vl_value_free(entry);
	vl_buf_free(&needle);
	vl_buf_free(&doc);
	vl_buf_free(&again);
	return rc;
}

/* The map of entry i of a roster document (index order = list order). */
static const vl_value *entry_map(const vl_value *doc, size_t i)
{
	return vl_value_map_get(doc, "keys")->items[i];
}

static size_t county_admins(const vl_roster_entry *e, size_t n, const char *county)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		count += !strcmp(e[i].role, "admin") && !e[i].revoked_at && county && !strcmp(e[i].scope, county);
	return count;
}

/* Index parent into (*e0, *n0) and next into (*e1, *n1), as the checks
 * below need them; on failure neither is set. */
static int index_both(vl_roster_entry **e0, size_t *n0, vl_roster_entry **e1, size_t *n1,
		const vl_value *parent, const vl_value *next)
{
	int rc;

	if ((rc = vl_roster_index(e0, n0, parent)) < 0)
		return vl_error_wrap(rc, "the parent roster");
	if ((rc = vl_roster_index(e1, n1, next)) < 0) {
		free(*e0);
		*e0 = NULL;
		*n0 = 0;
	}
	return rc;
}

/* vl_roster_check_change over the indexes of parent (e0) and next (e1). */
static int check_change(const vl_value *parent, const vl_value *next, const vl_roster_entry *e0, size_t n0,
		const vl_roster_entry *e1, size_t n1, const char *signer_fp, const char *county, int other_changed)
{
	const vl_roster_entry *me, *a, *b;
	size_t i;
	int rc = VL_EDENIED;

	me = vl_roster_find(e0, n0, signer_fp);
	if (!me) {
		vl_error_set(rc, "key %s is not an admin: it is not on the roster it changes", signer_fp);
		goto out;
	}
	if (strcmp(me->role, "admin") != 0) {
		vl_error_set(rc, "key %s is not an admin on the roster it changes (it is '%s' for %s)",
				signer_fp, me->role, me->scope);
		goto out;
	}
	if (me->revoked_at) {
		vl_error_set(rc, "key %s is not an admin any more: it was revoked at %s", signer_fp, me->revoked_at);
		goto out;
	}
	if (other_changed && (!county || strcmp(me->scope, county) != 0)) {
		vl_error_set(rc, "only an admin of the county %s may change network.yaml or the schemas; "
				"key %s is an admin for %s", county ? county : "(none named)", signer_fp, me->scope);
		goto out;
	}
	/* Entries kept or changed. */
	for (i = 0; i < n0; i++) {
		a = &e0[i];
		b = find_at(e1, n1, a->fp, i);
		if (!b) {
			vl_error_set(rc, "roster entry %s (%s) was removed; entries are never removed, "
					"they are revoked with 'vledger roster revoke'", a->fp, a->scope);
			goto out;
		}
		if (vl_value_equal(entry_map(parent, i), entry_map(next, (size_t)(b - e1))))
			continue;
		if (a->revoked_at) {
			vl_error_set(rc, "roster entry %s was revoked at %s and may not change any more",
					a->fp, a->revoked_at);
			goto out;
		}
		/* Commits carry the name, and valid_from dates what the key
		 * wrote: changing either would turn accepted history bad. */
		if (strcmp(a->name, b->name) != 0 || !a->valid_from != !b->valid_from ||
				(a->valid_from && strcmp(a->valid_from, b->valid_from) != 0)) {
			vl_error_set(rc, "roster entry %s: its name and valid_from never change (commits and "
					"records already carry them); add a new key instead", a->fp);
			goto out;
		}
		if (!vl_division_covers(me->scope, a->scope) || !vl_division_covers(me->scope, b->scope)) {
			vl_error_set(rc, "key %s is an admin for %s and may not change roster entry %s "
					"(scope %s%s%s), which lies outside it", signer_fp, me->scope, a->fp, a->scope,
					strcmp(a->scope, b->scope) ? " to " : "", strcmp(a->scope, b->scope) ? b->scope : "");
			goto out;
		}
	}
	/* Entries added. */
	for (i = 0; i < n1; i++) {
		b = &e1[i];
		if (find_at(e0, n0, b->fp, i))
			continue;
		if (!vl_division_covers(me->scope, b->scope)) {
			vl_error_set(rc, "key %s is an admin for %s and may not add key %s with scope %s, "
					"which lies outside it", signer_fp, me->scope, b->fp, b->scope);
			goto out;
		}
	}
	if (county_admins(e1, n1, county) == 0 && county_admins(e0, n0, county) > 0) {
		vl_error_set(rc, "this change would leave the county %s with no admin; add another "
				"county admin first%s", county,
				vl_roster_find(e1, n1, signer_fp) && vl_roster_find(e1, n1, signer_fp)->revoked_at
				? " (the last admin of the county cannot revoke itself)" : "");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

int vl_roster_check_change(const vl_value *parent, const vl_value *next, const char *signer_fp,
		const char *county, int other_changed)
{
	vl_roster_entry *e0 = NULL, *e1 = NULL;
	size_t n0 = 0, n1 = 0;
	int rc;

	if ((rc = index_both(&e0, &n0, &e1, &n1, parent, next)) < 0)
		return rc;
	rc = check_change(parent, next, e0, n0, e1, n1, signer_fp, county, other_changed);
	free(e0);
	free(e1);
	return rc;
}

static int read_yaml(vl_value **out, git_repository *repo, const git_oid *commit, const char *path)
{
	vl_buf b = VL_BUF_INIT;
	vl_yaml_limits lim = vl_yaml_file_limits;
	char src[64];
	int rc;

	*out = NULL;
	lim.max_bytes = VL_ROSTER_FILE_MAX;
	lim.max_nodes = VL_ROSTER_MAX_NODES;
	snprintf(src, sizeof(src), "%.12s:%s", git_oid_tostr_s(commit), path);
	rc = vl_repo_read(&b, NULL, repo, NULL, commit, path, VL_ROSTER_FILE_MAX);
	if (rc == VL_ENOTFOUND)
		rc = vl_error_set(VL_EINVALID, "config commit %.12s has no %s", git_oid_tostr_s(commit), path);
	if (rc == 0)
		rc = vl_yaml_load(out, b.ptr, b.len, &lim, src);
	vl_buf_free(&b);
	return rc;
}

/* Does any top-level entry other than roster.yaml differ between a and b? */
static int others_differ(const git_tree *a, const git_tree *b)
{
	size_t i;

	for (i = 0; i < git_tree_entrycount(b); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(b, i);
		const git_tree_entry *o = git_tree_entry_byname(a, git_tree_entry_name(e));
		if (!strcmp(git_tree_entry_name(e), "roster.yaml"))
			continue;
		if (!o || !git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(e)) ||
				git_tree_entry_filemode(o) != git_tree_entry_filemode(e))
			return 1;
	}
	for (i = 0; i < git_tree_entrycount(a); i++)
		if (!git_tree_entry_byname(b, git_tree_entry_name(git_tree_entry_byindex(a, i))))
			return 1;
	return 0;
}

static int check_dates(const vl_roster_entry *e0, size_t n0, const vl_roster_entry *e1, size_t n1,
		int64_t commit_s);

int vl_config_check_commit(git_repository *repo, git_commit *commit, const char *signer_fp)
{
	vl_value *net0 = NULL, *net1 = NULL, *r0 = NULL, *r1 = NULL;
	vl_roster_entry *e0 = NULL, *e1 = NULL;
	size_t n0 = 0, n1 = 0;
	git_commit *parent = NULL;
	git_tree *t0 = NULL, *t1 = NULL;
	const char *county;
	static const char *const fixed[] = { "network", "county", "root_keys" };
	size_t i;
	int rc;

	if (git_commit_parentcount(commit) != 1)
		return vl_error_set(VL_EINVALID, "config commit %.12s has %u parents; config history is linear",
				git_oid_tostr_s(git_commit_id(commit)), git_commit_parentcount(commit));
	if ((rc = git_commit_parent(&parent, commit, 0)) < 0 || (rc = git_commit_tree(&t0, parent)) < 0 ||
			(rc = git_commit_tree(&t1, commit)) < 0) {
		rc = vl_error_git(rc, "cannot read a config commit and its parent");
		goto out;
	}
	if ((rc = read_yaml(&net0, repo, git_commit_id(parent), "network.yaml")) < 0 ||
			(rc = read_yaml(&net1, repo, git_commit_id(commit), "network.yaml")) < 0 ||
			(rc = read_yaml(&r0, repo, git_commit_id(parent), "roster.yaml")) < 0 ||
			(rc = read_yaml(&r1, repo, git_commit_id(commit), "roster.yaml")) < 0)
		goto out;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		const vl_value *a = vl_value_map_get(net0, fixed[i]), *b = vl_value_map_get(net1, fixed[i]);
		if (!a || !b || !vl_value_equal(a, b)) {
			rc = vl_error_set(VL_EDENIED, "network.yaml: '%s' changed; the network id, county and "
					"root keys never change", fixed[i]);
			goto out;
		}
	}
	county = map_str(net0, "county");
	if (!county || vl_division_level(county) != VL_DIV_COUNTY) {
		rc = vl_error_set(VL_EINVALID, "network.yaml names no valid county code");
		goto out;
	}
	{
		/* A bad time zone would stop every node loading the config. */
		const vl_value *tz = vl_value_map_get(net1, "timezone");
		int tz_min;
		if (tz && (rc = vl_tz_parse(&tz_min, tz->kind == VL_V_STR ? tz->s : NULL)) < 0)
			goto out;
	}
	/* Each roster indexed once for both checks. */
	if ((rc = index_both(&e0, &n0, &e1, &n1, r0, r1)) < 0 ||
			(rc = check_change(r0, r1, e0, n0, e1, n1, signer_fp, county, others_differ(t0, t1))) < 0)
		goto out;
	rc = check_dates(e0, n0, e1, n1, (int64_t)git_commit_committer(commit)->when.time);
out:
	free(e0);
	free(e1);
	vl_value_free(net0);
	vl_value_free(net1);
	vl_value_free(r0);
	vl_value_free(r1);
	git_tree_free(t0);
	git_tree_free(t1);
	git_commit_free(parent);
	return rc;
}

/* Is roster time t (set by a change committed at commit_s) within
 * VL_ROSTER_TIME_WINDOW_S of it? */
static int near_commit(const char *t, int64_t commit_s)
{
	uint64_t ms;
	int64_t s;

	if (vl_roster_time_ms(t, &ms) < 0)
		return 0;
	s = (int64_t)(ms / 1000);
	return s >= commit_s - VL_ROSTER_TIME_WINDOW_S && s <= commit_s + VL_ROSTER_TIME_WINDOW_S;
}

/* vl_roster_check_dates over the indexes of parent (e0) and next (e1). */
static int check_dates(const vl_roster_entry *e0, size_t n0, const vl_roster_entry *e1, size_t n1, int64_t commit_s)
{
	const vl_roster_entry *a, *b;
	size_t i;
	int rc = VL_EDENIED;

	for (i = 0; i < n1; i++) {
		b = &e1[i];
		a = find_at(e0, n0, b->fp, i);
		if (b->valid_from && (!a || !a->valid_from || strcmp(a->valid_from, b->valid_from) != 0) &&
				!near_commit(b->valid_from, commit_s)) {
			vl_error_set(rc, "roster entry %s: valid_from %s is more than %d minutes away from the "
					"time of the change that sets it", b->fp, b->valid_from, VL_ROSTER_TIME_WINDOW_S / 60);
			goto out;
		}
		if (b->revoked_at && (!a || !a->revoked_at) && !near_commit(b->revoked_at, commit_s)) {
			vl_error_set(rc, "roster entry %s: revoked_at %s is more than %d minutes away from the "
					"time of the change that revokes it; a revocation cannot reach back (or ahead) "
					"in time", b->fp, b->revoked_at, VL_ROSTER_TIME_WINDOW_S / 60);
			goto out;
		}
	}
	rc = 0;
out:
	return rc;
}

int vl_roster_check_dates(const vl_value *parent, const vl_value *next, int64_t commit_s)
{
	vl_roster_entry *e0 = NULL, *e1 = NULL;
	size_t n0 = 0, n1 = 0;
	int rc;

	/* The parent's index errors unwrapped, as this check always said them. */
	if ((rc = vl_roster_index(&e0, &n0, parent)) < 0 || (rc = vl_roster_index(&e1, &n1, next)) < 0)
		goto out;
	rc = check_dates(e0, n0, e1, n1, commit_s);
out:
	free(e0);
	free(e1);
	return rc;
}

typedef struct {
	vl_node *n;
	const char *fp;
	vl_value *heads;
} pin_ctx;

/* heads["scope/<code>"] = the last commit of key fp on that branch, if any. */
static int pin_head(const char code[13], const git_oid *head, void *ctx)
{
	pin_ctx *p = ctx;
	char key[32];
	uint64_t seq = 0;
	git_oid last;
	int rc;

	if ((rc = vl_repo_key_chain(&seq, &last, p->n->repo, head, p->fp)) < 0)
		return rc;
	snprintf(key, sizeof(key), "scope/%s", code);
	if (seq && vl_value_map_set(p->heads, key, vl_value_str(git_oid_tostr_s(&last))) < 0)
		return vl_error_set(VL_ENOMEM, "out of memory");
	return 0;
}

int vl_roster_pin_heads(vl_value *roster, vl_node *n, const char *fp)
{
	vl_value *heads = NULL, *keys = vl_value_map_get(roster, "keys"), *entry = NULL;
	pin_ctx p;
	size_t i;
	int rc;

	for (i = 0; keys && keys->kind == VL_V_LIST && i < keys->n; i++) {
		const char *f = map_str(keys->items[i], "fingerprint");
		if (f && !strcmp(f, fp))
			entry = keys->items[i];
	}
	if (!entry)
		return vl_error_set(VL_ENOTFOUND, "key %s is not on the roster", fp);
	if (!(heads = vl_value_new(VL_V_MAP)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	p.n = n;
	p.fp = fp;
	p.heads = heads;
	if ((rc = vl_scope_branches_each(n->repo, pin_head, &p)) < 0)
		goto out;
	if (heads->n) {
		if (vl_value_map_set(entry, "revoked_heads", heads) < 0) {
			heads = NULL; /* vl_value_map_set takes it, even on failure */
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		heads = NULL;
	}
out:
	vl_value_free(heads);
	return rc;
}

vl_value *vl_roster_entry_new(const unsigned char pk[32], const char *name, const char *role,
		const char *scope, const char *valid_from)
{
	vl_value *e = vl_value_new(VL_V_MAP);
	vl_buf key = VL_BUF_INIT;
	char fp[VL_FP_LEN];

	vl_fingerprint(fp, pk);
	if (!e || vl_pubkey_format(&key, pk, NULL) < 0 ||
			vl_value_map_set(e, "fingerprint", vl_value_str(fp)) < 0 ||
			vl_value_map_set(e, "key", vl_value_str(key.ptr)) < 0 ||
			vl_value_map_set(e, "name", vl_value_str(name)) < 0 ||
			vl_value_map_set(e, "role", vl_value_str(role)) < 0 ||
			vl_value_map_set(e, "scope", vl_value_str(scope)) < 0 ||
			vl_value_map_set(e, "valid_from", vl_value_str(valid_from)) < 0) {
		vl_value_free(e);
		e = NULL;
	}
	vl_buf_free(&key);
	return e;
}

int vl_roster_ssh_time(char out[16], const char *t)
{
	if (!t || !vl_datetime_valid(t))
		return vl_error_set(VL_EINVALID, "'%.40s' is not an RFC 3339 UTC time", t ? t : "");
	/* YYYY-MM-DDTHH:MM:SS -> YYYYMMDDHHMMSS */
	memcpy(out, t, 4);
	memcpy(out + 4, t + 5, 2);
	memcpy(out + 6, t + 8, 2);
	memcpy(out + 8, t + 11, 2);
	memcpy(out + 10, t + 14, 2);
	memcpy(out + 12, t + 17, 2);
	out[14] = 'Z';
	out[15] = '\0';
	return 0;
}

void vl_roster_time_text(char out[21], uint64_t ms)
{
	vl_hlc c = { ms, 0 };
	char t[VL_HLC_TEXT_LEN + 1];

	vl_hlc_format(t, &c);
	memcpy(out, t, 19);
	out[19] = 'Z';
	out[20] = '\0';
}
