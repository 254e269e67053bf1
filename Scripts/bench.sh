#!/usr/bin/env bash
# End-to-end upload speed of a mount that uploads to a separate `tusfs serve` on loopback, from one run:
#   1. cp -r of 2,000 x 4 KiB files into the mount, from the start of cp until every file is READY
#      (`tusfs wait` exits 0: the service finished processing them). Prints files/s.        target >= 500
#   2. cp of a 1 GiB file into the mount until it is READY, against the reference: cp of the same file to the
#      local disk plus `curl -T` of it to a plain upload URL of the same service. Prints the ratio
#      mount_time / reference_time.                                                           target <= 1.5
#   3. bench-fs's ratios local_time / mount_time (cp 1 GiB, cp -r and rsync -a of the small files) while the
#      mount uploads what is copied into it (no waiting for READY there).
# Every figure is the median of ROUNDS rounds. The mount runs with its defaults (--write-back 1 --transfers 4)
# unless BENCH_MOUNT_ARGS adds options (for experiments; the output shows them).
# Usage: Scripts/bench.sh [ROUNDS]    (default 3; release build; needs root or fuse access; about 6 minutes)
# Environment: BENCH_MOUNT_ARGS (extra `tusfs mount` options), BENCH_LOG_LEVEL (daemon log, default info),
#              BENCH_KEEP=1 (keep the work directory with the logs), BENCH_PARTS (default "1 2 3": which parts).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
# shellcheck source=lib/bench-common.sh
. Scripts/lib/bench-common.sh
bench_setup
serve_pid=
trap "stop_mount_and_service bench; release_free_pages" EXIT
hold_free_pages

echo "bench: preparing sources in $work"
prepare_sources

# The service: its own data directory, an API key in a 0600 file, a free loopback port (port 0; it prints the
# URL it listens on), processing delay at its default.
key_file=$work/api-key
(umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key_file")
"$tusfs" serve --listen 127.0.0.1:0 --data "$work/serve" --api-key-file "$key_file" --log-level warning \
  > "$work/serve.out" 2> "$work/serve.log" &
serve_pid=$!
for _ in $(seq 1 300); do grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
service=$(sed -n 's/^listening on //p' "$work/serve.out")
[ -n "$service" ] || { echo "bench: tusfs serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
api=$service/site-media/v1
key=$(cat "$key_file")

read -r -a mount_args <<< "${BENCH_MOUNT_ARGS:-}"
mount_tusfs() {
  "$tusfs" mount "$mnt" --cache "$work/cache" --endpoint "$api" --api-key-file "$key_file" \
    --log-level "${BENCH_LOG_LEVEL:-info}" ${mount_args[@]+"${mount_args[@]}"}
}
mount_tusfs
echo "bench: mount $mnt uploads to tusfs serve at $service (processing delay 0.2 s)" \
  "with --write-back 1 --transfers 4 ${BENCH_MOUNT_ARGS:-}"

# api_call METHOD PATH [BODY]: a management call with the API key; prints the JSON answer.
api_call() {
  curl -sf -X "$1" "$api/$2" -H "Authorization: $key" -H 'Content-Type: application/json' ${3:+-d "$3"}
}
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {"d": d}))' "$1"; }

# wait_ready FILE_ID: polls the descriptor every 50 ms until it is READY.
wait_ready() {
  for _ in $(seq 1 6000); do
    [ "$(api_call GET "files/get-file-by-id?fileId=$1" | json 'd["file"]["operationStatus"]')" = READY ] && return 0
    sleep 0.05
  done
  echo "bench: file $1 never became READY" >&2; exit 1
}

# e2e_seconds COMMAND PATH: seconds from the start of COMMAND until `tusfs wait PATH` exits 0 (all READY),
# then the seconds COMMAND itself took.
e2e_seconds() {
  local start copied end
  start=$(now)
  bash -c "$1"
  copied=$(now)
  "$tusfs" wait "$2" --timeout 600 || { echo "bench: tusfs wait $2 failed (exit $?)" >&2; exit 1; }
  end=$(now)
  echo "$(echo "$end - $start" | bc -l) $(echo "$copied - $start" | bc -l)"
}

parts=" ${BENCH_PARTS:-1 2 3} "
small_rate=0 small_cp=0 big_ratio=0 ref_time=0 mount_time=0 processing_time=0 cp_big=0 cp_small=0 rsync_small=0

# 1. 2,000 small files, cp -r until all READY
small_rates=(); small_cps=()
# Whatever ran before (an earlier bench's clean-up, a test run) may have deleted thousands of files: cp -r into
# the mount then measured 1.8-3.8 s instead of 0.6-0.7 s (see settle_deletions).
[[ $parts == *" 1 "* ]] && settle_deletions
[[ $parts == *" 1 "* ]] && for round in $(seq 1 "$rounds"); do
  sync; wait_disk_quiet 30
  read -r t c < <(e2e_seconds "cp -r '$src/small' '$mnt/e2e-$round'" "$mnt/e2e-$round")
  [ -n "${c:-}" ] || exit 1
  small_rates+=("$(echo "2000 / $t" | bc -l)")
  small_cps+=("$c")
  printf '  2000 files round %d: %.3fs to READY, of which cp -r %.3fs (%.0f files/s)\n' "$round" "$t" "$c" "${small_rates[-1]}" >&2
done
if [ ${#small_rates[@]} -gt 0 ]; then
  small_rate=$(printf '%s\n' "${small_rates[@]}" | median)
  small_cp=$(printf '%s\n' "${small_cps[@]}" | median)
fi

# 2. 1 GiB, cp until READY, against cp to the local disk + curl -T to a plain upload URL
big_ratios=(); ref_times=(); mount_times=(); processing_times=()
bytes=$(stat -c %s "$src/big.bin")
[[ $parts == *" 2 "* ]] && for round in $(seq 1 "$rounds"); do
  rm -rf "${local_dir:?}"/* "$mnt"/big-*; sync; wait_disk_quiet 30
  url=$(api_call POST files/generate-upload-url \
    "{\"mimeType\":\"application/octet-stream\",\"fileName\":\"ref-$round.bin\",\"sizeInBytes\":\"$bytes\"}" | json 'd["uploadUrl"]')
  start=$(now)
  cp "$src/big.bin" "$local_dir/big.bin"
  curl -sf -T "$src/big.bin" -H 'Content-Type: application/octet-stream' "$url?filename=ref-$round.bin" > "$work/ref.json"
  end=$(now)
  ref=$(echo "$end - $start" | bc -l)
  wait_ready "$(json 'd["file"]["id"]' < "$work/ref.json")"
  processing_times+=("$(echo "$(now) - $end" | bc -l)")
  rm -rf "${local_dir:?}"/*; sync; wait_disk_quiet 30
  read -r m c < <(e2e_seconds "cp '$src/big.bin' '$mnt/big-$round.bin'" "$mnt/big-$round.bin")
  [ -n "${c:-}" ] || exit 1
  ref_times+=("$ref"); mount_times+=("$m")
  big_ratios+=("$(echo "$m / $ref" | bc -l)")
  printf '  1 GiB round %d: reference %.3fs (then READY %.3fs later)  mount to READY %.3fs  ratio %.2f\n' \
    "$round" "$ref" "${processing_times[-1]}" "$m" "${big_ratios[-1]}" >&2
done
if [ ${#big_ratios[@]} -gt 0 ]; then
  big_ratio=$(printf '%s\n' "${big_ratios[@]}" | median)
  ref_time=$(printf '%s\n' "${ref_times[@]}" | median)
  mount_time=$(printf '%s\n' "${mount_times[@]}" | median)
  processing_time=$(printf '%s\n' "${processing_times[@]}" | median)
fi

# 3. bench-fs's ratios while the mount uploads
if [[ $parts == *" 3 "* ]]; then
  # Mounted afresh (everything so far is READY): the kernel then starts with no cached inodes, as in
  # bench-fs. (The mount keeps one descriptor open per inode the kernel caches; tens of thousands of files
  # written in a row run it out of descriptors: see README.)
  "$tusfs" unmount "$mnt"
  mount_tusfs
  mkdir -p "$mnt/fs" "$local_dir/fs"
  sync; wait_disk_quiet 30
  # As bench-fs: each workload's copies are deleted before the next workload (in the mount that cancels the
  # uploads still queued and moves the uploaded files to the service's trash, in the background), after at
  # most 15 s of waiting for the disk: the uploads keep it busy.
  mnt=$mnt/fs local_dir=$local_dir/fs QUIET_MAX=15 fs_ratios
fi

echo
printf 'bench: median over %d rounds; mount --write-back 1 s --transfers 4 %s (target in brackets)\n' \
  "$rounds" "${BENCH_MOUNT_ARGS:-}"
if [ "$small_rate" != 0 ]; then
  printf '  2000 x 4 KiB, cp -r to all READY       %4.0f files/s  [>= 500]  (%.2f s, of which cp -r %.2f s; the\n' \
    "$small_rate" "$(echo "2000 / $small_rate" | bc -l)" "$small_cp"
  printf '    last file closed waits the 1 s write-back delay, then the service processes each file 0.2 s)\n'
fi
if [ "$big_ratio" != 0 ]; then
  printf '  1 GiB, cp to READY vs cp + curl -T     %5.2fx        [<= 1.5]  (mount %.2f s, reference %.2f s)\n' \
    "$big_ratio" "$mount_time" "$ref_time"
  printf '    (the mount'"'"'s time includes the 1 s write-back delay and the service processing the file to READY,\n'
  printf '     which took %.2f s after curl'"'"'s PUT; with that added the reference is %.2f s and the ratio %.2fx)\n' \
    "$processing_time" "$(echo "$ref_time + $processing_time" | bc -l)" "$(echo "$mount_time / ($ref_time + $processing_time)" | bc -l)"
fi
if [ "$cp_big" != 0 ]; then
  print_fs_ratios '  local/mount while the mount uploads (bench-fs workloads, no waiting for READY):'
fi
