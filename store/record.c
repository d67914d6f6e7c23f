/* record.c - canonical signed record files (see record.h). */
#include "store/record.h"

#include <stdlib.h>
#include <string.h>

#include "store/yaml.h"

static const char *const top_keys[] = {
	"schema", "id", "scope", "clock", "author", "prev", "data", "deleted", "conflicts", "sig"
};
/* Indices into top_keys. */
enum { K_SCHEMA, K_ID, K_SCOPE, K_CLOCK, K_AUTHOR, K_PREV, K_DATA, K_DELETED, K_CONFLICTS, K_SIG, K_N };

int vl_ledger_name_valid(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > 32 || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int is_scope(const char *s)
{
	size_t i;

	if (!s || strlen(s) != 12)
		return 0;
	for (i = 0; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int is_oid_hex(const char *s)
{
	size_t i;

	if (!s || strlen(s) != VL_OID_HEX)
		return 0;
	for (i = 0; i < VL_OID_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int is_fingerprint(const char *s)
{
	size_t i;

	if (!s || strlen(s) != VL_FP_LEN - 1 || strncmp(s, "SHA256:", 7) != 0)
		return 0;
	for (i = 7; i < VL_FP_LEN - 1; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
				(s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/'))
			return 0;
	return 1;
}

int vl_record_new(vl_record **out, const char *schema, const char *id, const char *scope)
{
	vl_record *r = NULL;
	int rc = 0;

	*out = NULL;
	if (!vl_ledger_name_valid(schema) || !vl_ulid_valid(id) || !is_scope(scope))
		return vl_error_set(VL_EINVALID, "record needs a ledger name, a ULID id and a 12-digit scope");
	r = calloc(1, sizeof(*r));
	if (!r || !(r->schema = strdup(schema)) || !(r->data = vl_value_new(VL_V_MAP))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(r->id, id, VL_ULID_LEN + 1);
	memcpy(r->scope, scope, 13);
	*out = r;
	r = NULL;
out:
	vl_record_free(r);
	return rc;
}

void vl_record_free(vl_record *r)
{
	if (!r)
		return;
	free(r->schema);
	free(r->prev);
	vl_value_free(r->data);
	vl_value_free(r->conflicts);
	free(r->sig);
	free(r);
}

/* Build the YAML tree of a record (borrowing nothing: data is cloned). Its
 * keys are distinct by construction: appended, not searched for. */
static int record_tree(vl_value **out, const vl_record *r, int with_sig)
{
	vl_value *m = vl_value_new(VL_V_MAP), *prev = NULL;
	size_t i;
	int rc = VL_ENOMEM;

	*out = NULL;
	if (!m)
		goto oom;
	if (vl_value_map_append(m, "schema", 6, vl_value_str(r->schema)) < 0 ||
			vl_value_map_append(m, "id", 2, vl_value_str(r->id)) < 0 ||
			vl_value_map_append(m, "scope", 5, vl_value_str(r->scope)) < 0 ||
			vl_value_map_append(m, "clock", 5, vl_value_str(r->clock)) < 0 ||
			vl_value_map_append(m, "author", 6, vl_value_str(r->author)) < 0)
		goto oom;
	if (!(prev = vl_value_new(VL_V_LIST)))
		goto oom;
	for (i = 0; i < r->nprev; i++)
		if (vl_value_list_push(prev, vl_value_str(r->prev[i])) < 0)
			goto oom;
	rc = vl_value_map_append(m, "prev", 4, prev);
	prev = NULL;
	if (rc < 0)
		goto oom;
	if (vl_value_map_append(m, "data", 4, r->data ? vl_value_clone(r->data) : vl_value_new(VL_V_MAP)) < 0)
		goto oom;
	if (r->deleted && vl_value_map_append(m, "deleted", 7, vl_value_bool(1)) < 0)
		goto oom;
	if (r->conflicts && vl_value_map_append(m, "conflicts", 9, vl_value_clone(r->conflicts)) < 0)
		goto oom;
	if (with_sig && r->sig && vl_value_map_append(m, "sig", 3, vl_value_str(r->sig)) < 0)
		goto oom;
	*out = m;
	return 0;
oom:
	vl_value_free(prev);
	vl_value_free(m);
	return vl_error_set(VL_ENOMEM, "out of memory building a record");
}

/*
 * Detach the borrowed data and conflicts trees that record_tree_borrowed
 * put into m (leaving NULL slots, which vl_value_free skips), so freeing m
 * frees only what it built.
 */
static void tree_unborrow(vl_value *m, const vl_record *r)
{
	size_t i;

	for (i = 0; m && i < m->n; i++)
		if ((r->data && m->items[i] == r->data) || (r->conflicts && m->items[i] == r->conflicts))
			m->items[i] = NULL;
}

/*
 * record_tree, but data and conflicts are borrowed from r rather than
 * cloned (two deep copies per record read, for a tree that is only
 * emitted): empty placeholders take their places, then r's own trees are
 * swapped in. The caller must tree_unborrow the tree before freeing it.
 */
static int record_tree_borrowed(vl_value **out, const vl_record *r, int with_sig)
{
	vl_value *m = NULL, *empty = NULL;
	vl_record shallow = *r;
	size_t i;
	int rc;

	*out = NULL;
	if (r->conflicts && !(empty = vl_value_new(VL_V_MAP)))
		return vl_error_set(VL_ENOMEM, "out of memory building a record");
	shallow.data = NULL;
	shallow.conflicts = empty; /* cloned by record_tree: an empty map */
	rc = record_tree(&m, &shallow, with_sig);
	vl_value_free(empty);
	if (rc < 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		if (r->data && !strcmp(m->keys[i], "data")) {
			vl_value_free(m->items[i]);
			m->items[i] = r->data;
		} else if (r->conflicts && !strcmp(m->keys[i], "conflicts")) {
			vl_value_free(m->items[i]);
			m->items[i] = r->conflicts;
		}
	}
	*out = m;
	return 0;
}

int vl_record_emit(vl_buf *out, const vl_record *r, int with_sig)
{
	vl_value *tree = NULL;
	int rc;

	if ((rc = record_tree_borrowed(&tree, r, with_sig)) < 0)
		return rc;
	rc = vl_yaml_emit(out, tree);
	tree_unborrow(tree, r);
	vl_value_free(tree);
	return rc;
}

static int scalar_str(const vl_value *v)
{
	return v && v->kind == VL_V_STR;
}

/*
 * The record in tree (taken: freed here), loaded from buf[0..len).
 * proven: tree was read by vl_yaml_load_exact, so buf is the emission of
 * tree, and then of the record too (its fields are tree's own scalars,
 * lists and maps, in tree's order, each checked below): the re-emission
 * that proves the canonical form otherwise is not needed.
 */
static int record_from_tree(vl_record **out, vl_value *tree, const char *buf, size_t len, const char *src,
		int proven)
{
	vl_value *v;
	vl_record *r = NULL;
	vl_buf again = VL_BUF_INIT;
	size_t i, k = 0, slot[K_N];
	int rc = 0;

	/* Keys: the fixed ones in order, optional ones skipped when absent;
	 * slot[k] is where top_keys[k] is in tree (tree->n when absent: tree's
	 * keys are distinct, both readers refuse duplicates), so each is
	 * found once, not searched for. */
	for (k = 0; k < K_N; k++)
		slot[k] = tree->n;
	k = 0;
	for (i = 0; i < tree->n; i++) {
		while (k < K_N && strcmp(tree->keys[i], top_keys[k]) != 0 &&
				(k == K_DELETED || k == K_CONFLICTS || k == K_SIG))
			k++;
		if (k == K_N || strcmp(tree->keys[i], top_keys[k]) != 0) {
			rc = vl_error_set(VL_EINVALID, "%s:%d:%d: key '%.40s' is unknown or out of order "
					"(expected schema, id, scope, clock, author, prev, data, [deleted], [conflicts], sig)",
					src, tree->items[i]->line, tree->items[i]->col, tree->keys[i]);
			goto out;
		}
		slot[k] = i;
		k++;
	}
	for (k = 0; k < K_DELETED; k++) {
		if (slot[k] == tree->n) {
			rc = vl_error_set(VL_EINVALID, "%s: record has no '%s'", src, top_keys[k]);
			goto out;
		}
	}
#define TOP(k) (slot[k] < tree->n ? tree->items[slot[k]] : NULL)
	v = TOP(K_SCHEMA);
	if (!scalar_str(v) || !vl_ledger_name_valid(v->s)) {
		rc = vl_error_set(VL_EINVALID, "%s:%d:%d: 'schema' is not a ledger name", src, v->line, v->col);
		goto out;
	}
	/* Not vl_record_new: it would check a placeholder id and scope and
	 * make an empty data map, all replaced below; r is returned only once
	 * every field is set. */
	if (!(r = calloc(1, sizeof(*r))) || !(r->schema = strdup(v->s))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	v = TOP(K_ID);
	if (!scalar_str(v) || !vl_ulid_valid(v->s)) {
		rc = vl_error_set(VL_EINVALID, "%s:%d:%d: 'id' is not a lowercase ULID", src, v->line, v->col);
		goto out;
	}
	memcpy(r->id, v->s, VL_ULID_LEN + 1);
	v = TOP(K_SCOPE);
	if (!scalar_str(v) || !is_scope(v->s)) {
		rc = vl_error_set(VL_EINVALID, "%s:%d:%d: 'scope' is not a 12-digit division code", src, v->line, v->col);
		goto out;
	}
	memcpy(r->scope, v->s, 13);
	v = TOP(K_CLOCK);
	{
		vl_hlc c;
		if (!scalar_str(v) || vl_hlc_parse(&c, v->s) < 0) {
			rc = vl_error_set(VL_EINVALID, "%s:%d:%d: 'clock' is not a hybrid logical clock "
					"(YYYY-MM-DDTHH:MM:SS.mmmZ/NNNN)", src, v->line, v->col);
			goto out;
		}
	}
	memcpy(r->clock, v->s, VL_HLC_TEXT_LEN + 1);
	v = TOP(K_AUTHOR);
	if (!scalar_str(v) || (!is_fingerprint(v->s) && strcmp(v->s, VL_AUTHOR_MERGE) != 0)) {
		rc = vl_error_set(VL_EINVALID, "%s:%d:%d: 'author' is neither a SHA256 fingerprint nor 'merge'",
				src, v->line, v->col);
		goto out;
	}
	memcpy(r->author, v->s, v->slen + 1);
	v = TOP(K_PREV);
	if (v->kind != VL_V_LIST || v->n > 2) {
		rc = vl_error_set(VL_EINVALID, "%s:%d:%d: 'prev' must be a list of at most two blob ids",
				src, v->line, v->col);
		goto out;
	}
	if (v->n) {
		r->prev = calloc(v->n, sizeof(*r->prev));
		if (!r->prev) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < v->n; i++) {
		if (!scalar_str(v->items[i]) || !is_oid_hex(v->items[i]->s)) {
			rc = vl_error_set(VL_EINVALID, "%s:%d:%d: 'prev' item is not a 40-hex blob id",
					src, v->items[i]->line, v->items[i]->col);
			goto out;
		}
		memcpy(r->prev[i], v->items[i]->s, VL_OID_HEX + 1);
		r->nprev++;
	}
	if (r->nprev == 2 && strcmp(r->prev[0], r->prev[1]) >= 0) {
		rc = vl_error_set(VL_EINVALID, "%s:%d:%d: the two 'prev' ids must differ and be sorted",
				src, v->line, v->col);
		goto out;
	}
	v = TOP(K_DATA);
	if (v->kind != VL_V_MAP) {
		rc = vl_error_set(VL_EINVALID, "%s:%d:%d: 'data' must be a mapping", src, v->line, v->col);
		goto out;
	}
	/* the record owns the parsed subtree itself, not a clone of it (the
	 * tree keeps the key, with a NULL value that vl_value_free skips) */
	r->data = v;
	tree->items[slot[K_DATA]] = NULL;
	if ((v = TOP(K_DELETED))) {
		if (v->kind != VL_V_BOOL || strcmp(v->s, "true") != 0) {
			rc = vl_error_set(VL_EINVALID, "%s:%d:%d: 'deleted' may only be true (omit it otherwise)",
					src, v->line, v->col);
			goto out;
		}
		r->deleted = 1;
	}
	if ((v = TOP(K_CONFLICTS))) {
		if (v->kind != VL_V_MAP || v->n == 0) {
			rc = vl_error_set(VL_EINVALID, "%s:%d:%d: 'conflicts' must be a non-empty mapping",
					src, v->line, v->col);
			goto out;
		}
		r->conflicts = v;
		tree->items[slot[K_CONFLICTS]] = NULL;
	}
	v = TOP(K_SIG);
#undef TOP
	if (!strcmp(r->author, VL_AUTHOR_MERGE)) {
		if (v) {
			rc = vl_error_set(VL_EINVALID, "%s:%d:%d: a merged record carries no 'sig'", src, v->line, v->col);
			goto out;
		}
	} else {
		if (!scalar_str(v)) {
			rc = vl_error_set(VL_EBADSIG, "%s: record has no 'sig' (every authored record is signed)", src);
			goto out;
		}
		if (!(r->sig = strdup(v->s))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* One encoding only: what we would write must be what we read. */
	again.max = VL_RECORD_MAX_BYTES * 2;
	if (!proven && (rc = vl_record_emit(&again, r, 1)) < 0)
		goto out;
	if (!proven && (again.len != len || memcmp(again.ptr, buf, len) != 0)) {
		size_t at = 0, line = 1;
		while (at < len && at < again.len && buf[at] == again.ptr[at]) {
			if (buf[at] == '\n')
				line++;
			at++;
		}
		rc = vl_error_set(VL_EINVALID, "%s:%zu: record is not in canonical form (first difference at "
				"byte %zu); only vledger's emitter writes records", src, line, at);
		goto out;
	}
	*out = r;
	r = NULL;
out:
	vl_buf_free(&again);
	vl_value_free(tree);
	vl_record_free(r);
	return rc;
}

/*
 * A record is read by the exact canonical reader first (no libyaml, and no
 * re-emission: its acceptance proves the canonical form, yaml.h), then
 * checked by record_from_tree. A record it refuses is read as before: the
 * canonical-layout reader, record_from_tree with its last step re-emitting
 * the record and comparing it with buf (what makes that read sound), and
 * if any of it fails, the whole parse again with vl_yaml_load, so that a
 * refused record is refused exactly as before, with the same message.
 */
int vl_record_parse(vl_record **out, const char *buf, size_t len, const char *src)
{
	vl_value *tree = NULL;
	int rc;

	*out = NULL;
	if (len > VL_RECORD_MAX_BYTES)
		return vl_error_set(VL_ETOOBIG, "%s: record is %zu bytes, over the limit of %zu",
				src, len, VL_RECORD_MAX_BYTES);
	rc = vl_yaml_load_exact(&tree, buf, len, &vl_yaml_record_limits);
	if (rc == 0) {
		if ((rc = record_from_tree(out, tree, buf, len, src, 1)) == 0)
			return 0;
		/* the tree is the one the readers below give: it fails the same
		 * way there; vl_yaml_load gives the message */
	} else if (rc != VL_ENOMEM) {
		rc = vl_yaml_load_canonical(&tree, buf, len, &vl_yaml_record_limits);
		if (rc == 0 && (rc = record_from_tree(out, tree, buf, len, src, 0)) == 0)
			return 0;
	}
	if (rc == VL_ENOMEM)
		return rc;
	if ((rc = vl_yaml_load(&tree, buf, len, &vl_yaml_record_limits, src)) < 0)
		return rc;
	return record_from_tree(out, tree, buf, len, src, 0);
}

int vl_record_sign(vl_record *r, const vl_key *k, vl_buf *out)
{
	vl_buf body = VL_BUF_INIT, blob = VL_BUF_INIT, b64 = VL_BUF_INIT;
	int rc;

	vl_fingerprint(r->author, k->pk);
	free(r->sig);
	r->sig = NULL;
	body.max = VL_RECORD_MAX_BYTES;
	if ((rc = vl_record_emit(&body, r, 0)) < 0) {
		if (rc == VL_ETOOBIG)
			vl_error_set(rc, "record %s would be over the limit of %zu bytes", r->id, VL_RECORD_MAX_BYTES);
		goto out;
	}
	if ((rc = vl_sshsig_sign(&blob, k, VL_NS_RECORD, body.ptr, body.len)) < 0 ||
			(rc = vl_base64_encode(&b64, blob.ptr, blob.len)) < 0)
		goto out;
	r->sig = vl_buf_detach(&b64, NULL);
	if (!r->sig) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	/* The signed file is the body and its last line, `sig:` (top-level
	 * entries are emitted each on their own): the body is not emitted a
	 * second time. */
	if (out) {
		vl_value *last = vl_value_new(VL_V_MAP), *sig = NULL;
		if (!last || !(sig = vl_value_str(r->sig))) {
			vl_value_free(last);
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		if (vl_value_map_set(last, "sig", sig) < 0) { /* sig freed there */
			vl_value_free(last);
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		rc = vl_buf_put(out, body.ptr, body.len);
		if (rc == 0)
			rc = vl_yaml_emit(out, last);
		vl_value_free(last);
		if (rc < 0)
			goto out;
	}
	if (out && out->len > VL_RECORD_MAX_BYTES)
		rc = vl_error_set(VL_ETOOBIG, "record %s is over the limit of %zu bytes once signed",
				r->id, VL_RECORD_MAX_BYTES);
out:
	vl_buf_free(&body);
	vl_buf_free(&blob);
	vl_buf_free(&b64);
	return rc;
}

/* The fingerprint of the key this thread saw last: a village's records are
 * nearly all signed by one key, and a SHA-256 and a base64 per record
 * showed in verify. Equal keys only: it is the same function of pk. */
static _Thread_local unsigned char fp_key[32];
static _Thread_local char fp_text[VL_FP_LEN];
static _Thread_local int fp_have;

static void fingerprint_cached(char fp[VL_FP_LEN], const unsigned char pk[32])
{
	if (!fp_have || memcmp(fp_key, pk, sizeof(fp_key)) != 0) {
		vl_fingerprint(fp_text, pk);
		memcpy(fp_key, pk, sizeof(fp_key));
		fp_have = 1;
	}
	memcpy(fp, fp_text, VL_FP_LEN);
}

int vl_record_verify(const vl_record *r, const char *raw, size_t len, unsigned char pk_out[32])
{
	vl_buf blob = VL_BUF_INIT;
	unsigned char pk[32], small[VL_SSHSIG_MAX_BLOB];
	const void *bp = NULL;
	char fp[VL_FP_LEN];
	size_t signed_len, siglen, bloblen = 0;
	int rc;

	if (!r->sig)
		return vl_error_set(VL_EBADSIG, "record %s carries no signature", r->id);
	siglen = strlen(r->sig);
	/* vl_record_parse guaranteed the canonical form: the sig line is the
	 * last line, "sig: \"<base64>\"\n". */
	signed_len = len - (siglen + strlen("sig: \"\"\n"));
	if (len < siglen + 8 || memcmp(raw + signed_len, "sig: \"", 6) != 0 ||
			(signed_len > 0 && raw[signed_len - 1] != '\n'))
		return vl_error_set(VL_EBADSIG, "record %s: the sig line is not where the canonical form puts it", r->id);
	/* Out of memory is ours, not the record's: it stays VL_ENOMEM, so
	 * verify does not report a good record as forged. */
	/* A sig that fits a blob we accept is decoded on the stack, without
	 * libsodium's constant-time decoder (it is public); a longer one the
	 * old way, for the same "over the limit" finding. */
	if (siglen / 4 * 3 <= sizeof(small)) {
		if (vl_base64_decode_public(small, sizeof(small), &bloblen, r->sig, siglen) < 0) {
			rc = vl_error_set(VL_EBADSIG, "record %s: 'sig' is not base64", r->id);
			goto out;
		}
		bp = small;
	} else {
		if ((rc = vl_base64_decode(&blob, r->sig, siglen)) < 0) {
			if (rc != VL_ENOMEM)
				rc = vl_error_set(VL_EBADSIG, "record %s: 'sig' is not base64", r->id);
			goto out;
		}
		bp = blob.ptr;
		bloblen = blob.len;
	}
	if ((rc = vl_sshsig_verify(bp, bloblen, VL_NS_RECORD, raw, signed_len, pk)) < 0) {
		if (rc != VL_ENOMEM) {
			vl_error_wrap(VL_EBADSIG, "record %s", r->id);
			rc = VL_EBADSIG;
		}
		goto out;
	}
	fingerprint_cached(fp, pk);
	if (strcmp(fp, r->author) != 0) {
		rc = vl_error_set(VL_EBADSIG, "record %s: signed by %s but claims author %s", r->id, fp, r->author);
		goto out;
	}
	if (pk_out)
		memcpy(pk_out, pk, 32);
out:
	vl_buf_free(&blob);
	return rc;
}

int vl_record_path(vl_buf *out, const char *schema, const char *id)
{
	size_t n = strlen(id);

	if (n == 0)
		return vl_error_set(VL_EINVALID, "empty record id");
	return vl_buf_printf(out, "%s/%c/%s.yaml", schema, id[n - 1], id);
}
