#!/usr/bin/env bash
# Issue 12: --json on the rest of the commands that report something: key,
# roster add/revoke, schema check, operator show, bundle create, rm, merge,
# resolve, join-records. One object each on stdout, the field names of
# docs/formats.md §9.5, the same exit codes as the text. Checked with jq.
# Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir json_more
command -v jq >/dev/null || { echo "skip: jq is not installed (scripts/install-deps.sh)"; exit 77; }
S=500243001001
BR=refs/heads/scope/$S
C() { "$VLEDGER" -C "$w/county" "$@"; }
L1() { "$VLEDGER" -C "$w/lap1" "$@"; }
L2() { "$VLEDGER" -C "$w/lap2" "$@"; }
ID1=$(cn_id 50024319430215002) ID2=$(cn_id 50024319430215012) ID3=$(cn_id 50024319430215022)

vl_network 彭水县民政局 $S lap1 笔记本1 lap2 笔记本2

# key
jexpect 0 L1 key --json
is 'keys | join(",")' 'fingerprint,public_key'
is '.fingerprint' "$(L1 key | sed -n 2p)"; is '.public_key' "$(L1 key | sed -n 1p)"

# roster add / revoke
jexpect 0 C roster add --name 笔记本1 --role village --scope $S --key "$(L1 key | head -1)" --json
is '.name' 笔记本1; is '.role' village; is '.scope' $S; is '.fingerprint' "$(L1 key | sed -n 2p)"
is '.commit' "$(git --git-dir "$w/county/repo.git" rev-parse refs/heads/config)"
j '.valid_from'; [[ $got =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] && ok || bad "valid_from '$got'"
vl_enrol lap2 笔记本2 $S
ssh-keygen -q -t ed25519 -N '' -C x -f "$w/spare"
expect 0 C roster add --name 备用 --role village --scope 500243001002 --key "$(cat "$w/spare.pub")"
spare=$(ssh-keygen -lf "$w/spare.pub" | awk '{print $2}')
jexpect 0 C roster revoke "$spare" --reason test --json
is '.fingerprint' "$spare"; is '.scope' 500243001002; is '.role' village
j '.revoked_at'; [[ $got =~ Z$ ]] && ok || bad "revoked_at is not the UTC instant: '$got'"
is '.commit' "$(git --git-dir "$w/county/repo.git" rev-parse refs/heads/config)"
# A refused revoke: exit 1, nothing on stdout.
out=$(C roster revoke "$spare" --reason again --json 2>/dev/null); [ $? -eq 1 ] && [ -z "$out" ] && ok || bad "second revoke: $out"
expect 0 L1 fetch "$w/county/repo.git"
expect 0 L2 fetch "$w/county/repo.git"

# schema check: one good file, one bad; exit 1 when any is bad.
cp "$VL_SOURCE_DIR/schemas/resident.yaml" "$w/good.yaml"
printf 'name: broken\nversion: 1\nfields:\n  - name: x\n    type: nosuchtype\n' > "$w/bad.yaml"
jexpect 1 L1 schema check "$w/good.yaml" "$w/bad.yaml" --json
is '.bad' 1; is '.files | length' 2
is '.files[0].ok' true; is '.files[0].ledger' resident; j '.files[0].fields'; [ "$got" -gt 5 ] && ok || bad "fields $got"
is '.files[1].ok' false; is '.files[1].ledger' null
j '.files[1].errors | length'; [ "$got" -ge 1 ] && ok || bad "no errors listed: $out"
j '.files[1].errors[0]'; case $got in "$w/bad.yaml:"*) ok ;; *) bad "error without file:line: $got" ;; esac
jexpect 0 L1 schema check "$w/good.yaml" --json
is '.bad' 0

# operator show
jexpect 0 L1 operator show --json
is '.operator' null
expect 0 L1 operator set 王小明
jexpect 0 L1 operator show --json
is '.operator' 王小明

# rm
expect 0 L1 add resident --set name=甲 --set residence_kind=registered --set address=a --set source=self_report
r0=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
jexpect 0 L1 rm "$r0" --reason 重复 --json
is '.id' "$r0"; is '.deleted' true; is '.commit' "$(git --git-dir "$w/lap1/repo.git" rev-parse $BR)"

# bundle create
jexpect 0 L1 bundle create "$w/b.bundle" --json
is '.path' "$w/b.bundle"; is '.scope' $S; is '.sealed_to' null
j '.bytes'; [ "$got" = "$(stat -c %s "$w/b.bundle")" ] && ok || bad "bytes $got"
j '.refs'; [ "$got" -ge 1 ] && ok || bad "refs $got"
is 'keys | join(",")' 'bytes,objects,path,prerequisites,refs,scope,sealed_to'

# merge and resolve: both laptops change one id_number.
expect 0 L1 add resident --set name=王秀英 --set id_number=$ID1 --set gender=女 --set residence_kind=registered \
	--set address=b --set source=self_report
rA=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
git --git-dir "$w/lap2/repo.git" fetch -q "$w/lap1/repo.git" "+$BR:$BR"
expect 0 L1 edit "$rA" --set id_number=$ID2
expect 0 L2 edit "$rA" --set id_number=$ID3
git --git-dir "$w/lap1/repo.git" fetch -q "$w/lap2/repo.git" "+$BR:refs/peers/other/scope/$S"
jexpect 3 L1 merge refs/peers/other/scope/$S --json
is '.scope' $S; is '.outcome' merged; is '.conflicts' 1
is '.head' "$(git --git-dir "$w/lap1/repo.git" rev-parse $BR)"
jexpect 0 L1 merge refs/peers/other/scope/$S --json
is '.outcome' up_to_date; is '.conflicts' 0
jexpect 0 L1 resolve "$rA" id_number --take 1 --json
is '.id' "$rA"; is '.field' id_number; is '.commit' "$(git --git-dir "$w/lap1/repo.git" rev-parse $BR)"

# join-records: two entries of one person.
expect 0 L1 add resident --set name=李四 --set residence_kind=registered --set address=c --set source=self_report
k1=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
expect 0 L1 add resident --set name=李四 --set residence_kind=registered --set address=c --set source=self_report
k2=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
jexpect 0 L1 join-records "$k1" "$k2" --json
is '.keep' "$k1"; is '.deleted' "$k2"; is '.conflicts' 0
is '.commit' "$(git --git-dir "$w/lap1/repo.git" rev-parse $BR)"

echo "json_more: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
