import Metrics

/// How long the daemon spends on each kind of kernel request, as swift-metrics timers
/// (`tusfs_fuse_operation_duration_seconds{operation="lookup"}`…), from the request's arrival in its callback
/// to its reply. Only made when `ConnectionSettings.recordsOperationTimes` is on, so an unmeasured mount pays
/// nothing on its hot path.
final class OperationTimers: Sendable {
    private let timers: [String: Metrics.Timer]

    init(operations: [String]) {
        var timers: [String: Metrics.Timer] = [:]
        for operation in operations {
            timers[operation] = Metrics.Timer(
                label: "tusfs_fuse_operation_duration_seconds", dimensions: [("operation", operation)],
                preferredDisplayUnit: .seconds)
        }
        self.timers = timers
    }

    /// Records the time since `start` for `operation`.
    @inline(__always)
    func record(_ operation: String, since start: ContinuousClock.Instant) {
        timers[operation]?.recordInterval(since: start)
    }

    /// The operations measured (every callback that answers a request).
    static let operations = [
        "lookup", "forget", "forget_multi", "getattr", "setattr", "readlink", "mknod", "mkdir", "unlink", "rmdir",
        "symlink", "rename", "link", "open", "create", "read", "write_buf", "flush", "release", "fsync", "opendir",
        "readdir", "readdirplus", "releasedir", "fsyncdir", "statfs", "setxattr", "getxattr", "listxattr",
        "removexattr", "access", "fallocate", "lseek",
    ]
}

extension Metrics.Timer {
    /// Records the time elapsed since `start`.
    @inline(__always)
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
