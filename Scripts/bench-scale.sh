#!/usr/bin/env bash
# What a mount costs as the number of files it has uploaded grows: the daemon's memory before, after the first
# tenth and after every file is READY (the slope between them per file), after a remount, the remount's time
# (and the background reconcile's after it), reading status.json (time and the daemon's memory after), `tusfs status` of one 1,000-file folder, `user.tusfs.summary` of the root,
# and the journal's bytes per file.
#
# Usage: Scripts/bench-scale.sh [N]   (default 200000 one-line files, in folders of 1,000)
# The service is `tusfs serve --processing-delay 0` in a process of its own, so the daemon's memory is the
# mount's alone. TUSFS_BIN=PATH uses that binary instead of building one for release.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-200000}
per_folder=1000

if [ -n "${TUSFS_BIN:-}" ]; then
  tusfs=$TUSFS_BIN
else
  Scripts/install-deps.sh >/dev/null
  # shellcheck source=lib/release-build.sh
  . Scripts/lib/release-build.sh
  build_release >/dev/null
  tusfs=$PWD/.build/release/tusfs
fi
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tusfs-scale-XXXXXX")
mnt=$work/mnt cache=$work/cache
mkdir -p "$mnt"
serve_pid=""
cleanup() {
  "$tusfs" unmount "$mnt" >/dev/null 2>&1 || umount -l "$mnt" 2>/dev/null || true
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc -l; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$(cat "$cache/daemon.pid")/status"; }
settle() { sleep 3; }

echo "bench-scale: making $count files in folders of $per_folder" >&2
python3 - "$work/src" "$count" "$per_folder" <<'EOF'
import os, sys
root, count, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(count):
    folder = os.path.join(root, "d%04d" % (i // per))
    if i % per == 0:
        os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "f%06d.txt" % i), "w") as f:
        f.write("line %d\n" % i)
EOF

"$tusfs" serve --listen 127.0.0.1:0 --data "$work/serve" --processing-delay 0 >"$work/serve.out" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 1 300); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*listening on //p' "$work/serve.out" | head -1)
[ -n "$url" ] || { echo "bench-scale: tusfs serve did not start" >&2; cat "$work/serve.log" >&2; exit 1; }

mount_it() { "$tusfs" mount "$mnt" --cache "$cache" --endpoint "$url" --write-back 0.2; }
mount_it
settle
rss_fresh=$(rss_kib)

# In ten batches, each waited for until READY: the files in flight (and so the daemon's peak) are the same in
# every batch, and the growth from the end of the first to the end of the last is what settled files cost.
echo "bench-scale: copying in 10 batches, each until every file is READY" >&2
folders=("$work"/src/d*)
batch=$(((${#folders[@]} + 9) / 10))
start=$(now)
first_batch_files=0
for ((i = 0; i < ${#folders[@]}; i += batch)); do
  cp -r "${folders[@]:i:batch}" "$mnt/"
  "$tusfs" wait "$mnt" --timeout 36000 >/dev/null
  if [ "$first_batch_files" = 0 ]; then
    settle
    rss_first_batch=$(rss_kib)
    first_batch_files=$(find "${folders[@]:0:batch}" -type f | wc -l)
  fi
done
upload_seconds=$(elapsed "$start")
settle
rss_ready=$(rss_kib)

start=$(now)
status_bytes=$(wc -c <"$mnt/.tusfs/status.json")
status_seconds=$(elapsed "$start")
rss_after_status=$(rss_kib)

start=$(now)
"$tusfs" status "$mnt/d0000" >/dev/null
folder_seconds=$(elapsed "$start")

summary_ms=$(python3 - "$mnt" <<'EOF'
import os, statistics, sys, time
times = []
for _ in range(21):
    start = time.perf_counter()
    os.getxattr(sys.argv[1], "user.tusfs.summary")
    times.append(time.perf_counter() - start)
print("%.3f" % (statistics.median(times) * 1000))
EOF
)
journal_bytes=$(cat "$cache"/journal.sqlite* | wc -c)

"$tusfs" unmount "$mnt" >/dev/null
start=$(now)
mount_it
remount_seconds=$(elapsed "$start")
# The earlier files are counted and the cache checked in the background: the summary says "reconciling".
while getfattr --only-values -n user.tusfs.summary "$mnt" 2>/dev/null | grep -q '"reconciling":true'; do sleep 0.05; done
reconcile_seconds=$(elapsed "$start")
settle
rss_remount=$(rss_kib)

later_files=$((count > first_batch_files ? count - first_batch_files : 1))
slope=$(echo "($rss_ready - $rss_first_batch) * 1024 / $later_files" | bc -l)
printf 'bench-scale: %d files in %d folders (measured %s)\n' "$count" $(((count + per_folder - 1) / per_folder)) "$(date -u +%Y-%m-%d)"
printf '  upload until READY           %8.1f s  (%.0f files/s)\n' "$upload_seconds" "$(echo "$count / $upload_seconds" | bc -l)"
printf '  daemon RSS fresh mount       %8.1f MiB\n' "$(echo "$rss_fresh / 1024" | bc -l)"
printf '  daemon RSS first batch READY %8.1f MiB\n' "$(echo "$rss_first_batch / 1024" | bc -l)"
printf '  daemon RSS all READY         %8.1f MiB  (%.2f KiB per file settled after the first batch)  [<= 0.1 KiB per settled file]\n' \
  "$(echo "$rss_ready / 1024" | bc -l)" "$(echo "$slope / 1024" | bc -l)"
printf '  daemon RSS after remount     %8.1f MiB  (%+.1f MiB against the fresh mount)  [within 10 MiB]\n' \
  "$(echo "$rss_remount / 1024" | bc -l)" "$(echo "($rss_remount - $rss_fresh) / 1024" | bc -l)"
printf '  remount                      %8.2f s  [<= 2 s]  (then %.2f s until reconciled in the background)\n' \
  "$remount_seconds" "$(echo "$reconcile_seconds - $remount_seconds" | bc -l)"
printf '  read status.json             %8.2f s  (%.1f MB; daemon RSS after: %.1f MiB)\n' \
  "$status_seconds" "$(echo "$status_bytes / 1000000" | bc -l)" "$(echo "$rss_after_status / 1024" | bc -l)"
printf '  tusfs status of 1,000 files  %8.2f s  [<= 0.2 s]\n' "$folder_seconds"
printf '  user.tusfs.summary of root   %8.3f ms  [<= 10 ms]\n' "$summary_ms"
printf '  journal                      %8.0f bytes per file\n' "$(echo "$journal_bytes / $count" | bc -l)"
