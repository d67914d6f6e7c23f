/*
 * lan_ops.c - peer lan: listen for announcements, match them against the
 * roster (lan_ops.h).
 */
#include "agent/ops/lan_ops.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	vl_node *node;
	const vl_peer_lan_opts *opts;
	vl_peer_lan_result *res;
	size_t cap;
	int rc;                 /* first failure inside the callback */
} collect_ctx;

void vl_peer_lan_result_free(vl_peer_lan_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->peers[i].name);
		free(r->peers[i].role);
	}
	free(r->peers);
	memset(r, 0, sizeof(*r));
}

static int collect(void *vctx, const vl_lan_peer *p)
{
	collect_ctx *c = vctx;
	const vl_roster_entry *e = c->node->config_loaded ? vl_node_roster_find(c->node, p->fp_text) : NULL;
	int self = !strcmp(p->fp_text, c->node->fp);
	vl_lan_found *f;

	if (c->opts->roster_only && (!e || e->revoked_at || self))
		return 0;
	if (vl_array_grow((void **)&c->res->peers, &c->cap, c->res->n, sizeof(*c->res->peers)) < 0) {
		c->rc = vl_error_set(VL_ENOMEM, "out of memory");
		return 1;
	}
	f = &c->res->peers[c->res->n];
	memset(f, 0, sizeof(*f));
	memcpy(f->addr, p->addr, sizeof(f->addr));
	f->port = p->port;
	memcpy(f->fp, p->fp_text, sizeof(f->fp));
	f->self = self;
	if (e) {
		f->on_roster = 1;
		memcpy(f->pk, e->pk, 32);
		memcpy(f->scope, e->scope, strnlen(e->scope, 12));
		f->revoked = e->revoked_at != NULL;
		if ((e->name && !(f->name = strdup(e->name))) || (e->role && !(f->role = strdup(e->role)))) {
			free(f->name);
			free(f->role);
			c->rc = vl_error_set(VL_ENOMEM, "out of memory");
			return 1;
		}
	}
	c->res->n++;
	return 0;
}

static int found_cmp(const void *a, const void *b)
{
	const vl_lan_found *x = a, *y = b;
	int c = strcmp(x->addr, y->addr);

	if (c)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return strcmp(x->fp, y->fp);
}

int vl_peer_lan(vl_node *n, const vl_peer_lan_opts *opts, vl_peer_lan_result *out)
{
	static const vl_peer_lan_opts defaults = VL_PEER_LAN_OPTS_INIT;
	collect_ctx c;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	out->wait_ms = opts->wait_ms ? opts->wait_ms : VL_LAN_WAIT_MS;
	out->udp_port = opts->udp_port ? opts->udp_port : vl_lan_default_port();
	/* The roster names who was heard; a node without config yet still
	 * lists addresses and fingerprints. */
	if (!n->config_loaded && (rc = vl_node_load_config(n)) < 0 && rc != VL_ENOTFOUND)
		return rc;
	memset(&c, 0, sizeof(c));
	c.node = n;
	c.opts = opts;
	c.res = out;
	if ((rc = vl_lan_discover(n->network_id, out->udp_port, out->wait_ms, collect, &c)) < 0)
		return rc;
	if (c.rc < 0)
		return c.rc;
	if (out->n > 1)
		qsort(out->peers, out->n, sizeof(*out->peers), found_cmp);
	return 0;
}

/* ---- sync --lan ------------------------------------------------------------ */

void vl_sync_lan_result_free(vl_sync_lan_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->items[i].message);
		vl_sync_result_free(&r->items[i].sync);
	}
	free(r->items);
	vl_peer_lan_result_free(&r->heard);
	memset(r, 0, sizeof(*r));
}

int vl_sync_lan(vl_node *n, const vl_sync_lan_opts *opts, vl_sync_lan_result *out)
{
	static const vl_sync_lan_opts defaults = VL_SYNC_LAN_OPTS_INIT;
	vl_peer_lan_opts lo = VL_PEER_LAN_OPTS_INIT;
	size_t cap = 0, i, j, k;
	int rc, first_rc = 0;
	char *first_msg = NULL;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	lo.wait_ms = opts->wait_ms;
	lo.udp_port = opts->udp_port;
	lo.roster_only = 1;
	if ((rc = vl_peer_lan(n, &lo, &out->heard)) < 0)
		return rc;
	for (i = 0; i < out->heard.n; i++) {
		vl_lan_synced *it;
		/* Each fingerprint once: its first address heard starts the list. */
		for (k = 0; k < out->n && strcmp(out->heard.peers[out->items[k].heard].fp, out->heard.peers[i].fp); k++)
			;
		if (k < out->n)
			continue;
		if ((rc = vl_array_grow((void **)&out->items, &cap, out->n, sizeof(*out->items))) < 0) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		it = &out->items[out->n++];
		memset(it, 0, sizeof(*it));
		it->rc = VL_ENOTFOUND;
		for (j = i; j < out->heard.n; j++) {
			const vl_lan_found *f = &out->heard.peers[j];
			vl_sync_opts so = VL_SYNC_OPTS_INIT;
			if (strcmp(f->fp, out->heard.peers[i].fp) != 0)
				continue;
			so.host = f->addr;
			so.port = f->port;
			so.server_pk = f->pk;
			so.push = opts->push;
			if (opts->timeout_ms > 0)
				so.timeout_ms = opts->timeout_ms;
			so.progress = opts->progress;
			vl_sync_result_free(&it->sync);
			free(it->message);
			it->message = NULL;
			it->heard = j;
			it->tries++;
			if ((it->rc = vl_sync(n, &so, &it->sync)) == 0)
				break;
			if (!(it->message = strdup(vl_error_last()))) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
		}
		if (it->rc < 0) {
			out->failed++;
			if (!first_rc) {
				first_rc = it->rc;
				first_msg = it->message;
			}
		}
	}
	rc = 0;
	if (out->failed)
		rc = vl_error_set(first_rc, "%zu of %zu roster peers heard on the lan could not be synced; the first: %s",
				out->failed, out->n, first_msg ? first_msg : "");
out:
	return rc;
}
