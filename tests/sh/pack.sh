#!/usr/bin/env bash
# Objects land in packs (store/pack.h): an import in large batches, a
# receive and a merge each write whole packs, nothing loose, and stock git
# reads them (fsck --strict --full); `vledger verify` passes throughout.
# After a write, loose objects and packs are kept in check as git gc --auto
# does (gc.auto, gc.autoPackLimit).
# Synthetic data only.
. "$(dirname "$0")/lib/common.bash"
vl_workdir pack
BR=refs/heads/scope/500243001001
V() { "$VLEDGER" -C "$w/$1" "${@:2}"; }
G() { git --git-dir "$w/$1/repo.git" "${@:2}"; }
head_of() { G "$1" rev-parse -q --verify "$BR" 2>/dev/null || echo none; }
loose() { find "$w/$1/repo.git/objects" -path '*/objects/[0-9a-f][0-9a-f]/*' -type f | wc -l; }
packs() { find "$w/$1/repo.git/objects/pack" -name 'pack-*.idx' | wc -l; }
same() { [ "$2" = "$3" ] && ok || bad "$1: '$2' != '$3'"; }
fsck() { expect 0 G "$1" fsck --strict --full --no-dangling --no-progress; }
records() {
	{ echo "records:"; for i in $(seq 1 "$2"); do
		echo "  - {name: $3$i, residence_kind: registered, address: \"$i 号\", source: self_report}"; done; } > "$1"
}

V county init --name 县 --role county --scope 500243000000 --new-network >/dev/null
V county export network --output "$w/net.yaml"
for l in lap1 lap2; do
	V $l init --name $l --role village --scope 500243001001 --network "$w/net.yaml" >/dev/null
	V county roster add --name $l --role village --scope 500243001001 --key "$(V $l key | head -1)" >/dev/null
done
V lap1 fetch "$w/county/repo.git" >/dev/null; V lap2 fetch "$w/county/repo.git" >/dev/null

# Import: three commits of 100 records, three packs, nothing loose.
records a.yaml 300 甲
l=$(loose lap1) p=$(packs lap1)
expect 0 V lap1 import resident --file a.yaml --batch 100
same "loose objects after a packed import" "$(loose lap1)" "$l"
same "packs after an import of 3 batches" "$(packs lap1)" "$((p + 3))"
same "records imported" "$(G lap1 ls-tree -r --name-only "$BR" | grep -c '^resident/')" 300
fsck lap1
expect 0 V lap1 verify --quiet

# Receive: one pack, the same head, no quarantine left behind.
l=$(loose lap2) p=$(packs lap2)
expect 0 V lap2 fetch "$w/lap1/repo.git"
same "received head" "$(head_of lap2)" "$(head_of lap1)"
same "loose objects after a receive" "$(loose lap2)" "$l"
same "packs after a receive" "$(packs lap2)" "$((p + 1))"
[ -z "$(ls "$w/lap2/cache" | grep quarantine)" ] && ok || bad "a quarantine was left in cache/"
fsck lap2
expect 0 V lap2 verify --quiet

# A merge of both sides' edits: received pack + merge pack, nothing loose.
expect 0 V lap1 add resident --set name=乙 --set residence_kind=registered --set address=x --set source=self_report
expect 0 V lap2 add resident --set name=丙 --set residence_kind=registered --set address=y --set source=self_report
l=$(loose lap2) p=$(packs lap2)
expect 0 V lap2 fetch "$w/lap1/repo.git"
same "merge parents" "$(G lap2 rev-list --parents -1 "$BR" | wc -w)" 3
same "loose objects after a receive and merge" "$(loose lap2)" "$l"
same "packs after a receive and merge" "$(packs lap2)" "$((p + 2))"
fsck lap2
expect 0 V lap2 verify --quiet
# The other side reaches the same merge commit from its own objects.
expect 0 V lap1 fetch "$w/lap2/repo.git"
same "both sides' head after the merge" "$(head_of lap1)" "$(head_of lap2)"
fsck lap1
expect 0 V lap1 verify --quiet

# Maintenance, as git gc --auto, after a write under the write lock, with
# git's own settings: loose objects piled up (here: stock git's, not
# referenced) all go into one pack, none is lost.
G lap2 config gc.auto 1
G lap2 config gc.autoPackLimit 0
i=0 junk=
while [ "$(find "$w/lap2/repo.git/objects/17" -type f 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt 5000 ]; do
	i=$((i + 1)); junk=$(echo "unreferenced $i" | G lap2 hash-object -w --stdin)
done
[ "$(loose lap2)" -gt 100 ] && ok || bad "expected many loose objects, have $(loose lap2)"
p=$(packs lap2)
expect 0 V lap2 add resident --set name=丁 --set residence_kind=registered --set address=z --set source=self_report
same "loose objects after maintenance" "$(loose lap2)" 0
same "packs after maintenance" "$(packs lap2)" "$((p + 1))"
same "an unreferenced object kept" "$(G lap2 cat-file -p "$junk")" "unreferenced $i"
fsck lap2
expect 0 V lap2 verify --quiet
# Too many packs: combined into one, beside the largest.
G lap2 config gc.autoPackLimit 2
[ "$(packs lap2)" -gt 3 ] && ok || bad "expected more than 3 packs, have $(packs lap2)"
expect 0 V lap2 add resident --set name=戊 --set residence_kind=registered --set address=z --set source=self_report
same "packs after combining" "$(packs lap2)" 2
fsck lap2
expect 0 V lap2 verify --quiet
same "an unreferenced object kept" "$(G lap2 cat-file -p "$junk")" "unreferenced $i"
# Under the limits, nothing moves.
l=$(loose lap2) p=$(packs lap2)
G lap2 config gc.auto 6700
expect 0 V lap2 add resident --set name=己 --set residence_kind=registered --set address=z --set source=self_report
[ "$(loose lap2)" -gt "$l" ] && ok || bad "a small edit under the limit should stay loose"
same "packs under the limit" "$(packs lap2)" "$p"

# Refs, as git pack-refs: a write that leaves more than 64 scope branches as
# loose ref files packs them all (agent/node/node.c pack_refs: a lookup by id
# reads every scope head); only the write's own branch moved, stock git reads
# the same refs. Under that limit they stay loose.
loose_refs() { find "$w/$1/repo.git/refs/heads/scope" -type f | wc -l; }
h=$(head_of lap2)
for i in $(seq 101 170); do G lap2 update-ref "refs/heads/scope/500243001$i" "$h"; done
[ "$(loose_refs lap2)" -gt 64 ] && ok || bad "expected more than 64 loose scope refs, have $(loose_refs lap2)"
others() { G lap2 for-each-ref --format='%(objectname) %(refname)' | grep -v " $BR\$"; }
before=$(others)
expect 0 V lap2 add resident --set name=庚 --set residence_kind=registered --set address=z --set source=self_report
same "loose scope refs after a write" "$(loose_refs lap2)" 0
same "the other refs after packing them" "$(others)" "$before"
[ "$(head_of lap2)" != "$h" ] && grep -q " $BR\$" "$w/lap2/repo.git/packed-refs" && ok ||
	bad "the written branch is not in packed-refs at its new head"
fsck lap2
expect 0 V lap2 add resident --set name=辛 --set residence_kind=registered --set address=z --set source=self_report
same "loose scope refs under the limit" "$(loose_refs lap2)" 1
same "the other refs, under the limit" "$(others)" "$before"
for i in $(seq 101 170); do G lap2 update-ref -d "refs/heads/scope/500243001$i"; done
expect 0 V lap2 verify --quiet

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
