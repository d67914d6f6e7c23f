# lib.sh - the browser tests' shared set-up (sourced by ui_browser.sh and
# ui_pages.sh after tests/sh/lib/common.bash): ui_setup [TOOL...] checks that
# node, npm, each TOOL and chromium are there, installs puppeteer-core (pinned
# in package.json / package-lock.json) with `npm ci` into $UI_DIR on first run
# or when the lock file changed, and exports CHROMIUM and NODE_PATH. Exits 77
# (skipped, with the reason) when any of them is missing or npm ci fails.
# Environment: UI_SRC (this directory), UI_DIR (a build-tree directory).
: "${UI_SRC:?}" "${UI_DIR:?}"
skip() { echo "SKIP: $*"; exit 77; }
ui_setup() {
	local t
	for t in node npm "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (scripts/install-deps.sh installs it)"
	done
	CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
	[ -n "$CHROMIUM" ] || skip "chromium is not installed (scripts/install-deps.sh installs it)"
	export CHROMIUM
	mkdir -p "$UI_DIR/screenshots" || exit 1
	if ! cmp -s "$UI_SRC/package-lock.json" "$UI_DIR/package-lock.json" ||
		[ ! -d "$UI_DIR/node_modules/puppeteer-core" ]; then
		cp "$UI_SRC/package.json" "$UI_SRC/package-lock.json" "$UI_DIR/" || exit 1
		if ! (cd "$UI_DIR" && npm ci --no-audit --no-fund >npm.log 2>&1); then
			tail -5 "$UI_DIR/npm.log"
			rm -f "$UI_DIR/package-lock.json"
			skip "npm ci of puppeteer-core failed (no registry?); log: $UI_DIR/npm.log"
		fi
	fi
	export NODE_PATH="$UI_DIR/node_modules"
}
