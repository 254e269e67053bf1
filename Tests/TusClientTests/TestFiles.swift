import Foundation
import TestSupport

/// Files with reproducible pseudo-random content for upload tests.
enum TestFiles {
    /// Writes `size` bytes of deterministic noise (seeded by `seed`) to `path` and returns them.
    @discardableResult
    static func make(_ path: String, size: Int, seed: UInt64 = 42) throws -> Data {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var data = Data(count: size)
        data.withUnsafeMutableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            for index in 0..<size {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                bytes[index] = UInt8(truncatingIfNeeded: state)
            }
        }
        try data.write(to: URL(fileURLWithPath: path))
        return data
    }
}

/// Records what a progress handler was told, from any task.
final class ProgressRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int64] = []

    func record(_ value: Int64) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }

    var all: [Int64] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}

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
