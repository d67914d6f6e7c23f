#!/usr/bin/env bash
# Issue 12: --json on verify, fetch, import and bundle apply: one object
# each, the field names of docs/formats.md §9, the same exit codes as the
# text. Checked with jq. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir json
command -v jq >/dev/null || { echo "skip: jq is not installed (scripts/install-deps.sh)"; exit 77; }
S=500243001001
C() { "$VLEDGER" -C "$w/county" "$@"; }
V() { "$VLEDGER" -C "$w/v1" "$@"; }

vl_network County $S v1 V1
vl_enrol v1 V1 $S

# fetch: the village takes the config.
jexpect 0 V fetch "$w/county/repo.git" --json
is '.config.state' updated; is '.config.commits' 2
is '.config.head' "$(git --git-dir "$w/county/repo.git" rev-parse refs/heads/config)"
is '.scopes.refused' 0; is '.refused | length' 0; is '.conflicts' 0
jexpect 0 V fetch "$w/county/repo.git" --json
is '.config.state' unchanged; is '.commits' 0

# import.
printf 'records:\n  - {name: 甲, residence_kind: registered, address: a, source: self_report}\n  - {name: 乙, residence_kind: migrant, address: b, source: self_report}\n' > "$w/r.yaml"
jexpect 0 V import resident --file "$w/r.yaml" --json
is '.scope' $S; is '.records' 2; is '.committed' 2; is 'keys | join(",")' 'committed,duplicates,records,scope'; is '.duplicates | length' 0

# bundle apply: one applied; one sealed to someone else failed, exit 1 as
# without --json, the reason in "message".
mkdir "$w/usb"
expect 0 V bundle create "$w/usb/v1.bundle" --for County
jexpect 0 C bundle apply "$w/usb/v1.bundle" --json
is '.bundles | length' 1; is '.bundles[0].status' applied; is '.bundles[0].message' null
is '.bundles[0].refs' 2; is '.bundles[0].sealed' false
is '.bundles[0].receive.scopes.updated' 1; is '.bundles[0].receive.commits' 1
expect 0 C bundle create "$w/usb/c.bundle" --for V1 --seal-to V1
jexpect 1 C bundle apply "$w/usb/c.bundle" --json
is '.bundles[0].status' failed; j '.bundles[0].message'; case "$got" in *"sealed to"*) ok ;; *) bad "no reason: $out" ;; esac
is '.bundles[0].receive' null

# verify: all good, then a commit stock git made without a signature.
jexpect 0 C verify --json
is '.ok' true; is '.failures' 0; is '.problems' '[]'; j '.commits'; [ "$got" -gt 0 ] && ok || bad "$out"
is 'keys | join(",")' 'branches,commits,failures,merges,ok,problems,records,revocations'
g() { git --git-dir "$w/county/repo.git" "$@"; }
bad_commit=$(GIT_AUTHOR_NAME=x GIT_AUTHOR_EMAIL=x@x GIT_COMMITTER_NAME=x GIT_COMMITTER_EMAIL=x@x \
	g commit-tree -p refs/heads/scope/$S -m forged "$(g rev-parse refs/heads/scope/$S^{tree})")
g update-ref refs/heads/scope/$S "$bad_commit"
jexpect 4 C verify --json
is '.ok' false; j '.failures'; [ "$got" -ge 1 ] && ok || bad "$out"
j '.problems[0]'; case "$got" in *"${bad_commit:0:12}"*|*"$bad_commit"*) ok ;; *) bad "problem does not name the commit: $out" ;; esac
[ ! -s "$w/err" ] && ok || bad "verify --json wrote to stderr: $(cat "$w/err")"

echo "json: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
