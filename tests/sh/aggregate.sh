#!/usr/bin/env bash
# vledger aggregate and list --where end to end: figures checked against an
# independent count of the same records made with stock git (ls-tree,
# cat-file) and awk over the YAML, no vledger code; roll-up sums equal the
# sum of the parts; deleted records excluded; never-synced and stale units
# flagged; the cache is derived (tampered or deleted -> same figures);
# --where operators and their errors; invalid codes refused.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir aggregate
C() { "$VLEDGER" -C "$w/c" "$@"; }
G() { git --git-dir "$w/c/repo.git" "$@"; }
T1=500243001000; V1=500243001001; V2=500243001002; T2=500243002000; V3=500243002001

expect 0 C init --name 县 --role county --scope 500243000000 --new-network

# Synthetic residents: tags, kinds and survey dates vary with the index.
gen_residents() { # N SEED
	awk -v n="$1" -v s="$2" 'BEGIN {
		print "records:"
		split("elderly_alone child_in_difficulty disabled pregnant special_disease", t, " ")
		for (i = 0; i < n; i++) {
			k = (i * 7 + s) % 11
			printf "  - {name: 居民%d, residence_kind: %s, address: 地址%d, source: %s, surveyed_on: 2022-04-%02d",
				i, (k % 3 == 0 ? "migrant" : "registered"), i, (k % 4 == 0 ? "self_report" : "worker_survey"), 1 + k
			if (k < 5) printf ", tags: [%s]", t[k + 1]
			else if (k == 5) printf ", tags: [disabled, elderly_alone]"
			print "}"
		}
	}'
}
gen_requests() { # N SEED
	awk -v n="$1" -v s="$2" 'BEGIN {
		print "records:"
		split("registered purchased delivering delivered cancelled", st, " ")
		for (i = 0; i < n; i++) {
			k = (i * 5 + s) % 7
			printf "  - {request_no: \"500243001001-2022040%d-%03d\", reason: other, address: 地址, contact_name: 张, contact_phone: \"13800138000\", status: %s, urgent: %s, amount: %d.%02d, items: [{name: 米, qty: 1, unit: 袋}]}\n",
				s, i, st[(k % 5) + 1], (k % 2 ? "true" : "false"), k * 3, (i * 13) % 100
		}
	}'
}
gen_residents 40 1 > r1.yaml; gen_residents 25 2 > r2.yaml; gen_residents 30 3 > r3.yaml
gen_requests 12 1 > q1.yaml; gen_requests 9 2 > q3.yaml
expect 0 C import resident --file r1.yaml --scope $V1
expect 0 C import resident --file r2.yaml --scope $V2
expect 0 C import resident --file r3.yaml --scope $V3
expect 0 C import supply_request --file q1.yaml --scope $V1
expect 0 C import supply_request --file q3.yaml --scope $V3
[ "$(C list supply_request --scope $V1 --json | jq length)" = 12 ] && ok || bad "supply requests not imported: $out"
# Delete two residents of V1: tombstones must not count.
for id in $(C list resident --scope $V1 --where tags=elderly_alone --json | jq -r '.[0:2][].id'); do
	expect 0 C rm "$id" --reason "搬走"
done
# A worker infected (personal field, counted by category only).
expect 0 C add worker_care --scope $V2 --set worker_name=王五 --set post=网格员 --set duty_status=on_duty \
	--set infection_status=infected
expect 0 C add worker_care --scope $V2 --set worker_name=赵六 --set post=网格员 --set duty_status=resting

# ---- independent counts: stock git + awk ----
# records SCOPE LEDGER: the blobs of a ledger on a branch, one YAML file after
# another, each preceded by cat-file's header line.
records() { G ls-tree -r "refs/heads/scope/$1" -- "$2/" | awk '{print $3}' | G cat-file --batch; }
# count SCOPE LEDGER AWK-CONDITION: live records (no "deleted: true") whose
# text meets the condition; fields are read as "  key: value" lines of data.
count() {
	records "$1" "$2" | awk -v cond="$3" '
		function flush() { if (have && !del) { if (cond == "all") n++
			else { split(cond, c, "~"); if (f[c[1]] ~ c[2]) n++ } } have = 0; del = 0; delete f }
		/^[0-9a-f]+ blob [0-9]+$/ { flush(); have = 1; next }
		/^deleted: true$/ { del = 1 }
		/^  [a-z_]+: / { k = substr($1, 1, length($1) - 1); sub(/^  [a-z_]+: /, ""); f[k] = $0 }
		END { flush(); print n + 0 }'
}
sum_amount() {
	records "$1" supply_request | awk '
		/^[0-9a-f]+ blob/ { next }
		/^  amount: / { split($2, p, "."); cents += p[1] * 100 + p[2] }
		END { printf "%d.%02d\n", cents / 100, cents % 100 }'
}
num() { printf '%s' "$out" | jq -r --arg c "$1" --arg k "$2" '.units[] | select(.code == $c) | .figures[$k]'; }
field() { printf '%s' "$out" | jq -r --arg c "$1" --arg k "$2" '.units[] | select(.code == $c) | .[$k]'; }
check() { # CODE KEY WANT
	local got; got=$(num "$1" "$2")
	[ "$got" = "$3" ] && ok || bad "$1 $2: aggregate says '$got', git count says '$3'"
}

expect 0 C aggregate --format json
J=$out
for v in $V1 $V2 $V3; do
	check $v resident.residents "$(count $v resident all)"
	check $v resident.elderly_alone "$(count $v resident 'tags~elderly_alone')"
	check $v resident.disabled "$(count $v resident 'tags~disabled')"
	check $v resident.migrants "$(count $v resident 'residence_kind~^migrant$')"
	check $v resident.self_reported "$(count $v resident 'source~^self_report$')"
done
for v in $V1 $V3; do
	check $v supply_request.requests "$(count $v supply_request all)"
	check $v supply_request.by_stage.delivering "$(count $v supply_request 'status~^delivering$')"
	check $v supply_request.open "$(count $v supply_request 'status~^(registered|purchased|delivering)$')"
	check $v supply_request.open_urgent "$(( $(count $v supply_request 'urgent~^true$') - \
		$(records $v supply_request | awk '/^[0-9a-f]+ blob/ {if (u && d) n++; u = d = 0}
			/^  urgent: true$/ {u = 1} /^  status: (delivered|cancelled)$/ {d = 1}
			END {if (u && d) n++; print n + 0}') ))"
	want=$(sum_amount $v); want=${want%0}; want=${want%.0}
	check $v supply_request.amount "$want"
done
check $V2 worker_care.infected 1
check $V2 worker_care.by_duty_status.resting 1
# Deleted records are excluded: V1 had 40 residents, 2 deleted.
check $V1 resident.residents 38
# Roll-up: each township and the county equal the sum of their parts.
for k in resident.residents resident.elderly_alone supply_request.amount supply_request.by_stage.registered; do
	a=$(num $V1 $k); b=$(num $V2 $k); c=$(num $V3 $k)
	[ "$(num $T1 $k)" = "$(jq -n "$a + $b")" ] && ok || bad "township $T1 $k: $(num $T1 $k) != $a + $b"
	[ "$(num 500243000000 $k)" = "$(jq -n "$a + $b + $c")" ] && ok || bad "county $k is not the sum of its villages"
	[ "$(num $T2 $k)" = "$c" ] && ok || bad "township $T2 $k"
done
# Names and levels from the division table; never-synced villages flagged, not zero.
[ "$(field $T1 name)" = 汉葭街道 ] && ok || bad "township name: $(field $T1 name)"
[ "$(field $V1 level)" = village ] && ok || bad "village level"
[ "$(field 500243001003 never_synced)" = true ] && ok || bad "a village without a branch is not flagged never_synced"
[ "$(printf '%s' "$out" | jq '.units[] | select(.code == "500243001003") | .figures | length')" = 0 ] && ok ||
	bad "a never-synced village has figures"
[ "$(field $T1 never_synced_below)" = "$(( $(awk -F, -v t=${T1:0:9} '$3 == "village" && substr($1,1,9) == t' "$VL_DATA_DIR/divisions/pengshui_divisions.csv" | wc -l) - 2 ))" ] && ok ||
	bad "township never_synced_below: $(field $T1 never_synced_below)"
[ "$(field 500243003000 never_synced)" = true ] && ok || bad "a township with nothing synced below is not flagged"
[ "$(field $V1 head)" = "$(G rev-parse refs/heads/scope/$V1)" ] && ok || bad "the head a unit's figures came from"
[ "$(field $V1 stale)" = false ] && ok || bad "fresh data flagged stale"
# Freshness: with a 1-second threshold, data 2 seconds old is stale.
sleep 2
expect 0 C aggregate --format json --stale-after 1s --scope $T1
[ "$(field $V1 stale)" = true ] && ok || bad "old data not flagged stale"
[ "$(field $T1 stale_below)" = 2 ] && ok || bad "stale_below: $(field $T1 stale_below)"
expect 0 C aggregate --scope $T1
contains "NEVER SYNCED"; contains "汉葭街道"

# --by keeps one level.
expect 0 C aggregate --format json --by township
[ "$(printf '%s' "$out" | jq '[.units[] | .level] | unique | join(",")' -r)" = township ] && ok || bad "--by township"
[ "$(printf '%s' "$out" | jq '.units | length')" = 39 ] && ok || bad "39 townships"
# csv: one row per unit.
expect 0 C aggregate --format csv --by village --scope $T1 --ledger resident
[ "$(printf '%s\n' "$out" | grep -c "^$V1,鼓楼社区居委会,village,")" = 1 ] && ok || bad "csv row: $out"

# ---- the cache: incremental, and never trusted over the repository ----
[ -s "$w/c/cache/aggregate.v1" ] && ok || bad "no cache written"
expect 0 C aggregate --format json
[ "$out" = "$J" ] || [ "$(printf '%s' "$out" | jq -S '.units')" = "$(printf '%s' "$J" | jq -S '.units')" ] && ok || bad "warm run differs"
# Tamper: change every cached figure but keep the format -> checksums fail, same figures.
sed -i -E 's/ ([0-9]+)000000 / 9\1000000 /g' "$w/c/cache/aggregate.v1"
expect 0 C aggregate --format json
[ "$(printf '%s' "$out" | jq -S '.units')" = "$(printf '%s' "$J" | jq -S '.units')" ] && ok || bad "tampered cache changed the figures"
[ "$(printf '%s' "$out" | jq .run.cache_rejected)" = true ] && ok || bad "tampered cache not rejected"
# Garbage and truncation too.
head -c 100 "$w/c/cache/aggregate.v1" > "$w/c/cache/x" && mv "$w/c/cache/x" "$w/c/cache/aggregate.v1"
expect 0 C aggregate --format json
[ "$(printf '%s' "$out" | jq -S '.units')" = "$(printf '%s' "$J" | jq -S '.units')" ] && ok || bad "truncated cache changed the figures"
rm -rf "$w/c/cache"
expect 0 C aggregate --format json
[ "$(printf '%s' "$out" | jq -S '.units')" = "$(printf '%s' "$J" | jq -S '.units')" ] && ok || bad "no cache changed the figures"
# After a change only the changed bucket is re-read: one more resident in V3.
expect 0 C add resident --scope $V3 --set name=新人 --set residence_kind=migrant --set address=x --set source=self_report --set tags=pregnant
expect 0 C aggregate --format json
run() { printf '%s' "$out" | jq -r ".run.$1"; }
# Exactly the records of the one changed bucket were read; the rest came from the cache.
changed_bucket=$(G diff-tree -r --name-only refs/heads/scope/$V3~1 refs/heads/scope/$V3 | cut -d/ -f2)
want_read=$(G ls-tree --name-only refs/heads/scope/$V3:resident/$changed_bucket | wc -l)
[ "$(run records_read)" = "$want_read" ] && ok || bad "warm run read $(run records_read) records, want $want_read"
[ "$(run subtrees_read)" = 1 ] && ok || bad "warm run read $(run subtrees_read) buckets, want 1"
[ "$(run cache_rejected)" = false ] && ok || bad "cache rejected"
check $V3 resident.residents "$(count $V3 resident all)"
check $V3 resident.pregnant "$(count $V3 resident 'tags~pregnant')"
# A narrower run (one township, one ledger) keeps the rest of the cache: the
# next full run reads nothing.
expect 0 C aggregate --scope $T1 --ledger resident --format json
expect 0 C aggregate --format json
[ "$(run records_read)" = 0 ] && ok || bad "a narrow run dropped cache entries: $(run records_read) records re-read"
check 500243000000 resident.pregnant "$(( $(count $V1 resident 'tags~pregnant') + $(count $V2 resident 'tags~pregnant') + $(count $V3 resident 'tags~pregnant') ))"

# ---- --where: operators, AND, set membership; list and aggregate ----
n_after=$(count $V1 resident 'surveyed_on~2022-04-(0[6-9]|1[0-9])')
expect 0 C aggregate --ledger resident --scope $V1 --format json --where 'surveyed_on>=2022-04-06'
check $V1 resident.residents "$n_after"
expect 0 C list resident --scope $V1 --where 'surveyed_on>=2022-04-06' --json
[ "$(printf '%s' "$out" | jq length)" = "$n_after" ] && ok || bad "list >= date"
expect 0 C list resident --scope $V1 --where 'surveyed_on<2022-04-06' --json
[ "$(printf '%s' "$out" | jq length)" = "$(( 38 - n_after ))" ] && ok || bad "list < date"
expect 0 C list resident --scope $V1 --where 'tags=elderly_alone' --where 'tags=disabled' --json
[ "$(printf '%s' "$out" | jq length)" = "$(count $V1 resident 'tags~disabled, elderly_alone')" ] && ok || bad "two --where ANDed"
expect 0 C list resident --scope $V1 --where 'tags!=elderly_alone' --json
[ "$(printf '%s' "$out" | jq length)" = "$(( 38 - $(count $V1 resident 'tags~elderly_alone') ))" ] && ok || bad "!= on a set"
expect 0 C list supply_request --scope $V1 --where 'amount>10.5' --json
[ "$(printf '%s' "$out" | jq length)" = "$(records $V1 supply_request | awk '/^  amount: / && $2 + 0 > 10.5 {n++} END {print n + 0}')" ] && ok || bad "decimal >"
expect 0 C list supply_request --scope $V1 --where 'amount<=0.13' --json
[ "$(printf '%s' "$out" | jq length)" = "$(records $V1 supply_request | awk '/^  amount: / && $2 + 0 <= 0.13 {n++} END {print n + 0}')" ] && ok || bad "decimal <="
expect 0 C list supply_request --scope $V1 --where 'status=已送达' --json
[ "$(printf '%s' "$out" | jq length)" = "$(count $V1 supply_request 'status~^delivered$')" ] && ok || bad "enum label"
# list --scope of a township includes its villages; --no-children opts out.
expect 0 C list resident --scope $T1 --json
[ "$(printf '%s' "$out" | jq length)" = "$(( 38 + 25 ))" ] && ok || bad "township list includes villages"
expect 0 C aggregate --format json --ledger resident
county_pregnant=$(num 500243000000 resident.pregnant)
# --ledger takes the ledger's id or either label, as the other commands do.
by_id=$(jq -c '.units' <<<"$out")
expect 0 C aggregate --format json --ledger 常住人口
[ "$(jq -c '.units' <<<"$out")" = "$by_id" ] && ok || bad "--ledger 常住人口 differs from --ledger resident"
[ "$(jq -r '[.units[0].figures | keys[] | select(startswith("resident.") | not)] | length' <<<"$out")" = 0 ] && ok ||
	bad "--ledger 常住人口 kept other ledgers: $(jq -c '.units[0].figures | keys' <<<"$out")"
expect 0 C aggregate --format json --ledger Residents
[ "$(jq -c '.units' <<<"$out")" = "$by_id" ] && ok || bad "--ledger Residents differs from --ledger resident"
expect 1 C aggregate --ledger 不存在的台账
expect 0 C list resident --scope 500243000000 --json --where tags=pregnant
[ "$(printf '%s' "$out" | jq length)" = "$county_pregnant" ] && ok || bad "county list = county figure"
expect 0 C list resident --scope $T1 --no-children
contains "no records"
# Errors name the field, operator or value; never a personal value.
expect 1 C list resident --where 'tags<elderly_alone'
contains "operator '<' needs an int, decimal, date or datetime field"
expect 1 C list resident --where 'surveyed_on>=2022-13-01'
contains "'2022-13-01' is not a valid date"
expect 1 C list resident --where 'nosuch=1'
contains "no field 'nosuch'"
expect 1 C list resident --where 'tags~x'
contains "expected FIELD OP VALUE"
expect 1 C list resident --where 'birth_date<1900-99-99'
lacks "1900-99-99"
expect 1 C aggregate --ledger resident --where 'name=张三'
contains "personal data"; lacks "张三"
expect 1 C aggregate --where 'tags=disabled'
contains "--where needs --ledger"
# Invalid division codes are errors, not empty results.
expect 1 C list resident --scope 50024300100
contains "not a 12-digit division code"
expect 1 C list resident --scope 500243001999
contains "not a unit of the division table"
expect 1 C aggregate --scope 500243999000
contains "not in the division table"
expect 1 C aggregate --scope 5002430010011
expect 2 C aggregate --format pdf
expect 2 C aggregate --stale-after soon

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
