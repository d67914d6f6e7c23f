#!/usr/bin/env bash
# bench/run.sh - the benchmarks of bench/README.md, in one command:
#
#   bench/run.sh [vl_bench run options, e.g. --records 1000 --reps 1]
#   bench/run.sh merge [vl_bench merge options, e.g. --changed 100 --reps 1]
#   bench/run.sh gen --out DIR [--villages N] [--scale F] [--imports] ...
#                   (the county generator: vl_bench county, see README)
#   bench/run.sh county [--villages N] [--runs N] [--keep DIR] (the county benches)
#   bench/run.sh aggregate --gen DIR [--runs N]  (the aggregate bench, bench/aggregate.sh)
#
# Builds vledger and vl_bench in Release (-O2, no sanitizers) into
# build-bench/, makes a county + village network in a temporary directory,
# and prints the machine and a table (Markdown): import/verify against the
# libsodium ceilings, or (merge) vledger's merge against stock git with a
# merge driver, both measured in the same run. About 2 minutes each on 2
# cores; the machine is shared, so compare figures only within one run.
# KEEP=1 keeps the work directory. Division codes: data/divisions/ (see data/README.md).
set -euo pipefail
mode=run
case "${1:-}" in merge|gen|county|aggregate) mode=$1; shift ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
csv=$root/data/divisions/pengshui_divisions.csv
build=$root/build-bench

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
	-DVL_SANITIZE=OFF -DVL_FUZZ=OFF >/dev/null
cmake --build "$build" -j2 --target vledger vl_bench vl_floor >/dev/null
export VLEDGER_SCHEMA_DIR=$root/schemas
if [ "$mode" = gen ]; then
	exec "$build/bench/vl_bench" county --csv "$csv" "$@"
fi
if [ "$mode" = county ]; then
	exec "$root/bench/county.sh" "$build" "$@"
fi
if [ "$mode" = aggregate ]; then
	exec "$root/bench/aggregate.sh" "$build" "$@"
fi

work=$(mktemp -d /tmp/vl-bench.XXXXXX)
if [ -n "${KEEP:-}" ]; then echo "work directory kept: $work" >&2; else trap 'rm -rf "$work"' EXIT; fi
export VLEDGER_SCHEMA_DIR=$root/schemas

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:  $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
echo "disk:    $(findmnt -no FSTYPE,OPTIONS -T "$work" 2>/dev/null || echo '?') ($work)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before the run)"
echo "libs:    libgit2 $(pkg-config --modversion libgit2), libsodium $(pkg-config --modversion libsodium), libyaml $(pkg-config --modversion yaml-0.1)"
if [ "$mode" = merge ]; then
	git=$(command -v git)
	echo "git:     $("$git" --version | cut -d' ' -f3), driver sh = $(readlink -f /bin/sh), awk = $(readlink -f "$(command -v awk)")"
	echo
	"$build/bench/vl_bench" merge --vledger "$build/agent/vledger" \
		--csv "$csv" --git "$git" --driver "$root/bench/merge-driver.sh" \
		--work "$work" "$@"
else
	echo
	"$build/bench/vl_bench" run --vledger "$build/agent/vledger" \
		--csv "$csv" --work "$work" "$@"
fi
echo
