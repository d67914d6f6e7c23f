#!/usr/bin/env bash
# A node killed (SIGKILL) at any instant of a receive, a merge, an import or
# a commit keeps a sound repository: `vledger verify` passes, git finds no
# broken link, the branch is either where it was or where the operation
# would have put it (never half-way), and running the operation again
# reaches the same result as an uninterrupted run. The kill instants are
# spread over each operation's run time; where one lands is up to the
# machine, and every instant must be safe. Synthetic data only.
. "$(dirname "$0")/lib/common.bash"
vl_workdir crash
BR=refs/heads/scope/500243001001
V() { "$VLEDGER" -C "$w/$1" "${@:2}"; }
head_of() { git --git-dir "$w/$1/repo.git" rev-parse -q --verify "$BR" 2>/dev/null || echo none; }
residents() { git --git-dir "$w/$1/repo.git" ls-tree -r --name-only "$BR" 2>/dev/null | grep -c '^resident/' || true; }

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

# The uninterrupted result, on a copy.
cp -a lap2 ref
expect 0 V ref fetch "$w/lap1/repo.git"
want=$(head_of ref)
old=$(head_of lap2)
[ "$want" != "$old" ] && ok || bad "the reference fetch did not move the branch"

landed=0
for d in 0.01 0.05 0.1 0.2 0.3 0.45 0.6 0.8 1.0 1.2 1.4 1.7 2.0 2.4; do
	rm -rf k && cp -a lap2 k
	"$VLEDGER" -C "$w/k" fetch "$w/lap1/repo.git" >/dev/null 2>&1 & # the process itself, not a subshell
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	now=$(head_of k)
	# (A fetch killed after promoting half its objects once left commits
	# without their parents; the next fetch then refused "object not found".)
	case $now in "$old"|"$want") ok ;; *) bad "fetch killed after ${d}s left the branch at $now" ;; esac
	[ "$now" = "$old" ] && landed=$((landed + 1))
	expect 0 V k verify --quiet
	expect 0 git --git-dir "$w/k/repo.git" fsck --connectivity-only --no-progress
	V k fetch "$w/lap1/repo.git" >/dev/null 2>&1
	[ "$(head_of k)" = "$want" ] && ok || bad "fetch after a kill at ${d}s reached $(head_of k), not $want"
done

echo "fetch: $landed of 14 kills landed before the branch moved"

# An import killed mid-way: whole signed commits only, never a torn one.
records c.yaml 400 丁
before=$(residents lap1)
torn=0
for d in 0.02 0.1 0.3 0.6 1.0; do
	rm -rf k && cp -a lap1 k
	"$VLEDGER" -C "$w/k" import resident --file c.yaml --batch 40 >/dev/null 2>&1 &
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	n=$(residents k)
	[ "$n" -lt $((before + 400)) ] && torn=$((torn + 1))
	[ $(((n - before) % 40)) -eq 0 ] && [ "$n" -le $((before + 400)) ] && ok ||
		bad "import killed after ${d}s left $((n - before)) records (not whole commits of 40)"
	expect 0 V k verify --quiet
	expect 0 git --git-dir "$w/k/repo.git" fsck --connectivity-only --no-progress
	# The node works on: the next add signs on top, verify still passes.
	expect 0 V k add resident --set name=戊 --set residence_kind=registered --set address=x --set source=self_report
	expect 0 V k verify --quiet
done

echo "import: $torn of 5 kills landed before the import finished"
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
