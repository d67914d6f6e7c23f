#!/usr/bin/env bash
# Issue 12: messages in Chinese under a Chinese environment, English
# otherwise (store/i18n.h, po/zh_CN.po), from real failing commands of the
# real binary: help, an unknown command, an unknown ledger, a wrong enum
# value, a wrong ID check digit, a wrong ID length, and the confirmation of
# add/edit on a terminal. A Chinese environment must work on a machine that
# has no zh_CN locale (this one, a fresh Debian container: only C and
# C.UTF-8): LANG=zh_CN.UTF-8 alone is enough. GNU's rule holds: LANGUAGE
# counts unless the locale is C/POSIX. Synthetic data only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
vl_workdir i18n
# zh/en CMD...: run with the environment of a Chinese or an English user.
zh() { LANGUAGE= LC_ALL= LC_MESSAGES= LANG=zh_CN.UTF-8 "$@"; }
en() { LANGUAGE= LC_ALL= LC_MESSAGES= LANG=en_US.UTF-8 "$@"; }
C() { "$VLEDGER" -C "$w/county" "$@"; }
ID_OK=500243194302150029   # synthetic, valid check digit 9
ID_BAD=500243194302150021  # same, wrong check digit
RES=(--set name=x --set address=x --set source=self_report)

expect 0 C init --name 彭水县民政局 --role county --scope 500243000000 --new-network

# ---- help -------------------------------------------------------------------
expect 0 zh "$VLEDGER" help
contains "用法：vledger [-C 节点目录]"; contains "新增一条记录"; contains "退出码：0 成功"
lacks "add a record"
expect 0 en "$VLEDGER" help
contains "usage: vledger [-C HOME]"; contains "add a record; says what was saved"; lacks "用法"
expect 0 zh "$VLEDGER" help add
contains "用法：vledger add LEDGER"; contains "新增一条记录"
expect 0 en "$VLEDGER" help add
contains "usage: vledger add LEDGER"
expect 2 zh "$VLEDGER" frobnicate
contains "未知命令“frobnicate”"
expect 2 en "$VLEDGER" frobnicate
contains "unknown command 'frobnicate'"

# ---- unknown ledger -----------------------------------------------------------
expect 1 zh C add 不存在的台账 --set a=b
contains "没有台账“不存在的台账”"
expect 1 en C add 不存在的台账 --set a=b
contains "no ledger '不存在的台账'"

# ---- wrong enum: the field by its label, the accepted labels (Chinese only under zh)
before=$(refs county)
expect 1 zh C add resident "${RES[@]}" --set residence_kind=本地人
contains "人口类型（residence_kind）：应为以下之一：户籍人口、流动人口"; lacks "(registered)"; lacks "should be"
expect 1 en C add resident "${RES[@]}" --set residence_kind=本地人
contains "field 'residence_kind': should be one of 户籍人口 (registered), 流动人口 (migrant)"
[ "$before" = "$(refs county)" ] && ok || bad "refs moved on refused input"

# Output for programs stays English under zh: --json, messages included.
expect 1 zh C add resident "${RES[@]}" --set residence_kind=本地人 --json
contains "field 'residence_kind': should be one of 户籍人口 (registered)"; lacks "应为"
expect 0 zh C schema show resident --json
lacks "用法"; lacks "台账“"

# ---- ID numbers: what was expected, never the number -------------------------
expect 1 zh C add resident "${RES[@]}" --set residence_kind=migrant --set "id_number=$ID_BAD"
contains "公民身份号码（id_number）：校验位应为 9"; lacks "$ID_BAD"
expect 1 en C add resident "${RES[@]}" --set residence_kind=migrant --set "id_number=$ID_BAD"
contains "field 'id_number': cn_id check digit should be 9"; contains "(公民身份号码)"; lacks "$ID_BAD"
expect 1 zh C add resident "${RES[@]}" --set residence_kind=migrant --set "id_number=${ID_OK:0:17}"
contains "公民身份号码（id_number）：应为 18 位，实为 17 位"; lacks "${ID_OK:0:17}"
expect 1 en C add resident "${RES[@]}" --set residence_kind=migrant --set "id_number=${ID_OK:0:17}"
contains "cn_id length: should be 18 characters, got 17"
# A usage error of the option parser.
expect 2 zh C add resident --nosuch
contains "未知选项“--nosuch”"; contains "用法：vledger add"
expect 2 en C add resident --nosuch
contains "unknown option '--nosuch'"

# ---- which variables count ------------------------------------------------------
# LANGUAGE under C.UTF-8 (how ctest and common.bash force English when empty).
out=$(LANGUAGE=zh_CN LC_ALL=C.UTF-8 "$VLEDGER" frobnicate 2>&1)
contains "未知命令"
# LANGUAGE is ignored when the locale is C (GNU gettext's rule).
out=$(LANGUAGE=zh_CN LC_ALL=C "$VLEDGER" frobnicate 2>&1)
contains "unknown command"
# LC_ALL wins over LANG; LC_MESSAGES over LANG.
out=$(LANGUAGE= LC_ALL=C.UTF-8 LANG=zh_CN.UTF-8 "$VLEDGER" frobnicate 2>&1)
contains "unknown command"
out=$(LANGUAGE= LC_ALL= LC_MESSAGES=zh_CN.UTF-8 LANG=en_US.UTF-8 "$VLEDGER" frobnicate 2>&1)
contains "未知命令"
out=$(LANGUAGE= LC_ALL= LC_MESSAGES= LANG=C "$VLEDGER" frobnicate 2>&1)
contains "unknown command"
# A real zh_CN locale, when this machine has one, is used as such.
if grep -qi '^zh_CN\.utf-\?8$' <<<"$(locale -a 2>/dev/null)"; then
	out=$(LANGUAGE= LC_ALL=zh_CN.UTF-8 "$VLEDGER" frobnicate 2>&1)
	contains "未知命令"
else
	echo "note: no zh_CN.UTF-8 locale here; checked the fallback (C.UTF-8 + LANGUAGE) only"
fi

# ---- add/edit confirm in words on a terminal ----------------------------------------
if command -v script >/dev/null; then
	tty() {
		local cmd=""
		for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
		out=$(script -qec "$cmd" /dev/null </dev/null 2>&1); local got=$?
		[ "$got" -eq 0 ] && ok || bad "exit $got on a terminal: $* :: $out"
	}
	tty env LANGUAGE= LC_ALL= LANG=zh_CN.UTF-8 "$VLEDGER" -C "$w/county" add resident "${RES[@]}" \
		--set residence_kind=户籍人口 --set phone=13812345678
	contains "已保存 常住人口"
	r=$(printf '%s\n' "$out" | grep -oE '[0-9a-hjkmnp-tv-z]{26}' | head -1)
	tty env LANGUAGE= LC_ALL= LANG=zh_CN.UTF-8 "$VLEDGER" -C "$w/county" edit "$r" --set phone=13812345679
	contains "已保存 常住人口"; contains "，修改：联系电话"
	tty env LANGUAGE= LC_ALL= LANG=en_US.UTF-8 "$VLEDGER" -C "$w/county" edit "$r" --set phone=13812345670
	contains "saved 常住人口"; contains ", changed: 联系电话"
	tty env LANGUAGE= LC_ALL= LANG=zh_CN.UTF-8 "$VLEDGER" -C "$w/county" edit "$r" --set phone=13812345670
	contains "无需保存：常住人口"; contains "没有变化"
	# Not a terminal: the id alone, the same in every language (scripts read it).
	out=$(zh C edit "$r" --set phone=13812345671)
	[ "$out" = "$r" ] && ok || bad "not the bare id under zh: $out"
else
	echo "note: util-linux 'script' missing; the terminal confirmations were not checked"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
