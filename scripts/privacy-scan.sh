#!/usr/bin/env bash
# privacy-scan.sh NODE_HOME REFERENCE_REPO SCOPE
#
# Does the node home NODE_HOME (whose roster scope is SCOPE, a 12-digit
# division code) hold any object of records it may not read? A node reads
# the config branch and the scope branches at or below its scope (a village
# its own, a township its own and its villages', a county everything:
# docs/formats.md §7.4). REFERENCE_REPO is a repository that holds the
# branches to compare with (the county's repo.git, which reads everything).
#
# Forbidden objects: every object (commit, tree, blob) reachable from a
# scope branch of REFERENCE_REPO outside SCOPE, less those also reachable
# from config or a branch inside SCOPE (shared objects such as the empty tree
# are no one's records). Held objects: every object in NODE_HOME's
# repository (packed or loose, reachable or not, `--batch-all-objects`) and
# in any other pack under NODE_HOME (a quarantine or cache left behind).
# Any overlap, or a ref naming a scope outside SCOPE, is a leak: printed
# (ids and branch codes only, no record content) and exit 1. Exit 0 when
# clean, 2 on usage or a repository that cannot be read.
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: privacy-scan.sh NODE_HOME REFERENCE_REPO SCOPE" >&2; exit 2; }
home=$1 ref=$2 scope=$3
case "$scope" in
	[0-9][0-9][0-9][0-9][0-9][0-9]000000) prefix=${scope:0:6} ;;
	[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]000) prefix=${scope:0:9} ;;
	[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) prefix=$scope ;;
	*) echo "privacy-scan.sh: scope '$scope' is not a 12-digit division code" >&2; exit 2 ;;
esac
[ -d "$home/repo.git" ] && [ -d "$ref" ] || { echo "privacy-scan.sh: no '$home/repo.git' or '$ref'" >&2; exit 2; }
tmp=$(mktemp -d /tmp/vledger-privacy.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

inside=() outside=()
while read -r b; do
	code=${b#scope/}
	if [ "${code:0:${#prefix}}" = "$prefix" ]; then inside+=("refs/heads/$b"); else outside+=("refs/heads/$b"); fi
done < <(git --git-dir "$ref" for-each-ref --format='%(refname:strip=2)' 'refs/heads/scope/')

objects_of() { # REPO REF... : every object reachable from the refs, sorted
	local repo=$1; shift
	[ $# -gt 0 ] || return 0
	git --git-dir "$repo" rev-list --objects "$@" | cut -d' ' -f1
}
objects_of "$ref" refs/heads/config ${inside[@]+"${inside[@]}"} | sort -u > "$tmp/allowed"
objects_of "$ref" ${outside[@]+"${outside[@]}"} | sort -u > "$tmp/outside"
comm -23 "$tmp/outside" "$tmp/allowed" > "$tmp/forbidden"

{
	git --git-dir "$home/repo.git" cat-file --batch-all-objects --batch-check='%(objectname)'
	# Packs anywhere else in the home (a quarantine, a cache): an .idx
	# beside its .pack (the home has other .idx files, e.g. the id index).
	find "$home" -name '*.pack' -not -path "$home/repo.git/objects/pack/*" -print0 |
		while IFS= read -r -d '' pack; do
			[ -f "${pack%.pack}.idx" ] && git show-index < "${pack%.pack}.idx" | cut -d' ' -f2
		done
} | sort -u > "$tmp/held"
comm -12 "$tmp/held" "$tmp/forbidden" > "$tmp/leaked"

bad_refs=$(git --git-dir "$home/repo.git" for-each-ref --format='%(refname)' |
	awk -v p="$prefix" '{ n = split($0, a, "/"); if (a[n-1] == "scope" && substr(a[n], 1, length(p)) != p) print }')

nheld=$(wc -l < "$tmp/held") nforb=$(wc -l < "$tmp/forbidden") nleak=$(wc -l < "$tmp/leaked")
echo "privacy scan of $home (scope $scope): holds $nheld objects; ${#outside[@]} branches it may not read" \
	"have $nforb objects of their own; of those it holds $nleak"
if [ "$nleak" -gt 0 ] || [ -n "$bad_refs" ]; then
	[ "$nleak" -eq 0 ] || { echo "LEAK: objects of scopes outside $scope:"; head -20 "$tmp/leaked"; }
	[ -z "$bad_refs" ] || { echo "LEAK: refs naming scopes outside $scope:"; echo "$bad_refs"; }
	exit 1
fi
