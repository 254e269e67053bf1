import CLinux
import FUSEAdapter
import Foundation
import Logging
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// Tuning of a `MirrorFilesystem`.
public struct MirrorOptions: Sendable {
    /// Seconds the kernel may cache a name → inode answer. The mount is the only writer of its backing tree,
    /// so long timeouts are safe.
    public var entryTimeout: Double = 60
    /// Seconds the kernel may cache attributes.
    public var attributeTimeout: Double = 60
    /// Seconds the kernel may remember that a name does not exist. As safe as `entryTimeout`: a name appears
    /// in the backing tree only through the mount, and the kernel drops its negative entry when it creates,
    /// links or renames something to that name. Virtual sidecar names are never remembered absent.
    public var negativeEntryTimeout: Double = 60
    /// Block size reported in `st_blksize` of regular files; programs such as `cp` size their buffers by it,
    /// and larger writes mean fewer round trips to the daemon. `nil` reports the backing disk's own.
    public var reportedBlockSize: Int? = 1 << 20
    /// Inodes the kernel may make the mount hold at most before it is asked to forget the least recently used
    /// ones. Each is an open descriptor, and the kernel forgets nothing on its own while memory is plentiful:
    /// without a bound, copying tens of thousands of files runs the daemon out of descriptors. `nil`: no bound.
    public var maxCachedInodes: Int? = nil
    /// The cache's limits; used when the mirror is given `RemoteCopies` to evict to and read back from.
    public var cacheLimits = CacheLimits()
    /// Where evictions and read-backs note what a crash must put back (see `CacheIntents`); nil: nowhere.
    public var cacheIntentsDirectory: String? = nil

    public init() {}
}

/// A POSIX filesystem over a backing directory (`CACHE/files`): every operation is carried out on the backing
/// tree, so what the mount shows is exactly what is on the local disk.
///
/// Runs without a kernel mount too (tests call its `Filesystem` methods directly).
public final class MirrorFilesystem: Filesystem {
    /// The backing directory.
    public let root: String
    let options: MirrorOptions
    let inodes: InodeTable
    /// Keeps the number of inodes (each an open descriptor) the kernel makes us hold within bounds.
    let eviction: InodeEviction?
    let runningAsRoot: Bool
    /// The bits the daemon's own umask takes from what it creates in the cache. The kernel has applied the
    /// caller's umask already, so a new file gets these back (see `giveRequestedMode`).
    let daemonUmask: mode_t
    /// The user the daemon runs as: the owner of the mount's status document and summaries.
    let mountOwner: (uid: uid_t, gid: gid_t)
    let logger: Logger
    /// Told about every change the bridge acts on (nil: nobody listens).
    let observer: (any MirrorObserver)?
    /// Supplies the status xattrs, sidecars and `.tusfs/status.json` (nil: the mount has none of them).
    let statusProvider: (any MirrorStatusProvider)?
    let writers = WriterTable()
    /// Held while a name changes and its event is posted, and while an event's path is read and posted, so
    /// the observer sees events in the order the names changed (a RELEASE racing with a RENAME on another
    /// thread must not report the new name before the rename itself). Taken only with an observer.
    let eventOrder = NSLock()
    let virtualNodes = VirtualNodes()
    /// Keeps the cache within `options.cacheLimits` (nil: no remote copies, nothing is ever evicted).
    public let cacheSpace: CacheSpace?

    /// Opens the backing directory `root` (it must exist).
    public init(
        root: String, options: MirrorOptions = .init(), observer: (any MirrorObserver)? = nil,
        statusProvider: (any MirrorStatusProvider)? = nil, remoteCopies: (any RemoteCopies)? = nil,
        logger: Logger = Logger(label: "tusfs.mirror")
    ) throws(FilesystemError) {
        self.statusProvider = statusProvider
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.options = options
        self.observer = observer
        self.logger = logger
        let descriptor = try SystemCall.descriptor(Glibc.open(root, tusfs_O_PATH | O_DIRECTORY | O_CLOEXEC))
        let inodes = try InodeTable(rootDescriptor: descriptor)
        self.inodes = inodes
        eviction = options.maxCachedInodes.map { InodeEviction(table: inodes, limit: $0, logger: logger) }
        runningAsRoot = geteuid() == 0
        daemonUmask = SystemCall.processUmask()
        mountOwner = (geteuid(), getegid())
        let root = self.root
        cacheSpace = remoteCopies.map {
            CacheSpace(
                root: root, rootDescriptor: descriptor, limits: options.cacheLimits, remote: $0,
                intentsDirectory: options.cacheIntentsDirectory, logger: Logger(label: "tusfs.cache"))
        }
        cacheSpace?.start()
    }

    /// Puts back the times of files an eviction or a read-back was changing when a daemon died (see
    /// `CacheIntents`); call before the journal is compared with the cache. Returns how many it repaired.
    @discardableResult
    public static func repairInterruptedCacheChanges(files: String, intentsDirectory: String) -> Int {
        let root = Glibc.open(files, tusfs_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { return 0 }
        defer { close(root) }
        return CacheIntents.repair(directory: intentsDirectory, root: root)
    }

    /// Inodes the kernel currently holds (for tests and metrics).
    public var liveInodeCount: Int { inodes.count }

    public func shutdown() {
        cacheSpace?.stop()
        eviction?.stop()
        inodes.closeAll()
    }

    public func attach(kernelCache: KernelCache) {
        let inodes = self.inodes
        @Sendable func number(_ attributes: stat) -> InodeNumber? {
            inodes.number(device: UInt64(attributes.st_dev), inode: UInt64(attributes.st_ino))
        }
        cacheSpace?.attach(
            // `du` and `stat` show the blocks an eviction freed or a read-back filled at once.
            { attributes in if let inode = number(attributes) { kernelCache.invalidateAttributes(of: inode) } },
            dropPages: { attributes in if let inode = number(attributes) { kernelCache.invalidateData(of: inode) } })
        eviction?.start(kernelCache)
    }

    // MARK: names → inodes

    public func lookup(parent: InodeNumber, name: FileName) throws(FilesystemError) -> Entry {
        if VirtualNodes.isVirtual(parent) { return try lookupInControlDirectory(parent, name) }
        let directory = try inodes.inode(parent)
        do {
            return try lookup(in: directory, name: name)
        } catch {
            if error == .notFound, let entry = try virtualEntry(in: directory, name) { return entry }
            throw error
        }
    }

    /// Absent names are remembered by the kernel, except those of virtual files: a sidecar appears when its
    /// file gets a status, which no create through the mount announces.
    public func negativeEntryTimeout(parent: InodeNumber, name: FileName) -> Double {
        if VirtualNodes.isVirtual(parent) { return 0 }
        if statusProvider != nil && name.hasSuffix(StatusNames.sidecarSuffix) { return 0 }
        return options.negativeEntryTimeout
    }

    /// Looks `name` up in `directory` on the backing tree and counts one kernel reference to it.
    func lookup(in directory: Inode, name: FileName) throws(FilesystemError) -> Entry {
        try name.withCString { (name) throws(FilesystemError) -> Entry in try lookup(in: directory, cName: name) }
    }

    func lookup(in directory: Inode, cName name: UnsafePointer<CChar>) throws(FilesystemError) -> Entry {
        guard strlen(name) <= Int(NAME_MAX) else { throw .nameTooLong }
        var attributes = stat()
        try SystemCall.check(fstatat(directory.descriptor, name, &attributes, AT_SYMLINK_NOFOLLOW))
        if let number = inodes.lookupExisting(
            device: UInt64(attributes.st_dev), inode: UInt64(attributes.st_ino), parent: directory.number, name: name)
        {
            return entry(number, attributes)
        }
        let descriptor = try SystemCall.descriptor(openat(directory.descriptor, name, tusfs_O_PATH | O_NOFOLLOW | O_CLOEXEC))
        do {
            attributes = try SystemCall.status(of: descriptor)
        } catch {
            close(descriptor)
            throw error
        }
        return entry(newInode(descriptor: descriptor, attributes: attributes, in: directory, name: name), attributes)
    }

    /// Counts a kernel reference to the file just created as `name` in `directory` and open as `descriptor`.
    /// The open file's own status stands for a second look-up of the name: the kernel holds the directory's
    /// lock throughout a create, so nothing renames or removes the name in between.
    func lookup(created descriptor: Int32, in directory: Inode, name: FileName) throws(FilesystemError) -> Entry {
        var attributes = stat()
        try SystemCall.check(fstat(descriptor, &attributes))
        return try name.withCString { (name) throws(FilesystemError) -> Entry in
            if let number = inodes.lookupExisting(
                device: UInt64(attributes.st_dev), inode: UInt64(attributes.st_ino), parent: directory.number, name: name)
            {
                return entry(number, attributes)
            }
            let pathDescriptor = try SystemCall.descriptor(openat(directory.descriptor, name, tusfs_O_PATH | O_NOFOLLOW | O_CLOEXEC))
            return entry(newInode(descriptor: pathDescriptor, attributes: attributes, in: directory, name: name), attributes)
        }
    }

    /// Counts a kernel reference to a backing file the table may not know yet, and keeps the descriptors the
    /// table holds within `options.maxCachedInodes` (see `InodeEviction`).
    private func newInode(descriptor: Int32, attributes: stat, in directory: Inode, name: UnsafePointer<CChar>) -> InodeNumber {
        let number = inodes.insertOrLookup(descriptor: descriptor, attributes: attributes, parent: directory.number, name: name)
        eviction?.inodeAdded(count: inodes.count)
        return number
    }

    func entry(_ number: InodeNumber, _ attributes: stat) -> Entry {
        Entry(
            inode: number, attributes: presented(attributes), entryTimeout: options.entryTimeout,
            attributeTimeout: options.attributeTimeout)
    }

    /// Attributes as the mount shows them (the backing file's, with the preferred I/O size adjusted).
    func presented(_ attributes: stat) -> stat {
        var shown = attributes
        if let blockSize = options.reportedBlockSize, attributes.st_mode & S_IFMT == S_IFREG {
            shown.st_blksize = blockSize
        }
        return shown
    }

    /// Virtual status files change on their own: never cached. Backing files: `options.attributeTimeout`.
    public func attributeTimeout(of inode: InodeNumber) -> Double {
        VirtualNodes.isVirtual(inode) ? 0 : options.attributeTimeout
    }

    public func forget(_ inode: InodeNumber, lookups: UInt64) {
        if VirtualNodes.isVirtual(inode) {
            virtualNodes.forget(inode, count: lookups)
        } else {
            inodes.forget(inode, count: lookups)
        }
    }

    // MARK: attributes

    public func attributes(of inode: InodeNumber, handle: UInt64?) throws(FilesystemError) -> stat {
        if VirtualNodes.isVirtual(inode) { return try virtualAttributes(inode) }
        return presented(try SystemCall.status(of: try inodes.inode(inode).descriptor))
    }

    public func setAttributes(
        of number: InodeNumber, handle: UInt64?, changes: AttributeChanges, context: RequestContext
    ) throws(FilesystemError) -> stat {
        let inode = try inodes.inode(number)
        if let mode = changes.mode {
            guard !inode.isSymbolicLink else { throw .notSupported }
            if let handle {
                try SystemCall.check(fchmod(Int32(handle), mode & 0o7777))
            } else {
                try SystemCall.check(chmod(SystemCall.procPath(inode.descriptor), mode & 0o7777))
            }
        }
        if changes.uid != nil || changes.gid != nil {
            let uid = changes.uid ?? uid_t(bitPattern: -1)
            let gid = changes.gid ?? gid_t(bitPattern: -1)
            try SystemCall.check(fchownat(inode.descriptor, "", uid, gid, tusfs_AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        }
        if let size = changes.size {
            guard !inode.isDirectory else { throw FilesystemError(EISDIR) }
            if let handle {
                try SystemCall.check(ftruncate(Int32(handle), size))
                noteWrite(through: handle, inode: number)
            } else {
                try cacheSpace?.willChange(pathDescriptor: inode.descriptor, newSize: size, path: { path(of: inode) })
                try SystemCall.check(truncate(SystemCall.procPath(inode.descriptor), size))
                noteChangeWithoutHandle(inode)
            }
        }
        if changes.accessTime != nil || changes.modificationTime != nil {
            if let cacheSpace, changes.modificationTime != nil, changes.size == nil, inode.isRegularFile {
                // A file modified after its upload is uploaded again from the cache (at the next mount):
                // an evicted one must be whole by then.
                let attributes = try? SystemCall.status(of: inode.descriptor)
                try cacheSpace.willChange(
                    pathDescriptor: inode.descriptor, backingInode: attributes.map { UInt64($0.st_ino) },
                    newSize: attributes?.st_size ?? 0, path: { path(of: inode) })
            }
            var times = [timespec(changes.accessTime), timespec(changes.modificationTime)]
            try SystemCall.check(utimensat(inode.descriptor, "", &times, tusfs_AT_EMPTY_PATH))
        }
        return presented(try SystemCall.status(of: inode.descriptor))
    }

    // MARK: statistics and permissions

    public func statistics(_ inode: InodeNumber) throws(FilesystemError) -> FilesystemStatistics {
        var statistics = statvfs()
        let descriptor = VirtualNodes.isVirtual(inode) ? inodes.root.descriptor : try inodes.inode(inode).descriptor
        try SystemCall.check(fstatvfs(descriptor, &statistics))
        return statistics
    }

    public func checkAccess(_ number: InodeNumber, mask: Int32, context: RequestContext) throws(FilesystemError) {
        if VirtualNodes.isVirtual(number) {
            if mask & W_OK != 0 { throw FilesystemError(EACCES) }
            return
        }
        let attributes = try SystemCall.status(of: try inodes.inode(number).descriptor)
        guard mask != F_OK, context.uid != 0 else { return }
        let mode = attributes.st_mode
        let granted: mode_t
        if context.uid == attributes.st_uid {
            granted = (mode >> 6) & 7
        } else if context.gid == attributes.st_gid {
            granted = (mode >> 3) & 7
        } else {
            granted = mode & 7
        }
        if mode_t(mask) & ~granted & 7 != 0 { throw FilesystemError(EACCES) }
    }
}

extension timespec {
    /// UTIME_OMIT for nil, UTIME_NOW for `.now`.
    init(_ change: AttributeChanges.TimeChange?) {
        switch change {
        case nil: self.init(tv_sec: 0, tv_nsec: tusfs_UTIME_OMIT)
        case .now: self.init(tv_sec: 0, tv_nsec: tusfs_UTIME_NOW)
        case .at(let time): self = time
        }
    }
}
