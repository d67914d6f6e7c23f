# port.bash - a TCP port on 127.0.0.1 for a server that cannot be told to
# take port 0 and say which port it got (git daemon, lighttpd, sshd, a test
# proxy). Sourced by scripts/lib/netdemo.bash and tests/sh/lib/common.bash.
#
# vl_free_port prints a port that nothing accepts on now, chosen at random
# BELOW the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range).
# A port from inside that range (what binding port 0 and closing gives) can be
# taken, before the server binds it, as the local port of any outgoing
# connection on the machine: a parallel test's client did exactly that to a
# CI run (EADDRINUSE). Below the range only another explicit bind can collide.
# `vledger serve` itself takes --listen 127.0.0.1:0 and prints its port.
vl_free_port() {
	local lo=32768 hi p n
	read -r lo hi 2>/dev/null < /proc/sys/net/ipv4/ip_local_port_range || true
	[ "$lo" -gt 12000 ] || lo=32768   # a range starting this low cannot be avoided
	for n in $(seq 200); do
		p=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
		echo "$p"
		return 0
	done
	echo "vl_free_port: no free port below $lo after 200 tries" >&2
	return 1
}
