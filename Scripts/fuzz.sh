#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ and runs each for a while with its seed corpus.
#
#   Scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    (default: 60 seconds, every target)
#
# Each target is compiled by swiftc with -sanitize=fuzzer,address straight from the production sources it
# tests (never a copy): the Foundation-only files of TusCore, MediaManagerAPI and Timekeeping, and a few
# Foundation-only files of TusClient and MediaService (see the lists below). Nothing here is part of `swift build` or `swift test`, and
# nothing is installed: libFuzzer ships with the Swift toolchain on Linux.
#
# Every run works on a copy of Fuzz/corpus/<target> in a temporary directory, so the repository is not filled
# with generated inputs. Per target it prints executions, executions per second and PASS, or the crash input
# (kept in .build/fuzz/artifacts/<target>/; copy it into Fuzz/corpus/<target>/ once the bug is fixed).
# Exits non-zero when any target crashed or did not build.
#
# Environment: SWIFTC (default swiftc), FUZZ_OPT (default -O; -Onone -g when -O hides a bug),
# FUZZ_BUILD_DIR (default .build/fuzz), FUZZ_ARGS (extra libFuzzer flags, e.g. -runs=2000000).
set -euo pipefail

SECONDS_PER_TARGET=${1:-60}
shift || true
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/.build/fuzz}
SWIFTC=${SWIFTC:-swiftc}
read -r -a OPT <<<"${FUZZ_OPT:--O}"
read -r -a EXTRA_ARGS <<<"${FUZZ_ARGS:-}"
ALL_TARGETS=(upload-metadata tus-headers http-dates media-requests remote-file-names)
[[ $# -gt 0 ]] && TARGETS=("$@") || TARGETS=("${ALL_TARGETS[@]}")

cd "$ROOT"
mkdir -p "$BUILD"
FLAGS=(-sanitize=fuzzer,address -parse-as-library "${OPT[@]}" -swift-version 6 -use-ld=lld)

# TusCore without the files that need swift-crypto or zlib (only the hashing: ChecksumHasher.swift, CRC32.swift): every header
# parser is in the Foundation-only files.
TUSCORE_SOURCES=()
for f in Sources/TusCore/*.swift; do grep -qE '^import (Crypto|CCRC32)' "$f" || TUSCORE_SOURCES+=("$f"); done
# TusClient's header parsing (Foundation-only): the OPTIONS answer, and Retry-After (over Timekeeping's HTTP dates,
# which Upload-Expires uses too).
TUSCLIENT_HEADER_SOURCES=(Sources/TusClient/TusServerCapabilities.swift)
TUSCLIENT_DATE_SOURCES=(Sources/TusClient/RequestRetryPolicy.swift)
# MediaService's request decoding and the checks of decoded fields that need no database.
MEDIASERVICE_SOURCES=(Sources/MediaService/JSONRequestBody.swift Sources/MediaService/NameRules.swift
    Sources/MediaService/MimeTypeRules.swift
    Sources/MediaService/PageCursor.swift Sources/MediaService/Base64URL.swift
    Sources/MediaService/MediaServiceError.swift)

# build_module NAME SOURCES...: an instrumented object and .swiftmodule of a library module, as `import NAME` sees it.
build_module() {
    local name=$1
    shift
    "$SWIFTC" "${FLAGS[@]}" -module-name "$name" -whole-module-optimization -emit-module \
        -emit-module-path "$BUILD/modules/$name.swiftmodule" -emit-object -o "$BUILD/modules/$name.o" "$@"
}

# build_target TARGET FUZZ_FILE [SOURCES...] -- MODULES...: the fuzzer executable, with the internal sources it
# needs compiled into it and the modules linked.
build_target() {
    local target=$1 file=$2
    shift 2
    local sources=() objects=()
    while [[ $# -gt 0 && $1 != -- ]]; do sources+=("$1"); shift; done
    [[ $# -gt 0 ]] && shift
    for module in "$@"; do objects+=("$BUILD/modules/$module.o"); done
    "$SWIFTC" "${FLAGS[@]}" -module-name "$(basename "$file" .swift)" -I "$BUILD/modules" \
        "$file" "${sources[@]}" "${objects[@]}" -o "$BUILD/$target"
}

build() {
    mkdir -p "$BUILD/modules"
    case $1 in
    upload-metadata)
        build_module TusCore "${TUSCORE_SOURCES[@]}"
        build_target upload-metadata Fuzz/UploadMetadataFuzz.swift -- TusCore ;;
    tus-headers)
        build_module TusCore "${TUSCORE_SOURCES[@]}"
        build_target tus-headers Fuzz/TusHeadersFuzz.swift "${TUSCLIENT_HEADER_SOURCES[@]}" -- TusCore ;;
    http-dates)
        build_module Timekeeping Sources/Timekeeping/*.swift
        build_target http-dates Fuzz/HTTPDatesFuzz.swift "${TUSCLIENT_DATE_SOURCES[@]}" -- Timekeeping ;;
    media-requests)
        build_module MediaManagerAPI Sources/MediaManagerAPI/*.swift
        build_target media-requests Fuzz/MediaRequestsFuzz.swift "${MEDIASERVICE_SOURCES[@]}" -- MediaManagerAPI ;;
    remote-file-names)
        build_module MediaManagerAPI Sources/MediaManagerAPI/*.swift
        build_target remote-file-names Fuzz/RemoteFileNamesFuzz.swift Sources/MediaService/NameRules.swift \
            Sources/MediaService/MediaServiceError.swift -- MediaManagerAPI ;;
    *) echo "unknown target $1 (known: ${ALL_TARGETS[*]})" >&2; return 1 ;;
    esac
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failed=0
declare -a SUMMARY=()

for target in "${TARGETS[@]}"; do
    echo "== $target: building"
    if ! build "$target" 2>"$BUILD/$target.build.log"; then
        grep -v 'warning' "$BUILD/$target.build.log" | tail -20
        SUMMARY+=("$(printf '%-16s BUILD FAILED (see %s)' "$target" "$BUILD/$target.build.log")")
        failed=1
        continue
    fi
    corpus=$WORK/$target
    mkdir -p "$corpus" "$BUILD/artifacts/$target"
    cp -R "Fuzz/corpus/$target/." "$corpus/"
    dictionary=()
    [[ -f Fuzz/dictionaries/$target.dict ]] && dictionary=(-dict="Fuzz/dictionaries/$target.dict")
    log=$BUILD/$target.log
    echo "== $target: fuzzing for ${SECONDS_PER_TARGET}s (log: $log)"
    status=0
    started=$SECONDS
    SWIFT_BACKTRACE=enable=no "$BUILD/$target" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 \
        -max_len=4096 -artifact_prefix="$BUILD/artifacts/$target/" "${dictionary[@]}" "${EXTRA_ARGS[@]}" \
        "$corpus" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if [[ $status -eq 0 && -z $crash ]]; then
        result=PASS
    else
        result="CRASH ${crash:-(exit $status, see $log)}"
        failed=1
        grep -m3 -E 'Fatal error|ERROR: AddressSanitizer|ERROR: libFuzzer|deadly signal' "$log" || true
    fi
    SUMMARY+=("$(printf '%-16s %12s runs %8s exec/s %6ss  %s' "$target" "${runs:-?}" "${speed:-?}" \
        "$((SECONDS - started))" "$result")")
done

echo
echo "== fuzzing summary (${SECONDS_PER_TARGET}s per target)"
printf '%s\n' "${SUMMARY[@]}"
exit $failed
