import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The checks that turn a user's mistake about the mountpoint into a one-line message.
enum MountpointCheck {
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The mountpoint as an absolute path with symlinks resolved.
    static func resolve(_ path: String) throws -> String {
        guard let resolved = realpath(absolute(path), nil) else {
            if errno == ENOENT { throw CommandError("mountpoint \(path) does not exist") }
            throw CommandError("mountpoint \(path): \(String(cString: strerror(errno)))")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func verify(_ mountpoint: String) throws {
        var attributes = stat()
        guard stat(mountpoint, &attributes) == 0 else {
            throw CommandError("mountpoint \(mountpoint): \(String(cString: strerror(errno)))")
        }
        guard attributes.st_mode & S_IFMT == S_IFDIR else {
            throw CommandError("mountpoint \(mountpoint) is not a directory")
        }
        if let existing = MountTable().mount(at: mountpoint) {
            throw CommandError("\(mountpoint) is already mounted (\(existing.filesystemType))")
        }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: mountpoint)) ?? []
        guard contents.isEmpty else {
            throw CommandError("mountpoint \(mountpoint) is not empty")
        }
        guard access("/dev/fuse", R_OK | W_OK) == 0 else {
            throw CommandError("/dev/fuse is missing or not accessible: install fuse3 and load the fuse module")
        }
        if geteuid() != 0 && !ExecutableSearch.exists("fusermount3") {
            throw CommandError("fusermount3 not found: install the fuse3 package")
        }
    }
}

/// Looks programs up in PATH.
enum ExecutableSearch {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    static func exists(_ name: String) -> Bool { find(name) != nil }
}

/// Process limits the daemon raises at start.
enum ResourceLimits {
    /// Every inode the kernel holds keeps one descriptor open: allow as many as the system lets us. Returns the
    /// limit now in force.
    @discardableResult
    static func raiseOpenFiles() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if geteuid() == 0, let text = try? String(contentsOfFile: "/proc/sys/fs/nr_open", encoding: .utf8),
            let systemMax = rlim_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), systemMax > limit.rlim_max
        {
            var raised = rlimit(rlim_cur: systemMax, rlim_max: systemMax)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return Int(clamping: systemMax) }
        }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(clamping: limit.rlim_cur)
    }
}
