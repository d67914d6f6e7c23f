/*
 * fuzz_remote.c - libFuzzer target for the remotes file (<home>/remotes.yaml,
 * agent/ops/remote_ops.h) and the remote URL check. Besides "no crash, no
 * leak": a file is accepted only with at most VL_REMOTES_MAX remotes, in
 * name order, each name and URL passing its own check; a URL the check
 * accepts is printable ASCII of at most VL_REMOTE_URL_MAX bytes. Seeds:
 * corpus/remote/ (accept-* / reject-*).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ops/remote_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vl_fuzz_accepts(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_remote: %s\n", what);
		abort();
	}
}

int vl_fuzz_accepts(const uint8_t *data, size_t size)
{
	vl_remote_list_result l;
	int rc = vl_remote_parse(&l, (const char *)data, size, "fuzz");

	vl_remote_list_result_free(&l);
	vl_error_clear();
	return rc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vl_remote_list_result l;
	char *url = NULL;
	size_t i, k;
	int rc;

	rc = vl_remote_parse(&l, (const char *)data, size, "fuzz");
	if (rc < 0) {
		check(l.n == 0 && l.items == NULL, "a refused file left remotes");
	} else {
		check(l.n <= VL_REMOTES_MAX, "over VL_REMOTES_MAX remotes accepted");
		for (i = 0; i < l.n; i++) {
			check(vl_remote_name_check(l.items[i].name) == 0, "an accepted name fails its check");
			check(vl_remote_url_check(l.items[i].url) == 0, "an accepted URL fails its check");
			check(i == 0 || strcmp(l.items[i - 1].name, l.items[i].name) < 0, "remotes not in name order");
		}
	}
	vl_remote_list_result_free(&l);
	/* The input as one URL. */
	if (size <= VL_REMOTE_URL_MAX + 16 && (url = malloc(size + 1))) {
		memcpy(url, data, size);
		url[size] = '\0';
		if (vl_remote_url_check(url) == 0) {
			check(strlen(url) <= VL_REMOTE_URL_MAX && strlen(url) > 0, "a URL over the cap accepted");
			for (k = 0; url[k]; k++)
				check((unsigned char)url[k] > 0x20 && (unsigned char)url[k] < 0x7f, "a URL with a control byte accepted");
		}
		if (vl_remote_name_check(url) == 0)
			check(strlen(url) <= VL_REMOTE_NAME_MAX, "a name over the cap accepted");
		free(url);
	}
	vl_error_clear();
	return 0;
}
