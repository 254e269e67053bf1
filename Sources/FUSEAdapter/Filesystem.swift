#if canImport(Glibc)
import Glibc
#endif

/// An inode number as the kernel sees it (`fuse_ino_t`); 1 is the root.
public typealias InodeNumber = UInt64

/// The kernel's answer to a name lookup: which inode, its attributes, and how long the kernel may cache them.
public struct Entry: Sendable {
    public var inode: InodeNumber
    public var attributes: stat
    public var entryTimeout: Double
    public var attributeTimeout: Double

    public init(inode: InodeNumber, attributes: stat, entryTimeout: Double, attributeTimeout: Double) {
        self.inode = inode
        self.attributes = attributes
        self.entryTimeout = entryTimeout
        self.attributeTimeout = attributeTimeout
    }
}

/// Who asked: the calling process's credentials (from `fuse_req_ctx`).
public struct RequestContext: Sendable {
    public var uid: uid_t
    public var gid: gid_t
    public var pid: pid_t
    public var umask: mode_t
    /// The caller's supplementary groups, read when called (`fuse_req_getgroups`, which reads
    /// `/proc/PID/status`); only valid while the request is being handled.
    public var supplementaryGroups: @Sendable () -> [gid_t]

    public init(
        uid: uid_t, gid: gid_t, pid: pid_t, umask: mode_t = 0o022,
        supplementaryGroups: @escaping @Sendable () -> [gid_t] = { [] }
    ) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.umask = umask
        self.supplementaryGroups = supplementaryGroups
    }

    /// The daemon's own credentials: what a call made without a kernel request (tests, tools) acts as.
    public static var daemon: RequestContext { RequestContext(uid: geteuid(), gid: getegid(), pid: getpid()) }

    /// Whether the caller may read a file with these attributes, by the owner/group/other bits as the kernel
    /// checks them (root may read anything; the owner's bits alone count for the owner, and so on).
    public func mayRead(_ attributes: stat) -> Bool {
        if uid == 0 { return true }
        if uid == attributes.st_uid { return attributes.st_mode & S_IRUSR != 0 }
        if gid == attributes.st_gid || supplementaryGroups().contains(attributes.st_gid) {
            return attributes.st_mode & S_IRGRP != 0
        }
        return attributes.st_mode & S_IROTH != 0
    }
}

/// Attribute changes requested by `setattr`; `nil` fields are left alone.
public struct AttributeChanges: Sendable {
    /// A time to set: an explicit value, or the current time (UTIME_NOW).
    public enum TimeChange: Sendable, Equatable {
        case now
        case at(timespec)

        public static func == (a: TimeChange, b: TimeChange) -> Bool {
            switch (a, b) {
            case (.now, .now): return true
            case let (.at(x), .at(y)): return x.tv_sec == y.tv_sec && x.tv_nsec == y.tv_nsec
            default: return false
            }
        }
    }

    public var mode: mode_t?
    public var uid: uid_t?
    public var gid: gid_t?
    public var size: off_t?
    public var accessTime: TimeChange?
    public var modificationTime: TimeChange?

    public init(
        mode: mode_t? = nil, uid: uid_t? = nil, gid: gid_t? = nil, size: off_t? = nil,
        accessTime: TimeChange? = nil, modificationTime: TimeChange? = nil
    ) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.accessTime = accessTime
        self.modificationTime = modificationTime
    }
}

/// What an `open` or `create` returns: the handle the kernel passes back on read/write/release, and caching hints.
public struct OpenedFile: Sendable {
    public var handle: UInt64
    /// Bypass the page cache for this file (virtual files whose contents change on their own).
    public var directIO: Bool
    /// Keep cached pages from a previous open (the file did not change behind the kernel's back).
    public var keepCache: Bool

    /// Do not send a flush request at every close(): saves a round trip per file written.
    public var noFlush: Bool
    /// The handle is a descriptor of the backing file that the kernel may read and write directly (FUSE
    /// passthrough), when the kernel supports it; reads and writes then never reach the filesystem.
    public var passthrough: Bool

    public init(
        handle: UInt64, directIO: Bool = false, keepCache: Bool = false, noFlush: Bool = false,
        passthrough: Bool = false
    ) {
        self.handle = handle
        self.directIO = directIO
        self.keepCache = keepCache
        self.noFlush = noFlush
        self.passthrough = passthrough
    }
}

/// Data answering a read: bytes in memory, or a region of an open file that the adapter splices straight to
/// the kernel without copying it through user space.
public enum ReadData: Sendable {
    case bytes([UInt8])
    case fileRegion(descriptor: Int32, offset: off_t, size: Int)
}

/// The payload of a write request. The adapter's implementation copies straight from the kernel's buffer (or
/// pipe) into the destination; tests pass plain bytes.
public protocol WriteData {
    /// Number of bytes to write.
    var count: Int { get }
    /// Writes all bytes to `descriptor` at `offset`; returns the count written or throws the errno.
    func write(to descriptor: Int32, at offset: off_t) throws(FilesystemError) -> Int
}

/// One directory entry handed to a `readDirectory` consumer.
public struct DirectoryEntry {
    public var name: UnsafePointer<CChar>
    public var inode: UInt64
    public var type: UInt8
    /// The offset to resume from after this entry.
    public var nextOffset: off_t

    public init(name: UnsafePointer<CChar>, inode: UInt64, type: UInt8, nextOffset: off_t) {
        self.name = name
        self.inode = inode
        self.type = type
        self.nextOffset = nextOffset
    }
}

extension Filesystem {
    /// Absent names are not cached unless the filesystem says otherwise.
    public func negativeEntryTimeout(parent: InodeNumber, name: FileName) -> Double { 0 }
}

/// Filesystem statistics for `statfs` (`df`).
public typealias FilesystemStatistics = statvfs

/// The operations the FUSE adapter forwards from the kernel.
///
/// Methods run on the FUSE loop's own threads (never the Swift concurrency pool) and may block on disk I/O.
/// They throw `FilesystemError` with the errno to reply. Names are single path components, never `.`/`..`.
public protocol Filesystem: AnyObject, Sendable {
    func lookup(parent: InodeNumber, name: FileName) throws(FilesystemError) -> Entry
    /// Seconds the kernel may remember that `name` is absent from `parent` after `lookup` threw ENOENT, so that
    /// the next lookup of it (`stat` then `open(O_CREAT)`, rsync's checks before its rename) needs no round
    /// trip. 0 asks again every time. The kernel forgets the absence itself when the name is created through
    /// the mount; names that can appear without that (virtual files) must answer 0.
    func negativeEntryTimeout(parent: InodeNumber, name: FileName) -> Double
    func forget(_ inode: InodeNumber, lookups: UInt64)
    func attributes(of inode: InodeNumber, handle: UInt64?) throws(FilesystemError) -> stat
    /// Seconds the kernel may cache the attributes of `inode` returned by `attributes` and `setAttributes`.
    func attributeTimeout(of inode: InodeNumber) -> Double
    func setAttributes(of inode: InodeNumber, handle: UInt64?, changes: AttributeChanges, context: RequestContext)
        throws(FilesystemError) -> stat
    func readLink(_ inode: InodeNumber) throws(FilesystemError) -> FileName
    func makeNode(parent: InodeNumber, name: FileName, mode: mode_t, device: dev_t, context: RequestContext)
        throws(FilesystemError) -> Entry
    func makeDirectory(parent: InodeNumber, name: FileName, mode: mode_t, context: RequestContext)
        throws(FilesystemError) -> Entry
    func removeFile(parent: InodeNumber, name: FileName) throws(FilesystemError)
    func removeDirectory(parent: InodeNumber, name: FileName) throws(FilesystemError)
    func makeSymbolicLink(target: FileName, parent: InodeNumber, name: FileName, context: RequestContext)
        throws(FilesystemError) -> Entry
    func rename(parent: InodeNumber, name: FileName, newParent: InodeNumber, newName: FileName, flags: UInt32)
        throws(FilesystemError)
    func makeHardLink(_ inode: InodeNumber, newParent: InodeNumber, newName: FileName) throws(FilesystemError) -> Entry
    func open(_ inode: InodeNumber, flags: Int32, context: RequestContext) throws(FilesystemError) -> OpenedFile
    func create(parent: InodeNumber, name: FileName, mode: mode_t, flags: Int32, context: RequestContext)
        throws(FilesystemError) -> (Entry, OpenedFile)
    func read(_ inode: InodeNumber, handle: UInt64, offset: off_t, size: Int) throws(FilesystemError) -> ReadData
    func write(_ inode: InodeNumber, handle: UInt64, offset: off_t, data: some WriteData) throws(FilesystemError) -> Int
    func flush(_ inode: InodeNumber, handle: UInt64) throws(FilesystemError)
    func release(_ inode: InodeNumber, handle: UInt64, flags: Int32)
    func synchronize(_ inode: InodeNumber, handle: UInt64, dataOnly: Bool) throws(FilesystemError)
    func openDirectory(_ inode: InodeNumber) throws(FilesystemError) -> UInt64
    /// Calls `consume` for entries from `offset` on; `consume` returns false when the reply buffer is full.
    /// With `plus`, each entry also carries an `Entry` (counted as a lookup when `consume` accepts it).
    func readDirectory(
        _ inode: InodeNumber, handle: UInt64, offset: off_t, plus: Bool,
        consume: (DirectoryEntry, Entry?) -> Bool
    ) throws(FilesystemError)
    func releaseDirectory(_ inode: InodeNumber, handle: UInt64)
    func synchronizeDirectory(_ inode: InodeNumber, handle: UInt64, dataOnly: Bool) throws(FilesystemError)
    func statistics(_ inode: InodeNumber) throws(FilesystemError) -> FilesystemStatistics
    func setExtendedAttribute(_ inode: InodeNumber, name: String, value: [UInt8], flags: Int32) throws(FilesystemError)
    /// The value of xattr `name`, read on behalf of `context` (the caller).
    func extendedAttribute(_ inode: InodeNumber, name: String, context: RequestContext) throws(FilesystemError) -> [UInt8]
    func extendedAttributeNames(_ inode: InodeNumber) throws(FilesystemError) -> [String]
    func removeExtendedAttribute(_ inode: InodeNumber, name: String) throws(FilesystemError)
    func checkAccess(_ inode: InodeNumber, mask: Int32, context: RequestContext) throws(FilesystemError)
    func allocate(_ inode: InodeNumber, handle: UInt64, mode: Int32, offset: off_t, length: off_t)
        throws(FilesystemError)
    func seek(_ inode: InodeNumber, handle: UInt64, offset: off_t, whence: Int32) throws(FilesystemError) -> off_t
    /// Called once after the session ends (unmount), before the adapter returns.
    func shutdown()
    /// Called once when the session is mounted, with the handle to the kernel's cache of it (see `KernelCache`).
    func attach(kernelCache: KernelCache)
}

extension Filesystem {
    /// The value of xattr `name`, read as the daemon itself.
    public func extendedAttribute(_ inode: InodeNumber, name: String) throws(FilesystemError) -> [UInt8] {
        try extendedAttribute(inode, name: name, context: .daemon)
    }

    /// Most filesystems have no use for the kernel cache handle.
    public func attach(kernelCache: KernelCache) {}
}
