import CLinux
import FUSEAdapter
#if canImport(Glibc)
import Glibc
#endif

// Creating, linking, renaming and removing names in the backing tree.
extension MirrorFilesystem {
    /// A regular file (reported to the observer as a new empty file), or a special file kept in the cache as
    /// what it is: a FIFO or a socket, or a character or block device where the daemon may create one (as
    /// root; elsewhere EPERM, as on any disk). Special files are never reported: nothing to upload.
    public func makeNode(parent: InodeNumber, name: FileName, mode: mode_t, device: dev_t, context: RequestContext)
        throws(FilesystemError) -> Entry
    {
        let directory = try inodes.inode(parent)
        try refuseReservedName(name, in: directory)
        switch mode & S_IFMT {
        case S_IFREG:
            let descriptor = try SystemCall.descriptor(name.withCString {
                tusfs_openat(directory.descriptor, $0, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode & 0o7777)
            })
            close(descriptor)
        case S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK:
            try SystemCall.check(name.withCString { mknodat(directory.descriptor, $0, mode & (S_IFMT | 0o7777), device) })
        default:
            throw .invalid
        }
        try giveToCaller(directory, name, context)
        var entry = try lookup(in: directory, name: name)
        try giveRequestedMode(mode, to: &entry)
        if observer != nil, mode & S_IFMT == S_IFREG, let inode = try? inodes.inode(entry.inode) {
            noteChangeWithoutHandle(inode)
        }
        return entry
    }

    public func makeDirectory(parent: InodeNumber, name: FileName, mode: mode_t, context: RequestContext)
        throws(FilesystemError) -> Entry
    {
        let directory = try inodes.inode(parent)
        try refuseReservedName(name, in: directory)
        try inEventOrder { () throws(FilesystemError) in
            try SystemCall.check(name.withCString { mkdirat(directory.descriptor, $0, mode & 0o7777) })
            if let observer, let path = path(in: directory, name) { observer.directoryCreated(path) }
        }
        try giveToCaller(directory, name, context)
        var entry = try lookup(in: directory, name: name)
        try giveRequestedMode(mode, to: &entry)
        return entry
    }

    public func makeSymbolicLink(target: FileName, parent: InodeNumber, name: FileName, context: RequestContext)
        throws(FilesystemError) -> Entry
    {
        let directory = try inodes.inode(parent)
        try refuseReservedName(name, in: directory)
        try SystemCall.check(target.withCString { target in name.withCString { symlinkat(target, directory.descriptor, $0) } })
        try giveToCaller(directory, name, context)
        return try lookup(in: directory, name: name)
    }

    public func makeHardLink(_ number: InodeNumber, newParent: InodeNumber, newName: FileName) throws(FilesystemError)
        -> Entry
    {
        let inode = try inodes.inode(number)
        let directory = try inodes.inode(newParent)
        guard !inode.isDirectory else { throw .notPermitted }
        try refuseReservedName(newName, in: directory)
        try inEventOrder { () throws(FilesystemError) in
            try SystemCall.check(newName.withCString { linkat(inode.descriptor, "", directory.descriptor, $0, tusfs_AT_EMPTY_PATH) })
            // A new name for existing contents is a new file to the service (special files stay local).
            if let observer, inode.isRegularFile, let path = path(in: directory, newName),
                let attributes = try? SystemCall.status(of: inode.descriptor)
            {
                observer.fileWritten(path)
                observer.fileClosed(path, size: Int64(attributes.st_size))
            }
        }
        return try lookup(in: directory, name: newName)
    }

    public func readLink(_ number: InodeNumber) throws(FilesystemError) -> FileName {
        let inode = try inodes.inode(number)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlinkat(inode.descriptor, "", &buffer, buffer.count - 1)
        guard length >= 0 else { throw FilesystemError.lastSystemCall }
        buffer[length] = 0
        return FileName(cString: buffer)
    }

    public func removeFile(parent: InodeNumber, name: FileName) throws(FilesystemError) {
        let directory = try inodes.inode(parent)
        try inEventOrder { () throws(FilesystemError) in
            let path = observer == nil ? nil : self.path(in: directory, name)
            try SystemCall.check(name.withCString { unlinkat(directory.descriptor, $0, 0) })
            if let observer, let path { observer.removed(path, isDirectory: false) }
        }
    }

    public func removeDirectory(parent: InodeNumber, name: FileName) throws(FilesystemError) {
        let directory = try inodes.inode(parent)
        try inEventOrder { () throws(FilesystemError) in
            let path = observer == nil ? nil : self.path(in: directory, name)
            try SystemCall.check(name.withCString { unlinkat(directory.descriptor, $0, AT_REMOVEDIR) })
            if let observer, let path { observer.removed(path, isDirectory: true) }
        }
    }

    /// `flags` are renameat2's: 0, tusfs_RENAME_NOREPLACE or tusfs_RENAME_EXCHANGE (RENAME_WHITEOUT is refused).
    public func rename(parent: InodeNumber, name: FileName, newParent: InodeNumber, newName: FileName, flags: UInt32)
        throws(FilesystemError)
    {
        guard flags & ~(tusfs_RENAME_NOREPLACE | tusfs_RENAME_EXCHANGE) == 0 else { throw .invalid }
        let from = try inodes.inode(parent)
        let to = try inodes.inode(newParent)
        try refuseReservedName(newName, in: to)
        try inEventOrder { () throws(FilesystemError) in
            let paths = observer == nil ? nil : (path(in: from, name), path(in: to, newName))
            try SystemCall.check(name.withCString { old in
                newName.withCString { renameat2(from.descriptor, old, to.descriptor, $0, flags) }
            })
            noteNewNames(from, name, to, newName, exchanged: flags & tusfs_RENAME_EXCHANGE != 0)
            guard let observer, let (old, new) = paths, let old, let new else { return }
            if flags & tusfs_RENAME_EXCHANGE != 0 {
                observer.exchanged(old, new)
            } else {
                var attributes = stat()
                let isDirectory = newName.withCString { fstatat(to.descriptor, $0, &attributes, AT_SYMLINK_NOFOLLOW) } == 0
                    && attributes.st_mode & S_IFMT == S_IFDIR
                observer.renamed(from: old, to: new, isDirectory: isDirectory)
            }
        }
    }

    /// When the daemon runs as root, a new file belongs to the calling process, as on a local disk
    /// (the group stays the directory's when it is set-group-ID).
    func giveToCaller(_ directory: Inode, _ name: FileName, _ context: RequestContext) throws(FilesystemError) {
        guard runningAsRoot, context.uid != 0 || context.gid != 0 else { return }
        let parentAttributes = try SystemCall.status(of: directory.descriptor)
        let gid = parentAttributes.st_mode & S_ISGID != 0 ? gid_t(bitPattern: -1) : context.gid
        try name.withCString { (name) throws(FilesystemError) in
            if fchownat(directory.descriptor, name, context.uid, gid, AT_SYMLINK_NOFOLLOW) != 0 {
                let error = FilesystemError.lastSystemCall
                _ = unlinkat(directory.descriptor, name, 0)
                _ = unlinkat(directory.descriptor, name, AT_REMOVEDIR)
                throw error
            }
        }
    }

    /// Whether a new file may lack bits of the `mode` the kernel asked for: the daemon's own umask took some,
    /// or the chown to the caller cleared the set-user-ID and set-group-ID bits.
    func mayLackRequestedBits(_ mode: mode_t) -> Bool {
        mode & 0o7777 & (daemonUmask | S_ISUID | S_ISGID) != 0
    }

    /// Gives a new file (or directory) the permission bits the kernel asked for: these already went through
    /// the caller's umask, so the daemon's must not narrow them again (`mkdir -m 777` makes 0777, as on a
    /// local disk). A directory keeps the set-group-ID bit it inherited, as `mkdir` does.
    func giveRequestedMode(_ mode: mode_t, to entry: inout Entry) throws(FilesystemError) {
        guard mayLackRequestedBits(mode) else { return }
        let current = entry.attributes.st_mode
        let wanted = current & S_IFMT == S_IFDIR ? (current & 0o7000) | (mode & 0o777) : mode & 0o7777
        guard current & 0o7777 != wanted else { return }
        let inode = try inodes.inode(entry.inode)
        try SystemCall.check(chmod(SystemCall.procPath(inode.descriptor), wanted))
        entry.attributes.st_mode = (current & S_IFMT) | wanted
    }

    /// The kernel moved its entries along with the rename: the inode table follows, so that the inodes stay
    /// reachable by the name the kernel knows them by (`InodeEviction` invalidates by name).
    private func noteNewNames(_ from: Inode, _ name: FileName, _ to: Inode, _ newName: FileName, exchanged: Bool) {
        guard eviction != nil else { return }
        var names = [(to, newName)]
        if exchanged { names.append((from, name)) }
        for (directory, name) in names {
            var attributes = stat()
            guard name.withCString({ fstatat(directory.descriptor, $0, &attributes, AT_SYMLINK_NOFOLLOW) }) == 0 else { continue }
            inodes.renamed(device: UInt64(attributes.st_dev), inode: UInt64(attributes.st_ino), parent: directory.number, name: name)
        }
    }
}
