# Scaffolding shared by the shell tests in tests/sh/*.sh; each sources it
# first. It lives below lib/ so the tests/sh/*.sh glob in tests/CMakeLists.txt
# does not take it for a test.
#
# Gives: the VLEDGER / VL_SOURCE_DIR checks, VLEDGER_SCHEMA_DIR, a clean
# environment, vl_workdir (scratch dir $w, removed on exit), the pass/fail
# counters and ok/bad/expect/contains/lacks/refs.
set -uo pipefail
: "${VLEDGER:?set VLEDGER to the vledger binary}"
: "${VL_SOURCE_DIR:?}"
export VLEDGER_SCHEMA_DIR=$VL_SOURCE_DIR/schemas
unset VLEDGER_PASSPHRASE_FILE VLEDGER_HOME VLEDGER_OPERATOR
# English messages whatever the caller's locale (ctest sets the same); a test
# of the Chinese messages sets LANG/LANGUAGE per command (tests/sh/i18n.sh).
export LANGUAGE= LC_ALL=C.UTF-8

# vl_workdir NAME: make a scratch directory $w (/tmp/vltest-NAME.XXXXXX),
# remove it on exit, and cd into it.
vl_workdir() {
	w=$(mktemp -d "/tmp/vltest-$1.XXXXXX") || exit 1
	trap 'rm -rf "$w"' EXIT
	cd "$w" || exit 1
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
