# Measuring functions shared by Scripts/bench-fs.sh and Scripts/bench.sh (sourced, not run).
# The caller sets: $work (scratch directory), $src (sources, see prepare_sources), $local_dir, $mnt (the two
# destinations), $rounds, and has `set -euo pipefail`.

# A failed command inside $(…) fails the script too (a timing of a failed copy is no timing).
shopt -s inherit_errexit

# prepare_sources: $src/big.bin (1 GiB of random bytes) and $src/small/f1..f2000 (4 KiB each), made before any
# timing.
prepare_sources() {
  mkdir -p "$src/small"
  head -c $((1 << 30)) /dev/urandom > "$src/big.bin"
  for i in $(seq 1 2000); do head -c 4096 /dev/urandom > "$src/small/f$i"; done
}

now() { date +%s.%N; }

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
  start=$(now)
  DST=$dst bash -c "$2" || { echo "bench: failed ($?): $2 into $dst" >&2; return 1; }
  end=$(now)
  echo "$end - $start" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# run NAME COMMAND: prints the median ratio local_time / mount_time; each round times the local disk, then the
# mount. The first, untimed round warms both up.
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

# clear_destinations: deletes everything in $local_dir and $mnt between workloads, then waits until the disk
# has written out the deletions (see wait_disk_quiet; at most $QUIET_MAX seconds, default 60).
clear_destinations() {
  rm -rf "${local_dir:?}"/* "${mnt:?}"/*
  sync
  wait_disk_quiet "${QUIET_MAX:-60}"
}

# wait_disk_quiet [MAX_SECONDS]: after deleting thousands of files, this VM's ext4 keeps writing in the
# background and every file operation is several times slower until it is done (up to a minute). Waits until
# the disk under $work wrote less than 1 MiB over one second (at most MAX_SECONDS, default 60).
wait_disk_quiet() {
  local max=${1:-60} dev stat before after
  dev=$(basename "$(df --output=source "$work" | tail -1)")
  stat=/sys/class/block/$dev/stat
  [ -r "$stat" ] || { sleep 5; return 0; }
  before=$(awk '{print $7}' "$stat")
  for _ in $(seq 1 "$max"); do
    sleep 1
    after=$(awk '{print $7}' "$stat")
    [ $((after - before)) -lt 2048 ] && return 0  # sectors of 512 bytes
    before=$after
  done
}

# fs_ratios: the three workloads of bench-fs (cp of the 1 GiB file, cp -r and rsync -a of the 2,000 small
# files) into $local_dir and into $mnt; sets cp_big, cp_small and rsync_small to the median ratios.
fs_ratios() {
  cp_big=$(CLEAN=1 run "cp 1GiB" 'cp "'"$src"'/big.bin" "$DST/"')
  clear_destinations
  cp_small=$(run "cp -r" 'cp -r "'"$src"'/small" "$DST/"')
  clear_destinations
  rsync_small=$(run "rsync -a" 'rsync -a "'"$src"'/small" "$DST/"')
}

# print_fs_ratios TITLE: the three ratios with their targets.
print_fs_ratios() {
  printf '%s\n' "$1"
  printf '  cp 1 GiB file           %.2fx  [>= 0.85]\n' "$cp_big"
  printf '  cp -r 2000 x 4 KiB      %.2fx  [>= 0.30]\n' "$cp_small"
  printf '  rsync -a 2000 x 4 KiB   %.2fx  [>= 0.25]\n' "$rsync_small"
}
