#!/bin/bash
# shs_interop.sh - vledger's secure channel against the npm reference
# implementation (secret-handshake 1.1.21 + pull-box-stream 1.0.13, pinned
# in package.json / package-lock.json), both roles: C client <-> JS server
# and JS client <-> C server, data through box-stream both ways (sizes across
# the 4096-byte box boundary), a wrong network key / wrong server key
# refused across implementations, and tests/golden/shs-kat.txt (the
# known answer test_shs compares with) still the reference's output. The npm packages are installed with
# `npm ci` into the build tree on first run; the test skips (77) only when
# node or that install is unavailable, and says why.
# Environment (tests/CMakeLists.txt): SHS_PEER (the C peer binary),
# INTEROP_SRC (this directory), INTEROP_DIR (a build-tree directory).
set -u
: "${SHS_PEER:?}" "${INTEROP_SRC:?}" "${INTEROP_DIR:?}"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

command -v node >/dev/null 2>&1 || skip "node is not installed (scripts/install-deps.sh installs nodejs and npm)"
command -v npm >/dev/null 2>&1 || skip "npm is not installed (scripts/install-deps.sh installs nodejs and npm)"
mkdir -p "$INTEROP_DIR" || fail "cannot create $INTEROP_DIR"
if ! cmp -s "$INTEROP_SRC/package-lock.json" "$INTEROP_DIR/package-lock.json" ||
		[ ! -d "$INTEROP_DIR/node_modules/secret-handshake" ]; then
	cp "$INTEROP_SRC/package.json" "$INTEROP_SRC/package-lock.json" "$INTEROP_DIR/" || fail "copy"
	if ! (cd "$INTEROP_DIR" && npm ci --no-audit --no-fund >npm.log 2>&1); then
		tail -5 "$INTEROP_DIR/npm.log"
		rm -f "$INTEROP_DIR/package-lock.json"
		skip "npm ci of secret-handshake/pull-box-stream failed (no registry?); log: $INTEROP_DIR/npm.log"
	fi
fi
export NODE_PATH="$INTEROP_DIR/node_modules"
JS="$INTEROP_SRC/shs_peer.js"

NETKEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
OTHERKEY=ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
CSEED=1111111111111111111111111111111111111111111111111111111111111111
SSEED=2222222222222222222222222222222222222222222222222222222222222222
XSEED=3333333333333333333333333333333333333333333333333333333333333333
pk() { node -e "process.stdout.write(require('chloride').crypto_sign_seed_keypair(Buffer.from('$1','hex')).publicKey.toString('hex'))"; }
CPK=$(pk $CSEED) && SPK=$(pk $SSEED) && XPK=$(pk $XSEED) || fail "node cannot load chloride"
[ ${#CPK} = 64 ] || fail "bad public key from node: $CPK"

TMP=$(mktemp -d) || fail mktemp

SRV_PID=
cleanup() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
# the known-answer file test_shs checks vledger against is the reference's output
node "$INTEROP_SRC/shs_kat.js" >"$TMP/kat.txt" 2>"$TMP/kat.err" || { cat "$TMP/kat.err"; fail "shs_kat.js"; }
cmp -s "$TMP/kat.txt" "$INTEROP_SRC/../golden/shs-kat.txt" ||
	fail "tests/golden/shs-kat.txt is not what the reference makes now (node tests/interop/shs_kat.js)"
echo "ok: tests/golden/shs-kat.txt is the reference's known answer"

# start_server CMD... : runs a server, waits for its "port N" line, sets PORT
start_server() {
	: >"$TMP/srv.out" # truncate here: the background job's redirection may come late
	"$@" >"$TMP/srv.out" 2>"$TMP/srv.err" &
	SRV_PID=$!
	PORT=
	for _ in $(seq 1 200); do
		PORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$TMP/srv.out")
		[ -n "$PORT" ] && return 0
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$TMP/srv.err"
	fail "server '$*' did not start"
}
# wait_server WANT: the server's exit status must be WANT
wait_server() {
	wait "$SRV_PID"; local st=$?
	SRV_PID=
	[ "$st" = "$1" ] || { cat "$TMP/srv.out" "$TMP/srv.err"; fail "server exited $st, wanted $1"; }
}

for BYTES in 0 1 4096 4097 200000; do
	# C client -> JS server
	start_server node "$JS" server $NETKEY $SSEED $CPK $BYTES
	"$SHS_PEER" client "$PORT" $NETKEY $CSEED $SPK $BYTES || fail "C client vs JS server, $BYTES bytes"
	wait_server 0
	echo "ok: C client <-> JS server, $BYTES bytes each way"
	# JS client -> C server
	start_server "$SHS_PEER" server $NETKEY $SSEED $CPK $BYTES
	node "$JS" client "$PORT" $NETKEY $CSEED $SPK $BYTES || fail "JS client vs C server, $BYTES bytes"
	wait_server 0
	echo "ok: JS client <-> C server, $BYTES bytes each way"
done

# a JS client of another network: the C server refuses (and sends nothing)
start_server "$SHS_PEER" server $NETKEY $SSEED $CPK 10 deny
node "$JS" client "$PORT" $OTHERKEY $CSEED $SPK 10 2>"$TMP/js.err" && fail "JS client of another network was served"
wait_server 0
echo "ok: C server refuses a JS client with another network key"
# a C client of another network: the JS server refuses
start_server node "$JS" server $NETKEY $SSEED $CPK 10
"$SHS_PEER" client "$PORT" $OTHERKEY $CSEED $SPK 10 deny || fail "C client of another network not refused"
wait_server 1
echo "ok: JS server refuses a C client with another network key"
# a C client expecting another server key: refused by the JS server
start_server node "$JS" server $NETKEY $SSEED $CPK 10
"$SHS_PEER" client "$PORT" $NETKEY $CSEED $XPK 10 deny || fail "C client with a wrong server key not refused"
wait_server 1
echo "ok: a C client expecting another server key is refused"
# a JS client expecting another server key: the C server refuses it
start_server "$SHS_PEER" server $NETKEY $SSEED $CPK 10 deny
node "$JS" client "$PORT" $NETKEY $CSEED $XPK 10 2>"$TMP/js.err" && fail "JS client with a wrong server key was served"
wait_server 0
echo "ok: the C server refuses a JS client expecting another key"
