#!/usr/bin/env bash
# Installs what building and testing tusfs needs, when it is missing: libfuse3, attr, rsync, libmagic, zlib,
# the MIME table, SQLite, the tools that build and check the Debian package (dpkg-dev for dpkg-shlibdeps,
# binutils, man-db, systemd for systemd-analyze), and the Python tus peers used by interop tests. Safe to run
# again.
set -euo pipefail
debs=(libfuse3-dev fuse3 attr rsync libmagic-dev zlib1g-dev media-types libsqlite3-dev curl pkg-config bc openssl
  dpkg-dev binutils man-db systemd)
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "install-deps: apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ "${TUSFS_SKIP_PIP:-0}" != 1 ]; then
  python3 -c 'import tusclient, tuspyserver, uvicorn' 2>/dev/null \
    || python3 -m pip install -q tuspy tuspyserver uvicorn
fi
