#!/usr/bin/env bash
# Network sync (issue 9) with real `vledger serve` processes on loopback
# (ports the kernel picks): village <-> township sync both ways with
# concurrent edits, identical heads after; the county pulls; refs go only
# per scope (a village holds no object of another village's records); an
# unknown key and a revoked key are dropped after the handshake; a wrong
# network key gets no byte back; a peer offering a forged commit is
# refused with the server byte for byte unchanged; a trickling peer and an
# extra connection over the cap do not stall others; a byte cap ends a
# session with nothing applied; SIGKILL of either end mid-transfer, then
# the retry completes without resending what was kept, and verify passes.
# Synthetic data.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir net

CO=500243000000 T=500243001000 S1=500243001001 S2=500243001002
X() { local h=$1; shift; "$VLEDGER" -C "$w/$h" "$@"; }
snap() { (cd "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort && find . -type d | LC_ALL=C sort); }
head_of() { git --git-dir "$w/$1/repo.git" rev-parse -q --verify "$2" 2>/dev/null; }
zone() { expect 0 X "$1" add zone ${3:+--scope $3} --set zone_no="$2" --set designation=sealed \
	--set area=a --set status=active --set announced_at=2022-04-06T08:00:00Z; }
vl_kill_on_exit
# serve HOME [ARGS...]: start `vledger serve` on a free loopback port; $port gets it.
serve() {
	local h=$1; shift
	rm -f "$w/$h.out"
	"$VLEDGER" -C "$w/$h" serve --listen 127.0.0.1:0 "$@" >"$w/$h.out" 2>"$w/$h.err" &
	pids+=($!)
	eval "pid_$h=$!"
	for _ in $(seq 100); do
		port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$w/$h.out" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] && ok || bad "serve at $h did not start: $(cat "$w/$h.err")"
	eval "port_$h=$port"
}

# --- A county, a township, two villages; the network key travels beside network.yaml. ---
expect 0 X county init --name County --role county --scope $CO --new-network
expect 0 X county export network --output "$w/network.yaml"
for n in town:Town:township:$T v1:V1:village:$S1 v2:V2:village:$S2 v1b:V1b:village:$S1; do
	IFS=: read -r h name role scope <<<"$n"
	expect 0 X "$h" init --name "$name" --role "$role" --scope "$scope" --network "$w/network.yaml"
	expect 0 X county roster add --name "$name" --role "$role" --scope "$scope" --key "$(X "$h" key | head -1)"
done
# An outsider with the network key but not on the roster.
expect 0 X stranger init --name Stranger --role village --scope $S2 --network "$w/network.yaml"
for h in town v1 v2 v1b stranger; do expect 0 X "$h" fetch "$w/county/repo.git"; done

serve town
serve county
expect 0 X town peer add county 127.0.0.1:$port_county --key "$(X county key | sed -n 2p | awk '{print $1}')"
expect 0 X town peer list
contains "county  127.0.0.1:$port_county"

# --- Villages write offline, then sync with the township (its key found from the roster). ---
zone v1 Z1; r1=$(echo "$out" | tail -1)
zone v1 Z2
zone v2 Y1
expect 0 X v1 sync 127.0.0.1:$port_town
contains "both ends hold the same heads"
expect 0 X v2 sync 127.0.0.1:$port_town
[ "$(head_of town refs/heads/scope/$S1)" = "$(head_of v1 refs/heads/scope/$S1)" ] && ok || bad "township lacks v1's head"
[ "$(head_of town refs/heads/scope/$S2)" = "$(head_of v2 refs/heads/scope/$S2)" ] && ok || bad "township lacks v2's head"
# refs/peers/ names the authenticated peer.
v1fp=$(X v1 key | sed -n 2p | awk '{print $1}' | sed 's/^SHA256://; s#/#_#g; s/+/-/g')
[ -n "$(head_of town refs/peers/$v1fp/scope/$S1)" ] && ok || bad "township did not record v1's head under refs/peers/$v1fp"

# --- Two laptops of one village edit the same record offline; sync through the township. ---
expect 0 X v1b sync 127.0.0.1:$port_town
expect 0 X v1 edit "$r1" --set area=b
expect 0 X v1b edit "$r1" --set status=lifted
expect 0 X v1b sync 127.0.0.1:$port_town
expect 0 X v1 sync 127.0.0.1:$port_town
contains "both ends hold the same heads"
expect 0 X v1b sync 127.0.0.1:$port_town
h=$(head_of town refs/heads/scope/$S1)
[ "$(head_of v1 refs/heads/scope/$S1)" = "$h" ] && [ "$(head_of v1b refs/heads/scope/$S1)" = "$h" ] && ok ||
	bad "laptops and township differ after sync"
expect 0 X v1 show "$r1" --json
contains '"area":"b"'; contains '"status":"lifted"'

# --- Privacy: no village holds an object of another village's records. ---
# The township advertises only what a peer may read: v2's new record is not
# even sent to v1 (nothing arrives for v1 to drop).
zone v2 Y3
expect 0 X v2 sync 127.0.0.1:$port_town
expect 0 X v1 sync 127.0.0.1:$port_town --json
contains '"pulled": {"chunks": 1, "objects": 0,'
for pair in v1:$S2 v1b:$S2 v2:$S1; do
	IFS=: read -r h other <<<"$pair"
	[ -z "$(head_of "$h" refs/heads/scope/$other)" ] && ok || bad "$h holds branch scope/$other"
	leaked=0
	for b in $(git --git-dir "$w/town/repo.git" ls-tree -r refs/heads/scope/$other | awk '{print $3}'); do
		git --git-dir "$w/$h/repo.git" cat-file -e "$b" 2>/dev/null && leaked=$((leaked + 1))
	done
	[ "$leaked" -eq 0 ] && ok || bad "$h holds $leaked record objects of scope/$other"
done

# --- The county pulls from the township (a peer name with its key), sending nothing. ---
expect 0 X county peer add town 127.0.0.1:$port_town --key "$(X town key | sed -n 2p | awk '{print $1}')"
before_town=$(snap "$w/town/repo.git")
expect 0 X county pull town
[ "$(head_of county refs/heads/scope/$S1)" = "$(head_of town refs/heads/scope/$S1)" ] && ok || bad "county lacks v1"
[ "$(head_of county refs/heads/scope/$S2)" = "$(head_of town refs/heads/scope/$S2)" ] && ok || bad "county lacks v2"
expect 0 X county status --json
contains '"name": "town"'; contains '"last_success": 1'; contains '"waiting_commits": 0'; contains '"key_known": true'

# --- A scheduled sync: the township's serve --sync-every reaches the county. ---
kill "$pid_town"; wait "$pid_town" 2>/dev/null
zone v1 Z3
serve town --sync-every 1s
expect 0 X v1 sync 127.0.0.1:$port_town
for _ in $(seq 100); do
	[ "$(head_of county refs/heads/scope/$S1)" = "$(head_of town refs/heads/scope/$S1)" ] && break
	sleep 0.2
done
[ "$(head_of county refs/heads/scope/$S1)" = "$(head_of town refs/heads/scope/$S1)" ] && ok ||
	bad "the township's schedule did not bring v1's new record to the county"
expect 0 X town status
contains "last success: 2"
kill "$pid_town"; wait "$pid_town" 2>/dev/null
serve town

# --- An unreachable peer: the error is kept for `status`; the schedule backs off. ---
expect 0 X v1 peer add dead 127.0.0.1:1
expect 1 X v1 sync dead --timeout 2
contains "cannot connect"
expect 0 X v1 status
contains "last error:   2"; contains "cannot connect"
expect 0 X v1 status --json
contains '"failures": 1'
# A server that does not prove the key named: the error (long, in Chinese
# here) is kept whole for `status`, not cut inside a character.
expect 0 X v1 peer add wrongkey 127.0.0.1:$port_town --key "$(X v2 key | sed -n 2p | awk '{print $1}')"
expect 1 env -u LC_MESSAGES -u LANG LANGUAGE=zh_CN LC_ALL=C.UTF-8 "$VLEDGER" -C "$w/v1" sync wrongkey --timeout 5
msg=$(printf '%s\n' "$out" | sed -n 's/^vledger: //p')
[ "$(printf '%s' "$msg" | wc -c)" -gt 300 ] && ok || bad "not the long message: $out"
expect 0 X v1 status
contains "($msg)"

# --- Unknown key: dropped after the handshake, nothing advertised, nothing changed. ---
before=$(snap "$w/town/repo.git")
expect 1 X stranger sync 127.0.0.1:$port_town --timeout 5
contains "closed"
[ "$before" = "$(snap "$w/town/repo.git")" ] && ok || bad "the stranger's session changed the township"
[ -z "$(head_of stranger refs/heads/scope/$S1)" ] && ok || bad "the stranger received a branch"

# --- Wrong network key / garbage: no byte back. Extra connection over the cap: closed at once. ---
got=$(python3 - "$port_town" <<'PY'
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(os.urandom(64))
data = b""
try:
    while True:
        d = s.recv(4096)
        if not d: break
        data += d
except socket.timeout:
    print("timeout"); sys.exit()
print(len(data))
PY
)
[ "$got" = "0" ] && ok || bad "a wrong network key got '$got' bytes back"

# --- A trickling peer does not stall others; the handshake deadline ends it. ---
python3 - "$port_town" >"$w/trickle.out" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.time()
try:
    for i in range(64):
        s.sendall(b"\0"); time.sleep(1)
    print("not closed")
except OSError:
    print("closed after %d" % (time.time() - t0))
PY
tp=$!
sleep 1
zone v1 Z4
t0=$(date +%s)
expect 0 X v1 sync 127.0.0.1:$port_town
[ $(( $(date +%s) - t0 )) -lt 8 ] && ok || bad "a sync waited behind a trickling peer"
wait $tp
grep -q "closed after" "$w/trickle.out" && ok || bad "the trickling peer was never cut off: $(cat "$w/trickle.out")"

# --- Revoked key: the county revokes v2; once the township holds that config, v2 is dropped. ---
v2fp=$(X v2 key | sed -n 2p | awk '{print $1}')
expect 0 X county roster revoke "$v2fp" --reason "laptop lost"
expect 0 X town pull county
zone v2 Y2
before=$(snap "$w/town/repo.git")
expect 1 X v2 sync 127.0.0.1:$port_town --timeout 5
[ "$before" = "$(snap "$w/town/repo.git")" ] && ok || bad "a revoked key's session changed the township"

# --- A malicious peer (v1's key) offers a forged, unsigned commit: refused, township unchanged. ---
cp -a "$w/v1" "$w/evil"
tree=$(git --git-dir "$w/evil/repo.git" rev-parse "refs/heads/scope/$S1^{tree}")
forged=$(GIT_AUTHOR_NAME=x GIT_AUTHOR_EMAIL=x GIT_COMMITTER_NAME=x GIT_COMMITTER_EMAIL=x \
	git --git-dir "$w/evil/repo.git" commit-tree "$tree" -p "$(head_of evil refs/heads/scope/$S1)" -m forged)
git --git-dir "$w/evil/repo.git" update-ref "refs/heads/scope/$S1" "$forged"
before=$(snap "$w/town/repo.git")
expect 4 X evil sync 127.0.0.1:$port_town --timeout 10
[ "$before" = "$(snap "$w/town/repo.git")" ] && ok || bad "a forged commit changed the township: $(diff <(echo "$before") <(snap "$w/town/repo.git") | head)"
git --git-dir "$w/town/repo.git" cat-file -e "$forged" 2>/dev/null && bad "the township keeps the forged commit" || ok

# --- A byte cap per session: a large push is cut off, nothing of it applied. ---
for i in $(seq 1 600); do printf '  - {zone_no: B%d, designation: sealed, area: a, status: active, announced_at: "2022-04-06T08:00:00Z"}\n' "$i"; done |
	{ echo "records:"; cat; } >"$w/big.yaml"
expect 0 X v1 import zone --file "$w/big.yaml" --batch 1
serve town --max-bytes 20000
capped=$port
before=$(snap "$w/town/repo.git")
expect 1 X v1 sync 127.0.0.1:$capped --timeout 10
[ "$(head_of town refs/heads/scope/$S1)" != "$(head_of v1 refs/heads/scope/$S1)" ] && ok || bad "the capped session took everything"
git --git-dir "$w/town/repo.git" fsck --strict >/dev/null 2>&1 && ok || bad "township repository corrupt after the cap"
kill "$pid_town"; wait "$pid_town" 2>/dev/null

# --- SIGKILL mid-transfer (the client, then the server), then the retry completes. ---
# The client is killed right after the township kept its first chunk (a
# whole receive, recorded under refs/peers/): the retry must not send that
# chunk's objects again.
serve town
peerref=refs/peers/$v1fp/scope/$S1
for victim in client server; do
	[ $victim = server ] && { zone v1 K1; expect 0 X v1 import zone --file <(sed 's/B/C/' "$w/big.yaml") --batch 1; }
	kept_before=$(head_of town $peerref)
	town_before=$(head_of town refs/heads/scope/$S1)
	# The serve's children before the sync: its LAN announcer, no session.
	base=" $(ps -o pid= --ppid "$pid_town" | tr '\n' ' ') "
	"$VLEDGER" -C "$w/v1" sync 127.0.0.1:$port_town >/dev/null 2>&1 &
	cp=$!
	if [ $victim = client ]; then
		for _ in $(seq 400); do [ "$(head_of town $peerref)" != "$kept_before" ] && break; sleep 0.02; done
		kill -9 $cp 2>/dev/null
		# The session that served the killed client notices on its own and
		# cleans up as it ends; under load that can come after the retry
		# below, so wait for it (the serve reaps it within a second) before
		# the retry and the check of the township's cache.
		olds=$(for c in $(ps -o pid= --ppid "$pid_town"); do [[ $base == *" $c "* ]] || echo "$c"; done)
		for _ in $(seq 300); do
			alive=
			for c in $olds; do kill -0 "$c" 2>/dev/null && alive=1; done
			[ -z "$alive" ] && break
			sleep 0.1
		done
		[ -z "$alive" ] && ok || bad "the session of the killed client did not end"
	else
		sleep 0.$((RANDOM % 6 + 3))
		for c in $(ps -o pid= --ppid "$pid_town"); do [[ $base == *" $c "* ]] || kill -9 "$c" 2>/dev/null; done
	fi
	wait $cp 2>/dev/null
	[ $victim = server ] && { kill "$pid_town" 2>/dev/null; wait "$pid_town" 2>/dev/null; serve town; }
	kept=$(head_of town $peerref)
	expect 0 X v1 sync 127.0.0.1:$port_town --json
	contains '"identical": true'
	sent=$(echo "$out" | sed -n 's/.*"pushed": {"chunks": [0-9]*, "objects": \([0-9]*\).*/\1/p')
	full=$(git --git-dir "$w/v1/repo.git" rev-list --objects refs/heads/scope/$S1 --not $town_before | wc -l)
	if [ $victim = client ]; then
		[ "$kept" != "$kept_before" ] && ok || bad "the township kept no chunk before the client was killed"
		echo "retry after a kept chunk sent $sent of $full objects"
		[ -n "$sent" ] && [ "$sent" -lt "$full" ] && ok || bad "the retry sent $sent objects of $full: the kept chunk went again"
	fi
	[ "$(head_of town refs/heads/scope/$S1)" = "$(head_of v1 refs/heads/scope/$S1)" ] && ok || bad "retry after killing the $victim did not complete"
	expect 0 X town verify --quiet
	expect 0 X v1 verify --quiet
	[ -z "$(ls "$w/town/cache" | grep -E 'net-|quarantine')" ] || [ $victim = server ] && ok || bad "a temporary directory was left in the township's cache"
done
# Nothing acknowledged lost: every record v1 wrote is at the township.
n1=$(git --git-dir "$w/v1/repo.git" ls-tree -r --name-only refs/heads/scope/$S1 | grep -c '^zone/')
nt=$(git --git-dir "$w/town/repo.git" ls-tree -r --name-only refs/heads/scope/$S1 | grep -c '^zone/')
[ "$n1" -eq "$nt" ] && [ "$n1" -ge 600 ] && ok || bad "township holds $nt zone records of v1's $n1"

# --- serve SIGKILLed while a session is open: its LAN announcer ends with
# serve, not only when that session ends (sessions are forked after the
# announcer and inherit its pipe; the idle one below lives 10 s). ---
kill "$pid_town" 2>/dev/null; wait "$pid_town" 2>/dev/null
serve town
# live PID: the process exists and is not a zombie (a reaper may be slow).
live() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }
ann=$(ps -o pid= --ppid "$pid_town" | tr -d ' ')
[ -n "$ann" ] && ok || bad "serve started no LAN announcer"
exec 7<>"/dev/tcp/127.0.0.1/$port_town"     # a session that never says hello
sess=
for _ in $(seq 100); do
	sess=$(for c in $(ps -o pid= --ppid "$pid_town"); do [ "$c" = "$ann" ] || echo "$c"; done)
	[ -n "$sess" ] && break
	sleep 0.05
done
[ -n "$sess" ] && ok || bad "serve forked no session for the idle connection"
kill -9 "$pid_town"; wait "$pid_town" 2>/dev/null
for _ in $(seq 40); do live "$ann" || break; sleep 0.05; done
still=; for c in $sess; do live "$c" && still=1; done
! live "$ann" && ok || bad "the LAN announcer outlived serve's SIGKILL${still:+ while a session was still open}"
exec 7>&-
for c in $ann $sess; do kill -9 "$c" 2>/dev/null; done

echo "net: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
