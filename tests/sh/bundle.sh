#!/usr/bin/env bash
# USB bundles (issue 10), against the real binary and stock git: a
# village's bundle for the county through a "USB stick" directory; stock git
# verifies, clones and fetches a vledger bundle, and vledger applies a
# git-made one (thin, with prerequisites); applying twice or an old bundle
# again is harmless; missing prerequisites say which heads and what to ask
# for; sealed bundles round-trip, are refused by anyone else naming whom they
# are for, and a tampered byte or a truncated file (sealed or plain) is
# refused with the receiver byte for byte unchanged; attack bundles (refs
# outside the receiver's scope, a huge header, too many refs) change
# nothing. Synthetic data.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir bundle

S=500243001001
S2=500243001002
C() { "$VLEDGER" -C "$w/county" "$@"; }
V() { "$VLEDGER" -C "$w/v1" "$@"; }
# Every file of a repository with its hash, and every directory.
snap() { (cd "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort && find . -type d | LC_ALL=C sort); }
# refused_unchanged HOME FILE TEXT: applying FILE at HOME fails (not a
# hang), says TEXT, and HOME's repo.git is byte for byte unchanged, no
# temporary directory left in its cache.
refused_unchanged() {
	local home=$1 file=$2 text=$3 before after got
	before=$(snap "$w/$home/repo.git")
	out=$(timeout 60 "$VLEDGER" -C "$w/$home" bundle apply "$file" 2>&1 </dev/null)
	got=$?
	if [ "$got" -eq 124 ]; then bad "apply of $file hung"; return; fi
	[ "$got" -ne 0 ] && ok || bad "apply of $file succeeded: $out"
	contains "$text"
	after=$(snap "$w/$home/repo.git")
	[ "$before" = "$after" ] && ok || bad "apply of $file was refused but $home changed: $(diff <(echo "$before") <(echo "$after") | head)"
	[ -z "$(ls "$w/$home/cache" 2>/dev/null | grep -E 'bundle-|quarantine')" ] && ok || bad "a temporary directory was left in $home/cache"
}
# unchanged_ok HOME FILE: applying FILE at HOME exits 0 and changes nothing.
unchanged_ok() {
	local before after
	before=$(snap "$w/$1/repo.git")
	expect 0 "$VLEDGER" -C "$w/$1" bundle apply "$2"
	after=$(snap "$w/$1/repo.git")
	[ "$before" = "$after" ] && ok || bad "applying $2 again changed $1: $(diff <(echo "$before") <(echo "$after") | head)"
}
head_of() { git --git-dir "$w/$1/repo.git" rev-parse "$2"; }
zone() { expect 0 "$VLEDGER" -C "$w/$1" add zone ${3:+--scope $3} --set zone_no="$2" --set designation=sealed \
	--set area=a --set status=active --set announced_at=2022-04-06T08:00:00Z; }

# --- A county and a village; the village writes two records. ---
expect 0 C init --name County --role county --scope 500243000000 --new-network
expect 0 C export network --output "$w/network.yaml"
expect 0 V init --name V1 --role village --scope $S --network "$w/network.yaml"
expect 0 C roster add --name V1 --role village --scope $S --key "$(V key | head -1)"
expect 0 V fetch "$w/county/repo.git"
cp -a "$w/v1" "$w/v1old"        # the village before its records: for missing prerequisites
cp -a "$w/county" "$w/county0"  # the county before anything: for git-made bundles
zone v1 Z1
zone v1 Z2

# --- The USB routine: one command each way, a directory named by node and time. ---
mkdir "$w/usb"
expect 0 V bundle create "$w/usb" --for County
contains "2 refs"
f=$(ls "$w"/usb/vledger-*-to-*.bundle)
[ "$(echo "$f" | wc -l)" -eq 1 ] && ok || bad "want one bundle in the usb directory: $f"
expect 0 C bundle apply "$w/usb"
contains "1 updated"
[ "$(head_of county refs/heads/scope/$S)" = "$(head_of v1 refs/heads/scope/$S)" ] && ok || bad "county did not take the village's head"
# Twice: harmless, nothing changes.
unchanged_ok county "$w/usb"

# --- Stock git reads a vledger bundle: verify, clone, fetch. ---
git init -q --bare "$w/plain.git"
expect 0 git --git-dir "$w/plain.git" bundle verify "$f"
expect 0 git clone -q --bare "$f" "$w/cloned.git"
[ "$(git --git-dir "$w/cloned.git" rev-parse refs/heads/scope/$S)" = "$(head_of v1 refs/heads/scope/$S)" ] && ok || bad "git clone of the bundle lacks the scope branch"
expect 0 git --git-dir "$w/plain.git" fetch -q "$f" "refs/heads/*:refs/heads/*"
expect 0 git --git-dir "$w/plain.git" fsck --strict
[ "$(git --git-dir "$w/plain.git" rev-parse refs/heads/config)" = "$(head_of v1 refs/heads/config)" ] && ok || bad "git fetch of the bundle lacks config"

# --- Incremental: the county writes in the village's scope; its bundle for the
# village needs the village's head (last received from it) and holds the rest. ---
zone county Z3 $S
expect 0 C bundle create "$w/c2v.bundle" --for V1
contains "1 prerequisite"
expect 0 git --git-dir "$w/plain.git" bundle verify "$w/c2v.bundle"
out=$(git --git-dir "$w/plain.git" bundle list-heads "$w/c2v.bundle"); contains "refs/heads/scope/$S"
grep -a -q "^-$(head_of v1 refs/heads/scope/$S) scope/$S" "$w/c2v.bundle" && ok || bad "the prerequisite is not the village's head"
# A village that lacks that head: told which and what to ask for; nothing changes.
refused_unchanged v1old "$w/c2v.bundle" "needs 1 commit this node does not hold"
contains "$(head_of v1 refs/heads/scope/$S | cut -c1-12) scope/$S"
contains "--full"
# --full: no prerequisites, so the old village takes it.
expect 0 C bundle create "$w/c2v-full.bundle" --for V1 --full
contains "0 prerequisites"
expect 0 "$VLEDGER" -C "$w/v1old" bundle apply "$w/c2v-full.bundle"
expect 0 V bundle apply "$w/c2v.bundle"
[ "$(head_of v1 refs/heads/scope/$S)" = "$(head_of county refs/heads/scope/$S)" ] && ok || bad "the village did not take the county's record"
# Replay: the first bundle again, after the village moved on.
unchanged_ok county "$f"

# --- A git-made bundle (thin pack, prerequisites) applied by vledger. ---
zone v1 Z4
git --git-dir "$w/v1/repo.git" bundle create -q "$w/git.bundle" refs/heads/config refs/heads/scope/$S \
	"^$(head_of county refs/heads/scope/$S)" 2>/dev/null && ok || bad "git bundle create failed"
grep -a -q "^-" "$w/git.bundle" && ok || bad "the git-made bundle has no prerequisite"
expect 0 C bundle apply "$w/git.bundle"
contains "1 updated"
[ "$(head_of county refs/heads/scope/$S)" = "$(head_of v1 refs/heads/scope/$S)" ] && ok || bad "county did not take the git-made bundle"
# A whole one with HEAD and every ref (--all), into the county as it began.
git --git-dir "$w/v1/repo.git" bundle create -q "$w/git-all.bundle" --all 2>/dev/null && ok || bad "git bundle create --all failed"
expect 0 "$VLEDGER" -C "$w/county0" bundle apply "$w/git-all.bundle"
[ "$(head_of county0 refs/heads/scope/$S)" = "$(head_of v1 refs/heads/scope/$S)" ] && ok || bad "county0 did not take the --all bundle"

# --- Sealed: round trip, unreadable to others, wrong recipient named. ---
zone county Z5 $S
expect 0 C bundle create "$w/sealed.bundle" --for V1 --seal-to V1
contains "sealed to SHA256:"
head -1 "$w/sealed.bundle" | grep -q "^# vledger sealed v1$" && ok || bad "no sealed header"
grep -a -q "refs/heads" "$w/sealed.bundle" && bad "the sealed bundle shows ref names in clear" || ok
expect 1 git --git-dir "$w/plain.git" bundle verify "$w/sealed.bundle"
# Someone else (here the county itself) refuses it, saying for whom it is.
refused_unchanged county "$w/sealed.bundle" "sealed to 'V1'"
# Tampered: one byte flipped in the middle, then in the last chunk.
size=$(stat -c %s "$w/sealed.bundle")
for at in $((size / 2)) $((size - 3)) 120; do
	cp "$w/sealed.bundle" "$w/tampered.bundle"
	printf '\x55' | dd of="$w/tampered.bundle" bs=1 seek=$at conv=notrunc status=none
	cmp -s "$w/sealed.bundle" "$w/tampered.bundle" && printf '\xaa' | dd of="$w/tampered.bundle" bs=1 seek=$at conv=notrunc status=none
	refused_unchanged v1 "$w/tampered.bundle" "nothing was applied"
done
# Truncated: the final chunk missing, and cut inside a chunk.
head -c $((size - 30)) "$w/sealed.bundle" > "$w/trunc.bundle"
refused_unchanged v1 "$w/trunc.bundle" "truncated"
head -c 200 "$w/sealed.bundle" > "$w/trunc2.bundle"
refused_unchanged v1 "$w/trunc2.bundle" "truncated"
# Bytes after the final chunk.
cp "$w/sealed.bundle" "$w/long.bundle"; printf 'x' >> "$w/long.bundle"
refused_unchanged v1 "$w/long.bundle" "after its final chunk"
# The real recipient takes it; then again: harmless.
expect 0 V bundle apply "$w/sealed.bundle"
contains "sealed to this node"
[ "$(head_of v1 refs/heads/scope/$S)" = "$(head_of county refs/heads/scope/$S)" ] && ok || bad "the sealed bundle did not arrive"
unchanged_ok v1 "$w/sealed.bundle"

# --- A plain bundle tampered or truncated: refused, nothing changed. ---
zone v1 Z6
expect 0 V bundle create "$w/plain.bundle" --for County
size=$(stat -c %s "$w/plain.bundle")
cp "$w/plain.bundle" "$w/ptamper.bundle"
printf '\x00\x01\x02' | dd of="$w/ptamper.bundle" bs=1 seek=$((size - 40)) conv=notrunc status=none
refused_unchanged county "$w/ptamper.bundle" "corrupt or tampered"
head -c $((size - 100)) "$w/plain.bundle" > "$w/ptrunc.bundle"
refused_unchanged county "$w/ptrunc.bundle" "truncated"
awk 'NR==1' "$w/plain.bundle" > "$w/hdronly.bundle"
refused_unchanged county "$w/hdronly.bundle" "truncated"

# --- A directory: bundles for others are skipped and said so. ---
mkdir "$w/usb2"
expect 0 C bundle create "$w/usb2" --for V1 --seal-to V1
expect 0 V bundle create "$w/usb2" --for County
out=$(C bundle apply "$w/usb2" 2>&1); code=$?
[ $code -eq 0 ] && ok || bad "county apply of usb2: exit $code: $out"
contains "skipped, sealed to 'V1'"
contains "1 updated"

# --- A node whose key is sealed with a passphrase needs it only for a bundle
# sealed to itself. ---
echo "secret words" > "$w/pass"
expect 0 "$VLEDGER" -C "$w/v1p" init --name V1P --role village --scope $S --network "$w/network.yaml" \
	--passphrase-file "$w/pass"
expect 0 C roster add --name V1P --role village --scope $S --key "$("$VLEDGER" -C "$w/v1p" key | head -1)"
expect 0 "$VLEDGER" -C "$w/v1p" fetch "$w/county/repo.git"
refused_unchanged v1p "$w/sealed.bundle" "sealed to 'V1'"
expect 0 "$VLEDGER" -C "$w/v1p" bundle apply "$w/plain.bundle"
expect 0 C bundle create "$w/to-v1p.bundle" --seal-to V1P --scope $S
refused_unchanged v1p "$w/to-v1p.bundle" "passphrase"
expect 0 "$VLEDGER" -C "$w/v1p" bundle apply "$w/to-v1p.bundle" --passphrase-file "$w/pass"
contains "sealed to this node"
# A plain bundle named for another node in a directory: skipped, said so.
mkdir "$w/usb3"
expect 0 C bundle create "$w/usb3" --for V1P
before=$(snap "$w/v1/repo.git")
expect 0 V bundle apply "$w/usb3"
contains "skipped, made for another node's key"   # v1 has not seen V1P's roster entry
[ "$before" = "$(snap "$w/v1/repo.git")" ] && ok || bad "a bundle made for V1P changed v1"
expect 0 C bundle apply "$w/usb3"
contains "skipped, made for 'V1P'"

# --- Attack bundles: nothing changes. ---
cfg=$(head_of v1 refs/heads/config)
scope=$(head_of v1 refs/heads/scope/$S)
# Refs outside the village's scope (a sibling village, a county branch) plus
# junk names: the village takes none of them.
{
	printf '# v2 git bundle\n%s refs/heads/config\n%s refs/heads/scope/%s\n%s refs/heads/scope/500243000000\n%s refs/remotes/x/y\n%s refs/heads/scope/%s\n\n' \
		"$cfg" "$scope" "$S2" "$scope" "$scope" "$scope" "$S"
	git --git-dir "$w/v1/repo.git" pack-objects --stdout --revs -q <<<"$scope"
} > "$w/outside.bundle"
unchanged_ok v1 "$w/outside.bundle"
[ -z "$(git --git-dir "$w/v1/repo.git" for-each-ref refs/heads/scope/$S2 refs/heads/scope/500243000000 refs/remotes)" ] && ok || bad "a ref outside the village's scope was created"
# A huge header (9 MiB of prerequisite lines).
{ printf '# v2 git bundle\n'; yes -- "-$cfg" | head -n 230000; printf '%s refs/heads/config\n\n' "$cfg"; } > "$w/huge.bundle"
refused_unchanged v1 "$w/huge.bundle" "over"
# A delta bomb: a 1-byte blob and a delta on it declaring 8 GiB (a valid
# pack checksum, so only the size check stands in the way).
python3 - "$cfg" "$w/bomb.bundle" <<'PY'
import hashlib, sys, zlib
def entry(t, n):
    c = t << 4 | (n & 15); n >>= 4; out = b""
    while n:
        out += bytes([c | 0x80]); c = n & 0x7f; n >>= 7
    return out + bytes([c])
delta = bytes([0x01, 0x80, 0x80, 0x80, 0x80, 0x20, 0x90, 0x01])
pack = b"PACK" + (2).to_bytes(4, "big") + (2).to_bytes(4, "big")
first = len(pack)
pack += entry(3, 1) + zlib.compress(b"a")
here = len(pack)
pack += entry(6, len(delta)) + bytes([here - first]) + zlib.compress(delta)
pack += hashlib.sha1(pack).digest()
open(sys.argv[2], "wb").write(b"# v2 git bundle\n" + sys.argv[1].encode() + b" refs/heads/config\n\n" + pack)
PY
refused_unchanged v1 "$w/bomb.bundle" "delta making 8589934592 bytes"
# Many refs.
{ printf '# v2 git bundle\n'; seq 1 100001 | sed "s|^|$cfg refs/heads/x|"; printf '\n'; } > "$w/many.bundle"
refused_unchanged v1 "$w/many.bundle" "over 100000 refs"
# A line far over the cap, a v3 bundle, not a bundle at all, a FIFO.
{ printf '# v2 git bundle\n%s refs/heads/' "$cfg"; head -c 5000 /dev/zero | tr '\0' a; printf '\n\n'; } > "$w/longline.bundle"
refused_unchanged v1 "$w/longline.bundle" "over 1024 bytes"
printf '# v3 git bundle\n@object-format=sha1\n%s refs/heads/config\n\n' "$cfg" > "$w/v3.bundle"
refused_unchanged v1 "$w/v3.bundle" "v3"
echo "hello" > "$w/not.bundle"
refused_unchanged v1 "$w/not.bundle" "not a git bundle"
mkfifo "$w/fifo.bundle"
refused_unchanged v1 "$w/fifo.bundle" "not a regular file"

# --- Usage. ---
expect 2 V bundle create "$w/x.bundle" --for County --scope $S
expect 1 V bundle create "$w/x.bundle" --for Nobody
contains "not a name on the roster"
expect 1 V bundle create "$w/plain.bundle"
contains "exists"

echo "bundle.sh: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
