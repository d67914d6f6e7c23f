#!/usr/bin/env bash
# The demo network (see README): on loopback, a county, two townships and
# four villages of 彭水 (real division codes from data/divisions), each its
# own node home and its own `vledger serve` process. The county creates the
# network and adds every key to the roster; each node takes its first config
# from the county by path (as an invitation's source would), then everything
# moves over the network: the secret handshake, scoped refs, packs, the
# receive path. One village enters realistic records of every ledger; its
# second laptop joins; both laptops edit the same records offline and sync
# through their township, ending on the same merge; a village with no link
# sends a USB stick (a bundle sealed to the county); the county pulls from
# both townships and keeps its copies on a git server hub (git daemon).
# Then every node is verified, what each holds is printed,
# the privacy scan shows that no node holds an object of records outside
# its scope, stock `git verify-commit` and `ssh-keygen -Y verify` check the
# signatures, and every serve process is stopped. Every ID number and phone
# here is synthetic. Set KEEP=1 to keep the directory, VLEDGER to use
# another binary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${VLEDGER:-}" ]; then
	"$root/scripts/install-deps.sh"
	cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$root/build" -j2 --target vledger >/dev/null
	VLEDGER=$root/build/agent/vledger
fi
export VLEDGER_SCHEMA_DIR=$root/schemas
source "$root/scripts/lib/netdemo.bash"
work=$(mktemp -d /tmp/vledger-demo.XXXXXX)
hub_pid=
cleanup() {
	vl_stop_all
	[ -z "$hub_pid" ] || kill "$hub_pid" 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"
t0=$SECONDS

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
county() { "$VLEDGER" -C "$work/county" "$@"; }
village() { "$VLEDGER" -C "$work/village" "$@"; }
laptop2() { "$VLEDGER" -C "$work/laptop2" "$@"; }
town1() { "$VLEDGER" -C "$work/town1" "$@"; }
town2() { "$VLEDGER" -C "$work/town2" "$@"; }
node() { "$VLEDGER" -C "$work/$1" "${@:2}"; }
# Exit 3 means "fields were left for a person": expected where we say so.
allow3() { "$@" || [ $? -eq 3 ]; }

# Real division codes of 彭水 (500243), shipped in data/ (source and licence
# in data/README.md).
csv=$root/data/divisions/pengshui_divisions.csv
name_of() {
	local n
	n=$(awk -F, -v c="$1" '$1==c {print $2}' "$csv")
	[ -n "$n" ] || { echo "demo.sh: division code '$1' not found in '$csv'" >&2; exit 1; }
	echo "$n"
}
county_code=500243000000
town_code=500243001000        # 汉葭街道: 鼓楼社区 (the village of this story) and 石嘴社区
town2_code=500243002000       # 绍庆街道: 河堡社区 and 滨江社区
village_code=500243001001
county_name=$(name_of $county_code)
village_name=$(name_of $village_code)
town_name=$(name_of $town_code)
# home code: the nodes besides the county and the village's two laptops
others="town1:$town_code town2:$town2_code shizui:500243001002 hebao:500243002001 binjiang:500243002002"
scope_of() { case $1 in county) echo $county_code ;; village|laptop2) echo $village_code ;;
	*) local x; for x in $others; do [ "${x%%:*}" = "$1" ] && echo "${x#*:}"; done ;; esac; }

# A synthetic resident ID: region 500243, birth date, sequence, MOD 11-2 check.
cn_id() {
	local body=$1 w=(7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2) c=10X98765432 s=0 i
	for i in $(seq 0 16); do s=$((s + ${body:$i:1} * ${w[$i]})); done
	echo "$body${c:$((s % 11)):1}"
}

say "county node: $county_name ($county_code) creates the network"
county init --name "${county_name}民政局" --role county --scope $county_code --new-network
county export network --output network.yaml      # and network.key beside it (mode 0600)

say "$village_name ($village_code) of $town_name joins, key sealed with a passphrase"
printf 'demo passphrase for the village laptop\n' > pass
chmod 600 pass
export VLEDGER_PASSPHRASE_FILE=$work/pass
village init --name "$village_name" --role village --scope $village_code --network network.yaml \
	--passphrase-file pass
county roster add --name "$village_name" --role village --scope $village_code --key "$(village key | head -1)"

say "two townships and three more villages join (real codes: $(for x in $others; do printf '%s ' "$(name_of "${x#*:}")"; done))"
for x in $others; do
	h=${x%%:*} code=${x#*:} name=$(name_of "${x#*:}")
	case $code in *000) role=township ;; *) role=village ;; esac
	node "$h" init --name "$name" --role $role --scope "$code" --network network.yaml >/dev/null
	county roster add --name "$name" --role $role --scope "$code" --key "$(node "$h" key | head -1)"
done
# The first config comes by path, as an invitation's source brings it; from
# here on everything moves over the network.
for h in village town1 town2 shizui hebao binjiang; do node "$h" fetch "$work/county/repo.git" >/dev/null; done
village roster list
village schema list

say "every node serves on loopback: its own 'vledger serve' process (secret handshake, LAN announcements)"
for h in county town1 town2 village shizui hebao binjiang; do
	vl_serve "$work/$h"
	printf '  %-9s %-24s 127.0.0.1:%s  pid %s\n' "$h" "$(node "$h" key | sed -n 2p | cut -c1-20)..." \
		"${vl_port[$work/$h]}" "${vl_pid[$work/$h]}"
done
# Who talks to whom: villages to their township, townships to the county.
peer() { node "$1" peer add "$2" "127.0.0.1:${vl_port[$work/$2]}" --key "$(vl_fp "$work/$2")" >/dev/null; }
for h in village shizui; do peer $h town1; done
for h in hebao binjiang; do peer $h town2; done
peer town1 county; peer town2 county
peer county town1; peer county town2
village peer list

say "$town_name listens on the LAN: who announces itself (a claim; the handshake checks it)"
town1 peer list --lan --wait 3

say "resident register (常住人口) with vulnerable groups"
r1=$(village add resident --set name=王秀英 --set id_number="$(cn_id 50024319430215002)" \
	--set gender=女 --set birth_date=1943-02-15 --set residence_kind=户籍人口 \
	--set address="鼓楼社区 2 组 8 号" --set phone=13800000001 \
	--set tags=独居老人,特殊疾病患者 --set source=主动摸排)
r2=$(village add resident --set name=李小明 --set id_number="$(cn_id 50024320150603001)" \
	--set gender=男 --set birth_date=2015-06-03 --set residence_kind=registered \
	--set address="鼓楼社区 5 组 21 号" --set tags=child_in_difficulty --set source=self_report)
r3=$(village add resident --set name=赵建国 --set id_number="$(cn_id 50024319700911003)" \
	--set gender=male --set birth_date=1970-09-11 --set residence_kind=migrant \
	--set address="鼓楼社区 1 组 3 号" --set phone=023-78441234 --set tags=disabled --set source=worker_survey)
village list resident

say "the other ledgers (a status left out is the schema default: active, planned, draft...)"
sg=$(village add special_group --set resident=$r1 --set group=elderly_alone \
	--set liaison_name=刘敏 --set liaison_phone=13900000002)
zone=$(village add zone --set zone_no=GL-2022-01 --set designation=管控区 --set area="鼓楼社区 2 组" \
	--set announced_at=2022-04-06T08:00:00Z --set households=42)
cat > supply.yaml <<YAML
request_no: "${village_code}-20220407-003"
resident: "$r1"
reason: elderly_alone
address: 鼓楼社区 2 组 8 号
contact_name: 王秀英
contact_phone: "13800000001"
items:
  - {name: 大米, qty: 2, unit: 袋}
  - {name: 降压药, qty: 1, unit: 盒, note: 每日一次}
requested_at: "2022-04-07T01:12:33Z"
YAML
sup=$(village add supply_request --file supply.yaml)
ts=$(village add test_session --set kind=on_site --set site="鼓楼社区广场" --set date=2022-04-08 \
	--set round=3)
vol=$(village add volunteer --set name=陈志强 --set phone=13700000003 --set team="鼓楼社区青年突击队" \
	--set skills=driving,delivery)
wc=$(village add worker_care --set worker_name=周丽 --set post=网格员 --set duty_status=on_duty \
	--set subsidy_days=12 --set daily_rate=100.00 --set subsidy_amount=1200.00)
nr=$(village add network_role --set role=grid_leader --set person_name=吴刚 --set phone=13600000004 \
	--set area="鼓楼社区第 3 网格")
rep=$(village add report --set title="鼓楼社区独居老人代购代送经验" --set kind=typical_experience \
	--set contact_name=刘敏 --set contact_phone=13900000002 --set deadline=2022-04-15 \
	--set target_level=township --set body="组建青年突击队，对独居老人实行一对一代购。")

say "edits: a supply request moves need -> bought -> delivered; a report is submitted"
village edit "$sup" --set status=已采购
village edit "$sup" --set status=delivering
village edit "$sup" --set status=delivered
village edit "$r3" --set phone=13500000005
village edit "$rep" --set status=submitted
village show "$sup"

say "a resident moves away: deleted by tombstone (history keeps the earlier versions)"
village rm "$r2" --reason "迁出本社区"
village list resident --deleted

say "bad input is refused with the field and the rule, and nothing is written"
before=$(git --git-dir village/repo.git for-each-ref --format='%(objectname)')
if village add resident --set name=错号 --set id_number=500243194302150021 --set residence_kind=registered \
	--set address=x --set source=self_report; then echo "accepted a bad ID!"; exit 1; fi
if village add resident --scope 500243001002 --set name=越权 --set residence_kind=registered \
	--set address=x --set source=self_report; then echo "wrote another village!"; exit 1; fi
[ "$before" = "$(git --git-dir village/repo.git for-each-ref --format='%(objectname)')" ]
echo "refs unchanged"

say "the other villages enter a volunteer each; everyone syncs with the township, townships with the county"
for h in shizui hebao binjiang; do
	node $h add volunteer --set name=志愿者$h --set phone=1370000$((RANDOM % 9000 + 1000)) --set team="${h}青年突击队" >/dev/null
done
village sync town1
node shizui sync town1
node hebao sync town2
town1 sync county
town2 sync county

say "a second laptop of the same village joins; the township gives it the village's ledgers"
laptop2 init --name "${village_name}(2号机)" --role village --scope $village_code --network network.yaml \
	--passphrase-file pass
county roster add --name "${village_name}(2号机)" --role village --scope $village_code \
	--key "$(laptop2 key | head -1)"
town1 sync county          # the township learns the new key (the roster is on config)
laptop2 fetch "$work/county/repo.git" >/dev/null    # its first config, by path like the others
peer laptop2 town1
laptop2 sync town1
laptop2 list resident

say "both laptops work offline on the same records"
village edit "$r1" --set phone=13800000011
laptop2 edit "$r1" --set tags=独居老人,特殊疾病患者,残疾人
village edit "$r3" --set id_number="$(cn_id 50024319700911011)"
laptop2 edit "$r3" --set id_number="$(cn_id 50024319700911029)"
village edit "$rep" --set status=received
laptop2 edit "$rep" --set status=adopted
village edit "$vol" --set service_hours=3 --set 'service_log=[{date: 2022-04-08, task: 送药上门, hours: 3}]'
laptop2 edit "$vol" --set service_hours=2 --set 'service_log=[{date: 2022-04-09, task: 协助核酸采样, hours: 2}]'
# Worker care: 12 subsidy days at 100.00; one laptop adds 2 days, the other
# 3. Days merge by sum; the amount by the pinned hook (days x rate).
village edit "$wc" --set subsidy_days=14 --set subsidy_amount=1400.00
laptop2 edit "$wc" --set subsidy_days=15 --set subsidy_amount=1500.00

say "they meet through the township: each syncs with $town_name (verified in a quarantine, then merged)"
allow3 village sync town1
allow3 laptop2 sync town1
allow3 village sync town1
h1=$(git --git-dir village/repo.git rev-parse scope/$village_code)
h2=$(git --git-dir laptop2/repo.git rev-parse scope/$village_code)
h3=$(git --git-dir town1/repo.git rev-parse scope/$village_code)
echo "laptop 1 head $h1"
echo "laptop 2 head $h2"
echo "township head $h3"
[ "$h1" = "$h2" ] && [ "$h2" = "$h3" ] || { echo "the laptops and the township did not converge"; exit 1; }
echo "same merge commit on both laptops and the township: merges are deterministic"
village show "$r1" --reveal | grep -E "phone|tags"
village show "$vol" | grep -E "service"
village show "$rep" | grep -E "status"
village show "$wc" | grep -E "subsidy"

say "what no rule may decide is left for a person: an ID number"
allow3 village conflicts
village resolve "$r3" id_number --take 1
village conflicts
village sync town1
laptop2 sync town1

say "$(name_of 500243002002) has no link today: a USB stick carries a bundle sealed to the county's key"
mkdir "$work/usb"
node binjiang bundle create "$work/usb" --for "${county_name}民政局" --seal-to "${county_name}民政局"
# Anyone else holding the stick can neither read nor apply it.
laptop2 bundle apply "$work/usb"
county bundle apply "$work/usb"
county bundle apply "$work/usb"   # applying it twice changes nothing

say "the county pulls from both townships (receive only: what a county does)"
town1 sync county
county pull town1
county pull town2
county list resident --scope $village_code

# ---- The county keeps its copies on a git server hub (issue 10): a git
# daemon on loopback stands for any git server (ssh://, https:// alike). ----
hub_demo() {
	local port pid
	say "the county also keeps its copies on an ordinary git server (git daemon on 127.0.0.1)"
	mkdir -p "$work/srv"
	git init -q --bare "$work/srv/hub.git"
	port=$(vl_free_port)   # scripts/lib/port.bash: git daemon cannot say a port it chose
	git daemon --reuseaddr --enable=receive-pack --export-all --base-path="$work/srv" \
		--listen=127.0.0.1 --port="$port" "$work/srv" 2>/dev/null &
	pid=$!
	hub_pid=$pid   # cleanup() stops it if anything below fails
	for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
	county remote add hub "git://127.0.0.1:$port/hub.git"
	county remote list
	county sync hub           # fetch (nothing yet), then push config and every branch it holds
	county sync hub           # again: nothing to do
	say "stock git clone of the hub has the records"
	git clone -q -b "scope/$village_code" "git://127.0.0.1:$port/hub.git" "$work/hubclone"
	find "$work/hubclone" -name '*.yaml' -path '*resident*' | head -3
	echo "$(find "$work/hubclone" -name '*.yaml' -not -path '*/.git/*' | wc -l) record files in the clone"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
	hub_pid=
}
hub_demo

say "history"
village log
village log --record "$sup"

say "vledger verify on every node (signatures, roster, schemas, chains, and a replay of every merge)"
for h in county town1 town2 village laptop2 shizui hebao binjiang; do
	printf '  %-9s ' $h
	node $h verify --quiet && echo "verified" || { echo "VERIFY FAILED on $h"; exit 1; }
done

say "what each node holds (branch, records at its head, head commit)"
for h in county town1 town2 village laptop2 shizui hebao binjiang; do
	echo "  $h ($(scope_of $h)):"
	vl_holdings "$work/$h"
done

say "the privacy scan: no node holds an object of records outside its scope (compared with the county)"
for h in town1 town2 village laptop2 shizui hebao binjiang; do
	"$root/scripts/privacy-scan.sh" "$work/$h" "$work/county/repo.git" "$(scope_of $h)" ||
		{ echo "PRIVACY SCAN FAILED on $h"; exit 1; }
done

say "stock git verifies every commit (gpg.ssh.allowedSignersFile from the roster)"
village export allowed-signers --output allowed_signers
n=0
# Merge commits carry no signature by design: vledger verify replays them.
for c in $(git --git-dir village/repo.git rev-list --all --no-merges); do
	git --git-dir village/repo.git -c gpg.ssh.allowedSignersFile="$work/allowed_signers" \
		verify-commit "$c" 2>/dev/null || { echo "git verify-commit failed on $c"; exit 1; }
	n=$((n + 1))
done
echo "git verify-commit: Good signature on all $n signed commits"

say "ssh-keygen verifies every record version"
n=0 merged=0
for b in $(git --git-dir village/repo.git rev-list --objects --all -- | awk 'split($2, p, "/") == 3 && p[1] != "schemas" {print $1}' | sort -u); do
	git --git-dir village/repo.git cat-file blob "$b" > rec
	if grep -q '^author: merge$' rec; then merged=$((merged + 1)); continue; fi # replayed, not signed
	fp=$(sed -n 's/^author: "\(.*\)"$/\1/p' rec)
	sig=$(sed -n 's/^sig: "\(.*\)"$/\1/p' rec)
	grep -v '^sig: ' rec > rec.body
	{ echo "-----BEGIN SSH SIGNATURE-----"; echo "$sig" | base64 -d | base64 -w 70; echo "-----END SSH SIGNATURE-----"; } > rec.sig
	ssh-keygen -Y verify -n vledger-record -f allowed_signers -I "$fp" -s rec.sig < rec.body >/dev/null \
		|| { echo "ssh-keygen rejected record blob $b"; exit 1; }
	n=$((n + 1))
done
echo "ssh-keygen -Y verify: Good signature on all $n signed record versions ($merged merged ones are verified by replay)"
say "stopping every serve process"
vl_stop_all
say "demo done in $((SECONDS - t0)) s${KEEP:+: nodes kept in $work}"
