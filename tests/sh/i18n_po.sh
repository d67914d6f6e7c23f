#!/usr/bin/env bash
# The message catalogs (po/, store/i18n.h): po/zh_CN.po compiles with
# msgfmt's checks (header, every translation's printf conversions match its
# msgid's); no message of the files listed in COMPLETE is untranslated or
# fuzzy in it (the msgids are printed when one is); and the sources have no
# message that po/vledger.pot and po/zh_CN.po lack (xgettext is run again
# here, with the keywords of scripts/update-po.sh, and the msgids compared),
# so a new message cannot be forgotten: `cmake --build build --target
# vledger-pot` regenerates both, then the new entries are translated.
. "$(dirname "$0")/lib/common.bash"

# Files whose messages must all be translated (a prefix per part). Every
# part is complete now, the web UI (agent/ui/) included: a new directory
# under agent/ is covered from its first message.
COMPLETE="store/ schemas/ hooks/ agent/"

for t in msgfmt xgettext msgattrib msgcat; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed (Debian package gettext)"; exit 77; }
done
vl_workdir po
po=$VL_SOURCE_DIR/po

# 1. msgfmt -c: header, format strings (--check-format is part of -c).
if out=$(msgfmt -c --check-format -o /dev/null "$po/zh_CN.po" 2>&1); then ok; else bad "msgfmt -c: $out"; fi

# msgids of a catalog, one a line, sorted; the header's empty msgid left out.
msgids() {
	msgcat --no-wrap --no-location --sort-output "$1" | grep -a '^msgid ' | grep -v '^msgid ""$' | LC_ALL=C sort -u
}

# 2. Untranslated or fuzzy entries located in a COMPLETE file.
pending() {
	msgattrib --no-wrap "$@" "$po/zh_CN.po" | awk -v own="$COMPLETE" '
		BEGIN { n = split(own, p, " ") }
		/^#: / { for (i = 2; i <= NF; i++) for (j = 1; j <= n; j++) if (index($i, p[j]) == 1) mine = 1 }
		/^msgid / && mine && $0 != "msgid \"\"" { print }
		/^$/ { mine = 0 }'
}
out=$(pending --untranslated --no-obsolete)
if [ -z "$out" ]; then ok; else bad "untranslated in po/zh_CN.po ($(echo "$out" | wc -l)):
$out"; fi
out=$(pending --only-fuzzy --no-obsolete)
if [ -z "$out" ]; then ok; else bad "fuzzy in po/zh_CN.po (review, then drop the fuzzy flag):
$out"; fi

# Terms (docs/decisions.md "Translations"): a schema is 台账定义, what village
# workers understand; 模式 only translates a git or protocol "mode".
out=$(msgcat --no-wrap --no-location "$po/zh_CN.po" | awk '
	/^msgid / { id = $0; str = ""; cur = "id"; next }
	/^msgstr / { str = $0; cur = "str"; next }
	/^"/ { if (cur == "id") id = id $0; else if (cur == "str") str = str $0; next }
	{ if (str ~ /模式/ && id !~ /mode/) print id; id = str = cur = "" }
	END { if (str ~ /模式/ && id !~ /mode/) print id }')
if [ -z "$out" ]; then ok; else bad "模式 for a schema in po/zh_CN.po (say 台账定义):
$out"; fi

# 3. Drift: the sources' messages against the template and the catalog.
bash "$VL_SOURCE_DIR/scripts/update-po.sh" --pot "$w/fresh.pot" "$VL_SOURCE_DIR" 2>"$w/xgettext.err" ||
	bad "xgettext failed: $(cat "$w/xgettext.err")"
msgids "$w/fresh.pot" > fresh.ids
msgids "$po/vledger.pot" > pot.ids
msgattrib --no-obsolete "$po/zh_CN.po" > live.po && msgids live.po > po.ids
out=$(comm -23 fresh.ids pot.ids)
if [ -z "$out" ]; then ok; else bad "messages in the sources missing from po/vledger.pot (run the vledger-pot target):
$out"; fi
out=$(comm -23 fresh.ids po.ids)
if [ -z "$out" ]; then ok; else bad "messages in the sources missing from po/zh_CN.po (run the vledger-pot target):
$out"; fi
# Test of the test: a message added to a copy of the sources is caught.
mkdir -p src/po && cp -r "$VL_SOURCE_DIR"/{store,schemas,hooks,agent,scripts} src/ && cp "$po/LINGUAS" src/po/
printf '%s\n' 'static const char *vl_probe_msg = N_("a message nobody translated");' >> src/store/error.c
bash src/scripts/update-po.sh --pot "$w/probe.pot" "$w/src" 2>/dev/null
msgids probe.pot > probe.ids
out=$(comm -23 probe.ids pot.ids)
case "$out" in *"a message nobody translated"*) ok ;; *) bad "the drift check misses a new message: $out" ;; esac

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
