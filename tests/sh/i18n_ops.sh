#!/usr/bin/env bash
# Messages of the operations, sync and network layers (agent/ops, agent/sync,
# agent/net) in Chinese under a Chinese environment and in English otherwise
# (issue 12): real failing commands against the real binary - a sealed bundle
# applied by the wrong node, a tampered sealed bundle, a truncated plain one,
# a bundle for a name not on the roster, a sync to a port where no server
# runs, a remote with an unsupported URL, a CSV import with bad rows (its
# report lines by row, column and cell) and one lacking a required column,
# `schema install` refused on a village and its text output at the county.
# Each is run under four environments: LANG=zh_CN.UTF-8 and LANGUAGE=zh_CN
# with LC_ALL=C.UTF-8 (a machine without a generated zh_CN locale) must give
# the Chinese text, LANG=C and LANG=en_US.UTF-8 the English one; a refused
# bundle leaves the receiver byte for byte unchanged in every language.
# Synthetic data.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir i18n_ops

S1=500243001001
S2=500243001002
ID_OK=500243194302150029   # synthetic, valid check digit
ID_BAD=500243194302150021  # same, wrong check digit
snap() { (cd "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort && find . -type d | LC_ALL=C sort); }

# in LANG-SPEC CMD...: run CMD with the messages of one environment.
#   zh: LANG=zh_CN.UTF-8 (LC_ALL unset); zh-lang: LANGUAGE=zh_CN LC_ALL=C.UTF-8;
#   c: LANG=C; en: LANG=en_US.UTF-8.
in_env() {
	local spec=$1; shift
	case "$spec" in
	zh) env -u LC_ALL -u LC_MESSAGES LANGUAGE= LANG=zh_CN.UTF-8 "$@" ;;
	zh-lang) env -u LC_MESSAGES -u LANG LANGUAGE=zh_CN LC_ALL=C.UTF-8 "$@" ;;
	c) env -u LC_ALL -u LC_MESSAGES LANGUAGE= LANG=C "$@" ;;
	en) env -u LC_ALL -u LC_MESSAGES LANGUAGE= LANG=en_US.UTF-8 "$@" ;;
	esac
}
# both WANT-EXIT ENGLISH CHINESE CMD...: CMD fails with WANT-EXIT in all four
# environments, saying ENGLISH (and no Chinese) under c/en and CHINESE (and
# not ENGLISH) under zh/zh-lang.
both() {
	local want=$1 en_text=$2 zh_text=$3 spec
	shift 3
	for spec in c en zh zh-lang; do
		expect "$want" in_env "$spec" "$@"
		case "$spec" in
		c|en) contains "$en_text"; lacks "$zh_text" ;;
		*) contains "$zh_text"; lacks "$en_text" ;;
		esac
	done
}
# refused_all EXIT HOME TEXT-EN TEXT-ZH FILE: bundle apply FILE at HOME is
# refused with EXIT in every environment with the text of its language, HOME
# unchanged.
refused_all() {
	local home=$2 before after
	before=$(snap "$w/$home/repo.git")
	both "$1" "$3" "$4" "$VLEDGER" -C "$w/$home" bundle apply "$5"
	after=$(snap "$w/$home/repo.git")
	[ "$before" = "$after" ] && ok || bad "$home changed by a refused bundle: $(diff <(echo "$before") <(echo "$after") | head)"
}

C() { "$VLEDGER" -C "$w/county" "$@"; }
expect 0 C init --name County --role county --scope 500243000000 --new-network
expect 0 C export network --output "$w/network.yaml"
for v in v1:$S1:V1 v2:$S2:V2; do
	IFS=: read -r dir scope name <<<"$v"
	expect 0 "$VLEDGER" -C "$w/$dir" init --name "$name" --role village --scope "$scope" --network "$w/network.yaml"
	expect 0 C roster add --name "$name" --role village --scope "$scope" --key "$("$VLEDGER" -C "$w/$dir" key | head -1)"
done
expect 0 "$VLEDGER" -C "$w/v1" fetch "$w/county/repo.git"
expect 0 "$VLEDGER" -C "$w/v2" fetch "$w/county/repo.git"
expect 0 C add zone --scope $S1 --set zone_no=Z1 --set designation=sealed --set area=a --set status=active \
	--set announced_at=2022-04-06T08:00:00Z

# --- A bundle sealed to V1, applied by V2: refused, naming the recipient. ---
expect 0 C bundle create "$w/sealed.bundle" --for V1 --seal-to V1
refused_all 1 v2 "is sealed to 'V1'" "是加密给“V1”" "$w/sealed.bundle"
refused_all 1 v2 "not to this node; give it to that node" "不是给本节点的；请交给那个节点" "$w/sealed.bundle"

# --- The same bundle with one byte changed, at its recipient. ---
cp "$w/sealed.bundle" "$w/tampered.bundle"
size=$(stat -c %s "$w/tampered.bundle")
printf '\x5a' | dd of="$w/tampered.bundle" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
cmp -s "$w/sealed.bundle" "$w/tampered.bundle" && printf '\xa5' | dd of="$w/tampered.bundle" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
refused_all 4 v1 "sealed bundle fails authentication" "加密离线包认证失败" "$w/tampered.bundle"

# --- A plain bundle cut short. ---
expect 0 C bundle create "$w/plain.bundle" --for V1
head -c $(($(stat -c %s "$w/plain.bundle") - 40)) "$w/plain.bundle" > "$w/cut.bundle"
refused_all 1 v1 "is truncated, corrupt or tampered; copy it again" "被截断、损坏或被篡改；请重新复制" "$w/cut.bundle"

# --- A bundle for a name the roster does not have. ---
both 1 "peer 'Nobody' is not a name on the roster" "对等节点“Nobody”不是名册上的名称" \
	"$VLEDGER" -C "$w/v1" bundle create "$w/x.bundle" --for Nobody
[ ! -e "$w/x.bundle" ] && ok || bad "a bundle was written for a name not on the roster"

# --- A sync to a port where no server listens (connection refused). ---
port=$(free_port)
both 1 "is its server running?" "它的服务器是否在运行？" "$VLEDGER" -C "$w/v1" sync "127.0.0.1:$port"
both 1 "cannot connect to '127.0.0.1:$port'" "无法连接到“127.0.0.1:$port”" "$VLEDGER" -C "$w/v1" sync "127.0.0.1:$port"

# --- A remote with a URL scheme git cannot use; no remote is added. ---
both 1 "unsupported URL scheme" "不支持这种地址协议" "$VLEDGER" -C "$w/v1" remote add hub ftp://example.org/hub.git
expect 0 "$VLEDGER" -C "$w/v1" remote list
lacks "hub"

# --- A CSV import with bad rows: the summary and one report line per row. ---
cat > "$w/bad.csv" <<EOF
姓名,公民身份号码,人口类型,现住址,信息来源
孙八,$ID_OK,户籍人口,1 组,主动摸排
周九,$ID_BAD,户籍人口,2 组,主动摸排
EOF
both 1 "1 of 2 rows break ledger 'resident' rules" "共 2 行中有 1 行不符合台账“resident”的规则" \
	"$VLEDGER" -C "$w/v1" import resident --file "$w/bad.csv"
both 1 "row 3, column 2 '公民身份号码' (cell B3, line 3)" "第 3 行，第 2 列“公民身份号码”（单元格 B3，文件第 3 行）" \
	"$VLEDGER" -C "$w/v1" import resident --file "$w/bad.csv"
# A required field without a column: named by its label, whatever the
# language of the rule's words.
printf '姓名,人口类型,信息来源\n吴十,户籍人口,主动摸排\n' > "$w/nocol.csv"
both 1 "row 2 (line 2): " "第 2 行（文件第 2 行）：" "$VLEDGER" -C "$w/v1" import resident --file "$w/nocol.csv"
both 1 "no column '现住址' (address) and no default" "没有“现住址”（address）这一列，也没有默认值" \
	"$VLEDGER" -C "$w/v1" import resident --file "$w/nocol.csv"
# The schema's own words follow the cell, without the field named again
# (English "field 'id_number': ...", Chinese "公民身份号码（id_number）：...").
both 1 "(cell B3, line 3): cn_id check digit should be 9" "（单元格 B3，文件第 3 行）：校验位应为 9" \
	"$VLEDGER" -C "$w/v1" import resident --file "$w/bad.csv"
expect 1 in_env zh "$VLEDGER" -C "$w/v1" import resident --file "$w/bad.csv"
lacks "（id_number）"
expect 0 "$VLEDGER" -C "$w/v1" list resident --json
[ "$(jq length <<<"$out")" = 0 ] && ok || bad "a refused import left records: $out"

# --- schema install (agent/ops/schema.c, agent/cmd/cmd_schema.c): the
# refusal and the text output are in the user's language; a schema is
# 台账定义, never 模式. ---
before=$(snap "$w/v1/repo.git")
both 1 "schemas are installed by an admin of the county" "台账定义由县里的管理员安装" \
	"$VLEDGER" -C "$w/v1" schema install --shipped
[ "$before" = "$(snap "$w/v1/repo.git")" ] && ok || bad "a refused schema install changed v1"
for spec in c en zh zh-lang; do
	expect 0 in_env "$spec" "$VLEDGER" -C "$w/county" schema install --shipped
	case "$spec" in
	c|en) contains "nothing to install: the network has these schemas already"; lacks "台账定义" ;;
	*) contains "无需安装：本网络已有这些台账定义"; lacks "nothing to install"; lacks "模式" ;;
	esac
done

echo "i18n_ops.sh: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
