#!/usr/bin/env bash
# Installs tusfs system-wide: the release binary in /usr/local/bin, the mount helper that mount(8) runs for
# fstab entries of type fuse.tusfs (/sbin/mount.fuse.tusfs, a link to the binary), the systemd unit example
# and the docs. Usage: sudo Scripts/install.sh [PREFIX]   (default /usr/local)
# On Debian and Ubuntu servers, prefer the package (Scripts/package-deb.sh): it also brings the systemd
# template unit, man pages and completions, and apt-get removes it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
. Scripts/lib/release-build.sh
prefix=${1:-/usr/local}
Scripts/install-deps.sh
build_release
install -D -m 0755 .build/release/tusfs "$prefix/bin/tusfs"
ln -sf "$prefix/bin/tusfs" /sbin/mount.fuse.tusfs
install -D -m 0644 packaging/systemd/tusfs.service "$prefix/share/tusfs/tusfs.service"
install -d -m 0755 "$prefix/share/doc/tusfs"
install -m 0644 README.md docs/*.md "$prefix/share/doc/tusfs/"
install -d -m 0755 /etc/tusfs
echo "installed $prefix/bin/tusfs and /sbin/mount.fuse.tusfs; unit example: $prefix/share/tusfs/tusfs.service"
