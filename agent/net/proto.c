/* proto.c - the session protocol (proto.h): framing, strict parsers, and
 * the two sides of a transfer (chunked packs in, each through vl_receive). */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include "agent/net/proto.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/node/ledger.h"
#include "agent/sync/bundle.h"
#include "agent/sync/source.h"
#include "schemas/types.h"
#include "store/i18n.h"
#include "store/repo.h"

/* ---- refs lists ---------------------------------------------------------- */

void vl_proto_refs_free(vl_proto_refs *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->refs[i].name);
	free(r->refs);
	memset(r, 0, sizeof(*r));
}

int vl_proto_refs_add(vl_proto_refs *r, const char *name, const git_oid *id)
{
	int rc;

	if ((rc = vl_array_grow((void **)&r->refs, &r->cap, r->n, sizeof(*r->refs))) < 0)
		return rc;
	if (!(r->refs[r->n].name = strdup(name)))
		return vl_error_set(VL_ENOMEM, "out of memory");
	git_oid_cpy(&r->refs[r->n].id, id);
	r->n++;
	return 0;
}

const git_oid *vl_proto_refs_get(const vl_proto_refs *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->refs[i].name, name))
			return &r->refs[i].id;
	return NULL;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int vl_proto_refs_encode(vl_buf *out, const vl_proto_refs *r)
{
	unsigned char n4[4];
	size_t i;
	int rc;

	if (r->n > VL_PROTO_MAX_REFS)
		return vl_error_set(VL_ETOOBIG, "over %d refs to offer", VL_PROTO_MAX_REFS);
	put_u32(n4, (uint32_t)r->n);
	if ((rc = vl_buf_put(out, n4, 4)) < 0)
		return rc;
	for (i = 0; i < r->n; i++) {
		size_t l = strlen(r->refs[i].name);
		unsigned char l1 = (unsigned char)l;
		if (l == 0 || l > VL_PROTO_MAX_REFNAME)
			return vl_error_set(VL_EINVALID, "a ref name is over %d bytes", VL_PROTO_MAX_REFNAME);
		if ((rc = vl_buf_put(out, &l1, 1)) < 0 || (rc = vl_buf_put(out, r->refs[i].name, l)) < 0 ||
				(rc = vl_buf_put(out, r->refs[i].id.id, GIT_OID_RAWSZ)) < 0)
			return rc;
	}
	return 0;
}

/* A ref name a peer may send: "refs/" then what git accepts. */
static int refname_ok(const unsigned char *s, size_t len)
{
	size_t i;

	if (len < 6 || memcmp(s, "refs/", 5) || s[len - 1] == '/' || s[len - 1] == '.')
		return 0;
	if (len >= 5 && !memcmp(s + len - 5, ".lock", 5))
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c < 0x21 || c >= 0x7f || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' || c == '[' ||
				c == '\\')
			return 0;
		if (i + 1 < len && ((c == '.' && s[i + 1] == '.') || (c == '/' && s[i + 1] == '/') ||
				(c == '@' && s[i + 1] == '{') || (c == '/' && s[i + 1] == '.')))
			return 0;
	}
	return 1;
}

static int refs_parse_at(vl_proto_refs *out, size_t *used, const unsigned char *p, size_t len)
{
	vl_proto_refs r = { NULL, 0, 0 };
	size_t off = 4, i, k;
	uint32_t count;
	char name[VL_PROTO_MAX_REFNAME + 1];
	git_oid id;
	int rc;

	if (len < 4)
		return vl_error_set(VL_EPROTO, "peer sent a truncated refs list");
	count = get_u32(p);
	if (count > VL_PROTO_MAX_REFS)
		return vl_error_set(VL_EPROTO, "peer offered over %d refs", VL_PROTO_MAX_REFS);
	for (i = 0; i < count; i++) {
		size_t l;
		if (off >= len) {
			rc = vl_error_set(VL_EPROTO, "peer sent a truncated refs list");
			goto fail;
		}
		l = p[off++];
		if (l == 0 || len - off < l + GIT_OID_RAWSZ) {
			rc = vl_error_set(VL_EPROTO, "peer sent a truncated refs list");
			goto fail;
		}
		if (!refname_ok(p + off, l)) {
			rc = vl_error_set(VL_EPROTO, "peer offered a ref with a malformed name");
			goto fail;
		}
		memcpy(name, p + off, l);
		name[l] = '\0';
		off += l;
		git_oid_fromraw(&id, p + off);
		off += GIT_OID_RAWSZ;
		for (k = 0; k < r.n; k++)
			if (!strcmp(r.refs[k].name, name)) {
				rc = vl_error_set(VL_EPROTO, "peer offered one ref twice");
				goto fail;
			}
		if ((rc = vl_proto_refs_add(&r, name, &id)) < 0)
			goto fail;
	}
	*out = r;
	*used = off;
	return 0;
fail:
	vl_proto_refs_free(&r);
	return rc;
}

int vl_proto_refs_parse(vl_proto_refs *out, const unsigned char *p, size_t len)
{
	size_t used = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = refs_parse_at(out, &used, p, len)) < 0)
		return rc;
	if (used != len) {
		vl_proto_refs_free(out);
		return vl_error_set(VL_EPROTO, "peer sent bytes after its refs list");
	}
	return 0;
}

int vl_proto_haves_parse(git_oid **out, size_t *n, const unsigned char *p, size_t len)
{
	git_oid *ids = NULL;
	uint32_t count, i;

	*out = NULL;
	*n = 0;
	if (len < 4)
		return vl_error_set(VL_EPROTO, "peer sent a truncated list of what it holds");
	count = get_u32(p);
	if (count > VL_PROTO_MAX_HAVES)
		return vl_error_set(VL_EPROTO, "peer named over %d commits it holds", VL_PROTO_MAX_HAVES);
	if (len - 4 != (size_t)count * GIT_OID_RAWSZ)
		return vl_error_set(VL_EPROTO, "peer's list of what it holds has the wrong length");
	if (count && !(ids = malloc((size_t)count * sizeof(*ids))))
		return vl_error_set(VL_ENOMEM, "out of memory");
	for (i = 0; i < count; i++)
		git_oid_fromraw(&ids[i], p + 4 + (size_t)i * GIT_OID_RAWSZ);
	*out = ids;
	*n = count;
	return 0;
}

int vl_proto_chunk_parse(int *final, uint64_t *packlen, vl_proto_refs *refs, const unsigned char *p, size_t len)
{
	uint64_t l;
	size_t used = 0;
	int rc;

	memset(refs, 0, sizeof(*refs));
	if (len < 9)
		return vl_error_set(VL_EPROTO, "peer sent a truncated chunk header");
	if (p[0] > 1)
		return vl_error_set(VL_EPROTO, "peer sent a chunk header with a bad flag");
	l = (uint64_t)get_u32(p + 1) << 32 | get_u32(p + 5);
	if (l > VL_NET_MAX_CHUNK_PACK)
		return vl_error_set(VL_EPROTO, "peer announced a pack of %llu bytes (the cap is %llu)",
				(unsigned long long)l, (unsigned long long)VL_NET_MAX_CHUNK_PACK);
	if ((rc = refs_parse_at(refs, &used, p + 9, len - 9)) < 0)
		return rc;
	if (used != len - 9) {
		vl_proto_refs_free(refs);
		return vl_error_set(VL_EPROTO, "peer sent bytes after its chunk header");
	}
	if (!vl_proto_refs_get(refs, VL_REF_CONFIG)) {
		vl_proto_refs_free(refs);
		return vl_error_set(VL_EPROTO, "peer sent a chunk without its config branch");
	}
	*final = p[0];
	*packlen = l;
	return 0;
}

int vl_proto_hello_parse(int *mode, const unsigned char *p, size_t len)
{
	if (len != 2)
		return vl_error_set(VL_EPROTO, "peer sent a malformed hello");
	if (p[0] != VL_PROTO_VERSION)
		return vl_error_set(VL_EPROTO, "peer speaks protocol version %u, this node %d; update the older vledger",
				p[0], VL_PROTO_VERSION);
	if (p[1] > 1)
		return vl_error_set(VL_EPROTO, "peer sent a hello with an unknown mode");
	*mode = p[1];
	return 0;
}

/* Printable ASCII and UTF-8 bytes, no control characters. */
static int text_ok(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

int vl_proto_ack_parse(int *status, uint32_t *updated, uint32_t *refused, vl_buf *text, const unsigned char *p,
		size_t len)
{
	if (len < 9 || p[0] > 1)
		return vl_error_set(VL_EPROTO, "peer sent a malformed acknowledgement");
	if (len - 9 > VL_PROTO_MAX_TEXT || !text_ok(p + 9, len - 9))
		return vl_error_set(VL_EPROTO, "peer's acknowledgement text is too long or not text");
	*status = p[0];
	*updated = get_u32(p + 1);
	*refused = get_u32(p + 5);
	vl_buf_clear(text);
	return vl_buf_put(text, p + 9, len - 9);
}

/* ---- framing ------------------------------------------------------------- */

int vl_proto_send(vl_chan *c, int type, const void *payload, size_t len)
{
	unsigned char h[5];
	int rc;

	if (len > VL_PROTO_MAX_PAYLOAD)
		return vl_error_set(VL_ETOOBIG, "a message of %zu bytes is over the protocol's cap", len);
	h[0] = (unsigned char)type;
	put_u32(h + 1, (uint32_t)len);
	if ((rc = vl_chan_write(c, h, 5)) < 0 || (len && (rc = vl_chan_write(c, payload, len)) < 0) ||
			(rc = vl_chan_flush(c)) < 0)
		return rc;
	return 0;
}

/* Cap of each type's payload. */
static size_t payload_cap(int type)
{
	switch (type) {
	case VL_MSG_HELLO:
		return 2;
	case VL_MSG_PULL:
	case VL_MSG_PUSH:
	case VL_MSG_BYE:
		return 0;
	case VL_MSG_ACK:
		return 9 + VL_PROTO_MAX_TEXT;
	case VL_MSG_ERROR:
		return VL_PROTO_MAX_TEXT;
	default:
		return VL_PROTO_MAX_PAYLOAD;
	}
}

int vl_proto_recv(vl_chan *c, int *type, vl_buf *payload)
{
	unsigned char h[5];
	size_t got = 0, len;
	int rc;

	*type = 0;
	vl_buf_clear(payload);
	if ((rc = vl_chan_read(c, h, 1, &got)) < 0)
		return rc;
	if (got == 0)
		return vl_error_set(VL_EPROTO, "peer closed the session");
	if ((rc = vl_chan_read_exact(c, h + 1, 4)) < 0)
		return rc;
	len = get_u32(h + 1);
	if (h[0] < VL_MSG_HELLO || h[0] > VL_MSG_ERROR)
		return vl_error_set(VL_EPROTO, "peer sent a message of unknown type %u", h[0]);
	if (len > payload_cap(h[0]))
		return vl_error_set(VL_EPROTO, "peer sent a message of %zu bytes, over its cap of %zu", len,
				payload_cap(h[0]));
	if (len) {
		if ((rc = vl_buf_grow(payload, len + 1)) < 0)
			return rc;
		if ((rc = vl_chan_read_exact(c, payload->ptr, len)) < 0)
			return rc;
		payload->len = len;
		payload->ptr[len] = '\0';
	}
	if (h[0] == VL_MSG_ERROR) {
		if (!text_ok((const unsigned char *)(payload->ptr ? payload->ptr : ""), len))
			return vl_error_set(VL_EPROTO, "peer sent an error that is not text");
		return vl_error_set(VL_EDENIED, "peer said: %s", payload->ptr ? payload->ptr : "");
	}
	*type = h[0];
	return 0;
}

/* Expect a message of type want. */
static int recv_want(vl_chan *c, int want, vl_buf *payload, const char *what)
{
	int type, rc;

	if ((rc = vl_proto_recv(c, &type, payload)) < 0)
		return rc;
	if (type != want)
		return vl_error_set(VL_EPROTO, "peer sent message type %d where %s (type %d) belongs", type, what, want);
	return 0;
}

/* ---- what a peer may read ------------------------------------------------ */

void vl_transfer_stats_free(vl_transfer_stats *s)
{
	if (!s)
		return;
	vl_buf_free(&s->report);
	memset(s, 0, sizeof(*s));
}

typedef struct {
	vl_proto_refs *out;
	const char *scope;
} readable_ctx;

static int readable_add(const char code[13], const git_oid *head, void *ctx)
{
	readable_ctx *r = ctx;
	char name[64];

	if (!vl_division_covers(r->scope, code))
		return 0;
	vl_scope_ref(name, code);
	return vl_proto_refs_add(r->out, name, head);
}

int vl_proto_readable_refs(vl_proto_refs *out, vl_node *n, const char *scope)
{
	readable_ctx r;
	git_oid config;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = vl_repo_head(&config, n->repo, VL_REF_CONFIG)) < 0) {
		rc = vl_error_set(VL_ENOTFOUND, "this node has no config branch yet; fetch the network's config first");
		goto out;
	}
	if ((rc = vl_proto_refs_add(out, VL_REF_CONFIG, &config)) < 0)
		goto out;
	r.out = out;
	r.scope = scope;
	rc = vl_scope_branches_each(n->repo, readable_add, &r);
out:
	if (rc < 0)
		vl_proto_refs_free(out);
	return rc;
}

/* ---- sending ------------------------------------------------------------- */

static int push_oid(git_oid **arr, size_t *n, size_t *cap, const git_oid *id)
{
	int rc;

	if ((rc = vl_array_grow((void **)arr, cap, *n, sizeof(**arr))) < 0)
		return rc;
	git_oid_cpy(&(*arr)[(*n)++], id);
	return 0;
}

/* Is id a commit repo holds? */
static int is_commit(git_odb *odb, const git_oid *id)
{
	size_t len;
	git_object_t type;

	return git_odb_read_header(&len, &type, odb, id) == 0 && type == GIT_OBJECT_COMMIT;
}

typedef struct {
	vl_chan *c;
	vl_node *n;
	vl_transfer_stats *st;
	git_oid *sent;         /* refs of chunks sent so far: hidden from the next */
	size_t nsent, capsent;
	vl_buf pack, msg, reply, text;
} sender;

/* Send one chunk: the pack of what `offer` reaches beyond hide and what
 * earlier chunks brought, then wait for its ACK. */
static int send_chunk(sender *s, const vl_proto_refs *offer, const git_oid *hide, size_t nhide, int final)
{
	git_oid *tips = NULL, *all = NULL;
	unsigned char h[9];
	uint32_t updated = 0, refused = 0;
	size_t i, nall = 0, capall = 0, objects;
	int rc, status = 0;

	if (s->st->chunks >= VL_NET_MAX_CHUNKS)
		return vl_error_set(VL_ETOOBIG, "over %d chunks in one transfer", VL_NET_MAX_CHUNKS);
	vl_buf_clear(&s->pack);
	vl_buf_clear(&s->msg);
	if (offer->n && !(tips = malloc(offer->n * sizeof(*tips)))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < offer->n; i++)
		git_oid_cpy(&tips[i], &offer->refs[i].id);
	for (i = 0; i < nhide; i++)
		if ((rc = push_oid(&all, &nall, &capall, &hide[i])) < 0)
			goto out;
	for (i = 0; i < s->nsent; i++)
		if ((rc = push_oid(&all, &nall, &capall, &s->sent[i])) < 0)
			goto out;
	if ((rc = vl_pack_thin(&s->pack, &objects, NULL, s->n->repo, tips, offer->n, all, nall)) < 0)
		goto out;
	if (!objects)
		vl_buf_clear(&s->pack); /* nothing to send: no pack at all */
	if ((uint64_t)s->pack.len > VL_NET_MAX_CHUNK_PACK) {
		rc = vl_error_set(VL_ETOOBIG, "a chunk's pack is over %llu bytes",
				(unsigned long long)VL_NET_MAX_CHUNK_PACK);
		goto out;
	}
	h[0] = (unsigned char)final;
	put_u32(h + 1, (uint32_t)((uint64_t)s->pack.len >> 32));
	put_u32(h + 5, (uint32_t)s->pack.len);
	if ((rc = vl_buf_put(&s->msg, h, 9)) < 0 || (rc = vl_proto_refs_encode(&s->msg, offer)) < 0 ||
			(rc = vl_proto_send(s->c, VL_MSG_CHUNK, s->msg.ptr, s->msg.len)) < 0)
		goto out;
	if (s->pack.len && ((rc = vl_chan_write(s->c, s->pack.ptr, s->pack.len)) < 0 ||
			(rc = vl_chan_flush(s->c)) < 0))
		goto out;
	s->st->chunks++;
	s->st->objects += objects;
	s->st->pack_bytes += s->pack.len;
	vl_progress_report(&s->st->progress, N_("send"), s->st->objects, 0);
	if ((rc = recv_want(s->c, VL_MSG_ACK, &s->reply, _("an acknowledgement"))) < 0 ||
			(rc = vl_proto_ack_parse(&status, &updated, &refused, &s->text, (const unsigned char *)s->reply.ptr,
					s->reply.len)) < 0)
		goto out;
	s->st->updated += updated;
	s->st->refused += refused;
	if (status) {
		rc = vl_error_set(VL_EDENIED, "peer did not take what this node sent: %s",
				s->text.ptr ? s->text.ptr : "");
		goto out;
	}
	for (i = 0; i < offer->n; i++)
		if ((rc = push_oid(&s->sent, &s->nsent, &s->capsent, &offer->refs[i].id)) < 0)
			goto out;
	rc = 0;
out:
	free(tips);
	free(all);
	return rc;
}

/* Set name -> id in r (replacing). */
static int refs_set(vl_proto_refs *r, const char *name, const git_oid *id)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->refs[i].name, name)) {
			git_oid_cpy(&r->refs[i].id, id);
			return 0;
		}
	return vl_proto_refs_add(r, name, id);
}

int vl_proto_send_side(vl_transfer_stats *st, vl_chan *c, vl_node *n, const char *peer_scope)
{
	sender s;
	vl_proto_refs mine = { NULL, 0, 0 }, offer = { NULL, 0, 0 };
	git_odb *odb = NULL;
	git_revwalk *walk = NULL;
	git_oid *theirs = NULL, *hide = NULL, *line = NULL, id;
	size_t ntheirs = 0, nhide = 0, caphide = 0, nline = 0, capline = 0, i, k, count = 0;
	int rc;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.n = n;
	s.st = st;
	if ((rc = vl_proto_readable_refs(&mine, n, peer_scope)) < 0)
		goto out;
	if ((rc = vl_proto_refs_encode(&s.msg, &mine)) < 0 ||
			(rc = vl_proto_send(c, VL_MSG_REFS, s.msg.ptr, s.msg.len)) < 0)
		goto out;
	if ((rc = recv_want(c, VL_MSG_HAVES, &s.reply, _("the list of what it holds"))) < 0 ||
			(rc = vl_proto_haves_parse(&theirs, &ntheirs, (const unsigned char *)s.reply.ptr, s.reply.len)) < 0)
		goto out;
	/* Only commits we hold can be left out (the peer's list is just ids). */
	if ((rc = git_repository_odb(&odb, n->repo)) < 0) {
		rc = vl_error_git(rc, _("cannot read this node's objects"));
		goto out;
	}
	for (i = 0; i < ntheirs; i++)
		if (is_commit(odb, &theirs[i]) && (rc = push_oid(&hide, &nhide, &caphide, &theirs[i])) < 0)
			goto out;
	/* Chunks: each ref's missing commits oldest first, at most
	 * VL_NET_CHUNK_COMMITS commits a chunk; a chunk offers every ref at
	 * the newest commit sent of it (config first, so each chunk has one). */
	for (k = 0; k < mine.n; k++) {
		const vl_proto_ref *r = &mine.refs[k];
		nline = 0;
		if ((rc = git_revwalk_new(&walk, n->repo)) < 0) {
			rc = vl_error_git(rc, _("cannot walk this node's history"));
			goto out;
		}
		git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
		if ((rc = git_revwalk_push(walk, &r->id)) < 0) {
			rc = vl_error_git(rc, _("cannot walk this node's history"));
			goto out;
		}
		for (i = 0; i < nhide; i++)
			if ((rc = git_revwalk_hide(walk, &hide[i])) < 0) {
				rc = vl_error_git(rc, _("cannot walk this node's history"));
				goto out;
			}
		for (i = 0; i < s.nsent; i++)
			if ((rc = git_revwalk_hide(walk, &s.sent[i])) < 0) {
				rc = vl_error_git(rc, _("cannot walk this node's history"));
				goto out;
			}
		while ((rc = git_revwalk_next(&id, walk)) == 0)
			if ((rc = push_oid(&line, &nline, &capline, &id)) < 0)
				goto out;
		if (rc != GIT_ITEROVER) {
			rc = vl_error_git(rc, _("cannot walk this node's history"));
			goto out;
		}
		git_revwalk_free(walk);
		walk = NULL;
		for (i = 0; i < nline;) {
			size_t take = VL_NET_CHUNK_COMMITS - count;
			if (take > nline - i)
				take = nline - i;
			i += take;
			count += take;
			if ((rc = refs_set(&offer, r->name, &line[i - 1])) < 0)
				goto out;
			if (count == VL_NET_CHUNK_COMMITS && i < nline) {
				if ((rc = send_chunk(&s, &offer, hide, nhide, 0)) < 0)
					goto out;
				count = 0;
			}
		}
		if ((rc = refs_set(&offer, r->name, &r->id)) < 0)
			goto out;
	}
	/* The final chunk offers every ref at its head; the receiver merges. */
	rc = send_chunk(&s, &mine, hide, nhide, 1);
out:
	git_revwalk_free(walk);
	git_odb_free(odb);
	vl_proto_refs_free(&mine);
	vl_proto_refs_free(&offer);
	free(theirs);
	free(hide);
	free(line);
	free(s.sent);
	vl_buf_free(&s.pack);
	vl_buf_free(&s.msg);
	vl_buf_free(&s.reply);
	vl_buf_free(&s.text);
	return rc;
}

/* ---- receiving: the network source --------------------------------------- */

typedef struct {
	vl_source base;
	vl_proto_refs refs;
	char dir[4096];        /* the temporary pack directory, "" when none */
	git_odb *odb;
	unsigned char pk[32];
} net_source;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int net_list_refs(vl_source *s, vl_source_ref_cb fn, void *ctx)
{
	net_source *ns = (net_source *)s;
	size_t i;
	int rc;

	for (i = 0; i < ns->refs.n; i++)
		if ((rc = fn(ns->refs.refs[i].name, &ns->refs.refs[i].id, ctx)) < 0)
			return rc;
	return 0;
}

static int net_objects(vl_source *s, git_odb **out)
{
	*out = ((net_source *)s)->odb;
	return 0;
}

static int net_peer_key(vl_source *s, unsigned char pk[32])
{
	memcpy(pk, ((net_source *)s)->pk, 32);
	return 0;
}

static void net_free(vl_source *s)
{
	net_source *ns = (net_source *)s;

	git_odb_free(ns->odb);
	if (ns->dir[0])
		nftw(ns->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	vl_proto_refs_free(&ns->refs);
	vl_buf_free(&ns->base.label);
	free(ns);
}

static const vl_source_ops net_ops = { net_list_refs, net_objects, net_peer_key, net_free };

/* Read one chunk's pack (packlen bytes) off the channel into a directory
 * under <home>/cache and index it; the source offers refs (taken). */
static int open_chunk(net_source **out, size_t *objects, vl_chan *c, vl_node *n, vl_proto_refs *refs,
		uint64_t packlen, const unsigned char pk[32], const char *label)
{
	net_source *ns = NULL;
	vl_buf spool = VL_BUF_INIT;
	FILE *pf = NULL;
	unsigned char *chunk = NULL;
	uint64_t left = packlen;
	int rc;

	if (!(ns = calloc(1, sizeof(*ns))) || !(chunk = malloc(65536))) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	ns->base.ops = &net_ops;
	memcpy(ns->pk, pk, 32);
	ns->refs = *refs;
	memset(refs, 0, sizeof(*refs));
	if ((rc = vl_buf_puts(&ns->base.label, label)) < 0)
		goto out;
	snprintf(ns->dir, sizeof(ns->dir), "%s/cache/net-XXXXXX", n->home);
	if (!mkdtemp(ns->dir)) {
		ns->dir[0] = '\0';
		rc = vl_error_set(VL_ERROR, "cannot create a directory under '%s/cache': %s", n->home, strerror(errno));
		goto out;
	}
	if (packlen == 0) {
		/* Nothing new: the refs name commits the receiver holds. */
		if ((rc = git_odb_new(&ns->odb)) < 0) {
			rc = vl_error_git(rc, _("cannot set up an empty source"));
			goto out;
		}
	} else {
		if ((rc = vl_buf_printf(&spool, "%s/incoming.pack", ns->dir)) < 0)
			goto out;
		if (!(pf = fopen(spool.ptr, "w+b"))) {
			rc = vl_error_set(VL_ERROR, "cannot write '%s': %s", spool.ptr, strerror(errno));
			goto out;
		}
		while (left) {
			size_t part = left > 65536 ? 65536 : (size_t)left;
			if ((rc = vl_chan_read_exact(c, chunk, part)) < 0)
				goto out;
			if (fwrite(chunk, 1, part, pf) != part) {
				rc = vl_error_set(VL_ERROR, "cannot write '%s': %s", spool.ptr, strerror(errno));
				goto out;
			}
			left -= part;
		}
		if (fflush(pf) != 0) {
			rc = vl_error_set(VL_ERROR, "cannot write '%s': %s", spool.ptr, strerror(errno));
			goto out;
		}
		if ((rc = vl_pack_index_file(&ns->odb, objects, n, ns->dir, pf)) < 0) {
			if (rc == VL_EINVALID)
				vl_error_wrap(VL_EPROTO, "peer sent a bad pack");
			rc = rc == VL_EINVALID ? VL_EPROTO : rc;
			goto out;
		}
		fclose(pf);
		pf = NULL;
		unlink(spool.ptr);
	}
	*out = ns;
	ns = NULL;
	rc = 0;
out:
	if (pf)
		fclose(pf);
	free(chunk);
	vl_buf_free(&spool);
	if (ns)
		net_free(&ns->base);
	return rc;
}

/* One chunk through vl_receive on a node handle of its own (the write lock
 * is taken by the receive and dropped when the handle closes). Frees src
 * (its spool directory under cache/) first: no session's temporary
 * outlives the write it served, whatever the peer does next. */
static int receive_chunk(vl_transfer_stats *st, vl_node *n, vl_source *src, int final)
{
	vl_node *w = NULL;
	vl_receive_opts ro = VL_RECEIVE_OPTS_INIT;
	vl_receive_result res;
	int rc, i;

	memset(&res, 0, sizeof(res));
	ro.merge = final;
	if ((rc = vl_node_open(&w, n->home, 0, NULL)) < 0)
		goto out;
	/* Another writer (a local command, another session's receive) holds
	 * the lock only for its own write: wait for it, boundedly, while the
	 * peer waits for our acknowledgement. */
	for (i = 0; (rc = vl_node_lock_write(w)) == VL_ECONFLICT && i < VL_NET_LOCK_WAIT_MS / 50; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		vl_error_clear();
		nanosleep(&ts, NULL);
	}
	if (rc < 0)
		goto out;
	rc = vl_receive(w, src, &ro, &res);
	st->updated += res.branches_updated;
	st->refused += res.branches_refused;
	st->commits += res.commits;
	st->merges += res.merges;
	st->conflicts += res.conflicts;
	if (res.report.len && vl_buf_put(&st->report, res.report.ptr, res.report.len) < 0) {
		/* the report is a courtesy; the receive's own result stands */
	}
out:
	vl_receive_result_free(&res);
	vl_source_free(src);
	vl_node_close(w);
	return rc;
}

static int send_ack(vl_chan *c, int status, size_t updated, size_t refused, const char *text)
{
	unsigned char b[9 + VL_PROTO_MAX_TEXT];
	size_t l = text ? strlen(text) : 0, i;

	if (l > VL_PROTO_MAX_TEXT)
		l = VL_PROTO_MAX_TEXT;
	b[0] = (unsigned char)status;
	put_u32(b + 1, (uint32_t)updated);
	put_u32(b + 5, (uint32_t)refused);
	for (i = 0; i < l; i++)
		b[9 + i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? ' ' : (unsigned char)text[i];
	return vl_proto_send(c, VL_MSG_ACK, b, 9 + l);
}

/* The receiver's haves for the sender's refs: its own heads, the sender's
 * heads it holds, what it last received from this peer. */
static int make_haves(vl_buf *out, vl_node *n, const vl_proto_refs *theirs, const unsigned char peer_pk[32])
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	git_odb *odb = NULL;
	git_oid *ids = NULL;
	size_t nids = 0, cap = 0, i;
	char fp[VL_FP_LEN], glob[VL_FP_LEN + 32];
	unsigned char n4[4];
	int rc, k = 0;

	if ((rc = git_repository_odb(&odb, n->repo)) < 0) {
		rc = vl_error_git(rc, _("cannot read this node's objects"));
		goto out;
	}
	for (i = 0; i < theirs->n; i++)
		if (is_commit(odb, &theirs->refs[i].id) && (rc = push_oid(&ids, &nids, &cap, &theirs->refs[i].id)) < 0)
			goto out;
	vl_fingerprint(fp, peer_pk);
	snprintf(glob, sizeof(glob), "refs/peers/");
	for (i = 7; fp[i] && k < VL_FP_LEN; i++)
		glob[11 + k++] = fp[i] == '/' ? '_' : fp[i] == '+' ? '-' : fp[i];
	glob[11 + k] = '\0';
	if ((rc = vl_buf_printf(out, "%s", "")) < 0)
		goto out;
	{
		const char *globs[2] = { "refs/heads/*", NULL };
		char peerglob[VL_FP_LEN + 40];
		size_t g;
		snprintf(peerglob, sizeof(peerglob), "%s/*", glob);
		globs[1] = peerglob;
		for (g = 0; g < 2; g++) {
			if ((rc = git_reference_iterator_glob_new(&it, n->repo, globs[g])) < 0) {
				rc = vl_error_git(rc, _("cannot list this node's refs"));
				goto out;
			}
			while ((rc = git_reference_next(&ref, it)) == 0) {
				const git_oid *id = git_reference_target(ref);
				if (id && nids < VL_PROTO_MAX_HAVES && is_commit(odb, id) &&
						(rc = push_oid(&ids, &nids, &cap, id)) < 0)
					goto out;
				git_reference_free(ref);
				ref = NULL;
			}
			if (rc != GIT_ITEROVER) {
				rc = vl_error_git(rc, _("cannot list this node's refs"));
				goto out;
			}
			git_reference_iterator_free(it);
			it = NULL;
		}
	}
	if (nids > VL_PROTO_MAX_HAVES)
		nids = VL_PROTO_MAX_HAVES;
	vl_buf_clear(out);
	put_u32(n4, (uint32_t)nids);
	if ((rc = vl_buf_put(out, n4, 4)) < 0)
		goto out;
	for (i = 0; i < nids; i++)
		if ((rc = vl_buf_put(out, ids[i].id, GIT_OID_RAWSZ)) < 0)
			goto out;
	rc = 0;
out:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	git_odb_free(odb);
	free(ids);
	return rc;
}

int vl_proto_recv_side(vl_transfer_stats *st, vl_chan *c, vl_node *n, const unsigned char peer_pk[32])
{
	vl_buf msg = VL_BUF_INIT, out = VL_BUF_INIT;
	vl_proto_refs theirs = { NULL, 0, 0 }, refs = { NULL, 0, 0 };
	net_source *ns = NULL;
	char fp[VL_FP_LEN], label[VL_FP_LEN + 32];
	uint64_t packlen = 0;
	size_t upd0, ref0, objects;
	int rc, final = 0;

	vl_fingerprint(fp, peer_pk);
	snprintf(label, sizeof(label), "peer '%s'", fp);
	if ((rc = recv_want(c, VL_MSG_REFS, &msg, _("the refs list"))) < 0 ||
			(rc = vl_proto_refs_parse(&theirs, (const unsigned char *)msg.ptr, msg.len)) < 0)
		goto out;
	if ((rc = make_haves(&out, n, &theirs, peer_pk)) < 0 ||
			(rc = vl_proto_send(c, VL_MSG_HAVES, out.ptr, out.len)) < 0)
		goto out;
	while (!final) {
		if ((rc = recv_want(c, VL_MSG_CHUNK, &msg, _("a chunk"))) < 0 ||
				(rc = vl_proto_chunk_parse(&final, &packlen, &refs, (const unsigned char *)msg.ptr, msg.len)) < 0)
			goto out;
		objects = 0;
		if ((rc = open_chunk(&ns, &objects, c, n, &refs, packlen, peer_pk, label)) < 0) {
			if (rc == VL_EPROTO)
				(void)send_ack(c, 1, 0, 0, vl_error_last());
			goto out;
		}
		st->chunks++;
		st->objects += objects;
		st->pack_bytes += packlen;
		vl_progress_report(&st->progress, N_("receive"), st->objects, 0);
		upd0 = st->updated;
		ref0 = st->refused;
		rc = receive_chunk(st, n, &ns->base, final);
		ns = NULL;
		if (rc < 0) {
			char why[VL_PROTO_MAX_TEXT];
			snprintf(why, sizeof(why), "%s", vl_error_last());
			(void)send_ack(c, 1, st->updated - upd0, st->refused - ref0, why);
			vl_error_set(rc, "%s", why);
			goto out;
		}
		/* This chunk's counts: the sender adds them up. */
		if ((rc = send_ack(c, 0, st->updated - upd0, st->refused - ref0, "")) < 0)
			goto out;
	}
	rc = 0;
out:
	if (ns)
		vl_source_free(&ns->base);
	if (n->config_loaded && vl_node_reload_config(n) < 0 && rc == 0)
		rc = VL_ERROR;
	vl_proto_refs_free(&theirs);
	vl_proto_refs_free(&refs);
	vl_buf_free(&msg);
	vl_buf_free(&out);
	return rc;
}
