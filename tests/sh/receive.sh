#!/usr/bin/env bash
# Receiving never hangs (issue 7, item 6), against the real binary: a source
# repo.git with a FIFO at keys/node.pub, a FIFO named by an [include] of its
# git config, a FIFO as a loose object, a ref, packed-refs or a pack file, a
# truncated loose object, and a corrupt pack. Every fetch runs under
# `timeout 60` (exit 124 = it hung) and must end with a clear message; a
# refused fetch leaves the receiver byte for byte as it was. Synthetic data.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir receive

S=500243001001
C() { "$VLEDGER" -C "$w/county" "$@"; }
V() { "$VLEDGER" -C "$w/v1" "$@"; }
# Every file of a repository with its size and hash, and every directory.
snap() {
	(cd "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort && find . -type d | LC_ALL=C sort)
}
# fresh NAME: a copy of the village's home to break, at $w/NAME; prints its repo.git.
fresh() { rm -rf "${w:?}/$1" && cp -a "$w/v1" "$w/$1" && echo "$w/$1/repo.git"; }
# A fresh copy of the county (the receiver) at $w/rcv.
receiver() { rm -rf "${w:?}/rcv" && cp -a "$w/county" "$w/rcv"; }
R() { "$VLEDGER" -C "$w/rcv" "$@"; }
# fetch_bounded WANT SRC: the receiver fetches SRC within 60 s, exit WANT.
fetch_bounded() {
	local want=$1 src=$2
	out=$(timeout 60 "$VLEDGER" -C "$w/rcv" fetch "$src" 2>&1 </dev/null)
	local got=$?
	if [ "$got" -eq 124 ]; then bad "fetch from $src hung (killed after 60 s)"; return; fi
	if [ "$got" -eq "$want" ]; then ok; else bad "fetch from $src: exit $got (want $want): $out"; fi
}
# refused_unchanged SRC TEXT: the fetch ends (not 0, not a hang), says TEXT,
# and the receiver's repo.git is unchanged.
refused_unchanged() {
	local before after
	receiver
	before=$(snap "$w/rcv/repo.git")
	out=$(timeout 60 "$VLEDGER" -C "$w/rcv" fetch "$1" 2>&1 </dev/null)
	local got=$?
	if [ "$got" -eq 124 ]; then bad "fetch from $1 hung (killed after 60 s)"; return; fi
	[ "$got" -ne 0 ] && ok || bad "fetch from $1 succeeded: $out"
	contains "$2"
	after=$(snap "$w/rcv/repo.git")
	[ "$before" = "$after" ] && ok || bad "fetch from $1 was refused but the receiver changed: $(diff <(echo "$before") <(echo "$after"))"
	[ -z "$(ls "$w/rcv/cache" 2>/dev/null | grep quarantine)" ] && ok || bad "a quarantine was left behind"
}

# --- A county and a village with two records the county has not seen. ---
expect 0 C init --name County --role county --scope 500243000000 --new-network
expect 0 C export network --output "$w/network.yaml"
expect 0 V init --name V1 --role village --scope $S --network "$w/network.yaml"
expect 0 C roster add --name V1 --role village --scope $S --key "$(V key | head -1)"
expect 0 V fetch "$w/county/repo.git"
for z in Z1 Z2; do
	expect 0 V add zone --set zone_no=$z --set designation=sealed --set area=a --set status=active \
		--set announced_at=2022-04-06T08:00:00Z
done
head=$(git --git-dir "$w/v1/repo.git" rev-parse refs/heads/scope/$S)
# A loose blob of the newest commit (a record), to break.
rec_blob=$(git --git-dir "$w/v1/repo.git" diff-tree -r --no-commit-id "$head" | awk '{print $4}' | head -1)
loose_path() { echo "$1/objects/${2:0:2}/${2:2}"; }
[ -f "$(loose_path "$w/v1/repo.git" "$rec_blob")" ] && ok || bad "the record blob $rec_blob is not loose"

# --- keys/node.pub is a FIFO: never opened, the fetch completes. ---
src=$(fresh fifo-pub)
rm -f "$w/fifo-pub/keys/node.pub" && mkfifo "$w/fifo-pub/keys/node.pub"
receiver
fetch_bounded 0 "$src"
[ "$(git --git-dir "$w/rcv/repo.git" rev-parse refs/heads/scope/$S 2>/dev/null)" = "$head" ] && ok ||
	bad "the fetch with a FIFO at keys/node.pub did not take the branch: $out"

# --- the source's config includes a FIFO: its config is never read. ---
src=$(fresh fifo-include)
mkfifo "$w/fifo-include/trap"
git config -f "$src/config" include.path "$w/fifo-include/trap"
git config -f "$src/config" includeIf.gitdir:/.path "$w/fifo-include/trap"
receiver
fetch_bounded 0 "$src"
[ "$(git --git-dir "$w/rcv/repo.git" rev-parse refs/heads/scope/$S 2>/dev/null)" = "$head" ] && ok ||
	bad "the fetch from a source whose config includes a FIFO did not take the branch: $out"
# And alternates naming a FIFO are not followed either.
src=$(fresh fifo-alternates)
mkdir -p "$src/objects/info" && mkfifo "$src/objects/info/alternates"
receiver
fetch_bounded 0 "$src"

# --- a truncated loose object: refused in bounded time, nothing changed. ---
src=$(fresh truncated)
f=$(loose_path "$src" "$rec_blob")
chmod u+w "$f" && truncate -s $(($(stat -c %s "$f") / 2)) "$f"
refused_unchanged "$src" "truncated or corrupt"
contains "$rec_blob"
# Truncated to nothing but the zlib header.
chmod u+w "$f" && truncate -s 2 "$f"
refused_unchanged "$src" "truncated or corrupt"

# --- a loose object that is a FIFO: refused, not waited on. ---
src=$(fresh fifo-object)
f=$(loose_path "$src" "$rec_blob")
rm -f "$f" && mkfifo "$f"
refused_unchanged "$src" "not a regular file"

# --- a ref that is a FIFO is not offered; packed-refs as a FIFO is refused. ---
src=$(fresh fifo-ref)
mkfifo "$src/refs/heads/scope/500243001002"
receiver
fetch_bounded 0 "$src"
src=$(fresh fifo-packed)
mkfifo "$src/packed-refs"
refused_unchanged "$src" "not a regular file"

# --- packs: a corrupt pack, and a pack file that is a FIFO. ---
src=$(fresh corrupt-pack)
git --git-dir "$src" repack -adq && git --git-dir "$src" prune-packed
pack=$(ls "$src"/objects/pack/pack-*.pack)
[ ! -f "$(loose_path "$src" "$rec_blob")" ] && ok || bad "the record blob is still loose after repack"
# Overwrite the record's compressed bytes in the pack (its index entry and
# the pack's other objects stay as they were).
read -r sz off < <(git --git-dir "$src" verify-pack -v "${pack%.pack}.idx" | awk -v b="$rec_blob" '$1 == b {print $4, $5}')
[ -n "$off" ] && ok || bad "the record blob is not in the pack"
chmod u+w "$pack"
printf 'corrupt%.0s' $(seq 1 64) | dd of="$pack" bs=1 seek=$((off + 2)) count=$((sz - 2)) conv=notrunc status=none
# (The first object that fails may be one stored as a delta on the record;
# when git stored the record itself as a delta, its overwritten delta header
# reads as a size over the limit before any inflate fails: refused as well.
# Which happens depends on the random record ids.)
refused_unchanged "$src" ""
case $out in *"truncated or corrupt"*|*"over the limit"*) ok ;; *) bad "corrupt pack: unexpected message: $out" ;; esac

# --- the CI crash, made deterministic: a real OFS_DELTA of a repacked
# source has its offset rewritten to land in the middle of an earlier entry,
# on bytes that read as an entry header declaring over 4 GiB (libgit2 1.5
# believed one such and asked calloc for 95 GB). The reader must see that no
# object starts there. A record edited once more makes its old version a
# delta on the new one; deltas of objects the receiver lacks are tried from
# the end of the pack (the most bytes before them to land on).
src=$(fresh ofs-mid)
zid=$(git --git-dir "$src" ls-tree -r --name-only "refs/heads/scope/$S" | grep '^zone/' | head -1)
zid=${zid##*/} zid=${zid%.yaml}
expect 0 "$VLEDGER" -C "$w/ofs-mid" edit "$zid" --set area=b
git --git-dir "$src" repack -adfq --depth=50 --window=250 && git --git-dir "$src" prune-packed
pack=$(ls "$src"/objects/pack/pack-*.pack)
declare -A starts=()
while read -r o; do starts[$o]=1; done < <(git --git-dir "$src" verify-pack -v "${pack%.pack}.idx" | awk 'NF >= 5 && $2 ~ /^(commit|tree|blob|tag)$/ {print $5}')
mapfile -t B < <(od -An -v -tu1 -w1 "$pack" | tr -d ' ')
ofs_bytes() { # the OFS_DELTA encoding of distance $1 (pack-format.txt)
	local v=$1 out=$(($1 & 127))
	while ((v >>= 7)); do v=$((v - 1)); out="$((128 | (v & 127))) $out"; done
	echo "$out"
}
# land D: for the delta at offset D, find a position before it, no entry's
# start, where the bytes read as a commit/tree/blob/tag header of over 4 GiB
# (4 continuation bytes, then bits over 2^32), whose distance encodes in as
# many bytes as the delta's offset; sets o0 (where the offset is) and new
# (its bytes). Fails when there is none.
land() {
	local d=$1 i rel L p t
	i=$d; while ((B[i] & 128)); do i=$((i + 1)); done; o0=$((i + 1))
	i=$o0 rel=$((B[o0] & 127)); while ((B[i] & 128)); do i=$((i + 1)); rel=$((((rel + 1) << 7) | (B[i] & 127))); done
	L=$((i - o0 + 1))
	[ -n "${starts[$((d - rel))]:-}" ] || { bad "the delta at $d does not name an entry start ($rel back)"; return 1; }
	for ((p = d - 1; p >= 12; p--)); do
		[ -z "${starts[$p]:-}" ] || continue
		t=$(((B[p] >> 4) & 7))
		((B[p] & 128 && t >= 1 && t <= 4 && B[p + 1] & 128 && B[p + 2] & 128 && B[p + 3] & 128 &&
			B[p + 4] & 128 && B[p + 5] & 127)) || continue
		new=$(ofs_bytes $((d - p)))
		[ "$(wc -w <<<"$new")" -eq "$L" ] && return 0
	done
	return 1
}
landed=
while read -r d id; do
	git --git-dir "$w/county/repo.git" cat-file -e "$id" 2>/dev/null && continue
	git --git-dir "$src" rev-list --objects --all | grep -q "^$id" || continue
	land "$d" && { landed=$d; break; }
done < <(git --git-dir "$src" verify-pack -v "${pack%.pack}.idx" | awk 'NF == 7 {print $5, $1}' | sort -rn)
[ -n "$landed" ] && ok || bad "no delta the receiver lacks could be pointed at a header over 4 GiB"
if [ -n "$landed" ]; then
	chmod u+w "$pack"
	printf "$(printf '\\%03o' $new)" | dd of="$pack" bs=1 seek="$o0" conv=notrunc status=none
	refused_unchanged "$src" "the delta at offset $landed names a base where no object starts"
fi

src=$(fresh fifo-pack)
git --git-dir "$src" repack -adq
mkfifo "$src/objects/pack/pack-0000000000000000000000000000000000000000.pack"
refused_unchanged "$src" "not a regular file"

# --- the truncation is found by the source's reader itself (bounded, and
# nothing uninitialised is handed on), not only by the hash check after it.
src=$(fresh truncated-reason)
f=$(loose_path "$src" "$rec_blob")
chmod u+w "$f" && truncate -s $(($(stat -c %s "$f") / 2)) "$f"
refused_unchanged "$src" "loose object is truncated or corrupt"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
