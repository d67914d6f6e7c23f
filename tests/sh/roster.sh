#!/usr/bin/env bash
# Delegated admins, revocation, key rotation and the allowed-signers export,
# end to end against the real binary, stock git and ssh-keygen. The county
# delegates a township (汉葭街道) to an admin key; that admin manages its
# villages and nothing else. Synthetic data only. Forged config commits (which
# the commands themselves refuse to make) are in tests/test_roster.c.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir roster
node() { local h=$1; shift; "$VLEDGER" -C "$w/$h" "$@"; }
C() { node county "$@"; }
T() { node town "$@"; }
fp_of() { node "$1" key | sed -n 2p; }
key_of() { node "$1" key | head -1 | cut -d' ' -f1-2; }
zone() { node "$1" add zone --set zone_no="$2" --set designation=sealed --set area=a --set status=active \
	--set announced_at=2022-04-06T08:00:00Z; }
gitv() { git --git-dir "$w/$1/repo.git" "${@:2}"; }

COUNTY=500243000000 TOWN=500243001000 TOWN2=500243002000
V1=500243001001 V3=500243001003 V9=500243001009 OUTSIDE=500243002001

expect 0 C init --name 彭水县民政局 --role county --scope $COUNTY --new-network
expect 0 C export network --output "$w/network.yaml"
for n in "town:汉葭街道:township:$TOWN" "town2:绍庆街道:township:$TOWN2" "v1:鼓楼社区:village:$V1" \
		"out:河堡社区:village:$OUTSIDE" "c2:county-2:admin:$COUNTY"; do
	IFS=: read -r h name role scope <<<"$n"
	expect 0 node "$h" init --name "$name" --role "$role" --scope "$scope" --network "$w/network.yaml"
done
printf 'v3 pass\n' > "$w/pass3"
expect 0 node v3 init --name 文庙社区 --role village --scope $V3 --network "$w/network.yaml" --passphrase-file "$w/pass3"

# ---- delegated admins -------------------------------------------------------
# The county makes the township's key an admin for the township (and another
# for the second township, and a second county admin).
expect 0 C roster add --name 汉葭街道 --role admin --scope $TOWN --key "$(key_of town)"
expect 0 C roster add --name 绍庆街道 --role admin --scope $TOWN2 --key "$(key_of town2)"
expect 0 C roster add --name county-2 --role admin --scope $COUNTY --key "$(key_of c2)"
expect 0 T fetch "$w/county/repo.git"
# The township admin adds a village of its own township ...
expect 0 T roster add --name 鼓楼社区 --role village --scope $V1 --key "$(key_of v1)"
expect 0 T roster add --name 文庙社区 --role village --scope $V3 --key "$(key_of v3)"
# ... but not one outside it, nor a key for the township's parent.
before=$(refs town)
expect 1 T roster add --name 河堡社区 --role village --scope $OUTSIDE --key "$(key_of out)"
contains "$OUTSIDE"
expect 1 T roster add --name x --role admin --scope $COUNTY --key "$(key_of out)"
[ "$before" = "$(refs town)" ] && ok || bad "refs moved on a refused roster add"
# Nor may it revoke a key outside its township (the second township's).
expect 1 T roster revoke "$(fp_of town2)" --reason test
contains "outside"
# A village key is no admin at all.
expect 0 node v1 fetch "$w/town/repo.git"
expect 1 node v1 roster add --name x --role village --scope $V1 --key "$(key_of out)"
contains "admin"
# The county fetches the township's roster changes: each is checked again.
expect 0 C fetch "$w/town/repo.git"
contains "new commit"
expect 0 C verify
expect 0 T verify

# ---- revocation ---------------------------------------------------------------
expect 0 zone v1 R-1
sleep 1.1
v1fp=$(fp_of v1)
expect 2 T roster revoke "$v1fp"
expect 2 T roster revoke "$v1fp" --reason "$(printf 'two\nlines')"
expect 0 T roster revoke "$v1fp" --reason "laptop lost"
contains "revoked $v1fp"
expect 1 T roster revoke "$v1fp" --reason again
contains "already revoked"
expect 0 T roster list
contains "(revoked)"
# The village has not heard yet and goes on writing after the revocation.
sleep 1.1
expect 0 zone v1 R-2
late=$(gitv v1 rev-parse refs/heads/scope/$V1)
early=$(gitv v1 rev-parse "refs/heads/scope/$V1~1")
expect 0 node v1 verify
# Once it has the config, the late commit is refused and the early one stands.
expect 0 node v1 fetch "$w/town/repo.git"
expect 4 node v1 verify
contains "revoked"; contains "${late:0:12}"; lacks "${early:0:12}"; contains "1 problem"
expect 1 zone v1 R-3
contains "revoked"
# The township receives the village's branch through the same roster: refused.
expect 4 T fetch "$w/v1/repo.git"
contains "revoked"
[ -z "$(gitv town for-each-ref refs/heads/scope/)" ] && ok || bad "the township took a refused branch"

# A second county admin may revoke itself; then the last one cannot.
# (Config is linear: an admin fetches before it changes the roster.)
expect 0 C fetch "$w/town/repo.git"
expect 0 node c2 fetch "$w/county/repo.git"
expect 0 node c2 roster revoke "$(fp_of c2)" --reason "leaving"
expect 0 C fetch "$w/c2/repo.git"
expect 1 C roster revoke "$(fp_of county)" --reason test
contains "last admin"

# ---- key rotation: an admin rotates its own key in one commit -----------------
expect 0 T fetch "$w/county/repo.git"
oldt=$(fp_of town)
expect 0 T key rotate
contains "now signs with"
newt=$(fp_of town)
[ "$oldt" != "$newt" ] && ok || bad "the township's key did not change"
old_files=("$w"/town/keys/node.key.old-*)
[ -f "${old_files[0]}" ] && [ "$(stat -c %a "${old_files[0]}")" = 600 ] && ok || bad "no old key kept at mode 600"
[ "$(stat -c %a "$w/town/keys/node.key")" = 600 ] && ok || bad "new node.key is not mode 600"
[ ! -e "$w/town/keys/node.key.next" ] && ok || bad "node.key.next left behind"
expect 0 T roster list
contains "$newt"
expect 0 T verify
# The new key works: the township adds a village; the county takes it all.
expect 0 T roster add --name 青龙居委会 --role village --scope $V9 --key "$(key_of out)"
expect 0 C fetch "$w/town/repo.git"
expect 0 C verify

# ---- key rotation: a village asks, its township admin approves ----------------
export VLEDGER_PASSPHRASE_FILE=$w/pass3
expect 0 node v3 fetch "$w/town/repo.git"
expect 0 zone v3 K-1
old3=$(fp_of v3)
expect 0 node v3 key rotate --output "$w/req.yaml"
contains "vledger roster approve $w/req.yaml"
grep -q sealed "$w/v3/keys/node.key.next" && ok || bad "the pending key is not sealed like the old one"
expect 1 node v3 key rotate --output "$w/req2.yaml"
contains "already pending"
# Until approved the old key goes on signing.
expect 0 zone v3 K-2
expect 1 node v3 key rotate --finish
contains "not on this node's roster yet"
[ "$(fp_of v3)" = "$old3" ] && ok || bad "the key switched before approval"
# A changed request does not verify; an admin of another township may not approve.
sed 's|^new_key: .*|new_key: "'"$(key_of out)"'"|' "$w/req.yaml" > "$w/forged.yaml"
expect 4 T roster approve "$w/forged.yaml"
contains "does not verify"
expect 0 node town2 fetch "$w/town/repo.git"
expect 1 node town2 roster approve "$w/req.yaml"
contains "outside"
sleep 1.1
expect 0 T roster approve "$w/req.yaml"
contains "approved"
expect 1 T roster approve "$w/req.yaml"
contains "revoked"
expect 0 node v3 fetch "$w/town/repo.git"
expect 0 node v3 key rotate --finish
new3=$(fp_of v3)
[ "$new3" != "$old3" ] && ok || bad "the village's key did not change"
grep -q sealed "$w/v3/keys/node.key" && ok || bad "the new key is not sealed"
expect 0 zone v3 K-3
expect 0 node v3 verify
contains "all good"
out=$(gitv v3 log --format=%ae refs/heads/scope/$V3)
contains "$new3@vledger"; contains "$old3@vledger"
unset VLEDGER_PASSPHRASE_FILE

# ---- allowed-signers for stock git -----------------------------------------------
expect 0 node v1 fetch "$w/town/repo.git"
expect 0 node v1 export allowed-signers --output "$w/allowed" --revocations "$w/revoked"
grep -q "^$v1fp[ ,].*valid-after=\"[0-9]\{14\}Z\",valid-before=\"[0-9]\{14\}Z\" ssh-ed25519 " "$w/allowed" \
	&& ok || bad "no valid-after/valid-before for the revoked village key: $(cat "$w/allowed")"
grep -q "^$newt[ ,].*valid-after=\"[0-9]\{14\}Z\" ssh-ed25519 " "$w/allowed" && ok || bad "no valid-after for the new township key"
[ "$(wc -l < "$w/revoked")" -eq 4 ] && ok || bad "revoked file should list 4 keys: $(cat "$w/revoked")"
grep -q "^$(key_of v1)\$" "$w/revoked" && ok || bad "the revoked village key is not in the revocation file"
! grep -q "$(key_of county | cut -d' ' -f2)" "$w/revoked" && ok || bad "the county key is in the revocation file"
gv() { gitv v1 -c gpg.ssh.allowedSignersFile="$w/allowed" "$@" >/dev/null 2>&1; }
gv verify-commit "$early" && ok || bad "git refused the commit made before the revocation"
gv verify-commit "$late" && bad "git accepted the commit made after the revocation" || ok
gv -c gpg.ssh.revocationFile="$w/revoked" verify-commit "$early" && bad "git accepted a revoked key with the revocation file" || ok
gv -c gpg.ssh.revocationFile="$w/revoked" verify-commit refs/heads/config && ok || bad "the revocation file refused a good key"
# Every config commit verifies with stock git, the rotation included.
for c in $(gitv v1 rev-list refs/heads/config); do
	gv verify-commit "$c" && ok || bad "git refused config commit $c"
done

# valid-after: git judges by the committer date, which the signer writes.
ssh-keygen -q -t ed25519 -N '' -f "$w/sk" -C sk
expect 0 C roster add --name sk --role village --scope 500243001005 --key "$(cat "$w/sk.pub")"
expect 0 C export allowed-signers --output "$w/allowed2"
after=$(sed -n 's/.*valid-after="\([0-9]*\)Z" ssh-ed25519 '"$(cut -d' ' -f2 "$w/sk.pub" | sed 's/[\/&]/\\&/g')"'.*/\1/p' "$w/allowed2")
[ ${#after} -eq 14 ] && ok || bad "no valid-after for the ssh key"
from=$(date -u -d "${after:0:4}-${after:4:2}-${after:6:2}T${after:8:2}:${after:10:2}:${after:12:2}Z" +%s)
git init -q "$w/g"
sc() { GIT_COMMITTER_DATE="@$1 +0000" GIT_AUTHOR_DATE="@$1 +0000" git -C "$w/g" -c gpg.format=ssh \
	-c user.signingkey="$w/sk" -c user.name=sk -c user.email=sk@x commit -q --allow-empty -S -m "$1" && git -C "$w/g" rev-parse HEAD; }
before_valid=$(sc $((from - 3600)))
at_valid=$(sc "$from")
ga() { git -C "$w/g" -c gpg.ssh.allowedSignersFile="$1" "${@:2}" >/dev/null 2>&1; }
ga "$w/allowed2" verify-commit "$at_valid" && ok || bad "git refused a commit dated valid-after"
ga "$w/allowed2" verify-commit "$before_valid" && bad "git accepted a commit dated before valid-after" || ok
sleep 1.1
expect 0 C roster revoke "$(ssh-keygen -l -f "$w/sk.pub" | cut -d' ' -f2)" --reason test
expect 0 C export allowed-signers --output "$w/allowed3" --revocations "$w/revoked3"
after_rev=$(sc $((from + 3600)))
ga "$w/allowed3" verify-commit "$at_valid" && ok || bad "git refused a commit dated before the revocation"
ga "$w/allowed3" verify-commit "$after_rev" && bad "git accepted a commit dated after the revocation" || ok
ga "$w/allowed3" -c gpg.ssh.revocationFile="$w/revoked3" verify-commit "$at_valid" \
	&& bad "git accepted the revoked key's commit with the revocation file" || ok

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
