#!/usr/bin/env bash
# bench/bundle.sh - the bundle bench of issue 10: a village's 1,000-record
# day carried to the county in a bundle, against stock git doing the same.
#
#   bench/bundle.sh [--records N] [--batch N] [--reps N]
#
# Builds vledger and vl_bench in Release into build-bench/ (as bench/run.sh),
# makes a county and a village (synthetic residents from vl_bench gen, real
# division codes), lets the county hold the village's state at the start of
# the day (one county-signed record on the village's branch, fetched back, so
# the village's refs/peers/<county>/ names what the county holds), then the
# village imports N records (--records, 1000) in commits of --batch records
# (1: one signed commit per record, a day of single entries). Measured, each
# the median of --reps runs (5), all in one run:
#   size:   vledger bundle create --for County   vs   git bundle create of the
#           same refs and range (config, scope/<village> ^<county's head>)
#   time:   vledger bundle create + vledger bundle apply (into a copy of the
#           county)   vs   git bundle create + git fetch of it (into a copy of
#           the county's repo.git); also each part, and `vledger fetch` of the
#           village's repo.git (the same receive path without a bundle)
# Issue 10's targets: size <= 1.1x, time <= 1.5x. KEEP=1 keeps the work
# directory. The machine is shared: compare figures only within one run.
set -euo pipefail
records=1000 batch=1 reps=5
while [ $# -gt 0 ]; do
	case $1 in
	--records) records=$2; shift 2 ;;
	--batch) batch=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	*) echo "usage: bench/bundle.sh [--records N] [--batch N] [--reps N]" >&2; exit 2 ;;
	esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
csv=$root/data/divisions/pengshui_divisions.csv
build=$root/build-bench
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
	-DVL_SANITIZE=OFF -DVL_FUZZ=OFF >/dev/null
cmake --build "$build" -j2 --target vledger vl_bench >/dev/null
VL=$build/agent/vledger
work=$(mktemp -d /tmp/vl-bundle-bench.XXXXXX)
if [ -n "${KEEP:-}" ]; then echo "work directory kept: $work" >&2; else trap 'rm -rf "$work"' EXIT; fi
export VLEDGER_SCHEMA_DIR=$root/schemas
S=500243001001
C() { "$VL" -C "$work/county" "$@" >/dev/null; }
V() { "$VL" -C "$work/village" "$@" >/dev/null; }

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:  $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg)"
echo "git:     $(git --version | cut -d' ' -f3), libgit2 $(pkg-config --modversion libgit2)"

# --- Setup (not timed). ---
C init --name County --role county --scope 500243000000 --new-network
C export network --output "$work/network.yaml"
V init --name Village --role village --scope $S --network "$work/network.yaml"
C roster add --name Village --role village --scope $S --key "$("$VL" -C "$work/village" key | head -1)"
V fetch "$work/county/repo.git"
C add zone --scope $S --set zone_no=Z0 --set designation=sealed --set area=a --set status=active \
	--set announced_at=2022-04-06T08:00:00Z
V fetch "$work/county/repo.git"
"$build/bench/vl_bench" gen --csv "$csv" --out "$work/day.yaml" --records "$records" --village $S >/dev/null
V import resident --file "$work/day.yaml" --batch "$batch"
base=$(git --git-dir "$work/county/repo.git" rev-parse refs/heads/scope/$S)
head=$(git --git-dir "$work/village/repo.git" rev-parse refs/heads/scope/$S)
commits=$(git --git-dir "$work/village/repo.git" rev-list --count "$base..$head")
echo "day:     $records records in $commits commits on scope/$S"
echo

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ct=() at=() ft=() vt=() gt=()
for r in $(seq 1 "$reps"); do
	rm -rf "$work/rcv" "$work/rcvf" "$work/rcv.git" "$work/v.bundle" "$work/g.bundle"
	cp -a "$work/county" "$work/rcv"
	cp -a "$work/county" "$work/rcvf"
	cp -a "$work/county/repo.git" "$work/rcv.git"
	t0=$(now)
	"$VL" -C "$work/village" bundle create "$work/v.bundle" --for County >/dev/null
	t1=$(now)
	"$VL" -C "$work/rcv" bundle apply "$work/v.bundle" >/dev/null
	t2=$(now)
	git --git-dir "$work/village/repo.git" bundle create -q "$work/g.bundle" refs/heads/config \
		refs/heads/scope/$S "^$base" 2>/dev/null
	git --git-dir "$work/rcv.git" fetch -q "$work/g.bundle" "refs/heads/*:refs/heads/*"
	t3=$(now)
	"$VL" -C "$work/rcvf" fetch "$work/village/repo.git" >/dev/null
	t4=$(now)
	ct+=("$(echo "$t1 - $t0" | bc)")
	at+=("$(echo "$t2 - $t1" | bc)")
	vt+=("$(echo "$t2 - $t0" | bc)")
	gt+=("$(echo "$t3 - $t2" | bc)")
	ft+=("$(echo "$t4 - $t3" | bc)")
	[ "$(git --git-dir "$work/rcv/repo.git" rev-parse refs/heads/scope/$S)" = "$head" ] ||
		{ echo "the county did not take the bundle" >&2; exit 1; }
done
grep -a -q "^-$base" "$work/v.bundle" || { echo "vledger's bundle lacks the prerequisite" >&2; exit 1; }
vs=$(stat -c %s "$work/v.bundle") gs=$(stat -c %s "$work/g.bundle")
med() { printf '%s\n' "$@" | median; }
vm=$(med "${vt[@]}") gm=$(med "${gt[@]}")
echo "| measure | vledger | stock git | ratio | target |"
echo "|---|---|---|---|---|"
printf '| bundle size (bytes) | %d | %d | %.2f | <= 1.1 |\n' "$vs" "$gs" "$(echo "$vs / $gs" | bc -l)"
printf '| create + apply / fetch (s, median of %d) | %.3f | %.3f | %.2f | <= 1.5 |\n' "$reps" "$vm" "$gm" \
	"$(echo "$vm / $gm" | bc -l)"
echo
echo "Of which (medians, s): bundle create $(med "${ct[@]}"), bundle apply $(med "${at[@]}");"
echo "the same receive from the village's repo.git (vledger fetch, no bundle): $(med "${ft[@]}")."
echo "Apply minus fetch is the bundle's own cost; the rest is the receive path's verification."
