/*
 * audit.h - the history of records read back for people (docs/formats.md §9):
 * every version of a record field by field, who signed it, which commit
 * brought it, and for merged versions which rule decided each field that
 * both sides changed.
 *
 * A record carries its own hash chain: `prev` names the blob ids of the
 * versions it replaces (none for a new record, one for an edit, two for a
 * merge or a join). vl_audit_history_load walks that chain back from the
 * current version, then walks the branch once, oldest commit first, to find
 * the commit that first holds each version at the record's path.
 *
 * Merged versions are explained by re-deriving the merge: the base is the
 * record at the git merge base of the merge commit's two parents (a
 * virtual base for criss-cross histories, built by vl_merge_heads, which
 * stores its objects), or, when the merge commit is not known or a virtual
 * base cannot be built, the nearest version both sides descend from in the
 * record's own chain (`base_how` says which). The merge is then replayed
 * with the node's hooks, and each field is explained by the replay's
 * decision trace (vl_merge_trace, merge.h): which side, which rule or hook,
 * and why. A field whose stored value or conflict the replay does not
 * reproduce (a hook not installed here, another base) is shown as merged,
 * with a why that says the replay differs.
 *
 * Values are never masked here; callers mask personal fields for display
 * (vl_audit_mask_value). One thread at a time, like the node it reads.
 */
#ifndef VL_AUDIT_H
#define VL_AUDIT_H

#include "agent/node/node.h"
#include "store/limits.h"


/* How a field got its value in a version. */
typedef enum {
	VL_AUDIT_SET = 0,   /* a signed version set it: old -> now */
	VL_AUDIT_ONE_SIDE,  /* merge: only one side changed it; that side's value */
	VL_AUDIT_SAME,      /* merge: both sides made the same change */
	VL_AUDIT_RULE,      /* merge: both changed it; the field's rule decided */
	VL_AUDIT_PERSON     /* merge: both changed it; left to a person (a new
	                     * conflicts entry); the value is provisional */
} vl_audit_how;

/* One field that differs from the version(s) replaced. Values are borrowed
 * from the version's records (rec, prev, base_rec); NULL = absent. */
typedef struct {
	const char *field;      /* schema field name, or "_deleted" (edit/delete) */
	const vl_value *old;    /* the replaced version's value; a merge: the base's */
	const vl_value *now;
	vl_audit_how how;
	/* merges only */
	int side;               /* where now came from: 0 = x (prev[0]), 1 = y
	                         * (prev[1]), -1 = neither (a rule computed it) */
	const vl_value *x, *y;  /* the two sides' values */
	const char *rule;       /* RULE/PERSON: "lww", "sum", "hook:NAME", ...
	                         * (display text; the field's vl_merge_rule says
	                         * which); "on_delete" for an edit/delete */
	char *why;              /* RULE/PERSON/ONE_SIDE: one line saying how it
	                         * was decided (English); owned */
} vl_audit_change;

/* A conflict entry this version recorded or resolved. Borrowed. */
typedef struct {
	const char *field;          /* conflict key: a field or "_deleted" */
	int resolved;               /* 0 recorded here, 1 resolved here */
	const vl_value *candidates; /* recorded: the list of {value, from, author, clock} */
	const vl_value *value;      /* resolved: the field's value now (NULL absent) */
} vl_audit_conflict;

typedef struct {
	const vl_schema *schema;     /* borrowed from the node */
	char blob[VL_OID_HEX + 1];
	vl_record *rec;              /* owned */
	int sig_ok;                  /* 1 signature valid, 0 invalid, -1 merged (none) */
	const char *kind;            /* "add" "edit" "delete" "merge" "resolve" "join" */
	size_t seq;                  /* position of its commit in the walk, oldest first */
	/* the commit that first holds this version at the record's path */
	int have_commit;
	char commit[VL_OID_HEX + 1];
	long long commit_time;       /* committer time, seconds since the epoch */
	char *commit_name;           /* committer name (roster name, or "vledger merge") */
	char *summary;               /* the commit's first line */
	char *reason;                /* Vledger-Reason trailer (deletions), or NULL */
	char *operator_name;         /* Vledger-Operator trailer (vl_message_operator): the
	                              * name the key holder claims, or NULL; owned */
	/* prev[k]: the version rec->prev[k] names, loaded (owned); NULL when
	 * the repository lacks it. A join's prevs are one version of this
	 * record and one of the record joined in. */
	vl_record *prev[2];
	int prev_missing;            /* a prev blob is not in the repository */
	char joined[VL_ULID_LEN + 1];/* join: id of the record joined in, else "" */
	/* merges */
	int have_base;               /* the merge had a base version (not add/add) */
	char base[VL_OID_HEX + 1];
	vl_record *base_rec;         /* owned, NULL without a base */
	const char *base_how;        /* "commit", "virtual", "chain" or "none" */
	int replay;                  /* 1 the replay gives these bytes, 0 it does not,
	                              * -1 not a merge */
	vl_audit_change *changes;    /* in schema order ("_deleted" first) */
	size_t nchanges;
	vl_audit_conflict *conflicts;
	size_t nconflicts;
} vl_audit_version;

void vl_audit_version_free(vl_audit_version *v);

typedef struct {
	const vl_schema *schema;     /* borrowed from the node */
	char id[VL_ULID_LEN + 1];
	char scope[13];
	char ref[64];
	vl_audit_version *v;         /* oldest first; v[n - 1] is the current one */
	size_t n;
	int *prev_ix;                /* 2 per version: index of prev[k] in v, or -1 */
} vl_audit_history;

/*
 * Every version of record `id` (found as vl_ledger_find finds it), oldest
 * first, each described. VL_ENOTFOUND if there is no such record,
 * VL_ETOOBIG past VL_AUDIT_MAX_VERSIONS. out is zeroed at entry and
 * filled only on success; free it with vl_audit_history_free.
 */
int vl_audit_history_load(vl_audit_history *out, vl_node *n, const char *id) VL_MUST_CHECK;
void vl_audit_history_free(vl_audit_history *h);

/*
 * For each field of the current version's data (in data order), the index
 * in h->v of the version that last set the value it has now: the oldest
 * version from which the value came down unchanged. *out has
 * h->v[h->n - 1].rec->data->n entries; caller frees it with free().
 */
int vl_audit_blame(size_t **out, const vl_audit_history *h) VL_MUST_CHECK;

/*
 * The versions that commits of the scope branches covered by `scope`
 * (NULL: every scope branch) brought in, branch by branch in ref order,
 * oldest commit first, each described; only those whose clock date
 * (UTC, YYYY-MM-DD) lies in [from, to] (either may be NULL: open).
 * A version is brought in by a commit when its blob differs from the one
 * at its path in every parent. out: caller frees each with
 * vl_audit_version_free and the array with free().
 */
int vl_audit_collect(vl_audit_version **out, size_t *nout, vl_node *n, const char *scope,
		const char *from, const char *to) VL_MUST_CHECK;

/* A copy of v masked as field `field` of s would be (a conflict key
 * "_deleted" holds whole data maps); NULL stays NULL. Caller frees with
 * vl_value_free. */
int vl_audit_mask_value(vl_value **out, const vl_schema *s, const char *field, const vl_value *v) VL_MUST_CHECK;

/* Display text of a value: enum values as "label (value)", datetimes in
 * local time at tz_min minutes east of UTC (agent/node/tz.h), other scalars
 * as they are, lists and maps as JSON, absent as "-". Appends to out. */
int vl_audit_value_text(vl_buf *out, const vl_field *f, const vl_value *v, int tz_min) VL_MUST_CHECK;

/* Short names: "set" "one_side" "same" "rule" "person". */
const char *vl_audit_how_name(vl_audit_how how);

#endif
