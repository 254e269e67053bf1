#!/usr/bin/env bash
# Write speed through the mount against the same commands on the local disk, measured in one run on the
# same disk: cp of a 1 GiB file, cp -r of 2,000 x 4 KiB files, rsync -a of that tree.
# Prints the median ratio local_time / mount_time per workload (1.0 = as fast as the local disk).
# The mount is the real one (embedded service, upload engine journalling every file), with the write-back delay
# set beyond the run so that no upload competes with the copies: this measures the filesystem. Scripts/bench.sh
# measures the same workloads while the mount uploads.
# For scale, the same workloads also run through libfuse's own low-level C passthrough example
# (passthrough_ll, built from libfuse3-dev's examples) on the same disk in the same rounds: what a minimal
# FUSE filesystem in C reaches on this machine at this moment. BENCH_NO_REFERENCE=1 leaves it out.
# Given a libfuse source tree (LIBFUSE_SRC: the public repository libfuse/libfuse at tag fuse-3.14.0, the version
# Debian 12 ships), libfuse's C++ example passthrough_hp runs too, in the same rounds, and each figure is also
# printed as a ratio to it (mount/passthrough_hp: its time over the mount's; target >= 0.8 for the small files).
# The 1 GiB file is copied twice: from the same disk (the local cp then copies inside the kernel with
# copy_file_range, which a copy into any other filesystem cannot) and from a tmpfs (both copies read and write
# through cp's buffer: like for like; target >= 0.9).
# Usage: Scripts/bench-fs.sh [ROUNDS] [LIBFUSE_SRC]    (default 5; release build; needs root or fuse access)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
libfuse_src=${2:-${LIBFUSE_SRC:-}}
# shellcheck source=lib/bench-common.sh
. Scripts/lib/bench-common.sh
bench_setup
cleanup() {
  stop_reference_mount
  "$tusfs" unmount "$mnt" >/dev/null 2>&1 || umount -l "$mnt" 2>/dev/null || true
  rm -rf "$work"
  remove_other_filesystem_source
  release_free_pages
}
trap cleanup EXIT
hold_free_pages

echo "bench-fs: preparing sources in $work"
prepare_sources
prepare_other_filesystem_source
"$tusfs" mount "$mnt" --cache "$work/cache" --write-back 86400
if [ "${BENCH_NO_REFERENCE:-0}" != 1 ]; then start_reference_mount "$work/reference"; fi
if [ -n "$libfuse_src" ]; then start_hp_mount "$libfuse_src" "$work/reference-hp"; fi

fs_ratios
echo
print_fs_ratios "$(printf 'bench-fs: median speed ratio mount/local over %d rounds (target in brackets)' "$rounds")" '>= 0.9'
