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

/// Who sent the request: uid, gid, pid and umask.
@inline(__always)
func caller(_ req: fuse_req_t?) -> RequestContext {
    let ctx = fuse_req_ctx(req)!.pointee
    return RequestContext(uid: ctx.uid, gid: ctx.gid, pid: ctx.pid, umask: ctx.umask)
}

@inline(__always)
func name(_ pointer: UnsafePointer<CChar>?) -> FileName { FileName(cString: pointer!) }
