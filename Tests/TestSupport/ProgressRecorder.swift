import Foundation

/// Records what a progress handler was told, from any task.
public final class ProgressRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int64] = []

    public init() {}

    public func record(_ value: Int64) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }

    public var all: [Int64] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}
