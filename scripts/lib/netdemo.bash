# netdemo.bash - running a network of node homes on loopback, for
# scripts/demo.sh and tests/sh/net3.sh (sourced; needs $VLEDGER).
#
#   vl_serve HOME            start `vledger serve` on 127.0.0.1, port 0 (the kernel
#                            chooses); wait until it says its port; sets
#                            vl_port[HOME], vl_pid[HOME]
#   vl_stop_all              stop every serve started (TERM, then KILL), by pid
#   vl_fp HOME               the node's key fingerprint
#   vl_holdings HOME         one line per branch: code, records, head
#
# Each serve's output goes to HOME.serve.log (beside the home, not in it).
# LAN announcements go to UDP $VLEDGER_LAN_PORT: set to a random port here
# unless given, so two runs on one machine do not hear each other's nodes
# (they would ignore them anyway: other networks).

declare -A vl_port=() vl_pid=()
: "${VLEDGER_LAN_PORT:=$((10000 + RANDOM % 20000))}"   # UDP, below the ephemeral range
export VLEDGER_LAN_PORT

source "$(dirname "${BASH_SOURCE[0]}")/port.bash"

# The server binds port 0 and prints the port the kernel gave it ("listening
# on ... (port N)", or its Chinese "（端口 N）"): no other process can take the
# port between our choice and its bind.
vl_serve() {
	local home=$1 p= i
	"$VLEDGER" -C "$home" serve --listen 127.0.0.1:0 "${@:2}" > "$home.serve.log" 2>&1 &
	vl_pid[$home]=$!
	for i in $(seq 100); do
		p=$(grep -m1 -oE '(port|端口) [0-9]+' "$home.serve.log" 2>/dev/null | grep -oE '[0-9]+$') || true
		if [ -n "$p" ] && [ "$p" != 0 ]; then
			vl_port[$home]=$p
			return 0
		fi
		if ! kill -0 "${vl_pid[$home]}" 2>/dev/null; then
			echo "vledger serve for '$home' exited: $(cat "$home.serve.log")" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "vledger serve for '$home' did not say its port after 10 s: $(cat "$home.serve.log")" >&2
	return 1
}

vl_stop_all() {
	local h n=0
	for h in "${!vl_pid[@]}"; do
		kill -TERM "${vl_pid[$h]}" 2>/dev/null && n=$((n + 1))
	done
	for h in "${!vl_pid[@]}"; do
		for _ in $(seq 50); do kill -0 "${vl_pid[$h]}" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "${vl_pid[$h]}" 2>/dev/null || true
		wait "${vl_pid[$h]}" 2>/dev/null || true
	done
	vl_pid=()
	[ "$n" -eq 0 ] || echo "stopped $n serve processes"
}

vl_fp() { "$VLEDGER" -C "$1" key | sed -n 2p; }

# Branches a node holds, with how many records each branch's head has.
vl_holdings() {
	local git="git --git-dir $1/repo.git" b n
	for b in $($git for-each-ref --format='%(refname:strip=2)' refs/heads/); do
		n=$($git ls-tree -r --name-only "refs/heads/$b" | awk -F/ 'NF == 3 && $1 != "schemas"' | wc -l)
		printf '    %-20s %4s records  %s\n' "$b" "$n" "$($git rev-parse --short "refs/heads/$b")"
	done
}
