#!/usr/bin/env bash
# Upload throughput and memory of the tusfs client, on loopback, from one run:
#   1. tusfs upload → tusfs serve (tus, 1 GiB)          vs  tuspy → tuspyserver (1 GiB)   target ≥ 3×
#   2. tusfs upload → tusfs serve (tus, 1 GiB)          vs  curl -T → plain upload URL    target ≥ 0.7×
#   3. peak RSS of `tusfs upload` of a 4 GiB file (/usr/bin/time -v)                     target < 100 MiB
# Each run also prints the CPU seconds per GiB of the client and of the server (user + system, from
# /usr/bin/time and /proc/PID/stat), and for uploads to tusfs serve the time from the upload's answer until the
# service has processed the file (READY), with the server's CPU for that.
# Usage: Scripts/bench-upload.sh [--size-mib N] [--big-gib N] [--chunk-sweep]
# Environment: BENCH_TUSFS=PATH runs that tusfs binary instead of building one.
# Needs: python3 with tuspy, tuspyserver, uvicorn (Scripts/install-deps.sh), curl, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=1024
BIG_GIB=4
SWEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) SIZE_MIB=$2; shift 2 ;;
    --big-gib) BIG_GIB=$2; shift 2 ;;
    --chunk-sweep) SWEEP=1; shift ;;
    *) echo "usage: $0 [--size-mib N] [--big-gib N] [--chunk-sweep]" >&2; exit 2 ;;
  esac
done

if [ -n "${BENCH_TUSFS:-}" ]; then
  TUSFS=$BENCH_TUSFS   # another binary (e.g. an older build, to compare), used as it is
else
  # shellcheck source=lib/release-build.sh
  . Scripts/lib/release-build.sh
  build_release >&2
  TUSFS=$PWD/.build/release/tusfs
fi
WORK="$(mktemp -d /tmp/tusfs-bench-upload.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing on port $1" >&2; exit 1; }
now() { date +%s.%N; }
seconds() { python3 -c "print(f'{$2 - $1:.3f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
mibps() { python3 -c "print(f'{$1 / 1048576 / $2:.0f}')"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }           # CPU time (user + system) of a process, in ticks
HZ=$(getconf CLK_TCK)
per_gib() { python3 -c "print(f'{$1 * 1073741824 / $2:.2f}')"; }   # per_gib SECONDS BYTES
ticks_per_gib() { python3 -c "print(f'{$1 / $HZ * 1073741824 / $2:.2f}')"; }

FILE="$WORK/file.bin"
BYTES=$((SIZE_MIB * 1024 * 1024))
echo "making a $SIZE_MIB MiB file of random bytes…" >&2
head -c "$BYTES" /dev/urandom > "$FILE"

# tusfs serve
SERVE_PORT=$(free_port)
"$TUSFS" serve --listen "127.0.0.1:$SERVE_PORT" --data "$WORK/serve" --processing-delay 0 --log-level warning \
  > "$WORK/serve.log" 2>&1 &
PIDS+=($!)
SERVE_PID=$!
wait_port "$SERVE_PORT"
SERVICE="http://127.0.0.1:$SERVE_PORT"

# tuspyserver under uvicorn
PEER_PORT=$(free_port)
mkdir -p "$WORK/peer/files"
cat > "$WORK/peer/bench_peer_app.py" <<'PY'
import os
from fastapi import FastAPI
from tuspyserver import create_tus_router
app = FastAPI()
app.include_router(create_tus_router(prefix="files", files_dir=os.environ["TUS_FILES_DIR"]))
PY
(cd "$WORK/peer" && TUS_FILES_DIR="$WORK/peer/files" exec python3 -m uvicorn bench_peer_app:app \
  --host 127.0.0.1 --port "$PEER_PORT" --log-level warning) > "$WORK/peer.log" 2>&1 &
PIDS+=($!)
PEER_PID=$!
wait_port "$PEER_PORT"

# Waits until tusfs serve is idle: after each upload it "processes" the file in the background (MD5 of the whole
# file, ~1.5 s of CPU per GiB), which would otherwise slow down whichever run comes next.
settle() {
  local ticks last
  last=$(awk '{print $14 + $15}' "/proc/$SERVE_PID/stat")
  for _ in $(seq 1 120); do
    sleep 0.5
    ticks=$(awk '{print $14 + $15}' "/proc/$SERVE_PID/stat")
    [ $((ticks - last)) -lt 3 ] && return 0
    last=$ticks
  done
}

upload_ours() { # [extra flags…]
  "$TUSFS" upload "$FILE" --endpoint "$SERVICE" "$@" > /dev/null
}

# wait_ready FILE_ID: polls the descriptor every 20 ms until the service processed it.
wait_ready() {
  for _ in $(seq 1 30000); do
    curl -sf "$SERVICE/site-media/v1/files/get-file-by-id?fileId=$1" | grep -q '"operationStatus":"READY"' && return 0
    sleep 0.02
  done
  echo "file $1 never became READY" >&2; exit 1
}

# measure NAME SERVER_PID COMMAND…: runs COMMAND (its stdout: a descriptor, or nothing), sets $SECS (wall time),
# and adds a line to $REPORT: wall time, CPU s/GiB of the command and of the server, and for a descriptor the
# time until READY with the server's CPU meanwhile.
REPORT=""
measure() {
  local name=$1 server=$2; shift 2
  local s0 s1 s2 t0 t1 t2 line id cpu
  s0=$(ticks "$server"); t0=$(now)
  /usr/bin/time -f '%U %S' -o "$WORK/cpu.txt" "$@" > "$WORK/out.json"
  t1=$(now); s1=$(ticks "$server")
  SECS=$(seconds "$t0" "$t1")
  cpu=$(awk '{print $1 + $2}' "$WORK/cpu.txt")
  line=$(printf '%-48s %7.3fs %5s MiB/s  client %5s  server %5s CPU s/GiB' "$name" "$SECS" "$(mibps "$BYTES" "$SECS")" \
    "$(per_gib "$cpu" "$BYTES")" "$(ticks_per_gib $((s1 - s0)) "$BYTES")")
  id=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("file", d)["id"])' < "$WORK/out.json" 2>/dev/null || true)
  if [ -n "$id" ]; then
    wait_ready "$id"
    t2=$(now); s2=$(ticks "$server")
    line+=$(printf '; READY %.3fs after the answer (server CPU %.2fs)' "$(seconds "$t1" "$t2")" \
      "$(python3 -c "print($((s2 - s1)) / $HZ)")")
  fi
  REPORT+="$line"$'\n'
}

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
# 1. our client → tusfs serve (a warm-up upload first, so both sides run with a warm page cache), with the
#    Upload-Checksum it sends by default (crc32, which tusfs serve lists) and without it (as tuspy and curl send none)
upload_ours --no-checksum; settle
measure "tusfs upload → tusfs serve (tus, crc32 checksums)" "$SERVE_PID" "$TUSFS" upload "$FILE" --endpoint "$SERVICE"
OURS=$SECS; settle
measure "tusfs upload → tusfs serve (tus, --no-checksum)" "$SERVE_PID" "$TUSFS" upload "$FILE" --endpoint "$SERVICE" --no-checksum
OURS_NOSUM=$SECS; settle

# 2. tuspy → tuspyserver
cat > "$WORK/tuspy_upload.py" <<'PY'
import sys
from tusclient import client
c = client.TusClient(sys.argv[1])
u = c.uploader(sys.argv[2], chunk_size=int(sys.argv[3]), metadata={"filename": "file.bin", "filetype": "application/octet-stream"})
u.upload()
PY
CHUNK=67108864  # the same PATCH size as our default (TusClient.defaultChunkSize)
measure "tuspy → tuspyserver (no checksums)" "$PEER_PID" python3 "$WORK/tuspy_upload.py" "http://127.0.0.1:$PEER_PORT/files/" "$FILE" "$CHUNK"
TUSPY=$SECS

# 3. curl -T → plain upload URL of tusfs serve
URL=$(curl -sf -X POST "$SERVICE/site-media/v1/files/generate-upload-url" -H 'Content-Type: application/json' \
  -d "{\"mimeType\":\"application/octet-stream\",\"fileName\":\"file.bin\",\"sizeInBytes\":\"$BYTES\"}" |
  python3 -c 'import json,sys; u=json.load(sys.stdin)["uploadUrl"]; print(u + ("&" if "?" in u else "?") + "filename=file.bin")')
measure "curl -T → tusfs serve (plain PUT)" "$SERVE_PID" curl -sf -T "$FILE" -H 'Content-Type: application/octet-stream' "$URL"
CURL=$SECS; settle

echo "== upload of $SIZE_MIB MiB on loopback (load average before: $LOAD) =="
printf '%s' "$REPORT"
echo "ratio vs tuspy→tuspyserver: $(ratio "$TUSPY" "$OURS")x with checksums, $(ratio "$TUSPY" "$OURS_NOSUM")x without (target >= 3)"
echo "ratio vs curl -T:           $(ratio "$CURL" "$OURS")x with checksums, $(ratio "$CURL" "$OURS_NOSUM")x without (target >= 0.7)"

if [ "$SWEEP" = 1 ]; then
  echo "== chunk size sweep, tusfs upload → tusfs serve and → tuspyserver =="
  for chunk in 1048576 4194304 16777216 67108864 268435456; do
    t0=$(now); upload_ours --chunk-size "$chunk"; t1=$(now); settle
    t2=$(now); "$TUSFS" upload "$FILE" --tus "http://127.0.0.1:$PEER_PORT/files/" --chunk-size "$chunk" > /dev/null; t3=$(now)
    echo "chunk $((chunk / 1048576)) MiB: serve $(mibps "$BYTES" "$(seconds "$t0" "$t1")") MiB/s, tuspyserver $(mibps "$BYTES" "$(seconds "$t2" "$t3")") MiB/s"
  done
fi

# 4. peak memory of a big upload (a sparse file: reading it costs no disk)
rm -f "$FILE"
BIG="$WORK/big.bin"
truncate -s "${BIG_GIB}G" "$BIG"
/usr/bin/time -v "$TUSFS" upload "$BIG" --endpoint "$SERVICE" > /dev/null 2> "$WORK/time.txt"
RSS_KB=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$WORK/time.txt")
echo "== peak RSS of tusfs upload of a $BIG_GIB GiB file: $((RSS_KB / 1024)) MiB (target < 100) =="
