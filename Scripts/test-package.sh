#!/usr/bin/env bash
# Builds the Debian package (Scripts/package-deb.sh), installs it on this machine with apt-get, checks what an
# admin relies on, and removes it again. Scripts/test.sh runs it after the test suite; run it as root.
#  1. `tusfs --version` names TusfsVersion.number and this commit.
#  2. man -w finds tusfs(1), tusfs-mount(1) and a page for every other command; tusfs-mount(1) lists every
#     flag that `tusfs mount --help` shows.
#  3. The bash, zsh and fish completions are in their standard places, are what the installed binary
#     generates, and bash completes `tusfs mo` to `mount`.
#  4. `systemd-analyze verify` passes tusfs@mnt-media.service (the template's instance), saying nothing.
#  5. The binary links nothing from the Swift toolchain, and every library it links is found.
#  6. With the toolchain's directory hidden (an empty tmpfs over it, in a mount namespace of this test's own)
#     and an empty environment: `tusfs --version`, then `mount -t fuse.tusfs` (the fstab form, through
#     /sbin/mount.fuse.tusfs, with the example config the package ships) and the embedded stand-in service,
#     a file written, `tusfs wait` until it is ready, the file downloaded back from its user.tusfs.url and
#     compared, unmounted.
#  7. `apt-get remove` leaves none of the package's files (it has no conffiles) and the package not installed;
#     then dpkg --purge forgets it.
# The package is purged and the mount cleared on failure too.
set -euo pipefail
cd "$(dirname "$0")/.."

# Step 6 runs this script again inside `unshare --mount`: TOOLCHAIN is hidden there, WORK is the scratch dir.
if [ "${1:-}" = --without-toolchain ]; then
  toolchain=$2 work=$3
  mnt=$work/mnt cache=$work/cache
  mount -t tmpfs -o ro,size=4k,mode=0755 tusfs-test-hidden "$toolchain"
  if [ -n "$(ls -A "$toolchain")" ] || command -v swift >/dev/null; then
    echo "test-package: the toolchain at $toolchain is not hidden" >&2; exit 1
  fi
  clear_mount() { tusfs unmount "$mnt" >/dev/null 2>&1 || umount -l "$mnt" 2>/dev/null || true; }
  trap clear_mount EXIT
  trap 'exit 130' INT TERM
  tusfs --version
  mkdir -p "$mnt" "$cache"
  mount -t fuse.tusfs "tusfs:$cache" "$mnt" -o write_back=0,config=/usr/share/doc/tusfs/examples/mnt-media.toml
  grep -q "^tusfs:$cache $mnt fuse.tusfs " /proc/self/mounts \
    || { echo "test-package: no fuse.tusfs mount on $mnt" >&2; cat /proc/self/mounts >&2; exit 1; }
  head -c 300000 /dev/urandom >"$work/sample.bin"
  cp "$work/sample.bin" "$mnt/sample.bin"
  tusfs wait "$mnt" --timeout 120
  state=$(getfattr --only-values -n user.tusfs.state "$mnt/sample.bin")
  [ "$state" = ready ] || { echo "test-package: state $state after tusfs wait" >&2; exit 1; }
  url=$(getfattr --only-values -n user.tusfs.url "$mnt/sample.bin")
  curl -fsS "$url" | cmp - "$work/sample.bin"
  tusfs unmount "$mnt"
  trap - EXIT
  echo "test-package: mounted with mount -t fuse.tusfs, uploaded, downloaded back, unmounted (toolchain hidden)"
  exit 0
fi

fail() { echo "test-package: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (it installs and removes the package)"
if dpkg-query -W -f='${db:Status-Abbrev}' tusfs 2>/dev/null | grep -q '^.i'; then
  fail "tusfs is installed already; this test installs and removes it: apt-get remove tusfs first"
fi
for path in /usr/bin/tusfs /sbin/mount.fuse.tusfs; do
  [ ! -e "$path" ] && [ ! -L "$path" ] || fail "$path exists (Scripts/install.sh?); remove it first"
done

work=$(mktemp -d /tmp/tusfs-package-test.XXXXXX)
installed=0
cleanup() {
  status=$?
  if [ "$installed" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq tusfs >/dev/null 2>&1 || echo "test-package: apt-get purge tusfs failed" >&2
  fi
  rm -rf "$work"
  [ "$status" = 0 ] || echo "test-package: FAILED" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
deb=$(Scripts/package-deb.sh "$work/deb" | tee -a /dev/stderr | tail -n 1)  # -a: a log file on stderr is appended to, not truncated
echo "test-package: package built in $(($(date +%s) - started)) s: $(stat -c %s "$deb") bytes"
[ -f "$deb" ] || fail "no package at $deb"
dpkg-deb --field "$deb" Depends Installed-Size

# apt-get resolves Depends from what the machine has or can download; the package and its libraries come in
# as any package would.
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get install failed"; }
[ "$(command -v tusfs)" = /usr/bin/tusfs ] || fail "tusfs on the PATH is $(command -v tusfs || echo nothing), not /usr/bin/tusfs"

# 1. Version and commit.
version=$(sed -n 's/^ *static let number = "\([^"]*\)"$/\1/p' Sources/tusfs/TusfsVersion.swift)
commit=$(git rev-parse --short=12 HEAD)
printed=$(tusfs --version)
echo "test-package: tusfs --version: $printed"
[[ "$printed" == "$version (commit $commit"* ]] || fail "tusfs --version printed '$printed', expected '$version (commit $commit…)'"

# 2. Man pages, one per command, and the mount page in step with --help.
for page in tusfs tusfs-mount tusfs-unmount tusfs-status tusfs-wait tusfs-serve tusfs-upload tusfs-import; do
  where=$(man -w "$page") || fail "man -w $page found nothing"
  [ "$where" = "/usr/share/man/man1/$page.1.gz" ] || fail "man -w $page: $where"
done
mount_page=$(MANWIDTH=200 man -P cat tusfs-mount 2>"$work/man.err")
[ ! -s "$work/man.err" ] || { cat "$work/man.err" >&2; fail "man tusfs-mount printed warnings"; }
for flag in $(tusfs mount --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
  [ "$flag" = --help ] || grep -qF -- "$flag" <<<"$mount_page" || fail "tusfs-mount(1) does not mention $flag"
done
echo "test-package: man pages found; tusfs-mount(1) names every flag of tusfs mount --help"

# 3. Completions.
for entry in bash:/usr/share/bash-completion/completions/tusfs zsh:/usr/share/zsh/vendor-completions/_tusfs \
  fish:/usr/share/fish/vendor_completions.d/tusfs.fish; do
  shell=${entry%%:*} file=${entry#*:}
  [ -s "$file" ] || fail "no $shell completion at $file"
  tusfs --generate-completion-script "$shell" | cmp -s - "$file" || fail "$file is not what tusfs generates"
done
bash -n /usr/share/bash-completion/completions/tusfs || fail "the bash completion does not parse"
completed=$(bash -c '. /usr/share/bash-completion/completions/tusfs
  COMP_WORDS=(tusfs mo); COMP_CWORD=1; COMP_LINE="tusfs mo"; COMP_POINT=${#COMP_LINE}
  fn=$(complete -p tusfs | sed -E "s/.*-F ([^ ]+).*/\1/"); "$fn" tusfs mo tusfs; echo "${COMPREPLY[*]}"')
[ "$completed" = mount ] || fail "bash completes 'tusfs mo' to '$completed', not 'mount'"
echo "test-package: completions in place; bash completes 'tusfs mo' to 'mount'"

# 4. The systemd unit.
[ -f /lib/systemd/system/tusfs@.service ] || fail "no /lib/systemd/system/tusfs@.service"
[ "$(systemd-escape --path /mnt/media)" = mnt-media ] || fail "systemd-escape --path /mnt/media is not mnt-media"
if ! systemd-analyze verify --man=no tusfs@mnt-media.service >"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
  cat "$work/verify.log" >&2; fail "systemd-analyze verify tusfs@mnt-media.service"
fi
echo "test-package: systemd-analyze verify tusfs@mnt-media.service: no complaint"

# 5. Linked libraries: none from the toolchain, none missing.
swift_binary=$(readlink -f "$(command -v swift)")
toolchain=$(dirname "$(dirname "$(dirname "$swift_binary")")")  # /opt/swift for /opt/swift/usr/bin/swift
[ "$toolchain" != / ] || toolchain=/usr/lib/swift                  # a toolchain installed in /usr
ldd /usr/bin/tusfs >"$work/ldd.txt"
! grep -q 'not found' "$work/ldd.txt" || { cat "$work/ldd.txt" >&2; fail "a library the binary links is missing"; }
! grep -qF "$toolchain" "$work/ldd.txt" || { cat "$work/ldd.txt" >&2; fail "the binary links a library from $toolchain"; }
! readelf -d /usr/bin/tusfs | grep -E 'R(UN)?PATH' | grep -qF "$toolchain" || fail "the binary's RUNPATH names $toolchain"
echo "test-package: links $(awk '{print $1}' "$work/ldd.txt" | tr '\n' ' ')"

# 6. Runs without the toolchain: version and a mount in the fstab form.
unshare --mount --propagation private -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  "$PWD/Scripts/test-package.sh" --without-toolchain "$toolchain" "$work"

# 7. Removal.
dpkg-query -L tusfs >"$work/files.txt"
[ -z "$(dpkg-query -W -f='${Conffiles}' tusfs)" ] || fail "the package has conffiles; step 7 expects none"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq tusfs >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get remove failed"; }
installed=0
if dpkg-query -W -f='${db:Status-Abbrev}' tusfs 2>/dev/null | grep -q '^.i'; then fail "tusfs still installed after apt-get remove"; fi
left=()
while IFS= read -r path; do
  [ -n "$path" ] && [ "$path" != /. ] && [ ! -d "$path" ] || continue  # directories (and /lib -> usr/lib) stay
  if [ -L "$path" ] || [ -e "$path" ]; then left+=("$path"); fi
done <"$work/files.txt"
((${#left[@]} == 0)) || fail "apt-get remove left: ${left[*]}"
[ ! -e /etc/tusfs ] || fail "apt-get remove left /etc/tusfs"
echo "test-package: apt-get remove left no file of the package"
dpkg --purge tusfs >/dev/null  # the record dpkg keeps of a removed package (its postrm runs at a purge)
echo "test-package: passed ($(($(date +%s) - started)) s)"
