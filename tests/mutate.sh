#!/usr/bin/env bash
# tests/mutate.sh - mutation check of the security-critical checks.
#
# Each mutation below is a small, deliberate breakage of one check: in FILE,
# the exact text ORIGINAL (which must occur exactly once) is replaced by
# REPLACEMENT. The script copies the working tree (tracked and untracked,
# not ignored files) to a scratch directory, builds it once (Debug, no
# sanitizers, -j2), runs every listed test once on the unmutated copy (the
# baseline must pass), then for each mutation: applies it, rebuilds
# (incrementally), runs its tests one by one until one fails, and restores
# the file. A mutation is CAUGHT when one of its tests fails; it SURVIVES
# when all pass. The script exits 1 if any mutation survives, if a patch no
# longer applies (its ORIGINAL text is gone or ambiguous: update the list
# with the code, so that the check cannot silently rot), or if a mutated tree
# does not build. It prints a table mutation -> caught by.
#
# Usage: tests/mutate.sh [-k] [-n] [NAME-REGEX]
#   -k          keep the scratch directory (printed at the end)
#   -n          skip the baseline run
#   NAME-REGEX  run only the mutations whose name matches (grep -E)
#
# Adding a mutation: one `mut` line, `mut NAME FILE "TESTS" ORIGINAL
# REPLACEMENT`; TESTS are ctest names (fastest first: the run stops at the
# first failure). ORIGINAL must be unique in FILE; use $'...' for tabs and
# newlines. When one check must be caught by several layers (the library,
# `vledger verify`, `vledger fetch`), list the same patch once per layer
# with that layer's test alone (name@layer).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

names=() files=() tests=() froms=() tos=()
mut() {
	names+=("$1") files+=("$2") tests+=("$3") froms+=("$4") tos+=("$5")
}

# ---- signatures (store/sshsig.c) ----------------------------------------
mut sshsig-crypto store/sshsig.c "test_sshsig test_record" \
	'if (crypto_sign_verify_detached(sig, tosign, tlen, pk) != 0)' \
	'if (crypto_sign_verify_detached(sig, tosign, tlen, pk) != 0 && 0)'
mut sshsig-crypto@verify store/sshsig.c "test_verify" \
	'if (crypto_sign_verify_detached(sig, tosign, tlen, pk) != 0)' \
	'if (crypto_sign_verify_detached(sig, tosign, tlen, pk) != 0 && 0)'
mut sshsig-crypto@sh store/sshsig.c "sh_cli" \
	'if (crypto_sign_verify_detached(sig, tosign, tlen, pk) != 0)' \
	'if (crypto_sign_verify_detached(sig, tosign, tlen, pk) != 0 && 0)'
mut sshsig-canonical-blob store/sshsig.c "test_sshsig" \
	'if (memcmp(canon, b, bloblen) != 0)' \
	'if (0)'
mut sshsig-canonical-armor store/sshsig.c "test_sshsig test_receive" \
	'if ((len != clen && len != clen - 1) || memcmp(canon, armor, len) != 0)' \
	'if (len != clen && len != clen - 1)'
mut commit-two-gpgsig store/sshsig.c "test_sshsig test_verify" \
	$'if (sig_start) {\n\t\t\t\t\trc = commit_bad("two gpgsig headers");' \
	$'if (0) {\n\t\t\t\t\trc = commit_bad("two gpgsig headers");'

# ---- records (store/record.c) -------------------------------------------
mut record-author store/record.c "test_record" \
	'if (strcmp(fp, r->author) != 0) {' 'if (0) {'
mut record-author@verify store/record.c "test_verify" \
	'if (strcmp(fp, r->author) != 0) {' 'if (0) {'
mut record-author@fetch store/record.c "test_receive" \
	'if (strcmp(fp, r->author) != 0) {' 'if (0) {'
mut record-canonical store/record.c "test_record" \
	'if (!proven && (again.len != len || memcmp(again.ptr, buf, len) != 0)) {' 'if (!proven && (again.len != len)) {'
mut record-canonical@fuzz store/record.c "fuzz_record_corpus" \
	'if (!proven && (again.len != len || memcmp(again.ptr, buf, len) != 0)) {' 'if (!proven && (again.len != len)) {'
# the exact reader's proof of the canonical form (what vl_record_parse trusts)
mut record-canonical-exact store/record.c "test_record fuzz_record_corpus" \
	'rc = vl_yaml_load_exact(&tree, buf, len, &vl_yaml_record_limits);' 'rc = vl_yaml_load_canonical(&tree, buf, len, &vl_yaml_record_limits);'
mut record-size store/record.c "test_record" \
	'if (len > VL_RECORD_MAX_BYTES)' 'if (len > VL_RECORD_MAX_BYTES * 4)'

# ---- the YAML loader's caps (store/yaml.c) -------------------------------
mut yaml-max-bytes store/yaml.c "test_yaml" \
	'if (len > ld.lim->max_bytes) {' 'if (len > ld.lim->max_bytes * 4) {'
mut yaml-max-depth store/yaml.c "test_yaml test_record" \
	'ld->depth >= (size_t)ld->lim->max_depth' 'ld->depth > (size_t)ld->lim->max_depth'
mut yaml-max-nodes store/yaml.c "test_yaml test_record" \
	'if (ld->nodes >= ld->lim->max_nodes)' 'if (ld->nodes > ld->lim->max_nodes)'
mut yaml-anchors store/yaml.c "test_yaml" \
	$'if (anchor)\n\t\treturn' $'if (0)\n\t\treturn'
mut yaml-canonical-depth store/yaml.c "test_yaml" \
	'c->lim->max_depth <= 0 || depth >= c->lim->max_depth' 'c->lim->max_depth <= 0 || depth > c->lim->max_depth'
mut yaml-canonical-nodes store/yaml.c "test_yaml" \
	$'if (++c->nodes > c->lim->max_nodes)\n' $'if (++c->nodes > c->lim->max_nodes + 2)\n'
mut yaml-exact-quoted store/yaml.c "test_yaml test_record" \
	'if (c->exact && is_safe_plain(c->tmp.ptr ? c->tmp.ptr : "", c->tmp.len))' 'if (0)'
mut yaml-exact-plain store/yaml.c "test_yaml" \
	'if (c->exact && plain && (v->kind == VL_V_STR ? !is_safe_plain(v->s, v->slen)' 'if (0 && plain && (v->kind == VL_V_STR ? !is_safe_plain(v->s, v->slen)'
mut yaml-exact-key store/yaml.c "test_yaml" \
	'if (c->exact && key && !is_safe_plain(c->tmp.ptr, c->tmp.len))' 'if (0)'
mut yaml-exact-raw store/yaml.c "test_yaml" \
	'if (i > start && c->exact && !exact_raw_ok(' 'if (i > start && 0 && !exact_raw_ok('
mut yaml-exact-escape store/yaml.c "test_yaml" \
	'(c->exact && !exact_x_escape(cp))' '(0 && !exact_x_escape(cp))'
mut yaml-exact-flow-list store/yaml.c "test_yaml" \
	'if (rc == 0 && c->exact && v->kind == VL_V_LIST && all_scalars(v))' 'if (0)'
mut yaml-exact-flow-map store/yaml.c "test_yaml" \
	'return map->n && 2 + entry_bytes + 2 * (map->n - 1) > FLOW_MAP_MAX ? 0 : canon_no();' 'return map->n && 2 + entry_bytes + 2 * (map->n - 1) >= FLOW_MAP_MAX ? 0 : canon_no();'

# ---- whole-history verification (agent/audit/verify.c) -------------------
mut commit-author-is-signer agent/audit/verify.c "test_verify test_receive" \
	'if (strcmp(git_commit_author(commit)->email, email.ptr) != 0 ||' \
	'if (0 && strcmp(git_commit_author(commit)->email, email.ptr) != 0 &&'
mut commit-scope agent/audit/verify.c "test_verify" \
	'if (!strcmp(c->signer->role, "auditor") || !vl_division_covers(c->signer->scope, c->scope)) {' \
	'if (!strcmp(c->signer->role, "auditor")) {'
mut commit-scope@fetch agent/audit/verify.c "test_receive" \
	'if (!strcmp(c->signer->role, "auditor") || !vl_division_covers(c->signer->scope, c->scope)) {' \
	'if (!strcmp(c->signer->role, "auditor")) {'
mut record-scope agent/audit/verify.c "test_verify" \
	'if (strcmp(r->scope, c->scope) != 0)' 'if (0)'
mut record-scope@fetch agent/audit/verify.c "test_receive" \
	'if (strcmp(r->scope, c->scope) != 0)' 'if (0)'
mut record-signer-scope agent/audit/verify.c "test_verify test_receive" \
	'if (!strcmp(author->role, "auditor") || !vl_division_covers(author->scope, r->scope))' \
	'if (!strcmp(author->role, "auditor"))'
mut revocation-time agent/audit/verify.c "test_receive test_verify" \
	'return t >= rev;' 'return t >= rev + 3600000;'
mut record-mode agent/audit/verify.c "test_verify test_receive" \
	'if (git_tree_entry_filemode_raw(e) != GIT_FILEMODE_BLOB)' \
	'if (git_tree_entry_filemode_raw(e) == GIT_FILEMODE_LINK)'
mut verify-branch-report agent/audit/verify.c "test_verify" \
	'if (j->res.report.len && (rc = vl_buf_put(&res->report, j->res.report.ptr, j->res.report.len)) < 0)' \
	'if (0 && (rc = vl_buf_put(&res->report, j->res.report.ptr, j->res.report.len)) < 0)'
mut verify-branch-ids agent/audit/verify.c "test_verify" \
	'if (ids_branch(j->ref) && (j->ids_rc = collect_ids(' \
	'if (0 && ids_branch(j->ref) && (j->ids_rc = collect_ids('
mut verify-ids-serial agent/audit/verify.c "test_verify" \
	$'rc = report_dup_ids(res, list, len);\nout:' \
	$'rc = 0;\nout:'
mut record-bucket agent/audit/verify.c "test_verify" \
	'if (!vl_ulid_valid(id) || bucket[0] != id[VL_ULID_LEN - 1] || bucket[1])' \
	'if (!vl_ulid_valid(id))'
mut tree-ledger-dirs agent/audit/verify.c "test_verify" \
	'int ok = git_tree_entry_filemode_raw(e) == GIT_FILEMODE_TREE &&' \
	'int ok = git_tree_entry_filemode_raw(e) != GIT_FILEMODE_BLOB ||'
mut record-removed agent/audit/verify.c "test_verify" \
	'if (!git_tree_entry_byname(new_tree, git_tree_entry_name(oe)))' 'if (0)'
mut record-prev-chain agent/audit/verify.c "test_verify test_receive" \
	$'if (!found)\n\t\t\t\treturn fail(' $'if (0)\n\t\t\t\treturn fail('
mut seq-prev-link agent/audit/verify.c "test_verify" \
	'strtoull(ps.ptr, NULL, 10) != seq - 1 ||' '0 ||'
mut seq-without-prev agent/audit/verify.c "test_verify" \
	'} else if (seq != 1) {' '} else if (0) {'
mut equivocation-branch agent/audit/verify.c "test_verify" \
	'if (!strcmp(c->links[i].fp, c->signer->fp) && c->links[i].seq == seq &&' \
	'if (0 && c->links[i].seq == seq &&'
mut equivocation-received agent/audit/verify.c "test_receive" \
	'if (same == 0) {' 'if (0) {'

# ---- issue 7: trust rules (agent/audit/verify.c, agent/node/, store/repo.c) -
mut time-commit-forward agent/audit/verify.c "test_trust" \
	$'if (ct < pt) {\n\t\t\t\ttime_text(a, ct);' $'if (0) {\n\t\t\t\ttime_text(a, ct);'
mut time-record-after-commit agent/audit/verify.c "test_trust" \
	'if (c->prev_ms && p->rclock.ms < c->prev_ms)' 'if (0)'
mut time-record-after-prev agent/audit/verify.c "test_trust" \
	'if (vl_hlc_cmp(&p->rclock, &p->oclock) < 0)' 'if (0)'
mut revocation-pin agent/audit/verify.c "test_trust" \
	'return !(git_oid_equal(&pid, c->commit) || git_graph_descendant_of(c->repo, &pid, c->commit) == 1);' \
	'return revoked_at_or_before(e, clock, secs);'
mut revocation-pin-needs-revoked-at agent/node/roster.c "test_trust" \
	$'if (!r->revoked_at)\n\t\treturn vl_error_set(VL_EINVALID, "roster entry %s: revoked_heads' \
	$'if (0)\n\t\treturn vl_error_set(VL_EINVALID, "roster entry %s: revoked_heads'
mut roster-window-revoked-at agent/node/roster.c "test_trust" \
	'if (b->revoked_at && (!a || !a->revoked_at) && !near_commit(b->revoked_at, commit_s)) {' 'if (0) {'
mut roster-window-valid-from agent/node/roster.c "test_trust" \
	'!near_commit(b->valid_from, commit_s)) {' '0) {'
mut record-id-other-branch agent/audit/verify.c "test_trust" \
	'if (!strcmp(at[i].scope, c->scope) && !strcmp(at[i].ledger, ledger))' 'if (1)'
mut record-id-same-receive agent/audit/verify.c "test_trust" \
	'		if (hit)' '		if (0)'
mut record-id-other-ledger agent/audit/verify.c "test_trust" \
	$'if (rc == VL_ENOTFOUND) {\n\t\t\trc = 0;\n\t\t\tcontinue;' $'if (1) {\n\t\t\trc = 0;\n\t\t\tcontinue;'
mut node-key-at-open agent/node/node.c "test_trust" \
	$'if (strcmp(keyfp, n->fp) != 0)\n\t\treturn' $'if (0)\n\t\treturn'
# (One check, vl_node_check_key, serves vl_node_open and every write. Its
# roster comparison is not mutated: node.pub's fingerprint names the roster
# entry, whose key the roster index checks against that fingerprint.)
mut commit-headers store/repo.c "test_trust test_receive" \
	'if (i == norder || (i == 4 && !is_signed))' \
	'if (i == norder) { p = eol + 1; continue; } if (0)'
mut commit-trailer-twice store/repo.c "test_trust" \
	'if (++seen[k] > 1)' 'if (++seen[k] > 1 && 0)'
mut tree-mode-padded store/repo.c "test_trust" \
	"if (*p == '0')" 'if (0)'
mut author-is-roster-name agent/audit/verify.c "test_trust" \
	'if (strcmp(git_commit_author(commit)->name, c->signer->name) != 0 ||' \
	'if (0 && strcmp(git_commit_author(commit)->name, c->signer->name) != 0 &&'
mut author-time agent/audit/verify.c "test_trust" \
	'if (git_commit_author(commit)->when.time - git_commit_committer(commit)->when.time > VL_AUTHOR_TIME_SKEW_S ||' \
	'if (0 && git_commit_author(commit)->when.time - git_commit_committer(commit)->when.time > VL_AUTHOR_TIME_SKEW_S &&'
mut record-conflicts-signed agent/audit/verify.c "test_trust" \
	'if (!was || !vl_value_equal(was, r->conflicts->items[k]))' 'if (0)'
mut evidence-checked agent/sync/receive.c "test_receive_path" \
	$'if (vr.failures) {\n\t\trc = vl_buf_printf(&x->res->report, "evidence' \
	$'if (0) {\n\t\trc = vl_buf_printf(&x->res->report, "evidence'

# ---- issue 7: receiving (agent/sync/) and merge REF (agent/ops/merge.c) -----
mut source-regular-file store/buf.c "sh_receive" \
	'if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {' 'if (fstat(fd, &st) < 0) {'
mut source-pack-dir agent/sync/source.c "sh_receive" \
	'if (lstat(f.ptr, &st) == 0 && !S_ISREG(st.st_mode)) {' 'if (0) {'
mut source-loose-truncated agent/sync/source.c "sh_receive" \
	'if (zr != Z_STREAM_END || z.total_out != k + size) {' 'if (0) {'
mut peer-ref-signer agent/sync/receive.c "test_receive_path" \
	$'if (!x->branches[i].accepted)\n\t\t\t\tcontinue;' $'if (0)\n\t\t\t\tcontinue;'
mut promote-shortcut-kept agent/sync/receive.c "test_receive" \
	'if ((rc = all_taken_kept(x)) == 1) {' 'if ((rc = all_taken_kept(x)) >= 0) {'
mut promote-taken-recorded agent/sync/receive.c "test_receive" \
	'all = bsearch(&x->taken[i], k, x->nkeep, sizeof(*k), oid_cmp) != NULL;' 'all = 1;'
mut merge-ref-verified agent/ops/merge.c "test_ops_merge sh_merge_ref" \
	$'if (vr.failures) {\n\t\tif ((rc = copy_report' $'if (0) {\n\t\tif ((rc = copy_report'
mut merge-ref-scope agent/ops/merge.c "test_ops_merge sh_merge_ref" \
	'if (!(scope = opts->scope) && !(scope = scope_of_ref(opts->ref))) {' \
	'if (!(scope = opts->scope) && !(scope = n->scope)) {'

# ---- serve's LAN announcer ends with serve (agent/net/lan.c) -------------------
mut lan-parent-death agent/net/lan.c "sh_net" \
	'if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)' \
	'if (0 && (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent))'

# ---- a source's files, opened only when regular (store/buf.c) -------------
# (the same check through the source's reader and the pack reader: above
# source-regular-file, below packread-regular)
mut regular-file store/buf.c "test_buf" \
	'if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {' 'if (fstat(fd, &st) < 0) {'
mut regular-nofollow store/buf.c "test_buf test_packread" \
	'fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);' \
	'fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);'
mut regular-nonblock store/buf.c "test_buf" \
	'fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);' \
	'fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);'
mut regular-cap store/buf.c "test_buf" \
	'if (len > max) {' 'if (0) {'
mut regular-absent-refused store/buf.c "test_buf" \
	'if (fd < 0 && (flags & VL_REGULAR_MAY_BE_ABSENT) && (errno == ENOENT || errno == ENOTDIR))' \
	'if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))'

# ---- a source's packs, the checked reader (store/packread.c) ----------------
mut packread-entry-cap store/packread.c "test_packread" \
	'if (size > VL_SOURCE_MAX_OBJECT)' \
	'if (size > VL_SOURCE_MAX_OBJECT && 0)'
mut packread-delta-cap store/packread.c "test_packread" \
	'if (dbase > VL_SOURCE_MAX_OBJECT || dresult > VL_SOURCE_MAX_OBJECT)' \
	'if (0)'
mut packread-type store/packread.c "test_packread" \
	'if (type == 0 || type == 5)' \
	'if (0)'
mut packread-ofs-start store/packread.c "test_packread" \
	'if (rel == 0 || rel > off || (*base = find_start(p, off - rel)) < 0)' \
	'if (rel == 0 || rel > off || ((*base = find_start(p, off - rel)) < 0 && 0))'
mut packread-ofs-start@receive store/packread.c "sh_receive" \
	'if (rel == 0 || rel > off || (*base = find_start(p, off - rel)) < 0)' \
	'if (rel == 0 || rel > off || ((*base = find_start(p, off - rel)) < 0 && 0))'
mut packread-ref-held store/packread.c "test_packread" \
	'if ((k = find_id(p, buf + i)) < 0 || (*base = find_start(p, offset_of(p, (uint32_t)k))) < 0)' \
	'if ((k = find_id(p, buf + i)) < 0 ? (*base = -1, 0) : (*base = find_start(p, offset_of(p, (uint32_t)k))) < 0)'
mut packread-regular store/buf.c "test_packread" \
	'if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {' \
	'if (fstat(fd, &st) < 0) {'
mut packread-count store/packread.c "test_packread" \
	'be32(head + 8) != p->n ||' \
	'0 ||'
mut packread-trailer store/packread.c "test_packread" \
	'memcmp(trailer, p->idx.ptr + p->idx.len - 40, GIT_OID_RAWSZ)) {' \
	'0) {'
mut packread-ids-sorted store/packread.c "test_packread" \
	'(i && memcmp(id - GIT_OID_RAWSZ, id, GIT_OID_RAWSZ) >= 0) ||' \
	'0 ||'
mut packread-offsets-in store/packread.c "test_packread" \
	'if (p->starts[i] < 12 || p->starts[i] >= p->pack_len - GIT_OID_RAWSZ ||' \
	'if (0 ||'
mut packread-one-per-offset store/packread.c "test_packread" \
	'(i && p->starts[i] == p->starts[i - 1]))' \
	'0)'
mut packread-fanout store/packread.c "test_packread" \
	'if (f < prev)' \
	'if (0)'
mut packread-large-table store/packread.c "test_packread" \
	'((o & 0x80000000u) && (o & 0x7fffffffu) >= p->nlarge))' \
	'0)'
mut packread-find-ends store/packread.c "test_packread" \
	'if (key < kl || key > kh)' \
	'if (key <= kl || key > kh)'
mut packset-hash store/packread.c "test_packread" \
	'return git_oid_equal(&got_id, id) ? 0 : VL_ENOTFOUND;' \
	'return 0;'
mut packset-type store/packread.c "test_packread" \
	'if ((i = entry_head(&type, &size, u, got)) == 0 || type != (int)want || size > max)' \
	'if ((i = entry_head(&type, &size, u, got)) == 0 || size > max)'
mut packset-max store/packread.c "test_packread" \
	'if ((i = entry_head(&type, &size, u, got)) == 0 || type != (int)want || size > max)' \
	'if ((i = entry_head(&type, &size, u, got)) == 0 || type != (int)want)'
mut packset-whole store/packread.c "test_packread" \
	'if (zr != Z_STREAM_END || s->z.total_out != size)' \
	'if (0)'

mut idindex-held-wrong-believed agent/node/idindex.c "test_index" \
	$'\t\treset(x);\n\t\tx->distrust = 1;\n\t\treturn vl_error_set(VL_ERROR, "the record index is wrong");' \
	$'\t\treturn vl_error_set(VL_ERROR, "the record index is wrong");'
mut idindex-distrust-ignored agent/node/idindex.c "test_index" \
	$'\tif (x->distrust)\n\t\treturn vl_error_set(VL_ERROR, "the record index is wrong");' \
	$'\tif (0)\n\t\treturn vl_error_set(VL_ERROR, "the record index is wrong");'
mut idindex-held-no-confirm agent/node/idindex.c "test_index" \
	$'found:\n\tif ((rc = confirm(*hits, nhits, n, id)) < 0)' \
	$'found:\n\tif (0 && (rc = confirm(*hits, nhits, n, id)) < 0)'
mut oidset-keyed store/oidset.c "test_oidset" \
	'crypto_shorthash(h, id->id, GIT_OID_RAWSZ, key);' \
	'memcpy(h, id->id, sizeof(h));'
mut ceiling-bad-fails bench/bench_ceiling.c "sh_bench_county" \
	'else if (bad_records + bad_commits)' \
	'else if (0)'

# ---- merge rules and hooks (hooks/) ------------------------------------------
mut merge-sum hooks/merge.c "test_merge test_converge" \
	'__builtin_sub_overflow(res, b, &res)) {' '__builtin_sub_overflow(res, 0, &res)) {'
mut merge-order hooks/merge.c "test_merge test_converge" \
	'return dup_opt(&r->val, xi > yi ? xv : yv);' 'return dup_opt(&r->val, xi < yi ? xv : yv);'
mut merge-order-terminals hooks/merge.c "test_merge" \
	$'if (xt && yt) { /* two different final states */\n\t\tr->person = 1;' \
	$'if (0) {\n\t\tr->person = 1;'
mut hook-sha256-pin hooks/hook.c "test_merge sh_merge" \
	'if (!pin || strcmp(sha, pin) != 0) {' 'if (!pin) {'

# ---- issue 11: CSV, reveal log, report tracking (agent/ops/csv.c, reports.c) --
mut csv-bad-row-writes agent/ops/csv.c "sh_csv fuzz_csv_corpus" \
	'if (b.nbadrows) {' 'if (0) {'
mut csv-row-validated agent/ops/csv.c "sh_csv" \
	$'if (rc < 0) {\n\t\tconst char *p = diag.ptr ? diag.ptr : "";' $'if (0) {\n\t\tconst char *p = diag.ptr ? diag.ptr : "";'
mut csv-formula agent/ops/csv.c "sh_csv" \
	$'if (len && strchr("=+-@\\t\\r\'", t[0])' $'if (0 && len'
mut csv-unquoted-quote agent/ops/csv.c "fuzz_csv_corpus sh_csv" \
	"if (buf[k] == '\"') {" 'if (0) {'
mut reveal-show-logged agent/cmd/cmd_record.c "sh_csv" \
	$'vl_reveal_entry e = { "show", f->schema->name, f->scope, ids, 1, 1 };\n\t\tif ((rc = vl_reveal_log(n, &e)) < 0)' \
	$'vl_reveal_entry e = { "show", f->schema->name, f->scope, ids, 1, 1 };\n\t\tif ((rc = 0 * (e.count)) < 0)'
mut reveal-refuses agent/cmd/cmd_csv.c "sh_csv" \
	'if ((rc = vl_reveal_log(n, &e)) < 0)' 'if ((rc = vl_reveal_log(n, &e)) < 0 && 0)'
mut reports-late-local agent/ops/reports.c "sh_reports" \
	'(m >= 1440 ? 1 : m < 0 ? -1 : 0)' '0'
mut reports-division-table agent/ops/reports.c "sh_reports" \
	'for (i = 0; ctx->have_div && i < ctx->div.n; i++)' 'for (i = 0; 0 && ctx->have_div && i < ctx->div.n; i++)'
mut reports-in-overview agent/cmd/agg_html.c "sh_aggregate_html" \
	'(tracker && tracker->ncalls && (rc' '(0 && tracker && tracker->ncalls && (rc'
mut request-age-uncached agent/ops/request_age.c "sh_aggregate_age" \
	'ao.no_cache = 1;' 'ao.no_cache = 0;'
mut request-age-open-only agent/ops/request_age.c "sh_aggregate_age" \
	'"supply_request.open"' '"supply_request.requests"'
mut request-age-network-zone agent/cmd/cmd_aggregate.c "sh_aggregate_age" \
	'(long long)(days + 1) * 86400 - (long long)tz_min * 60;' '(long long)(days + 1) * 86400 + 0 * tz_min;'
mut request-age-in-page agent/cmd/agg_html.c "sh_aggregate_age" \
	'(age && (rc = age_section' '(0 && age && (rc = age_section'
mut ref-not-held-accepted agent/ops/record.c "sh_reports" \
	'rc = holds ? VL_ENOTFOUND : 0;' 'rc = VL_ENOTFOUND;'
mut ref-held-checked agent/ops/record.c "sh_ux" \
	'rc = holds ? VL_ENOTFOUND : 0;' 'rc = 0;'
# ---- the UI's forms (agent/ui/form.c) and problems by field -----------------
mut add-every-problem agent/ops/record.c "test_ui_form" \
	$'(!is_value_problem(rc) || (rc = collect(c, field, rc)) < 0))\n\t\t\treturn rc;' \
	$'(!is_value_problem(rc) || (rc = collect(c, field, rc)) < 0 || 1))\n\t\t\treturn rc < 0 ? rc : VL_EINVALID;'
mut form-edit-only-changed agent/ui/form.c "test_ui_form" \
	'} else if (nv && !(cur && vl_value_equal(nv, cur))) {' '} else if (nv) {'
mut form-edit-no-personal agent/ui/form.c "test_ui_form" \
	't = hidden_pii ? "" : value_text(c, f->type, cur);' 't = value_text(c, f->type, cur);'
# ---- the secure channel (agent/net/) ---------------------------------------
mut shs-hello-hmac agent/net/shs.c "test_shs fuzz_shs_corpus" \
	'if (crypto_auth_verify(in, in + 32, 32, s->K) != 0)' \
	'if (crypto_auth_verify(in, in + 32, 32, s->K) != 0 && 0)'
mut shs-weak-point agent/net/shs.c "test_shs" \
	'if (crypto_scalarmult(s->ab, s->eph_sk, s->peer_eph) != 0)' \
	'if (crypto_scalarmult(s->ab, s->eph_sk, s->peer_eph) != 0 && 0)'
mut shs-client-sig agent/net/shs.c "test_shs" \
	'if (crypto_sign_verify_detached(s->hello, msg, 96, s->hello + 64) != 0) {' \
	'if (0) {'
mut shs-server-sig agent/net/shs.c "test_shs" \
	'if (crypto_sign_verify_detached(sig, msg, sizeof(msg), s->peer_pk) != 0) {' \
	'if (0) {'
mut shs-silent-server agent/net/chan.c "test_shs" \
	$'(rc = vl_shs_check_hello(&s, m1)) < 0)\n\t\tgoto fail;' \
	$'(vl_shs_hello(&s, m2), vl_sock_write_full(fd, m2, sizeof(m2), 1000)) < -100 ||\n\t\t\t(rc = vl_shs_check_hello(&s, m1)) < 0)\n\t\tgoto fail;'
mut box-body-cap agent/net/boxstream.c "fuzz_boxstream_corpus" \
	'if (l == 0 || l > VL_BOX_MAX_BODY) {' 'if (l == 0) {'
mut box-byte-cap agent/net/chan.c "test_shs" \
	'if (c->in_cap && c->bytes_in + more > c->in_cap)' 'if (0)'
mut box-deadline-per-box agent/net/chan.c "test_shs" \
	'remaining(deadline), &got);' 'c->idle_ms, &got);'
mut box-goodbye-required agent/net/chan.c "test_shs" \
	$'(rc = fill(c, VL_BOX_HEADER, deadline)) < 0)\n\t\treturn broken(c, rc);' \
	$'(rc = fill(c, VL_BOX_HEADER, deadline)) < 0) {\n\t\tc->peer_done = rc == VL_EPROTO && c->raw_len == c->raw_off;\n\t\treturn c->peer_done ? 0 : broken(c, rc);\n\t}'

# ---- LAN announcements (agent/net/lan.c) --------------------------------------
mut lan-network-hash agent/net/lan.c "test_lan" \
	' || memcmp(ann.net_hash, net, 32) != 0)' ')'
mut lan-length agent/net/lan.c "test_lan" \
	'if (len != VL_LAN_DGRAM_LEN)' 'if (len < VL_LAN_DGRAM_LEN)'
mut lan-version agent/net/lan.c "test_lan" \
	'|| p[4] != LAN_VERSION || p[5] != 0)' '|| p[5] != 0)'
mut lan-listen-interface agent/net/lan.c "test_lan sh_lan" \
	'if (only_addr != htonl(INADDR_ANY) && htonl(addr) != only_addr)' 'if (0)'
mut lan-sync-next-address agent/ops/lan_ops.c "sh_lan" \
	$'if ((it->rc = vl_sync(n, &so, &it->sync)) == 0)\n\t\t\t\tbreak;' \
	$'if ((it->rc = vl_sync(n, &so, &it->sync)) <= 0)\n\t\t\t\tbreak;'
mut lan-sync-roster-only agent/ops/lan_ops.c "sh_net3 sh_lan" \
	'if (c->opts->roster_only && (!e || e->revoked_at || self))' 'if (0)'

# ---------------------------------------------------------------------------

# ---- thin packs (agent/sync/bundle.c vl_pack_thin, vl_pack_index_file) ----
mut thin-depth-cap agent/sync/bundle.c "test_delta" \
	'if (bdepth >= 0 && bdepth < VL_PACK_DELTA_DEPTH &&' \
	'if (bdepth >= 0 &&'
mut thin-base-held agent/sync/bundle.c "test_delta" \
	'int rc, bdepth = base ? oidset_depth(&t->seen, base) : -1, made = 0;' \
	'int rc, bdepth = base ? (oidset_depth(&t->seen, base) < 0 ? 0 : oidset_depth(&t->seen, base)) : -1, made = 0;'
mut thin-index-no-odb agent/sync/bundle.c "sh_thin" \
	'(rc = git_indexer_new(&idx, dir, 0, NULL, &iopts)) < 0)) {' \
	'(rc = git_indexer_new(&idx, dir, 0, ours, &iopts)) < 0)) {'
mut thin-unchanged-subtree agent/sync/bundle.c "test_delta" \
	$'if (base && git_oid_equal(base, id))\n\t\treturn 0;' \
	$'if (0)\n\t\treturn 0;'

# ---- network sessions (agent/net/server.c, agent/net/proto.c) ---------------
mut net-roster-check agent/net/server.c "sh_net" \
	'if (!peer || peer->revoked_at) {' \
	'if (!peer) { peer = &n->entries[0]; } if (0) {'
mut net-advertise-scope agent/net/proto.c "sh_net" \
	'if (!vl_division_covers(r->scope, code))' \
	'if (!r->scope)'
mut net-chunk-config agent/net/proto.c "fuzz_proto_corpus" \
	'if (!vl_proto_refs_get(refs, VL_REF_CONFIG)) {' \
	'if (0) {'
mut net-refs-twice agent/net/proto.c "fuzz_proto_corpus" \
	'if (!strcmp(r.refs[k].name, name)) {' \
	'if (0) {'

# ---- time zone and progress (agent/node/tz.c, agent/cmd/cli.c; issue 12) ---
mut tz-local-time agent/node/tz.c "sh_tz" \
	'return put_local(out, secs, frac, 0, tz_min);' 'return vl_buf_puts(out, utc);'
# ---- the lazy config (agent/node/confcache.c, node.c, issue 8) ----------
mut confcache-tree-key agent/node/confcache.c "sh_config_lazy" \
	'self.ptr, git_oid_tostr_s(tree)) == 0)' 'self.ptr, tree ? "-" : "") == 0)'
mut confcache-sum agent/node/confcache.c "sh_config_lazy" \
	'memcmp(data.ptr + body + 4, hex, 64) != 0 ||' '0 ||'
mut lazy-schema-names-its-ledger agent/node/node.c "sh_config_lazy" \
	'if (!s || strcmp(s->name, z->names.ledger[j]) != 0) {' 'if (!s) {'
mut roster-pair-by-place agent/node/roster.c "test_roster" \
	'	return vl_roster_find(e, n, fp);' \
	'	return NULL;'
mut roster-duplicate-set agent/node/roster.c "test_roster" \
	$'\t\tseen[j] = r;\n' $'\t\t(void)r;\n'
mut tz-network-key agent/node/node.c "sh_tz" \
	'if (tz && (rc = vl_tz_parse(&n->tz_min,' 'if (0 && (rc = vl_tz_parse(&n->tz_min,'
mut progress-tty-only agent/cmd/cli.c "sh_progress" \
	'if (isatty(STDERR_FILENO))' 'if (1)'
mut progress-shown agent/cmd/cli.c "sh_progress" \
	'if (isatty(STDERR_FILENO))' 'if (isatty(STDERR_FILENO) && 0)'

# ---- issue 12: operator trailer, history --field, list columns ----------------
mut operator-control-char store/repo.c "test_trust" \
	'if (s[i] < 0x20 || s[i] == 0x7f ||' 'if (0 && (s[i] < 0x20 || s[i] == 0x7f) &&'
mut operator-checked-in-commits store/repo.c "test_trust" \
	'if (vl_operator_check(v + 1, vl - 1) < 0)' 'if (0)'
mut history-field-filter agent/cmd/cmd_audit.c "sh_operator" \
	'if ((!res.changed || res.changed[i]) &&' 'if ((1) &&'
mut history-branch-order agent/audit/audit.c "test_audit" \
	$'if (sc.n > 1)\n\t\tqsort(sc.code, sc.n, sizeof(*sc.code), code_cmp);' \
	$'if (0)\n\t\tqsort(sc.code, sc.n, sizeof(*sc.code), code_cmp);'
mut list-column-width agent/cmd/cmd_record.c "sh_list" \
	'vl_print_padded(cells[k * ncols + i], i + 1 < ncols ? width[i] : 0);' \
	'vl_print_padded(cells[k * ncols + i], 18);'

# ---- the web UI (agent/ui/, tests/sh/ui.sh, tests/ui/) ----------------------
mut ui-host agent/ui/server.c "sh_ui" \
	'if (!host_ok(ui, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host")))' \
	'if (0 && !host_ok(ui, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host")))'
mut ui-csrf agent/ui/server.c "sh_ui" \
	'if (!secret_eq(ui->csrf, v, v ? strlen(v) : 0)) {' \
	'if (0 && !secret_eq(ui->csrf, v, v ? strlen(v) : 0)) {'
mut ui-session agent/ui/server.c "sh_ui" \
	'if (!secret_eq(ui->session, v, v ? len : 0)) {' \
	'if (0 && !secret_eq(ui->session, v, v ? len : 0)) {'
mut ui-token agent/ui/server.c "sh_ui" \
	'if (!secret_eq(ui->token, tok, strlen(tok))) {' \
	'if (0 && !secret_eq(ui->token, tok, strlen(tok))) {'
mut ui-body-cap agent/ui/server.c "sh_ui" \
	'if (!st->too_big && st->body.len + *upload_data_size <= VL_UI_BODY_MAX) {' \
	'if (!st->too_big) {'
mut ui-escape-lt agent/ui/html.c "sh_ui ui_browser" \
	$'case \'<\': rep = "&lt;"; break;' \
	$'case \'<\': rep = NULL; break;'
mut ui-loopback agent/ui/server.c "sh_ui" \
	'if (!opts->allow_remote) {' \
	'if (0) {'
mut ui-mask agent/ui/pages_core.c "sh_ui ui_browser" \
	'if ((rc = vl_schema_mask(&shown, s, rec->data)) < 0)
		goto out;
	if (reveal' \
	'if (!(shown = vl_value_clone(rec->data)))
		goto out;
	if (reveal'
# ---- issue 12: schema language rule, schema install (helper ledgers) ----------
mut schema-ui-keys-only schemas/schema.c "test_schema" \
	'if (strncmp(m->keys[i], VL_SCHEMA_DISPLAY_PREFIX, plen) == 0 && m->keys[i][plen])' \
	'if (m->keys[i][0])'
mut schema-later-language schemas/schema.c "test_schema" \
	'if (c.language > VL_SCHEMA_LANGUAGE)' 'if (0)'
mut install-held-records agent/ops/schema.c "sh_schema_install" \
	'rc = check_held_records(&rc_ctx, items, nitems);' 'rc = 0 && check_held_records(&rc_ctx, items, nitems);'
mut install-merge-rules agent/ops/schema.c "sh_schema_install" \
	'rc = check_merge_rules(&why, &bad, it->old, it->s);' 'rc = 0 && check_merge_rules(&why, &bad, it->old, it->s);'
mut install-lower-version agent/ops/schema.c "sh_schema_install" \
	'if (it->s->version < it->old->version)' 'if (0)'
mut install-admin agent/ops/schema.c "sh_schema_install" \
	'if ((rc = vl_roster_check_change(n->roster, n->roster, n->fp, county, 1)) < 0) {' 'if (0) {'
# ---- issue 12, the rest (helper uxrest) --------------------------------------
mut prompt-echo-off agent/node/passprompt.c "sh_prompt" \
	't.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);' 't.c_lflag &= ~(tcflag_t)(ECHOE | ECHOK);'
mut prompt-sigint-restores agent/node/passprompt.c "sh_prompt" \
	'tcsetattr(prompt_fd, TCSAFLUSH, &prompt_saved);' '(void)prompt_fd;'
mut import-checks-as-add agent/ops/record.c "sh_import_checks" \
	'if ((rc = check_id_agrees(s, d, &col)) < 0 || (rc = check_refs(n, s, d, NULL, &col)) < 0 ||
				(rc = collected(&col)) < 0) {' 'if (0) {'
mut ref-in-list-items agent/ops/record.c "sh_import_checks" \
	'rc = each_ref(f->item_fields, f->nitem_fields, it, fn, ctx);' 'rc = 0;'
mut ref-old-not-rechecked agent/ops/record.c "sh_import_checks" \
	'if (c->had->n && bsearch(' 'if (0 && bsearch('
mut remote-sigpipe agent/cmd/cmd_remote.c "sh_remote" \
	'signal(SIGPIPE, SIG_IGN);' '(void)0;'
mut remote-fetch-pack-check agent/ops/remote_ops.c "sh_remote_bomb" \
	'if ((rc = add_spool(tmp, n, x)) < 0)' 'if (0 && (rc = add_spool(tmp, n, x)) < 0)'
mut remote-local-as-path agent/ops/remote_ops.c "sh_remote_bomb" \
	'return url[0] == '"'"'/'"'"' || has_prefix(url, "file://");' 'return 0;'
mut import-duplicates-warned agent/ops/record.c "sh_import_checks" \
	'if ((rc = import_dup(out, &capdups, &have, &seen, s, d, i)) < 0)' 'if (0)'
keep=0 baseline=1 only=
while [ $# -gt 0 ]; do
	case $1 in
	-k) keep=1 ;;
	-n) baseline=0 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "mutate.sh: unknown option '$1'; see --help" >&2; exit 2 ;;
	*) only=$1 ;;
	esac
	shift
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/vlmutate.XXXXXX")
cleanup() {
	if [ "$keep" = 1 ]; then echo "scratch kept: $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT
src=$scratch/src build=$scratch/build
mkdir -p "$src" "$scratch/tmp"
# The working tree as it is, edits included (the project needs nothing
# beside it).
(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
	(cd "$root" && tar --null -T - -cf -) | tar -C "$src" -xf -

start=$(date +%s)
log=$scratch/log
build_tree() {
	cmake --build "$build" -j2 >"$log" 2>&1
}
echo "building $src ..."
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DVL_WERROR=OFF >"$log" 2>&1 || { cat "$log"; exit 1; }
build_tree || { tail -40 "$log"; echo "mutate.sh: the unmutated tree does not build" >&2; exit 1; }

# Tests write their scratch directories under $TMPDIR; a failing cmocka test
# aborts its binary at once (CMOCKA_TEST_ABORT) so that a caught mutation
# costs little.
export TMPDIR=$scratch/tmp CMOCKA_TEST_ABORT=1
ulimit -c 0  # aborted test binaries leave no core files
run_test() { # name -> 0 pass, 1 fail
	(cd "$build" && ctest -R "^$1\$" --timeout 900 >"$scratch/test.log" 2>&1)
}

selected=()
for i in "${!names[@]}"; do
	if [ -z "$only" ] || grep -qE -- "$only" <<<"${names[$i]}"; then selected+=("$i"); fi
done
[ ${#selected[@]} -gt 0 ] || { echo "mutate.sh: no mutation matches '$only'" >&2; exit 2; }

# Every test named must exist (a renamed test must not pass by running nothing).
declare -A need=()
for i in "${selected[@]}"; do for t in ${tests[$i]}; do need[$t]=1; done; done
for t in "${!need[@]}"; do
	n=$(cd "$build" && ctest -N -R "^$t\$" | sed -n 's/^Total Tests: //p')
	[ "$n" = 1 ] || { echo "mutate.sh: no test named '$t' (ctest -N)" >&2; exit 1; }
done
if [ "$baseline" = 1 ]; then
	echo "baseline: ${!need[*]}"
	for t in "${!need[@]}"; do
		run_test "$t" || { cat "$scratch/test.log"; echo "mutate.sh: $t fails unmutated; fix that first" >&2; exit 1; }
	done
fi

bad=0
table=()
for i in "${selected[@]}"; do
	name=${names[$i]} file=$src/${files[$i]}
	t0=$(date +%s)
	if [ ! -f "$file" ]; then
		table+=("$name|NO FILE|${files[$i]}"); bad=1; continue
	fi
	cp -p "$file" "$scratch/orig"
	# Exact text, exactly once (perl's \Q...\E: no pattern characters).
	if ! VL_FROM=${froms[$i]} VL_TO=${tos[$i]} perl -0777 -i -pe '
			BEGIN { $f = $ENV{VL_FROM}; $t = $ENV{VL_TO} }
			$n = () = /\Q$f\E/g;
			die "found $n times\n" unless $n == 1;
			s/\Q$f\E/$t/;' "$file" 2>"$scratch/perl.log"; then
		table+=("$name|DOES NOT APPLY|${files[$i]}: original text $(cat "$scratch/perl.log")"); bad=1
		cp -p "$scratch/orig" "$file"; continue
	fi
	touch "$file"
	result= by=
	if ! build_tree; then
		result="BUILD FAILED" by=$(grep -m1 'error' "$log" || true); bad=1
	else
		for t in ${tests[$i]}; do
			if ! run_test "$t"; then result=caught by=$t; break; fi
		done
		if [ -z "$result" ]; then result=SURVIVED by="(${tests[$i]})"; bad=1; fi
	fi
	cp "$scratch/orig" "$file"
	touch "$file"
	table+=("$name|$result|$by|$(( $(date +%s) - t0 ))s")
	printf '%-28s %-10s %s\n' "$name" "$result" "$by"
done

echo
printf '%-28s %-14s %-20s %s\n' mutation result caught-by time
for row in "${table[@]}"; do
	IFS='|' read -r a b c d <<<"$row"
	printf '%-28s %-14s %-20s %s\n' "$a" "$b" "$c" "$d"
done
echo "total: ${#selected[@]} mutations in $(( $(date +%s) - start ))s"
if [ "$bad" != 0 ]; then
	echo "mutate.sh: FAILED: a mutation survived, did not apply or did not build" >&2
	exit 1
fi
echo "every mutation was caught"
