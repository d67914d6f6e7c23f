/* forge.c - see forge.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forge.h"
#include "store/hlc.h"
#include "store/record.h"
#include "store/repo.h"
#include "store/sshsig.h"
#include "testutil.h"
#include "store/ulid.h"
#include "store/yaml.h"

/* ---- homes, templates, the binary ---------------------------------------- */

void vf_path_in(char *out, size_t len, const char *dir, const char *rel)
{
	int n = snprintf(out, len, "%s/%s", dir, rel);

	assert_true(n > 0 && (size_t)n < len);
}

void vf_env_init(void)
{
	assert_int_equal(setenv("VLEDGER_SCHEMA_DIR", VL_SOURCE_DIR "/schemas", 1), 0);
	assert_int_equal(unsetenv("VLEDGER_HOME"), 0);
	assert_int_equal(unsetenv("VLEDGER_PASSPHRASE_FILE"), 0);
	assert_true(git_libgit2_init() > 0);
}

char *vf_sandbox(const char *template_dir)
{
	char *dir = vt_tmpdir();

	assert_int_equal(vt_run(NULL, "cp -a '%s'/. '%s'/", template_dir, dir), 0);
	return dir;
}

void vf_template_free(char *template_dir)
{
	vt_rmtree(template_dir);
	free(template_dir);
	git_libgit2_shutdown();
}

vf_node_copy *vf_node_copy_open(const char *template_dir, const char *node, int need_key, int load_config)
{
	vf_node_copy *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->dir = vf_sandbox(template_dir);
	vf_path_in(c->home, sizeof(c->home), c->dir, node);
	assert_int_equal(vl_node_open(&c->n, c->home, need_key, NULL), 0);
	if (load_config)
		assert_int_equal(vl_node_load_config(c->n), 0);
	return c;
}

void vf_node_copy_free(vf_node_copy *c)
{
	if (!c)
		return;
	vl_node_close(c->n);
	vt_rmtree(c->dir);
	free(c->dir);
	free(c);
}

char *vf_file_hashes(const char *home)
{
	char *out = NULL;

	assert_int_equal(vt_run(&out, "cd '%s/repo.git' && find . -type f -print0 | LC_ALL=C sort -z | "
			"xargs -0 sha256sum", home), 0);
	return out;
}

char *vf_ok(const char *home, const char *args)
{
	char *out = NULL;
	int rc = vt_run(&out, "'%s' -C '%s' %s", VL_BINARY, home, args);
	size_t l;

	if (rc != 0) {
		print_error("vledger -C %s %s exited %d:\n%s\n", home, args, rc, out);
		fail();
	}
	l = strlen(out);
	while (l && out[l - 1] == '\n')
		out[--l] = '\0';
	return out;
}

void vf_ok_free(const char *home, const char *args)
{
	free(vf_ok(home, args));
}

void vf_roster_add(const char *county, const char *home, const char *name, const char *role, const char *scope)
{
	char args[1024];
	char *key = vf_ok(home, "key");

	*strchr(key, '\n') = '\0';
	snprintf(args, sizeof(args), "roster add --name %s --role %s --scope %s --key '%s'", name, role, scope, key);
	free(key);
	vf_ok_free(county, args);
}

void vf_fetch_ok(const char *home, const char *src_repo)
{
	char args[800];

	snprintf(args, sizeof(args), "fetch '%s'", src_repo);
	vf_ok_free(home, args);
}

void vf_fetch_home(const char *home, const char *src_home)
{
	char repo[600];

	vf_path_in(repo, sizeof(repo), src_home, "repo.git");
	vf_fetch_ok(home, repo);
}

void vf_add_zone(char id[VL_ULID_LEN + 1], const char *home, const char *zone_no)
{
	char args[512];
	char *out;

	snprintf(args, sizeof(args), "add zone --set zone_no=%s --set designation=sealed --set area=a-%s "
			"--set status=active --set announced_at=2022-04-06T08:00:00Z", zone_no, zone_no);
	out = vf_ok(home, args);
	assert_int_equal(strlen(out), VL_ULID_LEN);
	assert_true(vl_ulid_valid(out));
	memcpy(id, out, VL_ULID_LEN + 1);
	free(out);
}

void vf_network(const char *dir, const char *county, const char *town, const char *town_role, const char *v1,
		const char *v2)
{
	char args[1024], net[600], crepo[600];

	vf_path_in(net, sizeof(net), dir, "network.yaml");
	vf_path_in(crepo, sizeof(crepo), county, "repo.git");
	vf_ok_free(county, "init --name County --role county --scope " VF_COUNTY_CODE " --new-network");
	snprintf(args, sizeof(args), "export network --output '%s'", net);
	vf_ok_free(county, args);
	snprintf(args, sizeof(args), "init --name Town --role township --scope " VF_TOWN_CODE " --network '%s'", net);
	vf_ok_free(town, args);
	snprintf(args, sizeof(args), "init --name V1 --role village --scope " VF_V1_CODE " --network '%s'", net);
	vf_ok_free(v1, args);
	snprintf(args, sizeof(args), "init --name V2 --role village --scope " VF_V2_CODE " --network '%s'", net);
	vf_ok_free(v2, args);
	vf_roster_add(county, town, "Town", town_role, VF_TOWN_CODE);
	vf_roster_add(county, v1, "V1", "village", VF_V1_CODE);
	vf_roster_add(county, v2, "V2", "village", VF_V2_CODE);
	vf_fetch_ok(town, crepo);
	vf_fetch_ok(v1, crepo);
	vf_fetch_ok(v2, crepo);
}

void vf_forger_open(vl_node **out, char *fp, const char *home)
{
	vl_node *n = NULL;

	assert_int_equal(vl_node_open(&n, home, 1, NULL), 0);
	assert_int_equal(vl_node_load_config(n), 0);
	if (fp)
		memcpy(fp, n->fp, VL_FP_LEN);
	*out = n;
}

void vf_must_contain(const char *hay, const char *needle, const char *what)
{
	if (!hay || !strstr(hay, needle)) {
		print_error("%s: expected '%s' in:\n%s\n", what, needle, hay ? hay : "(null)");
		fail();
	}
}

void vf_must_not_contain(const char *hay, const char *needle, const char *what)
{
	if (hay && strstr(hay, needle)) {
		print_error("%s: did not expect '%s' in:\n%s\n", what, needle, hay);
		fail();
	}
}

char *vf_snapshot(const char *repo)
{
	char *out = NULL;

	assert_int_equal(vt_run(&out, "git --git-dir '%s' for-each-ref && cd '%s' && find objects refs "
			"packed-refs -type f 2>/dev/null | LC_ALL=C sort; true", repo, repo), 0);
	return out;
}

/* ---- forging with libgit2 and the library -------------------------------- */

git_oid vf_head_of(git_repository *repo, const char *ref)
{
	git_oid id;

	assert_int_equal(vl_repo_head(&id, repo, ref), 0);
	return id;
}

void vf_move_ref(git_repository *repo, const char *ref, const git_oid *to)
{
	git_reference *r = NULL;

	assert_int_equal(git_reference_create(&r, repo, ref, to, 1, "test: forged"), 0);
	git_reference_free(r);
}

git_oid vf_put_blob(git_repository *repo, const char *data, size_t len)
{
	git_oid id;

	assert_int_equal(git_blob_create_from_buffer(&id, repo, data, len), 0);
	return id;
}

git_oid vf_tree_of(git_repository *repo, const git_oid *commit)
{
	git_commit *c = NULL;
	git_oid id;

	assert_int_equal(git_commit_lookup(&c, repo, commit), 0);
	git_oid_cpy(&id, git_commit_tree_id(c));
	git_commit_free(c);
	return id;
}

git_oid vf_tree_edit(git_repository *repo, const git_oid *base_tree, const char *path, const git_oid *blob,
		git_filemode_t mode)
{
	git_treebuilder *tb = NULL;
	git_tree *base = NULL;
	git_tree_update u;
	git_oid empty, out;

	if (!base_tree) {
		assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
		assert_int_equal(git_treebuilder_write(&empty, tb), 0);
		git_treebuilder_free(tb);
		base_tree = &empty;
	}
	memset(&u, 0, sizeof(u));
	u.action = blob ? GIT_TREE_UPDATE_UPSERT : GIT_TREE_UPDATE_REMOVE;
	u.path = path;
	u.filemode = mode;
	if (blob)
		git_oid_cpy(&u.id, blob);
	assert_int_equal(git_tree_lookup(&base, repo, base_tree), 0);
	assert_int_equal(git_tree_create_updated(&out, repo, base, 1, &u), 0);
	git_tree_free(base);
	return out;
}

void vf_chain_msg(vl_buf *msg, git_repository *repo, const git_oid *head, const char *fp, const char *trailers)
{
	uint64_t seq = 0;
	git_oid prev;

	if (head)
		assert_int_equal(vl_repo_key_chain(&seq, &prev, repo, head, fp), 0);
	assert_int_equal(vl_buf_printf(msg, "forged\n\n%sVledger-Seq: %llu\n", trailers ? trailers : "",
			(unsigned long long)seq + 1), 0);
	if (seq)
		assert_int_equal(vl_buf_printf(msg, "Vledger-Prev: %s\n", git_oid_tostr_s(&prev)), 0);
}

void vf_roster_name(char *out, size_t len, git_repository *repo, const char *fp)
{
	vl_buf b = VL_BUF_INIT;
	vl_value *doc = NULL;
	vl_yaml_limits lim = vl_yaml_file_limits;
	const vl_value *keys;
	size_t i;

	snprintf(out, len, "forger");
	lim.max_bytes = 4 << 20;
	lim.max_nodes = 1000000;
	if (vl_repo_read(&b, NULL, repo, VL_REF_CONFIG, NULL, "roster.yaml", 4 << 20) == 0 &&
			vl_yaml_load(&doc, b.ptr, b.len, &lim, "roster.yaml") == 0 &&
			(keys = vl_value_map_get(doc, "keys")) && keys->kind == VL_V_LIST) {
		for (i = 0; i < keys->n; i++) {
			const char *f = vl_value_text(vl_value_map_get(keys->items[i], "fingerprint"));
			const char *name = vl_value_text(vl_value_map_get(keys->items[i], "name"));
			if (f && name && !strcmp(f, fp))
				snprintf(out, len, "%s", name);
		}
	}
	vl_value_free(doc);
	vl_buf_free(&b);
}

void vf_commit_payload(git_buf *payload, git_repository *repo, const git_oid *parent, const git_oid *tree_id,
		const char *fp, const char *msg)
{
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *pc = NULL;
	const git_commit *parents[1] = { NULL };
	char email[VL_FP_LEN + 16], name[256];
	git_time_t when = (git_time_t)(vl_hlc_wall_ms() / 1000);

	/* As vl_node_commit writes it: the roster name of the key (verify
	 * refuses any other), one time for author and committer, and never
	 * before the key's previous commit on the branch. */
	vf_roster_name(name, sizeof(name), repo, fp);
	if (parent) {
		uint64_t seq = 0;
		git_oid prev;
		git_commit *kc = NULL;
		if (vl_repo_key_chain(&seq, &prev, repo, parent, fp) == 0 && seq &&
				git_commit_lookup(&kc, repo, &prev) == 0) {
			if (git_commit_committer(kc)->when.time > when)
				when = git_commit_committer(kc)->when.time;
			git_commit_free(kc);
		}
	}
	snprintf(email, sizeof(email), "%s@vledger", fp);
	assert_int_equal(git_signature_new(&sig, name, email, when, 0), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, tree_id), 0);
	if (parent) {
		assert_int_equal(git_commit_lookup(&pc, repo, parent), 0);
		parents[0] = pc;
	}
	assert_int_equal(git_commit_create_buffer(payload, repo, sig, sig, NULL, msg, tree,
			parent ? 1 : 0, parents), 0);
	git_commit_free(pc);
	git_tree_free(tree);
	git_signature_free(sig);
}

/* key's SSHSIG blob (namespace git) over data. */
static void sign_blob(vl_buf *blob, const vl_key *key, const char *data, size_t len)
{
	assert_int_equal(vl_sshsig_sign(blob, key, VL_NS_GIT, data, len), 0);
}

/* The canonical armor of a blob, without its final newline. */
static void armor_of(vl_buf *armor, const vl_buf *blob)
{
	assert_int_equal(vl_sshsig_armor(armor, blob->ptr, blob->len), 0);
	armor->ptr[--armor->len] = '\0';
}

void vf_make_armor(vl_buf *armor, const vl_key *key, const char *payload, size_t len, vf_sig how)
{
	vl_buf blob = VL_BUF_INIT, b64 = VL_BUF_INIT;
	size_t i;

	if (how == VF_SIG_OTHER_BYTES) {
		vl_buf other = VL_BUF_INIT;
		assert_int_equal(vl_buf_put(&other, payload, len), 0);
		other.ptr[other.len - 2] ^= 1; /* a byte of the message */
		sign_blob(&blob, key, other.ptr, other.len);
		vl_buf_free(&other);
	} else {
		sign_blob(&blob, key, payload, len);
	}
	if (how == VF_SIG_RESERVED) {
		/* magic(6) version(4) string pubkey(4+51) string "git"(4+3): then
		 * the reserved string's length. */
		vl_buf nb = VL_BUF_INIT;
		const unsigned char four[4] = { 0, 0, 0, 1 };
		assert_true(blob.len > 76);
		assert_true(!memcmp(blob.ptr + 72, "\0\0\0\0", 4));
		assert_int_equal(vl_buf_put(&nb, blob.ptr, 72), 0);
		assert_int_equal(vl_buf_put(&nb, four, 4), 0);
		assert_int_equal(vl_buf_putc(&nb, 'x'), 0);
		assert_int_equal(vl_buf_put(&nb, blob.ptr + 76, blob.len - 76), 0);
		vl_buf_free(&blob);
		blob = nb;
	}
	if (how == VF_SIG_S_PLUS_L) {
		/* L = 2^252 + 27742317777372353535851937790883648493, little endian. */
		static const unsigned char L[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
			0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
		unsigned char *s = (unsigned char *)blob.ptr + blob.len - 32;
		unsigned carry = 0;
		for (i = 0; i < 32; i++) {
			unsigned v = s[i] + L[i] + carry;
			s[i] = (unsigned char)v;
			carry = v >> 8;
		}
		assert_int_equal(carry, 0);
	}
	if (how == VF_SIG_WRAP76) {
		assert_int_equal(vl_base64_encode(&b64, blob.ptr, blob.len), 0);
		assert_int_equal(vl_buf_puts(armor, "-----BEGIN SSH SIGNATURE-----\n"), 0);
		for (i = 0; i < b64.len; i += 76)
			assert_int_equal(vl_buf_printf(armor, "%.*s\n", (int)(b64.len - i < 76 ? b64.len - i : 76),
					b64.ptr + i), 0);
		assert_int_equal(vl_buf_puts(armor, "-----END SSH SIGNATURE-----"), 0);
	} else {
		armor_of(armor, &blob);
		if (how == VF_SIG_EXTRA_LINE)
			assert_int_equal(vl_buf_putc(armor, '\n'), 0);
	}
	vl_buf_free(&blob);
	vl_buf_free(&b64);
}

git_oid vf_write_commit_how(git_repository *repo, const char *ref, const git_oid *parent, const git_oid *tree_id,
		const char *fp, const char *msg, const vl_key *key, vf_sig how)
{
	git_buf payload = { NULL, 0, 0 };
	vl_buf armor = VL_BUF_INIT;
	git_oid id;
	git_odb *odb = NULL;

	vf_commit_payload(&payload, repo, parent, tree_id, fp, msg);
	if (how == VF_SIG_NONE) {
		assert_int_equal(git_repository_odb(&odb, repo), 0);
		assert_int_equal(git_odb_write(&id, odb, payload.ptr, payload.size, GIT_OBJECT_COMMIT), 0);
		git_odb_free(odb);
	} else {
		vf_make_armor(&armor, key, payload.ptr, payload.size, how);
		assert_int_equal(git_commit_create_with_signature(&id, repo, payload.ptr, armor.ptr, NULL), 0);
	}
	vf_move_ref(repo, ref, &id);
	git_buf_dispose(&payload);
	vl_buf_free(&armor);
	return id;
}

git_oid vf_write_commit(git_repository *repo, const char *ref, const git_oid *parent, const git_oid *tree_id,
		const char *fp, const char *msg, const vl_key *key)
{
	return vf_write_commit_how(repo, ref, parent, tree_id, fp, msg, key, key ? VF_SIG_GOOD : VF_SIG_NONE);
}

void vf_record_trailer(vl_buf *out, const char *path, const git_oid *blob)
{
	const char *slash = strchr(path, '/'), *base = strrchr(path, '/');
	size_t l;

	assert_non_null(slash);
	base++;
	l = strlen(base);
	if (l > 5 && !strcmp(base + l - 5, ".yaml"))
		l -= 5;
	assert_int_equal(vl_buf_printf(out, "Vledger-Record: %.*s %.*s %s\n", (int)(slash - path), path,
			(int)l, base, git_oid_tostr_s(blob)), 0);
}

git_oid vf_forge_entry(git_repository *repo, const char *ref, const char *fp, const vl_key *key, const char *path,
		const git_oid *blob, git_filemode_t mode, const char *trailers, vf_sig how)
{
	vl_buf msg = VL_BUF_INIT, tr = VL_BUF_INIT;
	git_oid head, base, tree, id;
	int have_head = vl_repo_head(&head, repo, ref) == 0;

	if (have_head)
		base = vf_tree_of(repo, &head);
	tree = vf_tree_edit(repo, have_head ? &base : NULL, path, blob, mode);
	if (!trailers) {
		vf_record_trailer(&tr, path, blob);
		trailers = tr.ptr;
	}
	vf_chain_msg(&msg, repo, have_head ? &head : NULL, fp, trailers);
	id = vf_write_commit_how(repo, ref, have_head ? &head : NULL, &tree, fp, msg.ptr, key, how);
	vl_buf_free(&msg);
	vl_buf_free(&tr);
	return id;
}

git_oid vf_forge_file(git_repository *repo, const char *ref, const char *fp, const vl_key *key, const char *path,
		const char *data, size_t len, git_filemode_t mode, const char *trailers)
{
	git_oid blob = vf_put_blob(repo, data, len);

	return vf_forge_entry(repo, ref, fp, key, path, &blob, mode, trailers, key ? VF_SIG_GOOD : VF_SIG_NONE);
}

/* ---- records -------------------------------------------------------------- */

void vf_make_zone(vl_buf *out, const vl_key *k, const char *id, const char *scope, const char *zone_no)
{
	vl_record *r = NULL;
	vl_buf area = VL_BUF_INIT;

	assert_int_equal(vl_record_new(&r, "zone", id, scope), 0);
	assert_int_equal(vl_buf_printf(&area, "a-%s", zone_no), 0);
	assert_int_equal(vl_value_map_set(r->data, "zone_no", vl_value_str(zone_no)), 0);
	assert_int_equal(vl_value_map_set(r->data, "designation", vl_value_str("sealed")), 0);
	assert_int_equal(vl_value_map_set(r->data, "area", vl_value_str(area.ptr)), 0);
	assert_int_equal(vl_value_map_set(r->data, "status", vl_value_str("active")), 0);
	assert_int_equal(vl_value_map_set(r->data, "announced_at", vl_value_str("2022-04-06T08:00:00Z")), 0);
	/* Dated now: after the signing key joined the roster, as an honest
	 * write is (verify refuses writes dated before that). */
	{
		vl_hlc now = { vl_hlc_wall_ms(), 1 };
		vl_hlc_format(r->clock, &now);
	}
	assert_int_equal(vl_record_sign(r, k, out), 0);
	vl_buf_free(&area);
	vl_record_free(r);
}

void vf_record_body(vl_buf *out, const vl_buf *file)
{
	const char *sig = strstr(file->ptr, "\nsig: \"");

	assert_non_null(sig);
	assert_int_equal(vl_buf_put(out, file->ptr, (size_t)(sig - file->ptr) + 1), 0);
}

void vf_sign_body(vl_buf *out, const vl_key *k, const char *body, size_t len)
{
	vl_buf blob = VL_BUF_INIT, b64 = VL_BUF_INIT;

	assert_int_equal(vl_sshsig_sign(&blob, k, VL_NS_RECORD, body, len), 0);
	assert_int_equal(vl_base64_encode(&b64, blob.ptr, blob.len), 0);
	assert_int_equal(vl_buf_put(out, body, len), 0);
	assert_int_equal(vl_buf_printf(out, "sig: \"%s\"\n", b64.ptr), 0);
	vl_buf_free(&blob);
	vl_buf_free(&b64);
}

void vf_buf_replace(vl_buf *b, const char *from, const char *to)
{
	vl_buf nb = VL_BUF_INIT;
	const char *p = strstr(b->ptr, from);

	assert_non_null(p);
	assert_int_equal(vl_buf_put(&nb, b->ptr, (size_t)(p - b->ptr)), 0);
	assert_int_equal(vl_buf_puts(&nb, to), 0);
	assert_int_equal(vl_buf_puts(&nb, p + strlen(from)), 0);
	vl_buf_free(b);
	*b = nb;
}

void vf_new_id(char id[VL_ULID_LEN + 1])
{
	vl_ulid_new(id, vl_hlc_wall_ms());
}

void vf_rec_path(char *out, size_t len, const char *ledger, const char *id)
{
	snprintf(out, len, "%s/%c/%s.yaml", ledger, id[VL_ULID_LEN - 1], id);
}

void vf_new_zone(vl_buf *file, const vl_key *k, const char *scope, char path[128], char id[VL_ULID_LEN + 1])
{
	vf_new_id(id);
	vf_make_zone(file, k, id, scope, "Z9");
	vf_rec_path(path, 128, "zone", id);
}
