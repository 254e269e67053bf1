import FUSEAdapter

/// What the mirror reports to the layer below it (the upload engine). Paths are relative to the mount's
/// root, without a leading slash (`videos/a.mp4`). Called on FUSE threads: implementations return quickly.
public protocol MirrorObserver: Sendable {
    /// A regular file's contents changed (first write through a handle, or a truncate).
    func fileWritten(_ path: String)
    /// The last handle that wrote to the file was closed; `size` is the file's size then.
    func fileClosed(_ path: String, size: Int64)
    /// A file or directory was renamed or moved (for a directory, everything below it moved along).
    func renamed(from: String, to: String, isDirectory: Bool)
    /// Two names swapped places (rename with RENAME_EXCHANGE).
    func exchanged(_ first: String, _ second: String)
    /// A name was removed: a file (its last link or one of several) or an empty directory.
    func removed(_ path: String, isDirectory: Bool)
    /// A directory was created.
    func directoryCreated(_ path: String)
}
