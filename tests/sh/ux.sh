#!/usr/bin/env bash
# Issue 12, part A: forgiving input and checks for village workers, end to
# end against the real binary. Each block covers one friction of the issue;
# synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir ux
C() { "$VLEDGER" -C "$w/county" "$@"; }
ID_OK=500243194302150029   # synthetic, valid check digit 9 (born 1943-02-15, female)
ID_BAD=500243194302150021  # same, wrong check digit

expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network

# ---- 1. input normalised before validation ---------------------------------
# Full-width digits, an ideographic space, spaces and dashes in the ID and
# phone numbers, a lower-case x: all accepted and stored in canonical form.
FW_ID='５００２４３ １９４３０２１５ ００２９'
expect 0 C add resident --set name=王秀英 --set "id_number=$FW_ID" --set "phone=138 1234-5678" \
	--set residence_kind=户籍人口 --set address=鼓楼社区2栋 --set source=self_report \
	--set birth_date=１９４３－０２－１５ --set gender=女
r1=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
[ -n "$r1" ] && ok || bad "no record id printed: $out"
expect 0 C show "$r1" --json --reveal
contains "\"id_number\":\"$ID_OK\""; contains '"phone":"13812345678"'; contains '"birth_date":"1943-02-15"'
# A landline keeps its one dash; spaces stand for it.
expect 0 C add resident --set name=李四 --set "phone=023 1234 5678" --set residence_kind=migrant \
	--set address=x --set source=self_report
r2=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
expect 0 C show "$r2" --json --reveal
contains '"phone":"023-12345678"'
# x at the end of an ID number is X (file input too), full-width in a file.
ID_X=11010519491231002X
printf 'name: 赵六\nid_number: "%s"\nresidence_kind: Registered\naddress: y\nsource: 主动摸排\nsurveyed_on: ２０２２-０４-０１\n' \
	"${ID_X,,}" > "$w/r.yaml"
expect 0 C add resident --file "$w/r.yaml"
r3=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
expect 0 C show "$r3" --json --reveal
contains "\"id_number\":\"$ID_X\""; contains '"surveyed_on":"2022-04-01"'
# Free text is never folded.
expect 0 C edit "$r3" --set 'notes=ＡＢＣ　１２３'
expect 0 C show "$r3" --json --reveal
contains '"notes":"ＡＢＣ　１２３"'

# Enum labels matched forgivingly: English id in any case, English label,
# the label without its parenthesised part, a unique prefix.
expect 0 C edit "$r2" --set residence_kind=REGISTERED
expect 0 C edit "$r2" --set residence_kind=流动
expect 0 C show "$r2" --json
contains '"residence_kind":"migrant"'
expect 0 C edit "$r2" --set relation=户
expect 0 C show "$r2" --json
contains '"relation":"head"'
# 乡镇 is 乡镇（街道） without its parenthesised part.
REPORT=(--set title=防控简报 --set kind=零报告 --set contact_name=张三 --set contact_phone=13800000000
	--set deadline=2022-04-10)
expect 0 C add report "${REPORT[@]}" --set target_level=乡镇
rep=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
expect 0 C show "$rep" --json
contains '"target_level":"township"'
# Ambiguous: the candidates listed, nothing written.
before=$(refs county)
expect 1 C add report "${REPORT[@]}" --set target_level=乡镇 --set status=已
contains "more than one value fits"; contains "已报送 (submitted)"; contains "已接收 (received)"
lacks "草稿"
[ "$before" = "$(refs county)" ] && ok || bad "refs moved on an ambiguous label"

# ---- 2. errors say what was expected ----------------------------------------
expect 1 C add resident --set name=x --set residence_kind=本地人 --set address=x --set source=self_report
contains "人口类型"; contains "户籍人口 (registered)"; contains "流动人口 (migrant)"
expect 1 C add resident --set name=x --set "id_number=$ID_BAD" --set residence_kind=migrant --set address=x --set source=self_report
contains "check digit should be 9"; contains "公民身份号码"; lacks "$ID_BAD"
expect 1 C add resident --set name=x --set "id_number=${ID_OK:0:17}" --set residence_kind=migrant --set address=x --set source=self_report
contains "should be 18 characters, got 17"; lacks "${ID_OK:0:17}"
expect 1 C add resident --set name=x --set birth_date=1943-02-30 --set residence_kind=migrant --set address=x --set source=self_report
contains "field 'birth_date': not a date (YYYY-MM-DD) (出生日期)"

# ---- 3. set and list fields edited by element ----------------------------
SUPPLY=(--set request_no=500243000000-20220407-001 --set reason=封控户 --set address=鼓楼社区2栋
	--set contact_name=李四 --set contact_phone=13800000001)
expect 0 C add supply_request "${SUPPLY[@]}" --set 'items=[{name: 大米, qty: 2, unit: 袋}]'
sr=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
# The issue's case: a --set that would drop the earlier items is refused.
before=$(refs county)
expect 1 C edit "$sr" --set 'items=[{name: 鸡蛋, qty: 1}]'
contains "物资清单"; contains "would drop 1 of its 1"; contains "--replace"
[ "$before" = "$(refs county)" ] && ok || bad "refs moved on a dropping --set"
expect 0 C edit "$sr" --add 'items={name: 鸡蛋, qty: 1}'
expect 0 C show "$sr" --json
contains '"items":[{"name":"大米","qty":2,"unit":"袋"},{"name":"鸡蛋","qty":1}]'
# Changing an item keeps it: no drop.
expect 0 C edit "$sr" --set 'items=[{name: 大米, qty: 3, unit: 袋}, {name: 鸡蛋, qty: 1}]'
expect 1 C edit "$sr" --add 'items={name: 大米, qty: 1}'
contains "there already"
expect 0 C edit "$sr" --remove items=大米
expect 0 C show "$sr" --json
contains '"items":[{"name":"鸡蛋","qty":1}]'
expect 1 C edit "$sr" --remove items=大米
contains "no such element"
expect 0 C edit "$sr" --replace --set 'items=[{name: 牛奶, qty: 6}]'
expect 0 C show "$sr" --json
contains '"items":[{"name":"牛奶","qty":6}]'
# A set: labels accepted, kept sorted; removing by label.
expect 0 C edit "$r1" --add tags=独居老人 --add tags=disabled
expect 0 C edit "$r1" --add tags=独居
expect 0 C show "$r1" --json
contains '"tags":["disabled","elderly_alone"]'
expect 1 C edit "$r1" --set tags=孕产妇
contains "would drop 2 of its 2"
expect 0 C edit "$r1" --remove tags=残疾人
expect 0 C show "$r1" --json
contains '"tags":["elderly_alone"]'
# --add to a list the record lacks yet: a new key, at its schema place.
expect 0 C edit "$r2" --add tags=残疾人
expect 0 C show "$r2" --json
contains '"address":"***","tags":["disabled"],"source":"self_report"'
expect 0 C edit "$r2" --unset tags
expect 1 C edit "$r1" --add name=x
contains "takes a set or list field"

# ---- 4. checks at add and edit ---------------------------------------------
# A ref must name a live record of its ledger.
before=$(refs county)
expect 1 C add special_group --set resident=01aaaaaaaaaaaaaaaaaaaaaaaa --set group=独居老人 --set liaison_name=刘五
contains "no record 01aaaaaaaaaaaaaaaaaaaaaaaa"; contains "'resident'"
expect 1 C add special_group --set "resident=$sr" --set group=独居老人 --set liaison_name=刘五
contains "is a 'supply_request' record"
[ "$before" = "$(refs county)" ] && ok || bad "refs moved on a bad ref"
expect 0 C add special_group --set "resident=$r2" --set group=独居老人 --set liaison_name=刘五
sg=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
lacks "duplicate"
expect 0 C edit "$sr" --set "resident=$r1"
expect 1 C edit "$sg" --set resident=01aaaaaaaaaaaaaaaaaaaaaaaa
contains "no record"
# A deleted record is not a valid reference.
expect 0 C rm "$r3" --reason 搬离
expect 1 C edit "$sg" --set "resident=$r3"
contains "is deleted"
# The ID number cross-checked with birth_date and gender.
expect 1 C edit "$r1" --set birth_date=1943-02-16
contains "出生日期"; contains "does not agree"; lacks "1943"
expect 1 C edit "$r1" --set gender=男
contains "性别"; contains "17th digit"
expect 1 C add resident --set name=x --set "id_number=$ID_OK" --set birth_date=1950-01-01 \
	--set residence_kind=migrant --set address=x --set source=self_report
contains "does not agree"
# A likely duplicate (same identity) is written, with a warning naming the record.
expect 0 C add resident --set name=王秀英2 --set "id_number=$ID_OK" --set residence_kind=migrant \
	--set address=x --set source=self_report
contains "likely a duplicate of record $r1"; lacks "$ID_OK"
expect 0 C add special_group --set "resident=$r2" --set group=elderly_alone --set liaison_name=刘五
contains "likely a duplicate of record $sg"
# A status moved backwards against its order needs a flag and a reason.
expect 0 C edit "$sr" --set status=已采购
before=$(refs county)
expect 1 C edit "$sr" --set status=registered
contains "against its order"; contains "--allow-backwards"
expect 1 C edit "$sr" --set status=registered --allow-backwards
contains "--reason"
[ "$before" = "$(refs county)" ] && ok || bad "refs moved on a backwards status"
expect 0 C edit "$sr" --set status=registered --allow-backwards --reason "登记错误，尚未采购"
git --git-dir "$w/county/repo.git" log -1 --format=%B scope/500243000000 | grep -q "Vledger-Reason: 登记错误" \
	&& ok || bad "no reason trailer on a backwards edit"
expect 0 C edit "$sr" --set status=cancelled
expect 1 C edit "$sr" --set status=delivering
contains "against its order"

# ---- 5. ledgers by id or Chinese label; help COMMAND -------------------------
expect 0 C list 常住人口
contains "$r1"
expect 0 C list Residents --json
contains "$r2"
expect 0 C schema show 物资需求
contains "request_no"
expect 0 C add 重点人群 --set "resident=$r1" --set group=残疾人 --set liaison_name=刘五
expect 1 C list 不存在的台账
contains "schema list"
expect 0 "$VLEDGER" help add
contains "usage: vledger add LEDGER"; contains "add a record"
expect 0 "$VLEDGER" help roster add
contains "usage: vledger roster add"
expect 0 "$VLEDGER" help
contains "commands:"; contains "import"
expect 2 "$VLEDGER" help frobnicate
contains "vledger help"

# ---- 6. masks of fixed length ------------------------------------------------
# 王秀英 (3 characters) and 李四 (2) show the same mask; phones a fixed run.
expect 0 C show "$r1" --json
contains '"name":"***"'; contains '"phone":"138****5678"'
expect 0 C show "$r2" --json
contains '"name":"***"'; contains '"phone":"023****5678"'
expect 0 C list resident
contains "***"; lacks "王秀英"; lacks "李四"

# ---- 7. add and edit say what was saved ----------------------------------------
# On a terminal (a pseudo-terminal from script(1)): in words, labels only.
tty_run() { out=$(script -qec "$(printf '%q ' "$@")" /dev/null 2>&1 | tr -d '\r'); }
if command -v script >/dev/null; then
	tty_run "$VLEDGER" -C "$w/county" edit "$r1" --set phone=13900000000 --set residence_kind=migrant
	contains "saved 常住人口 $r1, changed: 联系电话、人口类型"; lacks "13900000000"
	tty_run "$VLEDGER" -C "$w/county" add supply_request --set request_no=500243000000-20220407-002 \
		--set reason=other --set address=x --set contact_name=x --set contact_phone=13800000002 --set 'items=[{name: 药, qty: 1}]'
	contains "saved 物资需求 500243000000-20220407-002 ("
	tty_run "$VLEDGER" -C "$w/county" edit "$r1" --set phone=13900000000
	contains "nothing to save: 常住人口 $r1 is unchanged"
else
	bad "script(1) (util-linux) is needed to drive a pseudo-terminal"
fi
# Not a terminal: the id alone, as scripts expect.
expect 0 C edit "$r1" --set grid=第1网格
[ "$out" = "$r1" ] && ok || bad "edit output for a script is not the id: $out"
# --json on add and edit.
expect 0 C add resident --set name=x --set residence_kind=migrant --set address=x --set source=self_report --json
contains '"ledger":"resident","ledger_label":"常住人口","scope":"500243000000","saved":true,"commit":"'
contains '"duplicate_of":null}'
expect 0 C edit "$r1" --set phone=13900000001 --set surveyed_on=2022-04-02 --json
contains "{\"id\":\"$r1\",\"ledger\":\"resident\""
contains '"changed":[{"field":"phone","label":"联系电话"},{"field":"surveyed_on","label":"最近摸排日期"}]'
lacks "13900000001"
expect 0 C edit "$r1" --set surveyed_on=2022-04-02 --json
contains '"saved":false,"commit":null,"changed":[]'

echo "ux: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
