import CFuse
#if canImport(Glibc)
import Glibc
#endif

// The libfuse3 low-level callbacks. Each one copies what it needs out of its C arguments, calls the
// `Filesystem`, and replies exactly once. They are free closures in non-main files, outside any actor, because
// libfuse calls them on its own worker threads (see docs/ARCHITECTURE.md ("Swift and libfuse: pitfalls")).
// This file assembles the table and holds what every callback uses; the callbacks themselves are grouped by
// concern: NamespaceOperations, FileOperations, DirectoryOperations, ExtendedAttributeOperations.

/// Builds the table of callbacks handed to `fuse_session_new`.
func makeLowLevelOperations() -> fuse_lowlevel_ops {
    var ops = fuse_lowlevel_ops()
    ops.`init` = { userdata, conn in
        let session = Unmanaged<SessionContext>.fromOpaque(userdata!).takeUnretainedValue()
        session.settings.apply(to: conn!)
    }
    ops.destroy = { _ in }
    addNamespaceOperations(to: &ops)
    addFileOperations(to: &ops)
    addDirectoryOperations(to: &ops)
    addExtendedAttributeOperations(to: &ops)
    return ops
}

// MARK: what every callback uses

/// Handles one request: runs `body` with the request's session and, when the mount measures operation times,
/// records how long it took under `operation`. `body` must reply; `req` is not touched after it returns (a
/// reply frees the request).
@inline(__always)
func serve(_ req: fuse_req_t?, _ operation: String, _ body: (SessionContext) -> Void) {
    let session = context(req)
    guard let timers = session.operationTimers else { return body(session) }
    let started = ContinuousClock.now
    body(session)
    timers.record(operation, since: started)
}

/// ``serve(_:_:_:)`` for a request whose failure is a `FilesystemError`, answered as its errno.
@inline(__always)
func answer(_ req: fuse_req_t?, _ operation: String, _ body: (SessionContext) throws(FilesystemError) -> Void) {
    serve(req, operation) { session in
        do throws(FilesystemError) { try body(session) } catch { replyError(req, error) }
    }
}

@inline(__always)
func context(_ req: fuse_req_t?) -> SessionContext {
    Unmanaged<SessionContext>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
}

/// Who sent the request: uid, gid, pid and umask, and a way to read its supplementary groups.
@inline(__always)
func caller(_ req: fuse_req_t?) -> RequestContext {
    let ctx = fuse_req_ctx(req)!.pointee
    let request = PendingRequest(req)
    return RequestContext(
        uid: ctx.uid, gid: ctx.gid, pid: ctx.pid, umask: ctx.umask,
        supplementaryGroups: { supplementaryGroups(of: request.req) })
}

/// A request carried into `RequestContext.supplementaryGroups`, which is called only while it is handled.
private struct PendingRequest: @unchecked Sendable {
    let req: fuse_req_t?
    init(_ req: fuse_req_t?) { self.req = req }
}

/// The supplementary groups of the process that sent `req` (empty when the kernel's answer cannot be read).
private func supplementaryGroups(of req: fuse_req_t?) -> [gid_t] {
    var groups = [gid_t](repeating: 0, count: 32)
    while true {
        let count = Int(fuse_req_getgroups(req, Int32(groups.count), &groups))
        if count < 0 { return [] }
        if count <= groups.count { return Array(groups[..<count]) }
        groups = [gid_t](repeating: 0, count: count)
    }
}

@inline(__always)
func name(_ pointer: UnsafePointer<CChar>?) -> FileName { FileName(cString: pointer!) }
