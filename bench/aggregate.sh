#!/usr/bin/env bash
# bench/aggregate.sh - the aggregate bench of issue 11 (bench/README.md, "The
# aggregate bench"). Run it through bench/run.sh, which builds vledger and
# vl_bench in Release first:
#
#   bench/run.sh aggregate --gen DIR [--runs N]
#
# DIR is a county made by `bench/run.sh gen --out DIR --imports` (its
# county/ home and imports/ files are read, never written: the bench works on
# a copy whose repository borrows DIR's objects through objects/info/alternates
# and holds its own refs, cache and clock). Each figure is a whole process
# under /usr/bin/time (wall seconds, peak RSS), medians of N runs (default 3):
#   read ceiling  vl_bench read-ceiling: read + parse every record blob, one thread
#   cold          vledger aggregate --format json with no cache (it builds one)
#   warm          the same with the cache, after 1,000 new records on one village
#                 branch (committed by `vledger import`, not timed): a sync's worth
# and prints a Markdown table with the ratio cold / ceiling (target <= 1.35),
# the warm time (target <= 0.5 s) and the peak RSS (target <= 500 MB).
set -euo pipefail
build=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
gen= runs=3
while [ $# -gt 0 ]; do
	case $1 in
	--gen) gen=$(cd "$2" && pwd); shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	*) echo "usage: bench/run.sh aggregate --gen DIR [--runs N]" >&2; exit 2 ;;
	esac
done
[ -n "$gen" ] && [ -d "$gen/county/repo.git" ] || { echo "bench/aggregate.sh: --gen DIR (made by bench/run.sh gen --imports) is required" >&2; exit 2; }
V=$build/agent/vledger
B=$build/bench/vl_bench
export VLEDGER_SCHEMA_DIR=$root/schemas
unset VLEDGER_HOME VLEDGER_PASSPHRASE_FILE VLEDGER_FAKE_TIME_MS VLEDGER_DIVISIONS
work=$(mktemp -d /tmp/vl-aggbench.XXXXXX)
if [ -n "${KEEP:-}" ]; then echo "work directory kept: $work" >&2; else trap 'rm -rf "$work"' EXIT; fi

# The copy: node files, an empty repository borrowing the objects, the refs.
h=$work/county
mkdir -p "$h/cache" "$h/log" "$h/hooks"
cp -a "$gen/county/node.yaml" "$gen/county/clock" "$gen/county/keys" "$h/"
git init -q --bare "$h/repo.git"
cp "$gen/county/repo.git/config" "$h/repo.git/config"
echo "$gen/county/repo.git/objects" > "$h/repo.git/objects/info/alternates"
git --git-dir "$gen/county/repo.git" for-each-ref --format='%(objectname) %(refname)' > "$work/refs"
{ echo "# pack-refs with: peeled fully-peeled sorted"; sort -k2 "$work/refs"; } > "$h/repo.git/packed-refs"

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
# timed OUT CMD...: wall seconds and peak RSS (KiB) of one run, appended to OUT.
timed() { local out=$1; shift; /usr/bin/time -f "%e %M" -o "$work/t" "$@" > "$work/stdout"; cat "$work/t" >> "$out"; }

: > "$work/ceil"; : > "$work/cold"; : > "$work/warm"
for i in $(seq "$runs"); do
	timed "$work/ceil" "$B" read-ceiling --home "$h"
	rm -rf "$h/cache/aggregate.v1"
	timed "$work/cold" "$V" -C "$h" aggregate --format json
done
records=$(jq '.run.records_read' "$work/stdout")
cold_json=$work/stdout.cold; cp "$work/stdout" "$cold_json"
village=$(git --git-dir "$h/repo.git" for-each-ref --format='%(refname)' 'refs/heads/scope/*' | sed -n 's#refs/heads/scope/##p' | grep -v '000$' | head -1)
imp=$(ls "$gen/imports/"*.yaml | head -1)
for i in $(seq "$runs"); do
	awk -v skip=$(( (i - 1) * 1000 )) '/^  - / { c++ } c == 0 || (c > skip && c <= skip + 1000)' "$imp" > "$work/thousand.yaml"
	"$V" -C "$h" import resident --file "$work/thousand.yaml" --scope "$village" --batch 1000 > /dev/null
	timed "$work/warm" "$V" -C "$h" aggregate --format json
done
warm_read=$(jq '.run.records_read' "$work/stdout")
cs=$(cut -d' ' -f1 "$work/ceil" | median); cm=$(cut -d' ' -f2 "$work/ceil" | median)
as=$(cut -d' ' -f1 "$work/cold" | median); am=$(cut -d' ' -f2 "$work/cold" | median)
ws=$(cut -d' ' -f1 "$work/warm" | median); wm=$(cut -d' ' -f2 "$work/warm" | median)
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')  commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "county:  $gen ($records live records aggregated), runs: $runs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| bench | wall (median) | peak RSS | target |"
echo "|---|---|---|---|"
echo "| read ceiling: read + parse every record (vl_bench read-ceiling) | ${cs} s | $((cm / 1024)) MiB | |"
echo "| cold \`vledger aggregate --format json\`, no cache | ${as} s ($(awk -v a="$as" -v c="$cs" 'BEGIN {printf "%.2f", a / c}')x ceiling) | $((am / 1024)) MiB | <= 1.35x, <= 500 MB |"
echo "| warm, after 1,000 new records on $village ($warm_read records re-read) | ${ws} s | $((wm / 1024)) MiB | <= 0.5 s |"
