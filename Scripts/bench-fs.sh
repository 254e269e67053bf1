#!/usr/bin/env bash
# Write speed through the mount against the same commands on the local disk, measured in one run on the
# same disk: cp of a 1 GiB file, cp -r of 2,000 x 4 KiB files, rsync -a of that tree.
# Prints the median ratio local_time / mount_time per workload (1.0 = as fast as the local disk).
# Usage: Scripts/bench-fs.sh [ROUNDS]    (default 5; release build; needs root or fuse access)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
Scripts/install-deps.sh >/dev/null
swift build -c release --product tusfs >/dev/null
tusfs=$PWD/.build/release/tusfs

work=$(mktemp -d "${TMPDIR:-/var/tmp}/tusfs-bench-XXXXXX")
mnt=$work/mnt; local_dir=$work/local; src=$work/src
mkdir -p "$mnt" "$local_dir" "$src/small"
cleanup() {
  "$tusfs" unmount "$mnt" >/dev/null 2>&1 || umount -l "$mnt" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "bench-fs: preparing sources in $work"
head -c $((1 << 30)) /dev/urandom > "$src/big.bin"
for i in $(seq 1 2000); do head -c 4096 /dev/urandom > "$src/small/f$i"; done
"$tusfs" mount "$mnt" --cache "$work/cache"

# seconds DIR COMMAND: runs COMMAND with $DST = a new, empty directory under DIR, after flushing dirty pages.
# With CLEAN=1 the previous runs' files in DIR are deleted first (for the 1 GiB file: otherwise the disk fills
# and its write-back throttles later rounds). Small files are never deleted between timings: deleting
# thousands of files just before a run slows that run (the disk frees them in the background), which made the
# local reference look several times slower than it is.
seconds() {
  local dst
  if [ "${CLEAN:-0}" = 1 ]; then rm -rf "${1:?}"/run-*; fi
  dst=$(mktemp -d "$1/run-XXXXXX")
  sync
  local start end
  start=$(date +%s.%N)
  DST=$dst bash -c "$2"
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# run NAME COMMAND: prints the median ratio; each round times the local disk, then the mount. The first,
# untimed round warms both up.
run() {
  local name=$1 command=$2 ratios=()
  seconds "$local_dir" "$command" >/dev/null
  seconds "$mnt" "$command" >/dev/null
  for round in $(seq 1 "$rounds"); do
    local l m
    l=$(seconds "$local_dir" "$command")
    m=$(seconds "$mnt" "$command")
    ratios+=("$(echo "$l / $m" | bc -l)")
    printf '  %-10s round %d: local %.3fs  mount %.3fs\n' "$name" "$round" "$l" "$m" >&2
  done
  printf '%s\n' "${ratios[@]}" | median
}

cp_big=$(CLEAN=1 run "cp 1GiB" 'cp "'"$src"'/big.bin" "$DST/"')
rm -rf "${local_dir:?}"/* "${mnt:?}"/*; sync
cp_small=$(run "cp -r" 'cp -r "'"$src"'/small" "$DST/"')
rm -rf "${local_dir:?}"/* "${mnt:?}"/*; sync
rsync_small=$(run "rsync -a" 'rsync -a "'"$src"'/small" "$DST/"')
echo
printf 'bench-fs: median speed ratio mount/local over %d rounds (target in brackets)\n' "$rounds"
printf '  cp 1 GiB file           %.2fx  [>= 0.85]\n' "$cp_big"
printf '  cp -r 2000 x 4 KiB      %.2fx  [>= 0.30]\n' "$cp_small"
printf '  rsync -a 2000 x 4 KiB   %.2fx  [>= 0.25]\n' "$rsync_small"
