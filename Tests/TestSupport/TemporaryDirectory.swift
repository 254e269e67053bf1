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
        path = String(cString: made).replacingOccurrences(of: "//", with: "/")
    }

    /// `path/name`.
    public func appending(_ name: String) -> String { "\(path)/\(name)" }

    /// Deletes the directory and everything below it. Tries again for a moment when something still made a
    /// file in it during the removal (a stopped service's last request removing its staging file).
    public func remove() {
        for _ in 0..<20 {
            try? FileManager.default.removeItem(atPath: path)
            guard FileManager.default.fileExists(atPath: path) else { return }
            usleep(50_000)
        }
    }
}

/// An error thrown by test helpers, with a message saying what went wrong.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
