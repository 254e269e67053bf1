# Measuring functions shared by Scripts/bench-fs.sh and Scripts/bench.sh (sourced, not run).
# The caller runs from the repository's root with `set -euo pipefail`, sets $rounds, and calls bench_setup
# (which sets $tusfs, $work, $src, $local_dir and $mnt) before anything else here.

# A failed command inside $(…) fails the script too (a timing of a failed copy is no timing).
shopt -s inherit_errexit

# bench_setup: installs what is missing, builds tusfs for release, and sets $tusfs and the scratch layout:
# $work (a new directory under $TMPDIR, default /var/tmp), $src (see prepare_sources), $local_dir and $mnt (the
# two destinations, created empty).
# BENCH_TUSFS=PATH measures that binary instead (another build, to compare); nothing is built then.
bench_setup() {
  Scripts/install-deps.sh >/dev/null
  if [ -n "${BENCH_TUSFS:-}" ]; then
    tusfs=$BENCH_TUSFS
  else
    # shellcheck source=release-build.sh
    . Scripts/lib/release-build.sh
    build_release >/dev/null
    tusfs=$PWD/.build/release/tusfs
  fi
  work=$(mktemp -d "${TMPDIR:-/var/tmp}/tusfs-bench-XXXXXX")
  mnt=$work/mnt; local_dir=$work/local; src=$work/src
  mkdir -p "$mnt" "$local_dir"
}

# prepare_sources: $src/big.bin (1 GiB of random bytes) and $src/small/f1..f2000 (4 KiB each), made before any
# timing.
prepare_sources() {
  mkdir -p "$src/small"
  head -c $((1 << 30)) /dev/urandom > "$src/big.bin"
  for i in $(seq 1 2000); do head -c 4096 /dev/urandom > "$src/small/f$i"; done
}

now() { date +%s.%N; }

# hold_free_pages / release_free_pages: on a virtual machine whose balloon driver reports free memory to the
# host (/sys/module/page_reporting: these machines report hundreds of GB), every page freed — a deleted
# 1 GiB file, a dropped cache — goes back to the host, and the next GiB written (page cache, tmpfs) waits
# for the host to hand pages back: one 1 GiB copy into the mount took 3.1 s or 10.5 s from one minute to the
# next. Raising the reporting order past the largest block (11) stops the reporting for the benchmark's
# duration; release_free_pages puts the machine's value back (call it from the EXIT trap).
page_reporting_order=/sys/module/page_reporting/parameters/page_reporting_order
saved_page_reporting_order=
hold_free_pages() {
  [ -w "$page_reporting_order" ] || return 0
  saved_page_reporting_order=$(cat "$page_reporting_order")
  echo 11 > "$page_reporting_order" 2>/dev/null || saved_page_reporting_order=
}
release_free_pages() {
  [ -n "$saved_page_reporting_order" ] || return 0
  echo "$saved_page_reporting_order" > "$page_reporting_order" 2>/dev/null || true
}

# stop_mount_and_service NAME: what the EXIT trap of a script with a mount at $mnt and a `tusfs serve` of its own
# ($serve_pid, empty when none runs) does: unmounts, stops the service, and deletes $work (kept with
# BENCH_KEEP=1, saying so as NAME).
stop_mount_and_service() {
  "$tusfs" unmount "$mnt" >/dev/null 2>&1 || umount -l "$mnt" 2>/dev/null || true
  if [ -n "${serve_pid:-}" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "$1: kept $work" >&2; else rm -rf "$work"; fi
}

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

# run NAME COMMAND: prints four medians: local_time / mount_time, the same for the passthrough_ll reference
# ($ref_mnt), for passthrough_hp ($hp_mnt), and hp_time / mount_time (the mount against passthrough_hp); "-" for
# a reference that is not mounted. Each round times the local disk, the mount, then the references. The first,
# untimed round warms them up.
run() {
  local name=$1 command=$2 ratios=() ref_ratios=() hp_ratios=() vs_hp=()
  seconds "$local_dir" "$command" >/dev/null
  seconds "$mnt" "$command" >/dev/null
  if [ -n "${ref_mnt:-}" ]; then seconds "$ref_mnt" "$command" >/dev/null; fi
  if [ -n "${hp_mnt:-}" ]; then seconds "$hp_mnt" "$command" >/dev/null; fi
  for round in $(seq 1 "$rounds"); do
    local l m r="" h=""
    l=$(seconds "$local_dir" "$command")
    m=$(seconds "$mnt" "$command")
    ratios+=("$(echo "$l / $m" | bc -l)")
    if [ -n "${ref_mnt:-}" ]; then
      r=$(seconds "$ref_mnt" "$command")
      ref_ratios+=("$(echo "$l / $r" | bc -l)")
      r=$(printf '  passthrough_ll %.3fs' "$r")
    fi
    if [ -n "${hp_mnt:-}" ]; then
      h=$(seconds "$hp_mnt" "$command")
      hp_ratios+=("$(echo "$l / $h" | bc -l)")
      vs_hp+=("$(echo "$h / $m" | bc -l)")
      h=$(printf '  passthrough_hp %.3fs' "$h")
    fi
    printf '  %-10s round %d: local %.3fs  mount %.3fs%s%s\n' "$name" "$round" "$l" "$m" "$r" "$h" >&2
  done
  local ref="-" hp="-" mount_vs_hp="-"
  if ((${#ref_ratios[@]})); then ref=$(printf '%s\n' "${ref_ratios[@]}" | median); fi
  if ((${#hp_ratios[@]})); then
    hp=$(printf '%s\n' "${hp_ratios[@]}" | median)
    mount_vs_hp=$(printf '%s\n' "${vs_hp[@]}" | median)
  fi
  echo "$(printf '%s\n' "${ratios[@]}" | median) $ref $hp $mount_vs_hp"
}

# clear_destinations: deletes everything in $local_dir and $mnt between workloads, waits until the disk has
# written out the deletions (see wait_disk_quiet; at most $QUIET_MAX seconds, default 60), then lets the deleted
# inodes age (see settle_deletions).
clear_destinations() {
  rm -rf "${local_dir:?}"/* "${mnt:?}"/*
  if [ -n "${ref_mnt:-}" ]; then rm -rf "${ref_mnt:?}"/*; fi
  if [ -n "${hp_mnt:-}" ]; then rm -rf "${hp_mnt:?}"/*; fi
  sync
  wait_disk_quiet "${QUIET_MAX:-60}"
  settle_deletions
}

# settle_deletions: ext4 without a journal (this VM's disk) will not reuse an inode deleted in the last 30–35 s:
# each file created meanwhile first steps over every such inode of its block group, one buffer lookup each. After
# thousands of deletions a create then costs up to 15 times as much, on the local disk and in the mount's cache
# alike, depending on where their directories landed: the same cp -r took 0.065 s or 1.15 s locally, and the ratios
# swung from 0.13 to 0.57. Waiting $DELETE_SETTLE seconds (default 36) after deleting measures the copies, not that.
settle_deletions() { sleep "${DELETE_SETTLE:-36}"; }

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

# prepare_other_filesystem_source: a copy of $src/big.bin on a tmpfs (/dev/shm), in $other_fs_src (deleted by
# remove_other_filesystem_source; call it from the EXIT trap). Copied from there, the local disk is a copy between
# filesystems as the mount always is: GNU cp (9.1) copies a file within one filesystem with copy_file_range, a
# copy inside the kernel that no other filesystem can be offered, and between filesystems reads and writes
# through a buffer. Leaves $other_fs_src empty (that workload is skipped) without a writable /dev/shm.
other_fs_src=
prepare_other_filesystem_source() {
  [ -d /dev/shm ] && [ -w /dev/shm ] || return 0
  other_fs_src=$(mktemp -d /dev/shm/tusfs-bench-XXXXXX)
  cp "$src/big.bin" "$other_fs_src/big.bin" || { rm -rf "$other_fs_src"; other_fs_src=; }
}
remove_other_filesystem_source() { if [ -n "$other_fs_src" ]; then rm -rf "$other_fs_src"; fi; }

# fs_ratios: the three workloads of bench-fs (cp of the 1 GiB file, cp -r and rsync -a of the 2,000 small
# files) into $local_dir and into $mnt (and $ref_mnt, $hp_mnt when set); sets cp_big, cp_small and rsync_small to
# the median ratios, ref_* and hp_* to the references' ratios to local, and vs_hp_* to the mount's ratio to
# passthrough_hp (each "-" when not measured). With $other_fs_src set, also the 1 GiB file copied from that
# other filesystem (cp_big_other_fs, ref_/hp_/vs_hp_ likewise).
fs_ratios() {
  settle_deletions  # whatever ran before may have deleted files
  read -r cp_big ref_cp_big hp_cp_big vs_hp_cp_big <<<"$(CLEAN=1 run "cp 1GiB" 'cp "'"$src"'/big.bin" "$DST/"')"
  if [ -n "${other_fs_src:-}" ]; then
    read -r cp_big_other_fs ref_cp_big_other_fs hp_cp_big_other_fs vs_hp_cp_big_other_fs \
      <<<"$(CLEAN=1 run "cp 1GiB from tmpfs" 'cp "'"$other_fs_src"'/big.bin" "$DST/"')"
  fi
  clear_destinations
  read -r cp_small ref_cp_small hp_cp_small vs_hp_cp_small <<<"$(run "cp -r" 'cp -r "'"$src"'/small" "$DST/"')"
  clear_destinations
  read -r rsync_small ref_rsync_small hp_rsync_small vs_hp_rsync_small <<<"$(run "rsync -a" 'rsync -a "'"$src"'/small" "$DST/"')"
}

# print_fs_ratios TITLE [BIG_FILE_TARGET]: the three ratios with their targets, the references' when they were
# measured, and the mount against passthrough_hp (target 0.8x for the small files). The 1 GiB copy's target is
# BIG_FILE_TARGET (default '>= 0.85', bench.sh's while the mount uploads; bench-fs.sh asks '>= 0.9').
print_fs_ratios() {
  printf '%s\n' "$1"
  ratio_line 'cp 1 GiB file' "$cp_big" "${2:->= 0.85}" "${ref_cp_big:--}" "${hp_cp_big:--}" "${vs_hp_cp_big:--}" ''
  if [ -n "${cp_big_other_fs:-}" ]; then
    ratio_line 'cp 1 GiB from tmpfs' "$cp_big_other_fs" '>= 0.9' "${ref_cp_big_other_fs:--}" "${hp_cp_big_other_fs:--}" \
      "${vs_hp_cp_big_other_fs:--}" ''
  fi
  ratio_line 'cp -r 2000 x 4 KiB' "$cp_small" '>= 0.30' "${ref_cp_small:--}" "${hp_cp_small:--}" "${vs_hp_cp_small:--}" '>= 0.8'
  ratio_line 'rsync -a 2000 x 4 KiB' "$rsync_small" '>= 0.25' "${ref_rsync_small:--}" "${hp_rsync_small:--}" "${vs_hp_rsync_small:--}" '>= 0.8'
}

# ratio_line LABEL RATIO TARGET REF_RATIO HP_RATIO MOUNT_VS_HP HP_TARGET: one line of print_fs_ratios; "-" for what
# was not measured.
ratio_line() {
  local line
  line=$(printf '  %-23s %.2fx  [%s]' "$1" "$2" "$3")
  if [ "$4" != - ]; then line+=$(printf '  libfuse passthrough_ll: %.2fx' "$4"); fi
  if [ "$5" != - ]; then
    line+=$(printf '  passthrough_hp: %.2fx  mount/passthrough_hp: %.2fx' "$5" "$6")
    if [ -n "$7" ]; then line+=" [$7]"; fi
  fi
  printf '%s\n' "$line"
}

# start_reference_mount DIR: builds libfuse's own low-level C example, passthrough_ll (shipped by libfuse3-dev
# under /usr/share/doc/libfuse3-dev/examples), into $work and mounts DIR/backing at DIR/mnt with it, set up like
# the tusfs mount (60 s caches, extended attributes on, one /dev/fuse descriptor per thread); sets $ref_mnt.
# A machine without the example or a C compiler gets a message and no reference (ref_mnt stays empty).
start_reference_mount() {
  local examples=/usr/share/doc/libfuse3-dev/examples cc
  cc=$(command -v cc || command -v gcc || command -v clang || true)
  if [ ! -r "$examples/passthrough_ll.c" ] || [ -z "$cc" ]; then
    echo "bench: no libfuse example or C compiler; measuring without the passthrough_ll reference" >&2
    return 0
  fi
  mkdir -p "$1/backing" "$1/mnt"
  # shellcheck disable=SC2046
  "$cc" -O2 -I"$examples" "$examples/passthrough_ll.c" $(pkg-config fuse3 --cflags --libs) -o "$work/passthrough_ll"
  "$work/passthrough_ll" -o source="$1/backing",timeout=60,xattr,clone_fd "$1/mnt"
  ref_mnt=$1/mnt
}

# start_hp_mount LIBFUSE_SRC DIR: builds libfuse's C++ example passthrough_hp from a libfuse source tree (the
# public repository libfuse/libfuse at tag fuse-3.14.0, which matches Debian 12's libfuse3; compiled against the
# system's libfuse3-dev) into $work, and mounts DIR/backing at DIR/mnt with it (its defaults: kernel caches kept,
# splice, one thread per request up to libfuse's limit); sets $hp_mnt.
start_hp_mount() {
  local source=$1/example/passthrough_hp.cc cxx
  cxx=$(command -v g++ || command -v c++ || command -v clang++ || true)
  if [ ! -r "$source" ] || [ -z "$cxx" ]; then
    echo "bench: no $source or C++ compiler; measuring without the passthrough_hp reference" >&2
    return 0
  fi
  mkdir -p "$2/backing" "$2/mnt"
  # shellcheck disable=SC2046
  # The HAVE_* macros are what libfuse's meson build defines on Linux (without them it refuses to set times).
  "$cxx" -O2 -std=c++17 -DHAVE_UTIMENSAT -DHAVE_POSIX_FALLOCATE -DHAVE_SETXATTR -I"$1/example" "$source" \
    $(pkg-config fuse3 --cflags --libs) -lpthread -o "$work/passthrough_hp"
  "$work/passthrough_hp" "$2/backing" "$2/mnt"
  hp_mnt=$2/mnt
}

# stop_reference_mount: unmounts $ref_mnt and $hp_mnt if they were mounted.
stop_reference_mount() {
  if [ -n "${ref_mnt:-}" ]; then fusermount3 -u "$ref_mnt" 2>/dev/null || umount -l "$ref_mnt" 2>/dev/null || true; fi
  if [ -n "${hp_mnt:-}" ]; then fusermount3 -u "$hp_mnt" 2>/dev/null || umount -l "$hp_mnt" 2>/dev/null || true; fi
}
