#!/usr/bin/env bash
# bench/chan.sh - throughput of the secure channel (agent/net/chan.h) over
# loopback: tests/interop/shs_peer as server and client, the server sending
# MB megabytes to the client through box-stream (pattern checked on
# arrival), after one secret handshake. Release build
# (-O2 -DNDEBUG, no sanitizers) in build-bench/. Prints the wall time, the
# throughput and the box-stream wire overhead (34 bytes a 4096-byte
# box: 0.83%). The machines are shared: the figures are provisional.
#   bench/chan.sh [MB]      (default 64)
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-64}
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j2 --target shs_peer >/dev/null
peer=build-bench/tests/shs_peer
K=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
CS=1111111111111111111111111111111111111111111111111111111111111111
SS=2222222222222222222222222222222222222222222222222222222222222222
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bytes=$((mb * 1024 * 1024))
# shs_peer checks the peer key: it prints the public key of a seed
pk() { "$peer" pubkey "$1"; }
CPK=$(pk $CS) SPK=$(pk $SS)
t0=$(date +%s.%N)
"$peer" server $K $SS $CPK $bytes:0 >"$tmp/srv" &
spid=$!
for _ in $(seq 1 100); do port=$(sed -n 's/^port //p' "$tmp/srv"); [ -n "$port" ] && break; sleep 0.05; done
"$peer" client "$port" $K $CS $SPK 0:$bytes >/dev/null
wait $spid
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v m="$mb" 'BEGIN {
	t = b - a
	printf "channel: %d MB in %.2f s (handshake, send, pattern check, goodbye): %.1f MB/s\n", m, t, m / t
	printf "wire overhead: %.2f%% (34-byte header per 4096-byte body)\n", 34 / 4096 * 100 }'
