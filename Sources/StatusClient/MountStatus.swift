import Foundation
import UploadStatus
#if canImport(Glibc)
import Glibc
#endif

/// Reading `MOUNT/.tusfs/status.json`.
public enum MountStatus {
    /// The path to show for `absolute`: relative to `currentDirectory` when below it, absolute otherwise.
    public static func displayPath(_ absolute: String, from currentDirectory: String) -> String {
        let prefix = currentDirectory == "/" ? "/" : currentDirectory + "/"
        return absolute.hasPrefix(prefix) ? String(absolute.dropFirst(prefix.count)) : absolute
    }

    /// `ROOT/.tusfs/status.json`.
    public static func documentPath(root: String) -> String { (root == "/" ? "" : root) + "/.tusfs/status.json" }

    /// The decoded document, or a one-line error. Read to the end with plain `read` calls: the mount serves
    /// it with direct I/O, so its size is only known once it has been read.
    public static func read(root: String) throws -> UploadStatusReport {
        let path = documentPath(root: root)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CommandError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw CommandError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            data.append(contentsOf: buffer[..<count])
        }
        do {
            return try UploadStatusReport.decode(data)
        } catch {
            throw CommandError("\(path) is not a tusfs status document")
        }
    }
}
