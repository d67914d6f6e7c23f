#!/usr/bin/env bash
# vledger schema install and the schema language version rule, end to end.
# A network created with the schemas as shipped before issue 12's second half
# (tests/fixtures/schemas-issue11, an old-format set) holds records of a
# village; the county admin upgrades it with `schema install --shipped`. Each
# refusal (not an admin, lower version, same version changed, a merge rule or
# an order changed, a held record that would break, a ref to a missing
# ledger, an unknown validity key of a later language) leaves the config
# branch byte for byte unchanged; a display-only ui_* key installs with a
# warning. After the upgrade the village receives the new config by fetch,
# writes records of the new ledgers, and both nodes verify. Synthetic data.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir schema_install
OLD=$VL_SOURCE_DIR/tests/fixtures/schemas-issue11
NEW=$VL_SOURCE_DIR/schemas
S=500243001001
C() { "$VLEDGER" -C "$w/county" "$@"; }
V() { "$VLEDGER" -C "$w/village" "$@"; }
cfg() { git --git-dir "$w/county/repo.git" rev-parse refs/heads/config; }
# unchanged WHAT: the county's refs and objects are what they were.
snap() { refs county; find "$w/county/repo.git/objects" -type f | sort; }
unchanged() { [ "$(snap)" = "$before" ] && ok || bad "$1: the county's repository changed"; }
# refused WHAT TEXT CMD...: exit non-zero, TEXT in the message, nothing written.
refused() {
	local what=$1 text=$2; shift 2
	before=$(snap)
	out=$("$@" 2>&1) && bad "$what: accepted :: $out"
	contains "$text"
	unchanged "$what"
}
# variant SRC OUT SED: a copy of a shipped schema, edited.
variant() { sed -e "$3" "$NEW/$1" > "$w/$2"; }

# --- An old network: created with the old schema set, which still loads. ---
for f in "$OLD"/*.yaml; do expect 0 "$VLEDGER" schema check "$f"; done
VLEDGER_SCHEMA_DIR=$OLD expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network
expect 0 C export network --output "$w/network.yaml"
VLEDGER_SCHEMA_DIR=$OLD expect 0 V init --name 鼓楼社区 --role village --scope $S --network "$w/network.yaml"
expect 0 C roster add --name 鼓楼社区 --role village --scope $S --key "$(V key | head -1)"
expect 0 V fetch "$w/county/repo.git"
expect 0 V schema show report
contains "(version 2)"
expect 0 V add report --set title=四月防控 --set kind=zero_report --set contact_name=张敏 \
	--set contact_phone=13800000001 --set target_level=township --set deadline=2022-04-09
rep=$out
expect 0 V add zone --set zone_no=GL-2022-01 --set designation=sealed --set area="2 组" \
	--set announced_at=2022-04-07T01:00:00Z --set households=12
expect 0 V add worker_care --set worker_name=周丽 --set post=网格员 --set duty_status=on_duty --set subsidy_days=3
expect 0 V add network_role --set role=grid_leader --set person_name=吴刚 --set phone=13600000004 --set area=第3网格
expect 0 C fetch "$w/village/repo.git"
expect 0 C verify

# --- Refusals: each leaves the county's repository unchanged. ---
refused "not an admin" "admin" V schema install --shipped
variant report.yaml low.yaml 's/^version: 3/version: 1/'
refused "lower version" "lower than the network's version 2" C schema install "$w/low.yaml"
variant report.yaml same.yaml 's/^version: 3/version: 2/'
refused "same version, other bytes" "raise 'version'" C schema install "$w/same.yaml"
variant zone.yaml rule.yaml '/name: households/,/merge:/s/merge: lww/merge: max/'
refused "merge rule changed" "field 'households': its merge rule changes from 'lww' to 'max'" \
	C schema install "$w/rule.yaml"
variant report.yaml order.yaml 's/order: \[draft, reviewed, submitted, received\]/order: [submitted, draft, received]/'
refused "order changed" "field 'status': the states of 'order' must keep their order" C schema install "$w/order.yaml"
variant report.yaml term.yaml 's/terminal: \[adopted, returned\]/terminal: [adopted, returned, received]/'
refused "terminal changed" "state 'received' changes whether it is terminal" C schema install "$w/term.yaml"
variant report.yaml tight.yaml '/name: title/,/merge:/s/max_len: 100/max_len: 2/'
refused "held record breaks" "report record $rep (in commit" C schema install "$w/tight.yaml"
contains "would break version 3: field 'title': max_len"
lacks "四月防控"
refused "ref to a missing ledger" "network_role field 'committee' refers to ledger 'committee', which the network does not have" \
	C schema install "$NEW/network_role.yaml"
variant report.yaml later.yaml 's/^version: 3/version: 3\nlanguage: 2/; s/^    max_len: 100$/    max_len: 100\n    unique: true/'
refused "validity key of a later language" "key 'unique' needs schema language 2, and this vledger reads schema language 1" \
	C schema install "$w/later.yaml"
variant report.yaml typo.yaml 's/^    max_len: 100$/    max_len: 100\n    unique: true/'
refused "unknown key" "unknown key 'unique' (not in schema language 1" C schema install "$w/typo.yaml"
expect 1 "$VLEDGER" schema check "$w/later.yaml"
contains "key 'unique' needs schema language 2"
# One bad file among good ones: nothing at all is installed.
refused "all or nothing" "lower than" C schema install "$NEW/appeal.yaml" "$w/low.yaml"
expect 2 C schema install
expect 2 C schema install --shipped "$NEW/appeal.yaml"

# --- A display-only key this binary does not know: a warning, installed. ---
variant care_tally.yaml ui.yaml 's/^version: 1/version: 1\nui_form: {columns: 2}/'
c0=$(cfg)
expect 0 C schema install "$w/ui.yaml"
contains "key 'ui_form' is not known to this vledger (schema language 1) and is ignored"
contains "installed care_tally version 1 (new ledger)"
[ "$(cfg)" != "$c0" ] && ok || bad "ui key: no config commit"
expect 0 "$VLEDGER" schema check "$w/ui.yaml"
contains "ui_form"
# The same ledger shipped without the key: the same version with other bytes.
refused "shipped after ui" "care_tally: $NEW/care_tally.yaml differs from the network's version 1" C schema install --shipped

# --- The upgrade: a fresh network again would be simpler; here the admin
# raises care_tally's version by installing the shipped set over a copy. ---
mkdir "$w/ship" && cp "$NEW"/*.yaml "$w/ship/"
sed -i 's/^version: 1$/version: 2/' "$w/ship/care_tally.yaml"
c0=$(cfg)
VLEDGER_SCHEMA_DIR=$w/ship expect 0 C schema install --shipped --json
contains '{"name":"report","old_version":2,"version":3,"changed":true}'
contains '{"name":"resident","old_version":1,"version":1,"changed":false}'
contains '{"name":"appeal","old_version":0,"version":1,"changed":true}'
contains '"records_checked":4'
[ "$(git --git-dir "$w/county/repo.git" rev-parse refs/heads/config^)" = "$c0" ] && ok || bad "not one commit on config"
git --git-dir "$w/county/repo.git" log -1 --format=%B refs/heads/config | grep -q '^Vledger-Config: schemas$' && ok || bad "trailer"
expect 0 git --git-dir "$w/county/repo.git" cat-file -p refs/heads/config:schemas/appeal.yaml
VLEDGER_SCHEMA_DIR=$w/ship expect 0 C schema install --shipped
contains "nothing to install"
expect 0 C verify
contains "all good"

# --- The village receives it with config and uses the new ledgers. ---
expect 0 V fetch "$w/county/repo.git"
expect 0 V schema show report
contains "(version 3)"
expect 0 V edit "$rep" --set status=已审核 --set contact_unit=鼓楼社区居委会
expect 0 V add appeal --set appeal_no=500243001001-20220407-001 --set kind=就医需求 --set summary=需要透析 \
	--set contact_phone=13800000009
expect 0 V list appeal
contains "500243001001-20220407-001"
expect 0 V verify
contains "all good"
expect 0 C fetch "$w/village/repo.git"
expect 0 C verify
contains "all good"

echo "schema_install: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
