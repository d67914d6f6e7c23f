#!/usr/bin/env bash
# vledger ui: the security rules of docs/ui.md over real HTTP on loopback
# (curl): no session or a wrong token -> 403; a wrong Host header -> 421;
# a POST without or with a wrong CSRF token -> 403 and the node home
# byte-for-byte unchanged; an oversized body -> 413 (by Content-Length and
# chunked); too many headers -> 431; a non-loopback --listen without
# --allow-remote -> refused before listening; every response carries the
# security headers; the log names method, path and status only; the CLI
# writes beside a running UI; a sealed key is unlocked on /unlock.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir ui
command -v curl >/dev/null || { echo "SKIP: curl is not installed (scripts/install-deps.sh installs it)"; exit 77; }
C() { "$VLEDGER" -C "$w/c" "$@"; }

expect 0 C init --name 县 --role county --scope 500243000000 --new-network
expect 0 C add resident --scope 500243001001 --set 'name=<script>alert(1)</script>' --set residence_kind=registered \
	--set address=秘密地址 --set source=worker_survey
ID=$(C list resident --json | sed -n 's/.*"id": *"\([0-9a-z]*\)".*/\1/p' | head -1)

# --- refused before listening ------------------------------------------------
expect 1 C ui --no-open --listen 10.1.2.3:0
contains "not a loopback address"
contains "--allow-remote"
expect 1 C ui --no-open --listen 0.0.0.0:0 --allow-remote
contains "every address"
expect 1 C ui --no-open --listen nonsense
contains "ADDRESS:PORT"

# --- start -----------------------------------------------------------------------
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$w"; }
trap cleanup EXIT
# start_ui HOME LOG [ARGS]: start vledger ui, set $url $base $port from its first line
start_ui() {
	local home=$1 log=$2; shift 2
	: > "$w/url"
	"$VLEDGER" -C "$home" ui --no-open "$@" > "$w/url" 2> "$log" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$w/url" ] && break; sleep 0.1; done
	url=$(head -1 "$w/url")
	port=$(printf '%s' "$url" | sed -n 's|^http://127\.0\.0\.1:\([0-9]*\)/?token=[0-9a-f]\{64\}$|\1|p')
	base=http://127.0.0.1:$port
}
start_ui "$w/c" "$w/log"
if [ -n "$port" ]; then ok; else bad "first line is not the token URL: '$url'"; fi
snapshot() { (cd "$w/c" && find . -type f ! -name lock -exec sha256sum {} + | sort); }

# --- session -------------------------------------------------------------------------
code() { curl -s -o "$w/body" -w '%{http_code}' "$@"; }
[ "$(code "$base/")" = 403 ] && ok || bad "no session: not 403"
[ "$(code "$base/ledger/resident")" = 403 ] && ok || bad "no session: list not 403"
[ "$(code "$base/record/$ID")" = 403 ] && ok || bad "no session: record not 403"
grep -q 'script' "$w/body" && bad "a refused page shows data" || ok
[ "$(code "$base/?token=$(printf '0%.0s' $(seq 64))")" = 403 ] && ok || bad "wrong token: not 403"
[ "$(code "$base/?token=short")" = 403 ] && ok || bad "short token: not 403"
# the right token: 303 to the same path without it, the session cookie set
out=$(curl -s -D - -o /dev/null -c "$w/jar" "$url")
contains "303"
contains "Location: /"$'\r'
contains "HttpOnly"
contains "SameSite=Strict"
contains "Path=/"
lacks "token="
J=(-b "$w/jar")
[ "$(code "${J[@]}" "$base/")" = 200 ] && ok || bad "with the session: / not 200"
out=$(cat "$w/body"); contains "常住人口"
# another server's cookie (another port) is not this one's session
[ "$(code -H "Cookie: vledger_$port=$(printf 'a%.0s' $(seq 64))" "$base/")" = 403 ] && ok || bad "forged cookie: not 403"

# --- Host header (DNS rebinding) -----------------------------------------------------
[ "$(code "${J[@]}" -H "Host: evil.example:$port" "$base/")" = 421 ] && ok || bad "wrong Host: not 421"
[ "$(code "${J[@]}" -H "Host: 127.0.0.1:1" "$base/")" = 421 ] && ok || bad "wrong port in Host: not 421"
# (curl picks cookies by the Host header: give the session cookie itself)
sess=$(awk -v n="vledger_$port" '$6 == n { print $7 }' "$w/jar")
[ ${#sess} = 64 ] && ok || bad "no session cookie in the jar"
[ "$(code -H "Cookie: vledger_$port=$sess" -H "Host: localhost:$port" "$base/")" = 200 ] && ok ||
	bad "localhost Host: not 200"

# --- security headers ------------------------------------------------------------------
out=$(curl -s -D - -o /dev/null "${J[@]}" "$base/ledger/resident")
contains "Content-Security-Policy: default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"
contains "X-Content-Type-Options: nosniff"
contains "Referrer-Policy: no-referrer"
contains "Cache-Control: no-store"

# --- CSRF: a POST without or with a wrong token changes nothing -------------------------
before=$(snapshot)
[ "$(code "${J[@]}" -d "field=name" "$base/record/$ID/reveal")" = 403 ] && ok || bad "POST without csrf: not 403"
[ "$(code "${J[@]}" -d "csrf=$(printf 'b%.0s' $(seq 64))&field=name" "$base/record/$ID/reveal")" = 403 ] && ok ||
	bad "POST with a wrong csrf: not 403"
grep -q 'script' "$w/body" && bad "a refused reveal shows the value" || ok
[ "$(code "${J[@]}" -H 'Content-Type: text/plain' --data-binary "csrf=x&field=name" "$base/record/$ID/reveal")" = 400 ] &&
	ok || bad "POST not urlencoded: not 400"
[ "$(code "${J[@]}" "$base/record/$ID/reveal")" = 405 ] && ok || bad "GET of a POST route: not 405"
[ "$(snapshot)" = "$before" ] && ok || bad "a refused POST changed the node home"
[ -e "$w/c/log/reveal.log" ] && bad "reveal.log written by a refused POST" || ok
# with the form's token: the value shown (escaped), the reveal logged first
curl -s "${J[@]}" "$base/record/$ID" > "$w/page"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$w/page" | head -1)
[ ${#csrf} = 64 ] && ok || bad "no csrf field on the record page"
out=$(cat "$w/page"); lacks "<script>alert"; lacks "alert(1)"; lacks "秘密地址"; contains "***"
[ "$(code "${J[@]}" -d "csrf=$csrf&field=name" "$base/record/$ID/reveal")" = 200 ] && ok || bad "reveal: not 200"
out=$(cat "$w/body"); contains "&lt;script&gt;alert(1)&lt;/script&gt;"; lacks "<script>alert"; lacks "秘密地址"
out=$(cat "$w/c/log/reveal.log"); contains '"command":"ui show"'; contains "$ID"; lacks "alert"
[ "$(code "${J[@]}" -d "csrf=$csrf&field=residence_kind" "$base/record/$ID/reveal")" = 400 ] && ok ||
	bad "reveal of a field that is not personal: not 400"

# --- caps ---------------------------------------------------------------------------------
head -c 300000 /dev/zero | tr '\0' a > "$w/big"
[ "$(code "${J[@]}" --data-binary @"$w/big" "$base/record/$ID/reveal")" = 413 ] && ok || bad "big body: not 413"
[ "$(code "${J[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$w/big" "$base/record/$ID/reveal")" = 413 ] && ok ||
	bad "big chunked body: not 413"
hdrs=(); for i in $(seq 80); do hdrs+=(-H "X-Pad-$i: $i"); done
[ "$(code "${J[@]}" "${hdrs[@]}" "$base/")" = 431 ] && ok || bad "80 headers: not 431"
[ "$(code "${J[@]}" "$base/ledger/resident?where=$(head -c 5000 /dev/zero | tr '\0' a)")" = 414 ] && ok ||
	bad "long URI: not 414"

# --- pages --------------------------------------------------------------------------------
[ "$(code "${J[@]}" "$base/nope")" = 404 ] && ok || bad "unknown page: not 404"
[ "$(code "${J[@]}" "$base/ledger/nosuch")" = 404 ] && ok || bad "unknown ledger: not 404"
[ "$(code "${J[@]}" "$base/record/01aaaaaaaaaaaaaaaaaaaaaaaa")" = 404 ] && ok || bad "unknown record: not 404"
[ "$(code "${J[@]}" -X DELETE "$base/")" = 405 ] && ok || bad "DELETE: not 405"
[ "$(code "${J[@]}" "$base/ledger/resident?where=nosuch%3D1")" = 400 ] && ok || bad "bad filter: not 400"
out=$(cat "$w/body"); contains "nosuch"; contains 'value="nosuch=1"'
[ "$(code "${J[@]}" "$base/ledger/resident?page=x")" = 400 ] && ok || bad "bad page: not 400"
[ "$(code "${J[@]}" -H 'Accept-Language: en-US,en;q=0.9,zh;q=0.5' "$base/")" = 200 ] && ok
out=$(cat "$w/body"); contains '<html lang="en">'
code "${J[@]}" -H 'Accept-Language: zh-CN,zh;q=0.9,en;q=0.8' "$base/" >/dev/null
out=$(cat "$w/body"); contains '<html lang="zh-CN">'; contains "台账"

# the links and notices the form pages use (helper uipages)
code "${J[@]}" "$base/ledger/resident" >/dev/null
out=$(cat "$w/body"); contains 'href="/ledger/resident/new"'
code "${J[@]}" "$base/" >/dev/null
out=$(cat "$w/body"); contains 'href="/aggregate"'; contains 'href="/reports"'
code "${J[@]}" "$base/record/$ID?done=added&dup=%3Cb%3E" >/dev/null
out=$(cat "$w/body"); contains 'class="notice"'; contains "The record was added."; contains 'href="/record/%3Cb%3E">&lt;b&gt;</a>'
contains "href=\"/record/$ID/edit\""
code "${J[@]}" "$base/record/$ID?done=bogus" >/dev/null
out=$(cat "$w/body"); lacks 'class="notice"'

# --- the CLI writes beside a running UI (no lock held between requests) --------------------
expect 0 C add resident --scope 500243001001 --set name=第二 --set residence_kind=registered --set address=y \
	--set source=worker_survey
code "${J[@]}" "$base/ledger/resident" >/dev/null
out=$(cat "$w/body"); contains "2 "

# --- the log: method, path, status; never a value, a token or a query -----------------------
out=$(cat "$w/log")
contains "vledger ui: GET /ledger/resident 200"
contains "vledger ui: POST /record/$ID/reveal 403"
lacks "alert"; lacks "token"; lacks "秘密"; lacks "where"; lacks "$csrf"

# --- a sealed key: writes wait for /unlock; a wrong passphrase leaves it locked --------------
printf 'correct horse\n' > "$w/pass"
expect 0 "$VLEDGER" -C "$w/s" init --name 县2 --role county --scope 500243000000 --new-network --passphrase-file "$w/pass"
start_ui "$w/s" "$w/slog"
curl -s -o /dev/null -c "$w/sjar" "$url"
S=(-b "$w/sjar")
[ "$(code "${S[@]}" "$base/unlock")" = 200 ] && ok || bad "unlock page: not 200"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$w/body" | head -1)
out=$(cat "$w/body"); contains 'type="password"'
[ "$(code "${S[@]}" -d "passphrase=wrong" "$base/unlock")" = 403 ] && ok || bad "unlock without csrf: not 403"
[ "$(code "${S[@]}" -d "csrf=$csrf&passphrase=wrong" "$base/unlock")" = 403 ] && ok || bad "wrong passphrase: not 403"
out=$(cat "$w/body"); contains 'type="password"'
[ "$(code "${S[@]}" -d "csrf=$csrf&passphrase=correct+horse" "$base/unlock")" = 303 ] && ok || bad "unlock: not 303"
code "${S[@]}" "$base/unlock" >/dev/null
out=$(cat "$w/body"); lacks 'type="password"'
out=$(cat "$w/slog"); lacks "correct"; lacks "horse"; contains "POST /unlock 303"

echo "ui: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
