#!/usr/bin/env bash
# Issue 8: show loads its config lazily (node.h vl_node_load_config_lazy):
# network and roster, then only the schema of the record's ledger, when
# cache/config.cache (agent/node/confcache.h) says this binary loaded the
# config tree whole without an error. It must say what a full load says:
# a broken schema of a ledger show does not use still stops show, verify
# and schema check as before; a stale, damaged or lying cache is ignored
# and rewritten, never believed. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir config_lazy
C() { "$VLEDGER" -C "$w/county" "$@"; }
g() { git --git-dir "$w/county/repo.git" "$@"; }
cache=$w/county/cache/config.cache
same() { [ "$2" = "$3" ] && ok || bad "$1: '$2' != '$3'"; }
# reseal: recompute the cache's checksum line after an edit (BLAKE2b-256,
# libsodium's crypto_generichash), as someone who can write cache/ could.
reseal() {
	local body
	body=$(sed '$d' "$cache")
	printf '%s\nsum %s\n' "$body" "$(printf '%s\n' "$body" | b2sum -l 256 | cut -d' ' -f1)" >"$cache"
}

expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network
expect 0 C add report_call --set title=关于报送疫情防控典型经验的通知 --set kind=any --set deadline=2022-04-20
id=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
[ -n "$id" ] && ok || bad "no record id in: $out"

# ---- the first show loads everything and writes the cache; the next reads it ----
rm -f "$cache"
expect 0 C show "$id"
full=$out
[ -s "$cache" ] && ok || bad "show wrote no config cache"
tree=$(g rev-parse 'refs/heads/config^{tree}')
grep -q "^tree $tree\$" "$cache" && ok || bad "the cache is not keyed by the config tree $tree: $(cat "$cache")"
grep -q '^schema report_call.yaml report_call$' "$cache" && ok || bad "the cache lacks report_call: $(cat "$cache")"
before=$(cat "$cache")
expect 0 C show "$id"
same "lazy show = full show" "$out" "$full"
expect 0 C show "$id" --json
json=$out
rm -f "$cache"
expect 0 C show "$id" --json
same "lazy show --json = full show --json" "$json" "$out"
same "the cache is the same when rebuilt" "$(cat "$cache")" "$before"

# ---- damage: a flipped byte, a cut file, another format: ignored, rewritten ----
sed -i 's/^schema report_call.yaml report_call$/schema report_call.yaml report_cal1/' "$cache"
expect 0 C show "$id"
same "show with a damaged cache" "$out" "$full"
same "a damaged cache is rewritten" "$(cat "$cache")" "$before"
head -c 40 "$cache" >"$cache.t" && mv "$cache.t" "$cache"
expect 0 C show "$id"
same "show with a cut cache" "$out" "$full"
same "a cut cache is rewritten" "$(cat "$cache")" "$before"

# ---- a lying cache with a good checksum: its ledger names are checked against
# the schema each file holds (a mismatch loads the whole config) ----
sed -i 's/^schema report_call.yaml report_call$/schema report_call.yaml zone/; s/^schema zone.yaml zone$/schema zone.yaml report_call/' "$cache"
reseal
grep -q '^schema zone.yaml report_call$' "$cache" && ok || bad "the test did not swap the names: $(cat "$cache")"
expect 0 C show "$id"
same "show with ledgers swapped in the cache" "$out" "$full"
expect 0 C show "$id" --json
same "show --json after the swapped cache" "$out" "$json"
same "a lying cache is rewritten" "$(cat "$cache")" "$before"

# ---- a config whose schema of another ledger (zone) is broken: every command
# that loaded the whole config refused it, so show still does, cache or not ----
good=$(g rev-parse refs/heads/config)
export GIT_INDEX_FILE=$w/index
g read-tree "$good"
blob=$(printf 'name: zone\nfields: [\n' | g hash-object -w --stdin)
g update-index --cacheinfo "100644,$blob,schemas/zone.yaml"
broken=$(g commit-tree "$(g write-tree)" -p "$good" -m "a broken zone schema")
unset GIT_INDEX_FILE
g update-ref refs/heads/config "$broken"
expect 1 C show "$id"
contains 'schemas/zone.yaml'
broken_msg=$out
same "no cache is written for a broken config" "$(cat "$cache")" "$before"
expect 1 C verify
contains 'schemas/zone.yaml'
expect 1 C list report_call
contains 'schemas/zone.yaml'
# The good tree's cache is still there: it does not open the broken tree.
grep -q "^tree $tree\$" "$cache" && ok || bad "the good tree's cache is gone: $(cat "$cache")"
expect 1 C show "$id" --json
contains 'schemas/zone.yaml'
head_before=$(g rev-parse refs/heads/scope/500243000000)
expect 1 C edit "$id" --set title=改过的标题
contains 'schemas/zone.yaml'
same "a refused edit moves no branch" "$(g rev-parse refs/heads/scope/500243000000)" "$head_before"
g update-ref refs/heads/config "$good"
expect 0 C show "$id"
same "show on the good config again" "$out" "$full"

# ---- edit reads the config lazily too: same checks, same result ----
grep -q "^tree $tree\$" "$cache" && ok || bad "no cache of the good tree before the edit"
expect 1 C edit "$id" --set kind=nonsense
contains 'kind'
same "an invalid edit moves no branch" "$(g rev-parse refs/heads/scope/500243000000)" "$head_before"
expect 0 C edit "$id" --set title=改过的标题
expect 0 C show "$id" --reveal
contains '改过的标题'
expect 0 C show "$id"
full=$out

# ---- a config change (another tree) makes a new cache ----
expect 0 C roster add --name 鼓楼社区 --role village --scope 500243001001 \
	--key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFy0mcvU3jkOHPkwPJbA0Jt7mMb3iBGMVyWfNfrL2DCD"
tree2=$(g rev-parse 'refs/heads/config^{tree}')
expect 0 C show "$id"
same "show after a config change" "$out" "$full"
grep -q "^tree $tree2\$" "$cache" && ok || bad "the cache did not follow the config to $tree2"

# ---- show reads its author's name from roster.yaml's bytes (that one entry,
# agent/node/roster.h vl_roster_entry_name); a roster in another layout (valid:
# the name quoted where vledger writes it plain) is read whole instead, and
# says the same ----
grep -q '^  author   彭水县民政局 (SHA256:' <<<"$full" && ok || bad "no author name in: $full"
expect 0 C show "$id" --json
json=$out
contains '"author_name":"彭水县民政局"'
cur=$(g rev-parse refs/heads/config)
export GIT_INDEX_FILE=$w/index
g read-tree "$cur"
blob=$(g cat-file blob "$cur:roster.yaml" | sed 's/^    name: 彭水县民政局$/    name: "彭水县民政局"/' | g hash-object -w --stdin)
[ "$blob" != "$(g rev-parse "$cur:roster.yaml")" ] && ok || bad "the test did not change roster.yaml's layout"
g update-index --cacheinfo "100644,$blob,roster.yaml"
other=$(g commit-tree "$(g write-tree)" -p "$cur" -m "roster.yaml in another layout")
unset GIT_INDEX_FILE
g update-ref refs/heads/config "$other"
expect 0 C show "$id"
same "show with the roster in another layout, whole" "$out" "$full"
grep -q '^roster other$' "$cache" && ok || bad "the cache does not say the roster is in another layout: $(cat "$cache")"
expect 0 C show "$id"
same "show with the roster in another layout, from the cache" "$out" "$full"
expect 0 C show "$id" --json
same "show --json with the roster in another layout" "$out" "$json"
g update-ref refs/heads/config "$cur"

echo "config_lazy: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
