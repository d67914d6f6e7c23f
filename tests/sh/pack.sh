#!/usr/bin/env bash
# Objects land in packs (store/pack.h): an import in large batches, a
# receive and a merge each write whole packs, nothing loose, and stock git
# reads them (fsck --strict --full); `vledger verify` passes throughout.
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

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
