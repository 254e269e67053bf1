/// A file event from the mirror filesystem, for `UploadEngine.post(_:)` (paths are mount-relative).
public enum FileEvent: Sendable, Hashable {
    /// Opened for writing, or written to.
    case written(String)
    /// The last writer closed it; `size` is its size in the cache.
    case closed(String, size: Int64)
    /// Renamed (a record at `to` is replaced).
    case renamed(from: String, to: String)
    /// A directory was renamed; every file under it moves with it.
    case directoryRenamed(from: String, to: String)
    /// Unlinked.
    case removed(String)
    /// The user asked for a retry (`setfattr -n user.tusfs.retry`).
    case retry(String)
}

extension FileEvent {
    /// The files the event is about (a directory rename: the directory's new path).
    var paths: [String] {
        switch self {
        case .written(let path), .closed(let path, _), .removed(let path), .retry(let path): [path]
        case .renamed(let from, let to): [from, to]
        case .directoryRenamed(_, let to): [to]
        }
    }
}
