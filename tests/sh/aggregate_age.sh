#!/usr/bin/env bash
# Open supply requests by age (issue 11, "supply requests by stage and
# age"): computed at run time against --as-of (the end of that day in the
# network's time zone, +08:00 by default), never cached. Requests with known
# requested_at and statuses in two villages; the buckets (< 1 day, 1-3, 3-7,
# >= 7 days, lower bounds inclusive) checked per village and rolled up to
# township and county in --format json, and in the HTML page as headless
# Chromium parsed it. Delivered and cancelled requests are not counted.
# Exit 77 (after the JSON checks) only when chromium cannot run here.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir aggregate_age
C() { "$VLEDGER" -C "$w/c" "$@"; }
T1=500243001000; V1=500243001001; V3=500243002001

expect 0 C init --name 县 --role county --scope 500243000000 --new-network
req() { # VILLAGE SEQ REQUESTED_AT STATUS
	expect 0 C add supply_request --scope "$1" --set request_no="$1-20220401-$2" --set reason=immobile \
		--set address=一组 --set contact_name=联系人 --set contact_phone=13800138000 \
		--set "items=[{name: 大米, qty: 1, unit: 袋}]" --set requested_at="$3" --set status="$4"
}
# --as-of 2022-04-10 is 2022-04-11 00:00 +08:00 = 2022-04-10T16:00:00Z.
req $V1 001 2022-04-09T20:00:00Z registered   # 20 h: < 1 day (28 h, 1-3 days, if judged in UTC)
req $V1 002 2022-04-09T16:00:00Z purchased    # exactly 1 day: 1-3 days
req $V1 003 2022-04-06T00:00:00Z delivering   # 4 d 16 h: 3-7 days
req $V1 004 2022-04-05T00:00:00Z delivered    # done: not counted
req $V3 005 2022-04-01T00:00:00Z registered   # 9 d 16 h: >= 7 days
req $V3 006 2022-04-03T16:00:00Z registered   # exactly 7 days: >= 7 days
req $V3 007 2022-04-02T00:00:00Z cancelled    # done: not counted

# Two plain runs: the second prunes bucket entries the first wrote.
expect 0 C aggregate --format table
expect 0 C aggregate --format table
cp "$w/c/cache/aggregate.v1" "$w/cache.before"
# Plain JSON leaves the ages out (a re-run reads only what changed); --ages asks.
expect 0 C aggregate --format json
[ "$(printf '%s' "$out" | jq '[.units[] | select(has("open_requests_by_age"))] | length')" = 0 ] && ok || bad "plain json computed the ages"
expect 0 C aggregate --format json --ages
[ "$(printf '%s' "$out" | jq '[.units[] | select(has("open_requests_by_age"))] | length')" != 0 ] && ok || bad "--ages gave no ages"
expect 0 C aggregate --format json --as-of 2022-04-10
json=$out
# Never cached: the age runs add no entry to the aggregate cache.
cmp -s "$w/c/cache/aggregate.v1" "$w/cache.before" && ok || bad "the request ages went into the cache"
age() { printf '%s' "$json" | jq -c --arg c "$1" '.units[] | select(.code == $c) | .open_requests_by_age'; }
[ "$(printf '%s' "$json" | jq -r .open_requests_age_now)" = 2022-04-10T16:00:00Z ] && ok || bad "as-of: $json"
[ "$(age $V1)" = '{"lt1d":1,"1d_3d":1,"3d_7d":1,"ge7d":0}' ] && ok || bad "village $V1: $(age $V1)"
[ "$(age $V3)" = '{"lt1d":0,"1d_3d":0,"3d_7d":0,"ge7d":2}' ] && ok || bad "village $V3: $(age $V3)"
[ "$(age $T1)" = '{"lt1d":1,"1d_3d":1,"3d_7d":1,"ge7d":0}' ] && ok || bad "township $T1: $(age $T1)"
[ "$(age 500243000000)" = '{"lt1d":1,"1d_3d":1,"3d_7d":1,"ge7d":2}' ] && ok || bad "county: $(age 500243000000)"
# The cached figures are unchanged by it: the schema's own count of open ones.
[ "$(printf '%s' "$json" | jq -r '.units[] | select(.code == "500243000000") | .figures["supply_request.open"]')" = 5 ] \
	&& ok || bad "open requests: $json"
# A later day moves requests up the buckets: now is the run's, not cached.
expect 0 C aggregate --format json --as-of 2022-04-12
json=$out
[ "$(age 500243000000)" = '{"lt1d":0,"1d_3d":1,"3d_7d":2,"ge7d":2}' ] && ok || bad "county on 04-12: $(age 500243000000)"
expect 2 C aggregate --format json --as-of 2022-02-30
contains "--as-of takes a date"
expect 2 C aggregate --format json --as-of yesterday
expect 2 C aggregate --publish --as-of 2022-04-10
contains "--as-of dates the open requests"

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "$passes passed, $fails failed; SKIP the page: chromium is not installed (scripts/install-deps.sh installs it)"
	[ "$fails" -eq 0 ] && exit 77 || exit 1
fi
expect 0 C aggregate --format html --as-of 2022-04-10 --output "$w/o.html"
out=$(cd "$w" && timeout 120 "$browser" --headless --no-sandbox --disable-gpu --dump-dom "file://$w/o.html" 2>/dev/null)
if [ -z "$out" ]; then
	echo "$passes passed, $fails failed; SKIP the page: chromium is installed but cannot run headless here"
	[ "$fails" -eq 0 ] && exit 77 || exit 1
fi
dom=$out
contains "未办结物资需求（按等待时长）"
contains "截至 2022-04-11 00:00:00 +08:00"
# The county's row, then a township's: < 1 day, 1-3, 3-7, >= 7 days.
sec=$(printf '%s' "$dom" | tr -d '\n' | grep -o '<section id="open-requests-by-age">.*' | sed 's#</section>.*##')
[[ "$sec" =~ \<td\>500243000000\</td\>\<td\>[^\<]*\</td\>\<td\ class=\"n\"\>1\</td\>\<td\ class=\"n\"\>1\</td\>\<td\ class=\"n\"\>1\</td\>\<td\ class=\"n\"\>2\</td\> ]] \
	&& ok || bad "county row: $sec"
[[ "$sec" =~ \<td\>$T1\</td\>\<td\>[^\<]*\</td\>\<td\ class=\"n\"\>1\</td\>\<td\ class=\"n\"\>1\</td\>\<td\ class=\"n\"\>1\</td\>\<td\ class=\"n\"\>0\</td\> ]] \
	&& ok || bad "township row: $sec"
# The chart: the county's 2 waiting 7 days or more.
[[ "$sec" =~ 7天以上\</text\>\<rect[^\>]*\>\</rect\>\<text[^\>]*\>2\</text\> ]] && ok || bad "chart: $sec"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
