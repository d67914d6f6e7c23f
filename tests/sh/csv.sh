#!/usr/bin/env bash
# CSV in and out (agent/ops/csv.h) against the real binary and stock git:
# import with Chinese and English headers, BOM, CRLF, quoted commas, quotes
# and line breaks; a file with bad rows writes nothing and lists every bad
# row by row, column and cell, never a value; export is Excel-ready,
# masked unless --reveal, formulas neutralised; export --reveal imports
# back into a fresh village as the same records; every reveal is logged
# without values. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir csv
C() { "$VLEDGER" -C "$w/county" "$@"; }
V() { "$VLEDGER" -C "$w/village" "$@"; }
V2() { "$VLEDGER" -C "$w/village2" "$@"; }
# Every file of a node's repository with its hash: "byte for byte".
snapshot() { (cd "$w/$1/repo.git" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
ID_OK=500243194302150029   # synthetic, valid check digit
ID_BAD=500243194302150021  # same, wrong check digit
ID2_OK=11010519491231002X  # synthetic, valid check digit

expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network
expect 0 C export network --output "$w/network.yaml"
for v in village:500243001001:鼓楼社区 village2:500243001002:新华村; do
	IFS=: read -r dir scope name <<<"$v"
	expect 0 "$VLEDGER" -C "$w/$dir" init --name "$name" --role village --scope "$scope" --network "$w/network.yaml"
	expect 0 C roster add --name "$name" --role village --scope "$scope" --key "$("$VLEDGER" -C "$w/$dir" key | head -1)"
done
expect 0 V fetch "$w/county/repo.git"
expect 0 V2 fetch "$w/county/repo.git"

# Chinese headers as Excel writes them: BOM, CRLF, quoted comma, doubled
# quote, a line break inside a quoted cell, enum and set labels, a column
# order that is not the schema's.
printf '\xef\xbb\xbf姓名,公民身份号码,人口类型,现住址,重点人群标识,信息来源,备注,联系电话\r\n' > zh.csv
printf '王秀英,%s,户籍人口,"2 组, 8 号",独居老人、特殊疾病患者,主动摸排,"说""好""的",13800000001\r\n' "$ID_OK" >> zh.csv
printf '李小明,%s,流动人口,5 组,,群众主动告知,"第一行\r\n第二行",\r\n' "$ID2_OK" >> zh.csv
printf ',,,,,,,\r\n' >> zh.csv   # an empty row, as spreadsheets leave them: skipped
printf '赵六,,registered,=1+2,disabled,self_report,@SUM(A1),\r\n' >> zh.csv
expect 0 V import resident --file zh.csv
contains "imported 3 resident records"
expect 0 V list resident --json --reveal
[ "$(jq length <<<"$out")" = 3 ] && ok || bad "3 records expected: $out"
wang=$(jq -c '.[] | select(.data.name == "王秀英") | .data' <<<"$out")
[ "$wang" = "{\"name\":\"王秀英\",\"id_number\":\"$ID_OK\",\"phone\":\"13800000001\",\"residence_kind\":\"registered\",\"address\":\"2 组, 8 号\",\"tags\":[\"elderly_alone\",\"special_disease\"],\"source\":\"worker_survey\",\"notes\":\"说\\\"好\\\"的\"}" ] \
	&& ok || bad "imported record differs: $wang"
[ "$(jq -r '.[] | select(.data.name == "李小明") | .data.notes' <<<"$out")" = $'第一行\n第二行' ] && ok || bad "quoted line break lost"
[ "$(jq -r '.[] | select(.data.name == "赵六") | .data.address' <<<"$out")" = "=1+2" ] && ok || bad "formula-looking text not kept as text"

# English headers (field names or English labels, any case), LF, no BOM.
printf 'Name,residence_kind,CURRENT ADDRESS,source\n钱七,migrant,9 组,Worker survey\n' > en.csv
expect 0 V import resident --file en.csv
contains "imported 1 resident"

# Bad rows: nothing written, every bad row listed, no value shown.
cat > bad.csv <<EOF2
姓名,公民身份号码,人口类型,现住址,信息来源,联系电话
孙八,$ID_OK,户籍人口,1 组,主动摸排,
周九,$ID_BAD,户籍人口,2 组,主动摸排,
吴十,,户籍人口,,主动摸排,99999
郑十一,,火星人,3 组,主动摸排
EOF2
before=$(snapshot village)
expect 1 V import resident --file bad.csv
contains "row 3, column 2 '公民身份号码' (cell B3, line 3): cn_id check digit"
contains "row 4, column 4 '现住址' (cell D4, line 4): required"
contains "row 4, column 6 '联系电话' (cell F4, line 4): phone"
contains "row 5 (line 5): the row has 5 cells, the header 6"
contains "3 of 4 rows"; contains "nothing was imported"
lacks "$ID_BAD"; lacks "99999"; lacks "周九"; lacks "吴十"
[ "$before" = "$(snapshot village)" ] && ok || bad "a refused CSV import changed the repository"
printf '姓名,人口类型,现住址,信息来源\n甲,火星人,1 组,主动摸排\n' > enum.csv
expect 1 V import resident --file enum.csv
contains "row 2, column 2 '人口类型' (cell B2, line 2): should be one of 户籍人口 (registered)"
lacks "火星人"

# Unknown or repeated header: a clear error naming it; nothing written.
printf '姓名,昵称,人口类型,现住址,信息来源\n甲,x,户籍人口,1 组,主动摸排\n' > unknown.csv
expect 1 V import resident --file unknown.csv
contains "column 2 (B1) header '昵称' is not a field of ledger 'resident'"; contains "姓名"
printf '姓名,name,人口类型,现住址,信息来源\n甲,乙,户籍人口,1 组,主动摸排\n' > dup.csv
expect 1 V import resident --file dup.csv
contains "both hold field 'name'"
# A file without its header row: refused, the first row not echoed.
printf '王秀英,%s,户籍人口,1 组,主动摸排\n' "$ID_OK" > nohdr.csv
expect 1 V import resident --file nohdr.csv
contains "is the header row missing"; lacks 王秀英; lacks "$ID_OK"
# An empty trailing column without a header is ignored; one with values is not.
printf '姓名,人口类型,现住址,信息来源,\n甲,户籍人口,1 组,主动摸排,\n' > blankcol.csv
printf '姓名,人口类型,现住址,信息来源,\n甲,户籍人口,1 组,主动摸排,x\n' > valcol.csv
expect 1 V import resident --file valcol.csv
contains "column 5 (E) holds values but has no header"
# Not strict CSV: refused with line and column.
printf '姓名,人口类型,现住址,信息来源\n甲"乙,户籍人口,1 组,主动摸排\n' > quote.csv
expect 1 V import resident --file quote.csv
contains "quote.csv:2:4: a quote inside an unquoted cell"
printf '姓名,人口类型,现住址,信息来源\n"甲,户籍人口,1 组,主动摸排\n' > open.csv
expect 1 V import resident --file open.csv
contains "open.csv:2:1: a quoted cell is never closed"
printf '\xd5\xc5\xc8\xfd,x\n' > gbk.csv
expect 1 V import resident --file gbk.csv
contains "CSV UTF-8"
[ "$before" = "$(snapshot village)" ] && ok || bad "a refused CSV import changed the repository"
expect 0 V import resident --file blankcol.csv
contains "imported 1 resident"

# Export: BOM, CRLF, Chinese headers and labels, personal fields masked,
# formula-looking cells neutralised.
expect 0 V export resident --format csv --output masked.csv
[ "$(head -c 3 masked.csv | od -An -tx1 | tr -d ' ')" = efbbbf ] && ok || bad "no BOM"
[ "$(grep -c $'\r$' masked.csv)" = 6 ] && ok || bad "lines do not end in CRLF"
out=$(cat masked.csv)
contains "姓名,公民身份号码,性别,出生日期,联系电话,人口类型"; contains "户籍人口"; contains "独居老人、特殊疾病患者"
contains "500***********0029"
lacks "王秀英"; lacks "$ID_OK"; lacks "13800000001"; lacks "2 组, 8 号"
# The ledger by its Chinese label, as every command takes it: the same file.
expect 0 V export 常住人口 --format csv --output masked_zh.csv
cmp -s masked.csv masked_zh.csv && ok || bad "export 常住人口 differs from export resident"
expect 0 V export resident --format csv --reveal --output clear.csv
out=$(cat clear.csv)
contains "王秀英"; contains "\"2 组, 8 号\""; contains "\"说\"\"好\"\"的\""
contains ",'=1+2,"; contains ",'@SUM(A1)"; lacks ",=1+2"

# Round trip: the revealed export imports into a fresh village as the same records.
expect 0 V2 import resident --file clear.csv
contains "imported 5 resident records"
data() { "$VLEDGER" -C "$w/$1" list resident --json --reveal | jq -S 'map(.data) | sort_by(.name)'; }
a=$(data village); b=$(data village2)
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "round trip differs: $a :: $b"
expect 0 V verify
expect 0 V2 verify

# Every reveal logged: who, what, never a value.
log="$w/village/log/reveal.log"
[ -f "$log" ] && ok || bad "no reveal log"
[ "$(stat -c %a "$log")" = 600 ] && ok || bad "reveal log not mode 600"
out=$(cat "$log")
contains '"command":"export"'; contains '"ledger":"resident"'; contains '"scope":"500243001001"'
contains '"count":5'; contains "\"fingerprint\":\"$(V key | sed -n 2p | awk '{print $NF}')"
contains '"node":"鼓楼社区"'
for secret in 王秀英 "$ID_OK" 13800000001 "2 组" 第一行 李小明; do lacks "$secret"; done
# show, list, history, blame and audit export log their reveals the same way.
rid=$(V list resident --json | jq -r '.[0].id')
logged() { # logged COMMAND...: the command's --reveal adds one line naming it
	local n0; n0=$(wc -l < "$log")
	expect 0 V "$@" --reveal
	[ "$(wc -l < "$log")" = $((n0 + 1)) ] && ok || bad "$1 --reveal was not logged"
	tail -1 "$log" | grep -q "\"command\":\"$1" && ok || bad "$1: log line names another command"
}
logged show "$rid"; logged history "$rid"; logged blame "$rid"
logged list resident
logged audit export --format json
grep -q "\"command\":\"show\".*\"ids\":\[\"$rid\"\]" "$log" && ok || bad "show's log line lacks the record id"
out=$(cat "$log")
for secret in 王秀英 "$ID_OK" 13800000001 "2 组" 第一行 李小明; do lacks "$secret"; done
n0=$(wc -l < "$log")
expect 0 V show "$rid"
expect 0 V export resident --format csv --output masked2.csv
[ "$(wc -l < "$log")" = "$n0" ] && ok || bad "a masked export was logged as a reveal"
# A log that cannot be written refuses the reveal, and shows nothing.
chmod 000 "$w/village/log"
if [ "$(id -u)" != 0 ]; then
	expect 1 V export resident --format csv --reveal
	contains "reveal refused"; lacks "王秀英"
fi
chmod 700 "$w/village/log"
rm -rf "$w/village/log"; mkdir -p "$w/village"; : > "$w/village/log"   # a file where the directory goes
expect 1 V export resident --format csv --reveal
contains "reveal refused"; lacks "王秀英"
rm -f "$w/village/log"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
