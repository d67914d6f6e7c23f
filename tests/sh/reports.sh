#!/usr/bin/env bash
# Upward-report tracking (agent/ops/reports.h) with real nodes and real
# fetches: a township issues a report_call to all its villages; one village
# answers on time, one late (judged in China Standard Time), one not at all;
# the township and the county see reported / late / missing, contacts masked
# unless --reveal (logged, without values). all_villages_of expands from the
# division table, so a fourth village that has no node at all is listed
# missing (held:false) under its table name. Reports without the new `call`
# field still verify. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir reports
N() { local who=$1; shift; "$VLEDGER" -C "$w/$who" "$@"; }
TS=500243001000

expect 0 N county init --name 彭水县 --role county --scope 500243000000 --new-network
expect 0 N county export network --output "$w/network.yaml"
for spec in town:township:$TS:汉葭街道 v1:village:500243001001:鼓楼社区 v2:village:500243001002:新华村 v3:village:500243001003:大垭村; do
	IFS=: read -r dir role scope name <<<"$spec"
	expect 0 N "$dir" init --name "$name" --role "$role" --scope "$scope" --network "$w/network.yaml"
	expect 0 N county roster add --name "$name" --role "$role" --scope "$scope" --key "$(N "$dir" key | head -1)"
done
for dir in town v1 v2 v3; do expect 0 N "$dir" fetch "$w/county/repo.git"; done
# The division table the township and county use (<home>/divisions.csv): the
# township, its three villages with nodes, and 渔塘 (…004) that has none.
{ head -1 "$VL_DATA_DIR/divisions/pengshui_divisions.csv"
  grep -E '^500243(000000|001000|001001|001002|001003|001004),' "$VL_DATA_DIR/divisions/pengshui_divisions.csv"
} > "$w/town/divisions.csv"
cp "$w/town/divisions.csv" "$w/county/divisions.csv"
V4=500243001004

# The township calls on all its villages.
expect 0 N town add report_call --set 'title=防控<经验>&报送' --set kind=any --set deadline=2026-01-10 \
	--set all_villages_of=$TS --set contact_name=乡镇联络员 --set contact_phone=13900000009
call=$out
# Villages learn the id with the notice and answer it.
answer() { # answer VILLAGE SUBMITTED_AT STATUS PHONE
	expect 0 N "$1" add report --set title=经验材料 --set kind=typical_experience --set contact_name=联络人甲 \
		--set contact_phone="$4" --set target_level=township --set deadline=2026-01-10 --set status="$3" \
		--set submitted_at="$2" --set call="$call"
}
answer v1 2026-01-10T15:00:00Z submitted 13800000011   # 23:00 on the 10th in Beijing: on time
answer v2 2026-01-10T17:00:00Z submitted 13800000022   # 01:00 on the 11th in Beijing: late
answer v3 2026-01-09T08:00:00Z draft 13800000033       # a draft is no answer
# A report as written before calls existed: no call field; still valid.
expect 0 N v3 add report --set title=旧报送 --set kind=zero_report --set contact_name=联络人乙 \
	--set contact_phone=13800000044 --set target_level=township --set deadline=2025-12-01 --set status=submitted
# Before the township fetched from its villages it cannot tell: say so.
expect 0 N town reports --call "$call" --format json --today 2026-02-01
[ "$(jq -r '[.calls[0].units[] | "\(.state)/\(.held)"] | join(",")' <<<"$out")" = missing/false,missing/false,missing/false,missing/false ] \
	&& ok || bad "units not held are not flagged: $out"
expect 0 N town reports --call "$call" --today 2026-02-01
contains "no branch of this unit held: fetch from it"
for v in v1 v2 v3; do expect 0 N town fetch "$w/$v/repo.git"; done

expect 0 N town reports --call "$call" --format json --today 2026-02-01
js=$out
state() { jq -r --arg c "$1" '.calls[0].units[] | select(.code == $c) | .state' <<<"$js"; }
[ "$(state 500243001001)" = reported ] && ok || bad "v1 not reported: $js"
[ "$(state 500243001002)" = late ] && ok || bad "v2 not late: $js"
[ "$(state 500243001003)" = missing ] && ok || bad "v3 not missing: $js"
[ "$(state $V4)" = missing ] && ok || bad "the village without a node is not missing: $js"
[ "$(jq -r '.calls[0].units | length' <<<"$js")" = 4 ] && ok || bad "4 units expected: $js"
[ "$(jq -r '.calls[0].counts | "\(.reported) \(.late) \(.missing) \(.open)"' <<<"$js")" = "1 1 2 0" ] && ok || bad "counts: $js"
[ "$(jq -r '.calls[0].units[0].name' <<<"$js")" = 鼓楼社区 ] && ok || bad "unit name (roster's): $js"
[ "$(jq -r --arg c $V4 '.calls[0].units[] | select(.code == $c) | .name' <<<"$js")" = 渔塘社区居委会 ] && ok ||
	bad "unit name (division table's): $js"
[ "$(jq -r '[.calls[0].units[].held] | join(",")' <<<"$js")" = true,true,true,false ] && ok || bad "held: $js"
[ "$(jq -r '.calls[0].deadline' <<<"$js")" = 2026-01-10 ] && ok || bad "deadline: $js"
out=$js; contains '138****0011'; lacks 13800000011; lacks 联络人甲

# Before the deadline the silent village is open, not missing.
expect 0 N town reports --call "$call" --format json --today 2026-01-05
[ "$(jq -r '.calls[0].units[] | select(.code == "500243001003") | .state' <<<"$out")" = open ] && ok || bad "v3 not open: $out"
expect 0 N town reports --due 2025-12-31 --format json
[ "$(jq '.calls | length' <<<"$out")" = 0 ] && ok || bad "--due kept a later call: $out"
expect 0 N town reports --today 2026-02-01
contains "1 reported, 1 late, 2 missing, 0 open"; contains "missing  未报送"; lacks 13800000022
expect 1 N town reports --call 01aaaaaaaaaaaaaaaaaaaaaaaa
contains "no report call"

# Reveal: contacts in clear, logged first, the log holds ids not values.
expect 0 N town reports --call "$call" --format json --today 2026-02-01 --reveal
contains 13800000011; contains 联络人甲
log=$w/town/log/reveal.log
out=$(cat "$log"); contains '"command":"reports"'; contains '"count":2'
lacks 13800000011; lacks 13800000022; lacks 联络人甲

# HTML: one self-contained page, Chinese, escaped.
expect 0 N town reports --format html --today 2026-02-01 --output "$w/r.html"
out=$(cat "$w/r.html")
contains '<html lang="zh-CN">'; contains 未报送; contains 逾期报送; contains '防控&lt;经验&gt;&amp;报送'
lacks '<script'; lacks 'http://'; lacks 'https://'; lacks 13800000011

# The county, one fetch up, sees the same.
expect 0 N county fetch "$w/town/repo.git"
expect 0 N county reports --scope $TS --call "$call" --format json --today 2026-02-01
[ "$(jq -r '[.calls[0].units[].state] | join(",")' <<<"$out")" = reported,late,missing,missing ] && ok || bad "county view: $out"
# An explicit --divisions table without 渔塘 leaves it out; one that cannot be read is an error.
grep -v "^$V4," "$w/county/divisions.csv" > "$w/div3.csv"
expect 0 N county reports --scope $TS --call "$call" --format json --today 2026-02-01 --divisions "$w/div3.csv"
[ "$(jq -r '.calls[0].units | length' <<<"$out")" = 3 ] && ok || bad "--divisions not used: $out"
expect 1 N county reports --call "$call" --divisions "$w/none.csv"
expect 0 N county reports --format json --today 2026-02-01
[ "$(jq -r '.calls[0].id' <<<"$out")" = "$call" ] && ok || bad "county's own scope misses the call: $out"

for n in county town v1 v2 v3; do expect 0 N "$n" verify; done

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
