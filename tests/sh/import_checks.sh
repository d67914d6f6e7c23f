#!/usr/bin/env bash
# Issue 12: import (YAML and CSV) makes the checks add makes: references
# exist (also a ref inside the items of a list of maps, at add, edit and
# import), the ID number agrees with birth date and gender, likely
# duplicates warned per record with the existing record named. A refused
# import names the record, its line and the field, never the value, and
# writes nothing. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir import_checks
command -v jq >/dev/null || { echo "skip: jq is not installed (scripts/install-deps.sh)"; exit 77; }
S=500243001001
# The shipped schemas plus a ledger whose list items hold a ref (as a
# zone's covered households or an appeal's handlers may).
mkdir "$w/schemas"
cp "$VL_SOURCE_DIR"/schemas/*.yaml "$w/schemas/"
cat > "$w/schemas/visit_round.yaml" <<'YAML'
name: visit_round
version: 1
zh: 入户走访
en: Visit rounds
doc: A test ledger, a round of visits to residents.
fields:
  - name: title
    type: string
    zh: 名称
    en: Title
    max_len: 40
    required: true
    merge: lww
    doc: What.
  - name: visits
    type: list
    items: map
    key: who
    zh: 走访
    en: Visits
    fields:
      - {name: who, type: ref, ref: resident, zh: 居民, en: Resident, required: true}
      - {name: note, type: string, zh: 说明, en: Note, max_len: 50}
    merge: append
    doc: Who was visited.
YAML
export VLEDGER_SCHEMA_DIR=$w/schemas
C() { "$VLEDGER" -C "$w/county" "$@"; }
V() { "$VLEDGER" -C "$w/v1" "$@"; }
id_of() { printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1; }
cn_id() {
	local body=$1 wt=(7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2) c=10X98765432 s=0 i
	for i in $(seq 0 16); do s=$((s + ${body:$i:1} * ${wt[$i]})); done
	echo "$body${c:$((s % 11)):1}"
}
ID_F=$(cn_id 50024319430215002)   # born 1943-02-15, 17th digit 2: female
ID_M=$(cn_id 50024319700911013)   # born 1970-09-11, 17th digit 1: male
ID_N=$(cn_id 50024319520301004)
GHOST=01aaaaaaaaaaaaaaaaaaaaaaaa

expect 0 C init --name County --role county --scope 500243000000 --new-network
expect 0 C export network --output "$w/network.yaml"
expect 0 V init --name V1 --role village --scope $S --network "$w/network.yaml"
expect 0 C roster add --name V1 --role village --scope $S --key "$(V key | head -1)"
expect 0 V fetch "$w/county/repo.git"
expect 0 V add resident --set name=王秀英 --set id_number=$ID_F --set gender=female --set residence_kind=registered \
	--set address=a --set source=self_report
rF=$(id_of)

# refused YAML imports: ID vs birth date, ID vs gender, a ref to nothing;
# each names the record and line, and nothing is written.
refused() {  # refused FILE WORDS...: exit 1, the words in the message, no value, no ref moved
	local f=$1; shift
	local before; before=$(refs v1)
	expect 1 V import resident --file "$f"
	[ "$(refs v1)" = "$before" ] && ok || bad "a refused import moved a ref: $f"
	for word in "$@"; do contains "$word"; done
	contains "nothing was imported"
}
printf 'records:\n  - {name: 甲, residence_kind: registered, address: a, source: self_report}\n  - {name: 乙, id_number: "%s", birth_date: 1943-02-16, residence_kind: registered, address: b, source: self_report}\n' "$ID_F" > "$w/bd.yaml"
refused "$w/bd.yaml" "record 2 (line 3)" "birth_date" "id_number"
lacks "$ID_F"
printf 'records:\n  - {name: 乙, id_number: "%s", gender: female, residence_kind: registered, address: b, source: self_report}\n' "$ID_M" > "$w/sex.yaml"
refused "$w/sex.yaml" "record 1 (line 2)" "gender" "17th digit"
lacks "$ID_M"
printf 'records:\n  - {resident: %s, group: elderly_alone, liaison_name: 张}\n  - {resident: %s, group: disabled, liaison_name: 张}\n' "$rF" "$GHOST" > "$w/sg.yaml"
before=$(refs v1)
expect 1 V import special_group --file "$w/sg.yaml"
contains "record 2 (line 3)"; contains "no record $GHOST"; contains "nothing was imported"
[ "$(refs v1)" = "$before" ] && ok || bad "a refused import moved a ref"
# CSV goes through the same checks (the row's line named).
printf 'resident,group,liaison_name\n%s,elderly_alone,张\n%s,disabled,张\n' "$rF" "$GHOST" > "$w/sg.csv"
expect 1 V import special_group --file "$w/sg.csv"
contains "record 2 (line 3)"; contains "no record $GHOST"
[ "$(refs v1)" = "$before" ] && ok || bad "a refused CSV import moved a ref"

# Likely duplicates: warned per record, the existing record (or the earlier
# record of the file) named; imported as add does.
printf 'records:\n  - {name: 王秀英, id_number: "%s", residence_kind: registered, address: a, source: self_report}\n  - {name: 丙, id_number: "%s", residence_kind: registered, address: c, source: self_report}\n  - {name: 丙, id_number: "%s", residence_kind: registered, address: c, source: self_report}\n' "$ID_F" "$ID_N" "$ID_N" > "$w/dup.yaml"
expect 0 V import resident --file "$w/dup.yaml"
contains "record 1 (line 2) is likely a duplicate of record $rF"
contains "record 3 (line 4) has the same identity fields as record 2 of the file"
lacks "record 2 (line 3)"; lacks "$ID_F"; lacks "$ID_N"
# --json: the same per record; now all three are in the scope already.
out=$(V import resident --file "$w/dup.yaml" --json 2>/dev/null)
[ "$(printf '%s' "$out" | jq -r '.duplicates | length')" = 3 ] && ok || bad "json duplicates: $out"
[ "$(printf '%s' "$out" | jq -r '[.duplicates[].record] | join(",")')" = 1,2,3 ] && ok || bad "json dups: $out"
[ "$(printf '%s' "$out" | jq -r '[.duplicates[] | select(.duplicate_of != null and .same_as_record == null)] | length')" = 3 ] &&
	ok || bad "json dups name the existing records: $out"
# A special_group entry that repeats (resident, group): warned too.
printf 'records:\n  - {resident: %s, group: elderly_alone, liaison_name: 张}\n' "$rF" > "$w/sg1.yaml"
expect 0 V import special_group --file "$w/sg1.yaml"
lacks "warning"
expect 0 V import special_group --file "$w/sg1.yaml"
contains "record 1 (line 2) is likely a duplicate of record"

# A ref inside the items of a list of maps: checked at add, edit and import.
before=$(refs v1)
expect 1 V add visit_round --set title=一 --set "visits=[{who: $GHOST}]"
contains "no record $GHOST"; contains "who"
[ "$(refs v1)" = "$before" ] && ok || bad "a refused add moved a ref"
expect 0 V add visit_round --set title=一 --set "visits=[{who: $rF}]"
vr=$(id_of)
before=$(refs v1)
expect 1 V edit "$vr" --add "visits={who: $GHOST}"
contains "no record $GHOST"
[ "$(refs v1)" = "$before" ] && ok || bad "a refused edit moved a ref"
# The ref the record already had is not checked again (it was deleted since).
expect 0 V rm "$rF" --reason 测试
expect 0 V edit "$vr" --set title=二
printf 'records:\n  - {title: 三, visits: [{who: %s}]}\n' "$GHOST" > "$w/vr.yaml"
expect 1 V import visit_round --file "$w/vr.yaml"
contains "record 1 (line 2)"; contains "no record $GHOST"

echo "import_checks: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
