import CLinux
import FUSEAdapter
#if canImport(Glibc)
import Glibc
#endif

// Open files: the handle given to the kernel is the backing file's own descriptor.
extension MirrorFilesystem {
    public func open(_ number: InodeNumber, flags: Int32, context: RequestContext) throws(FilesystemError)
        -> OpenedFile
    {
        if VirtualNodes.isVirtual(number) { return try openVirtual(number, flags: flags, context: context) }
        let inode = try inodes.inode(number)
        if let cacheSpace, flags & O_ACCMODE != O_RDONLY { try cacheSpace.waitForRoom() }
        let descriptor = try SystemCall.descriptor(
            Glibc.open(SystemCall.procPath(inode.descriptor), (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC))
        var passthrough = true
        if let cacheSpace {
            // An evicted file is read back; until it is whole, its reads come through the daemon and wait for
            // the data (never passthrough: the kernel would read the holes).
            do {
                passthrough = try cacheSpace.opened(
                    handle: UInt64(descriptor), flags: flags, path: { path(of: inode) }, created: false)
            } catch {
                close(descriptor)
                throw error
            }
        }
        trackWriter(UInt64(descriptor), of: inode, flags: flags, created: false)
        // Flush at close() would only repeat what the backing file already has: every write is in it.
        // Regular files are handed to the kernel when it can read and write them itself (passthrough).
        return OpenedFile(handle: UInt64(descriptor), keepCache: true, noFlush: true, passthrough: passthrough)
    }

    public func create(parent: InodeNumber, name: FileName, mode: mode_t, flags: Int32, context: RequestContext)
        throws(FilesystemError) -> (Entry, OpenedFile)
    {
        let directory = try inodes.inode(parent)
        guard name.byteCount <= Int(NAME_MAX) else { throw .nameTooLong }
        try refuseReservedName(name, in: directory)
        let nearlyFull = try cacheSpace?.waitForRoomForNewFile() ?? false
        let descriptor = try SystemCall.descriptor(name.withCString {
            tusfs_openat(directory.descriptor, $0, (flags | O_CREAT) & ~O_NOFOLLOW | O_CLOEXEC, mode & 0o7777)
        })
        do {
            try giveToCaller(directory, name, context)
            if mayLackRequestedBits(mode) { try SystemCall.check(fchmod(descriptor, mode & 0o7777)) }
            let entry = try lookup(created: descriptor, in: directory, name: name)
            if observer != nil, let inode = try? inodes.inode(entry.inode) {
                trackWriter(UInt64(descriptor), of: inode, flags: flags, created: true)
            }
            _ = try? cacheSpace?.opened(handle: UInt64(descriptor), flags: flags, path: { nil }, created: true)
            // Near a full disk, a new file's writes come through the daemon, which makes them wait for room
            // instead of failing with ENOSPC. Direct I/O, so that the kernel lets a later open of the same
            // file use passthrough (it refuses passthrough while an open file is in caching mode).
            if nearlyFull {
                return (entry, OpenedFile(handle: UInt64(descriptor), directIO: true, noFlush: true))
            }
            return (entry, OpenedFile(handle: UInt64(descriptor), noFlush: true, passthrough: true))
        } catch {
            close(descriptor)
            throw error
        }
    }

    public func read(_ inode: InodeNumber, handle: UInt64, offset: off_t, size: Int) throws(FilesystemError)
        -> ReadData
    {
        if VirtualNodes.isVirtual(handle) { return try readVirtual(handle, offset: offset, size: size) }
        try cacheSpace?.waitForData(handle: handle, offset: offset, size: size)
        return .fileRegion(descriptor: Int32(handle), offset: offset, size: size)
    }

    public func write(_ inode: InodeNumber, handle: UInt64, offset: off_t, data: some WriteData)
        throws(FilesystemError) -> Int
    {
        try cacheSpace?.waitForRoom(toWrite: data.count)
        let written: Int
        do {
            written = try data.write(to: Int32(handle), at: offset)
        } catch where error.errno == ENOSPC {
            // A full disk: make room from files the service holds at once, for the writer's next try.
            cacheSpace?.writeFailedForSpace()
            throw error
        }
        noteWrite(through: handle, inode: inode)
        return written
    }

    public func flush(_ inode: InodeNumber, handle: UInt64) throws(FilesystemError) {}

    public func release(_ inode: InodeNumber, handle: UInt64, flags: Int32) {
        if VirtualNodes.isVirtual(handle) { return virtualNodes.release(handle) }
        noteRelease(handle)
        cacheSpace?.released(handle: handle)
        close(Int32(handle))
    }

    public func synchronize(_ inode: InodeNumber, handle: UInt64, dataOnly: Bool) throws(FilesystemError) {
        try SystemCall.check(dataOnly ? fdatasync(Int32(handle)) : fsync(Int32(handle)))
    }

    public func allocate(_ inode: InodeNumber, handle: UInt64, mode: Int32, offset: off_t, length: off_t)
        throws(FilesystemError)
    {
        try SystemCall.check(fallocate(Int32(handle), mode, offset, length))
        noteWrite(through: handle, inode: inode)
    }

    public func seek(_ inode: InodeNumber, handle: UInt64, offset: off_t, whence: Int32) throws(FilesystemError)
        -> off_t
    {
        let position = lseek(Int32(handle), offset, whence)
        guard position >= 0 else { throw FilesystemError.lastSystemCall }
        return position
    }
}
