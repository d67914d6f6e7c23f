#!/usr/bin/env bash
# The network key (the secret handshake's capability, keys/network.key) on
# its way from the county to nodes made with 'init --network': 'export
# network --output DIR/network.yaml' writes DIR/network.key (mode 600),
# 'init --network DIR/network.yaml' takes it from beside the file and
# stores it 0600, a bad key file stops init before anything is made, and
# the key never enters the config branch.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir netkey
C() { "$VLEDGER" -C "$w/county" "$@"; }

expect 0 C init --name county --role county --scope 500243000000 --new-network
[ "$(stat -c %a "$w/county/keys/network.key")" = 600 ] && ok || bad "county network.key is not mode 600"
key=$(cat "$w/county/keys/network.key")
case "$key" in "vledger-network-key-v1 "*) ok ;; *) bad "county network.key format: $key" ;; esac

# export writes the key beside the file, 0600, the same bytes
mkdir -p "$w/usb"
expect 0 C export network --output "$w/usb/network.yaml"
contains "network.key"
[ -f "$w/usb/network.yaml" ] && ok || bad "no network.yaml"
[ "$(stat -c %a "$w/usb/network.key")" = 600 ] && ok || bad "exported network.key is not mode 600"
cmp -s "$w/county/keys/network.key" "$w/usb/network.key" && ok || bad "exported key differs"
# to standard output: only the yaml, no key anywhere
expect 0 C export network
contains "root_keys"
lacks "vledger-network-key"

# the key is in no object of the config branch (nor any object at all)
b64=${key#vledger-network-key-v1 }
git --git-dir "$w/county/repo.git" rev-list --objects --all | awk '{print $1}' |
	git --git-dir "$w/county/repo.git" cat-file --batch >"$w/objects.all" || bad "cannot read the objects"
if grep -aqF "$b64" "$w/objects.all"; then
	bad "the network key is in the repository"
else
	ok
fi

# init --network takes it
expect 0 "$VLEDGER" -C "$w/v1" init --name v1 --role village --scope 500243001001 --network "$w/usb/network.yaml"
contains "network key taken"
[ "$(stat -c %a "$w/v1/keys/network.key")" = 600 ] && ok || bad "v1 network.key is not mode 600"
cmp -s "$w/county/keys/network.key" "$w/v1/keys/network.key" && ok || bad "v1 key differs"
# even when the copy is readable by others (removable media): stored 0600
chmod 644 "$w/usb/network.key"
expect 0 "$VLEDGER" -C "$w/v1b" init --name v1b --role village --scope 500243001002 --network "$w/usb/network.yaml"
[ "$(stat -c %a "$w/v1b/keys/network.key")" = 600 ] && ok || bad "v1b network.key is not mode 600"
# a node made from a file with no key beside it has none, and says so
mkdir -p "$w/bare" && cp "$w/usb/network.yaml" "$w/bare/"
expect 0 "$VLEDGER" -C "$w/v2" init --name v2 --role village --scope 500243001003 --network "$w/bare/network.yaml"
contains "no network.key"
[ ! -e "$w/v2/keys/network.key" ] && ok || bad "v2 has a network key from nowhere"
# it exports no key either (it has none), and that is not an error
expect 0 "$VLEDGER" -C "$w/v2" fetch "$w/county/repo.git"
mkdir -p "$w/out2"
expect 0 "$VLEDGER" -C "$w/v2" export network --output "$w/out2/network.yaml"
[ ! -e "$w/out2/network.key" ] && ok || bad "a node without a key exported one"
# a relative path: the key lands beside the file in the current directory
(cd "$w/out2" && "$VLEDGER" -C "$w/county" export network --output n.yaml >/dev/null) &&
	[ -f "$w/out2/network.key" ] && ok || bad "relative --output: no network.key beside it"

# a damaged key file beside the network file: init refuses, makes nothing
mkdir -p "$w/bad" && cp "$w/usb/network.yaml" "$w/bad/"
printf 'vledger-network-key-v1 AAAA\n' > "$w/bad/network.key"
expect 1 "$VLEDGER" -C "$w/v3" init --name v3 --role village --scope 500243001004 --network "$w/bad/network.yaml"
contains "not a network key file"
[ ! -e "$w/v3" ] && ok || bad "a refused init left $w/v3 behind"

# a group-readable keys/network.key is refused on export (not copied on)
chmod 640 "$w/county/keys/network.key"
expect 1 C export network --output "$w/usb/again.yaml"
contains "chmod 600"
chmod 600 "$w/county/keys/network.key"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
