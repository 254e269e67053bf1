import CLinux
import Foundation
import FUSEAdapter
#if canImport(Glibc)
import Glibc
#endif

/// Thin wrappers that turn a failed system call into the `FilesystemError` carrying its errno.
enum SystemCall {
    @inline(__always)
    static func check(_ result: Int32) throws(FilesystemError) {
        if result < 0 { throw FilesystemError.lastSystemCall }
    }

    @inline(__always)
    static func descriptor(_ result: Int32) throws(FilesystemError) -> Int32 {
        if result < 0 { throw FilesystemError.lastSystemCall }
        return result
    }

    /// `fstat` of an tusfs_O_PATH descriptor (works for symlinks too).
    static func status(of descriptor: Int32) throws(FilesystemError) -> stat {
        var attributes = stat()
        try check(fstatat(descriptor, "", &attributes, tusfs_AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        return attributes
    }

    /// The process's umask, read without changing it (`umask()` would, for a moment, for every thread);
    /// 0o777 when `/proc` does not say, so that callers put every bit back themselves.
    static func processUmask() -> mode_t {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
            let mask = mode_t(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8)
        else { return 0o777 }
        return mask
    }

    /// `/proc/self/fd/N`: lets path-only system calls (truncate, chmod, xattrs) act on an tusfs_O_PATH descriptor.
    static func procPath(_ descriptor: Int32) -> String { "/proc/self/fd/\(descriptor)" }
}
