/* verify.c - verify and incidents as operations (ops/verify.h). */
#include "agent/ops/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/i18n.h"
#include "store/repo.h"

int vl_verify(vl_node *n, const vl_verify_opts *opts, vl_verify_result *out)
{
	vl_verify_opts dflt = VL_VERIFY_OPTS_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &dflt;
	out->progress = opts->progress_file;
	out->threads = opts->threads;
	vl_progress_report(&opts->progress, N_("verify"), 0, 0);
	rc = vl_verify_some(n, opts->scope, opts->since, out);
	out->progress = NULL;
	vl_progress_report(&opts->progress, N_("verify"), 1, 1);
	return rc;
}

void vl_incidents_result_free(vl_incidents_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->items[i].summary);
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static int by_key_seq(const void *a, const void *b)
{
	const vl_incident *x = a, *y = b;
	int c = strcmp(x->fp, y->fp);

	if (c)
		return c;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return git_oid_cmp(&x->commit, &y->commit);
}

int vl_incidents(vl_node *n, const vl_incidents_opts *opts, vl_incidents_result *out)
{
	size_t cap = 0, i;
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	git_commit *c = NULL;
	vl_buf raw = VL_BUF_INIT, seq = VL_BUF_INIT;
	int rc;

	(void)opts;
	memset(out, 0, sizeof(*out));
	if ((rc = vl_node_load_config(n)) < 0)
		goto out;
	if ((rc = git_reference_iterator_glob_new(&it, n->repo, "refs/evidence/*")) < 0) {
		rc = vl_error_git(rc, _("cannot list evidence"));
		goto out;
	}
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const git_oid *t = git_reference_target(ref);
		unsigned char pk[32];
		vl_incident *inc;
		if (!t || git_commit_lookup(&c, n->repo, t) < 0) {
			git_reference_free(ref);
			ref = NULL;
			continue;
		}
		if (out->n == cap) {
			vl_incident *ni = realloc(out->items, (cap = cap ? cap * 2 : 16) * sizeof(*ni));
			if (!ni) {
				rc = vl_error_set(VL_ENOMEM, "out of memory");
				goto out;
			}
			out->items = ni;
		}
		inc = &out->items[out->n];
		memset(inc, 0, sizeof(*inc));
		vl_buf_clear(&raw);
		vl_buf_clear(&seq);
		/* Out of memory is an error, never shown as a bad signature. */
		if ((rc = vl_repo_raw_commit(&raw, n->repo, t)) == 0)
			rc = vl_commit_verify(raw.ptr, raw.len, pk);
		if (rc == VL_ENOMEM)
			goto out;
		if (rc == 0)
			vl_fingerprint(inc->fp, pk);
		else
			snprintf(inc->fp, sizeof(inc->fp), "(bad signature)");
		if ((rc = vl_message_trailer(&seq, git_commit_message(c), "Vledger-Seq")) == 0)
			inc->seq = strtoull(seq.ptr, NULL, 10);
		else if (rc != VL_ENOTFOUND)
			goto out;
		rc = 0;
		git_oid_cpy(&inc->commit, t);
		inc->time = (long long)git_commit_committer(c)->when.time;
		if (!(inc->summary = strdup(git_commit_summary(c) ? git_commit_summary(c) : ""))) {
			rc = vl_error_set(VL_ENOMEM, "out of memory");
			goto out;
		}
		out->n++;
		git_commit_free(c);
		c = NULL;
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = vl_error_git(rc, _("cannot list evidence"));
		goto out;
	}
	if (out->n)
		qsort(out->items, out->n, sizeof(*out->items), by_key_seq);
	for (i = 0; i < out->n; i++)
		out->items[i].signer = vl_node_roster_find(n, out->items[i].fp);
	rc = 0;
out:
	git_commit_free(c);
	git_reference_free(ref);
	git_reference_iterator_free(it);
	vl_buf_free(&raw);
	vl_buf_free(&seq);
	return rc;
}
