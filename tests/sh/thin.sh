#!/usr/bin/env bash
# Thin packs on the receive path (agent/sync/bundle.c vl_pack_index_file,
# which network chunks and bundles share), against the real binary: the
# receiver completes a thin pack from its own objects itself and gives
# libgit2's indexer no object database, since libgit2 1.5's own completion
# spins forever on a delta that resolves to an object the pack already
# holds. Hostile packs, each in a bundle applied at the county (which holds
# two villages' records): a REF_DELTA on a base the county lacks; a delta on
# a base it holds declaring 8 GiB; two equal deltas on a record of another
# scope than the sender's (the spin); a delta that rebuilds that record. Each
# is refused, without hanging, the county byte for byte unchanged. A
# git-made thin bundle (bases the county holds) is taken. Synthetic data.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir thin

S=500243001001
S2=500243001002
C() { "$VLEDGER" -C "$w/county" "$@"; }
snap() { (cd "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort && find . -type d | LC_ALL=C sort); }
# refused_unchanged FILE TEXT: applying FILE at the county fails within 60 s,
# says TEXT, and changes nothing.
refused_unchanged() {
	local file=$1 text=$2 before after got
	before=$(snap "$w/county/repo.git")
	out=$(timeout 60 "$VLEDGER" -C "$w/county" bundle apply "$file" 2>&1 </dev/null)
	got=$?
	if [ "$got" -eq 124 ]; then bad "apply of $file hung"; return; fi
	[ "$got" -ne 0 ] && ok || bad "apply of $file succeeded: $out"
	contains "$text"
	after=$(snap "$w/county/repo.git")
	[ "$before" = "$after" ] && ok || bad "apply of $file was refused but the county changed: $(diff <(echo "$before") <(echo "$after") | head)"
	[ -z "$(ls "$w/county/cache" 2>/dev/null | grep -E 'bundle-|quarantine')" ] && ok || bad "a temporary directory was left in the county's cache"
}
zone() { expect 0 "$VLEDGER" -C "$w/$1" add zone --set zone_no="$2" --set designation=sealed \
	--set area=a --set status=active --set announced_at=2022-04-06T08:00:00Z; }

# --- A county and two villages, each with a record; the county holds both. ---
expect 0 C init --name County --role county --scope 500243000000 --new-network
expect 0 C export network --output "$w/network.yaml"
for v in v1:V1:$S v2:V2:$S2; do
	IFS=: read -r h name scope <<<"$v"
	expect 0 "$VLEDGER" -C "$w/$h" init --name "$name" --role village --scope "$scope" --network "$w/network.yaml"
	expect 0 C roster add --name "$name" --role village --scope "$scope" --key "$("$VLEDGER" -C "$w/$h" key | head -1)"
	expect 0 "$VLEDGER" -C "$w/$h" fetch "$w/county/repo.git"
done
zone v1 Z1
zone v2 Z2
expect 0 C fetch "$w/v1/repo.git"
expect 0 C fetch "$w/v2/repo.git"
cfg=$(git --git-dir "$w/county/repo.git" rev-parse refs/heads/config)
# A record blob of village 2: held by the county, not readable by village 1.
rec=$(git --git-dir "$w/county/repo.git" ls-tree -r "refs/heads/scope/$S2" | awk '$2 == "blob" && $4 ~ /^zone\// {print $3; exit}')
[ -n "$rec" ] && ok || bad "village 2 has no zone record"

# thin_bundle OUT MODE: a bundle (ref: config) whose pack is MODE:
#   missing  a REF_DELTA on an object nobody holds
#   bomb     a REF_DELTA on the record declaring a result of 8 GiB
#   twice    the same REF_DELTA on the record twice (one result, two entries)
#   rebuild  a REF_DELTA on the record whose result is the record itself
thin_bundle() {
	python3 - "$cfg" "$rec" "$(git --git-dir "$w/county/repo.git" cat-file -s "$rec")" "$1" "$2" <<'PY'
import hashlib, sys, zlib
cfg, rec, size, out, mode = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def varint(n):
    b = b""
    while True:
        c = n & 0x7f; n >>= 7
        b += bytes([c | (0x80 if n else 0)])
        if not n: return b
def entry(t, n):
    c = t << 4 | (n & 15); n >>= 4; o = b""
    while n:
        o += bytes([c | 0x80]); c = n & 0x7f; n >>= 7
    return o + bytes([c])
def copy_all(n):  # one copy op of the whole base (n < 2^24)
    op, args = 0x80, b""
    for i in range(3):
        if (n >> 8 * i) & 0xff: op |= 0x10 << i; args += bytes([(n >> 8 * i) & 0xff])
    return bytes([op]) + args
def ref_delta(base, delta):
    return entry(7, len(delta)) + base + zlib.compress(delta)
if mode == "missing":
    ents = [ref_delta(hashlib.sha1(b"nobody holds this").digest(), varint(5) + varint(6) + bytes([6]) + b"abcdef")]
elif mode == "bomb":
    ents = [ref_delta(rec, varint(size) + varint(8 << 30) + copy_all(size))]
elif mode == "twice":
    d = varint(size) + varint(size + 1) + copy_all(size) + bytes([1]) + b"x"
    ents = [ref_delta(rec, d), ref_delta(rec, d)]
else:
    ents = [ref_delta(rec, varint(size) + varint(size) + copy_all(size))]
pack = b"PACK" + (2).to_bytes(4, "big") + len(ents).to_bytes(4, "big") + b"".join(ents)
pack += hashlib.sha1(pack).digest()
open(out, "wb").write(b"# v2 git bundle\n" + cfg.encode() + b" refs/heads/config\n\n" + pack)
PY
}

# --- Hostile thin packs: refused, no hang, nothing changed. ---
thin_bundle "$w/missing.bundle" missing
refused_unchanged "$w/missing.bundle" "builds on objects this node does not hold (1;"
thin_bundle "$w/bomb.bundle" bomb
refused_unchanged "$w/bomb.bundle" "delta making 8589934592 bytes"
thin_bundle "$w/twice.bundle" twice
refused_unchanged "$w/twice.bundle" "corrupt or tampered"
thin_bundle "$w/rebuild.bundle" rebuild
refused_unchanged "$w/rebuild.bundle" "corrupt or tampered"

# --- A git-made thin bundle: its REF_DELTA bases are the county's own. ---
zone v1 Z3
old=$(git --git-dir "$w/county/repo.git" rev-parse "refs/heads/scope/$S")
new=$(git --git-dir "$w/v1/repo.git" rev-parse "refs/heads/scope/$S")
git --git-dir "$w/v1/repo.git" bundle create -q "$w/git.bundle" refs/heads/config "refs/heads/scope/$S" "^$old" 2>/dev/null
expect 0 C bundle apply "$w/git.bundle"
[ "$(git --git-dir "$w/county/repo.git" rev-parse "refs/heads/scope/$S")" = "$new" ] && ok || bad "the county did not take the git-made thin bundle"

echo "thin.sh: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
