import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-line error for the user: printed as `tusfs: MESSAGE` on stderr, exit status 1.
public struct CommandFailure: Error, CustomStringConvertible, Sendable {
    public let description: String

    /// An error shown as `description`.
    public init(_ description: String) { self.description = description }

    /// Prints `tusfs: MESSAGE` on stderr.
    public static func report(_ message: String) {
        FileHandle.standardError.write(Data("tusfs: \(message)\n".utf8))
    }

    /// The size of a regular file, or a one-line error saying why it cannot be uploaded.
    public static func regularFileSize(_ path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CommandFailure("\(path): \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw CommandFailure("\(path): not a regular file") }
        guard access(path, R_OK) == 0 else { throw CommandFailure("\(path): \(String(cString: strerror(errno)))") }
        return Int64(info.st_size)
    }
}

extension CommandFailure: LocalizedError {
    public var errorDescription: String? { description }
}
