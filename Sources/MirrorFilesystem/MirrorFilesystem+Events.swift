import FUSEAdapter
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

// Reporting changes to the observer, with mount-relative paths.
extension MirrorFilesystem {
    /// Runs `body` under `eventOrder` when there is an observer.
    func inEventOrder<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        guard observer != nil else { return try body() }
        eventOrder.lock()
        defer { eventOrder.unlock() }
        return try body()
    }

    /// The mount-relative path of an inode now (nil for the root, or when it has no name left).
    func path(of inode: Inode) -> String? {
        guard inode.number != 1 else { return "" }
        // On the stack: this runs twice for every file written (create and release).
        // The link's bytes, decoded with `PathBytes` so that a name that is not UTF-8 keeps its bytes.
        let full = withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(PATH_MAX) + 1) { buffer -> String? in
            let length = readlink(SystemCall.procPath(inode.descriptor), buffer.baseAddress!, buffer.count - 1)
            guard length > 0 else { return nil }
            return PathBytes.string(from: UnsafeRawBufferPointer(start: buffer.baseAddress, count: length))
        }
        guard let full, full.hasPrefix(root + "/") else { return nil }
        let relative = String(full.dropFirst(root.count + 1))
        // The kernel appends " (deleted)" to the link of a name that was removed; a name that really ends so
        // is one that still leads to this very file (checked after reading the link).
        if full.hasSuffix(" (deleted)") {
            var own = stat(), named = stat()
            let found = (PathBytes.bytes(of: relative) + [0]).withUnsafeBufferPointer { name in
                name.withMemoryRebound(to: CChar.self) {
                    fstatat(inodes.root.descriptor, $0.baseAddress!, &named, AT_SYMLINK_NOFOLLOW) == 0
                }
            }
            guard fstat(inode.descriptor, &own) == 0, own.st_nlink > 0, found,
                own.st_dev == named.st_dev, own.st_ino == named.st_ino
            else { return nil }
        }
        return relative
    }

    /// The mount-relative path of `name` in `directory`.
    func path(in directory: Inode, _ name: FileName) -> String? {
        guard let parent = path(of: directory) else { return nil }
        let text = PathBytes.string(from: name.bytes)
        return parent.isEmpty ? text : parent + "/" + text
    }

    /// A handle that may write was opened; `created` when the file is new (its empty contents count as a change).
    func trackWriter(_ handle: UInt64, of inode: Inode, flags: Int32, created: Bool) {
        guard let observer, created || flags & O_ACCMODE != O_RDONLY else { return }
        // A new file counts as written anyway: only an existing one needs the snapshot to compare at release.
        var snapshot: WriterTable.Snapshot?
        var attributes = stat()
        if !created, fstat(Int32(truncatingIfNeeded: handle), &attributes) == 0 {
            snapshot = WriterTable.Snapshot(modified: attributes.st_mtim, size: Int64(attributes.st_size))
        }
        writers.opened(handle, of: inode.number, snapshot: snapshot)
        guard created && writers.wrote(through: handle) else { return }
        inEventOrder { if let path = path(of: inode) { observer.fileWritten(path) } }
    }

    func noteWrite(through handle: UInt64, inode number: InodeNumber) {
        guard let observer, writers.wrote(through: handle) else { return }
        guard let inode = try? inodes.inode(number) else { return }
        inEventOrder { if let path = path(of: inode) { observer.fileWritten(path) } }
    }

    /// Called before the handle's descriptor is closed. A file written through FUSE passthrough (the kernel
    /// wrote the backing file itself) is recognised by its changed modification time or size.
    func noteRelease(_ handle: UInt64) {
        guard let observer, let release = writers.released(handle), release.wasLastWriter else { return }
        var attributes = stat()
        guard fstat(Int32(handle), &attributes) == 0 else { return }
        let now = WriterTable.Snapshot(modified: attributes.st_mtim, size: Int64(attributes.st_size))
        let changed = release.written || release.snapshot.map { $0 != now } ?? false
        guard changed, let inode = try? inodes.inode(release.inode) else { return }
        inEventOrder {
            guard let path = path(of: inode) else { return }
            if !release.reported { observer.fileWritten(path) }
            observer.fileClosed(path, size: now.size)
        }
    }

    /// Contents changed by path (truncate, a new hard link or node): written, and closed if nobody writes.
    func noteChangeWithoutHandle(_ inode: Inode) {
        guard let observer else { return }
        inEventOrder {
            guard let path = path(of: inode) else { return }
            let (first, complete) = writers.changedWithoutHandle(inode.number)
            if first { observer.fileWritten(path) }
            if complete, let attributes = try? SystemCall.status(of: inode.descriptor) {
                observer.fileClosed(path, size: Int64(attributes.st_size))
            }
        }
    }
}
