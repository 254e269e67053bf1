#!/usr/bin/env bash
# Sets everything up and mounts tusfs: installs what is missing, builds a release binary, mounts MOUNTPOINT.
# The binary is .build/release/tusfs, linked from .build/bin/tusfs; the last lines printed say how to put it
# on the PATH of the calling shell (a script cannot change that shell's PATH itself).
# Usage: Scripts/run.sh MOUNTPOINT [tusfs mount options...]
set -euo pipefail
if [ $# -lt 1 ]; then echo "usage: Scripts/run.sh MOUNTPOINT [tusfs mount options...]" >&2; exit 2; fi
cd "$(dirname "$0")/.."
. Scripts/lib/release-build.sh
Scripts/install-deps.sh
build_release
mkdir -p .build/bin
ln -sfn ../release/tusfs .build/bin/tusfs
mountpoint=$1; shift
mkdir -p "$mountpoint"
.build/release/tusfs mount "$mountpoint" "$@"
echo "tusfs mounted on $mountpoint; the binary is $PWD/.build/release/tusfs. To type plain 'tusfs' in this shell:"
echo "  export PATH=\"$PWD/.build/bin:\$PATH\""
echo "then: tusfs status $mountpoint; tusfs unmount $mountpoint"
