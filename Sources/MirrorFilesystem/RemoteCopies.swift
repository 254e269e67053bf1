#if canImport(Glibc)
import Glibc
#endif

/// Why a file could not be read back from the service: one line, shown as the file's `user.tusfs.error`.
public struct ReadBackError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What the mirror asks the bridge about the copies of its files on the service, to evict and read back
/// cached files. The mirror knows nothing of HTTP; paths are mount-relative. Called on FUSE threads and on
/// the cache's own thread: may block.
public protocol RemoteCopies: Sendable {
    /// Whether the service holds a whole copy of the file at `path` (READY there) that is the file as it is
    /// now (`size` bytes, last modified at `modified`), and can give its data back: only then may the cached
    /// data be dropped.
    func hasCopy(of path: String, size: Int64, modified: timespec) -> Bool
    /// Writes the service's copy of `path` (`size` bytes) into `descriptor` from offset 0, in order, calling
    /// `progress` (from any thread) with 0 once the service answers, then with the bytes written so far each
    /// time more are written: readers of the file wait for it. `prepare` runs on the calling thread once the
    /// request is on its way and before anything is written (the cache makes room meanwhile); what it throws
    /// ends the read-back. Throws when the copy cannot be had, or comes back short, long or different from
    /// what the service says it is.
    func fetch(
        _ path: String, size: Int64, into descriptor: Int32, beforeWriting prepare: () throws(ReadBackError) -> Void,
        progress: @escaping @Sendable (Int64) -> Void
    ) throws(ReadBackError)
}
