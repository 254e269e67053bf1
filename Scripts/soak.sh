#!/usr/bin/env bash
# Soak test: MINUTES of mixed cp / rsync / mv / rm / overwrite on a real mount while the service injects
# faults (5% of upload requests answered 503, every upload's first request cut after 256 KiB, 5 ms latency).
# The same operations are applied to a local reference directory; at the end every surviving file must be
# READY on the service with the same bytes and nothing else may be there (Scripts/lib/service-compare.py),
# and the daemon's memory must stay flat: RSS after the first minute vs at the end (printed; the end may not
# exceed 1.5x the start + 32 MiB).
# Usage: Scripts/soak.sh [MINUTES]   (default 10; release build; root or fuse access)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
Scripts/install-deps.sh >/dev/null
if [ -z "${TUSFS_BINARY:-}" ]; then
  # A failed build must stop the soak, not leave an older binary to be tested.
  # shellcheck source=lib/release-build.sh
  . Scripts/lib/release-build.sh
  build_release > /tmp/tusfs-soak-build.log 2>&1 || { grep -E "error" /tmp/tusfs-soak-build.log | head; exit 1; }
fi
tusfs=${TUSFS_BINARY:-$PWD/.build/release/tusfs}

work=$(mktemp -d "${TMPDIR:-/var/tmp}/tusfs-soak-XXXXXX")
mnt=$work/mnt; ref=$work/reference; tmp=$work/tmp
mkdir -p "$mnt" "$ref" "$tmp"
server_pid=""
keep=0
cleanup() {
  "$tusfs" unmount "$mnt" >/dev/null 2>&1 || umount -l "$mnt" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  if [ "$keep" = 1 ]; then echo "soak: kept $work (cache/tusfs.log, serve.log, reference/) for a look"; else rm -rf "$work"; fi
}
trap cleanup EXIT

key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$key" > "$work/api-key"; chmod 600 "$work/api-key"
"$tusfs" serve --listen 127.0.0.1:0 --data "$work/server" --api-key-file "$work/api-key" \
  --fail-rate 0.05 --drop-after-bytes 262144 --latency-ms 5 --processing-delay 0.1 \
  > "$work/serve.out" 2> "$work/serve.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$work/serve.out")
[ -n "$base" ] || { echo "soak: tusfs serve did not start"; cat "$work/serve.log"; exit 1; }
api=$base/site-media/v1
"$tusfs" mount "$mnt" --cache "$work/cache" --endpoint "$api" --api-key-file "$work/api-key" --write-back 0.5 \
  --log-level "${TUSFS_SOAK_LOG_LEVEL:-info}"
daemon=$(cat "$work/cache/daemon.pid")
rss() { awk '/VmRSS/ {print $2}' "/proc/$daemon/status"; }   # KiB

echo "soak: $minutes min against $base (faults on), work dir $work"
random_file() { (cd "$ref" && find . -type f | sed 's|^\./||' | shuf -n 1 2>/dev/null) || true; }
new_content() {  # new_content FILE: mostly small, sometimes up to 24 MiB
  local size
  if [ $((RANDOM % 10)) = 0 ]; then size=$(( (RANDOM % 24 + 1) * 1048576 )); else size=$(( RANDOM * 6 + 1 )); fi
  head -c "$size" /dev/urandom > "$1"
}
counter=0
ops=0
start=$(date +%s)
end=$((start + minutes * 60))
rss_start=""
next_report=$((start + 30))
while [ "$(date +%s)" -lt "$end" ]; do
  counter=$((counter + 1))
  dir=d$((RANDOM % 5))
  mkdir -p "$mnt/$dir" "$ref/$dir"
  case $((RANDOM % 10)) in
    0|1|2|3)  # cp a new file
      new_content "$tmp/new"; cp "$tmp/new" "$mnt/$dir/f$counter.bin"; cp "$tmp/new" "$ref/$dir/f$counter.bin" ;;
    4)  # rsync a small tree
      rm -rf "$tmp/tree"; mkdir -p "$tmp/tree/sub"
      for i in $(seq 1 15); do head -c $((RANDOM * 2 + 1)) /dev/urandom > "$tmp/tree/sub/t$i.dat"; done
      rsync -a "$tmp/tree/" "$mnt/rs$counter/"; rsync -a "$tmp/tree/" "$ref/rs$counter/" ;;
    5|6)  # overwrite
      f=$(random_file); [ -n "$f" ] || continue
      new_content "$tmp/new"; cp "$tmp/new" "$mnt/$f"; cp "$tmp/new" "$ref/$f" ;;
    7)  # mv
      f=$(random_file); [ -n "$f" ] || continue
      mv "$mnt/$f" "$mnt/$dir/m$counter.bin"; mv "$ref/$f" "$ref/$dir/m$counter.bin" ;;
    8)  # rm
      f=$(random_file); [ -n "$f" ] || continue
      rm "$mnt/$f"; rm "$ref/$f" ;;
    9)  # append
      f=$(random_file); [ -n "$f" ] || continue
      head -c 1000 /dev/urandom > "$tmp/tail"; cat "$tmp/tail" >> "$mnt/$f"; cat "$tmp/tail" >> "$ref/$f" ;;
  esac
  ops=$((ops + 1))
  now=$(date +%s)
  if [ -z "$rss_start" ] && [ "$now" -ge $((start + 60 < end ? start + 60 : end)) ]; then rss_start=$(rss); fi
  if [ "$now" -ge "$next_report" ]; then
    echo "soak: $((now - start)) s, $ops operations, daemon RSS $(( $(rss) / 1024 )) MiB, $("$tusfs" status "$mnt" | tail -1)"
    next_report=$((now + 30))
  fi
  sleep 0.1
done
[ -n "$rss_start" ] || rss_start=$(rss)
echo "soak: $ops operations done; waiting for the uploads"
status=0
"$tusfs" wait "$mnt" --timeout 900 || status=$?
rss_end=$(rss)
echo "soak: tusfs wait exit $status; $("$tusfs" status "$mnt" | tail -1)"
compare=0
python3 Scripts/lib/service-compare.py "$api" "$key" "$ref" || compare=$?
echo "soak: daemon RSS after the first minute $((rss_start / 1024)) MiB, at the end $((rss_end / 1024)) MiB"
limit=$(( rss_start * 3 / 2 + 32768 ))
result=0
[ "$status" = 0 ] || { echo "soak: FAIL: not every file is ready"; result=1; }
[ "$compare" = 0 ] || { echo "soak: FAIL: the service differs from the reference"; result=1; }
[ "$rss_end" -le "$limit" ] || { echo "soak: FAIL: daemon RSS grew beyond 1.5x + 32 MiB"; result=1; }
if [ "$result" = 0 ]; then echo "soak: PASS"; else keep=1; fi
exit $result
