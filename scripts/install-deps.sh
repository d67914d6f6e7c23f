#!/usr/bin/env bash
# Install what vledger needs to build, test and run its demo, from Debian 12
# packages. Does nothing when everything is already there. Run as root (or
# with sudo available).
set -euo pipefail

pkgs=(build-essential cmake pkg-config git openssh-client gettext   # gettext: msgfmt builds po/*.po
      libgit2-dev libyaml-dev libsodium-dev zlib1g-dev libcmocka-dev libqrencode-dev
      libmicrohttpd-dev curl   # the web UI (vledger ui) and its HTTP test tests/sh/ui.sh
      zbar-tools lighttpd openssh-server   # tests/sh/remote.sh: git http-backend and ssh hubs
      iproute2 xxd   # tests/sh/lan.sh: network namespaces, datagrams built by hand
      python3 time   # tests/sh: crafted packs and datagrams (thin.sh, bundle.sh, remote_bomb.sh), free ports; peak RSS (remote_bomb.sh, test_receive)
      chromium fonts-wqy-zenhei)   # tests/sh/aggregate_html.sh, tests/ui/ (puppeteer-core): headless
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm for the secret-handshake interop test (tests/interop/) and the
# web UI's browser test (tests/ui/), by
# command: a node from another source (nodesource bundles npm) is kept.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
