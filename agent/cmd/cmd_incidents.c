/* cmd_incidents.c - vledger incidents: equivocation evidence under refs/evidence/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cmd/cli.h"
#include "store/repo.h"
#include "store/yaml.h"

typedef struct {
	char fp[VL_FP_LEN];
	unsigned long long seq;
	git_oid id;
	long long when;
	char summary[160];
} incident;

static int by_key_seq(const void *a, const void *b)
{
	const incident *x = a, *y = b;
	int c = strcmp(x->fp, y->fp);

	if (c)
		return c;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return git_oid_cmp(&x->id, &y->id);
}

int vl_cmd_incidents(const vl_command *cmd, const vl_cli *cli, int argc, char **argv)
{
	int json = 0, rc, exit_code = VL_EXIT_ERROR;
	const vl_opt opts[] = { { "--json", 0, NULL, &json, NULL }, { NULL, 0, NULL, NULL, NULL } };
	size_t n_inc = 0, cap = 0, i;
	vl_node *n = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	incident *inc = NULL;
	vl_buf out = VL_BUF_INIT, raw = VL_BUF_INIT, seq = VL_BUF_INIT;

	if ((rc = vl_cli_parse_options(cmd, argc, argv, opts)) != 0)
		return rc;
	if (vl_cli_node(&n, cli, 0, NULL) < 0)
		return VL_EXIT_ERROR;
	if ((rc = vl_node_load_config(n)) < 0)
		goto fail;
	if ((rc = git_reference_iterator_glob_new(&it, n->repo, "refs/evidence/*")) < 0) {
		rc = vl_error_git(rc, "cannot list evidence");
		goto fail;
	}
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const git_oid *t = git_reference_target(ref);
		git_commit *c = NULL;
		unsigned char pk[32];
		if (t && git_commit_lookup(&c, n->repo, t) == 0) {
			vl_buf_clear(&raw);
			vl_buf_clear(&seq);
			if (n_inc == cap) {
				incident *ni = realloc(inc, (cap = cap ? cap * 2 : 16) * sizeof(*ni));
				if (!ni) {
					git_commit_free(c);
					rc = vl_error_set(VL_ENOMEM, "out of memory");
					goto fail;
				}
				inc = ni;
			}
			memset(&inc[n_inc], 0, sizeof(inc[n_inc]));
			if (vl_repo_raw_commit(&raw, n->repo, t) == 0 && vl_commit_verify(raw.ptr, raw.len, pk) == 0)
				vl_fingerprint(inc[n_inc].fp, pk);
			else
				snprintf(inc[n_inc].fp, sizeof(inc[n_inc].fp), "(bad signature)");
			if (vl_message_trailer(&seq, git_commit_message(c), "Vledger-Seq") == 0)
				inc[n_inc].seq = strtoull(seq.ptr, NULL, 10);
			git_oid_cpy(&inc[n_inc].id, t);
			inc[n_inc].when = (long long)git_commit_committer(c)->when.time;
			snprintf(inc[n_inc].summary, sizeof(inc[n_inc].summary), "%s",
					git_commit_summary(c) ? git_commit_summary(c) : "");
			n_inc++;
		}
		git_commit_free(c);
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, "cannot list evidence");
		goto fail;
	}
	if (n_inc)
		qsort(inc, n_inc, sizeof(*inc), by_key_seq);
	if (json && (rc = vl_buf_putc(&out, '[')) < 0)
		goto fail;
	for (i = 0; i < n_inc; i++) {
		const vl_roster_entry *who = vl_node_roster_find(n, inc[i].fp);
		char when[32];
		time_t t = (time_t)inc[i].when;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
		if (json) {
			if ((rc = vl_buf_printf(&out, "%s{\"key\":\"%s\",\"name\":", i ? "," : "", inc[i].fp)) < 0 ||
					(rc = who ? vl_json_str(&out, who->name, strlen(who->name)) : vl_buf_puts(&out, "null")) < 0 ||
					(rc = vl_buf_printf(&out, ",\"seq\":%llu,\"commit\":\"%s\",\"time\":\"%s\",\"summary\":",
							inc[i].seq, git_oid_tostr_s(&inc[i].id), when)) < 0 ||
					(rc = vl_json_str(&out, inc[i].summary, strlen(inc[i].summary))) < 0 ||
					(rc = vl_buf_putc(&out, '}')) < 0)
				goto fail;
		} else {
			if (i == 0 || strcmp(inc[i - 1].fp, inc[i].fp) || inc[i - 1].seq != inc[i].seq)
				printf("key %s (%s, %s %s) signed two histories at Vledger-Seq %llu:\n", inc[i].fp,
						who ? who->name : "not on the roster", who ? who->role : "",
						who ? who->scope : "", inc[i].seq);
			printf("  %.12s  %s  %s\n", git_oid_tostr_s(&inc[i].id), when, inc[i].summary);
		}
	}
	if (json)
		printf("%s]\n", out.ptr);
	else if (!n_inc)
		printf("no incidents\n");
	else
		printf("a key that signs two histories was copied to a second machine or its laptop was rewound: "
				"revoke it ('vledger roster revoke') and find out which\n");
	exit_code = n_inc ? VL_EXIT_VERIFY : VL_EXIT_OK;
	goto out;
fail:
	exit_code = vl_cli_fail(rc);
out:
	free(inc);
	git_reference_free(ref);
	git_reference_iterator_free(it);
	vl_buf_free(&out);
	vl_buf_free(&raw);
	vl_buf_free(&seq);
	vl_node_close(n);
	return exit_code;
}
