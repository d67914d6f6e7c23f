#!/usr/bin/env bash
# `cmake --install --prefix P` puts the binary, the serve unit and the
# sysusers.d file under P; the unit runs P's binary with its hardening
# (NoNewPrivileges, ProtectSystem=strict, the node home the only writable
# path, PrivateTmp ...), and `systemd-analyze verify` accepts it without a
# word (that part is skipped, with the reason printed, where systemd-analyze
# is missing); `systemd-analyze security` rates it OK or better. The
# message catalogs are installed and found by the installed binary.
source "$(dirname "$0")/lib/common.bash"
: "${VL_BUILD_DIR:?set VL_BUILD_DIR to the cmake build directory}"
vl_workdir install

P=$w/prefix
expect 0 cmake --install "$VL_BUILD_DIR" --prefix "$P"
unit=$P/lib/systemd/system/vledger-serve@.service
[ -x "$P/bin/vledger" ] && ok || bad "no $P/bin/vledger"
expect 0 "$P/bin/vledger" --version
[ -f "$unit" ] && ok || bad "no $unit"
[ -f "$P/lib/sysusers.d/vledger.conf" ] && ok || bad "no sysusers.d/vledger.conf"
out=$(cat "$unit" 2>/dev/null)
contains "ExecStart=$P/bin/vledger serve \$VLEDGER_SERVE_ARGS"
for d in User=vledger Environment=VLEDGER_HOME=/var/lib/vledger/%i StateDirectory=vledger/%i \
		ReadWritePaths=/var/lib/vledger/%i NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
		PrivateTmp=yes PrivateDevices=yes "CapabilityBoundingSet=" UMask=0077 \
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK"; do
	grep -qxF "$d" "$unit" && ok || bad "unit lacks the line '$d'"
done
out=$(cat "$P/lib/sysusers.d/vledger.conf" 2>/dev/null)
contains 'u vledger - "vledger sync agent" /var/lib/vledger'

# The Chinese catalog is installed, and the installed binary finds it
# beside itself (../share/locale) although the prefix was chosen at install
# time, not at configure time.
[ -f "$P/share/locale/zh_CN/LC_MESSAGES/vledger.mo" ] && ok || bad "no $P/share/locale/zh_CN/LC_MESSAGES/vledger.mo"
out=$(LANGUAGE= LC_ALL= LANG=zh_CN.UTF-8 "$P/bin/vledger" frobnicate 2>&1)
contains "未知命令“frobnicate”"
out=$(LANGUAGE= LC_ALL= LANG=en_US.UTF-8 "$P/bin/vledger" frobnicate 2>&1)
contains "unknown command 'frobnicate'"

if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP (part): systemd-analyze is not installed, so the unit is not checked by systemd"
else
	# A template is checked through an instance of it.
	mkdir "$w/units"
	cp "$unit" "$w/units/vledger-serve@township.service"
	expect 0 systemd-analyze verify --man=no "$w/units/vledger-serve@township.service"
	[ -z "$out" ] && ok || bad "systemd-analyze verify complained: $out"
	if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
		expect 0 systemd-analyze security --offline=yes "$w/units/vledger-serve@township.service"
		level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\2/p')
		case "$level" in OK|SAFE) ok ;; *) bad "systemd-analyze security rates the unit '$level': $out" ;; esac
	else
		echo "SKIP (part): this systemd-analyze has no 'security --offline'"
	fi
fi

echo "install.sh: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
