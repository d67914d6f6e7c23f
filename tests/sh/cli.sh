#!/usr/bin/env bash
# The vledger command line end to end against the real binary, stock git and
# ssh-keygen: exit codes, refusals that change nothing, messages that name
# the field and rule but never a personal value. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir cli
C() { "$VLEDGER" -C "$w/county" "$@"; }
V() { "$VLEDGER" -C "$w/village" "$@"; }
ID_OK=500243194302150029   # synthetic, valid check digit
ID_BAD=500243194302150021  # same, wrong check digit

# Usage errors are exit 2.
expect 2 "$VLEDGER"
expect 2 "$VLEDGER" frobnicate
expect 2 C add
expect 2 C init --name x --role county --scope 500243000000
expect 2 C init --name x --role mayor --scope 500243000000 --new-network
expect 0 "$VLEDGER" --help
contains "verify"

# A node is needed.
expect 1 C key
contains "vledger init"

# Only a county creates a network; roles need scopes of their level.
expect 1 "$VLEDGER" -C "$w/x" init --name x --role village --scope 500243001001 --new-network
expect 1 "$VLEDGER" -C "$w/x" init --name x --role village --scope 500243001000 --network /nonexistent
contains "village-level"

expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network
expect 1 C init --name again --role county --scope 500243000000 --new-network
contains "already holds"
expect 0 C key
contains "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"
expect 0 C export network --output "$w/network.yaml"

# Village with a sealed key.
printf 'correct horse\n' > "$w/pass"; printf 'wrong horse\n' > "$w/wrong"
expect 0 V init --name 鼓楼社区 --role village --scope 500243001001 --network "$w/network.yaml" --passphrase-file "$w/pass"
[ "$(stat -c %a "$w/village/keys/node.key")" = 600 ] && ok || bad "node.key is not mode 600"
grep -q "sealed" "$w/village/keys/node.key" && ok || bad "key not sealed"
expect 1 V schema check "$w/nothing.yaml"
expect 1 V roster list
contains "no network config"
expect 0 V fetch "$w/county/repo.git"
contains "1 new commit"
expect 0 V fetch "$w/county/repo.git"
contains "up to date"

# Not on the roster yet: refused, nothing written.
before=$(refs village)
expect 1 V add resident --passphrase-file "$w/pass" --set name=张三 --set residence_kind=registered --set address=x --set source=self_report
contains "not on the roster"
[ "$before" = "$(refs village)" ] && ok || bad "refs moved on a refused add"

vkey=$(V key | head -1)
expect 2 C roster add --name 鼓楼社区 --role village --scope 500243001001
expect 1 C roster add --name 鼓楼社区 --role village --scope 500243001000 --key "$vkey"
expect 0 C roster add --name 鼓楼社区 --role village --scope 500243001001 --key "$vkey"
expect 1 C roster add --name dup --role village --scope 500243001001 --key "$vkey"
contains "already on the roster"
expect 0 V fetch "$w/county/repo.git"

# Sealed key: no passphrase, wrong passphrase.
expect 1 V add resident --set name=张三 --set residence_kind=registered --set address=x --set source=self_report
contains "passphrase"
expect 1 V add resident --passphrase-file "$w/wrong" --set name=张三 --set residence_kind=registered --set address=x --set source=self_report
export VLEDGER_PASSPHRASE_FILE=$w/pass

# Bad input: named field and rule, never the value; nothing written.
before=$(refs village)
expect 1 V add resident --set name=张三 --set id_number=$ID_BAD --set residence_kind=registered --set address=x --set source=self_report
contains "id_number"; contains "check digit"; lacks "$ID_BAD"
expect 1 V add resident --set name=张三 --set phone=12345 --set residence_kind=registered --set address=x --set source=self_report
contains "phone"; lacks "12345"
expect 1 V add resident --set nickname=x --set residence_kind=registered --set address=x --set source=self_report
contains "nickname"
expect 1 V add resident --set name=张三 --set residence_kind=registered --set address=x
contains "source"
expect 1 V add resident --set name=张三 --set residence_kind=registered --set address=x --set source=rumour
contains "source"
expect 1 V add resident --scope 500243001002 --set name=张三 --set residence_kind=registered --set address=x --set source=self_report
contains "outside"
expect 1 V add nosuchledger --set a=b
[ "$before" = "$(refs village)" ] && ok || bad "refs moved on refused input"

# Good records; Chinese enum labels are accepted and stored as values.
expect 0 V add resident --set name=王秀英 --set id_number=$ID_OK --set residence_kind=户籍人口 \
	--set address="2 组 8 号" --set tags=独居老人,special_disease --set source=主动摸排
r1=$out
expect 0 V add resident --set name=李小明 --set residence_kind=registered --set address="5 组" --set source=self_report
r2=$out
expect 0 V show "$r1"
contains "独居老人"; lacks "王秀英"; lacks "$ID_OK"
expect 0 V show "$r1" --reveal --json
contains '"name":"王秀英"'; contains '"tags":["elderly_alone","special_disease"]'; contains '"residence_kind":"registered"'
expect 0 V list resident --where tags=elderly_alone
contains "$r1"; lacks "$r2"; contains "1 record"

# Edit, unset, delete, and a tombstone is not edited. Each edit is read
# back: through show --json --reveal, and as stored (the record file on the
# branch, with stock git).
stored() { # stored ID: the record file of ID at the head of the village branch
	git --git-dir "$w/village/repo.git" cat-file blob "scope/500243001001:$(
		git --git-dir "$w/village/repo.git" ls-tree -r --name-only scope/500243001001 | grep "/$1.yaml\$")"
}
expect 0 V edit "$r1" --set phone=13800000001
expect 0 V show "$r1" --json --reveal
contains '"phone":"13800000001"'; contains '"name":"王秀英"'
out=$(stored "$r1")
contains 'phone: "13800000001"'; contains "id_number: \"$ID_OK\""
expect 0 V edit "$r1" --unset phone
expect 0 V show "$r1" --json --reveal
lacks '"phone"'; contains '"name":"王秀英"'; contains '"tags":["elderly_alone","special_disease"]'
out=$(stored "$r1")
lacks 'phone:'; contains 'name: 王秀英'
r1_blob=$(stored "$r1" | git hash-object --stdin)
expect 1 V edit "$r1" --set name=
[ "$(stored "$r1" | git hash-object --stdin)" = "$r1_blob" ] && ok || bad "a refused edit changed the stored record"
expect 1 V edit 01aaaaaaaaaaaaaaaaaaaaaaaa --set name=x
contains "no record"
expect 2 V rm "$r2"
expect 0 V rm "$r2" --reason 迁出
expect 1 V edit "$r2" --set name=x
contains "deleted"
expect 0 V show "$r2" --reveal --json
contains '"deleted":true'; lacks "李小明"
expect 0 V list resident
lacks "$r2"
expect 0 V list resident --deleted
contains "$r2"

# Import is all or nothing.
cat > imp.yaml <<'YAML'
records:
  - {name: 甲, residence_kind: registered, address: 1 组, source: self_report}
  - {name: 乙, residence_kind: nowhere, address: 2 组, source: self_report}
YAML
before=$(refs village)
expect 1 V import resident --file imp.yaml
contains "record 2"; contains "nothing was imported"
[ "$before" = "$(refs village)" ] && ok || bad "refs moved on a refused import"
sed -i 's/nowhere/migrant/' imp.yaml
n_before=$(git --git-dir "$w/village/repo.git" ls-tree -r --name-only scope/500243001001 | grep -c '^resident/')
expect 0 V import resident --file imp.yaml
contains "imported 2"
[ "$(git --git-dir "$w/village/repo.git" ls-tree -r --name-only scope/500243001001 | grep -c '^resident/')" \
	-eq $((n_before + 2)) ] && ok || bad "import did not store 2 record files"
expect 0 V list resident --json --reveal
contains '"name":"甲"'; contains '"name":"乙"'; contains '"address":"1 组"'; contains '"residence_kind":"migrant"'

# Supply request from a file, then forward through its states.
cat > sup.yaml <<'YAML'
request_no: "500243001001-20220407-003"
reason: sealed_household
address: 2 组 8 号
contact_name: 王秀英
contact_phone: "13800000001"
items:
  - {name: 大米, qty: 2, unit: 袋}
status: 已登记
requested_at: "2022-04-07T01:12:33Z"
YAML
expect 0 V add supply_request --file sup.yaml
s1=$out
expect 0 V show "$s1" --json
contains '"status":"registered"'
expect 0 V edit "$s1" --set status=已采购
expect 0 V show "$s1" --json --reveal
contains '"status":"purchased"'; lacks '"status":"registered"'; contains '"contact_phone":"13800000001"'
out=$(stored "$s1")
contains 'status: purchased'; lacks '已采购'
expect 0 V log --record "$s1"
contains "add supply_request"; contains "edit supply_request"

# Schema defaults fill what a new record leaves out (--set, --file, import);
# a value given wins; an edit applies none.
day0=$(date -u +%F)
expect 0 V add supply_request --set request_no=500243001001-20220407-004 --set reason=immobile \
	--set address="3 组" --set contact_name=李四 --set contact_phone=13800000002 --set items="[{name: 大米, qty: 1}]"
s2=$out
day1=$(date -u +%F)
expect 0 V show "$s2" --json
contains '"status":"registered"'
case $out in
	*\"requested_at\":\"${day0}T??:??:??Z\"*|*\"requested_at\":\"${day1}T??:??:??Z\"*) ok ;;
	*) bad "requested_at is not the time of entry to the second: $out" ;;
esac
expect 0 V add supply_request --set request_no=500243001001-20220407-005 --set reason=immobile \
	--set address="4 组" --set contact_name=李四 --set contact_phone=13800000002 --set items="[{name: 面, qty: 1}]" \
	--set status=已采购 --set requested_at="2022-04-07 09:30+08:00"
expect 0 V show "$out" --json
contains '"status":"purchased"'; contains '"requested_at":"2022-04-07T01:30:00Z"'; lacks "registered"
printf 'kind: on_site\ndate: 2022-04-08\nsite: 广场\nround: 1\n' > ts.yaml
expect 0 V add test_session --file ts.yaml
t1=$out
expect 0 V show "$t1" --json
contains '"status":"planned"'
expect 1 V edit "$t1" --unset status
contains "status"; contains "required"
cat > zones.yaml <<'YAML'
records:
  - {zone_no: Z-1, designation: sealed, area: 1 组, announced_at: "2022-04-06T08:00:00Z"}
  - {zone_no: Z-2, designation: 防范区, area: 2 组, announced_at: "2022-04-06T08:00:00Z", status: lifted}
YAML
expect 0 V import zone --file zones.yaml
expect 0 V list zone --where status=active --json
contains '"zone_no":"Z-1"'; lacks '"zone_no":"Z-2"'
expect 0 V list zone --where status=lifted
contains "1 record"

# A stray branch name under scope/ (an operator's backup) is skipped when
# records are looked up (it once made the lookup free a ref twice).
vg() { git --git-dir "$w/village/repo.git" "$@"; }
vg update-ref refs/heads/scope/500243001001-bak "$(vg rev-parse refs/heads/scope/500243001001)"
expect 1 V edit 01aaaaaaaaaaaaaaaaaaaaaaaa --set name=x
contains "no record"
vg update-ref -d refs/heads/scope/500243001001-bak

# History and verification.
expect 0 V verify
contains "all good"
expect 0 C verify
C export allowed-signers --output "$w/allowed" >/dev/null
for c in $(git --git-dir "$w/village/repo.git" rev-list --all); do
	git --git-dir "$w/village/repo.git" -c gpg.ssh.allowedSignersFile="$w/allowed" verify-commit "$c" >/dev/null 2>&1 \
		&& ok || bad "git verify-commit refused $c"
done

# The golden record verifies with stock ssh-keygen (TV1 key).
g=$VL_SOURCE_DIR/tests/golden/record_supply.yaml
echo 'SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg namespaces="vledger-record" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4' > tv1.allowed
grep -v '^sig: ' "$g" > body
{ echo "-----BEGIN SSH SIGNATURE-----"; sed -n 's/^sig: "\(.*\)"$/\1/p' "$g" | base64 -d | base64 -w 70; echo "-----END SSH SIGNATURE-----"; } > body.sig
expect 0 ssh-keygen -Y verify -n vledger-record -f tv1.allowed -I "SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg" -s body.sig < body
expect 255 ssh-keygen -Y verify -n git -f tv1.allowed -I "SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg" -s body.sig < body

# An unsigned commit pushed in by stock git is caught: exit 4.
vgit() { git --git-dir "$w/village/repo.git" "$@"; }
head=$(vgit rev-parse scope/500243001001)
forged=$(echo forged | vgit commit-tree "$head^{tree}" -p "$head")
vgit update-ref refs/heads/scope/500243001001 "$forged" "$head"
expect 4 V verify
contains "signature"
vgit update-ref refs/heads/scope/500243001001 "$head" "$forged"
expect 0 V verify

# A well-formed signature that is cryptographically wrong: the village's
# own signed head with one base64 character of the Ed25519 R changed (the
# third armor line covers signature bytes from 105 on; R starts at 109).
vgit cat-file commit "$head" > head.raw
awk 'BEGIN { n = -1 }
	/^gpgsig / { n = 0; print; next }
	n >= 0 && /^ / { n++; if (n == 3) { c = substr($0, 12, 1); r = c == "A" ? "B" : "A"
		$0 = substr($0, 1, 11) r substr($0, 13) }; print; next }
	{ n = -1; print }' head.raw > forged.raw
cmp -s head.raw forged.raw && bad "the signature was not changed" || ok
forged=$(vgit hash-object -t commit -w --stdin < forged.raw)
vgit update-ref refs/heads/scope/500243001001 "$forged" "$head"
expect 4 V verify
contains "commit signature"; contains "${forged:0:12}"
git --git-dir "$w/village/repo.git" -c gpg.ssh.allowedSignersFile="$w/allowed" verify-commit "$forged" >/dev/null 2>&1 \
	&& bad "stock git accepts the altered signature" || ok
vgit update-ref refs/heads/scope/500243001001 "$head" "$forged"
# A good signature by another key than the one author and committer name,
# made with stock git and ssh-keygen.
ssh-keygen -q -t ed25519 -N '' -C other -f other.key
vfp=$(vgit cat-file commit "$head" | sed -n 's/^author .*<\(SHA256:[^>]*\)@vledger>.*/\1/p')
[ -n "$vfp" ] && ok || bad "no village fingerprint in the head's author"
forged=$(GIT_AUTHOR_NAME=v GIT_AUTHOR_EMAIL="$vfp@vledger" GIT_COMMITTER_NAME=v GIT_COMMITTER_EMAIL="$vfp@vledger" \
	vgit -c gpg.format=ssh -c user.signingKey="$w/other.key" commit-tree -S -m forged -p "$head" "$head^{tree}")
vgit update-ref refs/heads/scope/500243001001 "$forged" "$head"
expect 4 V verify
contains "but author/committer name another key"
vgit update-ref refs/heads/scope/500243001001 "$head" "$forged"
expect 0 V verify

# Schema check reports every error with file:line:column.
cat > bad-schema.yaml <<'YAML'
name: Bad-Name
version: 1
fields:
  - name: a
    type: strin
  - name: b
    type: int
    merge: union
YAML
expect 1 V schema check bad-schema.yaml
contains "bad-schema.yaml:1:"; contains "bad-schema.yaml:5:"; contains "bad-schema.yaml:8:"
expect 0 V schema check "$VL_SOURCE_DIR"/schemas/*.yaml

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
