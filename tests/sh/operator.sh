#!/usr/bin/env bash
# Issue 12: the operator name (the person at the keyboard, as the key holder
# claims it) carried in a signed Vledger-Operator trailer and shown by log,
# history, blame and the audit export; history --field. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir operator
C() { "$VLEDGER" -C "$w/county" "$@"; }
first_id() { printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1; }

expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network
expect 0 C operator show
contains 'no operator set'
# A commit without an operator (as old commits are) has no trailer.
expect 0 C add resident --set name=李四 --set phone=13800000000 --set residence_kind=migrant \
	--set address=鼓楼社区2栋 --set source=self_report
r=$(first_id)
c0=$(git --git-dir "$w/county/repo.git" rev-parse refs/heads/scope/500243000000)
git --git-dir "$w/county/repo.git" cat-file commit "$c0" | grep -q '^Vledger-Operator:' \
	&& bad "a commit without an operator has the trailer" || ok

# ---- operator set: kept in node.yaml, carried by every commit -----------------
expect 0 C operator set 王秀英
expect 0 C operator show
contains '王秀英'
grep -q '^operator: 王秀英$' "$w/county/node.yaml" && ok || bad "node.yaml lacks the operator: $(cat "$w/county/node.yaml")"
expect 0 C edit "$r" --set address=鼓楼社区3栋
c1=$(git --git-dir "$w/county/repo.git" rev-parse refs/heads/scope/500243000000)
git --git-dir "$w/county/repo.git" cat-file commit "$c1" | grep -qx 'Vledger-Operator: 王秀英' \
	&& ok || bad "the commit lacks the operator trailer"
# The environment and --operator (before or after the command) name another for one run.
VLEDGER_OPERATOR=张三 expect 0 C edit "$r" --set address=鼓楼社区4栋
expect 0 C --operator 赵六 edit "$r" --set phone=13900000000
expect 0 C edit "$r" --set address=鼓楼社区5栋 --operator 钱七
expect 0 C operator show
contains '王秀英'

# ---- shown by log, history, blame, the audit export ----------------------------
expect 0 C log
contains 'operator 王秀英'; contains 'operator 张三'; contains 'operator 赵六'; contains 'operator 钱七'
expect 0 C log --json
contains '"operator":"钱七"'; contains '"operator":null'
expect 0 C history "$r"
contains 'operator 王秀英'; contains 'operator 张三'; contains 'operator 钱七'
expect 0 C history "$r" --json
contains '"operator":"赵六"'; contains '"operator":null'
expect 0 C blame "$r"
contains ', operator 钱七'; contains ', operator 赵六'
expect 0 C blame "$r" --json
contains '"operator":"钱七"'
expect 0 C audit export --format json
contains '"operator":"张三"'
expect 0 C audit export --format html
contains '操作员 operator: 王秀英'

# ---- history --field: only the versions that changed that field ------------------
# Versions: #1 add, #2-#3 address, #4 phone, #5 address.
expect 0 C history "$r" --field 联系电话
contains 'changed in 2 of the 5 versions'; contains '#1 add'; contains '#4 edit'
lacks '#2 edit'; lacks '#3 edit'; lacks '#5 edit'
expect 0 C history "$r" --field address
contains '#2 edit'; contains '#3 edit'; contains '#5 edit'; lacks '#4 edit'
expect 0 C history "$r" --field phone --json
contains '"field":"phone"'; contains '"n":4,'; lacks '"n":2,'; lacks '"n":5,'
# Unknown fields name the ledger and where the fields are listed; a field
# a version did not change leaves only the versions that did.
expect 1 C history "$r" --field 电话号码
contains "ledger 'resident' has no field"
expect 0 C history "$r" --field notes
contains 'changed in 0 of the 5 versions'; lacks '#1 add'

# ---- verify, and stock git still verifies the signatures --------------------------
expect 0 C verify
contains 'all good'
expect 0 C export allowed-signers --output "$w/allowed"
for c in $(git --git-dir "$w/county/repo.git" rev-list refs/heads/scope/500243000000); do
	git --git-dir "$w/county/repo.git" -c gpg.ssh.allowedSignersFile="$w/allowed" verify-commit "$c" >/dev/null 2>&1 \
		&& ok || bad "stock git does not verify $c"
done
out=$(git --git-dir "$w/county/repo.git" -c gpg.ssh.allowedSignersFile="$w/allowed" log --show-signature -1 \
	refs/heads/scope/500243000000 2>&1)
contains 'Good "git" signature'; contains 'Vledger-Operator: 钱七'

# ---- bad names refused, nothing written ----------------------------------------------
before=$(refs county); conf=$(cat "$w/county/node.yaml")
expect 1 C operator set $'王\x1b[2J秀英'
contains 'control character'; lacks '秀英'
expect 1 C operator set "$(printf '王%.0s' {1..22})"
contains 'give 1 to 64 bytes'
expect 1 C operator set ' 王秀英'
expect 1 C --operator $'a\nb' edit "$r" --set address=x
VLEDGER_OPERATOR=$'\t' expect 1 C edit "$r" --set address=x
contains 'VLEDGER_OPERATOR'
[ "$(refs county)" = "$before" ] && ok || bad "a refused operator moved a ref"
[ "$(cat "$w/county/node.yaml")" = "$conf" ] && ok || bad "a refused operator changed node.yaml"
# A node.yaml operator broken by hand stops writes, not reads, and
# 'operator set' repairs it.
sed -i 's/^operator: .*/operator: "a\\tb"/' "$w/county/node.yaml"
grep -q '^operator: "a\\tb"$' "$w/county/node.yaml" && ok || bad "could not break node.yaml: $(cat "$w/county/node.yaml")"
expect 1 C edit "$r" --set address=x
contains 'control character'; contains 'operator set'
expect 0 C list resident
expect 0 C operator set 王秀英
expect 0 C edit "$r" --set address=鼓楼社区6栋
# 21 Chinese characters (63 bytes) fit.
expect 0 C operator set "$(printf '王%.0s' {1..21})"
expect 0 C operator set --clear
expect 0 C operator show
contains 'no operator set'
grep -q '^operator:' "$w/county/node.yaml" && bad "--clear left the operator in node.yaml" || ok

echo "operator: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
