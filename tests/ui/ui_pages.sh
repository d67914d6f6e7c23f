#!/usr/bin/env bash
# ui_pages.sh - the UI's forms, conflicts and sync pages in real headless
# Chromium (puppeteer-core, as ui_browser.sh sets it up), on a village node
# whose county is a second home: add a resident through the form (a wrong
# ID number first: the message beside the field, the repository byte for
# byte unchanged), find it in the filtered list, edit it, resolve a
# conflict the county made (a real `vledger fetch` between the two homes),
# see the history, the sync page lists the county and syncs with its
# running `vledger serve`; a POST without the CSRF token is refused and
# changes nothing. Then, over curl, the county's own UI: the aggregate and
# report pages. Screenshots: $UI_DIR/screenshots/pages-*.png.
# Exit 77 (skipped, with the reason) when node, npm, the npm install or
# chromium are missing.
# Environment (tests/CMakeLists.txt): VLEDGER, VL_SOURCE_DIR, UI_SRC, UI_DIR.
source "${VL_SOURCE_DIR:?}/tests/sh/lib/common.bash"
source "${UI_SRC:?}/lib.sh"
ui_setup curl

vl_workdir ui_pages
V=500243001001
C() { "$VLEDGER" -C "$w/county" "$@"; }
G() { "$VLEDGER" -C "$w/village" "$@"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$w"; }
trap cleanup EXIT

# --- two homes: a county and a village of it ---------------------------------------
expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network
expect 0 C export network --output "$w/net.yaml"
expect 0 G init --name 鼓楼社区 --role village --scope $V --network "$w/net.yaml"
expect 0 G key
key=$(printf '%s\n' "$out" | head -1)
expect 0 C roster add --name 鼓楼社区 --role village --scope $V --key "$key"
expect 0 G fetch "$w/county/repo.git"
for n in 张一 张二 张三; do expect 0 G add resident --set "name=$n" --set residence_kind=registered \
	--set address=某村一组 --set source=worker_survey --set grid=网格一; done
expect 0 G add resident --set name=王秀英 --set residence_kind=registered --set address=某村二组 \
	--set source=self_report --set id_number=110101195003010010
RID=$(printf '%s' "$out" | tail -1)
# a conflict made by the second node: both change the ID number (merge: manual)
expect 0 C fetch "$w/village/repo.git"
expect 0 C edit "$RID" --set id_number=110101195003010029
expect 0 G edit "$RID" --set id_number=110101195003010037
expect 3 G fetch "$w/county/repo.git"
contains "1 fields left for a person"

# --- the county serves; the village knows it as a peer -------------------------------------
"$VLEDGER" -C "$w/county" serve --listen 127.0.0.1:0 >"$w/serve.out" 2>"$w/serve.err" &
pids+=($!)
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$w/serve.out" 2>/dev/null)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] && ok || bad "serve did not start: $(cat "$w/serve.err")"
expect 0 G peer add county 127.0.0.1:$port --key "$(C key | sed -n 2p | awk '{print $1}')"

# start_ui HOME LOG: vledger ui on a free port; $url from its first line
start_ui() {
	: > "$w/url"
	"$VLEDGER" -C "$1" ui --no-open > "$w/url" 2> "$2" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$w/url" ] && break; sleep 0.1; done
	url=$(head -1 "$w/url")
}
start_ui "$w/village" "$w/ui.log"
case "$url" in http://127.0.0.1:*/?token=*) ok ;; *) bad "first line is not the URL: '$url'" ;; esac
if timeout 200 node "$UI_SRC/ui_pages.js" "$url" "$UI_DIR/screenshots" "$w/village" "$RID"; then ok; else
	bad "the browser checks"; fi
# what the browser did, seen from the command line
expect 0 G conflicts
contains "0 fields left for a person"
expect 0 G list resident --where grid=网格八 --json
contains '"id"'
expect 0 G verify
out=$(cat "$w/ui.log"); lacks "王秀英"; lacks "110101"; lacks "token="
# the county received the village's resolution through the sync page's "sync now"
expect 0 C show "$RID" --reveal
contains "110101195003010037"

# --- the county's own UI: figures by unit and the report tracker (curl) ------------------
start_ui "$w/county" "$w/ui2.log"
base=${url%%/\?token=*}
curl -s -c "$w/jar" -o /dev/null "$url"
code() { curl -s -b "$w/jar" -o "$w/body" -w '%{http_code}' "$@"; }
[ "$(code "$base/aggregate")" = 200 ] && ok || bad "county /aggregate not 200"
out=$(cat "$w/body"); contains "常住人口数"; contains "鼓楼社区"; contains "$V"
[ "$(code "$base/reports")" = 200 ] && ok || bad "county /reports not 200"
echo "screenshots: $UI_DIR/screenshots"
echo "ui_pages: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
