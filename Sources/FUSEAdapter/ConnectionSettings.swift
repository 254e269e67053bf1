import CFuse
#if canImport(Glibc)
import Glibc
#endif

/// How the FUSE connection is tuned: negotiated with the kernel in `init`.
public struct ConnectionSettings: Sendable {
    /// Largest write request the kernel sends (bytes). 1 MiB lets one request carry a whole `cp` buffer.
    public var maxWrite: UInt32 = 1 << 20
    /// Largest read-ahead the kernel does (bytes).
    public var maxReadahead: UInt32 = 1 << 20
    /// Move the data of read replies from the backing file to /dev/fuse with splice(2) instead of copying it
    /// through a buffer in the daemon.
    public var splice: Bool = true
    /// Receive requests through a pipe with splice(2), so that a large write's data goes from /dev/fuse to
    /// the backing file without a copy through the daemon. Off: it costs a second system call on every
    /// request (libfuse splices each request into a pipe, then reads the small ones out of it), and with
    /// passthrough the daemon sees few writes.
    public var spliceRequests: Bool = false
    /// Let the kernel cache writes and send them later. Off by default: with it, a `write()` that returned
    /// may still sit in the kernel's page cache and be lost if the daemon dies (the mount promises that a
    /// returned write is in the backing file: README, "A write() that returned is in the backing file").
    public var writebackCache: Bool = false
    /// Hand open files to the kernel (FUSE passthrough, Linux 6.9+, needs CAP_SYS_ADMIN) so their data never
    /// goes through the daemon. Falls back to serving reads and writes when the kernel refuses.
    public var passthrough: Bool = true
    /// Time every request with swift-metrics (`tusfs_fuse_operation_duration_seconds`); off unless the mount
    /// exports metrics.
    public var recordsOperationTimes: Bool = false

    public init() {}

    func apply(to conn: UnsafeMutablePointer<fuse_conn_info>) {
        conn.pointee.max_write = maxWrite
        conn.pointee.max_readahead = maxReadahead
        let capable = conn.pointee.capable
        var want = conn.pointee.want
        func set(_ flag: Int32, _ on: Bool) {
            let bit = UInt32(bitPattern: flag)
            if on && capable & bit != 0 { want |= bit } else if !on { want &= ~bit }
        }
        set(FUSE_CAP_SPLICE_READ, spliceRequests)
        set(FUSE_CAP_SPLICE_WRITE, splice)
        set(FUSE_CAP_SPLICE_MOVE, splice)
        set(FUSE_CAP_WRITEBACK_CACHE, writebackCache)
        set(FUSE_CAP_PARALLEL_DIROPS, true)
        set(FUSE_CAP_ASYNC_DIO, true)
        set(FUSE_CAP_CACHE_SYMLINKS, true)
        conn.pointee.want = want
    }
}
