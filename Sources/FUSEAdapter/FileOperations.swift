import CFuse
#if canImport(Glibc)
import Glibc
#endif

// The low-level callbacks of open files: open, create, read, write, flush, release, fsync, fallocate, lseek.
// Free closures outside any actor; see LowLevelOperations.swift.

func addFileOperations(to ops: inout fuse_lowlevel_ops) {
    ops.open = { req, ino, fi in
        answer(req, "open") { session throws(FilesystemError) in
            let opened = try session.filesystem.open(ino, flags: fi!.pointee.flags, context: caller(req))
            fill(fi!, with: opened)
            let passedThrough = opened.passthrough && session.passthrough.prepare(handle: opened.handle, inode: ino)
            if fuse_reply_open(req, fi) == -ENOENT {
                // The caller was interrupted before it got the handle: nobody will release it.
                if passedThrough { session.passthrough.cancel(handle: opened.handle) }
                session.filesystem.release(ino, handle: opened.handle, flags: fi!.pointee.flags)
            }
        }
    }
    ops.create = { req, parent, namePointer, mode, fi in
        answer(req, "create") { session throws(FilesystemError) in
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
        }
    }
    ops.read = { req, ino, size, offset, fi in
        answer(req, "read") { session throws(FilesystemError) in
            switch try session.filesystem.read(ino, handle: fi!.pointee.fh, offset: offset, size: size) {
            case .bytes(let bytes):
                replyBytes(req, bytes)
            case let .fileRegion(descriptor, regionOffset, regionSize):
                _ = tusfs_reply_fd_data(req, descriptor, regionSize, regionOffset)
            }
        }
    }
    ops.write_buf = { req, ino, bufv, offset, fi in
        answer(req, "write_buf") { session throws(FilesystemError) in
            let written = try session.filesystem.write(
                ino, handle: fi!.pointee.fh, offset: offset, data: KernelWriteData(vector: bufv!))
            fuse_reply_write(req, written)
        }
    }
    ops.flush = { req, ino, fi in
        answer(req, "flush") { session throws(FilesystemError) in
            try session.filesystem.flush(ino, handle: fi!.pointee.fh)
            fuse_reply_err(req, 0)
        }
    }
    ops.release = { req, ino, fi in
        serve(req, "release") { session in
            session.passthrough.released(handle: fi!.pointee.fh)
            session.filesystem.release(ino, handle: fi!.pointee.fh, flags: fi!.pointee.flags)
            fuse_reply_err(req, 0)
        }
    }
    ops.fsync = { req, ino, datasync, fi in
        answer(req, "fsync") { session throws(FilesystemError) in
            try session.filesystem.synchronize(ino, handle: fi!.pointee.fh, dataOnly: datasync != 0)
            fuse_reply_err(req, 0)
        }
    }
    ops.fallocate = { req, ino, mode, offset, length, fi in
        answer(req, "fallocate") { session throws(FilesystemError) in
            try session.filesystem.allocate(ino, handle: fi!.pointee.fh, mode: mode, offset: offset, length: length)
            fuse_reply_err(req, 0)
        }
    }
    ops.lseek = { req, ino, offset, whence, fi in
        answer(req, "lseek") { session throws(FilesystemError) in
            let position = try session.filesystem.seek(ino, handle: fi!.pointee.fh, offset: offset, whence: whence)
            fuse_reply_lseek(req, position)
        }
    }
}

/// Hands an opened file's handle and caching choices to the kernel.
private func fill(_ fi: UnsafeMutablePointer<fuse_file_info>, with opened: OpenedFile) {
    fi.pointee.fh = opened.handle
    tusfs_fi_set_direct_io(fi, opened.directIO ? 1 : 0)
    tusfs_fi_set_keep_cache(fi, opened.keepCache ? 1 : 0)
    tusfs_fi_set_noflush(fi, opened.noFlush ? 1 : 0)
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
