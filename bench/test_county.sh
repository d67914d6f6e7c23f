#!/usr/bin/env bash
# bench/test_county.sh (ctest sh_bench_county): what the county generator
# (vl_bench county, bench/README.md) promises, on a small county: the homes
# verify and fsck clean, every village's records are signed by that village's
# roster key, the objects are in packs, the homes work with the vledger
# binary (show, import of the import file, a first sync), and a second run
# writes the same records.
# Needs VLEDGER, VL_BENCH (the vl_bench binary) and VL_SOURCE_DIR.
# shellcheck source=../tests/sh/lib/common.bash
. "${VL_SOURCE_DIR:?}/tests/sh/lib/common.bash"
: "${VL_BENCH:?set VL_BENCH to the vl_bench binary}"
vl_workdir county
csv=$VL_SOURCE_DIR/data/divisions/pengshui_divisions.csv
gen() { "$VL_BENCH" county --csv "$csv" --villages 3 --scale 0.02 --village-records 40 --imports --out "$@"; }

expect 0 gen a
. a/manifest
[ "$villages" = 3 ] && [ "$village_code" = 500243001004 ] &&
	[ "$village_codes" = "500243001001 500243001002 500243001003" ] && ok || bad "manifest: $(cat a/manifest)"

# The homes verify; stock git finds nothing wrong (the empty tree every
# vledger repository holds is dangling).
for h in county village; do
	expect 0 "$VLEDGER" -C "a/$h" verify
	contains "all good"
	out=$(git --git-dir "a/$h/repo.git" fsck --strict --no-progress 2>&1) && ok || bad "fsck $h: $out"
	lacks error
	lacks warning
done
expect 0 "$VLEDGER" -C a/county verify --quiet
contains "on 4 branches" # config + 3 villages

# The verify ceiling of bench/county.sh (vl_bench ceiling-dump, ceiling):
# the dump holds every signature the full verify checked, record versions
# and commits; every one verifies, with --records-only the records alone;
# one flipped byte of a dumped commit's or record's signed bytes, or a
# truncated dump, fails the ceiling (exit 1), so a wrong extraction of the
# signed bytes cannot pass as a ceiling.
nrec=$(echo "$out" | sed -n 's/.* and \([0-9]*\) record versions.*/\1/p')
ncom=$(echo "$out" | sed -n 's/^verified \([0-9]*\) commits.*/\1/p')
[ "${nrec:-0}" -gt 100 ] && [ "${ncom:-0}" -gt 10 ] && ok || bad "verify counts: $out"
expect 0 "$VL_BENCH" ceiling-dump --home a/county --out ceiling.bin
contains "ceiling-dump: $nrec record signatures + $ncom commit signatures (0 unreadable record signatures, 0 unreadable commit signatures, 0 unsigned commits)"
expect 0 "$VL_BENCH" ceiling --in ceiling.bin --threads 2
contains "ceiling: $nrec record + $ncom commit signatures verified in"
contains "(0 bad)"
expect 0 "$VL_BENCH" ceiling --in ceiling.bin --records-only --threads 3
contains "ceiling: $nrec record + 0 commit signatures verified in"
# flip NS IN OUT: OUT is IN with one byte flipped in the middle of the
# signed bytes of its first entry of namespace NS (the format of
# bench/bench_ceiling.c: u32 mlen, ns[16], pk[32], sig[64], msg[mlen]).
flip() {
	python3 - "$@" <<'PY'
import struct, sys
ns, src, dst = sys.argv[1].encode(), sys.argv[2], sys.argv[3]
b, p = bytearray(open(src, 'rb').read()), 0
while p < len(b):
    mlen = struct.unpack_from('=I', b, p)[0]
    if bytes(b[p + 4:p + 20]).rstrip(b'\0') == ns:
        b[p + 116 + mlen // 2] ^= 0x20
        break
    p += 116 + mlen
else:
    sys.exit('no entry of namespace ' + ns.decode())
open(dst, 'wb').write(b)
PY
}
flip git ceiling.bin bad-commit.bin && ok || bad "no commit in the dump"
expect 1 "$VL_BENCH" ceiling --in bad-commit.bin
contains "(1 bad)"
contains "0 record and 1 commit signatures did not verify"
expect 0 "$VL_BENCH" ceiling --in bad-commit.bin --records-only
flip vledger-record ceiling.bin bad-record.bin && ok || bad "no record in the dump"
expect 1 "$VL_BENCH" ceiling --in bad-record.bin --threads 1
contains "1 record and 0 commit signatures did not verify"
head -c "$(($(stat -c %s ceiling.bin) - 1))" ceiling.bin >short.bin
expect 1 "$VL_BENCH" ceiling --in short.bin
contains "is not a dump of this vl_bench"

# Each village's branch is signed by that village's key on the roster, not
# the county's; records of every ledger are there.
county_fp=$("$VLEDGER" -C a/county key | sed -n 2p)
roster=$("$VLEDGER" -C a/county roster list)
[ "$(echo "$roster" | grep -c ' village ')" = 296 ] && ok || bad "roster: $(echo "$roster" | wc -l) lines"
for c in $village_codes; do
	fp=$(echo "$roster" | awk -v c="$c" '$3 == c { print $1 }')
	signers=$(git --git-dir a/county/repo.git log --format=%ae "refs/heads/scope/$c" | sort -u)
	[ -n "$fp" ] && [ "$signers" = "$fp@vledger" ] && [ "$fp" != "$county_fp" ] && ok ||
		bad "scope/$c signed by '$signers', roster key '$fp'"
	ledgers=$(git --git-dir a/county/repo.git ls-tree --name-only "refs/heads/scope/$c" | tr '\n' ' ')
	[ "$ledgers" = "network_role report resident special_group supply_request test_session volunteer worker_care zone " ] &&
		ok || bad "scope/$c holds '$ledgers'"
	# Edits: versions with prev (closed test sessions, delivered supply requests).
	subjects=$(git --git-dir a/county/repo.git log --format=%s "refs/heads/scope/$c")
	case "$subjects" in *"edit test_session "*) ok ;; *) bad "scope/$c has no edits" ;; esac
done

# Packs, not loose objects: only the network's first config commit (vl_init)
# is loose: its schemas, network.yaml, roster.yaml, two trees, the commit.
nschemas=$(ls "$VL_SOURCE_DIR"/schemas/*.yaml | wc -l)
loose=$(git --git-dir a/county/repo.git count-objects -v | awk '$1 == "count:" { print $2 }')
inpack=$(git --git-dir a/county/repo.git count-objects -v | awk '$1 == "in-pack:" { print $2 }')
[ "$loose" -le $((nschemas + 6)) ] && [ "$inpack" -gt 1000 ] && ok || bad "county: $loose loose objects, $inpack in packs"

# The homes are normal node homes.
path=$(git --git-dir a/county/repo.git ls-tree -r --name-only refs/heads/scope/500243001002 resident/ | sed -n 5p)
id=$(basename "$path" .yaml)
expect 0 "$VLEDGER" -C a/county show "$id"
contains "resident"
cp -a a/village-empty vi
expect 0 "$VLEDGER" -C vi import resident --file "a/imports/$village_code.yaml"
contains "40"
expect 0 "$VLEDGER" -C a/county fetch a/village/repo.git
expect 0 "$VLEDGER" -C a/county verify --quiet
contains "on 5 branches"
[ "$(refs a/county | grep -c "refs/heads/scope/$village_code ")" = 1 ] && ok || bad "no scope/$village_code after the sync"

# The day bench's set-up (bench/county.sh): vl_bench day edits records one
# commit each, its objects loose while gc.auto is 0; vl_bench pack-loose
# then packs every loose object as vledger's maintenance does, and the
# village still verifies and fsck finds nothing.
cp -a a/village vd
git --git-dir vd/repo.git config gc.auto 0
expect 0 "$VL_BENCH" day --home vd --scope "$village_code" --count 10 --every 3 --offset 0 --field phone
contains "10 records edited"
git --git-dir vd/repo.git config --unset gc.auto
loose=$(git --git-dir vd/repo.git count-objects -v | awk '$1 == "count:" { print $2 }')
[ "$loose" -ge 50 ] && ok || bad "day: $loose loose objects, want its 10 commits' objects loose"
expect 0 "$VL_BENCH" pack-loose --home vd
contains "pack-loose: $loose loose objects packed"
loose=$(git --git-dir vd/repo.git count-objects -v | awk '$1 == "count:" { print $2 }')
[ "$loose" = 0 ] && ok || bad "pack-loose left $loose loose objects"
expect 0 "$VLEDGER" -C vd verify --quiet
out=$(git --git-dir vd/repo.git fsck --strict --no-progress 2>&1) && ok || bad "fsck after pack-loose: $out"

# Deterministic: a second run, on one worker process instead of two, writes
# the same records (the same trees on every village branch; commit ids
# differ with the county's new key).
grep -q '^jobs=2$' a/manifest && ok || bad "first run not on 2 workers"
expect 0 gen b --jobs 1
for c in $village_codes; do
	ta=$(git --git-dir a/county/repo.git rev-parse "refs/heads/scope/$c^{tree}")
	tb=$(git --git-dir b/county/repo.git rev-parse "refs/heads/scope/$c^{tree}")
	[ "$ta" = "$tb" ] && ok || bad "scope/$c: tree $ta, then $tb"
done
cmp -s a/imports/500243001001.yaml b/imports/500243001001.yaml && ok || bad "import files differ"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
