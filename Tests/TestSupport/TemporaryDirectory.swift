import Foundation

/// A fresh directory under the system temp dir, removed with `remove()` (call it in a `defer`).
public struct TemporaryDirectory: Sendable {
    /// The directory's absolute path.
    public let path: String

    /// Creates `/tmp/tusfs-test-PREFIX-XXXXXX`.
    public init(_ prefix: String = "t") throws {
        var template = Array("\(NSTemporaryDirectory())/tusfs-test-\(prefix)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestFailure("mkdtemp failed: errno \(errno)")
        }
        path = String(cString: made)
    }

    /// `path/name`.
    public func appending(_ name: String) -> String { "\(path)/\(name)" }

    /// Deletes the directory and everything below it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// An error thrown by test helpers, with a message saying what went wrong.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
