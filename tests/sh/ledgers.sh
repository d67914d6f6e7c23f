#!/usr/bin/env bash
# The ledgers issue 12 completes, end to end against the real binary and
# stock git: worker_care v3 (protective equipment, mental-health support,
# workload reduction, staff sent down, training), care_tally (the infection
# figure counted upward with no name), the prevention network (unit leaders,
# villagers' representatives, the public-health committee and its
# sub-committees), report v3 (work dynamics, the contact's unit, review before
# submission), test_attendance (who was notified and who tested), zone v3
# (the households covered) and appeal (residents' appeals and their
# handling). Two laptops of one village add, edit offline and merge each
# other's heads: every new field merges by its rule, the same merge commit on
# both; order rules refuse silent backward moves; verify replays the merge;
# the county aggregates the infection figure without a name and exports the
# audit. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir ledgers
S=500243001001
BR=refs/heads/scope/$S
PEER=refs/peers/other/scope/$S
C() { "$VLEDGER" -C "$w/county" "$@"; }
L1() { "$VLEDGER" -C "$w/lap1" "$@"; }
L2() { "$VLEDGER" -C "$w/lap2" "$@"; }
g1() { git --git-dir "$w/lap1/repo.git" "$@"; }
take_branch() { git --git-dir "$w/$1/repo.git" fetch -q "$w/$2/repo.git" "+$BR:$3" 2>&1 || bad "git fetch $2 -> $1 $3"; }

vl_network 彭水县民政局 $S lap1 鼓楼社区笔记本1 lap2 鼓楼社区笔记本2
vl_enrol lap1 鼓楼社区笔记本1 $S
vl_enrol lap2 鼓楼社区笔记本2 $S
expect 0 L1 fetch "$w/county/repo.git"
expect 0 L2 fetch "$w/county/repo.git"
for n in lap1 lap2; do
	mkdir -p "$w/$n/hooks" && install -m 755 "$VL_SOURCE_DIR/hooks/subsidy_recompute" "$w/$n/hooks/subsidy_recompute"
done

# --- Laptop 1 enters one record of each; both laptops start from them. ---
expect 0 L1 add resident --set name=王秀英 --set residence_kind=户籍人口 --set address="2 组 8 号" \
	--set household_no=0012 --set source=主动摸排
res=$out
expect 0 L1 add test_session --set kind=on_site --set site=鼓楼社区广场 --set date=2022-04-08 --set round=3
ses=$out
expect 0 L1 add test_attendance --set session=$ses --set resident=$res --set channel=入户通知 --set slot=08:00-09:00
att=$out
expect 0 L1 add committee --set name=鼓楼社区公共卫生委员会 --set kind=公共卫生委员会 --set duties=疫情防控
com=$out
expect 0 L1 add committee --set name=环境卫生组 --set kind=sub_committee --set parent=$com --set duties=environment
sub=$out
expect 0 L1 add network_role --set role=单元长 --set person_name=吴刚 --set phone=13600000004 --set area="2栋1单元"
unit=$out
expect 0 L1 add network_role --set role=委员会委员 --set person_name=刘敏 --set phone=13600000005 --set area=全社区 \
	--set committee=$com
mem=$out
expect 0 L1 add network_role --set role=村民代表 --set person_name=赵建国 --set phone=13600000006 --set area="2 组"
expect 0 L1 add worker_care --set worker_name=周丽 --set post=社区干部 --set duty_status=on_duty --set worker_kind=下沉干部 \
	--set home_unit=彭水县民政局 --set sent_down_from=2022-04-01 --set infection_status=infected \
	--set 'ppe_issued=[{date: 2022-04-02, item: n95_mask, qty: 10}]' --set workload_measures=精简填表报数
wc=$out
expect 0 L1 add care_tally --set date=2022-04-08 --set infected_new=1 --set ppe_items=40
tal=$out
expect 0 L1 add zone --set zone_no=GL-2022-01 --set designation=封控区 --set area="2 组" \
	--set announced_at="2022-04-07 09:00+08:00" --set covered_households=0012
zon=$out
expect 0 L1 add report --set title=鼓楼社区防控动态 --set kind=防控工作动态 --set contact_name=张敏 \
	--set contact_phone=13800000001 --set contact_unit=鼓楼社区居委会 --set target_level=乡镇 --set deadline=2022-04-09
rep=$out
expect 0 L1 show $rep --json
contains '"kind":"work_dynamics"'; contains '"status":"draft"'; contains '"contact_unit":"鼓楼社区居委会"'
expect 0 L1 add appeal --set appeal_no=500243001001-20220408-001 --set resident=$res --set kind=就医需求 \
	--set urgency=紧急 --set summary=需要透析 --set contact_phone=13800000009 --set channel=热线电话
app=$out
expect 0 L1 show $app --json
contains '"status":"received"'; contains '"received_at":"20'
# refs are checked: a session that does not exist is refused
expect 1 L1 add test_attendance --set session=$res --set resident=$res
# list columns of the new ledgers
expect 0 L1 list appeal
contains "500243001001-20220408-001"; contains "已受理"; lacks "需要透析"
expect 0 L1 list care_tally
contains "2022-04-08"

# --- Laptop 2 starts from laptop 1's branch. ---
take_branch lap2 lap1 $PEER
expect 0 L2 merge $PEER
same "laptop 2 holds laptop 1's head" "$(git --git-dir "$w/lap2/repo.git" rev-parse $BR)" "$(g1 rev-parse $BR)"

# --- Offline edits on both laptops, the same fields differently. ---
expect 0 L1 edit $tal --set infected_new=3 --set counselling=2           # +2 infections
expect 0 L2 edit $tal --set infected_new=2 --set trainings=1             # +1 infection
expect 0 L1 edit $wc --add 'ppe_issued={date: 2022-04-08, item: protective_suit, qty: 2}' --add workload_measures=轮班轮休
expect 0 L2 edit $wc --add 'trainings={date: 2022-04-08, kind: drill, topic: 转运演练}' --add workload_measures=减少重复检查 \
	--add 'mental_health={date: 2022-04-08, kind: counselling}'
expect 0 L1 edit $att --set status=tested --set tested_at="2022-04-08 08:20+08:00"
expect 0 L2 edit $att --set status=away
expect 0 L1 edit $app --set status=已转办 --set handler_unit=县医院 --set handler=钱医生
expect 0 L2 edit $app --set status=已办结 --set result=已安排透析 --set 'follow_ups=[{date: 2022-04-09, note: 已回访}]'
expect 0 L1 edit $zon --add covered_households=0034
expect 0 L2 edit $zon --add covered_households=0056
expect 0 L1 edit $rep --set status=已审核 --set reviewed_by=李审核
expect 0 L2 edit $rep --set status=已报送 --set submitted_at="2022-04-08 18:00+08:00"
expect 0 L1 edit $com --add duties=健康教育
expect 0 L2 edit $com --add duties=心理健康
expect 0 L2 edit $mem --set committee=$sub

# --- Each merges the other's head: one merge commit, by the rules. ---
take_branch lap1 lap2 $PEER
take_branch lap2 lap1 $PEER
expect 0 L1 merge $PEER
contains "merged"
expect 0 L2 merge $PEER
same "both laptops write the same merge commit" "$(g1 rev-parse $BR)" "$(git --git-dir "$w/lap2/repo.git" rev-parse $BR)"
for id in $tal $wc $att $app $zon $rep $com $mem; do
	same "record $id on both laptops" "$(L1 show $id --reveal --json)" "$(L2 show $id --reveal --json)"
done
expect 0 L1 show $tal --json
contains '"infected_new":4'                          # sum: 1 + 2 + 1
contains '"counselling":2'; contains '"trainings":1'   # one side each
expect 0 L1 show $wc --reveal --json
same "workload measures: union" "$(json_list workload_measures "$out")" '"fewer_forms" "fewer_inspections" "shift_rotation" '
contains '{"date":"2022-04-02","item":"n95_mask","qty":10}'          # append keeps the base item...
contains '{"date":"2022-04-08","item":"protective_suit","qty":2}'    # ...and laptop 1's
contains '"trainings":[{"date":"2022-04-08","kind":"drill","topic":"转运演练"}]'
contains '"mental_health":[{"date":"2022-04-08","kind":"counselling"}]'
expect 0 L1 show $att --json
contains '"status":"tested"'                         # order: tested beats away
contains '"tested_at":"2022-04-08T00:20:00Z"'
expect 0 L1 show $app --reveal --json
contains '"status":"resolved"'                       # order: resolved beats assigned
contains '"handler_unit":"县医院"'; contains '"result":"已安排透析"'; contains '"follow_ups":[{"date":"2022-04-09"'
expect 0 L1 show $zon --reveal --json
same "households covered: union" "$(json_list covered_households "$out")" '"0012" "0034" "0056" '
expect 0 L1 show $rep --reveal --json
contains '"status":"submitted"'                      # order: submitted beats reviewed
contains '"reviewed_by":"李审核"'
expect 0 L1 show $com --json
same "committee duties: union" "$(json_list duties "$out")" '"epidemic_prevention" "health_education" "mental_health" '
expect 0 L1 show $mem --json
contains "\"committee\":\"$sub\""

# Personal fields stay masked unless --reveal.
expect 0 L1 show $app
lacks "已安排透析"; lacks "需要透析"
expect 0 L1 show $zon
lacks "0034"

# --- Order rules: no silent backward moves. ---
expect 1 L1 edit $rep --set status=草稿
contains "allow-backwards"
expect 1 L1 edit $app --set status=received
contains "allow-backwards"
expect 1 L1 edit $att --set status=notified
expect 0 L1 edit $rep --set status=已接收

# --- verify replays the merge; stock git checks every signature. ---
expect 0 L1 verify
contains "merges replayed"; contains "all good"
expect 0 L2 verify
contains "all good"

# --- The county: the infection figure without a name; the audit export. ---
expect 0 C fetch "$w/lap1/repo.git"
expect 0 C verify
contains "all good"
expect 0 C aggregate --format json --ledger care_tally --scope $S
contains '"care_tally.infections": 4'                # the merged tally, counted upward
lacks "周丽"; lacks "王秀英"
expect 0 C aggregate --ledger care_tally
contains "care_tally.infections                                   4  工作人员感染人数（累计）"
expect 0 C aggregate --ledger worker_care
lacks "周丽"
expect 0 C aggregate --format json
for a in appeal.open committee.public_health network_role.unit_leaders report.work_dynamics test_attendance.tested worker_care.sent_down; do
	contains "$a"
done
expect 0 C audit export --format json --output "$w/audit.json"
out=$(cat "$w/audit.json")
for id in $tal $wc $att $app $zon $rep $com $mem; do contains "$id"; done
lacks "已安排透析"; lacks "需要透析"; lacks "13800000009"
expect 0 C audit export --format html --output "$w/audit.html"
out=$(cat "$w/audit.html")
contains "$app"; lacks "需要透析"

echo "ledgers: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
