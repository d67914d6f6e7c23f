#!/usr/bin/env bash
# Issue 12: `list` columns declared per ledger (schema `list_columns`), refs
# shown by the referenced record's label, CJK-width-aware alignment.
# Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir list
C() { "$VLEDGER" -C "$w/county" "$@"; }
first_id() { printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1; }
# Terminal columns of a line: CJK characters count 2, "…" and ASCII 1 (the
# only characters these tables hold).
width() {
	local s=$1 wide
	wide=${s//[ -~…]/}
	echo $(( ${#s} + ${#wide} ))
}
export LC_ALL=C.utf8

expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network
expect 0 C add report_call --set title=关于报送疫情防控典型经验的通知 --set kind=any --set deadline=2022-04-20
call=$(first_id)
R=(--set target_level=乡镇 --set contact_name=张三 --set contact_phone=13800000000)
expect 0 C add report "${R[@]}" --set title=防控简报 --set kind=零报告 --set deadline=2022-04-10 --set "call=$call"
expect 0 C add report "${R[@]}" --set title=鼓楼社区关于落实常态化疫情防控措施的工作情况汇报材料第二期 \
	--set kind=policy_measure --set deadline=2022-04-12 --set status=submitted
expect 0 C add report "${R[@]}" --set title=short --set kind=typical_experience --set deadline=2022-04-15

# ---- the declared columns: status and deadline, the contact masked --------------
expect 0 C list report
contains '状态'; contains '报送截止日期'; contains '已报送'; contains '草稿'; contains '2022-04-12'
contains '联系人'; lacks '张三'; lacks '13800000000'
# The call by its title, not its id.
contains '关于报送疫情防控典型经验的通知'; lacks "$call"
table=$out
# ---- alignment: every column starts at the same terminal column on every row ---
# (the long title is cut with "…" to 30 columns; the short ones padded).
contains '…'
for col in '零报告|政策措施|典型经验|报送类别' '2022-04-1[025]|报送截止日期'; do
	starts=$(printf '%s\n' "$table" | grep -E "$col" | while IFS= read -r line; do
		pre=$(printf '%s\n' "$line" | sed -E "s/($col).*//"); width "$pre"; done | sort -u)
	n=$(printf '%s\n' "$starts" | wc -l)
	[ "$n" -eq 1 ] && ok || bad "column /$col/ starts at columns $(echo $starts) in:
$table"
done
# --reveal shows the contact.
expect 0 C list report --reveal
contains '张三'
# JSON is unchanged by the columns: whole records, refs as ids.
expect 0 C list report --json
contains "\"call\":\"$call\""

# ---- the schema key: checked, capped --------------------------------------------
sed 's/^list_columns: .*/list_columns: [title, nope, title]/' "$VL_SOURCE_DIR/schemas/report.yaml" > "$w/bad1.yaml"
expect 1 C schema check "$w/bad1.yaml"
contains "list_columns: no field 'nope'"; contains "list_columns: field 'title' named twice"
sed 's/^list_columns: .*/list_columns: [title, kind, status, deadline, contact_name, call, target_level, target_unit, adopted_in]/' \
	"$VL_SOURCE_DIR/schemas/report.yaml" > "$w/bad2.yaml"
expect 1 C schema check "$w/bad2.yaml"
contains "names 9 fields; at most 8"
# Without the key (every schema written before it) list takes the first short fields.
grep -v '^list_columns:' "$VL_SOURCE_DIR/schemas/report.yaml" > "$w/old.yaml"
expect 0 C schema check "$w/old.yaml"

echo "list: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
