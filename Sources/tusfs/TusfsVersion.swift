/// What `tusfs --version` prints: the release number and the commit the binary was built from, e.g.
/// `0.9.0 (commit 3f2a9c1b7d4e)`.
///
/// The release number is set here and nowhere else: `Scripts/package-deb.sh` reads it for the Debian package's
/// version. The commit is ``BuildCommit/id``.
enum TusfsVersion {
    static let number = "0.9.0"

    static var current: String {
        "\(number) (commit \(BuildCommit.id ?? "unknown"))"
    }
}
