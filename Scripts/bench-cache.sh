#!/usr/bin/env bash
# The bounded cache, from one run on loopback (tusfs mount → tusfs serve):
#   1. sequential read of an evicted 1 GiB file through the mount  vs  curl of the same URL   target ≥ 0.8×
#      (also against curl storing the download in a file on the cache's filesystem, as a read-back must)
#   2. time to the first byte of that read (median of 5)            vs  curl's first byte     target ≤ 2×
#      (curl's time to the answer's head, and to the first byte of data: a one-byte range request; the mount's
#      is an open and a read(2) of one byte); also the time to the first MiB against a 1 MiB range (no target)
#   3. sequential read of a cached 1 GiB file through the mount     vs  cat of the cache file target ≥ 0.9×
#      (medians of --read-runs)
# Caches are dropped (echo 3 > /proc/sys/vm/drop_caches) before each read, so every read comes from the disk
# or the network as a user's first read would.
# Usage: Scripts/bench-cache.sh [--size-mib N] [--first-runs N] [--read-runs N]   (1, 3: medians of --read-runs, default 3)
# Environment: BENCH_TUSFS=PATH runs that tusfs binary instead of building one; BENCH_TIMINGS=1 mounts with
# --log-level debug and prints where the first read's time went (open → service asked → answered → first
# bytes → first read answered, from the daemon's log).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=1024
FIRST_RUNS=5
READ_RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) SIZE_MIB=$2; shift 2 ;;
    --first-runs) FIRST_RUNS=$2; shift 2 ;;
    --read-runs) READ_RUNS=$2; shift 2 ;;
    *) echo "usage: $0 [--size-mib N] [--first-runs N] [--read-runs N]" >&2; exit 2 ;;
  esac
done

if [ -n "${BENCH_TUSFS:-}" ]; then
  TUSFS=$BENCH_TUSFS
else
  # shellcheck source=lib/release-build.sh
  . Scripts/lib/release-build.sh
  build_release >&2
  TUSFS=$PWD/.build/release/tusfs
fi
WORK="$(mktemp -d /tmp/tusfs-bench-cache.XXXXXX)"
MOUNT="$WORK/mnt"
PIDS=()
# shellcheck source=lib/bench-common.sh
. Scripts/lib/bench-common.sh  # for hold_free_pages / release_free_pages
cleanup() {
  "$TUSFS" unmount "$MOUNT" >/dev/null 2>&1 || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
  release_free_pages
}
trap cleanup EXIT
hold_free_pages
trap 'echo "--- daemon log:" >&2; tail -20 "$WORK/cache/tusfs.log" >&2 || true' ERR

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing on port $1" >&2; exit 1; }
now() { date +%s.%N; }
seconds() { python3 -c "print(f'{$2 - $1:.3f}')"; }
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.4f}')" "$@"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
mibps() { python3 -c "print(f'{$1 / 1048576 / $2:.0f}')"; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
# first_byte FILE: seconds until the first byte of FILE can be read (a fresh open, then read(2) of 1 byte, as
# curl's one-byte range below). Not Python's buffered read(1): it asks for st_blksize bytes, 1 MiB on the mount,
# which would time the first MiB instead (first_mib below).
first_byte() { python3 -c "
import os,time,sys
t=time.monotonic(); f=os.open(sys.argv[1],os.O_RDONLY); os.read(f,1); print(f'{time.monotonic()-t:.4f}')" "$1"; }
# first_mib FILE: seconds until the first MiB of FILE is read (what a reader with a 1 MiB buffer waits for).
first_mib() { python3 -c "
import os,time,sys
t=time.monotonic(); f=os.open(sys.argv[1],os.O_RDONLY); n=0
while n < 1048576:
    n+=len(os.read(f,1048576-n))
print(f'{time.monotonic()-t:.4f}')" "$1"; }

BYTES=$((SIZE_MIB * 1024 * 1024))
SERVE_PORT=$(free_port)
KEY="bench-$RANDOM$RANDOM"
printf '%s\n' "$KEY" > "$WORK/key"; chmod 600 "$WORK/key"
"$TUSFS" serve --listen "127.0.0.1:$SERVE_PORT" --data "$WORK/serve" --api-key-file "$WORK/key" --processing-delay 0 \
  --log-level warning > "$WORK/serve.log" 2>&1 &
PIDS+=($!)
wait_port "$SERVE_PORT"
mkdir -p "$MOUNT"
"$TUSFS" mount "$MOUNT" --cache "$WORK/cache" --endpoint "http://127.0.0.1:$SERVE_PORT/site-media/v1" \
  --api-key-file "$WORK/key" --write-back 0 --log-level "$([ -n "${BENCH_TIMINGS:-}" ] && echo debug || echo warning)"

echo "writing two $SIZE_MIB MiB files into the mount…" >&2
head -c "$BYTES" /dev/urandom > "$MOUNT/evicted.bin"
head -c "$BYTES" /dev/urandom > "$MOUNT/cached.bin"
"$TUSFS" wait "$MOUNT" --timeout 600 >&2
URL=$(getfattr --only-values -n user.tusfs.url "$MOUNT/evicted.bin")
"$TUSFS" cache evict "$MOUNT/evicted.bin"
[ "$(getfattr --only-values -n user.tusfs.cached "$MOUNT/evicted.bin")" = no ] || { echo "not evicted" >&2; exit 1; }

# 2: the first byte, FIRST_RUNS times each (a single sample on a busy machine says little): curl's, then the
# evicted file's through the mount (each read-back runs to its end before the file is evicted again).
# curl's time_starttransfer is when the answer's head arrived; its time to the first byte of data is the
# whole time of a one-byte range request (`-r 0-0`, time_total). The mount's first byte is data.
CURL_FIRSTS=(); CURL_DATAS=(); CURL_MIBS=(); MOUNT_FIRSTS=(); MOUNT_MIBS=()
for _ in $(seq 1 "$FIRST_RUNS"); do
  drop_caches
  read -r HEAD_S DATA_S < <(curl -s -o /dev/null -r 0-0 -w '%{time_starttransfer} %{time_total}\n' "$URL")
  CURL_FIRSTS+=("$HEAD_S"); CURL_DATAS+=("$DATA_S")
  drop_caches
  MOUNT_FIRSTS+=("$(first_byte "$MOUNT/evicted.bin")")
  "$TUSFS" cache evict "$MOUNT/evicted.bin"
  drop_caches
  CURL_MIBS+=("$(curl -s -o /dev/null -r 0-1048575 -w '%{time_total}' "$URL")")
  drop_caches
  MOUNT_MIBS+=("$(first_mib "$MOUNT/evicted.bin")")
  "$TUSFS" cache evict "$MOUNT/evicted.bin"
done
if [ -n "${BENCH_TIMINGS:-}" ]; then sleep 1; grep -h 'read-back: ' "$WORK/cache/tusfs.log" | sed 's/^/  /' >&2 || true; fi
CURL_FIRST=$(median "${CURL_FIRSTS[@]}"); CURL_DATA=$(median "${CURL_DATAS[@]}"); MOUNT_FIRST=$(median "${MOUNT_FIRSTS[@]}")
CURL_MIB=$(median "${CURL_MIBS[@]}"); MOUNT_MIB=$(median "${MOUNT_MIBS[@]}")

# 1: READ_RUNS rounds of: curl of the service's URL to /dev/null; the same download stored in a file on the cache's
# filesystem, as a read-back must store it (curl -o); the evicted file through the mount (read back on open, then
# evicted again). Medians of each (one read of 1 GiB on this machine swings by ±15 %).
CURL_TIMES=(); CURL_FILE_TIMES=(); MOUNT_TIMES=()
for _ in $(seq 1 "$READ_RUNS"); do
  drop_caches
  START=$(now); curl -s -o /dev/null "$URL"; END=$(now); CURL_TIMES+=("$(seconds "$START" "$END")")
  drop_caches
  START=$(now); curl -s -o "$WORK/curl-copy.bin" "$URL"; END=$(now); CURL_FILE_TIMES+=("$(seconds "$START" "$END")")
  rm -f "$WORK/curl-copy.bin"
  drop_caches
  START=$(now); cat "$MOUNT/evicted.bin" > /dev/null; END=$(now); MOUNT_TIMES+=("$(seconds "$START" "$END")")
  cmp -s <(cat "$MOUNT/evicted.bin") <(curl -s "$URL") || { echo "read back differs from the service's copy" >&2; exit 1; }
  "$TUSFS" cache evict "$MOUNT/evicted.bin"
done
CURL_S=$(median "${CURL_TIMES[@]}"); CURL_FILE_S=$(median "${CURL_FILE_TIMES[@]}"); MOUNT_S=$(median "${MOUNT_TIMES[@]}")

# 3: READ_RUNS rounds of: the cache file read by cat, then the same file through the mount (passthrough).
# Medians of each: one read of 1 GiB from this machine's disk swings by ±20 %.
LOCAL_TIMES=(); CACHED_TIMES=()
for _ in $(seq 1 "$READ_RUNS"); do
  drop_caches
  START=$(now); cat "$WORK/cache/files/cached.bin" > /dev/null; END=$(now); LOCAL_TIMES+=("$(seconds "$START" "$END")")
  drop_caches
  START=$(now); cat "$MOUNT/cached.bin" > /dev/null; END=$(now); CACHED_TIMES+=("$(seconds "$START" "$END")")
done
LOCAL_S=$(median "${LOCAL_TIMES[@]}"); CACHED_S=$(median "${CACHED_TIMES[@]}")

echo "evicted read:  mount $(mibps "$BYTES" "$MOUNT_S") MiB/s, curl $(mibps "$BYTES" "$CURL_S") MiB/s: $(ratio "$CURL_S" "$MOUNT_S")× curl to /dev/null (target ≥ 0.8×; medians of $READ_RUNS)"
echo "               curl into a file on the cache's filesystem $(mibps "$BYTES" "$CURL_FILE_S") MiB/s: the mount reads at $(ratio "$CURL_FILE_S" "$MOUNT_S")× that"
echo "               mount ${MOUNT_TIMES[*]} s; curl ${CURL_TIMES[*]} s; curl into a file ${CURL_FILE_TIMES[*]} s"
echo "first byte:    mount ${MOUNT_FIRST}s, curl ${CURL_FIRST}s to the head, ${CURL_DATA}s to the first data byte (medians of $FIRST_RUNS): $(ratio "$MOUNT_FIRST" "$CURL_FIRST")× curl's head, $(ratio "$MOUNT_FIRST" "$CURL_DATA")× curl's first data byte (target ≤ 2×)"
echo "               mount ${MOUNT_FIRSTS[*]}; curl head ${CURL_FIRSTS[*]}; curl data ${CURL_DATAS[*]}"
echo "first MiB:     mount ${MOUNT_MIB}s, curl ${CURL_MIB}s (a 1 MiB range; medians of $FIRST_RUNS): $(ratio "$MOUNT_MIB" "$CURL_MIB")× curl's (no target)"
echo "cached read:   mount $(mibps "$BYTES" "$CACHED_S") MiB/s, cat $(mibps "$BYTES" "$LOCAL_S") MiB/s: $(ratio "$LOCAL_S" "$CACHED_S")× cat (target ≥ 0.9×; medians of $READ_RUNS)"
echo "               mount ${CACHED_TIMES[*]} s; cat ${LOCAL_TIMES[*]} s"
