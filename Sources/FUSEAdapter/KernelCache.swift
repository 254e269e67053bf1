import CFuse
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to drop what it caches of the mount, so that it sends FORGET for inodes it holds but
/// nobody uses. A filesystem that keeps a descriptor per inode calls it to stay within its descriptor limit:
/// the kernel never forgets on its own while memory is plentiful.
///
/// Valid while the session runs; afterwards every call does nothing. Never call it from a request handler
/// (the kernel may hold the directory lock the invalidation needs until that request is answered): call it
/// from a thread of your own, and wait for that thread in `Filesystem.shutdown()`.
public final class KernelCache: Sendable {
    // The session pointer is only used under the lock, and cleared (under it) before the session ends.
    private struct Session: @unchecked Sendable { let pointer: OpaquePointer }
    private let session: Mutex<Session?>

    init(session: OpaquePointer) {
        self.session = Mutex(Session(pointer: session))
    }

    /// Drops the kernel's entry `name` in directory `parent` (and, for a directory, the entries below it that
    /// nobody uses). Returns 0, or the errno the kernel answered (ENOENT when it had no such entry).
    @discardableResult
    public func invalidateEntry(parent: InodeNumber, name: FileName) -> Int32 {
        // Not under the lock: the kernel may hold the call until requests in flight in `parent` are answered,
        // and when the loop has stopped that is only once the session is unmounted, which `detach` must not
        // wait for. The filesystem's `shutdown()` (after the unmount, before the session is destroyed) is
        // where a caller waits for its last call to return.
        guard let session = session.withLock({ $0 }) else { return ENOTCONN }
        let result = name.withCString { fuse_lowlevel_notify_inval_entry(session.pointer, parent, $0, strlen($0)) }
        return result < 0 ? -result : 0
    }

    /// Drops the kernel's cached attributes of `inode` (its size, blocks and times are asked again). Only
    /// attributes: unlike the calls that drop pages or entries, it takes no lock a request in flight may hold,
    /// so it may be called from a request handler.
    @discardableResult
    public func invalidateAttributes(of inode: InodeNumber) -> Int32 {
        guard let session = session.withLock({ $0 }) else { return ENOTCONN }
        let result = fuse_lowlevel_notify_inval_inode(session.pointer, inode, -1, 0)
        return result < 0 ? -result : 0
    }

    /// Drops the pages the kernel caches of `inode`'s data (and its attributes): the next reads ask the
    /// filesystem. Waits for reads in flight on those pages to be answered: never call it from a request handler,
    /// nor from a thread a request in flight waits for.
    @discardableResult
    public func invalidateData(of inode: InodeNumber) -> Int32 {
        guard let session = session.withLock({ $0 }) else { return ENOTCONN }
        let result = fuse_lowlevel_notify_inval_inode(session.pointer, inode, 0, 0)
        return result < 0 ? -result : 0
    }

    /// Called when the loop ends, before the unmount: no call starts after it.
    func detach() {
        session.withLock { $0 = nil }
    }
}
