#!/usr/bin/env bash
# LAN discovery between two network namespaces joined by a veth pair that
# this test makes (docs/formats.md §8.4): a county node announces itself in
# namespace A; a village node in namespace B runs `vledger peer list --lan`
# and hears it, at A's veth address, with the county's roster name. From A,
# datagrams of another network, of the wrong length, of another version
# and garbage are sent to B and ignored; a well-formed one of the right
# network (its hash computed here with sha256sum, not by vledger) is heard,
# so the ignored ones did arrive. Needs root (CI runs as root) and iproute2;
# skips with 77 and says why otherwise.
source "$(dirname "$0")/lib/common.bash"

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "making network namespaces needs root (CI runs this test as root)"
command -v ip >/dev/null || skip "'ip' (iproute2) is not installed; scripts/install-deps.sh installs it"
: "${LAN_ANNOUNCE:?set LAN_ANNOUNCE to the lan_announce test tool}"

vl_workdir lan
tag=vl$$
A=${tag}a B=${tag}b
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	ip link del "${tag}x" 2>/dev/null
	rm -rf "$w"
}
trap cleanup EXIT
ip netns add "$A" 2>/dev/null || skip "cannot create a network namespace here ('ip netns add' failed: no CAP_SYS_ADMIN, or no netns support in this kernel/container)"
ip netns add "$B" || skip "cannot create a second network namespace"
ip link add "${tag}x" type veth peer name "${tag}y" 2>/dev/null || skip "cannot create a veth pair here ('ip link add type veth' failed)"
ip link set "${tag}x" netns "$A"
ip link set "${tag}y" netns "$B"
ip -n "$A" addr add 10.231.7.1/24 dev "${tag}x"
ip -n "$B" addr add 10.231.7.2/24 dev "${tag}y"
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set "${tag}x" up
ip -n "$B" link set "${tag}y" up

V() { "$VLEDGER" -C "$w/$1" "${@:2}"; }
V county init --name 彭水县民政局 --role county --scope 500243000000 --new-network >/dev/null || bad "county init"
V county export network --output "$w/network.yaml" >/dev/null || bad "export network"
V village init --name 鼓楼社区 --role village --scope 500243001001 --network "$w/network.yaml" >/dev/null ||
	bad "village init"
V county roster add --name 鼓楼社区 --role village --scope 500243001001 --key "$(V village key | head -1)" \
	>/dev/null || bad "roster add"
V village fetch "$w/county/repo.git" >/dev/null || bad "village fetch"
county_fp=$(V county key | sed -n 's/.*\(SHA256:[A-Za-z0-9+/]*\).*/\1/p' | head -1)
net=$(sed -n 's/^network: *"\{0,1\}\([0-9a-f]*\)"\{0,1\}$/\1/p' "$w/village/node.yaml")
[ ${#net} -eq 32 ] || bad "network id not found in node.yaml: '$net'"
[ -n "$county_fp" ] || bad "county fingerprint not found"

# The announcements as the docs define them, built here independently.
hexbytes() { xxd -r -p; }
net_hash=$(printf 'vledger-lan-v1\0%s' "$net" | sha256sum | cut -c1-64)
other_hash=$(printf 'vledger-lan-v1\0%s' ffffffffffffffffffffffffffffffff | sha256sum | cut -c1-64)
cfp_hex=$(printf '%s=' "${county_fp#SHA256:}" | base64 -d | xxd -p -c 64)
rnd_hex=$(head -c 32 /dev/urandom | xxd -p -c 64)
dgram() { printf '564c414e%s%04x%s%s' "$1" "$2" "$3" "$4" | hexbytes; } # VERSION+RESERVED PORT NETHASH FP
dgram 0100 1001 "$other_hash" "$cfp_hex" > other-network       # another network
{ dgram 0100 1002 "$net_hash" "$cfp_hex"; printf '\0'; } > too-long
dgram 0200 1003 "$net_hash" "$cfp_hex" > version-2
head -c 72 /dev/urandom > garbage
dgram 0100 1004 "$net_hash" "$rnd_hex" > control               # ours: must be heard
[ "$(wc -c < other-network)" -eq 72 ] && [ "$(wc -c < too-long)" -eq 73 ] || bad "test datagrams mis-built"

# A: the county announces (as serve will) for 8 s, every 0.5 s, TCP port 7433.
ip netns exec "$A" "$LAN_ANNOUNCE" "$w/county" 7433 8 500 2> announce.log &
pids+=($!)
# A: the county again, as if serving on 127.0.0.1:7999 only: not announced
# on the veth, where that port cannot be reached.
ip netns exec "$A" "$LAN_ANNOUNCE" "$w/county" 7999 8 500 127.0.0.1 2> announce-lo.log &
pids+=($!)
# A: the impostors and the control, unicast to B, every 0.3 s.
ip netns exec "$A" bash -c 'for i in $(seq 10); do
	for f in other-network too-long version-2 garbage control; do cat "$f" > /dev/udp/10.231.7.2/7433; done
	sleep 0.3; done' &
pids+=($!)
# B: the village listens for 3 s on the default port.
expect 0 ip netns exec "$B" "$VLEDGER" -C "$w/village" peer list --lan --wait 3
echo "$out"
contains "10.231.7.1:7433"
contains "$county_fp"
contains "彭水县民政局 (admin 500243000000)"
contains "10.231.7.1:1004"    # the control, not on the roster
lacks ":1001"                 # another network
lacks ":1002"                 # one byte too long
lacks ":1003"                 # version 2
lacks "127.0.0.1"             # A's loopback is not B's
lacks ":7999"                 # announced on A's loopback only
n=$(printf '%s\n' "$out" | grep -c '^10\.')
[ "$n" -eq 2 ] && ok || bad "want exactly 2 announcers heard, got $n: $out"

# The same as JSON, and a node of no network hears nobody: a second listener
# in B with another network id does not list the county.
expect 0 ip netns exec "$B" "$VLEDGER" -C "$w/village" peer list --lan --wait 2 --json
contains '"address": "10.231.7.1"'
contains '"port": 7433'
contains '"on_roster": true'
contains '"name": "彭水县民政局"'
V other init --name 别的网 --role county --scope 500243000000 --new-network >/dev/null || bad "other init"
expect 0 ip netns exec "$B" "$VLEDGER" -C "$w/other" peer list --lan --wait 2
contains "no node of this network announced itself"

for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
pids=()
grep -q "rounds" announce.log && ok || bad "announcer did not run: $(cat announce.log)"
grep -q "rounds" announce-lo.log && ok || bad "loopback announcer did not run: $(cat announce-lo.log)"

# sync --lan across the namespaces, with real serve processes in A: the
# county on 10.231.7.1:7433 (announcing itself), and the township on
# 10.231.7.1:1006, for which a forged announcement claims the county's key.
# The village tries the forged address first (lower port), the handshake
# fails there (the township cannot prove the county's key), then the real
# one completes: what an announcement says is never trusted.
V town init --name 汉葭街道 --role township --scope 500243001000 --network "$w/network.yaml" >/dev/null ||
	bad "town init"
V county roster add --name 汉葭街道 --role township --scope 500243001000 --key "$(V town key | head -1)" \
	>/dev/null || bad "roster add town"
V town fetch "$w/county/repo.git" >/dev/null || bad "town fetch"
V village fetch "$w/county/repo.git" >/dev/null || bad "village fetch again"
ip netns exec "$A" "$VLEDGER" -C "$w/county" serve --listen 10.231.7.1:7433 > county.serve.log 2>&1 &
pids+=($!)
ip netns exec "$A" "$VLEDGER" -C "$w/town" serve --listen 10.231.7.1:1006 > town.serve.log 2>&1 &
pids+=($!)
dgram 0100 1006 "$net_hash" "$cfp_hex" > forged
# (and the control of above again: of our network, but no roster key: never contacted)
ip netns exec "$A" bash -c 'for i in $(seq 30); do cat forged > /dev/udp/10.231.7.2/7433
	cat control > /dev/udp/10.231.7.2/7433; sleep 0.3; done' &
pids+=($!)
rec=$(V village add volunteer --set name=张三 --set phone=13700000003 --set team=t 2>&1) || bad "add: $rec"
vhead=$(git --git-dir "$w/village/repo.git" rev-parse refs/heads/scope/500243001001)
sleep 0.5
expect 0 ip netns exec "$B" "$VLEDGER" -C "$w/village" sync --lan --wait 3
echo "$out"
contains "彭水县民政局 ($county_fp) at 10.231.7.1:7433: received"
contains "1 other address announced for this key failed"   # the forged one, tried first
lacks ":1004"                 # not on the roster: not synced with
contains "汉葭街道"
[ "$(git --git-dir "$w/county/repo.git" rev-parse -q --verify refs/heads/scope/500243001001)" = "$vhead" ] &&
	ok || bad "the county does not hold the village's head after sync --lan"
[ "$(git --git-dir "$w/town/repo.git" rev-parse -q --verify refs/heads/scope/500243001001)" = "$vhead" ] &&
	ok || bad "the township does not hold the village's head after sync --lan"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
pids=()

echo "lan.sh: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
