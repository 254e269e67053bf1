import CFuse
#if canImport(Glibc)
import Glibc
#endif

// The low-level callbacks of names and attributes: lookup, forget, attributes, links, nodes, renames, access,
// statfs. Free closures outside any actor; see LowLevelOperations.swift.

func addNamespaceOperations(to ops: inout fuse_lowlevel_ops) {
    ops.lookup = { req, parent, namePointer in
        serve(req, "lookup") { session in
            let fs = session.filesystem
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
    }
    ops.forget = { req, ino, nlookup in
        serve(req, "forget") { session in
            session.filesystem.forget(ino, lookups: nlookup)
            fuse_reply_none(req)
        }
    }
    ops.forget_multi = { req, count, forgets in
        serve(req, "forget_multi") { session in
            for index in 0..<count {
                let item = forgets![index]
                session.filesystem.forget(item.ino, lookups: item.nlookup)
            }
            fuse_reply_none(req)
        }
    }
    ops.getattr = { req, ino, fi in
        answer(req, "getattr") { session throws(FilesystemError) in
            var attributes = try session.filesystem.attributes(of: ino, handle: fi.map { $0.pointee.fh })
            fuse_reply_attr(req, &attributes, session.filesystem.attributeTimeout(of: ino))
        }
    }
    ops.setattr = { req, ino, attr, toSet, fi in
        answer(req, "setattr") { session throws(FilesystemError) in
            let changes = attributeChanges(attr!.pointee, toSet)
            var attributes = try session.filesystem.setAttributes(
                of: ino, handle: fi.map { $0.pointee.fh }, changes: changes, context: caller(req))
            fuse_reply_attr(req, &attributes, session.filesystem.attributeTimeout(of: ino))
        }
    }
    ops.readlink = { req, ino in
        answer(req, "readlink") { session throws(FilesystemError) in
            let target = try session.filesystem.readLink(ino)
            target.withCString { _ = fuse_reply_readlink(req, $0) }
        }
    }
    ops.mknod = { req, parent, namePointer, mode, rdev in
        answer(req, "mknod") { session throws(FilesystemError) in
            replyEntry(req, try session.filesystem.makeNode(
                parent: parent, name: name(namePointer), mode: mode, device: rdev, context: caller(req)))
        }
    }
    ops.mkdir = { req, parent, namePointer, mode in
        answer(req, "mkdir") { session throws(FilesystemError) in
            replyEntry(req, try session.filesystem.makeDirectory(
                parent: parent, name: name(namePointer), mode: mode, context: caller(req)))
        }
    }
    ops.unlink = { req, parent, namePointer in
        answer(req, "unlink") { session throws(FilesystemError) in
            try session.filesystem.removeFile(parent: parent, name: name(namePointer))
            fuse_reply_err(req, 0)
        }
    }
    ops.rmdir = { req, parent, namePointer in
        answer(req, "rmdir") { session throws(FilesystemError) in
            try session.filesystem.removeDirectory(parent: parent, name: name(namePointer))
            fuse_reply_err(req, 0)
        }
    }
    ops.symlink = { req, link, parent, namePointer in
        answer(req, "symlink") { session throws(FilesystemError) in
            replyEntry(req, try session.filesystem.makeSymbolicLink(
                target: name(link), parent: parent, name: name(namePointer), context: caller(req)))
        }
    }
    ops.rename = { req, parent, namePointer, newParent, newNamePointer, flags in
        answer(req, "rename") { session throws(FilesystemError) in
            try session.filesystem.rename(
                parent: parent, name: name(namePointer), newParent: newParent, newName: name(newNamePointer),
                flags: flags)
            fuse_reply_err(req, 0)
        }
    }
    ops.link = { req, ino, newParent, newNamePointer in
        answer(req, "link") { session throws(FilesystemError) in
            replyEntry(req, try session.filesystem.makeHardLink(ino, newParent: newParent, newName: name(newNamePointer)))
        }
    }
    ops.statfs = { req, ino in
        answer(req, "statfs") { session throws(FilesystemError) in
            var statistics = try session.filesystem.statistics(ino)
            fuse_reply_statfs(req, &statistics)
        }
    }
    ops.access = { req, ino, mask in
        answer(req, "access") { session throws(FilesystemError) in
            try session.filesystem.checkAccess(ino, mask: mask, context: caller(req))
            fuse_reply_err(req, 0)
        }
    }
}

/// The changes a `setattr` asks for, from the bits of `toSet`.
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
