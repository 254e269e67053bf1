#!/usr/bin/env bash
# Upload throughput and memory of the tusfs client, on loopback, from one run:
#   1. tusfs upload → tusfs serve (tus, 1 GiB)          vs  tuspy → tuspyserver (1 GiB)   target ≥ 3×
#   2. tusfs upload → tusfs serve (tus, 1 GiB)          vs  curl -T → plain upload URL    target ≥ 0.7×
#   3. peak RSS of `tusfs upload` of a 4 GiB file (/usr/bin/time -v)                     target < 100 MiB
# Usage: Scripts/bench-upload.sh [--size-mib N] [--big-gib N] [--chunk-sweep]
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

swift build -c release --product tusfs >&2
TUSFS="$(swift build -c release --show-bin-path)/tusfs"
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

# 1. our client → tusfs serve (a warm-up upload first, so both sides run with a warm page cache), with the
#    sha1 Upload-Checksum tusfs serve asks for (default) and without it (as tuspy and curl send none)
upload_ours --no-checksum; settle
t0=$(now); upload_ours; t1=$(now); settle
OURS=$(seconds "$t0" "$t1")
t0=$(now); upload_ours --no-checksum; t1=$(now); settle
OURS_NOSUM=$(seconds "$t0" "$t1")

# 2. tuspy → tuspyserver
cat > "$WORK/tuspy_upload.py" <<'PY'
import sys
from tusclient import client
c = client.TusClient(sys.argv[1])
u = c.uploader(sys.argv[2], chunk_size=int(sys.argv[3]), metadata={"filename": "file.bin", "filetype": "application/octet-stream"})
u.upload()
PY
CHUNK=67108864  # the same PATCH size as our default (TusClient.defaultChunkSize)
t0=$(now); python3 "$WORK/tuspy_upload.py" "http://127.0.0.1:$PEER_PORT/files/" "$FILE" "$CHUNK"; t1=$(now)
TUSPY=$(seconds "$t0" "$t1")

# 3. curl -T → plain upload URL of tusfs serve
URL=$(curl -sf -X POST "$SERVICE/site-media/v1/files/generate-upload-url" -H 'Content-Type: application/json' \
  -d "{\"mimeType\":\"application/octet-stream\",\"fileName\":\"file.bin\",\"sizeInBytes\":\"$BYTES\"}" |
  python3 -c 'import json,sys; u=json.load(sys.stdin)["uploadUrl"]; print(u + ("&" if "?" in u else "?") + "filename=file.bin")')
t0=$(now); curl -sf -T "$FILE" -H 'Content-Type: application/octet-stream' "$URL" > /dev/null; t1=$(now); settle
CURL=$(seconds "$t0" "$t1")

echo "== upload of $SIZE_MIB MiB on loopback =="
echo "tusfs upload → tusfs serve (tus, sha1 checksums): ${OURS}s ($(mibps "$BYTES" "$OURS") MiB/s)"
echo "tusfs upload → tusfs serve (tus, --no-checksum):   ${OURS_NOSUM}s ($(mibps "$BYTES" "$OURS_NOSUM") MiB/s)"
echo "tuspy → tuspyserver (no checksums):               ${TUSPY}s ($(mibps "$BYTES" "$TUSPY") MiB/s)"
echo "curl -T → tusfs serve (plain PUT):                ${CURL}s ($(mibps "$BYTES" "$CURL") MiB/s)"
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
