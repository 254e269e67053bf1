#!/usr/bin/env bash
# Upload speed of a mount over a slow network, from one run. `tusfs serve --latency-ms L` delays every request by
# L ms (a round trip to a distant service); for each protocol (http: HTTP/1.1 on TCP; https: TLS, where the
# client and server agree on HTTP/2 by ALPN when both offer it; the line shows what curl negotiated) and each
# latency (default 0, 40 and 100 ms), a fresh service and a fresh mount with its defaults measure:
#   1. cp -r of 2,000 x 4 KiB files into the mount, from the start of cp until every file is READY
#      (`tusfs wait` exits 0). Prints files/s and the ratio to the 0 ms figure of the same protocol.
#                                                           targets: >= 0.8x at 40 ms, >= 0.6x at 100 ms
#   2. cp of a 1 GiB file into the mount until it is READY (with WAN_BIG_ROUNDS > 1, the median of that many
#      copies, each under a new name after a sync). Prints seconds and the ratio to 0 ms.
#                                                           target: <= 1.1x at 40 ms
#   3. (http, 0 ms) the small files again against `tusfs serve --rate-limit R` (default 200 requests/s):
#      files/s against what the limit allows (R / the requests per file the unthrottled 0 ms run made, read
#      from the service's /metrics), and how many files failed for good (none may).
#                                                           target: >= 90 % of what the limit allows
# The service runs with --processing-delay 0, so the figures are the mount's and the network's. The big file is
# read from tmpfs and the service keeps its data on tmpfs when /dev/shm has room: the disk of these machines
# slows down for seconds after a few GiB of writes (a second 1 GiB copy into the same mount took 2.6 to 9.7 s,
# the copy into the cache alone up to 4.7 s), which swamps the latency being measured. The mount's cache stays
# on disk.
# Usage: Scripts/bench-wan.sh    (release build; needs root or fuse access; about 10 minutes)
# Environment: WAN_LATENCIES (default "0 40 100"; one listed twice is measured twice, see below), WAN_PROTOCOLS (default "http https"), WAN_FILES (2000),
#              WAN_BIG_MIB (1024), WAN_BIG_ROUNDS (1), WAN_RATE (200; 0 skips part 3), WAN_MOUNT_ARGS (extra `tusfs mount` options),
#              WAN_WEBHOOKS=1 (the service posts File Ready webhooks to the mount's --webhook-listen: no status polls),
#              BENCH_KEEP=1 (keep the work directory with the logs).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/bench-common.sh
. Scripts/lib/bench-common.sh
bench_setup
latencies=${WAN_LATENCIES:-0 40 100}
protocols=${WAN_PROTOCOLS:-http https}
files=${WAN_FILES:-2000}
big_mib=${WAN_BIG_MIB:-1024}
big_rounds=${WAN_BIG_ROUNDS:-1}
rate=${WAN_RATE:-200}
read -r -a mount_args <<< "${WAN_MOUNT_ARGS:-}"
serve_pid=
# The big file and the service's data in memory (tmpfs) when there is room (see above).
big_dir=$src serve_dir=$work
if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')" -gt $(((big_mib * (big_rounds + 1) + 1024) << 10)) ]; then
  big_dir=$(mktemp -d /dev/shm/tusfs-bench-wan-XXXXXX)
  serve_dir=$big_dir
fi
remove_big_dir() {
  [ "$big_dir" != "$src" ] || return 0
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench-wan: kept $big_dir" >&2; else rm -rf "$big_dir"; fi
}
trap 'stop_mount_and_service bench-wan; remove_big_dir; release_free_pages' EXIT
hold_free_pages

echo "bench-wan: preparing sources in $work (the big file in $big_dir)" >&2
mkdir -p "$src/small"
head -c $((big_mib << 20)) /dev/urandom > "$big_dir/big.bin"
for i in $(seq 1 "$files"); do head -c 4096 /dev/urandom > "$src/small/f$i"; done
key_file=$work/api-key
(umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key_file")
webhook_key=$work/webhook-key
(umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$webhook_key")
sync  # the sources on disk before the first run, not written back during it

# A private CA and a certificate for 127.0.0.1 signed by it, for https.
(
  cd "$work"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=bench-wan CA' 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1' 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext 2>/dev/null
)

run=0
# start PROTOCOL LATENCY [SERVE_ARGS...]: a new service (own data directory) and a new mount (own cache) on it.
start() {
  local protocol=$1 latency=$2 tls=() ca=() hooks=() listen=()
  shift 2
  run=$((run + 1))
  if [ "${WAN_WEBHOOKS:-0}" = 1 ]; then
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    hooks=(--webhook "http://127.0.0.1:$port/webhook" --webhook-secret-file "$webhook_key")
    listen=(--webhook-listen "127.0.0.1:$port" --webhook-secret-file "$webhook_key")
  fi
  if [ "$protocol" = https ]; then
    tls=(--tls-cert "$work/server.pem" --tls-key "$work/server.key")
    ca=(--ca-file "$work/ca.pem")
  fi
  "$tusfs" serve --listen 127.0.0.1:0 --data "$serve_dir/serve-$run" --api-key-file "$key_file" --log-level error \
    --processing-delay 0 --latency-ms "$latency" "${tls[@]}" ${hooks[@]+"${hooks[@]}"} "$@" > "$work/serve-$run.out" 2> "$work/serve-$run.log" &
  serve_pid=$!
  for _ in $(seq 1 300); do grep -q '^listening on ' "$work/serve-$run.out" 2>/dev/null && break; sleep 0.1; done
  service=$(sed -n 's/^listening on //p' "$work/serve-$run.out")
  [ -n "$service" ] || { echo "bench-wan: tusfs serve did not start:" >&2; cat "$work/serve-$run.log" >&2; exit 1; }
  negotiated=$(curl -s --http2 --cacert "$work/ca.pem" -o /dev/null -w '%{http_version}' "$service/healthz")
  "$tusfs" mount "$mnt" --cache "$work/cache-$run" --endpoint "$service/site-media/v1" --api-key-file "$key_file" \
    --log-level warning "${ca[@]}" ${listen[@]+"${listen[@]}"} ${mount_args[@]+"${mount_args[@]}"}
}

# stop: unmounts and stops the service, then drops what the run wrote and waits for the disk to settle, so
# that every run starts from the same state (otherwise each later run pays for writing back the gigabytes of the
# runs before it, and the last latency measured looks the slowest).
stop() {
  "$tusfs" unmount "$mnt"
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
  serve_pid=
  [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$work/cache-$run" "$serve_dir/serve-$run"
  sync
}

# accepted_requests: requests the service answered with anything but 429, from its /metrics.
accepted_requests() {
  curl -s --cacert "$work/ca.pem" "$service/metrics" |
    awk '/^tusfs_server_requests_total/ && !/status="429"/ && !/route="\/metrics"/ && !/route="\/healthz"/ {n += $NF} END {print n + 0}'
}

# to_ready COMMAND PATH: seconds from the start of COMMAND until `tusfs wait PATH` exits 0 (all READY).
to_ready() {
  local start
  start=$(now)
  bash -c "$1"
  "$tusfs" wait "$2" --timeout 900 >/dev/null || { echo "bench-wan: tusfs wait $2 failed (exit $?)" >&2; exit 1; }
  echo "$(now) - $start" | bc -l
}

# A latency listed more than once (WAN_LATENCIES="0 40 0 40") is measured that many times, each in a fresh
# service and mount, in the order given; its figures are the medians of all its runs (interleaving the
# latencies evens out a machine whose speed drifts over minutes).
# A warm-up, not timed: the first 1 GiB copy into a mount after the sources were made took 3 times as long as
# every later one on these machines (9.3-10 s against 2.5-3.2 s, whatever the latency), which made the first
# run's figure meaningless.
start http 0
to_ready "cp '$big_dir/big.bin' '$mnt/warm-up.bin'" "$mnt/warm-up.bin" > /dev/null
stop

declare -A small big proto small_runs big_runs
requests_per_file=
for protocol in $protocols; do
  for latency in $latencies; do
    start "$protocol" "$latency"
    proto[$protocol]=$negotiated
    t=$(to_ready "cp -r '$src/small' '$mnt/small'" "$mnt/small")
    rate_now=$(echo "$files / $t" | bc -l)
    small_runs[$protocol,$latency]+=" $rate_now"
    small[$protocol,$latency]=$(printf '%s\n' ${small_runs[$protocol,$latency]} | median)
    if [ "$protocol" = http ] && [ "$latency" = 0 ] && [ -z "$requests_per_file" ]; then
      requests_per_file=$(echo "$(accepted_requests) / $files" | bc -l)
    fi
    times=()
    for round in $(seq 1 "$big_rounds"); do
      sync
      times+=("$(to_ready "cp '$big_dir/big.bin' '$mnt/big-$round.bin'" "$mnt/big-$round.bin")")
    done
    big_runs[$protocol,$latency]+=" ${times[*]}"
    big[$protocol,$latency]=$(printf '%s\n' ${big_runs[$protocol,$latency]} | median)
    printf '  %-5s (HTTP/%s) %3d ms: %d x 4 KiB %6.0f files/s   %d MiB %6.2f s (%s)\n' "$protocol" "$negotiated" "$latency" \
      "$files" "$rate_now" "$big_mib" "$(printf '%s\n' "${times[@]}" | median)" "${times[*]}" >&2
    stop
  done
done
# Each latency once in the summary, in the order first given.
summary_latencies=$(printf '%s\n' $latencies | awk '!seen[$0]++' | tr '\n' ' ')

throttled_rate=
if [ "$rate" != 0 ] && [ -n "$requests_per_file" ]; then
  start http 0 --rate-limit "$rate"
  t=$(to_ready "cp -r '$src/small' '$mnt/small'" "$mnt/small")
  throttled_rate=$(echo "$files / $t" | bc -l)
  failed=$("$tusfs" status "$mnt/small" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"].get("failed", 0))' 2>/dev/null || echo "?")
  refused=$(curl -s "$service/metrics" | awk '/^tusfs_server_requests_total/ && /status="429"/ {n += $NF} END {print n + 0}')
  stop
fi

echo
echo "bench-wan: tusfs serve --latency-ms L --processing-delay 0, mount with its defaults ${WAN_MOUNT_ARGS:-}"
for protocol in $protocols; do
  printf '  %s (HTTP/%s)\n' "$protocol" "${proto[$protocol]}"
  for latency in $summary_latencies; do
    s=${small[$protocol,$latency]} b=${big[$protocol,$latency]}
    s0=${small[$protocol,0]:-$s} b0=${big[$protocol,0]:-$b}
    target_small="" target_big=""
    [ "$latency" = 40 ] && target_small="[>= 0.8x]" && target_big="[<= 1.1x]"
    [ "$latency" = 100 ] && target_small="[>= 0.6x]"
    printf '    %3d ms: %d x 4 KiB cp -r to READY %5.0f files/s %5.2fx %-9s  %d MiB cp to READY %6.2f s %5.2fx %s\n' \
      "$latency" "$files" "$s" "$(echo "$s / $s0" | bc -l)" "$target_small" "$big_mib" "$b" "$(echo "$b / $b0" | bc -l)" "$target_big"
    runs=$(echo ${big_runs[$protocol,$latency]} | wc -w)
    [ "$runs" -le 1 ] || printf '            (medians of %d runs: files/s %s; seconds %s)\n' "$runs" \
      "$(printf '%.0f ' ${small_runs[$protocol,$latency]})" "$(printf '%.2f ' ${big_runs[$protocol,$latency]})"
  done
done
if [ -n "$throttled_rate" ]; then
  allowed=$(echo "$rate / $requests_per_file" | bc -l)
  printf '  --rate-limit %d (http, 0 ms): %5.0f files/s = %.0f %% of the %.0f files/s the limit allows (%.2f requests per file)  [>= 90 %%]\n' \
    "$rate" "$throttled_rate" "$(echo "100 * $throttled_rate / $allowed" | bc -l)" "$allowed" "$requests_per_file"
  printf '    %s requests answered 429, %s files failed  [0 failed]\n' "$refused" "$failed"
fi
