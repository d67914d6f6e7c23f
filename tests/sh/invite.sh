#!/usr/bin/env bash
# Invitations end to end against the real binary: invite (token + QR code),
# join, roster approve (kind: join), fetch, then the new node writes and
# verifies. Refusals: tampered, cut or expired tokens, reused requests,
# wrong proofs, an inviter that is not an admin, a missing network key.
# Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
unset VLEDGER_FAKE_TIME_MS
export LC_ALL=C.UTF-8  # character counts and classes of the QR drawing
vl_workdir invite
C() { "$VLEDGER" -C "$w/county" "$@"; }
V() { "$VLEDGER" -C "$w/village" "$@"; }
token_of() { printf '%s\n' "$1" | grep '^vledger1:'; }
invite_field() { sed -n "s/^$2: //p" "$w/county/invites/$1.yaml"; }
now_ms() { date +%s%3N; }
VILLAGE=500243001001
OTHER=500243001002

# The county creates the network, and with it the network key.
expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network
[ "$(stat -c %a county/keys/network.key)" = 600 ] && ok || bad "network.key is not mode 600"
grep -Eq '^vledger-network-key-v1 [A-Za-z0-9+/]{43}=$' county/keys/network.key && ok || bad "network.key format"
git --git-dir county/repo.git ls-tree -r --name-only config | grep -q network.key \
	&& bad "network.key is in the config branch" || ok

# Usage errors.
expect 2 C invite --role village --scope $VILLAGE
expect 2 C invite --role village --scope $VILLAGE --name x --expires 0
expect 2 C invite --role village --scope $VILLAGE --name x --expires 2h
expect 2 "$VLEDGER" -C "$w/x" join
expect 1 C invite --role village --scope 500243001000 --name x
contains "village-level"

# invite: one line, a QR code, a pending invitation without the secret.
expect 0 C invite --role village --scope $VILLAGE --name 鼓楼社区
inv1=$out
tok1=$(token_of "$inv1")
id1=$(printf '%s\n' "$inv1" | sed -n 's/^invitation \([0-9a-f]\{32\}\) .*/\1/p')
[ -n "$tok1" ] && [ -n "$id1" ] && ok || bad "no token or id: $inv1"
[ "$(stat -c %a county/invites/$id1.yaml)" = 600 ] && ok || bad "invitation file is not mode 600"
[ "$(invite_field "$id1" used)" = false ] && ok || bad "new invitation not 'used: false'"
grep -q '^verifier: "ssh-ed25519 ' county/invites/$id1.yaml && ok || bad "no verifier"
grep -qi secret county/invites/$id1.yaml && bad "the invitation file holds a secret" || ok
# The QR code: lines of half blocks, all one width, a light quiet zone.
qr=$(printf '%s\n' "$inv1" | grep -E '^[█▀▄ ]{25,}$')
nq=$(printf '%s\n' "$qr" | grep -c .)
[ "$nq" -ge 13 ] && ok || bad "no QR code printed ($nq lines)"
[ "$(printf '%s\n' "$qr" | while IFS= read -r l; do echo ${#l}; done | sort -u | wc -l)" = 1 ] \
	&& ok || bad "QR lines differ in width"
first=$(printf '%s\n' "$qr" | head -1)
[ -z "$(printf '%s' "$first" | tr -d '█')" ] && ok || bad "QR quiet zone is not light"
[[ $qr == *▀* && $qr == *▄* && $qr == *' '* ]] && ok || bad "QR code lacks half blocks"
# The drawing must read back as the token with a stock QR reader (zbarimg,
# installed by scripts/install-deps.sh): a missing reader fails the test
# rather than skipping the check. Each character is two modules (upper and
# lower half); a light module is drawn, so drawn = white in the image.
qr_pbm() { # stdin: the drawing; stdout: a PBM image, $1 pixels per module
	local s=$1 line top bot c i r out=() row
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		top= bot=
		for ((i = 0; i < ${#line}; i++)); do
			c=${line:i:1}
			case $c in █) top+=0 bot+=0 ;; ▀) top+=0 bot+=1 ;; ▄) top+=1 bot+=0 ;; *) top+=1 bot+=1 ;; esac
		done
		out+=("$top" "$bot")
	done
	echo P1
	echo "$(( ${#out[0]} * s )) $(( ${#out[@]} * s ))"
	for row in "${out[@]}"; do
		line=
		for ((i = 0; i < ${#row}; i++)); do for ((r = 0; r < s; r++)); do line+="${row:i:1} "; done; done
		for ((r = 0; r < s; r++)); do echo "$line"; done
	done
}
if command -v zbarimg >/dev/null; then
	printf '%s\n' "$qr" | qr_pbm 4 > qr.pbm
	[ "$(zbarimg -q --raw qr.pbm 2>/dev/null | head -1)" = "$tok1" ] && ok || bad "the QR code does not read back as the token"
	# Control: with its middle half blanked (beyond error correction) the
	# drawing no longer reads back.
	printf '%s\n' "$qr" | sed "$((nq / 4)),$((3 * nq / 4))s/[█▀▄]/ /g" | qr_pbm 4 > qr2.pbm
	[ "$(zbarimg -q --raw qr2.pbm 2>/dev/null | head -1)" = "$tok1" ] && bad "a damaged QR code read back" || ok
else
	bad "zbarimg is missing: install zbar-tools (scripts/install-deps.sh) to check the QR code"
fi
expect 0 C invite --role village --scope $VILLAGE --name x --no-qr
lacks "█"

# Tampered, cut and foreign tokens are refused and leave nothing behind.
mid=$(( ${#tok1} / 2 ))
c=${tok1:$mid:1}; [ "$c" = A ] && r=B || r=A
expect 1 "$VLEDGER" -C "$w/t1" join "${tok1:0:$mid}$r${tok1:$((mid + 1))}"
contains "checksum"
[ ! -e t1/node.yaml ] && [ ! -e t1/network.yaml ] && ok || bad "a refused join left files"
expect 1 "$VLEDGER" -C "$w/t1" join "${tok1:0:$(( ${#tok1} - 7 ))}"
expect 1 "$VLEDGER" -C "$w/t1" join "vledger2:${tok1#vledger1:}"
contains "not a vledger invitation"
expect 1 "$VLEDGER" -C "$w/t1" join "${tok1}é"
[ ! -e t1/node.yaml ] && ok || bad "a refused join made a node"

# Expired at join (the fake clock is 73 hours ahead).
VLEDGER_FAKE_TIME_MS=$(( $(now_ms) + 73 * 3600 * 1000 )) expect 1 "$VLEDGER" -C "$w/t2" join "$tok1"
contains "expired"
[ ! -e t2/node.yaml ] && ok || bad "an expired token made a node"

# join: a node home like init --network, the network key, the request;
# the token's source is fetched at once.
printf 'village passphrase\n' > pass
expect 0 V join "$tok1" --passphrase-file "$w/pass"
contains "join request"; contains "1 new commit"
cmp -s county/keys/network.key village/keys/network.key && ok || bad "network keys differ"
[ "$(stat -c %a village/keys/network.key)" = 600 ] && ok || bad "joined network.key is not mode 600"
grep -q sealed village/keys/node.key && ok || bad "the joined key is not sealed"
grep -q '^kind: join$' village/join-request.yaml && ok || bad "request lacks kind: join"
export VLEDGER_PASSPHRASE_FILE=$w/pass
expect 1 V join "$tok1"
contains "already holds"
# Not on the roster yet.
expect 1 V add resident --set name=张三 --set residence_kind=registered --set address=x --set source=self_report
contains "not on the roster"

# Wrong proofs: another name, another proof, another key. Nothing changes.
roster0=$(git --git-dir county/repo.git rev-parse config)
sed 's/^name: .*/name: 别人/' village/join-request.yaml > req-name.yaml
expect 4 C roster approve req-name.yaml
contains "proof"
other=$(sed -n 's/^key_proof: //p' village/join-request.yaml)
sed "s|^proof: .*|proof: $other|" village/join-request.yaml > req-proof.yaml
expect 4 C roster approve req-proof.yaml
contains "proof"
expect 0 "$VLEDGER" -C "$w/spare" init --name spare --role village --scope $OTHER --network village/network.yaml
spare=$("$VLEDGER" -C "$w/spare" key | head -1)
sed "s|^key: .*|key: \"$spare\"|" village/join-request.yaml > req-key.yaml
expect 4 C roster approve req-key.yaml
sed 's/^invite: .*/invite: "00000000000000000000000000000000"/' village/join-request.yaml > req-id.yaml
expect 1 C roster approve req-id.yaml
contains "no invitation"
[ "$roster0" = "$(git --git-dir county/repo.git rev-parse config)" ] && ok || bad "config moved on a refused request"
[ "$(invite_field "$id1" used)" = false ] && ok || bad "a refused request used the invitation"

# A stale lock refuses, naming the file.
touch county/invites/$id1.lock
expect 1 C roster approve village/join-request.yaml
contains ".lock"
rm county/invites/$id1.lock

# Approve: the key is on the roster with the invitation's role and scope.
expect 0 C roster approve village/join-request.yaml
contains "added"; contains "vledger fetch"
vfp=$(V key | sed -n 2p)
expect 0 C roster list
contains "$vfp"
[ "$(invite_field "$id1" used)" = true ] && ok || bad "approved invitation not marked used"
[ ! -e county/invites/$id1.lock ] && ok || bad "lock left behind"
# Reused request, and the same token used on a second laptop: refused.
expect 1 C roster approve village/join-request.yaml
contains "already used"
expect 0 "$VLEDGER" -C "$w/second" join "$tok1" --no-fetch
expect 1 C roster approve second/join-request.yaml
contains "already used"

# The new node fetches, writes a record, and everything verifies.
expect 0 V fetch "$w/county/repo.git"
contains "new commit"
expect 0 V add resident --set name=张三 --set residence_kind=registered --set address=x --set source=self_report
expect 0 V verify
contains "all good"
expect 0 C verify

# Expired at approve: a one-hour invitation approved two hours later.
expect 0 C invite --role village --scope $OTHER --name 另一村 --expires 1 --no-qr
tok2=$(token_of "$out")
id2=$(printf '%s\n' "$out" | sed -n 's/^invitation \([0-9a-f]\{32\}\) .*/\1/p')
expect 0 "$VLEDGER" -C "$w/late" join "$tok2" --no-fetch
VLEDGER_FAKE_TIME_MS=$(( $(now_ms) + 2 * 3600 * 1000 )) expect 1 C roster approve late/join-request.yaml
contains "expired"
[ "$(invite_field "$id2" used)" = false ] && ok || bad "an expired approve used the invitation"

# A village key is no admin: its invitation is pending an admin, and its
# approve checks the request but only prints the admin's command.
expect 1 V invite --role village --scope $OTHER --name x --no-qr
contains "does not cover"
expect 0 V invite --role village --scope $VILLAGE --name 第二台 --no-qr
contains "not an admin"
tok3=$(token_of "$out")
expect 0 "$VLEDGER" -C "$w/laptop2" join "$tok3"
before=$(git --git-dir village/repo.git rev-parse config)
expect 1 V roster approve laptop2/join-request.yaml
contains "roster add"; contains "may not change the roster"
[ "$before" = "$(git --git-dir village/repo.git rev-parse config)" ] && ok || bad "a village changed the roster"
cmd=$(printf '%s\n' "$out" | sed -n 's/^  vledger roster add /roster add /p')
[ -n "$cmd" ] && ok || bad "no roster add command printed: $out"
expect 0 eval "C $cmd"
contains "added"
expect 0 "$VLEDGER" -C "$w/laptop2" fetch "$w/county/repo.git"

# The network key: needed to invite, and kept private.
mv village/keys/network.key nk
expect 1 V invite --role village --scope $VILLAGE --name x --no-qr
contains "network key"
mv nk village/keys/network.key
chmod 644 village/keys/network.key
expect 1 V invite --role village --scope $VILLAGE --name x --no-qr
contains "chmod 600"
chmod 600 village/keys/network.key

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
