import Foundation

/// Records the waits a client asked for instead of sleeping them.
final class SleepRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var waits: [Duration] = []

    func sleep(_ duration: Duration) async throws {
        lock.withLock { waits.append(duration) }
        try await Task.sleep(for: .milliseconds(1))
    }

    var all: [Duration] {
        lock.lock()
        defer { lock.unlock() }
        return waits
    }
}
