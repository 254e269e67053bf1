import CFuse
#if canImport(Glibc)
import Glibc
#endif

// The libfuse3 low-level callbacks. Each one copies what it needs out of its C arguments, calls the
// `Filesystem`, and replies exactly once. They are defined here, in a non-main file and outside any actor,
// because libfuse calls them on its own worker threads (see shared/SWIFT-FUSE.md).

/// What the callbacks find behind `fuse_req_userdata`: the filesystem and the connection settings.
final class SessionContext: Sendable {
    let filesystem: any Filesystem
    let settings: ConnectionSettings
    let passthrough: Passthrough
    /// Request durations, when the mount reports metrics.
    let operationTimers: OperationTimers?

    init(filesystem: any Filesystem, settings: ConnectionSettings) {
        self.filesystem = filesystem
        self.settings = settings
        passthrough = Passthrough(enabled: settings.passthrough)
        operationTimers = settings.recordsOperationTimes ? OperationTimers(operations: OperationTimers.operations) : nil
    }
}

@inline(__always)
private func context(_ req: fuse_req_t?) -> SessionContext {
    Unmanaged<SessionContext>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
}

@inline(__always)
private func caller(_ req: fuse_req_t?) -> RequestContext {
    let ctx = fuse_req_ctx(req)!.pointee
    return RequestContext(uid: ctx.uid, gid: ctx.gid, pid: ctx.pid, umask: ctx.umask)
}

@inline(__always)
private func name(_ pointer: UnsafePointer<CChar>?) -> FileName { FileName(cString: pointer!) }

/// Extended attribute names are ASCII in practice (`user.xyz`).
@inline(__always)
private func attributeName(_ pointer: UnsafePointer<CChar>?) -> String { String(cString: pointer!) }

/// Builds the table of callbacks handed to `fuse_session_new`.
func makeLowLevelOperations() -> fuse_lowlevel_ops {
    var ops = fuse_lowlevel_ops()

    ops.`init` = { userdata, conn in
        let session = Unmanaged<SessionContext>.fromOpaque(userdata!).takeUnretainedValue()
        session.settings.apply(to: conn!)
    }
    ops.destroy = { _ in }

    ops.lookup = { req, parent, namePointer in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("lookup", since: started) } }
        let fs = context(req).filesystem
        let wanted = name(namePointer)
        do throws(FilesystemError) {
            replyEntry(req, try fs.lookup(parent: parent, name: wanted))
        } catch {
            // An absent name answered as inode 0 with a timeout is a negative entry the kernel keeps.
            let timeout = error.errno == ENOENT ? fs.negativeEntryTimeout(parent: parent, name: wanted) : 0
            if timeout > 0 {
                var param = fuse_entry_param()
                param.entry_timeout = timeout
                fuse_reply_entry(req, &param)
            } else {
                replyError(req, error)
            }
        }
    }
    ops.forget = { req, ino, nlookup in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("forget", since: started) } }
        context(req).filesystem.forget(ino, lookups: nlookup)
        fuse_reply_none(req)
    }
    ops.forget_multi = { req, count, forgets in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("forget_multi", since: started) } }
        let fs = context(req).filesystem
        for index in 0..<count {
            let item = forgets![index]
            fs.forget(item.ino, lookups: item.nlookup)
        }
        fuse_reply_none(req)
    }
    ops.getattr = { req, ino, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("getattr", since: started) } }
        do throws(FilesystemError) {
            let session = context(req)
            var attributes = try session.filesystem.attributes(of: ino, handle: fi.map { $0.pointee.fh })
            fuse_reply_attr(req, &attributes, session.filesystem.attributeTimeout(of: ino))
        } catch { replyError(req, error) }
    }
    ops.setattr = { req, ino, attr, toSet, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("setattr", since: started) } }
        let changes = attributeChanges(attr!.pointee, toSet)
        do throws(FilesystemError) {
            let session = context(req)
            var attributes = try session.filesystem.setAttributes(
                of: ino, handle: fi.map { $0.pointee.fh }, changes: changes, context: caller(req))
            fuse_reply_attr(req, &attributes, session.filesystem.attributeTimeout(of: ino))
        } catch { replyError(req, error) }
    }
    ops.readlink = { req, ino in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("readlink", since: started) } }
        do throws(FilesystemError) {
            let target = try context(req).filesystem.readLink(ino)
            target.withCString { _ = fuse_reply_readlink(req, $0) }
        } catch { replyError(req, error) }
    }
    ops.mknod = { req, parent, namePointer, mode, rdev in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("mknod", since: started) } }
        do throws(FilesystemError) {
            replyEntry(req, try context(req).filesystem.makeNode(
                parent: parent, name: name(namePointer), mode: mode, device: rdev, context: caller(req)))
        } catch { replyError(req, error) }
    }
    ops.mkdir = { req, parent, namePointer, mode in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("mkdir", since: started) } }
        do throws(FilesystemError) {
            replyEntry(req, try context(req).filesystem.makeDirectory(
                parent: parent, name: name(namePointer), mode: mode, context: caller(req)))
        } catch { replyError(req, error) }
    }
    ops.unlink = { req, parent, namePointer in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("unlink", since: started) } }
        do throws(FilesystemError) {
            try context(req).filesystem.removeFile(parent: parent, name: name(namePointer))
            fuse_reply_err(req, 0)
        } catch { replyError(req, error) }
    }
    ops.rmdir = { req, parent, namePointer in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("rmdir", since: started) } }
        do throws(FilesystemError) {
            try context(req).filesystem.removeDirectory(parent: parent, name: name(namePointer))
            fuse_reply_err(req, 0)
        } catch { replyError(req, error) }
    }
    ops.symlink = { req, link, parent, namePointer in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("symlink", since: started) } }
        do throws(FilesystemError) {
            replyEntry(req, try context(req).filesystem.makeSymbolicLink(
                target: name(link), parent: parent, name: name(namePointer), context: caller(req)))
        } catch { replyError(req, error) }
    }
    ops.rename = { req, parent, namePointer, newParent, newNamePointer, flags in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("rename", since: started) } }
        do throws(FilesystemError) {
            try context(req).filesystem.rename(
                parent: parent, name: name(namePointer), newParent: newParent, newName: name(newNamePointer),
                flags: flags)
            fuse_reply_err(req, 0)
        } catch { replyError(req, error) }
    }
    ops.link = { req, ino, newParent, newNamePointer in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("link", since: started) } }
        do throws(FilesystemError) {
            replyEntry(req, try context(req).filesystem.makeHardLink(
                ino, newParent: newParent, newName: name(newNamePointer)))
        } catch { replyError(req, error) }
    }
    ops.open = { req, ino, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("open", since: started) } }
        do throws(FilesystemError) {
            let session = context(req)
            let opened = try session.filesystem.open(ino, flags: fi!.pointee.flags, context: caller(req))
            fill(fi!, with: opened)
            let passedThrough = opened.passthrough && session.passthrough.prepare(handle: opened.handle, inode: ino)
            if fuse_reply_open(req, fi) == -ENOENT {
                // The caller was interrupted before it got the handle: nobody will release it.
                if passedThrough { session.passthrough.cancel(handle: opened.handle) }
                session.filesystem.release(ino, handle: opened.handle, flags: fi!.pointee.flags)
            }
        } catch { replyError(req, error) }
    }
    ops.create = { req, parent, namePointer, mode, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("create", since: started) } }
        do throws(FilesystemError) {
            let session = context(req)
            let fs = session.filesystem
            let (entry, opened) = try fs.create(
                parent: parent, name: name(namePointer), mode: mode, flags: fi!.pointee.flags, context: caller(req))
            fill(fi!, with: opened)
            let passedThrough = opened.passthrough && session.passthrough.prepare(handle: opened.handle, inode: entry.inode)
            var param = entryParameter(entry)
            if fuse_reply_create(req, &param, fi) == -ENOENT {
                if passedThrough { session.passthrough.cancel(handle: opened.handle) }
                fs.release(entry.inode, handle: opened.handle, flags: fi!.pointee.flags)
                fs.forget(entry.inode, lookups: 1)
            }
        } catch { replyError(req, error) }
    }
    ops.read = { req, ino, size, offset, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("read", since: started) } }
        do throws(FilesystemError) {
            switch try context(req).filesystem.read(ino, handle: fi!.pointee.fh, offset: offset, size: size) {
            case .bytes(let bytes):
                bytes.withUnsafeBufferPointer { buffer in
                    _ = buffer.withMemoryRebound(to: CChar.self) { fuse_reply_buf(req, $0.baseAddress, $0.count) }
                }
            case let .fileRegion(descriptor, regionOffset, regionSize):
                _ = tusfs_reply_fd_data(req, descriptor, regionSize, regionOffset)
            }
        } catch { replyError(req, error) }
    }
    ops.write_buf = { req, ino, bufv, offset, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("write_buf", since: started) } }
        do throws(FilesystemError) {
            let written = try context(req).filesystem.write(
                ino, handle: fi!.pointee.fh, offset: offset, data: KernelWriteData(vector: bufv!))
            fuse_reply_write(req, written)
        } catch { replyError(req, error) }
    }
    ops.flush = { req, ino, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("flush", since: started) } }
        do throws(FilesystemError) {
            try context(req).filesystem.flush(ino, handle: fi!.pointee.fh)
            fuse_reply_err(req, 0)
        } catch { replyError(req, error) }
    }
    ops.release = { req, ino, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("release", since: started) } }
        let session = context(req)
        session.passthrough.released(handle: fi!.pointee.fh)
        session.filesystem.release(ino, handle: fi!.pointee.fh, flags: fi!.pointee.flags)
        fuse_reply_err(req, 0)
    }
    ops.fsync = { req, ino, datasync, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("fsync", since: started) } }
        do throws(FilesystemError) {
            try context(req).filesystem.synchronize(ino, handle: fi!.pointee.fh, dataOnly: datasync != 0)
            fuse_reply_err(req, 0)
        } catch { replyError(req, error) }
    }
    ops.opendir = { req, ino, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("opendir", since: started) } }
        do throws(FilesystemError) {
            fi!.pointee.fh = try context(req).filesystem.openDirectory(ino)
            if fuse_reply_open(req, fi) == -ENOENT {
                context(req).filesystem.releaseDirectory(ino, handle: fi!.pointee.fh)
            }
        } catch { replyError(req, error) }
    }
    ops.readdir = { req, ino, size, offset, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("readdir", since: started) } }
        readDirectory(req, ino, size, offset, fi!, plus: false)
    }
    ops.readdirplus = { req, ino, size, offset, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("readdirplus", since: started) } }
        readDirectory(req, ino, size, offset, fi!, plus: true)
    }
    ops.releasedir = { req, ino, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("releasedir", since: started) } }
        context(req).filesystem.releaseDirectory(ino, handle: fi!.pointee.fh)
        fuse_reply_err(req, 0)
    }
    ops.fsyncdir = { req, ino, datasync, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("fsyncdir", since: started) } }
        do throws(FilesystemError) {
            try context(req).filesystem.synchronizeDirectory(ino, handle: fi!.pointee.fh, dataOnly: datasync != 0)
            fuse_reply_err(req, 0)
        } catch { replyError(req, error) }
    }
    ops.statfs = { req, ino in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("statfs", since: started) } }
        do throws(FilesystemError) {
            var statistics = try context(req).filesystem.statistics(ino)
            fuse_reply_statfs(req, &statistics)
        } catch { replyError(req, error) }
    }
    ops.setxattr = { req, ino, namePointer, value, size, flags in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("setxattr", since: started) } }
        let bytes = size == 0 ? [] : Array(UnsafeRawBufferPointer(start: value, count: size))
        do throws(FilesystemError) {
            try context(req).filesystem.setExtendedAttribute(ino, name: attributeName(namePointer), value: bytes, flags: flags)
            fuse_reply_err(req, 0)
        } catch { replyError(req, error) }
    }
    ops.getxattr = { req, ino, namePointer, size in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("getxattr", since: started) } }
        do throws(FilesystemError) {
            let value = try context(req).filesystem.extendedAttribute(ino, name: attributeName(namePointer))
            replySized(req, value, limit: size)
        } catch { replyError(req, error) }
    }
    ops.listxattr = { req, ino, size in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("listxattr", since: started) } }
        do throws(FilesystemError) {
            var list: [UInt8] = []
            for attribute in try context(req).filesystem.extendedAttributeNames(ino) {
                list.append(contentsOf: attribute.utf8)
                list.append(0)
            }
            replySized(req, list, limit: size)
        } catch { replyError(req, error) }
    }
    ops.removexattr = { req, ino, namePointer in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("removexattr", since: started) } }
        do throws(FilesystemError) {
            try context(req).filesystem.removeExtendedAttribute(ino, name: attributeName(namePointer))
            fuse_reply_err(req, 0)
        } catch { replyError(req, error) }
    }
    ops.access = { req, ino, mask in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("access", since: started) } }
        do throws(FilesystemError) {
            try context(req).filesystem.checkAccess(ino, mask: mask, context: caller(req))
            fuse_reply_err(req, 0)
        } catch { replyError(req, error) }
    }
    ops.fallocate = { req, ino, mode, offset, length, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("fallocate", since: started) } }
        do throws(FilesystemError) {
            try context(req).filesystem.allocate(ino, handle: fi!.pointee.fh, mode: mode, offset: offset, length: length)
            fuse_reply_err(req, 0)
        } catch { replyError(req, error) }
    }
    ops.lseek = { req, ino, offset, whence, fi in
        let timers = context(req).operationTimers, started = timers == nil ? nil : ContinuousClock.now
        defer { if let timers, let started { timers.record("lseek", since: started) } }
        do throws(FilesystemError) {
            let position = try context(req).filesystem.seek(ino, handle: fi!.pointee.fh, offset: offset, whence: whence)
            fuse_reply_lseek(req, position)
        } catch { replyError(req, error) }
    }
    return ops
}

// MARK: replies

/// The single place where errors become errno replies.
@inline(__always)
private func replyError(_ req: fuse_req_t?, _ error: FilesystemError) {
    fuse_reply_err(req, error.errno)
}

private func entryParameter(_ entry: Entry) -> fuse_entry_param {
    var param = fuse_entry_param()
    param.ino = entry.inode
    param.generation = 0
    param.attr = entry.attributes
    param.attr_timeout = entry.attributeTimeout
    param.entry_timeout = entry.entryTimeout
    return param
}

private func replyEntry(_ req: fuse_req_t?, _ entry: Entry) {
    var param = entryParameter(entry)
    fuse_reply_entry(req, &param)
}

/// The xattr protocol: size 0 asks for the length only; a too-small buffer gets ERANGE.
private func replySized(_ req: fuse_req_t?, _ value: [UInt8], limit: Int) {
    if limit == 0 {
        fuse_reply_xattr(req, value.count)
    } else if value.count > limit {
        fuse_reply_err(req, ERANGE)
    } else {
        value.withUnsafeBufferPointer { buffer in
            _ = buffer.withMemoryRebound(to: CChar.self) { fuse_reply_buf(req, $0.baseAddress, $0.count) }
        }
    }
}

private func fill(_ fi: UnsafeMutablePointer<fuse_file_info>, with opened: OpenedFile) {
    fi.pointee.fh = opened.handle
    tusfs_fi_set_direct_io(fi, opened.directIO ? 1 : 0)
    tusfs_fi_set_keep_cache(fi, opened.keepCache ? 1 : 0)
    tusfs_fi_set_noflush(fi, opened.noFlush ? 1 : 0)
}

private func attributeChanges(_ attr: stat, _ toSet: Int32) -> AttributeChanges {
    var changes = AttributeChanges()
    if toSet & FUSE_SET_ATTR_MODE != 0 { changes.mode = attr.st_mode }
    if toSet & FUSE_SET_ATTR_UID != 0 { changes.uid = attr.st_uid }
    if toSet & FUSE_SET_ATTR_GID != 0 { changes.gid = attr.st_gid }
    if toSet & FUSE_SET_ATTR_SIZE != 0 { changes.size = attr.st_size }
    if toSet & FUSE_SET_ATTR_ATIME_NOW != 0 {
        changes.accessTime = .now
    } else if toSet & FUSE_SET_ATTR_ATIME != 0 {
        changes.accessTime = .at(attr.st_atim)
    }
    if toSet & FUSE_SET_ATTR_MTIME_NOW != 0 {
        changes.modificationTime = .now
    } else if toSet & FUSE_SET_ATTR_MTIME != 0 {
        changes.modificationTime = .at(attr.st_mtim)
    }
    return changes
}

private func readDirectory(
    _ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ offset: off_t,
    _ fi: UnsafeMutablePointer<fuse_file_info>, plus: Bool
) {
    let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
    defer { buffer.deallocate() }
    var used = 0
    do throws(FilesystemError) {
        try context(req).filesystem.readDirectory(ino, handle: fi.pointee.fh, offset: offset, plus: plus) {
            entry, full in
            let remaining = size - used
            let needed: Int
            if plus {
                var param: fuse_entry_param
                if let full {
                    param = entryParameter(full)
                } else {
                    param = fuse_entry_param()
                    param.attr.st_ino = __ino_t(entry.inode)
                    param.attr.st_mode = UInt32(entry.type) << 12
                }
                needed = fuse_add_direntry_plus(req, buffer + used, remaining, entry.name, &param, entry.nextOffset)
            } else {
                var attributes = stat()
                attributes.st_ino = __ino_t(entry.inode)
                attributes.st_mode = UInt32(entry.type) << 12
                needed = fuse_add_direntry(req, buffer + used, remaining, entry.name, &attributes, entry.nextOffset)
            }
            if needed > remaining { return false }
            used += needed
            return true
        }
        fuse_reply_buf(req, buffer, used)
    } catch {
        // Entries already in the buffer were counted as lookups; hand them over rather than fail.
        if used > 0 { fuse_reply_buf(req, buffer, used) } else { replyError(req, error) }
    }
}

/// The data of a write request, still in libfuse's buffer vector (memory or a pipe from /dev/fuse).
private struct KernelWriteData: WriteData {
    let vector: UnsafeMutablePointer<fuse_bufvec>

    var count: Int { fuse_buf_size(vector) }

    func write(to descriptor: Int32, at offset: off_t) throws(FilesystemError) -> Int {
        let written = tusfs_write_buf_to_fd(vector, descriptor, offset)
        if written < 0 { throw FilesystemError(Int32(-written)) }
        return written
    }
}
