import FUSEAdapter
import UploadStatus

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
    /// The status document of the files under the mount-relative directory `directory`: `.tusfs/status.json`
    /// for `""` (the whole mount), the sidecar `DIR.tusfs.json` of any other directory. Produced as it is read,
    /// so that it may list any number of files.
    func statusDocument(under directory: String) -> StreamedDocument
    /// The totals of the files at or below `path` (a directory, a file; `""` is the mount's root), as JSON: the
    /// value of `user.tusfs.summary`.
    func subtreeSummary(of path: String) -> [UInt8]
    /// `setfattr -n user.tusfs.retry` on a file: retry its upload now. Throws the errno to report.
    func retry(_ path: String) throws(FilesystemError)
}
