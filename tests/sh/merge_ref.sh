#!/usr/bin/env bash
# `vledger merge REF` on refs that must not be merged (issue 7, item 10),
# against the real binary and stock git: a ref holding a village's history
# merged into the county's own scope branch (by --scope, or by a ref name
# that says so), a ref that equivocates with the node's own key (two commits
# at one Vledger-Seq), each refused before anything moves, the repository
# byte for byte as it was. Without --scope the scope comes from the ref's
# records, never from the node's own scope. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir merge_ref
same() { [ "$2" = "$3" ] && ok || bad "$1: '$2' != '$3'"; }

S=500243001001 CS=500243000000
C() { "$VLEDGER" -C "$w/county" "$@"; }
V() { "$VLEDGER" -C "$w/village" "$@"; }
gc() { git --git-dir "$w/county/repo.git" "$@"; }
gv() { git --git-dir "$w/village/repo.git" "$@"; }
# snap NODE: every file of NODE's repo.git, by content (refs, objects, config).
snap() { (cd "$w/$1/repo.git" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }

expect 0 C init --name 彭水县民政局 --role county --scope $CS --new-network
expect 0 C export network --output "$w/network.yaml"
expect 0 V init --name 鼓楼社区 --role village --scope $S --network "$w/network.yaml"
expect 0 C roster add --name 鼓楼社区 --role village --scope $S --key "$(V key | head -1)"
expect 0 V fetch "$w/county/repo.git"
expect 0 V add resident --set name=王秀英 --set residence_kind=registered --set address="2 组 8 号" --set source=self_report
expect 0 C fetch "$w/village/repo.git"
expect 0 C add resident --set name=县里登记 --set residence_kind=registered --set address="县城 1 号" --set source=self_report
county_head=$(gc rev-parse refs/heads/scope/$CS)
village_old=$(gc rev-parse refs/heads/scope/$S)

# The village writes on; the county takes its head with stock git under a
# ref whose name says nothing of the scope.
expect 0 V add resident --set name=赵建国 --set residence_kind=migrant --set address="1 组 3 号" --set source=self_report
vhead=$(gv rev-parse refs/heads/scope/$S)
gc fetch -q "$w/village/repo.git" "+refs/heads/scope/$S:refs/tmp/v" || bad "git fetch"

# --- Into the county's own scope: refused, nothing changes. ---
before=$(snap county)
expect 4 C merge refs/tmp/v --scope $CS
contains "scope/$CS"; contains "nothing changed"
same "refused --scope merge leaves the repository as it was" "$(snap county)" "$before"
same "county branch unmoved" "$(gc rev-parse refs/heads/scope/$CS)" "$county_head"

# A ref name that says the county's scope, holding the village's records.
gc update-ref refs/peers/rogue/scope/$CS "$vhead" || bad "update-ref"
before=$(snap county)
expect 4 C merge refs/peers/rogue/scope/$CS
contains "nothing changed"
same "refused scope-named ref leaves the repository as it was" "$(snap county)" "$before"
gc update-ref -d refs/peers/rogue/scope/$CS

# --- Without --scope: the scope of the ref's records, not the node's. ---
expect 0 C merge refs/tmp/v
contains "scope/$S fast-forwarded"; lacks "scope/$CS"
same "county's own branch untouched" "$(gc rev-parse refs/heads/scope/$CS)" "$county_head"
same "village branch fast-forwarded" "$(gc rev-parse refs/heads/scope/$S)" "$vhead"
# A plain commit id works the same way.
gc update-ref refs/heads/scope/$S "$village_old" "$vhead" || bad "rewind"
expect 0 C merge "$vhead"
contains "scope/$S fast-forwarded"
same "commit id merged into the village branch" "$(gc rev-parse refs/heads/scope/$S)" "$vhead"
same "county's own branch still untouched" "$(gc rev-parse refs/heads/scope/$CS)" "$county_head"
expect 0 C verify
contains "all good"
# A ref without records cannot say its scope.
empty=$(gc commit-tree "$(gc hash-object -t tree -w /dev/null)" -m empty) || bad "commit-tree"
before=$(snap county)
expect 1 C merge "$empty"
contains "--scope"
same "merge of a recordless commit changes nothing" "$(snap county)" "$before"

# --- Equivocation with the node's own key: two commits at one seq. ---
expect 0 V add resident --set name=李小明 --set residence_kind=registered --set address="5 组 21 号" --set source=self_report
x=$(gv rev-parse refs/heads/scope/$S)
gv update-ref refs/tmp/x "$x" || bad "update-ref"
gv update-ref refs/heads/scope/$S "$x^" "$x" || bad "rewind"
expect 0 V add resident --set name=刘敏 --set residence_kind=registered --set address="3 组 2 号" --set source=self_report
y=$(gv rev-parse refs/heads/scope/$S)
same "both commits at one Vledger-Seq" "$(gv log -1 --format=%B "$x" | grep Vledger-Seq)" \
	"$(gv log -1 --format=%B "$y" | grep Vledger-Seq)"
before=$(snap village)
expect 4 V merge refs/tmp/x
contains "nothing changed"; contains "Vledger-Seq"
same "refused equivocating merge leaves the repository as it was" "$(snap village)" "$before"
same "village branch unmoved" "$(gv rev-parse refs/heads/scope/$S)" "$y"
expect 4 V merge refs/tmp/x --scope $S
same "and with --scope" "$(snap village)" "$before"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
