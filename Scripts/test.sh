#!/usr/bin/env bash
# Installs what is missing, builds tusfs and its tests, and runs every test (unit and real-mount integration).
# With no arguments (what CI runs) it then builds the Debian package, installs it, checks it and removes it
# (Scripts/test-package.sh, about 15 minutes: a release build); the run fails if either part fails.
# Extra arguments go to `swift test` (e.g. --filter MountTests), and then the package is left out.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
if [ ! -e /dev/fuse ]; then
  modprobe fuse 2>/dev/null || true
fi
echo "test.sh: building (the first build of the dependencies takes several minutes)"
set +e
swift build --build-tests 2>&1 | grep --line-buffered -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Linking|Merging|Wrapping|Planning)'
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then echo "test.sh: build failed" >&2; exit "$status"; fi
# Tests run one at a time: several test processes' worth of blocking work (cp, rsync, curl) at once on two
# cores starved the in-process servers of other tests. A hung test must fail the run with a message, not eat
# CI's whole time budget.
if [ $# -gt 0 ]; then
  exec timeout --signal=INT --kill-after=60 "${TUSFS_TEST_TIMEOUT:-3600}" swift test --skip-build --no-parallel "$@"
fi
set +e
timeout --signal=INT --kill-after=60 "${TUSFS_TEST_TIMEOUT:-3600}" swift test --skip-build --no-parallel
tests=$?
echo "test.sh: the Debian package (Scripts/test-package.sh)"
timeout --signal=TERM --kill-after=120 "${TUSFS_PACKAGE_TEST_TIMEOUT:-2700}" Scripts/test-package.sh
package=$?
set -e
if [ "$tests" -ne 0 ]; then echo "test.sh: swift test failed (exit $tests)" >&2; exit "$tests"; fi
if [ "$package" -ne 0 ]; then echo "test.sh: the package test failed (exit $package)" >&2; exit "$package"; fi
