/*
 * yaml_readers.h - the check that the YAML readers of store/yaml.h agree,
 * shared by test_yaml.c and the fuzz target fuzz_yaml.c (which is built
 * without cmocka: nothing here fails a test by itself).
 */
#ifndef VL_YAML_READERS_H
#define VL_YAML_READERS_H

#include <stddef.h>

#include "store/buf.h"
#include "store/value.h"
#include "store/yaml.h"

/* Equal trees, and every node at the same source position. */
int vt_same_with_positions(const vl_value *a, const vl_value *b);

/*
 * The canonical-layout reader (vl_yaml_load_canonical) and vl_yaml_load
 * against libyaml on one input, all with limits lim (name: the file name
 * vl_yaml_load reports). libyaml_tree/libyaml_rc are what
 * vl_yaml_load_libyaml(&libyaml_tree, data, size, lim, name) gave (tree
 * NULL when it refused). They agree when:
 *  - the canonical reader fails only with VL_EINVALID or VL_ENOMEM and then
 *    leaves no tree;
 *  - a tree it reads whose emission is the input, libyaml loads as the same
 *    tree, positions included (vl_record_parse reads with it first);
 *  - it reads every input that is the emission of libyaml's tree;
 *  - the exact reader (vl_yaml_load_exact) accepts the input exactly when
 *    the canonical reader's tree emits as the input, and reads that tree;
 *  - vl_yaml_load gives libyaml's code and, on success, the same tree with
 *    the same positions.
 * Returns NULL when they agree, else what disagrees (a static string);
 * `shown` then holds the emission concerned when there is one (the caller
 * frees it; it is reset here first).
 */
const char *vt_yaml_readers_differ(vl_buf *shown, const char *data, size_t size, const vl_yaml_limits *lim,
		const char *name, const vl_value *libyaml_tree, int libyaml_rc);

#endif
