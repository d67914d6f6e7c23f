#!/usr/bin/env bash
# Published aggregates end to end: a township publishes its figures as a
# signed aggregate_report (no personal data, small counts suppressed by rule
# lt3_v1, the heads it read cited), stock git and `vledger verify` accept it,
# anyone holding the cited heads recomputes it (--check: match; a forged
# report: mismatch, exit 4), and the county sums the published reports of
# the level below (--from-published) without reading a record.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir aggregate_publish
C() { "$VLEDGER" -C "$w/c" "$@"; }
T() { "$VLEDGER" -C "$w/t" "$@"; }
T1=500243001000; V1=500243001001; V2=500243001002

expect 0 C init --name 县 --role county --scope 500243000000 --new-network
expect 0 C export network --output "$w/net.yaml"
expect 0 T init --name 汉葭街道 --role township --scope $T1 --network "$w/net.yaml"
expect 0 C roster add --name 汉葭街道 --role township --scope $T1 --key "$(T key | head -1)"
for i in 1 2 3; do
	expect 0 C add resident --scope $V1 --set name=独居甲$i --set residence_kind=registered --set address=一组 \
		--set source=worker_survey --set tags=elderly_alone
done
expect 0 C add resident --scope $V1 --set name=残疾乙 --set residence_kind=registered --set address=二组 \
	--set source=worker_survey --set tags=disabled
expect 0 C add resident --scope $V2 --set name=流动丙 --set residence_kind=migrant --set address=三组 --set source=self_report
expect 0 C add resident --scope $V2 --set name=流动丁 --set residence_kind=migrant --set address=三组 --set source=self_report
expect 0 C add supply_request --scope $V1 --set request_no=500243001001-20220407-001 --set reason=elderly_alone \
	--set address=一组 --set contact_name=独居甲1 --set contact_phone=13800138000 --set "items=[{name: 大米, qty: 1, unit: 袋}]" \
	--set amount=35.50
expect 0 T fetch "$w/c/repo.git"

# ---- publish ----
id=$(T aggregate --publish 2>/dev/null)
[[ "$id" =~ ^[0-9a-hjkmnp-tv-z]{26}$ ]] && ok || bad "publish printed no record id: $out"
path=$(git --git-dir "$w/t/repo.git" ls-tree -r --name-only refs/heads/scope/$T1 | grep "^aggregate_report/.*/$id.yaml$")
[ -n "$path" ] && ok || bad "the report is not on the township's branch"
blob=$(git --git-dir "$w/t/repo.git" show "refs/heads/scope/$T1:$path")
out=$blob
# No personal data: none of the names, addresses or the phone.
lacks 独居甲; lacks 残疾乙; lacks 流动丙; lacks 一组; lacks 13800138000
# Exact figures above 2, suppressed ones at 1-2, a sum over 1 request hidden.
contains 'resident.residents=6'; contains 'resident.elderly_alone=3'
contains 'resident.migrants=<3'; contains 'resident.disabled=<3'
contains 'supply_request.requests=<3'; contains 'supply_request.amount=hidden'
contains 'resident.pregnant=0'
lacks "35.5"
# The heads it read, cited as they were.
contains "$V1 $(git --git-dir "$w/t/repo.git" rev-parse refs/heads/scope/$V1)"
contains "$V2 $(git --git-dir "$w/t/repo.git" rev-parse refs/heads/scope/$V2)"
contains "rule: lt3_v1"
expect 0 T verify
# A signed record: stock ssh-keygen verifies it with the roster's key.
printf '%s' "$blob" | sed '/^sig: /,$d' > "$w/signed"
printf '%s' "$blob" | sed -n 's/^sig: "\(.*\)"$/\1/p' | base64 -d > "$w/sig.bin"
{ echo "-----BEGIN SSH SIGNATURE-----"; base64 -w 70 < "$w/sig.bin"; echo "-----END SSH SIGNATURE-----"; } > "$w/sig"
echo "township $(T key | head -1)" > "$w/allowed"
expect 0 ssh-keygen -Y verify -f "$w/allowed" -I township -n vledger-record -s "$w/sig" < "$w/signed"

# ---- check: recompute from the cited heads ----
# More records after publishing do not change what the cited heads say.
expect 0 C add resident --scope $V1 --set name=后来 --set residence_kind=migrant --set address=四组 --set source=self_report
expect 0 T fetch "$w/c/repo.git"
expect 0 T aggregate --check "$id"
contains "match: all"
# The county holds the same heads: it recomputes too.
expect 0 C fetch "$w/t/repo.git"
expect 0 C aggregate --check "$id"
contains "match: all"
# A forged report (signed, but its figures are not what the heads say): mismatch, exit 4.
heads=$(T show "$id" --json | jq -c '.data.heads')
figs=$(T show "$id" --json | jq -c '.data.figures' | sed 's/resident.residents=6/resident.residents=9/')
expect 0 T add aggregate_report --set unit=$T1 --set computed_at=2022-04-07T00:00:00Z --set rule=lt3_v1 \
	--set "heads=$heads" --set "figures=$figs" --set never_synced=0 --set stale=0
forged=$(printf '%s\n' "$out" | tail -1)
expect 4 T aggregate --check "$forged"
contains "MISMATCH"; contains "resident.residents: published 9, recomputed 6"
# A report citing a commit this node lacks cannot be checked: an error, not a match.
badheads=$(printf '%s' "$heads" | sed -E "s/$V1 [0-9a-f]{40}/$V1 0123456789012345678901234567890123456789/")
expect 0 T add aggregate_report --set unit=$T1 --set computed_at=2022-04-07T00:00:00Z --set rule=lt3_v1 \
	--set "heads=$badheads" --set "figures=$figs" --set never_synced=0 --set stale=0
expect 1 T aggregate --check "$(printf '%s\n' "$out" | tail -1)"
contains "lacks commit"
# Not a report.
rid=$(C list resident --scope $V1 --json | jq -r '.[0].id')
expect 1 C aggregate --check "$rid"
contains "not an aggregate_report"
# Publishing is for the node's own unit only.
expect 1 C aggregate --publish --scope $T1
contains "node's own unit"

# ---- the county publishes exactly; sums the published reports below ----
cid=$(C aggregate --publish 2>/dev/null)
out=$(git --git-dir "$w/c/repo.git" show "refs/heads/scope/500243000000:$(git --git-dir "$w/c/repo.git" ls-tree -r --name-only refs/heads/scope/500243000000 | grep "$cid")")
contains 'resident.migrants=3'; contains 'supply_request.amount=35.5'
# from-published takes each unit's newest report by computed_at: the real one
# (the forged ones say 2022).
expect 0 C aggregate --from-published --format json
J=$out
f() { printf '%s' "$J" | jq -c --arg c "$1" --arg k "$2" '.units[] | select(.code == $c) | .figures[$k]'; }
[ "$(f $T1 resident.residents)" = 6 ] && ok || bad "township figure from its report: $(f $T1 resident.residents)"
[ "$(f $T1 resident.migrants)" = '"<3"' ] && ok || bad "suppressed figure kept as published: $(f $T1 resident.migrants)"
[ "$(f 500243000000 resident.residents)" = 6 ] && ok || bad "county = sum of published reports"
[ "$(printf '%s' "$J" | jq -c '.units[] | select(.code == "500243000000") | .lower_bounds | index("resident.migrants") != null')" = true ] &&
	ok || bad "a total over suppressed parts is not marked a lower bound"
[ "$(printf '%s' "$J" | jq -r '.units[] | select(.code == "500243002000") | .never_synced')" = true ] && ok ||
	bad "a township with no report is not flagged"
[ "$(printf '%s' "$J" | jq -r '.run.records_read')" = 0 ] && ok || bad "from-published read records"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
