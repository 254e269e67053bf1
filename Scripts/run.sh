#!/usr/bin/env bash
# Sets everything up and mounts tusfs: installs what is missing, builds a release binary, mounts MOUNTPOINT.
# Usage: Scripts/run.sh MOUNTPOINT [tusfs mount options...]
set -euo pipefail
if [ $# -lt 1 ]; then echo "usage: Scripts/run.sh MOUNTPOINT [tusfs mount options...]" >&2; exit 2; fi
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build -c release --product tusfs 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\]' || true; }
mountpoint=$1; shift
mkdir -p "$mountpoint"
.build/release/tusfs mount "$mountpoint" "$@"
echo "tusfs mounted on $mountpoint (binary: $PWD/.build/release/tusfs; unmount with: $PWD/.build/release/tusfs unmount $mountpoint)"
