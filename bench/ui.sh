#!/usr/bin/env bash
# bench/ui.sh - the web UI's list page in the browser (issue 13): the
# /ledger/resident page of a 3,000-record village (first page of 100 rows,
# the server listing all 3,000 to count and page them), timed in Debian's
# chromium from navigation start to the load event (puppeteer-core, the
# tests/ui/ pin). Target: under a second.
# Baseline in the same run: the same page's HTML (and /ui.css), saved to
# disk and served as static files by python3's http.server, loaded by the
# same browser: what the browser alone costs for that page.
#
#   bench/ui.sh [--records N] [--runs N]      # defaults 3000, 7; about a minute
#
# Builds vledger in Release into build-bench/ (as bench/run.sh does), works
# in a temporary directory, prints medians and the ratio as Markdown.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
records=3000 runs=7
while [ $# -gt 0 ]; do
	case $1 in
	--records) records=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	*) echo "usage: bench/ui.sh [--records N] [--runs N]" >&2; exit 2 ;;
	esac
done
for t in node npm chromium curl python3; do
	command -v $t >/dev/null || { echo "bench/ui.sh needs $t (scripts/install-deps.sh)" >&2; exit 1; }
done
build=$root/build-bench
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target vledger >/dev/null
VLEDGER=$build/agent/vledger
export VLEDGER_SCHEMA_DIR=$root/schemas LANGUAGE= LC_ALL=C.UTF-8
unset VLEDGER_HOME VLEDGER_PASSPHRASE_FILE VLEDGER_OPERATOR
nm=$build/tests/ui
mkdir -p "$nm"
if ! cmp -s "$root/tests/ui/package-lock.json" "$nm/package-lock.json" || [ ! -d "$nm/node_modules/puppeteer-core" ]; then
	cp "$root/tests/ui/package.json" "$root/tests/ui/package-lock.json" "$nm/"
	(cd "$nm" && npm ci --no-audit --no-fund >npm.log 2>&1)
fi
export NODE_PATH=$nm/node_modules

w=$(mktemp -d /tmp/vlbench-ui.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$w"' EXIT
"$VLEDGER" -C "$w/c" init --name 县 --role county --scope 500243000000 --new-network >/dev/null
{
	echo "name,residence_kind,address,source,gender"
	for i in $(seq "$records"); do
		k=registered; [ $((i % 5)) = 0 ] && k=migrant
		g=male; [ $((i % 2)) = 0 ] && g=female
		echo "居民$i,$k,某村$((i % 12 + 1))组$i号,worker_survey,$g"
	done
} > "$w/r.csv"
"$VLEDGER" -C "$w/c" import resident --scope 500243001001 --file "$w/r.csv" >/dev/null
"$VLEDGER" -C "$w/c" ui --no-open > "$w/url" 2> "$w/log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$w/url" ] && break; sleep 0.1; done
url=$(head -1 "$w/url")
base=${url%%/\?token=*}
# the baseline: the same page saved, served as static files
mkdir -p "$w/static"
curl -s -c "$w/jar" -o /dev/null "$url"
curl -s -b "$w/jar" -H 'Accept-Language: zh-CN' -o "$w/static/resident.html" "$base/ledger/resident"
curl -s -b "$w/jar" -o "$w/static/ui.css" "$base/ui.css"
curl -s -b "$w/jar" -o "$w/static/ui.js" "$base/ui.js"
rows=$(grep -c '<tr><td><a href="/record/' "$w/static/resident.html" || true)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$w/static" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/resident.html" && break; sleep 0.1; done
json=$(node "$root/bench/ui.js" "$url" "http://127.0.0.1:$port/resident.html" "$runs")
read -r ui st <<<"$(python3 -c '
import json,statistics,sys
d=json.loads(sys.argv[1]); print(round(statistics.median(d["ui"]),1), round(statistics.median(d["static"]),1))' "$json")"
echo "machine: $(nproc) cores, load average $(cut -d" " -f1-3 /proc/loadavg), $(chromium --version 2>/dev/null | head -1)"
echo
echo "| page ($records records, $rows rows shown) | navigation to load, median of $runs (ms) |"
echo "|---|---|"
echo "| vledger ui /ledger/resident | $ui |"
echo "| baseline: the saved HTML from python3 http.server | $st |"
python3 -c 'import sys; u,s=float(sys.argv[1]),float(sys.argv[2]); print("\nratio ui/static: %.2f; target: ui under 1000 ms: %s" % (u/s if s else 0, "met" if u < 1000 else "MISSED"))' "$ui" "$st"
