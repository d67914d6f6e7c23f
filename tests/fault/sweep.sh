#!/usr/bin/env bash
# The malloc and I/O fault sweep (issue 7; SQLite's malloc and I/O fault
# tests are the model). On a small network (a county, two laptops of one
# village), each operation -- add, a packed import, fetch into the county
# (receive), fetch between the laptops (receive + merge), merge of a fetched
# head, verify, bundle apply of a plain and a sealed bundle --
# is run by vledger-fault (tests/fault/fault.c) once without faults, to count
# its allocations and writes/fsyncs and find their distinct call sites, then
# once per chosen n with the n-th call failing. Every run must end in exit 0
# (the fault was absorbed) or exit 1 with a "vledger: ..." message: never a
# signal, an ASan/UBSan/LSan report (leaks count), or a misreported exit code
# (verify's 4 "verification failed" for a failed malloc). Afterwards the
# node's refs are those before the run or those of the complete run (nothing
# half-done; an exit 0 must be the complete run), `vledger verify` and `git
# fsck` pass, running the operation again without faults reaches the
# complete result (no lock or temp file left in the way), and nothing is left
# in TMPDIR (a merge hook's inputs hold a record's data).
#
# n covers the first call of every distinct call site (three callers deep)
# and, for allocations, every STRIDE-th call besides; writes and fsyncs are
# few, so every one is failed. VL_FAULT_STRIDE (default 2000) and
# VL_FAULT_PERSIST=1 (every call after the n-th fails too) and VL_FAULT_OPS
# (e.g. "add import verify": only these) can be set.
# Needs VLEDGER (vledger) and VLEDGER_FAULT (vledger-fault); run by
# `ctest -R fault_sweep` in a build with -DVL_FAULT=ON. Synthetic data only.
. "$(dirname "$0")/../sh/lib/common.bash"
: "${VLEDGER_FAULT:?set VLEDGER_FAULT to the vledger-fault binary}"
vl_workdir fault
S=500243001001
BR=refs/heads/scope/$S
STRIDE=${VL_FAULT_STRIDE:-2000}
V() { "$VLEDGER" -C "$w/$1" "${@:2}"; }
allrefs() { git --git-dir "$1/repo.git" for-each-ref --format='%(refname) %(objectname)'; }

# --- The network, built with the plain binary. ---
V county init --name 县 --role county --scope 500243000000 --new-network >/dev/null || exit 1
V county export network --output "$w/net.yaml" || exit 1
for l in lap1 lap2; do
	V $l init --name $l --role village --scope $S --network "$w/net.yaml" >/dev/null || exit 1
	V county roster add --name $l --role village --scope $S --key "$(V $l key | head -1)" >/dev/null || exit 1
done
V lap1 fetch "$w/county/repo.git" >/dev/null && V lap2 fetch "$w/county/repo.git" >/dev/null || exit 1
rA=$(V lap1 add resident --set name=王秀英 --set residence_kind=registered --set address="2 组 8 号" \
	--set phone=13800000001 --set tags=独居老人 --set source=self_report) || exit 1
wc=$(V lap1 add worker_care --set worker_name=周丽 --set post=网格员 --set duty_status=on_duty \
	--set subsidy_days=10 --set daily_rate=100.00 --set subsidy_amount=1000.00 --set subsidy_paid=500.00) || exit 1
V lap2 fetch "$w/lap1/repo.git" >/dev/null || exit 1
# Both laptops edit offline, so the next exchange is a real merge.
V lap1 edit "$rA" --set phone=13800000011 --set tags=独居老人,残疾人 >/dev/null || exit 1
V lap1 add resident --set name=赵建国 --set residence_kind=migrant --set address="1 组 3 号" \
	--set source=worker_survey >/dev/null || exit 1
V lap2 edit "$rA" --set phone=13800000022 --set grid=第3网格 >/dev/null || exit 1
# The subsidy changed on both sides: the merge runs the pinned hook
# (hooks/hook.c: fork, pipes, temp files), in verify's replay too.
V lap1 edit "$wc" --set subsidy_days=12 --set subsidy_amount=1200.00 >/dev/null || exit 1
V lap2 edit "$wc" --set subsidy_days=13 --set subsidy_amount=1300.00 >/dev/null || exit 1
cp -a lap2 lap2-fetched
V lap2-fetched fetch --no-merge "$w/lap1/repo.git" >/dev/null || exit 1
peer=$(git --git-dir lap2-fetched/repo.git for-each-ref --format='%(refname)' "refs/peers/*/scope/$S" | head -1)
[ -n "$peer" ] || { echo "FAIL: no peer ref after fetch --no-merge"; exit 1; }
cp -a lap2 lap2-merged
V lap2-merged fetch "$w/lap1/repo.git" >/dev/null; [ $? -le 3 ] || exit 1
# Bundles of lap1 for the county, plain and sealed (issue 10).
V lap1 bundle create "$w/lap1.bundle" --for 县 --full >/dev/null || exit 1
V lap1 bundle create "$w/lap1-sealed.bundle" --for 县 --full --seal-to 县 >/dev/null || exit 1
# Every run below is at one fixed time, so a complete run is byte-for-byte
# the same commit each time.
export VLEDGER_FAKE_TIME_MS=$(($(date +%s) * 1000 + 60000))

# classify OP PRE DIR: "done" if DIR's refs are the complete run's (for
# add: one commit on PRE's head adding one record; import: one adding IMPORT_N
# records, as record ids are random), "pre" if they are PRE's,
# "received" if only refs outside refs/heads/ moved, each to its value after
# the complete run (a fetch that promoted what it received and recorded the
# peer's head, then failed to merge: fetching again finishes it), else "torn".
classify() {
	local now; now=$(allrefs "$3")
	if [ "$1" != add ] && [ "$1" != import ] && [ "$now" = "$(cat "$w/want")" ]; then echo done; return; fi
	if [ "$now" = "$(allrefs "$2")" ]; then echo pre; return; fi
	if [ "$(grep '^refs/heads/' <<<"$now")" = "$(allrefs "$2" | grep '^refs/heads/')" ] &&
			[ -z "$(grep -v '^refs/heads/' <<<"$now" | grep -vxFf "$w/want" | grep -vxF "$(allrefs "$2")")" ]; then
		echo received; return
	fi
	if [ "$1" = add ] || [ "$1" = import ]; then
		local head old k=1
		[ "$1" = add ] || k=$IMPORT_N
		head=$(git --git-dir "$3/repo.git" rev-parse -q --verify $BR) old=$(git --git-dir "$2/repo.git" rev-parse $BR)
		if [ "$(git --git-dir "$3/repo.git" rev-parse -q --verify "$head^")" = "$old" ] &&
				[ "$(git --git-dir "$3/repo.git" diff-tree -r --name-status "$old" "$head" | grep -c '^A	resident/')" = "$k" ] &&
				[ "$(grep -v "^$BR " <<<"$now")" = "$(allrefs "$2" | grep -v "^$BR ")" ]; then
			echo done; return
		fi
	fi
	echo torn
}

total=0 runs=0
# sweep OP PRE ARGS...: the sweep of one operation on a copy of node PRE.
sweep() {
	local op=$1 pre=$2 t0=$SECONDS n kind rc state want_rc mcalls iocalls list
	shift 2
	case " ${VL_FAULT_OPS:-$op} " in *" $op "*) ;; *) return ;; esac
	rm -rf ref && cp -a "$pre" ref
	VL_FAULT_REPORT=$w/report VL_FAULT_SITES=$w/sites "$VLEDGER_FAULT" -C "$w/ref" "$@" >/dev/null 2>"$w/err"
	want_rc=$?
	if [ $want_rc -ne 0 ] && [ $want_rc -ne 3 ]; then bad "$op: the run without faults exits $want_rc: $(cat err)"; return; fi
	allrefs ref > "$w/want"
	read -r _ mcalls _ iocalls _ < report
	# Every distinct site's first call, and every STRIDE-th allocation.
	list=$( { sed -n 's/^m /m /p; s/^i /i /p' sites; seq "$STRIDE" "$STRIDE" "$mcalls" | sed 's/^/m /'; } | sort -u -k1,1 -k2n)
	[ -z "${VL_FAULT_LIST:-}" ] || list=$VL_FAULT_LIST
	echo "$op: $mcalls allocations, $iocalls writes/fsyncs; $(wc -l <<<"$list") faults to inject"
	while read -r kind n; do
		rm -rf t report tmp && cp -a "$pre" t && mkdir tmp
		if [ "$kind" = m ]; then
			TMPDIR=$w/tmp VL_FAULT_MALLOC=$n VL_FAULT_REPORT=$w/report "$VLEDGER_FAULT" -C "$w/t" "$@" >/dev/null 2>"$w/err"
		else
			TMPDIR=$w/tmp VL_FAULT_IO=$n VL_FAULT_REPORT=$w/report "$VLEDGER_FAULT" -C "$w/t" "$@" >/dev/null 2>"$w/err"
		fi
		rc=$? runs=$((runs + 1))
		local at="$op, $kind fault at $n"
		# Nothing left in TMPDIR: a hook's inputs hold a record's data.
		[ -z "$(ls -A tmp)" ] && ok || bad "$at: left in TMPDIR: $(cd tmp && find . | head -5 | tr '\n' ' ')"
		if grep -qE 'Sanitizer|runtime error|SUMMARY' err; then
			bad "$at: sanitizer report: $(grep -E 'ERROR|runtime error|SUMMARY|#[0-9]+ ' err | grep -vE 'fault\.c|asan_|libc_start|_start ' | head -12)"
			continue
		fi
		if ! grep -q ' injected [1-9]' report; then
			[ $rc -eq $want_rc ] && ok || bad "$at: no fault injected, yet exit $rc"
			continue
		fi
		state=$(classify "$op" "$pre" t)
		if [ $rc -eq 1 ]; then
			grep -q '^vledger: ' err && ok || bad "$at: exit 1 without a 'vledger:' message: $(head -3 err)"
			[ "$state" != torn ] && ok || bad "$at: exit 1 left a torn state: $(allrefs t | diff - <(allrefs "$pre") | head -6)"
			[ "$state" != received ] || grep -q 'received but not merged' err && ok ||
				bad "$at: exit 1 after receiving, without saying so: $(head -3 err)"
		elif [ $rc -eq $want_rc ]; then
			[ "$state" = done ] && ok || bad "$at: exit $rc but not the complete result ($state)"
		else
			bad "$at: exit $rc (want 1 or $want_rc): $(head -3 err)"
		fi
		V t verify --quiet >/dev/null 2>&1 && ok || bad "$at: verify fails afterwards: $(V t verify 2>&1 | tail -3)"
		git --git-dir t/repo.git fsck --connectivity-only --no-progress >/dev/null 2>&1 && ok ||
			bad "$at: git fsck fails afterwards"
		# Again without faults: nothing left in the way (locks, temp files).
		if [ "$state" = pre ] || [ "$state" = received ]; then
			V t "$@" >/dev/null 2>"$w/err"
			rc=$?
			[ $rc -eq $want_rc ] && [ "$(classify "$op" "$pre" t)" = done ] && ok ||
				bad "$at: the rerun without faults exits $rc, state $(classify "$op" "$pre" t): $(head -3 err)"
		fi
	done <<<"$list"
	echo "$op: done in $((SECONDS - t0))s"
}

sweep add lap1 add resident --set name=孙桂兰 --set residence_kind=registered --set address="4 组 1 号" --set source=self_report
# An import in one batch large enough to be written as a pack (store/pack.h):
# one commit of IMPORT_N records, whole or not at all.
IMPORT_N=70
{ echo "records:"; for i in $(seq 1 $IMPORT_N); do
	echo "  - {name: 测$i, residence_kind: registered, address: \"$i 号\", source: self_report}"; done; } > "$w/import.yaml"
sweep import lap1 import resident --file "$w/import.yaml" --batch $IMPORT_N
sweep receive county fetch "$w/lap1/repo.git"
sweep fetch-merge lap2 fetch "$w/lap1/repo.git"
sweep merge lap2-fetched merge "$peer"
sweep verify lap2-merged verify
sweep bundle county bundle apply "$w/lap1.bundle"
sweep sealed-bundle county bundle apply "$w/lap1-sealed.bundle"

echo "fault sweep: $runs faulty runs, $passes checks passed, $fails failed, ${SECONDS}s"
[ "$fails" -eq 0 ]
