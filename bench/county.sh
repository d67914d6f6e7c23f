#!/usr/bin/env bash
# bench/county.sh - the county benches of issue 8 (bench/README.md, "The county benches").
# Run it through bench/run.sh, which builds vledger and vl_bench in Release first:
#
#   bench/run.sh county [--villages N] [--runs N] [--heavy-runs N] [--gen DIR]
#                       [--only LIST] [--no-merge]
#
# Generates a county (vl_bench county --imports, N villages, default 34) in a
# temporary directory, or uses DIR made that way (--gen), then times each
# vledger command against its baseline in the same run, A B A B ..., each as
# a whole process under /usr/bin/time (wall seconds and peak RSS), and prints
# a Markdown table: medians, the median of the pairwise ratios, the target.
# --runs: counted pairs of the quick benches (show, edit, import: 3, after
# one uncounted pair); --heavy-runs: of verify, first sync, the day, the bulk
# import and the merge bench (1; their set-up runs warm the caches). --only verify,bulk,import,sync,day,merge,show,edit
# runs a subset. KEEP=1 keeps the work directory.
set -euo pipefail
build=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
csv=$root/data/divisions/pengshui_divisions.csv
villages=34 runs=3 heavy_runs=1 gen= only=verify,bulk,import,sync,day,merge,show,edit
while [ $# -gt 0 ]; do
	case $1 in
	--villages) villages=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--heavy-runs) heavy_runs=$2; shift 2 ;;
	--gen) gen=$(cd "$2" && pwd); shift 2 ;;
	--only) only=$2; shift 2 ;;
	--no-merge) only=${only//merge/}; shift ;;
	*) echo "usage: bench/run.sh county [--villages N] [--runs N] [--heavy-runs N] [--gen DIR] [--only LIST] [--no-merge]" >&2
	   exit 2 ;;
	esac
done
V=$build/agent/vledger
B=$build/bench/vl_bench
export VLEDGER_SCHEMA_DIR=$root/schemas
unset VLEDGER_HOME VLEDGER_PASSPHRASE_FILE VLEDGER_FAKE_TIME_MS
# git as shipped, apart from what vledger's repositories set (core.fsync=all,
# transfer.fsckObjects=true): no system or global configuration.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
work=$(mktemp -d /tmp/vl-county.XXXXXX)
if [ -n "${KEEP:-}" ]; then echo "work directory kept: $work" >&2; else trap 'rm -rf "$work"' EXIT; fi
log=$work/log
mkdir "$work/times"
want() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
say() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# A copy of a node home whose object files are hard links: no writer changes
# an object file in place (new objects go to new files), so the copy is
# independent for everything a run does, and costs milliseconds.
clone_home() {
	rm -rf "$2" && mkdir -p "$2" &&
		tar -C "$1" --exclude=./repo.git/objects -cf - . | tar -C "$2" -xf - &&
		cp -al "$1/repo.git/objects" "$2/repo.git/objects"
}
export -f clone_home

# timed KEY CMD: run CMD under /usr/bin/time (for the peak RSS), timed by
# bash's microsecond clock; append "wall_seconds peak_rss_kb" to times/KEY.
# CMD is split into words and run directly, or by bash -c when it holds
# shell syntax (a redirection, $(...), ;): the same for both sides of a
# pair. Its output goes to the log.
timed() {
	local key=$1 cmd=$2 t0 t1 ok=1
	cmd=${cmd#exec }
	t0=$EPOCHREALTIME
	if [[ $cmd == *[\<\>\$\;\|\&]* ]]; then
		/usr/bin/time -f '%M' -o "$work/t" bash -c "$cmd" >>"$log" 2>&1 || ok=0
	else
		# shellcheck disable=SC2086
		/usr/bin/time -f '%M' -o "$work/t" $cmd >>"$log" 2>&1 || ok=0
	fi
	t1=$EPOCHREALTIME
	if [ $ok = 0 ]; then
		echo "county.sh: failed: $cmd" >&2
		tail -20 "$log" >&2
		exit 1
	fi
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }') $(tail -1 "$work/t")" >>"$work/times/$key"
}

# pair KEY N WARMUP PREP_A CMD_A PREP_B CMD_B [PREP_C CMD_C]: N counted turns
# of A then B (then C) (after WARMUP uncounted ones); PREP_x runs before each,
# untimed. CMD_B empty: A alone.
pair() {
	local key=$1 n=$2 warm=$3 pa=$4 ca=$5 pb=$6 cb=$7 pc=${8:-} cc=${9:-} i
	: >"$work/times/$key.a"
	: >"$work/times/$key.b"
	: >"$work/times/$key.c"
	for ((i = 0; i < warm + n; i++)); do
		bash -c "$pa" >>"$log" 2>&1
		timed "$key.a" "$ca"
		if [ -n "$cb" ]; then
			bash -c "$pb" >>"$log" 2>&1
			timed "$key.b" "$cb"
		fi
		if [ -n "$cc" ]; then
			bash -c "$pc" >>"$log" 2>&1
			timed "$key.c" "$cc"
		fi
	done
	# Drop the warm-up turns.
	for x in a b c; do
		tail -n +"$((warm + 1))" "$work/times/$key.$x" >"$work/t2" && mv "$work/t2" "$work/times/$key.$x"
	done
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wall() { cut -d' ' -f1 "$work/times/$1" | median | awk '{ printf "%.3f", $1 }'; }
peak_mib() { cut -d' ' -f2 "$work/times/$1" | sort -g | tail -1 | awk '{ printf "%.0f", $1 / 1024 }'; }
# ratio KEY [c]: median of the pairwise ratios A/B (or A/C)
ratio() { paste -d' ' "$work/times/$1.a" "$work/times/$1.${2:-b}" | awk '{ print $1 / ($3 > 0 ? $3 : 0.0001) }' | median | awk '{ printf "%.2f", $1 }'; }

rows=$work/rows
rss=$work/rss
: >"$rows"
: >"$rss"
row() { printf '| %s | %s | %s | %s | %s |\n' "$@" >>"$rows"; }
rss_row() { printf '| %s | %s MiB | %s |\n' "$1" "$2" "$3" >>"$rss"; }

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:  $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
echo "disk:    $(findmnt -no FSTYPE,OPTIONS -T "$work" 2>/dev/null || echo '?') ($work)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before the run)"
echo "libs:    libgit2 $(pkg-config --modversion libgit2), libsodium $(pkg-config --modversion libsodium), git $(git --version | cut -d' ' -f3)"
t_start=$(date +%s)

# ---- the county ----
if [ -z "$gen" ]; then
	gen=$work/gen
	say "generating a county of $villages villages"
	t0=$(date +%s)
	"$B" county --csv "$csv" --out "$gen" --villages "$villages" --imports 2>>"$log"
	echo "county:  generated in $(($(date +%s) - t0)) s ($villages villages)"
fi
# shellcheck disable=SC1091
. "$gen/manifest"
[ -d "$gen/imports" ] || { echo "county.sh: $gen has no imports/ (generate it with --imports)" >&2; exit 1; }
county=$gen/county
village=$gen/village
vcode=$village_code
echo "county:  $villages villages, $county_residents residents; ${records:-?} records + ${versions:-?} edits in ${commits:-?} commits; village $vcode: $village_records residents, ${village_all_records:-?} records"
vres=$village_records

# The record shown and edited: a resident of the county's first village.
# Shown once in a copy of the county, which builds its record index.
if want show || want sync || want day || want edit; then
	first=${village_codes%% *}
	line=$(git -C "$county/repo.git" ls-tree -r "refs/heads/scope/$first" resident/ | sed -n 1000p)
	sblob=$(echo "$line" | awk '{ print $3 }')
	sid=$(basename "$(echo "$line" | cut -f2)" .yaml)
	# The county as it is in use: with its record index (cache/ids.idx),
	# which its first show, edit or receive builds; later ones read it, look
	# at the few branches that moved since on their own, and bring it up to
	# date and save it when many did. The generator writes none, and a
	# receive into a county without one builds it from every branch, once: a
	# cost of the county's first day, not of each. The rows after verify
	# start from copies of this one (DIR stays as generated); verify never
	# reads the index.
	clone_home "$county" "$work/indexed"
	"$V" -C "$work/indexed" show "$sid" >/dev/null 2>>"$log" || exit 1
	[ -s "$work/indexed/cache/ids.idx" ] || { echo "county.sh: the county's record index was not built" >&2; exit 1; }
fi

# ---- full verify against the 2-thread libsodium ceilings ----
# The ceiling: every record signature and every commit signature of the
# county (both are checked by any full verify); the records-only ceiling
# (the one of the earlier stops) is timed in the same turns for comparison.
if want verify; then
	say "verify"
	"$B" ceiling-dump --home "$county" --out "$work/ceiling.bin" 2>"$work/dump.err" || { cat "$work/dump.err" >&2; exit 1; }
	cat "$work/dump.err" >>"$log"
	csig=$(sed -n 's/^ceiling-dump: \([0-9]*\) record signatures + \([0-9]*\) commit signatures.*/\1 \2/p' "$work/dump.err")
	crec=${csig% *} ccom=${csig#* }
	out=$("$V" -C "$county" verify --quiet | tail -1) # also warms the page cache
	nrec=$(echo "$out" | sed -n 's/.* and \([0-9]*\) record versions.*/\1/p')
	ncom=$(echo "$out" | sed -n 's/^verified \([0-9]*\) commits.*/\1/p')
	if [ -z "$crec" ] || [ -z "$ccom" ] || [ -z "$nrec" ] || [ -z "$ncom" ]; then
		echo "county.sh: cannot read the counts of ceiling-dump or verify: $(cat "$work/dump.err") / $out" >&2
		exit 1
	fi
	# Each ceiling's contents in its row; a note when verify checked other
	# counts than the dump holds (objects no branch reaches).
	same=
	[ "$crec $ccom" = "$nrec $ncom" ] || same="; verify checked $nrec record versions + $ncom commits"
	pair verify "$heavy_runs" 0 ":" "exec $V -C $county verify --quiet" \
		":" "exec $B ceiling --in $work/ceiling.bin --threads 2" \
		":" "exec $B ceiling --in $work/ceiling.bin --threads 2 --records-only"
	a=$(wall verify.a) b=$(wall verify.b) c=$(wall verify.c) r=$(ratio verify) rr=$(ratio verify c)
	rate=$(awk -v n="$nrec" -v a="$a" 'BEGIN { printf "%.0f", n / a }')
	row "full \`vledger verify\` ($nrec record versions, $ncom commits; $rate rec/s) vs libsodium verify ceiling, 2 threads: $crec record signatures + $ccom commit signatures$same" \
		"$a s / $b s" "$r (= $(awk -v r="$r" 'BEGIN { printf "%.2f", 1 / r }') of the ceiling)" "≤ 1.43 (≥ 0.7 of the ceiling), ≤ 40 s at 700k" "$(peak_mib verify.a) MiB"
	row "the same \`vledger verify\` turns vs the records-only ceiling of the earlier stops, 2 threads: $crec record signatures (no commit signatures)" \
		"$a s / $c s" "$rr (= $(awk -v r="$rr" 'BEGIN { printf "%.2f", 1 / r }') of the records-only ceiling)" "- (for comparison)" "$(peak_mib verify.a) MiB"
	rss_row "county: \`vledger verify\`" "$(peak_mib verify.a)" "≤ 500 MiB"
fi

# ---- show by id (sid, above) ----
if want show; then
	say "show"
	# In a copy: show writes its caches (cache/), and DIR stays as generated.
	clone_home "$work/indexed" "$work/shown"
	pair show "$runs" 1 ":" "exec $V -C $work/shown show $sid" ":" "exec git -C $county/repo.git cat-file -p $sblob"
	row "\`vledger show ID\` vs \`git cat-file -p BLOB\` (county)" "$(wall show.a) s / $(wall show.b) s" "$(ratio show)" "≤ 3 as filed; restated against the floor below" "$(peak_mib show.a) MiB"
	# The floor in the same run: a program that only loads libgit2 and runs
	# git_libgit2_init + shutdown (bench/floor.c), against the same cat-file.
	pair floor "$runs" 1 ":" "exec $build/bench/vl_floor" ":" "exec git -C $county/repo.git cat-file -p $sblob"
	row "floor: \`vl_floor\` (libgit2 init + shutdown only) vs \`git cat-file -p BLOB\`" "$(wall floor.a) s / $(wall floor.b) s" "$(ratio floor)" "-" "$(peak_mib floor.a) MiB"
	# What show does beyond the floor, against what cat-file does in all
	# (issue 8's show target, restated: bench/README.md "show and the floor").
	own=$(awk -v s="$(wall show.a)" -v f="$(wall floor.a)" 'BEGIN { printf "%.3f", s - f }')
	row "\`vledger show ID\` above the floor (show − floor) vs \`git cat-file -p BLOB\`" "$own s / $(wall show.b) s" \
		"$(awk -v o="$own" -v c="$(wall show.b)" 'BEGIN { printf "%.2f", o / (c > 0 ? c : 0.0001) }')" "≤ 3" "-"
	echo "show:    vledger show $(wall show.a) s, floor $(wall floor.a) s, git cat-file -p $(wall show.b) s (medians of $runs)"
	rss_row "county: \`vledger show\`" "$(peak_mib show.a)" "≤ 500 MiB"
fi

# ---- import of the village's residents into its own home, fsync on ----
if want import; then
	say "import"
	pair import "$runs" 1 "clone_home $gen/village-empty $work/vi" "exec $V -C $work/vi import resident --file $gen/imports/$vcode.yaml" "" ""
	a=$(wall import.a)
	row "\`vledger import\` of a $vres-record village, fsync on" "$a s ($(awk -v n="$vres" -v a="$a" 'BEGIN { printf "%.0f", n / a }') records/s)" "-" "≥ 3,000 records/s" "$(peak_mib import.a) MiB"
	rss_row "village: \`vledger import\` ($vres records)" "$(peak_mib import.a)" "≤ 30 MiB"
fi

# ---- first sync of the village into the county vs git fetch ----
if want sync || want day || want edit; then
	# The county after its first sync of the village (also the warm-up).
	clone_home "$work/indexed" "$work/synced"
	"$V" -C "$work/synced" fetch "$village/repo.git" >>"$log" 2>&1
fi
if want sync; then
	say "first sync"
	pair sync "$heavy_runs" 0 "clone_home $work/indexed $work/s" "exec $V -C $work/s fetch $village/repo.git" \
		"clone_home $work/indexed $work/g" "exec git -C $work/g/repo.git fetch -q $village/repo.git refs/heads/scope/$vcode:refs/heads/scope/$vcode"
	row "first sync of a $vres-record village into the county: \`vledger fetch\` vs \`git fetch\` of the same objects" \
		"$(wall sync.a) s / $(wall sync.b) s" "$(ratio sync)" "≤ 1.3 and ≤ 3 s" "$(peak_mib sync.a) MiB"
	rss_row "county: \`vledger fetch\` (first sync)" "$(peak_mib sync.a)" "≤ 500 MiB"
fi

# ---- a day edited on both sides: fetch + verify + merge vs git fetch ----
# The village's 5,000 new objects stay loose in the set-up (gc.auto=0 while
# it runs): vledger's maintenance, like git gc --auto, packs loose objects
# when objects/17 holds more than 26 of them, which 5,000 random ids pass in
# some set-ups and not in others, and git serves a packed source at twice
# the speed of a loose one. The second row is the same day from the village
# after it packed (vl_bench pack-loose: vledger's own maintenance).
if want day; then
	say "day of edits (set-up)"
	clone_home "$village" "$work/vday"
	clone_home "$work/synced" "$work/cday"
	for h in vday cday; do git -C "$work/$h/repo.git" config gc.auto 0; done
	"$B" day --home "$work/vday" --scope "$vcode" --count 1000 --every 3 --offset 0 --field phone 2>>"$log" || exit 1
	"$B" day --home "$work/cday" --scope "$vcode" --count 1000 --every 3 --offset 0 --field notes 2>>"$log" || exit 1
	for h in vday cday; do git -C "$work/$h/repo.git" config --unset gc.auto; done
	clone_home "$work/vday" "$work/vdayp"
	"$B" pack-loose --home "$work/vdayp" 2>>"$log" || exit 1
	say "day of edits"
	for src in vday vdayp; do
		pair "day-$src" "$heavy_runs" 0 "clone_home $work/cday $work/d" "exec $V -C $work/d fetch $work/$src/repo.git" \
			"clone_home $work/cday $work/g" "exec git -C $work/g/repo.git fetch -q $work/$src/repo.git refs/heads/scope/$vcode:refs/remotes/village/$vcode"
	done
	row "a day, 1,000 records edited on both sides (1,000 commits each), the village's objects loose: \`vledger fetch\` (fetch + verify + merge) vs \`git fetch\`" \
		"$(wall day-vday.a) s / $(wall day-vday.b) s" "$(ratio day-vday)" "≤ 1.5" "$(peak_mib day-vday.a) MiB"
	row "the same day, the village's objects packed (by vledger's maintenance): \`vledger fetch\` vs \`git fetch\`" \
		"$(wall day-vdayp.a) s / $(wall day-vdayp.b) s" "$(ratio day-vdayp)" "≤ 1.5" "$(peak_mib day-vdayp.a) MiB"
	# The table's figure is the largest process over all runs: both rows'.
	rss_row "county: \`vledger fetch\` (a day, with merge)" \
		"$(printf '%s\n' "$(peak_mib day-vday.a)" "$(peak_mib day-vdayp.a)" | sort -g | tail -1)" "≤ 500 MiB"
fi

# ---- edit by id: in the county vs in the village (the same record) ----
if want edit; then
	say "edit"
	line=$(git -C "$village/repo.git" ls-tree -r "refs/heads/scope/$vcode" resident/ | sed -n 1000p)
	eid=$(basename "$(echo "$line" | cut -f2)" .yaml)
	clone_home "$work/synced" "$work/ce"
	clone_home "$village" "$work/ve"
	set_phone='--set phone=1380000$(printf %04d $((RANDOM % 10000)))'
	pair edit "$runs" 1 ":" "$V -C $work/ce edit $eid $set_phone" ":" "$V -C $work/ve edit $eid $set_phone"
	row "\`vledger edit ID\` in the county vs the same edit in the village" "$(wall edit.a) s / $(wall edit.b) s" "$(ratio edit)" "≤ 2" "$(peak_mib edit.a) / $(peak_mib edit.b) MiB"
	rss_row "county: \`vledger edit\`" "$(peak_mib edit.a)" "≤ 500 MiB"
	rss_row "village: \`vledger edit\`" "$(peak_mib edit.b)" "≤ 30 MiB"
fi

# ---- bulk import of every village's residents by the county vs git fast-import ----
if want bulk; then
	say "bulk import (set-up run)"
	{
		echo 'set -e'
		for c in $village_codes; do
			echo "$V -C \$1 import resident --scope $c --file $gen/imports/$c.yaml >/dev/null"
		done
	} >"$work/bulk.sh"
	clone_home "$gen/county-empty" "$work/bulk0"
	t0=$(date +%s.%N)
	bash "$work/bulk.sh" "$work/bulk0" >>"$log" 2>&1
	say "bulk import set-up took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"
	# The same blobs, trees and commits as a fast-import stream (without
	# the commit signatures, which git 2.39's fast-import cannot take).
	git -C "$work/bulk0/repo.git" fast-export --reencode=no \
		$(git -C "$work/bulk0/repo.git" for-each-ref --format='%(refname)' refs/heads/scope/) >"$work/stream.fi" 2>>"$log"
	rm -rf "$work/bulk0"
	say "bulk import"
	pair bulk "$heavy_runs" 0 "clone_home $gen/county-empty $work/b" "bash $work/bulk.sh $work/b" \
		"rm -rf $work/fi && git init -q --bare $work/fi" "exec git -C $work/fi -c core.fsync=all fast-import --quiet <$work/stream.fi"
	row "bulk import of $county_residents residents ($villages villages, \`vledger import --scope\` per village by the county, fsync on) vs \`git fast-import\` (fsync on)" \
		"$(wall bulk.a) s / $(wall bulk.b) s" "$(ratio bulk)" "≤ 1.3" "$(peak_mib bulk.a) MiB"
	rss_row "county: \`vledger import --scope\` (largest village)" "$(peak_mib bulk.a)" "≤ 500 MiB"
fi

# ---- merge of 1,000 records changed on both sides (bench/run.sh merge) ----
if want merge; then
	say "merge (vl_bench merge, 3,000 records, 1,000 changed on both sides)"
	mkdir "$work/merge"
	"$B" merge --vledger "$V" --csv "$csv" --git "$(command -v git)" --driver "$root/bench/merge-driver.sh" \
		--work "$work/merge" --reps "$heavy_runs" >"$work/merge.out" 2>>"$log"
	mv_t=$(grep -m1 'cold, \*\*fsync on\*\*' "$work/merge.out" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }')
	mt_t=$(grep -m1 'merge-tree --write-tree' "$work/merge.out" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }')
	mr=$(awk -v a="$mv_t" -v b="$mt_t" 'BEGIN { printf "%.4f", a / b }')
	row "merge of 1,000 records changed on both sides: \`vl_merge_heads\` (cold, fsync on) vs \`git merge-tree\` + driver (bench/run.sh merge)" \
		"$mv_t s / $mt_t s" "$mr (git ÷ vledger = $(awk -v a="$mv_t" -v b="$mt_t" 'BEGIN { printf "%.1f", b / a }')x)" "≤ 0.02 (≥ 50x)" "-"
fi

echo
echo "| workload | vledger / baseline (median wall) | ratio (median of pairs, vledger ÷ baseline) | target | peak RSS |"
echo "|---|---|---|---|---|"
cat "$rows"
echo
echo "| command | peak RSS (largest process, over all runs) | target |"
echo "|---|---|---|"
cat "$rss"
echo
echo "runs: $runs counted pairs for show, edit, import; $heavy_runs for verify, first sync, the day, the bulk import, merge; whole bench $(($(date +%s) - t_start)) s"
