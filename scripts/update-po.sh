#!/usr/bin/env bash
# Regenerate the message catalog template po/vledger.pot from the sources and
# merge it into every po/LANG.po of po/LINGUAS (the `vledger-pot` target).
#
#   scripts/update-po.sh [SRCDIR]             po/vledger.pot and po/*.po updated
#   scripts/update-po.sh --pot OUT [SRCDIR]   only the template, written to OUT
#                                             (tests/i18n_po.sh: msgid drift)
#
# The keywords are every function that translates its argument: _() and
# N_() (store/i18n.h), the format of vl_error_set/setv/wrap and the `what`
# of vl_error_git (store/error.c translates them), the reason of
# vl_cli_usage (agent/cmd/cli.c). A new translating function is added here.
# Locations are file names only (no line numbers) and entries are sorted by
# file, so editing code does not churn the catalogs and two branches that
# translate different files merge cleanly.
set -euo pipefail

pot_only=""
if [ "${1:-}" = "--pot" ]; then
	pot_only=$2
	shift 2
fi
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src"

files=$(mktemp)
trap 'rm -f "$files"' EXIT
find store schemas hooks agent -name '*.[ch]' | LC_ALL=C sort > "$files"

out=${pot_only:-po/vledger.pot}
xgettext --language=C --from-code=UTF-8 --add-comments=TRANSLATORS: \
	--keyword=_ --keyword=N_ --keyword=vl_tr \
	--keyword=vl_error_set:2 --keyword=vl_error_setv:2 --keyword=vl_error_wrap:2 \
	--keyword=vl_error_git:2 --keyword=vl_cli_usage:2 \
	--flag=vl_error_set:2:c-format --flag=vl_error_setv:2:c-format \
	--flag=vl_error_wrap:2:c-format --flag=vl_cli_usage:2:c-format \
	--package-name=vledger --msgid-bugs-address="vledger developers" \
	--add-location=file --sort-by-file --no-wrap \
	--files-from="$files" -o "$out"
[ -n "$pot_only" ] && exit 0

while read -r lang; do
	case "$lang" in ''|'#'*) continue ;; esac
	if [ -f "po/$lang.po" ]; then
		msgmerge --quiet --update --backup=none --no-fuzzy-matching --no-wrap --add-location=file --sort-by-file \
			"po/$lang.po" po/vledger.pot
	else
		msginit --no-translator --no-wrap --locale="$lang.UTF-8" -i po/vledger.pot -o "po/$lang.po"
	fi
done < po/LINGUAS
