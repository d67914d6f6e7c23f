#!/usr/bin/env bash
# Issue 12's friction list: the bullets no other test covered (the others
# are in ux.sh, tz.sh, list.sh, json*.sh, progress.sh, operator.sh, csv.sh,
# prompt.sh and import_checks.sh). Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir frictions

# `schema show` printed aggregate filters without their value
# ("count where residence_kind="): the value is shown, for a ledger named
# by id or by label, with or without a node.
expect 0 "$VLEDGER" -C "$w/none" schema show resident
contains "aggregate migrants: count where residence_kind=migrant"
grep -qE 'where [a-z_]+=$' <<<"$out" && bad "a filter without its value: $out" || ok
expect 0 "$VLEDGER" -C "$w/none" schema show 防控网格
contains "count where role=grid_leader"
grep -qE 'where [a-z_]+=$' <<<"$out" && bad "a filter without its value: $out" || ok

echo "frictions: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
