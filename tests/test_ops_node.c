/*
 * test_ops_node.c - the node-lifecycle operations (agent/ops/node_ops.h,
 * roster_ops.h, invite_ops.h) called as the network server or a web UI
 * will call them: no command line. A county is made, invites a village,
 * the village joins (its receive runs inside vl_join), the county approves
 * the request, the village rotates its key through a request, and a key is
 * revoked; every step's result struct is checked against the repository,
 * and nothing an operation does may reach standard output or error.
 * Also: a join that fails leaves no node behind; a receive that fails does
 * not fail the join; an approval whose roster commit fails leaves the
 * invitation unused, byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/node/roster.h"
#include "agent/ops/invite_ops.h"
#include "agent/ops/node_ops.h"
#include "agent/ops/roster_ops.h"
#include "agent/sync/receive.h"
#include "agent/sync/source.h"
#include "store/repo.h"
#include "testutil.h"

#define COUNTY "500243000000"
#define VIL "500243001001"

/* ---- standard output and error must stay silent ------------------------ */

static int g_saved_out = -1, g_saved_err = -1;
static char g_quiet_path[4200];

/* From here on, fds 1 and 2 go to a scratch file. */
static void quiet_begin(const char *dir)
{
	int fd;

	fflush(stdout);
	fflush(stderr);
	snprintf(g_quiet_path, sizeof(g_quiet_path), "%s/ops-output", dir);
	fd = open(g_quiet_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	g_saved_out = dup(1);
	g_saved_err = dup(2);
	assert_true(g_saved_out >= 0 && g_saved_err >= 0);
	assert_true(dup2(fd, 1) >= 0 && dup2(fd, 2) >= 0);
	close(fd);
}

/* Give fds 1 and 2 back (also after a failed assertion: the teardown). */
static int quiet_restore(void **state)
{
	(void)state;
	fflush(stdout);
	fflush(stderr);
	if (g_saved_out >= 0) {
		(void)dup2(g_saved_out, 1);
		(void)dup2(g_saved_err, 2);
		close(g_saved_out);
		close(g_saved_err);
		g_saved_out = g_saved_err = -1;
	}
	return 0;
}

/* Restore fds 1 and 2; the operations in between wrote nothing. */
static void quiet_end(void)
{
	struct stat st;

	quiet_restore(NULL);
	assert_int_equal(stat(g_quiet_path, &st), 0);
	if (st.st_size != 0) {
		char *text = vt_read(g_quiet_path, NULL);
		fail_msg("an operation printed: %s", text);
	}
}

/* ---- helpers ----------------------------------------------------------------- */

static size_t g_progress;

static void count_progress(void *ctx, const char *stage, size_t done, size_t total)
{
	(void)ctx;
	(void)done;
	(void)total;
	assert_non_null(stage);
	g_progress++;
}

static char *path_of(const char *dir, const char *rel)
{
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *p = malloc(n);

	assert_non_null(p);
	snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void config_head(git_oid *out, const char *home)
{
	vl_node *n = NULL;

	assert_int_equal(vl_node_open(&n, home, 0, NULL), 0);
	assert_int_equal(vl_repo_head(out, n->repo, VL_REF_CONFIG), 0);
	vl_node_close(n);
}

/* A county node made by vl_init with a new network. */
static char *make_county(const char *dir)
{
	vl_init_opts io = VL_INIT_OPTS_INIT;
	vl_init_result res;
	char *home = path_of(dir, "county");

	io.name = "彭水县民政局";
	io.role = "county";
	io.scope = COUNTY;
	io.new_network = 1;
	io.schema_dir = VL_SOURCE_DIR "/schemas";
	io.hook_dir = VL_SOURCE_DIR "/hooks";
	io.progress.fn = count_progress;
	g_progress = 0;
	assert_int_equal(vl_init(home, &io, &res), 0);
	assert_true(g_progress > 0);
	assert_int_equal(res.new_network, 1);
	assert_string_equal(res.scope, COUNTY);
	assert_int_equal(strlen(res.network), 32);
	assert_non_null(strstr(res.pubkey.ptr, "ssh-ed25519 "));
	vl_init_result_free(&res);
	return home;
}

/* An invitation from the county for a village (source: the county's repo
 * unless given). Caller frees the token. */
static char *invite(const char *county, const char *source, char id[33])
{
	vl_invite_create_opts o = VL_INVITE_CREATE_OPTS_INIT;
	vl_invite_create_result res;
	vl_node *n = NULL;
	char *tok;

	o.role = "village";
	o.scope = VIL;
	o.name = "鼓楼社区";
	o.source = source;
	assert_int_equal(vl_node_open(&n, county, 0, NULL), 0);
	assert_int_equal(vl_invite_create(n, &o, &res), 0);
	assert_int_equal(res.needs_admin, 0);
	tok = strdup(res.token.ptr);
	assert_non_null(tok);
	if (id)
		memcpy(id, res.id, 33);
	vl_invite_create_result_free(&res);
	vl_node_close(n);
	return tok;
}

/* ---- the whole lifecycle ----------------------------------------------------- */

static void test_lifecycle(void **state)
{
	char *dir = vt_tmpdir(), *county, *village, *tok, *reqfile;
	vl_join_opts jo = VL_JOIN_OPTS_INIT;
	vl_join_result jr;
	vl_roster_approve_opts ao = VL_ROSTER_APPROVE_OPTS_INIT;
	vl_roster_approve_result ar;
	vl_roster_list_result lr;
	vl_key_rotate_opts ko = VL_KEY_ROTATE_OPTS_INIT;
	vl_key_rotate_result kr;
	vl_roster_revoke_opts ro = VL_ROSTER_REVOKE_OPTS_INIT;
	vl_roster_revoke_result rr;
	vl_export_allowed_signers_result sr;
	vl_receive_opts rcv = VL_RECEIVE_OPTS_INIT;
	vl_receive_result rres;
	vl_key_show_result ks;
	vl_source *src = NULL;
	vl_node *c = NULL, *v = NULL;
	git_oid before, after;
	char joined_fp[VL_FP_LEN], new_fp[VL_FP_LEN], cwd[4096];
	const vl_roster_entry *e;
	size_t i, lines;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	quiet_begin(dir);
	county = make_county(dir);
	village = path_of(dir, "village");
	tok = invite(county, NULL, NULL);

	/* join: the node, the request, and the county's config received. */
	jo.token = tok;
	jo.hook_dir = VL_SOURCE_DIR "/hooks";
	assert_int_equal(vl_join(village, &jo, &jr), 0);
	assert_string_equal(jr.node.role, "village");
	assert_string_equal(jr.node.scope, VIL);
	assert_string_equal(jr.county, COUNTY);
	assert_true(exists(jr.request_path.ptr));
	assert_int_equal(jr.fetched, 1);
	assert_int_equal(jr.fetch_rc, 0);
	assert_int_equal(jr.receive.config, VL_CONFIG_UPDATED);
	assert_int_equal(jr.receive.config_commits, 1);
	memcpy(joined_fp, jr.node.fp, VL_FP_LEN);
	reqfile = strdup(jr.request_path.ptr);
	vl_join_result_free(&jr);
	assert_int_equal(vl_node_open(&v, village, 0, NULL), 0);
	assert_int_equal(vl_key_show(v, NULL, &ks), 0);
	assert_string_equal(ks.fp, joined_fp);
	vl_key_show_result_free(&ks);
	vl_node_close(v);
	v = NULL;

	/* approve: the joined key is on the roster, once. */
	assert_int_equal(vl_node_open(&c, county, 1, NULL), 0);
	ao.path = reqfile;
	assert_int_equal(vl_roster_approve(c, &ao, &ar), 0);
	assert_int_equal(ar.kind, VL_APPROVE_JOIN);
	assert_string_equal(ar.fp, joined_fp);
	assert_string_equal(ar.name, "鼓楼社区");
	assert_string_equal(ar.role, "village");
	assert_string_equal(ar.scope, VIL);
	assert_null(ar.requested_name);
	vl_roster_approve_result_free(&ar);
	/* The node's config was reloaded: it sees its own commit. */
	assert_non_null(e = vl_node_roster_find(c, joined_fp));
	assert_string_equal(e->scope, VIL);
	config_head(&before, county);
	assert_int_equal(vl_roster_approve(c, &ao, &ar), VL_EDENIED);
	assert_non_null(strstr(vl_error_last(), "already used"));
	vl_roster_approve_result_free(&ar);
	config_head(&after, county);
	assert_true(git_oid_equal(&before, &after));

	/* The village rotates through a request held only in the result. */
	assert_int_equal(vl_node_open(&v, village, 0, NULL), 0);
	{
		char *crepo = path_of(county, "repo.git");
		assert_int_equal(vl_source_open_path(&src, crepo), 0);
		free(crepo);
	}
	assert_int_equal(vl_receive(v, src, &rcv, &rres), 0);
	assert_int_equal(rres.config, VL_CONFIG_UPDATED);
	vl_receive_result_free(&rres);
	vl_node_close(v);
	assert_int_equal(vl_node_open(&v, village, 1, NULL), 0);
	assert_int_equal(vl_key_rotate(v, &ko, &kr), 0);
	assert_int_equal(kr.state, VL_ROTATE_REQUESTED);
	assert_string_equal(kr.old_fp, joined_fp);
	assert_true(kr.request.len > 0);
	assert_false(exists("rotate-request.yaml"));
	memcpy(new_fp, kr.new_fp, VL_FP_LEN);
	free(reqfile);
	reqfile = path_of(dir, "rotate.yaml");
	vt_write(reqfile, kr.request.ptr, kr.request.len);
	vl_key_rotate_result_free(&kr);
	/* A second start is refused while one is pending. */
	assert_int_equal(vl_key_rotate(v, &ko, &kr), VL_EEXISTS);
	vl_key_rotate_result_free(&kr);
	vl_node_close(v);
	v = NULL;
	ao.path = reqfile;
	assert_int_equal(vl_roster_approve(c, &ao, &ar), 0);
	assert_int_equal(ar.kind, VL_APPROVE_ROTATION);
	assert_string_equal(ar.fp, new_fp);
	assert_string_equal(ar.old_fp, joined_fp);
	vl_roster_approve_result_free(&ar);
	assert_non_null(e = vl_node_roster_find(c, joined_fp));
	assert_non_null(e->revoked_at);

	/* finish: the village takes the config, then switches. */
	assert_int_equal(vl_node_open(&v, village, 0, NULL), 0);
	assert_int_equal(vl_receive(v, src, &rcv, &rres), 0);
	vl_receive_result_free(&rres);
	ko.finish = 1;
	assert_int_equal(vl_key_rotate(v, &ko, &kr), 0);
	assert_int_equal(kr.state, VL_ROTATE_FINISHED);
	assert_string_equal(kr.new_fp, new_fp);
	vl_key_rotate_result_free(&kr);
	vl_node_close(v);
	assert_int_equal(vl_node_open(&v, village, 0, NULL), 0);
	assert_string_equal(v->fp, new_fp);
	vl_node_close(v);
	v = NULL;

	/* revoke the new key; list and the export agree. */
	ro.fp = new_fp;
	ro.reason = "laptop stolen";
	assert_int_equal(vl_roster_revoke(c, &ro, &rr), 0);
	assert_string_equal(rr.fp, new_fp);
	assert_string_equal(rr.role, "village");
	vl_roster_revoke_result_free(&rr);
	assert_int_equal(vl_roster_revoke(c, &ro, &rr), VL_EEXISTS);
	vl_roster_revoke_result_free(&rr);
	ro.reason = "two\nlines";
	assert_int_equal(vl_roster_revoke(c, &ro, &rr), VL_EINVALID);
	vl_roster_revoke_result_free(&rr);
	assert_int_equal(vl_roster_list(c, NULL, &lr), 0);
	assert_int_equal(lr.n, 3);
	for (i = 0; i < lr.n; i++)
		if (strcmp(lr.entries[i].fp, c->fp) != 0)
			assert_non_null(lr.entries[i].revoked_at);
	vl_roster_list_result_free(&lr);
	assert_int_equal(vl_export_allowed_signers(c, NULL, &sr), 0);
	for (i = 0, lines = 0; i < sr.revocations.len; i++)
		lines += sr.revocations.ptr[i] == '\n';
	assert_int_equal(lines, 2);
	assert_non_null(strstr(sr.signers.ptr, new_fp));
	vl_export_allowed_signers_result_free(&sr);
	quiet_end();

	vl_source_free(src);
	vl_node_close(c);
	assert_int_equal(chdir(cwd), 0);
	free(reqfile);
	free(tok);
	free(county);
	free(village);
	vt_rmtree(dir);
	free(dir);
}

/* ---- failures ---------------------------------------------------------------- */

/* A refused token makes nothing; a failed receive does not fail the join. */
static void test_join_failures(void **state)
{
	char *dir = vt_tmpdir(), *county, *home, *tok, *plain;
	vl_join_opts jo = VL_JOIN_OPTS_INIT;
	vl_join_result jr;

	(void)state;
	county = make_county(dir);
	home = path_of(dir, "refused");
	jo.token = "vledger1:AAAA";
	assert_int_equal(vl_join(home, &jo, &jr), VL_EINVALID);
	vl_join_result_free(&jr);
	assert_false(exists(home));

	/* The source is a directory but no repository: the join stands. */
	plain = path_of(dir, "plain");
	assert_int_equal(mkdir(plain, 0700), 0);
	tok = invite(county, plain, NULL);
	jo.token = tok;
	assert_int_equal(vl_join(home, &jo, &jr), 0);
	assert_int_equal(jr.fetched, 1);
	assert_int_equal(jr.fetch_rc, VL_ENOTFOUND);
	assert_true(jr.fetch_error.len > 0);
	assert_true(exists(jr.request_path.ptr));
	vl_join_result_free(&jr);
	/* And a second join into the same home is refused. */
	assert_int_equal(vl_join(home, &jo, &jr), VL_EEXISTS);
	vl_join_result_free(&jr);

	free(tok);
	free(plain);
	free(home);
	free(county);
	vt_rmtree(dir);
	free(dir);
}

/* The roster commit of an approval fails (the config ref is locked): the
 * invitation file comes back byte for byte, unused, and no lock is left. */
static void test_approve_rollback(void **state)
{
	char *dir = vt_tmpdir(), *county, *home, *tok, *invfile, *before, *after, *reflock, *lock;
	vl_join_opts jo = VL_JOIN_OPTS_INIT;
	vl_join_result jr;
	vl_roster_approve_opts ao = VL_ROSTER_APPROVE_OPTS_INIT;
	vl_roster_approve_result ar;
	vl_node *c = NULL;
	char id[33], rel[128];
	size_t blen, alen;

	(void)state;
	county = make_county(dir);
	home = path_of(dir, "village");
	tok = invite(county, NULL, id);
	jo.token = tok;
	jo.fetch = 0;
	assert_int_equal(vl_join(home, &jo, &jr), 0);
	assert_int_equal(jr.fetched, 0);
	snprintf(rel, sizeof(rel), "invites/%s.yaml", id);
	invfile = path_of(county, rel);
	before = vt_read(invfile, &blen);
	/* The config ref cannot be locked (a directory where git's lock file
	 * goes: not a stale lock file, which the node's write lock clears). */
	reflock = path_of(county, "repo.git/refs/heads/config.lock");
	assert_int_equal(mkdir(reflock, 0700), 0);

	assert_int_equal(vl_node_open(&c, county, 1, NULL), 0);
	ao.path = jr.request_path.ptr;
	assert_true(vl_roster_approve(c, &ao, &ar) < 0);
	vl_roster_approve_result_free(&ar);
	after = vt_read(invfile, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	snprintf(rel, sizeof(rel), "invites/%s.lock", id);
	lock = path_of(county, rel);
	assert_false(exists(lock));
	/* With the ref free again the same request goes through. */
	assert_int_equal(rmdir(reflock), 0);
	assert_int_equal(vl_roster_approve(c, &ao, &ar), 0);
	assert_int_equal(ar.kind, VL_APPROVE_JOIN);
	vl_roster_approve_result_free(&ar);

	vl_node_close(c);
	vl_join_result_free(&jr);
	free(before);
	free(after);
	free(reflock);
	free(lock);
	free(invfile);
	free(tok);
	free(home);
	free(county);
	vt_rmtree(dir);
	free(dir);
}

/* init refuses what the command line would call usage, and a county
 * network from anything but a county. */
/* One writer per node home: a second process that wants to write while the
 * first holds the write lock is told so (VL_ECONFLICT) and writes nothing;
 * when the holder dies, the kernel frees the lock and the next writer clears
 * the ref lock file the dead process left. */
static void test_write_lock(void **state)
{
	char *dir = vt_tmpdir(), *county, *reflock;
	int ready[2], go[2];
	char byte = 0;
	pid_t pid;
	vl_node *n = NULL;
	int status;

	(void)state;
	county = make_county(dir);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		vl_node *h = NULL;
		if (vl_node_open(&h, county, 0, NULL) < 0 || vl_node_lock_write(h) < 0)
			_exit(2);
		if (write(ready[1], "x", 1) != 1)
			_exit(3);
		if (read(go[0], &byte, 1) < 0)
			_exit(4);
		_exit(0); /* dies holding the lock: the kernel releases it */
	}
	assert_int_equal(read(ready[0], &byte, 1), 1);
	reflock = path_of(county, "repo.git/refs/heads/config.lock");
	vt_write(reflock, "", 0);
	assert_int_equal(vl_node_open(&n, county, 0, NULL), 0);
	assert_int_equal(vl_node_lock_write(n), VL_ECONFLICT);
	assert_non_null(strstr(vl_error_last(), "another vledger process is writing"));
	assert_true(exists(reflock)); /* not the refused writer's to clear */
	assert_int_equal(write(go[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(vl_node_lock_write(n), 0);
	assert_false(exists(reflock));
	assert_int_equal(vl_node_lock_write(n), 0); /* held: a no-op */
	vl_node_close(n);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	free(reflock);
	free(county);
	free(dir);
}

static void test_init_refusals(void **state)
{
	char *dir = vt_tmpdir(), *home = path_of(dir, "n");
	vl_init_opts io = VL_INIT_OPTS_INIT;
	vl_init_result res;

	(void)state;
	io.name = "x";
	io.role = "village";
	io.scope = VIL;
	io.new_network = 1;
	io.schema_dir = VL_SOURCE_DIR "/schemas";
	assert_int_equal(vl_init(home, &io, &res), VL_EINVALID);
	vl_init_result_free(&res);
	io.role = "mayor";
	assert_int_equal(vl_init(home, &io, &res), VL_EINVALID);
	vl_init_result_free(&res);
	io.role = "county";
	io.scope = "500243001000";
	assert_int_equal(vl_init(home, &io, &res), VL_EINVALID);
	vl_init_result_free(&res);
	assert_false(exists(home));
	free(home);
	vt_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_lifecycle, quiet_restore),
		cmocka_unit_test(test_join_failures),
		cmocka_unit_test(test_approve_rollback),
		cmocka_unit_test(test_init_refusals),
		cmocka_unit_test(test_write_lock),
	};

	setenv("VLEDGER_SCHEMA_DIR", VL_SOURCE_DIR "/schemas", 1);
	git_libgit2_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
