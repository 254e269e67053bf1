import CFuse
#if canImport(Glibc)
import Glibc
#endif

// The low-level callbacks of extended attributes: set, get, list, remove.
// Free closures outside any actor; see LowLevelOperations.swift.

func addExtendedAttributeOperations(to ops: inout fuse_lowlevel_ops) {
    ops.setxattr = { req, ino, namePointer, value, size, flags in
        answer(req, "setxattr") { session throws(FilesystemError) in
            let bytes = size == 0 ? [] : Array(UnsafeRawBufferPointer(start: value, count: size))
            try session.filesystem.setExtendedAttribute(ino, name: attributeName(namePointer), value: bytes, flags: flags)
            fuse_reply_err(req, 0)
        }
    }
    ops.getxattr = { req, ino, namePointer, size in
        answer(req, "getxattr") { session throws(FilesystemError) in
            let value = try session.filesystem.extendedAttribute(ino, name: attributeName(namePointer), context: caller(req))
            replySized(req, value, limit: size)
        }
    }
    ops.listxattr = { req, ino, size in
        answer(req, "listxattr") { session throws(FilesystemError) in
            var list: [UInt8] = []
            for attribute in try session.filesystem.extendedAttributeNames(ino) {
                list.append(contentsOf: attribute.utf8)
                list.append(0)
            }
            replySized(req, list, limit: size)
        }
    }
    ops.removexattr = { req, ino, namePointer in
        answer(req, "removexattr") { session throws(FilesystemError) in
            try session.filesystem.removeExtendedAttribute(ino, name: attributeName(namePointer))
            fuse_reply_err(req, 0)
        }
    }
}

/// Extended attribute names are ASCII in practice (`user.xyz`).
@inline(__always)
private func attributeName(_ pointer: UnsafePointer<CChar>?) -> String { String(cString: pointer!) }

/// The xattr protocol: size 0 asks for the length only; a too-small buffer gets ERANGE.
private func replySized(_ req: fuse_req_t?, _ value: [UInt8], limit: Int) {
    if limit == 0 {
        fuse_reply_xattr(req, value.count)
    } else if value.count > limit {
        fuse_reply_err(req, ERANGE)
    } else {
        replyBytes(req, value)
    }
}
