#!/usr/bin/env bash
# ui_browser.sh - `vledger ui` in real headless Chromium (Debian's chromium,
# driven over the DevTools protocol by puppeteer-core, pinned in
# package.json / package-lock.json and installed with `npm ci` into the
# build tree on first run): open the token URL, see the ledgers, filter a
# village's list with the --where box, open a record (values masked), reveal
# one (logged in log/reveal.log), a value <script>alert(1)</script> shown as
# text with no dialog, English under an English locale, a 404 page; no
# request leaves the server, no CSP violation. Screenshots of each page:
# $UI_DIR/screenshots/*.png (the build tree's tests/ui/screenshots/).
# Exit 77 (skipped, with the reason) when node, npm, the npm install or
# chromium are missing.
# Environment (tests/CMakeLists.txt): VLEDGER, VL_SOURCE_DIR, UI_SRC (this
# directory), UI_DIR (a build-tree directory).
source "${VL_SOURCE_DIR:?}/tests/sh/lib/common.bash"
source "${UI_SRC:?}/lib.sh"
ui_setup

vl_workdir ui_browser
C() { "$VLEDGER" -C "$w/c" "$@"; }
expect 0 C init --name 县 --role county --scope 500243000000 --new-network
V=500243001001
add() { expect 0 C add resident --scope $V --set "name=$1" --set "residence_kind=$2" --set address=某村一组 \
	--set source=worker_survey; }
add '<script>alert(1)</script>' registered
XSS=$(printf '%s' "$out" | tail -1)
for i in 1 2 3 4; do add 张$i registered; done
add 李一 migrant
add 李二 migrant
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$w"' EXIT
"$VLEDGER" -C "$w/c" ui --no-open > "$w/url" 2> "$w/log" &
pid=$!
for _ in $(seq 100); do [ -s "$w/url" ] && break; sleep 0.1; done
url=$(head -1 "$w/url")
case "$url" in http://127.0.0.1:*/?token=*) ok ;; *) bad "first line is not the URL: '$url'" ;; esac
if timeout 120 node "$UI_SRC/ui_browser.js" "$url" "$UI_DIR/screenshots" "$XSS"; then ok; else bad "the browser checks"; fi
out=$(cat "$w/c/log/reveal.log" 2>/dev/null); contains '"command":"ui show"'; contains "$XSS"; lacks "alert"
out=$(cat "$w/log"); lacks "alert"; lacks "token="; lacks "张"
echo "screenshots: $UI_DIR/screenshots"
echo "ui_browser: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
