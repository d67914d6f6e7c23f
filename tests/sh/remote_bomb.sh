#!/usr/bin/env bash
# A hostile hub (issue 10): stock git's daemon serves a pack holding a blob
# of 64 KiB and a delta against it declaring a 1 GiB result, filled by
# one-byte copy ops (the pack is 200 bytes). upload-pack reuses the stored
# delta verbatim. libgit2's indexer would allocate and fill the 1 GiB; the
# fetch goes through the pack check of bundles and the network instead
# (agent/ops/remote_ops.c, the spooling object backend): refused from the
# delta's header, the village byte for byte unchanged, its peak RSS far
# below the bomb. A hub serving a 128 MiB blob of zeros whole (a zlib bomb
# of 128 KiB) is refused the same way. The delta bomb's hub given as a path
# or file:// URL is read as a path source, never by libgit2's local
# transport: memory bounded likewise. Synthetic data.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir remote_bomb

snap() { (cd "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort && find . -type d | LC_ALL=C sort); }
[ -x /usr/bin/time ] || { echo "SKIP: /usr/bin/time is not installed"; exit 77; }
vl_kill_on_exit

RESULT=$((1 << 30))        # what the delta declares
LIMIT_KB=$((300 * 1024))   # the receiver's peak RSS must stay under this

vl_network County 500243001001 v1 V1

# The crafted pack: a zero blob of 64 KiB, then a REF_DELTA against it
# whose header declares RESULT bytes, made of copy ops "0x80" (copy 0x10000
# bytes from offset 0). Prints the base blob's id.
cat > "$w/mkbomb.py" <<'PY'
import hashlib, struct, sys, zlib
out, result = sys.argv[1], int(sys.argv[2])
base = b"\0" * 65536
def hdr(t, n):
    b = bytearray(); c = (t << 4) | (n & 15); n >>= 4
    while n:
        b.append(c | 0x80); c = n & 0x7f; n >>= 7
    b.append(c)
    return bytes(b)
def varint(n):
    b = bytearray()
    while True:
        c = n & 0x7f; n >>= 7
        if not n:
            b.append(c)
            return bytes(b)
        b.append(c | 0x80)
bid = hashlib.sha1(b"blob %d\0" % len(base) + base).digest()
delta = varint(len(base)) + varint(result) + b"\x80" * (result // 65536)
pack = b"PACK" + struct.pack(">II", 2, 2)
pack += hdr(3, len(base)) + zlib.compress(base, 9)
pack += hdr(7, len(delta)) + bid + zlib.compress(delta, 9)
pack += hashlib.sha1(pack).digest()
open(out, "wb").write(pack)
print(bid.hex())
PY
mkdir "$w/srv"
git init -q --bare "$w/srv/bomb.git"
base=$(python3 "$w/mkbomb.py" "$w/bomb.pack" $RESULT) && ok || bad "cannot make the crafted pack"
[ "$(stat -c %s "$w/bomb.pack")" -lt 400 ] && ok || bad "the crafted pack is not small: $(stat -c %s "$w/bomb.pack")"
# git resolves the delta once here (about 1 GiB for a few seconds) to name it.
git --git-dir "$w/srv/bomb.git" index-pack --stdin <"$w/bomb.pack" >/dev/null && ok || bad "git index-pack refused the crafted pack"
bomb=$(git --git-dir "$w/srv/bomb.git" verify-pack -v "$w"/srv/bomb.git/objects/pack/*.idx |
	awk -v b="$base" 'length($1) == 40 && $2 == "blob" && $1 != b {print $1}')
[ "$(git --git-dir "$w/srv/bomb.git" cat-file -s "$bomb")" = "$RESULT" ] && ok || bad "the delta does not make $RESULT bytes"
git --git-dir "$w/srv/bomb.git" update-ref refs/evidence/base "$base"
git --git-dir "$w/srv/bomb.git" update-ref refs/evidence/bomb "$bomb"
# upload-pack (pack-objects) sends the stored delta as it is: the pack on
# the wire is as small as the crafted one.
n=$(printf '%s\n' "$base" "$bomb" | git --git-dir "$w/srv/bomb.git" pack-objects --revs --stdout --thin \
	--delta-base-offset 2>/dev/null | wc -c)
[ "$n" -lt 400 ] && ok || bad "git's pack-objects did not reuse the delta ($n bytes): the bomb would not reach vledger"
# The zlib bomb: a blob declaring ZRESULT bytes stored whole, zeros that
# zlib makes 128 KiB of (libgit2's indexer streams it; the check refuses it
# from its header before anything is indexed).
ZRESULT=$((128 << 20))
cat > "$w/mkzbomb.py" <<'PY'
import hashlib, struct, sys, zlib
out, size = sys.argv[1], int(sys.argv[2])
h = [(3 << 4) | (size & 15)]; n = size >> 4
while n:
    h[-1] |= 0x80; h.append(n & 0x7f); n >>= 7
z = zlib.compressobj(9); chunk = b"\0" * 65536; body = bytearray()
for _ in range(size // 65536):
    body += z.compress(chunk)
body += z.flush()
pack = b"PACK" + struct.pack(">II", 2, 1) + bytes(h) + bytes(body)
open(out, "wb").write(pack + hashlib.sha1(pack).digest())
PY
git init -q --bare "$w/srv/zbomb.git"
python3 "$w/mkzbomb.py" "$w/zbomb.pack" $ZRESULT &&
	git --git-dir "$w/srv/zbomb.git" index-pack --stdin <"$w/zbomb.pack" >/dev/null && ok || bad "cannot make the zlib bomb hub"
zb=$(git --git-dir "$w/srv/zbomb.git" verify-pack -v "$w"/srv/zbomb.git/objects/pack/*.idx | awk 'length($1) == 40 {print $1}')
[ "$(git --git-dir "$w/srv/zbomb.git" cat-file -s "$zb")" = "$ZRESULT" ] && ok || bad "the zlib bomb is not $ZRESULT bytes"
git --git-dir "$w/srv/zbomb.git" update-ref refs/evidence/bomb "$zb"

GP=$(free_port)
git daemon --reuseaddr --export-all --base-path="$w/srv" --listen=127.0.0.1 --port=$GP "$w/srv" \
	>"$w/daemon.log" 2>&1 &
pids+=($!)
wait_port $GP && ok || bad "git daemon did not start: $(cat "$w/daemon.log")"

# bombed HUB TEXT: pull from git://.../HUB is refused saying TEXT, the
# village's repo.git is unchanged, nothing is left in cache, and the pull's
# peak RSS stays under LIMIT_KB.
bombed() {
	local hub=$1 text=$2 before got rss
	"$VLEDGER" -C "$w/v1" remote remove "$hub" >/dev/null 2>&1
	expect 0 "$VLEDGER" -C "$w/v1" remote add "$hub" "git://127.0.0.1:$GP/$hub.git"
	before=$(snap "$w/v1/repo.git")
	out=$(timeout 300 /usr/bin/time -o "$w/rss" -f %M "$VLEDGER" -C "$w/v1" pull "$hub" 2>&1)
	got=$?
	[ "$got" -ne 0 ] && [ "$got" -ne 124 ] && ok || bad "pull from $hub: exit $got: $out"
	contains "sent a pack that was refused"
	contains "$text"
	contains "nothing changed"
	[ "$before" = "$(snap "$w/v1/repo.git")" ] && ok || bad "$hub's pack was refused but the village changed"
	[ -z "$(ls "$w/v1/cache" 2>/dev/null | grep -E '^(remote|quarantine)-')" ] && ok ||
		bad "a temporary directory was left in v1/cache: $(ls "$w/v1/cache")"
	rss=$(tail -1 "$w/rss")
	echo "pull from $hub: peak RSS $rss KB"
	[ -n "$rss" ] && [ "$rss" -lt $LIMIT_KB ] && ok || bad "pull from $hub: peak RSS $rss KB, over $LIMIT_KB KB"
}
bombed bomb "a delta making $RESULT bytes from 65536, over the limit"
bombed zbomb "an object of $ZRESULT bytes, over the limit"

# The same hub as a path and as a file:// URL: libgit2's local transport
# would build a pack from the hub's objects, applying the delta (over 2 GB
# of RSS) before anything reached the check; the hub is read as a path
# source instead (its packs through the checked reader), and what receive
# refuses is that the hub holds no config: nothing reads the bomb.
for url in "$w/srv/bomb.git" "file://$w/srv/bomb.git"; do
	"$VLEDGER" -C "$w/v1" remote remove local >/dev/null 2>&1
	expect 0 "$VLEDGER" -C "$w/v1" remote add local "$url"
	before=$(snap "$w/v1/repo.git")
	out=$(timeout 300 /usr/bin/time -o "$w/rss" -f %M "$VLEDGER" -C "$w/v1" pull local 2>&1)
	got=$?
	[ "$got" -eq 1 ] && ok || bad "pull from $url: exit $got: $out"
	contains "has no config"
	[ "$before" = "$(snap "$w/v1/repo.git")" ] && ok || bad "a pull from $url changed the village"
	rss=$(tail -1 "$w/rss")
	echo "pull from $url: peak RSS $rss KB"
	[ -n "$rss" ] && [ "$rss" -lt $LIMIT_KB ] && ok || bad "pull from $url: peak RSS $rss KB, over $LIMIT_KB KB"
done

echo "remote_bomb: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
