#!/usr/bin/env bash
# The 3-tier network with real processes on loopback (issue 9, "Tests that
# must exist"): a county, two townships, four villages and a second laptop
# of one village, each its own home and `vledger serve`. Villages sync with
# their township, townships with the county, the county pulls; the two
# laptops edit the same record offline and converge through the township;
# every node verifies; the privacy scan (scripts/privacy-scan.sh) finds no
# object of another scope's records in any node, and finds them when a
# township is scanned as if it were one of its villages (the scan sees);
# `sync --lan` finds the township by its LAN announcement and syncs. Every
# serve process is stopped at the end (checked).
source "$(dirname "$0")/lib/common.bash"
source "$VL_SOURCE_DIR/scripts/lib/netdemo.bash"
vl_workdir net3
trap 'vl_stop_all >/dev/null; rm -rf "$w"' EXIT
scan=$VL_SOURCE_DIR/scripts/privacy-scan.sh

N() { "$VLEDGER" -C "$w/$1" "${@:2}"; }
C=500243000000 T1=500243001000 T2=500243002000
declare -A scope=([county]=$C [town1]=$T1 [town2]=$T2 [v1]=500243001001 [v1b]=500243001001
	[v2]=500243001002 [v3]=500243002001 [v4]=500243002002)
declare -A role=([town1]=township [town2]=township [v1]=village [v1b]=village [v2]=village [v3]=village
	[v4]=village)
N county init --name 县 --role county --scope $C --new-network >/dev/null || bad "county init"
N county export network --output "$w/network.yaml" >/dev/null || bad "export network"
for h in town1 town2 v1 v1b v2 v3 v4; do
	N $h init --name "n-$h" --role ${role[$h]} --scope ${scope[$h]} --network "$w/network.yaml" >/dev/null ||
		bad "init $h"
	N county roster add --name "n-$h" --role ${role[$h]} --scope ${scope[$h]} --key "$(N $h key | head -1)" \
		>/dev/null || bad "roster add $h"
done
for h in town1 town2 v1 v1b v2 v3 v4; do N $h fetch "$w/county/repo.git" >/dev/null || bad "fetch config $h"; done
for h in county town1 town2 v1 v1b v2 v3 v4; do vl_serve "$w/$h" || bad "serve $h"; done
peer() { expect 0 N "$1" peer add "$2" "127.0.0.1:${vl_port[$w/$2]}" --key "$(vl_fp "$w/$2")"; }
for h in v1 v1b v2; do peer $h town1; done
for h in v3 v4; do peer $h town2; done
peer town1 county; peer town2 county; peer county town1; peer county town2

# Each village writes; villages sync with their township.
declare -A rec
for h in v1 v2 v3 v4; do
	rec[$h]=$(N $h add volunteer --set name="n$h" --set phone=13700000003 --set team=t 2>&1) || bad "add $h: ${rec[$h]}"
done
for h in v1 v2; do expect 0 N $h sync town1; done
for h in v3 v4; do expect 0 N $h sync town2; done
tip() { git --git-dir "$w/$1/repo.git" rev-parse -q --verify "refs/heads/scope/$2"; }
for h in v1 v2; do [ "$(tip town1 ${scope[$h]})" = "$(tip $h ${scope[$h]})" ] && ok || bad "town1 lacks $h's head"; done
for h in v3 v4; do [ "$(tip town2 ${scope[$h]})" = "$(tip $h ${scope[$h]})" ] && ok || bad "town2 lacks $h's head"; done

# The second laptop takes the village's ledgers through the township; both
# edit the same record offline; they meet through the township.
expect 0 N v1b sync town1
[ "$(tip v1b ${scope[v1]})" = "$(tip v1 ${scope[v1]})" ] && ok || bad "v1b did not get v1's branch"
expect 0 N v1 edit "${rec[v1]}" --set phone=13700000011
expect 0 N v1b edit "${rec[v1]}" --set team=t2
expect 0 N v1 sync town1
expect 0 N v1b sync town1
expect 0 N v1 sync town1
h1=$(tip v1 ${scope[v1]}) h2=$(tip v1b ${scope[v1]}) h3=$(tip town1 ${scope[v1]})
[ "$h1" = "$h2" ] && [ "$h2" = "$h3" ] && ok || bad "laptops and township differ: $h1 $h2 $h3"
expect 0 N v1 show "${rec[v1]}" --reveal
contains "13700000011"
contains "t2"

# The county pulls from both townships: it holds every village's head.
expect 0 N county pull town1
expect 0 N county pull town2
for h in v1 v2; do [ "$(tip county ${scope[$h]})" = "$(tip town1 ${scope[$h]})" ] && ok || bad "county lacks $h"; done
for h in v3 v4; do [ "$(tip county ${scope[$h]})" = "$(tip town2 ${scope[$h]})" ] && ok || bad "county lacks $h"; done

# Every node verifies.
for h in county town1 town2 v1 v1b v2 v3 v4; do expect 0 N $h verify --quiet; done

# The privacy scan: nothing outside each node's scope ...
for h in town1 town2 v1 v1b v2 v3 v4; do expect 0 "$scan" "$w/$h" "$w/county/repo.git" "${scope[$h]}"; done
# ... and the scan sees: a township holds its other village's records.
expect 1 "$scan" "$w/town1" "$w/county/repo.git" "${scope[v1]}"
contains "LEAK"
# No village has a ref or object of another village (direct check too).
for h in v1 v1b v2 v3 v4; do
	out=$(git --git-dir "$w/$h/repo.git" for-each-ref --format='%(refname)' | grep '/scope/' | grep -v "${scope[$h]}")
	[ -z "$out" ] && ok || bad "$h holds refs of other scopes: $out"
done

# sync --lan: the second laptop finds the township by its announcement.
expect 0 N v1b edit "${rec[v1]}" --set team=t3
expect 0 N v1b sync --lan --wait 3
[ "$(tip town1 ${scope[v1]})" = "$(tip v1b ${scope[v1]})" ] && ok || bad "sync --lan did not reach town1"

pids="${vl_pid[*]}"
vl_stop_all >/dev/null
for p in $pids; do kill -0 "$p" 2>/dev/null && bad "serve pid $p still running" || ok; done

echo "net3.sh: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
