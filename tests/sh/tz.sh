#!/usr/bin/env bash
# Issue 12: times stored in UTC, shown in the network's time zone
# (network.yaml `timezone`, Asia/Shanghai by default) by list, show,
# history, blame, log, conflicts, the audit export, aggregate (table and
# HTML), roster revoke and status; JSON keeps the UTC
# instant as signed. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir tz
# The shipped schemas plus a small ledger whose datetime is a list column.
mkdir "$w/schemas"
cp "$VL_SOURCE_DIR"/schemas/*.yaml "$w/schemas/"
cat > "$w/schemas/visit.yaml" <<'YAML'
name: visit
version: 1
zh: 走访
en: Visits
doc: A test ledger, a place and when it was visited.
fields:
  - name: place
    type: string
    zh: 地点
    en: Place
    max_len: 40
    merge: lww
    doc: Where.
  - name: visited_at
    type: datetime
    zh: 走访时间
    en: Visited at
    merge: lww
    doc: When.
YAML
export VLEDGER_SCHEMA_DIR=$w/schemas
C() { "$VLEDGER" -C "$w/county" "$@"; }
id_of() { printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1; }
# grep reads $out from a here-string, never from a pipe: under pipefail,
# `printf "$out" | grep -q` fails when grep has its match and exits before
# printf wrote all of a long output (the aggregate table): printf gets
# EPIPE. That made this test fail now and then on a loaded machine.

expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network
# No `timezone` key: the network.yaml of before still loads, shown +08:00.
git --git-dir "$w/county/repo.git" show config:network.yaml > "$w/net.yaml"
grep -q timezone "$w/net.yaml" && bad "network.yaml has a timezone nobody asked for" || ok

# ---- entered as +08:00: stored as the UTC instant ---------------------------
expect 0 C add visit --set place=鼓楼社区 --set visited_at=2022-04-07T16:00:00+08:00
v1=$(id_of)
expect 0 C show "$v1" --json
contains '"visited_at":"2022-04-07T08:00:00Z"'
blob=$(git --git-dir "$w/county/repo.git" ls-tree -r refs/heads/scope/500243000000 | awk '/visit\// {print $3}')
grep -q '^ *visited_at: "\?2022-04-07T08:00:00Z' <<<"$(git --git-dir "$w/county/repo.git" cat-file -p "$blob")" && ok ||
	bad "record does not hold the UTC instant: $(git --git-dir "$w/county/repo.git" cat-file -p "$blob")"

# ---- shown back in local time: 16:00 +08:00 --------------------------------
expect 0 C show "$v1"
contains '2022-04-07 16:00 +08:00'; lacks '08:00:00Z'
expect 0 C list visit
contains '2022-04-07 16:00 +08:00'; lacks '08:00:00Z'
expect 0 C edit "$v1" --set visited_at=2022-04-07T09:30:15Z
expect 0 C history "$v1"
contains '2022-04-07 16:00 +08:00 → 2022-04-07 17:30:15 +08:00'; lacks '08:00:00Z'
# Commit times in local time with the offset too.
contains ' +08:00  '
expect 0 C blame "$v1"
contains '2022-04-07 17:30:15 +08:00'
expect 0 C log
grep -qE '^[0-9a-f]{12}  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \+08:00  ' <<<"$out" && ok ||
	bad "log time not local: $out"
expect 0 C audit export --format html --output "$w/audit.html"
out=$(cat "$w/audit.html")
contains '2022-04-07 17:30:15 +08:00'; lacks '09:30:15Z'
# JSON keeps the UTC instant exactly as signed.
expect 0 C history "$v1" --json
contains '2022-04-07T09:30:15Z'
expect 0 C list visit --json
contains '"visited_at":"2022-04-07T09:30:15Z"'
# Across midnight: 2022-04-07T20:00Z is the 8th in Shanghai.
expect 0 C add visit --set place=x --set visited_at=2022-04-07T20:00:00.5Z
expect 0 C show "$(id_of)"
contains '2022-04-08 04:00:00.5 +08:00'

# ---- the rest of the human outputs (helper uxrest) --------------------------
# A time in local form: "YYYY-MM-DD HH:MM[:SS] +08:00"; never a "...Z" instant
# or "UTC" in text.
LOCAL='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(:[0-9]{2})? \+08:00'
# aggregate: the table's "as of", the HTML page's generated-at and the
# per-unit date (its day in the network's zone).
expect 0 C aggregate
grep -qE "as of $LOCAL" <<<"$out" && ok || bad "aggregate table not local: $out"
lacks 'Z  '; grep -qE 'as of [0-9T:-]+Z' <<<"$out" && bad "aggregate as of in UTC: $out" || ok
expect 0 C aggregate --format html --output "$w/agg.html"
out=$(cat "$w/agg.html")
grep -qE "生成时间 $LOCAL" <<<"$out" && ok || bad "aggregate html generated-at not local"
lacks ' UTC'
# roster revoke says when, in local time.
ssh-keygen -q -t ed25519 -N '' -C x -f "$w/other.key"
expect 0 C roster add --name 另一社区 --role village --scope 500243001002 --key "$(cat "$w/other.key.pub")"
fp=$(printf '%s\n' "$out" | grep -oE 'SHA256:[A-Za-z0-9+/]+' | head -1)
expect 0 C roster revoke "$fp" --reason test
grep -qE "at $LOCAL" <<<"$out" && ok || bad "revoke time not local: $out"
# status: a peer's last error in local time; --json keeps the seconds.
expect 0 C peer add nowhere 127.0.0.1:1
expect 1 C sync nowhere --timeout 2
expect 0 C status
grep -qE "last error: +$LOCAL" <<<"$out" && ok || bad "status last error not local: $out"
contains "last success: never"
expect 0 C status --json
grep -qE '"last_error": [1-9][0-9]+' <<<"$out" && ok || bad "status json: $out"

# ---- a network with another zone --------------------------------------------
D() { "$VLEDGER" -C "$w/other" "$@"; }
expect 1 D init --name x --role county --scope 500243000000 --new-network --timezone +8
contains "'timezone'"
[ ! -e "$w/other" ] && ok || bad "a refused init left a home behind"
expect 0 D init --name x --role county --scope 500243000000 --new-network --timezone -03:30
expect 0 D add visit --set place=y --set visited_at=2022-04-07T16:00:00+08:00
expect 0 D list visit
contains '2022-04-07 04:30 -03:30'

echo "tz: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
