import CLinux
import FUSEAdapter
#if canImport(Glibc)
import Glibc
#endif

// Listing directories.
extension MirrorFilesystem {
    public func openDirectory(_ number: InodeNumber) throws(FilesystemError) -> UInt64 {
        if VirtualNodes.isVirtual(number) { return virtualNodes.open(contents: []) }
        return try DirectoryStream(inode: try inodes.inode(number)).retainedHandle()
    }

    public func readDirectory(
        _ number: InodeNumber, handle: UInt64, offset: off_t, plus: Bool, consume: (DirectoryEntry, Entry?) -> Bool
    ) throws(FilesystemError) {
        if VirtualNodes.isVirtual(handle) { return try listControlDirectory(number, offset: offset, plus: plus, consume: consume) }
        let directory = try inodes.inode(number)
        try DirectoryStream.from(handle: handle).read(from: offset) {
            (name, backingInode, type, nextOffset) throws(FilesystemError) -> Bool in
            let entry = DirectoryEntry(name: name, inode: backingInode, type: type, nextOffset: nextOffset)
            guard plus, !isDotOrDotDot(name) else { return consume(entry, nil) }
            let full: Entry
            do throws(FilesystemError) {
                full = try lookup(in: directory, cName: name)
            } catch {
                if error.errno == ENOENT { return true }  // removed since the directory was read: skip it
                throw error
            }
            if consume(entry, full) { return true }
            forget(full.inode, lookups: 1)
            return false
        }
    }

    public func releaseDirectory(_ inode: InodeNumber, handle: UInt64) {
        if VirtualNodes.isVirtual(handle) { return virtualNodes.release(handle) }
        DirectoryStream.release(handle: handle)
    }

    public func synchronizeDirectory(_ inode: InodeNumber, handle: UInt64, dataOnly: Bool) throws(FilesystemError) {
        let descriptor = try SystemCall.descriptor(
            openat(try inodes.inode(inode).descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
        defer { close(descriptor) }
        try SystemCall.check(fsync(descriptor))
    }
}

private func isDotOrDotDot(_ name: UnsafePointer<CChar>) -> Bool {
    name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0))
}
