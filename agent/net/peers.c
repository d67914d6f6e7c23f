/* peers.c - node.yaml's peers and their sync state (peers.h). */
#define _GNU_SOURCE
#include "agent/net/peers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/limits.h"
#include "store/value.h"
#include "store/yaml.h"

static int name_ok(const char *s)
{
	size_t i, l = strlen(s);

	if (l == 0 || l > VL_PEER_NAME_MAX || s[0] == '.')
		return 0;
	for (i = 0; i < l; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
				s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static const char *str_of(const vl_value *m, const char *key)
{
	const vl_value *v = vl_value_map_get(m, key);

	return v && v->kind == VL_V_STR ? vl_value_text(v) : NULL;
}

static int load_conf(vl_value **conf, vl_buf *path, const char *home)
{
	vl_buf b = VL_BUF_INIT;
	int rc;

	if ((rc = vl_buf_printf(path, "%s/node.yaml", home)) == 0 &&
			(rc = vl_buf_read_file(&b, path->ptr, VL_NODE_YAML_MAX)) == 0)
		rc = vl_yaml_load(conf, b.ptr ? b.ptr : "", b.len, &vl_yaml_file_limits, path->ptr);
	vl_buf_free(&b);
	return rc;
}

int vl_peers_load(vl_peer **out, size_t *n, const char *home)
{
	vl_value *conf = NULL;
	const vl_value *list;
	vl_buf path = VL_BUF_INIT;
	vl_peer *ps = NULL;
	size_t i, k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = load_conf(&conf, &path, home)) < 0)
		goto out;
	list = vl_value_map_get(conf, "peers");
	if (!list || list->kind != VL_V_LIST || list->n == 0) {
		rc = 0;
		goto out;
	}
	if (list->n > VL_PEERS_MAX || !(ps = calloc(list->n, sizeof(*ps)))) {
		rc = list->n > VL_PEERS_MAX ? vl_error_set(VL_ETOOBIG, "over %d peers in '%s'", VL_PEERS_MAX, path.ptr)
			: vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < list->n; i++) {
		const vl_value *e = list->items[i];
		const char *nm = e->kind == VL_V_MAP ? str_of(e, "name") : NULL;
		const char *ad = e->kind == VL_V_MAP ? str_of(e, "address") : NULL;
		const char *ky = e->kind == VL_V_MAP ? str_of(e, "key") : NULL;
		if (!nm || !ad || !name_ok(nm) || strlen(ad) >= sizeof(ps[k].address) ||
				(ky && (strncmp(ky, "SHA256:", 7) || strlen(ky) >= VL_FP_LEN))) {
			rc = vl_error_set(VL_EINVALID, "peer %zu in '%s' is malformed; fix it or add it again with "
					"'vledger peer add'", i + 1, path.ptr);
			goto out;
		}
		snprintf(ps[k].name, sizeof(ps[k].name), "%s", nm);
		snprintf(ps[k].address, sizeof(ps[k].address), "%s", ad);
		snprintf(ps[k].key, sizeof(ps[k].key), "%s", ky ? ky : "");
		k++;
	}
	*out = ps;
	*n = k;
	ps = NULL;
	rc = 0;
out:
	free(ps);
	vl_value_free(conf);
	vl_buf_free(&path);
	return rc;
}

int vl_peers_find(vl_peer *out, const char *home, const char *name)
{
	vl_peer *ps = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = vl_peers_load(&ps, &n, home)) < 0)
		return rc;
	rc = VL_ENOTFOUND;
	for (i = 0; i < n; i++)
		if (!strcmp(ps[i].name, name)) {
			*out = ps[i];
			rc = 0;
			break;
		}
	free(ps);
	if (rc < 0)
		vl_error_set(rc, "no peer named '%s'; see 'vledger peer list'", name);
	return rc;
}

int vl_peers_add(const char *home, const vl_peer *p)
{
	vl_value *conf = NULL, *entry = NULL, *list;
	vl_buf path = VL_BUF_INIT, text = VL_BUF_INIT;
	size_t i;
	int rc;

	if (!name_ok(p->name))
		return vl_error_set(VL_EINVALID, "peer name '%s' is not 1 to %d of letters, digits, '.', '_', '-'",
				p->name, VL_PEER_NAME_MAX);
	if (!*p->address)
		return vl_error_set(VL_EINVALID, "give the peer's HOST[:PORT]");
	if (*p->key && strncmp(p->key, "SHA256:", 7))
		return vl_error_set(VL_EINVALID, "key '%s' is not a fingerprint (SHA256:...); see 'vledger roster list'",
				p->key);
	if ((rc = load_conf(&conf, &path, home)) < 0)
		goto out;
	list = vl_value_map_get(conf, "peers");
	if (!list) {
		if (!(list = vl_value_new(VL_V_LIST)) || (rc = vl_value_map_set(conf, "peers", list)) < 0) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
	} else if (list->kind != VL_V_LIST) {
		rc = vl_error_set(VL_EINVALID, "'peers' in '%s' is not a list; fix the file", path.ptr);
		goto out;
	}
	if (!(entry = vl_value_new(VL_V_MAP)) || vl_value_map_set(entry, "name", vl_value_str(p->name)) < 0 ||
			vl_value_map_set(entry, "address", vl_value_str(p->address)) < 0 ||
			(*p->key && vl_value_map_set(entry, "key", vl_value_str(p->key)) < 0)) {
		rc = vl_error_set(VL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < list->n; i++) {
		const char *nm = list->items[i]->kind == VL_V_MAP ? str_of(list->items[i], "name") : NULL;
		if (nm && !strcmp(nm, p->name)) {
			vl_value_free(list->items[i]);
			list->items[i] = entry;
			entry = NULL;
			break;
		}
	}
	if (entry) {
		if (list->n >= VL_PEERS_MAX) {
			rc = vl_error_set(VL_ETOOBIG, "'%s' has %d peers already", path.ptr, VL_PEERS_MAX);
			goto out;
		}
		rc = vl_value_list_push(list, entry); /* takes entry, also on failure */
		entry = NULL;
		if (rc < 0)
			goto out;
	}
	if ((rc = vl_yaml_emit(&text, conf)) < 0 || (rc = vl_buf_write_file(path.ptr, text.ptr, text.len, 0600)) < 0)
		goto out;
	rc = 0;
out:
	vl_value_free(entry);
	vl_value_free(conf);
	vl_buf_free(&path);
	vl_buf_free(&text);
	return rc;
}

void vl_peer_state_name(char out[VL_PEER_NAME_MAX + 1], const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < VL_PEER_NAME_MAX; i++)
		out[i] = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
			s[i] == '-' || (s[i] == '.' && i) ? s[i] : '_';
	out[i] = '\0';
}

static int state_path(vl_buf *p, const char *home, const char *name)
{
	char safe[VL_PEER_NAME_MAX + 1];

	vl_peer_state_name(safe, name);
	return vl_buf_printf(p, "%s/net/%s.state", home, safe);
}

int vl_peer_state_load(vl_peer_state *out, const char *home, const char *name)
{
	vl_buf p = VL_BUF_INIT, b = VL_BUF_INIT;
	char *line, *save = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = state_path(&p, home, name)) < 0)
		goto out;
	rc = vl_buf_read_file(&b, p.ptr, 64 * 1024);
	if (rc == VL_ENOTFOUND) {
		vl_error_clear();
		rc = 0;
		goto out;
	}
	if (rc < 0 || !b.ptr)
		goto out;
	for (line = strtok_r(b.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, ' ');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "last_success"))
			out->last_success = strtoll(v, NULL, 10);
		else if (!strcmp(line, "last_error"))
			out->last_error = strtoll(v, NULL, 10);
		else if (!strcmp(line, "next_try"))
			out->next_try = strtoll(v, NULL, 10);
		else if (!strcmp(line, "failures"))
			out->failures = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(line, "error"))
			snprintf(out->error, sizeof(out->error), "%s", v);
		else if (!strcmp(line, "key") && !strncmp(v, "SHA256:", 7))
			snprintf(out->key, sizeof(out->key), "%s", v);
	}
out:
	vl_buf_free(&p);
	vl_buf_free(&b);
	return rc;
}

int vl_peer_state_save(const vl_peer_state *s, const char *home, const char *name)
{
	vl_buf p = VL_BUF_INIT, b = VL_BUF_INIT;
	char err[sizeof(s->error)];
	size_t i;
	int rc;

	/* One line of text: no newline from a message may start a new key. */
	for (i = 0; s->error[i] && i < sizeof(err) - 1; i++)
		err[i] = s->error[i] == '\n' || s->error[i] == '\r' ? ' ' : s->error[i];
	err[i] = '\0';
	if ((rc = vl_buf_printf(&p, "%s/net", home)) < 0)
		goto out;
	if (mkdir(p.ptr, 0700) < 0 && errno != EEXIST) {
		rc = vl_error_set(VL_ERROR, "cannot create '%s': %s", p.ptr, strerror(errno));
		goto out;
	}
	vl_buf_clear(&p);
	if ((rc = state_path(&p, home, name)) < 0 ||
			(rc = vl_buf_printf(&b, "last_success %lld\nlast_error %lld\nnext_try %lld\nfailures %u\nkey %s\nerror %s\n",
					(long long)s->last_success, (long long)s->last_error, (long long)s->next_try,
					s->failures, s->key, err)) < 0 ||
			(rc = vl_buf_write_file(p.ptr, b.ptr, b.len, 0600)) < 0)
		goto out;
out:
	vl_buf_free(&p);
	vl_buf_free(&b);
	return rc;
}
