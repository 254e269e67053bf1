# The release build that Scripts/package-deb.sh packages and Scripts/install.sh and Scripts/run.sh use; sourced
# by them, from the package's root directory.
#
# build_release: `swift build -c release --static-swift-stdlib --product tusfs`, niced. The Swift runtime and
# Foundation (ICU data included) are linked into the binary, so it runs where no Swift toolchain is installed
# and needs only the shared libraries that package-deb.sh lists in Depends. For the build, the commit (12 hex
# digits, "-dirty" when tracked files differ from it) is written into Sources/tusfs/BuildCommit.swift, which is
# put back as it was right after, even when the build fails or is interrupted: `tusfs --version` names the
# commit, and the sources are left unchanged. Without git (a copy of the sources) the commit stays unknown.
# The binary is .build/release/tusfs.

# The commit of the working tree, or nothing without git.
source_commit() {
  local commit
  commit=$(git rev-parse --short=12 HEAD 2>/dev/null) || return 0
  git diff --quiet HEAD -- 2>/dev/null || commit+="-dirty"
  printf '%s\n' "$commit"
}

build_release() (
  set -euo pipefail
  local file=Sources/tusfs/BuildCommit.swift commit saved
  commit=$(source_commit)
  saved=$(mktemp)
  cp "$file" "$saved"
  # A plain cp back gives the file a new modification time, so the next build without a commit recompiles it.
  trap 'cp "$saved" "$file"; rm -f "$saved"' EXIT
  trap 'exit 130' INT TERM
  if [ -n "$commit" ]; then
    sed -i "s|^\( *static let id: String? = \).*|\1\"$commit\"|" "$file"
    grep -q "\"$commit\"" "$file" || { echo "release-build: could not write the commit into $file" >&2; exit 1; }
  fi
  nice -n "${TUSFS_BUILD_NICE:-10}" swift build -c release --static-swift-stdlib --product tusfs 2>&1 \
    | { grep -vE '^\[[0-9]+/[0-9]+\]' || true; }
)
