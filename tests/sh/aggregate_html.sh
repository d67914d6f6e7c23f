#!/usr/bin/env bash
# vledger aggregate --format html rendered in headless Chromium (Debian's
# chromium, scripts/install-deps.sh): the page is one self-contained file
# (no external resource, no script), its text holds the expected figures and
# Chinese labels after the browser parsed it, and text from the division
# table is escaped (a name with markup stays text), and with a report call
# held the report tracker (reported / missing per village, contacts masked)
# is part of the page. The screenshot is kept
# as an artefact: $VL_BUILD_DIR/tests/aggregate-overview.png.
# Exit 77 (skipped, with the reason) only when chromium cannot run here.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir aggregate_html
C() { "$VLEDGER" -C "$w/c" "$@"; }
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "SKIP: chromium is not installed (scripts/install-deps.sh installs it)"; exit 77
fi
if ! timeout 60 "$browser" --headless --no-sandbox --disable-gpu --dump-dom "data:text/html,<p>ok</p>" 2>/dev/null | grep -q '<p>ok</p>'; then
	echo "SKIP: chromium is installed but cannot run headless here"; exit 77
fi

expect 0 C init --name 县 --role county --scope 500243000000 --new-network
# A division table whose village name carries markup: it must stay text.
{ head -1 "$VL_DATA_DIR/divisions/pengshui_divisions.csv"
  grep -E '^500243(000000|001000|002000),' "$VL_DATA_DIR/divisions/pengshui_divisions.csv"
  echo '500243001001,<b id=x>鼓楼&amp;社区</b>,village,500243001000'
  grep -E '^500243(001002|002001),' "$VL_DATA_DIR/divisions/pengshui_divisions.csv"; } > div.csv
for i in 1 2 3; do
	expect 0 C add resident --scope 500243001001 --set name=甲$i --set residence_kind=registered --set address=x \
		--set source=worker_survey --set tags=elderly_alone
done
for i in 1 2 3 4 5 6 7; do
	expect 0 C add resident --scope 500243002001 --set name=乙$i --set residence_kind=migrant --set address=y \
		--set source=self_report
done
expect 0 C add zone --scope 500243002001 --set zone_no=Z1 --set designation=sealed --set area=一组 --set status=active \
	--set households=12 --set residents=40 --set "announced_at=2022-04-07 09:00+08:00"
expect 0 C add worker_care --scope 500243001001 --set worker_name=王 --set post=网格员 --set duty_status=resting
# Without report calls the page has no tracker section.
expect 0 C aggregate --format html --divisions div.csv --output "$w/n.html"
out=$(cat "$w/n.html"); lacks "报送情况"
# A call to all villages of 汉葭街道, answered on time by 鼓楼 (…001) only;
# 石嘴 (…002) has no branch here and is listed missing from the table.
expect 0 C add report_call --scope 500243001000 --set title=春季走访报送 --set kind=any --set deadline=2026-01-10 \
	--set all_villages_of=500243001000 --set contact_name=联络员 --set contact_phone=13900000009
call=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
expect 0 C add report --scope 500243001001 --set title=走访材料 --set kind=typical_experience --set contact_name=联络人甲 \
	--set contact_phone=13800000011 --set target_level=township --set deadline=2026-01-10 --set status=submitted \
	--set submitted_at=2026-01-09T08:00:00Z --set call="$call"
expect 0 C aggregate --format html --divisions div.csv --output "$w/o.html"
html=$(cat "$w/o.html")
case "$html" in *"src="*|*"href="*|*"<script"*|*"@import"*|*"url("*) bad "the page refers to something outside it" ;; *) ok ;; esac
# The township's page lists its villages, one of them named with markup.
expect 0 C aggregate --format html --divisions div.csv --scope 500243001000 --output "$w/t.html"
case "$(cat "$w/t.html")" in *'&lt;b id=x&gt;鼓楼&amp;amp;社区&lt;/b&gt;'*) ok ;; *) bad "a division name is not escaped" ;; esac

art=${VL_BUILD_DIR:-$w}/tests
mkdir -p "$art"
dom=$(cd "$w" && timeout 120 "$browser" --headless --no-sandbox --disable-gpu --dump-dom "file://$w/o.html" 2>/dev/null)
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,2400 \
	--screenshot="$art/aggregate-overview.png" "file://$w/o.html" >/dev/null 2>&1
[ -s "$art/aggregate-overview.png" ] && ok || bad "no screenshot"
[ "$(head -c 8 "$art/aggregate-overview.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && ok || bad "the screenshot is not a PNG"
out=$dom
contains "彭水苗族土家族自治县 汇总报告"
contains "各单位概况"; contains "重点人群"; contains "生效区域（按类别）"; contains "工作人员关爱（按状态）"
# The township rows: 汉葭街道 3 residents, 3 elderly living alone; 绍庆街道 7 residents, 1 sealed zone.
[[ "$dom" =~ 汉葭街道[^\<]*\</td\>\<td\>[^\<]*\</td\>\<td\ class=\"n\"\>3\</td\>\<td\ class=\"n\"\>3\</td\> ]] && ok || bad "汉葭街道 row: $(printf '%s' "$dom" | grep -o '汉葭街道.\{0,200\}')"
[[ "$dom" =~ 绍庆街道[^\<]*\</td\>\<td\>[^\<]*\</td\>\<td\ class=\"n\"\>7\</td\> ]] && ok || bad "绍庆街道 row"
# Charts: the county's residents (10) and the sealed zones (1) as bar values.
contains 'class="v">10</text>'
contains '封控区</text>'
# Escaped markup is text in the DOM, not an element.
out=$(cd "$w" && timeout 120 "$browser" --headless --no-sandbox --disable-gpu --dump-dom "file://$w/t.html" 2>/dev/null)
lacks '<b id="x">'
contains '&lt;b id=x&gt;鼓楼&amp;amp;社区&lt;/b&gt;'
out=$dom
# The freshness warning: of the table's villages only two hold branches.
contains "数据不完整"
# The report tracker, as the browser parsed it: the call, its counts, the
# on-time village, the missing one named from the table, the contact masked.
contains "报送情况"; contains "春季走访报送"; contains "$call"
contains "截止 2026-01-10：按时报送 1，逾期报送 0，未报送 1，未到期 0"
[[ "$dom" =~ \<td\>500243001001\</td\>\<td\>[^\<]*\</td\>\<td\>按时报送\</td\> ]] && ok || bad "鼓楼 not reported: $(printf '%s' "$dom" | grep -o '<td>500243001001</td>.\{0,120\}')"
[[ "$dom" =~ \<td\>500243001002\</td\>\<td\>石嘴社区居委会\</td\>\<td\>未报送（未收到该单位数据）\</td\> ]] && ok || bad "石嘴 not missing: $(printf '%s' "$dom" | grep -o '<td>500243001002</td>.\{0,120\}')"
contains '138****0011'; lacks 13800000011; lacks 联络人甲

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
