# Scaffolding shared by the shell tests in tests/sh/*.sh; each sources it
# first. It lives below lib/ so the tests/sh/*.sh glob in tests/CMakeLists.txt
# does not take it for a test.
#
# Gives: the VLEDGER / VL_SOURCE_DIR checks, VLEDGER_SCHEMA_DIR, a clean
# environment, vl_workdir (scratch dir $w, removed on exit), vl_kill_on_exit
# (background servers in pids killed at exit), the pass/fail
# counters and ok/bad/expect/contains/lacks/refs/same; vl_network and
# vl_enrol (a county and village nodes); cn_id; the JSON checks json_list,
# j, is and jexpect (jq).
set -uo pipefail
: "${VLEDGER:?set VLEDGER to the vledger binary}"
: "${VL_SOURCE_DIR:?}"
export VLEDGER_SCHEMA_DIR=$VL_SOURCE_DIR/schemas
unset VLEDGER_PASSPHRASE_FILE VLEDGER_HOME VLEDGER_OPERATOR
# English messages whatever the caller's locale (ctest sets the same); a test
# of the Chinese messages sets LANG/LANGUAGE per command (tests/sh/i18n.sh).
export LANGUAGE= LC_ALL=C.UTF-8
# Never a terminal on stdin: run from a shell, a command that needs a sealed
# key would ask for its passphrase there (agent/node/passprompt.h) and wait.
# Tests that want a terminal make one (ptydrive, script).
exec </dev/null

# vl_workdir NAME: make a scratch directory $w (/tmp/vltest-NAME.XXXXXX),
# remove it on exit, and cd into it.
vl_workdir() {
	w=$(mktemp -d "/tmp/vltest-$1.XXXXXX") || exit 1
	trap 'rm -rf "$w"' EXIT
	cd "$w" || exit 1
}
# vl_kill_on_exit: after vl_workdir, for a test that starts servers in the
# background: each one's pid goes in the array pids (`server & pids+=($!)`),
# and at exit every one is killed and reaped before $w is removed (a server
# left running would outlive the test and hold its port and $w).
vl_kill_on_exit() {
	pids=()
	trap vl_exit_kill EXIT
}
vl_exit_kill() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$w"
}

fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect CODE CMD...: run, capture output in $out, check the exit code.
expect() {
	local want=$1; shift
	out=$("$@" 2>&1); local got=$?
	if [ "$got" -eq "$want" ]; then ok; else bad "exit $got (want $want): $* :: $out"; fi
}
contains() { case "$out" in *"$1"*) ok ;; *) bad "output lacks '$1': $out" ;; esac; }
lacks() { case "$out" in *"$1"*) bad "output shows '$1': $out" ;; *) ok ;; esac; }
# refs NODE: every ref of node NODE (a directory below $w) and its object.
refs() { git --git-dir "$w/$1/repo.git" for-each-ref --format='%(refname) %(objectname)'; }
# same WHAT A B: A and B are the same string.
same() { [ "$2" = "$3" ] && ok || bad "$1: '$2' != '$3'"; }

# vl_network COUNTY SCOPE DIR NAME [DIR NAME...]: a county node $w/county
# named COUNTY (scope 500243000000, a new network exported to
# $w/network.yaml) and, for each DIR NAME, a village node $w/DIR named NAME
# of SCOPE joined to that network. Nothing goes on the roster: vl_enrol.
vl_network() {
	local county=$1 scope=$2
	shift 2
	expect 0 "$VLEDGER" -C "$w/county" init --name "$county" --role county --scope 500243000000 --new-network
	expect 0 "$VLEDGER" -C "$w/county" export network --output "$w/network.yaml"
	while [ $# -ge 2 ]; do
		expect 0 "$VLEDGER" -C "$w/$1" init --name "$2" --role village --scope "$scope" --network "$w/network.yaml"
		shift 2
	done
}
# vl_enrol DIR NAME SCOPE: the county puts village node $w/DIR on its roster
# as NAME of SCOPE; the node does not fetch yet.
vl_enrol() {
	expect 0 "$VLEDGER" -C "$w/county" roster add --name "$2" --role village --scope "$3" \
		--key "$("$VLEDGER" -C "$w/$1" key | head -1)"
}

# cn_id BODY: a synthetic resident ID, the 17 digits BODY and their MOD 11-2
# check character.
cn_id() {
	local body=$1 wt=(7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2) c=10X98765432 s=0 i
	for i in $(seq 0 16); do s=$((s + ${body:$i:1} * ${wt[$i]})); done
	echo "$body${c:$((s % 11)):1}"
}
# A JSON list field's items of a record, one per line, sorted.
json_list() { sed -n "s/.*\"$1\":\[\([^]]*\)\].*/\1/p" <<<"$2" | tr ',' '\n' | sort | tr '\n' ' '; }
# j FILTER: jq -r FILTER on $out; the result in $got.
j() { got=$(printf '%s' "$out" | jq -r "$1" 2>&1) || bad "not JSON ($1): $out"; }
# is FILTER WANT: jq -r FILTER on $out gives WANT.
is() { j "$1"; [ "$got" = "$2" ] && ok || bad "$1 is '$got', want '$2' in: $out"; }
# jexpect CODE CMD...: like expect, stdout only (stderr must not mix in, it
# goes to $w/err), and stdout is one line.
jexpect() {
	local want=$1; shift
	out=$("$@" 2>"$w/err"); local rc=$?
	[ "$rc" -eq "$want" ] && ok || bad "exit $rc (want $want): $* :: $out $(cat "$w/err")"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && ok || bad "not one line: $out"
}
# A free TCP port on 127.0.0.1, below the ephemeral range (scripts/lib/port.bash
# says why); `vledger serve` takes port 0 instead and says its port.
source "$VL_SOURCE_DIR/scripts/lib/port.bash"
free_port() { vl_free_port; }
# wait_port PORT: until something listens there (5 s).
wait_port() {
	local i
	for i in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
