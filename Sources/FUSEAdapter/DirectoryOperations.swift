import CFuse
#if canImport(Glibc)
import Glibc
#endif

// The low-level callbacks of open directories: opendir, readdir(plus), releasedir, fsyncdir.
// Free closures outside any actor; see LowLevelOperations.swift.

func addDirectoryOperations(to ops: inout fuse_lowlevel_ops) {
    ops.opendir = { req, ino, fi in
        answer(req, "opendir") { session throws(FilesystemError) in
            fi!.pointee.fh = try session.filesystem.openDirectory(ino)
            if fuse_reply_open(req, fi) == -ENOENT {
                session.filesystem.releaseDirectory(ino, handle: fi!.pointee.fh)
            }
        }
    }
    ops.readdir = { req, ino, size, offset, fi in
        serve(req, "readdir") { session in readDirectory(req, session, ino, size, offset, fi!, plus: false) }
    }
    ops.readdirplus = { req, ino, size, offset, fi in
        serve(req, "readdirplus") { session in readDirectory(req, session, ino, size, offset, fi!, plus: true) }
    }
    ops.releasedir = { req, ino, fi in
        serve(req, "releasedir") { session in
            session.filesystem.releaseDirectory(ino, handle: fi!.pointee.fh)
            fuse_reply_err(req, 0)
        }
    }
    ops.fsyncdir = { req, ino, datasync, fi in
        answer(req, "fsyncdir") { session throws(FilesystemError) in
            try session.filesystem.synchronizeDirectory(ino, handle: fi!.pointee.fh, dataOnly: datasync != 0)
            fuse_reply_err(req, 0)
        }
    }
}

/// Fills a buffer of at most `size` bytes with entries from `offset` on and replies with it.
private func readDirectory(
    _ req: fuse_req_t?, _ session: SessionContext, _ ino: fuse_ino_t, _ size: Int, _ offset: off_t,
    _ fi: UnsafeMutablePointer<fuse_file_info>, plus: Bool
) {
    let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
    defer { buffer.deallocate() }
    var used = 0
    do throws(FilesystemError) {
        try session.filesystem.readDirectory(ino, handle: fi.pointee.fh, offset: offset, plus: plus) {
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
