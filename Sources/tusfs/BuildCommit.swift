/// The commit the binary was built from, or nil when the build did not say.
///
/// The release build of the scripts (`Scripts/lib/release-build.sh`, used by `package-deb.sh`, `install.sh` and
/// `run.sh`) writes the commit here before it builds and puts this file back as it was right after, so that a
/// plain `swift build`, or a build from a copy of the sources without git, needs nothing and says "unknown".
/// Keep the declaration on one line: the script replaces that line.
enum BuildCommit {
    static let id: String? = nil
}
