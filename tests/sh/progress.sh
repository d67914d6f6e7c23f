#!/usr/bin/env bash
# Issue 12: progress of long work on a terminal. Driven through a
# pseudo-terminal (util-linux `script`), import, fetch, bundle apply, sync,
# verify and aggregate draw a counter on stderr; with stderr a pipe or a
# file they write no progress at all. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir progress
command -v script >/dev/null || { echo "skip: util-linux 'script' (a pseudo-terminal) is not installed"; exit 77; }
S=500243001001
C() { "$VLEDGER" -C "$w/county" "$@"; }
V() { "$VLEDGER" -C "$w/v1" "$@"; }
# tty CMD...: run vledger with stdin, stdout and stderr on a pseudo-terminal;
# $out holds what the terminal received.
tty() {
	local cmd=""
	for a in "$VLEDGER" "$@"; do cmd+=" $(printf '%q' "$a")"; done
	out=$(script -qec "$cmd" /dev/null </dev/null 2>&1); local got=$?
	[ "$got" -eq 0 ] && ok || bad "exit $got on a terminal: $* :: $out"
}
# quiet CMD...: run with stderr a file; no progress line (no carriage
# return, no escape, no counter) may appear in it.
quiet() {
	"$VLEDGER" "$@" >"$w/stdout" 2>"$w/stderr" </dev/null || bad "exit $?: $*"
	out=$(cat "$w/stderr")
	case "$out" in *$'\r'*|*$'\033'*) bad "progress written to a file: $* :: $out" ;; *) ok ;; esac
}

gen() { awk -v n="$1" 'BEGIN { print "records:"; for (i = 0; i < n; i++)
	printf "  - {name: 居民%d, residence_kind: registered, address: 地址%d, source: self_report}\n", i, i }'; }
gen 600 > "$w/r.yaml"
expect 0 C init --name County --role county --scope 500243000000 --new-network
expect 0 C export network --output "$w/network.yaml"
expect 0 V init --name V1 --role village --scope $S --network "$w/network.yaml"
expect 0 C roster add --name V1 --role village --scope $S --key "$(V key | head -1)"
expect 0 V fetch "$w/county/repo.git"

# import: the counter climbs by batches to the total.
tty -C "$w/v1" import resident --file "$w/r.yaml" --batch 100
contains 'import 0/600'; contains 'import 600/600'; contains 'imported 600 resident records'
quiet -C "$w/v1" import resident --file "$w/r.yaml" --batch 100
lacks 'import '; [ -z "$out" ] && ok || bad "import wrote to stderr off a terminal: $out"

# fetch: the receive path's stages.
cp -a "$w/county" "$w/county0"
cp -a "$w/county" "$w/countyS"; cp -a "$w/county" "$w/countyQ"   # for sync, below
tty -C "$w/county" fetch "$w/v1/repo.git"
contains 'scopes '; contains 'refs ...'
quiet -C "$w/county0" fetch "$w/v1/repo.git"
lacks 'scopes '

# bundle apply.
mkdir "$w/usb"
expect 0 V bundle create "$w/usb/v1.bundle" --for County
cp -a "$w/county0" "$w/county1"
tty -C "$w/county0" bundle apply "$w/usb/v1.bundle"
contains 'bundle 0/1'
quiet -C "$w/county1" bundle apply "$w/usb/v1.bundle"
lacks 'bundle 0/1'

# sync: objects counted as the chunks arrive (a `serve` of v1 on loopback).
"$VLEDGER" -C "$w/v1" serve --listen 127.0.0.1:0 >"$w/serve.out" 2>"$w/serve.err" &
spid=$!
trap 'kill $spid 2>/dev/null; wait 2>/dev/null; rm -rf "$w"' EXIT
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$w/serve.out" 2>/dev/null)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] && ok || bad "serve did not start: $(cat "$w/serve.err")"
tty -C "$w/countyS" sync 127.0.0.1:$port
contains 'pull 1/3'; grep -qE 'receive [1-9][0-9]+' <<<"$out" && ok || bad "no receive counter: $out"
quiet -C "$w/countyQ" sync 127.0.0.1:$port
lacks 'receive '; lacks 'pull 1/3'
kill $spid; wait $spid 2>/dev/null

# verify (its own line, audit/verify.c) and aggregate.
tty -C "$w/county" verify
contains $'\r'
quiet -C "$w/county" verify
tty -C "$w/county" aggregate --no-cache
contains 'aggregate '
quiet -C "$w/county" aggregate --no-cache
lacks 'aggregate '

echo "progress: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
