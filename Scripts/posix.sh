#!/usr/bin/env bash
# The POSIX filesystem suite pjdfstest, run as root inside a tusfs mount and inside libfuse's own low-level C++
# example passthrough_hp (the reference: what a plain passthrough FUSE filesystem passes on this kernel), in the
# same run, with the same mount options (allow_other and default_permissions for both: pjdfstest switches to
# other users, which a mount without allow_other refuses). Prints both pass counts (subtests passed / run) and
# the test files where tusfs fails a subtest that passthrough_hp passes.
#
# Usage: Scripts/posix.sh PJDFSTEST_SRC [LIBFUSE_SRC]
#   PJDFSTEST_SRC  a checkout of https://github.com/pjd/pjdfstest (master)
#   LIBFUSE_SRC    a checkout of https://github.com/libfuse/libfuse at tag fuse-3.14.0 (Debian 12's libfuse);
#                  without it, only tusfs runs.
# Environment: TUSFS_BIN=PATH tests that binary (default: a release build of this tree);
#   POSIX_TESTS="chmod unlink" runs only those test directories; POSIX_KEEP=1 keeps the logs in the work
#   directory (printed) instead of deleting them; TMPDIR (default /var/tmp) holds the work directory.
# Needs root. Nothing is built or written inside this tree except the release build.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "posix: $*" >&2; exit 1; }
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: Scripts/posix.sh PJDFSTEST_SRC [LIBFUSE_SRC]"
[ "$(id -u)" = 0 ] || die "pjdfstest needs root (it changes owners and switches users)"
pjd_src=$(realpath "$1") || die "$1: no such directory"
[ -f "$pjd_src/pjdfstest.c" ] && [ -d "$pjd_src/tests" ] || die "$1 is not a pjdfstest checkout"
fuse_src=""
if [ $# = 2 ]; then
  fuse_src=$(realpath "$2") || die "$2: no such directory"
  [ -f "$fuse_src/example/passthrough_hp.cc" ] || die "$2 is not a libfuse checkout (no example/passthrough_hp.cc)"
fi

# What the builds and the suite need, on a fresh Debian machine.
missing=()
for tool in autoreconf:autoconf automake:automake libtoolize:libtool make:make cc:gcc g++:g++ \
  pkg-config:pkg-config prove:perl fusermount3:fuse3; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
pkg-config --exists fuse3 2>/dev/null || missing+=(libfuse3-dev)
if ((${#missing[@]})); then
  echo "posix: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

if [ -n "${TUSFS_BIN:-}" ]; then
  tusfs=$(realpath "$TUSFS_BIN")
else
  Scripts/install-deps.sh >/dev/null
  # shellcheck source=lib/release-build.sh
  . Scripts/lib/release-build.sh
  build_release >&2
  tusfs=$PWD/.build/release/tusfs
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/tusfs-posix-XXXXXX")
chmod 755 "$work"  # pjdfstest's other users must reach the mounts below
tusfs_mnt=$work/tusfs/mnt
ref_mnt=$work/passthrough_hp/mnt
ref_pid=""
cleanup() {
  cd /
  "$tusfs" unmount "$tusfs_mnt" >/dev/null 2>&1 || umount -l "$tusfs_mnt" 2>/dev/null || true
  if [ -n "$ref_pid" ]; then
    fusermount3 -u "$ref_mnt" 2>/dev/null || umount -l "$ref_mnt" 2>/dev/null || true
    kill "$ref_pid" 2>/dev/null || true
  fi
  if [ "${POSIX_KEEP:-0}" = 1 ]; then
    echo "posix: logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# pjdfstest, built in a copy of its tree (its tests find the binary by walking up from their own directory).
echo "posix: building pjdfstest in $work/pjdfstest"
cp -a "$pjd_src" "$work/pjdfstest"
(cd "$work/pjdfstest" && autoreconf -ifs && ./configure && make pjdfstest) >"$work/pjdfstest-build.log" 2>&1 \
  || { tail -20 "$work/pjdfstest-build.log" >&2; die "pjdfstest did not build"; }
suite=$work/pjdfstest/tests

if [ -n "$fuse_src" ]; then
  # passthrough_hp at 3.14 takes no -o: its mount options are fixed in the source (default_permissions),
  # so the copy built here adds allow_other to them, as tusfs gets it below.
  echo "posix: building passthrough_hp from $fuse_src"
  mkdir -p "$work/passthrough_hp/backing" "$ref_mnt"
  sed 's/"default_permissions,fsname=hpps"/"default_permissions,allow_other,fsname=hpps"/' \
    "$fuse_src/example/passthrough_hp.cc" >"$work/passthrough_hp/passthrough_hp.cc"
  grep -q allow_other "$work/passthrough_hp/passthrough_hp.cc" || die "could not add allow_other to passthrough_hp"
  # Built without libfuse's meson, so the three features its config.h would turn on for glibc are named here
  # (without HAVE_UTIMENSAT, every change of times by name would fail with EOPNOTSUPP).
  # shellcheck disable=SC2046
  g++ -O2 -std=c++17 -DHAVE_UTIMENSAT -DHAVE_POSIX_FALLOCATE -DHAVE_SETXATTR -I"$fuse_src/example" \
    "$work/passthrough_hp/passthrough_hp.cc" \
    $(pkg-config fuse3 --cflags --libs) -lpthread -o "$work/passthrough_hp/passthrough_hp"
  "$work/passthrough_hp/passthrough_hp" --foreground "$work/passthrough_hp/backing" "$ref_mnt" \
    >"$work/passthrough_hp/daemon.log" 2>&1 &
  ref_pid=$!
  for _ in $(seq 1 100); do mountpoint -q "$ref_mnt" && break; sleep 0.1; done
  mountpoint -q "$ref_mnt" || die "passthrough_hp did not mount (see $work/passthrough_hp/daemon.log)"
fi

mkdir -p "$tusfs_mnt"
"$tusfs" mount "$tusfs_mnt" --cache "$work/tusfs/cache" -o allow_other >/dev/null

# run_suite MOUNT LOG: every test file, one prove each (a file that hangs is stopped after 10 minutes and
# counts what it reported), from a fresh directory inside MOUNT; the verbose TAP goes to LOG.
run_suite() {
  local dir=$1/pjdfstest files
  mkdir -p "$dir"; chmod 777 "$dir"
  if [ -n "${POSIX_TESTS:-}" ]; then
    files=$(for t in $POSIX_TESTS; do find "$suite/$t" -name '*.t'; done | sort)
  else
    files=$(find "$suite" -name '*.t' | sort)
  fi
  for file in $files; do
    echo "# file ${file#"$suite"/}"
    (cd "$dir" && timeout 600 prove -v "$file" 2>&1) || true
  done >"$2"
}

# counts LOG: "passed run" over the whole log. As prove counts them, a "not ok … # TODO" (a failure the
# suite expects on this system) passes.
counts() { awk '/^ok |^not ok .*# TODO/{p++} /^(ok|not ok) /{n++} END {print p+0, n+0}' "$1"; }

# failing_subtests LOG: "FILE NUMBER" of every subtest that failed, sorted.
failing_subtests() { awk '/^# file /{f=$3} /^not ok / && !/# TODO/{print f, $3}' "$1" | sort -u; }

# by_file: "FILE NUMBER" lines in, "FILE (N subtests: 1 2 3)" out.
by_file() {
  sort -k1,1 -k2,2n | awk '{n[$1]++; s[$1] = s[$1] " " $2} END {for (f in n) printf "  %s (%d:%s)\n", f, n[f], s[f]}' | sort
}

echo "posix: running pjdfstest in the tusfs mount${fuse_src:+ and in passthrough_hp, side by side}"
run_suite "$tusfs_mnt" "$work/tusfs.log" &
tusfs_run=$!
if [ -n "$fuse_src" ]; then run_suite "$ref_mnt" "$work/passthrough_hp.log"; fi
wait "$tusfs_run"

read -r tusfs_passed tusfs_run_count <<<"$(counts "$work/tusfs.log")"
echo
echo "posix: pjdfstest subtests passed (of those run), allow_other + default_permissions:"
printf '  %-15s %5d of %5d\n' tusfs "$tusfs_passed" "$tusfs_run_count"
if [ -n "$fuse_src" ]; then
  read -r ref_passed ref_run_count <<<"$(counts "$work/passthrough_hp.log")"
  printf '  %-15s %5d of %5d\n' passthrough_hp "$ref_passed" "$ref_run_count"
  echo
  echo "posix: test files where tusfs fails subtests that passthrough_hp passes (count: subtest numbers):"
  comm -23 <(failing_subtests "$work/tusfs.log") <(failing_subtests "$work/passthrough_hp.log") | by_file
  echo "posix: and where passthrough_hp fails subtests that tusfs passes:"
  comm -13 <(failing_subtests "$work/tusfs.log") <(failing_subtests "$work/passthrough_hp.log") | by_file
else
  echo
  echo "posix: test files where tusfs fails (count: subtest numbers):"
  failing_subtests "$work/tusfs.log" | by_file
fi
