/*
 * fuzz_yaml.c - libFuzzer target for the strict YAML loader and the
 * canonical emitter (store/yaml.h).
 *
 * Any input: load it with the record caps. When it loads, the canonical
 * form must be a fixed point: emit, load the emission, emit again; the two
 * emissions must be byte-identical and the two trees equal. The emitter may
 * refuse a loaded tree only with VL_ETOOBIG (the re-emission grew past a cap
 * the tree itself respected); anything else is a bug, and so is a failure to
 * load what the emitter wrote. Every violation aborts.
 *
 * The canonical-layout reader (vl_yaml_load_canonical) is checked against
 * the loader on every input: when it reads a tree whose emission is the
 * input, the loader must load the input as the same tree, source positions
 * included; every input that is its own canonical emission must be read by
 * it; its exact mode (vl_yaml_load_exact, what vl_record_parse reads with
 * first) must accept an input exactly when that input is the emission of
 * the tree the canonical reader reads (its acceptance is the proof of the
 * canonical form, with no emission compared); and vl_yaml_load must say
 * what libyaml says (vt_yaml_readers_differ, tests/yaml_readers.c, the
 * check test_yaml makes too).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/yaml.h"
#include "tests/yaml_readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loose caps for re-loading an emission: the emission of a loaded record
 * may be longer than its source (quoting, block layout), but it has the same
 * depth and node count. */
static const vl_yaml_limits reload_limits = { (size_t)16 << 20, VL_YAML_MAX_DEPTH, VL_YAML_MAX_NODES };

static void die(const char *what, const vl_buf *a, const vl_buf *b)
{
	fprintf(stderr, "fuzz_yaml: %s: %s\n", what, vl_error_last());
	if (a && a->ptr)
		fprintf(stderr, "--- first emission (%zu bytes)\n%s", a->len, a->ptr);
	if (b && b->ptr)
		fprintf(stderr, "--- second emission (%zu bytes)\n%s", b->len, b->ptr);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vl_value *t1 = NULL, *t2 = NULL;
	vl_buf e1 = VL_BUF_INIT, e2 = VL_BUF_INIT, js = VL_BUF_INIT;
	const char *why = NULL;
	int rc;

	rc = vl_yaml_load_libyaml(&t1, (const char *)data, size, &vl_yaml_record_limits, "fuzz");
	if ((why = vt_yaml_readers_differ(&e1, (const char *)data, size, &vl_yaml_record_limits, "fuzz", t1, rc)))
		die(why, &e1, NULL);
	if (rc < 0) {
		if (t1 || (rc != VL_EINVALID && rc != VL_ETOOBIG))
			die("load failed with an unexpected code or left a tree", NULL, NULL);
		goto out;
	}
	if ((rc = vl_yaml_emit(&e1, t1)) < 0)
		die("emitter refused a loaded tree", NULL, NULL);
	if ((rc = vl_yaml_load(&t2, e1.ptr, e1.len, &reload_limits, "emitted")) < 0)
		die("emission does not load", &e1, NULL);
	if (!vl_value_equal(t1, t2))
		die("emission loads as a different tree", &e1, NULL);
	if ((rc = vl_yaml_emit(&e2, t2)) < 0)
		die("emitter refused a re-loaded tree", &e1, NULL);
	if (e1.len != e2.len || memcmp(e1.ptr, e2.ptr, e1.len) != 0)
		die("emission is not a fixed point", &e1, &e2);
	/* JSON output must accept every loaded tree as well. */
	if (vl_json_emit(&js, t1, 0) < 0 || vl_json_emit(&js, t1, 2) < 0)
		die("JSON output refused a loaded tree", &e1, NULL);
out:
	vl_value_free(t1);
	vl_value_free(t2);
	vl_buf_free(&e1);
	vl_buf_free(&e2);
	vl_buf_free(&js);
	return 0;
}
