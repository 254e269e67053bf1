import FUSEAdapter

/// One read-only status attribute of a file, shown as the xattr `user.tusfs.NAME`.
public struct StatusAttribute: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// Where the mirror gets the upload status it shows: `user.tusfs.*` xattrs, `NAME.tusfs.json` sidecars and
/// `MOUNT/.tusfs/status.json`. Paths are mount-relative. Called on FUSE threads: answer from memory.
public protocol MirrorStatusProvider: Sendable {
    /// The status attributes of a regular file, in display order; nil when the file has no status.
    func statusAttributes(of path: String) -> [StatusAttribute]?
    /// The sidecar document of a regular file (JSON); nil when the file has no status.
    func sidecar(of path: String) -> [UInt8]?
    /// The document served at `.tusfs/status.json`.
    func statusDocument() -> [UInt8]
    /// The totals of the files at or below `path` (a directory, a file; `""` is the mount's root), as JSON: the
    /// value of `user.tusfs.summary`.
    func subtreeSummary(of path: String) -> [UInt8]
    /// `setfattr -n user.tusfs.retry` on a file: retry its upload now. Throws the errno to report.
    func retry(_ path: String) throws(FilesystemError)
}

/// The names the status surface uses.
public enum StatusNames {
    /// Prefix of the status xattrs.
    public static let attributePrefix = "user.tusfs."
    /// A directory's (or file's) totals, readable by name and not listed (so `rsync -aX` does not copy it).
    public static let summaryAttribute = "user.tusfs.summary"
    /// Setting this xattr retries a failed upload.
    public static let retryAttribute = "user.tusfs.retry"
    /// Suffix of a sidecar's name: `NAME.tusfs.json`.
    public static let sidecarSuffix = ".tusfs.json"
    /// The control directory at the mount's root.
    public static let controlDirectory = ".tusfs"
    /// The status document inside the control directory.
    public static let statusDocument = "status.json"
}
