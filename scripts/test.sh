#!/usr/bin/env bash
# Build vledger with AddressSanitizer and UndefinedBehaviorSanitizer, warnings
# as errors, and run every test (unit tests, shell tests against the real
# binary with stock git and ssh-keygen, fuzz corpus replays, and the malloc
# and write/fsync fault sweep of tests/fault with vledger-fault).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

build=${VL_BUILD_DIR:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DVL_SANITIZE=ON -DVL_WERROR=ON -DVL_FAULT=ON >/dev/null
cmake --build "$build" -j2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
ctest --output-on-failure -j2

# The mutation check (tests/mutate.sh): every listed breakage of a
# security-critical check must make a test fail. About 5 minutes on an idle
# 2-core machine; VL_MUTATE=0 skips it.
if [ "${VL_MUTATE:-1}" != 0 ]; then
	cd "$OLDPWD"  # the repository root, where this script started
	tests/mutate.sh
fi
