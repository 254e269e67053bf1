import CLinux
import FUSEAdapter
#if canImport(Glibc)
import Glibc
#endif

// Creating, linking, renaming and removing names in the backing tree.
extension MirrorFilesystem {
    public func makeNode(parent: InodeNumber, name: String, mode: mode_t, device: dev_t, context: RequestContext)
        throws(FilesystemError) -> Entry
    {
        // Regular files only: fifos, sockets and devices have no meaning for an upload bridge.
        guard mode & S_IFMT == S_IFREG else { throw .notPermitted }
        let directory = try inodes.inode(parent)
        let descriptor = try SystemCall.descriptor(
            tusfs_openat(directory.descriptor, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode & 0o7777))
        close(descriptor)
        try giveToCaller(directory, name, context)
        return try lookup(in: directory, name: name)
    }

    public func makeDirectory(parent: InodeNumber, name: String, mode: mode_t, context: RequestContext)
        throws(FilesystemError) -> Entry
    {
        let directory = try inodes.inode(parent)
        try SystemCall.check(mkdirat(directory.descriptor, name, mode & 0o7777))
        try giveToCaller(directory, name, context)
        return try lookup(in: directory, name: name)
    }

    public func makeSymbolicLink(target: String, parent: InodeNumber, name: String, context: RequestContext)
        throws(FilesystemError) -> Entry
    {
        let directory = try inodes.inode(parent)
        try SystemCall.check(symlinkat(target, directory.descriptor, name))
        try giveToCaller(directory, name, context)
        return try lookup(in: directory, name: name)
    }

    public func makeHardLink(_ number: InodeNumber, newParent: InodeNumber, newName: String) throws(FilesystemError)
        -> Entry
    {
        let inode = try inodes.inode(number)
        let directory = try inodes.inode(newParent)
        guard !inode.isDirectory else { throw .notPermitted }
        try SystemCall.check(linkat(inode.descriptor, "", directory.descriptor, newName, tusfs_AT_EMPTY_PATH))
        return try lookup(in: directory, name: newName)
    }

    public func readLink(_ number: InodeNumber) throws(FilesystemError) -> String {
        let inode = try inodes.inode(number)
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlinkat(inode.descriptor, "", &buffer, buffer.count - 1)
        guard length >= 0 else { throw FilesystemError.lastSystemCall }
        return String(decoding: buffer[..<length], as: UTF8.self)
    }

    public func removeFile(parent: InodeNumber, name: String) throws(FilesystemError) {
        try SystemCall.check(unlinkat(try inodes.inode(parent).descriptor, name, 0))
    }

    public func removeDirectory(parent: InodeNumber, name: String) throws(FilesystemError) {
        try SystemCall.check(unlinkat(try inodes.inode(parent).descriptor, name, AT_REMOVEDIR))
    }

    /// `flags` are renameat2's: 0, tusfs_RENAME_NOREPLACE or tusfs_RENAME_EXCHANGE (RENAME_WHITEOUT is refused).
    public func rename(parent: InodeNumber, name: String, newParent: InodeNumber, newName: String, flags: UInt32)
        throws(FilesystemError)
    {
        guard flags & ~(tusfs_RENAME_NOREPLACE | tusfs_RENAME_EXCHANGE) == 0 else { throw .invalid }
        let from = try inodes.inode(parent)
        let to = try inodes.inode(newParent)
        try SystemCall.check(renameat2(from.descriptor, name, to.descriptor, newName, flags))
    }

    /// When the daemon runs as root, a new file belongs to the calling process, as on a local disk
    /// (the group stays the directory's when it is set-group-ID).
    func giveToCaller(_ directory: Inode, _ name: String, _ context: RequestContext) throws(FilesystemError) {
        guard runningAsRoot, context.uid != 0 || context.gid != 0 else { return }
        let parentAttributes = try SystemCall.status(of: directory.descriptor)
        let gid = parentAttributes.st_mode & S_ISGID != 0 ? gid_t(bitPattern: -1) : context.gid
        if fchownat(directory.descriptor, name, context.uid, gid, AT_SYMLINK_NOFOLLOW) != 0 {
            let error = FilesystemError.lastSystemCall
            _ = unlinkat(directory.descriptor, name, 0)
            _ = unlinkat(directory.descriptor, name, AT_REMOVEDIR)
            throw error
        }
    }
}
