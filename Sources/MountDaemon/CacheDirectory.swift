import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The local cache of one mount: `files/` (the backing tree), the journal, logs, and a lock that keeps two
/// daemons off the same cache. Created with mode 0700.
struct CacheDirectory {
    let path: String
    var files: String { path + "/files" }
    var log: String { path + "/tusfs.log" }
    var pidFile: String { path + "/daemon.pid" }
    var lockFile: String { path + "/lock" }
    var journal: String { path + "/journal.sqlite" }

    /// The default cache of a mountpoint: `$XDG_CACHE_HOME/tusfs/<name>` (or `~/.cache/tusfs/<name>`), where
    /// the name is the mountpoint's path made into one readable component plus a short hash of it.
    static func defaultPath(for mountpoint: String) -> String {
        let environment = ProcessInfo.processInfo.environment
        let base: String
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            base = xdg
        } else {
            base = (environment["HOME"] ?? NSHomeDirectory()) + "/.cache"
        }
        let readable = mountpoint.split(separator: "/").joined(separator: "-")
        var hash: UInt32 = 2_166_136_261  // FNV-1a: stable across runs and machines
        for byte in mountpoint.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let name = (readable.isEmpty ? "root" : String(readable.suffix(64))) + "-" + String(hash, radix: 16)
        return "\(base)/tusfs/\(name)"
    }

    /// Creates the directories (0700) and checks they can be written.
    static func prepare(_ path: String) throws -> CacheDirectory {
        let cache = CacheDirectory(path: path)
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw MountError("cannot create cache directory \(path): \(CacheDirectory.reason(error))")
        }
        chmod(path, 0o700)
        guard access(path, W_OK | X_OK) == 0 else {
            throw MountError("cache directory \(path) is not writable")
        }
        if mkdir(cache.files, 0o755) != 0 && errno != EEXIST {
            throw MountError("cannot create \(cache.files): \(String(cString: strerror(errno)))")
        }
        return cache
    }

    /// Takes the cache's lock for the life of this process; fails when another daemon holds it.
    func lock() throws -> Int32 {
        let descriptor = tusfs_openat(AT_FDCWD, lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw MountError("cannot open \(lockFile): \(String(cString: strerror(errno)))")
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            close(descriptor)
            throw MountError("cache directory \(path) is in use by another tusfs mount")
        }
        return descriptor
    }

    private static func reason(_ error: Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}
