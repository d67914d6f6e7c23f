#!/usr/bin/env bash
# A node killed (SIGKILL) at any instant of a receive, a merge, an import or
# a commit keeps a sound repository: `vledger verify` passes, git finds no
# broken link, the branch is either where it was or where the operation
# would have put it (never half-way), and running the operation again
# reaches the same result as an uninterrupted run. The kill instants are
# spread over each operation's run time as measured on an uninterrupted run
# on this machine (so that a slow or a fast machine both get kills in the
# middle); where one lands is up to the machine, and every instant must be
# safe. The test fails unless some kills landed during the work and some
# after it (otherwise it would have tested nothing). Synthetic data only.
. "$(dirname "$0")/lib/common.bash"
vl_workdir crash
BR=refs/heads/scope/500243001001
V() { "$VLEDGER" -C "$w/$1" "${@:2}"; }
head_of() { git --git-dir "$w/$1/repo.git" rev-parse -q --verify "$BR" 2>/dev/null || echo none; }
now_ms() { date +%s%3N; }
# at PERCENT MS: seconds for PERCENT % of MS milliseconds ("0.123")
at() { local t=$(( $1 * $2 / 100 )); printf '%d.%03d' $((t / 1000)) $((t % 1000)); }
residents() { git --git-dir "$w/$1/repo.git" ls-tree -r --name-only "$BR" 2>/dev/null | grep -c '^resident/' || true; }

# watch_kill PID COND...: SIGKILL process PID the moment the test COND (a
# builtin: [, compgen, ...) holds, e.g. its first commit is in while more
# are to come; or let it end (a zombie still answers kill -0: its state is
# read too), within 60 s. The kill lands where COND puts it whatever the
# machine's load, where one timed from an uninterrupted run may land before
# or after all the work on a loaded machine. The watch runs builtins only
# (no process per look), so it keeps up with the writer.
watch_kill() {
	local pid=$1 st=R end=$((SECONDS + 60))
	shift
	while [ "$st" != Z ] && [ $SECONDS -lt $end ] && kill -0 "$pid" 2>/dev/null; do
		if "$@"; then kill -9 "$pid" 2>/dev/null; return; fi
		read -r _ _ st _ < "/proc/$pid/stat" 2>/dev/null || st=Z
	done
}
# moved REF START: the loose ref file REF no longer holds START.
moved() { local h=; read -r h < "$1" 2>/dev/null; [ -n "$h" ] && [ "$h" != "$2" ]; }
# quarantined HOME: a receive has its quarantine directory in HOME's cache.
quarantined() { compgen -G "$w/$1/cache/quarantine-*" >/dev/null; }

# records FILE N TAG: an import file of N residents.
records() {
	{ echo "records:"; for i in $(seq 1 "$2"); do
		echo "  - {name: $3$i, residence_kind: registered, address: \"$i 号\", source: self_report}"; done; } > "$1"
}

V county init --name 县 --role county --scope 500243000000 --new-network >/dev/null
V county export network --output "$w/net.yaml"
for l in lap1 lap2; do
	V $l init --name $l --role village --scope 500243001001 --network "$w/net.yaml" >/dev/null
	V county roster add --name $l --role village --scope 500243001001 --key "$(V $l key | head -1)" >/dev/null
done
V lap1 fetch "$w/county/repo.git" >/dev/null; V lap2 fetch "$w/county/repo.git" >/dev/null
records base.yaml 300 甲; records a.yaml 200 乙; records b.yaml 200 丙
expect 0 V lap1 import resident --file base.yaml --batch 50
expect 0 V lap2 fetch "$w/lap1/repo.git"
expect 0 V lap1 import resident --file a.yaml --batch 50
expect 0 V lap2 import resident --file b.yaml --batch 50

# The uninterrupted result, on a copy, and how long it takes here.
cp -a lap2 ref
t0=$(now_ms)
expect 0 V ref fetch "$w/lap1/repo.git"
took=$(( $(now_ms) - t0 ))
want=$(head_of ref)
old=$(head_of lap2)
[ "$want" != "$old" ] && ok || bad "the reference fetch did not move the branch"
objects() { find "$w/$1/repo.git/objects" -type f | wc -l; }
old_objects=$(objects lap2)

before=0 during=0 after=0
# The first kill lands when the quarantine appears, the others spread in time.
for pct in watch 2 5 10 20 30 40 50 60 70 80 90 150 250 400; do
	rm -rf k && cp -a lap2 k
	"$VLEDGER" -C "$w/k" fetch "$w/lap1/repo.git" >/dev/null 2>&1 & # the process itself, not a subshell
	pid=$!
	if [ $pct = watch ]; then
		d="its quarantine's start"
		watch_kill $pid quarantined k
	else
		d=$(at $pct $took)s
		sleep "${d%s}"
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	now=$(head_of k)
	# (A fetch killed after promoting half its objects once left commits
	# without their parents; the next fetch then refused "object not found".)
	case $now in "$old"|"$want") ok ;; *) bad "fetch killed after $d left the branch at $now" ;; esac
	# Where it landed: the branch moved (after); not yet, but a quarantine
	# or objects were left (during); nothing touched (before).
	if [ "$now" = "$want" ]; then after=$((after + 1))
	elif compgen -G "$w/k/cache/quarantine-*" >/dev/null || [ "$(objects k)" != "$old_objects" ]; then
		during=$((during + 1))
	else before=$((before + 1)); fi
	expect 0 V k verify --quiet
	expect 0 git --git-dir "$w/k/repo.git" fsck --connectivity-only --no-progress
	V k fetch "$w/lap1/repo.git" >/dev/null 2>&1
	[ "$(head_of k)" = "$want" ] && ok || bad "fetch after a kill after $d reached $(head_of k), not $want"
done

echo "fetch (${took} ms uninterrupted): kills landed $before before the work, $during during, $after after"
[ "$during" -gt 0 ] && ok || bad "no fetch kill landed during the work: nothing was tested"
[ "$after" -gt 0 ] && ok || bad "no fetch kill landed after the work (the control)"

# An import killed mid-way: whole signed commits only, never a torn one.
# kill_import PID START: kill the import of k at $pct % of $took, or (pct
# watch) the moment its first commit moves the branch from START (the head
# before it started); $d says when.
kill_import() {
	if [ $pct = watch ]; then
		d="its first commit"
		watch_kill $1 moved "$w/k/repo.git/$BR" "$2"
	else
		d=$(at $pct $took)s
		sleep "${d%s}"
		kill -9 "$1" 2>/dev/null
	fi
}
records c.yaml 400 丁
before=$(residents lap1)
rm -rf k && cp -a lap1 k
t0=$(now_ms)
expect 0 V k import resident --file c.yaml --batch 40
took=$(( $(now_ms) - t0 ))
[ "$(residents k)" -eq $((before + 400)) ] && ok || bad "the reference import did not add 400 records"
none=0 torn=0 whole=0
# The first kill lands when the first commit is in, the others spread in time.
for pct in watch 10 30 50 65 80 90 150 300; do
	rm -rf k && cp -a lap1 k
	start=$(head_of k)
	"$VLEDGER" -C "$w/k" import resident --file c.yaml --batch 40 >/dev/null 2>&1 &
	pid=$!
	kill_import $pid "$start"
	wait "$pid" 2>/dev/null
	n=$(residents k)
	if [ "$n" -eq "$before" ]; then none=$((none + 1))
	elif [ "$n" -lt $((before + 400)) ]; then torn=$((torn + 1))
	else whole=$((whole + 1)); fi
	[ $(((n - before) % 40)) -eq 0 ] && [ "$n" -le $((before + 400)) ] && ok ||
		bad "import killed after $d left $((n - before)) records (not whole commits of 40)"
	expect 0 V k verify --quiet
	expect 0 git --git-dir "$w/k/repo.git" fsck --connectivity-only --no-progress
	# The node works on: the next add signs on top, verify still passes.
	expect 0 V k add resident --set name=戊 --set residence_kind=registered --set address=x --set source=self_report
	expect 0 V k verify --quiet
done

echo "import (${took} ms uninterrupted): kills left $none with no commit, $torn part-way, $whole complete"
[ "$torn" -gt 0 ] && ok || bad "no import kill landed between its commits: nothing was tested"
[ "$whole" -gt 0 ] && ok || bad "no import kill landed after the import (the control)"
# The same with batches large enough to be written as one pack each
# (store/pack.h, VL_REPO_PACK_MIN_CHANGES): a kill leaves whole packed
# commits or none, never a pack the repository cannot read.
loose() { find "$w/$1/repo.git/objects" -path '*/objects/[0-9a-f][0-9a-f]/*' -type f | wc -l; }
records d.yaml 400 庚
before=$(residents lap1)
rm -rf k && cp -a lap1 k
l0=$(loose k)
t0=$(now_ms)
expect 0 V k import resident --file d.yaml --batch 80
took=$(( $(now_ms) - t0 ))
[ "$(residents k)" -eq $((before + 400)) ] && ok || bad "the reference packed import did not add 400 records"
[ "$(loose k)" -eq "$l0" ] && ok || bad "the packed import wrote $(( $(loose k) - l0 )) loose objects"
expect 0 git --git-dir "$w/k/repo.git" fsck --strict --full --no-dangling --no-progress
none=0 torn=0 whole=0
for pct in watch 10 30 50 65 80 90 150 300; do
	rm -rf k && cp -a lap1 k
	start=$(head_of k)
	"$VLEDGER" -C "$w/k" import resident --file d.yaml --batch 80 >/dev/null 2>&1 &
	pid=$!
	kill_import $pid "$start"
	wait "$pid" 2>/dev/null
	n=$(residents k)
	if [ "$n" -eq "$before" ]; then none=$((none + 1))
	elif [ "$n" -lt $((before + 400)) ]; then torn=$((torn + 1))
	else whole=$((whole + 1)); fi
	[ $(((n - before) % 80)) -eq 0 ] && [ "$n" -le $((before + 400)) ] && ok ||
		bad "packed import killed after $d left $((n - before)) records (not whole commits of 80)"
	expect 0 V k verify --quiet
	expect 0 git --git-dir "$w/k/repo.git" fsck --full --no-dangling --no-progress
	expect 0 V k import resident --file d.yaml --batch 80
	expect 0 V k verify --quiet
done
echo "packed import (${took} ms uninterrupted): kills left $none with no commit, $torn part-way, $whole complete"
[ "$torn" -gt 0 ] && ok || bad "no packed import kill landed between its commits: nothing was tested"

# A process killed inside a ref update leaves the ref's lock file; the next
# writer holds the node's write lock, so it knows the file is stale and
# clears it (deterministic, whatever the kills above hit).
rm -rf k && cp -a lap1 k
: > "$w/k/repo.git/$BR.lock"
: > "$w/k/repo.git/refs/heads/config.lock"
expect 0 V k add resident --set name=己 --set residence_kind=registered --set address=x --set source=self_report
[ ! -e "$w/k/repo.git/$BR.lock" ] && [ ! -e "$w/k/repo.git/refs/heads/config.lock" ] && ok ||
	bad "stale ref lock files were left in place"
expect 0 V k verify --quiet
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
