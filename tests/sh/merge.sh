#!/usr/bin/env bash
# Merging concurrent edits end to end against the real binary and stock git:
# a county node and two laptops of one village (same scope, both keys on the
# roster). Laptop 1 enters records, laptop 2 copies its scope branch with
# stock git, then both edit offline; each fetches the other's head (stock
# git, into refs/peers/other/...) and runs `vledger merge`. Checked: the two
# laptops write the same merge commit; every field rule (lww, union, max,
# sum, order, keyed append, manual, edit/delete); conflicts for a person
# (masked unless --reveal), resolve, duplicates and join-records; verify
# replays every merge and catches forged merge commits; fast-forward.
# Scope branches travel here by stock git, so the receiving node runs
# `vledger verify` after every transfer. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir merge

S=500243001001
BR=refs/heads/scope/$S
PEER=refs/peers/other/scope/$S
C() { "$VLEDGER" -C "$w/county" "$@"; }
L1() { "$VLEDGER" -C "$w/lap1" "$@"; }
L2() { "$VLEDGER" -C "$w/lap2" "$@"; }
g1() { git --git-dir "$w/lap1/repo.git" "$@"; }
g2() { git --git-dir "$w/lap2/repo.git" "$@"; }
# Stock-git copy of FROM's scope branch into TO's ref REF.
take_branch() { git --git-dir "$w/$1/repo.git" fetch -q "$w/$2/repo.git" "+$BR:$3" 2>&1 || bad "git fetch $2 -> $1 $3"; }
blob_of() { "$VLEDGER" -C "$w/$1" show "$2" | sed -n 's/^  blob *//p'; }
# Candidate N (value) of a conflict on ID FIELD, from `conflicts --reveal` of NODE.
cand() {
	"$VLEDGER" -C "$w/$1" conflicts --reveal | awk -v id="$2" -v f="$3" -v n="[$4]" '
		$2 == id && $4 == f { on = 1; next }
		on && $1 ~ /^\[/ { if ($1 == n) { print $2; exit } next }
		{ on = 0 }'
}
# Number of the candidate on ID FIELD whose author is NAME.
cand_by() {
	"$VLEDGER" -C "$w/$1" conflicts --reveal | awk -v id="$2" -v f="$3" -v who="$4" '
		$2 == id && $4 == f { on = 1; next }
		on && $1 ~ /^\[/ { if (index($0, who)) { gsub(/[][]/, "", $1); print $1; exit } next }
		{ on = 0 }'
}
# Synthetic resident IDs (cn_id): region 500243, birth date, sequence.
ID_A0=$(cn_id 50024319430215002) ID_A1=$(cn_id 50024319430215012) ID_A2=$(cn_id 50024319430215022)
ID_B0=$(cn_id 50024319700911003) ID_B1=$(cn_id 50024319700911013) ID_B2=$(cn_id 50024319700911023)
ID_B3=$(cn_id 50024319700911033) ID_DUP=$(cn_id 50024319520301004)
ID_BAD=${ID_B3:0:17}$([ "${ID_B3:17:1}" = 0 ] && echo 1 || echo 0)   # wrong check digit
N1=鼓楼社区笔记本1 N2=鼓楼社区笔记本2

# --- The network: a county, two laptops of one village, plain keys. ---
vl_network 彭水县民政局 $S lap1 $N1 lap2 $N2
vl_enrol lap1 $N1 $S
vl_enrol lap2 $N2 $S
expect 0 L1 fetch "$w/county/repo.git"
expect 0 L2 fetch "$w/county/repo.git"
fp1=$(L1 key | sed -n 2p) fp2=$(L2 key | sed -n 2p)

# --- Laptop 1 enters the records both laptops start from. ---
expect 0 L1 add resident --set name=王秀英 --set id_number=$ID_A0 --set gender=女 --set residence_kind=户籍人口 \
	--set address="2 组 8 号" --set phone=13800000001 --set tags=独居老人 --set source=主动摸排 --set surveyed_on=2022-04-01
rA=$out
expect 0 L1 add resident --set name=赵建国 --set id_number=$ID_B0 --set residence_kind=migrant \
	--set address="1 组 3 号" --set source=worker_survey
rB=$out
expect 0 L1 add resident --set name=李小明 --set residence_kind=registered --set address="5 组 21 号" --set source=self_report
rD=$out
expect 0 L1 add resident --set name=刘敏 --set residence_kind=registered --set address="3 组 2 号" \
	--set phone=13900000001 --set source=self_report
rL=$out
expect 0 L1 add resident --set name=吴刚 --set residence_kind=registered --set address="6 组 1 号" --set source=self_report
rK=$out
expect 0 L1 add supply_request --set request_no=$S-20220407-003 --set reason=elderly_alone --set resident=$rA \
	--set address="2 组 8 号" --set contact_name=王秀英 --set contact_phone=13800000001 \
	--set items="[{name: 大米, qty: 2, unit: 袋}]"
sup=$out
expect 0 L1 add worker_care --set worker_name=周丽 --set post=网格员 --set duty_status=on_duty \
	--set subsidy_days=10 --set daily_rate=100.00 --set subsidy_amount=1000.00 --set subsidy_paid=500.00
wc=$out

# Laptop 2 takes laptop 1's branch with stock git, then verifies it.
take_branch lap2 lap1 $BR
expect 0 L2 verify
contains "all good"
same "laptop 2 has laptop 1's head" "$(g2 rev-parse $BR)" "$(g1 rev-parse $BR)"
base=$(g1 rev-parse $BR)

# --- Both laptops edit offline. Laptop 1 first... ---
expect 0 L1 edit $rA --set phone=13800000011 --set tags=独居老人,残疾人 --set id_number=$ID_A1 \
	--set surveyed_on=2022-04-10 --set grid=第3网格
expect 0 L1 edit $rB --set id_number=$ID_B1
expect 0 L1 edit $sup --set status=已采购 \
	--set items="[{name: 大米, qty: 2, unit: 袋}, {name: 鸡蛋, qty: 1, unit: 盒}, {name: 食用油, qty: 1}]"
expect 0 L1 rm $rD --reason 迁出本社区
expect 0 L1 edit $wc --set subsidy_days=12 --set subsidy_amount=1200.00 --set subsidy_paid=600.00
expect 0 L1 add resident --set name=孙桂兰 --set id_number=$ID_DUP --set residence_kind=registered \
	--set address="4 组 1 号" --set tags=残疾人 --set source=worker_survey
dup1=$out
# ...then laptop 2 (later clocks)...
expect 0 L2 edit $rA --set phone=13800000022 --set tags=独居老人,特殊疾病患者 --set id_number=$ID_A2 \
	--set surveyed_on=2022-04-08 --set grid=第3网格
expect 0 L2 edit $rB --set id_number=$ID_B2
expect 0 L2 edit $sup --set status=已采购
expect 0 L2 edit $sup --set status=配送中 \
	--set items="[{name: 大米, qty: 2, unit: 袋}, {name: 鸡蛋, qty: 1, unit: 盒}, {name: 口罩, qty: 10, unit: 个}]"
expect 0 L2 edit $rD --set phone=13800000033 --set grid=第5网格
expect 0 L2 edit $wc --set subsidy_days=13 --set subsidy_amount=1300.00 --set subsidy_paid=600.00
expect 0 L2 edit $rK --set household_no=H-0007
expect 0 L2 edit $rL --set phone=13900000002
expect 0 L2 add resident --set name=孙桂兰 --set id_number=$ID_DUP --set residence_kind=registered \
	--set address="4 组 1 号" --set phone=13800000055 --set tags=特殊疾病患者 --set source=self_report
dup2=$out
# ...and laptop 1 once more, after laptop 2: its phone of rL is the later one.
expect 0 L1 edit $rL --set phone=13900000003
rD_edit_blob=$(blob_of lap2 $rD)
rD_tomb_blob=$(blob_of lap1 $rD)
rA_b1=$(blob_of lap1 $rA) rA_b2=$(blob_of lap2 $rA)
head1=$(g1 rev-parse $BR) head2=$(g2 rev-parse $BR)

# Hook: only when the shipped worker_care schema pins subsidy_recompute.
hook_pinned=0
if grep -q 'hook:subsidy_recompute' "$VL_SOURCE_DIR/schemas/worker_care.yaml"; then
	hook_pinned=1
	for n in lap1 lap2; do
		mkdir -p "$w/$n/hooks"
		install -m 755 "$VL_SOURCE_DIR/hooks/subsidy_recompute" "$w/$n/hooks/subsidy_recompute"
	done
else
	echo "note: schemas/worker_care.yaml pins no merge hook; hook fields are covered by tests/test_merge.c"
fi

# --- Exchange heads with stock git; each merges the other's. ---
take_branch lap1 lap2 $PEER
take_branch lap2 lap1 $PEER
expect 3 L1 merge $PEER
contains "merged"; contains "3 fields left for a person"; contains "vledger conflicts"
expect 3 L2 merge $PEER
contains "3 fields left for a person"
m=$(g1 rev-parse $BR)
same "both laptops write the same merge commit" "$m" "$(g2 rev-parse $BR)"
[ "$m" != "$head1" ] && [ "$m" != "$head2" ] && ok || bad "merge did not write a new commit"
same "merge parents (sorted by id)" "$(g1 rev-list --parents -n1 $m | cut -d' ' -f2-)" \
	"$(printf '%s\n' "$head1" "$head2" | sort | tr '\n' ' ' | sed 's/ $//')"
same "merge author" "$(g1 log -1 --format='%an <%ae>|%cn <%ce>' $m)" "vledger merge <merge@vledger>|vledger merge <merge@vledger>"
same "merge time = the later parent's" "$(g1 log -1 --format=%ct $m)" \
	"$(g1 log --no-walk --format=%ct $head1 $head2 | sort -n | tail -1)"
same "merge base" "$(g1 merge-base $head1 $head2)" "$base"
expect 0 L1 merge $PEER
contains "up to date"
same "a second merge changes nothing" "$(g1 rev-parse $BR)" "$m"

# Merge replay in verify, on both; stock git checks every signed commit.
expect 0 L1 verify
contains "1 merges replayed"; contains "all good"
expect 0 L2 verify
contains "1 merges replayed"
L1 export allowed-signers --output "$w/allowed" >/dev/null
verify_commits() {
	local node=$1 c n=0
	for c in $(git --git-dir "$w/$node/repo.git" rev-list --no-merges --all); do
		git --git-dir "$w/$node/repo.git" -c gpg.ssh.allowedSignersFile="$w/allowed" verify-commit "$c" >/dev/null 2>&1 \
			&& ok || bad "git verify-commit refused $c on $node"
		n=$((n + 1))
	done
	[ "$n" -gt 10 ] && ok || bad "only $n commits checked on $node"
}
verify_commits lap1
verify_commits lap2

# --- Merged values, as the rules say (identical on both laptops). ---
for id in $rA $rB $rD $rL $rK $sup $wc $dup1 $dup2; do
	same "record $id on both laptops" "$(L1 show $id --reveal --json)" "$(L2 show $id --reveal --json)"
done
expect 0 L1 show $rA --reveal --json
contains '"author":"merge"'
contains '"phone":"13800000022"'                       # lww: laptop 2's later clock
same "tags: union keeps both additions" "$(json_list tags "$out")" '"disabled" "elderly_alone" "special_disease" '
contains '"surveyed_on":"2022-04-10"'                  # max, though laptop 1's clock is earlier
contains '"grid":"第3网格"'                             # the same change on both sides
contains "\"id_number\":\"$ID_A2\""                    # manual: lww value meanwhile...
contains '"conflicts":{"id_number":['                   # ...and a conflict for a person
contains "$ID_A1"
same "merged record: prev = both sides' blobs" "$(json_list prev "$out")" \
	"$(printf '"%s"\n' "$rA_b1" "$rA_b2" | sort | tr '\n' ' ')"
expect 0 L1 show $rL --reveal --json
contains '"phone":"13900000003"'                       # lww: laptop 1's edit is the later one here
expect 0 L1 show $rK --reveal --json
contains '"household_no":"H-0007"'                     # changed on one side: taken
lacks '"author":"merge"'
expect 0 L1 show $sup --reveal --json
contains '"status":"delivering"'                       # order: purchased vs delivering
same "items: keyed append keeps both sides' items, the shared one once" \
	"$(grep -o '"name":"[^"]*"' <<<"$out" | sort | tr '\n' ' ')" \
	'"name":"口罩" "name":"大米" "name":"食用油" "name":"鸡蛋" '
lacks '"conflicts"'
expect 0 L1 show $wc --reveal --json
contains '"subsidy_days":15'                           # sum: 10 + 2 + 3
contains '"subsidy_paid":700.00'                     # sum: two equal deltas are two deltas
if [ $hook_pinned = 1 ]; then
	contains '"subsidy_amount":1500.00'              # hook: 15 days x 100.00
else
	contains '"subsidy_amount":1300.00'              # lww (no hook pinned): laptop 2's later edit
fi
expect 0 L1 show $rD --reveal --json
contains '"deleted":true'                              # edit vs delete: tombstone wins
contains '"conflicts":{"_deleted":['
contains "\"from\":\"$rD_edit_blob\""                  # the edit is kept, by its blob
contains "\"from\":\"$rD_tomb_blob\""
contains '"grid":"第5网格"'                             # the edit's non-personal data in the candidate
lacks "13800000033"; lacks "李小明"                      # a tombstone carries no personal data
expect 0 L1 list resident --deleted
contains "$rD"

# --- Conflicts for a person: masked unless --reveal. ---
expect 3 L1 conflicts
contains "3 fields left for a person"
contains "$rA"; contains "$rB"; contains "$rD"; contains "id_number"; contains "_deleted"
contains "$N1"; contains "$N2"; contains "[1]"; contains "[2]"
for v in $ID_A1 $ID_A2 $ID_B1 $ID_B2 13800000033; do lacks "$v"; done
contains "${ID_A1:0:3}***********${ID_A1:14:4}"
c1=$out
expect 3 L2 conflicts
same "conflicts listed alike on both laptops" "$out" "$c1"
expect 3 L1 conflicts --reveal
for v in $ID_A1 $ID_A2 $ID_B1 $ID_B2; do contains "$v"; done
expect 3 L1 conflicts --json
contains "{\"ledger\":\"resident\",\"id\":\"$rA\",\"scope\":\"$S\",\"field\":\"id_number\",\"candidates\":[{\"n\":1,"
contains '"n":2'; contains "\"author\":\"$fp1\""; contains "\"author\":\"$fp2\""; contains "\"name\":\"$N2\""
for v in $ID_A1 $ID_A2 $ID_B1 $ID_B2; do lacks "$v"; done
expect 3 L1 conflicts --json --reveal
contains "$ID_A1"; contains "$ID_A2"
# show and list mask personal data, conflict candidates included.
masked() { # masked WHAT: $out shows none of the conflicting ID numbers
	local v
	for v in $ID_A1 $ID_A2 $ID_B1 $ID_B2; do
		case $out in *"$v"*) bad "$1 without --reveal prints a conflict candidate's ID number in clear"; return ;; esac
	done
	ok
}
expect 0 L1 show $rA
masked "show"
expect 0 L1 show $rA --json
masked "show --json"
expect 0 L1 list resident --json
masked "list --json"
expect 0 L1 list resident
masked "list"

# --- Forged merge commits: verify replays and refuses them (exit 4). ---
p1=$(g1 rev-parse $m^1) p2=$(g1 rev-parse $m^2) t=$(g1 log -1 --format=%ct $m)
forge() { # forge TREE TIME MESSAGE PARENT PARENT
	printf '%s\n' "$3" | GIT_AUTHOR_NAME="vledger merge" GIT_AUTHOR_EMAIL=merge@vledger GIT_AUTHOR_DATE="@$2 +0000" \
		GIT_COMMITTER_NAME="vledger merge" GIT_COMMITTER_EMAIL=merge@vledger GIT_COMMITTER_DATE="@$2 +0000" \
		g1 -c commit.gpgsign=false commit-tree "$1" -p "$4" -p "$5"
}
msg="merge scope/$S"
same "stock git rebuilds the merge commit byte for byte" "$(forge "$m^{tree}" $t "$msg" $p1 $p2)" "$m"
try_forged() { # try_forged WHAT WORD COMMIT
	g1 update-ref $BR "$3" "$m" || bad "update-ref"
	expect 4 L1 verify
	contains "differs from its replay"; contains "$2"
	g1 update-ref $BR "$m" "$3"
	expect 0 L1 verify
}
try_forged "one parent's tree" tree "$(forge "$p1^{tree}" $t "$msg" $p1 $p2)"
try_forged "the other parent's tree" tree "$(forge "$p2^{tree}" $t "$msg" $p1 $p2)"
try_forged "another message" metadata "$(forge "$m^{tree}" $t "merge scope/$S (checked)" $p1 $p2)"
try_forged "another time" metadata "$(forge "$m^{tree}" $((t + 1)) "$msg" $p1 $p2)"
try_forged "parents swapped" metadata "$(forge "$m^{tree}" $t "$msg" $p2 $p1)"
# A merge of a head with its own ancestor: vledger fast-forwards there.
f=$(forge "$head1^{tree}" "$(g1 log -1 --format=%ct $head1)" "$msg" $base $head1)
g1 update-ref $BR "$f" "$m"
expect 4 L1 verify
contains "never writes such a merge"
g1 update-ref $BR "$m" "$f"
expect 0 L1 verify
same "branch restored" "$(g1 rev-parse $BR)" "$m"

# --- Resolve: refused input first, nothing written. ---
before=$(refs lap1)
expect 1 L1 resolve $rA id_number --take 3
contains "1 to 2"
expect 1 L1 resolve $rA id_number --take 0
expect 1 L1 resolve $rA id_number --take two
expect 2 L1 resolve $rA id_number
expect 2 L1 resolve $rA id_number --take 1 --value $ID_A0
expect 1 L1 resolve $rA phone --take 1
contains "no conflict"
expect 1 L1 resolve $rB id_number --value $ID_BAD
contains "id_number"; lacks "$ID_BAD"
expect 1 L1 resolve 01aaaaaaaaaaaaaaaaaaaaaaaa id_number --take 1
same "refused resolves write nothing" "$(refs lap1)" "$before"

# --take 2: a signed edit by laptop 1 with candidate 2's value.
want=$(cand lap1 $rA id_number 2)
case $want in "$ID_A1"|"$ID_A2") ok ;; *) bad "candidate 2 of $rA is '$want'" ;; esac
merged_blob=$(blob_of lap1 $rA)
expect 0 L1 resolve $rA id_number --take 2
contains "resolved"
expect 0 L1 show $rA --reveal --json
contains "\"id_number\":\"$want\""; contains "\"author\":\"$fp1\""; contains "\"prev\":[\"$merged_blob\"]"
lacks '"conflicts"'; contains '"phone":"13800000022"'
same "resolve is one signed commit on the merge" "$(g1 rev-parse $BR^)" "$m"
expect 3 L1 conflicts
contains "2 fields left for a person"; lacks "$rA"
# An edit of another field keeps the open conflict (it used to drop it).
expect 0 L1 edit $rB --set notes=复核中
expect 0 L1 show $rB --json
contains '"conflicts":{"id_number":['; lacks "$ID_B1"
# --value: a number neither side had.
expect 0 L1 resolve $rB id_number --value $ID_B3
expect 0 L1 show $rB --reveal --json
contains "\"id_number\":\"$ID_B3\""; lacks '"conflicts"'
# Edit against delete: take laptop 2's edit back from its blob.
k=$(cand_by lap1 $rD _deleted $N2)
case $k in 1|2) ok ;; *) bad "no candidate of $N2 on $rD _deleted: '$k'" ;; esac
expect 0 L1 resolve $rD _deleted --take "$k"
expect 0 L1 show $rD --reveal --json
contains '"deleted":false'; contains '"phone":"13800000033"'; contains '"grid":"第5网格"'; contains '"name":"李小明"'
lacks '"conflicts"'
expect 0 L1 conflicts
contains "0 fields left for a person"
expect 0 L1 conflicts --json
same "conflicts --json when none" "$out" "[]"
expect 0 L1 verify
contains "all good"

# --- Duplicates: one person entered on both laptops under two ids. ---
expect 3 L1 conflicts --duplicates
contains "$dup1"; contains "$dup2"; contains "1 group of duplicates"; contains "join-records"
lacks "$ID_DUP"; lacks "$rA"
expect 3 L1 conflicts --duplicates --json
contains '"ledger":"resident","ids":['; contains "\"$dup1\""; contains "\"$dup2\""; lacks "$ID_DUP"
b1=$(blob_of lap1 $dup1) b2=$(blob_of lap1 $dup2)
expect 2 L1 join-records $dup1 $dup1
expect 1 L1 join-records $dup1 $rD-x
before=$(refs lap1)
expect 0 L1 join-records $dup1 $dup2
contains "joined"
expect 0 L1 show $dup1 --reveal --json
contains "$b1"; contains "$b2"
same "KEEP has both prevs" "$(json_list prev "$out")" "$(printf '"%s"\n' "$b1" "$b2" | sort | tr '\n' ' ')"
same "joined tags (union)" "$(json_list tags "$out")" '"disabled" "special_disease" '
contains "\"id_number\":\"$ID_DUP\""; contains '"phone":"13800000055"'; contains '"deleted":false'
contains "\"author\":\"$fp1\""
expect 0 L1 show $dup2 --reveal --json
contains '"deleted":true'; contains "\"prev\":[\"$b2\"]"; lacks "孙桂兰"
expect 0 L1 conflicts --duplicates
contains "0 groups of duplicates"
expect 0 L1 conflicts
expect 1 L1 join-records $dup1 $dup2
contains "live"
g1 log -1 --format=%B $BR | grep -q "^Vledger-Join: $dup1 $dup2$" && ok || bad "no Vledger-Join trailer"
expect 0 L1 verify
contains "all good"

# --- Fast-forward: laptop 2 has not edited since the merge. ---
take_branch lap2 lap1 $PEER
expect 0 L2 merge $PEER
contains "fast-forwarded"; lacks "merged"
same "laptop 2 fast-forwards to laptop 1's head" "$(g2 rev-parse $BR)" "$(g1 rev-parse $BR)"
same "no merge commit on top" "$(g2 rev-list --parents -n1 $BR | wc -w)" 2
same "one merge in the history" "$(g2 rev-list --merges $BR | tr '\n' ' ')" "$m "
expect 0 L2 verify
contains "1 merges replayed"; contains "all good"
expect 0 L2 conflicts
expect 0 L2 conflicts --duplicates
for id in $rA $rB $rD $dup1 $dup2; do
	same "record $id after fast-forward" "$(L2 show $id --reveal --json)" "$(L1 show $id --reveal --json)"
done
verify_commits lap1
verify_commits lap2

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
