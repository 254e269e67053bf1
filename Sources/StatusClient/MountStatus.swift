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

    /// The decoded `status.json` of the mount at `root` (every file), or a one-line error.
    public static func read(root: String) throws -> UploadStatusReport {
        let path = documentPath(root: root)
        guard let report = try readListing(at: path) else { throw CommandError("cannot read \(path): \(String(cString: strerror(ENOENT)))") }
        return report
    }

    /// The sidecar of `path` (a file or a directory): `path.tusfs.json`.
    public static func sidecarPath(of path: String) -> String { path + StatusNames.sidecarSuffix }

    /// The decoded listing at `path` (`status.json`, or a directory's sidecar), nil when there is none, or a
    /// one-line error.
    public static func readListing(at path: String) throws -> UploadStatusReport? {
        guard let data = try readToEnd(path) else { return nil }
        do {
            return try UploadStatusReport.decode(data)
        } catch {
            throw CommandError("\(path) is not a tusfs status document")
        }
    }

    /// The decoded sidecar of the regular file at `path`; nil when the file has no upload record.
    public static func readFileSidecar(of path: String) throws -> UploadStatusReport.File? {
        let sidecar = sidecarPath(of: path)
        guard let data = try readToEnd(sidecar) else { return nil }
        do {
            return try JSONDecoder().decode(UploadStatusReport.File.self, from: data)
        } catch {
            throw CommandError("\(sidecar) is not a tusfs status document")
        }
    }

    /// The bytes of `path`, or nil when it does not exist. Read to the end with plain `read` calls: the mount
    /// serves status documents with direct I/O and produces them as they are read, so their size is only
    /// known once read.
    static func readToEnd(_ path: String) throws -> Data? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw CommandError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 128 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw CommandError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            data.append(contentsOf: buffer[..<count])
        }
        return data
    }
}
