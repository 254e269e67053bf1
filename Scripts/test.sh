#!/usr/bin/env bash
# Installs what is missing, builds tusfs and its tests, and runs every test (unit and real-mount integration).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
if [ ! -e /dev/fuse ]; then
  modprobe fuse 2>/dev/null || true
fi
echo "test.sh: building (the first build of the dependencies takes several minutes)"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Linking|Merging|Wrapping)' || { echo "test.sh: build failed"; exit 1; }
swift test --skip-build "$@"
