#!/usr/bin/env bash
# bench/net.sh - the network bench of issue 9: a village's 1,000-record day
# synced to its township over loopback, against stock git fetching the same
# objects from `git daemon` on loopback, in the same run.
#
#   bench/net.sh [--records N] [--reps N] [--first N]
#
# Builds vledger and vl_bench in Release into build-bench/ (as bench/run.sh),
# makes a county, a township and a village (synthetic residents from
# vl_bench gen, real division codes); the village holds N residents
# (--records, 1000) and the township its state at the start of the day (one
# sync); the day is N of them edited, one commit each (`vl_bench day`, as
# `vledger edit` writes them: a day's work is changes to people the village
# already holds, not the same people imported again). Measured, each the
# median of --reps runs (3), every run on fresh copies of both homes:
#   time:  `vledger sync` (handshake, chunks, verification in the receive
#          path, merge, the second round)   vs   `git fetch` of the same
#          range from `git daemon` into a copy of the township's repo.git
#   bytes: what the village sent on the wire (sync --json bytes_out: the
#          channel, handshake and boxes included)   vs   the thin pack git
#          sends for the range (`git pack-objects --thin --revs`)
#   first: the first sync of a village holding --first records (3000, in
#          commits of 500) with a township that holds only the config
#   rss:   the village's idle `vledger serve` (VmRSS after 2 s), and the peak
#          of both ends during a sync (GNU time: the client; the server's
#          session process, reaped by serve, through serve's own peak)
# Issue 9's targets: time <= 1.5x, bytes <= 1.1x, first sync <= 3 s, RSS
# idle <= 30 MB, during sync <= 100 MB. KEEP=1 keeps the work directory. The
# machine is shared: compare figures only within one run.
set -euo pipefail
records=1000 reps=3 first=3000
while [ $# -gt 0 ]; do
	case $1 in
	--records) records=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--first) first=$2; shift 2 ;;
	*) echo "usage: bench/net.sh [--records N] [--reps N] [--first N]" >&2; exit 2 ;;
	esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
csv=$root/data/divisions/pengshui_divisions.csv
build=$root/build-bench
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
	-DVL_SANITIZE=OFF -DVL_FUZZ=OFF >/dev/null
cmake --build "$build" -j2 --target vledger vl_bench >/dev/null
VL=$build/agent/vledger
work=$(mktemp -d /tmp/vl-net-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && echo "work directory kept: $work" >&2
export VLEDGER_SCHEMA_DIR=$root/schemas
S=500243001001 T=500243001000
X() { local h=$1; shift; "$VL" -C "$work/$h" "$@"; }
# serve HOME: start serve on a free loopback port; $port and $spid get it.
serve() {
	local h=$1; shift
	"$@" "$VL" -C "$work/$h" serve --listen 127.0.0.1:0 >"$work/$h.out" 2>"$work/$h.err" &
	spid=$!
	pids+=($spid)
	port=
	for _ in $(seq 200); do
		port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$work/$h.out" 2>/dev/null)
		[ -n "$port" ] && return
		sleep 0.05
	done
	echo "serve at $h did not start: $(cat "$work/$h.err")" >&2
	exit 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:  $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg)"
echo "git:     $(git --version | cut -d' ' -f3), libgit2 $(pkg-config --modversion libgit2)"

# --- Setup (not timed). ---
X county init --name County --role county --scope 500243000000 --new-network >/dev/null
X county export network --output "$work/network.yaml" >/dev/null
X town init --name Town --role township --scope $T --network "$work/network.yaml" >/dev/null
X village init --name Village --role village --scope $S --network "$work/network.yaml" >/dev/null
for h in town:Town:township:$T village:Village:village:$S; do
	IFS=: read -r hh name role scope <<<"$h"
	X county roster add --name "$name" --role "$role" --scope "$scope" --key "$(X "$hh" key | head -1)" >/dev/null
done
X town fetch "$work/county/repo.git" >/dev/null
X village fetch "$work/county/repo.git" >/dev/null
cp -a "$work/town" "$work/town0"          # the township with the config only: the first sync
cp -a "$work/village" "$work/village0"    # the village with the config only: the first sync
"$build/bench/vl_bench" gen --csv "$csv" --out "$work/people.yaml" --records "$records" --village $S >/dev/null
X village import resident --file "$work/people.yaml" >/dev/null
X village add zone --set zone_no=Z0 --set designation=sealed --set area=a --set status=active \
	--set announced_at=2022-04-06T08:00:00Z >/dev/null
serve town
X village sync 127.0.0.1:$port >/dev/null   # the start of the day: both hold the same
stop $spid
"$build/bench/vl_bench" day --home "$work/village" --scope $S --count "$records" --every 1 --field notes \
	2>/dev/null
base=$(git --git-dir "$work/town/repo.git" rev-parse refs/heads/scope/$S)
head=$(git --git-dir "$work/village/repo.git" rev-parse refs/heads/scope/$S)
commits=$(git --git-dir "$work/village/repo.git" rev-list --count "$base..$head")
echo "day:     $records records edited in $commits commits on scope/$S"
echo

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
med() { printf '%s\n' "$@" | median; }
vt=() gt=() vb=()
# git daemon cannot report a port it picked: take a free one.
gport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --reuseaddr --export-all --base-path="$work" --listen=127.0.0.1 --port="$gport" &
pids+=($!)
sleep 0.5
for r in $(seq 1 "$reps"); do
	rm -rf "$work/t" "$work/v" "$work/t.git"
	cp -a "$work/town" "$work/t"
	cp -a "$work/village" "$work/v"
	cp -a "$work/town/repo.git" "$work/t.git"
	serve t
	t0=$(now)
	json=$("$VL" -C "$work/v" sync 127.0.0.1:$port --json)
	t1=$(now)
	stop $spid
	git --git-dir "$work/t.git" fetch -q "git://127.0.0.1:$gport/village/repo.git" \
		"refs/heads/scope/$S:refs/heads/scope/$S"
	t2=$(now)
	[ "$(git --git-dir "$work/t/repo.git" rev-parse refs/heads/scope/$S)" = "$head" ] ||
		{ echo "the township did not take the day" >&2; exit 1; }
	[ "$(git --git-dir "$work/t.git" rev-parse refs/heads/scope/$S)" = "$head" ] ||
		{ echo "git fetch did not take the day" >&2; exit 1; }
	vt+=("$(echo "$t1 - $t0" | bc)")
	gt+=("$(echo "$t2 - $t1" | bc)")
	vb+=("$(echo "$json" | sed -n 's/.*"bytes_out": \([0-9]*\).*/\1/p')")
done
gb=$(printf '%s\n^%s\n' "$head" "$base" | git --git-dir "$work/village/repo.git" pack-objects --stdout --thin --revs -q | wc -c)
vm=$(med "${vt[@]}") gm=$(med "${gt[@]}") vbm=$(med "${vb[@]}")

# --- First sync of a larger village with a township holding only the config. ---
rm -rf "$work/big" "$work/t"
X county export network --output "$work/n2.yaml" >/dev/null
cp -a "$work/village0" "$work/big"
"$build/bench/vl_bench" gen --csv "$csv" --out "$work/first.yaml" --records "$first" --village $S >/dev/null
X big import resident --file "$work/first.yaml" --batch 500 >/dev/null
cp -a "$work/town0" "$work/t"
serve t /usr/bin/time -f '%M' -o "$work/server.rss"
t0=$(now)
/usr/bin/time -f '%M' -o "$work/client.rss" "$VL" -C "$work/big" sync 127.0.0.1:$port >/dev/null
t1=$(now)
for c in $(ps -o pid= --ppid "$spid"); do kill "$c" 2>/dev/null || true; done  # serve, under time
wait "$spid" 2>/dev/null || true
fm=$(echo "$t1 - $t0" | bc)
[ "$(git --git-dir "$work/t/repo.git" rev-parse refs/heads/scope/$S)" = \
	"$(git --git-dir "$work/big/repo.git" rev-parse refs/heads/scope/$S)" ] || { echo "first sync incomplete" >&2; exit 1; }

# --- The village's idle serve. ---
serve village
sleep 2
idle=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$spid/status)
stop $spid

echo "| measure | vledger | stock git | ratio | target |"
echo "|---|---|---|---|---|"
printf '| day sync / fetch (s, median of %d) | %.3f | %.3f | %.2f | <= 1.5 |\n' "$reps" "$vm" "$gm" "$(echo "$vm / $gm" | bc -l)"
printf '| wire bytes sent / thin pack | %d | %d | %.2f | <= 1.1 |\n' "$vbm" "$gb" "$(echo "$vbm / $gb" | bc -l)"
printf '| first sync, %d records (s) | %.3f | | | <= 3 |\n' "$first" "$fm"
printf '| RSS idle serve (MB) | %.1f | | | <= 30 |\n' "$(echo "$idle / 1024" | bc -l)"
printf '| RSS during first sync, client / server (MB) | %.1f / %.1f | | | <= 100 |\n' \
	"$(echo "$(cat "$work/client.rss") / 1024" | bc -l)" "$(echo "$(cat "$work/server.rss") / 1024" | bc -l)"
