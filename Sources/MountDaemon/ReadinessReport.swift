#if canImport(Glibc)
import Glibc
#endif

/// The daemon's side of the readiness pipe.
public struct ReadinessReport: Sendable {
    let descriptor: Int32?

    /// Reports on `descriptor` (`--ready-fd`); with nil, reports nothing (a mount started with `--foreground`).
    public init(descriptor: Int32?) {
        self.descriptor = descriptor
    }

    /// The mount is ready: the launcher returns.
    public func ready() { send("ok\n") }
    /// The mount failed: the launcher prints `message`.
    public func failed(_ message: String) { send("error: \(message)\n") }

    private func send(_ line: String) {
        guard let descriptor else { return }
        var bytes = Array(line.utf8)
        _ = write(descriptor, &bytes, bytes.count)
        close(descriptor)
    }
}
