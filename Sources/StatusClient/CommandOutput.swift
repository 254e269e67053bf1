import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Output helpers for the commands.
public enum CommandOutput {
    /// One compact JSON line with sorted keys.
    public static func jsonLine<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Writes all of `text` to stdout; false when the reader went away (`tusfs status --watch | head`).
    public static func write(_ text: String) throws -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { return false }
                throw CommandError("cannot write the status: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        return true
    }
}
