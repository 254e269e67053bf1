import CFuse
#if canImport(Glibc)
import Glibc
#endif

// Replies shared by the low-level callbacks (see LowLevelOperations.swift).

/// The single place where errors become errno replies.
@inline(__always)
func replyError(_ req: fuse_req_t?, _ error: FilesystemError) {
    fuse_reply_err(req, error.errno)
}

/// An entry as libfuse wants it for lookup, create and readdirplus.
func entryParameter(_ entry: Entry) -> fuse_entry_param {
    var param = fuse_entry_param()
    param.ino = entry.inode
    param.generation = 0
    param.attr = entry.attributes
    param.attr_timeout = entry.attributeTimeout
    param.entry_timeout = entry.entryTimeout
    return param
}

func replyEntry(_ req: fuse_req_t?, _ entry: Entry) {
    var param = entryParameter(entry)
    fuse_reply_entry(req, &param)
}

/// Replies with `bytes` as the data of the request (a read, an extended attribute).
func replyBytes(_ req: fuse_req_t?, _ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { buffer in
        _ = buffer.withMemoryRebound(to: CChar.self) { fuse_reply_buf(req, $0.baseAddress, $0.count) }
    }
}
