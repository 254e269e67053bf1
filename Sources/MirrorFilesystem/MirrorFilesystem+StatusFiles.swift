import FUSEAdapter
import Foundation
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

// The virtual status files: `NAME.tusfs.json` beside every regular file (its record) and every directory (the
// listing of the files under it), and `.tusfs/status.json` (the listing of the whole mount). They exist only
// while a status provider is set, are read-only, readable by name and never listed. Listings are produced as
// they are read (a page of the journal at a time) and show a size of 0, as files in /proc do: read them to
// the end.
//
// Who may read them (docs/SECURITY.md, "Other users of a shared mount"): a file's sidecar shows its file's
// owner, group and read bits, so it is readable exactly when its file is; listings and `user.tusfs.summary`
// (which cover files the caller may not be able to see) belong to the mount's owner and root alone. The
// kernel checks the attributes shown (the mount always has `default_permissions`), and `open` checks again.
extension MirrorFilesystem {
    /// Names the user may not create while the status surface is on (they would hide a virtual file).
    func refuseReservedName(_ name: FileName, in directory: Inode) throws(FilesystemError) {
        guard statusProvider != nil else { return }
        if name.hasSuffix(StatusNames.sidecarSuffix) { throw .notPermitted }
        if directory.number == 1 && name == FileName(StatusNames.controlDirectory) { throw .notPermitted }
    }

    /// The virtual entry `name` stands for in `directory`, if any.
    func virtualEntry(in directory: Inode, _ name: FileName) throws(FilesystemError) -> Entry? {
        guard statusProvider != nil else { return nil }
        if directory.number == 1 && name == FileName(StatusNames.controlDirectory) {
            return try virtualEntryReply(virtualNodes.lookup(.controlDirectory))
        }
        guard name.hasSuffix(StatusNames.sidecarSuffix) else { return nil }
        let file = name.dropLast(StatusNames.sidecarSuffix.utf8.count)
        var attributes = stat()
        guard file.byteCount > 0,
            file.withCString({ fstatat(directory.descriptor, $0, &attributes, AT_SYMLINK_NOFOLLOW) }) == 0,
            [S_IFREG, S_IFDIR].contains(attributes.st_mode & S_IFMT)
        else { return nil }
        return try virtualEntryReply(virtualNodes.lookup(.sidecar(parent: directory.number, file: file)))
    }

    func lookupInControlDirectory(_ parent: InodeNumber, _ name: FileName) throws(FilesystemError) -> Entry {
        guard virtualNodes.kind(of: parent) == .controlDirectory else { throw .notFound }
        guard name == FileName(StatusNames.statusDocument) else { throw .notFound }
        return try virtualEntryReply(virtualNodes.lookup(.statusDocument))
    }

    /// Virtual entries are never cached by the kernel: they come and go with the files they describe.
    private func virtualEntryReply(_ number: InodeNumber) throws(FilesystemError) -> Entry {
        Entry(inode: number, attributes: try virtualAttributes(number), entryTimeout: 0, attributeTimeout: 0)
    }

    func virtualAttributes(_ number: InodeNumber) throws(FilesystemError) -> stat {
        guard let kind = virtualNodes.kind(of: number) else { throw FilesystemError(ESTALE) }
        var attributes = try SystemCall.status(of: inodes.root.descriptor)
        let owner = try virtualOwner(kind)
        attributes.st_uid = owner.st_uid
        attributes.st_gid = owner.st_gid
        attributes.st_ino = __ino_t(number)
        attributes.st_nlink = 1
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        attributes.st_mtim = now
        attributes.st_ctim = now
        attributes.st_atim = now
        if kind == .controlDirectory {
            attributes.st_mode = S_IFDIR | 0o555
            attributes.st_nlink = 2
        } else {
            attributes.st_mode = S_IFREG | (owner.st_mode & 0o444)
            // A listing's size is known once read (0, as in /proc); a file's sidecar is small: built to tell.
            attributes.st_size = owner.st_mode & S_IFMT == S_IFREG ? off_t(try fileSidecar(kind).count) : 0
            attributes.st_blocks = (attributes.st_size + 511) / 512
        }
        return attributes
    }

    /// The contents of a virtual file, produced as they are read (`make` again starts them over).
    func virtualContents(_ kind: VirtualNodes.Kind) throws(FilesystemError) -> @Sendable () -> StreamedDocument {
        guard let statusProvider else { throw .notFound }
        switch kind {
        case .controlDirectory:
            throw FilesystemError(EISDIR)
        case .statusDocument:
            return { statusProvider.statusDocument(under: "") }
        case let .sidecar(parent, file):
            guard let directory = try? inodes.inode(parent), let path = path(in: directory, file) else { throw .notFound }
            if try virtualOwner(kind).st_mode & S_IFMT == S_IFDIR { return { statusProvider.statusDocument(under: path) } }
            let sidecar = try fileSidecar(kind)
            return { .whole(sidecar) }
        }
    }

    /// The sidecar of a regular file.
    private func fileSidecar(_ kind: VirtualNodes.Kind) throws(FilesystemError) -> [UInt8] {
        guard let statusProvider, case let .sidecar(parent, file) = kind, let directory = try? inodes.inode(parent),
            let path = path(in: directory, file), let sidecar = statusProvider.sidecar(of: path)
        else { throw .notFound }
        return sidecar
    }

    /// Whose a virtual node is, and the read bits it shows (with the type of what it describes): a file's
    /// sidecar its file's (owner, group, mode), the control directory, `status.json` and a directory's listing
    /// the mount owner's (the daemon's user), readable by that user only.
    func virtualOwner(_ kind: VirtualNodes.Kind) throws(FilesystemError) -> stat {
        var owner = stat()
        owner.st_uid = mountOwner.uid
        owner.st_gid = mountOwner.gid
        switch kind {
        case .controlDirectory, .statusDocument:
            owner.st_mode = S_IFDIR | S_IRUSR
            return owner
        case let .sidecar(parent, file):
            guard let directory = try? inodes.inode(parent) else { throw .notFound }
            var attributes = stat()
            guard file.withCString({ fstatat(directory.descriptor, $0, &attributes, AT_SYMLINK_NOFOLLOW) }) == 0 else { throw .notFound }
            switch attributes.st_mode & S_IFMT {
            case S_IFREG: return attributes
            case S_IFDIR:
                owner.st_mode = S_IFDIR | S_IRUSR
                return owner
            default: throw .notFound
            }
        }
    }

    /// Whether `context` may read what covers the whole mount (`status.json`, summaries): root and the owner.
    func mayReadMountStatus(_ context: RequestContext) -> Bool {
        context.uid == 0 || context.uid == mountOwner.uid
    }

    func openVirtual(_ number: InodeNumber, flags: Int32, context: RequestContext) throws(FilesystemError) -> OpenedFile {
        guard flags & O_ACCMODE == O_RDONLY, flags & O_TRUNC == 0 else { throw FilesystemError(EACCES) }
        guard let kind = virtualNodes.kind(of: number) else { throw FilesystemError(ESTALE) }
        switch kind {
        case .controlDirectory: break
        case .statusDocument: guard mayReadMountStatus(context) else { throw FilesystemError(EACCES) }
        case .sidecar:
            let owner = try virtualOwner(kind)
            let allowed = owner.st_mode & S_IFMT == S_IFDIR ? mayReadMountStatus(context) : context.mayRead(owner)
            guard allowed else { throw FilesystemError(EACCES) }
        }
        let handle = virtualNodes.open(document: try virtualContents(kind))
        return OpenedFile(handle: handle, directIO: true)
    }

    func readVirtual(_ handle: UInt64, offset: off_t, size: Int) throws(FilesystemError) -> ReadData {
        guard let reader = virtualNodes.reader(of: handle), offset >= 0 else { throw .badHandle }
        return .bytes(reader.read(offset: Int(offset), size: size))
    }

    /// `.tusfs/` lists its one file (it is the only place where a virtual file is listed).
    func listControlDirectory(
        _ number: InodeNumber, offset: off_t, plus: Bool, consume: (DirectoryEntry, Entry?) -> Bool
    ) throws(FilesystemError) {
        let names = [".", "..", StatusNames.statusDocument]
        for index in Int(offset)..<names.count {
            var full: Entry?
            if plus && index == 2 { full = try lookupInControlDirectory(number, FileName(names[index])) }
            let accepted = names[index].withCString { name in
                consume(DirectoryEntry(name: name, inode: index == 2 ? full?.inode ?? VirtualNodes.firstNumber - 1 : number,
                    type: UInt8(index == 2 ? DT_REG : DT_DIR), nextOffset: off_t(index + 1)), full)
            }
            if !accepted {
                if let full { virtualNodes.forget(full.inode, count: 1) }
                return
            }
        }
    }
}
